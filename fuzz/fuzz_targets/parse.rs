//! Fuzz target: parsing never panics or overflows the stack, and where the fast parser
//! accepts a spec it must read the same tree as the `kdl` crate, the reference — except
//! where the reference departs from KDL 2.0: it rejects a slashdash with no space before
//! it (`node "x"/-1`), so there the tree must equal the reference's reading of the text
//! with a space put before each such slashdash, spans aside. The recognizer that guards
//! the reference must give its verdict: accept exactly what the `kdl` crate accepts (run
//! on short texts only where it rejects, since its error recovery recurses per error).
#![no_main]

use hawser::span::{Span, Spanned};
use hawser::syntax::{Document, Entry, Node, Prop};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (doc, diagnostics) = hawser::syntax::parse(text);
    // A parse either gives a tree or says why not.
    assert!(doc.is_some() || !diagnostics.is_empty(), "no tree and no diagnostic");
    // Inside the limits both parsers may run; the fast one must agree with the reference.
    let shape = hawser::syntax::shape::scan(text);
    let within = text.len() <= hawser::syntax::limits::MAX_SPEC_BYTES && shape.too_deep.is_none() && shape.too_deep_slashdashed.is_none();
    let refused_first = diagnostics.iter().any(|d| d.message.contains("may not appear in a KDL document"));
    if within && !refused_first {
        let accepted = hawser::syntax::validate::validate(text).is_empty();
        if accepted || text.len() <= 512 {
            let reference = hawser::syntax::parse_with_kdl(text).0.is_some();
            assert_eq!(accepted, reference, "the recognizer accepts {accepted}, the kdl crate {reference}");
        }
    }
    if within
        && let Some(fast) = hawser::syntax::fastkdl::parse(text)
    {
        match hawser::syntax::parse_with_kdl(text) {
            (Some(reference), _) => assert_eq!(fast, reference, "the fast parser and the kdl crate disagree"),
            (None, _) => {
                let (spaced, _) = hawser::syntax::parse_with_kdl(&hawser::syntax::shape::space_before_slashdashes(text));
                let spaced = spaced.expect("the fast parser accepted what the kdl crate rejects, beyond the slashdash spacing");
                assert_eq!(spanless(&fast), spanless(&spaced), "the fast parser and the kdl crate disagree");
            }
        }
    }
});

/// The tree with every span set to zero.
fn spanless(doc: &Document) -> Document {
    fn s(x: &Spanned<String>) -> Spanned<String> {
        Spanned::new(x.value.clone(), Span::default())
    }
    fn entry(e: &Entry) -> Entry {
        Entry { ty: e.ty.as_ref().map(s), value: e.value.clone(), span: Span::default(), entry_span: Span::default() }
    }
    fn node(n: &Node) -> Node {
        Node {
            name: s(&n.name),
            ty: n.ty.as_ref().map(s),
            args: n.args.iter().map(entry).collect(),
            props: n.props.iter().map(|p| Prop { key: s(&p.key), value: entry(&p.value) }).collect(),
            children: n.children.as_ref().map(|c| c.iter().map(node).collect()),
            span: Span::default(),
        }
    }
    Document { nodes: doc.nodes.iter().map(node).collect() }
}
