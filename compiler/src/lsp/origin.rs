//! From a generated file back to the spec: which output directory and spec a generated
//! file belongs to, and the spec values that produce one of its lines, found as `hawser
//! why` finds them ([`crate::cli::why`]).
//!
//! Only files the lock of their output directory lists are answered for, and only the spec
//! the lock names, beside the output directory, is read: a path in a request never leads
//! anywhere else.

use std::path::{Path, PathBuf};

use crate::cli::why;
use crate::span::Span;

/// A generated file: its output directory, its path inside it and the spec that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub out: PathBuf,
    pub rel: String,
    pub spec: PathBuf,
    pub spec_name: String,
}

/// The generated file at `path`, when a lock above it lists it and the spec the lock names
/// is beside the output directory.
pub fn generated_file(path: &Path) -> Option<GeneratedFile> {
    if !path.is_absolute() {
        return None;
    }
    let located = why::locate(path).ok()?;
    let spec_name = located.lock.spec_name.clone();
    let spec = located.out.parent()?.join(&spec_name);
    spec.is_file().then_some(GeneratedFile { out: located.out, rel: located.rel, spec, spec_name })
}

/// The spec's text as it is on disk, read as `hawser why` reads it: never through a
/// symlink.
pub fn spec_text(file: &GeneratedFile) -> Result<String, String> {
    why::spec_beside(&file.out, &file.spec_name).map(|(_, text)| text)
}

/// The spec values that produce line `line` (from 0) of the generated file, given the
/// spec's text; empty when the line is hawser's own, `None` when the spec has errors.
pub fn origins(file: &GeneratedFile, spec_text: &str, line: usize) -> Option<Vec<Span>> {
    let opts = why::options(&file.spec, &file.out, None, spec_text);
    crate::review::why::origins(spec_text, &opts, &file.rel, line + 1).map(|found| found.into_iter().map(|o| o.span).collect())
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
