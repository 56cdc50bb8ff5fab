//! Shared state: the authinfo cache, the single-flight lock, the shared failure record and the
//! rate-limit counters, in Redis when configured (shared by every relay instance) or in memory.
//! Redis sits behind a circuit breaker ([`crate::redis_link`]): while it is down the relay
//! answers from the in-process cache of its `wxface::Client` and local counters, at no Redis
//! cost, and goes back to Redis once a background probe succeeds.
//!
//! Key layout (`P` is `redis_prefix`, `ID` the SHA-256 of one identity: appid, mch_id,
//! sub_appid, sub_mch_id, store_id, device_id): `P:{ID}:ai` the authinfo, `P:{ID}:lock` the
//! single-flight lock, `P:{ID}:fail` the last failure; the `{ID}` hash tag keeps one identity's
//! keys in one Redis Cluster slot, so the flight scripts below run on one node. `P:rl:DEV:W`
//! counts the requests of one terminal in window `W`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wxface::{AuthinfoRequest, CallOptions, Client, Error};
use zeroize::{Zeroize, Zeroizing};

use crate::config::{RateLimit, RelayConfig};
use crate::metrics::Metrics;
use crate::redis_link::{RedisDown, RedisLink, Target};

/// How often a terminal waiting for another call's upstream request looks for its outcome.
const FLIGHT_POLL: Duration = Duration::from_millis(20);

/// One step of a flight, atomically. KEYS: cache, failure, lock. ARGV: owner, lock ms, read
/// the cache and the failure record first (0/1). Answers `{'hit', authinfo}`,
/// `{'failed', failure}`, `{'lock', ''}` (the caller now holds the lock) or `{'wait', ''}`.
const FLIGHT_SCRIPT: &str = "\
if ARGV[3] == '1' then \
  local v = redis.call('GET', KEYS[1]) if v then return {'hit', v} end \
  local f = redis.call('GET', KEYS[2]) if f then return {'failed', f} end \
end \
if redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'lock', ''} end \
return {'wait', ''}";

/// The lock holder's outcome, atomically with releasing the lock (if still its own). KEYS:
/// cache, failure, lock. ARGV: owner, 'ok', 'failed' or 'none', the value, its time to live in
/// ms (an 'ok' with 0 is not cached). A success clears the failure record.
const LAND_SCRIPT: &str = "\
if ARGV[2] == 'ok' then \
  if tonumber(ARGV[4]) > 0 then redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4]) end \
  redis.call('DEL', KEYS[2]) \
elseif ARGV[2] == 'failed' then redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4]) end \
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end \
return 1";

/// Counts one request in a fixed window. KEYS: the counter. ARGV: window ms.
const COUNT_SCRIPT: &str = "\
local n = redis.call('INCR', KEYS[1]) \
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end \
return n";

/// An authinfo as served to a terminal.
pub struct Served {
    /// The credential.
    pub authinfo: Zeroizing<String>,
    /// Seconds of validity left.
    pub expires_in: u64,
    /// No upstream request was made for this call.
    pub from_cache: bool,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    authinfo: String,
    /// Unix milliseconds at which the authinfo expires.
    expires_at_ms: u64,
}

impl Drop for Stored {
    fn drop(&mut self) {
        self.authinfo.zeroize();
    }
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A failed upstream call as recorded in Redis for the other requests of its identity: the
/// error's own fields, so every waiter answers exactly what the lock holder answers.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum SharedFailure {
    Network {
        message: String,
    },
    Timeout {
        message: String,
    },
    Tls {
        message: String,
    },
    HttpStatus {
        status: u16,
    },
    BadResponse {
        message: String,
    },
    Signature {
        message: String,
    },
    Remote {
        return_code: String,
        return_msg: String,
    },
}

impl SharedFailure {
    /// The record of `e`; `None` for an error that did not come from the upstream (an invalid
    /// argument: nothing was sent, each request finds it again at no cost).
    fn of(e: &Error) -> Option<SharedFailure> {
        let message = |m: &String| m.clone();
        Some(match e {
            Error::Network(m) => SharedFailure::Network {
                message: message(m),
            },
            Error::Timeout(m) => SharedFailure::Timeout {
                message: message(m),
            },
            Error::Tls(m) => SharedFailure::Tls {
                message: message(m),
            },
            Error::HttpStatus(status) => SharedFailure::HttpStatus { status: *status },
            Error::BadResponse(m) => SharedFailure::BadResponse {
                message: message(m),
            },
            Error::Signature(m) => SharedFailure::Signature {
                message: message(m),
            },
            Error::Remote {
                return_code,
                return_msg,
            } => SharedFailure::Remote {
                return_code: return_code.clone(),
                return_msg: return_msg.clone(),
            },
            _ => return None,
        })
    }

    fn into_error(self) -> Error {
        match self {
            SharedFailure::Network { message } => Error::Network(message),
            SharedFailure::Timeout { message } => Error::Timeout(message),
            SharedFailure::Tls { message } => Error::Tls(message),
            SharedFailure::HttpStatus { status } => Error::HttpStatus(status),
            SharedFailure::BadResponse { message } => Error::BadResponse(message),
            SharedFailure::Signature { message } => Error::Signature(message),
            SharedFailure::Remote {
                return_code,
                return_msg,
            } => Error::Remote {
                return_code,
                return_msg,
            },
        }
    }
}

/// The relay's shared state.
pub struct SharedState {
    redis: Option<RedisLink>,
    prefix: String,
    failure_share: Duration,
    counters: Mutex<HashMap<String, (u64, u32)>>,
    metrics: Arc<Metrics>,
}

impl SharedState {
    /// State in Redis per `config.redis_url` (a single server, `redis+sentinel://` or
    /// `redis+cluster://`; connected lazily), or in memory.
    pub fn new(config: &RelayConfig, metrics: Arc<Metrics>) -> Result<SharedState, String> {
        if config.redis_prefix.contains(['{', '}']) {
            return Err("redis_prefix must not contain { or } (hash tags are the relay's)".into());
        }
        let redis = match config.redis_url.as_deref() {
            None => None,
            Some(url) => Some(RedisLink::new(
                Target::parse(url)?,
                config.redis_timeout,
                config.redis_probe_interval,
                Arc::clone(&metrics),
            )?),
        };
        Ok(SharedState {
            redis,
            prefix: config.redis_prefix.clone(),
            failure_share: config.redis_failure_share,
            counters: Mutex::new(HashMap::new()),
            metrics,
        })
    }

    /// Whether Redis is configured.
    pub fn uses_redis(&self) -> bool {
        self.redis.is_some()
    }

    /// What is degraded right now (empty when all is well). While the breaker is closed this
    /// pings Redis (a failure opens it); while it is open Redis is not contacted.
    pub async fn degraded(&self) -> Vec<&'static str> {
        let Some(r) = &self.redis else {
            return Vec::new();
        };
        if r.is_open() || r.run::<String>(&redis::cmd("PING")).await.is_err() {
            vec!["redis"]
        } else {
            Vec::new()
        }
    }

    /// Counts a request of `device` against `limit`. `Err(retry_after_secs)` when over it.
    pub async fn rate_check(&self, device: &str, limit: RateLimit) -> Result<(), u64> {
        let now_ms = unix_ms();
        let window_ms = limit.window_secs.saturating_mul(1000);
        let window = now_ms / window_ms;
        let retry_after = (window + 1) * window_ms - now_ms;
        let retry_after = retry_after.div_ceil(1000).max(1);
        let over = |count: u64| {
            if count > u64::from(limit.requests) {
                Err(retry_after)
            } else {
                Ok(())
            }
        };
        if let Some(r) = &self.redis {
            let key = format!("{}:rl:{}:{window}", self.prefix, hash_hex(&[device]));
            let counted = r
                .run::<u64>(
                    redis::cmd("EVAL")
                        .arg(COUNT_SCRIPT)
                        .arg(1)
                        .arg(&key)
                        .arg(window_ms),
                )
                .await;
            if let Ok(count) = counted {
                return over(count);
            }
        }
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        counters.retain(|_, (w, _)| *w == window);
        let entry = counters.entry(device.to_owned()).or_insert((window, 0));
        entry.1 = entry.1.saturating_add(1);
        over(u64::from(entry.1))
    }

    /// The authinfo for `request` from merchant `client`: from the shared cache, from a
    /// concurrent call of any instance (its authinfo or its failure), or from WeChat.
    pub async fn authinfo(
        &self,
        client: Arc<Client>,
        request: AuthinfoRequest,
        force_refresh: bool,
    ) -> Result<Served, Error> {
        if let Some(r) = &self.redis
            && let Ok(served) = self.via_redis(r, &client, &request, force_refresh).await
        {
            return served;
        }
        let (result, _) = self.upstream(client, request, force_refresh).await?;
        Ok(result)
    }

    /// Calls the core client (blocking) on the blocking pool. Returns what to serve and the
    /// Unix ms at which it expires.
    async fn upstream(
        &self,
        client: Arc<Client>,
        request: AuthinfoRequest,
        force_refresh: bool,
    ) -> Result<(Served, u64), Error> {
        let started = Instant::now();
        // The library's log lines of this call belong to the request's span (its request id).
        let span = tracing::Span::current();
        let joined = tokio::task::spawn_blocking(move || {
            let _request = span.enter();
            let options = CallOptions {
                force_refresh,
                use_cache: true,
            };
            client.get_authinfo_with(&request, &options)
        })
        .await;
        let result = match joined {
            Ok(r) => r?,
            Err(_) => return Err(Error::Network("the upstream call was cancelled".into())),
        };
        if result.attempts > 0 {
            self.metrics.observe_upstream(started.elapsed());
        }
        let left = result.remaining();
        Ok((
            Served {
                authinfo: Zeroizing::new(result.authinfo.authinfo.clone()),
                expires_in: left.as_secs(),
                from_cache: result.from_cache,
            },
            unix_ms().saturating_add(millis(left)),
        ))
    }

    /// Single flight over Redis: the first request of an identity takes the lock and asks
    /// WeChat; the others wait for its outcome and answer it, success or failure. `Err` only
    /// when Redis failed (the caller then asks WeChat itself).
    async fn via_redis(
        &self,
        r: &RedisLink,
        client: &Arc<Client>,
        request: &AuthinfoRequest,
        force_refresh: bool,
    ) -> Result<Result<Served, Error>, RedisDown> {
        let c = client.config();
        let id = hash_hex(&[
            c.appid(),
            c.mch_id(),
            c.sub_appid().unwrap_or(""),
            c.sub_mch_id().unwrap_or(""),
            &request.store_id,
            &request.device_id,
        ]);
        let keys = [
            format!("{}:{{{id}}}:ai", self.prefix),
            format!("{}:{{{id}}}:fail", self.prefix),
            format!("{}:{{{id}}}:lock", self.prefix),
        ];
        let script = |body: &'static str| {
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(body).arg(keys.len()).arg(&keys[..]);
            cmd
        };
        // The lock outlives the slowest upstream call, so a crashed holder frees it.
        let lock_ms = millis(c.timeout()).saturating_add(1000);
        let deadline = Instant::now() + c.timeout() + Duration::from_secs(1);
        let owner = crate::tokens::generate();
        // A forced refresh skips what is recorded now, but answers the flight it waits for.
        let mut use_records = !force_refresh;
        // The hot path (a cache hit) is one GET; the flight script looks again on a miss.
        if use_records {
            let got: Option<String> = r.run(redis::cmd("GET").arg(&keys[0])).await?;
            if let Some(served) = got.map(Zeroizing::new).and_then(|v| cached(&v)) {
                return Ok(Ok(served));
            }
        }
        loop {
            let (step, value): (String, String) = r
                .run(
                    script(FLIGHT_SCRIPT)
                        .arg(owner.as_str())
                        .arg(lock_ms)
                        .arg(u8::from(use_records)),
                )
                .await?;
            let value = Zeroizing::new(value);
            match step.as_str() {
                "hit" => {
                    if let Some(served) = cached(&value) {
                        return Ok(Ok(served));
                    }
                    // Unreadable or expired by this host's clock: take the flight instead.
                    use_records = false;
                    continue;
                }
                "failed" => {
                    if let Ok(failure) = serde_json::from_str::<SharedFailure>(&value) {
                        self.metrics.shared_failure();
                        return Ok(Err(failure.into_error()));
                    }
                    use_records = false;
                    continue;
                }
                "lock" => {
                    let outcome = self
                        .upstream(Arc::clone(client), request.clone(), force_refresh)
                        .await;
                    self.land(r, script(LAND_SCRIPT).arg(owner.as_str()), c, &outcome)
                        .await;
                    return Ok(outcome.map(|(s, _)| s));
                }
                _ => {}
            }
            // Another call (here or in another instance) is asking WeChat: wait for its outcome.
            if Instant::now() >= deadline {
                return Ok(Err(Error::Timeout(
                    "the timeout expired while waiting for a concurrent refresh".into(),
                )));
            }
            use_records = true;
            tokio::time::sleep(FLIGHT_POLL).await;
        }
    }

    /// Records the lock holder's outcome for every waiter and releases the lock. A Redis
    /// failure here only opens the breaker: the answer is served anyway.
    async fn land(
        &self,
        r: &RedisLink,
        cmd: &mut redis::Cmd,
        c: &wxface::Config,
        outcome: &Result<(Served, u64), Error>,
    ) {
        let (kind, text, ttl) = match outcome {
            Ok((served, expires_at_ms)) => {
                let margin = c
                    .cache_options()
                    .margin_for(Duration::from_secs(served.expires_in));
                let ttl = expires_at_ms
                    .saturating_sub(unix_ms())
                    .saturating_sub(millis(margin));
                let text = serde_json::to_string(&Stored {
                    authinfo: served.authinfo.to_string(),
                    expires_at_ms: *expires_at_ms,
                });
                ("ok", text, ttl)
            }
            Err(e) => match SharedFailure::of(e) {
                Some(f) => (
                    "failed",
                    serde_json::to_string(&f),
                    millis(self.failure_share),
                ),
                // Nothing to share: just release the lock.
                None => ("none", Ok(String::new()), 0),
            },
        };
        let text = Zeroizing::new(text.unwrap_or_default());
        let _ = r
            .run::<i64>(cmd.arg(kind).arg(text.as_str()).arg(ttl))
            .await;
    }
}

/// A cache entry as served, unless unreadable or expired by this host's clock.
fn cached(text: &str) -> Option<Served> {
    let mut stored = serde_json::from_str::<Stored>(text).ok()?;
    let authinfo = Zeroizing::new(std::mem::take(&mut stored.authinfo));
    let now = unix_ms();
    (stored.expires_at_ms > now).then(|| Served {
        authinfo,
        expires_in: (stored.expires_at_ms - now) / 1000,
        from_cache: true,
    })
}

/// SHA-256 over the parts (each followed by a NUL), hex: Redis keys never carry raw ids.
fn hash_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    let mut s = String::with_capacity(64);
    for b in h.finalize() {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_failure_is_the_same_error_again() {
        let errors = [
            Error::Network("connection refused".into()),
            Error::Timeout("timed out after 8 s".into()),
            Error::Tls("bad certificate".into()),
            Error::HttpStatus(503),
            Error::BadResponse("not xml".into()),
            Error::Signature("mismatch".into()),
            Error::Remote {
                return_code: "SYSTEMERROR".into(),
                return_msg: "生成authinfo失败".into(),
            },
        ];
        for e in errors {
            let text = serde_json::to_string(&SharedFailure::of(&e).unwrap()).unwrap();
            let back = serde_json::from_str::<SharedFailure>(&text).unwrap();
            assert_eq!(back.into_error(), e);
        }
        let invalid = Error::InvalidArgument {
            field: "store_id",
            reason: "empty".into(),
        };
        assert!(SharedFailure::of(&invalid).is_none(), "nothing was sent");
    }
}
