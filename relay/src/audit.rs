//! One JSON line per `/v1/authinfo` request: who, which store, what happened, how long. Never
//! the key, the authinfo, the rawdata or a token.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::extract::Terminal;

/// What the checks and the handler of one request learned, for its audit line (shared by the
/// extractors, the handler and the audit layer).
#[derive(Clone, Debug, Default)]
pub struct Trail(Arc<Mutex<Seen>>);

/// The contents of a [`Trail`].
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// `mtls`, `token`, or `None` for no credential.
    pub auth: Option<&'static str>,
    /// The authenticated device id.
    pub device: Option<String>,
    /// The device's merchant.
    pub merchant: Option<String>,
    /// The requested store id.
    pub store: Option<String>,
    /// Served without an upstream call.
    pub cache_hit: bool,
}

impl Trail {
    fn with(&self, f: impl FnOnce(&mut Seen)) {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }
    /// The kind of credential presented.
    pub fn set_auth(&self, auth: &'static str) {
        self.with(|s| s.auth = Some(auth));
    }
    /// The authenticated terminal.
    pub fn set_terminal(&self, t: &Terminal) {
        self.with(|s| {
            s.auth = Some(t.auth);
            s.device = Some(t.device.clone());
        });
    }
    /// The merchant of the device.
    pub fn set_merchant(&self, m: &str) {
        self.with(|s| s.merchant = Some(m.to_owned()));
    }
    /// The requested store.
    pub fn set_store(&self, store: &str) {
        self.with(|s| s.store = Some(store.to_owned()));
    }
    /// Whether the answer came without an upstream call.
    pub fn set_cache_hit(&self, hit: bool) {
        self.with(|s| s.cache_hit = hit);
    }
    /// What was recorded (the trail is left empty).
    pub fn take(&self) -> Seen {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// One audit record.
#[derive(Serialize)]
pub struct Record<'a> {
    /// Unix milliseconds.
    pub ts_ms: u64,
    /// The request id (also the `x-request-id` answer header and the `request_id` of the
    /// process log lines of this request).
    pub request_id: &'a str,
    /// Peer address.
    pub peer: &'a str,
    /// How the terminal authenticated: `mtls`, `token` or `none`.
    pub auth: &'a str,
    /// The authenticated device id, if any.
    pub device: Option<&'a str>,
    /// The merchant name, if the device is known.
    pub merchant: Option<&'a str>,
    /// The requested store id, if the body was readable.
    pub store: Option<&'a str>,
    /// HTTP status answered.
    pub status: u16,
    /// `ok` or the error code.
    pub outcome: &'a str,
    /// Served without an upstream call.
    pub cache_hit: bool,
    /// Milliseconds from request to answer.
    pub latency_ms: f64,
    /// WeChat's return_code, for upstream refusals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_code: Option<&'a str>,
}

/// Where audit lines go.
pub struct Audit {
    out: Mutex<Box<dyn Write + Send>>,
}

impl Audit {
    /// Appends to `path`, or writes to standard output.
    pub fn open(path: Option<&Path>) -> Result<Audit, String> {
        let out: Box<dyn Write + Send> = match path {
            Some(p) => Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|e| format!("audit_log {}: {e}", p.display()))?,
            ),
            None => Box::new(std::io::stdout()),
        };
        Ok(Audit {
            out: Mutex::new(out),
        })
    }

    /// Writes one line (errors are ignored: auditing never fails a request).
    pub fn write(&self, record: &Record<'_>) {
        let mut line = serde_json::to_vec(record).unwrap_or_default();
        line.push(b'\n');
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = out.write_all(&line).and_then(|()| out.flush());
    }
}
