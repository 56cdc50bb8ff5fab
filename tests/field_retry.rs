//! Retries with backoff, the overall deadline, and failover across base URLs.

mod field_support;

use std::time::{Duration, Instant};

use field_support::*;
use wxface::{ApiKey, CallOptions, Config, Error};
use wxface_mock::{MockConfig, Scenario};

fn fast_backoff(b: wxface::ConfigBuilder) -> wxface::ConfigBuilder {
    b.backoff(Duration::from_millis(20), Duration::from_millis(80))
        .cache(false)
}

#[test]
fn transient_failures_are_retried_until_success() {
    for scenario in [
        Scenario::Http500,
        Scenario::Drop,
        Scenario::Truncated,
        Scenario::SignedSystemError,
    ] {
        let server = start(MockConfig {
            fail_first: 2,
            fail_with: scenario,
            ..MockConfig::default()
        });
        let client = client_of(fast_backoff(builder(&server)));
        let r = client
            .get_authinfo_with(&request(RAWDATA), &CallOptions::default())
            .unwrap_or_else(|e| panic!("{scenario}: {e}"));
        assert_eq!(r.attempts, 3, "{scenario}");
        assert_eq!(server.request_count(), 3, "{scenario}");
        assert!(!r.from_cache);
    }
}

#[test]
fn retries_are_bounded_and_the_last_error_is_returned() {
    let server = start(MockConfig {
        fail_first: 100,
        ..MockConfig::default()
    });
    let client = client_of(fast_backoff(builder(&server)).max_retries(3));
    let err = client.get_authinfo(&request(RAWDATA)).unwrap_err();
    assert_eq!(err, Error::HttpStatus(500));
    assert_eq!(server.request_count(), 4);

    let server = start(MockConfig {
        fail_first: 100,
        ..MockConfig::default()
    });
    let client = client_of(fast_backoff(builder(&server)).max_retries(0));
    assert_eq!(
        client.get_authinfo(&request(RAWDATA)).unwrap_err(),
        Error::HttpStatus(500)
    );
    assert_eq!(
        server.request_count(),
        1,
        "max_retries(0) disables retrying"
    );
}

#[test]
fn final_failures_are_never_retried() {
    let server = start(MockConfig::default());
    let client = client_of(fast_backoff(builder(&server)));
    for (rawdata, check) in [
        (
            "MOCK:signed-error",
            (|e: &Error| e.remote() == Some(("ERROR", "无效的RawData数据"))) as fn(&Error) -> bool,
        ),
        ("MOCK:tampered-sign", |e| matches!(e, Error::Signature(_))),
        ("MOCK:missing-sign", |e| matches!(e, Error::Signature(_))),
        ("MOCK:wrong-mch-id", |e| matches!(e, Error::BadResponse(_))),
        ("MOCK:not-xml", |e| matches!(e, Error::BadResponse(_))),
    ] {
        let before = server.request_count();
        let err = client.get_authinfo(&request(rawdata)).unwrap_err();
        assert!(check(&err), "{rawdata}: {err:?}");
        assert_eq!(server.request_count(), before + 1, "{rawdata} was retried");
    }
    // PARAM_ERROR 签名错误 (wrong key): not retried.
    let other_key = Config::builder(
        MCH_ID,
        APPID,
        ApiKey::new("0123456789abcdef0123456789abcdef").unwrap(),
    )
    .base_url(server.base_url());
    let before = server.request_count();
    let err = client_of(fast_backoff(other_key))
        .get_authinfo(&request(RAWDATA))
        .unwrap_err();
    assert_eq!(err.remote(), Some(("PARAM_ERROR", "签名错误")));
    assert_eq!(server.request_count(), before + 1);
    // Invalid arguments: nothing sent at all.
    let before = server.request_count();
    let err = client.get_authinfo(&request("")).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }));
    assert_eq!(server.request_count(), before);
}

/// A bound that only catches a deadline that is not enforced: without it the calls below would
/// take about 30 s (50 retries of slow failures) or hang. The exact bound is unit-tested with a
/// manual clock in `src/retry.rs`.
const NO_DEADLINE: Duration = Duration::from_secs(10);

#[test]
fn the_overall_deadline_is_never_exceeded() {
    // Slow failures, long backoffs, many retries: the timeout must still hold.
    let timeout = Duration::from_millis(900);
    let server = start(MockConfig {
        fail_first: 1000,
        delay: Duration::from_millis(150),
        ..MockConfig::default()
    });
    let client = client_of(
        builder(&server)
            .cache(false)
            .timeout(timeout)
            .max_retries(50)
            .backoff(Duration::from_millis(100), Duration::from_millis(400)),
    );
    let t0 = Instant::now();
    let err = client.get_authinfo(&request(RAWDATA)).unwrap_err();
    let elapsed = t0.elapsed();
    // The last attempt either got its 500 or was cut by the deadline, depending on scheduling.
    assert!(
        matches!(err, Error::HttpStatus(500) | Error::Timeout(_)),
        "{err:?}"
    );
    assert!(elapsed < NO_DEADLINE, "took {elapsed:?}");
    assert!(
        server.request_count() >= 2,
        "at least one retry fits: {}",
        server.request_count()
    );

    // A hanging server with retries allowed: the attempt is cut at the deadline.
    let server = start(MockConfig {
        scenario: Scenario::Hang,
        ..MockConfig::default()
    });
    let client = client_of(
        builder(&server)
            .cache(false)
            .timeout(timeout)
            .attempt_timeout(Duration::from_millis(400))
            .max_retries(10)
            .backoff(Duration::from_millis(10), Duration::from_millis(20)),
    );
    let t0 = Instant::now();
    let err = client.get_authinfo(&request(RAWDATA)).unwrap_err();
    let elapsed = t0.elapsed();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert!(elapsed < NO_DEADLINE, "took {elapsed:?}");
    assert!(
        server.request_count() >= 2,
        "the attempt timeout allows a retry"
    );
}

#[test]
fn failover_to_the_next_base_url_and_stay_there() {
    let server = start(MockConfig::default());
    let dead = format!("http://127.0.0.1:{}", refused_port());
    let logs = LogCapture::default();
    let client = logs.client(
        builder_for(&dead)
            .fallback_base_url(server.base_url())
            .cache(false)
            // Longer than the whole call's 10 s: a call that waited it would give up instead.
            .backoff(Duration::from_secs(60), Duration::from_secs(60)),
    );
    assert_eq!(client.config().base_urls().len(), 2);
    // Switching to an untried URL does not wait for the backoff.
    let r = client
        .get_authinfo_with(&request(RAWDATA), &CallOptions::default())
        .expect("the fallback answers without waiting");
    assert_eq!(r.attempts, 2);
    assert_eq!(server.request_count(), 1);
    assert!(logs.contains("retry 1/2"), "{:?}", logs.lines());
    // The next call goes straight to the URL that worked.
    let r = client
        .get_authinfo_with(&request(RAWDATA), &CallOptions::default())
        .unwrap();
    assert_eq!(r.attempts, 1);
    assert_eq!(server.request_count(), 2);
}

#[test]
fn failover_also_on_5xx_and_back_around_the_list() {
    let bad = start(MockConfig {
        fail_first: 1000,
        ..MockConfig::default()
    });
    let good = start(MockConfig::default());
    let client = client_of(
        fast_backoff(builder(&bad))
            .base_urls([bad.base_url(), good.base_url()])
            .max_retries(1),
    );
    client.get_authinfo(&request(RAWDATA)).unwrap();
    assert_eq!((bad.request_count(), good.request_count()), (1, 1));

    // Both failing: every URL is tried, then the error comes back.
    let dead = format!("http://127.0.0.1:{}", refused_port());
    let client = client_of(
        fast_backoff(builder(&bad))
            .base_urls([dead.clone(), bad.base_url()])
            .max_retries(3),
    );
    let err = client.get_authinfo(&request(RAWDATA)).unwrap_err();
    assert!(
        matches!(err, Error::Network(_) | Error::HttpStatus(500)),
        "{err:?}"
    );
    assert_eq!(
        bad.request_count(),
        1 + 2,
        "attempts alternate between the URLs"
    );
}

#[test]
fn bad_fallback_urls_are_refused() {
    let err = builder_for("http://127.0.0.1:1")
        .fallback_base_url("http://example.com")
        .build()
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidArgument {
            field: "fallback_base_url",
            ..
        }
    ));
    let err = builder_for("http://127.0.0.1:1")
        .backoff(Duration::from_secs(3), Duration::from_secs(1))
        .build()
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidArgument {
            field: "backoff",
            ..
        }
    ));
}
