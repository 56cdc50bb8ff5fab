//! A second, unrelated Rust static library for scripts/ship-test.sh: a firmware that links
//! libwxface.a next to it must link without duplicate symbols. It uses std (allocation, panics
//! caught at its boundary), so it carries its own copy of the Rust runtime, as any Rust
//! staticlib does. Built with plain rustc: `rustc --crate-type staticlib other_staticlib.rs`.

use std::ffi::c_int;

/// Sums 1..=n through a heap-allocated vector; -1 if anything panicked.
#[unsafe(no_mangle)]
pub extern "C" fn other_sum_to(n: c_int) -> c_int {
    std::panic::catch_unwind(|| (1..=n).collect::<Vec<c_int>>().iter().sum()).unwrap_or(-1)
}
