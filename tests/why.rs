//! `hawser why FILE:LINE` as a whole process: the spec values that produce a generated
//! line, and clear errors for a line past the end, a file outside an output directory, a
//! file hawser did not generate.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn hawser() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hawser"))
}

fn setup(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("why").join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/payments/hawser.kdl"), dir.join("hawser.kdl")).unwrap();
    let o = hawser().args(["generate", "--version", "1.0.0"]).current_dir(&dir).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    dir
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let o = hawser().arg("why").args(args).args(["--color", "never"]).env("COLUMNS", "100").current_dir(dir).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn line_of(dir: &Path, file: &str, starts: &str) -> usize {
    fs::read_to_string(dir.join(file)).unwrap().lines().position(|l| l.trim_start().starts_with(starts)).expect("line present") + 1
}

#[test]
fn a_memory_limit_line_points_at_the_overlay_that_sets_it() {
    let dir = setup("overlay");
    let file = "generated/kubernetes/prod/api.yaml";
    let line = line_of(&dir, file, "memory: 1Gi");
    let (code, out, err) = run(&dir, &[&format!("{file}:{line}"), "--version", "1.0.0"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("limit=\"1Gi\""), "{out}");
    assert!(out.contains("this value"), "{out}");
    let out = out.replace(dir.to_str().unwrap(), "[DIR]");
    insta::with_settings!({ snapshot_path => "../snapshots/why", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("kubernetes-memory-limit", out);
    });
}

#[test]
fn a_systemd_line_points_at_the_base_value() {
    let dir = setup("systemd");
    let file = "generated/systemd/dev/payments-api.service";
    let line = line_of(&dir, file, "MemoryMax=");
    let (code, out, err) = run(&dir, &[&format!("{file}:{line}")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("limit=\"512Mi\""), "{out}");
    assert!(!out.contains("1Gi"), "the prod overlay does not make the dev unit: {out}");
}

#[test]
fn the_header_is_hawsers_own() {
    let dir = setup("header");
    let (code, out, _) = run(&dir, &["generated/docker/api.Dockerfile:1"]);
    assert_eq!(code, 0);
    assert!(out.contains("hawser's own"), "{out}");
}

#[test]
fn bad_locations_are_usage_errors() {
    let dir = setup("errors");
    for (args, message) in [
        (vec!["generated/docker/api.Dockerfile:999"], "line 999 is not one of them"),
        (vec!["generated/docker/api.Dockerfile:0"], "line 0 is not one of them"),
        (vec!["generated/docker/api.Dockerfile"], "is not FILE:LINE"),
        (vec!["generated/docker/api.Dockerfile:x"], "is not a line number"),
        (vec!["hawser.kdl:1"], "not inside a hawser output directory"),
        (vec!["generated/nope.yaml:1"], "no such file"),
    ] {
        let (code, _, err) = run(&dir, &args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
    fs::write(dir.join("generated/NOTES.md"), "mine\n").unwrap();
    let (code, _, err) = run(&dir, &["generated/NOTES.md:1"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a file hawser generated"), "{err}");
}
