//! The typed model of a spec: what the checker has proven, what the generators read.
//!
//! Every value carries the span it came from, so that later stages (semantic checks, the
//! source map of generated files) can point back at the spec. Settings the spec leaves out
//! are `None` here; their defaults live in the accessor methods, in one place.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::check::values::{Bytes, Cpu, Duration, ImageRef};
use crate::span::{Span, Spanned};

/// The spec as one environment sees it, or the base spec before any overlay.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct View {
    pub project: Project,
    pub secrets: BTreeMap<String, Secret>,
    pub externals: BTreeMap<String, External>,
    /// Shared between the base and the environments that do not change them.
    pub workloads: BTreeMap<String, Arc<Workload>>,
    /// Names declared with errors (already reported): references to them are not
    /// reported again.
    pub poisoned: BTreeSet<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Project {
    pub name: Spanned<String>,
    pub registry: Option<Spanned<String>>,
    pub version: Version,
    /// The `version` node, for diagnostics about it.
    pub version_span: Span,
    pub go: Option<Spanned<String>>,
    pub platforms: Vec<Spanned<String>>,
    pub stamp_version: Option<Spanned<String>>,
    pub stamp_commit: Option<Spanned<String>>,
    /// `stamp { set "VAR" "VALUE" }`: further variables `-ldflags -X` sets.
    pub stamps: Vec<Stamp>,
    pub source: Option<Spanned<String>>,
    pub allows: Vec<Allow>,
    pub span: Span,
    /// `wait-image`: the image of Kubernetes' wait-for-dependency init containers.
    pub wait_image: Option<Spanned<String>>,
    /// `job-wait-image`: the image of Kubernetes' init containers that wait for a run-once
    /// job to complete.
    pub job_wait_image: Option<Spanned<String>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub enum Version {
    /// `version from="git"`: `git describe` at build time, `--version` for deploy artifacts.
    #[default]
    Git,
    Literal(Spanned<String>),
}

impl Project {
    pub fn platforms(&self) -> Vec<&str> {
        if self.platforms.is_empty() { vec!["linux/amd64"] } else { self.platforms.iter().map(|p| p.value.as_str()).collect() }
    }

    pub fn stamp_version(&self) -> &str {
        self.stamp_version.as_ref().map_or("main.version", |s| s.value.as_str())
    }

    pub fn stamp_commit(&self) -> &str {
        self.stamp_commit.as_ref().map_or("main.commit", |s| s.value.as_str())
    }
}

/// `set "example.com/app/build.Channel" "stable"` in `stamp`: a Go string variable the
/// build sets to a fixed value.
#[derive(Clone, Debug, PartialEq)]
pub struct Stamp {
    pub variable: Spanned<String>,
    pub value: Spanned<String>,
}

/// `allow "W0104" reason="…"`: a warning the spec acknowledges.
#[derive(Clone, Debug, PartialEq)]
pub struct Allow {
    pub code: Spanned<String>,
    pub reason: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Secret {
    pub name: Spanned<String>,
    pub source: Option<SecretSource>,
    pub delivery: Delivery,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    /// `path#key` in Vault's KV store.
    Vault { path: String, key: String },
    /// An environment variable of the operator's deploy step.
    Env(String),
    /// A file on the host.
    File(String),
    /// An existing Kubernetes Secret and its key.
    Kubernetes { name: String, key: String },
}

impl SecretSource {
    pub fn kind(&self) -> &'static str {
        match self {
            SecretSource::Vault { .. } => "vault",
            SecretSource::Env(_) => "env",
            SecretSource::File(_) => "file",
            SecretSource::Kubernetes { .. } => "kubernetes",
        }
    }
}

/// How a program receives a secret, the same on every platform.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Delivery {
    /// Not said: the default, a file.
    #[default]
    Auto,
    /// `<NAME>_FILE` names a file holding the value.
    File,
    /// `<NAME>` holds the value.
    Env,
}

impl Delivery {
    /// Files are the default: an environment variable's value leaks through
    /// `/proc/<pid>/environ`, child processes and crash reports; a file is read once.
    pub fn is_file(self) -> bool {
        !matches!(self, Delivery::Env)
    }

    /// The variable the program reads for a secret bound to `key`.
    pub fn variable(self, key: &str) -> String {
        if self.is_file() { format!("{key}_FILE") } else { key.to_owned() }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct External {
    pub name: Spanned<String>,
    pub host: Spanned<String>,
    pub port: Spanned<u16>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    pub name: Spanned<String>,
    pub kind: WorkloadKind,
    pub source: Option<Source>,
    pub args: Vec<Spanned<String>>,
    pub ports: Vec<Port>,
    pub replicas: Option<Spanned<u32>>,
    /// `public "http"`: ports that accept traffic from outside the project, not only from
    /// the workloads that depend on this one.
    pub public: Vec<Spanned<String>>,
    /// `expose "http" { … }`: ports reachable from outside under host names, in port order.
    pub expose: Vec<Expose>,
    pub cpu: Resources<Cpu>,
    pub memory: Resources<Bytes>,
    pub health: Health,
    pub env: BTreeMap<String, EnvVar>,
    pub labels: BTreeMap<String, Spanned<String>>,
    pub depends_on: Vec<Spanned<String>>,
    pub metrics: Option<Metrics>,
    pub shutdown: Shutdown,
    pub autoscale: Option<Autoscale>,
    pub allows: Vec<Allow>,
    pub kubernetes: KubernetesOptions,
    pub systemd: SystemdOptions,
    pub docker: DockerOptions,
    /// `volume`: writable directories, by name in the spec's order.
    pub volumes: Vec<Volume>,
    /// `file`: read-only configuration files, in the spec's order.
    pub files: Vec<ConfigFile>,
    /// `command`: the program and its first arguments; empty for the image's entrypoint.
    pub command: Vec<Spanned<String>>,
    /// `capabilities`: what the program keeps of root's powers, on every platform.
    pub capabilities: Vec<Spanned<String>>,
    /// Settings given with errors (already reported), so that checks which would see them
    /// as missing stay quiet: `port:NAME`, `memory.limit`, `health.ready`.
    pub poisoned: BTreeSet<String>,
    /// The declaration's head: `service "api"`.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum WorkloadKind {
    Service,
    Job(JobOptions),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobOptions {
    pub schedule: Option<Spanned<String>>,
    pub timeout: Option<Spanned<Duration>>,
    pub retries: Option<Spanned<u32>>,
    pub concurrency: Option<Spanned<String>>,
}

impl Workload {
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            WorkloadKind::Service => "service",
            WorkloadKind::Job(_) => "job",
        }
    }

    pub fn is_service(&self) -> bool {
        matches!(self.kind, WorkloadKind::Service)
    }

    pub fn job(&self) -> Option<&JobOptions> {
        match &self.kind {
            WorkloadKind::Job(j) => Some(j),
            WorkloadKind::Service => None,
        }
    }

    /// A job with a schedule.
    pub fn is_scheduled(&self) -> bool {
        self.job().is_some_and(|j| j.schedule.is_some())
    }

    pub fn replicas(&self) -> u32 {
        self.replicas.as_ref().map_or(1, |r| r.value)
    }

    pub fn port(&self, name: &str) -> Option<&Port> {
        self.ports.iter().find(|p| p.name.value == name)
    }

    /// The secrets this workload uses, each once, in name order.
    pub fn secrets(&self) -> Vec<&Spanned<String>> {
        let mut out: Vec<&Spanned<String>> = self
            .env
            .values()
            .filter_map(|v| match &v.value {
                EnvValue::Secret(s) => Some(s),
                EnvValue::Literal(_) | EnvValue::Reference(_) => None,
            })
            .collect();
        out.sort_by(|a, b| a.value.cmp(&b.value));
        out.dedup_by(|a, b| a.value == b.value);
        out
    }

    pub fn allows(&self, code: &str) -> bool {
        self.allows.iter().any(|a| a.code.value == code)
    }

    /// A service that keeps data per instance: a StatefulSet on Kubernetes.
    pub fn is_stateful(&self) -> bool {
        self.is_service() && self.volumes.iter().any(|v| v.persistent)
    }
}

/// `volume "data" path="/data" size="10Gi"`: a writable directory the program uses.
#[derive(Clone, Debug, PartialEq)]
pub struct Volume {
    pub name: Spanned<String>,
    pub path: Spanned<String>,
    pub size: Spanned<Bytes>,
    /// `persistent=#true`: kept across restarts, upgrades and rescheduling.
    pub persistent: bool,
    /// The `persistent=` value, when given.
    pub persistent_span: Option<Span>,
    pub storage_class: Option<Spanned<String>>,
    pub access: Option<Spanned<String>>,
    pub span: Span,
}

impl Volume {
    /// The Kubernetes access mode of a persistent volume's claim.
    pub fn access_mode(&self) -> &'static str {
        match self.access.as_ref().map(|a| a.value.as_str()) {
            Some("read-write-once-pod") => "ReadWriteOncePod",
            _ => "ReadWriteOnce",
        }
    }
}

/// `file "/etc/api/config.yaml" source="./config/api.yaml"`: a read-only configuration file.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigFile {
    /// Where the program reads it.
    pub path: Spanned<String>,
    /// Where its contents come from, relative to the spec's directory.
    pub source: Spanned<String>,
    pub span: Span,
}

impl ConfigFile {
    /// Its key in the workload's ConfigMap and its file name in a release on hosts: the
    /// path's last component, with what a ConfigMap key cannot hold turned into `-`.
    pub fn key(&self) -> String {
        let name = self.path.value.rsplit('/').next().unwrap_or_default();
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "-._".contains(c) { c } else { '-' }).collect()
    }

    /// The source as the input files are keyed: see [`input_key`].
    pub fn input(&self) -> String {
        input_key(&self.source.value)
    }
}

/// How an input file named `./config/x.yaml` (or `./config/./x.yaml`) is keyed: its plain
/// relative path, `config/x.yaml`.
pub fn input_key(source: &str) -> String {
    source.split('/').filter(|s| !s.is_empty() && *s != ".").collect::<Vec<_>>().join("/")
}

#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Build { language: String, main: Spanned<String>, binary: Option<String>, span: Span },
    Image { reference: Spanned<String>, image: ImageRef, span: Span },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Port {
    pub name: Spanned<String>,
    pub number: Spanned<u16>,
    pub protocol: Protocol,
    /// `service-port=`: the Service's port on Kubernetes, when it differs from `number`.
    pub service_port: Option<Spanned<u16>>,
    pub span: Span,
}

impl Port {
    /// The port a Kubernetes Service listens on for this port, which dependents address.
    pub fn service_number(&self) -> u16 {
        self.service_port.as_ref().map_or(self.number.value, |p| p.value)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Resources<T> {
    pub request: Option<Spanned<T>>,
    pub limit: Option<Spanned<T>>,
}

impl<T> Default for Resources<T> {
    fn default() -> Self {
        Resources { request: None, limit: None }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Health {
    pub ready: Option<Probe>,
    pub live: Option<Probe>,
    pub startup: Option<Probe>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    pub check: ProbeCheck,
    pub port: Option<Spanned<String>>,
    pub period: Option<Spanned<Duration>>,
    pub timeout: Option<Spanned<Duration>>,
    pub failures: Option<Spanned<u32>>,
    pub delay: Option<Spanned<Duration>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ProbeCheck {
    Http(Spanned<String>),
    Tcp,
    Grpc,
    Exec(Vec<Spanned<String>>),
}

impl Probe {
    pub fn period_seconds(&self) -> u64 {
        self.period.as_ref().map_or(10, |d| d.seconds().max(1))
    }
    pub fn timeout_seconds(&self) -> u64 {
        self.timeout.as_ref().map_or(1, |d| d.seconds().max(1))
    }
    pub fn failures(&self) -> u32 {
        self.failures.as_ref().map_or(3, |f| f.value)
    }
    pub fn delay_seconds(&self) -> u64 {
        self.delay.as_ref().map_or(0, |d| d.seconds())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct EnvVar {
    pub key: Spanned<String>,
    pub value: EnvValue,
    /// `(plain)"…"`: the spec says this literal is not a credential, whatever its key.
    pub plain: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum EnvValue {
    Literal(Spanned<String>),
    /// `(secret)"name"`: a reference, never a value.
    Secret(Spanned<String>),
    /// `(address)"cart" port="grpc"`: where a workload or an external is, resolved for
    /// each environment (see `crate::references`).
    Reference(Reference),
}

/// A reference to where a service or an external is, in an env value.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    pub form: ReferenceForm,
    /// The service or external, by name.
    pub target: Spanned<String>,
    /// `port=`: which port of a service.
    pub port: Option<Spanned<String>>,
    /// `scheme=`: an `(address)` written as a URL.
    pub scheme: Option<Spanned<String>>,
    /// `path=`: the URL's path.
    pub path: Option<Spanned<String>>,
}

/// What a reference resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferenceForm {
    /// `(address)`: `HOST:PORT`, or a URL with `scheme=`.
    Address,
    /// `(host)`: the host alone.
    Host,
    /// `(port)`: the port number alone.
    Port,
}

impl ReferenceForm {
    /// The annotation that writes it.
    pub fn annotation(self) -> &'static str {
        match self {
            ReferenceForm::Address => "address",
            ReferenceForm::Host => "host",
            ReferenceForm::Port => "port",
        }
    }

    pub fn from_annotation(s: &str) -> Option<ReferenceForm> {
        match s {
            "address" => Some(ReferenceForm::Address),
            "host" => Some(ReferenceForm::Host),
            "port" => Some(ReferenceForm::Port),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    pub port: Spanned<String>,
    pub path: Option<Spanned<String>>,
    pub interval: Option<Spanned<Duration>>,
    pub timeout: Option<Spanned<Duration>>,
    pub span: Span,
}

impl Metrics {
    pub fn path(&self) -> &str {
        self.path.as_ref().map_or("/metrics", |p| p.value.as_str())
    }
    pub fn interval_text(&self) -> &str {
        self.interval.as_ref().map_or("30s", |d| d.text.as_str())
    }
    pub fn interval_millis(&self) -> u64 {
        self.interval.as_ref().map_or(30_000, |d| d.millis)
    }

    /// The scrape timeout: as given, or 10s but never above the interval.
    pub fn timeout_text(&self) -> String {
        match &self.timeout {
            Some(t) => t.text.clone(),
            None if self.interval_millis() < 10_000 => self.interval_text().to_owned(),
            None => "10s".to_owned(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shutdown {
    pub grace: Option<Spanned<Duration>>,
    pub drain: Option<Spanned<Duration>>,
}

impl Shutdown {
    pub fn grace_seconds(&self) -> u64 {
        self.grace.as_ref().map_or(30, |d| d.seconds())
    }
    pub fn drain_seconds(&self) -> u64 {
        self.drain.as_ref().map_or(5, |d| d.seconds())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Autoscale {
    pub min: Spanned<u32>,
    pub max: Spanned<u32>,
    pub cpu_percent: Option<Spanned<u32>>,
    pub memory_percent: Option<Spanned<u32>>,
    pub span: Span,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct KubernetesOptions {
    pub service_account_token: bool,
    pub priority_class: Option<String>,
    pub node_selector: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// `service-type`: `ClusterIP` when `None`.
    pub service_type: Option<Spanned<String>>,
    pub service_annotations: BTreeMap<String, String>,
    /// `service-type` or `service-annotations` given: for the check that the workload has a
    /// Service.
    pub service_span: Option<Span>,
    /// `toleration`: taints the pods tolerate, in the spec's order.
    pub tolerations: Vec<Toleration>,
    /// `node-affinity`: rules on node labels, in the spec's order.
    pub node_affinity: Vec<NodeAffinity>,
    /// `spread`: topology spread settings, by topology key.
    pub spread: Vec<Spread>,
    /// `service-account-annotations`: annotations on the ServiceAccount.
    pub service_account_annotations: BTreeMap<String, String>,
}

/// `toleration "dedicated" value="pci" effect="NoSchedule"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Toleration {
    pub key: Option<Spanned<String>>,
    /// `Equal` or `Exists`.
    pub operator: Option<Spanned<String>>,
    pub value: Option<Spanned<String>>,
    pub effect: Option<Spanned<String>>,
    pub seconds: Option<Spanned<u32>>,
    pub span: Span,
}

/// `node-affinity "topology.kubernetes.io/zone" "In" "eu-west-1a"`.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeAffinity {
    pub key: Spanned<String>,
    pub operator: Spanned<String>,
    pub values: Vec<Spanned<String>>,
    /// A preference of this weight; a requirement without.
    pub weight: Option<u32>,
    pub span: Span,
}

/// `spread "topology.kubernetes.io/zone" max-skew=1 when-unsatisfiable="DoNotSchedule"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Spread {
    pub topology_key: Spanned<String>,
    pub max_skew: Option<u32>,
    pub when_unsatisfiable: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SystemdOptions {
    pub notify: bool,
    pub user: Option<String>,
    pub socket: Option<Spanned<String>>,
    pub restart_sec: Option<Spanned<Duration>>,
    pub sandbox: Sandbox,
    /// `group`: the unit's `Group=`.
    pub group: Option<String>,
    /// `reload-signal`: what `systemctl reload` sends the program.
    pub reload_signal: Option<String>,
}

/// `systemd { sandbox { … } }`: what the program needs opened, each asked with a reason.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sandbox {
    pub writable: Vec<Spanned<String>>,
    pub address_families: Vec<String>,
    pub limit_nofile: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DockerOptions {
    pub runtime: Option<String>,
    /// `registry`: where this workload's image is, instead of the project's registry.
    pub registry: Option<Spanned<String>>,
    /// `repository`: the image's name in the registry, instead of `<project>-<workload>`.
    pub repository: Option<Spanned<String>>,
    /// `digest`: the image deploy artifacts pin.
    pub digest: Option<Spanned<String>>,
    /// `copy`: files of the module copied into the image.
    pub copies: Vec<ImageCopy>,
    /// `binary`: further main packages built into the image.
    pub binaries: Vec<ImageBinary>,
    /// The `docker` node, when the workload has one.
    pub span: Option<Span>,
}

/// `copy "./ui/dist" to="/ui"` in `docker`.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageCopy {
    pub source: Spanned<String>,
    pub to: Spanned<String>,
}

/// `binary "podcli" main="./cmd/podcli"` in `docker`.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageBinary {
    pub name: Spanned<String>,
    pub main: Spanned<String>,
}

/// Where an environment runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Platform {
    Kubernetes {
        namespace: Spanned<String>,
    },
    Systemd {
        hosts: Vec<Spanned<String>>,
        /// `min-version=`: the oldest systemd the hosts run; [`Platform::DEFAULT_SYSTEMD`]
        /// when left out.
        min_version: Option<Spanned<u32>>,
    },
}

impl Platform {
    /// The systemd floor when the spec names none: Debian 11's 247, the oldest release in
    /// common use that has credentials (`LoadCredential=`) and the whole sandbox.
    pub const DEFAULT_SYSTEMD: u32 = 247;

    /// The oldest systemd a systemd environment's units must load on.
    pub fn systemd_floor(&self) -> Option<u32> {
        match self {
            Platform::Systemd { min_version, .. } => Some(min_version.as_ref().map_or(Self::DEFAULT_SYSTEMD, |v| v.value)),
            Platform::Kubernetes { .. } => None,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Platform::Kubernetes { .. } => "kubernetes",
            Platform::Systemd { .. } => "systemd",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Environment {
    pub name: Spanned<String>,
    pub production: bool,
    /// `None` when `runs-on` is missing or invalid (already reported).
    pub platform: Option<Platform>,
    /// The spec after this environment's overlays, with only the workloads that run here.
    pub view: View,
    pub span: Span,
    /// Kubernetes: the oldest version its clusters run, when the spec says.
    pub kubernetes_version: Option<Spanned<(u32, u32)>>,
    /// Kubernetes: whether the manifests hold prometheus-operator's objects.
    pub prometheus_operator: bool,
    /// How exposed ports are reached; `None` when the platform is missing or invalid.
    pub exposure: Option<Exposure>,
    /// Kubernetes: `api-server=`, the CIDR block of the API server's addresses.
    pub api_server: Option<Spanned<String>>,
    /// Kubernetes: the secrets every pod pulls its images with (`pull-secret`).
    pub pull_secrets: Vec<Spanned<String>>,
}

/// The whole checked spec: the base, and every environment's view of it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Spec {
    pub base: View,
    pub environments: BTreeMap<String, Environment>,
}

// ------------------------------------------------------------------ exposure

/// `expose "http" { hosts …; paths …; tls … }`: a port reachable from outside.
#[derive(Clone, Debug, PartialEq)]
pub struct Expose {
    pub port: Spanned<String>,
    pub hosts: Vec<Spanned<String>>,
    /// The path prefixes as given; see [`Expose::paths`].
    pub paths: Vec<Spanned<String>>,
    pub tls: Option<Tls>,
    pub span: Span,
}

impl Expose {
    /// The path prefixes routed to the port: the spec's, or `/`.
    pub fn paths(&self) -> Vec<&str> {
        if self.paths.is_empty() { vec!["/"] } else { self.paths.iter().map(|p| p.value.as_str()).collect() }
    }
}

/// `tls …`: where the certificate comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct Tls {
    /// `None` when the spec gives no source or several (already reported).
    pub source: Option<TlsSource>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsSource {
    /// cert-manager issues it: `issuer=` and `issuer-kind=` (`ClusterIssuer` by default).
    Issuer { name: String, kind: String },
    /// An existing Kubernetes TLS Secret.
    Secret(String),
    /// Files on the hosts.
    Files { certificate: String, key: String },
}

impl TlsSource {
    /// The platform the source works on.
    pub fn platform(&self) -> &'static str {
        match self {
            TlsSource::Issuer { .. } | TlsSource::Secret(_) => "kubernetes",
            TlsSource::Files { .. } => "systemd",
        }
    }
}

/// How an environment's exposed ports are reached (`exposure`).
#[derive(Clone, Debug, PartialEq)]
pub enum Exposure {
    /// Kubernetes: an Ingress per exposed port, for the controller of `class`.
    Ingress { class: String, admit: Admit },
    /// Kubernetes: a Gateway API HTTPRoute per exposed port, attached to a Gateway.
    Gateway { name: String, namespace: String, admit: Admit },
    /// systemd: an nginx site on every host.
    Nginx,
}

impl Exposure {
    /// The IngressClass an Ingress names when the spec names none.
    pub const DEFAULT_CLASS: &str = "nginx";
    /// The namespace the ingress controller runs in when the spec names none: where the
    /// ingress-nginx controller, whose class is `nginx`, installs itself.
    pub const DEFAULT_CONTROLLER_NAMESPACE: &str = "ingress-nginx";

    /// Who the NetworkPolicy admits to exposed ports; `None` on systemd.
    pub fn admit(&self) -> Option<&Admit> {
        match self {
            Exposure::Ingress { admit, .. } | Exposure::Gateway { admit, .. } => Some(admit),
            Exposure::Nginx => None,
        }
    }
}

/// The namespace of the ingress controller's or gateway's proxies, admitted to exposed
/// ports: selected by its name, or by the labels the spec gives.
#[derive(Clone, Debug, PartialEq)]
pub struct Admit {
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
}

impl Admit {
    /// The NetworkPolicy's `namespaceSelector.matchLabels`.
    pub fn selector(&self) -> BTreeMap<String, String> {
        if self.labels.is_empty() {
            BTreeMap::from([("kubernetes.io/metadata.name".to_owned(), self.namespace.clone())])
        } else {
            self.labels.clone()
        }
    }
}
