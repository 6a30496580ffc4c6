//! The reviewer's commands as whole processes — `generate --check`, `diff`, `fmt`, `init`
//! and the `--format`s of `check` — driven by case files.
//!
//! Every file in `tests/review/cases/` is a case: a KDL list of steps run in a fresh
//! directory, and the output of its `run` and `show` steps is snapshotted in
//! `snapshots/review/`. Adding a case means adding a file. Steps:
//!
//! - `spec "PATH"`: copies a spec of this repository to `hawser.kdl`;
//! - `copy-dir "PATH" skip="NAME"`: copies a directory of this repository, leaving out `NAME`;
//! - `file "REL" "TEXT"`, `append "REL" "TEXT"`, `remove "REL"`, `chmod "REL" "MODE"`,
//!   `replace "REL" "FROM" "TO"`: change a file of the case's directory;
//! - `unlock "REL"`: drops `REL` (relative to `generated/`) from `generated/hawser.lock`;
//! - `run "ARG"…`: runs `hawser ARG…` there and records its exit code, stdout and stderr.
//!   A run of `generate --check`, `diff` or `fmt --check` must change no file: checked;
//! - `show "REL"`: records a file.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every file under `dir` with its contents and mode, sorted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                let mode = fs::symlink_metadata(&p).unwrap().permissions().mode();
                out.push((p.strip_prefix(dir).unwrap().display().to_string(), fs::read(&p).unwrap_or_default(), mode));
            }
        }
    }
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path, skip: Option<&str>) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if Some(name.as_str()) == skip || name == "generated" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name), skip);
        } else {
            fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

fn strings(node: &hawser::syntax::Node) -> Vec<String> {
    node.args
        .iter()
        .map(|a| match &a.value {
            hawser::syntax::Value::String(s) => s.clone(),
            other => panic!("step `{}` takes strings, got {other:?}", node.name.value),
        })
        .collect()
}

/// Runs one case file and returns its transcript.
fn run_case(case: &Path) -> String {
    let text = fs::read_to_string(case).unwrap();
    let (doc, diags) = hawser::syntax::parse(&text);
    let doc = doc.unwrap_or_else(|| panic!("{}: {diags:?}", case.display()));
    let name = case.file_stem().unwrap().to_str().unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("review").join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let mut transcript = String::new();
    for step in &doc.nodes {
        let args = strings(step);
        let arg = |i: usize| args.get(i).unwrap_or_else(|| panic!("{name}: step `{}` needs {} arguments", step.name.value, i + 1));
        match step.name.value.as_str() {
            "spec" => {
                fs::copy(root().join(arg(0)), dir.join("hawser.kdl")).unwrap();
            }
            "copy-dir" => {
                let skip = step.prop("skip").and_then(|e| match &e.value {
                    hawser::syntax::Value::String(s) => Some(s.clone()),
                    _ => None,
                });
                copy_dir(&root().join(arg(0)), &dir, skip.as_deref());
            }
            "file" => {
                let path = dir.join(arg(0));
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(path, arg(1)).unwrap();
            }
            "append" => {
                let path = dir.join(arg(0));
                let mut t = fs::read_to_string(&path).unwrap();
                t.push_str(arg(1));
                fs::write(path, t).unwrap();
            }
            "remove" => fs::remove_file(dir.join(arg(0))).unwrap(),
            "chmod" => {
                use std::os::unix::fs::PermissionsExt;
                let mode = u32::from_str_radix(arg(1), 8).unwrap();
                fs::set_permissions(dir.join(arg(0)), fs::Permissions::from_mode(mode)).unwrap();
            }
            "replace" => {
                let path = dir.join(arg(0));
                let t = fs::read_to_string(&path).unwrap();
                assert!(t.contains(arg(1)), "{name}: `{}` not found in {}", arg(1), arg(0));
                fs::write(path, t.replace(arg(1), arg(2))).unwrap();
            }
            "unlock" => {
                let lock = dir.join("generated/hawser.lock");
                let t = fs::read_to_string(&lock).unwrap();
                let suffix = format!("  {}", arg(0));
                assert!(t.lines().any(|l| l.ends_with(&suffix)), "{name}: {} is not in the lock", arg(0));
                fs::write(&lock, t.lines().filter(|l| !l.ends_with(&suffix)).map(|l| format!("{l}\n")).collect::<String>()).unwrap();
            }
            "run" => {
                let before = tree(&dir);
                let out = Command::new(env!("CARGO_BIN_EXE_hawser"))
                    .args(&args)
                    .current_dir(&dir)
                    .env("COLUMNS", "100")
                    .env_remove("NO_COLOR")
                    .output()
                    .expect("hawser runs");
                let read_only = args.iter().any(|a| a == "--check") || args.first().is_some_and(|a| a == "diff" || a == "check");
                if read_only {
                    assert_eq!(tree(&dir), before, "{name}: `hawser {}` changed files", args.join(" "));
                }
                transcript.push_str(&format!(
                    "$ hawser {}\n{}{}[exit {}]\n\n",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr),
                    out.status.code().unwrap_or(-1)
                ));
            }
            "show" => {
                transcript.push_str(&format!("$ cat {}\n{}\n", arg(0), fs::read_to_string(dir.join(arg(0))).unwrap()));
            }
            other => panic!("{name}: unknown step `{other}`"),
        }
    }
    transcript
}

#[test]
fn cases() {
    insta::glob!("review/cases/*.kdl", |path| {
        let transcript = run_case(path);
        insta::with_settings!({ snapshot_path => "../snapshots/review", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(transcript);
        });
    });
}

/// The SARIF log of every corpus spec has what code scanning needs (the full schema check is
/// `tests/ci/validate-sarif.sh`, with Python's jsonschema): version, tool, rules, and each
/// result's rule, level, message and a region of the spec with 1-based positions.
#[test]
fn sarif_has_what_code_scanning_needs() {
    insta::glob!("diagnostics/*.kdl", |path| {
        let text = fs::read_to_string(path).unwrap();
        let analysis = hawser::check(&text);
        let log: serde_json::Value =
            serde_json::from_str(&hawser::cli::render::sarif(&analysis.diagnostics, "hawser.kdl", &text, &[])).unwrap();
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "hawser");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), analysis.diagnostics.len());
        for r in results {
            let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
            assert_eq!(rule["id"], r["ruleId"]);
            assert!(matches!(r["level"].as_str(), Some("error" | "warning")));
            assert!(!r["message"]["text"].as_str().unwrap().is_empty());
            let region = &r["locations"][0]["physicalLocation"]["region"];
            assert!(region["startLine"].as_u64().unwrap() >= 1 && region["startColumn"].as_u64().unwrap() >= 1);
            assert!(region["endLine"].as_u64() >= region["startLine"].as_u64());
        }
    });
}
