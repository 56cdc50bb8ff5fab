//! The APIv2 signature (PROTOCOL.md, "APIv2 signature").
//!
//! Fields other than `sign` with non-empty values are sorted by name in byte order, joined as
//! `k=v&k=v` with raw UTF-8 values, followed by `&key=API_KEY`, and hashed with MD5 or keyed
//! HMAC-SHA256, hex upper-case. The keyed text is streamed into the hash, so the key is never
//! copied into an intermediate string.

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;

use crate::error::{Error, Result};
use crate::protocol::secret::{self, ApiKey};

/// The signature algorithm named by the `sign_type` field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SignType {
    /// `HMAC-SHA256`, keyed with the API key (the default: MD5 is kept for old merchant setups).
    #[default]
    HmacSha256,
    /// `MD5` over the text including `&key=`.
    Md5,
}

impl SignType {
    /// The wire value of `sign_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignType::HmacSha256 => "HMAC-SHA256",
            SignType::Md5 => "MD5",
        }
    }

    /// Parses a wire value (`MD5` or `HMAC-SHA256`, exact case).
    pub fn from_wire(value: &str) -> Option<SignType> {
        match value {
            "HMAC-SHA256" => Some(SignType::HmacSha256),
            "MD5" => Some(SignType::Md5),
            _ => None,
        }
    }

    /// The algorithm of a received signature, inferred from its length as WeChat's peers do.
    fn of_signature(sign: &str) -> Option<SignType> {
        match sign.len() {
            64 => Some(SignType::HmacSha256),
            32 => Some(SignType::Md5),
            _ => None,
        }
    }
}

/// Fields that take part in a signature: everything but `sign`, and no empty values, in byte
/// order of their names.
fn signed_fields<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> = Vec::with_capacity(16);
    out.extend(
        fields
            .into_iter()
            .filter(|(k, v)| *k != "sign" && !v.is_empty()),
    );
    out.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    out
}

/// The text that is signed, without the trailing `&key=…` (so it is safe to log or compare
/// when a signature is refused).
///
/// ```
/// let s = wxface::sign::string_to_sign([("b", "2"), ("a", "1"), ("c", ""), ("sign", "X")]);
/// assert_eq!(s, "a=1&b=2");
/// ```
pub fn string_to_sign<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut s = String::new();
    for (i, (k, v)) in signed_fields(fields).into_iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

/// Signs `fields` with `key`, returning the upper-case hex signature.
///
/// ```
/// use wxface::{ApiKey, SignType, sign::sign};
/// let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap();
/// let fields = [("appid", "wxd930ea5d5a258f4f"), ("mch_id", "10000100"),
///               ("device_info", "1000"), ("body", "test"), ("nonce_str", "ibuaiVcKdpRxkhJA")];
/// assert_eq!(sign(fields, &key, SignType::Md5), "9A0A8659F005D6984697E2CA0A9CF3B7");
/// ```
pub fn sign<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    key: &ApiKey,
    sign_type: SignType,
) -> String {
    sign_sorted(&signed_fields(fields), key, sign_type)
        .as_str()
        .to_owned()
}

/// An upper-case hex signature (32 or 64 characters), held on the stack.
pub(crate) struct Signature {
    hex: [u8; 64],
    len: usize,
}

impl Signature {
    pub(crate) fn as_str(&self) -> &str {
        // Hex digits only: always UTF-8.
        std::str::from_utf8(&self.hex[..self.len]).unwrap_or_default()
    }
}

/// Signs fields that are already what [`signed_fields`] would make of them: no `sign`, no
/// empty value, names in byte order (the request's fields are built that way, so nothing is
/// collected or sorted). A name may repeat (a hostile field list through [`sign`] or
/// [`verify`]): each occurrence is signed, as before.
///
/// Every signature (request, response verification, the public [`sign`] and [`verify`]) is
/// made here. The hash states and blocks hold the key and the fields in stack frames, and
/// moves of a state leave copies that its wipe on drop does not reach: the frames are
/// scrubbed when the hash is done.
pub(crate) fn sign_sorted(fields: &[(&str, &str)], key: &ApiKey, sign_type: SignType) -> Signature {
    secret::scrubbed(|| keyed_hash(fields, key, sign_type))
}

fn keyed_hash(fields: &[(&str, &str)], key: &ApiKey, sign_type: SignType) -> Signature {
    debug_assert!(
        fields
            .windows(2)
            .all(|w| w[0].0.as_bytes() <= w[1].0.as_bytes())
    );
    debug_assert!(fields.iter().all(|(k, v)| *k != "sign" && !v.is_empty()));
    let key = key.expose();
    match sign_type {
        SignType::Md5 => {
            let mut h = Md5::new();
            feed(fields, key, |b| h.update(b));
            upper_hex(&h.finalize())
        }
        SignType::HmacSha256 => {
            let mut h = Hmac::<Sha256>::new_from_slice(key.as_bytes())
                .expect("HMAC accepts keys of any length");
            feed(fields, key, |b| h.update(b));
            upper_hex(&h.finalize().into_bytes())
        }
    }
}

fn feed(fields: &[(&str, &str)], key: &str, mut update: impl FnMut(&[u8])) {
    for (k, v) in fields {
        update(k.as_bytes());
        update(b"=");
        update(v.as_bytes());
        update(b"&");
    }
    update(b"key=");
    update(key.as_bytes());
}

fn upper_hex(bytes: &[u8]) -> Signature {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut sig = Signature {
        hex: [0; 64],
        len: 0,
    };
    for (b, out) in bytes.iter().zip(sig.hex.chunks_exact_mut(2)) {
        out[0] = HEX[usize::from(b >> 4)];
        out[1] = HEX[usize::from(b & 0xf)];
        sig.len += 2;
    }
    sig
}

/// Verifies the `sign` field of a received message against all its other fields (unknown ones
/// included), inferring the algorithm from the signature length. Comparison is constant-time.
pub fn verify<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
    key: &ApiKey,
) -> Result<()> {
    let received = fields
        .clone()
        .into_iter()
        .find(|(k, _)| *k == "sign")
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::Signature("the response carries no sign field".into()))?;
    let sign_type = SignType::of_signature(received).ok_or_else(|| {
        Error::Signature(format!(
            "sign has {} characters; expected 32 (MD5) or 64 (HMAC-SHA256)",
            received.len()
        ))
    })?;
    let expected = sign_sorted(&signed_fields(fields), key, sign_type);
    if ct_eq_ignore_ascii_case(expected.as_str().as_bytes(), received.as_bytes()) {
        Ok(())
    } else {
        Err(Error::Signature(format!(
            "{} signature does not match (wrong key, or the response was altered)",
            sign_type.as_str()
        )))
    }
}

/// Constant-time equality of two equal-length ASCII strings, ignoring ASCII case.
fn ct_eq_ignore_ascii_case(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| {
        acc | (x.to_ascii_uppercase() ^ y.to_ascii_uppercase())
    });
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kat_key() -> ApiKey {
        ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap()
    }

    const WECHAT_DOC: [(&str, &str); 5] = [
        ("appid", "wxd930ea5d5a258f4f"),
        ("mch_id", "10000100"),
        ("device_info", "1000"),
        ("body", "test"),
        ("nonce_str", "ibuaiVcKdpRxkhJA"),
    ];

    #[test]
    fn wechat_doc_vectors() {
        assert_eq!(
            string_to_sign(WECHAT_DOC),
            "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA"
        );
        assert_eq!(
            sign(WECHAT_DOC, &kat_key(), SignType::Md5),
            "9A0A8659F005D6984697E2CA0A9CF3B7"
        );
        assert_eq!(
            sign(WECHAT_DOC, &kat_key(), SignType::HmacSha256),
            "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
        );
    }

    #[test]
    fn wechatpy_vectors() {
        let f = [("test1", "test1"), ("test2", "test2")];
        assert_eq!(
            sign(f, &kat_key(), SignType::Md5),
            "1E3A8D73B5A4AEE787C0F68B5DAB8520"
        );
        assert_eq!(
            sign(f, &kat_key(), SignType::HmacSha256),
            "EDAC6D70D2FDF5A2382F8204FC96A1918017E46ACC5297F565ED1A7610ACF659"
        );
    }

    #[test]
    fn empty_values_and_sign_are_left_out() {
        let mut with_extras = WECHAT_DOC.to_vec();
        with_extras.push(("attach", ""));
        with_extras.push(("sign", "WHATEVER"));
        for st in [SignType::Md5, SignType::HmacSha256] {
            assert_eq!(
                sign(with_extras.iter().copied(), &kat_key(), st),
                sign(WECHAT_DOC, &kat_key(), st)
            );
        }
    }

    #[test]
    fn values_are_raw_utf8_and_untrimmed() {
        let fields = [
            ("store_name", "深圳 & <科技园> \"店\" 'x'"),
            ("a", " x=y&z "),
        ];
        assert_eq!(
            string_to_sign(fields),
            "a= x=y&z &store_name=深圳 & <科技园> \"店\" 'x'"
        );
        // Reference: MD5 of the raw UTF-8 bytes of the full string, computed independently.
        let text =
            "a= x=y&z &store_name=深圳 & <科技园> \"店\" 'x'&key=192006250b4c09247ec02edce69f6a2d";
        let direct = upper_hex(&Md5::digest(text.as_bytes())).as_str().to_owned();
        assert_eq!(sign(fields, &kat_key(), SignType::Md5), direct);
        let trimmed = [("store_name", "深圳 & <科技园> \"店\" 'x'"), ("a", "x=y&z")];
        assert_ne!(sign(trimmed, &kat_key(), SignType::Md5), direct);
    }

    #[test]
    fn repeated_names_are_signed_not_refused() {
        // Not sent by WeChat (decode refuses duplicates), but the public signer takes any list.
        let f = [("a", "2"), ("b", "1"), ("a", "1")];
        let text = string_to_sign(f);
        assert!(text == "a=2&a=1&b=1" || text == "a=1&a=2&b=1", "{text}");
        let keyed = format!("{text}&key=192006250b4c09247ec02edce69f6a2d");
        let direct = upper_hex(&Md5::digest(keyed.as_bytes()))
            .as_str()
            .to_owned();
        assert_eq!(sign(f, &kat_key(), SignType::Md5), direct);
    }

    #[test]
    fn sort_is_by_bytes_not_case_insensitive() {
        assert_eq!(
            string_to_sign([("b", "1"), ("B", "2"), ("a_b", "3"), ("aB", "4")]),
            "B=2&aB=4&a_b=3&b=1"
        );
    }

    #[test]
    fn verify_accepts_both_algorithms_and_rejects_tampering() {
        for st in [SignType::Md5, SignType::HmacSha256] {
            let s = sign(WECHAT_DOC, &kat_key(), st);
            let mut fields = WECHAT_DOC.to_vec();
            fields.push(("sign", &s));
            verify(fields.iter().copied(), &kat_key()).unwrap();
            let lower = s.to_ascii_lowercase();
            fields.pop();
            fields.push(("sign", &lower));
            verify(fields.iter().copied(), &kat_key()).unwrap();
            fields[0] = ("appid", "wxd930ea5d5a258f4X");
            assert!(matches!(
                verify(fields.iter().copied(), &kat_key()),
                Err(Error::Signature(_))
            ));
        }
        assert!(matches!(
            verify(WECHAT_DOC, &kat_key()),
            Err(Error::Signature(_))
        ));
        let mut bad_len = WECHAT_DOC.to_vec();
        bad_len.push(("sign", "ABC"));
        assert!(matches!(
            verify(bad_len.iter().copied(), &kat_key()),
            Err(Error::Signature(_))
        ));
    }
}
