//! The doctor's own network steps (the library does them inside one call): the target from the
//! base URL, DNS, TCP, a TLS handshake that records the server's certificate, and the HTTP
//! `Date`. The proxy handshake is the library's own (`wxface::doctor::proxy_tunnel`), so the
//! doctor and a call reach the same verdict on a proxy.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// Scheme, host and port of a base URL such as `https://host[:port][/…]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

impl Target {
    /// Parses `url`. Errors never repeat the URL.
    pub fn parse(url: &str) -> Result<Target, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or("expected scheme://host[:port]")?;
        let scheme = scheme.to_ascii_lowercase();
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return Err(format!("unsupported scheme {scheme:?}")),
        };
        let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
            let (h, after) = rest.split_once(']').ok_or("unclosed [ in host")?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| "bad port")?,
                None => default_port,
            };
            (h.to_owned(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), p.parse().map_err(|_| "bad port")?),
                None => (hostport.to_owned(), default_port),
            }
        };
        if host.is_empty() {
            return Err("no host".into());
        }
        Ok(Target { scheme, host, port })
    }

    /// `host:port` for display (no credentials), with brackets around IPv6 addresses.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Time left before `deadline`, or a timeout error.
pub fn remaining(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(io::Error::new(io::ErrorKind::TimedOut, "deadline reached"))
    } else {
        Ok(left)
    }
}

/// Resolves `host:port` (an IP literal resolves to itself).
pub fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(io::ErrorKind::NotFound, "no addresses"));
    }
    Ok(addrs)
}

/// Connects to the first address that answers, within the deadline.
pub fn connect_any(addrs: &[SocketAddr], deadline: Instant) -> io::Result<(TcpStream, SocketAddr)> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no addresses");
    for addr in addrs {
        match TcpStream::connect_timeout(addr, remaining(deadline)?) {
            Ok(s) => {
                set_deadline(&s, deadline)?;
                return Ok((s, *addr));
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Bounds every read and write on `s` by the time left.
pub fn set_deadline(s: &TcpStream, deadline: Instant) -> io::Result<()> {
    let left = remaining(deadline)?;
    s.set_read_timeout(Some(left))?;
    s.set_write_timeout(Some(left))
}

/// Reads an HTTP response head (up to the blank line, at most 16 KiB).
fn read_head(s: &mut impl Read) -> io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "response head over 16 KiB",
            ));
        }
        if s.read(&mut byte)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before the response head",
            ));
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// Sends `HEAD path` and returns the response's status line and `Date` header.
pub fn http_date(
    s: &mut (impl Read + Write),
    host: &str,
    path: &str,
) -> io::Result<(String, Option<String>)> {
    let req = format!(
        "HEAD {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: wxface-doctor\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes())?;
    s.flush()?;
    let head = read_head(s)?;
    let mut lines = head.lines();
    let status = lines.next().unwrap_or_default().to_owned();
    let date = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("date"))
        .map(|(_, v)| v.trim().to_owned());
    Ok((status, date))
}

/// Seconds the server's `Date` is ahead of the local clock (negative: behind).
pub fn skew_secs(date: &str, local: SystemTime) -> Result<i64, String> {
    let server =
        httpdate::parse_http_date(date).map_err(|_| format!("unparsable Date {date:?}"))?;
    let diff = match server.duration_since(local) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    Ok(diff)
}

/// The trust roots: the bundled Mozilla roots (unless disabled) plus the PEM file's.
pub fn root_store(builtin: bool, ca_pem: Option<&[u8]>) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    if builtin {
        roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    }
    if let Some(pem) = ca_pem {
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| format!("bad PEM: {e}"))?;
            roots
                .add(cert)
                .map_err(|e| format!("unusable CA certificate: {e}"))?;
        }
    }
    Ok(roots)
}

/// A verifier that delegates to webpki and remembers the chain the server presented, so a
/// refused certificate can still be named.
#[derive(Debug)]
struct Recorder {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    seen: Arc<Mutex<Vec<CertificateDer<'static>>>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut seen) = self.seen.lock() {
            seen.clear();
            seen.push(end_entity.clone().into_owned());
            seen.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The outcome of a TLS handshake.
pub struct TlsOutcome {
    /// The chain the server presented (leaf first), even when it was refused.
    pub chain: Vec<CertificateDer<'static>>,
    /// The handshake result; on success, the stream and the protocol version.
    pub result: Result<
        (
            rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
            String,
        ),
        rustls::Error,
    >,
    /// An I/O failure during the handshake (not a TLS verdict).
    pub io_error: Option<io::Error>,
}

/// Runs a TLS handshake over `tcp` for `host`, verified against `roots`.
pub fn handshake(tcp: TcpStream, host: &str, roots: rustls::RootCertStore) -> TlsOutcome {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let fail = |e: rustls::Error, seen: &Arc<Mutex<Vec<CertificateDer<'static>>>>| TlsOutcome {
        chain: seen.lock().map(|s| s.clone()).unwrap_or_default(),
        result: Err(e),
        io_error: None,
    };
    let inner = match rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::clone(&provider),
    )
    .build()
    {
        Ok(v) => v,
        Err(e) => {
            return fail(
                rustls::Error::General(format!("no usable trust roots: {e}")),
                &seen,
            );
        }
    };
    let verifier = Arc::new(Recorder {
        inner,
        seen: Arc::clone(&seen),
    });
    let config = match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(b) => b
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth(),
        Err(e) => return fail(e, &seen),
    };
    let name = match ServerName::try_from(host.to_owned()) {
        Ok(n) => n,
        Err(e) => {
            return fail(
                rustls::Error::General(format!("bad server name: {e}")),
                &seen,
            );
        }
    };
    let conn = match rustls::ClientConnection::new(Arc::new(config), name) {
        Ok(c) => c,
        Err(e) => return fail(e, &seen),
    };
    let mut stream = rustls::StreamOwned::new(conn, tcp);
    let mut io_error = None;
    let mut result = Ok(());
    while stream.conn.is_handshaking() {
        if let Err(e) = stream.conn.complete_io(&mut stream.sock) {
            // A rustls verdict arrives wrapped in an io::Error of kind InvalidData.
            match e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                Some(tls) => result = Err(tls.clone()),
                None => {
                    result = Err(rustls::Error::General(format!("I/O: {e}")));
                    io_error = Some(e);
                }
            }
            break;
        }
    }
    let chain = seen.lock().map(|s| s.clone()).unwrap_or_default();
    let result = result.map(|()| {
        let version = stream
            .conn
            .protocol_version()
            .map_or_else(|| "TLS".to_owned(), |v| format!("{v:?}").replace('_', "."));
        (stream, version)
    });
    TlsOutcome {
        chain,
        result,
        io_error,
    }
}

/// Subject, issuer and expiry of a DER certificate.
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// Unix seconds.
    pub not_after: i64,
}

/// Reads the names and validity of a certificate.
pub fn cert_info(der: &[u8]) -> Option<CertInfo> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject().to_string();
    let issuer = cert.issuer().to_string();
    Some(CertInfo {
        subject,
        issuer,
        not_after: cert.validity().not_after.timestamp(),
    })
}

/// Every certificate of a PEM text, parsed.
pub fn pem_cert_infos(pem: &[u8]) -> Result<Vec<CertInfo>, String> {
    let mut out = Vec::new();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| format!("bad PEM: {e}"))?;
        out.push(cert_info(&cert).ok_or("a certificate that cannot be parsed")?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = Target::parse("https://payapp.weixin.qq.com").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("payapp.weixin.qq.com", 443));
        let t = Target::parse("http://127.0.0.1:8080/x").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("127.0.0.1", 8080));
        let t = Target::parse("https://[::1]:9/").unwrap();
        assert_eq!((t.authority().as_str()), "[::1]:9");
        let e = Target::parse("ftp://user:secret@h").unwrap_err();
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn skew() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let d = httpdate::fmt_http_date(t + Duration::from_secs(1000));
        assert_eq!(skew_secs(&d, t).unwrap(), 1000);
        let d = httpdate::fmt_http_date(t - Duration::from_secs(400));
        assert_eq!(skew_secs(&d, t).unwrap(), -400);
        assert!(skew_secs("yesterday", t).is_err());
    }
}
