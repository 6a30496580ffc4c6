//! Cross-target consistency: every example's generated files are read back, and what
//! each target says about a workload — its limits, the Go runtime settings derived from
//! them, its ports, health checks, secrets and metrics — must agree with the spec and with
//! the other targets. (The Helm chart renders the same objects as `kubernetes/<env>/`,
//! field for field: `tests/ci/helm_equal.py`, run in CI, holds it to that.)

mod common;

use std::collections::{BTreeMap, BTreeSet};

use hawser::check::model::{Platform, ProbeCheck, SecretSource, Spec, Workload};
use hawser::check::values::{Bytes, Cpu};
use hawser::emit::{self, Options};
use serde_json::Value;

/// What one target says about one workload in one environment.
#[derive(Debug, Default, PartialEq, Eq, Clone)]
struct Facts {
    memory_limit: Option<u64>,
    cpu_limit_millis: Option<u64>,
    gomaxprocs: Option<String>,
    gomemlimit: Option<String>,
    /// Secrets the workload receives, by the secret's name.
    secrets: BTreeSet<String>,
    /// The variables the program reads its secrets from: `<KEY>_FILE`, or `<KEY>` for
    /// `as="env"`. The same on every platform: that is the secret contract.
    secret_variables: BTreeSet<String>,
}

fn examples() -> Vec<(String, Spec, BTreeMap<String, String>)> {
    common::examples()
        .into_iter()
        .map(|(name, text)| {
            let spec = hawser::check(&text).spec.expect("model");
            let inputs = common::inputs(&common::example_dir(&name), &text);
            let opts = Options { spec_name: "hawser.kdl".into(), version: Some("1.0.0".into()), inputs, ..Options::default() };
            let files = emit::generate(&spec, &opts).expect("generates").files.into_iter().map(|(p, a)| (p, a.contents)).collect();
            (name, spec, files)
        })
        .collect()
}

/// The facts the spec itself implies, for comparison. Secrets are named as the target
/// sees them: on Kubernetes the Secret (`<project>-<secret>`, or the existing Secret a
/// `kubernetes=` source names), on systemd the credential (the secret's name).
fn expected(spec: &Spec, view: &hawser::check::model::View, w: &Workload, systemd: bool) -> Facts {
    let project = &spec.base.project.name.value;
    Facts {
        memory_limit: w.memory.limit.as_ref().map(|l| l.bytes),
        cpu_limit_millis: w.cpu.limit.as_ref().map(|l| l.millis),
        gomaxprocs: w.cpu.limit.as_ref().map(|l| l.millis.div_ceil(1000).max(1).to_string()),
        gomemlimit: w.memory.limit.as_ref().map(|l| format!("{}MiB", (l.bytes * 90 / 100 / (1 << 20)).max(1))),
        secret_variables: w
            .env
            .values()
            .filter_map(|v| match &v.value {
                hawser::check::model::EnvValue::Secret(s) => view.secrets.get(&s.value).map(|d| d.delivery.variable(&v.key.value)),
                hawser::check::model::EnvValue::Literal(_) | hawser::check::model::EnvValue::Reference(_) => None,
            })
            .collect(),
        secrets: w
            .secrets()
            .into_iter()
            // On systemd an `as="env"` secret is no credential: the lifecycle script writes it.
            .filter(|s| !systemd || view.secrets.get(&s.value).is_none_or(|d| d.delivery.is_file()))
            .map(|s| match view.secrets.get(&s.value).and_then(|d| d.source.as_ref()) {
                _ if systemd => s.value.clone(),
                Some(SecretSource::Kubernetes { name, .. }) => name.clone(),
                _ => format!("{project}-{}", s.value),
            })
            .collect(),
    }
}

fn yaml_docs(text: &str) -> Vec<Value> {
    let mut docs = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line == "---" {
            if current.trim().lines().any(|l| !l.starts_with('#')) {
                docs.push(serde_saphyr::from_str(&current).expect("YAML parses"));
            }
            current.clear();
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    if current.trim().lines().any(|l| !l.starts_with('#')) {
        docs.push(serde_saphyr::from_str(&current).expect("YAML parses"));
    }
    docs
}

fn kubernetes_facts(text: &str) -> (Facts, Value) {
    let docs = yaml_docs(text);
    let workload = docs
        .iter()
        .find(|d| matches!(d["kind"].as_str(), Some("Deployment" | "StatefulSet" | "Job" | "CronJob")))
        .expect("a workload object");
    let pod = match workload["kind"].as_str() {
        Some("CronJob") => &workload["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        _ => &workload["spec"]["template"]["spec"],
    };
    let c = &pod["containers"][0];
    let env: BTreeMap<String, &Value> =
        c["env"].as_array().into_iter().flatten().map(|e| (e["name"].as_str().unwrap().to_owned(), e)).collect();
    let mut secrets = BTreeSet::new();
    let mut secret_variables = BTreeSet::new();
    for (name, e) in &env {
        if let Some(secret) = e["valueFrom"]["secretKeyRef"]["name"].as_str() {
            // A hook job reads the hook-owned copy of a shared Vault secret: the same value.
            secrets.insert(secret.strip_suffix(emit::kubernetes::values::HOOK_COPY_SUFFIX).unwrap_or(secret).to_owned());
            secret_variables.insert(name.clone());
        }
        // A file from a mounted Secret: the path is under one of the pod's secret volumes.
        let mounted = c["volumeMounts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| pod["volumes"].as_array().into_iter().flatten().any(|v| v["name"] == m["name"] && v["secret"].is_object()));
        if let Some(path) = e["value"].as_str()
            && mounted.into_iter().any(|m| m["mountPath"].as_str().is_some_and(|p| path.starts_with(&format!("{p}/"))))
        {
            secret_variables.insert(name.clone());
        }
    }
    for v in pod["volumes"].as_array().into_iter().flatten() {
        if let Some(name) = v["secret"]["secretName"].as_str() {
            secrets.insert(name.strip_suffix(emit::kubernetes::values::HOOK_COPY_SUFFIX).unwrap_or(name).to_owned());
        }
    }
    let facts = Facts {
        memory_limit: c["resources"]["limits"]["memory"].as_str().map(|m| Bytes::parse(m).expect("a quantity").bytes),
        cpu_limit_millis: c["resources"]["limits"]["cpu"].as_str().map(|m| Cpu::parse(m).expect("a quantity").millis),
        gomaxprocs: env.get("GOMAXPROCS").and_then(|e| e["value"].as_str()).map(str::to_owned),
        gomemlimit: env.get("GOMEMLIMIT").and_then(|e| e["value"].as_str()).map(str::to_owned),
        secrets,
        secret_variables,
    };
    (facts, c.clone())
}

/// What a systemd unit says, with the `as="env"` variables the host lifecycle script
/// writes into the unit's root-only environment file.
fn systemd_facts(unit: &str, lifecycle: &str) -> Facts {
    let name = unit.lines().find_map(|l| l.strip_prefix("StateDirectory=")).expect("every unit has a state directory");
    // A credential's path: systemd's (`%d`, `/run/credentials/<unit>/`) or, below
    // systemd 247, the copy the lifecycle script makes under `/etc/<project>/credentials/`.
    let credential = |v: &str| v.starts_with("%d/") || v.starts_with("/run/credentials/") || v.contains("/credentials/");
    let mut secret_variables: BTreeSet<String> = unit
        .lines()
        .filter_map(|l| l.strip_prefix("Environment="))
        .filter_map(|l| l.split_once('='))
        .filter(|(_, v)| credential(v))
        .map(|(k, _)| k.to_owned())
        .collect();
    let env_file = format!("/{name}.secrets.env'");
    for line in lifecycle.lines().filter(|l| l.trim_start().starts_with("write_secret_env") && l.contains(&env_file)) {
        let words: Vec<&str> = line.split_whitespace().collect();
        secret_variables.extend(words[2..].iter().step_by(2).map(|w| w.trim_matches('\'').to_owned()));
    }
    Facts { secret_variables, ..systemd_unit_facts(unit) }
}

fn systemd_unit_facts(unit: &str) -> Facts {
    let value = |key: &str| unit.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).map(str::to_owned);
    let env = |key: &str| unit.lines().find_map(|l| l.strip_prefix(&format!("Environment={key}="))).map(str::to_owned);
    Facts {
        memory_limit: value("MemoryMax").map(|m| m.parse().expect("bytes")),
        cpu_limit_millis: value("CPUQuota").map(|q| q.trim_end_matches('%').parse::<u64>().expect("percent") * 10),
        gomaxprocs: env("GOMAXPROCS"),
        gomemlimit: env("GOMEMLIMIT"),
        secrets: unit.lines().filter_map(|l| l.strip_prefix("LoadCredential=")).map(|c| c.split(':').next().unwrap().to_owned()).collect(),
        secret_variables: BTreeSet::new(),
    }
}

#[test]
fn limits_secrets_ports_probes_and_metrics_agree_across_targets() {
    let mut compared = 0;
    for (example, spec, files) in examples() {
        let project = spec.base.project.name.value.clone();
        // For each workload, the facts of every (environment, target) where its limits are
        // the base's: those must all be equal to each other too.
        let mut same_limits: BTreeMap<String, Vec<(String, Facts)>> = BTreeMap::new();
        // For each workload, the secret variables of every (environment, target) where its
        // environment variables are the base's: one contract, so all must be equal.
        let mut same_env: BTreeMap<String, Vec<(String, BTreeSet<String>)>> = BTreeMap::new();
        for (env_name, env) in &spec.environments {
            for (name, w) in &env.view.workloads {
                let base = &spec.base.workloads[name];
                let base_limits = w.memory.limit == base.memory.limit && w.cpu.limit == base.cpu.limit;
                let base_env = w.env == base.env;
                match &env.platform {
                    Some(Platform::Kubernetes { .. }) => {
                        let file = &files[&format!("kubernetes/{env_name}/{name}.yaml")];
                        let (facts, container) = kubernetes_facts(file);
                        assert_eq!(facts, expected(&spec, &env.view, w, false), "{example}: kubernetes/{env_name}/{name}.yaml");
                        // Ports: every declared port, by name and number.
                        let ports: BTreeSet<(String, u64)> = container["ports"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|p| (p["name"].as_str().unwrap().to_owned(), p["containerPort"].as_u64().unwrap()))
                            .collect();
                        let declared: BTreeSet<(String, u64)> =
                            w.ports.iter().map(|p| (p.name.value.clone(), u64::from(p.number.value))).collect();
                        assert_eq!(ports, declared, "{example}: {env_name}/{name} ports");
                        // Probes: the path and the port the spec names.
                        if let Some(ready) = &w.health.ready {
                            let probe = &container["readinessProbe"];
                            match &ready.check {
                                ProbeCheck::Http(path) => {
                                    assert_eq!(
                                        probe["httpGet"]["path"].as_str(),
                                        Some(path.value.as_str()),
                                        "{example}: {env_name}/{name}"
                                    );
                                    assert_eq!(probe["httpGet"]["port"].as_str(), ready.port.as_ref().map(|p| p.value.as_str()));
                                }
                                ProbeCheck::Tcp => {
                                    assert_eq!(probe["tcpSocket"]["port"].as_str(), ready.port.as_ref().map(|p| p.value.as_str()))
                                }
                                ProbeCheck::Grpc => {
                                    let number = w.port(&ready.port.as_ref().unwrap().value).unwrap().number.value;
                                    assert_eq!(probe["grpc"]["port"].as_u64(), Some(u64::from(number)));
                                }
                                ProbeCheck::Exec(cmd) => assert_eq!(probe["exec"]["command"][0].as_str(), Some(cmd[0].value.as_str())),
                            }
                            assert_eq!(probe["periodSeconds"].as_u64(), Some(ready.period_seconds()));
                            assert_eq!(probe["failureThreshold"].as_u64(), Some(u64::from(ready.failures())));
                        }
                        // Metrics: the declared metrics port, on the declared path, is scraped by the
                        // PodMonitor (prometheus-operator) or by the job of prometheus.yml.
                        if let Some(m) = w.metrics.as_ref().filter(|_| w.is_service()) {
                            if env.prometheus_operator {
                                let monitor = yaml_docs(file).into_iter().find(|d| d["kind"] == "PodMonitor").expect("a PodMonitor");
                                let endpoint = &monitor["spec"]["podMetricsEndpoints"][0];
                                assert_eq!(endpoint["port"].as_str(), Some(m.port.value.as_str()), "{example}: {env_name}/{name}");
                                assert_eq!(endpoint["path"].as_str(), Some(m.path()), "{example}: {env_name}/{name} metrics path");
                            } else {
                                let prom = &files[&format!("prometheus/{env_name}/prometheus.yml")];
                                let job = prom
                                    .split("- job_name: ")
                                    .find(|j| j.starts_with(&format!("{project}-{env_name}-{name}\n")))
                                    .unwrap_or_else(|| panic!("{example}: no job scrapes {name}"));
                                assert!(
                                    job.contains(&format!("metrics_path: {}\n", m.path())),
                                    "{example}: {env_name}/{name} metrics path"
                                );
                                let keep = format!("regex: {project};{name};{name};{}\n", m.port.value);
                                assert!(job.contains(&keep), "{example}: {env_name}/{name}: the job does not keep port {}", m.port.value);
                            }
                        }
                        if base_env {
                            same_env
                                .entry(name.clone())
                                .or_default()
                                .push((format!("kubernetes/{env_name}"), facts.secret_variables.clone()));
                        }
                        if base_limits {
                            same_limits.entry(name.clone()).or_default().push((
                                format!("kubernetes/{env_name}"),
                                Facts { secrets: BTreeSet::new(), secret_variables: BTreeSet::new(), ..facts },
                            ));
                        }
                    }
                    Some(Platform::Systemd { hosts, .. }) => {
                        let Some(unit) = files.get(&format!("systemd/{env_name}/{project}-{name}.service")) else { continue };
                        let lifecycle = &files[&format!("systemd/{env_name}/lifecycle.sh")];
                        let facts = systemd_facts(unit, lifecycle);
                        assert_eq!(facts, expected(&spec, &env.view, w, true), "{example}: systemd/{env_name}/{project}-{name}.service");
                        if let Some(m) = w.metrics.as_ref().filter(|_| w.is_service()) {
                            let prom = &files[&format!("prometheus/{env_name}/prometheus.yml")];
                            let number = w.port(&m.port.value).unwrap().number.value;
                            for h in hosts {
                                assert!(
                                    prom.contains(&format!("- {}:{number}\n", h.value)),
                                    "{example}: {env_name}/{name}: no target {}:{number}",
                                    h.value
                                );
                            }
                        }
                        if base_env {
                            same_env.entry(name.clone()).or_default().push((format!("systemd/{env_name}"), facts.secret_variables.clone()));
                        }
                        if base_limits {
                            same_limits.entry(name.clone()).or_default().push((
                                format!("systemd/{env_name}"),
                                Facts { secrets: BTreeSet::new(), secret_variables: BTreeSet::new(), ..facts },
                            ));
                        }
                    }
                    None => {}
                }
                compared += 1;
            }
        }
        // One secret contract: the same variable names on every target.
        for (name, seen) in same_env {
            for pair in seen.windows(2) {
                assert_eq!(pair[0].1, pair[1].1, "{example}: {name}: {} and {} deliver secrets differently", pair[0].0, pair[1].0);
            }
        }
        // The same limits give the same values on every target.
        for (name, seen) in same_limits {
            for pair in seen.windows(2) {
                assert_eq!(pair[0].1, pair[1].1, "{example}: {name}: {} and {} disagree", pair[0].0, pair[1].0);
            }
        }
    }
    assert!(compared > 20, "compared only {compared} workloads");
}

/// The payments example runs `migrate` with the same limits on systemd (dev) and
/// Kubernetes (prod): both get the same GOMAXPROCS and GOMEMLIMIT, and the limits match.
#[test]
fn one_workload_on_both_platforms_gets_the_same_runtime_settings() {
    let (_, spec, files) = examples().into_iter().find(|(n, _, _)| n == "payments").expect("payments example");
    let (k8s, _) = kubernetes_facts(&files["kubernetes/prod/migrate.yaml"]);
    let systemd = systemd_facts(&files["systemd/dev/payments-migrate.service"], &files["systemd/dev/lifecycle.sh"]);
    assert!(k8s.gomemlimit.is_some(), "migrate has a memory limit");
    assert_eq!(
        (&k8s.memory_limit, &k8s.cpu_limit_millis, &k8s.gomaxprocs, &k8s.gomemlimit),
        (&systemd.memory_limit, &systemd.cpu_limit_millis, &systemd.gomaxprocs, &systemd.gomemlimit)
    );
    assert_eq!(spec.base.workloads["migrate"].memory.limit.as_ref().map(|l| l.bytes), k8s.memory_limit);
}

/// The payments api reads `DB_PASSWORD_FILE` and `STRIPE_KEY_FILE` on systemd (dev) and
/// on Kubernetes (prod) alike, and nothing else: a program written for one platform
/// finds its secrets on the other.
#[test]
fn the_payments_api_reads_its_secrets_the_same_way_on_both_platforms() {
    let (_, _, files) = examples().into_iter().find(|(n, _, _)| n == "payments").expect("payments example");
    let (k8s, _) = kubernetes_facts(&files["kubernetes/prod/api.yaml"]);
    let systemd = systemd_facts(&files["systemd/dev/payments-api.service"], &files["systemd/dev/lifecycle.sh"]);
    let want: BTreeSet<String> = ["DB_PASSWORD_FILE", "STRIPE_KEY_FILE"].map(str::to_owned).into();
    assert_eq!(k8s.secret_variables, want);
    assert_eq!(systemd.secret_variables, want);
}
