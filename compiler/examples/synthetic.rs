//! Prints a reference workload spec of N services:
//! `cargo run --release --example synthetic -- 1000 > bench.kdl` (images, two Kubernetes
//! environments: DESIGN §7's workload), or `-- 1000 host` (built from source, a systemd
//! and a Kubernetes environment: every artifact kind), or `-- 1000 overlays` (the first,
//! with prod overlaying every service).

fn main() {
    let mut args = std::env::args().skip(1);
    let n = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    match args.next().as_deref() {
        Some("host") => print!("{}", hawser::cli::synthetic::host_spec(n)),
        Some("overlays") => print!("{}", hawser::cli::synthetic::overlay_spec(n)),
        _ => print!("{}", hawser::cli::synthetic::spec(n)),
    }
}
