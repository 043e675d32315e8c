//! A libvirt connection whose every call is bounded by a [`Deadline`].
//!
//! libvirt's client calls block until the daemon answers, and a stopped or wedged libvirtd
//! never answers (keepalive needs an event loop we do not run). So the connection lives on
//! its own worker thread; each call is a job sent to it, and the caller waits for the answer
//! only until the deadline. A call that times out leaves the worker blocked: the connection
//! is then marked stuck and every later call fails at once (the process exits soon after
//! anyway, which ends the blocked thread).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

use ocf::{xml, Deadline};
use virt::connect::Connect;
use virt::domain::{
    Domain, DomainPausedReason, DomainShutoffReason, DomainState, DomainStateReason,
};
use virt::error::ErrorNumber;

pub use crate::domain_state::{
    DomainFacts, DomainSize, DomainStatus, ErrorKind, LibvirtError, PauseReason,
};

fn kind_of(e: &virt::error::Error) -> ErrorKind {
    let code = e.code();
    if code.is(ErrorNumber::NoDomain) {
        ErrorKind::NoDomain
    } else if code.is(ErrorNumber::OperationInvalid) {
        ErrorKind::OperationInvalid
    } else if code.is(ErrorNumber::NoSupport) {
        ErrorKind::NoSupport
    } else {
        ErrorKind::Other
    }
}

fn status_of(dom: &Domain) -> Result<DomainStatus, virt::error::Error> {
    let (state, reason) = dom.state()?;
    let reason = match reason {
        virt::domain::DomainStateReasonEnum::Known(r) => Some(r),
        _ => None,
    };
    Ok(match state.unwrap_or(DomainState::NoState) {
        DomainState::Running => DomainStatus::Running,
        DomainState::Blocked => DomainStatus::Blocked,
        DomainState::Shutdown => DomainStatus::ShuttingDown,
        DomainState::Crashed => DomainStatus::Crashed,
        DomainState::PMSuspended => DomainStatus::PmSuspended,
        DomainState::NoState => DomainStatus::NoState,
        DomainState::Shutoff => DomainStatus::ShutOff {
            migrated: matches!(reason, Some(DomainStateReason::Shutoff(r)) if r.is(DomainShutoffReason::Migrated)),
        },
        DomainState::Paused => {
            let why = match reason {
                Some(DomainStateReason::Paused(r)) => {
                    match r.unwrap_or(DomainPausedReason::Unknown) {
                        DomainPausedReason::User => PauseReason::User,
                        DomainPausedReason::Migration
                        | DomainPausedReason::Save
                        | DomainPausedReason::Dump
                        | DomainPausedReason::FromSnapshot
                        | DomainPausedReason::ShuttingDown
                        | DomainPausedReason::Snapshot
                        | DomainPausedReason::StartingUp
                        | DomainPausedReason::PostCopy => PauseReason::Operation,
                        DomainPausedReason::IOError => PauseReason::IoError,
                        DomainPausedReason::Watchdog => PauseReason::Watchdog,
                        DomainPausedReason::Crashed => PauseReason::GuestCrashed,
                        DomainPausedReason::PostCopyFailed => PauseReason::PostCopyFailed,
                        DomainPausedReason::APIError | DomainPausedReason::Unknown => {
                            PauseReason::Unknown
                        }
                    }
                }
                _ => PauseReason::Unknown,
            };
            DomainStatus::Paused(why)
        }
    })
}

/// Progress of a domain job (migration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobProgress {
    pub active: bool,
    pub elapsed_ms: u64,
    pub data_total: u64,
    pub data_processed: u64,
    pub data_remaining: u64,
}

type Job = Box<dyn FnOnce(&Connect) + Send>;

/// One connection to a hypervisor URI, served by a worker thread.
pub struct Hypervisor {
    uri: String,
    jobs: Option<mpsc::Sender<Job>>,
    stuck: Arc<AtomicBool>,
    /// Signalled by the worker once the connection is closed.
    closed: Mutex<mpsc::Receiver<()>>,
    /// The operation's deadline: closing may use all of it.
    deadline: Deadline,
    worker: Option<thread::JoinHandle<()>>,
}

/// The least time dropping a connection waits for libvirt to close it, even past the deadline.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

impl Drop for Hypervisor {
    /// Closes the connection and waits for it, so that the process never exits while the worker
    /// is inside libvirt (libvirt's exit-time cleanup racing a close corrupts the heap). A stuck
    /// worker is not waited for: it is blocked on a socket read, not freeing anything.
    fn drop(&mut self) {
        self.jobs.take();
        if !self.stuck.load(Ordering::Relaxed) {
            // A close answered late by a busy libvirtd (seen during a live migration on the
            // same host) took more than a fixed 2 s: wait as long as the operation may.
            if let Ok(closed) = self.closed.lock() {
                let wait = self.deadline.remaining().max(CLOSE_WAIT);
                match closed.recv_timeout(wait) {
                    // Join too: the worker's thread-local destructors (libvirt's per-thread error)
                    // still run after its signal, and must not race the process's exit.
                    Ok(()) => {
                        if let Some(worker) = self.worker.take() {
                            let _ = worker.join();
                        }
                    }
                    Err(_) => tracing::warn!(
                        "libvirt did not close the connection to {} in {:?}",
                        self.uri,
                        wait
                    ),
                }
            }
        }
    }
}

/// `flags` for virDomainShutdownFlags (libvirt's virDomainShutdownFlagValues, stable ABI).
pub mod shutdown_flags {
    pub const DEFAULT: u32 = 0;
    pub const ACPI_POWER_BTN: u32 = 1;
    pub const GUEST_AGENT: u32 = 2;
    pub const INITCTL: u32 = 4;
    pub const SIGNAL: u32 = 8;
    pub const PARAVIRT: u32 = 16;
}

/// `flags` for virDomainMigrate* (virDomainMigrateFlags, stable ABI).
pub mod migrate_flags {
    pub const LIVE: u32 = 1;
    pub const PEER2PEER: u32 = 2;
    pub const UNSAFE: u32 = 512;
    pub const COMPRESSED: u32 = 2048;
    pub const ABORT_ON_ERROR: u32 = 4096;
    pub const AUTO_CONVERGE: u32 = 8192;
    pub const TLS: u32 = 65536;
}

/// `flags` for virDomainGetXMLDesc.
const XML_SECURE: u32 = 1;
const XML_INACTIVE: u32 = 2;

impl Hypervisor {
    /// Opens a connection to `uri` (libvirt's default URI when None), giving up at `deadline`.
    pub fn connect(uri: Option<&str>, deadline: Deadline) -> Result<Hypervisor, LibvirtError> {
        let shown = uri.unwrap_or("(default URI)").to_string();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<String, String>>();
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let (closed_tx, closed_rx) = mpsc::channel::<()>();
        let open_uri = uri.map(str::to_string);
        let spawned = thread::Builder::new()
            .name("libvirt".into())
            .spawn(move || {
                // libvirt prints every error on stderr by default; ours go to the exit reason.
                virt::error::clear_error_callback();
                match Connect::open(open_uri.as_deref()) {
                    Ok(conn) => {
                        let actual = conn.uri().unwrap_or_default();
                        if ready_tx.send(Ok(actual)).is_err() {
                            return; // the caller gave up already
                        }
                        while let Ok(job) = job_rx.recv() {
                            job(&conn);
                        }
                        drop(conn);
                        let _ = closed_tx.send(());
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.message().to_string()));
                    }
                }
            });
        let worker = match spawned {
            Ok(worker) => worker,
            Err(e) => {
                return Err(LibvirtError::Connect {
                    uri: shown,
                    message: format!("cannot start a thread: {e}"),
                })
            }
        };
        match ready_rx.recv_timeout(deadline.remaining()) {
            Ok(Ok(actual)) => Ok(Hypervisor {
                uri: if actual.is_empty() { shown } else { actual },
                jobs: Some(job_tx),
                stuck: Arc::new(AtomicBool::new(false)),
                closed: Mutex::new(closed_rx),
                deadline,
                worker: Some(worker),
            }),
            Ok(Err(message)) => Err(LibvirtError::Connect {
                uri: shown,
                message,
            }),
            Err(_) => Err(LibvirtError::Timeout {
                what: "connect".into(),
                uri: shown,
            }),
        }
    }

    /// The URI libvirt reports for this connection (the default URI resolved).
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Runs `f` against the connection on the worker thread; waits for it until `deadline`.
    pub fn call<R, F>(&self, what: &str, deadline: Deadline, f: F) -> Result<R, LibvirtError>
    where
        R: Send + 'static,
        F: FnOnce(&Connect) -> Result<R, virt::error::Error> + Send + 'static,
    {
        let timeout = || LibvirtError::Timeout {
            what: what.to_string(),
            uri: self.uri.clone(),
        };
        if self.stuck.load(Ordering::Relaxed) || deadline.expired() {
            return Err(timeout());
        }
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |conn| {
            let _ = tx.send(f(conn));
        });
        let sent = match &self.jobs {
            Some(jobs) => jobs.send(job).is_ok(),
            None => false,
        };
        if !sent {
            return Err(timeout());
        }
        match rx.recv_timeout(deadline.remaining()) {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(LibvirtError::Call {
                what: what.to_string(),
                kind: kind_of(&e),
                message: e.message().to_string(),
            }),
            Err(_) => {
                self.stuck.store(true, Ordering::Relaxed);
                Err(timeout())
            }
        }
    }

    /// A cheap round trip to the daemon (validate: "does the URI answer").
    pub fn ping(&self, deadline: Deadline) -> Result<String, LibvirtError> {
        self.call("get hypervisor type", deadline, |c| c.driver_type())
    }

    /// The domain named `name` (or, failing that, with `uuid`), None when libvirt does not know it.
    pub fn find(
        &self,
        name: &str,
        uuid: Option<&str>,
        deadline: Deadline,
    ) -> Result<Option<DomainFacts>, LibvirtError> {
        let name = name.to_string();
        let uuid = uuid.map(str::to_string);
        let found = self.call("look up domain", deadline, move |c| {
            let dom = match c.lookup_domain_by_name(&name) {
                Ok(d) => d,
                Err(e) if kind_of(&e) == ErrorKind::NoDomain => match uuid.as_deref() {
                    Some(u) => match c.lookup_domain_by_uuid_string(u) {
                        Ok(d) => d,
                        Err(e) if kind_of(&e) == ErrorKind::NoDomain => return Ok(None),
                        Err(e) => return Err(e),
                    },
                    None => return Ok(None),
                },
                Err(e) => return Err(e),
            };
            let status = status_of(&dom)?;
            Ok(Some(DomainFacts {
                name: dom.name()?,
                uuid: dom.uuid_string()?,
                status,
            }))
        });
        match found {
            // The domain vanished between lookup and state (a transient domain stopping).
            Err(e) if e.is_no_domain() => Ok(None),
            other => other,
        }
    }

    /// virDomainCreateXML: starts a transient domain.
    pub fn create_transient(&self, xml: &str, deadline: Deadline) -> Result<(), LibvirtError> {
        let xml = xml.to_string();
        self.call("start domain", deadline, move |c| {
            c.create_domain_xml(&xml, 0).map(|_| ())
        })
    }

    /// virDomainRestoreFlags: starts a domain from a saved memory image, running (the image
    /// was taken from a paused domain, see [`Hypervisor::save_memory`]).
    pub fn restore(&self, image: &str, deadline: Deadline) -> Result<(), LibvirtError> {
        const VIR_DOMAIN_SAVE_RUNNING: u32 = 2;
        let image = image.to_string();
        self.call("restore domain", deadline, move |c| {
            c.restore_domain_flags(&image, None, VIR_DOMAIN_SAVE_RUNNING)
        })
    }

    pub fn shutdown(&self, name: &str, flags: u32, deadline: Deadline) -> Result<(), LibvirtError> {
        self.with_domain("shut down domain", name, deadline, move |d| {
            d.shutdown_flags(flags)
        })
    }

    pub fn destroy(&self, name: &str, deadline: Deadline) -> Result<(), LibvirtError> {
        self.with_domain("destroy domain", name, deadline, |d| d.destroy())
    }

    pub fn suspend(&self, name: &str, deadline: Deadline) -> Result<(), LibvirtError> {
        self.with_domain("suspend domain", name, deadline, |d| d.suspend())
    }

    pub fn resume(&self, name: &str, deadline: Deadline) -> Result<(), LibvirtError> {
        self.with_domain("resume domain", name, deadline, |d| d.resume())
    }

    /// The definition libvirt would use on the next start (with secrets, for save_config_on_stop).
    pub fn inactive_xml(&self, name: &str, deadline: Deadline) -> Result<String, LibvirtError> {
        self.with_domain("read domain XML", name, deadline, |d| {
            d.xml_desc(XML_INACTIVE | XML_SECURE)
        })
    }

    pub fn size(&self, name: &str, deadline: Deadline) -> Result<DomainSize, LibvirtError> {
        self.with_domain("read domain info", name, deadline, |d| {
            let info = d.info()?;
            Ok(DomainSize {
                vcpus: info.nr_virt_cpu,
                max_memory_kib: info.max_mem,
            })
        })
    }

    /// Saves the running domain's memory into `image` (the domain stops).
    /// The safe API has no virDomainSave; an external memory-only snapshot writes the same
    /// save-image format that virDomainRestore reads. The domain is paused first so that its
    /// disks do not move on after the memory image was taken, then destroyed.
    pub fn save_memory(
        &self,
        name: &str,
        image: &str,
        deadline: Deadline,
    ) -> Result<(), LibvirtError> {
        let image = image.to_string();
        self.with_domain("save domain memory", name, deadline, move |d| {
            let (state, _) = d.state()?;
            if !state.is(DomainState::Paused) {
                d.suspend()?;
            }
            // Memory only (every disk snapshot='no'), no snapshot metadata kept (NO_METADATA = 4).
            let xml = memory_snapshot_xml(&image, &d.xml_desc(0)?);
            match d.create_snapshot_xml(&xml, 4) {
                Ok(_) => d.destroy(),
                Err(e) => {
                    let _ = d.resume();
                    Err(e)
                }
            }
        })
    }

    /// Starts the libvirt virtual networks and storage pools a domain uses (start_resources).
    pub fn start_resources(
        &self,
        networks: &[String],
        pools: &[String],
        deadline: Deadline,
    ) -> Result<(), LibvirtError> {
        let networks = networks.to_vec();
        let pools = pools.to_vec();
        self.call("start networks and storage pools", deadline, move |c| {
            for n in &networks {
                let net = c.lookup_network_by_name(n)?;
                if !net.is_active()? {
                    net.create()?;
                }
            }
            for p in &pools {
                let pool = c.lookup_storage_pool_by_name(p)?;
                if !pool.is_active()? {
                    pool.create(0)?;
                }
            }
            Ok(())
        })
    }

    pub fn set_migration_downtime(
        &self,
        name: &str,
        ms: u64,
        deadline: Deadline,
    ) -> Result<(), LibvirtError> {
        self.with_domain("set migration downtime", name, deadline, move |d| {
            d.migrate_set_max_downtime(ms, 0)
        })
    }

    /// Peer-to-peer migration of `name` to `dest_uri`, `migrate_uri` for the data stream.
    /// Blocks (on the worker) for the whole migration; bounded by `deadline` for the caller.
    pub fn migrate_p2p(
        &self,
        name: &str,
        dest_uri: &str,
        migrate_uri: Option<&str>,
        bandwidth_mib_s: u64,
        flags: u32,
        deadline: Deadline,
    ) -> Result<(), LibvirtError> {
        let dest_uri = dest_uri.to_string();
        let params = virt::domain::MigrateParameters {
            uri: migrate_uri.map(str::to_string),
            bandwidth: (bandwidth_mib_s > 0).then_some(bandwidth_mib_s),
            ..Default::default()
        };
        self.with_domain("migrate domain", name, deadline, move |d| {
            d.migrate_to_uri3(Some(&dest_uri), params, flags)
        })
    }

    pub fn job_progress(
        &self,
        name: &str,
        deadline: Deadline,
    ) -> Result<JobProgress, LibvirtError> {
        self.with_domain("read job progress", name, deadline, |d| {
            let j = d.job_info()?;
            Ok(JobProgress {
                active: j.r#type != 0, // VIR_DOMAIN_JOB_NONE
                elapsed_ms: j.time_elapsed.unwrap_or(0),
                data_total: j.data_total.unwrap_or(0),
                data_processed: j.data_processed.unwrap_or(0),
                data_remaining: j.data_remaining.unwrap_or(0),
            })
        })
    }

    fn with_domain<R, F>(
        &self,
        what: &str,
        name: &str,
        deadline: Deadline,
        f: F,
    ) -> Result<R, LibvirtError>
    where
        R: Send + 'static,
        F: FnOnce(&Domain) -> Result<R, virt::error::Error> + Send + 'static,
    {
        let name = name.to_string();
        self.call(what, deadline, move |c| {
            let d = c.lookup_domain_by_name(&name)?;
            f(&d)
        })
    }
}

/// An external memory-only snapshot into `image`: every disk of `domain_xml` snapshot='no'.
fn memory_snapshot_xml(image: &str, domain_xml: &str) -> String {
    let targets: Vec<String> = crate::domain_xml::parse(domain_xml)
        .map(|c| {
            c.disks
                .into_iter()
                .map(|d| d.target)
                .filter(|t| !t.is_empty())
                .collect()
        })
        .unwrap_or_default();
    xml::document(None, |w| {
        w.create_element("domainsnapshot")
            .write_inner_content(|w| {
                xml::text_element(w, "name", &[], "paddock-save")?;
                w.create_element("memory")
                    .with_attributes([("snapshot", "external"), ("file", image)])
                    .write_empty()?;
                if targets.is_empty() {
                    return Ok(());
                }
                w.create_element("disks").write_inner_content(|w| {
                    for target in &targets {
                        w.create_element("disk")
                            .with_attributes([("name", target.as_str()), ("snapshot", "no")])
                            .write_empty()?;
                    }
                    Ok(())
                })?;
                Ok(())
            })?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_snapshot_excludes_every_disk_and_escapes_the_image_path() {
        let domain = "<domain type='kvm'><name>d</name><devices>\
            <disk type='file'><source file='/a.raw'/><target dev='vda'/></disk>\
            <disk type='file'><source file='/b.raw'/><target dev='vdb'/></disk>\
            </devices></domain>";
        let xml = memory_snapshot_xml("/save/d&1.img", domain);
        assert!(
            xml.contains(r#"<memory snapshot="external" file="/save/d&amp;1.img"/>"#),
            "{xml}"
        );
        assert!(xml.contains(r#"<disk name="vda" snapshot="no"/>"#), "{xml}");
        assert!(xml.contains(r#"<disk name="vdb" snapshot="no"/>"#), "{xml}");
        assert!(xml.contains("<name>paddock-save</name>"), "{xml}");
        let diskless = memory_snapshot_xml("/i", "<domain><name>d</name></domain>");
        assert!(!diskless.contains("<disks"), "{diskless}");
    }
}
