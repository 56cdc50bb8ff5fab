//! Pure work per call, no I/O: signing, XML encoding, the whole request body, the whole
//! response (decode + verify + checks), and the floor those are compared with (the two raw
//! digests every call must compute: request and response). `scripts/bench.sh` reads
//! Criterion's medians from `target/criterion`. Setting `WXFACE_BENCH_INPUTS=path` also writes
//! the shared inputs the peers' scripts use.

mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;
use wxface::SignType;

fn types() -> [(SignType, &'static str); 2] {
    [
        (SignType::Md5, "MD5"),
        (SignType::HmacSha256, "HMAC-SHA256"),
    ]
}

/// The bytes the two digests of one call run over: request fields then response fields, each
/// as `k=v&…&key=KEY`.
fn digest_inputs(sign_type: SignType) -> (Vec<u8>, Vec<u8>) {
    let config = common::config(sign_type, None, false);
    let request = common::request();
    let body = wxface::work::request_body(&config, &request, common::NOW, common::NONCE);
    let response = common::response_body(sign_type);
    let with_key = |xml: &str| {
        let fields = wxface::xml::decode(xml.as_bytes()).unwrap();
        let text =
            wxface::sign::string_to_sign(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        format!("{text}&key={}", common::KEY).into_bytes()
    };
    (with_key(&body), with_key(&response))
}

fn benches(c: &mut Criterion) {
    if let Ok(path) = std::env::var("WXFACE_BENCH_INPUTS") {
        common::write_inputs(path.as_ref()).expect("write the peers' inputs");
    }
    let request = common::request();
    for (st, name) in types() {
        let config = common::config(st, None, false);
        let body = wxface::work::request_body(&config, &request, common::NOW, common::NONCE);
        let signed = wxface::xml::decode(body.as_bytes()).unwrap();
        let unsigned: Vec<(&str, &str)> = signed
            .iter()
            .filter(|(k, _)| k != "sign")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let key = wxface::ApiKey::new(common::KEY).unwrap();
        c.bench_function(&format!("sign/{name}"), |b| {
            b.iter(|| wxface::sign::sign(black_box(unsigned.iter().copied()), &key, st))
        });
        c.bench_function(&format!("request/{name}"), |b| {
            b.iter(|| {
                wxface::work::request_body(&config, black_box(&request), common::NOW, common::NONCE)
            })
        });
        let response = common::response_body(st);
        assert!(wxface::work::response(&config, response.as_bytes()).is_ok());
        c.bench_function(&format!("response/{name}"), |b| {
            b.iter(|| wxface::work::response(&config, black_box(response.as_bytes())).unwrap())
        });
        let (req_text, resp_text) = digest_inputs(st);
        c.bench_function(&format!("floor/{name}"), |b| match st {
            SignType::Md5 => b.iter(|| {
                let a = Md5::digest(black_box(&req_text));
                let b = Md5::digest(black_box(&resp_text));
                (a, b)
            }),
            SignType::HmacSha256 => b.iter(|| {
                let mac = |text: &[u8]| {
                    let mut m = Hmac::<Sha256>::new_from_slice(common::KEY.as_bytes()).unwrap();
                    m.update(text);
                    m.finalize().into_bytes()
                };
                (mac(black_box(&req_text)), mac(black_box(&resp_text)))
            }),
        });
    }
    let config = common::config(SignType::Md5, None, false);
    let body = wxface::work::request_body(&config, &request, common::NOW, common::NONCE);
    let fields = wxface::xml::decode(body.as_bytes()).unwrap();
    c.bench_function("encode", |b| {
        b.iter(|| {
            wxface::xml::encode(black_box(
                fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            ))
        })
    });
}

criterion_group! {
    name = work;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(work);
