//! Benchmarks of the front end on the reference workload (DESIGN §7): `check` of a
//! generated spec of N services, and how much of it is the KDL parse.
//!
//! Run: `cargo bench -p hawser --bench check`.

fn main() {
    divan::main();
}

const SIZES: [usize; 4] = [10, 50, 100, 1000];

#[divan::bench(args = SIZES)]
fn check(bencher: divan::Bencher, n: usize) {
    let text = hawser::cli::synthetic::spec(n);
    bencher.bench(|| {
        let analysis = hawser::check(divan::black_box(&text));
        assert!(!analysis.has_errors());
        analysis
    });
}

#[divan::bench(args = SIZES)]
fn parse_only(bencher: divan::Bencher, n: usize) {
    let text = hawser::cli::synthetic::spec(n);
    bencher.bench(|| hawser::syntax::parse(divan::black_box(&text)));
}

/// The `kdl` crate alone, the reference parser, for comparison with `parse_only`.
#[divan::bench(args = [50, 1000], sample_count = 20)]
fn kdl_crate_parse(bencher: divan::Bencher, n: usize) {
    let text = hawser::cli::synthetic::spec(n);
    bencher.bench(|| hawser::syntax::parse_with_kdl(divan::black_box(&text)));
}
