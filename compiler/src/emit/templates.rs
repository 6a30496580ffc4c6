//! The template environment: every template of `stdlib/templates/`, embedded, with strict
//! undefined and the escaping filters for shell and systemd.

use minijinja::{Environment, UndefinedBehavior};

const TEMPLATES: &[(&str, &str)] = &[
    ("build.sh", include_str!("../../../stdlib/templates/build.sh.j2")),
    ("Dockerfile", include_str!("../../../stdlib/templates/Dockerfile.j2")),
    ("dockerignore", include_str!("../../../stdlib/templates/dockerignore.j2")),
    ("unit.service", include_str!("../../../stdlib/templates/unit.service.j2")),
    ("unit.timer", include_str!("../../../stdlib/templates/unit.timer.j2")),
    ("unit.socket", include_str!("../../../stdlib/templates/unit.socket.j2")),
    ("unit.env", include_str!("../../../stdlib/templates/unit.env.j2")),
    ("lifecycle.sh", include_str!("../../../stdlib/templates/lifecycle.sh.j2")),
];

/// A template environment with every template loaded.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    match minijinja::syntax::SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).keep_trailing_newline(true).build() {
        Ok(syntax) => env.set_syntax(syntax),
        Err(e) => panic!("the template syntax is invalid: {e}"),
    }
    env.add_filter("sh", |s: String| shell_quote(&s));
    env.add_filter("systemd_arg", |s: String| systemd_arg(&s));
    env.add_filter("env_value", |s: String| env_file_value(&s));
    for (name, source) in TEMPLATES {
        // The templates ship with the binary; a broken one is caught by this crate's tests.
        if let Err(e) = env.add_template(name, source) {
            panic!("template {name} does not compile: {e}");
        }
    }
    env
}

/// Renders one template with a context.
pub fn render(env: &Environment, name: &str, ctx: impl serde::Serialize) -> Result<String, String> {
    env.get_template(name).and_then(|t| t.render(minijinja::value::Serde(ctx))).map_err(|e| format!("template {name}: {e:#}"))
}

/// Quotes a string for a POSIX shell: single quotes, with `'` as `'\''`. Nothing inside
/// single quotes is special to the shell, so `$`, backquotes, `"` and newlines stay literal.
pub fn shell_quote(s: &str) -> String {
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
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Quotes a value of a systemd `EnvironmentFile=`: double quotes, with `\`, `"`, `` ` ``
/// and `$` escaped by a backslash, which systemd's parser removes. Newlines are refused by
/// the checker before they get here; any left are escaped the same way.
pub fn env_file_value(s: &str) -> String {
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
        "tab\there",
    ];

    /// Every hostile string survives a round trip through a real shell unchanged.
    #[test]
    fn shell_quoting_round_trips_through_sh() {
        for s in HOSTILE {
            let out = std::process::Command::new("sh").arg("-c").arg(format!("printf '%s' {}", shell_quote(s))).output().expect("sh runs");
            assert_eq!(String::from_utf8_lossy(&out.stdout), *s, "quoted as {}", shell_quote(s));
        }
    }

    #[test]
    fn systemd_arguments_escape_specifiers_and_variables() {
        assert_eq!(systemd_arg("100%"), "\"100%%\"");
        assert_eq!(systemd_arg("$HOME"), "\"$$HOME\"");
        assert_eq!(systemd_arg("say \"hi\"\n"), "\"say \\\"hi\\\"\\n\"");
        assert_eq!(systemd_arg("a\\b"), "\"a\\\\b\"");
        assert_eq!(systemd_arg("with space"), "\"with space\"");
    }

    #[test]
    fn environment_file_values_escape_shell_specials() {
        assert_eq!(env_file_value("$HOME"), "\"\\$HOME\"");
        assert_eq!(env_file_value("a\"b`c\\d"), "\"a\\\"b\\`c\\\\d\"");
        assert_eq!(env_file_value("100% with space"), "\"100% with space\"");
    }

    #[test]
    fn every_template_compiles() {
        let env = environment();
        for (name, _) in TEMPLATES {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }
}
