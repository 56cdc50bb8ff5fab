//! Argument and ownership conversions shared by the entry points: checked borrows of C
//! pointers, strings and byte ranges, and handing boxed objects to C and back.

use std::ffi::{CStr, c_char};

use super::error::guard_value;
use crate::error::Error;

/// Borrows a C string argument as UTF-8; NULL and invalid UTF-8 are refused naming `field`.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that stays valid for `'a`.
pub(super) unsafe fn arg_str<'a>(
    ptr: *const c_char,
    field: &'static str,
) -> Result<&'a str, Error> {
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
pub(super) unsafe fn arg_opt_str<'a>(
    ptr: *const c_char,
    field: &'static str,
) -> Result<&'a str, Error> {
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
pub(super) unsafe fn arg_bytes<'a>(
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
pub(super) unsafe fn arg_ref<'a, T>(ptr: *const T, field: &'static str) -> Result<&'a T, Error> {
    // SAFETY: the caller guarantees a live object when non-NULL.
    unsafe { ptr.as_ref() }.ok_or_else(|| Error::invalid(field, "is NULL"))
}

/// Borrows a handle argument mutably.
///
/// # Safety
/// `ptr` is NULL or a live object of type `T` created by this library, not used concurrently.
pub(super) unsafe fn arg_mut<'a, T>(ptr: *mut T, field: &'static str) -> Result<&'a mut T, Error> {
    // SAFETY: the caller guarantees a live, unshared object when non-NULL.
    unsafe { ptr.as_mut() }.ok_or_else(|| Error::invalid(field, "is NULL"))
}

/// Reads a field of a handle that may be NULL (getters return `fallback` for NULL).
///
/// # Safety
/// `ptr` is NULL or a live object of type `T` created by this library.
pub(super) unsafe fn read<T, R>(ptr: *const T, fallback: R, get: impl FnOnce(&T) -> R) -> R {
    // SAFETY: the caller guarantees a live object when non-NULL.
    unsafe { ptr.as_ref() }.map_or(fallback, get)
}

/// Moves `value` to the heap and hands it to C.
pub(super) fn into_raw<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Frees an object created by [`into_raw`]; NULL is ignored.
///
/// # Safety
/// `ptr` is NULL or came from [`into_raw`] for the same `T` and is not used afterwards.
pub(super) unsafe fn free_raw<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: created by Box::into_raw, freed once per the contract.
        let boxed = unsafe { Box::from_raw(ptr) };
        guard_value((), || drop(boxed));
    }
}

/// Sets `*out` to NULL (when `out` is not NULL) so it never holds a stale pointer on failure,
/// and returns it checked.
///
/// # Safety
/// `out` is NULL or writable.
pub(super) unsafe fn clear_out<'a, T>(out: *mut *mut T) -> Result<&'a mut *mut T, Error> {
    // SAFETY: the caller guarantees `out` is NULL or writable.
    let slot = unsafe { out.as_mut() }.ok_or_else(|| Error::invalid("out", "is NULL"))?;
    *slot = std::ptr::null_mut();
    Ok(slot)
}
