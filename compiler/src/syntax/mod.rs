//! Syntax: spec text to a plain tree of nodes, entries and spans.
//!
//! This is the only module that knows the `kdl` crate. Everything after it works on
//! [`Document`], so the parser can be replaced without touching the rest.

pub mod fastkdl;
pub mod format;
pub mod limits;
pub mod tree;

pub use tree::{Document, Entry, Node, Prop, Value};

use crate::diagnostics::{self, Diagnostic};
use crate::span::{Span, Spanned};

/// Parses spec text. On a syntax error there is no document, and every syntax error
/// the parser found is reported. A spec beyond [`crate::syntax::limits`] is refused before
/// either parser sees it.
pub fn parse(text: &str) -> (Option<Document>, Vec<Diagnostic>) {
    if text.len() > limits::MAX_SPEC_BYTES {
        return (None, vec![diagnostics::too_large(text.len(), limits::MAX_SPEC_BYTES)]);
    }
    if let Some(span) = limits::too_deep(text) {
        return (None, vec![diagnostics::too_deep(span, limits::MAX_DEPTH)]);
    }
    let disallowed = disallowed_code_points(text);
    if !disallowed.is_empty() {
        return (None, disallowed);
    }
    if let Some(doc) = fastkdl::parse(text) {
        return (Some(doc), Vec::new());
    }
    parse_with_kdl(text)
}

/// Parses with the `kdl` crate only: the reference for what is valid KDL 2.0.
pub fn parse_with_kdl(text: &str) -> (Option<Document>, Vec<Diagnostic>) {
    match kdl::KdlDocument::parse_v2(text) {
        Ok(doc) => {
            // The reference accepts a raw `"""` string on one line, which KDL 2.0 forbids.
            let mut errors = Vec::new();
            single_line_multiline_strings(doc.nodes(), text, &mut errors);
            if !errors.is_empty() {
                return (None, errors);
            }
            (Some(Document { nodes: doc.nodes().iter().map(|n| lower_node(n, text)).collect() }), Vec::new())
        }
        Err(err) => {
            let mut diags: Vec<Diagnostic> = err
                .diagnostics
                .iter()
                .map(|d| {
                    let span = to_span(d.span);
                    diagnostics::syntax_error(
                        d.message.clone().unwrap_or_else(|| "invalid KDL".to_owned()),
                        narrow_to_first_line(text, span),
                        d.label.clone(),
                        d.help.clone(),
                    )
                })
                .collect();
            if diags.is_empty() {
                diags.push(diagnostics::syntax_error("invalid KDL".to_owned(), Span::new(0, 0), None, None));
            }
            diags.sort_by_key(|d| d.primary_span());
            diags.dedup_by(|a, b| a.primary_span() == b.primary_span() && a.message == b.message);
            (None, diags)
        }
    }
}

/// Code points KDL 2.0 forbids anywhere in a document, comments included. The reference
/// parser lets Delete (U+007F) through, and the fast parser does not look inside
/// comments, so they are found here, once, before either parser runs. Control characters
/// other than the KDL newlines and tab, Delete, the bidirectional controls (which can make
/// a spec read differently from how it parses) and a byte order mark after the start.
fn disallowed_code_points(text: &str) -> Vec<Diagnostic> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        let bad = match b {
            0x00..=0x08 | 0x0E..=0x1F | 0x7F => true,
            // U+200E, U+200F, U+202A–U+202E, U+2066–U+2069 (E2 80 8E…, E2 80 AA…, E2 81 A6…).
            0xE2 => matches!(
                (bytes.get(i + 1), bytes.get(i + 2)),
                (Some(0x80), Some(0x8E | 0x8F | 0xAA..=0xAE)) | (Some(0x81), Some(0xA6..=0xA9))
            ),
            // U+FEFF, except as the very first code point.
            0xEF => i > 0 && bytes.get(i + 1) == Some(&0xBB) && bytes.get(i + 2) == Some(&0xBF),
            _ => false,
        };
        if bad {
            let c = text[i..].chars().next().unwrap_or('\u{FFFD}');
            out.push(diagnostics::disallowed_code_point(c, Span::new(i, i + c.len_utf8())));
        }
    }
    out
}

/// Finds multi-line (`"""`) strings whose opening quotes are not followed by a newline, in
/// node names, annotations, property keys and values.
fn single_line_multiline_strings(nodes: &[kdl::KdlNode], text: &str, out: &mut Vec<Diagnostic>) {
    for node in nodes {
        let ident = |id: &kdl::KdlIdentifier| (id.span(), id.repr().map(str::to_owned));
        let mut reprs: Vec<(miette::SourceSpan, Option<String>)> = vec![ident(node.name())];
        reprs.extend(node.ty().map(ident));
        for entry in node.entries() {
            reprs.extend(entry.name().map(ident));
            reprs.extend(entry.ty().map(ident));
            reprs.push((entry.span(), entry.format().map(|f| f.value_repr.clone())));
        }
        for (span, repr) in &reprs {
            let body = repr.as_deref().unwrap_or_default().trim_start_matches('#');
            let opens_on_one_line = body
                .strip_prefix("\"\"\"")
                .is_some_and(|after| !after.starts_with(['\n', '\r', '\u{85}', '\u{0B}', '\u{0C}', '\u{2028}', '\u{2029}']));
            if opens_on_one_line {
                out.push(diagnostics::single_line_multiline_string(narrow_to_first_line(text, to_span(*span))));
            }
        }
        if let Some(children) = node.children() {
            single_line_multiline_strings(children.nodes(), text, out);
        }
    }
}

fn lower_node(node: &kdl::KdlNode, text: &str) -> Node {
    let mut args = Vec::new();
    let mut props = Vec::new();
    for entry in node.entries() {
        let lowered = lower_entry(entry);
        match entry.name() {
            Some(key) => props.push(Prop { key: ident(key), value: lowered }),
            None => args.push(lowered),
        }
    }
    let children = node.children().map(|doc| doc.nodes().iter().map(|n| lower_node(n, text)).collect());
    let mut span = to_span(node.span());
    // The node's span can run on over trailing whitespace and the terminator; a diagnostic
    // underlining a node should stop at its last visible character.
    while span.end > span.start && text.as_bytes().get(span.end as usize - 1).is_some_and(|b| b.is_ascii_whitespace() || *b == b';') {
        span.end -= 1;
    }
    Node { name: ident(node.name()), ty: node.ty().map(ident), args, props, children, span }
}

fn lower_entry(entry: &kdl::KdlEntry) -> Entry {
    let entry_span = to_span(entry.span());
    // A value's span is the entry's end minus the length of the value's text.
    let repr_len = entry.format().map(|f| f.value_repr.len()).unwrap_or(entry_span.len());
    let span = Span::new((entry_span.end as usize).saturating_sub(repr_len).max(entry_span.start as usize), entry_span.end as usize);
    let value = match entry.value() {
        kdl::KdlValue::String(s) => Value::String(s.clone()),
        kdl::KdlValue::Integer(i) => Value::Int(*i),
        kdl::KdlValue::Float(f) => Value::Float(*f),
        kdl::KdlValue::Bool(b) => Value::Bool(*b),
        kdl::KdlValue::Null => Value::Null,
    };
    Entry { ty: entry.ty().map(ident), value, span, entry_span }
}

fn ident(id: &kdl::KdlIdentifier) -> Spanned<String> {
    Spanned::new(id.value().to_owned(), to_span(id.span()))
}

fn to_span(s: miette::SourceSpan) -> Span {
    Span::new(s.offset(), s.offset() + s.len())
}

/// Some parser errors span several lines, from the start of the document or of a node to
/// the offending token; their end is accurate, so point at the last word before it.
fn narrow_to_first_line(text: &str, span: Span) -> Span {
    let range = span.range();
    let Some(covered) = text.get(range.clone()) else { return span };
    if !covered.contains('\n') {
        return span;
    }
    let covered = covered.trim_end();
    let end = range.start + covered.len();
    let start = covered.rfind(|c: char| c.is_whitespace()).map_or(range.start, |i| range.start + i + 1);
    Span::new(start, end)
}
