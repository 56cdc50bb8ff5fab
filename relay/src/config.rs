//! The relay's configuration file (TOML): listener, TLS, terminals, merchants, shared state.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use zeroize::{Zeroize, Zeroizing};

/// Default largest request body, in bytes.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024;
/// Default bound on one upstream call (every retry included), in milliseconds.
pub const DEFAULT_UPSTREAM_TIMEOUT_MS: u64 = 8_000;
/// Default bound on one Redis command, in milliseconds.
pub const DEFAULT_REDIS_TIMEOUT_MS: u64 = 300;
/// Default back-off of the Redis circuit breaker: after a failure, Redis is skipped and probed
/// in the background this often, in milliseconds.
pub const DEFAULT_REDIS_PROBE_INTERVAL_MS: u64 = 1_000;
/// Default time a failed upstream call is shared with the other requests for the same
/// identity (on every instance), in milliseconds.
pub const DEFAULT_REDIS_FAILURE_SHARE_MS: u64 = 1_000;
/// Default time a client has, from connecting (or from the first byte of a later request on a
/// kept-alive connection), to send a request's complete header block and body, in milliseconds.
pub const DEFAULT_HEADER_READ_TIMEOUT_MS: u64 = 10_000;
/// Default time a kept-alive connection may sit idle between requests, in milliseconds.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 60_000;
/// Default time requests in flight get to finish after SIGTERM/SIGINT, in milliseconds.
pub const DEFAULT_SHUTDOWN_GRACE_MS: u64 = 20_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: String,
    tls: Option<RawTls>,
    tokens_file: Option<PathBuf>,
    redis_url: Option<String>,
    redis_prefix: Option<String>,
    redis_timeout_ms: Option<u64>,
    redis_probe_interval_ms: Option<u64>,
    redis_failure_share_ms: Option<u64>,
    audit_log: Option<PathBuf>,
    max_body_bytes: Option<usize>,
    upstream_timeout_ms: Option<u64>,
    rate_limit: Option<RateLimit>,
    header_read_timeout_ms: Option<u64>,
    idle_timeout_ms: Option<u64>,
    max_connections: Option<usize>,
    shutdown_grace_ms: Option<u64>,
    log_format: Option<LogFormat>,
    log_level: Option<LogLevel>,
    #[serde(default, rename = "merchant")]
    merchants: Vec<RawMerchant>,
    #[serde(default, rename = "device")]
    devices: Vec<Device>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cert: PathBuf,
    key: PathBuf,
    client_ca: Option<PathBuf>,
    #[serde(default)]
    require_client_cert: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMerchant {
    name: String,
    mch_id: String,
    appid: String,
    key: Option<String>,
    key_file: Option<PathBuf>,
    sub_mch_id: Option<String>,
    sub_appid: Option<String>,
    base_url: Option<String>,
    sign_type: Option<String>,
    ca_file: Option<PathBuf>,
}

impl Drop for RawMerchant {
    fn drop(&mut self) {
        if let Some(k) = &mut self.key {
            k.zeroize();
        }
    }
}

/// Requests allowed per terminal (device id) in a fixed window.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub requests: u32,
    /// Window length in seconds.
    pub window_secs: u64,
}

/// A terminal allowed to call the relay.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// The terminal's device id: the `device_id` of its requests, the subject CN of its client
    /// certificate, the name its bearer tokens are issued for.
    pub id: String,
    /// The `name` of the merchant it belongs to.
    pub merchant: String,
    /// The store ids it may ask for; empty means any store.
    #[serde(default)]
    pub stores: Vec<String>,
}

/// TLS files of the listener.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// Server certificate chain (PEM).
    pub cert: PathBuf,
    /// Server private key (PEM).
    pub key: PathBuf,
    /// CA whose client certificates are accepted (mutual TLS); `None`: bearer tokens only.
    pub client_ca: Option<PathBuf>,
    /// The handshake refuses a client without a certificate chaining to `client_ca` (bearer
    /// tokens are then never reached). Needs `client_ca`.
    pub require_client_cert: bool,
}

/// How the process log (not the audit log) is written to standard error.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line, with the request id of the request it belongs to.
    Json,
}

/// The most verbose process-log level; it is also the level the library's log callback gets.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Failures only.
    Error,
    /// Degradations: retries, failovers, Redis down, connections shed.
    Warn,
    /// Start, stop, drain, and the library's one line per upstream call.
    #[default]
    Info,
    /// Everything, including each cache hit inside the library.
    Debug,
}

impl LogLevel {
    /// The same level for the `wxface` library's log callback.
    pub fn library(self) -> wxface::Level {
        match self {
            LogLevel::Error => wxface::Level::Error,
            LogLevel::Warn => wxface::Level::Warn,
            LogLevel::Info => wxface::Level::Info,
            LogLevel::Debug => wxface::Level::Debug,
        }
    }
}

/// What bounds the relay's connections (see `docs/relay.md`, "Connections and timeouts").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From accepting a connection, or from the first byte of a later request on it, until the
    /// request's header block and body are read.
    pub header_read_timeout: Duration,
    /// Between a response and the first byte of the next request on a kept-alive connection.
    pub idle_timeout: Duration,
    /// Connections served at once; `None`: derived from the open-file limit at start.
    pub max_connections: Option<usize>,
}

/// One merchant (or sub-merchant) the relay signs for. Holds a built `wxface::Config` (whose
/// key is wiped on drop and never shown by `Debug`).
#[derive(Clone, Debug)]
pub struct Merchant {
    /// The name devices refer to.
    pub name: String,
    /// The core configuration: ids, key, endpoint, timeout.
    pub config: wxface::Config,
}

/// The whole validated configuration.
#[derive(Clone)]
pub struct RelayConfig {
    /// `host:port` to listen on.
    pub listen: String,
    /// HTTPS (and optionally mutual TLS); `None` serves plain HTTP (behind a TLS terminator).
    pub tls: Option<TlsFiles>,
    /// File of token hashes written by `wxface-relay token add`.
    pub tokens_file: Option<PathBuf>,
    /// Shared state in Redis, e.g. `redis://127.0.0.1:6379/0`; `None`: in memory.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key (default `wxface-relay`).
    pub redis_prefix: String,
    /// Bound on one Redis command.
    pub redis_timeout: Duration,
    /// Circuit breaker back-off: while Redis is skipped, it is probed this often.
    pub redis_probe_interval: Duration,
    /// How long a failed upstream call is answered to the other requests for its identity.
    pub redis_failure_share: Duration,
    /// Audit lines go to this file (appended); `None`: standard output.
    pub audit_log: Option<PathBuf>,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Bound on one upstream call.
    pub upstream_timeout: Duration,
    /// Per-terminal rate limit; `None`: unlimited.
    pub rate_limit: Option<RateLimit>,
    /// Timeouts and the connection cap.
    pub limits: ConnectionLimits,
    /// Time requests in flight get to finish after SIGTERM/SIGINT.
    pub shutdown_grace: Duration,
    /// Process log format.
    pub log_format: LogFormat,
    /// Process log level (and the library callback's).
    pub log_level: LogLevel,
    /// Merchants by name.
    pub merchants: HashMap<String, Arc<Merchant>>,
    /// Devices by id.
    pub devices: HashMap<String, Device>,
}

impl fmt::Debug for RelayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelayConfig")
            .field("listen", &self.listen)
            .field("tls", &self.tls)
            .field("redis", &self.redis_url.as_ref().map(|_| "<set>"))
            .field("limits", &self.limits)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("merchants", &self.merchants.keys().collect::<Vec<_>>())
            .field("devices", &self.devices.len())
            .finish_non_exhaustive()
    }
}

fn rel(base: &Path, p: PathBuf) -> PathBuf {
    if p.is_absolute() { p } else { base.join(p) }
}

impl RelayConfig {
    /// Reads and validates a configuration file; relative paths in it are relative to its
    /// directory.
    pub fn load(path: &Path) -> Result<RelayConfig, String> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        );
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, base).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses and validates configuration text; relative paths are relative to `base`.
    pub fn parse(text: &str, base: &Path) -> Result<RelayConfig, String> {
        // toml's errors quote the offending line, which could hold a key: keep only the
        // message's first line and the position.
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let span = e
                .span()
                .map(|s| {
                    let line = text[..s.start].matches('\n').count() + 1;
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            format!("invalid configuration{span}: {}", e.message())
        })?;
        let mut merchants = HashMap::new();
        let upstream_timeout = Duration::from_millis(
            raw.upstream_timeout_ms
                .unwrap_or(DEFAULT_UPSTREAM_TIMEOUT_MS),
        );
        if upstream_timeout.is_zero() {
            return Err("upstream_timeout_ms must be positive".into());
        }
        let positive = |name: &str, v: Option<u64>, default: u64| match v.unwrap_or(default) {
            0 => Err(format!("{name} must be positive")),
            ms => Ok(Duration::from_millis(ms)),
        };
        let limits = ConnectionLimits {
            header_read_timeout: positive(
                "header_read_timeout_ms",
                raw.header_read_timeout_ms,
                DEFAULT_HEADER_READ_TIMEOUT_MS,
            )?,
            idle_timeout: positive(
                "idle_timeout_ms",
                raw.idle_timeout_ms,
                DEFAULT_IDLE_TIMEOUT_MS,
            )?,
            max_connections: match raw.max_connections {
                Some(0) => return Err("max_connections must be positive".into()),
                n => n,
            },
        };
        let shutdown_grace =
            Duration::from_millis(raw.shutdown_grace_ms.unwrap_or(DEFAULT_SHUTDOWN_GRACE_MS));
        let log_level = raw.log_level.unwrap_or_default();
        let mut raw = raw;
        for mut m in std::mem::take(&mut raw.merchants) {
            if merchants.contains_key(&m.name) {
                return Err(format!("merchant {:?} is defined twice", m.name));
            }
            let key = match (m.key.take(), &m.key_file) {
                (Some(k), None) => Zeroizing::new(k),
                (None, Some(f)) => {
                    let f = rel(base, f.clone());
                    let text = Zeroizing::new(
                        std::fs::read_to_string(&f)
                            .map_err(|e| format!("cannot read key_file {}: {e}", f.display()))?,
                    );
                    Zeroizing::new(text.trim().to_owned())
                }
                _ => {
                    return Err(format!(
                        "merchant {:?}: give exactly one of key and key_file",
                        m.name
                    ));
                }
            };
            let key = wxface::ApiKey::new(key.as_str())
                .map_err(|e| format!("merchant {:?}: {e}", m.name))?;
            let mut b = wxface::Config::builder(&m.mch_id, &m.appid, key)
                .timeout(upstream_timeout)
                .logger(crate::logging::library_logger())
                .log_level(log_level.library())
                .sub_mch_id(m.sub_mch_id.clone().unwrap_or_default())
                .sub_appid(m.sub_appid.clone().unwrap_or_default());
            if let Some(u) = &m.base_url {
                b = b.base_url(u);
            }
            if let Some(st) = &m.sign_type {
                b = b.sign_type(match st.as_str() {
                    "MD5" => wxface::SignType::Md5,
                    "HMAC-SHA256" => wxface::SignType::HmacSha256,
                    _ => {
                        return Err(format!(
                            "merchant {:?}: sign_type must be MD5 or HMAC-SHA256",
                            m.name
                        ));
                    }
                });
            }
            if let Some(ca) = &m.ca_file {
                b = b.ca_file(rel(base, ca.clone()));
            }
            let config = b
                .build()
                .map_err(|e| format!("merchant {:?}: {e}", m.name))?;
            let name = std::mem::take(&mut m.name);
            merchants.insert(name.clone(), Arc::new(Merchant { name, config }));
        }
        if merchants.is_empty() {
            return Err("at least one [[merchant]] is required".into());
        }
        let mut devices = HashMap::new();
        for d in raw.devices.drain(..) {
            if !merchants.contains_key(&d.merchant) {
                return Err(format!(
                    "device {:?}: unknown merchant {:?}",
                    d.id, d.merchant
                ));
            }
            if d.id.is_empty() || d.id.len() > 32 {
                return Err(format!("device {:?}: id must be 1 to 32 bytes", d.id));
            }
            if devices.insert(d.id.clone(), d).is_some() {
                return Err("a device id is listed twice".into());
            }
        }
        if let Some(rl) = raw.rate_limit
            && (rl.requests == 0 || rl.window_secs == 0)
        {
            return Err("rate_limit: requests and window_secs must be positive".into());
        }
        let redis_probe_interval = Duration::from_millis(
            raw.redis_probe_interval_ms
                .unwrap_or(DEFAULT_REDIS_PROBE_INTERVAL_MS),
        );
        if !(10..=60_000).contains(&redis_probe_interval.as_millis()) {
            return Err("redis_probe_interval_ms must be 10 to 60000".into());
        }
        let redis_failure_share = Duration::from_millis(
            raw.redis_failure_share_ms
                .unwrap_or(DEFAULT_REDIS_FAILURE_SHARE_MS),
        );
        if !(100..=10_000).contains(&redis_failure_share.as_millis()) {
            return Err("redis_failure_share_ms must be 100 to 10000".into());
        }
        let tls = raw.tls.take().map(|t| TlsFiles {
            cert: rel(base, t.cert),
            key: rel(base, t.key),
            client_ca: t.client_ca.map(|p| rel(base, p)),
            require_client_cert: t.require_client_cert,
        });
        if tls
            .as_ref()
            .is_some_and(|t| t.require_client_cert && t.client_ca.is_none())
        {
            return Err("tls.require_client_cert needs tls.client_ca".into());
        }
        Ok(RelayConfig {
            listen: raw.listen.clone(),
            tls,
            tokens_file: raw.tokens_file.take().map(|p| rel(base, p)),
            redis_url: raw.redis_url.take(),
            redis_prefix: raw
                .redis_prefix
                .take()
                .unwrap_or_else(|| "wxface-relay".into()),
            redis_timeout: Duration::from_millis(
                raw.redis_timeout_ms.unwrap_or(DEFAULT_REDIS_TIMEOUT_MS),
            ),
            redis_probe_interval,
            redis_failure_share,
            audit_log: raw.audit_log.take().map(|p| rel(base, p)),
            max_body_bytes: raw.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
            upstream_timeout,
            rate_limit: raw.rate_limit,
            limits,
            shutdown_grace,
            log_format: raw.log_format.unwrap_or_default(),
            log_level,
            merchants,
            devices,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "wxfacemock0123456789abcdefABCDEF";

    fn parse(extra: &str) -> Result<RelayConfig, String> {
        let text = format!(
            "listen = \"127.0.0.1:0\"\n{extra}\n[[merchant]]\nname = \"hq\"\nmch_id = \"1900000109\"\nappid = \"wx2421b1c4370ec43b\"\nkey = \"{KEY}\"\nbase_url = \"http://127.0.0.1:9\"\n[[device]]\nid = \"POS-01\"\nmerchant = \"hq\"\nstores = [\"1001\"]\n"
        );
        RelayConfig::parse(&text, Path::new("/etc/wxface-relay"))
    }

    #[test]
    fn parses_and_never_shows_the_key() {
        let c = parse("tokens_file = \"tokens\"").unwrap();
        assert_eq!(
            c.tokens_file.as_deref(),
            Some(Path::new("/etc/wxface-relay/tokens"))
        );
        assert_eq!(c.devices["POS-01"].stores, vec!["1001".to_owned()]);
        assert_eq!(
            c.limits,
            ConnectionLimits {
                header_read_timeout: Duration::from_millis(DEFAULT_HEADER_READ_TIMEOUT_MS),
                idle_timeout: Duration::from_millis(DEFAULT_IDLE_TIMEOUT_MS),
                max_connections: None,
            }
        );
        assert_eq!(
            (c.log_format, c.log_level),
            (LogFormat::Text, LogLevel::Info)
        );
        assert!(!format!("{c:?} {:?}", c.merchants["hq"]).contains(&KEY[..12]));
    }

    #[test]
    fn refuses_unknown_fields_and_bad_values_without_echoing_the_key() {
        let e = parse("colour = 1").unwrap_err();
        assert!(e.contains("colour"), "{e}");
        let e = parse("rate_limit = { requests = 0, window_secs = 1 }").unwrap_err();
        assert!(e.contains("rate_limit"), "{e}");
        for (bad, says) in [
            ("header_read_timeout_ms = 0", "header_read_timeout_ms"),
            ("idle_timeout_ms = 0", "idle_timeout_ms"),
            ("max_connections = 0", "max_connections"),
            ("log_format = \"xml\"", "expected `text` or `json`"),
            (
                "[tls]\ncert = \"c\"\nkey = \"k\"\nrequire_client_cert = true",
                "require_client_cert needs tls.client_ca",
            ),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        let bad = "listen = \"x\"\n[[merchant]]\nname=\"a\"\nmch_id=\"1\"\nappid=\"wx\"\nkey=\"short-secret-key\"\n";
        let e = RelayConfig::parse(bad, Path::new(".")).unwrap_err();
        assert!(!e.contains("short-secret-key"), "{e}");
        let bad = "listen = \"x\"\nkey = \"wxfacemock0123456789abcdefABCDEF\" nonsense\n";
        let e = RelayConfig::parse(bad, Path::new(".")).unwrap_err();
        assert!(!e.contains("wxfacemock01"), "{e}");
    }
}
