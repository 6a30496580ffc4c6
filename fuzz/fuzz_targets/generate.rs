//! Fuzz target: every spec that checks without errors generates, in memory, without an
//! internal error, and generates the same files twice.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let analysis = hawser::check(text);
    let Some(spec) = analysis.spec.as_ref().filter(|_| !analysis.has_errors()) else { return };
    let opts = hawser::emit::Options { spec_name: "hawser.kdl".to_owned(), version: Some("1.0.0".to_owned()), ..Default::default() };
    let first = hawser::emit::generate(spec, &opts).unwrap_or_else(|e| panic!("a checked spec does not generate: {e}"));
    let again = hawser::emit::generate(spec, &opts).unwrap_or_else(|e| panic!("a checked spec does not generate: {e}"));
    assert_eq!(first, again, "generate is not deterministic");
    let _ = hawser::review::output::render_lock(&opts.spec_name, text, &first);
});
