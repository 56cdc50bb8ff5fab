//! Java strings in: decoded so that the core's rules apply to them as they do for C.

use ::jni::Env;
use ::jni::objects::JString;

use super::error::Failure;
use crate::Error;

/// Reads a Java string. Java hands over modified UTF-8 (NUL and characters outside the Basic
/// Multilingual Plane encoded differently); they are decoded, so the core's own rules refuse
/// them with the same message the C API gives. Only an unpaired surrogate, which no UTF-8 string
/// can hold, is refused here rather than silently replaced.
pub(super) fn read_string(
    env: &Env<'_>,
    value: &JString<'_>,
    field: &'static str,
) -> Result<Option<String>, Failure> {
    if value.is_null() {
        return Ok(None);
    }
    let chars = value.mutf8_chars(env)?;
    if let Ok(s) = std::str::from_utf8(chars.to_bytes()) {
        return Ok(Some(s.to_owned()));
    }
    let decoded = chars.to_str();
    if decoded.contains('\u{FFFD}') {
        return Err(Failure::Core(Error::invalid(
            field,
            "contains an unpaired surrogate, which is not text",
        )));
    }
    Ok(Some(decoded.into_owned()))
}

pub(super) fn required_string(
    env: &Env<'_>,
    value: &JString<'_>,
    field: &'static str,
    param: &'static str,
) -> Result<String, Failure> {
    read_string(env, value, field)?.ok_or(Failure::Null(param))
}
