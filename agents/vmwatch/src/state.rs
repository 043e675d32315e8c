//! What the watcher threads share, and the status file the daemon keeps for the agent's
//! monitor: one line per watched libvirt daemon, rewritten every second (its age is the
//! daemon's heartbeat).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use paddock_vm::activity::now;

/// The daemon's files, in the agents' state directory.
pub fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("paddock-vmwatch")
}
pub fn pid_file(state_dir: &Path) -> PathBuf {
    dir(state_dir).join("pid")
}
pub fn status_file(state_dir: &Path) -> PathBuf {
    dir(state_dir).join("status")
}

/// The connection to one libvirt daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub up: bool,
    pub since: u64,
    pub why: String,
}

impl Link {
    pub fn up() -> Link {
        Link {
            up: true,
            since: now(),
            why: String::new(),
        }
    }
    pub fn down(why: &str) -> Link {
        Link {
            up: false,
            since: now(),
            why: why.replace(['\n', '\t'], " "),
        }
    }
}

/// Tells the cluster that a resource failed on a node (crm_resource; a recorder in tests).
pub type Reporter = Box<dyn Fn(&str, &str) -> Result<(), String> + Send + Sync>;

pub struct Shared {
    /// Where the vm agents record their resources.
    pub records_dir: PathBuf,
    /// This node's name, for `crm_resource --fail --node`.
    pub node: String,
    pub report: Reporter,
    links: Mutex<BTreeMap<String, Link>>,
}

impl Shared {
    pub fn new(records_dir: PathBuf, node: String, report: Reporter) -> Shared {
        Shared {
            records_dir,
            node,
            report,
            links: Mutex::new(BTreeMap::new()),
        }
    }

    /// Sets a link's state (keeping the time it entered it); true when it changed.
    pub fn set_link(&self, uri: &str, link: Link) -> bool {
        let mut links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        match links.get(uri) {
            Some(old) if old.up == link.up => false,
            _ => {
                links.insert(uri.to_string(), link);
                true
            }
        }
    }

    pub fn links(&self) -> BTreeMap<String, Link> {
        self.links.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// `uri<TAB>up|down<TAB>since<TAB>why` lines.
pub fn encode_status(links: &BTreeMap<String, Link>) -> String {
    links
        .iter()
        .map(|(uri, l)| {
            let state = if l.up { "up" } else { "down" };
            format!("{uri}\t{state}\t{}\t{}\n", l.since, l.why)
        })
        .collect()
}

pub fn decode_status(text: &str) -> BTreeMap<String, Link> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.splitn(4, '\t');
            let uri = f.next()?.to_string();
            let up = f.next()? == "up";
            let since = f.next()?.parse().ok()?;
            let why = f.next().unwrap_or("").to_string();
            Some((uri, Link { up, since, why }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_change_only_between_up_and_down_and_round_trip() {
        let shared = Shared::new("/nonexistent".into(), "n1".into(), Box::new(|_, _| Ok(())));
        assert!(shared.set_link("qemu:///system", Link::down("refused")));
        assert!(!shared.set_link("qemu:///system", Link::down("refused again")));
        assert!(shared.set_link("qemu:///system", Link::up()));
        assert!(shared.set_link("qemu+tcp://h/system", Link::down("a\tb")));
        let links = shared.links();
        assert_eq!(decode_status(&encode_status(&links)), links);
        assert_eq!(links["qemu+tcp://h/system"].why, "a b");
    }
}
