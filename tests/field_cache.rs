//! The authinfo cache: hits, misses, forced refresh, clearing, stale-on-failure, expiry and
//! single-flight.

mod field_support;

use std::sync::Barrier;
use std::time::{Duration, Instant};

use field_support::*;
use wxface::{AuthinfoRequest, CacheOptions, CallOptions, Error};
use wxface_mock::MockConfig;

const FORCE: CallOptions = CallOptions {
    force_refresh: true,
    use_cache: true,
};
const DEFAULT: CallOptions = CallOptions {
    force_refresh: false,
    use_cache: true,
};

#[test]
fn defaults() {
    let c = CacheOptions::default();
    assert!(c.enabled);
    assert_eq!(
        c.margin_for(Duration::from_secs(3600)),
        Duration::from_secs(360)
    );
    assert_eq!(
        c.margin_for(Duration::from_secs(300)),
        Duration::from_secs(60)
    );
    assert_eq!(CallOptions::default(), DEFAULT);
}

#[test]
fn hit_miss_force_and_clear() {
    let server = start(MockConfig::default());
    let client = client_of(builder(&server));
    let first = client
        .get_authinfo_with(&request(RAWDATA), &DEFAULT)
        .unwrap();
    assert!(!first.from_cache && !first.stale);
    assert_eq!(first.attempts, 1);
    let left = first.remaining();
    assert!(left > Duration::from_secs(3590) && left <= Duration::from_secs(3600));

    // Same identity (rawdata and store_name are not part of it): a hit.
    let hit = client
        .get_authinfo_with(
            &AuthinfoRequest::new("1001", "另一个名字", "POS-01", "other-rawdata"),
            &DEFAULT,
        )
        .unwrap();
    assert!(hit.from_cache);
    assert_eq!(hit.attempts, 0);
    assert_eq!(hit.authinfo, first.authinfo);
    assert_eq!(hit.expires_at, first.expires_at);
    assert_eq!(
        client.get_authinfo(&request(RAWDATA)).unwrap(),
        first.authinfo
    );
    assert_eq!(server.request_count(), 1);

    // Another device or store: a miss.
    let other = client
        .get_authinfo_with(&request_for("POS-02", RAWDATA), &DEFAULT)
        .unwrap();
    assert!(!other.from_cache);
    assert_ne!(other.authinfo, first.authinfo);
    let other_store = client
        .get_authinfo_with(
            &AuthinfoRequest::new("1002", STORE_NAME, "POS-01", RAWDATA),
            &DEFAULT,
        )
        .unwrap();
    assert!(!other_store.from_cache);
    assert_eq!(server.request_count(), 3);
    assert_eq!(client.cached_count(), 3);

    // Forced refresh replaces the cached one.
    let forced = client.get_authinfo_with(&request(RAWDATA), &FORCE).unwrap();
    assert!(!forced.from_cache);
    assert_ne!(forced.authinfo, first.authinfo);
    assert_eq!(server.request_count(), 4);
    let hit = client
        .get_authinfo_with(&request(RAWDATA), &DEFAULT)
        .unwrap();
    assert!(hit.from_cache);
    assert_eq!(hit.authinfo, forced.authinfo);

    // Bypassing the cache: neither read nor written.
    let bypass = CallOptions {
        use_cache: false,
        ..DEFAULT
    };
    let b = client
        .get_authinfo_with(&request(RAWDATA), &bypass)
        .unwrap();
    assert!(!b.from_cache);
    assert_eq!(
        client.get_authinfo(&request(RAWDATA)).unwrap(),
        forced.authinfo
    );
    assert_eq!(server.request_count(), 5);

    client.clear_cache();
    assert_eq!(client.cached_count(), 0);
    let after = client
        .get_authinfo_with(&request(RAWDATA), &DEFAULT)
        .unwrap();
    assert!(!after.from_cache);
    assert_eq!(server.request_count(), 6);
}

#[test]
fn disabled_cache_always_asks() {
    let server = start(MockConfig::default());
    let client = client_of(builder(&server).cache(false));
    for _ in 0..3 {
        assert!(
            !client
                .get_authinfo_with(&request(RAWDATA), &DEFAULT)
                .unwrap()
                .from_cache
        );
    }
    assert_eq!(server.request_count(), 3);
    assert_eq!(client.cached_count(), 0);
}

#[test]
fn refresh_within_the_margin() {
    // expires_in 3600 with a margin of 3598 s: fresh for two seconds only.
    let server = start(MockConfig::default());
    let client = client_of(builder(&server).cache_refresh_margin(Duration::from_secs(3598)));
    client.get_authinfo(&request(RAWDATA)).unwrap();
    assert!(
        client
            .get_authinfo_with(&request(RAWDATA), &DEFAULT)
            .unwrap()
            .from_cache
    );
    std::thread::sleep(Duration::from_millis(2500));
    let r = client
        .get_authinfo_with(&request(RAWDATA), &DEFAULT)
        .unwrap();
    assert!(!r.from_cache, "due for refresh");
    assert_eq!(server.request_count(), 2);
}

#[test]
fn failed_refresh_serves_the_cached_authinfo_until_it_expires() {
    // expires_in 2 s is below the 60 s minimum margin: every call refreshes.
    let server = start(MockConfig {
        expires_in: 2,
        ..MockConfig::default()
    });
    let client = client_of(
        builder(&server)
            .max_retries(1)
            .backoff(Duration::from_millis(10), Duration::from_millis(10)),
    );
    let first = client
        .get_authinfo_with(&request(RAWDATA), &DEFAULT)
        .unwrap();
    // The rawdata is not part of the identity, so it can pick the mock's failure.
    let stale = client
        .get_authinfo_with(&request("MOCK:http-500"), &DEFAULT)
        .expect("the cached authinfo is still valid");
    assert!(stale.from_cache && stale.stale);
    assert_eq!(stale.refresh_error, Some(Error::HttpStatus(500)));
    assert_eq!(stale.attempts, 2);
    assert_eq!(stale.authinfo, first.authinfo);
    assert!(stale.remaining() <= Duration::from_secs(2));
    // The plain API returns it too.
    assert_eq!(
        client.get_authinfo(&request("MOCK:drop")).unwrap(),
        first.authinfo
    );
    // A final failure (not retryable) also falls back while valid.
    let r = client
        .get_authinfo_with(&request("MOCK:signed-error"), &DEFAULT)
        .unwrap();
    assert!(r.stale);
    assert_eq!(
        r.refresh_error.unwrap().remote(),
        Some(("ERROR", "无效的RawData数据"))
    );

    std::thread::sleep(first.remaining() + Duration::from_millis(100));
    let err = client
        .get_authinfo_with(&request("MOCK:http-500"), &DEFAULT)
        .unwrap_err();
    assert_eq!(err, Error::HttpStatus(500), "expired: the error comes back");
    // And a working server refreshes it.
    let fresh = client
        .get_authinfo_with(&request(RAWDATA), &DEFAULT)
        .unwrap();
    assert!(!fresh.from_cache);
    assert_ne!(fresh.authinfo, first.authinfo);
}

#[test]
fn concurrent_callers_share_one_request_and_other_identities_are_not_blocked() {
    const THREADS: usize = 16;
    // Long enough that "waited behind the first identity" (about 2 x delay) and "own request
    // only" (about 1 x delay) stay apart even on a busy machine.
    let delay = Duration::from_millis(1500);
    let server = start(MockConfig {
        delay,
        ..MockConfig::default()
    });
    let client = client_of(builder(&server));
    let barrier = Barrier::new(THREADS + 1);
    let (same, other_elapsed) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    client.get_authinfo_with(&request(RAWDATA), &DEFAULT)
                })
            })
            .collect();
        let other = s.spawn(|| {
            barrier.wait();
            // Start while the first identity's request is in flight.
            std::thread::sleep(Duration::from_millis(100));
            let t0 = Instant::now();
            client
                .get_authinfo_with(&request_for("POS-OTHER", RAWDATA), &DEFAULT)
                .unwrap();
            t0.elapsed()
        });
        let same: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().unwrap().unwrap())
            .collect();
        (same, other.join().unwrap())
    });
    assert_eq!(server.request_count(), 2, "one request per identity");
    let fetched = same.iter().filter(|r| !r.from_cache).count();
    assert_eq!(fetched, 1, "exactly one caller made the request");
    assert!(same.iter().all(|r| r.authinfo == same[0].authinfo));
    // The other identity waited for its own request only, not behind the first.
    assert!(
        other_elapsed < delay + Duration::from_millis(1000),
        "{other_elapsed:?}"
    );
}

#[test]
fn concurrent_callers_share_a_failure_too() {
    const THREADS: usize = 8;
    let server = start(MockConfig {
        delay: Duration::from_millis(300),
        fail_first: 1,
        fail_with: wxface_mock::Scenario::SignedError,
        ..MockConfig::default()
    });
    let client = client_of(builder(&server));
    let barrier = Barrier::new(THREADS);
    let results: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    client.get_authinfo(&request(RAWDATA))
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Waiters for the failed refresh get its error instead of piling on more requests.
    let failed = results.iter().filter(|r| r.is_err()).count();
    assert!(failed >= 1);
    assert!(
        server.request_count() <= THREADS - failed + 1,
        "{} requests",
        server.request_count()
    );
}
