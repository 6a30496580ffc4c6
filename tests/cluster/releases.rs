//! Two releases of the Helm chart in one namespace, the way a second copy of the project is
//! installed beside the first (a canary, a preview): rendered by the validators' Helm
//! renderer, their objects put together and evaluated the way the cluster would. Nothing
//! may be shared or crossed: no two objects of one kind and name; every selector of a
//! release selects only its own pods; every name a pod uses (its ServiceAccount, ConfigMap,
//! synced Secrets, the Jobs it waits for, the Services its environment values and waits
//! address), and every Service and certificate Secret its Ingresses, HTTPRoutes and
//! ReferenceGrants route to or serve, is its own release's; the NetworkPolicies admit,
//! between the pods of both releases, exactly each release's own dependency edges.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::Cluster;
use super::rules::{Endpoint, allowed, name, namespace_labels, pods, reaches, selects, service_ports};

/// The validators' `helm template`.
pub const RENDER: &str = "/opt/validators/bin/helm-render";
const INSTANCE: &str = "app.kubernetes.io/instance";

/// `helm template RELEASE CHART -n NAMESPACE -f values.yaml -f values-ENV.yaml [--set …]`.
pub fn render(chart: &Path, release: &str, namespace: &str, env: &str, sets: &[&str]) -> Result<Vec<Value>, String> {
    let mut cmd = Command::new(RENDER);
    cmd.args(["--release-name", release, "--namespace", namespace, "--strict", "-f"])
        .arg(chart.join("values.yaml"))
        .arg("-f")
        .arg(chart.join(format!("values-{env}.yaml")));
    for s in sets {
        cmd.args(["--set", s]);
    }
    let out = cmd.arg(chart).output().map_err(|e| format!("{RENDER}: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let docs: Vec<Value> = serde_saphyr::from_multiple(&String::from_utf8_lossy(&out.stdout)).map_err(|e| e.to_string())?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// The release an object belongs to: the one its labels name.
fn release_of(o: &Value) -> &str {
    o["metadata"]["labels"][INSTANCE].as_str().unwrap_or("")
}

/// Everything that crosses between the releases, or collides.
pub fn findings(view: &hawser::check::model::View, namespace: &str, releases: &[(String, Vec<Value>)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut objects: Vec<Value> = Vec::new();
    let mut seen: BTreeMap<(String, String), String> = BTreeMap::new();
    for (release, docs) in releases {
        for o in docs {
            let key = (o["kind"].as_str().unwrap_or("").to_owned(), name(o).to_owned());
            if let Some(first) = seen.insert(key.clone(), release.clone()) {
                out.push(format!("{} {} is created by release {first} and by release {release}", key.0, key.1));
            }
            if release_of(o) != release {
                out.push(format!("{} {} of release {release} is labelled as release {:?}", key.0, key.1, release_of(o)));
            }
            objects.push(o.clone());
        }
    }
    let inputs = hawser::check::inputs::Inputs::new();
    let cluster = Cluster {
        env: String::new(),
        namespace: namespace.to_owned(),
        view,
        objects,
        dockerfiles: BTreeMap::new(),
        operator: true,
        prometheus: BTreeMap::new(),
        api_server: String::new(),
        exposure: None,
        pull_secrets: Vec::new(),
        inputs: &inputs,
    };
    let c = &cluster;
    let all_pods = pods(c);
    let pod_release = |labels: &BTreeMap<String, String>| labels.get(INSTANCE).cloned().unwrap_or_default();
    // The objects of each kind, by name, with their release.
    let by_name = |kind: &str| -> BTreeMap<String, String> {
        c.objects.iter().filter(|o| o["kind"] == kind).map(|o| (name(o).to_owned(), release_of(o).to_owned())).collect()
    };
    let (services, config_maps, accounts, jobs) = (by_name("Service"), by_name("ConfigMap"), by_name("ServiceAccount"), by_name("Job"));
    let synced: BTreeMap<String, String> = c
        .objects
        .iter()
        .filter(|o| o["kind"] == "ExternalSecret")
        .map(|o| (o["spec"]["target"]["name"].as_str().unwrap_or("").to_owned(), release_of(o).to_owned()))
        .collect();
    // The Secrets the releases' Certificates write.
    let certified: BTreeMap<String, String> = c
        .objects
        .iter()
        .filter(|o| o["kind"] == "Certificate")
        .map(|o| (o["spec"]["secretName"].as_str().unwrap_or("").to_owned(), release_of(o).to_owned()))
        .collect();
    // Selectors select the pods of their own release (and one workload).
    let selector_of = |o: &Value| -> Option<Value> {
        match o["kind"].as_str()? {
            "Service" => Some(serde_json::json!({ "matchLabels": o["spec"]["selector"] })),
            "Deployment" | "StatefulSet" | "PodDisruptionBudget" | "PodMonitor" => Some(o["spec"]["selector"].clone()),
            "NetworkPolicy" => Some(o["spec"]["podSelector"].clone()),
            _ => None,
        }
    };
    for o in &c.objects {
        let Some(selector) = selector_of(o) else { continue };
        let chosen: BTreeSet<(String, String)> =
            all_pods.iter().filter(|p| selects(&selector, &p.labels())).map(|p| (pod_release(&p.labels()), p.workload.clone())).collect();
        if chosen.iter().any(|(r, _)| r != release_of(o)) || chosen.len() > 1 {
            out.push(format!(
                "{} {} of release {} selects the pods of {chosen:?}",
                o["kind"].as_str().unwrap_or(""),
                name(o),
                release_of(o)
            ));
        }
    }

    let mut uses = |who: &str, release: &str, what: &str, target: &str, owners: &BTreeMap<String, String>| match owners.get(target) {
        Some(owner) if owner != release => out.push(format!("{who} of release {release} uses {what} {target} of release {owner}")),
        _ => {}
    };

    // What each pod names is its own release's.
    for pod in &all_pods {
        let release = pod_release(&pod.labels());
        let who = format!("{} ({})", pod.workload, pod.kind);
        let spec = pod.spec();
        uses(&who, &release, "ServiceAccount", spec["serviceAccountName"].as_str().unwrap_or(""), &accounts);
        for volume in spec["volumes"].as_array().into_iter().flatten() {
            uses(&who, &release, "Secret", volume["secret"]["secretName"].as_str().unwrap_or(""), &synced);
        }
        let containers = spec["initContainers"].as_array().into_iter().flatten().chain(spec["containers"].as_array().into_iter().flatten());
        for container in containers {
            for mount in container["volumeMounts"].as_array().into_iter().flatten() {
                let volume = spec["volumes"].as_array().into_iter().flatten().find(|v| v["name"] == mount["name"]);
                if let Some(cm) = volume.and_then(|v| v["configMap"]["name"].as_str()) {
                    uses(&who, &release, "ConfigMap", cm, &config_maps);
                }
            }
            for from in container["envFrom"].as_array().into_iter().flatten() {
                uses(&who, &release, "ConfigMap", from["configMapRef"]["name"].as_str().unwrap_or(""), &config_maps);
            }
            for env in container["env"].as_array().into_iter().flatten() {
                uses(&who, &release, "Secret", env["valueFrom"]["secretKeyRef"]["name"].as_str().unwrap_or(""), &synced);
            }
            let command: Vec<&str> = container["command"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            for job in command.iter().filter_map(|a| a.strip_prefix("job/")) {
                uses(&who, &release, "Job", job, &jobs);
            }
            if command.first() == Some(&"sh") {
                uses(&who, &release, "Service", command.get(3).copied().unwrap_or(""), &services);
            }
        }
    }
    for o in &c.objects {
        let release = release_of(o).to_owned();
        let who = format!("{} {}", o["kind"].as_str().unwrap_or(""), name(o));
        match o["kind"].as_str().unwrap_or("") {
            "ConfigMap" => {
                // An address in the environment names a Service of the release.
                for value in o["data"].as_object().into_iter().flat_map(|m| m.values()).filter_map(Value::as_str) {
                    let Some(found) = hawser::check::values::address(value) else { continue };
                    let host = &value[found.host];
                    let service = host.strip_suffix(&format!(".{namespace}.svc.cluster.local")).unwrap_or(host);
                    let service = service.strip_suffix(&format!(".{namespace}.svc")).unwrap_or(service);
                    let service = service.strip_suffix(&format!(".{namespace}")).unwrap_or(service);
                    uses(&who, &release, "Service", service, &services);
                }
            }
            "HorizontalPodAutoscaler" => {
                let kind = o["spec"]["scaleTargetRef"]["kind"].as_str().unwrap_or("Deployment");
                uses(&who, &release, kind, o["spec"]["scaleTargetRef"]["name"].as_str().unwrap_or(""), &by_name(kind));
            }
            "StatefulSet" => {
                uses(&who, &release, "Service", o["spec"]["serviceName"].as_str().unwrap_or(""), &services);
            }
            "RoleBinding" => {
                for s in o["subjects"].as_array().into_iter().flatten() {
                    uses(&who, &release, "ServiceAccount", s["name"].as_str().unwrap_or(""), &accounts);
                }
                uses(&who, &release, "Role", o["roleRef"]["name"].as_str().unwrap_or(""), &by_name("Role"));
            }
            "Ingress" => {
                for path in
                    o["spec"]["rules"].as_array().into_iter().flatten().flat_map(|r| r["http"]["paths"].as_array().into_iter().flatten())
                {
                    uses(&who, &release, "Service", path["backend"]["service"]["name"].as_str().unwrap_or(""), &services);
                }
                for tls in o["spec"]["tls"].as_array().into_iter().flatten() {
                    uses(&who, &release, "Secret", tls["secretName"].as_str().unwrap_or(""), &certified);
                }
            }
            "HTTPRoute" => {
                for b in o["spec"]["rules"].as_array().into_iter().flatten().flat_map(|r| r["backendRefs"].as_array().into_iter().flatten())
                {
                    uses(&who, &release, "Service", b["name"].as_str().unwrap_or(""), &services);
                }
            }
            "ReferenceGrant" => {
                for to in o["spec"]["to"].as_array().into_iter().flatten() {
                    uses(&who, &release, "Secret", to["name"].as_str().unwrap_or(""), &certified);
                }
            }
            "Role" => {
                for job in o["rules"].as_array().into_iter().flatten().flat_map(|r| r["resourceNames"].as_array().into_iter().flatten()) {
                    uses(&who, &release, "Job", job.as_str().unwrap_or(""), &jobs);
                }
            }
            _ => {}
        }
    }

    // The NetworkPolicies of both releases admit each release's own edges and nothing
    // between them.
    for dst in &all_pods {
        let Some(dw) = view.workloads.get(&dst.workload) else { continue };
        let used = service_ports(dw);
        let to = Endpoint {
            what: dst.workload.clone(),
            namespace: namespace.to_owned(),
            namespace_labels: namespace_labels(namespace),
            labels: dst.labels(),
        };
        for src in all_pods.iter().filter(|s| !(s.workload == dst.workload && pod_release(&s.labels()) == pod_release(&to.labels))) {
            let Some(sw) = view.workloads.get(&src.workload) else { continue };
            let from = Endpoint {
                what: src.workload.clone(),
                namespace: namespace.to_owned(),
                namespace_labels: namespace_labels(namespace),
                labels: src.labels(),
            };
            let same = pod_release(&from.labels) == pod_release(&to.labels);
            for port in dst.ports() {
                let expected = same && reaches(c, sw).contains(&dst.workload) && used.contains(&port.0);
                if allowed(c, &from, &to, &port) != expected {
                    let verb = if expected { "cannot connect to" } else { "may connect to" };
                    out.push(format!(
                        "{} of release {} {verb} {}:{} of release {}",
                        src.workload,
                        pod_release(&from.labels),
                        dst.workload,
                        port.0,
                        pod_release(&to.labels)
                    ));
                }
            }
        }
    }
    out
}
