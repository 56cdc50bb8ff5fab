//! The response path through the public API: encode → decode → `sign::verify`, with field sets
//! shaped by `arbitrary` and signed correctly (MD5 or HMAC-SHA256) when `sign_it`, so the
//! fuzzer gets past the signature check; plus arbitrary raw bodies through decode + verify.
//!
//! Oracle: nothing panics; a well-formed field set (encodable, unique names, none called
//! `sign`) that was signed verifies, and stops verifying once a signed value is altered; an
//! unsigned one never verifies.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wxface::{ApiKey, SignType, sign, xml};

#[path = "common.rs"]
mod common;

#[derive(Arbitrary, Debug)]
struct Input {
    fields: Vec<(String, String)>,
    sign_it: bool,
    md5: bool,
    /// Index (mod len) of a field whose value is altered after signing.
    tamper: Option<u8>,
    /// An arbitrary HTTP body, decoded and verified on its own.
    body: Vec<u8>,
}

fn key() -> ApiKey {
    ApiKey::new("0123456789abcdef0123456789abcdef").expect("test key")
}

fn pairs(f: &[(String, String)]) -> Vec<(&str, &str)> {
    f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fuzz_target!(|input: Input| {
    let key = key();

    // 1. A raw body: decode, then verify whatever decoded. Must not panic.
    if let Ok(fields) = xml::decode(&input.body) {
        let p = pairs(&fields);
        let _ = sign::verify(p.iter().copied(), &key);
        let _ = sign::string_to_sign(p.iter().copied());
    }

    let sign_type = if input.md5 {
        SignType::Md5
    } else {
        SignType::HmacSha256
    };
    let mut fields = input.fields;
    let well_formed = fields.iter().enumerate().all(|(i, (n, v))| {
        common::encodable_name(n)
            && common::encodable_value(v)
            && n != "sign"
            && fields[..i].iter().all(|(m, _)| m != n)
    });
    if input.sign_it {
        let s = sign::sign(pairs(&fields).iter().copied(), &key, sign_type);
        let expected_len = if input.md5 { 32 } else { 64 };
        assert_eq!(s.len(), expected_len, "signature length");
        assert!(
            s.bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        );
        fields.push(("sign".to_owned(), s));
    }

    if !well_formed {
        // encode debug-asserts its names, so only the signature code sees these.
        let _ = sign::verify(pairs(&fields).iter().copied(), &key);
        return;
    }

    let body = xml::encode(pairs(&fields).iter().copied());
    let decoded = match xml::decode(body.as_bytes()) {
        Ok(d) => d,
        Err(e) => panic!("decode refused an encoded well-formed field set: {e}\n{body:?}"),
    };
    assert_eq!(decoded, fields, "round trip changed the fields: {body:?}");
    let verdict = sign::verify(pairs(&decoded).iter().copied(), &key);
    if input.sign_it {
        if let Err(e) = &verdict {
            panic!("a correctly signed response does not verify: {e}\n{body:?}");
        }
        // Alter one signed value (not `sign`, not an empty one: those are not signed).
        let n = decoded.len() - 1;
        if let Some(t) = input.tamper.filter(|_| n > 0) {
            let i = usize::from(t) % n;
            if !decoded[i].1.is_empty() {
                let mut altered = decoded.clone();
                altered[i].1.push('x');
                assert!(
                    sign::verify(pairs(&altered).iter().copied(), &key).is_err(),
                    "an altered value still verifies: field {:?}",
                    altered[i].0
                );
            }
        }
    } else {
        assert!(verdict.is_err(), "an unsigned field set verifies");
    }
});
