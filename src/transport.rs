//! HTTPS transport: one ureq agent per client (so connections are reused), bounded reads and a
//! precise error for each way the exchange can fail.

use std::io;
use std::time::{Duration, SystemTime};

use ureq::tls::{RootCerts, TlsConfig};

use crate::config::Config;
use crate::error::{Error, Result};

/// A raw HTTP answer that reached us in full.
pub(crate) struct HttpResponse {
    pub body: Vec<u8>,
    /// The response's `Date` header, when present and well-formed.
    pub date: Option<SystemTime>,
}

pub(crate) struct Transport {
    agent: ureq::Agent,
    max_body: u64,
}

impl Transport {
    pub(crate) fn new(config: &Config, max_body: u64) -> Transport {
        let trust = &config.trust;
        let roots = if trust.extra.is_empty() {
            RootCerts::WebPki
        } else if trust.builtin {
            let bundled = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned());
            RootCerts::from(bundled.chain(trust.extra.iter().cloned()))
        } else {
            RootCerts::new_with_certs(&trust.extra)
        };
        let mut builder = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .timeout_connect(Some(config.connect_timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("wxface/", env!("CARGO_PKG_VERSION")))
            .tls_config(
                TlsConfig::builder()
                    .root_certs(roots)
                    .client_cert(client_cert_of(config))
                    .build(),
            );
        if let Some(p) = &config.proxy {
            builder = builder.proxy(Some(p.proxy.clone()));
        }
        let agent = builder.build().new_agent();
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
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_body)
            .read_to_vec()
            .map_err(map_error)?;
        Ok(HttpResponse { body, date })
    }
}

impl Transport {
    /// POSTs a JSON `body` (relay mode) with an optional bearer token within `timeout`, and
    /// reads at most `max_body` bytes of the answer whatever its status: the relay explains
    /// its failures in JSON.
    pub(crate) fn post_json(
        &self,
        url: &str,
        body: &str,
        bearer: Option<&str>,
        timeout: Duration,
    ) -> Result<(u16, Vec<u8>)> {
        let mut request = self
            .agent
            .post(url)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .header("Content-Type", "application/json")
            .header("Accept", "application/json");
        if let Some(token) = bearer {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let mut response = request.send(body).map_err(map_error)?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_body)
            .read_to_vec()
            .map_err(map_error)?;
        Ok((status, body))
    }
}

/// The client certificate to present, in relay mode with mutual TLS.
fn client_cert_of(config: &Config) -> Option<ureq::tls::ClientCert> {
    match &config.relay.as_ref()?.auth {
        crate::relay_setting::RelayAuth::ClientCert(c) => Some(c.clone()),
        crate::relay_setting::RelayAuth::Token(_) => None,
    }
}

fn map_error(e: ureq::Error) -> Error {
    use ureq::Error as U;
    match e {
        U::Timeout(t) => Error::Timeout(format!("{t} timeout expired")),
        U::HostNotFound => Error::Network("host not found (DNS)".into()),
        U::ConnectionFailed => Error::Network("connection failed".into()),
        U::Io(io) => map_io(io),
        U::Tls(m) => Error::Tls(m.to_owned()),
        U::Rustls(e) => Error::Tls(e.to_string()),
        U::Pem(e) => Error::Tls(format!("bad PEM: {e}")),
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
        U::ConnectProxyFailed(m) => Error::Network(format!("proxy CONNECT failed: {m}")),
        other => Error::Network(other.to_string()),
    }
}

fn map_io(e: io::Error) -> Error {
    // rustls reports handshake and certificate failures as InvalidData wrapping its own error.
    if let Some(inner) = e.get_ref() {
        if let Some(ureq::Error::Rustls(r)) = inner.downcast_ref::<ureq::Error>() {
            return Error::Tls(r.to_string());
        }
        let text = inner.to_string();
        if e.kind() == io::ErrorKind::InvalidData
            && (text.contains("certificate") || text.contains("handshake"))
        {
            return Error::Tls(text);
        }
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
