//! The relay's JSON (src/relay/json.rs) and the relay answer built on it, from arbitrary bytes.
//!
//! Oracle: nothing panics; an object that parses is flat, has unique keys, and reads back
//! unchanged after `write_object` (so the reader and the writer agree); a relay answer that is
//! accepted carries a credential of 1 to 4096 printable ASCII bytes without spaces, an
//! `expires_in` of 1 to 86400 s, and the configured ids.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use wxface::json::{self, Value};
use wxface::{Config, ConfigBuilder, work};

/// A relay-mode configuration with a merchant id to be echoed, built once.
fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        ConfigBuilder::new()
            .relay_url("https://relay.example")
            .relay_token("wxr_fuzz")
            .mch_id("1900000109")
            .build()
            .expect("relay config")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(object) = json::parse_object(data) {
        for (i, (k, _)) in object.0.iter().enumerate() {
            assert!(
                object.0[..i].iter().all(|(other, _)| other != k),
                "duplicate key {k:?} accepted"
            );
        }
        let written = json::write_object(object.0.iter().map(|(k, v)| (k.as_str(), v)));
        let back = json::parse_object(written.as_bytes()).expect("our own output reads back");
        assert_eq!(back, object, "write/read round trip");
        for (_, v) in &object.0 {
            if let Value::Num(n) = v {
                assert!(!n.is_empty() && n.bytes().all(|b| b"-+.eE0123456789".contains(&b)));
            }
        }
    }

    // The whole relay answer, as a 200 and as a failure status.
    let config = config();
    if let Ok(a) = work::relay_response(config, 200, data) {
        assert!(
            (1..=4096).contains(&a.authinfo.len()),
            "{} bytes",
            a.authinfo.len()
        );
        assert!(
            a.authinfo.bytes().all(|b| b.is_ascii_graphic()),
            "credential alphabet"
        );
        assert!(
            (1..=86_400).contains(&a.expires_in),
            "expires_in {}",
            a.expires_in
        );
        assert_eq!(a.mch_id, "1900000109");
    }
    let status = data.first().map_or(400, |b| 300 + u16::from(*b));
    assert!(work::relay_response(config, status, data).is_err());
});
