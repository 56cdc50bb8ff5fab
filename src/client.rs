//! The client: validates, signs, sends, verifies; caches, retries, fails over and corrects
//! the clock.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::authinfo::{self, Authinfo, AuthinfoRequest};
use crate::cache::{Cache, Entry, FlightGuard, Key};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::log::Level;
use crate::relay;
use crate::retry;
use crate::transport::Transport;
use crate::xml;

/// Smallest clock offset change (seconds) worth a corrected retry: WeChat tolerates 300 s, so
/// a smaller estimate cannot explain a `非法的Now参数`.
const MIN_SKEW_CORRECTION_SECS: i64 = 60;

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
    cache: Cache,
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

/// What one network call (with its retries) did.
#[derive(Default)]
struct Trace {
    attempts: u32,
    clock_corrected: bool,
}

macro_rules! log {
    ($client:expr, $level:expr, $($arg:tt)*) => {
        $client.config.logger.log($level, format_args!($($arg)*))
    };
}

impl Client {
    /// Creates a client. The configuration was validated by [`ConfigBuilder::build`](crate::ConfigBuilder::build).
    pub fn new(config: Config) -> Result<Client> {
        let (urls, max_body) = match &config.relay {
            Some(r) => (
                vec![format!("{}{}", r.url, relay::PATH)],
                relay::MAX_RESPONSE_BYTES,
            ),
            None => (
                config
                    .base_urls()
                    .into_iter()
                    .map(|u| format!("{u}{}", authinfo::PATH))
                    .collect(),
                authinfo::MAX_RESPONSE_BYTES,
            ),
        };
        let transport = Transport::new(&config, max_body);
        Ok(Client {
            config,
            urls,
            transport,
            cache: Cache::default(),
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
        request.validate()?;
        let started = Instant::now();
        let deadline = started + self.config.timeout;
        if !(self.config.cache.enabled && options.use_cache) {
            let mut trace = Trace::default();
            let result = self.fetch(request, deadline, &mut trace);
            return result.map(|(authinfo, sent)| self.fresh_result(authinfo, sent, &trace));
        }
        let key = Key {
            appid: self.config.appid.clone(),
            mch_id: self.config.mch_id.clone(),
            sub_appid: self.config.sub_appid.clone(),
            sub_mch_id: self.config.sub_mch_id.clone(),
            store_id: request.store_id.clone(),
            device_id: request.device_id.clone(),
        };
        let slot = self.cache.slot(key);
        let mut state = slot.lock();
        // The refresh this call waited for, if any: its outcome is ours too.
        let mut waited_for: Option<u64> = None;
        loop {
            let now = Instant::now();
            if let (Some(g), Some((eg, err))) = (waited_for, &state.last_error)
                && *eg == g
                && state.in_flight.is_none()
            {
                let err = err.clone();
                return self.stale_or(&state.entry, err, request);
            }
            if let Some(entry) = &state.entry {
                let fresh = self.is_fresh(entry, now);
                let shared = waited_for.is_some() || entry.obtained_at >= started;
                if (fresh && !options.force_refresh) || (shared && now < entry.expires_at) {
                    log!(
                        self,
                        Level::Debug,
                        "cache hit: store_id={} device_id={}, {} s left",
                        request.store_id,
                        request.device_id,
                        entry.expires_at.saturating_duration_since(now).as_secs()
                    );
                    return Ok(self.cached_result(entry, None));
                }
            }
            if let Some(g) = state.in_flight {
                waited_for = Some(g);
                let left = deadline.saturating_duration_since(now);
                if left.is_zero() {
                    let err = Error::Timeout(
                        "the timeout expired while waiting for a concurrent refresh".into(),
                    );
                    return self.stale_or(&state.entry, err, request);
                }
                state = slot
                    .done
                    .wait_timeout(state, left)
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
                continue;
            }
            break;
        }
        // This call refreshes; others for the same identity wait for it.
        state.generation += 1;
        let generation = state.generation;
        state.in_flight = Some(generation);
        let had_entry = state.entry.is_some();
        drop(state);
        let guard = FlightGuard {
            slot: &slot,
            generation,
        };
        log!(
            self,
            Level::Info,
            "cache {}: store_id={} device_id={}",
            if had_entry { "refresh" } else { "miss" },
            request.store_id,
            request.device_id
        );
        let mut trace = Trace::default();
        let outcome = self.fetch(request, deadline, &mut trace);
        let mut state = slot.lock();
        let result = match outcome {
            Ok((authinfo, sent)) => {
                let result = self.fresh_result(authinfo.clone(), sent, &trace);
                state.entry = Some(Entry {
                    authinfo,
                    obtained_at: sent,
                    expires_at: result.expires_at,
                });
                state.last_error = None;
                Ok(result)
            }
            Err(err) => {
                state.last_error = Some((generation, err.clone()));
                self.stale_or(&state.entry, err, request).map(|mut r| {
                    r.attempts = trace.attempts;
                    r.clock_corrected = trace.clock_corrected;
                    r
                })
            }
        };
        drop(state);
        drop(guard);
        result
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

    fn is_fresh(&self, entry: &Entry, now: Instant) -> bool {
        let validity = entry
            .expires_at
            .saturating_duration_since(entry.obtained_at);
        let margin = self.config.cache.margin_for(validity);
        entry.expires_at.saturating_duration_since(now) > margin
    }

    fn fresh_result(&self, authinfo: Authinfo, sent: Instant, trace: &Trace) -> AuthinfoResult {
        let expires_at = sent + Duration::from_secs(authinfo.expires_in.into());
        AuthinfoResult {
            authinfo,
            from_cache: false,
            stale: false,
            refresh_error: None,
            expires_at,
            clock_offset_secs: self.clock_offset_secs(),
            clock_corrected: trace.clock_corrected,
            attempts: trace.attempts,
        }
    }

    fn cached_result(&self, entry: &Entry, refresh_error: Option<Error>) -> AuthinfoResult {
        AuthinfoResult {
            authinfo: entry.authinfo.clone(),
            from_cache: true,
            stale: refresh_error.is_some(),
            refresh_error,
            expires_at: entry.expires_at,
            clock_offset_secs: self.clock_offset_secs(),
            clock_corrected: false,
            attempts: 0,
        }
    }

    /// The cached authinfo flagged stale if it is still valid, else the error.
    fn stale_or(
        &self,
        entry: &Option<Entry>,
        err: Error,
        request: &AuthinfoRequest,
    ) -> Result<AuthinfoResult> {
        match entry {
            Some(e) if Instant::now() < e.expires_at => {
                log!(
                    self,
                    Level::Warn,
                    "refresh failed, serving the cached authinfo ({} s left): store_id={} device_id={}: {err}",
                    e.expires_at
                        .saturating_duration_since(Instant::now())
                        .as_secs(),
                    request.store_id,
                    request.device_id
                );
                Ok(self.cached_result(e, Some(err)))
            }
            _ => Err(err),
        }
    }

    /// One logical request: attempts, retries with backoff, failover, clock correction, all
    /// before `deadline`. Returns the authinfo and when the successful attempt was sent.
    fn fetch(
        &self,
        request: &AuthinfoRequest,
        deadline: Instant,
        trace: &mut Trace,
    ) -> Result<(Authinfo, Instant)> {
        let policy = self.config.retry;
        let n = self.urls.len();
        let mut index = self.preferred.load(Ordering::Relaxed) % n;
        let mut tried = vec![false; n];
        let mut retries = 0u32;
        let mut corrected = false;
        loop {
            let now = Instant::now();
            let left = deadline.saturating_duration_since(now);
            if left.is_zero() {
                return Err(Error::Timeout("the call's overall timeout expired".into()));
            }
            let timeout = self.config.attempt_timeout.map_or(left, |t| t.min(left));
            let url = &self.urls[index];
            tried[index] = true;
            trace.attempts += 1;
            log!(
                self,
                Level::Debug,
                "attempt {} to {url} (timeout {} ms): store_id={} device_id={}",
                trace.attempts,
                timeout.as_millis(),
                request.store_id,
                request.device_id
            );
            let (error, date) = match self.attempt(url, request, timeout) {
                Ok(info) => {
                    self.preferred.store(index, Ordering::Relaxed);
                    log!(
                        self,
                        Level::Info,
                        "authinfo obtained from {url} after {} attempt(s), expires in {} s: store_id={} device_id={}",
                        trace.attempts,
                        info.expires_in,
                        request.store_id,
                        request.device_id
                    );
                    return Ok((info, now));
                }
                Err(e) => e,
            };
            if retry::is_bad_now(&error)
                && request.now.is_none()
                && self.config.clock_skew_correction
                && !corrected
                && let Some(offset) = date.and_then(|d| self.skew_from(d))
            {
                corrected = true;
                trace.clock_corrected = true;
                let old = self.clock_offset.swap(offset, Ordering::Relaxed);
                log!(
                    self,
                    Level::Warn,
                    "WeChat refused our now (clock skew): the server's Date says our clock is off by {offset} s (was {old} s); retrying with a corrected now"
                );
                continue;
            }
            if !retry::is_transient(&error) || retries >= policy.max_retries {
                log!(
                    self,
                    Level::Error,
                    "call failed after {} attempt(s): store_id={} device_id={}: {error}",
                    trace.attempts,
                    request.store_id,
                    request.device_id
                );
                return Err(error);
            }
            retries += 1;
            index = (index + 1) % n;
            let wait = if tried[index] {
                retry::backoff(&policy, retries)
            } else {
                Duration::ZERO
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if wait >= left {
                log!(
                    self,
                    Level::Error,
                    "call failed, no time left for retry {retries}: store_id={} device_id={}: {error}",
                    request.store_id,
                    request.device_id
                );
                return Err(error);
            }
            log!(
                self,
                Level::Warn,
                "attempt {} failed ({error}); retry {retries}/{} to {} in {} ms",
                trace.attempts,
                policy.max_retries,
                self.urls[index],
                wait.as_millis()
            );
            std::thread::sleep(wait);
        }
    }

    /// The offset to apply if the server's `Date` disagrees enough with our clock.
    fn skew_from(&self, server: SystemTime) -> Option<i64> {
        let to_secs = |t: SystemTime| match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        };
        let offset = to_secs(server).saturating_sub(to_secs(SystemTime::now()));
        let old = self.clock_offset_secs();
        (offset.abs_diff(old) >= MIN_SKEW_CORRECTION_SECS.unsigned_abs()).then_some(offset)
    }

    /// One signed POST to `url`. The error comes with the response's `Date` when a response
    /// arrived.
    fn attempt(
        &self,
        url: &str,
        request: &AuthinfoRequest,
        timeout: Duration,
    ) -> std::result::Result<Authinfo, (Error, Option<SystemTime>)> {
        if let Some(r) = &self.config.relay {
            return relay::attempt(&self.transport, r, url, request, timeout)
                .map_err(|e| (e, None));
        }
        let now = match request.now {
            Some(now) => now,
            None => unix_now()
                .map(|t| t.saturating_add(self.clock_offset_secs()))
                .and_then(|t| {
                    authinfo::check_now(t)?;
                    Ok(t)
                })
                .map_err(|e| (e, None))?,
        };
        let nonce = nonce_str().map_err(|e| (e, None))?;
        let fields = authinfo::request_fields(&self.config, request, now, &nonce);
        let body = xml::encode(fields.iter().map(|(k, v)| (*k, v.as_str())));
        let response = self
            .transport
            .post_xml(url, &body, timeout)
            .map_err(|e| (e, None))?;
        let date = response.date;
        xml::decode(&response.body)
            .and_then(|fields| authinfo::parse_response(&self.config, &fields))
            .map_err(|e| (e, date))
    }
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
