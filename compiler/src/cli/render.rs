//! Diagnostics as text for people (miette) and as JSON for tools. Pure functions of the
//! diagnostics and the spec text: the CLI decides where the text goes.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;

use crate::diagnostics::{Diagnostic, Severity};
use crate::span::Span;

/// How human output looks.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

/// Renders diagnostics as miette reports, one after another.
pub fn human(diags: &[Diagnostic], path: &str, text: &str, style: Style) -> String {
    let source = NamedSource::new(path, text.to_owned());
    let theme = if style.color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(style.width).with_links(false);
    let mut out = String::new();
    // Rendering a snippet reads the text from its start to the span, so a spec with a
    // diagnostic on each of its 100,000 lines took minutes: the first ones are shown, and
    // the count of the rest (the summary line still counts every one).
    if diags.len() > MAX_RENDERED {
        let rest = diags.len() - MAX_RENDERED;
        let out = human(&diags[..MAX_RENDERED], path, text, style);
        return format!("{out}… and {rest} more not shown here: `hawser check --format json` (or `sarif`) lists every one\n\n");
    }
    for d in diags {
        let report = Report { d, source: &source, text };
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&format!("{}: {}\n", d.code.id, d.message));
        }
        out.push('\n');
    }
    out
}

/// The most diagnostics [`human`] renders; the rest are counted.
pub const MAX_RENDERED: usize = 100;

/// The one-line summary after the diagnostics.
pub fn summary(diags: &[Diagnostic], path: &str) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, w: &str| if n == 1 { format!("1 {w}") } else { format!("{n} {w}s") };
    match (errors, warnings) {
        (0, 0) => format!("{path}: no problems found"),
        (0, w) => format!("{path}: {}", plural(w, "warning")),
        (e, 0) => format!("{path}: {}", plural(e, "error")),
        (e, w) => format!("{path}: {} and {}", plural(e, "error"), plural(w, "warning")),
    }
}

struct Report<'a> {
    d: &'a Diagnostic,
    source: &'a NamedSource<String>,
    text: &'a str,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)?;
        match self.d.environments.as_slice() {
            [] => Ok(()),
            // Messages that name their environment need no suffix.
            [one] if self.d.message.contains(&format!("environment `{one}`")) => Ok(()),
            [one] => write!(f, " (in environment `{one}`)"),
            many => write!(f, " (in environments {})", many.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ")),
        }
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.d.code.id))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.d.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let len = self.text.len();
        Some(Box::new(self.d.labels.iter().map(move |l| {
            let start = (l.span.start as usize).min(len);
            let end = (l.span.end as usize).min(len).max(start);
            let span = SourceSpan::new(start.into(), end - start);
            if l.primary {
                LabeledSpan::new_primary_with_span(l.message.clone(), span)
            } else {
                LabeledSpan::new_with_span(l.message.clone(), span)
            }
        })))
    }
}

/// A position for tools: 1-based line and column (in characters), and the byte offset.
#[derive(Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub offset: usize,
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    message: Option<&'a str>,
    primary: bool,
    start: Position,
    end: Position,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    severity: Severity,
    title: &'a str,
    message: &'a str,
    help: Option<&'a str>,
    environments: &'a [String],
    labels: Vec<JsonLabel<'a>>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    file: &'a str,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    /// `generate --check`: the files of the output that differ from what the spec produces.
    #[serde(skip_serializing_if = "Option::is_none")]
    drift: Option<&'a [FileFinding]>,
}

/// A finding about a file other than the spec: a generated file that drifted.
#[derive(Debug, Clone, Serialize)]
pub struct FileFinding {
    /// The file's path as the user names it (the output directory joined with its path).
    pub path: String,
    /// A short name of the problem (`missing`, `hand-edited`, …).
    pub kind: &'static str,
    pub message: String,
}

/// Renders diagnostics as one JSON document.
pub fn json(diags: &[Diagnostic], path: &str, text: &str) -> String {
    json_with_drift(diags, path, text, None)
}

/// Renders diagnostics, and the drift `generate --check` found, as one JSON document.
pub fn json_with_drift(diags: &[Diagnostic], path: &str, text: &str, drift: Option<&[FileFinding]>) -> String {
    let index = LineIndex::new(text);
    let report = JsonReport {
        drift,
        file: path,
        errors: diags.iter().filter(|d| d.is_error()).count(),
        warnings: diags.iter().filter(|d| !d.is_error()).count(),
        diagnostics: diags
            .iter()
            .map(|d| JsonDiagnostic {
                code: d.code.id,
                severity: d.severity(),
                title: d.code.title,
                message: &d.message,
                help: d.help.as_deref(),
                environments: &d.environments,
                labels: d
                    .labels
                    .iter()
                    .map(|l| JsonLabel {
                        message: l.message.as_deref(),
                        primary: l.primary,
                        start: index.position(l.span.start as usize),
                        end: index.position(l.span.end as usize),
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&report).unwrap_or_default();
    s.push('\n');
    s
}

/// Renders diagnostics and drift as GitHub Actions workflow commands: one `::error` or
/// `::warning` line each, which GitHub shows as annotations on the pull request.
pub fn github(diags: &[Diagnostic], path: &str, text: &str, drift: &[FileFinding]) -> String {
    let index = LineIndex::new(text);
    let mut out = String::new();
    for d in diags {
        let level = if d.is_error() { "error" } else { "warning" };
        let span = d.primary_span();
        let (start, end) = (index.position(span.start as usize), index.position(span.end as usize));
        let mut message = Report { d, source: &NamedSource::new(path, String::new()), text }.to_string();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            gh_property(path),
            start.line,
            start.column,
            end.line,
            end.column,
            gh_property(d.code.id),
            gh_data(&message)
        ));
    }
    for f in drift {
        out.push_str(&format!("::error file={},title={}::{}\n", gh_property(&f.path), gh_property("hawser drift"), gh_data(&f.message)));
    }
    out
}

/// Escapes the message of a workflow command (GitHub's `escapeData`).
fn gh_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property of a workflow command (GitHub's `escapeProperty`).
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The rule id of drift findings in SARIF.
pub const DRIFT_RULE: &str = "drift";

/// Renders diagnostics and drift as a SARIF 2.1.0 log, for code scanning. Columns count
/// Unicode code points (`columnKind`), as in the JSON output; a region's end column is the
/// one after its last character, as SARIF defines it.
pub fn sarif(diags: &[Diagnostic], path: &str, text: &str, drift: &[FileFinding]) -> String {
    use serde_json::{Value, json};
    let index = LineIndex::new(text);
    let mut rule_ids: Vec<&str> = diags.iter().map(|d| d.code.id).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let mut rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| {
            let code = crate::diagnostics::lookup(id);
            let title = code.map_or("", |c| c.title);
            let level = if id.starts_with('W') { "warning" } else { "error" };
            json!({
                "id": id,
                "shortDescription": { "text": title },
                "help": { "text": format!("`hawser explain {id}` prints the long explanation.") },
                "defaultConfiguration": { "level": level },
            })
        })
        .collect();
    if !drift.is_empty() {
        rules.push(json!({
            "id": DRIFT_RULE,
            "shortDescription": { "text": "generated output differs from what the spec produces" },
            "help": { "text": "Run `hawser generate` and commit the result; `hawser diff` shows the difference." },
            "defaultConfiguration": { "level": "error" },
        }));
        rule_ids.push(DRIFT_RULE);
    }
    let region = |span: Span| {
        let (start, end) = (index.position(span.start as usize), index.position(span.end as usize));
        json!({ "startLine": start.line, "startColumn": start.column, "endLine": end.line, "endColumn": end.column })
    };
    let location = |uri: &str, region: Option<Value>, message: Option<&str>| {
        let mut physical = json!({ "artifactLocation": { "uri": sarif_uri(uri) } });
        if let Some(r) = region {
            physical["region"] = r;
        }
        let mut loc = json!({ "physicalLocation": physical });
        if let Some(m) = message {
            loc["message"] = json!({ "text": m });
        }
        loc
    };
    let mut results: Vec<Value> = diags
        .iter()
        .map(|d| {
            let mut message = Report { d, source: &NamedSource::new(path, String::new()), text }.to_string();
            if let Some(help) = &d.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            let related: Vec<Value> = d
                .labels
                .iter()
                .filter(|l| !l.primary)
                .map(|l| location(path, Some(region(l.span)), Some(l.message.as_deref().unwrap_or("related"))))
                .collect();
            let mut r = json!({
                "ruleId": d.code.id,
                "ruleIndex": rule_ids.iter().position(|r| *r == d.code.id).unwrap_or(0),
                "level": if d.is_error() { "error" } else { "warning" },
                "message": { "text": message },
                "locations": [location(path, Some(region(d.primary_span())), None)],
            });
            if !related.is_empty() {
                r["relatedLocations"] = Value::Array(related);
            }
            r
        })
        .collect();
    for f in drift {
        results.push(json!({
            "ruleId": DRIFT_RULE,
            "ruleIndex": rule_ids.len() - 1,
            "level": "error",
            "message": { "text": f.message },
            "locations": [location(&f.path, None, None)],
            "properties": { "kind": f.kind },
        }));
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "hawser", "rules": rules } },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

/// A relative path as a SARIF URI reference: `/`-separated, with the characters that URIs
/// reserve percent-encoded.
fn sarif_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Maps byte offsets to lines and columns.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let column = self.text[self.starts[line]..offset].chars().count() + 1;
        Position { line: line + 1, column, offset }
    }

    /// The byte span of a 1-based line, without its newline.
    pub fn line_span(&self, line: usize) -> Option<Span> {
        let start = *self.starts.get(line.checked_sub(1)?)?;
        let end = self.starts.get(line).map_or(self.text.len(), |e| e - 1);
        Some(Span::new(start, end))
    }
}

/// Renders labelled spans of the spec as one advice-style report, for `hawser why`.
pub fn spans(path: &str, text: &str, message: &str, labels: &[(Span, String)], style: Style) -> String {
    struct Note<'a> {
        message: &'a str,
        source: NamedSource<String>,
        labels: Vec<LabeledSpan>,
    }
    impl fmt::Debug for Note<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.message)
        }
    }
    impl fmt::Display for Note<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.message)
        }
    }
    impl std::error::Error for Note<'_> {}
    impl miette::Diagnostic for Note<'_> {
        fn severity(&self) -> Option<miette::Severity> {
            Some(miette::Severity::Advice)
        }
        fn source_code(&self) -> Option<&dyn miette::SourceCode> {
            Some(&self.source)
        }
        fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
    let len = text.len();
    let note = Note {
        message,
        source: NamedSource::new(path, text.to_owned()),
        labels: labels
            .iter()
            .map(|(s, m)| {
                let start = (s.start as usize).min(len);
                let end = (s.end as usize).min(len).max(start);
                LabeledSpan::new_with_span(Some(m.clone()), SourceSpan::new(start.into(), end - start))
            })
            .collect(),
    };
    let theme = if style.color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let mut out = String::new();
    let _ = GraphicalReportHandler::new_themed(theme).with_width(style.width).with_links(false).render_report(&mut out, &note);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let idx = LineIndex::new("ab\nçd\n");
        let p = idx.position(5);
        assert_eq!((p.line, p.column), (2, 2));
        assert_eq!(idx.position(0).line, 1);
        assert_eq!(idx.position(100).line, 3);
    }
}
