//! Settings from three sources with the same names: command-line flags (`--mch-id`), the
//! environment (`WXFACE_MCH_ID`) and a TOML file (`mch_id = "…"`), in that order of precedence.
//! The API key is read from the environment or the file only, never from the command line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args};
use zeroize::Zeroizing;

/// `--config` and `--sign-type`: all that `sign` and `verify` read besides the key.
#[derive(Args, Debug, Default, Clone)]
pub struct KeyArgs {
    /// TOML file with any of the settings, and `key`: the API key is read only from there or
    /// WXFACE_KEY, never from a flag
    #[arg(
        long,
        value_name = "FILE",
        env = "WXFACE_CONFIG",
        hide_env_values = true
    )]
    pub config: Option<PathBuf>,
    /// HMAC-SHA256 (default) or MD5
    #[arg(long, env = "WXFACE_SIGN_TYPE", hide_env_values = true)]
    pub sign_type: Option<String>,
}

/// Settings shared by `authinfo` and `doctor`. Each is declared here once: its flag, its
/// environment variable and (its name) the config file's line. Values are read as text and
/// checked by [`Settings`], whichever source they came from.
#[derive(Args, Debug, Default, Clone)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub key: KeyArgs,
    /// Merchant number (service-provider mode: the provider's)
    #[arg(long, env = "WXFACE_MCH_ID", hide_env_values = true)]
    pub mch_id: Option<String>,
    /// The merchant's appid
    #[arg(long, env = "WXFACE_APPID", hide_env_values = true)]
    pub appid: Option<String>,
    /// Sub-merchant number (service-provider mode)
    #[arg(long, env = "WXFACE_SUB_MCH_ID", hide_env_values = true)]
    pub sub_mch_id: Option<String>,
    /// Sub-merchant appid (service-provider mode)
    #[arg(long, env = "WXFACE_SUB_APPID", hide_env_values = true)]
    pub sub_appid: Option<String>,
    /// Endpoint base URL, default https://payapp.weixin.qq.com
    #[arg(long, env = "WXFACE_BASE_URL", hide_env_values = true)]
    pub base_url: Option<String>,
    /// http://host:port or socks5://host:port, credentials allowed in the URL
    #[arg(long, env = "WXFACE_PROXY", hide_env_values = true)]
    pub proxy: Option<String>,
    /// Extra trusted root certificates (PEM)
    #[arg(
        long,
        value_name = "FILE",
        env = "WXFACE_CA_FILE",
        hide_env_values = true
    )]
    pub ca_file: Option<String>,
    /// Trust the bundled Mozilla roots: true (default) or false
    #[arg(long, env = "WXFACE_BUILTIN_ROOTS", hide_env_values = true)]
    pub builtin_roots: Option<String>,
    /// Bound on the whole command in seconds (authinfo default 10, doctor 20)
    #[arg(long, env = "WXFACE_TIMEOUT_SECS", hide_env_values = true)]
    pub timeout_secs: Option<String>,
    /// Store id
    #[arg(long, env = "WXFACE_STORE_ID", hide_env_values = true)]
    pub store_id: Option<String>,
    /// Store name
    #[arg(long, env = "WXFACE_STORE_NAME", hide_env_values = true)]
    pub store_name: Option<String>,
    /// Device id
    #[arg(long, env = "WXFACE_DEVICE_ID", hide_env_values = true)]
    pub device_id: Option<String>,
}

/// The key: from its environment variable or the config file only.
const KEY: &str = "key";
const KEY_ENV: &str = "WXFACE_KEY";

/// Every setting the config file may hold, with its environment variable: the arguments of
/// `wxface authinfo` (the command that reads them all) that have one, but `--config` itself,
/// then the key.
fn setting_names() -> Vec<(String, String)> {
    let command = <crate::Cli as clap::CommandFactory>::command();
    let authinfo = command
        .find_subcommand("authinfo")
        .expect("the authinfo command");
    authinfo
        .get_arguments()
        .filter(|a| a.get_id() != "config")
        .filter_map(|a| {
            let env = a.get_env()?.to_str()?.to_owned();
            Some((a.get_id().as_str().to_owned(), env))
        })
        .chain(std::iter::once((KEY.to_owned(), KEY_ENV.to_owned())))
        .collect()
}

/// The merged settings. `Debug` never shows the key.
#[derive(Default)]
pub struct Settings {
    values: BTreeMap<String, String>,
    key: Option<Zeroizing<String>>,
    /// Where each value came from (`flag`, `env`, `file`), for the doctor's report.
    sources: BTreeMap<String, &'static str>,
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

impl Settings {
    /// Merges flags, environment and file for the command whose arguments are `matches`.
    /// A setting the command has no flag for is still read from the environment and the file.
    pub fn load(matches: &ArgMatches) -> Result<Settings, String> {
        let mut s = Settings::default();
        let names = setting_names();
        let mut from_file = BTreeMap::new();
        let mut file_key = None;
        if let Some(path) = matches.get_one::<PathBuf>("config") {
            let (values, key) = read_file(path, &names)?;
            from_file = values;
            if let Some(w) = key.as_ref().and_then(|_| permission_warning(path)) {
                s.warnings.push(w);
            }
            file_key = key;
            s.file = Some(path.clone());
        }
        for (name, env) in &names {
            if name == KEY {
                continue;
            }
            // Only a flag: clap also fills in the environment, which is read below for every
            // setting, this command's flags or not.
            let flag = matches
                .try_get_one::<String>(name)
                .ok()
                .flatten()
                .filter(|_| matches.value_source(name) == Some(ValueSource::CommandLine))
                .cloned();
            let found = flag
                .map(|v| (v, "flag"))
                .or_else(|| std::env::var(env).ok().map(|v| (v, "env")))
                .or_else(|| from_file.remove(name).map(|v| (v, "file")));
            if let Some((v, src)) = found {
                s.values.insert(name.clone(), v);
                s.sources.insert(name.clone(), src);
            }
        }
        if let Ok(k) = std::env::var(KEY_ENV) {
            s.key = Some(Zeroizing::new(k));
            s.sources.insert(KEY.to_owned(), "env");
        } else if let Some(k) = file_key {
            s.key = Some(k);
            s.sources.insert(KEY.to_owned(), "file");
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
fn read_file(path: &Path, names: &[(String, String)]) -> Result<FileValues, String> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?,
    );
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
        if !names.iter().any(|(n, _)| *n == name) {
            let known: Vec<&str> = names.iter().map(|(n, _)| n.as_str()).collect();
            return Err(format!(
                "config file {}: unknown setting {name:?} (known: {})",
                path.display(),
                known.join(", ")
            ));
        }
        let v = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) if name != KEY => i.to_string(),
            toml::Value::Float(f) if name != KEY => f.to_string(),
            toml::Value::Boolean(b) if name != KEY => b.to_string(),
            _ => {
                return Err(format!(
                    "config file {}: {name} must be a string",
                    path.display()
                ));
            }
        };
        if name == KEY {
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
