//! The output directory: the one place hawser writes files. This is the edge: only the CLI
//! calls it.
//!
//! `hawser.lock` lists every file hawser owns, with its sha256. Everything below the output
//! directory comes from the repository, which hawser does not trust: every file is opened
//! through [`confined::Dir`], relative to the output directory and never through a
//! symlink, and the lock may name only plain relative paths and a plain spec file name.
//!
//! One writer at a time: a run holds an advisory lock (`flock`) on the directory that holds
//! the output directory, exclusive to write, shared to read; a second run waits, saying so.
//!
//! A run builds the complete new tree in a directory beside the output
//! (`.NAME.hawser-new`), then swaps the two in one atomic `rename` (`RENAME_EXCHANGE`) and
//! removes the previous tree, now under the new tree's old name. A kill at any instant
//! leaves the old tree or the new one in place, and the next run removes what is left
//! beside it. Where the file system has no `RENAME_EXCHANGE`, two renames take its place
//! and a kill between them leaves the previous tree as `.NAME.hawser-old`, which the next
//! command on the directory puts back.
//!
//! An output directory that is a mount point cannot be renamed: there the new tree is
//! built inside it (`.hawser-new`), and its top-level entries are swapped one by one. A
//! journal written before the first swap (`.hawser-swap`) names each entry with the inode
//! of its old and its new version, so whatever a kill leaves, the next hawser command on
//! the directory — `generate`, `--check`, `diff`, `why` — tells which entries are already
//! new and finishes the swap before it reads anything (see [`settle`]).
//!
//! `generate` writes each file as it is made ([`Files::Making`]): the generator runs on a
//! thread of its own, and the writer checks, writes and hashes each file and lets it go, so
//! making and writing share the cores and the whole output is never in memory at once. A
//! file refused on the way (a path that is not plain, a foreign file in the way) or a
//! generator's error removes the new tree, and nothing changed. Inside a mount point, where
//! every top-level name must be known before the swap, the files are made first.
//!
//! Files hawser does not own are carried into the new tree as hard links (same inode, same
//! contents), directories it does not own keep their mode, owner and emptiness, and a
//! foreign file where hawser would write is an error, never an overwrite. Nothing is
//! written outside the output directory and its siblings `.NAME.hawser-new` and
//! `.NAME.hawser-old`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io;
use std::path::{Component, Path};

use sha2::{Digest, Sha256};

use crate::emit::{Artifact, Artifacts, Sink};
use crate::review::confined::{Dir, Entry, Kind, Owner, Stamp};

pub const LOCK_FILE: &str = "hawser.lock";

/// hawser's cache of this machine inside an output directory: the stamps of what the last
/// `generate` wrote (see [`up_to_date`]). Ignored by git through a `.gitignore` of its own,
/// never listed in the lock, never compared, carried or reported.
pub const CACHE_DIR: &str = ".hawser-cache";
const CACHE_FILE: &str = "stamps";
const CACHE_IGNORE: &str = "# hawser's cache of this machine: stamps of the files it wrote, never committed\n*\n";

/// The staging directory's name inside an output directory that is a mount point.
const STAGING: &str = ".hawser-new";

/// A name an earlier hawser gave the new lock inside a mount point; removed when found.
const LOCK_STAGING: &str = ".hawser.lock.new";

/// The journal of a swap inside the output directory, and its name while it is written.
const JOURNAL: &str = ".hawser-swap";
const JOURNAL_STAGING: &str = ".hawser-swap.new";

/// Inside the output directory, where old entries wait during a swap made with two
/// renames (no `RENAME_EXCHANGE`).
const STASH: &str = ".hawser-old";

/// What a write did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub written: usize,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    pub kept_foreign: usize,
    /// Files of environments the run did not generate, left as they were (`--env`).
    pub kept_other_environments: usize,
    /// The lock had merge-conflict markers and was rebuilt.
    pub lock_conflict: bool,
    /// What went wrong after the new output was in place, and did not undo it.
    pub warnings: Vec<String>,
}

/// The owned files of an output directory, from its lock.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Lock {
    pub spec_sha256: String,
    /// The spec's file name, as the lock records it.
    pub spec_name: String,
    pub files: BTreeMap<String, String>,
    /// The configuration files the spec names, by their path relative to the spec's
    /// directory, with their sha256: inputs of the artifacts as the spec is.
    pub inputs: BTreeMap<String, String>,
    /// The text had merge-conflict markers; `files` is the union of every side.
    pub conflicted: bool,
}

/// What the output directory holds, as far as a comparison needs it.
#[derive(Debug, Default)]
pub struct OnDisk {
    /// The lock's text, when there is one.
    pub lock_text: Option<String>,
    /// The lock, parsed.
    pub lock: Option<Lock>,
    /// The files a comparison looks at: every file hawser produces or the lock lists that
    /// exists, by relative path.
    pub files: BTreeMap<String, DiskFile>,
    /// Files that are not in the lock (foreign to hawser), relative paths.
    pub foreign: BTreeSet<String>,
}

/// One file on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskFile {
    pub contents: Vec<u8>,
    pub executable: bool,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::emit::hex(&Sha256::digest(bytes))
}

/// The lock file's text: comment lines, then `sha256  path` lines as `sha256sum` writes
/// them, so `sha256sum -c hawser.lock` verifies the tree.
pub fn render_lock(spec_name: &str, spec_text: &str, artifacts: &Artifacts) -> String {
    render_lock_entries(spec_name, &sha256_hex(spec_text.as_bytes()), &BTreeMap::new(), &lock_entries(artifacts))
}

/// The lock's entries of `artifacts`: path to sha256. Thousands of files are hashed on two
/// threads, half each.
pub fn lock_entries(artifacts: &Artifacts) -> BTreeMap<String, String> {
    hash_all(&artifacts.files.iter().collect::<Vec<_>>())
}

/// The sha256 of each of `files`, by path.
fn hash_all(files: &[(&String, &Artifact)]) -> BTreeMap<String, String> {
    let hash = |part: &[(&String, &Artifact)]| -> Vec<(String, String)> {
        part.iter().map(|(path, a)| ((*path).clone(), sha256_hex(a.contents.as_bytes()))).collect()
    };
    if files.len() < 256 {
        return hash(files).into_iter().collect();
    }
    let (first, second) = files.split_at(files.len() / 2);
    let (mut mine, theirs) = std::thread::scope(|s| {
        let other = s.spawn(|| hash(second));
        let mine = hash(first);
        (mine, other.join())
    });
    // A thread that panicked: hash its half here instead.
    mine.extend(theirs.unwrap_or_else(|_| hash(second)));
    mine.into_iter().collect()
}

/// The lock file's text for these entries. The spec's hash, and each input file's (paths
/// relative to the spec's directory), are comment lines: `sha256sum -c` checks the output.
pub fn render_lock_entries(
    spec_name: &str,
    spec_sha256: &str,
    inputs: &BTreeMap<String, String>,
    entries: &BTreeMap<String, String>,
) -> String {
    let mut s = format!(
        "# generated by hawser from {spec_name}, do not edit\n# The files hawser owns in this directory; `sha256sum -c {LOCK_FILE}` verifies them.\n# spec {spec_sha256}  {spec_name}\n"
    );
    // Each entry's line: the sha256's 64 digits, two spaces, the path and a newline.
    s.reserve(entries.iter().map(|(path, sha)| sha.len() + path.len() + 3).sum());
    for (path, sha) in inputs {
        let _ = writeln!(s, "# input {sha}  {path}");
    }
    for (path, sha) in entries {
        s.push_str(sha);
        s.push_str("  ");
        s.push_str(path);
        s.push('\n');
    }
    s
}

pub fn parse_lock(text: &str) -> Option<Lock> {
    read_lock(text).ok()
}

/// Parses a lock, saying what is wrong with one hawser cannot use. A lock with
/// merge-conflict markers (`<<<<<<<`, `|||||||`, `=======`, `>>>>>>>`) is read as the union
/// of its sides: every path either side lists is hawser's.
pub fn read_lock(text: &str) -> Result<Lock, String> {
    let mut lock = Lock::default();
    let mut saw_header = false;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if ["<<<<<<<", "|||||||", "=======", ">>>>>>>"].iter().any(|m| line.starts_with(m)) {
            lock.conflicted = true;
        } else if let Some(rest) = line.strip_prefix("# spec ") {
            let (sha, name) = rest.split_once("  ").ok_or_else(|| format!("line {n}: `# spec` is not `SHA256  NAME`"))?;
            if !safe_file_name(name) {
                return Err(format!("line {n} names the spec `{}`, which is not a plain file name", name.escape_debug()));
            }
            if !saw_header {
                lock.spec_sha256 = sha.to_owned();
                lock.spec_name = name.to_owned();
            }
            saw_header = true;
        } else if let Some(rest) = line.strip_prefix("# input ") {
            let (sha, path) = rest.split_once("  ").ok_or_else(|| format!("line {n}: `# input` is not `SHA256  PATH`"))?;
            if !safe_relative(path) {
                return Err(format!("line {n} names the input `{}`, which is not a plain relative path", path.escape_debug()));
            }
            lock.inputs.insert(path.to_owned(), sha.to_owned());
        } else if line.starts_with('#') || line.is_empty() {
            continue;
        } else {
            let (hash, path) = line.split_once("  ").ok_or_else(|| format!("line {n} is not `SHA256  PATH`"))?;
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("line {n} has no sha256"));
            }
            if !safe_relative(path) || path == LOCK_FILE || is_cache(path) {
                return Err(format!("line {n} names `{}`, which is not a plain path inside the output directory", path.escape_debug()));
            }
            lock.files.insert(path.to_owned(), hash.to_owned());
        }
    }
    if saw_header { Ok(lock) } else { Err("it has no `# spec` line".to_owned()) }
}

/// A relative path of plain components only: no `..`, no root, nothing empty, no control
/// characters.
pub fn safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
        && Path::new(path).components().all(|c| matches!(c, Component::Normal(_)))
        && path.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// A file name: one plain component.
pub fn safe_file_name(name: &str) -> bool {
    safe_relative(name) && !name.contains('/')
}

/// The environment a generated file belongs to, if any: `<kind>/<env>/…` for systemd,
/// Kubernetes and Prometheus files, a chart's `values-<env>.<ext>`. Build files, Dockerfiles
/// and the rest of the chart are shared.
pub fn environment_of(path: &str) -> Option<&str> {
    let mut parts = path.split('/');
    let kind = parts.next()?;
    if ["systemd", "kubernetes", "prometheus"].contains(&kind) {
        let env = parts.next()?;
        return parts.next().is_some().then_some(env);
    }
    let file = path.rsplit('/').next()?;
    let (stem, _) = file.split_once('.')?;
    (kind == "helm").then(|| stem.strip_prefix("values-")).flatten()
}

/// What a run of `generate` asks for: every artifact the spec produces, the spec it comes
/// from, and the environments to write (all when empty).
pub struct Request<'a> {
    pub files: Files<'a>,
    /// The spec's file name, recorded in the lock.
    pub spec_name: &'a str,
    pub spec_sha256: String,
    /// The configuration files' sha256, by path relative to the spec's directory.
    pub inputs_sha256: BTreeMap<String, String>,
    /// `--env`: only these environments' files (and the shared ones) are written.
    pub environments: &'a [String],
    /// What the run was (see [`up_to_date`]): when given, the stamps of the tree written
    /// are kept under it in the cache.
    pub cache_key: Option<String>,
}

/// The files a write puts in the output directory.
#[derive(Clone, Copy)]
pub enum Files<'a> {
    /// Every file, made before the write.
    Made(&'a Artifacts),
    /// Made while the tree is written: the generator runs on a thread of its own and hands
    /// each file over as it is made, to be checked, written, hashed and freed, so that the
    /// making and the writing share the cores and the whole output is never in memory at
    /// once. A generator is pure: where the write must know every path before it starts (an
    /// output directory that is a mount point), it is run to the end first, in memory.
    Making(&'a Generator<'a>),
}

/// What makes the files of [`Files::Making`]: a generator that puts each file in the sink.
pub type Generator<'a> = dyn Fn(&mut dyn Sink) -> Result<(), String> + Sync + 'a;

/// What `generate` writes given the lock on disk: the artifacts, the lock's text, and the
/// files of other environments it keeps as they are.
pub struct Planned<'a> {
    pub artifacts: std::borrow::Cow<'a, Artifacts>,
    pub lock_text: String,
    pub kept: BTreeSet<String>,
}

/// Whether a run writes `path`: with `--env E…`, only the shared files and those of the
/// environments selected.
fn chosen(environments: &[String], path: &str) -> bool {
    environments.is_empty() || environment_of(path).is_none_or(|e| environments.iter().any(|s| s == e))
}

/// The files of other environments the lock lists, with their hashes: with `--env`, they
/// are kept as they are, and never removed.
fn kept_entries(environments: &[String], previous: Option<&Lock>) -> BTreeMap<String, String> {
    let other = |path: &&String| !chosen(environments, path);
    previous.iter().flat_map(|l| &l.files).filter(|(p, _)| other(p)).map(|(p, sha)| (p.clone(), sha.clone())).collect()
}

/// With `--env E…`, of every artifact the spec produces, the shared ones and those of the
/// environments selected; files of other environments that the lock lists are kept as they
/// are, with their hashes, and never removed.
pub fn plan<'a>(artifacts: &'a Artifacts, request: &Request<'_>, previous: Option<&Lock>) -> Planned<'a> {
    if request.environments.is_empty() {
        let hashes = lock_entries(artifacts);
        let lock_text = render_lock_entries(request.spec_name, &request.spec_sha256, &request.inputs_sha256, &hashes);
        return Planned { artifacts: std::borrow::Cow::Borrowed(artifacts), lock_text, kept: BTreeSet::new() };
    }
    let mut write = Artifacts::default();
    let mut entries = kept_entries(request.environments, previous);
    let kept = entries.keys().cloned().collect();
    for (path, a) in &artifacts.files {
        if chosen(request.environments, path) {
            entries.insert(path.clone(), sha256_hex(a.contents.as_bytes()));
            write.files.insert(path.clone(), a.clone());
        }
    }
    let lock_text = render_lock_entries(request.spec_name, &request.spec_sha256, &request.inputs_sha256, &entries);
    Planned { artifacts: std::borrow::Cow::Owned(write), lock_text, kept }
}

/// An error of the output directory: the message names the path and says what to do.
#[derive(Debug)]
pub struct Error {
    pub message: String,
    /// The output directory was partly changed before the error (only on a mount point,
    /// during the swap); otherwise nothing changed.
    pub partly_changed: bool,
    /// The write stopped on purpose after a step ([`Faults::stop_after`]), as a kill would:
    /// nothing was cleaned up.
    pub stopped: bool,
}

impl Error {
    fn new(message: String) -> Error {
        Error { message, partly_changed: false, stopped: false }
    }

    /// An internal error: nothing changed.
    pub fn internal(message: String) -> Error {
        Error::new(format!("internal error while generating: {message}"))
    }
}

/// How a write is carried out. The default is what `generate` does; the rest is for tests,
/// which stop a write as a kill would after any step of its swap, and take the paths a file
/// system without `RENAME_EXCHANGE` or a mount point forces. The command line never sets
/// them, and nothing reads them from the environment.
#[derive(Debug, Default, Clone, Copy)]
pub struct Faults {
    /// Stop right after this many steps of the swap (counted from 1): nothing after it
    /// runs and nothing is cleaned up, as when the process is killed there.
    pub stop_after: Option<usize>,
    /// Swap as on a file system without `RENAME_EXCHANGE`: with two renames.
    pub without_exchange: bool,
    /// Swap inside the output directory, as when it is a mount point.
    pub inside: bool,
}

/// The steps of a swap, counted, for [`Faults::stop_after`].
struct Steps {
    done: usize,
    stop_after: Option<usize>,
}

impl Steps {
    /// One more step is done: the write stops here when the faults say so.
    fn step(&mut self) -> Result<(), Error> {
        self.done += 1;
        if self.stop_after == Some(self.done) {
            return Err(Error { message: format!("stopped after step {} of the swap", self.done), partly_changed: true, stopped: true });
        }
        Ok(())
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn io_err(what: &str, path: &Path, e: io::Error) -> Error {
    let reason = match e.kind() {
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        io::ErrorKind::NotADirectory => "a file is where a directory should be".to_owned(),
        io::ErrorKind::ReadOnlyFilesystem => "the file system is read-only".to_owned(),
        _ => e.to_string(),
    };
    Error::new(format!("cannot {what} {}: {reason}", path.display()))
}

/// The output directory's parent, opened and locked, and the output's name in it.
pub struct Place {
    parent: Dir,
    name: String,
    out: std::path::PathBuf,
}

/// How a run holds the output directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

/// Opens the directory holding `out` and takes the output lock: exclusive to write, shared to
/// read. When another run holds it, says so on stderr and waits: a CI job that starts two
/// runs on one checkout gets both done, one after the other, instead of a spurious failure.
fn place(out: &Path, access: Access) -> Result<Option<Place>, Error> {
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| safe_file_name(n))
        .ok_or_else(|| Error::new(format!("{} is not a directory name hawser can use", out.display())))?
        .to_owned();
    let parent_path = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    if access == Access::Write {
        std::fs::create_dir_all(&parent_path).map_err(|e| io_err("create", &parent_path, e))?;
    }
    // The path to the parent is the user's (the command line), so it may pass symlinks.
    let parent = match Dir::open_following(&parent_path) {
        Ok(p) => p,
        // Nothing to read: there is no output directory.
        Err(e) if access == Access::Read && e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("open", &parent_path, e)),
    };
    lock_place(&parent, out, access)?;
    let place = Place { parent, name, out: out.to_path_buf() };
    if place.interrupted()? {
        // Reading waits for no one and changes nothing, except to finish what a killed run
        // left half done: that needs the lock to write, and the lock to read again after.
        if access == Access::Read {
            lock_place(&place.parent, out, Access::Write)?;
        }
        place.settle()?;
        if access == Access::Read {
            rustix::fs::flock(place.parent.fd(), rustix::fs::FlockOperation::LockShared).map_err(|e| io_err("lock", out, e.into()))?;
        }
    }
    Ok(Some(place))
}

/// Finishes what a killed run left half done on the output directory `out`, if anything,
/// and says so on stderr: puts back the previous tree where a kill fell between the two
/// renames of a swap beside the output, and completes a swap inside the output (a mount
/// point) from its journal. Every reading command does this first (`generate --check`,
/// `diff`, `why`), under the output lock, and `generate` too.
pub fn settle(out: &Path) -> Result<(), Error> {
    place(out, Access::Read).map(|_| ())
}

fn lock_place(parent: &Dir, out: &Path, access: Access) -> Result<(), Error> {
    use rustix::fs::FlockOperation as Op;
    let (try_op, wait_op) = match access {
        Access::Write => (Op::NonBlockingLockExclusive, Op::LockExclusive),
        Access::Read => (Op::NonBlockingLockShared, Op::LockShared),
    };
    match rustix::fs::flock(parent.fd(), try_op) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::WOULDBLOCK) => {
            eprintln!("waiting for another hawser run on {} to finish…", out.display());
            rustix::fs::flock(parent.fd(), wait_op).map_err(|e| io_err("lock", out, e.into()))
        }
        Err(e) => Err(io_err("lock", out, e.into())),
    }
}

impl Place {
    fn staging_name(&self) -> String {
        format!(".{}.hawser-new", self.name)
    }

    fn old_name(&self) -> String {
        format!(".{}.hawser-old", self.name)
    }

    /// Whether a killed run left the output half swapped: the previous tree aside with no
    /// output in place (two renames), or a journal inside the output (a mount point).
    fn interrupted(&self) -> Result<bool, Error> {
        let old = self.old_name();
        if self.parent.exists(&old).map_err(|e| io_err("read", &self.sibling(&old), e))?
            && !self.parent.exists(&self.name).map_err(|e| io_err("read", &self.out, e))?
        {
            return Ok(true);
        }
        match self.open_out() {
            Ok(Some(dir)) => dir.exists(JOURNAL).map_err(|e| io_err("read", &self.out.join(JOURNAL), e)),
            Ok(None) => Ok(false),
            // Not a directory hawser can use: the command that reads it says why.
            Err(_) => Ok(false),
        }
    }

    /// Finishes an interrupted swap (see [`settle`]). Needs the exclusive lock.
    fn settle(&self) -> Result<(), Error> {
        let old = self.old_name();
        if self.parent.exists(&old).map_err(|e| io_err("read", &self.sibling(&old), e))?
            && !self.parent.exists(&self.name).map_err(|e| io_err("read", &self.out, e))?
        {
            self.parent.rename(&old, &self.parent, &self.name, false).map_err(|e| io_err("put back", &self.sibling(&old), e))?;
            eprintln!(
                "{}: a hawser run was stopped between the two renames of its swap; put the previous output back in place",
                self.out.display()
            );
        }
        if let Some(dir) = self.open_out()?
            && dir.exists(JOURNAL).map_err(|e| io_err("read", &self.out.join(JOURNAL), e))?
        {
            let journal = read_journal(&dir, &self.out)?;
            let mut steps = Steps { done: 0, stop_after: None };
            let finished = finish_swap(&dir, &self.out, &journal, false, &mut steps)?;
            eprintln!(
                "{}: a hawser run was stopped during its swap ({finished} of {} entries were already new); finished it",
                self.out.display(),
                journal.len()
            );
        }
        Ok(())
    }

    /// Removes what an interrupted run left beside the output directory: a staging tree, and
    /// a previous tree beside a new one in place.
    fn remove_leftovers(&self) -> Result<(), Error> {
        for leftover in [self.staging_name(), self.old_name()] {
            self.parent.remove_all(&leftover).map_err(|e| io_err("remove the leftover", &self.sibling(&leftover), e))?;
        }
        Ok(())
    }

    fn sibling(&self, name: &str) -> std::path::PathBuf {
        self.out.with_file_name(name)
    }

    /// Opens the output directory itself: `None` when there is none.
    fn open_out(&self) -> Result<Option<Dir>, Error> {
        match self.parent.open_dir(&self.name) {
            Ok(d) => Ok(Some(d)),
            Err(e) => match rustix::io::Errno::from_io_error(&e) {
                Some(rustix::io::Errno::NOENT) => Ok(None),
                Some(rustix::io::Errno::LOOP) => Err(Error::new(format!(
                    "{} is a symlink; hawser writes only into a real directory it owns (give its target as --out)",
                    self.out.display()
                ))),
                Some(rustix::io::Errno::NOTDIR) => {
                    Err(Error::new(format!("{} is a file, not a directory; remove it or choose another --out", self.out.display())))
                }
                _ => Err(io_err("read", &self.out, e)),
            },
        }
    }
}

/// The state of an existing output directory.
#[derive(Default)]
pub struct Existing {
    pub lock: Option<Lock>,
    /// The lock's text, as read.
    pub lock_text: Option<String>,
    /// Files (and symlinks) hawser does not own, relative paths.
    pub foreign: BTreeSet<String>,
    /// Directories, relative paths, with their owner and mode.
    pub dirs: BTreeMap<String, Owner>,
    /// Symlinks, relative paths.
    pub symlinks: BTreeSet<String>,
    /// The output directory's own owner and mode.
    pub root: Option<Owner>,
}

/// Reads an existing output directory: its lock and what else is in it.
fn scan_dir(out: &Dir, out_path: &Path) -> Result<Existing, Error> {
    let mut existing = Existing { root: Some(out.owner().map_err(|e| io_err("read", out_path, e))?), ..Existing::default() };
    let lock_path = out_path.join(LOCK_FILE);
    match out.read(LOCK_FILE).map_err(|e| io_err("read", &lock_path, e))? {
        Entry::File { contents, .. } => {
            let text = String::from_utf8(contents).map_err(|_| Error::new(format!("{} is not UTF-8 text", lock_path.display())))?;
            let lock = read_lock(&text).map_err(|why| {
                Error::new(format!("{} is not a hawser lock file ({why}); hawser does not own this directory", lock_path.display()))
            })?;
            existing.lock = Some(lock);
            existing.lock_text = Some(text);
        }
        Entry::Missing => {}
        Entry::TooLarge(size) => {
            return Err(Error::new(format!(
                "{} is {size} bytes, larger than any lock hawser writes; hawser does not own this directory",
                lock_path.display()
            )));
        }
        _ => {
            return Err(Error::new(format!(
                "{} is not a regular file (a symlink, a directory or a device); hawser does not own this directory",
                lock_path.display()
            )));
        }
    }
    let owned: BTreeSet<&str> = existing.lock.iter().flat_map(|l| l.files.keys().map(String::as_str)).collect();
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let entries = out.list(&rel).map_err(|e| io_err("read", &out_path.join(&rel), e))?;
        for (name, kind) in entries {
            if rel.is_empty() && name == CACHE_DIR {
                continue;
            }
            let rel_str = if rel.is_empty() { name } else { format!("{rel}/{name}") };
            match kind {
                Kind::Symlink => {
                    let target = out.read_link(&rel_str).map_err(|e| io_err("read", &out_path.join(&rel_str), e))?;
                    if !stays_inside(Path::new(&rel_str), &target) {
                        return Err(Error::new(format!(
                            "{} is a symlink to {}, outside the output directory; hawser will not write through it: remove it",
                            out_path.join(&rel_str).display(),
                            target.display()
                        )));
                    }
                    existing.symlinks.insert(rel_str.clone());
                    existing.foreign.insert(rel_str);
                }
                Kind::Dir => {
                    let owner = out.open_dir(&rel_str).and_then(|d| d.owner()).map_err(|e| io_err("read", &out_path.join(&rel_str), e))?;
                    existing.dirs.insert(rel_str.clone(), owner);
                    stack.push(rel_str);
                }
                Kind::File | Kind::Special => {
                    if rel_str != LOCK_FILE && !owned.contains(rel_str.as_str()) {
                        existing.foreign.insert(rel_str);
                    }
                }
            }
        }
    }
    if existing.lock.is_none() && (!existing.foreign.is_empty() || !existing.dirs.is_empty()) {
        return Err(Error::new(format!(
            "{} is not empty and has no {LOCK_FILE}: hawser does not own it; choose an empty or new directory with --out",
            out_path.display()
        )));
    }
    Ok(existing)
}

/// Reads an existing output directory: its lock and what else is in it. `Ok(None)` when
/// there is none.
pub fn scan(out: &Path) -> Result<Option<Existing>, Error> {
    let Some(place) = place(out, Access::Read)? else { return Ok(None) };
    match place.open_out()? {
        Some(dir) => scan_dir(&dir, out).map(Some),
        None => Ok(None),
    }
}

/// Reads an output directory for a comparison with `expected` (`generate --check`,
/// `hawser diff`): its lock, the files it does not own, and the contents of every file
/// hawser produces or the lock lists. Writes nothing, follows no symlink: a symlink where a
/// file is expected reads as a placeholder text, never as its target. `Ok(None)` when
/// there is no output directory.
pub fn read_on_disk(out: &Path, expected: &Artifacts) -> Result<Option<OnDisk>, Error> {
    let Some(place) = place(out, Access::Read)? else { return Ok(None) };
    let Some(dir) = place.open_out()? else { return Ok(None) };
    let existing = scan_dir(&dir, out)?;
    let mut wanted: BTreeSet<&str> = expected.files.keys().map(String::as_str).collect();
    if let Some(lock) = &existing.lock {
        wanted.extend(lock.files.keys().map(String::as_str));
    }
    // Symlinks are foreign and never followed.
    let wanted: Vec<&str> = wanted.into_iter().filter(|p| !existing.symlinks.contains(*p)).collect();
    // Reading thousands of small files is system calls more than bytes: two threads halve it.
    let half = wanted.len().div_ceil(2);
    let (first, second) = wanted.split_at(half);
    let (mine, theirs) = std::thread::scope(|s| {
        let other = s.spawn(|| read_files(&dir, out, second));
        let mine = read_files(&dir, out, first);
        (mine, other.join().unwrap_or_else(|_| Err(Error::new("a reader thread failed".to_owned()))))
    });
    let mut files = mine?;
    files.append(&mut theirs?);
    Ok(Some(OnDisk { lock_text: existing.lock_text, lock: existing.lock, files, foreign: existing.foreign }))
}

fn read_files(dir: &Dir, out: &Path, paths: &[&str]) -> Result<BTreeMap<String, DiskFile>, Error> {
    let mut files = BTreeMap::new();
    // Each directory is opened once (its path walked without following symlinks), not once
    // per file in it.
    let mut parents: BTreeMap<&str, Option<Dir>> = BTreeMap::new();
    for path in paths {
        let placeholder = |text: String| DiskFile { contents: text.into_bytes(), executable: false };
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
        let opened = parents.entry(parent).or_insert_with(|| dir.open_dir(parent).ok());
        let entry = match opened {
            Some(p) => p.read_here(name),
            // A symlink or a file on the way: `read` says which.
            None => dir.read(path),
        };
        let file = match entry.map_err(|e| io_err("read", &out.join(path), e))? {
            Entry::Missing => continue,
            Entry::File { contents, mode } => DiskFile { contents, executable: mode & 0o111 != 0 },
            // What is there differs, and has no contents hawser reads.
            Entry::Dir => placeholder("(a directory)\n".to_owned()),
            Entry::Symlink => placeholder("(a symlink, on the way to this path or at it; hawser does not follow it)\n".to_owned()),
            Entry::Special => placeholder("(not a regular file)\n".to_owned()),
            Entry::TooLarge(size) => placeholder(format!("(a file of {size} bytes, more than hawser reads)\n")),
        };
        files.insert((*path).to_owned(), file);
    }
    Ok(files)
}

/// Whether a relative symlink at `link` (relative to the output directory) pointing to
/// `target` stays inside the output directory.
fn stays_inside(link: &Path, target: &Path) -> bool {
    if target.is_absolute() {
        return false;
    }
    let mut depth: i64 = link.components().count() as i64 - 1;
    for c in target.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            _ => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

/// Writes what `request` asks for into `out`, atomically (see the module's documentation).
pub fn write(out: &Path, request: &Request<'_>) -> Result<Summary, Error> {
    write_with(out, request, Faults::default())
}

/// [`write`], carried out as `faults` say: for tests that stop it after each step.
pub fn write_with(out: &Path, request: &Request<'_>, faults: Faults) -> Result<Summary, Error> {
    if let Files::Made(artifacts) = request.files {
        artifacts.files.keys().try_for_each(|path| writable(path))?;
    }
    let place = place(out, Access::Write)?.ok_or_else(|| Error::new(format!("cannot open the directory of {}", out.display())))?;
    place.remove_leftovers()?;
    let out_dir = place.open_out()?;
    // Checked by hawser itself, before anything is touched: root passes the kernel's check.
    if let Some(root) = out_dir.as_ref().and_then(|d| d.owner().ok())
        && root.mode & 0o200 == 0
    {
        return Err(Error::new(format!(
            "{} is read-only (mode {:o}): someone made it so, and hawser leaves it alone; make it writable (`chmod u+w`) to generate into it",
            out.display(),
            root.mode & 0o7777
        )));
    }
    let existing = match &out_dir {
        Some(dir) => {
            for leftover in [STAGING, LOCK_STAGING, JOURNAL_STAGING, STASH] {
                dir.remove_all(leftover).map_err(|e| io_err("remove the leftover", &out.join(leftover), e))?;
            }
            scan_dir(dir, out)?
        }
        None => Existing::default(),
    };
    let mount_point = out_dir.as_ref().is_some_and(|dir| faults.inside || dir.device().ok() != place.parent.device().ok());
    // Inside a mount point, the new tree's top-level entries are swapped one by one, so
    // every path must be known before the swap starts: the files are made first.
    let made_first;
    let files = match request.files {
        Files::Making(generator) if mount_point => {
            made_first = make(generator)?;
            Files::Made(&made_first)
        }
        files => files,
    };
    // Files made before the write are checked before anything is touched; files made
    // during it, as each comes (a refused one removes the new tree, and nothing changed).
    if let Files::Made(artifacts) = files {
        nothing_in_the_way(artifacts, request.environments, &existing, out)?;
    }
    let kept = kept_entries(request.environments, existing.lock.as_ref());
    let job = Job { request, kept: &kept, existing: &existing, out };
    let mut steps = Steps { done: 0, stop_after: faults.stop_after };
    let built = match &out_dir {
        None => {
            let staging = place.staging_name();
            let new = place.parent.create_dir(&staging, 0o700).map_err(|e| io_err("create", &place.sibling(&staging), e))?;
            let built = steps.step().and_then(|()| build_tree(None, &new, files, &job, false)).and_then(|built| {
                new.set_owner(Owner { mode: 0o755, ..new.owner().map_err(|e| io_err("read", out, e))? })
                    .map_err(|e| io_err("set permissions of", out, e))?;
                steps.step()?;
                place.parent.rename(&staging, &place.parent, &place.name, false).map_err(|e| io_err("move into place", out, e))?;
                steps.step()?;
                Ok(built)
            });
            if let Err(e) = &built
                && !e.stopped
            {
                let _ = place.parent.remove_all(&staging);
            }
            built?
        }
        Some(dir) => {
            let swapped = if mount_point { Err(Swap::MountPoint) } else { swap_beside(&place, dir, files, &job, faults, &mut steps) };
            match swapped {
                Ok(built) => built,
                Err(Swap::Failed(e)) => return Err(e),
                Err(Swap::MountPoint) => {
                    // Found only when the tree built beside could not be swapped in: the
                    // files are made again, in memory.
                    let made_again;
                    let artifacts = match files {
                        Files::Made(artifacts) => artifacts,
                        Files::Making(generator) => {
                            made_again = make(generator)?;
                            nothing_in_the_way(&made_again, request.environments, &existing, out)?;
                            &made_again
                        }
                    };
                    swap_inside(dir, out, artifacts, &job, faults, &mut steps)?
                }
            }
        }
    };
    let summary = summarise(&built, &kept, &existing);
    if let Some(key) = &request.cache_key {
        // Only a shortcut for the next run: without it, that run does the whole work.
        // The lock lists the files written and those of other environments kept.
        let owned = |path: &str| built.hashes.contains_key(path) || kept.contains_key(path);
        let _ = write_cache(&place, key, &owned, &built.stamps);
    }
    Ok(summary)
}

/// A path hawser may write: plain, inside the output directory, and neither the lock nor
/// the cache.
fn writable(path: &str) -> Result<(), Error> {
    if !safe_relative(path) || path == LOCK_FILE || is_cache(path) {
        return Err(Error::new(format!("refusing to write `{path}`: not a plain path inside the output directory")));
    }
    Ok(())
}

/// A foreign file where hawser would write `path`, or on the way to it, is in the way;
/// so is a directory.
fn in_the_way(path: &str, existing: &Existing, out: &Path) -> Result<(), Error> {
    let mut end = 0;
    for seg in path.split('/') {
        end += seg.len();
        let prefix = &path[..end];
        if existing.foreign.contains(prefix) {
            return Err(Error::new(format!(
                "{} exists and hawser does not own it (it is not in {LOCK_FILE}); move it away, hawser will not overwrite it",
                out.join(prefix).display()
            )));
        }
        end += 1;
    }
    if existing.dirs.contains_key(path) {
        return Err(Error::new(format!("{} is a directory where hawser writes a file; move it away", out.join(path).display())));
    }
    Ok(())
}

/// Nothing in the way ([`in_the_way`]) of any file of `artifacts` the run writes.
fn nothing_in_the_way(artifacts: &Artifacts, environments: &[String], existing: &Existing, out: &Path) -> Result<(), Error> {
    artifacts.files.keys().filter(|p| chosen(environments, p)).try_for_each(|p| in_the_way(p, existing, out))
}

/// Runs a generator to the end, keeping every file in memory; every path must be one
/// hawser may write ([`writable`]).
fn make(generator: &Generator<'_>) -> Result<Artifacts, Error> {
    let mut artifacts = Artifacts::default();
    generate_guarded(generator, &mut artifacts)?;
    artifacts.files.keys().try_for_each(|path| writable(path))?;
    Ok(artifacts)
}

/// Runs `generator` into `sink`; its error, or its panic, is an internal error.
fn generate_guarded(generator: &Generator<'_>, sink: &mut dyn Sink) -> Result<(), Error> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| generator(sink))) {
        Ok(made) => made.map_err(Error::internal),
        Err(_) => Err(Error::internal("a generator panicked".to_owned())),
    }
}

/// What every step of a write reads: the request, the files of other environments kept as
/// they are, and what the output directory held.
struct Job<'a> {
    request: &'a Request<'a>,
    kept: &'a BTreeMap<String, String>,
    existing: &'a Existing,
    out: &'a Path,
}

/// The new tree, built: the sha256 of each file written, and what went wrong after it was in
/// place.
struct Built {
    hashes: BTreeMap<String, String>,
    warnings: Vec<String>,
    /// For the cache, when the run keeps one: the stamp of each file written in a directory,
    /// taken once written. Nothing touches such a file afterwards (a swap renames the tree,
    /// or its top-level entries, never what is inside a directory), so it is the file's
    /// stamp when the cache is written, without a second look at it. A file linked from the
    /// previous tree is not among them: removing that tree changes its ctime.
    stamps: BTreeMap<String, Stamp>,
}

/// What [`up_to_date`] found: the output directory is what the run wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpToDate {
    /// The files the lock lists.
    pub files: usize,
    /// The files and symlinks in it that hawser does not own.
    pub foreign: usize,
    /// The configuration files the run read, with their sha256, as its lock records them:
    /// they are not below the output directory, so the caller must see that they did not
    /// change either.
    pub inputs: BTreeMap<String, String>,
}

/// Whether `out` holds exactly what the `generate` run that `key` names wrote there, as
/// the cache's stamps prove without reading a file: the lock and every file and directory
/// of the tree have the device, inode, mode, size, mtime and ctime they had when that run
/// finished. Any write, rename, `chmod`, new or removed entry moves a ctime, which no
/// program can set back; a fresh clone or copy has new inodes and ctimes. So a cache
/// written elsewhere, or crafted, never matches: then `None`, and the caller does the
/// whole work. Reads only the cache and the lock, through [`Dir`], following no symlink.
pub fn up_to_date(out: &Path, key: &str) -> Option<UpToDate> {
    let place = place(out, Access::Read).ok()??;
    // What an interrupted run left beside the output is for a whole run to clean up.
    let old = format!(".{}.hawser-old", place.name);
    if [place.staging_name(), old].iter().any(|n| place.parent.exists(n).unwrap_or(true)) {
        return None;
    }
    let dir = place.open_out().ok()??;
    let Entry::File { contents, .. } = dir.read(&format!("{CACHE_DIR}/{CACHE_FILE}")).ok()? else { return None };
    let cache = parse_cache(std::str::from_utf8(&contents).ok()?)?;
    if cache.key != key {
        return None;
    }
    let Entry::File { contents, .. } = dir.read(LOCK_FILE).ok()? else { return None };
    let lock = read_lock(std::str::from_utf8(&contents).ok()?).ok()?;
    if lock.conflicted {
        return None;
    }
    // The stamps must cover the whole tree hawser owns: the root, the lock, every file it
    // lists and every directory on the way.
    let covered = |p: &str| cache.stamps.contains_key(p);
    if !covered(".") || !covered(LOCK_FILE) || !lock.files.keys().all(|p| covered(p) && ancestors(p).iter().all(|a| covered(a))) {
        return None;
    }
    let mut parents: BTreeMap<&str, Option<Dir>> = BTreeMap::new();
    for (path, stamp) in &cache.stamps {
        let now = if path == "." {
            dir.stamp().ok()
        } else {
            let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
            match parents.entry(parent).or_insert_with(|| dir.open_dir(parent).ok()) {
                Some(p) => p.stamp_here(name).ok().flatten(),
                None => None,
            }
        };
        if now != Some(*stamp) {
            return None;
        }
    }
    Some(UpToDate { files: lock.files.len(), foreign: cache.foreign, inputs: lock.inputs })
}

struct Cache {
    key: String,
    foreign: usize,
    stamps: BTreeMap<String, Stamp>,
}

fn is_cache(path: &str) -> bool {
    path == CACHE_DIR || path.starts_with(&format!("{CACHE_DIR}/"))
}

/// The cache's text: a comment, `key KEY`, `foreign N`, then one line per stamped entry,
/// `DEV INO MODE SIZE MTIME.NS CTIME.NS PATH` (`.` for the output directory itself), in the
/// order of `stamps`.
fn render_cache<'a>(key: &str, foreign: usize, stamps: impl ExactSizeIterator<Item = (&'a str, &'a Stamp)>) -> String {
    let mut s =
        format!("# stamps of what hawser last wrote here, machine-specific: see `hawser generate --help`\nkey {key}\nforeign {foreign}\n");
    // A line is some 80 bytes; the numbers are written by hand, a few thousand of them being
    // the whole of this text, which a run writes last, with nothing beside it.
    s.reserve(stamps.len() * 96);
    let number = |s: &mut String, n: u64| {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut n = n;
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        s.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
    };
    let signed = |s: &mut String, n: i64| {
        if n < 0 {
            s.push('-');
        }
        number(s, n.unsigned_abs());
    };
    for (path, t) in stamps {
        number(&mut s, t.dev);
        s.push(' ');
        number(&mut s, t.ino);
        s.push(' ');
        let _ = write!(s, "{:o}", t.mode);
        s.push(' ');
        number(&mut s, t.size);
        for (secs, nanos) in [t.mtime, t.ctime] {
            s.push(' ');
            signed(&mut s, secs);
            s.push('.');
            signed(&mut s, nanos);
        }
        s.push(' ');
        s.push_str(path);
        s.push('\n');
    }
    s
}

/// Reads a cache; `None` for anything that is not one hawser wrote (it is then ignored).
fn parse_cache(text: &str) -> Option<Cache> {
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let key = lines.next()?.strip_prefix("key ")?.to_owned();
    let foreign = lines.next()?.strip_prefix("foreign ")?.parse().ok()?;
    let mut stamps = BTreeMap::new();
    for line in lines {
        let mut f = line.splitn(7, ' ');
        let mut next = || f.next();
        let number = |s: Option<&str>| s?.parse::<u64>().ok();
        let time = |s: Option<&str>| -> Option<(i64, i64)> {
            let (a, b) = s?.split_once('.')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        };
        let dev = number(next())?;
        let ino = number(next())?;
        let mode = u32::from_str_radix(next()?, 8).ok()?;
        let size = number(next())?;
        let mtime = time(next())?;
        let ctime = time(next())?;
        let path = next()?;
        if path != "." && (!safe_relative(path) || is_cache(path)) {
            return None;
        }
        stamps.insert(path.to_owned(), Stamp { dev, ino, mode, size, mtime, ctime });
    }
    Some(Cache { key, foreign, stamps })
}

/// After a write: stamps every directory of the new tree, the lock and every file it lists
/// (`owned`), and keeps them under `key` in the cache, with a `.gitignore` that keeps the
/// cache out of commits. Taken after the tree is complete, under the run's exclusive lock; a
/// file's stamp taken when it was written (`known`) is used as it is.
fn write_cache(place: &Place, key: &str, owned: &dyn Fn(&str) -> bool, known: &BTreeMap<String, Stamp>) -> io::Result<()> {
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let dir = place.open_out().map_err(|e| invalid(&e.message))?.ok_or_else(|| invalid("no output directory"))?;
    dir.remove_all(CACHE_DIR)?;
    let cache = dir.create_dir(CACHE_DIR, 0o755)?;
    cache.write_new(".gitignore", CACHE_IGNORE.as_bytes(), 0o644)?;
    // Gathered as the tree is walked, then put in order: most are the files' stamps taken
    // when they were written (by the path `known` holds), a few thousand for a large spec.
    let mut stamps: Vec<(std::borrow::Cow<'_, str>, Stamp)> = Vec::with_capacity(known.len() + 64);
    let mut foreign = 0;
    // Every directory, hawser's or not, so that a file added anywhere shows.
    stamps.push((".".into(), dir.stamp()?));
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let here = dir.open_dir(&rel)?;
        let prefix = if rel.is_empty() { String::new() } else { format!("{rel}/") };
        // The files of this directory whose stamps are known, in name order as the listing
        // is: walked beside it rather than looked up.
        let mut known_here = known
            .range::<str, _>((std::ops::Bound::Included(prefix.as_str()), std::ops::Bound::Unbounded))
            .take_while(|(path, _)| path.starts_with(&prefix))
            .filter(|(path, _)| !path[prefix.len()..].contains('/'))
            .peekable();
        for (name, kind) in dir.list(&rel)? {
            if rel.is_empty() && name == CACHE_DIR {
                continue;
            }
            while known_here.next_if(|(path, _)| path[prefix.len()..] < *name).is_some() {}
            if kind != Kind::Dir
                && let Some((path, stamp)) = known_here.next_if(|(path, _)| path[prefix.len()..] == *name)
            {
                // A file whose stamp was taken when it was written is one hawser wrote.
                stamps.push((path.as_str().into(), *stamp));
                continue;
            }
            let path = format!("{prefix}{name}");
            match kind {
                Kind::Dir => {
                    stamps.push((path.clone().into(), here.stamp_here(&name)?.ok_or_else(|| invalid("vanished"))?));
                    stack.push(path);
                }
                _ if path == LOCK_FILE || owned(&path) => {
                    let stamp = here.stamp_here(&name)?.ok_or_else(|| invalid("vanished"))?;
                    stamps.push((path.into(), stamp));
                }
                _ => foreign += 1,
            }
        }
    }
    stamps.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let text = render_cache(key, foreign, stamps.iter().map(|(path, stamp)| (path.as_ref(), stamp)));
    cache.write_new("stamps.new", text.as_bytes(), 0o644)?;
    cache.replace("stamps.new", CACHE_FILE)
}

enum Swap {
    /// Nothing changed, or the write was stopped ([`Faults`]).
    Failed(Error),
    /// The output directory cannot be renamed (a mount point): nothing changed yet.
    MountPoint,
}

/// The new tree built beside the output and swapped with it in one atomic rename; where the
/// file system cannot exchange, in two renames.
fn swap_beside(place: &Place, out_dir: &Dir, files: Files<'_>, job: &Job<'_>, faults: Faults, steps: &mut Steps) -> Result<Built, Swap> {
    let staging = place.staging_name();
    let new = place.parent.create_dir(&staging, 0o700).map_err(|e| Swap::Failed(io_err("create", &place.sibling(&staging), e)))?;
    let built = steps.step().and_then(|()| build_tree(Some(out_dir), &new, files, job, false)).and_then(|built| {
        if let Some(root) = job.existing.root {
            new.set_owner(root).map_err(|e| io_err("keep the owner and mode of", &place.out, e))?;
        }
        steps.step()?;
        Ok(built)
    });
    let mut built = match built {
        Ok(built) => built,
        Err(e) => {
            if !e.stopped {
                let _ = place.parent.remove_all(&staging);
            }
            return Err(Swap::Failed(e));
        }
    };
    let exchanged = if faults.without_exchange {
        Err(rustix::io::Errno::INVAL.into())
    } else {
        place.parent.rename(&staging, &place.parent, &place.name, true)
    };
    if let Err(e) = exchanged {
        match rustix::io::Errno::from_io_error(&e) {
            // A file system without RENAME_EXCHANGE: two renames, and a kill between them is
            // undone by the next command on the directory (`settle`).
            Some(rustix::io::Errno::INVAL) => {
                built.warnings = swap_in_two_renames(place, &staging, steps)?;
                return Ok(built);
            }
            Some(rustix::io::Errno::BUSY | rustix::io::Errno::XDEV) => {
                let _ = place.parent.remove_all(&staging);
                return Err(Swap::MountPoint);
            }
            _ => {
                let _ = place.parent.remove_all(&staging);
                return Err(Swap::Failed(io_err("move into place", &place.out, e)));
            }
        }
    }
    steps.step().map_err(Swap::Failed)?;
    // The previous tree is now under the staging name; the new one is in place.
    match place.parent.remove_all(&staging) {
        Ok(()) => steps.step().map_err(Swap::Failed)?,
        Err(e) => built.warnings.push(format!(
            "{} (the previous output) could not be removed: {e}; the next run removes it",
            place.sibling(&staging).display()
        )),
    }
    Ok(built)
}

fn swap_in_two_renames(place: &Place, staging: &str, steps: &mut Steps) -> Result<Vec<String>, Swap> {
    let old = place.old_name();
    if let Err(e) = place.parent.rename(&place.name, &place.parent, &old, false) {
        let _ = place.parent.remove_all(staging);
        return Err(Swap::Failed(io_err("move aside", &place.out, e)));
    }
    steps.step().map_err(Swap::Failed)?;
    if let Err(e) = place.parent.rename(staging, &place.parent, &place.name, false) {
        let _ = place.parent.rename(&old, &place.parent, &place.name, false);
        let _ = place.parent.remove_all(staging);
        return Err(Swap::Failed(io_err("move into place", &place.out, e)));
    }
    steps.step().map_err(Swap::Failed)?;
    match place.parent.remove_all(&old) {
        Ok(()) => steps.step().map(|()| Vec::new()).map_err(Swap::Failed),
        Err(e) => {
            Ok(vec![format!("{} (the previous output) could not be removed: {e}; the next run removes it", place.sibling(&old).display())])
        }
    }
}

/// One top-level entry of a swap inside the output: its name and the inodes of its old
/// version (in the output) and its new one (in `.hawser-new`), either absent.
#[derive(Debug, Clone, PartialEq, Eq)]
struct JournalEntry {
    name: String,
    old: Option<u64>,
    new: Option<u64>,
}

/// On a mount point: the new tree is built in `.hawser-new` inside the output, then each
/// top-level entry hawser owns is swapped in turn, the lock last. The journal, written
/// before the first swap, lets the next command finish a swap a kill interrupted.
fn swap_inside(out_dir: &Dir, out: &Path, artifacts: &Artifacts, job: &Job<'_>, faults: Faults, steps: &mut Steps) -> Result<Built, Error> {
    let existing = job.existing;
    let new = out_dir.create_dir(STAGING, 0o700).map_err(|e| io_err("create", &out.join(STAGING), e))?;
    let built = steps.step().and_then(|()| build_tree(Some(out_dir), &new, Files::Made(artifacts), job, true)).and_then(|built| {
        steps.step()?;
        Ok(built)
    });
    let built = match built {
        Ok(built) => built,
        Err(e) => {
            if !e.stopped {
                let _ = out_dir.remove_all(STAGING);
            }
            return Err(e);
        }
    };
    // Every top-level entry hawser owns, old or new, and the lock last.
    let mut names: BTreeSet<String> = existing
        .lock
        .iter()
        .flat_map(|l| l.files.keys())
        .chain(artifacts.files.keys().filter(|p| chosen(job.request.environments, p)))
        .map(|p| p.split('/').next().unwrap_or(p).to_owned())
        .collect();
    names.remove(LOCK_FILE);
    let inode = |dir: &Dir, name: &str, path: &Path| dir.inode(name).map_err(|e| io_err("read", path, e));
    let mut journal = Vec::new();
    for name in names.iter().map(String::as_str).chain([LOCK_FILE]) {
        let entry = JournalEntry {
            name: name.to_owned(),
            old: inode(out_dir, name, &out.join(name))?,
            new: inode(&new, name, &out.join(STAGING).join(name))?,
        };
        if entry.old.is_some() || entry.new.is_some() {
            journal.push(entry);
        }
    }
    let before = |e: Error| {
        if e.stopped {
            e
        } else {
            let _ = out_dir.remove_all(STAGING);
            let _ = out_dir.remove_all(JOURNAL_STAGING);
            e
        }
    };
    out_dir.create_dir(STASH, 0o700).map_err(|e| before(io_err("create", &out.join(STASH), e)))?;
    let text = render_journal(&journal);
    out_dir.write_new(JOURNAL_STAGING, text.as_bytes(), 0o644).map_err(|e| before(io_err("write", &out.join(JOURNAL_STAGING), e)))?;
    out_dir.replace(JOURNAL_STAGING, JOURNAL).map_err(|e| before(io_err("write", &out.join(JOURNAL), e)))?;
    steps.step()?;
    finish_swap(out_dir, out, &journal, faults.without_exchange, steps)?;
    if let Some(root) = existing.root {
        let _ = out_dir.set_owner(root);
    }
    Ok(built)
}

/// Brings every entry of the journal to its new version, in order, then removes the
/// journal, the previous entries and the stash. What is already new is left as it is, so
/// this finishes a swap that a kill interrupted at any step, and can itself be
/// interrupted and run again. How many entries were already new.
fn finish_swap(out_dir: &Dir, out: &Path, journal: &[JournalEntry], without_exchange: bool, steps: &mut Steps) -> Result<usize, Error> {
    let not_ours = |why: String| Error {
        message: format!(
            "{} holds the journal of an interrupted swap ({JOURNAL}) that does not match the directory: {why}; hawser stopped there: move {} and {} away, then run `hawser generate`",
            out.display(),
            out.join(JOURNAL).display(),
            out.join(STAGING).display()
        ),
        partly_changed: true,
        stopped: false,
    };
    let staging = match out_dir.open_dir(STAGING) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(not_ours(format!("its new tree, {STAGING}, is missing"))),
        opened => opened.map_err(|e| partly(io_err("open", &out.join(STAGING), e)))?,
    };
    // Where old entries wait when there is no RENAME_EXCHANGE: made before the journal,
    // opened when first needed (and made again in case a copy lost it while empty).
    let stash = || match out_dir.open_dir(STASH) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => out_dir.create_dir(STASH, 0o700),
        opened => opened,
    };
    let mismatch = |name: &str| not_ours(format!("`{name}` is neither its old nor its new version"));
    let mut already = 0;
    for entry in journal {
        let name = entry.name.as_str();
        let here = out_dir.inode(name).map_err(|e| partly(io_err("read", &out.join(name), e)))?;
        let moved = |r: io::Result<()>| r.map_err(|e| partly(io_err("move into place", &out.join(name), e)));
        match (entry.new, here) {
            (Some(n), Some(h)) if n == h => already += 1,
            (None, None) => already += 1,
            (Some(n), here) => {
                if staging.inode(name).map_err(|e| partly(io_err("read", &out.join(STAGING).join(name), e)))? != Some(n) {
                    return Err(mismatch(name));
                }
                match here {
                    None => moved(staging.rename(name, out_dir, name, false))?,
                    Some(h) if Some(h) == entry.old => {
                        let exchanged =
                            if without_exchange { Err(rustix::io::Errno::INVAL.into()) } else { staging.rename(name, out_dir, name, true) };
                        match exchanged {
                            Ok(()) => {}
                            Err(e) if rustix::io::Errno::from_io_error(&e) == Some(rustix::io::Errno::INVAL) => {
                                // No RENAME_EXCHANGE: the old one to the stash, then the new
                                // one in; a kill between leaves the name empty, which the next
                                // run fills from the staging tree.
                                let stash = stash().map_err(|e| partly(io_err("open", &out.join(STASH), e)))?;
                                moved(out_dir.rename(name, &stash, name, false))?;
                                steps.step()?;
                                moved(staging.rename(name, out_dir, name, false))?;
                            }
                            Err(e) => moved(Err(e))?,
                        }
                    }
                    Some(_) => return Err(mismatch(name)),
                }
                steps.step()?;
            }
            (None, Some(h)) if Some(h) == entry.old => {
                moved(out_dir.rename(name, &staging, name, false))?;
                steps.step()?;
            }
            (None, Some(_)) => return Err(mismatch(name)),
        }
    }
    out_dir.remove_all(JOURNAL).map_err(|e| partly(io_err("remove", &out.join(JOURNAL), e)))?;
    steps.step()?;
    for leftover in [STAGING, STASH] {
        out_dir.remove_all(leftover).map_err(|e| io_err("remove the previous output in", &out.join(leftover), e))?;
    }
    steps.step()?;
    Ok(already)
}

/// The journal's text: one line per entry, `NAME OLD NEW` with `-` for an absent inode.
fn render_journal(journal: &[JournalEntry]) -> String {
    let ino = |i: Option<u64>| i.map_or("-".to_owned(), |i| i.to_string());
    let mut s = "# hawser: a swap of this directory's entries; the next hawser command on it finishes it\n".to_owned();
    for e in journal {
        let _ = writeln!(s, "{} {} {}", e.name, ino(e.old), ino(e.new));
    }
    s
}

/// Reads the journal of an interrupted swap: data from the repository like the rest, so
/// each name must be one plain file name, listed once.
fn read_journal(out_dir: &Dir, out: &Path) -> Result<Vec<JournalEntry>, Error> {
    let path = out.join(JOURNAL);
    let bad = |why: &str| {
        Error::new(format!(
            "{} is not a journal hawser wrote ({why}); move it away, and {} with it",
            path.display(),
            out.join(STAGING).display()
        ))
    };
    let text = match out_dir.read(JOURNAL).map_err(|e| io_err("read", &path, e))? {
        Entry::File { contents, .. } if contents.len() <= 1 << 20 => String::from_utf8(contents).map_err(|_| bad("not UTF-8"))?,
        _ => return Err(bad("not a small regular file")),
    };
    let mut journal: Vec<JournalEntry> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let parts: Vec<&str> = line.split(' ').collect();
        let ino = |s: &str| if s == "-" { Ok(None) } else { s.parse::<u64>().map(Some).map_err(|_| bad("an inode is not a number")) };
        let [name, old, new] = parts[..] else { return Err(bad("a line is not `NAME OLD NEW`")) };
        if !safe_file_name(name) || name.starts_with(".hawser") || journal.iter().any(|e| e.name == name) {
            return Err(bad("a name is not a plain entry of the directory, or is listed twice"));
        }
        journal.push(JournalEntry { name: name.to_owned(), old: ino(old)?, new: ino(new)? });
    }
    Ok(journal)
}

/// An error after part of the output was replaced (on a mount point): said as it is.
fn partly(e: Error) -> Error {
    if e.stopped {
        return e;
    }
    Error {
        message: format!("{e}; the swap is half done, and the next hawser command on this directory finishes it"),
        partly_changed: true,
        stopped: false,
    }
}

fn summarise(built: &Built, kept: &BTreeMap<String, String>, existing: &Existing) -> Summary {
    let previous = existing.lock.as_ref().map(|l| &l.files);
    let mut summary = Summary {
        written: built.hashes.len(),
        kept_foreign: existing.foreign.len(),
        kept_other_environments: kept.len(),
        lock_conflict: existing.lock.as_ref().is_some_and(|l| l.conflicted),
        warnings: built.warnings.clone(),
        ..Summary::default()
    };
    for (path, sha) in &built.hashes {
        if previous.and_then(|p| p.get(path)) != Some(sha) {
            summary.changed.push(path.clone());
        }
    }
    if let Some(prev) = previous {
        summary.removed = prev.keys().filter(|p| !built.hashes.contains_key(*p) && !kept.contains_key(*p)).cloned().collect();
    }
    summary
}

/// Builds the new tree in `new`: foreign files and kept files linked from `old`, user
/// directories recreated (empty ones too), generated files written, the lock, then every
/// directory given back its owner and mode, deepest first. With `inside`, the new tree is
/// inside the old one (a mount point): entries at the top level that hawser does not own
/// stay where they are.
fn build_tree(old: Option<&Dir>, new: &Dir, files: Files<'_>, job: &Job<'_>, inside: bool) -> Result<Built, Error> {
    let (request, existing) = (job.request, job.existing);
    let mut tree = Tree { root: new, dirs: BTreeMap::new() };
    let hawser_dirs: BTreeSet<String> = existing.lock.iter().flat_map(|l| l.files.keys()).flat_map(|p| ancestors(p)).collect();
    // Only inside a mount point, where the files were made first (see `write_with`).
    let written = match files {
        Files::Made(artifacts) if inside => Some(artifacts.files.keys().filter(|p| chosen(request.environments, p))),
        _ => None,
    };
    let top_level_owned: BTreeSet<&str> = existing
        .lock
        .iter()
        .flat_map(|l| l.files.keys())
        .chain(written.into_iter().flatten())
        .filter_map(|p| p.split_once('/').map(|(top, _)| top))
        .collect();
    let stays = |rel: &str| inside && !top_level_owned.contains(rel.split('/').next().unwrap_or(rel));
    // Directories hawser does not own come along, empty or not.
    for rel in existing.dirs.keys() {
        if !hawser_dirs.contains(rel) && !stays(rel) {
            tree.dir(rel)?;
        }
    }
    if let Some(old) = old {
        let carried = existing.foreign.iter().chain(job.kept.keys());
        for rel in carried {
            if stays(rel) || rel == STAGING {
                continue;
            }
            let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
            let from = old.open_dir(parent).map_err(|e| io_err("read", Path::new(rel), e))?;
            if !from.exists(name).map_err(|e| io_err("read", Path::new(rel), e))? {
                continue;
            }
            tree.dir(parent)?.link_from(&from, name).map_err(|e| io_err("keep", Path::new(rel), e))?;
        }
    }
    let owned = existing.lock.as_ref().map(|l| &l.files);
    let mut old_dirs: BTreeMap<String, Option<Dir>> = BTreeMap::new();
    let stamping = request.cache_key.is_some();
    let mut stamps = BTreeMap::new();
    let mut place_file = |path: &str, a: &Artifact| -> Result<(), Error> {
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
        let mode = if a.executable { 0o755 } else { 0o644 };
        let to = tree.dir(parent)?;
        // A file hawser owns whose bytes and mode are already right is linked into the new
        // tree rather than written again: no new inode, no new data, the same result.
        if let Some(old) = old
            && owned.is_some_and(|o| o.contains_key(path))
            && let Some(from) = old_dirs.entry(parent.to_owned()).or_insert_with(|| old.open_dir(parent).ok())
            && let Ok(Entry::File { contents, mode: m }) = from.read_here(name)
            && contents == a.contents.as_bytes()
            && m & 0o7777 == mode
        {
            return to.link_from(from, name).map_err(|e| io_err("keep", Path::new(path), e));
        }
        if stamping && !parent.is_empty() {
            let stamp = to.write_new_stamped(name, a.contents.as_bytes(), mode).map_err(|e| io_err("write", Path::new(path), e))?;
            stamps.insert(path.to_owned(), stamp);
            return Ok(());
        }
        to.write_new(name, a.contents.as_bytes(), mode).map_err(|e| io_err("write", Path::new(path), e))
    };
    let hashes = match files {
        Files::Made(artifacts) => {
            let files: Vec<(&String, &Artifact)> = artifacts.files.iter().filter(|(p, _)| chosen(request.environments, p)).collect();
            for (path, a) in &files {
                place_file(path, a)?;
            }
            hash_all(&files)
        }
        Files::Making(generator) => {
            let mut hashes = BTreeMap::new();
            // Every path made, written or not, is held to what `Artifacts` holds it to.
            let mut seen: BTreeSet<String> = BTreeSet::new();
            let mut take = |path: String, a: Artifact, sha256: String| -> Result<(), Error> {
                writable(&path)?;
                if !seen.insert(path.clone()) {
                    return Err(Error::internal(format!("`{path}` was generated twice")));
                }
                if !chosen(request.environments, &path) {
                    return Ok(());
                }
                in_the_way(&path, existing, job.out)?;
                place_file(&path, &a)?;
                hashes.insert(path, sha256);
                Ok(())
            };
            stream(generator, &mut take)?;
            hashes
        }
    };
    // The files of other environments kept, if any, beside those written.
    let merged;
    let entries = if job.kept.is_empty() {
        &hashes
    } else {
        merged = job.kept.iter().chain(&hashes).map(|(p, sha)| (p.clone(), sha.clone())).collect();
        &merged
    };
    let lock_text = render_lock_entries(request.spec_name, &request.spec_sha256, &request.inputs_sha256, entries);
    new.write_new(LOCK_FILE, lock_text.as_bytes(), 0o644).map_err(|e| io_err("write", Path::new(LOCK_FILE), e))?;
    // Deepest first, so that a read-only directory is made so after its contents.
    let mut made: Vec<(&String, &Dir)> = tree.dirs.iter().collect();
    made.sort_by_key(|(rel, _)| std::cmp::Reverse(rel.matches('/').count()));
    for (rel, dir) in made {
        let owner = existing.dirs.get(rel.as_str()).copied();
        let owner = match owner {
            Some(o) => o,
            None => Owner { mode: 0o755, ..dir.owner().map_err(|e| io_err("read", Path::new(rel), e))? },
        };
        dir.set_owner(owner).map_err(|e| io_err("keep the owner and mode of", Path::new(rel), e))?;
    }
    Ok(Built { hashes, warnings: Vec::new(), stamps })
}

/// How many made files may wait for the writer: enough that neither side waits on the
/// other's every file, few enough that they are a small part of the output.
const IN_FLIGHT: usize = 64;

/// Runs `generator` and hands each file it makes to `take`, with the sha256 of its
/// contents, on a thread of its own, as it comes. The generator runs on this thread, which
/// has just checked the spec: the memory the check freed is where its values are made. The
/// sha256 is taken by the thread that made the file, which would otherwise wait for the
/// writer, whose creating files is the slower part. The first error of `take` stops the
/// generator (its next file finds no one to take it) and is the result.
fn stream(generator: &Generator<'_>, take: &mut (dyn FnMut(String, Artifact, String) -> Result<(), Error> + Send)) -> Result<(), Error> {
    struct ToWriter(std::sync::mpsc::SyncSender<(String, Artifact, String)>);
    impl Sink for ToWriter {
        fn put(&mut self, path: String, artifact: Artifact) -> Result<(), String> {
            let sha256 = sha256_hex(artifact.contents.as_bytes());
            self.0.send((path, artifact, sha256)).map_err(|_| "the output directory's writer stopped".to_owned())
        }

        fn beside(&self) -> Option<Box<dyn Sink + Send>> {
            Some(Box::new(ToWriter(self.0.clone())))
        }
    }
    let (sender, files) = std::sync::mpsc::sync_channel(IN_FLIGHT);
    std::thread::scope(|s| {
        let writing = s.spawn(move || files.into_iter().try_for_each(|(path, artifact, sha256)| take(path, artifact, sha256)));
        let mut sink = ToWriter(sender);
        let made = generate_guarded(generator, &mut sink);
        // The writer's last file: it finishes once this is gone.
        drop(sink);
        let taken = writing.join().map_err(|_| Error::new("internal error: the output directory's writer panicked".to_owned()))?;
        taken?;
        made
    })
}

/// The directories of the new tree, created on demand and kept open.
struct Tree<'a> {
    root: &'a Dir,
    dirs: BTreeMap<String, Dir>,
}

impl Tree<'_> {
    fn dir(&mut self, rel: &str) -> Result<&Dir, Error> {
        if rel.is_empty() {
            return Ok(self.root);
        }
        if !self.dirs.contains_key(rel) {
            let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
            let made = self.dir(parent)?.create_dir(name, 0o700).map_err(|e| io_err("create", Path::new(rel), e))?;
            self.dirs.insert(rel.to_owned(), made);
        }
        Ok(&self.dirs[rel])
    }
}

/// The directories above a relative path: `a/b/c` gives `a`, `a/b`.
fn ancestors(path: &str) -> Vec<String> {
    path.match_indices('/').map(|(i, _)| path[..i].to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_stay_inside() {
        assert!(safe_relative("systemd/dev/x.service"));
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a\\b"] {
            assert!(!safe_relative(bad), "{bad}");
        }
    }

    #[test]
    fn symlinks_that_leave_are_recognised() {
        assert!(stays_inside(Path::new("a/link"), Path::new("../b")));
        assert!(!stays_inside(Path::new("a/link"), Path::new("../../b")));
        assert!(!stays_inside(Path::new("link"), Path::new("/etc")));
    }

    #[test]
    fn lock_round_trips() {
        let mut a = Artifacts::default();
        a.files.insert("build/build.sh".into(), Artifact { contents: "x".into(), executable: true });
        let text = render_lock("hawser.kdl", "spec", &a);
        let lock = parse_lock(&text).unwrap();
        assert_eq!(lock.files.len(), 1);
        assert_eq!(lock.spec_sha256, sha256_hex(b"spec"));
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    /// A scratch directory of its own for one test, empty.
    fn scratch(test: &str) -> std::path::PathBuf {
        let root = std::env::temp_dir().join(format!("hawser-output-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        root
    }

    fn artifacts(files: &[(&str, &str)]) -> Artifacts {
        let mut a = Artifacts::default();
        for (path, contents) in files {
            a.files.insert((*path).to_owned(), Artifact { contents: (*contents).to_owned(), executable: path.ends_with(".sh") });
        }
        a
    }

    fn request<'a>(files: Files<'a>) -> Request<'a> {
        Request {
            files,
            spec_name: "hawser.kdl",
            spec_sha256: sha256_hex(b"spec"),
            inputs_sha256: BTreeMap::new(),
            environments: &[],
            cache_key: None,
        }
    }

    /// Every file and its contents below `dir`, by relative path.
    fn tree(dir: &Path) -> BTreeMap<String, (Vec<u8>, u32)> {
        use std::os::unix::fs::PermissionsExt as _;
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                    out.insert(rel, (Vec::new(), e.metadata().unwrap().permissions().mode()));
                } else {
                    out.insert(rel, (std::fs::read(e.path()).unwrap(), e.metadata().unwrap().permissions().mode()));
                }
            }
        }
        out
    }

    /// Made while written, in any order, or made first: the same tree, lock and summary.
    #[test]
    fn files_made_while_written_give_the_tree_files_made_first_give() {
        let root = scratch("streamed");
        let a =
            artifacts(&[("build/build.sh", "#!/bin/sh\n"), ("kubernetes/dev/api.yaml", "a: 1\n"), ("kubernetes/dev/db.yaml", "b: 2\n")]);
        let made = write(&root.join("made"), &request(Files::Made(&a))).unwrap();
        let backwards = |sink: &mut dyn Sink| a.files.iter().rev().try_for_each(|(p, f)| sink.put(p.clone(), f.clone()));
        let streamed = write(&root.join("streamed"), &request(Files::Making(&backwards))).unwrap();
        assert_eq!(made, streamed);
        assert_eq!(streamed.written, 3);
        assert_eq!(tree(&root.join("made")), tree(&root.join("streamed")));
        // And again over the tree it wrote: nothing changed.
        let again = write(&root.join("streamed"), &request(Files::Making(&backwards))).unwrap();
        assert!(again.changed.is_empty() && again.removed.is_empty(), "{again:?}");
        assert_eq!(tree(&root.join("made")), tree(&root.join("streamed")));
        let _ = std::fs::remove_dir_all(&root);
    }

    /// The cache a streamed write keeps (with the stamps its writer took) stands for the tree
    /// it wrote, fresh and over a previous tree, and not for one edited since.
    #[test]
    fn the_cache_of_a_streamed_write_stands_for_its_tree() {
        let root = scratch("cached");
        let out = root.join("out");
        let a =
            artifacts(&[("build/build.sh", "#!/bin/sh\n"), ("kubernetes/dev/api.yaml", "a: 1\n"), ("kubernetes/dev/db.yaml", "b: 2\n")]);
        let make = |sink: &mut dyn Sink| a.files.iter().try_for_each(|(p, f)| sink.put(p.clone(), f.clone()));
        let cached = || Request { cache_key: Some("run".to_owned()), ..request(Files::Making(&make)) };
        write(&out, &cached()).unwrap();
        assert_eq!(up_to_date(&out, "run").map(|u| u.files), Some(3));
        assert!(up_to_date(&out, "another run").is_none());
        // Over the previous tree: the unchanged files are linked from it, the others written.
        std::fs::write(out.join("kubernetes/dev/db.yaml"), "b: 3\n").unwrap();
        assert!(up_to_date(&out, "run").is_none());
        write(&out, &cached()).unwrap();
        assert_eq!(up_to_date(&out, "run").map(|u| u.files), Some(3));
        let _ = std::fs::remove_dir_all(&root);
    }

    /// A generator that fails, panics, makes a path twice or a path that is not plain or is
    /// the lock, and a foreign file in the way of a file made late: the write fails, the
    /// output is as it was, and nothing of the new tree is left beside it.
    #[test]
    fn a_write_that_fails_while_files_are_made_changes_nothing() {
        let root = scratch("failed");
        let out = root.join("out");
        let a = artifacts(&[("build/build.sh", "#!/bin/sh\n"), ("kubernetes/dev/api.yaml", "a: 1\n")]);
        write(&out, &request(Files::Made(&a))).unwrap();
        std::fs::create_dir_all(out.join("kubernetes/prod")).unwrap();
        std::fs::write(out.join("kubernetes/prod/mine.yaml"), "the user's").unwrap();
        let before = tree(&out);
        let failing = |sink: &mut dyn Sink| {
            sink.put("kubernetes/dev/api.yaml".to_owned(), Artifact { contents: "a: 2\n".to_owned(), executable: false })?;
            Err("the generator's own error".to_owned())
        };
        let twice = |sink: &mut dyn Sink| {
            let file = Artifact { contents: "a: 2\n".to_owned(), executable: false };
            sink.put("kubernetes/dev/api.yaml".to_owned(), file.clone())?;
            sink.put("kubernetes/dev/api.yaml".to_owned(), file)
        };
        let outside = |sink: &mut dyn Sink| sink.put("../outside".to_owned(), Artifact { contents: String::new(), executable: false });
        let in_the_way = |sink: &mut dyn Sink| {
            sink.put("build/build.sh".to_owned(), Artifact { contents: "#!/bin/sh\nnew\n".to_owned(), executable: true })?;
            sink.put("kubernetes/prod/mine.yaml".to_owned(), Artifact { contents: String::new(), executable: false })
        };
        let panicking = |sink: &mut dyn Sink| {
            sink.put("build/build.sh".to_owned(), Artifact { contents: "#!/bin/sh\nnew\n".to_owned(), executable: true })?;
            panic!("a generator's bug")
        };
        let the_lock = |sink: &mut dyn Sink| sink.put(LOCK_FILE.to_owned(), Artifact { contents: String::new(), executable: false });
        let cases: [(&Generator<'_>, &str); 6] = [
            (&failing, "internal error while generating: the generator's own error"),
            (&twice, "internal error while generating: `kubernetes/dev/api.yaml` was generated twice"),
            (&outside, "refusing to write `../outside`"),
            (&the_lock, "refusing to write `hawser.lock`"),
            (&in_the_way, "kubernetes/prod/mine.yaml exists and hawser does not own it"),
            (&panicking, "internal error while generating: a generator panicked"),
        ];
        // Beside the output, where the files are written as they are made, and inside it, as
        // on a mount point, where they are made first.
        for inside in [false, true] {
            for (generator, message) in cases {
                let faults = Faults { inside, ..Faults::default() };
                let e = write_with(&out, &request(Files::Making(generator)), faults).unwrap_err();
                assert!(e.message.contains(message) && !e.partly_changed, "inside={inside}: {}", e.message);
                assert_eq!(tree(&out), before, "inside={inside}: {message}");
                let beside: Vec<String> =
                    std::fs::read_dir(&root).unwrap().flatten().map(|e| e.file_name().display().to_string()).collect();
                assert_eq!(beside, ["out"], "inside={inside}: {message}");
            }
        }
        let _ = std::fs::remove_dir_all(&root);
    }

    /// The configuration files' hashes are comment lines (`sha256sum -c` checks only the
    /// output) that read back; one naming a path out of the spec's directory is refused.
    #[test]
    fn lock_records_input_files() {
        let inputs = BTreeMap::from([("config/api.yaml".to_owned(), sha256_hex(b"listen: 8080"))]);
        let entries = BTreeMap::from([("build/build.sh".to_owned(), sha256_hex(b"x"))]);
        let text = render_lock_entries("hawser.kdl", &sha256_hex(b"spec"), &inputs, &entries);
        assert!(text.contains(&format!("# input {}  config/api.yaml\n", sha256_hex(b"listen: 8080"))), "{text}");
        let lock = read_lock(&text).unwrap();
        assert_eq!((lock.inputs, lock.files), (inputs, entries));
        let bad = text.replace("  config/api.yaml", "  ../outside.yaml");
        assert!(read_lock(&bad).unwrap_err().contains("not a plain relative path"));
    }
}
