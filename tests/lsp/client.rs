//! A test client: the server on a thread, connected in memory, driven message by message.

use std::thread::JoinHandle;
use std::time::Duration;

use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use serde_json::{Value, json};

/// How long a test waits for an answer before it fails: the server must answer every
/// request, never hang (generous: `why` runs hundreds of checks, on a busy machine).
const PATIENCE: Duration = Duration::from_secs(120);

pub struct Client {
    conn: Connection,
    server: Option<JoinHandle<Result<(), String>>>,
    next_id: i32,
    /// Every `publishDiagnostics` received, in order.
    pub published: Vec<Value>,
    pub capabilities: Value,
}

impl Client {
    /// Starts a server and initializes it with these client capabilities and options.
    pub fn start(capabilities: Value, options: Value) -> Client {
        let (client, server) = Connection::memory();
        let handle = std::thread::spawn(move || hawser::lsp::serve(&server));
        let mut c = Client { conn: client, server: Some(handle), next_id: 0, published: Vec::new(), capabilities: Value::Null };
        let init = c.request("initialize", json!({ "capabilities": capabilities, "initializationOptions": options }));
        c.capabilities = init.get("result").cloned().unwrap_or_default();
        c.notify("initialized", json!({}));
        c
    }

    pub fn notify(&self, method: &str, params: Value) {
        self.conn.sender.send(Message::Notification(Notification::new(method.to_owned(), params))).expect("the server hung up");
    }

    /// Sends a request and waits for its response, recording notifications on the way.
    /// The response as JSON: `{"result": …}` or `{"error": …}`.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        self.conn.sender.send(Message::Request(Request::new(id.clone(), method.to_owned(), params))).expect("the server hung up");
        loop {
            match self.conn.receiver.recv_timeout(PATIENCE) {
                Ok(Message::Response(Response { id: got, response_result, .. })) if got == id => {
                    return match response_result {
                        Ok(v) => json!({ "result": v }),
                        Err(e) => json!({ "error": { "code": e.code, "message": e.message } }),
                    };
                }
                Ok(Message::Notification(n)) => self.record(n),
                Ok(other) => panic!("unexpected message {other:?}"),
                Err(e) => panic!("no answer to `{method}`: {e}"),
            }
        }
    }

    fn record(&mut self, n: Notification) {
        if n.method == "textDocument/publishDiagnostics" {
            self.published.push(n.params);
        }
    }

    /// Waits until the server has handled everything sent so far: a request it does not
    /// know is answered after them, and changes are published before any answer.
    pub fn barrier(&mut self) {
        let r = self.request("hawser/barrier", json!({}));
        assert!(r.get("error").is_some());
    }

    pub fn open(&self, uri: &str, version: i32, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "kdl", "version": version, "text": text } }),
        );
    }

    /// The last diagnostics published for `uri`.
    pub fn last_published(&self, uri: &str) -> Option<&Value> {
        self.published.iter().rev().find(|p| p["uri"] == uri)
    }

    pub fn shutdown(mut self) {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(r["result"], Value::Null);
        self.notify("exit", Value::Null);
        let result = self.server.take().expect("started").join().expect("the server panicked");
        assert_eq!(result, Ok(()));
    }
}
