//! Checks applied to every value before it is signed and sent (PROTOCOL.md, "Input rules").

use crate::error::{Error, Result};

/// Limit of store_id, device_id and the merchant identifiers, in characters.
pub const ID_MAX: usize = 32;
/// Limit of store_name, in characters.
pub const STORE_NAME_MAX: usize = 128;
/// Limit of rawdata, in characters.
pub const RAWDATA_MAX: usize = 2048;
/// Limit of attach, in characters. WeChat documents none for this endpoint; this is wxface's
/// own bound so a runaway value fails here rather than on the wire.
pub const ATTACH_MAX: usize = 2048;

/// A required text field: non-empty, at most `max` characters, no control characters (XML 1.0
/// cannot carry most of them, and NUL would truncate C strings), and no 4-byte UTF-8 code
/// points, which WeChat's face FAQ says are not supported.
pub(crate) fn text(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(field, "is required and must not be empty"));
    }
    optional_text(field, value, max)
}

/// Like [`text`] but an empty value is allowed (it is then left out of the message).
pub(crate) fn optional_text(field: &'static str, value: &str, max: usize) -> Result<()> {
    let mut count = 0usize;
    for c in value.chars() {
        count += 1;
        if c == '\0' {
            return Err(Error::invalid(field, "contains a NUL character"));
        }
        if c.is_control() {
            return Err(Error::invalid(
                field,
                format!("contains control character U+{:04X}", c as u32),
            ));
        }
        if c.len_utf8() == 4 {
            return Err(Error::invalid(
                field,
                format!(
                    "contains U+{:X} (4-byte UTF-8, e.g. emoji), which WeChat does not accept",
                    c as u32
                ),
            ));
        }
    }
    if count > max {
        return Err(Error::invalid(
            field,
            format!("is {count} characters long; the limit is {max}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(text("f", "", 5).is_err());
        assert!(optional_text("f", "", 5).is_ok());
        assert!(text("f", "深圳店", 3).is_ok());
        assert!(text("f", "深圳店x", 3).is_err());
        assert!(text("f", "a\0b", 9).is_err());
        assert!(text("f", "a\nb", 9).is_err());
        assert!(text("f", "pay 😀", 9).is_err());
        assert!(text("f", "a+b/c=", 9).is_ok());
        let e = text("store_id", "", 1).unwrap_err();
        assert!(e.to_string().contains("store_id"), "{e}");
    }
}
