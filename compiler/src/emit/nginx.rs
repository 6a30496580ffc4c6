//! `systemd/<env>/<project>.nginx.conf`: the nginx site in front of the exposed ports of a
//! systemd environment, which `lifecycle.sh` installs on every host as
//! `/etc/nginx/conf.d/<project>.conf` (inside nginx's `http` block).
//!
//! One `server` per host name and scheme: a `location` per path prefix proxies to the
//! exposed port on 127.0.0.1, with the forwarding headers a program behind a proxy reads,
//! WebSocket upgrades passed through, and bounded timeouts. With TLS the host is served on
//! 443 with the certificate files the spec names, and port 80 redirects to it. A path
//! prefix matches itself and what lies below it, as an Ingress `Prefix` path does: `/api`
//! becomes `location = /api` and `location /api/`, so `/apis` is not routed to it.

use std::collections::BTreeMap;

use super::templates::Templates;
use serde::Serialize;

use super::Sink;
use super::templates::render;
use crate::check::model::{Environment as Env, Platform, TlsSource};

/// The site's file name in the output directory (beside the units).
pub fn file_name(project: &str) -> String {
    format!("{project}.nginx.conf")
}

/// What the lifecycle script needs to install a site: its file and the certificate files
/// that must be on the host first.
#[derive(Clone, Debug, Serialize)]
pub struct Install {
    pub file: String,
    pub tls_files: Vec<String>,
}

#[derive(Serialize)]
struct Site<'a> {
    header: &'a str,
    project: &'a str,
    environment: &'a str,
    /// The variable the `map` of `Upgrade` to `Connection` sets, one per project so that
    /// two projects' sites can share a host.
    connection: String,
    servers: Vec<Server>,
}

#[derive(Serialize)]
struct Server {
    host: String,
    tls: Option<Files>,
    locations: Vec<Location>,
}

#[derive(Clone, PartialEq, Eq, Serialize)]
struct Files {
    certificate: String,
    key: String,
}

#[derive(Serialize)]
struct Location {
    /// `= ` for the exact match of a prefix, empty otherwise.
    modifier: &'static str,
    path: String,
    port: u16,
    /// The workload and port it routes to, for the comment above it.
    target: String,
}

/// The site of a systemd environment that exposes ports, `None` for any other.
fn servers(environment: &Env) -> Option<Vec<Server>> {
    if !matches!(environment.platform, Some(Platform::Systemd { .. })) {
        return None;
    }
    let mut hosts: BTreeMap<&str, (Option<Files>, Vec<Location>)> = BTreeMap::new();
    for w in environment.view.workloads.values() {
        for e in &w.expose {
            let Some(port) = w.port(&e.port.value) else { continue };
            // Other sources are refused on systemd (E0903); one host has one TLS (E0905).
            let files = match e.tls.as_ref().and_then(|t| t.source.as_ref()) {
                Some(TlsSource::Files { certificate, key }) => Some(Files { certificate: certificate.clone(), key: key.clone() }),
                _ => None,
            };
            for host in &e.hosts {
                let entry = hosts.entry(host.value.as_str()).or_insert_with(|| (files.clone(), Vec::new()));
                for path in e.paths() {
                    let target = format!("{} port {} ({})", w.name.value, e.port.value, path);
                    let prefix = if path == "/" { "/".to_owned() } else { format!("{path}/") };
                    if path != "/" {
                        entry.1.push(Location { modifier: "= ", path: path.to_owned(), port: port.number.value, target: target.clone() });
                    }
                    entry.1.push(Location { modifier: "", path: prefix, port: port.number.value, target });
                }
            }
        }
    }
    if hosts.is_empty() {
        return None;
    }
    Some(
        hosts
            .into_iter()
            .map(|(host, (tls, mut locations))| {
                locations.sort_by(|a, b| (&a.path, a.modifier).cmp(&(&b.path, b.modifier)));
                Server { host: host.to_owned(), tls, locations }
            })
            .collect(),
    )
}

/// What `lifecycle.sh` installs, when the environment has a site.
pub fn install(environment: &Env) -> Option<Install> {
    let servers = servers(environment)?;
    let mut tls_files: Vec<String> =
        servers.iter().filter_map(|s| s.tls.as_ref()).flat_map(|f| [f.certificate.clone(), f.key.clone()]).collect();
    tls_files.sort();
    tls_files.dedup();
    Some(Install { file: file_name(&environment.view.project.name.value), tls_files })
}

pub fn emit(environment: &Env, env: &Templates, header: &str, out: &mut dyn Sink) -> Result<(), String> {
    let Some(servers) = servers(environment) else { return Ok(()) };
    let project = environment.view.project.name.value.as_str();
    let site = Site {
        header,
        project,
        environment: &environment.name.value,
        connection: format!("$hawser_{}_connection", project.replace('-', "_")),
        servers,
    };
    out.add(format!("systemd/{}/{}", environment.name.value, file_name(project)), render(env, "nginx.conf", &site)?)?;
    Ok(())
}
