//! What a Kubernetes environment's Prometheus, run by prometheus-operator
//! (kube-prometheus-stack), consumes: a PodMonitor for each workload that exposes metrics and
//! a PrometheusRule with alerts for every workload, written with the workload's other objects
//! in `kubernetes/<env>/<workload>.yaml` and rendered the same by the chart. This module
//! computes the alerts, as chart values; `kubernetes/objects.rs` and the chart's templates
//! make the objects.
//!
//! Decisions, also in `docs/prometheus.md`:
//!
//! * **PodMonitor, not ServiceMonitor.** It selects the workload's pods by their selector
//!   labels and scrapes the container port named like the spec's metrics port, in the
//!   namespace it is applied in. Every pod is a target, Ready or not, so a pod that does not
//!   answer is seen (as with the plain configuration's pod discovery). The
//!   operator's discovery sets `namespace`, `pod`, `container`, `endpoint` and `job`
//!   (`<namespace>/<podmonitor>`); relabelling adds `project`, `environment` and `workload`,
//!   which the alerts select on.
//! * **Alerts for every workload**, from kube-state-metrics for what Kubernetes knows and from
//!   `up` for what only a scrape can tell, each with a `description` that says what to look
//!   at and what to do: `DeploymentUnavailable` (`StatefulSetUnavailable` for a service with
//!   a persistent volume), `TargetDown`/`WorkloadDown` (workloads with
//!   metrics), `JobFailed` (run-once jobs), `CronJobNotScheduled` and `CronJobRunFailed`,
//!   `ContainerOOMKilled` and `ContainerRestarting` for every container named after a
//!   workload. kube-state-metrics labels its series with `namespace` and the object's name
//!   (`deployment`, `job_name`, `cronjob`, `container`); containers are named after their
//!   workload's objects, so `container="<name>"` selects exactly one workload's. What depends
//!   on the release (the namespace, the objects' names) is written as placeholders that the
//!   manifests and the chart fill in ([`fill`]).

use serde::Serialize;

use crate::check::model::{Workload, WorkloadKind};

/// Stands for the namespace in the alerts' values: the objects, and the chart's templates,
/// put the namespace they are applied in (`.Release.Namespace` for the chart) in its place.
pub const NAMESPACE: &str = "__NAMESPACE__";
/// Stands for the name of the workload's objects (its Deployment, StatefulSet, CronJob,
/// container, and the `workload` label of its series): the workload's own in the manifests,
/// the release-scoped one in the chart (`<release>-<workload>`).
pub const NAME: &str = "__NAME__";
/// Stands for the part of a run-once Job's name before its digest: [`NAME`] cut to 52
/// characters (`kubernetes/objects.rs`, `job_object_name`).
pub const JOB: &str = "__JOB__";
/// Stands for the `app.kubernetes.io/instance` label of the pods: the project's in the
/// manifests, the release's name in the chart.
pub const INSTANCE: &str = "__INSTANCE__";

/// An alert's text with the placeholders put in: what the manifests and the plain
/// configuration write (the chart's templates do the same with the release's names). One
/// pass: at each `_`, the placeholder that starts there, if any. No name holds `_`, so
/// nothing put in can start another placeholder.
pub fn fill(text: &str, namespace: &str, name: &str, instance: &str) -> String {
    let job = name.char_indices().nth(52).map_or(name, |(at, _)| &name[..at]);
    let values = [(JOB, job.trim_end_matches('-')), (NAME, name), (INSTANCE, instance), (NAMESPACE, namespace)];
    let mut out = String::with_capacity(text.len() + 2 * name.len());
    let mut rest = text;
    while let Some(at) = rest.find('_') {
        let (before, from) = rest.split_at(at);
        // Every placeholder starts with two: a lone `_` (PromQL's metric names are full of
        // them) is passed at once.
        let placeholder = match from.as_bytes().get(1) {
            Some(b'_') => values.iter().find(|(placeholder, _)| from.starts_with(placeholder)),
            _ => None,
        };
        match placeholder {
            Some((placeholder, value)) => {
                out.push_str(before);
                out.push_str(value);
                rest = &from[placeholder.len()..];
            }
            None => {
                out.push_str(&rest[..=at]);
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    // In the library's tests, every text is held to one replacement after another.
    #[cfg(test)]
    assert_eq!(
        out,
        text.replace(JOB, job.trim_end_matches('-')).replace(NAME, name).replace(INSTANCE, instance).replace(NAMESPACE, namespace),
        "{text}"
    );
    out
}

/// A PromQL string literal: double quotes, with `\` and `"` escaped.
pub fn promql_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', r"\\").replace('"', "\\\""))
}

/// A spec's path as alert texts show it: a `_` is written `%5F` (the same path to an HTTP
/// server) where the path holds `__`, so that it cannot read as a placeholder.
fn shown_path(path: &str) -> String {
    if path.contains("__") { path.replace('_', "%5F") } else { path.to_owned() }
}

/// The namespace Prometheus runs in; its pods may scrape every metrics port.
pub const PROMETHEUS_NAMESPACE: &str = "monitoring";

/// One alert of a workload, as a chart value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertValues {
    pub alert: &'static str,
    pub expr: String,
    #[serde(rename = "for")]
    pub for_: String,
    /// `critical` in a production environment, else `warning`; always `warning` when false.
    pub critical: bool,
    pub summary: String,
    pub description: String,
}

/// Who scrapes the metrics ports, which the alerts' texts tell the reader to check.
#[derive(Clone, Copy, Debug)]
pub enum Scraper<'a> {
    /// prometheus-operator, through the workload's PodMonitor.
    Operator,
    /// A Prometheus configured by `prometheus/<env>/prometheus.yml`, through this job (for
    /// a workload with metrics).
    Config { job: Option<&'a str> },
}

/// The alerts of one workload of a project, for the PrometheusRule of the manifests.
pub fn alerts(project: &str, w: &Workload) -> Vec<AlertValues> {
    alerts_for(project, w, Scraper::Operator)
}

/// The alerts of one workload of a project, scraped as `scraper` says.
pub fn alerts_for(project: &str, w: &Workload, scraper: Scraper) -> Vec<AlertValues> {
    Ctx { project, namespace: NAMESPACE, scraper }.rules(w)
}

struct Ctx<'a> {
    project: &'a str,
    namespace: &'a str,
    scraper: Scraper<'a>,
}

impl Ctx<'_> {
    fn rule(&self, alert: &'static str, expr: String, for_: &str, critical: bool, summary: String, description: String) -> AlertValues {
        AlertValues { alert, expr, for_: for_.to_owned(), critical, summary, description }
    }

    /// The alerts only a scrape can tell: a pod that does not answer, none that does.
    fn scrape_rules(&self, w: &Workload, out: &mut Vec<AlertValues>) {
        let name = w.name.value.as_str();
        let ns = promql_string(self.namespace);
        let who = format!("{} {name}", self.project);
        let kubectl = format!("kubectl -n {}", self.namespace);
        let pods = format!("-l app.kubernetes.io/name={name},app.kubernetes.io/instance={INSTANCE}");
        if let Some(m) = &w.metrics {
            let up = format!("up{{namespace={ns}, workload={}}}", promql_string(NAME));
            out.push(self.rule(
                "TargetDown",
                format!("{up} == 0"),
                "5m",
                false,
                format!("{who}: pod {{{{ $labels.pod }}}} does not answer scrapes"),
                format!(
                    "Prometheus cannot scrape pod {{{{ $labels.pod }}}} on port `{}` (path {}). A pod that stays unscrapable \
                     is hung or overloaded: check `{kubectl} describe pod {{{{ $labels.pod }}}}` and its logs, and delete \
                     it if it does not recover.",
                    m.port.value,
                    shown_path(m.path())
                ),
            ));
            let discovery = match self.scraper {
                Scraper::Operator => {
                    format!("that the PodMonitor {NAME} exists in namespace {} and the Prometheus selects it", self.namespace)
                }
                Scraper::Config { job } => format!(
                    "that the Prometheus runs the scrape job {} and may list pods in namespace {} (RBAC)",
                    job.unwrap_or(name),
                    self.namespace
                ),
            };
            out.push(self.rule(
                "WorkloadDown",
                format!("sum({up}) == 0 or absent({up})"),
                "5m",
                true,
                format!("{who}: no pod answers scrapes"),
                format!(
                    "No pod of {name} is scraped successfully, or none is discovered. Check that pods run \
                     (`{kubectl} get pods {pods}`), {discovery}, and that the NetworkPolicy admits namespace \
                     {PROMETHEUS_NAMESPACE}."
                ),
            ));
        }
    }

    /// The alerts of one workload.
    fn rules(&self, w: &Workload) -> Vec<AlertValues> {
        let name = w.name.value.as_str();
        let ns = promql_string(self.namespace);
        let who = format!("{} {name}", self.project);
        let kubectl = format!("kubectl -n {}", self.namespace);
        let pods = format!("-l app.kubernetes.io/name={name},app.kubernetes.io/instance={INSTANCE}");
        let mut out = Vec::new();
        match &w.kind {
            WorkloadKind::Service if w.is_stateful() => {
                out.push(self.rule(
                    "StatefulSetUnavailable",
                    format!(
                        "kube_statefulset_status_replicas{{namespace={ns}, statefulset={name_q}}} - kube_statefulset_status_replicas_ready{{namespace={ns}, statefulset={name_q}}} > 0",
                        name_q = promql_string(NAME)
                    ),
                    "10m",
                    true,
                    format!("{who}: {{{{ $value }}}} replica(s) unavailable for 10 minutes"),
                    format!(
                        "Pods of StatefulSet {NAME} are not Ready. Look at `{kubectl} get pods {pods}` and \
                         `{kubectl} describe pod` for the reason (a claim that does not bind: `{kubectl} get pvc`, image pull, \
                         scheduling in the zone of its volume, a failing readiness check, a dependency an init container waits for), \
                         then `{kubectl} logs` of a failing pod; roll back with `{kubectl} rollout undo statefulset/{NAME}` when a \
                         release caused it. The pods of a StatefulSet start one at a time: one stuck pod holds the others."
                    ),
                ));
                self.scrape_rules(w, &mut out);
            }
            WorkloadKind::Service => {
                out.push(self.rule(
                    "DeploymentUnavailable",
                    format!("kube_deployment_status_replicas_unavailable{{namespace={ns}, deployment={}}} > 0", promql_string(NAME)),
                    "10m",
                    true,
                    format!("{who}: {{{{ $value }}}} replica(s) unavailable for 10 minutes"),
                    format!(
                        "Pods of Deployment {NAME} are not Ready. Look at `{kubectl} get pods {pods}` and \
                         `{kubectl} describe pod` for the reason (image pull, scheduling, failing readiness check, a dependency an \
                         init container waits for), then `{kubectl} logs` of a failing pod; roll back with \
                         `{kubectl} rollout undo deployment/{NAME}` when a release caused it."
                    ),
                ));
                self.scrape_rules(w, &mut out);
            }
            WorkloadKind::Job(j) if j.schedule.is_none() => {
                out.push(self.rule(
                    "JobFailed",
                    format!("kube_job_status_failed{{namespace={ns}, job_name=~{}}} > 0", promql_string(&format!("{JOB}-[0-9a-f]{{10}}"))),
                    "0m",
                    true,
                    format!("{who}: Job {{{{ $labels.job_name }}}} failed"),
                    format!(
                        "The run-once job {name} failed (its retries are spent, or its deadline passed); its dependents may run \
                         against an unmigrated state. Read `{kubectl} logs job/{{{{ $labels.job_name }}}}`, fix the cause, then \
                         delete the Job and apply the release again (the chart: `helm upgrade`), which runs it again."
                    ),
                ));
            }
            WorkloadKind::Job(_) => {
                out.push(self.rule(
                    "CronJobNotScheduled",
                    format!("time() - kube_cronjob_next_schedule_time{{namespace={ns}, cronjob={}}} > 900", promql_string(NAME)),
                    "5m",
                    false,
                    format!("{who}: the scheduled job did not start on time"),
                    format!(
                        "CronJob {NAME} is more than 15 minutes past its next scheduled time without starting a run: it is \
                         suspended, the previous run still holds it (concurrencyPolicy Forbid), or the run could not start \
                         within its starting deadline. See `{kubectl} describe cronjob {NAME}` and `{kubectl} get jobs`."
                    ),
                ));
                out.push(self.rule(
                    "CronJobRunFailed",
                    format!("kube_job_status_failed{{namespace={ns}, job_name=~{}}} > 0", promql_string(&format!("{NAME}-[0-9]+"))),
                    "0m",
                    false,
                    format!("{who}: run {{{{ $labels.job_name }}}} failed"),
                    format!(
                        "A run of the scheduled job {name} failed. Read `{kubectl} logs job/{{{{ $labels.job_name }}}}`; the next \
                         scheduled run starts on its own, delete the failed Job once the cause is understood."
                    ),
                ));
            }
        }
        let container = format!("namespace={ns}, container={}", promql_string(NAME));
        out.push(self.rule(
            "ContainerOOMKilled",
            format!(
                "increase(kube_pod_container_status_restarts_total{{{container}}}[15m]) > 0 \
                 and on(namespace, pod, container) kube_pod_container_status_last_terminated_reason{{{container}, reason=\"OOMKilled\"}} == 1"
            ),
            "0m",
            false,
            format!("{who}: pod {{{{ $labels.pod }}}} was killed for using more than its memory limit"),
            format!(
                "The container {NAME} exceeded its memory limit and was killed. GOMEMLIMIT is 90% of the limit, so the Go heap \
                 alone should not do this: look for a leak or memory outside the heap (`{kubectl} top pod`, the process's \
                 metrics), and raise `memory limit=` in the spec if the workload needs more."
            ),
        ));
        out.push(self.rule(
            "ContainerRestarting",
            format!("increase(kube_pod_container_status_restarts_total{{{container}}}[15m]) > 3"),
            "0m",
            false,
            format!("{who}: pod {{{{ $labels.pod }}}} restarted {{{{ $value | humanize }}}} times in 15 minutes"),
            format!(
                "The container {NAME} keeps restarting: it crashes or fails its liveness check. Read the previous run's log \
                 (`{kubectl} logs {{{{ $labels.pod }}}} -c {NAME} --previous`) and `{kubectl} describe pod {{{{ $labels.pod }}}}`."
            ),
        ));
        out
    }
}
