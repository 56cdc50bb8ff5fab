//! The C ABI, exported from `libwxface.so` / `libwxface.a` and declared in `include/wxface.h`.
//!
//! Thin by design: it converts C arguments to the Rust core's types, calls the core, and turns
//! results into status codes and owned objects. It holds no protocol logic.
//!
//! Rules every export follows:
//! - every pointer argument is checked; NULL gives `WXFACE_ERR_INVALID_ARGUMENT`, never a crash;
//! - strings are NUL-terminated UTF-8; invalid UTF-8 gives `WXFACE_ERR_INVALID_ARGUMENT`;
//! - no panic crosses the boundary: it becomes `WXFACE_ERR_PANIC` (or a NULL return);
//! - every object returned has a NULL-safe `_free`;
//! - every function returning `wxface_status` records the outcome for
//!   `wxface_last_error_*` on the calling thread.
#![allow(non_camel_case_types)]

mod error;
mod field;
mod handles;

pub use error::*;
pub use field::*;
pub use handles::*;

use std::ffi::{CStr, c_char};

use crate::error::Error;

/// Status code returned by every fallible function. Values are stable across releases; new
/// codes may be added, so treat unknown values as failures.
pub type wxface_status = u32;

/// Success.
pub const WXFACE_OK: wxface_status = 0;
/// A NULL pointer, invalid UTF-8, or a value that breaks the protocol's rules; nothing was sent.
/// Fix the argument named in the message.
pub const WXFACE_ERR_INVALID_ARGUMENT: wxface_status = 1;
/// DNS failure, connection refused or reset, or closed before the full answer. Transient:
/// retry later, check the network.
pub const WXFACE_ERR_NETWORK: wxface_status = 2;
/// The connect or overall timeout expired. Transient: retry later.
pub const WXFACE_ERR_TIMEOUT: wxface_status = 3;
/// TLS handshake or certificate verification failed: check the clock (certificates have
/// validity dates), any intercepting proxy, and the configured CA.
pub const WXFACE_ERR_TLS: wxface_status = 4;
/// An HTTP status other than 200 (the status code is in the message). 5xx is transient.
pub const WXFACE_ERR_HTTP_STATUS: wxface_status = 5;
/// The answer was not the expected XML, was too large, lacked a field, or echoed an identifier
/// that is not ours. Do not use it; report it.
pub const WXFACE_ERR_BAD_RESPONSE: wxface_status = 6;
/// A SUCCESS answer whose signature is missing or wrong: wrong key, or the answer was altered in
/// transit. Never use its content.
pub const WXFACE_ERR_SIGNATURE: wxface_status = 7;
/// WeChat answered with a failure; `wxface_last_error_return_code()` and
/// `wxface_last_error_return_msg()` give its `return_code` and `return_msg`.
pub const WXFACE_ERR_REMOTE: wxface_status = 8;
/// The caller's buffer is too small; the required size was stored in `*needed`.
pub const WXFACE_ERR_BUFFER_TOO_SMALL: wxface_status = 9;
/// A bug inside wxface was caught before it could cross the C boundary. Please report it.
pub const WXFACE_ERR_PANIC: wxface_status = 10;

/// Sign requests with HMAC-SHA256 (the default).
pub const WXFACE_SIGN_HMAC_SHA256: u32 = 0;
/// Sign requests with MD5.
pub const WXFACE_SIGN_MD5: u32 = 1;

/// Version of the C ABI described by this header. It changes only when a compiled program
/// could break (a removed or changed function); new functions do not change it. Compare
/// `wxface_abi_version()` with this macro at start-up.
pub const WXFACE_ABI_VERSION: u32 = 1;

/// The library version as a static NUL-terminated string, e.g. "0.1.0". Never NULL; do not free.
///
/// Thread-safety: safe from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn wxface_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI version the library was built with; equal to `WXFACE_ABI_VERSION` when the header
/// and the library match.
///
/// Thread-safety: safe from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn wxface_abi_version() -> u32 {
    WXFACE_ABI_VERSION
}

/// The name of a status code as a static string, e.g. "WXFACE_ERR_TIMEOUT";
/// "WXFACE_ERR_UNKNOWN" for a value this version does not know. Never NULL; do not free.
///
/// Thread-safety: safe from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn wxface_status_name(status: wxface_status) -> *const c_char {
    let name: &'static str = match status {
        WXFACE_OK => "WXFACE_OK\0",
        WXFACE_ERR_INVALID_ARGUMENT => "WXFACE_ERR_INVALID_ARGUMENT\0",
        WXFACE_ERR_NETWORK => "WXFACE_ERR_NETWORK\0",
        WXFACE_ERR_TIMEOUT => "WXFACE_ERR_TIMEOUT\0",
        WXFACE_ERR_TLS => "WXFACE_ERR_TLS\0",
        WXFACE_ERR_HTTP_STATUS => "WXFACE_ERR_HTTP_STATUS\0",
        WXFACE_ERR_BAD_RESPONSE => "WXFACE_ERR_BAD_RESPONSE\0",
        WXFACE_ERR_SIGNATURE => "WXFACE_ERR_SIGNATURE\0",
        WXFACE_ERR_REMOTE => "WXFACE_ERR_REMOTE\0",
        WXFACE_ERR_BUFFER_TOO_SMALL => "WXFACE_ERR_BUFFER_TOO_SMALL\0",
        WXFACE_ERR_PANIC => "WXFACE_ERR_PANIC\0",
        _ => "WXFACE_ERR_UNKNOWN\0",
    };
    name.as_ptr().cast()
}

/// Borrows a C string argument as UTF-8.
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

/// Like [`arg_str`] but NULL and "" both mean "not set".
///
/// # Safety
/// As for [`arg_str`].
unsafe fn arg_opt_str<'a>(
    ptr: *const c_char,
    field: &'static str,
) -> Result<Option<&'a str>, Error> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    Ok(Some(unsafe { arg_str(ptr, field) }?).filter(|s| !s.is_empty()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn core_kinds_match_abi_codes() {
        let pairs = [
            (ErrorKind::InvalidArgument, WXFACE_ERR_INVALID_ARGUMENT),
            (ErrorKind::Network, WXFACE_ERR_NETWORK),
            (ErrorKind::Timeout, WXFACE_ERR_TIMEOUT),
            (ErrorKind::Tls, WXFACE_ERR_TLS),
            (ErrorKind::HttpStatus, WXFACE_ERR_HTTP_STATUS),
            (ErrorKind::BadResponse, WXFACE_ERR_BAD_RESPONSE),
            (ErrorKind::Signature, WXFACE_ERR_SIGNATURE),
            (ErrorKind::Remote, WXFACE_ERR_REMOTE),
        ];
        for (kind, code) in pairs {
            assert_eq!(kind.code(), code);
            let name = unsafe { CStr::from_ptr(wxface_status_name(code)) };
            assert_eq!(name.to_str().unwrap(), kind.name());
        }
    }
}
