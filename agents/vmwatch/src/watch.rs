//! One libvirt daemon watched: connect, register for events, compare every expected domain with
//! its real state, then report each failure the moment its event arrives. A lost or silent
//! connection is reconnected with a bounded backoff, and the comparison is done again, so a
//! guest that died meanwhile is reported too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ocf::Deadline;
use paddock_vm::activity::{self, Phase, Record};
use paddock_vm::health::classify;
use paddock_vm::remote::{Client, DomainEvent, OpenError};

use crate::records::Records;
use crate::state::{Link, Shared};
use crate::verdict;

/// Bound of each connection attempt and of each call.
const CALL_TIME: Duration = Duration::from_secs(10);
/// How long to wait for an event before looking at the clock again.
const TICK: Duration = Duration::from_secs(1);
/// Quiet this long: ping the daemon (it answers, or pings us itself every 5 s).
const PING_AFTER: Duration = Duration::from_secs(5);
/// Silent this long despite pings: the daemon is wedged; reconnect.
const SILENT_LIMIT: Duration = Duration::from_secs(15);
/// A full comparison this often, in case an event was never sent.
const RESYNC_EVERY: Duration = Duration::from_secs(60);
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

pub struct Watcher {
    uri: String,
    shared: Arc<Shared>,
    records: Records,
}

impl Watcher {
    pub fn new(uri: String, shared: Arc<Shared>) -> Watcher {
        let records = Records::new(&shared.records_dir);
        Watcher {
            uri,
            shared,
            records,
        }
    }

    /// Watches until the process ends.
    pub fn run(mut self) {
        let mut backoff = BACKOFF_FIRST;
        loop {
            let began = Instant::now();
            let why = match self.session() {
                Ok(never) => match never {},
                Err(why) => why,
            };
            tracing::warn!("libvirt at {}: {why}; reconnecting", self.uri);
            self.shared.set_link(&self.uri, Link::down(&why));
            // A session that lasted resets the backoff: this is a new outage.
            if began.elapsed() > BACKOFF_MAX * 2 {
                backoff = BACKOFF_FIRST;
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    /// One connection, for as long as it lives; returns why it ended.
    fn session(&mut self) -> Result<std::convert::Infallible, String> {
        let deadline = Deadline::after(CALL_TIME);
        let mut client = Client::connect(Some(&self.uri), deadline).map_err(|e| match e {
            OpenError::NeedsLibrary(why) => why,
            OpenError::Libvirt(e) => e.to_string(),
        })?;
        client.watch_events(deadline).map_err(|e| e.to_string())?;
        if self.shared.set_link(&self.uri, Link::up()) {
            tracing::info!("libvirt at {}: connected, watching its domains", self.uri);
        }
        self.resync(&mut client)?;
        let mut last_resync = Instant::now();
        let mut last_ping = Instant::now();
        loop {
            if let Some(event) = client.next_event(TICK).map_err(|e| e.to_string())? {
                self.on_event(event);
            }
            if client.take_events_lost() || last_resync.elapsed() >= RESYNC_EVERY {
                self.resync(&mut client)?;
                last_resync = Instant::now();
            }
            let silent = client.silent_for();
            if silent >= SILENT_LIMIT {
                return Err(format!(
                    "no answer for {} s (libvirtd wedged?)",
                    silent.as_secs()
                ));
            }
            if silent >= PING_AFTER && last_ping.elapsed() >= PING_AFTER {
                client.ping().map_err(|e| e.to_string())?;
                last_ping = Instant::now();
            }
        }
    }

    fn on_event(&mut self, event: DomainEvent) {
        let Some(why) = verdict::failure(&event.kind) else {
            tracing::debug!("{}: {:?}", event.name, event.kind);
            return;
        };
        // The owner from the cache, its phase from its file: what the agent wrote last.
        let owner = self.records.owner(&self.uri, &event);
        let owner = owner.and_then(|r| activity::read(self.records.dir(), &r.resource));
        match owner {
            None => tracing::info!(
                "{}: {why}; no resource runs it on this node: not reported",
                event.name
            ),
            Some(record) if record.phase == Phase::Running => self.report(record, &why),
            Some(record) if record.phase == Phase::Failed => tracing::info!(
                "{} ({}): {why}; its failure is already reported",
                record.resource,
                event.name
            ),
            Some(record) => tracing::info!(
                "{} ({}): {why}, while Pacemaker is {} it: not a failure",
                record.resource,
                event.name,
                match record.phase {
                    Phase::Starting => "starting",
                    Phase::Migrating => "migrating",
                    _ => "stopping",
                }
            ),
        }
    }

    /// Compares every domain this node should run on this daemon with its real state.
    fn resync(&mut self, client: &mut Client) -> Result<(), String> {
        for record in self.records.on(&self.uri) {
            if record.phase != Phase::Running {
                continue;
            }
            let deadline = Deadline::after(CALL_TIME);
            let facts = client
                .find(&record.domain, record.uuid.as_deref(), deadline)
                .map_err(|e| e.to_string())?;
            let why = match facts {
                None => Some("gone from libvirt".to_string()),
                Some(f) if !f.status.is_active() => Some(format!("not running ({:?})", f.status)),
                Some(f) => classify(&record.domain, f.status).err().map(|e| e.reason),
            };
            if let Some(why) = why {
                self.report(record, &why);
            }
        }
        Ok(())
    }

    /// Marks the resource failed (so that more events about it are not reported again) and
    /// tells Pacemaker.
    fn report(&mut self, record: Record, why: &str) {
        // Decide on what the agent wrote last, not on a cached copy.
        let fresh = activity::read(self.records.dir(), &record.resource);
        let Some(record) = fresh.filter(|r| r.phase == Phase::Running) else {
            tracing::info!("{}: {why}, but no longer recorded running", record.resource);
            return;
        };
        tracing::warn!(
            "{} ({}): {why}: reporting the failure to Pacemaker",
            record.resource,
            record.domain
        );
        let resource = record.resource.clone();
        let domain = record.domain.clone();
        activity::note(self.records.dir(), &record.with_phase(Phase::Failed));
        match (self.shared.report)(&resource, &self.shared.node) {
            Ok(()) => {
                tracing::info!("{resource}: failure reported on {}", self.shared.node);
                crate::cluster::record(&resource, &format!("{domain} {why}: failure reported"));
            }
            Err(e) => tracing::error!(
                "{resource}: cannot report the failure ({e}); its next monitor will find it"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_libvirtd::{self, lifecycle_event, FakeDaemon};
    use paddock_vm::identity::Identity;
    use std::io::Write;
    use std::sync::mpsc::{self, Receiver};

    const UUID_A: [u8; 16] = [0xa; 16];
    const UUID_A_TEXT: &str = "0a0a0a0a-0a0a-0a0a-0a0a-0a0a0a0a0a0a";

    fn record(dir: &std::path::Path, resource: &str, domain: &str, uri: &str, phase: Phase) {
        let id = Identity {
            name: domain.into(),
            uuid: (domain == "a").then(|| UUID_A_TEXT.to_string()),
            emulator: None,
            domain_type: "kvm".into(),
        };
        activity::write(dir, &Record::new(resource, &id, Some(uri), phase)).unwrap();
    }

    /// A watcher on the fake daemon, its reports sent to the returned channel.
    fn watch(daemon: &FakeDaemon, dir: &std::path::Path) -> Receiver<String> {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let report: crate::state::Reporter = Box::new(move |resource, node| {
            let _ = tx.lock().unwrap().send(format!("{resource}@{node}"));
            Ok(())
        });
        let shared = Arc::new(Shared::new(dir.to_path_buf(), "n1".into(), report));
        let watcher = Watcher::new(daemon.uri.clone(), shared);
        std::thread::spawn(move || watcher.run());
        rx
    }
    use std::sync::Mutex;

    fn connection(daemon: &FakeDaemon) -> std::os::unix::net::UnixStream {
        daemon
            .connections
            .recv_timeout(Duration::from_secs(10))
            .expect("the watcher did not connect and register")
    }

    fn running(daemon: &FakeDaemon, name: &str, uuid: [u8; 16]) {
        daemon
            .domains
            .lock()
            .unwrap()
            .insert(name.into(), (uuid, 1, 1));
    }

    #[test]
    fn only_a_running_resource_s_failure_is_reported_and_only_once() {
        let daemon = fake_libvirtd::start();
        let dir = tempfile::tempdir().unwrap();
        running(&daemon, "a", UUID_A);
        running(&daemon, "b", [0xb; 16]);
        record(dir.path(), "vm-a", "a", &daemon.uri, Phase::Running);
        record(dir.path(), "vm-b", "b", &daemon.uri, Phase::Stopping);
        let reports = watch(&daemon, dir.path());
        let mut conn = connection(&daemon);
        // destroyed: c (no resource), b (being stopped by Pacemaker), then a twice
        for (name, uuid) in [
            ("c", [0xc; 16]),
            ("b", [0xb; 16]),
            ("a", UUID_A),
            ("a", UUID_A),
        ] {
            conn.write_all(&lifecycle_event(name, &uuid, 5, 1)).unwrap();
        }
        let first = reports.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(first, "vm-a@n1");
        assert!(reports.recv_timeout(Duration::from_millis(500)).is_err());
        let phase = activity::read(dir.path(), "vm-a").unwrap().phase;
        assert_eq!(phase, Phase::Failed);
        assert_eq!(
            activity::read(dir.path(), "vm-b").unwrap().phase,
            Phase::Stopping
        );
    }

    #[test]
    fn a_guest_gone_while_unwatched_is_reported_on_connect() {
        let daemon = fake_libvirtd::start();
        let dir = tempfile::tempdir().unwrap();
        running(&daemon, "a", UUID_A);
        record(dir.path(), "vm-a", "a", &daemon.uri, Phase::Running);
        record(dir.path(), "vm-gone", "gone", &daemon.uri, Phase::Running);
        let reports = watch(&daemon, dir.path());
        assert_eq!(
            reports.recv_timeout(Duration::from_secs(10)).unwrap(),
            "vm-gone@n1"
        );
        assert!(reports.recv_timeout(Duration::from_millis(300)).is_err());
    }

    /// 10 000 harmless events (pauses and resumes by a user) then one death: no panic, no false
    /// report, and the death is not lost behind the flood.
    #[test]
    fn a_flood_of_events_hides_no_failure() {
        let daemon = fake_libvirtd::start();
        let dir = tempfile::tempdir().unwrap();
        running(&daemon, "a", UUID_A);
        record(dir.path(), "vm-a", "a", &daemon.uri, Phase::Running);
        let reports = watch(&daemon, dir.path());
        let mut conn = connection(&daemon);
        let mut flood = Vec::new();
        for i in 0..10_000 {
            let (event, detail) = if i % 2 == 0 { (3, 0) } else { (4, 0) };
            flood.extend(lifecycle_event("a", &UUID_A, event, detail));
        }
        flood.extend(lifecycle_event("a", &UUID_A, 5, 5));
        // libvirtd's state agrees with its last event: a watcher that falls behind, drops the
        // connection and compares again must find the same failure
        daemon.domains.lock().unwrap().remove("a");
        if let Err(e) = conn.write_all(&flood) {
            assert!(
                matches!(
                    e.kind(),
                    std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
                ),
                "{e}"
            );
        }
        assert_eq!(
            reports.recv_timeout(Duration::from_secs(10)).unwrap(),
            "vm-a@n1"
        );
        assert!(reports.recv_timeout(Duration::from_millis(300)).is_err());
    }

    /// Garbage from the daemon ends the connection; the watcher connects again and compares.
    #[test]
    fn garbage_makes_the_watcher_reconnect_and_resync() {
        let daemon = fake_libvirtd::start();
        let dir = tempfile::tempdir().unwrap();
        running(&daemon, "a", UUID_A);
        record(dir.path(), "vm-a", "a", &daemon.uri, Phase::Running);
        let reports = watch(&daemon, dir.path());
        let mut conn = connection(&daemon);
        // the guest dies while the watcher is about to be cut off
        daemon.domains.lock().unwrap().remove("a");
        conn.write_all(&[0xff, 0xff, 0xff, 0x00, 1, 2, 3, 4])
            .unwrap();
        let _again = connection(&daemon);
        assert_eq!(
            reports.recv_timeout(Duration::from_secs(10)).unwrap(),
            "vm-a@n1"
        );
    }
}
