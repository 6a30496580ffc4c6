//! The parser and checker never panic, whatever the input: arbitrary bytes, and the
//! examples mutated by deleting, duplicating and replacing pieces.

use proptest::prelude::*;

fn example_texts() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .expect("examples dir")
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("hawser.kdl")).ok())
        .collect();
    out.push(include_str!("diagnostics_seed.kdl").to_owned());
    out.sort();
    out
}

/// Cuts at a char boundary at or below `i`.
fn floor(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

const PIECES: &[&str] = &[
    "#null",
    "(secret)",
    "{",
    "}",
    "\"",
    "=",
    ";",
    "replicas -1",
    "port \"http\" 0",
    "env { X #null }",
    "depends-on \"api\"",
    "\n",
    "/-",
    "memory limit=\"1MB\"",
    "environment \"x\" { service \"api\" { } }",
    "service \"api\" {",
    "health { ready tcp }",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_do_not_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = hawser::check(&text);
    }

    #[test]
    fn mutated_examples_do_not_panic(which in 0usize..8, ops in proptest::collection::vec((0usize..3, any::<usize>(), any::<usize>(), 0usize..PIECES.len()), 1..6)) {
        let texts = example_texts();
        let mut text = texts[which % texts.len()].clone();
        for (op, a, b, piece) in ops {
            let len = text.len().max(1);
            let start = floor(&text, a % len);
            let end = floor(&text, (start + b % 40).min(text.len())).max(start);
            match op {
                0 => text.replace_range(start..end, ""),
                1 => text.insert_str(start, PIECES[piece]),
                _ => {
                    let copy = text[start..end].to_owned();
                    text.insert_str(end, &copy);
                }
            }
        }
        let analysis = hawser::check(&text);
        // Rendering must not panic either, whatever the spans.
        let _ = hawser::cli::render::human(&analysis.diagnostics, "x.kdl", &text, hawser::cli::render::Style { color: false, width: 80 });
        let _ = hawser::cli::render::json(&analysis.diagnostics, "x.kdl", &text);
    }
}
