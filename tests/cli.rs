//! The command line as a whole process: exit codes, output formats, usage errors.

use std::path::{Path, PathBuf};
use std::process::Command;

fn hawser() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hawser"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("hawser runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn check_exit_codes() {
    let (code, _, err) = run(hawser().arg("check").arg(root().join("examples/payments/hawser.kdl")));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("no problems found"), "{err}");

    let (code, _, err) = run(hawser().arg("check").arg(root().join("tests/diagnostics_seed.kdl")));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("E0301"), "{err}");

    let (code, _, err) = run(hawser().args(["check", "does-not-exist.kdl"]));
    assert_eq!(code, 2);
    assert!(err.contains("cannot read does-not-exist.kdl"), "{err}");

    let (code, _, _) = run(hawser().args(["check", "--format", "yaml"]));
    assert_eq!(code, 2, "unknown format is a usage error");
}

#[test]
fn default_spec_is_hawser_kdl_in_the_current_directory() {
    let (code, _, err) = run(hawser().arg("check").current_dir(root().join("examples/payments")));
    assert_eq!(code, 0, "{err}");
    assert!(err.starts_with("hawser.kdl: "), "{err}");
}

#[test]
fn json_output_has_one_based_positions() {
    let dir = tempdir("json");
    let spec = dir.join("hawser.kdl");
    std::fs::write(
        &spec,
        "project \"x\" {\n    version \"1\"\n}\nservice \"api\" {\n    image \"nginx:1.27\"\n    memory limit=\"512MB\"\n}\n",
    )
    .unwrap();
    let (code, out, _) = run(hawser().args(["check", "--format", "json", "hawser.kdl"]).current_dir(&dir));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let d = v["diagnostics"].as_array().unwrap().iter().find(|d| d["code"] == "E0103").expect("E0103 reported");
    let label = &d["labels"][0];
    assert_eq!(label["start"]["line"], 6);
    assert_eq!(label["start"]["column"], 18);
    assert_eq!(label["end"]["column"], 25);
    assert!(d["help"].as_str().unwrap().contains("512Mi"));
    insta::with_settings!({ snapshot_path => "../snapshots/cli", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("check-json", out);
    });
}

#[test]
fn explain_every_code_and_reject_unknown_ones() {
    for code in hawser::diagnostics::code::ALL {
        let (status, out, _) = run(hawser().args(["explain", code.id]));
        assert_eq!(status, 0);
        assert!(out.starts_with(&format!("## {}: {}", code.id, code.title)), "{out}");
    }
    let (status, out, _) = run(hawser().args(["explain", "e0103"]));
    assert_eq!(status, 0, "codes are case-insensitive");
    assert!(out.contains("512Mi"));
    let (status, _, err) = run(hawser().args(["explain", "E0999"]));
    assert_eq!(status, 2);
    assert!(err.contains("not a hawser diagnostic code"), "{err}");
}

#[test]
fn graph_formats_and_unknown_environment() {
    let spec = root().join("examples/payments/hawser.kdl");
    let (code, out, _) = run(hawser().arg("graph").arg(&spec).args(["--format", "dot"]));
    assert_eq!(code, 0);
    assert!(out.starts_with("digraph \"payments\""));
    let (code, out, _) = run(hawser().arg("graph").arg(&spec).args(["--format", "mermaid"]));
    assert_eq!(code, 0);
    assert!(out.starts_with("flowchart LR"));
    let (code, _, err) = run(hawser().arg("graph").arg(&spec).args(["--env", "nope"]));
    assert_eq!(code, 2);
    assert!(err.contains("no environment `nope`"), "{err}");
    let (code, _, _) = run(hawser().arg("graph").arg(root().join("tests/diagnostics_seed.kdl")));
    assert_eq!(code, 1, "no graph of a spec with errors");
}

/// A fresh directory under the target dir, so tests write nothing else.
fn tempdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A spec on a pipe can be read once: `generate` and `generate --check` read it once, for
/// the cache's key, the check and the lock alike (reading it twice found an empty spec).
#[test]
fn a_spec_on_a_pipe_is_read_once() {
    use std::io::Write as _;
    let spec = std::fs::read(root().join("tests/specs/job-chain.kdl")).unwrap();
    let out = tempdir("a_spec_on_a_pipe_is_read_once").join("generated");
    for args in [&["generate"][..], &["generate", "--check"]] {
        let mut child = hawser()
            .args(args)
            .arg("--out")
            .arg(&out)
            .arg("/dev/stdin")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("hawser runs");
        child.stdin.take().unwrap().write_all(&spec).unwrap();
        let done = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&done.stderr);
        assert_eq!(done.status.code(), Some(0), "{args:?}: {err}");
    }
    assert!(out.join("hawser.lock").is_file());
}
