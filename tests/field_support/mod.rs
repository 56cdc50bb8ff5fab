//! Helpers shared by the `field_*` integration tests (cache, retries, clock, proxies, TLS,
//! logging) against the in-process mock.
#![allow(dead_code)]

pub mod proxy;
pub mod raw;

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use wxface::{ApiKey, AuthinfoRequest, Client, Config, ConfigBuilder, Level};
use wxface_mock::{DEFAULT_KEY, MockConfig, MockServer};

pub const MCH_ID: &str = "1900000109";
pub const APPID: &str = "wx2421b1c4370ec43b";
/// Looks like a real rawdata: base64 with `+ / =`.
pub const RAWDATA: &str = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo+/+/fieldtest+def/ghi==";
pub const STORE_NAME: &str = "深圳南山科技园店";

pub fn start(config: MockConfig) -> MockServer {
    MockServer::start(config).expect("start the mock server")
}

/// A configuration with the mock's key, for `base_url`.
pub fn builder_for(base_url: &str) -> ConfigBuilder {
    Config::builder(MCH_ID, APPID, ApiKey::new(DEFAULT_KEY).unwrap()).base_url(base_url)
}

pub fn builder(server: &MockServer) -> ConfigBuilder {
    builder_for(&server.base_url())
}

/// Strings that must never appear in a log line: the keys, every rawdata the tests send, the
/// mock's authinfo prefix, the test proxy password.
pub const SECRETS: &[&str] = &[
    DEFAULT_KEY,
    "0123456789abcdef0123456789abcdef",
    RAWDATA,
    "MOCK:",
    "other-rawdata",
    "MOCKAUTHINFO",
    "s3cret-pw",
];

/// Panics (failing the test) if `line` carries a secret.
pub fn assert_clean_line(level: Level, line: &str) {
    for s in SECRETS {
        let probe = &s[..s.len().min(16)];
        assert!(
            !line.contains(probe),
            "log line leaks a secret: [{level}] {line}"
        );
    }
}

/// A client whose every log line (all levels) is checked for secrets as it is emitted.
pub fn client_of(config: ConfigBuilder) -> Client {
    let config = config
        .log_level(Level::Debug)
        .log_callback(assert_clean_line);
    Client::new(config.build().expect("valid config")).expect("client")
}

pub fn request(rawdata: &str) -> AuthinfoRequest {
    AuthinfoRequest::new("1001", STORE_NAME, "POS-01", rawdata)
}

pub fn request_for(device: &str, rawdata: &str) -> AuthinfoRequest {
    AuthinfoRequest::new("1001", STORE_NAME, device, rawdata)
}

/// A fresh directory under the system temp dir (named after the test, the process and the
/// thread), removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "wxface-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// A loopback port nothing listens on (bound, then released).
pub fn refused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Collects every log line; `check_clean` asserts none carries a secret.
#[derive(Clone, Default)]
pub struct LogCapture {
    pub lines: Arc<Mutex<Vec<(Level, String)>>>,
}

impl LogCapture {
    /// A client logging into this capture; every line is also checked for secrets.
    pub fn client(&self, b: ConfigBuilder) -> Client {
        let lines = Arc::clone(&self.lines);
        let b = b.log_level(Level::Debug).log_callback(move |level, line| {
            assert_clean_line(level, line);
            lines.lock().unwrap().push((level, line.to_owned()));
        });
        Client::new(b.build().expect("valid config")).expect("client")
    }

    pub fn lines(&self) -> Vec<(Level, String)> {
        self.lines.lock().unwrap().clone()
    }

    pub fn contains(&self, needle: &str) -> bool {
        self.lines().iter().any(|(_, l)| l.contains(needle))
    }

    /// No line contains any of `secrets` (nor a 16-byte prefix of one).
    pub fn check_clean(&self, secrets: &[&str]) {
        for (level, line) in self.lines() {
            for s in secrets {
                assert!(!s.is_empty());
                let probe = &s[..s.len().min(16)];
                assert!(
                    !line.contains(probe),
                    "log line leaks a secret: [{level}] {line}"
                );
            }
        }
    }
}
