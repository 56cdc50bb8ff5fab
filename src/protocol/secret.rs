//! The merchant's APIv2 key: zeroized on drop, never printed.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Length in bytes of an APIv2 key as the merchant platform issues it.
pub const API_KEY_LEN: usize = 32;

/// The merchant's (in service-provider mode: the provider's) APIv2 key.
///
/// The bytes are wiped from memory when the value is dropped, and `Debug` prints `***`.
///
/// ```
/// let key = wxface::ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap();
/// assert_eq!(format!("{key:?}"), "ApiKey(***)");
/// assert!(wxface::ApiKey::new("too-short").is_err());
/// ```
#[derive(Clone)]
pub struct ApiKey(Zeroizing<String>);

impl ApiKey {
    /// Takes ownership of `key` after checking it is 32 printable ASCII characters.
    ///
    /// The error never repeats the key.
    pub fn new(key: impl Into<String>) -> Result<ApiKey> {
        let key = Zeroizing::new(key.into());
        if key.len() != API_KEY_LEN {
            return Err(Error::invalid(
                "api_key",
                format!(
                    "must be {API_KEY_LEN} bytes as issued by the merchant platform, got {}",
                    key.len()
                ),
            ));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid(
                "api_key",
                "must be printable ASCII (letters and digits as issued)",
            ));
        }
        Ok(ApiKey(key))
    }

    /// Copies the key out of a byte slice (for callers holding it in a C buffer).
    pub fn from_bytes(key: &[u8]) -> Result<ApiKey> {
        match std::str::from_utf8(key) {
            Ok(s) => ApiKey::new(s.to_owned()),
            Err(_) => Err(Error::invalid("api_key", "is not valid UTF-8")),
        }
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_wrong_lengths_and_never_echoes_the_key() {
        let err = ApiKey::new("secret-but-short").unwrap_err();
        assert!(!err.to_string().contains("secret-but-short"));
        assert!(ApiKey::new("x".repeat(33)).is_err());
        assert!(ApiKey::new("a".repeat(31) + " ").is_err());
        assert!(ApiKey::new("a".repeat(31) + "\0").is_err());
        assert!(ApiKey::from_bytes(&[0xff; 32]).is_err());
        assert!(ApiKey::new("a".repeat(32)).is_ok());
    }

    #[test]
    fn debug_hides_the_key() {
        let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap();
        let shown = format!("{key:?} {:?}", Some(&key));
        assert!(!shown.contains("192006"), "{shown}");
    }
}
