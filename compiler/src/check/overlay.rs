//! Environment overlays: an environment's `service`, `job`, `external` and `secret` nodes
//! applied on top of the base spec, giving the document that environment sees.
//!
//! Merging works on syntax nodes, guided by the schema, so every value keeps the span it
//! was written at: an error found after merging points at the overlay line that caused it.
//! Rules: scalars replace; maps (`env`, `labels`, …) merge by key and `KEY #null` removes a
//! key; lists (arguments such as `depends-on`) replace; keyed nodes (`port "http" …`)
//! merge by key; single nodes (`health`, `cpu`) merge recursively, property by property.

use crate::check::schema::{NodeSchema, Schema};
use crate::diagnostics::{self as diag, Diagnostic};
use crate::syntax::{Document, Entry, Node, Value};

const OVERLAYABLE: [&str; 4] = ["service", "job", "external", "secret"];
const SECRET_SOURCES: [&str; 4] = ["vault", "env", "file", "kubernetes"];

/// The base document with `env`'s overlays applied, without any environment node.
pub fn apply(base: &Document, env: &Node, schema: &Schema, diags: &mut Vec<Diagnostic>) -> Document {
    let mut nodes: Vec<Node> = base.nodes.iter().filter(|n| n.name.value != "environment").cloned().collect();
    let env_name = first_string(env).unwrap_or_default();
    for ov in env.children() {
        let kind = ov.name.value.as_str();
        if !OVERLAYABLE.contains(&kind) {
            continue;
        }
        let Some(name) = first_string(ov) else { continue };
        let Some(kind_schema) = schema.root.child(kind) else { continue };
        let target = nodes.iter_mut().find(|n| n.name.value == kind && first_string(n).as_deref() == Some(name.as_str()));
        match target {
            Some(target) => {
                if matches!(kind, "service" | "job") {
                    let scheduled = |n: &Node| n.prop("schedule").is_some_and(|e| e.value != Value::Null);
                    if let Some(p) = ov.props.iter().find(|p| p.key.value == "schedule")
                        && scheduled(target) != scheduled(ov)
                    {
                        diags.push(diag::not_overridable(
                            "schedule",
                            p.key.span,
                            "a job is either scheduled or run once in every environment (a CronJob or a Job, a timer or a oneshot); the schedule itself may change, but not whether there is one",
                        ));
                    }
                    crate::check::images::overlay_checks(ov, diags);
                    for child in ov.children().iter().filter(|c| c.name.value == "build") {
                        diags.push(diag::not_overridable(
                            "build",
                            child.name.span,
                            "build scripts and images do not depend on the environment; run a different build with a separate workload, or a prebuilt `image`",
                        ));
                    }
                }
                if kind == "secret" && ov.props.iter().any(|p| SECRET_SOURCES.contains(&p.key.value.as_str())) {
                    // A secret has one source: the overlay's replaces the base's.
                    target.props.retain(|p| !SECRET_SOURCES.contains(&p.key.value.as_str()));
                }
                merge(target, ov, kind_schema);
            }
            None => {
                let name_span = ov.args.first().map_or(ov.name.span, |a| a.span);
                let other = base
                    .nodes
                    .iter()
                    .find(|n| matches!(n.name.value.as_str(), "service" | "job") && first_string(n).as_deref() == Some(name.as_str()));
                match other {
                    Some(decl) if matches!(kind, "service" | "job") => {
                        diags.push(diag::overlay_kind(kind, &name, &decl.name.value, ov.name.span, decl.head_span()));
                    }
                    _ => {
                        let known: Vec<String> = base.nodes.iter().filter(|n| n.name.value == kind).filter_map(first_string).collect();
                        diags.push(diag::unknown_overlay(
                            kind,
                            &name,
                            name_span,
                            &env_name,
                            &known.iter().map(String::as_str).collect::<Vec<_>>(),
                        ));
                    }
                }
            }
        }
    }
    Document { nodes }
}

/// Whether a child of an environment is an overlay.
pub fn is_overlay(n: &Node) -> bool {
    OVERLAYABLE.contains(&n.name.value.as_str())
}

fn first_string(n: &Node) -> Option<String> {
    match n.args.first() {
        Some(Entry { value: Value::String(s), .. }) => Some(s.clone()),
        _ => None,
    }
}

/// Merges `ov` into `base`, both nodes of the kind `schema` describes.
fn merge(base: &mut Node, ov: &Node, schema: &NodeSchema) {
    // A health check that says what it checks is a new check, not a change to the old one.
    if schema.args.first().is_some_and(|a| a.ty.name == "probe") && !ov.args.is_empty() {
        *base = ov.clone();
        return;
    }
    // Arguments: a keyed node keeps its key; the rest replace as a whole.
    if schema.keyed {
        if ov.args.len() > 1 {
            base.args.truncate(1);
            base.args.extend(ov.args[1..].iter().cloned());
        }
    } else if !ov.args.is_empty() {
        base.args = ov.args.clone();
    }
    for p in &ov.props {
        let existing = base.props.iter().position(|b| b.key.value == p.key.value);
        let removes = p.value.value == Value::Null && schema.free_props.is_some();
        match (existing, removes) {
            (Some(i), true) => {
                base.props.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => base.props[i] = p.clone(),
            (None, false) => base.props.push(p.clone()),
        }
    }
    let Some(ov_children) = &ov.children else { return };
    let children = base.children.get_or_insert_with(Vec::new);
    if schema.map.is_some() {
        for c in ov_children {
            children.retain(|b| b.name.value != c.name.value);
            let removes = matches!(c.args.as_slice(), [Entry { value: Value::Null, ty: None, .. }]);
            if !removes {
                children.push(c.clone());
            }
        }
        return;
    }
    let mut replaced_lists: Vec<&str> = Vec::new();
    for c in ov_children {
        let name = c.name.value.as_str();
        let Some(cs) = schema.child(name) else {
            // Unknown here: carried over so that checking reports it at the overlay.
            children.push(c.clone());
            continue;
        };
        if cs.keyed {
            let key = first_string(c);
            match children.iter_mut().find(|b| b.name.value == name && first_string(b) == key) {
                Some(b) => merge(b, c, cs),
                None => children.push(c.clone()),
            }
        } else if cs.repeat {
            if !replaced_lists.contains(&name) {
                children.retain(|b| b.name.value != name);
                replaced_lists.push(name);
            }
            children.push(c.clone());
        } else {
            match children.iter_mut().find(|b| b.name.value == name) {
                Some(b) => merge(b, c, cs),
                None => children.push(c.clone()),
            }
        }
    }
}
