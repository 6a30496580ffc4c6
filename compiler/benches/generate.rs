//! Benchmarks of `generate` without the file system: check, then every artifact in
//! memory. `host` is a spec of N services built from source with a systemd and a
//! Kubernetes environment (every artifact kind has work); `reference` is DESIGN §7's
//! workload (N images, two Kubernetes environments).
//!
//! Run: `cargo bench -p hawser --bench generate`.

use hawser::emit::{self, Options};

fn main() {
    divan::main();
}

const SIZES: [usize; 3] = [10, 100, 1000];

fn run(text: &str) -> emit::Artifacts {
    let analysis = hawser::check(text);
    let spec = analysis.spec.as_ref().expect("model");
    assert!(!analysis.has_errors());
    let opts = Options { spec_name: "hawser.kdl".into(), version: Some("1.0.0".into()), ..Options::default() };
    emit::generate(spec, &opts).expect("generates")
}

#[divan::bench(args = SIZES)]
fn host(bencher: divan::Bencher, n: usize) {
    let text = hawser::cli::synthetic::host_spec(n);
    bencher.bench(|| run(divan::black_box(&text)));
}

#[divan::bench(args = SIZES)]
fn reference(bencher: divan::Bencher, n: usize) {
    let text = hawser::cli::synthetic::spec(n);
    bencher.bench(|| run(divan::black_box(&text)));
}

/// Only the emit step, on an already checked spec.
#[divan::bench(args = SIZES)]
fn emit_only(bencher: divan::Bencher, n: usize) {
    let text = hawser::cli::synthetic::host_spec(n);
    let analysis = hawser::check(&text);
    let spec = analysis.spec.expect("model");
    let opts = Options { spec_name: "hawser.kdl".into(), version: Some("1.0.0".into()), ..Options::default() };
    bencher.bench(|| emit::generate(divan::black_box(&spec), &opts).expect("generates"));
}
