//! Custom trust roots over real TLS: the mock in HTTPS mode with a CA made at test time.

mod field_support;

use field_support::*;
use wxface::{Error, ErrorKind};
use wxface_mock::{MockConfig, MockServer, TestCa};

fn https_mock(ca: &TestCa, names: &[&str]) -> MockServer {
    start(MockConfig {
        tls: Some(ca.server_identity(names).unwrap()),
        ..MockConfig::default()
    })
}

#[test]
fn custom_ca_from_pem_bytes_or_file_succeeds() {
    let ca = TestCa::new().unwrap();
    let server = https_mock(&ca, &["localhost", "127.0.0.1"]);
    assert!(server.base_url().starts_with("https://127.0.0.1:"));

    // In addition to the bundled roots.
    let info = client_of(builder(&server).ca_pem(ca.ca_pem()))
        .get_authinfo(&request(RAWDATA))
        .expect("trusted through the custom CA");
    assert!(info.authinfo.starts_with("MOCKAUTHINFO"));

    // Instead of the bundled roots, from a file, with the host name form of the URL.
    let dir = std::env::temp_dir().join(format!("wxface-field-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ca.pem");
    std::fs::write(&path, ca.ca_pem()).unwrap();
    let url = format!("https://localhost:{}", server.addr().port());
    let client = client_of(builder_for(&url).ca_file(&path).builtin_roots(false));
    client.get_authinfo(&request(RAWDATA)).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(server.request_count(), 2);
}

#[test]
fn without_the_ca_the_handshake_fails_with_a_tls_error() {
    let ca = TestCa::new().unwrap();
    let server = https_mock(&ca, &["localhost", "127.0.0.1"]);
    let err = client_of(builder(&server))
        .get_authinfo(&request(RAWDATA))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err:?}");
    assert!(
        matches!(&err, Error::Tls(m) if m.to_lowercase().contains("certificate")),
        "{err}"
    );
    // Another CA is no better; a TLS failure is never retried.
    let other = TestCa::new().unwrap();
    let err = client_of(builder(&server).ca_pem(other.ca_pem()).builtin_roots(false))
        .get_authinfo(&request(RAWDATA))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err:?}");
    assert_eq!(server.request_count(), 0);
    assert_eq!(
        server.connections_accepted(),
        2,
        "one connection each, no retry"
    );
}

#[test]
fn a_certificate_for_another_name_fails_with_a_tls_error() {
    let ca = TestCa::new().unwrap();
    let server = https_mock(&ca, &["payapp.example.com"]);
    let err = client_of(builder(&server).ca_pem(ca.ca_pem()))
        .get_authinfo(&request(RAWDATA))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err:?}");
    assert!(
        err.to_string().contains("name") || err.to_string().contains("NotValidForName"),
        "{err}"
    );
    assert_eq!(server.request_count(), 0);
}

#[test]
fn bad_ca_settings_are_refused_naming_the_field() {
    let b = || builder_for("https://127.0.0.1:1");
    let err = b().ca_pem("not a pem").build().unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidArgument {
                field: "ca_pem",
                ..
            }
        ),
        "{err:?}"
    );
    // A file is read when the client is made, not when the configuration is validated.
    let config = b().ca_file("/nonexistent/ca.pem").build().unwrap();
    let err = wxface::Client::new(config).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidArgument {
                field: "ca_file",
                ..
            }
        ),
        "{err:?}"
    );
    let err = b().builtin_roots(false).build().unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidArgument {
                field: "ca_pem",
                ..
            }
        ),
        "{err:?}"
    );
}
