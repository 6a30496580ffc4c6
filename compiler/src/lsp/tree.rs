//! The parsed spec seen from a cursor: which node and which part of it an offset is in,
//! what the schema says about it, and every declaration of and reference to a name.
//!
//! Everything here is plain data over byte offsets; `proto` turns it into LSP types.

use crate::check::schema::{self, ArgSchema, NodeSchema, PropSchema, Ty};
use crate::span::Span;
use crate::syntax::{Document, Entry, Node, Value};

/// The part of a node an offset is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Name,
    Arg(usize),
    PropKey(String),
    PropValue(String),
    /// Elsewhere inside the node (between entries, in its children block).
    Inside,
}

/// A node and the part of it under the cursor, with the node's ancestors.
#[derive(Debug)]
pub struct Located<'a> {
    /// From the top-level node down to the node itself.
    pub nodes: Vec<&'a Node>,
    pub part: Part,
}

impl<'a> Located<'a> {
    pub fn node(&self) -> &'a Node {
        self.nodes[self.nodes.len() - 1]
    }

    /// The entry under the cursor, when it is an argument or a property's value.
    pub fn entry(&self) -> Option<&'a Entry> {
        let node = self.node();
        match &self.part {
            Part::Arg(i) => node.args.get(*i),
            Part::PropValue(k) => node.props.iter().find(|p| &p.key.value == k).map(|p| &p.value),
            _ => None,
        }
    }
}

fn covers(span: Span, offset: usize) -> bool {
    span.start as usize <= offset && offset <= span.end as usize
}

/// The innermost node at `offset` and the part of it there.
pub fn locate(doc: &Document, offset: usize) -> Option<Located<'_>> {
    let mut nodes = Vec::new();
    let mut level: &[Node] = &doc.nodes;
    while let Some(node) = level.iter().find(|n| covers(n.span, offset)) {
        nodes.push(node);
        level = node.children();
    }
    let node = *nodes.last()?;
    let part = if covers(node.name.span, offset) {
        Part::Name
    } else if let Some(i) = node.args.iter().position(|a| covers(a.entry_span, offset)) {
        Part::Arg(i)
    } else if let Some(p) = node.props.iter().find(|p| covers(p.key.span, offset)) {
        Part::PropKey(p.key.value.clone())
    } else if let Some(p) = node.props.iter().find(|p| covers(p.value.entry_span, offset)) {
        Part::PropValue(p.key.value.clone())
    } else {
        Part::Inside
    };
    Some(Located { nodes, part })
}

/// What the schema says about a node, given the names of its ancestors and its own.
#[derive(Debug, Clone, Copy)]
pub enum Described<'s> {
    Node(&'s NodeSchema),
    /// A `KEY value` entry of a map node such as `env`.
    MapEntry {
        map: &'s NodeSchema,
    },
    Unknown,
}

/// The schema of the node at the end of `path` (node names from the top level down).
pub fn describe<'s, S: AsRef<str>>(path: &[S]) -> Described<'s> {
    let mut current = &schema::schema().root;
    for (i, name) in path.iter().enumerate() {
        match current.child(name.as_ref()) {
            Some(child) => current = child,
            None if current.map.is_some() && i + 1 == path.len() => return Described::MapEntry { map: current },
            None => return Described::Unknown,
        }
    }
    Described::Node(current)
}

/// The schema of a node's argument `i`.
pub fn arg_schema(node: &NodeSchema, i: usize) -> Option<&ArgSchema> {
    node.args.get(i).or(node.rest.as_ref())
}

pub fn prop_schema<'s>(node: &'s NodeSchema, key: &str) -> Option<&'s PropSchema> {
    node.prop(key)
}

/// The type of an argument or property value.
pub fn value_ty<'s>(node: &'s NodeSchema, part: &Part) -> Option<&'s Ty> {
    match part {
        Part::Arg(i) => arg_schema(node, *i).map(|a| &a.ty),
        Part::PropValue(k) | Part::PropKey(k) => node.prop(k).map(|p| &p.ty).or(node.free_props.as_ref().map(|(_, v)| v)),
        _ => None,
    }
}

pub fn names<'a>(nodes: &[&'a Node]) -> Vec<&'a str> {
    nodes.iter().map(|n| n.name.value.as_str()).collect()
}

pub fn first_string(node: &Node) -> Option<&str> {
    match node.args.first() {
        Some(Entry { value: Value::String(s), .. }) => Some(s),
        _ => None,
    }
}

/// One step of the path to a setting: a node's name and, for keyed nodes, its name
/// argument (`port "http"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub name: String,
    pub key: Option<String>,
}

/// The path of a node as the base spec names it: an environment's overlay of `service
/// "api"` has the same path as the base `service "api"`. `None` for nodes that are not
/// overlayable settings (the environment's own nodes, the project).
pub fn setting_path(nodes: &[&Node]) -> Option<Vec<Step>> {
    let mut nodes = nodes;
    if nodes.first().is_some_and(|n| n.name.value == "environment") {
        nodes = &nodes[1..];
    }
    let top = nodes.first()?;
    if !matches!(top.name.value.as_str(), "service" | "job" | "external" | "secret") {
        return None;
    }
    let mut path = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for n in nodes {
        names.push(n.name.value.as_str());
        let keyed = matches!(describe(&names), Described::Node(s) if s.keyed);
        path.push(Step { name: n.name.value.clone(), key: if keyed { first_string(n).map(str::to_owned) } else { None } });
    }
    Some(path)
}

/// The node at `path` among `nodes`.
pub fn find<'a>(nodes: &'a [Node], path: &[Step]) -> Option<&'a Node> {
    let (step, rest) = path.split_first()?;
    let node = nodes.iter().rev().find(|n| n.name.value == step.name && (step.key.is_none() || first_string(n) == step.key.as_deref()))?;
    if rest.is_empty() { Some(node) } else { find(node.children(), rest) }
}

/// The kinds of names a spec declares and refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Workload,
    External,
    Secret,
    Port,
    Environment,
}

impl Kind {
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Workload => "workload",
            Kind::External => "external",
            Kind::Secret => "secret",
            Kind::Port => "port",
            Kind::Environment => "environment",
        }
    }
}

/// One place a name is declared or used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub kind: Kind,
    pub name: String,
    /// The workload a port belongs to.
    pub scope: Option<String>,
    /// The name's token (quotes included).
    pub span: Span,
    pub role: Role,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Declaration,
    /// An environment's overlay of the declaration.
    Overlay,
    Reference,
}

impl Occurrence {
    fn same_symbol(&self, other: &Occurrence) -> bool {
        self.kind == other.kind && self.name == other.name && self.scope == other.scope
    }
}

/// Every declaration, overlay and reference of a name in the document, in source order.
pub fn occurrences(doc: &Document) -> Vec<Occurrence> {
    let mut out = Vec::new();
    for top in &doc.nodes {
        let kind = match top.name.value.as_str() {
            "service" | "job" => Some(Kind::Workload),
            "external" => Some(Kind::External),
            "secret" => Some(Kind::Secret),
            "environment" => Some(Kind::Environment),
            _ => None,
        };
        if let (Some(kind), Some(name), Some(arg)) = (kind, first_string(top), top.args.first()) {
            out.push(Occurrence { kind, name: name.to_owned(), scope: None, span: arg.span, role: Role::Declaration });
        }
        let scope = matches!(kind, Some(Kind::Workload)).then(|| first_string(top).map(str::to_owned)).flatten();
        let mut path = vec![top.name.value.as_str()];
        walk(top, &mut path, scope.as_deref(), &mut out);
    }
    // A dependency names a workload or an external: whichever is declared.
    let externals: Vec<String> =
        out.iter().filter(|o| o.kind == Kind::External && o.role == Role::Declaration).map(|o| o.name.clone()).collect();
    for o in &mut out {
        if o.kind == Kind::Workload && o.role == Role::Reference && o.scope.as_deref() == Some(DEPENDENCY) {
            o.scope = None;
            if externals.contains(&o.name) {
                o.kind = Kind::External;
            }
        }
    }
    out.sort_by_key(|o| o.span);
    out
}

/// A marker scope for references that may name a workload or an external.
const DEPENDENCY: &str = "\0dependency";

fn walk<'a>(node: &'a Node, path: &mut Vec<&'a str>, scope: Option<&str>, out: &mut Vec<Occurrence>) {
    let described = describe(path);
    let Described::Node(schema) = described else { return };
    let refer = |ty: &Ty, entry: &Entry, out: &mut Vec<Occurrence>| {
        let Value::String(name) = &entry.value else { return };
        let (kind, scope) = match ty.name.as_str() {
            "secret-ref" => (Kind::Secret, None),
            "workload-ref" => (Kind::Workload, None),
            "dependency-ref" => (Kind::Workload, Some(DEPENDENCY.to_owned())),
            "port-ref" => (Kind::Port, scope.map(str::to_owned)),
            _ => return,
        };
        out.push(Occurrence { kind, name: name.clone(), scope, span: entry.span, role: Role::Reference });
    };
    for (i, arg) in node.args.iter().enumerate() {
        if let Some(a) = arg_schema(schema, i) {
            refer(&a.ty, arg, out);
        }
    }
    for p in &node.props {
        if let Some(ps) = schema.prop(&p.key.value) {
            refer(&ps.ty, &p.value, out);
        }
    }
    if node.name.value == "port"
        && scope.is_some()
        && path.len() == 2
        && let (Some(name), Some(arg)) = (first_string(node), node.args.first())
    {
        out.push(Occurrence {
            kind: Kind::Port,
            name: name.to_owned(),
            scope: scope.map(str::to_owned),
            span: arg.span,
            role: Role::Declaration,
        });
    }
    // An environment's overlay of a port (`service "api" { port "http" 9090; }`).
    if node.name.value == "port"
        && scope.is_some()
        && path.len() == 3
        && path[0] == "environment"
        && let (Some(name), Some(arg)) = (first_string(node), node.args.first())
    {
        out.push(Occurrence {
            kind: Kind::Port,
            name: name.to_owned(),
            scope: scope.map(str::to_owned),
            span: arg.span,
            role: Role::Overlay,
        });
    }
    for child in node.children() {
        if schema.map.is_some() {
            // `KEY (secret)"name"` in `env`.
            for arg in &child.args {
                if let (Some(ty), Value::String(name)) = (&arg.ty, &arg.value)
                    && ty.value == "secret"
                {
                    out.push(Occurrence { kind: Kind::Secret, name: name.clone(), scope: None, span: arg.span, role: Role::Reference });
                }
            }
            reference_occurrences(child, out);
            continue;
        }
        let mut child_scope = scope.map(str::to_owned);
        if let Some(child_schema) = schema.child(&child.name.value)
            && let Some(target) = &child_schema.overlay
        {
            let kind = match target.as_str() {
                "service" | "job" => Kind::Workload,
                "external" => Kind::External,
                _ => Kind::Secret,
            };
            if let (Some(name), Some(arg)) = (first_string(child), child.args.first()) {
                out.push(Occurrence { kind, name: name.to_owned(), scope: None, span: arg.span, role: Role::Overlay });
                child_scope = (kind == Kind::Workload).then(|| name.to_owned());
            }
        }
        path.push(child.name.value.as_str());
        walk(child, path, child_scope.as_deref(), out);
        path.pop();
    }
}

/// `KEY (address)"cart" port="grpc"` in `env`: the service or external it names, and the
/// port, which is the target's.
fn reference_occurrences(entry: &Node, out: &mut Vec<Occurrence>) {
    let Some(arg) = entry.args.first() else { return };
    let (Some(ty), Value::String(target)) = (&arg.ty, &arg.value) else { return };
    if crate::check::model::ReferenceForm::from_annotation(&ty.value).is_none() {
        return;
    }
    out.push(Occurrence {
        kind: Kind::Workload,
        name: target.clone(),
        scope: Some(DEPENDENCY.to_owned()),
        span: arg.span,
        role: Role::Reference,
    });
    if let Some(Entry { value: Value::String(port), span, .. }) = entry.prop("port") {
        out.push(Occurrence { kind: Kind::Port, name: port.clone(), scope: Some(target.clone()), span: *span, role: Role::Reference });
    }
}

/// The occurrence at `offset`.
pub fn occurrence_at(all: &[Occurrence], offset: usize) -> Option<&Occurrence> {
    all.iter().find(|o| covers(o.span, offset))
}

/// The declaration of the symbol `at` names.
pub fn declaration<'o>(all: &'o [Occurrence], at: &Occurrence) -> Option<&'o Occurrence> {
    all.iter().find(|o| o.role == Role::Declaration && o.same_symbol(at))
}

/// Every occurrence of the symbol `at` names, declaration first.
pub fn references<'o>(all: &'o [Occurrence], at: &Occurrence) -> Vec<&'o Occurrence> {
    let mut out: Vec<&Occurrence> = all.iter().filter(|o| o.same_symbol(at)).collect();
    out.sort_by_key(|o| (o.role != Role::Declaration, o.span));
    out
}

/// Why a rename is refused, or the spans to replace and the replacement text.
pub fn rename(all: &[Occurrence], at: &Occurrence, new_name: &str) -> Result<(Vec<Span>, String), String> {
    let valid = match at.kind {
        Kind::Port => crate::check::values::port_name(new_name),
        _ => crate::check::values::dns_label(new_name),
    };
    if let Err(e) = valid {
        return Err(format!("`{new_name}` is not a valid {} name: {}", at.kind.noun(), e.message));
    }
    if new_name == at.name {
        return Err(format!("the {} is already named `{new_name}`", at.kind.noun()));
    }
    // Workloads and externals share a namespace: a dependency names either.
    let clashes = |k: Kind| match at.kind {
        Kind::Workload | Kind::External => matches!(k, Kind::Workload | Kind::External),
        other => k == other,
    };
    if let Some(taken) = all.iter().find(|o| o.role == Role::Declaration && clashes(o.kind) && o.name == new_name && o.scope == at.scope) {
        let noun = taken.kind.noun();
        let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        return Err(format!("{article} {noun} named `{new_name}` exists already"));
    }
    let spans = references(all, at).into_iter().map(|o| o.span).collect();
    Ok((spans, format!("\"{new_name}\"")))
}
