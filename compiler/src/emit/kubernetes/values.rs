//! The data Kubernetes objects are built from, per environment: computed once from the
//! typed model, then either mapped to objects by [`super::objects`] or written to the Helm
//! chart's values files, where the chart's templates do the same mapping.
//!
//! Field names are the chart's value names (camelCase, Helm's convention). Settings that do
//! not apply are left out rather than null, so an environment's values file can remove
//! them with `null`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use serde::Serialize;

use crate::check::model::{EnvValue, ProbeCheck, Protocol, SecretSource, Spec, View, Workload, WorkloadKind};
use crate::emit::monitoring::PROMETHEUS_NAMESPACE;
use crate::emit::{Options, deploy_version};

/// The image of the init containers that wait for dependencies: small, with `nc`, pinned
/// by the digest of its multi-platform index so a moved tag cannot change what runs.
pub const WAIT_IMAGE: &str = "docker.io/library/busybox:1.36.1@sha256:73aaf090f3d85aa34ee199857f03fa3a95c8ede2ffd4cc2cdb5b94e566b11662";
/// How long a wait-for-dependency init container tries before it fails the pod, in seconds.
pub const WAIT_SECONDS: u64 = 300;
/// The image of the init containers that wait for a run-once job to complete: the
/// Kubernetes project's kubectl, pinned by the digest of its multi-platform index.
pub const JOB_WAIT_IMAGE: &str = "registry.k8s.io/kubectl:v1.31.2@sha256:d31de5468fb5c0943358671e3dcf8e4d8281108027efd1f211262d09aedd5519";
/// Where the pods that wait for a job reach the API server: any address (a NetworkPolicy
/// cannot name the API server, whose address depends on the cluster), on the ports API
/// servers listen on (443 behind the `kubernetes` Service of managed clusters, 6443 on
/// kubeadm's control-plane nodes; policies see the address after the Service's translation).
pub const API_SERVER_CIDR: &str = "0.0.0.0/0";
pub const API_SERVER_PORTS: [u16; 2] = [443, 6443];
/// A job's deadline when the spec sets no `timeout`: the same hour systemd gives a oneshot.
pub const JOB_DEADLINE_SECONDS: u64 = 3600;
/// How late a CronJob run may still start: a controller outage or a slow previous run
/// delays it, but a missed run never blocks the schedule for good.
pub const STARTING_DEADLINE_SECONDS: u64 = 300;
/// How long a finished run-once Job stays for its logs before Kubernetes deletes it.
pub const JOB_TTL_SECONDS: u64 = 604_800;
/// The suffix of the hook-owned copy of an ExternalSecret that hook jobs and ordinary
/// workloads share (see [`chart`]).
pub const HOOK_COPY_SUFFIX: &str = "-hook";
/// The ClusterSecretStore that ExternalSecrets read Vault through.
pub const SECRET_STORE: &str = "vault";
/// The directory secrets delivered as files are mounted under, one directory per secret.
pub const SECRET_DIR: &str = "/var/run/secrets/hawser";

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartValues {
    pub project: String,
    /// The environment's name (empty in the base values), a label of scraped series and alerts.
    pub environment: String,
    /// Whether the environment is `production=#true`: some alerts are critical there.
    pub production: bool,
    /// Whether the objects include prometheus-operator's PodMonitors and PrometheusRules.
    pub prometheus_operator: bool,
    pub version: String,
    pub prometheus_namespace: String,
    pub wait_image: String,
    pub wait_seconds: u64,
    pub job_wait_image: String,
    pub api_server: ApiServerValues,
    /// The Secrets every pod pulls its images with (`pull-secret`), by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<String>,
    pub secret_store: String,
    /// Keyed by the name of the Secret they sync.
    pub external_secrets: BTreeMap<String, ExternalSecretValues>,
    pub workloads: BTreeMap<String, WorkloadValues>,
    /// How exposed ports are reached; only when a workload exposes one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposure: Option<super::expose::ExposureValues>,
    /// For each job, the workloads whose pods wait for it, in name order: the ordinary
    /// ones, then the hook jobs. An index over `workloads` (not a value of the chart), so
    /// that each job finds its waiters without reading every workload.
    #[serde(skip)]
    pub waiters: BTreeMap<String, [Vec<String>; 2]>,
}

impl ChartValues {
    /// These values but the workloads (and their index): the head of the chart's values,
    /// small to copy. Every field is named, so that a new one cannot be left out.
    pub fn head(&self) -> ChartValues {
        let ChartValues {
            project,
            environment,
            production,
            prometheus_operator,
            version,
            prometheus_namespace,
            wait_image,
            wait_seconds,
            job_wait_image,
            api_server,
            image_pull_secrets,
            secret_store,
            external_secrets,
            workloads: _,
            exposure,
            waiters: _,
        } = self;
        ChartValues {
            project: project.clone(),
            environment: environment.clone(),
            production: *production,
            prometheus_operator: *prometheus_operator,
            version: version.clone(),
            prometheus_namespace: prometheus_namespace.clone(),
            wait_image: wait_image.clone(),
            wait_seconds: *wait_seconds,
            job_wait_image: job_wait_image.clone(),
            api_server: api_server.clone(),
            image_pull_secrets: image_pull_secrets.clone(),
            secret_store: secret_store.clone(),
            external_secrets: external_secrets.clone(),
            workloads: BTreeMap::new(),
            exposure: exposure.clone(),
            waiters: BTreeMap::new(),
        }
    }
}

/// Where pods reach the Kubernetes API server (the job waits need it).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiServerValues {
    pub cidr: String,
    pub ports: Vec<u16>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretValues {
    /// The workload whose file (and, for a hook, whose hook phase) it belongs to.
    pub workload: String,
    pub remote_key: String,
    pub property: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadValues {
    /// `Deployment`, `StatefulSet` (a service with a persistent volume), `Job` or `CronJob`.
    pub kind: &'static str,
    pub image: String,
    /// The container's `command`, replacing the image's entrypoint (escaped like `args`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Capabilities the spec adds to the container (`NET_RAW`), sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
    /// Volumes by name: emptyDirs, and a StatefulSet's claim templates.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, super::storage::VolumeValues>,
    /// Configuration files by key in the `<workload>-files` ConfigMap.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, super::storage::FileValues>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<AutoscaleValues>,
    /// The spec's own labels; the recommended `app.kubernetes.io/*` ones are added.
    pub labels: BTreeMap<String, String>,
    pub pod_annotations: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    pub node_selector: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<super::scheduling::Toleration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<super::scheduling::Affinity>,
    /// The spec's own topology spread settings, by topology key; the defaults of a
    /// Deployment with more than one pod are the objects' (and the templates') to add.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub spread: BTreeMap<String, super::scheduling::SpreadValues>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub service_account_annotations: BTreeMap<String, String>,
    pub service_account_token: bool,
    pub ports: Vec<PortValues>,
    /// The Service's type when it is not `ClusterIP`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_type: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub service_annotations: BTreeMap<String, String>,
    /// Ports reachable from outside, through an Ingress or an HTTPRoute.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expose: Vec<super::expose::ExposeValues>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_port: Option<PortValues>,
    /// How prometheus-operator scrapes the metrics port (a PodMonitor), for services with one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape: Option<ScrapeValues>,
    /// The workload's alerts (a PrometheusRule); the namespace is written
    /// [`crate::emit::monitoring::NAMESPACE`].
    pub alerts: Alerts,
    /// What is derived from them (the QoS class, `GOMAXPROCS`, `GOMEMLIMIT`) is not a value:
    /// the objects, and the chart's templates, derive it, so overriding a limit in a values
    /// file cannot leave it stale.
    #[serde(serialize_with = "crate::emit::yaml::memo")]
    pub resources: ResourceRequirements,
    #[serde(serialize_with = "crate::emit::yaml::memo")]
    pub probes: Probes,
    /// Non-secret environment: the ConfigMap's data, but for the addresses below.
    pub config: BTreeMap<String, String>,
    /// Variables of the ConfigMap that hold the address of a workload of the project
    /// (`http://catalog:9000`): written with the name the workload's Service has in the
    /// release, so that two releases in one namespace each talk to their own.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub addresses: BTreeMap<String, AddressValues>,
    /// Environment set on the container itself (secrets), in name order; in the chart's
    /// values a map by name, so a values file adds or changes one variable without
    /// repeating the others.
    #[serde(serialize_with = "env_map")]
    pub env: Vec<EnvVar>,
    pub secret_files: Vec<SecretFile>,
    pub termination_grace_period_seconds: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_stop_sleep_seconds: Option<u64>,
    pub wait_for: Vec<WaitFor>,
    /// The run-once jobs whose completion the pods wait for, by workload name, in name order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub wait_for_jobs: Vec<String>,
    pub network_policy: NetworkPolicyValues,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<JobValues>,
}

/// An environment value that is an address of a workload: `<before><workload><after>`, or
/// `<before><workload>.<namespace><namespaceSuffix><after>` when it names the namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressValues {
    pub before: String,
    pub workload: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_suffix: Option<String>,
    pub after: String,
}

impl AddressValues {
    /// The value, with the workload's Service named `<prefix><workload>` in `namespace`.
    pub fn render(&self, prefix: &str, namespace: &str) -> String {
        let host = match &self.namespace_suffix {
            Some(suffix) => format!("{prefix}{}.{namespace}{suffix}", self.workload),
            None => format!("{prefix}{}", self.workload),
        };
        format!("{}{host}{}", self.before, self.after)
    }
}

/// A reference to a service of the view (`(address)` or `(host)`), as the address of its
/// Service: the value it resolves to, split around the Service's name. `None` for a
/// reference to an external, a `(port)` reference, or one that does not resolve.
fn reference_address(
    view: &View,
    environment: Option<&crate::check::model::Environment>,
    from: &Workload,
    r: &crate::check::model::Reference,
) -> Option<AddressValues> {
    use crate::check::model::{Platform, ReferenceForm};
    use crate::check::references::{CLUSTER_DOMAIN, endpoint, resolve};
    let name = r.target.value.as_str();
    if r.form == ReferenceForm::Port || !view.workloads.get(name).is_some_and(|t| t.is_service()) {
        return None;
    }
    let (host, _) = endpoint(view, environment, &from.name.value, r)?;
    let namespace_suffix = match environment.and_then(|e| e.platform.as_ref()) {
        Some(Platform::Kubernetes { namespace }) if host == format!("{name}.{}.svc.{CLUSTER_DOMAIN}", namespace.value) => {
            Some(format!(".svc.{CLUSTER_DOMAIN}"))
        }
        None if host == name => None,
        _ => return None,
    };
    let value = resolve(view, environment, &from.name.value, r)?;
    let before = match (&r.form, &r.scheme) {
        (ReferenceForm::Address, Some(scheme)) => format!("{}://", scheme.value),
        _ => String::new(),
    };
    let after = value.strip_prefix(before.as_str())?.strip_prefix(host.as_str())?.to_owned();
    Some(AddressValues { before, workload: name.to_owned(), namespace_suffix, after })
}

/// The address of a workload of the view that an environment value holds, if it is one:
/// a URL or `host:port` whose host is the workload's name, or its name in the
/// environment's namespace (`catalog.shop`, `catalog.shop.svc`,
/// `catalog.shop.svc.cluster.local`).
fn workload_address(view: &View, value: &str, namespace: Option<&str>) -> Option<AddressValues> {
    let found = crate::check::values::address(value)?;
    let host = &value[found.host.clone()];
    let (workload, namespace_suffix) = match host.split_once('.') {
        None => (host, None),
        Some((first, rest)) => {
            let ns = namespace?;
            let suffix = rest.strip_prefix(ns)?;
            if !["", ".svc", ".svc.cluster.local"].contains(&suffix) {
                return None;
            }
            (first, Some(suffix.to_owned()))
        }
    };
    view.workloads.contains_key(workload).then(|| AddressValues {
        before: value[..found.host.start].to_owned(),
        workload: workload.to_owned(),
        namespace_suffix,
        after: value[found.host.end..].to_owned(),
    })
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoscaleValues {
    pub min_replicas: u32,
    pub max_replicas: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_percent: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_percent: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScrapeValues {
    pub path: String,
    pub interval: String,
    pub scrape_timeout: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortValues {
    pub name: String,
    pub port: u16,
    pub protocol: &'static str,
    /// The Service's port, when it differs from the container's (`service-port=`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_port: Option<u16>,
}

impl PortValues {
    /// The port as a NetworkPolicy sees it: the pod's, whatever the Service listens on.
    fn pod_port(mut self) -> PortValues {
        self.service_port = None;
        self
    }

    /// The port dependents connect to, through the Service.
    pub fn service_number(&self) -> u16 {
        self.service_port.unwrap_or(self.port)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub startup_probe: Option<Probe>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretFile {
    pub volume: String,
    pub secret_name: String,
    pub key: String,
    pub mount_path: String,
    pub file_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitFor {
    pub name: String,
    pub host: String,
    pub port: u16,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicyValues {
    /// Ports any source may connect to (`public` in the spec).
    pub public_ports: Vec<PortValues>,
    /// Exposed ports, which the ingress controller's or gateway's namespace may connect to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exposed_ports: Vec<PortValues>,
    /// Workloads that may connect, on `ingressPorts`.
    pub ingress_from: Vec<String>,
    pub ingress_ports: Vec<PortValues>,
    pub egress_workloads: Vec<EgressWorkload>,
    pub egress_externals: Vec<EgressExternal>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EgressWorkload {
    pub name: String,
    pub ports: Vec<PortValues>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EgressExternal {
    pub name: String,
    /// `<ip>/32` when the host is an IP address; `0.0.0.0/0` for a DNS name, which a
    /// NetworkPolicy cannot name (the port still limits it).
    pub cidr: String,
    pub port: u16,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobValues {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency_policy: Option<&'static str>,
    pub backoff_limit: u32,
    pub active_deadline_seconds: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starting_deadline_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_seconds_after_finished: Option<u64>,
    /// A run-once job others depend on: in the Helm chart, a pre-install/pre-upgrade hook.
    pub hook: bool,
    /// Its order among the hooks: after the hook jobs it depends on.
    pub hook_weight: u32,
}

/// Writes the container's environment as a map from each variable's name to its source.
fn env_map<S: serde::Serializer>(env: &[EnvVar], serializer: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Source<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        value: Option<&'a String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        value_from: Option<&'a EnvVarSource>,
    }
    serializer.collect_map(env.iter().map(|e| (&e.name, Source { value: e.value.as_ref(), value_from: e.value_from.as_ref() })))
}

/// The values of one view: the base spec (the chart's `values.yaml`) or an environment's.
pub fn chart(spec: &Spec, opts: &Options, view: &View) -> ChartValues {
    chart_for(spec, opts, view, None, None)
}

/// The values of an environment: its view, its name and whether it is production.
pub fn environment_chart(spec: &Spec, opts: &Options, environment: &crate::check::model::Environment) -> ChartValues {
    chart_for(spec, opts, &environment.view, Some(environment), None)
}

/// [`chart`] of the base spec, its alerts taken from `made`.
pub fn base_chart_sharing(spec: &Spec, opts: &Options, made: &MadeAlerts) -> ChartValues {
    chart_for(spec, opts, &spec.base, None, Some(made))
}

/// [`environment_chart`], the alerts of each workload the environment has as the base spec
/// has it taken from `made`.
pub fn environment_chart_sharing(
    spec: &Spec,
    opts: &Options,
    environment: &crate::check::model::Environment,
    made: &MadeAlerts,
) -> ChartValues {
    chart_for(spec, opts, &environment.view, Some(environment), Some(made))
}

/// A workload's alerts, which the charts of the base spec and of the environments that have
/// the workload as the base spec has it share: their texts are a large part of the values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Alerts(Arc<Vec<crate::emit::monitoring::AlertValues>>);

impl Alerts {
    /// The alerts of `w` in a view of `project`, made for it alone.
    fn of(project: &str, w: &Workload) -> Alerts {
        Alerts(Arc::new(crate::emit::monitoring::alerts(project, w)))
    }
}

impl std::ops::Deref for Alerts {
    type Target = [crate::emit::monitoring::AlertValues];
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Serialize for Alerts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// The alerts of the base spec's workloads, each made once, by whichever chart needs it
/// first (the charts are made on several threads).
#[derive(Debug)]
pub struct MadeAlerts<'a> {
    base: &'a View,
    made: BTreeMap<&'a str, OnceLock<Alerts>>,
}

impl<'a> MadeAlerts<'a> {
    pub fn new(spec: &'a Spec) -> MadeAlerts<'a> {
        MadeAlerts { base: &spec.base, made: spec.base.workloads.keys().map(|name| (name.as_str(), OnceLock::new())).collect() }
    }

    /// The alerts of `w` in a view of `project`: the base spec's when it is the base spec's
    /// workload (the same one, not only an equal one), else made for it.
    fn of(&self, project: &str, w: &Arc<Workload>) -> Alerts {
        let make = || Alerts::of(project, w);
        match (self.base.workloads.get(&w.name.value), self.made.get(w.name.value.as_str())) {
            (Some(base), Some(cell)) if Arc::ptr_eq(base, w) && project == self.base.project.name.value => cell.get_or_init(make).clone(),
            _ => make(),
        }
    }
}

fn chart_for(
    spec: &Spec,
    opts: &Options,
    view: &View,
    environment: Option<&crate::check::model::Environment>,
    made: Option<&MadeAlerts>,
) -> ChartValues {
    let project = view.project.name.value.clone();
    let version = deploy_version(spec, opts).0;
    let hooks = hook_weights(view);
    // Who talks to whom, once for the view: each workload's dependents, in name order.
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for other in view.workloads.values() {
        for d in effective_dependencies(view, other) {
            if d != other.name.value {
                dependents.entry(d).or_default().push(&other.name.value);
            }
        }
    }
    let hook_copies = hook_copies(view, &project, &hooks);
    let ctx =
        Ctx { view, environment, project: &project, version: &version, hooks: &hooks, namespace: environment.and_then(super::namespace) };
    let mut workloads = BTreeMap::new();
    for w in view.workloads.values() {
        let from = dependents.get(w.name.value.as_str()).map_or(&[][..], Vec::as_slice);
        let copies = if hooks.contains_key(&w.name.value) { Some(&hook_copies) } else { None };
        let alerts = made.map_or_else(|| Alerts::of(&project, w), |made| made.of(&project, w));
        let mut values = workload(&ctx, w, copies, from, alerts);
        // What a workload keeps and reads (emit/kubernetes/storage.rs).
        values.kind = super::storage::kind(w, values.kind);
        values.command = super::storage::command(w);
        values.capabilities = super::storage::capabilities(w);
        values.volumes = super::storage::volumes(w);
        values.files = super::storage::files(w, &opts.inputs);
        workloads.insert(w.name.value.clone(), values);
    }
    // An ExternalSecret belongs with the first workload that needs it: ordinary workloads
    // first, then hook jobs, each in name order. A Helm hook is deleted and created again
    // on every upgrade, and the Secret it owns with it, so an ExternalSecret that any
    // ordinary workload reads is never a hook: it is a release object, and the hook jobs
    // that read the same secret get a hook-owned copy of their own (`<secret>-hook`),
    // which exists before they run on the first install.
    let mut external_secrets = BTreeMap::new();
    let mut users: Vec<&Workload> = view.workloads.values().map(|w| &**w).collect();
    users.sort_by_key(|w| (hooks.contains_key(&w.name.value), hooks.get(&w.name.value).copied(), w.name.value.clone()));
    for w in users {
        let hook = hooks.contains_key(&w.name.value);
        for s in w.secrets() {
            let Some(secret) = view.secrets.get(&s.value) else { continue };
            if let Some(SecretSource::Vault { path, key }) = &secret.source {
                let object = match hook_copies.get(&s.value).filter(|_| hook) {
                    Some(copy) => copy.clone(),
                    None => secret_name(&project, &s.value),
                };
                external_secrets.entry(object).or_insert_with(|| ExternalSecretValues {
                    workload: w.name.value.clone(),
                    remote_key: path.clone(),
                    property: key.clone(),
                });
            }
        }
    }
    let mut waiters: BTreeMap<String, [Vec<String>; 2]> = BTreeMap::new();
    for (name, w) in &workloads {
        let hook = usize::from(w.job.as_ref().is_some_and(|j| j.hook));
        for job in &w.wait_for_jobs {
            waiters.entry(job.clone()).or_default()[hook].push(name.clone());
        }
    }
    ChartValues {
        project,
        environment: environment.map_or_else(String::new, |e| e.name.value.clone()),
        production: environment.is_some_and(|e| e.production),
        prometheus_operator: environment.is_none_or(|e| e.prometheus_operator),
        version,
        prometheus_namespace: PROMETHEUS_NAMESPACE.to_owned(),
        wait_image: view.project.wait_image.as_ref().map_or(WAIT_IMAGE, |i| i.value.as_str()).to_owned(),
        wait_seconds: WAIT_SECONDS,
        job_wait_image: view.project.job_wait_image.as_ref().map_or(JOB_WAIT_IMAGE, |i| i.value.as_str()).to_owned(),
        api_server: ApiServerValues {
            cidr: environment.and_then(|e| e.api_server.as_ref()).map_or(API_SERVER_CIDR, |a| a.value.as_str()).to_owned(),
            ports: API_SERVER_PORTS.to_vec(),
        },
        image_pull_secrets: environment.map(|e| crate::check::images::pull_secret_names(view, e)).unwrap_or_default(),
        secret_store: SECRET_STORE.to_owned(),
        external_secrets,
        exposure: view
            .workloads
            .values()
            .any(|w| !w.expose.is_empty())
            .then(|| super::expose::exposure_values(environment.and_then(|e| e.exposure.as_ref()))),
        workloads,
        waiters,
    }
}

/// The Secret hawser expects for a secret of the project (vault, env and file sources).
pub fn secret_name(project: &str, secret: &str) -> String {
    format!("{project}-{secret}")
}

/// The vault secrets that both a hook job and an ordinary workload read, each with the name
/// of the hook-owned copy the hook jobs read instead.
fn hook_copies(view: &View, project: &str, hooks: &BTreeMap<String, u32>) -> BTreeMap<String, String> {
    let vault = |s: &str| view.secrets.get(s).is_some_and(|d| matches!(d.source, Some(SecretSource::Vault { .. })));
    let read_by = |hook: bool| -> BTreeSet<String> {
        view.workloads
            .values()
            .filter(|w| hooks.contains_key(&w.name.value) == hook)
            .flat_map(|w| w.secrets().into_iter().map(|s| s.value.clone()))
            .filter(|s| vault(s))
            .collect()
    };
    let ordinary = read_by(false);
    read_by(true)
        .into_iter()
        .filter(|s| ordinary.contains(s))
        .map(|s| {
            let copy = format!("{}{HOOK_COPY_SUFFIX}", secret_name(project, &s));
            (s, copy)
        })
        .collect()
}

fn protocol(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "TCP",
        Protocol::Udp => "UDP",
    }
}

fn port_values(p: &crate::check::model::Port) -> PortValues {
    PortValues {
        name: p.name.value.clone(),
        port: p.number.value,
        protocol: protocol(p.protocol),
        service_port: Some(p.service_number()).filter(|n| *n != p.number.value),
    }
}

/// The ports other workloads use: every port but the metrics port, or every port when the
/// metrics port is the only one.
fn service_ports(w: &Workload) -> Vec<PortValues> {
    let metrics = w.metrics.as_ref().map(|m| m.port.value.as_str());
    let ports: Vec<PortValues> = w.ports.iter().filter(|p| Some(p.name.value.as_str()) != metrics).map(port_values).collect();
    if ports.is_empty() { w.ports.iter().map(port_values).collect() } else { ports }
}

/// Run-once jobs that others depend on, with their order: one more than the deepest hook
/// job they depend on.
fn hook_weights(view: &View) -> BTreeMap<String, u32> {
    let depended: BTreeSet<&str> = view.workloads.values().flat_map(|w| w.depends_on.iter().map(|d| d.value.as_str())).collect();
    let is_hook =
        |w: &Workload| matches!(&w.kind, WorkloadKind::Job(j) if j.schedule.is_none()) && depended.contains(w.name.value.as_str());
    fn depth(view: &View, name: &str, seen: &mut BTreeSet<String>) -> u32 {
        if !seen.insert(name.to_owned()) {
            return 0;
        }
        let Some(w) = view.workloads.get(name) else { return 0 };
        w.depends_on
            .iter()
            .filter(|d| view.workloads.get(&d.value).is_some_and(|dw| dw.job().is_some_and(|j| j.schedule.is_none())))
            .map(|d| 1 + depth(view, &d.value, seen))
            .max()
            .unwrap_or(0)
    }
    view.workloads
        .values()
        .filter(|w| is_hook(w))
        .map(|w| (w.name.value.clone(), depth(view, &w.name.value, &mut BTreeSet::new())))
        .collect()
}

/// What a workload waits for and talks to: its dependencies, with a run-once job replaced
/// by that job's own dependencies (a TCP check cannot see that a job has completed; the
/// job is applied, or hooked, first). Each once, in the spec's order.
fn effective_dependencies<'a>(view: &'a View, w: &'a Workload) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    let mut stack: Vec<&str> = w.depends_on.iter().rev().map(|d| d.value.as_str()).collect();
    let mut seen = BTreeSet::new();
    while let Some(name) = stack.pop() {
        if !seen.insert(name) {
            continue;
        }
        match view.workloads.get(name) {
            Some(d) if d.job().is_some() => stack.extend(d.depends_on.iter().rev().map(|x| x.value.as_str())),
            Some(_) => out.push(name),
            None if view.externals.contains_key(name) => out.push(name),
            None => {}
        }
    }
    out
}

/// What every workload's values are computed from.
struct Ctx<'a> {
    view: &'a View,
    /// The environment (`None` for the base values).
    environment: Option<&'a crate::check::model::Environment>,
    project: &'a str,
    version: &'a str,
    /// The run-once jobs others depend on, with their hook weights.
    hooks: &'a BTreeMap<String, u32>,
    /// The environment's namespace (`None` for the base values).
    namespace: Option<&'a str>,
}

fn workload(
    ctx: &Ctx,
    w: &Workload,
    hook_copies: Option<&BTreeMap<String, String>>,
    dependents: &[&str],
    alerts: Alerts,
) -> WorkloadValues {
    let Ctx { view, environment, project, version, hooks, namespace } = *ctx;
    let kind = match &w.kind {
        WorkloadKind::Service => "Deployment",
        WorkloadKind::Job(j) if j.schedule.is_some() => "CronJob",
        WorkloadKind::Job(_) => "Job",
    };
    let image = crate::check::images::reference(view, w, version);
    let autoscale = w.autoscale.as_ref().filter(|_| w.is_service()).map(|a| AutoscaleValues {
        min_replicas: a.min.value,
        max_replicas: a.max.value,
        cpu_percent: a.cpu_percent.as_ref().map(|c| c.value),
        memory_percent: a.memory_percent.as_ref().map(|m| m.value),
    });
    let replicas = (w.is_service() && autoscale.is_none()).then(|| w.replicas());

    let mut resources = ResourceRequirements::default();
    if let Some(r) = &w.cpu.request {
        resources.requests.insert("cpu".to_owned(), r.kubernetes());
    }
    if let Some(r) = &w.memory.request {
        resources.requests.insert("memory".to_owned(), r.text.clone());
    }
    if let Some(l) = &w.cpu.limit {
        resources.limits.insert("cpu".to_owned(), l.kubernetes());
    }
    if let Some(l) = &w.memory.limit {
        resources.limits.insert("memory".to_owned(), l.text.clone());
    }

    let port_of = |name: Option<&str>| -> Option<&crate::check::model::Port> {
        match name {
            Some(n) => w.port(n),
            None => w.ports.first(),
        }
    };
    let probe = |p: &crate::check::model::Probe| -> Probe {
        let port = port_of(p.port.as_ref().map(|s| s.value.as_str()));
        let port_name = port.map_or_else(String::new, |p| p.name.value.clone());
        let action = match &p.check {
            ProbeCheck::Http(path) => ProbeAction::http(&path.value, &port_name),
            ProbeCheck::Tcp => ProbeAction::tcp(&port_name),
            ProbeCheck::Grpc => ProbeAction::grpc(port.map_or(0, |p| p.number.value)),
            ProbeCheck::Exec(cmd) => ProbeAction::exec(cmd.iter().map(|c| c.value.clone()).collect()),
        };
        Probe {
            action,
            initial_delay_seconds: Some(p.delay_seconds()).filter(|d| *d > 0),
            period_seconds: p.period_seconds(),
            timeout_seconds: p.timeout_seconds(),
            failure_threshold: p.failures(),
        }
    };
    let probes = Probes {
        readiness_probe: w.health.ready.as_ref().map(probe),
        liveness_probe: w.health.live.as_ref().map(probe),
        startup_probe: w.health.startup.as_ref().map(probe),
    };

    let mut config = BTreeMap::new();
    let mut addresses = BTreeMap::new();
    let mut env: Vec<EnvVar> = Vec::new();
    let mut secret_files: Vec<SecretFile> = Vec::new();
    for v in w.env.values() {
        match &v.value {
            EnvValue::Literal(l) => match workload_address(view, &l.value, namespace) {
                Some(a) => {
                    addresses.insert(v.key.value.clone(), a);
                }
                None => {
                    config.insert(v.key.value.clone(), l.value.clone());
                }
            },
            // A reference to a service is its Service's address, which a release of the
            // chart names as its own; any other resolves to a plain value.
            EnvValue::Reference(r) => match reference_address(view, environment, w, r) {
                Some(a) => {
                    addresses.insert(v.key.value.clone(), a);
                }
                None => {
                    if let Some(value) = crate::check::references::resolve(view, environment, &w.name.value, r) {
                        config.insert(v.key.value.clone(), value);
                    }
                }
            },
            EnvValue::Secret(s) => {
                let Some(secret) = view.secrets.get(&s.value) else { continue };
                let (secret_name, key) = match &secret.source {
                    Some(SecretSource::Kubernetes { name, key }) => (name.clone(), key.clone()),
                    _ => match hook_copies.and_then(|c| c.get(&s.value)) {
                        Some(copy) => (copy.clone(), "value".to_owned()),
                        None => (secret_name(project, &s.value), "value".to_owned()),
                    },
                };
                // The same contract as on systemd: a file unless the spec says `as="env"`.
                if secret.delivery.is_file() {
                    let mount_path = format!("{SECRET_DIR}/{}", s.value);
                    env.push(EnvVar::value(format!("{}_FILE", v.key.value), format!("{mount_path}/{}", s.value)));
                    if !secret_files.iter().any(|f| f.file_name == s.value) {
                        secret_files.push(SecretFile {
                            volume: format!("secret-{}", s.value),
                            secret_name,
                            key,
                            mount_path,
                            file_name: s.value.clone(),
                        });
                    }
                } else {
                    env.push(EnvVar {
                        name: v.key.value.clone(),
                        value: None,
                        value_from: Some(EnvVarSource { secret_key_ref: SecretKeySelector { name: secret_name, key } }),
                    });
                }
            }
        }
    }
    env.sort_by(|a, b| a.name.cmp(&b.name));
    secret_files.sort_by(|a, b| a.file_name.cmp(&b.file_name));

    let deps = effective_dependencies(view, w);
    let mut wait_for = Vec::new();
    let mut egress_workloads = Vec::new();
    let mut egress_externals = Vec::new();
    for d in &deps {
        if let Some(dw) = view.workloads.get(*d) {
            let ports = service_ports(dw);
            // Through the Service, on its port.
            if let Some(p) = ports.first().filter(|p| p.protocol == "TCP") {
                wait_for.push(WaitFor { name: (*d).to_owned(), host: (*d).to_owned(), port: p.service_number() });
            }
            egress_workloads.push(EgressWorkload { name: (*d).to_owned(), ports: ports.into_iter().map(PortValues::pod_port).collect() });
        } else if let Some(e) = view.externals.get(*d) {
            wait_for.push(WaitFor { name: (*d).to_owned(), host: e.host.value.clone(), port: e.port.value });
            let cidr = match e.host.value.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V4(ip)) => format!("{ip}/32"),
                Ok(std::net::IpAddr::V6(ip)) => format!("{ip}/128"),
                Err(_) => "0.0.0.0/0".to_owned(),
            };
            egress_externals.push(EgressExternal { name: (*d).to_owned(), cidr, port: e.port.value });
        }
    }
    egress_workloads.sort_by(|a, b| a.name.cmp(&b.name));
    egress_externals.sort_by(|a, b| a.name.cmp(&b.name));
    let ingress_from: Vec<String> = dependents.iter().map(|d| (*d).to_owned()).collect();
    let metrics_port = w.metrics.as_ref().and_then(|m| w.port(&m.port.value)).map(|p| port_values(p).pod_port());
    let network_policy = NetworkPolicyValues {
        public_ports: w
            .ports
            .iter()
            .filter(|p| w.public.iter().any(|q| q.value == p.name.value))
            .map(|p| port_values(p).pod_port())
            .collect(),
        exposed_ports: w
            .ports
            .iter()
            .filter(|p| w.expose.iter().any(|e| e.port.value == p.name.value))
            .map(|p| port_values(p).pod_port())
            .collect(),
        ingress_ports: if ingress_from.is_empty() { Vec::new() } else { service_ports(w).into_iter().map(PortValues::pod_port).collect() },
        ingress_from,
        egress_workloads,
        egress_externals,
    };

    let job = w.job().map(|j| JobValues {
        schedule: j.schedule.as_ref().map(|s| s.value.clone()),
        concurrency_policy: j.schedule.as_ref().map(|_| match j.concurrency.as_ref().map(|c| c.value.as_str()) {
            Some("allow") => "Allow",
            Some("replace") => "Replace",
            _ => "Forbid",
        }),
        backoff_limit: j.retries.as_ref().map_or(if j.schedule.is_some() { 0 } else { 2 }, |r| r.value),
        active_deadline_seconds: j.timeout.as_ref().map_or(JOB_DEADLINE_SECONDS, |t| t.seconds()),
        starting_deadline_seconds: j.schedule.as_ref().map(|_| STARTING_DEADLINE_SECONDS),
        // A job others wait for stays: their pods check it whenever they start.
        ttl_seconds_after_finished: (j.schedule.is_none() && !hooks.contains_key(&w.name.value)).then_some(JOB_TTL_SECONDS),
        hook: hooks.contains_key(&w.name.value),
        hook_weight: hooks.get(&w.name.value).copied().unwrap_or(0),
    });

    WorkloadValues {
        kind,
        image,
        command: Vec::new(),
        capabilities: Vec::new(),
        volumes: BTreeMap::new(),
        files: BTreeMap::new(),
        // The kubelet expands `$(NAME)` in arguments; escaped, the program receives what
        // the spec says, as it does under systemd.
        args: w.args.iter().map(|a| crate::emit::inert::kubernetes_expansion(&a.value)).collect(),
        replicas,
        autoscale,
        labels: w.labels.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect(),
        pod_annotations: w.kubernetes.annotations.clone(),
        priority_class_name: w.kubernetes.priority_class.clone(),
        node_selector: w.kubernetes.node_selector.clone(),
        tolerations: super::scheduling::tolerations(&w.kubernetes),
        affinity: super::scheduling::affinity(&w.kubernetes),
        spread: super::scheduling::spread(&w.kubernetes),
        service_account_annotations: w.kubernetes.service_account_annotations.clone(),
        service_account_token: w.kubernetes.service_account_token,
        ports: w.ports.iter().map(port_values).collect(),
        service_type: w.kubernetes.service_type.as_ref().map(|t| t.value.clone()).filter(|t| t != "ClusterIP"),
        service_annotations: w.kubernetes.service_annotations.clone(),
        expose: super::expose::expose_values(w),
        metrics_port,
        scrape: w.metrics.as_ref().filter(|_| w.is_service()).map(|m| ScrapeValues {
            path: m.path().to_owned(),
            interval: crate::emit::prometheus::duration(m.interval_millis()),
            scrape_timeout: crate::emit::prometheus::duration(
                crate::check::values::Duration::parse(&m.timeout_text()).map_or(10_000, |d| d.millis),
            ),
        }),
        alerts,
        resources,
        probes,
        config,
        addresses,
        env,
        secret_files,
        termination_grace_period_seconds: w.shutdown.grace_seconds(),
        pre_stop_sleep_seconds: w.is_service().then(|| w.shutdown.drain_seconds()).filter(|s| *s > 0),
        wait_for,
        wait_for_jobs: {
            let mut jobs: Vec<String> = w
                .depends_on
                .iter()
                .filter(|d| view.workloads.get(&d.value).is_some_and(|dw| dw.job().is_some_and(|j| j.schedule.is_none())))
                .map(|d| d.value.clone())
                .collect();
            jobs.sort();
            jobs.dedup();
            jobs
        },
        network_policy,
        job,
    }
}

/// The pod's QoS class: Guaranteed when CPU and memory limits are set and requests equal
/// them (a missing request defaults to the limit), BestEffort with nothing set.
pub fn qos_class(r: &ResourceRequirements) -> &'static str {
    let guaranteed = ["cpu", "memory"].iter().all(|k| match r.limits.get(*k) {
        Some(l) => r.requests.get(*k).is_none_or(|q| q == l),
        None => false,
    });
    if guaranteed {
        "Guaranteed"
    } else if r.requests.is_empty() && r.limits.is_empty() {
        "BestEffort"
    } else {
        "Burstable"
    }
}

// The Kubernetes API fields the values carry as they are: the objects put them in place.

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_from: Option<EnvVarSource>,
}

impl EnvVar {
    pub fn value(name: String, value: String) -> EnvVar {
        EnvVar { name, value: Some(value), value_from: None }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVarSource {
    pub secret_key_ref: SecretKeySelector,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SecretKeySelector {
    pub name: String,
    pub key: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ResourceRequirements {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, String>,
}

/// A probe: its action (`httpGet: {path, port}` and so on), then its timings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    pub action: ProbeAction,
    pub initial_delay_seconds: Option<u64>,
    pub period_seconds: u64,
    pub timeout_seconds: u64,
    pub failure_threshold: u32,
}

impl Serialize for Probe {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut probe = serializer.serialize_struct("Probe", 4 + usize::from(self.initial_delay_seconds.is_some()))?;
        match &self.action {
            ProbeAction::HttpGet { path, port } => probe.serialize_field("httpGet", &HttpGet { path, port })?,
            ProbeAction::TcpSocket { port } => probe.serialize_field("tcpSocket", &Port { port })?,
            ProbeAction::Grpc { port } => probe.serialize_field("grpc", &Port { port })?,
            ProbeAction::Exec { command } => probe.serialize_field("exec", &Command { command })?,
        }
        if let Some(delay) = self.initial_delay_seconds {
            probe.serialize_field("initialDelaySeconds", &delay)?;
        }
        probe.serialize_field("periodSeconds", &self.period_seconds)?;
        probe.serialize_field("timeoutSeconds", &self.timeout_seconds)?;
        probe.serialize_field("failureThreshold", &self.failure_threshold)?;
        probe.end()
    }
}

/// What a probe does, written as the field of its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeAction {
    HttpGet { path: String, port: String },
    TcpSocket { port: String },
    Grpc { port: u16 },
    Exec { command: Vec<String> },
}

#[derive(Serialize)]
struct HttpGet<'a> {
    path: &'a str,
    port: &'a str,
}

#[derive(Serialize)]
struct Port<T> {
    port: T,
}

#[derive(Serialize)]
struct Command<'a> {
    command: &'a [String],
}

impl ProbeAction {
    pub fn http(path: &str, port: &str) -> ProbeAction {
        ProbeAction::HttpGet { path: path.to_owned(), port: port.to_owned() }
    }
    pub fn tcp(port: &str) -> ProbeAction {
        ProbeAction::TcpSocket { port: port.to_owned() }
    }
    pub fn grpc(port: u16) -> ProbeAction {
        ProbeAction::Grpc { port }
    }
    pub fn exec(command: Vec<String>) -> ProbeAction {
        ProbeAction::Exec { command }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{MadeAlerts, base_chart_sharing, chart, environment_chart, environment_chart_sharing};

    /// The charts that share their workloads' alerts are the charts that make their own, for
    /// the base spec and every environment of every example and test spec; a workload's
    /// alerts are the base spec's exactly when the environment has the base spec's
    /// workload, not an overlaid one (the `shop` example overlays some in each environment).
    #[test]
    fn shared_alerts_are_the_alerts_each_chart_would_make() {
        let (mut shared, mut own) = (0, 0);
        for path in crate::testing::specs(&["examples", "tests/specs"]) {
            let Some(spec) = crate::check(&std::fs::read_to_string(&path).expect("a spec")).spec else { continue };
            let opts = crate::emit::Options { spec_name: "hawser.kdl".into(), ..Default::default() };
            let made = MadeAlerts::new(&spec);
            let base = base_chart_sharing(&spec, &opts, &made);
            assert_eq!(format!("{base:?}"), format!("{:?}", chart(&spec, &opts, &spec.base)), "{}", path.display());
            for e in spec.environments.values() {
                let values = environment_chart_sharing(&spec, &opts, e, &made);
                let own_alerts = environment_chart(&spec, &opts, e);
                assert_eq!(format!("{values:?}"), format!("{own_alerts:?}"), "{}: {}", path.display(), e.name.value);
                for (name, w) in &values.workloads {
                    let same_workload = Arc::ptr_eq(&e.view.workloads[name], &spec.base.workloads[name]);
                    let same_alerts = Arc::ptr_eq(&w.alerts.0, &base.workloads[name].alerts.0);
                    assert_eq!(same_alerts, same_workload, "{}: {} in {}", path.display(), name, e.name.value);
                    if same_alerts { shared += 1 } else { own += 1 }
                }
            }
        }
        assert!(shared > 20 && own > 5, "{shared} shared, {own} made for an overlaid workload");
    }
}
