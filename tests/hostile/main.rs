//! Hostile inputs, as an attacker or a careless user would write them: every case of
//! `tests/hostile/` runs here. `fs` holds the cases about files (confinement, the output
//! directory, concurrent runs, `fmt`, the lock); `strings` holds the spec strings pushed
//! through every artifact kind.

#[path = "../common/mod.rs"]
mod common;
mod fs;
mod strings;
