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
//! * **Kubernetes** discovers targets through the cluster's DNS: the Kubernetes generator
//!   gives every workload with metrics a headless Service `<workload>-metrics` whose one
//!   port is named like the spec's metrics port, and Kubernetes publishes an SRV record
//!   `_<port>._tcp.<workload>-metrics.<namespace>.svc.cluster.local` listing exactly that
//!   port of that workload's ready pods in that namespace. That is the contract with the
//!   Kubernetes generator. `dns_sd_configs` needs no RBAC for Prometheus and works with
//!   every Prometheus build — distribution builds without the Kubernetes discovery
//!   (Debian's, which this project's CI validates with) included; `kubernetes_sd_configs`
//!   would reject the config there. Targets get a `namespace` label; the cluster domain is
//!   assumed to be `cluster.local`.
//! * **systemd** uses static targets `<host>:<port>`, one per host of the environment,
//!   since every host runs one instance of each service.
//! * **Interval, timeout and path** come from the spec, durations written in Prometheus'
//!   canonical form (`90s` becomes `1m30s`).
//! * **Alerts** (labels `severity`, `project`, `environment`, `workload`; `summary` and
//!   `description` annotations):
//!   - `WorkloadDown`: no instance of the workload answers a scrape, or none is
//!     discovered at all (`absent(up{…})`, which also catches a Service whose labels or
//!     port name do not match). `critical` in a `production=#true` environment, else
//!     `warning`.
//!   - `TargetDown`: one instance does not answer (a pod, or a host). `warning`.
//!   - `WorkloadRestartStorm`, more than 3 restarts in 15 minutes. On Kubernetes from
//!     kube-state-metrics' `kube_pod_container_status_restarts_total`, selected by
//!     namespace and the Deployment's pod names (`<workload>-<hash>-<suffix>`, excluding
//!     the pods of other workloads whose names extend this one's); on systemd from
//!     `changes(process_start_time_seconds{job=…})`, which client_golang's process
//!     collector exports. `warning`.
//!   - `KubeStateMetricsMissing` (Kubernetes environments only): the restart alert's
//!     series are absent, so that alert could never fire. `warning`.
//!
//!   Down alerts wait `max(5m, 2 × interval)`, so at least two scrapes have failed.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Artifacts;
use crate::check::model::{Environment, Metrics, Platform, Workload};
use crate::check::values::Duration;

/// The scrape configuration's file name in `prometheus/<env>/`.
pub const CONFIG_FILE: &str = "prometheus.yml";
/// The alert rules' file name, beside the configuration that loads it.
pub const RULES_FILE: &str = "rules.yml";

/// The cluster's DNS domain, which SRV names end in.
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// The headless Service the Kubernetes generator writes for a workload with metrics.
pub fn metrics_service(workload: &str) -> String {
    format!("{workload}-metrics")
}

/// The SRV record Kubernetes publishes for the metrics port of a workload's headless
/// metrics Service: exactly that port of that workload's ready pods in that namespace.
pub fn srv_name(workload: &str, port_name: &str, namespace: &str) -> String {
    format!("_{port_name}._tcp.{}.{namespace}.svc.{CLUSTER_DOMAIN}", metrics_service(workload))
}

/// More restarts than this in the restart window is a restart storm.
pub const RESTART_THRESHOLD: u32 = 3;
/// The restart window, and the least time a down alert waits.
const RESTART_WINDOW_MILLIS: u64 = 15 * 60_000;
const DOWN_FOR_MILLIS: u64 = 5 * 60_000;

/// Writes `prometheus/<env>/prometheus.yml` and `rules.yml` for one environment, or
/// nothing when no service there exposes metrics.
pub fn emit(environment: &Environment, header: &str, out: &mut Artifacts) -> Result<(), String> {
    let Some(platform) = &environment.platform else { return Ok(()) };
    let ctx = Context {
        project: &environment.view.project.name.value,
        environment: &environment.name.value,
        production: environment.production,
        platform,
    };
    let scraped: Vec<(&Workload, &Metrics)> =
        environment.view.workloads.values().filter(|w| w.is_service()).filter_map(|w| Some((&**w, w.metrics.as_ref()?))).collect();
    if scraped.is_empty() {
        return Ok(());
    }
    let mut scrape_configs = Vec::new();
    let mut rules = Vec::new();
    for (w, m) in &scraped {
        let target = Target::new(&ctx, w, m)?;
        scrape_configs.push(scrape_config(&ctx, &target));
        rules.extend(workload_rules(&ctx, &target, &environment.view.workloads));
    }
    if let Platform::Kubernetes { namespace } = platform {
        rules.push(kube_state_metrics_missing(&ctx, &namespace.value));
    }
    let config = Config { rule_files: vec![RULES_FILE], scrape_configs };
    let rule_file = RuleFile { groups: vec![RuleGroup { name: format!("{}-{}", ctx.project, ctx.environment), rules }] };
    let dir = format!("prometheus/{}", ctx.environment);
    out.add(format!("{dir}/{CONFIG_FILE}"), yaml(header, &config)?);
    out.add(format!("{dir}/{RULES_FILE}"), yaml(header, &rule_file)?);
    Ok(())
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

/// A PromQL string literal: double quotes, with `\` and `"` escaped.
pub fn promql_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', r"\\").replace('"', "\\\""))
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
    dns_sd_configs: Vec<DnsSdConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    static_configs: Vec<StaticConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    relabel_configs: Vec<RelabelConfig>,
}

#[derive(Serialize)]
struct DnsSdConfig {
    names: Vec<String>,
    #[serde(rename = "type")]
    record: &'static str,
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
    source_labels: Vec<&'static str>,
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
        dns_sd_configs: Vec::new(),
        static_configs: Vec::new(),
        relabel_configs: Vec::new(),
    };
    match ctx.platform {
        Platform::Kubernetes { namespace } => {
            job.dns_sd_configs = vec![DnsSdConfig { names: vec![srv_name(t.workload, t.port_name, &namespace.value)], record: "SRV" }];
            job.relabel_configs = vec![
                set("namespace", &namespace.value),
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

fn set(label: &'static str, value: &str) -> RelabelConfig {
    RelabelConfig {
        action: "replace",
        source_labels: Vec::new(),
        regex: None,
        target_label: Some(label),
        replacement: Some(value.to_owned()),
    }
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

fn workload_rules(ctx: &Context, t: &Target, workloads: &BTreeMap<String, std::sync::Arc<Workload>>) -> Vec<Rule> {
    let who = format!("{} {} ({})", ctx.project, t.workload, ctx.environment);
    let endpoint = format!("port {} `{}`, path {}", t.port, t.port_name, t.path);
    let (instance, down_cause) = match ctx.platform {
        Platform::Kubernetes { namespace } => (
            // DNS discovery sets no `pod` label: the instance (the pod's address) is what there is.
            "the pod at {{ $labels.instance }}",
            format!(
                ", or no endpoint is discovered: no pod runs, or the Service in namespace {} does not carry the labels \
                 app.kubernetes.io/name={} and app.kubernetes.io/instance={} or has no port named `{}`",
                namespace.value, t.workload, ctx.project, t.port_name
            ),
        ),
        Platform::Systemd { hosts, .. } => (
            "{{ $labels.instance }}",
            format!(
                " on {}; see `systemctl status {}-{}` there",
                if hosts.len() == 1 { "its host".to_owned() } else { format!("any of its {} hosts", hosts.len()) },
                ctx.project,
                t.workload
            ),
        ),
    };
    let down_for = t.down_for();
    let mut rules = vec![
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
                format!("{instance} of {who} is down"),
                format!(
                    "Prometheus has not been able to scrape {instance} of {who} ({endpoint}) for {down_for}: \
                     it is down or does not serve metrics there."
                ),
            ),
        },
    ];
    rules.push(match ctx.platform {
        Platform::Kubernetes { namespace } => {
            let window = duration(RESTART_WINDOW_MILLIS);
            // Deployment pods are `<workload>-<replicaset hash>-<suffix>`. A workload
            // whose name extends this one's (`catalog-migrate` beside `catalog`) has pods
            // that could match too: they are excluded by name.
            let mut selector = format!(
                "namespace={}, pod=~{}",
                promql_string(&namespace.value),
                promql_string(&format!("{}-[a-z0-9]+-[a-z0-9]+", regex_escape(t.workload)))
            );
            let prefix = format!("{}-", t.workload);
            let longer: Vec<String> =
                workloads.keys().filter(|k| k.starts_with(&prefix)).map(|k| format!("{}-.*", regex_escape(k))).collect();
            if !longer.is_empty() {
                selector.push_str(&format!(", pod!~{}", promql_string(&longer.join("|"))));
            }
            Rule {
                alert: "WorkloadRestartStorm",
                expr: format!("increase(kube_pod_container_status_restarts_total{{{selector}}}[{window}]) > {RESTART_THRESHOLD}"),
                for_: None,
                labels: rule_labels(ctx, t, "warning"),
                annotations: annotations(
                    format!("{who} is restarting repeatedly"),
                    format!(
                        "Container {{{{ $labels.container }}}} of pod {{{{ $labels.pod }}}} of {who} restarted \
                         {{{{ $value | printf \"%.0f\" }}}} times in {window} (kube-state-metrics)."
                    ),
                ),
            }
        }
        Platform::Systemd { .. } => {
            // changes() sees only restarts between two scrapes: the window holds at least
            // five of them, so that more than three changes can be seen at all.
            let window = duration(RESTART_WINDOW_MILLIS.max(5 * t.interval_millis));
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
            }
        }
    });
    rules
}

/// Without kube-state-metrics' restart counters in this Prometheus, the restart-storm
/// alerts can never fire: say so instead of staying silent.
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
                 WorkloadRestartStorm alerts of {} ({}) cannot fire: scrape kube-state-metrics in this Prometheus, \
                 with honor_labels: true so that its namespace label is kept.",
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
    runs-on "kubernetes" namespace="shop-prod"
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
        assert!(prod.contains("type: SRV"), "{prod}");
        assert!(prod.contains("- _metrics._tcp.api-metrics.shop-prod.svc.cluster.local\n"), "{prod}");
        assert!(prod.contains("- _http._tcp.api-admin-metrics.shop-prod.svc.cluster.local\n"), "{prod}");
        assert!(prod.contains("target_label: namespace\n    replacement: shop-prod\n"), "{prod}");
        assert!(prod.contains("scrape_interval: 1m30s\n") && prod.contains("scrape_timeout: 10s\n"), "{prod}");
        assert!(prod.contains("metrics_path: /internal/metrics\n"), "{prod}");
        // The default timeout is never above a short interval.
        assert!(prod.contains("scrape_interval: 5s\n  scrape_timeout: 5s\n"), "{prod}");
        assert!(prod.contains("metrics_path: /metrics\n"), "{prod}");
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
        assert_eq!(prod.matches("alert: KubeStateMetricsMissing").count(), 1, "{prod}");
        assert!(prod.contains("severity: critical"), "production: {prod}");
        // api's restart alert leaves out api-admin's pods.
        assert!(prod.contains(r#"pod=~"api-[a-z0-9]+-[a-z0-9]+", pod!~"api-admin-.*"}"#), "{prod}");
        assert!(prod.contains(r#"pod=~"api-admin-[a-z0-9]+-[a-z0-9]+"}"#), "{prod}");
        // A 90s interval: down alerts wait two scrapes.
        assert!(prod.contains("for: 5m\n") && !prod.contains("for: 3m\n"), "{prod}");
        let lab = &files["prometheus/lab/rules.yml"];
        assert!(!lab.contains("severity: critical") && !lab.contains("KubeStateMetrics"), "{lab}");
        assert!(lab.contains(r#"changes(process_start_time_seconds{job="shop-lab-api"}[15m]) > 3"#), "{lab}");
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
