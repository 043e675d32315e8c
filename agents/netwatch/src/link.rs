//! Link state of an interface from sysfs: operstate and carrier.

use std::path::{Path, PathBuf};

const SYS_CLASS_NET: &str = "/sys/class/net";

/// Where the kernel describes interfaces (a directory of the same shape in tests).
#[derive(Debug, Clone)]
pub struct Sysfs(PathBuf);

impl Default for Sysfs {
    fn default() -> Self {
        Sysfs(PathBuf::from(SYS_CLASS_NET))
    }
}

impl Sysfs {
    #[cfg(test)]
    pub fn at(dir: &Path) -> Sysfs {
        Sysfs(dir.to_path_buf())
    }

    pub fn exists(&self, interface: &str) -> bool {
        self.0.join(interface).exists()
    }

    /// Ok when the link is up with carrier, else why not. `unknown` counts as up: drivers that
    /// do not report operstate (dummy, some virtual NICs) say so while they carry traffic.
    pub fn link(&self, interface: &str) -> Result<(), String> {
        let dir = self.0.join(interface);
        let operstate = read(&dir, "operstate")
            .ok_or_else(|| format!("interface {interface} does not exist"))?;
        if !matches!(operstate.as_str(), "up" | "unknown") {
            return Err(format!("interface {interface} is {operstate}"));
        }
        // Reading carrier of an interface that is administratively down is an error (EINVAL).
        match read(&dir, "carrier").as_deref() {
            Some("1") => Ok(()),
            _ => Err(format!("interface {interface} has no carrier")),
        }
    }
}

fn read(dir: &Path, name: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(name))
        .ok()
        .map(|s| s.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(root: &Path, name: &str, operstate: &str, carrier: Option<&str>) {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("operstate"), format!("{operstate}\n")).unwrap();
        if let Some(c) = carrier {
            std::fs::write(dir.join("carrier"), format!("{c}\n")).unwrap();
        }
    }

    #[test]
    fn up_with_carrier_passes_and_everything_else_says_why() {
        let root = tempfile::tempdir().unwrap();
        iface(root.path(), "eth0", "up", Some("1"));
        iface(root.path(), "dummy0", "unknown", Some("1"));
        iface(root.path(), "eth1", "down", None);
        iface(root.path(), "eth2", "up", Some("0"));
        let sys = Sysfs::at(root.path());
        assert_eq!(sys.link("eth0"), Ok(()));
        assert_eq!(sys.link("dummy0"), Ok(()));
        assert_eq!(sys.link("eth1"), Err("interface eth1 is down".into()));
        assert_eq!(
            sys.link("eth2"),
            Err("interface eth2 has no carrier".into())
        );
        assert_eq!(
            sys.link("eth9"),
            Err("interface eth9 does not exist".into())
        );
        assert!(sys.exists("eth1") && !sys.exists("eth9"));
    }

    #[test]
    fn the_loopback_of_this_machine_is_up() {
        assert_eq!(Sysfs::default().link("lo"), Ok(()));
    }
}
