//! Client configuration: merchant identity, key, endpoint and timeouts.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::secret::ApiKey;
use crate::sign::SignType;
use crate::validate;

/// WeChat Pay's payapp host.
pub const DEFAULT_BASE_URL: &str = "https://payapp.weixin.qq.com";
/// Default time allowed to establish the TCP (and TLS) connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default bound on a whole call: resolve, connect, send and receive.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything a [`Client`](crate::Client) needs to know about the merchant and the endpoint.
///
/// Build one with [`Config::builder`]; `build()` validates every value and names the field it
/// refuses.
///
/// ```
/// use wxface::{ApiKey, Config, SignType};
/// let config = Config::builder("1900000109", "wx2421b1c4370ec43b",
///         ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap())
///     .sign_type(SignType::Md5)
///     .build()
///     .unwrap();
/// assert_eq!(config.base_url(), "https://payapp.weixin.qq.com");
/// assert!(!format!("{config:?}").contains("192006250b4c"));
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) mch_id: String,
    pub(crate) appid: String,
    pub(crate) key: ApiKey,
    pub(crate) sub_mch_id: Option<String>,
    pub(crate) sub_appid: Option<String>,
    pub(crate) base_url: String,
    pub(crate) sign_type: SignType,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
}

impl Config {
    /// Starts a configuration for merchant `mch_id`, its `appid` and its APIv2 key (in
    /// service-provider mode: the provider's ids and key, with the sub-merchant's set below).
    pub fn builder(
        mch_id: impl Into<String>,
        appid: impl Into<String>,
        key: ApiKey,
    ) -> ConfigBuilder {
        ConfigBuilder {
            config: Config {
                mch_id: mch_id.into(),
                appid: appid.into(),
                key,
                sub_mch_id: None,
                sub_appid: None,
                base_url: DEFAULT_BASE_URL.to_owned(),
                sign_type: SignType::default(),
                connect_timeout: DEFAULT_CONNECT_TIMEOUT,
                timeout: DEFAULT_TIMEOUT,
            },
        }
    }

    /// The merchant number.
    pub fn mch_id(&self) -> &str {
        &self.mch_id
    }
    /// The appid.
    pub fn appid(&self) -> &str {
        &self.appid
    }
    /// The sub-merchant number, in service-provider mode.
    pub fn sub_mch_id(&self) -> Option<&str> {
        self.sub_mch_id.as_deref()
    }
    /// The sub-merchant's appid, in service-provider mode.
    pub fn sub_appid(&self) -> Option<&str> {
        self.sub_appid.as_deref()
    }
    /// The base URL requests go to (without trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
    /// The signature algorithm of requests.
    pub fn sign_type(&self) -> SignType {
        self.sign_type
    }
    /// The connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
    /// The overall timeout of one call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
    pub(crate) fn key(&self) -> &ApiKey {
        &self.key
    }
}

/// Builder for [`Config`].
#[derive(Clone, Debug)]
pub struct ConfigBuilder {
    config: Config,
}

impl ConfigBuilder {
    /// Sub-merchant number (service-provider mode). An empty string means none.
    pub fn sub_mch_id(mut self, v: impl Into<String>) -> Self {
        self.config.sub_mch_id = Some(v.into()).filter(|s| !s.is_empty());
        self
    }
    /// Sub-merchant appid (service-provider mode). An empty string means none.
    pub fn sub_appid(mut self, v: impl Into<String>) -> Self {
        self.config.sub_appid = Some(v.into()).filter(|s| !s.is_empty());
        self
    }
    /// Base URL, default [`DEFAULT_BASE_URL`]. Must be `https://`; `http://` is accepted only
    /// for a loopback host (`127.0.0.0/8`, `[::1]`, `localhost`), which is how tests and the
    /// mock server run. A trailing `/` is ignored.
    pub fn base_url(mut self, v: impl Into<String>) -> Self {
        self.config.base_url = v.into();
        self
    }
    /// Signature algorithm, default HMAC-SHA256.
    pub fn sign_type(mut self, v: SignType) -> Self {
        self.config.sign_type = v;
        self
    }
    /// Connect timeout, default 5 s.
    pub fn connect_timeout(mut self, v: Duration) -> Self {
        self.config.connect_timeout = v;
        self
    }
    /// Overall timeout of one call, default 10 s.
    pub fn timeout(mut self, v: Duration) -> Self {
        self.config.timeout = v;
        self
    }

    /// Validates and returns the configuration.
    pub fn build(mut self) -> Result<Config> {
        let c = &mut self.config;
        validate::text("mch_id", &c.mch_id, validate::ID_MAX)?;
        validate::text("appid", &c.appid, validate::ID_MAX)?;
        if let Some(v) = &c.sub_mch_id {
            validate::text("sub_mch_id", v, validate::ID_MAX)?;
        }
        if let Some(v) = &c.sub_appid {
            validate::text("sub_appid", v, validate::ID_MAX)?;
        }
        c.base_url = normalize_base_url(&c.base_url)?;
        for (field, d) in [
            ("connect_timeout", c.connect_timeout),
            ("timeout", c.timeout),
        ] {
            if d.is_zero() {
                return Err(Error::invalid(field, "must be greater than zero"));
            }
        }
        if c.connect_timeout > c.timeout {
            c.connect_timeout = c.timeout;
        }
        Ok(self.config)
    }
}

/// Checks the scheme and host rule and strips a trailing slash.
fn normalize_base_url(url: &str) -> Result<String> {
    let err = |reason: &str| Error::invalid("base_url", reason.to_owned());
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(err("contains whitespace or control characters"));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| err("must start with https:// (or http:// for a loopback host)"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err(err("has no host"));
    }
    if authority.contains('@') || rest.contains(['?', '#']) {
        return Err(err("must not contain credentials, a query or a fragment"));
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => {
            return Err(err(
                "plain http:// is only allowed for a loopback host (tests, the mock); use https://",
            ));
        }
        _ => return Err(err("scheme must be https (or http for a loopback host)")),
    }
    Ok(url.trim_end_matches('/').to_owned())
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ApiKey {
        ApiKey::new("0123456789abcdef0123456789abcdef").unwrap()
    }

    #[test]
    fn base_url_rules() {
        for ok in [
            "https://payapp.weixin.qq.com",
            "https://payapp.weixin.qq.com/",
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://localhost:1/",
            "http://[::1]:99",
            "https://10.0.0.1:8443/prefix",
        ] {
            assert!(normalize_base_url(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            normalize_base_url("http://127.0.0.1:1/").unwrap(),
            "http://127.0.0.1:1"
        );
        for bad in [
            "",
            "payapp.weixin.qq.com",
            "http://payapp.weixin.qq.com",
            "http://10.0.0.1",
            "http://127.0.0.1.evil.com",
            "http://localhost.evil.com",
            "ftp://127.0.0.1",
            "https://user:pw@host",
            "https://host/?q",
            "https:// host",
            "https://",
        ] {
            assert!(normalize_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn build_validates_fields() {
        assert!(Config::builder("", "wx1", key()).build().is_err());
        assert!(Config::builder("1", "wx\x001", key()).build().is_err());
        assert!(
            Config::builder("1", "wx1", key())
                .sub_mch_id("x".repeat(33))
                .build()
                .is_err()
        );
        assert!(
            Config::builder("1", "wx1", key())
                .timeout(Duration::ZERO)
                .build()
                .is_err()
        );
        let c = Config::builder("1", "wx1", key())
            .sub_appid("")
            .build()
            .unwrap();
        assert_eq!(c.sub_appid(), None);
        assert_eq!(c.sign_type(), SignType::HmacSha256);
    }
}
