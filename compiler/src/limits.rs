//! The limits a spec must stay within, so that no input can exhaust the stack, memory or
//! time.
//!
//! Both parsers (the `kdl` crate and [`crate::fastkdl`]) recurse once per level of
//! children and of nested block comments, so a deep enough input overflows the stack; the
//! `kdl` crate also reads a slashdashed block again for every slashdashed block around it,
//! so its work doubles per level. Both kinds of nesting are therefore measured first, by
//! a scan that does not recurse ([`crate::shape`]), and a spec beyond [`MAX_DEPTH`] or
//! [`MAX_SLASHDASH_DEPTH`] is refused before any parser sees it. The size limit keeps the
//! memory of one run bounded: checking costs a few dozen bytes per byte of spec,
//! generating a few times more. [`MAX_SYNTAX_ERRORS`] bounds what a broken spec reports.

use crate::span::Span;

/// The largest spec hawser reads, in bytes. Real specs are a few kilobytes; this leaves
/// room for ten thousand workloads while keeping `generate` under a gigabyte (943 MB,
/// measured at the limit).
pub const MAX_SPEC_BYTES: usize = 4 << 20;

/// The deepest nesting of children blocks (and of block comments) a spec may have.
/// Specs nest at most five levels. The `kdl` crate needs about 33 KiB of stack per level
/// in a debug build, so at this depth it uses half of a 2 MiB thread stack (the smallest
/// hawser runs in: test threads); a release build needs far less.
pub const MAX_DEPTH: usize = 32;

/// The deepest nesting of slashdashed blocks (`/-service "x" { … /-health { … } … }`): a
/// block that a `/-` comments out, inside another. The `kdl` crate reads each such block
/// once more for every one around it, so a spec at this limit is read at most eight times
/// over. Commenting out a workload and a block inside it is two levels.
pub const MAX_SLASHDASH_DEPTH: usize = 3;

/// The most syntax errors one run reports; the rest are counted in a last diagnostic.
/// A few dozen are enough to show what is wrong, and the first is usually the cause.
pub const MAX_SYNTAX_ERRORS: usize = 20;

/// Where a spec first nests deeper than [`MAX_DEPTH`]: the span of the opening `{` or
/// `/*`. `None` when it stays within the limit.
///
/// The scan skips strings (quoted, raw and multi-line) and comments as KDL reads them, so
/// braces in values do not count; a single-line string ends at a newline even when it has
/// no closing quote.
pub fn too_deep(text: &str) -> Option<Span> {
    crate::shape::scan(text).too_deep
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> String {
        format!("{}{}", "a {\n".repeat(levels), "}\n".repeat(levels))
    }

    #[test]
    fn depth_up_to_the_limit_is_accepted() {
        assert_eq!(too_deep(&nested(MAX_DEPTH)), None);
        assert!(too_deep(&nested(MAX_DEPTH + 1)).is_some());
    }

    /// Both parsers handle the deepest spec the limit lets through in a test thread, whose
    /// stack (2 MiB) is smaller than the main thread's.
    #[test]
    fn both_parsers_survive_the_deepest_accepted_spec() {
        let text = nested(MAX_DEPTH);
        assert!(crate::fastkdl::parse(&text).is_some());
        assert!(crate::syntax::parse_with_kdl(&text).0.is_some());
        let comments = format!("{}{} a 1\n", "/*".repeat(MAX_DEPTH), "*/".repeat(MAX_DEPTH));
        assert!(crate::syntax::parse_with_kdl(&comments).0.is_some());
    }

    #[test]
    fn braces_in_strings_and_comments_do_not_count() {
        let braces = "{".repeat(MAX_DEPTH * 2);
        for text in [
            format!("a \"{braces}\"\n"),
            format!("a #\"{braces}\"#\n"),
            format!("a ##\"\"#{braces}\"##\n"),
            format!("a \"\"\"\n{braces}\n\"\"\"\n"),
            format!("a \"\\\"{braces}\"\n"),
            format!("// {braces}\na 1\n"),
            format!("/* {braces} */ a 1\n"),
        ] {
            assert_eq!(too_deep(&text), None, "{text}");
        }
    }

    #[test]
    fn blocks_and_block_comments_add_up() {
        assert!(too_deep(&format!("{}/* x */", "a {\n".repeat(MAX_DEPTH))).is_some());
        assert_eq!(too_deep(&format!("{}/* x */", "a {\n".repeat(MAX_DEPTH - 1))), None);
    }

    #[test]
    fn nested_block_comments_count() {
        let text = format!("{}{}", "/*".repeat(MAX_DEPTH + 1), "*/".repeat(MAX_DEPTH + 1));
        assert!(too_deep(&text).is_some());
        let text = format!("{}{}", "/*".repeat(MAX_DEPTH), "*/".repeat(MAX_DEPTH));
        assert_eq!(too_deep(&text), None);
    }

    #[test]
    fn unclosed_blocks_are_refused_at_the_first_brace_past_the_limit() {
        let text = "x {".repeat(1275);
        let span = too_deep(&text).expect("too deep");
        assert_eq!(span.start as usize, MAX_DEPTH * 3 + 2);
    }
}
