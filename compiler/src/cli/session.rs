//! What the commands and an editor ask of a spec beyond checking it, as plain data without I/O:
//! generating in memory, the files one workload produces in one environment, and the
//! values hawser derives for a workload in each environment.

use crate::check::model::{Platform, Spec, Workload};
use crate::check::{self, Analysis};
use crate::emit::{self, Artifact, Artifacts, Options};

/// Why a spec produced no artifacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotGenerated {
    /// The spec has errors; they are among the analysis's diagnostics.
    SpecErrors,
    /// The options do not fit the spec (an unknown environment, say).
    Options(String),
    /// A generator failed: a bug in hawser.
    Internal(String),
}

/// Checks a spec's text and generates its artifacts in memory.
pub fn generate(text: &str, opts: &Options) -> (Analysis, Result<Artifacts, NotGenerated>) {
    let analysis = check::check(text);
    let result = generate_checked(&analysis, opts);
    (analysis, result)
}

/// Generates the artifacts of a spec already checked.
pub fn generate_checked(analysis: &Analysis, opts: &Options) -> Result<Artifacts, NotGenerated> {
    let spec = match &analysis.spec {
        Some(spec) if !analysis.has_errors() => spec,
        _ => return Err(NotGenerated::SpecErrors),
    };
    emit::check_options(spec, opts).map_err(NotGenerated::Options)?;
    emit::generate(spec, opts).map_err(NotGenerated::Internal)
}

/// The files `workload` produces in environment `env`, by path: its image's Dockerfile, and
/// its Kubernetes manifest or systemd units there. Files every workload shares (the build
/// script, the Helm chart, Prometheus's configuration) are not among them.
pub fn workload_files<'a>(artifacts: &'a Artifacts, project: &str, workload: &str, env: &str) -> Vec<(&'a str, &'a Artifact)> {
    let unit = format!("{project}-{workload}");
    artifacts
        .files
        .iter()
        .filter(|(path, _)| {
            let mut parts = path.split('/');
            let (Some(kind), Some(second)) = (parts.next(), parts.next()) else { return false };
            let third = parts.next();
            let fourth = parts.next();
            let stem = |file: &str| file.split('.').next().unwrap_or_default().to_owned();
            match (kind, third) {
                ("docker", None) => stem(second) == workload,
                ("kubernetes", Some(file)) => second == env && stem(file) == workload,
                // A unit's configuration files: `systemd/<env>/files/<unit>/<name>`.
                ("systemd", Some("files")) => second == env && fourth == Some(unit.as_str()),
                ("systemd", Some(file)) => second == env && stem(file) == unit,
                _ => false,
            }
        })
        .map(|(path, artifact)| (path.as_str(), artifact))
        .collect()
}

/// The values hawser derives for a workload in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    pub environment: String,
    pub platform: Option<&'static str>,
    /// How many instances run: a count, or `MIN–MAX` under autoscaling.
    pub instances: String,
    pub gomaxprocs: Option<u64>,
    pub gomemlimit: Option<String>,
    /// The pod's QoS class on Kubernetes.
    pub qos_class: Option<&'static str>,
}

/// What `workload` gets in every environment that runs it, in environment order.
pub fn derived(spec: &Spec, workload: &str) -> Vec<Derived> {
    let mut out = Vec::new();
    for env in spec.environments.values() {
        let Some(w) = env.view.workloads.get(workload) else { continue };
        let instances = match (&env.platform, &w.autoscale) {
            (Some(Platform::Systemd { hosts, .. }), _) => format!("{} (one per host)", hosts.len()),
            (_, Some(a)) => format!("{}–{} (autoscaled)", a.min.value, a.max.value),
            _ if !w.is_service() => "1 (a job)".to_owned(),
            _ => w.replicas().to_string(),
        };
        let kubernetes = matches!(env.platform, Some(Platform::Kubernetes { .. }));
        out.push(Derived {
            environment: env.name.value.clone(),
            platform: env.platform.as_ref().map(Platform::name),
            instances,
            gomaxprocs: emit::runtime::gomaxprocs(w),
            gomemlimit: emit::runtime::gomemlimit(w),
            qos_class: kubernetes.then(|| qos_class(w)),
        });
    }
    out
}

/// The Kubernetes QoS class a workload's resources give its pod: Guaranteed when CPU and
/// memory limits are set and each request is absent or equal to its limit, BestEffort with
/// nothing set, Burstable otherwise (Kubernetes fills a missing request from the limit).
pub fn qos_class(w: &Workload) -> &'static str {
    let cpu = match (&w.cpu.request, &w.cpu.limit) {
        (req, Some(l)) => req.as_ref().is_none_or(|r| r.millis == l.millis),
        _ => false,
    };
    let memory = match (&w.memory.request, &w.memory.limit) {
        (req, Some(l)) => req.as_ref().is_none_or(|r| r.bytes == l.bytes),
        _ => false,
    };
    let nothing = w.cpu.request.is_none() && w.cpu.limit.is_none() && w.memory.request.is_none() && w.memory.limit.is_none();
    if cpu && memory {
        "Guaranteed"
    } else if nothing {
        "BestEffort"
    } else {
        "Burstable"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"project "shop" { version "1.0.0"; }
service "api" {
    image "registry.example.com/api:1.0"
    port "http" 8080
    cpu request="250m" limit="1500m"
    memory request="512Mi" limit="512Mi"
    health { ready "/readyz" port="http"; }
}
environment "prod" production=#true {
    runs-on "kubernetes" namespace="shop"
    service "api" { replicas 3; memory request="256Mi"; }
}
environment "edge" {
    runs-on "systemd" { host "a.example.com"; host "b.example.com"; }
    service "api" { cpu limit="500m"; }
}
"#;

    #[test]
    fn derived_values_follow_each_environments_overlays() {
        let analysis = check::check(SPEC.replace("image \"registry.example.com/api:1.0\"", "build \"go\" main=\"./cmd/api\"").as_str());
        assert!(!analysis.has_errors(), "{:?}", analysis.diagnostics);
        let d = derived(analysis.spec.as_ref().unwrap(), "api");
        assert_eq!(d.len(), 2);
        assert_eq!(
            (d[0].environment.as_str(), d[0].instances.as_str(), d[0].gomaxprocs, d[0].qos_class),
            ("edge", "2 (one per host)", Some(1), None)
        );
        assert_eq!(
            (d[1].environment.as_str(), d[1].instances.as_str(), d[1].gomaxprocs, d[1].gomemlimit.as_deref(), d[1].qos_class),
            ("prod", "3", Some(2), Some("460MiB"), Some("Burstable"))
        );
    }

    #[test]
    fn workload_files_are_its_own_in_that_environment() {
        let text = SPEC.replace("image \"registry.example.com/api:1.0\"", "build \"go\" main=\"./cmd/api\"");
        let (_, artifacts) = generate(&text, &Options { spec_name: "hawser.kdl".to_owned(), ..Options::default() });
        let artifacts = artifacts.unwrap();
        let prod: Vec<&str> = workload_files(&artifacts, "shop", "api", "prod").into_iter().map(|(p, _)| p).collect();
        assert_eq!(prod, ["docker/api.Dockerfile", "docker/api.Dockerfile.dockerignore", "kubernetes/prod/api.yaml"]);
        let edge: Vec<&str> = workload_files(&artifacts, "shop", "api", "edge").into_iter().map(|(p, _)| p).collect();
        assert!(edge.contains(&"systemd/edge/shop-api.service"), "{edge:?}");
        assert!(!edge.iter().any(|p| p.contains("prod")));
    }

    #[test]
    fn a_spec_with_errors_generates_nothing() {
        let (analysis, result) = generate("project \"x\" {", &Options::default());
        assert!(analysis.has_errors());
        assert_eq!(result, Err(NotGenerated::SpecErrors));
    }
}
