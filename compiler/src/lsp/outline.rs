//! The document's outline: a symbol for every node (named by its first argument when it
//! has one), and a folding range for every children block that spans lines.

use crate::span::Span;
use crate::syntax::{Document, Node};

use super::tree;

/// One node of the outline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    /// The node's name when the symbol is named by its argument (`service`).
    pub detail: Option<String>,
    pub kind: SymbolKind,
    pub span: Span,
    /// What the editor selects: the name argument, or the node's name.
    pub selection: Span,
    pub children: Vec<Symbol>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    /// A service, job or environment.
    Module,
    /// A secret or external.
    Constant,
    /// A port.
    Field,
    /// A setting.
    Property,
    /// The project.
    Package,
}

pub fn symbols(doc: &Document) -> Vec<Symbol> {
    doc.nodes.iter().map(|n| symbol(n, true)).collect()
}

fn symbol(n: &Node, top: bool) -> Symbol {
    let arg = tree::first_string(n);
    let kind = match (n.name.value.as_str(), top) {
        ("service" | "job" | "environment", _) => SymbolKind::Module,
        ("secret" | "external", _) => SymbolKind::Constant,
        ("project", true) => SymbolKind::Package,
        ("port", _) => SymbolKind::Field,
        _ => SymbolKind::Property,
    };
    let (name, detail, selection) = match (arg, kind) {
        (Some(a), SymbolKind::Module | SymbolKind::Constant | SymbolKind::Package | SymbolKind::Field) => {
            (a.to_owned(), Some(n.name.value.clone()), n.args[0].span)
        }
        _ => (n.name.value.clone(), None, n.name.span),
    };
    Symbol { name, detail, kind, span: n.span, selection, children: n.children().iter().map(|c| symbol(c, false)).collect() }
}

/// Children blocks that span more than one line, as (first line, last line) byte spans.
pub fn folding(doc: &Document) -> Vec<Span> {
    let mut out = Vec::new();
    fn walk(nodes: &[Node], out: &mut Vec<Span>) {
        for n in nodes {
            if n.children.is_some() {
                out.push(n.span);
                walk(n.children(), out);
            }
        }
    }
    walk(&doc.nodes, &mut out);
    out
}
