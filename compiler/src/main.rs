//! The `hawser` command line: the edge where files are read, output is written and the
//! terminal is looked at. Everything else is the library's.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use hawser::cli::render;
use hawser::diagnostics;

#[derive(Parser)]
#[command(name = "hawser", version, about = "A compiler for deployments: one KDL spec in, checked, reproducible deployment artifacts out.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and type-check the spec and every environment; print diagnostics.
    Check {
        /// The spec file.
        #[arg(default_value = "hawser.kdl")]
        spec: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
    },
    /// Generate the artifacts of every environment into the output directory.
    Generate {
        #[arg(default_value = "hawser.kdl")]
        spec: PathBuf,
        #[command(flatten)]
        output: OutputArgs,
        /// Write nothing: exit 1 when the output on disk differs from what the spec produces,
        /// naming each file.
        #[arg(long)]
        check: bool,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
    },
    /// Show how the output on disk differs from what the spec produces (a unified diff), or
    /// with `--env A --env B` how two environments' artifacts differ. Exit 0 when there is
    /// no difference, 1 when there is one.
    Diff {
        #[arg(default_value = "hawser.kdl")]
        spec: PathBuf,
        /// The output directory (default: `generated/` beside the spec).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Two environments to compare with each other (give `--env` twice).
        #[arg(long = "env")]
        environments: Vec<String>,
        /// The version of deploy artifacts, as given to `generate`.
        #[arg(long)]
        version: Option<String>,
        /// Lines of context around each change.
        #[arg(long, default_value_t = 3)]
        context: usize,
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
    },
    /// Format specs canonically, comments kept.
    Fmt {
        /// The spec files.
        #[arg(default_value = "hawser.kdl")]
        specs: Vec<PathBuf>,
        /// Write nothing: exit 1 when a file would change, naming it.
        #[arg(long)]
        check: bool,
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
    },
    /// Write a starting hawser.kdl for the Go module in the current directory (or DIR).
    Init {
        /// The Go module's root directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Which spec nodes produce a line of a generated file: `hawser why generated/kubernetes/prod/api.yaml:42`.
    Why {
        /// FILE:LINE, the file inside an output directory, the line from 1.
        location: String,
        /// The spec (default: the one `hawser.lock` names, beside the output directory).
        #[arg(long)]
        spec: Option<PathBuf>,
        /// The version the output was generated with, when the spec takes it from git.
        #[arg(long)]
        version: Option<String>,
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
    },
    /// Print the dependency graph.
    Graph {
        #[arg(default_value = "hawser.kdl")]
        spec: PathBuf,
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
        /// The graph as this environment sees it (only the workloads it runs).
        #[arg(long)]
        env: Option<String>,
    },
    /// The language server, over stdin and stdout (for editors).
    Lsp,
    /// The JSON Schema of the spec language (for editors and other tools), or, with
    /// `--convert SPEC`, a spec as the JSON document it describes.
    Schema {
        /// Print this spec as JSON instead of the schema.
        #[arg(long, value_name = "SPEC")]
        convert: Option<PathBuf>,
    },
    /// Explain a diagnostic code, e.g. `hawser explain E0103`.
    Explain {
        /// The code; `--list` for every code.
        code: Option<String>,
        #[arg(long)]
        list: bool,
    },
}

/// Where `generate` writes and what it writes.
#[derive(clap::Args)]
struct OutputArgs {
    /// The output directory (default: `generated/` beside the spec).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Only this environment (repeatable); build artifacts are always generated.
    #[arg(long = "env")]
    environments: Vec<String>,
    /// The version of deploy artifacts when the spec says `version from="git"`.
    #[arg(long)]
    version: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
    /// GitHub Actions annotations (workflow commands).
    Github,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

/// Writes to stdout. A reader that stopped reading (`hawser diff | head`) ends the process
/// quietly, with the status a shell reports for a process ended by SIGPIPE (128 + 13);
/// any other failure to write is an I/O error.
fn write_stdout(args: std::fmt::Arguments) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(CLOSED_STDOUT);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(FAILURE.into());
    }
}

/// `print!` to stdout, through [`write_stdout`].
macro_rules! out {
    ($($arg:tt)*) => { write_stdout(format_args!($($arg)*)) };
}

/// `println!` to stdout, through [`write_stdout`].
macro_rules! outln {
    ($($arg:tt)*) => { write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// The exit status when stdout was closed by its reader.
const CLOSED_STDOUT: i32 = 141;

/// Exit codes: 0 success, 1 the spec has errors or the output has drifted (or, for `diff`
/// and `fmt --check`, differs), 2 usage or I/O failure.
const SPEC_ERRORS: u8 = 1;
const DIFFERS: u8 = 1;
const FAILURE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { spec, format, color } => check(&spec, format, color),
        Command::Graph { spec, format, env } => graph(&spec, format, env.as_deref()),
        Command::Generate { spec, output, check: false, format, color } => generate(&spec, output, format, color),
        Command::Generate { spec, output, check: true, format, color } => generate_check(&spec, output, format, color),
        Command::Diff { spec, out, environments, version, context, color } => {
            diff(&spec, OutputArgs { out, environments: Vec::new(), version }, &environments, context, color)
        }
        Command::Fmt { specs, check, color } => fmt(&specs, check, color),
        Command::Init { dir } => init(&dir),
        Command::Why { location, spec, version, color } => why(&location, spec, version, color),
        Command::Explain { code, list } => explain(code.as_deref(), list),
        Command::Lsp => lsp(),
        Command::Schema { convert } => schema(convert.as_deref()),
    }
}

/// Reads the spec, but never more than one byte past the size limit: a device or a pipe
/// that never ends (`/dev/zero`, `yes |`) cannot make hawser read forever or fill memory.
/// A spec cut at the limit is still returned, so that the checker reports the limit as a
/// diagnostic like any other.
fn read_spec(path: &Path) -> Result<String, ExitCode> {
    let fail = |e: std::io::Error| {
        eprintln!("error: cannot read {}: {}", path.display(), io_reason(&e));
        ExitCode::from(FAILURE)
    };
    let file = std::fs::File::open(path).map_err(fail)?;
    let mut bytes = Vec::new();
    file.take(hawser::syntax::limits::MAX_SPEC_BYTES as u64 + 1).read_to_end(&mut bytes).map_err(fail)?;
    let over = bytes.len() > hawser::syntax::limits::MAX_SPEC_BYTES;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        // The cut may fall inside a character: keep what comes before it, padded back past
        // the limit so that the checker still sees a spec too large.
        Err(e) if over && e.utf8_error().error_len().is_none() => {
            let valid = e.utf8_error().valid_up_to();
            let mut bytes = e.into_bytes();
            bytes.truncate(valid);
            bytes.resize(hawser::syntax::limits::MAX_SPEC_BYTES + 1, b' ');
            String::from_utf8(bytes).map_err(|e| fail(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
        }
        Err(e) => Err(fail(std::io::Error::new(std::io::ErrorKind::InvalidData, e))),
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file (give the spec's path, or run where hawser.kdl is)".to_owned(),
        std::io::ErrorKind::InvalidData => "it is not UTF-8 text".to_owned(),
        _ => e.to_string(),
    }
}

fn use_color(color: Color) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        // NO_COLOR (no-color.org) is honoured here, at the edge.
        #[allow(clippy::disallowed_methods, reason = "the CLI edge may read the environment")]
        Color::Auto => std::io::stderr().is_terminal() && std::env::var("NO_COLOR").map_or(true, |v| v.is_empty()),
    }
}

/// Colour for what goes to stdout (diffs).
fn use_color_stdout(color: Color) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        #[allow(clippy::disallowed_methods, reason = "the CLI edge may read the environment")]
        Color::Auto => std::io::stdout().is_terminal() && std::env::var("NO_COLOR").map_or(true, |v| v.is_empty()),
    }
}

fn width() -> usize {
    #[allow(clippy::disallowed_methods, reason = "the CLI edge may read the environment")]
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(100)
}

fn check(path: &Path, format: Format, color: Color) -> ExitCode {
    let text = match read_spec(path) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let mut analysis = hawser::check(&text);
    if let Some(spec) = &analysis.spec {
        let found = module_diagnostics(path, spec);
        analysis.diagnostics.extend(found);
    }
    let name = path.display().to_string();
    match format {
        Format::Human => {
            let style = render::Style { color: use_color(color), width: width() };
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "{}", render::human(&analysis.diagnostics, &name, &text, style));
            let _ = writeln!(err, "{}", render::summary(&analysis.diagnostics, &name));
        }
        Format::Json => out!("{}", render::json(&analysis.diagnostics, &name, &text)),
        Format::Github => out!("{}", render::github(&analysis.diagnostics, &name, &text, &[])),
        Format::Sarif => out!("{}", render::sarif(&analysis.diagnostics, &name, &text, &[])),
    }
    let code = if analysis.has_errors() { ExitCode::from(SPEC_ERRORS) } else { ExitCode::SUCCESS };
    // The process ends here: freeing the model piece by piece would only cost time.
    std::mem::forget(analysis);
    code
}

/// What the command line compares with the module beside the spec (the module build.sh
/// and the Dockerfiles build), never through a symlink: W0921 when the Go version
/// disagrees with `go.mod`'s (nothing when there is none), W0922 for a file an image
/// copies that is not there.
fn module_diagnostics(spec_path: &Path, spec: &hawser::check::model::Spec) -> Vec<diagnostics::Diagnostic> {
    let dir = match spec_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Ok(dir) = hawser::review::confined::Dir::open_following(dir) else { return Vec::new() };
    let mut out = match dir.read("go.mod") {
        Ok(hawser::review::confined::Entry::File { contents, .. }) => {
            hawser::check::gobuild::go_mod_diagnostics(&spec.base.project, &String::from_utf8_lossy(&contents))
        }
        _ => Vec::new(),
    };
    // The files `docker { copy … }` takes from the module, looked up the same way.
    use hawser::check::images::Found;
    out.extend(hawser::check::images::copy_sources(&spec.base, |rel| {
        let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        match dir.list(parent) {
            Ok(entries) => match entries.iter().find(|(n, _)| n == name).map(|(_, k)| *k) {
                Some(hawser::review::confined::Kind::File) => Found::File,
                Some(hawser::review::confined::Kind::Dir) => Found::Dir,
                Some(hawser::review::confined::Kind::Symlink) => Found::Symlink,
                Some(hawser::review::confined::Kind::Special) | None => Found::Missing,
            },
            // A parent that is missing, a symlink, or not a directory.
            Err(_) => Found::Missing,
        }
    }));
    out
}

/// `hawser schema`: the JSON Schema; `--convert SPEC`: the spec as JSON (a spec that does
/// not parse is a spec error, reported as `check` would).
fn schema(convert: Option<&Path>) -> ExitCode {
    let Some(path) = convert else {
        out!("{}", hawser::cli::jsonschema::schema_text());
        return ExitCode::SUCCESS;
    };
    let text = match read_spec(path) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let (doc, diags) = hawser::syntax::parse(&text);
    let Some(doc) = doc else {
        let style = render::Style { color: use_color(Color::Auto), width: width() };
        let name = path.display().to_string();
        eprint!("{}", render::human(&diags, &name, &text, style));
        return ExitCode::from(SPEC_ERRORS);
    };
    outln!("{}", serde_json::to_string_pretty(&hawser::cli::jsonschema::to_json(&doc)).unwrap_or_default());
    ExitCode::SUCCESS
}

/// A checked spec, generated: what `generate`, `generate --check` and `diff` share.
struct Generated {
    name: String,
    text: String,
    out: PathBuf,
    /// Spec diagnostics (warnings only, when generation succeeded) and those of the run.
    diagnostics: Vec<diagnostics::Diagnostic>,
    /// Every artifact of every environment: `--env` selects among them when writing.
    artifacts: hawser::emit::Artifacts,
    spec_name: String,
    environments: Vec<String>,
}

impl Generated {
    fn request(&self) -> hawser::review::output::Request<'_> {
        hawser::review::output::Request {
            artifacts: &self.artifacts,
            spec_name: &self.spec_name,
            spec_sha256: hawser::review::output::sha256_hex(self.text.as_bytes()),
            environments: &self.environments,
        }
    }
}

/// Checks and generates in memory. On spec errors the diagnostics are rendered in `format`
/// and the exit code returned.
fn generate_in_memory(path: &Path, output: OutputArgs, format: Format, style: render::Style) -> Result<Generated, ExitCode> {
    let text = read_spec(path)?;
    let name = path.display().to_string();
    let analysis = hawser::check(&text);
    if analysis.has_errors() {
        emit_diagnostics(&analysis.diagnostics, &name, &text, format, style, None);
        if format == Format::Human {
            eprintln!("nothing written: fix the errors first");
        }
        return Err(ExitCode::from(SPEC_ERRORS));
    }
    let Some(spec) = &analysis.spec else { return Err(ExitCode::from(SPEC_ERRORS)) };
    let spec_dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // `generated`, not `./generated`, when the spec is in the current directory: paths in
    // messages and diffs read as the user would type them.
    let out =
        output.out.unwrap_or_else(|| if spec_dir == Path::new(".") { PathBuf::from("generated") } else { spec_dir.join("generated") });
    let spec_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("hawser.kdl").to_owned();
    let environments = output.environments;
    // Every environment is generated: with `--env`, the shared files (the chart, build.sh)
    // still come from the whole spec, and only the selected environments' files are written.
    let opts = hawser::emit::Options {
        spec_name: spec_name.clone(),
        version: output.version,
        environments: Vec::new(),
        output_dir: relative_inside(&spec_dir, &out),
    };
    if let Err(e) = hawser::emit::check_options(spec, &hawser::emit::Options { environments: environments.clone(), ..opts.clone() }) {
        eprintln!("error: {e}");
        return Err(ExitCode::from(FAILURE));
    }
    let mut diagnostics = analysis.diagnostics.clone();
    diagnostics.extend(hawser::emit::run_diagnostics(spec, &opts));
    diagnostics.extend(module_diagnostics(path, spec));
    let artifacts = hawser::emit::generate(spec, &opts).map_err(|e| {
        eprintln!("error: internal error while generating: {e}");
        ExitCode::from(FAILURE)
    })?;
    // The process ends soon: freeing the model piece by piece would only cost time.
    std::mem::forget(analysis);
    Ok(Generated { name, text, out, diagnostics, artifacts, spec_name, environments })
}

/// Prints diagnostics (and drift) in the chosen format: human text to stderr, the formats
/// for tools to stdout.
fn emit_diagnostics(
    diags: &[diagnostics::Diagnostic],
    name: &str,
    text: &str,
    format: Format,
    style: render::Style,
    drift: Option<&[render::FileFinding]>,
) {
    match format {
        Format::Human => {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "{}", render::human(diags, name, text, style));
            if diags.iter().any(|d| d.is_error()) {
                let _ = writeln!(err, "{}", render::summary(diags, name));
            }
        }
        Format::Json => out!("{}", render::json_with_drift(diags, name, text, drift)),
        Format::Github => out!("{}", render::github(diags, name, text, drift.unwrap_or_default())),
        Format::Sarif => out!("{}", render::sarif(diags, name, text, drift.unwrap_or_default())),
    }
}

fn generate(path: &Path, output: OutputArgs, format: Format, color: Color) -> ExitCode {
    let style = render::Style { color: use_color(color), width: width() };
    let g = match generate_in_memory(path, output, format, style) {
        Ok(g) => g,
        Err(code) => return code,
    };
    emit_diagnostics(&g.diagnostics, &g.name, &g.text, format, style, None);
    let written = hawser::review::output::write(&g.out, &g.request());
    let mut err = std::io::stderr().lock();
    let code = match written {
        Ok(summary) => {
            if summary.lock_conflict {
                let _ = writeln!(
                    err,
                    "{}/{}: had merge-conflict markers; regenerated it from the spec and the files on disk (every file either side listed was hawser's)",
                    g.out.display(),
                    hawser::review::output::LOCK_FILE
                );
            }
            let _ = writeln!(
                err,
                "{}: wrote {} files to {} ({} changed, {} removed{})",
                g.name,
                summary.written,
                g.out.display(),
                summary.changed.len(),
                summary.removed.len(),
                if summary.kept_foreign > 0 { format!(", {} files not hawser's left alone", summary.kept_foreign) } else { String::new() }
            );
            if !g.environments.is_empty() {
                let _ = writeln!(
                    err,
                    "only environment {} and the shared files (build, Docker, the chart) were generated; {} files of other environments left as they were",
                    g.environments.join(", "),
                    summary.kept_other_environments
                );
            }
            for w in &summary.warnings {
                let _ = writeln!(err, "warning: {w}");
            }
            ExitCode::SUCCESS
        }
        Err(e) if e.partly_changed => {
            let _ = writeln!(err, "error: {e}");
            ExitCode::from(FAILURE)
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}\nnothing changed in {}", g.out.display());
            ExitCode::from(FAILURE)
        }
    };
    // The process ends after this: freeing the artifacts would only cost time.
    std::mem::forget(g);
    code
}

/// Reads the output directory for a comparison, and what `generate` would write there; a
/// missing directory is a usage error.
fn read_output(g: &Generated) -> Result<(hawser::review::OnDisk, hawser::review::output::Planned<'_>), ExitCode> {
    match hawser::review::output::read_on_disk(&g.out, &g.artifacts) {
        Ok(Some(disk)) => {
            let planned = hawser::review::output::plan(&g.request(), disk.lock.as_ref());
            Ok((disk, planned))
        }
        Ok(None) => {
            eprintln!(
                "error: there is no output directory {}: run `hawser generate` first, or name the directory with --out",
                g.out.display()
            );
            Err(ExitCode::from(FAILURE))
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(ExitCode::from(FAILURE))
        }
    }
}

fn generate_check(path: &Path, output: OutputArgs, format: Format, color: Color) -> ExitCode {
    let style = render::Style { color: use_color(color), width: width() };
    let g = match generate_in_memory(path, output, format, style) {
        Ok(g) => g,
        Err(code) => return code,
    };
    let (disk, planned) = match read_output(&g) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let drift = hawser::review::compare(&planned.artifacts, &planned.lock_text, &disk);
    let prefix = g.out.display().to_string();
    let findings: Vec<render::FileFinding> =
        drift.iter().map(|d| render::FileFinding { path: join_path(&prefix, &d.path), kind: d.kind(), message: d.message() }).collect();
    emit_diagnostics(&g.diagnostics, &g.name, &g.text, format, style, Some(&findings));
    if format == Format::Human {
        let mut err = std::io::stderr().lock();
        for f in &findings {
            let _ = writeln!(err, "{}: {}", f.path, f.message);
        }
        let files = planned.artifacts.files.len() + 1;
        if findings.is_empty() {
            let _ = writeln!(err, "{}: {} is up to date ({files} files)", g.name, prefix);
        } else {
            let n = findings.len();
            let _ = writeln!(
                err,
                "{}: {prefix} differs from what the spec produces ({n} file{}); run `hawser generate` to update it, `hawser diff` to see how",
                g.name,
                if n == 1 { "" } else { "s" }
            );
        }
    }
    let code = if drift.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(DIFFERS) };
    std::mem::forget(disk);
    std::mem::forget(planned);
    std::mem::forget(g);
    code
}

fn join_path(prefix: &str, path: &str) -> String {
    if prefix.is_empty() || prefix == "." { path.to_owned() } else { format!("{}/{path}", prefix.trim_end_matches('/')) }
}

fn diff(path: &Path, output: OutputArgs, environments: &[String], context: usize, color: Color) -> ExitCode {
    let style = render::Style { color: use_color(color), width: width() };
    let diff_style = hawser::review::DiffStyle { color: use_color_stdout(color), context };
    if !environments.is_empty() && environments.len() != 2 {
        eprintln!("error: `hawser diff --env` compares two environments: give --env twice (e.g. --env staging --env prod)");
        return ExitCode::from(FAILURE);
    }
    let compare_envs = environments.len() == 2;
    let output = if compare_envs { OutputArgs { environments: environments.to_vec(), ..output } } else { output };
    let g = match generate_in_memory(path, output, Format::Human, style) {
        Ok(g) => g,
        Err(code) => return code,
    };
    let text = if compare_envs {
        hawser::review::env_diff(&g.artifacts, &environments[0], &environments[1], diff_style)
    } else {
        let (disk, planned) = match read_output(&g) {
            Ok(d) => d,
            Err(code) => return code,
        };
        let drift = hawser::review::compare(&planned.artifacts, &planned.lock_text, &disk);
        hawser::review::disk_diff(&planned.artifacts, &planned.lock_text, &disk, &drift, &g.out.display().to_string(), diff_style)
    };
    out!("{text}");
    let code = if text.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(DIFFERS) };
    std::mem::forget(g);
    code
}

fn fmt(paths: &[PathBuf], check: bool, color: Color) -> ExitCode {
    let style = render::Style { color: use_color(color), width: width() };
    let mut worst = ExitCode::SUCCESS;
    let mut failed = false;
    let mut differs = false;
    for path in paths {
        let text = match read_spec(path) {
            Ok(t) => t,
            Err(_) => {
                failed = true;
                continue;
            }
        };
        let name = path.display().to_string();
        // The formatter works on LF text; the file keeps its BOM and its line endings.
        let (layout, lf_text) = hawser::syntax::format::split_layout(&text);
        let formatted = match hawser::syntax::format::format(&lf_text) {
            hawser::syntax::format::Formatted::Text(t) => {
                hawser::syntax::format::Formatted::Text(hawser::syntax::format::restore_layout(layout, &t))
            }
            other => other,
        };
        match formatted {
            hawser::syntax::format::Formatted::SyntaxErrors(diags) => {
                eprint!("{}", render::human(&diags, &name, &text, style));
                eprintln!("{}: not formatted: fix the syntax errors first", name);
                differs = true;
            }
            hawser::syntax::format::Formatted::Refused(why) => {
                eprintln!("error: {name}: not formatted: {why} (a bug in hawser: please report it with the file)");
                failed = true;
            }
            hawser::syntax::format::Formatted::Text(formatted) if formatted == text => {}
            hawser::syntax::format::Formatted::Text(_) if check => {
                match layout.mixed {
                    Some((crlf, lf)) => eprintln!(
                        "{name}: would be reformatted: its line endings are mixed ({crlf} CRLF, {lf} LF); fmt ends every line with {}, as its first line ends",
                        if layout.crlf { "CRLF" } else { "LF" }
                    ),
                    None => eprintln!("{name}: would be reformatted"),
                }
                differs = true;
            }
            hawser::syntax::format::Formatted::Text(formatted) => {
                if let Err(e) = write_replacing(path, &formatted) {
                    eprintln!("error: cannot write {name}: {e}");
                    failed = true;
                } else {
                    eprintln!("{name}: formatted");
                }
            }
        }
    }
    if failed {
        worst = ExitCode::from(FAILURE);
    } else if differs {
        worst = ExitCode::from(DIFFERS);
    }
    worst
}

/// Replaces a spec's contents. A symlink is written through, to its target, and stays a
/// link. The new contents go to a temporary file beside the target, created exclusively
/// (`O_EXCL`, no symlink followed: a file planted under that name is an error, never
/// written through), given the target's mode and owner, then renamed over it. A file with
/// other hard links is rewritten in place instead, so that every link keeps the new
/// contents.
fn write_replacing(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let target = std::fs::canonicalize(path)?;
    let meta = std::fs::metadata(&target)?;
    if meta.nlink() > 1 {
        let mut file = std::fs::OpenOptions::new().write(true).truncate(true).open(&target)?;
        return file.write_all(contents.as_bytes()).and_then(|()| file.sync_all());
    }
    let file_name = target.file_name().and_then(|n| n.to_str()).unwrap_or("hawser.kdl");
    let dir = hawser::review::confined::Dir::open_following(target.parent().unwrap_or(Path::new("/")))?;
    let tmp = format!(".{file_name}.hawser-fmt");
    dir.write_new(&tmp, contents.as_bytes(), meta.mode() & 0o7777).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            std::io::Error::new(
                e.kind(),
                format!("{tmp} is in the way beside it (left by an interrupted fmt, or planted); remove it and run fmt again"),
            )
        } else {
            e
        }
    })?;
    let renamed = dir.chown_file(&tmp, meta.uid(), meta.gid()).and_then(|()| dir.replace(&tmp, file_name));
    renamed.inspect_err(|_| {
        let _ = dir.remove_all(&tmp);
    })
}

fn init(dir: &Path) -> ExitCode {
    let spec_path = dir.join("hawser.kdl");
    if std::fs::symlink_metadata(&spec_path).is_ok() {
        eprintln!("error: {} exists; hawser init does not overwrite it (`hawser check` checks it)", spec_path.display());
        return ExitCode::from(FAILURE);
    }
    let go_mod = dir.join("go.mod");
    let module = match std::fs::read_to_string(&go_mod) {
        Ok(text) => match hawser::cli::init::parse_go_mod(&text) {
            Some(m) => m,
            None => {
                eprintln!("error: {} has no `module` line", go_mod.display());
                return ExitCode::from(FAILURE);
            }
        },
        Err(e) => {
            eprintln!(
                "error: cannot read {}: {} (hawser init runs in the root of a Go module)",
                go_mod.display(),
                if e.kind() == std::io::ErrorKind::NotFound { "no such file".to_owned() } else { e.to_string() }
            );
            return ExitCode::from(FAILURE);
        }
    };
    let mains = match find_main_packages(dir) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(FAILURE);
        }
    };
    let text = hawser::cli::init::spec(&module, &mains);
    let analysis = hawser::check(&text);
    if analysis.has_errors() {
        let style = render::Style { color: use_color(Color::Auto), width: width() };
        eprint!("{}", render::human(&analysis.diagnostics, "hawser.kdl", &text, style));
        eprintln!("error: internal error: the starting spec does not check; nothing written");
        return ExitCode::from(FAILURE);
    }
    // `create_new`: never replace a file that appeared since the check above.
    let written = std::fs::OpenOptions::new().write(true).create_new(true).open(&spec_path).and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        eprintln!("error: cannot write {}: {e}", spec_path.display());
        return ExitCode::from(FAILURE);
    }
    let services: Vec<&str> = mains.iter().filter(|m| m.serves).map(|m| m.dir.as_str()).collect();
    let jobs: Vec<&str> = mains.iter().filter(|m| !m.serves).map(|m| m.dir.as_str()).collect();
    eprintln!(
        "wrote {}: {} service{} ({}) and {} job{} ({}); review it, then `hawser check`",
        spec_path.display(),
        services.len(),
        if services.len() == 1 { "" } else { "s" },
        services.join(", "),
        jobs.len(),
        if jobs.len() == 1 { "" } else { "s" },
        jobs.join(", ")
    );
    ExitCode::SUCCESS
}

/// Every directory under `cmd/` whose Go files are in package `main`, sorted.
fn find_main_packages(dir: &Path) -> Result<Vec<hawser::cli::init::MainPackage>, String> {
    let cmd = dir.join("cmd");
    let mut found = Vec::new();
    if !cmd.is_dir() {
        return Ok(found);
    }
    let mut stack = vec![PathBuf::from("cmd")];
    while let Some(rel) = stack.pop() {
        let entries = std::fs::read_dir(dir.join(&rel)).map_err(|e| format!("cannot read {}: {e}", dir.join(&rel).display()))?;
        let mut sources = String::new();
        let mut is_main = false;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                // What the go tool ignores, hawser ignores.
                if !(name.starts_with('.') || name.starts_with('_') || name == "testdata" || name == "vendor") {
                    stack.push(rel.join(&name));
                }
            } else if name.ends_with(".go") && !name.ends_with("_test.go") {
                let source = std::fs::read_to_string(entry.path()).unwrap_or_default();
                is_main |= hawser::cli::init::is_main_package(&source);
                sources.push_str(&source);
            }
        }
        if is_main {
            let dir = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/");
            found.push(hawser::cli::init::MainPackage { dir, serves: hawser::cli::init::serves(&sources) });
        }
    }
    found.sort_by(|a, b| a.dir.cmp(&b.dir));
    Ok(found)
}

/// `out` relative to `base`, when it lies inside it (both taken from the current directory).
fn relative_inside(base: &Path, out: &Path) -> Option<String> {
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

fn graph(path: &Path, format: GraphFormat, env: Option<&str>) -> ExitCode {
    let text = match read_spec(path) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let analysis = hawser::check(&text);
    let name = path.display().to_string();
    if analysis.has_errors() {
        let style = render::Style { color: use_color(Color::Auto), width: width() };
        let errors: Vec<_> = analysis.diagnostics.iter().filter(|d| d.is_error()).cloned().collect();
        eprint!("{}", render::human(&errors, &name, &text, style));
        eprintln!("{}", render::summary(&errors, &name));
        return ExitCode::from(SPEC_ERRORS);
    }
    let Some(spec) = &analysis.spec else { return ExitCode::from(SPEC_ERRORS) };
    let render = |graph: &hawser::check::graph::Graph, title: &str| match format {
        GraphFormat::Dot => graph.to_dot(title),
        GraphFormat::Mermaid => graph.to_mermaid(),
    };
    let project = &spec.base.project.name.value;
    let out = match env {
        // The check built the base graph already.
        None => match &analysis.graph {
            Some(graph) => render(graph, project),
            None => return ExitCode::from(SPEC_ERRORS),
        },
        Some(e) => match spec.environments.get(e) {
            Some(environment) => render(&hawser::check::graph::build_used(&environment.view), &format!("{project} ({e})")),
            None => {
                let known: Vec<&str> = spec.environments.keys().map(String::as_str).collect();
                eprintln!("error: the spec has no environment `{e}`; environments: {}", known.join(", "));
                return ExitCode::from(FAILURE);
            }
        },
    };
    out!("{out}");
    ExitCode::SUCCESS
}

fn why(location: &str, spec: Option<PathBuf>, version: Option<String>, color: Color) -> ExitCode {
    let usage = |msg: String| {
        eprintln!("error: {msg}");
        ExitCode::from(FAILURE)
    };
    let Some((file, line)) = location.rsplit_once(':') else {
        return usage(format!("`{location}` is not FILE:LINE"));
    };
    let Ok(line) = line.parse::<usize>() else {
        return usage(format!("`{line}` is not a line number (FILE:LINE, lines count from 1)"));
    };
    let file = PathBuf::from(file);
    // The path the user typed is theirs; below the output directory nothing is trusted: the
    // lock, the file and the spec the lock names are read without following any symlink.
    let Ok(abs) = std::fs::canonicalize(&file) else {
        return usage(format!("cannot read {}: no such file", file.display()));
    };
    let lock_file = hawser::review::output::LOCK_FILE;
    // The output directory is the nearest one above the file that holds a lock.
    let found = abs.ancestors().skip(1).find_map(|d| {
        let dir = hawser::review::confined::Dir::open_following(d).ok()?;
        match dir.read(lock_file).ok()? {
            hawser::review::confined::Entry::File { contents, .. } => Some((d.to_path_buf(), dir, contents)),
            _ => None,
        }
    });
    let Some((out, out_dir, lock_bytes)) = found else {
        return usage(format!("{} is not inside a hawser output directory (no {lock_file} above it)", file.display()));
    };
    let lock = match hawser::review::output::read_lock(&String::from_utf8_lossy(&lock_bytes)) {
        Ok(lock) => lock,
        Err(why) => return usage(format!("{} is not a hawser lock file: {why}", out.join(lock_file).display())),
    };
    let Some(rel) = abs.strip_prefix(&out).ok().and_then(|r| r.to_str()).map(str::to_owned) else {
        return usage(format!("{} is outside the output directory", file.display()));
    };
    if !lock.files.contains_key(&rel) {
        return usage(format!("{} is not a file hawser generated (it is not in {lock_file})", file.display()));
    }
    let (spec_path, text) = match spec {
        Some(s) => {
            let given = s.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if given != lock.spec_name {
                return usage(format!(
                    "{} was generated from `{}` (its {lock_file} says so), not from {}",
                    out.display(),
                    lock.spec_name,
                    s.display()
                ));
            }
            match read_spec(&s) {
                Ok(t) => (s, t),
                Err(code) => return code,
            }
        }
        None => {
            // The lock names a plain file name (checked when it was read), beside the output.
            let parent = out.parent().unwrap_or(Path::new("/"));
            let read = hawser::review::confined::Dir::open_following(parent).and_then(|d| d.read(&lock.spec_name));
            match read {
                Ok(hawser::review::confined::Entry::File { contents, .. }) => match String::from_utf8(contents) {
                    Ok(t) => (parent.join(&lock.spec_name), t),
                    Err(_) => return usage(format!("{} is not UTF-8 text", parent.join(&lock.spec_name).display())),
                },
                _ => {
                    return usage(format!(
                        "cannot find `{}`, the spec {lock_file} names, as a regular file beside {}; give it with --spec",
                        lock.spec_name,
                        out.display()
                    ));
                }
            }
        }
    };
    let out = out.as_path();
    let spec_name = spec_path.file_name().and_then(|n| n.to_str()).unwrap_or("hawser.kdl").to_owned();
    let spec_dir = spec_path.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let opts = hawser::emit::Options { spec_name, version, environments: Vec::new(), output_dir: relative_inside(&spec_dir, out) };
    // Named relative to the current directory, as the user would type it.
    let cwd = std::env::current_dir().and_then(std::fs::canonicalize).unwrap_or_default();
    let name = spec_path.strip_prefix(&cwd).unwrap_or(&spec_path).display().to_string();
    let style = render::Style { color: use_color(color), width: width() };
    let analysis = hawser::check(&text);
    if analysis.has_errors() {
        eprint!("{}", render::human(&analysis.diagnostics, &name, &text, style));
        eprintln!("{}", render::summary(&analysis.diagnostics, &name));
        return ExitCode::from(SPEC_ERRORS);
    }
    let Some(expected) = analysis.spec.as_ref().and_then(|s| hawser::emit::generate(s, &opts).ok()) else {
        return ExitCode::from(SPEC_ERRORS);
    };
    let Some(generated) = expected.files.get(&rel) else {
        return usage(format!("the spec no longer produces {}; run `hawser generate`", file.display()));
    };
    let count = generated.contents.lines().count();
    if line == 0 || line > count {
        return usage(format!("{} has {count} lines; line {line} is not one of them", file.display()));
    }
    let on_disk = match out_dir.read(&rel) {
        Ok(hawser::review::confined::Entry::File { contents, .. }) => String::from_utf8_lossy(&contents).into_owned(),
        _ => String::new(),
    };
    let target = generated.contents.lines().nth(line - 1).unwrap_or_default();
    if on_disk.lines().nth(line - 1) != Some(target) {
        eprintln!("note: {} differs from what the spec produces at that line; explaining what the spec produces there", file.display());
    }
    outln!("{}:{line}: {target}", file.display());
    let Some(origins) = hawser::review::why::origins(&text, &opts, &rel, line) else { return ExitCode::from(SPEC_ERRORS) };
    if origins.is_empty() {
        outln!("no single value of the spec produces this line: it is hawser's own (a header, a default, the layout of the format)");
        return ExitCode::SUCCESS;
    }
    let labels: Vec<(hawser::span::Span, String)> = origins
        .iter()
        .map(|o| {
            (
                o.span,
                match o.kind {
                    hawser::review::why::OriginKind::Value => "this value".to_owned(),
                    hawser::review::why::OriginKind::Node => "this node".to_owned(),
                },
            )
        })
        .collect();
    out!("{}", render::spans(&name, &text, &format!("produced by {} place(s) in the spec", origins.len()), &labels, style));
    ExitCode::SUCCESS
}

fn lsp() -> ExitCode {
    match hawser::lsp::run_stdio() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: hawser lsp: {e}");
            ExitCode::from(FAILURE)
        }
    }
}

fn explain(code: Option<&str>, list: bool) -> ExitCode {
    if list || code.is_none() {
        for c in diagnostics::code::ALL {
            outln!("{}  {}", c.id, c.title);
        }
        return if list { ExitCode::SUCCESS } else { ExitCode::from(FAILURE) };
    }
    let code = code.unwrap_or_default();
    match diagnostics::explain(code) {
        Some(text) => {
            outln!("{text}");
            ExitCode::SUCCESS
        }
        None => {
            let ids: Vec<&str> = diagnostics::code::ALL.iter().map(|c| c.id).collect();
            let hint =
                diagnostics::did_you_mean(&code.to_ascii_uppercase(), ids.iter().copied()).map(|h| format!("; {h}")).unwrap_or_default();
            eprintln!("error: `{code}` is not a hawser diagnostic code{hint} (`hawser explain --list` lists them)");
            ExitCode::from(FAILURE)
        }
    }
}
