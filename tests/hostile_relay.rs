//! A hostile relay: every way a `wxface-relay` answer can be out of range, malformed, forged or
//! slow, each a row in one table answered by a raw-socket server on loopback. A relay's answer
//! is held to the rules of a WeChat answer (issue 20 §1): each row asserts the status and the
//! exact message, that the call made one request, and that nothing was cached.

mod field_support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use field_support::raw::*;
use field_support::*;
use wxface::{Client, ConfigBuilder, ErrorKind};

/// The terminal's configured sub-merchant (the answers below echo it unless a row says not).
const SUB_MCH_ID: &str = "1230000109";

/// What a row expects: the authinfo, or the error's kind and its whole message.
enum Expect {
    Ok(&'static str),
    Err(ErrorKind, &'static str),
}

type Answer = fn(&RawRequest, &mut TcpStream);

/// A 200 JSON answer whose `expires_in` field is written as given (any JSON text).
fn ok_with(s: &mut TcpStream, authinfo_json: &str, expires_in: &str, extra: &str) {
    let body = format!(
        r#"{{"authinfo":{authinfo_json},"expires_in":{expires_in},"from_cache":false,"appid":"{APPID}","mch_id":"{MCH_ID}","sub_mch_id":"{SUB_MCH_ID}"{extra}}}"#
    );
    json(s, 200, "", body.as_bytes());
}

/// A JSON answer with `status` and `body`, complete, then the connection closed.
fn json(s: &mut TcpStream, status: u16, extra_headers: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra_headers}\r\n",
        body.len()
    );
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body);
}

/// The ids part of an answer, with `field` replaced by `value` (a JSON text).
fn ids_with(field: &str, value: &str) -> String {
    let mut ids = vec![
        ("appid", format!("\"{APPID}\"")),
        ("mch_id", format!("\"{MCH_ID}\"")),
        ("sub_mch_id", format!("\"{SUB_MCH_ID}\"")),
    ];
    for (k, v) in &mut ids {
        if *k == field {
            *v = value.to_owned();
        }
    }
    ids.iter()
        .map(|(k, v)| format!(",\"{k}\":{v}"))
        .collect::<String>()
}

fn with_id(s: &mut TcpStream, field: &str, value: &str) {
    let body = format!(
        r#"{{"authinfo":"A","expires_in":3600{}}}"#,
        ids_with(field, value)
    );
    json(s, 200, "", body.as_bytes());
}

fn redirect(s: &mut TcpStream, status: u16) {
    // A redirect to a URL that would answer, with a body that looks like a success: never
    // followed, never accepted.
    let body = format!(
        r#"{{"authinfo":"REDIRECTED","expires_in":3600,"appid":"{APPID}","mch_id":"{MCH_ID}"}}"#
    );
    json(
        s,
        status,
        "Location: http://127.0.0.1:1/v1/authinfo\r\n",
        body.as_bytes(),
    );
}

/// Writes `head` then one byte of `body` every 50 ms (a slow relay, not an ordering sleep)
/// until the client goes away or the hang bound passes.
fn drip(s: &mut TcpStream, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let _ = s.write_all(head.as_bytes());
    let t0 = Instant::now();
    for b in body {
        if t0.elapsed() > NO_HANG {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
        if s.write_all(&[*b]).is_err() {
            return;
        }
    }
}

const TABLE: &[(&str, Answer, Expect)] = &[
    (
        "a good answer",
        |_, s| ok_with(s, "\"RELAYOK+/=\"", "3600", ""),
        Expect::Ok("RELAYOK+/="),
    ),
    (
        "expires_in 86400 (the largest accepted)",
        |_, s| ok_with(s, "\"RELAYOK\"", "86400", ""),
        Expect::Ok("RELAYOK"),
    ),
    // ----- the rows of issue 20 §1 -----
    (
        "expires_in 0",
        |_, s| ok_with(s, "\"A\"", "0", ""),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: expires_in 0 is out of range (1 to 86400 s)",
        ),
    ),
    (
        "expires_in 4294967295",
        |_, s| ok_with(s, "\"A\"", "4294967295", ""),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: expires_in 4294967295 is out of range (1 to 86400 s)",
        ),
    ),
    (
        "expires_in one year",
        |_, s| ok_with(s, "\"A\"", "31536000", ""),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: expires_in 31536000 is out of range (1 to 86400 s)",
        ),
    ),
    (
        "authinfo with a NUL",
        |_, s| ok_with(s, r#""AB\u0000CD""#, "3600", ""),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: authinfo contains a NUL character; the credential is printable ASCII without spaces",
        ),
    ),
    (
        "authinfo with a control character",
        |_, s| ok_with(s, r#""AB\u001bCD""#, "3600", ""),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: authinfo contains U+001B; the credential is printable ASCII without spaces",
        ),
    ),
    (
        "authinfo with a space",
        |_, s| ok_with(s, r#""AB CD""#, "3600", ""),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: authinfo contains a space; the credential is printable ASCII without spaces",
        ),
    ),
    (
        "authinfo with U+202E",
        |_, s| ok_with(s, "\"AB\u{202e}CD\"", "3600", ""),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: authinfo contains U+202E; the credential is printable ASCII without spaces",
        ),
    ),
    (
        "authinfo of 15,000 bytes",
        |_, s| ok_with(s, &format!("\"{}\"", "A".repeat(15_000)), "3600", ""),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: authinfo is 15000 bytes long; the limit is 4096",
        ),
    ),
    (
        "appid wxEVIL",
        |_, s| with_id(s, "appid", "\"wxEVIL\""),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: the echoed appid is not ours",
        ),
    ),
    (
        "mch_id 666",
        |_, s| with_id(s, "mch_id", "\"666\""),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: the echoed mch_id is not ours",
        ),
    ),
    (
        "sub_mch_id 666",
        |_, s| with_id(s, "sub_mch_id", "\"666\""),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: the echoed sub_mch_id is not ours",
        ),
    ),
    (
        "status 1 (a field the relay refused): the request was sent",
        |_, s| {
            json(
                s,
                400,
                "",
                br#"{"error":"invalid_field","field":"store_name","message":"invalid store_name: too long","status":1}"#,
            )
        },
        Expect::Err(
            ErrorKind::HttpStatus,
            "unexpected HTTP status 400: the relay refused store_name (its rules differ from this library's): invalid store_name: too long",
        ),
    ),
    // ----- malformed JSON -----
    (
        "duplicate keys",
        |_, s| {
            let body = format!(
                r#"{{"authinfo":"A","authinfo":"B","expires_in":3600{}}}"#,
                ids_with("", "")
            );
            json(s, 200, "", body.as_bytes())
        },
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: duplicate key \"authinfo\"",
        ),
    ),
    (
        "expires_in as a string",
        |_, s| ok_with(s, "\"A\"", "\"3600\"", ""),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: expires_in is not a JSON number",
        ),
    ),
    (
        "authinfo as a number",
        |_, s| ok_with(s, "12345", "3600", ""),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: authinfo is not a JSON string",
        ),
    ),
    (
        "appid as a boolean",
        |_, s| with_id(s, "appid", "true"),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: appid is not a JSON string",
        ),
    ),
    (
        "authinfo missing",
        |_, s| {
            let body = format!(r#"{{"expires_in":3600{}}}"#, ids_with("", ""));
            json(s, 200, "", body.as_bytes())
        },
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: authinfo is missing",
        ),
    ),
    (
        "authinfo empty",
        |_, s| ok_with(s, "\"\"", "3600", ""),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: authinfo is missing",
        ),
    ),
    (
        "expires_in missing",
        |_, s| {
            let body = format!(r#"{{"authinfo":"A"{}}}"#, ids_with("", ""));
            json(s, 200, "", body.as_bytes())
        },
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: expires_in is missing",
        ),
    ),
    (
        "mch_id missing",
        |_, s| {
            let body = format!(r#"{{"authinfo":"A","expires_in":3600,"appid":"{APPID}"}}"#);
            json(s, 200, "", body.as_bytes())
        },
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: mch_id is not echoed",
        ),
    ),
    (
        "nesting",
        |_, s| ok_with(s, r#"{"a":"b"}"#, "3600", ""),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: nested values are not accepted at byte 12",
        ),
    ),
    (
        "non-UTF-8",
        |_, s| {
            let mut body = br#"{"authinfo":"A"#.to_vec();
            body.push(0xff);
            body.extend_from_slice(br#"","expires_in":3600}"#);
            json(s, 200, "", &body)
        },
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: not UTF-8",
        ),
    ),
    (
        "lone surrogate",
        |_, s| ok_with(s, r#""A\ud800""#, "3600", ""),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: lone surrogate at byte 21",
        ),
    ),
    (
        "expires_in 1e999",
        |_, s| ok_with(s, "\"A\"", "1e999", ""),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: expires_in 1e999 is not a number of seconds",
        ),
    ),
    (
        "expires_in -1",
        |_, s| ok_with(s, "\"A\"", "-1", ""),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: expires_in -1 is not a number of seconds",
        ),
    ),
    (
        "expires_in 3600.0",
        |_, s| ok_with(s, "\"A\"", "3600.0", ""),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: expires_in 3600.0 is not a number of seconds",
        ),
    ),
    (
        "200 with an error body",
        |_, s| {
            json(
                s,
                200,
                "",
                br#"{"error":"upstream_error","message":"x","status":2}"#,
            )
        },
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: authinfo is missing",
        ),
    ),
    (
        "200 with HTML",
        |_, s| {
            json(
                s,
                200,
                "",
                b"<html><body>Welcome to the hotel Wi-Fi</body></html>",
            )
        },
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: expected '{' at byte 1",
        ),
    ),
    (
        "502 with HTML",
        |_, s| json(s, 502, "", b"<html><body>Bad Gateway</body></html>"),
        Expect::Err(ErrorKind::HttpStatus, "unexpected HTTP status 502"),
    ),
    (
        "trailing data",
        |_, s| ok_with(s, "\"A\"", "3600", "}{\"x\":1"),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: trailing data after the object at byte 130",
        ),
    ),
    (
        "truncated JSON",
        |_, s| json(s, 200, "", br#"{"authinfo":"A","expires_in":36"#),
        Expect::Err(
            ErrorKind::BadResponse,
            "bad response: relay answer: expected ',' or '}' at byte 31",
        ),
    ),
    (
        "truncated body (closed before Content-Length)",
        |_, s| {
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"authinfo\":\"A\"",
            );
        },
        Expect::Err(
            ErrorKind::Network,
            "network error: the connection closed before the full response arrived",
        ),
    ),
    (
        "drip (one byte per 50 ms, past the call's timeout)",
        |_, s| {
            let body = format!(
                r#"{{"authinfo":"DRIPPED","expires_in":3600,"appid":"{APPID}","mch_id":"{MCH_ID}"}}"#
            );
            drip(s, body.as_bytes())
        },
        Expect::Err(
            ErrorKind::Timeout,
            "timed out: no complete answer within the attempt's time",
        ),
    ),
    (
        "302",
        |_, s| redirect(s, 302),
        Expect::Err(ErrorKind::HttpStatus, "unexpected HTTP status 302"),
    ),
    (
        "307",
        |_, s| redirect(s, 307),
        Expect::Err(ErrorKind::HttpStatus, "unexpected HTTP status 307"),
    ),
    (
        "308",
        |_, s| redirect(s, 308),
        Expect::Err(ErrorKind::HttpStatus, "unexpected HTTP status 308"),
    ),
    // ----- the relay's own failures keep their meaning -----
    (
        "WeChat's refusal forwarded",
        |_, s| {
            json(
                s,
                502,
                "",
                "{\"error\":\"upstream_refused\",\"return_code\":\"ERROR\",\"return_msg\":\"无效的RawData数据\",\"status\":8}".as_bytes(),
            )
        },
        Expect::Err(
            ErrorKind::Remote,
            "WeChat answered ERROR: 无效的RawData数据",
        ),
    ),
    (
        "the relay's TLS to WeChat failed",
        |_, s| {
            json(
                s,
                502,
                "",
                br#"{"error":"upstream_error","message":"TLS error: server certificate rejected: expired","status":4}"#,
            )
        },
        Expect::Err(
            ErrorKind::Tls,
            "TLS error: the relay's call to WeChat failed: TLS error: server certificate rejected: expired",
        ),
    ),
    (
        "504 from a gateway, no status",
        |_, s| json(s, 504, "", br#"{"error":"gateway timeout"}"#),
        Expect::Err(
            ErrorKind::Timeout,
            "timed out: the relay or a gateway before it timed out",
        ),
    ),
    (
        "an unknown status number",
        |_, s| json(s, 502, "", br#"{"error":"x","status":99}"#),
        Expect::Err(ErrorKind::HttpStatus, "unexpected HTTP status 502"),
    ),
];

/// A relay-mode client for `server`: the merchant's ids configured (so the echoes are
/// checked), a short call timeout (the drip row ends on it), no retries (each row is one
/// answer), the cache on (so a refused answer would show in it), every log line checked.
fn relay_client(server: &RawServer) -> Client {
    client_of(
        ConfigBuilder::new()
            .relay_url(format!("http://127.0.0.1:{}", server.port()))
            .relay_token("wxr_hostile")
            .mch_id(MCH_ID)
            .appid(APPID)
            .sub_mch_id(SUB_MCH_ID)
            .timeout(Duration::from_millis(1500))
            .max_retries(0),
    )
}

#[test]
fn hostile_relay_table() {
    let mut failures = Vec::new();
    for (name, answer, expect) in TABLE {
        let server = RawServer::start(*answer);
        let client = relay_client(&server);
        let t0 = Instant::now();
        let result = client.get_authinfo(&request(RAWDATA));
        // Only a hang bound: the call's own timeout is 1.5 s.
        assert!(t0.elapsed() < Duration::from_secs(10), "{name}: hung");
        let ok = match (expect, &result) {
            (Expect::Ok(v), Ok(info)) => info.authinfo == *v && client.cached_count() == 1,
            (Expect::Err(kind, message), Err(e)) => {
                e.kind() == *kind && e.to_string() == *message && client.cached_count() == 0
            }
            _ => false,
        };
        if !ok {
            let got = match &result {
                Ok(info) => format!("Ok({:.40}…, {} bytes)", info.authinfo, info.authinfo.len()),
                Err(e) => format!("Err({e})"),
            };
            failures.push(format!("{name}: {got} (cached: {})", client.cached_count()));
        }
        assert_eq!(server.request_count(), 1, "{name}: requests");
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn ids_the_terminal_leaves_to_the_relay_are_taken_from_it_if_valid() {
    // A terminal configured with no merchant ids: the relay's are taken, if they are ids.
    let bare = |server: &RawServer| {
        client_of(
            ConfigBuilder::new()
                .relay_url(format!("http://127.0.0.1:{}", server.port()))
                .relay_token("wxr_hostile")
                .max_retries(0),
        )
    };
    let server = RawServer::start(|_, s| {
        json(
            s,
            200,
            "",
            br#"{"authinfo":"A","expires_in":60,"appid":"wxRELAY","mch_id":"1900000999","sub_appid":"wxSUB"}"#,
        )
    });
    let info = bare(&server).get_authinfo(&request(RAWDATA)).unwrap();
    assert_eq!(
        (
            info.appid.as_str(),
            info.mch_id.as_str(),
            info.sub_appid.as_deref()
        ),
        ("wxRELAY", "1900000999", Some("wxSUB"))
    );
    let server = RawServer::start(|_, s| {
        json(
            s,
            200,
            "",
            br#"{"authinfo":"A","expires_in":60,"appid":"wx\u0000EVIL","mch_id":"1"}"#,
        )
    });
    let err = bare(&server).get_authinfo(&request(RAWDATA)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad response: relay answer: the echoed appid contains a NUL character"
    );
}
