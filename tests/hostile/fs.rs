//! Hostile cases about files: confinement, the output directory, concurrent runs, `fmt` and the lock.
//!
//! Every file in `tests/hostile/fs/` is a case: a KDL list of steps run in a fresh
//! directory, each `run` with its expected outcome (exit code, what stderr or stdout says),
//! and `untouched` steps asserting that files are exactly as a `snapshot` recorded them
//! (contents, mode, owner, inode; for directories mode, owner and entries). Adding a case
//! means adding a file. Beside the case directory is an "outside" directory standing for
//! everything hawser must never read or write; every run gets `HAWSER_CANARY` in its
//! environment and the outside files hold the same canary, and no run may print it.
//!
//! Steps (paths relative to the case directory; `{outside}` in a text or a link target is
//! the outside directory's absolute path, `{canary}` the canary):
//!
//! - `spec "PATH"`: copies a spec of this repository to `hawser.kdl`;
//! - `file "REL" "TEXT"`, `outside "NAME" "TEXT"`, `replace "REL" "FROM" "TO"`,
//!   `remove "REL"`, `copy "FROM" "TO"` (a tree), `rename "FROM" "TO"`;
//! - `mkdir "REL" mode="OCTAL"`, `chmod "REL" "OCTAL"`, `chown "REL" "UID:GID"`,
//!   `symlink "REL" "TARGET"`, `hardlink "REL" "EXISTING"`, `fifo "REL"`,
//!   `sparse "REL" "BYTES"` (a file that size, with no data written);
//! - `lock-entry "PATH"`: adds a line for PATH to `generated/hawser.lock`;
//!   `lock-spec "NAME"`: makes the lock name the spec NAME;
//! - `save "REL" "STASH"`, `conflict "REL" "OURS" "THEIRS"`: writes REL as git leaves a
//!   file both sides changed, from two saved versions;
//! - `snapshot "REL"`, `untouched "REL"`, `has "REL" "TEXT"`, `symlink-to "REL" "TARGET"`,
//!   `same-file "A" "B"`, `absent "REL"`;
//! - `run "ARG"… exit=N stderr-has="…" stdout-has="…" stdout-lacks="…"`: runs hawser;
//! - `hold-lock "DIR" ms=N`: another process holds the output lock on DIR (the directory
//!   holding the output directory) for N ms, as a concurrent run would;
//! - `killed "ARG"… after-ms=N`: starts hawser and kills it (SIGKILL) after N ms;
//! - `race "ARG"… times=N`: N times, two runs at once, one with `--version 1.I.0` and one
//!   with `--version 2.I.0` appended (I the race's number: neither finds its tree already
//!   written, which the output cache would let it skip, so both write); after each,
//!   `generate --check` passes for one of the two versions and every snapshot is still
//!   untouched; at least one run must have found the other holding the output lock;
//! - `interrupted "OLD" "NEW" swap="beside|beside-two-renames|inside|inside-two-renames"`:
//!   the output holds version OLD; for every step k of a swap, a write towards the other
//!   version is stopped right after step k, as a kill there would stop it (a library hook:
//!   the command line has none); then `generate --check`, which first finishes or undoes
//!   what was interrupted, must pass for exactly one version and `diff` must agree, and
//!   every snapshot must be untouched. `inside` swaps entry by entry inside the output, as
//!   on a mount point; `two-renames` swaps as without `RENAME_EXCHANGE`. At every other
//!   step the files are made while the tree is written, as `generate` makes them. Ends
//!   with the write that runs to completion, after which nothing of hawser's is left over;
//! - `run … finishes=#true`: a reading command allowed to change files, because it first
//!   finishes a swap a killed run left half done;
//! - `in-mount "REL" { run …; sh "COMMAND" }`: the runs inside happen in a private mount
//!   namespace (`unshare -m`) where REL is a fresh tmpfs mount point; `sh` runs a shell
//!   command there (to remount it read-only, say).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use hawser::syntax::{Node, Value};

const CANARY: &str = "hawser-canary-7d1e0c5b";

/// The hawser under test: this build's, or `HOSTILE_HAWSER` (another build, to show that a
/// case fails where the protection it tests is missing).
fn binary() -> PathBuf {
    std::env::var_os("HOSTILE_HAWSER").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_hawser")), PathBuf::from)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One entry of a snapshot: what makes a file or directory "the same".
#[derive(Debug, PartialEq, Eq)]
enum Shot {
    File { contents: Vec<u8>, mode: u32, uid: u32, gid: u32, ino: u64 },
    Dir { mode: u32, uid: u32, gid: u32 },
    Symlink(PathBuf),
}

fn snapshot(path: &Path) -> BTreeMap<String, Shot> {
    let mut out = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let full = path.join(&rel);
        let Ok(meta) = fs::symlink_metadata(&full) else { continue };
        let key = rel.display().to_string();
        if meta.file_type().is_symlink() {
            out.insert(key, Shot::Symlink(fs::read_link(&full).unwrap()));
        } else if meta.is_dir() {
            out.insert(key, Shot::Dir { mode: meta.mode() & 0o7777, uid: meta.uid(), gid: meta.gid() });
            for e in fs::read_dir(&full).unwrap().flatten() {
                stack.push(rel.join(e.file_name()));
            }
        } else {
            // A FIFO is never opened (it would wait for a writer), a huge file not read.
            let contents = if meta.is_file() && meta.len() <= 1 << 24 {
                fs::read(&full).unwrap_or_default()
            } else {
                format!("({} bytes, mode {:o})", meta.len(), meta.mode()).into_bytes()
            };
            out.insert(key, Shot::File { contents, mode: meta.mode() & 0o7777, uid: meta.uid(), gid: meta.gid(), ino: meta.ino() });
        }
    }
    out
}

fn strings(node: &Node) -> Vec<String> {
    node.args
        .iter()
        .map(|a| match &a.value {
            Value::String(s) => s.clone(),
            other => panic!("step `{}` takes strings, got {other:?}", node.name.value),
        })
        .collect()
}

fn prop(node: &Node, name: &str) -> Option<String> {
    node.prop(name).map(|e| match &e.value {
        Value::String(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        other => panic!("`{name}` is {other:?}"),
    })
}

fn copy_tree(from: &Path, to: &Path) {
    let meta = fs::symlink_metadata(from).unwrap();
    if meta.is_dir() {
        fs::create_dir_all(to).unwrap();
        for e in fs::read_dir(from).unwrap().flatten() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        }
    } else if meta.file_type().is_symlink() {
        std::os::unix::fs::symlink(fs::read_link(from).unwrap(), to).unwrap();
    } else {
        fs::copy(from, to).unwrap();
    }
}

struct Case {
    name: String,
    dir: PathBuf,
    outside: PathBuf,
    snapshots: BTreeMap<String, BTreeMap<String, Shot>>,
    stashes: BTreeMap<String, String>,
    /// Processes holding the output lock (`hold-lock`), waited for at the end.
    holders: Vec<std::process::Child>,
}

impl Case {
    fn text(&self, s: &str) -> String {
        s.replace("{outside}", &self.outside.display().to_string()).replace("{canary}", CANARY)
    }

    fn hawser(&self, args: &[String]) -> Command {
        let mut c = Command::new(binary());
        c.args(args).current_dir(&self.dir).env("HAWSER_CANARY", CANARY).env("COLUMNS", "100").env("NO_COLOR", "1");
        c
    }

    /// Checks a run's outcome against the step's expectations.
    fn expect(&self, step: &Node, args: &[String], code: Option<i32>, stdout: &str, stderr: &str) {
        let what = format!("{}: `hawser {}`\nstdout:\n{stdout}\nstderr:\n{stderr}", self.name, args.join(" "));
        assert!(!stdout.contains(CANARY) && !stderr.contains(CANARY), "{what}\nprinted a file from outside");
        if let Some(exit) = prop(step, "exit") {
            assert_eq!(code, Some(exit.parse().unwrap()), "{what}");
        }
        for (key, out) in [("stderr-has", stderr), ("stdout-has", stdout)] {
            if let Some(text) = prop(step, key) {
                assert!(out.contains(&self.text(&text)), "{what}\nmissing: {text}");
            }
        }
        if let Some(text) = prop(step, "stdout-lacks") {
            assert!(!stdout.contains(&self.text(&text)), "{what}\nshould not print: {text}");
        }
    }

    fn run(&self, step: &Node, args: &[String]) {
        let read_only = (args.iter().any(|a| a == "--check") || args.first().is_some_and(|a| a == "diff" || a == "why"))
            && step.prop("finishes").is_none();
        let before = read_only.then(|| snapshot(&self.dir));
        let out = self.output(args);
        if let Some(before) = before {
            assert!(before == snapshot(&self.dir), "{}: `hawser {}` changed files", self.name, args.join(" "));
        }
        self.expect(step, args, out.status.code(), &String::from_utf8_lossy(&out.stdout), &String::from_utf8_lossy(&out.stderr));
    }

    /// Runs hawser to completion, killing it (and failing the case) after a minute: a run
    /// that waits forever on a hostile file must fail the test, not hang it.
    fn output(&self, args: &[String]) -> Output {
        use std::io::Read as _;
        let mut child = self.hawser(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("hawser runs");
        let drain = |mut r: Box<dyn std::io::Read + Send>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = r.read_to_end(&mut buf);
                buf
            })
        };
        let stdout = drain(Box::new(child.stdout.take().unwrap()));
        let stderr = drain(Box::new(child.stderr.take().unwrap()));
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > std::time::Duration::from_secs(60) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{}: `hawser {}` did not finish in a minute", self.name, args.join(" "));
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() }
    }

    fn assert_untouched(&self, rel: &str) {
        let shot = self.snapshots.get(rel).unwrap_or_else(|| panic!("{}: no snapshot of {rel}", self.name));
        assert!(*shot == snapshot(&self.dir.join(rel)), "{}: {rel} changed", self.name);
    }

    fn race(&self, step: &Node, args: &[String]) {
        let times: usize = prop(step, "times").map_or(100, |t| t.parse().unwrap());
        // How often one run found the lock taken: the runs did meet.
        let mut waited = 0;
        for i in 0..times {
            let with = |v: &str| {
                let mut a = args.to_vec();
                a.extend(["--version".to_owned(), v.to_owned()]);
                self.hawser(&a).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
            };
            let (v1, v2) = (format!("1.{i}.0"), format!("2.{i}.0"));
            let (first, second) = (with(&v1), with(&v2));
            for child in [first, second] {
                let out = child.wait_with_output().unwrap();
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert_eq!(out.status.code(), Some(0), "{}: race {i}: {stderr}", self.name);
                waited += usize::from(stderr.contains("waiting for another hawser run"));
            }
            let passes = |v: &str| {
                self.hawser(&["generate".into(), "--check".into(), "--version".into(), v.into()]).output().unwrap().status.success()
            };
            assert!(passes(&v1) || passes(&v2), "{}: race {i}: the output is neither run's", self.name);
            for rel in self.snapshots.keys() {
                self.assert_untouched(rel);
            }
        }
        assert!(waited > 0, "{}: in {times} races the two runs never met, so the race proves nothing", self.name);
        eprintln!("{}: {times} races of two runs, one waited for the other in {waited}; every output one run's whole tree", self.name);
    }

    fn killed(&self, step: &Node, args: &[String]) {
        let ms: u64 = prop(step, "after-ms").map_or(0, |t| t.parse().unwrap());
        let mut child = self.hawser(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(ms));
        let _ = child.kill();
        let _ = child.wait();
    }

    /// What `generate --version VERSION` writes for this case's spec, computed by the
    /// function the command line calls.
    fn generated(&self, version: &str) -> hawser::cli::generate::Generated {
        let request = hawser::cli::generate::OutputRequest {
            out: Some(self.dir.join("generated")),
            environments: Vec::new(),
            version: Some(version.to_owned()),
        };
        hawser::cli::generate::generate_in_memory(&self.dir.join("hawser.kdl"), request)
            .unwrap_or_else(|e| panic!("{}: the spec does not generate: {e:?}", self.name))
    }

    fn interrupted(&self, step: &Node, versions: &[String]) {
        let swap = prop(step, "swap").unwrap_or_else(|| panic!("{}: `interrupted` needs swap=", self.name));
        assert!(["beside", "beside-two-renames", "inside", "inside-two-renames"].contains(&swap.as_str()), "{}: swap={swap}", self.name);
        let out = self.dir.join("generated");
        let code = |args: &[&str]| {
            let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
            let o = self.output(&args);
            (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
        };
        let (mut current, mut other) = (versions[0].clone(), versions[1].clone());
        assert_eq!(code(&["generate", "--check", "--version", &current]).0, Some(0), "{}: the output is not {current}", self.name);
        for k in 1.. {
            let generated = self.generated(&other);
            // Every other step, the files are made while the tree is written, as
            // `generate` makes them, and the stop comes amid that.
            let replay = |sink: &mut dyn hawser::emit::Sink| {
                generated.artifacts.files.iter().try_for_each(|(path, a)| sink.put(path.clone(), a.clone()))
            };
            let files = if k % 2 == 0 {
                hawser::review::output::Files::Making(&replay)
            } else {
                hawser::review::output::Files::Made(&generated.artifacts)
            };
            let request = generated.checked.request(files);
            let faults = hawser::review::output::Faults {
                stop_after: Some(k),
                without_exchange: swap.ends_with("two-renames"),
                inside: swap.starts_with("inside"),
            };
            let at = format!("{}: swap={swap}, stopped after step {k}", self.name);
            match hawser::review::output::write_with(&out, &request, faults) {
                Ok(_) => {
                    assert!(k > 2, "{at}: the swap has only {} steps", k - 1);
                    eprintln!("{}: swap={swap}: stopped after each of its {} steps, and completed", self.name, k - 1);
                    let (check, stderr) = code(&["generate", "--check", "--version", &other]);
                    assert_eq!(
                        check,
                        Some(0),
                        "{at}: the completed write does not check
{stderr}"
                    );
                    for (dir, prefix) in [(&out, ".hawser"), (&self.dir, ".generated.hawser")] {
                        let left: Vec<String> = fs::read_dir(dir)
                            .unwrap()
                            .flatten()
                            .map(|e| e.file_name().to_string_lossy().into_owned())
                            .filter(|n| n.starts_with(prefix) && n != hawser::review::output::CACHE_DIR)
                            .collect();
                        assert!(left.is_empty(), "{at}: left over after a complete write: {left:?}");
                    }
                    break;
                }
                Err(e) => assert!(e.stopped, "{at}: {}", e.message),
            }
            // The first command on the directory finishes or undoes the swap.
            let (old_check, stderr) = code(&["generate", "--check", "--version", &current]);
            let (new_check, _) = code(&["generate", "--check", "--version", &other]);
            match (old_check, new_check) {
                (Some(0), Some(1)) => {}
                (Some(1), Some(0)) => std::mem::swap(&mut current, &mut other),
                _ => panic!(
                    "{at}: --check gives {old_check:?} for {current} and {new_check:?} for {other}
{stderr}"
                ),
            }
            assert_eq!(code(&["diff", "--version", &current]).0, Some(0), "{at}: diff disagrees with --check");
            for rel in self.snapshots.keys() {
                self.assert_untouched(rel);
            }
        }
    }

    /// Runs the `run` steps inside a private mount namespace where `rel` is a tmpfs.
    fn in_mount(&self, step: &Node, rel: &str) {
        if Command::new("unshare").args(["-m", "true"]).status().map_or(true, |s| !s.success()) {
            assert!(std::env::var_os("CI").is_none(), "{}: unshare -m is not available, and CI must run this case", self.name);
            eprintln!("warning: {}: skipped: `unshare -m` is not available (needs root)", self.name);
            return;
        }
        fs::create_dir_all(self.dir.join(rel)).unwrap();
        let runs: Vec<&Node> = step.children().iter().collect();
        let results = self.dir.join(".results");
        fs::create_dir_all(&results).unwrap();
        let mut script = format!("set -u\nmount -t tmpfs -o mode=0755 hawser-test '{rel}' || exit 99\n");
        for (i, run) in runs.iter().enumerate() {
            if run.name.value == "sh" {
                script.push_str(&format!("{} || exit 98\n", strings(run).join(" ")));
                continue;
            }
            assert_eq!(run.name.value, "run", "{}: in-mount holds only `run` and `sh` steps", self.name);
            let quoted: Vec<String> = strings(run).iter().map(|a| format!("'{a}'")).collect();
            script
                .push_str(&format!("\"$HAWSER\" {} >.results/{i}.out 2>.results/{i}.err; echo $? >.results/{i}.code\n", quoted.join(" ")));
        }
        // What the mount point holds at the end, hidden entries included.
        script.push_str(&format!("ls -A '{rel}' >.results/listing\n"));
        let out = Command::new("unshare")
            .args(["-m", "sh", "-c", &script])
            .current_dir(&self.dir)
            .env("HAWSER", binary())
            .env("HAWSER_CANARY", CANARY)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}: {}", self.name, String::from_utf8_lossy(&out.stderr));
        for (i, run) in runs.iter().enumerate().filter(|(_, r)| r.name.value == "run") {
            let read = |ext: &str| fs::read_to_string(results.join(format!("{i}.{ext}"))).unwrap();
            let code = read("code").trim().parse().ok();
            self.expect(run, &strings(run), code, &read("out"), &read("err"));
        }
        let listing = fs::read_to_string(results.join("listing")).unwrap();
        assert!(!listing.contains("hawser-new"), "{}: a staging tree was left in the mount point: {listing}", self.name);
        fs::remove_dir_all(&results).unwrap();
    }
}

fn run_case(path: &Path) {
    let text = fs::read_to_string(path).unwrap();
    let (doc, diags) = hawser::syntax::parse(&text);
    let doc = doc.unwrap_or_else(|| panic!("{}: {diags:?}", path.display()));
    let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-fs");
    let dir = base.join(&name);
    let outside = base.join(format!("{name}-outside"));
    for d in [&dir, &outside] {
        if d.exists() {
            // A previous run may have left read-only directories behind.
            let _ = Command::new("chmod").args(["-R", "u+w"]).arg(d).status();
            fs::remove_dir_all(d).unwrap();
        }
        fs::create_dir_all(d).unwrap();
    }
    let mut case = Case { name, dir, outside, snapshots: BTreeMap::new(), stashes: BTreeMap::new(), holders: Vec::new() };
    for step in &doc.nodes {
        let args = strings(step);
        let arg = |i: usize| -> String {
            case.text(args.get(i).unwrap_or_else(|| panic!("{}: step `{}` needs {} arguments", case.name, step.name.value, i + 1)))
        };
        let at = |i: usize| case.dir.join(arg(i));
        match step.name.value.as_str() {
            "spec" => {
                fs::copy(root().join(arg(0)), case.dir.join("hawser.kdl")).unwrap();
            }
            "file" => {
                fs::create_dir_all(at(0).parent().unwrap()).unwrap();
                fs::write(at(0), arg(1)).unwrap();
            }
            "outside" => fs::write(case.outside.join(arg(0)), arg(1)).unwrap(),
            "replace" => {
                let t = fs::read_to_string(at(0)).unwrap();
                assert!(t.contains(&arg(1)), "{}: `{}` not found in {}", case.name, arg(1), arg(0));
                fs::write(at(0), t.replace(&arg(1), &arg(2))).unwrap();
            }
            "remove" => fs::remove_file(at(0)).unwrap(),
            "copy" => copy_tree(&at(0), &at(1)),
            "rename" => fs::rename(at(0), at(1)).unwrap(),
            "mkdir" => {
                use std::os::unix::fs::PermissionsExt;
                fs::create_dir_all(at(0)).unwrap();
                let mode = prop(step, "mode").map_or(0o755, |m| u32::from_str_radix(&m, 8).unwrap());
                fs::set_permissions(at(0), fs::Permissions::from_mode(mode)).unwrap();
            }
            "chmod" => {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(at(0), fs::Permissions::from_mode(u32::from_str_radix(&arg(1), 8).unwrap())).unwrap();
            }
            "chown" => {
                let (uid, gid) = arg(1).split_once(':').map(|(u, g)| (u.parse().unwrap(), g.parse().unwrap())).unwrap();
                std::os::unix::fs::lchown(at(0), Some(uid), Some(gid)).unwrap();
            }
            "symlink" => {
                fs::create_dir_all(at(0).parent().unwrap()).unwrap();
                std::os::unix::fs::symlink(arg(1), at(0)).unwrap();
            }
            "hardlink" => fs::hard_link(at(1), at(0)).unwrap(),
            "fifo" => assert!(Command::new("mkfifo").arg(at(0)).status().unwrap().success()),
            "sparse" => fs::File::create(at(0)).unwrap().set_len(arg(1).parse().unwrap()).unwrap(),
            "lock-entry" => {
                let lock = case.dir.join("generated/hawser.lock");
                let mut t = fs::read_to_string(&lock).unwrap();
                t.push_str(&format!("{}  {}\n", "0".repeat(64), arg(0)));
                fs::write(&lock, t).unwrap();
            }
            "lock-spec" => {
                let lock = case.dir.join("generated/hawser.lock");
                let t: String = fs::read_to_string(&lock)
                    .unwrap()
                    .lines()
                    .map(|l| match l.strip_prefix("# spec ").and_then(|r| r.split_once("  ")) {
                        Some((sha, _)) => format!("# spec {sha}  {}\n", arg(0)),
                        None => format!("{l}\n"),
                    })
                    .collect();
                fs::write(&lock, t).unwrap();
            }
            "save" => {
                let t = fs::read_to_string(at(0)).unwrap();
                case.stashes.insert(arg(1), t);
            }
            "conflict" => {
                let (ours, theirs) = (&case.stashes[&arg(1)], &case.stashes[&arg(2)]);
                let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
                let same = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
                let mut t: String = a[..same].iter().map(|l| format!("{l}\n")).collect();
                t.push_str("<<<<<<< HEAD\n");
                a[same..].iter().for_each(|l| t.push_str(&format!("{l}\n")));
                t.push_str("=======\n");
                b[same..].iter().for_each(|l| t.push_str(&format!("{l}\n")));
                t.push_str(">>>>>>> feature\n");
                fs::write(at(0), t).unwrap();
            }
            "snapshot" => {
                let shot = snapshot(&at(0));
                case.snapshots.insert(arg(0), shot);
            }
            "untouched" => case.assert_untouched(&arg(0)),
            "has" => {
                let bytes = fs::read(at(0)).unwrap();
                assert!(String::from_utf8_lossy(&bytes).contains(&arg(1)), "{}: {} lacks {:?}", case.name, arg(0), arg(1));
            }
            "symlink-to" => assert_eq!(fs::read_link(at(0)).ok(), Some(PathBuf::from(arg(1))), "{}: {}", case.name, arg(0)),
            "same-file" => {
                let (a, b) = (fs::metadata(at(0)).unwrap(), fs::metadata(at(1)).unwrap());
                assert_eq!((a.dev(), a.ino()), (b.dev(), b.ino()), "{}: {} and {} are not one file", case.name, arg(0), arg(1));
            }
            "absent" => assert!(fs::symlink_metadata(at(0)).is_err(), "{}: {} exists", case.name, arg(0)),
            "run" => case.run(step, &args.iter().map(|a| case.text(a)).collect::<Vec<_>>()),
            "killed" => case.killed(step, &args),
            "hold-lock" => {
                let ms: u64 = prop(step, "ms").map_or(1000, |t| t.parse().unwrap());
                let seconds = format!("{}", ms as f64 / 1000.0);
                let holder = Command::new("flock").arg("-x").arg(at(0)).args(["sleep", &seconds]).spawn().unwrap();
                case.holders.push(holder);
                // Long enough for it to take the lock before the next step.
                std::thread::sleep(std::time::Duration::from_millis(ms / 5));
            }
            "race" => case.race(step, &args),
            "interrupted" => case.interrupted(step, &args),
            "in-mount" => case.in_mount(step, &arg(0)),
            other => panic!("{}: unknown step `{other}`", case.name),
        }
    }
    for mut holder in case.holders {
        let _ = holder.wait();
    }
}

#[test]
fn cases() {
    let mut paths: Vec<PathBuf> = fs::read_dir(root().join("tests/hostile/fs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    // `HOSTILE_CASE=NAME` runs one case, while working on it.
    if let Some(only) = std::env::var_os("HOSTILE_CASE") {
        paths.retain(|p| p.file_stem() == Some(only.as_os_str()));
    }
    for path in paths {
        run_case(&path);
    }
}
