//! Kubernetes objects as typed structs, and the mapping from a workload's values to them.
//! Only the fields hawser sets exist; field order is the order they are written in.
//! The Helm chart's templates (`stdlib/templates/helm/`) do the same mapping.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde::ser::SerializeStruct;
use sha2::{Digest, Sha256};

use super::values::{ChartValues, EnvVar, PortValues, ResourceRequirements, WorkloadValues};
use crate::emit::yaml;

/// The uid and gid every container runs as: distroless' `nonroot`.
pub const RUN_AS: u64 = 65532;
/// The resources of a wait-for-dependency init container: requests equal limits, so the
/// pod's QoS class is the main container's.
const WAIT_CPU: &str = "10m";
const WAIT_MEMORY: &str = "16Mi";
/// The resources of an init container that waits for a job: kubectl is a Go program of
/// some 50 MB that a 16Mi limit would kill and 10m of CPU would slow to a crawl.
const JOB_WAIT_CPU: &str = "100m";
const JOB_WAIT_MEMORY: &str = "64Mi";
/// The volume with the pod's ServiceAccount token that only the job-wait init containers
/// mount (the pod does not automount one), where Kubernetes clients look for it.
pub const API_ACCESS_VOLUME: &str = "kube-api-access";
pub const API_ACCESS_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// How long the projected token is valid; the kubelet renews it before it expires.
const API_TOKEN_SECONDS: u64 = 3600;
/// What a wait-for-dependency init container runs (`sh -c SCRIPT host port seconds`): try
/// the port every two seconds, and after `seconds` give up with a message naming it, so
/// the pod shows the missing dependency (Init:Error, then Init:CrashLoopBackOff with the
/// kubelet's back-off) instead of waiting silently for ever.
pub const WAIT_SCRIPT: &str = "end=$(($(date +%s) + $2)); until nc -z -w 2 \"$0\" \"$1\"; do if [ \"$(date +%s)\" -ge \"$end\" ]; then echo \"$0:$1 did not accept a connection within $2 s; is it running, and does a NetworkPolicy allow it?\" >&2; exit 1; fi; echo \"waiting for $0:$1\"; sleep 2; done";

// ------------------------------------------------------------------ object types

#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Object {
    ServiceAccount(Obj<ServiceAccountBody>),
    ExternalSecret(Obj<Spec<ExternalSecretSpec>>),
    ConfigMap(Obj<ConfigMapBody>),
    Service(Obj<Spec<ServiceSpec>>),
    Deployment(Obj<Spec<DeploymentSpec>>),
    StatefulSet(Obj<Spec<StatefulSetSpec>>),
    Job(Obj<Spec<JobSpec>>),
    CronJob(Obj<Spec<CronJobSpec>>),
    Hpa(Obj<Spec<HpaSpec>>),
    Pdb(Obj<Spec<PdbSpec>>),
    NetworkPolicy(Obj<Spec<NetworkPolicySpec>>),
    PodMonitor(Obj<Spec<PodMonitorSpec>>),
    PrometheusRule(Obj<Spec<RuleSpec>>),
    Certificate(Obj<Spec<super::expose::CertificateSpec>>),
    ReferenceGrant(Obj<Spec<super::expose::ReferenceGrantSpec>>),
    Ingress(Obj<Spec<super::expose::IngressSpec>>),
    HttpRoute(Obj<Spec<super::expose::HttpRouteSpec>>),
    Role(Obj<RoleBody>),
    RoleBinding(Obj<RoleBindingBody>),
}

#[derive(Clone, Debug)]
pub struct RoleBody {
    pub rules: Vec<PolicyRule>,
}

impl Body for RoleBody {
    const FIELDS: usize = 1;

    fn fields<S: SerializeStruct>(&self, object: &mut S) -> Result<(), S::Error> {
        object.serialize_field("rules", &self.rules)
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    pub api_groups: Vec<&'static str>,
    pub resources: Vec<&'static str>,
    pub resource_names: Vec<String>,
    pub verbs: Vec<&'static str>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleBindingBody {
    pub role_ref: RoleRef,
    pub subjects: Vec<Subject>,
}

impl Body for RoleBindingBody {
    const FIELDS: usize = 2;

    fn fields<S: SerializeStruct>(&self, object: &mut S) -> Result<(), S::Error> {
        object.serialize_field("roleRef", &self.role_ref)?;
        object.serialize_field("subjects", &self.subjects)
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleRef {
    pub api_group: &'static str,
    pub kind: &'static str,
    pub name: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Subject {
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
}

/// An object: `apiVersion`, `kind`, `metadata`, then the fields of its body.
#[derive(Clone, Debug)]
pub struct Obj<B> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Metadata,
    pub body: B,
}

/// The fields an object has after its metadata, written as the object's own. (Not serde's
/// `flatten`, which makes the whole object a map whose every key is checked as an arbitrary
/// string is, and these are the fields of every object written.)
pub trait Body {
    /// How many fields [`Body::fields`] writes.
    const FIELDS: usize;

    fn fields<S: SerializeStruct>(&self, object: &mut S) -> Result<(), S::Error>;
}

impl<B: Body> Serialize for Obj<B> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut object = serializer.serialize_struct("Obj", 3 + B::FIELDS)?;
        object.serialize_field("apiVersion", self.api_version)?;
        object.serialize_field("kind", self.kind)?;
        object.serialize_field("metadata", &self.metadata)?;
        self.body.fields(&mut object)?;
        object.end()
    }
}

#[derive(Clone, Debug)]
pub struct Spec<S> {
    pub spec: S,
}

impl<T: Serialize> Body for Spec<T> {
    const FIELDS: usize = 1;

    fn fields<S: SerializeStruct>(&self, object: &mut S) -> Result<(), S::Error> {
        object.serialize_field("spec", &self.spec)
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub name: String,
    pub namespace: String,
    pub labels: Labels,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A workload's labels, or a selector of its pods: one map, which each of its objects shares
/// rather than copies, written as YAML once ([`yaml::Block`]).
#[derive(Clone, Debug)]
pub struct Labels {
    map: Arc<BTreeMap<String, String>>,
    block: yaml::Block,
}

impl Labels {
    pub fn new(labels: BTreeMap<String, String>) -> Labels {
        // A map of strings is always written; if it could not be, it is written the usual
        // way, which reports it.
        let block = yaml::Block::of(&labels).unwrap_or(yaml::Block::NONE);
        Labels { map: Arc::new(labels), block }
    }

    /// Labels written once: no lines made ahead of time.
    pub fn once(labels: BTreeMap<String, String>) -> Labels {
        Labels { map: Arc::new(labels), block: yaml::Block::NONE }
    }
}

impl PartialEq for Labels {
    fn eq(&self, other: &Labels) -> bool {
        self.map == other.map
    }
}

impl Eq for Labels {}

impl Serialize for Labels {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        yaml::serialize_as_block(&*self.map, &self.block, serializer)
    }
}

#[derive(Clone, Debug)]
pub struct ServiceAccountBody {
    pub automount_service_account_token: bool,
}

impl Body for ServiceAccountBody {
    const FIELDS: usize = 1;

    fn fields<S: SerializeStruct>(&self, object: &mut S) -> Result<(), S::Error> {
        object.serialize_field("automountServiceAccountToken", &self.automount_service_account_token)
    }
}

#[derive(Clone, Debug)]
pub struct ConfigMapBody {
    pub data: BTreeMap<String, String>,
}

impl Body for ConfigMapBody {
    const FIELDS: usize = 1;

    fn fields<S: SerializeStruct>(&self, object: &mut S) -> Result<(), S::Error> {
        object.serialize_field("data", &self.data)
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretSpec {
    pub refresh_interval: &'static str,
    pub secret_store_ref: NameKind,
    pub target: ExternalSecretTarget,
    pub data: Vec<ExternalSecretData>,
}

#[derive(Clone, Debug, Serialize)]
pub struct NameKind {
    pub kind: &'static str,
    pub name: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretTarget {
    pub name: String,
    pub creation_policy: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretData {
    pub secret_key: &'static str,
    pub remote_ref: RemoteRef,
}

#[derive(Clone, Debug, Serialize)]
pub struct RemoteRef {
    pub key: String,
    pub property: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ServiceSpec {
    #[serde(rename = "type")]
    pub type_: &'static str,
    /// `None` but for the headless Service that governs a StatefulSet's pods.
    #[serde(rename = "clusterIP", skip_serializing_if = "Option::is_none")]
    pub cluster_ip: Option<&'static str>,
    pub selector: Labels,
    pub ports: Vec<ServicePort>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    pub name: String,
    pub port: u16,
    pub target_port: String,
    pub protocol: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LabelSelector {
    #[serde(rename = "matchLabels")]
    pub match_labels: Labels,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    pub selector: LabelSelector,
    pub template: PodTemplate,
}

/// A service with a persistent volume: every pod has its own claims.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatefulSetSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    pub service_name: String,
    pub selector: LabelSelector,
    pub template: PodTemplate,
    pub volume_claim_templates: Vec<ClaimTemplate>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClaimTemplate {
    pub metadata: ClaimMetadata,
    pub spec: ClaimSpec,
}

/// A claim template's metadata: its name and the workload's selector labels, which never
/// change (the templates of a StatefulSet cannot be changed once created).
#[derive(Clone, Debug, Serialize)]
pub struct ClaimMetadata {
    pub name: String,
    pub labels: Labels,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimSpec {
    pub access_modes: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
    pub resources: ClaimResources,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClaimResources {
    pub requests: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSpec {
    pub backoff_limit: u32,
    pub active_deadline_seconds: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_seconds_after_finished: Option<u64>,
    pub template: PodTemplate,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CronJobSpec {
    pub schedule: String,
    pub time_zone: &'static str,
    pub concurrency_policy: &'static str,
    pub starting_deadline_seconds: u64,
    pub job_template: JobTemplate,
}

#[derive(Clone, Debug, Serialize)]
pub struct JobTemplate {
    pub metadata: TemplateMetadata,
    pub spec: JobSpec,
}

#[derive(Clone, Debug, Serialize)]
pub struct PodTemplate {
    pub metadata: TemplateMetadata,
    pub spec: PodSpec,
}

#[derive(Clone, Debug, Serialize)]
pub struct TemplateMetadata {
    pub labels: Labels,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    pub service_account_name: String,
    pub automount_service_account_token: bool,
    pub enable_service_links: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<NameRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<super::scheduling::Toleration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<super::scheduling::Affinity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<&'static str>,
    pub termination_grace_period_seconds: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
    #[serde(serialize_with = "yaml::memo")]
    pub security_context: PodSecurityContext,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<Container>,
    pub containers: Vec<Container>,
    pub volumes: Vec<Volume>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopologySpreadConstraint {
    pub max_skew: u32,
    pub topology_key: String,
    pub when_unsatisfiable: String,
    pub label_selector: LabelSelector,
    /// A Deployment's pods are counted per rollout (`pod-template-hash`); other pods have
    /// no such label.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub match_label_keys: Vec<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSecurityContext {
    pub run_as_non_root: bool,
    pub run_as_user: u64,
    pub run_as_group: u64,
    pub fs_group: u64,
    pub seccomp_profile: SeccompProfile,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SeccompProfile {
    #[serde(rename = "type")]
    pub type_: &'static str,
}

/// A container; its probes are written among its fields, after `resources`.
#[derive(Clone, Debug)]
pub struct Container {
    pub name: String,
    pub image: String,
    pub image_pull_policy: &'static str,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub ports: Vec<ContainerPort>,
    pub env_from: Vec<EnvFromSource>,
    pub env: Vec<EnvVar>,
    pub resources: ResourceRequirements,
    pub probes: super::values::Probes,
    pub lifecycle: Option<Lifecycle>,
    pub security_context: ContainerSecurityContext,
    pub volume_mounts: Vec<VolumeMount>,
}

impl Serialize for Container {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let probes = [
            ("readinessProbe", &self.probes.readiness_probe),
            ("livenessProbe", &self.probes.liveness_probe),
            ("startupProbe", &self.probes.startup_probe),
        ];
        let lists = [self.command.is_empty(), self.args.is_empty(), self.ports.is_empty(), self.env_from.is_empty(), self.env.is_empty()];
        let fields = 6
            + lists.iter().filter(|empty| !**empty).count()
            + probes.iter().filter(|(_, p)| p.is_some()).count()
            + usize::from(self.lifecycle.is_some());
        let mut c = serializer.serialize_struct("Container", fields)?;
        c.serialize_field("name", &self.name)?;
        c.serialize_field("image", &self.image)?;
        c.serialize_field("imagePullPolicy", self.image_pull_policy)?;
        if !self.command.is_empty() {
            c.serialize_field("command", &self.command)?;
        }
        if !self.args.is_empty() {
            c.serialize_field("args", &self.args)?;
        }
        if !self.ports.is_empty() {
            c.serialize_field("ports", &self.ports)?;
        }
        if !self.env_from.is_empty() {
            c.serialize_field("envFrom", &self.env_from)?;
        }
        if !self.env.is_empty() {
            c.serialize_field("env", &self.env)?;
        }
        // What containers mostly have alike is written as the last one like it was.
        c.serialize_field("resources", &yaml::Memo(&self.resources))?;
        for (key, probe) in probes {
            if let Some(probe) = probe {
                c.serialize_field(key, &yaml::Memo(probe))?;
            }
        }
        if let Some(lifecycle) = &self.lifecycle {
            c.serialize_field("lifecycle", &yaml::Memo(lifecycle))?;
        }
        c.serialize_field("securityContext", &yaml::Memo(&self.security_context))?;
        c.serialize_field("volumeMounts", &self.volume_mounts)?;
        c.end()
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    pub name: String,
    pub container_port: u16,
    pub protocol: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvFromSource {
    pub config_map_ref: NameRef,
}

#[derive(Clone, Debug, Serialize)]
pub struct NameRef {
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Lifecycle {
    pub pre_stop: PreStop,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PreStop {
    pub sleep: Sleep,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sleep {
    pub seconds: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerSecurityContext {
    pub allow_privilege_escalation: bool,
    pub privileged: bool,
    pub read_only_root_filesystem: bool,
    pub run_as_non_root: bool,
    pub run_as_user: u64,
    pub run_as_group: u64,
    pub capabilities: Capabilities,
    pub seccomp_profile: SeccompProfile,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    pub drop: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    pub name: String,
    pub mount_path: String,
    /// One key of a ConfigMap volume, mounted as a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<EmptyDir>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretVolume>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map: Option<ConfigMapVolume>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projected: Option<ProjectedVolume>,
}

/// What automounting would give a container: the ServiceAccount's token, the cluster's CA
/// and the namespace.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectedVolume {
    pub default_mode: u32,
    pub sources: Vec<VolumeProjection>,
}

#[derive(Clone, Debug, Serialize)]
pub struct VolumeProjection {
    #[serde(rename = "serviceAccountToken", skip_serializing_if = "Option::is_none")]
    pub service_account_token: Option<TokenProjection>,
    #[serde(rename = "configMap", skip_serializing_if = "Option::is_none")]
    pub config_map: Option<ConfigMapProjection>,
    #[serde(rename = "downwardAPI", skip_serializing_if = "Option::is_none")]
    pub downward_api: Option<DownwardApiProjection>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenProjection {
    pub path: &'static str,
    pub expiration_seconds: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ConfigMapProjection {
    pub name: &'static str,
    pub items: Vec<KeyToPath>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DownwardApiProjection {
    pub items: Vec<DownwardApiFile>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DownwardApiFile {
    pub path: &'static str,
    pub field_ref: FieldRef,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldRef {
    pub api_version: &'static str,
    pub field_path: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmptyDir {
    pub size_limit: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapVolume {
    pub name: String,
    pub default_mode: u32,
    pub items: Vec<KeyToPath>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretVolume {
    pub secret_name: String,
    pub default_mode: u32,
    pub items: Vec<KeyToPath>,
}

#[derive(Clone, Debug, Serialize)]
pub struct KeyToPath {
    pub key: String,
    pub path: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HpaSpec {
    pub scale_target_ref: CrossVersionRef,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub metrics: Vec<HpaMetric>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossVersionRef {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub name: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct HpaMetric {
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub resource: HpaResource,
}

#[derive(Clone, Debug, Serialize)]
pub struct HpaResource {
    pub name: &'static str,
    pub target: HpaTarget,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HpaTarget {
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub average_utilization: u32,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PdbSpec {
    pub max_unavailable: u32,
    pub selector: LabelSelector,
    pub unhealthy_pod_eviction_policy: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicySpec {
    pub pod_selector: LabelSelector,
    pub policy_types: Vec<&'static str>,
    // The rules most workloads have alike (DNS, their own ports) are written as the last
    // equal one was.
    #[serde(serialize_with = "yaml::memo_each")]
    pub ingress: Vec<NetworkPolicyRule>,
    #[serde(serialize_with = "yaml::memo_each")]
    pub egress: Vec<NetworkPolicyRule>,
}

/// An ingress (`from`) or egress (`to`) rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetworkPolicyRule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Vec<NetworkPolicyPeer>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<NetworkPolicyPeer>>,
    pub ports: Vec<NetworkPolicyPort>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicyPeer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<LabelSelector>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_block: Option<IpBlock>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IpBlock {
    pub cidr: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetworkPolicyPort {
    pub protocol: &'static str,
    pub port: u16,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMonitorSpec {
    pub selector: LabelSelector,
    pub pod_metrics_endpoints: Vec<PodMetricsEndpoint>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMetricsEndpoint {
    pub port: String,
    pub path: String,
    pub interval: String,
    pub scrape_timeout: String,
    pub relabelings: Vec<Relabeling>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Relabeling {
    pub action: &'static str,
    pub target_label: &'static str,
    pub replacement: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct RuleSpec {
    pub groups: Vec<RuleGroup>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RuleGroup {
    pub name: String,
    pub rules: Vec<AlertRule>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AlertRule {
    pub alert: &'static str,
    pub expr: String,
    #[serde(rename = "for")]
    pub for_: String,
    pub labels: BTreeMap<&'static str, String>,
    pub annotations: BTreeMap<&'static str, String>,
}

// ------------------------------------------------------------------ mapping

/// The labels that select a workload's pods: stable across versions.
pub fn selector_labels(chart: &ChartValues, name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/instance".to_owned(), chart.project.clone()),
        ("app.kubernetes.io/name".to_owned(), name.to_owned()),
    ])
}

/// Every label of a workload's objects: the spec's, then the recommended ones (which win).
pub fn labels(chart: &ChartValues, name: &str, w: &WorkloadValues) -> BTreeMap<String, String> {
    let mut out = w.labels.clone();
    out.extend(selector_labels(chart, name));
    out.insert("app.kubernetes.io/component".to_owned(), name.to_owned());
    out.insert("app.kubernetes.io/part-of".to_owned(), chart.project.clone());
    out.insert("app.kubernetes.io/managed-by".to_owned(), "hawser".to_owned());
    out.insert("app.kubernetes.io/version".to_owned(), chart.version.clone());
    out
}

/// The ConfigMap's data: the plain values and the workloads' addresses, with the Services'
/// names as the manifests have them (the chart puts the release's in).
pub fn config_data(w: &WorkloadValues, namespace: &str) -> BTreeMap<String, String> {
    let mut data = w.config.clone();
    data.extend(w.addresses.iter().map(|(k, a)| (k.clone(), a.render("", namespace))));
    data
}

/// The sha256 of a ConfigMap's data as Helm's `toJson | sha256sum` computes it: Go's
/// `encoding/json`, keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped.
pub fn config_checksum(data: &BTreeMap<String, String>) -> String {
    let mut json = String::from("{");
    for (i, (k, v)) in data.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        go_json_string(&mut json, k);
        json.push(':');
        go_json_string(&mut json, v);
    }
    json.push('}');
    let digest = Sha256::digest(json.as_bytes());
    crate::emit::hex(&digest)
}

fn go_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The name of a run-once Job: the workload's name and a digest of the release's version and
/// the workload's values. A Job's pod template cannot be changed once created, so every
/// change is a new Job (which runs once more) and an unchanged one is the same object
/// (`kubectl apply` leaves it alone). The chart computes the same digest from the same
/// values (helper `hawser.jobDigest`).
pub fn job_name(chart: &ChartValues, name: &str) -> String {
    job_object_name(name, &job_digest(chart, name))
}

/// `<name>-<digest>`, the name cut to 52 characters so that the Job's name fits the 63 of
/// the label the Job controller puts on its pods.
pub fn job_object_name(name: &str, digest: &str) -> String {
    let cut: String = name.chars().take(52).collect();
    format!("{}-{digest}", cut.trim_end_matches('-'))
}

/// The first 10 hex digits of the sha256 of `version`, a newline, the workload's values as
/// Helm's `toJson` writes them, and, for each job its pods wait for, a newline and that
/// job's digest (its pod template names that Job, so it changes with it).
pub fn job_digest(chart: &ChartValues, name: &str) -> String {
    let w = &chart.workloads[name];
    let values = serde_json::to_value(w).unwrap_or_default();
    let mut text = format!("{}\n", chart.version);
    go_json(&mut text, &values);
    for j in &w.wait_for_jobs {
        text.push('\n');
        text.push_str(&job_digest(chart, j));
    }
    let digest = Sha256::digest(text.as_bytes());
    crate::emit::hex(&digest[..5])
}

/// A JSON value as Go's `encoding/json` writes the same data after Helm read it from a
/// values file: object keys sorted, numbers as Go formats a float64 (every number here is
/// an integer well below 2^53, so as the integer), HTML characters escaped.
fn go_json(out: &mut String, value: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => go_json_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json_string(out, k);
                out.push(':');
                go_json(out, &map[k]);
            }
            out.push('}');
        }
    }
}

/// Every object of one workload, in the order they are applied.
pub fn workload(chart: &ChartValues, name: &str, namespace: &str) -> Vec<Object> {
    let w = &chart.workloads[name];
    let labels = Labels::new(labels(chart, name, w));
    let meta = |object_name: &str| Metadata {
        name: object_name.to_owned(),
        namespace: namespace.to_owned(),
        labels: labels.clone(),
        annotations: BTreeMap::new(),
    };
    let selects = Labels::new(selector_labels(chart, name));
    let selector = || LabelSelector { match_labels: selects.clone() };
    let mut out = Vec::new();
    out.push(Object::ServiceAccount(Obj {
        api_version: "v1",
        kind: "ServiceAccount",
        metadata: Metadata { annotations: w.service_account_annotations.clone(), ..meta(name) },
        body: ServiceAccountBody { automount_service_account_token: w.service_account_token },
    }));
    for (secret, es) in &chart.external_secrets {
        if es.workload != name {
            continue;
        }
        out.push(Object::ExternalSecret(Obj {
            api_version: "external-secrets.io/v1",
            kind: "ExternalSecret",
            metadata: meta(secret),
            body: Spec {
                spec: ExternalSecretSpec {
                    refresh_interval: "1h",
                    secret_store_ref: NameKind { kind: "ClusterSecretStore", name: chart.secret_store.clone() },
                    target: ExternalSecretTarget { name: secret.clone(), creation_policy: "Owner" },
                    data: vec![ExternalSecretData {
                        secret_key: "value",
                        remote_ref: RemoteRef { key: es.remote_key.clone(), property: es.property.clone() },
                    }],
                },
            },
        }));
    }
    let config = config_data(w, namespace);
    if !config.is_empty() {
        out.push(Object::ConfigMap(Obj {
            api_version: "v1",
            kind: "ConfigMap",
            metadata: meta(name),
            body: ConfigMapBody { data: config },
        }));
    }
    if !w.files.is_empty() {
        out.push(Object::ConfigMap(Obj {
            api_version: "v1",
            kind: "ConfigMap",
            metadata: meta(&super::storage::files_config_map(name)),
            body: ConfigMapBody { data: super::storage::files_data(&w.files) },
        }));
    }
    if runs_continuously(w) && !w.ports.is_empty() {
        out.push(Object::Service(Obj {
            api_version: "v1",
            kind: "Service",
            metadata: Metadata { annotations: w.service_annotations.clone(), ..meta(name) },
            body: Spec {
                spec: ServiceSpec {
                    type_: service_type(w),
                    cluster_ip: None,
                    selector: selects.clone(),
                    // The Service's port (`service-port=`) forwards to the container's, by name.
                    ports: w
                        .ports
                        .iter()
                        .map(|p| ServicePort {
                            name: p.name.clone(),
                            port: p.service_number(),
                            target_port: p.name.clone(),
                            protocol: p.protocol,
                        })
                        .collect(),
                },
            },
        }));
    }
    if w.kind == "StatefulSet" {
        // Governs the pods' stable names (`<pod>.<service>-headless`); every port, no
        // cluster address.
        out.push(Object::Service(Obj {
            api_version: "v1",
            kind: "Service",
            metadata: meta(&super::storage::headless_service(name)),
            body: Spec {
                spec: ServiceSpec {
                    type_: "ClusterIP",
                    cluster_ip: Some("None"),
                    selector: selects.clone(),
                    ports: w
                        .ports
                        .iter()
                        .map(|p| ServicePort { name: p.name.clone(), port: p.port, target_port: p.name.clone(), protocol: p.protocol })
                        .collect(),
                },
            },
        }));
    }
    // The pods that wait for this job may read it, and nothing else: a Role on this Job
    // alone, bound to their ServiceAccounts. Hook jobs that wait for it get a Role of their
    // own, which the chart makes a hook so that it exists before they run; the ordinary
    // workloads' is a release object, which Helm never deletes while their pods start.
    for (role, waiting) in
        [(wait_role_name(name), waiting_for(chart, name, false)), (wait_hook_role_name(name), waiting_for(chart, name, true))]
    {
        if waiting.is_empty() {
            continue;
        }
        out.push(Object::Role(Obj {
            api_version: "rbac.authorization.k8s.io/v1",
            kind: "Role",
            metadata: meta(&role),
            body: RoleBody {
                rules: vec![PolicyRule {
                    api_groups: vec!["batch"],
                    resources: vec!["jobs"],
                    resource_names: vec![job_name(chart, name)],
                    // `kubectl wait` reads the Job, then watches it by name (a list and a
                    // watch with a `metadata.name` field selector, which resourceNames admit).
                    verbs: vec!["get", "list", "watch"],
                }],
            },
        }));
        out.push(Object::RoleBinding(Obj {
            api_version: "rbac.authorization.k8s.io/v1",
            kind: "RoleBinding",
            metadata: meta(&role),
            body: RoleBindingBody {
                role_ref: RoleRef { api_group: "rbac.authorization.k8s.io", kind: "Role", name: role.clone() },
                subjects: waiting
                    .iter()
                    .map(|d| Subject { kind: "ServiceAccount", name: (*d).to_owned(), namespace: namespace.to_owned() })
                    .collect(),
            },
        }));
    }
    let template = pod_template(chart, name, w, &labels, &selects, namespace);
    match (w.kind, &w.job) {
        ("CronJob", Some(j)) => out.push(Object::CronJob(Obj {
            api_version: "batch/v1",
            kind: "CronJob",
            metadata: meta(name),
            body: Spec {
                spec: CronJobSpec {
                    schedule: j.schedule.clone().unwrap_or_default(),
                    time_zone: "Etc/UTC",
                    concurrency_policy: j.concurrency_policy.unwrap_or("Forbid"),
                    starting_deadline_seconds: j.starting_deadline_seconds.unwrap_or(super::values::STARTING_DEADLINE_SECONDS),
                    job_template: JobTemplate {
                        metadata: TemplateMetadata { labels: labels.clone(), annotations: BTreeMap::new() },
                        spec: JobSpec {
                            backoff_limit: j.backoff_limit,
                            active_deadline_seconds: j.active_deadline_seconds,
                            ttl_seconds_after_finished: None,
                            template,
                        },
                    },
                },
            },
        })),
        (_, Some(j)) => out.push(Object::Job(Obj {
            api_version: "batch/v1",
            kind: "Job",
            metadata: meta(&job_name(chart, name)),
            body: Spec {
                spec: JobSpec {
                    backoff_limit: j.backoff_limit,
                    active_deadline_seconds: j.active_deadline_seconds,
                    ttl_seconds_after_finished: j.ttl_seconds_after_finished,
                    template,
                },
            },
        })),
        (_, None) if w.kind == "StatefulSet" => out.push(Object::StatefulSet(Obj {
            api_version: "apps/v1",
            kind: "StatefulSet",
            metadata: meta(name),
            body: Spec {
                spec: StatefulSetSpec {
                    replicas: w.replicas,
                    service_name: super::storage::headless_service(name),
                    selector: selector(),
                    volume_claim_templates: claim_templates(chart, name, w),
                    template,
                },
            },
        })),
        (_, None) => out.push(Object::Deployment(Obj {
            api_version: "apps/v1",
            kind: "Deployment",
            metadata: meta(name),
            body: Spec { spec: DeploymentSpec { replicas: w.replicas, selector: selector(), template } },
        })),
    }
    if let Some(a) = &w.autoscale {
        let mut metrics = Vec::new();
        for (resource, percent) in [("cpu", a.cpu_percent), ("memory", a.memory_percent)] {
            if let Some(p) = percent {
                metrics.push(HpaMetric {
                    type_: "Resource",
                    resource: HpaResource { name: resource, target: HpaTarget { type_: "Utilization", average_utilization: p } },
                });
            }
        }
        out.push(Object::Hpa(Obj {
            api_version: "autoscaling/v2",
            kind: "HorizontalPodAutoscaler",
            metadata: meta(name),
            body: Spec {
                spec: HpaSpec {
                    scale_target_ref: CrossVersionRef { api_version: "apps/v1", kind: w.kind, name: name.to_owned() },
                    min_replicas: a.min_replicas,
                    max_replicas: a.max_replicas,
                    metrics,
                },
            },
        }));
    }
    let min_replicas = w.autoscale.as_ref().map_or(w.replicas.unwrap_or(1), |a| a.min_replicas);
    if runs_continuously(w) && min_replicas > 1 {
        out.push(Object::Pdb(Obj {
            api_version: "policy/v1",
            kind: "PodDisruptionBudget",
            metadata: meta(name),
            // A pod that is not Ready protects no availability: evicting it must not be
            // blocked, or one crash-looping pod stops every node drain.
            body: Spec { spec: PdbSpec { max_unavailable: 1, selector: selector(), unhealthy_pod_eviction_policy: "AlwaysAllow" } },
        }));
    }
    out.push(Object::NetworkPolicy(Obj {
        api_version: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: meta(name),
        body: Spec { spec: network_policy(chart, name, w, &selects) },
    }));
    out.extend(exposure(chart, name, w, namespace, &meta));
    // prometheus-operator's objects (emit/monitoring.rs): it scrapes the pods of the
    // namespace the PodMonitor is in, and the alerts select that namespace.
    if let (Some(port), Some(scrape), true) = (&w.metrics_port, &w.scrape, chart.prometheus_operator) {
        let relabel = |label, value: &str| Relabeling { action: "replace", target_label: label, replacement: value.to_owned() };
        out.push(Object::PodMonitor(Obj {
            api_version: "monitoring.coreos.com/v1",
            kind: "PodMonitor",
            metadata: meta(name),
            body: Spec {
                spec: PodMonitorSpec {
                    selector: selector(),
                    pod_metrics_endpoints: vec![PodMetricsEndpoint {
                        port: port.name.clone(),
                        path: scrape.path.clone(),
                        interval: scrape.interval.clone(),
                        scrape_timeout: scrape.scrape_timeout.clone(),
                        relabelings: vec![
                            relabel("project", &chart.project),
                            relabel("environment", &chart.environment),
                            relabel("workload", name),
                        ],
                    }],
                },
            },
        }));
    }
    if chart.prometheus_operator && !w.alerts.is_empty() {
        let fill = |text: &str| crate::emit::monitoring::fill(text, namespace, name, &chart.project);
        let rules = w
            .alerts
            .iter()
            .map(|a| AlertRule {
                alert: a.alert,
                expr: fill(&a.expr),
                for_: a.for_.clone(),
                labels: BTreeMap::from([
                    ("severity", if a.critical && chart.production { "critical" } else { "warning" }.to_owned()),
                    ("project", chart.project.clone()),
                    ("environment", chart.environment.clone()),
                    ("workload", name.to_owned()),
                ]),
                annotations: BTreeMap::from([("summary", fill(&a.summary)), ("description", fill(&a.description))]),
            })
            .collect();
        out.push(Object::PrometheusRule(Obj {
            api_version: "monitoring.coreos.com/v1",
            kind: "PrometheusRule",
            metadata: meta(name),
            body: Spec { spec: RuleSpec { groups: vec![RuleGroup { name: format!("{}-{name}", chart.project), rules }] } },
        }));
    }
    out
}

/// The Service's type: the spec's, or `ClusterIP`.
fn service_type(w: &WorkloadValues) -> &'static str {
    match w.service_type.as_deref() {
        Some("NodePort") => "NodePort",
        Some("LoadBalancer") => "LoadBalancer",
        _ => "ClusterIP",
    }
}

/// The workloads whose pods wait for a job to complete, in name order: the hook jobs, or
/// the others.
pub fn waiting_for<'a>(chart: &'a ChartValues, job: &str, hooks: bool) -> Vec<&'a str> {
    chart.waiters.get(job).map_or_else(Vec::new, |w| w[usize::from(hooks)].iter().map(String::as_str).collect())
}

/// The Role (and RoleBinding) that lets the pods waiting for a job read it.
pub fn wait_role_name(job: &str) -> String {
    format!("{job}-wait")
}

/// The same for the hook jobs that wait for it.
pub fn wait_hook_role_name(job: &str) -> String {
    format!("{job}-wait{}", super::values::HOOK_COPY_SUFFIX)
}

fn np_ports(ports: &[PortValues]) -> Vec<NetworkPolicyPort> {
    ports.iter().map(|p| NetworkPolicyPort { protocol: p.protocol, port: p.port }).collect()
}

fn namespace_selector(ns: &str) -> LabelSelector {
    LabelSelector { match_labels: Labels::once(BTreeMap::from([("kubernetes.io/metadata.name".to_owned(), ns.to_owned())])) }
}

fn network_policy(chart: &ChartValues, name: &str, w: &WorkloadValues, selects: &Labels) -> NetworkPolicySpec {
    let np = &w.network_policy;
    let mut ingress = Vec::new();
    if !np.public_ports.is_empty() {
        // Public ports: any source.
        ingress.push(NetworkPolicyRule { from: None, to: None, ports: np_ports(&np.public_ports) });
    }
    if !np.ingress_from.is_empty() && !np.ingress_ports.is_empty() {
        ingress.push(NetworkPolicyRule {
            from: Some(
                np.ingress_from
                    .iter()
                    .map(|d| NetworkPolicyPeer {
                        namespace_selector: None,
                        pod_selector: Some(LabelSelector { match_labels: Labels::once(selector_labels(chart, d)) }),
                        ip_block: None,
                    })
                    .collect(),
            ),
            to: None,
            ports: np_ports(&np.ingress_ports),
        });
    }
    if let (Some(exposure), false) = (&chart.exposure, np.exposed_ports.is_empty()) {
        // Exposed ports: the ingress controller's or the gateway's namespace.
        ingress.push(NetworkPolicyRule {
            from: Some(vec![NetworkPolicyPeer {
                namespace_selector: Some(LabelSelector { match_labels: Labels::once(exposure.admit.clone()) }),
                pod_selector: None,
                ip_block: None,
            }]),
            to: None,
            ports: np_ports(&np.exposed_ports),
        });
    }
    if let Some(m) = &w.metrics_port {
        ingress.push(NetworkPolicyRule {
            from: Some(vec![NetworkPolicyPeer {
                namespace_selector: Some(namespace_selector(&chart.prometheus_namespace)),
                pod_selector: None,
                ip_block: None,
            }]),
            to: None,
            ports: np_ports(std::slice::from_ref(m)),
        });
    }
    let mut egress = vec![NetworkPolicyRule {
        from: None,
        to: Some(vec![NetworkPolicyPeer {
            namespace_selector: Some(namespace_selector("kube-system")),
            pod_selector: Some(LabelSelector {
                match_labels: Labels::once(BTreeMap::from([("k8s-app".to_owned(), "kube-dns".to_owned())])),
            }),
            ip_block: None,
        }]),
        ports: vec![NetworkPolicyPort { protocol: "UDP", port: 53 }, NetworkPolicyPort { protocol: "TCP", port: 53 }],
    }];
    for d in &np.egress_workloads {
        egress.push(NetworkPolicyRule {
            from: None,
            to: Some(vec![NetworkPolicyPeer {
                namespace_selector: None,
                pod_selector: Some(LabelSelector { match_labels: Labels::once(selector_labels(chart, &d.name)) }),
                ip_block: None,
            }]),
            ports: np_ports(&d.ports),
        });
    }
    if !w.wait_for_jobs.is_empty() {
        // The job waits ask the API server.
        egress.push(NetworkPolicyRule {
            from: None,
            to: Some(vec![NetworkPolicyPeer {
                namespace_selector: None,
                pod_selector: None,
                ip_block: Some(IpBlock { cidr: chart.api_server.cidr.clone() }),
            }]),
            ports: chart.api_server.ports.iter().map(|p| NetworkPolicyPort { protocol: "TCP", port: *p }).collect(),
        });
    }
    for e in &np.egress_externals {
        egress.push(NetworkPolicyRule {
            from: None,
            to: Some(vec![NetworkPolicyPeer {
                namespace_selector: None,
                pod_selector: None,
                ip_block: Some(IpBlock { cidr: e.cidr.clone() }),
            }]),
            ports: vec![NetworkPolicyPort { protocol: "TCP", port: e.port }],
        });
    }
    let _ = name;
    NetworkPolicySpec {
        pod_selector: LabelSelector { match_labels: selects.clone() },
        policy_types: vec!["Ingress", "Egress"],
        ingress,
        egress,
    }
}

/// The ServiceAccount token, the cluster's CA and the namespace, as automounting would
/// project them, for the containers that mount it.
fn api_access_volume() -> Volume {
    Volume {
        name: API_ACCESS_VOLUME.to_owned(),
        empty_dir: None,
        secret: None,
        config_map: None,
        projected: Some(ProjectedVolume {
            default_mode: 0o440,
            sources: vec![
                VolumeProjection {
                    service_account_token: Some(TokenProjection { path: "token", expiration_seconds: API_TOKEN_SECONDS }),
                    config_map: None,
                    downward_api: None,
                },
                VolumeProjection {
                    service_account_token: None,
                    config_map: Some(ConfigMapProjection {
                        name: "kube-root-ca.crt",
                        items: vec![KeyToPath { key: "ca.crt".to_owned(), path: "ca.crt".to_owned() }],
                    }),
                    downward_api: None,
                },
                VolumeProjection {
                    service_account_token: None,
                    config_map: None,
                    downward_api: Some(DownwardApiProjection {
                        items: vec![DownwardApiFile {
                            path: "namespace",
                            field_ref: FieldRef { api_version: "v1", field_path: "metadata.namespace" },
                        }],
                    }),
                },
            ],
        }),
    }
}

/// A container's security context: no privilege, nothing writable but its volumes, every
/// capability dropped but those it adds (`NET_BIND_SERVICE` for a port below 1024, and what
/// the spec asks for).
fn security_context(bind_low_port: bool, added: &[String]) -> ContainerSecurityContext {
    let mut add: Vec<String> = added.to_vec();
    if bind_low_port {
        add.push("NET_BIND_SERVICE".to_owned());
    }
    add.sort();
    add.dedup();
    ContainerSecurityContext {
        allow_privilege_escalation: false,
        privileged: false,
        read_only_root_filesystem: true,
        run_as_non_root: true,
        run_as_user: RUN_AS,
        run_as_group: RUN_AS,
        capabilities: Capabilities { drop: vec!["ALL"], add },
        seccomp_profile: SeccompProfile { type_: "RuntimeDefault" },
    }
}

/// The container's environment: the Go runtime's settings derived from its limits (the same
/// as systemd's, see `emit/runtime.rs`) and the workload's own, in name order.
fn container_env(w: &WorkloadValues) -> Vec<EnvVar> {
    let mut env = w.env.clone();
    let limit = |k: &str| w.resources.limits.get(k);
    if let Some(millis) = limit("cpu").and_then(|c| crate::check::values::Cpu::parse(c).ok()).map(|c| c.millis) {
        env.push(EnvVar::value("GOMAXPROCS".to_owned(), millis.div_ceil(1000).max(1).to_string()));
    }
    if let Some(bytes) = limit("memory").and_then(|m| crate::check::values::Bytes::parse(m).ok()).map(|b| b.bytes) {
        let mib = bytes * crate::emit::runtime::GOMEMLIMIT_PERCENT / 100 / (1 << 20);
        env.push(EnvVar::value("GOMEMLIMIT".to_owned(), format!("{}MiB", mib.max(1))));
    }
    env.sort_by(|a, b| a.name.cmp(&b.name));
    env
}

/// A Deployment that may run more than one pod spreads them over nodes and zones. The skew
/// is a preference (`ScheduleAnyway`): a small or single-zone cluster still schedules every
/// replica. `pod-template-hash` counts each rollout's pods on their own.
fn topology_spread(w: &WorkloadValues, selects: &Labels) -> Vec<TopologySpreadConstraint> {
    super::scheduling::constraints(spreads(w), &w.spread)
        .into_iter()
        .map(|(key, s)| TopologySpreadConstraint {
            max_skew: s.max_skew,
            topology_key: key,
            when_unsatisfiable: s.when_unsatisfiable,
            label_selector: LabelSelector { match_labels: selects.clone() },
            // A Deployment's rollout is a new ReplicaSet, whose pods spread among themselves;
            // a StatefulSet replaces its pods one by one, under the same names.
            match_label_keys: if w.kind == "Deployment" { vec!["pod-template-hash"] } else { Vec::new() },
        })
        .collect()
}

/// Whether a workload's pods are spread: a service with more than one replica, or an
/// autoscaled one.
pub fn spreads(w: &WorkloadValues) -> bool {
    runs_continuously(w) && (w.autoscale.is_some() || w.replicas.unwrap_or(1) > 1)
}

/// Whether a workload is a service: a Deployment, or a StatefulSet (a service with a
/// persistent volume); not a Job or a CronJob.
pub fn runs_continuously(w: &WorkloadValues) -> bool {
    matches!(w.kind, "Deployment" | "StatefulSet")
}

/// The pod's volumes and the container's mounts of a workload's volumes (by name) and
/// configuration files (by key): an emptyDir per ephemeral volume, the claim of a persistent
/// one (which the StatefulSet's claim template names), and one file of the files' ConfigMap
/// at each file's path.
fn storage_volumes(name: &str, w: &WorkloadValues, mounts: &mut Vec<VolumeMount>, volumes: &mut Vec<Volume>) {
    for (volume, v) in &w.volumes {
        mounts.push(VolumeMount { name: volume.clone(), mount_path: v.mount_path.clone(), sub_path: None, read_only: false });
        if v.claim.is_none() {
            volumes.push(Volume {
                name: volume.clone(),
                empty_dir: Some(EmptyDir { size_limit: v.size.clone() }),
                secret: None,
                config_map: None,
                projected: None,
            });
        }
    }
    for (key, f) in &w.files {
        mounts.push(VolumeMount {
            name: super::storage::FILES_VOLUME.to_owned(),
            mount_path: f.path.clone(),
            sub_path: Some(key.clone()),
            read_only: true,
        });
    }
    if !w.files.is_empty() {
        volumes.push(Volume {
            name: super::storage::FILES_VOLUME.to_owned(),
            empty_dir: None,
            secret: None,
            projected: None,
            config_map: Some(ConfigMapVolume {
                name: super::storage::files_config_map(name),
                default_mode: super::storage::FILE_MODE,
                items: w.files.keys().map(|k| KeyToPath { key: k.clone(), path: k.clone() }).collect(),
            }),
        });
    }
}

/// A StatefulSet's claim templates: one per persistent volume, by name.
fn claim_templates(chart: &ChartValues, name: &str, w: &WorkloadValues) -> Vec<ClaimTemplate> {
    w.volumes
        .iter()
        .filter_map(|(volume, v)| {
            let claim = v.claim.as_ref()?;
            Some(ClaimTemplate {
                metadata: ClaimMetadata { name: volume.clone(), labels: Labels::once(selector_labels(chart, name)) },
                spec: ClaimSpec {
                    access_modes: vec![claim.access_mode],
                    storage_class_name: claim.storage_class_name.clone(),
                    resources: ClaimResources { requests: BTreeMap::from([("storage".to_owned(), v.size.clone())]) },
                },
            })
        })
        .collect()
}

fn pod_template(chart: &ChartValues, name: &str, w: &WorkloadValues, labels: &Labels, selects: &Labels, namespace: &str) -> PodTemplate {
    let mut annotations = w.pod_annotations.clone();
    let config = config_data(w, namespace);
    if !config.is_empty() {
        annotations.insert("hawser.dev/config-checksum".to_owned(), config_checksum(&config));
    }
    annotations.insert("hawser.dev/qos-class".to_owned(), super::values::qos_class(&w.resources).to_owned());
    if !w.files.is_empty() {
        let data = super::storage::files_data(&w.files);
        annotations.insert("hawser.dev/files-checksum".to_owned(), config_checksum(&data));
    }
    let tmp_mount = VolumeMount { name: "tmp".to_owned(), mount_path: "/tmp".to_owned(), sub_path: None, read_only: false };
    let mut mounts = vec![tmp_mount.clone()];
    let mut volumes = vec![Volume {
        name: "tmp".to_owned(),
        empty_dir: Some(EmptyDir { size_limit: "64Mi".to_owned() }),
        secret: None,
        config_map: None,
        projected: None,
    }];
    storage_volumes(name, w, &mut mounts, &mut volumes);
    for f in &w.secret_files {
        mounts.push(VolumeMount { name: f.volume.clone(), mount_path: f.mount_path.clone(), sub_path: None, read_only: true });
        volumes.push(Volume {
            name: f.volume.clone(),
            empty_dir: None,
            projected: None,
            config_map: None,
            secret: Some(SecretVolume {
                secret_name: f.secret_name.clone(),
                default_mode: 0o440,
                items: vec![KeyToPath { key: f.key.clone(), path: f.file_name.clone() }],
            }),
        });
    }
    let wait_resources = ResourceRequirements {
        requests: BTreeMap::from([("cpu".to_owned(), WAIT_CPU.to_owned()), ("memory".to_owned(), WAIT_MEMORY.to_owned())]),
        limits: BTreeMap::from([("cpu".to_owned(), WAIT_CPU.to_owned()), ("memory".to_owned(), WAIT_MEMORY.to_owned())]),
    };
    let mut init_containers: Vec<Container> = w
        .wait_for
        .iter()
        .map(|d| Container {
            name: format!("wait-{}", d.name),
            image: chart.wait_image.clone(),
            image_pull_policy: "IfNotPresent",
            command: vec![
                "sh".to_owned(),
                "-c".to_owned(),
                WAIT_SCRIPT.to_owned(),
                d.host.clone(),
                d.port.to_string(),
                chart.wait_seconds.to_string(),
            ],
            args: Vec::new(),
            ports: Vec::new(),
            env_from: Vec::new(),
            env: Vec::new(),
            resources: wait_resources.clone(),
            probes: Default::default(),
            lifecycle: None,
            security_context: security_context(false, &[]),
            volume_mounts: vec![tmp_mount.clone()],
        })
        .collect();
    // A run-once job cannot be seen by a TCP check: its dependents wait until the Kubernetes
    // API says it completed, with the pod's token mounted in this container only; for as
    // long as the job may run (its deadline) and a dependency wait more, since it may start
    // late: after that it has failed, or never started.
    for job in &w.wait_for_jobs {
        let deadline = chart.workloads.get(job).and_then(|j| j.job.as_ref()).map_or(0, |j| j.active_deadline_seconds);
        let job_resources = ResourceRequirements {
            requests: BTreeMap::from([("cpu".to_owned(), JOB_WAIT_CPU.to_owned()), ("memory".to_owned(), JOB_WAIT_MEMORY.to_owned())]),
            limits: BTreeMap::from([("cpu".to_owned(), JOB_WAIT_CPU.to_owned()), ("memory".to_owned(), JOB_WAIT_MEMORY.to_owned())]),
        };
        init_containers.push(Container {
            name: format!("wait-{job}"),
            image: chart.job_wait_image.clone(),
            image_pull_policy: "IfNotPresent",
            command: vec![
                "/bin/kubectl".to_owned(),
                "wait".to_owned(),
                "--for=condition=complete".to_owned(),
                format!("--timeout={}s", deadline + chart.wait_seconds),
                format!("job/{}", job_name(chart, job)),
            ],
            args: Vec::new(),
            ports: Vec::new(),
            env_from: Vec::new(),
            // kubectl keeps its discovery cache under $HOME; the root filesystem is read-only.
            env: vec![EnvVar::value("HOME".to_owned(), "/tmp".to_owned())],
            resources: job_resources,
            probes: Default::default(),
            lifecycle: None,
            security_context: security_context(false, &[]),
            volume_mounts: vec![
                tmp_mount.clone(),
                VolumeMount { name: API_ACCESS_VOLUME.to_owned(), mount_path: API_ACCESS_PATH.to_owned(), sub_path: None, read_only: true },
            ],
        });
    }
    if !w.wait_for_jobs.is_empty() {
        volumes.push(api_access_volume());
    }
    let container = Container {
        name: name.to_owned(),
        image: w.image.clone(),
        image_pull_policy: "IfNotPresent",
        command: w.command.clone(),
        args: w.args.clone(),
        ports: w.ports.iter().map(|p| ContainerPort { name: p.name.clone(), container_port: p.port, protocol: p.protocol }).collect(),
        env_from: if config.is_empty() { Vec::new() } else { vec![EnvFromSource { config_map_ref: NameRef { name: name.to_owned() } }] },
        env: container_env(w),
        resources: w.resources.clone(),
        probes: w.probes.clone(),
        lifecycle: w.pre_stop_sleep_seconds.map(|s| Lifecycle { pre_stop: PreStop { sleep: Sleep { seconds: s } } }),
        security_context: security_context(w.ports.iter().any(|p| p.port < 1024), &w.capabilities),
        volume_mounts: mounts,
    };
    PodTemplate {
        metadata: TemplateMetadata { labels: labels.clone(), annotations },
        spec: PodSpec {
            service_account_name: name.to_owned(),
            automount_service_account_token: w.service_account_token,
            enable_service_links: false,
            image_pull_secrets: chart.image_pull_secrets.iter().map(|n| NameRef { name: n.clone() }).collect(),
            priority_class_name: w.priority_class_name.clone(),
            node_selector: w.node_selector.clone(),
            tolerations: w.tolerations.clone(),
            affinity: w.affinity.clone(),
            restart_policy: (!runs_continuously(w)).then_some("Never"),
            termination_grace_period_seconds: w.termination_grace_period_seconds,
            topology_spread_constraints: topology_spread(w, selects),
            security_context: PodSecurityContext {
                run_as_non_root: true,
                run_as_user: RUN_AS,
                run_as_group: RUN_AS,
                fs_group: RUN_AS,
                seccomp_profile: SeccompProfile { type_: "RuntimeDefault" },
            },
            init_containers,
            containers: vec![container],
            volumes,
        },
    }
}

/// The route, certificate and grant objects of a workload's exposed ports.
fn exposure(chart: &ChartValues, name: &str, w: &WorkloadValues, namespace: &str, meta: &dyn Fn(&str) -> Metadata) -> Vec<Object> {
    use super::expose::{
        BackendRef, CertificateSpec, GrantFrom, GrantTo, HttpRouteMatch, HttpRouteRule, HttpRouteSpec, IngressBackend, IngressHttp,
        IngressPath, IngressRule, IngressServiceBackend, IngressSpec, IngressTls, IssuerRef, NamedPort, ParentRef, PathMatch,
        ReferenceGrantSpec, object_name,
    };
    use crate::check::model::Exposure;
    let Some(exposure) = &chart.exposure else { return Vec::new() };
    let mut out = Vec::new();
    for e in &w.expose {
        let object = object_name(name, &e.port);
        if let Some(tls) = &e.tls {
            if let Some(issuer) = &tls.issuer {
                out.push(Object::Certificate(Obj {
                    api_version: "cert-manager.io/v1",
                    kind: "Certificate",
                    metadata: meta(&object),
                    body: Spec {
                        spec: CertificateSpec {
                            secret_name: tls.secret_name.clone(),
                            dns_names: e.hosts.clone(),
                            issuer_ref: IssuerRef { group: "cert-manager.io", kind: issuer.kind.clone(), name: issuer.name.clone() },
                        },
                    },
                }));
            }
            // A Gateway terminates TLS with a Secret it reads; one of another namespace
            // needs this namespace's leave.
            if let Some(gateway) = exposure.gateway.as_ref().filter(|g| g.namespace != namespace) {
                out.push(Object::ReferenceGrant(Obj {
                    api_version: "gateway.networking.k8s.io/v1beta1",
                    kind: "ReferenceGrant",
                    metadata: meta(&object),
                    body: Spec {
                        spec: ReferenceGrantSpec {
                            from: vec![GrantFrom {
                                group: "gateway.networking.k8s.io",
                                kind: "Gateway",
                                namespace: gateway.namespace.clone(),
                            }],
                            to: vec![GrantTo { group: "", kind: "Secret", name: tls.secret_name.clone() }],
                        },
                    },
                }));
            }
        }
        match &exposure.gateway {
            Some(gateway) => out.push(Object::HttpRoute(Obj {
                api_version: "gateway.networking.k8s.io/v1",
                kind: "HTTPRoute",
                metadata: meta(&object),
                body: Spec {
                    spec: HttpRouteSpec {
                        parent_refs: vec![ParentRef {
                            group: "gateway.networking.k8s.io",
                            kind: "Gateway",
                            name: gateway.name.clone(),
                            namespace: gateway.namespace.clone(),
                        }],
                        hostnames: e.hosts.clone(),
                        rules: vec![HttpRouteRule {
                            matches: e
                                .paths
                                .iter()
                                .map(|p| HttpRouteMatch { path: PathMatch { type_: "PathPrefix", value: p.clone() } })
                                .collect(),
                            backend_refs: vec![BackendRef { group: "", kind: "Service", name: name.to_owned(), port: e.service_port }],
                        }],
                    },
                },
            })),
            None => out.push(Object::Ingress(Obj {
                api_version: "networking.k8s.io/v1",
                kind: "Ingress",
                metadata: meta(&object),
                body: Spec {
                    spec: IngressSpec {
                        ingress_class_name: exposure.class_name.clone().unwrap_or_else(|| Exposure::DEFAULT_CLASS.to_owned()),
                        tls: e.tls.iter().map(|t| IngressTls { hosts: e.hosts.clone(), secret_name: t.secret_name.clone() }).collect(),
                        rules: e
                            .hosts
                            .iter()
                            .map(|host| IngressRule {
                                host: host.clone(),
                                http: IngressHttp {
                                    paths: e
                                        .paths
                                        .iter()
                                        .map(|p| IngressPath {
                                            path: p.clone(),
                                            path_type: "Prefix",
                                            backend: IngressBackend {
                                                service: IngressServiceBackend {
                                                    name: name.to_owned(),
                                                    port: NamedPort { name: e.port.clone() },
                                                },
                                            },
                                        })
                                        .collect(),
                                },
                            })
                            .collect(),
                    },
                },
            })),
        }
    }
    out
}
