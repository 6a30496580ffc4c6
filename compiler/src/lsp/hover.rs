//! Hover text, as Markdown over a byte span: the schema's docs and type of a node or
//! property, a value's effective value in every environment and the overlay that set it,
//! the values hawser derives for a workload, a reference's declaration, and the long
//! explanation of a diagnostic under the cursor.

use std::fmt::Write;

use crate::check::Analysis;
use crate::check::overlay;
use crate::check::schema::{self, NodeSchema, Ty};
use crate::cli::session;
use crate::diagnostics::{self, Diagnostic};
use crate::span::Span;
use crate::syntax::{Document, Node};

use super::tree::{self, Described, Part};

/// What to show and the span it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hover {
    pub span: Span,
    pub markdown: String,
}

/// The hover at `offset`. `doc` is the parsed text (none on a syntax error); the analysis
/// is of the same text.
pub fn hover(text: &str, doc: Option<&Document>, analysis: &Analysis, offset: usize) -> Option<Hover> {
    let mut sections = Vec::new();
    let mut span = None;
    for d in analysis.diagnostics.iter().filter(|d| covers(d.primary_span(), offset)) {
        sections.push(explain(d));
        span.get_or_insert(d.primary_span());
    }
    if let Some(doc) = doc
        && let Some(found) = tree::locate(doc, offset)
    {
        let (s, mut md) = about(text, doc, analysis, &found);
        span = Some(s);
        md.append(&mut sections);
        sections = md;
    }
    let span = span?;
    (!sections.is_empty()).then(|| Hover { span, markdown: sections.join("\n\n---\n\n") })
}

fn covers(span: Span, offset: usize) -> bool {
    span.start as usize <= offset && offset <= span.end as usize
}

fn explain(d: &Diagnostic) -> String {
    let long = diagnostics::explain(d.code.id).unwrap_or_default();
    // The explanation's own heading repeats the code; the message comes first instead.
    let body = long.lines().skip_while(|l| l.starts_with("## ") || l.trim().is_empty()).collect::<Vec<_>>().join("\n");
    format!("**{}** {}: {}\n\n{}", d.code.id, d.code.title, d.message, body)
}

/// The hover sections for a located node part, and the span they describe.
fn about(text: &str, doc: &Document, analysis: &Analysis, found: &tree::Located<'_>) -> (Span, Vec<String>) {
    let node = found.node();
    let names = tree::names(&found.nodes);
    let described = tree::describe(&names);
    let mut out = Vec::new();
    let span = match &found.part {
        Part::Name => node.name.span,
        Part::Arg(i) => node.args[*i].span,
        Part::PropKey(k) | Part::PropValue(k) => {
            let p = node.props.iter().find(|p| &p.key.value == k).map(|p| (p.key.span, p.value.span));
            match (&found.part, p) {
                (Part::PropKey(_), Some((key, _))) => key,
                (_, Some((_, value))) => value,
                _ => node.name.span,
            }
        }
        Part::Inside => node.name.span,
    };
    match (&found.part, described) {
        (Part::Name, Described::Node(s)) => out.push(node_doc(s)),
        (Part::Name, Described::MapEntry { map }) => out.push(map_entry_doc(map)),
        (Part::PropKey(k) | Part::PropValue(k), Described::Node(s)) => {
            if let Some(p) = s.prop(k) {
                out.push(format!("`{}={}` ({})\n\n{}{}", k, placeholder(&p.ty), p.ty.name, p.doc, type_doc(&p.ty)));
            }
        }
        (Part::Arg(i), Described::Node(s)) => {
            if let Some(a) = tree::arg_schema(s, *i) {
                let doc = if a.doc.is_empty() { String::new() } else { format!("{}\n\n", a.doc) };
                out.push(format!("`{}` argument `{}` ({})\n\n{doc}{}", node.name.value, a.name, a.ty.name, type_doc(&a.ty).trim_start()));
            }
        }
        (Part::Arg(_), Described::MapEntry { map }) => out.push(map_entry_doc(map)),
        (Part::PropKey(k) | Part::PropValue(k), Described::MapEntry { map }) => {
            if let Some(p) = map.entry_props.iter().find(|p| &p.name == k) {
                out.push(format!("`{}={}` ({})\n\n{}{}", k, placeholder(&p.ty), p.ty.name, p.doc, type_doc(&p.ty)));
            }
        }
        _ => {}
    }
    // A reference: its declaration. Only values can be references; the walk over the
    // document is skipped for names.
    let occurrences = if found.entry().is_some() { tree::occurrences(doc) } else { Vec::new() };
    if let Some(at) = tree::occurrence_at(&occurrences, span.start as usize)
        && at.role != tree::Role::Declaration
        && let Some(decl) = tree::declaration(&occurrences, at)
    {
        out.push(format!(
            "{} `{}`, declared at line {}:\n```kdl\n{}\n```",
            at.kind.noun(),
            at.name,
            line_of(text, decl.span),
            line_text(text, decl.span)
        ));
    }
    // A workload's name: what hawser derives for it in each environment.
    let top = found.nodes[0];
    let is_workload_name =
        found.nodes.len() == 1 && matches!(top.name.value.as_str(), "service" | "job") && matches!(found.part, Part::Name | Part::Arg(0));
    if is_workload_name && let (Some(spec), Some(name)) = (&analysis.spec, tree::first_string(top)) {
        out.push(derived(spec, name));
    }
    // A value: what it is in each environment.
    if let Some(table) = effective(text, doc, analysis, found) {
        out.push(table);
    }
    if let Some(table) = resolved(analysis, found) {
        out.push(table);
    }
    (span, out)
}

/// For a reference in `env` (`CART_ADDR (address)"cart"`): the value it resolves to in
/// every environment, which is what the workload receives there.
fn resolved(analysis: &Analysis, found: &tree::Located<'_>) -> Option<String> {
    let entry = found.node();
    let annotation = entry.args.first()?.ty.as_ref()?;
    crate::check::model::ReferenceForm::from_annotation(&annotation.value)?;
    let names = tree::names(&found.nodes);
    if !matches!(tree::describe(&names), Described::MapEntry { .. }) {
        return None;
    }
    let workload = found.nodes.iter().find(|n| matches!(n.name.value.as_str(), "service" | "job")).and_then(|n| tree::first_string(n))?;
    let spec = analysis.spec.as_ref()?;
    let key = entry.name.value.as_str();
    let value = |view: &crate::check::model::View, env: Option<&crate::check::model::Environment>| -> String {
        let Some(w) = view.workloads.get(workload) else { return "does not run there".to_owned() };
        match w.env.get(key).map(|v| &v.value) {
            Some(crate::check::model::EnvValue::Reference(r)) => crate::check::references::resolve(view, env, workload, r)
                .map_or_else(|| "does not resolve (see the diagnostics)".to_owned(), |v| format!("`{}`", v.replace('|', "\\|"))),
            Some(crate::check::model::EnvValue::Literal(l)) => {
                format!("`{}` (a literal there)", l.value.replace('|', "\\|").replace('`', "'"))
            }
            Some(crate::check::model::EnvValue::Secret(_)) => "a secret there".to_owned(),
            None => "unset there".to_owned(),
        }
    };
    let mut md = String::from("**Resolves to**\n\n| environment | value |\n|---|---|\n");
    let _ = writeln!(md, "| (base, the chart's values.yaml) | {} |", value(&spec.base, None));
    for env in spec.environments.values() {
        let platform = env.platform.as_ref().map_or("", |p| p.name());
        let _ = writeln!(md, "| {} ({platform}) | {} |", env.name.value, value(&env.view, Some(env)));
    }
    Some(md.trim_end().to_owned())
}

fn node_doc(s: &NodeSchema) -> String {
    let mut md = format!("**{}**\n\n{}", s.name, s.doc);
    let args: Vec<String> =
        s.args.iter().map(|a| format!("`{}` ({}{})", a.name, a.ty.name, if a.optional { ", optional" } else { "" })).collect();
    if !args.is_empty() || s.rest.is_some() {
        let rest = s.rest.as_ref().map(|r| format!("`{}…` ({})", r.name, r.ty.name));
        let _ = write!(md, "\n\nArguments: {}", args.into_iter().chain(rest).collect::<Vec<_>>().join(", "));
    }
    if !s.props.is_empty() {
        let props: Vec<String> =
            s.props.iter().map(|p| format!("`{}=` ({}{})", p.name, p.ty.name, if p.required { ", required" } else { "" })).collect();
        let _ = write!(md, "\n\nProperties: {}", props.join(", "));
    }
    if !s.children.is_empty() {
        let children: Vec<String> = s.children.iter().map(|c| format!("`{}`", c.name)).collect();
        let _ = write!(md, "\n\nChildren: {}", children.join(", "));
    }
    md
}

fn map_entry_doc(map: &NodeSchema) -> String {
    let (key, value) = map.map.as_ref().map_or(("", ""), |(k, v)| (k.name.as_str(), v.name.as_str()));
    format!("an entry of `{}`: a key ({key}) and its value ({value})\n\n{}", map.name, map.doc)
}

fn placeholder(ty: &Ty) -> String {
    if ty.values.is_empty() { "…".to_owned() } else { format!("\"{}\"", ty.values.join("|")) }
}

fn type_doc(ty: &Ty) -> String {
    let mut s = String::new();
    if let Some(doc) = schema::schema().types.get(&ty.name)
        && ty.name != "enum"
    {
        let _ = write!(s, "\n\n*{}*: {doc}", ty.name);
    }
    if !ty.values.is_empty() {
        let _ = write!(s, "\n\nOne of: {}", ty.values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", "));
    }
    if let (Some(min), Some(max)) = (ty.min, ty.max) {
        let _ = write!(s, "\n\nFrom {min} to {max}.");
    }
    s
}

fn derived(spec: &crate::check::model::Spec, workload: &str) -> String {
    let rows = session::derived(spec, workload);
    if rows.is_empty() {
        return format!("`{workload}` runs in no environment.");
    }
    let mut md = String::from("| environment | platform | instances | GOMAXPROCS | GOMEMLIMIT | QoS class |\n|---|---|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            r.environment,
            r.platform.unwrap_or("?"),
            r.instances,
            r.gomaxprocs.map_or("unset (no CPU limit)".to_owned(), |p| p.to_string()),
            r.gomemlimit.unwrap_or_else(|| "unset (no memory limit)".to_owned()),
            r.qos_class.unwrap_or("—"),
        );
    }
    md.trim_end().to_owned()
}

/// For a value of a service, job, external or secret: what it is in every environment
/// after the overlays, and which overlay set it.
fn effective(text: &str, doc: &Document, analysis: &Analysis, found: &tree::Located<'_>) -> Option<String> {
    let path = tree::setting_path(&found.nodes)?;
    let names = tree::names(&found.nodes);
    let map_entry = matches!(tree::describe(&names), Described::MapEntry { .. });
    let part = match &found.part {
        Part::Arg(i) => Part::Arg(*i),
        Part::PropKey(k) | Part::PropValue(k) => Part::PropValue(k.clone()),
        Part::Name if map_entry => Part::Arg(0),
        _ => return None,
    };
    // The node's own name argument is its identity, the same everywhere.
    if path.len() == 1 && part == Part::Arg(0) {
        return None;
    }
    let top = tree::find(&doc.nodes, &path[..1])?;
    let base_only = Document { nodes: vec![top.clone()] };
    let mut md = String::from("| environment | value | set by |\n|---|---|---|\n");
    let mut rows = 0;
    let base_value = tree::find(&base_only.nodes, &path).and_then(|n| value_of(n, &part));
    let _ = writeln!(
        md,
        "| (base) | {} | {} |",
        cell(text, base_value),
        base_value.map_or("—".to_owned(), |s| format!("line {}", line_of(text, s)))
    );
    for env in doc.nodes.iter().filter(|n| n.name.value == "environment") {
        let Some(env_name) = tree::first_string(env) else { continue };
        let runs = analysis.spec.as_ref().and_then(|s| s.environments.get(env_name)).is_none_or(|e| {
            let kind = path[0].name.as_str();
            !matches!(kind, "service" | "job") || path[0].key.as_ref().is_some_and(|k| e.view.workloads.contains_key(k))
        });
        if !runs {
            let _ = writeln!(md, "| {env_name} | does not run there | |");
            rows += 1;
            continue;
        }
        let merged = overlay::apply(&base_only, env, schema::schema(), &mut Vec::new());
        let value = tree::find(&merged.nodes, &path).and_then(|n| value_of(n, &part));
        let removed = tree::find(env.children(), &path).and_then(|n| match &part {
            Part::Arg(i) => n.args.get(*i).filter(|a| a.value == crate::syntax::Value::Null).map(|a| a.span),
            _ => None,
        });
        let by = match (value, removed) {
            (Some(s), _) if env.span.start <= s.start && s.end <= env.span.end => format!("overlay, line {}", line_of(text, s)),
            (Some(_), _) => "base".to_owned(),
            (None, Some(r)) => format!("removed by the overlay, line {}", line_of(text, r)),
            (None, None) => "—".to_owned(),
        };
        let _ = writeln!(md, "| {env_name} | {} | {by} |", cell(text, value));
        rows += 1;
    }
    (rows > 0).then(|| format!("**In each environment**\n\n{}", md.trim_end()))
}

fn value_of(node: &Node, part: &Part) -> Option<Span> {
    match part {
        Part::Arg(i) => node.args.get(*i).map(|a| a.span),
        Part::PropValue(k) => node.prop(k).map(|e| e.span),
        _ => None,
    }
}

fn cell(text: &str, span: Option<Span>) -> String {
    match span {
        Some(s) => format!("`{}`", text.get(s.range()).unwrap_or_default().replace('|', "\\|").replace('`', "'")),
        None => "unset (default)".to_owned(),
    }
}

pub fn line_of(text: &str, span: Span) -> usize {
    text.get(..span.start as usize).map_or(0, |t| t.bytes().filter(|b| *b == b'\n').count()) + 1
}

fn line_text(text: &str, span: Span) -> String {
    let start = text.get(..span.start as usize).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    let end = text.get(span.start as usize..).and_then(|t| t.find('\n')).map_or(text.len(), |i| span.start as usize + i);
    text.get(start..end).unwrap_or_default().trim().to_owned()
}
