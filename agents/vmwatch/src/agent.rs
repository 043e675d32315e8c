//! vmwatch as an OCF resource agent: start runs the watcher daemon, stop ends it, monitor checks
//! that it lives, that its heartbeat is fresh and that libvirt answers it (degraded if not).

use std::path::{Path, PathBuf};
use std::time::Duration;

use ocf::daemon::{alive, heartbeat_is_stale};
use ocf::{
    ActionSpec, AgentInfo, Context, OcfError, OcfStatus, ParamType, ParameterSpec, ResourceAgent,
};
use paddock_vm::remote::Endpoint;

use crate::daemon::{self, Options, DAEMON_ARG};
use crate::state;

pub const HYPERVISOR: ParameterSpec = ParameterSpec::new(
    "hypervisor",
    ParamType::String,
    "libvirt URI to watch as well",
    "A libvirt URI watched even when no vm resource on this node uses it (e.g. qemu:///system), \
     so that its state is published as the node attribute paddock-libvirt. The URIs the node's \
     ocf:paddock:vm resources name in their own hypervisor parameter are always watched.",
)
.example("qemu:///system");

pub const LOGFILE: ParameterSpec = ParameterSpec::new(
    "logfile",
    ParamType::String,
    "The watcher's log file",
    "Where the watcher daemon logs what it saw and what it reported.",
)
.default("/var/log/paddock/vmwatch.log");

/// Older than this, the status file means a hung daemon.
const HEARTBEAT_LIMIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);

pub struct VmWatch;

impl ResourceAgent for VmWatch {
    fn info(&self) -> AgentInfo {
        AgentInfo {
            name: "vmwatch",
            provider: "paddock",
            version: env!("CARGO_PKG_VERSION"),
            shortdesc: "Reports a failed VM to Pacemaker the moment libvirt says so",
            longdesc: "Clone it on every node that runs ocf:paddock:vm resources. It holds one connection to each libvirt \
                       daemon those resources use and listens to libvirt's events: when a guest's qemu process dies, the guest \
                       is destroyed or shut down behind Pacemaker's back, pauses on a disk I/O error, is stopped by its \
                       watchdog or panics, it reports the resource failed at once (crm_resource --fail), and Pacemaker \
                       recovers it by the resource's own policy (in place first, elsewhere once migration-threshold is \
                       reached) without waiting for the next monitor. Pacemaker's own stop, migration, restart or move, a \
                       reboot or reset of the guest and a pause by a user are not failures: the vm agent records each action \
                       it runs, and the watcher reports only resources recorded as running. When libvirt restarts it \
                       reconnects and compares every guest with its real state; a libvirt that does not answer is logged, \
                       published as the node attribute paddock-libvirt and makes monitor report degraded.",
        }
    }

    fn parameters(&self) -> Vec<ParameterSpec> {
        vec![HYPERVISOR, LOGFILE]
    }

    fn actions(&self) -> Vec<ActionSpec> {
        vec![
            ActionSpec::new("start", 20),
            ActionSpec::new("stop", 20),
            ActionSpec {
                interval_secs: Some(10),
                depth: Some(0),
                ..ActionSpec::new("monitor", 20)
            },
            ActionSpec::new("validate-all", 20),
            ActionSpec::new("meta-data", 5),
        ]
    }

    fn validate(&self, ctx: &Context) -> Result<(), OcfError> {
        if let Some(uri) = ctx.text(&HYPERVISOR).filter(|u| !u.is_empty()) {
            Endpoint::for_uri(uri).map_err(|why| {
                OcfError::configured(format!(
                    "hypervisor={uri}: {why}; vmwatch speaks libvirt's protocol itself and cannot watch it"
                ))
            })?;
        }
        Ok(())
    }

    fn start(&self, ctx: &Context) -> Result<(), OcfError> {
        if let Some(pid) = running_daemon(&ctx.state_dir) {
            tracing::info!("the watcher already runs (pid {pid})");
            return Ok(());
        }
        let node = match ctx.meta("on_node").filter(|n| !n.is_empty()) {
            Some(n) => n.to_string(),
            None => crate::cluster::local_node().map_err(OcfError::generic)?,
        };
        let options = Options {
            state_dir: ctx.state_dir.clone(),
            node,
            hypervisor: ctx
                .text(&HYPERVISOR)
                .filter(|u| !u.is_empty())
                .map(str::to_string),
            debug: std::env::var("HA_debug").is_ok_and(|v| v.trim() == "1"),
        };
        let _ = std::fs::remove_file(state::status_file(&ctx.state_dir));
        let logfile = PathBuf::from(ctx.text(&LOGFILE).unwrap_or_default());
        let pid = daemon::spawn(&options, &logfile).map_err(OcfError::generic)? as i32;
        // Started once it has written its pid and first status.
        while !(running_daemon(&ctx.state_dir) == Some(pid)
            && state::status_file(&ctx.state_dir).exists())
        {
            if ctx.deadline.expired() || !alive(pid) {
                return Err(OcfError::generic(format!(
                    "the watcher (pid {pid}) did not start; see {}",
                    logfile.display()
                )));
            }
            std::thread::sleep(POLL);
        }
        tracing::info!(
            "the watcher runs (pid {pid}), logging to {}",
            logfile.display()
        );
        Ok(())
    }

    fn stop(&self, ctx: &Context) -> Result<(), OcfError> {
        if let Some(pid) = running_daemon(&ctx.state_dir) {
            ocf::daemon::stop_daemon(pid, "the watcher", ctx.deadline)
                .map_err(OcfError::generic)?;
        }
        let _ = std::fs::remove_file(state::pid_file(&ctx.state_dir));
        let _ = std::fs::remove_file(state::status_file(&ctx.state_dir));
        Ok(())
    }

    fn monitor(&self, ctx: &Context) -> Result<OcfStatus, OcfError> {
        let Some(pid) = running_daemon(&ctx.state_dir) else {
            return Ok(OcfStatus::NotRunning);
        };
        let status = state::status_file(&ctx.state_dir);
        // No second look: the daemon rewrites its status every second, and its start waits
        // for the first one.
        let no_recheck = ctx.deadline.capped(Duration::ZERO);
        if heartbeat_is_stale(&status, HEARTBEAT_LIMIT, no_recheck) {
            return Err(OcfError::generic(format!(
                "the watcher (pid {pid}) has not updated {} for over {} s: hung",
                status.display(),
                HEARTBEAT_LIMIT.as_secs()
            )));
        }
        let links = state::decode_status(&std::fs::read_to_string(&status).unwrap_or_default());
        if let Some((uri, link)) = links.iter().find(|(_, l)| !l.up) {
            return Err(OcfError::degraded(format!(
                "libvirt at {uri} not answering since {}: {}",
                paddock_base::logging::UtcTime::from_unix_secs(link.since).readable(),
                link.why
            )));
        }
        Ok(OcfStatus::Success)
    }
}

/// The watcher's pid, if one runs (the pid file names a live process that is our daemon).
fn running_daemon(state_dir: &Path) -> Option<i32> {
    ocf::daemon::running_daemon(&state::pid_file(state_dir), &[DAEMON_ARG])
}
