//! Trust stores: where the root certificates that verify the payapp server come from, besides
//! the custom CAs of `ca_pem` / `ca_file`.
//!
//! - [`TrustStore::Bundled`] (the default): Mozilla's roots, compiled into the library
//!   as trust anchors (`webpki-roots`). Same on every device, updated with wxface releases.
//!   Not available in a `tls-openssl` build, whose default is `System`.
//! - [`TrustStore::System`]: the device's own store, read when the client is made. On
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
//!
//! Every file named here, and `ca_file`, is read by [`crate::file`] (regular files only, at
//! most [`MAX_FILE_BYTES`](crate::file::MAX_FILE_BYTES)) when the client is made, not when the
//! configuration is validated.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::net::file;
use crate::net::tls::{self, Certificate, Roots};

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

/// Where a store is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Store {
    /// The platform's location (the system store: the first of [`SYSTEM_LOCATIONS`] that
    /// exists; the user store: Android's, for this process's user).
    Default,
    /// A path the caller gave.
    At(PathBuf),
}

/// Which roots server certificates are checked against, as configured: validated by
/// [`ConfigBuilder::build`](crate::ConfigBuilder::build) without reading anything; the files
/// are read by [`roots`] when the client is made.
#[derive(Clone, Debug)]
pub(crate) struct TrustSetting {
    /// Mozilla's roots, bundled.
    pub(crate) builtin: bool,
    /// Roots from `ca_pem` (parsed by `build`: bytes, no I/O).
    pub(crate) pem_roots: Arc<Vec<Certificate>>,
    /// `ca_file` paths.
    pub(crate) ca_files: Vec<PathBuf>,
    /// The system store, when the trust store uses it.
    pub(crate) system: Option<Store>,
    /// The user-added store, when `user_cas` asks for it.
    pub(crate) user: Option<Store>,
}

impl TrustSetting {
    /// Refuses a setting that can trust nothing: no bundled roots and no other source.
    pub(crate) fn check_some_root(&self) -> Result<()> {
        let sources = !self.pem_roots.is_empty()
            || !self.ca_files.is_empty()
            || self.system.is_some()
            || self.user.is_some();
        if !self.builtin && !sources {
            return Err(Error::invalid(
                "ca_pem",
                "the bundled roots are disabled and no CA certificate was given",
            ));
        }
        Ok(())
    }
}

/// The roots of `setting`, reading its files (`ca_file`, the system and the user store).
pub(crate) fn roots(setting: &TrustSetting) -> Result<Roots> {
    let files = !setting.ca_files.is_empty() || setting.system.is_some() || setting.user.is_some();
    if !files {
        return Ok(Roots {
            bundled: setting.builtin,
            extra: Arc::clone(&setting.pem_roots),
        });
    }
    let mut extra = (*setting.pem_roots).clone();
    for path in &setting.ca_files {
        extra.extend(parse_ca("ca_file", &file::read("ca_file", path)?)?);
    }
    if let Some(store) = &setting.system {
        let path = match store {
            Store::At(p) => p.clone(),
            Store::Default => default_system_location()?,
        };
        extra.extend(load("system_ca_path", &path)?);
    }
    match &setting.user {
        Some(Store::At(p)) => extra.extend(load("user_ca_path", p)?),
        Some(Store::Default) => match default_user_location() {
            // Android, nothing added by the user: nothing to add.
            Some(p) if !p.exists() => {}
            Some(p) => extra.extend(load("user_ca_path", &p)?),
            None => {
                return Err(Error::invalid(
                    "user_cas",
                    "the user CA store of this process was not found; set user_ca_path",
                ));
            }
        },
        None => {}
    }
    if !setting.builtin && extra.is_empty() {
        return Err(Error::invalid(
            "user_cas",
            "the bundled roots are disabled and the user CA store holds no certificate",
        ));
    }
    Ok(Roots {
        bundled: setting.builtin,
        extra: Arc::new(extra),
    })
}

/// Every `CERTIFICATE` block of a PEM text, at least one.
pub(crate) fn parse_ca(field: &'static str, pem: &[u8]) -> Result<Vec<Certificate>> {
    let certs = tls::pem_certificates(pem).map_err(|e| Error::invalid(field, e))?;
    if certs.is_empty() {
        return Err(Error::invalid(field, "contains no PEM CERTIFICATE"));
    }
    Ok(certs)
}

/// Whether the platform has a user-added CA store at a known place (Android).
pub(crate) const HAS_USER_STORE: bool = cfg!(target_os = "android");

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
    if !HAS_USER_STORE {
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
/// every regular file of a directory (read by [`file::read_file_or_dir`]: in name order, an
/// entry that cannot be opened is skipped, a FIFO or device is refused; text around the
/// blocks, as in Android's files, is ignored, and a file without a readable certificate is
/// skipped). Fails when the path cannot be read or holds no certificate.
pub(crate) fn load(field: &'static str, path: &Path) -> Result<Vec<Certificate>> {
    let mut certs = Vec::new();
    for pem in file::read_file_or_dir(field, path)? {
        certs.extend(certificates_in(&pem));
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
