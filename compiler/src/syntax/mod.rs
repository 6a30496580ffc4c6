//! Syntax: spec text to a plain tree of nodes, entries and spans.
//!
//! This is the only module that knows the `kdl` crate. Everything after it works on
//! [`Document`], so the parser can be replaced without touching the rest.

pub mod fastkdl;
pub mod format;
pub mod limits;
pub mod shape;
pub mod tree;
pub mod validate;

pub use tree::{Document, Entry, Node, Prop, Value};

use crate::diagnostics::{self, Diagnostic};
use crate::span::{Span, Spanned};

/// Parses spec text. On a syntax error there is no document, and the syntax errors the
/// parser found are reported, at most [`limits::MAX_SYNTAX_ERRORS`] of them and then how
/// many more there are. A spec beyond [`limits`] is refused before either parser
/// sees it.
pub fn parse(text: &str) -> (Option<Document>, Vec<Diagnostic>) {
    if text.len() > limits::MAX_SPEC_BYTES {
        return (None, vec![diagnostics::too_large(text.len(), limits::MAX_SPEC_BYTES)]);
    }
    let shape = shape::scan(text);
    if let Some(span) = shape.too_deep {
        return (None, vec![diagnostics::too_deep(span, limits::MAX_DEPTH)]);
    }
    if let Some(span) = shape.too_deep_slashdashed {
        return (None, vec![diagnostics::too_deep_slashdashed(span, limits::MAX_SLASHDASH_DEPTH)]);
    }
    let disallowed = disallowed_code_points(text);
    if !disallowed.is_empty() {
        return (None, bounded(disallowed));
    }
    if let Some(doc) = fastkdl::parse(text) {
        return (Some(doc), Vec::new());
    }
    parse_guarded(text)
}

/// Parses what the fast parser leaves: the recognizer first, whose verdict is bounded in
/// time and stack on any text, and the `kdl` crate only on a document it accepts, so that
/// the reference parser's error recovery never runs on hostile text.
fn parse_guarded(text: &str) -> (Option<Document>, Vec<Diagnostic>) {
    let errors = validate::validate(text);
    if errors.is_empty() { parse_reference(text) } else { (None, errors) }
}

/// What KDL 2.0 reads in `text`, by the `kdl` crate, with its departures from KDL 2.0
/// mended. It refuses a slashdash with no space before it (`node "x"/-1`, `node {}/-{}`),
/// which the official test suite holds valid (its `zero_space_before_slashdash_*`
/// documents), except after a keyword before a string (`node #null/-a`), where it accepts
/// it but ends the node before the commented-out entry. So where the text has such a
/// slashdash, the crate reads the text with a space put before each, and the spans are
/// mapped back to the text as written. It refuses a slashdashed node ended by `;` (`/-a;`),
/// which is read here as ended by a newline. And it accepts one slashdash on another before
/// an entry (`a /- /-b c`), which KDL 2.0 does not: that is refused here. Unsafe on
/// hostile text like [`parse_with_kdl`].
pub fn parse_reference(text: &str) -> (Option<Document>, Vec<Diagnostic>) {
    let (mut doc, mut errors) = parse_spaced(text);
    if doc.is_none() {
        // A third: it refuses a slashdashed node ended by `;` (`/-a;`, kdl-org/kdl-rs#107),
        // but reads it ended by a newline, which means the same.
        let mended = shape::semicolons_as_newlines(text);
        if mended != text
            && let (Some(read), _) = parse_spaced(&mended)
        {
            (doc, errors) = (Some(read), Vec::new());
        }
    }
    match (doc, shape::slashdash_on_slashdash(text)) {
        // The crate's other departure: it accepts a slashdash on a slashdash (`a /- /-b c`).
        (Some(_), Some(span)) => (
            None,
            vec![diagnostics::syntax_error(
                "a `/-` must be followed by what it comments out, not another `/-`".to_owned(),
                span,
                Some("a second `/-`".to_owned()),
                Some("remove one of the two".to_owned()),
            )],
        ),
        (doc, _) => (doc, errors),
    }
}

/// The `kdl` crate's reading of `text` with a space put before each slashdash that has
/// none, its spans mapped back to `text`.
fn parse_spaced(text: &str) -> (Option<Document>, Vec<Diagnostic>) {
    let inserted = shape::unspaced_slashdashes(text);
    if inserted.is_empty() {
        return parse_with_kdl(text);
    }
    match parse_with_kdl(&shape::with_spaces_at(text, &inserted)) {
        (Some(mut doc), _) => {
            // The k-th inserted space sits at `inserted[k] + k` in the spaced text, so an
            // offset there moves back by the number of spaces before it: found by bisection,
            // not by reading every insertion for every span.
            let spaces: Vec<usize> = inserted.iter().enumerate().map(|(k, &p)| p + k).collect();
            let back = |at: u32| at - spaces.partition_point(|&q| q < at as usize) as u32;
            for node in &mut doc.nodes {
                map_spans(node, &back);
            }
            (Some(doc), Vec::new())
        }
        // The errors as the crate finds them in the text as written.
        (None, _) => parse_with_kdl(text),
    }
}

/// Applies `f` to every offset of `node`'s spans and its children's.
fn map_spans(node: &mut Node, f: &impl Fn(u32) -> u32) {
    let span = |s: &mut Span| *s = Span { start: f(s.start), end: f(s.end) };
    let entry = |e: &mut Entry| {
        span(&mut e.span);
        span(&mut e.entry_span);
        if let Some(ty) = &mut e.ty {
            span(&mut ty.span);
        }
    };
    span(&mut node.span);
    span(&mut node.name.span);
    if let Some(ty) = &mut node.ty {
        span(&mut ty.span);
    }
    node.args.iter_mut().for_each(entry);
    for p in &mut node.props {
        span(&mut p.key.span);
        entry(&mut p.value);
    }
    for child in node.children.iter_mut().flatten() {
        map_spans(child, f);
    }
}

/// Parses with the `kdl` crate only: the reference for what is valid KDL 2.0. Its error
/// recovery can overflow the stack on hostile text: only [`parse`] is safe on any input.
pub fn parse_with_kdl(text: &str) -> (Option<Document>, Vec<Diagnostic>) {
    match kdl::KdlDocument::parse_v2(text) {
        Ok(doc) => {
            // The reference accepts a raw `"""` string on one line, which KDL 2.0 forbids.
            let mut errors = Vec::new();
            single_line_multiline_strings(doc.nodes(), text, &mut errors);
            // Those the tree does not hold: in slashdashed nodes, entries and blocks.
            for string in shape::scan(text).raw_multiline_on_one_line {
                if !errors.iter().any(|e: &Diagnostic| e.primary_span().start <= string.start && string.start < e.primary_span().end) {
                    errors.push(diagnostics::single_line_multiline_string(narrow_to_first_line(text, string)));
                }
            }
            if !errors.is_empty() {
                return (None, bounded(errors));
            }
            (Some(Document { nodes: doc.nodes().iter().map(|n| lower_node(n, text)).collect() }), Vec::new())
        }
        Err(err) => (None, bounded(kdl_diagnostics(&err, 0, text))),
    }
}

fn kdl_diagnostics(err: &kdl::KdlError, offset: usize, text: &str) -> Vec<Diagnostic> {
    let mut diags: Vec<Diagnostic> = err
        .diagnostics
        .iter()
        .map(|d| {
            let span = to_span(d.span);
            let span = Span::new(span.start as usize + offset, span.end as usize + offset);
            diagnostics::syntax_error(
                d.message.clone().unwrap_or_else(|| "invalid KDL".to_owned()),
                narrow_to_first_line(text, span),
                d.label.clone(),
                d.help.clone(),
            )
        })
        .collect();
    if diags.is_empty() {
        diags.push(diagnostics::syntax_error("invalid KDL".to_owned(), Span::new(offset, offset), None, None));
    }
    diags
}

/// Syntax errors sorted by place, each once, and at most [`limits::MAX_SYNTAX_ERRORS`]:
/// the rest are counted in a last diagnostic that points at the first one not shown.
fn bounded(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags.sort_by_key(|d| d.primary_span());
    diags.dedup_by(|a, b| a.primary_span() == b.primary_span() && a.message == b.message);
    if diags.len() > limits::MAX_SYNTAX_ERRORS {
        let more = diags.len() - limits::MAX_SYNTAX_ERRORS;
        let first_hidden = diags[limits::MAX_SYNTAX_ERRORS].primary_span();
        diags.truncate(limits::MAX_SYNTAX_ERRORS);
        diags.push(diagnostics::more_syntax_errors(more, first_hidden));
    }
    diags
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
    let span = to_span(node.span());
    let span = Span::new(span.start as usize, last_token_end(text.as_bytes(), span.start as usize, span.end as usize));
    Node { name: ident(node.name()), ty: node.ty().map(ident), args, props, children, span }
}

/// Where a node's last token ends. The reference parser's span of a node runs on over the
/// blanks, block comments and terminator after it; a diagnostic underlining a node stops at
/// its last token, as the fast parser's span does. The node is valid, so reading it from
/// its start finds its strings and comments where KDL does.
fn last_token_end(s: &[u8], start: usize, end: usize) -> usize {
    let mut i = start;
    let mut last = start;
    while i < end {
        match s[i] {
            b'"' => {
                i = shape::string_end(s, i, 0);
                last = i;
            }
            b'#' if s[i..].iter().find(|&&b| b != b'#') == Some(&b'"') => {
                let hashes = s[i..].iter().take_while(|&&b| b == b'#').count();
                i = shape::string_end(s, i + hashes, hashes);
                last = i;
            }
            b'/' if s.get(i + 1) == Some(&b'/') => i += shape::line_end(&s[i..]),
            b'/' if s.get(i + 1) == Some(&b'*') => i += shape::block_comment_len(&s[i..end]),
            b';' | b'\\' => i += 1,
            b if b.is_ascii_whitespace() => i += 1,
            _ => {
                i += 1;
                last = i;
            }
        }
    }
    last.min(end)
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
