//! Relay mode: the terminal holds no API key and asks a `wxface-relay` (the merchant's own
//! server, which holds the key) with `POST {relay_url}/v1/authinfo` and a small JSON body,
//! authenticated by a bearer token or a client certificate. The answer maps onto the same
//! [`Authinfo`] and [`Error`] kinds as a direct call: a relay's 502 with `return_code` becomes
//! [`Error::Remote`] with WeChat's code and message.

pub mod json;
pub(crate) mod setting;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::protocol::authinfo::{Authinfo, AuthinfoRequest};
use crate::protocol::secret::scrubbed;
use json::Value;
use setting::{RelayAuth, RelaySetting};

/// The relay's endpoint path.
pub(crate) const PATH: &str = "/v1/authinfo";
/// Largest relay answer read, in bytes.
pub(crate) const MAX_RESPONSE_BYTES: u64 = 16 * 1024;

/// One call to the relay: the authinfo, or the error its answer maps to.
pub(crate) fn attempt(
    transport: &crate::net::transport::Transport,
    relay: &RelaySetting,
    url: &str,
    request: &AuthinfoRequest,
    timeout: std::time::Duration,
) -> Result<Authinfo> {
    // What encoding the rawdata and decoding the answer leave in stack frames is scrubbed.
    let body = scrubbed(|| request_body(request));
    let bearer = match &relay.auth {
        RelayAuth::Token(t) => Some(t.as_str()),
        RelayAuth::ClientCert(_) => None,
    };
    let (status, answer) = transport.post_json(url, &body, bearer, timeout)?;
    let answer = Zeroizing::new(answer);
    scrubbed(|| parse_response(status, &answer))
}

/// The JSON body for `request`.
pub(crate) fn request_body(request: &AuthinfoRequest) -> Zeroizing<String> {
    let s = |v: &str| Value::Str(v.to_owned());
    let mut fields = vec![
        ("store_id", s(&request.store_id)),
        ("store_name", s(&request.store_name)),
        ("device_id", s(&request.device_id)),
        ("rawdata", s(&request.rawdata)),
    ];
    if let Some(a) = request.attach.as_deref().filter(|a| !a.is_empty()) {
        fields.push(("attach", s(a)));
    }
    // The copies in `fields` are wiped when dropped.
    Zeroizing::new(json::write_object(fields.iter().map(|(k, v)| (*k, v))))
}

/// Field names the relay may name in an `invalid_field` answer.
const FIELDS: [&str; 5] = ["store_id", "store_name", "device_id", "rawdata", "attach"];

/// Turns the relay's answer (HTTP status and body) into an authinfo or the matching error.
pub(crate) fn parse_response(status: u16, body: &[u8]) -> Result<Authinfo> {
    let object = json::parse_object(body);
    if status == 200 {
        let o = object.map_err(|e| Error::BadResponse(format!("relay answer: {e}")))?;
        let authinfo = o
            .str("authinfo")
            .filter(|a| !a.is_empty())
            .ok_or_else(|| Error::BadResponse("relay answer without authinfo".into()))?;
        let expires_in = o
            .get("expires_in")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| Error::BadResponse("relay answer without expires_in".into()))?;
        let opt = |k: &str| o.str(k).filter(|v| !v.is_empty()).map(str::to_owned);
        return Ok(Authinfo {
            authinfo: authinfo.to_owned(),
            expires_in,
            appid: opt("appid").unwrap_or_default(),
            mch_id: opt("mch_id").unwrap_or_default(),
            sub_appid: opt("sub_appid"),
            sub_mch_id: opt("sub_mch_id"),
        });
    }
    let Ok(o) = object else {
        return Err(Error::HttpStatus(status));
    };
    let message = o.str("message").unwrap_or_default().to_owned();
    if let (Some(code), Some(msg)) = (o.str("return_code"), o.str("return_msg")) {
        return Err(Error::Remote {
            return_code: code.to_owned(),
            return_msg: msg.to_owned(),
        });
    }
    // The relay tells which wxface error kind its upstream call ended with.
    match o.get("status").and_then(Value::as_u64) {
        Some(1) => {
            let field = o
                .str("field")
                .and_then(|f| FIELDS.iter().find(|k| **k == f).copied())
                .unwrap_or("request");
            Err(Error::InvalidArgument {
                field,
                reason: format!("refused by the relay: {message}"),
            })
        }
        Some(2) => Err(Error::Network(format!("relay: {message}"))),
        Some(3) => Err(Error::Timeout(format!("relay: {message}"))),
        Some(4) => Err(Error::Tls(format!("relay: {message}"))),
        Some(6) => Err(Error::BadResponse(format!("relay: {message}"))),
        Some(7) => Err(Error::Signature(format!("relay: {message}"))),
        _ if status == 504 => Err(Error::Timeout(format!("relay: {message}"))),
        _ => Err(Error::HttpStatus(status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_and_every_failure_shape() {
        let ok = parse_response(
            200,
            br#"{"authinfo":"A1","expires_in":3599,"from_cache":false,"appid":"wx1","mch_id":"19"}"#,
        )
        .unwrap();
        assert_eq!(
            (ok.authinfo.as_str(), ok.expires_in, ok.mch_id.as_str()),
            ("A1", 3599, "19")
        );
        assert!(matches!(
            parse_response(200, b"{\"expires_in\":1}"),
            Err(Error::BadResponse(_))
        ));
        assert!(matches!(
            parse_response(200, b"<xml/>"),
            Err(Error::BadResponse(_))
        ));
        let remote = parse_response(
            502,
            "{\"error\":\"upstream_refused\",\"return_code\":\"ERROR\",\"return_msg\":\"无效的RawData数据\",\"status\":8}".as_bytes(),
        );
        assert_eq!(
            remote.unwrap_err().remote(),
            Some(("ERROR", "无效的RawData数据"))
        );
        for (status, body) in [
            (504, &br#"{"error":"upstream_timeout","status":3}"#[..]),
            (504, br#"{"error":"gateway timeout"}"#),
            (502, br#"{"error":"upstream_error","status":3}"#),
        ] {
            let e = parse_response(status, body).unwrap_err();
            assert!(matches!(e, Error::Timeout(_)), "{status}: {e}");
        }
        let e = parse_response(
            400,
            br#"{"error":"invalid_field","field":"store_name","status":1}"#,
        )
        .unwrap_err();
        assert!(matches!(
            e,
            Error::InvalidArgument {
                field: "store_name",
                ..
            }
        ));
        let e = parse_response(502, br#"{"error":"upstream_error","status":7}"#).unwrap_err();
        assert!(matches!(e, Error::Signature(_)));
        for (status, body) in [
            (401, &br#"{"error":"bad_credential"}"#[..]),
            (403, b"nope"),
            (429, b"{}"),
        ] {
            assert_eq!(
                parse_response(status, body).unwrap_err(),
                Error::HttpStatus(status)
            );
        }
    }

    #[test]
    fn body_is_json_with_the_request_fields() {
        let r =
            AuthinfoRequest::new("1001", "深圳\"店\"", "POS-01", "raw\\data").attach("{\"a\":1}");
        let body = request_body(&r);
        let o = json::parse_object(body.as_bytes()).unwrap();
        assert_eq!(o.str("store_name"), Some("深圳\"店\""));
        assert_eq!(o.str("rawdata"), Some("raw\\data"));
        assert_eq!(o.str("attach"), Some("{\"a\":1}"));
        assert_eq!(o.0.len(), 5);
    }
}
