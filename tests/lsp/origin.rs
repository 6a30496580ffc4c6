//! From a generated file to the spec: `textDocument/definition` on a line of a committed
//! example's output lands on the spec values that produce it, and a file hawser did not
//! generate is refused.

use serde_json::json;

use hawser::lsp::origin::path_uri;

use crate::client::Client;

fn example(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/payments").join(rel).canonicalize().unwrap()
}

/// The 0-based number of the first line of `path` that contains `text`.
fn line_of(path: &std::path::Path, text: &str) -> u64 {
    let content = std::fs::read_to_string(path).unwrap();
    content.lines().position(|l| l.contains(text)).unwrap_or_else(|| panic!("{text} is not in {}", path.display())) as u64
}

#[test]
fn a_generated_line_leads_to_the_overlay_value_that_produced_it() {
    let mut client = Client::start(json!({}), json!(null));
    let manifest = path_uri(&example("generated/kubernetes/prod/api.yaml")).unwrap();
    let spec = path_uri(&example("hawser.kdl")).unwrap();
    // The line `value: 921MiB` after `name: GOMEMLIMIT`: GOMEMLIMIT from prod's `limit="1Gi"`.
    let line = line_of(&example("generated/kubernetes/prod/api.yaml"), "- name: GOMEMLIMIT") + 1;
    let r = client
        .request("textDocument/definition", json!({ "textDocument": { "uri": manifest }, "position": { "line": line, "character": 10 } }));
    let found = r["result"].as_array().unwrap_or_else(|| panic!("{r}"));
    assert!(!found.is_empty(), "{r}");
    assert!(found.iter().all(|l| l["uri"] == spec), "{r}");
    let lines: Vec<u64> = found.iter().map(|l| l["range"]["start"]["line"].as_u64().unwrap()).collect();
    // The spec's `memory request="512Mi" limit="1Gi"` in prod.
    let limit = line_of(&example("hawser.kdl"), r#"memory request="512Mi" limit="1Gi""#);
    assert!(lines.contains(&limit), "{lines:?} should hold {limit}");
    // Broken input: a file no lock lists.
    let readme = path_uri(&example("README.md")).unwrap();
    let r =
        client.request("textDocument/definition", json!({ "textDocument": { "uri": readme }, "position": { "line": 0, "character": 0 } }));
    assert!(r["error"]["message"].as_str().is_some_and(|m| m.contains("not a file hawser generated")), "{r}");
    client.shutdown();
}
