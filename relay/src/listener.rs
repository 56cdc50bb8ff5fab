//! The listener and its connections: the connection cap (shedding the longest-idle connection
//! when full), the header-read and idle keep-alive timeouts, back-off on accept errors such as
//! EMFILE, and the graceful drain (hyper-util's `GracefulShutdown`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, header};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::config::ConnectionLimits;
use crate::metrics::{Closed, Metrics};
use crate::server::Peer;

/// Connections served at once when `max_connections` is not set (and the open-file limit
/// allows it).
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Descriptors kept free for everything but client connections (Redis, upstream connections,
/// the audit log, the token file): at least this many, or an eighth of the limit.
const RESERVED_FDS: u64 = 64;
/// First and longest pause after a failed `accept`.
const BACKOFF_MIN: Duration = Duration::from_millis(1);
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// Idle connections closed when `accept` runs out of descriptors.
const SHED_ON_EMFILE: usize = 8;

/// The soft limit on open files of this process, if it can be read.
pub fn open_file_limit() -> Option<u64> {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `rl` is a valid, writable `rlimit` for the duration of the call.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) };
    (rc == 0).then_some(rl.rlim_cur)
}

/// Raises the soft open-file limit to the hard limit (as most servers do at start); returns
/// the soft limit in force afterwards.
pub fn raise_open_file_limit() -> Option<u64> {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `rl` is a valid, writable `rlimit` for the duration of the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } != 0 {
        return None;
    }
    if rl.rlim_cur < rl.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: rl.rlim_max,
            rlim_max: rl.rlim_max,
        };
        // SAFETY: `raised` is a valid `rlimit`; raising the soft limit up to the hard limit
        // needs no privilege, and a refusal leaves the old limit in force.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return Some(raised.rlim_cur);
        }
    }
    Some(rl.rlim_cur)
}

/// The connection cap: `configured` if set, else the default, bounded by what the open-file
/// limit `nofile` leaves after the reserve.
pub fn connection_cap(configured: Option<usize>, nofile: Option<u64>) -> usize {
    if let Some(n) = configured {
        return n;
    }
    let budget = nofile.map_or(usize::MAX, |n| {
        let reserve = RESERVED_FDS.max(n / 8);
        usize::try_from(n.saturating_sub(reserve)).unwrap_or(usize::MAX)
    });
    DEFAULT_MAX_CONNECTIONS.min(budget).max(1)
}

/// What a connection is doing, for its timeouts and for shedding.
const HEAD: u8 = 0;
const BUSY: u8 = 1;
const IDLE: u8 = 2;

/// One connection's state, shared by its reader, its service and its watchdog.
struct Conn {
    phase: AtomicU8,
    /// Microseconds (on the listener's clock) when the phase began.
    since_us: AtomicU64,
    /// Set when the connection is chosen to make room.
    shed: AtomicBool,
    /// Wakes the watchdog: shed, or a new request began after an idle period.
    wake: Notify,
}

impl Conn {
    fn enter(&self, phase: u8, now_us: u64) {
        self.since_us.store(now_us, Ordering::Relaxed);
        self.phase.store(phase, Ordering::Release);
    }
}

/// The connections of one listener, and the drain state the API reads.
pub struct Connections {
    limits: ConnectionLimits,
    cap: usize,
    epoch: Instant,
    open: Mutex<HashMap<u64, Arc<Conn>>>,
    /// Open connections told to close that have not closed yet.
    shedding: AtomicUsize,
    next_id: AtomicU64,
    in_flight: AtomicUsize,
    quiet: Notify,
    draining: AtomicBool,
    metrics: Arc<Metrics>,
}

impl Connections {
    /// Connections bounded by `limits`, at most `cap` at once.
    pub fn new(limits: ConnectionLimits, cap: usize, metrics: Arc<Metrics>) -> Connections {
        Connections {
            limits,
            cap,
            epoch: Instant::now(),
            open: Mutex::new(HashMap::new()),
            shedding: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            quiet: Notify::new(),
            draining: AtomicBool::new(false),
            metrics,
        }
    }

    /// The connection cap in force.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// True once a drain began: `/readyz` answers 503 and every answer closes its connection.
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    fn now_us(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    fn at(&self, us: u64) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.epoch + Duration::from_micros(us))
    }

    fn register(&self) -> (u64, Arc<Conn>) {
        let conn = Arc::new(Conn {
            phase: AtomicU8::new(HEAD),
            since_us: AtomicU64::new(self.now_us()),
            shed: AtomicBool::new(false),
            wake: Notify::new(),
        });
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let n = {
            let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
            open.insert(id, Arc::clone(&conn));
            open.len()
        };
        self.metrics.set_connections(n);
        (id, conn)
    }

    fn unregister(&self, id: u64) {
        let n = {
            let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = open.remove(&id) {
                self.unshed(&c);
            }
            open.len()
        };
        self.metrics.set_connections(n);
    }

    /// Clears the shed mark of `c` (it closed, or it turned out to be serving a request).
    fn unshed(&self, c: &Conn) {
        if c.shed.swap(false, Ordering::AcqRel) {
            self.shedding.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Open connections not already told to close.
    fn staying(&self) -> usize {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner()).len();
        open.saturating_sub(self.shedding.load(Ordering::Acquire))
    }

    /// Tells up to `n` connections that are not serving a request, longest-idle first, to
    /// close. Returns how many were told.
    fn shed(&self, n: usize) -> usize {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let mut idle: Vec<(u64, &Arc<Conn>)> = open
            .values()
            .filter(|c| c.phase.load(Ordering::Acquire) != BUSY && !c.shed.load(Ordering::Acquire))
            .map(|c| (c.since_us.load(Ordering::Relaxed), c))
            .collect();
        let n = n.min(idle.len());
        if n == 0 {
            return 0;
        }
        idle.select_nth_unstable_by_key(n - 1, |(since, _)| *since);
        for (_, c) in &idle[..n] {
            if !c.shed.swap(true, Ordering::AcqRel) {
                self.shedding.fetch_add(1, Ordering::AcqRel);
            }
            c.wake.notify_one();
        }
        n
    }

    /// A request began on `conn`.
    fn begin(self: &Arc<Self>, conn: &Arc<Conn>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        conn.enter(BUSY, self.now_us());
        InFlight {
            conns: Arc::clone(self),
            conn: Arc::clone(conn),
        }
    }

    /// Resolves once no request is in flight.
    async fn quiet(&self) {
        loop {
            let notified = self.quiet.notified();
            if self.in_flight.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Closes the connection when its current phase outlives its timeout, or when it is shed
    /// while not serving a request. Returns why it closed.
    ///
    /// It sleeps until the deadline of the phase it saw. A phase that begins later has a later
    /// deadline, except a header (after an idle period: the reader wakes it) and an idle
    /// period that follows a header when the idle timeout is the shorter (it never sleeps
    /// longer than the idle timeout).
    async fn watchdog(&self, conn: &Conn) -> Closed {
        let us = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let (header, idle) = (
            us(self.limits.header_read_timeout),
            us(self.limits.idle_timeout),
        );
        loop {
            if conn.shed.load(Ordering::Acquire) {
                if conn.phase.load(Ordering::Acquire) != BUSY {
                    return Closed::Shed;
                }
                self.unshed(conn);
            }
            let phase = conn.phase.load(Ordering::Acquire);
            let since = conn.since_us.load(Ordering::Relaxed);
            let now = self.now_us();
            let (deadline, reason) = match phase {
                HEAD => (since.saturating_add(header), Closed::HeaderTimeout),
                IDLE => (since.saturating_add(idle), Closed::IdleTimeout),
                _ => (u64::MAX, Closed::Normal),
            };
            if now >= deadline {
                return reason;
            }
            let wake = deadline.min(now.saturating_add(idle));
            tokio::select! {
                () = tokio::time::sleep_until(self.at(wake)) => {}
                () = conn.wake.notified() => {}
            }
        }
    }
}

/// A request in flight; dropping it marks the connection idle.
struct InFlight {
    conns: Arc<Connections>,
    conn: Arc<Conn>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.conn.enter(IDLE, self.conns.now_us());
        if self.conns.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.conns.quiet.notify_waiters();
        }
    }
}

/// The socket, noting the first byte of each request that follows an idle period (from then
/// on the header-read timeout applies instead of the idle timeout).
struct Watched<S> {
    inner: S,
    conn: Arc<Conn>,
    conns: Arc<Connections>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before && self.conn.phase.load(Ordering::Acquire) == IDLE {
            self.conn.enter(HEAD, self.conns.now_us());
            self.conn.wake.notify_one();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// What the accept loop is told to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Command {
    Serve,
    /// Stop accepting and close every connection now.
    Stop,
    /// Stop accepting, let requests in flight finish within the grace period, then close.
    Drain(Duration),
}

/// How a drain ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Drained {
    /// Requests still in flight when the grace period ran out (0: nothing was cut off).
    pub abandoned: usize,
}

/// Accepts until told otherwise, then stops or drains.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: axum::Router,
    conns: Arc<Connections>,
    mut commands: watch::Receiver<Command>,
) -> Drained {
    let graceful = GracefulShutdown::new();
    let mut tasks = JoinSet::new();
    let mut backoff = BACKOFF_MIN;
    let command = loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = commands.changed() => break *commands.borrow(),
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        match accepted {
            Ok((tcp, addr)) => {
                backoff = BACKOFF_MIN;
                if conns.staying() >= conns.cap {
                    if conns.shed(1) == 0 {
                        // Every connection is serving a request: refuse this one.
                        conns.metrics.closed(Closed::Refused);
                        drop(tcp);
                        continue;
                    }
                    // Let the shed connection close (and free its descriptor) first.
                    tokio::task::yield_now().await;
                }
                let _ = tcp.set_nodelay(true);
                // Registered here, not in the task, so the next accept already counts it.
                let (id, conn) = conns.register();
                tasks.spawn(connection(
                    id,
                    conn,
                    tcp,
                    addr,
                    tls.clone(),
                    router.clone(),
                    Arc::clone(&conns),
                    graceful.watcher(),
                ));
            }
            Err(e) => {
                // Out of descriptors (or memory): make room by closing idle connections, and
                // pause instead of spinning on a listener that stays readable.
                conns.metrics.accept_error();
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
                ) {
                    conns.shed(SHED_ON_EMFILE);
                }
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = commands.changed() => break *commands.borrow(),
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    };
    drop(listener);
    let grace = match command {
        Command::Drain(grace) => grace,
        Command::Stop | Command::Serve => Duration::ZERO,
    };
    let deadline = tokio::time::Instant::now() + grace;
    // Requests in flight finish; idle kept-alive connections stay open meanwhile, so a
    // request that arrives on one is still answered (with `Connection: close`).
    let quiet = tokio::time::timeout_at(deadline, conns.quiet())
        .await
        .is_ok();
    let abandoned = if quiet
        && tokio::time::timeout_at(deadline, graceful.shutdown())
            .await
            .is_ok()
    {
        0
    } else {
        conns.in_flight.load(Ordering::Acquire)
    };
    tasks.shutdown().await;
    Drained { abandoned }
}

/// One connection: the TLS handshake if any, then HTTP/1.1 until the client closes, a timeout
/// or shedding closes it, or the drain ends it.
#[allow(clippy::too_many_arguments)]
async fn connection(
    id: u64,
    conn: Arc<Conn>,
    tcp: TcpStream,
    addr: SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: axum::Router,
    conns: Arc<Connections>,
    watcher: Watcher,
) {
    let io = Watched {
        inner: tcp,
        conn: Arc::clone(&conn),
        conns: Arc::clone(&conns),
    };
    let serve = async {
        match tls {
            None => {
                let peer = Peer {
                    addr,
                    cert_device: None,
                };
                serve(io, router, peer, &conns, &conn, watcher).await;
            }
            Some(acceptor) => {
                let Ok(stream) = acceptor.accept(io).await else {
                    return;
                };
                let cert_device = stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .and_then(crate::tls::device_id);
                let peer = Peer { addr, cert_device };
                serve(stream, router, peer, &conns, &conn, watcher).await;
            }
        }
    };
    tokio::pin!(serve);
    let closed = tokio::select! {
        () = &mut serve => Closed::Normal,
        reason = conns.watchdog(&conn) => reason,
    };
    // Counted before the socket closes, so whoever sees it closed also sees it counted.
    conns.metrics.closed(closed);
    conns.unregister(id);
    // `serve` (holding the socket) is dropped here, at the end of the scope.
}

async fn serve<S>(
    io: S,
    router: axum::Router,
    peer: Peer,
    conns: &Arc<Connections>,
    conn: &Arc<Conn>,
    watcher: Watcher,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let conns = Arc::clone(conns);
    let conn = Arc::clone(conn);
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(peer.clone());
        let in_flight = conns.begin(&conn);
        let mut router = router.clone();
        async move {
            let mut resp = tower_service::Service::call(&mut router, req).await?;
            if in_flight.conns.draining() {
                resp.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            drop(in_flight);
            Ok::<_, Infallible>(resp)
        }
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    // The header-read and idle timeouts are the watchdog's (hyper's own timer would start
    // the header timeout at the end of the previous response, merging the two).
    http.keep_alive(true).header_read_timeout(None);
    let _ = watcher
        .watch(http.serve_connection(TokioIo::new(io), svc))
        .await;
}

impl Connections {
    /// Marks the drain as begun (before the accept loop is told, so `/readyz` flips first).
    pub(crate) fn begin_drain(&self) {
        self.draining.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_follows_the_open_file_limit_unless_configured() {
        assert_eq!(connection_cap(None, Some(256)), 192);
        assert_eq!(connection_cap(None, Some(1024)), 896);
        assert_eq!(connection_cap(None, Some(1 << 20)), DEFAULT_MAX_CONNECTIONS);
        assert_eq!(connection_cap(None, None), DEFAULT_MAX_CONNECTIONS);
        assert_eq!(connection_cap(Some(1000), Some(256)), 1000);
        assert_eq!(connection_cap(None, Some(10)), 1);
    }
}
