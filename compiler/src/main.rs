//! The `hawser` command line: the edge where files are read, output is written and the
//! terminal is looked at. Everything else is the library's.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use hawser::cli::generate::{Checked, Failed, Generated, OutputRequest, SpecText};
use hawser::cli::graph::NoGraph;
use hawser::cli::init::InitFailed;
use hawser::cli::why::WhyFailed;
use hawser::cli::{self, render};
use hawser::diagnostics;
use hawser::syntax::format::Formatted;

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
        /// naming each file. A swap that a killed run left half done is finished first.
        #[arg(long)]
        check: bool,
        /// Do the whole work even when the output directory's cache (`.hawser-cache/`, this
        /// machine's stamps of what the last run wrote) proves that nothing changed: with
        /// `--check`, compare every file's contents.
        #[arg(long)]
        full: bool,
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
        Command::Generate { spec, output, check: false, full, format, color } => generate(&spec, output, full, format, color),
        Command::Generate { spec, output, check: true, full, format, color } => generate_check(&spec, output, full, format, color),
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

/// Reads the spec; a failure is reported and becomes the exit status.
fn read_spec(path: &Path) -> Result<String, ExitCode> {
    cli::read_spec(path).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(FAILURE)
    })
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
        // The configuration files the spec names are checked too: a missing one is an error
        // `check` should find before `generate` does.
        analysis.diagnostics.extend(hawser::review::inputs::read(&cli::spec_dir(path), spec).1);
        // And the Go module beside it: its go.mod, the files images copy from it.
        analysis.diagnostics.extend(hawser::review::module::diagnostics(&cli::spec_dir(path), spec));
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

/// Checks and generates in memory. A failure is reported (spec errors in `format`) and
/// becomes the exit status.
fn generate_in_memory(
    path: &Path,
    spec: SpecText,
    output: OutputArgs,
    format: Format,
    style: render::Style,
) -> Result<Generated, ExitCode> {
    checked(path, spec, output, format, style)?.generate().map_err(|failed| failure(failed, format, style))
}

/// The spec at `path`, checked for a run of `generate`; the exit code when it cannot run,
/// its diagnostics printed.
fn checked(path: &Path, spec: SpecText, output: OutputArgs, format: Format, style: render::Style) -> Result<Checked, ExitCode> {
    let request = OutputRequest { out: output.out, environments: output.environments, version: output.version };
    cli::generate::check_read(path, spec, request).map_err(|failed| failure(failed, format, style))
}

/// Reads the spec, once a run, with its sha256 ([`read_spec`]).
fn read_spec_text(path: &Path) -> Result<SpecText, ExitCode> {
    read_spec(path).map(SpecText::new)
}

fn failure(failed: Failed, format: Format, style: render::Style) -> ExitCode {
    match failed {
        Failed::SpecErrors { name, text, diagnostics } => {
            emit_diagnostics(&diagnostics, &name, &text, format, style, None);
            if format == Format::Human {
                eprintln!("nothing written: fix the errors first");
            }
            ExitCode::from(SPEC_ERRORS)
        }
        Failed::Error(e) => {
            eprintln!("error: {e}");
            ExitCode::from(FAILURE)
        }
    }
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

/// Whether the cache proves that nothing changed since the last clean run (`--full`: never).
fn current(path: &Path, spec: &SpecText, output: &OutputArgs, full: bool) -> Option<cli::generate::Current> {
    let request = OutputRequest { out: output.out.clone(), environments: output.environments.clone(), version: output.version.clone() };
    if full { None } else { cli::generate::up_to_date(path, spec, &request) }
}

fn foreign_note(foreign: usize) -> String {
    if foreign > 0 { format!(", {foreign} files not hawser's left alone") } else { String::new() }
}

fn generate(path: &Path, output: OutputArgs, full: bool, format: Format, color: Color) -> ExitCode {
    let style = render::Style { color: use_color(color), width: width() };
    let spec = match read_spec_text(path) {
        Ok(spec) => spec,
        Err(code) => return code,
    };
    // Nothing changed since the last run, as the cache proves: nothing to compile or write.
    if let Some(c) = current(path, &spec, &output, full) {
        emit_diagnostics(&[], &c.name, &spec.text, format, style, None);
        eprintln!(
            "{}: wrote {} files to {} (0 changed, 0 removed{})",
            c.name,
            c.found.files,
            c.out.display(),
            foreign_note(c.found.foreign)
        );
        return ExitCode::SUCCESS;
    }
    let g = match checked(path, spec, output, format, style) {
        Ok(g) => g,
        Err(code) => return code,
    };
    emit_diagnostics(&g.diagnostics, &g.name, &g.text, format, style, None);
    // The files are written as they are made.
    let written = g.write();
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
                foreign_note(summary.kept_foreign)
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
    // The process ends after this: freeing the model and the artifacts would only cost time.
    std::mem::forget(g);
    code
}

fn generate_check(path: &Path, output: OutputArgs, full: bool, format: Format, color: Color) -> ExitCode {
    let style = render::Style { color: use_color(color), width: width() };
    // The tree is what a clean run with these options wrote, untouched since, as the
    // cache's stamps prove: it is what `generate` would write.
    let spec = match read_spec_text(path) {
        Ok(spec) => spec,
        Err(code) => return code,
    };
    if let Some(c) = current(path, &spec, &output, full) {
        emit_diagnostics(&[], &c.name, &spec.text, format, style, Some(&[]));
        if format == Format::Human {
            eprintln!("{}: {} is up to date ({} files)", c.name, c.out.display(), c.found.files + 1);
        }
        return ExitCode::SUCCESS;
    }
    let g = match generate_in_memory(path, spec, output, format, style) {
        Ok(g) => g,
        Err(code) => return code,
    };
    let (disk, planned) = match cli::generate::read_output(&g) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(FAILURE);
        }
    };
    let findings = cli::generate::drift(&g, &disk, &planned);
    let prefix = g.checked.out.display().to_string();
    emit_diagnostics(&g.checked.diagnostics, &g.checked.name, &g.checked.text, format, style, Some(&findings));
    if format == Format::Human {
        let mut err = std::io::stderr().lock();
        for f in &findings {
            let _ = writeln!(err, "{}: {}", f.path, f.message);
        }
        let files = planned.artifacts.files.len() + 1;
        if findings.is_empty() {
            let _ = writeln!(err, "{}: {} is up to date ({files} files)", g.checked.name, prefix);
        } else {
            let n = findings.len();
            let _ = writeln!(
                err,
                "{}: {prefix} differs from what the spec produces ({n} file{}); run `hawser generate` to update it, `hawser diff` to see how",
                g.checked.name,
                if n == 1 { "" } else { "s" }
            );
        }
    }
    let code = if findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(DIFFERS) };
    std::mem::forget(disk);
    std::mem::forget(planned);
    std::mem::forget(g);
    code
}

fn diff(path: &Path, output: OutputArgs, environments: &[String], context: usize, color: Color) -> ExitCode {
    let style = render::Style { color: use_color(color), width: width() };
    let diff_style = hawser::review::DiffStyle { color: use_color_stdout(color), context };
    if !environments.is_empty() && environments.len() != 2 {
        eprintln!("error: `hawser diff --env` compares two environments: give --env twice (e.g. --env staging --env prod)");
        return ExitCode::from(FAILURE);
    }
    let output = if environments.len() == 2 { OutputArgs { environments: environments.to_vec(), ..output } } else { output };
    let spec = match read_spec_text(path) {
        Ok(spec) => spec,
        Err(code) => return code,
    };
    let g = match generate_in_memory(path, spec, output, Format::Human, style) {
        Ok(g) => g,
        Err(code) => return code,
    };
    let text = match cli::generate::diff(&g, environments, diff_style) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(FAILURE);
        }
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
        let (layout, formatted) = cli::fmt::format_text(&text);
        match formatted {
            Formatted::SyntaxErrors(diags) => {
                eprint!("{}", render::human(&diags, &name, &text, style));
                eprintln!("{}: not formatted: fix the syntax errors first", name);
                differs = true;
            }
            Formatted::Refused(why) => {
                eprintln!("error: {name}: not formatted: {why} (a bug in hawser: please report it with the file)");
                failed = true;
            }
            Formatted::Text(formatted) if formatted == text => {}
            Formatted::Text(_) if check => {
                match layout.mixed {
                    Some((crlf, lf)) => eprintln!(
                        "{name}: would be reformatted: its line endings are mixed ({crlf} CRLF, {lf} LF); fmt ends every line with {}, as its first line ends",
                        if layout.crlf { "CRLF" } else { "LF" }
                    ),
                    None => eprintln!("{name}: would be reformatted"),
                }
                differs = true;
            }
            Formatted::Text(formatted) => {
                if let Err(e) = cli::fmt::write_replacing(path, &formatted) {
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

fn init(dir: &Path) -> ExitCode {
    let done = match cli::init::init(dir) {
        Ok(done) => done,
        Err(InitFailed::Error(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(FAILURE);
        }
        Err(InitFailed::SpecErrors { text, diagnostics }) => {
            let style = render::Style { color: use_color(Color::Auto), width: width() };
            eprint!("{}", render::human(&diagnostics, "hawser.kdl", &text, style));
            eprintln!("error: internal error: the starting spec does not check; nothing written");
            return ExitCode::from(FAILURE);
        }
    };
    let services: Vec<&str> = done.mains.iter().filter(|m| m.serves).map(|m| m.dir.as_str()).collect();
    let jobs: Vec<&str> = done.mains.iter().filter(|m| !m.serves).map(|m| m.dir.as_str()).collect();
    eprintln!(
        "wrote {}: {} service{} ({}) and {} job{} ({}); review it, then `hawser check`",
        done.spec_path.display(),
        services.len(),
        if services.len() == 1 { "" } else { "s" },
        services.join(", "),
        jobs.len(),
        if jobs.len() == 1 { "" } else { "s" },
        jobs.join(", ")
    );
    ExitCode::SUCCESS
}

fn graph(path: &Path, format: GraphFormat, env: Option<&str>) -> ExitCode {
    let text = match read_spec(path) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let format = match format {
        GraphFormat::Dot => cli::graph::GraphFormat::Dot,
        GraphFormat::Mermaid => cli::graph::GraphFormat::Mermaid,
    };
    match cli::graph::graph(&text, env, format) {
        Ok(out) => {
            out!("{out}");
            ExitCode::SUCCESS
        }
        Err(NoGraph::SpecErrors(errors)) => {
            if !errors.is_empty() {
                let name = path.display().to_string();
                let style = render::Style { color: use_color(Color::Auto), width: width() };
                eprint!("{}", render::human(&errors, &name, &text, style));
                eprintln!("{}", render::summary(&errors, &name));
            }
            ExitCode::from(SPEC_ERRORS)
        }
        Err(NoGraph::Error(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(FAILURE)
        }
    }
}

fn why(location: &str, spec: Option<PathBuf>, version: Option<String>, color: Color) -> ExitCode {
    let style = render::Style { color: use_color(color), width: width() };
    let found = match cli::why::why(location, spec.as_deref(), version) {
        Ok(found) => found,
        Err(WhyFailed::Error(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(FAILURE);
        }
        Err(WhyFailed::SpecErrors { name, text, diagnostics }) => {
            eprint!("{}", render::human(&diagnostics, &name, &text, style));
            eprintln!("{}", render::summary(&diagnostics, &name));
            return ExitCode::from(SPEC_ERRORS);
        }
        Err(WhyFailed::NotGenerated) => return ExitCode::from(SPEC_ERRORS),
    };
    let file = found.file.display();
    if found.differs_on_disk {
        eprintln!("note: {file} differs from what the spec produces at that line; explaining what the spec produces there");
    }
    outln!("{file}:{}: {}", found.line, found.target);
    let Some(origins) = found.origins else { return ExitCode::from(SPEC_ERRORS) };
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
    out!("{}", render::spans(&found.name, &found.text, &format!("produced by {} place(s) in the spec", origins.len()), &labels, style));
    ExitCode::SUCCESS
}

/// `hawser schema`: the JSON Schema; `--convert SPEC`: the spec as JSON (a spec that does
/// not parse is a spec error, reported as `check` would).
fn schema(convert: Option<&Path>) -> ExitCode {
    let Some(path) = convert else {
        out!("{}", cli::jsonschema::schema_text());
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
    outln!("{}", serde_json::to_string_pretty(&cli::jsonschema::to_json(&doc)).unwrap_or_default());
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
    match cli::explain(code.unwrap_or_default()) {
        Ok(text) => {
            outln!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(FAILURE)
        }
    }
}
