//! `build/build.sh`: reproducible, static, version-stamped binaries of every workload
//! built from source, for every platform of the project, with checksums.

use super::templates::Templates;
use serde::Serialize;

use super::templates::render;
use super::{Options, Sink};
use crate::check::model::{Spec, Version};

#[derive(Serialize)]
struct Context<'a> {
    header: &'a str,
    spec_name: &'a str,
    project: &'a str,
    go_version: Option<&'a str>,
    platforms: Vec<&'a str>,
    /// The spec's literal version, when it has one.
    version: Option<&'a str>,
    stamp_version: &'a str,
    stamp_commit: &'a str,
    /// `VAR=VALUE` of the further `-X` stamps.
    stamps: Vec<String>,
    /// Platforms whose executables carry a suffix (`.exe`), with it.
    suffixes: Vec<(&'a str, &'static str)>,
    /// Platforms whose executables are not static ELF files, so not checked for it.
    not_static: Vec<&'a str>,
    /// Platforms whose binaries `go version -m` cannot read.
    unreadable: Vec<&'a str>,
    workloads: Vec<Binary<'a>>,
}

#[derive(Serialize)]
struct Binary<'a> {
    name: &'a str,
    binary: &'a str,
    main: &'a str,
}

pub use crate::check::targets::build::binary;

/// The further `-X` stamps of a project, `VAR=VALUE`, in the spec's order.
pub fn stamps(p: &crate::check::model::Project) -> Vec<String> {
    p.stamps.iter().map(|s| format!("{}={}", s.variable.value, s.value.value)).collect()
}

pub fn emit(spec: &Spec, opts: &Options, env: &Templates, header: &str, out: &mut dyn Sink) -> Result<(), String> {
    let p = &spec.base.project;
    let workloads: Vec<Binary> =
        spec.base.workloads.values().filter_map(|w| binary(w).map(|(binary, main)| Binary { name: &w.name.value, binary, main })).collect();
    if workloads.is_empty() {
        return Ok(());
    }
    let ctx = Context {
        header,
        spec_name: &opts.spec_name,
        project: &p.name.value,
        go_version: p.go.as_ref().map(|g| g.value.as_str()),
        platforms: p.platforms(),
        version: match &p.version {
            Version::Literal(v) => Some(&v.value),
            Version::Git => None,
        },
        stamp_version: p.stamp_version(),
        stamp_commit: p.stamp_commit(),
        stamps: stamps(p),
        suffixes: p
            .platforms()
            .into_iter()
            .map(|platform| (platform, crate::check::platforms::executable_suffix(platform)))
            .filter(|(_, suffix)| !suffix.is_empty())
            .collect(),
        not_static: p
            .platforms()
            .into_iter()
            .filter(|platform| crate::check::platforms::linking(platform) != Some(crate::check::platforms::Linking::Static))
            .collect(),
        unreadable: p.platforms().into_iter().filter(|platform| !crate::check::platforms::build_info_readable(platform)).collect(),
        workloads,
    };
    let text = render(env, "build.sh", &ctx)?;
    out.add_executable("build/build.sh".to_owned(), text)?;
    Ok(())
}
