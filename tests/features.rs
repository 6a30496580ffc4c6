//! Language features across platforms, as a user sees them: references resolved and
//! ordered on systemd hosts, the whole output of the spec that uses images, scheduling and
//! references (snapshotted file by file), the go.mod comparison of the command line, and
//! the JSON Schema against every example and spec (and broken ones).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const PYTHON: &str = "/opt/validators/venv/bin/python3";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn generate(text: &str) -> hawser::emit::Artifacts {
    let analysis = hawser::check(text);
    assert!(!analysis.has_errors(), "{:?}", analysis.diagnostics);
    let opts = hawser::emit::Options { spec_name: "hawser.kdl".into(), version: Some("1.0.0".into()), ..Default::default() };
    hawser::emit::generate(analysis.spec.as_ref().expect("model"), &opts).expect("generates")
}

/// On a systemd host a reference is the local address, and, being a dependency, orders the
/// unit after the service it names (a reference to an external adds no unit).
#[test]
fn references_order_systemd_units() {
    let text = r#"
project "shop" {
    version "1.0.0"
}
external "postgres" host="10.0.0.9" port=5432
service "cart" {
    build "go" main="./cmd/cart"
    port "grpc" 9000
    memory limit="64Mi"
    health { ready grpc port="grpc"; }
}
service "web" {
    build "go" main="./cmd/web"
    port "http" 8080
    memory limit="64Mi"
    health { ready "/readyz" port="http"; }
    env {
        CART_ADDR (address)"cart"
        DB_HOST (host)"postgres"
    }
}
environment "dev" {
    runs-on "systemd" { host "dev-1.internal"; }
}
"#;
    let out = generate(text);
    let unit = &out.files["systemd/dev/shop-web.service"].contents;
    assert!(unit.lines().any(|l| l.starts_with("After=") && l.contains("shop-cart.service")), "{unit}");
    assert!(unit.lines().any(|l| l.starts_with("Wants=") && l.contains("shop-cart.service")), "{unit}");
    let env = &out.files["systemd/dev/shop-web.env"].contents;
    assert!(env.contains("CART_ADDR=\"127.0.0.1:9000\"") && env.contains("DB_HOST=\"10.0.0.9\""), "{env}");
    // Without the reference there is no ordering: the edge is the reference's.
    let without = generate(&text.replace("        CART_ADDR (address)\"cart\"\n", ""));
    assert!(!without.files["systemd/dev/shop-web.service"].contents.contains("shop-cart.service"));
}

/// Every file of the spec that uses images, scheduling and references, snapshotted.
#[test]
fn images_scheduling_references_output() {
    let path = root().join("tests/specs/images-scheduling-references.kdl");
    let text = std::fs::read_to_string(&path).unwrap();
    let out = generate(&text);
    for (file, artifact) in &out.files {
        insta::with_settings!({ snapshot_path => "../snapshots/generate/specs/images-scheduling-references", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(file.replace('/', "__"), &artifact.contents);
        });
    }
}

/// `check` compares the Go version with the go.mod beside the spec, and never reads one
/// through a symlink.
#[test]
fn go_mod_is_compared_and_never_followed() {
    let dir = std::env::temp_dir().join(format!("hawser-go-mod-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hawser.kdl"), "project \"p\" {\n    version \"1.0.0\"\n    go \"1.22\"\n}\n").unwrap();
    let check = || {
        let out = Command::new(env!("CARGO_BIN_EXE_hawser"))
            .arg("check")
            .arg(dir.join("hawser.kdl"))
            .args(["--color", "never"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(!check().contains("W0921"), "no go.mod, nothing to compare");
    std::fs::write(dir.join("go.mod.real"), "module p\n\ngo 1.23\n").unwrap();
    std::os::unix::fs::symlink("go.mod.real", dir.join("go.mod")).unwrap();
    assert!(!check().contains("W0921"), "a symlinked go.mod is not read");
    std::fs::remove_file(dir.join("go.mod")).unwrap();
    std::fs::write(dir.join("go.mod"), "module p\n\ngo 1.23\n").unwrap();
    let report = check();
    assert!(report.contains("W0921") && report.contains("`go 1.23`"), "{report}");
    std::fs::write(dir.join("go.mod"), "module p\n\ngo 1.22.5\n").unwrap();
    assert!(!check().contains("W0921"), "the 1.22 builder is the newest 1.22");
    // The files an image copies are looked up the same way: a directory is found, a
    // missing one or a symlink (to a directory outside the module) is W0922.
    let spec = |copy: &str| {
        format!(
            "project \"p\" {{\n    version \"1.0.0\"\n    go \"1.22\"\n}}\nservice \"api\" {{\n    build \"go\" main=\"./cmd/api\"\n    memory limit=\"64Mi\"\n    docker {{ copy \"{copy}\" to=\"/ui\"; }}\n}}\n"
        )
    };
    std::fs::create_dir_all(dir.join("web/ui")).unwrap();
    std::os::unix::fs::symlink("/etc", dir.join("web/etc")).unwrap();
    for (copy, warned) in [("./web/ui", false), ("./web/missing", true), ("./web/etc", true), ("./web/etc/ssl", true)] {
        std::fs::write(dir.join("hawser.kdl"), spec(copy)).unwrap();
        assert_eq!(check().contains("W0922"), warned, "{copy}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Broken specs the JSON Schema must reject: each breaks the shape, as a JSON tool would see.
const BROKEN: &[(&str, &str)] = &[
    ("unknown-node", "project \"p\" {\n    version \"1.0.0\"\n}\nservice \"api\" {\n    replica 2\n}\n"),
    ("wrong-type", "project \"p\" {\n    version \"1.0.0\"\n}\nservice \"api\" {\n    port \"http\" \"8080\"\n}\n"),
    ("no-project", "service \"api\" {\n    replicas 2\n}\n"),
    ("bad-enum", "project \"p\" {\n    version \"1.0.0\"\n}\nenvironment \"prod\" {\n    runs-on \"k8s\" namespace=\"p\"\n}\n"),
    ("bad-annotation", "project \"p\" {\n    version \"1.0.0\"\n}\nservice \"api\" {\n    env { A (url)\"x\" }\n}\n"),
    ("bad-platform", "project \"p\" {\n    version \"1.0.0\"\n    platforms \"linux/x86_64\"\n}\n"),
    ("unknown-property", "project \"p\" {\n    version \"1.0.0\"\n}\nservice \"api\" {\n    metrics port=\"m\" intervall=\"5s\"\n}\n"),
];

/// The JSON Schema accepts every example and every spec under tests/specs/, converted by
/// `hawser schema --convert`, and rejects broken ones; checked with Python's `jsonschema`
/// from the validators (skipped, saying so, where they are not installed).
#[test]
fn json_schema_accepts_every_spec_and_rejects_broken_ones() {
    if !Path::new(PYTHON).exists() {
        assert!(std::env::var_os("CI").is_none_or(|v| v.is_empty()), "{PYTHON} is not installed in CI");
        eprintln!("WARNING: skipped: {PYTHON} is not installed (../shared/validators/install.sh)");
        return;
    }
    let work = std::env::temp_dir().join(format!("hawser-json-schema-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let convert = |name: &str, spec: &Path| -> PathBuf {
        let out = Command::new(env!("CARGO_BIN_EXE_hawser")).args(["schema", "--convert"]).arg(spec).output().unwrap();
        assert!(out.status.success(), "{}: {}", spec.display(), String::from_utf8_lossy(&out.stderr));
        let file = work.join(format!("{name}.json"));
        std::fs::write(&file, &out.stdout).unwrap();
        file
    };
    let schema = Command::new(env!("CARGO_BIN_EXE_hawser")).arg("schema").output().unwrap();
    std::fs::write(work.join("schema.json"), &schema.stdout).unwrap();
    let mut valid = Vec::new();
    for (name, _) in common::examples() {
        valid.push(convert(&name, &root().join(format!("examples/{name}/hawser.kdl"))));
    }
    let mut specs: Vec<PathBuf> = std::fs::read_dir(root().join("tests/specs")).unwrap().filter_map(|e| e.ok().map(|e| e.path())).collect();
    specs.sort();
    for s in specs.iter().filter(|p| p.extension().is_some_and(|x| x == "kdl")) {
        valid.push(convert(s.file_stem().unwrap().to_str().unwrap(), s));
    }
    let mut invalid = Vec::new();
    for (name, text) in BROKEN {
        let spec = work.join(format!("{name}.kdl"));
        std::fs::write(&spec, text).unwrap();
        invalid.push(convert(&format!("broken-{name}"), &spec));
    }
    let out = Command::new(PYTHON)
        .arg(root().join("tests/ci/json_schema_check.py"))
        .arg(work.join("schema.json"))
        .arg("--valid")
        .args(&valid)
        .arg("--invalid")
        .args(&invalid)
        .output()
        .unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&work);
    assert!(out.status.success(), "{report}");
    assert!(report.contains(&format!("{} passed, 0 failed", valid.len() + invalid.len())), "{report}");
}
