//! `wxface sign` and `wxface verify`: the APIv2 signature of a message read on stdin, shown with
//! the exact text that is hashed (the key as `key=***`).

use serde::Serialize;
use wxface::{ApiKey, SignType};

/// Fields WeChat documents in this endpoint's answer.
const KNOWN_RESPONSE_FIELDS: &[&str] = &[
    "return_code",
    "return_msg",
    "authinfo",
    "expires_in",
    "nonce_str",
    "appid",
    "mch_id",
    "sub_appid",
    "sub_mch_id",
    "sign",
];

/// Parses a body: a flat `<xml>` document, or `name=value` lines (blank lines and `#` comments
/// ignored; the value is everything after the first `=`, untrimmed).
pub fn parse_body(input: &str) -> Result<Vec<(String, String)>, String> {
    let trimmed = input.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('<') {
        return wxface::xml::decode(trimmed.trim_end().as_bytes()).map_err(|e| e.to_string());
    }
    let mut fields = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| format!("line {}: expected name=value", n + 1))?;
        fields.push((k.trim().to_owned(), v.to_owned()));
    }
    if fields.is_empty() {
        return Err(
            "no fields on standard input (expected <xml>…</xml> or name=value lines)".into(),
        );
    }
    Ok(fields)
}

fn pairs(fields: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> + Clone {
    fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

/// The text that is hashed, with the key masked.
fn shown(fields: &[(String, String)]) -> String {
    let s = wxface::sign::string_to_sign(pairs(fields));
    if s.is_empty() {
        "key=***".to_owned()
    } else {
        format!("{s}&key=***")
    }
}

#[derive(Serialize)]
pub struct SignOutput {
    pub sign_type: &'static str,
    pub string_to_sign: String,
    pub sign: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_sign: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_sign_matches: Option<bool>,
}

/// Signs `fields`. The sign type is `explicit`, else the body's `sign_type`, else HMAC-SHA256.
pub fn sign(
    fields: &[(String, String)],
    key: &ApiKey,
    explicit: Option<SignType>,
) -> Result<SignOutput, String> {
    let from_body = fields
        .iter()
        .find(|(k, _)| k == "sign_type")
        .map(|(_, v)| {
            SignType::from_wire(v).ok_or_else(|| {
                format!("the body's sign_type is {v:?}; WeChat accepts MD5 or HMAC-SHA256")
            })
        })
        .transpose()?;
    let sign_type = explicit.or(from_body).unwrap_or_default();
    let sign = wxface::sign::sign(pairs(fields), key, sign_type);
    let given = fields
        .iter()
        .find(|(k, _)| k == "sign")
        .map(|(_, v)| v.clone());
    Ok(SignOutput {
        sign_type: sign_type.as_str(),
        string_to_sign: shown(fields),
        given_sign_matches: given.as_ref().map(|g| g.eq_ignore_ascii_case(&sign)),
        given_sign: given,
        sign,
    })
}

#[derive(Serialize)]
pub struct VerifyOutput {
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_type: Option<&'static str>,
    /// Which field set the signature covers: `all fields`, `documented fields only`, or none.
    pub signed_over: Option<String>,
    pub fields: Vec<String>,
    pub string_to_sign: String,
    pub message: String,
}

/// Verifies a response's `sign`: over every field (as WeChat signs), and if that fails, over
/// the documented fields only, to tell the two apart.
pub fn verify(fields: &[(String, String)], key: &ApiKey) -> VerifyOutput {
    let names = |f: &[(String, String)]| -> Vec<String> {
        let mut n: Vec<String> = f
            .iter()
            .filter(|(k, v)| k != "sign" && !v.is_empty())
            .map(|(k, _)| k.clone())
            .collect();
        n.sort();
        n
    };
    let given = fields
        .iter()
        .find(|(k, _)| k == "sign")
        .map(|(_, v)| v.as_str());
    let sign_type = match given.map(str::len) {
        Some(32) => Some(SignType::Md5),
        Some(64) => Some(SignType::HmacSha256),
        _ => None,
    };
    let mut out = VerifyOutput {
        valid: false,
        sign_type: sign_type.map(SignType::as_str),
        signed_over: None,
        fields: names(fields),
        string_to_sign: shown(fields),
        message: String::new(),
    };
    let Some(given) = given else {
        out.message =
            "no sign field: an unsigned message (WeChat signs every SUCCESS answer)".into();
        return out;
    };
    let Some(st) = sign_type else {
        out.message = format!(
            "sign has {} characters; expected 32 (MD5) or 64 (HMAC-SHA256)",
            given.len()
        );
        return out;
    };
    if wxface::sign::verify(pairs(fields), key).is_ok() {
        out.valid = true;
        out.signed_over = Some("all fields".into());
        out.message = format!(
            "valid {} signature over all {} non-empty fields but sign",
            st.as_str(),
            out.fields.len()
        );
        return out;
    }
    let known: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| KNOWN_RESPONSE_FIELDS.contains(&k.as_str()))
        .cloned()
        .collect();
    if known.len() < fields.len() && wxface::sign::verify(pairs(&known), key).is_ok() {
        let left_out: Vec<&str> = fields
            .iter()
            .filter(|(k, _)| !KNOWN_RESPONSE_FIELDS.contains(&k.as_str()))
            .map(|(k, _)| k.as_str())
            .collect();
        out.signed_over = Some("documented fields only".into());
        out.fields = names(&known);
        out.string_to_sign = shown(&known);
        out.message = format!(
            "the {} signature covers the documented fields only, leaving out {}; WeChat signs every field, so a verifier that follows the rules refuses it",
            st.as_str(),
            left_out.join(", ")
        );
        return out;
    }
    out.message = format!(
        "the {} signature matches neither all fields nor the documented ones: a wrong key, or the message was altered",
        st.as_str()
    );
    out
}
