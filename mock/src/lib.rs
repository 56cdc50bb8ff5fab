//! A local mock of WeChat Pay's face-SDK `get_wxpayface_authinfo` endpoint.
//!
//! [`MockServer`] is a small HTTP/1.1 server on 127.0.0.1 (plain `std::net`, one accept thread
//! and one thread per connection, keep-alive) that validates requests and signs responses the
//! way WeChat does (see `docs/PROTOCOL.md`), or misbehaves on purpose according to a
//! [`Scenario`]. It has its own APIv2 signer ([`sign`]) and does not depend on the `wxface`
//! crate, so tests that pass against it cross-check the library's signer.
//!
//! ```no_run
//! use wxface_mock::{MockConfig, MockServer, Scenario};
//! let server = MockServer::start(MockConfig { scenario: Scenario::Normal, ..Default::default() })?;
//! let url = format!("{}{}", server.base_url(), wxface_mock::PATH);
//! // … point the client at `url` …
//! assert_eq!(server.connections_accepted(), 0);
//! server.stop();
//! # Ok::<(), std::io::Error>(())
//! ```

mod http;
mod server;
mod signer;
mod tls;
mod xml;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

pub use server::{MockServer, RecordedRequest};
pub use signer::sign;
pub use tls::{TestCa, TlsIdentity};

/// The mock's default APIv2 key (exactly 32 bytes, like a real one).
pub const DEFAULT_KEY: &str = "wxfacemock0123456789abcdefABCDEF";

/// The only path the mock serves.
pub const PATH: &str = "/face/get_wxpayface_authinfo";

/// How the mock answers a request to [`PATH`].
///
/// Every scenario other than [`Scenario::Normal`] answers without validating the request. A
/// request whose `rawdata` is exactly `MOCK:<name>` (with a [`Scenario::name`]) is answered with
/// that scenario instead of the configured one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// Behave like WeChat: validate the request, answer a signed SUCCESS.
    Normal,
    /// A valid SUCCESS response whose `sign` has one hex digit changed.
    TamperedSign,
    /// A SUCCESS response without `<sign>`.
    MissingSign,
    /// A correctly signed SUCCESS response echoing a different `mch_id`.
    WrongMchId,
    /// Signed `ERROR` / `无效的RawData数据`.
    SignedError,
    /// Signed `SYSTEMERROR` / `生成authinfo失败`.
    SignedSystemError,
    /// HTTP 500 with a short text body.
    Http500,
    /// HTTP 200 with the `text/html` body `this is not xml`.
    NotXml,
    /// HTTP 200 announcing more Content-Length than is sent, then the socket closes.
    Truncated,
    /// A signed SUCCESS padded with an extra field to more than 100 KiB.
    Oversized,
    /// Read the request, then never answer (the socket stays open until the server stops).
    Hang,
    /// Read the request, then close the socket without answering.
    Drop,
    /// A signed SUCCESS with extra unknown fields (one in CDATA with markup, one Chinese).
    ExtraFields,
}

impl Scenario {
    /// Every scenario, in declaration order.
    pub const ALL: &'static [Scenario] = &[
        Scenario::Normal,
        Scenario::TamperedSign,
        Scenario::MissingSign,
        Scenario::WrongMchId,
        Scenario::SignedError,
        Scenario::SignedSystemError,
        Scenario::Http500,
        Scenario::NotXml,
        Scenario::Truncated,
        Scenario::Oversized,
        Scenario::Hang,
        Scenario::Drop,
        Scenario::ExtraFields,
    ];

    /// The kebab-case name, as accepted by [`FromStr`] and `MOCK:<name>`.
    pub fn name(&self) -> &'static str {
        match self {
            Scenario::Normal => "normal",
            Scenario::TamperedSign => "tampered-sign",
            Scenario::MissingSign => "missing-sign",
            Scenario::WrongMchId => "wrong-mch-id",
            Scenario::SignedError => "signed-error",
            Scenario::SignedSystemError => "signed-system-error",
            Scenario::Http500 => "http-500",
            Scenario::NotXml => "not-xml",
            Scenario::Truncated => "truncated",
            Scenario::Oversized => "oversized",
            Scenario::Hang => "hang",
            Scenario::Drop => "drop",
            Scenario::ExtraFields => "extra-fields",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing an unknown scenario name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownScenario(pub String);

impl fmt::Display for UnknownScenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown scenario {:?}; known: ", self.0)?;
        let names: Vec<&str> = Scenario::ALL.iter().map(Scenario::name).collect();
        f.write_str(&names.join(", "))
    }
}

impl std::error::Error for UnknownScenario {}

impl FromStr for Scenario {
    type Err = UnknownScenario;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scenario::ALL
            .iter()
            .copied()
            .find(|sc| sc.name() == s)
            .ok_or_else(|| UnknownScenario(s.to_owned()))
    }
}

/// How a [`MockServer`] behaves.
#[derive(Clone, Debug)]
pub struct MockConfig {
    /// The APIv2 key requests are checked and responses signed with.
    pub key: String,
    /// The scenario for requests not otherwise overridden.
    pub scenario: Scenario,
    /// The first `fail_first` requests to [`PATH`] get `fail_with` (before any `MOCK:` override).
    pub fail_first: usize,
    /// The scenario for the first `fail_first` requests.
    pub fail_with: Scenario,
    /// Sleep this long before answering every request.
    pub delay: Duration,
    /// The mock's clock is system time plus this many seconds (the `now` check and `Date`).
    pub clock_offset_secs: i64,
    /// The `expires_in` of SUCCESS answers, in seconds (WeChat: 3600).
    pub expires_in: u32,
    /// Serve HTTPS with this identity instead of plain HTTP (see [`TestCa`]).
    pub tls: Option<TlsIdentity>,
    /// Identifiers that must be in every request, as WeChat's account binding would demand:
    /// `(field, value)` pairs among `appid`, `mch_id`, `sub_appid`, `sub_mch_id` (a missing field
    /// counts as empty). In [`Scenario::Normal`], a correctly signed request with a current
    /// `now` whose identifiers differ gets `ERROR` /
    /// `请检查mchid,submchid,appid,subappid等信息是否正确`. Default: none (any ids pass).
    pub expect_ids: Vec<(String, String)>,
    /// When set, [`Scenario::Normal`] accepts only a `rawdata` that starts with this prefix, the
    /// way WeChat accepts only rawdata made by the face SDK; any other gets `ERROR` /
    /// `无效的RawData数据` (after the signature, `now` and identifier checks, as WeChat orders
    /// them). Default: `None`, any rawdata is accepted (a lenient server).
    pub rawdata_prefix: Option<String>,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            key: DEFAULT_KEY.to_owned(),
            scenario: Scenario::Normal,
            fail_first: 0,
            fail_with: Scenario::Http500,
            delay: Duration::ZERO,
            clock_offset_secs: 0,
            expires_in: 3600,
            tls: None,
            expect_ids: Vec::new(),
            rawdata_prefix: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_names_round_trip() {
        assert_eq!(Scenario::ALL.len(), 13);
        for sc in Scenario::ALL {
            assert_eq!(sc.name().parse::<Scenario>(), Ok(*sc));
        }
        assert!("Normal".parse::<Scenario>().is_err());
        assert_eq!(DEFAULT_KEY.len(), 32);
    }
}
