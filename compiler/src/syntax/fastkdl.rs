//! A fast parser for the common subset of KDL 2.0 that specs are written in.
//!
//! The `kdl` crate parses at about 1 MB/s, which alone would spend the whole `check`
//! budget. This parser reads the subset hawser specs use (ASCII identifiers, quoted
//! strings with the usual escapes, decimal numbers, `#true`/`#false`/`#null`, type
//! annotations, comments, children and `;`) about two orders of magnitude faster, and
//! gives up — returning `None` — on anything else: raw and multi-line strings, slashdash
//! across lines or before a node, line continuations, non-ASCII outside strings, unusual numbers, and every error. The
//! caller then parses with the `kdl` crate, which is the reference for what is valid
//! and reports syntax errors. A differential test holds the two to the same trees.

use super::tree::{Document, Entry, Node, Prop, Value};
use crate::span::{Span, Spanned};

/// Parses `text`, or returns `None` when it is outside the subset or not valid. A long
/// text is read in two halves at once, split where a top-level node seems to start
/// ([`parse_split`]).
pub fn parse(text: &str) -> Option<Document> {
    match split_point(text) {
        Some(at) => parse_split(text, at),
        None => parse_split(text, usize::MAX),
    }
}

/// Below this many bytes a text is read on one thread: a second one costs more than it saves.
const SPLIT_FROM: usize = 64 * 1024;

/// Where a top-level node seems to start after the middle of a long text: a letter at the
/// start of a line. Only a guess; [`parse_split`] is exact wherever the split falls.
fn split_point(text: &str) -> Option<usize> {
    if text.len() < SPLIT_FROM {
        return None;
    }
    let s = text.as_bytes();
    let middle = s.len() / 2;
    s[middle..].windows(2).position(|w| w[0] == b'\n' && w[1].is_ascii_alphabetic()).map(|i| middle + i + 1)
}

/// Parses `text` as [`parse`] does, reading from `at` on a second thread. What the
/// parser keeps between two top-level nodes is only where it is, so when the reading from
/// the start arrives at `at` between two top-level nodes, the rest of the document is
/// exactly what a reading from `at` gives. When it does not (`at` is inside a node, a
/// string or a comment), it reads on to the end and the second reading is dropped: the
/// result never depends on `at`. Beyond the text or inside a character, there is no
/// second reading.
pub fn parse_split(text: &str, at: usize) -> Option<Document> {
    if text.as_bytes().starts_with(&[0xEF, 0xBB, 0xBF]) {
        return None;
    }
    if at == 0 || at >= text.len() || !text.is_char_boundary(at) {
        let mut whole = Parser::new(text, 0, usize::MAX);
        let nodes = whole.nodes(false)?;
        return (whole.i == text.len()).then_some(Document { nodes });
    }
    std::thread::scope(|s| {
        let rest = s.spawn(move || {
            let mut p = Parser::new(text, at, usize::MAX);
            let nodes = p.nodes(false)?;
            (p.i == text.len()).then_some(nodes)
        });
        let mut first = Parser::new(text, 0, at);
        let mut nodes = first.nodes(false)?;
        if first.i == text.len() {
            return Some(Document { nodes });
        }
        debug_assert_eq!(first.i, at);
        nodes.extend(rest.join().ok()??);
        Some(Document { nodes })
    })
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    /// The last `skip_inline` crossed a line continuation.
    continued: bool,
    /// Where the reading of top-level nodes stops, if it arrives there between two of them.
    stop: usize,
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'_'
                | b'.'
                | b':'
                | b'+'
                | b'*'
                | b'?'
                | b'!'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'^'
                | b'~'
                | b'|'
                | b'@'
                | b','
                | b'<'
                | b'>'
        )
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, at: usize, stop: usize) -> Parser<'a> {
        Parser { s: text.as_bytes(), text, i: at, continued: false, stop }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Skips spaces, tabs and comments inside a line. `None` on what it cannot handle.
    fn skip_inline(&mut self) -> Option<()> {
        self.continued = false;
        loop {
            match self.peek() {
                Some(b' ' | b'\t') => self.i += 1,
                Some(b'/') => match self.s.get(self.i + 1) {
                    Some(b'*') => self.block_comment()?,
                    // A line comment or a slashdash: the caller's to read.
                    Some(b'/' | b'-') => return Some(()),
                    _ => return None,
                },
                Some(b'\\') => {
                    // A line continuation: `\`, blanks, an optional comment, a newline.
                    self.continued = true;
                    self.i += 1;
                    while matches!(self.peek(), Some(b' ' | b'\t')) {
                        self.i += 1;
                    }
                    if self.s[self.i..].starts_with(b"//") {
                        self.line_comment()?;
                    }
                    match self.peek() {
                        Some(b'\n') => self.i += 1,
                        Some(b'\r') if self.s.get(self.i + 1) == Some(&b'\n') => self.i += 2,
                        _ => return None,
                    }
                }
                Some(b) if b >= 0x80 => return None,
                Some(0x0B | 0x0C) => return None,
                _ => return Some(()),
            }
        }
    }

    fn block_comment(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match (self.peek()?, self.s.get(self.i + 1).copied()) {
                (b'/', Some(b'*')) => {
                    depth += 1;
                    self.i += 2;
                }
                (b'*', Some(b'/')) => {
                    depth -= 1;
                    self.i += 2;
                    if depth == 0 {
                        return Some(());
                    }
                }
                (b, _) if b >= 0x80 => return None,
                // Control characters are not allowed even in comments; the reference
                // parser reports them (and spans such a node differently).
                (0x00..=0x08 | 0x0B..=0x1F | 0x7F, _) => return None,
                _ => self.i += 1,
            }
        }
    }

    /// Skips a line comment up to its newline. `None` on the other newlines of KDL 2.0
    /// (vertical tab, form feed, NEL, line and paragraph separators), which end a comment
    /// too, and on code points KDL disallows everywhere (control characters, direction
    /// overrides): the reference parser decides what they mean.
    fn line_comment(&mut self) -> Option<()> {
        while let Some(b) = self.peek() {
            match b {
                b'\n' | b'\r' => break,
                // Control characters are not allowed even in comments.
                0x00..=0x08 | 0x0b..=0x1f | 0x7f => return None,
                0x80.. => {
                    let c = self.text[self.i..].chars().next()?;
                    if is_disallowed(c) || c == '\u{85}' {
                        return None;
                    }
                    self.i += c.len_utf8();
                }
                _ => self.i += 1,
            }
        }
        Some(())
    }

    /// Skips whitespace, newlines and comments between nodes.
    fn skip_lines(&mut self) -> Option<()> {
        loop {
            self.skip_inline()?;
            match self.peek() {
                Some(b'\n') => self.i += 1,
                Some(b'\r') => {
                    if self.s.get(self.i + 1) != Some(&b'\n') {
                        return None;
                    }
                    self.i += 2
                }
                Some(b'/') if self.s.get(self.i + 1) == Some(&b'/') => self.line_comment()?,
                Some(b'/') => return None,
                _ => return Some(()),
            }
        }
    }

    fn nodes(&mut self, in_block: bool) -> Option<Vec<Node>> {
        let mut nodes = Vec::new();
        loop {
            self.skip_lines()?;
            if !in_block && self.i == self.stop && !self.continued {
                return Some(nodes);
            }
            match self.peek() {
                None if !in_block => return Some(nodes),
                None => return None,
                Some(b'}') if in_block => return Some(nodes),
                // A `;` ends a node; one on its own is not KDL.
                Some(b';') => return None,
                Some(_) => {
                    nodes.push(self.node()?);
                    if self.peek() == Some(b';') {
                        self.i += 1;
                    }
                }
            }
        }
    }

    fn node(&mut self) -> Option<Node> {
        let start = self.i;
        let ty = self.annotation()?;
        let name = self.string_or_ident()?;
        let mut args = Vec::new();
        let mut props = Vec::new();
        let mut children = None;
        // Entries come first, then children blocks; once a block (even a slashdashed one)
        // has been seen, no entry may follow, and after the real block only slashdashed
        // ones may.
        let mut seen_block = false;
        // The node ends at its last token, not at trailing blanks or comments.
        let mut end = self.i;
        loop {
            let before = self.i;
            self.skip_inline()?;
            let had_space = self.i > before;
            match self.peek() {
                // A continuation right before the end of a node: the reference parser
                // counts it into the node's span; leave such text to it.
                None | Some(b'\n' | b'\r' | b';' | b'}') if self.continued => return None,
                None | Some(b'\n' | b'\r' | b';' | b'}') => break,
                Some(b'/') if self.s.get(self.i + 1) == Some(&b'/') => {
                    self.line_comment()?;
                    break;
                }
                // A slashdash comments out the entry or children block after it, and needs
                // no space before it. Only the forms on one line are read here; a newline,
                // comment or continuation after `/-` is left to the reference parser.
                Some(b'/') if self.s.get(self.i + 1) == Some(&b'-') => {
                    self.i += 2;
                    self.skip_inline()?;
                    if self.continued {
                        return None;
                    }
                    match self.peek() {
                        Some(b'{') => {
                            self.children()?;
                            seen_block = true;
                        }
                        None | Some(b'\n' | b'\r' | b';' | b'}' | b'/') => return None,
                        Some(_) if seen_block => return None,
                        Some(_) => {
                            // A commented-out entry is read, to know it is valid, and dropped.
                            let _dropped = self.entry()?;
                        }
                    }
                    end = self.i;
                }
                Some(b'{') if children.is_some() => return None,
                Some(b'{') => {
                    children = Some(self.children()?);
                    seen_block = true;
                    end = self.i;
                }
                Some(_) if !had_space || seen_block => return None,
                Some(_) => {
                    match self.entry()? {
                        Ok(arg) => args.push(arg),
                        Err(prop) => props.push(prop),
                    }
                    end = self.i;
                }
            }
        }
        Some(Node { name, ty, args, props, children, span: Span::new(start, end) })
    }

    /// A children block, `{` nodes `}`.
    fn children(&mut self) -> Option<Vec<Node>> {
        self.i += 1;
        let kids = self.nodes(true)?;
        if self.peek() != Some(b'}') {
            return None;
        }
        self.i += 1;
        Some(kids)
    }

    /// An argument (`Ok`) or a property (`Err`).
    fn entry(&mut self) -> Option<Result<Entry, Prop>> {
        let entry_start = self.i;
        let ety = self.annotation()?;
        let value_start = self.i;
        let (value, is_ident) = self.value()?;
        if self.peek() != Some(b'=') {
            return Some(Ok(Entry { ty: ety, value, span: Span::new(value_start, self.i), entry_span: Span::new(entry_start, self.i) }));
        }
        // A property: the key must be a string or identifier, unannotated.
        let Value::String(key) = value else { return None };
        if ety.is_some() || (!is_ident && self.s[value_start] != b'"') {
            return None;
        }
        let eq = self.i;
        self.i += 1;
        let vty = self.annotation()?;
        let vstart = self.i;
        let (v, _) = self.value()?;
        Some(Err(Prop {
            key: Spanned::new(key, Span::new(value_start, eq)),
            value: Entry { ty: vty, value: v, span: Span::new(vstart, self.i), entry_span: Span::new(entry_start, self.i) },
        }))
    }

    fn annotation(&mut self) -> Option<Option<Spanned<String>>> {
        if self.peek() != Some(b'(') {
            return Some(None);
        }
        self.i += 1;
        let name = self.string_or_ident()?;
        if self.peek() != Some(b')') {
            return None;
        }
        self.i += 1;
        Some(Some(name))
    }

    fn string_or_ident(&mut self) -> Option<Spanned<String>> {
        let start = self.i;
        let s = match self.peek()? {
            b'"' => self.quoted()?,
            _ => self.ident()?,
        };
        Some(Spanned::new(s, Span::new(start, self.i)))
    }

    /// A value; the flag says it was a bare identifier.
    fn value(&mut self) -> Option<(Value, bool)> {
        match self.peek()? {
            b'"' => Some((Value::String(self.quoted()?), false)),
            b'#' => {
                let rest = &self.s[self.i..];
                for (kw, v) in [(&b"#true"[..], Value::Bool(true)), (b"#false", Value::Bool(false)), (b"#null", Value::Null)] {
                    if rest.starts_with(kw) && !rest.get(kw.len()).is_some_and(|b| is_ident_byte(*b) || *b == b'#' || *b == b'"') {
                        self.i += kw.len();
                        return Some((v, false));
                    }
                }
                None
            }
            b'0'..=b'9' => self.number(),
            b'+' | b'-' if self.s.get(self.i + 1).is_some_and(u8::is_ascii_digit) => self.number(),
            b'.' if self.s.get(self.i + 1).is_some_and(u8::is_ascii_digit) => None,
            _ => Some((Value::String(self.ident()?), true)),
        }
    }

    fn number(&mut self) -> Option<(Value, bool)> {
        let start = self.i;
        if matches!(self.peek(), Some(b'+' | b'-')) {
            self.i += 1;
        }
        if self.peek() == Some(b'0') && matches!(self.s.get(self.i + 1), Some(b'x' | b'o' | b'b')) {
            return None;
        }
        let mut seen_dot = false;
        while let Some(b) = self.peek() {
            match b {
                b'0'..=b'9' | b'_' => self.i += 1,
                b'.' if !seen_dot && self.s.get(self.i + 1).is_some_and(u8::is_ascii_digit) => {
                    seen_dot = true;
                    self.i += 1;
                }
                _ => break,
            }
        }
        // A number must end where the value ends.
        if self.peek().is_some_and(|b| is_ident_byte(b) || matches!(b, b'#' | b'"' | b'(' | b'=' | b'\\' | b'/') || b >= 0x80) {
            return None;
        }
        let digits: String = self.text[start..self.i].chars().filter(|c| *c != '_').collect();
        if self.text[start..self.i].contains("._") || self.text[start..self.i].ends_with('_') {
            return None;
        }
        let body = digits.trim_start_matches(['+', '-']);
        if body.starts_with('_') || self.text[start..self.i].trim_start_matches(['+', '-']).starts_with('_') {
            return None;
        }
        if seen_dot {
            // Floats: leave exotic precision to the reference parser.
            if body.len() > 15 {
                return None;
            }
            digits.parse::<f64>().ok().map(|f| (Value::Float(f), false))
        } else {
            digits.parse::<i128>().ok().map(|n| (Value::Int(n), false))
        }
    }

    fn ident(&mut self) -> Option<String> {
        let start = self.i;
        while self.peek().is_some_and(is_ident_byte) {
            self.i += 1;
        }
        if self.i == start {
            return None;
        }
        // What follows an identifier must end it cleanly.
        if self.peek().is_some_and(|b| b >= 0x80 || matches!(b, b'#' | b'"' | b'\\' | b'[' | b']')) {
            return None;
        }
        let s = &self.text[start..self.i];
        let b = s.as_bytes();
        let looks_numeric = b[0].is_ascii_digit()
            || (matches!(b[0], b'+' | b'-' | b'.') && b.get(1).is_some_and(|c| c.is_ascii_digit()))
            || (matches!(b[0], b'+' | b'-') && b.get(1) == Some(&b'.') && b.get(2).is_some_and(|c| c.is_ascii_digit()));
        if looks_numeric || matches!(s, "true" | "false" | "null" | "inf" | "-inf" | "nan") {
            return None;
        }
        Some(s.to_owned())
    }

    fn quoted(&mut self) -> Option<String> {
        // Opening quote; `"""` starts a multi-line string, which the reference parser reads.
        if self.s.get(self.i + 1) == Some(&b'"') && self.s.get(self.i + 2) == Some(&b'"') {
            return None;
        }
        self.i += 1;
        let mut out = String::new();
        let mut run = self.i;
        loop {
            match self.peek()? {
                b'"' => {
                    out.push_str(&self.text[run..self.i]);
                    self.i += 1;
                    if self.peek() == Some(b'#') {
                        return None;
                    }
                    return Some(out);
                }
                b'\\' => {
                    out.push_str(&self.text[run..self.i]);
                    let c = match self.s.get(self.i + 1)? {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'"' => '"',
                        b'\\' => '\\',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b's' => ' ',
                        _ => return None,
                    };
                    out.push(c);
                    self.i += 2;
                    run = self.i;
                }
                b'\n' | b'\r' => return None,
                // Control characters and non-ASCII text: the reference parser knows which are allowed.
                b if b < 0x20 && b != b'\t' => return None,
                0x7F => return None,
                b if b >= 0x80 => {
                    let c = self.text[self.i..].chars().next()?;
                    if is_disallowed(c) {
                        return None;
                    }
                    self.i += c.len_utf8();
                }
                _ => self.i += 1,
            }
        }
    }
}

/// Code points KDL 2.0 forbids anywhere, or that need the reference parser's care.
fn is_disallowed(c: char) -> bool {
    matches!(c, '\u{80}'..='\u{9F}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{2028}' | '\u{2029}')
}
