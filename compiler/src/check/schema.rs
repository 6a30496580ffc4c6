//! The spec schema, read from `schemas/hawser.schema.kdl` (embedded in the binary).
//!
//! The schema says which nodes exist where, their arguments, properties, children, types
//! and documentation. The checker validates specs against it; the LSP and the JSON schema
//! are derived from it. It is parsed once per process.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::syntax::{self, Entry, Node, Value};

/// The schema text, as shipped.
pub const SOURCE: &str = include_str!("../../../schemas/hawser.schema.kdl");

/// The whole schema: top-level nodes and documented types.
#[derive(Debug)]
pub struct Schema {
    pub root: NodeSchema,
    pub types: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
pub struct NodeSchema {
    pub name: String,
    pub doc: String,
    pub required: bool,
    pub repeat: bool,
    /// Repeated nodes are identified by their first argument.
    pub keyed: bool,
    /// Inside an environment: an overlay of this top-level node.
    pub overlay: Option<String>,
    /// Children are free-form `KEY value` pairs: (key type, value type).
    pub map: Option<(Ty, Ty)>,
    pub args: Vec<ArgSchema>,
    /// Further arguments of one type, after `args`.
    pub rest: Option<ArgSchema>,
    pub props: Vec<PropSchema>,
    /// Free-form properties: (key type, value type).
    pub free_props: Option<(Ty, Ty)>,
    /// For a map (`env`): the properties an entry may carry (`port=` of a reference).
    pub entry_props: Vec<PropSchema>,
    pub children: Vec<NodeSchema>,
}

#[derive(Debug, Clone)]
pub struct ArgSchema {
    pub name: String,
    pub ty: Ty,
    pub optional: bool,
    /// For `args`: the fewest allowed.
    pub min: usize,
    pub doc: String,
}

#[derive(Debug, Clone)]
pub struct PropSchema {
    pub name: String,
    pub ty: Ty,
    pub required: bool,
    pub doc: String,
}

/// A value type: its name in the schema and, for some, bounds or allowed words.
#[derive(Debug, Clone, PartialEq)]
pub struct Ty {
    pub name: String,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub values: Vec<String>,
}

impl NodeSchema {
    pub fn child(&self, name: &str) -> Option<&NodeSchema> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn prop(&self, name: &str) -> Option<&PropSchema> {
        self.props.iter().find(|p| p.name == name)
    }

    /// Whether the node takes a block of children.
    pub fn has_children(&self) -> bool {
        !self.children.is_empty() || self.map.is_some()
    }
}

/// The schema, parsed on first use.
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| load(SOURCE).unwrap_or_else(|e| panic!("the embedded schema is invalid: {e}")))
}

/// Reads a schema text. Errors are the schema author's, found by this crate's tests.
pub fn load(text: &str) -> Result<Schema, String> {
    let (doc, diags) = syntax::parse(text);
    let doc = doc.ok_or_else(|| format!("schema does not parse: {:?}", diags.first().map(|d| &d.message)))?;
    let mut groups = BTreeMap::new();
    let mut types = BTreeMap::new();
    for node in &doc.nodes {
        match node.name.value.as_str() {
            "group" => {
                groups.insert(arg_str(node, 0)?, node.clone());
            }
            "type" => {
                types.insert(arg_str(node, 0)?, prop_str(node, "doc").unwrap_or_default());
            }
            _ => {}
        }
    }
    let mut root = NodeSchema { name: String::new(), ..NodeSchema::default() };
    for node in doc.nodes.iter().filter(|n| n.name.value == "node") {
        root.children.push(node_schema(node, &groups, &types)?);
    }
    // Overlays take their shape from the top-level node they change.
    let tops: BTreeMap<String, usize> = root.children.iter().enumerate().map(|(i, c)| (c.name.clone(), i)).collect();
    let mut fixups = Vec::new();
    for (ei, env) in root.children.iter().enumerate() {
        for (ci, child) in env.children.iter().enumerate() {
            if let Some(target) = &child.overlay {
                let ti = *tops.get(target).ok_or_else(|| format!("overlay of unknown node {target}"))?;
                fixups.push((ei, ci, ti));
            }
        }
    }
    for (ei, ci, ti) in fixups {
        let source = &root.children[ti];
        let copy = NodeSchema {
            name: source.name.clone(),
            doc: root.children[ei].children[ci].doc.clone(),
            required: false,
            repeat: true,
            keyed: true,
            overlay: Some(source.name.clone()),
            map: source.map.clone(),
            args: source.args.clone(),
            rest: source.rest.clone(),
            props: source.props.clone(),
            free_props: source.free_props.clone(),
            entry_props: source.entry_props.clone(),
            children: source.children.iter().map(deep_copy).collect(),
        };
        root.children[ei].children[ci] = copy;
    }
    Ok(Schema { root, types })
}

fn deep_copy(n: &NodeSchema) -> NodeSchema {
    NodeSchema {
        name: n.name.clone(),
        doc: n.doc.clone(),
        required: n.required,
        repeat: n.repeat,
        keyed: n.keyed,
        overlay: n.overlay.clone(),
        map: n.map.clone(),
        args: n.args.clone(),
        rest: n.rest.clone(),
        props: n.props.clone(),
        free_props: n.free_props.clone(),
        entry_props: n.entry_props.clone(),
        children: n.children.iter().map(deep_copy).collect(),
    }
}

fn node_schema(node: &Node, groups: &BTreeMap<String, Node>, types: &BTreeMap<String, String>) -> Result<NodeSchema, String> {
    let mut s = NodeSchema {
        name: arg_str(node, 0)?,
        doc: prop_str(node, "doc").unwrap_or_default(),
        required: prop_bool(node, "required"),
        repeat: prop_bool(node, "repeat"),
        keyed: prop_bool(node, "keyed"),
        overlay: prop_str(node, "overlay"),
        ..NodeSchema::default()
    };
    if let Some(key) = prop_str(node, "map") {
        let value = prop_str(node, "value").ok_or("map without value")?;
        s.map = Some((plain_ty(&key, types)?, plain_ty(&value, types)?));
    }
    add_members(&mut s, node.children(), groups, types)?;
    Ok(s)
}

fn add_members(
    s: &mut NodeSchema,
    members: &[Node],
    groups: &BTreeMap<String, Node>,
    types: &BTreeMap<String, String>,
) -> Result<(), String> {
    for m in members {
        match m.name.value.as_str() {
            "arg" => s.args.push(ArgSchema {
                name: arg_str(m, 0)?,
                ty: ty(m, types)?,
                optional: prop_bool(m, "optional"),
                min: 0,
                doc: prop_str(m, "doc").unwrap_or_default(),
            }),
            "args" => {
                s.rest = Some(ArgSchema {
                    name: arg_str(m, 0)?,
                    ty: ty(m, types)?,
                    optional: true,
                    min: prop_int(m, "min").unwrap_or(0) as usize,
                    doc: prop_str(m, "doc").unwrap_or_default(),
                })
            }
            "prop" => {
                let prop = PropSchema {
                    name: arg_str(m, 0)?,
                    ty: ty(m, types)?,
                    required: prop_bool(m, "required"),
                    doc: prop_str(m, "doc").unwrap_or_default(),
                };
                // A map's properties are its entries'.
                if s.map.is_some() { s.entry_props.push(prop) } else { s.props.push(prop) }
            }
            "props" => {
                let key = prop_str(m, "key").ok_or("props without key")?;
                s.free_props = Some((plain_ty(&key, types)?, ty(m, types)?));
            }
            "node" => s.children.push(node_schema(m, groups, types)?),
            "include" => {
                let name = arg_str(m, 0)?;
                let group = groups.get(&name).ok_or_else(|| format!("unknown group {name}"))?;
                add_members(s, group.children(), groups, types)?;
            }
            other => return Err(format!("unknown schema member `{other}`")),
        }
    }
    Ok(())
}

fn ty(m: &Node, types: &BTreeMap<String, String>) -> Result<Ty, String> {
    let name = prop_str(m, "type").ok_or_else(|| format!("`{}` without type", m.name.value))?;
    let mut t = plain_ty(&name, types)?;
    t.min = prop_int(m, "min");
    t.max = prop_int(m, "max");
    t.values = prop_str(m, "values").map(|v| v.split_whitespace().map(str::to_owned).collect()).unwrap_or_default();
    if m.name.value == "args" {
        // `min` on `args` counts arguments, not the values' range.
        t.min = None;
    }
    Ok(t)
}

fn plain_ty(name: &str, types: &BTreeMap<String, String>) -> Result<Ty, String> {
    if !types.contains_key(name) && name != "env-value" {
        return Err(format!("undocumented type `{name}`"));
    }
    Ok(Ty { name: name.to_owned(), min: None, max: None, values: Vec::new() })
}

fn arg_str(n: &Node, i: usize) -> Result<String, String> {
    match n.args.get(i) {
        Some(Entry { value: Value::String(s), .. }) => Ok(s.clone()),
        _ => Err(format!("`{}` needs a string argument", n.name.value)),
    }
}

fn prop_str(n: &Node, key: &str) -> Option<String> {
    match n.prop(key) {
        Some(Entry { value: Value::String(s), .. }) => Some(s.clone()),
        _ => None,
    }
}

fn prop_bool(n: &Node, key: &str) -> bool {
    matches!(n.prop(key), Some(Entry { value: Value::Bool(true), .. }))
}

fn prop_int(n: &Node, key: &str) -> Option<i64> {
    match n.prop(key) {
        Some(Entry { value: Value::Int(i), .. }) => i64::try_from(*i).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_schema_loads_and_documents_every_node() {
        let s = load(SOURCE).unwrap();
        fn walk(n: &NodeSchema, path: &str) {
            for c in &n.children {
                let p = format!("{path}/{}", c.name);
                assert!(!c.doc.is_empty(), "{p} has no doc");
                walk(c, &p);
            }
        }
        walk(&s.root, "");
        assert!(s.root.child("environment").unwrap().child("service").unwrap().child("env").is_some());
    }
}
