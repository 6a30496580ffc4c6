//! `hawser fmt`: the canonical layout of a spec, comments kept.
//!
//! A printer over the text, not over a tree: the text is split into tokens (words,
//! strings, comments, braces, `=`, `;`, annotations' parentheses, line continuations,
//! newlines, blanks) and only the blanks and newlines between tokens are rewritten. Every
//! other token — each string as written, each number, every comment — is copied as it is,
//! so nothing can be lost. The rules:
//!
//! - four spaces of indentation per level of `{ }`; a line continued with `\` is indented
//!   one more level, or deeper when it was written deeper (aligned under the entries it
//!   continues); lines inside multi-line strings and block comments are left alone;
//! - one space between entries and before `{`, `//` and `\`; none around `=`, inside an
//!   annotation's parentheses, between an annotation and what it annotates, after `/-`, or
//!   before `;`;
//! - blank lines kept as groups: runs of blank lines become one, and none stay at the
//!   start or end of the file or of a block;
//! - no trailing blanks; `\n` line ends; one newline at the end of the file.
//!
//! Entries keep their order: a property's place among the others carries no meaning to
//! hawser, but it often carries the writer's (`request=` before `limit=`), and moving
//! entries would move the comments between them.
//!
//! [`format`] checks its own work: the formatted text must parse to the same tree, and
//! hold the same tokens in the same order; otherwise it returns an error and the caller
//! changes nothing.

use crate::diagnostics::Diagnostic;
use crate::syntax::{self, Document, Entry, Node};

/// The result of formatting a spec.
#[derive(Debug)]
pub enum Formatted {
    /// The canonical text (equal to the input when it was already canonical).
    Text(String),
    /// The spec has syntax errors: nothing is formatted.
    SyntaxErrors(Vec<Diagnostic>),
    /// The printer would have changed the spec's meaning or lost a token: a bug in hawser,
    /// reported rather than written.
    Refused(String),
}

/// Formats a spec's text.
pub fn format(text: &str) -> Formatted {
    let (doc, diags) = syntax::parse(text);
    let Some(doc) = doc else { return Formatted::SyntaxErrors(diags) };
    let tokens = lex(text);
    let out = print(&tokens);
    if significant(&tokens) != significant(&lex(&out)) {
        return Formatted::Refused("formatting would change a token of the spec".to_owned());
    }
    match syntax::parse(&out).0 {
        Some(after) if same_document(&doc, &after) => Formatted::Text(out),
        _ => Formatted::Refused("formatting would change the meaning of the spec".to_owned()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Blank,
    Newline,
    LineComment,
    BlockComment,
    Slashdash,
    Continuation,
    Word,
    Open,
    Close,
    Equals,
    Semicolon,
    LParen,
    RParen,
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    text: &'a str,
}

fn is_newline(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{b}' | '\u{c}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: char) -> bool {
    c != '\n' && !is_newline(c) && (c.is_whitespace() || c == '\u{feff}')
}

fn ends_word(c: char) -> bool {
    c.is_whitespace() || is_newline(c) || matches!(c, '\\' | '/' | '(' | ')' | '{' | '}' | ';' | '=' | '"' | '[' | ']' | '\u{feff}')
}

/// Splits KDL text into tokens whose concatenation is the text.
fn lex(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let c = rest.chars().next().unwrap_or(' ');
        let (kind, len) = if rest.starts_with("\r\n") {
            (Kind::Newline, 2)
        } else if is_newline(c) {
            (Kind::Newline, c.len_utf8())
        } else if is_blank(c) {
            (Kind::Blank, rest.find(|c: char| !is_blank(c)).unwrap_or(rest.len()))
        } else if rest.starts_with("//") {
            (Kind::LineComment, rest.find(is_newline).unwrap_or(rest.len()))
        } else if rest.starts_with("/*") {
            (Kind::BlockComment, super::shape::block_comment_len(rest.as_bytes()))
        } else if rest.starts_with("/-") {
            (Kind::Slashdash, 2)
        } else if c == '"' {
            (Kind::Word, quoted_len(rest))
        } else if c == '#' && rest.trim_start_matches('#').starts_with('"') {
            (Kind::Word, raw_len(rest))
        } else {
            match c {
                '\\' => (Kind::Continuation, 1),
                '{' => (Kind::Open, 1),
                '}' => (Kind::Close, 1),
                '=' => (Kind::Equals, 1),
                ';' => (Kind::Semicolon, 1),
                '(' => (Kind::LParen, 1),
                ')' => (Kind::RParen, 1),
                _ => (Kind::Word, rest.char_indices().skip(1).find(|&(_, c)| ends_word(c)).map_or(rest.len(), |(j, _)| j)),
            }
        };
        let len = len.max(c.len_utf8()).min(rest.len());
        tokens.push(Token { kind, text: &rest[..len] });
        i += len;
    }
    tokens
}

/// A quoted string, single- or multi-line, with its escapes.
fn quoted_len(s: &str) -> usize {
    let (start, close) = if s.starts_with("\"\"\"") { (3, "\"\"\"") } else { (1, "\"") };
    let bytes = s.as_bytes();
    let mut i = start;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 1 + s[i + 1..].chars().next().map_or(0, char::len_utf8);
        // Compared as bytes: `i` may stand inside a character of the string.
        } else if bytes[i..].starts_with(close.as_bytes()) {
            return i + close.len();
        } else {
            i += 1;
        }
    }
    s.len()
}

/// A raw string, `#"…"#` or `#"""…"""#`, with any number of `#`.
fn raw_len(s: &str) -> usize {
    let hashes = s.len() - s.trim_start_matches('#').len();
    let body = &s[hashes..];
    let quotes = if body.starts_with("\"\"\"") { 3 } else { 1 };
    let close = format!("{}{}", "\"".repeat(quotes), "#".repeat(hashes));
    body[quotes..].find(&close).map_or(s.len(), |j| hashes + quotes + j + close.len())
}

/// The tokens that carry meaning or comments, as the printer must keep them. A `\` that
/// continues its node onto nothing — a blank line, which ends the node, or a line holding
/// only such a `\` — carries no meaning: the printer drops it, and so does this.
fn significant<'a>(tokens: &[Token<'a>]) -> Vec<&'a str> {
    let dangling = dangling(tokens);
    tokens
        .iter()
        .enumerate()
        .filter(|(i, t)| !matches!(t.kind, Kind::Blank | Kind::Newline) && !dangling[*i])
        .map(|(_, t)| if t.kind == Kind::LineComment { t.text.trim_end() } else { t.text })
        .collect()
}

/// Which tokens are `\` that continue onto nothing, found from the end: after the `\`
/// (and a comment) a newline, then a blank line or a line holding only a `\` that is
/// itself such.
fn dangling(tokens: &[Token<'_>]) -> Vec<bool> {
    let next = |from: usize| (from..tokens.len()).find(|&j| tokens[j].kind != Kind::Blank);
    let mut dangling = vec![false; tokens.len()];
    for i in (0..tokens.len()).rev() {
        if tokens[i].kind != Kind::Continuation {
            continue;
        }
        let mut j = next(i + 1);
        if j.is_some_and(|j| tokens[j].kind == Kind::LineComment) {
            j = j.and_then(|j| next(j + 1));
        }
        let Some(j) = j.filter(|&j| tokens[j].kind == Kind::Newline) else { continue };
        dangling[i] = match next(j + 1) {
            Some(k) if tokens[k].kind == Kind::Newline => true,
            // A line of only a `\` that continues onto nothing.
            Some(k) if tokens[k].kind == Kind::Continuation => dangling[k] && next(k + 1).is_some_and(|l| tokens[l].kind == Kind::Newline),
            _ => false,
        };
    }
    dangling
}

/// A `\` the printer wrote: where its line starts, where it stands (with the space before
/// it), and whether it is its line's first token.
struct Continuation {
    line_start: usize,
    range: std::ops::Range<usize>,
    first: bool,
}

/// A blank line ended a node whose last lines were continued: their `\` continue onto
/// nothing, so they go, from the last, with the lines that held nothing else.
fn drop_dangling(out: &mut String, chain: &mut Vec<Continuation>) {
    while let Some(c) = chain.pop() {
        let line_end = out[c.range.end..].find('\n').map_or(out.len(), |n| c.range.end + n + 1);
        if c.first && out[c.range.end..line_end].trim_end_matches('\n').is_empty() {
            out.replace_range(c.line_start..line_end, "");
            continue;
        }
        // A `\` that began its line goes with the space written after it: what the line
        // holds then starts where the `\` did (a comment, written as it will be again).
        let end = if c.first {
            c.range.end + out[c.range.end..line_end].len() - out[c.range.end..line_end].trim_start_matches(' ').len()
        } else {
            c.range.end
        };
        out.replace_range(c.range.start..end, "");
        break;
    }
}

const INDENT: &str = "    ";

fn print(tokens: &[Token<'_>]) -> String {
    let mut out = String::with_capacity(tokens.iter().map(|t| t.text.len()).sum::<usize>() + 64);
    let mut depth = 0usize;
    // What was last written on the current line; `None` at the start of a line.
    let mut prev: Option<Kind> = None;
    let mut blank_lines = 0usize;
    let mut continued = false;
    // A `\` was written on the current line: the next line continues the node.
    let mut line_continued = false;
    // The `\` of the current line, and of each line before it that it continues.
    let mut line_continuation: Option<Continuation> = None;
    let mut chain: Vec<Continuation> = Vec::new();
    // Where the current line starts in `out`.
    let mut line_start = 0usize;
    // The indentation the current line was written with.
    let mut written_indent = 0usize;
    // The previous line opened a block (no blank line may follow it) or the file starts.
    let mut after_open = true;
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        i += 1;
        match t.kind {
            Kind::Blank => {
                if prev.is_none() {
                    written_indent = t.text.chars().map(|c| if c == '\t' { INDENT.len() } else { 1 }).sum();
                }
                continue;
            }
            Kind::Newline => {
                if prev.is_some() {
                    out.push('\n');
                    after_open = prev == Some(Kind::Open);
                    continued = line_continued;
                    match line_continuation.take() {
                        Some(c) if continued => chain.push(c),
                        _ => chain.clear(),
                    }
                    line_start = out.len();
                    written_indent = 0;
                    line_continued = false;
                    prev = None;
                } else {
                    blank_lines += 1;
                    // A line continuation carries a node over one newline only: a blank
                    // line after it ends the node. Its `\` continues onto nothing and
                    // goes, so that the next line, the blank line dropped before a `}`,
                    // is not continued in the output either.
                    if continued {
                        drop_dangling(&mut out, &mut chain);
                        line_start = out.len();
                        // Without its `\`, the line before may now be the file's start or
                        // end with a `{`: no blank line may follow either.
                        after_open = out.is_empty() || out.ends_with("{\n");
                    }
                    chain.clear();
                    continued = false;
                }
                continue;
            }
            _ => {}
        }
        let before = out.len();
        if prev.is_none() {
            let closing = t.kind == Kind::Close;
            if blank_lines > 0 && !after_open && !closing && !continued {
                out.push('\n');
            }
            blank_lines = 0;
            let level = if closing { depth.saturating_sub(1) } else { depth } + usize::from(continued);
            let mut width = level * INDENT.len();
            if continued {
                // A continued line may be aligned deeper, under the entries it continues.
                width = width.max(written_indent);
            }
            out.extend(std::iter::repeat_n(' ', width));
        } else if space_between(prev, t.kind) {
            out.push(' ');
        }
        if t.kind == Kind::Continuation {
            // With the space before it, when it is not the line's first token.
            let start = if prev.is_some() { before } else { out.len() };
            line_continuation = Some(Continuation { line_start, range: start..out.len() + t.text.len(), first: prev.is_none() });
        }
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => depth = depth.saturating_sub(1),
            _ => {}
        }
        if t.kind == Kind::LineComment {
            out.push_str(t.text.trim_end());
        } else {
            out.push_str(t.text);
        }
        line_continued |= t.kind == Kind::Continuation;
        prev = Some(t.kind);
    }
    if prev.is_some() {
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    if out.trim().is_empty() {
        out.clear();
    }
    out
}

fn space_between(prev: Option<Kind>, next: Kind) -> bool {
    let Some(prev) = prev else { return false };
    !(matches!(prev, Kind::Equals | Kind::LParen | Kind::RParen | Kind::Slashdash)
        || matches!(next, Kind::Equals | Kind::RParen | Kind::Semicolon))
}

/// Two documents are the same spec: the same nodes, entries and values, spans aside.
pub fn same_document(a: &Document, b: &Document) -> bool {
    same_nodes(&a.nodes, &b.nodes)
}

fn same_nodes(a: &[Node], b: &[Node]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_node(x, y))
}

fn same_node(a: &Node, b: &Node) -> bool {
    a.name.value == b.name.value
        && a.ty.as_ref().map(|t| &t.value) == b.ty.as_ref().map(|t| &t.value)
        && a.args.len() == b.args.len()
        && a.args.iter().zip(&b.args).all(|(x, y)| same_entry(x, y))
        && a.props.len() == b.props.len()
        && a.props.iter().zip(&b.props).all(|(x, y)| x.key.value == y.key.value && same_entry(&x.value, &y.value))
        && match (&a.children, &b.children) {
            (None, None) => true,
            (Some(x), Some(y)) => same_nodes(x, y),
            _ => false,
        }
}

fn same_entry(a: &Entry, b: &Entry) -> bool {
    a.value == b.value && a.ty.as_ref().map(|t| &t.value) == b.ty.as_ref().map(|t| &t.value)
}

/// What `fmt` keeps of a file besides its tokens: a leading byte-order mark and its line
/// endings. The formatter works on LF text; the file's own endings are put back after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub bom: bool,
    /// Lines end with CRLF (the first line ending decides when they are mixed).
    pub crlf: bool,
    /// Both endings occur: (CRLF lines, LF lines). Formatting writes one of them everywhere.
    pub mixed: Option<(usize, usize)>,
}

/// The file's layout and its text as the formatter takes it: no BOM, LF line endings.
pub fn split_layout(text: &str) -> (Layout, String) {
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let crlf_lines = body.matches("\r\n").count();
    let lf_lines = body.matches('\n').count() - crlf_lines;
    let crlf = body.find('\n').is_some_and(|i| i > 0 && body.as_bytes()[i - 1] == b'\r');
    let mixed = (crlf_lines > 0 && lf_lines > 0).then_some((crlf_lines, lf_lines));
    let normalized = if crlf_lines > 0 { body.replace("\r\n", "\n") } else { body.to_owned() };
    (Layout { bom, crlf, mixed }, normalized)
}

/// Formatted LF text given back the file's layout.
pub fn restore_layout(layout: Layout, formatted: &str) -> String {
    let mut out = String::with_capacity(formatted.len() + formatted.len() / 16 + 3);
    if layout.bom {
        out.push('\u{feff}');
    }
    if layout.crlf {
        out.push_str(&formatted.replace('\n', "\r\n"));
    } else {
        out.push_str(formatted);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        match format(text) {
            Formatted::Text(t) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn indents_spaces_and_keeps_comments() {
        let text = "// top\n\n\n  project   \"x\"  {\n\tversion   \"1\" // why\n\n\n  registry  key = ( t ) \"r\"   \n\n}\nservice \"a\" { env {  K \"v\" } }\n";
        let want =
            "// top\n\nproject \"x\" {\n    version \"1\" // why\n\n    registry key=(t)\"r\"\n}\nservice \"a\" { env { K \"v\" } }\n";
        assert_eq!(fmt(text), want);
        assert_eq!(fmt(want), want, "idempotent");
    }

    #[test]
    fn continuations_multiline_strings_and_block_comments_are_kept() {
        let text = "a \"x\" \\\n        k=1\n/* one\n   two */\nb \"\"\"\n    text\n    \"\"\"\n/-c 1\nd #\"raw \"q\" \"#\n";
        let want = "a \"x\" \\\n        k=1\n/* one\n   two */\nb \"\"\"\n    text\n    \"\"\"\n/-c 1\nd #\"raw \"q\" \"#\n";
        assert_eq!(fmt(text), want);
    }

    #[test]
    fn syntax_errors_format_nothing() {
        assert!(matches!(format("a {\n"), Formatted::SyntaxErrors(_)));
    }

    #[test]
    fn line_endings_and_bom_are_kept() {
        let text = "\u{feff}project \"x\"  {\r\n}\r\n";
        let (layout, lf) = split_layout(text);
        assert_eq!(layout, Layout { bom: true, crlf: true, mixed: None });
        let Formatted::Text(formatted) = format(&lf) else { panic!("formats") };
        assert_eq!(restore_layout(layout, &formatted), "\u{feff}project \"x\" {\r\n}\r\n");
        assert_eq!(split_layout("a\r\nb\nc\n").0.mixed, Some((1, 2)));
    }
}
