//! A raw-socket HTTP server for tests that need exact control over the bytes on the wire (and
//! over when they are sent): hostile answers, held answers, TLS alerts. Each connection is
//! read up to the end of one request and handed with its stream to the test's handler.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Bound against hangs only: no test waits for it in a passing run.
pub const NO_HANG: Duration = Duration::from_secs(30);

/// One request as received: its head (request line and headers) and body.
pub struct RawRequest {
    pub head: String,
    pub body: Vec<u8>,
    /// 1-based arrival order.
    pub index: usize,
}

impl RawRequest {
    /// The text of the first `<name>` element (CDATA unwrapped); enough for our own requests.
    pub fn field(&self, name: &str) -> Option<String> {
        let body = String::from_utf8_lossy(&self.body);
        let open = format!("<{name}>");
        let start = body.find(&open)? + open.len();
        let end = start + body[start..].find(&format!("</{name}>"))?;
        let v = &body[start..end];
        Some(
            v.strip_prefix("<![CDATA[")
                .and_then(|v| v.strip_suffix("]]>"))
                .unwrap_or(v)
                .to_owned(),
        )
    }
}

pub struct RawServer {
    port: u16,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl RawServer {
    /// Listens on a free loopback port; every request goes to `handler` on its own thread.
    pub fn start(handler: impl Fn(&RawRequest, &mut TcpStream) + Send + Sync + 'static) -> Self {
        Self::start_raw(move |stream, index| {
            if let Some(req) = read_request(stream, index) {
                handler(&req, stream);
            }
        })
    }

    /// Like [`start`](RawServer::start) but the handler gets the stream before anything was
    /// read (for TLS and other non-HTTP answers).
    pub fn start_raw(handler: impl Fn(&mut TcpStream, usize) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler2> = Arc::new(handler);
        let (r, s) = (Arc::clone(&requests), Arc::clone(&stop));
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let index = r.fetch_add(1, Ordering::SeqCst) + 1;
                let h = Arc::clone(&handler);
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(NO_HANG));
                    h(&mut stream, index);
                    let _ = stream.flush();
                    let _ = stream.shutdown(Shutdown::Both);
                });
            }
        });
        RawServer {
            port,
            requests,
            stop,
            accept: Some(accept),
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Connections accepted so far (one request each).
    pub fn request_count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

type Handler2 = dyn Fn(&mut TcpStream, usize) + Send + Sync;

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn read_request(stream: &mut TcpStream, index: usize) -> Option<RawRequest> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(RawRequest { head, body, index })
}

/// Writes a complete `200` (or `status`) answer with `Content-Length` and `Connection: close`.
pub fn respond(stream: &mut TcpStream, status: u16, extra_headers: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n{extra_headers}\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// A counter that threads can wait on until it reaches a value.
#[derive(Default)]
pub struct Counter {
    n: Mutex<usize>,
    cv: Condvar,
}

impl Counter {
    pub fn bump(&self) {
        *self.n.lock().unwrap() += 1;
        self.cv.notify_all();
    }

    pub fn get(&self) -> usize {
        *self.n.lock().unwrap()
    }

    /// Waits until `done(count)` holds or [`NO_HANG`] passes; returns whether it held.
    pub fn wait_until(&self, done: impl Fn(usize) -> bool) -> bool {
        let guard = self.n.lock().unwrap();
        let (guard, _) = self
            .cv
            .wait_timeout_while(guard, NO_HANG, |n| !done(*n))
            .unwrap();
        done(*guard)
    }
}

/// `fields` as a flat XML body (values in CDATA).
pub fn xml(fields: &[(String, String)]) -> Vec<u8> {
    let mut s = String::from("<xml>");
    for (k, v) in fields {
        s.push_str(&format!("<{k}><![CDATA[{v}]]></{k}>"));
    }
    s.push_str("</xml>");
    s.into_bytes()
}

/// Owned field pairs from string pairs.
pub fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A signed SUCCESS answer for our merchant with `authinfo` and `expires_in`, plus `extra`
/// fields (signed too).
pub fn signed_success(authinfo: &str, expires_in: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut fields = pairs(&[
        ("return_code", "SUCCESS"),
        ("return_msg", "请求成功"),
        ("appid", super::APPID),
        ("mch_id", super::MCH_ID),
        ("authinfo", authinfo),
        ("expires_in", expires_in),
        ("nonce_str", "0123456789abcdef"),
    ]);
    fields.extend(pairs(extra));
    let sign = wxface_mock::sign(&fields, wxface_mock::DEFAULT_KEY, "HMAC-SHA256");
    fields.push(("sign".into(), sign));
    xml(&fields)
}

/// An unsigned failure answer.
pub fn failure(return_code: &str, return_msg: &str) -> Vec<u8> {
    xml(&pairs(&[
        ("return_code", return_code),
        ("return_msg", return_msg),
    ]))
}
