//! Emit: from a checked spec to the files of the output directory, as data.
//!
//! One module per target. Rust computes every value; the templates in `stdlib/templates/`
//! (embedded in the binary) lay them out. Nothing here touches the file system: each file
//! made goes to a [`Sink`], a sorted map from relative path to contents or the writer of
//! the output directory.

pub mod build;
pub mod docker;
pub mod helm;
pub mod inert;
pub mod kubernetes;
pub mod monitoring;
pub mod nginx;
pub mod prometheus;
pub mod runtime;
pub mod systemd;
pub mod templates;
pub mod yaml;

use std::collections::BTreeMap;

use crate::check::model::{Spec, Version};
use crate::diagnostics::{self as diag, Diagnostic};

/// What to generate.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The spec's file name (never a path), named in every file's header.
    pub spec_name: String,
    /// `--version`: the version of deploy artifacts when the spec takes it from git.
    pub version: Option<String>,
    /// `--env`: only these environments; all when empty.
    pub environments: Vec<String>,
    /// The output directory relative to the spec's directory, when it is inside it: the
    /// Docker build context leaves it out.
    pub output_dir: Option<String>,
    /// The configuration files the spec names, by their path relative to the spec's
    /// directory (`review::inputs::read` reads them).
    pub inputs: crate::check::inputs::Inputs,
}

/// One generated file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    pub contents: String,
    pub executable: bool,
}

/// Every generated file by its path relative to the output directory (`/`-separated).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Artifacts {
    pub files: BTreeMap<String, Artifact>,
}

/// Where the generators put each file as they make it: kept in memory ([`Artifacts`]), or
/// handed to the writer of the output directory, which writes it and lets it go (the
/// whole output of a large spec is never in memory at once). A path is made once: a second
/// file at the same path is a generator's bug, and an error.
pub trait Sink {
    /// Takes one file; an error stops the generation (a duplicate path, or the writer has
    /// stopped).
    fn put(&mut self, path: String, artifact: Artifact) -> Result<(), String>;

    /// A second way into this sink, for another thread to put files beside this one, when
    /// the sink takes files from two threads (the writer's); `None` when it cannot, and the
    /// other thread's files must come back through this one.
    fn beside(&self) -> Option<Box<dyn Sink + Send>> {
        None
    }
}

impl dyn Sink + '_ {
    fn add(&mut self, path: String, contents: String) -> Result<(), String> {
        self.put(path, Artifact { contents, executable: false })
    }

    fn add_executable(&mut self, path: String, contents: String) -> Result<(), String> {
        self.put(path, Artifact { contents, executable: true })
    }
}

/// Another thread's way into a sink: the sink's own second way in when it takes files from
/// two threads ([`Sink::beside`]), else a map of its own, whose files go into the sink once
/// that thread is done ([`Beside::done`]).
pub struct Beside {
    writer: Option<Box<dyn Sink + Send>>,
    kept: Artifacts,
}

impl Beside {
    pub fn new(out: &dyn Sink) -> Beside {
        Beside { writer: out.beside(), kept: Artifacts::default() }
    }

    /// Puts the files kept apart into `out`, on the thread that owns it.
    pub fn done(self, out: &mut dyn Sink) -> Result<(), String> {
        self.kept.files.into_iter().try_for_each(|(path, a)| out.put(path, a))
    }
}

impl Sink for Beside {
    fn put(&mut self, path: String, artifact: Artifact) -> Result<(), String> {
        match &mut self.writer {
            Some(writer) => writer.put(path, artifact),
            None => self.kept.put(path, artifact),
        }
    }
}

impl Sink for Artifacts {
    fn put(&mut self, path: String, artifact: Artifact) -> Result<(), String> {
        match self.files.entry(path) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(artifact);
                Ok(())
            }
            std::collections::btree_map::Entry::Occupied(o) => Err(format!("`{}` was generated twice", o.key())),
        }
    }
}

/// The version deploy artifacts carry, and whether it is a development stand-in.
pub fn deploy_version(spec: &Spec, opts: &Options) -> (String, bool) {
    match (&spec.base.project.version, &opts.version) {
        (_, Some(v)) => (v.clone(), false),
        (Version::Literal(v), None) => (v.value.clone(), false),
        (Version::Git, None) => (DEV_VERSION.to_owned(), true),
    }
}

/// The version deploy artifacts use when the spec takes it from git and `--version` is
/// not given: clearly not a release.
pub const DEV_VERSION: &str = "0.0.0-dev";

/// Diagnostics that depend on how `generate` is run, not on the spec alone.
pub fn run_diagnostics(spec: &Spec, opts: &Options) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let allowed = spec.base.project.allows.iter().any(|a| a.code.value == diag::code::DEVELOPMENT_VERSION.id);
    if deploy_version(spec, opts).1 && !allowed {
        out.push(diag::development_version(DEV_VERSION, spec.base.project.version_span));
    }
    out
}

/// Checks the options against the spec: a usage error names what is wrong. The strings
/// that come from the command line rather than the spec are validated here, against the
/// grammars the artifacts need: the spec's file name and the output directory (written
/// into scripts, comments and ignore files) and `--version` (an image tag).
pub fn check_options(spec: &Spec, opts: &Options) -> Result<(), String> {
    if let Err(why) = crate::check::values::file_name(&opts.spec_name) {
        return Err(format!(
            "the spec's file name `{}` cannot be written into the artifacts: {why}; rename the spec (hawser.kdl is usual)",
            crate::check::values::escape(&opts.spec_name)
        ));
    }
    if let Some(dir) = &opts.output_dir {
        for element in dir.split('/') {
            if let Err(why) = crate::check::values::file_name(element) {
                return Err(format!(
                    "the output directory `{}` cannot be written into the artifacts: `{}`: {why}; choose another --out",
                    crate::check::values::escape(dir),
                    crate::check::values::escape(element)
                ));
            }
        }
    }
    if let Some(version) = &opts.version
        && let Err(e) = crate::check::values::version(version)
    {
        return Err(format!("--version: {}; {}", e.message, e.help.unwrap_or_default()));
    }
    for e in &opts.environments {
        if !spec.environments.contains_key(e) {
            let known: Vec<&str> = spec.environments.keys().map(String::as_str).collect();
            let hint = diag::did_you_mean(e, known.iter().copied()).unwrap_or_else(|| format!("environments: {}", known.join(", ")));
            return Err(format!("the spec has no environment `{e}`; {hint}"));
        }
    }
    Ok(())
}

/// Generates every artifact of a checked spec. The spec must have no errors.
pub fn generate(spec: &Spec, opts: &Options) -> Result<Artifacts, String> {
    let mut out = Artifacts::default();
    generate_into(spec, opts, &mut out)?;
    Ok(out)
}

/// [`generate`], each file handed to `out` as it is made.
pub fn generate_into(spec: &Spec, opts: &Options, out: &mut dyn Sink) -> Result<(), String> {
    if let Some(missing) = crate::check::inputs::namings(spec).into_iter().find(|n| !opts.inputs.contains_key(&n.key)) {
        return Err(format!("the configuration file `{}` was not read (inputs::read reads what the spec names)", missing.source));
    }
    let env = templates::environment();
    let header = header(&opts.spec_name);
    build::emit(spec, opts, &env, &header, out)?;
    docker::emit(spec, opts, &env, &header, out)?;
    let kubernetes: Vec<&crate::check::model::Environment> =
        spec.environments.iter().filter(|(name, e)| selected(opts, name) && kubernetes::namespace(e).is_some()).map(|(_, e)| e).collect();

    // Each workload's alerts are made once for the charts that have it as the base spec
    // has it: the base values and those of each environment without an overlay on it.
    let made = kubernetes::values::MadeAlerts::new(spec);
    if kubernetes.is_empty() {
        return environments(spec, opts, &env, &header, None, &made, out);
    }
    // The chart's base values and files take a while, and only the environments' values
    // files wait for them: they are made on a thread of their own, beside the first
    // environment's manifests.
    std::thread::scope(|s| {
        let mut beside = Beside::new(out);
        let (kubernetes, header, made) = (&kubernetes, &header, &made);
        let begun = s.spawn(move || helm::begin(spec, opts, kubernetes, made, header, &mut beside).map(|chart| (chart, beside)));
        environments(spec, opts, &env, header, Some(begun), made, out)
    })
}

/// Whether `opts` generate environment `name`: `--env` names it, or names none.
fn selected(opts: &Options, name: &str) -> bool {
    opts.environments.is_empty() || opts.environments.iter().any(|e| e == name)
}

/// The chart's base values, being made ([`generate_into`]).
type Begun<'scope> = std::thread::ScopedJoinHandle<'scope, Result<(Option<helm::Values>, Beside), String>>;

/// Every selected environment's files; `begun` makes the chart's base values, needed from
/// the first environment's values file on; `made` holds the alerts the charts share.
///
/// A Kubernetes environment's chart values are computed once: its manifests are built from
/// them and its values file holds what they change; then they are freed. The values file
/// is written on a thread beside the manifests, so that neither waits for the other.
fn environments(
    spec: &Spec,
    opts: &Options,
    env: &templates::Templates,
    header: &str,
    mut begun: Option<Begun<'_>>,
    made: &kubernetes::values::MadeAlerts,
    out: &mut dyn Sink,
) -> Result<(), String> {
    let mut chart: Option<helm::Values> = None;
    for (name, environment) in &spec.environments {
        if !selected(opts, name) {
            continue;
        }
        systemd::emit(environment, &opts.inputs, env, header, out)?;
        nginx::emit(environment, env, header, out)?;
        prometheus::emit(environment, header, out)?;
        let Some(ns) = kubernetes::namespace(environment) else { continue };
        let values = kubernetes::values::environment_chart_sharing(spec, opts, environment, made);
        let (begun, chart, values) = (&mut begun, &mut chart, &values);
        let mut beside = Beside::new(out);
        let values_file = move || -> Result<Beside, String> {
            finish(begun.take(), chart, &mut beside)?;
            if let Some(chart) = chart.as_ref() {
                chart.environment(environment, values, header, &mut beside)?;
            }
            Ok(beside)
        };
        let beside = std::thread::scope(|s| {
            let values_file = s.spawn(values_file);
            let made = kubernetes::emit(values, ns, environment, header, out);
            let values_file = values_file.join().map_err(|_| "the thread writing the chart's values failed".to_owned());
            made.and(values_file?)
        })?;
        beside.done(out)?;
    }
    finish(begun, &mut chart, out)
}

/// Waits for the chart's base values, if they are still being made, and puts their files.
fn finish(begun: Option<Begun<'_>>, chart: &mut Option<helm::Values>, out: &mut dyn Sink) -> Result<(), String> {
    if let Some(begun) = begun {
        let (values, beside) = begun.join().map_err(|_| "the thread making the chart failed".to_owned())??;
        beside.done(out)?;
        *chart = values;
    }
    Ok(())
}

/// `bytes` in lowercase hexadecimal, two digits a byte (how digests are written).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xF)]));
    }
    s
}

/// The one-line header of every generated file that has comments. The spec's name is
/// written as [`inert::comment`] text, so that no file name can end the comment.
pub fn header(spec_name: &str) -> String {
    format!("generated by hawser from {}, do not edit", inert::comment(spec_name))
}
