//! The wxface library in relay mode (no API key on the terminal) against a real relay in
//! front of the mock: success, the library's own cache, every status mapped as in direct
//! mode, bearer tokens and client certificates.

mod support;

use std::time::Duration;

use support::*;
use wxface::{ApiKey, AuthinfoRequest, CallOptions, Client, Config, ConfigBuilder, Error};
use wxface_mock::{MockConfig, MockServer};

fn request(device: &str, rawdata: &str) -> AuthinfoRequest {
    AuthinfoRequest::new("1001", "深圳南山科技园店", device, rawdata)
}

/// A request for store 1002, which nothing has cached.
fn request2(device: &str, rawdata: &str) -> AuthinfoRequest {
    AuthinfoRequest::new("1002", "深圳福田店", device, rawdata)
}

/// One call that bypasses the library's cache.
fn uncached(client: &Client, req: &AuthinfoRequest) -> Result<wxface::Authinfo, Error> {
    let options = CallOptions {
        force_refresh: false,
        use_cache: false,
    };
    client.get_authinfo_with(req, &options).map(|r| r.authinfo)
}

fn audit_lines(dir: &TempDir) -> usize {
    std::fs::read_to_string(dir.path().join("audit.log"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn token_relay_mode_without_a_key_and_the_library_cache() {
    let dir = TempDir::new("lib");
    let mock = mock(MockConfig::default());
    let relay = RunningRelay::start(load_config(
        dir.path(),
        &mock.base_url(),
        "upstream_timeout_ms = 1000",
    ));
    let t1 = token(dir.path(), "POS-01");
    let config = ConfigBuilder::new()
        .relay_url(&relay.url)
        .relay_token(&t1)
        .max_retries(0)
        .build()
        .unwrap();
    assert_eq!(config.relay_url(), Some(relay.url.as_str()));
    assert!(
        !format!("{config:?}").contains(&t1[4..]),
        "Debug shows the token"
    );
    let client = Client::new(config).unwrap();

    let first = client
        .get_authinfo_with(&request("POS-01", "raw"), &CallOptions::default())
        .unwrap();
    assert!(first.authinfo.authinfo.starts_with("MOCKAUTHINFO"));
    assert_eq!(first.authinfo.mch_id, "1900000109");
    assert_eq!(first.authinfo.appid, "wx2421b1c4370ec43b");
    assert!(first.authinfo.expires_in >= 3590);
    assert!(!first.from_cache);
    assert_eq!(first.attempts, 1);
    assert_eq!(audit_lines(&dir), 1);
    // The library's cache answers the second call: nothing reaches the relay.
    let second = client
        .get_authinfo_with(&request("POS-01", "raw"), &CallOptions::default())
        .unwrap();
    assert!(second.from_cache);
    assert_eq!(second.authinfo.authinfo, first.authinfo.authinfo);
    assert_eq!(audit_lines(&dir), 1);
    assert_eq!(mock.request_count(), 1);

    // WeChat's refusal arrives as Error::Remote with its code and message.
    let e = uncached(&client, &request2("POS-01", "MOCK:signed-error")).unwrap_err();
    assert_eq!(e.remote(), Some(("ERROR", "无效的RawData数据")), "{e}");
    // A tampered upstream answer keeps its kind.
    let e = uncached(&client, &request2("POS-01", "MOCK:tampered-sign")).unwrap_err();
    assert!(matches!(e, Error::Signature(_)), "{e}");
    // The upstream does not answer in time: a timeout.
    let e = uncached(&client, &request2("POS-01", "MOCK:hang")).unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e}");
    // Another device id than the token's: 403.
    let e = uncached(&client, &request("POS-02", "raw")).unwrap_err();
    assert_eq!(e, Error::HttpStatus(403));
    // Checked locally first: nothing is sent for an invalid field.
    let lines = audit_lines(&dir);
    let e = client.get_authinfo(&request("POS-01", "")).unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidArgument {
                field: "rawdata",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(audit_lines(&dir), lines);
    // A revoked token: 401.
    wxface_relay::tokens::revoke(&dir.path().join("tokens"), "POS-01").unwrap();
    // (A forced refresh would serve the cached one as stale: the cache still applies.)
    let stale = client
        .get_authinfo_with(
            &request("POS-01", "raw"),
            &CallOptions {
                force_refresh: true,
                use_cache: true,
            },
        )
        .unwrap();
    assert!(stale.stale && stale.refresh_error == Some(Error::HttpStatus(401)));
    let e = uncached(&client, &request("POS-01", "raw")).unwrap_err();
    assert_eq!(e, Error::HttpStatus(401));
    let e = Client::new(
        ConfigBuilder::new()
            .relay_url(&relay.url)
            .relay_token("wxr_unknown")
            .build()
            .unwrap(),
    )
    .unwrap()
    .get_authinfo(&request("POS-01", "raw"))
    .unwrap_err();
    assert_eq!(e, Error::HttpStatus(401));
}

/// A relay over TLS that accepts client certificates of `terminal_ca`; its server CA.
fn mutual_tls_relay(dir: &TempDir, mock: &MockServer, terminal_ca: &Ca) -> (RunningRelay, Ca) {
    let server_ca = Ca::new("relay server CA");
    let (scert, skey) = server_ca.issue("relay", &["127.0.0.1"]);
    std::fs::write(dir.path().join("server.pem"), &scert).unwrap();
    std::fs::write(dir.path().join("server.key"), &skey).unwrap();
    std::fs::write(dir.path().join("terminals.pem"), terminal_ca.pem()).unwrap();
    let extra = "[tls]\ncert = \"server.pem\"\nkey = \"server.key\"\nclient_ca = \"terminals.pem\"";
    let relay = RunningRelay::start(load_config(dir.path(), &mock.base_url(), extra));
    (relay, server_ca)
}

#[test]
fn client_certificate_relay_mode() {
    let dir = TempDir::new("libtls");
    let mock = mock(MockConfig::default());
    let terminal_ca = Ca::new("merchant terminal CA");
    let (relay, server_ca) = mutual_tls_relay(&dir, &mock, &terminal_ca);
    let (cert, key) = terminal_ca.issue("POS-CERT", &[]);
    let build = |cert: &str, key: &str| {
        ConfigBuilder::new()
            .relay_url(&relay.url)
            .relay_client_cert(cert.as_bytes(), key.as_bytes())
            .ca_pem(server_ca.pem().into_bytes())
            .builtin_roots(false)
            .max_retries(0)
            .timeout(Duration::from_secs(10))
            .build()
    };
    let client = Client::new(build(&cert, &key).unwrap()).unwrap();
    let info = client.get_authinfo(&request("POS-CERT", "raw")).unwrap();
    assert!(info.authinfo.starts_with("MOCKAUTHINFO"));
    assert_eq!(mock.request_count(), 1);
    // A certificate from another CA: the handshake fails, a TLS error.
    let (rogue_cert, rogue_key) = Ca::new("rogue").issue("POS-CERT", &[]);
    let rogue = Client::new(build(&rogue_cert, &rogue_key).unwrap()).unwrap();
    let e = rogue.get_authinfo(&request("POS-CERT", "raw")).unwrap_err();
    assert!(matches!(e, Error::Tls(_) | Error::Network(_)), "{e}");
    // A key PEM that is not a key fails (at build or at the handshake) without echoing it.
    let bad_key = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n";
    let e = match build(&cert, bad_key) {
        Err(e) => e,
        Ok(c) => Client::new(c)
            .unwrap()
            .get_authinfo(&request("POS-CERT", "raw"))
            .unwrap_err(),
    };
    assert!(!e.to_string().contains("c2VjcmV0"), "{e}");
    assert_eq!(mock.request_count(), 1);
}

#[test]
fn client_certificate_from_another_ca_is_a_tls_error_every_time() {
    // TLS 1.3: the client's handshake is over before the relay checks the certificate, so the
    // relay's alert arrives after the request was (partly) written: on the first read, or as a
    // reset while writing. Either way it is WXFACE_ERR_TLS, and not retried (issue 20 §4).
    let dir = TempDir::new("rogue");
    let mock = mock(MockConfig::default());
    let (relay, server_ca) = mutual_tls_relay(&dir, &mock, &Ca::new("merchant terminal CA"));
    let (rogue_cert, rogue_key) = Ca::new("rogue").issue("POS-CERT", &[]);
    let retries = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let r = std::sync::Arc::clone(&retries);
    let config = ConfigBuilder::new()
        .relay_url(&relay.url)
        .relay_client_cert(rogue_cert.as_bytes(), rogue_key.as_bytes())
        .ca_pem(server_ca.pem().into_bytes())
        .builtin_roots(false)
        .max_retries(2)
        .timeout(Duration::from_secs(10))
        .log_level(wxface::Level::Warn)
        .log_callback(move |_, line| {
            if line.contains("retry") {
                r.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        })
        .build()
        .unwrap();
    let mut kinds = Vec::new();
    for _ in 0..20 {
        // A new client each time: a new connection and a new handshake.
        let client = Client::new(config.clone()).unwrap();
        // A large rawdata: the request takes several writes, which meet the reset.
        let e = uncached(&client, &request("POS-CERT", &"r".repeat(2048))).unwrap_err();
        kinds.push(e.to_string());
    }
    let not_tls: Vec<_> = kinds
        .iter()
        .filter(|m| !m.starts_with("TLS error: "))
        .collect();
    assert!(
        not_tls.is_empty(),
        "{} of 20 not TLS: {not_tls:?}",
        not_tls.len()
    );
    assert!(
        kinds
            .iter()
            .all(|m| m.contains("the server refused the handshake (alert")),
        "{kinds:?}"
    );
    assert_eq!(
        retries.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "retried"
    );
    assert_eq!(mock.request_count(), 0);
}

#[test]
fn relay_mode_configuration_rules() {
    let key = || ApiKey::new(KEY).unwrap();
    let e = Config::builder("1900000109", "wx2421b1c4370ec43b", key())
        .relay_url("https://relay.example")
        .relay_token("wxr_x")
        .build()
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidArgument {
                field: "api_key",
                ..
            }
        ),
        "{e}"
    );
    let e = ConfigBuilder::new()
        .relay_url("https://relay.example")
        .build()
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidArgument {
                field: "relay_token",
                ..
            }
        ),
        "{e}"
    );
    let e = ConfigBuilder::new()
        .relay_url("http://relay.example")
        .relay_token("wxr_x")
        .build()
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidArgument {
                field: "relay_url",
                ..
            }
        ),
        "{e}"
    );
    let e = ConfigBuilder::new()
        .relay_token("wxr_x")
        .build()
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidArgument {
                field: "relay_url",
                ..
            }
        ),
        "{e}"
    );
    let e = ConfigBuilder::new().build().unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidArgument {
                field: "mch_id",
                ..
            }
        ),
        "{e}"
    );
    assert!(
        ConfigBuilder::new()
            .relay_url("https://relay.example/")
            .relay_token("wxr_x")
            .build()
            .is_ok()
    );
}
