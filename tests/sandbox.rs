//! The systemd sandbox against what ordinary programs need, and against what the spec
//! asks for: every generated service of every example and every spec of `tests/specs/` is
//! read for the `/proc` it hides (the files Go's Prometheus process collector reads must
//! all stay visible, or `process_start_time_seconds` disappears and a restart-storm alert
//! can never fire), and for what it opens beyond the default sandbox (where it writes,
//! what it binds, the capabilities it keeps, its group, its open-file limit, its reload),
//! which must be exactly what the spec asks for.

mod common;

use hawser::emit::{self, Options};

/// What the process collector of `github.com/prometheus/client_golang` (through
/// `github.com/prometheus/procfs`) reads on Linux: the process's own stat (CPU time,
/// start time in ticks since boot), the system's boot time in `/proc/stat` (to turn the
/// start time into seconds since the epoch), its open descriptors and their limit, its
/// memory status, and its network counters.
const GO_PROCESS_COLLECTOR: &[&str] =
    &["/proc/self/stat", "/proc/stat", "/proc/self/fd", "/proc/self/limits", "/proc/self/status", "/proc/self/net/dev"];

/// The `/proc` paths of `wanted` that a unit's sandbox hides from its own process:
/// `ProcSubset=pid` leaves only the process directories (and `self`), so every other
/// entry (`/proc/stat`, `/proc/meminfo`, …) goes; `ProtectProc=` hides other processes,
/// never the unit's own; `InaccessiblePaths=` hides what it names.
fn hidden<'a>(unit: &str, wanted: &[&'a str]) -> Vec<&'a str> {
    let values = |key: &'static str| -> Vec<&str> { unit.lines().filter_map(|l| l.strip_prefix(key)).collect() };
    let pid_only = values("ProcSubset=").contains(&"pid");
    let inaccessible: Vec<&str> =
        values("InaccessiblePaths=").into_iter().flat_map(str::split_whitespace).map(|p| p.trim_start_matches(['-', '+'])).collect();
    wanted
        .iter()
        .copied()
        .filter(|path| {
            let own = path.starts_with("/proc/self/") || *path == "/proc/self";
            (pid_only && !own) || inaccessible.iter().any(|p| path == p || path.starts_with(&format!("{}/", p.trim_end_matches('/'))))
        })
        .collect()
}

/// A service unit with what the spec asks of it: the workload as its environment sees it.
struct Unit {
    name: String,
    text: String,
    workload: hawser::check::model::Workload,
    project: String,
}

/// Every service unit of every example and spec, with its workload.
fn units() -> Vec<Unit> {
    let dir = common::specs_dir();
    let specs = std::fs::read_dir(&dir)
        .expect("tests/specs")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "kdl"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).expect("spec"), dir.clone()));
    let examples = common::examples().into_iter().map(|(name, text)| {
        let dir = common::example_dir(&name);
        (name, text, dir)
    });
    let mut out = Vec::new();
    for (name, text, dir) in examples.chain(specs) {
        let spec = hawser::check(&text).spec.expect("model");
        let inputs = common::inputs(&dir, &text);
        let opts = Options { spec_name: "hawser.kdl".into(), version: Some("1.0.0".into()), inputs, ..Options::default() };
        let files = emit::generate(&spec, &opts).expect("generates").files;
        let project = spec.base.project.name.value.clone();
        for (env_name, env) in &spec.environments {
            for w in env.view.workloads.values() {
                let path = format!("systemd/{env_name}/{project}-{}.service", w.name.value);
                if let Some(a) = files.get(&path) {
                    out.push(Unit {
                        name: format!("{name}/{path}"),
                        text: a.contents.clone(),
                        workload: (**w).clone(),
                        project: project.clone(),
                    });
                }
            }
        }
    }
    out
}

/// The values of a directive, each line's words.
fn directive<'a>(unit: &'a str, key: &str) -> Vec<&'a str> {
    unit.lines().filter_map(|l| l.strip_prefix(key)?.strip_prefix('=')).flat_map(str::split_whitespace).collect()
}

/// Where a unit's process may write, as systemd sets it up: with `ProtectSystem=strict`
/// every path is read-only but its state, cache, logs and runtime directories, the paths of
/// `ReadWritePaths=`, the destinations of `BindPaths=` (a writable bind mount) and, with
/// `PrivateTmp=`, its own `/tmp` and `/var/tmp`. `None` for a unit without `strict`.
fn writable(unit: &str) -> Option<std::collections::BTreeSet<String>> {
    if directive(unit, "ProtectSystem") != ["strict"] {
        return None;
    }
    let mut out = std::collections::BTreeSet::new();
    for (key, root) in
        [("StateDirectory", "/var/lib"), ("CacheDirectory", "/var/cache"), ("LogsDirectory", "/var/log"), ("RuntimeDirectory", "/run")]
    {
        out.extend(directive(unit, key).into_iter().map(|d| format!("{root}/{d}")));
    }
    out.extend(directive(unit, "ReadWritePaths").into_iter().map(|p| p.trim_matches('"').trim_start_matches('-').to_owned()));
    out.extend(directive(unit, "BindPaths").into_iter().map(|b| b.split(':').nth(1).unwrap_or(b).to_owned()));
    if directive(unit, "PrivateTmp") == ["yes"] {
        out.extend(["/tmp".to_owned(), "/var/tmp".to_owned()]);
    }
    Some(out)
}

/// What the spec lets a workload's unit write: its own state directory, its volumes (at
/// their paths, and the host directories behind them), the writable paths its sandbox
/// asks for, and its private `/tmp` and `/var/tmp`.
fn asked(u: &Unit) -> std::collections::BTreeSet<String> {
    let unit = format!("{}-{}", u.project, u.workload.name.value);
    let mut out = std::collections::BTreeSet::from([format!("/var/lib/{unit}"), "/tmp".to_owned(), "/var/tmp".to_owned()]);
    for v in &u.workload.volumes {
        out.insert(v.path.value.clone());
        out.insert(format!("{}/{unit}.{}", if v.persistent { "/var/lib" } else { "/var/cache" }, v.name.value));
    }
    out.extend(u.workload.systemd.sandbox.writable.iter().map(|p| p.value.clone()));
    out
}

/// What a unit opens beyond the default sandbox, compared with what the spec asks for:
/// where it writes, which configuration files it binds read-only (and from where), which
/// capabilities it keeps (and whether it gives up `PrivateUsers=` for them), its group,
/// its open-file limit and how it reloads. Empty when they agree.
fn relaxations(u: &Unit) -> Vec<String> {
    let mut out = Vec::new();
    let w = &u.workload;
    let unit = format!("{}-{}", u.project, w.name.value);
    if let Some(writable) = writable(&u.text) {
        let asked = asked(u);
        for p in writable.difference(&asked) {
            out.push(format!("writes {p}, which the spec does not ask for"));
        }
        for p in asked.difference(&writable) {
            out.push(format!("cannot write {p}, which the spec asks for"));
        }
    }
    let read_only: Vec<&str> = directive(&u.text, "BindReadOnlyPaths");
    let expected: Vec<String> =
        w.files.iter().map(|f| format!("/opt/{}/current/files/{unit}/{}:{}", u.project, f.key(), f.path.value)).collect();
    if read_only != expected {
        out.push(format!("binds {read_only:?} read-only, the spec's files are {expected:?}"));
    }
    let mut caps: Vec<String> = w.capabilities.iter().map(|c| c.value.clone()).collect();
    if w.ports.iter().any(|p| p.number.value < 1024) {
        caps.push("CAP_NET_BIND_SERVICE".to_owned());
    }
    caps.sort();
    caps.dedup();
    for key in ["CapabilityBoundingSet", "AmbientCapabilities"] {
        let mut found: Vec<&str> = directive(&u.text, key);
        found.sort();
        if found != caps {
            out.push(format!("{key} is {found:?}, the spec asks for {caps:?}"));
        }
    }
    let private_users = directive(&u.text, "PrivateUsers") == ["yes"];
    if private_users != caps.is_empty() && directive(&u.text, "ProtectSystem") == ["strict"] {
        out.push(format!("PrivateUsers={private_users} with capabilities {caps:?}"));
    }
    let group = directive(&u.text, "Group");
    let expected_group: Vec<&str> = match (&w.systemd.group, directive(&u.text, "User").first()) {
        (Some(g), _) => vec![g.as_str()],
        (None, Some(user)) => vec![*user],
        (None, None) => Vec::new(),
    };
    if group != expected_group {
        out.push(format!("Group is {group:?}, the spec asks for {expected_group:?}"));
    }
    let limit = w.systemd.sandbox.limit_nofile.map_or(65536, u64::from).to_string();
    if directive(&u.text, "LimitNOFILE") != [limit.as_str()] {
        out.push(format!("LimitNOFILE is {:?}, the spec asks for {limit}", directive(&u.text, "LimitNOFILE")));
    }
    let reload: Vec<&str> = u.text.lines().filter_map(|l| l.strip_prefix("ExecReload=")).collect();
    let expected_reload: Vec<String> =
        w.systemd.reload_signal.iter().map(|s| format!("/bin/kill -s {} $MAINPID", s.trim_start_matches("SIG"))).collect();
    if reload != expected_reload {
        out.push(format!("ExecReload is {reload:?}, the spec asks for {expected_reload:?}"));
    }
    out
}

#[test]
fn every_relaxation_is_what_the_spec_asks_for() {
    let units = units();
    let strict = units.iter().filter(|u| writable(&u.text).is_some()).count();
    assert!(strict > 20, "only {strict} units with ProtectSystem=strict");
    assert!(units.iter().any(|u| !u.workload.volumes.is_empty()), "no unit with a volume");
    assert!(units.iter().any(|u| !u.workload.files.is_empty()), "no unit with a configuration file");
    assert!(units.iter().any(|u| !u.workload.capabilities.is_empty()), "no unit with a capability");
    assert!(units.iter().any(|u| u.workload.systemd.reload_signal.is_some()), "no unit that reloads");
    assert!(units.iter().any(|u| u.workload.systemd.group.is_some()), "no unit with a group");
    let mut findings = Vec::new();
    for u in &units {
        findings.extend(relaxations(u).into_iter().map(|f| format!("{}: {f}", u.name)));
    }
    assert!(findings.is_empty(), "{}", findings.join("\n"));
}

/// The comparison can fail: a writable `/etc`, a volume that is not bound, a capability
/// too many, a file bound from elsewhere and a reload that is not asked for are each found.
#[test]
fn a_relaxation_beyond_the_spec_is_caught() {
    let units = units();
    let store = units.iter().find(|u| u.name.ends_with("/store-store.service")).expect("the store's unit");
    let pinger = units.iter().find(|u| u.name.ends_with("/store-pinger.service")).expect("the pinger's unit");
    let edit = |u: &Unit, from: &str, to: &str| {
        assert!(u.text.contains(from), "{} has no {from}", u.name);
        Unit { name: u.name.clone(), text: u.text.replacen(from, to, 1), workload: u.workload.clone(), project: u.project.clone() }
    };
    let cases = [
        (edit(store, "TimeoutStopSec=", "ReadWritePaths=/etc\nTimeoutStopSec="), "writes /etc"),
        (edit(store, "BindPaths=/var/lib/store-store.data:/data\n", ""), "cannot write /data"),
        (edit(pinger, "AmbientCapabilities=CAP_NET_RAW", "AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN"), "AmbientCapabilities"),
        (edit(store, "/opt/store/current/files/", "/etc/store-files/"), "read-only"),
        (edit(store, "ExecReload=/bin/kill -s HUP $MAINPID\n", ""), "ExecReload"),
        (edit(pinger, "Group=adm", "Group=root"), "Group"),
    ];
    for (unit, what) in cases {
        let found = relaxations(&unit);
        assert!(found.iter().any(|f| f.contains(what)), "{what} not caught: {found:?}");
    }
}

fn services() -> Vec<(String, String)> {
    units().into_iter().map(|u| (u.name, u.text)).collect()
}

#[test]
fn go_process_metrics_survive_every_sandbox() {
    let units = services();
    assert!(units.len() > 20, "only {} units", units.len());
    for (name, unit) in &units {
        assert_eq!(hidden(unit, GO_PROCESS_COLLECTOR), Vec::<&str>::new(), "{name} hides what Go's process collector reads");
    }
}

/// The check can fail: the sandbox hawser used to write (`ProcSubset=pid`) hides
/// `/proc/stat`, and an `InaccessiblePaths=/proc/self/fd` hides the descriptors.
#[test]
fn a_sandbox_that_hides_proc_is_caught() {
    let (_, unit) = services().into_iter().next().expect("a unit");
    let old = format!("{unit}ProcSubset=pid\n");
    assert_eq!(hidden(&old, GO_PROCESS_COLLECTOR), ["/proc/stat"]);
    let fd = format!("{unit}InaccessiblePaths=-/proc/self/fd\n");
    assert_eq!(hidden(&fd, GO_PROCESS_COLLECTOR), ["/proc/self/fd"]);
}
