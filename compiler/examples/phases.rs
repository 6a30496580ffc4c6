//! Times the phases of `generate --check` on a spec and an output directory:
//! `cargo run --release --example phases -- SPEC OUT` (where the time goes, for the budget).
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let out = std::path::PathBuf::from(std::env::args().nth(2).unwrap());
    let t = std::time::Instant::now();
    let text = std::fs::read_to_string(&path).unwrap();
    let a = hawser::check(&text);
    let t1 = t.elapsed();
    let spec = a.spec.as_ref().unwrap();
    let opts = hawser::emit::Options { spec_name: "s.kdl".into(), ..Default::default() };
    let arts = hawser::emit::generate(spec, &opts).unwrap();
    let t2 = t.elapsed();
    let lock = hawser::review::output::render_lock("s.kdl", &text, &arts);
    let t3 = t.elapsed();
    let disk = hawser::review::output::read_on_disk(&out, &arts).unwrap().unwrap();
    let t4 = t.elapsed();
    let d = hawser::review::compare(&arts, &lock, &disk);
    let t5 = t.elapsed();
    eprintln!("check {t1:?} emit {:?} lock {:?} read {:?} compare {:?} drift {}", t2 - t1, t3 - t2, t4 - t3, t5 - t4, d.len());
    std::mem::forget((a, arts, disk));
}
