//! Edits the server offers: formatting through `hawser fmt` as the smallest set of line
//! changes, and quick fixes for diagnostics (did-you-mean, a credential made a secret
//! reference, a missing readiness check or memory limit, a warning acknowledged).

use crate::diagnostics::{Diagnostic, code};
use crate::span::Span;
use crate::syntax::format::Formatted;
use crate::syntax::{Document, Node};

use super::tree;

/// Replace `span` of the text with `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub text: String,
}

/// A quick fix: its title, the diagnostic it fixes and its edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub title: String,
    pub fixes: Diagnostic,
    pub edits: Vec<Edit>,
    pub preferred: bool,
}

/// The edits that format the text: only the lines that change, so the editor keeps the
/// cursor and undo history elsewhere. An error says why nothing can be formatted.
pub fn format_edits(text: &str) -> Result<Vec<Edit>, String> {
    let formatted = match crate::cli::fmt::format_text(text).1 {
        Formatted::Text(t) => t,
        Formatted::SyntaxErrors(_) => return Err("the spec has syntax errors: fix them first".to_owned()),
        Formatted::Refused(why) => return Err(format!("not formatted: {why}")),
    };
    let old: Vec<&str> = text.split_inclusive('\n').collect();
    let new: Vec<&str> = formatted.split_inclusive('\n').collect();
    let mut starts = Vec::with_capacity(old.len() + 1);
    let mut at = 0;
    for l in &old {
        starts.push(at);
        at += l.len();
    }
    starts.push(at);
    let mut edits = Vec::new();
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old, &new) {
        if matches!(op, similar::DiffOp::Equal { .. }) {
            continue;
        }
        let (o, n) = (op.old_range(), op.new_range());
        edits.push(Edit { span: Span::new(starts[o.start], starts[o.end]), text: new[n].concat() });
    }
    Ok(edits)
}

/// The quick fixes for the diagnostics that overlap `range`.
pub fn code_actions(text: &str, doc: Option<&Document>, diagnostics: &[Diagnostic], range: Span) -> Vec<Action> {
    let mut out = Vec::new();
    for d in diagnostics {
        let span = d.primary_span();
        if span.end < range.start || span.start > range.end {
            continue;
        }
        if let Some(name) = d.suggestion() {
            let quoted = text.get(span.range()).is_some_and(|t| t.starts_with('"'));
            let replacement = if quoted { format!("\"{name}\"") } else { name.to_owned() };
            out.push(Action {
                title: format!("Replace with `{name}`"),
                fixes: d.clone(),
                edits: vec![Edit { span, text: replacement }],
                preferred: true,
            });
        }
        let Some(doc) = doc else { continue };
        if d.code == code::CREDENTIAL_LITERAL
            && let Some(a) = make_secret(text, doc, d)
        {
            out.push(a);
        }
        let workload = doc
            .nodes
            .iter()
            .find(|n| matches!(n.name.value.as_str(), "service" | "job") && n.span.start <= span.start && span.end <= n.span.end);
        if let Some(w) = workload {
            if d.code == code::NO_READINESS
                && let Some(a) = add_readiness(text, w, d)
            {
                out.push(a);
            }
            if d.code == code::NO_MEMORY_LIMIT {
                out.push(add_memory_limit(text, w, d));
            }
        }
        if d.code.id.starts_with('W') {
            let target = workload.or_else(|| doc.nodes.iter().find(|n| n.name.value == "project"));
            if let Some(t) = target {
                let line = format!("allow \"{}\" reason=\"say why this risk is accepted\"", d.code.id);
                out.push(Action {
                    title: format!(
                        "Acknowledge {} with `allow` in `{} {}`",
                        d.code.id,
                        t.name.value,
                        tree::first_string(t).unwrap_or_default()
                    ),
                    fixes: d.clone(),
                    edits: vec![insert_child(text, t, &line)],
                    preferred: false,
                });
            }
        }
    }
    out
}

/// `KEY "literal"` becomes `KEY (secret)"key"`, and the secret is declared (from the deploy
/// step's environment variable of the same name) when it is not already.
fn make_secret(text: &str, doc: &Document, d: &Diagnostic) -> Option<Action> {
    let span = d.primary_span();
    let found = tree::locate(doc, span.start as usize)?;
    let key = found.node().name.value.clone();
    let secret = key.to_ascii_lowercase().replace('_', "-");
    let entry = found.node().args.first()?;
    let mut edits = vec![Edit { span: entry.entry_span, text: format!("(secret)\"{secret}\"") }];
    let declared = doc.nodes.iter().any(|n| n.name.value == "secret" && tree::first_string(n) == Some(secret.as_str()));
    if !declared {
        let first = doc.nodes.iter().find(|n| matches!(n.name.value.as_str(), "service" | "job" | "environment"))?;
        let at = line_start(text, first.span.start as usize);
        edits.push(Edit { span: Span::new(at, at), text: format!("secret \"{secret}\" env=\"{key}\"\n\n") });
    }
    Some(Action { title: format!("Make `{key}` a secret reference"), fixes: d.clone(), edits, preferred: true })
}

fn add_readiness(text: &str, w: &Node, d: &Diagnostic) -> Option<Action> {
    let port = w.children().iter().find(|c| c.name.value == "port").and_then(tree::first_string)?;
    let ready = format!("ready \"/readyz\" port=\"{port}\"");
    let edit = match w.children().iter().find(|c| c.name.value == "health") {
        Some(health) => insert_child(text, health, &ready),
        None => insert_child(text, w, &format!("health {{ {ready}; }}")),
    };
    Some(Action { title: format!("Add a readiness check on port `{port}`"), fixes: d.clone(), edits: vec![edit], preferred: true })
}

fn add_memory_limit(text: &str, w: &Node, d: &Diagnostic) -> Action {
    let edit = match w.children().iter().find(|c| c.name.value == "memory") {
        Some(memory) => {
            // A limit equal to the request: the pod's memory is then Guaranteed.
            let request = memory.prop("request").and_then(|e| text.get(e.span.range())).unwrap_or("\"512Mi\"");
            let end = memory.head_span().end as usize;
            Edit { span: Span::new(end, end), text: format!(" limit={request}") }
        }
        None => insert_child(text, w, "memory request=\"256Mi\" limit=\"512Mi\""),
    };
    Action { title: "Add a memory limit".to_owned(), fixes: d.clone(), edits: vec![edit], preferred: true }
}

/// Inserts `line` as the last child of `node`, indented like its siblings.
fn insert_child(text: &str, node: &Node, line: &str) -> Edit {
    let indent = indentation(text, node.span.start as usize);
    let end = node.span.end as usize;
    if node.children.is_none() {
        return Edit { span: Span::new(end, end), text: format!(" {{\n{indent}    {line}\n{indent}}}") };
    }
    // The closing brace: on a line of its own, or after other text (`{ a; }`).
    let brace = text.get(..end).and_then(|t| t.rfind('}')).unwrap_or(end);
    let start = line_start(text, brace);
    if text.get(start..brace).is_some_and(|t| t.trim().is_empty()) {
        Edit { span: Span::new(start, start), text: format!("{indent}    {line}\n") }
    } else {
        let after_terminator = text.get(..brace).map(str::trim_end).is_some_and(|t| t.ends_with(';') || t.ends_with('{'));
        let separator = if after_terminator { "" } else { "; " };
        Edit { span: Span::new(brace, brace), text: format!("{separator}{line}; ") }
    }
}

fn line_start(text: &str, offset: usize) -> usize {
    text.get(..offset).and_then(|t| t.rfind(['\n', '\r'])).map_or(0, |i| i + 1)
}

fn indentation(text: &str, offset: usize) -> String {
    let start = line_start(text, offset);
    text.get(start..offset).unwrap_or_default().chars().take_while(|c| *c == ' ' || *c == '\t').collect()
}
