//! Which failures are worth another attempt, and how long to wait before it.

use std::time::Duration;

use crate::config::RetryPolicy;
use crate::error::Error;

/// Whether another attempt may succeed: connection, DNS, timeout, reset or truncated body,
/// HTTP 5xx, and WeChat's `SYSTEMERROR` (which the face SDK's docs class as retryable).
/// Invalid arguments, TLS and signature failures, `PARAM_ERROR`, `ERROR` and every other
/// answer are final.
pub(crate) fn is_transient(e: &Error) -> bool {
    match e {
        Error::Network(_) | Error::Timeout(_) => true,
        Error::HttpStatus(code) => (500..600).contains(code),
        Error::Remote { return_code, .. } => return_code == "SYSTEMERROR",
        _ => false,
    }
}

/// Whether WeChat refused the request's `now` (`PARAM_ERROR 非法的Now参数`).
pub(crate) fn is_bad_now(e: &Error) -> bool {
    matches!(e, Error::Remote { return_code, return_msg }
        if return_code == "PARAM_ERROR" && return_msg.contains("Now"))
}

/// The wait before retry number `n` (1-based): drawn uniformly from `[b/2, b]` with
/// `b = min(initial * 2^(n-1), max)`.
pub(crate) fn backoff(policy: &RetryPolicy, n: u32) -> Duration {
    let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
    let nominal = policy
        .initial_backoff
        .checked_mul(factor)
        .unwrap_or(policy.max_backoff)
        .min(policy.max_backoff);
    let mut bytes = [0u8; 4];
    // Jitter only; a failing random source just means no jitter.
    let r = match getrandom::fill(&mut bytes) {
        Ok(()) => u32::from_le_bytes(bytes),
        Err(_) => u32::MAX,
    };
    let half = nominal / 2;
    half + (nominal - half).mul_f64(f64::from(r) / f64::from(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert!(is_transient(&Error::Network("x".into())));
        assert!(is_transient(&Error::Timeout("x".into())));
        assert!(is_transient(&Error::HttpStatus(502)));
        assert!(!is_transient(&Error::HttpStatus(404)));
        assert!(!is_transient(&Error::Tls("x".into())));
        assert!(!is_transient(&Error::Signature("x".into())));
        assert!(!is_transient(&Error::invalid("store_id", "x")));
        let remote = |c: &str, m: &str| Error::Remote {
            return_code: c.into(),
            return_msg: m.into(),
        };
        assert!(is_transient(&remote("SYSTEMERROR", "生成authinfo失败")));
        assert!(!is_transient(&remote("PARAM_ERROR", "签名错误")));
        assert!(!is_transient(&remote("ERROR", "无效的RawData数据")));
        assert!(is_bad_now(&remote("PARAM_ERROR", "非法的Now参数")));
        assert!(!is_bad_now(&remote("PARAM_ERROR", "签名错误")));
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
        };
        for _ in 0..50 {
            let b1 = backoff(&p, 1);
            assert!(b1 >= Duration::from_millis(50) && b1 <= Duration::from_millis(100));
            let b2 = backoff(&p, 2);
            assert!(b2 >= Duration::from_millis(100) && b2 <= Duration::from_millis(200));
            let b9 = backoff(&p, 40);
            assert!(b9 >= Duration::from_millis(175) && b9 <= Duration::from_millis(350));
        }
    }
}
