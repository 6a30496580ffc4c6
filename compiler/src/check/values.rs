//! The value types of the spec language: CPU quantities, byte sizes, durations, names,
//! cron expressions and the rest, each parsed from text with an error that says how to fix it.

use std::fmt;

use crate::diagnostics::{Code, code};

/// Why a text is not a value of a type: which code, a message, and help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub code: Code,
    pub message: String,
    pub help: Option<String>,
}

fn invalid(code: Code, message: impl Into<String>, help: impl Into<Option<String>>) -> Invalid {
    Invalid { code, message: message.into(), help: help.into() }
}

/// CPU in millicores, with the text it was written as.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cpu {
    pub millis: u64,
}

impl Cpu {
    pub fn parse(text: &str) -> Result<Cpu, Invalid> {
        let help = || Some("write whole or fractional cores (`1`, `0.5`) or millicores (`250m`)".to_owned());
        let t = text.trim();
        let millis = if let Some(m) = t.strip_suffix('m') {
            digits(m).ok_or_else(|| invalid(code::BAD_CPU, format!("`{text}` is not a CPU quantity"), help()))?
        } else {
            let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
            let whole = digits(whole).ok_or_else(|| invalid(code::BAD_CPU, format!("`{text}` is not a CPU quantity"), help()))?;
            if frac.len() > 3 || !frac.chars().all(|c| c.is_ascii_digit()) || (t.contains('.') && frac.is_empty()) {
                return Err(invalid(
                    code::BAD_CPU,
                    format!("`{text}` is not a CPU quantity"),
                    Some("CPU is counted to the millicore: at most three decimals (`0.125`), or millicores (`125m`)".to_owned()),
                ));
            }
            let frac_millis = format!("{frac:0<3}").parse::<u64>().unwrap_or(0);
            whole.saturating_mul(1000).saturating_add(frac_millis)
        };
        if millis == 0 {
            return Err(invalid(
                code::BAD_CPU,
                "a CPU quantity must be more than zero",
                Some("leave the setting out for no request or limit".to_owned()),
            ));
        }
        if millis > 1_000_000 {
            return Err(invalid(code::BAD_CPU, format!("`{text}` is more CPU than any machine has"), help()));
        }
        Ok(Cpu { millis })
    }

    /// The Kubernetes form: whole cores where exact, millicores otherwise.
    pub fn kubernetes(&self) -> String {
        if self.millis.is_multiple_of(1000) { (self.millis / 1000).to_string() } else { format!("{}m", self.millis) }
    }
}

impl fmt::Display for Cpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kubernetes())
    }
}

/// A byte size, with the suffix it was written with (kept for output).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bytes {
    pub bytes: u64,
    pub text: String,
}

/// The largest byte size: 1 PiB. Derived values (`GOMEMLIMIT` is 90% of the limit) must
/// not overflow, and no machine has more.
pub const MAX_BYTES: u64 = 1 << 50;

/// The longest duration: one year. Kubernetes keeps probe periods and timeouts in 32-bit
/// seconds (68 years), Prometheus in 64-bit nanoseconds (292 years), systemd in 64-bit
/// microseconds; a year is far inside all of them, and longer than any setting means.
pub const MAX_DURATION_MS: u64 = 365 * 24 * 3_600_000;

const BYTE_SUFFIXES: &[(&str, u64)] = &[
    ("Ki", 1 << 10),
    ("Mi", 1 << 20),
    ("Gi", 1 << 30),
    ("Ti", 1 << 40),
    ("k", 1_000),
    ("M", 1_000_000),
    ("G", 1_000_000_000),
    ("T", 1_000_000_000_000),
];

impl Bytes {
    pub fn parse(text: &str) -> Result<Bytes, Invalid> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, suffix) = t.split_at(split);
        let Some(n) = digits(num) else {
            return Err(invalid(
                code::BAD_BYTES,
                format!("`{text}` is not a byte size"),
                Some("write a whole number and a unit: `512Mi`, `1Gi`".to_owned()),
            ));
        };
        if suffix.is_empty() {
            return Err(invalid(
                code::BAD_BYTES,
                format!("`{text}` has no unit, so it would mean {n} bytes"),
                Some(format!("write the unit: `{n}Mi` (mebibytes) or `{n}Gi` (gibibytes)")),
            ));
        }
        if let Some((_, mult)) = BYTE_SUFFIXES.iter().find(|(s, _)| *s == suffix) {
            if n == 0 {
                return Err(invalid(
                    code::BAD_BYTES,
                    "a byte size must be more than zero",
                    Some("leave the setting out for no request or limit".to_owned()),
                ));
            }
            return match n.checked_mul(*mult).filter(|b| *b <= MAX_BYTES) {
                Some(bytes) => Ok(Bytes { bytes, text: t.to_owned() }),
                None => Err(invalid(
                    code::BAD_BYTES,
                    format!("`{text}` is more memory than any machine has"),
                    Some("byte sizes go up to 1024Ti; the targets' own arithmetic (systemd, the Go runtime) starts to overflow not far above".to_owned()),
                )),
            };
        }
        let lower = suffix.to_ascii_lowercase();
        let fix = match lower.trim_end_matches('b').trim_end_matches('i') {
            "k" => Some(("k", "Ki")),
            "m" => Some(("M", "Mi")),
            "g" => Some(("G", "Gi")),
            "t" => Some(("T", "Ti")),
            _ => None,
        };
        let help = match fix {
            Some((dec, bin)) => format!(
                "write `{n}{dec}` ({n}×10^{p} bytes) or, more likely, `{n}{bin}` ({n}×2^{q} bytes)",
                p = decimal_power(dec),
                q = binary_power(bin)
            ),
            None => "units are `Ki`, `Mi`, `Gi`, `Ti` (powers of 2) or `k`, `M`, `G`, `T` (powers of 10)".to_owned(),
        };
        Err(invalid(code::BAD_BYTES, format!("`{suffix}` is not a byte unit hawser accepts"), Some(help)))
    }
}

fn decimal_power(s: &str) -> u32 {
    match s {
        "k" => 3,
        "M" => 6,
        "G" => 9,
        _ => 12,
    }
}

fn binary_power(s: &str) -> u32 {
    match s {
        "Ki" => 10,
        "Mi" => 20,
        "Gi" => 30,
        _ => 40,
    }
}

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A duration in milliseconds, with the text it was written as.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration {
    pub millis: u64,
    pub text: String,
}

impl Duration {
    pub fn parse(text: &str) -> Result<Duration, Invalid> {
        let t = text.trim();
        let help = || Some("write a number and a unit (`ms`, `s`, `m`, `h`): `30s`, `5m`, `1m30s`".to_owned());
        if t.is_empty() {
            return Err(invalid(code::BAD_DURATION, "empty duration", help()));
        }
        if let Some(n) = digits(t) {
            return Err(invalid(
                code::BAD_DURATION,
                format!("`{text}` has no unit"),
                Some(format!("write `{n}s` for seconds or `{n}m` for minutes")),
            ));
        }
        if let Some((whole, frac)) = t.split_once('.') {
            let unit: String = frac.chars().skip_while(char::is_ascii_digit).collect();
            let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
            let per = match unit.as_str() {
                "ms" => 1.0,
                "s" => 1000.0,
                "m" => 60_000.0,
                "h" => 3_600_000.0,
                _ => 0.0,
            };
            let value = format!("{whole}.{digits}").parse::<f64>().ok().filter(|_| per > 0.0);
            let hint = match value {
                Some(v) if (v * per) % 1000.0 == 0.0 => format!("write whole units: `{}s`", (v * per / 1000.0) as u64),
                Some(v) => format!("write whole units: `{}ms`", (v * per).round() as u64),
                None => "write whole units, e.g. `1500ms` or `1m30s`".to_owned(),
            };
            return Err(invalid(code::BAD_DURATION, format!("`{text}` has a fraction; durations are whole numbers of a unit"), Some(hint)));
        }
        let mut millis: u64 = 0;
        let mut rest = t;
        while !rest.is_empty() {
            let split = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            let n = digits(&rest[..split]).ok_or_else(|| invalid(code::BAD_DURATION, format!("`{text}` is not a duration"), help()))?;
            rest = &rest[split..];
            let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
            let mult = match &rest[..unit_len] {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => {
                    return Err(invalid(
                        code::BAD_DURATION,
                        "`d` (days) is not a duration unit",
                        Some(format!("count in hours: `{}h`", n.saturating_mul(24))),
                    ));
                }
                other => return Err(invalid(code::BAD_DURATION, format!("`{}` is not a duration unit", other.trim()), help())),
            };
            millis = millis.saturating_add(n.saturating_mul(mult));
            rest = &rest[unit_len..];
        }
        if millis > MAX_DURATION_MS {
            return Err(invalid(
                code::BAD_DURATION,
                format!("`{text}` is longer than a year"),
                Some("durations go up to `8760h`: Kubernetes, Prometheus and systemd each overflow somewhere above".to_owned()),
            ));
        }
        Ok(Duration { millis, text: t.to_owned() })
    }

    pub fn seconds(&self) -> u64 {
        self.millis.div_ceil(1000)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A DNS-1123 label: lower-case letters, digits and `-`, at most 63 characters.
pub fn dns_label(s: &str) -> Result<(), Invalid> {
    let ok_chars = s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let starts = s.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    let ends = s.chars().last().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if s.len() > 63 {
        return Err(invalid(
            code::BAD_NAME,
            format!("`{s}` is {} characters long; names are at most 63", s.len()),
            Some("shorten it: it becomes a Kubernetes object name and a systemd unit name".to_owned()),
        ));
    }
    if ok_chars && starts && ends {
        return Ok(());
    }
    let suggestion = to_dns_label(s);
    let help = if !suggestion.is_empty() && suggestion != s {
        format!("names are lower-case letters, digits and `-`, starting with a letter: `{suggestion}`")
    } else {
        "names are lower-case letters, digits and `-`, starting with a letter and ending with a letter or digit".to_owned()
    };
    Err(invalid(code::BAD_NAME, format!("`{s}` is not a valid name"), Some(help)))
}

fn to_dns_label(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_start_matches(|c: char| c.is_ascii_digit()).trim_matches('-').to_owned();
    out.chars().take(63).collect()
}

/// A port name: a DNS label of at most 15 characters with at least one letter (IANA service name).
pub fn port_name(s: &str) -> Result<(), Invalid> {
    dns_label(s)?;
    if s.len() > 15 {
        return Err(invalid(
            code::BAD_NAME,
            format!("port name `{s}` is {} characters long; port names are at most 15", s.len()),
            Some("Kubernetes limits port names to 15 characters: shorten it".to_owned()),
        ));
    }
    if s.contains("--") {
        return Err(invalid(
            code::BAD_NAME,
            format!("port name `{s}` has two hyphens in a row"),
            Some("Kubernetes port names cannot contain `--`".to_owned()),
        ));
    }
    Ok(())
}

/// A POSIX environment variable name.
pub fn env_name(s: &str) -> Result<(), Invalid> {
    let ok =
        s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        return Ok(());
    }
    let fixed: String = s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    let fixed = if fixed.starts_with(|c: char| c.is_ascii_digit()) { format!("_{fixed}") } else { fixed };
    Err(invalid(
        code::BAD_ENV_NAME,
        format!("`{s}` is not a valid environment variable name"),
        Some(format!("use letters, digits and `_`, not starting with a digit: `{fixed}`")),
    ))
}

/// A POSIX user name, as `useradd` accepts it.
pub fn user_name(s: &str) -> Result<(), Invalid> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            code::BAD_NAME,
            format!("`{s}` is not a valid user name"),
            Some("user names are lower-case letters, digits, `_` and `-`, starting with a letter, at most 32 characters".to_owned()),
        ))
    }
}

pub fn label_key(s: &str) -> Result<(), Invalid> {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    let bad = |why: &str| {
        Err(invalid(
            code::BAD_FORMAT,
            format!("`{s}` is not a valid label key: {why}"),
            Some("a label key is an optional DNS prefix and `/`, then up to 63 letters, digits, `-`, `_` or `.`".to_owned()),
        ))
    };
    if let Some(p) = prefix
        && (p.is_empty() || p.len() > 253 || !p.split('.').all(|l| dns_label(l).is_ok()))
    {
        return bad("the prefix is not a DNS subdomain");
    }
    if name.is_empty() || name.len() > 63 {
        return bad("the name must have 1 to 63 characters");
    }
    label_chars(name).map_or_else(|| bad("it must start and end with a letter or digit"), |_| Ok(()))
}

pub fn label_value(s: &str) -> Result<(), Invalid> {
    if s.is_empty() {
        return Ok(());
    }
    if s.len() > 63 || label_chars(s).is_none() {
        return Err(invalid(
            code::BAD_FORMAT,
            format!("`{s}` is not a valid label value"),
            Some("label values are up to 63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit".to_owned()),
        ));
    }
    Ok(())
}

fn label_chars(s: &str) -> Option<()> {
    let ends_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    (ends_ok(s.chars().next()) && ends_ok(s.chars().last()) && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .then_some(())
}

pub fn http_path(s: &str) -> Result<(), Invalid> {
    if s.starts_with('/') && !s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Ok(())
    } else {
        Err(invalid(
            code::BAD_PATH,
            format!("`{s}` is not an HTTP path"),
            Some(format!("an HTTP path starts with `/`: `/{}`", s.trim_start_matches('/').trim())),
        ))
    }
}

pub fn source_path(s: &str) -> Result<(), Invalid> {
    if s.split('/').any(|seg| seg == "..") {
        return Err(invalid(
            code::BAD_PATH,
            format!("`{s}` leaves the project directory"),
            Some("source paths stay inside the directory of the spec; move the spec to the module root".to_owned()),
        ));
    }
    if !(s == "." || s.starts_with("./")) || s.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\') {
        let fixed = format!("./{}", s.trim_start_matches('/'));
        return Err(invalid(
            code::BAD_PATH,
            format!("`{s}` is not a project-relative path"),
            Some(format!("write it relative to the spec's directory, starting with `./`: `{fixed}`")),
        ));
    }
    Ok(())
}

pub fn abs_path(s: &str) -> Result<(), Invalid> {
    // systemd expands specifiers (`%`) and splits on blanks where host paths are written,
    // so a path holds only the characters file names are portably made of, and `@`, `+`, `:`.
    let chars_ok = s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-@+:".contains(c));
    if s.starts_with('/') && !s.split('/').any(|seg| seg == "..") && chars_ok {
        Ok(())
    } else {
        Err(invalid(
            code::BAD_PATH,
            format!("`{}` is not an absolute path hawser can write", escape(s)),
            Some("give the full path on the host, starting with `/`, in letters, digits and `/._-@+:`".to_owned()),
        ))
    }
}

pub fn host(s: &str) -> Result<(), Invalid> {
    let ip = s.parse::<std::net::IpAddr>().is_ok();
    let dns = !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if ip || dns {
        Ok(())
    } else {
        Err(invalid(
            code::BAD_FORMAT,
            format!("`{s}` is not a host name or IP address"),
            Some("give a DNS name (`db.internal`) or an IP address, without scheme or port".to_owned()),
        ))
    }
}

/// A parsed image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    pub fn parse(s: &str) -> Result<ImageRef, Invalid> {
        let bad = |why: &str| {
            Err(invalid(
                code::BAD_IMAGE,
                format!("`{s}` is not an image reference: {why}"),
                Some("write `registry/name:tag` or `registry/name@sha256:<64 hex digits>`".to_owned()),
            ))
        };
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => {
                if digest(d).is_err() {
                    return bad("the digest is not `sha256:` and 64 lower-case hex digits");
                }
                (r, Some(d.to_owned()))
            }
            None => (s, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if repository.is_empty() {
            return bad("no repository");
        }
        let mut parts = repository.split('/');
        let first = parts.next().unwrap_or("");
        let registry_like = repository.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
        let path_parts: Vec<&str> = if registry_like { parts.collect() } else { repository.split('/').collect() };
        if registry_like && host(first.split(':').next().unwrap_or("")).is_err() {
            return bad("the registry is not a host name");
        }
        let comp_ok = |p: &str| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
                && p.starts_with(|c: char| c.is_ascii_alphanumeric())
        };
        if path_parts.is_empty() || !path_parts.iter().all(|p| comp_ok(p)) {
            return bad("repository names are lower-case letters, digits, `.`, `_` and `-`");
        }
        if let Some(t) = tag
            && (t.is_empty()
                || t.len() > 128
                || !t.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                || t.starts_with(['.', '-']))
        {
            return bad("the tag is not valid");
        }
        Ok(ImageRef { repository: repository.to_owned(), tag: tag.map(str::to_owned), digest })
    }

    /// Whether the reference pins a version: a digest, or a tag other than `latest`.
    pub fn is_pinned(&self) -> bool {
        self.digest.is_some() || self.tag.as_deref().is_some_and(|t| t != "latest")
    }
}

/// Checks a cron expression: five fields, or one of the `@` shorthands.
pub fn cron(s: &str) -> Result<(), Invalid> {
    const FIELDS: [(&str, u32, u32); 5] =
        [("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7)];
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let help = || {
        Some(
            "five fields: minute hour day-of-month month day-of-week, e.g. `0 3 * * *` (03:00 every day); or `@daily`, `@hourly`"
                .to_owned(),
        )
    };
    let t = s.trim();
    if t.starts_with('@') {
        return match t {
            "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight" | "@hourly" => Ok(()),
            _ => Err(invalid(
                code::BAD_CRON,
                format!("`{t}` is not a cron shorthand"),
                Some("shorthands are `@hourly`, `@daily`, `@weekly`, `@monthly` and `@yearly`".to_owned()),
            )),
        };
    }
    let fields: Vec<&str> = t.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(invalid(code::BAD_CRON, format!("a cron expression has 5 fields; `{t}` has {}", fields.len()), help()));
    }
    for (i, (field, (name, lo, hi))) in fields.iter().zip(FIELDS).enumerate() {
        let names: &[&str] = match i {
            3 => &MONTHS,
            4 => &DAYS,
            _ => &[],
        };
        let value = |v: &str| -> Option<u32> {
            if let Some(p) = names.iter().position(|n| n.eq_ignore_ascii_case(v)) {
                return Some(p as u32 + if i == 3 { 1 } else { 0 });
            }
            v.parse::<u32>().ok().filter(|n| (lo..=hi).contains(n))
        };
        for part in field.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, st)) => (r, Some(st)),
                None => (part, None),
            };
            let step_ok = step.is_none_or(|st| st.parse::<u32>().is_ok_and(|n| n >= 1 && n <= hi));
            let range_ok = range == "*"
                || match range.split_once('-') {
                    Some((a, b)) => value(a).zip(value(b)).is_some_and(|(a, b)| a <= b),
                    None => value(range).is_some(),
                };
            if !(step_ok && range_ok) {
                return Err(invalid(code::BAD_CRON, format!("`{part}` is not a valid {name} (from {lo} to {hi})"), help()));
            }
        }
    }
    Ok(())
}

/// A GOOS/GOARCH pair Go 1.23 supports (`go tool dist list`).
pub fn platform(s: &str) -> Result<(), Invalid> {
    if crate::check::platforms::linking(s).is_some() {
        return Ok(());
    }
    let known: Vec<&str> = crate::check::platforms::platforms().map(|(p, _)| p).collect();
    let help = match crate::diagnostics::nearest(s, known.iter().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None => "write `os/arch` as Go names them (`go tool dist list`): `linux/amd64`, `linux/arm64`, `darwin/arm64`, `windows/amd64`"
            .to_owned(),
    };
    Err(invalid(code::BAD_FORMAT, format!("`{s}` is not a platform Go builds for"), Some(help)))
}

pub fn go_version(s: &str) -> Result<(), Invalid> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() >= 2 && parts.len() <= 3 && parts[0] == "1" && parts.iter().all(|p| digits(p).is_some()) {
        Ok(())
    } else {
        Err(invalid(code::BAD_FORMAT, format!("`{s}` is not a Go version"), Some("write it as in go.mod: `1.23` or `1.23.4`".to_owned())))
    }
}

pub fn go_symbol(s: &str) -> Result<(), Invalid> {
    let ok = s.rsplit_once('.').is_some_and(|(pkg, var)| {
        !pkg.is_empty()
            && pkg.chars().all(|c| c.is_ascii_alphanumeric() || "._-/~".contains(c))
            && var.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    if ok {
        Ok(())
    } else {
        Err(invalid(
            code::BAD_FORMAT,
            format!("`{s}` is not a Go variable"),
            Some("give the import path and the variable: `main.version` or `example.com/app/internal/buildinfo.Version`".to_owned()),
        ))
    }
}

pub fn url(s: &str) -> Result<(), Invalid> {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    match rest {
        // RFC 3986 characters only: no blanks, quotes, braces or backslashes, so the URL
        // reads the same in a Dockerfile label, a systemd setting and YAML.
        Some(r)
            if host(r.split(['/', ':', '?', '#']).next().unwrap_or("")).is_ok()
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c)) =>
        {
            Ok(())
        }
        _ => Err(invalid(
            code::BAD_FORMAT,
            format!("`{}` is not an http(s) URL", escape(s)),
            Some("write the full URL: `https://github.com/acme/payments`".to_owned()),
        )),
    }
}

pub fn vault_ref(s: &str) -> Result<(), Invalid> {
    match s.split_once('#') {
        Some((path, key)) if !path.is_empty() && !key.is_empty() && !s.chars().any(|c| c.is_whitespace()) && !key.contains('#') => Ok(()),
        _ => Err(invalid(
            code::BAD_FORMAT,
            format!("`{s}` is not a Vault path and key"),
            Some("write the KV path and the key in it, joined by `#`: `kv/data/payments/db#password`".to_owned()),
        )),
    }
}

pub fn k8s_secret_ref(s: &str) -> Result<(), Invalid> {
    let ok = s.split_once('/').is_some_and(|(name, key)| {
        !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|l| dns_label(l).is_ok())
            && !key.is_empty()
            && key.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
    });
    if ok {
        Ok(())
    } else {
        Err(invalid(
            code::BAD_FORMAT,
            format!("`{s}` is not a Kubernetes Secret and key"),
            Some("write the Secret's name and the key in it, joined by `/`: `payments-db/password`".to_owned()),
        ))
    }
}

/// A container registry and namespace images are pushed under (`ghcr.io/acme`,
/// `registry.example.com:5000/team`): a host, an optional port, then lower-case path
/// components, as the OCI distribution spec allows them. The registry is joined to image
/// names, so anything else would make an image reference no registry accepts.
pub fn registry(s: &str) -> Result<(), Invalid> {
    let help =
        || Some("write the registry's host and an optional namespace: `ghcr.io/acme` or `registry.example.com:5000/team`".to_owned());
    let (authority, path) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let (host_part, port_ok) = match authority.split_once(':') {
        Some((h, p)) => (h, digits(p).is_some_and(|p| (1..=65535).contains(&p))),
        None => (authority, true),
    };
    let component_ok = |p: &str| {
        !p.is_empty()
            && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            && p.starts_with(|c: char| c.is_ascii_alphanumeric())
            && p.ends_with(|c: char| c.is_ascii_alphanumeric())
    };
    let path_ok = path.is_none_or(|p| p.split('/').all(component_ok));
    if host(host_part).is_ok() && port_ok && path_ok && s.len() <= 200 {
        Ok(())
    } else {
        Err(invalid(code::BAD_IMAGE, format!("`{}` is not a registry", escape(s)), help()))
    }
}

/// A release version, which is also the image tag: at most 128 letters, digits, `_`, `.`
/// and `-`, not starting with `.` or `-` (the OCI distribution spec's tag grammar).
/// SemVer build metadata (`+build.5`) is not a valid tag, so it is refused here rather
/// than by the registry at push time.
pub fn version(s: &str) -> Result<(), Invalid> {
    let ok =
        !s.is_empty() && s.len() <= 128 && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) && !s.starts_with(['.', '-']);
    if ok {
        Ok(())
    } else {
        Err(invalid(
            code::BAD_IMAGE,
            format!("`{}` is not a version hawser can tag images with", escape(s)),
            Some("a version is also the image tag: letters, digits, `.`, `_` and `-`, like `1.4.2` or `v1.4.2-rc.1`".to_owned()),
        ))
    }
}

/// A Go main package inside the project, as `go build` takes it: a [`source_path`] whose
/// elements hold only what Go allows in an import path (letters, digits, `-`, `.`, `_`,
/// `~`, `+`). The path is written into build scripts and Dockerfiles; nothing else can
/// be a package there.
pub fn go_package(s: &str) -> Result<(), Invalid> {
    source_path(s)?;
    let elements_ok = s.split('/').skip(1).all(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_alphanumeric() || "-._~+".contains(c)));
    if elements_ok || s == "." {
        Ok(())
    } else {
        Err(invalid(
            code::BAD_PATH,
            format!("`{}` is not a Go package path", escape(s)),
            Some("a package directory's path elements are letters, digits, `-`, `.`, `_`, `~` and `+`, like `./cmd/api`".to_owned()),
        ))
    }
}

/// One file name hawser writes into artifacts (the spec's name, an output directory's
/// path elements): the POSIX portable file-name characters — letters, digits, `.`, `_`
/// and `-` — not starting with `-`, and not `.` or `..`. The reason (what is wrong) is
/// returned for the caller's message.
pub fn file_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s == "." || s == ".." {
        return Err("it is empty, `.` or `..`".to_owned());
    }
    if s.starts_with('-') {
        return Err("it starts with `-`".to_owned());
    }
    match s.chars().find(|c| !(c.is_ascii_alphanumeric() || "._-".contains(*c))) {
        Some(c) => {
            Err(format!("it holds {c:?}; file names hawser writes into scripts and comments use only letters, digits, `.`, `_` and `-`"))
        }
        None => Ok(()),
    }
}

/// A string hawser hands to a program (an argument, an environment variable's value, an
/// annotation): no NUL, which no process can receive, and no other control character but
/// tab — and newline where `newlines` says so (arguments). Environment values take no
/// newline: a systemd environment file and a shell `export` read a line per variable.
pub fn passable(s: &str, newlines: bool) -> Result<(), Invalid> {
    let Some(c) = s.chars().find(|&c| c.is_control() && c != '\t' && !(newlines && c == '\n')) else { return no_template(s) };
    let what = match c {
        '\0' => "a NUL character, which no program can receive".to_owned(),
        '\n' => "a newline, which environment files cannot hold".to_owned(),
        c => format!("the control character {}", c.escape_unicode()),
    };
    Err(invalid(
        code::CONTROL_CHARACTER,
        format!("this value holds {what}"),
        Some(if c == '\n' {
            "put one line per variable; pass multi-line text as a file (a secret with `file=`) or as an argument".to_owned()
        } else {
            "remove it; write what it stands for in words, or pass binary data in a file".to_owned()
        }),
    ))
}

/// A string that reaches a Kubernetes manifest or the Helm chart holds no `{{`: hawser's
/// chart passes values through unchanged, so it would never be a template there, but
/// policy scanners (checkov) take a manifest holding `{{ .Values.` or `{{ .Release.` for
/// an unrendered template and skip it without a word — one such value would hide a whole
/// workload from the scan.
pub fn no_template(s: &str) -> Result<(), Invalid> {
    if !s.contains("{{") {
        return Ok(());
    }
    Err(invalid(
        code::TEMPLATE_DELIMITER,
        "this value holds `{{`, the delimiter of Helm templates".to_owned(),
        Some(
            "hawser writes values as they are and never templates them; write the text without `{{` (e.g. `{ {`), or pass it in a file"
                .to_owned(),
        ),
    ))
}

/// A string as a message shows it: control characters and invisible formatting escaped,
/// so that a hostile value cannot rewrite the terminal or the line it is shown on.
pub fn escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control()
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
            {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Whether an environment variable name looks like it holds a credential.
pub fn is_credential_key(key: &str) -> bool {
    const SUFFIXES: [&str; 11] =
        ["PASSWORD", "PASSWD", "PASS", "PWD", "TOKEN", "SECRET", "KEY", "APIKEY", "CREDENTIALS", "CREDENTIAL", "PRIVATE_KEY"];
    let upper = key.to_ascii_uppercase();
    let last = upper.rsplit('_').next().unwrap_or(&upper);
    // `*_KEY_ID`, `*_PUBLIC_KEY` and `*_KEY_FILE` name things that are not themselves secret.
    if upper.ends_with("PUBLIC_KEY") || upper.ends_with("PUBLISHABLE_KEY") || upper.ends_with("_FILE") || upper.ends_with("_PATH") {
        return false;
    }
    SUFFIXES.contains(&last) || SUFFIXES.iter().any(|s| upper == *s)
}

// ------------------------------------------------------------------ exposure

/// A host name clients use to reach an exposed port (an Ingress or HTTPRoute host, an
/// nginx `server_name`, a certificate's DNS name): a lower-case DNS name of at least two
/// labels, whose first label may be `*` (a wildcard for one label). Not an IP address:
/// neither an Ingress host nor a certificate's DNS name can be one.
pub fn dns_name(s: &str) -> Result<(), Invalid> {
    let help = |why: &str| Some(format!("{why}: `api.example.com`, or `*.example.com` for every name one label below it"));
    if s.parse::<std::net::IpAddr>().is_ok() {
        return Err(invalid(
            code::BAD_FORMAT,
            format!("`{}` is an IP address, not a host name", escape(s)),
            help("give the DNS name clients use"),
        ));
    }
    if s.chars().any(|c| c.is_ascii_uppercase()) && dns_name(&s.to_ascii_lowercase()).is_ok() {
        return Err(invalid(
            code::BAD_FORMAT,
            format!("`{}` is not a lower-case host name", escape(s)),
            Some(format!("Kubernetes and certificates take host names in lower case: `{}`", s.to_ascii_lowercase())),
        ));
    }
    let labels: Vec<&str> = s.split('.').collect();
    let label_ok = |i: usize, l: &str| {
        (i == 0 && l == "*")
            || (!l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-'))
    };
    if s.len() <= 253 && labels.len() >= 2 && labels.iter().enumerate().all(|(i, l)| label_ok(i, l)) {
        Ok(())
    } else {
        Err(invalid(
            code::BAD_FORMAT,
            format!("`{}` is not a host name", escape(s)),
            help("give the full DNS name in lower-case letters, digits, `-` and `.`"),
        ))
    }
}

/// A path prefix routed to an exposed port: `/`, or `/` and segments of letters, digits and
/// `-._~`, without an empty, `.` or `..` segment and without a trailing `/`. Each target
/// reads it the same way (an Ingress `Prefix` path, a Gateway API `PathPrefix`, an nginx
/// location), so the characters those grammars treat specially (`%`, `;`, `{`, `$`,
/// `*`, regular-expression syntax) cannot appear.
pub fn route_path(s: &str) -> Result<(), Invalid> {
    if s == "/" {
        return Ok(());
    }
    let segments_ok = s.strip_prefix('/').is_some_and(|rest| {
        rest.split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != ".." && seg.chars().all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c)))
    });
    if segments_ok {
        return Ok(());
    }
    let trimmed = s.trim_end_matches('/');
    let help = if s.starts_with('/') && trimmed.len() < s.len() && route_path(trimmed).is_ok() {
        format!("a prefix has no trailing `/` (`{trimmed}` matches `{trimmed}` and everything below it)")
    } else {
        "start with `/`, then segments of letters, digits and `-._~` separated by single `/`s: `/api/v1`".to_owned()
    };
    Err(invalid(code::BAD_PATH, format!("`{}` is not a path prefix hawser can route", escape(s)), Some(help)))
}

/// A Kubernetes object name (a DNS-1123 subdomain): at most 253 characters of lower-case
/// letters, digits, `-` and `.`, each `.`-separated part starting and ending with a letter
/// or digit.
pub fn object_name(s: &str) -> Result<(), Invalid> {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !p.starts_with('-')
                && !p.ends_with('-')
        });
    if ok {
        Ok(())
    } else {
        Err(invalid(
            code::BAD_NAME,
            format!("`{}` is not a Kubernetes object name", escape(s)),
            Some("object names are lower-case letters, digits, `-` and `.`, at most 253 characters: `api-tls`".to_owned()),
        ))
    }
}

/// A URL scheme (RFC 3986), lower-case: `http`, `grpc`, `postgres`, `svn+ssh`.
pub fn url_scheme(s: &str) -> Result<(), Invalid> {
    let ok = s.len() <= 32
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            code::BAD_FORMAT,
            format!("`{}` is not a URL scheme", escape(s)),
            Some("write the scheme alone, in lower case, without `://`: `http`, `https`, `grpc`".to_owned()),
        ))
    }
}

#[cfg(test)]
mod exposure_tests {
    use super::*;

    #[test]
    fn host_names() {
        for ok in ["api.example.com", "*.example.com", "a-1.b.example", "xn--bcher-kva.example"] {
            assert_eq!(dns_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "localhost",
            "10.0.0.1",
            "::1",
            "api.*.example.com",
            "*",
            "-a.example",
            "a..example",
            "a.example.",
            "a b.example",
            "a.example;x",
            "a.example\nx",
            "$host.example",
        ] {
            assert!(dns_name(bad).is_err(), "{bad:?}");
        }
        assert!(dns_name("API.Example.com").unwrap_err().help.unwrap().contains("`api.example.com`"));
    }

    #[test]
    fn route_paths() {
        for ok in ["/", "/api", "/api/v1", "/a.b/c-d_e~f"] {
            assert_eq!(route_path(ok), Ok(()), "{ok}");
        }
        for bad in [
            "", "api", "/api/", "//", "/a//b", "/a/../b", "/./a", "/a b", "/a;b", "/a{1}", "/$uri", "/a%20b", "/a*", "/a?x=1", "/a#b",
            "/a\nb",
        ] {
            assert!(route_path(bad).is_err(), "{bad:?}");
        }
        assert!(route_path("/api/").unwrap_err().help.unwrap().contains("`/api`"));
    }

    #[test]
    fn object_names() {
        for ok in ["api-tls", "wildcard.example.com", "a"] {
            assert_eq!(object_name(ok), Ok(()), "{ok}");
        }
        for bad in ["", "API", "a_b", "-a", "a.", "a..b", &"a".repeat(254)] {
            assert!(object_name(bad).is_err(), "{bad:?}");
        }
    }
}

/// An IPv4 or IPv6 CIDR block: `10.0.0.0/8`, `fd00::/64`.
pub fn is_cidr(s: &str) -> bool {
    let Some((address, bits)) = s.split_once('/') else { return false };
    let digits = !bits.is_empty() && bits.len() <= 3 && bits.chars().all(|c| c.is_ascii_digit()) && (bits == "0" || !bits.starts_with('0'));
    let Some(bits) = bits.parse::<u16>().ok().filter(|_| digits) else { return false };
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => bits <= 32,
        Ok(std::net::IpAddr::V6(_)) => bits <= 128,
        Err(_) => false,
    }
}

/// An address in an environment value: where its host is, and the port it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    /// The byte range of the host in the value.
    pub host: std::ops::Range<usize>,
    /// The port: the URL's, or the scheme's for HTTP and WebSocket URLs without one.
    pub port: Option<u16>,
}

/// The host and port an environment value names, when it is an address: a URL
/// (`http://cart:8080/x`, the scheme's port when it has none and the scheme is HTTP) or
/// `host:port`. Listening addresses (`:8080`) and other values are not addresses.
pub fn address(value: &str) -> Option<Address> {
    let is_host = |h: &str| {
        !h.is_empty()
            && h.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            && h.starts_with(|c: char| c.is_ascii_alphanumeric())
    };
    if let Some((scheme, rest)) = value.split_once("://") {
        let rest_at = scheme.len() + 3;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host_at = rest_at + authority.rfind('@').map_or(0, |i| i + 1);
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p.parse::<u16>().ok()?)),
            None => (authority, None),
        };
        let port = port.or(match scheme.to_ascii_lowercase().as_str() {
            "http" | "ws" => Some(80),
            "https" | "wss" => Some(443),
            _ => None,
        });
        return is_host(host).then_some(Address { host: host_at..host_at + host.len(), port });
    }
    let (host, port) = value.rsplit_once(':')?;
    let port = port.parse::<u16>().ok()?;
    (is_host(host) && host.chars().any(|c| c.is_ascii_alphabetic())).then_some(Address { host: 0..host.len(), port: Some(port) })
}

/// A value `-ldflags -X` sets to a Go variable: written inside `-X 'VAR=VALUE'` in a bash
/// string and a Dockerfile `RUN`, and split by the Go command's flag parser, so only
/// characters none of them reads.
pub fn stamp_value(s: &str) -> Result<(), Invalid> {
    let ok = !s.is_empty() && s.len() <= 256 && s.chars().all(|c| c.is_ascii_alphanumeric() || "._~+:/@=,-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            code::BAD_FORMAT,
            format!("`{}` cannot be stamped into a binary", escape(s)),
            Some("use letters, digits and `._~+:/@=,-` only (no blanks, quotes, `$` or `\\`), at most 256".to_owned()),
        ))
    }
}

/// An image's repository in its registry: `podinfo`, `team/api`.
pub fn repository(s: &str) -> Result<(), Invalid> {
    let component = |p: &str| {
        !p.is_empty()
            && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            && p.starts_with(|c: char| c.is_ascii_alphanumeric())
            && p.ends_with(|c: char| c.is_ascii_alphanumeric())
    };
    if s.len() <= 255 && s.split('/').all(component) {
        Ok(())
    } else {
        Err(invalid(
            code::BAD_IMAGE,
            format!("`{}` is not an image repository", escape(s)),
            Some(
                "write lower-case path components of letters, digits, `.`, `_` and `-`, separated by `/`: `podinfo`, `team/api`".to_owned(),
            ),
        ))
    }
}

/// An OCI content digest: `sha256:` and 64 lower-case hex digits, or `sha512:` and 128.
pub fn digest(s: &str) -> Result<(), Invalid> {
    let hex = |h: &str, n: usize| h.len() == n && h.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
    let ok = match s.split_once(':') {
        Some(("sha256", h)) => hex(h, 64),
        Some(("sha512", h)) => hex(h, 128),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(
            code::BAD_IMAGE,
            format!("`{}` is not an image digest", escape(s)),
            Some("write `sha256:` and the 64 lower-case hex digits the registry shows for the image".to_owned()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_blocks() {
        for ok in ["0.0.0.0/0", "10.0.0.10/32", "fd00::/64", "::1/128"] {
            assert!(is_cidr(ok), "{ok}");
        }
        for bad in ["10.0.0.10", "10.0.0.10/33", "10.0.0/8", "https://10.0.0.10:6443", "10.0.0.0/+8", "10.0.0.0/08", "fd00::/129", "/8"] {
            assert!(!is_cidr(bad), "{bad}");
        }
    }

    #[test]
    fn cpu() {
        assert_eq!(Cpu::parse("250m").unwrap().millis, 250);
        assert_eq!(Cpu::parse("1").unwrap().millis, 1000);
        assert_eq!(Cpu::parse("0.5").unwrap().millis, 500);
        assert_eq!(Cpu::parse("1.25").unwrap().kubernetes(), "1250m");
        assert!(Cpu::parse("0").is_err());
        assert!(Cpu::parse("1.2345").is_err());
        assert!(Cpu::parse("2 cores").is_err());
        assert!(Cpu::parse("1.").is_err());
    }

    #[test]
    fn bytes() {
        assert_eq!(Bytes::parse("512Mi").unwrap().bytes, 512 << 20);
        assert_eq!(Bytes::parse("1G").unwrap().bytes, 1_000_000_000);
        let e = Bytes::parse("512MB").unwrap_err();
        assert!(e.help.unwrap().contains("`512Mi`"));
        assert!(Bytes::parse("512").unwrap_err().message.contains("no unit"));
        assert!(Bytes::parse("512mi").unwrap_err().help.unwrap().contains("`512Mi`"));
    }

    #[test]
    fn durations() {
        assert_eq!(Duration::parse("1m30s").unwrap().millis, 90_000);
        assert_eq!(Duration::parse("250ms").unwrap().millis, 250);
        assert!(Duration::parse("30").unwrap_err().help.unwrap().contains("`30s`"));
        assert!(Duration::parse("3d").is_err());
    }

    #[test]
    fn quantities_that_would_overflow_a_target_are_refused() {
        assert_eq!(Bytes::parse("1024Ti").unwrap().bytes, MAX_BYTES);
        assert!(Bytes::parse("1025Ti").is_err());
        assert!(Bytes::parse("18446744073709551615k").is_err());
        assert!(Bytes::parse("99999999999999999999999Mi").is_err());
        assert_eq!(Duration::parse("8760h").unwrap().millis, MAX_DURATION_MS);
        assert!(Duration::parse("8761h").is_err());
        assert!(Duration::parse("18446744073709551615h").is_err());
        assert!(Duration::parse("99999999999999999999999s").is_err());
    }

    #[test]
    fn strings_written_into_artifacts_follow_their_grammar() {
        for ok in ["ghcr.io/acme", "registry.example.com:5000/team/sub", "localhost:5000", "r.example"] {
            assert_eq!(registry(ok), Ok(()), "{ok}");
        }
        for bad in ["ghcr.io/acme\nRUN x", "ghcr.io/Acme", "ghcr.io/", "ghcr.io:x/a", "a b", "ghcr.io/acme;x", "$(id)"] {
            assert!(registry(bad).is_err(), "{bad:?}");
        }
        for ok in ["1.4.2", "v1.4.2-rc.1", "2026_12_01"] {
            assert_eq!(version(ok), Ok(()), "{ok}");
        }
        for bad in ["1.0\nRUN touch /x", "1.0+build", "-1", ".1", "", "1.0 ", "$(id)", &"1".repeat(129)] {
            assert!(version(bad).is_err(), "{bad:?}");
        }
        for ok in ["./cmd/api", ".", "./cmd/v2.x", "./a~b/c+d"] {
            assert_eq!(go_package(ok), Ok(()), "{ok}");
        }
        for bad in ["./cmd/x;touch${IFS}PWNED;echo", "./cmd/$(id)", "./cmd/a b", "./cmd//x", "./cmd/x\n", "./смd"] {
            assert!(go_package(bad).is_err(), "{bad:?}");
        }
        for ok in ["hawser.kdl", "prod-spec_2.kdl"] {
            assert_eq!(file_name(ok), Ok(()), "{ok}");
        }
        for bad in ["x\nrm -rf y.kdl", "-rf.kdl", "..", "", "a b.kdl", "\u{202e}lkd.sh", "$(id).kdl", "%n.kdl"] {
            assert!(file_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(url("https://example.com/a%20b?x=1#y"), Ok(()));
        for bad in ["https://example.com/\"quote", "https://example.com/a b", "https://example.com/{{x}}", "https://example.com/\u{202e}"] {
            assert!(url(bad).is_err(), "{bad:?}");
        }
        assert!(abs_path("/etc/app/tls.key").is_ok());
        assert!(abs_path("/etc/app/%d key").is_err());
    }

    #[test]
    fn strings_for_programs_carry_no_control_characters() {
        assert_eq!(passable("tab\there $HOME `x` \u{202e}", false), Ok(()));
        assert_eq!(passable("two\nlines", true), Ok(()));
        assert_eq!(passable("two\nlines", false).unwrap_err().code, code::CONTROL_CHARACTER);
        assert!(passable("nul\0", true).is_err());
        assert!(passable("esc\u{1b}[2J", true).is_err());
        assert!(passable("cr\r", true).is_err());
        assert_eq!(passable("{{ .Values.x }}", true).unwrap_err().code, code::TEMPLATE_DELIMITER);
        assert_eq!(passable("{ { .Values.x } }", true), Ok(()));
    }

    #[test]
    fn names() {
        assert!(dns_label("api-v2").is_ok());
        assert!(dns_label("Api_V2").unwrap_err().help.unwrap().contains("`api-v2`"));
        assert!(dns_label("-x").is_err());
        assert!(dns_label(&"a".repeat(64)).is_err());
        assert!(port_name("metrics-longname").is_err());
        assert!(env_name("LOG_LEVEL").is_ok());
        assert!(env_name("log-level").unwrap_err().help.unwrap().contains("LOG_LEVEL"));
    }

    #[test]
    fn cron_expressions() {
        for ok in ["0 3 * * *", "*/15 * * * *", "0 9-17 * * mon-fri", "0 0 1 jan,jul *", "@daily"] {
            assert!(cron(ok).is_ok(), "{ok}");
        }
        for bad in ["0 3 * *", "61 * * * *", "0 25 * * *", "* * * * * *", "@sometimes", "*/0 * * * *"] {
            assert!(cron(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn images() {
        let i = ImageRef::parse("ghcr.io/acme/api:1.4.2").unwrap();
        assert_eq!((i.repository.as_str(), i.tag.as_deref()), ("ghcr.io/acme/api", Some("1.4.2")));
        assert!(i.is_pinned());
        assert!(!ImageRef::parse("postgres").unwrap().is_pinned());
        assert!(!ImageRef::parse("localhost:5000/x:latest").unwrap().is_pinned());
        assert!(ImageRef::parse("Acme/API").is_err());
        assert!(ImageRef::parse("x@sha256:abc").is_err());
    }

    #[test]
    fn credential_keys() {
        for k in ["DB_PASSWORD", "API_TOKEN", "STRIPE_SECRET", "STRIPE_API_KEY", "PASSWORD", "aws_secret_access_key"] {
            assert!(is_credential_key(k), "{k}");
        }
        for k in ["LOG_LEVEL", "DB_HOST", "STRIPE_PUBLISHABLE_KEY", "SSH_PUBLIC_KEY", "TLS_KEY_FILE", "KEY_ID"] {
            assert!(!is_credential_key(k), "{k}");
        }
    }
}
