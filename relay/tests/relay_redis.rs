//! Shared state in Redis: two relay instances, one upstream request for 50 concurrent
//! terminals, shared rate limits, Redis killed and restarted mid-test.

mod support;

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use support::*;
use wxface_mock::MockConfig;

fn redis_extra(redis: &RedisServer, more: &str) -> String {
    format!(
        "redis_url = \"{}\"\nredis_timeout_ms = 500\n{more}",
        redis.url()
    )
}

#[test]
fn two_instances_fifty_terminals_one_upstream_request() {
    let redis = RedisServer::start();
    let dir = TempDir::new("flight");
    // A slow upstream keeps the first call in flight while the others arrive.
    let mock = mock(MockConfig {
        delay: Duration::from_millis(300),
        ..MockConfig::default()
    });
    let extra = redis_extra(&redis, "");
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
                call(&agent, &url, &t, &body("POS-01", "raw"))
            })
        })
        .collect();
    let answers: Vec<Answer> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for ans in &answers {
        assert_eq!(ans.status, 200, "{}", ans.json);
    }
    let first = &answers[0].json["authinfo"];
    assert!(
        answers.iter().all(|a| &a.json["authinfo"] == first),
        "one authinfo for all"
    );
    let fresh = answers
        .iter()
        .filter(|a| a.json["from_cache"] == false)
        .count();
    println!(
        "single-flight: 50 calls over 2 instances -> {} upstream request(s) at the mock",
        mock.request_count()
    );
    assert_eq!(mock.request_count(), 1, "exactly one upstream request");
    assert_eq!(fresh, 1);
    assert_eq!(a.upstream_calls() + b.upstream_calls(), 1);
}

#[test]
fn shared_rate_limit_and_redis_outage_with_recovery() {
    let mut redis = RedisServer::start();
    let port = redis.port;
    let dir = TempDir::new("outage");
    let mock = mock(MockConfig::default());
    let extra = redis_extra(&redis, "rate_limit = { requests = 3, window_secs = 3600 }");
    let a = RunningRelay::start(load_config(dir.path(), &mock.base_url(), &extra));
    let b = RunningRelay::start(load_config(dir.path(), &mock.base_url(), &extra));
    let agent = agent();
    let ready = |url: &str| get_text(&agent, &format!("{url}/readyz")).1;
    assert!(
        ready(&a.url).contains("\"status\":\"ready\""),
        "{}",
        ready(&a.url)
    );
    assert!(ready(&a.url).contains("redis"));

    // The rate limit is counted across both instances.
    let t9 = token(dir.path(), "POS-09");
    let b9 = body("POS-09", "raw");
    assert_eq!(call(&agent, &a.url, &t9, &b9).status, 200);
    assert_eq!(call(&agent, &b.url, &t9, &b9).status, 200);
    assert_eq!(call(&agent, &a.url, &t9, &b9).status, 200);
    let over = call(&agent, &b.url, &t9, &b9);
    assert_eq!(over.status, 429, "{}", over.json);
    assert!(over.retry_after.is_some());
    // …and so is the cache: one upstream request for POS-09 over both instances.
    assert_eq!(mock.request_count(), 1);

    let t1 = token(dir.path(), "POS-01");
    let t2 = token(dir.path(), "POS-02");
    let t3 = token(dir.path(), "POS-03");
    assert_eq!(
        call(&agent, &a.url, &t1, &body("POS-01", "raw")).status,
        200
    );
    assert_eq!(mock.request_count(), 2);

    // Redis dies: calls still succeed (local cache, direct calls), /readyz says degraded.
    redis.kill();
    let hit = call(&agent, &a.url, &t1, &body("POS-01", "raw"));
    assert_eq!(hit.status, 200, "{}", hit.json);
    assert_eq!(hit.json["from_cache"], true, "A's own cache serves POS-01");
    let direct = call(&agent, &b.url, &t2, &body("POS-02", "raw"));
    assert_eq!(direct.status, 200, "{}", direct.json);
    assert_eq!(direct.json["from_cache"], false);
    assert_eq!(mock.request_count(), 3);
    let r = ready(&a.url);
    assert!(
        r.contains("\"status\":\"degraded\"") && r.contains("\"degraded\":[\"redis\"]"),
        "{r}"
    );
    let (_, m) = get_text(&agent, &format!("{}/metrics", b.url));
    assert!(m.contains("wxface_relay_redis_up 0\n"), "{m}");

    // Redis returns (empty): the relays use it again and share the cache once more.
    let _redis = RedisServer::start_on(port);
    assert!(
        eventually(Duration::from_secs(20), || ready(&a.url)
            .contains("\"status\":\"ready\"")
            && ready(&b.url).contains("\"status\":\"ready\"")),
        "the relays did not recover: {}",
        ready(&a.url)
    );
    let first = call(&agent, &a.url, &t3, &body("POS-03", "raw"));
    assert_eq!(
        (first.status, &first.json["from_cache"]),
        (200, &false.into())
    );
    assert_eq!(mock.request_count(), 4);
    let shared = call(&agent, &b.url, &t3, &body("POS-03", "raw"));
    assert_eq!(shared.status, 200);
    assert_eq!(
        shared.json["from_cache"], true,
        "B is served from the shared cache"
    );
    assert_eq!(shared.json["authinfo"], first.json["authinfo"]);
    assert_eq!(mock.request_count(), 4);
    let (_, m) = get_text(&agent, &format!("{}/metrics", b.url));
    assert!(m.contains("wxface_relay_redis_up 1\n"), "{m}");
}
