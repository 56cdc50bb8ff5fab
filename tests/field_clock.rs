//! Clock-skew correction from the HTTP `Date` header after `PARAM_ERROR 非法的Now参数`.

mod field_support;

use std::time::{SystemTime, UNIX_EPOCH};

use field_support::*;
use wxface::{CallOptions, Level};
use wxface_mock::MockConfig;

fn unix_now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

#[test]
fn skew_is_measured_corrected_kept_and_reported() {
    for offset in [1000_i64, -1000, 86_400 * 400] {
        let server = start(MockConfig {
            clock_offset_secs: offset,
            ..MockConfig::default()
        });
        let logs = LogCapture::default();
        let client = logs.client(builder(&server).cache(false));
        let r = client
            .get_authinfo_with(&request(RAWDATA), &CallOptions::default())
            .unwrap_or_else(|e| panic!("offset {offset}: {e}"));
        assert!(r.clock_corrected);
        assert!(
            (r.clock_offset_secs - offset).abs() <= 2,
            "{} vs {offset}",
            r.clock_offset_secs
        );
        assert_eq!(r.attempts, 2);
        assert_eq!(client.clock_offset_secs(), r.clock_offset_secs);
        let sent: Vec<i64> = server
            .requests()
            .iter()
            .map(|q| q.field("now").unwrap().parse().unwrap())
            .collect();
        assert!((sent[0] - unix_now()).abs() <= 2);
        assert!((sent[1] - (unix_now() + offset)).abs() <= 2);
        assert!(
            logs.lines()
                .iter()
                .any(|(l, m)| *l == Level::Warn && m.contains("clock skew")),
            "{:?}",
            logs.lines()
        );

        // The offset is kept: the next call is right the first time.
        let r = client
            .get_authinfo_with(&request(RAWDATA), &CallOptions::default())
            .unwrap();
        assert!(!r.clock_corrected);
        assert_eq!(r.attempts, 1);
        assert_eq!(server.request_count(), 3);
    }
}

#[test]
fn no_correction_when_disabled_or_when_now_is_given() {
    let server = start(MockConfig {
        clock_offset_secs: 1000,
        ..MockConfig::default()
    });
    let client = client_of(builder(&server).cache(false).clock_skew_correction(false));
    let err = client.get_authinfo(&request(RAWDATA)).unwrap_err();
    assert_eq!(err.remote(), Some(("PARAM_ERROR", "非法的Now参数")));
    assert_eq!(server.request_count(), 1);
    assert_eq!(client.clock_offset_secs(), 0);

    let client = client_of(builder(&server).cache(false));
    let err = client
        .get_authinfo(&request(RAWDATA).now(unix_now()))
        .unwrap_err();
    assert_eq!(err.remote(), Some(("PARAM_ERROR", "非法的Now参数")));
    assert_eq!(server.request_count(), 2, "an explicit now is the caller's");
    assert_eq!(client.clock_offset_secs(), 0);
}

#[test]
fn a_correct_clock_is_left_alone() {
    let server = start(MockConfig::default());
    let client = client_of(builder(&server).cache(false));
    let r = client
        .get_authinfo_with(&request(RAWDATA), &CallOptions::default())
        .unwrap();
    assert!(!r.clock_corrected);
    assert_eq!(r.clock_offset_secs, 0);
    // A now refused although the server's Date agrees with us: no pointless retry.
    let err = client
        .get_authinfo(&request(RAWDATA).now(unix_now() - 1000))
        .unwrap_err();
    assert_eq!(err.remote(), Some(("PARAM_ERROR", "非法的Now参数")));
}
