//! Trust store choice (bundled / system / both, and Android's user-added CAs) over real TLS: the
//! mock in HTTPS mode with a CA made at test time, and system stores laid out like Android's
//! (`/system/etc/security/cacerts`: one PEM file per certificate, named by an 8-hex-digit hash
//! with a `.0` suffix, the PEM block followed by a text dump) or like a Linux bundle.

mod field_support;

use std::path::Path;

use field_support::*;
use wxface::{Error, ErrorKind, TrustStore};
use wxface_mock::{MockConfig, MockServer, TestCa};

fn https_mock(ca: &TestCa) -> MockServer {
    start(MockConfig {
        tls: Some(ca.server_identity(&["localhost", "127.0.0.1"]).unwrap()),
        ..MockConfig::default()
    })
}

/// Writes each CA as Android does: `<hash>.0` holding the PEM block and then a text dump.
fn android_store(dir: &Path, cas: &[&TestCa]) {
    for (i, ca) in cas.iter().enumerate() {
        let name = format!("{:08x}.0", 0x5ed3_6f99_u32.wrapping_add(i as u32 * 0x1111));
        let text = format!(
            "{}Certificate:\n    Data:\n        Version: 3 (0x2)\n        Serial Number: {i}\n    \
             Signature Algorithm: ecdsa-with-SHA256\n        Issuer: CN=wxface test CA {i}\n\
             SHA1 Fingerprint=00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:{i:02X}\n",
            ca.ca_pem()
        );
        std::fs::write(dir.join(name), text).unwrap();
    }
}

#[test]
fn system_store_laid_out_like_android_verifies_the_server() {
    let ca = TestCa::new().unwrap();
    let decoy = TestCa::new().unwrap();
    let server = https_mock(&ca);
    let system = TempDir::new("trust-android-system");
    android_store(&system.0, &[&decoy, &ca]);

    let info = client_of(
        builder(&server)
            .trust_store(TrustStore::System)
            .system_ca_path(&system.0),
    )
    .get_authinfo(&request(RAWDATA))
    .expect("trusted through the Android-style system store");
    assert!(info.authinfo.starts_with("MOCKAUTHINFO"));

    // Both: the bundled roots plus the same directory.
    client_of(
        builder(&server)
            .trust_store(TrustStore::Both)
            .system_ca_path(&system.0),
    )
    .get_authinfo(&request(RAWDATA))
    .expect("trusted through the system store in Both");
    assert_eq!(server.request_count(), 2);
}

#[test]
fn a_system_store_without_the_ca_fails_with_a_tls_error_and_bundled_does_too() {
    let ca = TestCa::new().unwrap();
    let other = TestCa::new().unwrap();
    let server = https_mock(&ca);
    let system = TempDir::new("trust-android-other");
    android_store(&system.0, &[&other]);

    let err = client_of(
        builder(&server)
            .trust_store(TrustStore::System)
            .system_ca_path(&system.0),
    )
    .get_authinfo(&request(RAWDATA))
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err:?}");

    // System alone does not include the bundled roots, and the bundled roots do not include the
    // test CA: the default store refuses the mock too.
    let err = client_of(builder(&server).trust_store(TrustStore::Bundled))
        .get_authinfo(&request(RAWDATA))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err:?}");
    assert_eq!(server.request_count(), 0);
}

#[test]
fn user_added_cas_are_trusted_only_when_asked_for() {
    let ca = TestCa::new().unwrap();
    let other = TestCa::new().unwrap();
    let server = https_mock(&ca);
    let system = TempDir::new("trust-android-system-user");
    android_store(&system.0, &[&other]);
    let user = TempDir::new("trust-android-user-added");
    android_store(&user.0, &[&ca]);

    let b = || {
        builder(&server)
            .trust_store(TrustStore::System)
            .system_ca_path(&system.0)
    };
    client_of(b().user_ca_path(&user.0))
        .get_authinfo(&request(RAWDATA))
        .expect("trusted through the user-added store");
    let err = client_of(b()).get_authinfo(&request(RAWDATA)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "without user CAs: {err:?}");
    assert_eq!(server.request_count(), 1);
}

#[test]
fn a_linux_bundle_file_is_a_system_store_too() {
    let ca = TestCa::new().unwrap();
    let decoy = TestCa::new().unwrap();
    let server = https_mock(&ca);
    let dir = TempDir::new("trust-bundle");
    let bundle = dir.0.join("ca-certificates.crt");
    std::fs::write(&bundle, format!("{}{}", decoy.ca_pem(), ca.ca_pem())).unwrap();
    client_of(
        builder(&server)
            .trust_store(TrustStore::System)
            .system_ca_path(&bundle),
    )
    .get_authinfo(&request(RAWDATA))
    .expect("trusted through the bundle");
}

#[test]
fn unusable_stores_are_refused_at_client_creation_naming_the_field() {
    let b = || builder_for("https://127.0.0.1:1");
    let empty = TempDir::new("trust-empty");
    std::fs::write(empty.0.join("README"), "not a certificate\n").unwrap();
    // Validating reads nothing: the stores are read when the client is made.
    let field_of = |b: wxface::ConfigBuilder| match wxface::Client::new(b.build().unwrap()) {
        Err(Error::InvalidArgument { field, .. }) => field,
        other => panic!("not an invalid argument: {other:?}"),
    };
    assert_eq!(
        field_of(b().trust_store(TrustStore::System).system_ca_path(&empty.0)),
        "system_ca_path"
    );
    assert_eq!(
        field_of(
            b().trust_store(TrustStore::Both)
                .system_ca_path(empty.0.join("missing"))
        ),
        "system_ca_path"
    );
    assert_eq!(field_of(b().user_ca_path(&empty.0)), "user_ca_path");
    if !cfg!(target_os = "android") {
        // No user store outside Android unless a path is given: known without reading.
        match b().user_cas(true).build() {
            Err(Error::InvalidArgument { field, .. }) => assert_eq!(field, "user_cas"),
            other => panic!("not refused by build: {other:?}"),
        }
    }
    // Bundled ignores the system path entirely.
    wxface::Client::new(b().system_ca_path(empty.0.join("missing")).build().unwrap()).unwrap();
}
