//! Lowering of exposure: a service's `expose` nodes, and an environment's `exposure`
//! setting with the default its platform implies.

use super::{Checked, as_str};
use crate::check::model::{Admit, Expose, Exposure, Platform, Tls, TlsSource};
use crate::diagnostics::{self as diag, Diagnostic};
use crate::span::Spanned;

/// A service's `expose` nodes, in port order (they are keyed by port: the order they are
/// written in means nothing).
pub(super) fn lower_expose(c: &Checked, diags: &mut Vec<Diagnostic>) -> Vec<Expose> {
    let mut out: Vec<Expose> = c
        .children_named("expose")
        .filter_map(|e| {
            let strings = |name: &str| -> Vec<Spanned<String>> {
                e.child(name).map(|n| n.args.iter().flatten().filter_map(as_str).collect()).unwrap_or_default()
            };
            let hosts = strings("hosts");
            let paths = strings("paths");
            super::duplicate_items("hosts", &hosts, diags);
            super::duplicate_items("paths", &paths, diags);
            Some(Expose { port: e.arg_str(0)?, hosts, paths, tls: e.child("tls").map(|t| lower_tls(t, diags)), span: e.node.head_span() })
        })
        .collect();
    out.sort_by(|a, b| a.port.value.cmp(&b.port.value));
    out
}

/// `tls`: exactly one source, `issuer=` (with its `issuer-kind=`), `secret=`, or the pair
/// `certificate=` and `key=`. Props given with errors (already reported) count as given,
/// so that a typo in one is not reported again as a missing source.
fn lower_tls(t: &Checked, diags: &mut Vec<Diagnostic>) -> Tls {
    let given = |k: &str| t.node.prop(k).is_some();
    let mut groups: Vec<&str> = Vec::new();
    if given("issuer") {
        groups.push("issuer");
    }
    if given("secret") {
        groups.push("secret");
    }
    match (given("certificate"), given("key")) {
        (true, true) => groups.push("certificate and key"),
        (true, false) => groups.push("certificate"),
        (false, true) => groups.push("key"),
        (false, false) => {}
    }
    if given("issuer-kind") && !given("issuer") {
        groups.push("issuer-kind");
    }
    let span = t.node.head_span();
    let source = match groups.as_slice() {
        ["issuer"] => t.prop_str("issuer").map(|name| TlsSource::Issuer {
            name: name.value,
            kind: t.prop_str("issuer-kind").map_or_else(|| "ClusterIssuer".to_owned(), |k| k.value),
        }),
        ["secret"] => t.prop_str("secret").map(|s| TlsSource::Secret(s.value)),
        ["certificate and key"] => match (t.prop_str("certificate"), t.prop_str("key")) {
            (Some(certificate), Some(key)) => Some(TlsSource::Files { certificate: certificate.value, key: key.value }),
            _ => None,
        },
        other => {
            diags.push(diag::tls_source(span, other));
            None
        }
    };
    Tls { source, span }
}

/// An environment's `exposure`, or the default of its platform: an Ingress of class
/// `nginx` admitting `ingress-nginx` on Kubernetes, nginx on systemd. `None` when the
/// platform is unknown (already reported).
pub(super) fn lower_exposure(c: &Checked, platform: Option<&Platform>, env: &str, diags: &mut Vec<Diagnostic>) -> Option<Exposure> {
    let platform = platform?;
    let Some(e) = c.child("exposure") else {
        return Some(match platform {
            Platform::Kubernetes { .. } => Exposure::Ingress {
                class: Exposure::DEFAULT_CLASS.to_owned(),
                admit: Admit { namespace: Exposure::DEFAULT_CONTROLLER_NAMESPACE.to_owned(), labels: Default::default() },
            },
            Platform::Systemd { .. } => Exposure::Nginx,
        });
    };
    let via = e.arg_str(0)?;
    let prop = |k: &str| e.prop_str(k).map(|v| v.value);
    let misplaced = |diags: &mut Vec<Diagnostic>, key: &str, why: String, help: &str| {
        if let Some(p) = e.node.prop(key) {
            diags.push(diag::exposure_setting(why, p.span, help));
        }
    };
    let labels: std::collections::BTreeMap<String, String> = e
        .child("namespace-labels")
        .map(|l| l.props.iter().filter_map(|(k, v)| Some((k.clone(), as_str(v)?.value))).collect())
        .unwrap_or_default();
    match (via.value.as_str(), platform) {
        ("nginx", Platform::Systemd { .. }) => {
            for key in ["class", "gateway", "gateway-namespace", "namespace"] {
                misplaced(diags, key, format!("`{key}=` means nothing to nginx on the hosts of `{env}`"), "remove it");
            }
            if let Some(l) = e.child("namespace-labels") {
                diags.push(diag::exposure_setting(
                    format!("`namespace-labels` means nothing to nginx on the hosts of `{env}`"),
                    l.node.span,
                    "remove it",
                ));
            }
            Some(Exposure::Nginx)
        }
        (_, Platform::Systemd { .. }) => {
            diags.push(diag::exposure_setting(
                format!("environment `{env}` runs on systemd, where `{}` cannot route traffic", via.value),
                via.span,
                "hosts get an nginx site: write `exposure \"nginx\"`, or leave `exposure` out",
            ));
            None
        }
        ("nginx", Platform::Kubernetes { .. }) => {
            diags.push(diag::exposure_setting(
                format!("environment `{env}` runs on Kubernetes, where nginx on the hosts means nothing"),
                via.span,
                "write `exposure \"ingress\"` (an Ingress) or `exposure \"gateway\" gateway=\"…\"` (a Gateway API HTTPRoute)",
            ));
            None
        }
        ("ingress", Platform::Kubernetes { .. }) => {
            for key in ["gateway", "gateway-namespace"] {
                misplaced(
                    diags,
                    key,
                    format!("`{key}=` is for `exposure \"gateway\"`; environment `{env}` uses an Ingress"),
                    "remove it, or write `exposure \"gateway\"`",
                );
            }
            Some(Exposure::Ingress {
                class: prop("class").unwrap_or_else(|| Exposure::DEFAULT_CLASS.to_owned()),
                admit: Admit { namespace: prop("namespace").unwrap_or_else(|| Exposure::DEFAULT_CONTROLLER_NAMESPACE.to_owned()), labels },
            })
        }
        (_, Platform::Kubernetes { namespace }) => {
            misplaced(diags, "class", format!("`class=` is for `exposure \"ingress\"`; environment `{env}` uses a Gateway"), "remove it");
            let Some(name) = prop("gateway") else {
                if e.node.prop("gateway").is_none() {
                    diags.push(diag::exposure_setting(
                        format!("environment `{env}` routes through a Gateway but does not say which"),
                        e.node.head_span(),
                        "name the Gateway the routes attach to: `exposure \"gateway\" gateway=\"public\" gateway-namespace=\"gateway-system\"`",
                    ));
                }
                return None;
            };
            let gateway_namespace = prop("gateway-namespace").unwrap_or_else(|| namespace.value.clone());
            Some(Exposure::Gateway {
                name,
                admit: Admit { namespace: prop("namespace").unwrap_or_else(|| gateway_namespace.clone()), labels },
                namespace: gateway_namespace,
            })
        }
    }
}
