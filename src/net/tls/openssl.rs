//! The OpenSSL backend (feature `tls-openssl`): the platform's libssl and libcrypto, linked
//! dynamically, for firmware that ships them anyway.
//!
//! It trusts exactly the roots it is given (custom CAs, the system or user store as read by
//! [`crate::net::trust`]); OpenSSL's own default locations are not used, so `system_ca_path` and
//! `builtin_roots(false)` mean the same as with rustls. It has no bundled roots. Host names
//! (and IP addresses) are checked by OpenSSL; verification failures are mapped to the same
//! messages as rustls's ([`super::msg`]).

use std::fmt;

use openssl::error::ErrorStack;
use openssl::pkey::PKey;
use openssl::ssl::{
    HandshakeError, SslConnector, SslMethod, SslOptions, SslStream, SslVerifyMode, SslVersion,
};
use openssl::x509::X509;
use openssl::x509::store::X509StoreBuilder;
use ureq::unversioned::transport::{
    ConnectionDetails, Connector, Either, Transport, TransportAdapter,
};

use super::{
    ClientIdentity, Roots, TlsStream, TlsTransport, failure, handshake_adapter, msg, server_host,
};

/// TLS 1.2 suites: ECDHE with AES-GCM only, as the rustls backend offers.
const TLS12_CIPHERS: &str = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:\
ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";
/// TLS 1.3 suites: AES-GCM.
const TLS13_SUITES: &str = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384";
/// Key exchange groups.
const GROUPS: &str = "X25519:P-256";

fn setup_failed(e: &ErrorStack) -> String {
    format!("TLS setup failed: {}", first_reason(e))
}

/// The first reason of an OpenSSL error stack (its `Display` lists files and lines).
fn first_reason(e: &ErrorStack) -> String {
    e.errors()
        .first()
        .and_then(|e| e.reason())
        .unwrap_or("unknown error")
        .to_owned()
}

/// The connector of a client: the context holds the one certificate store and the client
/// identity, shared by every connection.
fn connector(roots: &Roots, identity: Option<&ClientIdentity>) -> Result<SslConnector, String> {
    if roots.bundled {
        return Err("this build (OpenSSL) has no bundled roots".into());
    }
    let setup = |e: ErrorStack| setup_failed(&e);
    let mut builder = SslConnector::builder(SslMethod::tls_client()).map_err(setup)?;
    builder
        .set_min_proto_version(Some(SslVersion::TLS1_2))
        .map_err(setup)?;
    builder.set_cipher_list(TLS12_CIPHERS).map_err(setup)?;
    builder.set_ciphersuites(TLS13_SUITES).map_err(setup)?;
    builder.set_groups_list(GROUPS).map_err(setup)?;
    builder.set_verify(SslVerifyMode::PEER);
    // Decrypted records are wiped in OpenSSL's read buffer once delivered and before the
    // buffer is freed (the authinfo passes through it): `SSL_OP_CLEANSE_PLAINTEXT`, bit 1,
    // OpenSSL 3.0 and later (unused by 1.1.1), not named by the `openssl` crate.
    builder.set_options(SslOptions::from_bits_retain(1 << 1));
    // A fresh store: `SslConnector::builder` put OpenSSL's default locations in the one it made.
    let mut store = X509StoreBuilder::new().map_err(setup)?;
    let mut added = 0;
    for cert in roots.extra.iter() {
        // A CA OpenSSL cannot parse is skipped (as rustls does); a duplicate is harmless.
        if let Ok(x509) = X509::from_der(cert.as_ref())
            && store.add_cert(x509).is_ok()
        {
            added += 1;
        }
    }
    if added == 0 {
        return Err("none of the given CA certificates is usable as a trust root".into());
    }
    builder.set_cert_store(store.build());
    if let Some(id) = identity {
        let bad = |_| "the relay client key does not fit its certificate".to_owned();
        let mut chain = id.chain.iter();
        let leaf = chain
            .next()
            .ok_or_else(|| "the relay client certificate is empty".to_owned())?;
        let leaf = X509::from_der(leaf.as_ref()).map_err(bad)?;
        builder.set_certificate(&leaf).map_err(bad)?;
        for cert in chain {
            builder
                .add_extra_chain_cert(X509::from_der(cert.as_ref()).map_err(bad)?)
                .map_err(bad)?;
        }
        let key = PKey::private_key_from_pem(&id.key_pem)
            .map_err(|_| "the relay client key is not a PEM private key".to_owned())?;
        builder.set_private_key(&key).map_err(bad)?;
        builder.check_private_key().map_err(bad)?;
    }
    Ok(builder.build())
}

/// Whether a client identity is usable: the key parses and belongs to the certificate.
pub(crate) fn check_identity(identity: &ClientIdentity) -> Result<(), ()> {
    let leaf = identity.chain.first().ok_or(())?;
    let cert = X509::from_der(leaf.as_ref()).map_err(|_| ())?;
    let key = PKey::private_key_from_pem(&identity.key_pem).map_err(|_| ())?;
    let mut builder = SslConnector::builder(SslMethod::tls_client()).map_err(|_| ())?;
    builder.set_certificate(&cert).map_err(|_| ())?;
    builder.set_private_key(&key).map_err(|_| ())?;
    builder.check_private_key().map_err(|_| ())
}

/// Wraps the connection below it in TLS when the URL is `https://`.
pub(crate) struct TlsConnector {
    connector: Result<SslConnector, String>,
}

impl TlsConnector {
    /// Builds the context now, once for every connection of the client. A failure is reported
    /// by each connection attempt.
    pub(crate) fn new(roots: &Roots, identity: Option<&ClientIdentity>) -> TlsConnector {
        TlsConnector {
            connector: connector(roots, identity),
        }
    }
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsConnector(OpenSSL)")
    }
}

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport<SslStream<TransportAdapter>>>;

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
        let connector = self.connector.as_ref().map_err(|m| failure(m.clone()))?;
        let sock = handshake_adapter(details, transport.boxed());
        // SNI (not for an IP address) and host name or IP address verification.
        let config = connector
            .configure()
            .map_err(|e| failure(setup_failed(&e)))?;
        let stream = config
            .connect(server_host(details), sock)
            .map_err(handshake_error)?;
        Ok(Some(Either::B(TlsTransport::new(details, stream))))
    }
}

fn handshake_error(e: HandshakeError<TransportAdapter>) -> ureq::Error {
    match e {
        HandshakeError::SetupFailure(stack) => failure(setup_failed(&stack)),
        HandshakeError::Failure(mid) | HandshakeError::WouldBlock(mid) => {
            let verify = mid.ssl().verify_result();
            if verify.as_raw() != 0 {
                return failure(msg::rejected(verify_reason(verify.as_raw())));
            }
            match mid.into_error().into_io_error() {
                // The connection below failed or timed out: ureq's own error, unwrapped.
                Ok(io) => ureq::Error::from(io),
                Err(ssl) => failure(describe_ssl(&ssl)),
            }
        }
    }
}

/// The message for an X509 verification result (`X509_V_ERR_*`), as rustls's would be.
fn verify_reason(code: i32) -> &'static str {
    match code {
        // CERT_HAS_EXPIRED, CRL_HAS_EXPIRED
        10 | 12 => msg::EXPIRED,
        // CERT_NOT_YET_VALID, CRL_NOT_YET_VALID
        9 | 11 => msg::NOT_YET_VALID,
        // UNABLE_TO_GET_ISSUER_CERT(_LOCALLY), DEPTH_ZERO_SELF_SIGNED_CERT,
        // SELF_SIGNED_CERT_IN_CHAIN, UNABLE_TO_VERIFY_LEAF_SIGNATURE
        2 | 18 | 19 | 20 | 21 => msg::UNKNOWN_ISSUER,
        // HOSTNAME_MISMATCH, EMAIL_MISMATCH, IP_ADDRESS_MISMATCH
        62..=64 => msg::WRONG_NAME,
        // CERT_SIGNATURE_FAILURE, CRL_SIGNATURE_FAILURE, UNABLE_TO_DECRYPT_CERT_SIGNATURE,
        // EE_KEY_TOO_SMALL, CA_KEY_TOO_SMALL, CA_MD_TOO_WEAK
        4 | 7 | 8 | 66..=68 => msg::BAD_SIGNATURE,
        // CERT_REVOKED
        23 => msg::REVOKED,
        // INVALID_PURPOSE
        26 => msg::WRONG_PURPOSE,
        // ERROR_IN_CERT_NOT_BEFORE_FIELD .. ERROR_IN_CRL_NEXT_UPDATE_FIELD, UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY
        6 | 13..=16 => msg::BAD_ENCODING,
        _ => msg::OTHER,
    }
}

/// The TLS alert names rustls uses (`AlertDescription`'s `Debug`), for the same message.
fn alert_name(alert: u32) -> String {
    let name = match alert {
        0 => "CloseNotify",
        10 => "UnexpectedMessage",
        20 => "BadRecordMac",
        40 => "HandshakeFailure",
        42 => "BadCertificate",
        43 => "UnsupportedCertificate",
        44 => "CertificateRevoked",
        45 => "CertificateExpired",
        46 => "CertificateUnknown",
        47 => "IllegalParameter",
        48 => "UnknownCA",
        49 => "AccessDenied",
        50 => "DecodeError",
        51 => "DecryptError",
        70 => "ProtocolVersion",
        71 => "InsufficientSecurity",
        80 => "InternalError",
        86 => "InappropriateFallback",
        90 => "UserCanceled",
        109 => "MissingExtension",
        110 => "UnsupportedExtension",
        112 => "UnrecognisedName",
        116 => "CertificateRequired",
        120 => "NoApplicationProtocol",
        n => return format!("Unknown({n})"),
    };
    name.to_owned()
}

/// A short message for an OpenSSL TLS failure other than certificate verification.
fn describe_ssl(e: &openssl::ssl::Error) -> String {
    let Some(stack) = e.ssl_error() else {
        return format!("TLS failure ({:?})", e.code());
    };
    // An alert from the server is reported as SSL reason 1000 + its number.
    if let Some(alert) = stack
        .errors()
        .iter()
        .map(|e| e.reason_code())
        .find(|r| (1000..1256).contains(r))
    {
        return format!(
            "the server refused the handshake (alert {})",
            alert_name((alert - 1000) as u32)
        );
    }
    let reason = first_reason(stack);
    let low = reason.to_ascii_lowercase();
    if low.contains("no protocols available")
        || low.contains("unsupported protocol")
        || low.contains("no shared cipher")
        || low.contains("no cipher")
    {
        return format!("the server offers no TLS version or cipher suite we accept ({reason})");
    }
    format!("TLS handshake failed: {reason}")
}

/// The message for an OpenSSL error an I/O error carries, if any.
pub(crate) fn describe(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    e.downcast_ref::<openssl::ssl::Error>().map(describe_ssl)
}

impl TlsStream for SslStream<TransportAdapter> {
    fn below(&self) -> &TransportAdapter {
        self.get_ref()
    }
    fn below_mut(&mut self) -> &mut TransportAdapter {
        self.get_mut()
    }
    fn peer_alert(&mut self) -> Option<std::io::Error> {
        // SSL_read processes the records that arrived (the alert among them); nothing is sent.
        let mut byte = [0u8; 1];
        match self.ssl_read(&mut byte) {
            Err(e) if e.ssl_error().is_some() => Some(std::io::Error::other(e)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_codes_map_to_the_rustls_messages() {
        assert_eq!(verify_reason(10), msg::EXPIRED);
        assert_eq!(verify_reason(20), msg::UNKNOWN_ISSUER);
        assert_eq!(verify_reason(62), msg::WRONG_NAME);
        assert_eq!(verify_reason(64), msg::WRONG_NAME);
        assert_eq!(verify_reason(68), msg::BAD_SIGNATURE);
        assert_eq!(verify_reason(9999), msg::OTHER);
        assert_eq!(alert_name(70), "ProtocolVersion");
        assert_eq!(alert_name(200), "Unknown(200)");
    }
}
