//! `wxface_authinfo`: a verified authinfo and how it was obtained. Strings returned by the
//! getters are borrowed from the object.

use std::ffi::{CString, c_char};
use std::ptr;
use std::time::Instant;

use zeroize::Zeroize;

use super::convert::{arg_ref, free_raw, read};
use super::error::wxface_status;
use super::error::{Failure, c_secret, c_string, guard};
use crate::AuthinfoResult;
use crate::error::Error;

/// A verified authinfo. Freeing it wipes the credential.
pub struct wxface_authinfo {
    authinfo: CString,
    expires_in: u32,
    appid: CString,
    mch_id: CString,
    sub_appid: CString,
    sub_mch_id: CString,
    from_cache: bool,
    stale: bool,
    refresh_error_status: wxface_status,
    refresh_error_message: CString,
    expires_at: Instant,
    clock_offset_secs: i64,
    clock_corrected: bool,
    attempts: u32,
}

impl wxface_authinfo {
    pub(super) fn new(r: AuthinfoResult) -> wxface_authinfo {
        let mut a = r.authinfo;
        let info = wxface_authinfo {
            authinfo: c_secret(&a.authinfo),
            expires_in: a.expires_in,
            appid: c_string(&a.appid),
            mch_id: c_string(&a.mch_id),
            sub_appid: c_string(a.sub_appid.as_deref().unwrap_or_default()),
            sub_mch_id: c_string(a.sub_mch_id.as_deref().unwrap_or_default()),
            from_cache: r.from_cache,
            stale: r.stale,
            refresh_error_status: r.refresh_error.as_ref().map_or(0, |e| e.kind().code()),
            refresh_error_message: c_string(
                &r.refresh_error.map(|e| e.to_string()).unwrap_or_default(),
            ),
            expires_at: r.expires_at,
            clock_offset_secs: r.clock_offset_secs,
            clock_corrected: r.clock_corrected,
            attempts: r.attempts,
        };
        // The core's copy of the credential is wiped once C has its own.
        a.zeroize();
        info
    }
}

impl Drop for wxface_authinfo {
    fn drop(&mut self) {
        std::mem::take(&mut self.authinfo).into_bytes().zeroize();
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
    get: fn(&wxface_authinfo) -> &CString,
) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { read(info, ptr::null(), |i| get(i).as_ptr()) }
}

/// The credential for the face SDK (ASCII). A secret: do not log it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_value(info: *const wxface_authinfo) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { string(info, |i| &i.authinfo) }
}

/// The appid WeChat echoed (the configured one).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_appid(info: *const wxface_authinfo) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { string(info, |i| &i.appid) }
}

/// The mch_id WeChat echoed (the configured one).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_mch_id(info: *const wxface_authinfo) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { string(info, |i| &i.mch_id) }
}

/// The sub_appid WeChat echoed; "" outside service-provider mode.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_sub_appid(info: *const wxface_authinfo) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { string(info, |i| &i.sub_appid) }
}

/// The sub_mch_id WeChat echoed; "" outside service-provider mode.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_sub_mch_id(info: *const wxface_authinfo) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { string(info, |i| &i.sub_mch_id) }
}

/// Validity in seconds from receipt (3600 in practice).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_expires_in(info: *const wxface_authinfo) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { read(info, 0, |i| i.expires_in) }
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
        let bytes = info.authinfo.as_bytes_with_nul();
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
    unsafe { string(info, |i| &i.refresh_error_message) }
}

/// Seconds of validity left now, on the monotonic clock (0 once expired).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_remaining_secs(info: *const wxface_authinfo) -> u32 {
    let left = |i: &wxface_authinfo| {
        let secs = i
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
