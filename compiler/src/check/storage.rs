//! What a workload asks of the place it runs, checked once for every platform: its volumes
//! and configuration files (where they are mounted, what a claim may say), its command and
//! the capabilities it keeps.
//!
//! A mount path is where the program finds the directory or file on every platform: a
//! `volumeMount` on Kubernetes, a `BindPaths=`/`BindReadOnlyPaths=` on hosts. So it must be
//! a path both can give a program without hiding what the system needs there.

use super::Sink;
use super::targets::systemd::since;
use crate::check::model::{Environment, Platform, View, Workload};
use crate::diagnostics as diag;
use crate::span::{Span, Spanned};

/// Directories that belong to the system (or to hawser's own mounts): nothing is mounted at
/// them or below them, with what each one is.
const RESERVED_TREES: &[(&str, &str)] = &[
    ("/proc", "the kernel's view of processes is there"),
    ("/sys", "the kernel's view of devices is there"),
    ("/dev", "the devices are there"),
    ("/tmp", "every instance has its own /tmp already (an emptyDir on Kubernetes, PrivateTmp= on hosts)"),
    ("/var/tmp", "every instance has its own /var/tmp already (PrivateTmp= on hosts)"),
    ("/run", "the system's runtime state (and systemd's credentials) is there"),
    ("/var/run", "the system's runtime state (and the secrets hawser mounts) is there"),
    ("/home", "home directories are hidden from services (ProtectHome=)"),
    ("/root", "home directories are hidden from services (ProtectHome=)"),
    ("/boot", "the boot loader's files are there"),
    ("/usr", "the system's programs and libraries are there"),
    ("/bin", "the system's programs are there"),
    ("/sbin", "the system's programs are there"),
    ("/lib", "the system's libraries are there"),
    ("/lib32", "the system's libraries are there"),
    ("/lib64", "the system's libraries are there"),
    ("/libx32", "the system's libraries are there"),
];

/// Directories a mount would hide whole: mounting below them is fine.
const RESERVED_EXACT: &[&str] = &["/", "/etc", "/var", "/var/lib", "/var/cache", "/opt", "/srv", "/mnt", "/media"];

/// Shared directories of a host that a service cannot be given whole: the lifecycle script
/// makes a writable path the service user's own (mode 0700), which would lock every other
/// program out of them. A directory of its own below them is fine.
const SHARED_EXACT: &[&str] = &[
    "/",
    "/etc",
    "/var",
    "/var/lib",
    "/var/cache",
    "/var/log",
    "/var/spool",
    "/var/mail",
    "/var/backups",
    "/var/opt",
    "/var/local",
    "/opt",
    "/srv",
    "/mnt",
    "/media",
];

/// The checks of one workload in one view (the base spec, or an environment's).
pub(super) fn check_workload(view: &View, w: &Workload, env: Option<&Environment>, sink: &mut Sink) {
    let name = w.name.value.as_str();
    let project = view.project.name.value.as_str();
    let binary = super::targets::build::binary(w).map(|(b, _)| b);
    let mut mounts: Vec<(&str, Span)> = Vec::new();
    for v in &w.volumes {
        if ["tmp", super::targets::kubernetes::FILES_VOLUME].contains(&v.name.value.as_str()) || v.name.value.starts_with("secret-") {
            sink.error(diag::volume_name(&v.name.value, v.name.span));
        }
        mount_path(&v.path.value, v.path.span, project, binary, sink);
        mounts.push((&v.path.value, v.path.span));
        if !v.persistent {
            for (setting, value) in [("storage-class", &v.storage_class), ("access", &v.access)] {
                if let Some(value) = value {
                    sink.error(diag::ephemeral_storage_setting(setting, value.span, &v.name.value));
                }
            }
        } else if !w.is_service() {
            sink.error(diag::persistent_job(&v.name.value, v.persistent_span.unwrap_or(v.span), name));
        }
    }
    if let Some(v) = w.volumes.iter().find(|v| v.persistent).filter(|_| w.is_service() && name.chars().count() > 52) {
        sink.error(diag::stateful_name(name, w.name.span, v.persistent_span.unwrap_or(v.span)));
    }
    for (i, f) in w.files.iter().enumerate() {
        mount_path(&f.path.value, f.path.span, project, binary, sink);
        mounts.push((&f.path.value, f.path.span));
        if let Some(first) = w.files[..i].iter().find(|o| o.key() == f.key()) {
            sink.error(diag::file_name_clash(&f.key(), f.path.span, first.path.span, name));
        }
    }
    for (i, (path, span)) in mounts.iter().enumerate() {
        let clash = mounts[..i].iter().chain(mounts[i + 1..].iter()).find(|(other, _)| inside(path, other));
        // Each pair once: at the inner mount, or at the later of two at the same path.
        if let Some((other, other_span)) = clash
            && (path != other || mounts[..i].iter().any(|(o, _)| o == path))
        {
            sink.error(diag::mount_overlap(path, *span, other, *other_span, name));
        }
    }
    for path in &w.systemd.sandbox.writable {
        writable_path(path, project, &mounts, sink);
    }
    if let (Some(binary), Some(program)) = (binary, w.command.first())
        && program.value != format!("/{binary}")
    {
        sink.error(diag::command_program(&program.value, program.span, binary));
    }
    if let Some(env @ Environment { platform: Some(Platform::Kubernetes { .. }), .. }) = env {
        for c in w.capabilities.iter().filter(|c| c.value != "CAP_NET_BIND_SERVICE") {
            sink.warn(view, Some(w), diag::capability_on_kubernetes(&c.value, c.span, &env.name.value));
        }
        for p in &w.systemd.sandbox.writable {
            sink.warn(view, Some(w), diag::writable_on_kubernetes(name, &p.value, p.span, &env.name.value));
        }
    }
}

/// What a workload's volumes and files ask of an environment's oldest systemd: both are
/// mounted into the service's namespace (`BindPaths=`, `BindReadOnlyPaths=`).
pub(super) fn check_systemd_floor(w: &Workload, floor: u32, env_name: &str, sink: &mut Sink) {
    if floor >= since::BIND_PATHS {
        return;
    }
    let first = w.volumes.iter().map(|v| v.path.span).chain(w.files.iter().map(|f| f.path.span)).next();
    if let Some(span) = first {
        sink.error(diag::systemd_floor(
            "mounting a volume or a configuration file at its path (`BindPaths=`)",
            since::BIND_PATHS,
            floor,
            span,
            env_name,
            "do without the volumes and files there",
        ));
    }
}

/// Whether a volume is persistent cannot change per environment: it decides whether the
/// service is a Deployment or a StatefulSet, and whether its data is kept at all.
pub(super) fn check_overlay(env: &Environment, base: &View, sink: &mut Sink) {
    for w in env.view.workloads.values() {
        let Some(b) = base.workloads.get(&w.name.value) else { continue };
        for v in &w.volumes {
            let Some(bv) = b.volumes.iter().find(|bv| bv.name.value == v.name.value) else { continue };
            if bv.persistent != v.persistent {
                sink.error(diag::not_overridable(
                    "persistent",
                    v.persistent_span.filter(|s| Some(*s) != bv.persistent_span).unwrap_or(v.span),
                    "a persistent volume makes the service a StatefulSet on Kubernetes and keeps its data on hosts; a volume is persistent in every environment or in none (declare another volume for what differs)",
                ));
            }
        }
    }
}

/// Reports a mount path no platform can give the program.
fn mount_path(path: &str, span: Span, project: &str, binary: Option<&str>, sink: &mut Sink) {
    let trimmed = path.trim_end_matches('/');
    let (why, fix): (String, &str) = if path.contains(':') {
        (
            "a `:` separates the two paths of a bind mount on hosts, and Kubernetes refuses it in a mount path".to_owned(),
            "choose a path without `:`",
        )
    } else if path.split('/').any(|s| s == ".") || (path.len() > 1 && path.ends_with('/')) || path.contains("//") {
        ("it is not in its plain form".to_owned(), "write the path without `.` components, doubled or trailing `/`")
    } else if RESERVED_EXACT.contains(&trimmed) || trimmed.is_empty() {
        (
            format!("a mount there would hide all of `{}`", if trimmed.is_empty() { "/" } else { trimmed }),
            "mount it in a directory of its own below, such as `/data` or `/etc/<program>/config.yaml`",
        )
    } else if let Some((_, what)) = RESERVED_TREES.iter().find(|(tree, _)| inside(path, tree)) {
        ((*what).to_owned(), "mount it in a directory of its own, such as `/data` or `/etc/<program>/config.yaml`")
    } else if inside(path, &format!("/opt/{project}")) {
        ("hosts keep the project's releases there".to_owned(), "mount it in a directory of its own, such as `/data`")
    } else if let Some(b) = binary.filter(|b| inside(path, &format!("/{b}"))) {
        (format!("the image holds the program `/{b}` there"), "mount it in a directory of its own, such as `/data`")
    } else {
        return;
    };
    sink.error(diag::mount_path(path, span, &why, fix));
}

/// Reports a writable path (`systemd { sandbox { writable … } }`) the lifecycle script cannot
/// give the service: it creates the directory on every host and makes it the service user's
/// own, mode 0700.
fn writable_path(path: &Spanned<String>, project: &str, mounts: &[(&str, Span)], sink: &mut Sink) {
    if let Some(why) = writable_problem(&path.value, project, mounts) {
        sink.error(diag::writable_path(&path.value, path.span, &why));
    }
}

/// Why a writable path cannot be given, if it cannot.
fn writable_problem(p: &str, project: &str, mounts: &[(&str, Span)]) -> Option<String> {
    let trimmed = p.trim_end_matches('/');
    let why: String = if p.split('/').any(|s| s == "." || s == "..") || (p.len() > 1 && p.ends_with('/')) || p.contains("//") {
        "it is not in its plain form (`.` components, doubled or trailing `/`)".to_owned()
    } else if trimmed.is_empty() || SHARED_EXACT.contains(&trimmed) {
        format!(
            "`{}` is shared by every program of the host, and the service user would own it alone",
            if trimmed.is_empty() { "/" } else { trimmed }
        )
    } else if let Some((_, what)) = RESERVED_TREES.iter().find(|(tree, _)| inside(p, tree)) {
        format!("{what}, and a service is given none of it")
    } else if inside(p, &format!("/opt/{project}")) {
        "hosts keep the project's releases there, read-only".to_owned()
    } else if inside(p, &format!("/etc/{project}")) {
        "the project's environment files and secrets are there, which one service must not own".to_owned()
    } else if let Some((mount, _)) = mounts.iter().find(|(m, _)| inside(p, m) || inside(m, p)) {
        format!("the service finds its volume or file `{mount}` there, not the host's directory")
    } else {
        return None;
    };
    Some(why)
}

/// Two workloads of a systemd environment given the same writable path, or one inside the
/// other's: the lifecycle script makes it the own of each service user in turn, and only the
/// last one could write it.
pub(super) fn check_shared_writable(view: &View, env_name: &str, sink: &mut Sink) {
    let project = view.project.name.value.as_str();
    let mut seen: Vec<(&str, &str, Span)> = Vec::new();
    for w in view.workloads.values().filter(|w| w.source.is_some()) {
        // A path refused on its own is reported once, as that.
        for path in w.systemd.sandbox.writable.iter().filter(|p| writable_problem(&p.value, project, &[]).is_none()) {
            let clash = seen.iter().find(|(other, p, _)| *other != w.name.value && (inside(&path.value, p) || inside(p, &path.value)));
            if let Some((other, p, span)) = clash {
                sink.error(diag::writable_shared(&path.value, path.span, &w.name.value, p, *span, other, env_name));
            }
            seen.push((&w.name.value, &path.value, path.span));
        }
    }
}

/// Whether `path` is `dir` or below it.
fn inside(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    path == dir || path.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/')) || dir.is_empty()
}

#[cfg(test)]
mod tests {
    use super::inside;

    #[test]
    fn inside_means_the_same_or_below() {
        assert!(inside("/data", "/data"));
        assert!(inside("/data/x", "/data"));
        assert!(!inside("/database", "/data"));
        assert!(!inside("/data", "/data/x"));
        assert!(inside("/tmp/x", "/tmp"));
    }
}
