//! The behaviour rules, one function per rule: each reads one environment's objects and the
//! spec's view of it, and returns what a cluster would do differently from what the spec
//! asks for (empty when the objects behave).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Cluster;
use hawser::check::model::{EnvValue, Exposure, ReferenceForm, SecretSource, TlsSource, Workload};

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
    ("job-order", job_order),
    ("availability", availability),
    ("monitoring", monitoring),
    ("scrape-config", scrape_config),
    ("storage", storage),
    ("service-ports", service_ports_rule),
    ("exposure", exposure),
    ("addresses", addresses),
    ("pull-secrets", pull_secrets),
];

// ------------------------------------------------------------------ reading objects

/// A workload's pod template, with the workload it belongs to.
pub(crate) struct Pod<'a> {
    pub(crate) workload: String,
    pub(crate) kind: String,
    pub(crate) template: &'a Value,
}

impl Pod<'_> {
    pub(crate) fn labels(&self) -> BTreeMap<String, String> {
        string_map(&self.template["metadata"]["labels"])
    }
    pub(crate) fn spec(&self) -> &Value {
        &self.template["spec"]
    }
    /// The workload's container: named after it (in a release of the chart, after its
    /// objects), the only one of the pod.
    fn main_container(&self) -> Option<&Value> {
        let containers = self.spec()["containers"].as_array()?;
        containers.iter().find(|c| c["name"] == self.workload.as_str()).or(match containers.as_slice() {
            [only] => Some(only),
            _ => None,
        })
    }
    fn containers(&self) -> Vec<&Value> {
        let spec = self.spec();
        let list = |k: &str| spec[k].as_array().map(|a| a.iter().collect::<Vec<_>>()).unwrap_or_default();
        let mut out = list("initContainers");
        out.extend(list("containers"));
        out
    }
    /// The main container's ports: (name, number, protocol).
    pub(crate) fn ports(&self) -> Vec<(String, u64, String)> {
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

pub(crate) fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned())).collect()).unwrap_or_default()
}

pub(crate) fn pods<'a>(c: &'a Cluster<'_>) -> Vec<Pod<'a>> {
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

pub(crate) fn of_kind<'a>(c: &'a Cluster<'_>, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    c.objects.iter().filter(move |o| o["kind"] == kind)
}

pub(crate) fn name(o: &Value) -> &str {
    o["metadata"]["name"].as_str().unwrap_or("")
}

/// A label selector (`matchLabels`, and `matchExpressions` with In, NotIn, Exists and
/// DoesNotExist) against a set of labels; the empty selector selects everything.
pub(crate) fn selects(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
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
pub(crate) fn service_ports(w: &Workload) -> BTreeSet<String> {
    let metrics = w.metrics.as_ref().map(|m| m.port.value.clone());
    let ports: BTreeSet<String> = w.ports.iter().map(|p| p.name.value.clone()).filter(|p| Some(p) != metrics.as_ref()).collect();
    if ports.is_empty() { w.ports.iter().map(|p| p.name.value.clone()).collect() } else { ports }
}

/// What a workload connects to: its dependencies, and through a run-once or scheduled job
/// it depends on, that job's dependencies (its pods wait for them before it starts).
pub(crate) fn reaches(c: &Cluster, w: &Workload) -> BTreeSet<String> {
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

/// Every port of a Service targets a port its workload's container declares, and resolves
/// to the container port the spec declares under the Service port's name — whatever number
/// the Service listens on (which pods the Service selects is `service-selector`'s question).
fn target_port(c: &Cluster) -> Vec<String> {
    let pods = pods(c);
    let mut out = Vec::new();
    for s in of_kind(c, "Service") {
        let owner = s["metadata"]["labels"]["app.kubernetes.io/name"].as_str().unwrap_or("");
        let spec_ports = c.view.workloads.get(owner).map(|w| w.ports.clone()).unwrap_or_default();
        for pod in pods.iter().filter(|p| p.workload == owner) {
            let ports = pod.ports();
            for sp in s["spec"]["ports"].as_array().into_iter().flatten() {
                let protocol = sp["protocol"].as_str().unwrap_or("TCP");
                let found = match &sp["targetPort"] {
                    Value::String(n) => ports.iter().find(|(pn, _, pp)| pn == n && pp == protocol),
                    Value::Number(n) => ports.iter().find(|(_, pn, pp)| Some(*pn) == n.as_u64() && pp == protocol),
                    _ => ports.iter().find(|(_, pn, pp)| Some(*pn) == sp["port"].as_u64() && pp == protocol),
                };
                let declared = spec_ports.iter().find(|p| sp["name"] == p.name.value.as_str());
                match (found, declared) {
                    (None, _) => out.push(format!(
                        "Service {} port {} targets {} which {} does not declare",
                        name(s),
                        sp["name"],
                        sp["targetPort"],
                        pod.workload
                    )),
                    (Some((_, number, _)), Some(p)) if *number != u64::from(p.number.value) => out.push(format!(
                        "Service {} port {} forwards to container port {number}, but the program serves {} on {}",
                        name(s),
                        sp["name"],
                        p.name.value,
                        p.number.value
                    )),
                    _ => {}
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
pub(crate) struct Endpoint {
    pub(crate) what: String,
    pub(crate) namespace: String,
    /// Its namespace's labels: the name label Kubernetes sets, and any others.
    pub(crate) namespace_labels: BTreeMap<String, String>,
    pub(crate) labels: BTreeMap<String, String>,
}

pub(crate) fn namespace_labels(ns: &str) -> BTreeMap<String, String> {
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
        Some(sel) => selects(sel, &pod.namespace_labels),
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
pub(crate) fn allowed(c: &Cluster, from: &Endpoint, to: &Endpoint, port: &(String, u64, String)) -> bool {
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

/// Every dependency edge, every `public` port, every exposed port from the ingress
/// controller's (or gateway's) namespace and the metrics scrape is allowed by the
/// NetworkPolicies, and no other connection between the sources and pods a cluster holds
/// (the workloads, another pod of the namespace, a pod of another namespace, Prometheus,
/// the ingress controller), and every declared external is reachable on its port. A
/// workload reaches a `public` port only when it depends on it; every source that is not a
/// workload of the project reaches it. An exposed port admits the namespaces the
/// environment's `exposure` selects, and only on that port.
fn network_policy(c: &Cluster) -> Vec<String> {
    let pods = pods(c);
    let prometheus_ns = hawser::emit::monitoring::PROMETHEUS_NAMESPACE;
    let mut sources: Vec<(Option<&Workload>, Endpoint)> = pods
        .iter()
        .map(|p| {
            (
                c.view.workloads.get(&p.workload).map(|w| &**w),
                Endpoint {
                    what: p.workload.clone(),
                    namespace: c.namespace.clone(),
                    namespace_labels: namespace_labels(&c.namespace),
                    labels: p.labels(),
                },
            )
        })
        .collect();
    let stranger = |what: &str, ns: &str, app: &str| Endpoint {
        what: what.to_owned(),
        namespace: ns.to_owned(),
        namespace_labels: namespace_labels(ns),
        labels: BTreeMap::from([("app.kubernetes.io/name".to_owned(), app.to_owned())]),
    };
    sources.push((None, stranger("another pod of the namespace", &c.namespace, "stranger")));
    sources.push((None, stranger("a pod of another namespace", "elsewhere", "stranger")));
    sources.push((None, stranger("Prometheus", prometheus_ns, "prometheus")));
    // The ingress controller's or the gateway's proxies, in the namespace the spec names,
    // which carries the labels the spec selects it by.
    let admit = c.exposure.and_then(Exposure::admit);
    if let Some(a) = admit {
        let mut controller = stranger("the ingress controller", &a.namespace, "ingress-controller");
        controller.namespace_labels.extend(a.labels.clone());
        sources.push((None, controller));
    }
    let mut out = Vec::new();
    for dst in &pods {
        let Some(dw) = c.view.workloads.get(&dst.workload) else { continue };
        let to = Endpoint {
            what: dst.workload.clone(),
            namespace: c.namespace.clone(),
            namespace_labels: namespace_labels(&c.namespace),
            labels: dst.labels(),
        };
        let public: BTreeSet<&str> = dw.public.iter().map(|p| p.value.as_str()).collect();
        let exposed: BTreeSet<&str> = dw.expose.iter().map(|e| e.port.value.as_str()).collect();
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
                // An exposed port: the namespaces the spec admits, which the controller's is.
                let routed = sw.is_none()
                    && exposed.contains(port.0.as_str())
                    && admit.is_some_and(|a| a.selector().iter().all(|(k, v)| from.namespace_labels.get(k) == Some(v)));
                let expected = dependent || scrape || outside || routed;
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
            let bounded = match command.first() {
                // `sh -c SCRIPT HOST PORT SECONDS`: the script gives up after SECONDS.
                Some(&"sh") => {
                    let script = command.get(2).copied().unwrap_or("");
                    let bound = command.get(5).and_then(|s| s.parse::<u64>().ok()).filter(|n| *n > 0);
                    bound.is_some() && script.contains("$2") && script.contains("exit 1")
                }
                // `kubectl wait … --timeout=Ns`: kubectl gives up after N seconds (0 would
                // check once; a negative timeout waits a week).
                Some(&"/bin/kubectl") => {
                    command.get(1) == Some(&"wait")
                        && command
                            .iter()
                            .filter_map(|a| a.strip_prefix("--timeout=")?.strip_suffix('s')?.parse::<u64>().ok())
                            .any(|n| n > 0)
                }
                _ => false,
            };
            if !bounded {
                out.push(format!("{}: init container {} may wait for ever: {command:?}", pod.workload, init["name"]));
            }
        }
    }
    out
}

/// A workload that depends on a run-once job does not start before the job completed: an
/// init container of its pods waits (bounded) until the API server says that very Job of
/// the environment is complete; the pod's ServiceAccount may read that Job, with the token
/// mounted in that container only, and its NetworkPolicy lets it reach the API server (at
/// the environment's `api-server=`, or any address). The
/// Job is not deleted after it completes (the pods check it whenever they start), and no
/// Role grants more than reading the Jobs others wait for.
fn job_order(c: &Cluster) -> Vec<String> {
    let api_path = hawser::emit::kubernetes::objects::API_ACCESS_PATH;
    let mut out = Vec::new();
    let jobs: BTreeMap<&str, &Value> =
        of_kind(c, "Job").filter_map(|j| Some((j["metadata"]["labels"]["app.kubernetes.io/name"].as_str()?, j))).collect();
    let waited: BTreeSet<&str> = jobs.values().map(|j| name(j)).collect();
    for role in of_kind(c, "Role") {
        for rule in role["rules"].as_array().into_iter().flatten() {
            let strings = |k: &str| -> Vec<&str> { rule[k].as_array().into_iter().flatten().filter_map(Value::as_str).collect() };
            let reads_jobs = strings("apiGroups") == ["batch"]
                && strings("resources") == ["jobs"]
                && strings("verbs").iter().all(|v| ["get", "list", "watch"].contains(v))
                && !strings("resourceNames").is_empty()
                && strings("resourceNames").iter().all(|n| waited.contains(n));
            if !reads_jobs {
                out.push(format!("Role {} grants more than reading the Jobs of the environment: {rule}", name(role)));
            }
        }
    }
    for pod in pods(c) {
        let Some(w) = c.view.workloads.get(&pod.workload) else { continue };
        let account = pod.spec()["serviceAccountName"].as_str().unwrap_or("default");
        let volumes: Vec<&Value> = pod.spec()["volumes"].as_array().into_iter().flatten().collect();
        let token_volumes: BTreeSet<&str> = volumes
            .iter()
            .filter(|v| v["projected"]["sources"].as_array().into_iter().flatten().any(|s| !s["serviceAccountToken"].is_null()))
            .filter_map(|v| v["name"].as_str())
            .collect();
        let mounts_token = |container: &Value| {
            container["volumeMounts"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|m| m["mountPath"] == api_path && m["name"].as_str().is_some_and(|n| token_volumes.contains(n)))
        };
        if let Some(main) = pod.main_container().filter(|m| mounts_token(m) && !w.kubernetes.service_account_token) {
            out.push(format!("{}: the container {} holds a ServiceAccount token it was not given", pod.workload, main["name"]));
        }
        for dep in
            w.depends_on.iter().filter(|d| c.view.workloads.get(&d.value).is_some_and(|j| j.job().is_some_and(|j| j.schedule.is_none())))
        {
            let Some(job) = jobs.get(dep.value.as_str()) else {
                out.push(format!("{} depends on the job {}, which has no Job in the environment", pod.workload, dep.value));
                continue;
            };
            let job_name = name(job);
            if !job["spec"]["ttlSecondsAfterFinished"].is_null() {
                out.push(format!(
                    "Job {job_name} is deleted after it completes, but the pods of {} check it whenever they start",
                    pod.workload
                ));
            }
            let waits = pod.spec()["initContainers"].as_array().into_iter().flatten().find(|i| {
                let command: Vec<&str> = i["command"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                command.contains(&"wait")
                    && command.contains(&"--for=condition=complete")
                    && command.contains(&format!("job/{job_name}").as_str())
            });
            let Some(waits) = waits else {
                out.push(format!("the pods of {} may start before Job {job_name} completes: nothing waits for it", pod.workload));
                continue;
            };
            if !mounts_token(waits) {
                out.push(format!("{}: {} has no ServiceAccount token to ask the API server with", pod.workload, waits["name"]));
            }
            let may_read = of_kind(c, "RoleBinding")
                .filter(|b| {
                    b["subjects"].as_array().into_iter().flatten().any(|s| {
                        s["kind"] == "ServiceAccount" && s["name"] == account && s["namespace"].as_str().is_none_or(|n| n == c.namespace)
                    })
                })
                .filter(|b| b["roleRef"]["kind"] == "Role")
                .filter_map(|b| of_kind(c, "Role").find(|r| name(r) == b["roleRef"]["name"].as_str().unwrap_or("")))
                .flat_map(|r| r["rules"].as_array().into_iter().flatten())
                .any(|rule| {
                    let has = |k: &str, v: &str| rule[k].as_array().into_iter().flatten().any(|x| x == v);
                    has("apiGroups", "batch")
                        && has("resources", "jobs")
                        && has("resourceNames", job_name)
                        && ["get", "list", "watch"].iter().all(|v| has("verbs", v))
                });
            if !may_read {
                out.push(format!("{}: ServiceAccount {account} may not read Job {job_name}", pod.workload));
            }
            let labels = pod.labels();
            let to_api = |port: u64| {
                of_kind(c, "NetworkPolicy").filter(|p| selects(&p["spec"]["podSelector"], &labels)).any(|p| {
                    p["spec"]["egress"].as_array().into_iter().flatten().any(|rule| {
                        ports_match(&rule["ports"], &(String::new(), port, "TCP".to_owned()))
                            && rule["to"].as_array().into_iter().flatten().any(|peer| peer["ipBlock"]["cidr"] == c.api_server.as_str())
                    })
                })
            };
            if !to_api(443) || !to_api(6443) {
                out.push(format!("{}: the NetworkPolicy does not let its pods reach the API server (TCP 443 and 6443)", pod.workload));
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

/// The labels kube-state-metrics puts on the series the alerts read (its `job` and
/// `instance` too, from its own scrape).
const KSM_LABELS: &[(&str, &[&str])] = &[
    ("kube_deployment_status_replicas_unavailable", &["namespace", "deployment"]),
    ("kube_statefulset_status_replicas", &["namespace", "statefulset"]),
    ("kube_statefulset_status_replicas_ready", &["namespace", "statefulset"]),
    ("kube_job_status_failed", &["namespace", "job_name", "reason"]),
    ("kube_cronjob_next_schedule_time", &["namespace", "cronjob"]),
    ("kube_pod_container_status_restarts_total", &["namespace", "pod", "container", "uid"]),
    ("kube_pod_container_status_last_terminated_reason", &["namespace", "pod", "container", "reason", "uid"]),
];

/// The pods a cluster runs for the environment's objects, as its API lists them, and pods
/// the project does not own: for each Deployment a Ready and a not-Ready pod, for a Job and
/// a CronJob a finished pod and a running one; a pod of another project carrying a
/// workload's name label, container and ports; a pod of another app of the namespace with
/// a port named like a metrics port; and a copy of every pod in another namespace.
fn cluster_pods(c: &Cluster) -> Vec<crate::relabel::Pod> {
    use crate::relabel::{Container, Pod as ApiPod};
    let containers = |pod: &Pod| -> Vec<Container> {
        let list = |key: &str, init: bool| -> Vec<Container> {
            pod.spec()[key]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| Container {
                    name: c["name"].as_str().unwrap_or("").to_owned(),
                    init,
                    ports: c["ports"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|p| {
                            (
                                p["name"].as_str().unwrap_or("").to_owned(),
                                p["containerPort"].as_u64().unwrap_or(0),
                                p["protocol"].as_str().unwrap_or("TCP").to_owned(),
                            )
                        })
                        .collect(),
                })
                .collect()
        };
        let mut out = list("initContainers", true);
        out.extend(list("containers", false));
        out
    };
    let mut out = Vec::new();
    let mut ip = 10;
    let mut add =
        |namespace: &str, name: String, phase: &'static str, ready: bool, labels: BTreeMap<String, String>, cs: Vec<Container>| {
            ip += 1;
            out.push(ApiPod { namespace: namespace.to_owned(), name, ip: format!("10.1.0.{ip}"), phase, ready, labels, containers: cs });
        };
    let owned: Vec<&Value> =
        c.objects.iter().filter(|o| ["Deployment", "Job", "CronJob"].contains(&o["kind"].as_str().unwrap_or(""))).collect();
    for (o, pod) in owned.iter().zip(pods(c)) {
        let object = name(o);
        let (running, finished) = match pod.kind.as_str() {
            "Deployment" => (vec![format!("{object}-7c9d5b8f4d-x2x4q"), format!("{object}-7c9d5b8f4d-k7m9z")], None),
            "Job" => (vec![format!("{object}-r5t7w")], Some(format!("{object}-h3j8n"))),
            _ => (vec![format!("{object}-29000140-r5t7w")], Some(format!("{object}-29000139-h3j8n"))),
        };
        for ns in [c.namespace.as_str(), "elsewhere"] {
            for (i, n) in running.iter().enumerate() {
                add(ns, n.clone(), "Running", i == 0, pod.labels(), containers(&pod));
            }
            if let Some(n) = &finished {
                add(ns, n.clone(), "Succeeded", false, pod.labels(), containers(&pod));
            }
        }
        let mut impostor = pod.labels();
        impostor.insert("app.kubernetes.io/instance".to_owned(), "another-project".to_owned());
        add(&c.namespace, format!("another-project-{object}-6f7b9c4d8-q2w3e"), "Running", true, impostor, containers(&pod));
    }
    let stranger = Container { name: "stranger".to_owned(), init: false, ports: vec![("metrics".to_owned(), 9090, "TCP".to_owned())] };
    let labels = BTreeMap::from([("app.kubernetes.io/name".to_owned(), "stranger".to_owned())]);
    add(&c.namespace, "stranger-5b6c7d8e9f-a1b2c".to_owned(), "Running", true, labels, vec![stranger]);
    out
}

/// Where the environment's Prometheus is not run by prometheus-operator
/// (`monitoring="config"`), its `prometheus.yml`, applied to the pods the cluster would run
/// (and to pods the project does not own, in the namespace and in another), scrapes each
/// service with metrics on its metrics port on every pod that runs, Ready or not, and
/// nothing else; each target carries `namespace`, `pod` and `workload`. Every workload has
/// an alert in `rules.yml`, an alert on `up` selects exactly its workload's targets, and
/// alert texts use only labels their series have.
fn scrape_config(c: &Cluster) -> Vec<String> {
    if c.operator {
        return Vec::new();
    }
    let mut out = Vec::new();
    let project = &c.view.project.name.value;
    let Some(text) = c.prometheus.get("prometheus.yml") else {
        return vec!["no prometheus/<env>/prometheus.yml for a Prometheus the operator does not run".to_owned()];
    };
    let config: Value = match serde_saphyr::from_str(text) {
        Ok(v) => v,
        Err(e) => return vec![format!("prometheus.yml: {e}")],
    };
    let pods = cluster_pods(c);
    let owner = |labels: &BTreeMap<String, String>| -> Option<String> {
        let pod = pods.iter().find(|p| Some(&p.name) == labels.get("pod") && Some(&p.namespace) == labels.get("namespace"))?;
        (pod.labels.get("app.kubernetes.io/instance") == Some(project)).then(|| pod.labels.get("app.kubernetes.io/name").cloned())?
    };
    // Every series `up` gets: the final labels of every target.
    let mut series: Vec<BTreeMap<String, String>> = Vec::new();
    for job in config["scrape_configs"].as_array().into_iter().flatten() {
        let job_name = job["job_name"].as_str().unwrap_or("?");
        match crate::relabel::scrape_targets(job, &pods) {
            Ok(targets) => {
                for t in targets {
                    // A pod the project does not own is reported below, as scraped.
                    if let Some(w) = owner(&t) {
                        for (label, value) in [("namespace", &c.namespace), ("pod", &String::new()), ("workload", &w), ("project", project)]
                        {
                            let ok = match label {
                                "pod" => t.get("pod").is_some_and(|p| pods.iter().any(|q| &q.name == p)),
                                _ => t.get(label) == Some(value),
                            };
                            if !ok {
                                out.push(format!("job {job_name}: target {} of {w} has {label}={:?}", t["instance"], t.get(label)));
                            }
                        }
                    }
                    series.push(t);
                }
            }
            Err(e) => out.push(format!("job {job_name}: {e}")),
        }
    }
    // What must be scraped: the metrics port of every running pod of a service with
    // metrics, in the environment's namespace; and nothing else.
    let mut expected: BTreeSet<(String, String, String)> = BTreeSet::new();
    for pod in pods.iter().filter(|p| p.namespace == c.namespace && p.phase == "Running") {
        if pod.labels.get("app.kubernetes.io/instance") != Some(project) {
            continue;
        }
        let Some(w) = pod.labels.get("app.kubernetes.io/name").and_then(|n| c.view.workloads.get(n)) else { continue };
        let Some(m) = w.metrics.as_ref().filter(|_| w.is_service()) else { continue };
        let port = pod.containers.iter().filter(|k| !k.init).flat_map(|k| &k.ports).find(|p| p.0 == m.port.value);
        if let Some(port) = port {
            expected.insert((w.name.value.clone(), pod.name.clone(), format!("{}:{}", pod.ip, port.1)));
        }
    }
    let mut scraped: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for t in &series {
        let pod = t.get("pod").or(t.get("instance")).cloned().unwrap_or_default();
        let key = (owner(t).unwrap_or_else(|| "a pod the project does not own".to_owned()), pod, t["instance"].clone());
        *scraped.entry(key).or_default() += 1;
    }
    for key in expected.iter().filter(|k| !scraped.contains_key(*k)) {
        out.push(format!("no job scrapes {} on its metrics port (pod {}, {})", key.0, key.1, key.2));
    }
    for (key, n) in &scraped {
        if !expected.contains(key) {
            out.push(format!("{} is scraped: pod {}, {}", key.0, key.1, key.2));
        } else if *n > 1 {
            out.push(format!("{} is scraped {n} times: pod {}, {}", key.0, key.1, key.2));
        }
    }
    // The alerts.
    let rules_text = c.prometheus.get("rules.yml").map_or("", String::as_str);
    let rules: Value = serde_saphyr::from_str(rules_text).unwrap_or(Value::Null);
    let rules: Vec<&Value> =
        rules["groups"].as_array().into_iter().flatten().flat_map(|g| g["rules"].as_array().into_iter().flatten()).collect();
    for w in c.view.workloads.values() {
        if !rules.iter().any(|r| r["labels"]["workload"] == w.name.value.as_str()) {
            out.push(format!("{} has no alert in rules.yml", w.name.value));
        }
    }
    for r in &rules {
        let alert = r["alert"].as_str().unwrap_or("?");
        let expr = r["expr"].as_str().unwrap_or("");
        if r["annotations"]["description"].as_str().unwrap_or("").is_empty() {
            out.push(format!("alert {alert} says nothing about what to do"));
        }
        if !expr.contains(&format!("namespace=\"{}\"", c.namespace)) {
            out.push(format!("alert {alert} does not select namespace {}", c.namespace));
        }
        // An alert on `up` selects exactly its workload's targets.
        let ups = up_selectors(expr);
        for matchers in &ups {
            let selected: BTreeSet<Option<String>> =
                series.iter().filter(|t| matchers.iter().all(|(k, v)| t.get(k) == Some(v))).map(owner).collect();
            let workload = r["labels"]["workload"].as_str().map(str::to_owned);
            if selected != BTreeSet::from([workload.clone()]) {
                out.push(format!("alert {alert} of {workload:?} selects the targets of {selected:?}"));
            }
        }
        // The labels its text may use: its series' and its own.
        let mut known: BTreeSet<String> = r["labels"].as_object().into_iter().flatten().map(|(k, _)| k.clone()).collect();
        let metric = expr.split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_')).find(|t| t.starts_with("kube_") || *t == "up");
        if expr.starts_with("sum(") || expr.starts_with("absent(") {
            // An aggregate without `by` keeps no label; `absent` keeps its equality matchers.
            known.extend(ups.iter().flatten().map(|(k, _)| k.clone()));
        } else if metric == Some("up") {
            let workload = r["labels"]["workload"].as_str().map(str::to_owned);
            let mut mine = series.iter().filter(|t| owner(t) == workload);
            if let Some(first) = mine.next() {
                let mut common: BTreeSet<String> = first.keys().cloned().collect();
                for t in mine {
                    common.retain(|k| t.contains_key(k));
                }
                known.extend(common);
            }
        } else if let Some((_, labels)) = KSM_LABELS.iter().find(|(m, _)| Some(*m) == metric) {
            known.extend(labels.iter().chain(&["job", "instance"]).map(|l| (*l).to_owned()));
        } else {
            out.push(format!("alert {alert} reads {metric:?}, whose labels this rule does not know"));
        }
        let text =
            format!("{} {}", r["annotations"]["summary"].as_str().unwrap_or(""), r["annotations"]["description"].as_str().unwrap_or(""));
        for used in text.split("$labels.").skip(1) {
            let label: String = used.chars().take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '_').collect();
            if !known.contains(&label) {
                out.push(format!("alert {alert} uses the label {label}, which its series do not have"));
            }
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

/// Where a configuration value points when it addresses a workload's Service: a URL
/// (`http://api/x`, `http://api.<ns>.svc.cluster.local:80`, the scheme's port when it has
/// none) or `host:port`, with the host a workload's name, alone or qualified by the
/// namespace. `None` for any other value.
fn service_address<'v>(value: &'v str, namespace: &str) -> Option<(&'v str, Option<u64>)> {
    let (host, port) = match value.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p.parse::<u64>().ok()?)),
                None => (
                    authority,
                    match scheme {
                        "http" | "ws" => Some(80),
                        "https" | "wss" => Some(443),
                        _ => None,
                    },
                ),
            }
        }
        None => {
            let (h, p) = value.rsplit_once(':')?;
            (h, Some(p.parse::<u64>().ok()?))
        }
    };
    let short = match host.split_once('.') {
        Some((first, rest))
            if [namespace.to_owned(), format!("{namespace}.svc"), format!("{namespace}.svc.cluster.local")].iter().any(|s| s == rest) =>
        {
            first
        }
        Some(_) => return None,
        None => host,
    };
    Some((short, port))
}

/// Every Service listens on each of its workload's ports at the spec's Service port
/// (`service-port=`, else the port's own number); dependents wait for a workload on a port
/// its Service listens on, and the addresses of workloads in their configuration name one.
fn service_ports_rule(c: &Cluster) -> Vec<String> {
    let mut out = Vec::new();
    let mut served: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for s in of_kind(c, "Service").filter(|s| s["spec"]["clusterIP"] != "None") {
        let owner = s["metadata"]["labels"]["app.kubernetes.io/name"].as_str().unwrap_or("");
        let Some(w) = c.view.workloads.get(owner) else { continue };
        let ports: Vec<&Value> = s["spec"]["ports"].as_array().into_iter().flatten().collect();
        for p in &w.ports {
            match ports.iter().find(|sp| sp["name"] == p.name.value.as_str()) {
                None => out.push(format!("Service {} has no port {}", name(s), p.name.value)),
                Some(sp) if sp["port"].as_u64() != Some(u64::from(p.service_number())) => out.push(format!(
                    "Service {} listens for {} on {}, the spec says {}",
                    name(s),
                    p.name.value,
                    sp["port"],
                    p.service_number()
                )),
                Some(_) => {}
            }
        }
        served.insert(owner.to_owned(), ports.iter().filter_map(|sp| sp["port"].as_u64()).collect());
    }
    for pod in pods(c) {
        for init in pod.spec()["initContainers"].as_array().into_iter().flatten() {
            let command: Vec<&str> = init["command"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            let (Some(host), Some(port)) = (command.get(3), command.get(4).and_then(|p| p.parse::<u64>().ok())) else { continue };
            if let Some(ports) = served.get(*host).filter(|ports| !ports.contains(&port)) {
                out.push(format!("{} waits for {host}:{port}, but {host}'s Service listens on {ports:?}", pod.workload));
            }
        }
    }
    for cm in of_kind(c, "ConfigMap") {
        for (key, value) in string_map(&cm["data"]) {
            let Some((host, Some(port))) = service_address(&value, &c.namespace) else { continue };
            if let Some(ports) = served.get(host).filter(|ports| !ports.contains(&port)) {
                out.push(format!("ConfigMap {} sets {key} to {value}, but {host}'s Service listens on {ports:?}", name(cm)));
            }
        }
    }
    out
}

/// Every exposed port of the spec is routed — each host name and path prefix, through the
/// environment's Ingress class or Gateway, to a Service whose port forwards to the exposed
/// container port — and nothing else is; a host with TLS is served with a certificate the
/// spec names (a cert-manager Certificate from its issuer covering the host, or the
/// existing Secret), which a Gateway of another namespace is allowed to read.
fn exposure(c: &Cluster) -> Vec<String> {
    let mut out = Vec::new();
    let Some(exposure) = c.exposure else { return out };
    let pods = pods(c);
    // A Service and one of its ports (by name or number) to the workload and container
    // port it reaches.
    let resolve = |service: &str, port: &Value| -> Option<(String, String)> {
        let s = of_kind(c, "Service").find(|s| name(s) == service && s["spec"]["clusterIP"] != "None")?;
        let sp = s["spec"]["ports"].as_array()?.iter().find(|sp| match port {
            Value::String(n) => sp["name"] == n.as_str(),
            Value::Number(n) => sp["port"].as_u64() == n.as_u64(),
            _ => false,
        })?;
        let selector = string_map(&s["spec"]["selector"]);
        let pod = pods.iter().find(|p| !selector.is_empty() && selector.iter().all(|(k, v)| p.labels().get(k) == Some(v)))?;
        let ports = pod.ports();
        let target = match &sp["targetPort"] {
            Value::String(n) => ports.iter().find(|x| &x.0 == n),
            Value::Number(n) => ports.iter().find(|x| Some(x.1) == n.as_u64()),
            _ => ports.iter().find(|x| Some(x.1) == sp["port"].as_u64()),
        }?;
        Some((pod.workload.clone(), target.0.clone()))
    };
    let mut expected: BTreeSet<(String, String, String, String)> = BTreeSet::new();
    for w in c.view.workloads.values() {
        for e in &w.expose {
            for host in &e.hosts {
                for path in e.paths() {
                    expected.insert((host.value.clone(), path.to_owned(), w.name.value.clone(), e.port.value.clone()));
                }
            }
        }
    }
    let mut actual = BTreeSet::new();
    let mut route = |host: &str, path: &str, backend: Option<(String, String)>, what: &str, out: &mut Vec<String>| match backend {
        Some((w, p)) => {
            actual.insert((host.to_owned(), path.to_owned(), w, p));
        }
        None => out.push(format!("{what} routes {host}{path} to no container port")),
    };
    let (kind, other) = match exposure {
        Exposure::Ingress { .. } => ("Ingress", "HTTPRoute"),
        Exposure::Gateway { .. } => ("HTTPRoute", "Ingress"),
        Exposure::Nginx => return out,
    };
    for o in of_kind(c, other) {
        out.push(format!("{other} {} is there, but the environment routes through {kind}s", name(o)));
    }
    // Host name → the Secrets its TLS is served from.
    let mut served_tls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for o in of_kind(c, kind) {
        let what = format!("{kind} {}", name(o));
        match exposure {
            Exposure::Ingress { class, .. } => {
                if o["spec"]["ingressClassName"] != class.as_str() {
                    out.push(format!("{what} is for class {}, the environment's controller is {class}", o["spec"]["ingressClassName"]));
                }
                for rule in o["spec"]["rules"].as_array().into_iter().flatten() {
                    let host = rule["host"].as_str().unwrap_or("*");
                    for p in rule["http"]["paths"].as_array().into_iter().flatten() {
                        if p["pathType"] != "Prefix" {
                            out.push(format!("{what} matches {host}{} as {}, not as a prefix", p["path"], p["pathType"]));
                        }
                        let backend = &p["backend"]["service"];
                        let port = if backend["port"]["name"].is_null() { &backend["port"]["number"] } else { &backend["port"]["name"] };
                        route(
                            host,
                            p["path"].as_str().unwrap_or("/"),
                            resolve(backend["name"].as_str().unwrap_or(""), port),
                            &what,
                            &mut out,
                        );
                    }
                }
                for t in o["spec"]["tls"].as_array().into_iter().flatten() {
                    for h in t["hosts"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                        served_tls.entry(h.to_owned()).or_default().insert(t["secretName"].as_str().unwrap_or("").to_owned());
                    }
                }
            }
            Exposure::Gateway { name: gateway, namespace, .. } => {
                let attached = o["spec"]["parentRefs"].as_array().into_iter().flatten().any(|p| {
                    p["name"] == gateway.as_str()
                        && p["namespace"].as_str().unwrap_or(&c.namespace) == namespace
                        && p["kind"].as_str().unwrap_or("Gateway") == "Gateway"
                });
                if !attached {
                    out.push(format!("{what} is not attached to Gateway {namespace}/{gateway}"));
                }
                let hosts: Vec<&str> = o["spec"]["hostnames"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                if hosts.is_empty() {
                    out.push(format!("{what} names no host, so it takes every host of the Gateway"));
                }
                for rule in o["spec"]["rules"].as_array().into_iter().flatten() {
                    for b in rule["backendRefs"].as_array().into_iter().flatten() {
                        for m in rule["matches"].as_array().into_iter().flatten() {
                            if m["path"]["type"] != "PathPrefix" {
                                out.push(format!("{what} matches {} as {}, not as a prefix", m["path"]["value"], m["path"]["type"]));
                            }
                            for host in &hosts {
                                let backend = resolve(b["name"].as_str().unwrap_or(""), &b["port"]);
                                route(host, m["path"]["value"].as_str().unwrap_or("/"), backend, &what, &mut out);
                            }
                        }
                    }
                }
            }
            Exposure::Nginx => {}
        }
    }
    for (host, path, w, p) in expected.difference(&actual) {
        out.push(format!("{host}{path} is exposed to {w}:{p} but not routed there"));
    }
    for (host, path, w, p) in actual.difference(&expected) {
        out.push(format!("{host}{path} is routed to {w}:{p}, which the spec does not expose there"));
    }
    // TLS: the Secrets that hold a valid certificate for each host, as the spec asks.
    let certificates: Vec<&Value> = of_kind(c, "Certificate").collect();
    for w in c.view.workloads.values() {
        for e in &w.expose {
            let source = e.tls.as_ref().and_then(|t| t.source.as_ref());
            for host in &e.hosts {
                let valid: BTreeSet<String> = match source {
                    None => BTreeSet::new(),
                    Some(TlsSource::Secret(s)) => BTreeSet::from([s.clone()]),
                    Some(TlsSource::Issuer { name: issuer, kind }) => certificates
                        .iter()
                        .filter(|cert| {
                            cert["spec"]["issuerRef"]["name"] == issuer.as_str()
                                && cert["spec"]["issuerRef"]["kind"].as_str().unwrap_or("Issuer") == kind
                                && cert["spec"]["dnsNames"].as_array().into_iter().flatten().any(|d| d == host.value.as_str())
                        })
                        .filter_map(|cert| cert["spec"]["secretName"].as_str().map(str::to_owned))
                        .collect(),
                    Some(TlsSource::Files { .. }) => continue,
                };
                if source.is_some() && valid.is_empty() {
                    out.push(format!("{} has TLS, but no certificate for it comes from the spec's source", host.value));
                }
                match exposure {
                    Exposure::Ingress { .. } => {
                        let served = served_tls.get(&host.value).cloned().unwrap_or_default();
                        if source.is_some() && served.intersection(&valid).next().is_none() {
                            out.push(format!("{} is served without its certificate (Secrets {served:?})", host.value));
                        }
                        if source.is_none() && !served.is_empty() {
                            out.push(format!("{} is served with TLS from {served:?}, which the spec does not ask for", host.value));
                        }
                    }
                    Exposure::Gateway { namespace, .. } if source.is_some() && namespace != &c.namespace => {
                        let granted = of_kind(c, "ReferenceGrant").any(|g| {
                            g["spec"]["from"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .any(|f| f["kind"] == "Gateway" && f["namespace"] == namespace.as_str())
                                && g["spec"]["to"]
                                    .as_array()
                                    .into_iter()
                                    .flatten()
                                    .any(|t| t["kind"] == "Secret" && t["name"].as_str().is_none_or(|n| valid.contains(n)))
                        });
                        if !granted {
                            out.push(format!("the Gateway in {namespace} may not read the certificate of {}", host.value));
                        }
                    }
                    _ => {}
                }
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
        let from = Endpoint {
            what: pod.workload.clone(),
            namespace: c.namespace.clone(),
            namespace_labels: namespace_labels(&c.namespace),
            labels: pod.labels(),
        };
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
            let to = Endpoint {
                what: target.clone(),
                namespace: c.namespace.clone(),
                namespace_labels: namespace_labels(&c.namespace),
                labels: dst.labels(),
            };
            if !container_ports.iter().any(|p| allowed(c, &from, &to, p)) {
                out.push(format!("{}: {key}={value}: the NetworkPolicies do not let it connect to {target}", pod.workload));
            }
        }
    }
    out
}

/// The equality matchers of every `up{…}` selector of a PromQL expression.
fn up_selectors(expr: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("up{") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + 3..];
        if before.is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '_') {
            continue;
        }
        let body = &rest[..rest.find('}').unwrap_or(rest.len())];
        out.push(
            body.split(", ")
                .filter_map(|m| m.split_once("=\""))
                .map(|(k, v)| (k.trim().to_owned(), v.trim_end_matches('"').to_owned()))
                .collect(),
        );
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
