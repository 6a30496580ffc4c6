//! Completion from the schema: node names valid at the cursor, the properties of the node
//! being written, enum words and the names of declared workloads, externals, secrets and
//! ports.
//!
//! Text being typed rarely parses, so the context comes from a tolerant scan of the text
//! (strings, comments, braces and statement ends), never from the parser: a half-typed node
//! still gets completions, and a broken file elsewhere does not take them away.

use crate::check::schema::{NodeSchema, Ty};

use super::tree::{self, Described};

/// One completion: the label shown, what replaces the word at the cursor, a detail and docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub label: String,
    pub insert: String,
    pub kind: ItemKind,
    pub detail: String,
    pub doc: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Node,
    Property,
    Value,
    Reference,
}

/// The completions at `offset`, and the byte offset where the word they replace starts.
pub fn complete(text: &str, offset: usize) -> (usize, Vec<Item>) {
    let offset = floor_boundary(text, offset.min(text.len()));
    let scan = scan(&text[..offset], false);
    let Some(ctx) = scan.cursor else { return (offset, Vec::new()) };
    // The declarations, read only when a reference is being completed.
    let decls = Declarations { text, heads: std::cell::OnceCell::new() };
    let items = match &ctx.slot {
        Slot::NodeName => node_names(&ctx.path),
        Slot::Entries { node, props, args } => {
            let mut path = ctx.path.clone();
            path.push(node.clone());
            match tree::describe(&path) {
                Described::Node(s) => {
                    let mut items = properties(s, props);
                    if let Some(a) = tree::arg_schema(s, *args) {
                        items.extend(values(&a.ty, false, &decls, ctx.workload.as_deref(), ctx.annotation.as_deref()));
                    }
                    items
                }
                Described::MapEntry { .. } => {
                    values(&ty_named("env-value"), false, &decls, ctx.workload.as_deref(), ctx.annotation.as_deref())
                }
                Described::Unknown => Vec::new(),
            }
        }
        Slot::Value { node, key, arg, quoted } => {
            let mut path = ctx.path.clone();
            path.push(node.clone());
            let ty = match (tree::describe(&path), key) {
                (Described::Node(s), Some(k)) => s.prop(k).map(|p| p.ty.clone()),
                (Described::Node(s), None) => tree::arg_schema(s, *arg).map(|a| a.ty.clone()),
                (Described::MapEntry { .. }, _) => Some(ty_named("env-value")),
                (Described::Unknown, _) => None,
            };
            ty.map(|t| values(&t, *quoted, &decls, ctx.workload.as_deref(), ctx.annotation.as_deref())).unwrap_or_default()
        }
    };
    let items = items.into_iter().filter(|i| i.label.starts_with(&ctx.prefix)).collect();
    (offset - ctx.prefix.len(), items)
}

/// A type by name alone, for values the schema types by their map (`env`'s values).
fn ty_named(name: &str) -> Ty {
    Ty { name: name.to_owned(), min: None, max: None, values: Vec::new() }
}

fn node_names(path: &[String]) -> Vec<Item> {
    let Described::Node(s) = tree::describe(path) else { return Vec::new() };
    s.children
        .iter()
        .map(|c| Item {
            label: c.name.clone(),
            insert: c.name.clone(),
            kind: ItemKind::Node,
            detail: if c.overlay.is_some() { format!("overlay of a {}", c.name) } else { "node".to_owned() },
            doc: c.doc.clone(),
        })
        .collect()
}

fn properties(s: &NodeSchema, given: &[String]) -> Vec<Item> {
    s.props
        .iter()
        .filter(|p| !given.contains(&p.name))
        .map(|p| Item {
            label: format!("{}=", p.name),
            insert: format!("{}=", p.name),
            kind: ItemKind::Property,
            detail: p.ty.name.clone(),
            doc: p.doc.clone(),
        })
        .collect()
}

fn values(ty: &Ty, quoted: bool, decls: &Declarations<'_>, workload: Option<&str>, annotation: Option<&str>) -> Vec<Item> {
    let q = |s: &str| if quoted { s.to_owned() } else { format!("\"{s}\"") };
    let mut out: Vec<Item> = ty
        .values
        .iter()
        .map(|v| Item { label: v.clone(), insert: q(v), kind: ItemKind::Value, detail: ty.name.clone(), doc: String::new() })
        .collect();
    if ty.name == "bool" && !quoted {
        for b in ["#true", "#false"] {
            out.push(Item {
                label: b.to_owned(),
                insert: b.to_owned(),
                kind: ItemKind::Value,
                detail: "bool".to_owned(),
                doc: String::new(),
            });
        }
    }
    let kinds: &[&str] = match ty.name.as_str() {
        "secret-ref" => &["secret"],
        "workload-ref" => &["service", "job"],
        "dependency-ref" => &["service", "job", "external"],
        "env-value" if annotation == Some("secret") => &["secret"],
        "env-value" if matches!(annotation, Some("address" | "host" | "port")) => &["service", "external"],
        "port-ref" => &["port"],
        _ => &[],
    };
    let heads: &[Head] = if kinds.is_empty() { &[] } else { decls.heads() };
    for h in heads {
        let top = h.path.is_empty() && kinds.contains(&h.name.as_str());
        let port = kinds == ["port"] && h.name == "port" && h.path.len() == 1 && h.workload.is_some() && h.workload.as_deref() == workload;
        // A workload does not depend on itself.
        let itself = ty.name == "dependency-ref" && h.arg.as_deref() == workload;
        if (top || port)
            && !itself
            && let Some(name) = &h.arg
            && !out.iter().any(|i| &i.label == name)
        {
            out.push(Item { label: name.clone(), insert: q(name), kind: ItemKind::Reference, detail: h.name.clone(), doc: String::new() });
        }
    }
    out
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A node head found by the scan: its ancestors' names, its name and first string argument,
/// and the workload it is in (a top-level one, or the one an environment's overlay changes).
#[derive(Debug, Clone)]
struct Head {
    path: Vec<String>,
    name: String,
    arg: Option<String>,
    workload: Option<String>,
}

/// What is being written at the cursor.
#[derive(Debug)]
struct Cursor {
    /// The names of the nodes whose children block the cursor is in.
    path: Vec<String>,
    slot: Slot,
    /// The word typed so far.
    prefix: String,
    /// A type annotation just before the value, `(secret)`.
    annotation: Option<String>,
    /// The workload the cursor is in.
    workload: Option<String>,
}

#[derive(Debug)]
enum Slot {
    NodeName,
    /// After a node's name: properties, or the next argument (`args` given so far).
    Entries {
        node: String,
        props: Vec<String>,
        args: usize,
    },
    /// A value: of property `key`, or of argument `arg`; `quoted` when inside its quotes.
    Value {
        node: String,
        key: Option<String>,
        arg: usize,
        quoted: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Eq,
    Annotation(String),
}

struct Scan {
    heads: Vec<Head>,
    cursor: Option<Cursor>,
}

/// The node heads of the whole text, scanned on first use.
struct Declarations<'t> {
    text: &'t str,
    heads: std::cell::OnceCell<Vec<Head>>,
}

impl Declarations<'_> {
    fn heads(&self) -> &[Head] {
        self.heads.get_or_init(|| scan(self.text, true).heads)
    }
}

/// Scans KDL text tolerantly: statements, blocks, strings and comments. The cursor is at the
/// end of `text`; the node heads are kept when `heads_wanted`.
fn scan(text: &str, heads_wanted: bool) -> Scan {
    let b = text.as_bytes();
    let mut heads = Vec::new();
    let mut stack: Vec<(String, String)> = Vec::new();
    let mut tokens: Vec<Token> = Vec::new();
    let mut i = 0;
    let mut open_string: Option<String> = None;
    let end_statement = |tokens: &mut Vec<Token>, stack: &[(String, String)], heads: &mut Vec<Head>| {
        if heads_wanted && let Some(Token::Word(name)) = tokens.first() {
            let arg = tokens.iter().skip(1).find_map(|t| match t {
                Token::Str(s) | Token::Word(s) => Some(s.clone()),
                _ => None,
            });
            heads.push(Head {
                path: stack.iter().map(|(n, _)| n.clone()).collect(),
                name: name.clone(),
                arg,
                workload: workload_of(stack),
            });
        }
        tokens.clear();
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' | b'\r' | b';' => {
                // A property's `=` or an annotation waiting for its value carries over a
                // line break only in broken text; end the statement either way.
                end_statement(&mut tokens, &stack, &mut heads);
                i += 1;
            }
            b'{' => {
                let name = match tokens.first() {
                    Some(Token::Word(n)) => n.clone(),
                    _ => String::new(),
                };
                let arg = tokens.iter().skip(1).find_map(|t| match t {
                    Token::Str(s) => Some(s.clone()),
                    _ => None,
                });
                end_statement(&mut tokens, &stack, &mut heads);
                stack.push((name, arg.unwrap_or_default()));
                i += 1;
            }
            b'}' => {
                end_statement(&mut tokens, &stack, &mut heads);
                stack.pop();
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => i += crate::syntax::shape::block_comment_len(&b[i..]),
            b'/' if b.get(i + 1) == Some(&b'-') => i += 2,
            b'"' if text[i..].starts_with("\"\"\"") => {
                // A multi-line string runs to its closing `"""`.
                match text[i + 3..].find("\"\"\"") {
                    Some(at) => {
                        tokens.push(Token::Str(text[i + 3..i + 3 + at].to_owned()));
                        i += at + 6;
                    }
                    None => {
                        open_string = Some(text[i + 3..].to_owned());
                        i = b.len();
                    }
                }
            }
            b'"' => {
                // A quoted string ends at its quote, or (unterminated) at the end of its line.
                let mut s = String::new();
                i += 1;
                let content_start = i;
                let mut closed = false;
                while i < b.len() {
                    match b[i] {
                        b'\\' => {
                            // An escape: skip the escaped character, whatever its width.
                            i += 1;
                            i += text.get(i..).and_then(|t| t.chars().next()).map_or(0, char::len_utf8);
                        }
                        b'"' => {
                            closed = true;
                            i += 1;
                            break;
                        }
                        b'\n' | b'\r' => {
                            closed = true;
                            break;
                        }
                        _ => {
                            let ch = text[i..].chars().next().unwrap_or(' ');
                            s.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
                if closed {
                    tokens.push(Token::Str(s));
                } else {
                    // The cursor is in this string: what is typed so far, as written.
                    open_string = text.get(content_start..).map(str::to_owned);
                }
            }
            b'#' if b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#') => {
                // A raw string: as many `#` close it as open it.
                let hashes = b[i..].iter().take_while(|&&x| x == b'#').count();
                let body_start = i + hashes + 1;
                let close = format!("\"{}", "#".repeat(hashes));
                match text.get(body_start..).and_then(|t| t.find(&close)) {
                    Some(at) => {
                        tokens.push(Token::Str(text[body_start..body_start + at].to_owned()));
                        i = body_start + at + close.len();
                    }
                    None => {
                        open_string = Some(text.get(body_start..).unwrap_or_default().to_owned());
                        i = b.len();
                    }
                }
            }
            b'=' => {
                tokens.push(Token::Eq);
                i += 1;
            }
            b'(' => {
                let close = text[i..].find(')').map_or(b.len(), |j| i + j);
                tokens.push(Token::Annotation(text[i + 1..close].trim_matches('"').to_owned()));
                i = (close + 1).min(b.len());
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                let start = i;
                while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | b';' | b'{' | b'}' | b'=' | b'"' | b'(' | b')') {
                    i += 1;
                }
                if i == start {
                    i += 1;
                } else {
                    tokens.push(Token::Word(text[start..i].to_owned()));
                }
            }
        }
    }
    let path: Vec<String> = stack.iter().map(|(n, _)| n.clone()).collect();
    let cursor = cursor(&tokens, open_string, text, path, workload_of(&stack));
    Scan { heads, cursor }
}

/// The workload a block is in: the top-level service or job, or the one an environment's
/// overlay changes.
fn workload_of(stack: &[(String, String)]) -> Option<String> {
    let mut blocks = stack.iter();
    let (name, arg) = match blocks.next()? {
        (env, _) if env == "environment" => blocks.next()?,
        top => top,
    };
    matches!(name.as_str(), "service" | "job").then(|| arg.clone())
}

fn cursor(tokens: &[Token], open_string: Option<String>, text: &str, path: Vec<String>, workload: Option<String>) -> Option<Cursor> {
    let ends_in_space = text.ends_with(|c: char| c.is_whitespace());
    let mut tokens = tokens.to_vec();
    // The word being typed, when the text does not end in a space or an open string.
    let mut prefix = String::new();
    if open_string.is_none()
        && !ends_in_space
        && matches!(tokens.last(), Some(Token::Word(_)))
        && let Some(Token::Word(w)) = tokens.pop()
    {
        prefix = w;
    }
    let annotation = match tokens.last() {
        Some(Token::Annotation(a)) => Some(a.clone()),
        _ => None,
    };
    let entries: Vec<&Token> = tokens.iter().filter(|t| !matches!(t, Token::Annotation(_))).collect();
    let node = match entries.first() {
        Some(Token::Word(n)) => n.clone(),
        None => return Some(Cursor { path, slot: Slot::NodeName, prefix, annotation, workload }),
        Some(_) => return None,
    };
    let rest = &entries[1..];
    let props: Vec<String> = rest
        .windows(2)
        .filter_map(|w| match (w[0], w[1]) {
            (Token::Word(k), Token::Eq) => Some(k.clone()),
            _ => None,
        })
        .collect();
    let args = rest
        .iter()
        .enumerate()
        .filter(|(j, t)| {
            matches!(t, Token::Str(_) | Token::Word(_)) && rest.get(j + 1) != Some(&&Token::Eq) && (*j == 0 || rest[j - 1] != &Token::Eq)
        })
        .count();
    let after_eq = matches!(rest.last(), Some(Token::Eq));
    let key = if after_eq {
        match rest.get(rest.len().wrapping_sub(2)) {
            Some(Token::Word(k)) => Some(k.clone()),
            _ => None,
        }
    } else {
        None
    };
    match open_string {
        Some(s) => Some(Cursor { path, slot: Slot::Value { node, key, arg: args, quoted: true }, prefix: s, annotation, workload }),
        None if after_eq => Some(Cursor { path, slot: Slot::Value { node, key, arg: args, quoted: false }, prefix, annotation, workload }),
        None => Some(Cursor { path, slot: Slot::Entries { node, props, args }, prefix, annotation, workload }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(text: &str) -> Vec<String> {
        let (_, items) = complete(text, text.len());
        items.into_iter().map(|i| i.label).collect()
    }

    #[test]
    fn node_names_at_the_cursor_come_from_the_schema() {
        let l = labels("project \"x\" {\n    ver");
        assert_eq!(l, ["version"]);
        let l = labels("service \"api\" {\n    health {\n        ");
        assert_eq!(l, ["ready", "live", "startup"]);
    }

    #[test]
    fn properties_enum_words_and_references() {
        assert!(labels("service \"api\" {\n    memory ").contains(&"limit=".to_owned()));
        assert_eq!(labels("service \"api\" {\n    memory limit=\"1Gi\" "), ["request="]);
        assert_eq!(labels("environment \"p\" {\n    runs-on \"s"), ["systemd"]);
        let text =
            "secret \"db\" env=\"DB\"\nexternal \"pg\" host=\"h\" port=1\nservice \"api\" {\n    port \"http\" 80\n    env { DB (secret)\"";
        assert_eq!(labels(text), ["db"]);
        let text = "external \"pg\" host=\"h\" port=1\nservice \"api\" {\n    port \"http\" 80\n    depends-on ";
        assert_eq!(labels(text), ["pg"]);
        let text = "service \"api\" {\n    port \"http\" 80\n}\nservice \"b\" {\n    port \"grpc\" 90\n    metrics port=\"";
        assert_eq!(labels(text), ["grpc"]);
        // An unterminated string ends at its line: what follows still completes.
        let text = "service \"api\" {\n    port \"http\" 80\n    env { DB (secret)\"x\n    }\n    metrics port=\"";
        assert_eq!(labels(text), ["http"]);
        // An escape before a wide character is skipped whole.
        assert_eq!(labels("project \"\\🚀"), Vec::<String>::new());
    }
}
