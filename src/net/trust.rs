//! Trust stores: where the root certificates that verify the payapp server come from, besides
//! the custom CAs of `ca_pem` / `ca_file`.
//!
//! - [`TrustStore::Bundled`] (the default): Mozilla's roots, compiled into the library
//!   as trust anchors (`webpki-roots`). Same on every device, updated with wxface releases.
//!   Not available in a `tls-openssl` build, whose default is `System`.
//! - [`TrustStore::System`]: the device's own store, read when the configuration is built. On
//!   Android the directory of PEM files Conscrypt uses (`/apex/com.android.conscrypt/cacerts` on
//!   Android 14 and later, else `/system/etc/security/cacerts`; one certificate per file, named
//!   by subject hash, the PEM block followed by a text dump); on Linux the distribution's bundle
//!   (`/etc/ssl/certs/ca-certificates.crt` and the other usual places). With
//!   [`user_cas`](crate::ConfigBuilder::user_cas), Android's user-added CAs too
//!   (`/data/misc/user/<user>/cacerts-added`).
//! - [`TrustStore::Both`]: the union.
//!
//! A path given with `system_ca_path` / `user_ca_path` replaces the default location: a
//! directory (every regular file in it is read, as Android lays them out) or a bundle file.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::net::tls::Certificate;

/// Which root certificates verify the server (besides `ca_pem` / `ca_file`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrustStore {
    /// Mozilla's roots, bundled in the library (the default). Not available in a `tls-openssl`
    /// build, which has no bundled roots: there `build()` refuses it.
    Bundled,
    /// The device's own store (Android: the system CA directory; Linux: the distribution's
    /// bundle).
    System,
    /// Both the bundled and the system roots.
    Both,
}

impl Default for TrustStore {
    /// [`TrustStore::Bundled`]; [`TrustStore::System`] in a `tls-openssl` build (no bundled
    /// roots there).
    fn default() -> TrustStore {
        if crate::net::tls::HAS_BUNDLED_ROOTS {
            TrustStore::Bundled
        } else {
            TrustStore::System
        }
    }
}

impl TrustStore {
    /// The C ABI's number: `WXFACE_TRUST_BUNDLED` 0, `WXFACE_TRUST_SYSTEM` 1,
    /// `WXFACE_TRUST_BOTH` 2 (also the Java `TrustStore` ordinal).
    pub fn code(self) -> u32 {
        match self {
            TrustStore::Bundled => 0,
            TrustStore::System => 1,
            TrustStore::Both => 2,
        }
    }

    /// The store for a C ABI number, `None` if unknown.
    pub fn from_code(code: u32) -> Option<TrustStore> {
        match code {
            0 => Some(TrustStore::Bundled),
            1 => Some(TrustStore::System),
            2 => Some(TrustStore::Both),
            _ => None,
        }
    }

    pub(crate) fn uses_bundled(self) -> bool {
        matches!(self, TrustStore::Bundled | TrustStore::Both)
    }

    pub(crate) fn uses_system(self) -> bool {
        matches!(self, TrustStore::System | TrustStore::Both)
    }
}

/// Where the system store is looked for, in order; the first that exists is used.
pub(crate) const SYSTEM_LOCATIONS: &[&str] = if cfg!(target_os = "android") {
    &[
        "/apex/com.android.conscrypt/cacerts",
        "/system/etc/security/cacerts",
    ]
} else {
    &[
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
        "/etc/ssl/ca-bundle.pem",
        "/etc/ssl/cert.pem",
    ]
};

/// The system store's location: the first of [`SYSTEM_LOCATIONS`] that exists.
pub(crate) fn default_system_location() -> Result<PathBuf> {
    SYSTEM_LOCATIONS
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .ok_or_else(|| {
            Error::invalid(
                "trust_store",
                format!(
                    "no system trust store found (looked for {}); set system_ca_path",
                    SYSTEM_LOCATIONS.join(", ")
                ),
            )
        })
}

/// Android's user-added CA directory for this process's user
/// (`/data/misc/user/<uid / 100000>/cacerts-added`); `None` elsewhere.
pub(crate) fn default_user_location() -> Option<PathBuf> {
    if !cfg!(target_os = "android") {
        return None;
    }
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let uid: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(PathBuf::from(format!(
        "/data/misc/user/{}/cacerts-added",
        uid / 100_000
    )))
}

/// The certificates of a store at `path`: every `CERTIFICATE` block of a bundle file, or of
/// every regular file of a directory (in name order; text around the blocks, as in Android's
/// files, is ignored, and a file without a readable certificate is skipped). Fails when the
/// path cannot be read or holds no certificate.
pub(crate) fn load(field: &'static str, path: &Path) -> Result<Vec<Certificate>> {
    let unreadable =
        |e: std::io::Error| Error::invalid(field, format!("cannot read {}: {e}", path.display()));
    let mut certs = Vec::new();
    if path.is_dir() {
        let mut files: Vec<PathBuf> = fs::read_dir(path)
            .map_err(unreadable)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for file in files {
            if let Ok(pem) = fs::read(&file) {
                certs.extend(certificates_in(&pem));
            }
        }
    } else {
        certs.extend(certificates_in(&fs::read(path).map_err(unreadable)?));
    }
    if certs.is_empty() {
        return Err(Error::invalid(
            field,
            format!("no PEM CERTIFICATE in {}", path.display()),
        ));
    }
    Ok(certs)
}

/// The `CERTIFICATE` blocks of one PEM text, stopping at the first malformed block.
fn certificates_in(pem: &[u8]) -> Vec<Certificate> {
    use rustls_pki_types::pem::PemObject;
    Certificate::pem_slice_iter(pem)
        .map_while(|c| c.ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_is_refused() {
        for s in [TrustStore::Bundled, TrustStore::System, TrustStore::Both] {
            assert_eq!(TrustStore::from_code(s.code()), Some(s));
        }
        assert_eq!(TrustStore::from_code(3), None);
        let default = if cfg!(feature = "tls-rustls") {
            TrustStore::Bundled
        } else {
            TrustStore::System
        };
        assert_eq!(TrustStore::default(), default);
    }

    #[test]
    fn an_empty_or_missing_store_is_an_error_naming_the_field() {
        let dir = std::env::temp_dir().join(format!("wxface-trust-unit-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("README"), "no certificate here\n").unwrap();
        let err = load("system_ca_path", &dir).unwrap_err();
        assert!(
            matches!(
                &err,
                Error::InvalidArgument {
                    field: "system_ca_path",
                    ..
                }
            ),
            "{err:?}"
        );
        let err = load("user_ca_path", &dir.join("missing")).unwrap_err();
        assert!(err.to_string().contains("cannot read"), "{err}");
        fs::remove_dir_all(&dir).ok();
    }
}
