//! The Prometheus files of every example: snapshotted, checked by `promtool check config`
//! and `promtool check rules`, and loaded into the real Prometheus server; a Kubernetes
//! environment has them only when prometheus-operator does not run its Prometheus.
//!
//! promtool and prometheus must be on PATH (CI installs them); without them the tests
//! fail, unless `HAWSER_SKIP_PROMTOOL=1` says to skip those checks.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hawser::check::model::Platform;
use serde_json::{Value, json};

struct Example {
    name: String,
    /// Whether an environment gets Prometheus files: a systemd one, or a Kubernetes one
    /// whose Prometheus is not run by prometheus-operator (which reads the manifests'
    /// PodMonitors and PrometheusRules instead).
    has_prometheus_files: bool,
    /// `prometheus/<env>/<file>` → contents.
    files: BTreeMap<String, String>,
}

fn examples() -> Vec<Example> {
    common::examples()
        .into_iter()
        .map(|(name, text)| {
            let spec = hawser::check(&text).spec.expect("the example checks");
            let opts = hawser::emit::Options {
                spec_name: "hawser.kdl".to_owned(),
                version: Some("1.0.0".to_owned()),
                inputs: common::inputs(&common::example_dir(&name), &text),
                ..hawser::emit::Options::default()
            };
            let out = hawser::emit::generate(&spec, &opts).expect("the example generates");
            let files = out.files.into_iter().filter(|(p, _)| p.starts_with("prometheus/")).map(|(p, a)| (p, a.contents)).collect();
            let has_prometheus_files =
                spec.environments.values().any(|e| hawser::emit::kubernetes::namespace(e).is_none() || !e.prometheus_operator);
            Example { name, has_prometheus_files, files }
        })
        .collect()
}

#[test]
fn prometheus_files_are_stable() {
    for ex in examples() {
        assert_eq!(!ex.files.is_empty(), ex.has_prometheus_files, "{}: Prometheus files", ex.name);
        let listing: String = ex.files.keys().map(|p| format!("{p}\n")).collect();
        insta::with_settings!({
            snapshot_path => format!("../snapshots/generate/{}", ex.name),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!("prometheus-files", listing);
            for (path, contents) in &ex.files {
                insta::assert_snapshot!(path.replace('/', "-"), contents);
            }
        });
    }
}

#[test]
fn promtool_accepts_every_config_and_rule_file() {
    if !tool_available("promtool") {
        return;
    }
    for ex in examples() {
        let dir = write_files(&ex, "promtool");
        for env in environments(&ex) {
            let env_dir = dir.join("prometheus").join(&env);
            let rules = promtool(&["check", "rules"], &env_dir.join("rules.yml"));
            assert!(rules.0, "{} {env}: promtool check rules failed:\n{}", ex.name, rules.1);
            let config = checkable_config(&ex, &env, &env_dir);
            // `check config` also checks the rule files the config names.
            let result = promtool(&["check", "config"], &config);
            assert!(result.0, "{} {env}: promtool check config failed:\n{}", ex.name, result.1);
            assert!(result.1.contains("rules.yml"), "{} {env}: the rule file was not checked:\n{}", ex.name, result.1);
        }
    }
}

#[test]
fn the_real_server_loads_every_config() {
    if !tool_available("prometheus") {
        return;
    }
    for ex in examples() {
        let dir = write_files(&ex, "server");
        for env in environments(&ex) {
            let env_dir = dir.join("prometheus").join(&env);
            let config = checkable_config(&ex, &env, &env_dir);
            // Stopped as soon as it is ready: before its first scrape, so that nothing
            // reaches the (unresolvable) hosts of the examples.
            drop(Server::start(&config, &env_dir.join("data")).wait_ready());
        }
    }
}

/// A Kubernetes environment's Prometheus is configured by what it reads: with
/// prometheus-operator (the default) the manifests' PodMonitors and PrometheusRules and no
/// file beside them; with `monitoring="config"` a `prometheus.yml` whose jobs discover the
/// workload's pods through the Kubernetes API in the environment's namespace. What those
/// jobs keep is checked by `tests/cluster` (rule `scrape-config`), which applies their
/// relabelling to the pods of the manifests.
#[test]
fn kubernetes_environments_get_a_configuration_only_without_the_operator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut paths: Vec<PathBuf> =
        common::examples().into_iter().map(|(name, _)| root.join("examples").join(name).join("hawser.kdl")).collect();
    paths.extend(
        std::fs::read_dir(root.join("tests/specs"))
            .expect("tests/specs")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "kdl")),
    );
    let (mut operated, mut configured) = (0, 0);
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("spec");
        let spec = hawser::check(&text).spec.expect("checks");
        // The configuration files the spec names, read from beside it as `generate` does.
        let inputs = hawser::review::inputs::read(path.parent().expect("a directory"), &spec).0;
        let opts =
            hawser::emit::Options { spec_name: "hawser.kdl".to_owned(), version: Some("1.0.0".to_owned()), inputs, ..Default::default() };
        let files = hawser::emit::generate(&spec, &opts).expect("generates").files;
        for (env_name, env) in &spec.environments {
            let Some(Platform::Kubernetes { namespace }) = &env.platform else { continue };
            let config = files.get(&format!("prometheus/{env_name}/prometheus.yml"));
            if env.prometheus_operator {
                assert!(config.is_none(), "{env_name}: a prometheus.yml beside prometheus-operator's objects");
                operated += 1;
                continue;
            }
            let config: Value = serde_saphyr::from_str(&config.expect("a prometheus.yml").contents).expect("the config parses");
            let jobs = config["scrape_configs"].as_array().expect("scrape_configs");
            let scraped = env.view.workloads.values().filter(|w| w.is_service() && w.metrics.is_some()).count();
            assert_eq!(jobs.len(), scraped, "{env_name}: one job per service with metrics");
            for job in jobs {
                assert_eq!(job["kubernetes_sd_configs"][0]["role"], "pod", "{}", job["job_name"]);
                assert_eq!(job["kubernetes_sd_configs"][0]["namespaces"], json!({ "names": [namespace.value] }), "{}", job["job_name"]);
                assert!(job.get("dns_sd_configs").is_none(), "{}", job["job_name"]);
            }
            configured += 1;
        }
    }
    assert!(operated > 0 && configured > 0, "{operated} operated and {configured} configured Kubernetes environments");
}

// ---------------------------------------------------------------------- helpers

fn environments(ex: &Example) -> Vec<String> {
    let mut envs: Vec<String> = ex.files.keys().filter_map(|p| p.split('/').nth(1).map(str::to_owned)).collect();
    envs.dedup();
    envs
}

/// Whether a tool is on PATH; when it is not, the test fails unless
/// `HAWSER_SKIP_PROMTOOL=1`.
fn tool_available(name: &str) -> bool {
    if Command::new(name).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok() {
        return true;
    }
    // Test code reads the environment; the compiler never does. CI installs the tools
    // (the validators) and must run these checks; elsewhere they are skipped, loudly.
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    if !in_ci || std::env::var_os("HAWSER_SKIP_PROMTOOL").is_some_and(|v| v == "1") {
        eprintln!(
            "WARNING: `{name}` is not on PATH: Prometheus output NOT validated (install the validators: ../shared/validators/install.sh)"
        );
        return false;
    }
    panic!("`{name}` is not on PATH in CI: install the validators (`../shared/validators/install.sh`)");
}

fn promtool(args: &[&str], file: &Path) -> (bool, String) {
    let out = Command::new("promtool").args(args).arg(file).output().expect("promtool runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The config to check and load.
fn checkable_config(_ex: &Example, _env: &str, env_dir: &Path) -> PathBuf {
    env_dir.join("prometheus.yml")
}

fn write_files(ex: &Example, purpose: &str) -> PathBuf {
    let dir = fresh_dir(&format!("{purpose}-{}", ex.name));
    for (path, contents) in &ex.files {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, contents).unwrap();
    }
    dir
}

/// A fresh directory under the target dir, so tests write nothing else.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("prometheus").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A Prometheus server on a free loopback port, stopped (by its own handle) when dropped.
struct Server {
    child: Child,
    port: u16,
    config: PathBuf,
}

impl Server {
    fn start(config: &Path, data: &Path) -> Server {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("prometheus starts");
        Server { child, port, config: config.to_owned() }
    }

    /// Waits for `/-/ready`; fails if the server exits first (a config it rejects).
    fn wait_ready(mut self) -> Server {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                let mut err = String::new();
                let _ = self.child.stderr.take().map(|mut e| e.read_to_string(&mut err));
                panic!("prometheus exited ({status}) with {}:\n{err}", self.config.display());
            }
            if self.request("/-/ready").is_some_and(|(status, _)| status == 200) {
                return self;
            }
            assert!(Instant::now() < deadline, "prometheus not ready after 30s with {}", self.config.display());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn request(&self, path: &str) -> Option<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let status = response.split(' ').nth(1)?.parse().ok()?;
        let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
        Some((status, body))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The static targets of systemd environments: every `host:port` is scraped by one job
/// only, in every example and every spec of `tests/specs/`. Two workloads on one port
/// would make one process answer for both jobs; the checker refuses that spec (E0801).
#[test]
fn static_targets_are_never_shared_between_jobs() {
    let specs = std::fs::read_dir(common::specs_dir())
        .expect("tests/specs")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "kdl"))
        .map(|p| (std::fs::read_to_string(&p).expect("spec"), common::specs_dir()));
    let mut checked = 0;
    for (text, dir) in common::examples().into_iter().map(|(name, t)| (t, common::example_dir(&name))).chain(specs) {
        let spec = hawser::check(&text).spec.expect("checks");
        let inputs = common::inputs(&dir, &text);
        let opts =
            hawser::emit::Options { spec_name: "hawser.kdl".to_owned(), version: Some("1.0.0".to_owned()), inputs, ..Default::default() };
        for (path, artifact) in hawser::emit::generate(&spec, &opts).expect("generates").files {
            if !path.ends_with("/prometheus.yml") {
                continue;
            }
            let config: Value = serde_saphyr::from_str(&artifact.contents).expect("YAML");
            let mut owner: BTreeMap<String, String> = BTreeMap::new();
            for job in config["scrape_configs"].as_array().into_iter().flatten() {
                let name = job["job_name"].as_str().unwrap_or_default().to_owned();
                for target in job["static_configs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|s| s["targets"].as_array().cloned().unwrap_or_default())
                {
                    let target = target.as_str().unwrap_or_default().to_owned();
                    if let Some(first) = owner.insert(target.clone(), name.clone()) {
                        panic!("{path}: {target} is scraped by {first} and {name}");
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 10, "only {checked} static targets");
    let clash = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/diagnostics/E0801-two-services-expose-metrics-on-9090.kdl"),
    )
    .expect("the clash spec");
    assert!(hawser::check(&clash).diagnostics.iter().any(|d| d.code.id == "E0801"), "two workloads on one host port are refused");
}
