//! The pod's scheduling fields — `tolerations`, `affinity.nodeAffinity`, the topology
//! spread constraints — from a workload's `kubernetes` settings (checked in
//! `crate::scheduling`), as values the chart carries and objects take as they are.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::check::model::KubernetesOptions;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Toleration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub operator: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toleration_seconds: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Affinity {
    pub node_affinity: NodeAffinity,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeAffinity {
    #[serde(rename = "requiredDuringSchedulingIgnoredDuringExecution", skip_serializing_if = "Option::is_none")]
    pub required: Option<NodeSelector>,
    #[serde(rename = "preferredDuringSchedulingIgnoredDuringExecution", skip_serializing_if = "Vec::is_empty")]
    pub preferred: Vec<Preference>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSelector {
    pub node_selector_terms: Vec<Term>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Term {
    pub match_expressions: Vec<Requirement>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Preference {
    pub weight: u32,
    pub preference: Term,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Requirement {
    pub key: String,
    pub operator: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// A topology spread setting, by topology key: the chart's values and the objects'
/// constraints both start from these.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpreadValues {
    pub max_skew: u32,
    pub when_unsatisfiable: String,
}

/// The topology keys a Deployment with more than one pod spreads over by default, as a
/// preference with a skew of 1.
pub const DEFAULT_SPREAD: [&str; 2] = ["kubernetes.io/hostname", "topology.kubernetes.io/zone"];

pub fn tolerations(k: &KubernetesOptions) -> Vec<Toleration> {
    k.tolerations
        .iter()
        .map(|t| Toleration {
            key: t.key.as_ref().map(|k| k.value.clone()),
            operator: t.operator.as_ref().map_or("Equal", |o| o.value.as_str()).to_owned(),
            value: t.value.as_ref().map(|v| v.value.clone()),
            effect: t.effect.as_ref().map(|e| e.value.clone()),
            toleration_seconds: t.seconds.as_ref().map(|s| s.value),
        })
        .collect()
}

/// Requirements are ANDed in one term; each preference is a term of its own.
pub fn affinity(k: &KubernetesOptions) -> Option<Affinity> {
    let requirement = |a: &crate::check::model::NodeAffinity| Requirement {
        key: a.key.value.clone(),
        operator: a.operator.value.clone(),
        values: a.values.iter().map(|v| v.value.clone()).collect(),
    };
    let required: Vec<Requirement> = k.node_affinity.iter().filter(|a| a.weight.is_none()).map(requirement).collect();
    let preferred: Vec<Preference> = k
        .node_affinity
        .iter()
        .filter_map(|a| Some(Preference { weight: a.weight?, preference: Term { match_expressions: vec![requirement(a)] } }))
        .collect();
    if required.is_empty() && preferred.is_empty() {
        return None;
    }
    let required = (!required.is_empty()).then(|| NodeSelector { node_selector_terms: vec![Term { match_expressions: required }] });
    Some(Affinity { node_affinity: NodeAffinity { required, preferred } })
}

/// The spec's own `spread` settings, by topology key.
pub fn spread(k: &KubernetesOptions) -> BTreeMap<String, SpreadValues> {
    k.spread
        .iter()
        .map(|s| {
            (
                s.topology_key.value.clone(),
                SpreadValues {
                    max_skew: s.max_skew.unwrap_or(1),
                    when_unsatisfiable: s.when_unsatisfiable.clone().unwrap_or_else(|| "ScheduleAnyway".to_owned()),
                },
            )
        })
        .collect()
}

/// The constraints a pod gets, by topology key: the defaults when it spreads (a
/// Deployment with more than one pod), changed or joined by the spec's own.
pub fn constraints(spreads: bool, own: &BTreeMap<String, SpreadValues>) -> BTreeMap<String, SpreadValues> {
    let mut out: BTreeMap<String, SpreadValues> = BTreeMap::new();
    if spreads {
        for key in DEFAULT_SPREAD {
            out.insert(key.to_owned(), SpreadValues { max_skew: 1, when_unsatisfiable: "ScheduleAnyway".to_owned() });
        }
    }
    out.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}
