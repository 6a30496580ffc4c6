//! `systemd/<env>/`: hardened units for every workload of a systemd environment — a
//! `.service` per service, a oneshot per run-once job, a `.service` and `.timer` per
//! scheduled job, a `.socket` where socket activation is asked — the `EnvironmentFile`
//! with each workload's non-secret environment, and `lifecycle.sh`, which installs a
//! release on a host (see [`lifecycle`]).
//!
//! Every unit loads on the environment's systemd floor (`runs-on "systemd" min-version=`):
//! what that version does not know is left out or replaced by its older form, and the
//! unit's header says the floor (`systemd >= N`) so that a checker can hold it to it.
//!
//! Install layout the units assume: releases in `/opt/<project>/releases/<version>/`, the
//! running one linked as `/opt/<project>/current`, environment files in
//! `/etc/<project>/`, credentials in systemd's credential store (`/etc/credstore/`, where
//! a Vault agent or the operator puts them), except `file=` secrets, which are read from
//! their path.

pub mod lifecycle;
pub mod storage;

use super::templates::Templates;
use serde::Serialize;

use super::templates::render;
use super::{Sink, build::binary, runtime};
use crate::check::model::{EnvValue, Environment as Env, Platform, Protocol, SecretSource, View, Workload, WorkloadKind};

pub use crate::check::targets::systemd::since;

#[derive(Serialize)]
struct Unit<'a> {
    header: &'a str,
    floor: u32,
    name: String,
    description: String,
    documentation: Option<&'a str>,
    after: Vec<String>,
    wants: Vec<String>,
    requires: Vec<String>,
    kind: &'static str,
    notify: bool,
    exec_start: Vec<String>,
    user: Option<String>,
    environment_files: Vec<String>,
    environment: Vec<(String, String)>,
    credentials: Vec<String>,
    restart: bool,
    restart_sec: u64,
    start_limit_burst: u32,
    timeout_stop_sec: u64,
    timeout_start_sec: Option<u64>,
    memory_max: Option<u64>,
    cpu_quota: Option<String>,
    install: bool,
    port_names: Vec<String>,
    state_directory: String,
    limit_nofile: u64,
    /// `sandbox { writable … }`, quoted for a unit's path list.
    writable: Vec<String>,
    address_families: Vec<String>,
    /// Capabilities the service keeps: the spec's, and `CAP_NET_BIND_SERVICE` for a
    /// port below 1024.
    capabilities: Vec<String>,
    /// `systemd { group }`.
    group: Option<String>,
    /// `systemd { reload-signal }`, without its `SIG`.
    reload_signal: Option<String>,
    /// The unit's volumes and configuration files.
    state_directories: Vec<String>,
    cache_directories: Vec<String>,
    binds: Vec<String>,
    read_only_binds: Vec<String>,
    storage_notes: Vec<String>,
}

#[derive(Serialize)]
struct Timer<'a> {
    header: &'a str,
    floor: u32,
    name: String,
    description: String,
    on_calendar: Vec<String>,
}

#[derive(Serialize)]
struct Socket<'a> {
    header: &'a str,
    floor: u32,
    name: String,
    description: String,
    port: u16,
}

#[derive(Serialize)]
struct EnvFile<'a> {
    header: &'a str,
    vars: Vec<(&'a str, &'a str)>,
}

/// The open-file limit every unit sets: the syscall filter stops the Go runtime from
/// raising its own soft limit, and systemd's default soft limit (1024) is too low for a
/// network server.
pub const LIMIT_NOFILE: u64 = 65536;

/// The directory units run binaries from: the `current` release's.
pub fn binary_dir(project: &str) -> String {
    format!("/opt/{project}/current/bin")
}

/// Where the credential store lives on a host: `vault=` and `env=` secrets are files
/// there, named after the secret.
pub const CREDSTORE: &str = "/etc/credstore";

/// How one secret reaches one workload on a host, at the environment's floor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SecretUse {
    /// The variable the program reads (`DB_PASSWORD_FILE`, or `DB_PASSWORD` for `as="env"`).
    pub variable: String,
    pub secret: String,
    /// The file on the host that holds the value.
    pub source: String,
    /// `as="file"`: where the program finds the file; `None` for `as="env"`.
    pub path: Option<String>,
    /// Below [`since::LOAD_CREDENTIAL`]: the lifecycle script copies `source` here, readable
    /// by the service's user only.
    pub copy_to: Option<String>,
}

/// The unit name of a workload: `<project>-<workload>`.
pub fn unit_name(project: &str, w: &Workload) -> String {
    format!("{project}-{}", w.name.value)
}

/// The user a unit runs as: the spec's, else a `DynamicUser=` from the floor that has
/// credentials, else the project's name (a system user the lifecycle script creates; its
/// first 32 characters, the most a user name has). A
/// workload with writable paths outside its state directory gets the named user too: a
/// dynamic user's id cannot own files that outlive it.
pub fn user(project: &str, w: &Workload, floor: u32) -> Option<String> {
    match &w.systemd.user {
        Some(u) => Some(u.clone()),
        None if floor >= since::LOAD_CREDENTIAL && w.systemd.sandbox.writable.is_empty() => None,
        // A user name has at most 32 characters; a project name may have 63.
        None => Some(project.chars().take(32).collect::<String>().trim_end_matches('-').to_owned()),
    }
}

/// The secrets of a workload and how each is delivered on a host, in variable order.
pub fn secret_uses(view: &View, w: &Workload, floor: u32) -> Vec<SecretUse> {
    let project = view.project.name.value.as_str();
    let unit = unit_name(project, w);
    let mut out = Vec::new();
    for v in w.env.values() {
        let EnvValue::Secret(s) = &v.value else { continue };
        let Some(secret) = view.secrets.get(&s.value) else { continue };
        let source = match &secret.source {
            Some(SecretSource::File(path)) => path.clone(),
            _ => format!("{CREDSTORE}/{}", s.value),
        };
        let (path, copy_to) = match () {
            _ if !secret.delivery.is_file() => (None, None),
            _ if floor >= since::CREDSTORE => (Some(format!("%d/{}", s.value)), None),
            _ if floor >= since::LOAD_CREDENTIAL => (Some(format!("/run/credentials/{unit}.service/{}", s.value)), None),
            _ => {
                let copy = format!("/etc/{project}/credentials/{unit}/{}", s.value);
                (Some(copy.clone()), Some(copy))
            }
        };
        out.push(SecretUse { variable: secret.delivery.variable(&v.key.value), secret: s.value.clone(), source, path, copy_to });
    }
    out.sort_by(|a, b| a.variable.cmp(&b.variable));
    out
}

/// The root-only environment file that holds the `as="env"` secrets of a unit.
pub fn secret_env_file(project: &str, unit: &str) -> String {
    format!("/etc/{project}/{unit}.secrets.env")
}

pub fn emit(
    environment: &Env,
    inputs: &crate::check::inputs::Inputs,
    env: &Templates,
    header: &str,
    out: &mut dyn Sink,
) -> Result<(), String> {
    let Some(platform @ Platform::Systemd { .. }) = &environment.platform else { return Ok(()) };
    let floor = platform.systemd_floor().unwrap_or(Platform::DEFAULT_SYSTEMD);
    let view = &environment.view;
    let project = view.project.name.value.as_str();
    let dir = format!("systemd/{}", environment.name.value);
    for w in view.workloads.values() {
        let Some((binary, _)) = binary(w) else { continue };
        let unit = unit_name(project, w);
        let plain = crate::check::references::plain_env(view, Some(environment), w);
        let literals: Vec<(&str, &str)> = plain.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut environment_vars = runtime::go_env(w);
        let mut credentials = Vec::new();
        let uses = secret_uses(view, w, floor);
        for u in &uses {
            let Some(path) = &u.path else { continue };
            environment_vars.push((u.variable.clone(), path.clone()));
            if floor >= since::LOAD_CREDENTIAL {
                let from_store = u.source == format!("{CREDSTORE}/{}", u.secret);
                credentials.push(if from_store && floor >= since::CREDSTORE {
                    u.secret.clone()
                } else {
                    format!("{}:{}", u.secret, u.source)
                });
            }
        }
        credentials.sort();
        credentials.dedup();
        environment_vars.sort();
        let mut environment_files = Vec::new();
        if !literals.is_empty() {
            environment_files.push(format!("/etc/{project}/{unit}.env"));
        }
        if uses.iter().any(|u| u.path.is_none()) {
            environment_files.push(secret_env_file(project, &unit));
        }
        let (after, wants, requires) = ordering(view, w, project);
        // The binary, then what `command` adds after it (the checker holds its first word to
        // the binary), then the arguments.
        let mut exec_start = vec![format!("{}/{binary}", binary_dir(project))];
        exec_start.extend(w.command.iter().skip(1).map(|a| super::inert::systemd_arg(&a.value)));
        exec_start.extend(w.args.iter().map(|a| super::inert::systemd_arg(&a.value)));
        let host = storage::host_storage(project, &unit, w);
        for f in &w.files {
            let contents = inputs
                .get(&f.input())
                .ok_or_else(|| format!("{}: the configuration file {} was not read", w.name.value, f.source.value))?;
            out.add(format!("{dir}/{}/{}", storage::files_dir(&unit), f.key()), contents.clone())?;
        }
        let job = w.job();
        let ctx = Unit {
            header,
            floor,
            name: unit.clone(),
            description: format!("{project} {} {} ({})", w.name.value, describe(w), environment.name.value),
            documentation: view.project.source.as_ref().map(|s| s.value.as_str()),
            after,
            wants,
            requires,
            kind: match &w.kind {
                WorkloadKind::Service => "service",
                WorkloadKind::Job(j) if j.schedule.is_some() => "scheduled",
                WorkloadKind::Job(_) => "once",
            },
            notify: w.systemd.notify,
            exec_start,
            user: user(project, w, floor),
            environment_files,
            environment: environment_vars,
            credentials,
            // A run-once job is retried by the lifecycle script, which runs it once per
            // deploy; a scheduled job by systemd, where the checker let it ask for retries.
            restart: w.is_scheduled() && job.and_then(|j| j.retries.as_ref()).is_some_and(|r| r.value > 0),
            restart_sec: w.systemd.restart_sec.as_ref().map_or(5, |d| d.seconds()),
            start_limit_burst: job.and_then(|j| j.retries.as_ref()).map_or(1, |r| r.value + 1),
            timeout_stop_sec: w.shutdown.grace_seconds(),
            timeout_start_sec: job.map(|j| j.timeout.as_ref().map_or(3600, |t| t.seconds())),
            memory_max: runtime::memory_max(w),
            cpu_quota: runtime::cpu_quota(w),
            writable: w.systemd.sandbox.writable.iter().map(|p| unit_path(&p.value)).collect(),
            address_families: w.systemd.sandbox.address_families.clone(),
            capabilities: capabilities(w),
            group: w.systemd.group.clone(),
            reload_signal: w.systemd.reload_signal.as_ref().map(|s| s.trim_start_matches("SIG").to_owned()),
            state_directories: host.state_directories,
            cache_directories: host.cache_directories,
            binds: host.binds,
            read_only_binds: host.read_only_binds,
            storage_notes: host.notes,
            install: w.is_service(),
            port_names: w.ports.iter().map(|p| format!("{} {}/{}", p.name.value, p.number.value, protocol(p.protocol))).collect(),
            state_directory: unit.clone(),
            limit_nofile: w.systemd.sandbox.limit_nofile.map_or(LIMIT_NOFILE, u64::from),
        };
        out.add(format!("{dir}/{unit}.service"), render(env, "unit.service", &ctx)?)?;
        if !literals.is_empty() {
            out.add(format!("{dir}/{unit}.env"), render(env, "unit.env", EnvFile { header, vars: literals })?)?;
        }
        if let Some(schedule) = job.and_then(|j| j.schedule.as_ref()) {
            let mut on_calendar =
                on_calendar(&schedule.value).ok_or_else(|| format!("{}: schedule `{}` does not convert", w.name.value, schedule.value))?;
            if floor < since::CALENDAR_TIMEZONE {
                // Older systemd reads calendar times in the host's zone only; the lifecycle
                // script refuses a host that is not on UTC.
                on_calendar = on_calendar.into_iter().map(|c| c.trim_end_matches(" UTC").to_owned()).collect();
            }
            let timer = Timer {
                header,
                floor,
                name: unit.clone(),
                description: format!("{project} {} schedule `{}` UTC ({})", w.name.value, schedule.value, environment.name.value),
                on_calendar,
            };
            out.add(format!("{dir}/{unit}.timer"), render(env, "unit.timer", &timer)?)?;
        }
        if let Some(port) = w.systemd.socket.as_ref().and_then(|s| w.port(&s.value)) {
            let socket = Socket {
                header,
                floor,
                name: unit.clone(),
                description: format!("{project} {} socket {} ({})", w.name.value, port.name.value, environment.name.value),
                port: port.number.value,
            };
            out.add(format!("{dir}/{unit}.socket"), render(env, "unit.socket", &socket)?)?;
        }
    }
    lifecycle::emit(environment, floor, env, header, &dir, out)
}

/// The capabilities a service keeps, in name order: what its sandbox asks for, and
/// `CAP_NET_BIND_SERVICE` when it listens below 1024.
fn capabilities(w: &Workload) -> Vec<String> {
    let mut out: Vec<String> = w.capabilities.iter().map(|c| c.value.clone()).collect();
    if w.ports.iter().any(|p| p.number.value < 1024) {
        out.push("CAP_NET_BIND_SERVICE".to_owned());
    }
    out.sort();
    out.dedup();
    out
}

/// A path in a unit's path list (`ReadWritePaths=`): double-quoted, with `\` and `"`
/// escaped and `%` doubled, since systemd unquotes, unescapes and expands specifiers
/// there (and nothing else: a `$` stays a `$`).
fn unit_path(p: &str) -> String {
    let mut out = String::from("\"");
    for c in p.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '%' => out.push_str("%%"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn protocol(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    }
}

fn describe(w: &Workload) -> &'static str {
    match &w.kind {
        WorkloadKind::Service => "service",
        WorkloadKind::Job(j) if j.schedule.is_some() => "scheduled job",
        WorkloadKind::Job(_) => "run-once job",
    }
}

/// `After=`, `Wants=` and `Requires=` from the graph. Services are wanted, not required:
/// they restart on their own, and a dependency that is down for a while must not stop
/// this one for good. A run-once job is neither: the lifecycle script runs it once per
/// deploy, before what depends on it, so a reboot never runs a migration again (the
/// `After=` only orders the two when both start together).
fn ordering(view: &View, w: &Workload, project: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut after = vec!["network-online.target".to_owned()];
    let mut wants = vec!["network-online.target".to_owned()];
    let mut requires = Vec::new();
    for dep in &w.depends_on {
        let Some(d) = view.workloads.get(&dep.value) else { continue };
        let unit = format!("{project}-{}.service", d.name.value);
        after.push(unit.clone());
        if d.is_service() {
            wants.push(unit)
        }
    }
    if w.systemd.socket.is_some() {
        let socket = format!("{project}-{}.socket", w.name.value);
        after.push(socket.clone());
        requires.push(socket);
    }
    (after, wants, requires)
}

/// Converts a five-field cron expression (UTC) to systemd `OnCalendar=` expressions. Cron
/// runs when the day of the month *or* the day of the week matches if both are given;
/// systemd requires both, so that case becomes two expressions.
pub fn on_calendar(cron: &str) -> Option<Vec<String>> {
    let expanded = match cron.trim() {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        other => other,
    };
    let f: Vec<&str> = expanded.split_whitespace().collect();
    let [min, hour, dom, mon, dow] = f.as_slice() else { return None };
    let minute = values(min, 0, 59, &[])?;
    let hour = values(hour, 0, 23, &[])?;
    let dom_v = values(dom, 1, 31, &[])?;
    let mon_v = values(mon, 1, 12, &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])?;
    let dow_v = values(dow, 0, 7, &["sun", "mon", "tue", "wed", "thu", "fri", "sat"])?;
    let list = |v: &Option<Vec<u32>>, width: usize| match v {
        None => "*".to_owned(),
        Some(v) => v.iter().map(|n| format!("{n:0width$}")).collect::<Vec<_>>().join(","),
    };
    let days = |v: &Option<Vec<u32>>| {
        v.as_ref().map(|v| {
            const NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
            let mut d: Vec<u32> = v.iter().map(|n| n % 7).collect();
            d.sort();
            d.dedup();
            d.iter().map(|n| NAMES[*n as usize]).collect::<Vec<_>>().join(",")
        })
    };
    let time = format!("{}:{}:00", list(&hour, 2), list(&minute, 2));
    let date = |dom: &Option<Vec<u32>>| format!("*-{}-{}", list(&mon_v, 2), list(dom, 2));
    let with_dow = |dow: Option<String>, dom: &Option<Vec<u32>>| match dow {
        Some(d) => format!("{d} {} {time} UTC", date(dom)),
        None => format!("{} {time} UTC", date(dom)),
    };
    Some(match (&dom_v, &dow_v) {
        (Some(_), Some(_)) => vec![with_dow(None, &dom_v), with_dow(days(&dow_v), &None)],
        _ => vec![with_dow(days(&dow_v), &dom_v)],
    })
}

/// The values a cron field allows, or `None` for every value (`*`).
fn values(field: &str, lo: u32, hi: u32, names: &[&str]) -> Option<Option<Vec<u32>>> {
    if field == "*" {
        return Some(None);
    }
    let offset = if lo == 1 && !names.is_empty() { 1 } else { 0 };
    let value = |s: &str| -> Option<u32> {
        match names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            Some(p) => Some(p as u32 + offset),
            None => s.parse().ok().filter(|n| (lo..=hi).contains(n)),
        }
    };
    let mut out = Vec::new();
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (a, b) = match range {
            "*" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None if step > 1 => (value(r)?, hi),
                None => (value(r)?, value(r)?),
            },
        };
        out.extend((a..=b).step_by(step as usize));
    }
    out.sort();
    out.dedup();
    Some(Some(out))
}

#[cfg(test)]
mod tests {
    use super::on_calendar;

    #[test]
    fn cron_to_on_calendar() {
        assert_eq!(on_calendar("0 3 * * *").unwrap(), ["*-*-* 03:00:00 UTC"]);
        assert_eq!(on_calendar("*/15 * * * *").unwrap(), ["*-*-* *:00,15,30,45:00 UTC"]);
        assert_eq!(on_calendar("30 2 * * mon-fri").unwrap(), ["Mon,Tue,Wed,Thu,Fri *-*-* 02:30:00 UTC"]);
        assert_eq!(on_calendar("0 0 1 jan,jul *").unwrap(), ["*-01,07-01 00:00:00 UTC"]);
        assert_eq!(on_calendar("0 0 1 * 0").unwrap(), ["*-*-01 00:00:00 UTC", "Sun *-*-* 00:00:00 UTC"]);
        assert_eq!(on_calendar("@hourly").unwrap(), ["*-*-* *:00:00 UTC"]);
        assert_eq!(on_calendar("0 0 * * 7").unwrap(), ["Sun *-*-* 00:00:00 UTC"]);
    }

    /// systemd itself accepts every expression, and agrees on the next elapse.
    #[test]
    fn systemd_accepts_the_calendar_expressions() {
        if std::process::Command::new("systemd-analyze").arg("--version").output().is_err() {
            return;
        }
        for cron in [
            "0 3 * * *",
            "*/15 * * * *",
            "30 2 * * mon-fri",
            "0 0 1 jan,jul *",
            "0 0 1 * 0",
            "@weekly",
            "5 4 * * sun",
            "0 22 * * 1-5",
            "23 0-20/2 * * *",
        ] {
            for expr in on_calendar(cron).unwrap() {
                let out = std::process::Command::new("systemd-analyze").args(["calendar", &expr]).output().unwrap();
                assert!(out.status.success(), "{cron} -> {expr}: {}", String::from_utf8_lossy(&out.stderr));
            }
        }
    }
}
