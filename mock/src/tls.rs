//! HTTPS mode: a test certificate authority made at run time (with `rcgen`) and the server
//! identity the mock presents.

use std::io;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A certificate and private key for the mock to present, in PEM.
#[derive(Clone)]
pub struct TlsIdentity {
    /// The leaf certificate, then any intermediates (PEM `CERTIFICATE` blocks).
    pub cert_chain_pem: String,
    /// The leaf's private key (PEM, PKCS#8).
    pub key_pem: String,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsIdentity(..)")
    }
}

/// A throw-away certificate authority for tests. Nothing is written to disk unless the caller
/// does so with [`TestCa::ca_pem`].
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    /// A new CA (ECDSA P-256) named `wxface-mock test CA`.
    pub fn new() -> Result<TestCa, rcgen::Error> {
        Self::named("wxface-mock test CA")
    }

    /// A new CA (ECDSA P-256) with the common name `cn`, e.g. to play a TLS-intercepting
    /// middlebox whose certificates the client does not trust.
    pub fn named(cn: &str) -> Result<TestCa, rcgen::Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        Ok(TestCa { issuer })
    }

    /// The CA certificate in PEM, to give the client as its trust root.
    pub fn ca_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server identity signed by this CA for the given names: DNS names or IP addresses
    /// (e.g. `["localhost", "127.0.0.1"]`).
    pub fn server_identity(&self, names: &[&str]) -> Result<TlsIdentity, rcgen::Error> {
        self.identity(names, false)
    }

    /// Like [`TestCa::server_identity`], but the certificate expired long ago (valid only
    /// during the year 2000), to test how clients refuse it.
    pub fn expired_server_identity(&self, names: &[&str]) -> Result<TlsIdentity, rcgen::Error> {
        self.identity(names, true)
    }

    fn identity(&self, names: &[&str], expired: bool) -> Result<TlsIdentity, rcgen::Error> {
        let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        let mut params = CertificateParams::new(names)?;
        if expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        params
            .distinguished_name
            .push(DnType::CommonName, "wxface-mock");
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(TlsIdentity {
            cert_chain_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// The rustls server configuration for `identity`.
pub(crate) fn server_config(identity: &TlsIdentity) -> io::Result<Arc<rustls::ServerConfig>> {
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {e}"))
    };
    let certs = CertificateDer::pem_slice_iter(identity.cert_chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("certificate PEM", &e))?;
    let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes())
        .map_err(|e| bad("key PEM", &e))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| bad("TLS versions", &e))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| bad("certificate", &e))?;
    Ok(Arc::new(config))
}
