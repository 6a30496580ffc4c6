//! LSP fixtures: each `fixtures/*.kdl` is a spec with cursor markers (`$1` … `$9`, removed
//! before it is opened) and, in `//>` comment lines, the requests to send. The diagnostics
//! published on open and every response are snapshotted.
//!
//! Requests: `hover $N`, `completion $N`, `definition $N`, `references $N`,
//! `prepareRename $N`, `rename $N NAME`, `codeAction $N [$M]`, `symbols`, `folding`,
//! `formatting`, `inlayHint`, `codeLens`, `command NAME ARG…` (the spec's URI first),
//! `change $N $M "JSON TEXT"` (replace between two markers, then show what is published).
//! `//> init {…}` gives the client capabilities, `//> options {…}` the initialization
//! options; both must come first.

use serde_json::{Value, json};

use hawser::lsp::position::{Encoding, LineIndex};

use crate::client::Client;

const URI: &str = "file:///project/hawser.kdl";

#[test]
fn fixtures() {
    insta::glob!("fixtures/*.kdl", |path| {
        let source = std::fs::read_to_string(path).unwrap();
        let out = run(&source);
        insta::with_settings!({ snapshot_path => "../../snapshots/lsp", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(out);
        });
    });
}

/// The text without markers, and each marker's byte offset in it. Markers in `//>` lines
/// name positions; they are left as they are.
fn strip_markers(source: &str) -> (String, [Option<usize>; 10]) {
    let mut text = String::with_capacity(source.len());
    let mut marks = [None; 10];
    for line in source.split_inclusive('\n') {
        if line.trim_start().starts_with("//>") {
            text.push_str(line);
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find('$') {
            let digit = rest[i + 1..].chars().next().and_then(|c| c.to_digit(10));
            text.push_str(&rest[..i]);
            match digit {
                Some(d) => {
                    marks[d as usize] = Some(text.len());
                    rest = &rest[i + 2..];
                }
                None => {
                    text.push('$');
                    rest = &rest[i + 1..];
                }
            }
        }
        text.push_str(rest);
    }
    (text, marks)
}

fn run(source: &str) -> String {
    let (mut text, mut marks) = strip_markers(source);
    let directives: Vec<String> = source.lines().filter_map(|l| l.trim().strip_prefix("//> ")).map(str::to_owned).collect();
    let mut capabilities = json!({});
    let mut options = Value::Null;
    for d in &directives {
        if let Some(c) = d.strip_prefix("init ") {
            capabilities = serde_json::from_str(c).unwrap();
        } else if let Some(o) = d.strip_prefix("options ") {
            options = serde_json::from_str(o).unwrap();
        }
    }
    let mut client = Client::start(capabilities, options);
    let encoding = match client.capabilities["capabilities"]["positionEncoding"].as_str() {
        Some("utf-8") => Encoding::Utf8,
        Some("utf-32") => Encoding::Utf32,
        _ => Encoding::Utf16,
    };
    let mut out = format!("position encoding: {encoding:?}\n");
    client.open(URI, 1, &text);
    client.barrier();
    out.push_str(&section("diagnostics on open", client.last_published(URI).cloned().unwrap_or_default()));
    let mut version = 1;
    for d in directives.iter().filter(|d| !d.starts_with("init ") && !d.starts_with("options ")) {
        let index = LineIndex::new(&text, encoding);
        let pos = |m: &str| -> Value {
            let n: usize = m.trim_start_matches('$').parse().unwrap_or_else(|_| panic!("`{m}` is not a marker"));
            let offset = marks[n].unwrap_or_else(|| panic!("no marker ${n} in the fixture"));
            let lc = index.line_col(&text, offset);
            json!({ "line": lc.line, "character": lc.col })
        };
        let words: Vec<&str> = d.split_whitespace().collect();
        let doc = json!({ "uri": URI });
        let response = match words.as_slice() {
            ["hover", m] => client.request("textDocument/hover", json!({ "textDocument": doc, "position": pos(m) })),
            ["completion", m] => client.request("textDocument/completion", json!({ "textDocument": doc, "position": pos(m) })),
            ["definition", m] => client.request("textDocument/definition", json!({ "textDocument": doc, "position": pos(m) })),
            ["references", m] => client.request(
                "textDocument/references",
                json!({ "textDocument": doc, "position": pos(m), "context": { "includeDeclaration": true } }),
            ),
            ["prepareRename", m] => client.request("textDocument/prepareRename", json!({ "textDocument": doc, "position": pos(m) })),
            ["rename", m, name] => {
                client.request("textDocument/rename", json!({ "textDocument": doc, "position": pos(m), "newName": name }))
            }
            ["codeAction", m, rest @ ..] => {
                let end = rest.first().map_or_else(|| pos(m), |e| pos(e));
                client.request(
                    "textDocument/codeAction",
                    json!({ "textDocument": doc, "range": { "start": pos(m), "end": end }, "context": { "diagnostics": [] } }),
                )
            }
            ["symbols"] => client.request("textDocument/documentSymbol", json!({ "textDocument": doc })),
            ["folding"] => client.request("textDocument/foldingRange", json!({ "textDocument": doc })),
            ["formatting"] => {
                client.request("textDocument/formatting", json!({ "textDocument": doc, "options": { "tabSize": 4, "insertSpaces": true } }))
            }
            ["inlayHint"] => {
                let end = index.line_col(&text, text.len());
                client.request(
                    "textDocument/inlayHint",
                    json!({ "textDocument": doc, "range": { "start": { "line": 0, "character": 0 }, "end": { "line": end.line, "character": end.col } } }),
                )
            }
            ["codeLens"] => client.request("textDocument/codeLens", json!({ "textDocument": doc })),
            ["command", name, args @ ..] => {
                let mut arguments = vec![json!(URI)];
                arguments.extend(args.iter().map(|a| json!(a)));
                client.request("workspace/executeCommand", json!({ "command": name, "arguments": arguments }))
            }
            ["change", a, b, ..] => {
                let replacement: String = serde_json::from_str(d.splitn(4, ' ').nth(3).unwrap_or("\"\"")).unwrap();
                let (start, end) = (pos(a), pos(b));
                version += 1;
                client.notify(
                    "textDocument/didChange",
                    json!({ "textDocument": { "uri": URI, "version": version }, "contentChanges": [{ "range": { "start": start, "end": end }, "text": replacement }] }),
                );
                let (sa, sb) = (marks_of(a, &marks), marks_of(b, &marks));
                text.replace_range(sa..sb, &replacement);
                let delta = replacement.len() as isize - (sb - sa) as isize;
                for m in marks.iter_mut().flatten() {
                    if *m >= sb {
                        *m = (*m as isize + delta) as usize;
                    }
                }
                client.barrier();
                client.last_published(URI).cloned().unwrap_or_default()
            }
            other => panic!("unknown directive {other:?}"),
        };
        out.push_str(&section(d, response));
    }
    client.shutdown();
    out
}

fn marks_of(m: &str, marks: &[Option<usize>; 10]) -> usize {
    marks[m.trim_start_matches('$').parse::<usize>().unwrap()].unwrap()
}

fn section(title: &str, value: Value) -> String {
    // A command's text (generated files, a diff) is the generators' to snapshot: here only
    // which files it holds, so a change to a generator does not change this snapshot.
    if let Some(text) = value["result"].as_str().filter(|t| t.lines().count() > 5) {
        let headers: Vec<&str> =
            text.lines().filter(|l| l.starts_with("# ==> ") || l.starts_with("--- ") || l.starts_with("+++ ")).collect();
        return format!("\n## {title}\ntext with the files:\n{}\n", headers.join("\n"));
    }
    format!("\n## {title}\n{}\n", serde_json::to_string_pretty(&value).unwrap())
}
