//! Hostile spec strings pushed through every artifact kind, and inputs that exhaust resources.
//!
//! Every case is a file under `tests/hostile/strings/`: a spec (or nothing, when the input
//! is made by the harness) whose `//!` lines say how hawser is run and what must happen:
//!
//! - `//! run: generate {spec} --out {out}` — the arguments (`check {spec}` by default;
//!   `{root}` is the repository, whose files a case reads but never writes);
//! - `//! spec-name: …` — the spec's file name, with `\n` for a newline and `\u{…}` for any
//!   other code point (`hawser.kdl`);
//! - `//! input: repeat "TEXT" N ["TEXT" N]…` — the spec is made of repeated text (with
//!   the escapes of `spec-name`: `\u{22}` for a quote, `\u{5c}` for a backslash), and
//!   `//! input: /dev/zero` reads a device instead of a file, and `//! input: spec PATH`
//!   takes the spec from a file of the repository;
//! - `//! stdin: endless` — stdin is a pipe that never ends; `//! stdout: closed` — the
//!   reader of stdout goes away before hawser writes;
//! - `//! then: ARGS` — run after `run` (the same placeholders), and must exit 0: `fmt`
//!   then `fmt --check` shows that formatting is idempotent;
//! - `//! exit: N` and `//! code: E…` — the exit status, and a diagnostic code stderr
//!   must name; `//! stderr: …` — text stderr must hold;
//! - `//! round-trip` — after generating, every argument (of `command` and `args`),
//!   environment value, annotation and source URL of the spec is read back from each
//!   artifact with that artifact's own reader, and must equal what the spec says.
//!
//! Every case must also end within the time limit and never panic or overflow.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The time any case may take, in a debug build on a busy machine.
const TIME_LIMIT: Duration = Duration::from_secs(120);
/// PyYAML, the reader of checkov, yamllint and kubernetes-validate.
const PYTHON: &str = "/opt/validators/venv/bin/python3";

#[test]
fn hostile_strings_and_resources() {
    let dir = root().join("tests/hostile/strings");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("case directory")
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "only {} cases", cases.len());
    let failures: Vec<String> = cases.iter().filter_map(|case| run_case(case).err()).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}

#[derive(Default)]
struct Case {
    run: Vec<String>,
    /// Run after `run`, which must have changed things so that this passes (exit 0).
    then: Vec<String>,
    spec_name: Option<String>,
    input: Option<String>,
    endless_stdin: bool,
    closed_stdout: bool,
    exit: Option<i32>,
    codes: Vec<String>,
    stderr: Vec<String>,
    round_trip: bool,
}

fn parse_case(text: &str) -> Result<Case, String> {
    let mut case = Case::default();
    for line in text.lines().filter_map(|l| l.strip_prefix("//!")) {
        let (key, value) = line.trim().split_once(':').map_or((line.trim(), ""), |(k, v)| (k.trim(), v.trim()));
        match key {
            "run" => case.run = value.split_whitespace().map(|a| a.replace("\\n", "\n")).collect(),
            "then" => case.then = value.split_whitespace().map(str::to_owned).collect(),
            "spec-name" => case.spec_name = Some(unescape(value)),
            "input" => case.input = Some(value.to_owned()),
            "stdin" if value == "endless" => case.endless_stdin = true,
            "stdout" if value == "closed" => case.closed_stdout = true,
            "exit" => case.exit = Some(value.parse().map_err(|_| format!("bad exit `{value}`"))?),
            "code" => case.codes.push(value.to_owned()),
            "stderr" => case.stderr.push(value.to_owned()),
            "round-trip" => case.round_trip = true,
            other => return Err(format!("unknown directive `{other}`")),
        }
    }
    if case.run.is_empty() {
        case.run = vec!["check".to_owned(), "{spec}".to_owned()];
    }
    if case.exit.is_none() {
        return Err("no `//! exit:` line".to_owned());
    }
    Ok(case)
}

fn run_case(path: &Path) -> Result<(), String> {
    let name = path.file_stem().and_then(|n| n.to_str()).unwrap_or("case").to_owned();
    let fail = |why: String| format!("{name}: {why}");
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let case = parse_case(&text).map_err(fail)?;
    let work = std::env::temp_dir().join(format!("hawser-hostile-strings-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| fail(e.to_string()))?;
    // `input: spec PATH`: the spec is a file of the repository (shared with other tests).
    let spec_text = match case.input.as_deref().and_then(|i| i.strip_prefix("spec ")) {
        Some(shared) => std::fs::read_to_string(root().join(shared)).map_err(|e| fail(format!("{shared}: {e}")))?,
        None => text,
    };
    let result = run_in(&case, &spec_text, &work);
    let _ = std::fs::remove_dir_all(&work);
    result.map_err(fail)
}

fn run_in(case: &Case, text: &str, work: &Path) -> Result<(), String> {
    let spec = match case.input.as_deref() {
        Some(device) if device.starts_with("/dev/") => PathBuf::from(device),
        Some(recipe) if recipe.starts_with("repeat") => {
            let path = work.join("hawser.kdl");
            std::fs::write(&path, repeat(recipe)?).map_err(|e| e.to_string())?;
            path
        }
        _ => {
            let path = work.join(case.spec_name.as_deref().unwrap_or("hawser.kdl"));
            std::fs::write(&path, text).map_err(|e| e.to_string())?;
            path
        }
    };
    let out = work.join("out");
    let args: Vec<String> = case
        .run
        .iter()
        .map(|a| {
            a.replace("{spec}", &spec.to_string_lossy())
                .replace("{out}", &out.to_string_lossy())
                .replace("{root}", &root().to_string_lossy())
        })
        .collect();
    let (status, stdout, stderr) = run_hawser(&args, case, work)?;
    let shown = || format!("exit {status:?}\n--- stderr (start) ---\n{}", stderr.chars().take(1500).collect::<String>());
    for bad in ["panicked", "overflowed its stack", "RUST_BACKTRACE"] {
        if stderr.contains(bad) {
            return Err(format!("stderr holds `{bad}`\n{}", shown()));
        }
    }
    if status != case.exit {
        return Err(format!("expected exit {:?}, got {}", case.exit, shown()));
    }
    for code in &case.codes {
        if !stderr.contains(code.as_str()) {
            return Err(format!("expected diagnostic {code}, got {}", shown()));
        }
    }
    for needle in &case.stderr {
        if !stderr.contains(needle.as_str()) {
            return Err(format!("expected `{needle}` in stderr, got {}", shown()));
        }
    }
    if case.exit == Some(0) && case.codes.is_empty() && case.run[0] == "check" && stderr.contains('×') {
        return Err(format!("an error was reported\n{}", shown()));
    }
    if case.round_trip {
        round_trip(text, &out)?;
    }
    if !case.then.is_empty() {
        let args: Vec<String> = case.then.iter().map(|a| a.replace("{spec}", &spec.to_string_lossy())).collect();
        let (status, _, stderr) = run_hawser(&args, case, work)?;
        if status != Some(0) {
            return Err(format!("then `{}`: exit {status:?}\n{stderr}", args.join(" ")));
        }
    }
    let _ = stdout;
    Ok(())
}

/// `repeat "x {" 1275 "}" 3`: the texts, each repeated, one after the other.
fn repeat(recipe: &str) -> Result<String, String> {
    let rest = recipe.strip_prefix("repeat").ok_or_else(|| format!("unknown input `{recipe}`"))?;
    let mut out = String::new();
    let mut parts = rest.split('"').skip(1);
    while let (Some(piece), Some(count)) = (parts.next(), parts.next()) {
        let count: usize = count.trim().parse().map_err(|_| format!("bad count in `{recipe}`"))?;
        out.push_str(&unescape(piece).repeat(count));
    }
    Ok(out)
}

/// Runs hawser with a time limit: the exit code (`None` when killed by a signal), stdout
/// and stderr.
fn run_hawser(args: &[String], case: &Case, work: &Path) -> Result<(Option<i32>, String, String), String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hawser"))
        .args(args)
        .current_dir(work)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .stdin(if case.endless_stdin { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start hawser: {e}"))?;
    let writer = child.stdin.take().map(|mut stdin| {
        std::thread::spawn(move || {
            let line = b"y\n".repeat(4096);
            // Writes until hawser closes its end: that it stops reading is the point.
            while stdin.write_all(&line).is_ok() {}
        })
    });
    let mut stdout_pipe = child.stdout.take();
    if case.closed_stdout {
        drop(stdout_pipe.take());
    }
    let stdout_reader = stdout_pipe.map(|mut pipe| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = pipe.read_to_string(&mut s);
            s
        })
    });
    let mut stderr_pipe = child.stderr.take().ok_or("no stderr")?;
    let stderr_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if start.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("did not end within {} s", TIME_LIMIT.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    let stdout = stdout_reader.map(|r| r.join().unwrap_or_default()).unwrap_or_default();
    let stderr = stderr_reader.join().unwrap_or_default();
    Ok((status.code(), stdout, stderr))
}

// ------------------------------------------------------------------------ round trip

/// Reads every hostile value back from each artifact kind with that artifact's reader
/// and compares it with the spec.
fn round_trip(text: &str, out: &Path) -> Result<(), String> {
    let analysis = hawser::check(text);
    let spec = analysis.spec.as_ref().ok_or("the spec does not check")?;
    let project = &spec.base.project.name.value;
    let mut checked = 0;
    for (name, w) in &spec.base.workloads {
        let args: Vec<String> = w.args.iter().map(|a| a.value.clone()).collect();
        let command: Vec<String> = w.command.iter().map(|a| a.value.clone()).collect();
        // What follows the binary on a host: the command's words after the program, then
        // the arguments.
        let after_binary: Vec<String> = command.iter().skip(1).chain(&args).cloned().collect();

        // Dockerfile: the exec-form ENTRYPOINT, read as Docker does (JSON).
        let dockerfile = read(&out.join(format!("docker/{name}.Dockerfile")))?;
        let entry = dockerfile.lines().find_map(|l| l.strip_prefix("ENTRYPOINT ")).ok_or("no ENTRYPOINT")?;
        let argv: Vec<String> = serde_json::from_str(entry).map_err(|e| format!("ENTRYPOINT is not JSON: {e}"))?;
        // The image runs the binary alone: the arguments are the platform's to pass (a
        // pod's `args`, a unit's `ExecStart=`), exactly once.
        if argv.len() != 1 || !argv[0].starts_with('/') {
            return Err(format!("the Dockerfile ENTRYPOINT should hold only the binary, holds {argv:?}"));
        }
        if let Some(source) = &spec.base.project.source {
            let label =
                dockerfile.lines().find_map(|l| l.trim().strip_prefix("org.opencontainers.image.source=")).ok_or("no source label")?;
            same("Dockerfile LABEL source", &[docker_unquote(label.trim_end_matches(" \\"))], std::slice::from_ref(&source.value))?;
        }
        checked += 1;

        for (env_name, environment) in &spec.environments {
            // The non-secret environment as that environment resolves it: literals, and
            // references written as the values hawser computes.
            let Some(here) = environment.view.workloads.get(name) else { continue };
            let env: Vec<(String, String)> = hawser::check::references::plain_env(&environment.view, Some(environment), here);
            let unit = format!("{project}-{name}");
            let service = out.join(format!("systemd/{env_name}/{unit}.service"));
            if service.exists() {
                // systemd: ExecStart= as systemd splits and unescapes it.
                let unit_text = read(&service)?;
                let exec = unit_text.lines().find_map(|l| l.strip_prefix("ExecStart=")).ok_or("no ExecStart=")?;
                same("systemd ExecStart=", &systemd_words(exec, true)?[1..], &after_binary)?;
                if let Some(source) = &spec.base.project.source {
                    let doc = unit_text.lines().find_map(|l| l.strip_prefix("Documentation=")).ok_or("no Documentation=")?;
                    same("systemd Documentation=", &systemd_words(doc, false)?, std::slice::from_ref(&source.value))?;
                }
                // The environment file, read by bash: the same double-quote escapes.
                let env_file = out.join(format!("systemd/{env_name}/{unit}.env"));
                for (key, value) in &env {
                    let got = bash_env_value(&env_file, key)?;
                    same(&format!("systemd environment file {key}"), &[got], std::slice::from_ref(value))?;
                }
                checked += 1;
            }
            let manifest = out.join(format!("kubernetes/{env_name}/{name}.yaml"));
            if manifest.exists() {
                let docs = yaml_documents(&manifest)?;
                let deployment = docs
                    .iter()
                    .find(|d| matches!(d["kind"].as_str(), Some("Deployment" | "StatefulSet" | "Job")))
                    .ok_or("no workload object")?;
                let container = &deployment["spec"]["template"]["spec"]["containers"][0];
                let k8s_args: Vec<String> = serde_json::from_value(container["args"].clone()).unwrap_or_default();
                // What the program receives after the kubelet's `$(VAR)` expansion.
                let received: Vec<String> = k8s_args.iter().map(|a| crate::common::kubelet_expand(a)).collect();
                same("Kubernetes args (after the kubelet)", &received, &args)?;
                let k8s_command: Vec<String> = serde_json::from_value(container["command"].clone()).unwrap_or_default();
                let received: Vec<String> = k8s_command.iter().map(|a| crate::common::kubelet_expand(a)).collect();
                same("Kubernetes command (after the kubelet)", &received, &command)?;
                if !env.is_empty() {
                    let config = docs.iter().find(|d| d["kind"] == "ConfigMap").ok_or("no ConfigMap")?;
                    for (key, value) in &env {
                        same(
                            &format!("ConfigMap {key}"),
                            &[config["data"][key].as_str().unwrap_or("<missing>").to_owned()],
                            std::slice::from_ref(value),
                        )?;
                    }
                }
                for (key, value) in &w.kubernetes.annotations {
                    let got = deployment["spec"]["template"]["metadata"]["annotations"][key].as_str().unwrap_or("<missing>").to_owned();
                    same(&format!("annotation {key}"), &[got], std::slice::from_ref(value))?;
                }
                checked += 1;
            }
        }
    }
    if checked < 3 {
        return Err(format!("the round trip read only {checked} artifacts: the spec must reach Docker, systemd and Kubernetes"));
    }
    Ok(())
}

fn same(what: &str, got: &[String], want: &[String]) -> Result<(), String> {
    if got == want { Ok(()) } else { Err(format!("{what} does not round-trip:\n  got  {got:?}\n  want {want:?}")) }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// A double-quoted Dockerfile word, as BuildKit's lexer reads it: `\` escapes the next
/// character.
fn docker_unquote(word: &str) -> String {
    let inner = word.strip_prefix('"').and_then(|w| w.strip_suffix('"')).unwrap_or(word);
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' { chars.next().unwrap_or('\\') } else { c });
    }
    out
}

/// A systemd command line or word list, split and unescaped as systemd's
/// `extract_first_word` does (single and double quotes anywhere in a word, C escapes),
/// then specifiers (`%%` is `%`; any other `%x` would be expanded, an error here) and,
/// for command lines, variables (`$$` is `$`; `$NAME` would be expanded).
fn systemd_words(line: &str, command: bool) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        while let Some(c) = chars.next() {
            match (quote, c) {
                (None, ' ') => break,
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (_, '\\') => match chars.next().ok_or("dangling escape")? {
                    'n' => word.push('\n'),
                    't' => word.push('\t'),
                    'r' => word.push('\r'),
                    'u' => {
                        let hex: String = (0..4).filter_map(|_| chars.next()).collect();
                        word.push(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32).ok_or("bad \\u escape")?);
                    }
                    c => word.push(c),
                },
                (_, c) => word.push(c),
            }
        }
        if quote.is_some() {
            return Err(format!("unterminated quote in `{line}`"));
        }
        words.push(unescape_expansions(&word, command)?);
    }
    Ok(words)
}

fn unescape_expansions(word: &str, command: bool) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '%' if chars.next_if_eq(&'%').is_some() => out.push('%'),
            '%' => return Err(format!("`{word}` holds a specifier systemd would expand")),
            '$' if command && chars.next_if_eq(&'$').is_some() => out.push('$'),
            '$' if command && chars.peek().is_some_and(|c| c.is_ascii_alphabetic() || *c == '{' || *c == '_') => {
                return Err(format!("`{word}` holds a variable systemd would expand"));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// One variable of an environment file, as bash reads the same double-quoted assignment.
fn bash_env_value(file: &Path, key: &str) -> Result<String, String> {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("set -a; . \"$1\"; printf '%s' \"${key}\""))
        .arg("bash")
        .arg(file)
        .output()
        .map_err(|e| format!("bash: {e}"))?;
    if !out.status.success() {
        return Err(format!("bash could not read {}: {}", file.display(), String::from_utf8_lossy(&out.stderr)));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

/// Every document of a YAML file, as PyYAML reads it.
fn yaml_documents(file: &Path) -> Result<Vec<serde_json::Value>, String> {
    let out = Command::new(PYTHON)
        .arg("-c")
        .arg("import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1], encoding='utf-8')) if d]))")
        .arg(file)
        .output()
        .map_err(|e| format!("{PYTHON}: {e}"))?;
    if !out.status.success() {
        return Err(format!("PyYAML cannot read {}: {}", file.display(), String::from_utf8_lossy(&out.stderr)));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
}

/// A case file's escapes: `\n`, and `\u{HEX}` for a code point the spec's own text may
/// not hold (KDL forbids the bidirectional controls even in comments).
fn unescape(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("\\n") {
            out.push('\n');
            rest = after;
        } else if let Some((hex, after)) = rest.strip_prefix("\\u{").and_then(|r| r.split_once('}')) {
            out.push(u32::from_str_radix(hex, 16).ok().and_then(char::from_u32).expect("a code point"));
            rest = after;
        } else {
            out.push('\\');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}
