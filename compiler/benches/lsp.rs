//! Benchmarks of `hawser lsp` (placeholder replaced below).
fn main() {}
