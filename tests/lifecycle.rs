//! The generated host lifecycle script, end to end: the floor-219 spec (the one with every
//! fallback: named users, credential copies, a memory drop-in, a root-only secret
//! environment file) is generated and its `lifecycle.sh` installs releases into a
//! temporary root. `systemctl` is a stub that runs a oneshot's `ExecStart=` to completion
//! and starts a service's in the background, so the readiness check talks to a real
//! process. Installs, an upgrade, a failed upgrade and a failed migration, each failure
//! rolled back to the release before.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SPEC: &str = "systemd-floor-219";
/// The api's readiness port in that spec.
const PORT: u16 = 18080;

/// `systemctl` for a temporary root: logs every call; `--version` answers 219; `start` of
/// a `.service` runs its `ExecStart=` and returns its status; `restart` stops the process
/// it started before and starts it again in the background.
const SYSTEMCTL: &str = r#"#!/usr/bin/env bash
set -u
echo "$*" >> "$T/systemctl.log"
exec_start() { sed -n 's/^ExecStart=//p' "$ROOT/etc/systemd/system/$1"; }
stop() { if [[ -f "$T/run/$1.pid" ]]; then kill "$(cat "$T/run/$1.pid")" 2>/dev/null; rm -f "$T/run/$1.pid"; sleep 0.2; fi; }
case "$1" in
  --version) echo "systemd 219"; echo "+PAM" ;;
  start) [[ "$2" == *.service ]] || exit 0; "$ROOT$(exec_start "$2")" ;;
  restart)
    [[ "$2" == *.service ]] || exit 0
    stop "$2"
    mkdir -p "$T/run"
    setsid "$ROOT$(exec_start "$2")" > "$T/run/$2.log" 2>&1 < /dev/null &
    echo $! > "$T/run/$2.pid" ;;
  disable) if [[ "${2:-}" == --now ]]; then stop "$3"; fi ;;
  *) ;;
esac
"#;

/// A fake api: serves 200 on /readyz, or, when built "broken", exits at once.
fn api(version: &str, broken: bool) -> String {
    if broken {
        return format!("#!/bin/sh\necho \"api {version} cannot start\" >&2\nexit 1\n");
    }
    format!(
        "#!/bin/sh\necho {version} >> \"$T/api.started\"\nexec python3 -c '
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == \"/readyz\" else 404)
        self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer((\"127.0.0.1\", {PORT}), H).serve_forever()'\n"
    )
}

struct Host {
    dir: PathBuf,
    root: PathBuf,
    script: PathBuf,
}

impl Host {
    fn new(name: &str) -> Host {
        let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../tests/specs/{SPEC}.kdl"));
        // The credential store a Vault agent or the operator fills, and a `file=` secret.
        let files = [
            ("etc/credstore/db-password", "s3cret\n"),
            ("etc/credstore/api-token", "tok\"en$HOME`x`\\\n"),
            ("etc/floor219/tls.key", "KEY\n"),
        ];
        Host::with_spec(name, &spec, &files)
    }

    /// A host for any spec whose systemd environment is named `hosts`, with `files` under
    /// its root.
    fn with_spec(name: &str, spec: &Path, files: &[(&str, &str)]) -> Host {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lifecycle").join(name);
        let _ = fs::remove_dir_all(&dir);
        let root = dir.join("root");
        let bin = dir.join("bin");
        fs::create_dir_all(&bin).unwrap();
        executable(&bin.join("systemctl"), SYSTEMCTL);
        executable(&bin.join("systemd-sysusers"), "#!/bin/sh\necho \"$*\" >> \"$T/sysusers.log\"\n");
        executable(&bin.join("chown"), "#!/bin/sh\necho \"$*\" >> \"$T/chown.log\"\n");
        let out = dir.join("generated");
        let o = Command::new(env!("CARGO_BIN_EXE_hawser")).arg("generate").arg(spec).arg("--out").arg(&out).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        for (path, value) in files {
            fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
            fs::write(root.join(path), value).unwrap();
        }
        Host { script: out.join("systemd/hosts/lifecycle.sh"), dir, root }
    }

    /// A build's `dist/` directory: the three binaries, the api working or not, the
    /// migration passing or failing.
    fn dist(&self, version: &str, api_works: bool, migrate_works: bool) -> PathBuf {
        let dist = self.dir.join(format!("dist-{version}"));
        fs::create_dir_all(&dist).unwrap();
        executable(&dist.join("api"), &api(version, !api_works));
        let status = if migrate_works { 0 } else { 1 };
        executable(&dist.join("migrate"), &format!("#!/bin/sh\necho {version} >> \"$T/migrate.runs\"\nexit {status}\n"));
        executable(&dist.join("cleanup"), "#!/bin/sh\nexit 0\n");
        dist
    }

    fn run(&self, args: &[&str]) -> Output {
        // The stubs first, then the system's own tools (bash, coreutils, python3).
        let path = format!("{}:/usr/local/bin:/usr/bin:/bin", self.dir.join("bin").display());
        Command::new("bash")
            .arg(&self.script)
            .args(args)
            .env("PATH", path)
            .env("ROOT", &self.root)
            .env("T", &self.dir)
            .env("HEALTH_TIMEOUT", "10")
            .output()
            .unwrap()
    }

    fn install(&self, version: &str, dist: &Path) -> Output {
        self.run(&["install", version, dist.to_str().unwrap()])
    }

    fn link(&self, name: &str) -> String {
        fs::read_link(self.root.join("opt/floor219").join(name)).map(|p| p.display().to_string()).unwrap_or_default()
    }

    fn read(&self, path: &str) -> String {
        fs::read_to_string(self.dir.join(path)).unwrap_or_default()
    }

    fn mode(&self, path: &str) -> u32 {
        fs::metadata(self.root.join(path)).unwrap().permissions().mode() & 0o777
    }
}

impl Drop for Host {
    /// Stops the services the stub started, by their process ids.
    fn drop(&mut self) {
        for entry in fs::read_dir(self.dir.join("run")).into_iter().flatten().flatten() {
            if entry.path().extension().is_some_and(|e| e == "pid")
                && let Ok(pid) = fs::read_to_string(entry.path())
            {
                let _ = Command::new("kill").arg(pid.trim()).status();
            }
        }
    }
}

fn executable(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn ok(o: &Output) -> String {
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "lifecycle.sh failed:\n{text}");
    text
}

fn failed(o: &Output) -> String {
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.status.code(), Some(1), "lifecycle.sh should have failed:\n{text}");
    text
}

#[test]
fn install_upgrade_and_failed_upgrades_roll_back() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("python3 is not installed: the fake api cannot serve");
        return;
    }
    let host = Host::new("rollback");

    // A missing credential stops the install before anything changes on the host.
    fs::rename(host.root.join("etc/credstore/db-password"), host.dir.join("held")).unwrap();
    let out = failed(&host.install("1.0.0", &host.dist("1.0.0", true, true)));
    assert!(out.contains("missing credential file"), "{out}");
    assert!(!host.root.join("opt/floor219/current").exists());
    fs::rename(host.dir.join("held"), host.root.join("etc/credstore/db-password")).unwrap();

    // The first install: users, credentials, units, the switch, the migration, then the api.
    ok(&host.install("1.0.0", &host.dist("1.0.0", true, true)));
    assert_eq!(host.link("current"), "releases/1.0.0");
    assert!(host.root.join("opt/floor219/releases/1.0.0/bin/api").exists());
    for unit in ["floor219-api.service", "floor219-migrate.service", "floor219-cleanup.service", "floor219-cleanup.timer"] {
        assert!(host.root.join("etc/systemd/system").join(unit).exists(), "{unit} installed");
    }
    let sysusers = fs::read_to_string(host.root.join("etc/sysusers.d/floor219.conf")).unwrap();
    assert!(sysusers.contains("u floor219 - "), "{sysusers}");
    // Below systemd 231 the memory limit is MemoryLimit=, in a drop-in.
    let memory = fs::read_to_string(host.root.join("etc/systemd/system/floor219-api.service.d/memory.conf")).unwrap();
    assert_eq!(memory, "[Service]\nMemoryLimit=268435456\n");
    // No LoadCredential= on 219: copies only the service user can read.
    let copy = "etc/floor219/credentials/floor219-api/db-password";
    assert_eq!(fs::read_to_string(host.root.join(copy)).unwrap(), "s3cret\n");
    assert_eq!(host.mode(copy), 0o440);
    assert!(host.read("chown.log").contains("root:floor219"), "copies are given to the service user");
    // as="env": the value itself, escaped for systemd, in a file only root reads.
    let env = "etc/floor219/floor219-api.secrets.env";
    assert_eq!(fs::read_to_string(host.root.join(env)).unwrap(), "API_TOKEN=\"tok\\\"en\\$HOME\\`x\\`\\\\\"\n");
    assert_eq!(host.mode(env), 0o600);
    // Dependency order: the migration ran (once), then the api restarted and became ready.
    let log = host.read("systemctl.log");
    let migrate = log.find("start floor219-migrate.service").expect("migration started");
    let api = log.find("restart floor219-api.service").expect("api restarted");
    assert!(migrate < api, "{log}");
    assert_eq!(host.read("migrate.runs"), "1.0.0\n");
    assert_eq!(host.read("api.started"), "1.0.0\n");

    // An upgrade: the migration runs once more (once per deploy), the api restarts.
    ok(&host.install("2.0.0", &host.dist("2.0.0", true, true)));
    assert_eq!((host.link("current"), host.link("previous")), ("releases/2.0.0".into(), "releases/1.0.0".into()));
    assert_eq!(host.read("migrate.runs"), "1.0.0\n2.0.0\n");

    // An api that does not become ready: back to 2.0.0, which is started again.
    let out = failed(&host.install("3.0.0", &host.dist("3.0.0", false, true)));
    assert!(out.contains("api is not ready") && out.contains("back to 2.0.0"), "{out}");
    assert_eq!(host.link("current"), "releases/2.0.0");
    assert_eq!(host.read("api.started"), "1.0.0\n2.0.0\n2.0.0\n");

    // A migration that fails every attempt (retries 2: three runs): nothing after it
    // starts, and 2.0.0 comes back.
    let out = failed(&host.install("4.0.0", &host.dist("4.0.0", true, false)));
    assert!(out.contains("migrate failed 3 times") && out.contains("back to 2.0.0"), "{out}");
    assert_eq!(host.link("current"), "releases/2.0.0");
    assert!(host.read("migrate.runs").ends_with("4.0.0\n4.0.0\n4.0.0\n"));
    assert!(!host.read("api.started").contains("4.0.0"), "the api of a failed migration never starts");

    // A manual rollback goes to the release before the current one.
    ok(&host.run(&["rollback"]));
    assert_eq!(host.link("current"), "releases/1.0.0");
    assert!(host.read("api.started").ends_with("1.0.0\n"));
}

/// `nginx` for a temporary root: logs every call; `-t` refuses the configuration when the
/// installed site holds the word `refuse`.
const NGINX: &str = r#"#!/usr/bin/env bash
echo "nginx $*" >> "$T/systemctl.log"
if [[ "$1" == -t ]] && grep -qs refuse "$ROOT"/etc/nginx/conf.d/*.conf; then echo "nginx: [emerg] refused" >&2; exit 1; fi
exit 0
"#;

/// A systemd environment that exposes a port: the lifecycle script checks the certificate
/// files first, installs the nginx site after the services are ready, has nginx check it
/// and reloads nginx; a site nginx refuses fails the release, and the previous release's
/// site comes back with it.
#[test]
fn the_nginx_site_is_installed_checked_and_rolled_back() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lifecycle-site-spec");
    fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("hawser.kdl");
    fs::write(
        &spec,
        r#"project "site" { version "1.0.0"; }
service "web" {
    build "go" main="./cmd/web"
    port "http" 18181
    memory request="16Mi" limit="32Mi"
    allow "W0101" reason="the test's program answers nothing"
    expose "http" {
        hosts "site.example.com"
        tls certificate="/etc/site/tls/cert.pem" key="/etc/site/tls/key.pem"
    }
}
environment "hosts" {
    runs-on "systemd" { host "h1.example.com"; }
}
"#,
    )
    .unwrap();
    let host = Host::with_spec("site", &spec, &[("etc/site/tls/cert.pem", "CERT\n")]);
    executable(&host.dir.join("bin/nginx"), NGINX);
    let dist = |version: &str| {
        let dist = host.dir.join(format!("dist-{version}"));
        fs::create_dir_all(&dist).unwrap();
        executable(&dist.join("web"), "#!/bin/sh\nexec sleep 60\n");
        dist
    };
    let site = host.root.join("etc/nginx/conf.d/site.conf");
    let generated = host.dir.join("generated/systemd/hosts/site.nginx.conf");

    // The key is missing: nothing changes on the host.
    let out = failed(&host.install("1.0.0", &dist("1.0.0")));
    assert!(out.contains("missing TLS file") && out.contains("key.pem"), "{out}");
    assert!(!site.exists());
    fs::write(host.root.join("etc/site/tls/key.pem"), "KEY\n").unwrap();

    // The first install puts the site in place once the service runs, checks and reloads.
    ok(&host.install("1.0.0", &dist("1.0.0")));
    assert_eq!(fs::read_to_string(&site).unwrap(), fs::read_to_string(&generated).unwrap());
    let log = host.read("systemctl.log");
    let started = log.find("restart site-web.service").expect("web restarted");
    let checked = log.find("nginx -t -q").expect("nginx checked the site");
    let reloaded = log.find("reload-or-restart nginx").expect("nginx reloaded");
    assert!(started < checked && checked < reloaded, "{log}");

    // A release whose site nginx refuses fails, and 1.0.0 comes back with its site.
    let first = fs::read_to_string(&generated).unwrap();
    fs::write(&generated, format!("{first}# refuse\n")).unwrap();
    let out = failed(&host.install("2.0.0", &dist("2.0.0")));
    assert!(out.contains("nginx refuses the site") && out.contains("back to 1.0.0"), "{out}");
    assert_eq!(fs::read_link(host.root.join("opt/site/current")).unwrap().display().to_string(), "releases/1.0.0");
    assert_eq!(fs::read_to_string(&site).unwrap(), first);
}
/// `systemctl` for a temporary root that runs `ExecStart=` with its arguments (unquoted as
/// systemd does for these plain words), a service in the background.
const SYSTEMCTL_WITH_ARGS: &str = r#"#!/usr/bin/env bash
set -u
echo "$*" >> "$T/systemctl.log"
exec_start() { sed -n 's/^ExecStart=//p' "$ROOT/etc/systemd/system/$1"; }
stop() { if [[ -f "$T/run/$1.pid" ]]; then kill "$(cat "$T/run/$1.pid")" 2>/dev/null; rm -f "$T/run/$1.pid"; sleep 0.2; fi; }
case "$1" in
  --version) echo "systemd 252"; echo "+PAM" ;;
  start) [[ "$2" == *.service ]] || exit 0; eval "set -- $(exec_start "$2")"; "$ROOT$1" "${@:2}" ;;
  restart)
    [[ "$2" == *.service ]] || exit 0
    unit="$2"
    stop "$unit"
    mkdir -p "$T/run"
    eval "set -- $(exec_start "$unit")"
    setsid "$ROOT$1" "${@:2}" > "$T/run/$unit.log" 2>&1 < /dev/null &
    echo $! > "$T/run/$unit.pid" ;;
  disable) if [[ "${2:-}" == --now ]]; then stop "$3"; fi ;;
  *) ;;
esac
"#;

/// A fake service: records its arguments, then answers 200 on every path of `port`.
fn server(name: &str, port: u16) -> String {
    format!(
        "#!/bin/sh\necho \"$*\" >> \"$T/{name}.args\"\nexec python3 -c '
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer((\"127.0.0.1\", {port}), H).serve_forever()'\n"
    )
}

/// Configuration files are part of each release: installed read-only beside the binaries,
/// switched with them by a deploy and a rollback, and bound (by the units) at mount points
/// the lifecycle script creates where the host has none; the units' groups are created.
#[test]
fn configuration_files_and_volumes_follow_the_release() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("python3 is not installed: the fake services cannot serve");
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lifecycle").join("files");
    let _ = fs::remove_dir_all(&dir);
    let (root, bin) = (dir.join("root"), dir.join("bin"));
    fs::create_dir_all(&bin).unwrap();
    executable(&bin.join("systemctl"), SYSTEMCTL_WITH_ARGS);
    executable(&bin.join("systemd-sysusers"), "#!/bin/sh\necho \"$*\" >> \"$T/sysusers.log\"\n");
    executable(&bin.join("chown"), "#!/bin/sh\necho \"$*\" >> \"$T/chown.log\"\n");
    // The spec and its files, copied: a release with a changed file is generated from the copy.
    let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/specs");
    let spec_dir = dir.join("spec");
    fs::create_dir_all(spec_dir.join("inputs")).unwrap();
    fs::copy(specs.join("storage-files-commands.kdl"), spec_dir.join("hawser.kdl")).unwrap();
    for f in ["store.yaml", "store.prod.yaml", "pinger.toml"] {
        fs::copy(specs.join("inputs").join(f), spec_dir.join("inputs").join(f)).unwrap();
    }
    let generate = |out: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_hawser"))
            .arg("generate")
            .arg(spec_dir.join("hawser.kdl"))
            .arg("--out")
            .arg(dir.join(out))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        dir.join(out).join("systemd/hosts/lifecycle.sh")
    };
    let dist = |version: &str| {
        let d = dir.join(format!("dist-{version}"));
        fs::create_dir_all(&d).unwrap();
        executable(&d.join("store"), &server("store", 18480));
        executable(&d.join("pinger"), &server("pinger", 18491));
        executable(&d.join("compact"), "#!/bin/sh\nexit 0\n");
        d
    };
    let run = |script: &Path, args: &[&str]| {
        let path = format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display());
        let o = Command::new("bash")
            .arg(script)
            .args(args)
            .env("PATH", path)
            .env("ROOT", &root)
            .env("T", &dir)
            .env("HEALTH_TIMEOUT", "10")
            .output()
            .unwrap();
        ok(&o)
    };
    let file = |rel: &str| fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let mode = |rel: &str| fs::metadata(root.join(rel)).unwrap().permissions().mode() & 0o777;
    let original = fs::read_to_string(specs.join("inputs/store.yaml")).unwrap();
    let _reaper = Reaper(dir.join("run"));
    // A file the host has at a mount point stays as it is (the unit covers it, inside).
    fs::create_dir_all(root.join("etc/pinger")).unwrap();
    fs::write(root.join("etc/pinger/pinger.toml"), "the host's own\n").unwrap();

    let first = generate("generated-1");
    run(&first, &["install", "1.0.0", dist("1.0.0").to_str().unwrap()]);
    let config = "opt/store/releases/1.0.0/files/store-store/config.yaml";
    assert_eq!(file(config), original);
    assert_eq!(mode(config), 0o444);
    assert_eq!(file("opt/store/current/files/store-pinger/pinger.toml"), fs::read_to_string(specs.join("inputs/pinger.toml")).unwrap());
    // The compaction job reads the same file, in a directory of its own.
    assert_eq!(file("opt/store/current/files/store-compact/config.yaml"), original);
    // Mount points where the host had none: directories for volumes, empty files for files.
    for d in ["data", "cache", "scratch"] {
        assert!(root.join(d).is_dir(), "/{d} is created");
    }
    assert_eq!(file("etc/store/config.yaml"), "", "an empty mount point");
    assert_eq!(file("etc/pinger/pinger.toml"), "the host's own\n");
    let sysusers = file("etc/sysusers.d/store.conf");
    assert!(sysusers.contains("g adm -"), "{sysusers}");
    // The store runs its subcommand with its arguments, as on Kubernetes.
    assert_eq!(fs::read_to_string(dir.join("store.args")).unwrap(), "serve --config /etc/store/config.yaml\n");
    // The unit binds the current release's copy at the spec's path.
    let unit = file("etc/systemd/system/store-store.service");
    assert!(unit.contains("BindReadOnlyPaths=/opt/store/current/files/store-store/config.yaml:/etc/store/config.yaml"), "{unit}");

    // A changed file is a new release; a rollback brings the old file back with the old binary.
    let changed = original.replace("keep_versions: 3", "keep_versions: 4");
    fs::write(spec_dir.join("inputs/store.yaml"), &changed).unwrap();
    let second = generate("generated-2");
    run(&second, &["install", "2.0.0", dist("2.0.0").to_str().unwrap()]);
    assert_eq!(file("opt/store/current/files/store-store/config.yaml"), changed);
    assert_eq!(file(config), original, "release 1.0.0 keeps its file");
    run(&second, &["rollback"]);
    assert_eq!(file("opt/store/current/files/store-store/config.yaml"), original);
}

/// Stops the fake services a test started, by their process ids, however it ends.
struct Reaper(PathBuf);

impl Drop for Reaper {
    fn drop(&mut self) {
        for entry in fs::read_dir(&self.0).into_iter().flatten().flatten() {
            if entry.path().extension().is_some_and(|e| e == "pid")
                && let Ok(pid) = fs::read_to_string(entry.path())
            {
                let _ = Command::new("kill").arg(pid.trim()).status();
            }
        }
    }
}
