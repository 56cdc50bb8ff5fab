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

/// Reading the files a caller names (regular files, size-capped, bounded time), shared with the
/// CLI (not a stable API).
#[doc(hidden)]
pub use net::file;
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

/// The pure work of one call, exactly as the client does it, for `benches/` (not a stable API).
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
}

/// The crate version, e.g. `0.1.0`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
