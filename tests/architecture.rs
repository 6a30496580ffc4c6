//! The crate's layout is a rule, not a habit: each stage is a folder of `compiler/src`, and
//! a stage uses only itself, the stages before it and the leaves every stage shares.
//!
//! The test reads the crate's source files, collects the module paths each one names
//! (`crate::…`, `super::…`, `self::…`, and a child module by its name), leaving out
//! comments and `#[cfg(test)]` items (a unit test may drive the whole pipeline), and
//! asserts that
//! - no file uses a later stage (the order is [`STAGES`]);
//! - no modules use each other in a cycle. A module's own ancestors do not count: a parent
//!   declares its children and holds what they share, which they name with `super::`;
//! - only files under `lsp/` name the LSP crates (`lsp_types`, `lsp_server`).
//!
//! The checker runs on synthetic files first, so a broken layout is proven to fail it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

/// The stages in order. A file may use modules of its own stage and of earlier ones.
/// Rank 0 holds the leaves, usable by every stage; `lib.rs` and `main.rs` (the crate root
/// and the binary) are outside the order.
const STAGES: &[(&str, usize)] =
    &[("span", 0), ("diagnostics", 0), ("syntax", 1), ("check", 2), ("emit", 3), ("review", 4), ("cli", 5), ("lsp", 6)];

/// The only top-level folder whose files may name the LSP crates.
const LSP_STAGE: &str = "lsp";
const LSP_CRATES: &[&str] = &["lsp_types", "lsp_server"];

/// A module's path below the crate root: `["emit", "kubernetes", "values"]`.
type ModPath = Vec<String>;

#[test]
fn the_crate_keeps_its_layout() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&src, &src, &mut files);
    assert!(files.len() > 20, "found only {} source files under {}", files.len(), src.display());
    for stage in STAGES.iter().map(|(s, _)| *s).filter(|s| !["span", "diagnostics"].contains(s)) {
        assert!(
            files.iter().any(|(path, _)| path.starts_with(&format!("{stage}/"))),
            "the stage `{stage}` has no folder: update STAGES and the docs when the layout changes"
        );
    }
    let violations = check_layout(&files);
    assert!(violations.is_empty(), "the crate's layout is broken:\n{}", violations.join("\n"));
}

#[test]
fn a_later_stage_is_refused() {
    let files = files(&[
        ("check/mod.rs", "pub mod lower;\nuse crate::emit::build::binary;\n"),
        ("check/lower.rs", "use crate::span::Span;\n"),
        ("emit/mod.rs", "pub mod build;\n"),
        ("emit/build.rs", "use crate::check::lower;\n"),
        ("span.rs", ""),
    ]);
    assert_eq!(check_layout(&files), ["check/mod.rs: uses `emit::build` (`crate::emit::build::binary`), a later stage"]);
}

#[test]
fn a_leaf_may_not_use_a_stage() {
    let files = files(&[
        ("span.rs", "/// [`crate::syntax`] in a comment is fine\nfn f() { crate::syntax::parse(\"\"); }\n"),
        ("syntax/mod.rs", ""),
    ]);
    assert_eq!(check_layout(&files), ["span.rs: uses `syntax` (`crate::syntax::parse`), a later stage"]);
}

#[test]
fn a_cycle_inside_a_stage_is_refused() {
    // Two siblings naming each other through a `super::` group; three modules in a loop,
    // one of them reached through a child module's name.
    let files = files(&[
        ("emit/mod.rs", "pub mod kubernetes;\npub mod monitoring;\npub mod prometheus;\n"),
        ("emit/kubernetes/mod.rs", "pub mod objects;\npub mod values;\nfn f() { values::chart(); }\n"),
        ("emit/kubernetes/objects.rs", "use super::values::{ChartValues, PortValues};\n"),
        ("emit/kubernetes/values.rs", "use super::{objects::EnvVar, super::monitoring};\n"),
        ("emit/monitoring.rs", "use crate::emit::prometheus::regex_escape;\n"),
        ("emit/prometheus.rs", "fn f() { crate::emit::kubernetes::values::qos_class(); }\n"),
        ("check/mod.rs", "pub mod lower;\npub mod model;\n"),
        ("check/lower.rs", "use crate::check::{model::Spec, self};\n"),
        ("check/model.rs", "use super::lower::lower;\n"),
    ]);
    assert_eq!(
        check_layout(&files),
        [
            "import cycle: check::lower -> check::model -> check::lower",
            "import cycle: emit::kubernetes::objects -> emit::kubernetes::values -> emit::kubernetes::objects (also on cycles with it: emit::monitoring, emit::prometheus)",
        ]
    );
}

#[test]
fn a_parent_and_its_children_are_not_a_cycle() {
    // The parent calls its child, which names the types the parent holds for all children.
    let files = files(&[
        ("emit/mod.rs", "pub mod build;\npub struct Artifacts;\nfn generate() { build::emit(); }\n"),
        ("emit/build.rs", "use super::Artifacts;\npub fn emit() {}\n"),
    ]);
    assert_eq!(check_layout(&files), Vec::<String>::new());
}

#[test]
fn test_code_and_comments_do_not_count() {
    let text = "//! Uses [`crate::emit`] in docs.\nuse crate::span::Span; // not crate::emit\n\n#[cfg(test)]\nmod tests {\n    use crate::emit::generate;\n}\n";
    let files = files(&[("check/mod.rs", text), ("span.rs", ""), ("emit/mod.rs", "")]);
    assert_eq!(check_layout(&files), Vec::<String>::new());
    // The same text with the test attribute removed is a violation: the stripping is what
    // lets it through.
    let files = files_owned(vec![
        ("check/mod.rs".to_owned(), text.replace("#[cfg(test)]", "")),
        ("span.rs".to_owned(), String::new()),
        ("emit/mod.rs".to_owned(), String::new()),
    ]);
    assert_eq!(check_layout(&files), ["check/mod.rs: uses `emit` (`crate::emit::generate`), a later stage"]);
}

#[test]
fn super_inside_an_inline_module_is_its_file() {
    let text =
        "pub mod code {\n    use super::Code;\n    mod deeper {\n        use super::super::super::emit::X;\n    }\n}\npub struct Code;\n";
    let files = files(&[("lib.rs", ""), ("diagnostics.rs", text), ("emit/mod.rs", "")]);
    assert_eq!(check_layout(&files), ["diagnostics.rs: uses `emit` (`super::super::super::emit::X`), a later stage"]);
}

#[test]
fn only_the_lsp_names_lsp_types() {
    let files = files(&[
        ("lsp/mod.rs", "use lsp_types::Url;\nuse lsp_server::Connection;\n"),
        ("cli/mod.rs", "fn f(_: lsp_types::Position) {}\n"),
        ("main.rs", "use lsp_server::Message;\n"),
    ]);
    assert_eq!(
        check_layout(&files),
        ["cli/mod.rs: names `lsp_types`, which only lsp/ may", "main.rs: names `lsp_server`, which only lsp/ may"]
    );
}

#[test]
fn a_path_to_an_unknown_place_is_reported() {
    let files = files(&[("lib.rs", "pub mod check;\n"), ("check/mod.rs", "use crate::values::Duration;\nuse crate::Analysis;\n")]);
    assert_eq!(
        check_layout(&files),
        [
            "check/mod.rs: `crate::values::Duration` names no module of the crate (module paths changed? see the layout in lib.rs)",
            "check/mod.rs: `crate::Analysis` names the crate root: name the module that defines it"
        ]
    );
}

/// Every rule broken by the files, one line each, in a stable order.
fn check_layout(files: &[(String, String)]) -> Vec<String> {
    let modules: BTreeMap<ModPath, &str> = files.iter().filter(|(p, _)| p != "main.rs").map(|(p, _)| (module_of(p), p.as_str())).collect();
    let mut out = Vec::new();
    let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for (path, text) in files {
        let code = strip(text);
        if !path.starts_with(&format!("{LSP_STAGE}/")) {
            for krate in LSP_CRATES {
                if contains_word(&code, krate) {
                    out.push(format!("{path}: names `{krate}`, which only {LSP_STAGE}/ may"));
                }
            }
        }
        // The binary uses the library from outside, as `hawser::`.
        if path == "main.rs" {
            continue;
        }
        let from = module_of(path);
        if !from.is_empty() && rank(&from).is_none() {
            out.push(format!("{path}: `{}` is in no stage: put it in a stage's folder, or add it to STAGES", from[0]));
        }
        let children: BTreeSet<&str> = declared_children(&code);
        for (written, target) in references(&from, &code, &children) {
            let Some(resolved) = longest_module(&modules, &target) else {
                out.push(format!("{path}: `{written}` names no module of the crate (module paths changed? see the layout in lib.rs)"));
                continue;
            };
            if resolved.is_empty() {
                if !from.is_empty() {
                    out.push(format!("{path}: `{written}` names the crate root: name the module that defines it"));
                }
                continue;
            }
            if let (Some(a), Some(b)) = (rank(&from), rank(&resolved))
                && b > a
            {
                out.push(format!("{path}: uses `{}` (`{written}`), a later stage", resolved.join("::")));
            }
            if !resolved.starts_with(&from) && !from.starts_with(&resolved) {
                edges.entry(from.clone()).or_default().insert(resolved);
            }
        }
    }
    out.extend(cycles(&edges));
    out.dedup();
    out
}

/// The module a file defines: `emit/kubernetes/mod.rs` and `emit/kubernetes.rs` are both
/// `emit::kubernetes`, `lib.rs` is the root.
fn module_of(path: &str) -> ModPath {
    let stem = path.strip_suffix(".rs").unwrap_or(path);
    let mut parts: ModPath = stem.split('/').map(str::to_owned).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

fn rank(module: &ModPath) -> Option<usize> {
    let first = module.first()?;
    STAGES.iter().find(|(s, _)| s == first).map(|&(_, r)| r)
}

/// The code without comments, without the contents of string and character literals, and
/// without `#[cfg(test)]` items; line breaks are kept.
fn strip(text: &str) -> String {
    let code = blank_literals_and_comments(text);
    let mut out = String::with_capacity(code.len());
    let mut rest = code.as_str();
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        // The item ends at its first `;` outside braces, or at the `}` closing its body.
        let mut depth = 0usize;
        let mut end = item.len();
        for (i, c) in item.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth <= 1 => {
                    end = i + 1;
                    break;
                }
                '}' => depth -= 1,
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        out.extend(item[..end].chars().filter(|&c| c == '\n'));
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// Comments and the insides of literals become spaces, so neither a path in a doc comment
/// nor a brace in a string counts.
fn blank_literals_and_comments(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let word_start = i == 0 || !is_ident_char(chars[i - 1]);
        let raw_open = i + usize::from(c == 'b') + 1;
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0usize;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
        } else if word_start
            && (c == 'r' || c == 'b' && next == Some('r'))
            && let Some(hashes) = raw_string_hashes(&chars, raw_open)
        {
            // Keep the prefix and the opening quote, blank up to the closing quote.
            let body = raw_open + hashes + 1;
            out.extend(&chars[i..body]);
            i = body;
            while i < chars.len() && !(chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#'))) {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
                if let Some(&x) = chars.get(i) {
                    blank(&mut out, x);
                }
                i += 1;
            }
            if i < chars.len() {
                out.push('"');
                i += 1;
            }
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal; a lifetime has no closing quote two characters on.
            out.push('\'');
            i += 1;
            if chars.get(i) == Some(&'\\') {
                out.push(' ');
                i += 1;
            }
            while i < chars.len() && chars[i] != '\'' {
                blank(&mut out, chars[i]);
                i += 1;
            }
            if i < chars.len() {
                out.push('\'');
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// At `chars[at]`, `#`s then `"`: the opening of a raw string, and how many `#`s it has.
fn raw_string_hashes(chars: &[char], at: usize) -> Option<usize> {
    let hashes = chars.get(at..)?.iter().take_while(|&&c| c == '#').count();
    (chars.get(at + hashes) == Some(&'"')).then_some(hashes)
}

/// `mod x;` and `pub mod x;` (any visibility) declared in the file.
fn declared_children(code: &str) -> BTreeSet<&str> {
    code.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest =
                l.strip_prefix("mod ").or_else(|| l.split_once(" mod ").filter(|(vis, _)| vis.starts_with("pub")).map(|(_, r)| r))?;
            rest.strip_suffix(';').map(str::trim)
        })
        .collect()
}

fn contains_word(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + word.len()..].chars().next();
        !before.is_some_and(is_ident_char) && !after.is_some_and(is_ident_char)
    })
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every module path the code names, as written and resolved to a path from the root.
/// Paths start at `crate::`, `super::` or `self::`, or at a child module the file declares.
fn references(from: &ModPath, code: &str, children: &BTreeSet<&str>) -> Vec<(String, ModPath)> {
    let mut out = Vec::new();
    let inline = inline_modules(code);
    let mut i = 0;
    while let Some(c) = code[i..].chars().next() {
        let before = code[..i].chars().next_back();
        let starts_word = !before.is_some_and(|b| is_ident_char(b) || b == ':');
        if !starts_word || !is_ident_char(c) {
            i += c.len_utf8();
            continue;
        }
        let word_end = i + code[i..].find(|c: char| !is_ident_char(c)).unwrap_or(code.len() - i);
        let word = &code[i..word_end];
        // Inside `mod name { … }`, `super` and `self` start from that module.
        let here = || -> ModPath {
            from.iter().cloned().chain(inline.iter().filter(|(s, e, _)| (*s..*e).contains(&i)).map(|(_, _, n)| n.clone())).collect()
        };
        let base: Option<ModPath> = match word {
            "crate" => Some(Vec::new()),
            "super" | "self" => Some(here()),
            w if children.contains(w) => Some(from.clone()),
            _ => None,
        };
        if let Some(base) = base
            && code[word_end..].starts_with("::")
        {
            let (paths, end) = parse_tree(code, i);
            for segments in paths {
                let written = segments.join("::");
                if let Some(target) = resolve(&base, &segments) {
                    out.push((written, target));
                }
            }
            i = end;
        } else {
            i = word_end;
        }
    }
    out
}

/// The modules written inline, `mod name { … }`: where each body starts and ends, and its
/// name, outermost first.
fn inline_modules(code: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices("mod ") {
        if code[..at].chars().next_back().is_some_and(is_ident_char) {
            continue;
        }
        let rest = &code[at + 4..];
        let name_len = rest.find(|c: char| !is_ident_char(c)).unwrap_or(rest.len());
        let after = rest[name_len..].trim_start();
        if name_len == 0 || !after.starts_with('{') {
            continue;
        }
        let open = code.len() - after.len();
        let mut depth = 0usize;
        let mut end = code.len();
        for (i, c) in code[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push((open, end, rest[..name_len].to_owned()));
    }
    out
}

/// The paths of a use tree starting at `start`: `a::b::{c, d::{e}}` is `a::b::c` and
/// `a::b::d::e`. Returns the paths and where the tree ends.
fn parse_tree(code: &str, start: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    let mut i = start;
    loop {
        let rest = &code[i..];
        let trimmed = rest.trim_start();
        i += rest.len() - trimmed.len();
        if trimmed.starts_with('{') {
            let mut paths = Vec::new();
            i += 1;
            loop {
                let rest = &code[i..];
                let trimmed = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
                i += rest.len() - trimmed.len();
                if trimmed.starts_with('}') || trimmed.is_empty() {
                    return (paths, (i + 1).min(code.len()));
                }
                let (inner, end) = parse_tree(code, i);
                paths.extend(inner.into_iter().map(|p| prefix.iter().cloned().chain(p).collect()));
                // A glob or a rename (`*`, `as`) names nothing further: step over it.
                i = if end > i { end } else { i + trimmed.chars().next().map_or(1, char::len_utf8) };
            }
        }
        let len = trimmed.find(|c: char| !is_ident_char(c)).unwrap_or(trimmed.len());
        if len == 0 {
            return (vec![prefix], i);
        }
        prefix.push(trimmed[..len].to_owned());
        i += len;
        if code[i..].starts_with("::") {
            i += 2;
        } else {
            return (vec![prefix], i);
        }
    }
}

/// A path written in module `base` as a path from the root. `self` alone (in a use group)
/// names the prefix itself.
fn resolve(base: &ModPath, segments: &[String]) -> Option<ModPath> {
    let mut out = base.clone();
    let mut rest = segments;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            out.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        _ => {}
    }
    while rest.first().is_some_and(|s| s == "super") {
        out.pop()?;
        rest = &rest[1..];
    }
    out.extend(rest.iter().filter(|s| *s != "self").cloned());
    Some(out)
}

/// The longest prefix of `target` that is a module of the crate. `None` when even its
/// first segment is no module (and it is not an item of the root).
fn longest_module(modules: &BTreeMap<ModPath, &str>, target: &ModPath) -> Option<ModPath> {
    let found = (0..=target.len()).rev().map(|n| target[..n].to_vec()).find(|p| modules.contains_key(p))?;
    // `crate::x::…` where `x` is not a module: an unknown path when it continues, an item
    // of the root (`crate::Analysis`) when it does not.
    if found.is_empty() && target.len() > 1 {
        return None;
    }
    Some(found)
}

/// The cycles of the graph: for each strongly connected component of more than one module,
/// the shortest cycle through its first module, with the component's other modules.
fn cycles(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<String> {
    let nodes: BTreeSet<&ModPath> = edges.keys().chain(edges.values().flatten()).collect();
    let reachable = |a: &ModPath| -> BTreeSet<&ModPath> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![a];
        while let Some(n) = stack.pop() {
            for m in edges.get(n).into_iter().flatten() {
                if seen.insert(m) {
                    stack.push(m);
                }
            }
        }
        seen
    };
    let name = |m: &ModPath| m.join("::");
    let mut done: BTreeSet<&ModPath> = BTreeSet::new();
    let mut out = Vec::new();
    for &start in &nodes {
        if done.contains(start) || !reachable(start).contains(start) {
            continue;
        }
        let component: Vec<&ModPath> =
            nodes.iter().copied().filter(|n| reachable(start).contains(n) && reachable(n).contains(start)).collect();
        done.extend(component.iter().copied());
        // Breadth first from `start` back to it, remembering how each module was reached.
        let mut came_from: BTreeMap<&ModPath, &ModPath> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        'search: while let Some(n) = queue.pop_front() {
            for m in edges.get(n).into_iter().flatten() {
                if m == start {
                    came_from.insert(start, n);
                    break 'search;
                }
                if !came_from.contains_key(m) {
                    came_from.insert(m, n);
                    queue.push_back(m);
                }
            }
        }
        let mut path = vec![start];
        let mut at = came_from[start];
        while at != start {
            path.push(at);
            at = came_from[at];
        }
        path.push(start);
        path.reverse();
        let on_path: BTreeSet<&ModPath> = path.iter().copied().collect();
        let others: Vec<String> = component.iter().filter(|m| !on_path.contains(*m)).map(|m| name(m)).collect();
        let mut line = format!("import cycle: {}", path.iter().map(|m| name(m)).collect::<Vec<_>>().join(" -> "));
        if !others.is_empty() {
            let _ = write!(line, " (also on cycles with it: {})", others.join(", "));
        }
        out.push(line);
    }
    out
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("readable source dir").flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(root, &p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let rel = p.strip_prefix(root).expect("below the root").to_string_lossy().replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&p).expect("readable source file")));
        }
    }
}

fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
    files_owned(list.iter().map(|(p, t)| ((*p).to_owned(), (*t).to_owned())).collect())
}

fn files_owned(list: Vec<(String, String)>) -> Vec<(String, String)> {
    list
}
