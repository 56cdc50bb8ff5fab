//! Settings from three sources with the same names: command-line flags (`--mch-id`), the
//! environment (`WXFACE_MCH_ID`) and a TOML file (`mch_id = "…"`), in that order of precedence.
//! The API key is read from the environment or the file only, never from the command line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use zeroize::Zeroizing;

/// Every setting name, as written in the TOML file; the flag is `--` plus the name with `-` for
/// `_`, the variable `WXFACE_` plus the name in upper case.
pub const NAMES: &[&str] = &[
    "mch_id",
    "appid",
    "sub_mch_id",
    "sub_appid",
    "key",
    "sign_type",
    "base_url",
    "proxy",
    "ca_file",
    "builtin_roots",
    "timeout_secs",
    "store_id",
    "store_name",
    "device_id",
    "rawdata",
];

/// Flags shared by `authinfo` and `doctor`.
#[derive(Args, Debug, Default, Clone)]
pub struct ConfigArgs {
    /// TOML file with any of the settings below, and `key`: the API key is read only from there
    /// or WXFACE_KEY, never from a flag [env: WXFACE_CONFIG]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Merchant number (service-provider mode: the provider's) [env: WXFACE_MCH_ID]
    #[arg(long)]
    pub mch_id: Option<String>,
    /// The merchant's appid [env: WXFACE_APPID]
    #[arg(long)]
    pub appid: Option<String>,
    /// Sub-merchant number (service-provider mode) [env: WXFACE_SUB_MCH_ID]
    #[arg(long)]
    pub sub_mch_id: Option<String>,
    /// Sub-merchant appid (service-provider mode) [env: WXFACE_SUB_APPID]
    #[arg(long)]
    pub sub_appid: Option<String>,
    /// HMAC-SHA256 (default) or MD5 [env: WXFACE_SIGN_TYPE]
    #[arg(long)]
    pub sign_type: Option<String>,
    /// Endpoint base URL, default https://payapp.weixin.qq.com [env: WXFACE_BASE_URL]
    #[arg(long)]
    pub base_url: Option<String>,
    /// http://host:port or socks5://host:port, credentials allowed in the URL [env: WXFACE_PROXY]
    #[arg(long)]
    pub proxy: Option<String>,
    /// Extra trusted root certificates (PEM) [env: WXFACE_CA_FILE]
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Trust the bundled Mozilla roots: true (default) or false [env: WXFACE_BUILTIN_ROOTS]
    #[arg(long)]
    pub builtin_roots: Option<bool>,
    /// Bound on the whole command in seconds (authinfo default 10, doctor 20) [env: WXFACE_TIMEOUT_SECS]
    #[arg(long)]
    pub timeout_secs: Option<f64>,
    /// Store id [env: WXFACE_STORE_ID]
    #[arg(long)]
    pub store_id: Option<String>,
    /// Store name [env: WXFACE_STORE_NAME]
    #[arg(long)]
    pub store_name: Option<String>,
    /// Device id [env: WXFACE_DEVICE_ID]
    #[arg(long)]
    pub device_id: Option<String>,
}

/// The merged settings. `Debug` never shows the key.
#[derive(Default)]
pub struct Settings {
    values: BTreeMap<&'static str, String>,
    key: Option<Zeroizing<String>>,
    /// Where each value came from (`flag`, `env`, `file`), for the doctor's report.
    sources: BTreeMap<&'static str, &'static str>,
    /// Warnings to print (e.g. a key file readable by others).
    pub warnings: Vec<String>,
    /// The config file used, if any.
    pub file: Option<PathBuf>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("values", &self.values.keys().collect::<Vec<_>>())
            .field("key", &self.key.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

fn env_name(name: &str) -> String {
    format!("WXFACE_{}", name.to_ascii_uppercase())
}

impl Settings {
    /// Merges flags, environment and file. `extra` holds subcommand-specific flags by name
    /// (e.g. `rawdata`).
    pub fn load(
        args: &ConfigArgs,
        extra: &[(&'static str, Option<String>)],
    ) -> Result<Settings, String> {
        let mut s = Settings::default();
        let file = args
            .config
            .clone()
            .or_else(|| std::env::var_os("WXFACE_CONFIG").map(PathBuf::from));
        let mut from_file = BTreeMap::new();
        let mut file_key = None;
        if let Some(path) = &file {
            let (values, key) = read_file(path)?;
            from_file = values;
            if let Some(w) = key.as_ref().and_then(|_| permission_warning(path)) {
                s.warnings.push(w);
            }
            file_key = key;
            s.file = Some(path.clone());
        }
        let flag_value = |name: &str| -> Option<String> {
            let v = match name {
                "mch_id" => args.mch_id.clone(),
                "appid" => args.appid.clone(),
                "sub_mch_id" => args.sub_mch_id.clone(),
                "sub_appid" => args.sub_appid.clone(),
                "sign_type" => args.sign_type.clone(),
                "base_url" => args.base_url.clone(),
                "proxy" => args.proxy.clone(),
                "ca_file" => args.ca_file.as_ref().map(|p| p.display().to_string()),
                "builtin_roots" => args.builtin_roots.map(|b| b.to_string()),
                "timeout_secs" => args.timeout_secs.map(|t| t.to_string()),
                "store_id" => args.store_id.clone(),
                "store_name" => args.store_name.clone(),
                "device_id" => args.device_id.clone(),
                _ => None,
            };
            v.or_else(|| {
                extra
                    .iter()
                    .find(|(n, _)| *n == name)
                    .and_then(|(_, v)| v.clone())
            })
        };
        for &name in NAMES {
            if name == "key" {
                continue;
            }
            let found = flag_value(name)
                .map(|v| (v, "flag"))
                .or_else(|| std::env::var(env_name(name)).ok().map(|v| (v, "env")))
                .or_else(|| from_file.get(name).cloned().map(|v| (v, "file")));
            if let Some((v, src)) = found {
                s.values.insert(name, v);
                s.sources.insert(name, src);
            }
        }
        if let Ok(k) = std::env::var("WXFACE_KEY") {
            s.key = Some(Zeroizing::new(k));
            s.sources.insert("key", "env");
        } else if let Some(k) = file_key {
            s.key = Some(k);
            s.sources.insert("key", "file");
        }
        Ok(s)
    }

    /// A setting's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Where a setting came from: `flag`, `env` or `file`.
    pub fn source(&self, name: &str) -> Option<&'static str> {
        self.sources.get(name).copied()
    }

    /// The key, if one was given.
    pub fn key(&self) -> Option<&Zeroizing<String>> {
        self.key.as_ref()
    }

    /// `timeout_secs` as a duration, or `default`.
    pub fn timeout(&self, default: Duration) -> Result<Duration, String> {
        match self.get("timeout_secs") {
            None => Ok(default),
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|t| t.is_finite() && *t > 0.0 && *t <= 3600.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| format!("timeout_secs: expected seconds in (0, 3600], got {v:?}")),
        }
    }

    /// `builtin_roots` (default true).
    pub fn builtin_roots(&self) -> Result<bool, String> {
        match self.get("builtin_roots") {
            None => Ok(true),
            Some("true" | "1" | "yes") => Ok(true),
            Some("false" | "0" | "no") => Ok(false),
            Some(v) => Err(format!("builtin_roots: expected true or false, got {v:?}")),
        }
    }

    /// The sign type (default HMAC-SHA256).
    pub fn sign_type(&self) -> Result<wxface::SignType, String> {
        match self.get("sign_type") {
            None => Ok(wxface::SignType::HmacSha256),
            Some(v) => parse_sign_type(v),
        }
    }

    /// The base URL (default WeChat's).
    pub fn base_url(&self) -> &str {
        self.get("base_url").unwrap_or(wxface::DEFAULT_BASE_URL)
    }

    /// The library configuration. `timeout` bounds the call.
    pub fn build_config(
        &self,
        timeout: Duration,
        tweak: impl FnOnce(wxface::ConfigBuilder) -> wxface::ConfigBuilder,
    ) -> Result<wxface::Config, String> {
        let key = self
            .key
            .as_ref()
            .ok_or("no API key: set WXFACE_KEY or `key` in the config file (never a flag)")?;
        let key = wxface::ApiKey::new(key.as_str().to_owned()).map_err(|e| e.to_string())?;
        let mch_id = self.get("mch_id").ok_or("mch_id is required")?;
        let appid = self.get("appid").ok_or("appid is required")?;
        let mut b = wxface::Config::builder(mch_id, appid, key)
            .sign_type(self.sign_type()?)
            .base_url(self.base_url())
            .timeout(timeout)
            .builtin_roots(self.builtin_roots()?);
        if let Some(v) = self.get("sub_mch_id") {
            b = b.sub_mch_id(v);
        }
        if let Some(v) = self.get("sub_appid") {
            b = b.sub_appid(v);
        }
        if let Some(v) = self.get("proxy") {
            b = b.proxy(v);
        }
        if let Some(v) = self.get("ca_file") {
            b = b.ca_file(v);
        }
        tweak(b).build().map_err(|e| e.to_string())
    }
}

/// `MD5` or `HMAC-SHA256` (case-insensitive, `-` optional).
pub fn parse_sign_type(v: &str) -> Result<wxface::SignType, String> {
    match v.to_ascii_uppercase().replace('_', "-").as_str() {
        "MD5" => Ok(wxface::SignType::Md5),
        "HMAC-SHA256" | "HMACSHA256" => Ok(wxface::SignType::HmacSha256),
        _ => Err(format!("sign_type: expected MD5 or HMAC-SHA256, got {v:?}")),
    }
}

type FileValues = (BTreeMap<String, String>, Option<Zeroizing<String>>);

/// Reads the TOML file: a flat table of the known names, strings (numbers and booleans are
/// accepted as such). Unknown names are refused, so a typo is not silently ignored.
fn read_file(path: &Path) -> Result<FileValues, String> {
    // The library's reader: a regular file only, size-capped, never blocking on a FIFO; the
    // buffer (which holds the key) is wiped when dropped.
    let bytes = wxface::file::read("config", path).map_err(|e| e.to_string())?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| format!("config file {}: not UTF-8", path.display()))?;
    // toml's errors quote the offending line, which could be the key's: keep only the position.
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let at = e
            .span()
            .map(|s| {
                let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                format!(" at line {line}")
            })
            .unwrap_or_default();
        format!("config file {}: not valid TOML{at}", path.display())
    })?;
    let mut values = BTreeMap::new();
    let mut key = None;
    for (name, value) in table {
        if !NAMES.contains(&name.as_str()) {
            return Err(format!(
                "config file {}: unknown setting {name:?} (known: {})",
                path.display(),
                NAMES.join(", ")
            ));
        }
        let v = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) if name != "key" => i.to_string(),
            toml::Value::Float(f) if name != "key" => f.to_string(),
            toml::Value::Boolean(b) if name != "key" => b.to_string(),
            _ => {
                return Err(format!(
                    "config file {}: {name} must be a string",
                    path.display()
                ));
            }
        };
        if name == "key" {
            key = Some(Zeroizing::new(v));
        } else {
            values.insert(name, v);
        }
    }
    Ok((values, key))
}

#[cfg(unix)]
fn permission_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o044 != 0).then(|| {
        format!(
            "warning: {} holds the API key and is readable by group/others (mode {:o}); run: chmod 600 {}",
            path.display(),
            mode & 0o777,
            path.display()
        )
    })
}

#[cfg(not(unix))]
fn permission_warning(_path: &Path) -> Option<String> {
    None
}
