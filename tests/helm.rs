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
/// others (the environment is a map), and the templates render with `global` (what a parent
/// chart passes) in the values. Whether the schema admits it is `helm lint`'s question (the
/// renderer does not apply the schema): `the_values_schema_takes_global_and_nothing_unknown`.
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

/// `helm lint` holds a chart's values to its `values.schema.json` (`helm-render` does not):
/// the lint of a copy of the chart whose values hold `global`, as a parent chart passes it,
/// passes, and the lint of one whose values hold a key the schema does not know fails, which
/// proves the schema is applied at all.
#[test]
fn the_values_schema_takes_global_and_nothing_unknown() {
    let validators = std::env::var_os("VALIDATORS_DIR").map_or_else(|| root().join("../shared/validators"), PathBuf::from);
    let lint = validators.join("helm_lint.py");
    let library = Path::new(RENDER).parent().and_then(Path::parent).expect("the validators' home").join("helm-sdkpy/libhelm_sdkpy.so");
    if !Path::new(PYTHON).exists() || !lint.exists() || !library.exists() {
        assert!(std::env::var_os("CI").is_none_or(|v| v.is_empty()), "helm_lint.py or the Helm library is not installed in CI");
        eprintln!("WARNING: skipped: helm_lint.py or the Helm library is not installed (../shared/validators/install.sh)");
        return;
    }
    let chart = root().join("examples/payments/generated/helm/payments");
    let values = std::fs::read_to_string(chart.join("values.yaml")).unwrap();
    let copy = std::env::temp_dir().join(format!("hawser-helm-schema-{}", std::process::id())).join("payments");
    let _ = std::fs::remove_dir_all(&copy);
    copy_dir(&chart, &copy);
    for (extra, passes) in [
        ("global: {imageRegistry: mirror.example, storageClass: fast}\n", true),
        ("globals: {imageRegistry: mirror.example}\n", false),
        ("workloads:\n  api:\n    replica: 3\n", false),
    ] {
        // A key at the top level (appended), or one of the api workload's (put first).
        let text =
            if extra.starts_with("workloads:") { values.replacen("workloads:\n  api:\n", extra, 1) } else { format!("{values}{extra}") };
        assert_ne!(text, values, "{extra}");
        std::fs::write(copy.join("values.yaml"), text).unwrap();
        let out = Command::new(PYTHON)
            .arg(&lint)
            .arg("--lib")
            .arg(&library)
            .args(["--renderer", RENDER])
            .arg(&copy)
            .output()
            .expect("python runs");
        let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        eprintln!("values with {extra:?}: lint {}", if out.status.success() { "passes" } else { "fails" });
        assert_eq!(out.status.success(), passes, "values with {extra:?}:\n{report}");
    }
    let _ = std::fs::remove_dir_all(copy.parent().unwrap());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}
