//! The API's failure answers: `{"error": code, "message": text, …}` with the documented status
//! (docs/relay.md, "Failures"). Every failure of `/v1/authinfo` is an [`ApiError`], whether an
//! extractor refused the request or the upstream call failed.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use wxface::Error;

use crate::config::RateLimit;

/// A failure answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    body: Value,
    retry_after: Option<u64>,
    return_code: Option<String>,
}

/// What an answer was, for the audit line and the metrics: put in the response's extensions
/// by [`ApiError::into_response`] (a response without one is `ok`).
#[derive(Clone, Debug)]
pub(crate) struct Outcome {
    pub code: &'static str,
    pub return_code: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            body: json!({"error": code, "message": message.into()}),
            retry_after: None,
            return_code: None,
        }
    }

    fn with(mut self, key: &str, value: Value) -> ApiError {
        self.body[key] = value;
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `error` code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// 401: neither a client certificate nor a bearer token.
    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "a client certificate or an Authorization: Bearer token is required",
        )
    }

    /// 401: the token is unknown or revoked.
    pub fn bad_credential() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credential",
            "the bearer token is unknown or revoked",
        )
    }

    /// 403, with the reason.
    pub fn forbidden(why: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", why.to_owned())
    }

    /// 408: the body did not arrive in time.
    pub fn request_timeout(ms: u128) -> ApiError {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!("the body did not arrive within {ms} ms"),
        )
    }

    /// 413: over `max_body_bytes`.
    pub fn body_too_large(max: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body exceeds {max} bytes"),
        )
    }

    /// 415: not `application/json`.
    pub fn unsupported_media_type() -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be application/json",
        )
    }

    /// 400: not the expected JSON object. `e` is reduced to what is safe to echo: serde's
    /// messages may quote a value, so only field names are kept.
    pub fn bad_json(e: &serde_json::Error) -> ApiError {
        let msg = e.to_string();
        let detail = if msg.starts_with("missing field") || msg.starts_with("unknown field") {
            msg.split(" at line").next().unwrap_or_default().to_owned()
        } else {
            format!("malformed ({:?})", e.classify())
        };
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("the body is not the expected JSON object: {detail}"),
        )
    }

    /// 429 with `retry_after` (and the `Retry-After` header).
    pub fn rate_limited(limit: RateLimit, retry_after: u64) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "more than {} requests in {} s",
                limit.requests, limit.window_secs
            ),
        )
        .with("retry_after", json!(retry_after));
        e.retry_after = Some(retry_after);
        e
    }

    /// A failure of the core library: a refused or failed upstream call, or a field rule.
    pub fn upstream(e: &Error) -> ApiError {
        let status = e.kind().code();
        match e {
            Error::Remote {
                return_code,
                return_msg,
            } => {
                let mut f =
                    ApiError::new(StatusCode::BAD_GATEWAY, "upstream_refused", e.to_string())
                        .with("return_code", json!(return_code))
                        .with("return_msg", json!(return_msg))
                        .with("status", json!(status));
                f.return_code = Some(return_code.clone());
                f
            }
            Error::Timeout(_) => ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "upstream_timeout",
                e.to_string(),
            )
            .with("status", json!(status)),
            Error::InvalidArgument { field, .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_field", e.to_string())
                    .with("field", json!(field))
                    .with("status", json!(status))
            }
            _ => ApiError::new(StatusCode::BAD_GATEWAY, "upstream_error", e.to_string())
                .with("status", json!(status)),
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        ApiError::upstream(&e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp.extensions_mut().insert(Outcome {
            code: self.code,
            return_code: self.return_code,
        });
        resp
    }
}
