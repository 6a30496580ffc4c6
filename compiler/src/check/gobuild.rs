//! What the Go toolchain accepts, checked before build.sh and the Dockerfiles ask it:
//! the platforms Go 1.23 builds for (`stdlib/go-platforms.txt`, embedded), the `-X`
//! stamps, and whether the spec's Go version agrees with the module's `go.mod`.
//!
//! The core reads no file: the CLI reads `go.mod` beside the spec (never through a
//! symlink) and hands its text to [`go_mod_diagnostics`].

use crate::check::model::Project;
use crate::check::platforms::{Linking, linking};
use crate::diagnostics::{self as diag, Diagnostic};

/// The Go toolchain version builder images use when the spec names none.
pub const DEFAULT_GO: &str = "1.23";

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
    let spec = project.go.as_ref().map_or(DEFAULT_GO, |g| g.value.as_str());
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
