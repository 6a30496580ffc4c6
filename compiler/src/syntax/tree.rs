//! The syntax tree both parsers build: nodes, entries and their spans, with nothing of
//! either parser in it.

use crate::span::{Span, Spanned};

/// A parsed spec: top-level nodes in source order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Document {
    pub nodes: Vec<Node>,
}

/// One KDL node: `name arg… key=value… { children }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub name: Spanned<String>,
    /// A type annotation on the node itself, `(x)name`; hawser uses none.
    pub ty: Option<Spanned<String>>,
    pub args: Vec<Entry>,
    pub props: Vec<Prop>,
    pub children: Option<Vec<Node>>,
    /// The whole node, from its name to the end of its children block.
    pub span: Span,
}

/// A property `key=value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Prop {
    pub key: Spanned<String>,
    pub value: Entry,
}

/// A value with its optional type annotation, `(secret)"db-password"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub ty: Option<Spanned<String>>,
    pub value: Value,
    /// The value's own text, without annotation or key.
    pub span: Span,
    /// The whole entry: key, annotation and value.
    pub entry_span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    String(String),
    Int(i128),
    Float(f64),
    Bool(bool),
    Null,
}

impl Value {
    /// What kind of value this is, for messages: "a string", "an integer", ….
    pub fn kind(&self) -> &'static str {
        match self {
            Value::String(_) => "a string",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a decimal number",
            Value::Bool(_) => "a boolean",
            Value::Null => "#null",
        }
    }
}

impl Node {
    pub fn prop(&self, key: &str) -> Option<&Entry> {
        self.props.iter().rev().find(|p| p.key.value == key).map(|p| &p.value)
    }

    pub fn children(&self) -> &[Node] {
        self.children.as_deref().unwrap_or(&[])
    }

    /// The span of the node's head: its name, arguments and properties.
    pub fn head_span(&self) -> Span {
        let end = self
            .args
            .iter()
            .map(|a| a.entry_span.end)
            .chain(self.props.iter().map(|p| p.value.entry_span.end))
            .fold(self.name.span.end, u32::max);
        Span { start: self.name.span.start, end }
    }
}
