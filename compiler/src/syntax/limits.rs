//! The limits a spec must stay within, so that no input can exhaust the stack or memory.
//!
//! Both parsers (the `kdl` crate and [`crate::syntax::fastkdl`]) recurse once per level of
//! children and of nested block comments, so a deep enough input overflows the stack. The
//! nesting is therefore measured first, by a scan that does not recurse, and a spec that
//! nests deeper than [`MAX_DEPTH`] is refused before any parser sees it. The size limit
//! keeps the memory of one run bounded: checking costs a few dozen bytes per byte of
//! spec, generating a few times more.

use crate::span::Span;

/// The largest spec hawser reads, in bytes. Real specs are a few kilobytes; this leaves
/// room for a thousand workloads while keeping `generate` well under a gigabyte.
pub const MAX_SPEC_BYTES: usize = 4 << 20;

/// The deepest nesting of children blocks (and of block comments) a spec may have.
/// Specs nest at most five levels. The `kdl` crate needs about 33 KiB of stack per level
/// in a debug build, so at this depth it uses half of a 2 MiB thread stack (the smallest
/// hawser runs in: test threads); a release build needs far less.
pub const MAX_DEPTH: usize = 32;

/// Where a spec first nests deeper than [`MAX_DEPTH`]: the span of the opening `{` or
/// `/*`. `None` when it stays within the limit.
///
/// The scan skips strings (quoted, raw and multi-line) and line comments, so braces in
/// values do not count. It is deliberately forgiving: on text that is not valid KDL it
/// only has to stop, since the parser reports the error afterwards.
pub fn too_deep(text: &str) -> Option<Span> {
    let s = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0usize;
    while i < s.len() {
        match s[i] {
            b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(Span::new(i, i + 1));
                }
                i += 1;
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'/' if s.get(i + 1) == Some(&b'/') => {
                i = s[i..].iter().position(|&b| b == b'\n').map_or(s.len(), |n| i + n);
            }
            b'/' if s.get(i + 1) == Some(&b'*') => {
                // Block comments nest, and the parsers recurse into each level.
                let mut comments = 0usize;
                while i < s.len() {
                    if s[i] == b'/' && s.get(i + 1) == Some(&b'*') {
                        comments += 1;
                        if depth + comments > MAX_DEPTH {
                            return Some(Span::new(i, i + 2));
                        }
                        i += 2;
                    } else if s[i] == b'*' && s.get(i + 1) == Some(&b'/') {
                        comments -= 1;
                        i += 2;
                        if comments == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' => i = skip_string(s, i, 0),
            b'#' => {
                let hashes = s[i..].iter().take_while(|&&b| b == b'#').count();
                if s.get(i + hashes) == Some(&b'"') { i = skip_string(s, i + hashes, hashes) } else { i += hashes }
            }
            _ => i += 1,
        }
    }
    None
}

/// The index just past the string that opens at `s[start]` (a `"`), raw when `hashes > 0`.
fn skip_string(s: &[u8], start: usize, hashes: usize) -> usize {
    let multi = s[start..].starts_with(b"\"\"\"");
    let (mut i, quotes) = if multi { (start + 3, 3) } else { (start + 1, 1) };
    while i < s.len() {
        match s[i] {
            // Escapes exist only in strings that are not raw.
            b'\\' if hashes == 0 => i += 2,
            b'"' if s[i..].iter().take(quotes).all(|&b| b == b'"')
                && s.len() >= i + quotes + hashes
                && s[i + quotes..i + quotes + hashes].iter().all(|&b| b == b'#') =>
            {
                return i + quotes + hashes;
            }
            _ => i += 1,
        }
    }
    s.len()
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
        assert!(crate::syntax::fastkdl::parse(&text).is_some());
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
