//! Arbitrary strings through `AuthinfoRequest::new(..).attach(..).now(..).validate()`.
//!
//! Oracle (both directions): validate() is Ok exactly when every value obeys the input rules
//! (required ones non-empty; no NUL, no control character, no 4-byte UTF-8; store_id and
//! device_id ≤ 32 characters, store_name ≤ 128, rawdata ≤ 2048, attach ≤ 2048;
//! 0 < now ≤ 9 999 999 999).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wxface::{AuthinfoRequest, Error};

#[derive(Arbitrary, Debug)]
struct Input {
    store_id: String,
    store_name: String,
    device_id: String,
    rawdata: String,
    attach: String,
    now: Option<i64>,
}

fn ok_text(v: &str, max: usize, required: bool) -> bool {
    (!required || !v.is_empty())
        && v.chars().count() <= max
        && v.chars()
            .all(|c| c != '\0' && !c.is_control() && c.len_utf8() < 4)
}

fuzz_target!(|input: Input| {
    let mut req = AuthinfoRequest::new(
        input.store_id.as_str(),
        input.store_name.as_str(),
        input.device_id.as_str(),
        input.rawdata.as_str(),
    )
    .attach(input.attach.as_str());
    if let Some(now) = input.now {
        req = req.now(now);
    }
    assert_eq!(req.attach.is_none(), input.attach.is_empty());

    let expected = ok_text(&req.store_id, 32, true)
        && ok_text(&req.store_name, 128, true)
        && ok_text(&req.device_id, 32, true)
        && ok_text(&req.rawdata, 2048, true)
        && req
            .attach
            .as_deref()
            .is_none_or(|a| ok_text(a, 2048, false))
        && req.now.is_none_or(|n| n > 0 && n <= 9_999_999_999);

    match req.validate() {
        Ok(()) => assert!(expected, "validate() accepted {req:?}"),
        Err(Error::InvalidArgument { field, .. }) => {
            assert!(
                !expected,
                "validate() refused a valid request ({field}): {req:?}"
            );
            assert!(
                [
                    "store_id",
                    "store_name",
                    "device_id",
                    "rawdata",
                    "attach",
                    "now"
                ]
                .contains(&field),
                "unexpected field name {field}"
            );
        }
        Err(other) => panic!("validate() returned a non-argument error: {other:?}"),
    }
});
