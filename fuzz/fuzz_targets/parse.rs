//! Fuzz target: parsing never panics or overflows the stack, and where the fast parser
//! accepts a spec it must read the same tree as the `kdl` crate, the reference.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (doc, diagnostics) = hawser::syntax::parse(text);
    // A parse either gives a tree or says why not.
    assert!(doc.is_some() || !diagnostics.is_empty(), "no tree and no diagnostic");
    // Inside the limits both parsers may run; the fast one must agree with the reference.
    if text.len() <= hawser::limits::MAX_SPEC_BYTES
        && hawser::limits::too_deep(text).is_none()
        && let Some(fast) = hawser::fastkdl::parse(text)
    {
        let (reference, _) = hawser::syntax::parse_with_kdl(text);
        assert_eq!(Some(fast), reference, "the fast parser and the kdl crate disagree");
    }
});
