//! Base URL rules shared by the WeChat endpoints and the relay: `https://`, or `http://` only
//! for a loopback host (tests, the mock); no credentials, query or fragment.

use crate::error::{Error, Result};

/// Checks the scheme and host rule and strips a trailing slash.
pub(crate) fn normalize_base_url(field: &'static str, url: &str) -> Result<String> {
    let err = |reason: &str| Error::invalid(field, reason.to_owned());
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(err("contains whitespace or control characters"));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| err("must start with https:// (or http:// for a loopback host)"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err(err("has no host"));
    }
    if authority.contains('@') || rest.contains(['?', '#']) {
        return Err(err("must not contain credentials, a query or a fragment"));
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => {
            return Err(err(
                "plain http:// is only allowed for a loopback host (tests, the mock); use https://",
            ));
        }
        _ => return Err(err("scheme must be https (or http for a loopback host)")),
    }
    Ok(url.trim_end_matches('/').to_owned())
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_rules() {
        for ok in [
            "https://payapp.weixin.qq.com",
            "https://payapp.weixin.qq.com/",
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://localhost:1/",
            "http://[::1]:99",
            "https://10.0.0.1:8443/prefix",
        ] {
            assert!(normalize_base_url("base_url", ok).is_ok(), "{ok}");
        }
        assert_eq!(
            normalize_base_url("base_url", "http://127.0.0.1:1/").unwrap(),
            "http://127.0.0.1:1"
        );
        for bad in [
            "",
            "payapp.weixin.qq.com",
            "http://payapp.weixin.qq.com",
            "http://10.0.0.1",
            "http://127.0.0.1.evil.com",
            "http://localhost.evil.com",
            "ftp://127.0.0.1",
            "https://user:pw@host",
            "https://host/?q",
            "https:// host",
            "https://",
        ] {
            assert!(normalize_base_url("base_url", bad).is_err(), "{bad}");
        }
    }
}
