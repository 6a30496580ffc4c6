//! Images: the reference deploy artifacts run for each workload, what goes into the image
//! of a workload built from source (`docker { copy …; binary … }`), and the registry
//! credentials pods pull with (`runs-on "kubernetes" { pull-secret … }`).
//!
//! An image built from source is `REGISTRY/REPOSITORY:VERSION`, with the project's
//! registry and `<project>-<workload>` unless the workload's `docker` block names others,
//! and `@DIGEST` when it pins one. What goes into the image cannot change per environment
//! (one Dockerfile serves them all); where it is pulled from, and its digest, can.

use crate::check::model::{Environment, SecretSource, Source, View, Workload};
use crate::diagnostics::{self as diag, Diagnostic};
use crate::syntax::{Node, Value};

/// The key of a registry credential in a Secret of type `kubernetes.io/dockerconfigjson`.
pub const DOCKER_CONFIG_KEY: &str = ".dockerconfigjson";

/// The image a workload runs: a prebuilt `image` as written; a built one as
/// `REGISTRY/REPOSITORY:VERSION[@DIGEST]`.
pub fn reference(view: &View, w: &Workload, version: &str) -> String {
    if let Some(Source::Image { reference, .. }) = &w.source {
        return reference.value.clone();
    }
    let registry = w.docker.registry.as_ref().or(view.project.registry.as_ref()).map_or("", |r| r.value.as_str());
    let repository = repository(view, w);
    let digest = w.docker.digest.as_ref().map_or(String::new(), |d| format!("@{}", d.value));
    format!("{registry}/{repository}:{version}{digest}").trim_start_matches('/').to_owned()
}

/// The name in the registry of the image built for a workload: its `docker` block's
/// `repository`, or `<project>-<workload>`. The image's title says the same.
pub fn repository(view: &View, w: &Workload) -> String {
    w.docker.repository.as_ref().map_or_else(|| format!("{}-{}", view.project.name.value, w.name.value), |r| r.value.clone())
}

/// What a workload's `docker` block asks that cannot be: image settings on a prebuilt
/// image, and files or binaries that would land on each other or on the workload's own
/// binary.
pub fn check(view: &View) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for w in view.workloads.values() {
        let d = &w.docker;
        let Some(docker_span) = d.span else { continue };
        let Some((binary, main)) = crate::check::targets::build::binary(w) else {
            if let Some(Source::Image { span, .. }) = &w.source {
                out.push(diag::image_settings_on_prebuilt(&w.name.value, docker_span, *span));
            }
            continue;
        };
        // Every path the runtime image holds, with what puts it there.
        let mut taken: Vec<(String, String)> = vec![(format!("/{binary}"), format!("the binary `{binary}`"))];
        for b in &d.binaries {
            let path = format!("/{}", b.name.value);
            if let Some((_, what)) = taken.iter().find(|(p, _)| *p == path) {
                out.push(diag::image_path(format!("`{path}` is already {what}"), b.name.span, "give the binary another name"));
                continue;
            }
            if b.main.value.trim_end_matches('/') == main.trim_end_matches('/') {
                out.push(diag::image_path(
                    format!("`{}` is the workload's own main package, built as `/{binary}`", b.main.value),
                    b.main.span,
                    "name another main package of the module",
                ));
                continue;
            }
            taken.push((path, format!("the binary `{}`", b.name.value)));
        }
        for c in &d.copies {
            // What the Dockerfile's ignore file leaves out of the build context
            // (`emit/docker.rs`): a copy from there finds nothing.
            let parts: Vec<&str> = c.source.value.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
            if parts.first().is_some_and(|p| IGNORED.contains(p)) || parts.contains(&"testdata") {
                out.push(diag::image_path(
                    format!("`{}` is left out of the image's build context (`.dockerignore`)", c.source.value),
                    c.source.span,
                    "the build context leaves out `.git`, `.github`, `dist`, `testdata` and test files; copy from elsewhere in the module",
                ));
                continue;
            }
            let to = c.to.value.trim_end_matches('/');
            if to.is_empty() {
                out.push(diag::image_path(
                    "a copy to `/` would replace the image's root".to_owned(),
                    c.to.span,
                    "copy into a directory of its own: `to=\"/static\"`",
                ));
                continue;
            }
            let clash = taken.iter().find(|(p, _)| p == to || p.starts_with(&format!("{to}/")) || to.starts_with(&format!("{p}/")));
            if let Some((p, what)) = clash {
                let message = if p == to { format!("`{to}` is already {what}") } else { format!("`{to}` overlaps `{p}`, which is {what}") };
                out.push(diag::image_path(message, c.to.span, "copy it somewhere else"));
                continue;
            }
            taken.push((to.to_owned(), format!("where `{}` is copied", c.source.value)));
        }
    }
    out
}

/// The top-level entries of the module the images' build context leaves out.
const IGNORED: [&str; 3] = [".git", ".github", "dist"];

/// What is at a path of the module, as the command line finds it (never following a
/// symlink).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    File,
    Dir,
    Symlink,
    Missing,
}

/// W0922 for each `copy` whose source the module does not hold as a file or directory:
/// the image build would fail, or copy a link. `find` looks a path of the module up
/// (relative to the spec's directory, without `./`); the core reads no file.
pub fn copy_sources(view: &View, find: impl Fn(&str) -> Found) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for w in view.workloads.values() {
        for c in &w.docker.copies {
            let rel = c.source.value.trim_start_matches("./").trim_end_matches('/');
            let parts: Vec<&str> = rel.split('/').collect();
            // Outside the build context: E0944 already says so.
            let ignored = parts.first().is_some_and(|p| IGNORED.contains(p)) || parts.contains(&"testdata");
            if rel.is_empty() || rel == "." || ignored {
                continue;
            }
            let found = find(rel);
            if matches!(found, Found::Missing | Found::Symlink) && !w.allows(diag::code::IMAGE_SOURCE.id) {
                out.push(diag::image_source(&c.source.value, c.source.span, found == Found::Symlink));
            }
        }
    }
    out
}

/// Each `pull-secret` of a Kubernetes environment is a declared secret whose source is an
/// existing registry credential (`kubernetes="NAME/.dockerconfigjson"`): only such a
/// Secret is what `imagePullSecrets` names.
pub fn check_pull_secrets(view: &View, env: &Environment) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let declared: Vec<&str> = view.secrets.keys().map(String::as_str).collect();
    for p in &env.pull_secrets {
        match view.secrets.get(&p.value) {
            None if view.poisoned.contains(&p.value) => {}
            None => out.push(diag::unknown_secret(&p.value, p.span, &declared)),
            Some(s) => match &s.source {
                Some(SecretSource::Kubernetes { key, .. }) if key == DOCKER_CONFIG_KEY => {}
                Some(source) => out.push(diag::pull_secret_source(&p.value, p.span, source.kind(), s.span)),
                None => {}
            },
        }
    }
    out
}

/// The Secrets an environment's pods pull with, by their Kubernetes names.
pub fn pull_secret_names(view: &View, env: &Environment) -> Vec<String> {
    let mut names: Vec<String> = env
        .pull_secrets
        .iter()
        .filter_map(|p| match view.secrets.get(&p.value)?.source.as_ref()? {
            SecretSource::Kubernetes { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// In an environment's overlay of a workload: what goes into the image cannot change
/// there (one Dockerfile serves every environment); where it is pulled from can.
pub fn overlay_checks(overlay: &Node, diags: &mut Vec<Diagnostic>) {
    for docker in overlay.children().iter().filter(|c| c.name.value == "docker") {
        for c in docker.children().iter().filter(|c| matches!(c.name.value.as_str(), "runtime" | "copy" | "binary")) {
            let what = match c.args.first().map(|a| &a.value) {
                Some(Value::String(s)) if c.name.value != "runtime" => format!("docker {} \"{s}\"", c.name.value),
                _ => format!("docker {}", c.name.value),
            };
            diags.push(diag::not_overridable(
                &what,
                c.name.span,
                "one image serves every environment, so what goes into it is the same everywhere; an environment may change `registry`, `repository` and `digest`, which say where the image is pulled from",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_oci_references() {
        let text = r#"
project "podinfo" {
    registry "ghcr.io/acme"
    version "6.7.1"
}
service "podinfo" {
    build "go" main="./cmd/podinfo"
    memory limit="64Mi"
    docker {
        registry "registry.example.com:5000/mirror"
        repository "stefanprodan/podinfo"
        digest "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    }
}
service "plain" {
    build "go" main="./cmd/plain"
    memory limit="64Mi"
}
"#;
        let analysis = crate::check(text);
        assert!(!analysis.has_errors(), "{:?}", analysis.diagnostics);
        let spec = analysis.spec.unwrap();
        let view = &spec.base;
        let podinfo = reference(view, &view.workloads["podinfo"], "6.7.1");
        assert_eq!(
            podinfo,
            "registry.example.com:5000/mirror/stefanprodan/podinfo:6.7.1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        );
        assert_eq!(reference(view, &view.workloads["plain"], "6.7.1"), "ghcr.io/acme/podinfo-plain:6.7.1");
        for r in [podinfo, reference(view, &view.workloads["plain"], "6.7.1")] {
            let parsed = crate::check::values::ImageRef::parse(&r).unwrap_or_else(|e| panic!("{r}: {}", e.message));
            assert!(parsed.is_pinned());
        }
    }
}
