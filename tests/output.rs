//! `hawser generate` as a whole process against the output directory: ownership, atomic
//! replacement, foreign files, symlinks, unwritable places and interrupted runs.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn hawser() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hawser"))
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name).join("hawser.kdl")
}

/// A fresh directory for one test.
fn tempdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("output").join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn generate(spec: &Path, out: &Path) -> (i32, String) {
    let o = hawser().arg("generate").arg(spec).arg("--out").arg(out).args(["--version", "1.0.0"]).output().expect("runs");
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// Every file of a tree with its contents, sorted; the output directory's cache of stamps
/// (machine-local, new inodes each run) is not output and left out.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p == dir.join(hawser::review::output::CACHE_DIR) {
                continue;
            }
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                let bytes =
                    if ft.is_symlink() { fs::read_link(&p).unwrap().display().to_string().into_bytes() } else { fs::read(&p).unwrap() };
                out.push((rel, bytes));
            }
        }
    }
    out.sort();
    out
}

/// The lock names exactly the files present besides foreign ones, with their hashes.
fn consistent(out: &Path) -> bool {
    let Ok(text) = fs::read_to_string(out.join("hawser.lock")) else { return false };
    let Some(lock) = hawser::review::output::parse_lock(&text) else { return false };
    lock.files.iter().all(|(path, sha)| fs::read(out.join(path)).is_ok_and(|b| &hawser::review::output::sha256_hex(&b) == sha))
}

/// Under a umask that takes every bit but the owner's, each file still has the mode
/// hawser gives it (`0644`, a script `0755`), as its stamp in the cache says: a second run
/// finds nothing changed.
#[test]
fn a_narrow_umask_does_not_narrow_the_files() {
    let dir = tempdir("umask");
    let out = dir.join("generated");
    let spec = example("payments");
    let run = || {
        let script = format!("umask 077 && exec \"$0\" generate {} --out {} --version 1.0.0", spec.display(), out.display());
        let o = Command::new("sh").arg("-c").arg(script).arg(env!("CARGO_BIN_EXE_hawser")).output().expect("runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    run();
    let mut files = 0;
    for (rel, _) in tree(&out) {
        let meta = fs::symlink_metadata(out.join(&rel)).unwrap();
        if meta.file_type().is_file() {
            let want = if rel.ends_with(".sh") { 0o755 } else { 0o644 };
            assert_eq!(meta.permissions().mode() & 0o7777, want, "{rel}");
            files += 1;
        }
    }
    assert!(files > 30, "{files} files");
    assert!(run().contains("0 changed, 0 removed"), "a second run changes nothing");
}

#[test]
fn writes_a_locked_tree_and_rewrites_it_in_place() {
    let dir = tempdir("basic");
    let out = dir.join("generated");
    let (code, err) = generate(&example("payments"), &out);
    assert_eq!(code, 0, "{err}");
    assert!(consistent(&out));
    let mode = fs::metadata(out.join("build/build.sh")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
    let first = tree(&out);
    let (code, err) = generate(&example("payments"), &out);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 changed, 0 removed"), "{err}");
    assert_eq!(tree(&out), first, "a second run changes nothing");
    // Nothing is left beside the output.
    let siblings: Vec<String> = fs::read_dir(&dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(siblings, ["generated"]);
}

#[test]
fn default_output_is_generated_beside_the_spec() {
    let dir = tempdir("default");
    fs::copy(example("edge-agent"), dir.join("hawser.kdl")).unwrap();
    let o = hawser().args(["generate", "--version", "1.0.0"]).current_dir(&dir).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(consistent(&dir.join("generated")));
}

#[test]
fn files_it_no_longer_produces_are_removed_and_foreign_files_kept_untouched() {
    let dir = tempdir("foreign");
    let out = dir.join("generated");
    assert_eq!(generate(&example("payments"), &out).0, 0);
    let notes = out.join("systemd/dev/NOTES.md");
    fs::write(&notes, "hand-written notes\n").unwrap();
    let inode = fs::metadata(&notes).unwrap().ino();
    // A spec without the dev environment: its units go, the notes stay.
    let text = fs::read_to_string(example("payments")).unwrap();
    let start = text.find("environment \"dev\"").unwrap();
    let end = start + text[start..].find("\n}\n").unwrap() + 3;
    let spec = dir.join("hawser.kdl");
    fs::write(&spec, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let (code, err) = generate(&spec, &out);
    assert_eq!(code, 0, "{err}");
    assert!(!out.join("systemd/dev/payments-api.service").exists());
    assert_eq!(fs::read_to_string(&notes).unwrap(), "hand-written notes\n");
    assert_eq!(fs::metadata(&notes).unwrap().ino(), inode, "the foreign file itself was kept, not a copy");
    assert!(consistent(&out));
}

#[test]
fn a_foreign_file_in_the_way_is_an_error_and_nothing_changes() {
    let dir = tempdir("in-the-way");
    let out = dir.join("generated");
    assert_eq!(generate(&example("payments"), &out).0, 0);
    // Drop the Dockerfile from the lock: it is no longer hawser's, but hawser would write it.
    let lock = out.join("hawser.lock");
    let text = fs::read_to_string(&lock).unwrap();
    fs::write(&lock, text.lines().filter(|l| !l.ends_with("docker/api.Dockerfile")).map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    fs::write(out.join("docker/api.Dockerfile"), "FROM scratch\n").unwrap();
    let before = tree(&out);
    let (code, err) = generate(&example("payments"), &out);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("docker/api.Dockerfile exists and hawser does not own it"), "{err}");
    assert!(err.contains("nothing changed"), "{err}");
    assert_eq!(tree(&out), before);
}

#[test]
fn a_directory_without_a_lock_is_not_hawsers() {
    let dir = tempdir("no-lock");
    let out = dir.join("src");
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("main.go"), "package main\n").unwrap();
    let (code, err) = generate(&example("payments"), &out);
    assert_eq!(code, 2);
    assert!(err.contains("has no hawser.lock"), "{err}");
    assert_eq!(tree(&out).len(), 1);
}

#[test]
fn a_symlink_out_of_the_output_directory_is_refused() {
    let dir = tempdir("symlink");
    let out = dir.join("generated");
    assert_eq!(generate(&example("payments"), &out).0, 0);
    let elsewhere = dir.join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("docker/cache")).unwrap();
    let before = tree(&out);
    let (code, err) = generate(&example("payments"), &out);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("outside the output directory"), "{err}");
    assert_eq!(tree(&out), before);
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0, "nothing written through the link");
    // The output directory itself as a symlink is refused too.
    let link = dir.join("linked");
    std::os::unix::fs::symlink(&out, &link).unwrap();
    let (code, err) = generate(&example("payments"), &link);
    assert_eq!(code, 2);
    assert!(err.contains("is a symlink"), "{err}");
}

#[test]
fn an_unwritable_place_is_an_error() {
    // As root, permissions do not stop writes; a file where a directory must be does.
    let dir = tempdir("unwritable");
    fs::write(dir.join("file"), "x").unwrap();
    let (code, err) = generate(&example("payments"), &dir.join("file/generated"));
    assert_eq!(code, 2);
    assert!(err.contains("cannot create"), "{err}");
    let (code, err) = generate(&example("payments"), &dir.join("file"));
    assert_eq!(code, 2);
    assert!(err.contains("is a file, not a directory"), "{err}");
}

#[test]
fn spec_errors_write_nothing() {
    let dir = tempdir("spec-errors");
    let out = dir.join("generated");
    assert_eq!(generate(&example("payments"), &out).0, 0);
    let before = tree(&out);
    let spec = dir.join("hawser.kdl");
    fs::write(&spec, fs::read_to_string(example("payments")).unwrap().replace("replicas 2", "replicas -2")).unwrap();
    let (code, err) = generate(&spec, &out);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("nothing written"), "{err}");
    assert_eq!(tree(&out), before);
}

#[test]
fn an_unknown_environment_is_a_usage_error() {
    let dir = tempdir("unknown-env");
    let o = hawser().arg("generate").arg(example("payments")).arg("--out").arg(dir.join("g")).args(["--env", "prd"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did you mean `prod`?"));
    assert!(!dir.join("g").exists());
}

#[test]
fn an_interrupted_swap_is_finished_by_the_next_run() {
    let dir = tempdir("interrupted-swap");
    let out = dir.join("generated");
    assert_eq!(generate(&example("payments"), &out).0, 0);
    let before = tree(&out);
    // A run killed between its two renames leaves the old tree aside and no output.
    fs::rename(&out, dir.join(".generated.hawser-old")).unwrap();
    fs::create_dir_all(dir.join(".generated.hawser-new/half")).unwrap();
    let (code, err) = generate(&example("payments"), &out);
    assert_eq!(code, 0, "{err}");
    assert_eq!(tree(&out), before);
    assert!(!dir.join(".generated.hawser-old").exists() && !dir.join(".generated.hawser-new").exists());
}

/// Kills `generate` at different moments; the output is always a complete tree, the old
/// one or the new one, and the next run succeeds.
#[test]
fn a_killed_run_leaves_a_complete_tree() {
    let dir = tempdir("killed");
    let out = dir.join("generated");
    let small = dir.join("small.kdl");
    let big = dir.join("big.kdl");
    fs::write(&small, hawser::cli::synthetic::host_spec(5)).unwrap();
    fs::write(&big, hawser::cli::synthetic::host_spec(3000)).unwrap();
    assert_eq!(generate(&small, &out).0, 0);
    let small_tree = tree(&out);
    // Killed while the new tree is being written: the previous output is intact.
    let mut child =
        hawser().arg("generate").arg(&big).arg("--out").arg(&out).args(["--version", "1.0.0"]).stderr(Stdio::null()).spawn().unwrap();
    let new = dir.join(".generated.hawser-new/systemd");
    let mut caught = false;
    for _ in 0..20_000 {
        if new.exists() {
            caught = child.kill().is_ok();
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let _ = child.wait();
    assert!(caught, "the run finished before it could be killed mid-write");
    assert_eq!(tree(&out), small_tree, "a run killed mid-write changed the output");
    for delay_ms in [50u64, 500, 1500, 3000] {
        let mut child =
            hawser().arg("generate").arg(&big).arg("--out").arg(&out).args(["--version", "1.0.0"]).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        if out.exists() {
            assert!(consistent(&out), "after a kill at {delay_ms} ms the output is not a complete tree");
        } else {
            assert!(dir.join(".generated.hawser-old").exists(), "after a kill at {delay_ms} ms neither tree is there");
        }
        // The next run recovers and succeeds.
        let (code, err) = generate(&small, &out);
        assert_eq!(code, 0, "{err}");
        assert_eq!(tree(&out), small_tree);
    }
}
