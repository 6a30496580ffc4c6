//! Inert strings: the one place where a spec string is encoded for the grammar of the
//! artifact it lands in, one function per grammar, so that it means exactly itself there —
//! never a command, a variable, a specifier, a template action, a new line or a new key.
//!
//! Strings whose grammar leaves no room for an encoding (an image reference, a Go package
//! path, a DNS name, a file name) are validated instead, by the checker
//! ([`crate::check::values`]) or, for what comes from the command line, by
//! [`super::check_options`]. The encoders here still never let a character through that
//! could end a line, so that a string the validators missed is garbled at worst, not
//! executed. YAML is written by serde-saphyr from typed structs, which quotes and escapes
//! every scalar that needs it; the one piece of YAML written by hand, the header comment,
//! is [`comment`] text like every other header.

use std::fmt::Write as _;

/// Quotes a string for a POSIX shell: single quotes, with `'` as `'\''`. Nothing inside
/// single quotes is special to the shell, so `$`, backquotes, `"` and newlines stay literal.
pub fn shell(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,".contains(c)) {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Quotes one argument of a systemd `Exec*=` line: double quotes, C escapes for `\`, `"`
/// and control characters, `%%` for a literal `%` (specifiers) and `$$` for a literal `$`
/// (environment expansion).
pub fn systemd_arg(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str(r"\n"),
            '\t' => out.push_str(r"\t"),
            '\r' => out.push_str(r"\r"),
            '%' => out.push_str("%%"),
            '$' => out.push_str("$$"),
            // Bidirectional overrides too: a reviewer reads the unit in the order it runs.
            c if c.is_control() || is_line_break(c) || is_bidi_control(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One word of a systemd setting that takes a list of words and expands specifiers but not
/// variables (`Documentation=`): bare when it holds only characters that mean nothing
/// there, otherwise double-quoted with C escapes; `%%` for a literal `%` either way.
pub fn systemd_word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@+,=?&#~".contains(c)) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '\'' => out.push_str("\\'"),
            '%' => out.push_str("%%"),
            c if c.is_control() || is_line_break(c) || is_bidi_control(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A value of a free-text systemd setting (`Description=`): `%%` for a
/// literal `%`, since systemd expands specifiers there. These settings have no quoting
/// and no escapes, so a character that would end or continue the line cannot be written:
/// it becomes U+FFFD (the checker refuses such values before they get here).
pub fn systemd_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%%"),
            c if c.is_control() || is_line_break(c) => out.push(char::REPLACEMENT_CHARACTER),
            c => out.push(c),
        }
    }
    // A trailing backslash would join the next line to this one.
    if out.ends_with('\\') {
        out.push(char::REPLACEMENT_CHARACTER);
    }
    out
}

/// Quotes a value of a systemd `EnvironmentFile=`: double quotes, with `\`, `"`, `` ` ``
/// and `$` escaped by a backslash, which systemd's parser removes. Newlines are refused by
/// the checker before they get here; any left are escaped the same way.
pub fn env_file(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if matches!(c, '\\' | '"' | '`' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A double-quoted word of a Dockerfile instruction that expands variables (`LABEL`,
/// `ARG`, `ENV`): `\`, `"` and `$` escaped by a backslash. A Dockerfile string has no
/// escape for a line break, so control characters and line breaks are refused.
pub fn dockerfile_string(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' | '"' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || is_line_break(c) => {
                return Err(format!("{s:?} cannot be written in a Dockerfile: it holds a control character"));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(out)
}

/// The exec (JSON) form of a Dockerfile `ENTRYPOINT` or `CMD`: a JSON array, with every
/// backslash written `\u005c` rather than `\\`. Docker reads either, but linters that
/// look for the exec form (hadolint) take an argument ending in `\\` before its closing
/// quote for shell form.
pub fn dockerfile_exec_form(argv: &[String]) -> Result<String, String> {
    let json = serde_json::to_string(argv).map_err(|e| e.to_string())?;
    // In JSON text `\\` is always one escape (a backslash), so replacing the pairs from
    // the left never splits another escape.
    Ok(json.replace(r"\\", r"\u005c"))
}

/// A word of a Dockerfile instruction that expands variables, written bare when it holds
/// only characters that mean nothing there (a version, a path) and as a
/// [`dockerfile_string`] otherwise.
pub fn dockerfile_word(s: &str) -> Result<String, String> {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@+,".contains(c)) {
        return Ok(s.to_owned());
    }
    dockerfile_string(s)
}

/// A word of a Dockerfile `RUN` line in shell form: quoted for the shell that runs it
/// ([`shell`]); refused when it holds a line break, which would end the instruction.
pub fn dockerfile_shell_word(s: &str) -> Result<String, String> {
    if s.chars().any(|c| c.is_control() || is_line_break(c)) {
        return Err(format!("{s:?} cannot be written in a Dockerfile: it holds a control character"));
    }
    Ok(shell(s))
}

/// One line of a `.dockerignore` that matches exactly the path `s`: the pattern
/// characters `*`, `?`, `[` and `\` escaped, and a leading `#` (a comment) or `!` (an
/// exception) escaped too. Line breaks are refused.
pub fn dockerignore_pattern(s: &str) -> Result<String, String> {
    if s.chars().any(|c| c.is_control() || is_line_break(c)) || s.trim() != s {
        return Err(format!("{s:?} cannot be written in a .dockerignore: it holds a control character or surrounding blanks"));
    }
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        if matches!(c, '*' | '?' | '[' | '\\') || (i == 0 && matches!(c, '#' | '!')) {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(out)
}

/// The text of a `#` comment line (shell, Dockerfile, systemd, env file, YAML,
/// `.dockerignore`): every character that could end the line, continue it or reorder how
/// it reads — control characters, Unicode line and paragraph separators, bidirectional
/// overrides — and the backslash itself are written as `\u{…}` escapes, so the comment
/// stays one line and shows the string as it is.
pub fn comment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\\' || c.is_control() || is_line_break(c) || is_bidi_control(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// Comment text (from [`comment`]) made safe inside a Helm (Go template) comment,
/// `{{- /* … */ -}}`: a `*/` is broken so that it cannot end the comment early.
pub fn helm_comment(comment_text: &str) -> String {
    comment_text.replace("*/", "*\\u{2f}")
}

/// A string the kubelet expands (a container's `args`, `command` and `env` values): every
/// `$` that starts `$(` or `$$` is doubled, so that the kubelet, which reads `$$` as `$`
/// and `$(NAME)` as a variable, passes the string to the program unchanged — as systemd
/// does with the same spec.
pub fn kubernetes_expansion(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '$' && matches!(chars.peek(), Some('(' | '$')) {
            out.push('$');
        }
    }
    out
}

/// One word of an nginx directive (a host name, a location's path, a file): bare when it
/// holds only characters that mean nothing to nginx's parser, otherwise double-quoted with
/// `\` and `"` escaped. A `$` is refused, quoted or not: nginx expands variables inside
/// quotes too, and has no escape for one; so are control characters and line breaks, and
/// a leading `~`, `=`, `^` or `@`, which make a `server_name` or a `location` a regular
/// expression, an exact match or a named location even inside quotes.
pub fn nginx_word(s: &str) -> Result<String, String> {
    if s.chars().any(|c| c == '$' || c.is_control() || is_line_break(c) || is_bidi_control(c)) || s.starts_with(['~', '=', '^', '@']) {
        return Err(format!("{s:?} cannot be written in an nginx configuration: it holds `$`, a control character or a leading modifier"));
    }
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@+*~".contains(c)) {
        return Ok(s.to_owned());
    }
    Ok(format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")))
}

/// Characters that end a line for some reader of an artifact: Unicode's line and
/// paragraph separators and NEL (YAML 1.1, Python's `splitlines`), besides the control
/// characters every caller refuses or escapes already.
fn is_line_break(c: char) -> bool {
    matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Unicode's bidirectional formatting characters: they make a line display in another
/// order than it is read ("Trojan Source").
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &[&str] = &[
        "plain",
        "with space",
        "it's",
        "$HOME",
        "`id`",
        "\"quoted\"",
        "100%",
        "a\nb",
        "back\\slash",
        "",
        "%d/x",
        "$(rm -rf /)",
        "${IFS}",
        "tab\there",
        "a;b",
        "{{ .Values }}",
        "---",
        "# not a comment",
        "\u{202e}evil",
        "раураl",
    ];

    /// Every hostile string survives a round trip through a real shell unchanged.
    #[test]
    fn shell_quoting_round_trips_through_sh() {
        for s in HOSTILE {
            let out = std::process::Command::new("sh").arg("-c").arg(format!("printf '%s' {}", shell(s))).output().expect("sh runs");
            assert_eq!(String::from_utf8_lossy(&out.stdout), *s, "quoted as {}", shell(s));
        }
    }

    #[test]
    fn systemd_arguments_escape_specifiers_and_variables() {
        assert_eq!(systemd_arg("100%"), "\"100%%\"");
        assert_eq!(systemd_arg("$HOME"), "\"$$HOME\"");
        assert_eq!(systemd_arg("say \"hi\"\n"), "\"say \\\"hi\\\"\\n\"");
        assert_eq!(systemd_arg("a\\b"), "\"a\\\\b\"");
        assert_eq!(systemd_arg("with space"), "\"with space\"");
        assert_eq!(systemd_arg("a\u{2028}b\0"), "\"a\\u2028b\\u0000\"");
    }

    #[test]
    fn systemd_words_quote_what_the_list_parser_reads() {
        assert_eq!(systemd_word("https://example.com/a?b=c&d#e"), "https://example.com/a?b=c&d#e");
        assert_eq!(systemd_word("https://x/o'brien%25"), "\"https://x/o\\'brien%%25\"");
        assert_eq!(systemd_word("a b\n"), "\"a b\\u000a\"");
    }

    #[test]
    fn dockerfile_exec_form_writes_backslashes_as_unicode_escapes() {
        let argv = vec!["/a".to_owned(), "ends\\".to_owned(), "\\n".to_owned(), "two\nlines".to_owned()];
        let json = dockerfile_exec_form(&argv).unwrap();
        assert_eq!(json, r#"["/a","ends\u005c","\u005cn","two\nlines"]"#);
        assert_eq!(serde_json::from_str::<Vec<String>>(&json).unwrap(), argv);
    }

    #[test]
    fn systemd_values_escape_specifiers_and_never_break_the_line() {
        assert_eq!(systemd_value("https://example.com/a%20b"), "https://example.com/a%%20b");
        assert_eq!(systemd_value("a\nExecStartPre=/bin/x"), "a\u{fffd}ExecStartPre=/bin/x");
        assert_eq!(systemd_value("ends\\"), "ends\\\u{fffd}");
    }

    #[test]
    fn environment_file_values_escape_shell_specials() {
        assert_eq!(env_file("$HOME"), "\"\\$HOME\"");
        assert_eq!(env_file("a\"b`c\\d"), "\"a\\\"b\\`c\\\\d\"");
        assert_eq!(env_file("100% with space"), "\"100% with space\"");
    }

    #[test]
    fn dockerfile_strings_escape_variables_and_refuse_line_breaks() {
        assert_eq!(dockerfile_string("https://x/$HOME\"").as_deref(), Ok("\"https://x/\\$HOME\\\"\""));
        assert!(dockerfile_string("1.0\nRUN touch /pwned").is_err());
        assert!(dockerfile_shell_word("./cmd/x\nRUN id").is_err());
        assert_eq!(dockerfile_shell_word("./cmd/x;touch${IFS}PWNED").as_deref(), Ok("'./cmd/x;touch${IFS}PWNED'"));
        assert_eq!(dockerfile_word("1.4.2").as_deref(), Ok("1.4.2"));
        assert_eq!(dockerfile_word("1 $X").as_deref(), Ok("\"1 \\$X\""));
    }

    #[test]
    fn dockerignore_patterns_match_only_themselves() {
        assert_eq!(dockerignore_pattern("hawser.kdl").as_deref(), Ok("hawser.kdl"));
        assert_eq!(dockerignore_pattern("#x*.kdl").as_deref(), Ok("\\#x\\*.kdl"));
        assert_eq!(dockerignore_pattern("!a").as_deref(), Ok("\\!a"));
        assert!(dockerignore_pattern("a\n!b").is_err());
    }

    #[test]
    fn comments_stay_one_line_and_read_in_order() {
        for s in HOSTILE {
            let c = comment(s);
            assert!(!c.contains('\n') && !c.ends_with('\\'), "{c:?}");
        }
        assert_eq!(comment("x.kdl\nrm -rf /"), "x.kdl\\u{a}rm -rf /");
        assert_eq!(comment("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(comment("trailing\\"), "trailing\\u{5c}");
        assert_eq!(helm_comment(&comment("a*/b")), "a*\\u{2f}b");
    }

    /// The kubelet's expansion, as Kubernetes implements it
    /// (`third_party/forked/golang/expansion`), with every variable defined: what the
    /// program would receive.
    fn kubelet_expand(s: &str) -> String {
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
                            out.extend_from_slice(b"EXPANDED");
                            i += n + 3;
                        }
                        // An unclosed reference stays as it is, and the scan goes on.
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
        String::from_utf8(out).expect("utf-8 in, utf-8 out")
    }

    /// Every hostile string is refused or becomes one nginx token that means itself: a
    /// `server_name` and a `location` of it pass `nginx -t` (when nginx is installed), and
    /// nothing of it becomes a directive or a variable.
    #[test]
    fn nginx_words_are_one_token() {
        assert_eq!(nginx_word("api.example.com").as_deref(), Ok("api.example.com"));
        assert_eq!(nginx_word("*.example.com").as_deref(), Ok("*.example.com"));
        assert_eq!(nginx_word("/etc/ssl/a b.pem").as_deref(), Ok("\"/etc/ssl/a b.pem\""));
        assert_eq!(nginx_word("a\"b\\").as_deref(), Ok("\"a\\\"b\\\\\""));
        for refused in ["$host", "a$b", "a\nb", "a\u{2028}b", "\u{202e}x", "~^api", "=/x", "^~/x", "@named"] {
            assert!(nginx_word(refused).is_err(), "{refused:?}");
        }
        let written: Vec<String> = HOSTILE.iter().filter_map(|s| nginx_word(s).ok()).collect();
        assert!(written.len() > 10);
        if std::process::Command::new("nginx").arg("-v").output().is_err() {
            return;
        }
        let dir = std::env::temp_dir().join(format!("hawser-nginx-word-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        let mut conf = format!("pid {}/nginx.pid;\nerror_log stderr;\nevents {{}}\nhttp {{\n", dir.display());
        for (i, w) in written.iter().enumerate() {
            conf.push_str(&format!("server {{ listen 127.0.0.1:{}; server_name {w}; location {w} {{ return 204; }} }}\n", 20000 + i));
        }
        conf.push_str("}\n");
        std::fs::write(dir.join("nginx.conf"), &conf).unwrap();
        let out = std::process::Command::new("nginx")
            .arg("-t")
            .arg("-q")
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(out.status.success(), "{}\n{conf}", String::from_utf8_lossy(&out.stderr));
    }

    #[test]
    fn kubelet_expansion_passes_escaped_strings_unchanged() {
        for s in HOSTILE.iter().chain(&["$(HOME)", "$$(HOME)", "$$", "$", "a$", "$$$(X)", "$(unclosed$$", "$)"]) {
            assert_eq!(kubelet_expand(&kubernetes_expansion(s)), *s, "escaped as {}", kubernetes_expansion(s));
        }
        // The model of the kubelet is faithful: unescaped, these do change.
        assert_ne!(kubelet_expand("$(HOME)"), "$(HOME)");
        assert_ne!(kubelet_expand("$$"), "$$");
    }
}
