//! Fuzz target: checking any text, and rendering its diagnostics in every format, never
//! panics; a spec that parses but has errors always says so.
#![no_main]

use hawser::cli::render;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let analysis = hawser::check(text);
    if analysis.spec.is_none() {
        assert!(analysis.has_errors(), "no model and no error");
    }
    let style = render::Style { color: false, width: 100 };
    let _ = render::human(&analysis.diagnostics, "hawser.kdl", text, style);
    let _ = render::json(&analysis.diagnostics, "hawser.kdl", text);
    let _ = render::sarif(&analysis.diagnostics, "hawser.kdl", text, &[]);
    let _ = render::github(&analysis.diagnostics, "hawser.kdl", text, &[]);
});
