//! What several test binaries share: the examples and the top-level declarations of a spec.
#![allow(dead_code, reason = "each test binary uses part of this module")]

use std::path::Path;

/// Every example under `examples/`: its name and its spec's text, in name order.
pub fn examples() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("examples dir")
        .filter_map(|e| {
            let path = e.ok()?.path();
            let text = std::fs::read_to_string(path.join("hawser.kdl")).ok()?;
            Some((path.file_name()?.to_str()?.to_owned(), text))
        })
        .collect();
    out.sort();
    assert!(out.len() >= 3, "expected at least three examples, found {}", out.len());
    out
}

/// The configuration files a spec in `dir` names, read as `hawser generate` reads them
/// (empty when the spec names none).
pub fn inputs(dir: &Path, text: &str) -> hawser::check::inputs::Inputs {
    match hawser::check(text).spec {
        Some(spec) => hawser::review::inputs::read(dir, &spec).0,
        None => hawser::check::inputs::Inputs::new(),
    }
}

/// The directory of an example, by name.
pub fn example_dir(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name)
}

/// The directory of the specs under `tests/specs/`.
pub fn specs_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/specs")
}

/// Top-level declarations of a spec, in order, as text: the nodes and the comments before them.
pub fn top_level_chunks(text: &str) -> Vec<String> {
    let (doc, _) = hawser::syntax::parse(text);
    let doc = doc.expect("parses");
    let mut chunks = Vec::new();
    let mut start = 0;
    for node in &doc.nodes {
        let end = node.span.end as usize;
        chunks.push(text[start..end].to_owned() + "\n");
        start = end;
    }
    chunks
}

/// The kubelet's expansion of `$(VAR)` in a container's arguments, as Kubernetes
/// implements it (`third_party/forked/golang/expansion`), with every variable defined.
pub fn kubelet_expand(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && i + 1 < b.len() {
            match b[i + 1] {
                b'$' => {
                    out.push(b'$');
                    i += 2;
                }
                b'(' => match b[i + 2..].iter().position(|&c| c == b')') {
                    Some(n) => {
                        out.extend_from_slice(b"<EXPANDED>");
                        i += n + 3;
                    }
                    None => {
                        out.extend_from_slice(b"$(");
                        i += 2;
                    }
                },
                c => {
                    out.push(b'$');
                    out.push(c);
                    i += 2;
                }
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
