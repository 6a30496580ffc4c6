//! `prometheus/<env>/`: a `prometheus.yml` with one scrape job per service that exposes
//! metrics, and the `rules.yml` it loads with availability and restart-storm alerts.
//!
//! Both files are complete: `prometheus --config.file=prometheus/<env>/prometheus.yml`
//! runs as is (`rule_files` is relative to the config's directory), and the jobs and rule
//! groups can equally be pasted into an existing server's configuration. YAML is written
//! from the typed structs below with serde-saphyr; nothing is templated.
//!
//! Decisions, also in `docs/prometheus.md`:
//!
//! * **Which workloads.** Services with a `metrics` node; jobs have none (the schema gives
//!   them no `metrics`: a run-to-completion process is not scraped, it would push). An
//!   environment without any such service gets no `prometheus/<env>/` at all, rather than
//!   a config that scrapes nothing.
//! * **Job names** are `<project>-<env>-<workload>`: unique in one server even when it
//!   scrapes several projects or environments. Every target also carries the labels
//!   `project`, `environment` and `workload`, which is what dashboards should select on.
//! * **Kubernetes** environments get these files only with `monitoring="config"`, for a
//!   Prometheus that is not run by prometheus-operator (with the operator, the manifests'
//!   PodMonitors and PrometheusRules are what it consumes, `emit/monitoring.rs`). Each job
//!   discovers pods through the Kubernetes API (`kubernetes_sd_configs`, role `pod`, the
//!   environment's namespace only, a label selector on the workload's selector labels) and
//!   relabelling keeps exactly the workload's container port named like the spec's metrics
//!   port, on pods that still run (Ready or not: a hung pod is a target that fails, which is
//!   what `TargetDown` is for). Targets get `namespace`, `pod` and `container` from the
//!   discovery, and `project`, `environment` and `workload`. The rules are the alerts every
//!   workload gets with the operator, plus `KubeStateMetricsMissing`. Distribution builds of
//!   Prometheus without the Kubernetes discovery (Debian's) reject such a configuration.
//! * **systemd** uses static targets `<host>:<port>`, one per host of the environment,
//!   since every host runs one instance of each service.
//! * **Interval, timeout and path** come from the spec, durations written in Prometheus'
//!   canonical form (`90s` becomes `1m30s`).
//! * **Alerts on systemd** (labels `severity`, `project`, `environment`, `workload`;
//!   `summary` and `description` annotations):
//!   - `WorkloadDown`: no instance of the workload answers a scrape, or none is
//!     discovered at all (`absent(up{…})`). `critical` in a `production=#true`
//!     environment, else `warning`.
//!   - `TargetDown`: one host does not answer. `warning`.
//!   - `WorkloadRestartStorm`, more than 3 restarts in 15 minutes, from
//!     `changes(process_start_time_seconds{job=…})`, which client_golang's process
//!     collector exports. `warning`.
//!
//!   Down alerts wait `max(5m, 2 × interval)`, so at least two scrapes have failed.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Sink;
use super::monitoring::promql_string;
use crate::check::model::{Environment, Metrics, Platform, Workload};
use crate::check::values::Duration;

/// The scrape configuration's file name in `prometheus/<env>/`.
pub const CONFIG_FILE: &str = "prometheus.yml";
/// The alert rules' file name, beside the configuration that loads it.
pub const RULES_FILE: &str = "rules.yml";

/// More restarts than this in the restart window is a restart storm.
pub const RESTART_THRESHOLD: u32 = 3;
/// The restart window, and the least time a down alert waits.
const RESTART_WINDOW_MILLIS: u64 = 15 * 60_000;
const DOWN_FOR_MILLIS: u64 = 5 * 60_000;

/// Writes `prometheus/<env>/prometheus.yml` and `rules.yml` for one environment: on systemd
/// when a service there exposes metrics, on Kubernetes when the environment's Prometheus is
/// not run by prometheus-operator (`monitoring="config"`).
pub fn emit(environment: &Environment, header: &str, out: &mut dyn Sink) -> Result<(), String> {
    let Some(platform) = &environment.platform else { return Ok(()) };
    let ctx = Context {
        project: &environment.view.project.name.value,
        environment: &environment.name.value,
        production: environment.production,
        platform,
    };
    let scraped: Vec<(&Workload, &Metrics)> =
        environment.view.workloads.values().filter(|w| w.is_service()).filter_map(|w| Some((&**w, w.metrics.as_ref()?))).collect();
    let mut scrape_configs = Vec::new();
    let mut rules = Vec::new();
    match platform {
        Platform::Kubernetes { namespace } => {
            // With the operator, the PodMonitors and PrometheusRules of the manifests are
            // what the cluster's Prometheus reads; a file beside them would be a second,
            // unused truth.
            if environment.prometheus_operator || environment.view.workloads.is_empty() {
                return Ok(());
            }
            for (w, m) in &scraped {
                scrape_configs.push(scrape_config(&ctx, &Target::new(&ctx, w, m)?));
            }
            for w in environment.view.workloads.values() {
                let job = w.metrics.as_ref().filter(|_| w.is_service()).map(|_| job_name(ctx.project, ctx.environment, &w.name.value));
                let alerts = super::monitoring::alerts_for(ctx.project, w, super::monitoring::Scraper::Config { job: job.as_deref() });
                rules.extend(alerts.into_iter().map(|a| kubernetes_rule(&ctx, &namespace.value, &w.name.value, a)));
            }
            rules.push(kube_state_metrics_missing(&ctx, &namespace.value));
        }
        Platform::Systemd { .. } => {
            if scraped.is_empty() {
                return Ok(());
            }
            for (w, m) in &scraped {
                let target = Target::new(&ctx, w, m)?;
                scrape_configs.push(scrape_config(&ctx, &target));
                rules.extend(workload_rules(&ctx, &target));
            }
        }
    }
    let config = Config { rule_files: vec![RULES_FILE], scrape_configs };
    let rule_file = RuleFile { groups: vec![RuleGroup { name: format!("{}-{}", ctx.project, ctx.environment), rules }] };
    let dir = format!("prometheus/{}", ctx.environment);
    out.add(format!("{dir}/{CONFIG_FILE}"), yaml(header, &config)?)?;
    out.add(format!("{dir}/{RULES_FILE}"), yaml(header, &rule_file)?)?;
    Ok(())
}

/// An alert of a workload on Kubernetes (`emit/monitoring.rs`) as a rule of the file: the
/// namespace put in, and the labels the PrometheusRule's rules carry.
fn kubernetes_rule(ctx: &Context, namespace: &str, workload: &str, a: super::monitoring::AlertValues) -> Rule {
    let fill = |text: &str| super::monitoring::fill(text, namespace, workload, ctx.project);
    Rule {
        alert: a.alert,
        expr: fill(&a.expr),
        for_: Some(a.for_),
        labels: BTreeMap::from([
            ("environment", ctx.environment.to_owned()),
            ("project", ctx.project.to_owned()),
            ("severity", if a.critical && ctx.production { "critical" } else { "warning" }.to_owned()),
            ("workload", workload.to_owned()),
        ]),
        annotations: annotations(fill(&a.summary), fill(&a.description)),
    }
}

/// The scrape job's name: unique across projects and environments.
pub fn job_name(project: &str, environment: &str, workload: &str) -> String {
    format!("{project}-{environment}-{workload}")
}

/// A duration in Prometheus' canonical form: `1h30m`, `1m30s`, `500ms`, `0s`.
pub fn duration(millis: u64) -> String {
    if millis == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    let mut rest = millis;
    for (unit, size) in [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

/// Escapes RE2 metacharacters, so that a name matches only itself in a regex.
pub fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------- the files

#[derive(Serialize)]
struct Config {
    rule_files: Vec<&'static str>,
    scrape_configs: Vec<ScrapeConfig>,
}

#[derive(Serialize)]
struct ScrapeConfig {
    job_name: String,
    scrape_interval: String,
    scrape_timeout: String,
    metrics_path: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    kubernetes_sd_configs: Vec<KubernetesSdConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    static_configs: Vec<StaticConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    relabel_configs: Vec<RelabelConfig>,
}

#[derive(Serialize)]
struct KubernetesSdConfig {
    role: &'static str,
    namespaces: SdNamespaces,
    /// Filters on the API server's side, so Prometheus watches only the workload's pods.
    selectors: Vec<SdSelector>,
}

#[derive(Serialize)]
struct SdNamespaces {
    names: Vec<String>,
}

#[derive(Serialize)]
struct SdSelector {
    role: &'static str,
    label: String,
}

#[derive(Serialize)]
struct StaticConfig {
    targets: Vec<String>,
    labels: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
struct RelabelConfig {
    action: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    source_labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    regex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_label: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replacement: Option<String>,
}

#[derive(Serialize)]
struct RuleFile {
    groups: Vec<RuleGroup>,
}

#[derive(Serialize)]
struct RuleGroup {
    name: String,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct Rule {
    alert: &'static str,
    expr: String,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    for_: Option<String>,
    labels: BTreeMap<&'static str, String>,
    annotations: BTreeMap<&'static str, String>,
}

/// A typed value as YAML, after the header comment.
fn yaml(header: &str, value: &impl Serialize) -> Result<String, String> {
    // Long strings (PromQL, descriptions) stay on one line: a reviewer's diff then shows
    // the whole expression that changed.
    let body = super::yaml::to_string(value).map_err(|e| format!("prometheus: cannot write YAML: {e}"))?;
    let mut text = format!("# {header}\n{body}");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

// ---------------------------------------------------------------------- what goes in

struct Context<'a> {
    project: &'a str,
    environment: &'a str,
    production: bool,
    platform: &'a Platform,
}

/// One scraped workload, with everything its job and rules need.
struct Target<'a> {
    workload: &'a str,
    job: String,
    port_name: &'a str,
    port: u16,
    path: &'a str,
    interval_millis: u64,
    timeout_millis: u64,
}

impl<'a> Target<'a> {
    fn new(ctx: &Context, w: &'a Workload, m: &'a Metrics) -> Result<Target<'a>, String> {
        let name = w.name.value.as_str();
        let port = w.port(&m.port.value).ok_or_else(|| format!("{name}: the metrics port `{}` is not declared", m.port.value))?;
        // `timeout_text` holds the default, so it stays in one place (the model).
        let timeout = Duration::parse(&m.timeout_text()).map_err(|e| format!("{name}: metrics timeout: {}", e.message))?;
        Ok(Target {
            workload: name,
            job: job_name(ctx.project, ctx.environment, name),
            port_name: &port.name.value,
            port: port.number.value,
            path: m.path(),
            interval_millis: m.interval_millis(),
            timeout_millis: timeout.millis,
        })
    }

    fn up(&self) -> String {
        format!("up{{job={}}}", promql_string(&self.job))
    }

    /// How long a down alert waits: at least two failed scrapes, and at least 5 minutes.
    fn down_for(&self) -> String {
        duration(DOWN_FOR_MILLIS.max(2 * self.interval_millis))
    }
}

fn scrape_config(ctx: &Context, t: &Target) -> ScrapeConfig {
    let mut job = ScrapeConfig {
        job_name: t.job.clone(),
        scrape_interval: duration(t.interval_millis),
        scrape_timeout: duration(t.timeout_millis),
        metrics_path: t.path.to_owned(),
        kubernetes_sd_configs: Vec::new(),
        static_configs: Vec::new(),
        relabel_configs: Vec::new(),
    };
    match ctx.platform {
        Platform::Kubernetes { namespace } => {
            // The selector labels of the workload's pods (`kubernetes/objects.rs`).
            let selector = [("app.kubernetes.io/instance", ctx.project), ("app.kubernetes.io/name", t.workload)];
            job.kubernetes_sd_configs = vec![KubernetesSdConfig {
                role: "pod",
                namespaces: SdNamespaces { names: vec![namespace.value.clone()] },
                selectors: vec![SdSelector {
                    role: "pod",
                    label: selector.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
                }],
            }];
            // Keep one target per pod: the workload's own container (named after it), on
            // the port named like the metrics port, of a pod that still runs. The selector
            // is checked again here, so the job is right even where the API server's
            // filter is not applied.
            let mut keep_labels: Vec<String> =
                selector.iter().map(|(k, _)| format!("__meta_kubernetes_pod_label_{}", label_name(k))).collect();
            keep_labels.extend(["__meta_kubernetes_pod_container_name".to_owned(), "__meta_kubernetes_pod_container_port_name".to_owned()]);
            let keep_values: Vec<String> =
                selector.iter().map(|(_, v)| regex_escape(v)).chain([regex_escape(t.workload), regex_escape(t.port_name)]).collect();
            job.relabel_configs = vec![
                RelabelConfig {
                    action: "keep",
                    source_labels: keep_labels,
                    regex: Some(keep_values.join(";")),
                    target_label: None,
                    replacement: None,
                },
                RelabelConfig {
                    action: "drop",
                    source_labels: vec!["__meta_kubernetes_pod_phase".to_owned()],
                    regex: Some("Succeeded|Failed".to_owned()),
                    target_label: None,
                    replacement: None,
                },
                copy("__meta_kubernetes_namespace", "namespace"),
                copy("__meta_kubernetes_pod_name", "pod"),
                copy("__meta_kubernetes_pod_container_name", "container"),
                set("project", ctx.project),
                set("environment", ctx.environment),
                set("workload", t.workload),
            ];
        }
        Platform::Systemd { hosts, .. } => {
            job.static_configs =
                vec![StaticConfig { targets: hosts.iter().map(|h| host_port(&h.value, t.port)).collect(), labels: identity(ctx, t) }];
        }
    }
    job
}

/// A Kubernetes label's name as Prometheus' discovery writes it in a meta label: every
/// character that is not a letter, a digit or `_` becomes `_`.
pub fn label_name(label: &str) -> String {
    label.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

fn set(label: &'static str, value: &str) -> RelabelConfig {
    RelabelConfig {
        action: "replace",
        source_labels: Vec::new(),
        regex: None,
        target_label: Some(label),
        replacement: Some(value.to_owned()),
    }
}

/// Copies a discovered label into a target label (`replace` with the defaults: the whole
/// value, `$1` of `(.*)`).
fn copy(source: &str, label: &'static str) -> RelabelConfig {
    RelabelConfig { action: "replace", source_labels: vec![source.to_owned()], regex: None, target_label: Some(label), replacement: None }
}

/// `host:port`, with an IPv6 literal in brackets.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

/// The labels that say which workload of which environment a series belongs to.
fn identity(ctx: &Context, t: &Target) -> BTreeMap<&'static str, String> {
    BTreeMap::from([("environment", ctx.environment.to_owned()), ("project", ctx.project.to_owned()), ("workload", t.workload.to_owned())])
}

fn rule_labels(ctx: &Context, t: &Target, severity: &str) -> BTreeMap<&'static str, String> {
    let mut labels = identity(ctx, t);
    labels.insert("severity", severity.to_owned());
    labels
}

fn annotations(summary: String, description: String) -> BTreeMap<&'static str, String> {
    BTreeMap::from([("description", description), ("summary", summary)])
}

/// The rules of one scraped workload on systemd.
fn workload_rules(ctx: &Context, t: &Target) -> Vec<Rule> {
    let who = format!("{} {} ({})", ctx.project, t.workload, ctx.environment);
    let endpoint = format!("port {} `{}`, path {}", t.port, t.port_name, t.path);
    let hosts = match ctx.platform {
        Platform::Systemd { hosts, .. } => hosts.len(),
        Platform::Kubernetes { .. } => 0,
    };
    let down_cause = format!(
        " on {}; see `systemctl status {}-{}` there",
        if hosts == 1 { "its host".to_owned() } else { format!("any of its {hosts} hosts") },
        ctx.project,
        t.workload
    );
    let down_for = t.down_for();
    // changes() sees only restarts between two scrapes: the window holds at least five of
    // them, so that more than three changes can be seen at all.
    let window = duration(RESTART_WINDOW_MILLIS.max(5 * t.interval_millis));
    vec![
        Rule {
            alert: "WorkloadDown",
            expr: format!("sum by (job) ({up}) == 0 or absent({up})", up = t.up()),
            for_: Some(down_for.clone()),
            labels: rule_labels(ctx, t, if ctx.production { "critical" } else { "warning" }),
            annotations: annotations(
                format!("{who} is down"),
                format!("No instance of {who} has answered a scrape ({endpoint}) for {down_for}{down_cause}."),
            ),
        },
        Rule {
            alert: "TargetDown",
            expr: format!("{} == 0", t.up()),
            for_: Some(down_for.clone()),
            labels: rule_labels(ctx, t, "warning"),
            annotations: annotations(
                format!("{{{{ $labels.instance }}}} of {who} is down"),
                format!(
                    "Prometheus has not been able to scrape {{{{ $labels.instance }}}} of {who} ({endpoint}) for {down_for}: \
                     it is down or does not serve metrics there."
                ),
            ),
        },
        Rule {
            alert: "WorkloadRestartStorm",
            expr: format!("changes(process_start_time_seconds{{job={}}}[{window}]) > {RESTART_THRESHOLD}", promql_string(&t.job)),
            for_: None,
            labels: rule_labels(ctx, t, "warning"),
            annotations: annotations(
                format!("{who} is restarting repeatedly"),
                format!(
                    "{{{{ $labels.instance }}}}: {who} restarted {{{{ $value | printf \"%.0f\" }}}} times in {window} \
                     (its process_start_time_seconds changed); see `journalctl -u {}-{}` there.",
                    ctx.project, t.workload
                ),
            ),
        },
    ]
}

/// Without kube-state-metrics in this Prometheus, the alerts built on its series
/// (availability, failed jobs, schedules, OOM kills, restarts) can never fire: say so
/// instead of staying silent.
fn kube_state_metrics_missing(ctx: &Context, namespace: &str) -> Rule {
    let for_ = duration(RESTART_WINDOW_MILLIS);
    Rule {
        alert: "KubeStateMetricsMissing",
        expr: format!("absent(kube_pod_container_status_restarts_total{{namespace={}}})", promql_string(namespace)),
        for_: Some(for_.clone()),
        labels: BTreeMap::from([
            ("environment", ctx.environment.to_owned()),
            ("project", ctx.project.to_owned()),
            ("severity", "warning".to_owned()),
        ]),
        annotations: annotations(
            format!("no kube-state-metrics series for namespace {namespace} ({} {})", ctx.project, ctx.environment),
            format!(
                "kube_pod_container_status_restarts_total{{namespace=\"{namespace}\"}} has been absent for {for_}, so the \
                 alerts of {} ({}) built on kube-state-metrics (unavailable Deployments, failed Jobs, missed schedules, \
                 OOM kills, restarts) cannot fire: scrape kube-state-metrics in this Prometheus, with honor_labels: true \
                 so that its namespace label is kept.",
                ctx.project, ctx.environment
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::{Options, generate};

    fn spec(text: &str) -> crate::check::model::Spec {
        let analysis = crate::check(text);
        let errors: Vec<_> = analysis.diagnostics.iter().filter(|d| d.code.id.starts_with('E')).collect();
        assert!(errors.is_empty(), "{errors:?}");
        analysis.spec.expect("a model")
    }

    fn prometheus_files(text: &str) -> BTreeMap<String, String> {
        let opts = Options { spec_name: "hawser.kdl".to_owned(), version: Some("1.0.0".to_owned()), ..Options::default() };
        let out = generate(&spec(text), &opts).expect("generates");
        out.files.into_iter().filter(|(p, _)| p.starts_with("prometheus/")).map(|(p, a)| (p, a.contents)).collect()
    }

    const SPEC: &str = r#"
project "shop" {
    version "1.2.3"
}
service "api" {
    build "go" main="./cmd/api"
    port "http" 8080
    port "metrics" 9090
    metrics port="metrics" path="/internal/metrics" interval="90s"
}
service "api-admin" {
    build "go" main="./cmd/api-admin"
    port "http" 8081
    metrics port="http" interval="5s"
}
service "quiet" {
    build "go" main="./cmd/quiet"
    port "http" 8082
}
environment "prod" production=#true {
    runs-on "kubernetes" namespace="shop-prod" monitoring="config"
}
environment "operated" {
    runs-on "kubernetes" namespace="shop-operated"
}
environment "lab" {
    runs-on "systemd" {
        host "lab-1.internal"
        host "lab-2.internal"
    }
    workloads "api" "quiet"
}
environment "empty" {
    runs-on "systemd" {
        host "x.internal"
    }
    workloads "quiet"
}
"#;

    #[test]
    fn durations_are_canonical() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(500), "500ms");
        assert_eq!(duration(15_000), "15s");
        assert_eq!(duration(90_000), "1m30s");
        assert_eq!(duration(300_000), "5m");
        assert_eq!(duration(5_400_000), "1h30m");
        assert_eq!(duration(3_601_500), "1h1s500ms");
    }

    #[test]
    fn escaping() {
        assert_eq!(regex_escape("api-v2"), "api-v2");
        assert_eq!(regex_escape("a.b+c"), r"a\.b\+c");
        assert_eq!(promql_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(host_port("10.0.0.1", 9090), "10.0.0.1:9090");
        assert_eq!(host_port("fd00::1", 9090), "[fd00::1]:9090");
    }

    #[test]
    fn one_job_per_service_with_metrics_and_nothing_for_an_environment_without() {
        let files = prometheus_files(SPEC);
        let paths: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            ["prometheus/lab/prometheus.yml", "prometheus/lab/rules.yml", "prometheus/prod/prometheus.yml", "prometheus/prod/rules.yml"]
        );
        let prod = &files["prometheus/prod/prometheus.yml"];
        assert!(prod.starts_with("# generated by hawser from hawser.kdl, do not edit\n"), "{prod}");
        assert_eq!(prod.matches("job_name:").count(), 2, "{prod}");
        assert!(prod.contains("job_name: shop-prod-api\n") && prod.contains("job_name: shop-prod-api-admin\n"), "{prod}");
        assert!(!prod.contains("quiet"), "{prod}");
        let lab = &files["prometheus/lab/prometheus.yml"];
        assert_eq!(lab.matches("job_name:").count(), 1, "{lab}");
    }

    #[test]
    fn kubernetes_jobs_discover_only_the_metrics_port_in_the_namespace() {
        let prod = &prometheus_files(SPEC)["prometheus/prod/prometheus.yml"];
        assert!(!prod.contains("dns_sd_configs"), "{prod}");
        assert!(prod.contains("- role: pod\n    namespaces:\n      names:\n      - shop-prod\n"), "{prod}");
        assert!(prod.contains("label: app.kubernetes.io/instance=shop,app.kubernetes.io/name=api-admin\n"), "{prod}");
        // The selector labels, the container and the port, in that order.
        assert!(
            prod.contains(
                "  - action: keep\n    source_labels:\n    - __meta_kubernetes_pod_label_app_kubernetes_io_instance\n    \
                 - __meta_kubernetes_pod_label_app_kubernetes_io_name\n    - __meta_kubernetes_pod_container_name\n    \
                 - __meta_kubernetes_pod_container_port_name\n    regex: shop;api;api;metrics\n"
            ),
            "{prod}"
        );
        assert!(prod.contains("regex: shop;api-admin;api-admin;http\n"), "{prod}");
        assert!(prod.contains("source_labels:\n    - __meta_kubernetes_pod_name\n    target_label: pod\n"), "{prod}");
        assert!(prod.contains("scrape_interval: 1m30s\n") && prod.contains("scrape_timeout: 10s\n"), "{prod}");
        assert!(prod.contains("metrics_path: /internal/metrics\n"), "{prod}");
        // The default timeout is never above a short interval.
        assert!(prod.contains("scrape_interval: 5s\n  scrape_timeout: 5s\n"), "{prod}");
        assert!(prod.contains("metrics_path: /metrics\n"), "{prod}");
        assert_eq!(label_name("app.kubernetes.io/name"), "app_kubernetes_io_name");
    }

    /// With prometheus-operator, the manifests' PodMonitors and PrometheusRules are the
    /// monitoring: no configuration file beside them.
    #[test]
    fn an_operator_environment_gets_no_configuration() {
        assert!(prometheus_files(SPEC).keys().all(|p| !p.starts_with("prometheus/operated/")));
    }

    #[test]
    fn systemd_jobs_scrape_every_host() {
        let lab = &prometheus_files(SPEC)["prometheus/lab/prometheus.yml"];
        assert!(lab.contains("- lab-1.internal:9090\n    - lab-2.internal:9090\n"), "{lab}");
        assert!(lab.contains("environment: lab\n") && lab.contains("workload: api\n"), "{lab}");
        assert!(!lab.contains("dns_sd_configs"), "{lab}");
    }

    #[test]
    fn rules_per_workload() {
        let files = prometheus_files(SPEC);
        let prod = &files["prometheus/prod/rules.yml"];
        assert!(prod.starts_with("# generated by hawser from hawser.kdl, do not edit\n"), "{prod}");
        assert_eq!(prod.matches("alert: WorkloadDown").count(), 2, "{prod}");
        // Every workload has alerts, one without metrics too.
        assert_eq!(prod.matches("alert: DeploymentUnavailable").count(), 3, "{prod}");
        assert!(prod.contains("deployment=\"quiet\""), "{prod}");
        assert_eq!(prod.matches("alert: KubeStateMetricsMissing").count(), 1, "{prod}");
        assert!(prod.contains("severity: critical"), "production: {prod}");
        assert!(prod.contains(r#"up{namespace="shop-prod", workload="api"}"#), "{prod}");
        assert!(prod.contains("the Prometheus runs the scrape job shop-prod-api "), "{prod}");
        assert!(!prod.contains("__NAMESPACE__") && !prod.contains("PodMonitor"), "{prod}");
        let lab = &files["prometheus/lab/rules.yml"];
        assert!(!lab.contains("severity: critical") && !lab.contains("KubeStateMetrics"), "{lab}");
        assert!(lab.contains(r#"changes(process_start_time_seconds{job="shop-lab-api"}[15m]) > 3"#), "{lab}");
        // A 90s interval: down alerts wait two scrapes, and at least 5 minutes.
        assert!(lab.contains("for: 5m\n") && !lab.contains("for: 3m\n"), "{lab}");
    }

    #[test]
    fn output_does_not_depend_on_declaration_order() {
        // Swap the first two services.
        let api = SPEC.find("service \"api\" {").unwrap();
        let admin = SPEC.find("service \"api-admin\"").unwrap();
        let quiet = SPEC.find("service \"quiet\"").unwrap();
        let swapped = format!("{}{}{}{}", &SPEC[..api], &SPEC[admin..quiet], &SPEC[api..admin], &SPEC[quiet..]);
        assert_eq!(prometheus_files(SPEC), prometheus_files(&swapped));
    }
}
