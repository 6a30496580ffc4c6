//! A recognizer for KDL 2.0: whether text is a valid document and, where it is not, why.
//!
//! The `kdl` crate is the reference for what a valid document means, but its error
//! recovery is not safe on hostile text: it recurses once per error it recovers from (a
//! 100 KB line of `= = = …` overflows the stack of a release build) and may read what is
//! inside a broken string as code. So a document the fast parser leaves goes through this
//! recognizer first, and only a document it accepts reaches the `kdl` crate, which then
//! has no error to recover from. The recognizer reads the text once, keeps open blocks on
//! an explicit stack instead of recursing, and after an error skips to the end of the node
//! and goes on, so that one run reports the errors of independent nodes.
//!
//! It follows the KDL 2.0 grammar, and the `kdl` crate where that departs from it in what
//! hawser can read: integers beyond 128 bits are refused, and so are decimals whose digits
//! before `.` or `e` are, as the reference refuses them.
//! A slashdash right after a value (`node "x"/-1`) is accepted, as KDL 2.0 says; the
//! reference reads such a text with a space put before the slashdash
//! ([`super::parse_reference`]). The parse fuzz target holds the two to the same verdict.

use super::limits::MAX_SYNTAX_ERRORS;
use super::shape::newline_len;
use crate::diagnostics::{self, Diagnostic};
use crate::span::Span;

/// The syntax errors of `text`: empty when it is a valid KDL 2.0 document. At most
/// [`MAX_SYNTAX_ERRORS`] and then one that counts the rest. Expects text within the limits
/// whose disallowed code points have been reported already.
pub fn validate(text: &str) -> Vec<Diagnostic> {
    let mut v = Checker { s: text.as_bytes(), t: text, i: 0, blocks: Vec::new(), errors: Vec::new(), hidden: 0, first_hidden: None };
    v.document();
    let mut errors = v.errors;
    if v.hidden > 0 {
        errors.push(diagnostics::more_syntax_errors(v.hidden, v.first_hidden.unwrap_or_default()));
    }
    errors
}

struct Checker<'a> {
    s: &'a [u8],
    t: &'a str,
    i: usize,
    /// The open children blocks, innermost last.
    blocks: Vec<Open>,
    errors: Vec<Diagnostic>,
    hidden: usize,
    first_hidden: Option<Span>,
}

/// An open children block: where its `{` is, and how its node goes on after the `}`.
#[derive(Clone, Copy)]
struct Open {
    at: usize,
    owner: Phase,
}

/// Where a node is: its entries, then slashdashed blocks, then its one children block, then
/// only slashdashed blocks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Entries,
    BlocksBefore,
    After,
}

/// An error was reported; the caller skips to the end of the node.
struct Failed;

type Step = Result<(), Failed>;

/// What a scalar turned out to be.
#[derive(PartialEq, Eq)]
enum Scalar {
    String,
    Other,
}

impl Checker<'_> {
    fn document(&mut self) {
        if self.s.starts_with("\u{FEFF}".as_bytes()) {
            self.i = 3;
        }
        loop {
            if self.line_space().is_err() {
                self.resync();
                continue;
            }
            match self.peek() {
                None => break,
                Some(b'}') => match self.blocks.pop() {
                    Some(open) => {
                        self.i += 1;
                        if self.rest(open.owner).is_err() {
                            self.resync();
                        }
                    }
                    None => {
                        self.error(
                            self.here(1),
                            "`}` closes no block",
                            "no `{` before it is open",
                            "remove it, or the `}` before it that closes the block too early",
                        );
                        self.i += 1;
                    }
                },
                Some(b';') => {
                    self.error(self.here(1), "`;` ends no node", "nothing to end", "remove it: a `;` goes after a node, to end it");
                    self.i += 1;
                }
                Some(_) => {
                    if self.node().is_err() {
                        self.resync();
                    }
                }
            }
        }
        for open in std::mem::take(&mut self.blocks).iter().rev() {
            self.error(Span::new(open.at, open.at + 1), "this `{` is never closed", "opened here", "add the `}` that closes it");
        }
    }

    /// A node, from its slashdash or name on. Stops after its terminator, at the `}` that
    /// ends its parent's block, or just after a `{` it opens.
    fn node(&mut self) -> Step {
        if self.at(b"/-") {
            self.i += 2;
            self.line_space()?;
            self.not_on_slashdash()?;
            if matches!(self.peek(), None | Some(b'}' | b';')) {
                return Err(self.fail(self.here(1), "a `/-` must be followed by the node it comments out", "nothing to comment out", ""));
            }
        }
        if self.peek() == Some(b'(') {
            self.annotation()?;
            self.node_space()?;
        }
        let start = self.i;
        if self.scalar("a node name")? != Scalar::String {
            return Err(self.fail(
                Span::new(start, self.i),
                "a node name must be a string",
                "not a string",
                "quote it (`\"1\"`) or start the name with a letter",
            ));
        }
        self.rest(Phase::Entries)
    }

    /// The rest of a node after its name, or after one of its blocks closed.
    fn rest(&mut self, mut phase: Phase) -> Step {
        loop {
            let spaced = self.node_space()?;
            match self.peek() {
                None | Some(b'}') => return Ok(()),
                Some(b';') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'/') if self.s.get(self.i + 1) == Some(&b'/') => {
                    self.line_comment();
                    return Ok(());
                }
                Some(b'{') => {
                    if phase == Phase::After {
                        return Err(self.fail(
                            self.here(1),
                            "a node has at most one children block",
                            "a second block",
                            "merge the two blocks, or comment this one out with `/-`",
                        ));
                    }
                    self.blocks.push(Open { at: self.i, owner: Phase::After });
                    self.i += 1;
                    return Ok(());
                }
                Some(b'/') if self.s.get(self.i + 1) == Some(&b'-') => {
                    self.i += 2;
                    self.line_space()?;
                    self.not_on_slashdash()?;
                    match self.peek() {
                        Some(b'{') => {
                            if phase == Phase::Entries {
                                phase = Phase::BlocksBefore;
                            }
                            self.blocks.push(Open { at: self.i, owner: phase });
                            self.i += 1;
                            return Ok(());
                        }
                        None | Some(b'}' | b';') => {
                            return Err(self.fail(
                                self.here(1),
                                "a `/-` must be followed by what it comments out",
                                "nothing to comment out",
                                "",
                            ));
                        }
                        _ => {
                            self.entry_allowed(phase)?;
                            self.entry()?;
                        }
                    }
                }
                Some(_) => {
                    let newline = newline_len(&self.s[self.i..]);
                    if newline > 0 {
                        self.i += newline;
                        return Ok(());
                    }
                    if !spaced {
                        let c = self.here_char();
                        return Err(self.fail(
                            c,
                            &format!("unexpected {}", describe(&self.t[c.range()])),
                            "expected a space, a newline or `;` before this",
                            "separate entries with a space; a node ends at a newline or `;`",
                        ));
                    }
                    self.entry_allowed(phase)?;
                    self.entry()?;
                }
            }
        }
    }

    /// After a slashdash: what it comments out may not be another slashdash.
    fn not_on_slashdash(&mut self) -> Step {
        if !self.at(b"/-") {
            return Ok(());
        }
        Err(self.fail(
            self.here(2),
            "a `/-` must be followed by what it comments out, not another `/-`",
            "a second `/-`",
            "remove one of the two",
        ))
    }

    fn entry_allowed(&mut self, phase: Phase) -> Step {
        if phase == Phase::Entries {
            return Ok(());
        }
        Err(self.fail(
            self.here_char(),
            "arguments and properties must come before a node's children blocks",
            "after a block",
            "move it before the `{`",
        ))
    }

    /// An argument or a property.
    fn entry(&mut self) -> Step {
        if self.peek() == Some(b'(') {
            self.annotation()?;
            self.node_space()?;
            self.scalar("a value after the type annotation")?;
            return Ok(());
        }
        let start = self.i;
        let kind = self.scalar("an argument or a property")?;
        let end = self.i;
        self.node_space()?;
        if self.peek() == Some(b'=') {
            if kind != Scalar::String {
                return Err(self.fail(Span::new(start, end), "a property name must be a string", "not a string", "quote it"));
            }
            self.i += 1;
            self.node_space()?;
            if self.peek() == Some(b'(') {
                self.annotation()?;
                self.node_space()?;
            }
            self.scalar("a value after `=`")?;
        } else {
            self.i = end;
        }
        Ok(())
    }

    /// `( string )`, spaces allowed inside.
    fn annotation(&mut self) -> Step {
        self.i += 1;
        self.node_space()?;
        let start = self.i;
        if self.peek() == Some(b')') {
            return Err(self.fail(
                Span::new(start - 1, start + 1),
                "empty type annotation",
                "nothing inside",
                "write a type, `(u8)`, or remove the parentheses",
            ));
        }
        if self.scalar("a type name")? != Scalar::String {
            return Err(self.fail(Span::new(start, self.i), "a type annotation must be a string", "not a string", ""));
        }
        self.node_space()?;
        if self.peek() != Some(b')') {
            return Err(self.fail(self.here_char(), "expected `)` to close the type annotation", "expected `)`", ""));
        }
        self.i += 1;
        Ok(())
    }

    /// A string (identifier, quoted or raw), a number or a keyword. `what` says what was
    /// expected when there is none.
    fn scalar(&mut self, what: &str) -> Result<Scalar, Failed> {
        match self.peek() {
            Some(b'"') => {
                self.quoted()?;
                Ok(Scalar::String)
            }
            Some(b'#') => {
                let hashes = self.s[self.i..].iter().take_while(|&&b| b == b'#').count();
                if self.s.get(self.i + hashes) == Some(&b'"') {
                    self.raw(hashes)?;
                    return Ok(Scalar::String);
                }
                let start = self.i;
                let word = self.s[self.i + 1..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'-').count();
                let keyword = &self.t[start..start + 1 + word];
                self.i = start + 1 + word;
                if ["#true", "#false", "#null", "#inf", "#-inf", "#nan"].contains(&keyword) {
                    return Ok(Scalar::Other);
                }
                Err(self.fail(
                    Span::new(start, self.i.max(start + 1)),
                    &format!("unknown keyword `{keyword}`"),
                    "not a keyword",
                    "the keywords are #true, #false, #null, #inf, #-inf and #nan; quote text that starts with `#`",
                ))
            }
            _ => {
                let start = self.i;
                while let Some(c) = self.t[self.i..].chars().next()
                    && is_identifier_char(c)
                {
                    self.i += c.len_utf8();
                }
                if self.i == start {
                    let c = self.here_char();
                    let found = if c.is_empty() { "the end of the text".to_owned() } else { describe(&self.t[c.range()]) };
                    return Err(self.fail(c, &format!("expected {what}, found {found}"), &format!("expected {what}"), ""));
                }
                self.word(start)
            }
        }
    }

    /// A bare word just read at `start`: a number when it starts like one, else an
    /// identifier, which may not be a keyword without its `#`.
    fn word(&mut self, start: usize) -> Result<Scalar, Failed> {
        let word = &self.t[start..self.i];
        let span = Span::new(start, self.i);
        let unsigned = word.strip_prefix(['+', '-']).unwrap_or(word);
        let after_dot = unsigned.strip_prefix('.').unwrap_or(unsigned);
        if after_dot.starts_with(|c: char| c.is_ascii_digit()) {
            if after_dot.len() != unsigned.len() {
                return Err(self.fail(
                    span,
                    &format!("`{word}` is not a number"),
                    "a digit must come before the `.`",
                    "write `0.5`, not `.5`",
                ));
            }
            return match number(word) {
                Ok(()) => Ok(Scalar::Other),
                Err(why) => Err(self.fail(span, &format!("`{word}` is not a number"), why, "quote it if it is text")),
            };
        }
        if ["true", "false", "null", "inf", "-inf", "nan"].contains(&word) {
            return Err(self.fail(
                span,
                &format!("bare `{word}` is not allowed"),
                "a keyword without `#`",
                &format!("write #{word} for the value, or \"{word}\" for the text"),
            ));
        }
        Ok(Scalar::String)
    }

    /// A quoted string, single- or multi-line, from its opening `"`.
    fn quoted(&mut self) -> Step {
        let open = self.i;
        if self.at(b"\"\"\"") {
            self.i += 3;
            return self.multi_line(open, 0);
        }
        self.i += 1;
        loop {
            match self.peek() {
                None => return Err(self.unterminated(open, 1)),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.escape()?;
                }
                Some(_) => self.single_line_char(
                    open,
                    "a quoted string cannot span lines",
                    "close it with `\"` on the same line, or use a multi-line string (`\"\"\"`)",
                )?,
            }
        }
    }

    /// One character of a single-line string that opened at `open`: a newline ends the
    /// string there, with `message`.
    fn single_line_char(&mut self, open: usize, message: &str, help: &str) -> Step {
        if newline_len(&self.s[self.i..]) > 0 {
            return Err(self.fail(Span::new(open, self.i), message, "this string reaches the end of its line", help));
        }
        self.i += self.char_len();
        Ok(())
    }

    /// A raw string, from its first `#`.
    fn raw(&mut self, hashes: usize) -> Step {
        let open = self.i;
        self.i += hashes;
        if self.at(b"\"\"\"") {
            self.i += 3;
            return self.multi_line(open, hashes);
        }
        self.i += 1;
        // Written once for the string, not for each of its characters.
        let help = format!("close it with `\"{}` on the same line, or use a multi-line raw string", "#".repeat(hashes));
        loop {
            match self.peek() {
                None => return Err(self.unterminated(open, hashes + 1)),
                Some(b'"') if self.s[self.i + 1..].iter().take(hashes).filter(|&&b| b == b'#').count() == hashes => {
                    self.i += 1 + hashes;
                    return Ok(());
                }
                Some(_) => self.single_line_char(open, "a raw string cannot span lines", &help)?,
            }
        }
    }

    /// The body of a multi-line string (raw when `hashes > 0`), just after its `"""`. The
    /// opening quotes are followed by a newline, the closing ones are on a line of their
    /// own, and every other line that is not blank starts with the closing line's white
    /// space. Whitespace escapes are removed before the lines are compared.
    fn multi_line(&mut self, open: usize, hashes: usize) -> Step {
        if newline_len(&self.s[self.i..]) == 0 {
            // Read as far as closing quotes on the same line, so the error is the string's
            // own and the node goes on after it.
            let closing = [&b"\"\"\""[..], &b"#".repeat(hashes)].concat();
            let line = &self.s[self.i..self.i + super::shape::line_end(&self.s[self.i..])];
            if let Some(at) = line.windows(closing.len()).position(|w| w == closing.as_slice()) {
                self.i += at + closing.len();
            }
            return Err(self.fail(
                Span::new(open, self.i),
                "a multi-line string must start a new line after its `\"\"\"`",
                "text on the same line",
                "put a newline after `\"\"\"`, or use a single-line string",
            ));
        }
        // The body with whitespace escapes removed and every newline written `\n`.
        let mut body = String::new();
        loop {
            match self.peek() {
                None => return Err(self.unterminated(open, hashes + 3)),
                Some(b'"') if self.at(b"\"\"\"") && self.s[self.i + 3..].iter().take(hashes).filter(|&&b| b == b'#').count() == hashes => {
                    self.i += 3 + hashes;
                    break;
                }
                Some(b'\\') if hashes == 0 => {
                    let from = self.i;
                    let whitespace = self.escape()?;
                    if !whitespace {
                        body.push_str(&self.t[from..self.i]);
                    }
                }
                Some(_) => {
                    let n = newline_len(&self.s[self.i..]);
                    if n > 0 {
                        body.push('\n');
                        self.i += n;
                    } else {
                        let len = self.char_len();
                        body.push_str(&self.t[self.i..self.i + len]);
                        self.i += len;
                    }
                }
            }
        }
        let span = Span::new(open, self.i);
        let lines: Vec<&str> = body.split('\n').collect();
        let prefix = lines.last().copied().unwrap_or_default();
        if !prefix.chars().all(is_space) || lines.len() < 2 {
            return Err(self.fail(
                span,
                "the closing `\"\"\"` must be on a line of its own",
                "text before the closing quotes",
                "put the closing `\"\"\"` on a new line",
            ));
        }
        for line in &lines[1..lines.len() - 1] {
            if !line.chars().all(is_space) && !line.starts_with(prefix) {
                return Err(self.fail(
                    span,
                    "a line of this multi-line string is not indented like its closing `\"\"\"`",
                    "a line starts left of the closing quotes",
                    "indent every line at least as far as the closing `\"\"\"`, with the same spaces or tabs",
                ));
            }
        }
        Ok(())
    }

    /// An escape in a quoted string, at its `\`. Whether it was a whitespace escape.
    fn escape(&mut self) -> Result<bool, Failed> {
        let start = self.i;
        self.i += 1;
        let mut whitespace = false;
        loop {
            let n = newline_len(&self.s[self.i..]).max(space_len(self.t, self.i));
            if n == 0 {
                break;
            }
            self.i += n;
            whitespace = true;
        }
        if whitespace {
            return Ok(true);
        }
        match self.peek() {
            Some(b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' | b's') => {
                self.i += 1;
                Ok(false)
            }
            Some(b'u') => {
                self.i += 1;
                let digits =
                    if self.peek() == Some(b'{') { self.s[self.i + 1..].iter().take_while(|b| b.is_ascii_hexdigit()).count() } else { 0 };
                let closed = self.s.get(self.i + 1 + digits) == Some(&b'}');
                if self.peek() != Some(b'{') || !(1..=6).contains(&digits) || !closed {
                    let end = if closed { self.i + 2 + digits } else { self.i };
                    return Err(self.fail(
                        Span::new(start, end),
                        "invalid unicode escape",
                        "not `\\u{…}`",
                        "write one to six hex digits in braces: `\\u{1F600}`",
                    ));
                }
                let hex = &self.t[self.i + 1..self.i + 1 + digits];
                self.i += 2 + digits;
                match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                    Some(_) => Ok(false),
                    None => Err(self.fail(
                        Span::new(start, self.i),
                        &format!("`\\u{{{hex}}}` is not a character"),
                        "a surrogate or beyond U+10FFFF",
                        "",
                    )),
                }
            }
            _ => {
                let c = self.here_char();
                Err(self.fail(
                    Span::new(start, c.end as usize),
                    &format!("invalid escape `\\{}`", &self.t[c.range()]),
                    "not an escape",
                    "the escapes are \\n \\r \\t \\\\ \\\" \\b \\f \\s and \\u{…}; write `\\\\` for a backslash",
                ))
            }
        }
    }

    fn unterminated(&mut self, open: usize, len: usize) -> Failed {
        self.fail(Span::new(open, open + len), "this string is never closed", "opened here", "close it with the same quotes it opens with")
    }

    /// `node-space*`: white space, block comments and line continuations. Whether any was
    /// there.
    fn node_space(&mut self) -> Result<bool, Failed> {
        let start = self.i;
        loop {
            let n = space_len(self.t, self.i);
            if n > 0 {
                self.i += n;
            } else if self.at(b"/*") {
                self.block_comment()?;
            } else if self.peek() == Some(b'\\') {
                let at = self.i;
                self.i += 1;
                loop {
                    let n = space_len(self.t, self.i);
                    if n > 0 {
                        self.i += n;
                    } else if self.at(b"/*") {
                        self.block_comment()?;
                    } else {
                        break;
                    }
                }
                let n = newline_len(&self.s[self.i..]);
                if n > 0 {
                    self.i += n;
                } else if self.at(b"//") {
                    self.line_comment();
                } else if self.peek().is_some() {
                    return Err(self.fail(
                        Span::new(at, at + 1),
                        "a `\\` outside a string must end its line",
                        "a line continuation",
                        "put the rest of the node on the next line, or quote the text",
                    ));
                }
            } else {
                return Ok(self.i > start);
            }
        }
    }

    /// `line-space*`: node space, newlines and line comments.
    fn line_space(&mut self) -> Step {
        loop {
            let before = self.i;
            self.node_space()?;
            let n = newline_len(&self.s[self.i..]);
            if n > 0 {
                self.i += n;
            } else if self.at(b"//") {
                self.line_comment();
            }
            if self.i == before {
                return Ok(());
            }
        }
    }

    fn line_comment(&mut self) {
        while self.i < self.s.len() {
            let n = newline_len(&self.s[self.i..]);
            if n > 0 {
                self.i += n;
                return;
            }
            self.i += 1;
        }
    }

    fn block_comment(&mut self) -> Step {
        let open = self.i;
        let mut depth = 0usize;
        while self.i < self.s.len() {
            if self.at(b"/*") {
                depth += 1;
                self.i += 2;
            } else if self.at(b"*/") {
                depth -= 1;
                self.i += 2;
                if depth == 0 {
                    return Ok(());
                }
            } else {
                self.i += 1;
            }
        }
        Err(self.fail(Span::new(open, open + 2), "this comment is never closed", "opened here", "close it with `*/`"))
    }

    /// After an error: skips to the end of the node, a newline or `;` outside strings and
    /// comments. A `{` on the way opens a block whose nodes are read as usual; a `}` is
    /// left for the block it closes.
    fn resync(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b'{' => {
                    self.blocks.push(Open { at: self.i, owner: Phase::After });
                    self.i += 1;
                    return;
                }
                b'}' => return,
                b';' => {
                    self.i += 1;
                    return;
                }
                b'"' => self.i = super::shape::string_end(self.s, self.i, 0),
                b'#' => {
                    let hashes = self.s[self.i..].iter().take_while(|&&b| b == b'#').count();
                    self.i = if self.s.get(self.i + hashes) == Some(&b'"') {
                        super::shape::string_end(self.s, self.i + hashes, hashes)
                    } else {
                        self.i + hashes
                    };
                }
                b'/' if self.at(b"//") => {
                    self.line_comment();
                    return;
                }
                b'/' if self.at(b"/*") => {
                    if self.block_comment().is_err() {
                        return;
                    }
                }
                _ => {
                    let n = newline_len(&self.s[self.i..]);
                    if n > 0 {
                        self.i += n;
                        return;
                    }
                    self.i += self.char_len();
                }
            }
        }
    }

    fn error(&mut self, span: Span, message: &str, label: &str, help: &str) {
        if self.errors.len() < MAX_SYNTAX_ERRORS {
            let help = (!help.is_empty()).then(|| help.to_owned());
            self.errors.push(diagnostics::syntax_error(message.to_owned(), span, Some(label.to_owned()), help));
        } else {
            self.hidden += 1;
            self.first_hidden.get_or_insert(span);
        }
    }

    fn fail(&mut self, span: Span, message: &str, label: &str, help: &str) -> Failed {
        self.error(span, message, label, help);
        Failed
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn at(&self, lit: &[u8]) -> bool {
        self.s[self.i..].starts_with(lit)
    }

    fn char_len(&self) -> usize {
        self.t[self.i..].chars().next().map_or(1, char::len_utf8)
    }

    /// `n` bytes from here, within the text.
    fn here(&self, n: usize) -> Span {
        Span::new(self.i, (self.i + n).min(self.s.len()))
    }

    /// The character here (empty at the end).
    fn here_char(&self) -> Span {
        let len = if self.i < self.s.len() { self.char_len() } else { 0 };
        Span::new(self.i, self.i + len)
    }
}

/// A number, decimal, hexadecimal, octal or binary, with its sign; an integer, and the
/// whole part of a decimal, must fit the 128 bits the reference parser reads it into.
fn number(word: &str) -> Result<(), &'static str> {
    let unsigned = word.strip_prefix(['+', '-']).unwrap_or(word);
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(digits) = unsigned.strip_prefix(prefix) {
            if !digits.starts_with(|c: char| c.is_digit(radix)) || !digits.chars().all(|c| c.is_digit(radix) || c == '_') {
                return Err(match radix {
                    16 => "hexadecimal digits must follow `0x`, with `_` only between them",
                    8 => "octal digits (0-7) must follow `0o`, with `_` only between them",
                    _ => "binary digits must follow `0b`, with `_` only between them",
                });
            }
            return fits_128_bits(digits, radix);
        }
    }
    let integer = |s: &str| s.starts_with(|c: char| c.is_ascii_digit()) && s.chars().all(|c| c.is_ascii_digit() || c == '_');
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    if !integer(whole) || fraction.is_some_and(|f| !integer(f)) {
        return Err("digits, with one `.` between digits and `_` between them");
    }
    if let Some(e) = exponent
        && !integer(e.strip_prefix(['+', '-']).unwrap_or(e))
    {
        return Err("an exponent is `e` then digits, with an optional sign");
    }
    // The reference reads the digits before `.` or `e` as an integer first, decimals too.
    match fits_128_bits(whole, 10) {
        Err(_) if fraction.is_some() || exponent.is_some() => {
            Err("too large: the digits before `.` or `e` may make at most 127 bits; write it with an exponent")
        }
        fits => fits,
    }
}

fn fits_128_bits(digits: &str, radix: u32) -> Result<(), &'static str> {
    let mut value: i128 = 0;
    for d in digits.chars().filter_map(|c| c.to_digit(radix)) {
        value = value
            .checked_mul(i128::from(radix))
            .and_then(|v| v.checked_add(i128::from(d)))
            .ok_or("too large: integers have at most 127 bits")?;
    }
    Ok(())
}

fn is_space(c: char) -> bool {
    matches!(c, '\t' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}')
}

fn space_len(t: &str, i: usize) -> usize {
    t[i..].chars().next().filter(|c| is_space(*c)).map_or(0, char::len_utf8)
}

fn is_identifier_char(c: char) -> bool {
    !is_space(c)
        && !matches!(c, '\\' | '/' | '(' | ')' | '{' | '}' | ';' | '[' | ']' | '"' | '#' | '=')
        && !matches!(c, '\r' | '\n' | '\u{85}' | '\u{0B}' | '\u{0C}' | '\u{2028}' | '\u{2029}')
        && !matches!(c, '\u{0}'..='\u{8}' | '\u{E}'..='\u{1F}' | '\u{7F}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// A character for a message: itself in backticks, or its name when it is not visible.
fn describe(c: &str) -> String {
    match c {
        "\t" => "a tab".to_owned(),
        "`" => "a backtick".to_owned(),
        c if c.chars().all(|c| c.is_whitespace() || c.is_control()) => format!("U+{:04X}", c.chars().next().map_or(0, u32::from)),
        c => format!("`{c}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(text: &str) -> bool {
        validate(text).is_empty()
    }

    #[test]
    fn accepts_what_kdl_2_accepts() {
        for text in [
            "",
            "a",
            "a 1 2.5 -3 +4 0x1f 0o17 0b101 1_000 1e10 1.5E-3 #true #false #null #inf #-inf #nan",
            "a key=1 \"quoted key\"=x #\"raw\"#=y k = 1",
            "a (u8)1 k=(t)2 (t) 3",
            "(t)a; (t) b",
            "a { b; c }; d",
            "a{b}",
            "a {}/-{}",
            "a \"x\"/-1",
            "a #null/-k=1 2/-{}",
            "a /-{} {} /-{}",
            "a 1 \\ // c\n 2",
            "a \\",
            "/-a { b }\nc",
            "a /-\n 1",
            "a \"esc \\n \\\" \\\\ \\u{1F600} \\s\"",
            "a \"ws \\   \n  escape\"",
            "a \"\"\"\n  one\n    two\n  \"\"\"",
            "a #\"\"\"\n  \"\"\" in a raw one\n  \"\"\"#",
            "a #\"a\"b\"# ##\"x\"#\"##",
            "a , < > ~ - -- -x +. .md",
            "a 170141183460469231731687303715884105727",
            "a /* c /* nested */ */ 1",
            "\u{FEFF}a",
            "a\r\nb\u{2028}c",
        ] {
            assert!(valid(text), "{text:?}: {:?}", validate(text).iter().map(|d| &d.message).collect::<Vec<_>>());
        }
    }

    #[test]
    fn refuses_what_kdl_2_refuses() {
        for text in [
            "a {",
            "}",
            ";",
            "a \"x",
            "a \"x\ny\"",
            "a \"\\q\"",
            "a \"\\u{D800}\"",
            "a \"\\u{110000}\"",
            "a \"\"\"x\"\"\"",
            "a \"\"\"\n  x\n y\n  \"\"\"",
            "a \"\"\"\n  x \"\"\"",
            "a #\"\"\"#",
            "a ##\"x\"#",
            "a true",
            "a k=null",
            "a .5",
            "a 1.0.0",
            "a 0x_1",
            "a 1.e5",
            "a 170141183460469231731687303715884105728",
            "a 170141183460469231731687303715884105728.5",
            "a 1000000000000000000000000000000000000000e2",
            "a \"x\"1",
            "a x\"y\"",
            "a {} 1",
            "a {} {}",
            "a /-{} 1",
            "a (t)",
            "a ()1",
            "(t)key=1",
            "a 1=2",
            "a #yes",
            "a [1]",
            "a \\ 1",
            "a /* x",
            "/-",
            "a /-",
            "a = 1",
            "a /- /-b c",
            "a /-/-b c",
            "a /- // c\n /-b c",
            "/- /-a\nb",
            "a /- /-{}",
        ] {
            assert!(!valid(text), "{text:?} was accepted");
        }
    }

    #[test]
    fn reports_independent_nodes_and_bounds_the_count() {
        let errors = validate("a \"x\"1\nb ok\nc [\n");
        assert_eq!(errors.len(), 2);
        let many = validate(&"= \n".repeat(100_000));
        assert_eq!(many.len(), MAX_SYNTAX_ERRORS + 1);
        assert!(many.last().is_some_and(|d| d.message.starts_with(&format!("{} more", 100_000 - MAX_SYNTAX_ERRORS))));
    }

    #[test]
    fn never_recurses_into_blocks() {
        let deep = format!("{}{}", "a {\n".repeat(200_000), "}\n".repeat(200_000));
        assert!(valid(&deep));
    }
}
