//! YAML written directly from serialisable values: block style, two spaces per level,
//! sequences at their key's column, `{}` and `[]` for empty collections, keys in the order
//! they are serialised.
//!
//! Every string that a YAML 1.1 reader (PyYAML, go-yaml v2 under kubectl) or a YAML 1.2
//! reader would take for something other than that string — `on`, `y`, `null`, `0755`,
//! `1_000`, `12:30`, `2026-09-09`, `.inf`, `<<`, an indicator, a comment, edge blanks, a
//! control character — is written double-quoted, with escapes; every other string is
//! written plain. This is the layout and the quoting serde-saphyr 2.2 writes with
//! `prefer_block_scalars` off (the tests hold the two to identical bytes): a writer of our
//! own only because it is several times faster, since it decides how to write a string in
//! one pass over it and writes straight into the file's text.

use std::fmt::{self, Write as _};

use serde::ser::{self, Serialize};

/// A value that cannot be written as YAML (a map key that is not a scalar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error(msg.to_string())
    }
}

/// `value` as a YAML document (without a `---` line).
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    let mut out = String::new();
    write(&mut out, value)?;
    Ok(out)
}

/// Appends `value` to `out` as a YAML document (without a `---` line). `out` must end at
/// the start of a line.
pub fn write<T: Serialize + ?Sized>(out: &mut String, value: &T) -> Result<(), Error> {
    let _start = out.len();
    value.serialize(Node { out, slot: Slot::Root })?;
    // In the library's tests every document is compared with serde-saphyr's.
    #[cfg(test)]
    tests::same_as_reference(&out[_start..], value);
    Ok(())
}

/// Whether `s` is written as it is in a value position; otherwise it is quoted.
pub fn plain_value(s: &str) -> bool {
    plain(s, Position::Value)
}

/// Whether `s` is written as it is as a map key; otherwise it is quoted.
pub fn plain_key(s: &str) -> bool {
    plain(s, Position::Key)
}

// ------------------------------------------------------------------------ blocks

/// The name under which a value offers this writer its lines, already written
/// ([`serialize_as_block`]).
const BLOCK: &str = "hawser::yaml::Block";

thread_local! {
    /// The lines the value being serialized offers ([`serialize_as_block`]), until this
    /// writer takes them.
    static OFFERED: std::cell::RefCell<Option<std::sync::Arc<Lines>>> = const { std::cell::RefCell::new(None) };
}

/// A map (or struct) as this writer writes it at the root: written once, and copied
/// wherever the map appears (a workload's labels appear a dozen times in its manifests).
#[derive(Clone, Debug)]
pub struct Block {
    /// `None` when the value is an empty map or not a map: it is written the usual way.
    lines: Option<std::sync::Arc<Lines>>,
}

/// A block's lines, and the same lines indented for each column they were copied at.
#[derive(Debug)]
struct Lines {
    text: String,
    /// At columns 2, 4, … 32, made when first needed.
    indented: [std::sync::OnceLock<String>; 16],
}

impl Lines {
    /// The lines, each indented to `column`.
    fn at(&self, column: usize) -> std::borrow::Cow<'_, str> {
        let indent = || {
            let mut out = String::with_capacity(self.text.len() + column * 8);
            for line in self.text.split_inclusive('\n') {
                spaces(&mut out, column);
                out.push_str(line);
            }
            out
        };
        match column {
            0 => std::borrow::Cow::Borrowed(&self.text),
            _ if column.is_multiple_of(2) && column <= 32 => std::borrow::Cow::Borrowed(self.indented[column / 2 - 1].get_or_init(indent)),
            _ => std::borrow::Cow::Owned(indent()),
        }
    }
}

impl Block {
    /// No lines: the map is written the usual way.
    pub const NONE: Block = Block { lines: None };

    /// The lines of `map`, a map or a struct; none when it is empty (`{}`) or not a map. Its
    /// entries may be maps and sequences: every line of them is relative to the map's
    /// column, so the lines are copied at another column by indenting each alike.
    pub fn of<T: Serialize + ?Sized>(map: &T) -> Result<Block, Error> {
        let text = to_string(map)?;
        let is_map = text.lines().next().is_some_and(starts_with_key);
        let lines = is_map.then(|| std::sync::Arc::new(Lines { text, indented: Default::default() }));
        Ok(Block { lines })
    }
}

/// Whether `line`, the first of a document this writer wrote, starts with a map's key: a
/// double-quoted one followed by `:`, or a plain one, which ends at the first `: ` or at a
/// `:` ending the line (a plain scalar holds neither: it would have been quoted).
fn starts_with_key(line: &str) -> bool {
    match line.strip_prefix('"') {
        Some(quoted) => {
            let mut escaped = false;
            let end = quoted.char_indices().find(|&(_, c)| {
                let closes = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                closes
            });
            end.is_some_and(|(at, _)| quoted[at + 1..].starts_with(':'))
        }
        None => !line.starts_with([' ', '-', '\'', '{', '[']) && (line.contains(": ") || line.ends_with(':')),
    }
}

/// A map or struct that this writer writes as the last one equal to it that it wrote on
/// this thread, by copying that one's lines ([`Block`]): what a spec's containers and
/// pods mostly have alike (security contexts, resources, probes). Other serializers see
/// the value. Equal values must write alike: the types are `Eq` (no floats), and their
/// equality must compare every field they write.
pub struct Memo<'a, T>(pub &'a T);

impl<T: Serialize + Eq + Clone + 'static> Serialize for Memo<'_, T> {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        memo(self.0, serializer)
    }
}

/// A sequence whose items are each written as a [`Memo`], as serde's `serialize_with`.
pub fn memo_each<T: Serialize + Eq + Clone + 'static, S: ser::Serializer>(items: &[T], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(items.iter().map(Memo))
}

/// [`Memo`], as serde's `serialize_with`.
pub fn memo<T: Serialize + Eq + Clone + 'static, S: ser::Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    type Written = Vec<(Box<dyn std::any::Any>, Block)>;
    thread_local! {
        /// The values last written, with their lines: a few, of any type.
        static WRITTEN: std::cell::RefCell<Written> = const { std::cell::RefCell::new(Vec::new()) };
    }
    const KEPT: usize = 16;
    let known =
        WRITTEN.with(|written| written.borrow().iter().find(|(v, _)| v.downcast_ref::<T>() == Some(value)).map(|(_, block)| block.clone()));
    let block = match known {
        Some(block) => block,
        None => {
            // Made outside the borrow: the value may hold another one written so.
            let block = Block::of(value).unwrap_or(Block::NONE);
            WRITTEN.with(|written| {
                let mut written = written.borrow_mut();
                if written.len() == KEPT {
                    written.remove(0);
                }
                written.push((Box::new(value.clone()), block.clone()));
            });
            block
        }
    };
    serialize_as_block(value, &block, serializer)
}

/// Serializes `map` through `serializer` as it is, except for this writer, which copies
/// `block`, the lines of the same map ([`Block::of`]), instead of writing it again.
pub fn serialize_as_block<S: ser::Serializer, T: Serialize + ?Sized>(map: &T, block: &Block, serializer: S) -> Result<S::Ok, S::Error> {
    /// Withdraws the offer when the serializer is done with it, or has panicked.
    struct Withdraw;
    impl Drop for Withdraw {
        fn drop(&mut self) {
            OFFERED.with(|offered| offered.borrow_mut().take());
        }
    }
    let Some(lines) = &block.lines else { return map.serialize(serializer) };
    OFFERED.with(|offered| *offered.borrow_mut() = Some(lines.clone()));
    let _withdraw = Withdraw;
    serializer.serialize_newtype_struct(BLOCK, map)
}

// ------------------------------------------------------------------------ strings

#[derive(Clone, Copy, PartialEq, Eq)]
enum Position {
    Key,
    Value,
}

/// Appends `s` as a scalar: plain when that reads back as the same string, else quoted.
fn scalar(out: &mut String, s: &str, at: Position) {
    if at == Position::Value && matches!(s, "." | "#" | "-") {
        // One punctuation character alone is single-quoted, as serde-saphyr does.
        out.push('\'');
        out.push_str(s);
        out.push('\'');
    } else if plain(s, at) {
        out.push_str(s);
    } else {
        double_quoted(out, s);
    }
}

fn plain(s: &str, at: Position) -> bool {
    let bytes = s.as_bytes();
    // Most strings are names, paths and versions. One of letters, digits and `-./_` alone
    // that starts with a letter or `/` can only be misread as one of the words `ambiguous`
    // lists: none of the other checks below can fail on it.
    if let Some(b'a'..=b'z' | b'A'..=b'Z' | b'/') = bytes.first()
        && bytes.iter().all(|&b| NAME[usize::from(b)])
    {
        let plain = !word(bytes);
        // In the library's tests every such string is also held to every check.
        #[cfg(test)]
        assert_eq!(plain, every_check(s, at), "{s:?}");
        return plain;
    }
    every_check(s, at)
}

/// [`plain`], each check made in turn.
fn every_check(s: &str, at: Position) -> bool {
    let bytes = s.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else { return false };
    if first.is_ascii_whitespace() || last.is_ascii_whitespace() {
        return false;
    }
    match first {
        b',' | b':' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' => {
            return false;
        }
        b'-' | b'?' if bytes.get(1).is_none_or(u8::is_ascii_whitespace) => return false,
        _ => {}
    }
    // One pass over the bytes: what would end a plain scalar early, start a comment, or
    // need an escape. Most bytes are letters, digits and `-./_`, which a table skips.
    let mut ascii = true;
    let notable = if at == Position::Key { &NOTABLE } else { &NOTABLE_IN_VALUE };
    for (i, &b) in bytes.iter().enumerate() {
        if !notable[usize::from(b)] {
            continue;
        }
        match b {
            b':' if at == Position::Key || bytes.get(i + 1) == Some(&b' ') => return false,
            b'#' if i > 0 && bytes[i - 1] == b' ' => return false,
            b',' | b'[' | b']' | b'{' | b'}' if at == Position::Key => return false,
            0..=0x1F | 0x7F => return false,
            0x80.. => ascii = false,
            _ => {}
        }
    }
    if !ascii && !plain_unicode(s) {
        return false;
    }
    if bytes.len() >= 3 && (s.starts_with("---") || s.starts_with("...")) && bytes.get(3).is_none_or(u8::is_ascii_whitespace) {
        return false;
    }
    // A value ending in `:` (after any trailing Unicode blank) reads as a key.
    if at == Position::Value && s.trim_end().ends_with(':') {
        return false;
    }
    !ambiguous(s, at)
}

/// The bytes of names, paths and versions: letters, digits and `-./_`.
static NAME: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric() || matches!(b as u8, b'-' | b'.' | b'/' | b'_');
        b += 1;
    }
    t
};

/// The bytes [`plain`] looks at in a key: `:`, `#`, the flow indicators, controls, and the
/// bytes of characters beyond ASCII.
static NOTABLE: [bool; 256] = notable(true);

/// The bytes [`plain`] looks at in a value: those of a key but the flow indicators, which
/// only a key must not hold.
static NOTABLE_IN_VALUE: [bool; 256] = notable(false);

const fn notable(flow_indicators: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let flow = matches!(b as u8, b',' | b'[' | b']' | b'{' | b'}');
        t[b] = b < 0x20 || b >= 0x7F || matches!(b as u8, b':' | b'#') || (flow && flow_indicators);
        b += 1;
    }
    t
}

/// The checks that only characters beyond ASCII can fail: control characters and the
/// invisible ones a reader drops or escapes, and `#` after a Unicode blank.
fn plain_unicode(s: &str) -> bool {
    let mut previous_blank = false;
    for c in s.chars() {
        if needs_escape(c) || (c == '#' && previous_blank) {
            return false;
        }
        previous_blank = c.is_whitespace();
    }
    true
}

/// Characters that only survive inside double quotes, as escapes.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{FEFF}' | '\u{2028}' | '\u{2029}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Whether a reader would resolve the plain scalar `s` to something other than a string:
/// null, a boolean, a number or a timestamp under YAML 1.1 (and its readers' extensions),
/// or the merge and value keys. A key is also held to YAML 1.2's spelling of numbers.
fn ambiguous(s: &str, at: Position) -> bool {
    let bytes = s.as_bytes();
    match bytes[0] {
        b'0'..=b'9' | b'+' | b'-' | b'.' | b'_' => {
            (may_be_number(bytes) && (numeric(s, false) || (at == Position::Key && numeric(s, true))))
                || timestamp(s)
                || s.eq_ignore_ascii_case("+inf")
                || s.eq_ignore_ascii_case("-inf")
        }
        b'~' => bytes.len() == 1,
        b'<' | b'=' => s == "<<" || s == "=",
        _ => word(bytes),
    }
}

/// Whether `bytes` is one of the words a reader resolves to null, a boolean or a float:
/// null, true, false, yes, no, on, off, y, n, nan, inf (in any case).
fn word(bytes: &[u8]) -> bool {
    let first = bytes.first().map(u8::to_ascii_lowercase);
    if bytes.len() > 5 || !matches!(first, Some(b'n' | b't' | b'f' | b'y' | b'o' | b'i')) {
        return false;
    }
    let mut lower = [0u8; 5];
    for (l, b) in lower.iter_mut().zip(bytes) {
        *l = b.to_ascii_lowercase();
    }
    matches!(&lower[..bytes.len()], b"null" | b"true" | b"false" | b"yes" | b"no" | b"on" | b"off" | b"y" | b"n" | b"nan" | b"inf")
}

/// Whether `bytes` holds only characters some spelling of a number has: digits, hex
/// digits, the `0x`, `0o`, `0b` prefixes, `.inf` and `.nan`, signs, `.`, `_` and base 60's
/// `:`. A quantity such as `100m` or `128Mi` is not a number by its letter alone.
fn may_be_number(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| {
        b.is_ascii_hexdigit() || matches!(b, b'x' | b'X' | b'o' | b'O' | b'i' | b'I' | b'n' | b'N' | b'+' | b'-' | b'.' | b'_' | b':')
    })
}

/// Whether `s` reads as a number: in `strict` mode as YAML 1.2 spells numbers (underscores
/// only between digits), otherwise as YAML 1.1 readers do (any underscores, base 60, a
/// fraction of digits and dots).
fn numeric(s: &str, strict: bool) -> bool {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if unsigned.eq_ignore_ascii_case(".inf") || unsigned.eq_ignore_ascii_case(".nan") {
        return true;
    }
    if !strict {
        if sexagesimal(unsigned) {
            return true;
        }
        if let Some((radix, digits)) = radix(unsigned)
            && digit_run(digits, radix, false)
        {
            return true;
        }
        // YAML 1.1 readers drop every underscore before they read a number.
        if s.contains('_') {
            return number_text(&s.replace('_', ""), strict);
        }
    }
    number_text(s, strict)
}

/// `s` (after the YAML 1.1 underscores are gone) as an integer in base 2, 8, 10 or 16, or
/// a decimal float with an optional exponent.
fn number_text(s: &str, strict: bool) -> bool {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if let Some((radix, digits)) = radix(unsigned) {
        // go-yaml also reads a sign after a lowercase `0b` or `0o` prefix.
        let digits = if !strict && (s.starts_with("0b") || s.starts_with("0o")) {
            digits.strip_prefix(['+', '-']).unwrap_or(digits)
        } else {
            digits
        };
        return digit_run(digits, radix, true);
    }
    let mantissa = match unsigned.split_once(['e', 'E']) {
        Some((m, exponent)) => {
            if !digit_run(exponent.strip_prefix(['+', '-']).unwrap_or(exponent), 10, true) {
                return false;
            }
            m
        }
        None => unsigned,
    };
    match mantissa.split_once('.') {
        None => digit_run(mantissa, 10, true),
        Some((whole, fraction)) => {
            (whole.is_empty() || digit_run(whole, 10, true))
                && if strict {
                    if fraction.is_empty() { !whole.is_empty() } else { digit_run(fraction, 10, true) }
                } else {
                    fraction.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                }
        }
    }
}

fn radix(s: &str) -> Option<(u32, &str)> {
    let radix = match s.as_bytes() {
        [b'0', b'b' | b'B', ..] => 2,
        [b'0', b'o' | b'O', ..] => 8,
        [b'0', b'x' | b'X', ..] => 16,
        _ => return None,
    };
    Some((radix, &s[2..]))
}

/// One or more digits of `radix`, with underscores: anywhere, or (`strict`) only between
/// two digits.
fn digit_run(s: &str, radix: u32, strict: bool) -> bool {
    let digit = |b: u8| char::from(b).is_digit(radix);
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.iter().enumerate().all(|(i, &b)| {
            digit(b) || (b == b'_' && (!strict || (i > 0 && digit(bytes[i - 1]) && bytes.get(i + 1).is_some_and(|&n| digit(n)))))
        })
}

/// YAML 1.1's base 60: `1:20`, `-1:20:30.5` (each part after the first is 0 to 59).
fn sexagesimal(unsigned: &str) -> bool {
    let (integer, fraction) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let Some((first, rest)) = integer.split_once(':') else { return false };
    let Some(&lead) = first.as_bytes().first() else { return false };
    lead.is_ascii_digit()
        && !(fraction.is_none() && lead == b'0')
        && first.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        && rest.split(':').all(|part| match part.as_bytes() {
            [d] => d.is_ascii_digit(),
            [t, u] => (b'0'..=b'5').contains(t) && u.is_ascii_digit(),
            _ => false,
        })
        && fraction.is_none_or(|f| f.bytes().all(|b| b.is_ascii_digit() || b == b'_'))
}

/// A YAML 1.1 timestamp as go-yaml reads one: `2026-9-9`, `2026-09-09T12:30:00.5Z`,
/// `2026-09-09 12:30:00 +2`; the date need not exist.
fn timestamp(s: &str) -> bool {
    // Four digits and a `-` begin every timestamp.
    if s.as_bytes().get(4) != Some(&b'-') {
        return false;
    }
    let mut rest = s;
    let digits = |min: usize, max: usize, rest: &mut &str| {
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        *rest = &rest[n..];
        (min..=max).contains(&n)
    };
    let sep = |c: char, rest: &mut &str| match rest.strip_prefix(c) {
        Some(r) => {
            *rest = r;
            true
        }
        None => false,
    };
    if !(digits(4, 4, &mut rest) && sep('-', &mut rest) && digits(1, 2, &mut rest) && sep('-', &mut rest) && digits(1, 2, &mut rest)) {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    match rest.strip_prefix(['T', 't']) {
        Some(r) => rest = r,
        None => {
            let r = rest.trim_start_matches([' ', '\t']);
            if r.len() == rest.len() {
                return false;
            }
            rest = r;
        }
    }
    if !(digits(1, 2, &mut rest) && sep(':', &mut rest) && digits(1, 2, &mut rest) && sep(':', &mut rest) && digits(1, 2, &mut rest)) {
        return false;
    }
    if sep('.', &mut rest) || sep(',', &mut rest) {
        digits(0, usize::MAX, &mut rest);
    }
    rest = rest.trim_start_matches([' ', '\t']);
    if rest.is_empty() || rest == "Z" {
        return true;
    }
    if !((sep('+', &mut rest) || sep('-', &mut rest)) && digits(1, 2, &mut rest)) {
        return false;
    }
    if sep(':', &mut rest) && !digits(2, 2, &mut rest) {
        return false;
    }
    rest.is_empty()
}

fn double_quoted(out: &mut String, s: &str) {
    out.push('"');
    // Runs of characters that need no escape are copied whole; most bytes are printable
    // ASCII, which is looked at once.
    let bytes = s.as_bytes();
    let (mut run, mut i) = (0, 0);
    while i < bytes.len() {
        if matches!(bytes[i], 0x20..=0x7E) && !matches!(bytes[i], b'\\' | b'"') {
            i += 1;
            continue;
        }
        // `i` is at a character's start: every byte before it was ASCII or a whole character.
        let Some(c) = s[i..].chars().next() else { break };
        if needs_quoted_escape(c) {
            out.push_str(&s[run..i]);
            escape(out, c);
            run = i + c.len_utf8();
        }
        i += c.len_utf8();
    }
    out.push_str(&s[run..]);
    out.push('"');
}

/// Whether `c` is written as an escape inside double quotes.
fn needs_quoted_escape(c: char) -> bool {
    matches!(c, '\\' | '"' | '\u{85}' | '\u{2028}' | '\u{2029}')
        || ((c as u32) <= 0xFF && (c.is_control() || (0x7F..=0x9F).contains(&(c as u32))))
        || needs_escape(c)
}

/// Writes the escape of `c` ([`needs_quoted_escape`]).
fn escape(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '"' => out.push_str("\\\""),
        '\0' => out.push_str("\\0"),
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\u{b}' => out.push_str("\\v"),
        '\u{c}' => out.push_str("\\f"),
        '\r' => out.push_str("\\r"),
        '\u{1b}' => out.push_str("\\e"),
        '\u{85}' => out.push_str("\\N"),
        '\u{2028}' => out.push_str("\\L"),
        '\u{2029}' => out.push_str("\\P"),
        c if (c as u32) <= 0xFF => {
            let _ = write!(out, "\\x{:02X}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{:04X}", c as u32);
        }
    }
}

// ------------------------------------------------------------------------ layout

/// Where the node being written goes: what is already on its line.
#[derive(Clone, Copy)]
enum Slot {
    /// The document itself: nothing is written yet.
    Root,
    /// A map's value: `key:` is written, the key at column `indent`.
    Value { indent: usize },
    /// A sequence's item: `- ` is written, the dash at column `indent`.
    Item { indent: usize },
}

impl Slot {
    /// The column of a map's keys in this slot.
    fn key_column(self) -> usize {
        match self {
            Slot::Root => 0,
            Slot::Value { indent } | Slot::Item { indent } => indent + 2,
        }
    }

    /// The column of a sequence's dashes in this slot: under its key, not indented.
    fn dash_column(self) -> usize {
        match self {
            Slot::Root => 0,
            Slot::Value { indent } => indent,
            Slot::Item { indent } => indent + 2,
        }
    }
}

fn spaces(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut n = n;
    while n > SPACES.len() {
        out.push_str(SPACES);
        n -= SPACES.len();
    }
    out.push_str(&SPACES[..n]);
}

/// Writes one node into `out` at `slot`.
struct Node<'a> {
    out: &'a mut String,
    slot: Slot,
}

impl<'a> Node<'a> {
    /// Starts a scalar: a space after `key:`, nothing after `- ` or at the root.
    fn lead(&mut self) {
        if let Slot::Value { .. } = self.slot {
            self.out.push(' ');
        }
    }

    fn text(mut self, s: &str) -> Result<(), Error> {
        self.lead();
        scalar(self.out, s, Position::Value);
        self.out.push('\n');
        Ok(())
    }

    fn literal(mut self, s: &str) -> Result<(), Error> {
        self.lead();
        self.out.push_str(s);
        self.out.push('\n');
        Ok(())
    }

    fn display(mut self, v: impl fmt::Display) -> Result<(), Error> {
        self.lead();
        let _ = writeln!(self.out, "{v}");
        Ok(())
    }

    fn float(self, v: f64) -> Result<(), Error> {
        if v.is_nan() {
            return self.literal(".nan");
        }
        if v.is_infinite() {
            return self.literal(if v > 0.0 { ".inf" } else { "-.inf" });
        }
        let mut text = v.to_string();
        if !text.contains(['.', 'e', 'E']) {
            text.push_str(".0");
        }
        self.literal(&text)
    }

    /// A variant with contents is a map of one entry, `Variant: contents`: writes the key,
    /// and gives where the contents go.
    fn variant(self, variant: &'static str) -> Result<(&'a mut String, usize), Error> {
        let mut map = self.map();
        map.key(variant)?;
        let indent = map.slot.key_column();
        Ok((map.out, indent))
    }

    fn map(self) -> Map<'a> {
        Map { out: self.out, slot: self.slot, entries: 0 }
    }

    /// A map's lines ([`Block`]), each at the column of the map's keys: the first on a
    /// line of its own after `key:`, on the dash's line in a sequence.
    fn lines(self, lines: &Lines) -> Result<(), Error> {
        let column = self.slot.key_column();
        let text = lines.at(column);
        match self.slot {
            Slot::Value { .. } => {
                self.out.push('\n');
                self.out.push_str(&text);
            }
            Slot::Root | Slot::Item { .. } => self.out.push_str(&text[column..]),
        }
        Ok(())
    }

    fn seq(self) -> Seq<'a> {
        Seq { out: self.out, slot: self.slot, items: 0 }
    }
}

/// A block map, opened at its first key (until then it may be empty: `{}`).
struct Map<'a> {
    out: &'a mut String,
    slot: Slot,
    entries: usize,
}

impl Map<'_> {
    fn key(&mut self, key: &(impl Serialize + ?Sized)) -> Result<(), Error> {
        self.key_lead();
        key.serialize(Key { out: self.out })?;
        self.out.push(':');
        Ok(())
    }

    /// [`Map::key`] of a struct's field: a name whose quoting is decided once ([`field_plain`]).
    fn field(&mut self, key: &'static str) {
        self.key_lead();
        if field_plain(key) {
            self.out.push_str(key);
        } else {
            scalar(self.out, key, Position::Key);
        }
        self.out.push(':');
    }

    /// What goes before a key: a line of its own after `key:` for the first, on the dash's
    /// line in a sequence; the key column for the others.
    fn key_lead(&mut self) {
        if self.entries == 0 {
            if let Slot::Value { .. } = self.slot {
                self.out.push('\n');
                spaces(self.out, self.slot.key_column());
            }
        } else {
            spaces(self.out, self.slot.key_column());
        }
        self.entries += 1;
    }

    fn value(&mut self, value: &(impl Serialize + ?Sized)) -> Result<(), Error> {
        value.serialize(Node { out: self.out, slot: Slot::Value { indent: self.slot.key_column() } })
    }

    fn end(self) -> Result<(), Error> {
        if self.entries == 0 {
            Node { out: self.out, slot: self.slot }.literal("{}")?;
        }
        Ok(())
    }
}

/// A block sequence, opened at its first item (until then it may be empty: `[]`).
struct Seq<'a> {
    out: &'a mut String,
    slot: Slot,
    items: usize,
}

impl Seq<'_> {
    fn item(&mut self, value: &(impl Serialize + ?Sized)) -> Result<(), Error> {
        let column = self.slot.dash_column();
        match (self.items, self.slot) {
            // A sequence in a sequence starts on its parent's dash line: `- - a`.
            (0, Slot::Item { .. } | Slot::Root) => {}
            (0, Slot::Value { .. }) => {
                self.out.push('\n');
                spaces(self.out, column);
            }
            _ => spaces(self.out, column),
        }
        self.items += 1;
        self.out.push_str("- ");
        value.serialize(Node { out: self.out, slot: Slot::Item { indent: column } })
    }

    fn end(self) -> Result<(), Error> {
        if self.items == 0 {
            Node { out: self.out, slot: self.slot }.literal("[]")?;
        }
        Ok(())
    }
}

/// The serializer methods of every integer type, each writing the integer as it displays:
/// the same for values and keys.
macro_rules! integers_as_display {
    () => {
        integers_as_display!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64, serialize_i128: i128,
            serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_u128: u128);
    };
    ($($method:ident: $ty:ty),*) => {
        $(
            fn $method(self, v: $ty) -> Result<(), Error> {
                self.display(v)
            }
        )*
    };
}

impl<'a> ser::Serializer for Node<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Seq<'a>;
    type SerializeMap = Map<'a>;
    type SerializeStruct = Map<'a>;
    type SerializeStructVariant = Map<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.literal(if v { "true" } else { "false" })
    }
    integers_as_display!();
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.float(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.float(v)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.text(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.text(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        ser::Serializer::collect_seq(self, v)
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.literal("null")
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.literal("null")
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.literal("null")
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Error> {
        self.text(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, name: &'static str, value: &T) -> Result<(), Error> {
        if name == BLOCK
            && let Some(lines) = OFFERED.with(|offered| offered.borrow_mut().take())
        {
            return self.lines(&lines);
        }
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let mut map = self.map();
        map.key(variant)?;
        map.value(value)?;
        map.end()
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Seq<'a>, Error> {
        Ok(self.seq())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Seq<'a>, Error> {
        Ok(self.seq())
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Seq<'a>, Error> {
        Ok(self.seq())
    }
    fn serialize_tuple_variant(self, _name: &'static str, _index: u32, variant: &'static str, _len: usize) -> Result<Seq<'a>, Error> {
        // Unlike other sequences, a variant's is indented under its key.
        let (out, indent) = self.variant(variant)?;
        Ok(Seq { out, slot: Slot::Value { indent: indent + 2 }, items: 0 })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Map<'a>, Error> {
        Ok(self.map())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Map<'a>, Error> {
        Ok(self.map())
    }
    fn serialize_struct_variant(self, _name: &'static str, _index: u32, variant: &'static str, _len: usize) -> Result<Map<'a>, Error> {
        let (out, indent) = self.variant(variant)?;
        Ok(Map { out, slot: Slot::Value { indent }, entries: 0 })
    }
}

impl ser::SerializeSeq for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }
    fn end(self) -> Result<(), Error> {
        Seq::end(self)
    }
}

impl ser::SerializeTuple for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }
    fn end(self) -> Result<(), Error> {
        Seq::end(self)
    }
}

impl ser::SerializeTupleStruct for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }
    fn end(self) -> Result<(), Error> {
        Seq::end(self)
    }
}

impl ser::SerializeMap for Map<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.value(value)
    }
    fn end(self) -> Result<(), Error> {
        Map::end(self)
    }
}

impl ser::SerializeStruct for Map<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        self.field(key);
        self.value(value)
    }
    fn end(self) -> Result<(), Error> {
        Map::end(self)
    }
}

impl ser::SerializeTupleVariant for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }
    fn end(self) -> Result<(), Error> {
        Seq::end(self)
    }
}

impl ser::SerializeStructVariant for Map<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        self.key(key)?;
        self.value(value)
    }
    fn end(self) -> Result<(), Error> {
        Map::end(self)
    }
}

/// Whether a struct's field name is written plain as a key ([`plain`]), remembered by the
/// thread by where the name is: the text at a `'static` address never changes, and a
/// struct's names are written again for every object. A slot holds the last name that
/// fell in it.
fn field_plain(key: &'static str) -> bool {
    type Seen = std::cell::Cell<(usize, usize, bool)>;
    thread_local! {
        static SEEN: [Seen; 256] = const { [const { Seen::new((0, 0, false)) }; 256] };
    }
    let (at, len) = (key.as_ptr().addr(), key.len());
    let slot = ((at >> 3) ^ (at >> 11)) & 255;
    let known = SEEN.with(|seen| {
        let (a, l, plain) = seen[slot].get();
        (a == at && l == len).then_some(plain)
    });
    let plain = known.unwrap_or_else(|| {
        let plain = plain(key, Position::Key);
        SEEN.with(|seen| seen[slot].set((at, len, plain)));
        plain
    });
    // In the library's tests, every name is also held to the check itself.
    #[cfg(test)]
    assert_eq!(plain, self::plain(key, Position::Key), "{key:?}");
    plain
}

/// Writes a map key: a scalar, plain or quoted.
struct Key<'a> {
    out: &'a mut String,
}

impl Key<'_> {
    fn text(self, s: &str) -> Result<(), Error> {
        scalar(self.out, s, Position::Key);
        Ok(())
    }

    fn display(self, v: impl fmt::Display) -> Result<(), Error> {
        let _ = write!(self.out, "{v}");
        Ok(())
    }
}

fn not_a_scalar_key() -> Error {
    Error("a map key must be a string, a number or a boolean".to_owned())
}

impl ser::Serializer for Key<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.display(v)
    }
    integers_as_display!();
    fn serialize_f32(self, _v: f32) -> Result<(), Error> {
        Err(not_a_scalar_key())
    }
    fn serialize_f64(self, _v: f64) -> Result<(), Error> {
        Err(not_a_scalar_key())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.text(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.text(v)
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Error> {
        Err(not_a_scalar_key())
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.display("null")
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.display("null")
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.display("null")
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Error> {
        self.text(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(not_a_scalar_key())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(not_a_scalar_key())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(not_a_scalar_key())
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeTupleStruct, Error> {
        Err(not_a_scalar_key())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(not_a_scalar_key())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(not_a_scalar_key())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct, Error> {
        Err(not_a_scalar_key())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(not_a_scalar_key())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde::Serialize;

    use super::to_string;

    /// What serde-saphyr 2.2, the reference, writes for `value` with the options hawser
    /// used it with.
    fn reference<T: Serialize + ?Sized>(value: &T) -> String {
        let options = serde_saphyr::ser_options! { prefer_block_scalars: false };
        serde_saphyr::to_string_with_options(&value, options).expect("serde-saphyr writes it")
    }

    /// The writer's text for `value` is serde-saphyr's, byte for byte, and reads back (with
    /// serde-saphyr's YAML 1.1-aware reader) as the value itself.
    pub(crate) fn same_as_reference<T: Serialize + ?Sized>(ours: &str, value: &T) {
        COMPARED.with(|c| c.set(c.get() + 1));
        let theirs = reference(value);
        assert_eq!(ours, theirs, "the YAML writer and serde-saphyr differ");
        if let Ok(expected) = serde_json::to_value(value) {
            let read: serde_json::Value = serde_saphyr::from_str(ours).unwrap_or_else(|e| panic!("{e}: {ours}"));
            assert_eq!(read, expected, "{ours}");
        }
    }

    thread_local! {
        /// How many documents this thread compared with the reference.
        static COMPARED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    /// A struct's field names are quoted as any key is, whichever was written before at the
    /// same address: a name that is the start of another (`yes` in `yesterday`) is told apart
    /// by its length.
    #[test]
    fn field_names_are_quoted_as_keys_are() {
        #[derive(Serialize)]
        struct Fields {
            #[serde(rename = "on")]
            on: u8,
            plain: u8,
            #[serde(rename = "a: b")]
            colon: u8,
        }
        let text = to_string(&Fields { on: 1, plain: 2, colon: 3 }).expect("written");
        assert_eq!(text, "\"on\": 1\nplain: 2\n\"a: b\": 3\n");
        assert_eq!(text, reference(&Fields { on: 1, plain: 2, colon: 3 }));
        let long: &'static str = "yesterday";
        for _ in 0..2 {
            assert!(super::field_plain(long));
            assert!(!super::field_plain(&long[..3]));
        }
    }

    /// Every YAML document of every example and every spec of `tests/specs` (Kubernetes
    /// manifests, the chart's values, Prometheus configs and rules) is written exactly as
    /// serde-saphyr writes it, and reads back as what was written.
    #[test]
    fn every_example_is_written_as_serde_saphyr_writes_it() {
        let specs = crate::testing::specs(&["examples", "tests/specs"]);
        assert!(specs.len() >= 10, "{specs:?}");
        for path in specs {
            let text = std::fs::read_to_string(&path).expect("readable");
            let analysis = crate::check(&text);
            let spec = analysis.spec.unwrap_or_else(|| panic!("{}", path.display()));
            // The configuration files the spec names, read from beside it as `generate` does.
            let (inputs, _) = crate::review::inputs::read(path.parent().expect("the spec's directory"), &spec);
            let opts = crate::emit::Options {
                spec_name: "hawser.kdl".into(),
                version: Some("1.0.0".into()),
                output_dir: Some("generated".into()),
                inputs,
                ..Default::default()
            };
            let before = COMPARED.with(std::cell::Cell::get);
            let out = crate::emit::generate(&spec, &opts).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let compared = COMPARED.with(std::cell::Cell::get) - before;
            // At least one document per file of YAML data (the chart's templates are text).
            let data = |p: &&String| {
                p.starts_with("kubernetes/")
                    || p.starts_with("prometheus/")
                    || (p.starts_with("helm/")
                        && (p.ends_with("/Chart.yaml") || p.rsplit('/').next().is_some_and(|f| f.starts_with("values"))))
            };
            let files = out.files.keys().filter(data).filter(|p| !p.ends_with(".json")).count();
            assert!(compared >= files && compared > 0, "{}: {compared} documents compared, {files} YAML files", path.display());
        }
    }

    fn entry<'a>(k: &'a str, v: &'a str) -> BTreeMap<&'a str, &'a str> {
        BTreeMap::from([(k, v)])
    }

    /// Strings at the edges of YAML's plain scalars: numbers of every base, spelling and
    /// underscore, base 60, timestamps, words, indicators, comments, blanks, controls and
    /// the Unicode characters a reader drops or escapes.
    #[test]
    fn strings_are_written_as_serde_saphyr_writes_them() {
        let cases = [
            "",
            " ",
            "a",
            "~",
            "-",
            ".",
            "#",
            "?",
            ":",
            "-a",
            "?a",
            "- a",
            "? a",
            "a:",
            "a: b",
            "a:b",
            "a :",
            "a:\u{a0}",
            "a #b",
            "a#b",
            "a\u{a0}#b",
            "#a",
            "a,b",
            "a[b]",
            "{a}",
            "[a]",
            "a]",
            "---",
            "...",
            "--- a",
            "---a",
            "...a",
            "<<",
            "=",
            "==",
            "0",
            "00",
            "01",
            "0.",
            ".5",
            "+.5",
            "-.5",
            "1e3",
            "1E+3",
            "1e",
            "e3",
            "1_0",
            "_1",
            "1_",
            "1__0",
            "1.0_0",
            "1._0",
            "0x1F",
            "0X1f",
            "0x",
            "0x_1",
            "0b101",
            "0b+1",
            "+0b1",
            "0o17",
            "0o+7",
            "0O7",
            "0o8",
            "1:20",
            "01:20",
            "1:60",
            "1:59:59",
            "-1:20.5",
            "0:1.5",
            "1:2:3:4",
            "12:30",
            "2026-09-09",
            "2026-9-9",
            "2026-09-09T12:30:00Z",
            "2026-09-09 12:30:00",
            "2026-09-09t1:2:3.5 +2",
            "2026-09-09 12:30:00 -05:00",
            "2026-09-09x",
            "20260909",
            "1.2.3",
            "1.2.3.4",
            "1..2",
            "v1.0",
            ".inf",
            "-.INF",
            "+.Inf",
            ".nan",
            "+nan",
            "-inf",
            "+INF",
            "inf",
            "NaN",
            "nan",
            "null",
            "NULL",
            "Null",
            "nULL",
            "true",
            "TRUE",
            "tRUE",
            "false",
            "yes",
            "Yes",
            "YES",
            "no",
            "No",
            "on",
            "ON",
            "off",
            "Off",
            "y",
            "Y",
            "n",
            "N",
            "yess",
            "onn",
            "nul",
            "\t",
            "a\tb",
            "a\nb",
            "a\rb",
            "\u{0}",
            "\u{7f}",
            "\u{85}",
            "\u{9f}",
            "\u{a0}",
            "\u{feff}",
            "\u{2028}",
            "\u{2029}",
            "\u{fffe}",
            "\u{ffff}",
            "é",
            "字",
            "a\u{1f600}",
            "'",
            "\"",
            "a'b",
            "a\"b",
            "a\\b",
            "&a",
            "*a",
            "!a",
            "|",
            ">",
            "%a",
            "@a",
            "`a",
            "a|b",
            "a>b",
            "a&b",
            "http://x:8080/a?b#c",
            "catalog:9000",
            "0.0.0.0:7700",
            ":8080",
            "Acme <a@b.c>",
            "$(date +%s)",
            "a  b",
            "lead ",
            " trail",
        ];
        for s in cases {
            let s = s.to_owned();
            assert_eq!(to_string(&entry("k", &s)).unwrap(), reference(&entry("k", &s)), "value {s:?}");
            assert_eq!(to_string(&entry(&s, "v")).unwrap(), reference(&entry(&s, "v")), "key {s:?}");
            assert_eq!(to_string(&vec![s.as_str()]).unwrap(), reference(&vec![s.as_str()]), "item {s:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

        /// Short strings over the characters YAML's rules turn on: the writer and the
        /// reference quote exactly the same ones.
        #[test]
        fn random_strings_are_quoted_alike(s in "[-+._:#0-9a-fA-FxobeEnNyYtT~<=, \t\u{a0}\u{85}'\"!|>@]{0,8}") {
            prop_assert_eq!(to_string(&entry("k", &s)).unwrap(), reference(&entry("k", &s)));
            prop_assert_eq!(to_string(&entry(&s, "v")).unwrap(), reference(&entry(&s, "v")));
        }
    }

    #[derive(Serialize)]
    enum Variants {
        Unit,
        Newtype(u32),
        Tuple(u32, &'static str),
        Struct { a: u32, b: Vec<u32> },
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Shapes {
        empty_map: BTreeMap<String, String>,
        empty_seq: Vec<u32>,
        nested: Vec<Vec<u32>>,
        nested_empty: Vec<Vec<u32>>,
        maps_in_seq: Vec<BTreeMap<&'static str, Vec<BTreeMap<&'static str, u32>>>>,
        empty_maps_in_seq: Vec<BTreeMap<u32, u32>>,
        none: Option<u32>,
        unit: (),
        variants: Vec<Variants>,
        variant: Variants,
        #[serde(flatten)]
        flat: BTreeMap<&'static str, Vec<Option<bool>>>,
        numbers: (i64, u64, i8, u128, char),
        int_keys: BTreeMap<i32, &'static str>,
        bytes: &'static [u8],
    }

    /// Every shape of node, in every place one can go.
    #[test]
    fn shapes_are_laid_out_as_serde_saphyr_lays_them_out() {
        let shapes = Shapes {
            empty_map: BTreeMap::new(),
            empty_seq: Vec::new(),
            nested: vec![vec![1, 2], vec![], vec![3]],
            nested_empty: vec![vec![]],
            maps_in_seq: vec![BTreeMap::from([("a", vec![BTreeMap::from([("x", 1), ("y", 2)])]), ("b", vec![])]), BTreeMap::new()],
            empty_maps_in_seq: vec![BTreeMap::new(), BTreeMap::from([(1, 2)])],
            none: None,
            unit: (),
            variants: vec![Variants::Unit, Variants::Newtype(1), Variants::Tuple(2, "on"), Variants::Struct { a: 1, b: vec![2] }],
            variant: Variants::Struct { a: 3, b: vec![] },
            flat: BTreeMap::from([("flatKey", vec![Some(true), None]), ("other", vec![])]),
            numbers: (-5, u64::MAX, -128, u128::MAX, 'y'),
            int_keys: BTreeMap::from([(-1, "a"), (2, "b")]),
            bytes: b"ab",
        };
        assert_eq!(to_string(&shapes).unwrap(), reference(&shapes));
        for root in [to_string(&Vec::<u32>::new()), to_string(&BTreeMap::<u32, u32>::new()), to_string("on"), to_string(&vec![vec![1]])] {
            let _ = root.unwrap();
        }
        assert_eq!(to_string(&Vec::<u32>::new()).unwrap(), reference(&Vec::<u32>::new()));
        assert_eq!(to_string(&BTreeMap::<u32, u32>::new()).unwrap(), reference(&BTreeMap::<u32, u32>::new()));
        assert_eq!(to_string("on").unwrap(), reference("on"));
        assert_eq!(to_string(&vec![vec![1, 2], vec![3]]).unwrap(), reference(&vec![vec![1, 2], vec![3]]));
    }

    /// A map written once as a [`Block`](super::Block) and copied wherever it appears (the
    /// root, a map's value, a sequence's item, a nested map's value) is written as the map
    /// itself is, by this writer and by serde-saphyr, and other serializers see the map. An
    /// empty map, and a value that is not a map, has no block.
    #[test]
    fn blocks_are_written_as_their_maps_are() {
        use super::{Block, serialize_as_block};
        struct Shared<'a>(&'a BTreeMap<&'a str, &'a str>, &'a Block);
        impl Serialize for Shared<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serialize_as_block(self.0, self.1, serializer)
            }
        }
        #[derive(Serialize)]
        struct Doc<T> {
            labels: T,
            items: Vec<T>,
            nested: BTreeMap<&'static str, T>,
            last: T,
        }
        let labels = BTreeMap::from([("app.kubernetes.io/name", "api"), ("on", "yes"), ("empty", ""), ("say", "a: b")]);
        let block = Block::of(&labels).unwrap();
        assert!(block.lines.is_some());
        let doc = |m| Doc { labels: m, items: vec![m, m], nested: BTreeMap::from([("a", m)]), last: m };
        let plain = doc(&labels);
        let shared = Doc {
            labels: Shared(&labels, &block),
            items: vec![Shared(&labels, &block), Shared(&labels, &block)],
            nested: BTreeMap::from([("a", Shared(&labels, &block))]),
            last: Shared(&labels, &block),
        };
        assert_eq!(to_string(&shared).unwrap(), reference(&plain));
        assert_eq!(to_string(&Shared(&labels, &block)).unwrap(), reference(&labels));
        assert_eq!(serde_json::to_value(&shared).unwrap(), serde_json::to_value(&plain).unwrap());
        assert!(Block::of(&BTreeMap::<&str, &str>::new()).unwrap().lines.is_none());
        for not_a_map in [to_string(&vec![1, 2]), to_string("on"), to_string("a: b"), to_string("a:b"), to_string(&"x".repeat(3))] {
            assert!(!super::starts_with_key(not_a_map.unwrap().lines().next().unwrap()));
        }
        assert!(Block::of(&vec![1, 2]).unwrap().lines.is_none());
        assert!(Block::of("a: b").unwrap().lines.is_none());
        assert!(Block::of(&BTreeMap::from([("on", 1)])).unwrap().lines.is_some());
        assert!(Block::of(&BTreeMap::from([("a\"b: c", 1)])).unwrap().lines.is_some());
        assert!(Block::of(&BTreeMap::from([("k", BTreeMap::from([("n", 1)]))])).unwrap().lines.is_some());
    }

    /// An offer that a serializer did not take because it panicked is withdrawn as the
    /// panic unwinds: no later value can be written as another's lines.
    #[test]
    fn an_offer_is_withdrawn_when_its_serializer_panics() {
        use super::{Block, OFFERED, serialize_as_block};
        struct Panics;
        impl Serialize for Panics {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                panic!("a serializer that fails")
            }
        }
        let block = Block::of(&BTreeMap::from([("a", "b")])).unwrap();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = serialize_as_block(&Panics, &block, serde_json::value::Serializer);
        }));
        assert!(caught.is_err());
        assert!(OFFERED.with(|offered| offered.borrow().is_none()));
    }

    /// A map whose entries are maps and sequences, written as the last equal one was
    /// ([`Memo`](super::Memo)) in every place a map goes, is written as the map itself is;
    /// so is one that differs from the last (its own lines are made).
    #[test]
    fn memos_are_written_as_their_values_are() {
        use super::Memo;
        #[derive(Serialize, Clone, PartialEq, Eq)]
        #[serde(rename_all = "camelCase")]
        struct Context {
            run_as_user: u32,
            capabilities: BTreeMap<&'static str, Vec<&'static str>>,
            seccomp: BTreeMap<&'static str, &'static str>,
            empty: Vec<u8>,
            nothing: BTreeMap<u8, u8>,
        }
        #[derive(Serialize)]
        struct Doc<T> {
            context: T,
            items: Vec<T>,
            nested: BTreeMap<&'static str, Vec<T>>,
        }
        let one = Context {
            run_as_user: 65532,
            capabilities: BTreeMap::from([("drop", vec!["ALL"]), ("add", vec![])]),
            seccomp: BTreeMap::from([("type", "RuntimeDefault")]),
            empty: vec![],
            nothing: BTreeMap::new(),
        };
        let other = Context { run_as_user: 0, ..one.clone() };
        let doc = |a, b| Doc { context: a, items: vec![a, b, a], nested: BTreeMap::from([("x", vec![b, a])]) };
        let plain = doc(&one, &other);
        let memo = Doc {
            context: Memo(&one),
            items: vec![Memo(&one), Memo(&other), Memo(&one)],
            nested: BTreeMap::from([("x", vec![Memo(&other), Memo(&one)])]),
        };
        for _ in 0..2 {
            assert_eq!(to_string(&memo).unwrap(), reference(&plain));
            assert_eq!(serde_json::to_value(&memo).unwrap(), serde_json::to_value(&plain).unwrap());
        }
    }

    /// A map key that is not a scalar is an error, not a document that reads differently.
    #[test]
    fn complex_keys_are_refused() {
        let m = BTreeMap::from([(vec![1], 2)]);
        assert!(to_string(&m).is_err());
    }
}
