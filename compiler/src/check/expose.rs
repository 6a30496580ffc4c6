//! Checks of exposure and of the Service's shape: what `expose`, `service-port`,
//! `service-type` and `service-annotations` ask must be possible where the environment runs,
//! and must not collide with each other.

use std::collections::BTreeMap;

use super::Sink;
use crate::check::model::{Environment, Platform, Protocol, TlsSource, View, Workload};
use crate::diagnostics as diag;
use crate::span::Span;

/// The ports nginx binds on the hosts of a systemd environment that exposes anything.
pub const NGINX_PORTS: [u16; 2] = [80, 443];

/// Checks one view: the base (`env` is `None`) or an environment's.
pub(super) fn check(view: &View, env: Option<&Environment>, sink: &mut Sink) {
    let platform = env.and_then(|e| e.platform.as_ref());
    let env_name = env.map_or("", |e| e.name.value.as_str());
    for w in view.workloads.values() {
        service_shape(w, sink);
        exposed_ports(w, sink);
        if let Some(p) = platform {
            for tls in w.expose.iter().filter_map(|e| e.tls.as_ref()) {
                if let Some(source) = tls.source.as_ref().filter(|s| s.platform() != p.name()) {
                    let what = match source {
                        TlsSource::Issuer { .. } => "a cert-manager issuer",
                        TlsSource::Secret(_) => "a Kubernetes Secret",
                        TlsSource::Files { .. } => "a certificate file on the hosts",
                    };
                    sink.error(diag::tls_platform(what, tls.span, env_name, p.name()));
                }
            }
        }
    }
    routes(view, sink);
    match (platform, env) {
        (Some(Platform::Systemd { .. }), Some(_)) => nginx_ports(view, env_name, sink),
        (Some(Platform::Kubernetes { .. }), Some(_)) => load_balancers(view, sink),
        _ => {}
    }
}

/// Whether `w` gets a Kubernetes Service: a service with ports.
pub fn has_service(w: &Workload) -> bool {
    w.is_service() && !w.ports.is_empty()
}

/// `service-port`, `service-type` and `service-annotations` need a Service, and a Service
/// listens on each number once per protocol.
fn service_shape(w: &Workload, sink: &mut Sink) {
    let name = w.name.value.as_str();
    if !has_service(w) {
        let why = if w.is_service() { "it declares no ports" } else { "a job gets no Service" };
        for p in &w.ports {
            if let Some(sp) = &p.service_port {
                sink.error(diag::no_service(name, sp.span, why));
            }
        }
        if let Some(span) = w.kubernetes.service_span {
            sink.error(diag::no_service(name, span, why));
        }
        return;
    }
    for (i, p) in w.ports.iter().enumerate() {
        let Some(sp) = &p.service_port else { continue };
        let clash = w.ports.iter().enumerate().find(|(j, q)| *j != i && q.protocol == p.protocol && q.service_number() == sp.value);
        if let Some((j, q)) = clash {
            // Once per pair, at the later port; a clash of two plain numbers is E0204's.
            let first = q.service_port.as_ref().map_or(q.number.span, |s| s.span);
            if j < i || q.service_port.is_none() {
                sink.error(diag::service_port_clash(sp.value, sp.span, first, name));
            }
        }
    }
}

/// Every exposed port is a declared TCP port of the service.
fn exposed_ports(w: &Workload, sink: &mut Sink) {
    let name = w.name.value.as_str();
    let names: Vec<&str> = w.ports.iter().map(|p| p.name.value.as_str()).collect();
    for e in &w.expose {
        match w.port(&e.port.value) {
            None if w.poisoned.contains(&format!("port:{}", e.port.value)) => {}
            None => sink.error(diag::unknown_port(&e.port.value, e.port.span, name, &names)),
            Some(p) if p.protocol == Protocol::Udp => sink.error(diag::udp_port(&e.port.value, e.port.span, "an exposure (HTTP)")),
            Some(_) => {}
        }
    }
}

/// A host name and path prefix route to one port, and a host name has one certificate.
fn routes(view: &View, sink: &mut Sink) {
    let mut routed: BTreeMap<(&str, &str), (String, Span)> = BTreeMap::new();
    let mut tls: BTreeMap<&str, (Option<&TlsSource>, Span)> = BTreeMap::new();
    for w in view.workloads.values() {
        for e in &w.expose {
            let target = format!("`{}`'s port `{}`", w.name.value, e.port.value);
            let source = match &e.tls {
                Some(t) if t.source.is_none() => continue,
                Some(t) => (t.source.as_ref(), t.span),
                None => (None, e.span),
            };
            for host in &e.hosts {
                let paths = e.paths();
                for (i, path) in paths.iter().enumerate() {
                    let span = e.paths.get(i).map_or(host.span, |p| p.span);
                    match routed.get(&(host.value.as_str(), *path)) {
                        Some((first_target, first)) => {
                            let route = format!("{}{}", host.value, if *path == "/" { "/" } else { path });
                            sink.error(diag::exposure_conflict(&route, span, &target, *first, first_target));
                        }
                        None => {
                            routed.insert((host.value.as_str(), *path), (target.clone(), span));
                        }
                    }
                }
                match tls.get(host.value.as_str()) {
                    Some((first, first_span)) if *first != source.0 => sink.error(diag::host_tls(&host.value, source.1, *first_span)),
                    Some(_) => {}
                    None => {
                        tls.insert(host.value.as_str(), source);
                    }
                }
            }
        }
    }
}

/// On the hosts of a systemd environment that exposes a port, nginx binds 80 and 443.
fn nginx_ports(view: &View, env_name: &str, sink: &mut Sink) {
    if view.workloads.values().all(|w| w.expose.is_empty()) {
        return;
    }
    for w in view.workloads.values().filter(|w| w.source.is_some()) {
        for p in w.ports.iter().filter(|p| p.protocol == Protocol::Tcp && NGINX_PORTS.contains(&p.number.value)) {
            sink.error(diag::nginx_port(p.number.value, p.number.span, &w.name.value, env_name));
        }
    }
}

/// A NodePort or LoadBalancer Service forwards clients from outside the cluster; the
/// NetworkPolicy admits them only on `public` ports.
fn load_balancers(view: &View, sink: &mut Sink) {
    for w in view.workloads.values().filter(|w| has_service(w)) {
        let Some(kind) = w.kubernetes.service_type.as_ref().filter(|t| t.value != "ClusterIP") else { continue };
        let metrics = w.metrics.as_ref().map(|m| m.port.value.as_str());
        let closed: Vec<String> = w
            .ports
            .iter()
            .filter(|p| Some(p.name.value.as_str()) != metrics && !w.public.iter().any(|q| q.value == p.name.value))
            .map(|p| format!("`{}`", p.name.value))
            .collect();
        if !closed.is_empty() {
            sink.warn(view, Some(w), diag::closed_load_balancer(&w.name.value, &kind.value, &closed.join(", "), kind.span));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostics::Diagnostic;

    const SPEC: &str = r#"project "p" { version "1.0.0"; }
service "web" {
    build "go" main="./cmd/web"
    port "http" 8080
    memory request="64Mi" limit="64Mi"
    health { ready "/readyz" port="http"; }
    EXPOSE
}
environment "prod" { runs-on "kubernetes" namespace="p"; }
environment "edge" {
    runs-on "systemd" { host "edge-1.example.com"; }
    OVERLAY
}
"#;

    fn codes(expose: &str, overlay: &str) -> Vec<(&'static str, Vec<String>)> {
        let analysis = crate::check(&SPEC.replace("EXPOSE", expose).replace("OVERLAY", overlay));
        analysis.diagnostics.iter().map(|d: &Diagnostic| (d.code.id, d.environments.clone())).collect()
    }

    /// An exposed service is reachable: W0111 is for a service nothing may connect to.
    #[test]
    fn an_exposed_service_is_not_unreachable() {
        assert_eq!(codes("", ""), [("W0111", vec!["prod".to_owned()])]);
        assert_eq!(codes(r#"expose "http" { hosts "shop.example.com"; }"#, ""), []);
    }

    /// The overlay's certificate source replaces the base's: files on the hosts of `edge`,
    /// cert-manager in `prod`; without the overlay, `edge` cannot use the issuer.
    #[test]
    fn an_overlay_replaces_the_tls_source() {
        let expose = r#"expose "http" { hosts "shop.example.com"; tls issuer="letsencrypt"; }"#;
        assert_eq!(codes(expose, ""), [("E0903", vec!["edge".to_owned()])]);
        let files = r#"service "web" { expose "http" { tls certificate="/etc/tls/a.pem" key="/etc/tls/a.key"; }; }"#;
        assert_eq!(codes(expose, files), []);
        // Half of the files' pair is a source of its own, which leaves the key missing.
        let half = r#"service "web" { expose "http" { tls certificate="/etc/tls/a.pem"; }; }"#;
        assert_eq!(codes(expose, half), [("E0902", vec!["edge".to_owned()])]);
    }

    /// nginx on the hosts of an environment that exposes a port needs 80 and 443.
    #[test]
    fn nginx_ports_are_taken_only_where_something_is_exposed() {
        let other = r#"}
service "legacy" {
    build "go" main="./cmd/legacy"
    port "http" 443
    memory request="64Mi" limit="64Mi"
    health { ready "/readyz" port="http"; }
    public "http""#;
        assert!(codes(other, "").iter().all(|(c, _)| *c != "E0906"));
        let exposed = format!(r#"expose "http" {{ hosts "shop.example.com"; }}{other}"#);
        assert_eq!(codes(&exposed, "").iter().filter(|(c, _)| *c == "E0906").count(), 1);
    }
}
