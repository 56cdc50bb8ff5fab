//! Shared state: the authinfo cache, the single-flight lock and the rate-limit counters, in
//! Redis when configured (shared by every relay instance) or in memory. If Redis fails, the
//! relay degrades to the in-process cache of its `wxface::Client` and local counters, and
//! goes back to Redis as soon as a command succeeds again.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wxface::{AuthinfoRequest, CallOptions, Client, Error};
use zeroize::Zeroizing;

use crate::config::RateLimit;
use crate::metrics::Metrics;

/// How often a terminal waiting for another instance's upstream call looks for its result.
const FLIGHT_POLL: Duration = Duration::from_millis(20);

/// Deletes KEYS[1] if it holds ARGV[1].
const UNLOCK_SCRIPT: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

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

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A Redis failure (down, timed out, or an unexpected answer).
struct RedisDown;

impl From<redis::RedisError> for RedisDown {
    fn from(_: redis::RedisError) -> Self {
        RedisDown
    }
}

struct Redis {
    conn: ConnectionManager,
    prefix: String,
    timeout: Duration,
}

impl Redis {
    async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, RedisDown> {
        let mut conn = self.conn.clone();
        match tokio::time::timeout(self.timeout, cmd.query_async::<T>(&mut conn)).await {
            Ok(r) => Ok(r?),
            Err(_) => Err(RedisDown),
        }
    }
}

/// The relay's shared state.
pub struct SharedState {
    redis: Option<Redis>,
    redis_down: AtomicBool,
    counters: Mutex<HashMap<String, (u64, u32)>>,
    metrics: Arc<Metrics>,
}

impl SharedState {
    /// State in Redis at `url` (connected lazily; reconnects by itself), or in memory.
    pub fn new(
        url: Option<&str>,
        prefix: &str,
        timeout: Duration,
        metrics: Arc<Metrics>,
    ) -> Result<SharedState, String> {
        let redis = match url {
            None => None,
            Some(url) => {
                let client = redis::Client::open(url).map_err(|e| format!("redis_url: {e}"))?;
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(timeout))
                    .set_response_timeout(Some(timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(200));
                let conn = ConnectionManager::new_lazy_with_config(client, config)
                    .map_err(|e| format!("redis: {e}"))?;
                Some(Redis {
                    conn,
                    prefix: prefix.to_owned(),
                    timeout,
                })
            }
        };
        Ok(SharedState {
            redis,
            redis_down: AtomicBool::new(false),
            counters: Mutex::new(HashMap::new()),
            metrics,
        })
    }

    /// Whether Redis is configured.
    pub fn uses_redis(&self) -> bool {
        self.redis.is_some()
    }

    /// What is degraded right now (empty when all is well). Probes Redis when configured.
    pub async fn degraded(&self) -> Vec<&'static str> {
        let Some(r) = &self.redis else {
            return Vec::new();
        };
        let ok = r.run::<String>(&redis::cmd("PING")).await.is_ok();
        self.set_down(!ok);
        if ok { Vec::new() } else { vec!["redis"] }
    }

    fn note<T>(&self, r: Result<T, RedisDown>) -> Result<T, RedisDown>
    where
        T: Sized,
    {
        self.set_down(r.is_err());
        r
    }

    fn set_down(&self, down: bool) {
        self.redis_down.store(down, Ordering::Relaxed);
        self.metrics.set_redis_up(!down);
    }

    /// Counts a request of `device` against `limit`. `Err(retry_after_secs)` when over it.
    pub async fn rate_check(&self, device: &str, limit: RateLimit) -> Result<(), u64> {
        let now_ms = unix_ms();
        let window_ms = limit.window_secs.saturating_mul(1000);
        let window = now_ms / window_ms;
        let retry_after = (window + 1) * window_ms - now_ms;
        let retry_after = retry_after.div_ceil(1000).max(1);
        if let Some(r) = &self.redis {
            let key = format!("{}:rl:{}:{window}", r.prefix, hash_hex(&[device]));
            let mut pipe = redis::pipe();
            pipe.atomic()
                .incr(&key, 1)
                .pexpire(&key, i64::try_from(window_ms).unwrap_or(i64::MAX))
                .ignore();
            let mut conn = r.conn.clone();
            let res = tokio::time::timeout(r.timeout, pipe.query_async::<(u64,)>(&mut conn)).await;
            let res = match res {
                Ok(Ok(v)) => Ok(v),
                _ => Err(RedisDown),
            };
            if let Ok((count,)) = self.note(res) {
                return if count > u64::from(limit.requests) {
                    Err(retry_after)
                } else {
                    Ok(())
                };
            }
        }
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        counters.retain(|_, (w, _)| *w == window);
        let entry = counters.entry(device.to_owned()).or_insert((window, 0));
        entry.1 = entry.1.saturating_add(1);
        if entry.1 > limit.requests {
            Err(retry_after)
        } else {
            Ok(())
        }
    }

    /// The authinfo for `request` from merchant `client`: from the shared cache, from a
    /// concurrent call of any instance, or from WeChat.
    pub async fn authinfo(
        &self,
        client: Arc<Client>,
        request: AuthinfoRequest,
        force_refresh: bool,
    ) -> Result<Served, Error> {
        if let Some(r) = &self.redis {
            match self.via_redis(r, &client, &request, force_refresh).await {
                Ok(served) => return served,
                Err(RedisDown) => self.set_down(true),
            }
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
            unix_ms().saturating_add(u64::try_from(left.as_millis()).unwrap_or(u64::MAX)),
        ))
    }

    async fn via_redis(
        &self,
        r: &Redis,
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
        let cache_key = format!("{}:ai:{id}", r.prefix);
        let lock_key = format!("{}:lock:{id}", r.prefix);
        let margin_ms = |expires_in: u64| {
            let m = c
                .cache_options()
                .margin_for(Duration::from_secs(expires_in));
            u64::try_from(m.as_millis()).unwrap_or(u64::MAX)
        };
        // The lock outlives the slowest upstream call, so a crashed holder frees it.
        let lock_ms = u64::try_from(c.timeout().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1000);
        let deadline = Instant::now() + c.timeout() + Duration::from_secs(1);
        let owner = crate::tokens::generate();
        let mut may_use_cache = !force_refresh;
        loop {
            if may_use_cache {
                let got: Option<String> =
                    self.note(r.run(redis::cmd("GET").arg(&cache_key)).await)?;
                if let Some(text) = got.map(Zeroizing::new)
                    && let Ok(stored) = serde_json::from_str::<Stored>(&text)
                {
                    let stored_auth = Zeroizing::new(stored.authinfo);
                    let now = unix_ms();
                    if stored.expires_at_ms > now {
                        return Ok(Ok(Served {
                            authinfo: stored_auth,
                            expires_in: (stored.expires_at_ms - now) / 1000,
                            from_cache: true,
                        }));
                    }
                }
            }
            let acquired: Option<String> = self.note(
                r.run(
                    redis::cmd("SET")
                        .arg(&lock_key)
                        .arg(owner.as_str())
                        .arg("NX")
                        .arg("PX")
                        .arg(lock_ms),
                )
                .await,
            )?;
            if acquired.is_some() {
                let outcome = self
                    .upstream(Arc::clone(client), request.clone(), force_refresh)
                    .await;
                if let Ok((served, expires_at_ms)) = &outcome {
                    let ttl = expires_at_ms
                        .saturating_sub(unix_ms())
                        .saturating_sub(margin_ms(served.expires_in));
                    if ttl > 0 {
                        let text = Zeroizing::new(
                            serde_json::to_string(&Stored {
                                authinfo: served.authinfo.to_string(),
                                expires_at_ms: *expires_at_ms,
                            })
                            .unwrap_or_default(),
                        );
                        // A failure marks Redis down; the answer is served anyway.
                        let _ = self.note(
                            r.run::<()>(
                                redis::cmd("SET")
                                    .arg(&cache_key)
                                    .arg(text.as_str())
                                    .arg("PX")
                                    .arg(ttl),
                            )
                            .await,
                        );
                    }
                }
                // Release the lock only if it is still ours.
                let _ = r
                    .run::<i64>(
                        redis::cmd("EVAL")
                            .arg(UNLOCK_SCRIPT)
                            .arg(1)
                            .arg(&lock_key)
                            .arg(owner.as_str()),
                    )
                    .await;
                return Ok(outcome.map(|(s, _)| s));
            }
            // Another call (here or in another instance) is asking WeChat: wait for its result.
            if Instant::now() >= deadline {
                return Ok(Err(Error::Timeout(
                    "the timeout expired while waiting for a concurrent refresh".into(),
                )));
            }
            may_use_cache = true;
            tokio::time::sleep(FLIGHT_POLL).await;
        }
    }
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
