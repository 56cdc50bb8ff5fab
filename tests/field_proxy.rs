//! HTTP CONNECT (tinyproxy) and SOCKS5 (microsocks) proxies, real servers started on loopback
//! by the tests. The binaries come from Debian (`.ci/packages.txt`); a missing one fails the
//! test with instructions, it never skips.

mod field_support;

use field_support::proxy::{microsocks, tinyproxy};
use field_support::*;
use wxface::{Error, ErrorKind};
use wxface_mock::MockConfig;

#[test]
fn http_connect_proxy() {
    let server = start(MockConfig::default());
    let proxy = tinyproxy(None);
    let client = client_of(builder(&server).cache(false).proxy(proxy.url("http")));
    assert!(client.config().has_proxy());
    client
        .get_authinfo(&request(RAWDATA))
        .expect("through tinyproxy");
    let log = proxy.log();
    assert!(
        log.contains("CONNECT") && log.contains(&server.addr().port().to_string()),
        "the request went through the proxy: {log}"
    );
}

#[test]
fn http_connect_proxy_with_basic_auth() {
    let server = start(MockConfig::default());
    let proxy = tinyproxy(Some(("terminal", "s3cret-pw")));
    // Credentials in the URL…
    let url = format!("http://terminal:s3cret-pw@127.0.0.1:{}", proxy.port);
    client_of(builder(&server).cache(false).proxy(url))
        .get_authinfo(&request(RAWDATA))
        .expect("through tinyproxy with basic auth (URL)");
    // … or given separately.
    client_of(
        builder(&server)
            .cache(false)
            .proxy(proxy.url("http"))
            .proxy_credentials("terminal", "s3cret-pw"),
    )
    .get_authinfo(&request(RAWDATA))
    .expect("through tinyproxy with basic auth (credentials)");
    assert_eq!(server.request_count(), 2);
    // Without or with wrong credentials the proxy refuses (an HTTP status naming the proxy, not
    // retried: tests/hostile.rs counts), and no request reaches the server.
    for b in [
        builder(&server).proxy(proxy.url("http")),
        builder(&server)
            .proxy(proxy.url("http"))
            .proxy_credentials("terminal", "wrong"),
    ] {
        let err = client_of(b.cache(false).max_retries(0))
            .get_authinfo(&request(RAWDATA))
            .unwrap_err();
        // tinyproxy: 407 without credentials, 401 with wrong ones.
        assert_eq!(err.kind(), ErrorKind::HttpStatus, "{err:?}");
        assert!(
            matches!(err.http_status(), Some(401 | 407)) && err.to_string().contains("HTTP proxy"),
            "{err}"
        );
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
    assert_eq!(server.request_count(), 2);
}

#[test]
fn socks5_proxy() {
    let server = start(MockConfig::default());
    let proxy = microsocks(None);
    client_of(builder(&server).cache(false).proxy(proxy.url("socks5")))
        .get_authinfo(&request(RAWDATA))
        .expect("through microsocks");
    assert_eq!(server.request_count(), 1);
    // Proof that the traffic went through the proxy: stop it, and the same client fails.
    drop(proxy);
    let client = client_of(
        builder(&server)
            .cache(false)
            .max_retries(0)
            .proxy(format!("socks5://127.0.0.1:{}", refused_port())),
    );
    let err = client.get_authinfo(&request(RAWDATA)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err:?}");
    assert_eq!(server.request_count(), 1);
}

#[test]
fn socks5_proxy_with_auth() {
    let server = start(MockConfig::default());
    let proxy = microsocks(Some(("terminal", "s3cret-pw")));
    client_of(
        builder(&server)
            .cache(false)
            .proxy(proxy.url("socks5"))
            .proxy_credentials("terminal", "s3cret-pw"),
    )
    .get_authinfo(&request(RAWDATA))
    .expect("through microsocks with user/password");
    let err = client_of(
        builder(&server)
            .cache(false)
            .max_retries(0)
            .proxy(proxy.url("socks5"))
            .proxy_credentials("terminal", "wrong"),
    )
    .get_authinfo(&request(RAWDATA))
    .unwrap_err();
    // A refusal the same credentials would meet again: 407, final (SOCKS5 has no status).
    assert_eq!(err.kind(), ErrorKind::HttpStatus, "{err:?}");
    assert_eq!(err.http_status(), Some(407), "{err:?}");
    assert!(!err.is_transient(), "{err:?}");
    assert_eq!(server.request_count(), 1);
}

#[test]
fn proxy_settings_are_validated_and_never_echoed() {
    let b = || builder_for("https://127.0.0.1:1");
    for bad in [
        "127.0.0.1:3128",
        "https://127.0.0.1:3128",
        "ftp://p:1",
        "socks4://p:1",
    ] {
        let err = b().proxy(bad).build().unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { field: "proxy", .. }),
            "{bad}: {err:?}"
        );
    }
    let err = b().proxy_credentials("u", "secret-pw").build().unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { field: "proxy", .. }));
    let config = b()
        .proxy("http://user:secret-pw@127.0.0.1:3128")
        .build()
        .unwrap();
    assert!(config.has_proxy());
    assert!(!format!("{config:?}").contains("secret-pw"));
    let builder = b()
        .proxy("socks5://127.0.0.1:1080")
        .proxy_credentials("u", "secret-pw");
    assert!(!format!("{builder:?}").contains("secret-pw"));
    assert!(!b().proxy("").build().unwrap().has_proxy());
}
