//! One JSON line per `/v1/authinfo` request: who, which store, what happened, how long. Never
//! the key, the authinfo, the rawdata or a token.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use serde::Serialize;

/// One audit record.
#[derive(Serialize)]
pub struct Record<'a> {
    /// Unix milliseconds.
    pub ts_ms: u64,
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
