//! `hawser graph`: the dependency graph of a spec, or of one environment, as Graphviz dot
//! or Mermaid text.

use crate::check::{self, graph};
use crate::diagnostics::Diagnostic;

/// How the graph is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

/// Why there is no graph.
#[derive(Debug)]
pub enum NoGraph {
    /// The spec has errors: these.
    SpecErrors(Vec<Diagnostic>),
    /// The spec has no such environment: what to tell the user.
    Error(String),
}

/// The graph of the spec's text, as every environment shares it, or as `env` sees it (only
/// the workloads it runs).
pub fn graph(text: &str, env: Option<&str>, format: GraphFormat) -> Result<String, NoGraph> {
    let analysis = check::check(text);
    if analysis.has_errors() {
        return Err(NoGraph::SpecErrors(analysis.diagnostics.into_iter().filter(Diagnostic::is_error).collect()));
    }
    let Some(spec) = &analysis.spec else { return Err(NoGraph::SpecErrors(Vec::new())) };
    let render = |graph: &graph::Graph, title: &str| match format {
        GraphFormat::Dot => graph.to_dot(title),
        GraphFormat::Mermaid => graph.to_mermaid(),
    };
    let project = &spec.base.project.name.value;
    match env {
        // The check built the base graph already.
        None => analysis.graph.as_ref().map(|g| render(g, project)).ok_or(NoGraph::SpecErrors(Vec::new())),
        Some(e) => match spec.environments.get(e) {
            Some(environment) => Ok(render(&graph::build_used(&environment.view), &format!("{project} ({e})"))),
            None => {
                let known: Vec<&str> = spec.environments.keys().map(String::as_str).collect();
                Err(NoGraph::Error(format!("the spec has no environment `{e}`; environments: {}", known.join(", "))))
            }
        },
    }
}
