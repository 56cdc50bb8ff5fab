//! A cache hit through the C ABI: `wxface_get_authinfo` + `wxface_authinfo_free` on a client
//! whose cache already holds the authinfo, from 1, 2 and 4 threads on one client (same
//! store/device). For N threads the figure is the aggregate time per call (wall time ÷ total
//! calls), so perfect scaling divides it by N. The mock (in process) is only called once.
//!
//! `cache_hit/own_client_threads=2` is the control: two threads, each hitting its own client, so
//! the two share no data at all; if the shared client scales as well as this, nothing on the
//! hit path makes threads wait for each other.
//!
//! `machine/threads=N` runs a loop of register arithmetic (no memory shared, nothing from
//! wxface) the same way, so the table can show how much parallelism the machine gave this run:
//! on a shared 2-core machine another process's load caps any 2-thread scaling, the cache
//! hit's included.

// Each unsafe block below is a short sequence of C calls on the same live handles; its SAFETY
// comment covers the whole sequence.
#![allow(clippy::multiple_unsafe_ops_per_block)]

mod common;

use std::ffi::CString;
use std::ptr;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use wxface::ffi::*;

struct Handles {
    client: *mut wxface_client,
}
// SAFETY: a wxface_client may be used by many threads at once (header contract).
unsafe impl Sync for Handles {}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn ok(st: wxface_status) {
    assert_eq!(st, WXFACE_OK, "status {st}");
}

fn new_request() -> *mut wxface_request {
    let req = wxface_request_new();
    // SAFETY: `req` is live and the strings are NUL-terminated for the duration of each call.
    unsafe {
        ok(wxface_request_set_store_id(
            req,
            c(common::STORE_ID).as_ptr(),
        ));
        ok(wxface_request_set_store_name(
            req,
            c(common::STORE_NAME).as_ptr(),
        ));
        ok(wxface_request_set_device_id(
            req,
            c(common::DEVICE_ID).as_ptr(),
        ));
        ok(wxface_request_set_rawdata(
            req,
            c(&common::rawdata()).as_ptr(),
        ));
    }
    req
}

/// One cache hit; panics on anything else.
fn hit(client: *const wxface_client, req: *const wxface_request) {
    let mut info = ptr::null_mut();
    // SAFETY: live client and request; `info` receives an object we free.
    unsafe {
        ok(wxface_get_authinfo(client, req, &mut info));
        debug_assert!(wxface_authinfo_from_cache(info));
        wxface_authinfo_free(info);
    }
}

/// A client on `base_url` whose cache holds the authinfo.
fn warm_client(base_url: &str) -> Handles {
    let cfg = wxface_config_new();
    let mut client = ptr::null_mut();
    // SAFETY: `cfg` is live until freed below; strings live for each call.
    unsafe {
        ok(wxface_config_set_mch_id(cfg, c(common::MCH_ID).as_ptr()));
        ok(wxface_config_set_appid(cfg, c(common::APPID).as_ptr()));
        ok(wxface_config_set_key(cfg, c(common::KEY).as_ptr()));
        ok(wxface_config_set_base_url(cfg, c(base_url).as_ptr()));
        ok(wxface_client_new(cfg, &mut client));
        wxface_config_free(cfg);
    }
    let req = new_request();
    let mut info = ptr::null_mut();
    // SAFETY: live client and request; the result and the request are freed once.
    unsafe {
        ok(wxface_get_authinfo(client, req, &mut info));
        wxface_authinfo_free(info);
        wxface_request_free(req);
    }
    Handles { client }
}

/// Runs `work(thread index)` on `threads` threads started together; the wall time from the
/// start to the last thread's end, divided by `threads` (aggregate time per thread's work).
fn in_parallel(threads: usize, work: impl Fn(usize) + Sync) -> Duration {
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|i| {
                let (barrier, work) = (&barrier, &work);
                s.spawn(move || {
                    barrier.wait();
                    work(i);
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        for w in workers {
            w.join().unwrap();
        }
        start.elapsed() / threads as u32
    })
}

/// `iters` cache hits on `h`'s client with a request of this thread's own.
fn hits(h: &Handles, iters: u64) {
    let req = new_request();
    for _ in 0..iters {
        hit(h.client, req);
    }
    // SAFETY: made above, freed once.
    unsafe { wxface_request_free(req) };
}

fn benches(cr: &mut Criterion) {
    let server = wxface_mock::MockServer::start(Default::default()).unwrap();
    let shared = warm_client(&server.base_url());
    let req = new_request();
    let mut info = ptr::null_mut();
    // SAFETY: live client and request; the result is freed once.
    unsafe {
        ok(wxface_get_authinfo(shared.client, req, &mut info));
        assert!(
            wxface_authinfo_from_cache(info),
            "the call after warm_client must be a cache hit"
        );
        wxface_authinfo_free(info);
    }
    let mut machine = cr.benchmark_group("machine");
    for threads in [1usize, 2] {
        machine.bench_function(format!("threads={threads}"), |b| {
            b.iter_custom(|iters| {
                in_parallel(threads, |seed| {
                    let mut x = seed as u64 + 1;
                    for _ in 0..iters {
                        // A few hundred cycles (a cache hit is of that order), all in registers.
                        for _ in 0..200 {
                            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                        }
                        x = std::hint::black_box(x);
                    }
                })
            })
        });
    }
    machine.finish();
    let mut group = cr.benchmark_group("cache_hit");
    group.bench_function("threads=1", |b| b.iter(|| hit(shared.client, req)));
    for threads in [2usize, 4] {
        group.bench_function(format!("threads={threads}"), |b| {
            b.iter_custom(|iters| in_parallel(threads, |_| hits(&shared, iters)))
        });
    }
    let own = [
        warm_client(&server.base_url()),
        warm_client(&server.base_url()),
    ];
    group.bench_function("own_client_threads=2", |b| {
        b.iter_custom(|iters| in_parallel(own.len(), |i| hits(&own[i], iters)))
    });
    group.finish();
    assert_eq!(
        server.request_count(),
        1 + own.len(),
        "every benchmarked call was a cache hit"
    );
    // SAFETY: made above or by warm_client, each freed once.
    unsafe {
        wxface_request_free(req);
        for h in own.iter().chain([&shared]) {
            wxface_client_free(h.client);
        }
    }
}

criterion_group! {
    name = cache_hit;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(cache_hit);
