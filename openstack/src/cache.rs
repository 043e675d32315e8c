//! Tokens kept between invocations, so that a fence agent run every few seconds does not log in
//! (Keystone hashes the password) and have Nova validate a new token (another Keystone call)
//! each time: on the lab that is 2 s of a 2.1 s `off`.
//!
//! An entry is a token, when it expires and its catalog, in a root-only directory under /run
//! (tmpfs: gone at reboot), one file per set of credentials: the file name is a hash of every
//! field, the password included, so changed credentials never find an old token. An entry is
//! used only while more than five minutes of the token's life are left, and the caller forgets
//! it when a service refuses the token (revoked, user disabled). The directory and the files
//! must be private (no group or other permissions), else they are not used.

use crate::keystone::Credentials;
use crate::Secret;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// A token with less life than this left is not taken from the cache.
const MIN_LIFE_LEFT: i64 = 300;

/// Biggest entry we read (a catalog is a few KiB).
const MAX_ENTRY: u64 = 1 << 20;

/// Where tokens are kept between invocations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCache {
    dir: PathBuf,
}

/// A token read back from the cache.
pub(crate) struct Cached {
    pub token: Secret,
    pub catalog: Value,
    pub expires_epoch: i64,
}

pub(crate) fn now_epoch() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn private(path: &Path) -> bool {
    fs::symlink_metadata(path)
        .is_ok_and(|m| !m.file_type().is_symlink() && m.permissions().mode() & 0o077 == 0)
}

impl TokenCache {
    pub fn new(dir: impl Into<PathBuf>) -> TokenCache {
        TokenCache { dir: dir.into() }
    }

    fn path(&self, c: &Credentials) -> PathBuf {
        let mut hash = Sha256::new();
        let (app_id, app_secret) = match &c.application_credential {
            Some((id, secret)) => (id.as_str(), secret.expose()),
            None => ("", ""),
        };
        let region = c.region_name.as_deref().unwrap_or("");
        let ca_file = c
            .ca_file
            .as_deref()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let insecure = if c.ssl_insecure { "1" } else { "0" };
        for part in [
            c.auth_url.as_str(),
            c.username.as_str(),
            c.password.expose(),
            c.project_name.as_str(),
            c.user_domain.as_str(),
            c.project_domain.as_str(),
            region,
            c.interface.as_str(),
            insecure,
            ca_file.as_str(),
            app_id,
            app_secret,
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        let name: String = hash
            .finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect();
        self.dir.join(format!("{name}.token"))
    }

    /// The token kept for these credentials, if it lives long enough still.
    pub(crate) fn load(&self, c: &Credentials) -> Option<Cached> {
        let path = self.path(c);
        if !private(&self.dir) || !private(&path) {
            return None;
        }
        let file = fs::File::open(&path).ok()?;
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_ENTRY), &mut text).ok()?;
        let entry: Value = serde_json::from_str(&text).ok()?;
        let token = entry.get("token")?.as_str()?.to_string();
        let expires_epoch = entry.get("expires_epoch")?.as_i64()?;
        if token.is_empty() || expires_epoch - now_epoch() <= MIN_LIFE_LEFT {
            return None;
        }
        Some(Cached {
            token: Secret::new(token),
            catalog: entry.get("catalog").cloned().unwrap_or(Value::Null),
            expires_epoch,
        })
    }

    /// Keep a token. Best effort: a cache that cannot be written costs the next run a login.
    pub(crate) fn store(
        &self,
        c: &Credentials,
        token: &Secret,
        catalog: &Value,
        expires_epoch: i64,
    ) {
        if let Err(e) = self.write(&self.path(c), token, catalog, expires_epoch) {
            tracing::debug!("token cache not written: {}", e.kind());
        }
    }

    fn write(
        &self,
        path: &Path,
        token: &Secret,
        catalog: &Value,
        expires_epoch: i64,
    ) -> std::io::Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)?;
        if !private(&self.dir) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "directory not private",
            ));
        }
        let temporary = path.with_extension(format!("tmp{}", std::process::id()));
        let _ = fs::remove_file(&temporary);
        let entry =
            json!({"token": token.expose(), "expires_epoch": expires_epoch, "catalog": catalog});
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all(entry.to_string().as_bytes())?;
        drop(file);
        fs::rename(&temporary, path)
    }

    /// Drop the token kept for these credentials (a service refused it).
    pub fn forget(&self, c: &Credentials) {
        let _ = fs::remove_file(self.path(c));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(password: &str) -> Credentials {
        Credentials::password("http://k/v3", "admin", Secret::new(password), "admin")
    }

    #[test]
    fn entries_are_per_credentials_private_and_expire() {
        let dir = tempfile::tempdir().expect("dir");
        let cache = TokenCache::new(dir.path().join("cache"));
        let (c, other) = (credentials("a"), credentials("b"));
        assert!(cache.load(&c).is_none());
        let life = now_epoch() + 3600;
        cache.store(&c, &Secret::new("tok"), &json!([{"type": "compute"}]), life);
        let got = cache.load(&c).expect("stored");
        assert_eq!((got.token.expose(), got.expires_epoch), ("tok", life));
        assert_eq!(got.catalog[0]["type"], "compute");
        assert!(
            cache.load(&other).is_none(),
            "another password is another entry"
        );
        let mode = fs::metadata(cache.path(&c))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // almost expired: not used
        cache.store(&c, &Secret::new("old"), &Value::Null, now_epoch() + 60);
        assert!(cache.load(&c).is_none());
        cache.store(&c, &Secret::new("tok"), &Value::Null, life);
        // a directory others can read is not trusted
        fs::set_permissions(dir.path().join("cache"), fs::Permissions::from_mode(0o755))
            .expect("chmod");
        assert!(cache.load(&c).is_none());
        fs::set_permissions(dir.path().join("cache"), fs::Permissions::from_mode(0o700))
            .expect("chmod");
        assert!(cache.load(&c).is_some());
        cache.forget(&c);
        assert!(cache.load(&c).is_none());
    }
}
