//! Tests of `hawser lsp`, driving the server in memory as an editor would: fixtures with
//! snapshotted responses, the ordering of published diagnostics, and random edit sequences.

mod client;
#[path = "../common/mod.rs"]
mod common;
mod edits;
mod fixtures;
mod ordering;
mod origin;
