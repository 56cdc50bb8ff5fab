//! The relay's HTTP API against the mock payapp server, state in memory: success, cache,
//! every failure status, rate limit, mutual TLS, metrics and the audit log.

mod support;

use std::time::Duration;

use support::*;
use wxface_mock::MockConfig;

#[test]
fn token_success_cache_metrics_and_a_clean_audit_log() {
    let dir = TempDir::new("ok");
    let mock = mock(MockConfig::default());
    let relay = RunningRelay::start(load_config(dir.path(), &mock.base_url(), ""));
    let t1 = token(dir.path(), "POS-01");
    let tsp = token(dir.path(), "SP-01");
    let agent = agent();
    let raw = "RAWDATA-secret-0123456789";

    let a = call(&agent, &relay.url, &t1, &body("POS-01", raw));
    assert_eq!(a.status, 200, "{}", a.json);
    let info = a.json["authinfo"].as_str().unwrap().to_owned();
    assert!(info.starts_with("MOCKAUTHINFO"), "{info}");
    assert_eq!(a.json["from_cache"], false);
    let exp = a.json["expires_in"].as_u64().unwrap();
    assert!((3590..=3600).contains(&exp), "{exp}");
    assert_eq!(mock.request_count(), 1);

    let b = call(&agent, &relay.url, &t1, &body("POS-01", raw));
    assert_eq!(b.status, 200);
    assert_eq!(b.json["from_cache"], true);
    assert_eq!(b.json["authinfo"], info.as_str());
    assert_eq!(mock.request_count(), 1, "the second call is a cache hit");

    // force_refresh goes upstream again.
    let mut forced: serde_json::Value = serde_json::from_str(&body("POS-01", raw)).unwrap();
    forced["force_refresh"] = true.into();
    let c = call(&agent, &relay.url, &t1, &forced.to_string());
    assert_eq!(c.status, 200);
    assert_eq!(c.json["from_cache"], false);
    assert_ne!(c.json["authinfo"], info.as_str());
    assert_eq!(mock.request_count(), 2);

    // The service-provider merchant signs with its own ids (and MD5).
    let s = call(&agent, &relay.url, &tsp, &body("SP-01", raw));
    assert_eq!(s.status, 200, "{}", s.json);
    let sent = mock.requests().pop().unwrap();
    assert_eq!(sent.field("mch_id"), Some("1900000100"));
    assert_eq!(sent.field("sub_mch_id"), Some("1900000201"));
    assert_eq!(sent.field("sign_type"), Some("MD5"));
    assert_eq!(sent.field("device_id"), Some("SP-01"));

    let (st, text) = get_text(&agent, &format!("{}/healthz", relay.url));
    assert_eq!(st, 200, "{text}");
    let (st, text) = get_text(&agent, &format!("{}/readyz", relay.url));
    assert_eq!(st, 200);
    assert!(
        text.contains("\"status\":\"ready\"") && text.contains("memory"),
        "{text}"
    );
    let (st, m) = get_text(&agent, &format!("{}/metrics", relay.url));
    assert_eq!(st, 200);
    assert!(
        m.contains("wxface_relay_requests_total{status=\"200\",outcome=\"ok\"} 4\n"),
        "{m}"
    );
    assert!(m.contains("wxface_relay_cache_hits_total 1\n"), "{m}");
    assert!(m.contains("wxface_relay_upstream_seconds_count 3\n"), "{m}");

    let audit = std::fs::read_to_string(dir.path().join("audit.log")).unwrap();
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{audit}");
    assert_eq!(lines[0]["device"], "POS-01");
    assert_eq!(lines[0]["store"], "1001");
    assert_eq!(lines[0]["outcome"], "ok");
    assert_eq!(lines[0]["auth"], "token");
    assert_eq!(lines[0]["cache_hit"], false);
    assert_eq!(lines[1]["cache_hit"], true);
    assert_eq!(lines[3]["merchant"], "sp");
    for secret in [raw, &info[..], &t1[..], &tsp[..], KEY, &t1[4..20]] {
        assert!(!audit.contains(secret), "the audit log leaks {secret:.8}…");
    }
    let tokens = std::fs::read_to_string(dir.path().join("tokens")).unwrap();
    assert!(!tokens.contains(&t1[4..]) && !tokens.contains(&tsp[4..]));
}

#[test]
fn every_failure_has_its_status_and_code() {
    let dir = TempDir::new("fail");
    let mock = mock(MockConfig::default());
    let extra = "upstream_timeout_ms = 1000\nmax_body_bytes = 4096\nrate_limit = { requests = 3, window_secs = 3600 }";
    let relay = RunningRelay::start(load_config(dir.path(), &mock.base_url(), extra));
    let agent = agent();
    let t1 = token(dir.path(), "POS-01");
    let t2 = token(dir.path(), "POS-02");
    let t3 = token(dir.path(), "POS-03");
    let t4 = token(dir.path(), "POS-04");
    let stranger = token(dir.path(), "POS-99");
    let ok = body("POS-01", "raw");
    let code = |a: &Answer| a.json["error"].as_str().unwrap_or_default().to_owned();

    // 401: no credential, unknown token, revoked token.
    let a = post(&agent, &relay.url, None, "application/json", &ok).unwrap();
    assert_eq!((a.status, code(&a).as_str()), (401, "unauthenticated"));
    let a = call(&agent, &relay.url, "wxr_0000", &ok);
    assert_eq!((a.status, code(&a).as_str()), (401, "bad_credential"));
    let t5 = token(dir.path(), "POS-05");
    let b5 = body("POS-05", "raw");
    assert_eq!(call(&agent, &relay.url, &t5, &b5).status, 200);
    wxface_relay::tokens::revoke(&dir.path().join("tokens"), "POS-05").unwrap();
    let a = call(&agent, &relay.url, &t5, &b5);
    assert_eq!((a.status, code(&a).as_str()), (401, "bad_credential"));

    // 403: device id mismatch, store not allowed, device not configured.
    let a = call(&agent, &relay.url, &t1, &body("POS-02", "raw"));
    assert_eq!((a.status, code(&a).as_str()), (403, "forbidden"));
    let other_store = ok.replace("\"1001\"", "\"2002\"");
    let a = call(&agent, &relay.url, &t1, &other_store);
    assert_eq!(
        (a.status, code(&a).as_str()),
        (403, "forbidden"),
        "{}",
        a.json
    );
    let a = call(&agent, &relay.url, &stranger, &body("POS-99", "raw"));
    assert_eq!((a.status, code(&a).as_str()), (403, "forbidden"));

    // 413, 415, 400.
    let huge = body("POS-01", &"x".repeat(5000));
    let a = call(&agent, &relay.url, &t1, &huge);
    assert_eq!((a.status, code(&a).as_str()), (413, "body_too_large"));
    let a = post(&agent, &relay.url, Some(&t1), "text/plain", &ok).unwrap();
    assert_eq!(
        (a.status, code(&a).as_str()),
        (415, "unsupported_media_type")
    );
    let a = call(&agent, &relay.url, &t1, "{\"store_id\": \"1001\",");
    assert_eq!((a.status, code(&a).as_str()), (400, "bad_json"));
    let a = call(&agent, &relay.url, &t1, "{\"store_id\": \"1001\"}");
    assert_eq!((a.status, code(&a).as_str()), (400, "bad_json"));
    assert!(
        a.json["message"].as_str().unwrap().contains("store_name"),
        "{}",
        a.json
    );
    let emoji = ok.replace("深圳南山科技园店", "店😀");
    let a = call(&agent, &relay.url, &t1, &emoji);
    assert_eq!((a.status, code(&a).as_str()), (400, "invalid_field"));
    assert_eq!(a.json["field"], "store_name");
    assert_eq!(
        mock.request_count(),
        1,
        "nothing invalid reached the upstream"
    );

    // 502: WeChat said no, with its return_code and return_msg.
    let a = call(
        &agent,
        &relay.url,
        &t2,
        &body("POS-02", "MOCK:signed-error"),
    );
    assert_eq!((a.status, code(&a).as_str()), (502, "upstream_refused"));
    assert_eq!(a.json["return_code"], "ERROR");
    assert_eq!(a.json["return_msg"], "无效的RawData数据");
    assert_eq!(a.json["status"], 8);
    let a = call(
        &agent,
        &relay.url,
        &t2,
        &body("POS-02", "MOCK:tampered-sign"),
    );
    assert_eq!((a.status, code(&a).as_str()), (502, "upstream_error"));
    assert_eq!(a.json["status"], 7);

    // 504: the upstream does not answer within the deadline.
    let a = call(&agent, &relay.url, &t3, &body("POS-03", "MOCK:hang"));
    assert_eq!(
        (a.status, code(&a).as_str()),
        (504, "upstream_timeout"),
        "{}",
        a.json
    );

    // 429 after 3 requests in the window, with Retry-After.
    for _ in 0..3 {
        assert_eq!(
            call(&agent, &relay.url, &t4, &body("POS-04", "raw")).status,
            200
        );
    }
    let a = call(&agent, &relay.url, &t4, &body("POS-04", "raw"));
    assert_eq!((a.status, code(&a).as_str()), (429, "rate_limited"));
    let secs: u64 = a.retry_after.as_deref().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&secs), "{secs}");

    let (_, m) = get_text(&agent, &format!("{}/metrics", relay.url));
    for line in [
        "status=\"401\",outcome=\"unauthenticated\"} 1",
        "status=\"401\",outcome=\"bad_credential\"} 2",
        "status=\"403\",outcome=\"forbidden\"} 3",
        "status=\"413\",outcome=\"body_too_large\"} 1",
        "status=\"502\",outcome=\"upstream_refused\"} 1",
        "status=\"504\",outcome=\"upstream_timeout\"} 1",
        "status=\"429\",outcome=\"rate_limited\"} 1",
    ] {
        assert!(m.contains(line), "missing {line} in\n{m}");
    }
    let audit = std::fs::read_to_string(dir.path().join("audit.log")).unwrap();
    assert!(audit.contains("\"return_code\":\"ERROR\""));
    for secret in [&t1[..], &t5[..], &stranger[..], KEY, "MOCKAUTHINFO"] {
        assert!(!audit.contains(secret), "the audit log leaks {secret:.8}…");
    }
}

/// A relay serving HTTPS with a server certificate of its own CA and client certificates of a
/// terminal CA; `tls_extra` goes into its `[tls]` table. Returns it and the two CAs.
fn mtls_relay(
    dir: &TempDir,
    mock: &wxface_mock::MockServer,
    tls_extra: &str,
) -> (RunningRelay, Ca, Ca) {
    let server_ca = Ca::new("relay server CA");
    let (scert, skey) = server_ca.issue("relay", &["127.0.0.1", "localhost"]);
    let terminal_ca = Ca::new("merchant terminal CA");
    std::fs::write(dir.path().join("server.pem"), &scert).unwrap();
    std::fs::write(dir.path().join("server.key"), &skey).unwrap();
    std::fs::write(dir.path().join("terminals.pem"), terminal_ca.pem()).unwrap();
    let extra = format!(
        "[tls]\ncert = \"server.pem\"\nkey = \"server.key\"\nclient_ca = \"terminals.pem\"\n{tls_extra}"
    );
    let relay = RunningRelay::start(load_config(dir.path(), &mock.base_url(), &extra));
    (relay, server_ca, terminal_ca)
}

#[test]
fn mutual_tls_takes_the_device_id_from_the_certificate() {
    let dir = TempDir::new("mtls");
    let mock = mock(MockConfig::default());
    let (relay, server_ca, terminal_ca) = mtls_relay(&dir, &mock, "");
    let rogue_ca = Ca::new("rogue CA");
    assert!(relay.url.starts_with("https://"));

    let good = terminal_ca.issue("POS-CERT", &[]);
    let a = tls_agent(&server_ca.pem(), Some(&good));
    let ans = post(
        &a,
        &relay.url,
        None,
        "application/json",
        &body("POS-CERT", "raw"),
    )
    .unwrap();
    assert_eq!(ans.status, 200, "{}", ans.json);
    assert!(
        ans.json["authinfo"]
            .as_str()
            .unwrap()
            .starts_with("MOCKAUTHINFO")
    );
    // The certificate names the device: the body cannot claim another one.
    let ans = post(
        &a,
        &relay.url,
        None,
        "application/json",
        &body("POS-01", "raw"),
    )
    .unwrap();
    assert_eq!(
        (ans.status, ans.json["error"].as_str()),
        (403, Some("forbidden"))
    );
    // A certificate of the right CA for a device the relay does not know.
    let unknown = tls_agent(&server_ca.pem(), Some(&terminal_ca.issue("POS-77", &[])));
    let ans = post(
        &unknown,
        &relay.url,
        None,
        "application/json",
        &body("POS-77", "raw"),
    )
    .unwrap();
    assert_eq!(ans.status, 403);
    // A certificate from another CA fails the handshake.
    let rogue = tls_agent(&server_ca.pem(), Some(&rogue_ca.issue("POS-CERT", &[])));
    let err = post(
        &rogue,
        &relay.url,
        None,
        "application/json",
        &body("POS-CERT", "raw"),
    );
    assert!(err.is_err(), "a rogue certificate was accepted");
    // No certificate and no token: 401; a token still works over TLS.
    let plain = tls_agent(&server_ca.pem(), None);
    let ans = post(
        &plain,
        &relay.url,
        None,
        "application/json",
        &body("POS-01", "raw"),
    )
    .unwrap();
    assert_eq!(ans.status, 401);
    let t1 = token(dir.path(), "POS-01");
    let ans = post(
        &plain,
        &relay.url,
        Some(&t1),
        "application/json",
        &body("POS-01", "raw"),
    )
    .unwrap();
    assert_eq!(ans.status, 200);
    let audit = std::fs::read_to_string(dir.path().join("audit.log")).unwrap();
    assert!(
        audit.lines().next().unwrap().contains("\"auth\":\"mtls\""),
        "{audit}"
    );
    assert_eq!(mock.request_count(), 2);
}

#[test]
fn the_bearer_scheme_is_case_insensitive() {
    let dir = TempDir::new("scheme");
    let mock = mock(MockConfig::default());
    let relay = RunningRelay::start(load_config(dir.path(), &mock.base_url(), ""));
    let t1 = token(dir.path(), "POS-01");
    let agent = agent();
    for scheme in ["bearer", "BEARER", "Bearer", "bEaReR"] {
        let mut resp = agent
            .post(format!("{}/v1/authinfo", relay.url))
            .header("Content-Type", "application/json")
            .header("Authorization", format!("{scheme} {t1}"))
            .send(body("POS-01", "raw").as_bytes())
            .unwrap();
        let text = resp.body_mut().read_to_string().unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{scheme}: {text}");
    }
    // Another scheme is still no credential.
    let resp = agent
        .post(format!("{}/v1/authinfo", relay.url))
        .header("Content-Type", "application/json")
        .header("Authorization", format!("Basic {t1}"))
        .send(body("POS-01", "raw").as_bytes())
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
}

#[test]
fn require_client_cert_refuses_the_handshake_without_one() {
    let dir = TempDir::new("reqcert");
    let mock = mock(MockConfig::default());
    let (relay, server_ca, terminal_ca) = mtls_relay(&dir, &mock, "require_client_cert = true");
    let t1 = token(dir.path(), "POS-01");

    // Without a certificate the handshake fails: even a valid token never reaches the relay.
    let plain = tls_agent(&server_ca.pem(), None);
    for token in [None, Some(t1.as_str())] {
        let r = post(
            &plain,
            &relay.url,
            token,
            "application/json",
            &body("POS-01", "raw"),
        );
        assert!(
            r.is_err(),
            "a client without a certificate got an HTTP answer {}",
            r.map(|a| a.status).unwrap_or_default()
        );
    }
    // With one, as before.
    let good = tls_agent(&server_ca.pem(), Some(&terminal_ca.issue("POS-CERT", &[])));
    let a = post(
        &good,
        &relay.url,
        None,
        "application/json",
        &body("POS-CERT", "raw"),
    )
    .unwrap();
    assert_eq!(a.status, 200, "{}", a.json);
    assert_eq!(mock.request_count(), 1);
}

#[test]
fn json_logs_carry_the_request_id_into_the_audit_line_and_the_library_log() {
    let dir = TempDir::new("logs");
    let mock = mock(MockConfig::default());
    load_config(
        dir.path(),
        &mock.base_url(),
        "log_format = \"json\"\nlog_level = \"info\"",
    );
    let t1 = token(dir.path(), "POS-01");
    let relay = RelayProcess::spawn(&dir.path().join("relay.toml"), None);
    let raw = "RAWDATA-secret-0123456789";
    let mut resp = agent()
        .post(format!("{}/v1/authinfo", relay.url))
        .header("Content-Type", "application/json")
        .header("Authorization", format!("Bearer {t1}"))
        .send(body("POS-01", raw).as_bytes())
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let answer: serde_json::Value =
        serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    let info = answer["authinfo"].as_str().unwrap().to_owned();
    assert!(info.starts_with("MOCKAUTHINFO"), "{answer}");
    // A load balancer's id is kept; a hostile one is replaced.
    let resp = agent()
        .get(format!("{}/healthz", relay.url))
        .header("x-request-id", "lb-42.a:b")
        .call()
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "lb-42.a:b");
    let resp = agent()
        .get(format!("{}/healthz", relay.url))
        .header("x-request-id", "x\"} forged")
        .call()
        .unwrap();
    assert_ne!(resp.headers()["x-request-id"], "x\"} forged");

    let audit = std::fs::read_to_string(dir.path().join("audit.log")).unwrap();
    let line: serde_json::Value = serde_json::from_str(audit.lines().next().unwrap()).unwrap();
    assert_eq!(line["request_id"], id.as_str(), "{audit}");
    // The library's own line about the upstream call, as JSON, in the request's span.
    let found = eventually(Duration::from_secs(10), || {
        relay.stderr.lock().unwrap().iter().any(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .is_ok_and(|v| v["target"] == "wxface" && v["span"]["request_id"] == id.as_str())
        })
    });
    let log = relay.stderr.lock().unwrap().join("\n");
    assert!(found, "no library line with request_id {id} in\n{log}");
    for l in log.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(l).is_ok(),
            "not JSON: {l}"
        );
    }
    for secret in [raw, &t1[..], &t1[4..20], KEY, &info[..]] {
        assert!(!log.contains(secret), "the log leaks {secret:.8}…");
    }
}
