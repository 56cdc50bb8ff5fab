//! The HTTP API: `POST /v1/authinfo`, `GET /healthz`, `GET /readyz`, `GET /metrics`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use wxface::{AuthinfoRequest, Client, Error};

use crate::audit::{Audit, Record};
use crate::config::RelayConfig;
use crate::metrics::Metrics;
use crate::state::SharedState;
use crate::tokens::TokenStore;

/// What the connection tells about the peer.
#[derive(Clone, Debug)]
pub struct Peer {
    /// The remote address.
    pub addr: SocketAddr,
    /// The device id from a verified client certificate.
    pub cert_device: Option<String>,
}

/// Everything a request needs.
pub struct App {
    pub(crate) config: RelayConfig,
    pub(crate) clients: HashMap<String, Arc<Client>>,
    pub(crate) tokens: TokenStore,
    pub(crate) state: SharedState,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) audit: Audit,
}

/// The request body of `POST /v1/authinfo`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body1 {
    store_id: String,
    store_name: String,
    device_id: String,
    rawdata: String,
    #[serde(default)]
    attach: Option<String>,
    #[serde(default)]
    force_refresh: bool,
}

/// The router over `app`.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v1/authinfo", post(authinfo))
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(app)
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    let degraded = app.state.degraded().await;
    let status = if degraded.is_empty() {
        "ready"
    } else {
        "degraded"
    };
    Json(json!({
        "status": status,
        "degraded": degraded,
        "shared_state": if app.state.uses_redis() { "redis" } else { "memory" },
    }))
    .into_response()
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        app.metrics.render(),
    )
        .into_response()
}

/// A failure answer.
struct Fail {
    status: StatusCode,
    code: &'static str,
    body: Value,
    retry_after: Option<u64>,
    return_code: Option<String>,
}

impl Fail {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Fail {
        Fail {
            status,
            code,
            body: json!({"error": code, "message": message.into()}),
            retry_after: None,
            return_code: None,
        }
    }

    fn with(mut self, key: &str, value: Value) -> Fail {
        self.body[key] = value;
        self
    }

    fn upstream(e: &Error) -> Fail {
        let status = e.kind().code();
        match e {
            Error::Remote {
                return_code,
                return_msg,
            } => {
                let mut f = Fail::new(StatusCode::BAD_GATEWAY, "upstream_refused", e.to_string())
                    .with("return_code", json!(return_code))
                    .with("return_msg", json!(return_msg))
                    .with("status", json!(status));
                f.return_code = Some(return_code.clone());
                f
            }
            Error::Timeout(_) => Fail::new(
                StatusCode::GATEWAY_TIMEOUT,
                "upstream_timeout",
                e.to_string(),
            )
            .with("status", json!(status)),
            Error::InvalidArgument { field, .. } => {
                Fail::new(StatusCode::BAD_REQUEST, "invalid_field", e.to_string())
                    .with("field", json!(field))
                    .with("status", json!(status))
            }
            _ => Fail::new(StatusCode::BAD_GATEWAY, "upstream_error", e.to_string())
                .with("status", json!(status)),
        }
    }
}

/// The outcome of the request steps, for the answer and the audit line.
struct Ctx<'a> {
    auth: &'static str,
    device: Option<String>,
    merchant: Option<&'a str>,
    store: Option<String>,
    cache_hit: bool,
}

async fn authinfo(
    State(app): State<Arc<App>>,
    Extension(peer): Extension<Peer>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let mut ctx = Ctx {
        auth: "none",
        device: None,
        merchant: None,
        store: None,
        cache_hit: false,
    };
    let result = handle(&app, &peer, &headers, body, &mut ctx).await;
    let (response, status, outcome, return_code) = match result {
        Ok(resp) => (Json(resp).into_response(), 200, "ok", None),
        Err(f) => {
            let mut resp = (f.status, Json(f.body)).into_response();
            if let Some(secs) = f.retry_after
                && let Ok(v) = HeaderValue::from_str(&secs.to_string())
            {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            (resp, f.status.as_u16(), f.code, f.return_code)
        }
    };
    app.metrics.request(status, outcome, ctx.cache_hit);
    let peer_addr = peer.addr.to_string();
    app.audit.write(&Record {
        ts_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0)),
        peer: &peer_addr,
        auth: ctx.auth,
        device: ctx.device.as_deref(),
        merchant: ctx.merchant,
        store: ctx.store.as_deref(),
        status,
        outcome,
        cache_hit: ctx.cache_hit,
        latency_ms: (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
        return_code: return_code.as_deref(),
    });
    response
}

async fn handle<'a>(
    app: &'a App,
    peer: &Peer,
    headers: &HeaderMap,
    body: Body,
    ctx: &mut Ctx<'a>,
) -> Result<Value, Fail> {
    // 1. Who is calling: a verified client certificate, else a bearer token.
    let device = if let Some(d) = &peer.cert_device {
        ctx.auth = "mtls";
        d.clone()
    } else {
        let auth = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let Some(token) = auth else {
            return Err(Fail::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "a client certificate or an Authorization: Bearer token is required",
            ));
        };
        ctx.auth = "token";
        app.tokens.device_for(token.trim()).ok_or_else(|| {
            Fail::new(
                StatusCode::UNAUTHORIZED,
                "bad_credential",
                "the bearer token is unknown or revoked",
            )
        })?
    };
    ctx.device = Some(device.clone());
    // 2. The body: JSON, bounded.
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
    if !json_type {
        return Err(Fail::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be application/json",
        ));
    }
    let too_large = || {
        Fail::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body exceeds {} bytes", app.config.max_body_bytes),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > app.config.max_body_bytes as u64) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, app.config.max_body_bytes)
        .await
        .map_err(|_| too_large())?;
    let req: Body1 = serde_json::from_slice(&bytes).map_err(|e| {
        let msg = e.to_string();
        // serde's messages may quote a value; only field names are safe to echo.
        let detail = if msg.starts_with("missing field") || msg.starts_with("unknown field") {
            msg.split(" at line").next().unwrap_or_default().to_owned()
        } else {
            format!("malformed ({:?})", e.classify())
        };
        Fail::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("the body is not the expected JSON object: {detail}"),
        )
    })?;
    ctx.store = Some(req.store_id.clone());
    // 3. May this device ask for this store and device id?
    let forbidden = |why: &str| Fail::new(StatusCode::FORBIDDEN, "forbidden", why.to_owned());
    let Some(dev) = app.config.devices.get(&device) else {
        return Err(forbidden("this terminal is not configured on the relay"));
    };
    ctx.merchant = Some(dev.merchant.as_str());
    if req.device_id != device {
        return Err(forbidden(
            "device_id does not match the terminal's credential",
        ));
    }
    if !dev.stores.is_empty() && !dev.stores.contains(&req.store_id) {
        return Err(forbidden("this terminal is not allowed for that store_id"));
    }
    // 4. Rate limit per terminal.
    if let Some(limit) = app.config.rate_limit
        && let Err(secs) = app.state.rate_check(&device, limit).await
    {
        let mut f = Fail::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "more than {} requests in {} s",
                limit.requests, limit.window_secs
            ),
        )
        .with("retry_after", json!(secs));
        f.retry_after = Some(secs);
        return Err(f);
    }
    // 5. Validate and ask.
    let mut request =
        AuthinfoRequest::new(req.store_id, req.store_name, req.device_id, req.rawdata);
    if let Some(a) = req.attach.filter(|a| !a.is_empty()) {
        request = request.attach(a);
    }
    request.validate().map_err(|e| Fail::upstream(&e))?;
    let client = Arc::clone(&app.clients[&dev.merchant]);

    let served = app
        .state
        .authinfo(client, request, req.force_refresh)
        .await
        .map_err(|e| Fail::upstream(&e))?;
    ctx.cache_hit = served.from_cache;
    let c = app.clients[&dev.merchant].config();
    let mut answer = json!({
        "authinfo": served.authinfo.as_str(),
        "expires_in": served.expires_in,
        "from_cache": served.from_cache,
        "appid": c.appid(),
        "mch_id": c.mch_id(),
    });
    if let Some(v) = c.sub_appid() {
        answer["sub_appid"] = json!(v);
    }
    if let Some(v) = c.sub_mch_id() {
        answer["sub_mch_id"] = json!(v);
    }
    Ok(answer)
}
