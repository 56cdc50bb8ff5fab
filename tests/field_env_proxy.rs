//! Proxies come from the configuration only: the proxy environment variables are ignored, so a
//! loopback `http://` call (signed plaintext with the rawdata) can never be tunnelled out.
//! Alone in its test binary because it sets process-wide environment variables.

mod field_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use field_support::raw::*;
use field_support::*;
use wxface_mock::MockConfig;

#[test]
fn proxy_environment_variables_are_ignored() {
    // A "proxy" that counts every connection and answers garbage.
    let seen = Arc::new(AtomicUsize::new(0));
    let s = Arc::clone(&seen);
    let proxy = RawServer::start_raw(move |stream, _| {
        s.fetch_add(1, Ordering::SeqCst);
        let _ = std::io::Write::write_all(stream, b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
    });
    let url = format!("http://user:pw@127.0.0.1:{}", proxy.port());
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        // SAFETY: this test binary runs this single test; no other thread reads the
        // environment while it is set.
        unsafe { std::env::set_var(var, &url) };
    }
    // SAFETY: as above.
    unsafe { std::env::set_var("NO_PROXY", "") };

    let server = start(MockConfig::default());
    let client = client_of(builder(&server));
    client
        .get_authinfo(&request(RAWDATA))
        .expect("sent directly to the loopback server");
    assert_eq!(server.request_count(), 1);
    assert_eq!(
        seen.load(Ordering::SeqCst),
        0,
        "the environment proxy was used"
    );
    assert!(!client.config().has_proxy());
}
