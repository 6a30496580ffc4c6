//! The behaviour rules, one function per rule: each reads one environment's objects and the
//! spec's view of it, and returns what a cluster would do differently from what the spec
//! asks for (empty when the objects behave).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Cluster;
use hawser::check::model::{EnvValue, ReferenceForm, SecretSource, Workload};

type Rule = fn(&Cluster) -> Vec<String>;

/// Every rule, by the name its broken input in `tests/cluster/broken/` carries.
pub const RULES: &[(&str, Rule)] = &[
    ("service-selector", service_selector),
    ("target-port", target_port),
    ("probes", probes),
    ("network-policy", network_policy),
    ("argv", argv),
    ("references", references),
    ("jobs-bounded", jobs_bounded),
    ("availability", availability),
    ("monitoring", monitoring),
    ("storage", storage),
    ("addresses", addresses),
    ("pull-secrets", pull_secrets),
];

// ------------------------------------------------------------------ reading objects

/// A workload's pod template, with the workload it belongs to.
struct Pod<'a> {
    workload: String,
    kind: String,
    template: &'a Value,
}

impl Pod<'_> {
    fn labels(&self) -> BTreeMap<String, String> {
        string_map(&self.template["metadata"]["labels"])
    }
    fn spec(&self) -> &Value {
        &self.template["spec"]
    }
    fn main_container(&self) -> Option<&Value> {
        self.spec()["containers"].as_array()?.iter().find(|c| c["name"] == self.workload.as_str())
    }
    fn containers(&self) -> Vec<&Value> {
        let spec = self.spec();
        let list = |k: &str| spec[k].as_array().map(|a| a.iter().collect::<Vec<_>>()).unwrap_or_default();
        let mut out = list("initContainers");
        out.extend(list("containers"));
        out
    }
    /// The main container's ports: (name, number, protocol).
    fn ports(&self) -> Vec<(String, u64, String)> {
        self.main_container()
            .and_then(|c| c["ports"].as_array())
            .map(|ports| {
                ports
                    .iter()
                    .map(|p| {
                        (
                            p["name"].as_str().unwrap_or("").to_owned(),
                            p["containerPort"].as_u64().unwrap_or(0),
                            p["protocol"].as_str().unwrap_or("TCP").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned())).collect()).unwrap_or_default()
}

fn pods<'a>(c: &'a Cluster<'_>) -> Vec<Pod<'a>> {
    c.objects
        .iter()
        .filter_map(|o| {
            let template = match o["kind"].as_str()? {
                "Deployment" | "StatefulSet" | "Job" => &o["spec"]["template"],
                "CronJob" => &o["spec"]["jobTemplate"]["spec"]["template"],
                _ => return None,
            };
            let workload = o["metadata"]["labels"]["app.kubernetes.io/name"].as_str()?.to_owned();
            Some(Pod { workload, kind: o["kind"].as_str()?.to_owned(), template })
        })
        .collect()
}

fn of_kind<'a>(c: &'a Cluster<'_>, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    c.objects.iter().filter(move |o| o["kind"] == kind)
}

fn name(o: &Value) -> &str {
    o["metadata"]["name"].as_str().unwrap_or("")
}

/// A label selector (`matchLabels`, and `matchExpressions` with In, NotIn, Exists and
/// DoesNotExist) against a set of labels; the empty selector selects everything.
fn selects(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    let labels_match = string_map(&selector["matchLabels"]).iter().all(|(k, v)| labels.get(k) == Some(v));
    let expressions_match = selector["matchExpressions"].as_array().is_none_or(|exprs| {
        exprs.iter().all(|e| {
            let key = e["key"].as_str().unwrap_or("");
            let values: Vec<&str> = e["values"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            match e["operator"].as_str() {
                Some("In") => labels.get(key).is_some_and(|v| values.contains(&v.as_str())),
                Some("NotIn") => labels.get(key).is_none_or(|v| !values.contains(&v.as_str())),
                Some("Exists") => labels.contains_key(key),
                Some("DoesNotExist") => !labels.contains_key(key),
                _ => false,
            }
        })
    });
    labels_match && expressions_match
}

/// The ports of a workload its dependents use: all but the metrics port, or every port
/// when the metrics port is its only one.
fn service_ports(w: &Workload) -> BTreeSet<String> {
    let metrics = w.metrics.as_ref().map(|m| m.port.value.clone());
    let ports: BTreeSet<String> = w.ports.iter().map(|p| p.name.value.clone()).filter(|p| Some(p) != metrics.as_ref()).collect();
    if ports.is_empty() { w.ports.iter().map(|p| p.name.value.clone()).collect() } else { ports }
}

/// What a workload connects to: its dependencies, and through a run-once or scheduled job
/// it depends on, that job's dependencies (its pods wait for them before it starts).
fn reaches(c: &Cluster, w: &Workload) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack: Vec<&str> = w.depends_on.iter().map(|d| d.value.as_str()).collect();
    let mut seen = BTreeSet::new();
    while let Some(d) = stack.pop() {
        if !seen.insert(d) {
            continue;
        }
        match c.view.workloads.get(d) {
            Some(dw) if dw.job().is_some() => stack.extend(dw.depends_on.iter().map(|x| x.value.as_str())),
            Some(_) => {
                out.insert(d.to_owned());
            }
            None if c.view.externals.contains_key(d) => {
                out.insert(d.to_owned());
            }
            None => {}
        }
    }
    out
}

// ------------------------------------------------------------------ rules

/// Every Service selects the pods of the workload it belongs to, and only those.
fn service_selector(c: &Cluster) -> Vec<String> {
    let pods = pods(c);
    let mut out = Vec::new();
    for s in of_kind(c, "Service") {
        let owner = s["metadata"]["labels"]["app.kubernetes.io/name"].as_str().unwrap_or("");
        let selector = string_map(&s["spec"]["selector"]);
        if selector.is_empty() {
            out.push(format!("Service {} selects nothing (no selector)", name(s)));
            continue;
        }
        let selected: BTreeSet<&str> =
            pods.iter().filter(|p| selector.iter().all(|(k, v)| p.labels().get(k) == Some(v))).map(|p| p.workload.as_str()).collect();
        if selected != BTreeSet::from([owner]) {
            out.push(format!("Service {} selects the pods of {selected:?}, not those of {owner} alone", name(s)));
        }
    }
    out
}

/// Every port of a Service targets a port its workload's container declares (which pods
/// the Service selects is `service-selector`'s question).
fn target_port(c: &Cluster) -> Vec<String> {
    let pods = pods(c);
    let mut out = Vec::new();
    for s in of_kind(c, "Service") {
        let owner = s["metadata"]["labels"]["app.kubernetes.io/name"].as_str().unwrap_or("");
        for pod in pods.iter().filter(|p| p.workload == owner) {
            let ports = pod.ports();
            for sp in s["spec"]["ports"].as_array().into_iter().flatten() {
                let protocol = sp["protocol"].as_str().unwrap_or("TCP");
                let found = match &sp["targetPort"] {
                    Value::String(n) => ports.iter().any(|(pn, _, pp)| pn == n && pp == protocol),
                    Value::Number(n) => ports.iter().any(|(_, pn, pp)| Some(*pn) == n.as_u64() && pp == protocol),
                    _ => ports.iter().any(|(_, pn, pp)| Some(*pn) == sp["port"].as_u64() && pp == protocol),
                };
                if !found {
                    out.push(format!(
                        "Service {} port {} targets {} which {} does not declare",
                        name(s),
                        sp["name"],
                        sp["targetPort"],
                        pod.workload
                    ));
                }
            }
        }
    }
    out
}

/// Every probe checks a port the container declares, and an exec probe of a workload
/// built from source runs the binary its image holds.
fn probes(c: &Cluster) -> Vec<String> {
    let mut out = Vec::new();
    for pod in pods(c) {
        let Some(container) = pod.main_container() else { continue };
        let ports = pod.ports();
        let binary = c.view.workloads.get(&pod.workload).and_then(|w| hawser::emit::build::binary(w)).map(|(b, _)| format!("/{b}"));
        for kind in ["readinessProbe", "livenessProbe", "startupProbe"] {
            let probe = &container[kind];
            if probe.is_null() {
                continue;
            }
            let port = [&probe["httpGet"]["port"], &probe["tcpSocket"]["port"], &probe["grpc"]["port"]].into_iter().find(|p| !p.is_null());
            match port {
                Some(Value::String(n)) if !ports.iter().any(|(pn, _, _)| pn == n) => {
                    out.push(format!("{}: {kind} checks port {n}, which the container does not declare", pod.workload));
                }
                Some(Value::Number(n)) if !ports.iter().any(|(_, pn, _)| Some(*pn) == n.as_u64()) => {
                    out.push(format!("{}: {kind} checks port {n}, which the container does not declare", pod.workload));
                }
                _ => {}
            }
            if let (Some(command), Some(binary)) = (probe["exec"]["command"].as_array(), &binary)
                && command.first().and_then(Value::as_str) != Some(binary.as_str())
            {
                out.push(format!("{}: {kind} runs {:?}, but the image holds only {binary}", pod.workload, command.first()));
            }
        }
    }
    out
}

/// One end of a connection, as NetworkPolicies see it.
#[derive(Clone, Debug)]
struct Endpoint {
    what: String,
    namespace: String,
    labels: BTreeMap<String, String>,
}

fn namespace_labels(ns: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("kubernetes.io/metadata.name".to_owned(), ns.to_owned())])
}

/// A NetworkPolicy peer against a pod.
fn peer_matches(peer: &Value, policy_namespace: &str, pod: &Endpoint) -> bool {
    if let Some(cidr) = peer["ipBlock"]["cidr"].as_str() {
        // A pod's address is some cluster address: only a block of every address surely
        // holds it.
        return cidr == "0.0.0.0/0";
    }
    let ns_ok = match peer.get("namespaceSelector") {
        Some(sel) => selects(sel, &namespace_labels(&pod.namespace)),
        None => pod.namespace == policy_namespace,
    };
    let pod_ok = peer.get("podSelector").is_none_or(|sel| selects(sel, &pod.labels));
    ns_ok && pod_ok
}

/// A NetworkPolicy port list against a destination port (name, number, protocol).
fn ports_match(ports: &Value, port: &(String, u64, String)) -> bool {
    let Some(list) = ports.as_array().filter(|l| !l.is_empty()) else { return true };
    list.iter().any(|p| {
        let protocol = p["protocol"].as_str().unwrap_or("TCP");
        let number_ok = match &p["port"] {
            Value::Null => true,
            Value::String(n) => *n == port.0,
            Value::Number(n) => {
                let from = n.as_u64().unwrap_or(0);
                let to = p["endPort"].as_u64().unwrap_or(from);
                (from..=to).contains(&port.1)
            }
            _ => false,
        };
        protocol == port.2 && number_ok
    })
}

fn policy_types(policy: &Value) -> Vec<String> {
    match policy["spec"]["policyTypes"].as_array() {
        Some(t) => t.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
        None if policy["spec"].get("egress").is_some() => vec!["Ingress".to_owned(), "Egress".to_owned()],
        None => vec!["Ingress".to_owned()],
    }
}

/// Whether the policies of the namespace let `from` open `port` on `to`: the egress side
/// of the source and the ingress side of the destination must both allow it; a pod that
/// no policy of a direction selects is open in that direction.
fn allowed(c: &Cluster, from: &Endpoint, to: &Endpoint, port: &(String, u64, String)) -> bool {
    let policies: Vec<&Value> = of_kind(c, "NetworkPolicy").collect();
    let side = |pod: &Endpoint, direction: &str, rules_key: &str, peers_key: &str, other: &Endpoint| -> bool {
        if pod.namespace != c.namespace {
            return true;
        }
        let selecting: Vec<&&Value> = policies
            .iter()
            .filter(|p| selects(&p["spec"]["podSelector"], &pod.labels) && policy_types(p).iter().any(|t| t == direction))
            .collect();
        selecting.is_empty()
            || selecting.iter().any(|p| {
                p["spec"][rules_key].as_array().into_iter().flatten().any(|rule| {
                    let peers_ok = match rule[peers_key].as_array() {
                        None => true,
                        Some(peers) if peers.is_empty() => true,
                        Some(peers) => peers.iter().any(|peer| peer_matches(peer, &c.namespace, other)),
                    };
                    peers_ok && ports_match(&rule["ports"], port)
                })
            })
    };
    side(from, "Egress", "egress", "to", to) && side(to, "Ingress", "ingress", "from", from)
}

/// Every dependency edge, every `public` port and the metrics scrape is allowed by the
/// NetworkPolicies, and no other connection between the sources and pods a cluster holds
/// (the workloads, another pod of the namespace, a pod of another namespace, Prometheus),
/// and every declared external is reachable on its port. A workload reaches a `public`
/// port only when it depends on it; every source that is not a workload of the project
/// reaches it.
fn network_policy(c: &Cluster) -> Vec<String> {
    let pods = pods(c);
    let prometheus_ns = hawser::emit::monitoring::PROMETHEUS_NAMESPACE;
    let mut sources: Vec<(Option<&Workload>, Endpoint)> = pods
        .iter()
        .map(|p| {
            (
                c.view.workloads.get(&p.workload).map(|w| &**w),
                Endpoint { what: p.workload.clone(), namespace: c.namespace.clone(), labels: p.labels() },
            )
        })
        .collect();
    let stranger = |what: &str, ns: &str, app: &str| Endpoint {
        what: what.to_owned(),
        namespace: ns.to_owned(),
        labels: BTreeMap::from([("app.kubernetes.io/name".to_owned(), app.to_owned())]),
    };
    sources.push((None, stranger("another pod of the namespace", &c.namespace, "stranger")));
    sources.push((None, stranger("a pod of another namespace", "elsewhere", "stranger")));
    sources.push((None, stranger("Prometheus", prometheus_ns, "prometheus")));
    let mut out = Vec::new();
    for dst in &pods {
        let Some(dw) = c.view.workloads.get(&dst.workload) else { continue };
        let to = Endpoint { what: dst.workload.clone(), namespace: c.namespace.clone(), labels: dst.labels() };
        let public: BTreeSet<&str> = dw.public.iter().map(|p| p.value.as_str()).collect();
        let metrics = dw.metrics.as_ref().map(|m| m.port.value.as_str());
        let used = service_ports(dw);
        for port in dst.ports() {
            for (sw, from) in &sources {
                if sw.is_some_and(|s| s.name.value == dst.workload) {
                    continue;
                }
                let dependent = sw.is_some_and(|s| reaches(c, s).contains(&dst.workload) && used.contains(&port.0));
                let scrape = from.namespace == prometheus_ns && metrics == Some(port.0.as_str());
                // A workload's own egress is limited to what it depends on; `public` opens a
                // port to everything else: other namespaces, the ingress controller.
                let outside = sw.is_none() && public.contains(port.0.as_str());
                let expected = dependent || scrape || outside;
                let actual = allowed(c, from, &to, &port);
                if expected != actual {
                    let verb = if actual { "may connect to" } else { "cannot connect to" };
                    out.push(format!("{} {verb} {}:{} ({})", from.what, dst.workload, port.0, port.1));
                }
            }
        }
    }
    // Externals: an address outside the cluster, reachable only through ipBlock rules.
    for (sw, from) in sources.iter().filter(|(w, _)| w.is_some()) {
        let Some(sw) = sw else { continue };
        for e in reaches(c, sw).iter().filter_map(|d| c.view.externals.get(d)) {
            let port = (String::new(), u64::from(e.port.value), "TCP".to_owned());
            let ok = of_kind(c, "NetworkPolicy").filter(|p| selects(&p["spec"]["podSelector"], &from.labels)).any(|p| {
                p["spec"]["egress"].as_array().into_iter().flatten().any(|rule| {
                    ports_match(&rule["ports"], &port)
                        && rule["to"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .any(|peer| peer["ipBlock"]["cidr"].as_str().is_some_and(|cidr| cidr_holds(cidr, &e.host.value)))
                })
            });
            if !ok {
                out.push(format!("{} cannot connect to the external {}:{}", from.what, e.host.value, e.port.value));
            }
        }
    }
    out
}

/// Whether a CIDR block surely holds a host: an IP address inside it, or any address for
/// a DNS name when the block is every address.
fn cidr_holds(cidr: &str, host: &str) -> bool {
    let Some((net, bits)) = cidr.split_once('/') else { return false };
    let bits: u32 = bits.parse().unwrap_or(33);
    match (net.parse::<std::net::Ipv4Addr>(), host.parse::<std::net::Ipv4Addr>()) {
        (Ok(n), Ok(h)) if bits <= 32 => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(n) & mask == u32::from(h) & mask
        }
        _ => cidr == "0.0.0.0/0" || (cidr.ends_with("/128") && net == host),
    }
}

/// The program a container runs is the spec's: the image's ENTRYPOINT (or the
/// container's `command`, which replaces it) followed by the container's `args`; with a
/// `command` in the spec, that command followed by the spec's arguments.
fn argv(c: &Cluster) -> Vec<String> {
    let mut out = Vec::new();
    for pod in pods(c) {
        let (Some(w), Some(container)) = (c.view.workloads.get(&pod.workload), pod.main_container()) else { continue };
        let strings =
            |v: &Value| -> Option<Vec<String>> { v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()) };
        let args = strings(&container["args"]).unwrap_or_default();
        let spec_args: Vec<String> = w.args.iter().map(|a| a.value.clone()).collect();
        let spec_command: Vec<String> = w.command.iter().map(|a| a.value.clone()).collect();
        if !spec_command.is_empty() {
            // The command replaces whatever the image would run: only the container says.
            let mut effective: Vec<String> = strings(&container["command"]).unwrap_or_default();
            effective.extend(args.iter().cloned());
            let effective: Vec<String> = effective.iter().map(|a| crate::common::kubelet_expand(a)).collect();
            let expected: Vec<String> = spec_command.iter().chain(&spec_args).cloned().collect();
            if effective != expected {
                out.push(format!("{} ({}) runs {effective:?}, the spec says {expected:?}", pod.workload, pod.kind));
            }
            continue;
        }
        match hawser::emit::build::binary(w) {
            Some((binary, _)) => {
                let Some(dockerfile) = c.dockerfiles.get(&pod.workload) else {
                    out.push(format!("{}: built from source, but there is no Dockerfile", pod.workload));
                    continue;
                };
                let entrypoint = dockerfile
                    .lines()
                    .filter_map(|l| l.strip_prefix("ENTRYPOINT "))
                    .next_back()
                    .and_then(|e| serde_json::from_str::<Vec<String>>(e).ok())
                    .unwrap_or_default();
                // The kubelet expands `$(VAR)` (and `$$`) in `command` and `args`, not in the
                // image's ENTRYPOINT: what the program receives is after that expansion.
                let mut effective = match strings(&container["command"]) {
                    Some(command) => command.iter().map(|a| crate::common::kubelet_expand(a)).collect(),
                    None => entrypoint,
                };
                effective.extend(args.iter().map(|a| crate::common::kubelet_expand(a)));
                let mut expected = vec![format!("/{binary}")];
                expected.extend(spec_args);
                if effective != expected {
                    out.push(format!("{} ({}) runs {effective:?}, the spec says {expected:?}", pod.workload, pod.kind));
                }
            }
            None => {
                let received: Vec<String> = args.iter().map(|a| crate::common::kubelet_expand(a)).collect();
                if !container["command"].is_null() || received != spec_args {
                    out.push(format!(
                        "{}: the image's entrypoint gets {args:?} (command {}), the spec says {spec_args:?}",
                        pod.workload, container["command"]
                    ));
                }
            }
        }
    }
    out
}

/// Every ServiceAccount, ConfigMap and Secret a pod refers to is produced in the
/// environment (an object, or the target of an ExternalSecret, with the key read) or
/// declared by the spec as created outside it.
fn references(c: &Cluster) -> Vec<String> {
    let project = &c.view.project.name.value;
    let config_maps: BTreeSet<&str> = of_kind(c, "ConfigMap").map(name).collect();
    let accounts: BTreeSet<&str> = of_kind(c, "ServiceAccount").map(name).collect();
    // Secret name → the keys it holds (None: whatever the operator puts in it).
    let mut secrets: BTreeMap<String, Option<BTreeSet<String>>> = BTreeMap::new();
    for es in of_kind(c, "ExternalSecret") {
        let target = es["spec"]["target"]["name"].as_str().unwrap_or(name(es)).to_owned();
        let keys = es["spec"]["data"].as_array().into_iter().flatten().filter_map(|d| d["secretKey"].as_str().map(str::to_owned)).collect();
        secrets.insert(target, Some(keys));
    }
    for (secret, declared) in &c.view.secrets {
        match &declared.source {
            Some(SecretSource::Kubernetes { name, .. }) => {
                secrets.entry(name.clone()).or_insert(None);
            }
            Some(SecretSource::Env(_) | SecretSource::File(_)) => {
                secrets
                    .entry(hawser::emit::kubernetes::values::secret_name(project, secret))
                    .or_insert(Some(BTreeSet::from(["value".to_owned()])));
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    let secret_ref = |who: &str, secret: &str, key: &str, out: &mut Vec<String>| match secrets.get(secret) {
        None => out.push(format!("{who} reads Secret {secret}, which nothing produces or declares")),
        Some(Some(keys)) if !keys.contains(key) => out.push(format!("{who} reads key {key} of Secret {secret}, which holds {keys:?}")),
        _ => {}
    };
    for pod in pods(c) {
        let who = &pod.workload;
        let account = pod.spec()["serviceAccountName"].as_str().unwrap_or("default");
        if !accounts.contains(account) {
            out.push(format!("{who} runs as ServiceAccount {account}, which is not produced"));
        }
        for container in pod.containers() {
            for from in container["envFrom"].as_array().into_iter().flatten() {
                if let Some(cm) = from["configMapRef"]["name"].as_str().filter(|n| !config_maps.contains(n)) {
                    out.push(format!("{who} reads ConfigMap {cm}, which is not produced"));
                }
                if let Some(s) = from["secretRef"]["name"].as_str() {
                    secret_ref(who, s, "", &mut out);
                }
            }
            for env in container["env"].as_array().into_iter().flatten() {
                let r = &env["valueFrom"]["secretKeyRef"];
                if let (Some(s), Some(k)) = (r["name"].as_str(), r["key"].as_str()) {
                    secret_ref(who, s, k, &mut out);
                }
                if let Some(cm) = env["valueFrom"]["configMapKeyRef"]["name"].as_str().filter(|n| !config_maps.contains(n)) {
                    out.push(format!("{who} reads ConfigMap {cm}, which is not produced"));
                }
            }
        }
        for volume in pod.spec()["volumes"].as_array().into_iter().flatten() {
            if let Some(cm) = volume["configMap"]["name"].as_str().filter(|n| !config_maps.contains(n)) {
                out.push(format!("{who} mounts ConfigMap {cm}, which is not produced"));
            }
            if let Some(s) = volume["secret"]["secretName"].as_str() {
                for item in volume["secret"]["items"].as_array().into_iter().flatten() {
                    secret_ref(who, s, item["key"].as_str().unwrap_or(""), &mut out);
                }
            }
        }
    }
    out
}

/// Nothing waits for ever: every Job has a deadline, every CronJob a starting deadline
/// (a missed run does not block the schedule), and every wait for a dependency gives up
/// after a bounded time with an error.
fn jobs_bounded(c: &Cluster) -> Vec<String> {
    let mut out = Vec::new();
    let positive = |v: &Value| v.as_u64().is_some_and(|n| n > 0);
    for job in of_kind(c, "Job") {
        if !positive(&job["spec"]["activeDeadlineSeconds"]) {
            out.push(format!("Job {} has no activeDeadlineSeconds", name(job)));
        }
    }
    for cron in of_kind(c, "CronJob") {
        if !positive(&cron["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"]) {
            out.push(format!("CronJob {} runs jobs without activeDeadlineSeconds", name(cron)));
        }
        if !positive(&cron["spec"]["startingDeadlineSeconds"]) {
            out.push(format!("CronJob {} has no startingDeadlineSeconds", name(cron)));
        }
    }
    for pod in pods(c) {
        for init in pod.spec()["initContainers"].as_array().into_iter().flatten() {
            let command: Vec<&str> = init["command"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            let script = command.get(2).copied().unwrap_or("");
            let bound = command.get(5).and_then(|s| s.parse::<u64>().ok()).filter(|n| *n > 0);
            let gives_up = script.contains("$2") && script.contains("exit 1");
            if command.first() != Some(&"sh") || bound.is_none() || !gives_up {
                out.push(format!("{}: init container {} may wait for ever: {command:?}", pod.workload, init["name"]));
            }
        }
    }
    out
}

/// A Deployment that runs more than one pod spreads them over nodes, and its
/// PodDisruptionBudget selects its pods and never blocks evicting an unhealthy one.
fn availability(c: &Cluster) -> Vec<String> {
    let mut out = Vec::new();
    let autoscaled: BTreeSet<&str> =
        of_kind(c, "HorizontalPodAutoscaler").filter_map(|h| h["spec"]["scaleTargetRef"]["name"].as_str()).collect();
    for d in of_kind(c, "Deployment").chain(of_kind(c, "StatefulSet")) {
        let many = d["spec"]["replicas"].as_u64().unwrap_or(1) > 1 || autoscaled.contains(name(d));
        if !many {
            continue;
        }
        let labels = string_map(&d["spec"]["template"]["metadata"]["labels"]);
        let spreads = d["spec"]["template"]["spec"]["topologySpreadConstraints"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|t| t["topologyKey"] == "kubernetes.io/hostname" && selects(&t["labelSelector"], &labels));
        if !spreads {
            out.push(format!("{} {} runs several pods with nothing spreading them over nodes", d["kind"], name(d)));
        }
        let pdbs: Vec<&Value> = of_kind(c, "PodDisruptionBudget").filter(|p| selects(&p["spec"]["selector"], &labels)).collect();
        if pdbs.is_empty() {
            out.push(format!("{} {} runs several pods and no PodDisruptionBudget selects them", d["kind"], name(d)));
        }
        for p in pdbs.into_iter().filter(|p| p["spec"]["unhealthyPodEvictionPolicy"] != "AlwaysAllow") {
            out.push(format!("PodDisruptionBudget {} blocks node drains behind pods that are not Ready", name(p)));
        }
    }
    out
}

/// Labels an alert's text may use: what the PodMonitor's discovery and relabelling set on
/// scraped series, and what kube-state-metrics sets on its own.
const KNOWN_LABELS: &[&str] = &[
    "namespace",
    "pod",
    "container",
    "endpoint",
    "job",
    "instance",
    "project",
    "environment",
    "workload",
    "deployment",
    "job_name",
    "cronjob",
];

/// Prometheus (run by prometheus-operator) scrapes each workload's metrics port, in its
/// namespace, from its pods; every workload has alerts, each saying what to do, whose text
/// uses only labels the series have. Where the operator does not run, none of its objects
/// is there.
fn monitoring(c: &Cluster) -> Vec<String> {
    let mut out = Vec::new();
    if !c.operator {
        // Without the operator's CRDs, applying one of its objects fails.
        for o in c.objects.iter().filter(|o| o["apiVersion"].as_str().is_some_and(|a| a.starts_with("monitoring.coreos.com/"))) {
            out.push(format!("{} {} needs prometheus-operator, which the environment does not run", o["kind"], name(o)));
        }
        return out;
    }
    let pods = pods(c);
    let monitors: Vec<&Value> = of_kind(c, "PodMonitor").collect();
    for w in c.view.workloads.values() {
        let Some(m) = w.metrics.as_ref().filter(|_| w.is_service()) else { continue };
        let Some(pod) = pods.iter().find(|p| p.workload == w.name.value) else { continue };
        let scraped = monitors.iter().any(|pm| {
            // Without a namespaceSelector a PodMonitor selects pods of its own namespace.
            let ns_ok = match pm["spec"]["namespaceSelector"]["matchNames"].as_array() {
                Some(names) => names.iter().any(|x| x == c.namespace.as_str()),
                None => pm["metadata"]["namespace"] == c.namespace.as_str(),
            };
            let port_ok = pm["spec"]["podMetricsEndpoints"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|e| e["port"].as_str().is_some_and(|port| port == m.port.value && pod.ports().iter().any(|(n, _, _)| n == port)));
            ns_ok && port_ok && selects(&pm["spec"]["selector"], &pod.labels())
        });
        if !scraped {
            out.push(format!("no PodMonitor scrapes port {} of {}'s pods in namespace {}", m.port.value, w.name.value, c.namespace));
        }
    }
    let rules: Vec<&Value> = of_kind(c, "PrometheusRule")
        .flat_map(|r| r["spec"]["groups"].as_array().into_iter().flatten())
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .collect();
    for w in c.view.workloads.values() {
        if !rules.iter().any(|r| r["labels"]["workload"] == w.name.value.as_str()) {
            out.push(format!("{} has no alert", w.name.value));
        }
    }
    for r in &rules {
        let alert = r["alert"].as_str().unwrap_or("?");
        let description = r["annotations"]["description"].as_str().unwrap_or("");
        if description.is_empty() && r["annotations"]["runbook_url"].is_null() {
            out.push(format!("alert {alert} says nothing about what to do"));
        }
        let text = format!("{} {}", r["annotations"]["summary"].as_str().unwrap_or(""), description);
        for used in text.split("$labels.").skip(1) {
            let label: String = used.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !KNOWN_LABELS.contains(&label.as_str()) {
                out.push(format!("alert {alert} uses the label {label}, which its series do not have"));
            }
        }
        if !r["expr"].as_str().unwrap_or("").contains(&format!("namespace=\"{}\"", c.namespace)) {
            out.push(format!("alert {alert} does not select namespace {}", c.namespace));
        }
    }
    out
}

/// Every volume and configuration file of the spec is where the program looks for it, as
/// the spec says: a volume writable at its path (an emptyDir of its size, or a claim of the
/// StatefulSet a persistent volume makes of a service, with its size, access mode and
/// class, each pod its own), a file read-only at its path from a ConfigMap key holding
/// exactly the file's contents, and the pod template carrying the hash of that ConfigMap's
/// data, so that a changed file rolls the pods (a `subPath` mount never changes in place).
/// Nothing else is writable but `/tmp`.
fn storage(c: &Cluster) -> Vec<String> {
    let mut out = Vec::new();
    let config_maps: BTreeMap<&str, &Value> = of_kind(c, "ConfigMap").map(|m| (name(m), m)).collect();
    for o in &c.objects {
        let kind = o["kind"].as_str().unwrap_or("");
        let Some(pod) = pods(c)
            .into_iter()
            .find(|p| p.workload == o["metadata"]["labels"]["app.kubernetes.io/name"].as_str().unwrap_or("") && p.kind == kind)
        else {
            continue;
        };
        let Some(w) = c.view.workloads.get(&pod.workload) else { continue };
        let Some(container) = pod.main_container() else { continue };
        let who = &pod.workload;
        let mounts: Vec<&Value> = container["volumeMounts"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
        let volumes: Vec<&Value> = pod.spec()["volumes"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
        let claims: Vec<&Value> = o["spec"]["volumeClaimTemplates"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
        let mount_at = |path: &str| mounts.iter().find(|m| m["mountPath"] == path).copied();
        let volume_named = |n: &Value| volumes.iter().find(|v| v["name"] == *n).copied();
        let stateful = w.is_stateful();
        if stateful != (kind == "StatefulSet") {
            out.push(format!("{who} is a {kind}, but it {} a persistent volume", if stateful { "has" } else { "has no" }));
        }
        for v in &w.volumes {
            let Some(m) = mount_at(&v.path.value) else {
                out.push(format!("{who}: volume {} is not mounted at {}", v.name.value, v.path.value));
                continue;
            };
            if m["readOnly"] == true || !m["subPath"].is_null() {
                out.push(format!("{who}: volume {} at {} is not a writable directory", v.name.value, v.path.value));
            }
            if v.persistent {
                let claim = claims.iter().find(|t| t["metadata"]["name"] == m["name"]);
                let Some(claim) = claim.filter(|_| volume_named(&m["name"]).is_none()) else {
                    out.push(format!("{who}: persistent volume {} is not a claim of each pod", v.name.value));
                    continue;
                };
                let spec = &claim["spec"];
                let class = v.storage_class.as_ref().map(|s| s.value.as_str());
                if spec["resources"]["requests"]["storage"] != v.size.value.text.as_str()
                    || spec["accessModes"] != serde_json::json!([v.access_mode()])
                    || spec["storageClassName"].as_str() != class
                {
                    out.push(format!(
                        "{who}: the claim of volume {} is not {} {} of class {class:?}: {spec}",
                        v.name.value,
                        v.size.value.text,
                        v.access_mode()
                    ));
                }
            } else {
                match volume_named(&m["name"]) {
                    Some(vol) if vol["emptyDir"]["sizeLimit"] == v.size.value.text.as_str() => {}
                    other => {
                        out.push(format!("{who}: ephemeral volume {} is not an emptyDir of {}: {other:?}", v.name.value, v.size.value.text))
                    }
                }
            }
        }
        let mut files_map: Option<&str> = None;
        for f in &w.files {
            let Some(m) = mount_at(&f.path.value) else {
                out.push(format!("{who}: file {} is not mounted", f.path.value));
                continue;
            };
            let source = volume_named(&m["name"]).map(|v| &v["configMap"]);
            let key = m["subPath"].as_str().unwrap_or("");
            let cm = source.and_then(|s| s["name"].as_str()).and_then(|n| config_maps.get(n).map(|cm| (n, cm)));
            let Some((cm_name, cm)) = cm.filter(|_| m["readOnly"] == true && !key.is_empty()) else {
                out.push(format!("{who}: file {} is not a read-only key of a ConfigMap", f.path.value));
                continue;
            };
            files_map = Some(cm_name);
            let expected = c.inputs.get(&f.input()).map(String::as_str);
            let item =
                source.and_then(|s| s["items"].as_array()).is_none_or(|items| items.iter().any(|i| i["key"] == key && i["path"] == key));
            if cm["data"][key].as_str() != expected || !item {
                out.push(format!("{who}: {} does not hold the contents of {} under {key}", cm_name, f.source.value));
            }
        }
        if let Some(cm) = files_map.and_then(|n| config_maps.get(n)) {
            let data: BTreeMap<String, String> = string_map(&cm["data"]);
            let annotation = &pod.template["metadata"]["annotations"]["hawser.dev/files-checksum"];
            if annotation.as_str() != Some(hawser::emit::kubernetes::objects::config_checksum(&data).as_str()) {
                out.push(format!("{who}: the pods do not carry the hash of their files, so a changed file would not roll them"));
            }
        }
        let declared: BTreeSet<&str> = w.volumes.iter().map(|v| v.path.value.as_str()).chain(["/tmp"]).collect();
        for m in &mounts {
            let path = m["mountPath"].as_str().unwrap_or("");
            if m["readOnly"] != true && !declared.contains(path) {
                out.push(format!("{who}: {path} is writable, which the spec does not ask for"));
            }
        }
    }
    out
}

/// Every address the spec writes as a reference (`(address)"cart" port="grpc"`) reaches
/// what it names, as the pod receives it from its ConfigMap: a service's address is the
/// name of a Service of the namespace that selects the service's pods and serves the port
/// on a port they declare, and the NetworkPolicies let the workload connect there; an
/// external's is its host and port, and egress to it is allowed.
fn addresses(c: &Cluster) -> Vec<String> {
    let mut out = Vec::new();
    let pods = pods(c);
    for pod in &pods {
        let Some(w) = c.view.workloads.get(&pod.workload) else { continue };
        let Some(config) = of_kind(c, "ConfigMap").find(|m| name(m) == pod.workload) else { continue };
        let from = Endpoint { what: pod.workload.clone(), namespace: c.namespace.clone(), labels: pod.labels() };
        for var in w.env.values() {
            let EnvValue::Reference(r) = &var.value else { continue };
            // Its own port, to listen on: no connection to check.
            if r.target.value == pod.workload {
                continue;
            }
            let key = &var.key.value;
            let Some(value) = config["data"][key.as_str()].as_str() else {
                out.push(format!("{}: {key} is a reference, and the ConfigMap has no {key}", pod.workload));
                continue;
            };
            let (host, port) = match r.form {
                ReferenceForm::Host => (Some(value.to_owned()), None),
                ReferenceForm::Port => (None, value.parse::<u64>().ok().or(Some(0))),
                ReferenceForm::Address => {
                    let (default, rest) = match value.split_once("://") {
                        Some((scheme, rest)) => (
                            match scheme {
                                "http" | "ws" => Some(80),
                                "https" | "wss" => Some(443),
                                _ => None,
                            },
                            rest.split('/').next().unwrap_or(""),
                        ),
                        None => (None, value),
                    };
                    match rest.rsplit_once(':').filter(|(h, _)| !h.is_empty() && !h.ends_with(':')) {
                        Some((h, p)) => {
                            (Some(h.trim_start_matches('[').trim_end_matches(']').to_owned()), p.parse::<u64>().ok().or(Some(0)))
                        }
                        None => (Some(rest.to_owned()), default.or(Some(0))),
                    }
                }
            };
            let target = &r.target.value;
            if let Some(e) = c.view.externals.get(target) {
                if host.as_ref().is_some_and(|h| *h != e.host.value) || port.is_some_and(|p| p != u64::from(e.port.value)) {
                    out.push(format!("{}: {key}={value} is not the external {target} ({}:{})", pod.workload, e.host.value, e.port.value));
                }
                continue;
            }
            let Some(dst) = pods.iter().find(|p| p.workload == *target) else {
                out.push(format!("{}: {key} names {target}, which has no pods here", pod.workload));
                continue;
            };
            let service = host.as_ref().map(|h| {
                let suffix = format!(".{}.svc.cluster.local", c.namespace);
                h.strip_suffix(&suffix).unwrap_or(h).to_owned()
            });
            let services: Vec<&Value> = of_kind(c, "Service")
                .filter(|s| service.as_ref().is_none_or(|n| name(s) == n))
                .filter(|s| {
                    let selector = string_map(&s["spec"]["selector"]);
                    !selector.is_empty() && selector.iter().all(|(k, v)| dst.labels().get(k) == Some(v))
                })
                .collect();
            if services.is_empty() {
                out.push(format!("{}: {key}={value}: no Service of that name selects {target}'s pods", pod.workload));
                continue;
            }
            // The container port the Service sends the address's port to.
            let container_ports: Vec<(String, u64, String)> = services
                .iter()
                .flat_map(|s| s["spec"]["ports"].as_array().into_iter().flatten())
                .filter(|sp| port.is_none_or(|p| sp["port"].as_u64() == Some(p)))
                .filter_map(|sp| {
                    dst.ports().into_iter().find(|(n, number, _)| match &sp["targetPort"] {
                        Value::String(t) => t == n,
                        Value::Number(t) => t.as_u64() == Some(*number),
                        _ => sp["port"].as_u64() == Some(*number),
                    })
                })
                .collect();
            if container_ports.is_empty() {
                out.push(format!("{}: {key}={value}: {target}'s Service serves no such port", pod.workload));
                continue;
            }
            let to = Endpoint { what: target.clone(), namespace: c.namespace.clone(), labels: dst.labels() };
            if !container_ports.iter().any(|p| allowed(c, &from, &to, p)) {
                out.push(format!("{}: {key}={value}: the NetworkPolicies do not let it connect to {target}", pod.workload));
            }
        }
    }
    out
}

/// Every pod pulls its images with exactly the registry credentials its environment
/// declares (`pull-secret`), each an existing Secret the spec declares: a pod that names
/// another cannot pull from a private registry, one that names a Secret nobody created
/// does not start.
fn pull_secrets(c: &Cluster) -> Vec<String> {
    let mut out = Vec::new();
    let declared: BTreeSet<&str> = c
        .view
        .secrets
        .values()
        .filter_map(|s| match &s.source {
            Some(SecretSource::Kubernetes { name, key }) if key == hawser::check::images::DOCKER_CONFIG_KEY => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let expected: BTreeSet<&str> = c.pull_secrets.iter().map(String::as_str).collect();
    for pod in pods(c) {
        let named: BTreeSet<&str> =
            pod.spec()["imagePullSecrets"].as_array().into_iter().flatten().filter_map(|s| s["name"].as_str()).collect();
        for n in named.iter().filter(|n| !declared.contains(**n)) {
            out.push(format!("{} pulls with Secret {n}, which the spec declares as no registry credential", pod.workload));
        }
        if named != expected {
            out.push(format!("{} pulls with {named:?}; the environment's pull secrets are {expected:?}", pod.workload));
        }
    }
    out
}
