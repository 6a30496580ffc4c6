//! `docker/<workload>.Dockerfile`: a multi-stage, cache-friendly, non-root image for every
//! workload built from source, and the ignore file BuildKit reads beside it.

use super::templates::Templates;
use serde::Serialize;

use super::templates::render;
use super::{Options, Sink, build::binary, deploy_version};
use crate::check::model::{Protocol, Spec};

#[derive(Serialize)]
struct Context<'a> {
    header: &'a str,
    spec_name: &'a str,
    project: &'a str,
    name: &'a str,
    /// The image's name in the registry, its OCI title.
    title: String,
    binary: &'a str,
    main: &'a str,
    builder: String,
    runtime: Runtime,
    /// The link flags: stripped, stamped, no build ID.
    ldflags: String,
    version: String,
    source: Option<&'a str>,
    expose: Vec<String>,
    entrypoint: String,
    output_dir: Option<&'a str>,
    /// `docker { binary … }`: further main packages built into the image, (name, main).
    binaries: Vec<(&'a str, &'a str)>,
    /// `docker { copy … }`: files of the module copied into the image, (source, to).
    copies: Vec<(String, &'a str)>,
}

#[derive(Serialize)]
struct Runtime {
    image: &'static str,
    user: &'static str,
    scratch: bool,
}

/// The Go toolchain version builder images use when the spec names none.
pub use crate::check::gobuild::DEFAULT_GO;

fn runtime(kind: Option<&str>) -> Runtime {
    match kind {
        Some("scratch") => Runtime { image: "scratch", user: "65534:65534", scratch: true },
        Some("alpine") => Runtime { image: "alpine:3.20", user: "65534:65534", scratch: false },
        // distroless/static's `nonroot` user.
        _ => Runtime { image: "gcr.io/distroless/static-debian12:nonroot", user: "65532:65532", scratch: false },
    }
}

/// The `-ldflags` of every `go build` in an image: the same as build.sh's.
fn ldflags(p: &crate::check::model::Project) -> String {
    let mut out = format!("-s -w -X '{}=${{VERSION}}' -X '{}=${{COMMIT}}'", p.stamp_version(), p.stamp_commit());
    for s in super::build::stamps(p) {
        out.push_str(&format!(" -X '{s}'"));
    }
    out.push_str(" -buildid=");
    out
}

pub fn emit(spec: &Spec, opts: &Options, env: &Templates, header: &str, out: &mut dyn Sink) -> Result<(), String> {
    let p = &spec.base.project;
    let go = p.go.as_ref().map_or(DEFAULT_GO, |g| g.value.as_str());
    for w in spec.base.workloads.values() {
        let Some((binary, main)) = binary(w) else { continue };
        // The image's ENTRYPOINT holds the binary alone: the workload's arguments belong to
        // where it runs (the pod's `args`, the unit's ExecStart=), so an environment can
        // change them and Kubernetes does not pass them twice.
        let argv = [format!("/{binary}")];
        let ctx = Context {
            header,
            spec_name: &opts.spec_name,
            project: &p.name.value,
            name: &w.name.value,
            title: crate::check::images::repository(&spec.base, w),
            binary,
            main,
            builder: format!("golang:{go}-bookworm"),
            runtime: runtime(w.docker.runtime.as_deref()),
            ldflags: ldflags(p),
            version: deploy_version(spec, opts).0,
            source: p.source.as_ref().map(|s| s.value.as_str()),
            expose: w
                .ports
                .iter()
                .map(|port| match port.protocol {
                    Protocol::Tcp => port.number.value.to_string(),
                    Protocol::Udp => format!("{}/udp", port.number.value),
                })
                .collect(),
            entrypoint: super::inert::dockerfile_exec_form(&argv)?,
            output_dir: opts.output_dir.as_deref(),
            binaries: w.docker.binaries.iter().map(|b| (b.name.value.as_str(), b.main.value.as_str())).collect(),
            // The build context is the spec's directory: a source is written relative to it.
            copies: w
                .docker
                .copies
                .iter()
                .map(|c| {
                    let source = c.source.value.trim_start_matches("./");
                    (if source.is_empty() || source == "." { ".".to_owned() } else { source.to_owned() }, c.to.value.as_str())
                })
                .collect(),
        };
        let name = &w.name.value;
        let dockerfile = render(env, "Dockerfile", &ctx)?;
        out.add(format!("docker/{name}.Dockerfile"), dockerfile)?;
        let ignore = render(env, "dockerignore", &ctx)?;
        out.add(format!("docker/{name}.Dockerfile.dockerignore"), ignore)?;
    }
    Ok(())
}
