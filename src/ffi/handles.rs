//! Opaque handles: configuration, request, client and result.
//!
//! The ABI grows by adding setters and getters, never by changing a struct layout, so firmware
//! compiled against an older header keeps working with a newer library.

use std::ffi::{CString, c_char};
use std::ptr;
use std::time::Duration;

use zeroize::Zeroize;

use super::error::{Failure, guard, guard_ptr, guard_value};
use super::field::FieldOption;
use super::{
    WXFACE_SIGN_HMAC_SHA256, WXFACE_SIGN_MD5, arg_mut, arg_opt_str, arg_ref, arg_str, wxface_status,
};
use crate::error::Error;
use crate::{ApiKey, AuthinfoRequest, AuthinfoResult, CallOptions, Client, Config, SignType};

/// Merchant configuration under construction. Create with `wxface_config_new`, fill with the
/// `wxface_config_set_*` functions, use with `wxface_client_new` or
/// `wxface_get_authinfo_oneshot`, free with `wxface_config_free`.
pub struct wxface_config {
    pub(super) mch_id: Option<String>,
    pub(super) appid: Option<String>,
    pub(super) key: Option<ApiKey>,
    pub(super) sub_mch_id: Option<String>,
    pub(super) sub_appid: Option<String>,
    pub(super) base_url: Option<String>,
    pub(super) sign_type: SignType,
    pub(super) connect_timeout: Option<Duration>,
    pub(super) timeout: Option<Duration>,
    /// The field options (src/ffi/field.rs), applied in order on top of the above.
    pub(super) field: Vec<FieldOption>,
}

impl wxface_config {
    fn to_config(&self) -> Result<Config, Error> {
        let mch_id = self
            .mch_id
            .clone()
            .ok_or_else(|| Error::invalid("mch_id", "is not set"))?;
        let appid = self
            .appid
            .clone()
            .ok_or_else(|| Error::invalid("appid", "is not set"))?;
        let key = self
            .key
            .clone()
            .ok_or_else(|| Error::invalid("api_key", "is not set"))?;
        let mut b = Config::builder(mch_id, appid, key).sign_type(self.sign_type);
        if let Some(v) = &self.sub_mch_id {
            b = b.sub_mch_id(v);
        }
        if let Some(v) = &self.sub_appid {
            b = b.sub_appid(v);
        }
        if let Some(v) = &self.base_url {
            b = b.base_url(v);
        }
        if let Some(v) = self.connect_timeout {
            b = b.connect_timeout(v);
        }
        if let Some(v) = self.timeout {
            b = b.timeout(v);
        }
        for option in &self.field {
            b = option.apply(b);
        }
        b.build()
    }
}

/// A client: a validated configuration plus its HTTP agent (connections are reused across
/// calls). Create with `wxface_client_new`, free with `wxface_client_free`.
pub struct wxface_client {
    pub(super) client: Client,
}

/// One authinfo request. Create with `wxface_request_new`, fill with `wxface_request_set_*`,
/// free with `wxface_request_free`.
pub struct wxface_request {
    request: AuthinfoRequest,
}

/// A verified authinfo returned by `wxface_get_authinfo`. Read with the `wxface_authinfo_*`
/// getters; free with `wxface_authinfo_free` (which wipes the credential from memory).
pub struct wxface_authinfo {
    pub(super) authinfo: CString,
    pub(super) expires_in: u32,
    pub(super) appid: CString,
    pub(super) mch_id: CString,
    pub(super) sub_appid: CString,
    pub(super) sub_mch_id: CString,
    pub(super) from_cache: bool,
    pub(super) stale: bool,
    pub(super) refresh_error_status: wxface_status,
    pub(super) refresh_error_message: CString,
    pub(super) expires_at: std::time::Instant,
    pub(super) clock_offset_secs: i64,
    pub(super) clock_corrected: bool,
    pub(super) attempts: u32,
}

impl wxface_authinfo {
    fn new(r: AuthinfoResult) -> wxface_authinfo {
        // The core validated these: no NUL can be inside.
        let c = |s: String| CString::new(s.replace('\0', " ")).unwrap_or_default();
        let a = r.authinfo;
        wxface_authinfo {
            authinfo: c(a.authinfo),
            expires_in: a.expires_in,
            appid: c(a.appid),
            mch_id: c(a.mch_id),
            sub_appid: c(a.sub_appid.unwrap_or_default()),
            sub_mch_id: c(a.sub_mch_id.unwrap_or_default()),
            from_cache: r.from_cache,
            stale: r.stale,
            refresh_error_status: r.refresh_error.as_ref().map_or(0, |e| e.kind().code()),
            refresh_error_message: c(r.refresh_error.map(|e| e.to_string()).unwrap_or_default()),
            expires_at: r.expires_at,
            clock_offset_secs: r.clock_offset_secs,
            clock_corrected: r.clock_corrected,
            attempts: r.attempts,
        }
    }
}

impl Drop for wxface_authinfo {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.authinfo).into_bytes();
        bytes.zeroize();
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration

/// Creates an empty configuration (HMAC-SHA256, base URL https://payapp.weixin.qq.com,
/// connect timeout 5000 ms, overall timeout 10000 ms).
///
/// Ownership: the caller owns the result and frees it with `wxface_config_free`. Returns NULL
/// only if an internal error occurred.
///
/// Thread-safety: safe from any thread; the object itself must not be modified from two
/// threads at once.
#[unsafe(no_mangle)]
pub extern "C" fn wxface_config_new() -> *mut wxface_config {
    guard_ptr(|| {
        Box::into_raw(Box::new(wxface_config {
            mch_id: None,
            appid: None,
            key: None,
            sub_mch_id: None,
            sub_appid: None,
            base_url: None,
            sign_type: SignType::HmacSha256,
            connect_timeout: None,
            timeout: None,
            field: Vec::new(),
        }))
    })
}

/// Frees a configuration (its copy of the API key is wiped). NULL is ignored.
///
/// # Safety
/// `config` is NULL or was returned by `wxface_config_new` and is not used afterwards.
///
/// Thread-safety: must not race with any other use of the same object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_free(config: *mut wxface_config) {
    if !config.is_null() {
        // SAFETY: created by Box::into_raw in wxface_config_new, freed once per the contract.
        guard_value((), || drop(unsafe { Box::from_raw(config) }));
    }
}

/// Shared body of the required string setters.
///
/// # Safety
/// `config` is NULL or a live configuration; `value` is NULL or a NUL-terminated string.
unsafe fn set_config_str(
    config: *mut wxface_config,
    value: *const c_char,
    label: &'static str,
    assign: impl FnOnce(&mut wxface_config, Option<String>),
) -> wxface_status {
    guard(|| {
        // SAFETY: checked for NULL; forwarded contract.
        let config = unsafe { arg_mut(config, "config") }?;
        let value = unsafe { arg_str(value, label) }?;
        assign(config, Some(value.to_owned()));
        Ok(())
    })
}

/// Shared body of the optional string setters: NULL or "" clears the value.
///
/// # Safety
/// As for [`set_config_str`].
unsafe fn set_config_opt_str(
    config: *mut wxface_config,
    value: *const c_char,
    label: &'static str,
    assign: impl FnOnce(&mut wxface_config, Option<String>),
) -> wxface_status {
    guard(|| {
        // SAFETY: checked for NULL; forwarded contract.
        let config = unsafe { arg_mut(config, "config") }?;
        let value = unsafe { arg_opt_str(value, label) }?;
        assign(config, value.map(str::to_owned));
        Ok(())
    })
}

/// Sets the merchant number (`mch_id`; in service-provider mode the provider's). Required.
/// The value is copied; it is validated by `wxface_client_new`.
///
/// # Safety
/// `config` is NULL or a live configuration; `value` is NULL or a NUL-terminated string.
///
/// Thread-safety: must not race with other uses of the same configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_mch_id(
    config: *mut wxface_config,
    value: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { set_config_str(config, value, "mch_id", |c, v| c.mch_id = v) }
}

/// Sets the `appid` bound to the merchant. Required. The value is copied.
///
/// # Safety
/// `config` is NULL or a live configuration; `value` is NULL or a NUL-terminated string.
///
/// Thread-safety: must not race with other uses of the same configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_appid(
    config: *mut wxface_config,
    value: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { set_config_str(config, value, "appid", |c, v| c.appid = v) }
}

/// Sets the sub-merchant number (service-provider mode). NULL or "" clears it.
///
/// # Safety
/// `config` is NULL or a live configuration; `value` is NULL or a NUL-terminated string.
///
/// Thread-safety: must not race with other uses of the same configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_sub_mch_id(
    config: *mut wxface_config,
    value: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { set_config_opt_str(config, value, "sub_mch_id", |c, v| c.sub_mch_id = v) }
}

/// Sets the sub-merchant's appid (service-provider mode). NULL or "" clears it.
///
/// # Safety
/// `config` is NULL or a live configuration; `value` is NULL or a NUL-terminated string.
///
/// Thread-safety: must not race with other uses of the same configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_sub_appid(
    config: *mut wxface_config,
    value: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { set_config_opt_str(config, value, "sub_appid", |c, v| c.sub_appid = v) }
}

/// Sets the base URL (default "https://payapp.weixin.qq.com"). Plain "http://" is accepted
/// only for a loopback host (127.0.0.0/8, [::1], localhost), as used by tests and the mock
/// server. NULL or "" restores the default.
///
/// # Safety
/// `config` is NULL or a live configuration; `value` is NULL or a NUL-terminated string.
///
/// Thread-safety: must not race with other uses of the same configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_base_url(
    config: *mut wxface_config,
    value: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { set_config_opt_str(config, value, "base_url", |c, v| c.base_url = v) }
}

/// Sets the APIv2 key (in service-provider mode: the provider's key): exactly 32 printable
/// ASCII characters, NUL-terminated. The library keeps its own copy, wipes it when the
/// configuration or client is freed, and never prints it. Wipe your copy once it is set.
///
/// # Safety
/// `config` is NULL or a live configuration; `key` is NULL or a NUL-terminated string.
///
/// Thread-safety: must not race with other uses of the same configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_key(
    config: *mut wxface_config,
    key: *const c_char,
) -> wxface_status {
    guard(|| {
        // SAFETY: checked for NULL; contract above.
        let config = unsafe { arg_mut(config, "config") }?;
        if key.is_null() {
            return Err(Error::invalid("api_key", "is NULL").into());
        }
        // SAFETY: non-NULL and NUL-terminated per the contract.
        let bytes = unsafe { std::ffi::CStr::from_ptr(key) }.to_bytes();
        config.key = Some(ApiKey::from_bytes(bytes)?);
        Ok(())
    })
}

/// Sets the signature algorithm: `WXFACE_SIGN_HMAC_SHA256` (default) or `WXFACE_SIGN_MD5`.
///
/// # Safety
/// `config` is NULL or a live configuration.
///
/// Thread-safety: must not race with other uses of the same configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_sign_type(
    config: *mut wxface_config,
    sign_type: u32,
) -> wxface_status {
    guard(|| {
        // SAFETY: checked for NULL; contract above.
        let config = unsafe { arg_mut(config, "config") }?;
        config.sign_type = match sign_type {
            WXFACE_SIGN_HMAC_SHA256 => SignType::HmacSha256,
            WXFACE_SIGN_MD5 => SignType::Md5,
            other => {
                return Err(Error::invalid(
                    "sign_type",
                    format!("{other} is not a WXFACE_SIGN_* value"),
                )
                .into());
            }
        };
        Ok(())
    })
}

/// Sets the connect timeout and the overall timeout of one call, in milliseconds (defaults
/// 5000 and 10000). Both must be greater than zero; a connect timeout above the overall one is
/// capped to it.
///
/// # Safety
/// `config` is NULL or a live configuration.
///
/// Thread-safety: must not race with other uses of the same configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_timeouts(
    config: *mut wxface_config,
    connect_timeout_ms: u32,
    timeout_ms: u32,
) -> wxface_status {
    guard(|| {
        // SAFETY: checked for NULL; contract above.
        let config = unsafe { arg_mut(config, "config") }?;
        if connect_timeout_ms == 0 || timeout_ms == 0 {
            return Err(Error::invalid("timeout", "must be greater than zero").into());
        }
        config.connect_timeout = Some(Duration::from_millis(connect_timeout_ms.into()));
        config.timeout = Some(Duration::from_millis(timeout_ms.into()));
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Client

/// Validates `config` and creates a client from it. The configuration is copied: it may be
/// freed or changed afterwards without affecting the client.
///
/// On success stores the new client in `*out` (the caller owns it: free with
/// `wxface_client_free`). On failure `*out` is set to NULL (when `out` is not NULL) and the
/// message names the offending field.
///
/// # Safety
/// `config` is NULL or a live configuration; `out` is NULL or points to writable storage.
///
/// Thread-safety: safe from any thread, provided `config` is not being modified meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_client_new(
    config: *const wxface_config,
    out: *mut *mut wxface_client,
) -> wxface_status {
    if !out.is_null() {
        // SAFETY: non-NULL, writable per the contract.
        unsafe { *out = ptr::null_mut() };
    }
    guard(|| {
        // SAFETY: checked for NULL; contract above.
        let config = unsafe { arg_ref(config, "config") }?;
        if out.is_null() {
            return Err(Error::invalid("out", "is NULL").into());
        }
        let client = Client::new(config.to_config()?)?;
        // SAFETY: non-NULL, writable per the contract.
        unsafe { *out = Box::into_raw(Box::new(wxface_client { client })) };
        Ok(())
    })
}

/// Frees a client, closing its connections and wiping its key. NULL is ignored.
///
/// # Safety
/// `client` is NULL or was returned by `wxface_client_new` and is not used afterwards.
///
/// Thread-safety: no other thread may be using the client (wait for calls in flight to
/// return first).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_client_free(client: *mut wxface_client) {
    if !client.is_null() {
        // SAFETY: created by Box::into_raw in wxface_client_new, freed once per the contract.
        guard_value((), || drop(unsafe { Box::from_raw(client) }));
    }
}

// ---------------------------------------------------------------------------------------------
// Request

/// Creates an empty request. Set store_id, store_name, device_id and rawdata (required) and
/// optionally attach and now.
///
/// Ownership: the caller frees it with `wxface_request_free`. Returns NULL only if an internal
/// error occurred.
///
/// Thread-safety: safe from any thread; the object must not be modified from two threads at
/// once.
#[unsafe(no_mangle)]
pub extern "C" fn wxface_request_new() -> *mut wxface_request {
    guard_ptr(|| {
        Box::into_raw(Box::new(wxface_request {
            request: AuthinfoRequest::new("", "", "", ""),
        }))
    })
}

/// Frees a request (its rawdata is wiped). NULL is ignored.
///
/// # Safety
/// `request` is NULL or was returned by `wxface_request_new` and is not used afterwards.
///
/// Thread-safety: must not race with any other use of the same object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_request_free(request: *mut wxface_request) {
    if !request.is_null() {
        guard_value((), || {
            // SAFETY: created by Box::into_raw in wxface_request_new, freed once per the contract.
            let mut r = unsafe { Box::from_raw(request) };
            r.request.rawdata.zeroize();
        });
    }
}

/// Shared body of the request's string setters.
///
/// # Safety
/// `request` is NULL or a live request; `value` is NULL or a NUL-terminated string.
unsafe fn set_request_str(
    request: *mut wxface_request,
    value: *const c_char,
    label: &'static str,
    assign: impl FnOnce(&mut AuthinfoRequest, &str),
) -> wxface_status {
    guard(|| {
        // SAFETY: checked for NULL; forwarded contract.
        let request = unsafe { arg_mut(request, "request") }?;
        let value = unsafe { arg_str(value, label) }?;
        assign(&mut request.request, value);
        Ok(())
    })
}

/// Sets `store_id` (merchant-defined store number, at most 32 characters). Required.
///
/// The value is copied. Rules (length, no emoji, no control characters) are checked by
/// `wxface_get_authinfo`, which names the field it refuses.
///
/// # Safety
/// `request` is NULL or a live request; `value` is NULL or a NUL-terminated string.
///
/// Thread-safety: must not race with other uses of the same request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_request_set_store_id(
    request: *mut wxface_request,
    value: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { set_request_str(request, value, "store_id", |r, v| r.store_id = v.to_owned()) }
}

/// Sets `store_name` (UTF-8, e.g. Chinese; at most 128 characters). Required.
///
/// The value is copied. Rules (length, no emoji, no control characters) are checked by
/// `wxface_get_authinfo`, which names the field it refuses.
///
/// # Safety
/// `request` is NULL or a live request; `value` is NULL or a NUL-terminated string.
///
/// Thread-safety: must not race with other uses of the same request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_request_set_store_name(
    request: *mut wxface_request,
    value: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe {
        set_request_str(request, value, "store_name", |r, v| {
            r.store_name = v.to_owned()
        })
    }
}

/// Sets `device_id` (merchant-defined terminal number, at most 32 characters). Required.
///
/// The value is copied. Rules (length, no emoji, no control characters) are checked by
/// `wxface_get_authinfo`, which names the field it refuses.
///
/// # Safety
/// `request` is NULL or a live request; `value` is NULL or a NUL-terminated string.
///
/// Thread-safety: must not race with other uses of the same request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_request_set_device_id(
    request: *mut wxface_request,
    value: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe {
        set_request_str(request, value, "device_id", |r, v| {
            r.device_id = v.to_owned()
        })
    }
}

/// Sets `rawdata`: the face SDK's init data, passed through byte for byte (at most 2048
/// characters). Required. Never logged.
///
/// The value is copied. Rules (length, no emoji, no control characters) are checked by
/// `wxface_get_authinfo`, which names the field it refuses.
///
/// # Safety
/// `request` is NULL or a live request; `value` is NULL or a NUL-terminated string.
///
/// Thread-safety: must not race with other uses of the same request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_request_set_rawdata(
    request: *mut wxface_request,
    value: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe {
        set_request_str(request, value, "rawdata", |r, v| {
            r.rawdata.zeroize();
            r.rawdata = v.to_owned();
        })
    }
}

/// Sets `attach` (optional free-form data, JSON by convention). "" clears it.
///
/// The value is copied. Rules (length, no emoji, no control characters) are checked by
/// `wxface_get_authinfo`, which names the field it refuses.
///
/// # Safety
/// `request` is NULL or a live request; `value` is NULL or a NUL-terminated string.
///
/// Thread-safety: must not race with other uses of the same request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_request_set_attach(
    request: *mut wxface_request,
    value: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe {
        set_request_str(request, value, "attach", |r, v| {
            r.attach = Some(v.to_owned()).filter(|s| !s.is_empty())
        })
    }
}

/// Sets `now` in Unix seconds (10 digits). By default the current system time is sent; set it
/// only if the terminal keeps time elsewhere. 0 restores the default. A millisecond value is
/// refused by `wxface_get_authinfo`.
///
/// # Safety
/// `request` is NULL or a live request.
///
/// Thread-safety: must not race with other uses of the same request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_request_set_now(
    request: *mut wxface_request,
    now: i64,
) -> wxface_status {
    guard(|| {
        // SAFETY: checked for NULL; contract above.
        let r = unsafe { arg_mut(request, "request") }?;
        r.request.now = (now != 0).then_some(now);
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Calls

/// Shared body of the calls: resets `*out`, checks the arguments, runs `call` and stores its
/// result in `*out`.
///
/// # Safety
/// `out` is NULL or writable; `call` dereferences only pointers checked by [`arg_ref`].
unsafe fn call_into(
    out: *mut *mut wxface_authinfo,
    call: impl FnOnce() -> Result<AuthinfoResult, Failure>,
) -> wxface_status {
    if !out.is_null() {
        // SAFETY: non-NULL, writable per the contract.
        unsafe { *out = ptr::null_mut() };
    }
    guard(|| {
        if out.is_null() {
            return Err(Error::invalid("out", "is NULL").into());
        }
        let info = wxface_authinfo::new(call()?);
        // SAFETY: non-NULL, writable per the contract.
        unsafe { *out = Box::into_raw(Box::new(info)) };
        Ok(())
    })
}

/// `wxface_get_authinfo_ex` flag: ask WeChat even if a fresh authinfo is cached (the new one
/// replaces it).
pub const WXFACE_CALL_FORCE_REFRESH: u32 = 1;
/// `wxface_get_authinfo_ex` flag: neither read nor fill the client's authinfo cache.
pub const WXFACE_CALL_NO_CACHE: u32 = 2;

/// Exchanges the request's rawdata for a verified authinfo: validates the request, signs it,
/// POSTs it over HTTPS, verifies the signed answer. With the client's cache on (the default),
/// a cached authinfo for the same identity (appid, mch_id, sub ids, store_id, device_id) is
/// returned while it is fresh; see `wxface_authinfo_from_cache`.
///
/// On `WXFACE_OK` stores the result in `*out` (the caller owns it: free with
/// `wxface_authinfo_free`). On failure `*out` is NULL and `wxface_last_error_message()` (plus
/// `wxface_last_error_return_code()`/`_return_msg()` for `WXFACE_ERR_REMOTE`) says why. Blocks
/// for at most the configured overall timeout, retries included.
///
/// # Safety
/// `client` and `request` are NULL or live objects of this library; `out` is NULL or points to
/// writable storage.
///
/// Thread-safety: many threads may call this at once on the same client (with different
/// requests, or the same request if nobody modifies it meanwhile).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_get_authinfo(
    client: *const wxface_client,
    request: *const wxface_request,
    out: *mut *mut wxface_authinfo,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { wxface_get_authinfo_ex(client, request, 0, out) }
}

/// `wxface_get_authinfo` with `flags`: 0 or a combination of `WXFACE_CALL_FORCE_REFRESH` and
/// `WXFACE_CALL_NO_CACHE`. Unknown flag bits give `WXFACE_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// As for `wxface_get_authinfo`.
///
/// Thread-safety: as for `wxface_get_authinfo`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_get_authinfo_ex(
    client: *const wxface_client,
    request: *const wxface_request,
    flags: u32,
    out: *mut *mut wxface_authinfo,
) -> wxface_status {
    // SAFETY: forwarded contract; pointers are checked before use.
    unsafe {
        call_into(out, || {
            let client = arg_ref(client, "client")?;
            let request = arg_ref(request, "request")?;
            if flags & !(WXFACE_CALL_FORCE_REFRESH | WXFACE_CALL_NO_CACHE) != 0 {
                return Err(Error::invalid("flags", format!("unknown bits in {flags:#x}")).into());
            }
            let options = CallOptions {
                force_refresh: flags & WXFACE_CALL_FORCE_REFRESH != 0,
                use_cache: flags & WXFACE_CALL_NO_CACHE == 0,
            };
            Ok(client
                .client
                .get_authinfo_with(&request.request, &options)?)
        })
    }
}

/// One call without a client handle: builds a client from `config`, calls, and drops it (so
/// nothing is cached and no connection is reused). Use `wxface_client_new` +
/// `wxface_get_authinfo` when calling more than once. Ownership and errors as for
/// `wxface_get_authinfo`.
///
/// # Safety
/// As for `wxface_get_authinfo`, with `config` NULL or a live configuration.
///
/// Thread-safety: safe from any thread, provided `config` and `request` are not being modified
/// meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_get_authinfo_oneshot(
    config: *const wxface_config,
    request: *const wxface_request,
    out: *mut *mut wxface_authinfo,
) -> wxface_status {
    // SAFETY: forwarded contract; pointers are checked before use.
    unsafe {
        call_into(out, || {
            let config = arg_ref(config, "config")?;
            let request = arg_ref(request, "request")?;
            let client = Client::new(config.to_config()?)?;
            Ok(client.get_authinfo_with(&request.request, &CallOptions::default())?)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Result

/// Frees a result, wiping the authinfo from memory. NULL is ignored.
///
/// # Safety
/// `info` is NULL or was returned through `wxface_get_authinfo*` and is not used afterwards
/// (strings borrowed from it become invalid).
///
/// Thread-safety: must not race with any other use of the same object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_free(info: *mut wxface_authinfo) {
    if !info.is_null() {
        // SAFETY: created by Box::into_raw in deliver(), freed once per the contract.
        guard_value((), || drop(unsafe { Box::from_raw(info) }));
    }
}

/// Shared body of the string getters.
///
/// # Safety
/// `info` is NULL or a live result.
unsafe fn info_str(
    info: *const wxface_authinfo,
    field: impl FnOnce(&wxface_authinfo) -> &CString,
) -> *const c_char {
    // SAFETY: contract above.
    unsafe { info.as_ref() }.map_or(ptr::null(), |i| field(i).as_ptr())
}

/// The authinfo credential to hand to the face SDK (NUL-terminated ASCII). Treat it as a
/// secret: do not log it.
///
/// Ownership: borrowed from `info`; valid until `wxface_authinfo_free(info)`. NULL if `info`
/// is NULL.
///
/// # Safety
/// `info` is NULL or a live result.
///
/// Thread-safety: safe from any thread while `info` is alive.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_value(info: *const wxface_authinfo) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { info_str(info, |i| &i.authinfo) }
}

/// The appid echoed by WeChat (equal to the configured one).
///
/// Ownership: borrowed from `info`; valid until `wxface_authinfo_free(info)`. NULL if `info`
/// is NULL.
///
/// # Safety
/// `info` is NULL or a live result.
///
/// Thread-safety: safe from any thread while `info` is alive.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_appid(info: *const wxface_authinfo) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { info_str(info, |i| &i.appid) }
}

/// The mch_id echoed by WeChat (equal to the configured one).
///
/// Ownership: borrowed from `info`; valid until `wxface_authinfo_free(info)`. NULL if `info`
/// is NULL.
///
/// # Safety
/// `info` is NULL or a live result.
///
/// Thread-safety: safe from any thread while `info` is alive.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_mch_id(info: *const wxface_authinfo) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { info_str(info, |i| &i.mch_id) }
}

/// The sub_appid echoed by WeChat, or "" when not in service-provider mode.
///
/// Ownership: borrowed from `info`; valid until `wxface_authinfo_free(info)`. NULL if `info`
/// is NULL.
///
/// # Safety
/// `info` is NULL or a live result.
///
/// Thread-safety: safe from any thread while `info` is alive.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_sub_appid(info: *const wxface_authinfo) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { info_str(info, |i| &i.sub_appid) }
}

/// The sub_mch_id echoed by WeChat, or "" when not in service-provider mode.
///
/// Ownership: borrowed from `info`; valid until `wxface_authinfo_free(info)`. NULL if `info`
/// is NULL.
///
/// # Safety
/// `info` is NULL or a live result.
///
/// Thread-safety: safe from any thread while `info` is alive.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_sub_mch_id(info: *const wxface_authinfo) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { info_str(info, |i| &i.sub_mch_id) }
}

/// Validity of the authinfo in seconds from receipt (3600 in practice); 0 if `info` is NULL.
///
/// # Safety
/// `info` is NULL or a live result.
///
/// Thread-safety: safe from any thread while `info` is alive.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_expires_in(info: *const wxface_authinfo) -> u32 {
    // SAFETY: contract above.
    unsafe { info.as_ref() }.map_or(0, |i| i.expires_in)
}

/// Copies the authinfo into the caller's buffer `buf` of `len` bytes, NUL-terminated, for
/// firmware that keeps it in its own storage. `*needed` (if not NULL) receives the size
/// required including the NUL. When `len` is too small nothing is written and
/// `WXFACE_ERR_BUFFER_TOO_SMALL` is returned; `buf` may be NULL with `len` 0 to query the size.
///
/// # Safety
/// `info` is NULL or a live result; `buf` is NULL or writable for `len` bytes; `needed` is
/// NULL or writable.
///
/// Thread-safety: safe from any thread while `info` is alive.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_copy(
    info: *const wxface_authinfo,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> wxface_status {
    guard(|| {
        // SAFETY: checked for NULL; contract above.
        let info = unsafe { arg_ref(info, "info") }?;
        let bytes = info.authinfo.as_bytes_with_nul();
        if !needed.is_null() {
            // SAFETY: non-NULL, writable per the contract.
            unsafe { *needed = bytes.len() };
        }
        if len < bytes.len() {
            return Err(Failure::BufferTooSmall {
                needed: bytes.len(),
            });
        }
        if buf.is_null() {
            return Err(Error::invalid("buf", "is NULL").into());
        }
        // SAFETY: buf is writable for len >= bytes.len() bytes; regions cannot overlap.
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr().cast::<c_char>(), buf, bytes.len()) };
        Ok(())
    })
}
