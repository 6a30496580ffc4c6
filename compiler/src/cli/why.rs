//! `hawser why FILE:LINE`, and the same question from an editor: which output directory
//! and spec a generated file belongs to, and which spec values produce one of its lines.
//!
//! Below the output directory nothing is trusted: the lock, the file and the spec the lock
//! names are read through [`Dir`], never through a symlink, and only a file the lock lists
//! is answered for.

use std::path::{Path, PathBuf};

use super::{read_spec, relative_inside, spec_dir};
use crate::check;
use crate::diagnostics::Diagnostic;
use crate::emit::{self, Options};
use crate::review::confined::{Dir, Entry};
use crate::review::output::{self, LOCK_FILE, Lock};
use crate::review::why::{self as origin, Origin};

/// A generated file, found in its output directory.
#[derive(Debug)]
pub struct Located {
    /// The output directory: the nearest one above the file that holds a lock.
    pub out: PathBuf,
    pub out_dir: Dir,
    /// The file's path inside the output directory.
    pub rel: String,
    pub lock: Lock,
}

/// What `hawser why` found.
#[derive(Debug)]
pub struct Explained {
    /// The generated file as the user named it, and the line asked about (from 1).
    pub file: PathBuf,
    pub line: usize,
    /// The spec, named relative to the current directory.
    pub name: String,
    pub text: String,
    /// The line as the spec produces it.
    pub target: String,
    /// The file on disk holds something else at that line.
    pub differs_on_disk: bool,
    /// The spec values and nodes that produce the line (empty when it is hawser's own);
    /// `None` when the spec cannot be generated.
    pub origins: Option<Vec<Origin>>,
}

/// Why `hawser why` has no answer.
#[derive(Debug)]
pub enum WhyFailed {
    /// What to tell the user.
    Error(String),
    /// The spec has errors.
    SpecErrors { name: String, text: String, diagnostics: Vec<Diagnostic> },
    /// The spec checks but produces nothing (a generator failed).
    NotGenerated,
}

/// Finds the output directory of the generated file `file` and reads its lock. The file
/// must be one the lock lists.
pub fn locate(file: &Path) -> Result<Located, String> {
    // The path the user typed is theirs; below the output directory nothing is trusted.
    let Ok(abs) = std::fs::canonicalize(file) else {
        return Err(format!("cannot read {}: no such file", file.display()));
    };
    // The output directory is the nearest one above the file that holds a lock.
    let found = abs.ancestors().skip(1).find_map(|d| {
        let dir = Dir::open_following(d).ok()?;
        match dir.read(LOCK_FILE).ok()? {
            Entry::File { contents, .. } => Some((d.to_path_buf(), dir, contents)),
            _ => None,
        }
    });
    let Some((out, out_dir, lock_bytes)) = found else {
        return Err(format!("{} is not inside a hawser output directory (no {LOCK_FILE} above it)", file.display()));
    };
    let lock = match output::read_lock(&String::from_utf8_lossy(&lock_bytes)) {
        Ok(lock) => lock,
        Err(why) => return Err(format!("{} is not a hawser lock file: {why}", out.join(LOCK_FILE).display())),
    };
    let Some(rel) = abs.strip_prefix(&out).ok().and_then(|r| r.to_str()).map(str::to_owned) else {
        return Err(format!("{} is outside the output directory", file.display()));
    };
    if !lock.files.contains_key(&rel) {
        return Err(format!("{} is not a file hawser generated (it is not in {LOCK_FILE})", file.display()));
    }
    Ok(Located { out, out_dir, rel, lock })
}

/// The spec the lock of output directory `out` names, `spec_name`, beside the directory:
/// its path and text.
pub fn spec_beside(out: &Path, spec_name: &str) -> Result<(PathBuf, String), String> {
    // The lock names a plain file name (checked when it was read), beside the output.
    let parent = out.parent().unwrap_or(Path::new("/"));
    match Dir::open_following(parent).and_then(|d| d.read(spec_name)) {
        Ok(Entry::File { contents, .. }) => match String::from_utf8(contents) {
            Ok(t) => Ok((parent.join(spec_name), t)),
            Err(_) => Err(format!("{} is not UTF-8 text", parent.join(spec_name).display())),
        },
        _ => Err(format!(
            "cannot find `{spec_name}`, the spec {LOCK_FILE} names, as a regular file beside {}; give it with --spec",
            out.display()
        )),
    }
}

/// The options the output directory `out` was generated with from the spec at `spec`, whose
/// text is `text`: the configuration files it names are read beside it.
pub fn options(spec: &Path, out: &Path, version: Option<String>, text: &str) -> Options {
    let spec_name = spec.file_name().and_then(|n| n.to_str()).unwrap_or("hawser.kdl").to_owned();
    let inputs = match check(text).spec {
        Some(model) => crate::review::inputs::read(&spec_dir(spec), &model).0,
        None => check::inputs::Inputs::new(),
    };
    Options { spec_name, version, environments: Vec::new(), output_dir: relative_inside(&spec_dir(spec), out), inputs }
}

/// `hawser why FILE:LINE`: the spec values that produce line `LINE` of `FILE`. The spec is
/// `spec`, or the one the lock names beside the output directory.
pub fn why(location: &str, spec: Option<&Path>, version: Option<String>) -> Result<Explained, WhyFailed> {
    let fail = |msg: String| WhyFailed::Error(msg);
    let Some((file, line)) = location.rsplit_once(':') else {
        return Err(fail(format!("`{location}` is not FILE:LINE")));
    };
    let Ok(line) = line.parse::<usize>() else {
        return Err(fail(format!("`{line}` is not a line number (FILE:LINE, lines count from 1)")));
    };
    let file = PathBuf::from(file);
    let located = locate(&file).map_err(fail)?;
    let out = located.out.as_path();
    let (spec_path, text) = match spec {
        Some(s) => {
            let given = s.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if given != located.lock.spec_name {
                return Err(fail(format!(
                    "{} was generated from `{}` (its {LOCK_FILE} says so), not from {}",
                    out.display(),
                    located.lock.spec_name,
                    s.display()
                )));
            }
            (s.to_path_buf(), read_spec(s).map_err(fail)?)
        }
        None => spec_beside(out, &located.lock.spec_name).map_err(fail)?,
    };
    let opts = options(&spec_path, out, version, &text);
    // Named relative to the current directory, as the user would type it.
    let cwd = std::env::current_dir().and_then(std::fs::canonicalize).unwrap_or_default();
    let name = spec_path.strip_prefix(&cwd).unwrap_or(&spec_path).display().to_string();
    let analysis = check(&text);
    if analysis.has_errors() {
        return Err(WhyFailed::SpecErrors { name, text, diagnostics: analysis.diagnostics });
    }
    let Some(expected) = analysis.spec.as_ref().and_then(|s| emit::generate(s, &opts).ok()) else {
        return Err(WhyFailed::NotGenerated);
    };
    let rel = &located.rel;
    let Some(generated) = expected.files.get(rel) else {
        return Err(fail(format!("the spec no longer produces {}; run `hawser generate`", file.display())));
    };
    let count = generated.contents.lines().count();
    if line == 0 || line > count {
        return Err(fail(format!("{} has {count} lines; line {line} is not one of them", file.display())));
    }
    let on_disk = match located.out_dir.read(rel) {
        Ok(Entry::File { contents, .. }) => String::from_utf8_lossy(&contents).into_owned(),
        _ => String::new(),
    };
    let target = generated.contents.lines().nth(line - 1).unwrap_or_default().to_owned();
    let differs_on_disk = on_disk.lines().nth(line - 1) != Some(target.as_str());
    let origins = origin::origins(&text, &opts, rel, line);
    Ok(Explained { file, line, name, text, target, differs_on_disk, origins })
}
