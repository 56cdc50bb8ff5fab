//! Per-device bearer tokens, stored only as SHA-256 hashes in a text file
//! (`<device_id> <sha256 hex>` per line), re-read when the file changes.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Prefix of every token, so a leaked one is recognisable in a scan.
pub const TOKEN_PREFIX: &str = "wxr_";

/// SHA-256 of `token`, lower-case hex.
pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A new token: the prefix and 32 bytes from the OS random source, hex.
pub fn generate() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut bytes[..]).expect("the OS random source is available");
    Zeroizing::new(format!("{TOKEN_PREFIX}{}", hex(&bytes[..])))
}

fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next(), parts.next()) {
            (Some(d), Some(h), None)
                if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                out.push((d.to_owned(), h.to_ascii_lowercase()));
            }
            _ => {
                return Err(format!(
                    "line {}: expected `<device_id> <sha256 hex>`",
                    n + 1
                ));
            }
        }
    }
    Ok(out)
}

fn read(path: &Path) -> Result<Vec<(String, String)>, String> {
    match std::fs::read_to_string(path) {
        Ok(t) => parse(&t).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

fn write(path: &Path, entries: &[(String, String)]) -> Result<(), String> {
    let mut text = String::from("# wxface-relay token hashes: <device_id> <sha256 of the token>\n");
    for (d, h) in entries {
        let _ = writeln!(text, "{d} {h}");
    }
    let tmp = path.with_extension("tmp");
    let mut f =
        std::fs::File::create(&tmp).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot replace {}: {e}", path.display()))
}

/// Issues a token for `device_id`, stores its hash and returns the token (shown once).
pub fn add(path: &Path, device_id: &str) -> Result<Zeroizing<String>, String> {
    if device_id.is_empty() || device_id.len() > 32 || device_id.chars().any(char::is_whitespace) {
        return Err("device id must be 1 to 32 bytes without spaces".into());
    }
    let mut entries = read(path)?;
    let token = generate();
    entries.push((device_id.to_owned(), hash(&token)));
    write(path, &entries)?;
    Ok(token)
}

/// Removes every token of `device_id`; returns how many were removed.
pub fn revoke(path: &Path, device_id: &str) -> Result<usize, String> {
    let mut entries = read(path)?;
    let before = entries.len();
    entries.retain(|(d, _)| d != device_id);
    let removed = before - entries.len();
    write(path, &entries)?;
    Ok(removed)
}

type Stamp = (Option<SystemTime>, u64, u64);

fn stamp(path: &Path) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(path) {
        Ok(m) => (m.modified().ok(), m.len(), m.ino()),
        Err(_) => (None, 0, 0),
    }
}

/// The relay's view of the token file: hash → device id, reloaded when the file changes
/// (so `token revoke` takes effect on the next request).
pub struct TokenStore {
    path: Option<PathBuf>,
    state: Mutex<(Stamp, HashMap<String, String>)>,
}

impl TokenStore {
    /// A store over `path`; `None` accepts no token.
    pub fn new(path: Option<PathBuf>) -> Result<TokenStore, String> {
        let store = TokenStore {
            path,
            state: Mutex::new(((None, u64::MAX, 0), HashMap::new())),
        };
        store.reload()?;
        Ok(store)
    }

    fn reload(&self) -> Result<(), String> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let now = stamp(path);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.0 == now {
            return Ok(());
        }
        let map = read(path)?.into_iter().map(|(d, h)| (h, d)).collect();
        *state = (now, map);
        Ok(())
    }

    /// The device a token was issued for, if it is known and not revoked.
    pub fn device_for(&self, token: &str) -> Option<String> {
        // A broken file keeps the last good view rather than locking every terminal out.
        let _ = self.reload();
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.1.get(&hash(token)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_lookup_revoke() {
        let dir = std::env::temp_dir().join(format!("wxface-relay-tok-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tokens");
        let _ = std::fs::remove_file(&path);
        let t1 = add(&path, "POS-01").unwrap();
        let t2 = add(&path, "POS-02").unwrap();
        assert!(t1.starts_with(TOKEN_PREFIX) && t1.len() == 68 && *t1 != *t2);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&t1[4..]), "the token itself is never stored");
        let store = TokenStore::new(Some(path.clone())).unwrap();
        assert_eq!(store.device_for(&t1).as_deref(), Some("POS-01"));
        assert_eq!(store.device_for(&t2).as_deref(), Some("POS-02"));
        assert_eq!(store.device_for("wxr_guess"), None);
        assert_eq!(revoke(&path, "POS-01").unwrap(), 1);
        assert_eq!(store.device_for(&t1), None);
        assert_eq!(store.device_for(&t2).as_deref(), Some("POS-02"));
        assert!(add(&path, "two words").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
