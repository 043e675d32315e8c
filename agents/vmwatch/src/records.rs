//! The `vm` resources active on this node, as their agent records them (see
//! `paddock_vm::activity`), read again only when the directory changed.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use paddock_vm::activity::{self, Record};
use paddock_vm::remote::DomainEvent;

/// The URI a record's `hypervisor` means (None: what the vm agent opens by default).
pub fn uri_of(hypervisor: Option<&str>) -> String {
    match hypervisor {
        Some(h) if !h.is_empty() => h.to_string(),
        _ => std::env::var("LIBVIRT_DEFAULT_URI")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "qemu:///system".to_string()),
    }
}

/// A directory unchanged for this long is not being written within the same clock tick.
const SETTLED: Duration = Duration::from_secs(1);

pub struct Records {
    dir: PathBuf,
    seen: Option<SystemTime>,
    all: Vec<Record>,
}

impl Records {
    pub fn new(dir: &Path) -> Records {
        Records {
            dir: dir.to_path_buf(),
            seen: None,
            all: Vec::new(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every record, re-read when the directory's modification time moved (each write is a
    /// rename into it, so a new or changed record always moves it) or is too recent to tell:
    /// file times advance by the kernel's clock tick, so two writes within one tick share one.
    pub fn all(&mut self) -> &[Record] {
        let mtime = std::fs::metadata(&self.dir).and_then(|m| m.modified()).ok();
        let settled = mtime
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > SETTLED);
        if !settled || mtime != self.seen {
            self.all = activity::read_all(&self.dir);
            self.seen = mtime;
        }
        &self.all
    }

    /// The records of domains on `uri`.
    pub fn on(&mut self, uri: &str) -> Vec<Record> {
        self.all()
            .iter()
            .filter(|r| uri_of(r.hypervisor.as_deref()) == uri)
            .cloned()
            .collect()
    }

    /// The record of the resource that runs the event's domain on `uri`, by UUID, else by name.
    pub fn owner(&mut self, uri: &str, event: &DomainEvent) -> Option<Record> {
        let mine = self.on(uri);
        mine.iter()
            .find(|r| r.uuid.as_deref() == Some(event.uuid.as_str()))
            .or_else(|| mine.iter().find(|r| r.domain == event.name))
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paddock_vm::activity::Phase;
    use paddock_vm::identity::Identity;
    use paddock_vm::remote::EventKind;

    fn record(resource: &str, domain: &str, uuid: Option<&str>, uri: Option<&str>) -> Record {
        let id = Identity {
            name: domain.into(),
            uuid: uuid.map(str::to_string),
            emulator: None,
            domain_type: "kvm".into(),
        };
        Record::new(resource, &id, uri, Phase::Running)
    }

    #[test]
    fn the_owner_is_found_by_uuid_then_name_on_the_same_daemon_only() {
        let dir = tempfile::tempdir().unwrap();
        let uuid = "4b6e27a0-9c1f-4d2a-8e3b-0123456789ab";
        activity::write(dir.path(), &record("vm-a", "a", Some(uuid), None)).unwrap();
        activity::write(
            dir.path(),
            &record("vm-b", "b", None, Some("qemu+tcp://h/system")),
        )
        .unwrap();
        let mut records = Records::new(dir.path());
        let event = |name: &str, uuid: &str| DomainEvent {
            name: name.into(),
            uuid: uuid.into(),
            kind: EventKind::Reboot,
        };
        // renamed domain, same UUID
        let found = records.owner("qemu:///system", &event("renamed", uuid));
        assert_eq!(found.unwrap().resource, "vm-a");
        assert!(records.owner("qemu:///system", &event("b", "x")).is_none());
        let found = records.owner("qemu+tcp://h/system", &event("b", "x"));
        assert_eq!(found.unwrap().resource, "vm-b");
        assert!(records
            .owner("qemu:///system", &event("stranger", "y"))
            .is_none());
        activity::remove(dir.path(), "vm-a");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(records.owner("qemu:///system", &event("a", uuid)).is_none());
    }
}
