//! References in env values: `CART_ADDR (address)"cart" port="grpc"`, `DB_HOST
//! (host)"postgres"`, `DB_PORT (port)"postgres"`. Each names a service (and one of its
//! ports) or an external, and is resolved for each environment to what that platform needs:
//!
//! - an external: its host and port as the environment declares them (after overlays);
//! - a service on Kubernetes: its Service's name in the namespace,
//!   `cart.<namespace>.svc.cluster.local`, and the port the Service listens on
//!   (`service-port=`, else the container's); a workload's own port is the one it listens
//!   on;
//! - a service on systemd: `127.0.0.1` and the port, since every host of a systemd
//!   environment runs every workload of it (a service that does not run there is not a
//!   host's neighbour: the reference is then an error, E0702, as any dependency would be);
//! - the base spec (the Helm chart's `values.yaml`): the Service's short name, which
//!   resolves in whatever namespace the chart is installed in, and its port. The chart
//!   keeps a service's address apart (`addresses` in the values) and writes it with the
//!   release's own Service name, as it does a literal address of a workload.
//!
//! The value is computed by hawser and written as a plain string: nothing in it is expanded
//! by a shell, a template or the kubelet later. A reference makes its workload depend on
//! the target ([`add_dependencies`]), so the init containers, the NetworkPolicies and the
//! systemd ordering follow from it as from `depends-on`.

use crate::check::model::{EnvValue, Environment, Platform, Port, Reference, ReferenceForm, View, Workload};
use crate::diagnostics::{self as diag, Diagnostic};
use crate::span::Spanned;

/// The domain of a cluster's Service names (`<service>.<namespace>.svc.<domain>`).
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// Makes each workload depend on the services and externals its env values refer to,
/// after the ones it lists, each once. A reference to the workload itself (its own
/// address) is no dependency, and a name that is not declared, or is a job, is reported
/// by [`check`] and adds nothing.
pub fn add_dependencies(view: &mut View) {
    let mut additions: Vec<(String, Vec<Spanned<String>>)> = Vec::new();
    for w in view.workloads.values() {
        let mut added: Vec<Spanned<String>> = Vec::new();
        for r in references(w) {
            let name = &r.target.value;
            let addressable = view.workloads.get(name).is_some_and(|t| t.is_service()) || view.externals.contains_key(name);
            let listed = w.depends_on.iter().chain(&added).any(|d| &d.value == name);
            if addressable && name != &w.name.value && !listed {
                added.push(r.target.clone());
            }
        }
        if !added.is_empty() {
            additions.push((w.name.value.clone(), added));
        }
    }
    for (name, added) in additions {
        if let Some(w) = view.workloads.get_mut(&name) {
            std::sync::Arc::make_mut(w).depends_on.extend(added);
        }
    }
}

/// The references among a workload's env values, in key order.
pub fn references(w: &Workload) -> impl Iterator<Item = &Reference> {
    w.env.values().filter_map(|v| match &v.value {
        EnvValue::Reference(r) => Some(r),
        _ => None,
    })
}

/// Every reference of a view names a declared service or external, and a port the
/// service serves to the workloads that depend on it. Names that are not declared are
/// reported for the base spec only (`env` is `None`); an environment that does not run the
/// target reports it as any dependency (E0702).
pub fn check(view: &View, env: Option<&Environment>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let known: Vec<&str> = view
        .workloads
        .values()
        .filter(|w| w.is_service())
        .map(|w| w.name.value.as_str())
        .chain(view.externals.keys().map(String::as_str))
        .collect();
    for w in view.workloads.values() {
        for r in references(w) {
            let name = r.target.value.as_str();
            if let Some(e) = view.externals.get(name) {
                if let Some(p) = &r.port {
                    out.push(diag::reference_shape(
                        format!("`{name}` is an external, with the one port {}; `port=` names a port of a service", e.port.value),
                        p.span,
                        Some("remove `port=`; the external's `port=` is the port".to_owned()),
                    ));
                }
                continue;
            }
            let Some(target) = view.workloads.get(name) else {
                if env.is_none() && !view.poisoned.contains(name) {
                    out.push(diag::unknown_reference(name, r.target.span, &known));
                }
                continue;
            };
            if name == w.name.value && r.form != ReferenceForm::Port {
                out.push(diag::no_address(
                    format!("`{name}` refers to its own address, which its NetworkPolicy does not admit it to"),
                    r.target.span,
                    format!("a workload reaches its own ports on localhost; `(port)\"{name}\"` gives the port it listens on"),
                ));
                continue;
            }
            if !target.is_service() {
                out.push(diag::no_address(
                    format!("`{name}` is a job: it serves no port, so it has no address"),
                    r.target.span,
                    "refer to a service or an external; to wait for a run-once job, `depends-on` it".to_owned(),
                ));
                continue;
            }
            match &r.port {
                Some(p) => match target.port(&p.value) {
                    None if target.poisoned.contains(&format!("port:{}", p.value)) => {}
                    None => {
                        let names: Vec<&str> = target.ports.iter().map(|q| q.name.value.as_str()).collect();
                        out.push(diag::reference_port(&p.value, p.span, name, &names));
                    }
                    // Its own metrics port is one a workload listens on, like any other.
                    Some(port) if name != w.name.value && !served(target).iter().any(|q| q.name.value == port.name.value) => {
                        out.push(diag::no_address(
                            format!("`{}` is `{name}`'s metrics port, open to Prometheus only", p.value),
                            p.span,
                            format!("refer to one of the ports `{name}` serves to its dependents: {}", port_list(target)),
                        ));
                    }
                    Some(_) => {}
                },
                None => {
                    let ports = served(target);
                    if ports.len() > 1 {
                        out.push(diag::reference_port_missing(name, r.target.span, &port_list(target)));
                    } else if ports.is_empty() && !target.poisoned.iter().any(|p| p.starts_with("port:")) {
                        out.push(diag::no_address(
                            format!("`{name}` declares no port, so it has no address"),
                            r.target.span,
                            format!("declare the port `{name}` listens on: `port \"http\" 8080`"),
                        ));
                    }
                }
            }
        }
    }
    out
}

/// The ports a service serves to the workloads that depend on it: every port but the
/// metrics port, or the metrics port when it is the only one (what the NetworkPolicies
/// admit dependents to).
pub fn served(w: &Workload) -> Vec<&Port> {
    let metrics = w.metrics.as_ref().map(|m| m.port.value.as_str());
    let ports: Vec<&Port> = w.ports.iter().filter(|p| Some(p.name.value.as_str()) != metrics).collect();
    if ports.is_empty() { w.ports.iter().collect() } else { ports }
}

fn port_list(w: &Workload) -> String {
    served(w).iter().map(|p| format!("`{}` ({})", p.name.value, p.number.value)).collect::<Vec<_>>().join(", ")
}

/// Where a reference of the workload `from` points in a view: the host and the port;
/// `None` when it does not resolve (reported by [`check`]). `env` is `None` for the base
/// spec, which the Helm chart's values are made of.
pub fn endpoint(view: &View, env: Option<&Environment>, from: &str, r: &Reference) -> Option<(String, u16)> {
    let name = r.target.value.as_str();
    if let Some(e) = view.externals.get(name) {
        return Some((e.host.value.clone(), e.port.value));
    }
    let target = view.workloads.get(name).filter(|t| t.is_service())?;
    let port = match &r.port {
        Some(p) => target.port(&p.value)?,
        None => match served(target).as_slice() {
            [only] => *only,
            _ => return None,
        },
    };
    let (host, number) = match env.and_then(|e| e.platform.as_ref()) {
        // Through the Service, on the port it listens on; the workload's own port is the
        // one it listens on itself.
        Some(Platform::Kubernetes { namespace }) => (
            format!("{name}.{}.svc.{CLUSTER_DOMAIN}", namespace.value),
            if name == from { port.number.value } else { port.service_number() },
        ),
        // Straight to the process, which listens on the port itself.
        Some(Platform::Systemd { .. }) => ("127.0.0.1".to_owned(), port.number.value),
        None => (name.to_owned(), if name == from { port.number.value } else { port.service_number() }),
    };
    Some((host, number))
}

/// The value a reference of the workload `from` takes in a view: `HOST:PORT`, a URL, the
/// host or the port.
pub fn resolve(view: &View, env: Option<&Environment>, from: &str, r: &Reference) -> Option<String> {
    let (host, port) = endpoint(view, env, from, r)?;
    // An IPv6 address takes brackets before a port.
    let bracketed = if host.contains(':') { format!("[{host}]") } else { host.clone() };
    Some(match r.form {
        ReferenceForm::Host => host,
        ReferenceForm::Port => port.to_string(),
        ReferenceForm::Address => match &r.scheme {
            Some(scheme) => {
                let path = r.path.as_ref().map_or("", |p| p.value.as_str());
                // The scheme's own port goes without saying, as URLs are usually written.
                let default = matches!((scheme.value.as_str(), port), ("http" | "ws", 80) | ("https" | "wss", 443));
                if default {
                    format!("{}://{bracketed}{path}", scheme.value)
                } else {
                    format!("{}://{bracketed}:{port}{path}", scheme.value)
                }
            }
            None => format!("{bracketed}:{port}"),
        },
    })
}

/// A workload's non-secret environment in a view, with references resolved, in key
/// order: what goes into a ConfigMap or an `EnvironmentFile`.
pub fn plain_env(view: &View, env: Option<&Environment>, w: &Workload) -> Vec<(String, String)> {
    w.env
        .values()
        .filter_map(|v| match &v.value {
            EnvValue::Literal(l) => Some((v.key.value.clone(), l.value.clone())),
            EnvValue::Reference(r) => resolve(view, env, &w.name.value, r).map(|value| (v.key.value.clone(), value)),
            EnvValue::Secret(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn spec(text: &str) -> crate::check::model::Spec {
        let analysis = crate::check(text);
        assert!(!analysis.has_errors(), "{:?}", analysis.diagnostics);
        analysis.spec.expect("model")
    }

    const SPEC: &str = r#"
project "p" {
    registry "r.example"
    version "1.0.0"
}
external "db" host="db.internal" port=5432
external "v6" host="2001:db8::1" port=5432
external "stripe" host="api.stripe.com" port=443
service "api" {
    build "go" main="./cmd/api"
    port "http" 8081 service-port=80
    memory limit="64Mi"
    health { ready "/readyz" port="http"; }
    env {
        OWN_PORT (port)"api"
    }
}
service "cart" {
    build "go" main="./cmd/cart"
    port "grpc" 9000
    port "metrics" 9090
    memory limit="64Mi"
    health { ready grpc port="grpc"; }
    metrics port="metrics"
}
service "web" {
    build "go" main="./cmd/web"
    port "http" 8080
    public "http"
    memory limit="64Mi"
    health { ready "/readyz" port="http"; }
    env {
        CART_ADDR (address)"cart"
        CART_URL (address)"cart" port="grpc" scheme="http" path="/v1"
        CART_HOST (host)"cart"
        CART_PORT (port)"cart"
        DB_HOST (host)"db"
        DB_PORT (port)"db"
        V6 (address)"v6"
        STRIPE (address)"stripe" scheme="https"
        API_URL (address)"api" scheme="http" path="/v2"
        API_PORT (port)"api"
    }
}
environment "vm" {
    runs-on "systemd" { host "h1.example"; }
    external "db" host="10.0.0.7"
}
environment "k8s" {
    runs-on "kubernetes" namespace="shop"
}
"#;

    #[test]
    fn references_resolve_per_platform() {
        let spec = spec(SPEC);
        let values = |env: Option<&str>| -> BTreeMap<String, String> {
            let (view, environment) = match env {
                Some(e) => (&spec.environments[e].view, Some(&spec.environments[e])),
                None => (&spec.base, None),
            };
            plain_env(view, environment, &view.workloads["web"]).into_iter().collect()
        };
        let k8s = values(Some("k8s"));
        assert_eq!(k8s["CART_ADDR"], "cart.shop.svc.cluster.local:9000");
        assert_eq!(k8s["CART_URL"], "http://cart.shop.svc.cluster.local:9000/v1");
        assert_eq!(k8s["CART_HOST"], "cart.shop.svc.cluster.local");
        assert_eq!(k8s["CART_PORT"], "9000");
        assert_eq!(k8s["DB_HOST"], "db.internal");
        assert_eq!(k8s["V6"], "[2001:db8::1]:5432");
        assert_eq!(k8s["STRIPE"], "https://api.stripe.com");
        // Through the Service, on the port it listens on (`service-port=`), which is the
        // scheme's here; the workload's own port is the container's.
        assert_eq!(k8s["API_URL"], "http://api.shop.svc.cluster.local/v2");
        assert_eq!(k8s["API_PORT"], "80");
        let own = |env: &str| {
            plain_env(&spec.environments[env].view, Some(&spec.environments[env]), &spec.environments[env].view.workloads["api"])
        };
        assert_eq!(own("k8s"), [("OWN_PORT".to_owned(), "8081".to_owned())]);
        assert_eq!(own("vm"), [("OWN_PORT".to_owned(), "8081".to_owned())]);
        let vm = values(Some("vm"));
        assert_eq!(vm["CART_ADDR"], "127.0.0.1:9000");
        assert_eq!(vm["CART_URL"], "http://127.0.0.1:9000/v1");
        assert_eq!(vm["DB_HOST"], "10.0.0.7");
        assert_eq!(vm["DB_PORT"], "5432");
        // On the hosts the process listens on its own port; there is no Service.
        assert_eq!(vm["API_URL"], "http://127.0.0.1:8081/v2");
        assert_eq!(vm["API_PORT"], "8081");
        let base = values(None);
        assert_eq!(base["CART_ADDR"], "cart:9000");
        assert_eq!(base["DB_HOST"], "db.internal");
        assert_eq!(base["API_URL"], "http://api/v2");
    }

    #[test]
    fn a_reference_is_a_dependency_once() {
        let spec = spec(SPEC);
        let deps: Vec<&str> = spec.base.workloads["web"].depends_on.iter().map(|d| d.value.as_str()).collect();
        assert_eq!(deps, ["api", "cart", "db", "stripe", "v6"]);
        assert!(spec.base.workloads["cart"].depends_on.is_empty());
    }
}
