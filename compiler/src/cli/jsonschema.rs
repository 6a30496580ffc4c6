//! A JSON Schema of the spec language, derived from `schemas/hawser.schema.kdl`, and the
//! mapping from a KDL spec to the JSON document the schema describes (docs/json-schema.md
//! says it in full). `hawser schema` prints the schema, `hawser schema --convert SPEC` a
//! spec as JSON; `schemas/hawser.schema.json` is the schema, committed and kept up to date
//! by a test.
//!
//! The mapping, by what the schema says of a node:
//! - a node that may appear once is a member named after it; a repeatable, keyed one
//!   (`service "api"`) an object by its key; another repeatable one (`toleration`) an array;
//! - a node is an object of its arguments (by their names in the schema; further
//!   arguments as an array), its properties and its children, except that a node with
//!   nothing but one argument is that value (`replicas 3` is `"replicas": 3`), one with
//!   nothing but further arguments is their array (`depends-on`), and one with free-form
//!   properties only is their object (`labels`);
//! - a map (`env`) is an object of its entries; an annotated value, `(secret)"db"` or
//!   `(address)"cart" port="grpc"`, is `{"type": "address", "value": "cart", "port": "grpc"}`.
//!
//! The schema checks the shape and the simple types; `hawser check` checks everything
//! (references, ranges between settings, platforms).

use serde_json::{Map, Value as Json, json};

use crate::check::schema::{ArgSchema, NodeSchema, Ty};
use crate::syntax::{Document, Entry, Node, Value};

/// The JSON Schema (draft 2020-12) of a spec converted by [`to_json`].
pub fn schema() -> Json {
    let s = crate::check::schema::schema();
    let mut root = node_object(&s.root, false);
    if let Json::Object(m) = &mut root {
        m.insert("$schema".to_owned(), json!("https://json-schema.org/draft/2020-12/schema"));
        m.insert("$id".to_owned(), json!("https://hawser.dev/schemas/hawser.schema.json"));
        m.insert("title".to_owned(), json!("a hawser spec, as JSON"));
        m.insert(
            "description".to_owned(),
            json!("Derived from schemas/hawser.schema.kdl; a KDL spec maps to JSON as docs/json-schema.md describes (`hawser schema --convert`)."),
        );
    }
    root
}

/// How a node is written in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Nothing but one argument (after the key, for a keyed node): the value.
    Value,
    /// Nothing but further arguments: their array.
    List,
    /// Free-form properties only: their object.
    Props,
    /// A map (`env`): its entries.
    Map,
    /// Anything else: an object of arguments, properties and children.
    Object,
}

fn shape(n: &NodeSchema) -> Shape {
    let args = if n.keyed { &n.args[1.min(n.args.len())..] } else { &n.args[..] };
    let nothing_else = n.props.is_empty() && n.children.is_empty() && n.free_props.is_none();
    if n.map.is_some() {
        Shape::Map
    } else if nothing_else && args.len() == 1 && n.rest.is_none() && !args[0].optional {
        Shape::Value
    } else if nothing_else && args.is_empty() && n.rest.is_some() {
        Shape::List
    } else if args.is_empty() && n.rest.is_none() && n.props.is_empty() && n.children.is_empty() && n.free_props.is_some() {
        Shape::Props
    } else {
        Shape::Object
    }
}

/// The schema of one node's JSON, as [`shape`] writes it. `overlay`: inside an environment,
/// where nothing is required.
fn node_json(n: &NodeSchema, overlay: bool) -> Json {
    let overlay = overlay || n.overlay.is_some();
    let args: Vec<&ArgSchema> = n.args.iter().skip(usize::from(n.keyed)).collect();
    let mut out = match shape(n) {
        Shape::Value => type_json(&args[0].ty),
        Shape::List => {
            let rest = n.rest.as_ref().expect("a list has further arguments");
            json!({ "type": "array", "items": type_json(&rest.ty), "minItems": if overlay { 0 } else { rest.min } })
        }
        Shape::Props => {
            let (key, value) = n.free_props.as_ref().expect("free-form properties");
            json!({ "type": "object", "propertyNames": type_json(key), "additionalProperties": nullable(type_json(value), overlay) })
        }
        Shape::Map => map_json(n, overlay),
        Shape::Object => node_object(n, overlay),
    };
    if !n.doc.is_empty()
        && let Json::Object(m) = &mut out
    {
        m.insert("description".to_owned(), json!(n.doc));
    }
    out
}

/// A node as an object of its arguments, properties and children.
fn node_object(n: &NodeSchema, overlay: bool) -> Json {
    let overlay = overlay || n.overlay.is_some();
    let mut properties = Map::new();
    let mut required = Vec::new();
    for a in n.args.iter().skip(usize::from(n.keyed)) {
        properties.insert(a.name.clone(), described(type_json(&a.ty), &a.doc));
        if !a.optional && !overlay {
            required.push(a.name.clone());
        }
    }
    if let Some(rest) = &n.rest {
        let min = if overlay { 0 } else { rest.min };
        properties
            .insert(rest.name.clone(), described(json!({ "type": "array", "items": type_json(&rest.ty), "minItems": min }), &rest.doc));
        if min > 0 {
            required.push(rest.name.clone());
        }
    }
    for p in &n.props {
        properties.insert(p.name.clone(), described(type_json(&p.ty), &p.doc));
        if p.required && !overlay {
            required.push(p.name.clone());
        }
    }
    for c in &n.children {
        let one = node_json(c, overlay);
        let member = if c.keyed {
            let key = c.args.first().map_or_else(|| json!({ "type": "string" }), |a| type_json(&a.ty));
            json!({ "type": "object", "propertyNames": key, "additionalProperties": one })
        } else if c.repeat {
            json!({ "type": "array", "items": one })
        } else {
            one
        };
        properties.insert(c.name.clone(), member);
        if c.required && !overlay {
            required.push(c.name.clone());
        }
    }
    let mut out = json!({ "type": "object", "properties": properties, "additionalProperties": false });
    if let Some((key, value)) = &n.free_props {
        // Free-form properties beside named members (none today, but the schema allows it).
        out["additionalProperties"] = nullable(type_json(value), overlay);
        out["propertyNames"] = type_json(key);
    }
    if !required.is_empty() {
        out["required"] = json!(required);
    }
    out
}

fn map_json(n: &NodeSchema, overlay: bool) -> Json {
    let (key, _) = n.map.as_ref().expect("a map");
    let mut annotated = Map::new();
    annotated.insert("type".to_owned(), json!({ "enum": ["secret", "plain", "address", "host", "port"] }));
    annotated.insert("value".to_owned(), json!({ "type": "string" }));
    for p in &n.entry_props {
        annotated.insert(p.name.clone(), described(type_json(&p.ty), &p.doc));
    }
    let mut values = vec![
        json!({ "type": "string" }),
        json!({ "type": "number" }),
        json!({ "type": "boolean" }),
        json!({ "type": "object", "properties": annotated, "required": ["type", "value"], "additionalProperties": false }),
    ];
    if overlay {
        values.push(json!({ "type": "null" }));
    }
    json!({ "type": "object", "propertyNames": type_json(key), "additionalProperties": { "anyOf": values } })
}

fn nullable(t: Json, overlay: bool) -> Json {
    if overlay { json!({ "anyOf": [t, { "type": "null" }] }) } else { t }
}

fn described(mut t: Json, doc: &str) -> Json {
    if !doc.is_empty()
        && let Json::Object(m) = &mut t
    {
        m.insert("description".to_owned(), json!(doc));
    }
    t
}

/// A value type: JSON's type, and a pattern or bounds where a simple one says enough.
fn type_json(t: &Ty) -> Json {
    let pattern = |p: &str| json!({ "type": "string", "pattern": p });
    let mut out = match t.name.as_str() {
        "int" | "percent" => {
            let mut i = json!({ "type": "integer" });
            let (min, max) = if t.name == "percent" { (Some(1), Some(100)) } else { (t.min, t.max) };
            if let Some(m) = min {
                i["minimum"] = json!(m);
            }
            if let Some(m) = max {
                i["maximum"] = json!(m);
            }
            i
        }
        "port" => json!({ "type": "integer", "minimum": 1, "maximum": 65535 }),
        "bool" => json!({ "type": "boolean" }),
        "enum" => json!({ "enum": t.values }),
        "cpu" => {
            json!({ "anyOf": [{ "type": "number", "exclusiveMinimum": 0 }, { "type": "string", "pattern": "^([0-9]+m|[0-9]+(\\.[0-9]{1,3})?)$" }] })
        }
        "bytes" => pattern("^[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)$"),
        "duration" => pattern("^([0-9]+(ms|s|m|h))+$"),
        "dns-label" | "workload-ref" | "dependency-ref" | "secret-ref" | "port-ref" | "service-port-ref" => {
            pattern("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
        }
        "env-name" => pattern("^[A-Za-z_][A-Za-z0-9_]*$"),
        "http-path" => pattern("^/[^\\s]*$"),
        "source-path" | "go-package" => pattern("^\\.(/[^/\\s]+)*$"),
        "abs-path" => pattern("^/[A-Za-z0-9/._@+:-]*$"),
        "platform" => json!({ "enum": crate::check::platforms::platforms().map(|(p, _)| p).collect::<Vec<_>>() }),
        "go-version" => pattern("^1\\.[0-9]+(\\.[0-9]+)?$"),
        "code" => pattern("^[Ww][0-9]{4}$"),
        "url" => pattern("^https?://[^\\s]+$"),
        "url-scheme" => pattern("^[a-z][a-z0-9+.-]*$"),
        "digest" => pattern("^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$"),
        "stamp-value" => pattern("^[A-Za-z0-9._~+:/@=,-]{1,256}$"),
        "text" => json!({ "type": "string", "minLength": 1 }),
        _ => json!({ "type": "string" }),
    };
    if let Some(doc) = crate::check::schema::schema().types.get(&t.name).filter(|d| !d.is_empty())
        && let Json::Object(m) = &mut out
    {
        m.insert("description".to_owned(), json!(doc));
    }
    out
}

/// A spec as JSON, by the mapping of this module. Nodes the schema does not know are kept
/// (so that the schema rejects them), written as objects.
pub fn to_json(doc: &Document) -> Json {
    children_json(&doc.nodes, Some(&crate::check::schema::schema().root))
}

fn children_json(nodes: &[Node], parent: Option<&NodeSchema>) -> Json {
    let mut out = Map::new();
    for node in nodes {
        let name = node.name.value.clone();
        let schema = parent.and_then(|p| p.child(&name));
        let value = node_value(node, schema);
        match schema {
            Some(s) if s.keyed => {
                let key = match node.args.first().map(|a| &a.value) {
                    Some(Value::String(k)) => k.clone(),
                    Some(other) => scalar(other).to_string(),
                    None => String::new(),
                };
                let slot = out.entry(name).or_insert_with(|| json!({}));
                if let Json::Object(m) = slot {
                    m.insert(key, value);
                }
            }
            Some(s) if s.repeat => {
                let slot = out.entry(name).or_insert_with(|| json!([]));
                if let Json::Array(a) = slot {
                    a.push(value);
                }
            }
            _ => {
                out.insert(name, value);
            }
        }
    }
    Json::Object(out)
}

fn node_value(node: &Node, schema: Option<&NodeSchema>) -> Json {
    let Some(s) = schema else { return generic(node) };
    let args: Vec<&Entry> = node.args.iter().skip(usize::from(s.keyed)).collect();
    match shape(s) {
        Shape::Value if args.len() == 1 && node.props.is_empty() && node.children.is_none() => return entry(args[0]),
        Shape::List if node.props.is_empty() && node.children.is_none() => return Json::Array(args.iter().map(|a| entry(a)).collect()),
        Shape::Props if node.args.is_empty() && node.children.is_none() => {
            return Json::Object(node.props.iter().map(|p| (p.key.value.clone(), entry(&p.value))).collect());
        }
        Shape::Map if node.args.is_empty() && node.props.is_empty() => {
            return Json::Object(node.children().iter().map(|c| (c.name.value.clone(), map_value(c))).collect());
        }
        _ => {}
    }
    let mut out = Map::new();
    let named: Vec<&ArgSchema> = s.args.iter().skip(usize::from(s.keyed)).collect();
    let mut rest = Vec::new();
    for (i, a) in args.iter().enumerate() {
        match named.get(i) {
            Some(n) => {
                out.insert(n.name.clone(), entry(a));
            }
            None => rest.push(entry(a)),
        }
    }
    if !rest.is_empty() {
        let name = s.rest.as_ref().map_or_else(|| "arguments".to_owned(), |r| r.name.clone());
        out.insert(name, Json::Array(rest));
    }
    for p in &node.props {
        out.insert(p.key.value.clone(), entry(&p.value));
    }
    if let Json::Object(children) = children_json(node.children(), Some(s)) {
        out.extend(children);
    }
    Json::Object(out)
}

/// A node the schema does not know: an object of whatever it holds.
fn generic(node: &Node) -> Json {
    let mut out = Map::new();
    if !node.args.is_empty() {
        out.insert("arguments".to_owned(), Json::Array(node.args.iter().map(entry).collect()));
    }
    for p in &node.props {
        out.insert(p.key.value.clone(), entry(&p.value));
    }
    if let Json::Object(children) = children_json(node.children(), None) {
        out.extend(children);
    }
    Json::Object(out)
}

fn map_value(entry_node: &Node) -> Json {
    let Some(first) = entry_node.args.first() else { return Json::Null };
    let value = entry(first);
    if first.ty.is_none() && entry_node.props.is_empty() && entry_node.args.len() == 1 {
        return value;
    }
    let mut out = Map::new();
    if let Json::Object(m) = value {
        out.extend(m);
    } else {
        out.insert("value".to_owned(), value);
    }
    for p in &entry_node.props {
        out.insert(p.key.value.clone(), entry(&p.value));
    }
    Json::Object(out)
}

/// A value; an annotated one, `(secret)"db"`, is `{"type": "secret", "value": "db"}`.
fn entry(e: &Entry) -> Json {
    match &e.ty {
        Some(t) => json!({ "type": t.value, "value": scalar(&e.value) }),
        None => scalar(&e.value),
    }
}

fn scalar(v: &Value) -> Json {
    match v {
        Value::String(s) => json!(s),
        Value::Int(i) => i64::try_from(*i).map_or_else(|_| json!(i.to_string()), |i| json!(i)),
        Value::Float(f) => json!(f),
        Value::Bool(b) => json!(b),
        Value::Null => Json::Null,
    }
}

/// The schema as it is committed: pretty JSON and a final newline.
pub fn schema_text() -> String {
    format!("{}\n", serde_json::to_string_pretty(&schema()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `schemas/hawser.schema.json` is what `hawser schema` prints.
    #[test]
    fn the_committed_schema_is_up_to_date() {
        let committed = include_str!("../../../schemas/hawser.schema.json");
        assert!(committed == schema_text(), "schemas/hawser.schema.json is stale: run `hawser schema > schemas/hawser.schema.json`");
    }

    #[test]
    fn the_mapping_by_example() {
        let text = r#"
project "shop" {
    version "1.0.0"
    platforms "linux/amd64"
}
service "api" {
    build "go" main="./cmd/api"
    port "http" 8080
    replicas 2
    labels team="core"
    env {
        LOG_LEVEL "info"
        DB_PASSWORD (secret)"db"
        CART_ADDR (address)"cart" port="grpc"
    }
    depends-on "cart"
    kubernetes {
        toleration "dedicated" value="x"
    }
}
"#;
        let (doc, _) = crate::syntax::parse(text);
        let json = to_json(&doc.unwrap());
        assert_eq!(
            json,
            json!({
                "project": { "name": "shop", "version": { "version": "1.0.0" }, "platforms": ["linux/amd64"] },
                "service": { "api": {
                    "build": { "language": "go", "main": "./cmd/api" },
                    "port": { "http": { "number": 8080 } },
                    "replicas": 2,
                    "labels": { "team": "core" },
                    "env": {
                        "LOG_LEVEL": "info",
                        "DB_PASSWORD": { "type": "secret", "value": "db" },
                        "CART_ADDR": { "type": "address", "value": "cart", "port": "grpc" }
                    },
                    "depends-on": ["cart"],
                    "kubernetes": { "toleration": [{ "key": "dedicated", "value": "x" }] }
                } }
            })
        );
    }
}
