//! # wxface
//!
//! Gets the WeChat Pay face-SDK credential (`authinfo`) correctly: APIv2 signing (MD5 or
//! HMAC-SHA256), a hardened flat-XML codec, HTTPS with rustls and bundled roots, response
//! verification, and precise errors. Firmware uses it through the C ABI (`include/wxface.h`);
//! Rust callers use [`Client`] directly.
//!
//! ```no_run
//! use wxface::{ApiKey, AuthinfoRequest, Client, Config, SignType};
//! let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d")?;
//! let config = Config::builder("1900000109", "wx2421b1c4370ec43b", key)
//!     .sign_type(SignType::HmacSha256)
//!     .build()?;
//! let client = Client::new(config)?;
//! let request = AuthinfoRequest::new("1001", "深圳南山店", "POS-01", "<rawdata from the face SDK>");
//! match client.get_authinfo(&request) {
//!     Ok(info) => println!("authinfo valid for {} s", info.expires_in),
//!     Err(e) => eprintln!("{e}"),
//! }
//! # Ok::<(), wxface::Error>(())
//! ```
//!
//! Plain `http://` base URLs are refused unless the host is a loopback address: that is how the
//! tests and the bundled mock server run, and nothing else should.

#![deny(missing_docs)]

// Layers: `protocol/` is pure work over bytes (no I/O, nothing from `net/`; tests/module_graph.rs
// enforces it), `net/` moves bytes, `relay/` speaks to a wxface-relay; the policies (client,
// cache, retry, clock, config) sit at the root and use all three.
mod cache;
mod client;
mod clock;
mod config;
mod error;
pub mod ffi;
#[cfg(feature = "jni")]
mod jni;
pub mod log;
mod net;
mod protocol;
mod relay;
mod retry;
mod test_hook;

pub use net::trust;
pub use protocol::{authinfo, sign, xml};
pub use relay::json;

pub use authinfo::{Authinfo, AuthinfoRequest};
pub use client::{AuthinfoResult, CallOptions, Client};
pub use config::{
    CacheOptions, Config, ConfigBuilder, DEFAULT_BACKOFF_INITIAL, DEFAULT_BACKOFF_MAX,
    DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_LOG_LEVEL, DEFAULT_MAX_IDLE_CONNECTIONS,
    DEFAULT_MAX_RETRIES, DEFAULT_REFRESH_MARGIN_MIN, DEFAULT_TIMEOUT, RetryPolicy,
};
pub use error::{Error, ErrorKind, Result};
pub use log::{Level, LogFn};
pub use protocol::secret::{API_KEY_LEN, ApiKey};
pub use sign::SignType;
pub use trust::TrustStore;

/// The pure work of one call, exactly as the client does it, for `benches/` and `fuzz/` (not a
/// stable API).
#[doc(hidden)]
pub mod work {
    use crate::{Authinfo, AuthinfoRequest, Config, Result, authinfo};

    /// The signed XML body of `request` (it must be valid), as the client sends it (and
    /// wipes).
    pub fn request_body(
        config: &Config,
        request: &AuthinfoRequest,
        now: i64,
        nonce: &str,
    ) -> zeroize::Zeroizing<String> {
        authinfo::request_body(config, request, now, nonce)
    }

    /// Decodes and verifies a response body, as the client does with a 200 answer.
    pub fn response(config: &Config, body: &[u8]) -> Result<Authinfo> {
        authinfo::response(config, body)
    }

    /// Reads a relay's answer (HTTP status and body) as the client does in relay mode
    /// (`config` must be a relay-mode configuration), for `fuzz/`.
    pub fn relay_response(config: &Config, status: u16, body: &[u8]) -> Result<Authinfo> {
        crate::relay::parse_response(config, status, body)
    }
}

/// The library's own proxy step for `wxface doctor` (not a stable API): the doctor opens its
/// tunnel with the handshake every call uses, so its verdict on a proxy is the library's.
#[doc(hidden)]
pub mod doctor {
    use std::io::{Read, Write};

    use crate::{Config, Result};

    /// The configured proxy as `("http" | "socks5", host, port)` (IPv6 host without brackets).
    pub fn proxy(config: &Config) -> Option<(&'static str, &str, u16)> {
        config.proxy.as_ref().map(|p| p.address())
    }

    /// Opens a tunnel to `host:port` through the configured proxy over `io`, a connection to
    /// the proxy, with the client's own CONNECT or SOCKS5 handshake (credentials included);
    /// a failure is the error a call would end with. Without a proxy there is nothing to do.
    pub fn proxy_tunnel(
        config: &Config,
        io: &mut (impl Read + Write),
        host: &str,
        port: u16,
    ) -> Result<()> {
        match &config.proxy {
            Some(proxy) => crate::net::proxy::tunnel(io, proxy, host, port)
                .map_err(crate::net::transport::map_error),
            None => Ok(()),
        }
    }
}

/// The crate version, e.g. `0.1.0`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
