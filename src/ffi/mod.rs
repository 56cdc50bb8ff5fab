//! The C ABI, exported from `libwxface.so` / `libwxface.a` and declared in `include/wxface.h`.
//!
//! Thin by design: each entry point checks and converts its arguments, calls the Rust core, and
//! turns the outcome into a status code and owned objects. It holds no protocol logic, and no
//! option defaults, limits or messages: those live in [`crate::ConfigBuilder`].
//!
//! One file per C object, in the order the header lists them: [`config`], [`client`],
//! [`request`], [`authinfo`], then [`error`] (statuses, the per-thread last error and the panic
//! boundary) and [`log`] (the log callback); [`convert`] holds the argument and ownership conversions they share.
//!
//! The safety contract of every `unsafe extern "C"` function is stated once, in the header's
//! preamble (cbindgen.toml) and docs/c-api.md's "Conventions": each pointer argument is NULL or
//! valid for its type (a live object of this library, a NUL-terminated string, or `len`
//! readable bytes), objects are not mutated concurrently, and each object is freed once.
#![allow(non_camel_case_types)]
// The contract is the header preamble, stated once rather than on each of ~60 exports.
#![allow(clippy::missing_safety_doc)]

// In the order the header lists them (blank lines keep rustfmt from sorting them).
mod config;

mod client;

mod request;

mod authinfo;

mod error;

mod log;

mod convert;

pub use authinfo::*;
pub use client::*;
pub use config::*;
pub use error::*;
pub use log::*;
pub use request::*;

use std::ffi::c_char;

/// Version of the C ABI described by this header. It changes only when a compiled program
/// could break (a removed or changed function); new functions do not change it.
pub const WXFACE_ABI_VERSION: u32 = 1;

/// The library version, e.g. "0.1.0" (static).
#[unsafe(no_mangle)]
pub extern "C" fn wxface_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI version the library was built with: compare with `WXFACE_ABI_VERSION` at start-up.
#[unsafe(no_mangle)]
pub extern "C" fn wxface_abi_version() -> u32 {
    WXFACE_ABI_VERSION
}
