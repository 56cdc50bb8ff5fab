//! A lost Redis costs microseconds: after the first failure the circuit breaker skips Redis
//! (counted in /metrics: no command is sent while it is open), probes it in the background and
//! closes by itself once Redis answers again; /readyz and /metrics show both transitions.

mod support;

use std::time::{Duration, Instant};

use support::*;
use wxface_mock::MockConfig;

const REDIS_TIMEOUT_MS: u64 = 500;

fn metrics(agent: &ureq::Agent, url: &str) -> String {
    get_text(agent, &format!("{url}/metrics")).1
}

fn count(text: &str, name: &str) -> f64 {
    metric(text, name).unwrap_or_else(|| panic!("{name} missing from\n{text}"))
}

/// Drives `n` requests (cache hits of POS-01 and fresh POS-02..POS-04) and returns their
/// latencies, sorted.
fn drive(agent: &ureq::Agent, url: &str, tokens: &[String], n: usize) -> Vec<Duration> {
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let dev = i % tokens.len();
        let started = Instant::now();
        let ans = call(
            agent,
            url,
            &tokens[dev],
            &body(&format!("POS-0{}", dev + 1), "raw"),
        );
        lat.push(started.elapsed());
        assert_eq!(ans.status, 200, "{}", ans.json);
    }
    lat.sort();
    lat
}

fn pct(lat: &[Duration], p: usize) -> Duration {
    lat[(lat.len() * p / 100).min(lat.len() - 1)]
}

#[test]
fn a_paused_redis_is_skipped_then_probed_back() {
    let redis = RedisServer::start();
    let dir = TempDir::new("breaker");
    let mock = mock(MockConfig::default());
    let extra = format!(
        "redis_url = \"{}\"\nredis_timeout_ms = {REDIS_TIMEOUT_MS}\nredis_probe_interval_ms = 200\n\
         rate_limit = {{ requests = 1000, window_secs = 3600 }}\n",
        redis.url()
    );
    let relay = RunningRelay::start(load_config(dir.path(), &mock.base_url(), &extra));
    let url = relay.url.clone();
    let agent = agent();
    let tokens: Vec<String> = (1..=4)
        .map(|i| token(dir.path(), &format!("POS-0{i}")))
        .collect();
    // Warm: every identity cached (in Redis and in the relay's own client).
    drive(&agent, &url, &tokens, 4);
    let n = 200;
    let up = drive(&agent, &url, &tokens, n);
    println!(
        "Redis up: {n} requests: p50 {:?} p99 {:?}",
        pct(&up, 50),
        pct(&up, 99)
    );
    let before = metrics(&agent, &url);
    assert_eq!(count(&before, "wxface_relay_redis_up"), 1.0);
    assert!(count(&before, "wxface_relay_redis_commands_total") > 0.0);

    // Redis hangs (SIGSTOP): the first request pays one redis_timeout_ms and opens the breaker.
    redis.signal("STOP");
    let first = drive(&agent, &url, &tokens, 1);
    let opened = metrics(&agent, &url);
    assert_eq!(count(&opened, "wxface_relay_redis_up"), 0.0, "{opened}");
    assert_eq!(
        count(&opened, "wxface_relay_redis_breaker_trips_total"),
        1.0
    );
    let r = get_text(&agent, &format!("{url}/readyz")).1;
    assert!(r.contains("\"degraded\":[\"redis\"]"), "{r}");

    // While it is open, requests never touch Redis: the command counter stands still, the
    // skipped counter moves.
    let lat = drive(&agent, &url, &tokens, n);
    let during = metrics(&agent, &url);
    let sent = count(&during, "wxface_relay_redis_commands_total")
        - count(&opened, "wxface_relay_redis_commands_total");
    let skipped = count(&during, "wxface_relay_redis_skipped_total")
        - count(&opened, "wxface_relay_redis_skipped_total");
    println!(
        "Redis paused: first request {:?}; then {n} requests: p50 {:?} p99 {:?} max {:?}; \
         {sent} Redis commands sent, {skipped} skipped",
        first[0],
        pct(&lat, 50),
        pct(&lat, 99),
        lat[n - 1]
    );
    assert_eq!(sent, 0.0, "no Redis command while the breaker is open");
    // Each request: the rate limit and the authinfo both skip Redis.
    assert!(skipped >= 2.0 * n as f64, "{skipped} skipped");
    assert!(
        pct(&lat, 50) < Duration::from_millis(REDIS_TIMEOUT_MS / 2),
        "median {:?} against a redis timeout of {REDIS_TIMEOUT_MS} ms",
        pct(&lat, 50)
    );
    assert_eq!(
        count(&during, "wxface_relay_redis_breaker_trips_total"),
        1.0
    );
    assert!(
        eventually(Duration::from_secs(20), || {
            count(
                &metrics(&agent, &url),
                "wxface_relay_redis_probes_total{result=\"failed\"}",
            ) >= 1.0
        }),
        "a probe is made while the breaker is open"
    );

    // Redis resumes: a probe closes the breaker by itself, and requests use Redis again.
    redis.signal("CONT");
    assert!(
        eventually(Duration::from_secs(20), || {
            get_text(&agent, &format!("{url}/readyz"))
                .1
                .contains("\"status\":\"ready\"")
        }),
        "the breaker did not close"
    );
    let closed = metrics(&agent, &url);
    assert_eq!(count(&closed, "wxface_relay_redis_up"), 1.0);
    assert!(count(&closed, "wxface_relay_redis_probes_total{result=\"ok\"}") >= 1.0);
    drive(&agent, &url, &tokens, 8);
    let after = metrics(&agent, &url);
    assert!(
        count(&after, "wxface_relay_redis_commands_total")
            >= count(&closed, "wxface_relay_redis_commands_total") + 16.0,
        "requests use Redis again"
    );
    assert_eq!(count(&after, "wxface_relay_redis_breaker_trips_total"), 1.0);
}

#[test]
fn a_redis_down_at_start_is_skipped_and_joined_when_it_comes() {
    let port = free_port();
    let dir = TempDir::new("breaker-start");
    let mock = mock(MockConfig::default());
    let extra = format!(
        "redis_url = \"redis://127.0.0.1:{port}/0\"\nredis_timeout_ms = {REDIS_TIMEOUT_MS}\n\
         redis_probe_interval_ms = 100\n"
    );
    let a = RunningRelay::start(load_config(dir.path(), &mock.base_url(), &extra));
    let b = RunningRelay::start(load_config(dir.path(), &mock.base_url(), &extra));
    let agent = agent();
    let t = token(dir.path(), "POS-01");
    // Nothing listens yet: served all the same, each instance on its own.
    assert_eq!(call(&agent, &a.url, &t, &body("POS-01", "raw")).status, 200);
    assert_eq!(call(&agent, &b.url, &t, &body("POS-01", "raw")).status, 200);
    assert_eq!(mock.request_count(), 2);
    let _redis = RedisServer::start_on(port);
    for url in [&a.url, &b.url] {
        assert!(eventually(Duration::from_secs(20), || {
            metrics(&agent, url).contains("wxface_relay_redis_up 1\n")
        }));
    }
    // Shared again: POS-02 is asked once for both.
    let t2 = token(dir.path(), "POS-02");
    let x = call(&agent, &a.url, &t2, &body("POS-02", "raw"));
    let y = call(&agent, &b.url, &t2, &body("POS-02", "raw"));
    assert_eq!((x.status, y.status), (200, 200));
    assert_eq!(y.json["from_cache"], true);
    assert_eq!(x.json["authinfo"], y.json["authinfo"]);
    assert_eq!(mock.request_count(), 3);
}
