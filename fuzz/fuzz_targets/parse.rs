//! Fuzz target: parsing never panics or overflows the stack, and where the fast parser
//! accepts a spec it must read the same tree as the reference, spans included. The
//! reference is the `kdl` crate with its one departure from KDL 2.0 mended: it refuses
//! most slashdashes with no space before them (`node "x"/-1`), so it reads such a text
//! with a space put before each (`hawser::syntax::parse_reference`). The recognizer that
//! guards the reference must give its verdict: accept exactly what the reference accepts
//! (run on short texts only where it rejects, since the `kdl` crate's error recovery
//! recurses per error). In a text with a slashdash the crate also accepts what KDL 2.0
//! refuses, so there the recognizer must only never accept what the reference refuses.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (doc, diagnostics) = hawser::syntax::parse(text);
    // A parse either gives a tree or says why not, never both.
    assert!(doc.is_some() || !diagnostics.is_empty(), "no tree and no diagnostic");
    assert!(doc.is_none() || diagnostics.is_empty(), "a tree and syntax errors");
    // Inside the limits both parsers may run; the fast one must agree with the reference.
    let shape = hawser::syntax::shape::scan(text);
    let within = text.len() <= hawser::syntax::limits::MAX_SPEC_BYTES && shape.too_deep.is_none() && shape.too_deep_slashdashed.is_none();
    let refused_first = diagnostics.iter().any(|d| d.message.contains("may not appear in a KDL document"));
    if within && !refused_first {
        let accepted = hawser::syntax::validate::validate(text).is_empty();
        if accepted || text.len() <= 512 {
            let reference = hawser::syntax::parse_reference(text).0.is_some();
            if shape.slashdashes.is_empty() {
                assert_eq!(accepted, reference, "the recognizer accepts {accepted}, the kdl crate {reference}");
            } else {
                // Around a slashdash the kdl crate accepts text KDL 2.0 refuses (`a {} /-b`,
                // `/-a #truex`): there only its refusal of what the recognizer accepts is a
                // finding, since hawser hands such a text to it.
                assert!(!accepted || reference, "the recognizer accepts what the kdl crate refuses");
            }
        }
    }
    // Split at a line start and read in two halves at once, a text reads as it does whole.
    if within {
        let whole = hawser::syntax::fastkdl::parse_split(text, usize::MAX);
        for at in text.match_indices('\n').map(|(i, _)| i + 1).take(16) {
            assert_eq!(hawser::syntax::fastkdl::parse_split(text, at), whole, "read in two halves split at byte {at}");
        }
    }
    if within
        && let Some(fast) = hawser::syntax::fastkdl::parse(text)
    {
        let reference = hawser::syntax::parse_reference(text).0;
        let reference = reference.expect("the fast parser accepted what the reference rejects");
        assert_eq!(fast, reference, "the fast parser and the reference disagree");
    }
});
