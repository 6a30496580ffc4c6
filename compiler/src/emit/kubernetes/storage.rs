//! What a workload keeps and reads on Kubernetes: its volumes and configuration files, as
//! chart values and as the pieces of its objects.
//!
//! - An ephemeral volume is an `emptyDir` with the spec's size as its `sizeLimit`.
//! - A persistent volume makes the service a StatefulSet with a `volumeClaimTemplate` per
//!   volume: every pod gets a claim of its own (`<volume>-<service>-<ordinal>`), which
//!   outlives the pod and the release (the claims are kept when the StatefulSet goes).
//!   Several replicas each have their own data, never shared. A headless Service
//!   (`<service>-headless`) gives the pods their stable DNS names, as a StatefulSet needs.
//! - Configuration files are one ConfigMap per workload (`<workload>-files`), each file a
//!   key named after its file name, mounted read-only at its path with `subPath`; the pod
//!   template carries the sha256 of the ConfigMap's data, so a changed file rolls the pods
//!   (a `subPath` mount is never updated in place).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::check::inputs::Inputs;
use crate::check::model::Workload;

/// The suffix of the headless Service that governs a StatefulSet's pods.
pub const HEADLESS_SUFFIX: &str = "-headless";
/// The suffix of the ConfigMap holding a workload's configuration files.
pub const FILES_SUFFIX: &str = "-files";
pub use crate::check::targets::kubernetes::FILES_VOLUME;
/// The mode of configuration files: read-only, for every user (they are not secret).
pub const FILE_MODE: u32 = 0o444;

/// A volume, as a chart value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeValues {
    pub mount_path: String,
    /// Ephemeral: the emptyDir's size limit; persistent: the storage each claim requests.
    pub size: String,
    /// Persistent volumes only: the claim each pod gets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<ClaimValues>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimValues {
    pub access_mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
}

/// A configuration file, as a chart value: by its key in the ConfigMap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileValues {
    pub path: String,
    pub content: String,
}

/// The kind of a service's objects: a StatefulSet when it has a persistent volume.
pub fn kind(w: &Workload, otherwise: &'static str) -> &'static str {
    if w.is_stateful() { "StatefulSet" } else { otherwise }
}

/// The container's `command`. The kubelet expands `$(NAME)` in it as in `args`: escaped,
/// the program receives what the spec says.
pub fn command(w: &Workload) -> Vec<String> {
    w.command.iter().map(|a| crate::emit::inert::kubernetes_expansion(&a.value)).collect()
}

/// The volumes of a workload, by name.
pub fn volumes(w: &Workload) -> BTreeMap<String, VolumeValues> {
    w.volumes
        .iter()
        .map(|v| {
            let claim = v.persistent.then(|| ClaimValues {
                access_mode: v.access_mode(),
                storage_class_name: v.storage_class.as_ref().map(|s| s.value.clone()),
            });
            (v.name.value.clone(), VolumeValues { mount_path: v.path.value.clone(), size: v.size.text.clone(), claim })
        })
        .collect()
}

/// The configuration files of a workload, by key, with their contents. A file whose
/// contents were not read is left out: `generate` refuses to run without them.
pub fn files(w: &Workload, inputs: &Inputs) -> BTreeMap<String, FileValues> {
    w.files
        .iter()
        .filter_map(|f| Some((f.key(), FileValues { path: f.path.value.clone(), content: inputs.get(&f.input())?.clone() })))
        .collect()
}

/// The capabilities the spec adds to a workload's container, as Kubernetes names them
/// (`NET_RAW`), sorted.
pub fn capabilities(w: &Workload) -> Vec<String> {
    let mut out: Vec<String> = w.capabilities.iter().map(|c| c.value.trim_start_matches("CAP_").to_owned()).collect();
    out.sort();
    out.dedup();
    out
}

/// The name of a StatefulSet's headless Service.
pub fn headless_service(name: &str) -> String {
    format!("{name}{HEADLESS_SUFFIX}")
}

/// The name of the ConfigMap of a workload's configuration files.
pub fn files_config_map(name: &str) -> String {
    format!("{name}{FILES_SUFFIX}")
}

/// The ConfigMap's data: each file's contents by key.
pub fn files_data(files: &BTreeMap<String, FileValues>) -> BTreeMap<String, String> {
    files.iter().map(|(k, f)| (k.clone(), f.content.clone())).collect()
}
