//! The dependency graph: workloads, externals and secrets as nodes, `depends-on` and secret
//! uses as edges. Nodes are inserted in sorted order so that every walk is deterministic.

use std::collections::BTreeMap;
use std::fmt::Write;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::check::model::View;
use crate::diagnostics::{self as diag, Diagnostic};
use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    Service,
    Job,
    ScheduledJob,
    External,
    Secret,
}

impl NodeKind {
    pub fn name(self) -> &'static str {
        match self {
            NodeKind::Service => "service",
            NodeKind::Job => "job",
            NodeKind::ScheduledJob => "scheduled job",
            NodeKind::External => "external",
            NodeKind::Secret => "secret",
        }
    }
}

#[derive(Clone, Debug)]
pub struct GraphNode {
    pub name: String,
    pub kind: NodeKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    DependsOn,
    UsesSecret,
}

#[derive(Clone, Debug)]
pub struct GraphEdge {
    pub kind: EdgeKind,
    /// Where the spec says so: the `depends-on` argument or the `(secret)` value.
    pub span: Span,
}

#[derive(Debug, Default)]
pub struct Graph {
    pub graph: DiGraph<GraphNode, GraphEdge>,
    index: BTreeMap<String, NodeIndex>,
}

/// Builds the graph of a view. References to undeclared names are left out (reported
/// elsewhere).
pub fn build(view: &View) -> Graph {
    build_with(view, false)
}

/// The graph of an environment's view: only the externals and secrets its workloads use.
pub fn build_used(view: &View) -> Graph {
    build_with(view, true)
}

fn build_with(view: &View, only_used: bool) -> Graph {
    let mut g = Graph::default();
    let mut nodes: Vec<(NodeKind, &str)> = Vec::new();
    for w in view.workloads.values() {
        let kind = match () {
            _ if w.is_service() => NodeKind::Service,
            _ if w.is_scheduled() => NodeKind::ScheduledJob,
            _ => NodeKind::Job,
        };
        nodes.push((kind, &w.name.value));
    }
    let deps: std::collections::BTreeSet<&str> =
        view.workloads.values().flat_map(|w| w.depends_on.iter().map(|d| d.value.as_str())).collect();
    let secrets: std::collections::BTreeSet<&str> = view.workloads.values().flat_map(|w| w.secrets()).map(|s| s.value.as_str()).collect();
    nodes.extend(view.externals.keys().filter(|n| !only_used || deps.contains(n.as_str())).map(|n| (NodeKind::External, n.as_str())));
    nodes.extend(view.secrets.keys().filter(|n| !only_used || secrets.contains(n.as_str())).map(|n| (NodeKind::Secret, n.as_str())));
    nodes.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    for (kind, name) in nodes {
        // Secrets live in their own namespace; key them apart from workloads.
        let key = node_key(kind, name);
        let idx = g.graph.add_node(GraphNode { name: name.to_owned(), kind });
        g.index.entry(key).or_insert(idx);
    }
    for w in view.workloads.values() {
        let from = g.index[&node_key(NodeKind::Service, &w.name.value)];
        for dep in &w.depends_on {
            if let Some(&to) = g.index.get(&node_key(NodeKind::Service, &dep.value)) {
                g.graph.add_edge(from, to, GraphEdge { kind: EdgeKind::DependsOn, span: dep.span });
            }
        }
        for s in w.secrets() {
            if let Some(&to) = g.index.get(&node_key(NodeKind::Secret, &s.value)) {
                g.graph.add_edge(from, to, GraphEdge { kind: EdgeKind::UsesSecret, span: s.span });
            }
        }
    }
    g
}

fn node_key(kind: NodeKind, name: &str) -> String {
    match kind {
        NodeKind::Secret => format!("secret:{name}"),
        _ => format!("workload:{name}"),
    }
}

impl Graph {
    /// One diagnostic per dependency cycle, naming every node on it, with a label on each
    /// `depends-on` that closes it.
    pub fn cycles(&self) -> Vec<Diagnostic> {
        let deps = self.graph.filter_map(|_, n| Some(n.clone()), |_, e| (e.kind == EdgeKind::DependsOn).then(|| e.clone()));
        let mut out = Vec::new();
        for scc in petgraph::algo::tarjan_scc(&deps) {
            if scc.len() < 2 {
                continue;
            }
            let members: std::collections::BTreeSet<NodeIndex> = scc.iter().copied().collect();
            let start = *members.iter().min_by_key(|i| &deps[**i].name).unwrap_or(&scc[0]);
            let path = cycle_through(&deps, start, &members);
            let names: Vec<String> = path.iter().map(|i| deps[*i].name.clone()).collect();
            let mut edges: Vec<(Span, String)> = Vec::new();
            for (k, from) in path.iter().enumerate() {
                let to = path[(k + 1) % path.len()];
                if let Some(e) = deps.edges_connecting(*from, to).next() {
                    edges.push((e.weight().span, format!("`{}` depends on `{}`", deps[*from].name, deps[to].name)));
                }
            }
            // Edges inside the component but off this cycle close cycles too.
            for e in deps.edge_references() {
                if members.contains(&e.source()) && members.contains(&e.target()) && !edges.iter().any(|(s, _)| *s == e.weight().span) {
                    edges.push((e.weight().span, format!("`{}` depends on `{}`", deps[e.source()].name, deps[e.target()].name)));
                }
            }
            out.push(diag::cycle(&names, &edges));
        }
        out
    }

    /// Workload names so that every workload comes after what it depends on (cycles broken
    /// arbitrarily but deterministically: they are reported as errors anyway).
    pub fn dependency_order(&self) -> Vec<&str> {
        let mut order = Vec::new();
        let mut state = vec![0u8; self.graph.node_count()];
        fn visit<'g>(g: &'g Graph, i: NodeIndex, state: &mut [u8], order: &mut Vec<&'g str>) {
            if state[i.index()] != 0 {
                return;
            }
            state[i.index()] = 1;
            let mut next: Vec<NodeIndex> =
                g.graph.edges(i).filter(|e| e.weight().kind == EdgeKind::DependsOn).map(|e| e.target()).collect();
            next.sort();
            for n in next {
                visit(g, n, state, order);
            }
            if matches!(g.graph[i].kind, NodeKind::Service | NodeKind::Job | NodeKind::ScheduledJob) {
                order.push(&g.graph[i].name);
            }
        }
        for i in self.graph.node_indices() {
            visit(self, i, &mut state, &mut order);
        }
        order
    }

    /// Graphviz DOT.
    pub fn to_dot(&self, title: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "digraph {} {{", quote(title));
        s.push_str("    rankdir=LR;\n    node [fontname=\"Helvetica\", fontsize=11];\n");
        for n in self.graph.node_weights() {
            let shape = match n.kind {
                NodeKind::Service => "box",
                NodeKind::Job | NodeKind::ScheduledJob => "box, style=rounded",
                NodeKind::External => "cylinder",
                NodeKind::Secret => "note",
            };
            let _ =
                writeln!(s, "    {} [shape={shape}, label={}];", quote(&self.dot_id(n)), quote(&format!("{}\\n{}", n.name, n.kind.name())));
        }
        for e in self.sorted_edges() {
            let style = match e.2 {
                EdgeKind::DependsOn => "",
                EdgeKind::UsesSecret => " [style=dashed]",
            };
            let _ = writeln!(s, "    {} -> {}{style};", quote(&self.dot_id(&self.graph[e.0])), quote(&self.dot_id(&self.graph[e.1])));
        }
        s.push_str("}\n");
        s
    }

    /// A Mermaid flowchart.
    pub fn to_mermaid(&self) -> String {
        let mut s = String::from("flowchart LR\n");
        for n in self.graph.node_weights() {
            let label = format!("{}<br/><small>{}</small>", n.name, n.kind.name());
            let shape = match n.kind {
                NodeKind::Service => format!("[\"{label}\"]"),
                NodeKind::Job | NodeKind::ScheduledJob => format!("([\"{label}\"])"),
                NodeKind::External => format!("[(\"{label}\")]"),
                NodeKind::Secret => format!(">\"{label}\"]"),
            };
            let _ = writeln!(s, "    {}{shape}", mermaid_id(n));
        }
        for e in self.sorted_edges() {
            let arrow = match e.2 {
                EdgeKind::DependsOn => "-->",
                EdgeKind::UsesSecret => "-.->",
            };
            let _ = writeln!(s, "    {} {arrow} {}", mermaid_id(&self.graph[e.0]), mermaid_id(&self.graph[e.1]));
        }
        s
    }

    fn sorted_edges(&self) -> Vec<(NodeIndex, NodeIndex, EdgeKind)> {
        let mut edges: Vec<(NodeIndex, NodeIndex, EdgeKind)> =
            self.graph.edge_references().map(|e| (e.source(), e.target(), e.weight().kind)).collect();
        edges.sort_by_key(|e| (e.0, e.1, e.2 == EdgeKind::UsesSecret));
        edges.dedup();
        edges
    }

    fn dot_id(&self, n: &GraphNode) -> String {
        match n.kind {
            NodeKind::Secret => format!("secret:{}", n.name),
            _ => n.name.clone(),
        }
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\\\""))
}

fn mermaid_id(n: &GraphNode) -> String {
    let prefix = match n.kind {
        NodeKind::Secret => "secret_",
        NodeKind::External => "external_",
        _ => "",
    };
    format!("{prefix}{}", n.name.replace('-', "_"))
}

/// A simple cycle through `start` inside one strongly connected component.
fn cycle_through(g: &DiGraph<GraphNode, GraphEdge>, start: NodeIndex, members: &std::collections::BTreeSet<NodeIndex>) -> Vec<NodeIndex> {
    // Breadth-first search for the shortest way back to `start`, in index order.
    let mut prev: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        let mut next: Vec<NodeIndex> = g.edges(n).map(|e| e.target()).filter(|t| members.contains(t)).collect();
        next.sort();
        for t in next {
            if t == start {
                let mut path = vec![n];
                let mut cur = n;
                while cur != start {
                    cur = prev[&cur];
                    path.push(cur);
                }
                path.reverse();
                return path;
            }
            if let std::collections::btree_map::Entry::Vacant(e) = prev.entry(t) {
                e.insert(n);
                queue.push_back(t);
            }
        }
    }
    vec![start]
}
