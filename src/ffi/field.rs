//! C ABI of the field options: retries and failover, clock correction, cache, proxy, trust and
//! logging; and the getters that tell how a result was obtained.

use std::ffi::{CString, c_char, c_void};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use super::error::guard;
use super::handles::{wxface_authinfo, wxface_client, wxface_config};
use super::{arg_mut, arg_opt_str, arg_ref, arg_str, wxface_status};
use crate::error::Error;
use crate::{ConfigBuilder, Level};

/// Log level of `wxface_log_fn`: a call failed.
pub const WXFACE_LOG_ERROR: u32 = 1;
/// Log level: something degraded (a retry, a failover, a stale authinfo, a corrected clock).
pub const WXFACE_LOG_WARN: u32 = 2;
/// Log level: one line per call outcome and per cache refresh (the default maximum).
pub const WXFACE_LOG_INFO: u32 = 3;
/// Log level: each attempt and each cache hit.
pub const WXFACE_LOG_DEBUG: u32 = 4;

/// A log callback: `level` is a `WXFACE_LOG_*` value, `message` a NUL-terminated UTF-8 line
/// that is only valid during the call (copy it to keep it). Lines never contain the API key,
/// the authinfo, the rawdata or a proxy password.
///
/// It is called synchronously on the thread making the wxface call, possibly from several
/// threads at once when a client is shared, so it must be thread-safe and quick, and it must
/// not call wxface functions on the same client.
pub type wxface_log_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, level: u32, message: *const c_char)>;

/// One field option set through the C ABI, applied to the builder by `wxface_client_new`.
pub(crate) enum FieldOption {
    FallbackUrl(String),
    AttemptTimeout(Duration),
    Retries {
        max: u32,
        initial: Duration,
        max_backoff: Duration,
    },
    ClockSkewCorrection(bool),
    Cache {
        enabled: bool,
        margin: Option<Duration>,
    },
    Proxy(Option<String>),
    ProxyCredentials(String, Zeroizing<String>),
    CaPem(Vec<u8>),
    CaFile(PathBuf),
    BuiltinRoots(bool),
    Log(crate::LogFn, Level),
}

impl FieldOption {
    pub(crate) fn apply(&self, b: ConfigBuilder) -> ConfigBuilder {
        match self {
            FieldOption::FallbackUrl(url) => b.fallback_base_url(url),
            FieldOption::AttemptTimeout(d) => b.attempt_timeout(*d),
            FieldOption::Retries {
                max,
                initial,
                max_backoff,
            } => b.max_retries(*max).backoff(*initial, *max_backoff),
            FieldOption::ClockSkewCorrection(on) => b.clock_skew_correction(*on),
            FieldOption::Cache { enabled, margin } => {
                let b = b.cache(*enabled);
                match margin {
                    Some(m) => b.cache_refresh_margin(*m),
                    None => b,
                }
            }
            FieldOption::Proxy(url) => b.proxy(url.clone().unwrap_or_default()),
            FieldOption::ProxyCredentials(user, password) => {
                b.proxy_credentials(user, password.as_str())
            }
            FieldOption::CaPem(pem) => b.ca_pem(pem.clone()),
            FieldOption::CaFile(path) => b.ca_file(path),
            FieldOption::BuiltinRoots(on) => b.builtin_roots(*on),
            FieldOption::Log(f, level) => b.logger(f.clone()).log_level(*level),
        }
    }
}

/// Pushes an option onto a configuration.
///
/// # Safety
/// `config` is NULL or a live configuration not used concurrently.
unsafe fn push(
    config: *mut wxface_config,
    make: impl FnOnce() -> Result<FieldOption, Error>,
) -> wxface_status {
    guard(|| {
        // SAFETY: checked for NULL; forwarded contract.
        let config = unsafe { arg_mut(config, "config") }?;
        config.field.push(make()?);
        Ok(())
    })
}

/// Adds a fallback base URL, tried after a transient failure of the previous one (same rules
/// as `wxface_config_set_base_url`). The client then keeps using the URL that last worked.
/// Default: none.
///
/// # Safety
/// `config` is NULL or a live configuration; `url` is NULL or a NUL-terminated string.
///
/// Thread-safety: must not race with other uses of the same configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_add_fallback_base_url(
    config: *mut wxface_config,
    url: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe {
        push(config, || {
            Ok(FieldOption::FallbackUrl(
                arg_str(url, "fallback_base_url")?.to_owned(),
            ))
        })
    }
}

/// Sets a bound on one attempt in milliseconds, so a hanging host gives way to a retry or the
/// next URL. 0 (the default): an attempt may use what is left of the overall timeout.
///
/// # Safety
/// `config` is NULL or a live configuration.
///
/// Thread-safety: must not race with other uses of the same configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_attempt_timeout_ms(
    config: *mut wxface_config,
    ms: u32,
) -> wxface_status {
    guard(|| {
        // SAFETY: checked for NULL; contract above.
        let config = unsafe { arg_mut(config, "config") }?;
        config
            .field
            .retain(|o| !matches!(o, FieldOption::AttemptTimeout(_)));
        if ms != 0 {
            config
                .field
                .push(FieldOption::AttemptTimeout(Duration::from_millis(
                    ms.into(),
                )));
        }
        Ok(())
    })
}

/// Sets the retries of transient failures (connect/DNS failure, timeout, reset, truncated body,
/// HTTP 5xx, SYSTEMERROR): `max_retries` after the first attempt (default 2; 0 disables), and
/// the backoff, whose wait before retry n is drawn from [b/2, b] with
/// b = min(initial_ms * 2^(n-1), max_ms) (defaults 200 and 2000). No call exceeds the overall
/// timeout, waits included. Signature failures, PARAM_ERROR/ERROR and invalid arguments are
/// never retried.
///
/// # Safety
/// `config` is NULL or a live configuration.
///
/// Thread-safety: must not race with other uses of the same configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_retries(
    config: *mut wxface_config,
    max_retries: u32,
    backoff_initial_ms: u32,
    backoff_max_ms: u32,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe {
        push(config, || {
            if backoff_initial_ms > backoff_max_ms {
                return Err(Error::invalid(
                    "backoff",
                    "the initial backoff exceeds the maximum",
                ));
            }
            Ok(FieldOption::Retries {
                max: max_retries,
                initial: Duration::from_millis(backoff_initial_ms.into()),
                max_backoff: Duration::from_millis(backoff_max_ms.into()),
            })
        })
    }
}

/// Turns clock-skew correction on (the default) or off: on `PARAM_ERROR 非法的Now参数` the
/// client estimates its clock's offset from the response's HTTP Date header, retries once with
/// a corrected `now`, and keeps the offset for later calls (`wxface_client_clock_offset_secs`).
///
/// # Safety
/// `config` is NULL or a live configuration.
///
/// Thread-safety: must not race with other uses of the same configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_clock_skew_correction(
    config: *mut wxface_config,
    enabled: bool,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { push(config, || Ok(FieldOption::ClockSkewCorrection(enabled))) }
}

/// Configures the authinfo cache: `enabled` (default true) and the refresh margin in seconds
/// (a cached authinfo is refreshed once its remaining validity falls to it; 0 = the default,
/// 10 % of expires_in and at least 60 s).
///
/// # Safety
/// `config` is NULL or a live configuration.
///
/// Thread-safety: must not race with other uses of the same configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_cache(
    config: *mut wxface_config,
    enabled: bool,
    refresh_margin_secs: u32,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe {
        push(config, || {
            Ok(FieldOption::Cache {
                enabled,
                margin: (refresh_margin_secs != 0)
                    .then(|| Duration::from_secs(refresh_margin_secs.into())),
            })
        })
    }
}

/// Sets a proxy: "http://host:port" (HTTP CONNECT) or "socks5://host:port" (SOCKS5). NULL or ""
/// removes it (then the HTTPS_PROXY/ALL_PROXY environment variables apply, if any). Credentials
/// may be percent-encoded in the URL or set with `wxface_config_set_proxy_credentials`.
/// Validated by `wxface_client_new`; the password never appears in messages or logs.
///
/// # Safety
/// `config` is NULL or a live configuration; `url` is NULL or a NUL-terminated string.
///
/// Thread-safety: must not race with other uses of the same configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_proxy(
    config: *mut wxface_config,
    url: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe {
        push(config, || {
            Ok(FieldOption::Proxy(
                arg_opt_str(url, "proxy")?.map(str::to_owned),
            ))
        })
    }
}

/// Sets the proxy's user name and password (basic auth for HTTP CONNECT, user/password for
/// SOCKS5). Both are copied; the password is wiped when the configuration and client are freed.
///
/// # Safety
/// `config` is NULL or a live configuration; `username` and `password` are NULL or
/// NUL-terminated strings.
///
/// Thread-safety: must not race with other uses of the same configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_proxy_credentials(
    config: *mut wxface_config,
    username: *const c_char,
    password: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe {
        push(config, || {
            let user = arg_str(username, "proxy_username")?.to_owned();
            let password = Zeroizing::new(arg_str(password, "proxy_password")?.to_owned());
            Ok(FieldOption::ProxyCredentials(user, password))
        })
    }
}

/// Adds trusted root certificates from `len` bytes of PEM (one or more CERTIFICATE blocks), on
/// top of the bundled roots unless `wxface_config_set_builtin_roots(config, false)`. The bytes
/// are copied and parsed by `wxface_client_new`.
///
/// # Safety
/// `config` is NULL or a live configuration; `pem` is NULL or readable for `len` bytes.
///
/// Thread-safety: must not race with other uses of the same configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_add_ca_pem(
    config: *mut wxface_config,
    pem: *const u8,
    len: usize,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe {
        push(config, || {
            if pem.is_null() {
                return Err(Error::invalid("ca_pem", "is NULL"));
            }
            // SAFETY: readable for len bytes per the contract.
            Ok(FieldOption::CaPem(
                std::slice::from_raw_parts(pem, len).to_vec(),
            ))
        })
    }
}

/// Adds trusted root certificates from a PEM file, read by `wxface_client_new`.
///
/// # Safety
/// `config` is NULL or a live configuration; `path` is NULL or a NUL-terminated string.
///
/// Thread-safety: must not race with other uses of the same configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_add_ca_file(
    config: *mut wxface_config,
    path: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe {
        push(config, || {
            Ok(FieldOption::CaFile(PathBuf::from(arg_str(
                path, "ca_file",
            )?)))
        })
    }
}

/// Whether the bundled Mozilla roots are trusted (default true). With false, only roots added
/// with `wxface_config_add_ca_pem` / `wxface_config_add_ca_file` are.
///
/// # Safety
/// `config` is NULL or a live configuration.
///
/// Thread-safety: must not race with other uses of the same configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_builtin_roots(
    config: *mut wxface_config,
    enabled: bool,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { push(config, || Ok(FieldOption::BuiltinRoots(enabled))) }
}

/// Sets the log callback (NULL removes it) with its `user_data` and the most verbose level
/// passed to it (`WXFACE_LOG_ERROR` … `WXFACE_LOG_DEBUG`). The callback reports each attempt,
/// retry, failover, cache hit and refresh, clock correction and failure cause. `user_data` must
/// stay valid until every client made from this configuration is freed.
///
/// # Safety
/// `config` is NULL or a live configuration; `callback`, if not NULL, is safe to call from any
/// thread with `user_data` as described for `wxface_log_fn`.
///
/// Thread-safety: must not race with other uses of the same configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_log_callback(
    config: *mut wxface_config,
    callback: wxface_log_fn,
    user_data: *mut c_void,
    max_level: u32,
) -> wxface_status {
    let option = move || {
        let level = Level::from_u32(max_level).ok_or_else(|| {
            Error::invalid(
                "log_level",
                format!("{max_level} is not a WXFACE_LOG_* value"),
            )
        })?;
        let Some(callback) = callback else {
            return Ok(FieldOption::Log(
                Arc::new(|_: Level, _: &str| {}),
                Level::Error,
            ));
        };
        // The caller promised that user_data may be used from any thread.
        let user_data = user_data as usize;
        let f = move |level: Level, line: &str| {
            let line = CString::new(line.replace('\0', " ")).unwrap_or_default();
            // SAFETY: the callback contract of wxface_log_fn.
            unsafe { callback(user_data as *mut c_void, level.as_u32(), line.as_ptr()) };
        };
        Ok(FieldOption::Log(Arc::new(f), level))
    };
    // SAFETY: forwarded contract.
    unsafe { push(config, option) }
}

// ---------------------------------------------------------------------------------------------
// Client

/// Forgets every cached authinfo of `client`, so the next call for each identity asks WeChat.
///
/// # Safety
/// `client` is NULL or a live client.
///
/// Thread-safety: safe while other threads call `wxface_get_authinfo` on the same client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_client_clear_cache(client: *const wxface_client) -> wxface_status {
    guard(|| {
        // SAFETY: checked for NULL; contract above.
        unsafe { arg_ref(client, "client") }?.client.clear_cache();
        Ok(())
    })
}

/// The clock offset in seconds that `client` adds to the system time for `now` (non-zero after
/// a clock-skew correction); 0 if `client` is NULL.
///
/// # Safety
/// `client` is NULL or a live client.
///
/// Thread-safety: safe from any thread while `client` is alive.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_client_clock_offset_secs(client: *const wxface_client) -> i64 {
    // SAFETY: contract above.
    unsafe { client.as_ref() }.map_or(0, |c| c.client.clock_offset_secs())
}

// ---------------------------------------------------------------------------------------------
// Result

/// Reads one value of a result, `fallback` when `info` is NULL.
///
/// # Safety
/// `info` is NULL or a live result.
unsafe fn info_value<T>(
    info: *const wxface_authinfo,
    fallback: T,
    get: impl FnOnce(&wxface_authinfo) -> T,
) -> T {
    // SAFETY: contract above.
    unsafe { info.as_ref() }.map_or(fallback, get)
}

/// True when no request was sent for this result: a cached authinfo, or one obtained by a
/// concurrent call for the same identity. False if `info` is NULL.
///
/// # Safety
/// `info` is NULL or a live result.
///
/// Thread-safety: safe from any thread while `info` is alive.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_from_cache(info: *const wxface_authinfo) -> bool {
    // SAFETY: forwarded contract.
    unsafe { info_value(info, false, |i| i.from_cache) }
}

/// True when a refresh failed and a cached authinfo still within expires_in was returned
/// instead; `wxface_authinfo_refresh_error_status` / `_message` say why. False if NULL.
///
/// # Safety
/// `info` is NULL or a live result.
///
/// Thread-safety: safe from any thread while `info` is alive.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_is_stale(info: *const wxface_authinfo) -> bool {
    // SAFETY: forwarded contract.
    unsafe { info_value(info, false, |i| i.stale) }
}

/// The status of the refresh failure behind a stale result; `WXFACE_OK` otherwise.
///
/// # Safety
/// `info` is NULL or a live result.
///
/// Thread-safety: safe from any thread while `info` is alive.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_refresh_error_status(
    info: *const wxface_authinfo,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { info_value(info, 0, |i| i.refresh_error_status) }
}

/// The message of the refresh failure behind a stale result; "" otherwise, NULL if `info` is
/// NULL. Borrowed from `info`.
///
/// # Safety
/// `info` is NULL or a live result.
///
/// Thread-safety: safe from any thread while `info` is alive.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_refresh_error_message(
    info: *const wxface_authinfo,
) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { info_value(info, std::ptr::null(), |i| i.refresh_error_message.as_ptr()) }
}

/// Seconds of validity left now, on the monotonic clock (0 once expired or if `info` is NULL).
/// Refresh ahead of it: WeChat advises refreshing before expiry.
///
/// # Safety
/// `info` is NULL or a live result.
///
/// Thread-safety: safe from any thread while `info` is alive.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_remaining_secs(info: *const wxface_authinfo) -> u32 {
    // SAFETY: forwarded contract.
    unsafe {
        info_value(info, 0, |i| {
            let left = i
                .expires_at
                .saturating_duration_since(std::time::Instant::now());
            u32::try_from(left.as_secs()).unwrap_or(u32::MAX)
        })
    }
}

/// The clock offset (seconds) the client applied to `now` for this result.
///
/// # Safety
/// `info` is NULL or a live result.
///
/// Thread-safety: safe from any thread while `info` is alive.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_clock_offset_secs(info: *const wxface_authinfo) -> i64 {
    // SAFETY: forwarded contract.
    unsafe { info_value(info, 0, |i| i.clock_offset_secs) }
}

/// True when this call measured the clock skew and retried with a corrected `now`.
///
/// # Safety
/// `info` is NULL or a live result.
///
/// Thread-safety: safe from any thread while `info` is alive.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_clock_corrected(info: *const wxface_authinfo) -> bool {
    // SAFETY: forwarded contract.
    unsafe { info_value(info, false, |i| i.clock_corrected) }
}

/// HTTP attempts made by the call that produced this result (0 for a cache hit).
///
/// # Safety
/// `info` is NULL or a live result.
///
/// Thread-safety: safe from any thread while `info` is alive.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_authinfo_attempts(info: *const wxface_authinfo) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { info_value(info, 0, |i| i.attempts) }
}
