//! Lowering: a syntax tree, checked against the schema, becomes the typed model.
//!
//! Two steps. [`validate`] walks a node with its schema: unknown nodes and properties,
//! arity, duplicates, required members and every value's type, each reported with the
//! value's own span; what is valid comes out as a [`Checked`] tree of typed values. Then
//! the `lower_*` functions read that tree into model structs, which never fails: whatever
//! was invalid has been reported and is simply absent.

mod expose;

use std::collections::{BTreeMap, BTreeSet};

use crate::check::model::*;
use crate::check::schema::{NodeSchema, PropSchema, Schema, Ty};
use crate::check::values::{self, Bytes, Cpu, Duration, ImageRef, Invalid};
use crate::diagnostics::{self as diag, Diagnostic};
use crate::span::{Span, Spanned};
use crate::syntax::{Document, Entry, Node, Value};

/// A value that passed its type check.
#[derive(Clone, Debug, PartialEq)]
pub enum Typed {
    Str(String),
    Int(i64),
    Bool(bool),
    Cpu(Cpu),
    Bytes(Bytes),
    Duration(Duration),
    Image(Box<ImageRef>),
    /// `(secret)"name"` in an env map.
    Secret(String),
    /// `(address)"cart"`, `(host)"…"`, `(port)"…"` in an env map: where a service or an
    /// external is.
    Reference(ReferenceForm, String),
    /// `#null` in a map: the key is removed.
    Null,
}

/// A node that was checked against its schema, with the values that passed.
#[derive(Debug)]
pub struct Checked<'a> {
    pub node: &'a Node,
    pub args: Vec<Option<Spanned<Typed>>>,
    pub props: Props,
    pub children: Vec<Checked<'a>>,
}

/// A checked node's properties, by key. A node has a handful, so they are kept in a vector
/// sorted by key, not a map: a map's smallest node holds eleven entries, and there is one
/// per node with properties in the whole spec.
#[derive(Debug, Default)]
pub struct Props(Vec<(String, Spanned<Typed>)>);

impl Props {
    pub fn get(&self, key: &str) -> Option<&Spanned<Typed>> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok().map(|i| &self.0[i].1)
    }

    /// Sets `key` to `value`, replacing what it held.
    fn insert(&mut self, key: &str, value: Spanned<Typed>) {
        match self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (key.to_owned(), value)),
        }
    }

    /// The properties in the order of their keys.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Spanned<Typed>)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<'a> Checked<'a> {
    fn name(&self) -> &'a str {
        &self.node.name.value
    }

    fn child(&self, name: &str) -> Option<&Checked<'a>> {
        self.children.iter().find(|c| c.name() == name)
    }

    fn children_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Checked<'a>> + 's {
        self.children.iter().filter(move |c| c.name() == name)
    }

    fn arg(&self, i: usize) -> Option<&Spanned<Typed>> {
        self.args.get(i).and_then(Option::as_ref)
    }

    fn arg_str(&self, i: usize) -> Option<Spanned<String>> {
        self.arg(i).and_then(as_str)
    }

    fn prop(&self, key: &str) -> Option<&Spanned<Typed>> {
        self.props.get(key)
    }

    fn prop_str(&self, key: &str) -> Option<Spanned<String>> {
        self.prop(key).and_then(as_str)
    }

    fn prop_u32(&self, key: &str) -> Option<Spanned<u32>> {
        self.prop(key).and_then(as_u32)
    }

    fn prop_duration(&self, key: &str) -> Option<Spanned<Duration>> {
        match self.prop(key) {
            Some(Spanned { value: Typed::Duration(d), span }) => Some(Spanned::new(d.clone(), *span)),
            _ => None,
        }
    }

    /// A child's first argument, for nodes like `replicas 3`.
    fn child_arg(&self, name: &str) -> Option<&Spanned<Typed>> {
        self.child(name).and_then(|c| c.arg(0))
    }
}

fn as_str(t: &Spanned<Typed>) -> Option<Spanned<String>> {
    match &t.value {
        Typed::Str(s) => Some(Spanned::new(s.clone(), t.span)),
        _ => None,
    }
}

fn as_u32(t: &Spanned<Typed>) -> Option<Spanned<u32>> {
    match t.value {
        Typed::Int(i) => u32::try_from(i).ok().map(|v| Spanned::new(v, t.span)),
        _ => None,
    }
}

fn as_bool(t: &Spanned<Typed>) -> Option<bool> {
    match t.value {
        Typed::Bool(b) => Some(b),
        _ => None,
    }
}

/// How strictly to validate: an overlay need not repeat what the base already says.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Full,
    Overlay,
}

/// Validates a list of nodes as the children of `parent`.
pub fn validate_children<'a>(
    nodes: &'a [Node],
    parent: &NodeSchema,
    parent_span: Span,
    mode: Mode,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Checked<'a>> {
    let mut out = Vec::new();
    if let Some((key_ty, value_ty)) = &parent.map {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for child in nodes {
            out.push(validate_map_entry(child, key_ty, value_ty, &parent.entry_props, mode, &mut seen, diags));
        }
        return out;
    }
    let mut siblings = Siblings::default();
    for child in nodes {
        match siblings.verdict(child, nodes, parent) {
            Ok(schema) => out.push(validate(child, schema, child_mode(schema, mode), diags)),
            Err(d) => diags.push(*d),
        }
    }
    missing_children(nodes, parent, parent_span, mode, diags);
    out
}

/// What [`validate_children`] remembers of the children before the one it is at: where
/// each that may appear once was, and each named one's name.
#[derive(Default)]
struct Siblings<'a> {
    seen: BTreeMap<&'a str, Span>,
    keys: BTreeMap<(&'a str, &'a str), Span>,
}

impl<'a> Siblings<'a> {
    /// The schema `child`, one of `nodes`, is validated against, or why it is not
    /// validated: it is unknown, or given again.
    fn verdict<'s>(&mut self, child: &'a Node, nodes: &'a [Node], parent: &'s NodeSchema) -> Result<&'s NodeSchema, Box<Diagnostic>> {
        let name = child.name.value.as_str();
        let Some(schema) = parent.child(name) else {
            let known: Vec<&str> = parent.children.iter().map(|c| c.name.as_str()).collect();
            return Err(Box::new(diag::unknown_node(name, child.name.span, &parent.name, &known)));
        };
        if !schema.repeat {
            if let Some(first) = self.seen.get(name) {
                return Err(Box::new(diag::duplicate_node(name, child.name.span, *first)));
            }
            self.seen.insert(name, child.name.span);
        }
        if schema.keyed
            && name != "port"
            && let Some(Entry { value: Value::String(key), span, .. }) = child.args.first()
        {
            // Services and jobs share one namespace (dependencies name either), and so
            // do externals: a name means one thing.
            let space = match name {
                "service" | "job" | "external" if parent.name.is_empty() => "workload",
                other => other,
            };
            if let Some(first) = self.keys.get(&(space, key.as_str())) {
                let first_kind = nodes
                    .iter()
                    .find(|n| n.name.span == *first || n.args.first().is_some_and(|a| a.span == *first))
                    .map_or(name, |n| n.name.value.as_str());
                return Err(Box::new(diag::duplicate_name(name, key, *span, *first, first_kind)));
            }
            self.keys.insert((space, key.as_str()), *span);
        }
        Ok(schema)
    }
}

/// The mode a child of the given schema is validated in: an overlay's children need not
/// repeat what the base says.
fn child_mode(schema: &NodeSchema, mode: Mode) -> Mode {
    if schema.overlay.is_some() { Mode::Overlay } else { mode }
}

/// Reports each child `parent` requires and `nodes` lacks.
fn missing_children(nodes: &[Node], parent: &NodeSchema, parent_span: Span, mode: Mode, diags: &mut Vec<Diagnostic>) {
    if mode == Mode::Full {
        for schema in parent.children.iter().filter(|c| c.required) {
            if !nodes.iter().any(|n| n.name.value == schema.name) {
                diags.push(diag::missing_node(&parent.name, &schema.name, parent_span, &schema.doc));
            }
        }
    }
}

fn validate_map_entry<'a>(
    child: &'a Node,
    key_ty: &Ty,
    value_ty: &Ty,
    entry_props: &[PropSchema],
    mode: Mode,
    seen: &mut BTreeMap<&'a str, Span>,
    diags: &mut Vec<Diagnostic>,
) -> Checked<'a> {
    let key = child.name.value.as_str();
    if let Err(e) = check_string(key, key_ty) {
        diags.push(diag::bad_value(e.code, e.message, child.name.span, "here".to_owned(), e.help));
    }
    if let Some(first) = seen.insert(key, child.name.span) {
        diags.push(diag::duplicate_node(key, child.name.span, first));
    }
    if let Some(ty) = &child.ty {
        diags.push(diag::type_annotation(&ty.value, ty.span, false));
    }
    let mut args = Vec::new();
    match child.args.as_slice() {
        [] => diags.push(diag::missing_arg(key, "value", "a string", child.name.span)),
        [value, rest @ ..] => {
            args.push(typed(value, value_ty, mode, diags));
            if let Some(extra) = rest.first() {
                diags.push(diag::too_many_args(key, 1, extra.entry_span));
            }
        }
    }
    let props = entry_props_of(child, entry_props, args.first().and_then(Option::as_ref), mode, diags);
    if child.children.is_some() {
        diags.push(diag::no_children(key, child.name.span));
    }
    Checked { node: child, args, props, children: Vec::new() }
}

/// Validates one node against its schema.
pub fn validate<'a>(node: &'a Node, schema: &NodeSchema, mode: Mode, diags: &mut Vec<Diagnostic>) -> Checked<'a> {
    let name = node.name.value.as_str();
    if let Some(ty) = &node.ty {
        diags.push(diag::type_annotation(&ty.value, ty.span, false));
    }
    // Arguments, positional then the rest.
    let mut args = Vec::with_capacity(node.args.len());
    for (i, entry) in node.args.iter().enumerate() {
        let ty = match schema.args.get(i).map(|a| &a.ty).or(schema.rest.as_ref().map(|r| &r.ty)) {
            Some(ty) => ty,
            None => {
                diags.push(diag::too_many_args(name, schema.args.len(), entry.entry_span));
                break;
            }
        };
        args.push(typed(entry, ty, mode, diags));
    }
    for (i, a) in schema.args.iter().enumerate().skip(node.args.len()) {
        // In an overlay only a keyed node's key is required; the rest may come from the base.
        let required = !a.optional
            && match mode {
                Mode::Full => true,
                Mode::Overlay => schema.keyed && i == 0,
            };
        if required {
            diags.push(diag::missing_arg(name, &a.name, &a.ty.name, node.head_span()));
        }
    }
    if let Some(rest) = &schema.rest {
        let given = node.args.len().saturating_sub(schema.args.len());
        if given < rest.min && mode == Mode::Full {
            diags.push(diag::missing_arg(name, &rest.name, &rest.ty.name, node.head_span()));
        }
    }
    // Properties.
    let mut props = Props::default();
    let mut first_seen: BTreeMap<&str, Span> = BTreeMap::new();
    for p in &node.props {
        let key = p.key.value.as_str();
        if let Some(first) = first_seen.insert(key, p.key.span) {
            diags.push(diag::duplicate_property(key, p.key.span, first));
            continue;
        }
        let ty = match (schema.prop(key), &schema.free_props) {
            (Some(ps), _) => ps.ty.clone(),
            (None, Some((key_ty, value_ty))) => {
                if let Err(e) = check_string(key, key_ty) {
                    diags.push(diag::bad_value(e.code, e.message, p.key.span, "here".to_owned(), e.help));
                    continue;
                }
                if p.value.value == Value::Null {
                    if mode == Mode::Full {
                        diags.push(diag::null_in_base(p.value.span));
                    }
                    continue;
                }
                value_ty.clone()
            }
            (None, None) => {
                let known: Vec<&str> = schema.props.iter().map(|p| p.name.as_str()).collect();
                diags.push(diag::unknown_property(key, p.key.span, name, &known));
                continue;
            }
        };
        if let Some(t) = typed(&p.value, &ty, mode, diags) {
            props.insert(key, t);
        }
    }
    if mode == Mode::Full {
        for ps in schema.props.iter().filter(|ps| ps.required) {
            if node.prop(&ps.name).is_none() {
                diags.push(diag::missing_prop(name, &ps.name, node.head_span(), example(&ps.ty)));
            }
        }
    }
    // Children.
    let children = match &node.children {
        Some(_) if !schema.has_children() => {
            diags.push(diag::no_children(name, node.name.span));
            Vec::new()
        }
        Some(nodes) => validate_children(nodes, schema, node.head_span(), mode, diags),
        None if schema.children.iter().any(|c| c.required) && mode == Mode::Full => {
            validate_children(&[], schema, node.head_span(), mode, diags)
        }
        None => Vec::new(),
    };
    Checked { node, args, props, children }
}

fn example(ty: &Ty) -> &'static str {
    match ty.name.as_str() {
        "port" | "int" | "percent" => "…",
        "bool" => "#true",
        _ => "\"…\"",
    }
}

/// Type-checks one value. Reports and returns `None` when it does not fit.
pub(crate) fn typed(entry: &Entry, ty: &Ty, mode: Mode, diags: &mut Vec<Diagnostic>) -> Option<Spanned<Typed>> {
    let span = entry.span;
    let reference = match &entry.ty {
        Some(a) if ty.name == "env-value" => ReferenceForm::from_annotation(&a.value),
        _ => None,
    };
    let secret_annotation = match &entry.ty {
        Some(a) if a.value == "secret" && ty.name == "env-value" => true,
        Some(a) if a.value == "plain" && ty.name == "env-value" => false,
        Some(_) if reference.is_some() => false,
        Some(a) => {
            diags.push(diag::type_annotation(&a.value, a.span, ty.name == "env-value"));
            return None;
        }
        None => false,
    };
    let wrong = |diags: &mut Vec<Diagnostic>, expected: &str| {
        diags.push(diag::wrong_type(expected, entry.value.kind(), span, wrong_type_help(&entry.value, expected)));
        None
    };
    let fail = |diags: &mut Vec<Diagnostic>, e: Invalid| {
        diags.push(diag::bad_value(e.code, e.message, span, "here".to_owned(), e.help));
        None
    };
    if entry.value == Value::Null {
        if ty.name == "env-value" && mode == Mode::Overlay {
            return Some(Spanned::new(Typed::Null, span));
        }
        diags.push(if ty.name == "env-value" { diag::null_in_base(span) } else { diag::null_outside_map(span) });
        return None;
    }
    let t = match (ty.name.as_str(), &entry.value) {
        ("env-value", Value::String(s)) if secret_annotation => match values::dns_label(s) {
            Ok(()) => Typed::Secret(s.clone()),
            Err(e) => return fail(diags, e),
        },
        ("env-value", _) if secret_annotation => return wrong(diags, "a secret name (a string)"),
        ("env-value", Value::String(s)) if reference.is_some() => match values::dns_label(s) {
            Ok(()) => Typed::Reference(reference?, s.clone()),
            Err(e) => return fail(diags, e),
        },
        ("env-value", _) if reference.is_some() => return wrong(diags, "the name of a service or an external (a string)"),
        ("env-value", Value::String(s)) => match values::passable(s, false) {
            Ok(()) => Typed::Str(s.clone()),
            Err(e) => return fail(diags, e),
        },
        ("env-value", Value::Int(i)) => Typed::Str(i.to_string()),
        ("env-value", Value::Bool(b)) => Typed::Str(b.to_string()),
        ("env-value", Value::Float(f)) => Typed::Str(f.to_string()),
        ("int" | "percent", Value::Int(i)) => {
            let (min, max) = if ty.name == "percent" { (Some(1), Some(100)) } else { (ty.min, ty.max) };
            if min.is_some_and(|m| *i < i128::from(m)) || max.is_some_and(|m| *i > i128::from(m)) {
                diags.push(diag::out_of_range(*i, min, max, span));
                return None;
            }
            Typed::Int(*i as i64)
        }
        ("int" | "percent", _) => return wrong(diags, "an integer"),
        ("port", Value::Int(i)) => {
            if !(1..=65535).contains(i) {
                diags.push(diag::bad_value(
                    diag::code::BAD_PORT,
                    format!("port {i} is out of range"),
                    span,
                    "not a port".to_owned(),
                    Some("ports are numbered from 1 to 65535".to_owned()),
                ));
                return None;
            }
            Typed::Int(*i as i64)
        }
        ("port", _) => return wrong(diags, "a port number"),
        ("bool", Value::Bool(b)) => Typed::Bool(*b),
        ("bool", _) => return wrong(diags, "a boolean"),
        ("cpu", Value::String(s)) => match Cpu::parse(s) {
            Ok(c) => Typed::Cpu(c),
            Err(e) => return fail(diags, e),
        },
        ("cpu", Value::Int(i)) => match Cpu::parse(&i.to_string()) {
            Ok(c) => Typed::Cpu(c),
            Err(e) => return fail(diags, e),
        },
        ("cpu", Value::Float(f)) => match Cpu::parse(&f.to_string()) {
            Ok(c) => Typed::Cpu(c),
            Err(e) => return fail(diags, e),
        },
        ("bytes", Value::String(s)) => match Bytes::parse(s) {
            Ok(b) => Typed::Bytes(b),
            Err(e) => return fail(diags, e),
        },
        ("bytes", Value::Int(i)) => return fail(diags, Bytes::parse(&i.to_string()).err()?),
        ("duration", Value::String(s)) => match Duration::parse(s) {
            Ok(d) => Typed::Duration(d),
            Err(e) => return fail(diags, e),
        },
        ("duration", Value::Int(i)) => return fail(diags, Duration::parse(&i.to_string()).err()?),
        ("image", Value::String(s)) => match ImageRef::parse(s) {
            Ok(i) => Typed::Image(Box::new(i)),
            Err(e) => return fail(diags, e),
        },
        ("enum", Value::String(s)) => {
            if !ty.values.iter().any(|v| v == s) {
                diags.push(diag::bad_enum(s, &ty.values, span));
                return None;
            }
            Typed::Str(s.clone())
        }
        ("code", Value::String(s)) => match diag::lookup(s) {
            Some(c) if c.severity() == diag::Severity::Warning => Typed::Str(c.id.to_owned()),
            Some(_) => {
                diags.push(diag::unknown_code(s, span, true));
                return None;
            }
            None => {
                diags.push(diag::unknown_code(s, span, false));
                return None;
            }
        },
        ("probe", Value::String(s)) => {
            if !(s.starts_with('/') || matches!(s.as_str(), "tcp" | "grpc" | "exec")) {
                diags.push(diag::probe_shape(
                    format!("`{s}` is not a kind of health check"),
                    span,
                    "give an HTTP path (`\"/readyz\"`), `tcp`, `grpc`, or `exec` and a command",
                ));
                return None;
            }
            if s.starts_with('/')
                && let Err(e) = values::http_path(s)
            {
                return fail(diags, e);
            }
            Typed::Str(s.clone())
        }
        ("port-ref" | "service-port-ref", Value::Int(i)) => {
            diags.push(diag::port_by_number(&i.to_string(), span));
            return None;
        }
        ("port-ref" | "service-port-ref", Value::String(s)) if s.parse::<u32>().is_ok() => {
            diags.push(diag::port_by_number(s, span));
            return None;
        }
        (_, Value::String(s)) => match check_string(s, ty) {
            Ok(()) => Typed::Str(s.clone()),
            Err(e) => return fail(diags, e),
        },
        (name, _) => return wrong(diags, expected_kind(name)),
    };
    Some(Spanned::new(t, span))
}

fn expected_kind(ty: &str) -> &'static str {
    match ty {
        "cpu" => "a CPU quantity",
        "bytes" => "a byte size",
        "duration" => "a duration",
        _ => "a string",
    }
}

fn wrong_type_help(found: &Value, expected: &str) -> Option<String> {
    match found {
        Value::String(s) if expected.contains("integer") || expected.contains("port") => {
            s.trim().parse::<i64>().ok().map(|n| format!("write the number without quotes: `{n}`"))
        }
        Value::String(s) if expected.contains("boolean") => match s.as_str() {
            "true" | "yes" | "on" => Some("write `#true`".to_owned()),
            "false" | "no" | "off" => Some("write `#false`".to_owned()),
            _ => Some("write `#true` or `#false`".to_owned()),
        },
        Value::Int(i) if expected.contains("string") => Some(format!("quote it: `\"{i}\"`")),
        Value::Float(f) if expected.contains("string") => Some(format!("quote it: `\"{f}\"`")),
        Value::Bool(b) if expected.contains("string") => Some(format!("quote it: `\"{b}\"`")),
        _ => None,
    }
}

/// Checks a string against a string-valued type.
fn check_string(s: &str, ty: &Ty) -> Result<(), Invalid> {
    match ty.name.as_str() {
        "string" => values::passable(s, true),
        "text" if s.trim().is_empty() => {
            Err(Invalid { code: diag::code::BAD_FORMAT, message: "this must not be empty".to_owned(), help: None })
        }
        "text" => Ok(()),
        "dns-label" | "workload-ref" | "dependency-ref" | "secret-ref" => values::dns_label(s),
        "port-ref" | "service-port-ref" => values::dns_label(s),
        "env-name" => values::env_name(s),
        "user-name" => values::user_name(s),
        "label-key" => values::label_key(s),
        "label-value" => values::label_value(s),
        "http-path" => values::http_path(s),
        "source-path" => values::source_path(s),
        "abs-path" => values::abs_path(s),
        "host" => values::host(s),
        "cron" => values::cron(s),
        "platform" => values::platform(s),
        "go-version" => values::go_version(s),
        "go-symbol" => values::go_symbol(s),
        "url" => values::url(s),
        "vault-ref" => values::vault_ref(s),
        "k8s-secret-ref" => values::k8s_secret_ref(s),
        "registry" => values::registry(s),
        "version" => values::version(s),
        "go-package" => values::go_package(s),
        "dns-name" => values::dns_name(s),
        "route-path" => values::route_path(s),
        "object-name" => values::object_name(s),
        "url-scheme" => values::url_scheme(s),
        "stamp-value" => values::stamp_value(s),
        "repository" => values::repository(s),
        "digest" => values::digest(s),
        _ => Ok(()),
    }
}

// ------------------------------------------------------------------------ lowering

/// The top-level nodes of a document, validated and lowered into a view. Environment
/// nodes are validated here too; [`lower_environment`] reads them.
pub fn lower_view<'a>(doc: &'a Document, schema: &Schema, diags: &mut Vec<Diagnostic>) -> (View, Vec<Checked<'a>>) {
    let n = doc.nodes.len();
    lower_view_split(doc, schema, diags, if n >= PARALLEL_FROM { n / 2 } else { n })
}

/// [`lower_view`], the top-level nodes from `middle` on validated and lowered on a second
/// thread (none when `middle` is their number). Which nodes are validated is decided in
/// order (a duplicate is the second of two); validating and lowering each is its own work.
/// The diagnostics come out in the order of one pass: every validation's, the missing
/// nodes', then every lowering's.
fn lower_view_split<'a>(doc: &'a Document, schema: &Schema, diags: &mut Vec<Diagnostic>, middle: usize) -> (View, Vec<Checked<'a>>) {
    let root = &schema.root;
    let nodes = &doc.nodes[..];
    let mut siblings = Siblings::default();
    let mut verdicts: Vec<_> = nodes.iter().map(|n| siblings.verdict(n, nodes, root)).collect();
    let second = verdicts.split_off(middle);
    let (first, second) = if second.is_empty() {
        (lower_top(&nodes[..middle], verdicts), Top::default())
    } else {
        std::thread::scope(|s| {
            let second = s.spawn(|| lower_top(&nodes[middle..], second));
            let first = lower_top(&nodes[..middle], verdicts);
            (first, second.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
        })
    };
    diags.extend(first.validation);
    diags.extend(second.validation);
    missing_children(nodes, root, Span::new(0, 0), Mode::Full, diags);
    diags.extend(first.lowering);
    diags.extend(second.lowering);

    let mut view = View::default();
    let mut envs = Vec::new();
    for lowered in first.lowered.into_iter().chain(second.lowered) {
        match lowered {
            Lowered::Project(p) => view.project = *p,
            Lowered::Secret(Some(s), _) => {
                view.secrets.insert(s.name.value.clone(), s);
            }
            Lowered::External(Some(e), _) => {
                view.externals.insert(e.name.value.clone(), e);
            }
            Lowered::Workload(Some(w), _) => {
                view.workloads.insert(w.name.value.clone(), w);
            }
            Lowered::Secret(None, node) | Lowered::External(None, node) | Lowered::Workload(None, node) => poison(&mut view, node),
            Lowered::Environment(c) => envs.push(c),
            Lowered::Other => {}
        }
    }
    crate::check::references::add_dependencies(&mut view);
    (view, envs)
}

/// How many top-level nodes a spec needs before they are validated and lowered on two
/// threads: below it, starting a thread costs more than it saves.
const PARALLEL_FROM: usize = 64;

/// Top-level nodes, validated and lowered, with the diagnostics of each step.
#[derive(Default)]
struct Top<'a> {
    lowered: Vec<Lowered<'a>>,
    validation: Vec<Diagnostic>,
    lowering: Vec<Diagnostic>,
}

/// One top-level node lowered: what it declares, or the node whose declaration failed.
enum Lowered<'a> {
    Project(Box<Project>),
    Secret(Option<Secret>, &'a Node),
    External(Option<External>, &'a Node),
    Workload(Option<std::sync::Arc<Workload>>, &'a Node),
    Environment(Checked<'a>),
    Other,
}

/// Validates and lowers `nodes`, each as its verdict says.
fn lower_top<'a>(nodes: &'a [Node], verdicts: Vec<Result<&NodeSchema, Box<Diagnostic>>>) -> Top<'a> {
    let mut top = Top::default();
    for (node, verdict) in nodes.iter().zip(verdicts) {
        let schema = match verdict {
            Ok(schema) => schema,
            Err(d) => {
                top.validation.push(*d);
                continue;
            }
        };
        let c = validate(node, schema, child_mode(schema, Mode::Full), &mut top.validation);
        let diags = &mut top.lowering;
        top.lowered.push(match c.name() {
            "project" => Lowered::Project(Box::new(lower_project(&c, diags))),
            "secret" => Lowered::Secret(lower_secret(&c, diags), c.node),
            "external" => Lowered::External(lower_external(&c), c.node),
            "service" | "job" => Lowered::Workload(lower_workload(&c, diags).map(std::sync::Arc::new), c.node),
            "environment" => Lowered::Environment(c),
            _ => Lowered::Other,
        });
    }
    top
}

/// Reports every item of a list (`depends-on`, `platforms`, `workloads`) given again.
pub fn duplicate_items(what: &str, items: &[Spanned<String>], diags: &mut Vec<Diagnostic>) {
    for (i, item) in items.iter().enumerate() {
        if let Some(first) = items[..i].iter().find(|f| f.value == item.value) {
            diags.push(diag::duplicate_item(what, &item.value, item.span, first.span));
        }
    }
}

/// Remembers the name of a declaration that could not be lowered.
fn poison(view: &mut View, node: &Node) {
    if let Some(Entry { value: Value::String(name), .. }) = node.args.first() {
        view.poisoned.insert(name.clone());
    }
}

fn lower_project(c: &Checked, diags: &mut Vec<Diagnostic>) -> Project {
    if let Some(v) = c.child("version") {
        match (v.node.args.is_empty(), v.node.prop("from").is_none()) {
            (true, true) => diags.push(diag::version_shape(v.node.head_span(), false)),
            (false, false) => diags.push(diag::version_shape(v.node.head_span(), true)),
            _ => {}
        }
    }
    if let Some(p) = c.child("platforms") {
        let items: Vec<Spanned<String>> = p.args.iter().flatten().filter_map(as_str).collect();
        duplicate_items("platforms", &items, diags);
    }
    let version = match c.child("version") {
        Some(v) => match v.arg_str(0) {
            Some(lit) => Version::Literal(lit),
            None => Version::Git,
        },
        None => Version::Git,
    };
    let stamp = c.child("stamp");
    Project {
        name: c.arg_str(0).unwrap_or_else(|| Spanned::new(String::new(), c.node.name.span)),
        registry: c.child_arg("registry").and_then(as_str),
        version,
        version_span: c.child("version").map_or(c.node.head_span(), |v| v.node.span),
        go: c.child_arg("go").and_then(as_str),
        platforms: c.child("platforms").map(|p| p.args.iter().flatten().filter_map(as_str).collect()).unwrap_or_default(),
        stamp_version: stamp.and_then(|s| s.prop_str("version")),
        stamp_commit: stamp.and_then(|s| s.prop_str("commit")),
        stamps: stamp
            .map(|s| s.children_named("set").filter_map(|v| Some(Stamp { variable: v.arg_str(0)?, value: v.arg_str(1)? })).collect())
            .unwrap_or_default(),
        source: c.child_arg("source").and_then(as_str),
        allows: lower_allows(c),
        span: c.node.head_span(),
        wait_image: c.child("wait-image").and_then(|i| match i.arg(0) {
            Some(Spanned { value: Typed::Image(_), span }) => Some(Spanned::new(node_string(i.node), *span)),
            _ => None,
        }),
        job_wait_image: c.child("job-wait-image").and_then(|i| match i.arg(0) {
            Some(Spanned { value: Typed::Image(_), span }) => Some(Spanned::new(node_string(i.node), *span)),
            _ => None,
        }),
    }
}

fn lower_allows(c: &Checked) -> Vec<Allow> {
    c.children_named("allow")
        .filter_map(|a| {
            Some(Allow { code: a.arg_str(0)?, reason: a.prop_str("reason").map(|r| r.value).unwrap_or_default(), span: a.node.span })
        })
        .collect()
}

fn lower_secret(c: &Checked, diags: &mut Vec<Diagnostic>) -> Option<Secret> {
    let name = c.arg_str(0)?;
    let given: Vec<&str> = ["vault", "env", "file", "kubernetes"].into_iter().filter(|k| c.node.prop(k).is_some()).collect();
    if given.len() != 1 {
        diags.push(diag::secret_source(&name.value, c.node.head_span(), given.len()));
    }
    let source = match given.as_slice() {
        [one] => c.prop_str(one).map(|v| {
            let v = v.value;
            match *one {
                "vault" => {
                    let (path, key) = v.split_once('#').unwrap_or((&v, ""));
                    SecretSource::Vault { path: path.to_owned(), key: key.to_owned() }
                }
                "env" => SecretSource::Env(v),
                "file" => SecretSource::File(v),
                _ => {
                    let (n, k) = v.split_once('/').unwrap_or((&v, ""));
                    SecretSource::Kubernetes { name: n.to_owned(), key: k.to_owned() }
                }
            }
        }),
        _ => None,
    };
    let delivery = match c.prop_str("as").as_deref().map(String::as_str) {
        Some("file") => Delivery::File,
        Some("env") => Delivery::Env,
        _ => Delivery::Auto,
    };
    Some(Secret { name, source, delivery, span: c.node.head_span() })
}

fn lower_external(c: &Checked) -> Option<External> {
    let port = c.prop("port").and_then(as_u32).and_then(|p| u16::try_from(p.value).ok().map(|v| Spanned::new(v, p.span)))?;
    Some(External { name: c.arg_str(0)?, host: c.prop_str("host")?, port, span: c.node.head_span() })
}

fn lower_workload(c: &Checked, diags: &mut Vec<Diagnostic>) -> Option<Workload> {
    let name = c.arg_str(0)?;
    let kind = if c.name() == "service" {
        WorkloadKind::Service
    } else {
        WorkloadKind::Job(JobOptions {
            schedule: c.prop_str("schedule"),
            timeout: c.child_arg("timeout").and_then(duration),
            retries: c.child_arg("retries").and_then(as_u32),
            concurrency: c.child_arg("concurrency").and_then(as_str),
        })
    };
    let build = c.child("build").and_then(|b| {
        Some(Source::Build {
            language: b.arg_str(0)?.value,
            main: b.prop_str("main")?,
            binary: b.prop_str("binary").map(|s| s.value),
            span: b.node.head_span(),
        })
    });
    let image = c.child("image").and_then(|i| match i.arg(0) {
        Some(Spanned { value: Typed::Image(img), span }) => {
            Some(Source::Image { reference: Spanned::new(node_string(i.node), *span), image: (**img).clone(), span: i.node.head_span() })
        }
        _ => None,
    });
    let source = match (build, image, c.child("build"), c.child("image")) {
        (_, _, Some(b), Some(i)) => {
            diags.push(diag::two_sources(&name.value, b.node.head_span(), i.node.head_span()));
            None
        }
        (Some(b), None, _, _) => Some(b),
        (None, Some(i), _, _) => Some(i),
        (None, None, None, None) => {
            diags.push(diag::no_source(c.name(), &name.value, c.node.head_span()));
            None
        }
        _ => None,
    };
    let mut poisoned = BTreeSet::new();
    for p in c.node.children().iter().filter(|n| n.name.value == "port") {
        if let Some(Entry { value: Value::String(pname), .. }) = p.args.first() {
            poisoned.insert(format!("port:{pname}"));
        }
    }
    if c.node.children().iter().any(|n| n.name.value == "memory" && n.prop("limit").is_some()) {
        poisoned.insert("memory.limit".to_owned());
    }
    if c.node.children().iter().any(|n| n.name.value == "health" && n.children().iter().any(|r| r.name.value == "ready")) {
        poisoned.insert("health.ready".to_owned());
    }
    let ports: Vec<Port> = c
        .children_named("port")
        .filter_map(|p| {
            let pname = p.arg_str(0)?;
            if let Err(e) = values::port_name(&pname.value) {
                diags.push(diag::bad_value(e.code, e.message, pname.span, "here".to_owned(), e.help));
                return None;
            }
            let number = p.arg(1).and_then(as_u32).and_then(|n| u16::try_from(n.value).ok().map(|v| Spanned::new(v, n.span)))?;
            let protocol = if p.prop_str("protocol").is_some_and(|s| s.value == "udp") { Protocol::Udp } else { Protocol::Tcp };
            let service_port =
                p.prop("service-port").and_then(as_u32).and_then(|n| u16::try_from(n.value).ok().map(|v| Spanned::new(v, n.span)));
            Some(Port { name: pname, number, protocol, service_port, span: p.node.head_span() })
        })
        .collect();
    let health = c
        .child("health")
        .map(|h| Health {
            ready: lower_probe(h.child("ready"), diags),
            live: lower_probe(h.child("live"), diags),
            startup: lower_probe(h.child("startup"), diags),
        })
        .unwrap_or_default();
    let env = c
        .child("env")
        .map(|e| {
            e.children
                .iter()
                .filter_map(|kv| {
                    let key = kv.node.name.clone();
                    let value = match &kv.arg(0)?.value {
                        Typed::Str(s) => EnvValue::Literal(Spanned::new(s.clone(), kv.arg(0)?.span)),
                        Typed::Secret(s) => EnvValue::Secret(Spanned::new(s.clone(), kv.arg(0)?.span)),
                        Typed::Reference(form, target) => EnvValue::Reference(Reference {
                            form: *form,
                            target: Spanned::new(target.clone(), kv.arg(0)?.span),
                            port: kv.prop_str("port"),
                            scheme: kv.prop_str("scheme"),
                            path: kv.prop_str("path"),
                        }),
                        _ => return None,
                    };
                    let plain = kv.node.args.first().and_then(|a| a.ty.as_ref()).is_some_and(|t| t.value == "plain");
                    Some((key.value.clone(), EnvVar { key, value, plain }))
                })
                .collect()
        })
        .unwrap_or_default();
    let labels = c.child("labels").map(|l| l.props.iter().filter_map(|(k, v)| Some((k.clone(), as_str(v)?))).collect()).unwrap_or_default();
    let metrics = c.child("metrics").and_then(|m| {
        Some(Metrics {
            port: m.prop_str("port")?,
            path: m.prop_str("path"),
            interval: m.prop_duration("interval"),
            timeout: m.prop_duration("timeout"),
            span: m.node.head_span(),
        })
    });
    let shutdown =
        c.child("shutdown").map(|s| Shutdown { grace: s.prop_duration("grace"), drain: s.prop_duration("drain") }).unwrap_or_default();
    let autoscale = c.child("autoscale").and_then(|a| {
        Some(Autoscale {
            min: a.prop_u32("min")?,
            max: a.prop_u32("max")?,
            cpu_percent: a.prop_u32("cpu-percent"),
            memory_percent: a.prop_u32("memory-percent"),
            span: a.node.head_span(),
        })
    });
    let kubernetes = c
        .child("kubernetes")
        .map(|k| KubernetesOptions {
            service_account_token: k.child_arg("service-account-token").and_then(as_bool).unwrap_or(false),
            priority_class: k.child_arg("priority-class").and_then(as_str).map(|s| s.value),
            node_selector: string_props(k.child("node-selector")),
            annotations: string_props(k.child("annotations")),
            service_type: k.child_arg("service-type").and_then(as_str),
            service_annotations: string_props(k.child("service-annotations")),
            service_span: k.children.iter().find(|n| matches!(n.name(), "service-type" | "service-annotations")).map(|n| n.node.span),
            tolerations: k
                .children_named("toleration")
                .map(|t| Toleration {
                    key: t.arg_str(0),
                    operator: t.prop_str("operator"),
                    value: t.prop_str("value"),
                    effect: t.prop_str("effect"),
                    seconds: t.prop_u32("seconds"),
                    span: t.node.head_span(),
                })
                .collect(),
            node_affinity: k
                .children_named("node-affinity")
                .filter_map(|a| {
                    Some(NodeAffinity {
                        key: a.arg_str(0)?,
                        operator: a.arg_str(1)?,
                        values: a.args.iter().skip(2).flatten().filter_map(as_str).collect(),
                        weight: a.prop_u32("weight").map(|w| w.value),
                        span: a.node.head_span(),
                    })
                })
                .collect(),
            spread: k
                .children_named("spread")
                .filter_map(|s| {
                    Some(Spread {
                        topology_key: s.arg_str(0)?,
                        max_skew: s.prop_u32("max-skew").map(|m| m.value),
                        when_unsatisfiable: s.prop_str("when-unsatisfiable").map(|w| w.value),
                    })
                })
                .collect(),
            service_account_annotations: string_props(k.child("service-account-annotations")),
        })
        .unwrap_or_default();
    let systemd = c
        .child("systemd")
        .map(|s| SystemdOptions {
            notify: s.child_arg("notify").and_then(as_bool).unwrap_or(false),
            user: s.child_arg("user").and_then(as_str).map(|s| s.value),
            socket: s.child_arg("socket").and_then(as_str),
            restart_sec: s.child_arg("restart-sec").and_then(duration),
            sandbox: s
                .child("sandbox")
                .map(|b| Sandbox {
                    writable: b.children_named("writable").filter_map(|w| w.arg_str(0)).collect(),
                    address_families: b
                        .child("address-families")
                        .map(|a| a.args.iter().flatten().filter_map(as_str).map(|f| f.value).collect())
                        .unwrap_or_default(),
                    limit_nofile: b.child("limit-nofile").and_then(|l| l.arg(0)).and_then(as_u32).map(|n| n.value),
                })
                .unwrap_or_default(),
            group: s.child_arg("group").and_then(as_str).map(|g| g.value),
            reload_signal: s.child_arg("reload-signal").and_then(as_str).map(|g| g.value),
        })
        .unwrap_or_default();
    let docker = c
        .child("docker")
        .map(|d| DockerOptions {
            runtime: d.child("runtime").and_then(|r| r.arg_str(0)).map(|s| s.value),
            registry: d.child("registry").and_then(|r| r.arg_str(0)),
            repository: d.child("repository").and_then(|r| r.arg_str(0)),
            digest: d.child("digest").and_then(|r| r.arg_str(0)),
            copies: d.children_named("copy").filter_map(|c| Some(ImageCopy { source: c.arg_str(0)?, to: c.prop_str("to")? })).collect(),
            binaries: d
                .children_named("binary")
                .filter_map(|b| Some(ImageBinary { name: b.arg_str(0)?, main: b.prop_str("main")? }))
                .collect(),
            span: Some(d.node.head_span()),
        })
        .unwrap_or_default();
    // What lowered fine is not poisoned.
    for p in &ports {
        poisoned.remove(&format!("port:{}", p.name.value));
    }
    let memory =
        c.child("memory").map(|r| Resources { request: bytes(r.prop("request")), limit: bytes(r.prop("limit")) }).unwrap_or_default();
    if memory.limit.is_some() {
        poisoned.remove("memory.limit");
    }
    if health.ready.is_some() {
        poisoned.remove("health.ready");
    }
    if c.node
        .children()
        .iter()
        .any(|n| n.name.value == "autoscale" && (n.prop("cpu-percent").is_some() || n.prop("memory-percent").is_some()))
    {
        poisoned.insert("autoscale.target".to_owned());
    }
    Some(Workload {
        name,
        kind,
        source,
        args: c.child("args").map(|a| a.args.iter().flatten().filter_map(as_str).collect()).unwrap_or_default(),
        ports,
        replicas: c.child_arg("replicas").and_then(as_u32),
        public: c.child("public").map(|p| p.args.iter().flatten().filter_map(as_str).collect()).unwrap_or_default(),
        expose: expose::lower_expose(c, diags),
        cpu: c.child("cpu").map(|r| Resources { request: cpu(r.prop("request")), limit: cpu(r.prop("limit")) }).unwrap_or_default(),
        memory,
        health,
        env,
        labels,
        depends_on: c.child("depends-on").map(|d| d.args.iter().flatten().filter_map(as_str).collect()).unwrap_or_default(),
        metrics,
        shutdown,
        autoscale,
        allows: lower_allows(c),
        kubernetes,
        systemd,
        docker,
        volumes: lower_volumes(c),
        files: lower_files(c),
        command: c.child("command").map(|a| a.args.iter().flatten().filter_map(as_str).collect()).unwrap_or_default(),
        capabilities: c.child("capabilities").map(|a| a.args.iter().flatten().filter_map(as_str).collect()).unwrap_or_default(),
        poisoned,
        span: c.node.head_span(),
    })
}

/// `volume` nodes whose path and size are valid; the rest was reported.
fn lower_volumes(c: &Checked) -> Vec<Volume> {
    c.children_named("volume")
        .filter_map(|v| {
            let persistent = v.prop("persistent");
            Some(Volume {
                name: v.arg_str(0)?,
                path: v.prop_str("path")?,
                size: bytes(v.prop("size"))?,
                persistent: persistent.and_then(as_bool).unwrap_or(false),
                persistent_span: persistent.map(|p| p.span),
                storage_class: v.prop_str("storage-class"),
                access: v.prop_str("access"),
                span: v.node.head_span(),
            })
        })
        .collect()
}

/// `file` nodes whose path and source are valid; the rest was reported.
fn lower_files(c: &Checked) -> Vec<ConfigFile> {
    c.children_named("file")
        .filter_map(|f| Some(ConfigFile { path: f.arg_str(0)?, source: f.prop_str("source")?, span: f.node.head_span() }))
        .collect()
}

fn node_string(n: &Node) -> String {
    match n.args.first() {
        Some(Entry { value: Value::String(s), .. }) => s.clone(),
        _ => String::new(),
    }
}

fn string_props(c: Option<&Checked>) -> BTreeMap<String, String> {
    c.map(|c| c.props.iter().filter_map(|(k, v)| Some((k.clone(), as_str(v)?.value))).collect()).unwrap_or_default()
}

fn duration(t: &Spanned<Typed>) -> Option<Spanned<Duration>> {
    match &t.value {
        Typed::Duration(d) => Some(Spanned::new(d.clone(), t.span)),
        _ => None,
    }
}

fn cpu(t: Option<&Spanned<Typed>>) -> Option<Spanned<Cpu>> {
    match t {
        Some(Spanned { value: Typed::Cpu(c), span }) => Some(Spanned::new(c.clone(), *span)),
        _ => None,
    }
}

fn bytes(t: Option<&Spanned<Typed>>) -> Option<Spanned<Bytes>> {
    match t {
        Some(Spanned { value: Typed::Bytes(b), span }) => Some(Spanned::new(b.clone(), *span)),
        _ => None,
    }
}

fn lower_probe(c: Option<&Checked>, diags: &mut Vec<Diagnostic>) -> Option<Probe> {
    let c = c?;
    let first = c.arg_str(0)?;
    let rest: Vec<Spanned<String>> = c.args.iter().skip(1).flatten().filter_map(as_str).collect();
    let port = c.prop_str("port");
    let name = c.name();
    let check = match first.value.as_str() {
        "exec" => {
            if rest.is_empty() {
                diags.push(diag::probe_shape(
                    format!("`{name} exec` needs the command to run"),
                    c.node.head_span(),
                    "give the command and its arguments: `exec \"/app/check\" \"--ready\"`",
                ));
                return None;
            }
            if let Some(p) = &port {
                diags.push(diag::probe_shape("an `exec` check runs a command and checks no port".to_owned(), p.span, "remove `port=`"));
            }
            ProbeCheck::Exec(rest)
        }
        kind => {
            if let Some(extra) = rest.first() {
                diags.push(diag::probe_shape(
                    format!("only `exec` checks take a command; this `{name}` check has extra arguments"),
                    extra.span,
                    "remove the extra arguments, or write `exec` before the command",
                ));
            }
            if port.is_none() && c.node.prop("port").is_some() {
                // Given but invalid: already reported.
                return None;
            }
            if port.is_none() {
                let example =
                    if kind.starts_with('/') { format!("{name} \"{kind}\" port=\"http\"") } else { format!("{name} {kind} port=\"http\"") };
                diags.push(diag::probe_shape(
                    format!("this `{name}` check does not say which port it checks"),
                    c.node.head_span(),
                    &format!("name a declared port: `{example}`"),
                ));
                return None;
            }
            match kind {
                "tcp" => ProbeCheck::Tcp,
                "grpc" => ProbeCheck::Grpc,
                _ => ProbeCheck::Http(first),
            }
        }
    };
    Some(Probe {
        check,
        port,
        period: c.prop_duration("period"),
        timeout: c.prop_duration("timeout"),
        failures: c.prop_u32("failures"),
        delay: c.prop_duration("delay"),
        span: c.node.head_span(),
    })
}

/// An environment's own settings: platform, production flag, and which workloads run.
pub struct EnvSettings {
    pub name: Spanned<String>,
    pub production: bool,
    pub platform: Option<Platform>,
    pub workloads: Option<Vec<Spanned<String>>>,
    pub span: Span,
    /// Kubernetes: `kubernetes-version=`, the oldest version its clusters run, as
    /// (major, minor); `None` when not given or not on Kubernetes.
    pub kubernetes_version: Option<Spanned<(u32, u32)>>,
    /// Kubernetes: whether prometheus-operator's objects are written (`monitoring=`).
    pub prometheus_operator: bool,
    /// How exposed ports are reached (`exposure`, or the platform's default).
    pub exposure: Option<Exposure>,
    /// Kubernetes: `api-server=`, the API server's addresses as a CIDR block.
    pub api_server: Option<Spanned<String>>,
    /// Kubernetes: `pull-secret`s, the secrets every pod pulls its images with.
    pub pull_secrets: Vec<Spanned<String>>,
}

pub fn lower_environment(c: &Checked, diags: &mut Vec<Diagnostic>) -> Option<EnvSettings> {
    let name = c.arg_str(0)?;
    let platform = c.child("runs-on").and_then(|r| {
        let kind = r.arg_str(0)?;
        let namespace = r.prop_str("namespace");
        let hosts: Vec<Spanned<String>> = r.children_named("host").filter_map(|h| h.arg_str(0)).collect();
        match kind.value.as_str() {
            "kubernetes" => {
                if let Some(v) = r.prop("min-version") {
                    diags.push(diag::platform_setting(
                        format!("environment `{}` runs on Kubernetes, where a systemd version means nothing", name.value),
                        v.span,
                        "remove `min-version=`, or run the environment on systemd",
                    ));
                }
                if let Some(a) = r.prop_str("api-server").filter(|a| !values::is_cidr(&a.value)) {
                    diags.push(diag::bad_value(
                        diag::code::BAD_FORMAT,
                        format!("`{}` is not a CIDR block", a.value),
                        a.span,
                        "not ADDRESS/BITS".to_owned(),
                        Some("write the API server's addresses as a block: `api-server=\"10.0.0.10/32\"`".to_owned()),
                    ));
                }
                if let Some(h) = r.child("host") {
                    diags.push(diag::platform_setting(
                        format!("environment `{}` runs on Kubernetes, where `host` means nothing", name.value),
                        h.node.span,
                        "Kubernetes schedules pods itself: remove the hosts, or run the environment on systemd",
                    ));
                }
                match namespace {
                    Some(ns) => Some(Platform::Kubernetes { namespace: ns }),
                    None => {
                        diags.push(diag::platform_setting(
                            format!("environment `{}` runs on Kubernetes but names no namespace", name.value),
                            r.node.head_span(),
                            "add the namespace: `runs-on \"kubernetes\" namespace=\"payments\"`",
                        ));
                        None
                    }
                }
            }
            _ => {
                if let Some(p) = r.child("pull-secret") {
                    diags.push(diag::platform_setting(
                        format!("environment `{}` runs on systemd, where no image is pulled", name.value),
                        p.node.span,
                        "remove `pull-secret`: on systemd hosts the lifecycle script installs binaries, not images",
                    ));
                }
                if let Some(ns) = r.prop("namespace") {
                    diags.push(diag::platform_setting(
                        format!("environment `{}` runs on systemd, where a namespace means nothing", name.value),
                        ns.span,
                        "remove `namespace=`, or run the environment on Kubernetes",
                    ));
                }
                if let Some(a) = r.prop("api-server") {
                    diags.push(diag::platform_setting(
                        format!("environment `{}` runs on systemd, where a Kubernetes API server means nothing", name.value),
                        a.span,
                        "remove `api-server=`, or run the environment on Kubernetes",
                    ));
                }
                if r.node.children().iter().all(|n| n.name.value != "host") {
                    diags.push(diag::platform_setting(
                        format!("environment `{}` runs on systemd but lists no host", name.value),
                        r.node.head_span(),
                        "list the hosts that run its workloads: `runs-on \"systemd\" { host \"app-1.internal\" }`",
                    ));
                    return None;
                }
                Some(Platform::Systemd { hosts, min_version: r.prop_u32("min-version") })
            }
        }
    });
    let exposure = expose::lower_exposure(c, platform.as_ref(), &name.value, diags);
    Some(EnvSettings {
        exposure,
        name,
        production: c.prop("production").and_then(as_bool).unwrap_or(false),
        platform,
        workloads: c.child("workloads").map(|w| w.args.iter().flatten().filter_map(as_str).collect()),
        span: c.node.head_span(),
        prometheus_operator: c.child("runs-on").and_then(|r| r.prop_str("monitoring")).is_none_or(|m| m.value == "operator"),
        api_server: c.child("runs-on").and_then(|r| r.prop_str("api-server")).filter(|a| values::is_cidr(&a.value)),
        pull_secrets: c
            .child("runs-on")
            .filter(|r| r.arg_str(0).is_some_and(|p| p.value == "kubernetes"))
            .map(|r| r.children_named("pull-secret").filter_map(|p| p.arg_str(0)).collect())
            .unwrap_or_default(),
        kubernetes_version: c.child("runs-on").and_then(|r| r.prop_str("kubernetes-version")).and_then(|v| {
            let parsed = v.value.split_once('.').and_then(|(major, minor)| {
                let number = |s: &str| s.parse::<u32>().ok().filter(|_| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()));
                Some((number(major)?, number(minor)?))
            });
            if parsed.is_none() {
                diags.push(diag::bad_value(
                    diag::code::BAD_FORMAT,
                    format!("`{}` is not a Kubernetes version", v.value),
                    v.span,
                    "not MAJOR.MINOR".to_owned(),
                    Some("write the oldest version the clusters run as major.minor: `kubernetes-version=\"1.30\"`".to_owned()),
                ));
            }
            parsed.map(|p| Spanned::new(p, v.span))
        }),
    })
}

/// The properties of one `env` entry: `port=`, `scheme=` and `path=`, which only a
/// reference takes, each type-checked; `value` is the entry's value as type-checked.
fn entry_props_of(entry: &Node, schema: &[PropSchema], value: Option<&Spanned<Typed>>, mode: Mode, diags: &mut Vec<Diagnostic>) -> Props {
    let key = entry.name.value.as_str();
    let form = entry.args.first().and_then(|a| a.ty.as_ref()).and_then(|t| ReferenceForm::from_annotation(&t.value));
    let mut out = Props::default();
    let mut first_seen: BTreeMap<&str, Span> = BTreeMap::new();
    for p in &entry.props {
        let name = p.key.value.as_str();
        if let Some(first) = first_seen.insert(name, p.key.span) {
            diags.push(diag::duplicate_property(name, p.key.span, first));
            continue;
        }
        let Some(ps) = schema.iter().find(|s| s.name == name) else {
            let known: Vec<&str> = schema.iter().map(|s| s.name.as_str()).collect();
            diags.push(diag::unknown_property(name, p.key.span, key, if form.is_some() { &known } else { &[] }));
            continue;
        };
        match form {
            None => {
                diags.push(diag::reference_shape(format!("`{name}=` belongs to a reference, and `{key}` holds none"), p.key.span, None));
                continue;
            }
            Some(f) if name != "port" && f != ReferenceForm::Address => {
                diags.push(diag::reference_shape(
                    format!("`{name}=` makes a URL, which only `(address)` writes; `({})` is the {} alone", f.annotation(), f.annotation()),
                    p.key.span,
                    Some(format!("write `{key} (address)\"…\" {name}=…` for a URL")),
                ));
                continue;
            }
            Some(_) => {}
        }
        if let Some(t) = typed(&p.value, &ps.ty, mode, diags) {
            if name == "path"
                && let Typed::Str(s) = &t.value
                && let Err(e) = values::passable(s, false)
            {
                diags.push(diag::bad_value(e.code, e.message, t.span, "here".to_owned(), e.help));
                continue;
            }
            out.insert(name, t);
        }
    }
    if let (Some(path), None) = (out.get("path"), out.get("scheme")) {
        diags.push(diag::reference_shape(
            "a path makes the address a URL, which needs a scheme".to_owned(),
            path.span,
            Some("add the scheme: `scheme=\"http\"`".to_owned()),
        ));
    }
    let _ = value;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every spec of the repository (the examples, the diagnostics corpus, the specs of the
    /// tests), and every two of them one after the other (so that the errors of each half
    /// meet those of the other), lowers to the same view, environments and diagnostics
    /// wherever its top-level nodes are split between the two threads, as on one.
    #[test]
    fn lowering_in_two_halves_is_lowering_in_one() {
        let texts = crate::testing::specs_and_pairs(&["examples", "tests/diagnostics", "tests/specs"]);
        assert!(texts.len() > 400, "{} texts", texts.len());
        let schema = crate::check::schema::schema();
        let mut with_errors = 0;
        for (path, text) in texts {
            let Some(doc) = crate::syntax::parse(&text).0 else { continue };
            let n = doc.nodes.len();
            let mut one = Vec::new();
            let (view, envs) = lower_view_split(&doc, schema, &mut one, n);
            let one_pass = format!("{view:?}\n{envs:?}\n{one:?}");
            with_errors += usize::from(!one.is_empty());
            for middle in 0..n {
                let mut two = Vec::new();
                let (view, envs) = lower_view_split(&doc, schema, &mut two, middle);
                assert_eq!(format!("{view:?}\n{envs:?}\n{two:?}"), one_pass, "{path}: split at node {middle}");
            }
        }
        assert!(with_errors > 300, "only {with_errors} texts have diagnostics");
    }
}
