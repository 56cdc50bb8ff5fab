//! Moving bytes: the HTTP transport, proxies, TLS backends, trust stores, endpoint URLs, and
//! reading the files a caller names.

pub(crate) mod endpoint;
pub mod file;
pub(crate) mod proxy;
pub(crate) mod tls;
pub(crate) mod transport;
pub mod trust;
