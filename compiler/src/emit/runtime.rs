//! Runtime settings derived from a workload's limits, the same on every target: the Go
//! runtime's `GOMAXPROCS` and `GOMEMLIMIT`, systemd's `CPUQuota=` and `MemoryMax=`.
//! Kubernetes containers get the same `GOMAXPROCS`/`GOMEMLIMIT` for the same limits.

use crate::check::model::Workload;

/// The share of the memory limit the Go runtime aims to stay under: the rest is headroom
/// for memory the runtime does not count (stacks of cgo-free goroutines are counted; the
/// binary's text, kernel buffers and fragmentation are not).
pub const GOMEMLIMIT_PERCENT: u64 = 90;

/// `GOMAXPROCS`: the CPU limit rounded up to whole cores, at least 1; none without a limit.
pub fn gomaxprocs(w: &Workload) -> Option<u64> {
    w.cpu.limit.as_ref().map(|l| l.millis.div_ceil(1000).max(1))
}

/// `GOMEMLIMIT`: 90% of the memory limit, rounded down to a whole MiB; none without a limit.
pub fn gomemlimit(w: &Workload) -> Option<String> {
    w.memory.limit.as_ref().map(|l| {
        let mib = l.bytes * GOMEMLIMIT_PERCENT / 100 / (1 << 20);
        format!("{}MiB", mib.max(1))
    })
}

/// systemd `CPUQuota=`: the limit in percent of one core.
pub fn cpu_quota(w: &Workload) -> Option<String> {
    w.cpu.limit.as_ref().map(|l| format!("{}%", l.millis.div_ceil(10)))
}

/// systemd `MemoryMax=`: the limit in bytes, exactly.
pub fn memory_max(w: &Workload) -> Option<u64> {
    w.memory.limit.as_ref().map(|l| l.bytes)
}

/// The environment variables every target sets from the limits, in name order.
pub fn go_env(w: &Workload) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(p) = gomaxprocs(w) {
        out.push(("GOMAXPROCS".to_owned(), p.to_string()));
    }
    if let Some(m) = gomemlimit(w) {
        out.push(("GOMEMLIMIT".to_owned(), m));
    }
    out
}
