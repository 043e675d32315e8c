//! netwatch as an OCF resource agent: start runs the watcher daemon and waits for its first
//! verdict on the network, stop ends it and withdraws its attributes, monitor reads its status
//! file (fast: no probe runs in monitor).

use std::path::{Path, PathBuf};
use std::time::Duration;

use ocf::daemon::{alive, heartbeat_is_stale};
use ocf::{
    ActionSpec, AgentInfo, Context, Deadline, OcfError, OcfStatus, ParameterSpec, ResourceAgent,
};

use crate::cluster;
use crate::config::{self, Config};
use crate::daemon::{self, Options, DAEMON_ARG};
use crate::link::Sysfs;
use crate::probe::ARPING;
use crate::status::{self, Status};
use crate::target::Target;
use crate::verdict::NetState;

const POLL: Duration = Duration::from_millis(50);

pub struct NetWatch;

impl ResourceAgent for NetWatch {
    fn info(&self) -> AgentInfo {
        AgentInfo {
            name: "netwatch",
            provider: "paddock",
            version: env!("CARGO_PKG_VERSION"),
            shortdesc: "Watches one network and answers its loss by policy: fence, migrate or alert",
            longdesc: "Clone it once per network a compute node depends on (storage, tenant, administrative). A daemon \
                       probes the network every interval seconds: the link and carrier of its interfaces, and peers by \
                       ICMP echo, ARP or TCP connect. After misses failed rounds in a row the network is lost on this \
                       node: the transient node attribute paddock-net-NETWORK says lost (ok otherwise), and on_loss \
                       decides what the node does: alert (monitor reports degraded, nothing moves), migrate (node \
                       health attribute #health-paddock-NETWORK=red, so Pacemaker moves the VMs away with \
                       node-health-strategy=migrate-on-red) or fence (the node leaves the Corosync membership, see \
                       leave_cluster, and its monitor fails: with on-fail=fence Pacemaker fences the node). A network lost on more than half of the nodes that watch it is the network's failure, \
                       not the host's: then nothing is fenced or moved, whatever on_loss says.",
        }
    }

    fn parameters(&self) -> Vec<ParameterSpec> {
        config::parameters()
    }

    fn actions(&self) -> Vec<ActionSpec> {
        vec![
            ActionSpec::new("start", 30),
            ActionSpec::new("stop", 20),
            ActionSpec {
                interval_secs: Some(5),
                depth: Some(0),
                ..ActionSpec::new("monitor", 20)
            },
            ActionSpec::new("validate-all", 20),
            ActionSpec::new("meta-data", 5),
        ]
    }

    fn validate(&self, ctx: &Context) -> Result<(), OcfError> {
        let config = Config::from_params(&ctx.params)?;
        let sysfs = Sysfs::default();
        let arp_interfaces = config
            .targets
            .iter()
            .filter_map(|t| config.arp_interface(t));
        for interface in config
            .interfaces
            .iter()
            .map(String::as_str)
            .chain(arp_interfaces)
        {
            if !sysfs.exists(interface) {
                return Err(OcfError::configured(format!(
                    "interface {interface} does not exist on this node (network {})",
                    config.network
                )));
            }
        }
        let uses_arp = config
            .targets
            .iter()
            .any(|t| matches!(t, Target::Arp { .. }));
        if uses_arp && !in_path(ARPING) {
            return Err(OcfError::installed(format!(
                "arp: targets need {ARPING}, which is not installed (Debian: iputils-arping)"
            )));
        }
        Ok(())
    }

    fn start(&self, ctx: &Context) -> Result<(), OcfError> {
        let config = Config::from_params(&ctx.params)?;
        if let Some(pid) = running_daemon(&ctx.state_dir, &config.network) {
            tracing::info!(
                "the watcher of network {} already runs (pid {pid})",
                config.network
            );
            return Ok(());
        }
        let node = match ctx.meta("on_node").filter(|n| !n.is_empty()) {
            Some(n) => n.to_string(),
            None => cluster::local_node(),
        };
        let options = Options {
            state_dir: ctx.state_dir.clone(),
            node,
            instance: ctx.instance.clone(),
            params: ctx.params.clone(),
            debug: std::env::var("HA_debug").is_ok_and(|v| v.trim() == "1"),
        };
        let status_file = status::status_file(&ctx.state_dir, &config.network);
        let _ = std::fs::remove_file(&status_file);
        let pid = daemon::spawn(&options, &config.logfile).map_err(OcfError::generic)? as i32;
        // Started once a round passed; a network that fails `misses` rounds first fails the start.
        loop {
            let status = read_status(&status_file);
            match status.as_ref().map(|s| s.state) {
                Some(NetState::Ok) => break,
                Some(NetState::Lost) => {
                    let why = status.map(|s| s.why).unwrap_or_default();
                    self.end_watch(ctx, &config);
                    return Err(OcfError::generic(format!(
                        "network {}: {} rounds failed at start ({} s): {why}",
                        config.network,
                        config.misses,
                        config.detection_time().as_secs()
                    )));
                }
                _ => {}
            }
            if !alive(pid) {
                return Err(OcfError::generic(format!(
                    "the watcher of network {} (pid {pid}) exited at start; see {}",
                    config.network,
                    config.logfile.display()
                )));
            }
            if ctx.deadline.expired() {
                self.end_watch(ctx, &config);
                return Err(OcfError::generic(format!(
                    "network {}: no round passed within the start timeout ({} s; a loss takes misses x interval = {} s to confirm)",
                    config.network,
                    ctx.timeout.as_secs(),
                    config.detection_time().as_secs()
                )));
            }
            std::thread::sleep(POLL);
        }
        tracing::info!(
            "the watcher of network {} runs (pid {pid}), logging to {}",
            config.network,
            config.logfile.display()
        );
        Ok(())
    }

    fn stop(&self, ctx: &Context) -> Result<(), OcfError> {
        let config = Config::from_params(&ctx.params)?;
        self.stop_daemon(ctx, &config.network)?;
        withdraw_attributes(&config.network, ctx.deadline);
        Ok(())
    }

    fn monitor(&self, ctx: &Context) -> Result<OcfStatus, OcfError> {
        let config = Config::from_params(&ctx.params)?;
        let Some(pid) = running_daemon(&ctx.state_dir, &config.network) else {
            return Ok(OcfStatus::NotRunning);
        };
        let path = status::status_file(&ctx.state_dir, &config.network);
        // A daemon that has not written for three rounds (and some slack) is hung.
        let limit = config.interval * 3 + Duration::from_secs(10);
        // The age is wall-clock time, the daemon's rounds are paced by the monotonic clock: when
        // the whole machine was paused (a VM host suspended, then its clock stepped forward),
        // every status file looks old at once until the next round. A hung daemon stays old;
        // a live one writes again within a round: look again for two rounds before judging.
        let recheck = ctx.deadline.capped(config.interval * 2);
        if heartbeat_is_stale(&path, limit, recheck) {
            return Err(OcfError::generic(format!(
                "the watcher of network {} (pid {pid}) has not updated {} for over {} s: hung",
                config.network,
                path.display(),
                limit.as_secs()
            )));
        }
        let Some(status) = read_status(&path) else {
            return Err(OcfError::generic(format!(
                "{} is unreadable",
                path.display()
            )));
        };
        if status.state != NetState::Lost {
            return Ok(OcfStatus::Success);
        }
        // The decision first: Pacemaker cuts exit reasons at 128 characters.
        let reason = format!(
            "network {} lost ({}) since {}: {}",
            config.network,
            status.decision,
            paddock_base::logging::UtcTime::from_unix_secs(status.since).readable(),
            status.why
        );
        if status.verdict == "fence" {
            Err(OcfError::generic(reason))
        } else {
            Err(OcfError::degraded(reason))
        }
    }

    /// Without usable parameters: a daemon of the named network runs, or none does.
    fn running_without_config(&self, ctx: &Context) -> Option<bool> {
        let network = ctx.text(&config::NETWORK)?;
        if !config::valid_network_name(network) {
            return Some(false);
        }
        Some(running_daemon(&ctx.state_dir, network).is_some())
    }
}

impl NetWatch {
    fn stop_daemon(&self, ctx: &Context, network: &str) -> Result<(), OcfError> {
        if let Some(pid) = running_daemon(&ctx.state_dir, network) {
            let what = format!("the watcher of network {network}");
            ocf::daemon::stop_daemon(pid, &what, ctx.deadline).map_err(OcfError::generic)?;
        }
        let _ = std::fs::remove_file(status::pid_file(&ctx.state_dir, network));
        let _ = std::fs::remove_file(status::status_file(&ctx.state_dir, network));
        Ok(())
    }

    /// A failed start leaves nothing behind: no daemon, no attribute.
    fn end_watch(&self, ctx: &Context, config: &Config) {
        if let Err(e) = self.stop_daemon(ctx, &config.network) {
            tracing::warn!("{}", e.reason);
        }
        withdraw_attributes(&config.network, ctx.deadline);
    }
}

/// A node that no longer watches a network says nothing about it (and is not left red).
fn withdraw_attributes(network: &str, deadline: Deadline) {
    for name in [
        cluster::state_attribute(network),
        cluster::health_attribute(network),
    ] {
        if let Err(e) = cluster::delete(&name, deadline.capped(Duration::from_secs(5))) {
            tracing::warn!("cannot withdraw the node attribute {name}: {e}");
        }
    }
}

fn read_status(path: &Path) -> Option<Status> {
    Status::decode(&std::fs::read_to_string(path).ok()?)
}

/// The watcher's pid, if one runs (the pid file names a live process that is our daemon, for
/// this network).
fn running_daemon(state_dir: &Path, network: &str) -> Option<i32> {
    let network_mark = format!("network={network}");
    ocf::daemon::running_daemon(
        &status::pid_file(state_dir, network),
        &[DAEMON_ARG, &network_mark],
    )
}

fn in_path(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .any(|p: PathBuf| p.is_file())
}
