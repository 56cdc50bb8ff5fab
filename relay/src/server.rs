//! The HTTP API: `POST /v1/authinfo`, `GET /healthz`, `GET /readyz`, `GET /metrics`, and the
//! layers around it: a request id and a tracing span for every request, an audit line and the
//! request metrics for every `/v1/authinfo` answer.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tracing::Instrument;
use wxface::{AuthinfoRequest, Client};

use crate::audit::{Audit, Record, Trail};
use crate::config::RelayConfig;
use crate::error::{ApiError, Outcome};
use crate::extract::Grant;
use crate::listener::Connections;
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
    pub(crate) conns: Arc<Connections>,
}

/// The `x-request-id` header: taken from the request when it is a plain token (a load
/// balancer's), else made here; answered back, written in the audit line and in every process
/// log line of the request.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A request's id.
#[derive(Clone, Debug)]
pub struct RequestId(String);

impl RequestId {
    /// The request's own id if it is 1 to 64 of `[A-Za-z0-9._:-]`, else a new one: a random
    /// per-process prefix and a counter, 16 hex digits.
    fn of(headers: &HeaderMap) -> RequestId {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        static PREFIX: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        if let Some(v) = headers.get(&REQUEST_ID).and_then(|v| v.to_str().ok())
            && (1..=64).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
        {
            return RequestId(v.to_owned());
        }
        let prefix = *PREFIX.get_or_init(|| {
            let mut b = [0u8; 8];
            let _ = getrandom::fill(&mut b);
            u64::from_le_bytes(b) << 32
        });
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        RequestId(format!("{:016x}", prefix | (n & 0xffff_ffff)))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The router over `app`.
pub fn router(app: Arc<App>) -> Router {
    let authinfo = authinfo.layer(from_fn_with_state(Arc::clone(&app), audited));
    Router::new()
        .route("/v1/authinfo", post(authinfo))
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(from_fn(request_id))
        .with_state(app)
}

/// Gives the request its id and runs it in a `request` span carrying it.
async fn request_id(mut req: Request, next: Next) -> Response {
    let id = RequestId::of(req.headers());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = req.uri().path(),
    );
    req.extensions_mut().insert(id.clone());
    let mut resp = next.run(req).instrument(span).await;
    if let Ok(v) = HeaderValue::from_str(id.as_str()) {
        resp.headers_mut().insert(REQUEST_ID.clone(), v);
    }
    resp
}

/// Writes the audit line and counts the answer of one `/v1/authinfo` request.
async fn audited(State(app): State<Arc<App>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let trail = Trail::default();
    req.extensions_mut().insert(trail.clone());
    let peer = req
        .extensions()
        .get::<Peer>()
        .map(|p| p.addr.to_string())
        .unwrap_or_default();
    let id = req.extensions().get::<RequestId>().cloned();
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    let (outcome, return_code) = match resp.extensions().get::<Outcome>() {
        Some(o) => (o.code, o.return_code.as_deref()),
        None if resp.status() == StatusCode::OK => ("ok", None),
        None => ("error", None),
    };
    let seen = trail.take();
    app.metrics.request(status, outcome, seen.cache_hit);
    app.audit.write(&Record {
        ts_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0)),
        request_id: id.as_ref().map_or("", RequestId::as_str),
        peer: &peer,
        auth: seen.auth.unwrap_or("none"),
        device: seen.device.as_deref(),
        merchant: seen.merchant.as_deref(),
        store: seen.store.as_deref(),
        status,
        outcome,
        cache_hit: seen.cache_hit,
        latency_ms: (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
        return_code,
    });
    if status >= 500 {
        tracing::warn!(status, outcome, "authinfo failed upstream");
    }
    resp
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    let degraded = app.state.degraded().await;
    let draining = app.conns.draining();
    let status = if draining {
        "draining"
    } else if degraded.is_empty() {
        "ready"
    } else {
        "degraded"
    };
    let code = if draining {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let body = Json(json!({
        "status": status,
        "degraded": degraded,
        "shared_state": if app.state.uses_redis() { "redis" } else { "memory" },
    }));
    (code, body).into_response()
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

/// `POST /v1/authinfo`: the extractors did every check up to the rate limit; the field rules
/// and the upstream call (or a cache) remain.
async fn authinfo(State(app): State<Arc<App>>, grant: Grant) -> Result<Json<Value>, ApiError> {
    let Grant {
        merchant,
        body,
        trail,
    } = grant;
    let mut request =
        AuthinfoRequest::new(body.store_id, body.store_name, body.device_id, body.rawdata);
    if let Some(a) = body.attach.filter(|a| !a.is_empty()) {
        request = request.attach(a);
    }
    request.validate()?;
    let client = Arc::clone(&app.clients[&merchant]);
    let served = app
        .state
        .authinfo(Arc::clone(&client), request, body.force_refresh)
        .await?;
    trail.set_cache_hit(served.from_cache);
    let c = client.config();
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
    Ok(Json(answer))
}
