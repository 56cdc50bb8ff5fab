//! `wxface doctor` against the mock over loopback: one test per verdict, asserting the step,
//! the verdict text and the exit code. Every output is checked for the key (support::wxface).

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use support::*;

fn url(server: &MockServer) -> String {
    server.base_url()
}

#[test]
fn invalid_rawdata_answer_means_everything_is_accepted() {
    let server = start(MockConfig {
        rawdata_prefix: Some("FACESDK:".into()),
        ..Default::default()
    });
    let run = doctor(&url(&server), &[], &env_for(KEY));
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let v = run.json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["return_msg"], "无效的RawData数据");
    let probe = run.step("probe");
    assert_eq!(probe["status"], "pass");
    let detail = probe["detail"].as_str().unwrap();
    assert!(detail.contains("无效的RawData数据"), "{detail}");
    assert!(
        detail.contains("key, sign type (HMAC-SHA256) and ids are all accepted"),
        "{detail}"
    );
    for step in ["configuration", "DNS", "TCP", "clock"] {
        assert_eq!(run.step(step)["status"], "pass", "{step}: {}", run.stdout);
    }
    assert_eq!(run.step("TLS")["status"], "skip");
    // The probe is one signed request with the doctor's rawdata, nothing else.
    let reqs = server.requests();
    let probes: Vec<_> = reqs.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(probes.len(), 1);
    assert_eq!(
        probes[0].field("rawdata"),
        Some("wxface-doctor-probe-not-a-real-rawdata")
    );
}

#[test]
fn success_from_a_lenient_server_passes() {
    let server = start(MockConfig::default());
    let run = doctor(&url(&server), &[], &env_for(KEY));
    assert_eq!(run.code, 0, "{}", run.stdout);
    let detail = run.step("probe")["detail"].as_str().unwrap().to_owned();
    assert!(detail.starts_with("SUCCESS"), "{detail}");
    assert!(
        detail.contains("key, sign type and ids accepted"),
        "{detail}"
    );
}

#[test]
fn wrong_key_is_a_signature_error() {
    let server = start(MockConfig::default());
    let run = doctor(&url(&server), &[], &env_for(WRONG_KEY));
    assert_verdict(&run, "probe", 25, "签名错误");
    assert!(
        run.step("probe")["cause"]
            .as_str()
            .unwrap()
            .contains("wrong API key or sign type")
    );
}

#[test]
fn md5_sign_type_is_used_and_accepted() {
    // The mock checks the signature with the algorithm the request names: MD5 with the right
    // key passes, and the probe really is sent as MD5.
    let server = start(MockConfig::default());
    let run = doctor(&url(&server), &["--sign-type", "MD5"], &env_for(KEY));
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.step("configuration")["detail"]
            .as_str()
            .unwrap()
            .contains("sign type MD5")
    );
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.method == "POST")
            .count(),
        1
    );
    assert_eq!(
        server.requests().last().unwrap().field("sign_type"),
        Some("MD5")
    );
}

#[test]
fn skewed_clock_is_caught_by_the_clock_step_and_the_probe() {
    let server = start(MockConfig {
        clock_offset_secs: 1000,
        ..Default::default()
    });
    let run = doctor(&url(&server), &[], &env_for(KEY));
    assert_verdict(&run, "clock", 24, "s behind the server's");
    let clock = run.step("clock");
    let detail = clock["detail"].as_str().unwrap();
    // The Date header has one-second resolution.
    assert!(
        ["999 s", "1000 s", "1001 s"]
            .iter()
            .any(|s| detail.contains(s)),
        "{detail}"
    );
    assert!(clock["cause"].as_str().unwrap().contains("非法的Now参数"));
    // The probe still runs and gets WeChat's answer for it.
    let probe = run.step("probe");
    assert_eq!(probe["status"], "fail");
    assert!(
        probe["detail"].as_str().unwrap().contains("非法的Now参数"),
        "{probe}"
    );
    assert_eq!(probe["exit_code"], 24);
}

#[test]
fn ids_that_do_not_belong_together() {
    let server = start(MockConfig {
        expect_ids: vec![("sub_mch_id".into(), "1900000111".into())],
        ..Default::default()
    });
    let run = doctor(
        &url(&server),
        &["--sub-mch-id", "1900000222"],
        &env_for(KEY),
    );
    assert_verdict(
        &run,
        "probe",
        26,
        "请检查mchid,submchid,appid,subappid等信息是否正确",
    );
    // The right sub-merchant passes.
    let run = doctor(
        &url(&server),
        &["--sub-mch-id", "1900000111"],
        &env_for(KEY),
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn systemerror_means_no_face_pay_permission() {
    let server = start(MockConfig {
        scenario: Scenario::SignedSystemError,
        ..Default::default()
    });
    let run = doctor(&url(&server), &[], &env_for(KEY));
    assert_verdict(&run, "probe", 27, "SYSTEMERROR");
    assert!(
        run.step("probe")["cause"]
            .as_str()
            .unwrap()
            .contains("face-pay permission")
    );
    // One attempt only: the doctor does not retry.
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.method == "POST")
            .count(),
        1
    );
}

fn tls_server(presenting: &TestCa) -> MockServer {
    start(MockConfig {
        tls: Some(
            presenting
                .server_identity(&["localhost", "127.0.0.1"])
                .unwrap(),
        ),
        ..Default::default()
    })
}

fn write_ca(ca: &TestCa, name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wxface-cli-doctor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, ca.ca_pem()).unwrap();
    path
}

#[test]
fn https_with_a_custom_ca_passes_and_reports_the_certificate() {
    let ca = TestCa::new().unwrap();
    let server = tls_server(&ca);
    let ca_file = write_ca(&ca, "good-ca.pem");
    let run = doctor(
        &url(&server),
        &[
            "--ca-file",
            ca_file.to_str().unwrap(),
            "--builtin-roots",
            "false",
        ],
        &env_for(KEY),
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let tls = run.step("TLS");
    assert_eq!(tls["status"], "pass");
    let detail = tls["detail"].as_str().unwrap();
    assert!(
        detail.contains("issued by CN=wxface-mock test CA"),
        "{detail}"
    );
    assert!(detail.contains("valid for 127.0.0.1"), "{detail}");
    assert!(
        detail.contains("expires in") && detail.contains("days"),
        "{detail}"
    );
}

#[test]
fn certificate_from_another_ca_is_named_as_a_middlebox() {
    let trusted = TestCa::new().unwrap();
    let middlebox = TestCa::named("Shop Firewall Inspection CA").unwrap();
    let server = tls_server(&middlebox);
    let ca_file = write_ca(&trusted, "trusted-ca.pem");
    let run = doctor(
        &url(&server),
        &["--ca-file", ca_file.to_str().unwrap()],
        &env_for(KEY),
    );
    assert_verdict(
        &run,
        "TLS",
        23,
        "was issued by CN=Shop Firewall Inspection CA, which is not among",
    );
    assert!(
        run.step("TLS")["cause"]
            .as_str()
            .unwrap()
            .contains("middlebox")
    );
    assert_eq!(run.step("probe")["status"], "skip");
    assert_eq!(
        server.requests().len(),
        0,
        "nothing is sent over an untrusted connection"
    );
}

/// A CA (or, with `issuer`, a leaf for 127.0.0.1 signed by it) valid only in 2000.
fn cert_valid_in_2000(
    cn: &str,
    issuer: Option<&rcgen::CertifiedIssuer<'static, rcgen::KeyPair>>,
) -> (rcgen::CertificateParams, rcgen::KeyPair) {
    let names = if issuer.is_some() {
        vec!["127.0.0.1".to_owned()]
    } else {
        Vec::new()
    };
    let mut params = rcgen::CertificateParams::new(names).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params.not_before = rcgen::date_time_ymd(2000, 1, 1);
    params.not_after = rcgen::date_time_ymd(2000, 12, 31);
    if issuer.is_none() {
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    }
    (params, rcgen::KeyPair::generate().unwrap())
}

#[test]
fn an_expired_ca_file_is_a_configuration_failure() {
    let server = start(MockConfig::default());
    let (params, key) = cert_valid_in_2000("Expired Shop CA", None);
    let ca = rcgen::CertifiedIssuer::self_signed(params, key).unwrap();
    let path =
        std::env::temp_dir().join(format!("wxface-cli-expired-ca-{}.pem", std::process::id()));
    std::fs::write(&path, ca.pem()).unwrap();
    let run = doctor(
        &url(&server),
        &["--ca-file", path.to_str().unwrap()],
        &env_for(KEY),
    );
    assert_verdict(&run, "configuration", 11, "CN=Expired Shop CA expired");
    assert!(
        run.step("configuration")["cause"]
            .as_str()
            .unwrap()
            .contains("expired trust root")
    );
}

#[test]
fn an_expired_server_certificate_is_a_tls_failure() {
    let (params, key) = cert_valid_in_2000("Valid CA", None);
    let mut ca_params = params;
    ca_params.not_after = rcgen::date_time_ymd(4000, 1, 1);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, key).unwrap();
    let (leaf_params, leaf_key) = cert_valid_in_2000("expired-server", Some(&ca));
    let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
    let server = start(MockConfig {
        tls: Some(wxface_mock::TlsIdentity {
            cert_chain_pem: leaf.pem(),
            key_pem: leaf_key.serialize_pem(),
        }),
        ..Default::default()
    });
    let path = std::env::temp_dir().join(format!("wxface-cli-valid-ca-{}.pem", std::process::id()));
    std::fs::write(&path, ca.pem()).unwrap();
    let run = doctor(
        &url(&server),
        &["--ca-file", path.to_str().unwrap()],
        &env_for(KEY),
    );
    assert_verdict(
        &run,
        "TLS",
        23,
        "outside its validity period (CN=expired-server",
    );
    assert!(run.step("TLS")["cause"].as_str().unwrap().contains("clock"));
}

#[test]
fn bad_configuration_stops_before_the_network() {
    let server = start(MockConfig::default());
    let short = "short-key-123";
    let run = doctor(
        &url(&server),
        &[],
        &[
            ("WXFACE_KEY", short),
            ("WXFACE_MCH_ID", MCH_ID),
            ("WXFACE_APPID", APPID),
        ],
    );
    assert_verdict(&run, "configuration", 11, "is 13 bytes");
    assert!(!run.stdout.contains(short));
    for step in ["DNS", "TCP", "TLS", "clock", "probe"] {
        assert_eq!(run.step(step)["status"], "skip");
    }
    let run = doctor(&url(&server), &["--mch-id", "19000abc"], &env_for(KEY));
    assert_verdict(
        &run,
        "configuration",
        11,
        "mch_id \"19000abc\" does not look like one",
    );
    let run = doctor(&url(&server), &["--appid", "wx123"], &env_for(KEY));
    assert_verdict(&run, "configuration", 11, "appid \"wx123\"");
    let run = doctor(
        &url(&server),
        &["--sub-appid", "wx8888888888888888"],
        &env_for(KEY),
    );
    assert_verdict(
        &run,
        "configuration",
        11,
        "sub_appid is set without sub_mch_id",
    );
    let run = doctor(&url(&server), &["--sign-type", "SHA1"], &env_for(KEY));
    assert_verdict(&run, "configuration", 11, "expected MD5 or HMAC-SHA256");
    let run = doctor("http://192.0.2.1:80", &[], &env_for(KEY));
    assert_verdict(&run, "configuration", 11, "base_url");
    assert_eq!(server.requests().len(), 0);
}

fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn refused_connection_is_a_tcp_failure() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let run = doctor(&url, &[], &env_for(KEY));
    assert_verdict(&run, "TCP", 22, "refused");
    let proxy = format!("http://127.0.0.1:{}", closed_port());
    let run = doctor(&url, &["--proxy", &proxy], &env_for(KEY));
    assert_verdict(&run, "TCP", 22, "connection to the proxy 127.0.0.1:");
}

#[test]
fn unresolvable_name_is_a_dns_failure() {
    // .invalid never resolves (RFC 6761).
    let run = doctor("https://wxface-doctor-test.invalid", &[], &env_for(KEY));
    assert_verdict(&run, "DNS", 21, "cannot resolve wxface-doctor-test.invalid");
}

#[test]
fn a_hanging_server_is_cut_by_the_deadline() {
    let server = start(MockConfig {
        scenario: Scenario::Hang,
        ..Default::default()
    });
    let t0 = Instant::now();
    let run = doctor(&url(&server), &["--timeout-secs", "2"], &env_for(KEY));
    assert_verdict(&run, "probe", 29, "deadline of 2.0 s ran out during probe");
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    assert!(t0.elapsed() >= Duration::from_secs(2), "{:?}", t0.elapsed());
}

#[test]
fn the_probe_gets_only_what_is_left_of_the_deadline() {
    // Every answer takes 3 s: the clock step uses 3 of the 5 s, so the probe has 2 s left and
    // must give up, although a probe with a fresh 5 s would have got its answer.
    let server = start(MockConfig {
        delay: Duration::from_secs(3),
        ..Default::default()
    });
    let run = doctor(&url(&server), &["--timeout-secs", "5"], &env_for(KEY));
    assert_eq!(run.step("clock")["status"], "pass", "{}", run.stdout);
    assert_verdict(&run, "probe", 29, "deadline of 5.0 s ran out during probe");
}

/// An HTTP CONNECT proxy for `n` connections: reads each CONNECT, dials the target, answers
/// 200 and relays bytes both ways. Returns its port and a receiver of the CONNECT lines.
fn connect_proxy(n: usize) -> (u16, std::sync::mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for _ in 0..n {
            let Ok((client, _)) = listener.accept() else {
                return;
            };
            let tx = tx.clone();
            std::thread::spawn(move || relay(client, &tx));
        }
    });
    (port, rx)
}

fn relay(mut client: TcpStream, tx: &std::sync::mpsc::Sender<String>) {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read_exact(&mut b).is_err() {
            return;
        }
        head.push(b[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let line = head.lines().next().unwrap().to_owned();
    let target = line.split_whitespace().nth(1).unwrap().to_owned();
    let upstream = TcpStream::connect(&target).unwrap();
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .unwrap();
    tx.send(line).unwrap();
    let (mut c2, mut u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c2, &mut u2);
        let _ = u2.shutdown(std::net::Shutdown::Write);
    });
    let (mut u, mut c) = (upstream, client);
    let _ = std::io::copy(&mut u, &mut c);
    let _ = c.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
}

#[test]
fn tcp_and_tls_through_an_http_connect_proxy() {
    let ca = TestCa::new().unwrap();
    let server = tls_server(&ca);
    let ca_file = write_ca(&ca, "proxy-ca.pem");
    let (port, lines) = connect_proxy(2);
    let proxy_url = format!("http://127.0.0.1:{port}");
    let run = doctor(
        &url(&server),
        &[
            "--ca-file",
            ca_file.to_str().unwrap(),
            "--proxy",
            &proxy_url,
        ],
        &env_for(KEY),
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    // Both the doctor's own connection and the library's probe went through the proxy.
    let want = format!("CONNECT {} HTTP/1.1", server.addr());
    let got: Vec<String> = lines.try_iter().collect();
    assert_eq!(got, vec![want.clone(), want], "{}", run.stdout);
    let tcp = run.step("TCP");
    assert_eq!(tcp["status"], "pass", "{}", run.stdout);
    assert!(
        tcp["detail"]
            .as_str()
            .unwrap()
            .contains("through http proxy"),
        "{tcp}"
    );
    assert_eq!(run.step("TLS")["status"], "pass", "{}", run.stdout);
    assert_eq!(run.step("clock")["status"], "pass", "{}", run.stdout);
}

/// A SOCKS5 proxy for `n` connections that demands user `u` with password `pw`, then relays.
/// Returns its port and a receiver of the destination of each CONNECT (`host:port`).
fn socks5_proxy(n: usize, pw: &'static str) -> (u16, std::sync::mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for _ in 0..n {
            let Ok((client, _)) = listener.accept() else {
                return;
            };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let _ = socks5_session(client, pw, &tx);
            });
        }
    });
    (port, rx)
}

fn socks5_session(
    mut c: TcpStream,
    pw: &str,
    tx: &std::sync::mpsc::Sender<String>,
) -> std::io::Result<()> {
    let mut head = [0u8; 2];
    c.read_exact(&mut head)?;
    let mut methods = vec![0u8; usize::from(head[1])];
    c.read_exact(&mut methods)?;
    if !methods.contains(&2) {
        return c.write_all(&[5, 0xff]);
    }
    c.write_all(&[5, 2])?;
    let mut ver_len = [0u8; 2];
    c.read_exact(&mut ver_len)?;
    let mut user = vec![0u8; usize::from(ver_len[1])];
    c.read_exact(&mut user)?;
    let mut plen = [0u8; 1];
    c.read_exact(&mut plen)?;
    let mut pass = vec![0u8; usize::from(plen[0])];
    c.read_exact(&mut pass)?;
    if user != b"u" || pass != pw.as_bytes() {
        return c.write_all(&[1, 1]);
    }
    c.write_all(&[1, 0])?;
    let mut req = [0u8; 4];
    c.read_exact(&mut req)?;
    let host = match req[3] {
        1 => {
            let mut ip = [0u8; 4];
            c.read_exact(&mut ip)?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut l = [0u8; 1];
            c.read_exact(&mut l)?;
            let mut h = vec![0u8; usize::from(l[0])];
            c.read_exact(&mut h)?;
            String::from_utf8(h).unwrap()
        }
        _ => return c.write_all(&[5, 8, 0, 1, 0, 0, 0, 0, 0, 0]),
    };
    let mut p = [0u8; 2];
    c.read_exact(&mut p)?;
    let dest = format!("{host}:{}", u16::from_be_bytes(p));
    let upstream = TcpStream::connect(&dest)?;
    c.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])?;
    tx.send(dest).unwrap();
    let (mut c2, mut u2) = (c.try_clone()?, upstream.try_clone()?);
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c2, &mut u2);
        let _ = u2.shutdown(std::net::Shutdown::Write);
    });
    let (mut u, mut c) = (upstream, c);
    let _ = std::io::copy(&mut u, &mut c);
    let _ = c.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
    Ok(())
}

#[test]
fn socks5_proxy_with_credentials_that_are_never_printed() {
    let server = start(MockConfig::default());
    let password = "s3cret-proxy-pass";
    let (port, dests) = socks5_proxy(2, password);
    let proxy_url = format!("socks5://u:{password}@127.0.0.1:{port}");
    let run = doctor(&url(&server), &["--proxy", &proxy_url], &env_for(KEY));
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let tcp = run.step("TCP");
    assert!(
        tcp["detail"]
            .as_str()
            .unwrap()
            .contains("through socks5 proxy"),
        "{tcp}"
    );
    let got: Vec<String> = dests.try_iter().collect();
    assert_eq!(
        got,
        vec![server.addr().to_string(); 2],
        "the doctor and the probe"
    );
    // A wrong password is a TCP (proxy) failure; the password appears nowhere.
    let (port, _) = socks5_proxy(1, "another-password");
    let proxy_url = format!("socks5://u:{password}@127.0.0.1:{port}");
    let run = doctor(&url(&server), &["--proxy", &proxy_url], &env_for(KEY));
    assert_verdict(&run, "TCP", 22, "refused the credentials");
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(password), "{text}");
    }
}

#[test]
fn text_mode_prints_the_checklist() {
    let server = start(MockConfig {
        rawdata_prefix: Some("FACESDK:".into()),
        ..Default::default()
    });
    let run = wxface(&["doctor", "--base-url", &url(&server)], &env_for(KEY), "");
    assert_eq!(run.code, 0, "{}", run.stdout);
    let names = ["configuration", "DNS", "TCP", "TLS", "clock", "probe"];
    for (i, name) in names.iter().enumerate() {
        let prefix = format!("[{}/6] {name}", i + 1);
        assert!(
            run.stdout.lines().any(|l| l.starts_with(&prefix)),
            "{prefix}:\n{}",
            run.stdout
        );
    }
    assert_eq!(run.stdout.matches('✓').count(), 5, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("result: all checks passed (exit code 0)")
    );

    let run = wxface(
        &["doctor", "--base-url", &url(&server)],
        &env_for(WRONG_KEY),
        "",
    );
    assert_eq!(run.code, 25);
    assert!(run.stdout.contains("✗"), "{}", run.stdout);
    assert!(run.stdout.contains("cause: "), "{}", run.stdout);
    assert!(run.stdout.contains("fix: "), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("result: FAILED at probe (exit code 25)"),
        "{}",
        run.stdout
    );
}
