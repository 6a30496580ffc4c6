//! hawser: a compiler for deployments.
//!
//! The stages, each a module whose output type says what has been checked:
//! [`syntax`] (text → [`syntax::Document`]) → [`lower`] and [`overlay`] (→ the typed
//! [`model`]) → [`graph`] → emit (next). [`check::check`] runs them all. The core does no
//! I/O: it takes text and returns data; only the CLI reads and writes files.

pub mod check;
pub mod confined;
pub mod diagnostics;
pub mod emit;
pub mod fastkdl;
pub mod format;
pub mod gobuild;
pub mod graph;
pub mod images;
pub mod init;
pub mod jsonschema;
pub mod limits;
pub mod lower;
pub mod model;
pub mod output;
pub mod overlay;
pub mod references;
pub mod review;
pub mod scheduling;
pub mod schema;
pub mod span;
pub mod syntax;
pub mod values;
pub mod why;

pub use check::{Analysis, check};
pub mod lsp;
pub mod render;
pub mod session;
pub mod synthetic;
