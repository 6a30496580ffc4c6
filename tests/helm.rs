//! The Helm chart renders, for every Kubernetes environment of every example, the same
//! objects field for field as `kubernetes/<env>/`, and `helm lint` passes with each
//! environment's values: `tests/ci/helm_equal.py` does the rendering (the validators'
//! `helm-render`) and the comparison (parsed with PyYAML, a YAML 1.1 reader like kubectl's).
//! Skipped, saying so, where the validators are not installed.

use std::path::{Path, PathBuf};
use std::process::Command;

const PYTHON: &str = "/opt/validators/venv/bin/python3";
const RENDER: &str = "/opt/validators/bin/helm-render";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn chart_renders_the_manifests_of_every_environment() {
    if !Path::new(PYTHON).exists() || !Path::new(RENDER).exists() {
        // CI installs the validators and must run this; elsewhere it is skipped, loudly.
        assert!(std::env::var_os("CI").is_none_or(|v| v.is_empty()), "{PYTHON} or {RENDER} is not installed in CI");
        eprintln!("WARNING: skipped: {PYTHON} or {RENDER} is not installed (../shared/validators/install.sh)");
        return;
    }
    for name in ["payments", "shop"] {
        let out = std::env::temp_dir().join(format!("hawser-helm-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let status = Command::new(env!("CARGO_BIN_EXE_hawser"))
            .arg("generate")
            .arg(root().join(format!("examples/{name}/hawser.kdl")))
            .arg("--out")
            .arg(&out)
            .args(["--version", "1.0.0"])
            .output()
            .expect("hawser runs");
        assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
        let check = Command::new(PYTHON).arg(root().join("tests/ci/helm_equal.py")).arg(&out).output().expect("python runs");
        let report = format!("{}{}", String::from_utf8_lossy(&check.stdout), String::from_utf8_lossy(&check.stderr));
        let _ = std::fs::remove_dir_all(&out);
        assert!(check.status.success(), "{name}:\n{report}");
        assert!(report.contains("PASS prod: the chart renders"), "{name}:\n{report}");
    }
}

/// What is derived from the values follows them: a values file that changes a limit changes
/// `GOMAXPROCS`, `GOMEMLIMIT` and the QoS class with it, one that adds a variable keeps the
/// others (the environment is a map), and `global` (what a parent chart passes) is accepted.
#[test]
fn overridden_values_do_not_go_stale() {
    if !Path::new(PYTHON).exists() || !Path::new(RENDER).exists() {
        assert!(std::env::var_os("CI").is_none_or(|v| v.is_empty()), "{PYTHON} or {RENDER} is not installed in CI");
        eprintln!("WARNING: skipped: {PYTHON} or {RENDER} is not installed (../shared/validators/install.sh)");
        return;
    }
    let chart = root().join("examples/payments/generated/helm/payments");
    let extra = std::env::temp_dir().join(format!("hawser-helm-override-{}.yaml", std::process::id()));
    std::fs::write(
        &extra,
        "global: {imageRegistry: mirror.example}\nworkloads:\n  api:\n    resources: {requests: {cpu: \"3\", memory: 2Gi}, limits: {cpu: \"3\", memory: 2Gi}}\n    env: {EXTRA: {value: \"1\"}}\n",
    )
    .unwrap();
    let rendered = Command::new(RENDER)
        .args(["--release-name", "payments", "--namespace", "payments", "--strict", "-f"])
        .arg(chart.join("values.yaml"))
        .arg("-f")
        .arg(chart.join("values-prod.yaml"))
        .arg("-f")
        .arg(&extra)
        .arg(&chart)
        .output()
        .expect("helm-render runs");
    let _ = std::fs::remove_file(&extra);
    assert!(rendered.status.success(), "{}", String::from_utf8_lossy(&rendered.stderr));
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&String::from_utf8_lossy(&rendered.stdout)).expect("YAML");
    let api = docs.iter().find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "api").expect("the api Deployment");
    let template = &api["spec"]["template"];
    assert_eq!(template["metadata"]["annotations"]["hawser.dev/qos-class"], "Guaranteed");
    let env: std::collections::BTreeMap<&str, &serde_json::Value> =
        template["spec"]["containers"][0]["env"].as_array().unwrap().iter().map(|e| (e["name"].as_str().unwrap(), e)).collect();
    assert_eq!(env["GOMAXPROCS"]["value"], "3");
    assert_eq!(env["GOMEMLIMIT"]["value"], "1843MiB");
    assert_eq!(env["EXTRA"]["value"], "1");
    assert!(env.contains_key("DB_PASSWORD_FILE"), "the base's variables stay: {env:?}");
}
