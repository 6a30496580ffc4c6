//! `hawser generate`, `generate --check` and `hawser diff`: a spec checked and generated in
//! memory, then written to its output directory, compared with it, or compared between
//! two environments.

use std::path::{Path, PathBuf};

use super::render::FileFinding;
use super::session::{self, NotGenerated};
use super::{read_spec, relative_inside, spec_dir};
use crate::check::{self, Analysis};
use crate::diagnostics::Diagnostic;
use crate::emit::{self, Artifacts, Options};
use crate::review::output::{self, Planned};
use crate::review::{self, DiffStyle, OnDisk};

/// Where `generate` writes and what it writes.
#[derive(Debug, Clone, Default)]
pub struct OutputRequest {
    /// The output directory (default: `generated/` beside the spec).
    pub out: Option<PathBuf>,
    /// Only these environments (all when empty); build artifacts are always generated.
    pub environments: Vec<String>,
    /// The version of deploy artifacts when the spec says `version from="git"`.
    pub version: Option<String>,
}

/// A spec's text as read, with its sha256: a run reads it once, since the cache's key, the
/// check and the lock all need it (and a spec on a pipe can be read only once).
#[derive(Debug)]
pub struct SpecText {
    pub text: String,
    pub sha256: String,
}

impl SpecText {
    /// A spec's text, with its sha256.
    pub fn new(text: String) -> SpecText {
        let sha256 = output::sha256_hex(text.as_bytes());
        SpecText { text, sha256 }
    }

    pub fn read(path: &Path) -> Result<SpecText, String> {
        read_spec(path).map(SpecText::new)
    }
}

/// A checked spec, ready to generate: what `generate`, `generate --check` and `diff` share.
#[derive(Debug)]
pub struct Checked {
    /// The spec's path as the user gave it.
    pub name: String,
    pub text: String,
    pub spec_sha256: String,
    pub out: PathBuf,
    /// Spec diagnostics (warnings only: the spec has no errors) and those of the run.
    pub diagnostics: Vec<Diagnostic>,
    pub spec_name: String,
    pub environments: Vec<String>,
    /// The check the artifacts come from.
    pub analysis: Analysis,
    /// The configuration files' sha256, by path relative to the spec's directory.
    pub inputs_sha256: std::collections::BTreeMap<String, String>,
    /// What names this run in the output directory's cache ([`cache_key`]), when the run
    /// may leave its stamps there: a clean run (no diagnostics) of every environment.
    pub cache_key: Option<String>,
    /// What to generate: every environment (`--env` selects among them when writing).
    opts: Options,
}

/// A checked spec, generated in memory.
#[derive(Debug)]
pub struct Generated {
    pub checked: Checked,
    /// Every artifact of every environment: `--env` selects among them when writing.
    pub artifacts: Artifacts,
}

/// Why nothing was generated.
#[derive(Debug)]
pub enum Failed {
    /// The spec has errors, among these diagnostics.
    SpecErrors { name: String, text: String, diagnostics: Vec<Diagnostic> },
    /// Reading, the options or a generator failed: what to tell the user.
    Error(String),
}

impl Generated {
    /// What writing the output asks for.
    pub fn request(&self) -> output::Request<'_> {
        self.checked.request(output::Files::Made(&self.artifacts))
    }
}

impl Checked {
    /// What writing `files`, the spec's artifacts, asks for.
    pub fn request<'a>(&'a self, files: output::Files<'a>) -> output::Request<'a> {
        output::Request {
            files,
            spec_name: &self.spec_name,
            spec_sha256: self.spec_sha256.clone(),
            inputs_sha256: self.inputs_sha256.clone(),
            environments: &self.environments,
            cache_key: self.cache_key.clone(),
        }
    }

    /// Every artifact, in memory.
    pub fn generate(self) -> Result<Generated, Failed> {
        let artifacts = session::generate_checked(&self.analysis, &self.opts).map_err(|e| match e {
            NotGenerated::SpecErrors => {
                Failed::SpecErrors { name: self.name.clone(), text: self.text.clone(), diagnostics: self.analysis.diagnostics.clone() }
            }
            NotGenerated::Options(e) => Failed::Error(e),
            NotGenerated::Internal(e) => Failed::Error(format!("internal error while generating: {e}")),
        })?;
        Ok(Generated { checked: self, artifacts })
    }

    /// `generate`: writes the artifacts into the output directory as they are made (see
    /// [`output::Files::Making`]).
    pub fn write(&self) -> Result<output::Summary, output::Error> {
        let Some(spec) = self.analysis.spec.as_ref().filter(|_| !self.analysis.has_errors()) else {
            return Err(output::Error::internal("the spec has errors".to_owned()));
        };
        let generator = |sink: &mut dyn emit::Sink| emit::generate_into(spec, &self.opts, sink);
        output::write(&self.out, &self.request(output::Files::Making(&generator)))
    }
}

/// What names a run in the output directory's cache ([`output::up_to_date`]): this hawser
/// binary (its version and its file's stamp: a rebuilt or reinstalled hawser is another),
/// the spec's name and text, and the options that change the output. `None` when the
/// running binary cannot be told.
pub fn cache_key(spec_sha256: &str, spec_name: &str, version: Option<&str>, output_dir: Option<&str>) -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let exe = std::fs::metadata(std::env::current_exe().ok()?).ok()?;
    let id = format!(
        "hawser {}\nexe {} {} {} {}.{} {}.{}\nspec {:?} {}\nversion {:?}\nout {:?}\n",
        env!("CARGO_PKG_VERSION"),
        exe.dev(),
        exe.ino(),
        exe.size(),
        exe.mtime(),
        exe.mtime_nsec(),
        exe.ctime(),
        exe.ctime_nsec(),
        spec_name,
        spec_sha256,
        version,
        output_dir,
    );
    Some(output::sha256_hex(id.as_bytes()))
}

/// The output directory of a run that needs no work.
#[derive(Debug)]
pub struct Current {
    /// The spec's path as the user gave it.
    pub name: String,
    pub out: PathBuf,
    pub found: output::UpToDate,
}

/// Before any work: whether the output directory is what a clean run of this hawser with
/// this spec and these options wrote, untouched since, as its cache of stamps proves. Then
/// `generate` has nothing to write and `generate --check` nothing to find. `None` — any
/// doubt, `--env`, or a spec that cannot be read (the whole run reports it) — means: do
/// the work.
pub fn up_to_date(path: &Path, spec: &SpecText, request: &OutputRequest) -> Option<Current> {
    if !request.environments.is_empty() {
        return None;
    }
    let (out, spec_name, output_dir) = placed(path, request);
    let key = cache_key(&spec.sha256, &spec_name, request.version.as_deref(), output_dir.as_deref())?;
    let found = output::up_to_date(&out, &key)?;
    // The configuration files the spec names (the same ones: the spec did not change) must
    // hold what they held then: they are inputs of the output too.
    if !review::inputs::unchanged(&spec_dir(path), &found.inputs) {
        return None;
    }
    Some(Current { name: path.display().to_string(), out, found })
}

/// Where a run writes (the output directory, `generated/` beside the spec by default), the
/// spec's file name, and the output directory relative to the spec's when inside it.
fn placed(path: &Path, request: &OutputRequest) -> (PathBuf, String, Option<String>) {
    let spec_dir = spec_dir(path);
    // `generated`, not `./generated`, when the spec is in the current directory: paths in
    // messages and diffs read as the user would type them.
    let out = request
        .out
        .clone()
        .unwrap_or_else(|| if spec_dir == Path::new(".") { PathBuf::from("generated") } else { spec_dir.join("generated") });
    let spec_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("hawser.kdl").to_owned();
    let output_dir = relative_inside(&spec_dir, &out);
    (out, spec_name, output_dir)
}

/// Reads the spec at `path`, checks it and generates every environment's artifacts in
/// memory.
pub fn generate_in_memory(path: &Path, request: OutputRequest) -> Result<Generated, Failed> {
    check(path, request)?.generate()
}

/// Reads the spec at `path` and checks it, with the configuration files it names, the
/// options and the Go module beside it: everything a run does before it generates.
pub fn check(path: &Path, request: OutputRequest) -> Result<Checked, Failed> {
    check_read(path, SpecText::read(path).map_err(Failed::Error)?, request)
}

/// [`check`] of the spec at `path`, already read.
pub fn check_read(path: &Path, spec: SpecText, request: OutputRequest) -> Result<Checked, Failed> {
    let SpecText { text, sha256: spec_sha256 } = spec;
    let name = path.display().to_string();
    let analysis = check::check(&text);
    let Some(spec) = analysis.spec.as_ref().filter(|_| !analysis.has_errors()) else {
        return Err(Failed::SpecErrors { name, text, diagnostics: analysis.diagnostics });
    };
    // The configuration files the spec names, read beside it: a file that cannot be used
    // is a spec error like any other.
    let (inputs, input_diagnostics) = review::inputs::read(&spec_dir(path), spec);
    if input_diagnostics.iter().any(Diagnostic::is_error) {
        let mut diagnostics = analysis.diagnostics.clone();
        diagnostics.extend(input_diagnostics);
        return Err(Failed::SpecErrors { name, text, diagnostics });
    }
    let inputs_sha256 = inputs.iter().map(|(k, v)| (k.clone(), output::sha256_hex(v.as_bytes()))).collect();
    let (out, spec_name, output_dir) = placed(path, &request);
    let environments = request.environments;
    // Every environment is generated: with `--env`, the shared files (the chart, build.sh)
    // still come from the whole spec, and only the selected environments' files are written.
    let opts = Options { spec_name: spec_name.clone(), version: request.version, environments: Vec::new(), output_dir, inputs };
    emit::check_options(spec, &Options { environments: environments.clone(), ..opts.clone() }).map_err(Failed::Error)?;
    let mut diagnostics = analysis.diagnostics.clone();
    diagnostics.extend(input_diagnostics);
    diagnostics.extend(emit::run_diagnostics(spec, &opts));
    // The Go module beside the spec: its go.mod, the files images copy from it.
    diagnostics.extend(review::module::diagnostics(&spec_dir(path), spec));
    // The cache only stands for clean runs of every environment: a run that found warnings
    // does the whole work (and shows them) every time.
    let cache_key = if environments.is_empty() && diagnostics.is_empty() {
        cache_key(&spec_sha256, &spec_name, opts.version.as_deref(), opts.output_dir.as_deref())
    } else {
        None
    };
    Ok(Checked { name, text, spec_sha256, out, diagnostics, spec_name, environments, analysis, cache_key, inputs_sha256, opts })
}

/// Reads the output directory for a comparison, and what `generate` would write there; a
/// missing directory is an error.
pub fn read_output(g: &Generated) -> Result<(OnDisk, Planned<'_>), String> {
    match output::read_on_disk(&g.checked.out, &g.artifacts) {
        Ok(Some(disk)) => {
            let planned = output::plan(&g.artifacts, &g.request(), disk.lock.as_ref());
            Ok((disk, planned))
        }
        Ok(None) => Err(format!(
            "there is no output directory {}: run `hawser generate` first, or name the directory with --out",
            g.checked.out.display()
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// `generate --check`: how the output on disk differs from what the spec produces, one
/// finding per file, named as the user names it.
pub fn drift(g: &Generated, disk: &OnDisk, planned: &Planned<'_>) -> Vec<FileFinding> {
    let prefix = g.checked.out.display().to_string();
    review::compare(&planned.artifacts, &planned.lock_text, disk)
        .iter()
        .map(|d| FileFinding { path: join_path(&prefix, &d.path), kind: d.kind(), message: d.message() })
        .collect()
}

/// `hawser diff`: the unified diff from the output on disk to what the spec produces, or,
/// given two environments, from the first one's artifacts to the second's. Empty when
/// there is no difference.
pub fn diff(g: &Generated, environments: &[String], style: DiffStyle) -> Result<String, String> {
    if let [a, b] = environments {
        return Ok(review::env_diff(&g.artifacts, a, b, style));
    }
    let (disk, planned) = read_output(g)?;
    let drift = review::compare(&planned.artifacts, &planned.lock_text, &disk);
    Ok(review::disk_diff(&planned.artifacts, &planned.lock_text, &disk, &drift, &g.checked.out.display().to_string(), style))
}

fn join_path(prefix: &str, path: &str) -> String {
    if prefix.is_empty() || prefix == "." { path.to_owned() } else { format!("{}/{path}", prefix.trim_end_matches('/')) }
}
