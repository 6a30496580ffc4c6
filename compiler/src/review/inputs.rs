//! Reading the configuration files a spec names, below the spec's directory: the one place
//! besides the output directory where hawser reads a repository's files.
//!
//! A spec comes from a repository hawser does not trust, so the files are read the way the
//! output directory is ([`super::confined`]): the spec's directory is opened (the path the
//! user gave, whose symlinks are theirs), and each file is reached below it one path
//! component at a time, never through a symlink, never a FIFO or a device, never more than
//! [`super::confined::MAX_FILE`] bytes. What was found is judged by
//! [`crate::check::inputs::assess`].

use std::collections::{BTreeMap, BTreeSet};

use super::output::sha256_hex;
use std::path::Path;

use super::confined::{Dir, Entry};
use crate::check::inputs::{Inputs, Raw, assess, namings};
use crate::check::model::Spec;
use crate::diagnostics::Diagnostic;

/// Reads every input file a spec names, from `dir`, the spec's directory (the path the user
/// gave, whose symlinks are theirs to follow; below it none is followed). Returns the
/// contents of the files that passed every check, and the diagnostics of those that did
/// not, at the spec's values that name them.
pub fn read(dir: &Path, spec: &Spec) -> (Inputs, Vec<Diagnostic>) {
    let namings = namings(spec);
    let keys: BTreeSet<&str> = namings.iter().map(|n| n.key.as_str()).collect();
    let mut raw = BTreeMap::new();
    let opened = Dir::open_following(dir);
    for key in keys {
        let found = match &opened {
            Err(e) => Raw::Failed(format!("cannot open the spec's directory: {e}")),
            Ok(_) if key.is_empty() => Raw::Directory,
            Ok(d) => match d.read(key) {
                Ok(Entry::File { contents, .. }) => Raw::File(contents),
                Ok(Entry::Missing) => Raw::Missing,
                Ok(Entry::Symlink) => Raw::Symlink,
                Ok(Entry::Dir) => Raw::Directory,
                Ok(Entry::Special) => Raw::Special,
                Ok(Entry::TooLarge(n)) => Raw::TooLarge(n),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Raw::Missing,
                // A file where a directory of the path should be.
                Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NOTDIR.raw_os_error()) => Raw::Missing,
                Err(e) if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => Raw::Symlink,
                Err(e) => Raw::Failed(e.to_string()),
            },
        };
        raw.insert(key.to_owned(), found);
    }
    assess(spec, &namings, raw)
}

/// Whether every configuration file a run read (`recorded`: its path below `dir`, the
/// spec's directory, and its sha256 then) still holds the same bytes: what lets a run that
/// the output directory's cache proves unchanged skip its work. Any file that cannot be
/// read as it was read then counts as changed.
pub fn unchanged(dir: &Path, recorded: &BTreeMap<String, String>) -> bool {
    if recorded.is_empty() {
        return true;
    }
    let Ok(d) = Dir::open_following(dir) else { return false };
    recorded.iter().all(|(path, sha)| matches!(d.read(path), Ok(Entry::File { contents, .. }) if sha256_hex(&contents) == *sha))
}
