//! Benchmarks of the front end on the reference workload (DESIGN §7): `check` of a
//! generated spec of N services, how much of it is the KDL parse, and the cost of
//! environments that overlay every service (`overlay`: checking such a spec; `overlay_apply`:
//! merging one environment's overlays into the syntax tree). Each should grow linearly with N.
//!
//! Run: `cargo bench -p hawser --bench check`.

fn main() {
    divan::main();
}

const SIZES: [usize; 5] = [10, 50, 100, 1000, 5000];

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

/// `check` of a spec whose production environment overlays every one of its N services.
#[divan::bench(args = [1000, 5000], sample_count = 20)]
fn overlay(bencher: divan::Bencher, n: usize) {
    let text = hawser::cli::synthetic::overlay_spec(n);
    bencher.bench(|| {
        let analysis = hawser::check(divan::black_box(&text));
        assert!(!analysis.has_errors());
        analysis
    });
}

/// Only the merge: N overlays applied to a base of N services.
#[divan::bench(args = [1000, 5000], sample_count = 20)]
fn overlay_apply(bencher: divan::Bencher, n: usize) {
    let text = hawser::cli::synthetic::overlay_spec(n);
    let (doc, _) = hawser::syntax::parse(&text);
    let doc = doc.expect("parses");
    let env = doc.nodes.iter().rfind(|n| n.name.value == "environment").expect("prod");
    let schema = hawser::check::schema::schema();
    bencher.bench(|| {
        let mut diags = Vec::new();
        let merged = hawser::check::overlay::apply(divan::black_box(&doc), env, schema, &mut diags);
        assert!(diags.is_empty());
        merged
    });
}
