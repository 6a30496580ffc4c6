//! What Prometheus does with a scrape job of `kubernetes_sd_configs` (role `pod`): the
//! targets its discovery finds for the pods of a cluster, and its relabelling, applied the
//! way Prometheus applies them (`discovery/kubernetes/pod.go`, `model/relabel/relabel.go`,
//! `scrape/target.go` of Prometheus 2.x). Only what hawser's configurations use is
//! modelled; anything else is an error, so that a new action or discovery setting cannot
//! pass unchecked.

use std::collections::BTreeMap;

use serde_json::Value;

/// A label set.
pub type Labels = BTreeMap<String, String>;

/// A pod as the Kubernetes API would list it: what the discovery reads.
#[derive(Clone, Debug)]
pub struct Pod {
    pub namespace: String,
    pub name: String,
    pub ip: String,
    pub phase: &'static str,
    pub ready: bool,
    pub labels: Labels,
    /// Init containers first, each with `init` set.
    pub containers: Vec<Container>,
}

#[derive(Clone, Debug)]
pub struct Container {
    pub name: String,
    pub init: bool,
    /// (name, number, protocol)
    pub ports: Vec<(String, u64, String)>,
}

/// A Kubernetes label or annotation name as the discovery writes it into a meta label.
fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

/// The targets the pod role discovers for one pod: one per container port, and one per
/// container without ports (`buildPod`). A pod without an address yields none.
fn pod_targets(pod: &Pod) -> Vec<Labels> {
    if pod.ip.is_empty() {
        return Vec::new();
    }
    let mut common = Labels::new();
    common.insert("__meta_kubernetes_namespace".into(), pod.namespace.clone());
    common.insert("__meta_kubernetes_pod_name".into(), pod.name.clone());
    common.insert("__meta_kubernetes_pod_ip".into(), pod.ip.clone());
    common.insert("__meta_kubernetes_pod_ready".into(), pod.ready.to_string());
    common.insert("__meta_kubernetes_pod_phase".into(), pod.phase.to_owned());
    for (k, v) in &pod.labels {
        common.insert(format!("__meta_kubernetes_pod_label_{}", sanitize(k)), v.clone());
        common.insert(format!("__meta_kubernetes_pod_labelpresent_{}", sanitize(k)), "true".into());
    }
    let mut out = Vec::new();
    for c in &pod.containers {
        let mut base = common.clone();
        base.insert("__meta_kubernetes_pod_container_name".into(), c.name.clone());
        base.insert("__meta_kubernetes_pod_container_init".into(), c.init.to_string());
        if c.ports.is_empty() {
            let mut t = base.clone();
            t.insert("__address__".into(), pod.ip.clone());
            out.push(t);
        }
        for (name, number, protocol) in &c.ports {
            let mut t = base.clone();
            t.insert("__address__".into(), format!("{}:{number}", pod.ip));
            t.insert("__meta_kubernetes_pod_container_port_name".into(), name.clone());
            t.insert("__meta_kubernetes_pod_container_port_number".into(), number.to_string());
            t.insert("__meta_kubernetes_pod_container_port_protocol".into(), protocol.clone());
            out.push(t);
        }
    }
    out
}

/// An equality-based label selector (`k=v,k2=v2`, what `selectors[].label` holds) against
/// a pod's labels.
fn label_selector_matches(selector: &str, labels: &Labels) -> Result<bool, String> {
    let mut all = true;
    for term in selector.split(',') {
        let (k, v) = term.split_once('=').ok_or_else(|| format!("selector term {term:?} is not key=value"))?;
        if k.ends_with('!') || v.starts_with('=') {
            return Err(format!("selector term {term:?} is not modelled"));
        }
        all &= labels.get(k.trim()).is_some_and(|x| x == v.trim());
    }
    Ok(all)
}

/// The pods one `kubernetes_sd_configs` entry discovers, as targets.
fn discover(sd: &Value, pods: &[Pod]) -> Result<Vec<Labels>, String> {
    for key in sd.as_object().into_iter().flat_map(|m| m.keys()) {
        if !["role", "namespaces", "selectors"].contains(&key.as_str()) {
            return Err(format!("kubernetes_sd_configs setting {key} is not modelled"));
        }
    }
    if sd["role"] != "pod" {
        return Err(format!("role {} is not modelled", sd["role"]));
    }
    if sd["namespaces"].get("own_namespace").is_some() {
        return Err("namespaces.own_namespace is not modelled".into());
    }
    // No namespace list: every namespace.
    let namespaces: Option<Vec<&str>> = sd["namespaces"]["names"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect());
    let mut out = Vec::new();
    for pod in pods {
        if namespaces.as_ref().is_some_and(|ns| !ns.contains(&pod.namespace.as_str())) {
            continue;
        }
        let mut selected = true;
        for s in sd["selectors"].as_array().into_iter().flatten() {
            if s["role"] != "pod" || s.get("field").is_some() {
                return Err(format!("selector {s} is not modelled"));
            }
            selected &= label_selector_matches(s["label"].as_str().unwrap_or(""), &pod.labels)?;
        }
        if selected {
            out.extend(pod_targets(pod));
        }
    }
    Ok(out)
}

/// One relabel step; `Ok(false)` drops the target.
fn relabel(step: &Value, labels: &mut Labels) -> Result<bool, String> {
    for key in step.as_object().into_iter().flat_map(|m| m.keys()) {
        if !["action", "source_labels", "separator", "regex", "target_label", "replacement"].contains(&key.as_str()) {
            return Err(format!("relabel setting {key} is not modelled"));
        }
    }
    let separator = step["separator"].as_str().unwrap_or(";");
    let value: Vec<&str> = step["source_labels"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| labels.get(l.as_str().unwrap_or("")).map_or("", String::as_str))
        .collect();
    let value = value.join(separator);
    // Prometheus anchors every relabel regex at both ends.
    let pattern = step["regex"].as_str().unwrap_or("(.*)");
    let regex = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| format!("regex {pattern:?}: {e}"))?;
    match step["action"].as_str().unwrap_or("replace") {
        "keep" => Ok(regex.is_match(&value)),
        "drop" => Ok(!regex.is_match(&value)),
        "replace" => {
            let Some(captures) = regex.captures(&value) else { return Ok(true) };
            let mut target = String::new();
            captures.expand(step["target_label"].as_str().ok_or("replace without target_label")?, &mut target);
            let mut result = String::new();
            captures.expand(step["replacement"].as_str().unwrap_or("$1"), &mut result);
            if result.is_empty() {
                labels.remove(&target);
            } else {
                labels.insert(target, result);
            }
            Ok(true)
        }
        other => Err(format!("relabel action {other} is not modelled")),
    }
}

/// The series labels of every target a scrape job keeps, for the pods of a cluster:
/// discovery, the job's defaults, relabelling, then `instance` from the address and every
/// `__`-prefixed label removed.
pub fn scrape_targets(job: &Value, pods: &[Pod]) -> Result<Vec<Labels>, String> {
    for key in job.as_object().into_iter().flat_map(|m| m.keys()) {
        let known = ["job_name", "scrape_interval", "scrape_timeout", "metrics_path", "kubernetes_sd_configs", "relabel_configs"];
        if !known.contains(&key.as_str()) {
            return Err(format!("scrape setting {key} is not modelled"));
        }
    }
    let job_name = job["job_name"].as_str().ok_or("a job without job_name")?;
    let mut out = Vec::new();
    for sd in job["kubernetes_sd_configs"].as_array().into_iter().flatten() {
        'targets: for mut labels in discover(sd, pods)? {
            labels.insert("job".into(), job_name.to_owned());
            labels.insert("__metrics_path__".into(), job["metrics_path"].as_str().unwrap_or("/metrics").to_owned());
            for step in job["relabel_configs"].as_array().into_iter().flatten() {
                if !relabel(step, &mut labels)? {
                    continue 'targets;
                }
            }
            let address = labels.get("__address__").cloned().ok_or("a target without __address__")?;
            labels.entry("instance".into()).or_insert(address);
            labels.retain(|k, _| !k.starts_with("__"));
            out.push(labels);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The semantics modelled, on Prometheus' own documented examples: anchored regexes,
    /// the default separator, `$1` expansion, an empty result removing the label.
    #[test]
    fn relabel_semantics() {
        let mut labels = Labels::from([("a".into(), "foo".into()), ("b".into(), "bar".into())]);
        assert!(relabel(&json!({"action": "keep", "source_labels": ["a", "b"], "regex": "foo;bar"}), &mut labels).unwrap());
        assert!(!relabel(&json!({"action": "keep", "source_labels": ["a"], "regex": "fo"}), &mut labels).unwrap());
        assert!(!relabel(&json!({"action": "drop", "source_labels": ["a"], "regex": "f.*"}), &mut labels).unwrap());
        assert!(relabel(&json!({"action": "drop", "source_labels": ["missing"], "regex": ".+"}), &mut labels).unwrap());
        relabel(&json!({"source_labels": ["a", "b"], "regex": "(f)oo;(.*)", "target_label": "c", "replacement": "${1}x$2"}), &mut labels)
            .unwrap();
        assert_eq!(labels["c"], "fxbar");
        relabel(&json!({"source_labels": ["a"], "target_label": "d"}), &mut labels).unwrap();
        assert_eq!(labels["d"], "foo");
        relabel(&json!({"source_labels": ["a"], "regex": "nomatch", "target_label": "d", "replacement": "x"}), &mut labels).unwrap();
        assert_eq!(labels["d"], "foo");
        relabel(&json!({"source_labels": ["missing"], "target_label": "d"}), &mut labels).unwrap();
        assert!(!labels.contains_key("d"));
        assert!(relabel(&json!({"action": "hashmod", "source_labels": ["a"]}), &mut labels).is_err());
    }
}
