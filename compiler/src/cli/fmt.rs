//! `hawser fmt`: a spec formatted canonically, comments kept, with the file's byte-order
//! mark and line endings, and written back in place without following a planted file.

use std::io::Write as _;
use std::path::Path;

use crate::review::confined::Dir;
use crate::syntax::format::{self, Formatted, Layout};

/// Formats a spec's text. The formatter works on LF text; the result keeps the text's BOM
/// and its line endings (the first line's, when they are mixed), which `Layout` records.
pub fn format_text(text: &str) -> (Layout, Formatted) {
    let (layout, lf_text) = format::split_layout(text);
    let formatted = match format::format(&lf_text) {
        Formatted::Text(t) => Formatted::Text(format::restore_layout(layout, &t)),
        other => other,
    };
    (layout, formatted)
}

/// Replaces a spec's contents. A symlink is written through, to its target, and stays a
/// link. The new contents go to a temporary file beside the target, created exclusively
/// (`O_EXCL`, no symlink followed: a file planted under that name is an error, never
/// written through), given the target's mode and owner, then renamed over it. A file with
/// other hard links is rewritten in place instead, so that every link keeps the new
/// contents.
pub fn write_replacing(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let target = std::fs::canonicalize(path)?;
    let meta = std::fs::metadata(&target)?;
    if meta.nlink() > 1 {
        let mut file = std::fs::OpenOptions::new().write(true).truncate(true).open(&target)?;
        return file.write_all(contents.as_bytes()).and_then(|()| file.sync_all());
    }
    let file_name = target.file_name().and_then(|n| n.to_str()).unwrap_or("hawser.kdl");
    let dir = Dir::open_following(target.parent().unwrap_or(Path::new("/")))?;
    let tmp = format!(".{file_name}.hawser-fmt");
    dir.write_new(&tmp, contents.as_bytes(), meta.mode() & 0o7777).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            std::io::Error::new(
                e.kind(),
                format!("{tmp} is in the way beside it (left by an interrupted fmt, or planted); remove it and run fmt again"),
            )
        } else {
            e
        }
    })?;
    let renamed = dir.chown_file(&tmp, meta.uid(), meta.gid()).and_then(|()| dir.replace(&tmp, file_name));
    renamed.inspect_err(|_| {
        let _ = dir.remove_all(&tmp);
    })
}
