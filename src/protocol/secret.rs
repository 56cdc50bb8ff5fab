//! The merchant's APIv2 key: zeroized on drop, never printed; and the stack scrub that wipes
//! what the code handling secrets left in its (dead) stack frames.

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

/// Bytes of stack [`scrub_stack`] zeroes: more than the deepest chain of frames that holds
/// secrets below a [`scrubbed`] call. Measured on x86_64 (stack painted, then the lowest byte
/// changed by the work): signing at most 8.7 KiB unoptimized (MD5), 1.4 KiB at the release
/// profile's opt-level; encoding a request or decoding an answer (besides the signing they
/// scrub themselves) at most 6.9 KiB unoptimized, 1.4 KiB optimized.
const STACK_SCRUB_BYTES: usize = 16 * 1024;

/// Runs `work` (code whose frames hold secrets: hash states, blocks, copies of fields) in
/// frames of its own, then zeroes the stack those frames used, so that nothing of the
/// secrets outlives the call in stack memory: not for a later scan of the thread's stack,
/// and not as stale bytes that a later move copies into the heap as padding. Signing,
/// verifying, encoding a request and decoding an answer all run in it. `R`'s own bytes are
/// returned through the caller's frame, so they must not be a secret (a secret it owns lives
/// in the heap, behind a pointer).
#[inline(never)]
pub(crate) fn scrubbed<R>(work: impl FnOnce() -> R) -> R {
    let result = in_own_frames(work);
    scrub_stack();
    result
}

/// `work`, in a frame below the caller's (never inlined into it): whatever `work` inlines
/// lives in this frame, which [`scrub_stack`] then overwrites.
#[inline(never)]
fn in_own_frames<R>(work: impl FnOnce() -> R) -> R {
    work()
}

/// Zeroes the [`STACK_SCRUB_BYTES`] of stack below the caller's frame, where the frames of
/// the function it called before were. Volatile writes (`zeroize`): the stores cannot be
/// elided although the array is never read.
#[inline(never)]
fn scrub_stack() {
    let mut area = [0u64; STACK_SCRUB_BYTES / 8];
    zeroize::Zeroize::zeroize(&mut area[..]);
    std::hint::black_box(&area);
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
