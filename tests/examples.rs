//! Every example under `examples/` checks clean, and its dependency graph (DOT and
//! Mermaid) is snapshotted.

use std::path::{Path, PathBuf};

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("examples dir")
        .filter_map(|e| Some(e.ok()?.path().join("hawser.kdl")))
        .filter(|p| p.exists())
        .collect();
    specs.sort();
    specs
}

#[test]
fn examples_check_clean_and_graphs_are_stable() {
    let specs = examples();
    assert!(specs.len() >= 3, "expected at least three examples, found {}", specs.len());
    for spec in specs {
        let name = spec.parent().and_then(Path::file_name).and_then(|n| n.to_str()).expect("example name").to_owned();
        let text = std::fs::read_to_string(&spec).expect("example readable");
        let analysis = hawser::check(&text);
        let rendered =
            hawser::render::human(&analysis.diagnostics, "hawser.kdl", &text, hawser::render::Style { color: false, width: 100 });
        assert!(analysis.diagnostics.is_empty(), "example {name} is not clean:\n{rendered}");
        let spec_model = analysis.spec.expect("model");
        let graph = hawser::graph::build(&spec_model.base);
        insta::with_settings!({ snapshot_path => "../snapshots/examples", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(format!("{name}-graph-dot"), graph.to_dot(&spec_model.base.project.name.value));
            insta::assert_snapshot!(format!("{name}-graph-mermaid"), graph.to_mermaid());
        });
    }
}
