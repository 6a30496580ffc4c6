//! What the commands do, as the command line and the language server both drive it: one
//! function per command that returns plain data (text, diagnostics, findings) or says why
//! it failed, and diagnostics rendered for people and tools. Parsing arguments, printing,
//! the terminal and exit codes stay in the binary.
//!
//! This is the edge: these functions read the spec the user names and reach into output
//! directories, always through [`crate::review::confined`] and [`crate::review::output`]
//! below an output directory.

pub mod fmt;
pub mod generate;
pub mod graph;
pub mod init;
pub mod jsonschema;
pub mod render;
pub mod session;
pub mod synthetic;
pub mod why;

use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::diagnostics;
use crate::syntax::limits::MAX_SPEC_BYTES;

/// Reads the spec, but never more than one byte past the size limit: a device or a pipe
/// that never ends (`/dev/zero`, `yes |`) cannot make hawser read forever or fill memory.
/// A spec cut at the limit is still returned, so that the checker reports the limit as a
/// diagnostic like any other. The error says what went wrong, naming the path.
///
/// The spec is opened without waiting (`O_NONBLOCK`), so a FIFO no one writes reads as
/// empty instead of blocking, and a spec that is a symlink must stay inside its directory
/// (see [`spec_link_inside`]).
pub fn read_spec(path: &Path) -> Result<String, String> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let fail = |e: std::io::Error| format!("cannot read {}: {}", path.display(), io_reason(&e));
    spec_link_inside(path)?;
    let nonblocking = rustix::fs::OFlags::NONBLOCK.bits() as i32;
    let file = std::fs::OpenOptions::new().read(true).custom_flags(nonblocking).open(path).map_err(fail)?;
    // Opened; reads may wait for a writer that is there (a pipe on stdin).
    rustix::fs::fcntl_setfl(&file, rustix::fs::OFlags::empty()).map_err(|e| fail(e.into()))?;
    let mut bytes = Vec::new();
    file.take(MAX_SPEC_BYTES as u64 + 1).read_to_end(&mut bytes).map_err(fail)?;
    let over = bytes.len() > MAX_SPEC_BYTES;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        // The cut may fall inside a character: keep what comes before it, padded back past
        // the limit so that the checker still sees a spec too large.
        Err(e) if over && e.utf8_error().error_len().is_none() => {
            let valid = e.utf8_error().valid_up_to();
            let mut bytes = e.into_bytes();
            bytes.truncate(valid);
            bytes.resize(MAX_SPEC_BYTES + 1, b' ');
            String::from_utf8(bytes).map_err(|e| fail(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
        }
        Err(e) => Err(fail(std::io::Error::new(std::io::ErrorKind::InvalidData, e))),
    }
}

/// A spec that is itself a symlink is followed only to a file below the directory that
/// holds the link. The spec's name is the repository's, and a pull request can commit a
/// symlink under it: `hawser.kdl -> /proc/self/environ` would otherwise have every command
/// print the CI machine's environment in its syntax errors. (The directories on the way
/// are the operator's, as the path on the command line is; and a path that names a
/// descriptor, `/dev/stdin` or `/dev/fd/N`, is the operator's choice, not a file of the
/// repository.)
pub fn spec_link_inside(path: &Path) -> Result<(), String> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let descriptor = path == Path::new("/dev/stdin") || path.starts_with("/dev/fd") || path.starts_with("/proc/self/fd");
    if !is_link || descriptor {
        return Ok(());
    }
    let fail = |e: std::io::Error| format!("cannot read {}: {}", path.display(), io_reason(&e));
    let target = std::fs::canonicalize(path).map_err(fail)?;
    let dir = std::fs::canonicalize(spec_dir(path)).map_err(fail)?;
    if target.starts_with(&dir) {
        return Ok(());
    }
    Err(format!(
        "{} is a symlink that leads out of its directory, to {}: hawser follows a spec's symlink only to a file below the directory that holds it (a repository can hold a symlink to anywhere); give the file's own path",
        path.display(),
        target.display()
    ))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file (give the spec's path, or run where hawser.kdl is)".to_owned(),
        std::io::ErrorKind::InvalidData => "it is not UTF-8 text".to_owned(),
        _ => e.to_string(),
    }
}

/// `hawser explain CODE`: the long explanation of a diagnostic code, or why there is none
/// (with the code it was probably meant to be).
pub fn explain(code: &str) -> Result<&'static str, String> {
    diagnostics::explain(code).ok_or_else(|| {
        let ids: Vec<&str> = diagnostics::code::ALL.iter().map(|c| c.id).collect();
        let hint = diagnostics::did_you_mean(&code.to_ascii_uppercase(), ids.iter().copied()).map(|h| format!("; {h}")).unwrap_or_default();
        format!("`{code}` is not a hawser diagnostic code{hint} (`hawser explain --list` lists them)")
    })
}

/// The directory of a spec, `.` for a bare file name.
pub fn spec_dir(spec: &Path) -> PathBuf {
    match spec.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `out` relative to `base`, when it lies inside it (both taken from the current directory).
pub fn relative_inside(base: &Path, out: &Path) -> Option<String> {
    let cwd = std::env::current_dir().ok()?;
    let norm = |p: &Path| -> PathBuf {
        let mut v = PathBuf::new();
        for c in cwd.join(p).components() {
            match c {
                std::path::Component::ParentDir => {
                    v.pop();
                }
                std::path::Component::CurDir => {}
                c => v.push(c),
            }
        }
        v
    };
    let rel = norm(out).strip_prefix(norm(base)).ok()?.to_str()?.to_owned();
    (!rel.is_empty()).then_some(rel)
}
