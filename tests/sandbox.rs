//! The systemd sandbox against what ordinary programs need: every generated service of
//! every example and every spec of `tests/specs/` is read for the `/proc` it hides, and
//! the files Go's Prometheus process collector reads must all stay visible, or
//! `process_start_time_seconds` disappears and a restart-storm alert can never fire.

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

fn services() -> Vec<(String, String)> {
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
        for (path, artifact) in emit::generate(&spec, &opts).expect("generates").files {
            if path.starts_with("systemd/") && path.ends_with(".service") {
                out.push((format!("{name}/{path}"), artifact.contents));
            }
        }
    }
    out
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
