//! From a generated file to the spec: `textDocument/definition` on a line of a committed
//! example's output lands on the spec values that produce it, and a file hawser did not
//! generate is refused.

use serde_json::json;

use hawser::lsp::origin::path_uri;

use crate::client::Client;

fn example(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/payments").join(rel).canonicalize().unwrap()
}

#[test]
fn a_generated_line_leads_to_the_overlay_value_that_produced_it() {
    let mut client = Client::start(json!({}), json!(null));
    let manifest = path_uri(&example("generated/kubernetes/prod/api.yaml")).unwrap();
    let spec = path_uri(&example("hawser.kdl")).unwrap();
    // Line 196 (from 1) is `value: 921MiB`, GOMEMLIMIT from prod's `limit="1Gi"`.
    let r = client
        .request("textDocument/definition", json!({ "textDocument": { "uri": manifest }, "position": { "line": 195, "character": 10 } }));
    let found = r["result"].as_array().unwrap_or_else(|| panic!("{r}"));
    assert!(!found.is_empty(), "{r}");
    assert!(found.iter().all(|l| l["uri"] == spec), "{r}");
    let lines: Vec<u64> = found.iter().map(|l| l["range"]["start"]["line"].as_u64().unwrap()).collect();
    // Line 118 (from 1) of the spec: `memory request="512Mi" limit="1Gi"` in prod.
    assert!(lines.contains(&117), "{lines:?}");
    // Broken input: a file no lock lists.
    let readme = path_uri(&example("README.md")).unwrap();
    let r =
        client.request("textDocument/definition", json!({ "textDocument": { "uri": readme }, "position": { "line": 0, "character": 0 } }));
    assert!(r["error"]["message"].as_str().is_some_and(|m| m.contains("not a file hawser generated")), "{r}");
    client.shutdown();
}
