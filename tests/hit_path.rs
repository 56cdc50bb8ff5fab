//! What a cache hit through the C ABI costs in allocations: exactly one (the returned
//! `wxface_authinfo`), and none to reset the last error after a failure. A wrapping global
//! allocator counts the blocks allocated on the calling thread while it is armed (the mock
//! server's threads are not counted). Counts, not times: nothing here depends on the machine's
//! speed.

// Each unsafe block below is a short sequence of C calls on the same live handles; its SAFETY
// comment covers the whole sequence.
#![allow(clippy::multiple_unsafe_ops_per_block)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::{CStr, CString};
use std::ptr;

use wxface::ffi::*;
use wxface_mock::{DEFAULT_KEY, MockServer};

struct Counting;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator with the same arguments; the
// counting only touches this thread's `Cell`s (const-initialized, so no allocation).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ARMED.try_with(Cell::get).unwrap_or(false) {
            let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ARMED.try_with(Cell::get).unwrap_or(false) {
            let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Allocations (and reallocations) made on this thread by `f`.
fn allocations(f: impl FnOnce()) -> usize {
    ALLOCS.with(|n| n.set(0));
    ARMED.with(|a| a.set(true));
    f();
    ARMED.with(|a| a.set(false));
    ALLOCS.with(Cell::get)
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn ok(st: wxface_status) {
    assert_eq!(st, WXFACE_OK, "status {st}");
}

struct Handles {
    client: *mut wxface_client,
    request: *mut wxface_request,
}

impl Drop for Handles {
    fn drop(&mut self) {
        // SAFETY: made by `setup`, freed once.
        unsafe {
            wxface_request_free(self.request);
            wxface_client_free(self.client);
        }
    }
}

/// A client on the in-process mock and a request, with the cache already filled.
fn setup(server: &MockServer) -> Handles {
    let cfg = wxface_config_new();
    let mut client = ptr::null_mut();
    let request = wxface_request_new();
    // SAFETY: `cfg` and `request` are live; every string lives for its call.
    unsafe {
        ok(wxface_config_set_mch_id(cfg, c("1900000109").as_ptr()));
        ok(wxface_config_set_appid(
            cfg,
            c("wx2421b1c4370ec43b").as_ptr(),
        ));
        ok(wxface_config_set_key(cfg, c(DEFAULT_KEY).as_ptr()));
        ok(wxface_config_set_base_url(
            cfg,
            c(&server.base_url()).as_ptr(),
        ));
        ok(wxface_client_new(cfg, &mut client));
        wxface_config_free(cfg);
        ok(wxface_request_set_store_id(request, c("1001").as_ptr()));
        ok(wxface_request_set_store_name(
            request,
            c("深圳南山科技园店").as_ptr(),
        ));
        ok(wxface_request_set_device_id(request, c("POS-01").as_ptr()));
        ok(wxface_request_set_rawdata(
            request,
            c(&"Qm9v".repeat(128)).as_ptr(),
        ));
    }
    let handles = Handles { client, request };
    let mut info = ptr::null_mut();
    // SAFETY: live handles; the result is freed once.
    unsafe {
        ok(wxface_get_authinfo(client, request, &mut info));
        assert!(
            !wxface_authinfo_from_cache(info),
            "the first call is a miss"
        );
        wxface_authinfo_free(info);
    }
    handles
}

/// One call that must be a cache hit; the result is read and freed.
fn hit(h: &Handles) {
    let mut info = ptr::null_mut();
    // SAFETY: live handles; the result is freed once.
    unsafe {
        ok(wxface_get_authinfo(h.client, h.request, &mut info));
        assert!(wxface_authinfo_from_cache(info));
        assert!(!wxface_authinfo_is_stale(info));
        let value = CStr::from_ptr(wxface_authinfo_value(info));
        assert!(value.to_bytes().starts_with(b"MOCKAUTHINFO"));
        assert_eq!(
            CStr::from_ptr(wxface_authinfo_mch_id(info)).to_bytes(),
            b"1900000109"
        );
        assert_eq!(
            CStr::from_ptr(wxface_authinfo_refresh_error_message(info)).to_bytes(),
            b""
        );
        wxface_authinfo_free(info);
    }
}

#[test]
fn a_hit_through_the_c_abi_allocates_only_its_result() {
    let server = MockServer::start(Default::default()).unwrap();
    let h = setup(&server);
    hit(&h); // Warm: thread-locals made on first use are not per-call costs.
    const CALLS: usize = 200;
    let n = allocations(|| {
        for _ in 0..CALLS {
            hit(&h);
        }
    });
    assert_eq!(n, CALLS, "allocations for {CALLS} cache hits");
    assert_eq!(
        server.request_count(),
        1,
        "every call after the first was a hit"
    );
}

#[test]
fn a_success_after_a_failure_allocates_nothing_to_reset_the_last_error() {
    let server = MockServer::start(Default::default()).unwrap();
    let h = setup(&server);
    hit(&h);
    // SAFETY: live handles; `out` NULL is refused (and recorded), not written.
    let failed = unsafe { wxface_get_authinfo(h.client, h.request, ptr::null_mut()) };
    assert_eq!(failed, WXFACE_ERR_INVALID_ARGUMENT);
    assert_eq!(wxface_last_error_status(), WXFACE_ERR_INVALID_ARGUMENT);
    let n = allocations(|| hit(&h));
    assert_eq!(
        n, 1,
        "the hit's result only; the reset of the last error allocates nothing"
    );
    assert_eq!(wxface_last_error_status(), WXFACE_OK);
    // SAFETY: a static or thread-local NUL-terminated string.
    let message = unsafe { CStr::from_ptr(wxface_last_error_message()) };
    assert_eq!(message.to_bytes(), b"");
}
