//! What the command line compares with the Go module beside the spec (the module build.sh
//! and the Dockerfiles build), read the way the output directory is ([`super::confined`]):
//! never through a symlink below the spec's directory. W0921 when the Go version disagrees
//! with `go.mod`'s (nothing when there is none), W0922 for a file an image copies that the
//! module does not hold.

use std::path::Path;

use super::confined::{Dir, Entry, Kind};
use crate::check::gobuild;
use crate::check::images::{self, Found};
use crate::check::model::Spec;
use crate::diagnostics::Diagnostic;

/// The diagnostics of comparing the spec with the module in `dir`, the spec's directory.
pub fn diagnostics(dir: &Path, spec: &Spec) -> Vec<Diagnostic> {
    let Ok(dir) = Dir::open_following(dir) else { return Vec::new() };
    let mut out = match dir.read("go.mod") {
        Ok(Entry::File { contents, .. }) => gobuild::go_mod_diagnostics(&spec.base.project, &String::from_utf8_lossy(&contents)),
        _ => Vec::new(),
    };
    out.extend(images::copy_sources(&spec.base, |rel| {
        let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        match dir.list(parent) {
            Ok(entries) => match entries.iter().find(|(n, _)| n == name).map(|(_, k)| *k) {
                Some(Kind::File) => Found::File,
                Some(Kind::Dir) => Found::Dir,
                Some(Kind::Symlink) => Found::Symlink,
                Some(Kind::Special) | None => Found::Missing,
            },
            // A parent that is missing, a symlink, or not a directory.
            Err(_) => Found::Missing,
        }
    }));
    out
}
