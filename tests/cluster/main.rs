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
mod relabel;
mod releases;
mod rules;

use std::collections::{BTreeMap, BTreeSet};
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
    /// How exposed ports are reached from outside the cluster.
    pub exposure: Option<&'a hawser::check::model::Exposure>,
    /// `prometheus/<env>/` files (`prometheus.yml`, `rules.yml`), by file name.
    pub prometheus: BTreeMap<String, String>,
    /// Where the API server is (`api-server=`, or any address).
    pub api_server: String,
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
    generate_version(path, "1.0.0")
}

/// Generates the spec at `path` as the deploy version `version`.
fn generate_version(path: &Path, version: &str) -> Generated {
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
        version: Some(version.to_owned()),
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
        let objects = manifests(g, &env);
        let prometheus = files
            .iter()
            .filter_map(|(path, text)| Some((path.strip_prefix(&format!("prometheus/{env}/"))?.to_owned(), text.clone())))
            .collect();
        let cluster = Cluster {
            env: env.clone(),
            namespace: namespace.to_owned(),
            view: &environment.view,
            objects,
            dockerfiles: dockerfiles.clone(),
            operator: environment.prometheus_operator,
            exposure: environment.exposure.as_ref(),
            prometheus,
            api_server: environment.api_server.as_ref().map_or("0.0.0.0/0", |a| a.value.as_str()).to_owned(),
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
        eprintln!("{stem}: {}", after[0]);
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

/// The `scrape-config` rule sees each way a plain Prometheus configuration can go wrong,
/// beside the edit its broken input makes: a job that watches every namespace, one that
/// keeps pods of another project, one that no longer names the pod, one that drops the
/// pods that are not Ready, and an alert on `up` that selects another workload's targets.
#[test]
fn scrape_config_rule_sees_each_mistake() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cluster/broken/scrape-config.kdl");
    let g = generate(&path);
    assert!(findings(&g).is_empty());
    let selector = "    selectors:\n    - role: pod\n      label: app.kubernetes.io/instance=p,app.kubernetes.io/name=web\n";
    let mistakes: &[&[(&str, &str, &str)]] = &[
        &[("prometheus.yml", "    namespaces:\n      names:\n      - p\n", "    namespaces: {}\n")],
        &[("prometheus.yml", selector, ""), ("prometheus.yml", "regex: p;web;web;metrics", "regex: .*;web;web;metrics")],
        &[(
            "prometheus.yml",
            "    - __meta_kubernetes_pod_name\n    target_label: pod\n",
            "    - __meta_kubernetes_pod_name\n    target_label: pod_name\n",
        )],
        &[(
            "prometheus.yml",
            "    - __meta_kubernetes_pod_phase\n    regex: Succeeded|Failed\n",
            "    - __meta_kubernetes_pod_ready\n    regex: \"false\"\n",
        )],
        &[("rules.yml", "up{namespace=\"p\", workload=\"web\"} == 0", "up{namespace=\"p\"} == 0")],
    ];
    for edits in mistakes {
        let mut edited = Generated { spec: g.spec.clone(), inputs: g.inputs.clone(), files: g.files.clone() };
        for (file, old, new) in *edits {
            let key = format!("prometheus/prod/{file}");
            assert!(edited.files[&key].contains(old), "{key} has no {old:?}");
            let contents = edited.files[&key].replacen(old, new, 1);
            edited.files.insert(key, contents);
        }
        let found = findings(&edited);
        eprintln!("{edits:?}:\n  {}", found.join("\n  "));
        assert!(!found.is_empty(), "{edits:?} breaks nothing the rules see");
        assert!(found.iter().all(|f| f.starts_with("scrape-config: ")), "{found:?}");
    }
}

/// Two releases of the chart in one namespace — the documented one, named like the project,
/// and `<project>-canary` beside it — collide nowhere and cross nowhere (`releases.rs`), for
/// every Kubernetes environment of every example and spec; and the check fails on releases
/// that share names, read each other's configuration or ServiceAccount, or whose selectors
/// or NetworkPolicies reach the other release's pods.
#[test]
fn two_releases_share_a_namespace_without_crossing() {
    if !Path::new(releases::RENDER).exists() {
        // CI installs the validators and must run this; elsewhere it is skipped, loudly.
        assert!(std::env::var_os("CI").is_none_or(|v| v.is_empty()), "{} is not installed in CI", releases::RENDER);
        eprintln!("WARNING: skipped: {} is not installed (../shared/validators/install.sh)", releases::RENDER);
        return;
    }
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("releases");
    let mut checked = 0;
    let mut broken_input = None;
    let mut exposed_input = None;
    for path in spec_files() {
        let Generated { spec, files, .. } = generate(&path);
        let dir = tmp.join(path.parent().and_then(|p| p.file_name()).unwrap()).join(path.file_stem().unwrap());
        let _ = std::fs::remove_dir_all(&dir);
        for (file, contents) in files.iter().filter(|(p, _)| p.starts_with("helm/")) {
            std::fs::create_dir_all(dir.join(file).parent().unwrap()).unwrap();
            std::fs::write(dir.join(file), contents).unwrap();
        }
        let project = spec.base.project.name.value.clone();
        let chart = dir.join("helm").join(&project);
        for (env_name, env) in &spec.environments {
            let Some(namespace) = hawser::emit::kubernetes::namespace(env) else { continue };
            let canary = format!("{project}-canary");
            let first = releases::render(&chart, &project, namespace, env_name, &[]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let second = releases::render(&chart, &canary, namespace, env_name, &[]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let both = [(project.clone(), first), (canary.clone(), second)];
            let found = releases::findings(&env.view, namespace, &both);
            assert!(found.is_empty(), "{} {env_name}: {} findings:\n{}", path.display(), found.len(), found.join("\n"));
            checked += 1;
            if path.file_stem().is_some_and(|s| s == "expose-kubernetes") && env_name == "staging" {
                exposed_input = Some((env.view.clone(), both.clone()));
            }
            if project == "shop" && env_name == "prod" {
                broken_input = Some((chart.clone(), env.view.clone(), both));
            }
        }
    }
    assert!(checked > 0, "no Kubernetes environment was checked");

    // The check fails on charts that get it wrong.
    let (chart, view, both) = broken_input.expect("the shop example's prod environment");
    let (first, second) = (&both[0], &both[1]);
    // An edit of the second release's objects, or of both (a chart bug is in both).
    let edit_releases = |change: &dyn Fn(&mut Value), both: bool| -> Vec<String> {
        let mut a = first.1.clone();
        let mut b = second.1.clone();
        b.iter_mut().for_each(change);
        if both {
            a.iter_mut().for_each(change);
        }
        releases::findings(&view, "shop", &[(first.0.clone(), a), (second.0.clone(), b)])
    };
    let edit = |change: &dyn Fn(&mut Value)| edit_releases(change, false);
    // The same for a spec whose ports are exposed through an ingress controller, with a
    // certificate from cert-manager.
    let (exposed_view, exposed) = exposed_input.expect("the expose-kubernetes spec's staging environment");
    let edit_exposed = |change: &dyn Fn(&mut Value)| -> Vec<String> {
        let mut b = exposed[1].1.clone();
        b.iter_mut().for_each(change);
        releases::findings(&exposed_view, "storefront-staging", &[exposed[0].clone(), (exposed[1].0.clone(), b)])
    };
    let unprefixed = releases::render(&chart, &second.0, "shop", "prod", &["namePrefix="]).expect("renders");
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("names without the release's prefix", releases::findings(&view, "shop", &[first.clone(), (second.0.clone(), unprefixed)])),
        (
            "an address of the other release's Service",
            edit(&|o| {
                if o["kind"] == "ConfigMap" && o["metadata"]["name"] == "shop-canary-storefront" {
                    o["data"]["CART_ADDR"] = "cart:9000".into();
                }
            }),
        ),
        (
            "NetworkPolicies that select their peers by the workload's name alone",
            edit_releases(
                &|o| {
                    if o["kind"] == "NetworkPolicy" {
                        for (rules, peers) in [("ingress", "from"), ("egress", "to")] {
                            for rule in o["spec"][rules].as_array_mut().into_iter().flatten() {
                                for peer in rule[peers].as_array_mut().into_iter().flatten() {
                                    if let Some(labels) = peer["podSelector"]["matchLabels"].as_object_mut() {
                                        labels.remove("app.kubernetes.io/instance");
                                    }
                                }
                            }
                        }
                    }
                },
                true,
            ),
        ),
        (
            "a Service that selects the pods of the release named like the project",
            edit(&|o| {
                if o["kind"] == "Service" && o["metadata"]["name"] == "shop-canary-cart" {
                    o["spec"]["selector"]["app.kubernetes.io/instance"] = "shop".into();
                }
            }),
        ),
        (
            "a Deployment that runs as the other release's ServiceAccount",
            edit(&|o| {
                if o["kind"] == "Deployment" && o["metadata"]["name"] == "shop-canary-catalog" {
                    o["spec"]["template"]["spec"]["serviceAccountName"] = "catalog".into();
                }
            }),
        ),
        (
            "an Ingress that routes to the other release's Service",
            edit_exposed(&|o| {
                if o["kind"] == "Ingress" && o["metadata"]["name"] == "storefront-canary-web-http" {
                    for rule in o["spec"]["rules"].as_array_mut().into_iter().flatten() {
                        for p in rule["http"]["paths"].as_array_mut().into_iter().flatten() {
                            p["backend"]["service"]["name"] = "web".into();
                        }
                    }
                }
            }),
        ),
        (
            "an Ingress served with the certificate the other release's Certificate writes",
            edit_exposed(&|o| {
                if o["kind"] == "Ingress" && o["metadata"]["name"] == "storefront-canary-web-http" {
                    o["spec"]["tls"][0]["secretName"] = "web-http-tls".into();
                }
            }),
        ),
    ];
    for (case, found) in cases {
        eprintln!("{case}:\n  {}", found.iter().take(4).cloned().collect::<Vec<_>>().join("\n  "));
        assert!(!found.is_empty(), "the check accepts two releases with {case}");
    }
}

/// The Jobs of an environment's manifests (or of a rendered release), by name.
fn jobs_by_name(objects: &[Value]) -> BTreeMap<String, Value> {
    objects.iter().filter(|o| o["kind"] == "Job").map(|o| (rules::name(o).to_owned(), o.clone())).collect()
}

/// The objects of `kubernetes/<env>/`.
fn manifests(g: &Generated, env: &str) -> Vec<Value> {
    let prefix = format!("kubernetes/{env}/");
    let mut objects = Vec::new();
    for (path, text) in g.files.iter().filter(|(p, _)| p.starts_with(&prefix)) {
        let docs: Vec<Value> = serde_saphyr::from_multiple(text).unwrap_or_else(|e| panic!("{path}: {e}"));
        objects.extend(docs.into_iter().filter(|d| !d.is_null()));
    }
    objects
}

/// What goes wrong with run-once Jobs when the objects `after` are applied over `before`
/// (the next release, by `kubectl apply` or `helm upgrade`): a Job's spec is immutable once
/// created, so a Job of both with the same name must have the same spec, or the apply fails
/// with "field is immutable"; and a Job nothing waits for is deleted a while after it
/// finished (`ttlSecondsAfterFinished`), or every release leaves one more behind. (A Job
/// others wait for is kept: the `job-order` rule.) `waited` names the Jobs others wait for,
/// by workload.
fn upgrade_findings(before: &[Value], after: &[Value], waited: &BTreeSet<String>) -> Vec<String> {
    let (old, new) = (jobs_by_name(before), jobs_by_name(after));
    let mut out = Vec::new();
    for (name, job) in &new {
        if old.get(name).is_some_and(|o| o["spec"] != job["spec"]) {
            out.push(format!("Job {name} keeps its name but its spec changes: the apply fails, field is immutable"));
        }
        let workload = job["metadata"]["labels"]["app.kubernetes.io/component"].as_str().unwrap_or("");
        if !waited.contains(workload) && job["spec"]["ttlSecondsAfterFinished"].as_u64().is_none() {
            out.push(format!("Job {name}, which nothing waits for, is never deleted: every release leaves one more"));
        }
    }
    out
}

/// The run-once jobs that a workload of the environment depends on.
fn waited_jobs(view: &hawser::check::model::View) -> BTreeSet<String> {
    view.workloads
        .values()
        .flat_map(|w| w.depends_on.iter().map(|d| d.value.clone()))
        .filter(|d| view.workloads.get(d).is_some_and(|j| j.job().is_some_and(|j| j.schedule.is_none())))
        .collect()
}

/// Run-once Jobs survive upgrades. For every example and spec, the manifests of the deploy
/// versions 1.0.0 and 1.0.1 of each Kubernetes environment, applied one over the other: no
/// Job keeps its name with another spec (each is named by a digest of what it runs), and
/// the Jobs nothing waits for are deleted after they finished. The chart renders the same
/// objects as the manifests of its version (`tests/helm.rs`); here it is also upgraded with
/// a values change (a job's new image, as `helm upgrade --set` gives it), which must give
/// that job a new name. The check fails on Jobs with static names and on a Job nothing
/// waits for that is never deleted.
#[test]
fn run_once_jobs_survive_upgrades() {
    let mut compared = 0;
    let mut renamed = 0;
    let mut charts = 0;
    let mut broken_input = None;
    let render = Path::new(releases::RENDER).exists();
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("upgrades");
    for path in spec_files() {
        let (first, next) = (generate_version(&path, "1.0.0"), generate_version(&path, "1.0.1"));
        for (env_name, env) in &first.spec.environments {
            let Some(namespace) = hawser::emit::kubernetes::namespace(env) else { continue };
            let waited = waited_jobs(&env.view);
            let (before, after) = (manifests(&first, env_name), manifests(&next, env_name));
            let found = upgrade_findings(&before, &after, &waited);
            assert!(found.is_empty(), "{} {env_name}: {}", path.display(), found.join("\n"));
            compared += jobs_by_name(&after).len();
            renamed += jobs_by_name(&after).keys().filter(|n| !jobs_by_name(&before).contains_key(*n)).count();
            if path.ends_with("job-chain.kdl") {
                broken_input = Some((before.clone(), after.clone(), waited.clone()));
            }
            if !render || jobs_by_name(&before).is_empty() {
                continue;
            }
            // The chart, upgraded with a new image for each run-once job.
            let dir = tmp.join(path.parent().and_then(|p| p.file_name()).unwrap()).join(path.file_stem().unwrap());
            let _ = std::fs::remove_dir_all(&dir);
            for (file, contents) in first.files.iter().filter(|(p, _)| p.starts_with("helm/")) {
                std::fs::create_dir_all(dir.join(file).parent().unwrap()).unwrap();
                std::fs::write(dir.join(file), contents).unwrap();
            }
            let project = first.spec.base.project.name.value.clone();
            let chart = dir.join("helm").join(&project);
            let installed =
                releases::render(&chart, &project, namespace, env_name, &[]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let sets: Vec<String> = env
                .view
                .workloads
                .values()
                .filter(|w| w.job().is_some_and(|j| j.schedule.is_none()))
                .map(|w| format!("workloads.{}.image=mirror.example/{}:1.0.1", w.name.value, w.name.value))
                .collect();
            let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
            let upgraded =
                releases::render(&chart, &project, namespace, env_name, &sets).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let found = upgrade_findings(&installed, &upgraded, &waited);
            assert!(found.is_empty(), "{} {env_name} (chart): {}", path.display(), found.join("\n"));
            let (old, new) = (jobs_by_name(&installed), jobs_by_name(&upgraded));
            assert!(
                new.keys().all(|n| !old.contains_key(n)),
                "{} {env_name} (chart): a job with a new image keeps its Job's name: {:?}",
                path.display(),
                new.keys().collect::<Vec<_>>()
            );
            charts += 1;
        }
    }
    eprintln!("{compared} Jobs compared, {renamed} renamed by the new version; {charts} charts upgraded with new job images");
    assert!(compared > 0 && renamed == compared, "{renamed} of {compared} Jobs have a new name in the new version");
    if !render {
        assert!(std::env::var_os("CI").is_none_or(|v| v.is_empty()), "{} is not installed in CI", releases::RENDER);
        eprintln!("WARNING: the chart's part skipped: {} is not installed (../shared/validators/install.sh)", releases::RENDER);
    }

    // The check fails on Jobs named without their digest, and on a Job nothing waits for
    // that is kept for ever.
    let (before, after, waited) = broken_input.expect("tests/specs/job-chain.kdl");
    let static_names = |objects: &[Value]| -> Vec<Value> {
        let mut objects = objects.to_vec();
        for o in objects.iter_mut().filter(|o| o["kind"] == "Job") {
            o["metadata"]["name"] = o["metadata"]["labels"]["app.kubernetes.io/component"].clone();
        }
        objects
    };
    let kept = |objects: &[Value]| -> Vec<Value> {
        let mut objects = objects.to_vec();
        for o in objects.iter_mut().filter(|o| o["kind"] == "Job") {
            if let Some(spec) = o["spec"].as_object_mut() {
                spec.remove("ttlSecondsAfterFinished");
            }
        }
        objects
    };
    for (case, found) in [
        ("static names", upgrade_findings(&static_names(&before), &static_names(&after), &waited)),
        ("a Job nothing waits for without a TTL", upgrade_findings(&kept(&before), &kept(&after), &waited)),
    ] {
        eprintln!("{case}:\n  {}", found.join("\n  "));
        assert!(!found.is_empty(), "the check accepts {case}");
    }
}
