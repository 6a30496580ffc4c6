//! Fuzz target: formatting never refuses its own work, is idempotent, and never changes
//! meaning: the formatted spec checks with the same diagnostics and, when it has no
//! errors, generates exactly the same files.
#![no_main]

use hawser::syntax::format::{Formatted, format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let out = match format(text) {
        Formatted::Text(out) => out,
        Formatted::SyntaxErrors(_) => return,
        Formatted::Refused(why) => panic!("fmt refused its own output: {why}"),
    };
    match format(&out) {
        Formatted::Text(again) => assert_eq!(again, out, "fmt is not idempotent"),
        _ => panic!("the formatted spec does not format"),
    }
    let (before, after) = (hawser::check(text), hawser::check(&out));
    let what = |a: &hawser::Analysis| a.diagnostics.iter().map(|d| (d.code.id, d.message.clone())).collect::<Vec<_>>();
    assert_eq!(what(&before), what(&after), "fmt changed the diagnostics");
    if let (Some(b), Some(a)) = (before.spec.as_ref(), after.spec.as_ref())
        && !before.has_errors()
    {
        let opts = hawser::emit::Options { spec_name: "hawser.kdl".to_owned(), version: Some("1.0.0".to_owned()), ..Default::default() };
        let (b, a) = (hawser::emit::generate(b, &opts), hawser::emit::generate(a, &opts));
        assert_eq!(b, a, "fmt changed what the spec generates");
    }
});
