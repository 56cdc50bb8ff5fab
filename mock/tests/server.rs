//! Drives the mock with a raw TcpStream client, byte by byte.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use quick_xml::Reader;
use quick_xml::events::Event;
use wxface_mock::{DEFAULT_KEY, MockConfig, MockServer, PATH, Scenario, sign};

type Fields = Vec<(String, String)>;

fn unix_now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    i64::try_from(secs).unwrap()
}

fn get<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A complete, correctly signed request with `rawdata`, `now` and `sign_type` as given.
fn request_fields(rawdata: &str, now: i64, sign_type: &str, key: &str) -> Fields {
    let mut f: Fields = [
        ("store_id", "S001"),
        ("store_name", "人脸支付测试门店"),
        ("device_id", "D001"),
        ("attach", "{\"k\":\"<v&>\"}"),
        ("rawdata", rawdata),
        ("appid", "wx2421b1c4370ec43b"),
        ("mch_id", "10000100"),
        ("sub_mch_id", "1900000109"),
        ("version", "1"),
        ("sign_type", sign_type),
        ("nonce_str", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    f.push(("now".into(), now.to_string()));
    let s = sign(&f, key, sign_type);
    f.push(("sign".into(), s));
    f
}

fn valid(rawdata: &str) -> Fields {
    request_fields(rawdata, unix_now(), "MD5", DEFAULT_KEY)
}

fn to_xml(fields: &Fields) -> String {
    let mut out = String::from("<xml>");
    for (k, v) in fields {
        out.push_str(&format!("<{k}><![CDATA[{v}]]></{k}>"));
    }
    out + "</xml>"
}

/// A test-side reader of response XML (text or CDATA children of `<xml>`).
fn parse_xml(body: &[u8]) -> Fields {
    let mut reader = Reader::from_str(std::str::from_utf8(body).expect("UTF-8 body"));
    let (mut fields, mut current) = (Fields::new(), None::<(String, String)>);
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) if e.name().0 != "xml" => {
                current = Some((e.name().0.into(), "".into()))
            }
            Event::CData(c) => current.as_mut().unwrap().1.push_str(&c.xml10_content()),
            Event::Text(t) if current.is_some() => {
                current.as_mut().unwrap().1.push_str(&t.xml10_content())
            }
            Event::End(_) => fields.extend(current.take()),
            Event::Eof => return fields,
            _ => {}
        }
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn fields(&self) -> Fields {
        parse_xml(&self.body)
    }
}

struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(server: &MockServer) -> Client {
        let stream = TcpStream::connect(server.addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Client {
            reader: BufReader::new(stream),
        }
    }

    fn send(&mut self, method: &str, path: &str, extra: &str, body: &[u8]) {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\n{extra}\r\n",
            body.len()
        );
        let stream = self.reader.get_mut();
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
    }

    /// Reads one response; `Err` carries how far it got.
    fn recv(&mut self) -> Result<Response, String> {
        let mut line = String::new();
        if self
            .reader
            .read_line(&mut line)
            .map_err(|e| e.to_string())?
            == 0
        {
            return Err("closed before a response".into());
        }
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or(line.clone())?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.reader
                .read_line(&mut line)
                .map_err(|e| e.to_string())?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').ok_or(l.to_owned())?;
            headers.push((k.to_owned(), v.trim().to_owned()));
        }
        let mut resp = Response {
            status,
            headers,
            body: Vec::new(),
        };
        let len: usize = resp
            .header("content-length")
            .map_or(0, |v| v.parse().unwrap());
        resp.body.resize(len, 0);
        self.reader
            .read_exact(&mut resp.body)
            .map_err(|e| format!("short body: {e}"))?;
        Ok(resp)
    }

    fn post(&mut self, fields: &Fields) -> Response {
        self.send("POST", PATH, "", to_xml(fields).as_bytes());
        self.recv().unwrap()
    }
}

fn post_once(server: &MockServer, fields: &Fields) -> Response {
    Client::connect(server).post(fields)
}

fn verifies(fields: &Fields, key: &str) -> bool {
    let given = get(fields, "sign").expect("signed");
    let sign_type = if given.len() == 64 {
        "HMAC-SHA256"
    } else {
        "MD5"
    };
    sign(fields, key, sign_type) == given
}

#[test]
fn valid_request_gets_signed_success_for_both_sign_types() {
    let server = MockServer::start(MockConfig::default()).unwrap();
    for sign_type in ["MD5", "HMAC-SHA256"] {
        let resp = post_once(
            &server,
            &request_fields("RAW+/=", unix_now(), sign_type, DEFAULT_KEY),
        );
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("content-type"), Some("text/xml; charset=utf-8"));
        let f = resp.fields();
        assert_eq!(get(&f, "return_code"), Some("SUCCESS"), "{f:?}");
        assert_eq!(get(&f, "return_msg"), Some("请求成功"));
        assert_eq!(get(&f, "appid"), Some("wx2421b1c4370ec43b"));
        assert_eq!(get(&f, "mch_id"), Some("10000100"));
        assert_eq!(get(&f, "sub_mch_id"), Some("1900000109"));
        assert_eq!(get(&f, "sub_appid"), None);
        assert_eq!(get(&f, "expires_in"), Some("3600"));
        assert!(get(&f, "authinfo").unwrap().len() >= 100);
        let nonce = get(&f, "nonce_str").unwrap();
        assert!(nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(
            get(&f, "sign").unwrap().len(),
            if sign_type == "MD5" { 32 } else { 64 }
        );
        assert!(verifies(&f, DEFAULT_KEY));
    }
    let recorded = server.requests();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].field("store_name"), Some("人脸支付测试门店"));
    assert_eq!(recorded[0].field("attach"), Some("{\"k\":\"<v&>\"}"));
    assert_eq!(recorded[1].scenario, Some(Scenario::Normal));
    // Fresh authinfo per request.
    let a = get(&post_once(&server, &valid("x")).fields(), "authinfo").map(str::to_owned);
    let b = get(&post_once(&server, &valid("x")).fields(), "authinfo").map(str::to_owned);
    assert_ne!(a, b);
}

#[test]
fn validation_failures() {
    let server = MockServer::start(MockConfig::default()).unwrap();
    let unsigned = |f: &Fields, msg: &str| {
        assert_eq!(get(f, "return_code"), Some("PARAM_ERROR"), "{f:?}");
        assert_eq!(get(f, "return_msg"), Some(msg));
        assert_eq!(get(f, "sign"), None);
    };
    // Wrong key → 签名错误, unsigned.
    let f = post_once(
        &server,
        &request_fields("raw", unix_now(), "MD5", "another-key-of-32-bytes-00000000"),
    );
    unsigned(&f.fields(), "签名错误");
    // Lower-case hex is a different signature.
    let mut lower = valid("raw");
    let s = lower.last_mut().unwrap();
    s.1 = s.1.to_ascii_lowercase();
    unsigned(&post_once(&server, &lower).fields(), "签名错误");
    // Missing field.
    let mut missing = valid("raw");
    missing.retain(|(k, _)| k != "store_id");
    unsigned(&post_once(&server, &missing).fields(), "缺少参数store_id");
    // Malformed body and DOCTYPE.
    let mut c = Client::connect(&server);
    c.send("POST", PATH, "", b"<xml><a>1</b></xml>");
    unsigned(&c.recv().unwrap().fields(), "请求报文格式错误");
    c.send("POST", PATH, "", b"<!DOCTYPE xml><xml><a>1</a></xml>");
    unsigned(&c.recv().unwrap().fields(), "请求报文格式错误");
    // Bad version / sign_type.
    let mut v2 = request_fields("raw", unix_now(), "MD5", DEFAULT_KEY);
    v2.iter_mut().find(|(k, _)| k == "version").unwrap().1 = "2".into();
    assert_eq!(
        get(&post_once(&server, &v2).fields(), "return_code"),
        Some("PARAM_ERROR")
    );
    let sha1 = request_fields("raw", unix_now(), "SHA1", DEFAULT_KEY);
    assert_eq!(
        get(&post_once(&server, &sha1).fields(), "return_code"),
        Some("PARAM_ERROR")
    );
}

#[test]
fn clock_skew_gets_signed_now_error() {
    let server = MockServer::start(MockConfig::default()).unwrap();
    for now in [unix_now() - 400, unix_now() + 400, unix_now() * 1000] {
        let f = post_once(
            &server,
            &request_fields("raw", now, "HMAC-SHA256", DEFAULT_KEY),
        )
        .fields();
        assert_eq!(get(&f, "return_code"), Some("PARAM_ERROR"));
        assert_eq!(get(&f, "return_msg"), Some("非法的Now参数"));
        assert!(verifies(&f, DEFAULT_KEY));
    }
    let f = post_once(
        &server,
        &request_fields("raw", unix_now() - 250, "MD5", DEFAULT_KEY),
    )
    .fields();
    assert_eq!(get(&f, "return_code"), Some("SUCCESS"));
    // The mock's clock can be shifted instead.
    let skewed = MockServer::start(MockConfig {
        clock_offset_secs: 3600,
        ..Default::default()
    })
    .unwrap();
    let f = post_once(&skewed, &valid("raw")).fields();
    assert_eq!(get(&f, "return_msg"), Some("非法的Now参数"));
}

#[test]
fn per_request_scenario_override() {
    let server = MockServer::start(MockConfig::default()).unwrap();
    let shape = |name: &str| post_once(&server, &valid(&format!("MOCK:{name}")));

    let f = shape("tampered-sign").fields();
    assert_eq!(get(&f, "return_code"), Some("SUCCESS"));
    assert!(!verifies(&f, DEFAULT_KEY));
    let f = shape("missing-sign").fields();
    assert_eq!(
        (get(&f, "return_code"), get(&f, "sign")),
        (Some("SUCCESS"), None)
    );
    let f = shape("wrong-mch-id").fields();
    assert!(verifies(&f, DEFAULT_KEY) && get(&f, "mch_id") != Some("10000100"));
    let f = shape("signed-error").fields();
    assert_eq!(get(&f, "return_code"), Some("ERROR"));
    assert_eq!(get(&f, "return_msg"), Some("无效的RawData数据"));
    assert!(verifies(&f, DEFAULT_KEY));
    let f = shape("signed-system-error").fields();
    assert_eq!(get(&f, "return_msg"), Some("生成authinfo失败"));
    assert!(verifies(&f, DEFAULT_KEY));
    assert_eq!(shape("http-500").status, 500);
    let r = shape("not-xml");
    assert_eq!((r.status, &r.body[..]), (200, &b"this is not xml"[..]));
    let r = shape("oversized");
    assert!(r.body.len() > 100 * 1024 && verifies(&r.fields(), DEFAULT_KEY));
    let f = shape("extra-fields").fields();
    assert!(verifies(&f, DEFAULT_KEY));
    assert!(f.iter().any(|(_, v)| v.contains("]]>")) && f.iter().any(|(_, v)| v.contains("人脸")));

    for name in ["truncated", "drop"] {
        let mut c = Client::connect(&server);
        c.send(
            "POST",
            PATH,
            "",
            to_xml(&valid(&format!("MOCK:{name}"))).as_bytes(),
        );
        assert!(
            c.recv().is_err(),
            "{name} must not give a complete response"
        );
    }
    let scenarios: Vec<_> = server.requests().iter().map(|r| r.scenario).collect();
    assert_eq!(scenarios.last(), Some(&Some(Scenario::Drop)));
}

#[test]
fn fail_first_then_configured_scenario() {
    let config = MockConfig {
        fail_first: 2,
        ..Default::default()
    };
    let server = MockServer::start(config).unwrap();
    let mut c = Client::connect(&server);
    assert_eq!(c.post(&valid("raw")).status, 500);
    assert_eq!(c.post(&valid("MOCK:signed-error")).status, 500);
    assert_eq!(
        get(&c.post(&valid("raw")).fields(), "return_code"),
        Some("SUCCESS")
    );
}

#[test]
fn wrong_path_and_method() {
    let server = MockServer::start(MockConfig::default()).unwrap();
    let mut c = Client::connect(&server);
    c.send("POST", "/face/other", "", b"<xml/>");
    assert_eq!(c.recv().unwrap().status, 404);
    c.send("GET", PATH, "", b"");
    let r = c.recv().unwrap();
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    c.send("POST", &format!("{PATH}?x=1"), "", b"<xml/>");
    assert_eq!(c.recv().unwrap().status, 404);
    assert_eq!(server.request_count(), 3);
}

#[test]
fn keep_alive_reuses_one_connection() {
    let server = MockServer::start(MockConfig::default()).unwrap();
    let mut c = Client::connect(&server);
    for _ in 0..2 {
        assert_eq!(
            get(&c.post(&valid("raw")).fields(), "return_code"),
            Some("SUCCESS")
        );
    }
    // Pipelined: two requests written back to back, answered in order.
    let body = to_xml(&valid("MOCK:signed-error"));
    c.send("POST", PATH, "", body.as_bytes());
    c.send("POST", PATH, "Connection: close\r\n", body.as_bytes());
    assert_eq!(c.recv().unwrap().header("connection"), Some("keep-alive"));
    assert_eq!(c.recv().unwrap().header("connection"), Some("close"));
    assert!(c.recv().is_err(), "closed after Connection: close");
    assert_eq!(server.connections_accepted(), 1);
    assert!(server.requests().iter().all(|r| r.connection_id == 1));
}

#[test]
fn http_details_expect_continue_chunked_and_size_cap() {
    let server = MockServer::start(MockConfig::default()).unwrap();
    let mut c = Client::connect(&server);
    let body = to_xml(&valid("raw"));
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    c.reader.get_mut().write_all(head.as_bytes()).unwrap();
    assert_eq!(c.recv().unwrap().status, 100);
    c.reader.get_mut().write_all(body.as_bytes()).unwrap();
    assert_eq!(c.recv().unwrap().status, 200);

    let mut c = Client::connect(&server);
    let chunked = format!("POST {PATH} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    c.reader.get_mut().write_all(chunked.as_bytes()).unwrap();
    assert_eq!(c.recv().unwrap().status, 411);

    let mut c = Client::connect(&server);
    let big = format!(
        "POST {PATH} HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
        2 * 1024 * 1024
    );
    c.reader.get_mut().write_all(big.as_bytes()).unwrap();
    assert_eq!(c.recv().unwrap().status, 413);
}

#[test]
fn stop_is_prompt_while_a_client_hangs() {
    let server = MockServer::start(MockConfig {
        scenario: Scenario::Hang,
        ..Default::default()
    })
    .unwrap();
    let mut c = Client::connect(&server);
    c.send("POST", PATH, "", to_xml(&valid("raw")).as_bytes());
    let t0 = Instant::now();
    while server.request_count() == 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "request never arrived"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // A second, idle keep-alive connection must not hold stop() up either.
    let _idle = TcpStream::connect(server.addr()).unwrap();
    let t0 = Instant::now();
    server.stop();
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "stop took {:?}",
        t0.elapsed()
    );
    assert!(c.recv().is_err());
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) to Unix seconds.
fn parse_imf_fixdate(s: &str) -> i64 {
    let p: Vec<&str> = s.split([' ', ':']).collect();
    assert_eq!((p.len(), p[7]), (8, "GMT"), "{s}");
    assert!(["Mon,", "Tue,", "Wed,", "Thu,", "Fri,", "Sat,", "Sun,"].contains(&p[0]));
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = months.iter().position(|m| *m == p[2]).unwrap() as i64 + 1;
    let (year, day): (i64, i64) = (p[3].parse().unwrap(), p[1].parse().unwrap());
    let n = |i: usize| -> i64 { p[i].parse().unwrap() };
    // Days since the epoch, counted the slow, obvious way.
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut days: i64 = (1970..year).map(|y| if leap(y) { 366 } else { 365 }).sum();
    let lengths = [
        31,
        if leap(year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    days += lengths[..(month - 1) as usize].iter().sum::<i64>() + day - 1;
    let weekday =
        ["Thu,", "Fri,", "Sat,", "Sun,", "Mon,", "Tue,", "Wed,"][days.rem_euclid(7) as usize];
    assert_eq!(weekday, p[0], "weekday of {s}");
    days * 86_400 + n(4) * 3600 + n(5) * 60 + n(6)
}

#[test]
fn date_header_follows_the_mock_clock() {
    let server = MockServer::start(MockConfig::default()).unwrap();
    let r = post_once(&server, &valid("raw"));
    let date = parse_imf_fixdate(r.header("date").expect("Date header"));
    assert!((date - unix_now()).abs() <= 5, "{:?}", r.header("date"));
    let shifted = MockServer::start(MockConfig {
        clock_offset_secs: -86_400 * 400,
        ..Default::default()
    })
    .unwrap();
    let r = post_once(&shifted, &valid("raw"));
    let date = parse_imf_fixdate(r.header("date").unwrap());
    assert!((date - (unix_now() - 86_400 * 400)).abs() <= 5);
}

#[test]
fn delay_is_applied() {
    let config = MockConfig {
        delay: Duration::from_millis(300),
        ..Default::default()
    };
    let server = MockServer::start(config).unwrap();
    let t0 = Instant::now();
    assert_eq!(post_once(&server, &valid("raw")).status, 200);
    assert!(t0.elapsed() >= Duration::from_millis(300));
}

#[test]
fn refuses_non_loopback() {
    assert!(MockServer::start_on("0.0.0.0:0", MockConfig::default()).is_err());
}

#[test]
fn binary_prints_address_writes_port_file_and_exits_on_stdin_eof() {
    use std::process::{Command, Stdio};
    let dir = std::env::temp_dir().join(format!("wxface-mock-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port_file = dir.join("port");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wxface-mock"))
        .args([
            "--scenario",
            "signed-error",
            "--exit-on-stdin-eof",
            "--port-file",
        ])
        .arg(&port_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = std::fs::read_to_string(&port_file).unwrap();
    assert_eq!(
        line,
        format!("wxface-mock listening on http://127.0.0.1:{}", port)
    );
    let mut stream =
        TcpStream::connect(("127.0.0.1", port.trim().parse::<u16>().unwrap())).unwrap();
    let body = to_xml(&valid("SECRET-RAWDATA"));
    let req = format!(
        "POST {PATH} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).unwrap();
    let mut resp = String::new();
    stream.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n") && resp.contains("无效的RawData数据"));
    stream.shutdown(Shutdown::Both).ok();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let log = String::from_utf8(out.stderr).unwrap();
    assert!(
        log.contains("scenario=signed-error") && log.contains("return_code=ERROR"),
        "{log}"
    );
    assert!(!log.contains("SECRET-RAWDATA") && !log.contains(DEFAULT_KEY));
    std::fs::remove_dir_all(&dir).ok();

    let refused = Command::new(env!("CARGO_BIN_EXE_wxface-mock"))
        .args(["--bind", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
}

#[test]
fn expected_ids_and_rawdata_prefix_in_wechats_order() {
    let server = MockServer::start(MockConfig {
        expect_ids: vec![("sub_mch_id".into(), "1900000109".into())],
        rawdata_prefix: Some("FACESDK:".into()),
        ..Default::default()
    })
    .unwrap();
    let msg = |f: &Fields| get(f, "return_msg").map(str::to_owned);
    // Ids and rawdata both right: SUCCESS.
    let f = post_once(&server, &valid("FACESDK:abc")).fields();
    assert_eq!(get(&f, "return_code"), Some("SUCCESS"), "{f:?}");
    // Rawdata not from the face SDK: signed ERROR 无效的RawData数据.
    let f = post_once(&server, &valid("not-from-the-sdk")).fields();
    assert_eq!(get(&f, "return_code"), Some("ERROR"));
    assert_eq!(msg(&f).as_deref(), Some("无效的RawData数据"));
    assert!(verifies(&f, DEFAULT_KEY));
    // Another sub-merchant: the ids answer comes before the rawdata one.
    let mut other = request_fields("not-from-the-sdk", unix_now(), "MD5", DEFAULT_KEY);
    other.iter_mut().find(|(k, _)| k == "sub_mch_id").unwrap().1 = "1900000999".into();
    other.retain(|(k, _)| k != "sign");
    let s = sign(&other, DEFAULT_KEY, "MD5");
    other.push(("sign".into(), s));
    let f = post_once(&server, &other).fields();
    assert_eq!(get(&f, "return_code"), Some("ERROR"));
    assert_eq!(
        msg(&f).as_deref(),
        Some("请检查mchid,submchid,appid,subappid等信息是否正确")
    );
    // A wrong key or a skewed clock still comes first.
    let f = post_once(
        &server,
        &request_fields("x", unix_now(), "MD5", "another-key-of-32-bytes-00000000"),
    )
    .fields();
    assert_eq!(msg(&f).as_deref(), Some("签名错误"));
    let f = post_once(
        &server,
        &request_fields("x", unix_now() - 1000, "MD5", DEFAULT_KEY),
    )
    .fields();
    assert_eq!(msg(&f).as_deref(), Some("非法的Now参数"));
}
