//! The C ABI with arbitrary byte strings (invalid UTF-8 included): `wxface_request_*`,
//! `wxface_config_*` and `wxface_client_new`, then every object is freed.
//!
//! Oracle: each string setter returns exactly WXFACE_OK for UTF-8 and
//! WXFACE_ERR_INVALID_ARGUMENT otherwise (the key: OK only for 32 printable ASCII bytes); every
//! call returns OK or INVALID_ARGUMENT, never WXFACE_ERR_PANIC (a caught panic is still a bug);
//! `wxface_last_error_status` agrees with the returned status; the last-error message is a
//! valid C string and never repeats the API key. Setters only convert their arguments (numbers
//! are always accepted); values are validated by `wxface_client_new`. (`wxface_config_add_ca_file` is left out: an
//! arbitrary path could name a FIFO or a device and block.)
#![no_main]

use std::ffi::{CStr, CString};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wxface::ffi::*;

#[derive(Arbitrary, Debug)]
enum ReqOp {
    StoreId(Vec<u8>),
    StoreName(Vec<u8>),
    DeviceId(Vec<u8>),
    Rawdata(Vec<u8>),
    Attach(Vec<u8>),
    Now(i64),
    Null(u8),
}

#[derive(Arbitrary, Debug)]
enum CfgOp {
    MchId(Vec<u8>),
    Appid(Vec<u8>),
    SubMchId(Vec<u8>),
    SubAppid(Vec<u8>),
    BaseUrl(Vec<u8>),
    FallbackUrl(Vec<u8>),
    Key(Vec<u8>),
    SignType(u32),
    Timeouts(u32, u32),
    AttemptTimeout(u32),
    Retries(u32, u32, u32),
    Cache(bool, u32),
    ClockSkew(bool),
    Proxy(Vec<u8>),
    ProxyCredentials(Vec<u8>, Vec<u8>),
    CaPem(Vec<u8>),
    BuiltinRoots(bool),
    Null(u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    req: Vec<ReqOp>,
    cfg: Vec<CfgOp>,
    client_new: bool,
}

/// A NUL-terminated string from arbitrary bytes (cut at the first NUL, as C would read it).
fn c(bytes: &[u8]) -> CString {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).expect("no interior NUL")
}

fn utf8_status(s: &CString) -> wxface_status {
    if s.to_str().is_ok() {
        WXFACE_OK
    } else {
        WXFACE_ERR_INVALID_ARGUMENT
    }
}

/// Checks a returned status against the expected one (None: OK or INVALID_ARGUMENT) and the
/// thread's last-error record.
fn check(call: &str, got: wxface_status, expected: Option<wxface_status>, secret: Option<&str>) {
    assert_ne!(
        got,
        WXFACE_ERR_PANIC,
        "{call}: caught a panic: {}",
        last_message()
    );
    match expected {
        Some(e) => assert_eq!(got, e, "{call}: {}", last_message()),
        None => assert!(
            got == WXFACE_OK || got == WXFACE_ERR_INVALID_ARGUMENT,
            "{call}: status {got}: {}",
            last_message()
        ),
    }
    assert_eq!(wxface_last_error_status(), got, "{call}: last_error_status");
    let msg = last_message();
    assert_eq!(got == WXFACE_OK, msg.is_empty(), "{call}: message {msg:?}");
    if let Some(k) = secret {
        assert!(
            !msg.contains(k),
            "{call}: the message repeats the API key: {msg:?}"
        );
    }
}

fn last_message() -> String {
    let p = wxface_last_error_message();
    assert!(!p.is_null());
    // SAFETY: a NUL-terminated string valid until the next status-returning call.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn key_ok(k: &CString) -> bool {
    let b = k.as_bytes();
    b.len() == 32 && b.iter().all(u8::is_ascii_graphic)
}

fuzz_target!(|input: Input| unsafe {
    // Request.
    let req = wxface_request_new();
    assert!(!req.is_null());
    for op in &input.req {
        let (name, got, expected) = match op {
            ReqOp::StoreId(b) => {
                let s = c(b);
                (
                    "store_id",
                    wxface_request_set_store_id(req, s.as_ptr()),
                    utf8_status(&s),
                )
            }
            ReqOp::StoreName(b) => {
                let s = c(b);
                (
                    "store_name",
                    wxface_request_set_store_name(req, s.as_ptr()),
                    utf8_status(&s),
                )
            }
            ReqOp::DeviceId(b) => {
                let s = c(b);
                (
                    "device_id",
                    wxface_request_set_device_id(req, s.as_ptr()),
                    utf8_status(&s),
                )
            }
            ReqOp::Rawdata(b) => {
                let s = c(b);
                (
                    "rawdata",
                    wxface_request_set_rawdata(req, s.as_ptr()),
                    utf8_status(&s),
                )
            }
            ReqOp::Attach(b) => {
                let s = c(b);
                (
                    "attach",
                    wxface_request_set_attach(req, s.as_ptr()),
                    utf8_status(&s),
                )
            }
            ReqOp::Now(n) => ("now", wxface_request_set_now(req, *n), WXFACE_OK),
            ReqOp::Null(which) => {
                let null = std::ptr::null();
                let got = match which % 3 {
                    0 => wxface_request_set_store_id(req, null),
                    1 => wxface_request_set_attach(std::ptr::null_mut(), c"x".as_ptr()),
                    _ => wxface_request_set_now(std::ptr::null_mut(), 1),
                };
                ("request NULL", got, WXFACE_ERR_INVALID_ARGUMENT)
            }
        };
        check(name, got, Some(expected), None);
    }
    wxface_request_free(req);

    // Configuration.
    let cfg = wxface_config_new();
    assert!(!cfg.is_null());
    let mut key: Option<String> = None;
    let mut others: Vec<u8> = Vec::new();
    for op in &input.cfg {
        let (name, got, expected): (&str, wxface_status, Option<wxface_status>) = match op {
            CfgOp::MchId(b) => {
                let s = c(b);
                others.extend_from_slice(s.as_bytes());
                (
                    "mch_id",
                    wxface_config_set_mch_id(cfg, s.as_ptr()),
                    Some(utf8_status(&s)),
                )
            }
            CfgOp::Appid(b) => {
                let s = c(b);
                others.extend_from_slice(s.as_bytes());
                (
                    "appid",
                    wxface_config_set_appid(cfg, s.as_ptr()),
                    Some(utf8_status(&s)),
                )
            }
            CfgOp::SubMchId(b) => {
                let s = c(b);
                others.extend_from_slice(s.as_bytes());
                let got = wxface_config_set_sub_mch_id(cfg, s.as_ptr());
                ("sub_mch_id", got, Some(utf8_status(&s)))
            }
            CfgOp::SubAppid(b) => {
                let s = c(b);
                others.extend_from_slice(s.as_bytes());
                let got = wxface_config_set_sub_appid(cfg, s.as_ptr());
                ("sub_appid", got, Some(utf8_status(&s)))
            }
            CfgOp::BaseUrl(b) => {
                let s = c(b);
                others.extend_from_slice(s.as_bytes());
                (
                    "base_url",
                    wxface_config_set_base_url(cfg, s.as_ptr()),
                    Some(utf8_status(&s)),
                )
            }
            CfgOp::FallbackUrl(b) => {
                let s = c(b);
                others.extend_from_slice(s.as_bytes());
                let got = wxface_config_add_fallback_base_url(cfg, s.as_ptr());
                ("fallback_base_url", got, Some(utf8_status(&s)))
            }
            CfgOp::Key(b) => {
                let s = c(b);
                let ok = key_ok(&s);
                if ok {
                    key = Some(s.to_str().expect("ASCII").to_owned());
                }
                let expected = if ok {
                    WXFACE_OK
                } else {
                    WXFACE_ERR_INVALID_ARGUMENT
                };
                (
                    "api_key",
                    wxface_config_set_key(cfg, s.as_ptr()),
                    Some(expected),
                )
            }
            CfgOp::SignType(t) => {
                let expected = if *t <= 1 {
                    WXFACE_OK
                } else {
                    WXFACE_ERR_INVALID_ARGUMENT
                };
                (
                    "sign_type",
                    wxface_config_set_sign_type(cfg, *t),
                    Some(expected),
                )
            }
            // Setters only convert; zero timeouts are refused by wxface_client_new.
            CfgOp::Timeouts(a, b) => (
                "timeouts",
                wxface_config_set_timeouts(cfg, *a, *b),
                Some(WXFACE_OK),
            ),
            CfgOp::AttemptTimeout(ms) => (
                "attempt_timeout",
                wxface_config_set_attempt_timeout_ms(cfg, *ms),
                Some(WXFACE_OK),
            ),
            // Setters only convert; initial > max backoff is refused by wxface_client_new.
            CfgOp::Retries(m, i, x) => (
                "retries",
                wxface_config_set_retries(cfg, *m, *i, *x),
                Some(WXFACE_OK),
            ),
            CfgOp::Cache(on, margin) => (
                "cache",
                wxface_config_set_cache(cfg, *on, *margin),
                Some(WXFACE_OK),
            ),
            CfgOp::ClockSkew(on) => (
                "clock_skew",
                wxface_config_set_clock_skew_correction(cfg, *on),
                Some(WXFACE_OK),
            ),
            CfgOp::Proxy(b) => {
                let s = c(b);
                others.extend_from_slice(s.as_bytes());
                (
                    "proxy",
                    wxface_config_set_proxy(cfg, s.as_ptr()),
                    Some(utf8_status(&s)),
                )
            }
            CfgOp::ProxyCredentials(u, p) => {
                let (u, p) = (c(u), c(p));
                others.extend_from_slice(u.as_bytes());
                others.extend_from_slice(p.as_bytes());
                let expected = if u.to_str().is_ok() && p.to_str().is_ok() {
                    WXFACE_OK
                } else {
                    WXFACE_ERR_INVALID_ARGUMENT
                };
                let got = wxface_config_set_proxy_credentials(cfg, u.as_ptr(), p.as_ptr());
                ("proxy_credentials", got, Some(expected))
            }
            CfgOp::CaPem(b) => {
                others.extend_from_slice(b);
                (
                    "ca_pem",
                    wxface_config_add_ca_pem(cfg, b.as_ptr(), b.len()),
                    Some(WXFACE_OK),
                )
            }
            CfgOp::BuiltinRoots(on) => (
                "builtin_roots",
                wxface_config_set_builtin_roots(cfg, *on),
                Some(WXFACE_OK),
            ),
            CfgOp::Null(which) => {
                let got = match which % 4 {
                    0 => wxface_config_set_mch_id(cfg, std::ptr::null()),
                    1 => wxface_config_set_key(cfg, std::ptr::null()),
                    2 => wxface_config_set_appid(std::ptr::null_mut(), c"x".as_ptr()),
                    _ => wxface_config_add_ca_pem(cfg, std::ptr::null(), 1),
                };
                ("config NULL", got, Some(WXFACE_ERR_INVALID_ARGUMENT))
            }
        };
        check(name, got, expected, None);
    }
    // The key is secret only if it cannot have come from another (echoed) argument.
    let secret = key
        .as_deref()
        .filter(|k| !others.windows(k.len()).any(|w| w == k.as_bytes()));

    if input.client_new {
        // Validation of the whole configuration (URLs, proxy, CA PEM, limits). No I/O: no
        // call is made and ca_file is never set.
        let mut client = std::ptr::null_mut();
        let got = wxface_client_new(cfg, &mut client);
        check("client_new", got, None, secret);
        assert_eq!(got == WXFACE_OK, !client.is_null());
        wxface_client_free(client);
        let got = wxface_client_new(cfg, std::ptr::null_mut());
        check(
            "client_new(out=NULL)",
            got,
            Some(WXFACE_ERR_INVALID_ARGUMENT),
            secret,
        );
    }
    wxface_config_free(cfg);
    wxface_request_free(std::ptr::null_mut());
    wxface_config_free(std::ptr::null_mut());
});
