//! HTTPS transport: one ureq agent per client (so connections are reused), bounded reads and a
//! precise error for each way the exchange can fail.

use std::io::{self, Read};
use std::time::{Duration, SystemTime};

use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, NextTimeout, TcpConnector, Transport as Conn,
};
use zeroize::Zeroize;

use zeroize::Zeroizing;

use std::sync::Arc;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::net::proxy::{ProxyHandshake, ProxyRefused, ProxyResolver};
use crate::net::tls;

/// A raw HTTP answer that reached us in full.
pub(crate) struct HttpResponse {
    /// Wiped when dropped (it holds the authinfo).
    pub body: Zeroizing<Vec<u8>>,
    /// The response's `Date` header, when present and well-formed.
    pub date: Option<SystemTime>,
}

pub(crate) struct Transport {
    agent: ureq::Agent,
    max_body: u64,
}

impl Transport {
    pub(crate) fn new(config: &Config, max_body: u64) -> Transport {
        // One trust store and one TLS configuration for every connection of this client.
        let tls = tls::backend::TlsConnector::new(
            &tls::Roots {
                bundled: config.trust.builtin,
                extra: config.trust.extra.clone(),
            },
            config.relay.as_ref().and_then(|r| r.client_identity()),
        );
        let mut builder = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .timeout_connect(Some(config.connect_timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            // Enough idle connections per host for every thread sharing the client (ureq keeps
            // 3 by default: a fourth thread's connection would be closed and reopened), and
            // for each base URL.
            .max_idle_connections_per_host(config.max_idle_connections as usize)
            .max_idle_connections(
                (config.max_idle_connections as usize) * (1 + config.fallback_urls.len()),
            )
            .user_agent(concat!("wxface/", env!("CARGO_PKG_VERSION")));
        // No proxy for ureq itself: it would read the environment's proxy variables, and keep
        // the credentials in memory nobody wipes. The configured proxy is handled by
        // `crate::net::proxy` inside the connector chain instead.
        builder = builder.proxy(None);
        let proxy = config.proxy.clone().map(Arc::new);
        // TCP (to the proxy when there is one), the proxy handshake, TLS; each layer's buffers
        // (which hold the proxy credentials, the signed body with the rawdata, and the answer
        // with the authinfo) wiped before they are freed.
        let connector =
            ().chain(TcpConnector::default())
                .chain(WipeBuffers)
                .chain(ProxyHandshake(proxy.clone()))
                .chain(tls)
                .chain(WipeBuffers);
        let agent = ureq::Agent::with_parts(builder.build(), connector, ProxyResolver::new(proxy));
        Transport { agent, max_body }
    }

    /// POSTs `body` as `text/xml; charset=utf-8` within `timeout` and reads at most `max_body`
    /// bytes of a 200 answer; any other status is [`Error::HttpStatus`] and its body is not
    /// read.
    pub(crate) fn post_xml(
        &self,
        url: &str,
        body: &str,
        timeout: Duration,
    ) -> Result<HttpResponse> {
        let mut response = self
            .agent
            .post(url)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("Accept", "text/xml, application/xml")
            .send(body)
            .map_err(map_error)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(Error::HttpStatus(status));
        }
        let date = response
            .headers()
            .get("date")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok());
        let body = self.read_body(&mut response)?;
        Ok(HttpResponse { body, date })
    }
}

/// Wraps each connection so its buffers are wiped when it is dropped (closed, evicted from
/// the pool, or the agent freed).
#[derive(Debug)]
struct WipeBuffers;

impl<In: Conn> Connector<In> for WipeBuffers {
    type Out = WipedOnDrop;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<In>,
    ) -> std::result::Result<Option<WipedOnDrop>, ureq::Error> {
        Ok(chained.map(|t| WipedOnDrop(Box::new(t))))
    }
}

/// A connection whose input and output buffers are zeroed on drop.
#[derive(Debug)]
struct WipedOnDrop(Box<dyn Conn>);

impl Conn for WipedOnDrop {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.0.buffers()
    }
    fn transmit_output(
        &mut self,
        amount: usize,
        timeout: NextTimeout,
    ) -> std::result::Result<(), ureq::Error> {
        self.0.transmit_output(amount, timeout)
    }
    fn maybe_await_input(
        &mut self,
        timeout: NextTimeout,
    ) -> std::result::Result<bool, ureq::Error> {
        self.0.maybe_await_input(timeout)
    }
    fn await_input(&mut self, timeout: NextTimeout) -> std::result::Result<bool, ureq::Error> {
        self.0.await_input(timeout)
    }
    fn is_open(&mut self) -> bool {
        self.0.is_open()
    }
    fn is_tls(&self) -> bool {
        self.0.is_tls()
    }
}

impl Drop for WipedOnDrop {
    fn drop(&mut self) {
        let buffers = self.0.buffers();
        // Consuming all input makes the whole input buffer the free (appendable) part.
        let unread = buffers.input().len();
        buffers.input_consume(unread);
        buffers.input_append_buf().zeroize();
        buffers.output().zeroize();
    }
}

impl Transport {
    /// Reads at most `max_body` bytes of an answer into a buffer allocated once at full size:
    /// a growing one would leave partial copies of the answer in freed memory.
    fn read_body(
        &self,
        response: &mut ureq::http::Response<ureq::Body>,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let mut body = Zeroizing::new(Vec::with_capacity(
            usize::try_from(self.max_body).map_or(usize::MAX, |n| n.saturating_add(1)),
        ));
        let mut reader = response
            .body_mut()
            .with_config()
            .limit(self.max_body)
            .reader();
        reader.read_to_end(&mut body).map_err(|e| {
            match e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
                Some(ureq::Error::BodyExceedsLimit(limit)) => {
                    Error::BadResponse(format!("the response body exceeds {limit} bytes"))
                }
                Some(ureq::Error::Timeout(_)) => {
                    Error::Timeout("no complete answer within the attempt's time".into())
                }
                _ => map_io(e),
            }
        })?;
        Ok(body)
    }

    /// POSTs a JSON `body` (relay mode) with an optional bearer token within `timeout`, and
    /// reads at most `max_body` bytes of the answer whatever its status: the relay explains
    /// its failures in JSON.
    pub(crate) fn post_json(
        &self,
        url: &str,
        body: &str,
        bearer: Option<&str>,
        timeout: Duration,
    ) -> Result<(u16, Zeroizing<Vec<u8>>)> {
        let mut request = self
            .agent
            .post(url)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .header("Content-Type", "application/json")
            .header("Accept", "application/json");
        if let Some(token) = bearer {
            request = request.header("Authorization", bearer_header(token)?);
        }
        let mut response = request.send(body).map_err(map_error)?;
        let status = response.status().as_u16();
        Ok((status, self.read_body(&mut response)?))
    }
}

/// `Bearer <token>` as a header value whose bytes are wiped when ureq drops its last copy
/// (ureq frees the request's headers itself, after the call): written once into a buffer of
/// the right size, shared with ureq without a copy.
fn bearer_header(token: &str) -> Result<ureq::http::HeaderValue> {
    let mut value = Vec::with_capacity("Bearer ".len() + token.len());
    value.extend_from_slice(b"Bearer ");
    value.extend_from_slice(token.as_bytes());
    // The token was checked when the configuration was built (printable ASCII, no space).
    ureq::http::HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(WipedOnFree(value)))
        .map_err(|_| Error::invalid("relay_token", "is not a valid HTTP header value"))
}

/// Bytes wiped when freed, for [`bytes::Bytes::from_owner`].
struct WipedOnFree(Vec<u8>);

impl AsRef<[u8]> for WipedOnFree {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for WipedOnFree {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

pub(crate) fn map_error(e: ureq::Error) -> Error {
    use ureq::Error as U;
    match e {
        U::Timeout(ureq::Timeout::Connect) => Error::Timeout("the connect timeout expired".into()),
        U::Timeout(_) => Error::Timeout("no complete answer within the attempt's time".into()),
        U::HostNotFound => Error::Network("host not found (DNS)".into()),
        U::ConnectionFailed => Error::Network("connection failed".into()),
        U::Io(io) => map_io(io),
        U::Tls(m) => Error::Tls(m.to_owned()),
        U::StatusCode(code) => Error::HttpStatus(code),
        U::BodyExceedsLimit(limit) => {
            Error::BadResponse(format!("the response body exceeds {limit} bytes"))
        }
        U::LargeResponseHeader(..) => {
            Error::BadResponse("the response headers are too large".into())
        }
        U::Protocol(e) => Error::BadResponse(format!("not a valid HTTP response: {e}")),
        U::TooManyRedirects | U::RedirectFailed => {
            Error::BadResponse("the server answered with a redirect".into())
        }
        U::ConnectProxyFailed(m) => Error::Network(format!("proxy: {m}")),
        other => Error::Network(other.to_string()),
    }
}

/// TLS failures by their type (the TLS backend's error, wherever ureq wrapped it), then the
/// I/O failures by their kind.
fn map_io(e: io::Error) -> Error {
    if let Some(m) = e.get_ref().and_then(|inner| tls::describe(inner)) {
        return Error::Tls(m);
    }
    if let Some(r) = e.get_ref().and_then(|i| i.downcast_ref::<ProxyRefused>()) {
        return Error::HttpRefused {
            status: r.status,
            reason: r.reason.to_owned(),
        };
    }
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            Error::Timeout("socket timed out".into())
        }
        io::ErrorKind::ConnectionRefused => Error::Network("connection refused".into()),
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => Error::Network(format!("connection lost: {e}")),
        io::ErrorKind::UnexpectedEof => {
            Error::Network("the connection closed before the full response arrived".into())
        }
        _ => Error::Network(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_name_the_bound_that_expired() {
        let attempt = map_error(ureq::Error::Timeout(ureq::Timeout::Global));
        assert_eq!(
            attempt,
            Error::Timeout("no complete answer within the attempt's time".into())
        );
        let connect = map_error(ureq::Error::Timeout(ureq::Timeout::Connect));
        assert_eq!(
            connect,
            Error::Timeout("the connect timeout expired".into())
        );
        assert!(!attempt.to_string().contains("global"));
    }
}
