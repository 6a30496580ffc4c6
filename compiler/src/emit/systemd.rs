//! `systemd/<env>/`: hardened units for every workload of a systemd environment — a
//! `.service` per service, a oneshot per run-once job, a `.service` and `.timer` per
//! scheduled job, a `.socket` where socket activation is asked — and the
//! `EnvironmentFile` with each workload's non-secret environment.
//!
//! Install layout the units assume: binaries in `/opt/<project>/bin/`, environment files
//! in `/etc/<project>/`, credentials in systemd's credential store (`/etc/credstore/` or
//! `/run/credstore/`, where a Vault agent or the operator puts them), except `file=`
//! secrets, which are read from their path.

use minijinja::Environment;
use serde::Serialize;

use super::templates::render;
use super::{Artifacts, build::binary, runtime};
use crate::model::{EnvValue, Environment as Env, Platform, Protocol, SecretSource, Workload, WorkloadKind};

#[derive(Serialize)]
struct Unit<'a> {
    header: &'a str,
    name: String,
    description: String,
    documentation: Option<&'a str>,
    after: Vec<String>,
    wants: Vec<String>,
    requires: Vec<String>,
    kind: &'static str,
    notify: bool,
    exec_start: Vec<String>,
    user: Option<&'a str>,
    environment_file: Option<String>,
    environment: Vec<(String, String)>,
    credentials: Vec<String>,
    restart: bool,
    restart_sec: u64,
    start_limit_burst: u32,
    timeout_stop_sec: u64,
    timeout_start_sec: Option<u64>,
    memory_max: Option<u64>,
    cpu_quota: Option<String>,
    bind_low_port: bool,
    install: bool,
    port_names: Vec<String>,
}

#[derive(Serialize)]
struct Timer<'a> {
    header: &'a str,
    name: String,
    description: String,
    on_calendar: Vec<String>,
}

#[derive(Serialize)]
struct Socket<'a> {
    header: &'a str,
    name: String,
    description: String,
    port: u16,
}

#[derive(Serialize)]
struct EnvFile<'a> {
    header: &'a str,
    vars: Vec<(&'a str, &'a str)>,
}

/// The directory units expect binaries in.
pub fn binary_dir(project: &str) -> String {
    format!("/opt/{project}/bin")
}

pub fn emit(environment: &Env, env: &Environment, header: &str, out: &mut Artifacts) -> Result<(), String> {
    let Some(Platform::Systemd { .. }) = &environment.platform else { return Ok(()) };
    let view = &environment.view;
    let project = view.project.name.value.as_str();
    let dir = format!("systemd/{}", environment.name.value);
    for w in view.workloads.values() {
        let Some((binary, _)) = binary(w) else { continue };
        let unit = format!("{project}-{}", w.name.value);
        let literals: Vec<(&str, &str)> = w
            .env
            .values()
            .filter_map(|v| match &v.value {
                EnvValue::Literal(l) => Some((v.key.value.as_str(), l.value.as_str())),
                EnvValue::Secret(_) => None,
            })
            .collect();
        let mut environment_vars = runtime::go_env(w);
        let mut credentials = Vec::new();
        for v in w.env.values() {
            let EnvValue::Secret(s) = &v.value else { continue };
            let Some(secret) = view.secrets.get(&s.value) else { continue };
            credentials.push(match &secret.source {
                Some(SecretSource::File(path)) => format!("{}:{path}", s.value),
                _ => s.value.clone(),
            });
            environment_vars.push((format!("{}_FILE", v.key.value), format!("%d/{}", s.value)));
        }
        credentials.sort();
        credentials.dedup();
        environment_vars.sort();
        let (after, wants, requires) = ordering(view, w, project);
        let mut exec_start = vec![format!("{}/{binary}", binary_dir(project))];
        exec_start.extend(w.args.iter().map(|a| super::inert::systemd_arg(&a.value)));
        let job = w.job();
        let ctx = Unit {
            header,
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
            user: w.systemd.user.as_deref(),
            environment_file: (!literals.is_empty()).then(|| format!("/etc/{project}/{unit}.env")),
            environment: environment_vars,
            credentials,
            restart: w.is_service() || job.and_then(|j| j.retries.as_ref()).is_some_and(|r| r.value > 0),
            restart_sec: w.systemd.restart_sec.as_ref().map_or(5, |d| d.seconds()),
            start_limit_burst: match job {
                Some(j) => j.retries.as_ref().map_or(1, |r| r.value + 1),
                None => 5,
            },
            timeout_stop_sec: w.shutdown.grace_seconds(),
            timeout_start_sec: job.map(|j| j.timeout.as_ref().map_or(3600, |t| t.seconds())),
            memory_max: runtime::memory_max(w),
            cpu_quota: runtime::cpu_quota(w),
            bind_low_port: w.ports.iter().any(|p| p.number.value < 1024),
            install: !w.is_scheduled(),
            port_names: w.ports.iter().map(|p| format!("{} {}/{}", p.name.value, p.number.value, protocol(p.protocol))).collect(),
        };
        out.add(format!("{dir}/{unit}.service"), render(env, "unit.service", &ctx)?);
        if !literals.is_empty() {
            out.add(format!("{dir}/{unit}.env"), render(env, "unit.env", EnvFile { header, vars: literals })?);
        }
        if let Some(schedule) = job.and_then(|j| j.schedule.as_ref()) {
            let timer = Timer {
                header,
                name: unit.clone(),
                description: format!("{project} {} schedule `{}` UTC ({})", w.name.value, schedule.value, environment.name.value),
                on_calendar: on_calendar(&schedule.value)
                    .ok_or_else(|| format!("{}: schedule `{}` does not convert", w.name.value, schedule.value))?,
            };
            out.add(format!("{dir}/{unit}.timer"), render(env, "unit.timer", &timer)?);
        }
        if let Some(port) = w.systemd.socket.as_ref().and_then(|s| w.port(&s.value)) {
            let socket = Socket {
                header,
                name: unit.clone(),
                description: format!("{project} {} socket {} ({})", w.name.value, port.name.value, environment.name.value),
                port: port.number.value,
            };
            out.add(format!("{dir}/{unit}.socket"), render(env, "unit.socket", &socket)?);
        }
    }
    Ok(())
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

/// `After=`, `Wants=` and `Requires=` from the graph: services are wanted (they restart on
/// their own), run-once jobs are required (a failed migration stops what needs it).
fn ordering(view: &crate::model::View, w: &Workload, project: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut after = vec!["network-online.target".to_owned()];
    let mut wants = vec!["network-online.target".to_owned()];
    let mut requires = Vec::new();
    for dep in &w.depends_on {
        let Some(d) = view.workloads.get(&dep.value) else { continue };
        let unit = format!("{project}-{}.service", d.name.value);
        after.push(unit.clone());
        if d.is_service() { wants.push(unit) } else { requires.push(unit) }
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
