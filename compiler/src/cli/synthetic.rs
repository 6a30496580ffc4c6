//! The reference workload of the performance budgets: a generated spec of N services, each
//! with one image, one port, two probes, requests and limits, and two environment
//! variables, deployed to two environments. Used by the benchmarks and the CLI timing.

use std::fmt::Write;

/// A spec of `n` services and two Kubernetes environments.
pub fn spec(n: usize) -> String {
    let mut s = String::with_capacity(400 * n + 400);
    s.push_str("project \"bench\" {\n    registry \"registry.example.com/bench\"\n    version \"1.0.0\"\n}\n\n");
    for i in 0..n {
        service(&mut s, i, n, &format!("image \"registry.example.com/bench/svc-{i}:1.0.{i}\""), 8080, "\n    replicas 2");
    }
    s.push_str("environment \"staging\" {\n    runs-on \"kubernetes\" namespace=\"bench-staging\"\n}\n\n");
    s.push_str("environment \"prod\" production=#true {\n    runs-on \"kubernetes\" namespace=\"bench\"\n}\n");
    s
}

/// [`spec`] with an overlay of every service in `prod` (three replicas, another log
/// level): what checking costs when environments change many workloads.
pub fn overlay_spec(n: usize) -> String {
    let mut s = spec(n);
    let open = s.rfind("environment \"prod\"").expect("the prod environment");
    s.truncate(open);
    s.reserve(80 * n + 100);
    s.push_str("environment \"prod\" production=#true {\n    runs-on \"kubernetes\" namespace=\"bench\"\n");
    for i in 0..n {
        let _ = write!(
            s,
            "    service \"svc-{i}\" {{\n        replicas 3\n        env {{\n            LOG_LEVEL \"warn\"\n        }}\n    }}\n"
        );
    }
    s.push_str("}\n");
    s
}

/// A spec of `n` services built from source, with a systemd and a Kubernetes environment:
/// every artifact kind has work to do. One host runs every service, so each has its own
/// port (from 10000 up; `n` is at most 55000).
pub fn host_spec(n: usize) -> String {
    let mut s = String::with_capacity(450 * n + 500);
    s.push_str("project \"bench\" {\n    registry \"registry.example.com/bench\"\n    version \"1.0.0\"\n    go \"1.23\"\n}\n\n");
    for i in 0..n {
        service(&mut s, i, n, &format!("build \"go\" main=\"./cmd/svc-{i}\""), 10_000 + i, "");
    }
    s.push_str("environment \"edge\" {\n    runs-on \"systemd\" {\n        host \"edge-1.bench.internal\"\n    }\n}\n\n");
    s.push_str("environment \"prod\" {\n    runs-on \"kubernetes\" namespace=\"bench\"\n}\n");
    s
}

/// Service `i` of `n`: its source line (`image …` or `build …`), its port, extra lines,
/// and what every service of the workload has. Each is reachable from outside the project
/// (`public`), as services behind an ingress are: nothing calls them otherwise, and a
/// spec that earns a warning per service measures how fast warnings render instead.
fn service(s: &mut String, i: usize, n: usize, source: &str, port: usize, extra: &str) {
    let _ = write!(
        s,
        r#"service "svc-{i}" {{
    {source}
    port "http" {port}
    public "http"{extra}
    cpu request="100m" limit="500m"
    memory request="128Mi" limit="256Mi"
    health {{
        ready "/readyz" port="http"
        live "/healthz" port="http"
    }}
    env {{
        LOG_LEVEL "info"
        UPSTREAM "svc-{next}.bench.svc"
    }}
}}

"#,
        next = (i + 1) % n.max(1)
    );
}
