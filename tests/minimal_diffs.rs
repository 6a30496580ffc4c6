//! Small changes to a spec give small diffs, checked as properties over every example:
//!
//! - a change in one environment touches only that environment's files of the workload it
//!   changes, and only a few lines of them;
//! - reordering declarations, environments' overlays and map keys changes nothing;
//! - renaming a workload changes only its files' names and the lines that mention it.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use hawser::emit::{self, Artifacts, Options};
use hawser::syntax::{Node, Value};
use proptest::prelude::*;

/// The examples, and a spec with two systemd environments.
fn examples() -> Vec<(String, String)> {
    let mut out = common::examples();
    out.push((
        "two-hosts".into(),
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/review/specs/two-hosts.kdl")).unwrap(),
    ));
    out.sort();
    out
}

/// Generates `text`, a spec of the example `name` (or a variant of it), with the
/// configuration files the example's directory holds.
fn generate(name: &str, text: &str) -> Artifacts {
    let analysis = hawser::check(text);
    assert!(!analysis.has_errors(), "spec has errors: {:?}\n{text}", analysis.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>());
    let dir = common::example_dir(name);
    let inputs = if dir.is_dir() { common::inputs(&dir, text) } else { hawser::check::inputs::Inputs::new() };
    let opts = Options { spec_name: "hawser.kdl".into(), version: Some("1.4.2".into()), inputs, ..Options::default() };
    emit::generate(analysis.spec.as_ref().unwrap(), &opts).unwrap()
}

fn doc(text: &str) -> Vec<Node> {
    hawser::syntax::parse(text).0.expect("parses").nodes
}

fn arg(node: &Node) -> Option<&str> {
    match &node.args.first()?.value {
        Value::String(s) => Some(s),
        _ => None,
    }
}

/// The byte offset just after the `{` that opens a node's children.
fn after_open(text: &str, node: &Node) -> usize {
    let head = node.head_span().end as usize;
    head + text[head..].find('{').expect("a children block") + 1
}

/// Paths whose contents differ, or that only one side has.
fn changed(a: &Artifacts, b: &Artifacts) -> BTreeSet<String> {
    let paths: BTreeSet<&String> = a.files.keys().chain(b.files.keys()).collect();
    paths.into_iter().filter(|p| a.files.get(*p).map(|x| &x.contents) != b.files.get(*p).map(|x| &x.contents)).cloned().collect()
}

fn changed_lines(a: Option<&str>, b: Option<&str>) -> usize {
    let diff = similar::TextDiff::from_lines(a.unwrap_or(""), b.unwrap_or(""));
    diff.iter_all_changes().filter(|c| c.tag() != similar::ChangeTag::Equal).count()
}

#[test]
fn a_change_in_one_environment_touches_only_its_files_and_lines() {
    for (name, text) in examples() {
        let reference = generate(&name, &text);
        let nodes = doc(&text);
        let spec = hawser::check(&text).spec.unwrap();
        for (env_name, env) in &spec.environments {
            let env_node = nodes.iter().find(|n| n.name.value == "environment" && arg(n) == Some(env_name)).unwrap();
            for (workload, w) in &env.view.workloads {
                let kind = if w.job().is_some() { "job" } else { "service" };
                // Add one variable to the workload's environment in this environment only.
                let overlay = env_node.children().iter().find(|n| n.name.value == kind && arg(n) == Some(workload));
                let mut mutated = text.clone();
                match overlay {
                    Some(o) => match o.children().iter().find(|n| n.name.value == "env") {
                        Some(env_block) => mutated.insert_str(after_open(&text, env_block), " HAWSER_PROBE \"1\";"),
                        None => mutated.insert_str(after_open(&text, o), "\nenv { HAWSER_PROBE \"1\" }\n"),
                    },
                    None => mutated
                        .insert_str(after_open(&text, env_node), &format!("\n{kind} \"{workload}\" {{ env {{ HAWSER_PROBE \"1\" }} }}\n")),
                }
                let after = generate(&name, &mutated);
                let paths = changed(&reference, &after);
                let belongs = |p: &str| hawser::review::counterpart(p, env_name, "other-environment").is_some();
                // The pods of a run-once job's dependents wait for the Job by its name, which
                // carries a digest of the job's values: a changed job changes that one line in
                // each dependent's file (and its pods roll after the new Job completed).
                let waiting: Vec<String> = if w.job().is_some_and(|j| j.schedule.is_none()) {
                    env.view
                        .workloads
                        .values()
                        .filter(|d| d.depends_on.iter().any(|x| x.value == *workload))
                        .map(|d| format!("kubernetes/{env_name}/{}.yaml", d.name.value))
                        .collect()
                } else {
                    Vec::new()
                };
                for p in &paths {
                    assert!(belongs(p), "{name}: a change to {workload} in {env_name} changed {p}");
                    if waiting.contains(p) {
                        let before = &reference.files[p].contents;
                        let now = &after.files[p].contents;
                        let lines = similar::TextDiff::from_lines(before.as_str(), now.as_str());
                        for change in lines.iter_all_changes().filter(|c| c.tag() != similar::ChangeTag::Equal) {
                            assert!(
                                change.value().trim_start().starts_with(&format!("- job/{workload}-")),
                                "{name}: a change to {workload} in {env_name} changed {p} beyond the Job it waits for: {change}"
                            );
                        }
                        continue;
                    }
                    // The chart's values file of the environment holds every workload's changes.
                    let env_values = p.starts_with("helm/") && p.ends_with(&format!("values-{env_name}.yaml"));
                    assert!(
                        env_values || p.contains(workload.as_str()),
                        "{name}: a change to {workload} in {env_name} changed {p}, another workload's file"
                    );
                    let n =
                        changed_lines(reference.files.get(p).map(|a| a.contents.as_str()), after.files.get(p).map(|a| a.contents.as_str()));
                    let new_file = !reference.files.contains_key(p);
                    // A workload's first non-secret variable brings its ConfigMap (and the
                    // container's envFrom) into being: one object more, nothing else. The
                    // workload may already have one, of its configuration files.
                    let config_maps = |a: &Artifacts| a.files[p].contents.matches("kind: ConfigMap\n").count();
                    let first_config = p.starts_with("kubernetes/") && !new_file && config_maps(&after) == config_maps(&reference) + 1;
                    // A run-once Job's name carries a digest of its values (its pod template
                    // is immutable): a changed job is a new Job, one line more each way, and
                    // so is the name in each Role that lets its dependents read it.
                    let renamed = if p.starts_with("kubernetes/") && reference.files[p].contents.contains("\nkind: Job\n") {
                        2 * (1 + reference.files[p].contents.matches("\nkind: Role\n").count())
                    } else {
                        0
                    };
                    let limit = if first_config { 24 } else { 4 } + renamed;
                    assert!(new_file || n <= limit, "{name}: adding one variable to {workload} in {env_name} changed {n} lines of {p}");
                }
                let has_files = reference.files.keys().any(|p| belongs(p));
                assert!(
                    !has_files || paths.iter().any(|p| after.files[p].contents.contains("HAWSER_PROBE")),
                    "{name}: {workload} in {env_name}: the variable is nowhere"
                );
            }
        }
    }
}

/// Reorders the lines inside every multi-line `env { … }` block.
fn shuffle_env_blocks(text: &str, seed: u64) -> String {
    let mut out = String::new();
    let mut block: Vec<&str> = Vec::new();
    let mut in_env = false;
    for line in text.lines() {
        let t = line.trim();
        if in_env && t == "}" {
            // A permutation per seed: rotate, then maybe reverse. A comment belongs to the
            // line after it, so blocks with comments keep their order.
            if !block.iter().any(|l| l.trim_start().starts_with("//")) {
                let n = block.len().max(1);
                block.rotate_left((seed as usize) % n);
                if seed % 2 == 1 {
                    block.reverse();
                }
            }
            for l in block.drain(..) {
                out.push_str(l);
                out.push('\n');
            }
            in_env = false;
        } else if in_env {
            block.push(line);
            continue;
        } else if t == "env {" {
            in_env = true;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn reordering_changes_nothing(seed in any::<u64>(), order in Just(()).prop_perturb(|_, mut rng| rng.next_u64())) {
        for (name, text) in examples() {
            let reference = generate(&name, &text);
            let mut parts = common::top_level_chunks(&text);
            // A permutation of the top-level declarations from the seed (Fisher–Yates).
            let mut state = order | 1;
            for i in (1..parts.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                parts.swap(i, (state % (i as u64 + 1)) as usize);
            }
            // And the keys of every env block.
            let reordered = shuffle_env_blocks(&parts.concat(), seed);
            prop_assert_eq!(generate(&name, &reordered), reference.clone(), "{}: reordering changed the output", name);
        }
    }
}

/// Renames a workload everywhere the spec names it: its declaration, `depends-on`,
/// `workloads` lists, overlays, and the addresses of it in environment values.
fn rename(text: &str, from: &str, to: &str) -> String {
    let mut spans = Vec::new();
    fn visit(nodes: &[Node], from: &str, to: &str, top: bool, in_env: bool, spans: &mut Vec<(usize, usize, String)>) {
        visit_in(nodes, from, to, top, in_env, false, spans)
    }
    fn visit_in(nodes: &[Node], from: &str, to: &str, top: bool, in_env: bool, values: bool, spans: &mut Vec<(usize, usize, String)>) {
        for n in nodes {
            let name = n.name.value.as_str();
            let declares = (top || in_env) && matches!(name, "service" | "job");
            let lists = matches!(name, "depends-on" | "workloads");
            for (i, a) in n.args.iter().enumerate() {
                let span = (a.span.start as usize, a.span.end as usize);
                // `CART_ADDR "cart:9000"` in an `env` block.
                if let (true, Value::String(s)) = (values, &a.value)
                    && let Some(found) = hawser::check::values::address(s).filter(|f| &s[f.host.clone()] == from)
                {
                    spans.push((span.0, span.1, format!("{:?}", format!("{}{to}{}", &s[..found.host.start], &s[found.host.end..]))));
                }
                // A reference in `env`, `(address)"cart"`, names the workload too.
                let reference = a.ty.as_ref().is_some_and(|t| matches!(t.value.as_str(), "address" | "host" | "port"));
                if matches!(&a.value, Value::String(s) if s == from) && ((declares && i == 0) || lists || reference) {
                    spans.push((span.0, span.1, format!("\"{to}\"")));
                }
                // The binary is named after the workload: an exec check that runs it follows.
                let exec = matches!(n.args.first().map(|x| &x.value), Some(Value::String(s)) if s == "exec");
                if exec && i == 1 && matches!(&a.value, Value::String(s) if *s == format!("/{from}")) {
                    spans.push((span.0, span.1, format!("\"/{to}\"")));
                }
            }
            visit_in(n.children(), from, to, false, top && name == "environment", name == "env", spans);
        }
    }
    visit(&doc(text), from, to, true, false, &mut spans);
    spans.sort();
    let mut out = text.to_owned();
    for (start, end, replacement) in spans.into_iter().rev() {
        out.replace_range(start..end, &replacement);
    }
    out
}

#[test]
fn renaming_a_workload_changes_only_its_files_and_references() {
    for (name, text) in examples() {
        let reference = generate(&name, &text);
        let spec = hawser::check(&text).spec.unwrap();
        for workload in spec.base.workloads.keys() {
            let to = format!("{workload}-renamed");
            let after = generate(&name, &rename(&text, workload, &to));
            let renamed = |p: &str| -> String {
                let (dir, file) = p.rsplit_once('/').unwrap_or(("", p));
                // The workload's name is the last one in a file name (`<project>-<workload>.service`).
                let file = match file.rfind(workload.as_str()) {
                    Some(i) if !after.files.contains_key(p) => format!("{}{to}{}", &file[..i], &file[i + workload.len()..]),
                    _ => file.to_owned(),
                };
                if dir.is_empty() { file } else { format!("{dir}/{file}") }
            };
            let expected: BTreeSet<String> = reference.files.keys().map(|p| renamed(p)).collect();
            let got: BTreeSet<String> = after.files.keys().cloned().collect();
            assert_eq!(got, expected, "{name}: renaming {workload} changed which files exist");
            for (path, a) in &reference.files {
                let b = &after.files[&renamed(path)];
                // Files that hold every workload (the chart's values, an environment's
                // Prometheus config) keep their maps sorted by name, so a renamed workload's
                // block moves: there the other lines must be the same lines, in any order.
                let shared = path.starts_with("helm/") || path.starts_with("prometheus/");
                // A ConfigMap's checksum follows its data: where a value names the workload
                // (an address, a reference: `cart.shop.svc.cluster.local:9000`), it changes
                // with it.
                let names_it = a.contents.lines().any(|l| l.contains(workload.as_str()));
                let keep = |s: &str| {
                    let mut lines = s
                        .lines()
                        .filter(|l| !l.contains(workload.as_str()))
                        .filter(|l| !(names_it && l.trim_start().starts_with("hawser.dev/config-checksum:")))
                        .map(str::to_owned)
                        .collect::<Vec<_>>();
                    if shared {
                        lines.sort();
                    }
                    lines
                };
                assert_eq!(
                    keep(&b.contents),
                    keep(&a.contents),
                    "{name}: renaming {workload} changed lines of {path} that do not mention it"
                );
            }
        }
    }
}
