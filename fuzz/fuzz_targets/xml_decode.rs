//! Arbitrary bytes into `wxface::xml::decode`; every accepted document must survive
//! `decode(encode(fields)) == fields`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(fields) = wxface::xml::decode(data) else {
        return;
    };
    // What decode promises about what it accepts.
    assert!(
        std::str::from_utf8(data).is_ok(),
        "accepted non-UTF-8 input"
    );
    for (i, (name, _)) in fields.iter().enumerate() {
        // Not asserted: that names are XML names. decode takes whatever quick-xml reports as
        // the element name, so `< />` gives a field named "" and `<a"b>` one named `a"b`
        // (reported; such fields are left out of the round trip below).
        assert!(
            fields[..i].iter().all(|(n, _)| n != name),
            "duplicate field <{name}> accepted"
        );
    }

    let kept: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(n, v)| common::encodable_name(n) && common::encodable_value(v))
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let xml = wxface::xml::encode(kept.iter().copied());
    let back = match wxface::xml::decode(xml.as_bytes()) {
        Ok(back) => back,
        Err(e) => panic!("decode refused what encode wrote: {e}\nencoded: {xml:?}"),
    };
    let back: Vec<(&str, &str)> = back.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    assert_eq!(
        back, kept,
        "round trip changed the fields; encoded: {xml:?}"
    );
});
