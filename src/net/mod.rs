//! Moving bytes: the HTTP transport, proxies, TLS backends, trust stores and endpoint URLs.

pub(crate) mod endpoint;
pub(crate) mod proxy;
pub(crate) mod tls;
pub(crate) mod transport;
pub mod trust;
