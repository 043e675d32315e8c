//! Host services under `ocf:paddock:procwatch` (nova-compute, libvirtd, vdsm...): a service
//! recorded running whose process is gone (or a zombie, or its pid reused) is reported to
//! Pacemaker within a quarter of a second, not at its next monitor.
//!
//! procwatch records each service in `<HA_RSCTMP>/procwatch-<resource>.state`: `pid`, its
//! `starttime` (the guard against PID reuse), `phase` (starting, running, stopping) and
//! `resource`. Deaths while starting (a daemon forking away) or stopping (Pacemaker's wish) are
//! not failures.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::state::Shared;

const EVERY: Duration = Duration::from_millis(250);
/// A dead service is looked at again after this: its agent may just have recorded a new pid.
const SECOND_LOOK: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Service {
    pub resource: String,
    pub pid: i32,
    pub starttime: u64,
    pub running: bool,
}

/// The services procwatch recorded in `state_dir`.
pub fn recorded(state_dir: &Path) -> Vec<(PathBuf, Service)> {
    let Ok(entries) = std::fs::read_dir(state_dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("procwatch-") && name.ends_with(".state")
        })
        .filter_map(|p| Some((p.clone(), read(&p)?)))
        .collect()
}

fn read(path: &Path) -> Option<Service> {
    let text = std::fs::read_to_string(path).ok()?;
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(str::trim)
    };
    Some(Service {
        resource: get("resource").filter(|r| !r.is_empty())?.to_string(),
        pid: get("pid")?.parse().ok()?,
        starttime: get("starttime")?.parse().ok()?,
        running: get("phase") == Some("running"),
    })
}

/// Whether `pid` is still the process that started at `starttime` and not a zombie.
pub fn alive(pid: i32, starttime: u64) -> bool {
    process(pid)
        .is_some_and(|(state, started)| !matches!(state, 'Z' | 'X') && started == Some(starttime))
}

/// A process's state letter and start time (fields 3 and 22 of /proc/PID/stat); None when
/// there is no such process.
pub fn process(pid: i32) -> Option<(char, Option<u64>)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may hold anything but ends at the last ')'.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    Some((state, fields.get(19).and_then(|s| s.parse().ok())))
}

/// Watches the services until the process ends.
pub fn run(state_dir: PathBuf, shared: Arc<Shared>) -> ! {
    // Each dead process is reported once; Pacemaker's recovery records a new one.
    let mut reported: BTreeSet<Service> = BTreeSet::new();
    loop {
        for (path, service) in recorded(&state_dir) {
            if !service.running || reported.contains(&service) {
                continue;
            }
            if alive(service.pid, service.starttime) {
                continue;
            }
            std::thread::sleep(SECOND_LOOK);
            if read(&path).as_ref() != Some(&service) || alive(service.pid, service.starttime) {
                continue;
            }
            tracing::warn!(
                "{}: its process {} is gone: reporting the failure to Pacemaker",
                service.resource,
                service.pid
            );
            match (shared.report)(&service.resource, &shared.node) {
                Ok(()) => {
                    tracing::info!("{}: failure reported", service.resource);
                    crate::cluster::record(
                        &service.resource,
                        &format!("process {} gone: failure reported", service.pid),
                    );
                }
                Err(e) => tracing::error!(
                    "{}: cannot report the failure ({e}); its next monitor will find it",
                    service.resource
                ),
            }
            reported.insert(service);
        }
        // Forget what is no longer recorded, so the set stays as small as the service list.
        let current: BTreeSet<Service> = recorded(&state_dir).into_iter().map(|(_, s)| s).collect();
        reported.retain(|s| current.contains(s));
        std::thread::sleep(EVERY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::sync::Mutex;

    fn own_starttime(pid: u32) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let rest = stat.rsplit_once(')').unwrap().1;
        rest.split_whitespace().nth(19).unwrap().parse().unwrap()
    }

    fn write(dir: &Path, resource: &str, pid: u32, starttime: u64, phase: &str) {
        std::fs::write(
            dir.join(format!("procwatch-{resource}.state")),
            format!("pid={pid}\nstarttime={starttime}\nsession=0\nwrote_pidfile=0\nphase={phase}\nresource={resource}\n"),
        )
        .unwrap();
    }

    #[test]
    fn alive_needs_the_same_start_time() {
        let me = std::process::id();
        let st = own_starttime(me);
        assert!(alive(me as i32, st));
        assert!(!alive(me as i32, st + 1), "a reused pid is not the service");
        assert!(!alive(i32::MAX, st));
    }

    /// A running service killed is reported once; one stopping or starting is not.
    #[test]
    fn a_dead_running_service_is_reported_once() {
        let dir = tempfile::tempdir().unwrap();
        let spawn = || {
            std::process::Command::new("sleep")
                .arg("60")
                .spawn()
                .unwrap()
        };
        let (mut running, mut stopping, mut starting) = (spawn(), spawn(), spawn());
        for (name, child, phase) in [
            ("svc-run", &running, "running"),
            ("svc-stop", &stopping, "stopping"),
            ("svc-start", &starting, "starting"),
        ] {
            write(
                dir.path(),
                name,
                child.id(),
                own_starttime(child.id()),
                phase,
            );
        }
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let shared = Arc::new(Shared::new(
            dir.path().join("paddock-vm"),
            "n1".into(),
            Box::new(move |r, n| {
                let _ = tx.lock().unwrap().send(format!("{r}@{n}"));
                Ok(())
            }),
        ));
        let state_dir = dir.path().to_path_buf();
        std::thread::spawn(move || run(state_dir, shared));
        std::thread::sleep(Duration::from_millis(400));
        assert!(rx.try_recv().is_err(), "a live service was reported");
        for child in [&mut running, &mut stopping, &mut starting] {
            child.kill().unwrap();
            child.wait().unwrap();
        }
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(3)).unwrap(),
            "svc-run@n1"
        );
        assert!(rx.recv_timeout(Duration::from_millis(800)).is_err());
    }
}
