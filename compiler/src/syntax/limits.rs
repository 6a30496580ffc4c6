//! The limits a spec must stay within, so that no input can exhaust the stack, memory or
//! time.
//!
//! Both parsers (the `kdl` crate and [`super::fastkdl`]) recurse once per level of
//! children and of nested block comments, so a deep enough input overflows the stack; the
//! `kdl` crate also reads a slashdashed block again for every slashdashed block around it,
//! so its work doubles per level. Both kinds of nesting are therefore measured first, by
//! a scan that does not recurse ([`super::shape`]), and a spec beyond [`MAX_DEPTH`] or
//! [`MAX_SLASHDASH_DEPTH`] is refused before any parser sees it. The size limit keeps the
//! memory of one run bounded: checking costs a few dozen bytes per byte of spec,
//! generating a few times more. [`MAX_SYNTAX_ERRORS`] bounds what a broken spec reports.

/// The largest spec hawser reads, in bytes. Real specs are a few kilobytes; this leaves
/// room for ten thousand workloads while keeping `generate` under a gigabyte (943 MB,
/// measured at the limit).
pub const MAX_SPEC_BYTES: usize = 4 << 20;

/// The deepest nesting of children blocks (and of block comments) a spec may have.
/// Specs nest at most five levels. The `kdl` crate needs about 33 KiB of stack per level
/// in a debug build, so at this depth it uses half of a 2 MiB thread stack (the smallest
/// hawser runs in: test threads); a release build needs far less.
pub const MAX_DEPTH: usize = 32;

/// The deepest nesting of slashdashed blocks (`/-service "x" { … /-health { … } … }`): a
/// block that a `/-` comments out, inside another. The `kdl` crate reads each such block
/// once more for every one around it, so a spec at this limit is read at most eight times
/// over. Commenting out a workload and a block inside it is two levels.
pub const MAX_SLASHDASH_DEPTH: usize = 3;

/// The most syntax errors one run reports; the rest are counted in a last diagnostic.
/// A few dozen are enough to show what is wrong, and the first is usually the cause.
pub const MAX_SYNTAX_ERRORS: usize = 20;
