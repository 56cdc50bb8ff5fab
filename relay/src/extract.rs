//! The checks of `POST /v1/authinfo`, as extractors, in the documented order: who is calling
//! ([`Terminal`], 401), the body ([`JsonBody`], 415/413/408/400), then the allow-list (403) and
//! the rate limit (429) in [`Grant`], which the handler takes.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::audit::Trail;
use crate::config::Device;
use crate::error::ApiError;
use crate::server::{App, Peer};

/// The authenticated terminal.
#[derive(Clone, Debug)]
pub struct Terminal {
    /// Its device id: the client certificate's subject CN, or the name its token was issued for.
    pub device: String,
    /// `mtls` or `token`.
    pub auth: &'static str,
}

/// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive
/// (RFC 9110, section 11.1).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<Arc<App>> for Terminal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let trail = parts.extensions.get::<Trail>().cloned().unwrap_or_default();
        // A verified client certificate first, else a bearer token.
        let cert_device = parts
            .extensions
            .get::<Peer>()
            .and_then(|p| p.cert_device.clone());
        let terminal = match cert_device {
            Some(device) => Terminal {
                device,
                auth: "mtls",
            },
            None => {
                let token = bearer_token(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
                trail.set_auth("token");
                let device = app
                    .tokens
                    .device_for(token)
                    .ok_or_else(ApiError::bad_credential)?;
                Terminal {
                    device,
                    auth: "token",
                }
            }
        };
        trail.set_terminal(&terminal);
        Ok(terminal)
    }
}

/// A JSON body of type `T`: `application/json`, at most `max_body_bytes`, read within
/// `header_read_timeout_ms`, unknown fields refused (by `T`).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Arc<App>> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &Arc<App>) -> Result<Self, ApiError> {
        let headers = req.headers();
        let json_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
        if !json_type {
            return Err(ApiError::unsupported_media_type());
        }
        let max = app.config.max_body_bytes;
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max as u64) {
            return Err(ApiError::body_too_large(max));
        }
        let within = app.config.limits.header_read_timeout;
        let bytes = tokio::time::timeout(within, axum::body::to_bytes(req.into_body(), max))
            .await
            .map_err(|_| ApiError::request_timeout(within.as_millis()))?
            .map_err(|_| ApiError::body_too_large(max))?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_json(&e))
    }
}

/// The request body of `POST /v1/authinfo`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthinfoBody {
    pub store_id: String,
    pub store_name: String,
    pub device_id: String,
    pub rawdata: String,
    #[serde(default)]
    pub attach: Option<String>,
    #[serde(default)]
    pub force_refresh: bool,
}

/// A request that passed every check before the field rules and the upstream call: an
/// authenticated, configured terminal asking for itself, for a store it may use, within its
/// rate limit.
pub struct Grant {
    /// The name of the terminal's merchant.
    pub merchant: String,
    /// The body.
    pub body: AuthinfoBody,
    /// The request's audit trail.
    pub trail: Trail,
}

impl FromRequest<Arc<App>> for Grant {
    type Rejection = ApiError;

    async fn from_request(req: Request<Body>, app: &Arc<App>) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let trail = parts.extensions.get::<Trail>().cloned().unwrap_or_default();
        let terminal = Terminal::from_request_parts(&mut parts, app).await?;
        let JsonBody(body) =
            JsonBody::<AuthinfoBody>::from_request(Request::from_parts(parts, body), app).await?;
        trail.set_store(&body.store_id);
        let device = allowed(app, &terminal, &body, &trail)?;
        rate_limit(app, &terminal).await?;
        Ok(Grant {
            merchant: device.merchant.clone(),
            body,
            trail,
        })
    }
}

/// 403 unless the terminal is configured, asks for itself, and for one of its stores.
fn allowed<'a>(
    app: &'a App,
    terminal: &Terminal,
    body: &AuthinfoBody,
    trail: &Trail,
) -> Result<&'a Device, ApiError> {
    let Some(dev) = app.config.devices.get(&terminal.device) else {
        return Err(ApiError::forbidden(
            "this terminal is not configured on the relay",
        ));
    };
    trail.set_merchant(&dev.merchant);
    if body.device_id != terminal.device {
        return Err(ApiError::forbidden(
            "device_id does not match the terminal's credential",
        ));
    }
    if !dev.stores.is_empty() && !dev.stores.contains(&body.store_id) {
        return Err(ApiError::forbidden(
            "this terminal is not allowed for that store_id",
        ));
    }
    Ok(dev)
}

/// 429 when the terminal is over `rate_limit`.
async fn rate_limit(app: &App, terminal: &Terminal) -> Result<(), ApiError> {
    if let Some(limit) = app.config.rate_limit {
        app.state
            .rate_check(&terminal.device, limit)
            .await
            .map_err(|secs| ApiError::rate_limited(limit, secs))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        let mut h = HeaderMap::new();
        for (value, token) in [
            ("Bearer wxr_1", Some("wxr_1")),
            ("bearer wxr_2", Some("wxr_2")),
            ("BEARER  wxr_3 ", Some("wxr_3")),
            ("Basic d3hyXzE=", None),
            ("Bearer", None),
            ("Bearer ", None),
            ("Bearerwxr_4", None),
        ] {
            h.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            assert_eq!(bearer_token(&h), token, "{value:?}");
        }
    }
}
