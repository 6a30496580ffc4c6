//! Diagnostics as data: a stable code, a severity, a message, labelled spans and help.
//!
//! Every message a user can see is built by a named constructor in this file. The CLI
//! turns diagnostics into miette reports or JSON; the LSP into LSP diagnostics.

use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A diagnostic code and its one-line title.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Code {
    pub id: &'static str,
    pub title: &'static str,
}

impl Code {
    pub fn severity(self) -> Severity {
        if self.id.starts_with('W') { Severity::Warning } else { Severity::Error }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: Option<String>,
    pub primary: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// The environments this diagnostic was found in, when it is not found in the base spec.
    pub environments: Vec<String>,
}

impl Diagnostic {
    fn new(code: Code, message: impl Into<String>, span: Span, label: impl Into<Option<String>>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            labels: vec![Label { span, message: label.into(), primary: true }],
            help: None,
            environments: Vec::new(),
        }
    }

    fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    fn maybe_help(mut self, help: Option<String>) -> Diagnostic {
        self.help = help;
        self
    }

    fn label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, message: Some(message.into()), primary: false });
        self
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }

    pub fn primary_span(&self) -> Span {
        self.labels.iter().find(|l| l.primary).map(|l| l.span).unwrap_or_default()
    }

    /// The name [`did_you_mean`] suggested in the help, which would replace the text of the
    /// primary span: the editor's quick fix.
    pub fn suggestion(&self) -> Option<&str> {
        let help = self.help.as_deref()?;
        help.strip_prefix("did you mean `")?.strip_suffix("`?")
    }
}

macro_rules! codes {
    ($($name:ident $id:literal $title:literal;)*) => {
        $(pub const $name: Code = Code { id: $id, title: $title };)*
        /// Every code hawser can report, in order.
        pub const ALL: &[Code] = &[$($name),*];
    };
}

/// The codes, grouped by hundreds: 0 syntax and structure, 1 value types, 2 references,
/// 3 resources, 4 workloads, 5 environments and overlays, 6 secrets, 7 the graph.
/// W codes are warnings about production risks; a spec can acknowledge them with `allow`.
pub mod code {
    use super::Code;
    codes! {
        SYNTAX "E0001" "invalid KDL syntax";
        UNKNOWN_NODE "E0002" "unknown node";
        UNKNOWN_PROPERTY "E0003" "unknown property";
        MISSING "E0004" "missing required argument, property or node";
        TOO_MANY_ARGS "E0005" "too many arguments";
        DUPLICATE_NODE "E0006" "given more than once";
        DUPLICATE_NAME "E0007" "name declared more than once";
        TYPE_ANNOTATION "E0008" "unexpected type annotation";
        NO_CHILDREN "E0009" "node takes no children";
        DUPLICATE_PROPERTY "E0010" "property given more than once";
        BEYOND_LIMITS "E0011" "spec beyond hawser's size or nesting limits";
        MORE_SYNTAX_ERRORS "E0012" "more syntax errors than hawser shows";
        WRONG_TYPE "E0101" "value of the wrong type";
        BAD_CPU "E0102" "invalid CPU quantity";
        BAD_BYTES "E0103" "invalid byte size";
        BAD_DURATION "E0104" "invalid duration";
        BAD_PORT "E0105" "port number out of range";
        BAD_NAME "E0106" "invalid name";
        BAD_ENV_NAME "E0107" "invalid environment variable name";
        BAD_CRON "E0108" "invalid cron expression";
        BAD_ENUM "E0109" "value not among the allowed words";
        OUT_OF_RANGE "E0110" "integer out of range";
        BAD_PATH "E0111" "invalid path";
        BAD_IMAGE "E0112" "invalid image reference";
        BAD_FORMAT "E0113" "malformed value";
        CONTROL_CHARACTER "E0114" "control character no target can carry";
        TEMPLATE_DELIMITER "E0115" "template delimiter in a value";
        UNKNOWN_SECRET "E0201" "reference to an undeclared secret";
        UNKNOWN_DEPENDENCY "E0202" "dependency on an undeclared workload or external";
        UNKNOWN_PORT "E0203" "reference to an undeclared port";
        DUPLICATE_PORT "E0204" "port declared twice in one workload";
        SELF_DEPENDENCY "E0205" "workload depends on itself";
        UNKNOWN_WORKLOAD "E0206" "reference to an undeclared workload";
        UNKNOWN_CODE "E0207" "unknown or unacknowledgeable diagnostic code";
        LIMIT_BELOW_REQUEST "E0301" "limit below request";
        AUTOSCALE_RANGE "E0302" "autoscale minimum above maximum";
        AUTOSCALE_TARGET "E0303" "autoscale without a target";
        AUTOSCALE_REQUEST "E0304" "autoscale target without a request";
        NO_SOURCE "E0401" "workload has neither build nor image";
        TWO_SOURCES "E0402" "workload has both build and image";
        IMAGE_ON_SYSTEMD "E0403" "prebuilt image on a systemd environment";
        PROBE_SHAPE "E0404" "malformed health check";
        METRICS_TIMEOUT "E0405" "scrape timeout longer than the interval";
        UDP_PORT "E0406" "UDP port where TCP is needed";
        DRAIN_AFTER_GRACE "E0407" "drain not shorter than the shutdown grace";
        EXEC_PROBE_PROGRAM "E0408" "exec health check runs a program the image does not hold";
        UNKNOWN_OVERLAY "E0501" "overlay of an undeclared workload, external or secret";
        OVERLAY_KIND "E0502" "overlay of the wrong kind of node";
        NULL_OUTSIDE_MAP "E0503" "#null outside a map";
        NOT_OVERRIDABLE "E0504" "setting that cannot change per environment";
        PLATFORM_SETTING "E0505" "platform setting missing or misplaced";
        KUBERNETES_VERSION "E0506" "Kubernetes version older than the output needs";
        CREDENTIAL_LITERAL "E0601" "credential written as a plain value";
        SECRET_PLATFORM "E0602" "secret source not available on the platform";
        SECRET_SOURCE "E0603" "secret without exactly one source";
        CYCLE "E0701" "dependency cycle";
        NOT_RUNNING "E0702" "dependency does not run in the environment";
        SCHEDULED_DEPENDENCY "E0703" "dependency on a scheduled job";
        HOST_PORT "E0801" "two workloads bind one port on a host";
        SYSTEMD_FLOOR "E0802" "setting the systemd floor cannot do";
        EXPOSURE_CONFLICT "E0901" "host and path exposed twice";
        TLS_SOURCE "E0902" "TLS without exactly one certificate source";
        TLS_PLATFORM "E0903" "TLS certificate source not available on the platform";
        EXPOSURE_SETTING "E0904" "exposure setting that does not fit the platform";
        HOST_TLS "E0905" "one host name with different TLS";
        NGINX_PORT "E0906" "workload binds a port nginx needs on the hosts";
        SERVICE_PORT_CLASH "E0907" "two ports of a Service on one number";
        NO_SERVICE "E0908" "Service setting on a workload without a Service";
        MOUNT_PATH "E0920" "mount path a program cannot be given";
        MOUNT_OVERLAP "E0921" "two mounts at one path";
        EPHEMERAL_STORAGE_SETTING "E0922" "claim setting on an ephemeral volume";
        PERSISTENT_JOB "E0923" "persistent volume on a job";
        STATEFUL_NAME "E0924" "name too long for a StatefulSet";
        INPUT_UNREADABLE "E0925" "configuration file not found or unreadable";
        INPUT_OUTSIDE "E0926" "configuration file not a plain file inside the spec's directory";
        INPUT_NOT_TEXT "E0927" "configuration file too large or not text";
        INPUT_CREDENTIAL "E0928" "credential in a configuration file";
        FILE_NAME_CLASH "E0929" "two configuration files with one file name";
        COMMAND_PROGRAM "E0930" "command runs a program the image does not hold";
        VOLUME_NAME "E0931" "volume name hawser uses itself";
        WRITABLE_PATH "E0932" "writable path a service cannot be given on hosts";
        UNKNOWN_REFERENCE "E0940" "reference to an undeclared service or external";
        REFERENCE_PORT "E0941" "reference to a port the service does not serve";
        NO_ADDRESS "E0942" "reference to something no workload may connect to";
        REFERENCE_SHAPE "E0943" "malformed reference";
        IMAGE_PATH "E0944" "file or binary the image cannot hold there";
        PREBUILT_IMAGE_SETTINGS "E0945" "image settings on a prebuilt image";
        PULL_SECRET "E0946" "pull secret that is not a registry credential";
        BAD_TOLERATION "E0947" "malformed toleration";
        BAD_NODE_AFFINITY "E0948" "malformed node affinity rule";
        DUPLICATE_STAMP "E0952" "Go variable stamped twice";
        PLATFORM_NEEDS_CGO "E0953" "platform Go cannot build without cgo";
        NO_READINESS "W0101" "service without a readiness check";
        NO_MEMORY_LIMIT "W0102" "workload without a memory limit";
        LATEST_TAG "W0103" "image without a pinned tag";
        SINGLE_REPLICA "W0104" "single replica in a production environment";
        REPLICAS_ON_SYSTEMD "W0105" "replicas above 1 on systemd";
        UNUSED_SECRET "W0106" "secret declared but never used";
        UNUSED_ALLOW "W0107" "allow that acknowledges nothing";
        OVERLAY_NOT_RUNNING "W0108" "overlay of a workload that does not run in the environment";
        AUTOSCALE_ON_SYSTEMD "W0109" "autoscale on systemd";
        DEVELOPMENT_VERSION "W0110" "deploy artifacts with a development version";
        UNREACHABLE_SERVICE "W0111" "service that nothing may connect to";
        UNREACHABLE_ADDRESS "W0112" "address in the environment that the workload cannot reach";
        CLOSED_LOAD_BALANCER "W0901" "NodePort or LoadBalancer port the NetworkPolicy closes";
        INPUT_CREDENTIAL_LIKE "W0910" "configuration file line that looks like a credential";
        CAPABILITY_ON_KUBERNETES "W0911" "capability a non-root container does not receive on Kubernetes";
        PLATFORM_OVERLAY "W0920" "setting for another platform in an environment's overlay";
        GO_MOD_VERSION "W0921" "Go version different from go.mod's";
        IMAGE_SOURCE "W0922" "file copied into an image that the module does not hold";
        IMAGE_ONLY_ON_HOSTS "W0923" "image contents a host does not get";
        WRITABLE_ON_KUBERNETES "W0924" "host path the program writes, read-only on Kubernetes";
    }
}

/// The long explanation of a code, from `stdlib/explain.md`.
pub fn explain(id: &str) -> Option<&'static str> {
    const TEXT: &str = include_str!("../../stdlib/explain.md");
    let id = id.to_ascii_uppercase();
    let heading = format!("## {id}");
    let start = TEXT.find(&format!("\n{heading}"))? + 1;
    let rest = &TEXT[start..];
    let end = rest[heading.len()..].find("\n## ").map_or(rest.len(), |i| i + heading.len() + 1);
    Some(rest[..end].trim_end())
}

pub fn lookup(id: &str) -> Option<Code> {
    code::ALL.iter().copied().find(|c| c.id.eq_ignore_ascii_case(id))
}

/// "did you mean `x`?" for the nearest candidate, when one is near enough.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    nearest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn list(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

// ---------------------------------------------------------------- syntax and structure

pub fn syntax_error(message: String, span: Span, label: Option<String>, help: Option<String>) -> Diagnostic {
    Diagnostic::new(code::SYNTAX, message, span, label).maybe_help(help)
}

/// A code point KDL 2.0 forbids anywhere in a document, comments included: control
/// characters, Delete, the bidirectional controls that can make text read differently
/// from how it parses, and a byte order mark after the start.
pub fn disallowed_code_point(c: char, span: Span) -> Diagnostic {
    let name = match c {
        '\u{7F}' => "DELETE",
        '\u{200E}' => "LEFT-TO-RIGHT MARK",
        '\u{200F}' => "RIGHT-TO-LEFT MARK",
        '\u{202A}' => "LEFT-TO-RIGHT EMBEDDING",
        '\u{202B}' => "RIGHT-TO-LEFT EMBEDDING",
        '\u{202C}' => "POP DIRECTIONAL FORMATTING",
        '\u{202D}' => "LEFT-TO-RIGHT OVERRIDE",
        '\u{202E}' => "RIGHT-TO-LEFT OVERRIDE",
        '\u{2066}' => "LEFT-TO-RIGHT ISOLATE",
        '\u{2067}' => "RIGHT-TO-LEFT ISOLATE",
        '\u{2068}' => "FIRST STRONG ISOLATE",
        '\u{2069}' => "POP DIRECTIONAL ISOLATE",
        '\u{FEFF}' => "BYTE ORDER MARK",
        _ => "a control character",
    };
    Diagnostic::new(
        code::SYNTAX,
        format!("U+{:04X} ({name}) may not appear in a KDL document", c as u32),
        span,
        "not allowed here".to_owned(),
    )
    .help("remove it; inside a quoted string, write it as an escape (`\\u{...}`) if the value really needs it".to_owned())
}

/// A `"""` string that does not start a new line after its opening quotes.
pub fn single_line_multiline_string(span: Span) -> Diagnostic {
    Diagnostic::new(
        code::SYNTAX,
        "a multi-line string must start with a newline after its opening `\"\"\"`".to_owned(),
        span,
        "single-line".to_owned(),
    )
    .help("write a value on one line as a plain string, `\"…\"` or `#\"…\"#`".to_owned())
}

pub fn unknown_node(name: &str, span: Span, parent: &str, known: &[&str]) -> Diagnostic {
    let place = if parent.is_empty() { "at the top level".to_owned() } else { format!("inside `{parent}`") };
    let d = Diagnostic::new(code::UNKNOWN_NODE, format!("unknown node `{name}` {place}"), span, "not known here".to_owned());
    match did_you_mean(name, known.iter().copied()) {
        Some(hint) => d.help(hint),
        None if known.is_empty() => d.help(format!("`{parent}` takes no child nodes")),
        None => d.help(format!("nodes allowed here: {}", list(known))),
    }
}

pub fn unknown_property(key: &str, span: Span, node: &str, known: &[&str]) -> Diagnostic {
    let d = Diagnostic::new(code::UNKNOWN_PROPERTY, format!("`{node}` has no property `{key}`"), span, "unknown property".to_owned());
    match did_you_mean(key, known.iter().copied()) {
        Some(hint) => d.help(hint),
        None if known.is_empty() => d.help(format!("`{node}` takes no properties")),
        None => d.help(format!("properties of `{node}`: {}", list(known))),
    }
}

pub fn missing_arg(node: &str, what: &str, ty: &str, span: Span) -> Diagnostic {
    Diagnostic::new(code::MISSING, format!("`{node}` needs its {what} argument"), span, format!("{what} ({ty}) missing"))
        .help(format!("give the {what} after `{node}`"))
}

pub fn missing_prop(node: &str, key: &str, span: Span, example: &str) -> Diagnostic {
    Diagnostic::new(code::MISSING, format!("`{node}` needs the property `{key}`"), span, format!("`{key}=` missing"))
        .help(format!("add `{key}={example}`"))
}

pub fn missing_node(parent: &str, child: &str, span: Span, doc: &str) -> Diagnostic {
    let msg = if parent.is_empty() { format!("the spec has no `{child}` node") } else { format!("`{parent}` needs a `{child}` node") };
    let d = Diagnostic::new(code::MISSING, msg, span, format!("no `{child}` here"));
    d.help(first_sentence(doc))
}

pub fn too_many_args(node: &str, expected: usize, span: Span) -> Diagnostic {
    let n = match expected {
        0 => "no arguments".to_owned(),
        1 => "one argument".to_owned(),
        n => format!("{n} arguments"),
    };
    Diagnostic::new(code::TOO_MANY_ARGS, format!("`{node}` takes {n}"), span, "unexpected argument".to_owned())
        .help("remove it, or if it was meant as a property, write it as `key=value`")
}

pub fn duplicate_node(name: &str, span: Span, first: Span) -> Diagnostic {
    Diagnostic::new(code::DUPLICATE_NODE, format!("`{name}` is given more than once"), span, "given again here".to_owned())
        .label(first, "first given here")
        .help(format!("keep one `{name}`; when two are given it is not clear which one is meant"))
}

pub fn duplicate_name(kind: &str, name: &str, span: Span, first: Span, first_kind: &str) -> Diagnostic {
    let msg = if kind == first_kind {
        format!("{kind} `{name}` is declared twice")
    } else {
        format!("{kind} `{name}` has the same name as {first_kind} `{name}`")
    };
    Diagnostic::new(code::DUPLICATE_NAME, msg, span, "declared again here".to_owned())
        .label(first, "first declared here")
        .help("names must be unique: rename one, or merge the two declarations")
}

pub fn type_annotation(ty: &str, span: Span, allowed: bool) -> Diagnostic {
    let d = Diagnostic::new(code::TYPE_ANNOTATION, format!("unexpected type annotation `({ty})`"), span, "not used here".to_owned());
    if allowed {
        d.help("the annotations hawser knows are `(secret)`, `(plain)`, `(address)`, `(host)` and `(port)`, on environment values: `DB_PASSWORD (secret)\"db-password\"`, `CART_ADDR (address)\"cart\"`")
    } else {
        d.help(
            "remove the annotation; `(secret)`, `(plain)`, `(address)`, `(host)` and `(port)` are only allowed on values in an `env` block",
        )
    }
}

pub fn no_children(node: &str, span: Span) -> Diagnostic {
    Diagnostic::new(code::NO_CHILDREN, format!("`{node}` takes no children block"), span, "unexpected block".to_owned())
        .help("remove the `{ … }` block; settings of this node are its arguments and properties")
}

pub fn duplicate_property(key: &str, span: Span, first: Span) -> Diagnostic {
    Diagnostic::new(code::DUPLICATE_PROPERTY, format!("property `{key}` is given twice"), span, "given again here".to_owned())
        .label(first, "first given here")
        .help("keep one; KDL silently keeps the last, which hides mistakes")
}

// ---------------------------------------------------------------- value types

pub fn wrong_type(expected: &str, found: &str, span: Span, help: Option<String>) -> Diagnostic {
    Diagnostic::new(code::WRONG_TYPE, format!("expected {expected}, found {found}"), span, found.to_string()).maybe_help(help)
}

/// A value that failed its type's own check; `code` says which type.
pub fn bad_value(code: Code, message: String, span: Span, label: String, help: Option<String>) -> Diagnostic {
    Diagnostic::new(code, message, span, label).maybe_help(help)
}

pub fn bad_enum(value: &str, allowed: &[String], span: Span) -> Diagnostic {
    let words: Vec<&str> = allowed.iter().map(String::as_str).collect();
    let d = Diagnostic::new(code::BAD_ENUM, format!("`{value}` is not one of {}", list(&words)), span, "not allowed here".to_owned());
    match did_you_mean(value, words.iter().copied()) {
        Some(h) => d.help(h),
        None => d.help(format!("use one of {}", list(&words))),
    }
}

pub fn out_of_range(value: i128, min: Option<i64>, max: Option<i64>, span: Span) -> Diagnostic {
    let range = match (min, max) {
        (Some(a), Some(b)) => format!("from {a} to {b}"),
        (Some(a), None) => format!("at least {a}"),
        (None, Some(b)) => format!("at most {b}"),
        (None, None) => "in range".to_owned(),
    };
    Diagnostic::new(code::OUT_OF_RANGE, format!("{value} is out of range: it must be {range}"), span, "out of range".to_owned())
}

// ---------------------------------------------------------------- references

pub fn unknown_secret(name: &str, span: Span, declared: &[&str]) -> Diagnostic {
    let d = Diagnostic::new(code::UNKNOWN_SECRET, format!("secret `{name}` is not declared"), span, "no such secret".to_owned());
    match did_you_mean(name, declared.iter().copied()) {
        Some(h) => d.help(h),
        None => d.help(format!("declare it at the top level with its source, e.g. `secret \"{name}\" vault=\"kv/data/…#key\"`")),
    }
}

pub fn unknown_dependency(name: &str, span: Span, known: &[&str]) -> Diagnostic {
    let d = Diagnostic::new(
        code::UNKNOWN_DEPENDENCY,
        format!("`{name}` is not a declared service, job or external"),
        span,
        "unknown dependency".to_owned(),
    );
    match did_you_mean(name, known.iter().copied()) {
        Some(h) => d.help(h),
        None => d.help(format!("declare it, e.g. `external \"{name}\" host=\"…\" port=…` for something the project does not run")),
    }
}

pub fn unknown_port(name: &str, span: Span, workload: &str, ports: &[&str]) -> Diagnostic {
    let d = Diagnostic::new(code::UNKNOWN_PORT, format!("`{workload}` declares no port `{name}`"), span, "no such port".to_owned());
    match did_you_mean(name, ports.iter().copied()) {
        Some(h) => d.help(h),
        None if ports.is_empty() => d.help(format!("declare it in `{workload}`: `port \"{name}\" 8080`")),
        None => d.help(format!("ports of `{workload}`: {}; or declare it: `port \"{name}\" 8080`", list(ports))),
    }
}

pub fn port_by_number(number: &str, span: Span) -> Diagnostic {
    Diagnostic::new(code::UNKNOWN_PORT, format!("`{number}` is a port number; this names a declared port"), span, "a number".to_owned())
        .help("write the name of a port the workload declares, e.g. `port=\"http\"` for `port \"http\" 8080`")
}

pub fn duplicate_port(what: &str, span: Span, first: Span, workload: &str) -> Diagnostic {
    Diagnostic::new(code::DUPLICATE_PORT, format!("port {what} is declared twice in `{workload}`"), span, "declared again here".to_owned())
        .label(first, "first declared here")
        .help("each port of a workload needs its own name and number")
}

pub fn self_dependency(name: &str, span: Span) -> Diagnostic {
    Diagnostic::new(code::SELF_DEPENDENCY, format!("`{name}` depends on itself"), span, "this is the workload itself".to_owned())
        .help("remove it from `depends-on`")
}

pub fn unknown_workload(name: &str, span: Span, known: &[&str]) -> Diagnostic {
    let d =
        Diagnostic::new(code::UNKNOWN_WORKLOAD, format!("`{name}` is not a declared service or job"), span, "unknown workload".to_owned());
    match did_you_mean(name, known.iter().copied()) {
        Some(h) => d.help(h),
        None => d.help(format!("declared workloads: {}", list(known))),
    }
}

pub fn unknown_code(id: &str, span: Span, is_error: bool) -> Diagnostic {
    if is_error {
        Diagnostic::new(code::UNKNOWN_CODE, format!("`{id}` is an error and cannot be acknowledged"), span, "an error code".to_owned())
            .help("only warnings (W codes) can be allowed; fix the error instead")
    } else {
        let ids: Vec<&str> = code::ALL.iter().filter(|c| c.id.starts_with('W')).map(|c| c.id).collect();
        Diagnostic::new(code::UNKNOWN_CODE, format!("`{id}` is not a hawser warning code"), span, "unknown code".to_owned())
            .help(format!("warning codes: {}", list(&ids)))
    }
}

// ---------------------------------------------------------------- resources

pub fn limit_below_request(what: &str, limit: &str, request: &str, limit_span: Span, request_span: Span) -> Diagnostic {
    Diagnostic::new(
        code::LIMIT_BELOW_REQUEST,
        format!("{what} limit {limit} is below the request {request}"),
        limit_span,
        "limit".to_owned(),
    )
    .label(request_span, "request")
    .help(format!("a {what} limit must be at least the request; raise the limit or lower the request"))
}

pub fn autoscale_range(min: i64, max: i64, min_span: Span, max_span: Span) -> Diagnostic {
    Diagnostic::new(code::AUTOSCALE_RANGE, format!("autoscale min={min} is above max={max}"), min_span, "minimum".to_owned())
        .label(max_span, "maximum")
        .help("min must be at most max")
}

pub fn autoscale_target(span: Span) -> Diagnostic {
    Diagnostic::new(code::AUTOSCALE_TARGET, "autoscale has no target to scale on", span, "no cpu-percent or memory-percent".to_owned())
        .help("add a target, e.g. `cpu-percent=70`")
}

pub fn autoscale_request(what: &str, span: Span, workload: &str) -> Diagnostic {
    let noun = if what == "cpu" { "CPU" } else { what };
    Diagnostic::new(
        code::AUTOSCALE_REQUEST,
        format!("autoscaling on {noun} needs a {noun} request on `{workload}`"),
        span,
        format!("{noun} target"),
    )
    .help(format!("utilisation is measured against the request: add `{what} request=…`"))
}

// ---------------------------------------------------------------- workloads

pub fn no_source(kind: &str, name: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        code::NO_SOURCE,
        format!("{kind} `{name}` says neither how to build it nor which image to run"),
        span,
        "no `build` or `image`".to_owned(),
    )
    .help(
        "add `build \"go\" main=\"./cmd/NAME\"` to build it, or `image \"registry/name:tag\"` to run a prebuilt image"
            .replace("NAME", name),
    )
}

pub fn two_sources(name: &str, build: Span, image: Span) -> Diagnostic {
    Diagnostic::new(code::TWO_SOURCES, format!("`{name}` has both `build` and `image`"), image, "image".to_owned())
        .label(build, "build")
        .help("keep one: `build` builds from source (and names the image), `image` runs a prebuilt one")
}

pub fn image_on_systemd(name: &str, span: Span, env: &str) -> Diagnostic {
    Diagnostic::new(
        code::IMAGE_ON_SYSTEMD,
        format!("`{name}` runs a prebuilt image, which environment `{env}` (systemd) cannot run"),
        span,
        "prebuilt image".to_owned(),
    )
    .help(format!("build it from source with `build`, or leave it out of `{env}` with `workloads`"))
}

pub fn probe_shape(message: String, span: Span, help: &str) -> Diagnostic {
    Diagnostic::new(code::PROBE_SHAPE, message, span, "here".to_owned()).help(help.to_owned())
}

pub fn metrics_timeout(timeout: &str, interval: &str, span: Span, interval_span: Span) -> Diagnostic {
    Diagnostic::new(
        code::METRICS_TIMEOUT,
        format!("scrape timeout {timeout} is longer than the interval {interval}"),
        span,
        "timeout".to_owned(),
    )
    .label(interval_span, "interval")
    .help("Prometheus rejects a timeout above the interval: shorten the timeout or lengthen the interval")
}

pub fn udp_port(port: &str, span: Span, used_for: &str) -> Diagnostic {
    Diagnostic::new(code::UDP_PORT, format!("port `{port}` is a UDP port, which {used_for} cannot use"), span, "UDP port".to_owned())
        .help(format!("{used_for} speaks TCP: name a TCP port of the workload"))
}

pub fn drain_after_grace(drain: &str, grace: &str, span: Span, grace_span: Option<Span>) -> Diagnostic {
    let d = Diagnostic::new(
        code::DRAIN_AFTER_GRACE,
        format!("drain {drain} is not shorter than the shutdown grace {grace}"),
        span,
        "drain".to_owned(),
    );
    let d = match grace_span {
        Some(g) => d.label(g, "grace"),
        None => d,
    };
    d.help("the drain delay counts against the grace period, so the process would be killed before it gets SIGTERM; make the grace longer than the drain plus the time the service needs to stop")
}

pub fn duplicate_item(what: &str, item: &str, span: Span, first: Span) -> Diagnostic {
    Diagnostic::new(code::DUPLICATE_NODE, format!("`{item}` is listed twice in `{what}`"), span, "listed again here".to_owned())
        .label(first, "first listed here")
        .help("remove the repetition")
}

pub fn version_shape(span: Span, both: bool) -> Diagnostic {
    if both {
        Diagnostic::new(code::TOO_MANY_ARGS, "`version` gives both a literal and `from=`", span, "two versions".to_owned())
            .help("keep one: `version \"1.4.2\"` or `version from=\"git\"`")
    } else {
        Diagnostic::new(code::MISSING, "`version` needs a literal version or `from=\"git\"`", span, "no version".to_owned())
            .help("write `version \"1.4.2\"`, or `version from=\"git\"` to take it from `git describe` at build time")
    }
}

pub fn zero_duration(what: &str, span: Span) -> Diagnostic {
    Diagnostic::new(code::BAD_DURATION, format!("a health check's {what} must be at least 1s"), span, "too short".to_owned())
        .help("Kubernetes counts probe timings in whole seconds, from 1")
}

// ---------------------------------------------------------------- environments and overlays

pub fn unknown_overlay(kind: &str, name: &str, span: Span, env: &str, known: &[&str]) -> Diagnostic {
    let d = Diagnostic::new(
        code::UNKNOWN_OVERLAY,
        format!("environment `{env}` changes {kind} `{name}`, which is not declared"),
        span,
        format!("no such {kind}"),
    );
    match did_you_mean(name, known.iter().copied()) {
        Some(h) => d.help(h),
        None => d.help(format!("an overlay changes a {kind} declared at the top level; declare `{kind} \"{name}\"` there first")),
    }
}

pub fn overlay_kind(written: &str, name: &str, actual: &str, span: Span, decl: Span) -> Diagnostic {
    Diagnostic::new(code::OVERLAY_KIND, format!("`{name}` is a {actual}, not a {written}"), span, format!("written as a {written}"))
        .label(decl, format!("declared as a {actual} here"))
        .help(format!("write `{actual} \"{name}\" {{ … }}` in the environment"))
}

pub fn null_outside_map(span: Span) -> Diagnostic {
    Diagnostic::new(code::NULL_OUTSIDE_MAP, "#null can only remove a key from a map", span, "#null here".to_owned())
        .help("in an overlay, `KEY #null` removes a key from `env`, `labels` and other maps; to change a setting, give its new value")
}

pub fn null_in_base(span: Span) -> Diagnostic {
    Diagnostic::new(code::NULL_OUTSIDE_MAP, "#null removes a key only in an environment overlay", span, "#null here".to_owned())
        .help("in the base spec, leave the key out instead")
}

pub fn not_overridable(what: &str, span: Span, why: &str) -> Diagnostic {
    Diagnostic::new(code::NOT_OVERRIDABLE, format!("`{what}` cannot change per environment"), span, "in an environment".to_owned())
        .help(why.to_owned())
}

pub fn platform_setting(message: String, span: Span, help: &str) -> Diagnostic {
    Diagnostic::new(code::PLATFORM_SETTING, message, span, "here".to_owned()).help(help.to_owned())
}

// ---------------------------------------------------------------- secrets

pub fn credential_literal(key: &str, span: Span) -> Diagnostic {
    let secret = key.to_ascii_lowercase().replace('_', "-");
    Diagnostic::new(code::CREDENTIAL_LITERAL, format!("`{key}` looks like a credential but holds a plain value"), span, "plain value in the spec".to_owned())
        .help(format!("declare a secret and refer to it: `secret \"{secret}\" vault=\"kv/data/…#key\"` at the top level, then `{key} (secret)\"{secret}\"`; if the value is not a credential, say so: `{key} (plain)\"…\"`"))
}

pub fn secret_platform(secret: &str, span: Span, env: &str, decl: Span) -> Diagnostic {
    Diagnostic::new(code::SECRET_PLATFORM, format!("secret `{secret}` comes from a Kubernetes Secret, which environment `{env}` (systemd) cannot read"), span, "used here".to_owned())
        .label(decl, "source declared here")
        .help(format!("give `{secret}` a source systemd can read (`vault=`, `env=` or `file=`), in an overlay of `{env}` if only that environment differs: `secret \"{secret}\" file=\"/etc/…\"`"))
}

pub fn secret_source(name: &str, span: Span, count: usize) -> Diagnostic {
    let msg = if count == 0 { format!("secret `{name}` has no source") } else { format!("secret `{name}` has {count} sources") };
    Diagnostic::new(code::SECRET_SOURCE, msg, span, "secret".to_owned())
        .help("give exactly one of `vault=\"path#key\"`, `env=\"VAR\"`, `file=\"/path\"` or `kubernetes=\"name/key\"`")
}

// ---------------------------------------------------------------- graph

pub fn cycle(nodes: &[String], edges: &[(Span, String)]) -> Diagnostic {
    let path = nodes.iter().chain(nodes.first()).map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" → ");
    let mut d = Diagnostic {
        code: code::CYCLE,
        message: format!("dependency cycle: {path}"),
        labels: Vec::new(),
        help: None,
        environments: Vec::new(),
    };
    for (i, (span, label)) in edges.iter().enumerate() {
        d.labels.push(Label { span: *span, message: Some(label.clone()), primary: i == 0 });
    }
    d.help("nothing on a cycle can start first; remove one of these dependencies")
}

pub fn not_running(dep: &str, span: Span, env: &str) -> Diagnostic {
    Diagnostic::new(code::NOT_RUNNING, format!("`{dep}` does not run in environment `{env}`"), span, "needed here".to_owned())
        .help(format!("add `{dep}` to the `workloads` of `{env}`, or declare what it stands for there as an `external`"))
}

pub fn scheduled_dependency(dep: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        code::SCHEDULED_DEPENDENCY,
        format!("`{dep}` is a scheduled job; nothing can wait for it to start"),
        span,
        "scheduled job".to_owned(),
    )
    .help("depend on services, run-once jobs and externals only")
}

// ---------------------------------------------------------------- warnings

pub fn no_readiness(name: &str, span: Span) -> Diagnostic {
    Diagnostic::new(code::NO_READINESS, format!("service `{name}` has no readiness check"), span, "service".to_owned())
        .help("without one, traffic reaches instances that are still starting; add `health { ready \"/readyz\" port=\"http\" }`, or `allow \"W0101\" reason=\"…\"`")
}

pub fn no_memory_limit(name: &str, span: Span) -> Diagnostic {
    Diagnostic::new(code::NO_MEMORY_LIMIT, format!("`{name}` has no memory limit"), span, "workload".to_owned()).help(
        "one leak can then take the whole host or node; add `memory request=\"256Mi\" limit=\"512Mi\"`, or `allow \"W0102\" reason=\"…\"`",
    )
}

pub fn latest_tag(image: &str, span: Span) -> Diagnostic {
    Diagnostic::new(code::LATEST_TAG, format!("image `{image}` is not pinned to a version"), span, "`latest` or no tag".to_owned())
        .help("`latest` changes under you and makes rollbacks guesswork; pin a version tag or a digest")
}

pub fn single_replica(name: &str, span: Span, env: &str) -> Diagnostic {
    Diagnostic::new(
        code::SINGLE_REPLICA,
        format!("service `{name}` runs a single replica in production environment `{env}`"),
        span,
        "one replica".to_owned(),
    )
    .help("one instance means downtime at every deploy and node failure; run at least 2, or `allow \"W0104\" reason=\"…\"`")
}

pub fn replicas_on_systemd(name: &str, span: Span, env: &str) -> Diagnostic {
    Diagnostic::new(
        code::REPLICAS_ON_SYSTEMD,
        format!("`{name}` asks for several replicas, but on systemd environment `{env}` each host runs one instance"),
        span,
        "replicas".to_owned(),
    )
    .help("list more hosts in `runs-on \"systemd\"` to run more instances; `replicas` is ignored there")
}

pub fn unused_secret(name: &str, span: Span) -> Diagnostic {
    Diagnostic::new(code::UNUSED_SECRET, format!("secret `{name}` is declared but no workload uses it"), span, "unused".to_owned())
        .help(format!("use it in an `env` block (`KEY (secret)\"{name}\"`) or remove the declaration"))
}

pub fn unused_allow(id: &str, span: Span) -> Diagnostic {
    Diagnostic::new(code::UNUSED_ALLOW, format!("`allow \"{id}\"` acknowledges nothing here"), span, "nothing to acknowledge".to_owned())
        .help("the warning it acknowledged no longer fires; remove the `allow` so it does not hide a later one")
}

pub fn overlay_not_running(name: &str, span: Span, env: &str) -> Diagnostic {
    Diagnostic::new(
        code::OVERLAY_NOT_RUNNING,
        format!("environment `{env}` changes `{name}`, which does not run there"),
        span,
        "has no effect".to_owned(),
    )
    .help(format!("add `{name}` to the `workloads` of `{env}`, or remove this overlay"))
}

pub fn autoscale_on_systemd(name: &str, span: Span, env: &str) -> Diagnostic {
    Diagnostic::new(
        code::AUTOSCALE_ON_SYSTEMD,
        format!("`{name}` autoscales, but systemd environment `{env}` cannot"),
        span,
        "ignored on systemd".to_owned(),
    )
    .help("autoscaling needs Kubernetes; on systemd each listed host runs one instance")
}

pub fn development_version(version: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        code::DEVELOPMENT_VERSION,
        format!("the version comes from git, so deploy artifacts use the development version `{version}`"),
        span,
        "`version from=\"git\"`".to_owned(),
    )
    .help("pass the release's version when generating for a deployment: `hawser generate --version 1.4.2` (CI passes the tag it builds)")
}

pub fn kubernetes_version(env: &str, span: Span, version: (u32, u32), needed: (u32, u32), draining: Option<(&str, Span)>) -> Diagnostic {
    let (message, help) = match draining {
        None => (
            format!("environment `{env}` targets Kubernetes {}.{}; hawser's manifests need {}.{} or later", version.0, version.1, needed.0, needed.1),
            "they use CronJob `timeZone`, PodDisruptionBudget `unhealthyPodEvictionPolicy` and `matchLabelKeys`; upgrade the clusters, or raise `kubernetes-version=`".to_owned(),
        ),
        Some((w, _)) => (
            format!(
                "`{w}` drains before it stops, which on Kubernetes needs {}.{} (`preStop` sleep), but environment `{env}` targets {}.{}",
                needed.0, needed.1, version.0, version.1
            ),
            format!("upgrade the clusters and raise `kubernetes-version=`, or give `{w}` `shutdown drain=\"0s\"` (services drain by default; its pods then stop without waiting for load balancers to forget them)"),
        ),
    };
    let d = Diagnostic::new(code::KUBERNETES_VERSION, message, span, "too old".to_owned()).help(help);
    match draining {
        Some((_, drain)) => d.label(drain, "drains here"),
        None => d,
    }
}

pub fn exec_probe_program(program: &str, span: Span, binary: &str) -> Diagnostic {
    Diagnostic::new(
        code::EXEC_PROBE_PROGRAM,
        format!("the health check runs `{program}`, but the image built for this workload holds only `/{binary}`"),
        span,
        "not in the image".to_owned(),
    )
    .help(format!(
        "the runtime image has no shell and no other programs, so the check can never pass; run the binary itself (`exec \"/{binary}\" \"-healthcheck\"`), or check over HTTP, TCP or gRPC"
    ))
}

pub fn unreachable_service(name: &str, span: Span, ports: &str) -> Diagnostic {
    Diagnostic::new(
        code::UNREACHABLE_SERVICE,
        format!("nothing may connect to `{name}`: no workload depends on it and none of its ports ({ports}) is `public`"),
        span,
        "unreachable".to_owned(),
    )
    .help(format!(
        "the generated NetworkPolicy admits only dependents (and Prometheus on the metrics port); add `public \"<port>\"` to `{name}` for clients outside the project (an ingress controller, other namespaces), add `depends-on \"{name}\"` to the workloads that call it, or `allow \"W0111\" reason=\"…\"`"
    ))
}

/// What is wrong with an address in a workload's environment.
#[derive(Clone, Copy, Debug)]
pub enum AddressProblem<'a> {
    /// The host is a workload that does not serve the port; its ports.
    Port(&'a str),
    /// The host is a workload the one with the variable does not depend on.
    NotADependency,
    /// The host is neither a workload nor an external of the environment.
    Unknown,
    /// The host is an external declared with another port; that port.
    ExternalPort(u16),
}

pub fn unreachable_address(
    key: &str,
    value: &str,
    span: Span,
    env: &str,
    workload: &str,
    host: &str,
    problem: AddressProblem,
) -> Diagnostic {
    let (message, help) = match problem {
        AddressProblem::Port(ports) => (
            format!("`{key}` points at `{value}`, but `{host}` does not serve that port (it serves {ports})"),
            format!("use one of `{host}`'s ports, or declare the port on `{host}`"),
        ),
        AddressProblem::NotADependency => (
            format!("`{key}` points at `{host}`, which `{workload}` does not depend on: the NetworkPolicy of `{env}` blocks it"),
            format!("add `depends-on \"{host}\"` to `{workload}`"),
        ),
        AddressProblem::Unknown => (
            format!("`{key}` points at `{host}`, which is neither a workload nor an external: the NetworkPolicy of `{env}` blocks it"),
            format!(
                "declare it, `external \"<name>\" host=\"{host}\" port=<port>`, and add it to `depends-on` of `{workload}`; if the program never connects to it (a URL for browsers), `allow \"W0112\" reason=\"…\"`"
            ),
        ),
        AddressProblem::ExternalPort(port) => (
            format!("`{key}` points at `{value}`, but the external `{host}` is declared with port {port}, the only one egress is open to"),
            format!("use port {port}, or declare the external with the port the program connects to"),
        ),
    };
    Diagnostic::new(code::UNREACHABLE_ADDRESS, message, span, "unreachable".to_owned()).help(help)
}

// ---------------------------------------------------------------- limits

pub fn too_deep(span: Span, max: usize) -> Diagnostic {
    Diagnostic::new(code::BEYOND_LIMITS, format!("the spec nests deeper than {max} levels"), span, format!("level {}", max + 1))
        .help("specs nest a few levels (environment, workload, setting); close the blocks left open, or flatten the nesting")
}

pub fn too_deep_slashdashed(span: Span, max: usize) -> Diagnostic {
    Diagnostic::new(
        code::BEYOND_LIMITS,
        format!("slashdashed blocks nest deeper than {max} levels"),
        span,
        format!("slashdashed block {}", max + 1),
    )
    .help("a `/-` comments out a node with all its blocks, so the `/-` inside it are not needed; remove them, or delete the commented-out text")
}

/// The syntax errors beyond [`crate::limits::MAX_SYNTAX_ERRORS`], counted.
pub fn more_syntax_errors(more: usize, first: Span) -> Diagnostic {
    let s = if more == 1 { "" } else { "s" };
    Diagnostic::new(code::MORE_SYNTAX_ERRORS, format!("{more} more syntax error{s} not shown"), first, "the next one is here".to_owned())
        .help("fix the errors above first: later ones are often caused by an earlier one, such as a quote or brace left open")
}

pub fn too_large(bytes: usize, max: usize) -> Diagnostic {
    Diagnostic::new(
        code::BEYOND_LIMITS,
        format!("the spec is larger than {} MiB ({bytes} bytes or more)", max >> 20),
        Span::new(0, 0),
        "the spec starts here".to_owned(),
    )
    .help("a spec describes a project in a few kilobytes; check that the right file was given, or split the project into several specs")
}

fn first_sentence(doc: &str) -> String {
    match doc.find(". ") {
        Some(i) => doc[..=i].to_owned(),
        None => doc.to_owned(),
    }
}

pub fn host_port(port: &str, span: Span, workload: &str, first: Span, first_workload: &str, env: &str) -> Diagnostic {
    Diagnostic::new(
        code::HOST_PORT,
        format!("`{workload}` and `{first_workload}` both bind port {port} on every host of environment `{env}`"),
        span,
        format!("`{workload}` binds it here"),
    )
    .label(first, format!("`{first_workload}` binds it here"))
    .help("every host of a systemd environment runs every workload, and only one process can bind a port: give one of them another port (in an overlay of the environment if only there they meet), or run them in different environments")
}

pub fn systemd_floor(what: &str, needs: u32, floor: u32, span: Span, env: &str, fix: &str) -> Diagnostic {
    Diagnostic::new(
        code::SYSTEMD_FLOOR,
        format!("{what} needs systemd {needs}, but environment `{env}` declares hosts as old as systemd {floor}"),
        span,
        format!("needs systemd >= {needs}"),
    )
    .help(format!("{fix}, or raise the floor when every host runs systemd {needs} or newer: `runs-on \"systemd\" min-version={needs}`"))
}

// ---------------------------------------------------------------- exposure

pub fn exposure_conflict(route: &str, span: Span, target: &str, first: Span, first_target: &str) -> Diagnostic {
    let message = if target == first_target {
        format!("`{route}` is exposed twice, both times to {target}")
    } else {
        format!("`{route}` is exposed to {target} and to {first_target}")
    };
    Diagnostic::new(code::EXPOSURE_CONFLICT, message, span, "exposed again here".to_owned())
        .label(first, "first exposed here")
        .help("a host name and path prefix route to one port: give one of them another host or path, or remove it")
}

pub fn tls_source(span: Span, given: &[&str]) -> Diagnostic {
    let message = match given {
        [] => "`tls` names no certificate".to_owned(),
        ["certificate"] => "`tls` names a certificate file but not its key".to_owned(),
        ["key"] => "`tls` names a key file but not its certificate".to_owned(),
        ["issuer-kind"] => "`tls` says what kind of issuer, but names none".to_owned(),
        many => format!("`tls` names {} certificate sources: {}", many.len(), list(many)),
    };
    Diagnostic::new(code::TLS_SOURCE, message, span, "tls".to_owned()).help(
        "give exactly one source: `issuer=\"letsencrypt\"` (cert-manager issues it), `secret=\"api-tls\"` (an existing Kubernetes Secret), or `certificate=\"/etc/…/fullchain.pem\" key=\"/etc/…/privkey.pem\"` (files on systemd hosts); an overlay of an environment can give it another",
    )
}

pub fn tls_platform(source: &str, span: Span, env: &str, platform: &str) -> Diagnostic {
    let (what, help) = if platform == "systemd" {
        (
            format!("environment `{env}` runs on systemd, where {source} cannot give nginx a certificate"),
            format!(
                "give the certificate's files on the hosts in an overlay of `{env}`: `tls certificate=\"/etc/…/fullchain.pem\" key=\"/etc/…/privkey.pem\"`"
            ),
        )
    } else {
        (
            format!("environment `{env}` runs on Kubernetes, where {source} cannot be read"),
            format!(
                "give a cert-manager issuer (`tls issuer=\"…\"`) or an existing TLS Secret (`tls secret=\"…\"`) in an overlay of `{env}`"
            ),
        )
    };
    Diagnostic::new(code::TLS_PLATFORM, what, span, "this certificate".to_owned()).help(help)
}

pub fn exposure_setting(message: String, span: Span, help: &str) -> Diagnostic {
    Diagnostic::new(code::EXPOSURE_SETTING, message, span, "here".to_owned()).help(help.to_owned())
}

pub fn host_tls(host: &str, span: Span, first: Span) -> Diagnostic {
    Diagnostic::new(code::HOST_TLS, format!("host `{host}` is exposed with different TLS"), span, "this TLS".to_owned())
        .label(first, "differs from this")
        .help("one host name has one certificate (or none) wherever it is exposed: give every `expose` of the host the same `tls`")
}

pub fn nginx_port(port: u16, span: Span, workload: &str, env: &str) -> Diagnostic {
    Diagnostic::new(
        code::NGINX_PORT,
        format!("`{workload}` binds port {port}, which nginx needs on every host of environment `{env}` to serve the exposed ports"),
        span,
        "bound here".to_owned(),
    )
    .help("only one process can bind a port: give the workload another port (nginx proxies to it), or expose nothing in this environment")
}

pub fn service_port_clash(number: u16, span: Span, first: Span, workload: &str) -> Diagnostic {
    Diagnostic::new(
        code::SERVICE_PORT_CLASH,
        format!("two ports of `{workload}`'s Service are both on port {number}"),
        span,
        "this Service port".to_owned(),
    )
    .label(first, "the other")
    .help("a Service listens on each port number once (per protocol): give one of them another `service-port=`")
}

pub fn no_service(workload: &str, span: Span, why: &str) -> Diagnostic {
    Diagnostic::new(code::NO_SERVICE, format!("`{workload}` has no Service for this to apply to: {why}"), span, "no Service".to_owned())
        .help("only a service with ports gets a Kubernetes Service; remove the setting")
}

pub fn closed_load_balancer(workload: &str, kind: &str, ports: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        code::CLOSED_LOAD_BALANCER,
        format!("`{workload}`'s {kind} Service forwards clients outside the cluster to {ports}, which its NetworkPolicy admits only from within"),
        span,
        kind.to_owned(),
    )
    .help(format!(
        "clients of the {kind} would time out: add `public \"<port>\"` for the ports they call, or `allow \"W0901\" reason=\"…\"` when the ports are meant for the cluster alone"
    ))
}

// ---------------------------------------------------------------- references in env values

pub fn unknown_reference(name: &str, span: Span, known: &[&str]) -> Diagnostic {
    let d = Diagnostic::new(
        code::UNKNOWN_REFERENCE,
        format!("`{name}` is not a declared service or external"),
        span,
        "nothing to resolve".to_owned(),
    );
    match did_you_mean(name, known.iter().copied()) {
        Some(h) => d.help(h),
        None if known.is_empty() => {
            d.help(format!("declare it: `external \"{name}\" host=\"…\" port=…` for something the project does not run"))
        }
        None => d.help(format!("services and externals: {}", list(known))),
    }
}

pub fn reference_port(port: &str, span: Span, target: &str, ports: &[&str]) -> Diagnostic {
    let d = Diagnostic::new(code::REFERENCE_PORT, format!("`{target}` declares no port `{port}`"), span, "no such port".to_owned());
    match did_you_mean(port, ports.iter().copied()) {
        Some(h) => d.help(h),
        None => d.help(format!("ports of `{target}`: {}", list(ports))),
    }
}

pub fn reference_port_missing(target: &str, span: Span, ports: &str) -> Diagnostic {
    Diagnostic::new(
        code::REFERENCE_PORT,
        format!("`{target}` serves several ports; the reference does not say which"),
        span,
        "which port?".to_owned(),
    )
    .help(format!("name one with `port=`: {ports}"))
}

pub fn no_address(message: String, span: Span, help: String) -> Diagnostic {
    Diagnostic::new(code::NO_ADDRESS, message, span, "no address".to_owned()).help(help)
}

pub fn reference_shape(message: String, span: Span, help: Option<String>) -> Diagnostic {
    Diagnostic::new(code::REFERENCE_SHAPE, message, span, "here".to_owned()).maybe_help(help.or_else(|| {
        Some("a reference is `KEY (address)\"service\" port=\"name\"` (with `scheme=` and `path=` for a URL), `(host)\"…\"` or `(port)\"…\"`".to_owned())
    }))
}

// ---------------------------------------------------------------- images

pub fn image_path(message: String, span: Span, help: &str) -> Diagnostic {
    Diagnostic::new(code::IMAGE_PATH, message, span, "here".to_owned()).help(help.to_owned())
}

pub fn image_settings_on_prebuilt(workload: &str, span: Span, image: Span) -> Diagnostic {
    Diagnostic::new(
        code::PREBUILT_IMAGE_SETTINGS,
        format!("`{workload}` runs a prebuilt image; `docker` settings are for images hawser builds"),
        span,
        "no image is built".to_owned(),
    )
    .label(image, "the prebuilt image")
    .help("pin the prebuilt image in `image` itself (`registry/name:tag@sha256:…`), or build the workload from source with `build`")
}

pub fn pull_secret_source(secret: &str, span: Span, kind: &str, decl: Span) -> Diagnostic {
    Diagnostic::new(
        code::PULL_SECRET,
        format!("secret `{secret}` comes from `{kind}=`; a pull secret must be an existing registry credential"),
        span,
        "not a registry credential".to_owned(),
    )
    .label(decl, "declared here")
    .help(format!(
        "`imagePullSecrets` names a Secret of type `kubernetes.io/dockerconfigjson`: declare it as `secret \"{secret}\" kubernetes=\"<secret-name>/.dockerconfigjson\"`"
    ))
}

pub fn image_source(source: &str, span: Span, symlink: bool) -> Diagnostic {
    let (message, label) = if symlink {
        (format!("`{source}` is a symbolic link: the image would hold the link, not what it points to"), "a symlink")
    } else {
        (format!("`{source}` is not in the module: the image build would stop at its `COPY`"), "not found")
    };
    Diagnostic::new(code::IMAGE_SOURCE, message, span, label.to_owned())
        .help("copy a file or directory the module holds, relative to the spec's directory; `allow \"W0922\" reason=\"…\"` when a build step creates it first")
}

// ---------------------------------------------------------------- scheduling

pub fn bad_toleration(message: String, span: Span, help: &str) -> Diagnostic {
    Diagnostic::new(code::BAD_TOLERATION, message, span, "here".to_owned()).help(help.to_owned())
}

pub fn bad_node_affinity(message: String, span: Span) -> Diagnostic {
    Diagnostic::new(code::BAD_NODE_AFFINITY, message, span, "here".to_owned()).help(
        "write `node-affinity \"LABEL\" \"In\" \"a\" \"b\"` (or `NotIn`), `node-affinity \"LABEL\" \"Exists\"` (or `DoesNotExist`), `node-affinity \"LABEL\" \"Gt\" \"4\"` (or `Lt`)".to_owned(),
    )
}

pub fn platform_overlay(block: &str, platform: &str, env: &str, workload: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        code::PLATFORM_OVERLAY,
        format!("environment `{env}` runs on {platform}, where the `{block}` settings of `{workload}` do nothing"),
        span,
        format!("ignored on {platform}"),
    )
    .help(format!("move them to the overlay of an environment that runs on {block}, or remove them; `allow \"W0920\" reason=\"…\"` when they are kept there on purpose"))
}

// ---------------------------------------------------------------- the Go build

pub fn duplicate_stamp(variable: &str, span: Span, first: Option<Span>, what: &str) -> Diagnostic {
    let d = Diagnostic::new(
        code::DUPLICATE_STAMP,
        format!("`{variable}` is the variable stamped with the {what}; `set` would stamp it again"),
        span,
        "stamped twice".to_owned(),
    )
    .help(format!("the Go linker keeps the last `-X` for a variable, so one of the two is lost: set another variable, or stamp the {what} elsewhere with `stamp {what}=\"…\"`"));
    match first {
        Some(f) => d.label(f, format!("the {what} goes here")),
        None => d,
    }
}

pub fn platform_needs_cgo(platform: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        code::PLATFORM_NEEDS_CGO,
        format!("Go cannot build `{platform}` without cgo, and hawser's builds are static and cgo-free"),
        span,
        "needs cgo".to_owned(),
    )
    .help("Go links Android (but `android/arm64`) and iOS executables with the C toolchain only; build those apps with their own SDKs, and leave the platform out here")
}

pub fn go_mod_version(spec: &str, module: &str, span: Span, given: bool) -> Diagnostic {
    let what = if given {
        format!("the spec builds with Go {spec}")
    } else {
        format!("the spec names no Go version, so images build with Go {spec}")
    };
    Diagnostic::new(
        code::GO_MOD_VERSION,
        format!("{what}, but the module's go.mod says `go {module}`"),
        span,
        format!("Go {spec}"),
    )
    .help(format!("build with the version the module is written for: `go \"{module}\"` in `project` (the builder images and build.sh follow it), or change go.mod's `go` line; `allow \"W0921\" reason=\"…\"` when the difference is meant"))
}

// ---------------------------------------------------------------- storage, files, commands

/// A volume or configuration file at a path the program cannot be given: `why` says what
/// is there, `fix` how to choose.
pub fn mount_path(path: &str, span: Span, why: &str, fix: &str) -> Diagnostic {
    Diagnostic::new(code::MOUNT_PATH, format!("nothing can be mounted at `{path}`: {why}"), span, "this path".to_owned())
        .help(fix.to_owned())
}

pub fn mount_overlap(path: &str, span: Span, other: &str, other_span: Span, workload: &str) -> Diagnostic {
    let message = if path == other {
        format!("`{workload}` mounts two things at `{path}`")
    } else {
        format!("`{workload}` mounts `{path}` inside `{other}`, which is mounted too")
    };
    Diagnostic::new(code::MOUNT_OVERLAP, message, span, "this mount".to_owned())
        .label(other_span, "and this one")
        .help("give every volume and file a path of its own, outside the others' (a file inside a volume's directory would be hidden on one platform and not on the other)")
}

pub fn ephemeral_storage_setting(setting: &str, span: Span, volume: &str) -> Diagnostic {
    Diagnostic::new(
        code::EPHEMERAL_STORAGE_SETTING,
        format!("volume `{volume}` is ephemeral, so it has no claim for `{setting}=` to shape"),
        span,
        "needs a persistent volume".to_owned(),
    )
    .help(format!("make the volume persistent (`persistent=#true`), or remove `{setting}=`"))
}

pub fn persistent_job(volume: &str, span: Span, job: &str) -> Diagnostic {
    Diagnostic::new(code::PERSISTENT_JOB, format!("job `{job}` asks for a persistent volume `{volume}`"), span, "persistent".to_owned()).help(
        "a job's runs are separate pods with nothing to keep between them; keep the data in a service (or an external store) the job depends on, or make the volume ephemeral",
    )
}

pub fn stateful_name(name: &str, span: Span, volume: Span) -> Diagnostic {
    Diagnostic::new(
        code::STATEFUL_NAME,
        format!("`{name}` has {} characters, but a service with a persistent volume may have at most 52", name.chars().count()),
        span,
        "too long for a StatefulSet".to_owned(),
    )
    .label(volume, "persistent volume")
    .help("Kubernetes labels each pod of a StatefulSet `controller-revision-hash=<name>-<10 characters>`, which must fit in 63 characters: shorten the name")
}

pub fn input_unreadable(source: &str, span: Span, why: &str) -> Diagnostic {
    Diagnostic::new(code::INPUT_UNREADABLE, format!("cannot read the configuration file `{source}`: {why}"), span, "this file".to_owned())
        .help("the path is relative to the spec's directory: put the file there, or correct the path")
}

pub fn input_outside(source: &str, span: Span, why: &str) -> Diagnostic {
    Diagnostic::new(code::INPUT_OUTSIDE, format!("the configuration file `{source}` {why}"), span, "not read".to_owned()).help(
        "hawser reads only regular files inside the spec's directory and never follows a symlink, so a repository cannot make it publish a file from elsewhere: copy the file to that path",
    )
}

pub fn input_not_text(source: &str, span: Span, why: &str) -> Diagnostic {
    Diagnostic::new(code::INPUT_NOT_TEXT, format!("the configuration file `{source}` {why}"), span, "not usable".to_owned()).help(
        "a configuration file is UTF-8 text of at most 512 KiB (a Kubernetes ConfigMap holds at most 1 MiB); build large or binary data into the image, or fetch it at runtime",
    )
}

pub fn input_credential(source: &str, span: Span, line: usize, what: &str) -> Diagnostic {
    Diagnostic::new(
        code::INPUT_CREDENTIAL,
        format!("the configuration file `{source}` holds {what} (line {line})"),
        span,
        "credential inside".to_owned(),
    )
    .help("configuration files are published in ConfigMaps, values files and releases, never as secrets: remove the credential from the file, declare a `secret` and pass it through `env`, and rotate it, since it has been committed")
}

pub fn input_credential_like(source: &str, span: Span, line: usize, key: &str) -> Diagnostic {
    Diagnostic::new(
        code::INPUT_CREDENTIAL_LIKE,
        format!("line {line} of the configuration file `{source}` gives `{key}` a value, which looks like a credential"),
        span,
        "this file".to_owned(),
    )
    .help(format!("pass credentials as secrets (`env {{ KEY (secret)\"name\" }}`) and let the file name the variable or file that holds them; if `{key}` is not a credential, acknowledge it: `allow \"W0910\" reason=\"…\"`"))
}

pub fn file_name_clash(key: &str, span: Span, other: Span, workload: &str) -> Diagnostic {
    Diagnostic::new(code::FILE_NAME_CLASH, format!("`{workload}` has two configuration files named `{key}`"), span, "this file".to_owned())
        .label(other, "and this one")
        .help("files are kept by their file name (the key in the workload's ConfigMap, the name in a release on hosts): give them different names")
}

pub fn command_program(program: &str, span: Span, binary: &str) -> Diagnostic {
    Diagnostic::new(
        code::COMMAND_PROGRAM,
        format!("the command runs `{program}`, but the image built for this workload holds only `/{binary}`"),
        span,
        "not in the image".to_owned(),
    )
    .help(format!(
        "a workload built from source runs its binary: start the command with `\"/{binary}\"` (`command \"/{binary}\" \"serve\"`), or pass the arguments with `args`"
    ))
}

pub fn volume_name(name: &str, span: Span) -> Diagnostic {
    Diagnostic::new(code::VOLUME_NAME, format!("a volume cannot be named `{name}`"), span, "taken".to_owned())
        .help("hawser names the pod volumes of /tmp `tmp`, of configuration files `files` and of secrets `secret-…`: choose another name")
}

pub fn image_only_on_hosts(workload: &str, paths: &[String], span: Span, env: &str) -> Diagnostic {
    let what = paths.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
    Diagnostic::new(
        code::IMAGE_ONLY_ON_HOSTS,
        format!("`{workload}`'s image holds {what}, which the hosts of systemd environment `{env}` do not get"),
        span,
        "only in the image".to_owned(),
    )
    .help(format!(
        "a host runs the workload's own binary, which the lifecycle script installs, and nothing else of the image: a program that reads these paths fails there. Give it what it reads as a `file` (installed on hosts too), leave `{workload}` out of the environment's `workloads`, or acknowledge it with `allow \"W0923\" reason=\"…\"` when the program does without them"
    ))
}

pub fn writable_on_kubernetes(workload: &str, path: &str, span: Span, env: &str) -> Diagnostic {
    Diagnostic::new(
        code::WRITABLE_ON_KUBERNETES,
        format!("`{workload}` writes `{path}` on hosts, but in Kubernetes environment `{env}` its container's file system is read-only there"),
        span,
        "writable on hosts only".to_owned(),
    )
    .help(format!(
        "`writable` opens a path of the host, which a pod does not have: when only the program uses the directory, make it a `volume` at that path instead (writable on every platform, kept with `persistent=#true`); when it is shared with the host's other programs, make the program do without it in the cluster, and acknowledge it with `allow \"W0924\" reason=\"…\"` in `{workload}`'s overlay of `{env}`"
    ))
}

pub fn writable_path(path: &str, span: Span, why: &str) -> Diagnostic {
    Diagnostic::new(code::WRITABLE_PATH, format!("a service cannot be given `{path}` to write: {why}"), span, "this path".to_owned()).help(
        "give it a directory of its own, such as `/var/spool/<program>` or `/srv/<program>`, or a `volume` for what it writes at a path of the service's own",
    )
}

pub fn writable_shared(path: &str, span: Span, workload: &str, other_path: &str, other_span: Span, other: &str, env: &str) -> Diagnostic {
    let message = if path == other_path {
        format!("`{workload}` and `{other}` are both given `{path}` to write in systemd environment `{env}`")
    } else {
        format!("`{workload}` is given `{path}` to write, inside `{other}`'s `{other_path}`, in systemd environment `{env}`")
    };
    Diagnostic::new(code::WRITABLE_PATH, message, span, "this path".to_owned()).label(other_span, "and this one").help(
        "the lifecycle script makes a writable path the service user's own (mode 0700), so only one service can write it: give each its own directory, and let one service own what they share",
    )
}

pub fn capability_on_kubernetes(capability: &str, span: Span, env: &str) -> Diagnostic {
    Diagnostic::new(
        code::CAPABILITY_ON_KUBERNETES,
        format!("`{capability}` is added to the container in environment `{env}`, but a non-root process does not receive it there"),
        span,
        "not effective on Kubernetes".to_owned(),
    )
    .help("Kubernetes sets no ambient capabilities, and the container runs as a non-root user without privilege escalation, so the program starts without it (and the pod no longer meets the restricted Pod Security Standard): make the program work without it there (unprivileged ICMP sockets instead of CAP_NET_RAW, say), or acknowledge it with `allow \"W0911\" reason=\"…\"`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_ordered() {
        for w in code::ALL.windows(2) {
            assert!(w[0].id < w[1].id || w[0].id.starts_with('E') && w[1].id.starts_with('W'), "{} then {}", w[0].id, w[1].id);
        }
    }

    #[test]
    fn every_code_has_an_explanation_with_an_example() {
        for c in code::ALL {
            let text = explain(c.id).unwrap_or_else(|| panic!("{} has no explanation in stdlib/explain.md", c.id));
            assert!(text.contains("```kdl"), "{} has no example", c.id);
        }
    }

    #[test]
    fn the_suggestion_is_read_back_from_did_you_mean() {
        let d = unknown_node("replica", Span::new(0, 7), "service", &["replicas", "port"]);
        assert_eq!(d.suggestion(), Some("replicas"));
        assert_eq!(unknown_node("xyz", Span::new(0, 3), "service", &["replicas"]).suggestion(), None);
    }

    #[test]
    fn did_you_mean_finds_near_names_only() {
        assert_eq!(nearest("replica", ["replicas", "port"]), Some("replicas"));
        assert_eq!(nearest("xyz", ["replicas", "port"]), None);
    }
}
