//! The configuration files a spec names (`file "/etc/api/config.yaml" source="./api.yaml"`):
//! the only files besides the spec that `generate` reads. Reading them is an edge
//! (`review::inputs::read`, confined like the output directory); here is what is known of
//! them as data: which the spec names where, and what their contents may be.
//!
//! A file must be a regular file of UTF-8 text of at most [`MAX_INPUT`] bytes, and a
//! workload's files must fit in one ConfigMap. What a file holds is published (in
//! ConfigMaps, values files and releases), so it is searched for credentials: unmistakable
//! ones are errors (E0928), lines that give a credential-like key a value are warnings
//! (W0910).

use std::collections::{BTreeMap, BTreeSet};

use crate::check::model::{Spec, View};
use crate::diagnostics::{self as diag, Diagnostic};
use crate::span::Span;

/// The most one configuration file may hold.
pub const MAX_INPUT: usize = 512 * 1024;
/// The most a Kubernetes ConfigMap holds, keys and values together.
pub const MAX_CONFIG_MAP: usize = 1024 * 1024;

/// The contents of the configuration files, by their plain relative path (`config/api.yaml`).
pub type Inputs = BTreeMap<String, String>;

/// What reading one file found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Raw {
    File(Vec<u8>),
    Missing,
    /// A symlink at the path or on the way to it.
    Symlink,
    Directory,
    /// A FIFO, socket or device.
    Special,
    TooLarge(u64),
    /// Another I/O error, as text.
    Failed(String),
}

/// One place in the spec that names an input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Naming {
    pub key: String,
    /// The source as written.
    pub source: String,
    pub span: Span,
    pub workload: String,
    /// The workload (in that view) or the project acknowledges W0910.
    pub allows_credential_like: bool,
}

/// Every place the spec names an input file, in the base and in every environment, in
/// source order (a place shared by several views once).
pub fn namings(spec: &Spec) -> Vec<Naming> {
    let views = std::iter::once(&spec.base).chain(spec.environments.values().map(|e| &e.view));
    let mut out: BTreeMap<Span, Naming> = BTreeMap::new();
    for view in views {
        collect(view, &mut out);
    }
    out.into_values().collect()
}

fn collect(view: &View, out: &mut BTreeMap<Span, Naming>) {
    let code = diag::code::INPUT_CREDENTIAL_LIKE.id;
    let project_allows = view.project.allows.iter().any(|a| a.code.value == code);
    for w in view.workloads.values() {
        for f in &w.files {
            let allows = project_allows || w.allows(code);
            let entry = out.entry(f.source.span).or_insert_with(|| Naming {
                key: f.input(),
                source: f.source.value.clone(),
                span: f.source.span,
                workload: w.name.value.clone(),
                allows_credential_like: allows,
            });
            // Shared by several views: acknowledged only where every view acknowledges it.
            entry.allows_credential_like &= allows;
        }
    }
}

/// Checks what was read: every file must be a regular file of text inside the directory,
/// small enough, and hold no credential; each workload's files must fit in one ConfigMap.
pub fn assess(spec: &Spec, namings: &[Naming], raw: BTreeMap<String, Raw>) -> (Inputs, Vec<Diagnostic>) {
    let mut inputs = Inputs::new();
    let mut diags = Vec::new();
    let mut reported: BTreeSet<&str> = BTreeSet::new();
    for n in namings {
        let first = reported.insert(n.key.as_str());
        let Some(found) = raw.get(&n.key) else { continue };
        let source = crate::check::values::escape(&n.source);
        let problem = match found {
            Raw::File(bytes) if bytes.len() > MAX_INPUT => {
                Some(diag::input_not_text(&source, n.span, &format!("has {} bytes, more than {MAX_INPUT}", bytes.len())))
            }
            Raw::File(bytes) => match text(bytes) {
                Err(why) => Some(diag::input_not_text(&source, n.span, &why)),
                Ok(t) => {
                    if first {
                        inputs.insert(n.key.clone(), t.to_owned());
                    }
                    if let Some((line, what)) = credential(t) {
                        Some(diag::input_credential(&source, n.span, line, what))
                    } else {
                        credential_like(t)
                            .filter(|_| !n.allows_credential_like)
                            .map(|(line, key)| diag::input_credential_like(&source, n.span, line, &crate::check::values::escape(&key)))
                    }
                }
            },
            Raw::Missing => Some(diag::input_unreadable(&source, n.span, "there is no such file")),
            Raw::Failed(why) => Some(diag::input_unreadable(&source, n.span, why)),
            Raw::Symlink => Some(diag::input_outside(&source, n.span, "is a symlink, or a symlink is on the way to it")),
            Raw::Directory => Some(diag::input_outside(&source, n.span, "is a directory")),
            Raw::Special => Some(diag::input_outside(&source, n.span, "is not a regular file (a FIFO, a socket or a device)")),
            Raw::TooLarge(size) => Some(diag::input_not_text(&source, n.span, &format!("has {size} bytes, more than {MAX_INPUT}"))),
        };
        // A problem of the file is reported once, where the spec first names it; a warning
        // that one place acknowledges may still be due at another.
        if let Some(d) = problem
            && (first || !d.is_error())
        {
            diags.push(d);
        }
    }
    // A workload's files are one ConfigMap on Kubernetes: keys and contents together fit in it.
    let views = std::iter::once(&spec.base).chain(spec.environments.values().map(|e| &e.view));
    for view in views {
        for w in view.workloads.values() {
            let mut total = 0;
            for f in &w.files {
                let Some(contents) = inputs.get(&f.input()) else { continue };
                total += f.key().len() + contents.len();
                if total > MAX_CONFIG_MAP {
                    let d = diag::input_not_text(
                        &crate::check::values::escape(&f.source.value),
                        f.source.span,
                        &format!(
                            "brings the files of `{}` to {total} bytes, more than one ConfigMap holds ({MAX_CONFIG_MAP})",
                            w.name.value
                        ),
                    );
                    if !diags.iter().any(|e| e.primary_span() == d.primary_span() && e.code == d.code) {
                        diags.push(d);
                    }
                    break;
                }
            }
        }
    }
    diags.sort_by_key(|d| (d.primary_span(), d.code.id));
    (inputs, diags)
}

/// The file as text: UTF-8 without control characters other than tab, line feed and
/// carriage return (which no platform can carry, and no configuration format needs).
fn text(bytes: &[u8]) -> Result<&str, String> {
    let t = std::str::from_utf8(bytes).map_err(|e| format!("is not UTF-8 text (byte {} is not)", e.valid_up_to() + 1))?;
    if let Some((i, c)) = t.char_indices().find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        let line = t[..i].matches('\n').count() + 1;
        return Err(format!("holds the control character U+{:04X} on line {line}, so it is not text", c as u32));
    }
    Ok(t)
}

/// The first unmistakable credential in a text: its line and what it is.
pub fn credential(text: &str) -> Option<(usize, &'static str)> {
    for (i, line) in text.lines().enumerate() {
        if let Some(what) = credential_in_line(line) {
            return Some((i + 1, what));
        }
    }
    None
}

fn credential_in_line(line: &str) -> Option<&'static str> {
    if let Some(rest) = line.find("-----BEGIN ").map(|i| &line[i + 11..])
        && rest.find("PRIVATE KEY-----").is_some_and(|end| rest[..end].chars().all(|c| c.is_ascii_uppercase() || c == ' '))
    {
        return Some("a private key");
    }
    // Token formats whose prefix says what they are, with the shortest body each has.
    const TOKENS: &[(&str, usize, &str)] = &[
        ("AKIA", 16, "an AWS access key id"),
        ("ASIA", 16, "an AWS access key id"),
        ("ghp_", 36, "a GitHub token"),
        ("gho_", 36, "a GitHub token"),
        ("ghu_", 36, "a GitHub token"),
        ("ghs_", 36, "a GitHub token"),
        ("ghr_", 36, "a GitHub token"),
        ("github_pat_", 22, "a GitHub token"),
        ("glpat-", 20, "a GitLab token"),
        ("xoxb-", 10, "a Slack token"),
        ("xoxp-", 10, "a Slack token"),
        ("xoxa-", 10, "a Slack token"),
        ("xoxr-", 10, "a Slack token"),
        ("xoxs-", 10, "a Slack token"),
        ("sk_live_", 16, "a Stripe secret key"),
        ("rk_live_", 16, "a Stripe secret key"),
        ("AIza", 35, "a Google API key"),
    ];
    let bytes = line.as_bytes();
    for (prefix, body, what) in TOKENS {
        let mut from = 0;
        while let Some(at) = line[from..].find(prefix).map(|i| i + from) {
            let starts_word = at == 0 || !is_token_char(bytes[at - 1]);
            let len = bytes[at + prefix.len()..].iter().take_while(|b| is_token_char(**b)).count();
            let upper_only = prefix.starts_with("AKIA") || prefix.starts_with("ASIA");
            let body_ok = if upper_only {
                len == *body
                    && bytes[at + prefix.len()..at + prefix.len() + len].iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            } else {
                len >= *body
            };
            if starts_word && body_ok {
                return Some(what);
            }
            from = at + prefix.len();
        }
    }
    None
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The first line that gives a credential-like key a literal value (`password: hunter2`,
/// `"apiKey": "…"`, `DB_PASSWORD=…`): its number and the key. A value that names where the
/// credential is (`${DB_PASSWORD}`, `$DB_PASSWORD`, `/run/secrets/db`, `<password>`,
/// `{{ .password }}`), and an empty one, is not a credential.
pub fn credential_like(text: &str) -> Option<(usize, String)> {
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') || trimmed.starts_with("//") || trimmed.starts_with(';') {
            continue;
        }
        let Some(at) = trimmed.find([':', '=']) else { continue };
        let key = trimmed[..at].trim_start_matches(['{', '[', '-', ' ']).trim().trim_matches(['"', '\'']);
        if key.is_empty() || key.contains(char::is_whitespace) {
            continue;
        }
        let value = trimmed[at + 1..].trim().trim_end_matches([',', '}', ']']).trim().trim_matches(['"', '\'']).trim();
        if !credential_key(key) || placeholder(value) {
            continue;
        }
        return Some((i + 1, key.to_owned()));
    }
    None
}

/// Whether a configuration key names a credential: `password`, `db.password`, `apiKey`,
/// `client-secret`, `AUTH_TOKEN`; not `key`, `token_url`, `password_file`, `public_key`.
fn credential_key(key: &str) -> bool {
    let upper = split_camel(key).replace(['-', '.'], "_").to_ascii_uppercase();
    let last = upper.rsplit('_').next().unwrap_or(&upper);
    ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "CREDENTIALS"].contains(&last)
        || ["API_KEY", "PRIVATE_KEY", "ACCESS_KEY", "SECRET_KEY", "SIGNING_KEY"].iter().any(|s| upper.ends_with(s))
}

/// `apiKey` → `api_Key`, so that camelCase keys read like the others.
fn split_camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    let mut prev_lower = false;
    for c in key.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c);
    }
    out
}

fn placeholder(value: &str) -> bool {
    value.is_empty()
        || ["null", "~", "none", "{}", "[]", "|", ">"].contains(&value.to_ascii_lowercase().as_str())
        || value.starts_with(['$', '/', '<', '%', '{', '['])
        || value.starts_with("file:")
        || value.starts_with("env:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmistakable_credentials_are_found() {
        assert_eq!(credential("a: 1\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n"), Some((2, "a private key")));
        assert_eq!(credential("key: \"-----BEGIN PRIVATE KEY-----\\nMII\""), Some((1, "a private key")));
        assert_eq!(credential("aws_access_key_id = AKIAIOSFODNN7EXAMPLE"), Some((1, "an AWS access key id")));
        assert_eq!(credential(&format!("token: ghp_{}", "a".repeat(36))), Some((1, "a GitHub token")));
        // Public keys, certificates, short or embedded look-alikes are not.
        assert_eq!(credential("-----BEGIN PUBLIC KEY-----\n-----BEGIN CERTIFICATE-----"), None);
        assert_eq!(credential("x: AKIA-not-a-key\ny: MAKIAIOSFODNN7EXAMPLE\nz: ghp_short"), None);
        assert_eq!(credential("log_level: info\nport: 8080"), None);
    }

    #[test]
    fn credential_like_lines_are_found_and_references_are_not() {
        assert_eq!(credential_like("db:\n  password: hunter2\n"), Some((2, "password".to_owned())));
        assert_eq!(credential_like("{\"apiKey\": \"abc\"}"), Some((1, "apiKey".to_owned())));
        assert_eq!(credential_like("  \"apiKey\": \"abc\",\n"), Some((1, "apiKey".to_owned())));
        assert_eq!(credential_like("DB_PASSWORD=hunter2"), Some((1, "DB_PASSWORD".to_owned())));
        for ok in [
            "password: ${DB_PASSWORD}",
            "password: $DB_PASSWORD",
            "password_file: /run/secrets/db",
            "password: /run/secrets/db",
            "password: \"\"",
            "password:",
            "# password: hunter2",
            "token: <set by the operator>",
            "public_key: abc",
            "cache_key_prefix: v2",
            "key: v2",
            "token_url: https://auth.example.com/token",
        ] {
            assert_eq!(credential_like(ok), None, "{ok}");
        }
    }

    #[test]
    fn text_refuses_control_characters_and_other_encodings() {
        assert!(text(b"a\tb\r\nc\n").is_ok());
        assert!(text(b"a\0b").unwrap_err().contains("U+0000"));
        assert!(text(&[0x61, 0xff]).unwrap_err().contains("not UTF-8"));
    }
}
