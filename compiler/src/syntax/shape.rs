//! How deeply spec text nests, measured in one pass without recursion, before any parser
//! runs: children blocks and block comments, on which both parsers recurse, and
//! slashdashed blocks, which the `kdl` crate reads again for every slashdashed block
//! around them, so that its work doubles per level. Strings and comments are skipped as
//! KDL 2.0 reads them, so braces in values do not count; a single-line string ends at a
//! newline even without its closing quote, since that is where a parser stops reading it.

use super::limits::{MAX_DEPTH, MAX_SLASHDASH_DEPTH};
use crate::span::Span;

/// What the scan found.
#[derive(Debug, Default)]
pub struct Shape {
    /// Where the text first nests deeper than [`MAX_DEPTH`]: the opening `{` or `/*`.
    pub too_deep: Option<Span>,
    /// Where slashdashed blocks first nest deeper than [`MAX_SLASHDASH_DEPTH`]: the `{`.
    pub too_deep_slashdashed: Option<Span>,
    /// Where each `/-` outside strings and comments starts, up to where the scan stopped.
    pub slashdashes: Vec<usize>,
    /// Where each `;` ends a node that holds a `/-` (slashdashed, or with a slashdashed
    /// entry or block), but not right after the `/-` (only space and comments between).
    pub semicolons_after_slashdash: Vec<usize>,
    /// Each raw multi-line string (`#"""`) whose opening quotes are not followed by a
    /// newline, from its first `#` to its end: the `kdl` crate accepts them, KDL 2.0 does not.
    pub raw_multiline_on_one_line: Vec<Span>,
}

/// Where a spec first nests deeper than [`MAX_DEPTH`]: the span of the opening `{` or
/// `/*`. `None` when it stays within the limit.
pub fn too_deep(text: &str) -> Option<Span> {
    scan(text).too_deep
}

/// Scans `text`, up to the first place a limit is exceeded.
pub fn scan(text: &str) -> Shape {
    let s = text.as_bytes();
    let mut shape = Shape::default();
    // One entry per open block: whether it was opened inside a slashdashed node.
    let mut blocks: Vec<bool> = Vec::new();
    let mut slashdashed_open = 0usize;
    // The node being read at the current level is slashdashed (a `/-` came since its start).
    let mut slashdash = false;
    // Nothing but space and comments since the last `/-`: a newline does not end its node.
    let mut slashdash_waits = false;
    // A `\` line continuation: the next newline does not end the node.
    let mut continued = false;
    let mut i = 0usize;
    while i < s.len() {
        let b = s[i];
        match b {
            b'{' => {
                if blocks.len() + 1 > MAX_DEPTH {
                    shape.too_deep = Some(Span::new(i, i + 1));
                    return shape;
                }
                blocks.push(slashdash);
                if slashdash {
                    slashdashed_open += 1;
                    if slashdashed_open > MAX_SLASHDASH_DEPTH {
                        shape.too_deep_slashdashed = Some(Span::new(i, i + 1));
                        return shape;
                    }
                }
                slashdash = false;
                slashdash_waits = false;
                i += 1;
            }
            b'}' => {
                if let Some(was) = blocks.pop() {
                    slashdashed_open -= usize::from(was);
                    // The node that owns the block goes on: it was slashdashed or not.
                    slashdash = was;
                }
                slashdash_waits = false;
                i += 1;
            }
            b';' => {
                // Not one that a `/-` still waits before: there a newline would let the
                // slashdash reach past it (`a /-;b` is not `a /-⏎b`).
                if slashdash && !slashdash_waits {
                    shape.semicolons_after_slashdash.push(i);
                }
                slashdash = false;
                slashdash_waits = false;
                i += 1;
            }
            b'\\' => {
                continued = true;
                i += 1;
            }
            b'/' if s.get(i + 1) == Some(&b'-') => {
                shape.slashdashes.push(i);
                slashdash = true;
                slashdash_waits = true;
                i += 2;
            }
            b'/' if s.get(i + 1) == Some(&b'/') => {
                i += line_end(&s[i..]);
            }
            b'/' if s.get(i + 1) == Some(&b'*') => match block_comment(&s[i..], MAX_DEPTH.saturating_sub(blocks.len())) {
                Ok(len) => i += len,
                Err(at) => {
                    shape.too_deep = Some(Span::new(i + at, i + at + 2));
                    return shape;
                }
            },
            b'"' => {
                i = string_end(s, i, 0);
                slashdash_waits = false;
            }
            b'#' => {
                let hashes = s[i..].iter().take_while(|&&b| b == b'#').count();
                let start = i;
                i = if s.get(i + hashes) == Some(&b'"') { string_end(s, i + hashes, hashes) } else { i + hashes };
                let quotes = start + hashes;
                if s[quotes..].starts_with(b"\"\"\"") && newline_len(&s[quotes + 3..]) == 0 {
                    shape.raw_multiline_on_one_line.push(Span::new(start, i));
                }
                slashdash_waits = false;
            }
            // Names, numbers and keywords, most of a spec outside its strings: no newline or
            // space, nothing this scan looks for. The run is skipped at once.
            _ if ordinary(b) => {
                slashdash_waits = false;
                i += 1 + s[i + 1..].iter().take_while(|&&b| ordinary(b)).count();
            }
            b' ' | b'\t' => i += 1 + s[i + 1..].iter().take_while(|&&b| matches!(b, b' ' | b'\t')).count(),
            _ => {
                let len = newline_len(&s[i..]);
                if len > 0 {
                    if !continued && !slashdash_waits {
                        slashdash = false;
                    }
                    continued = false;
                    i += len;
                } else {
                    let len = space_len(&s[i..]);
                    if len > 0 {
                        i += len;
                    } else {
                        slashdash_waits = false;
                        i += 1;
                    }
                }
            }
        }
    }
    shape
}

/// A visible ASCII character that [`scan`] only steps over: not one of `{};\/"#`.
fn ordinary(b: u8) -> bool {
    b.is_ascii_graphic() && !matches!(b, b'{' | b'}' | b';' | b'\\' | b'/' | b'"' | b'#')
}

/// Where the text has a slashdash right after a non-blank character (`node "x"/-1`),
/// ascending. KDL 2.0 allows it; the `kdl` crate refuses most of these (see
/// [`super::parse_reference`]). Only slashdashes count, not a `/-` in a string or a
/// comment (`//-`).
pub fn unspaced_slashdashes(text: &str) -> Vec<usize> {
    scan(text).slashdashes.into_iter().filter(|&at| !text[..at].ends_with(char::is_whitespace)).collect()
}

/// The first slashdash whose target is another slashdash (`a /- /-b c`): only spaces,
/// newlines and comments between the two. KDL 2.0 has a slashdash comment out a node, an
/// entry or a children block, never another slashdash; the `kdl` crate accepts one
/// slashdash on another before an entry.
pub fn slashdash_on_slashdash(text: &str) -> Option<Span> {
    let at = scan(text).slashdashes;
    at.windows(2).find(|w| only_line_space(&text.as_bytes()[w[0] + 2..w[1]])).map(|w| Span::new(w[1], w[1] + 2))
}

/// Whether `s` holds nothing but white space, newlines, comments and line continuations.
fn only_line_space(s: &[u8]) -> bool {
    let mut i = 0;
    while i < s.len() {
        let n = newline_len(&s[i..]).max(space_len(&s[i..]));
        if n > 0 {
            i += n;
        } else if s[i..].starts_with(b"//") {
            i += line_end(&s[i..]);
        } else if s[i..].starts_with(b"/*") {
            i += block_comment_len(&s[i..]);
        } else if s[i] == b'\\' {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// The text with a newline for each `;` that ends a node holding a `/-`, but one right
/// after a `\` (where a newline would make a line continuation): the same document, read
/// by a parser that refuses `;` after a slashdashed node. Same length, same offsets.
pub fn semicolons_as_newlines(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for at in scan(text).semicolons_after_slashdash {
        if !text[..at].trim_end_matches([' ', '\t']).ends_with('\\') {
            bytes[at] = b'\n';
        }
    }
    // Only ASCII `;` became ASCII `\n`.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned())
}

/// The text with a space put at each of `at` (ascending offsets on character boundaries).
pub fn with_spaces_at(text: &str, at: &[usize]) -> String {
    let mut out = String::with_capacity(text.len() + at.len());
    let mut from = 0;
    for &at in at {
        out.push_str(&text[from..at]);
        out.push(' ');
        from = at;
    }
    out.push_str(&text[from..]);
    out
}

/// The text with a space before every slashdash that follows a non-blank character: the
/// text the `kdl` crate must read as the same tree.
pub fn space_before_slashdashes(text: &str) -> String {
    with_spaces_at(text, &unspaced_slashdashes(text))
}

/// The end of the string that opens at `s[start]` (a `"`, after `hashes` `#` when raw):
/// after its closing quotes, or where it stops unterminated.
pub(crate) fn string_end(s: &[u8], start: usize, hashes: usize) -> usize {
    let multi = s[start..].starts_with(b"\"\"\"");
    let quotes = if multi { 3 } else { 1 };
    let mut i = start + quotes;
    while i < s.len() {
        match s[i] {
            b'\\' if hashes == 0 => {
                i += 1;
                // `\` then white space or newlines: all of it is one escape.
                let mut skipped = false;
                loop {
                    let n = newline_len(&s[i..]).max(space_len(&s[i..]));
                    if n == 0 {
                        break;
                    }
                    i += n;
                    skipped = true;
                }
                if !skipped && i < s.len() {
                    i += utf8_len(s[i]);
                }
            }
            b'"' if s[i..].iter().take(quotes).all(|&b| b == b'"')
                && s.len() >= i + quotes + hashes
                && s[i + quotes..i + quotes + hashes].iter().all(|&b| b == b'#') =>
            {
                return i + quotes + hashes;
            }
            // Most of a string: neither a newline nor the start of one.
            b if b.is_ascii_graphic() || b == b' ' => i += 1,
            _ => {
                let n = newline_len(&s[i..]);
                if n > 0 && !multi {
                    // A single-line string cannot hold a newline: it is unterminated.
                    return i;
                }
                i += n.max(1);
            }
        }
    }
    s.len()
}

/// The length of the block comment that opens at the start of `s` (a `/*`), nested ones
/// included: up to its closing `*/`, or all of `s` when it is never closed.
pub(crate) fn block_comment_len(s: &[u8]) -> usize {
    block_comment(s, usize::MAX).unwrap_or_else(|too_deep| too_deep)
}

/// [`block_comment_len`], or `Err` with the offset of the `/*` that nests the comments
/// deeper than `limit`.
fn block_comment(s: &[u8], limit: usize) -> Result<usize, usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with(b"/*") {
            depth += 1;
            if depth > limit {
                return Err(i);
            }
            i += 2;
        } else if s[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                break;
            }
        } else {
            i += 1;
        }
    }
    Ok(i)
}

/// The length of the line comment at the start of `s`: up to its newline.
pub(crate) fn line_end(s: &[u8]) -> usize {
    let mut i = 0;
    while i < s.len() && newline_len(&s[i..]) == 0 {
        i += 1;
    }
    i
}

/// The length of the KDL newline at the start of `s`, 0 if there is none: CRLF, CR, LF,
/// NEL, VT, FF, LS, PS.
pub fn newline_len(s: &[u8]) -> usize {
    match s {
        [b'\r', b'\n', ..] => 2,
        [b'\r' | b'\n' | 0x0B | 0x0C, ..] => 1,
        [0xC2, 0x85, ..] => 2,
        [0xE2, 0x80, 0xA8 | 0xA9, ..] => 3,
        _ => 0,
    }
}

/// The length of the KDL white space character at the start of `s`, 0 if there is none.
fn space_len(s: &[u8]) -> usize {
    match s {
        [b'\t' | b' ', ..] => 1,
        [0xC2, 0xA0, ..] => 2,
        // U+1680
        [0xE1, 0x9A, 0x80, ..] => 3,
        // U+2000–U+200A, U+202F, U+205F
        [0xE2, 0x80, 0x80..=0x8A | 0xAF, ..] | [0xE2, 0x81, 0x9F, ..] => 3,
        // U+3000
        [0xE3, 0x80, 0x80, ..] => 3,
        _ => 0,
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newline_ends_a_single_line_string_for_the_count() {
        let text = format!("a \"x\n{}", "b {".repeat(MAX_DEPTH + 1));
        assert!(scan(&text).too_deep.is_some());
    }

    fn slashdashed(text: &str) -> bool {
        scan(text).too_deep_slashdashed.is_some()
    }

    #[test]
    fn slashdashed_blocks_count_where_they_nest() {
        let nested = |open: &str, levels: usize| format!("{}{}", open.repeat(levels), "}\n".repeat(levels));
        assert!(!slashdashed(&nested("/-a {\nb\n", MAX_SLASHDASH_DEPTH)));
        assert!(slashdashed(&nested("/-a {\nb\n", MAX_SLASHDASH_DEPTH + 1)));
        // After the slashdashed node's line, a block is not slashdashed.
        assert!(!slashdashed(&nested("/-a 1\nb {\n", MAX_DEPTH)));
        // A slashdash before its node's line, before a children block, across a continuation.
        assert!(slashdashed(&nested("/-\n\na {\n", MAX_SLASHDASH_DEPTH + 1)));
        assert!(slashdashed(&nested("a /-{\n", MAX_SLASHDASH_DEPTH + 1)));
        assert!(slashdashed(&nested("/-a \\\n {\n", MAX_SLASHDASH_DEPTH + 1)));
        // Inside a string a `/-` or a `{` is text.
        assert!(!slashdashed(&format!("{}\n", "a \"/-b {\"\n".repeat(10))));
    }
}

#[cfg(test)]
mod depth_tests {
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
        assert!(super::super::fastkdl::parse(&text).is_some());
        assert!(super::super::parse_with_kdl(&text).0.is_some());
        let comments = format!("{}{} a 1\n", "/*".repeat(MAX_DEPTH), "*/".repeat(MAX_DEPTH));
        assert!(super::super::parse_with_kdl(&comments).0.is_some());
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
