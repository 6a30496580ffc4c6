//! `kubernetes/<env>/<workload>.yaml`: every object of a workload in a Kubernetes
//! environment, as one multi-document YAML file written from typed structs.
//!
//! Two steps, shared with the Helm chart ([`super::helm`]): [`values`] computes, per
//! environment, the data every object is built from (what the chart's `values.yaml`
//! holds), and [`objects`] maps that data to Kubernetes objects (what the chart's templates
//! do). The chart renders the same objects because it starts from the same data.
//!
//! Decisions a reviewer should know (docs/policy.md has the long form):
//! - object names are the workload's name, so `catalog:9000` resolves inside the namespace
//!   (the chart prefixes them with the release's name unless it is the project's, and
//!   writes the addresses of workloads in env values, kept apart in the values, with the
//!   release's names); Secrets hawser expects are `<project>-<secret>` with the key `value`;
//! - non-secret environment is a ConfigMap the container reads with `envFrom`; the pod
//!   template carries the sha256 of its data so pods roll when it changes;
//! - dependencies are waited for by a busybox init container pinned by digest (an `nc -z`
//!   loop that gives up after a bound) per dependency; a run-once job, which a TCP check
//!   cannot see, by a kubectl init container (`kubectl wait --for=condition=complete`,
//!   bounded) with a Role that may read that Job alone and the token mounted in it only;
//!   the job is named by a digest of its values so that a changed job is a new Job;
//! - NetworkPolicies allow exactly the graph's edges, DNS, and Prometheus scrapes from the
//!   `monitoring` namespace.

pub mod expose;
pub mod objects;
pub mod scheduling;
pub mod storage;
pub mod values;

pub use crate::check::targets::kubernetes::{OLDEST_VERSION, PRE_STOP_SLEEP_VERSION, namespace};
/// The version an environment targets when the spec names none.
pub const DEFAULT_VERSION: (u32, u32) = (1, 30);

/// The oldest Kubernetes version an environment's clusters run: the spec's, or the default.
pub fn version(environment: &Environment) -> (u32, u32) {
    environment.kubernetes_version.as_ref().map_or(DEFAULT_VERSION, |v| v.value)
}

use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Beside, Sink};
use crate::check::model::Environment;

/// Serializes Kubernetes objects and values ([`super::yaml`]): YAML 1.1-ambiguous strings
/// are quoted (the unit tests hold the writer to it), no folded block scalars.
pub fn to_yaml<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, String> {
    super::yaml::to_string(value).map_err(|e| format!("YAML serialization: {e}"))
}

/// Writes `kubernetes/<env>/<workload>.yaml` for each workload of `chart`, the values of
/// `environment`, whose namespace is `ns`.
///
/// The files are independent of each other, and building and writing their objects is most
/// of `generate`'s time for a large spec: from [`PARALLEL_FROM`] workloads on, two threads
/// share them (the machines we build on have two cores), each half in name order, each
/// putting its files straight into `out` when it takes files from two threads.
pub fn emit(chart: &values::ChartValues, ns: &str, environment: &Environment, header: &str, out: &mut dyn Sink) -> Result<(), String> {
    let dir = format!("kubernetes/{}", environment.name.value);
    // Each file is laid out in a scratch buffer that keeps its capacity, then copied into a
    // string of its exact size: no string grows a dozen times, none holds spare capacity.
    let file = |name: &String, scratch: &mut String| -> Result<(String, String), String> {
        scratch.clear();
        scratch.push_str("# ");
        scratch.push_str(header);
        scratch.push('\n');
        for doc in &objects::workload(chart, name, ns) {
            scratch.push_str("---\n");
            super::yaml::write(scratch, doc).map_err(|e| format!("YAML serialization: {e}"))?;
        }
        Ok((format!("{dir}/{name}.yaml"), scratch.as_str().to_owned()))
    };
    let names: Vec<&String> = chart.workloads.keys().collect();
    let shared = Shared::new(&names);
    let take = |out: &mut dyn Sink| -> Result<(), String> {
        let mut scratch = String::new();
        while let Some(name) = shared.take() {
            let (path, text) = file(name, &mut scratch)?;
            out.add(path, text)?;
        }
        Ok(())
    };
    if names.len() < PARALLEL_FROM {
        return take(out);
    }
    let mut beside = Beside::new(out);
    let beside = std::thread::scope(|s| {
        let other = s.spawn(|| take(&mut beside).map(|()| beside));
        let mine = take(out);
        let theirs = other.join().map_err(|_| "a thread writing Kubernetes manifests failed".to_owned());
        mine.and(theirs?)
    })?;
    beside.done(out)
}

/// How many workloads an environment needs before its manifests are made on two threads:
/// below it, starting a thread costs more than it saves.
pub const PARALLEL_FROM: usize = 64;

/// Items that two threads share out: each takes the next one not yet taken, so that
/// neither waits for the other when one of them also shares its core.
struct Shared<'a, T> {
    items: &'a [T],
    taken: AtomicUsize,
}

impl<'a, T> Shared<'a, T> {
    fn new(items: &'a [T]) -> Self {
        Shared { items, taken: AtomicUsize::new(0) }
    }

    /// The next item not yet taken.
    fn take(&self) -> Option<&'a T> {
        self.items.get(self.taken.fetch_add(1, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::to_yaml;

    /// Every string a YAML 1.1 reader (PyYAML, go-yaml v2 under kubectl) would read as
    /// something else comes out quoted, and a plain string stays plain.
    #[test]
    fn ambiguous_strings_are_quoted() {
        let ambiguous = [
            "on",
            "off",
            "On",
            "OFF",
            "yes",
            "no",
            "Yes",
            "NO",
            "y",
            "n",
            "Y",
            "N",
            "true",
            "false",
            "True",
            "null",
            "Null",
            "~",
            "",
            "0755",
            "0o755",
            "0x1F",
            "1.20",
            "1e3",
            "12:30",
            "1:20:30",
            "2026-09-09",
            "1_000",
            ".inf",
            "-.inf",
            ".nan",
            "123",
            "-1",
            "+1",
            "0",
            "1.",
            "- x",
            "a: b",
            "#x",
            "x #y",
            "&a",
            "*a",
            "!x",
            "|",
            ">",
            "@x",
            "`x",
            "%x",
            "{a}",
            "[a]",
            " lead",
            "trail ",
            "'",
            "\"",
            "<<",
            "=",
        ];
        for s in ambiguous {
            let mut m = BTreeMap::new();
            m.insert("k", s);
            let out = to_yaml(&m).unwrap();
            let v = out.strip_prefix("k: ").unwrap_or_else(|| panic!("{out}")).trim_end_matches('\n');
            assert!(v.starts_with('"') || v.starts_with('\''), "{s:?} is not quoted: {out}");
        }
        for s in ["info", "catalog:9000", "http://checkout:8080", "Acme Shop <orders@shop.acme.dev>", "0.0.0.0:7700"] {
            let mut m = BTreeMap::new();
            m.insert("k", s);
            let out = to_yaml(&m).unwrap();
            assert!(out.starts_with("k: "), "{out}");
        }
    }

    /// With enough workloads to be built on two threads, every file is there and is what
    /// building it alone gives, in the same place.
    #[test]
    fn two_threads_write_what_one_writes() {
        let n = super::PARALLEL_FROM + 7;
        let analysis = crate::check(&crate::cli::synthetic::spec(n));
        let spec = analysis.spec.expect("model");
        let opts = super::super::Options { spec_name: "hawser.kdl".into(), ..Default::default() };
        let out = super::super::generate(&spec, &opts).unwrap();
        for e in spec.environments.values() {
            let chart = super::values::environment_chart(&spec, &opts, e);
            let ns = super::namespace(e).unwrap();
            assert_eq!(chart.workloads.len(), n);
            for name in chart.workloads.keys() {
                let mut alone = format!("# {}\n", super::super::header("hawser.kdl"));
                for doc in super::objects::workload(&chart, name, ns) {
                    alone.push_str("---\n");
                    alone.push_str(&to_yaml(&doc).unwrap());
                }
                assert_eq!(out.files[&format!("kubernetes/{}/{name}.yaml", e.name.value)].contents, alone, "{name}");
            }
            assert_eq!(out.files.keys().filter(|p| p.starts_with(&format!("kubernetes/{}/", e.name.value))).count(), n);
        }
    }

    /// The wait-for-dependency init containers run the default images, pinned by digest, or
    /// the project's `wait-image` (a TCP dependency) and `job-wait-image` (a run-once job);
    /// the chart's values carry the same.
    #[test]
    fn wait_images_are_pinned_and_configurable() {
        let spec_text = |images: &str| {
            format!(
                r#"
project "p" {{
    registry "r.example"
    version "1.2.3"
    {images}
}}
external "db" host="10.0.0.1" port=5432
service "api" {{
    build "go" main="./cmd/api"
    port "http" 8080
    public "http"
    memory request="64Mi" limit="64Mi"
    health {{ ready "/readyz" port="http" }}
    depends-on "db" "migrate"
}}
job "migrate" {{
    build "go" main="./cmd/migrate"
    memory request="64Mi" limit="64Mi"
    depends-on "db"
}}
environment "k8s" {{
    runs-on "kubernetes" namespace="p"
}}
"#
            )
        };
        let mirror = "mirror.example/tools/busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let kubectl = "mirror.example/tools/kubectl@sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
        for (images, wait, job_wait) in [
            (String::new(), super::values::WAIT_IMAGE, super::values::JOB_WAIT_IMAGE),
            (format!("wait-image \"{mirror}\"\n    job-wait-image \"{kubectl}\""), mirror, kubectl),
        ] {
            let analysis = crate::check(&spec_text(&images));
            assert!(!analysis.has_errors(), "{:?}", analysis.diagnostics);
            let spec = analysis.spec.expect("model");
            let opts = super::super::Options { spec_name: "hawser.kdl".into(), ..Default::default() };
            let out = super::super::generate(&spec, &opts).unwrap();
            let (api, migrate, values) = (
                &out.files["kubernetes/k8s/api.yaml"].contents,
                &out.files["kubernetes/k8s/migrate.yaml"].contents,
                &out.files["helm/p/values.yaml"].contents,
            );
            for (image, what) in [(wait, "waitImage"), (job_wait, "jobWaitImage")] {
                assert!(image.contains("@sha256:"), "{image}");
                assert!(values.contains(&format!("{what}: {image}\n")), "{what}: {values}");
            }
            // api waits for the database (TCP) and for the migration (kubectl); the
            // migration waits for the database.
            assert!(api.contains(&format!("- name: wait-db\n        image: {wait}\n")), "{api}");
            assert!(api.contains(&format!("- name: wait-migrate\n        image: {job_wait}\n")), "{api}");
            assert!(migrate.contains(&format!("- name: wait-db\n        image: {wait}\n")), "{migrate}");
        }
    }

    /// systemd and Kubernetes get the same GOMAXPROCS and GOMEMLIMIT for the same limits:
    /// the Kubernetes env is built from the same functions, checked on the generated text.
    #[test]
    fn go_runtime_env_matches_systemd() {
        let spec_text = r#"
project "p" {
    registry "r.example"
    version "1.2.3"
}
service "api" {
    build "go" main="./cmd/api"
    port "http" 8080
    cpu request="250m" limit="1500m"
    memory request="256Mi" limit="700Mi"
    health {
        ready "/readyz" port="http"
        live "/healthz" port="http"
    }
}
environment "vm" {
    runs-on "systemd" { host "h1.example" }
}
environment "k8s" {
    runs-on "kubernetes" namespace="p"
}
"#;
        let analysis = crate::check(spec_text);
        assert!(analysis.diagnostics.iter().all(|d| d.severity() != crate::diagnostics::Severity::Error), "{:?}", analysis.diagnostics);
        let spec = analysis.spec.expect("model");
        let opts = super::super::Options { spec_name: "hawser.kdl".into(), ..Default::default() };
        let out = super::super::generate(&spec, &opts).unwrap();
        let unit = &out.files["systemd/vm/p-api.service"].contents;
        let manifest = &out.files["kubernetes/k8s/api.yaml"].contents;
        let w = &spec.environments["k8s"].view.workloads["api"];
        let env = crate::emit::runtime::go_env(w);
        assert_eq!(env, [("GOMAXPROCS".to_owned(), "2".to_owned()), ("GOMEMLIMIT".to_owned(), "630MiB".to_owned())]);
        for (k, v) in env {
            assert!(unit.contains(&format!("Environment={k}={v}")) || unit.contains(&format!("Environment=\"{k}={v}\"")), "{unit}");
            let lines: Vec<&str> = manifest.lines().map(str::trim).collect();
            let at = lines.iter().position(|l| *l == format!("- name: {k}")).unwrap_or_else(|| panic!("{k} missing: {manifest}"));
            assert!(lines[at + 1] == format!("value: \"{v}\"") || lines[at + 1] == format!("value: {v}"), "{manifest}");
        }
    }
}
