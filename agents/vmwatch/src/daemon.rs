//! The watcher daemon: started by the agent's start as this same binary with a private first
//! argument, in its own session, logging to its log file. Its main loop starts one watcher
//! thread per libvirt daemon the node's vm resources use, and every second rewrites the status
//! file (the heartbeat monitor reads) and publishes libvirt's state as a node attribute.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use ocf::daemon::DaemonArgs;
use paddock_vm::activity;

use crate::records::{uri_of, Records};
use crate::state::{self, Link, Shared};
use crate::watch::Watcher;

/// The first argument that makes this binary the daemon rather than the agent.
pub const DAEMON_ARG: &str = "__vmwatch_daemon";

const LOOP_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub state_dir: PathBuf,
    pub node: String,
    pub hypervisor: Option<String>,
    pub debug: bool,
}

impl Options {
    fn to_args(&self) -> Vec<String> {
        let mut args = DaemonArgs {
            debug: self.debug,
            ..DaemonArgs::default()
        }
        .option("state-dir", self.state_dir.to_string_lossy())
        .option("node", &self.node);
        if let Some(hypervisor) = &self.hypervisor {
            args = args.option("hypervisor", hypervisor);
        }
        args.to_args(DAEMON_ARG)
    }

    fn parse(args: &[String]) -> Result<Options, String> {
        let parsed = DaemonArgs::parse(args, &["state-dir", "node", "hypervisor"])?;
        Ok(Options {
            state_dir: PathBuf::from(parsed.required("state-dir")?),
            node: parsed.required("node")?,
            hypervisor: parsed.get("hypervisor").map(str::to_string),
            debug: parsed.debug,
        })
    }
}

/// Starts the daemon, detached, its output appended to `logfile`; returns its pid.
pub fn spawn(options: &Options, logfile: &Path) -> Result<u32, String> {
    ocf::daemon::spawn_detached(&options.to_args(), logfile)
}

/// The daemon's life: never returns unless it cannot start.
pub fn main(args: &[String]) -> ExitCode {
    let options = match Options::parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("vmwatch: {e}");
            return ExitCode::from(2);
        }
    };
    ocf::daemon::become_daemon("vmwatch", options.debug);
    let pid_file = state::pid_file(&options.state_dir);
    if let Err(e) = ocf::daemon::write_pid_file(&pid_file) {
        tracing::error!("cannot write {}: {e}", pid_file.display());
        return ExitCode::from(1);
    }
    tracing::info!(
        "started on node {}, watching the libvirt daemons of this node's vm resources{}",
        options.node,
        options
            .hypervisor
            .as_deref()
            .map(|h| format!(" and {h}"))
            .unwrap_or_default()
    );
    run(&options)
}

fn run(options: &Options) -> ! {
    let records_dir = activity::dir(&options.state_dir);
    let shared = Arc::new(Shared::new(
        records_dir.clone(),
        options.node.clone(),
        Box::new(crate::cluster::report_failure),
    ));
    let mut records = Records::new(&records_dir);
    let (state_dir, services_shared) = (options.state_dir.clone(), shared.clone());
    let spawned = std::thread::Builder::new()
        .name("services".into())
        .spawn(move || crate::services::run(state_dir, services_shared));
    if let Err(e) = spawned {
        tracing::error!("cannot start watching procwatch's services: {e}");
    }
    let mut watched = BTreeSet::new();
    let mut published: Option<String> = None;
    loop {
        let mut uris: BTreeSet<String> = records
            .all()
            .iter()
            .map(|r| uri_of(r.hypervisor.as_deref()))
            .collect();
        uris.extend(options.hypervisor.iter().map(|h| uri_of(Some(h))));
        for uri in uris {
            if watched.insert(uri.clone()) {
                let watcher = Watcher::new(uri.clone(), shared.clone());
                let spawned = std::thread::Builder::new()
                    .name(format!("watch {uri}"))
                    .spawn(move || watcher.run());
                if let Err(e) = spawned {
                    tracing::error!("cannot start watching {uri}: {e}");
                    watched.remove(&uri);
                }
            }
        }
        let links = shared.links();
        write_status(&options.state_dir, &links);
        publish(&links, &mut published);
        std::thread::sleep(LOOP_EVERY);
    }
}

fn write_status(state_dir: &Path, links: &BTreeMap<String, Link>) {
    let path = state::status_file(state_dir);
    if let Err(e) = ocf::daemon::write_atomically(&path, &state::encode_status(links)) {
        tracing::warn!("cannot write {}: {e}", path.display());
    }
}

/// `ok` when every watched daemon answers, else `down` and which; published on change only.
fn publish(links: &BTreeMap<String, Link>, published: &mut Option<String>) {
    if links.is_empty() {
        return;
    }
    let down: Vec<&str> = links
        .iter()
        .filter(|(_, l)| !l.up)
        .map(|(u, _)| u.as_str())
        .collect();
    let value = if down.is_empty() {
        "ok".to_string()
    } else {
        format!("down: {}", down.join(" "))
    };
    if published.as_deref() == Some(value.as_str()) {
        return;
    }
    match crate::cluster::publish_libvirt_state(&value) {
        Ok(()) => {
            tracing::info!(
                "node attribute {}={value}",
                crate::cluster::LIBVIRT_ATTRIBUTE
            );
            *published = Some(value);
        }
        Err(e) => tracing::warn!("cannot publish libvirt's state: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_round_trip_through_the_command_line() {
        let o = Options {
            state_dir: "/run/resource-agents".into(),
            node: "node1".into(),
            hypervisor: Some("qemu+tcp://h/system".into()),
            debug: true,
        };
        let args = o.to_args();
        assert_eq!(args[0], DAEMON_ARG);
        assert_eq!(Options::parse(&args[1..]), Ok(o));
        assert!(Options::parse(&["--node".into()]).is_err());
        assert!(Options::parse(&["--bogus".into()]).is_err());
    }
}
