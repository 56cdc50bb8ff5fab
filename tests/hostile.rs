//! A hostile payapp server: every way an answer can be malformed, oversized, slow, forged or
//! booby-trapped, each case a row in one table, answered by a raw-socket server. The library
//! must return the right error kind, stay within its bounds, and never let the server's text
//! forge or flood a log line.

mod field_support;

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use field_support::raw::*;
use field_support::*;
use wxface::{Client, Error, ErrorKind, Level};

/// What a row expects of the call.
enum Expect {
    Ok(&'static str),
    Kind(ErrorKind),
}

type Answer = fn(&RawRequest, &mut TcpStream);

fn http_date(unix: i64) -> String {
    let t = if unix >= 0 {
        UNIX_EPOCH + Duration::from_secs(unix.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(unix.unsigned_abs())
    };
    httpdate_fmt(t)
}

/// RFC 7231 IMF-fixdate, by hand (the test does not depend on an HTTP date crate).
fn httpdate_fmt(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m - 1) as usize];
    format!(
        "{wd}, {d:02} {mon} {y:04} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

const OK_BODY: fn() -> Vec<u8> = || signed_success("HOSTILEOK", "3600", &[]);

/// Writes `bytes` until the client goes away (or a hang bound).
fn endless(stream: &mut TcpStream, head: &[u8], piece: &[u8]) {
    let _ = stream.write_all(head);
    let t0 = Instant::now();
    while t0.elapsed() < NO_HANG {
        if stream.write_all(piece).is_err() {
            return;
        }
    }
}

const TABLE: &[(&str, Answer, Expect)] = &[
    (
        "no content-length, body until close",
        |_, s| {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let _ = s.write_all(&OK_BODY());
        },
        Expect::Ok("HOSTILEOK"),
    ),
    (
        "no content-length, endless body",
        |_, s| {
            endless(
                s,
                b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n<xml>",
                &[b'A'; 4096],
            )
        },
        Expect::Kind(ErrorKind::BadResponse),
    ),
    (
        "endless chunks",
        |_, s| {
            endless(
                s,
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                b"1000\r\n<xml>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
            )
        },
        Expect::Kind(ErrorKind::BadResponse),
    ),
    (
        "huge declared body",
        |_, s| {
            endless(
                s,
                b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n<xml>",
                &[b' '; 4096],
            )
        },
        Expect::Kind(ErrorKind::BadResponse),
    ),
    (
        "gzip-encoded body",
        |_, s| {
            // A gzip member header and garbage: never decoded, never accepted.
            respond(
                s,
                200,
                "Content-Encoding: gzip\r\n",
                b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\xc8\xcd\xb1\x03\x00",
            )
        },
        Expect::Kind(ErrorKind::BadResponse),
    ),
    (
        "slowloris headers",
        |_, s| {
            let t0 = Instant::now();
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\n");
            while t0.elapsed() < NO_HANG {
                // Simulates a slow server (not ordering): one header byte per 50 ms.
                std::thread::sleep(Duration::from_millis(50));
                if s.write_all(b"X").is_err() {
                    return;
                }
            }
        },
        Expect::Kind(ErrorKind::Timeout),
    ),
    (
        "slowloris body",
        |_, s| {
            let t0 = Instant::now();
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n<xml>");
            while t0.elapsed() < NO_HANG {
                std::thread::sleep(Duration::from_millis(50));
                if s.write_all(b" ").is_err() {
                    return;
                }
            }
        },
        Expect::Kind(ErrorKind::Timeout),
    ),
    (
        "redirect",
        |_, s| {
            respond(
                s,
                302,
                "Location: http://127.0.0.1:1/face/get_wxpayface_authinfo\r\n",
                b"",
            )
        },
        Expect::Kind(ErrorKind::HttpStatus),
    ),
    (
        "duplicate return_code",
        |_, s| {
            let body =
                b"<xml><return_code>FAIL</return_code><return_code>SUCCESS</return_code></xml>";
            respond(s, 200, "", body)
        },
        Expect::Kind(ErrorKind::BadResponse),
    ),
    (
        "duplicate authinfo (signed)",
        |_, s| {
            let body = String::from_utf8(OK_BODY())
                .unwrap()
                .replace("</xml>", "<authinfo><![CDATA[SECOND]]></authinfo></xml>");
            respond(s, 200, "", body.as_bytes())
        },
        Expect::Kind(ErrorKind::BadResponse),
    ),
    (
        "expires_in 0",
        |_, s| respond(s, 200, "", &signed_success("A", "0", &[])),
        Expect::Kind(ErrorKind::BadResponse),
    ),
    (
        "expires_in u32::MAX",
        |_, s| respond(s, 200, "", &signed_success("A", "4294967295", &[])),
        Expect::Kind(ErrorKind::BadResponse),
    ),
    (
        "expires_in beyond u64",
        |_, s| {
            respond(
                s,
                200,
                "",
                &signed_success("A", "99999999999999999999999", &[]),
            )
        },
        Expect::Kind(ErrorKind::BadResponse),
    ),
    (
        "expires_in negative",
        |_, s| respond(s, 200, "", &signed_success("A", "-1", &[])),
        Expect::Kind(ErrorKind::BadResponse),
    ),
    (
        "success dated year 9999",
        |_, s| {
            respond(
                s,
                200,
                "Date: Fri, 31 Dec 9999 23:59:59 GMT\r\n",
                &OK_BODY(),
            )
        },
        Expect::Ok("HOSTILEOK"),
    ),
    (
        "success dated 1970",
        |_, s| {
            respond(
                s,
                200,
                "Date: Thu, 01 Jan 1970 00:16:40 GMT\r\n",
                &OK_BODY(),
            )
        },
        Expect::Ok("HOSTILEOK"),
    ),
    (
        "echoes another mch_id (signed)",
        |_, s| {
            let body = signed_success("A", "3600", &[]);
            let body = String::from_utf8(body)
                .unwrap()
                .replace(MCH_ID, "1900000999");
            // Re-sign so only the echo is wrong.
            let fields: Vec<(String, String)> = pairs(&[
                ("return_code", "SUCCESS"),
                ("appid", APPID),
                ("mch_id", "1900000999"),
                ("authinfo", "A"),
                ("expires_in", "3600"),
            ]);
            let sign = wxface_mock::sign(&fields, wxface_mock::DEFAULT_KEY, "HMAC-SHA256");
            let mut f = fields;
            f.push(("sign".into(), sign));
            let _ = body;
            respond(s, 200, "", &xml(&f))
        },
        Expect::Kind(ErrorKind::BadResponse),
    ),
    (
        "echoes a sub_mch_id we did not send (signed)",
        |_, s| {
            respond(
                s,
                200,
                "",
                &signed_success("A", "3600", &[("sub_mch_id", "1")]),
            )
        },
        Expect::Kind(ErrorKind::BadResponse),
    ),
    (
        "success without a signature",
        |_, s| {
            let f = pairs(&[
                ("return_code", "SUCCESS"),
                ("appid", APPID),
                ("mch_id", MCH_ID),
                ("authinfo", "FORGED"),
                ("expires_in", "3600"),
            ]);
            respond(s, 200, "", &xml(&f))
        },
        Expect::Kind(ErrorKind::Signature),
    ),
    (
        "control characters and a forged log line in return_msg",
        |_, s| {
            respond(
                s,
                200,
                "",
                &failure(
                    "ERROR",
                    "bad\n[L1] ERROR forged line\r\x1b[31mred\x1b[0m\u{202e}",
                ),
            )
        },
        Expect::Kind(ErrorKind::Remote),
    ),
    (
        "60 KB return_msg",
        |_, s| respond(s, 200, "", &failure("PARAM_ERROR", &"洪".repeat(20_000))),
        Expect::Kind(ErrorKind::Remote),
    ),
    (
        "DOCTYPE with an entity",
        |_, s| {
            let body = b"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><return_code>&e;</return_code></xml>";
            respond(s, 200, "", body)
        },
        Expect::Kind(ErrorKind::BadResponse),
    ),
    (
        "not HTTP at all",
        |_, s| {
            let _ = s.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n");
        },
        Expect::Kind(ErrorKind::BadResponse),
    ),
    (
        "closed without an answer",
        |_, _| {},
        Expect::Kind(ErrorKind::Network),
    ),
];

/// A client for `server` with a short call timeout (the slow rows end on it), no retries (each
/// row is one answer), every log line checked for secrets and for being one clean line.
fn hostile_client(server: &RawServer, lines: &Arc<std::sync::Mutex<Vec<String>>>) -> Client {
    let lines = Arc::clone(lines);
    let config = builder_for(&server.base_url())
        .timeout(Duration::from_millis(1500))
        .max_retries(0)
        .cache(false)
        .log_level(Level::Debug)
        .log_callback(move |level, line| {
            assert_clean_line(level, line);
            lines.lock().unwrap().push(line.to_owned());
        });
    Client::new(config.build().unwrap()).unwrap()
}

#[test]
fn hostile_answers_table() {
    let mut failures = Vec::new();
    for (name, answer, expect) in TABLE {
        let answer = *answer;
        let server = RawServer::start(answer);
        let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
        let client = hostile_client(&server, &lines);
        let t0 = Instant::now();
        let result = client.get_authinfo(&request(RAWDATA));
        let elapsed = t0.elapsed();
        let ok = match (expect, &result) {
            (Expect::Ok(v), Ok(info)) => info.authinfo == *v,
            (Expect::Kind(k), Err(e)) => e.kind() == *k,
            _ => false,
        };
        if !ok {
            failures.push(format!("{name}: {result:?}"));
        }
        // Only a hang bound: the call's own timeout is 1.5 s.
        assert!(
            elapsed < Duration::from_secs(10),
            "{name}: took {elapsed:?}"
        );
        if let Err(e) = &result {
            let shown = e.to_string();
            assert!(
                !shown.chars().any(|c| c.is_control() || c == '\u{202e}'),
                "{name}: the message is not one clean line: {shown:?}"
            );
            assert!(
                shown.len() < 1024,
                "{name}: {} bytes of message",
                shown.len()
            );
        }
        for line in lines.lock().unwrap().iter() {
            assert!(
                !line.chars().any(|c| c.is_control() || c == '\u{202e}'),
                "{name}: log line not clean: {line:?}"
            );
            assert!(
                line.len() < 2048,
                "{name}: {} bytes of log line",
                line.len()
            );
        }
        assert_eq!(server.request_count(), 1, "{name}: requests");
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn server_text_is_kept_exact_only_in_the_raw_accessors() {
    let msg = "bad\n[L1] ERROR forged line\t\x1b[31mred";
    let server = RawServer::start(move |_, s| respond(s, 200, "", &failure("ERROR", msg)));
    let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
    let client = hostile_client(&server, &lines);
    let err = client.get_authinfo(&request(RAWDATA)).unwrap_err();
    assert_eq!(
        err.remote(),
        Some(("ERROR", msg)),
        "raw accessors are exact"
    );
    assert_eq!(
        err.to_string(),
        "WeChat answered ERROR: bad\\n[L1] ERROR forged line\\t\\u{1b}[31mred"
    );
    let logged = lines.lock().unwrap().join("\n");
    assert!(logged.contains("bad\\n[L1] ERROR forged line"), "{logged}");
}

// ----- forged clock answers -----

/// A server that refuses `now` (unsigned `PARAM_ERROR 非法的Now参数`) with `Date: date` for the
/// first `refusals` requests, then answers a signed success and records the `now` it got.
fn clock_server(date: String, refusals: usize, nows: Arc<std::sync::Mutex<Vec<i64>>>) -> RawServer {
    RawServer::start(move |req, s| {
        let now = req.field("now").and_then(|n| n.parse().ok()).unwrap_or(-1);
        nows.lock().unwrap().push(now);
        if req.index <= refusals {
            respond(
                s,
                200,
                &format!("Date: {date}\r\n"),
                &failure("PARAM_ERROR", "非法的Now参数"),
            );
        } else {
            respond(s, 200, "", &OK_BODY());
        }
    })
}

#[test]
fn forged_clock_answers_do_not_disable_the_client() {
    for (label, date) in [
        ("year 9999", "Fri, 31 Dec 9999 23:59:59 GMT".to_owned()),
        ("1970 + 1000 s", http_date(1000)),
        ("1969", "Wed, 31 Dec 1969 23:59:59 GMT".to_owned()),
    ] {
        let nows = Arc::new(std::sync::Mutex::new(Vec::new()));
        let server = clock_server(date, 1, Arc::clone(&nows));
        let client = client_of(builder_for(&server.base_url()).cache(false));
        let err = client.get_authinfo(&request(RAWDATA)).unwrap_err();
        assert_eq!(
            err.remote(),
            Some(("PARAM_ERROR", "非法的Now参数")),
            "{label}: WeChat's answer is reported"
        );
        assert_eq!(client.clock_offset_secs(), 0, "{label}: no offset kept");
        assert_eq!(server.request_count(), 1, "{label}: no corrected retry");
        // The next call sends our own clock and succeeds.
        client.get_authinfo(&request(RAWDATA)).unwrap();
        let sent = *nows.lock().unwrap().last().unwrap();
        assert!((sent - unix_now()).abs() < 300, "{label}: sent now={sent}");
    }
}

#[test]
fn a_correction_that_is_refused_again_is_not_kept() {
    // A plausible Date three days ahead, but the corrected `now` is refused too.
    let nows = Arc::new(std::sync::Mutex::new(Vec::new()));
    let server = clock_server(http_date(unix_now() + 3 * 86_400), 2, Arc::clone(&nows));
    let client = client_of(builder_for(&server.base_url()).cache(false));
    let err = client.get_authinfo(&request(RAWDATA)).unwrap_err();
    assert_eq!(err.remote(), Some(("PARAM_ERROR", "非法的Now参数")));
    assert_eq!(server.request_count(), 2, "one corrected retry");
    assert_eq!(
        client.clock_offset_secs(),
        0,
        "not kept without a verified answer"
    );
    let sent = nows.lock().unwrap().clone();
    assert!((sent[1] - sent[0] - 3 * 86_400).abs() < 120, "{sent:?}");
    // A plausible correction that WeChat accepts is kept.
    let nows = Arc::new(std::sync::Mutex::new(Vec::new()));
    let server = clock_server(http_date(unix_now() + 3 * 86_400), 1, Arc::clone(&nows));
    let client = client_of(builder_for(&server.base_url()).cache(false));
    let r = client
        .get_authinfo_with(&request(RAWDATA), &Default::default())
        .unwrap();
    assert!(r.clock_corrected);
    assert!((client.clock_offset_secs() - 3 * 86_400).abs() < 120);
}

// ----- TLS handshakes refused by the server -----

/// A TLS server that reads the ClientHello and answers with a fatal alert, as a server does
/// that shares no cipher suite or protocol version with us.
fn alert_server(description: u8) -> RawServer {
    RawServer::start_raw(move |stream, _| {
        let mut hello = [0u8; 5];
        if std::io::Read::read_exact(stream, &mut hello).is_ok() {
            let len = usize::from(u16::from_be_bytes([hello[3], hello[4]]));
            let mut rest = vec![0u8; len];
            let _ = std::io::Read::read_exact(stream, &mut rest);
        }
        let _ = stream.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, description]);
    })
}

#[test]
fn refused_tls_handshakes_are_tls_errors_and_not_retried() {
    // handshake_failure (no shared cipher), protocol_version, insufficient_security.
    for alert in [40u8, 70, 71] {
        let server = alert_server(alert);
        let url = format!("https://127.0.0.1:{}", server.port());
        let client = client_of(builder_for(&url).cache(false).max_retries(2));
        let err = client.get_authinfo(&request(RAWDATA)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Tls, "alert {alert}: {err:?}");
        assert_eq!(server.request_count(), 1, "alert {alert}: retried");
        assert!(err.to_string().len() < 200, "{err}");
    }
}

#[test]
fn socks5_proxies_resolve_host_names_themselves() {
    // The terminal may have no DNS of its own: the SOCKS5 request must carry the host name
    // (address type 3), not an address resolved locally (a DNS leak, and a failure here).
    let got = Arc::new(std::sync::Mutex::new(Vec::new()));
    let g = Arc::clone(&got);
    let proxy = RawServer::start_raw(move |stream, _| {
        let mut buf = [0u8; 512];
        let n = std::io::Read::read(stream, &mut buf).unwrap_or(0);
        if buf[..n].starts_with(&[5]) {
            let _ = stream.write_all(&[5, 0]);
            let n = std::io::Read::read(stream, &mut buf).unwrap_or(0);
            g.lock().unwrap().extend_from_slice(&buf[..n]);
        }
        // Then refuse: "host unreachable".
        let _ = stream.write_all(&[5, 4, 0, 1, 0, 0, 0, 0, 0, 0]);
    });
    for scheme in ["socks5", "socks5h"] {
        got.lock().unwrap().clear();
        let client = client_of(
            builder_for("https://payapp.weixin.qq.com")
                .proxy(format!("{scheme}://127.0.0.1:{}", proxy.port()))
                .cache(false)
                .max_retries(0),
        );
        let err = client.get_authinfo(&request(RAWDATA)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Network, "{scheme}: {err:?}");
        let req = got.lock().unwrap().clone();
        let host = b"payapp.weixin.qq.com";
        assert!(
            req.len() > 5 && req[..4] == [5, 1, 0, 3] && req[5..].starts_with(host),
            "{scheme}: SOCKS5 request {req:?}"
        );
    }
}

/// A hostile proxy: what it answers to the CONNECT head or the SOCKS5 greeting, and (SOCKS5)
/// to the connect request; then it closes.
type ProxyRow = (
    &'static str,
    &'static [u8],
    &'static [u8],
    ErrorKind,
    &'static str,
    usize,
);

const PROXY_TABLE: &[ProxyRow] = &[
    (
        "http",
        b"garbage garbage\r\n\r\n",
        b"",
        ErrorKind::Network,
        "network error: proxy: the HTTP proxy's answer to CONNECT is not HTTP",
        3,
    ),
    (
        "http",
        b"\x00\x01\x02\x03\r\n\r\n",
        b"",
        ErrorKind::Network,
        "network error: proxy: the HTTP proxy's answer to CONNECT is not HTTP",
        3,
    ),
    // Not a status line: a 200 followed by a 0 (the old reader took its first three digits).
    (
        "http",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"",
        ErrorKind::Network,
        "network error: proxy: the HTTP proxy's answer to CONNECT is not HTTP",
        3,
    ),
    (
        "http",
        b"HTTP/1.1 999 What\r\n\r\n",
        b"",
        ErrorKind::HttpStatus,
        "unexpected HTTP status 999: the HTTP proxy refused CONNECT",
        1,
    ),
    // The same credentials would be refused again: one connection, no retry.
    (
        "http",
        b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n",
        b"",
        ErrorKind::HttpStatus,
        "unexpected HTTP status 407: the HTTP proxy wants (other) credentials",
        1,
    ),
    (
        "http",
        b"HTTP/1.1 503 Service Unavailable\r\n\r\n",
        b"",
        ErrorKind::HttpStatus,
        "unexpected HTTP status 503: the HTTP proxy refused CONNECT",
        3,
    ),
    (
        "http",
        b"HTTP/1.1 200 Conn",
        b"",
        ErrorKind::Network,
        "network error: proxy: the HTTP proxy closed the connection during CONNECT",
        3,
    ),
    (
        "socks5",
        b"garbage",
        b"",
        ErrorKind::Network,
        "network error: proxy: the SOCKS5 proxy's answer is not SOCKS5",
        3,
    ),
    // SOCKS5 refusals that would be made again are final, reported as the HTTP status of the
    // same meaning (SOCKS5 has none): 407 for authentication, 403 for the proxy's rules.
    (
        "socks5",
        b"\x05\xff",
        b"",
        ErrorKind::HttpStatus,
        "unexpected HTTP status 407: the SOCKS5 proxy accepts none of our authentication methods",
        1,
    ),
    (
        "socks5",
        b"\x05\x02",
        b"",
        ErrorKind::HttpStatus,
        "unexpected HTTP status 407: the SOCKS5 proxy wants credentials",
        1,
    ),
    (
        "socks5",
        b"\x05\x00",
        b"\x05\x02\x00\x01\x00\x00\x00\x00\x00\x00",
        ErrorKind::HttpStatus,
        "unexpected HTTP status 403: the SOCKS5 proxy's rules do not allow the connection",
        1,
    ),
    // The proxy's own trouble reaching the host may pass: retried.
    (
        "socks5",
        b"\x05\x00",
        b"\x05\x04\x00\x01\x00\x00\x00\x00\x00\x00",
        ErrorKind::Network,
        "network error: proxy: the SOCKS5 proxy could not connect: host unreachable",
        3,
    ),
    (
        "socks5",
        b"\x05",
        b"",
        ErrorKind::Network,
        "network error: proxy: the SOCKS5 proxy closed the connection before its reply was complete",
        3,
    ),
    (
        "socks5",
        b"\x05\x00",
        b"\x05\x00\x00",
        ErrorKind::Network,
        "network error: proxy: the SOCKS5 proxy closed the connection before its reply was complete",
        3,
    ),
];

/// A SOCKS5 proxy that asks for user/password and refuses the pair (RFC 1929 status 1), or
/// picks "no authentication" which we did not offer: the first is final (407, one connection),
/// the second a broken proxy (retried).
#[test]
fn socks5_proxy_refusing_credentials_is_final() {
    for (method, message, kind, connections) in [
        (
            2u8,
            "unexpected HTTP status 407: the SOCKS5 proxy refused the credentials",
            ErrorKind::HttpStatus,
            1,
        ),
        (
            0,
            "network error: proxy: the SOCKS5 proxy chose an authentication method we did not offer",
            ErrorKind::Network,
            3,
        ),
    ] {
        let proxy = RawServer::start_raw(move |stream, _| {
            let mut greeting = [0u8; 3];
            if std::io::Read::read_exact(stream, &mut greeting).is_err() || greeting != [5, 1, 2] {
                return;
            }
            let _ = stream.write_all(&[5, method]);
            // RFC 1929: version 1, the user name and the password, each after its length.
            let mut auth = [0u8; 1 + 1 + 4 + 1 + 6];
            if std::io::Read::read_exact(stream, &mut auth).is_ok() && &auth[2..6] == b"user" {
                let _ = stream.write_all(&[1, 1]);
            }
        });
        let client = client_of(
            builder_for("https://payapp.weixin.qq.com")
                .proxy(format!("socks5://127.0.0.1:{}", proxy.port()))
                .proxy_credentials("user", "secret")
                .cache(false)
                .max_retries(2)
                .backoff(Duration::from_millis(1), Duration::from_millis(2)),
        );
        let err = client.get_authinfo(&request(RAWDATA)).unwrap_err();
        assert_eq!((err.kind(), err.to_string().as_str()), (kind, message));
        assert_eq!(proxy.request_count(), connections, "{message}");
    }
}

/// Reads what the client sends first: a CONNECT head, or a SOCKS5 greeting (`[5, 1, m]`), then
/// (with `then`) the SOCKS5 connect request.
fn hostile_proxy(answer: &'static [u8], then: &'static [u8]) -> RawServer {
    RawServer::start_raw(move |stream, _| {
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        while !(got.ends_with(b"\r\n\r\n") || got.len() == 3 && got[0] == 5) {
            match std::io::Read::read(stream, &mut byte) {
                Ok(1) => got.push(byte[0]),
                _ => return,
            }
        }
        let _ = stream.write_all(answer);
        if !then.is_empty() {
            // The connect request: 4 bytes, then the address (a host name here) and port.
            let mut head = [0u8; 5];
            if std::io::Read::read_exact(stream, &mut head).is_err() {
                return;
            }
            let mut rest = vec![0u8; usize::from(head[4]) + 2];
            let _ = std::io::Read::read_exact(stream, &mut rest);
            let _ = stream.write_all(then);
        }
    })
}

#[test]
fn hostile_proxy_table() {
    let mut failures = Vec::new();
    for (scheme, answer, then, kind, message, connections) in PROXY_TABLE {
        let proxy = hostile_proxy(answer, then);
        let client = client_of(
            builder_for("https://payapp.weixin.qq.com")
                .proxy(format!("{scheme}://127.0.0.1:{}", proxy.port()))
                .cache(false)
                .max_retries(2)
                .backoff(Duration::from_millis(1), Duration::from_millis(2)),
        );
        let err = client.get_authinfo(&request(RAWDATA)).unwrap_err();
        let row = format!("{scheme} {:?}", String::from_utf8_lossy(answer));
        if err.kind() != *kind || err.to_string() != *message {
            failures.push(format!("{row}: {:?} {err}", err.kind()));
        }
        if proxy.request_count() != *connections {
            failures.push(format!(
                "{row}: {} connections, expected {connections}",
                proxy.request_count()
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn a_huge_timeout_is_refused_not_a_panic() {
    let err = builder_for("http://127.0.0.1:1")
        .timeout(Duration::MAX)
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidArgument {
                field: "timeout",
                ..
            }
        ),
        "{err:?}"
    );
}
