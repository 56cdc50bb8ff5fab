//! Status recording for the C ABI: the per-thread "last error" and the panic guards.

use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::{WXFACE_ERR_BUFFER_TOO_SMALL, WXFACE_ERR_PANIC, WXFACE_OK, wxface_status};
use crate::error::Error;

struct LastError {
    status: wxface_status,
    message: CString,
    return_code: CString,
    return_msg: CString,
}

impl LastError {
    fn ok() -> LastError {
        LastError {
            status: WXFACE_OK,
            message: CString::default(),
            return_code: CString::default(),
            return_msg: CString::default(),
        }
    }
}

thread_local! {
    static LAST: RefCell<LastError> = RefCell::new(LastError::ok());
}

fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

fn set(last: LastError) -> wxface_status {
    let status = last.status;
    LAST.with(|l| *l.borrow_mut() = last);
    status
}

/// Why an ABI call failed: a core error, or a failure only the ABI has.
pub(crate) enum Failure {
    Core(Error),
    BufferTooSmall { needed: usize },
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Core(e)
    }
}

fn record_failure(f: Failure) -> wxface_status {
    match f {
        Failure::Core(e) => record_error(&e),
        Failure::BufferTooSmall { needed } => set(LastError {
            status: WXFACE_ERR_BUFFER_TOO_SMALL,
            message: c_string(&format!("buffer too small: {needed} bytes needed")),
            ..LastError::ok()
        }),
    }
}

fn record_error(e: &Error) -> wxface_status {
    let (code, msg) = e.remote().unwrap_or(("", ""));
    set(LastError {
        status: e.kind().code(),
        message: c_string(&e.to_string()),
        return_code: c_string(code),
        return_msg: c_string(msg),
    })
}

fn record_panic() -> wxface_status {
    set(LastError {
        status: WXFACE_ERR_PANIC,
        message: c_string("internal error: wxface caught a panic (please report this bug)"),
        ..LastError::ok()
    })
}

/// Runs `f`, records its outcome for `wxface_last_error_*`, and turns a panic into
/// `WXFACE_ERR_PANIC`.
pub(crate) fn guard(f: impl FnOnce() -> Result<(), Failure>) -> wxface_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => set(LastError::ok()),
        Ok(Err(e)) => record_failure(e),
        Err(_) => record_panic(),
    }
}

/// Runs a constructor returning a pointer; a panic gives NULL (and is recorded).
pub(crate) fn guard_ptr<T>(f: impl FnOnce() -> *mut T) -> *mut T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        record_panic();
        std::ptr::null_mut()
    })
}

/// Runs a function that cannot fail except by panicking; a panic gives `fallback`.
pub(crate) fn guard_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// The status of the last wxface call on this thread that returns a `wxface_status`.
///
/// Thread-safety: per thread; reads only the calling thread's record.
#[unsafe(no_mangle)]
pub extern "C" fn wxface_last_error_status() -> wxface_status {
    guard_value(WXFACE_ERR_PANIC, || LAST.with(|l| l.borrow().status))
}

/// A one-line English description of the last failure on this thread ("" after a success).
/// It never contains the API key, the authinfo or the rawdata.
///
/// Ownership: borrowed; valid until the next wxface call that returns a `wxface_status` on
/// this thread. Never NULL; do not free. Copy it if you need it longer.
///
/// Thread-safety: per thread.
#[unsafe(no_mangle)]
pub extern "C" fn wxface_last_error_message() -> *const c_char {
    guard_value(c"".as_ptr(), || LAST.with(|l| l.borrow().message.as_ptr()))
}

/// WeChat's `return_code` (e.g. "PARAM_ERROR", "SYSTEMERROR") when the last failure on this
/// thread was `WXFACE_ERR_REMOTE`; "" otherwise.
///
/// Ownership and thread-safety: as for `wxface_last_error_message`.
#[unsafe(no_mangle)]
pub extern "C" fn wxface_last_error_return_code() -> *const c_char {
    guard_value(c"".as_ptr(), || {
        LAST.with(|l| l.borrow().return_code.as_ptr())
    })
}

/// WeChat's `return_msg` (UTF-8, usually Chinese, e.g. "签名错误") when the last failure on
/// this thread was `WXFACE_ERR_REMOTE`; "" otherwise.
///
/// Ownership and thread-safety: as for `wxface_last_error_message`.
#[unsafe(no_mangle)]
pub extern "C" fn wxface_last_error_return_msg() -> *const c_char {
    guard_value(c"".as_ptr(), || {
        LAST.with(|l| l.borrow().return_msg.as_ptr())
    })
}
