//! No secret outlives its use in freed memory: a wrapping global allocator scans every block
//! freed on the calling thread for the API key, the rawdata, the authinfo and the proxy
//! password while the client runs and after it is dropped: plain HTTP to a loopback server,
//! through an HTTP CONNECT proxy (password inline and separate), and HTTPS through a
//! tunnelling proxy. (The test's servers run on their own threads and are not scanned: they
//! are the other side of the wire.)
//!
//! One test per binary: the allocator and its counters are process-wide.

mod field_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use field_support::raw::*;
use field_support::*;
use wxface::{ApiKey, AuthinfoRequest, CallOptions, Client, Config};

struct Scanning;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
}

/// The byte strings looked for, set once before arming.
static NEEDLES: OnceLock<Vec<(&'static str, Vec<u8>)>> = OnceLock::new();
/// Hits per needle, and the size of the last block that held one.
static HITS: [AtomicUsize; 8] = [const { AtomicUsize::new(0) }; 8];
static HIT_SIZE: [AtomicUsize; 8] = [const { AtomicUsize::new(0) }; 8];

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

// SAFETY: every call is forwarded to the system allocator with the same arguments; the scan
// only reads the block being freed, which is valid for `layout.size()` bytes until freed.
unsafe impl GlobalAlloc for Scanning {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let armed = ARMED.try_with(Cell::get).unwrap_or(false);
        if armed && let Some(needles) = NEEDLES.get() {
            // SAFETY: `ptr` is a live block of `layout.size()` bytes that we allocated.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            for (i, (_, needle)) in needles.iter().enumerate() {
                if contains(block, needle) {
                    HITS[i].fetch_add(1, Ordering::SeqCst);
                    HIT_SIZE[i].store(layout.size(), Ordering::SeqCst);
                }
            }
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Scanning = Scanning;

const KEY: &str = wxface_mock::DEFAULT_KEY;
const SECRET_RAWDATA: &str = "RAWDATAsecretQUJDREVGR0hJSktMTU5PUFFSU1RVVldY0123456789+/=";
const SECRET_AUTHINFO: &str = "AUTHINFOsecretZZZ0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
const PROXY_PASSWORD: &str = "proxyPASSWORDsecret-0123456789";

fn hits() -> Vec<(&'static str, usize, usize)> {
    NEEDLES
        .get()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            (
                *name,
                HITS[i].load(Ordering::SeqCst),
                HIT_SIZE[i].load(Ordering::SeqCst),
            )
        })
        .collect()
}

/// A C string of a secret, and a way to wipe the test's own copy before it is freed.
fn c_secret(s: &str) -> std::ffi::CString {
    // Room for the NUL from the start: growing would free a copy.
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s.as_bytes());
    std::ffi::CString::new(v).unwrap()
}

fn wipe(c: std::ffi::CString) {
    zeroize::Zeroize::zeroize(&mut c.into_bytes());
}

// One SAFETY comment covers each short sequence of C calls on the same live handles.
#[allow(clippy::multiple_unsafe_ops_per_block)]
fn c_abi_calls(base: &str) {
    use std::ffi::CString;
    use std::ptr::null_mut;
    use wxface::ffi::*;
    let ok = |st: wxface_status| assert_eq!(st, WXFACE_OK, "status {st}");
    let s = |v: &str| CString::new(v).unwrap();
    let (key, rawdata) = (c_secret(KEY), c_secret(SECRET_RAWDATA));
    let cfg = wxface_config_new();
    let req = wxface_request_new();
    let mut client = null_mut();
    // SAFETY: live objects; every string lives for its call.
    unsafe {
        ok(wxface_config_set_mch_id(cfg, s(MCH_ID).as_ptr()));
        ok(wxface_config_set_appid(cfg, s(APPID).as_ptr()));
        ok(wxface_config_set_key(cfg, key.as_ptr()));
        ok(wxface_config_set_base_url(cfg, s(base).as_ptr()));
        ok(wxface_client_new(cfg, &mut client));
        wxface_config_free(cfg);
        ok(wxface_request_set_store_id(req, s("1001").as_ptr()));
        ok(wxface_request_set_store_name(req, s("store").as_ptr()));
        ok(wxface_request_set_device_id(req, s("POS-01").as_ptr()));
        ok(wxface_request_set_rawdata(req, rawdata.as_ptr()));
    }
    wipe(key);
    wipe(rawdata);
    let call = |flags: u32| {
        let mut info = null_mut();
        // SAFETY: live client and request.
        ok(unsafe { wxface_get_authinfo_ex(client, req, flags, &mut info) });
        info
    };
    let miss = call(0);
    let hit = call(0);
    // SAFETY: live client; results freed once, in this order: a hit after its entry left the
    // cache, a forced refresh's after the client is gone.
    unsafe {
        ok(wxface_client_clear_cache(client));
        wxface_authinfo_free(miss);
        let refreshed = call(0);
        let forced = call(WXFACE_CALL_FORCE_REFRESH);
        let uncached = call(WXFACE_CALL_NO_CACHE);
        wxface_authinfo_free(hit);
        wxface_authinfo_free(uncached);
        wxface_authinfo_free(refreshed);
        wxface_request_free(req);
        wxface_client_free(client);
        wxface_authinfo_free(forced);
    }
}

#[test]
fn secrets_are_wiped_before_their_memory_is_freed() {
    NEEDLES
        .set(vec![
            ("api key", KEY.as_bytes().to_vec()),
            // A 24-byte window of each: also catches partial copies.
            ("rawdata", SECRET_RAWDATA.as_bytes()[8..32].to_vec()),
            ("authinfo", SECRET_AUTHINFO.as_bytes()[8..32].to_vec()),
            ("proxy password", PROXY_PASSWORD.as_bytes()[5..25].to_vec()),
            ("authinfo over TLS", b"MOCKAUTHINFO".to_vec()),
        ])
        .unwrap();
    let server =
        RawServer::start(|_, s| respond(s, 200, "", &signed_success(SECRET_AUTHINFO, "3600", &[])));
    let base = server.base_url();

    ARMED.with(|a| a.set(true));
    {
        // The key is built from a heap String that the ApiKey takes over (and wipes).
        let key = ApiKey::new(String::from(KEY)).unwrap();
        let config = Config::builder(MCH_ID, APPID, key)
            .base_url(base.as_str())
            .build()
            .unwrap();
        let client = Client::new(config).unwrap();
        let request = AuthinfoRequest::new("1001", "store", "POS-01", String::from(SECRET_RAWDATA));
        // A miss, a hit, a forced refresh and an uncached call.
        for options in [
            CallOptions::default(),
            CallOptions::default(),
            CallOptions {
                force_refresh: true,
                use_cache: true,
            },
            CallOptions {
                force_refresh: false,
                use_cache: false,
            },
        ] {
            let mut r = client.get_authinfo_with(&request, &options).unwrap();
            assert_eq!(r.authinfo.authinfo.len(), SECRET_AUTHINFO.len());
            // What the caller received is the caller's to wipe.
            zeroize::Zeroize::zeroize(&mut r.authinfo);
        }
        client.clear_cache();
        client
            .get_authinfo(&request)
            .map(|mut a| zeroize::Zeroize::zeroize(&mut a))
            .unwrap();
        let mut request = request;
        zeroize::Zeroize::zeroize(&mut request);
        drop(request);
        drop(client);
    }
    ARMED.with(|a| a.set(false));
    assert_eq!(server.request_count(), 4);

    // The same through the C ABI, where results share the client's cached entry: a miss, hits
    // whose results outlive a clear of the cache and the client itself, a forced refresh and
    // an uncached call.
    ARMED.with(|a| a.set(true));
    c_abi_calls(&base);
    ARMED.with(|a| a.set(false));
    assert_eq!(server.request_count(), 8);

    // Through an HTTP CONNECT proxy with credentials, given separately and inline in the URL.
    let proxy = RawServer::start_raw(|stream, _| {
        // The CONNECT head, then the tunnelled request, answered by the "proxy" itself.
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match std::io::Read::read(stream, &mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let _ = std::io::Write::write_all(stream, b"HTTP/1.1 200 Connection established\r\n\r\n");
        let mut buf = [0u8; 8192];
        let _ = std::io::Read::read(stream, &mut buf);
        respond(
            stream,
            200,
            "",
            &signed_success(SECRET_AUTHINFO, "3600", &[]),
        );
    });
    let inline = format!("http://user:{PROXY_PASSWORD}@127.0.0.1:{}", proxy.port());
    let separate = format!("http://127.0.0.1:{}", proxy.port());
    ARMED.with(|a| a.set(true));
    for (url, credentials) in [(inline, false), (separate, true)] {
        let key = ApiKey::new(String::from(KEY)).unwrap();
        let mut builder = Config::builder(MCH_ID, APPID, key)
            .base_url("http://127.0.0.1:9")
            .proxy(url);
        if credentials {
            builder = builder.proxy_credentials("user", String::from(PROXY_PASSWORD));
        }
        let client = Client::new(builder.build().unwrap()).unwrap();
        let mut request =
            AuthinfoRequest::new("1001", "store", "POS-01", String::from(SECRET_RAWDATA));
        let mut a = client.get_authinfo(&request).unwrap();
        zeroize::Zeroize::zeroize(&mut a);
        zeroize::Zeroize::zeroize(&mut request);
        drop(client);
    }
    ARMED.with(|a| a.set(false));
    assert_eq!(proxy.request_count(), 2);

    // HTTPS through a tunnelling HTTP CONNECT proxy with credentials: the CONNECT (with the
    // password) goes through the plain TCP layer under TLS, whose buffers must be wiped too.
    let ca = wxface_mock::TestCa::new().unwrap();
    let tls = start(wxface_mock::MockConfig {
        tls: Some(ca.server_identity(&["127.0.0.1"]).unwrap()),
        ..wxface_mock::MockConfig::default()
    });
    let upstream = tls.addr();
    let tunnel = RawServer::start_raw(move |stream, _| {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match std::io::Read::read(stream, &mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let Ok(up) = std::net::TcpStream::connect(upstream) else {
            return;
        };
        let _ = std::io::Write::write_all(stream, b"HTTP/1.1 200 Connection established\r\n\r\n");
        let (mut down_r, mut up_w) = (stream.try_clone().unwrap(), up.try_clone().unwrap());
        let t = std::thread::spawn(move || {
            let _ = std::io::copy(&mut down_r, &mut up_w);
            let _ = up_w.shutdown(std::net::Shutdown::Write);
        });
        let mut up_r = up;
        let _ = std::io::copy(&mut up_r, stream);
        let _ = t.join();
    });
    ARMED.with(|a| a.set(true));
    {
        let key = ApiKey::new(String::from(KEY)).unwrap();
        let config = Config::builder(MCH_ID, APPID, key)
            .base_url(tls.base_url())
            .ca_pem(ca.ca_pem())
            .proxy(format!("http://127.0.0.1:{}", tunnel.port()))
            .proxy_credentials("user", String::from(PROXY_PASSWORD))
            .build()
            .unwrap();
        let client = Client::new(config).unwrap();
        let mut request =
            AuthinfoRequest::new("1001", "store", "POS-01", String::from(SECRET_RAWDATA));
        let mut a = client.get_authinfo(&request).unwrap();
        assert!(a.authinfo.starts_with("MOCKAUTHINFO"));
        zeroize::Zeroize::zeroize(&mut a);
        zeroize::Zeroize::zeroize(&mut request);
        drop(client);
    }
    ARMED.with(|a| a.set(false));
    assert_eq!(tls.request_count(), 1);
    // Known limit, not asserted: rustls decrypts records in place in its own receive buffer
    // and frees it without wiping, so the authinfo read over TLS can remain there (measured:
    // 2 blocks of 4096 bytes in this run's call). wxface has no handle on that buffer.
    let (tls_residue, found): (Vec<_>, Vec<_>) = hits()
        .into_iter()
        .filter(|(_, n, _)| *n > 0)
        .partition(|(name, _, _)| *name == "authinfo over TLS");
    eprintln!("inside rustls, not wiped: {tls_residue:?}");
    assert!(
        found.is_empty(),
        "secrets left in freed memory (name, blocks, last block size): {found:?}"
    );
}
