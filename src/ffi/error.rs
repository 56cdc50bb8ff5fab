//! Status codes, the per-thread last error, and the panic boundary every export runs inside.

use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{Error, ErrorKind};

/// Status code returned by every fallible function. Values are stable; new codes may be
/// added, so treat unknown values as failures.
pub type wxface_status = u32;

/// Success.
pub const WXFACE_OK: wxface_status = 0;
/// NULL, invalid UTF-8, or a value the protocol refuses (named in the message); nothing was sent.
pub const WXFACE_ERR_INVALID_ARGUMENT: wxface_status = 1;
/// DNS failure, connection refused or reset, or closed before the full answer. Transient.
pub const WXFACE_ERR_NETWORK: wxface_status = 2;
/// The connect, attempt or overall timeout expired. Transient.
pub const WXFACE_ERR_TIMEOUT: wxface_status = 3;
/// TLS handshake or certificate verification failed: check the clock, proxies and the CA.
pub const WXFACE_ERR_TLS: wxface_status = 4;
/// An HTTP status other than 200 (in the message): the server's, an HTTP proxy's refusal of
/// CONNECT, or a relay's refusal of a field (the request was sent). 5xx is transient.
pub const WXFACE_ERR_HTTP_STATUS: wxface_status = 5;
/// Not the expected XML (or relay JSON), too large, a field missing or malformed (an authinfo
/// that is not 1 to 4096 printable ASCII characters, `expires_in` outside 1 to 86400 s), or an
/// echoed id that is not ours. Never cached.
pub const WXFACE_ERR_BAD_RESPONSE: wxface_status = 6;
/// A SUCCESS answer whose signature is missing or wrong. Never use its content.
pub const WXFACE_ERR_SIGNATURE: wxface_status = 7;
/// WeChat said no: see `wxface_last_error_return_code()` / `_return_msg()`.
pub const WXFACE_ERR_REMOTE: wxface_status = 8;
/// The caller's buffer is too small; the required size was stored in `*needed`.
pub const WXFACE_ERR_BUFFER_TOO_SMALL: wxface_status = 9;
/// A bug inside wxface was caught at the boundary (the process goes on). Please report it.
pub const WXFACE_ERR_PANIC: wxface_status = 10;

/// The name of a status, e.g. "WXFACE_ERR_TIMEOUT"; "WXFACE_ERR_UNKNOWN" for other values
/// (static).
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

/// The last failure on this thread. `None` after a success, so a success allocates nothing.
struct LastError {
    status: wxface_status,
    /// The HTTP status of a `WXFACE_ERR_HTTP_STATUS` failure, else 0.
    http_status: u16,
    message: CString,
    return_code: CString,
    return_msg: CString,
}

thread_local! {
    static LAST: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

/// A string for C: a NUL inside (never produced by the core) becomes a space.
pub(crate) fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

fn set(last: Option<LastError>) -> wxface_status {
    let status = last.as_ref().map_or(WXFACE_OK, |l| l.status);
    LAST.with(|l| *l.borrow_mut() = last);
    status
}

/// Why an entry point failed: a core error, or a failure only the ABI has.
pub(crate) enum Failure {
    Core(Error),
    BufferTooSmall { needed: usize },
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Core(e)
    }
}

fn failure(status: wxface_status, message: &str) -> Option<LastError> {
    Some(LastError {
        status,
        http_status: 0,
        message: c_string(message),
        return_code: CString::default(),
        return_msg: CString::default(),
    })
}

fn record(f: Failure) -> wxface_status {
    set(match f {
        Failure::Core(e) => {
            let (code, msg) = e.remote().unwrap_or(("", ""));
            Some(LastError {
                status: e.kind().code(),
                http_status: e.http_status().unwrap_or(0),
                message: c_string(&e.to_string()),
                return_code: c_string(code),
                return_msg: c_string(msg),
            })
        }
        Failure::BufferTooSmall { needed } => failure(
            WXFACE_ERR_BUFFER_TOO_SMALL,
            &format!("buffer too small: {needed} bytes needed"),
        ),
    })
}

fn record_panic() -> wxface_status {
    set(failure(
        WXFACE_ERR_PANIC,
        "internal error: wxface caught a panic (please report this bug)",
    ))
}

/// The panic boundary of every entry point that returns a status: runs `f`, records the
/// outcome for `wxface_last_error_*`, and turns a panic into `WXFACE_ERR_PANIC`.
pub(crate) fn guard(f: impl FnOnce() -> Result<(), Failure>) -> wxface_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => set(None),
        Ok(Err(e)) => record(e),
        Err(_) => record_panic(),
    }
}

/// The panic boundary of constructors returning a pointer: a panic gives NULL (recorded).
pub(crate) fn guard_ptr<T>(f: impl FnOnce() -> *mut T) -> *mut T {
    catch_unwind(AssertUnwindSafe(|| {
        crate::test_hook::maybe_panic();
        f()
    }))
    .unwrap_or_else(|_| {
        record_panic();
        std::ptr::null_mut()
    })
}

/// The panic boundary of functions that cannot fail otherwise: a panic gives `fallback`.
pub(crate) fn guard_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// Reads the calling thread's last error.
fn last<R>(get: impl FnOnce(Option<&LastError>) -> R) -> R {
    LAST.with(|l| get(l.borrow().as_ref()))
}

/// The status of the last call on this thread that returned a `wxface_status`.
#[unsafe(no_mangle)]
pub extern "C" fn wxface_last_error_status() -> wxface_status {
    guard_value(WXFACE_ERR_PANIC, || {
        last(|l| l.map_or(WXFACE_OK, |l| l.status))
    })
}

/// A one-line English description of that failure; "" after a success. Never holds a secret.
#[unsafe(no_mangle)]
pub extern "C" fn wxface_last_error_message() -> *const c_char {
    guard_value(c"".as_ptr(), || {
        last(|l| l.map_or(c"".as_ptr(), |l| l.message.as_ptr()))
    })
}

/// WeChat's `return_code` (e.g. "PARAM_ERROR") after `WXFACE_ERR_REMOTE`; "" otherwise.
#[unsafe(no_mangle)]
pub extern "C" fn wxface_last_error_return_code() -> *const c_char {
    guard_value(c"".as_ptr(), || {
        last(|l| l.map_or(c"".as_ptr(), |l| l.return_code.as_ptr()))
    })
}

/// WeChat's `return_msg` (UTF-8, e.g. "签名错误") after `WXFACE_ERR_REMOTE`; "" otherwise.
#[unsafe(no_mangle)]
pub extern "C" fn wxface_last_error_return_msg() -> *const c_char {
    guard_value(c"".as_ptr(), || {
        last(|l| l.map_or(c"".as_ptr(), |l| l.return_msg.as_ptr()))
    })
}

/// The HTTP status (e.g. 503) when the last failure on this thread was
/// `WXFACE_ERR_HTTP_STATUS`; 0 otherwise.
#[unsafe(no_mangle)]
pub extern "C" fn wxface_last_error_http_status() -> u16 {
    guard_value(0, || last(|l| l.map_or(0, |l| l.http_status)))
}

/// Whether a failure with `status` may succeed when tried again: the rule the retry policy
/// follows. Always for `WXFACE_ERR_NETWORK` and `WXFACE_ERR_TIMEOUT`; for
/// `WXFACE_ERR_HTTP_STATUS` (5xx) and `WXFACE_ERR_REMOTE` (`SYSTEMERROR`) it reads the details of
/// this thread's last error, so call it before the next wxface call; false for every other
/// status, `WXFACE_OK` and unknown values.
#[unsafe(no_mangle)]
pub extern "C" fn wxface_status_is_transient(status: wxface_status) -> bool {
    guard_value(false, || {
        let Some(kind) = ErrorKind::from_code(status) else {
            return false;
        };
        last(|l| match l.filter(|l| l.status == status) {
            Some(l) => kind.is_transient(Some(l.http_status), l.return_code.to_str().ok()),
            None => kind.is_transient(None, None),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

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
            // SAFETY: wxface_status_name returns a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(wxface_status_name(code)) };
            assert_eq!(name.to_str().unwrap(), kind.name());
        }
    }

    fn after(e: Error) -> wxface_status {
        guard(|| Err(e.into()))
    }

    /// The C answer is the retry policy's answer, detail included.
    #[test]
    fn status_is_transient_follows_the_retry_rule() {
        let remote = |c: &str| Error::Remote {
            return_code: c.into(),
            return_msg: "m".into(),
        };
        for e in [
            Error::Network("x".into()),
            Error::Timeout("x".into()),
            Error::Tls("x".into()),
            Error::HttpStatus(503),
            Error::HttpStatus(404),
            Error::BadResponse("x".into()),
            Error::Signature("x".into()),
            remote("SYSTEMERROR"),
            remote("PARAM_ERROR"),
            Error::invalid("store_id", "x"),
        ] {
            let expected = e.is_transient();
            let http = e.http_status().unwrap_or(0);
            let status = after(e.clone());
            assert_eq!(wxface_status_is_transient(status), expected, "{e:?}");
            assert_eq!(wxface_last_error_http_status(), http, "{e:?}");
        }
        // Without the details (another thread's status, or after a success).
        assert_eq!(guard(|| Ok(())), WXFACE_OK);
        assert!(wxface_status_is_transient(WXFACE_ERR_NETWORK));
        assert!(!wxface_status_is_transient(WXFACE_ERR_HTTP_STATUS));
        assert!(!wxface_status_is_transient(WXFACE_OK));
        assert!(!wxface_status_is_transient(WXFACE_ERR_PANIC));
        assert!(!wxface_status_is_transient(77));
        assert_eq!(wxface_last_error_http_status(), 0);
    }
}
