//! Where pods run: tolerations, node affinity, topology spread and the ServiceAccount's
//! annotations (workload identity), set in a workload's `kubernetes` block and changed per
//! environment in its overlays. The checks here hold each rule to what the Kubernetes API
//! accepts; `emit::kubernetes::scheduling` writes them.

use crate::check::model::{Platform, View};
use crate::diagnostics::{self as diag, Diagnostic};
use crate::syntax::Node;

/// Tolerations and node affinity rules the API server would reject.
pub fn check(view: &View) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for w in view.workloads.values() {
        let k = &w.kubernetes;
        for t in &k.tolerations {
            let exists = t.operator.as_ref().is_some_and(|o| o.value == "Exists");
            if let (true, Some(v)) = (exists, &t.value) {
                out.push(diag::bad_toleration(
                    "`operator=\"Exists\"` matches any value; it takes no `value=`".to_owned(),
                    v.span,
                    "remove `value=`, or match it with the default `operator=\"Equal\"`",
                ));
            }
            if t.key.is_none() && !exists {
                out.push(diag::bad_toleration(
                    "a toleration without a key must say `operator=\"Exists\"`: it then tolerates every taint".to_owned(),
                    t.span,
                    "name the taint's key, `toleration \"dedicated\" value=\"pci\"`, or tolerate every taint with `operator=\"Exists\"`",
                ));
            }
            if let Some(s) = &t.seconds
                && t.effect.as_ref().is_none_or(|e| e.value != "NoExecute")
            {
                out.push(diag::bad_toleration(
                    "`seconds=` is how long a pod stays on a node after a `NoExecute` taint appears".to_owned(),
                    s.span,
                    "add `effect=\"NoExecute\"`, or remove `seconds=`",
                ));
            }
        }
        for a in &k.node_affinity {
            let op = a.operator.value.as_str();
            let problem = match op {
                "In" | "NotIn" if a.values.is_empty() => Some(format!("`{op}` needs the values to compare with")),
                "Exists" | "DoesNotExist" if !a.values.is_empty() => {
                    Some(format!("`{op}` only asks whether the label is there; it takes no values"))
                }
                "Gt" | "Lt" if a.values.len() != 1 => Some(format!("`{op}` compares with exactly one integer")),
                "Gt" | "Lt" if a.values[0].value.parse::<i64>().is_err() => {
                    out.push(diag::bad_node_affinity(
                        format!("`{op}` compares with an integer, not `{}`", a.values[0].value),
                        a.values[0].span,
                    ));
                    None
                }
                _ => None,
            };
            if let Some(p) = problem {
                out.push(diag::bad_node_affinity(p, a.span));
            }
        }
    }
    out
}

/// W0920: in an environment's overlay of a workload, settings of the platform the
/// environment does not run on (`kubernetes { … }` in a systemd environment, `systemd { … }`
/// on Kubernetes), which would do nothing. Each with the workload it belongs to.
pub fn platform_overlays(env_node: &Node, platform: &Platform, env: &str) -> Vec<(String, Diagnostic)> {
    let (other, runs) = match platform {
        Platform::Systemd { .. } => ("kubernetes", "systemd"),
        Platform::Kubernetes { .. } => ("systemd", "kubernetes"),
    };
    let mut out = Vec::new();
    for ov in env_node.children().iter().filter(|n| matches!(n.name.value.as_str(), "service" | "job")) {
        let Some(crate::syntax::Entry { value: crate::syntax::Value::String(workload), .. }) = ov.args.first() else { continue };
        for block in ov.children().iter().filter(|c| c.name.value == other) {
            out.push((workload.clone(), diag::platform_overlay(other, runs, env, workload, block.name.span)));
        }
    }
    out
}
