//! What this node's `vm` resources are doing, one small file per resource under
//! `<HA_RSCTMP>/paddock-vm` (/run/resource-agents/paddock-vm), written by the agent at each step of its actions and read by `vmwatch`.
//!
//! This is how the watcher tells a failure from Pacemaker's own work without asking the cluster:
//! a domain that stops while its resource is `stopping` or `migrating` is Pacemaker's doing; one
//! that stops while it is `running` has failed. A resource not started here has no file, so
//! domains that no resource owns (or owns elsewhere) are never reported. /run is emptied at boot,
//! as it should be: nothing runs then.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::identity::Identity;

/// The directory, under the agents' state directory (HA_RSCTMP) that `vm` and `vmwatch` share.
pub fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("paddock-vm")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// start or migrate_from in progress: failures are the action's to report.
    Starting,
    /// Started and no action in progress: a stop, crash or error pause is a failure.
    Running,
    /// stop in progress.
    Stopping,
    /// migrate_to in progress: the domain leaving is expected.
    Migrating,
    /// The watcher reported a failure; Pacemaker's recovery (stop, start) rewrites the file.
    Failed,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Running => "running",
            Phase::Stopping => "stopping",
            Phase::Migrating => "migrating",
            Phase::Failed => "failed",
        }
    }
    fn parse(s: &str) -> Option<Phase> {
        Some(match s {
            "starting" => Phase::Starting,
            "running" => Phase::Running,
            "stopping" => Phase::Stopping,
            "migrating" => Phase::Migrating,
            "failed" => Phase::Failed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The Pacemaker resource (OCF_RESOURCE_INSTANCE).
    pub resource: String,
    pub domain: String,
    pub uuid: Option<String>,
    /// The resource's `hypervisor` parameter; None: the default URI.
    pub hypervisor: Option<String>,
    pub phase: Phase,
    /// When the phase began (seconds since the epoch).
    pub since: u64,
    /// When monitor first found the guest paused by a user.
    pub paused_since: Option<u64>,
}

impl Record {
    pub fn new(resource: &str, id: &Identity, hypervisor: Option<&str>, phase: Phase) -> Record {
        Record {
            resource: resource.to_string(),
            domain: id.name.clone(),
            uuid: id.uuid.clone(),
            hypervisor: hypervisor.map(str::to_string),
            phase,
            since: now(),
            paused_since: None,
        }
    }

    fn encode(&self) -> String {
        let mut out = format!(
            "resource={}\ndomain={}\nphase={}\nsince={}\n",
            self.resource,
            self.domain,
            self.phase.as_str(),
            self.since
        );
        if let Some(u) = &self.uuid {
            out.push_str(&format!("uuid={u}\n"));
        }
        if let Some(h) = &self.hypervisor {
            out.push_str(&format!("hypervisor={h}\n"));
        }
        if let Some(p) = self.paused_since {
            out.push_str(&format!("paused_since={p}\n"));
        }
        out
    }

    fn decode(text: &str) -> Option<Record> {
        let field = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(str::to_string)
        };
        Some(Record {
            resource: field("resource")?,
            domain: field("domain")?,
            uuid: field("uuid"),
            hypervisor: field("hypervisor"),
            phase: Phase::parse(&field("phase")?)?,
            since: field("since")?.parse().ok()?,
            paused_since: field("paused_since").and_then(|p| p.parse().ok()),
        })
    }

    /// The same phase with a new time stamp, or a new phase.
    pub fn with_phase(mut self, phase: Phase) -> Record {
        if self.phase != phase {
            self.since = now();
        }
        self.phase = phase;
        self
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A resource name as a file name ('/' cannot be in one; Pacemaker ids never hold it anyway).
fn file_for(dir: &Path, resource: &str) -> PathBuf {
    dir.join(resource.replace('/', "_"))
}

/// Writes the record whole (a temporary file renamed over the old one: a reader never sees half).
pub fn write(dir: &Path, record: &Record) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let path = file_for(dir, &record.resource);
    let tmp = dir.join(format!(
        ".{}.{}",
        record.resource.replace('/', "_"),
        std::process::id()
    ));
    let mut f = fs::File::create(&tmp)?;
    f.write_all(record.encode().as_bytes())?;
    drop(f);
    fs::rename(&tmp, &path)
}

/// Writes, logging instead of failing: a lost record costs only the watcher's speed (the
/// monitor still finds the failure), never the action.
pub fn note(dir: &Path, record: &Record) {
    if let Err(e) = write(dir, record) {
        tracing::warn!(
            "cannot record {} as {} in {}: {e}",
            record.resource,
            record.phase.as_str(),
            dir.display()
        );
    }
}

pub fn read(dir: &Path, resource: &str) -> Option<Record> {
    Record::decode(&fs::read_to_string(file_for(dir, resource)).ok()?)
}

pub fn remove(dir: &Path, resource: &str) {
    let _ = fs::remove_file(file_for(dir, resource));
}

/// Every record in `dir` (unreadable or foreign files are skipped).
pub fn read_all(dir: &Path) -> Vec<Record> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| Record::decode(&fs::read_to_string(e.path()).ok()?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> Identity {
        Identity {
            name: "guest1".into(),
            uuid: Some("4b6e27a0-9c1f-4d2a-8e3b-0123456789ab".into()),
            emulator: None,
            domain_type: "kvm".into(),
        }
    }

    #[test]
    fn records_round_trip_and_are_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let r = Record::new("vm1", &id(), Some("qemu+tcp://h/system"), Phase::Starting);
        write(dir.path(), &r).unwrap();
        assert_eq!(read(dir.path(), "vm1"), Some(r.clone()));
        let running = Record {
            paused_since: Some(12),
            ..r.with_phase(Phase::Running)
        };
        write(dir.path(), &running).unwrap();
        assert_eq!(read_all(dir.path()), vec![running]);
        remove(dir.path(), "vm1");
        assert_eq!(read(dir.path(), "vm1"), None);
        assert!(read_all(dir.path()).is_empty());
    }

    #[test]
    fn foreign_files_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("junk"), "phase=sideways\n").unwrap();
        let r = Record::new("vm2", &id(), None, Phase::Running);
        write(dir.path(), &r).unwrap();
        assert_eq!(read_all(dir.path()), vec![r]);
        assert!(read_all(&dir.path().join("none")).is_empty());
    }
}
