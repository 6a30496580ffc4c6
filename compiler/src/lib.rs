//! hawser: a compiler for deployments.
//!
//! The crate is laid out by stage, one folder each, and a stage uses only the stages
//! before it (`tests/architecture.rs` holds the crate to that):
//!
//! - [`syntax`]: spec text to a [`syntax::Document`] (the parsers, the size and depth
//!   limits, `fmt`);
//! - [`check`]: the typed [`check::model`], lowered from the document, with overlays per
//!   environment, the graph and every check; [`check::check`] runs the stage;
//! - [`emit`]: the model to artifacts, one module per target;
//! - [`review`]: the output directory (reading and writing it, confined below it),
//!   comparing it with what the spec produces, and `why`;
//! - [`cli`]: what each command does, as functions of text that return data, and
//!   diagnostics rendered for people and tools;
//! - [`lsp`]: the language server, the only module that knows LSP types.
//!
//! [`span`] and [`diagnostics`] are leaves every stage uses. The core does no I/O: it
//! takes text and returns data; only the command line and the language server read and
//! write files.

pub mod diagnostics;
pub mod span;

pub mod syntax;

pub mod check;

pub mod emit;

pub mod review;

pub mod cli;

pub mod lsp;

pub use check::{Analysis, check};

/// Every program built on the crate (the command line, the language server, the tests, the
/// benchmarks) allocates through mimalloc: checking a spec builds and frees many small
/// trees, and with the system allocator a third of a check's time went to `malloc` and
/// `free` (`bench/results.md` has the measurement).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What the library's tests share.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::{Path, PathBuf};

    /// Every `.kdl` file below these directories of the repository (`examples`,
    /// `tests/specs`, …), in path order.
    pub fn specs(dirs: &[&str]) -> Vec<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the repository");
        let mut specs = Vec::new();
        let mut stack: Vec<PathBuf> = dirs.iter().map(|d| root.join(d)).collect();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "kdl") {
                    specs.push(path);
                }
            }
        }
        specs.sort();
        specs
    }

    /// Each spec below these directories by its path and text, then every two of them one
    /// after the other (`A then B`, their texts joined by a newline): for the tests that hold
    /// a split of the work to doing it in one, on texts where one part's errors meet
    /// another's.
    pub fn specs_and_pairs(dirs: &[&str]) -> Vec<(String, String)> {
        let texts: Vec<(String, String)> =
            specs(dirs).iter().map(|p| (p.display().to_string(), std::fs::read_to_string(p).expect("a readable spec"))).collect();
        let pairs: Vec<(String, String)> =
            texts.windows(2).map(|w| (format!("{} then {}", w[0].0, w[1].0), format!("{}\n{}", w[0].1, w[1].1))).collect();
        texts.into_iter().chain(pairs).collect()
    }
}
