//! Review: how the output on disk differs from what the spec produces (`generate --check`,
//! `hawser diff`), and how two environments' artifacts differ (`hawser diff --env A --env B`).
//!
//! Pure functions of data: the CLI reads the output directory into [`OnDisk`] and prints
//! what these return.

pub mod confined;
pub mod inputs;
pub mod module;
pub mod output;
pub mod why;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use similar::TextDiff;

use crate::emit::Artifacts;
pub use output::{DiskFile, OnDisk};
use output::{LOCK_FILE, sha256_hex};

/// What is wrong with one path of the output directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Problem {
    /// hawser produces it and it is not there.
    Missing,
    /// hawser produces it, a file is there, but the lock does not list it: `generate`
    /// refuses to overwrite it.
    NotOwned,
    /// The contents differ from what the spec produces, and they are what hawser wrote
    /// (the lock's sha256): the spec changed and the output was not regenerated.
    Outdated,
    /// The contents differ from what the spec produces and from what hawser wrote: the
    /// file was edited by hand.
    HandEdited,
    /// The contents are right, the executable bit is not.
    Mode { executable: bool },
    /// The lock lists it, hawser no longer produces it: `generate` removes it.
    Stale,
    /// A file the lock does not list, in a directory hawser generates into.
    Extra,
    /// `hawser.lock` differs from the lock `generate` writes.
    Lock(LockProblem),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LockProblem {
    Missing,
    /// It has merge-conflict markers.
    Conflict,
    /// Its files or hashes differ.
    Entries,
    /// Only the spec's hash differs: the spec changed in a way that changes no artifact
    /// (a comment, formatting).
    SpecHash,
}

/// One drifted path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Drift {
    pub path: String,
    pub problem: Problem,
}

impl Drift {
    /// What is wrong, in a sentence that says what `generate` would do.
    pub fn message(&self) -> String {
        match self.problem {
            Problem::Missing => "missing: hawser produces this file and it is not there".to_owned(),
            Problem::NotOwned => {
                format!("not hawser's: hawser produces this file, but {LOCK_FILE} does not list it, so generate will not overwrite it")
            }
            Problem::Outdated => "out of date: the spec now produces different contents".to_owned(),
            Problem::HandEdited => {
                format!(
                    "edited by hand: it differs from what hawser wrote (its sha256 is not the one in {LOCK_FILE}) and from what the spec produces"
                )
            }
            Problem::Mode { executable: true } => "not executable: hawser writes it with mode 755".to_owned(),
            Problem::Mode { executable: false } => "executable: hawser writes it with mode 644".to_owned(),
            Problem::Stale => "stale: hawser no longer produces this file (generate removes it)".to_owned(),
            Problem::Extra => {
                format!(
                    "extra: not in {LOCK_FILE}, in a directory hawser generates into, where it would be deployed with the generated files"
                )
            }
            Problem::Lock(LockProblem::Missing) => "missing: the output directory has no lock".to_owned(),
            Problem::Lock(LockProblem::Conflict) => {
                "merge conflict: it has conflict markers; `hawser generate` rebuilds it from the spec and the files on disk".to_owned()
            }
            Problem::Lock(LockProblem::Entries) => "out of date: its files or hashes differ from what hawser produces".to_owned(),
            Problem::Lock(LockProblem::SpecHash) => {
                "out of date: it records another hash of the spec or of a configuration file it names (they changed, the artifacts did not)"
                    .to_owned()
            }
        }
    }

    /// A short name of the problem, for tools.
    pub fn kind(&self) -> &'static str {
        match self.problem {
            Problem::Missing => "missing",
            Problem::NotOwned => "not-owned",
            Problem::Outdated => "outdated",
            Problem::HandEdited => "hand-edited",
            Problem::Mode { .. } => "mode",
            Problem::Stale => "stale",
            Problem::Extra => "extra",
            Problem::Lock(_) => "lock",
        }
    }
}

/// Compares the output on disk with what `generate` would write: `expected` and its lock.
/// Sorted by path; empty when nothing drifted.
pub fn compare(expected: &Artifacts, expected_lock: &str, disk: &OnDisk) -> Vec<Drift> {
    let mut drift = Vec::new();
    let locked = disk.lock.as_ref().map(|l| &l.files);
    for (path, artifact) in &expected.files {
        let problem = match disk.files.get(path) {
            None if disk.foreign.contains(path) => Some(Problem::NotOwned),
            None => Some(Problem::Missing),
            Some(_) if disk.foreign.contains(path) => Some(Problem::NotOwned),
            Some(file) if file.contents == artifact.contents.as_bytes() => {
                (file.executable != artifact.executable).then_some(Problem::Mode { executable: artifact.executable })
            }
            Some(file) => Some(edited_or_outdated(path, file, locked)),
        };
        if let Some(problem) = problem {
            drift.push(Drift { path: path.clone(), problem });
        }
    }
    // Files the lock `generate` writes keeps as they are (other environments' files, with
    // `--env`) are not stale.
    let kept = output::parse_lock(expected_lock).map(|l| l.files).unwrap_or_default();
    for path in locked.into_iter().flat_map(|l| l.keys()) {
        if !expected.files.contains_key(path) && !kept.contains_key(path) && disk.files.contains_key(path) {
            drift.push(Drift { path: path.clone(), problem: Problem::Stale });
        }
    }
    let generated_dirs: BTreeSet<&str> = expected.files.keys().filter_map(|p| p.rsplit_once('/').map(|(dir, _)| dir)).collect();
    for path in &disk.foreign {
        let in_generated_dir = path.rsplit_once('/').is_some_and(|(dir, _)| generated_dirs.contains(dir));
        if in_generated_dir && !expected.files.contains_key(path) {
            drift.push(Drift { path: path.clone(), problem: Problem::Extra });
        }
    }
    if let Some(problem) = lock_problem(expected_lock, disk) {
        drift.push(Drift { path: LOCK_FILE.to_owned(), problem: Problem::Lock(problem) });
    }
    drift.sort();
    drift
}

fn edited_or_outdated(path: &str, file: &DiskFile, locked: Option<&BTreeMap<String, String>>) -> Problem {
    match locked.and_then(|l| l.get(path)) {
        Some(sha) if *sha == sha256_hex(&file.contents) => Problem::Outdated,
        _ => Problem::HandEdited,
    }
}

fn lock_problem(expected_lock: &str, disk: &OnDisk) -> Option<LockProblem> {
    let Some(text) = &disk.lock_text else { return Some(LockProblem::Missing) };
    if text == expected_lock {
        return None;
    }
    if disk.lock.as_ref().is_some_and(|l| l.conflicted) {
        return Some(LockProblem::Conflict);
    }
    let entries_equal = match (disk.lock.as_ref(), output::parse_lock(expected_lock)) {
        (Some(have), Some(want)) => have.files == want.files,
        _ => false,
    };
    Some(if entries_equal { LockProblem::SpecHash } else { LockProblem::Entries })
}

/// How diffs are laid out.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiffStyle {
    /// ANSI colours (only on a terminal).
    pub color: bool,
    /// Lines of context around each change.
    pub context: usize,
}

/// The unified diff between the output on disk and what the spec produces: one section
/// per drifted file, `a/` the disk, `b/` the spec. `prefix` is the output directory as the
/// user named it, so paths can be pasted. Paths whose problem is only a mode or the lock's
/// spec hash get a one-line note instead of a diff.
pub fn disk_diff(expected: &Artifacts, expected_lock: &str, disk: &OnDisk, drift: &[Drift], prefix: &str, style: DiffStyle) -> String {
    let mut out = String::new();
    for d in drift {
        let name = join(prefix, &d.path);
        let old = disk.files.get(&d.path).map(|f| String::from_utf8_lossy(&f.contents).into_owned());
        let new = expected.files.get(&d.path).map(|a| a.contents.clone());
        let (old, new) = match d.problem {
            Problem::Lock(_) => (disk.lock_text.clone(), Some(expected_lock.to_owned())),
            Problem::Extra => {
                note(&mut out, &name, &d.message(), style);
                continue;
            }
            Problem::Mode { .. } => {
                note(&mut out, &name, &d.message(), style);
                continue;
            }
            _ => (old, new),
        };
        let diff = file_diff(old.as_deref(), new.as_deref(), &name, &name, style);
        if diff.is_empty() {
            // The contents are right; what is wrong is who owns the file.
            note(&mut out, &name, &d.message(), style);
        }
        out.push_str(&diff);
    }
    out
}

fn note(out: &mut String, name: &str, message: &str, style: DiffStyle) {
    let line = format!("{name}: {message}");
    if style.color {
        let _ = writeln!(out, "\x1b[1m{line}\x1b[0m");
    } else {
        let _ = writeln!(out, "{line}");
    }
}

fn join(prefix: &str, path: &str) -> String {
    if prefix.is_empty() || prefix == "." { path.to_owned() } else { format!("{}/{path}", prefix.trim_end_matches('/')) }
}

/// A unified diff of one file, `git diff` style; a missing side is `/dev/null`. Empty when
/// both sides are equal.
pub fn file_diff(old: Option<&str>, new: Option<&str>, old_name: &str, new_name: &str, style: DiffStyle) -> String {
    if old == new {
        return String::new();
    }
    let a = old.map_or_else(|| "/dev/null".to_owned(), |_| format!("a/{old_name}"));
    let b = new.map_or_else(|| "/dev/null".to_owned(), |_| format!("b/{new_name}"));
    let diff = TextDiff::from_lines(old.unwrap_or(""), new.unwrap_or(""));
    let mut text = String::new();
    let _ = write!(text, "{}", diff.unified_diff().context_radius(style.context).header(&a, &b));
    // A file without a final newline leaves the last line unterminated; end it so the next
    // file's header starts on its own line.
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if style.color { colorize(&text) } else { text }
}

fn colorize(diff: &str) -> String {
    let mut out = String::with_capacity(diff.len() + diff.len() / 4);
    for line in diff.split_inclusive('\n') {
        let (body, nl) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
        let color = if line.starts_with("+++") || line.starts_with("---") {
            "\x1b[1m"
        } else if line.starts_with("@@") {
            "\x1b[36m"
        } else if line.starts_with('+') {
            "\x1b[32m"
        } else if line.starts_with('-') {
            "\x1b[31m"
        } else {
            ""
        };
        if color.is_empty() {
            out.push_str(line);
        } else {
            let _ = write!(out, "{color}{body}\x1b[0m{nl}");
        }
    }
    out
}

/// Where a path of environment `from` would be in environment `to`: `<kind>/<from>/rest`
/// is `<kind>/<to>/rest` (systemd units, Kubernetes manifests, Prometheus configs), and
/// `values-<from>.<ext>` is `values-<to>.<ext>` in the same directory (a Helm chart's
/// values). `None` when the path does not belong to `from`.
pub fn counterpart(path: &str, from: &str, to: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() >= 3 && parts[1] == from && !ENV_INDEPENDENT.contains(&parts[0]) {
        let mut moved = parts.clone();
        moved[1] = to;
        return Some(moved.join("/"));
    }
    let (dir, file) = path.rsplit_once('/').map_or(("", path), |(d, f)| (d, f));
    let (stem, ext) = file.split_once('.')?;
    if stem.strip_prefix("values-")? != from {
        return None;
    }
    let renamed = format!("values-{to}.{ext}");
    Some(if dir.is_empty() { renamed } else { format!("{dir}/{renamed}") })
}

/// Top-level directories whose second component is not an environment (`helm/<project>/`),
/// or that hold no environment's files at all.
const ENV_INDEPENDENT: &[&str] = &["build", "docker", "helm"];

/// One pair of files of two environments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvPair {
    /// The file in the first environment, if it has one.
    pub a: Option<String>,
    /// The file in the second environment, if it has one.
    pub b: Option<String>,
}

/// Pairs the files of environment `a` with those of environment `b` by role, sorted by the
/// first environment's path (or the second's, for files only it has).
pub fn env_pairs(artifacts: &Artifacts, a: &str, b: &str) -> Vec<EnvPair> {
    let mut pairs = BTreeMap::new();
    let mut matched = BTreeSet::new();
    for path in artifacts.files.keys() {
        if let Some(other) = counterpart(path, a, b) {
            let has = artifacts.files.contains_key(&other);
            if has {
                matched.insert(other.clone());
            }
            pairs.insert(path.clone(), EnvPair { a: Some(path.clone()), b: has.then_some(other) });
        }
    }
    for path in artifacts.files.keys() {
        // Sorted where the first environment's file would be, among the pairs.
        if let Some(role) = counterpart(path, b, a).filter(|_| !matched.contains(path)) {
            pairs.insert(role, EnvPair { a: None, b: Some(path.clone()) });
        }
    }
    pairs.into_values().collect()
}

/// The diff of two environments' artifacts: each pair of files, `a/` the first
/// environment, `b/` the second. Identical pairs print nothing.
pub fn env_diff(artifacts: &Artifacts, a: &str, b: &str, style: DiffStyle) -> String {
    let mut out = String::new();
    for pair in env_pairs(artifacts, a, b) {
        let old = pair.a.as_ref().map(|p| artifacts.files[p].contents.as_str());
        let new = pair.b.as_ref().map(|p| artifacts.files[p].contents.as_str());
        let old_name = pair.a.as_deref().or(pair.b.as_deref()).unwrap_or_default();
        let new_name = pair.b.as_deref().or(pair.a.as_deref()).unwrap_or_default();
        out.push_str(&file_diff(old, new, old_name, new_name, style));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counterparts_by_role() {
        assert_eq!(counterpart("systemd/dev/p-api.service", "dev", "prod").as_deref(), Some("systemd/prod/p-api.service"));
        assert_eq!(counterpart("kubernetes/staging/api.yaml", "staging", "prod").as_deref(), Some("kubernetes/prod/api.yaml"));
        assert_eq!(counterpart("helm/shop/values-staging.yaml", "staging", "prod").as_deref(), Some("helm/shop/values-prod.yaml"));
        assert_eq!(counterpart("helm/shop/values.yaml", "staging", "prod"), None);
        assert_eq!(counterpart("docker/dev.Dockerfile", "dev", "prod"), None, "a workload named like an environment");
        assert_eq!(counterpart("build/build.sh", "build", "x"), None, "two components only");
        assert_eq!(counterpart("systemd/prod/p-api.service", "dev", "prod"), None);
    }

    #[test]
    fn a_diff_names_both_sides() {
        let d = file_diff(Some("a\nb\n"), Some("a\nc\n"), "x", "x", DiffStyle { color: false, context: 3 });
        assert_eq!(d, "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n");
        let d = file_diff(None, Some("a\n"), "x", "x", DiffStyle::default());
        assert!(d.starts_with("--- /dev/null\n+++ b/x\n"), "{d}");
        assert_eq!(file_diff(Some("a"), Some("a"), "x", "x", DiffStyle::default()), "");
    }
}
