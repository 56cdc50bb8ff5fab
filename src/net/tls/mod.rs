//! The TLS seam: what the rest of the library needs from a TLS library, and one module per
//! backend behind it.
//!
//! - `tls-rustls` (the default): rustls with ring, one trust-anchor store (`tls/rustls.rs`).
//! - `tls-openssl`: the platform's libssl/libcrypto, dynamically linked (`tls/openssl.rs`).
//!   It has no bundled roots: [`TrustStore::System`] is that
//!   build's default and [`TrustStore::Bundled`] / [`TrustStore::Both`] are refused when the
//!   configuration is built.
//!
//! With both features enabled (e.g. `cargo clippy --all-features`), rustls is used; the OpenSSL
//! module is still compiled so that both stay checked.
//!
//! Each backend provides a [`Connector`](ureq::unversioned::transport::Connector) that wraps
//! the connection below it (TCP, or the tunnel through a proxy) in TLS, and a check of the relay
//! client identity for [`crate::relay::setting`]. Failures reach [`crate::net::transport`] as
//! [`std::io::Error`]s carrying the backend's error, which `describe` turns into one short
//! message per cause, the same for both backends.
//!
//! [`TrustStore::System`]: crate::TrustStore::System
//! [`TrustStore::Bundled`]: crate::TrustStore::Bundled
//! [`TrustStore::Both`]: crate::TrustStore::Both

use std::fmt;
use std::io::{self, Read, Write};
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use ureq::unversioned::transport::time::{Duration as UDuration, Instant as UInstant};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, LazyBuffers, NextTimeout, Transport, TransportAdapter,
};
use zeroize::Zeroizing;

#[cfg(not(any(feature = "tls-rustls", feature = "tls-openssl")))]
compile_error!("wxface needs a TLS backend: enable the `tls-rustls` or the `tls-openssl` feature");

#[cfg(feature = "tls-openssl")]
#[cfg_attr(feature = "tls-rustls", allow(dead_code))]
pub(crate) mod openssl;
#[cfg(feature = "tls-rustls")]
pub(crate) mod rustls;

#[cfg(all(feature = "tls-openssl", not(feature = "tls-rustls")))]
pub(crate) use self::openssl as backend;
#[cfg(feature = "tls-rustls")]
pub(crate) use self::rustls as backend;

/// Whether this build has roots compiled in (rustls: Mozilla's, from `webpki-roots`).
pub(crate) const HAS_BUNDLED_ROOTS: bool = cfg!(feature = "tls-rustls");

/// A certificate, DER.
pub(crate) type Certificate = CertificateDer<'static>;

/// Every `CERTIFICATE` block of a PEM text; text around the blocks is ignored. Fails on the
/// first malformed block.
pub(crate) fn pem_certificates(pem: &[u8]) -> Result<Vec<Certificate>, String> {
    CertificateDer::pem_slice_iter(pem)
        .map(|c| c.map_err(|e| format!("bad PEM: {e}")))
        .collect()
}

/// The roots a connection trusts.
#[derive(Clone, Debug)]
pub(crate) struct Roots {
    /// The roots compiled into the library (rustls builds only).
    pub(crate) bundled: bool,
    /// Further roots: `ca_pem` / `ca_file`, the system and the user store.
    pub(crate) extra: Arc<Vec<Certificate>>,
}

/// The terminal's certificate chain and key for mutual TLS with the relay. `Debug` shows
/// neither; the key's PEM is wiped when dropped.
#[derive(Clone)]
pub(crate) struct ClientIdentity {
    pub(crate) chain: Vec<Certificate>,
    pub(crate) key_pem: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ClientIdentity({} certificates, key ***)",
            self.chain.len()
        )
    }
}

/// The timeout left for the TLS handshake: the connect timeout counted from when the
/// connection was started (TCP and the proxy handshake used part of it).
pub(crate) fn handshake_timeout(
    timeout: NextTimeout,
    started: UInstant,
    now: UInstant,
) -> NextTimeout {
    let mut t = timeout;
    if let (UDuration::Exact(after), UInstant::Exact(started), UInstant::Exact(now)) =
        (timeout.after, started, now)
    {
        t.after = UDuration::Exact(after.saturating_sub(now.saturating_duration_since(started)));
    }
    t
}

/// The host name (or IP address, without IPv6 brackets) the server's certificate must match.
pub(crate) fn server_host<'a>(details: &'a ConnectionDetails) -> &'a str {
    let host = details.uri.host().unwrap_or_default();
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// The connection below TLS, its timeout set for the handshake.
pub(crate) fn handshake_adapter(
    details: &ConnectionDetails,
    below: Box<dyn Transport>,
) -> TransportAdapter {
    let mut adapter = TransportAdapter::new(below, details.current_time.clone());
    adapter.set_timeout(handshake_timeout(
        details.timeout,
        details.now,
        (details.current_time)(),
    ));
    adapter
}

/// A backend's TLS stream over the connection below: plaintext through `Read`/`Write`.
pub(crate) trait TlsStream: Read + Write + Send + Sync + 'static {
    fn below(&self) -> &TransportAdapter;
    fn below_mut(&mut self) -> &mut TransportAdapter;
    /// After the connection was lost: the TLS failure the peer announced before it closed, as
    /// the backend's error, read from what had already arrived (nothing is written).
    fn peer_alert(&mut self) -> Option<io::Error>;
}

/// Whether `e` means the peer closed or reset the connection.
fn is_connection_lost(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::UnexpectedEof
    )
}

/// A TLS connection, whichever the backend: plaintext in `buffers`, records through `stream`.
pub(crate) struct TlsTransport<S> {
    buffers: LazyBuffers,
    stream: S,
}

impl<S: TlsStream> TlsTransport<S> {
    pub(crate) fn new(details: &ConnectionDetails, stream: S) -> TlsTransport<S> {
        TlsTransport {
            buffers: LazyBuffers::new(
                details.config.input_buffer_size(),
                details.config.output_buffer_size(),
            ),
            stream,
        }
    }
}

impl<S: TlsStream> TlsTransport<S> {
    /// A lost connection explained by the peer's alert when it sent one. In TLS 1.3 the client's
    /// handshake ends before the server has checked the client certificate: a server that
    /// refuses it sends an alert and closes while we are writing the request, and the write
    /// fails with "broken pipe" or "connection reset" although the alert is already here.
    fn explain(&mut self, e: io::Error) -> ureq::Error {
        if is_connection_lost(&e)
            && let Some(alert) = self.stream.peer_alert()
        {
            return ureq::Error::Io(alert);
        }
        ureq::Error::Io(e)
    }
}

impl<S: TlsStream> fmt::Debug for TlsTransport<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTransport")
            .field("over", &self.stream.below().inner())
            .finish()
    }
}

impl<S: TlsStream> Transport for TlsTransport<S> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.below_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        let written = self.stream.write_all(output);
        written.map_err(|e| self.explain(e))?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.below_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let read = self.stream.read(input);
        let amount = read.map_err(|e| self.explain(e))?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.below_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

/// A TLS failure described by one of our messages, as ureq carries it to `transport`.
pub(crate) fn failure(message: String) -> ureq::Error {
    ureq::Error::Io(io::Error::other(TlsFailure(message)))
}

/// A TLS failure as one short message (never a key, never a certificate dump).
#[derive(Debug)]
pub(crate) struct TlsFailure(pub(crate) String);

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsFailure {}

/// The messages both backends use for a rejected server certificate, so that a build's
/// backend does not change what firmware and logs see.
pub(crate) mod msg {
    pub(crate) const EXPIRED: &str = "expired (check the terminal clock)";
    pub(crate) const NOT_YET_VALID: &str = "not valid yet (check the terminal clock)";
    pub(crate) const UNKNOWN_ISSUER: &str = "not issued by a trusted root";
    pub(crate) const WRONG_NAME: &str = "not valid for this host name";
    pub(crate) const BAD_SIGNATURE: &str = "bad or unsupported signature (e.g. SHA-1)";
    pub(crate) const REVOKED: &str = "revoked";
    pub(crate) const WRONG_PURPOSE: &str = "not valid for TLS server authentication";
    pub(crate) const BAD_ENCODING: &str = "badly encoded";
    pub(crate) const OTHER: &str = "not acceptable";

    /// `server certificate rejected: <why>`.
    pub(crate) fn rejected(why: &str) -> String {
        format!("server certificate rejected: {why}")
    }
}

/// The TLS failure an I/O error carries, if any, as `Error::Tls`'s message.
pub(crate) fn describe(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(f) = e.downcast_ref::<TlsFailure>() {
        return Some(f.0.clone());
    }
    backend_describe(e)
}

#[cfg(feature = "tls-rustls")]
fn backend_describe(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    e.downcast_ref::<::rustls::Error>()
        .map(self::rustls::describe)
}

#[cfg(all(feature = "tls-openssl", not(feature = "tls-rustls")))]
fn backend_describe(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    self::openssl::describe(e)
}

#[cfg(not(any(feature = "tls-rustls", feature = "tls-openssl")))]
fn backend_describe(_: &(dyn std::error::Error + 'static)) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_timeout_counts_from_the_connection_start() {
        let start = std::time::Instant::now();
        let t = NextTimeout {
            after: UDuration::Exact(std::time::Duration::from_secs(5)),
            ..NextTimeout::default()
        };
        let later = start + std::time::Duration::from_secs(2);
        let left = handshake_timeout(t, UInstant::Exact(start), UInstant::Exact(later));
        assert_eq!(*left.after, std::time::Duration::from_secs(3));
        let past = start + std::time::Duration::from_secs(9);
        let left = handshake_timeout(t, UInstant::Exact(start), UInstant::Exact(past));
        assert_eq!(*left.after, std::time::Duration::ZERO);
    }

    #[test]
    fn pem_blocks_are_read_and_text_around_them_ignored() {
        let ca = wxface_mock::TestCa::new().unwrap().ca_pem();
        let text = format!("Certificate:\n    Data: ...\n{ca}trailing text\n");
        let certs = pem_certificates(text.as_bytes()).unwrap();
        assert_eq!(certs.len(), 1);
        assert!(
            pem_certificates(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n")
                .is_err()
        );
        assert!(pem_certificates(b"nothing").unwrap().is_empty());
    }
}
