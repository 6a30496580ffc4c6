//! Benchmarks of `generate` without the file system: check, then every artifact in
//! memory. `host` is a spec of N services built from source with a systemd and a
//! Kubernetes environment (every artifact kind has work); `reference` is DESIGN §7's
//! workload (N images, two Kubernetes environments). Then each target alone, on an already
//! checked spec, and the output directory: writing a tree, rewriting it unchanged, reading
//! it back for `--check`, and the cache's proof that nothing changed.
//!
//! Run: `cargo bench -p hawser --bench generate`.

use std::path::{Path, PathBuf};

use hawser::check::model::Spec;
use hawser::emit::{self, Artifacts, Options};

fn main() {
    divan::main();
}

const SIZES: [usize; 3] = [10, 100, 1000];

fn options() -> Options {
    Options { spec_name: "hawser.kdl".into(), version: Some("1.0.0".into()), ..Options::default() }
}

fn run(text: &str) -> Artifacts {
    let analysis = hawser::check(text);
    let spec = analysis.spec.as_ref().expect("model");
    assert!(!analysis.has_errors());
    emit::generate(spec, &options()).expect("generates")
}

fn checked(text: &str) -> Spec {
    let analysis = hawser::check(text);
    assert!(!analysis.has_errors());
    analysis.spec.expect("model")
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
    let spec = checked(&hawser::cli::synthetic::host_spec(n));
    let opts = options();
    bencher.bench(|| emit::generate(divan::black_box(&spec), &opts).expect("generates"));
}

/// Each target alone, N = 1000, on the every-kind spec (`host`): build script, Dockerfiles,
/// systemd units, Prometheus configs, the Kubernetes environment's values, its manifests
/// from those values, and the Helm chart.
mod target {
    use super::*;

    const N: usize = 1000;

    fn setup() -> (Spec, Options) {
        (checked(&hawser::cli::synthetic::host_spec(N)), options())
    }

    fn environment<'a>(spec: &'a Spec, platform: &str) -> &'a hawser::check::model::Environment {
        spec.environments.values().find(|e| e.name.value == platform).expect("environment")
    }

    #[divan::bench]
    fn build(bencher: divan::Bencher) {
        let (spec, opts) = setup();
        let env = emit::templates::environment();
        bencher.bench(|| {
            let mut out = Artifacts::default();
            emit::build::emit(&spec, &opts, &env, "h", &mut out).expect("emits");
            out
        });
    }

    #[divan::bench]
    fn docker(bencher: divan::Bencher) {
        let (spec, opts) = setup();
        let env = emit::templates::environment();
        bencher.bench(|| {
            let mut out = Artifacts::default();
            emit::docker::emit(&spec, &opts, &env, "h", &mut out).expect("emits");
            out
        });
    }

    #[divan::bench]
    fn systemd(bencher: divan::Bencher) {
        let (spec, _) = setup();
        let env = emit::templates::environment();
        let edge = environment(&spec, "edge");
        bencher.bench(|| {
            let mut out = Artifacts::default();
            emit::systemd::emit(edge, &Default::default(), &env, "h", &mut out).expect("emits");
            out
        });
    }

    #[divan::bench]
    fn prometheus(bencher: divan::Bencher) {
        let (spec, _) = setup();
        bencher.bench(|| {
            let mut out = Artifacts::default();
            for e in spec.environments.values() {
                emit::prometheus::emit(e, "h", &mut out).expect("emits");
            }
            out
        });
    }

    #[divan::bench]
    fn kubernetes_values(bencher: divan::Bencher) {
        let (spec, opts) = setup();
        let prod = environment(&spec, "prod");
        bencher.bench(|| emit::kubernetes::values::environment_chart(&spec, &opts, prod));
    }

    #[divan::bench]
    fn kubernetes(bencher: divan::Bencher) {
        let (spec, opts) = setup();
        let prod = environment(&spec, "prod");
        let chart = emit::kubernetes::values::environment_chart(&spec, &opts, prod);
        bencher.bench(|| {
            let mut out = Artifacts::default();
            emit::kubernetes::emit(&chart, "bench", prod, "h", &mut out).expect("emits");
            out
        });
    }

    #[divan::bench]
    fn helm(bencher: divan::Bencher) {
        let (spec, opts) = setup();
        let prod = environment(&spec, "prod");
        let chart = emit::kubernetes::values::environment_chart(&spec, &opts, prod);
        bencher.bench(|| {
            let mut out = Artifacts::default();
            let made = emit::kubernetes::values::MadeAlerts::new(&spec);
            let values = emit::helm::begin(&spec, &opts, &[prod], &made, "h", &mut out).expect("emits").expect("a chart");
            values.environment(prod, &chart, "h", &mut out).expect("emits");
            out
        });
    }
}

/// The output directory, N = 1000 (the reference workload: 2,020 files).
mod output {
    use super::*;

    const N: usize = 1000;

    struct Tree {
        root: PathBuf,
        text: String,
        artifacts: Artifacts,
    }

    impl Tree {
        fn new(name: &str) -> Tree {
            let root = std::env::temp_dir().join(format!("hawser-bench-{}-{name}", std::process::id()));
            std::fs::create_dir_all(&root).expect("a scratch directory");
            let text = hawser::cli::synthetic::spec(N);
            let artifacts = run(&text);
            Tree { root, text, artifacts }
        }

        fn request(&self, cache: bool) -> hawser::review::output::Request<'_> {
            hawser::review::output::Request {
                files: hawser::review::output::Files::Made(&self.artifacts),
                spec_name: "hawser.kdl",
                spec_sha256: hawser::review::output::sha256_hex(self.text.as_bytes()),
                inputs_sha256: Default::default(),
                environments: &[],
                cache_key: cache.then(|| "bench".to_owned()),
            }
        }

        fn write(&self, out: &Path, cache: bool) {
            hawser::review::output::write(out, &self.request(cache)).expect("writes");
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    /// A fresh tree each time, in a new directory (nothing is removed while measuring).
    #[divan::bench(sample_count = 5, sample_size = 1)]
    fn write_fresh(bencher: divan::Bencher) {
        let tree = Tree::new("fresh");
        let mut i = 0;
        bencher.bench_local(|| {
            i += 1;
            tree.write(&tree.root.join(format!("out-{i}")), false);
        });
    }

    /// The same tree written again over itself: every file is compared and linked.
    #[divan::bench(sample_count = 10, sample_size = 1)]
    fn write_unchanged(bencher: divan::Bencher) {
        let tree = Tree::new("unchanged");
        let out = tree.root.join("out");
        tree.write(&out, false);
        bencher.bench_local(|| tree.write(&out, false));
    }

    /// What `generate --check` reads: the lock and every file, for the comparison.
    #[divan::bench(sample_count = 10, sample_size = 1)]
    fn read_for_check(bencher: divan::Bencher) {
        let tree = Tree::new("read");
        let out = tree.root.join("out");
        tree.write(&out, false);
        bencher.bench_local(|| {
            let disk = hawser::review::output::read_on_disk(&out, &tree.artifacts).expect("reads").expect("a tree");
            let lock = hawser::review::output::render_lock("hawser.kdl", &tree.text, &tree.artifacts);
            assert!(hawser::review::compare(&tree.artifacts, &lock, &disk).is_empty());
            disk
        });
    }

    /// The cache's proof that nothing changed: the stamps of every file and directory.
    #[divan::bench(sample_count = 20, sample_size = 1)]
    fn up_to_date(bencher: divan::Bencher) {
        let tree = Tree::new("cache");
        let out = tree.root.join("out");
        tree.write(&out, true);
        bencher.bench_local(|| assert!(hawser::review::output::up_to_date(&out, "bench").is_some()));
    }
}
