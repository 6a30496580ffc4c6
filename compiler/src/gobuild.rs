//! What the Go toolchain accepts, checked before build.sh and the Dockerfiles ask it:
//! the platforms Go 1.23 builds for (`stdlib/go-platforms.txt`, embedded), the `-X`
//! stamps, and whether the spec's Go version agrees with the module's `go.mod`.
//!
//! The core reads no file: the CLI reads `go.mod` beside the spec (never through a
//! symlink) and hands its text to [`go_mod_diagnostics`].

use crate::diagnostics::{self as diag, Diagnostic};
use crate::model::Project;

/// `go tool dist list` of Go 1.23, with how a `CGO_ENABLED=0` build of each comes out.
pub const PLATFORMS: &str = include_str!("../../stdlib/go-platforms.txt");

/// How a static, cgo-free build of a platform comes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Linking {
    /// A statically linked ELF executable: build.sh checks that it is.
    Static,
    /// An executable linked to the system's C library by design (macOS, illumos, OpenBSD,
    /// Android): there is no static form to check.
    Dynamic,
    /// Not an ELF executable (Windows, AIX, Plan 9, WebAssembly): nothing to check.
    Other,
    /// Go cannot link it without cgo (Android but arm64, iOS).
    NeedsCgo,
}

/// Every platform of the list, with its linking, in the list's order.
pub fn platforms() -> impl Iterator<Item = (&'static str, Linking)> {
    entries().map(|(p, l, _)| (p, l))
}

fn entries() -> impl Iterator<Item = (&'static str, Linking, bool)> {
    PLATFORMS.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).filter_map(|l| {
        let mut words = l.split_whitespace();
        let platform = words.next()?;
        let linking = match words.next()? {
            "static" => Linking::Static,
            "dynamic" => Linking::Dynamic,
            "other" => Linking::Other,
            "cgo" => Linking::NeedsCgo,
            _ => return None,
        };
        Some((platform, linking, words.next() == Some("readable")))
    })
}

/// Whether `go version -m` reads a platform's build information back (not from AIX,
/// Plan 9 or WebAssembly binaries).
pub fn build_info_readable(platform: &str) -> bool {
    entries().any(|(p, _, readable)| p == platform && readable)
}

/// How a platform's builds come out; `None` for a pair Go does not support.
pub fn linking(platform: &str) -> Option<Linking> {
    platforms().find(|(p, _)| *p == platform).map(|(_, l)| l)
}

/// The file name suffix of a platform's executables.
pub fn executable_suffix(platform: &str) -> &'static str {
    match platform.split('/').next() {
        Some("windows") => ".exe",
        Some("js" | "wasip1") => ".wasm",
        _ => "",
    }
}

/// The project's build settings that Go would refuse, or that would silently lose a
/// stamp: a platform that needs cgo, a variable stamped twice.
pub fn check(project: &Project) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for p in &project.platforms {
        if linking(&p.value) == Some(Linking::NeedsCgo) {
            out.push(diag::platform_needs_cgo(&p.value, p.span));
        }
    }
    let fixed = [
        (project.stamp_version(), project.stamp_version.as_ref().map(|s| s.span), "version"),
        (project.stamp_commit(), project.stamp_commit.as_ref().map(|s| s.span), "commit"),
    ];
    for s in &project.stamps {
        if let Some((_, span, what)) = fixed.iter().find(|(v, _, _)| *v == s.variable.value) {
            out.push(diag::duplicate_stamp(&s.variable.value, s.variable.span, *span, what));
        }
    }
    out
}

/// The `go` directive of a `go.mod`: the version, and its byte range in the text.
pub fn go_directive(go_mod: &str) -> Option<(String, std::ops::Range<usize>)> {
    let mut offset = 0;
    for line in go_mod.split_inclusive('\n') {
        let code = line.split("//").next().unwrap_or("");
        let mut words = code.split_whitespace();
        if words.next() == Some("go")
            && let Some(version) = words.next()
        {
            let start = offset + line.find(version).unwrap_or(0);
            return Some((version.to_owned(), start..start + version.len()));
        }
        offset += line.len();
    }
    None
}

/// A version as numbers, `1.23.4` → `[1, 23, 4]`; pre-releases (`1.21rc1`) compare as
/// their release's first patch.
fn numbers(v: &str) -> Vec<u64> {
    v.split('.').map(|p| p.chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap_or(0)).collect()
}

/// W0921 when the Go version the images build with (the spec's `go`, or the default)
/// disagrees with the `go` directive of the module's `go.mod`: another language version,
/// or a toolchain older than the module asks for.
pub fn go_mod_diagnostics(project: &Project, go_mod: &str) -> Vec<Diagnostic> {
    let Some((module, _)) = go_directive(go_mod) else { return Vec::new() };
    let spec = project.go.as_ref().map_or(crate::emit::docker::DEFAULT_GO, |g| g.value.as_str());
    let (s, m) = (numbers(spec), numbers(&module));
    let language = |v: &[u64]| (v.first().copied().unwrap_or(0), v.get(1).copied().unwrap_or(0));
    let older_patch = s.len() > 2 && m.len() > 2 && s[2] < m[2];
    if language(&s) == language(&m) && !older_patch {
        return Vec::new();
    }
    if project.allows.iter().any(|a| a.code.value == diag::code::GO_MOD_VERSION.id) {
        return Vec::new();
    }
    let span = project.go.as_ref().map_or(project.span, |g| g.span);
    vec![diag::go_mod_version(spec, &module, span, project.go.is_some())]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded list is `go tool dist list` of Go 1.23, pair for pair, when that
    /// toolchain is installed (the validators install it as `go1.23`).
    #[test]
    fn the_list_is_go_1_23s() {
        let listed: Vec<&str> = platforms().map(|(p, _)| p).collect();
        assert!(listed.len() >= 49, "{listed:?}");
        assert!(listed.contains(&"openbsd/amd64") && listed.contains(&"linux/riscv64"));
        let mut sorted = listed.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, listed, "sorted and unique");
        let go = std::path::Path::new("/opt/validators/bin/go1.23");
        if !go.exists() {
            assert!(std::env::var_os("CI").is_none_or(|v| v.is_empty()), "{} is not installed in CI", go.display());
            eprintln!("WARNING: skipped comparing with `go tool dist list`: {} is not installed", go.display());
            return;
        }
        let out = std::process::Command::new(go).args(["tool", "dist", "list"]).env("GOTOOLCHAIN", "local").output().expect("go runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let dist: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect();
        assert_eq!(listed, dist);
    }

    #[test]
    fn linking_and_suffixes() {
        assert_eq!(linking("linux/amd64"), Some(Linking::Static));
        assert_eq!(linking("darwin/arm64"), Some(Linking::Dynamic));
        assert_eq!(linking("windows/amd64"), Some(Linking::Other));
        assert_eq!(linking("ios/arm64"), Some(Linking::NeedsCgo));
        assert_eq!(linking("linux/x86_64"), None);
        assert_eq!(executable_suffix("windows/arm64"), ".exe");
        assert_eq!(executable_suffix("wasip1/wasm"), ".wasm");
        assert_eq!(executable_suffix("linux/arm64"), "");
    }

    #[test]
    fn the_go_directive_is_found() {
        let text = "// the module\nmodule example.com/x\n\ngo 1.23.4 // minimum\n\ntoolchain go1.24.1\n";
        let (v, range) = go_directive(text).unwrap();
        assert_eq!(v, "1.23.4");
        assert_eq!(&text[range], "1.23.4");
        assert_eq!(go_directive("module x\n"), None);
    }

    #[test]
    fn go_versions_agree_by_language_and_minimum() {
        let project = |go: &str| {
            let text = format!("project \"p\" {{\n    version \"1.0.0\"\n    {go}\n}}\n");
            crate::check(&text).spec.expect("model").base.project
        };
        let warns = |go: &str, module: &str| !go_mod_diagnostics(&project(go), &format!("module x\n\ngo {module}\n")).is_empty();
        assert!(!warns("go \"1.23\"", "1.23"));
        assert!(!warns("go \"1.23\"", "1.23.4"), "the 1.23 builder image is the newest 1.23");
        assert!(!warns("go \"1.23.5\"", "1.23.4"));
        assert!(warns("go \"1.23.2\"", "1.23.4"), "older than the module needs");
        assert!(warns("go \"1.22\"", "1.23"));
        assert!(warns("go \"1.24\"", "1.23"));
        assert!(warns("", "1.24"), "the default builder is 1.23");
        assert!(!warns("", "1.23.0"));
    }
}
