//! Every example under `examples/` checks clean, and its dependency graph (DOT and
//! Mermaid) is snapshotted.

mod common;

#[test]
fn examples_check_clean_and_graphs_are_stable() {
    for (name, text) in common::examples() {
        let analysis = hawser::check(&text);
        let rendered =
            hawser::cli::render::human(&analysis.diagnostics, "hawser.kdl", &text, hawser::cli::render::Style { color: false, width: 100 });
        assert!(analysis.diagnostics.is_empty(), "example {name} is not clean:\n{rendered}");
        let spec_model = analysis.spec.expect("model");
        let graph = hawser::check::graph::build(&spec_model.base);
        insta::with_settings!({ snapshot_path => "../snapshots/examples", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(format!("{name}-graph-dot"), graph.to_dot(&spec_model.base.project.name.value));
            insta::assert_snapshot!(format!("{name}-graph-mermaid"), graph.to_mermaid());
        });
    }
}
