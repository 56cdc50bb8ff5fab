//! The log callback: levels and the C function pointer type.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use super::error::c_string;
use crate::error::Error;
use crate::{Level, LogFn};

/// Log level: a call failed.
pub const WXFACE_LOG_ERROR: u32 = 1;
/// Log level: something degraded (a retry, a failover, a stale authinfo, a corrected clock).
pub const WXFACE_LOG_WARN: u32 = 2;
/// Log level: one line per call outcome and per cache refresh (the default maximum).
pub const WXFACE_LOG_INFO: u32 = 3;
/// Log level: each attempt and each cache hit.
pub const WXFACE_LOG_DEBUG: u32 = 4;

/// A log callback: `level` is a `WXFACE_LOG_*` value, `message` one UTF-8 line valid only
/// during the call. Lines never contain the API key, authinfo, rawdata or proxy password.
/// It runs on the thread making the wxface call, possibly on several threads at once; it must
/// be quick and must not call wxface on the same client (a call for the same store/device
/// would wait for itself until its timeout).
pub type wxface_log_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, level: u32, message: *const c_char)>;

/// Converts a C log level.
pub(super) fn level(value: u32) -> Result<Level, Error> {
    Level::from_u32(value)
        .ok_or_else(|| Error::invalid("log_level", format!("{value} is not a WXFACE_LOG_* value")))
}

/// Wraps a C callback and its `user_data` as the core's [`LogFn`].
///
/// # Safety
/// `callback` is safe to call from any thread with `user_data`, for as long as any client made
/// from the configuration lives (the contract of `wxface_config_set_log_callback`).
pub(super) unsafe fn log_fn(
    callback: unsafe extern "C" fn(*mut c_void, u32, *const c_char),
    user_data: *mut c_void,
) -> LogFn {
    // The caller promised that user_data may be used from any thread.
    let user_data = user_data as usize;
    Arc::new(move |level: Level, line: &str| {
        let line = c_string(line);
        // SAFETY: the callback contract of wxface_log_fn, promised by the caller.
        unsafe { callback(user_data as *mut c_void, level.as_u32(), line.as_ptr()) };
    })
}
