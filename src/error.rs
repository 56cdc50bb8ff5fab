//! Errors: one kind per way a call can fail, each mapped to a stable C status code.
//!
//! No variant ever carries the API key, the authinfo or the rawdata: messages name fields and
//! causes, never secret values.

use std::fmt;

/// The broad class of an [`Error`]; stable, and mirrored one-to-one by the C status codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A configuration or request value was missing or not acceptable. Nothing was sent.
    InvalidArgument,
    /// DNS failure, connection refused or reset, or the connection closed early.
    Network,
    /// The connect timeout or the overall call timeout expired.
    Timeout,
    /// TLS handshake or certificate verification failed.
    Tls,
    /// The server answered with an HTTP status other than 200 (or an HTTP proxy refused
    /// CONNECT with one, or a relay refused a field: the request was sent).
    HttpStatus,
    /// The body was not the flat, well-formed XML the endpoint sends, was too large, or lacked a
    /// field (or echoed an identifier that is not ours).
    BadResponse,
    /// A SUCCESS response without a signature, or with one that does not verify.
    Signature,
    /// WeChat answered with a failure (`return_code` other than `SUCCESS`).
    Remote,
}

impl ErrorKind {
    /// The stable numeric status of this kind, shared by the C ABI (`WXFACE_ERR_*`) and the
    /// Java binding (`WxFaceException.getStatus()`). 0 is success; 9 and 10 are
    /// ABI-only (buffer too small, internal panic).
    pub fn code(self) -> u32 {
        match self {
            ErrorKind::InvalidArgument => 1,
            ErrorKind::Network => 2,
            ErrorKind::Timeout => 3,
            ErrorKind::Tls => 4,
            ErrorKind::HttpStatus => 5,
            ErrorKind::BadResponse => 6,
            ErrorKind::Signature => 7,
            ErrorKind::Remote => 8,
        }
    }

    /// Whether a failure of this kind may succeed when tried again, the one rule behind the
    /// retry policy, `wxface_status_is_transient` and the CLI: connection, DNS, timeout, reset
    /// or truncated body; an HTTP 5xx; WeChat's `SYSTEMERROR` (which the face SDK's docs class
    /// as retryable). Invalid arguments, TLS and signature failures, bad answers, other HTTP
    /// statuses, `PARAM_ERROR`, `ERROR` and every other answer are final. `http_status` and
    /// `return_code` are the failure's details, where known.
    pub fn is_transient(self, http_status: Option<u16>, return_code: Option<&str>) -> bool {
        match self {
            ErrorKind::Network | ErrorKind::Timeout => true,
            ErrorKind::HttpStatus => http_status.is_some_and(|c| (500..600).contains(&c)),
            ErrorKind::Remote => return_code == Some("SYSTEMERROR"),
            _ => false,
        }
    }

    /// The kind whose [`code`](ErrorKind::code) is `code`, if any (0 and the ABI-only codes
    /// have none).
    pub fn from_code(code: u32) -> Option<ErrorKind> {
        Some(match code {
            1 => ErrorKind::InvalidArgument,
            2 => ErrorKind::Network,
            3 => ErrorKind::Timeout,
            4 => ErrorKind::Tls,
            5 => ErrorKind::HttpStatus,
            6 => ErrorKind::BadResponse,
            7 => ErrorKind::Signature,
            8 => ErrorKind::Remote,
            _ => return None,
        })
    }

    /// A short stable name, e.g. `"WXFACE_ERR_REMOTE"`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "WXFACE_ERR_INVALID_ARGUMENT",
            ErrorKind::Network => "WXFACE_ERR_NETWORK",
            ErrorKind::Timeout => "WXFACE_ERR_TIMEOUT",
            ErrorKind::Tls => "WXFACE_ERR_TLS",
            ErrorKind::HttpStatus => "WXFACE_ERR_HTTP_STATUS",
            ErrorKind::BadResponse => "WXFACE_ERR_BAD_RESPONSE",
            ErrorKind::Signature => "WXFACE_ERR_SIGNATURE",
            ErrorKind::Remote => "WXFACE_ERR_REMOTE",
        }
    }
}

/// An error from wxface. `Display` gives a one-line English message safe to log.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A value was refused before anything was sent; `field` names it.
    InvalidArgument {
        /// Name of the offending field (`store_id`, `api_key`, `base_url`, …).
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// A network failure before a complete HTTP response arrived.
    Network(String),
    /// A timeout expired.
    Timeout(String),
    /// TLS failure.
    Tls(String),
    /// The HTTP status code of a non-200 answer.
    HttpStatus(u16),
    /// A non-200 answer that says why (kind [`ErrorKind::HttpStatus`]): a relay that refused a
    /// request field by its own rules. The request was sent.
    HttpRefused {
        /// The HTTP status.
        status: u16,
        /// What the server refused, and its explanation.
        reason: String,
    },
    /// The response could not be accepted (not XML, too large, a field missing or malformed).
    BadResponse(String),
    /// The response signature is missing or wrong.
    Signature(String),
    /// WeChat's own failure answer, verbatim.
    Remote {
        /// WeChat's `return_code` (e.g. `PARAM_ERROR`, `ERROR`, `SYSTEMERROR`), or the
        /// `result_code`/`err_code` when `return_code` was `SUCCESS` but the result was not.
        return_code: String,
        /// WeChat's `return_msg` (UTF-8, usually Chinese), possibly empty.
        return_msg: String,
    },
}

impl Error {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidArgument { .. } => ErrorKind::InvalidArgument,
            Error::Network(_) => ErrorKind::Network,
            Error::Timeout(_) => ErrorKind::Timeout,
            Error::Tls(_) => ErrorKind::Tls,
            Error::HttpStatus(_) | Error::HttpRefused { .. } => ErrorKind::HttpStatus,
            Error::BadResponse(_) => ErrorKind::BadResponse,
            Error::Signature(_) => ErrorKind::Signature,
            Error::Remote { .. } => ErrorKind::Remote,
        }
    }

    /// WeChat's `return_code` and `return_msg` for a [`Error::Remote`] failure.
    pub fn remote(&self) -> Option<(&str, &str)> {
        match self {
            Error::Remote {
                return_code,
                return_msg,
            } => Some((return_code, return_msg)),
            _ => None,
        }
    }

    /// The HTTP status of an [`ErrorKind::HttpStatus`] failure.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::HttpStatus(status) | Error::HttpRefused { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether another attempt may succeed: the rule the retry policy follows (see
    /// [`ErrorKind::is_transient`]).
    pub fn is_transient(&self) -> bool {
        self.kind()
            .is_transient(self.http_status(), self.remote().map(|(code, _)| code))
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
        Error::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }
}

/// One line, at most [`MESSAGE_MAX`] characters of it from `m`.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn s(m: &str) -> Sanitized<'_> {
            Sanitized(m, MESSAGE_MAX)
        }
        match self {
            Error::InvalidArgument { field, reason } => {
                write!(f, "invalid {field}: {}", s(reason))
            }
            Error::Network(m) => write!(f, "network error: {}", s(m)),
            Error::Timeout(m) => write!(f, "timed out: {}", s(m)),
            Error::Tls(m) => write!(f, "TLS error: {}", s(m)),
            Error::HttpStatus(code) => write!(f, "unexpected HTTP status {code}"),
            Error::HttpRefused { status, reason } => {
                write!(f, "unexpected HTTP status {status}: {}", s(reason))
            }
            Error::BadResponse(m) => write!(f, "bad response: {}", s(m)),
            Error::Signature(m) => write!(f, "response signature rejected: {}", s(m)),
            Error::Remote {
                return_code,
                return_msg,
            } => write!(
                f,
                "WeChat answered {}: {}",
                Sanitized(return_code, CODE_MAX),
                s(return_msg)
            ),
        }
    }
}

/// Most characters of one text (a server's `return_msg`, a cause) shown in a message.
pub(crate) const MESSAGE_MAX: usize = 200;
/// Most characters of a `return_code` shown in a message.
const CODE_MAX: usize = 40;

/// Text from outside (server answers, lower layers) made safe for a one-line message or log
/// line: control characters (C0, DEL, C1, and the Unicode line/paragraph separators and
/// bidirectional overrides) are shown as `\u{..}` escapes (`\n`, `\r`, `\t` as such), and
/// after `max` characters the rest is replaced by `…(N more bytes)`.
pub(crate) struct Sanitized<'a>(pub &'a str, pub usize);

impl fmt::Display for Sanitized<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Sanitized(text, max) = *self;
        for (n, (i, c)) in text.char_indices().enumerate() {
            if n == max {
                return write!(f, "…({} more bytes)", text.len() - i);
            }
            match c {
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                '\\' => f.write_str("\\\\")?,
                c if is_unsafe_char(c) => write!(f, "\\u{{{:x}}}", u32::from(c))?,
                c => write!(f, "{c}")?,
            }
        }
        Ok(())
    }
}

fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{feff}'
        )
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// [`Sanitized`] as an owned string, capped at [`MESSAGE_MAX`] characters.
pub(crate) fn sanitize(text: &str) -> String {
    Sanitized(text, MESSAGE_MAX).to_string()
}

impl std::error::Error for Error {}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_becomes_one_short_line() {
        let forged = "签名错误\n[L1] forged line\r\x1b[31mred\x00\x7f\u{85}\u{2028}\u{202e}\\";
        let e = Error::Remote {
            return_code: "PARAM\nERROR".into(),
            return_msg: forged.into(),
        };
        let shown = e.to_string();
        assert_eq!(
            shown,
            "WeChat answered PARAM\\nERROR: 签名错误\\n[L1] forged line\\r\\u{1b}[31mred\\u{0}\\u{7f}\\u{85}\\u{2028}\\u{202e}\\\\"
        );
        assert!(!shown.chars().any(is_unsafe_char));
        // The raw text stays available, exactly.
        assert_eq!(e.remote(), Some(("PARAM\nERROR", forged)));

        let flood = Error::Remote {
            return_code: "C".repeat(5000),
            return_msg: "长".repeat(60_000),
        };
        let shown = flood.to_string();
        assert!(
            shown.chars().count() < 300,
            "{} chars",
            shown.chars().count()
        );
        assert!(shown.ends_with(&format!("…({} more bytes)", 3 * (60_000 - MESSAGE_MAX))));
        for e in [
            Error::Network("a\nb".repeat(1000)),
            Error::BadResponse("\x1b".into()),
            Error::invalid("x", "\n"),
        ] {
            let shown = e.to_string();
            assert!(!shown.contains(['\n', '\x1b']), "{shown}");
            assert!(shown.len() < 2048, "{} bytes", shown.len());
        }
    }
}
