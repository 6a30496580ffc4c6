//! Random edit sequences over every example, as a careless or fast typist makes them:
//! insertions of half-typed nodes, stray braces and quotes, emoji and KDL's extra newline
//! characters, deletions, and positions past the end of lines, of the text or inside a
//! surrogate pair, with requests in between. The server must never panic, must answer every
//! request, and its last publish must be a fresh check of the final text.

use proptest::prelude::*;
use serde_json::{Value, json};

use hawser::lsp::position::{Encoding, LineCol, LineIndex};

use crate::client::Client;

const URI: &str = "file:///project/hawser.kdl";

const SNIPPETS: &[&str] = &[
    "service \"",
    "service \"new\" {\n    ",
    "}",
    "{",
    "\"",
    " port=",
    " limit=\"",
    "memory request=\"1Gi\" limit=\"512Mi\"\n",
    "depends-on \"",
    "(secret)\"",
    "🚀",
    "\u{2028}",
    "\u{85}",
    "\r\n",
    "\r",
    "/*",
    "/-",
    "#\"",
    "environment \"x\" {\n runs-on \"systemd\"\n",
    "=",
    "\\",
    "\"\\🚀",
    "\"\"\"",
];

#[derive(Debug, Clone)]
enum Op {
    Insert { line: u32, col: u32, snippet: usize },
    Delete { line: u32, col: u32, lines: u32, col2: u32 },
    Request { method: usize, line: u32, col: u32 },
}

const METHODS: &[&str] = &[
    "textDocument/hover",
    "textDocument/completion",
    "textDocument/definition",
    "textDocument/references",
    "textDocument/prepareRename",
    "textDocument/documentSymbol",
    "textDocument/foldingRange",
    "textDocument/formatting",
    "textDocument/codeAction",
    "textDocument/inlayHint",
    "textDocument/codeLens",
    "textDocument/rename",
];

fn op() -> impl Strategy<Value = Op> {
    // Lines and columns reach past the end of most lines and texts on purpose.
    prop_oneof![
        4 => (0u32..400, 0u32..90, 0..SNIPPETS.len()).prop_map(|(line, col, snippet)| Op::Insert { line, col, snippet }),
        2 => (0u32..400, 0u32..90, 0u32..3, 0u32..90).prop_map(|(line, col, lines, col2)| Op::Delete { line, col, lines, col2 }),
        3 => (0..METHODS.len(), 0u32..400, 0u32..90).prop_map(|(method, line, col)| Op::Request { method, line, col }),
    ]
}

/// Applies a change the way the protocol defines it: positions clamp to the text.
fn apply(text: &mut String, start: LineCol, end: LineCol, with: &str) {
    let index = LineIndex::new(text, Encoding::Utf16);
    let (a, b) = (index.offset(text, start), index.offset(text, end));
    text.replace_range(a.min(b)..a.max(b), with);
}

fn pos(lc: LineCol) -> Value {
    json!({ "line": lc.line, "character": lc.col })
}

fn params(method: &str, at: LineCol) -> Value {
    let doc = json!({ "uri": URI });
    let range = json!({ "start": pos(LineCol { line: 0, col: 0 }), "end": pos(at) });
    match method {
        "textDocument/documentSymbol" | "textDocument/foldingRange" | "textDocument/codeLens" => json!({ "textDocument": doc }),
        "textDocument/formatting" => json!({ "textDocument": doc, "options": { "tabSize": 4, "insertSpaces": true } }),
        "textDocument/codeAction" => json!({ "textDocument": doc, "range": range, "context": { "diagnostics": [] } }),
        "textDocument/inlayHint" => json!({ "textDocument": doc, "range": range }),
        "textDocument/references" => json!({ "textDocument": doc, "position": pos(at), "context": { "includeDeclaration": true } }),
        "textDocument/rename" => json!({ "textDocument": doc, "position": pos(at), "newName": "renamed" }),
        _ => json!({ "textDocument": doc, "position": pos(at) }),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_edits_never_break_the_server(example in 0usize..64, ops in prop::collection::vec(op(), 1..25)) {
        let examples = crate::common::examples();
        let mut text = examples[example % examples.len()].1.clone();
        let mut client = Client::start(json!({}), Value::Null);
        client.open(URI, 1, &text);
        let mut version = 1;
        for op in ops {
            match op {
                Op::Insert { line, col, snippet } => {
                    let at = LineCol { line, col };
                    version += 1;
                    client.notify("textDocument/didChange", json!({
                        "textDocument": { "uri": URI, "version": version },
                        "contentChanges": [{ "range": { "start": pos(at), "end": pos(at) }, "text": SNIPPETS[snippet] }],
                    }));
                    apply(&mut text, at, at, SNIPPETS[snippet]);
                }
                Op::Delete { line, col, lines, col2 } => {
                    let (start, end) = (LineCol { line, col }, LineCol { line: line + lines, col: col2 });
                    version += 1;
                    client.notify("textDocument/didChange", json!({
                        "textDocument": { "uri": URI, "version": version },
                        "contentChanges": [{ "range": { "start": pos(start), "end": pos(end) }, "text": "" }],
                    }));
                    apply(&mut text, start, end, "");
                }
                Op::Request { method, line, col } => {
                    let r = client.request(METHODS[method], params(METHODS[method], LineCol { line, col }));
                    // An answer, and never the server's own failure.
                    if let Some(e) = r.get("error") {
                        prop_assert_ne!(e["code"].as_i64(), Some(-32603), "{} failed inside: {}", METHODS[method], e);
                    }
                }
            }
        }
        client.barrier();
        let last = client.last_published(URI).cloned().expect("diagnostics were published");
        prop_assert_eq!(last["version"].as_i64(), Some(version));
        let fresh: Vec<(String, String)> = hawser::check(&text).diagnostics.iter().map(|d| (d.code.id.to_owned(), d.message.clone())).collect();
        let got: Vec<(String, String)> = last["diagnostics"].as_array().unwrap().iter().map(|d| {
            let message = d["message"].as_str().unwrap_or_default();
            let message = message.split("\nhelp: ").next().unwrap_or_default();
            let message = message.rsplit_once(" (in environment").map_or(message, |(m, _)| m);
            (d["code"].as_str().unwrap_or_default().to_owned(), message.to_owned())
        }).collect();
        prop_assert_eq!(got, fresh);
        client.shutdown();
    }
}
