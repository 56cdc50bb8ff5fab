//! The relay-mode part of a configuration: the relay's URL and how the terminal authenticates
//! (bearer token or client certificate), checked when the configuration is built. The calls
//! themselves are in [`crate::relay`].

use std::fmt;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::net::tls::{self, ClientIdentity};

/// How the terminal proves who it is to the relay.
#[derive(Clone)]
pub(crate) enum RelayAuth {
    /// `Authorization: Bearer <token>`.
    Token(Zeroizing<String>),
    /// A client certificate chain and its private key (mutual TLS).
    ClientCert(ClientIdentity),
}

/// The relay of a configuration. `Debug` never shows the token or the key.
#[derive(Clone)]
pub(crate) struct RelaySetting {
    /// The validated base URL, without trailing slash.
    pub(crate) url: String,
    pub(crate) auth: RelayAuth,
}

impl RelaySetting {
    /// The client certificate to present, with mutual TLS.
    pub(crate) fn client_identity(&self) -> Option<&ClientIdentity> {
        match &self.auth {
            RelayAuth::ClientCert(c) => Some(c),
            RelayAuth::Token(_) => None,
        }
    }
}

impl fmt::Debug for RelaySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match self.auth {
            RelayAuth::Token(_) => "bearer token ***",
            RelayAuth::ClientCert(_) => "client certificate",
        };
        write!(f, "Relay({} with {auth})", self.url)
    }
}

/// The relay setting of a configuration, checked: `None` in direct mode.
pub(crate) fn setting(
    url: Option<&str>,
    token: Option<&Zeroizing<String>>,
    cert: Option<&(Vec<u8>, Zeroizing<Vec<u8>>)>,
    has_key: bool,
) -> Result<Option<RelaySetting>> {
    let Some(url) = url else {
        if token.is_some() || cert.is_some() {
            return Err(Error::invalid(
                "relay_url",
                "is not set, but relay credentials are",
            ));
        }
        return Ok(None);
    };
    if has_key {
        return Err(Error::invalid(
            "api_key",
            "must not be set in relay mode: the relay holds the key",
        ));
    }
    let url = crate::net::endpoint::normalize_base_url("relay_url", url)?;
    let auth = match (token, cert) {
        (Some(t), None) => {
            if !t.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(Error::invalid(
                    "relay_token",
                    "must be printable ASCII without spaces",
                ));
            }
            RelayAuth::Token(t.clone())
        }
        (None, Some((c, k))) => RelayAuth::ClientCert(client_cert(c, k)?),
        (None, None) => {
            return Err(Error::invalid(
                "relay_token",
                "relay mode needs a bearer token or a client certificate",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "relay_token",
                "give a bearer token or a client certificate, not both",
            ));
        }
    };
    Ok(Some(RelaySetting { url, auth }))
}

/// Parses a client certificate chain and key (PEM) for mutual TLS, and checks that the TLS
/// backend can use them (the key parses, is RSA, ECDSA or Ed25519, and belongs to the
/// certificate), so an unusable pair is refused here rather than at the first call. Errors
/// name the problem, never the key's bytes.
pub(crate) fn client_cert(cert_pem: &[u8], key_pem: &[u8]) -> Result<ClientIdentity> {
    let chain =
        tls::pem_certificates(cert_pem).map_err(|e| Error::invalid("relay_client_cert", e))?;
    if chain.is_empty() {
        return Err(Error::invalid(
            "relay_client_cert",
            "no CERTIFICATE block in the PEM",
        ));
    }
    let identity = ClientIdentity {
        chain,
        key_pem: Zeroizing::new(key_pem.to_vec()),
    };
    {
        use rustls_pki_types::PrivateKeyDer;
        use rustls_pki_types::pem::PemObject;
        // Parsed once to tell "not PEM" from "not usable"; the DER copy is dropped at once.
        PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|_| Error::invalid("relay_client_key", "not a PEM private key"))?;
    }
    tls::backend::check_identity(&identity).map_err(|()| {
        Error::invalid(
            "relay_client_key",
            "not a usable private key for this certificate (RSA, ECDSA or Ed25519, PEM)",
        )
    })?;
    Ok(identity)
}
