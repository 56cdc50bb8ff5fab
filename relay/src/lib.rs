//! # wxface-relay
//!
//! A merchant-side service that holds the APIv2 key and hands authinfos to key-less
//! terminals: `POST /v1/authinfo` (JSON), authenticated by client certificate (mutual TLS)
//! or per-device bearer token, built on the `wxface` core for signing, verification, cache
//! and retries, with shared state in Redis when several instances run. See `docs/relay.md`.

pub mod audit;
pub mod config;
pub mod metrics;
pub mod redis_link;
pub mod server;
pub mod state;
pub mod tls;
pub mod tokens;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

pub use config::RelayConfig;
pub use metrics::Metrics;

/// A running relay. [`Relay::stop`] (or dropping the runtime) ends it.
pub struct Relay {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    metrics: Arc<Metrics>,
    tls: bool,
}

impl Relay {
    /// Binds `config.listen` and serves on the current tokio runtime.
    pub async fn start(config: RelayConfig) -> Result<Relay, String> {
        let tls = config.tls.as_ref().map(tls::server_config).transpose()?;
        let metrics = Arc::new(Metrics::new(config.redis_url.is_some()));
        let state = state::SharedState::new(&config, Arc::clone(&metrics))?;
        let mut clients = HashMap::new();
        for (name, m) in &config.merchants {
            let client = wxface::Client::new(m.config.clone())
                .map_err(|e| format!("merchant {name:?}: {e}"))?;
            clients.insert(name.clone(), Arc::new(client));
        }
        let app = Arc::new(server::App {
            tokens: tokens::TokenStore::new(config.tokens_file.clone())?,
            audit: audit::Audit::open(config.audit_log.as_deref())?,
            clients,
            state,
            metrics: Arc::clone(&metrics),
            config,
        });
        let listener = TcpListener::bind(&app.config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", app.config.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (stop, stopped) = watch::channel(false);
        let router = server::router(app);
        let has_tls = tls.is_some();
        let task = tokio::spawn(accept_loop(
            listener,
            tls.map(tokio_rustls::TlsAcceptor::from),
            router,
            stopped,
        ));
        Ok(Relay {
            addr,
            stop,
            task,
            metrics,
            tls: has_tls,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://IP:PORT` (or `http://`), no trailing slash.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The relay's metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Stops accepting, closes every connection and waits for the accept task.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Serves until `stop` is sent.
    pub async fn wait(self) {
        let _ = self.task.await;
    }

    /// A handle to stop the relay from elsewhere.
    pub fn stopper(&self) -> watch::Sender<bool> {
        self.stop.clone()
    }
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: axum::Router,
    mut stopped: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stopped.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
        };
        let Ok((tcp, addr)) = accepted else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let router = router.clone();
        let tls = tls.clone();
        conns.spawn(async move {
            match tls {
                None => {
                    let peer = server::Peer {
                        addr,
                        cert_device: None,
                    };
                    serve(TokioIo::new(tcp), router, peer).await;
                }
                Some(acceptor) => {
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let cert_device = stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .and_then(tls::device_id);
                    let peer = server::Peer { addr, cert_device };
                    serve(TokioIo::new(stream), router, peer).await;
                }
            }
        });
    }
    conns.shutdown().await;
}

async fn serve<I>(io: I, router: axum::Router, peer: server::Peer)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(peer.clone());
        let mut router = router.clone();
        async move { tower_service::Service::call(&mut router, req).await }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, svc)
        .await;
}
