//! `wxface_client` and the calls made with it.

use super::authinfo::{keep, wxface_authinfo};
use super::config::wxface_config;
use super::convert::{arg_ref, clear_out, free_raw, into_raw, read};
use super::error::wxface_status;
use super::error::{Failure, guard};
use super::request::wxface_request;
use crate::client::SharedResult;
use crate::error::Error;
use crate::{CallOptions, Client};

/// A client: a validated configuration, its connections, its authinfo cache. Thread-safe.
pub struct wxface_client {
    client: Client,
}

/// `wxface_get_authinfo_ex` flag: ask WeChat even if a fresh authinfo is cached.
pub const WXFACE_CALL_FORCE_REFRESH: u32 = 1;
/// `wxface_get_authinfo_ex` flag: neither read nor fill the client's authinfo cache.
pub const WXFACE_CALL_NO_CACHE: u32 = 2;

/// Validates `config` and creates a client from a copy of it; on failure the message names the
/// field.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_client_new(
    config: *const wxface_config,
    out: *mut *mut wxface_client,
) -> wxface_status {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        let out = unsafe { clear_out(out) }?;
        // SAFETY: `config` is NULL or a live configuration (contract).
        let config = unsafe { arg_ref(config, "config") }?;
        let client = Client::keeping(config.build()?, keep)?;
        *out = into_raw(wxface_client { client });
        Ok(())
    })
}

/// Frees a client, closing its connections and wiping its key. No call may be in flight on it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_client_free(client: *mut wxface_client) {
    // SAFETY: the caller's contract (NULL or a live client, freed once).
    unsafe { free_raw(client) }
}

/// Runs a call and hands its result to C through `out`.
///
/// # Safety
/// `out` is NULL or writable.
unsafe fn call_into(
    out: *mut *mut wxface_authinfo,
    call: impl FnOnce() -> Result<SharedResult, Failure>,
) -> wxface_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let out = unsafe { clear_out(out) }?;
        crate::test_hook::maybe_panic();
        *out = into_raw(wxface_authinfo::new(call()?));
        Ok(())
    })
}

/// Exchanges the request's rawdata for a verified authinfo (or returns the fresh one cached
/// for the same appid, mch_id, sub ids, store_id and device_id). Blocks for at most the
/// configured overall timeout. Thread-safe: many threads may call it on one client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_get_authinfo(
    client: *const wxface_client,
    request: *const wxface_request,
    out: *mut *mut wxface_authinfo,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { wxface_get_authinfo_ex(client, request, 0, out) }
}

/// `wxface_get_authinfo` with `flags`: 0 or `WXFACE_CALL_*` values or-ed together.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_get_authinfo_ex(
    client: *const wxface_client,
    request: *const wxface_request,
    flags: u32,
    out: *mut *mut wxface_authinfo,
) -> wxface_status {
    let call = || {
        // SAFETY: NULL or a live client (contract).
        let client = unsafe { arg_ref(client, "client") }?;
        // SAFETY: NULL or a live request (contract).
        let request = unsafe { arg_ref(request, "request") }?;
        if flags & !(WXFACE_CALL_FORCE_REFRESH | WXFACE_CALL_NO_CACHE) != 0 {
            return Err(Error::invalid("flags", format!("unknown bits in {flags:#x}")).into());
        }
        let options = CallOptions {
            force_refresh: flags & WXFACE_CALL_FORCE_REFRESH != 0,
            use_cache: flags & WXFACE_CALL_NO_CACHE == 0,
        };
        Ok(client.client.get_shared(request.get(), &options)?)
    };
    // SAFETY: forwarded contract.
    unsafe { call_into(out, call) }
}

/// One call without a client handle: builds a client from `config`, calls, drops it (nothing
/// cached, no connection reused).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_get_authinfo_oneshot(
    config: *const wxface_config,
    request: *const wxface_request,
    out: *mut *mut wxface_authinfo,
) -> wxface_status {
    let call = || {
        // SAFETY: NULL or a live configuration (contract).
        let config = unsafe { arg_ref(config, "config") }?;
        // SAFETY: NULL or a live request (contract).
        let request = unsafe { arg_ref(request, "request") }?;
        let client = Client::keeping(config.build()?, keep)?;
        Ok(client.get_shared(request.get(), &CallOptions::default())?)
    };
    // SAFETY: forwarded contract.
    unsafe { call_into(out, call) }
}

/// Forgets every cached authinfo. Safe while other threads call on the client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_client_clear_cache(client: *const wxface_client) -> wxface_status {
    guard(|| {
        // SAFETY: NULL or a live client (contract).
        unsafe { arg_ref(client, "client") }?.client.clear_cache();
        Ok(())
    })
}

/// The clock offset in seconds the client adds to the system time (after a skew correction).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_client_clock_offset_secs(client: *const wxface_client) -> i64 {
    // SAFETY: NULL or a live client (contract).
    unsafe { read(client, 0, |c| c.client.clock_offset_secs()) }
}
