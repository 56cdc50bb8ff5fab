//! The C ABI, exported from `libwxface.so` / `libwxface.a` and declared in `include/wxface.h`.
//!
//! Thin by design: each entry point checks and converts its arguments, calls the Rust core, and
//! turns the outcome into a status code and owned objects. It holds no protocol logic, and no
//! option defaults, limits or messages: those live in [`crate::ConfigBuilder`].
//!
//! One file per C object, in the order the header lists them: [`config`], [`client`],
//! [`request`], [`authinfo`], then [`error`] (statuses, the per-thread last error and the panic
//! boundary) and [`log`] (the log callback). Argument conversion is in this file.
//!
//! The safety contract of every `unsafe extern "C"` function is stated once, in the header's
//! preamble (cbindgen.toml) and README's "C API conventions": each pointer argument is NULL or
//! valid for its type (a live object of this library, a NUL-terminated string, or `len`
//! readable bytes), objects are not mutated concurrently, and each object is freed once.
#![allow(non_camel_case_types)]
// The contract is the header preamble, stated once rather than on each of ~60 exports.
#![allow(clippy::missing_safety_doc)]

// In the order the header lists them.
mod authinfo;
mod client;
mod config;
mod error;
mod log;
mod request;

pub use authinfo::*;
pub use client::*;
pub use config::*;
pub use error::*;
pub use log::*;
pub use request::*;

use std::ffi::{CStr, c_char};

use crate::error::Error;

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

/// Borrows a C string argument as UTF-8; NULL and invalid UTF-8 are refused naming `field`.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that stays valid for `'a`.
unsafe fn arg_str<'a>(ptr: *const c_char, field: &'static str) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Err(Error::invalid(field, "is NULL"));
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    let c = unsafe { CStr::from_ptr(ptr) };
    c.to_str()
        .map_err(|_| Error::invalid(field, "is not valid UTF-8"))
}

/// Like [`arg_str`], but NULL is read as "" (which the core reads as "not set").
///
/// # Safety
/// As for [`arg_str`].
unsafe fn arg_opt_str<'a>(ptr: *const c_char, field: &'static str) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Ok("");
    }
    // SAFETY: forwarded contract.
    unsafe { arg_str(ptr, field) }
}

/// Borrows `len` bytes; NULL is refused naming `field` (even with `len` 0).
///
/// # Safety
/// `ptr` is NULL or readable for `len` bytes for `'a`.
unsafe fn arg_bytes<'a>(
    ptr: *const u8,
    len: usize,
    field: &'static str,
) -> Result<&'a [u8], Error> {
    if ptr.is_null() {
        return Err(Error::invalid(field, "is NULL"));
    }
    // SAFETY: non-NULL and readable for len bytes per the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows a handle argument.
///
/// # Safety
/// `ptr` is NULL or a live object of type `T` created by this library.
unsafe fn arg_ref<'a, T>(ptr: *const T, field: &'static str) -> Result<&'a T, Error> {
    // SAFETY: the caller guarantees a live object when non-NULL.
    unsafe { ptr.as_ref() }.ok_or_else(|| Error::invalid(field, "is NULL"))
}

/// Borrows a handle argument mutably.
///
/// # Safety
/// `ptr` is NULL or a live object of type `T` created by this library, not used concurrently.
unsafe fn arg_mut<'a, T>(ptr: *mut T, field: &'static str) -> Result<&'a mut T, Error> {
    // SAFETY: the caller guarantees a live, unshared object when non-NULL.
    unsafe { ptr.as_mut() }.ok_or_else(|| Error::invalid(field, "is NULL"))
}

/// Reads a field of a handle that may be NULL (getters return `fallback` for NULL).
///
/// # Safety
/// `ptr` is NULL or a live object of type `T` created by this library.
unsafe fn read<T, R>(ptr: *const T, fallback: R, get: impl FnOnce(&T) -> R) -> R {
    // SAFETY: the caller guarantees a live object when non-NULL.
    unsafe { ptr.as_ref() }.map_or(fallback, get)
}

/// Moves `value` to the heap and hands it to C.
fn into_raw<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Frees an object created by [`into_raw`]; NULL is ignored.
///
/// # Safety
/// `ptr` is NULL or came from [`into_raw`] for the same `T` and is not used afterwards.
unsafe fn free_raw<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: created by Box::into_raw, freed once per the contract.
        let boxed = unsafe { Box::from_raw(ptr) };
        error::guard_value((), || drop(boxed));
    }
}

/// Sets `*out` to NULL (when `out` is not NULL) so it never holds a stale pointer on failure,
/// and returns it checked.
///
/// # Safety
/// `out` is NULL or writable.
unsafe fn clear_out<'a, T>(out: *mut *mut T) -> Result<&'a mut *mut T, Error> {
    // SAFETY: the caller guarantees `out` is NULL or writable.
    let slot = unsafe { out.as_mut() }.ok_or_else(|| Error::invalid("out", "is NULL"))?;
    *slot = std::ptr::null_mut();
    Ok(slot)
}
