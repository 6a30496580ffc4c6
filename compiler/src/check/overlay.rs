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
use crate::syntax::{Document, Entry, Node, Prop, Value};
use std::collections::{BTreeMap, VecDeque};

const OVERLAYABLE: [&str; 4] = ["service", "job", "external", "secret"];
const SECRET_SOURCES: [&str; 4] = ["vault", "env", "file", "kubernetes"];

/// The base document with `env`'s overlays applied, without any environment node.
///
/// Each overlay finds the declaration it changes through an index of the base's
/// declarations by kind and name, built once: applying an environment costs the size of
/// the spec plus its overlays, not their product.
pub fn apply(base: &Document, env: &Node, schema: &Schema, diags: &mut Vec<Diagnostic>) -> Document {
    let mut nodes: Vec<Node> = base.nodes.iter().filter(|n| n.name.value != "environment").cloned().collect();
    // Where the first declaration of each kind and name is in `nodes`: the one an overlay
    // changes. Borrowed from `base`, whose declarations are `nodes` in the same order.
    let mut declared: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (i, n) in base.nodes.iter().filter(|n| n.name.value != "environment").enumerate() {
        if let Some(name) = first_string(n) {
            declared.entry((n.name.value.as_str(), name)).or_insert(i);
        }
    }
    let env_name = first_string(env).unwrap_or_default();
    for ov in env.children() {
        let kind = ov.name.value.as_str();
        if !OVERLAYABLE.contains(&kind) {
            continue;
        }
        let Some(name) = first_string(ov) else { continue };
        let Some(kind_schema) = schema.root.child(kind) else { continue };
        match declared.get(&(kind, name)) {
            Some(&i) => {
                let target = &mut nodes[i];
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
                let other = ["service", "job"].into_iter().find_map(|k| declared.get(&(k, name)).map(|&i| &nodes[i]));
                match other {
                    Some(decl) if matches!(kind, "service" | "job") => {
                        diags.push(diag::overlay_kind(kind, name, &decl.name.value, ov.name.span, decl.head_span()));
                    }
                    _ => {
                        let known: Vec<&str> = base.nodes.iter().filter(|n| n.name.value == kind).filter_map(first_string).collect();
                        diags.push(diag::unknown_overlay(kind, name, name_span, env_name, &known));
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

fn first_string(n: &Node) -> Option<&str> {
    match n.args.first() {
        Some(Entry { value: Value::String(s), .. }) => Some(s),
        _ => None,
    }
}

/// The certificate sources of an `expose`'s `tls`, in groups: a `tls` has one source, so an
/// overlay that gives a property of one group replaces the base's other groups.
const TLS_SOURCES: [&[&str]; 3] = [&["issuer", "issuer-kind"], &["secret"], &["certificate", "key"]];

fn replace_tls_source(base: &mut Node, ov: &Node, schema: &NodeSchema) {
    if schema.name != "tls" || schema.prop("issuer").is_none() {
        return;
    }
    for group in TLS_SOURCES {
        if ov.props.iter().any(|p| group.contains(&p.key.value.as_str())) {
            base.props.retain(|p| group.contains(&p.key.value.as_str()) || !TLS_SOURCES.iter().any(|g| g.contains(&p.key.value.as_str())));
        }
    }
}

/// Merges `ov` into `base`, both nodes of the kind `schema` describes.
///
/// Properties and children are matched through indexes built once per merge, so that a
/// node with many of them (a spec may hold thousands) merges in time proportional to
/// their number.
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
    replace_tls_source(base, ov, schema);
    merge_props(&mut base.props, &ov.props, schema.free_props.is_some());
    let Some(ov_children) = &ov.children else { return };
    let children = base.children.get_or_insert_with(Vec::new);
    if schema.map.is_some() {
        // A map: each key the overlay names replaces (or, with `#null`, removes) the base's;
        // when the overlay names a key twice, its last entry counts.
        let last: BTreeMap<&str, usize> = ov_children.iter().enumerate().map(|(i, c)| (c.name.value.as_str(), i)).collect();
        children.retain(|b| !last.contains_key(b.name.value.as_str()));
        for (i, c) in ov_children.iter().enumerate() {
            let removes = matches!(c.args.as_slice(), [Entry { value: Value::Null, ty: None, .. }]);
            if last.get(c.name.value.as_str()) == Some(&i) && !removes {
                children.push(c.clone());
            }
        }
        return;
    }
    // The base's children, where an overlay child may merge into them: single nodes by
    // name, keyed nodes by name and key; the first of each, as the spec reads.
    let mut slots: Vec<Option<Node>> = std::mem::take(children).into_iter().map(Some).collect();
    let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_key: BTreeMap<(String, Option<String>), usize> = BTreeMap::new();
    for (i, b) in slots.iter().flatten().enumerate() {
        let name = &b.name.value;
        if let Some(cs) = schema.child(name) {
            if cs.keyed {
                by_key.entry((name.clone(), first_string(b).map(str::to_owned))).or_insert(i);
            } else if !cs.repeat {
                by_name.entry(name.clone()).or_insert(i);
            }
        }
    }
    let mut replaced_lists: Vec<&str> = Vec::new();
    for c in ov_children {
        let name = c.name.value.as_str();
        let Some(cs) = schema.child(name) else {
            // Unknown here: carried over so that checking reports it at the overlay.
            slots.push(Some(c.clone()));
            continue;
        };
        if cs.repeat && !cs.keyed {
            // A list: the overlay's items replace the base's, all of them.
            if !replaced_lists.contains(&name) {
                for slot in &mut slots {
                    if slot.as_ref().is_some_and(|b| b.name.value == name) {
                        *slot = None;
                    }
                }
                replaced_lists.push(name);
            }
            slots.push(Some(c.clone()));
            continue;
        }
        let found =
            if cs.keyed { by_key.get(&(name.to_owned(), first_string(c).map(str::to_owned))).copied() } else { by_name.get(name).copied() };
        match found.and_then(|i| slots[i].as_mut()) {
            Some(b) => merge(b, c, cs),
            None => {
                let at = slots.len();
                if cs.keyed {
                    by_key.insert((name.to_owned(), first_string(c).map(str::to_owned)), at);
                } else {
                    by_name.insert(name.to_owned(), at);
                }
                slots.push(Some(c.clone()));
            }
        }
    }
    *children = slots.into_iter().flatten().collect();
}

/// Merges the overlay's properties into the base's: each replaces the first of the base's
/// of its key, or is added; with free-form properties, `KEY=#null` removes that one.
fn merge_props(base: &mut Vec<Prop>, ov: &[Prop], free: bool) {
    if ov.is_empty() {
        return;
    }
    let mut slots: Vec<Option<Prop>> = std::mem::take(base).into_iter().map(Some).collect();
    // Every place a key is at, in order: a removed one leaves the next in charge.
    let mut at: BTreeMap<String, VecDeque<usize>> = BTreeMap::new();
    for (i, p) in slots.iter().flatten().enumerate() {
        at.entry(p.key.value.clone()).or_default().push_back(i);
    }
    for p in ov {
        let removes = p.value.value == Value::Null && free;
        let places = at.entry(p.key.value.clone()).or_default();
        while places.front().is_some_and(|&i| slots[i].is_none()) {
            places.pop_front();
        }
        let existing = places.front().copied();
        match (existing, removes) {
            (Some(i), true) => slots[i] = None,
            (None, true) => {}
            (Some(i), false) => slots[i] = Some(p.clone()),
            (None, false) => {
                places.push_back(slots.len());
                slots.push(Some(p.clone()));
            }
        }
    }
    *base = slots.into_iter().flatten().collect();
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::syntax;

    /// The merge as it was first written: each overlay scanned every declaration, and
    /// each child and property the node's others. Kept as the specification the indexed
    /// merge must agree with.
    mod reference {
        use super::super::{OVERLAYABLE, SECRET_SOURCES};
        use crate::check::schema::{NodeSchema, Schema};
        use crate::diagnostics::{self as diag, Diagnostic};
        use crate::syntax::{Document, Entry, Node, Value};

        pub(super) fn apply(base: &Document, env: &Node, schema: &Schema, diags: &mut Vec<Diagnostic>) -> Document {
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
                        let other = base.nodes.iter().find(|n| {
                            matches!(n.name.value.as_str(), "service" | "job") && first_string(n).as_deref() == Some(name.as_str())
                        });
                        match other {
                            Some(decl) if matches!(kind, "service" | "job") => {
                                diags.push(diag::overlay_kind(kind, &name, &decl.name.value, ov.name.span, decl.head_span()));
                            }
                            _ => {
                                let known: Vec<String> =
                                    base.nodes.iter().filter(|n| n.name.value == kind).filter_map(first_string).collect();
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

        fn first_string(n: &Node) -> Option<String> {
            match n.args.first() {
                Some(Entry { value: Value::String(s), .. }) => Some(s.clone()),
                _ => None,
            }
        }

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
    }

    /// Lines a base service and an overlay may hold: every way of merging (scalars, keyed
    /// nodes, lists, maps with `#null`, free properties, probes, unknown nodes), with the
    /// same names often, so that they meet.
    const LINES: &[&str] = &[
        "replicas 1",
        "replicas 2",
        "port \"http\" 8080",
        "port \"http\" 9090 protocol=\"udp\"",
        "port \"metrics\" 9090",
        "port 5",
        "env { A \"1\"; B \"2\"; }",
        "env { A #null; C \"3\"; A \"4\"; }",
        "env { B #null; B \"5\"; }",
        "env { D \"1\"; A \"6\"; D \"2\"; }",
        "labels team=\"x\" tier=\"y\"",
        "labels team=#null",
        "labels tier=\"z\" tier=#null tier=\"w\"",
        "depends-on \"x\"",
        "depends-on \"y\" \"z\"",
        "cpu request=\"1\"",
        "cpu limit=\"2\" request=#null",
        "health { ready \"/r\" port=\"http\"; live \"/l\" port=\"http\"; }",
        "health { ready port=\"x\"; }",
        "health { ready \"/q\"; }",
        "unknown-thing 1",
        "allow \"W0104\" reason=\"r\"",
        "allow \"W0104\" reason=\"s\"",
        "allow \"W0105\" reason=\"t\"",
        "kubernetes { annotations a=\"1\" b=\"2\"; }",
        "kubernetes { annotations a=#null; node-selector z=\"1\"; }",
    ];

    /// Declarations an environment may overlay, known or not.
    const OVERLAYS: &[&str] = &[
        "service \"a\"",
        "service \"b\"",
        "service \"zz\"",
        "job \"a\"",
        "job \"j\"",
        "external \"db\" port=6",
        "secret \"s\" env=\"X\"",
        "secret \"t\"",
    ];

    fn block(lines: &[usize]) -> String {
        lines.iter().map(|&i| format!("    {}\n", LINES[i])).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        /// The indexed merge gives the document and the diagnostics the scanning merge
        /// gave, on random bases and overlays.
        #[test]
        fn indexed_merge_agrees_with_the_reference(
            a in prop::collection::vec(0..LINES.len(), 0..6),
            b in prop::collection::vec(0..LINES.len(), 0..6),
            overlays in prop::collection::vec((0..OVERLAYS.len(), prop::collection::vec(0..LINES.len(), 0..6)), 0..5),
        ) {
            let mut text = format!("service \"a\" {{\n{}}}\nservice \"b\" {{\n{}}}\njob \"j\" schedule=\"0 1 * * *\" {{\n}}\n", block(&a), block(&b));
            text.push_str("external \"db\" host=\"h\" port=5\nsecret \"s\" vault=\"kv/a#b\"\nservice \"a\" {\n    replicas 7\n}\n");
            text.push_str("environment \"e\" {\n");
            for (o, lines) in &overlays {
                text.push_str(&format!("{} {{\n{}}}\n", OVERLAYS[*o], block(lines)));
            }
            text.push_str("}\n");
            let (doc, _) = syntax::parse(&text);
            let doc = doc.expect("the generated spec parses");
            let env = doc.nodes.iter().find(|n| n.name.value == "environment").expect("an environment");
            let schema = crate::check::schema::schema();
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            let merged = super::apply(&doc, env, schema, &mut ours);
            let expected = reference::apply(&doc, env, schema, &mut theirs);
            prop_assert_eq!(merged, expected, "{}", text);
            prop_assert_eq!(format!("{ours:?}"), format!("{theirs:?}"));
        }
    }
}
