//! `hawser lsp`: the language server, synchronous over stdio.
//!
//! One thread reads messages in order. Every change is applied at once; the whole spec is
//! checked again lazily, when a request needs the analysis or when no message is waiting.
//! Diagnostics are published with the document version they were computed for, and never
//! while a newer change to the same document is already queued, so an editor never sees a
//! stale or out-of-order publish. Closing a document clears its diagnostics.
//!
//! The feature modules work on plain data (byte spans, strings); [`proto`] alone converts
//! to and from LSP types.

pub mod actions;
pub mod completion;
pub mod hints;
pub mod hover;
pub mod origin;
pub mod outline;
pub mod position;
pub mod proto;
pub mod tree;

use std::collections::{BTreeMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types as lsp;
use serde_json::Value as Json;

use crate::check::{self, Analysis};
use crate::cli::session;
use crate::emit::{Artifacts, Options};
use crate::review;
use crate::syntax::{self, Document};
use position::{Encoding, LineIndex};
use proto::Text;

/// Runs the server on stdin and stdout until the client says `exit`.
pub fn run_stdio() -> Result<(), String> {
    let (connection, io_threads) = Connection::stdio();
    serve(&connection)?;
    drop(connection);
    io_threads.join().map_err(|e| e.to_string())
}

/// Settings a client may pass in `initializationOptions`.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Config {
    /// Inlay hints with the value each environment gives a base setting (off by default:
    /// noisy in specs with many overlays).
    pub override_hints: bool,
    /// Inlay hints with each workload's instances, GOMEMLIMIT and QoS class per environment.
    pub derived_hints: Option<bool>,
}

/// Serves one client on `connection`: the initialize handshake, then requests and
/// notifications until `exit`.
pub fn serve(connection: &Connection) -> Result<(), String> {
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let params: lsp::InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let offered = params.capabilities.general.as_ref().and_then(|g| g.position_encodings.as_deref());
    let encoding = proto::negotiate(offered);
    let config: Config = params.initialization_options.and_then(|o| serde_json::from_value(o).ok()).unwrap_or_default();
    let result = serde_json::json!({
        "capabilities": capabilities(encoding),
        "serverInfo": { "name": "hawser", "version": env!("CARGO_PKG_VERSION") },
    });
    connection.initialize_finish(id, result).map_err(|e| e.to_string())?;
    let mut server = Server { connection, encoding, config, docs: BTreeMap::new(), queue: VecDeque::new() };
    server.run()
}

fn capabilities(encoding: Encoding) -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        position_encoding: Some(proto::encoding_kind(encoding)),
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(lsp::TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(lsp::TextDocumentSyncKind::INCREMENTAL),
            ..lsp::TextDocumentSyncOptions::default()
        })),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec!["\"".to_owned(), "=".to_owned()]),
            ..lsp::CompletionOptions::default()
        }),
        definition_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        rename_provider: Some(lsp::OneOf::Right(lsp::RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        folding_range_provider: Some(lsp::FoldingRangeProviderCapability::Simple(true)),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Simple(true)),
        inlay_hint_provider: Some(lsp::OneOf::Left(true)),
        code_lens_provider: Some(lsp::CodeLensOptions { resolve_provider: Some(false) }),
        execute_command_provider: Some(lsp::ExecuteCommandOptions {
            commands: vec![hints::SHOW_GENERATED.to_owned(), hints::DIFF_ENVIRONMENTS.to_owned()],
            ..lsp::ExecuteCommandOptions::default()
        }),
        ..lsp::ServerCapabilities::default()
    }
}

/// An open document.
struct Doc {
    uri: lsp::Uri,
    version: i32,
    text: String,
    index: LineIndex,
    /// The analysis of `text`, once computed.
    analyzed: Option<Rc<Analyzed>>,
    /// Whether the client has the diagnostics of this version.
    published: bool,
}

/// A checked text: its analysis and, parsed when a request first needs it, its syntax
/// tree (none on a syntax error). Publishing diagnostics needs no tree, so a change costs
/// one check and nothing more.
struct Analyzed {
    text: String,
    tree: std::cell::OnceCell<Option<Document>>,
    analysis: Analysis,
}

impl Analyzed {
    fn tree(&self) -> Option<&Document> {
        self.tree.get_or_init(|| if self.analysis.spec.is_some() { syntax::parse(&self.text).0 } else { None }).as_ref()
    }
}

impl Doc {
    fn text(&self) -> Text<'_> {
        Text { text: &self.text, index: &self.index }
    }

    fn analyzed(&mut self) -> Rc<Analyzed> {
        if let Some(a) = &self.analyzed {
            return a.clone();
        }
        let analysis = check::check(&self.text);
        let a = Rc::new(Analyzed { text: self.text.clone(), tree: std::cell::OnceCell::new(), analysis });
        self.analyzed = Some(a.clone());
        a
    }
}

struct Server<'c> {
    connection: &'c Connection,
    encoding: Encoding,
    config: Config,
    docs: BTreeMap<String, Doc>,
    /// Messages read ahead while deciding whether a publish is superseded.
    queue: VecDeque<Message>,
}

/// A request's failure: an LSP error code and a message.
type Failure = (ErrorCode, String);

impl Server<'_> {
    fn run(&mut self) -> Result<(), String> {
        loop {
            let msg = match self.queue.pop_front() {
                Some(m) => m,
                None => {
                    // Nothing is waiting: a good time to check what changed. Checking
                    // reads ahead what has arrived meanwhile.
                    self.publish_pending()?;
                    match self.queue.pop_front() {
                        Some(m) => m,
                        None => match self.connection.receiver.recv() {
                            Ok(m) => m,
                            Err(_) => return Ok(()),
                        },
                    }
                }
            };
            if matches!(msg, Message::Request(_)) {
                // What the client changed before asking is published before the answer.
                self.publish_pending()?;
            }
            match msg {
                Message::Request(req) => {
                    if self.connection.handle_shutdown(&req).map_err(|e| e.to_string())? {
                        return Ok(());
                    }
                    let response = self.request(req);
                    self.send(Message::Response(response))?;
                }
                Message::Notification(n) if n.method == "exit" => return Ok(()),
                Message::Notification(n) => self.notification(n)?,
                Message::Response(_) => {}
            }
        }
    }

    fn send(&self, msg: Message) -> Result<(), String> {
        self.connection.sender.send(msg).map_err(|e| e.to_string())
    }

    /// Publishes the diagnostics of every document whose latest version the client has not
    /// seen, unless a change to it is already waiting.
    fn publish_pending(&mut self) -> Result<(), String> {
        while let Ok(m) = self.connection.receiver.try_recv() {
            self.queue.push_back(m);
        }
        let waiting: Vec<String> = self
            .queue
            .iter()
            .filter_map(|m| match m {
                Message::Notification(n) if matches!(n.method.as_str(), "textDocument/didChange" | "textDocument/didClose") => {
                    n.params.pointer("/textDocument/uri").and_then(Json::as_str).map(str::to_owned)
                }
                _ => None,
            })
            .collect();
        let keys: Vec<String> = self.docs.iter().filter(|(k, d)| !d.published && !waiting.contains(k)).map(|(k, _)| k.clone()).collect();
        for key in keys {
            let Some(doc) = self.docs.get_mut(&key) else { continue };
            let analyzed = doc.analyzed();
            let diagnostics = analyzed.analysis.diagnostics.iter().map(|d| proto::diagnostic(&doc.uri, doc.text(), d)).collect();
            let params = lsp::PublishDiagnosticsParams { uri: doc.uri.clone(), diagnostics, version: Some(doc.version) };
            doc.published = true;
            self.send(Message::Notification(Notification::new("textDocument/publishDiagnostics".to_owned(), params)))?;
        }
        Ok(())
    }

    fn notification(&mut self, n: Notification) -> Result<(), String> {
        match n.method.as_str() {
            "textDocument/didOpen" => {
                let Ok(p) = serde_json::from_value::<lsp::DidOpenTextDocumentParams>(n.params) else { return Ok(()) };
                let index = LineIndex::new(&p.text_document.text, self.encoding);
                let doc = Doc {
                    uri: p.text_document.uri.clone(),
                    version: p.text_document.version,
                    text: p.text_document.text,
                    index,
                    analyzed: None,
                    published: false,
                };
                self.docs.insert(p.text_document.uri.as_str().to_owned(), doc);
            }
            "textDocument/didChange" => {
                let Ok(p) = serde_json::from_value::<lsp::DidChangeTextDocumentParams>(n.params) else { return Ok(()) };
                let Some(doc) = self.docs.get_mut(p.text_document.uri.as_str()) else { return Ok(()) };
                for change in p.content_changes {
                    match change.range {
                        Some(range) => {
                            let span = doc.text().span(range);
                            doc.text.replace_range(span.range(), &change.text);
                        }
                        None => doc.text = change.text,
                    }
                    doc.index = LineIndex::new(&doc.text, self.encoding);
                }
                doc.version = p.text_document.version;
                doc.analyzed = None;
                doc.published = false;
            }
            "textDocument/didClose" => {
                let Ok(p) = serde_json::from_value::<lsp::DidCloseTextDocumentParams>(n.params) else { return Ok(()) };
                if let Some(doc) = self.docs.remove(p.text_document.uri.as_str()) {
                    let params = lsp::PublishDiagnosticsParams { uri: doc.uri, diagnostics: Vec::new(), version: None };
                    self.send(Message::Notification(Notification::new("textDocument/publishDiagnostics".to_owned(), params)))?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn request(&mut self, req: Request) -> Response {
        let id = req.id.clone();
        let outcome = catch_unwind(AssertUnwindSafe(|| self.dispatch(req)));
        match outcome {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err((code, message))) => Response::new_err(id, code as i32, message),
            Err(_) => Response::new_err(
                id,
                ErrorCode::InternalError as i32,
                "internal error in hawser (a bug: please report it with the spec)".to_owned(),
            ),
        }
    }

    fn dispatch(&mut self, req: Request) -> Result<Json, Failure> {
        let method = req.method.clone();
        match method.as_str() {
            "textDocument/hover" => self.with_position(req, |doc, offset| {
                let a = doc.analyzed();
                let h = hover::hover(&doc.text, a.tree(), &a.analysis, offset);
                Ok(json(h.map(|h| proto::hover(doc.text(), h))))
            }),
            "textDocument/completion" => self.with_position(req, |doc, offset| {
                let (start, items) = completion::complete(&doc.text, offset);
                Ok(json(proto::completion(doc.text(), start, offset, items)))
            }),
            "textDocument/definition" if !self.is_spec(&req) => {
                let p: lsp::TextDocumentPositionParams = params(req)?;
                self.spec_origins(&p.text_document.uri, p.position.line as usize)
            }
            "textDocument/definition" => self.with_position(req, |doc, offset| {
                let a = doc.analyzed();
                let Some(tree_doc) = a.tree() else { return Ok(Json::Null) };
                let all = tree::occurrences(tree_doc);
                let target = tree::occurrence_at(&all, offset).and_then(|at| tree::declaration(&all, at));
                Ok(json(target.map(|d| proto::location(&doc.uri, doc.text(), d.span))))
            }),
            "textDocument/references" => self.with_position(req, |doc, offset| {
                let a = doc.analyzed();
                let Some(tree_doc) = a.tree() else { return Ok(Json::Null) };
                let all = tree::occurrences(tree_doc);
                let Some(at) = tree::occurrence_at(&all, offset) else { return Ok(Json::Null) };
                let found: Vec<lsp::Location> =
                    tree::references(&all, at).into_iter().map(|o| proto::location(&doc.uri, doc.text(), o.span)).collect();
                Ok(json(found))
            }),
            "textDocument/prepareRename" => self.with_position(req, |doc, offset| {
                let a = doc.analyzed();
                let Some(tree_doc) = a.tree() else { return Ok(Json::Null) };
                let all = tree::occurrences(tree_doc);
                Ok(json(tree::occurrence_at(&all, offset).map(|o| doc.text().range(o.span))))
            }),
            "textDocument/rename" => {
                let p: lsp::RenameParams = params(req)?;
                let new_name = p.new_name.clone();
                self.at(&p.text_document_position, |doc, offset| {
                    let a = doc.analyzed();
                    let Some(tree_doc) = a.tree() else {
                        return Err((ErrorCode::RequestFailed, "the spec has syntax errors: fix them first".to_owned()));
                    };
                    let all = tree::occurrences(tree_doc);
                    let Some(at) = tree::occurrence_at(&all, offset) else {
                        return Err((
                            ErrorCode::RequestFailed,
                            "there is no workload, external, secret, port or environment name here".to_owned(),
                        ));
                    };
                    let (spans, text) = tree::rename(&all, at, &new_name).map_err(|e| (ErrorCode::RequestFailed, e))?;
                    let edits: Vec<actions::Edit> = spans.into_iter().map(|span| actions::Edit { span, text: text.clone() }).collect();
                    Ok(json(proto::workspace_edit(&doc.uri, Some(doc.version), doc.text(), &edits)))
                })
            }
            "textDocument/documentSymbol" => self.with_doc(req, |doc| {
                let a = doc.analyzed();
                let Some(tree_doc) = a.tree() else { return Ok(Json::Null) };
                let symbols: Vec<lsp::DocumentSymbol> =
                    outline::symbols(tree_doc).into_iter().map(|s| proto::symbol(doc.text(), s)).collect();
                Ok(json(symbols))
            }),
            "textDocument/foldingRange" => self.with_doc(req, |doc| {
                let a = doc.analyzed();
                let Some(tree_doc) = a.tree() else { return Ok(Json::Null) };
                let ranges: Vec<lsp::FoldingRange> =
                    outline::folding(tree_doc).into_iter().filter_map(|s| proto::folding(doc.text(), s)).collect();
                Ok(json(ranges))
            }),
            "textDocument/formatting" => self.with_doc(req, |doc| {
                let edits = actions::format_edits(&doc.text).map_err(|e| (ErrorCode::RequestFailed, e))?;
                Ok(json(edits.iter().map(|e| proto::text_edit(doc.text(), e)).collect::<Vec<_>>()))
            }),
            "textDocument/codeAction" => {
                let p: lsp::CodeActionParams = params(req)?;
                let doc = self.doc(&p.text_document.uri)?;
                let range = doc.text().span(p.range);
                let a = doc.analyzed();
                let found = actions::code_actions(&doc.text, a.tree(), &a.analysis.diagnostics, range);
                Ok(json(found.iter().map(|x| proto::code_action(&doc.uri, doc.version, doc.text(), x)).collect::<Vec<_>>()))
            }
            "textDocument/inlayHint" => {
                let p: lsp::InlayHintParams = params(req)?;
                let config = self.config;
                let doc = self.doc(&p.text_document.uri)?;
                let range = doc.text().span(p.range);
                let a = doc.analyzed();
                let (Some(tree_doc), Some(spec)) = (a.tree(), &a.analysis.spec) else { return Ok(json(Vec::<lsp::InlayHint>::new())) };
                let mut found = Vec::new();
                if config.derived_hints.unwrap_or(true) {
                    found.extend(hints::derived(tree_doc, spec, range));
                }
                if config.override_hints {
                    found.extend(hints::overrides(&doc.text, tree_doc, range));
                }
                found.sort_by_key(|h| h.offset);
                Ok(json(found.into_iter().map(|h| proto::inlay_hint(doc.text(), h.offset, h.label, h.tooltip)).collect::<Vec<_>>()))
            }
            "textDocument/codeLens" => self.with_doc(req, |doc| {
                let a = doc.analyzed();
                let (Some(tree_doc), Some(spec)) = (a.tree(), &a.analysis.spec) else { return Ok(json(Vec::<lsp::CodeLens>::new())) };
                let uri = doc.uri.as_str().to_owned();
                let lenses: Vec<lsp::CodeLens> = hints::lenses(tree_doc, spec)
                    .into_iter()
                    .map(|l| lsp::CodeLens {
                        range: doc.text().range(l.span),
                        command: Some(lsp::Command {
                            title: l.title,
                            command: l.command.to_owned(),
                            arguments: Some(std::iter::once(&uri).chain(&l.arguments).map(|s| Json::String(s.clone())).collect()),
                        }),
                        data: None,
                    })
                    .collect();
                Ok(json(lenses))
            }),
            "workspace/executeCommand" => {
                let p: lsp::ExecuteCommandParams = params(req)?;
                let args: Vec<String> = p.arguments.iter().filter_map(|a| a.as_str().map(str::to_owned)).collect();
                self.command(&p.command, &args)
            }
            _ => Err((ErrorCode::MethodNotFound, format!("hawser does not handle `{method}`"))),
        }
    }

    /// `hawser.showGenerated URI WORKLOAD ENV` and `hawser.diffEnvironments URI A B`: the
    /// generated text, computed in memory.
    fn command(&mut self, command: &str, args: &[String]) -> Result<Json, Failure> {
        let [uri, a, b] = args else {
            return Err((ErrorCode::InvalidParams, format!("`{command}` takes three strings: the spec's URI and two names")));
        };
        let doc = self.docs.get_mut(uri).ok_or_else(|| (ErrorCode::InvalidParams, format!("`{uri}` is not an open document")))?;
        let spec_name = uri.rsplit('/').next().filter(|n| !n.is_empty()).unwrap_or("hawser.kdl").to_owned();
        let analyzed = doc.analyzed();
        let artifacts = generate(&analyzed.analysis, spec_name, uri)?;
        match command {
            hints::SHOW_GENERATED => {
                let project = analyzed.analysis.spec.as_ref().map(|s| s.base.project.name.value.clone()).unwrap_or_default();
                let files = session::workload_files(&artifacts, &project, a, b);
                if files.is_empty() {
                    return Err((ErrorCode::InvalidParams, format!("`{a}` produces no files in environment `{b}`")));
                }
                let text: String = files.iter().map(|(path, f)| format!("# ==> {path} <==\n{}\n", f.contents)).collect();
                Ok(Json::String(text))
            }
            hints::DIFF_ENVIRONMENTS => {
                Ok(Json::String(review::env_diff(&artifacts, a, b, review::DiffStyle { color: false, context: 3 })))
            }
            _ => Err((ErrorCode::MethodNotFound, format!("hawser has no command `{command}`"))),
        }
    }

    /// Whether a request is about an open spec, rather than a generated file.
    fn is_spec(&self, req: &Request) -> bool {
        let uri = req.params.pointer("/textDocument/uri").and_then(Json::as_str).unwrap_or_default();
        self.docs.contains_key(uri) && uri.ends_with(".kdl")
    }

    /// Go to the spec from a line of a generated file: the values that produce it.
    fn spec_origins(&mut self, uri: &lsp::Uri, line: usize) -> Result<Json, Failure> {
        let not_generated =
            || (ErrorCode::RequestFailed, format!("`{}` is not a file hawser generated (no lock above it lists it)", uri.as_str()));
        let path = origin::uri_path(uri.as_str()).ok_or_else(not_generated)?;
        let file = origin::generated_file(&path).ok_or_else(not_generated)?;
        let spec_uri: lsp::Uri = origin::path_uri(&file.spec)
            .and_then(|u| u.parse().ok())
            .ok_or_else(|| (ErrorCode::RequestFailed, "the spec's path cannot be written as a URI".to_owned()))?;
        // The spec as the editor has it, when it is open; else as it is on disk.
        let text = match self.docs.get(spec_uri.as_str()) {
            Some(doc) => doc.text.clone(),
            None => origin::spec_text(&file).map_err(|e| (ErrorCode::RequestFailed, format!("cannot read the spec: {e}")))?,
        };
        let spans = origin::origins(&file, &text, line)
            .ok_or_else(|| (ErrorCode::RequestFailed, "the spec has errors: fix them first".to_owned()))?;
        let index = LineIndex::new(&text, self.encoding);
        let t = Text { text: &text, index: &index };
        Ok(json(spans.into_iter().map(|s| proto::location(&spec_uri, t, s)).collect::<Vec<_>>()))
    }

    fn doc(&mut self, uri: &lsp::Uri) -> Result<&mut Doc, Failure> {
        self.docs.get_mut(uri.as_str()).ok_or_else(|| (ErrorCode::InvalidParams, format!("`{}` is not an open document", uri.as_str())))
    }

    fn at(
        &mut self,
        tdp: &lsp::TextDocumentPositionParams,
        f: impl FnOnce(&mut Doc, usize) -> Result<Json, Failure>,
    ) -> Result<Json, Failure> {
        let doc = self.doc(&tdp.text_document.uri)?;
        let offset = doc.text().offset(tdp.position);
        f(doc, offset)
    }

    fn with_position(&mut self, req: Request, f: impl FnOnce(&mut Doc, usize) -> Result<Json, Failure>) -> Result<Json, Failure> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct AtPosition {
            text_document: lsp::TextDocumentIdentifier,
            position: lsp::Position,
        }
        let p: AtPosition = params(req)?;
        self.at(&lsp::TextDocumentPositionParams { text_document: p.text_document, position: p.position }, f)
    }

    fn with_doc(&mut self, req: Request, f: impl FnOnce(&mut Doc) -> Result<Json, Failure>) -> Result<Json, Failure> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct OfDocument {
            text_document: lsp::TextDocumentIdentifier,
        }
        let p: OfDocument = params(req)?;
        f(self.doc(&p.text_document.uri)?)
    }
}

fn generate(analysis: &Analysis, spec_name: String, uri: &str) -> Result<Artifacts, Failure> {
    // The configuration files the spec names are read beside it, as `generate` reads them.
    let mut inputs = check::inputs::Inputs::new();
    if let (Some(spec), Some(dir)) = (&analysis.spec, origin::uri_path(uri).as_deref().and_then(std::path::Path::parent)) {
        let (read, diags) = review::inputs::read(dir, spec);
        if let Some(d) = diags.iter().find(|d| d.is_error()) {
            return Err((ErrorCode::RequestFailed, format!("{}: {}", d.code.id, d.message)));
        }
        inputs = read;
    }
    let opts = Options { spec_name, inputs, ..Options::default() };
    session::generate_checked(analysis, &opts).map_err(|e| match e {
        session::NotGenerated::SpecErrors => {
            (ErrorCode::RequestFailed, "the spec has errors: nothing is generated until they are fixed".to_owned())
        }
        session::NotGenerated::Options(m) | session::NotGenerated::Internal(m) => (ErrorCode::RequestFailed, m),
    })
}

fn params<P: serde::de::DeserializeOwned>(req: Request) -> Result<P, Failure> {
    serde_json::from_value(req.params).map_err(|e| (ErrorCode::InvalidParams, format!("invalid parameters for `{}`: {e}", req.method)))
}

fn json(value: impl serde::Serialize) -> Json {
    serde_json::to_value(value).unwrap_or(Json::Null)
}
