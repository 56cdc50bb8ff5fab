//! The authinfo cache: hits, misses, forced refresh, clearing, stale-on-failure, expiry and
//! single-flight.

mod field_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use field_support::raw::*;
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
fn concurrent_callers_share_one_request() {
    const THREADS: usize = 16;
    // The delay keeps the request in flight while the others arrive; the counts below hold
    // whatever the scheduling (a late caller finds the fresh entry).
    let server = start(MockConfig {
        delay: Duration::from_millis(300),
        ..MockConfig::default()
    });
    let client = client_of(builder(&server));
    let barrier = Barrier::new(THREADS);
    let same: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    client.get_authinfo_with(&request(RAWDATA), &DEFAULT)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap().unwrap())
            .collect()
    });
    assert_eq!(server.request_count(), 1, "one request for the identity");
    let fetched = same.iter().filter(|r| !r.from_cache).count();
    assert_eq!(fetched, 1, "exactly one caller made the request");
    assert!(same.iter().all(|r| r.authinfo == same[0].authinfo));
}

#[test]
fn other_identities_are_not_held_up_by_a_refresh() {
    // The server holds POS-01's answer until POS-02's request has been answered: if POS-02's
    // call waited behind POS-01's refresh, neither would finish (the hang bound fails it).
    let answered_other = Arc::new(Counter::default());
    let done = Arc::clone(&answered_other);
    let server = RawServer::start(move |req, stream| {
        let device = req.field("device_id").unwrap_or_default();
        if device == "POS-01" {
            assert!(
                done.wait_until(|n| n >= 1),
                "POS-02 was held up behind POS-01's refresh"
            );
        }
        respond(
            stream,
            200,
            "",
            &signed_success(&format!("AUTH{device}"), "3600", &[]),
        );
        if device != "POS-01" {
            done.bump();
        }
    });
    let client = client_of(builder_for(&server.base_url()).timeout(NO_HANG));
    let (first, other) = std::thread::scope(|s| {
        let first = s.spawn(|| client.get_authinfo(&request(RAWDATA)));
        let other = s.spawn(|| client.get_authinfo(&request_for("POS-02", RAWDATA)));
        (first.join().unwrap(), other.join().unwrap())
    });
    assert_eq!(first.unwrap().authinfo, "AUTHPOS-01");
    assert_eq!(other.unwrap().authinfo, "AUTHPOS-02");
    assert_eq!(answered_other.get(), 1);
}

#[test]
fn concurrent_callers_share_a_failure_too() {
    const THREADS: usize = 8;
    // The server holds the first answer (a final failure) until the other callers all wait for
    // that refresh, or until a second request arrives (which single-flight forbids).
    let events = Arc::new(Counter::default());
    let waiting = Arc::new(AtomicUsize::new(0));
    let (e, w) = (Arc::clone(&events), Arc::clone(&waiting));
    let requests = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&requests);
    let server = RawServer::start(move |req, stream| {
        r.fetch_add(1, Ordering::SeqCst);
        e.bump();
        if req.index == 1 {
            e.wait_until(|_| {
                w.load(Ordering::SeqCst) >= THREADS - 1 || r.load(Ordering::SeqCst) > 1
            });
        }
        respond(stream, 200, "", &failure("ERROR", "无效的RawData数据"));
    });
    let (e, w) = (Arc::clone(&events), Arc::clone(&waiting));
    let config = builder_for(&server.base_url())
        .timeout(NO_HANG)
        .log_level(wxface::Level::Debug)
        .log_callback(move |level, line| {
            assert_clean_line(level, line);
            if line.starts_with("waiting for a concurrent refresh") {
                w.fetch_add(1, Ordering::SeqCst);
                e.bump();
            }
        });
    let client = wxface::Client::new(config.build().unwrap()).unwrap();
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
    // Every caller got the one failure; nobody piled on another request.
    assert_eq!(server.request_count(), 1, "requests sent");
    for r in &results {
        assert_eq!(
            r.as_ref().unwrap_err().remote(),
            Some(("ERROR", "无效的RawData数据"))
        );
    }
    assert!(waiting.load(Ordering::SeqCst) >= THREADS - 1);
}
