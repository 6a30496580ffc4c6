//! `hawser init`: a starting spec for a Go module, from what the CLI found in it.
//!
//! [`init`] reads `go.mod` and finds the `main` packages under `cmd/`; the rest of this
//! module turns that into spec text, without I/O. Every `main` package becomes a workload named after its directory:
//! a `service` when its sources import a server package (`net/http`, `net`, gRPC), a run-once
//! `job` otherwise. Ports, probes, CPU and the rest are written as commented-out defaults
//! (hawser cannot know which port a program listens on, and a wrong probe is worse than
//! none); memory is written as an active, commented default, because a workload without a
//! memory limit earns W0102. So the spec checks clean — no errors, no warnings — as it is,
//! and says what to fill in.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::diagnostics::Diagnostic;

/// What `go.mod` says.
#[derive(Debug, Clone, Default)]
pub struct GoModule {
    /// The module path, e.g. `example.com/payments`.
    pub path: String,
    /// The `go` directive, e.g. `1.23`.
    pub go: Option<String>,
}

/// A `main` package under `cmd/`.
#[derive(Debug, Clone)]
pub struct MainPackage {
    /// Its directory relative to the module root, `/`-separated, e.g. `cmd/api`.
    pub dir: String,
    /// Whether its sources import a package that serves a network (it is a service).
    pub serves: bool,
}

/// What `hawser init` wrote.
#[derive(Debug)]
pub struct Initialized {
    pub spec_path: PathBuf,
    pub mains: Vec<MainPackage>,
}

/// Why `hawser init` wrote nothing.
#[derive(Debug)]
pub enum InitFailed {
    /// What to tell the user.
    Error(String),
    /// The starting spec does not check (a bug in hawser): its text and diagnostics.
    SpecErrors { text: String, diagnostics: Vec<Diagnostic> },
}

/// `hawser init DIR`: writes `DIR/hawser.kdl` for the Go module in `DIR`, never over an
/// existing file.
pub fn init(dir: &Path) -> Result<Initialized, InitFailed> {
    let spec_path = dir.join("hawser.kdl");
    if std::fs::symlink_metadata(&spec_path).is_ok() {
        return Err(InitFailed::Error(format!(
            "{} exists; hawser init does not overwrite it (`hawser check` checks it)",
            spec_path.display()
        )));
    }
    let go_mod = dir.join("go.mod");
    let module = match std::fs::read_to_string(&go_mod) {
        Ok(text) => parse_go_mod(&text).ok_or_else(|| InitFailed::Error(format!("{} has no `module` line", go_mod.display())))?,
        Err(e) => {
            return Err(InitFailed::Error(format!(
                "cannot read {}: {} (hawser init runs in the root of a Go module)",
                go_mod.display(),
                if e.kind() == std::io::ErrorKind::NotFound { "no such file".to_owned() } else { e.to_string() }
            )));
        }
    };
    let mains = find_main_packages(dir).map_err(InitFailed::Error)?;
    let text = spec(&module, &mains);
    let analysis = crate::check::check(&text);
    if analysis.has_errors() {
        return Err(InitFailed::SpecErrors { text, diagnostics: analysis.diagnostics });
    }
    // `create_new`: never replace a file that appeared since the check above.
    let written = std::fs::OpenOptions::new().write(true).create_new(true).open(&spec_path).and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        return Err(InitFailed::Error(format!("cannot write {}: {e}", spec_path.display())));
    }
    Ok(Initialized { spec_path, mains })
}

/// Every directory under `cmd/` whose Go files are in package `main`, sorted.
pub fn find_main_packages(dir: &Path) -> Result<Vec<MainPackage>, String> {
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
                is_main |= is_main_package(&source);
                sources.push_str(&source);
            }
        }
        if is_main {
            let dir = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/");
            found.push(MainPackage { dir, serves: serves(&sources) });
        }
    }
    found.sort_by(|a, b| a.dir.cmp(&b.dir));
    Ok(found)
}

/// Reads the module path and Go version from `go.mod`'s text.
pub fn parse_go_mod(text: &str) -> Option<GoModule> {
    let mut module = GoModule::default();
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        if let Some(rest) = line.strip_prefix("module ") {
            module.path = rest.trim().trim_matches('"').to_owned();
        } else if let Some(rest) = line.strip_prefix("go ") {
            module.go = Some(rest.trim().to_owned());
        }
    }
    (!module.path.is_empty()).then_some(module)
}

/// Whether Go source text is in package `main`.
pub fn is_main_package(source: &str) -> bool {
    package_clause(source) == Some("main")
}

fn package_clause(source: &str) -> Option<&str> {
    let mut in_block = false;
    for line in source.lines() {
        let mut line = line.trim();
        if in_block {
            match line.find("*/") {
                Some(end) => {
                    in_block = false;
                    line = line[end + 2..].trim();
                }
                None => continue,
            }
        }
        if line.starts_with("/*") && !line.contains("*/") {
            in_block = true;
            continue;
        }
        if line.is_empty() || line.starts_with("//") || (line.starts_with("/*") && line.ends_with("*/")) {
            continue;
        }
        return line.strip_prefix("package ").map(|p| p.split_whitespace().next().unwrap_or(""));
    }
    None
}

/// Whether Go source text imports a package that serves a network.
pub fn serves(source: &str) -> bool {
    ["\"net/http\"", "\"net\"", "\"google.golang.org/grpc\"", "\"github.com/gorilla/mux\"", "\"github.com/go-chi/chi"]
        .iter()
        .any(|i| source.contains(i))
}

/// A name hawser accepts (a DNS label) made from `raw`: lowercase letters, digits and `-`.
pub fn workload_name(raw: &str) -> String {
    let mut name: String = raw.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect::<String>();
    while name.contains("--") {
        name = name.replace("--", "-");
    }
    let mut name = name.trim_matches('-').to_owned();
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name = format!("app-{name}").trim_end_matches('-').to_owned();
    }
    name.truncate(63);
    name.trim_end_matches('-').to_owned()
}

/// The starting spec.
pub fn spec(module: &GoModule, mains: &[MainPackage]) -> String {
    let project = workload_name(module.path.rsplit('/').next().unwrap_or("app"));
    let go = module.go.as_deref().unwrap_or("1.23");
    let mut s = String::new();
    let _ = write!(
        s,
        r#"// hawser.kdl — how {project} is built and shipped. Written by `hawser init` from
// {module}; review every value, uncomment what applies, then run `hawser check` and
// `hawser generate`. See docs/language.md for every node.

project "{project}" {{
    // Where images are pushed: change it to your registry.
    registry "registry.example.com/{project}"
    // `git describe` at build time; deploy artifacts take `hawser generate --version`.
    version from="git"
    go "{go}"
    platforms "linux/amd64" "linux/arm64"
}}
"#,
        module = module.path
    );
    let mut names: Vec<String> = Vec::new();
    for main in mains {
        let base = workload_name(main.dir.rsplit('/').next().unwrap_or(&main.dir));
        let mut name = base.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        names.push(name.clone());
        s.push('\n');
        if main.serves {
            let _ = write!(
                s,
                r#"service "{name}" {{
    build "go" main="./{dir}"
    // The ports it listens on, by name; probes and metrics refer to them.
    // port "http" 8080
    // port "metrics" 9090
    // replicas 2
    // A starting point: measure it under load and adjust (GOMEMLIMIT follows the limit).
    memory request="128Mi" limit="256Mi"
    // cpu request="100m" limit="500m"
    // health {{
    //     ready "/readyz" port="http"
    //     live "/healthz" port="http"
    // }}
    // metrics port="metrics" path="/metrics"
    // shutdown grace="30s"
    // env {{
    //     LOG_LEVEL "info"
    // }}
}}
"#,
                dir = main.dir
            );
        } else {
            let _ = write!(
                s,
                r#"// A run-once job; add `schedule="0 3 * * *"` to run it on a schedule, or make it a
// `service` if it serves.
job "{name}" {{
    build "go" main="./{dir}"
    // A starting point: measure it and adjust (GOMEMLIMIT follows the limit).
    memory request="64Mi" limit="128Mi"
    // cpu request="100m" limit="500m"
    // timeout "10m"
}}
"#,
                dir = main.dir
            );
        }
    }
    s.push_str(
        r#"
// Where it runs: one environment per place, each on systemd hosts or on Kubernetes.
// environment "dev" {
//     runs-on "systemd" {
//         host "dev-1.example.internal"
//     }
// }
// environment "prod" production=#true {
//     runs-on "kubernetes" namespace="NAMESPACE"
// }
"#,
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_package_clauses() {
        assert_eq!(workload_name("Payments_API"), "payments-api");
        assert_eq!(workload_name("9lives"), "app-9lives");
        assert!(is_main_package("// Copyright\n/* block\n */\n//go:build linux\n\npackage main\n"));
        assert!(!is_main_package("package buildinfo\n"));
        let m = parse_go_mod("module example.com/x // c\n\ngo 1.23\n").unwrap();
        assert_eq!((m.path.as_str(), m.go.as_deref()), ("example.com/x", Some("1.23")));
    }
}
