//! # wxface-relay
//!
//! A merchant-side service that holds the APIv2 key and hands authinfos to key-less
//! terminals: `POST /v1/authinfo` (JSON), authenticated by client certificate (mutual TLS)
//! or per-device bearer token, built on the `wxface` core for signing, verification, cache
//! and retries, with shared state in Redis when several instances run. See `docs/relay.md`.

pub mod audit;
pub mod config;
pub mod error;
pub mod extract;
pub mod listener;
pub mod logging;
pub mod metrics;
pub mod redis_link;
pub mod server;
pub mod state;
pub mod tls;
pub mod tokens;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::RelayConfig;
pub use listener::Drained;
pub use metrics::Metrics;

use listener::{Command, Connections};

/// A running relay. [`Relay::stop`] (or dropping the runtime) ends it at once;
/// [`Relay::drain`] ends it gracefully.
pub struct Relay {
    addr: SocketAddr,
    commands: watch::Sender<Command>,
    task: JoinHandle<Drained>,
    metrics: Arc<Metrics>,
    conns: Arc<Connections>,
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
        let cap =
            listener::connection_cap(config.limits.max_connections, listener::open_file_limit());
        let conns = Arc::new(Connections::new(config.limits, cap, Arc::clone(&metrics)));
        let app = Arc::new(server::App {
            tokens: tokens::TokenStore::new(config.tokens_file.clone())?,
            audit: audit::Audit::open(config.audit_log.as_deref())?,
            clients,
            state,
            metrics: Arc::clone(&metrics),
            conns: Arc::clone(&conns),
            config,
        });
        let listener = TcpListener::bind(&app.config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", app.config.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (commands, received) = watch::channel(Command::Serve);
        let router = server::router(app);
        let has_tls = tls.is_some();
        let task = tokio::spawn(listener::accept_loop(
            listener,
            tls.map(tokio_rustls::TlsAcceptor::from),
            router,
            Arc::clone(&conns),
            received,
        ));
        Ok(Relay {
            addr,
            commands,
            task,
            metrics,
            conns,
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

    /// Connections served at once (`max_connections`, or what the open-file limit allows).
    pub fn connection_cap(&self) -> usize {
        self.conns.cap()
    }

    /// Stops accepting, closes every connection and waits for the accept task.
    pub async fn stop(self) {
        let _ = self.commands.send(Command::Stop);
        let _ = self.task.await;
    }

    /// The graceful stop: `/readyz` answers 503 from now on, the listener closes, requests in
    /// flight get up to `grace` to finish (a request arriving meanwhile on a kept-alive
    /// connection is still answered, with `Connection: close`), then every connection closes.
    pub async fn drain(self, grace: Duration) -> Drained {
        self.conns.begin_drain();
        let _ = self.commands.send(Command::Drain(grace));
        self.task.await.unwrap_or(Drained { abandoned: 0 })
    }
}
