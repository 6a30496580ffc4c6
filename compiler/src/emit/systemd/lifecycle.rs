//! `systemd/<env>/lifecycle.sh`: what an operator runs on a host of a systemd environment
//! to install a release, upgrade to a newer one, or go back to the previous one.
//!
//! A deploy on a host is one `lifecycle.sh install VERSION DIST`: the binaries go into
//! `/opt/<project>/releases/<VERSION>/` with the units and environment files of this
//! directory; users, directories and credential files are put in place; the `current`
//! link switches to the new release in one rename; run-once jobs run once, with their
//! retries, before what depends on them; services restart in dependency order and must
//! pass their readiness checks. If any step after the switch fails, the previous release
//! is switched back and restarted, and the script exits 1.

use crate::emit::templates::Templates;
use serde::Serialize;

use super::{since, unit_name};
use crate::check::model::{Environment as Env, ProbeCheck};
use crate::emit::build::binary;
use crate::emit::{Sink, templates::render};

#[derive(Serialize)]
struct Lifecycle<'a> {
    header: &'a str,
    floor: u32,
    project: &'a str,
    environment: &'a str,
    /// Named users the units run as: created from a `sysusers.d` entry.
    users: Vec<String>,
    /// Groups the units run with (`systemd { group }`): created when missing.
    groups: Vec<String>,
    /// Directories the units cannot create themselves, with their owner and group: state
    /// directories (and volumes' directories) below `StateDirectory=`, and the writable
    /// paths a sandbox asks for.
    state_dirs: Vec<(String, String, String)>,
    /// Where volumes and configuration files are mounted into the services: created empty
    /// on the host when missing (a directory, or a file).
    mount_points: Vec<(String, bool)>,
    /// The configuration files of a release, relative to this directory and to the release.
    files: Vec<String>,
    binaries: Vec<String>,
    steps: Vec<Step>,
    /// Credential files copied for the service user where `LoadCredential=` does not exist.
    copies: Vec<Copy>,
    secret_envs: Vec<SecretEnv>,
    /// Every file a secret is read from: all must exist before anything changes.
    sources: Vec<String>,
    /// Calendar times are in the host's zone below systemd 228: the host must be on UTC.
    utc: bool,
    /// Below `MemoryMax=`: each unit's memory limit in bytes, written as a drop-in in the
    /// form the host's systemd takes.
    memory: Vec<(String, u64)>,
    /// The nginx site in front of exposed ports, installed after the services are ready.
    site: Option<crate::emit::nginx::Install>,
}

#[derive(Serialize)]
struct Step {
    workload: String,
    unit: String,
    kind: &'static str,
    attempts: u32,
    retry_delay: u64,
    socket: bool,
    /// The readiness check: the port, and the HTTP path (empty for a TCP connect).
    ready: Option<(u16, String)>,
}

#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
struct Copy {
    source: String,
    dest: String,
    user: String,
}

#[derive(Serialize)]
struct SecretEnv {
    file: String,
    vars: Vec<(String, String)>,
}

pub fn emit(environment: &Env, floor: u32, env: &Templates, header: &str, dir: &str, out: &mut dyn Sink) -> Result<(), String> {
    let view = &environment.view;
    let project = view.project.name.value.as_str();
    let mut ctx = Lifecycle {
        header,
        floor,
        project,
        environment: &environment.name.value,
        users: Vec::new(),
        groups: Vec::new(),
        state_dirs: Vec::new(),
        mount_points: Vec::new(),
        files: Vec::new(),
        binaries: Vec::new(),
        steps: Vec::new(),
        copies: Vec::new(),
        secret_envs: Vec::new(),
        sources: Vec::new(),
        utc: false,
        memory: Vec::new(),
        site: crate::emit::nginx::install(environment),
    };
    let graph = crate::check::graph::build(view);
    for name in graph.dependency_order() {
        let Some(w) = view.workloads.get(name) else { continue };
        let Some((bin, _)) = binary(w) else { continue };
        let unit = unit_name(project, w);
        let user = super::user(project, w, floor);
        ctx.binaries.push(bin.to_owned());
        let host = super::storage::host_storage(project, &unit, w);
        if let Some(g) = &w.systemd.group {
            ctx.groups.push(g.clone());
        }
        if let Some(u) = &user {
            ctx.users.push(u.clone());
            let group = w.systemd.group.clone().unwrap_or_else(|| u.clone());
            if floor < since::STATE_DIRECTORY {
                ctx.state_dirs.push((format!("/var/lib/{unit}"), u.clone(), group.clone()));
                ctx.state_dirs.extend(host.directories.iter().map(|d| (d.clone(), u.clone(), group.clone())));
            }
            ctx.state_dirs.extend(w.systemd.sandbox.writable.iter().map(|p| (p.value.clone(), u.clone(), group.clone())));
        }
        ctx.mount_points.extend(host.mount_points);
        ctx.files.extend(host.files.into_iter().map(|(f, _)| f));
        let uses = super::secret_uses(view, w, floor);
        let mut vars = Vec::new();
        for u in &uses {
            ctx.sources.push(u.source.clone());
            if let Some(dest) = &u.copy_to {
                ctx.copies.push(Copy {
                    source: u.source.clone(),
                    dest: dest.clone(),
                    user: user.clone().unwrap_or_else(|| "root".to_owned()),
                });
            }
            if u.path.is_none() {
                vars.push((u.variable.clone(), u.source.clone()));
            }
        }
        if !vars.is_empty() {
            ctx.secret_envs.push(SecretEnv { file: super::secret_env_file(project, &unit), vars });
        }
        let kind = match () {
            _ if w.is_service() => "service",
            _ if w.is_scheduled() => "scheduled",
            _ => "once",
        };
        ctx.utc |= kind == "scheduled" && floor < since::CALENDAR_TIMEZONE;
        if let Some(bytes) = crate::emit::runtime::memory_max(w).filter(|_| floor < since::MEMORY_MAX) {
            ctx.memory.push((format!("{unit}.service"), bytes));
        }
        let socket = w.systemd.socket.is_some();
        let ready = w.health.ready.as_ref().and_then(|p| {
            let port = p.port.as_ref().and_then(|n| w.port(&n.value)).or(w.ports.first())?;
            match &p.check {
                ProbeCheck::Http(path) => Some((port.number.value, path.value.clone())),
                ProbeCheck::Tcp | ProbeCheck::Grpc => Some((port.number.value, String::new())),
                ProbeCheck::Exec(_) => None,
            }
        });
        let job = w.job();
        ctx.steps.push(Step {
            workload: w.name.value.clone(),
            unit,
            kind,
            // A run-once job: the spec's retries (2 by default), each after the restart delay.
            attempts: job.map_or(1, |j| j.retries.as_ref().map_or(3, |r| r.value + 1)),
            retry_delay: w.systemd.restart_sec.as_ref().map_or(5, |d| d.seconds()),
            socket,
            ready: ready.filter(|_| w.is_service()),
        });
    }
    ctx.users.sort();
    ctx.users.dedup();
    ctx.groups.sort();
    ctx.groups.dedup();
    ctx.mount_points.sort();
    ctx.mount_points.dedup();
    ctx.files.sort();
    ctx.binaries.sort();
    ctx.binaries.dedup();
    ctx.sources.sort();
    ctx.sources.dedup();
    ctx.copies.sort();
    ctx.copies.dedup();
    if ctx.steps.is_empty() {
        return Ok(());
    }
    out.add_executable(format!("{dir}/lifecycle.sh"), render(env, "lifecycle.sh", &ctx)?)?;
    Ok(())
}
