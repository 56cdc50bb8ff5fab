//! The relay's link to Redis — one server, the master of a Sentinel-managed set, or a Cluster —
//! behind a circuit breaker.
//!
//! Every Redis command goes through [`RedisLink::run`]. A failure (refused, reset, timed out, or an
//! error reply) opens the breaker: from then on commands fail at once with [`RedisDown`] without
//! touching the network, so callers fall back to their local path in microseconds instead of
//! waiting out `redis_timeout_ms` on every request. A background task probes Redis every
//! `redis_probe_interval_ms` (reconnecting, and asking the sentinels where the master is now);
//! the first successful probe closes the breaker.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{AsyncConnectionConfig, ConnectionAddr, FromRedisValue, IntoConnectionInfo};

use crate::metrics::Metrics;

/// A Redis failure (down, timed out, an error reply, or the breaker is open).
#[derive(Debug)]
pub struct RedisDown;

/// Where the shared state lives, from `redis_url`. (No `Debug`: the URLs may hold a password.)
#[derive(PartialEq, Eq)]
pub enum Target {
    /// `redis://…` or `unix://…`: one server (the URL as the redis crate reads it).
    Single(String),
    /// `redis+sentinel://[[user]:password@]host:port[,host:port…]/service[/db]`: the master of
    /// `service`, as the sentinels report it.
    Sentinel {
        /// The sentinels.
        sentinels: Vec<(String, u16)>,
        /// The monitored master's name (`sentinel monitor <name> …`).
        service: String,
        /// `redis://[auth@]host:port[/db]`: the credentials and database for the master (not
        /// for the sentinels), read by the redis crate like any Redis URL.
        settings: String,
    },
    /// `redis+cluster://[[user]:password@]host:port[,host:port…]`: seed nodes of a Cluster, each
    /// as a `redis://[auth@]host:port` URL.
    Cluster(Vec<String>),
}

impl Target {
    /// Reads `redis_url`. Errors never quote the URL (it may hold a password).
    pub fn parse(url: &str) -> Result<Target, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or("redis_url: expected scheme://…")?;
        let sentinel = match scheme {
            "redis+sentinel" => true,
            "redis+cluster" => false,
            _ => return Ok(Target::Single(url.to_owned())),
        };
        let (auth, rest) = match rest.rsplit_once('@') {
            Some((a, r)) => (format!("{a}@"), r),
            None => (String::new(), rest),
        };
        let (hosts, path) = rest.split_once('/').unwrap_or((rest, ""));
        let mut addrs = Vec::new();
        for h in hosts.split(',') {
            let (host, port) = h
                .rsplit_once(':')
                .ok_or_else(|| format!("redis_url ({scheme}): each node needs host:port"))?;
            let port = port
                .parse::<u16>()
                .map_err(|_| format!("redis_url ({scheme}): bad port"))?;
            if host.is_empty() {
                return Err(format!("redis_url ({scheme}): empty host"));
            }
            addrs.push((host.to_owned(), port));
        }
        let url_of =
            |(host, port): &(String, u16), db: &str| format!("redis://{auth}{host}:{port}{db}");
        let mut segments = path.split('/').filter(|s| !s.is_empty());
        if sentinel {
            let service = segments
                .next()
                .ok_or("redis_url (redis+sentinel): the master name is missing (…/mymaster)")?;
            let db = segments.next().map(|d| format!("/{d}")).unwrap_or_default();
            if segments.next().is_some() {
                return Err("redis_url (redis+sentinel): expected …/master[/db]".into());
            }
            Ok(Target::Sentinel {
                settings: url_of(&addrs[0], &db),
                sentinels: addrs,
                service: service.to_owned(),
            })
        } else {
            if segments.next().is_some() {
                return Err("redis_url (redis+cluster): a cluster has no database number".into());
            }
            Ok(Target::Cluster(
                addrs.iter().map(|a| url_of(a, "")).collect(),
            ))
        }
    }
}

/// How to open a connection, built once from the [`Target`].
enum Connector {
    Single(redis::Client),
    Sentinel(tokio::sync::Mutex<SentinelClient>),
    Cluster(ClusterClient),
}

/// An open connection (both kinds are cheap clones of a multiplexed pipeline).
#[derive(Clone)]
enum Conn {
    Plain(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl Conn {
    async fn query<T: FromRedisValue>(&mut self, cmd: &redis::Cmd) -> redis::RedisResult<T> {
        match self {
            Conn::Plain(c) => cmd.query_async(c).await,
            Conn::Cluster(c) => cmd.query_async(c).await,
        }
    }
}

struct Inner {
    connector: Connector,
    timeout: Duration,
    probe_interval: Duration,
    conn: RwLock<Option<Conn>>,
    connecting: tokio::sync::Mutex<()>,
    open: AtomicBool,
    metrics: Arc<Metrics>,
}

/// Redis behind the circuit breaker.
pub struct RedisLink {
    inner: Arc<Inner>,
}

impl RedisLink {
    /// A link to `target` (connected on first use). `timeout` bounds one command (and one
    /// connection attempt); `probe_interval` is the back-off between probes while open.
    pub fn new(
        target: Target,
        timeout: Duration,
        probe_interval: Duration,
        metrics: Arc<Metrics>,
    ) -> Result<RedisLink, String> {
        let connector = match target {
            Target::Single(url) => Connector::Single(
                redis::Client::open(url.as_str()).map_err(|e| format!("redis_url: {e}"))?,
            ),
            Target::Sentinel {
                sentinels,
                service,
                settings,
            } => {
                let info = settings
                    .as_str()
                    .into_connection_info()
                    .map_err(|e| format!("redis_url: {e}"))?;
                let master = info.redis_settings();
                let addrs = sentinels
                    .into_iter()
                    .map(|(h, p)| ConnectionAddr::Tcp(h, p));
                let mut b = SentinelClientBuilder::new(addrs, service, SentinelServerType::Master)
                    .map_err(|e| format!("redis_url: {e}"))?
                    .set_client_to_redis_db(master.db());
                if let Some(u) = master.username() {
                    b = b.set_client_to_redis_username(u);
                }
                if let Some(p) = master.password() {
                    b = b.set_client_to_redis_password(p);
                }
                Connector::Sentinel(tokio::sync::Mutex::new(
                    b.build().map_err(|e| format!("redis_url: {e}"))?,
                ))
            }
            Target::Cluster(nodes) => Connector::Cluster(
                ClusterClientBuilder::new(nodes)
                    .connection_timeout(timeout)
                    .response_timeout(timeout)
                    .retries(1)
                    .build()
                    .map_err(|e| format!("redis_url: {e}"))?,
            ),
        };
        metrics.set_redis_up(true);
        Ok(RedisLink {
            inner: Arc::new(Inner {
                connector,
                timeout,
                probe_interval,
                conn: RwLock::new(None),
                connecting: tokio::sync::Mutex::new(()),
                open: AtomicBool::new(false),
                metrics,
            }),
        })
    }

    /// Whether the breaker is open (Redis is being skipped).
    pub fn is_open(&self) -> bool {
        self.inner.open.load(Ordering::Acquire)
    }

    /// Runs one command. Fails at once while the breaker is open; a failure opens it.
    pub async fn run<T: FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, RedisDown> {
        let inner = &self.inner;
        if self.is_open() {
            inner.metrics.redis_skipped();
            return Err(RedisDown);
        }
        let res = tokio::time::timeout(inner.timeout, async {
            let mut conn = inner.conn().await?;
            inner.metrics.redis_command();
            conn.query::<T>(cmd).await
        })
        .await;
        match res {
            Ok(Ok(v)) => Ok(v),
            _ => {
                self.trip();
                Err(RedisDown)
            }
        }
    }

    /// Opens the breaker (once) and starts the background probe.
    fn trip(&self) {
        let inner = &self.inner;
        inner.metrics.redis_failure();
        if inner.open.swap(true, Ordering::AcqRel) {
            return;
        }
        *inner.conn.write().unwrap_or_else(|e| e.into_inner()) = None;
        inner.metrics.set_redis_up(false);
        tokio::spawn(probe(Arc::downgrade(inner)));
    }
}

impl Inner {
    /// The open connection, or a new one.
    async fn conn(&self) -> redis::RedisResult<Conn> {
        if let Some(c) = self.current() {
            return Ok(c);
        }
        let _one_at_a_time = self.connecting.lock().await;
        if let Some(c) = self.current() {
            return Ok(c);
        }
        let c = self.connect().await?;
        *self.conn.write().unwrap_or_else(|e| e.into_inner()) = Some(c.clone());
        Ok(c)
    }

    fn current(&self) -> Option<Conn> {
        self.conn.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn connect(&self) -> redis::RedisResult<Conn> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        Ok(match &self.connector {
            Connector::Single(client) => Conn::Plain(
                client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await?,
            ),
            Connector::Sentinel(client) => Conn::Plain(
                client
                    .lock()
                    .await
                    .get_async_connection_with_config(&config)
                    .await?,
            ),
            Connector::Cluster(client) => Conn::Cluster(client.get_async_connection().await?),
        })
    }
}

/// While the breaker is open: every `probe_interval`, connect afresh and PING; close the
/// breaker on the first success. Ends when the link is dropped.
async fn probe(link: Weak<Inner>) {
    loop {
        let interval = match link.upgrade() {
            Some(inner) => inner.probe_interval,
            None => return,
        };
        tokio::time::sleep(interval).await;
        let Some(inner) = link.upgrade() else {
            return;
        };
        // Connecting through Sentinel asks the sentinels and then the master, so allow a few
        // round trips.
        let bound = inner.timeout.saturating_mul(4);
        let attempt = tokio::time::timeout(bound, async {
            let mut conn = inner.connect().await?;
            conn.query::<String>(&redis::cmd("PING")).await?;
            Ok::<Conn, redis::RedisError>(conn)
        })
        .await;
        let ok = matches!(attempt, Ok(Ok(_)));
        inner.metrics.redis_probe(ok);
        if let Ok(Ok(conn)) = attempt {
            *inner.conn.write().unwrap_or_else(|e| e.into_inner()) = Some(conn);
            inner.open.store(false, Ordering::Release);
            inner.metrics.set_redis_up(true);
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_kinds() {
        let single = "redis://127.0.0.1:6379/0";
        assert!(Target::parse(single).unwrap() == Target::Single(single.into()));
        let Target::Sentinel {
            sentinels,
            service,
            settings,
        } = Target::parse("redis+sentinel://:p%40ss@10.0.0.1:26379,10.0.0.2:26380/mymaster/2")
            .unwrap()
        else {
            panic!("not a sentinel target");
        };
        assert_eq!(
            sentinels,
            vec![
                ("10.0.0.1".to_owned(), 26379),
                ("10.0.0.2".to_owned(), 26380)
            ]
        );
        assert_eq!(service, "mymaster");
        let master = settings.as_str().into_connection_info().unwrap();
        let master = master.redis_settings();
        assert_eq!((master.db(), master.password()), (2, Some("p@ss")));
        let Target::Cluster(nodes) =
            Target::parse("redis+cluster://relay:pw@h1:7000,h2:7001").unwrap()
        else {
            panic!("not a cluster target");
        };
        assert_eq!(
            nodes,
            ["redis://relay:pw@h1:7000", "redis://relay:pw@h2:7001"]
        );
    }

    #[test]
    fn refuses_bad_urls_without_echoing_them() {
        for bad in [
            "redis+sentinel://:secret-pw@h1:1",
            "redis+sentinel://:secret-pw@h1/m",
            "redis+sentinel://:secret-pw@h1:x/m",
            "redis+cluster://:secret-pw@h1:1/0",
        ] {
            let Err(e) = Target::parse(bad) else {
                panic!("accepted a bad redis_url");
            };
            assert!(!e.contains("secret"), "{e}");
        }
    }
}
