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
    // The usual case (ids, base64 rawdata): printable ASCII within the limit, checked over
    // bytes. Anything else takes the character-by-character path, which names the problem.
    if value.len() <= max && printable_ascii(value.as_bytes()) {
        return Ok(());
    }
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

/// True when every byte is printable ASCII (0x20..=0x7E), eight bytes at a time: a byte is
/// refused when its high bit is set, when it is below 0x20, or when it is 0x7F (the classic
/// "has a byte less than n" and "has a zero byte" word tests, exact for ASCII bytes; a
/// non-ASCII byte is refused by its high bit anyway).
pub(crate) fn printable_ascii(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = bytes.chunks_exact(8);
    let mut bad = 0u64;
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let w = u64::from_le_bytes(w);
        let del = w ^ (ONES * 0x7f);
        bad |= w | (w.wrapping_sub(ONES * 0x20) & !w) | (del.wrapping_sub(ONES) & !del);
    }
    bad & HIGH == 0 && words.remainder().iter().all(|b| (0x20..0x7f).contains(b))
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
        // The ASCII fast path: its bounds, and what it hands to the slow path.
        assert!(text("f", "abc", 3).is_ok());
        assert!(text("f", "abcd", 3).is_err());
        assert!(text("f", " ~", 2).is_ok());
        assert!(text("f", "a\x7f", 9).is_err());
        assert!(text("f", "a\x1fb", 9).is_err());
        let long = "x".repeat(100);
        assert!(text("f", &long, 100).is_ok());
        assert!(text("f", &(long.clone() + "\t"), 200).is_err());
        // Every byte value, alone and at each position of a word.
        for b in 0..=255u8 {
            let printable = (0x20..0x7f).contains(&b);
            for at in 0..16 {
                let mut v = vec![b'a'; 16];
                v[at] = b;
                assert_eq!(printable_ascii(&v), printable, "{b:#x} at {at}");
            }
        }
        let e = text("store_id", "", 1).unwrap_err();
        assert!(e.to_string().contains("store_id"), "{e}");
    }
}
