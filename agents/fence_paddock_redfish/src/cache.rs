//! Which system URI a plug named, remembered between invocations, so that the next `status`
//! is one authenticated GET instead of a read of the collection and its members.
//!
//! An entry is written only after a full discovery chose the system, and it is only a hint:
//! the caller reads the system it names and uses it only if that system still matches the plug
//! (else the entry is dropped and discovery runs again). Entries hold no secret: one file per
//! BMC address, Redfish root and plug, containing a URI, in a root-only directory under /run
//! (gone at reboot, when a BMC may have changed).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Where entries live unless `PADDOCK_REDFISH_CACHE` names another directory ("" disables).
pub const DEFAULT_DIR: &str = "/run/paddock/fence_paddock_redfish";
pub const DIR_ENV: &str = "PADDOCK_REDFISH_CACHE";

/// Longest URI we keep: Redfish URIs are short; anything else is not ours.
const MAX_URI: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlugCache {
    dir: PathBuf,
}

impl PlugCache {
    /// The cache directory from the environment (or the default); None when disabled.
    pub fn from_env() -> Option<PlugCache> {
        match std::env::var(DIR_ENV) {
            Ok(dir) if dir.trim().is_empty() => None,
            Ok(dir) => Some(PlugCache::new(dir)),
            Err(_) => Some(PlugCache::new(DEFAULT_DIR)),
        }
    }

    pub fn new(dir: impl Into<PathBuf>) -> PlugCache {
        PlugCache { dir: dir.into() }
    }

    fn path(&self, origin: &str, root: &str, plug: &str) -> PathBuf {
        let mut hash = Sha256::new();
        for part in [origin, root, plug] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        let name: String = hash
            .finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect();
        self.dir.join(name)
    }

    /// The URI remembered for this plug, if any (a missing or odd entry is no entry).
    pub fn lookup(&self, origin: &str, root: &str, plug: &str) -> Option<String> {
        let text = fs::read_to_string(self.path(origin, root, plug)).ok()?;
        let uri = text.trim();
        (uri.starts_with('/') && uri.len() <= MAX_URI && !uri.contains(char::is_whitespace))
            .then(|| uri.to_string())
    }

    /// Remember `uri` for this plug. Best effort: a cache that cannot be written only costs
    /// the next invocation a discovery.
    pub fn store(&self, origin: &str, root: &str, plug: &str, uri: &str) {
        if let Err(e) = self.write(&self.path(origin, root, plug), uri) {
            tracing::debug!("plug cache not written: {e}");
        }
    }

    fn write(&self, path: &Path, uri: &str) -> std::io::Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)?;
        let temporary = path.with_extension(format!("tmp{}", std::process::id()));
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all(format!("{uri}\n").as_bytes())?;
        // rename is atomic: a concurrent reader sees the old entry or the new one
        fs::rename(&temporary, path)
    }

    pub fn forget(&self, origin: &str, root: &str, plug: &str) {
        let _ = fs::remove_file(self.path(origin, root, plug));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn remembers_per_bmc_root_and_plug() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = PlugCache::new(dir.path().join("sub"));
        let origin = "https://10.0.0.5:443";
        assert_eq!(cache.lookup(origin, "/redfish/v1", "node1"), None);
        cache.store(origin, "/redfish/v1", "node1", "/redfish/v1/Systems/1");
        assert_eq!(
            cache.lookup(origin, "/redfish/v1", "node1").as_deref(),
            Some("/redfish/v1/Systems/1")
        );
        assert_eq!(cache.lookup(origin, "/redfish/v1", "node2"), None);
        assert_eq!(
            cache.lookup("https://10.0.0.6:443", "/redfish/v1", "node1"),
            None
        );
        let mode = fs::metadata(dir.path().join("sub"))
            .expect("dir")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        cache.forget(origin, "/redfish/v1", "node1");
        assert_eq!(cache.lookup(origin, "/redfish/v1", "node1"), None);
    }

    #[test]
    fn odd_entries_are_no_entries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = PlugCache::new(dir.path());
        let path = cache.path("o", "/r", "p");
        for odd in ["http://elsewhere/x", "/a b", ""] {
            fs::write(&path, odd).expect("write");
            assert_eq!(cache.lookup("o", "/r", "p"), None, "{odd:?}");
        }
    }

    #[test]
    fn an_unwritable_cache_is_not_an_error() {
        PlugCache::new("/proc/no-such-dir").store("o", "/r", "p", "/u");
    }
}
