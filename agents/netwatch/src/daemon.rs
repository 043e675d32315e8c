//! The watcher daemon: this same binary started by the agent's start with a private first
//! argument, in its own session, logging to its log file. Every `interval` it runs a round,
//! keeps the network's state, publishes it, applies the decision table and rewrites the status
//! file that monitor reads.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ocf::daemon::{unix_now, DaemonArgs};
use ocf::Deadline;

use crate::cluster;
use crate::config::{Config, OnLoss};
use crate::link::Sysfs;
use crate::round;
use crate::status::{self, Status};
use crate::verdict::{self, NetState, Tracker, Verdict, SETTLE_ROUNDS};

/// Bounds reading stonith-enabled and leaving the membership (each).
const LEAVE_TIME: Duration = Duration::from_secs(5);

/// The first argument that makes this binary the daemon rather than the agent.
pub const DAEMON_ARG: &str = "__netwatch_daemon";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub state_dir: PathBuf,
    pub node: String,
    pub instance: String,
    /// The resource's parameters (after defaults), parsed again by the daemon.
    pub params: Vec<(String, String)>,
    pub debug: bool,
}

impl Options {
    fn to_args(&self) -> Vec<String> {
        DaemonArgs {
            params: self.params.clone(),
            debug: self.debug,
            ..DaemonArgs::default()
        }
        .option("state-dir", self.state_dir.to_string_lossy())
        .option("node", &self.node)
        .option("instance", &self.instance)
        .to_args(DAEMON_ARG)
    }

    fn parse(args: &[String]) -> Result<Options, String> {
        let parsed = DaemonArgs::parse(args, &["state-dir", "node", "instance", "param"])?;
        Ok(Options {
            state_dir: PathBuf::from(parsed.required("state-dir")?),
            node: parsed.required("node")?,
            instance: parsed.required("instance")?,
            params: parsed.params,
            debug: parsed.debug,
        })
    }
}

/// Starts the daemon, detached, its output appended to `logfile`; returns its pid.
pub fn spawn(options: &Options, logfile: &Path) -> Result<u32, String> {
    ocf::daemon::spawn_detached(&options.to_args(), logfile)
}

/// The daemon's life: returns only when it cannot start.
pub fn main(args: &[String]) -> ExitCode {
    let options = match Options::parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("netwatch: {e}");
            return ExitCode::from(2);
        }
    };
    ocf::daemon::become_daemon("netwatch", options.debug);
    let config = match Config::from_params(&options.params) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("{}", e.reason);
            return ExitCode::from(2);
        }
    };
    let pid_file = status::pid_file(&options.state_dir, &config.network);
    if let Err(e) = ocf::daemon::write_pid_file(&pid_file) {
        tracing::error!("cannot write {}: {e}", pid_file.display());
        return ExitCode::from(1);
    }
    tracing::info!(
        "watching network {} on node {}: interfaces [{}], targets [{}] ({} must answer), every {} s, lost after {} failed rounds, on_loss={}",
        config.network,
        options.node,
        config.interfaces.join(" "),
        config.targets.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "),
        config.threshold,
        config.interval.as_secs(),
        config.misses,
        config.on_loss.name()
    );
    Watch::new(options, config).run()
}

/// What the daemon keeps between rounds.
struct Watch {
    options: Options,
    config: Config,
    sysfs: Sysfs,
    tracker: Tracker,
    since: u64,
    last_why: String,
    verdict: Verdict,
    /// This node left the membership to be fenced: the verdict stands (the cluster it would
    /// ask about is gone from here).
    left_cluster: bool,
    published_state: Option<&'static str>,
    published_health: Option<&'static str>,
    last_warning: String,
}

impl Watch {
    fn new(options: Options, config: Config) -> Watch {
        Watch {
            tracker: Tracker::new(config.misses),
            options,
            config,
            sysfs: Sysfs::default(),
            since: unix_now(),
            last_why: String::new(),
            verdict: Verdict::Healthy,
            left_cluster: false,
            published_state: None,
            published_health: None,
            last_warning: String::new(),
        }
    }

    fn run(mut self) -> ! {
        let mut sequence: u16 = 0;
        loop {
            let round_start = Instant::now();
            sequence = sequence.wrapping_add(1);
            self.round(sequence);
            let next = round_start + self.config.interval;
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
    }

    fn round(&mut self, sequence: u16) {
        let outcome = round::run(&self.config, &self.sysfs, sequence);
        if !outcome.passed {
            tracing::info!(
                "round failed ({} in a row): {}",
                self.tracker.failed_in_a_row() + 1,
                outcome.why
            );
            self.last_why = outcome.why;
        }
        if let Some(state) = self.tracker.record(outcome.passed) {
            self.state_changed(state);
        }
        if self.left_cluster {
            self.write_status();
            return;
        }
        // Bounded by what is left of the interval, so a stuck attrd cannot stall the rounds.
        let deadline = Deadline::after(self.config.interval / 5);
        if let Some(value) = match self.tracker.state() {
            NetState::Ok => Some("ok"),
            NetState::Lost => Some("lost"),
            NetState::Starting => None,
        } {
            let name = cluster::state_attribute(&self.config.network);
            self.published_state = self.publish(&name, value, self.published_state, deadline);
        }
        let settled =
            self.tracker.state() == NetState::Lost && self.tracker.rounds_lost() >= SETTLE_ROUNDS;
        let peers = if settled { self.peers(deadline) } else { None };
        let verdict = verdict::decide(self.config.on_loss, &self.tracker, peers);
        if verdict != self.verdict {
            self.verdict_changed(verdict);
        }
        if self.config.on_loss == OnLoss::Migrate {
            let name = cluster::health_attribute(&self.config.network);
            let health = verdict.health();
            self.published_health = self.publish(&name, health, self.published_health, deadline);
        }
        self.write_status();
    }

    fn state_changed(&mut self, state: NetState) {
        self.since = unix_now();
        let network = &self.config.network;
        match state {
            NetState::Lost => {
                let what = format!(
                    "network {network} lost: {} failed rounds in {} s: {}",
                    self.config.misses,
                    self.config.detection_time().as_secs(),
                    self.last_why
                );
                tracing::warn!("{what}");
                self.journal("network-lost", &what);
            }
            NetState::Ok => {
                tracing::info!("network {network} works");
                if !self.last_why.is_empty() {
                    self.journal("network-back", &format!("network {network} works again"));
                }
                self.last_why.clear();
            }
            NetState::Starting => {}
        }
    }

    fn verdict_changed(&mut self, verdict: Verdict) {
        let what = format!(
            "network {}: {}",
            self.config.network,
            verdict.describe(self.config.on_loss)
        );
        tracing::warn!("{what}");
        if !matches!(verdict, Verdict::Healthy | Verdict::Settling) {
            self.journal(verdict.name(), &what);
        }
        self.verdict = verdict;
        if verdict == Verdict::Act(OnLoss::Fence) && self.config.leave_cluster {
            self.leave_cluster();
        }
    }

    /// on_loss=fence's fast path: out of the membership now, so that the other nodes fence
    /// this node without waiting out the token timeout (the failed monitor stays the answer
    /// if this is not done).
    fn leave_cluster(&mut self) {
        let deadline = Deadline::after(LEAVE_TIME);
        match cluster::fencing_enabled(deadline) {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(
                    "stonith-enabled is false: not leaving the cluster (nothing would fence this \
                     node before its VMs start elsewhere); the failed monitor is the answer"
                );
                return;
            }
            Err(e) => {
                tracing::warn!("not leaving the cluster: cannot read stonith-enabled: {e}");
                return;
            }
        }
        let what = format!(
            "network {}: leaving the Corosync membership, so that the other nodes fence this node \
             at once",
            self.config.network
        );
        tracing::warn!("{what}");
        self.journal("leave-cluster", &what);
        match cluster::leave_membership(deadline) {
            Ok(()) => self.left_cluster = true,
            Err(e) => tracing::warn!(
                "corosync-cfgtool -H --force failed: {e}; the failed monitor is the answer"
            ),
        }
    }

    /// The other nodes' published states; None when they cannot be read.
    fn peers(&mut self, deadline: Deadline) -> Option<verdict::Peers> {
        let name = cluster::state_attribute(&self.config.network);
        match cluster::query_all(&name, deadline) {
            Ok(out) => Some(verdict::peers_from_attrd(&out, &self.options.node)),
            Err(e) => {
                self.warn_once(format!("cannot read the other nodes' {name}: {e}"));
                None
            }
        }
    }

    /// Publishes `value` unless attrd already has it; returns what attrd has now (a failed
    /// update is retried next round).
    fn publish(
        &mut self,
        name: &str,
        value: &'static str,
        published: Option<&'static str>,
        deadline: Deadline,
    ) -> Option<&'static str> {
        if published == Some(value) {
            return published;
        }
        match cluster::publish(name, value, deadline) {
            Ok(()) => {
                tracing::info!("node attribute {name}={value}");
                Some(value)
            }
            Err(e) => {
                self.warn_once(format!("cannot publish {name}={value}: {e}"));
                published
            }
        }
    }

    /// A failure that repeats every round is logged when it starts or changes, not every second.
    fn warn_once(&mut self, warning: String) {
        if warning != self.last_warning {
            tracing::warn!("{warning}");
            self.last_warning = warning;
        }
    }

    fn journal(&self, task: &str, what: &str) {
        paddock_base::journal::record_decision(
            "netwatch",
            None,
            &self.options.instance,
            task,
            what,
        );
    }

    fn write_status(&mut self) {
        let path = status::status_file(&self.options.state_dir, &self.config.network);
        let status = Status {
            state: self.tracker.state(),
            since: self.since,
            verdict: self.verdict.name().to_string(),
            why: self.last_why.clone(),
            decision: self.verdict.describe(self.config.on_loss),
        };
        if let Err(e) = status.write(&path) {
            self.warn_once(format!("cannot write {}: {e}", path.display()));
        }
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
            instance: "netwatch-storage".into(),
            params: vec![
                ("network".into(), "storage".into()),
                ("targets".into(), "10.0.0.1 tcp:10.0.0.2:3260".into()),
            ],
            debug: true,
        };
        let args = o.to_args();
        assert_eq!(args[0], DAEMON_ARG);
        assert_eq!(Options::parse(&args[1..]), Ok(o));
        assert!(Options::parse(&["--node".into()]).is_err());
        assert!(Options::parse(&["--param".into(), "novalue".into()]).is_err());
        assert!(Options::parse(&["--bogus".into()]).is_err());
    }
}
