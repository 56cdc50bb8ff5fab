//! The inputs every benchmark shares, so wxface, the floor and the peers (through
//! `build/bench/inputs.json`, written by the `work` bench) do the same work on the same bytes.

#![allow(dead_code)] // each bench uses a part

use std::fmt::Write as _;
use std::path::Path;

use wxface::{ApiKey, AuthinfoRequest, Config, SignType};

pub const MCH_ID: &str = "1900000109";
pub const APPID: &str = "wx2421b1c4370ec43b";
pub const KEY: &str = wxface_mock::DEFAULT_KEY;
pub const STORE_ID: &str = "1001";
pub const STORE_NAME: &str = "深圳南山科技园店";
pub const DEVICE_ID: &str = "POS-01";
pub const NOW: i64 = 1_764_547_200;
pub const NONCE: &str = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";
pub const AUTHINFO_LEN: usize = 108;

/// A face-SDK-like rawdata: 512 base64 characters, always the same.
pub fn rawdata() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..512usize)
        .map(|i| char::from(ALPHABET[(i * 37 + 11) % 64]))
        .collect()
}

pub fn authinfo() -> String {
    let mut s = String::from("MOCKAUTHINFO");
    s.extend((0..AUTHINFO_LEN - 12).map(|i| char::from(b'a' + (i % 26) as u8)));
    s
}

pub fn request() -> AuthinfoRequest {
    AuthinfoRequest::new(STORE_ID, STORE_NAME, DEVICE_ID, rawdata()).now(NOW)
}

pub fn config(sign_type: SignType, base_url: Option<&str>, cache: bool) -> Config {
    let mut b = Config::builder(MCH_ID, APPID, ApiKey::new(KEY).unwrap())
        .sign_type(sign_type)
        .cache(cache);
    if let Some(url) = base_url {
        b = b.base_url(url);
    }
    b.build().unwrap()
}

/// A SUCCESS answer the way WeChat writes it (every value in CDATA), signed by the mock's own
/// signer with `sign_type`.
pub fn response_body(sign_type: SignType) -> String {
    let mut fields: Vec<(String, String)> = [
        ("return_code", "SUCCESS".to_owned()),
        ("return_msg", "请求成功".to_owned()),
        ("appid", APPID.to_owned()),
        ("mch_id", MCH_ID.to_owned()),
        ("authinfo", authinfo()),
        ("expires_in", "3600".to_owned()),
        ("nonce_str", NONCE.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let sign = wxface_mock::sign(&fields, KEY, sign_type.as_str());
    fields.push(("sign".to_owned(), sign));
    let mut xml = String::from("<xml>");
    for (k, v) in &fields {
        write!(xml, "<{k}><![CDATA[{v}]]></{k}>").unwrap();
    }
    xml.push_str("</xml>");
    xml
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).unwrap(),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Writes the shared inputs for the peers' scripts.
pub fn write_inputs(path: &Path) -> std::io::Result<()> {
    let pairs = [
        ("mch_id", MCH_ID.to_owned()),
        ("appid", APPID.to_owned()),
        ("key", KEY.to_owned()),
        ("store_id", STORE_ID.to_owned()),
        ("store_name", STORE_NAME.to_owned()),
        ("device_id", DEVICE_ID.to_owned()),
        ("rawdata", rawdata()),
        ("now", NOW.to_string()),
        ("nonce_str", NONCE.to_owned()),
        ("response_md5", response_body(SignType::Md5)),
        ("response_hmac", response_body(SignType::HmacSha256)),
    ];
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("  {}: {}", json_str(k), json_str(v)))
        .collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, format!("{{\n{}\n}}\n", body.join(",\n")))
}
