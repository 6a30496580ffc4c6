//! The `hawser` command line: the edge where files are read, output is written and the
//! terminal is looked at. Everything else is the library's.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use hawser::{diagnostics, render};

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
        /// The output directory (default: `generated/` beside the spec).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Only this environment (repeatable); build artifacts are always generated.
        #[arg(long = "env")]
        environments: Vec<String>,
        /// The version of deploy artifacts when the spec says `version from="git"`.
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
    /// Explain a diagnostic code, e.g. `hawser explain E0103`.
    Explain {
        /// The code; `--list` for every code.
        code: Option<String>,
        #[arg(long)]
        list: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Json,
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

/// Exit codes: 0 success, 1 the spec has errors, 2 usage or I/O failure.
const SPEC_ERRORS: u8 = 1;
const FAILURE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { spec, format, color } => check(&spec, format, color),
        Command::Graph { spec, format, env } => graph(&spec, format, env.as_deref()),
        Command::Generate { spec, out, environments, version, color } => generate(&spec, out, environments, version, color),
        Command::Explain { code, list } => explain(code.as_deref(), list),
    }
}

fn read_spec(path: &Path) -> Result<String, ExitCode> {
    std::fs::read_to_string(path).map_err(|e| {
        eprintln!("error: cannot read {}: {}", path.display(), io_reason(&e));
        ExitCode::from(FAILURE)
    })
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

fn width() -> usize {
    #[allow(clippy::disallowed_methods, reason = "the CLI edge may read the environment")]
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(100)
}

fn check(path: &Path, format: Format, color: Color) -> ExitCode {
    let text = match read_spec(path) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let analysis = hawser::check(&text);
    let name = path.display().to_string();
    match format {
        Format::Human => {
            let style = render::Style { color: use_color(color), width: width() };
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "{}", render::human(&analysis.diagnostics, &name, &text, style));
            let _ = writeln!(err, "{}", render::summary(&analysis.diagnostics, &name));
        }
        Format::Json => print!("{}", render::json(&analysis.diagnostics, &name, &text)),
    }
    let code = if analysis.has_errors() { ExitCode::from(SPEC_ERRORS) } else { ExitCode::SUCCESS };
    // The process ends here: freeing the model piece by piece would only cost time.
    std::mem::forget(analysis);
    code
}

fn generate(path: &Path, out: Option<PathBuf>, environments: Vec<String>, version: Option<String>, color: Color) -> ExitCode {
    let text = match read_spec(path) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let name = path.display().to_string();
    let style = render::Style { color: use_color(color), width: width() };
    let analysis = hawser::check(&text);
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{}", render::human(&analysis.diagnostics, &name, &text, style));
    if analysis.has_errors() {
        let _ = writeln!(err, "{}", render::summary(&analysis.diagnostics, &name));
        let _ = writeln!(err, "nothing written: fix the errors first");
        return ExitCode::from(SPEC_ERRORS);
    }
    let Some(spec) = &analysis.spec else { return ExitCode::from(SPEC_ERRORS) };
    let spec_dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let out = out.unwrap_or_else(|| spec_dir.join("generated"));
    let spec_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("hawser.kdl").to_owned();
    let opts = hawser::emit::Options { spec_name: spec_name.clone(), version, environments, output_dir: relative_inside(&spec_dir, &out) };
    if let Err(e) = hawser::emit::check_options(spec, &opts) {
        let _ = writeln!(err, "error: {e}");
        return ExitCode::from(FAILURE);
    }
    let run = hawser::emit::run_diagnostics(spec, &opts);
    let _ = write!(err, "{}", render::human(&run, &name, &text, style));
    let artifacts = match hawser::emit::generate(spec, &opts) {
        Ok(a) => a,
        Err(e) => {
            let _ = writeln!(err, "error: internal error while generating: {e}");
            return ExitCode::from(FAILURE);
        }
    };
    let lock = hawser::output::render_lock(&spec_name, &text, &artifacts);
    let written = hawser::output::write(&out, &artifacts, &lock);
    // The process ends after this: freeing the model and the artifacts would only cost time.
    std::mem::forget(artifacts);
    std::mem::forget(analysis);
    match written {
        Ok(summary) => {
            let _ = writeln!(
                err,
                "{}: wrote {} files to {} ({} changed, {} removed{})",
                name,
                summary.written,
                out.display(),
                summary.changed.len(),
                summary.removed.len(),
                if summary.kept_foreign > 0 { format!(", {} files not hawser's left alone", summary.kept_foreign) } else { String::new() }
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}\nnothing changed in {}", out.display());
            ExitCode::from(FAILURE)
        }
    }
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
    let (graph, title) = match env {
        None => (hawser::graph::build(&spec.base), spec.base.project.name.value.clone()),
        Some(e) => match spec.environments.get(e) {
            Some(environment) => (hawser::graph::build_used(&environment.view), format!("{} ({e})", spec.base.project.name.value)),
            None => {
                let known: Vec<&str> = spec.environments.keys().map(String::as_str).collect();
                eprintln!("error: the spec has no environment `{e}`; environments: {}", known.join(", "));
                return ExitCode::from(FAILURE);
            }
        },
    };
    match format {
        GraphFormat::Dot => print!("{}", graph.to_dot(&title)),
        GraphFormat::Mermaid => print!("{}", graph.to_mermaid()),
    }
    ExitCode::SUCCESS
}

fn explain(code: Option<&str>, list: bool) -> ExitCode {
    if list || code.is_none() {
        for c in diagnostics::code::ALL {
            println!("{}  {}", c.id, c.title);
        }
        return if list { ExitCode::SUCCESS } else { ExitCode::from(FAILURE) };
    }
    let code = code.unwrap_or_default();
    match diagnostics::explain(code) {
        Some(text) => {
            println!("{text}");
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
