//! The client: validates, signs, sends, verifies.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::authinfo::{self, Authinfo, AuthinfoRequest};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::transport::Transport;
use crate::xml;

/// A client for one merchant configuration. It keeps its HTTP agent, so repeated calls reuse
/// connections. `Client` is `Send + Sync`: share one across threads (e.g. in an `Arc`).
///
/// ```no_run
/// use wxface::{ApiKey, AuthinfoRequest, Client, Config};
/// let config = Config::builder("1900000109", "wx2421b1c4370ec43b",
///         ApiKey::new(std::env::var("WXPAY_KEY").unwrap())?).build()?;
/// let client = Client::new(config)?;
/// let info = client.get_authinfo(&AuthinfoRequest::new("1001", "深圳南山店", "POS-01", "rawdata"))?;
/// println!("valid for {} s", info.expires_in);
/// # Ok::<(), wxface::Error>(())
/// ```
pub struct Client {
    config: Config,
    url: String,
    transport: Transport,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Creates a client. The configuration was validated by [`ConfigBuilder::build`](crate::ConfigBuilder::build).
    pub fn new(config: Config) -> Result<Client> {
        let url = format!("{}{}", config.base_url, authinfo::PATH);
        let transport = Transport::new(&config, authinfo::MAX_RESPONSE_BYTES);
        Ok(Client {
            config,
            url,
            transport,
        })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Exchanges the face SDK's rawdata for a verified authinfo.
    ///
    /// Fills `now` (unless the request gives it), `version=1`, `sign_type`, a 32-character
    /// `nonce_str` from the OS random generator and `sign`; posts the XML; verifies the answer.
    /// Invalid input fails with [`Error::InvalidArgument`] before anything is sent.
    pub fn get_authinfo(&self, request: &AuthinfoRequest) -> Result<Authinfo> {
        request.validate()?;
        let now = match request.now {
            Some(now) => now,
            None => unix_now()?,
        };
        let nonce = nonce_str()?;
        let fields = authinfo::request_fields(&self.config, request, now, &nonce);
        let body = xml::encode(fields.iter().map(|(k, v)| (*k, v.as_str())));
        let response = self.transport.post_xml(&self.url, &body)?;
        let fields = xml::decode(&response.body)?;
        authinfo::parse_response(&self.config, &fields)
    }
}

fn unix_now() -> Result<i64> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| {
            Error::invalid(
                "now",
                "the system clock is before 1970; set the clock or pass now",
            )
        })?
        .as_secs();
    let now = i64::try_from(secs).unwrap_or(i64::MAX);
    authinfo::check_now(now)?;
    Ok(now)
}

/// 32 characters of `[0-9A-Za-z]` from the OS CSPRNG, without modulo bias.
pub(crate) fn nonce_str() -> Result<String> {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(32);
    let mut buf = [0u8; 64];
    while out.len() < 32 {
        getrandom::fill(&mut buf)
            .map_err(|e| Error::Network(format!("OS random generator failed: {e}")))?;
        for &b in &buf {
            // 248 = 4 * 62: bytes at or above it would bias the distribution.
            if b < 248 && out.len() < 32 {
                out.push(ALPHABET[usize::from(b % 62)] as char);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_is_32_alphanumerics_and_fresh() {
        let a = nonce_str().unwrap();
        let b = nonce_str().unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn client_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Client>();
    }
}
