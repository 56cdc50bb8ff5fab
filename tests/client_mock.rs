//! End-to-end tests of the public `Client` API against the in-process mock server
//! (`wxface-mock`), which signs and verifies with its own, independent APIv2 signer.
//!
//! Every test starts its own `MockServer`, so tests can run in parallel.

use std::collections::HashSet;
use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use wxface::authinfo::MAX_RESPONSE_BYTES;
use wxface::{
    ApiKey, Authinfo, AuthinfoRequest, Client, Config, ConfigBuilder, Error, ErrorKind, SignType,
};
use wxface_mock::{DEFAULT_KEY, MockConfig, MockServer, PATH, RecordedRequest};

const MCH_ID: &str = "1900000109";
const APPID: &str = "wx2421b1c4370ec43b";
const SUB_MCH_ID: &str = "1230000109";
const SUB_APPID: &str = "wx8888888888888888";
/// A valid key that is not the mock's.
const OTHER_KEY: &str = "0123456789abcdef0123456789abcdef";
/// Looks like a real rawdata: base64 with `+ / =`.
const RAWDATA: &str = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo+/+/abc+def/ghi==";
const STORE_NAME: &str = "深圳南山科技园店";
const ATTACH: &str = r#"{"lane":"3&4","tag":"<a href='x'>]]>"}"#;

// ---------------------------------------------------------------------------------------------
// helpers

fn unix_now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    i64::try_from(secs).unwrap()
}

fn start(config: MockConfig) -> MockServer {
    MockServer::start(config).expect("start the mock server")
}

fn start_default() -> MockServer {
    start(MockConfig::default())
}

/// A configuration for `server` with the mock's key. The authinfo cache is off: these tests
/// count requests on the wire (the cache has its own tests in `field_cache.rs`).
fn builder(server: &MockServer) -> ConfigBuilder {
    Config::builder(MCH_ID, APPID, ApiKey::new(DEFAULT_KEY).unwrap())
        .base_url(server.base_url())
        .cache(false)
}

fn client_of(config: ConfigBuilder) -> Client {
    Client::new(config.build().expect("valid config")).expect("client")
}

fn client(server: &MockServer) -> Client {
    client_of(builder(server))
}

fn request(rawdata: &str) -> AuthinfoRequest {
    AuthinfoRequest::new("1001", STORE_NAME, "POS-01", rawdata)
}

/// Calls with `rawdata` (e.g. `MOCK:<scenario>`) and expects a failure.
fn fail(server: &MockServer, rawdata: &str) -> Error {
    let err = client(server)
        .get_authinfo(&request(rawdata))
        .expect_err("the call should fail");
    assert_no_secrets(&err, &[DEFAULT_KEY, rawdata]);
    err
}

/// Neither `Display` nor `Debug` of `err` repeats any of `secrets`.
fn assert_no_secrets(err: &Error, secrets: &[&str]) {
    let shown = format!("{err} | {err:?}");
    for secret in secrets {
        assert!(!shown.contains(secret), "{shown:?} leaks {secret:?}");
    }
}

fn assert_remote(err: &Error, code: &str, msg: &str) {
    assert_eq!(
        *err,
        Error::Remote {
            return_code: code.into(),
            return_msg: msg.into()
        }
    );
    assert_eq!(err.remote(), Some((code, msg)));
    assert_eq!(err.kind(), ErrorKind::Remote);
}

fn assert_invalid(err: &Error, expected_field: &str) {
    match err {
        Error::InvalidArgument { field, .. } => {
            assert_eq!(*field, expected_field, "{err}");
            assert!(err.to_string().contains(expected_field), "{err}");
        }
        other => panic!("expected InvalidArgument({expected_field}), got {other:?}"),
    }
}

fn assert_authinfo(info: &Authinfo) {
    assert!(!info.authinfo.is_empty());
    assert_eq!(info.expires_in, 3600);
    assert_eq!(info.appid, APPID);
    assert_eq!(info.mch_id, MCH_ID);
    assert!(
        !format!("{info:?}").contains(&info.authinfo),
        "Debug of Authinfo shows the credential"
    );
}

/// The single request the mock recorded.
fn only_request(server: &MockServer) -> RecordedRequest {
    let mut requests = server.requests();
    assert_eq!(requests.len(), 1);
    requests.pop().unwrap()
}

/// Checks what went over the wire for a plain (non service-provider) request.
fn check_wire(rec: &RecordedRequest, sign_type: &str, req: &AuthinfoRequest) {
    assert_eq!(rec.method, "POST");
    assert_eq!(rec.path, PATH);
    assert_eq!(rec.header("Content-Type"), Some("text/xml; charset=utf-8"));

    let now = rec.field("now").expect("now");
    assert!(
        now.len() == 10 && now.bytes().all(|b| b.is_ascii_digit()),
        "{now}"
    );
    let skew = now.parse::<i64>().unwrap().abs_diff(unix_now());
    assert!(skew <= 5, "now is {skew} s off the system clock");
    assert_eq!(rec.field("version"), Some("1"));
    assert_eq!(rec.field("sign_type"), Some(sign_type));
    let nonce = rec.field("nonce_str").expect("nonce_str");
    assert!(
        nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{nonce}"
    );

    // Values arrive exactly as given (UTF-8, `+ / =`, markup characters).
    assert_eq!(rec.field("store_id"), Some(req.store_id.as_str()));
    assert_eq!(rec.field("store_name"), Some(req.store_name.as_str()));
    assert_eq!(rec.field("device_id"), Some(req.device_id.as_str()));
    assert_eq!(rec.field("rawdata"), Some(req.rawdata.as_str()));
    assert_eq!(rec.field("attach"), req.attach.as_deref());
    assert_eq!(rec.field("appid"), Some(APPID));
    assert_eq!(rec.field("mch_id"), Some(MCH_ID));

    // The independent signer of the mock agrees with the library's signature.
    let expected = wxface_mock::sign(&rec.fields, DEFAULT_KEY, sign_type);
    assert_eq!(rec.field("sign"), Some(expected.as_str()));
    assert_eq!(expected.len(), if sign_type == "MD5" { 32 } else { 64 });
}

// ---------------------------------------------------------------------------------------------
// success

fn success_round_trip(sign_type: SignType) {
    let server = start_default();
    let client = client_of(builder(&server).sign_type(sign_type));
    let req = request(RAWDATA).attach(ATTACH);

    let first = client.get_authinfo(&req).expect("first call");
    let second = client.get_authinfo(&req).expect("second call");
    assert_authinfo(&first);
    assert_authinfo(&second);
    assert_eq!(first.sub_appid, None);
    assert_eq!(first.sub_mch_id, None);

    let recorded = server.requests();
    assert_eq!(recorded.len(), 2);
    for rec in &recorded {
        check_wire(rec, sign_type.as_str(), &req);
        let mut names: Vec<&str> = rec.fields.iter().map(|(k, _)| k.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "appid",
                "attach",
                "device_id",
                "mch_id",
                "nonce_str",
                "now",
                "rawdata",
                "sign",
                "sign_type",
                "store_id",
                "store_name",
                "version"
            ]
        );
    }
    assert_ne!(
        recorded[0].field("nonce_str"),
        recorded[1].field("nonce_str"),
        "nonce_str must be fresh per call"
    );
}

#[test]
fn success_md5() {
    success_round_trip(SignType::Md5);
}

#[test]
fn success_hmac_sha256() {
    success_round_trip(SignType::HmacSha256);
}

#[test]
fn success_sub_merchant() {
    let server = start_default();
    let client = client_of(builder(&server).sub_mch_id(SUB_MCH_ID).sub_appid(SUB_APPID));
    let info = client.get_authinfo(&request(RAWDATA)).expect("call");
    assert_authinfo(&info);
    assert_eq!(info.sub_mch_id.as_deref(), Some(SUB_MCH_ID));
    assert_eq!(info.sub_appid.as_deref(), Some(SUB_APPID));

    let rec = only_request(&server);
    check_wire(&rec, "HMAC-SHA256", &request(RAWDATA));
    assert_eq!(rec.field("sub_mch_id"), Some(SUB_MCH_ID));
    assert_eq!(rec.field("sub_appid"), Some(SUB_APPID));
}

#[test]
fn extra_unknown_fields_are_accepted() {
    let server = start_default();
    let info = client(&server)
        .get_authinfo(&request("MOCK:extra-fields"))
        .expect("extra fields are signed and must be accepted");
    assert_authinfo(&info);
}

// ---------------------------------------------------------------------------------------------
// remote failures

#[test]
fn wrong_key_reports_unsigned_param_error() {
    let server = start_default();
    let config =
        Config::builder(MCH_ID, APPID, ApiKey::new(OTHER_KEY).unwrap()).base_url(server.base_url());
    let err = client_of(config)
        .get_authinfo(&request(RAWDATA))
        .expect_err("wrong key");
    assert_remote(&err, "PARAM_ERROR", "签名错误");
    assert_no_secrets(&err, &[DEFAULT_KEY, OTHER_KEY, RAWDATA]);
    assert_eq!(server.request_count(), 1);
}

#[test]
fn signed_error_is_remote() {
    let server = start_default();
    let err = fail(&server, "MOCK:signed-error");
    assert_remote(&err, "ERROR", "无效的RawData数据");
}

#[test]
fn signed_system_error_is_remote() {
    let server = start_default();
    let err = fail(&server, "MOCK:signed-system-error");
    assert_remote(&err, "SYSTEMERROR", "生成authinfo失败");
}

#[test]
fn clock_skew_in_request_is_remote_param_error() {
    let server = start_default();
    let err = client(&server)
        .get_authinfo(&request(RAWDATA).now(unix_now() - 1000))
        .expect_err("skewed now");
    assert_remote(&err, "PARAM_ERROR", "非法的Now参数");
    assert_no_secrets(&err, &[DEFAULT_KEY, RAWDATA]);
}

#[test]
fn clock_skew_of_server_is_remote_param_error() {
    let server = start(MockConfig {
        clock_offset_secs: 1000,
        ..MockConfig::default()
    });
    // With the correction off (it is on by default and tested in `field_clock.rs`).
    let err = client_of(builder(&server).clock_skew_correction(false))
        .get_authinfo(&request(RAWDATA))
        .expect_err("skewed server");
    assert_remote(&err, "PARAM_ERROR", "非法的Now参数");
}

// ---------------------------------------------------------------------------------------------
// responses that must not be trusted

#[test]
fn tampered_sign_is_signature_error() {
    let server = start_default();
    let err = fail(&server, "MOCK:tampered-sign");
    assert!(matches!(err, Error::Signature(_)), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Signature);
}

#[test]
fn missing_sign_is_signature_error() {
    let server = start_default();
    let err = fail(&server, "MOCK:missing-sign");
    assert!(
        matches!(&err, Error::Signature(m) if m.contains("sign")),
        "{err:?}"
    );
}

#[test]
fn wrong_mch_id_is_bad_response() {
    let server = start_default();
    let err = fail(&server, "MOCK:wrong-mch-id");
    assert!(
        matches!(&err, Error::BadResponse(m) if m.contains("mch_id")),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::BadResponse);
}

// ---------------------------------------------------------------------------------------------
// HTTP and transport failures

#[test]
fn http_500_is_http_status() {
    let server = start_default();
    let err = fail(&server, "MOCK:http-500");
    assert_eq!(err, Error::HttpStatus(500));
    assert_eq!(err.kind(), ErrorKind::HttpStatus);
}

#[test]
fn not_xml_is_bad_response() {
    let server = start_default();
    let err = fail(&server, "MOCK:not-xml");
    assert!(matches!(err, Error::BadResponse(_)), "{err:?}");
}

#[test]
fn truncated_body_is_network_error() {
    let server = start_default();
    let err = fail(&server, "MOCK:truncated");
    assert!(matches!(err, Error::Network(_)), "{err:?}");
}

#[test]
fn oversized_body_is_bad_response() {
    let server = start_default();
    let err = fail(&server, "MOCK:oversized");
    let limit = MAX_RESPONSE_BYTES.to_string();
    assert!(
        matches!(&err, Error::BadResponse(m) if m.contains(&limit)),
        "{err:?}"
    );
}

#[test]
fn dropped_connection_is_network_error() {
    let server = start_default();
    let err = fail(&server, "MOCK:drop");
    assert!(matches!(err, Error::Network(_)), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Network);
}

#[test]
fn hanging_server_times_out() {
    let server = start_default();
    let client = client_of(builder(&server).timeout(Duration::from_millis(800)));
    let started = Instant::now();
    let err = client
        .get_authinfo(&request("MOCK:hang"))
        .expect_err("hang");
    let elapsed = started.elapsed();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    // A correctness bound (the timeout is honoured at all), not a speed benchmark.
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert_no_secrets(&err, &[DEFAULT_KEY, "MOCK:hang"]);
}

#[test]
fn connection_refused_is_network_error() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = Config::builder(MCH_ID, APPID, ApiKey::new(DEFAULT_KEY).unwrap())
        .base_url(format!("http://127.0.0.1:{port}"));
    let err = client_of(config)
        .get_authinfo(&request(RAWDATA))
        .expect_err("nothing listens");
    assert!(matches!(err, Error::Network(_)), "{err:?}");
    assert_no_secrets(&err, &[DEFAULT_KEY, RAWDATA]);
}

// ---------------------------------------------------------------------------------------------
// invalid input: refused before anything is sent

#[test]
fn invalid_requests_are_refused_locally() {
    let server = start_default();
    let client = client(&server);
    let long_rawdata = "A".repeat(2049);
    let cases = [
        (
            AuthinfoRequest::new("", STORE_NAME, "POS-01", RAWDATA),
            "store_id",
        ),
        (
            AuthinfoRequest::new("1001", "南山店😀", "POS-01", RAWDATA),
            "store_name",
        ),
        (
            AuthinfoRequest::new("1001", STORE_NAME, "POS-01", long_rawdata.as_str()),
            "rawdata",
        ),
        (
            AuthinfoRequest::new("1001", STORE_NAME, "POS\0-01", RAWDATA),
            "device_id",
        ),
        (request(RAWDATA).now(unix_now() * 1000), "now"),
    ];
    for (req, field) in cases {
        let err = client.get_authinfo(&req).expect_err(field);
        assert_invalid(&err, field);
        assert_no_secrets(&err, &[DEFAULT_KEY, RAWDATA, &long_rawdata]);
    }
    assert_eq!(server.request_count(), 0, "nothing may be sent");
    assert_eq!(server.connections_accepted(), 0, "nothing may be sent");
}

#[test]
fn invalid_config_is_refused() {
    let err = ApiKey::new("0123456789abcdef0123456789abcdef0").unwrap_err();
    assert_invalid(&err, "api_key");
    assert_no_secrets(&err, &["0123456789abcdef0123456789abcdef0"]);
    let err = ApiKey::new("short-secret").unwrap_err();
    assert_invalid(&err, "api_key");
    assert_no_secrets(&err, &["short-secret"]);

    let err = Config::builder(MCH_ID, APPID, ApiKey::new(DEFAULT_KEY).unwrap())
        .base_url("http://example.com")
        .build()
        .unwrap_err();
    assert_invalid(&err, "base_url");
    assert_no_secrets(&err, &[DEFAULT_KEY]);
}

#[test]
fn config_and_client_debug_hide_the_key() {
    let server = start_default();
    let config = builder(&server).build().unwrap();
    assert!(!format!("{config:?}").contains(DEFAULT_KEY));
    let client = Client::new(config).unwrap();
    assert!(!format!("{client:?}").contains(DEFAULT_KEY));
    assert!(!format!("{:?}", request(RAWDATA)).contains(RAWDATA));
}

// ---------------------------------------------------------------------------------------------
// connection reuse and concurrency

#[test]
fn sequential_calls_reuse_one_connection() {
    let server = start_default();
    let client = client(&server);
    for _ in 0..3 {
        assert_authinfo(&client.get_authinfo(&request(RAWDATA)).expect("call"));
    }
    assert_eq!(server.request_count(), 3);
    assert_eq!(server.connections_accepted(), 1);
}

#[test]
fn one_client_shared_by_threads() {
    const THREADS: usize = 4;
    const CALLS: usize = 10;
    let server = start_default();
    let client = client(&server);
    let results: Vec<Result<Authinfo, Error>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let client = &client;
                s.spawn(move || {
                    let req = AuthinfoRequest::new("1001", STORE_NAME, format!("POS-{t}"), RAWDATA);
                    (0..CALLS)
                        .map(|_| client.get_authinfo(&req))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(results.len(), THREADS * CALLS);
    let mut seen = HashSet::new();
    for result in results {
        let info = result.expect("every concurrent call succeeds");
        assert_authinfo(&info);
        assert!(seen.insert(info.authinfo), "authinfo repeated");
    }
    assert_eq!(server.request_count(), THREADS * CALLS);
}
