//! `wxface_authinfo`: a verified authinfo and how it was obtained. Strings returned by the
//! getters are borrowed from the object.

use std::ffi::{CStr, CString, c_char};
use std::ptr;
use std::sync::Arc;
use std::time::Instant;

use super::convert::{arg_ref, free_raw, read};
use super::error::wxface_status;
use super::error::{Failure, c_string, guard};
use crate::cache::Fetched;
use crate::client::SharedResult;
use crate::error::Error;
use crate::protocol::authinfo::Issued;

// It shares the client's entry (whose C strings were made once, when the authinfo was
// obtained), so a cache hit allocates only this object.
/// A verified authinfo, shared with the client's cache: the credential is wiped once neither
/// this object nor the cache holds it.
pub struct wxface_authinfo {
    entry: Arc<Fetched<Arc<Issued>>>,
    from_cache: bool,
    stale: bool,
    refresh_error_status: wxface_status,
    /// `None` (read as "") unless stale.
    refresh_error_message: Option<CString>,
    clock_offset_secs: i64,
    clock_corrected: bool,
    attempts: u32,
}

impl wxface_authinfo {
    pub(super) fn new(r: SharedResult) -> wxface_authinfo {
        wxface_authinfo {
            entry: r.entry,
            from_cache: r.from_cache,
            stale: r.refresh_error.is_some(),
            refresh_error_status: r.refresh_error.as_ref().map_or(0, |e| e.kind().code()),
            refresh_error_message: r.refresh_error.map(|e| c_string(&e.to_string())),
            clock_offset_secs: r.clock_offset_secs,
            clock_corrected: r.clock_corrected,
            attempts: r.attempts,
        }
    }

    fn issued(&self) -> &Issued {
        &self.entry.value
    }
}

/// Frees a result; strings borrowed from it become invalid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_free(info: *mut wxface_authinfo) {
    // SAFETY: the caller's contract (NULL or a live result, freed once).
    unsafe { free_raw(info) }
}

/// Borrows one string of a result; NULL for a NULL result.
///
/// # Safety
/// `info` is NULL or a live result.
unsafe fn string(
    info: *const wxface_authinfo,
    get: fn(&wxface_authinfo) -> &CStr,
) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { read(info, ptr::null(), |i| get(i).as_ptr()) }
}

/// The credential for the face SDK (ASCII). A secret: do not log it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_value(info: *const wxface_authinfo) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { string(info, |i| i.issued().c_authinfo()) }
}

/// The appid WeChat echoed (the configured one).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_appid(info: *const wxface_authinfo) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { string(info, |i| i.issued().c_appid()) }
}

/// The mch_id WeChat echoed (the configured one).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_mch_id(info: *const wxface_authinfo) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { string(info, |i| i.issued().c_mch_id()) }
}

/// The sub_appid WeChat echoed; "" outside service-provider mode.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_sub_appid(info: *const wxface_authinfo) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { string(info, |i| i.issued().c_sub_appid()) }
}

/// The sub_mch_id WeChat echoed; "" outside service-provider mode.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_sub_mch_id(info: *const wxface_authinfo) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { string(info, |i| i.issued().c_sub_mch_id()) }
}

/// Validity in seconds from receipt (3600 in practice).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_expires_in(info: *const wxface_authinfo) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { read(info, 0, |i| i.issued().authinfo.expires_in) }
}

/// Copies the credential, NUL-terminated, into `buf` of `len` bytes; `*needed` (if not NULL)
/// gets the size needed. A short `len` writes nothing and gives `WXFACE_ERR_BUFFER_TOO_SMALL`;
/// `buf` NULL with `len` 0 queries the size.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_copy(
    info: *const wxface_authinfo,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> wxface_status {
    guard(|| {
        // SAFETY: NULL or a live result (contract).
        let info = unsafe { arg_ref(info, "info") }?;
        let bytes = info.issued().c_authinfo().to_bytes_with_nul();
        // SAFETY: `needed` is NULL or writable (contract).
        if let Some(needed) = unsafe { needed.as_mut() } {
            *needed = bytes.len();
        }
        if len < bytes.len() {
            return Err(Failure::BufferTooSmall {
                needed: bytes.len(),
            });
        }
        if buf.is_null() {
            return Err(Error::invalid("buf", "is NULL").into());
        }
        // SAFETY: `buf` is writable for len >= bytes.len() bytes (contract) and cannot overlap
        // the library's own string.
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr().cast::<c_char>(), buf, bytes.len()) };
        Ok(())
    })
}

/// True when no request was sent for it: cached, or shared with a concurrent call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_from_cache(info: *const wxface_authinfo) -> bool {
    // SAFETY: forwarded contract.
    unsafe { read(info, false, |i| i.from_cache) }
}

/// True when a refresh failed and a cached authinfo, still within expires_in, was returned.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_is_stale(info: *const wxface_authinfo) -> bool {
    // SAFETY: forwarded contract.
    unsafe { read(info, false, |i| i.stale) }
}

/// The status of the refresh failure behind a stale result; `WXFACE_OK` otherwise.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_refresh_error_status(
    info: *const wxface_authinfo,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { read(info, 0, |i| i.refresh_error_status) }
}

/// The message of the refresh failure behind a stale result; "" otherwise.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_refresh_error_message(
    info: *const wxface_authinfo,
) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe {
        string(info, |i| {
            i.refresh_error_message.as_deref().unwrap_or_default()
        })
    }
}

/// Seconds of validity left now, on the monotonic clock (0 once expired).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_remaining_secs(info: *const wxface_authinfo) -> u32 {
    let left = |i: &wxface_authinfo| {
        let secs = i
            .entry
            .expires_at
            .saturating_duration_since(Instant::now())
            .as_secs();
        u32::try_from(secs).unwrap_or(u32::MAX)
    };
    // SAFETY: forwarded contract.
    unsafe { read(info, 0, left) }
}

/// The clock offset (seconds) the client applied to `now` for this result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_clock_offset_secs(info: *const wxface_authinfo) -> i64 {
    // SAFETY: forwarded contract.
    unsafe { read(info, 0, |i| i.clock_offset_secs) }
}

/// True when this call measured the clock skew and retried with a corrected `now`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_clock_corrected(info: *const wxface_authinfo) -> bool {
    // SAFETY: forwarded contract.
    unsafe { read(info, false, |i| i.clock_corrected) }
}

/// HTTP attempts made for this result (0 for a cache hit).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_attempts(info: *const wxface_authinfo) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { read(info, 0, |i| i.attempts) }
}
