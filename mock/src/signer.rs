//! An independent implementation of the WeChat Pay APIv2 signature.
//!
//! Written from PROTOCOL.md only, so that it cross-checks the `wxface` library's signer.

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;

/// Builds the APIv2 string to sign: every field except `sign`, empty values dropped, sorted by
/// name in byte order, joined as `k=v&…`, then `&key=KEY`.
pub fn string_to_sign(fields: &[(String, String)], key: &str) -> String {
    let mut kept: Vec<&(String, String)> = fields
        .iter()
        .filter(|(k, v)| k != "sign" && !v.is_empty())
        .collect();
    kept.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(&b.1)));
    let mut out = String::new();
    for (k, v) in kept {
        out.push_str(k);
        out.push('=');
        out.push_str(v);
        out.push('&');
    }
    out.push_str("key=");
    out.push_str(key);
    out
}

/// Signs `fields` with the APIv2 `key`.
///
/// `sign_type` is `"HMAC-SHA256"` (HMAC-SHA256 keyed with `key`) or `"MD5"`; any other value is
/// treated as `"MD5"`, the APIv2 default. Returns upper-case hex (32 chars for MD5, 64 for
/// HMAC-SHA256). A field named `sign` and fields with empty values are ignored.
pub fn sign(fields: &[(String, String)], key: &str, sign_type: &str) -> String {
    let text = string_to_sign(fields, key);
    let digest: Vec<u8> = if sign_type == "HMAC-SHA256" {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC accepts any key length");
        mac.update(text.as_bytes());
        mac.finalize().into_bytes().to_vec()
    } else {
        Md5::digest(text.as_bytes()).to_vec()
    };
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(digest.len() * 2);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// Compares two byte strings without an early exit on the first difference.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
