//! `hawser fmt` over every spec of the repository: every example, every spec under
//! `tests/`, and every file of the diagnostics corpus that parses. Formatting is idempotent,
//! keeps every comment, and never changes meaning: the formatted spec has the same
//! diagnostics (codes and messages) and generates the same artifacts.

use std::path::{Path, PathBuf};

use hawser::syntax::format::{Formatted, format};

fn specs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    for dir in ["examples", "tests/diagnostics", "tests/specs", "tests/review/specs"] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "kdl") {
                    out.push(p);
                }
            }
        }
    }
    out.push(root.join("tests/diagnostics_seed.kdl"));
    out.sort();
    out
}

fn comments(text: &str) -> Vec<String> {
    // Every `//` comment's text, in order: the formatter may move it, never drop or change it.
    text.lines().filter_map(|l| l.find("//").map(|i| l[i..].trim_end().to_owned())).collect()
}

fn outcome(text: &str, dir: &Path) -> (Vec<String>, Option<hawser::emit::Artifacts>) {
    let mut analysis = hawser::check(text);
    if let Some(spec) = &analysis.spec {
        analysis.diagnostics.extend(hawser::review::inputs::read(dir, spec).1);
    }
    let diags = analysis.diagnostics.iter().map(|d| format!("{}: {}", d.code.id, d.message)).collect();
    let artifacts = analysis.spec.as_ref().filter(|_| !analysis.has_errors()).map(|spec| {
        let inputs = hawser::review::inputs::read(dir, spec).0;
        let opts = hawser::emit::Options { spec_name: "hawser.kdl".into(), version: Some("1.0.0".into()), inputs, ..Default::default() };
        hawser::emit::generate(spec, &opts).expect("generates")
    });
    (diags, artifacts)
}

#[test]
fn formatting_is_idempotent_and_keeps_meaning_and_comments() {
    let mut formatted_count = 0;
    for path in specs() {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.display();
        match format(&text) {
            Formatted::Text(once) => {
                formatted_count += 1;
                match format(&once) {
                    Formatted::Text(twice) => assert_eq!(twice, once, "{name}: formatting is not idempotent"),
                    other => panic!("{name}: formatted text does not format: {other:?}"),
                }
                assert_eq!(comments(&once), comments(&text), "{name}: a comment changed");
                let dir = path.parent().expect("a directory");
                assert_eq!(outcome(&once, dir), outcome(&text, dir), "{name}: formatting changed the diagnostics or the artifacts");
                for line in once.lines() {
                    assert_eq!(line, line.trim_end(), "{name}: trailing blanks");
                    let indent = line.len() - line.trim_start_matches(' ').len();
                    assert!(!line.starts_with('\t'), "{name}: a tab indents `{line}`");
                    let _ = indent;
                }
            }
            Formatted::SyntaxErrors(diags) => {
                assert!(!diags.is_empty());
                let name = name.to_string();
                assert!(name.contains("E0001") || name.contains("E0011"), "{name}: only the syntax and limits corpus fails to parse");
            }
            Formatted::Refused(why) => panic!("{name}: {why}"),
        }
    }
    assert!(formatted_count > 80, "only {formatted_count} specs formatted");
}

/// The examples are committed formatted: `hawser fmt --check` passes on them.
#[test]
fn examples_are_formatted() {
    for path in specs().iter().filter(|p| p.components().any(|c| c.as_os_str() == "examples")) {
        let text = std::fs::read_to_string(path).unwrap();
        let Formatted::Text(formatted) = format(&text) else { panic!("{}", path.display()) };
        if formatted != text {
            let diff = hawser::review::file_diff(
                Some(&text),
                Some(&formatted),
                "spec",
                "spec",
                hawser::review::DiffStyle { color: false, context: 1 },
            );
            panic!("{} is not formatted:\n{diff}", path.display());
        }
    }
}
