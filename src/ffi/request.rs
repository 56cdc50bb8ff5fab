//! `wxface_request`: one authinfo request. Values are copied; `wxface_get_authinfo` validates
//! them and names the field it refuses.

use std::ffi::c_char;

use zeroize::Zeroize;

use super::convert::{arg_mut, arg_str, free_raw, into_raw};
use super::error::wxface_status;
use super::error::{guard, guard_ptr};
use crate::AuthinfoRequest;

/// One authinfo request.
pub struct wxface_request {
    request: AuthinfoRequest,
}

impl wxface_request {
    pub(super) fn get(&self) -> &AuthinfoRequest {
        &self.request
    }
}

impl Drop for wxface_request {
    fn drop(&mut self) {
        self.request.rawdata.zeroize();
    }
}

/// Creates an empty request. NULL only after an internal error.
#[unsafe(no_mangle)]
pub extern "C" fn wxface_request_new() -> *mut wxface_request {
    guard_ptr(|| {
        into_raw(wxface_request {
            request: AuthinfoRequest::new("", "", "", ""),
        })
    })
}

/// Frees a request, wiping its rawdata.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_request_free(request: *mut wxface_request) {
    // SAFETY: the caller's contract (NULL or a live request, freed once).
    unsafe { free_raw(request) }
}

/// Converts `value` and stores it with `assign`.
///
/// # Safety
/// `request` is NULL or a live request; `value` is NULL or a NUL-terminated string.
unsafe fn set(
    request: *mut wxface_request,
    value: *const c_char,
    field: &'static str,
    assign: impl FnOnce(&mut AuthinfoRequest, &str),
) -> wxface_status {
    guard(|| {
        // SAFETY: NULL or a live request (contract).
        let request = unsafe { arg_mut(request, "request") }?;
        // SAFETY: NULL or NUL-terminated (contract).
        let value = unsafe { arg_str(value, field) }?;
        assign(&mut request.request, value);
        Ok(())
    })
}

/// `store_id`: the merchant's store number. Required.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_request_set_store_id(
    request: *mut wxface_request,
    value: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe { set(request, value, "store_id", |r, v| r.store_id = v.to_owned()) }
}

/// `store_name` (UTF-8, e.g. Chinese). Required.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_request_set_store_name(
    request: *mut wxface_request,
    value: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe {
        set(request, value, "store_name", |r, v| {
            r.store_name = v.to_owned()
        })
    }
}

/// `device_id`: the merchant's terminal number. Required.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_request_set_device_id(
    request: *mut wxface_request,
    value: *const c_char,
) -> wxface_status {
    // SAFETY: forwarded contract.
    unsafe {
        set(request, value, "device_id", |r, v| {
            r.device_id = v.to_owned()
        })
    }
}

/// `rawdata` from the face SDK, byte for byte. Required. Never logged; wiped on free.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_request_set_rawdata(
    request: *mut wxface_request,
    value: *const c_char,
) -> wxface_status {
    let assign = |r: &mut AuthinfoRequest, v: &str| {
        r.rawdata.zeroize();
        r.rawdata = v.to_owned();
    };
    // SAFETY: forwarded contract.
    unsafe { set(request, value, "rawdata", assign) }
}

/// `attach` (optional free-form data); "" clears it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_request_set_attach(
    request: *mut wxface_request,
    value: *const c_char,
) -> wxface_status {
    let assign = |r: &mut AuthinfoRequest, v: &str| {
        r.attach = Some(v.to_owned()).filter(|s| !s.is_empty());
    };
    // SAFETY: forwarded contract.
    unsafe { set(request, value, "attach", assign) }
}

/// `now` in Unix seconds; 0 (default) sends the system time (corrected for a measured skew).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxface_request_set_now(
    request: *mut wxface_request,
    now: i64,
) -> wxface_status {
    guard(|| {
        // SAFETY: NULL or a live request (contract).
        let r = unsafe { arg_mut(request, "request") }?;
        r.request.now = (now != 0).then_some(now);
        Ok(())
    })
}
