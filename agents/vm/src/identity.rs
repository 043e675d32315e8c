//! Which domain this resource is: read from the config file, remembered in the state
//! directory so that monitor and stop still know the domain when the config file has
//! become unreadable (shared storage unmounted), while start refuses in that case.

use std::fs;
use std::path::{Path, PathBuf};

use ocf::OcfError;

use crate::domain_xml::{self, DomainConfig};

/// The domain's name and UUID, and its emulator (for the process fallback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub uuid: Option<String>,
    pub emulator: Option<String>,
    pub domain_type: String,
}

impl Identity {
    pub fn of(cfg: &DomainConfig) -> Identity {
        Identity {
            name: cfg.name.clone(),
            uuid: cfg.uuid.clone(),
            emulator: cfg.emulator.clone(),
            domain_type: cfg.domain_type.clone(),
        }
    }

    /// Whether a qemu process check can stand in for libvirt.
    pub fn is_qemu(&self) -> bool {
        let emu = self.emulator.as_deref().unwrap_or("");
        let base = emu.rsplit('/').next().unwrap_or(emu);
        base.starts_with("qemu")
            || base == "kvm"
            || matches!(self.domain_type.as_str(), "kvm" | "qemu")
    }
}

/// The config file read and parsed.
pub struct LoadedConfig {
    pub xml: String,
    pub domain: DomainConfig,
}

/// Reads the config file: unreadable → ERR_INSTALLED (a node-local problem, e.g. shared storage
/// not mounted here), not a domain → ERR_CONFIGURED.
pub fn load_config(path: &Path) -> Result<LoadedConfig, OcfError> {
    let xml = fs::read_to_string(path)
        .map_err(|e| OcfError::installed(format!("config {}: cannot read: {e}", path.display())))?;
    let domain = domain_xml::parse(&xml).map_err(|e| {
        OcfError::configured(format!(
            "config {}: not a libvirt domain: {e}",
            path.display()
        ))
    })?;
    Ok(LoadedConfig { xml, domain })
}

pub fn cache_path(state_dir: &Path, instance: &str) -> PathBuf {
    state_dir.join(format!("paddock-vm-{instance}.identity"))
}

pub fn remember(state_dir: &Path, instance: &str, id: &Identity) {
    let text = format!(
        "name={}\nuuid={}\nemulator={}\ntype={}\n",
        id.name,
        id.uuid.as_deref().unwrap_or(""),
        id.emulator.as_deref().unwrap_or(""),
        id.domain_type
    );
    let path = cache_path(state_dir, instance);
    if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        let _ = fs::create_dir_all(state_dir);
        if let Err(e) = fs::write(&path, text) {
            tracing::debug!(
                "cannot remember the domain identity in {}: {e}",
                path.display()
            );
        }
    }
}

pub fn remembered(state_dir: &Path, instance: &str) -> Option<Identity> {
    let text = fs::read_to_string(cache_path(state_dir, instance)).ok()?;
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .map(str::to_string)
            .filter(|v| !v.is_empty())
    };
    Some(Identity {
        name: field("name")?,
        uuid: field("uuid"),
        emulator: field("emulator"),
        domain_type: field("type").unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_and_recalls() {
        let dir = tempfile::tempdir().expect("tempdir");
        let id = Identity {
            name: "vm1".into(),
            uuid: Some("u".into()),
            emulator: None,
            domain_type: "kvm".into(),
        };
        assert_eq!(remembered(dir.path(), "r1"), None);
        remember(dir.path(), "r1", &id);
        assert_eq!(remembered(dir.path(), "r1"), Some(id.clone()));
        assert!(id.is_qemu());
    }

    #[test]
    fn unreadable_and_foreign_configs_have_distinct_codes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = load_config(&dir.path().join("missing.xml"))
            .err()
            .expect("missing");
        assert_eq!(e.status, ocf::OcfStatus::ErrInstalled);
        let p = dir.path().join("net.xml");
        fs::write(&p, "<network><name>n</name></network>").expect("write");
        let e = load_config(&p).err().expect("not a domain");
        assert_eq!(e.status, ocf::OcfStatus::ErrConfigured);
        assert!(e.reason.contains("<network>"), "{}", e.reason);
    }
}
