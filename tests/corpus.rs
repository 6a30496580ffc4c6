//! The diagnostics corpus: every file under `tests/diagnostics/` is a spec with one kind of
//! mistake, named after the code it must produce (`E0103-….kdl`). Each is checked, its
//! rendered diagnostics snapshotted, and the code in its name must be among them.

use hawser::cli::render;

#[test]
fn corpus() {
    insta::glob!("diagnostics/*.kdl", |path| {
        let text = std::fs::read_to_string(path).expect("corpus file is readable");
        let name = path.file_name().and_then(|n| n.to_str()).expect("corpus file has a name");
        let mut analysis = hawser::check(&text);
        if let Some(spec) = &analysis.spec {
            // What `check` adds: the configuration files the spec names, beside it.
            analysis.diagnostics.extend(hawser::review::inputs::read(path.parent().expect("a directory"), spec).1);
        }
        if let Some(spec) = analysis.spec.as_ref().filter(|_| !analysis.has_errors()) {
            // What `generate` adds: diagnostics about how it is run, with default options.
            analysis.diagnostics.extend(hawser::emit::run_diagnostics(spec, &hawser::emit::Options::default()));
        }
        // What the command line adds: the comparison with the module's go.mod, which a
        // corpus file has beside it as `<name>.go.mod`.
        if let (Some(spec), Ok(go_mod)) = (analysis.spec.as_ref(), std::fs::read_to_string(path.with_extension("go.mod"))) {
            analysis.diagnostics.extend(hawser::check::gobuild::go_mod_diagnostics(&spec.base.project, &go_mod));
        }
        // And the files images copy from the module: the corpus directory stands for it.
        if let Some(spec) = analysis.spec.as_ref() {
            let dir = path.parent().expect("corpus dir");
            analysis.diagnostics.extend(hawser::check::images::copy_sources(&spec.base, |rel| {
                use hawser::check::images::Found;
                match std::fs::symlink_metadata(dir.join(rel)) {
                    Ok(m) if m.file_type().is_symlink() => Found::Symlink,
                    Ok(m) if m.is_dir() => Found::Dir,
                    Ok(_) => Found::File,
                    Err(_) => Found::Missing,
                }
            }));
        }
        let expected = name.split(['-', '.']).next().unwrap_or_default();
        if expected != "multi" {
            assert!(
                analysis.diagnostics.iter().any(|d| d.code.id == expected),
                "{name} should report {expected}, got {:?}",
                analysis.diagnostics.iter().map(|d| d.code.id).collect::<Vec<_>>()
            );
        } else {
            assert!(analysis.error_count() >= 2, "{name} should report several errors");
        }
        let rendered = render::human(&analysis.diagnostics, name, &text, render::Style { color: false, width: 100 });
        let summary = render::summary(&analysis.diagnostics, name);
        insta::with_settings!({ snapshot_path => "../snapshots/diagnostics", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(format!("{rendered}{summary}\n"));
        });
    });
}

/// Every code hawser can report is produced by at least one corpus file.
#[test]
fn every_code_has_a_corpus_file() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/diagnostics");
    let names: Vec<String> = std::fs::read_dir(&dir).expect("corpus dir").filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    for code in hawser::diagnostics::code::ALL {
        assert!(names.iter().any(|n| n.starts_with(code.id)), "no corpus file for {} ({})", code.id, code.title);
    }
}
