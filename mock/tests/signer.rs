//! Known-answer vectors for the mock's independent APIv2 signer (from PROTOCOL.md).

use md5::Digest;
use wxface_mock::sign;

const KEY: &str = "192006250b4c09247ec02edce69f6a2d";

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn wechat_doc_fields() -> Vec<(String, String)> {
    fields(&[
        ("appid", "wxd930ea5d5a258f4f"),
        ("mch_id", "10000100"),
        ("device_info", "1000"),
        ("body", "test"),
        ("nonce_str", "ibuaiVcKdpRxkhJA"),
    ])
}

#[test]
fn wechat_documentation_vector_md5() {
    assert_eq!(
        sign(&wechat_doc_fields(), KEY, "MD5"),
        "9A0A8659F005D6984697E2CA0A9CF3B7"
    );
}

#[test]
fn wechat_documentation_vector_hmac_sha256() {
    assert_eq!(
        sign(&wechat_doc_fields(), KEY, "HMAC-SHA256"),
        "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
    );
}

#[test]
fn wechatpy_vector_md5() {
    let f = fields(&[("test1", "test1"), ("test2", "test2")]);
    assert_eq!(sign(&f, KEY, "MD5"), "1E3A8D73B5A4AEE787C0F68B5DAB8520");
}

#[test]
fn wechatpy_vector_hmac_sha256() {
    let f = fields(&[("test1", "test1"), ("test2", "test2")]);
    assert_eq!(
        sign(&f, KEY, "HMAC-SHA256"),
        "EDAC6D70D2FDF5A2382F8204FC96A1918017E46ACC5297F565ED1A7610ACF659"
    );
}

#[test]
fn order_sign_field_and_empty_values_do_not_matter() {
    let mut f = wechat_doc_fields();
    f.reverse();
    f.push(("sign".into(), "WHATEVER".into()));
    f.push(("attach".into(), String::new()));
    assert_eq!(sign(&f, KEY, "MD5"), "9A0A8659F005D6984697E2CA0A9CF3B7");
    // Byte order puts upper case first; UTF-8 is hashed as is, unescaped.
    let f = fields(&[("a", "x&y"), ("B", "人脸"), ("c", "")]);
    let text = format!("B=人脸&a=x&y&key={KEY}");
    let expected: String = md5::Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(sign(&f, KEY, "MD5"), expected);
}
