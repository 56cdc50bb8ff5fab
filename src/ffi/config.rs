//! `wxface_config`: a [`ConfigBuilder`] behind an opaque pointer. Each setter converts its C
//! arguments and calls the builder's setter of the same name; `wxface_client_new` (or
//! `wxface_get_authinfo_oneshot`) builds and so validates, naming the field it refuses.
//! Defaults and limits are the core's; docs/field.md lists them.

use std::ffi::{c_char, c_void};
use std::time::Duration;

use super::convert::{arg_bytes, arg_mut, arg_opt_str, arg_str, free_raw, into_raw};
use super::error::wxface_status;
use super::error::{guard, guard_ptr};
use super::log::{level, log_fn, wxface_log_fn};
use crate::error::Error;
use crate::{ApiKey, CacheOptions, ConfigBuilder, SignType, TrustStore};

/// A configuration under construction. The client copies it: free or reuse it afterwards.
pub struct wxface_config {
    builder: ConfigBuilder,
}

impl wxface_config {
    /// The validated configuration (the builder stays as it is for further use).
    pub(super) fn build(&self) -> Result<crate::Config, Error> {
        self.builder.clone().build()
    }
}

/// Sign requests with HMAC-SHA256 (the default).
pub const WXFACE_SIGN_HMAC_SHA256: u32 = 0;
/// Sign requests with MD5.
pub const WXFACE_SIGN_MD5: u32 = 1;

/// Converts the arguments with `convert`, then applies `apply` to the builder. A conversion
/// failure leaves the configuration unchanged.
///
/// # Safety
/// `config` is NULL or a live configuration not used concurrently.
unsafe fn set<V>(
    config: *mut wxface_config,
    convert: impl FnOnce() -> Result<V, Error>,
    apply: impl FnOnce(ConfigBuilder, V) -> ConfigBuilder,
) -> wxface_status {
    guard(|| {
        // SAFETY: checked for NULL; the caller's contract.
        let config = unsafe { arg_mut(config, "config") }?;
        let value = convert()?;
        config.builder = apply(std::mem::take(&mut config.builder), value);
        Ok(())
    })
}

/// [`set`] for a string argument; with `optional`, NULL reads as "" ("not set").
///
/// # Safety
/// `config` is NULL or a live configuration not used concurrently; `value` is NULL or a
/// NUL-terminated string.
unsafe fn set_str<'a>(
    config: *mut wxface_config,
    value: *const c_char,
    field: &'static str,
    optional: bool,
    apply: impl FnOnce(ConfigBuilder, &'a str) -> ConfigBuilder,
) -> wxface_status {
    let convert = || {
        if optional {
            // SAFETY: NULL or NUL-terminated (contract).
            unsafe { arg_opt_str(value, field) }
        } else {
            // SAFETY: as above.
            unsafe { arg_str(value, field) }
        }
    };
    // SAFETY: `config` is checked by `set`.
    unsafe { set(config, convert, apply) }
}

fn millis(v: u32) -> Duration {
    Duration::from_millis(v.into())
}

/// Creates an empty configuration: every option at its default, no merchant or key yet.
/// NULL only after an internal error.
#[unsafe(no_mangle)]
pub extern "C" fn wxface_config_new() -> *mut wxface_config {
    guard_ptr(|| {
        into_raw(wxface_config {
            builder: ConfigBuilder::new(),
        })
    })
}

/// Frees a configuration, wiping its copy of the key and of any proxy password.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_free(config: *mut wxface_config) {
    // SAFETY: the caller's contract (NULL or a live configuration, freed once).
    unsafe { free_raw(config) }
}

/// The merchant number (in service-provider mode the provider's). Required.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_mch_id(
    config: *mut wxface_config,
    value: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { set_str(config, value, "mch_id", false, ConfigBuilder::mch_id) }
}

/// The appid bound to the merchant. Required.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_appid(
    config: *mut wxface_config,
    value: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { set_str(config, value, "appid", false, ConfigBuilder::appid) }
}

/// The sub-merchant number (service-provider mode); NULL or "" clears it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_sub_mch_id(
    config: *mut wxface_config,
    value: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { set_str(config, value, "sub_mch_id", true, ConfigBuilder::sub_mch_id) }
}

/// The sub-merchant's appid (service-provider mode); NULL or "" clears it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_sub_appid(
    config: *mut wxface_config,
    value: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { set_str(config, value, "sub_appid", true, ConfigBuilder::sub_appid) }
}

/// The base URL (default: WeChat's payapp host; "http://" only for a loopback host); NULL or
/// "" restores the default.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_base_url(
    config: *mut wxface_config,
    value: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { set_str(config, value, "base_url", true, ConfigBuilder::base_url) }
}

/// The APIv2 key as issued (printable ASCII), checked here. Copied, wiped on free, never
/// printed: wipe your own copy once it is set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_key(
    config: *mut wxface_config,
    key: *const c_char,
) -> wxface_status {
    let convert = || {
        if key.is_null() {
            return Err(Error::invalid("api_key", "is NULL"));
        }
        // SAFETY: non-NULL and NUL-terminated per the contract. The bytes are not required to
        // be UTF-8 here, so that ApiKey gives the one message for every bad key.
        ApiKey::from_bytes(unsafe { std::ffi::CStr::from_ptr(key) }.to_bytes())
    };
    // SAFETY: `config` is checked by `set`.
    unsafe { set(config, convert, ConfigBuilder::key) }
}

/// The signature algorithm: `WXFACE_SIGN_HMAC_SHA256` (default) or `WXFACE_SIGN_MD5`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_sign_type(
    config: *mut wxface_config,
    sign_type: u32,
) -> wxface_status {
    let convert = || match sign_type {
        WXFACE_SIGN_HMAC_SHA256 => Ok(SignType::HmacSha256),
        WXFACE_SIGN_MD5 => Ok(SignType::Md5),
        other => Err(Error::invalid(
            "sign_type",
            format!("{other} is not a WXFACE_SIGN_* value"),
        )),
    };
    // SAFETY: `config` is checked by `set`.
    unsafe { set(config, convert, ConfigBuilder::sign_type) }
}

/// The connect timeout and the overall timeout of one call (every retry included), in ms.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_timeouts(
    config: *mut wxface_config,
    connect_timeout_ms: u32,
    timeout_ms: u32,
) -> wxface_status {
    let apply = |b: ConfigBuilder, (connect, total)| b.connect_timeout(connect).timeout(total);
    // SAFETY: `config` is checked by `set`.
    unsafe {
        set(
            config,
            || Ok((millis(connect_timeout_ms), millis(timeout_ms))),
            apply,
        )
    }
}

/// Adds a fallback base URL, tried after a transient failure of the previous one.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_add_fallback_base_url(
    config: *mut wxface_config,
    url: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe {
        set_str(
            config,
            url,
            "fallback_base_url",
            false,
            ConfigBuilder::fallback_base_url,
        )
    }
}

/// A bound on one attempt in ms, so a hanging host gives way to a retry or the next URL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_attempt_timeout_ms(
    config: *mut wxface_config,
    ms: u32,
) -> wxface_status {
    // SAFETY: `config` is checked by `set`.
    unsafe { set(config, || Ok(millis(ms)), ConfigBuilder::attempt_timeout) }
}

/// Idle connections kept per host for reuse; at least the threads calling one client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_max_idle_connections(
    config: *mut wxface_config,
    connections: u32,
) -> wxface_status {
    // SAFETY: `config` is checked by `set`.
    unsafe {
        set(
            config,
            || Ok(connections),
            ConfigBuilder::max_idle_connections,
        )
    }
}

/// Retries of transient failures and the backoff between them: the wait before
/// retry n is drawn from [b/2, b], b = min(initial_ms * 2^(n-1), max_ms).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_retries(
    config: *mut wxface_config,
    max_retries: u32,
    backoff_initial_ms: u32,
    backoff_max_ms: u32,
) -> wxface_status {
    let apply = |b: ConfigBuilder, (initial, max)| b.max_retries(max_retries).backoff(initial, max);
    let convert = || Ok((millis(backoff_initial_ms), millis(backoff_max_ms)));
    // SAFETY: `config` is checked by `set`.
    unsafe { set(config, convert, apply) }
}

/// Clock-skew correction on `PARAM_ERROR 非法的Now参数` (default true): see docs/field.md.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_clock_skew_correction(
    config: *mut wxface_config,
    enabled: bool,
) -> wxface_status {
    // SAFETY: `config` is checked by `set`.
    unsafe { set(config, || Ok(enabled), ConfigBuilder::clock_skew_correction) }
}

/// The authinfo cache (default on) and its refresh margin in seconds.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_cache(
    config: *mut wxface_config,
    enabled: bool,
    refresh_margin_secs: u32,
) -> wxface_status {
    let convert = || {
        Ok(CacheOptions {
            enabled,
            refresh_margin: (refresh_margin_secs != 0)
                .then(|| Duration::from_secs(refresh_margin_secs.into())),
        })
    };
    // SAFETY: `config` is checked by `set`.
    unsafe { set(config, convert, ConfigBuilder::cache_options) }
}

/// A proxy, "http://host:port" (HTTP CONNECT) or "socks5://host:port"; NULL or "" removes it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_proxy(
    config: *mut wxface_config,
    url: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { set_str(config, url, "proxy", true, ConfigBuilder::proxy) }
}

/// The proxy's user name and password (basic auth for HTTP CONNECT, user/password for SOCKS5).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_proxy_credentials(
    config: *mut wxface_config,
    username: *const c_char,
    password: *const c_char,
) -> wxface_status {
    let convert = || {
        // SAFETY: both are NULL or NUL-terminated (contract).
        let user = unsafe { arg_str(username, "proxy_username") }?;
        // SAFETY: as above.
        let password = unsafe { arg_str(password, "proxy_password") }?;
        Ok((user, password))
    };
    let apply = |b: ConfigBuilder, (user, password)| b.proxy_credentials(user, password);
    // SAFETY: `config` is checked by `set`.
    unsafe { set(config, convert, apply) }
}

/// Adds trusted roots from `len` bytes of PEM (CERTIFICATE blocks), besides the bundled ones
/// unless `wxface_config_set_builtin_roots(config, false)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_add_ca_pem(
    config: *mut wxface_config,
    pem: *const u8,
    len: usize,
) -> wxface_status {
    let convert = || {
        // SAFETY: `pem` is NULL or readable for `len` bytes (contract).
        unsafe { arg_bytes(pem, len, "ca_pem") }
    };
    // SAFETY: `config` is checked by `set`.
    unsafe { set(config, convert, ConfigBuilder::ca_pem) }
}

/// Adds trusted roots from a PEM file, read when the configuration is built.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_add_ca_file(
    config: *mut wxface_config,
    path: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { set_str(config, path, "ca_file", false, ConfigBuilder::ca_file) }
}

/// Whether the bundled Mozilla roots are trusted (default true).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_builtin_roots(
    config: *mut wxface_config,
    enabled: bool,
) -> wxface_status {
    // SAFETY: `config` is checked by `set`.
    unsafe { set(config, || Ok(enabled), ConfigBuilder::builtin_roots) }
}

/// Trust the bundled Mozilla roots (the default).
pub const WXFACE_TRUST_BUNDLED: u32 = 0;
/// Trust the device's store: on Android the system CA directory (`/system/etc/security/cacerts`,
/// or Conscrypt's on Android 14+), on Linux the distribution's bundle.
pub const WXFACE_TRUST_SYSTEM: u32 = 1;
/// Trust both the bundled and the system roots.
pub const WXFACE_TRUST_BOTH: u32 = 2;

/// Roots besides the custom CAs: `WXFACE_TRUST_BUNDLED` (default), `_SYSTEM` or `_BOTH`.
/// A library built with OpenSSL (`tls-openssl`) has no bundled roots: `_SYSTEM` is its default.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_trust_store(
    config: *mut wxface_config,
    store: u32,
) -> wxface_status {
    let convert = || {
        TrustStore::from_code(store).ok_or_else(|| {
            Error::invalid(
                "trust_store",
                format!("{store} is not a WXFACE_TRUST_* value"),
            )
        })
    };
    // SAFETY: `config` is checked by `set`.
    unsafe { set(config, convert, ConfigBuilder::trust_store) }
}

/// Reads the system store from `path` instead of the platform's location: a directory of PEM
/// files laid out like Android's, or a PEM bundle file.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_system_ca_path(
    config: *mut wxface_config,
    path: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe {
        set_str(
            config,
            path,
            "system_ca_path",
            false,
            ConfigBuilder::system_ca_path,
        )
    }
}

/// Android: also trust the CAs the user added in Settings (default false). Elsewhere it needs
/// `wxface_config_set_user_ca_path`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_user_cas(
    config: *mut wxface_config,
    enabled: bool,
) -> wxface_status {
    // SAFETY: `config` is checked by `set`.
    unsafe { set(config, || Ok(enabled), ConfigBuilder::user_cas) }
}

/// Reads the user-added CAs from `path` (a directory like Android's, or a bundle file) instead
/// of Android's location; implies `wxface_config_set_user_cas(config, true)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_user_ca_path(
    config: *mut wxface_config,
    path: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe {
        set_str(
            config,
            path,
            "user_ca_path",
            false,
            ConfigBuilder::user_ca_path,
        )
    }
}

/// The log callback (NULL removes it), its `user_data` (which must stay valid until every
/// client made from this configuration is freed) and the most verbose `WXFACE_LOG_*` level.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_log_callback(
    config: *mut wxface_config,
    callback: wxface_log_fn,
    user_data: *mut c_void,
    max_level: u32,
) -> wxface_status {
    let convert = || {
        let level = level(max_level)?;
        // SAFETY: the callback contract of wxface_log_fn, promised by the caller.
        Ok((callback.map(|f| unsafe { log_fn(f, user_data) }), level))
    };
    let apply = |b: ConfigBuilder, (f, level)| match f {
        Some(f) => b.logger(f).log_level(level),
        None => b.without_logger(),
    };
    // SAFETY: `config` is checked by `set`.
    unsafe { set(config, convert, apply) }
}

/// Relay mode: ask this wxface-relay base URL instead of WeChat; no key may be set, a token or
/// client certificate is required (docs/relay.md). NULL or "" returns to direct mode.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_relay_url(
    config: *mut wxface_config,
    url: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { set_str(config, url, "relay_url", true, ConfigBuilder::relay_url) }
}

/// Relay mode: the terminal's bearer token (`wxface-relay token add`); NULL or "" removes it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_relay_token(
    config: *mut wxface_config,
    token: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe {
        set_str(
            config,
            token,
            "relay_token",
            true,
            ConfigBuilder::relay_token,
        )
    }
}

/// Relay mode: client certificate chain and private key (PEM) for mutual TLS; the relay takes
/// the device id from the certificate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_config_set_relay_client_cert(
    config: *mut wxface_config,
    cert_pem: *const u8,
    cert_len: usize,
    key_pem: *const u8,
    key_len: usize,
) -> wxface_status {
    let convert = || {
        if cert_len == 0 && key_len == 0 {
            // The documented removal: NULL pointers are fine with zero lengths.
            return Ok((&[][..], &[][..]));
        }
        // SAFETY: each is NULL or readable for its length (contract).
        let cert = unsafe { arg_bytes(cert_pem, cert_len, "relay_client_cert") }?;
        // SAFETY: as above.
        let key = unsafe { arg_bytes(key_pem, key_len, "relay_client_key") }?;
        Ok((cert, key))
    };
    let apply = |b: ConfigBuilder, (cert, key): (&[u8], &[u8])| b.relay_client_cert(cert, key);
    // SAFETY: `config` is checked by `set`.
    unsafe { set(config, convert, apply) }
}
