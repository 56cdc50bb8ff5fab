//! The TLS backends against the mock's HTTPS: the same file runs under rustls (`make test`'s
//! default build) and under the platform's OpenSSL (`cargo test --no-default-features
//! --features tls-openssl --test tls`, also in `make test`), and expects the same outcomes and
//! the same messages from both.

mod field_support;

use field_support::raw::RawServer;
use field_support::*;
use std::io::Write;
use wxface::{Error, ErrorKind, TrustStore};
use wxface_mock::{MockConfig, MockServer, TestCa, TlsIdentity};

fn https(identity: TlsIdentity) -> MockServer {
    start(MockConfig {
        tls: Some(identity),
        ..MockConfig::default()
    })
}

/// Trusts only `ca` (and no store of the machine), in either build.
fn only(ca: &TestCa, url: &str) -> wxface::ConfigBuilder {
    builder_for(url)
        .ca_pem(ca.ca_pem())
        .builtin_roots(false)
        .trust_store(TrustStore::System)
        .system_ca_path(decoy_store())
        .max_retries(2)
}

/// A "system store" holding one unrelated CA, so that no test depends on the machine's store.
/// Written once per test process: tests run in parallel, and one must not read the file while
/// another is still writing it.
fn decoy_store() -> std::path::PathBuf {
    static PATH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let path =
            std::env::temp_dir().join(format!("wxface-tls-decoy-{}.pem", std::process::id()));
        std::fs::write(&path, TestCa::named("decoy").unwrap().ca_pem()).unwrap();
        path
    })
    .clone()
}

fn tls_message(err: &Error) -> &str {
    match err {
        Error::Tls(m) => m,
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

#[test]
fn the_backend_is_the_one_the_build_asked_for() {
    let expected = if cfg!(feature = "tls-rustls") {
        TrustStore::Bundled
    } else {
        TrustStore::System
    };
    assert_eq!(TrustStore::default(), expected);
    let bundled = builder_for("https://127.0.0.1:1")
        .trust_store(TrustStore::Bundled)
        .build();
    if cfg!(feature = "tls-rustls") {
        bundled.unwrap();
    } else {
        let err = bundled.unwrap_err();
        assert!(
            matches!(
                &err,
                Error::InvalidArgument {
                    field: "trust_store",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("no bundled roots"), "{err}");
    }
}

#[test]
fn a_custom_ca_is_trusted_by_ip_address_and_host_name() {
    let ca = TestCa::new().unwrap();
    let server = https(ca.server_identity(&["localhost", "127.0.0.1"]).unwrap());
    let info = client_of(only(&ca, &server.base_url()))
        .get_authinfo(&request(RAWDATA))
        .expect("trusted through the custom CA (IP address)");
    assert!(info.authinfo.starts_with("MOCKAUTHINFO"));
    let by_name = format!("https://localhost:{}", server.addr().port());
    // Two calls on one client: the second reuses the TLS connection.
    let client = client_of(only(&ca, &by_name));
    client.get_authinfo(&request(RAWDATA)).unwrap();
    client.clear_cache();
    client.get_authinfo(&request(RAWDATA)).unwrap();
    assert_eq!(server.request_count(), 3);
    assert_eq!(server.connections_accepted(), 2);
}

#[test]
fn another_ca_is_not_trusted() {
    let ca = TestCa::new().unwrap();
    let server = https(ca.server_identity(&["127.0.0.1"]).unwrap());
    let other = TestCa::named("someone else").unwrap();
    let err = client_of(only(&other, &server.base_url()))
        .get_authinfo(&request(RAWDATA))
        .unwrap_err();
    assert_eq!(
        tls_message(&err),
        "server certificate rejected: not issued by a trusted root"
    );
    assert_eq!(err.kind(), ErrorKind::Tls);
    // Never retried, nothing sent.
    assert_eq!(server.connections_accepted(), 1);
    assert_eq!(server.request_count(), 0);
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    let ca = TestCa::new().unwrap();
    let server = https(ca.server_identity(&["payapp.example.com"]).unwrap());
    for url in [
        server.base_url(),
        format!("https://localhost:{}", server.addr().port()),
    ] {
        let err = client_of(only(&ca, &url))
            .get_authinfo(&request(RAWDATA))
            .unwrap_err();
        assert_eq!(
            tls_message(&err),
            "server certificate rejected: not valid for this host name",
            "{url}"
        );
    }
    assert_eq!(server.request_count(), 0);
}

#[test]
fn an_expired_certificate_is_refused() {
    let ca = TestCa::new().unwrap();
    let server = https(ca.expired_server_identity(&["127.0.0.1"]).unwrap());
    let err = client_of(only(&ca, &server.base_url()))
        .get_authinfo(&request(RAWDATA))
        .unwrap_err();
    assert_eq!(
        tls_message(&err),
        "server certificate rejected: expired (check the terminal clock)"
    );
    assert_eq!(server.connections_accepted(), 1);
}

#[test]
fn a_handshake_alert_names_the_alert() {
    // handshake_failure (40): what a server sends when it shares no cipher suite with us.
    let server = RawServer::start_raw(|stream, _| {
        let mut hello = [0u8; 5];
        if std::io::Read::read_exact(stream, &mut hello).is_ok() {
            let len = usize::from(u16::from_be_bytes([hello[3], hello[4]]));
            let mut rest = vec![0u8; len];
            let _ = std::io::Read::read_exact(stream, &mut rest);
        }
        let _ = stream.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40]);
    });
    let ca = TestCa::new().unwrap();
    let url = format!("https://127.0.0.1:{}", server.port());
    let err = client_of(only(&ca, &url))
        .get_authinfo(&request(RAWDATA))
        .unwrap_err();
    assert_eq!(
        tls_message(&err),
        "the server refused the handshake (alert HandshakeFailure)"
    );
    assert_eq!(server.request_count(), 1, "not retried");
}

#[test]
fn a_plain_http_server_on_an_https_url_is_a_tls_error() {
    // What a plain HTTP server answers to a ClientHello.
    let server = RawServer::start_raw(|stream, _| {
        let mut hello = [0u8; 5];
        let _ = std::io::Read::read_exact(stream, &mut hello);
        let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    });
    let url = format!("https://127.0.0.1:{}", server.port());
    let ca = TestCa::new().unwrap();
    let err = client_of(only(&ca, &url))
        .get_authinfo(&request(RAWDATA))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err:?}");
    assert!(err.to_string().len() < 200, "{err}");
    assert_eq!(server.request_count(), 1, "not retried");
}
