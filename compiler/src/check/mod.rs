//! The checker: parse, lower the base and every environment, check each in full, build
//! the graph, and gather every diagnostic one run can find.
//!
//! Each environment is checked after its overlays are merged. A problem found in the
//! base is reported once; a problem found only in some environments is reported once,
//! naming them.

mod expose;
pub mod gobuild;
pub mod graph;
pub mod images;
pub mod inputs;
pub mod lower;
pub mod model;
pub mod overlay;
pub mod platforms;
pub mod references;
pub mod scheduling;
pub mod schema;
mod storage;
pub mod targets;
pub mod values;

use std::collections::{BTreeMap, BTreeSet};

use crate::check::model::*;
use crate::diagnostics::{self as diag, Diagnostic, Severity};
use crate::span::Span;
use crate::syntax;
use crate::syntax::tree::Document;
use graph::Graph;
use lower::EnvSettings;

/// The result of checking a spec: the model (when the spec parsed) and every diagnostic.
#[derive(Debug)]
pub struct Analysis {
    pub spec: Option<Spec>,
    pub graph: Option<Graph>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }
}

/// Checks a spec's text.
pub fn check(text: &str) -> Analysis {
    let (analysis, tree) = check_keeping_tree(text);
    // A large spec's tree takes milliseconds to free: that is done beside what the caller
    // does next.
    if let Some(tree) = tree.filter(|t| t.nodes.len() >= FREE_BESIDE_FROM) {
        std::thread::spawn(move || drop(tree));
    }
    analysis
}

/// How many top-level nodes a spec's tree needs before [`check`] frees it on a thread.
const FREE_BESIDE_FROM: usize = 64;

/// How many top-level nodes a spec needs before the base spec is checked on a thread beside
/// its environments: below it, starting a thread costs more than it saves.
const CHECK_BESIDE_FROM: usize = 64;

/// [`check`], giving back the syntax tree too (none when the text does not parse): for a
/// caller that needs it afterwards, such as the language server, which also chooses when
/// to free it.
pub fn check_keeping_tree(text: &str) -> (Analysis, Option<Document>) {
    check_tree(text, CHECK_BESIDE_FROM)
}

/// [`check_keeping_tree`], the base spec checked on a thread of its own when the spec has
/// `beside_from` top-level nodes or more.
fn check_tree(text: &str, beside_from: usize) -> (Analysis, Option<Document>) {
    let (doc, mut diagnostics) = syntax::parse(text);
    let Some(doc) = doc else {
        return (Analysis { spec: None, graph: None, diagnostics }, None);
    };
    let schema = schema::schema();

    let (base, env_nodes) = lower::lower_view(&doc, schema, &mut diagnostics);
    diagnostics.extend(gobuild::check(&base.project));
    // The base spec's checks and graph, and each environment's, read the base view only:
    // for a large spec the base spec's are made on a thread beside the environments'.
    let check_base = || {
        let mut sink = Sink::default();
        check_view(&base, None, &mut sink);
        let graph = graph::build(&base);
        sink.diags.extend(graph.cycles());
        (sink, graph)
    };
    let environments_of = || {
        let mut sink = Sink::default();
        let mut diagnostics = Vec::new();
        let mut environments = BTreeMap::new();
        let mut from_envs: BTreeMap<(String, Span, String), (Diagnostic, Vec<String>)> = BTreeMap::new();
        for env_checked in &env_nodes {
            let Some(settings) = lower::lower_environment(env_checked, &mut diagnostics) else { continue };
            let mut env_diags = Vec::new();
            let overlays = env_checked.node.children().iter().any(overlay::is_overlay);
            // Without overlays the environment sees the base spec: no need to lower it again.
            let mut view = if overlays {
                let merged = overlay::apply(&doc, env_checked.node, schema, &mut diagnostics);
                lower::lower_view(&merged, schema, &mut env_diags).0
            } else {
                base.clone()
            };
            select_workloads(&mut view, &settings, env_checked.node, &base, &mut diagnostics);
            let env = Environment {
                name: settings.name.clone(),
                production: settings.production,
                platform: settings.platform.clone(),
                view,
                span: settings.span,
                kubernetes_version: settings.kubernetes_version.clone(),
                prometheus_operator: settings.prometheus_operator,
                exposure: settings.exposure.clone(),
                api_server: settings.api_server.clone(),
                pull_secrets: settings.pull_secrets.clone(),
            };
            check_view(&env.view, Some(&env), &mut sink);
            check_dependencies_run(&env, &base, &mut sink);
            if let Some(platform) = &env.platform {
                for (workload, d) in scheduling::platform_overlays(env_checked.node, platform, &env.name.value) {
                    let w = env.view.workloads.get(&workload).cloned();
                    sink.warn(&env.view, w.as_deref(), d);
                }
            }
            storage::check_overlay(&env, &base, &mut sink);
            env_diags.append(&mut sink.diags);
            env_diags.extend(graph::build(&env.view).cycles());
            for d in env_diags {
                let key = (d.code.id.to_owned(), d.primary_span(), d.message.clone());
                from_envs.entry(key).or_insert_with(|| (d, Vec::new())).1.push(env.name.value.clone());
            }
            environments.insert(env.name.value.clone(), env);
        }
        (sink.used_allows, diagnostics, environments, from_envs)
    };
    let ((mut sink, base_graph), (env_allows, mut env_loop_diags, environments, from_envs)) = if doc.nodes.len() >= beside_from {
        std::thread::scope(|s| {
            let base_checked = s.spawn(check_base);
            let envs = environments_of();
            (base_checked.join().unwrap_or_else(|e| std::panic::resume_unwind(e)), envs)
        })
    } else {
        (check_base(), environments_of())
    };
    // In the order of one pass: the base spec's, then what lowering the environments found.
    diagnostics.append(&mut sink.diags);
    diagnostics.append(&mut env_loop_diags);
    sink.used_allows.extend(env_allows);
    let in_base: BTreeSet<(String, Span, String)> =
        diagnostics.iter().map(|d| (d.code.id.to_owned(), d.primary_span(), d.message.clone())).collect();
    for (key, (mut d, envs)) in from_envs {
        if !in_base.contains(&key) {
            d.environments = envs;
            diagnostics.push(d);
        }
    }

    let spec = Spec { base, environments };
    unused_secrets(&spec, &mut sink);
    unused_allows(&spec, &mut sink);
    diagnostics.append(&mut sink.diags);
    // W0111 concludes from an absence (no workload depends on the service). With errors the
    // graph may lack the very edge that would reach it (a misspelt `depends-on`, a
    // dependency that does not run there, a node that did not parse), and nothing is
    // generated anyway: the warning waits until the spec is otherwise valid.
    if diagnostics.iter().any(Diagnostic::is_error) {
        diagnostics.retain(|d| d.code != diag::code::UNREACHABLE_SERVICE);
    }
    diagnostics.sort_by(|a, b| (a.primary_span(), a.code.id, &a.message).cmp(&(b.primary_span(), b.code.id, &b.message)));
    diagnostics.dedup_by(|a, b| a.code == b.code && a.primary_span() == b.primary_span() && a.message == b.message);
    (Analysis { spec: Some(spec), graph: Some(base_graph), diagnostics }, Some(doc))
}

/// Collects diagnostics, and which `allow`s acknowledged a warning.
#[derive(Default)]
struct Sink {
    diags: Vec<Diagnostic>,
    used_allows: BTreeSet<Span>,
}

impl Sink {
    fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// A warning about `w`, unless the workload or the project acknowledges it.
    fn warn(&mut self, view: &View, w: Option<&Workload>, d: Diagnostic) {
        debug_assert_eq!(d.severity(), Severity::Warning);
        let allow = w
            .and_then(|w| w.allows.iter().find(|a| a.code.value == d.code.id))
            .or_else(|| view.project.allows.iter().find(|a| a.code.value == d.code.id));
        match allow {
            Some(a) => {
                self.used_allows.insert(a.span);
            }
            None => self.diags.push(d),
        }
    }
}

/// Keeps the workloads `workloads` lists, reporting names it does not know.
fn select_workloads(view: &mut View, settings: &EnvSettings, env_node: &syntax::Node, base: &View, diags: &mut Vec<Diagnostic>) {
    let Some(list) = &settings.workloads else { return };
    lower::duplicate_items("workloads", list, diags);
    let known: Vec<&str> = base.workloads.keys().map(String::as_str).collect();
    for name in list {
        if !base.workloads.contains_key(&name.value) {
            diags.push(diag::unknown_workload(&name.value, name.span, &known));
        }
    }
    view.workloads.retain(|name, _| list.iter().any(|l| &l.value == name));
    for ov in env_node.children().iter().filter(|n| matches!(n.name.value.as_str(), "service" | "job")) {
        if let Some(syntax::Entry { value: syntax::Value::String(name), span, .. }) = ov.args.first()
            && base.workloads.contains_key(name)
            && !view.workloads.contains_key(name)
        {
            diags.push(diag::overlay_not_running(name, *span, &settings.name.value));
        }
    }
}

/// Checks one view of the spec: the base (`env` is `None`) or an environment's.
fn check_view(view: &View, env: Option<&Environment>, sink: &mut Sink) {
    let platform = env.and_then(|e| e.platform.as_ref());
    let env_name = env.map_or("", |e| e.name.value.as_str());
    let dep_names: Vec<&str> = view.workloads.keys().chain(view.externals.keys()).map(String::as_str).collect();
    let secret_names: Vec<&str> = view.secrets.keys().map(String::as_str).collect();
    if let Some(Platform::Systemd { .. }) = platform {
        check_host_ports(view, env_name, sink);
        storage::check_shared_writable(view, env_name, sink);
    }
    for w in view.workloads.values() {
        let name = w.name.value.as_str();
        check_ports(w, sink);
        storage::check_workload(view, w, env, sink);
        // Environment variables: secrets by reference, never credentials in plain text.
        for var in w.env.values() {
            match &var.value {
                EnvValue::Literal(v) => {
                    if values::is_credential_key(&var.key.value) && !var.plain {
                        sink.error(diag::credential_literal(&var.key.value, v.span));
                    }
                }
                EnvValue::Reference(_) => {}
                EnvValue::Secret(s) => match view.secrets.get(&s.value) {
                    None if view.poisoned.contains(&s.value) => {}
                    None => sink.error(diag::unknown_secret(&s.value, s.span, &secret_names)),
                    Some(secret) => {
                        if matches!(platform, Some(Platform::Systemd { .. }))
                            && matches!(secret.source, Some(SecretSource::Kubernetes { .. }))
                        {
                            sink.error(diag::secret_platform(&s.value, s.span, env_name, secret.span));
                        }
                    }
                },
            }
        }
        // Dependencies.
        for dep in &w.depends_on {
            if dep.value == name {
                sink.error(diag::self_dependency(name, dep.span));
            } else if let Some(target) = view.workloads.get(&dep.value) {
                if target.is_scheduled() {
                    sink.error(diag::scheduled_dependency(&dep.value, dep.span));
                }
            } else if !view.externals.contains_key(&dep.value) && !view.poisoned.contains(&dep.value) && env.is_none() {
                sink.error(diag::unknown_dependency(&dep.value, dep.span, &dep_names));
            }
        }
        if let Some(drain) = &w.shutdown.drain
            && drain.seconds() >= w.shutdown.grace_seconds()
        {
            let grace = w.shutdown.grace.as_ref().map_or("30s".to_owned(), |g| g.text.clone());
            sink.error(diag::drain_after_grace(&drain.text, &grace, drain.span, w.shutdown.grace.as_ref().map(|g| g.span)));
        }
        lower::duplicate_items("depends-on", &w.depends_on, &mut sink.diags);
        // Resources.
        if let (Some(req), Some(lim)) = (&w.cpu.request, &w.cpu.limit)
            && lim.millis < req.millis
        {
            sink.error(diag::limit_below_request("CPU", &lim.kubernetes(), &req.kubernetes(), lim.span, req.span));
        }
        if let (Some(req), Some(lim)) = (&w.memory.request, &w.memory.limit)
            && lim.bytes < req.bytes
        {
            sink.error(diag::limit_below_request("memory", &lim.text, &req.text, lim.span, req.span));
        }
        if let Some(a) = &w.autoscale {
            if a.min.value > a.max.value {
                sink.error(diag::autoscale_range(i64::from(a.min.value), i64::from(a.max.value), a.min.span, a.max.span));
            }
            match (&a.cpu_percent, &a.memory_percent) {
                (None, None) if w.poisoned.contains("autoscale.target") => {}
                (None, None) => sink.error(diag::autoscale_target(a.span)),
                (cpu, mem) => {
                    if let (Some(c), None) = (cpu, &w.cpu.request) {
                        sink.error(diag::autoscale_request("cpu", c.span, name));
                    }
                    if let (Some(m), None) = (mem, &w.memory.request) {
                        sink.error(diag::autoscale_request("memory", m.span, name));
                    }
                }
            }
        }
        if let Some(m) = &w.metrics {
            let interval = m.interval.as_ref().map_or(30_000, |d| d.millis);
            if let Some(t) = &m.timeout
                && t.millis > interval
            {
                sink.error(diag::metrics_timeout(&t.text, m.interval_text(), t.span, m.interval.as_ref().map_or(m.span, |i| i.span)));
            }
        }
        // Platform.
        if let (Some(Platform::Systemd { .. }), Some(Source::Image { span, .. })) = (platform, &w.source) {
            sink.error(diag::image_on_systemd(name, *span, env_name));
        }
        // Production risks.
        if let Some(Source::Image { reference, image, .. }) = &w.source
            && !image.is_pinned()
        {
            sink.warn(view, Some(w), diag::latest_tag(&reference.value, reference.span));
        }
        if w.is_service() && !w.ports.is_empty() && w.health.ready.is_none() && !w.poisoned.contains("health.ready") {
            sink.warn(view, Some(w), diag::no_readiness(name, w.span));
        }
        if w.memory.limit.is_none() && !w.poisoned.contains("memory.limit") {
            sink.warn(view, Some(w), diag::no_memory_limit(name, w.span));
        }
        if let Some(env) = env {
            let instances = match platform {
                Some(Platform::Systemd { hosts, .. }) => hosts.len() as u32,
                _ if w.autoscale.is_some() => w.autoscale.as_ref().map_or(1, |a| a.min.value),
                _ => w.replicas(),
            };
            if env.production && w.is_service() && instances == 1 {
                let span = w.replicas.as_ref().map_or(w.span, |r| r.span);
                sink.warn(view, Some(w), diag::single_replica(name, span, env_name));
            }
            if let Some(p @ Platform::Systemd { .. }) = platform {
                check_systemd_floor(w, p.systemd_floor().unwrap_or(Platform::DEFAULT_SYSTEMD), env_name, sink);
                storage::check_systemd_floor(w, p.systemd_floor().unwrap_or(Platform::DEFAULT_SYSTEMD), env_name, sink);
                if let Some(r) = w.replicas.as_ref().filter(|r| r.value > 1) {
                    sink.warn(view, Some(w), diag::replicas_on_systemd(name, r.span, env_name));
                }
                if let Some(a) = &w.autoscale {
                    sink.warn(view, Some(w), diag::autoscale_on_systemd(name, a.span, env_name));
                }
                // What only the image holds: further binaries and copies of the module.
                let mut image_only: Vec<(String, Span)> = (w.docker.binaries.iter().map(|b| (format!("/{}", b.name.value), b.name.span)))
                    .chain(w.docker.copies.iter().map(|c| (c.to.value.clone(), c.source.span)))
                    .collect();
                image_only.sort_by_key(|(_, span)| *span);
                if let (Some((_, span)), Some(Source::Build { .. })) = (image_only.first(), &w.source) {
                    let paths: Vec<String> = image_only.iter().map(|(p, _)| p.clone()).collect();
                    sink.warn(view, Some(w), diag::image_only_on_hosts(name, &paths, *span, env_name));
                }
            }
        }
    }
    for d in references::check(view, env) {
        sink.error(d);
    }
    for d in images::check(view) {
        sink.error(d);
    }
    for d in scheduling::check(view) {
        sink.error(d);
    }
    if let Some(env) = env {
        for d in images::check_pull_secrets(view, env) {
            sink.error(d);
        }
    }
    check_reachability(view, env, sink);
    check_kubernetes_version(view, env, sink);
    expose::check(view, env, sink);
}

/// Every host of a systemd environment runs every workload: no two of them may bind the
/// same port and protocol (service ports, metrics ports and socket units are all declared
/// ports). Each clash is reported once, at the later declaration.
fn check_host_ports(view: &View, env_name: &str, sink: &mut Sink) {
    let mut bound: BTreeMap<(u16, bool), (&str, Span)> = BTreeMap::new();
    for w in view.workloads.values().filter(|w| w.source.is_some()) {
        for p in &w.ports {
            let key = (p.number.value, p.protocol == Protocol::Udp);
            match bound.get(&key) {
                Some((first, _)) if *first == w.name.value => {}
                Some((first, span)) => {
                    let port = format!("{}/{}", p.number.value, if p.protocol == Protocol::Udp { "udp" } else { "tcp" });
                    sink.error(diag::host_port(&port, p.number.span, &w.name.value, *span, first, env_name));
                }
                None => {
                    bound.insert(key, (&w.name.value, p.number.span));
                }
            }
        }
    }
}

/// What a workload asks of systemd that the environment's oldest hosts cannot do.
fn check_systemd_floor(w: &Workload, floor: u32, env_name: &str, sink: &mut Sink) {
    use targets::systemd::since;
    if let Some(r) = w.job().and_then(|j| j.retries.as_ref()).filter(|r| r.value > 0 && w.is_scheduled())
        && floor < since::ONESHOT_RESTART
    {
        sink.error(diag::systemd_floor(
            "retrying a scheduled job (`Restart=on-failure` on a oneshot unit)",
            since::ONESHOT_RESTART,
            floor,
            r.span,
            env_name,
            "remove `retries` (the next scheduled run is the retry)",
        ));
    }
    if let Some(c) = w.capabilities.first().filter(|_| floor < since::AMBIENT_CAPABILITIES) {
        sink.error(diag::systemd_floor(
            "keeping a capability without root (`AmbientCapabilities=`)",
            since::AMBIENT_CAPABILITIES,
            floor,
            c.span,
            env_name,
            "do without the capability",
        ));
    }
    if floor < since::AMBIENT_CAPABILITIES
        && let Some(p) = w.ports.iter().find(|p| p.number.value < 1024)
    {
        sink.error(diag::systemd_floor(
            "binding a port below 1024 without root (`AmbientCapabilities=`)",
            since::AMBIENT_CAPABILITIES,
            floor,
            p.number.span,
            env_name,
            "use a port from 1024 up (a load balancer or a socket unit can listen on the low port)",
        ));
    }
}

/// Ports unique by name and number; every port reference names a declared port.
fn check_ports(w: &Workload, sink: &mut Sink) {
    let name = w.name.value.as_str();
    for (i, p) in w.ports.iter().enumerate() {
        if let Some(first) = w.ports[..i].iter().find(|q| q.name.value == p.name.value) {
            sink.error(diag::duplicate_port(&format!("`{}`", p.name.value), p.name.span, first.name.span, name));
        } else if let Some(first) = w.ports[..i].iter().find(|q| q.number.value == p.number.value && q.protocol == p.protocol) {
            sink.error(diag::duplicate_port(&p.number.value.to_string(), p.number.span, first.number.span, name));
        }
    }
    let port_names: Vec<&str> = w.ports.iter().map(|p| p.name.value.as_str()).collect();
    let mut refs = Vec::new();
    for probe in [&w.health.ready, &w.health.live, &w.health.startup].into_iter().flatten() {
        refs.extend(probe.port.as_ref().map(|p| (p, "a health check")));
        for t in [&probe.period, &probe.timeout].into_iter().flatten() {
            if t.millis < 1000 {
                let what = if probe.period.as_ref().is_some_and(|p| p.span == t.span) { "period" } else { "timeout" };
                sink.error(diag::zero_duration(what, t.span));
            }
        }
    }
    refs.extend(w.metrics.as_ref().map(|m| (&m.port, "a Prometheus scrape")));
    // Public ports may be UDP; they only need to exist.
    for p in &w.public {
        if !w.ports.iter().any(|q| q.name.value == p.value) && !w.poisoned.contains(&format!("port:{}", p.value)) {
            let names: Vec<&str> = w.ports.iter().map(|q| q.name.value.as_str()).collect();
            sink.error(diag::unknown_port(&p.value, p.span, name, &names));
        }
    }
    for (r, used_for) in &refs {
        if let Some(p) = w.port(&r.value)
            && p.protocol == Protocol::Udp
        {
            sink.error(diag::udp_port(&r.value, r.span, used_for));
        }
    }
    let refs: Vec<_> = refs.into_iter().map(|(r, _)| r).collect();
    for r in refs {
        if !port_names.contains(&r.value.as_str()) && !w.poisoned.contains(&format!("port:{}", r.value)) {
            sink.error(diag::unknown_port(&r.value, r.span, name, &port_names));
        }
    }
    if let Some(s) = &w.systemd.socket {
        match w.port(&s.value) {
            None if w.poisoned.contains(&format!("port:{}", s.value)) => {}
            None => sink.error(diag::unknown_port(&s.value, s.span, name, &port_names)),
            Some(p) if p.protocol == Protocol::Udp => sink.error(diag::udp_port(&s.value, s.span, "socket activation")),
            Some(_) => {}
        }
    }
}

/// In an environment, every dependency must run there too, or be an external.
fn check_dependencies_run(env: &Environment, base: &View, sink: &mut Sink) {
    for w in env.view.workloads.values() {
        for dep in &w.depends_on {
            let runs = env.view.workloads.contains_key(&dep.value) || env.view.externals.contains_key(&dep.value);
            if !runs && base.workloads.contains_key(&dep.value) {
                sink.error(diag::not_running(&dep.value, dep.span, &env.name.value));
            }
        }
    }
}

fn unused_secrets(spec: &Spec, sink: &mut Sink) {
    let views = std::iter::once(&spec.base).chain(spec.environments.values().map(|e| &e.view));
    let mut used: BTreeSet<&str> = views.flat_map(|v| v.workloads.values()).flat_map(|w| w.secrets()).map(|s| s.value.as_str()).collect();
    used.extend(spec.environments.values().flat_map(|e| e.pull_secrets.iter().map(|p| p.value.as_str())));
    for s in spec.base.secrets.values() {
        if !used.contains(s.name.value.as_str()) {
            sink.warn(&spec.base, None, diag::unused_secret(&s.name.value, s.name.span));
        }
    }
}

fn unused_allows(spec: &Spec, sink: &mut Sink) {
    let views = std::iter::once(&spec.base).chain(spec.environments.values().map(|e| &e.view));
    let mut reported = BTreeSet::new();
    for v in views {
        let allows = v.project.allows.iter().chain(v.workloads.values().flat_map(|w| w.allows.iter()));
        for a in allows {
            // W0110 is about how `generate` is run; its allow is for that, not for `check`.
            let for_generate = a.code.value == diag::code::DEVELOPMENT_VERSION.id && v.project.version == Version::Git;
            // W0921 and W0922 compare with the module's files, which only the command line reads;
            // W0910 is about the contents of configuration files, which `generate` reads.
            let for_module = [diag::code::GO_MOD_VERSION.id, diag::code::IMAGE_SOURCE.id, diag::code::INPUT_CREDENTIAL_LIKE.id]
                .contains(&a.code.value.as_str());
            let for_generate = for_generate || for_module;
            if !for_generate && !sink.used_allows.contains(&a.span) && reported.insert(a.span) {
                let d = diag::unused_allow(&a.code.value, a.span);
                sink.diags.push(d);
            }
        }
    }
}

/// What the generated objects make reachable: an exec health check must run a program the
/// image holds; on Kubernetes, where the NetworkPolicies admit only the graph's edges, a
/// service must have a caller or a `public` port, and an address in a workload's
/// environment must name a port its workload serves, on a workload or external it depends
/// on.
fn check_reachability(view: &View, env: Option<&Environment>, sink: &mut Sink) {
    let kubernetes = matches!(env.and_then(|e| e.platform.as_ref()), Some(Platform::Kubernetes { .. }));
    let env_name = env.map_or("", |e| e.name.value.as_str());
    let mut depended: BTreeSet<&str> = BTreeSet::new();
    for w in view.workloads.values() {
        depended.extend(w.depends_on.iter().map(|d| d.value.as_str()));
    }
    for w in view.workloads.values() {
        let name = w.name.value.as_str();
        if let Some((binary, _)) = targets::build::binary(w) {
            for probe in [&w.health.ready, &w.health.live, &w.health.startup].into_iter().flatten() {
                if let ProbeCheck::Exec(command) = &probe.check
                    && let Some(program) = command.first().filter(|p| p.value != format!("/{binary}"))
                {
                    sink.error(diag::exec_probe_program(&program.value, program.span, binary));
                }
            }
        }
        if !kubernetes {
            continue;
        }
        let metrics = w.metrics.as_ref().map(|m| m.port.value.as_str());
        let callable: Vec<&str> = w.ports.iter().map(|p| p.name.value.as_str()).filter(|p| Some(*p) != metrics).collect();
        if w.is_service() && !callable.is_empty() && w.public.is_empty() && w.expose.is_empty() && !depended.contains(name) {
            sink.warn(view, Some(w), diag::unreachable_service(name, w.span, &callable.join(", ")));
        }
        let reach = reaches(view, w);
        for var in w.env.values() {
            let EnvValue::Literal(value) = &var.value else { continue };
            let Some(found) = values::address(&value.value) else { continue };
            let (host, port) = (&value.value[found.host.clone()], found.port);
            // `cart.<namespace>`, `cart.<namespace>.svc[.cluster.local]` name the Service too.
            let host = match (env.and_then(targets::kubernetes::namespace), host.split_once('.')) {
                (Some(ns), Some((first, rest)))
                    if view.workloads.contains_key(first)
                        && [ns.to_owned(), format!("{ns}.svc"), format!("{ns}.svc.cluster.local")].iter().any(|s| s == rest) =>
                {
                    first
                }
                _ => host,
            };
            // Through the Service: its port, which `service-port=` may set apart from the program's.
            let served =
                |t: &Workload| t.ports.iter().map(|p| format!("{} {}", p.name.value, p.service_number())).collect::<Vec<_>>().join(", ");
            let (problem, ports) = if let Some(target) = view.workloads.get(host) {
                if port.is_some_and(|n| !target.ports.iter().any(|p| p.service_number() == n)) {
                    (Some(diag::AddressProblem::Port("")), served(target))
                } else if !reach.contains(host) {
                    (Some(diag::AddressProblem::NotADependency), String::new())
                } else {
                    (None, String::new())
                }
            } else if let Some(external) = view.externals.values().find(|e| e.host.value == host) {
                let wrong = port.is_some_and(|n| n != external.port.value);
                (wrong.then_some(diag::AddressProblem::ExternalPort(external.port.value)), String::new())
            } else if host.parse::<std::net::IpAddr>().is_ok() || host == "localhost" {
                (None, String::new())
            } else {
                (Some(diag::AddressProblem::Unknown), String::new())
            };
            let problem = match problem {
                Some(diag::AddressProblem::Port(_)) => diag::AddressProblem::Port(&ports),
                Some(p) => p,
                None => continue,
            };
            sink.warn(view, Some(w), diag::unreachable_address(&var.key.value, &value.value, value.span, env_name, name, host, problem));
        }
    }
}

/// The workloads and externals a workload connects to: its dependencies, and through a
/// run-once job it depends on, that job's (the generated init containers wait for them).
fn reaches<'a>(view: &'a View, w: &'a Workload) -> BTreeSet<&'a str> {
    let mut out = BTreeSet::new();
    let mut stack: Vec<&str> = w.depends_on.iter().map(|d| d.value.as_str()).collect();
    while let Some(d) = stack.pop() {
        if !out.insert(d) {
            continue;
        }
        if let Some(job) = view.workloads.get(d).filter(|j| j.job().is_some()) {
            stack.extend(job.depends_on.iter().map(|x| x.value.as_str()));
        }
    }
    out
}

/// An environment that names an older Kubernetes than the output needs: every object
/// needs 1.27 (CronJob `timeZone`, PodDisruptionBudget `unhealthyPodEvictionPolicy`,
/// `matchLabelKeys` in topology spread), and a service that drains needs 1.30, the first
/// release that runs a `preStop` sleep by default (distroless images have no shell to
/// sleep in, so there is no fallback).
fn check_kubernetes_version(view: &View, env: Option<&Environment>, sink: &mut Sink) {
    let Some((env, version)) = env.and_then(|e| Some((e, e.kubernetes_version.as_ref()?))) else { return };
    if !matches!(env.platform, Some(Platform::Kubernetes { .. })) {
        return;
    }
    let (major, minor) = version.value;
    if (major, minor) < targets::kubernetes::OLDEST_VERSION {
        sink.error(diag::kubernetes_version(&env.name.value, version.span, (major, minor), targets::kubernetes::OLDEST_VERSION, None));
        return;
    }
    if (major, minor) < targets::kubernetes::PRE_STOP_SLEEP_VERSION {
        for w in view.workloads.values().filter(|w| w.is_service() && w.shutdown.drain_seconds() > 0) {
            let drain = w.shutdown.drain.as_ref().map_or(w.span, |d| d.span);
            sink.error(diag::kubernetes_version(
                &env.name.value,
                version.span,
                (major, minor),
                targets::kubernetes::PRE_STOP_SLEEP_VERSION,
                Some((&w.name.value, drain)),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    /// The codes `check` reports for a spec.
    fn codes(text: &str) -> Vec<&'static str> {
        super::check(text).diagnostics.iter().map(|d| d.code.id).collect()
    }

    const SPEC: &str = r#"
project "shop" { version "1.0.0"; }
service "web" {
    build "go" main="./cmd/web"
    port "http" 8080
    public "http"
    memory request="64Mi" limit="64Mi"
    health { ready "/readyz" port="http"; }
    DEPENDS
}
service "api" {
    build "go" main="./cmd/api"
    port "http" 8080
    memory request="64Mi" limit="64Mi"
    health { ready "/readyz" port="http"; }
}
environment "prod" { runs-on "kubernetes" namespace="shop"; }
"#;

    /// W0111 fires for a service nobody calls, and not when the spec has an error that may
    /// hide the caller: here the misspelt `depends-on` that was meant to reach it.
    #[test]
    fn unreachable_service_waits_for_a_valid_spec() {
        assert_eq!(codes(&SPEC.replace("DEPENDS", r#"depends-on "api""#)), Vec::<&str>::new());
        assert_eq!(codes(&SPEC.replace("DEPENDS", "")), ["W0111"]);
        assert_eq!(codes(&SPEC.replace("DEPENDS", r#"depends-on "apii""#)), ["E0202"]);
    }

    /// Every spec of the repository (the examples, the diagnostics corpus, the specs of the
    /// tests), and every two of them one after the other (so that the base spec's errors and
    /// the environments' meet), checks to the same spec, graph and diagnostics with the base
    /// spec checked beside the environments as on one thread.
    #[test]
    fn checking_the_base_beside_the_environments_is_checking_in_one() {
        let texts = crate::testing::specs_and_pairs(&["examples", "tests/diagnostics", "tests/specs"]);
        assert!(texts.len() > 400, "{} texts", texts.len());
        let mut with_environments = 0;
        for (path, text) in texts {
            let (one, _) = super::check_tree(&text, usize::MAX);
            let (beside, _) = super::check_tree(&text, 0);
            with_environments += usize::from(one.spec.as_ref().is_some_and(|s| !s.environments.is_empty()) && !one.diagnostics.is_empty());
            assert_eq!(format!("{beside:?}"), format!("{one:?}"), "{path}");
        }
        assert!(with_environments > 100, "only {with_environments} texts have environments and diagnostics");
    }
}
