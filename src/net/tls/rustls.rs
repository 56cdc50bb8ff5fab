//! The rustls backend (feature `tls-rustls`, the default): rustls with ring, verifying against
//! one trust-anchor store.
//!
//! The store is built once per client: the anchors compiled into `webpki-roots` (Mozilla's
//! roots, already in anchor form: nothing to parse) when the bundled roots are trusted, plus
//! every custom, system or user CA converted to an anchor. The `ClientConfig` made from it is
//! shared by every connection of the client.
//!
//! The crypto provider offers only what a payapp call needs (see [`provider`]), so that the
//! linker can drop the rest of ring and rustls.

use std::fmt;
use std::io;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::crypto::ring::{cipher_suite as cs, kx_group, sign};
use rustls::crypto::{CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{PrivateKeyDer, ServerName};
use rustls::sign::SigningKey;
use rustls::{ClientConfig, ClientConnection, RootCertStore, SignatureScheme, StreamOwned};
use ureq::unversioned::transport::{
    ConnectionDetails, Connector, Either, Transport, TransportAdapter,
};
use webpki::ring as alg;

use super::{
    ClientIdentity, Roots, TlsStream, TlsTransport, failure, handshake_adapter, msg, server_host,
};

/// Signature algorithms accepted in certificates and handshakes: ECDSA P-256/P-384 and RSA
/// (PKCS#1 v1.5 and PSS, 2048-8192 bits) with SHA-256/384/512. That is every algorithm the
/// Mozilla roots and today's public certificates use; Ed25519 is left out (no public CA issues
/// Ed25519 certificates), as is SHA-1 (webpki never accepted it).
static SIGNATURE_ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        alg::ECDSA_P256_SHA256,
        alg::ECDSA_P256_SHA384,
        alg::ECDSA_P384_SHA256,
        alg::ECDSA_P384_SHA384,
        alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        alg::RSA_PKCS1_2048_8192_SHA256,
        alg::RSA_PKCS1_2048_8192_SHA384,
        alg::RSA_PKCS1_2048_8192_SHA512,
        alg::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    ],
    mapping: &[
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[alg::ECDSA_P384_SHA384, alg::ECDSA_P256_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[alg::ECDSA_P256_SHA256, alg::ECDSA_P384_SHA256],
        ),
        (
            SignatureScheme::RSA_PSS_SHA512,
            &[alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA384,
            &[alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA256,
            &[alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA512,
            &[alg::RSA_PKCS1_2048_8192_SHA512],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA384,
            &[alg::RSA_PKCS1_2048_8192_SHA384],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA256,
            &[alg::RSA_PKCS1_2048_8192_SHA256],
        ),
    ],
};

/// What a payapp call needs, nothing more:
///
/// - TLS 1.3 and 1.2; AES-GCM suites only (128 first: as strong in practice, cheaper), ECDHE
///   for 1.2 with RSA or ECDSA certificates. ChaCha20-Poly1305 is left out: the servers offer
///   AES-GCM, and the ARMv8 terminals have AES instructions.
/// - Key exchange X25519 and P-256 (every TLS 1.3 server supports one of them; P-384 key
///   exchange is not needed).
/// - Signatures: [`SIGNATURE_ALGORITHMS`].
/// - Random numbers from the OS (`getrandom`, as for nonces); private keys (the relay client
///   certificate's: RSA, ECDSA or Ed25519) loaded by ring.
pub(crate) fn provider() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: vec![
            cs::TLS13_AES_128_GCM_SHA256,
            cs::TLS13_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ],
        kx_groups: vec![kx_group::X25519, kx_group::SECP256R1],
        signature_verification_algorithms: SIGNATURE_ALGORITHMS,
        secure_random: &OsKeys,
        key_provider: &OsKeys,
    }
}

/// Random numbers from the OS, private keys parsed by ring.
#[derive(Debug)]
struct OsKeys;

impl SecureRandom for OsKeys {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        getrandom::fill(buf).map_err(|_| GetRandomFailed)
    }
}

impl KeyProvider for OsKeys {
    fn load_private_key(
        &self,
        key_der: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        sign::any_supported_type(&key_der)
    }
}

/// The client-side TLS configuration of a client: its one root store, its client identity.
pub(crate) fn client_config(
    roots: &Roots,
    identity: Option<&ClientIdentity>,
) -> Result<Arc<ClientConfig>, String> {
    let mut store = RootCertStore::empty();
    if roots.bundled {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    // A CA that webpki cannot use as an anchor is skipped, as browsers do.
    store.add_parsable_certificates(roots.extra.iter().cloned());
    if store.is_empty() {
        return Err("none of the given CA certificates is usable as a trust root".into());
    }
    let provider = Arc::new(provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
        .build()
        .map_err(|e| format!("trust roots: {e}"))?;
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| e.to_string())?
        .with_webpki_verifier(verifier);
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some(id) => {
            let key = PrivateKeyDer::from_pem_slice(&id.key_pem)
                .map_err(|_| "the relay client key is not a PEM private key".to_owned())?;
            builder
                .with_client_auth_cert(id.chain.clone(), key)
                .map_err(|_| "the relay client key does not fit its certificate".to_owned())?
        }
    };
    Ok(Arc::new(config))
}

/// Whether a client identity is usable (the key parses, is of a supported type and belongs to
/// the certificate), checked the way [`client_config`] will use it.
pub(crate) fn check_identity(identity: &ClientIdentity) -> Result<(), ()> {
    let key = PrivateKeyDer::from_pem_slice(&identity.key_pem).map_err(|_| ())?;
    ClientConfig::builder_with_provider(Arc::new(provider()))
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|_| ())?
        .with_root_certificates(RootCertStore::empty())
        .with_client_auth_cert(identity.chain.clone(), key)
        .map(|_| ())
        .map_err(|_| ())
}

/// Wraps the connection below it in TLS when the URL is `https://`.
pub(crate) struct TlsConnector {
    config: Result<Arc<ClientConfig>, String>,
}

impl TlsConnector {
    /// Builds the configuration now, once for every connection of the client. A failure is
    /// reported by each connection attempt.
    pub(crate) fn new(roots: &Roots, identity: Option<&ClientIdentity>) -> TlsConnector {
        TlsConnector {
            config: client_config(roots, identity),
        }
    }
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsConnector(rustls)")
    }
}

fn tls_error(e: rustls::Error) -> ureq::Error {
    ureq::Error::Io(io::Error::new(io::ErrorKind::InvalidData, e))
}

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport<Stream>>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let config = self.config.clone().map_err(failure)?;
        let name = ServerName::try_from(server_host(details).to_owned())
            .map_err(|_| ureq::Error::Tls("the host is not a valid TLS server name"))?;
        let mut conn = ClientConnection::new(config, name).map_err(tls_error)?;
        let mut sock = handshake_adapter(details, transport.boxed());
        conn.complete_io(&mut sock)?;
        Ok(Some(Either::B(TlsTransport::new(
            details,
            StreamOwned::new(conn, sock),
        ))))
    }
}

type Stream = StreamOwned<ClientConnection, TransportAdapter>;

impl TlsStream for Stream {
    fn below(&self) -> &TransportAdapter {
        &self.sock
    }
    fn below_mut(&mut self) -> &mut TransportAdapter {
        &mut self.sock
    }
    fn peer_alert(&mut self) -> Option<io::Error> {
        // Straight from the socket into rustls: `StreamOwned::read` would first retry the
        // failed write.
        for _ in 0..16 {
            match self.conn.read_tls(&mut self.sock) {
                Ok(0) | Err(_) => return None,
                Ok(_) => {
                    if let Err(e) = self.conn.process_new_packets() {
                        return Some(io::Error::new(io::ErrorKind::InvalidData, e));
                    }
                }
            }
        }
        None
    }
}

/// A short message for each rustls failure (its `Display` can be a long debug dump).
pub(crate) fn describe(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    use rustls::Error as R;
    match e {
        R::InvalidCertificate(c) => msg::rejected(match c {
            C::Expired | C::ExpiredContext { .. } => msg::EXPIRED,
            C::NotValidYet | C::NotValidYetContext { .. } => msg::NOT_YET_VALID,
            C::UnknownIssuer => msg::UNKNOWN_ISSUER,
            C::NotValidForName | C::NotValidForNameContext { .. } => msg::WRONG_NAME,
            C::BadSignature
            | C::UnsupportedSignatureAlgorithmContext { .. }
            | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => msg::BAD_SIGNATURE,
            C::Revoked => msg::REVOKED,
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => msg::WRONG_PURPOSE,
            C::BadEncoding => msg::BAD_ENCODING,
            _ => msg::OTHER,
        }),
        R::AlertReceived(alert) => {
            format!("the server refused the handshake (alert {alert:?})")
        }
        R::PeerIncompatible(p) => {
            format!("the server offers no TLS version or cipher suite we accept ({p:?})")
        }
        R::NoCertificatesPresented => "the server presented no certificate".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provider_offers_only_aes_gcm_and_two_groups() {
        let p = provider();
        assert_eq!(p.cipher_suites.len(), 6);
        assert!(p.cipher_suites.iter().all(|s| {
            let name = format!("{:?}", s.suite());
            name.contains("AES_128_GCM") || name.contains("AES_256_GCM")
        }));
        let groups: Vec<_> = p.kx_groups.iter().map(|g| g.name()).collect();
        assert_eq!(
            groups,
            [rustls::NamedGroup::X25519, rustls::NamedGroup::secp256r1]
        );
    }
}
