//! Client configuration: merchant identity, key, endpoints, timeouts, retries, cache, proxy,
//! trust roots and logging.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::log::{Level, LogFn, Logger};
use crate::net::endpoint::normalize_base_url;
use crate::net::proxy::ProxySetting;
use crate::net::trust::{self, TrustStore};
use crate::protocol::secret::ApiKey;
use crate::protocol::sign::SignType;
use crate::protocol::validate;

/// WeChat Pay's payapp host.
pub const DEFAULT_BASE_URL: &str = "https://payapp.weixin.qq.com";
/// Default time allowed to establish the TCP (and TLS) connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default bound on a whole call: resolve, connect, send and receive, every retry included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest timeout accepted (for `timeout`, `connect_timeout`, `attempt_timeout`).
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// Default number of retries after a transient failure (so at most 3 attempts).
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// Default wait before the first retry; it doubles on each further retry.
pub const DEFAULT_BACKOFF_INITIAL: Duration = Duration::from_millis(200);
/// Default upper bound of the wait between retries.
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(2);
/// Default smallest refresh margin of the authinfo cache (the margin is 10 % of `expires_in`,
/// at least this).
pub const DEFAULT_REFRESH_MARGIN_MIN: Duration = Duration::from_secs(60);
/// Default number of idle connections a client keeps open per host for reuse: as many threads
/// as can share a client without one of them having to open a new connection.
pub const DEFAULT_MAX_IDLE_CONNECTIONS: u32 = 8;
/// Largest accepted `max_idle_connections`.
const MAX_IDLE_CONNECTIONS: u32 = 256;
/// Default most verbose level passed to the log callback.
pub const DEFAULT_LOG_LEVEL: Level = Level::Info;

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
    /// `None` only in relay mode, where nothing is signed on the terminal.
    pub(crate) key: Option<ApiKey>,
    pub(crate) sub_mch_id: Option<String>,
    pub(crate) sub_appid: Option<String>,
    pub(crate) base_url: String,
    pub(crate) sign_type: SignType,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) fallback_urls: Vec<String>,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) max_idle_connections: u32,
    pub(crate) retry: RetryPolicy,
    pub(crate) clock_skew_correction: bool,
    pub(crate) cache: CacheOptions,
    pub(crate) proxy: Option<ProxySetting>,
    pub(crate) trust: TrustSetting,
    pub(crate) logger: Logger,
    /// Relay mode: ask this `wxface-relay` instead of WeChat (see [`crate::relay`]).
    pub(crate) relay: Option<crate::relay::setting::RelaySetting>,
}

/// Retries of transient failures: connect/DNS failure, timeout, connection reset or closed
/// early, truncated body, HTTP 5xx, and WeChat's `SYSTEMERROR`. Never retried: invalid
/// arguments, TLS failures, signature failures, `PARAM_ERROR`, `ERROR` and other answers.
///
/// The wait before retry *n* (1-based) is drawn uniformly from `[b/2, b]` with
/// `b = min(initial_backoff * 2^(n-1), max_backoff)`, and is cut short by the call's overall
/// timeout, which no call ever exceeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 disables retrying. Default [`DEFAULT_MAX_RETRIES`].
    pub max_retries: u32,
    /// Wait before the first retry. Default [`DEFAULT_BACKOFF_INITIAL`].
    pub initial_backoff: Duration,
    /// Largest wait between two attempts. Default [`DEFAULT_BACKOFF_MAX`].
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: DEFAULT_MAX_RETRIES,
            initial_backoff: DEFAULT_BACKOFF_INITIAL,
            max_backoff: DEFAULT_BACKOFF_MAX,
        }
    }
}

/// The authinfo cache of a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheOptions {
    /// Whether [`Client::get_authinfo`](crate::Client::get_authinfo) reuses authinfos.
    /// Default `true`.
    pub enabled: bool,
    /// A cached authinfo is refreshed once its remaining validity falls to this margin.
    /// `None` (the default): 10 % of `expires_in`, at least [`DEFAULT_REFRESH_MARGIN_MIN`].
    pub refresh_margin: Option<Duration>,
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions {
            enabled: true,
            refresh_margin: None,
        }
    }
}

impl CacheOptions {
    /// The refresh margin for an authinfo valid `expires_in`.
    pub fn margin_for(&self, expires_in: Duration) -> Duration {
        self.refresh_margin
            .unwrap_or_else(|| (expires_in / 10).max(DEFAULT_REFRESH_MARGIN_MIN))
    }
}

/// Which roots server certificates are checked against.
#[derive(Clone, Debug)]
pub(crate) struct TrustSetting {
    /// Mozilla's roots, bundled.
    pub(crate) builtin: bool,
    /// Extra roots (DER), from `ca_pem` / `ca_file`.
    pub(crate) extra: Arc<Vec<crate::net::tls::Certificate>>,
}

impl Config {
    /// Starts a configuration for merchant `mch_id`, its `appid` and its APIv2 key (in
    /// service-provider mode: the provider's ids and key, with the sub-merchant's set below).
    /// Same as [`ConfigBuilder::new`] followed by the three setters.
    pub fn builder(
        mch_id: impl Into<String>,
        appid: impl Into<String>,
        key: ApiKey,
    ) -> ConfigBuilder {
        ConfigBuilder::new().mch_id(mch_id).appid(appid).key(key)
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
    /// The overall timeout of one call, retries included.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
    /// Every base URL, the primary first, then the fallbacks in order.
    pub fn base_urls(&self) -> Vec<&str> {
        std::iter::once(self.base_url.as_str())
            .chain(self.fallback_urls.iter().map(String::as_str))
            .collect()
    }
    /// The bound on one attempt, if set (otherwise an attempt may use what is left of
    /// [`timeout`](Config::timeout)).
    pub fn attempt_timeout(&self) -> Option<Duration> {
        self.attempt_timeout
    }
    /// Idle connections kept per host for reuse.
    pub fn max_idle_connections(&self) -> u32 {
        self.max_idle_connections
    }
    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }
    /// Whether a `非法的Now参数` answer triggers a clock-skew correction and one retry.
    pub fn clock_skew_correction(&self) -> bool {
        self.clock_skew_correction
    }
    /// The authinfo cache options.
    pub fn cache_options(&self) -> CacheOptions {
        self.cache
    }
    /// Whether an explicit proxy is configured.
    pub fn has_proxy(&self) -> bool {
        self.proxy.is_some()
    }
    /// The APIv2 key. Only reached when signing, which relay mode never does, and a config
    /// without relay mode always has a key (`build` requires it).
    pub(crate) fn key(&self) -> &ApiKey {
        match &self.key {
            Some(k) => k,
            None => unreachable!("signing in relay mode: the client asks the relay instead"),
        }
    }
    /// The relay's base URL, in relay mode.
    pub fn relay_url(&self) -> Option<&str> {
        self.relay.as_ref().map(|r| r.url.as_str())
    }
}

/// Builder for [`Config`], and the one place where options, their defaults, limits and
/// messages are defined: the C ABI (`wxface_config_*`) and the JNI binding only convert their
/// arguments and call these setters, and [`build`](ConfigBuilder::build) validates.
///
/// Setters never fail; each takes a plain value, so each maps onto one C or Java call.
/// Conventions shared by every binding: an empty string for an optional text value means
/// "not set" (the default), and for [`attempt_timeout`](ConfigBuilder::attempt_timeout)
/// `Duration::ZERO` means "no bound".
#[derive(Clone)]
pub struct ConfigBuilder {
    mch_id: String,
    appid: String,
    key: Option<ApiKey>,
    sub_mch_id: Option<String>,
    sub_appid: Option<String>,
    base_url: Option<String>,
    sign_type: SignType,
    connect_timeout: Duration,
    timeout: Duration,
    fallback_urls: Vec<String>,
    attempt_timeout: Option<Duration>,
    max_idle_connections: u32,
    retry: RetryPolicy,
    clock_skew_correction: bool,
    cache: CacheOptions,
    trust_builtin: bool,
    proxy_url: Option<Zeroizing<String>>,
    proxy_username: Option<String>,
    proxy_password: Option<Zeroizing<String>>,
    ca_pems: Vec<Vec<u8>>,
    ca_files: Vec<PathBuf>,
    trust_store: TrustStore,
    system_ca_path: Option<PathBuf>,
    user_cas: bool,
    user_ca_path: Option<PathBuf>,
    log_fn: Option<LogFn>,
    log_level: Level,
    relay_url: Option<String>,
    relay_token: Option<Zeroizing<String>>,
    relay_client_cert: Option<(Vec<u8>, Zeroizing<Vec<u8>>)>,
}

impl Default for ConfigBuilder {
    fn default() -> Self {
        ConfigBuilder::new()
    }
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("mch_id", &self.mch_id)
            .field("appid", &self.appid)
            .field("key", &self.key.as_ref().map(|_| "***"))
            .field("base_url", &self.base_url)
            .field("fallback_urls", &self.fallback_urls)
            .field("sign_type", &self.sign_type)
            .field("proxy", &self.proxy_url.as_ref().map(|_| "<set>"))
            .field("ca_pems", &self.ca_pems.len())
            .field("ca_files", &self.ca_files)
            .field("trust_store", &self.trust_store)
            .field("system_ca_path", &self.system_ca_path)
            .field("user_cas", &self.user_cas)
            .field("user_ca_path", &self.user_ca_path)
            .field("log_level", &self.log_level)
            .field("relay_url", &self.relay_url)
            .field("relay_token", &self.relay_token.as_ref().map(|_| "***"))
            .field("relay_client_cert", &self.relay_client_cert.is_some())
            .finish_non_exhaustive()
    }
}

impl ConfigBuilder {
    /// An empty builder: every option at its default, and no merchant identity or key yet
    /// (`build` names the first required value that is missing).
    pub fn new() -> Self {
        ConfigBuilder {
            mch_id: String::new(),
            appid: String::new(),
            key: None,
            sub_mch_id: None,
            sub_appid: None,
            base_url: None,
            sign_type: SignType::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            fallback_urls: Vec::new(),
            attempt_timeout: None,
            max_idle_connections: DEFAULT_MAX_IDLE_CONNECTIONS,
            retry: RetryPolicy::default(),
            clock_skew_correction: true,
            cache: CacheOptions::default(),
            trust_builtin: true,
            proxy_url: None,
            proxy_username: None,
            proxy_password: None,
            ca_pems: Vec::new(),
            ca_files: Vec::new(),
            trust_store: TrustStore::default(),
            system_ca_path: None,
            user_cas: false,
            user_ca_path: None,
            log_fn: None,
            log_level: DEFAULT_LOG_LEVEL,
            relay_url: None,
            relay_token: None,
            relay_client_cert: None,
        }
    }
    /// Merchant number (`mch_id`; in service-provider mode the provider's). Required.
    pub fn mch_id(mut self, v: impl Into<String>) -> Self {
        self.mch_id = v.into();
        self
    }
    /// The `appid` bound to the merchant. Required.
    pub fn appid(mut self, v: impl Into<String>) -> Self {
        self.appid = v.into();
        self
    }
    /// The APIv2 key (in service-provider mode: the provider's). Required.
    pub fn key(mut self, key: ApiKey) -> Self {
        self.key = Some(key);
        self
    }
    /// Sub-merchant number (service-provider mode). An empty string means none.
    pub fn sub_mch_id(mut self, v: impl Into<String>) -> Self {
        self.sub_mch_id = Some(v.into()).filter(|s| !s.is_empty());
        self
    }
    /// Sub-merchant appid (service-provider mode). An empty string means none.
    pub fn sub_appid(mut self, v: impl Into<String>) -> Self {
        self.sub_appid = Some(v.into()).filter(|s| !s.is_empty());
        self
    }
    /// Base URL, default [`DEFAULT_BASE_URL`]. Must be `https://`; `http://` is accepted only
    /// for a loopback host (`127.0.0.0/8`, `[::1]`, `localhost`), which is how tests and the
    /// mock server run. A trailing `/` is ignored; an empty string restores the default.
    pub fn base_url(mut self, v: impl Into<String>) -> Self {
        self.base_url = Some(v.into()).filter(|s| !s.is_empty());
        self
    }
    /// Signature algorithm, default HMAC-SHA256.
    pub fn sign_type(mut self, v: SignType) -> Self {
        self.sign_type = v;
        self
    }
    /// Connect timeout, default 5 s.
    pub fn connect_timeout(mut self, v: Duration) -> Self {
        self.connect_timeout = v;
        self
    }
    /// Overall timeout of one call, default 10 s. It bounds the whole call: every attempt,
    /// every wait between retries and the clock-skew retry. No call takes longer.
    pub fn timeout(mut self, v: Duration) -> Self {
        self.timeout = v;
        self
    }

    /// Adds a fallback base URL (same rules as [`base_url`](ConfigBuilder::base_url)). After a
    /// transient failure the next URL in the list is tried; the client then keeps using the
    /// URL that last worked. Default: none.
    pub fn fallback_base_url(mut self, v: impl Into<String>) -> Self {
        self.fallback_urls.push(v.into());
        self
    }
    /// Replaces the whole list of base URLs: the first becomes the primary
    /// ([`base_url`](ConfigBuilder::base_url)), the others fallbacks. An empty list leaves the
    /// primary as it is and removes the fallbacks.
    pub fn base_urls<I, S>(mut self, urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut urls = urls.into_iter().map(Into::into);
        if let Some(first) = urls.next() {
            self = self.base_url(first);
        }
        self.fallback_urls = urls.collect();
        self
    }
    /// Bound on one attempt (connect, send, receive). Default: none, an attempt may use what
    /// is left of the overall [`timeout`](ConfigBuilder::timeout). Setting it lower lets a
    /// hanging host give way to a retry or a fallback URL. `Duration::ZERO` removes the bound.
    pub fn attempt_timeout(mut self, v: Duration) -> Self {
        self.attempt_timeout = Some(v).filter(|d| !d.is_zero());
        self
    }
    /// Idle connections the client keeps open per host, default
    /// [`DEFAULT_MAX_IDLE_CONNECTIONS`] (8); 0 restores the default, at most 256. Set it to at
    /// least the number of threads that call one client at once, or some calls open a new
    /// connection (over TLS, a full handshake) while others are dropped from the pool.
    pub fn max_idle_connections(mut self, v: u32) -> Self {
        self.max_idle_connections = if v == 0 {
            DEFAULT_MAX_IDLE_CONNECTIONS
        } else {
            v
        };
        self
    }
    /// The whole retry policy at once.
    pub fn retry_policy(mut self, v: RetryPolicy) -> Self {
        self.retry = v;
        self
    }
    /// Retries after a transient failure, default [`DEFAULT_MAX_RETRIES`] (2); 0 disables.
    pub fn max_retries(mut self, v: u32) -> Self {
        self.retry.max_retries = v;
        self
    }
    /// Backoff between retries: the first wait and the largest one (defaults 200 ms and 2 s).
    /// Each wait is jittered down to half its nominal value.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.retry.initial_backoff = initial;
        self.retry.max_backoff = max;
        self
    }
    /// Whether a `PARAM_ERROR 非法的Now参数` answer makes the client estimate its clock's skew
    /// from the response's HTTP `Date` header, retry once with a corrected `now` and keep the
    /// offset for later calls. Default `true`. Never applies to a request that sets `now`.
    pub fn clock_skew_correction(mut self, v: bool) -> Self {
        self.clock_skew_correction = v;
        self
    }
    /// Whether the client caches authinfos per identity (appid, mch_id, sub_appid,
    /// sub_mch_id, store_id, device_id). Default `true`.
    pub fn cache(mut self, enabled: bool) -> Self {
        self.cache.enabled = enabled;
        self
    }
    /// The whole cache configuration at once (`refresh_margin: None` is the default margin).
    pub fn cache_options(mut self, v: CacheOptions) -> Self {
        self.cache = v;
        self
    }
    /// A fixed refresh margin: a cached authinfo is refreshed once its remaining validity is
    /// at or below it. Default: 10 % of `expires_in`, at least 60 s.
    pub fn cache_refresh_margin(mut self, v: Duration) -> Self {
        self.cache.refresh_margin = Some(v);
        self
    }
    /// An explicit proxy: `http://host:port` (HTTP CONNECT) or `socks5://host:port` (SOCKS5,
    /// host names resolved by the proxy). Credentials may be given in the URL
    /// (percent-encoded) or with [`proxy_credentials`](ConfigBuilder::proxy_credentials).
    /// Default: none; proxy environment variables are never read. An empty string means none.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy_url = Some(Zeroizing::new(url.into())).filter(|s| !s.is_empty());
        self
    }
    /// User name and password for the proxy (basic auth for HTTP CONNECT, user/password
    /// authentication for SOCKS5), taken verbatim.
    pub fn proxy_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.proxy_username = Some(username.into());
        self.proxy_password = Some(Zeroizing::new(password.into()));
        self
    }
    /// Adds trusted root certificates from PEM bytes (one or more `CERTIFICATE` blocks), on
    /// top of the bundled roots unless [`builtin_roots`](ConfigBuilder::builtin_roots) is
    /// `false`.
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_pems.push(pem.into());
        self
    }
    /// Adds trusted root certificates from a PEM file, read by [`build`](ConfigBuilder::build).
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_files.push(path.into());
        self
    }
    /// Whether the bundled Mozilla roots are trusted. Default `true`; `false` trusts only the
    /// roots given with [`ca_pem`](ConfigBuilder::ca_pem) / [`ca_file`](ConfigBuilder::ca_file)
    /// (and the system store if [`trust_store`](ConfigBuilder::trust_store) asks for it).
    pub fn builtin_roots(mut self, v: bool) -> Self {
        self.trust_builtin = v;
        self
    }
    /// Which roots verify the server besides the custom CAs: [`TrustStore::Bundled`] (default,
    /// Mozilla's roots in the library), [`TrustStore::System`] (the device's store, read by
    /// [`build`](ConfigBuilder::build): on Android the system CA directory, on Linux the
    /// distribution's bundle) or [`TrustStore::Both`]. See [`crate::net::trust`]. A `tls-openssl`
    /// build has no bundled roots: its default is `System`, and `build()` refuses `Bundled`
    /// and `Both`.
    pub fn trust_store(mut self, v: TrustStore) -> Self {
        self.trust_store = v;
        self
    }
    /// Reads the system store from `path` instead of the platform's location: a directory of PEM
    /// files laid out like Android's (every regular file is read; text after the PEM block is
    /// ignored) or a PEM bundle file. Used when the trust store is `System` or `Both`.
    pub fn system_ca_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.system_ca_path = Some(path.into());
        self
    }
    /// Android: also trust the CAs the user added in Settings
    /// (`/data/misc/user/<user>/cacerts-added`; none added is fine). Default `false`: a
    /// user-installed CA can intercept the traffic. Elsewhere it needs
    /// [`user_ca_path`](ConfigBuilder::user_ca_path).
    pub fn user_cas(mut self, v: bool) -> Self {
        self.user_cas = v;
        self
    }
    /// Reads the user-added CAs from `path` (a directory like Android's, or a bundle file)
    /// instead of Android's location; implies [`user_cas(true)`](ConfigBuilder::user_cas).
    pub fn user_ca_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.user_ca_path = Some(path.into());
        self.user_cas = true;
        self
    }
    /// The log callback. It receives each attempt, retry, failover, cache hit and refresh,
    /// clock correction and failure cause; never the API key, the authinfo or the rawdata.
    /// Default: none.
    pub fn logger(mut self, f: LogFn) -> Self {
        self.log_fn = Some(f);
        self
    }
    /// Removes the log callback set before.
    pub fn without_logger(mut self) -> Self {
        self.log_fn = None;
        self
    }
    /// Same as [`logger`](ConfigBuilder::logger), from a closure.
    pub fn log_callback(self, f: impl Fn(Level, &str) + Send + Sync + 'static) -> Self {
        self.logger(Arc::new(f))
    }
    /// The most verbose level passed to the callback, default [`Level::Info`].
    pub fn log_level(mut self, v: Level) -> Self {
        self.log_level = v;
        self
    }
    /// Relay mode: get authinfos from this `wxface-relay` base URL (`https://`, or `http://`
    /// for a loopback host) instead of WeChat. The terminal then holds no API key (setting
    /// one is refused), `mch_id` and `appid` are optional (the relay knows the merchant), and
    /// one of [`relay_token`](ConfigBuilder::relay_token) or
    /// [`relay_client_cert`](ConfigBuilder::relay_client_cert) is required. Retries, the
    /// deadline, proxies, trust roots and the cache apply as in direct mode. An empty string
    /// means direct mode (the default).
    pub fn relay_url(mut self, url: impl Into<String>) -> Self {
        self.relay_url = Some(url.into()).filter(|s| !s.is_empty());
        self
    }
    /// Relay mode: the terminal's bearer token (from `wxface-relay token add`). Copied, wiped
    /// on drop, never shown. An empty string removes it.
    pub fn relay_token(mut self, token: impl Into<String>) -> Self {
        self.relay_token = Some(Zeroizing::new(token.into())).filter(|s| !s.is_empty());
        self
    }
    /// Relay mode: the terminal's client certificate chain and private key, in PEM (mutual
    /// TLS; the relay reads the device id from the certificate). The key is copied and wiped
    /// on drop. Empty certificate and key remove them.
    pub fn relay_client_cert(
        mut self,
        cert_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<Vec<u8>>,
    ) -> Self {
        let (cert, key) = (cert_pem.into(), Zeroizing::new(key_pem.into()));
        self.relay_client_cert = (!cert.is_empty() || !key.is_empty()).then_some((cert, key));
        self
    }

    /// Validates every value and returns the configuration; the error names the first field
    /// it refuses.
    pub fn build(self) -> Result<Config> {
        let relay = crate::relay::setting::setting(
            self.relay_url.as_deref(),
            self.relay_token.as_ref(),
            self.relay_client_cert.as_ref(),
            self.key.is_some(),
        )?;
        if relay.is_none() {
            if self.mch_id.is_empty() {
                return Err(Error::invalid("mch_id", "is not set"));
            }
            if self.appid.is_empty() {
                return Err(Error::invalid("appid", "is not set"));
            }
            if self.key.is_none() {
                return Err(Error::invalid("api_key", "is not set"));
            }
        }
        let key = self.key;
        if !self.mch_id.is_empty() || relay.is_none() {
            validate::text("mch_id", &self.mch_id, validate::ID_MAX)?;
        }
        if !self.appid.is_empty() || relay.is_none() {
            validate::text("appid", &self.appid, validate::ID_MAX)?;
        }
        if let Some(v) = &self.sub_mch_id {
            validate::text("sub_mch_id", v, validate::ID_MAX)?;
        }
        if let Some(v) = &self.sub_appid {
            validate::text("sub_appid", v, validate::ID_MAX)?;
        }
        let base_url = normalize_base_url(
            "base_url",
            self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL),
        )?;
        let fallback_urls = self
            .fallback_urls
            .iter()
            .enumerate()
            .map(|(i, url)| {
                normalize_base_url("fallback_base_url", url).map_err(|e| match e {
                    Error::InvalidArgument { field, reason } => Error::InvalidArgument {
                        field,
                        reason: format!("fallback URL {}: {reason}", i + 1),
                    },
                    other => other,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let r = &self.retry;
        if r.initial_backoff > r.max_backoff {
            return Err(Error::invalid(
                "backoff",
                "the initial backoff exceeds the largest one",
            ));
        }
        for (field, d) in [
            ("connect_timeout", self.connect_timeout),
            ("timeout", self.timeout),
            (
                "attempt_timeout",
                self.attempt_timeout.unwrap_or(self.timeout),
            ),
        ] {
            if d.is_zero() {
                return Err(Error::invalid(field, "must be greater than zero"));
            }
            if d > MAX_TIMEOUT {
                return Err(Error::invalid(field, "must be at most 24 hours"));
            }
        }
        if self.max_idle_connections > MAX_IDLE_CONNECTIONS {
            return Err(Error::invalid(
                "max_idle_connections",
                format!("must be at most {MAX_IDLE_CONNECTIONS}"),
            ));
        }
        let proxy = build_proxy(
            self.proxy_url.as_deref().map(String::as_str),
            self.proxy_username.as_deref(),
            self.proxy_password.as_deref().map(String::as_str),
        )?;
        let mut extra = Vec::new();
        for pem in &self.ca_pems {
            extra.extend(parse_ca("ca_pem", pem)?);
        }
        for path in &self.ca_files {
            let pem = std::fs::read(path).map_err(|e| {
                Error::invalid("ca_file", format!("cannot read {}: {e}", path.display()))
            })?;
            extra.extend(parse_ca("ca_file", &pem)?);
        }
        if self.trust_store.uses_system() {
            let path = match &self.system_ca_path {
                Some(p) => p.clone(),
                None => trust::default_system_location()?,
            };
            extra.extend(trust::load("system_ca_path", &path)?);
        }
        if self.user_cas {
            match (&self.user_ca_path, trust::default_user_location()) {
                (Some(p), _) => extra.extend(trust::load("user_ca_path", p)?),
                // Android, nothing added by the user: nothing to add.
                (None, Some(p)) if !p.exists() => {}
                (None, Some(p)) => extra.extend(trust::load("user_ca_path", &p)?),
                (None, None) => {
                    return Err(Error::invalid(
                        "user_cas",
                        "there is no user CA store on this platform; set user_ca_path",
                    ));
                }
            }
        }
        if self.trust_store.uses_bundled() && !crate::net::tls::HAS_BUNDLED_ROOTS {
            return Err(Error::invalid(
                "trust_store",
                "this build uses the platform's OpenSSL and has no bundled roots: \
                 use System (its default) and/or ca_pem / ca_file",
            ));
        }
        let trust_builtin = self.trust_builtin && self.trust_store.uses_bundled();
        if !trust_builtin && extra.is_empty() {
            return Err(Error::invalid(
                "ca_pem",
                "the bundled roots are disabled and no CA certificate was given",
            ));
        }
        Ok(Config {
            mch_id: self.mch_id,
            appid: self.appid,
            key,
            sub_mch_id: self.sub_mch_id,
            sub_appid: self.sub_appid,
            base_url,
            sign_type: self.sign_type,
            connect_timeout: self.connect_timeout.min(self.timeout),
            timeout: self.timeout,
            fallback_urls,
            attempt_timeout: self.attempt_timeout,
            max_idle_connections: self.max_idle_connections,
            retry: self.retry,
            clock_skew_correction: self.clock_skew_correction,
            cache: self.cache,
            proxy,
            trust: TrustSetting {
                builtin: trust_builtin,
                extra: Arc::new(extra),
            },
            logger: Logger::new(self.log_fn, self.log_level),
            relay,
        })
    }
}

/// Parses and checks the proxy URL and applies separate credentials.
fn build_proxy(
    url: Option<&str>,
    username: Option<&str>,
    password: Option<&str>,
) -> Result<Option<ProxySetting>> {
    match url {
        Some(url) => ProxySetting::parse(url, username, password).map(Some),
        None if username.is_some() => Err(Error::invalid(
            "proxy",
            "credentials were given without a proxy",
        )),
        None => Ok(None),
    }
}

/// Every `CERTIFICATE` block of a PEM text.
fn parse_ca(field: &'static str, pem: &[u8]) -> Result<Vec<crate::net::tls::Certificate>> {
    let certs = crate::net::tls::pem_certificates(pem).map_err(|e| Error::invalid(field, e))?;
    if certs.is_empty() {
        return Err(Error::invalid(field, "contains no PEM CERTIFICATE"));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ApiKey {
        ApiKey::new("0123456789abcdef0123456789abcdef").unwrap()
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
        for too_long in [Duration::MAX, MAX_TIMEOUT + Duration::from_nanos(1)] {
            let err = Config::builder("1", "wx1", key())
                .timeout(too_long)
                .build()
                .unwrap_err();
            assert_eq!(err.to_string(), "invalid timeout: must be at most 24 hours");
        }
        let c = Config::builder("1", "wx1", key())
            .sub_appid("")
            .build()
            .unwrap();
        assert_eq!(c.sub_appid(), None);
        assert_eq!(c.sign_type(), SignType::HmacSha256);
    }
}
