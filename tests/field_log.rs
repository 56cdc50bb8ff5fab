//! The log callback: levels, what is reported, and that no line carries the API key, an
//! authinfo or a rawdata. (Every client of the `field_*` tests also checks each line it logs
//! for those, see `field_support::client_of`.)

mod field_support;

use std::time::Duration;

use field_support::*;
use wxface::{CallOptions, Level};
use wxface_mock::MockConfig;

#[test]
fn attempts_retries_cache_and_failures_are_logged_without_secrets() {
    let server = start(MockConfig {
        fail_first: 1,
        clock_offset_secs: 0,
        ..MockConfig::default()
    });
    let logs = LogCapture::default();
    let client = logs.client(
        builder(&server)
            .backoff(Duration::from_millis(10), Duration::from_millis(20))
            .max_retries(1),
    );
    let mut authinfos = Vec::new();
    // Miss with one retry (the first request gets a 500), then a hit.
    let r = client
        .get_authinfo_with(&request(RAWDATA), &CallOptions::default())
        .unwrap();
    authinfos.push(r.authinfo.authinfo.clone());
    assert!(
        client
            .get_authinfo_with(&request(RAWDATA), &CallOptions::default())
            .unwrap()
            .from_cache
    );
    // Forced refresh that fails for good: served stale.
    let stale = client
        .get_authinfo_with(
            &request("MOCK:signed-error"),
            &CallOptions {
                force_refresh: true,
                ..CallOptions::default()
            },
        )
        .unwrap();
    assert!(stale.stale);
    // A failure without a cache to fall back on.
    let err = client
        .get_authinfo(&request_for("POS-09", "MOCK:http-500"))
        .unwrap_err();
    assert_eq!(err, wxface::Error::HttpStatus(500));
    let r = client
        .get_authinfo_with(&request_for("POS-10", RAWDATA), &CallOptions::default())
        .unwrap();
    authinfos.push(r.authinfo.authinfo.clone());
    client.clear_cache();

    let lines = logs.lines();
    let has =
        |level: Level, needle: &str| lines.iter().any(|(l, m)| *l == level && m.contains(needle));
    assert!(
        has(Level::Debug, "attempt 1 to http://127.0.0.1:"),
        "{lines:#?}"
    );
    assert!(has(Level::Warn, "retry 1/1"), "{lines:#?}");
    assert!(has(Level::Warn, "unexpected HTTP status 500"), "{lines:#?}");
    assert!(has(Level::Info, "cache miss"), "{lines:#?}");
    assert!(has(Level::Info, "cache refresh"), "{lines:#?}");
    assert!(has(Level::Debug, "cache hit"), "{lines:#?}");
    assert!(has(Level::Info, "authinfo obtained"), "{lines:#?}");
    assert!(
        has(Level::Warn, "serving the cached authinfo"),
        "{lines:#?}"
    );
    assert!(has(Level::Error, "call failed"), "{lines:#?}");
    assert!(has(Level::Info, "cache cleared"), "{lines:#?}");
    // The secrets, including the authinfos actually handed out.
    let mut secrets: Vec<&str> = SECRETS.to_vec();
    secrets.extend(authinfos.iter().map(String::as_str));
    logs.check_clean(&secrets);
    for (_, line) in &lines {
        assert!(!line.contains("MOCKAUTHINFO"), "{line}");
    }
}

#[test]
fn the_level_filters_and_no_callback_is_silent() {
    let server = start(MockConfig::default());
    let logs = LogCapture::default();
    // Built by hand: `client_of` and `LogCapture::client` log at Debug.
    let lines = std::sync::Arc::clone(&logs.lines);
    let config = builder(&server)
        .log_callback(move |l, m| lines.lock().unwrap().push((l, m.to_owned())))
        .log_level(Level::Warn)
        .build()
        .unwrap();
    let client = wxface::Client::new(config).unwrap();
    client.get_authinfo(&request(RAWDATA)).unwrap();
    client.get_authinfo(&request(RAWDATA)).unwrap();
    assert!(logs.lines().is_empty(), "{:?}", logs.lines());
    client
        .get_authinfo(&request_for("X", "MOCK:signed-error"))
        .unwrap_err();
    let got = logs.lines();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, Level::Error);
    assert_eq!(wxface::DEFAULT_LOG_LEVEL, Level::Info);
}

/// A logger that calls the same client for the same identity (which the documentation
/// forbids) waits for the refresh it is logging from: the inner calls and then the outer call
/// fail with a timeout. Nothing deadlocks (a hang would fail the test binary's run).
#[test]
fn a_logger_calling_its_own_client_times_out_instead_of_deadlocking() {
    use std::cell::Cell;
    use std::sync::{Arc, Mutex, OnceLock, Weak};

    thread_local! {
        static DEPTH: Cell<u32> = const { Cell::new(0) };
    }
    let server = start(MockConfig::default());
    let me: Arc<OnceLock<Weak<wxface::Client>>> = Arc::new(OnceLock::new());
    let inner_results: Arc<Mutex<Vec<String>>> = Arc::default();
    let (me2, results) = (Arc::clone(&me), Arc::clone(&inner_results));
    let config = builder(&server)
        .timeout(Duration::from_secs(1))
        .log_level(Level::Debug)
        .log_callback(move |_, line| {
            // Re-enter on the outer refresh's first line, and once more from the inner call's
            // "waiting" line (which must not be logged under the slot's lock).
            let depth = DEPTH.with(Cell::get);
            let reenter = (depth == 0 && line.starts_with("cache miss"))
                || (depth == 1 && line.starts_with("waiting for a concurrent refresh"));
            if !reenter {
                return;
            }
            let Some(client) = me2.get().and_then(Weak::upgrade) else {
                return;
            };
            DEPTH.with(|d| d.set(depth + 1));
            let r = client.get_authinfo(&request(RAWDATA));
            DEPTH.with(|d| d.set(depth));
            results.lock().unwrap().push(format!(
                "{depth}:{}",
                r.map_or_else(|e| e.kind().name(), |_| "ok")
            ));
        });
    let client = Arc::new(wxface::Client::new(config.build().unwrap()).unwrap());
    me.set(Arc::downgrade(&client)).unwrap();
    let outer = client.get_authinfo(&request(RAWDATA)).unwrap_err();
    assert_eq!(outer.kind(), wxface::ErrorKind::Timeout, "{outer:?}");
    let mut got = inner_results.lock().unwrap().clone();
    got.sort();
    assert_eq!(got, ["0:WXFACE_ERR_TIMEOUT", "1:WXFACE_ERR_TIMEOUT"]);
    assert!(server.request_count() <= 1);
}
