//! Relay mode: the terminal holds no API key and asks a `wxface-relay` (the merchant's own
//! server, which holds the key) with `POST {relay_url}/v1/authinfo` and a small JSON body,
//! authenticated by a bearer token or a client certificate. The answer maps onto the same
//! [`Authinfo`] and [`Error`] kinds as a direct call, and an authinfo is accepted only by the
//! rules WeChat's answers are held to ([`authinfo::issued`]); a relay's 502 with `return_code`
//! becomes [`Error::Remote`] with WeChat's code and message.

pub mod json;
pub(crate) mod setting;

use zeroize::Zeroizing;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::protocol::authinfo::{self, Authinfo, AuthinfoRequest};
use crate::protocol::secret::scrubbed;
use json::Value;
use setting::{RelayAuth, RelaySetting};

/// The relay's endpoint path.
pub(crate) const PATH: &str = "/v1/authinfo";
/// Largest relay answer read, in bytes.
pub(crate) const MAX_RESPONSE_BYTES: u64 = 16 * 1024;

/// The relay arm of a client's upstream (see `crate::client`'s `Upstream`): the relay of a
/// configuration, borrowed for one attempt.
pub(crate) struct Relay<'a> {
    pub(crate) config: &'a Config,
    pub(crate) setting: &'a RelaySetting,
}

impl Relay<'_> {
    /// The relay's endpoint URL.
    pub(crate) fn url(&self) -> String {
        format!("{}{PATH}", self.setting.url)
    }

    /// One call to the relay at `url`: the authinfo, or the error its answer maps to.
    pub(crate) fn attempt(
        &self,
        transport: &crate::net::transport::Transport,
        url: &str,
        request: &AuthinfoRequest,
        timeout: std::time::Duration,
    ) -> Result<Authinfo> {
        // What encoding the rawdata and decoding the answer leave in stack frames is scrubbed.
        let body = scrubbed(|| request_body(request));
        let bearer = match &self.setting.auth {
            RelayAuth::Token(t) => Some(t.as_str()),
            RelayAuth::ClientCert(_) => None,
        };
        let (status, answer) = transport.post_json(url, &body, bearer, timeout)?;
        let answer = Zeroizing::new(answer);
        scrubbed(|| parse_response(self.config, status, &answer))
    }
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
///
/// A 200 answer is held to the rules of a WeChat answer ([`authinfo::issued`]: the same
/// credential, `expires_in` and echoed-id checks), after the JSON types are checked here: the
/// strings must be JSON strings and `expires_in` a JSON number written as whole seconds. Any
/// failure is [`Error::BadResponse`] naming the field.
///
/// A failure answer keeps each status's local meaning: WeChat's refusal forwarded by the relay
/// is [`Error::Remote`]; the relay's own upstream failures keep their kind with a message
/// saying they happened between the relay and WeChat; a field the relay refused is
/// [`Error::HttpRefused`] (the request *was* sent, so it is not an invalid argument); anything
/// else is [`Error::HttpStatus`].
pub(crate) fn parse_response(config: &Config, status: u16, body: &[u8]) -> Result<Authinfo> {
    let object = json::parse_object(body);
    if status == 200 {
        let bad = |m: String| Error::BadResponse(format!("relay answer: {m}"));
        let o = object.map_err(bad)?;
        let text = |key: &'static str| -> Result<Option<&str>> {
            match o.get(key) {
                None => Ok(None),
                Some(Value::Str(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(bad(format!("{key} is not a JSON string"))),
            }
        };
        let expires_in = match o.get("expires_in") {
            None => None,
            Some(Value::Num(n)) => Some(n.as_str()),
            Some(_) => return Err(bad("expires_in is not a JSON number".into())),
        };
        let answer = authinfo::Issuance {
            authinfo: text("authinfo")?,
            expires_in,
            appid: text("appid")?,
            mch_id: text("mch_id")?,
            sub_appid: text("sub_appid")?,
            sub_mch_id: text("sub_mch_id")?,
        };
        return authinfo::issued(config, &answer).map_err(|e| match e {
            Error::BadResponse(m) => bad(m),
            other => other,
        });
    }
    let Ok(o) = object else {
        return Err(Error::HttpStatus(status));
    };
    let message = o.str("message").unwrap_or_default();
    if let (Some(code), Some(msg)) = (o.str("return_code"), o.str("return_msg")) {
        return Err(Error::Remote {
            return_code: code.to_owned(),
            return_msg: msg.to_owned(),
        });
    }
    let upstream = |what: &str| format!("the relay's call to WeChat failed: {what}");
    // The relay tells which wxface error kind its upstream call ended with.
    match o.get("status").and_then(Value::as_u64) {
        Some(1) => {
            let field = o
                .str("field")
                .and_then(|f| FIELDS.iter().find(|k| **k == f).copied())
                .unwrap_or("request");
            Err(Error::HttpRefused {
                status,
                reason: format!(
                    "the relay refused {field} (its rules differ from this library's): {message}"
                ),
            })
        }
        Some(2) => Err(Error::Network(upstream(message))),
        Some(3) => Err(Error::Timeout(upstream(message))),
        Some(4) => Err(Error::Tls(upstream(message))),
        Some(6) => Err(Error::BadResponse(upstream(message))),
        Some(7) => Err(Error::Signature(upstream(message))),
        _ if status == 504 => Err(Error::Timeout(
            "the relay or a gateway before it timed out".to_owned()
                + &Some(message)
                    .filter(|m| !m.is_empty())
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default(),
        )),
        _ => Err(Error::HttpStatus(status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        crate::ConfigBuilder::new()
            .relay_url("https://relay.example")
            .relay_token("wxr_x")
            .build()
            .unwrap()
    }

    fn parse_response(status: u16, body: &[u8]) -> Result<Authinfo> {
        super::parse_response(&config(), status, body)
    }

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
        assert_eq!(e.http_status(), Some(400), "{e:?}");
        assert!(
            e.to_string().contains("the relay refused store_name"),
            "{e}"
        );
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
