//! Inlay hints and code lenses as plain data: what hawser derives for each workload in each
//! environment, the values environments give a base setting, and the commands that show a
//! workload's generated files or the difference between two environments.

use crate::check::model::Spec;
use crate::check::schema;
use crate::cli::session;
use crate::span::Span;
use crate::syntax::{Document, Node};

use super::tree::{self, Part};

/// A hint after `offset`: a short label and a longer tooltip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub offset: usize,
    pub label: String,
    pub tooltip: Option<String>,
}

/// After each workload's head: instances, GOMEMLIMIT and QoS class in each environment.
pub fn derived(doc: &Document, spec: &Spec, range: Span) -> Vec<Hint> {
    let mut out = Vec::new();
    for n in doc.nodes.iter().filter(|n| matches!(n.name.value.as_str(), "service" | "job") && overlaps(n.span, range)) {
        let Some(name) = tree::first_string(n) else { continue };
        let rows = session::derived(spec, name);
        if rows.is_empty() {
            continue;
        }
        let label = rows
            .iter()
            .map(|r| {
                let mut parts = vec![format!("{}×", r.instances.split(' ').next().unwrap_or("?"))];
                parts.extend(r.gomemlimit.as_ref().map(|m| format!("GOMEMLIMIT={m}")));
                parts.extend(r.qos_class.map(str::to_owned));
                format!("{}: {}", r.environment, parts.join(" "))
            })
            .collect::<Vec<_>>()
            .join(" · ");
        let tooltip = rows
            .iter()
            .map(|r| {
                format!(
                    "{}: {} instance(s), GOMAXPROCS {}, GOMEMLIMIT {}{}",
                    r.environment,
                    r.instances,
                    r.gomaxprocs.map_or("unset".to_owned(), |p| p.to_string()),
                    r.gomemlimit.as_deref().unwrap_or("unset"),
                    r.qos_class.map(|q| format!(", QoS {q}")).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        out.push(Hint { offset: n.head_span().end as usize, label, tooltip: Some(tooltip) });
    }
    out
}

/// After each base value an environment overrides: `prod: "1Gi"`, one hint per value
/// listing every environment that changes it.
pub fn overrides(text: &str, doc: &Document, range: Span) -> Vec<Hint> {
    // (base value span) -> [(environment, overlay value text)]
    let mut found: Vec<(Span, String, String)> = Vec::new();
    for env in doc.nodes.iter().filter(|n| n.name.value == "environment") {
        let Some(env_name) = tree::first_string(env) else { continue };
        let env_schema = schema::schema().root.child("environment");
        for ov in env.children().iter().filter(|c| env_schema.and_then(|s| s.child(&c.name.value)).is_some_and(|s| s.overlay.is_some())) {
            let mut nodes = vec![env, ov];
            collect(text, doc, &mut nodes, env_name, &mut found);
        }
    }
    found.sort();
    let mut out: Vec<Hint> = Vec::new();
    for (span, env, value) in found {
        if !overlaps(span, range) {
            continue;
        }
        let item = format!("{env}: {value}");
        match out.last_mut() {
            Some(h) if h.offset == span.end as usize => h.label = format!("{} · {item}", h.label),
            _ => out.push(Hint { offset: span.end as usize, label: item, tooltip: None }),
        }
    }
    out
}

fn collect<'a>(text: &str, doc: &'a Document, nodes: &mut Vec<&'a Node>, env: &str, out: &mut Vec<(Span, String, String)>) {
    let node = nodes[nodes.len() - 1];
    if let Some(path) = tree::setting_path(nodes)
        && let Some(base) = tree::find(&doc.nodes, &path)
    {
        let skip = usize::from(path.len() == 1);
        for (i, a) in node.args.iter().enumerate().skip(skip) {
            if let Some(b) = value_span(base, &Part::Arg(i)) {
                out.push((b, env.to_owned(), text.get(a.span.range()).unwrap_or_default().to_owned()));
            }
        }
        for p in &node.props {
            if let Some(b) = value_span(base, &Part::PropValue(p.key.value.clone())) {
                out.push((b, env.to_owned(), text.get(p.value.span.range()).unwrap_or_default().to_owned()));
            }
        }
    }
    for c in node.children() {
        nodes.push(c);
        collect(text, doc, nodes, env, out);
        nodes.pop();
    }
}

fn value_span(node: &Node, part: &Part) -> Option<Span> {
    match part {
        Part::Arg(i) => node.args.get(*i).map(|a| a.span),
        Part::PropValue(k) => node.prop(k).map(|e| e.span),
        _ => None,
    }
}

fn overlaps(a: Span, b: Span) -> bool {
    a.start <= b.end && b.start <= a.end
}

/// A code lens: a span and a command with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lens {
    pub span: Span,
    pub title: String,
    pub command: &'static str,
    pub arguments: Vec<String>,
}

/// The command that returns a workload's generated files in one environment.
pub const SHOW_GENERATED: &str = "hawser.showGenerated";
/// The command that returns the diff between two environments' artifacts.
pub const DIFF_ENVIRONMENTS: &str = "hawser.diffEnvironments";

/// On each workload: its generated files in each environment that runs it. On each
/// environment: its diff with the next one.
pub fn lenses(doc: &Document, spec: &Spec) -> Vec<Lens> {
    let mut out = Vec::new();
    let envs: Vec<&str> = spec.environments.keys().map(String::as_str).collect();
    for n in &doc.nodes {
        let Some(name) = tree::first_string(n) else { continue };
        match n.name.value.as_str() {
            "service" | "job" => {
                for (env, e) in &spec.environments {
                    if e.view.workloads.contains_key(name) {
                        out.push(Lens {
                            span: n.name.span,
                            title: format!("generated in {env}"),
                            command: SHOW_GENERATED,
                            arguments: vec![name.to_owned(), env.clone()],
                        });
                    }
                }
            }
            "environment" if envs.len() > 1 => {
                let other = envs.iter().find(|e| **e != name).copied().unwrap_or_default();
                out.push(Lens {
                    span: n.name.span,
                    title: format!("diff with {other}"),
                    command: DIFF_ENVIRONMENTS,
                    arguments: vec![name.to_owned(), other.to_owned()],
                });
            }
            _ => {}
        }
    }
    out
}
