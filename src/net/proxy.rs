//! Proxies, done here rather than by the HTTP client so the credentials stay in memory that is
//! wiped: the URL is parsed into [`ProxySetting`] (user name and password in `Zeroizing`), the
//! HTTP CONNECT and SOCKS5 handshakes are written into connection buffers that are wiped on
//! drop, and the target's host name is always resolved by the proxy, never locally. Only the
//! configured proxy is used; the environment's proxy variables are never read.

use std::fmt;
use std::io::{Read, Write};
use std::net::IpAddr;
use std::sync::Arc;

use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    ConnectionDetails, Connector, NextTimeout, Transport as Conn, TransportAdapter,
};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The proxy protocols supported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProxyKind {
    /// HTTP `CONNECT` tunnel.
    HttpConnect,
    /// SOCKS5 with host names resolved by the proxy.
    Socks5,
}

/// A validated proxy. `Debug` shows the kind, host and port, never the credentials.
#[derive(Clone)]
pub(crate) struct ProxySetting {
    kind: ProxyKind,
    /// Host name or IP address (IPv6 without brackets).
    host: String,
    port: u16,
    username: Option<Zeroizing<String>>,
    password: Option<Zeroizing<String>>,
}

impl fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Proxy({:?} {}:{}{})",
            self.kind,
            self.host,
            self.port,
            if self.username.is_some() || self.password.is_some() {
                " with credentials"
            } else {
                ""
            }
        )
    }
}

impl ProxySetting {
    /// Parses `scheme://[user[:password]@]host[:port][/]` (`http`, or `socks5`/`socks5h`);
    /// `username`/`password` given separately replace those of the URL. Errors never echo the
    /// URL (it may carry a password).
    pub(crate) fn parse(
        url: &str,
        username: Option<&str>,
        password: Option<&str>,
    ) -> Result<ProxySetting> {
        let err = |reason: &str| Error::invalid("proxy", reason.to_owned());
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| err("must be http://host:port or socks5://host:port"))?;
        let (kind, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "http" => (ProxyKind::HttpConnect, 80),
            "socks5" | "socks5h" => (ProxyKind::Socks5, 1080),
            _ => {
                return Err(err(
                    "scheme must be http (HTTP CONNECT) or socks5; https and socks4 proxies are not supported",
                ));
            }
        };
        let invalid = || err("is not a valid proxy URL");
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#']) || authority.is_empty() {
            return Err(invalid());
        }
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (ip, after) = v6.split_once(']').ok_or_else(invalid)?;
            ip.parse::<std::net::Ipv6Addr>().map_err(|_| invalid())?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(invalid)?),
            };
            (ip, port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        let valid_host = !host.is_empty()
            && host.len() <= 253
            && (host.parse::<IpAddr>().is_ok()
                || host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'));
        if !valid_host {
            return Err(invalid());
        }
        let port = match port {
            None => default_port,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&n| n != 0 && n.to_string() == p)
                .ok_or_else(invalid)?,
        };
        let (mut user, mut pass) = match userinfo {
            None => (None, None),
            Some(info) => {
                let (u, p) = match info.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (info, None),
                };
                let u = percent_decode(u).ok_or_else(invalid)?;
                let p = match p {
                    Some(p) => Some(percent_decode(p).ok_or_else(invalid)?),
                    None => None,
                };
                (Some(u), p)
            }
        };
        if let Some(u) = username {
            user = Some(Zeroizing::new(u.to_owned()));
            pass = password.map(|p| Zeroizing::new(p.to_owned()));
        }
        let too_long = |s: &Option<Zeroizing<String>>| s.as_ref().is_some_and(|s| s.len() > 255);
        if too_long(&user) || too_long(&pass) || user.as_ref().is_some_and(|u| u.contains(':')) {
            return Err(err("the proxy credentials are not acceptable"));
        }
        Ok(ProxySetting {
            kind,
            host: host.to_owned(),
            port,
            username: user,
            password: pass,
        })
    }

    /// The proxy's address as a URI the resolver understands.
    fn uri(&self) -> std::result::Result<Uri, ureq::Error> {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("http://{host}:{}", self.port)
            .parse::<Uri>()
            .map_err(|_| ureq::Error::ConnectProxyFailed("the proxy address is invalid".into()))
    }
}

/// Percent-decodes into wiped memory; `None` for a bad escape or non-UTF-8.
fn percent_decode(s: &str) -> Option<Zeroizing<String>> {
    let bytes = s.as_bytes();
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len()));
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let text = std::str::from_utf8(&out).ok()?;
    let mut decoded = Zeroizing::new(String::with_capacity(text.len()));
    decoded.push_str(text);
    Some(decoded)
}

/// Resolves the proxy's address instead of the target's when a proxy is set: the target's
/// host name is left to the proxy.
#[derive(Debug, Default)]
pub(crate) struct ProxyResolver {
    pub proxy: Option<Arc<ProxySetting>>,
    inner: DefaultResolver,
}

impl ProxyResolver {
    pub(crate) fn new(proxy: Option<Arc<ProxySetting>>) -> Self {
        ProxyResolver {
            proxy,
            inner: DefaultResolver::default(),
        }
    }
}

impl Resolver for ProxyResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> std::result::Result<ResolvedSocketAddrs, ureq::Error> {
        match &self.proxy {
            Some(p) => self.inner.resolve(&p.uri()?, config, timeout),
            None => self.inner.resolve(uri, config, timeout),
        }
    }
}

/// Runs the proxy handshake on the TCP connection to the proxy (which [`ProxyResolver`]
/// pointed it at), leaving a tunnel to the target for TLS.
#[derive(Debug)]
pub(crate) struct ProxyHandshake(pub Option<Arc<ProxySetting>>);

impl<In: Conn> Connector<In> for ProxyHandshake {
    type Out = In;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> std::result::Result<Option<In>, ureq::Error> {
        let (proxy, transport) = match (&self.0, chained) {
            (Some(proxy), Some(transport)) => (proxy, transport),
            // No proxy (or no connection yet): pass on what came in.
            (_, chained) => return Ok(chained),
        };
        let mut io = TransportAdapter::new(transport, details.current_time.clone());
        io.set_timeout(details.timeout);
        let (host, port) = target(details.uri)?;
        tunnel(&mut io, proxy, &host, port)?;
        Ok(Some(io.into_inner()))
    }
}

/// The proxy handshake over `io` (a connection to the proxy), leaving a tunnel to
/// `host:port`: what every connection of a client does, and what `wxface doctor` checks
/// (through [`crate::doctor`]).
pub(crate) fn tunnel(
    io: &mut (impl Read + Write),
    proxy: &ProxySetting,
    host: &str,
    port: u16,
) -> std::result::Result<(), ureq::Error> {
    match proxy.kind {
        ProxyKind::HttpConnect => http_connect(io, proxy, host, port),
        ProxyKind::Socks5 => socks5(io, proxy, host, port),
    }
}

impl ProxySetting {
    /// `"http"` or `"socks5"`, the proxy's host (IPv6 without brackets) and port.
    pub(crate) fn address(&self) -> (&'static str, &str, u16) {
        let scheme = match self.kind {
            ProxyKind::HttpConnect => "http",
            ProxyKind::Socks5 => "socks5",
        };
        (scheme, &self.host, self.port)
    }
}

fn failed(reason: impl Into<String>) -> ureq::Error {
    ureq::Error::ConnectProxyFailed(reason.into())
}

/// The target's host (IPv6 without brackets) and port.
fn target(uri: &Uri) -> std::result::Result<(String, u16), ureq::Error> {
    let host = uri.host().ok_or_else(|| failed("no target host"))?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    Ok((host.to_owned(), port))
}

fn http_connect(
    io: &mut (impl Read + Write),
    proxy: &ProxySetting,
    host: &str,
    port: u16,
) -> std::result::Result<(), ureq::Error> {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    // Built in one allocation of the right size, wiped when dropped.
    let mut head = Zeroizing::new(Vec::with_capacity(512 + 4 * 255));
    head.extend_from_slice(
        format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n").as_bytes(),
    );
    head.extend_from_slice(
        concat!("User-Agent: wxface/", env!("CARGO_PKG_VERSION"), "\r\n").as_bytes(),
    );
    if proxy.username.is_some() || proxy.password.is_some() {
        let mut plain = Zeroizing::new(Vec::with_capacity(2 * 255 + 1));
        plain.extend_from_slice(
            proxy
                .username
                .as_deref()
                .map_or("", |s| s.as_str())
                .as_bytes(),
        );
        plain.push(b':');
        plain.extend_from_slice(
            proxy
                .password
                .as_deref()
                .map_or("", |s| s.as_str())
                .as_bytes(),
        );
        head.extend_from_slice(b"Proxy-Authorization: Basic ");
        base64_into(&plain, &mut head);
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    io.write_all(&head)?;
    io.flush()?;

    // The answer's head, byte by byte, so nothing after it (the TLS handshake) is consumed.
    let mut answer = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") {
        if answer.len() >= 8192 {
            return Err(failed("the HTTP proxy's answer to CONNECT is too long"));
        }
        if io.read(&mut byte).map_err(|e| match e.kind() {
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted => {
                failed("the HTTP proxy reset the connection during CONNECT")
            }
            _ => ureq::Error::Io(e),
        })? == 0
        {
            return Err(failed(
                "the HTTP proxy closed the connection during CONNECT",
            ));
        }
        answer.push(byte[0]);
    }
    let line = answer.split(|&b| b == b'\r').next().unwrap_or_default();
    connect_verdict(status_code(line))
}

/// The status code of an HTTP/1.x status line (`HTTP/1.1 200 Connection established`):
/// exactly three digits between the version and a space or the end of the line, so that
/// `HTTP/1.1 2000` or `HTTP/1.1 20` is not a status at all.
pub(crate) fn status_code(line: &[u8]) -> Option<u16> {
    let rest = line.strip_prefix(b"HTTP/1.")?;
    let (minor, rest) = rest.split_first()?;
    let rest = rest.strip_prefix(b" ").filter(|_| minor.is_ascii_digit())?;
    let (code, after) = rest.split_at_checked(3)?;
    if !code.iter().all(u8::is_ascii_digit) || !(after.is_empty() || after.starts_with(b" ")) {
        return None;
    }
    std::str::from_utf8(code).ok()?.parse().ok()
}

/// What a CONNECT answer's status means: any 2xx opens the tunnel (RFC 9110 §9.3.6); any
/// other status is the proxy's refusal, an HTTP status ([`ProxyRefused`]), so the retry
/// policy treats it as any HTTP status: a 407 (credentials) or 403 is final, a 502 or 503 is
/// transient.
pub(crate) fn connect_verdict(status: Option<u16>) -> std::result::Result<(), ureq::Error> {
    match status {
        Some(200..=299) => Ok(()),
        Some(407) => Err(refused(407, "the HTTP proxy wants (other) credentials")),
        Some(status) => Err(refused(status, "the HTTP proxy refused CONNECT")),
        None => Err(failed("the HTTP proxy's answer to CONNECT is not HTTP")),
    }
}

/// A refusal the same credentials or destination would meet again, as an HTTP status (so the
/// retry policy treats it as final): a CONNECT answer's own, or for SOCKS5, which has none, the
/// HTTP status of the same meaning (407 for credentials or methods, 403 for its rules).
fn refused(status: u16, reason: &'static str) -> ureq::Error {
    ProxyRefused { status, reason }.into()
}

/// A proxy's refusal with a status, carried through ureq to
/// [`crate::net::transport`] (which makes it an [`Error::HttpRefused`]).
#[derive(Debug)]
pub(crate) struct ProxyRefused {
    pub(crate) status: u16,
    pub(crate) reason: &'static str,
}

impl fmt::Display for ProxyRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (status {})", self.reason, self.status)
    }
}

impl std::error::Error for ProxyRefused {}

impl From<ProxyRefused> for ureq::Error {
    fn from(r: ProxyRefused) -> ureq::Error {
        ureq::Error::Io(std::io::Error::other(r))
    }
}

/// Reads exactly `buf.len()` bytes of the SOCKS5 proxy's reply: a connection the proxy closes
/// or resets before its reply is complete is a proxy failure that names the proxy; a timeout
/// stays a timeout.
fn read_reply(io: &mut impl Read, buf: &mut [u8]) -> std::result::Result<(), ureq::Error> {
    io.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof
        | std::io::ErrorKind::ConnectionReset
        | std::io::ErrorKind::ConnectionAborted
        | std::io::ErrorKind::BrokenPipe => {
            failed("the SOCKS5 proxy closed the connection before its reply was complete")
        }
        _ => ureq::Error::Io(e),
    })
}

fn socks5(
    io: &mut (impl Read + Write),
    proxy: &ProxySetting,
    host: &str,
    port: u16,
) -> std::result::Result<(), ureq::Error> {
    let with_auth = proxy.username.is_some() || proxy.password.is_some();
    io.write_all(if with_auth { &[5, 1, 2] } else { &[5, 1, 0] })?;
    io.flush()?;
    let mut reply = [0u8; 2];
    read_reply(io, &mut reply)?;
    match reply {
        [5, 0] if !with_auth => {}
        [5, 2] if with_auth => {
            let user = proxy
                .username
                .as_deref()
                .map_or("", |s| s.as_str())
                .as_bytes();
            let pass = proxy
                .password
                .as_deref()
                .map_or("", |s| s.as_str())
                .as_bytes();
            let mut auth = Zeroizing::new(Vec::with_capacity(3 + user.len() + pass.len()));
            auth.push(1);
            auth.push(u8::try_from(user.len()).map_err(|_| failed("SOCKS5 user name too long"))?);
            auth.extend_from_slice(user);
            auth.push(u8::try_from(pass.len()).map_err(|_| failed("SOCKS5 password too long"))?);
            auth.extend_from_slice(pass);
            io.write_all(&auth)?;
            io.flush()?;
            read_reply(io, &mut reply)?;
            if reply != [1, 0] {
                return Err(refused(407, "the SOCKS5 proxy refused the credentials"));
            }
        }
        [5, 0xff] => {
            return Err(refused(
                407,
                "the SOCKS5 proxy accepts none of our authentication methods",
            ));
        }
        [5, 2] => return Err(refused(407, "the SOCKS5 proxy wants credentials")),
        [5, _] => {
            return Err(failed(
                "the SOCKS5 proxy chose an authentication method we did not offer",
            ));
        }
        _ => return Err(failed("the SOCKS5 proxy's answer is not SOCKS5")),
    }
    let mut request = vec![5, 1, 0];
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            request.push(1);
            request.extend_from_slice(&ip.octets());
        }
        Ok(IpAddr::V6(ip)) => {
            request.push(4);
            request.extend_from_slice(&ip.octets());
        }
        Err(_) => {
            request.push(3);
            request.push(u8::try_from(host.len()).map_err(|_| failed("host name too long"))?);
            request.extend_from_slice(host.as_bytes());
        }
    }
    request.extend_from_slice(&port.to_be_bytes());
    io.write_all(&request)?;
    io.flush()?;
    let mut head = [0u8; 4];
    read_reply(io, &mut head)?;
    if head[0] != 5 {
        return Err(failed("the SOCKS5 proxy's answer is not SOCKS5"));
    }
    if head[1] == 2 {
        return Err(refused(
            403,
            "the SOCKS5 proxy's rules do not allow the connection",
        ));
    }
    if head[1] != 0 {
        let why = match head[1] {
            1 => "general failure",
            3 => "network unreachable",
            4 => "host unreachable",
            5 => "connection refused",
            6 => "TTL expired",
            7 => "command not supported",
            8 => "address type not supported",
            _ => "unknown error",
        };
        return Err(failed(format!("the SOCKS5 proxy could not connect: {why}")));
    }
    let skip = match head[3] {
        1 => 4 + 2,
        4 => 16 + 2,
        3 => {
            let mut len = [0u8; 1];
            read_reply(io, &mut len)?;
            usize::from(len[0]) + 2
        }
        _ => return Err(failed("the SOCKS5 proxy's answer is not SOCKS5")),
    };
    let mut bound = vec![0u8; skip];
    read_reply(io, &mut bound)?;
    Ok(())
}

/// Standard base64 with padding, appended to `out` (no intermediate copy).
fn base64_into(input: &[u8], out: &mut Vec<u8>) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("terminal:s3cret-pw", "dGVybWluYWw6czNjcmV0LXB3"),
        ] {
            let mut out = Vec::new();
            base64_into(plain.as_bytes(), &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), encoded, "{plain}");
        }
    }

    #[test]
    fn parses_proxy_urls() {
        let p = ProxySetting::parse("http://u%40x:p%3Aw@proxy.lan:3128/", None, None).unwrap();
        assert_eq!(
            (p.kind, p.host.as_str(), p.port),
            (ProxyKind::HttpConnect, "proxy.lan", 3128)
        );
        assert_eq!(p.username.as_deref().map(|s| s.as_str()), Some("u@x"));
        assert_eq!(p.password.as_deref().map(|s| s.as_str()), Some("p:w"));
        assert_eq!(
            format!("{p:?}"),
            "Proxy(HttpConnect proxy.lan:3128 with credentials)"
        );
        let p = ProxySetting::parse("socks5h://[::1]", Some("a"), Some("b")).unwrap();
        assert_eq!(
            (p.kind, p.host.as_str(), p.port),
            (ProxyKind::Socks5, "::1", 1080)
        );
        assert_eq!(p.password.as_deref().map(|s| s.as_str()), Some("b"));
        let p = ProxySetting::parse("HTTP://10.0.0.1", None, None).unwrap();
        assert_eq!(p.port, 80);
        for bad in [
            "127.0.0.1:3128",
            "https://p:1",
            "socks4://p:1",
            "http://",
            "http://p:0",
            "http://p:99999",
            "http://p:+1",
            "http://p/x",
            "http://p?x",
            "http://[::1",
            "http://u:%zz@p:1",
            "http://bad host:1",
        ] {
            let err = ProxySetting::parse(bad, None, None).unwrap_err();
            assert!(
                matches!(err, Error::InvalidArgument { field: "proxy", .. }),
                "{bad}"
            );
        }
        let long = "x".repeat(256);
        assert!(ProxySetting::parse("http://p:1", Some(&long), None).is_err());
    }
}
