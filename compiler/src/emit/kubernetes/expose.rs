//! Exposure on Kubernetes: the values of a workload's exposed ports and of the
//! environment's exposure setting, and the types of the objects they become — an Ingress
//! or a Gateway API HTTPRoute per exposed port, a cert-manager Certificate when an issuer
//! signs its certificate, and a ReferenceGrant that lets a Gateway of another namespace read
//! the certificate's Secret. `objects::exposure` maps the values to them, and writes the
//! NetworkPolicy's rule that admits the controller's namespace with the other rules; the
//! chart's templates (`ingress.yaml`, `httproute.yaml`, `certificate.yaml`,
//! `referencegrant.yaml`) do the same mapping.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::check::model::{Exposure, TlsSource, Workload};

// ------------------------------------------------------------------ values

/// The environment's exposure, in the chart's values: how routes are written and whom the
/// NetworkPolicies admit to exposed ports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExposureValues {
    /// `ingress` or `gateway`.
    pub via: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayValues>,
    /// The `namespaceSelector.matchLabels` of the controller's or gateway's namespace.
    pub admit: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GatewayValues {
    pub name: String,
    pub namespace: String,
}

/// One exposed port of a workload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExposeValues {
    /// The port's name, the same on the container and the Service.
    pub port: String,
    /// The Service's port number (an HTTPRoute's backend names the number).
    pub service_port: u16,
    pub hosts: Vec<String>,
    pub paths: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsValues>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsValues {
    /// The Secret holding the certificate: the spec's, or the one the Certificate writes.
    pub secret_name: String,
    /// The cert-manager issuer, when hawser writes a Certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<IssuerValues>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IssuerValues {
    pub name: String,
    pub kind: String,
}

/// The values of an environment's exposure (the default's for the base values).
pub fn exposure_values(exposure: Option<&Exposure>) -> ExposureValues {
    match exposure {
        Some(Exposure::Gateway { name, namespace, admit }) => ExposureValues {
            via: "gateway",
            class_name: None,
            gateway: Some(GatewayValues { name: name.clone(), namespace: namespace.clone() }),
            admit: admit.selector(),
        },
        Some(Exposure::Ingress { class, admit }) => {
            ExposureValues { via: "ingress", class_name: Some(class.clone()), gateway: None, admit: admit.selector() }
        }
        _ => ExposureValues {
            via: "ingress",
            class_name: Some(Exposure::DEFAULT_CLASS.to_owned()),
            gateway: None,
            admit: BTreeMap::from([("kubernetes.io/metadata.name".to_owned(), Exposure::DEFAULT_CONTROLLER_NAMESPACE.to_owned())]),
        },
    }
}

/// The values of a workload's exposed ports.
pub fn expose_values(w: &Workload) -> Vec<ExposeValues> {
    w.expose
        .iter()
        .filter_map(|e| {
            let port = w.port(&e.port.value)?;
            let object = object_name(&w.name.value, &e.port.value);
            let tls = e.tls.as_ref().and_then(|t| t.source.as_ref()).and_then(|s| match s {
                TlsSource::Issuer { name, kind } => Some(TlsValues {
                    secret_name: format!("{object}-tls"),
                    issuer: Some(IssuerValues { name: name.clone(), kind: kind.clone() }),
                }),
                TlsSource::Secret(secret) => Some(TlsValues { secret_name: secret.clone(), issuer: None }),
                // Not on Kubernetes (E0903).
                TlsSource::Files { .. } => None,
            });
            Some(ExposeValues {
                port: e.port.value.clone(),
                service_port: port.service_number(),
                hosts: e.hosts.iter().map(|h| h.value.clone()).collect(),
                paths: e.paths().into_iter().map(str::to_owned).collect(),
                tls,
            })
        })
        .collect()
}

/// The name of the objects of one exposed port: the workload's and the port's.
pub fn object_name(workload: &str, port: &str) -> String {
    format!("{workload}-{port}")
}

// ------------------------------------------------------------------ objects

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressSpec {
    pub ingress_class_name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tls: Vec<IngressTls>,
    pub rules: Vec<IngressRule>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressTls {
    pub hosts: Vec<String>,
    pub secret_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IngressRule {
    pub host: String,
    pub http: IngressHttp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IngressHttp {
    pub paths: Vec<IngressPath>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressPath {
    pub path: String,
    pub path_type: &'static str,
    pub backend: IngressBackend,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IngressBackend {
    pub service: IngressServiceBackend,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IngressServiceBackend {
    pub name: String,
    pub port: NamedPort,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NamedPort {
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteSpec {
    pub parent_refs: Vec<ParentRef>,
    pub hostnames: Vec<String>,
    pub rules: Vec<HttpRouteRule>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParentRef {
    pub group: &'static str,
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteRule {
    pub matches: Vec<HttpRouteMatch>,
    pub backend_refs: Vec<BackendRef>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HttpRouteMatch {
    pub path: PathMatch,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PathMatch {
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BackendRef {
    pub group: &'static str,
    pub kind: &'static str,
    pub name: String,
    pub port: u16,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSpec {
    pub secret_name: String,
    pub dns_names: Vec<String>,
    pub issuer_ref: IssuerRef,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IssuerRef {
    pub group: &'static str,
    pub kind: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReferenceGrantSpec {
    pub from: Vec<GrantFrom>,
    pub to: Vec<GrantTo>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GrantFrom {
    pub group: &'static str,
    pub kind: &'static str,
    pub namespace: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GrantTo {
    pub group: &'static str,
    pub kind: &'static str,
    pub name: String,
}
