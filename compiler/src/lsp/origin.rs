//! From a generated file back to the spec: which output directory and spec a generated
//! file belongs to (read from disk, the LSP being an edge), and the spec values that
//! produce one of its lines (`hawser why`).
//!
//! Only files the lock of their output directory lists are answered for, and only the spec
//! the lock names, beside the output directory, is read: a path in a request never leads
//! anywhere else.

use std::path::{Path, PathBuf};

use crate::emit::Options;
use crate::review::output;
use crate::review::why;
use crate::span::Span;

/// A generated file: its output directory, its path inside it and the spec that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub out: PathBuf,
    pub rel: String,
    pub spec: PathBuf,
    pub spec_name: String,
}

/// How far above a file its output directory may be (`kubernetes/prod/api.yaml` is two
/// levels down; Helm templates three).
const MAX_DEPTH: usize = 6;

/// The generated file at `path`, when a lock above it lists it.
pub fn generated_file(path: &Path) -> Option<GeneratedFile> {
    if !path.is_absolute() {
        return None;
    }
    let out = path.ancestors().skip(1).take(MAX_DEPTH).find(|d| d.join(output::LOCK_FILE).is_file())?;
    let rel_parts: Vec<&str> = path.strip_prefix(out).ok()?.components().map(|c| c.as_os_str().to_str()).collect::<Option<_>>()?;
    let rel = rel_parts.join("/");
    let lock_text = std::fs::read_to_string(out.join(output::LOCK_FILE)).ok()?;
    let lock = output::parse_lock(&lock_text)?;
    if !lock.files.contains_key(&rel) {
        return None;
    }
    let spec_name = lock_text.lines().find_map(|l| l.strip_prefix("# spec ").and_then(|r| r.split_whitespace().nth(1)))?.to_owned();
    // A name, never a path.
    if spec_name.contains(['/', '\\']) || spec_name == ".." || spec_name == "." {
        return None;
    }
    let spec = out.parent()?.join(&spec_name);
    spec.is_file().then(|| GeneratedFile { out: out.to_path_buf(), rel, spec, spec_name })
}

/// The spec values that produce line `line` (from 0) of the generated file, given the
/// spec's text; empty when the line is hawser's own, `None` when the spec has errors.
pub fn origins(file: &GeneratedFile, spec_text: &str, line: usize) -> Option<Vec<Span>> {
    let output_dir = file.out.file_name().and_then(|n| n.to_str()).map(str::to_owned);
    let opts = Options { spec_name: file.spec_name.clone(), version: None, environments: Vec::new(), output_dir };
    why::origins(spec_text, &opts, &file.rel, line + 1).map(|found| found.into_iter().map(|o| o.span).collect())
}

/// The path of a `file://` URI (percent-escapes decoded); `None` for other schemes.
pub fn uri_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(h) = rest.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(h);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().map(PathBuf::from)
}

/// The `file://` URI of an absolute path, with the characters URIs reserve escaped.
pub fn path_uri(path: &Path) -> Option<String> {
    let s = path.to_str()?;
    let mut out = String::from("file://");
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_paths_round_trip() {
        let p = Path::new("/srv/my project/hawser.kdl");
        let uri = path_uri(p).unwrap();
        assert_eq!(uri, "file:///srv/my%20project/hawser.kdl");
        assert_eq!(uri_path(&uri).unwrap(), p);
        assert_eq!(uri_path("untitled:1"), None);
    }
}
