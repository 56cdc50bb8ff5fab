//! A failed WeChat call is shared like a successful one: on Redis, the lock holder's failure
//! reaches every waiter on both instances, so a burst of 50 terminals for one identity makes one
//! upstream call (at most 2) whatever the upstream answers, and every terminal gets the upstream's
//! own error without waiting out the timeout.

mod support;

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use support::*;
use wxface_mock::{MockConfig, Scenario};

/// 50 concurrent requests for POS-01 over two relays sharing `redis`, upstream answering
/// `scenario` after `delay`. Returns the answers with their latencies and the requests the mock
/// received.
fn burst(
    scenario: Scenario,
    delay: Duration,
    upstream_timeout_ms: u64,
) -> (Vec<(Answer, Duration)>, usize) {
    let redis = RedisServer::start();
    let dir = TempDir::new("failshare");
    let mock = mock(MockConfig {
        scenario,
        delay,
        ..MockConfig::default()
    });
    let extra = format!(
        "redis_url = \"{}\"\nredis_timeout_ms = 500\nupstream_timeout_ms = {upstream_timeout_ms}\n",
        redis.url()
    );
    let a = RunningRelay::start(load_config(dir.path(), &mock.base_url(), &extra));
    let b = RunningRelay::start(load_config(dir.path(), &mock.base_url(), &extra));
    let t = token(dir.path(), "POS-01");
    let urls = [a.url.clone(), b.url.clone()];
    let barrier = Arc::new(Barrier::new(50));
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let url = urls[i % 2].clone();
            let t = t.clone();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                let agent = agent();
                barrier.wait();
                let started = Instant::now();
                let ans = call(&agent, &url, &t, &body("POS-01", "raw"));
                (ans, started.elapsed())
            })
        })
        .collect();
    let answers: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    (answers, mock.request_count())
}

/// Prints the figures and checks that all 50 got the same answer: `status` with `error` (and
/// the same body), within the upstream timeout.
fn check(
    what: &str,
    answers: &[(Answer, Duration)],
    upstream_requests: usize,
    max_requests: usize,
    status: u16,
    error: &str,
    upstream_timeout: Duration,
) {
    let mut lat: Vec<Duration> = answers.iter().map(|(_, d)| *d).collect();
    lat.sort();
    let same = answers
        .iter()
        .filter(|(a, _)| a.status == status && a.json["error"] == error)
        .count();
    println!(
        "{what}: 50 calls over 2 instances -> {upstream_requests} upstream request(s); \
         {same}/50 answered {status} {error}; latency min {:?} p50 {:?} max {:?}",
        lat[0], lat[25], lat[49]
    );
    for (a, _) in answers {
        assert_eq!(
            (a.status, a.json["error"].as_str()),
            (status, Some(error)),
            "{}",
            a.json
        );
        assert_eq!(
            a.json, answers[0].0.json,
            "every terminal gets the same error"
        );
    }
    assert!(
        upstream_requests <= max_requests,
        "{upstream_requests} upstream requests (at most {max_requests})"
    );
    // The waiters answer with the holder, not after waiting out a timeout of their own.
    assert!(
        lat[49] < upstream_timeout,
        "slowest answer {:?}, upstream timeout {upstream_timeout:?}",
        lat[49]
    );
}

#[test]
fn a_refusal_reaches_every_waiter_on_both_instances() {
    // ERROR is not retried by the core: one call is one request.
    let (answers, n) = burst(Scenario::SignedError, Duration::from_millis(300), 5000);
    check(
        "ERROR",
        &answers,
        n,
        2,
        502,
        "upstream_refused",
        Duration::from_secs(5),
    );
    assert_eq!(answers[0].0.json["return_code"], "ERROR");
}

#[test]
fn a_systemerror_reaches_every_waiter_on_both_instances() {
    // SYSTEMERROR is retried by the core (2 retries): one call is up to 3 requests, and at most
    // 2 calls are made.
    let (answers, n) = burst(
        Scenario::SignedSystemError,
        Duration::from_millis(100),
        5000,
    );
    check(
        "SYSTEMERROR",
        &answers,
        n,
        2 * 3,
        502,
        "upstream_refused",
        Duration::from_secs(5),
    );
    assert_eq!(answers[0].0.json["return_code"], "SYSTEMERROR");
}

#[test]
fn an_upstream_timeout_reaches_every_waiter_on_both_instances() {
    // The upstream never answers: the holder gives up at upstream_timeout_ms (1.5 s), and every
    // waiter answers that timeout with it instead of taking the lock for another attempt.
    let (answers, n) = burst(Scenario::Hang, Duration::ZERO, 1500);
    check(
        "hang",
        &answers,
        n,
        2,
        504,
        "upstream_timeout",
        // A waiter of today's code waits 1.5 s + 1 s and then may take the lock for 1.5 s more.
        Duration::from_millis(2500),
    );
}

#[test]
fn a_shared_failure_expires_and_does_not_hide_the_recovery() {
    let redis = RedisServer::start();
    let dir = TempDir::new("failwindow");
    // The first request fails, every later one succeeds.
    let mock = mock(MockConfig {
        fail_first: 1,
        fail_with: Scenario::SignedError,
        ..MockConfig::default()
    });
    let extra = format!(
        "redis_url = \"{}\"\nredis_timeout_ms = 500\nredis_failure_share_ms = 3000\n",
        redis.url()
    );
    let a = RunningRelay::start(load_config(dir.path(), &mock.base_url(), &extra));
    let b = RunningRelay::start(load_config(dir.path(), &mock.base_url(), &extra));
    let t = token(dir.path(), "POS-01");
    let agent = agent();
    let first = call(&agent, &a.url, &t, &body("POS-01", "raw"));
    let failed_at = Instant::now();
    assert_eq!(first.status, 502, "{}", first.json);
    // Within the window the other instance answers the recorded failure without a request.
    let shared = call(&agent, &b.url, &t, &body("POS-01", "raw"));
    let within = failed_at.elapsed() < Duration::from_millis(3000);
    if within {
        assert_eq!(shared.json, first.json);
        assert_eq!(mock.request_count(), 1);
        let (_, m) = get_text(&agent, &format!("{}/metrics", b.url));
        assert_eq!(
            metric(&m, "wxface_relay_shared_failures_total"),
            Some(1.0),
            "{m}"
        );
    }
    // After it, the next request asks WeChat again and the recovery shows.
    assert!(eventually(Duration::from_secs(10), || {
        call(&agent, &b.url, &t, &body("POS-01", "raw")).status == 200
    }));
    let recovered_after = failed_at.elapsed();
    assert_eq!(
        mock.request_count(),
        2,
        "one request to fail, one to recover"
    );
    println!("failure shared for about {recovered_after:?} (redis_failure_share_ms = 3000)");
}
