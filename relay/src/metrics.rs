//! Prometheus text metrics: requests by outcome, upstream latency histogram, cache hits,
//! Redis availability and its circuit breaker, failures shared between concurrent calls,
//! connections.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the upstream latency histogram buckets.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// Why a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    /// The client closed it, or the server after a `Connection: close` answer or a drain.
    Normal,
    /// No complete request header (and body) within `header_read_timeout_ms`.
    HeaderTimeout,
    /// Idle between requests longer than `idle_timeout_ms`.
    IdleTimeout,
    /// Closed while idle to make room for a new connection (cap reached, or out of descriptors).
    Shed,
    /// Refused at once: the cap was reached and every connection was serving a request.
    Refused,
}

impl Closed {
    const ALL: [Closed; 5] = [
        Closed::Normal,
        Closed::HeaderTimeout,
        Closed::IdleTimeout,
        Closed::Shed,
        Closed::Refused,
    ];

    /// The `reason` label.
    pub fn label(self) -> &'static str {
        match self {
            Closed::Normal => "normal",
            Closed::HeaderTimeout => "header_timeout",
            Closed::IdleTimeout => "idle_timeout",
            Closed::Shed => "shed",
            Closed::Refused => "refused",
        }
    }
}

/// The relay's counters.
#[derive(Default)]
pub struct Metrics {
    connections: AtomicU64,
    closed: [AtomicU64; Closed::ALL.len()],
    accept_errors: AtomicU64,
    requests: Mutex<BTreeMap<(u16, &'static str), u64>>,
    buckets: [AtomicU64; BUCKETS.len()],
    upstream_count: AtomicU64,
    upstream_sum_us: AtomicU64,
    cache_hits: AtomicU64,
    redis_up: AtomicI64,
    redis_commands: AtomicU64,
    redis_failures: AtomicU64,
    redis_skipped: AtomicU64,
    redis_trips: AtomicU64,
    redis_probes_ok: AtomicU64,
    redis_probes_failed: AtomicU64,
    shared_failures: AtomicU64,
}

impl Metrics {
    /// New counters; `redis_up` starts at 1 when Redis is configured, -1 when it is not.
    pub fn new(redis: bool) -> Metrics {
        let m = Metrics::default();
        m.redis_up
            .store(if redis { 1 } else { -1 }, Ordering::Relaxed);
        m
    }

    /// Counts one finished `/v1/authinfo` request.
    pub fn request(&self, status: u16, outcome: &'static str, cache_hit: bool) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((status, outcome))
            .or_default() += 1;
        if cache_hit {
            self.cache_hits.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records the latency of one upstream call (with its retries).
    pub fn observe_upstream(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.upstream_count.fetch_add(1, Ordering::Relaxed);
        self.upstream_sum_us.fetch_add(
            u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Records whether Redis is in use (breaker closed) or skipped (breaker open); a change to
    /// 0 counts as one trip of the breaker. No-op without Redis.
    pub fn set_redis_up(&self, up: bool) {
        if self.redis_up.load(Ordering::Relaxed) >= 0
            && self.redis_up.swap(i64::from(up), Ordering::Relaxed) == 1
            && !up
        {
            self.redis_trips.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One command sent to Redis on behalf of a request (probes are counted apart).
    pub fn redis_command(&self) {
        self.redis_commands.fetch_add(1, Ordering::Relaxed);
    }

    /// One command that failed (refused, timed out, error reply).
    pub fn redis_failure(&self) {
        self.redis_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// One command not sent because the breaker is open.
    pub fn redis_skipped(&self) {
        self.redis_skipped.fetch_add(1, Ordering::Relaxed);
    }

    /// One background probe of Redis while the breaker is open.
    pub fn redis_probe(&self, ok: bool) {
        if ok {
            &self.redis_probes_ok
        } else {
            &self.redis_probes_failed
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    /// One request answered with the failure of another call's upstream request.
    pub fn shared_failure(&self) {
        self.shared_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The number of open connections.
    pub fn set_connections(&self, n: usize) {
        self.connections
            .store(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Counts one ended connection.
    pub fn closed(&self, why: Closed) {
        self.closed[why as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Connections ended for `why` so far.
    pub fn closed_count(&self, why: Closed) -> u64 {
        self.closed[why as usize].load(Ordering::Relaxed)
    }

    /// Counts one failed `accept`.
    pub fn accept_error(&self) {
        self.accept_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Upstream calls recorded so far.
    pub fn upstream_calls(&self) -> u64 {
        self.upstream_count.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str("# HELP wxface_relay_requests_total Authinfo requests by HTTP status and outcome.\n# TYPE wxface_relay_requests_total counter\n");
        for ((status, outcome), n) in self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                s,
                "wxface_relay_requests_total{{status=\"{status}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        s.push_str("# HELP wxface_relay_cache_hits_total Authinfos served without an upstream call.\n# TYPE wxface_relay_cache_hits_total counter\n");
        let _ = writeln!(
            s,
            "wxface_relay_cache_hits_total {}",
            self.cache_hits.load(Ordering::Relaxed)
        );
        s.push_str("# HELP wxface_relay_upstream_seconds Latency of calls to WeChat, retries included.\n# TYPE wxface_relay_upstream_seconds histogram\n");
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                s,
                "wxface_relay_upstream_seconds_bucket{{le=\"{b}\"}} {}",
                self.buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.upstream_count.load(Ordering::Relaxed);
        let _ = writeln!(
            s,
            "wxface_relay_upstream_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            s,
            "wxface_relay_upstream_seconds_sum {}",
            self.upstream_sum_us.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(s, "wxface_relay_upstream_seconds_count {count}");
        s.push_str("# HELP wxface_relay_connections Open client connections.\n# TYPE wxface_relay_connections gauge\n");
        let _ = writeln!(
            s,
            "wxface_relay_connections {}",
            self.connections.load(Ordering::Relaxed)
        );
        s.push_str("# HELP wxface_relay_connections_closed_total Client connections ended, by reason.\n# TYPE wxface_relay_connections_closed_total counter\n");
        for why in Closed::ALL {
            let _ = writeln!(
                s,
                "wxface_relay_connections_closed_total{{reason=\"{}\"}} {}",
                why.label(),
                self.closed_count(why)
            );
        }
        s.push_str("# HELP wxface_relay_accept_errors_total Failed accepts (e.g. out of descriptors), each followed by a pause.\n# TYPE wxface_relay_accept_errors_total counter\n");
        let _ = writeln!(
            s,
            "wxface_relay_accept_errors_total {}",
            self.accept_errors.load(Ordering::Relaxed)
        );
        let up = self.redis_up.load(Ordering::Relaxed);
        if up >= 0 {
            s.push_str("# HELP wxface_relay_redis_up 1 while Redis is used, 0 while the circuit breaker skips it.\n# TYPE wxface_relay_redis_up gauge\n");
            let _ = writeln!(s, "wxface_relay_redis_up {up}");
            let counters = [
                (
                    "redis_commands_total",
                    "Commands sent to Redis for requests (probes excluded).",
                    &self.redis_commands,
                ),
                (
                    "redis_failures_total",
                    "Redis commands that failed or timed out.",
                    &self.redis_failures,
                ),
                (
                    "redis_skipped_total",
                    "Redis commands not sent because the circuit breaker was open.",
                    &self.redis_skipped,
                ),
                (
                    "redis_breaker_trips_total",
                    "Times the circuit breaker opened.",
                    &self.redis_trips,
                ),
                (
                    "shared_failures_total",
                    "Requests answered with the failure of a concurrent call's upstream request.",
                    &self.shared_failures,
                ),
            ];
            for (name, help, v) in counters {
                let _ = writeln!(
                    s,
                    "# HELP wxface_relay_{name} {help}\n# TYPE wxface_relay_{name} counter\nwxface_relay_{name} {}",
                    v.load(Ordering::Relaxed)
                );
            }
            s.push_str("# HELP wxface_relay_redis_probes_total Background probes of Redis while the breaker was open.\n# TYPE wxface_relay_redis_probes_total counter\n");
            let _ = writeln!(
                s,
                "wxface_relay_redis_probes_total{{result=\"ok\"}} {}\nwxface_relay_redis_probes_total{{result=\"failed\"}} {}",
                self.redis_probes_ok.load(Ordering::Relaxed),
                self.redis_probes_failed.load(Ordering::Relaxed)
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let m = Metrics::new(false);
        m.observe_upstream(Duration::from_millis(3));
        m.observe_upstream(Duration::from_millis(300));
        m.request(200, "ok", true);
        let text = m.render();
        assert!(
            text.contains("wxface_relay_upstream_seconds_bucket{le=\"0.005\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("wxface_relay_upstream_seconds_bucket{le=\"0.5\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("wxface_relay_upstream_seconds_count 2\n"),
            "{text}"
        );
        assert!(text.contains("wxface_relay_requests_total{status=\"200\",outcome=\"ok\"} 1\n"));
        assert!(text.contains("wxface_relay_cache_hits_total 1\n"));
        assert!(!text.contains("redis_up"));
    }
}
