//! The publishing contract: every publish carries the version it was computed for, versions
//! only grow, the last publish is of the last text, and closing clears the diagnostics.

use serde_json::json;

use crate::client::Client;

const URI: &str = "file:///project/hawser.kdl";

const GOOD: &str = "project \"shop\" {\n    version \"1.0.0\"\n}\n";

fn change(client: &Client, version: i32, text: &str) {
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": URI, "version": version }, "contentChanges": [{ "text": text }] }),
    );
}

fn codes(p: &serde_json::Value) -> Vec<String> {
    let mut codes: Vec<String> =
        p["diagnostics"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap_or_default().to_owned()).collect();
    codes.sort();
    codes
}

#[test]
fn newer_edits_supersede_older_ones_and_versions_only_grow() {
    let mut client = Client::start(json!({}), json!(null));
    client.open(URI, 1, GOOD);
    // A burst of changes, as fast typing sends them: an error, then its fix, many times.
    for v in 2..=40 {
        let text = if v % 2 == 0 { GOOD.replace("version \"1.0.0\"", "versoin \"1.0.0\"") } else { GOOD.to_owned() };
        change(&client, v, &text);
    }
    change(&client, 41, &GOOD.replace("version", "vers"));
    client.barrier();
    let versions: Vec<i64> = client.published.iter().map(|p| p["version"].as_i64().unwrap()).collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "publishes out of order: {versions:?}");
    let last = client.last_published(URI).unwrap();
    assert_eq!(last["version"], 41);
    assert_eq!(codes(last), ["E0002", "E0004"], "{last}");
    // Each publish is the check of the text of its own version.
    for p in &client.published {
        let v = p["version"].as_i64().unwrap();
        let expected: Vec<&str> = match v {
            1 => vec![],
            41 => vec!["E0002", "E0004"],
            v if v % 2 == 0 => vec!["E0002", "E0004"],
            _ => vec![],
        };
        assert_eq!(codes(p), expected, "version {v}");
    }
    client.shutdown();
}

#[test]
fn closing_a_document_clears_its_diagnostics() {
    let mut client = Client::start(json!({}), json!(null));
    client.open(URI, 1, &GOOD.replace("version", "versoin"));
    client.barrier();
    assert!(!codes(client.last_published(URI).unwrap()).is_empty());
    client.notify("textDocument/didClose", json!({ "textDocument": { "uri": URI } }));
    client.barrier();
    let last = client.last_published(URI).unwrap();
    assert_eq!(last["diagnostics"], json!([]));
    assert_eq!(last["version"], json!(null));
    // A request about a closed document is answered with an error, not silence.
    let r = client.request("textDocument/hover", json!({ "textDocument": { "uri": URI }, "position": { "line": 0, "character": 0 } }));
    assert!(r.get("error").is_some(), "{r}");
    client.shutdown();
}

#[test]
fn incremental_changes_count_utf16_units_and_editor_lines() {
    let mut client = Client::start(json!({}), json!(null));
    // A CRLF file with an emoji, a line separator and a NEL: the editor shows four lines,
    // and so does the server. (To KDL the line separator and the NEL end lines too, and so
    // end the comments before them: a comment follows each.)
    let text = "// 🚀 rocket\u{2028}// still line 0\r\nproject \"shop\" { // \u{85}// NEL\r\n    version \"1.0.0\"\r\n}\r\n";
    client.open(URI, 1, text);
    client.barrier();
    assert_eq!(codes(client.last_published(URI).unwrap()), Vec::<String>::new());
    // Replace `version` (line 2, UTF-16 columns 4..11) with a typo.
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": URI, "version": 2 }, "contentChanges": [{ "range": { "start": { "line": 2, "character": 4 }, "end": { "line": 2, "character": 11 } }, "text": "versoin" }] }),
    );
    client.barrier();
    let last = client.last_published(URI).unwrap();
    let unknown = last["diagnostics"].as_array().unwrap().iter().find(|d| d["code"] == "E0002").expect("E0002");
    assert_eq!(unknown["range"], json!({ "start": { "line": 2, "character": 4 }, "end": { "line": 2, "character": 11 } }));
    // The outline agrees: `project` on line 1, `versoin` on line 2, after a line 0 that
    // holds a line separator.
    let symbols = client.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": URI } }));
    let project = &symbols["result"][0];
    assert_eq!(project["selectionRange"]["start"], json!({ "line": 1, "character": 8 }), "{symbols}");
    assert_eq!(project["children"][0]["range"]["start"], json!({ "line": 2, "character": 4 }), "{symbols}");
    client.shutdown();
}
