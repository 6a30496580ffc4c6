//! Behaviour checks: the generated Kubernetes objects of every example and of every spec
//! under `tests/specs/`, evaluated the way a cluster would evaluate them, against what the
//! spec asks for.
//!
//! Validators check that each object is well formed; these rules check that the objects
//! work together (`rules.rs` holds them, one function per rule). Each rule has a broken
//! input under `tests/cluster/broken/<rule>.kdl` (and maybe more, `<rule>--<variant>.kdl`):
//! a spec that passes every rule as
//! generated, and an edit of its output (given in the spec's leading comments) that
//! reproduces a generator bug; the test requires that rule, and only it, to fail on the
//! edited output. Edits are comment lines of three forms:
//!
//! ```text
//! // set FILE KIND/NAME POINTER JSON      set a field (a JSON pointer) of one object
//! // remove FILE KIND/NAME POINTER        remove a field
//! // replace FILE OLD => NEW               replace text (for non-YAML files)
//! ```
//!
//! `KIND/*` names the first object of that kind in the file.

#[path = "../common/mod.rs"]
mod common;
mod rules;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// One Kubernetes environment's output, parsed: what the rules read.
pub struct Cluster<'a> {
    pub env: String,
    pub namespace: String,
    pub view: &'a hawser::check::model::View,
    /// Every object of `kubernetes/<env>/`, in file and document order.
    pub objects: Vec<Value>,
    /// `docker/<workload>.Dockerfile` texts, by workload.
    pub dockerfiles: BTreeMap<String, String>,
    /// Whether the environment's Prometheus is run by prometheus-operator (`monitoring=`).
    pub operator: bool,
    /// The Secrets the environment's pods pull their images with (`pull-secret`).
    pub pull_secrets: Vec<String>,
    /// The configuration files the spec names, by path relative to the spec.
    pub inputs: &'a hawser::check::inputs::Inputs,
}

/// A generated spec: its model, the configuration files it names and the files it
/// generates, by path.
struct Generated {
    spec: hawser::check::model::Spec,
    inputs: hawser::check::inputs::Inputs,
    files: BTreeMap<String, String>,
}

/// Generates the spec at `path`, reading the configuration files it names beside it.
fn generate(path: &Path) -> Generated {
    let text = std::fs::read_to_string(path).unwrap();
    let analysis = hawser::check(&text);
    let spec = analysis.spec.expect("model");
    let (inputs, input_diagnostics) = hawser::review::inputs::read(path.parent().expect("a directory"), &spec);
    let errors: Vec<_> = analysis
        .diagnostics
        .iter()
        .chain(&input_diagnostics)
        .filter(|d| d.severity() == hawser::diagnostics::Severity::Error)
        .map(|d| format!("{d:?}"))
        .collect();
    assert!(errors.is_empty(), "the spec has errors: {errors:?}");
    let opts = hawser::emit::Options {
        spec_name: "hawser.kdl".to_owned(),
        version: Some("1.0.0".to_owned()),
        inputs: inputs.clone(),
        ..Default::default()
    };
    let out = hawser::emit::generate(&spec, &opts).expect("generate");
    let files = out.files.into_iter().map(|(path, file)| (path, file.contents)).collect();
    Generated { spec, inputs, files }
}

/// Every finding of every rule for every Kubernetes environment of the output, each as
/// `rule: env: what`.
fn findings(g: &Generated) -> Vec<String> {
    let (spec, files) = (&g.spec, &g.files);
    let dockerfiles: BTreeMap<String, String> = files
        .iter()
        .filter_map(|(path, text)| Some((path.strip_prefix("docker/")?.strip_suffix(".Dockerfile")?.to_owned(), text.clone())))
        .collect();
    let mut out = Vec::new();
    for environment in spec.environments.values() {
        let Some(namespace) = hawser::emit::kubernetes::namespace(environment) else { continue };
        let env = environment.name.value.clone();
        let prefix = format!("kubernetes/{env}/");
        let mut objects = Vec::new();
        for (path, text) in files.iter().filter(|(p, _)| p.starts_with(&prefix)) {
            let docs: Vec<Value> = serde_saphyr::from_multiple(text).unwrap_or_else(|e| panic!("{path}: {e}"));
            objects.extend(docs.into_iter().filter(|d| !d.is_null()));
        }
        let cluster = Cluster {
            env: env.clone(),
            namespace: namespace.to_owned(),
            view: &environment.view,
            objects,
            dockerfiles: dockerfiles.clone(),
            operator: environment.prometheus_operator,
            pull_secrets: hawser::check::images::pull_secret_names(&environment.view, environment),
            inputs: &g.inputs,
        };
        for (rule, check) in rules::RULES {
            out.extend(check(&cluster).into_iter().map(|f| format!("{rule}: {env}: {f}")));
        }
    }
    out
}

fn spec_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .expect("examples")
        .filter_map(|e| Some(e.ok()?.path().join("hawser.kdl")))
        .filter(|p| p.exists())
        .collect();
    specs.extend(
        std::fs::read_dir(root.join("tests/specs"))
            .expect("tests/specs")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "kdl")),
    );
    specs.sort();
    specs
}

#[test]
fn every_example_and_spec_behaves() {
    let mut all = Vec::new();
    let mut kubernetes = 0;
    for path in spec_files() {
        let g = generate(&path);
        kubernetes += g.files.keys().filter(|p| p.starts_with("kubernetes/")).count();
        all.extend(findings(&g).into_iter().map(|f| format!("{}: {f}", path.display())));
    }
    assert!(kubernetes > 0, "no Kubernetes output was checked");
    assert!(all.is_empty(), "{} findings:\n{}", all.len(), all.join("\n"));
}

#[test]
fn every_rule_can_fail() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cluster/broken");
    let mut covered = Vec::new();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("broken dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "kdl"))
        .collect();
    cases.sort();
    for path in cases {
        // `RULE.kdl`, or `RULE--VARIANT.kdl` for another way the same rule can fail.
        let stem = path.file_stem().and_then(|s| s.to_str()).expect("name");
        let rule = stem.split("--").next().unwrap_or(stem).to_owned();
        assert!(rules::RULES.iter().any(|(r, _)| *r == rule), "{}: no rule named {rule}", path.display());
        let text = std::fs::read_to_string(&path).unwrap();
        let mut g = generate(&path);
        let before = findings(&g);
        assert!(before.is_empty(), "{}: fails before its edit:\n{}", path.display(), before.join("\n"));
        let edits = apply_edits(&text, &mut g.files);
        assert!(edits > 0, "{}: no edit", path.display());
        let after = findings(&g);
        assert!(!after.is_empty(), "{}: the edit breaks nothing the rules see", path.display());
        let others: Vec<&String> = after.iter().filter(|f| !f.starts_with(&format!("{rule}: "))).collect();
        assert!(others.is_empty(), "{}: other rules fail too:\n{others:?}", path.display());
        covered.push(rule);
    }
    let missing: Vec<&str> = rules::RULES.iter().map(|(r, _)| *r).filter(|r| !covered.iter().any(|c| c == r)).collect();
    assert!(missing.is_empty(), "rules without a broken input in tests/cluster/broken/: {missing:?}");
}

/// Applies the edits written in a broken spec's comments; returns how many there were.
fn apply_edits(text: &str, files: &mut BTreeMap<String, String>) -> usize {
    let mut count = 0;
    for line in text.lines().filter_map(|l| l.trim().strip_prefix("// ")) {
        let mut words = line.splitn(2, ' ');
        let (verb, rest) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        match verb {
            "replace" => {
                let (file, change) = rest.split_once(' ').expect("replace FILE OLD => NEW");
                let (old, new) = change.split_once(" => ").expect("replace FILE OLD => NEW");
                let contents = files.get_mut(file).unwrap_or_else(|| panic!("no file {file}"));
                assert!(contents.contains(old), "{file} has no {old:?}");
                *contents = contents.replacen(old, new, 1);
            }
            "set" | "remove" => {
                let parts: Vec<&str> = rest.splitn(4, ' ').collect();
                let (file, target, pointer) = (parts[0], parts[1], parts[2]);
                let contents = files.get_mut(file).unwrap_or_else(|| panic!("no file {file}"));
                let mut docs: Vec<Value> = serde_saphyr::from_multiple(contents).expect("yaml");
                docs.retain(|d| !d.is_null());
                let (kind, name) = target.split_once('/').expect("KIND/NAME");
                let doc = docs
                    .iter_mut()
                    .find(|d| d["kind"] == kind && (name == "*" || d["metadata"]["name"] == name))
                    .unwrap_or_else(|| panic!("{file} has no {target}"));
                let (parent, key) = pointer.rsplit_once('/').expect("pointer");
                let key = key.replace("~1", "/").replace("~0", "~");
                let parent = doc.pointer_mut(parent).unwrap_or_else(|| panic!("{target} has no {parent}"));
                if verb == "set" {
                    let value: Value = serde_json::from_str(parts[3]).expect("JSON value");
                    match parent {
                        Value::Array(items) => items[key.parse::<usize>().expect("index")] = value,
                        Value::Object(map) => {
                            map.insert(key, value);
                        }
                        _ => panic!("{pointer} is not in an object or array"),
                    }
                } else {
                    match parent {
                        Value::Array(items) => {
                            items.remove(key.parse::<usize>().expect("index"));
                        }
                        Value::Object(map) => assert!(map.remove(&key).is_some(), "{target} has no {pointer}"),
                        _ => panic!("{pointer} is not in an object or array"),
                    }
                }
                let mut text = String::new();
                for d in &docs {
                    text.push_str("---\n");
                    text.push_str(&hawser::emit::kubernetes::to_yaml(d).expect("yaml"));
                }
                *contents = text;
            }
            _ => continue,
        }
        count += 1;
    }
    count
}
