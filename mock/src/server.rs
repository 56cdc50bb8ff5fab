//! The server: accept loop, connection threads, and the endpoint's behaviour per scenario.

use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::http::{self, ReadError, Request, Response};
use crate::signer::{ct_eq, sign};
use crate::xml::{parse_fields, to_xml};
use crate::{MockConfig, PATH, Scenario};

/// Fields a request must carry, non-empty, in the order they are checked.
const REQUIRED: [&str; 11] = [
    "store_id",
    "store_name",
    "device_id",
    "rawdata",
    "appid",
    "mch_id",
    "now",
    "version",
    "sign_type",
    "nonce_str",
    "sign",
];
/// Largest accepted difference between a request's `now` and the mock's clock.
const MAX_SKEW_SECS: i64 = 300;
/// Close a keep-alive connection idle for this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// How long `stop` waits for threads before leaving stragglers detached.
const JOIN_GRACE: Duration = Duration::from_secs(2);
const XML: &str = "text/xml; charset=utf-8";

/// One HTTP request as the mock received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// The request method, e.g. `POST`.
    pub method: String,
    /// The request target as sent, e.g. [`PATH`].
    pub path: String,
    /// The headers, in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// The body's XML fields in document order; empty if unparsable (or not the endpoint).
    pub fields: Vec<(String, String)>,
    /// Which accepted connection (1-based, in accept order) carried the request.
    pub connection_id: u64,
    /// The scenario the request was answered with; `None` for 404/405.
    pub scenario: Option<Scenario>,
}

impl RecordedRequest {
    /// The value of the first field named `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        get(&self.fields, name)
    }

    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// State shared by the handle and every thread.
struct Shared {
    config: MockConfig,
    tls: Option<Arc<rustls::ServerConfig>>,
    log: bool,
    stopping: Mutex<bool>,
    stop_signal: Condvar,
    requests: Mutex<Vec<RecordedRequest>>,
    endpoint_requests: AtomicUsize,
    connections: AtomicU64,
    open: Mutex<HashMap<u64, TcpStream>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn is_stopping(&self) -> bool {
        *lock(&self.stopping)
    }

    /// Sleeps up to `d`, waking early when the server stops. Returns false if it is stopping.
    fn sleep(&self, d: Duration) -> bool {
        let guard = lock(&self.stopping);
        let (guard, _) = self
            .stop_signal
            .wait_timeout_while(guard, d, |stopping| !*stopping)
            .unwrap_or_else(PoisonError::into_inner);
        !*guard
    }

    /// The mock's clock: system time plus the configured offset, in Unix seconds.
    fn now(&self) -> i64 {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        secs.saturating_add(self.config.clock_offset_secs)
    }
}

/// A running mock. Dropping it stops it, like [`MockServer::stop`].
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl MockServer {
    /// Starts a mock on 127.0.0.1 with an ephemeral port.
    pub fn start(config: MockConfig) -> io::Result<MockServer> {
        Self::start_on("127.0.0.1:0", config)
    }

    /// Starts a mock on `addr`, which must resolve to loopback addresses only.
    pub fn start_on(addr: &str, config: MockConfig) -> io::Result<MockServer> {
        Self::launch(addr, config, false)
    }

    /// Like [`MockServer::start_on`], and also logs one line per request to stderr (method,
    /// path, scenario, status, return_code; never the rawdata or the key).
    pub fn start_on_logged(addr: &str, config: MockConfig) -> io::Result<MockServer> {
        Self::launch(addr, config, true)
    }

    fn launch(addr: &str, config: MockConfig, log: bool) -> io::Result<MockServer> {
        let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
        if addrs.is_empty() || addrs.iter().any(|a| !a.ip().is_loopback()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("refusing to bind {addr}: the mock listens on loopback only"),
            ));
        }
        let tls = config
            .tls
            .as_ref()
            .map(crate::tls::server_config)
            .transpose()?;
        let listener = TcpListener::bind(&addrs[..])?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            tls,
            config,
            log,
            stopping: Mutex::new(false),
            stop_signal: Condvar::new(),
            requests: Mutex::new(Vec::new()),
            endpoint_requests: AtomicUsize::new(0),
            connections: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
            workers: Mutex::new(Vec::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name("wxface-mock-accept".into())
            .spawn(move || accept_loop(&listener, &accept_shared))?;
        Ok(MockServer {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT` (`https://` in HTTPS mode), without a trailing slash; append
    /// [`PATH`] for the endpoint.
    pub fn base_url(&self) -> String {
        let scheme = if self.shared.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// How many requests were received so far.
    pub fn request_count(&self) -> usize {
        lock(&self.shared.requests).len()
    }

    /// How many TCP connections were accepted so far (proves connection reuse).
    pub fn connections_accepted(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Stops accepting, closes every socket (hanging ones included) and joins the threads,
    /// waiting at most about two seconds. Dropping the server does the same.
    pub fn stop(self) {}

    fn shutdown(&mut self) {
        *lock(&self.shared.stopping) = true;
        self.shared.stop_signal.notify_all();
        let deadline = Instant::now() + JOIN_GRACE;
        // Wake the accept thread, blocked in accept().
        let _ = TcpStream::connect_timeout(&self.addr, JOIN_GRACE);
        if let Some(handle) = self.accept.take() {
            join_until(handle, deadline);
        }
        for stream in lock(&self.shared.open).values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let workers = std::mem::take(&mut *lock(&self.shared.workers));
        for handle in workers {
            join_until(handle, deadline);
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Joins `handle` if it finishes before `deadline`; otherwise leaves it detached.
fn join_until(handle: JoinHandle<()>, deadline: Instant) {
    while !handle.is_finished() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    if handle.is_finished() {
        let _ = handle.join();
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.is_stopping() {
            break;
        }
        let Ok(stream) = stream else {
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let id = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
        let Ok(clone) = stream.try_clone() else {
            continue;
        };
        lock(&shared.open).insert(id, clone);
        let worker_shared = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name(format!("wxface-mock-conn-{id}"))
            .spawn(move || {
                serve_connection(&worker_shared, stream, id);
                lock(&worker_shared.open).remove(&id);
            });
        let mut workers = lock(&shared.workers);
        workers.retain(|h| !h.is_finished());
        match spawned {
            Ok(handle) => workers.push(handle),
            Err(_) => drop(lock(&shared.open).remove(&id)),
        }
    }
}

/// What to do with a connection after a request.
enum Action {
    /// Send this response.
    Respond(Response),
    /// Announce this response's full length, send only half of its body, close.
    Truncate(Response),
    /// Keep the socket open, silent, until the server stops.
    Hang,
    /// Close without answering.
    Drop,
}

fn serve_connection(shared: &Shared, stream: TcpStream, id: u64) {
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    // As real servers do: without it, the TLS 1.3 session tickets sent after the handshake
    // hold the first response back (Nagle) until the client's delayed ACK, about 40 ms.
    let _ = stream.set_nodelay(true);
    match &shared.tls {
        None => {
            let mut stream = stream;
            serve_stream(shared, &mut stream, id);
            let _ = stream.shutdown(Shutdown::Both);
        }
        Some(config) => {
            let Ok(conn) = rustls::ServerConnection::new(Arc::clone(config)) else {
                return;
            };
            let mut tls = rustls::StreamOwned::new(conn, stream);
            serve_stream(shared, &mut tls, id);
            tls.conn.send_close_notify();
            let _ = tls.conn.complete_io(&mut tls.sock);
            let _ = tls.sock.shutdown(Shutdown::Both);
        }
    }
}

fn serve_stream<S: io::Read + io::Write>(shared: &Shared, stream: &mut S, id: u64) {
    let mut buf = Vec::new();
    while !shared.is_stopping() {
        let request = match http::read_request(stream, &mut buf) {
            Ok(request) => request,
            Err(ReadError::Closed) => break,
            Err(ReadError::Bad(status)) => {
                let body = format!("{status} {}\n", http::reason(status));
                let resp = Response::new(status, "text/plain; charset=utf-8", body);
                let _ = resp.write_to(stream, &http::http_date(shared.now()), true);
                break;
            }
        };
        let close = request.wants_close();
        let (scenario, fields, action) = handle(shared, &request);
        if shared.log {
            let (status, code) = describe(&action);
            eprintln!(
                "wxface-mock: conn={id} {} {} scenario={} status={status} return_code={code}",
                request.method,
                request.target,
                scenario.map_or("-", |s| s.name()),
            );
        }
        lock(&shared.requests).push(RecordedRequest {
            method: request.method,
            path: request.target,
            headers: request.headers,
            body: request.body,
            fields,
            connection_id: id,
            scenario,
        });
        if !shared.sleep(shared.config.delay) {
            break;
        }
        let date = http::http_date(shared.now());
        match action {
            Action::Respond(resp) => {
                if resp.write_to(stream, &date, close).is_err() || close {
                    break;
                }
            }
            Action::Truncate(resp) => {
                let mut bytes = resp.head(&date, true, resp.body.len()).into_bytes();
                bytes.extend_from_slice(&resp.body[..resp.body.len() / 2]);
                let _ = stream.write_all(&bytes).and_then(|()| stream.flush());
                break;
            }
            Action::Hang => {
                let _ = shared.sleep(Duration::MAX);
                break;
            }
            Action::Drop => break,
        }
    }
}

/// The status and return_code of an action, for the log line.
fn describe(action: &Action) -> (String, String) {
    match action {
        Action::Respond(resp) | Action::Truncate(resp) => {
            let code = parse_fields(&resp.body)
                .ok()
                .and_then(|f| get(&f, "return_code").map(str::to_owned))
                .unwrap_or_else(|| "-".into());
            (resp.status.to_string(), code)
        }
        Action::Hang => ("hang".into(), "-".into()),
        Action::Drop => ("drop".into(), "-".into()),
    }
}

/// Routes one request: returns the scenario used, the parsed fields and what to do.
fn handle(shared: &Shared, req: &Request) -> (Option<Scenario>, Vec<(String, String)>, Action) {
    if req.target != PATH {
        let resp = Response::new(404, "text/plain; charset=utf-8", "404 Not Found\n");
        return (None, Vec::new(), Action::Respond(resp));
    }
    if req.method != "POST" {
        let mut resp = Response::new(405, "text/plain; charset=utf-8", "405 Method Not Allowed\n");
        resp.extra_headers.push(("Allow", "POST".into()));
        return (None, Vec::new(), Action::Respond(resp));
    }
    let parsed = parse_fields(&req.body).ok();
    let fields = parsed.clone().unwrap_or_default();
    let cfg = &shared.config;
    let n = shared.endpoint_requests.fetch_add(1, Ordering::SeqCst);
    let scenario = if n < cfg.fail_first {
        cfg.fail_with
    } else {
        get(&fields, "rawdata")
            .and_then(|raw| raw.strip_prefix("MOCK:"))
            .and_then(|name| name.parse().ok())
            .unwrap_or(cfg.scenario)
    };
    let action = respond(shared, scenario, parsed.as_deref(), &fields);
    (Some(scenario), fields, action)
}

/// The endpoint's answer under `scenario`. `parsed` is `None` when the body was not valid XML.
fn respond(
    shared: &Shared,
    scenario: Scenario,
    parsed: Option<&[(String, String)]>,
    fields: &[(String, String)],
) -> Action {
    let key = shared.config.key.as_str();
    let sign_type = get(fields, "sign_type")
        .filter(|st| matches!(*st, "MD5" | "HMAC-SHA256"))
        .unwrap_or("MD5");
    let reply = |body: Vec<(String, String)>| Action::Respond(xml_response(&body));
    match scenario {
        Scenario::Normal => Action::Respond(normal(shared, parsed)),
        Scenario::TamperedSign => {
            let mut body = signed(success(fields, shared.config.expires_in), key, sign_type);
            let sign = &mut body.last_mut().expect("signed() appends sign").1;
            let last = sign.pop().unwrap_or('0');
            sign.push(if last == '0' { '1' } else { '0' });
            reply(body)
        }
        Scenario::MissingSign => {
            let mut body = signed(success(fields, shared.config.expires_in), key, sign_type);
            body.retain(|(k, _)| k != "sign");
            reply(body)
        }
        Scenario::WrongMchId => {
            let mut body = success(fields, shared.config.expires_in);
            let wrong = match get(fields, "mch_id") {
                Some("1900000109") => "1900000110",
                _ => "1900000109",
            };
            body.retain(|(k, _)| k != "mch_id");
            body.push(pair("mch_id", wrong));
            reply(signed(body, key, sign_type))
        }
        Scenario::SignedError => reply(signed(
            failure("ERROR", "无效的RawData数据"),
            key,
            sign_type,
        )),
        Scenario::SignedSystemError => reply(signed(
            failure("SYSTEMERROR", "生成authinfo失败"),
            key,
            sign_type,
        )),
        Scenario::Http500 => Action::Respond(Response::new(
            500,
            "text/plain; charset=utf-8",
            "mock: internal server error\n",
        )),
        Scenario::NotXml => Action::Respond(Response::new(
            200,
            "text/html; charset=utf-8",
            "this is not xml",
        )),
        Scenario::Truncated => Action::Truncate(xml_response(&signed(
            success(fields, shared.config.expires_in),
            key,
            sign_type,
        ))),
        Scenario::Oversized => {
            let mut body = success(fields, shared.config.expires_in);
            body.push(pair("mock_padding", &"0123456789abcdef".repeat(7 * 1024)));
            reply(signed(body, key, sign_type))
        }
        Scenario::Hang => Action::Hang,
        Scenario::Drop => Action::Drop,
        Scenario::ExtraFields => {
            let mut body = success(fields, shared.config.expires_in);
            body.push(pair("mock_extra", "plain-extra-value"));
            body.push(pair("mock_markup", "<b>a & b</b> ]]> \"quoted\""));
            body.push(pair("mock_note", "人脸支付测试门店"));
            reply(signed(body, key, sign_type))
        }
    }
}

/// WeChat's behaviour: validate, then answer SUCCESS or the matching PARAM_ERROR.
fn normal(shared: &Shared, parsed: Option<&[(String, String)]>) -> Response {
    let Some(fields) = parsed else {
        return xml_response(&failure("PARAM_ERROR", "请求报文格式错误"));
    };
    for name in REQUIRED {
        if get(fields, name).is_none_or(str::is_empty) {
            return xml_response(&failure("PARAM_ERROR", &format!("缺少参数{name}")));
        }
    }
    if get(fields, "version") != Some("1") {
        return xml_response(&failure("PARAM_ERROR", "version参数错误"));
    }
    let sign_type = get(fields, "sign_type").unwrap_or_default();
    if !matches!(sign_type, "MD5" | "HMAC-SHA256") {
        return xml_response(&failure("PARAM_ERROR", "sign_type参数错误"));
    }
    let key = shared.config.key.as_str();
    let expected = sign(fields, key, sign_type);
    let given = get(fields, "sign").unwrap_or_default();
    if !ct_eq(expected.as_bytes(), given.as_bytes()) {
        return xml_response(&failure("PARAM_ERROR", "签名错误"));
    }
    let now_ok = get(fields, "now")
        .and_then(|v| v.parse::<i64>().ok())
        .is_some_and(|t| t.abs_diff(shared.now()) <= MAX_SKEW_SECS.unsigned_abs());
    if !now_ok {
        return xml_response(&signed(
            failure("PARAM_ERROR", "非法的Now参数"),
            key,
            sign_type,
        ));
    }
    let cfg = &shared.config;
    let ids_ok = cfg
        .expect_ids
        .iter()
        .all(|(name, want)| get(fields, name).unwrap_or_default() == want);
    if !ids_ok {
        return xml_response(&signed(
            failure("ERROR", "请检查mchid,submchid,appid,subappid等信息是否正确"),
            key,
            sign_type,
        ));
    }
    let rawdata_ok = cfg.rawdata_prefix.as_deref().is_none_or(|prefix| {
        get(fields, "rawdata")
            .unwrap_or_default()
            .starts_with(prefix)
    });
    if !rawdata_ok {
        return xml_response(&signed(
            failure("ERROR", "无效的RawData数据"),
            key,
            sign_type,
        ));
    }
    xml_response(&signed(success(fields, cfg.expires_in), key, sign_type))
}

fn pair(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

fn get<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn failure(code: &str, msg: &str) -> Vec<(String, String)> {
    vec![pair("return_code", code), pair("return_msg", msg)]
}

/// An unsigned SUCCESS body: identifiers echoed from the request, a fresh authinfo.
fn success(request: &[(String, String)], expires_in: u32) -> Vec<(String, String)> {
    let mut body = failure("SUCCESS", "请求成功");
    for name in ["appid", "mch_id", "sub_appid", "sub_mch_id"] {
        if let Some(v) = get(request, name).filter(|v| !v.is_empty()) {
            body.push(pair(name, v));
        }
    }
    body.push(pair(
        "authinfo",
        &format!("MOCKAUTHINFO{}", random_string(96, BASE64ISH)),
    ));
    body.push(pair("expires_in", &expires_in.to_string()));
    body
}

/// Appends a fresh `nonce_str` and then the `sign` over everything.
fn signed(mut body: Vec<(String, String)>, key: &str, sign_type: &str) -> Vec<(String, String)> {
    body.push(pair("nonce_str", &random_string(32, ALNUM)));
    let sign = sign(&body, key, sign_type);
    body.push(pair("sign", &sign));
    body
}

fn xml_response(body: &[(String, String)]) -> Response {
    Response::new(200, XML, to_xml(body))
}

const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE64ISH: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `len` characters drawn uniformly from `alphabet` with the OS CSPRNG (rejection sampling).
fn random_string(len: usize, alphabet: &[u8]) -> String {
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(len);
    let mut bytes = [0u8; 64];
    while out.len() < len {
        getrandom::fill(&mut bytes).expect("the OS random source is available");
        for &b in &bytes {
            if usize::from(b) < limit && out.len() < len {
                out.push(char::from(alphabet[usize::from(b) % alphabet.len()]));
            }
        }
    }
    out
}
