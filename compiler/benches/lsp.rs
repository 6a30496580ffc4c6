//! Benchmarks of `hawser lsp` on the reference workload, through the protocol in memory:
//! a change notification until its diagnostics are published (50 and 1,000 services), and
//! hover and completion on a 1,000-service spec.
//!
//! Run: `cargo bench -p hawser --bench lsp`. Budgets: diagnostics ≤ 30 ms at 1,000
//! services; hover and completion ≤ 10 ms there.

use std::thread::JoinHandle;

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{Value, json};

fn main() {
    divan::main();
}

const URI: &str = "file:///bench/hawser.kdl";

struct Session {
    client: Connection,
    server: Option<JoinHandle<Result<(), String>>>,
    next: i32,
    version: i32,
}

impl Session {
    fn start(text: &str) -> Session {
        let (client, server) = Connection::memory();
        let handle = std::thread::spawn(move || hawser::lsp::serve(&server));
        let mut s = Session { client, server: Some(handle), next: 0, version: 1 };
        s.request("initialize", json!({ "capabilities": {} }));
        s.notify("initialized", json!({}));
        s.notify("textDocument/didOpen", json!({ "textDocument": { "uri": URI, "languageId": "kdl", "version": 1, "text": text } }));
        s.wait_published();
        s
    }

    fn notify(&self, method: &str, params: Value) {
        self.client.sender.send(Message::Notification(Notification::new(method.to_owned(), params))).unwrap();
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = RequestId::from(self.next);
        self.client.sender.send(Message::Request(Request::new(id.clone(), method.to_owned(), params))).unwrap();
        loop {
            if let Message::Response(r) = self.client.receiver.recv().unwrap()
                && r.id == id
            {
                return r.response_result.unwrap_or(Value::Null);
            }
        }
    }

    fn wait_published(&self) -> Value {
        loop {
            if let Message::Notification(n) = self.client.receiver.recv().unwrap()
                && n.method == "textDocument/publishDiagnostics"
            {
                return n.params;
            }
        }
    }

    /// Replaces a replica count (line 7 of the spec: `replicas 2`) and waits for the
    /// diagnostics of the new version.
    fn edit_and_wait(&mut self) -> Value {
        self.version += 1;
        let digit = if self.version % 2 == 0 { "3" } else { "2" };
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": URI, "version": self.version }, "contentChanges": [{ "range": { "start": { "line": 8, "character": 13 }, "end": { "line": 8, "character": 14 } }, "text": digit }] }),
        );
        let p = self.wait_published();
        assert_eq!(p["version"], self.version);
        p
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        if let Some(h) = self.server.take() {
            let _ = h.join();
        }
    }
}

#[divan::bench(args = [50, 1000], sample_count = 30)]
fn change_to_diagnostics(bencher: divan::Bencher, n: usize) {
    let mut s = Session::start(&hawser::cli::synthetic::spec(n));
    bencher.bench_local(|| s.edit_and_wait());
}

/// Hover on the memory limit of the last service: schema docs and its value in each
/// environment. The text is unchanged between requests, as when the mouse moves.
#[divan::bench(sample_count = 30)]
fn hover_1000(bencher: divan::Bencher) {
    let text = hawser::cli::synthetic::spec(1000);
    let line = text.lines().enumerate().filter(|(_, l)| l.contains("memory request")).last().map(|(i, _)| i).unwrap();
    let mut s = Session::start(&text);
    let params = json!({ "textDocument": { "uri": URI }, "position": { "line": line, "character": 30 } });
    bencher.bench_local(|| {
        let r = s.request("textDocument/hover", params.clone());
        assert!(r["contents"]["value"].as_str().is_some_and(|v| v.contains("prod")), "{r}");
        r
    });
}

/// Completion of a node name inside the last service's block.
#[divan::bench(sample_count = 30)]
fn completion_1000(bencher: divan::Bencher) {
    let text = hawser::cli::synthetic::spec(1000);
    let line = text.lines().enumerate().filter(|(_, l)| l.contains("cpu request")).last().map(|(i, _)| i).unwrap();
    let mut s = Session::start(&text);
    let params = json!({ "textDocument": { "uri": URI }, "position": { "line": line, "character": 4 } });
    bencher.bench_local(|| {
        let r = s.request("textDocument/completion", params.clone());
        assert!(r["items"].as_array().is_some_and(|i| !i.is_empty()), "{r}");
        r
    });
}
