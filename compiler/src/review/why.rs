//! `hawser why FILE:LINE`: which spec nodes produce a generated line.
//!
//! The source map is recomputed, not stored, and it is exact: every value of the spec (each
//! argument and property) is perturbed in turn — a number moved by one, a quantity or
//! duration by one unit, a boolean flipped, other strings extended — and so is the presence
//! of every node (it is left out). Whatever change to the spec changes the line, produced
//! the line. A perturbation that makes the spec invalid tells nothing and is skipped. The
//! same function answers the other direction (which output lines a node produces), which
//! is what the LSP shows for a node.
//!
//! Cost: one check and one generation per value of the spec, a few milliseconds each for
//! specs of the examples' size.

use crate::emit::{self, Artifacts, Options};
use crate::span::Span;
use crate::syntax::{self, Entry, Node, Value};

/// One spec location that produces the line, and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub span: Span,
    /// `value` when changing the value changes the line; `node` when removing the node does.
    pub kind: OriginKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginKind {
    Value,
    Node,
}

/// The spec locations whose change changes line `line` (1-based) of `path`, in source
/// order; values before nodes at the same place. `None` when the spec has errors.
pub fn origins(text: &str, opts: &Options, path: &str, line: usize) -> Option<Vec<Origin>> {
    let reference = generate(text, opts)?;
    let file = reference.files.get(path)?;
    let target = file.contents.lines().nth(line.checked_sub(1)?)?.to_owned();
    let (doc, _) = syntax::parse(text);
    let doc = doc?;
    let mut out = Vec::new();
    let mut edits: Vec<(Span, String, OriginKind, Span)> = Vec::new();
    let mut extents: Vec<Span> = Vec::new();
    collect(&doc.nodes, &mut edits);
    for (replace, with, kind, report) in edits {
        let mut mutated = String::with_capacity(text.len() + with.len());
        mutated.push_str(&text[..replace.start as usize]);
        mutated.push_str(&with);
        mutated.push_str(&text[replace.end as usize..]);
        let Some(after) = generate(&mutated, opts) else { continue };
        if line_changed(&file.contents, after.files.get(path).map(|a| a.contents.as_str()), line, &target) {
            out.push(Origin { span: report, kind });
            extents.push(replace);
        }
    }
    // The configuration files the spec names: each is changed on every line in turn (all
    // at once), and the `source=` values naming it are reported when that changes the line.
    if let Some(spec) = crate::check(text).spec {
        let mut by_key: std::collections::BTreeMap<String, Vec<Span>> = std::collections::BTreeMap::new();
        for n in crate::check::inputs::namings(&spec) {
            by_key.entry(n.key).or_default().push(n.span);
        }
        for (key, spans) in by_key {
            let Some(contents) = opts.inputs.get(&key) else { continue };
            let mut changed = opts.clone();
            changed.inputs.insert(key, contents.lines().map(|l| format!("{l}~\n")).collect::<String>() + "~");
            let Some(after) = emit::generate(&crate::check(text).spec?, &changed).ok() else { continue };
            if line_changed(&file.contents, after.files.get(path).map(|a| a.contents.as_str()), line, &target) {
                for span in spans {
                    let report = property_span(&doc.nodes, span).unwrap_or(span);
                    out.push(Origin { span: report, kind: OriginKind::Value });
                    extents.push(span);
                }
            }
        }
    }
    // A node whose own value is named already needs no mention of its own: removing it
    // removes that value.
    let values: Vec<Span> = out.iter().filter(|o| o.kind == OriginKind::Value).map(|o| o.span).collect();
    let mut kept = Vec::new();
    for (o, extent) in out.into_iter().zip(extents) {
        let covers_a_value = values.iter().any(|v| extent.start <= v.start && v.end <= extent.end);
        if o.kind == OriginKind::Value || !covers_a_value {
            kept.push(o);
        }
    }
    let mut out = kept;
    out.sort_by_key(|o| (o.span.start, o.kind == OriginKind::Node, o.span.end));
    out.dedup();
    Some(out)
}

fn generate(text: &str, opts: &Options) -> Option<Artifacts> {
    let analysis = crate::check(text);
    if analysis.has_errors() {
        return None;
    }
    emit::generate(analysis.spec.as_ref()?, opts).ok()
}

/// Whether line `line` of `before` (whose text is `target`) is changed or gone in `after`.
fn line_changed(before: &str, after: Option<&str>, line: usize, target: &str) -> bool {
    let Some(after) = after else { return true };
    let diff = similar::TextDiff::from_lines(before, after);
    for op in diff.ops() {
        let old = op.old_range();
        if old.contains(&(line - 1)) {
            return !matches!(op.tag(), similar::DiffTag::Equal);
        }
    }
    // Past every op: unchanged unless the file got shorter.
    !after.lines().any(|l| l == target)
}

/// The whole `key=value` of the property whose value is at `value`.
fn property_span(nodes: &[Node], value: Span) -> Option<Span> {
    nodes.iter().find_map(|n| {
        n.props.iter().find(|p| p.value.span == value).map(|p| p.value.entry_span).or_else(|| property_span(n.children(), value))
    })
}

/// Every perturbation of the spec: (what to replace, with what, kind, what to report).
fn collect(nodes: &[Node], out: &mut Vec<(Span, String, OriginKind, Span)>) {
    for n in nodes {
        // Values: arguments and properties.
        let entries = n.args.iter().map(|e| (e, e.entry_span)).chain(n.props.iter().map(|p| (&p.value, p.value.entry_span)));
        for (entry, report) in entries {
            if let Some(with) = perturb(entry) {
                out.push((entry.span, with, OriginKind::Value, report));
            }
        }
        // Presence: the node left out (its whole line(s)).
        out.push((n.span, String::new(), OriginKind::Node, n.head_span()));
        collect(n.children(), out);
    }
}

/// A nearby, usually still valid, different value.
fn perturb(entry: &Entry) -> Option<String> {
    match &entry.value {
        Value::Int(i) => Some((if *i > 1 { i - 1 } else { i + 1 }).to_string()),
        Value::Float(f) => Some(format!("{}", f + 0.25)),
        Value::Bool(b) => Some(if *b { "#false".to_owned() } else { "#true".to_owned() }),
        Value::Null => None,
        Value::String(s) => {
            // A number with a unit (`250m`, `512Mi`, `30s`, `1.4.2`): move its first number.
            let start = s.find(|c: char| c.is_ascii_digit());
            let with = match start {
                Some(i) => {
                    let end = s[i..].find(|c: char| !c.is_ascii_digit()).map_or(s.len(), |e| i + e);
                    let n: u64 = s[i..end].parse().ok()?;
                    format!("{}{}{}", &s[..i], if n > 1 { n - 1 } else { n + 1 }, &s[end..])
                }
                None if s.starts_with('/') => format!("{s}x"),
                None => format!("{s}-x"),
            };
            // The value's span excludes any `(secret)` annotation, which stays.
            Some(quote(&with))
        }
    }
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"project "shop" {
    version "1.0.0"
}
service "api" {
    build "go" main="./cmd/api"
    port "http" 8080
    memory request="128Mi" limit="256Mi"
    health {
        ready "/readyz" port="http"
    }
}
environment "dev" {
    runs-on "systemd" {
        host "dev-1.internal"
    }
}
"#;

    #[test]
    fn memory_max_comes_from_the_memory_limit() {
        let opts = Options { spec_name: "hawser.kdl".into(), ..Options::default() };
        let a = generate(SPEC, &opts).unwrap();
        let unit = &a.files["systemd/dev/shop-api.service"];
        let line = unit.contents.lines().position(|l| l.starts_with("MemoryMax=")).unwrap() + 1;
        let found = origins(SPEC, &opts, "systemd/dev/shop-api.service", line).unwrap();
        let texts: Vec<&str> = found.iter().map(|o| &SPEC[o.span.range()]).collect();
        assert!(texts.contains(&"limit=\"256Mi\""), "{texts:?}");
        assert!(!texts.iter().any(|t| t.contains("8080")), "{texts:?}");
    }

    /// A line of a configuration file's copy (on a host, and in a ConfigMap) comes from the
    /// file: the `source=` that names it is among the answers.
    #[test]
    fn a_configuration_file_line_comes_from_its_source() {
        let spec = SPEC
            .replace("    memory request=", "    file \"/etc/api/config.yaml\" source=\"./config/api.yaml\"\n    memory request=")
            + "environment \"prod\" {\n    runs-on \"kubernetes\" namespace=\"shop\"\n}\n";
        let mut opts = Options { spec_name: "hawser.kdl".into(), ..Options::default() };
        opts.inputs.insert("config/api.yaml".into(), "listen: 8080\nlevel: info\n".into());
        for (path, wanted) in [("systemd/dev/files/shop-api/config.yaml", "level: info"), ("kubernetes/prod/api.yaml", "config.yaml: ")] {
            let a = generate(&spec, &opts).expect("generates");
            let line = a.files[path].contents.lines().position(|l| l.contains(wanted)).expect("the line") + 1;
            let found = origins(&spec, &opts, path, line).unwrap();
            let texts: Vec<&str> = found.iter().map(|o| &spec[o.span.range()]).collect();
            // The names that make the file's own path (project, workload, environment, the
            // file's path) produce it too; nothing else of the spec does.
            assert!(texts.contains(&"source=\"./config/api.yaml\""), "{path}:{line}: {texts:?}");
            assert!(!texts.iter().any(|t| t.contains("Mi") || t.contains("8080") || t.contains("readyz")), "{path}:{line}: {texts:?}");
        }
    }
}
