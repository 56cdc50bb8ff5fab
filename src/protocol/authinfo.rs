//! The get_wxpayface_authinfo request and response model (PROTOCOL.md, "The call").

use std::ffi::CString;
use std::fmt;

use zeroize::{Zeroize, Zeroizing};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::protocol::validate;
use crate::protocol::xml;
use crate::protocol::{secret, sign};

/// Path of the endpoint under the base URL.
pub const PATH: &str = "/face/get_wxpayface_authinfo";
/// Largest response body read, in bytes; anything longer is refused.
pub const MAX_RESPONSE_BYTES: u64 = 64 * 1024;
/// Largest authinfo accepted, in bytes (PROTOCOL.md: up to 4096 characters).
pub const AUTHINFO_MAX: usize = 4096;
/// Largest `expires_in` accepted, in seconds (WeChat issues 3600): a larger value would keep a
/// cached authinfo for years.
pub const EXPIRES_IN_MAX: u32 = 24 * 3600;
/// Largest `now` accepted: 10 digits of Unix seconds (a 13-digit value is milliseconds).
const NOW_MAX: i64 = 9_999_999_999;

/// What the terminal asks for: the store and device it is, and the face SDK's `rawdata`.
///
/// `Debug` shows the rawdata's length, never its content.
///
/// ```
/// let req = wxface::AuthinfoRequest::new("1001", "深圳南山店", "POS-01", "rawdata-from-the-sdk")
///     .attach("{\"lane\":3}");
/// assert!(!format!("{req:?}").contains("rawdata-from"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct AuthinfoRequest {
    /// Store number defined by the merchant (≤ 32 characters).
    pub store_id: String,
    /// Store name, UTF-8 (≤ 128 characters, no emoji).
    pub store_name: String,
    /// Terminal number defined by the merchant (≤ 32 characters).
    pub device_id: String,
    /// The face SDK's init data, passed through unchanged (≤ 2048 characters).
    pub rawdata: String,
    /// Optional free-form extra data (JSON by convention).
    pub attach: Option<String>,
    /// Unix time in seconds to send as `now`; the current system time when `None`.
    pub now: Option<i64>,
}

impl AuthinfoRequest {
    /// A request with the four required values.
    pub fn new(
        store_id: impl Into<String>,
        store_name: impl Into<String>,
        device_id: impl Into<String>,
        rawdata: impl Into<String>,
    ) -> AuthinfoRequest {
        AuthinfoRequest {
            store_id: store_id.into(),
            store_name: store_name.into(),
            device_id: device_id.into(),
            rawdata: rawdata.into(),
            attach: None,
            now: None,
        }
    }

    /// Sets `attach` (an empty string means none).
    pub fn attach(mut self, attach: impl Into<String>) -> Self {
        self.attach = Some(attach.into()).filter(|s| !s.is_empty());
        self
    }

    /// Sets `now` explicitly, in Unix seconds.
    pub fn now(mut self, now: i64) -> Self {
        self.now = Some(now);
        self
    }

    /// Checks every value against the protocol's rules; nothing is sent when this fails.
    pub fn validate(&self) -> Result<()> {
        validate::text("store_id", &self.store_id, validate::ID_MAX)?;
        validate::text("store_name", &self.store_name, validate::STORE_NAME_MAX)?;
        validate::text("device_id", &self.device_id, validate::ID_MAX)?;
        validate::text("rawdata", &self.rawdata, validate::RAWDATA_MAX)?;
        if let Some(a) = &self.attach {
            validate::optional_text("attach", a, validate::ATTACH_MAX)?;
        }
        if let Some(now) = self.now {
            check_now(now)?;
        }
        Ok(())
    }
}

pub(crate) fn check_now(now: i64) -> Result<()> {
    if now > NOW_MAX {
        return Err(Error::invalid(
            "now",
            "looks like milliseconds; WeChat expects 10-digit Unix seconds",
        ));
    }
    if now <= 0 {
        return Err(Error::invalid(
            "now",
            "must be a positive Unix time in seconds",
        ));
    }
    Ok(())
}

impl fmt::Debug for AuthinfoRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthinfoRequest")
            .field("store_id", &self.store_id)
            .field("store_name", &self.store_name)
            .field("device_id", &self.device_id)
            .field("rawdata", &format_args!("<{} bytes>", self.rawdata.len()))
            .field("attach", &self.attach)
            .field("now", &self.now)
            .finish()
    }
}

/// A verified authinfo: the response was SUCCESS, its signature checked out, and it echoed our
/// identifiers.
///
/// `Debug` shows the authinfo's length, never its content.
#[derive(Clone, PartialEq, Eq)]
pub struct Authinfo {
    /// The credential to hand to the face SDK.
    pub authinfo: String,
    /// Validity in seconds from receipt.
    pub expires_in: u32,
    /// Echoed appid.
    pub appid: String,
    /// Echoed merchant number.
    pub mch_id: String,
    /// Echoed sub-merchant appid, when present.
    pub sub_appid: Option<String>,
    /// Echoed sub-merchant number, when present.
    pub sub_mch_id: Option<String>,
}

impl Zeroize for AuthinfoRequest {
    /// Wipes the rawdata (the caller's copy: wxface wipes its own).
    fn zeroize(&mut self) {
        self.rawdata.zeroize();
    }
}

impl Zeroize for Authinfo {
    /// Wipes the credential (the other fields are public identifiers).
    fn zeroize(&mut self) {
        self.authinfo.zeroize();
    }
}

/// A verified authinfo as the client keeps it (cached or just obtained): the Rust value and,
/// made once when it is obtained, the NUL-terminated strings the C ABI lends out, so a cache
/// hit through C copies nothing. Both copies of the credential are wiped when it is dropped.
pub(crate) struct Issued {
    pub(crate) authinfo: Authinfo,
    /// `None` only while being dropped (taken to be wiped).
    c_authinfo: Option<CString>,
    c_appid: CString,
    c_mch_id: CString,
    c_sub_appid: CString,
    c_sub_mch_id: CString,
}

/// A public identifier for C. The core never produces a NUL in one (they are validated or
/// equal to validated ones); if one came, it would read as "".
fn c_id(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

impl Issued {
    pub(crate) fn new(authinfo: Authinfo) -> Issued {
        // Copied once, straight into the CString's buffer (capacity for the NUL included), so
        // no partial copy is left in freed memory. The authinfo holds no NUL (checked when
        // parsed); if it did, the refused bytes are wiped and C gets "".
        let mut bytes = Vec::with_capacity(authinfo.authinfo.len() + 1);
        bytes.extend_from_slice(authinfo.authinfo.as_bytes());
        let c_authinfo = CString::new(bytes).unwrap_or_else(|e| {
            e.into_vec().zeroize();
            CString::default()
        });
        let c_authinfo = Some(c_authinfo);
        Issued {
            c_authinfo,
            c_appid: c_id(&authinfo.appid),
            c_mch_id: c_id(&authinfo.mch_id),
            c_sub_appid: c_id(authinfo.sub_appid.as_deref().unwrap_or_default()),
            c_sub_mch_id: c_id(authinfo.sub_mch_id.as_deref().unwrap_or_default()),
            authinfo,
        }
    }

    pub(crate) fn c_authinfo(&self) -> &std::ffi::CStr {
        self.c_authinfo.as_deref().unwrap_or_default()
    }
    pub(crate) fn c_appid(&self) -> &std::ffi::CStr {
        &self.c_appid
    }
    pub(crate) fn c_mch_id(&self) -> &std::ffi::CStr {
        &self.c_mch_id
    }
    pub(crate) fn c_sub_appid(&self) -> &std::ffi::CStr {
        &self.c_sub_appid
    }
    pub(crate) fn c_sub_mch_id(&self) -> &std::ffi::CStr {
        &self.c_sub_mch_id
    }
}

impl Drop for Issued {
    fn drop(&mut self) {
        self.authinfo.zeroize();
        if let Some(c) = self.c_authinfo.take() {
            c.into_bytes().zeroize();
        }
    }
}

impl fmt::Debug for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.authinfo.fmt(f)
    }
}

impl fmt::Debug for Authinfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authinfo")
            .field("authinfo", &format_args!("<{} bytes>", self.authinfo.len()))
            .field("expires_in", &self.expires_in)
            .field("appid", &self.appid)
            .field("mch_id", &self.mch_id)
            .field("sub_appid", &self.sub_appid)
            .field("sub_mch_id", &self.sub_mch_id)
            .finish()
    }
}

/// The signed XML body of `request` (which must have been validated), as sent: the fields in
/// the byte order of their names, which is the order they are signed in, then `sign`. Values
/// are borrowed from the request and the configuration, signed where they lie and written once
/// into a body of exactly the right size: the body, which the caller's `Zeroizing` wipes, is
/// the only copy of the rawdata made. What the encoding leaves in stack frames is scrubbed.
pub(crate) fn request_body(
    config: &Config,
    request: &AuthinfoRequest,
    now: i64,
    nonce: &str,
) -> Zeroizing<String> {
    secret::scrubbed(|| signed_body(config, request, now, nonce))
}

fn signed_body(
    config: &Config,
    request: &AuthinfoRequest,
    now: i64,
    nonce: &str,
) -> Zeroizing<String> {
    let mut now_digits = [0u8; 20];
    let now = decimal(now, &mut now_digits);
    // Sorted by name (asserted in debug builds by `sign_sorted`).
    let named: [(&str, Option<&str>); 13] = [
        ("appid", Some(&config.appid)),
        ("attach", request.attach.as_deref()),
        ("device_id", Some(&request.device_id)),
        ("mch_id", Some(&config.mch_id)),
        ("nonce_str", Some(nonce)),
        ("now", Some(now)),
        ("rawdata", Some(&request.rawdata)),
        ("sign_type", Some(config.sign_type.as_str())),
        ("store_id", Some(&request.store_id)),
        ("store_name", Some(&request.store_name)),
        ("sub_appid", config.sub_appid.as_deref()),
        ("sub_mch_id", config.sub_mch_id.as_deref()),
        ("version", Some("1")),
    ];
    let mut fields = [("", ""); 14];
    let mut n = 0;
    for (name, value) in named {
        // Empty values are neither signed nor sent (a validated request has none but attach).
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            fields[n] = (name, value);
            n += 1;
        }
    }
    let signature = sign::sign_sorted(&fields[..n], config.key(), config.sign_type);
    fields[n] = ("sign", signature.as_str());
    Zeroizing::new(xml::encode_fields(&fields[..=n]))
}

/// `v` in decimal, written at the end of `buf`.
fn decimal(v: i64, buf: &mut [u8; 20]) -> &str {
    let mut u = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    std::str::from_utf8(&buf[i..]).unwrap_or_default()
}

/// A 200 answer's body, decoded and verified: the [`Authinfo`] or the error it stands for.
/// What decoding and checking the authinfo leave in stack frames is scrubbed.
pub(crate) fn response(config: &Config, body: &[u8]) -> Result<Authinfo> {
    secret::scrubbed(|| xml::decode_fields(body).and_then(|fields| parse_response(config, &fields)))
}

/// Turns a decoded response into an [`Authinfo`] or the error it stands for.
pub(crate) fn parse_response<K: AsRef<str>, V: AsRef<str>>(
    config: &Config,
    fields: &[(K, V)],
) -> Result<Authinfo> {
    let pairs = || fields.iter().map(|(k, v)| (k.as_ref(), v.as_ref()));
    // The fields read below, found in one pass.
    const READ: [&str; 11] = [
        "return_code",
        "return_msg",
        "result_code",
        "err_code",
        "err_code_des",
        "appid",
        "mch_id",
        "sub_appid",
        "sub_mch_id",
        "authinfo",
        "expires_in",
    ];
    let mut found: [Option<&str>; READ.len()] = [None; READ.len()];
    for (k, v) in pairs() {
        if let Some(i) = READ.iter().position(|name| *name == k) {
            found[i] = Some(v);
        }
    }
    let get = |name: &str| READ.iter().position(|n| *n == name).and_then(|i| found[i]);
    let return_code = get("return_code")
        .ok_or_else(|| Error::BadResponse("no return_code in the response".into()))?;
    if return_code != "SUCCESS" {
        return Err(Error::Remote {
            return_code: return_code.to_owned(),
            return_msg: get("return_msg").unwrap_or_default().to_owned(),
        });
    }
    sign::verify(pairs(), config.key())?;

    if let Some(result_code) = get("result_code").filter(|c| *c != "SUCCESS") {
        // Not sent by this endpoint, but generic APIv2 answers put business failures here.
        let code = get("err_code")
            .filter(|c| !c.is_empty())
            .unwrap_or(result_code);
        let msg = get("err_code_des")
            .or(get("return_msg"))
            .unwrap_or_default();
        return Err(Error::Remote {
            return_code: code.to_owned(),
            return_msg: msg.to_owned(),
        });
    }

    issued(
        config,
        &Issuance {
            authinfo: get("authinfo"),
            expires_in: get("expires_in"),
            appid: get("appid"),
            mch_id: get("mch_id"),
            sub_appid: get("sub_appid"),
            sub_mch_id: get("sub_mch_id"),
        },
    )
}

/// What an answer says was issued, as text, whoever sent it: WeChat's verified XML or the
/// relay's JSON ([`crate::relay`] checks the JSON types first). An empty value counts as absent.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Issuance<'a> {
    pub(crate) authinfo: Option<&'a str>,
    /// The decimal text as sent (`3600`; `3600.0`, `1e3` or `-1` are refused).
    pub(crate) expires_in: Option<&'a str>,
    pub(crate) appid: Option<&'a str>,
    pub(crate) mch_id: Option<&'a str>,
    pub(crate) sub_appid: Option<&'a str>,
    pub(crate) sub_mch_id: Option<&'a str>,
}

/// The one rule for an issued authinfo, in both modes: the echoed identifiers are the
/// configuration's, the credential is 1 to [`AUTHINFO_MAX`] bytes of printable ASCII without
/// spaces (so never a NUL, a control character or a bidirectional override), and `expires_in`
/// is a whole number of seconds from 1 to [`EXPIRES_IN_MAX`]. Anything else is
/// [`Error::BadResponse`] naming the field, and nothing is returned (so nothing is cached).
///
/// Identifiers: an id the configuration sets must be echoed unchanged (`appid` and `mch_id`
/// must be echoed). An id it leaves unset may not come back in direct mode (we did not send
/// it); in relay mode, where the terminal may leave the merchant's ids to the relay, it is taken
/// from the answer if it is a valid id (at most 32 printable characters).
pub(crate) fn issued(config: &Config, answer: &Issuance<'_>) -> Result<Authinfo> {
    let relay_mode = config.relay.is_some();
    let ours = |v: &str| -> Option<String> { Some(v.to_owned()).filter(|v| !v.is_empty()) };
    let echoed = |name: &'static str,
                  theirs: Option<&str>,
                  ours: Option<String>,
                  required: bool|
     -> Result<Option<String>> {
        match (theirs.filter(|v| !v.is_empty()), ours) {
            (Some(theirs), Some(ours)) if theirs == ours => Ok(Some(ours)),
            (Some(_), Some(_)) => Err(Error::BadResponse(format!("the echoed {name} is not ours"))),
            (None, Some(_)) if required => Err(Error::BadResponse(format!("{name} is not echoed"))),
            (Some(theirs), None) if relay_mode => {
                validate::text(name, theirs, validate::ID_MAX).map_err(|e| match e {
                    Error::InvalidArgument { reason, .. } => {
                        Error::BadResponse(format!("the echoed {name} {reason}"))
                    }
                    other => other,
                })?;
                Ok(Some(theirs.to_owned()))
            }
            (Some(_), None) => Err(Error::BadResponse(format!(
                "a {name} came back that we did not send"
            ))),
            (None, _) => Ok(None),
        }
    };
    let authinfo = answer
        .authinfo
        .filter(|a| !a.is_empty())
        .ok_or_else(|| Error::BadResponse("authinfo is missing".into()))?;
    let expires_in = answer
        .expires_in
        .ok_or_else(|| Error::BadResponse("expires_in is missing".into()))?;
    let appid = echoed("appid", answer.appid, ours(&config.appid), true)?.unwrap_or_default();
    let mch_id = echoed("mch_id", answer.mch_id, ours(&config.mch_id), true)?.unwrap_or_default();
    let sub_appid = echoed(
        "sub_appid",
        answer.sub_appid,
        config.sub_appid.clone(),
        false,
    )?;
    let sub_mch_id = echoed(
        "sub_mch_id",
        answer.sub_mch_id,
        config.sub_mch_id.clone(),
        false,
    )?;

    check_credential(authinfo)?;
    let expires_in = check_expires_in(expires_in)?;
    Ok(Authinfo {
        authinfo: authinfo.to_owned(),
        expires_in,
        appid,
        mch_id,
        sub_appid,
        sub_mch_id,
    })
}

/// The credential handed to the face SDK: at most [`AUTHINFO_MAX`] bytes, each printable ASCII
/// other than the space (what the header promises C callers), checked over bytes.
fn check_credential(authinfo: &str) -> Result<()> {
    let bytes = authinfo.as_bytes();
    if bytes.len() > AUTHINFO_MAX {
        return Err(Error::BadResponse(format!(
            "authinfo is {} bytes long; the limit is {AUTHINFO_MAX}",
            bytes.len()
        )));
    }
    if validate::printable_ascii(bytes) && memchr::memchr(b' ', bytes).is_none() {
        return Ok(());
    }
    let what = match authinfo.chars().find(|c| !c.is_ascii_graphic()) {
        Some('\0') => "a NUL character".to_owned(),
        Some(' ') => "a space".to_owned(),
        Some(c) => format!("U+{:04X}", u32::from(c)),
        None => "a character that is not printable ASCII".to_owned(),
    };
    Err(Error::BadResponse(format!(
        "authinfo contains {what}; the credential is printable ASCII without spaces"
    )))
}

/// `expires_in` as sent: decimal digits only, from 1 to [`EXPIRES_IN_MAX`] seconds.
fn check_expires_in(text: &str) -> Result<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::BadResponse(format!(
            "expires_in {} is not a number of seconds",
            crate::error::sanitize(text)
        )));
    }
    text.parse::<u32>()
        .ok()
        .filter(|v| (1..=EXPIRES_IN_MAX).contains(v))
        .ok_or_else(|| {
            Error::BadResponse(format!(
                "expires_in {} is out of range (1 to {EXPIRES_IN_MAX} s)",
                crate::error::sanitize(text)
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::secret::ApiKey;
    use crate::protocol::sign::SignType;

    fn sign_response(fields: &[(&str, &str)], config: &Config, st: SignType) -> String {
        sign::sign(fields.iter().copied(), config.key(), st)
    }

    fn config() -> Config {
        Config::builder(
            "1900000109",
            "wx2421b1c4370ec43b",
            ApiKey::new("0123456789abcdef0123456789abcdef").unwrap(),
        )
        .build()
        .unwrap()
    }

    fn signed(config: &Config, fields: &[(&str, &str)], st: SignType) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        out.push(("sign".into(), sign_response(fields, config, st)));
        out
    }

    const OK: [(&str, &str); 7] = [
        ("return_code", "SUCCESS"),
        ("return_msg", "请求成功"),
        ("appid", "wx2421b1c4370ec43b"),
        ("mch_id", "1900000109"),
        ("authinfo", "AUTHINFO+/="),
        ("expires_in", "3600"),
        ("nonce_str", "abc"),
    ];

    #[test]
    fn expires_in_is_a_number_in_range() {
        let c = config();
        for (value, message) in [
            ("0", "expires_in 0 is out of range (1 to 86400 s)"),
            ("86401", "expires_in 86401 is out of range (1 to 86400 s)"),
            (
                "99999999999",
                "expires_in 99999999999 is out of range (1 to 86400 s)",
            ),
            ("-1", "expires_in -1 is not a number of seconds"),
            ("", "expires_in  is not a number of seconds"),
            ("1e3", "expires_in 1e3 is not a number of seconds"),
        ] {
            let mut f = OK.to_vec();
            f.retain(|(k, _)| *k != "expires_in");
            f.push(("expires_in", value));
            let err = parse_response(&c, &signed(&c, &f, SignType::HmacSha256)).unwrap_err();
            assert_eq!(err, Error::BadResponse(message.into()), "{value}");
        }
        let mut f = OK.to_vec();
        f.retain(|(k, _)| *k != "expires_in");
        f.push(("expires_in", "86400"));
        assert_eq!(
            parse_response(&c, &signed(&c, &f, SignType::HmacSha256))
                .unwrap()
                .expires_in,
            86400
        );
    }

    #[test]
    fn success_verifies_including_unknown_fields() {
        let c = config();
        let mut f = OK.to_vec();
        f.push(("brand_new_field", "值 & <x>"));
        for st in [SignType::Md5, SignType::HmacSha256] {
            let a = parse_response(&c, &signed(&c, &f, st)).unwrap();
            assert_eq!(a.authinfo, "AUTHINFO+/=");
            assert_eq!(a.expires_in, 3600);
            assert!(!format!("{a:?}").contains("AUTHINFO"));
        }
        // Dropping the unknown field after signing breaks the signature.
        let mut s = signed(&c, &f, SignType::HmacSha256);
        s.retain(|(k, _)| k != "brand_new_field");
        assert!(matches!(parse_response(&c, &s), Err(Error::Signature(_))));
    }

    #[test]
    fn failures_are_remote_signed_or_not() {
        let c = config();
        let unsigned = vec![
            ("return_code".to_string(), "PARAM_ERROR".to_string()),
            ("return_msg".into(), "签名错误".into()),
        ];
        assert_eq!(
            parse_response(&c, &unsigned).unwrap_err(),
            Error::Remote {
                return_code: "PARAM_ERROR".into(),
                return_msg: "签名错误".into()
            }
        );
        let s = signed(
            &c,
            &[
                ("return_code", "SYSTEMERROR"),
                ("return_msg", "生成authinfo失败"),
            ],
            SignType::Md5,
        );
        assert_eq!(
            parse_response(&c, &s).unwrap_err().remote(),
            Some(("SYSTEMERROR", "生成authinfo失败"))
        );
        let mut f = OK.to_vec();
        f.extend([
            ("result_code", "FAIL"),
            ("err_code", "NOAUTH"),
            ("err_code_des", "无权限"),
        ]);
        assert_eq!(
            parse_response(&c, &signed(&c, &f, SignType::Md5))
                .unwrap_err()
                .remote(),
            Some(("NOAUTH", "无权限"))
        );
    }

    #[test]
    fn success_must_be_signed_and_ours_and_complete() {
        let c = config();
        let unsigned: Vec<(String, String)> = OK
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert!(matches!(
            parse_response(&c, &unsigned),
            Err(Error::Signature(_))
        ));
        for (field, value) in [("mch_id", "1900000110"), ("appid", "wxother")] {
            let f: Vec<_> = OK
                .iter()
                .map(|&(k, v)| if k == field { (k, value) } else { (k, v) })
                .collect();
            assert!(
                matches!(
                    parse_response(&c, &signed(&c, &f, SignType::Md5)),
                    Err(Error::BadResponse(_))
                ),
                "{field}"
            );
        }
        for drop in ["authinfo", "expires_in", "mch_id", "appid"] {
            let f: Vec<_> = OK.iter().copied().filter(|(k, _)| *k != drop).collect();
            assert!(
                matches!(
                    parse_response(&c, &signed(&c, &f, SignType::Md5)),
                    Err(Error::BadResponse(_))
                ),
                "{drop}"
            );
        }
        for bad_expiry in ["0", "-1", "abc", "+5", "99999999999"] {
            let f: Vec<_> = OK
                .iter()
                .map(|&(k, v)| {
                    if k == "expires_in" {
                        (k, bad_expiry)
                    } else {
                        (k, v)
                    }
                })
                .collect();
            assert!(
                matches!(
                    parse_response(&c, &signed(&c, &f, SignType::Md5)),
                    Err(Error::BadResponse(_))
                ),
                "{bad_expiry}"
            );
        }
        let mut f = OK.to_vec();
        f.push(("sub_mch_id", "123"));
        assert!(matches!(
            parse_response(&c, &signed(&c, &f, SignType::Md5)),
            Err(Error::BadResponse(_))
        ));
    }

    #[test]
    fn request_body_is_complete_sorted_and_signed() {
        let c = Config::builder(
            "1900000109",
            "wx2421b1c4370ec43b",
            ApiKey::new("0123456789abcdef0123456789abcdef").unwrap(),
        )
        .sub_mch_id("1230000109")
        .sign_type(SignType::Md5)
        .build()
        .unwrap();
        let req = AuthinfoRequest::new("1001", "深圳店 & <1>", "POS-1", "raw+data/=").attach("");
        let body = request_body(&c, &req, 1_700_000_000, "N".repeat(32).as_str());
        let f = xml::decode(body.as_bytes()).unwrap();
        let names: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "appid",
                "device_id",
                "mch_id",
                "nonce_str",
                "now",
                "rawdata",
                "sign_type",
                "store_id",
                "store_name",
                "sub_mch_id",
                "version",
                "sign"
            ]
        );
        let as_pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        sign::verify(as_pairs.iter().copied(), c.key()).unwrap();
        assert!(
            as_pairs.contains(&("now", "1700000000"))
                && as_pairs.contains(&("version", "1"))
                && as_pairs.contains(&("sign_type", "MD5"))
                && as_pairs.contains(&("store_name", "深圳店 & <1>"))
                && as_pairs.contains(&("rawdata", "raw+data/="))
        );
        // The optional fields when set, in their places.
        let c = Config::builder(
            "1900000109",
            "wx2421b1c4370ec43b",
            ApiKey::new("0123456789abcdef0123456789abcdef").unwrap(),
        )
        .sub_appid("wxsub")
        .sub_mch_id("1230000109")
        .build()
        .unwrap();
        let body = request_body(&c, &req.clone().attach("{\"a\":1}"), 1, "n");
        let f = xml::decode(body.as_bytes()).unwrap();
        let names: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names[..2], ["appid", "attach"]);
        assert_eq!(names[10..], ["sub_appid", "sub_mch_id", "version", "sign"]);
        let as_pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        sign::verify(as_pairs.iter().copied(), c.key()).unwrap();
        assert!(as_pairs.contains(&("now", "1")));
    }

    #[test]
    fn decimal_digits() {
        for v in [
            0,
            7,
            10,
            1_700_000_000,
            9_999_999_999,
            -5,
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(decimal(v, &mut [0; 20]), v.to_string());
        }
    }

    #[test]
    fn request_validation_names_the_field() {
        let ok = AuthinfoRequest::new("1", "店", "d", "r");
        ok.validate().unwrap();
        let cases = [
            (
                AuthinfoRequest {
                    store_id: String::new(),
                    ..ok.clone()
                },
                "store_id",
            ),
            (
                AuthinfoRequest {
                    store_name: "x".repeat(129),
                    ..ok.clone()
                },
                "store_name",
            ),
            (
                AuthinfoRequest {
                    device_id: "a\0".into(),
                    ..ok.clone()
                },
                "device_id",
            ),
            (
                AuthinfoRequest {
                    rawdata: "r".repeat(2049),
                    ..ok.clone()
                },
                "rawdata",
            ),
            (
                AuthinfoRequest {
                    attach: Some("😀".into()),
                    ..ok.clone()
                },
                "attach",
            ),
            (ok.clone().now(1_700_000_000_000), "now"),
            (ok.clone().now(0), "now"),
        ];
        for (req, field) in cases {
            match req.validate() {
                Err(Error::InvalidArgument { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
