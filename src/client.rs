//! The client: validates, signs, sends, verifies; caches, retries, fails over and corrects
//! the clock.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::cache::{Cache, Fetched, Origin, Refresh, Served};
use crate::clock::{self, Clock};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::log::Level;
use crate::net::transport::Transport;
use crate::protocol::authinfo::{self, Authinfo, AuthinfoRequest, Issued};
use crate::relay;
use crate::retry::{self, Attempt, Event, Plan};

/// Smallest clock offset change (seconds) worth a corrected retry: WeChat tolerates 300 s, so
/// a smaller estimate cannot explain a `非法的Now参数`.
const MIN_SKEW_CORRECTION_SECS: i64 = 60;

/// Earliest server `Date` believed for a clock correction (2024-01-01T00:00:00Z): a forged or
/// broken answer dated 1970 must not make the client send `now=1000`.
const SERVER_TIME_MIN: i64 = 1_704_067_200;
/// Latest server `Date` believed (2100-01-01T00:00:00Z): a `Date` in year 9999 would make every
/// later `now` invalid.
const SERVER_TIME_MAX: i64 = 4_102_444_800;

/// Options of one call to [`Client::get_authinfo_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallOptions {
    /// Ask WeChat even if a fresh authinfo is cached (the new one replaces it). Callers
    /// waiting on the same identity share the refresh. Default `false`.
    pub force_refresh: bool,
    /// Read and fill the cache (when the client's cache is enabled). `false` bypasses it
    /// entirely. Default `true`.
    pub use_cache: bool,
}

impl Default for CallOptions {
    fn default() -> Self {
        CallOptions {
            force_refresh: false,
            use_cache: true,
        }
    }
}

/// An authinfo and how it was obtained.
#[derive(Clone, Debug)]
pub struct AuthinfoResult {
    /// The verified authinfo.
    pub authinfo: Authinfo,
    /// `true` when no request was sent by this call: a cached authinfo, or one obtained by a
    /// concurrent call for the same identity.
    pub from_cache: bool,
    /// `true` when a refresh failed and a cached authinfo still within `expires_in` was
    /// returned instead; [`refresh_error`](AuthinfoResult::refresh_error) says why.
    pub stale: bool,
    /// The refresh failure behind a stale result.
    pub refresh_error: Option<Error>,
    /// When the authinfo expires, on the monotonic clock.
    pub expires_at: Instant,
    /// The offset (seconds) this client adds to the system clock for `now`; non-zero after a
    /// clock-skew correction.
    pub clock_offset_secs: i64,
    /// `true` when this call measured the clock skew and retried with a corrected `now`.
    pub clock_corrected: bool,
    /// HTTP attempts made by this call (0 for a cache hit).
    pub attempts: u32,
}

impl AuthinfoResult {
    /// Validity left now (zero once expired).
    pub fn remaining(&self) -> Duration {
        self.expires_at.saturating_duration_since(Instant::now())
    }
}

/// A client for one merchant configuration. It keeps its HTTP agent, so repeated calls reuse
/// connections, and its authinfo cache. `Client` is `Send + Sync`: share one across threads
/// (e.g. in an `Arc`).
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
    urls: Vec<String>,
    transport: Transport,
    /// Cached authinfos, by [`with_identity`]; wiped when the last reference goes (replaced,
    /// cleared or dropped, and no C result still holds it).
    cache: Cache<Arc<Issued>>,
    clock: Arc<dyn Clock>,
    /// Index in `urls` of the base URL that last worked.
    preferred: AtomicUsize,
    clock_offset: AtomicI64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Runs `f` with the cache key of `request`. What identifies an authinfo: WeChat allows reusing
/// one for the same terminal and parameters (appid, mch_id, sub_appid, sub_mch_id, store_id,
/// device_id; not store_name, attach or rawdata). A client's cache holds one merchant
/// configuration, so within it the key is `store_id` and `device_id`, joined by a newline
/// (which neither may contain once validated), in a stack buffer: no allocation per call.
fn with_identity<R>(request: &AuthinfoRequest, f: impl FnOnce(&str) -> R) -> R {
    let (store, device) = (request.store_id.as_bytes(), request.device_id.as_bytes());
    let mut buf = [0u8; 256];
    let len = store.len() + 1 + device.len();
    if let Some(dst) = buf.get_mut(..len) {
        dst[..store.len()].copy_from_slice(store);
        dst[store.len()] = b'\n';
        dst[store.len() + 1..].copy_from_slice(device);
        if let Ok(key) = std::str::from_utf8(dst) {
            return f(key);
        }
    }
    f(&format!("{}\n{}", request.store_id, request.device_id))
}

/// A call's result before it is copied for Rust callers: the authinfo is the cache's own
/// (shared, not copied), which is what the C ABI hands out.
pub(crate) struct SharedResult {
    pub(crate) entry: Arc<Fetched<Arc<Issued>>>,
    pub(crate) from_cache: bool,
    pub(crate) refresh_error: Option<Error>,
    pub(crate) clock_offset_secs: i64,
    pub(crate) clock_corrected: bool,
    pub(crate) attempts: u32,
}

/// What one call's requests did.
#[derive(Default)]
struct Trace {
    attempts: Cell<u32>,
    /// The offset this call measured and used (kept by the client once an answer verifies).
    corrected_offset: Cell<Option<i64>>,
}

macro_rules! log {
    ($client:expr, $level:expr, $($arg:tt)*) => {
        $client.config.logger.log($level, format_args!($($arg)*))
    };
}

impl Client {
    /// Creates a client. The configuration was validated by [`ConfigBuilder::build`](crate::ConfigBuilder::build).
    pub fn new(config: Config) -> Result<Client> {
        Client::with_clock(config, clock::system())
    }

    /// A client reading time from `clock` (tests inject a manual one).
    pub(crate) fn with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Client> {
        let (urls, max_body) = match Upstream::of(&config) {
            Upstream::Relay(relay) => (vec![relay.url()], relay::MAX_RESPONSE_BYTES),
            Upstream::Direct(direct) => (direct.urls(), authinfo::MAX_RESPONSE_BYTES),
        };
        let transport = Transport::new(&config, max_body);
        Ok(Client {
            cache: Cache::new(config.cache, Arc::clone(&clock)),
            config,
            urls,
            transport,
            clock,
            preferred: AtomicUsize::new(0),
            clock_offset: AtomicI64::new(0),
        })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Exchanges the face SDK's rawdata for a verified authinfo, with the default
    /// [`CallOptions`]: a cached authinfo is returned while it is fresh (see
    /// [`get_authinfo_with`](Client::get_authinfo_with)).
    ///
    /// Fills `now` (unless the request gives it), `version=1`, `sign_type`, a 32-character
    /// `nonce_str` from the OS random generator and `sign`; posts the XML; verifies the answer.
    /// Invalid input fails with [`Error::InvalidArgument`] before anything is sent.
    pub fn get_authinfo(&self, request: &AuthinfoRequest) -> Result<Authinfo> {
        self.get_authinfo_with(request, &CallOptions::default())
            .map(|r| r.authinfo)
    }

    /// Like [`get_authinfo`](Client::get_authinfo), with options, and tells where the
    /// authinfo came from and when it expires.
    ///
    /// With the cache enabled: an authinfo cached for the same identity (appid, mch_id,
    /// sub_appid, sub_mch_id, store_id, device_id) is returned while its remaining validity is
    /// above the refresh margin. Concurrent calls for one identity share one request; calls for
    /// other identities are not held up. If a refresh fails while the cached authinfo is still
    /// within `expires_in`, it is returned with [`AuthinfoResult::stale`] set and the failure
    /// in [`AuthinfoResult::refresh_error`]; once expired, the failure is returned.
    ///
    /// Transient failures are retried (see [`RetryPolicy`](crate::RetryPolicy)) across the
    /// base URLs; the whole call never takes longer than the configured timeout.
    pub fn get_authinfo_with(
        &self,
        request: &AuthinfoRequest,
        options: &CallOptions,
    ) -> Result<AuthinfoResult> {
        let r = self.get_shared(request, options)?;
        Ok(AuthinfoResult {
            authinfo: r.entry.value.authinfo.clone(),
            from_cache: r.from_cache,
            stale: r.refresh_error.is_some(),
            refresh_error: r.refresh_error,
            expires_at: r.entry.expires_at,
            clock_offset_secs: r.clock_offset_secs,
            clock_corrected: r.clock_corrected,
            attempts: r.attempts,
        })
    }

    /// [`get_authinfo_with`](Client::get_authinfo_with) without copying the authinfo: the
    /// result shares the cache's entry.
    pub(crate) fn get_shared(
        &self,
        request: &AuthinfoRequest,
        options: &CallOptions,
    ) -> Result<SharedResult> {
        request.validate()?;
        let started = self.clock.now();
        let deadline = started
            .checked_add(self.config.timeout)
            .ok_or_else(|| Error::invalid("timeout", "is too large for this platform's clock"))?;
        let trace = Trace::default();
        if !(self.config.cache.enabled && options.use_cache) {
            let fetched = self.fetch(request, deadline, &trace)?;
            let served = Served {
                entry: Arc::new(fetched),
                origin: Origin::Refreshed,
            };
            return Ok(self.result(served, &trace));
        }
        let served = with_identity(request, |key| {
            self.get_cached(key, request, options, (started, deadline), &trace)
        })?;
        if self.config.logger.enabled(Level::Debug) || matches!(served.origin, Origin::Stale(_)) {
            self.log_served(&served, request);
        }
        Ok(self.result(served, &trace))
    }

    /// The cache's answer for `key`, refreshing it with `request` when needed.
    fn get_cached(
        &self,
        key: &str,
        request: &AuthinfoRequest,
        options: &CallOptions,
        (started, deadline): (Instant, Instant),
        trace: &Trace,
    ) -> Result<Served<Arc<Issued>>> {
        self.cache.get_or_refresh(
            key,
            options.force_refresh,
            started,
            deadline,
            |kind| {
                let what = if kind == Refresh::Miss {
                    "miss"
                } else {
                    "refresh"
                };
                log!(
                    self,
                    Level::Info,
                    "cache {what}: store_id={} device_id={}",
                    request.store_id,
                    request.device_id
                );
                self.fetch(request, deadline, trace)
            },
            || {
                log!(
                    self,
                    Level::Debug,
                    "waiting for a concurrent refresh: store_id={} device_id={}",
                    request.store_id,
                    request.device_id
                )
            },
        )
    }

    fn log_served(&self, served: &Served<Arc<Issued>>, request: &AuthinfoRequest) {
        let left = served
            .expires_at
            .saturating_duration_since(self.clock.now())
            .as_secs();
        match &served.origin {
            Origin::Refreshed => {}
            Origin::Cached => log!(
                self,
                Level::Debug,
                "cache hit: store_id={} device_id={}, {left} s left",
                request.store_id,
                request.device_id
            ),
            Origin::Stale(err) => log!(
                self,
                Level::Warn,
                "refresh failed, serving the cached authinfo ({left} s left): store_id={} device_id={}: {err}",
                request.store_id,
                request.device_id
            ),
        }
    }

    /// Forgets every cached authinfo: the next call for each identity asks WeChat.
    pub fn clear_cache(&self) {
        self.cache.clear();
        log!(self, Level::Info, "cache cleared");
    }

    /// How many identities have an authinfo cached (fresh, due for refresh or expired).
    pub fn cached_count(&self) -> usize {
        self.cache.len()
    }

    /// The offset in seconds added to the system clock for `now`, as measured by the last
    /// clock-skew correction (0 if none).
    pub fn clock_offset_secs(&self) -> i64 {
        self.clock_offset.load(Ordering::Relaxed)
    }

    fn result(&self, served: Served<Arc<Issued>>, trace: &Trace) -> SharedResult {
        let (from_cache, refresh_error) = match served.origin {
            Origin::Refreshed => (false, None),
            Origin::Cached => (true, None),
            Origin::Stale(e) => (true, Some(e)),
        };
        SharedResult {
            entry: served.entry,
            from_cache,
            refresh_error,
            clock_offset_secs: self.clock_offset_secs(),
            clock_corrected: trace.corrected_offset.get().is_some(),
            attempts: trace.attempts.get(),
        }
    }

    /// One logical request: attempts, retries with backoff, failover and clock correction,
    /// all before `deadline`.
    fn fetch(
        &self,
        request: &AuthinfoRequest,
        deadline: Instant,
        trace: &Trace,
    ) -> Result<Fetched<Arc<Issued>>> {
        let plan = Plan {
            policy: self.config.retry,
            clock: &*self.clock,
            deadline,
            attempt_timeout: self.config.attempt_timeout,
            targets: self.urls.len(),
            first: self.preferred.load(Ordering::Relaxed),
        };
        let (fetched, target) = retry::run(
            &plan,
            |a| self.attempt_correcting_clock(request, a, deadline, trace),
            |event| self.log_retry(event, request),
        )?;
        self.preferred.store(target, Ordering::Relaxed);
        if let Some(offset) = trace.corrected_offset.get() {
            // Kept only now that a verified answer accepted the corrected `now`.
            self.clock_offset.store(offset, Ordering::Relaxed);
        }
        log!(
            self,
            Level::Info,
            "authinfo obtained from {} after {} attempt(s), expires in {} s: store_id={} device_id={}",
            self.urls[target],
            trace.attempts.get(),
            fetched.value.authinfo.expires_in,
            request.store_id,
            request.device_id
        );
        Ok(fetched)
    }

    fn log_retry(&self, event: Event<'_>, request: &AuthinfoRequest) {
        match event {
            Event::Retry {
                failed,
                error,
                retry,
                target,
                wait,
            } => log!(
                self,
                Level::Warn,
                "attempt {failed} failed ({error}); retry {retry}/{} to {} in {} ms",
                self.config.retry.max_retries,
                self.urls[target],
                wait.as_millis()
            ),
            Event::GaveUp {
                attempts,
                error,
                no_time_left: false,
            } => log!(
                self,
                Level::Error,
                "call failed after {attempts} attempt(s): store_id={} device_id={}: {error}",
                request.store_id,
                request.device_id
            ),
            Event::GaveUp { error, .. } => log!(
                self,
                Level::Error,
                "call failed, no time left for another retry: store_id={} device_id={}: {error}",
                request.store_id,
                request.device_id
            ),
        }
    }

    /// One attempt; if WeChat refuses our `now` and the answer's `Date` gives a plausible
    /// correction, one more attempt at once with the corrected `now` (once per call).
    fn attempt_correcting_clock(
        &self,
        request: &AuthinfoRequest,
        a: &Attempt,
        deadline: Instant,
        trace: &Trace,
    ) -> Result<Fetched<Arc<Issued>>> {
        let url = &self.urls[a.target];
        let (error, date) = match self.attempt(url, request, a.timeout, trace) {
            Ok(f) => return Ok(f),
            Err(e) => e,
        };
        let correctable = retry::is_bad_now(&error)
            && request.now.is_none()
            && self.config.clock_skew_correction
            && trace.corrected_offset.get().is_none();
        let Some(offset) = date.filter(|_| correctable).and_then(|d| self.skew_from(d)) else {
            return Err(error);
        };
        let left = deadline.saturating_duration_since(self.clock.now());
        if left.is_zero() {
            return Err(error);
        }
        trace.corrected_offset.set(Some(offset));
        log!(
            self,
            Level::Warn,
            "WeChat refused our now (clock skew): the server's Date says our clock is off by {offset} s (was {} s); retrying with a corrected now",
            self.clock_offset_secs()
        );
        let timeout = self.config.attempt_timeout.map_or(left, |t| t.min(left));
        self.attempt(url, request, timeout, trace)
            .map_err(|(e, _)| e)
    }

    /// The offset to apply if the server's `Date` is plausible and disagrees enough with our
    /// clock. A `Date` outside [`SERVER_TIME_MIN`, `SERVER_TIME_MAX`] is not believed.
    fn skew_from(&self, server: SystemTime) -> Option<i64> {
        let to_secs = |t: SystemTime| match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        };
        let server = to_secs(server);
        if !(SERVER_TIME_MIN..=SERVER_TIME_MAX).contains(&server) {
            log!(
                self,
                Level::Warn,
                "WeChat refused our now, but the answer's Date ({server} s) is implausible: no clock correction"
            );
            return None;
        }
        let offset = server.saturating_sub(to_secs(SystemTime::now()));
        let old = self.clock_offset_secs();
        (offset.abs_diff(old) >= MIN_SKEW_CORRECTION_SECS.unsigned_abs()).then_some(offset)
    }

    /// One attempt at `url`, by the upstream of the configuration. The error comes with the
    /// response's `Date` when a response arrived (direct mode).
    fn attempt(
        &self,
        url: &str,
        request: &AuthinfoRequest,
        timeout: Duration,
        trace: &Trace,
    ) -> std::result::Result<Fetched<Arc<Issued>>, (Error, Option<SystemTime>)> {
        match Upstream::of(&self.config) {
            Upstream::Direct(direct) => direct.attempt(self, url, request, timeout, trace),
            Upstream::Relay(relay) => {
                trace.attempts.set(trace.attempts.get() + 1);
                let sent = self.clock.now();
                let authinfo = relay
                    .attempt(&self.transport, url, request, timeout)
                    .map_err(|e| (e, None))?;
                fetched(sent, Issued::new(authinfo)).map_err(|e| (e, None))
            }
        }
    }
}

/// Where a client's calls go: each arm is a type with its own attempt.
enum Upstream<'a> {
    /// WeChat itself: a signed XML request, a verified XML answer.
    Direct(Direct<'a>),
    /// A `wxface-relay` holding the key: a JSON request, a JSON answer checked by the same
    /// rules as WeChat's.
    Relay(relay::Relay<'a>),
}

impl Upstream<'_> {
    fn of(config: &Config) -> Upstream<'_> {
        match &config.relay {
            Some(setting) => Upstream::Relay(relay::Relay { config, setting }),
            None => Upstream::Direct(Direct { config }),
        }
    }
}

/// The direct arm of [`Upstream`]: the configuration's base URLs, signed with its key.
struct Direct<'a> {
    config: &'a Config,
}

impl Direct<'_> {
    /// The endpoint URL under each base URL, the primary first.
    fn urls(&self) -> Vec<String> {
        self.config
            .base_urls()
            .into_iter()
            .map(|u| format!("{u}{}", authinfo::PATH))
            .collect()
    }

    /// One signed POST to `url`. The error comes with the response's `Date` when a response
    /// arrived.
    fn attempt(
        &self,
        client: &Client,
        url: &str,
        request: &AuthinfoRequest,
        timeout: Duration,
        trace: &Trace,
    ) -> std::result::Result<Fetched<Arc<Issued>>, (Error, Option<SystemTime>)> {
        let offset = trace
            .corrected_offset
            .get()
            .unwrap_or_else(|| client.clock_offset_secs());
        let now = match request.now {
            Some(now) => now,
            None => unix_now()
                .map(|t| t.saturating_add(offset))
                .and_then(|t| {
                    authinfo::check_now(t)?;
                    Ok(t)
                })
                .map_err(|e| (e, None))?,
        };
        let nonce = nonce_str().map_err(|e| (e, None))?;
        let body = authinfo::request_body(self.config, request, now, &nonce);
        trace.attempts.set(trace.attempts.get() + 1);
        log!(
            client,
            Level::Debug,
            "attempt {} to {url} (timeout {} ms): store_id={} device_id={}",
            trace.attempts.get(),
            timeout.as_millis(),
            request.store_id,
            request.device_id
        );
        let sent = client.clock.now();
        let response = client
            .transport
            .post_xml(url, &body, timeout)
            .map_err(|e| (e, None))?;
        let date = response.date;
        let authinfo = authinfo::response(self.config, &response.body)
            .map(Issued::new)
            .map_err(|e| (e, date))?;
        drop(response);
        fetched(sent, authinfo).map_err(|e| (e, None))
    }
}

/// An authinfo obtained by a request sent at `sent` (wiped on drop if refused here).
fn fetched(sent: Instant, issued: Issued) -> Result<Fetched<Arc<Issued>>> {
    let expires_in = Duration::from_secs(issued.authinfo.expires_in.into());
    let expires_at = sent
        .checked_add(expires_in)
        .ok_or_else(|| Error::BadResponse("expires_in is out of range".into()))?;
    Ok(Fetched {
        value: Arc::new(issued),
        obtained_at: sent,
        expires_at,
    })
}

/// The system clock in Unix seconds (may be before 2001 on a terminal without a real-time
/// clock; the clock-skew offset corrects it).
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
    Ok(i64::try_from(secs).unwrap_or(i64::MAX))
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
