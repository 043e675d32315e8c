//! `paddock maintenance on|off NODE`: put a host into maintenance safely. `on` refuses when the
//! other hosts cannot take what runs on it (unless --force), puts it in standby so Pacemaker
//! drains it (live migration for VMs that allow it), waits a bounded time showing what moved,
//! and marks the maintenance in the journal, so that `paddock report` does not count the
//! host's planned absence as failures. `off` takes it out of standby.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use paddock_base::command::{run_bounded, Limits};
use paddock_base::Deadline;

use crate::journal::{self, Event};
use crate::scheduler::{self, Placement, Source};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// on: drain the node (standby); off: let it run resources again
    pub switch: Switch,
    /// The node
    pub node: String,
    /// Drain even when some resources would have nowhere to go (they are stopped)
    #[arg(long)]
    pub force: bool,
    /// Longest wait for the node to drain, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub timeout: u64,
    /// The journal directory to mark the maintenance in (default: PADDOCK_JOURNAL, else
    /// /var/lib/paddock/events)
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
}

/// What `on` did: where each resource went (None: stopped).
pub type Moves = BTreeMap<String, Option<String>>;

pub enum Outcome {
    Drained(Moves),
    /// Refused: these resources would have nowhere to go.
    Refused(Vec<String>),
    Resumed,
}

pub fn run(args: &Args) -> Result<Outcome> {
    let now = scheduler::current(&Source::Live)?;
    if !now.online.contains_key(&args.node) {
        let known: Vec<&str> = now.online.keys().map(String::as_str).collect();
        bail!("unknown node '{}' (nodes: {})", args.node, known.join(", "));
    }
    if args.switch == Switch::Off {
        set_standby(&args.node, false)?;
        mark(args, "off");
        return Ok(Outcome::Resumed);
    }
    let on_node = running_on(&now, &args.node);
    let stranded = stranded(&args.node, &on_node)?;
    if !stranded.is_empty() && !args.force {
        return Ok(Outcome::Refused(stranded));
    }
    mark(args, "on");
    set_standby(&args.node, true)?;
    // a clone's instance on the node just stops: the clone goes on running elsewhere
    let (clones, movable): (Vec<String>, Vec<String>) = on_node
        .into_iter()
        .partition(|id| now.running.get(id).is_some_and(|nodes| nodes.len() > 1));
    for id in &clones {
        println!(
            "   0.0s  {id}: one instance of several, stops with {}",
            args.node
        );
    }
    let moves = drain(&args.node, &movable, Duration::from_secs(args.timeout))?;
    Ok(Outcome::Drained(moves))
}

/// Resources active on `node` (fence devices included: they move too).
fn running_on(placement: &Placement, node: &str) -> Vec<String> {
    placement
        .running
        .iter()
        .filter(|(_, nodes)| nodes.iter().any(|n| n == node))
        .map(|(id, _)| id.clone())
        .collect()
}

/// Of `resources`, those the scheduler would leave stopped once `node` is gone.
fn stranded(node: &str, resources: &[String]) -> Result<Vec<String>> {
    let after = scheduler::after_failing(&Source::Live, &[node])?;
    Ok(resources
        .iter()
        .filter(|id| {
            after
                .running
                .get(*id)
                .is_none_or(|nodes| nodes.iter().all(|n| n == node))
        })
        .cloned()
        .collect())
}

fn set_standby(node: &str, on: bool) -> Result<()> {
    let value = if on { "on" } else { "off" };
    run_tool(
        "crm_attribute",
        &["--node", node, "--name", "standby", "--update", value],
        Duration::from_secs(30),
    )
}

/// Run a Pacemaker tool within `limit`; its complaint as the error when it fails.
fn run_tool(program: &str, args: &[&str], limit: Duration) -> Result<()> {
    let mut command = Command::new(program);
    command.args(args);
    let output = run_bounded(&mut command, Deadline::after(limit), Limits::default())
        .with_context(|| program.to_string())?;
    if !output.success() {
        bail!(
            "{program} {} failed: {}",
            args.join(" "),
            output.stderr_text().trim()
        );
    }
    Ok(())
}

/// Wait until nothing of `resources` runs on `node` any more, printing each move once.
///
/// A resource seen nowhere may be between two nodes (a live migration under way), not stopped:
/// it is called stopped only once the cluster has settled (`crm_resource --wait`).
fn drain(node: &str, resources: &[String], timeout: Duration) -> Result<Moves> {
    let started = Instant::now();
    let mut moves = Moves::new();
    let show = |id: &str, to: Option<&str>| {
        println!(
            "{:6.1}s  {id}: {node} -> {}",
            started.elapsed().as_secs_f64(),
            to.unwrap_or("stopped")
        );
    };
    loop {
        let now = scheduler::current(&Source::Live)?;
        let mut nowhere = Vec::new();
        let mut still_here = false;
        for id in resources {
            if moves.contains_key(id) {
                continue;
            }
            let nodes = now.running.get(id).cloned().unwrap_or_default();
            if nodes.iter().any(|n| n == node) {
                still_here = true;
            } else if let Some(to) = nodes.first() {
                show(id, Some(to));
                moves.insert(id.clone(), Some(to.clone()));
            } else {
                nowhere.push(id.clone());
            }
        }
        if !still_here {
            if !nowhere.is_empty() {
                settle(timeout.saturating_sub(started.elapsed()))?;
                let settled = scheduler::current(&Source::Live)?;
                for id in nowhere {
                    let to = settled
                        .running
                        .get(&id)
                        .and_then(|nodes| nodes.iter().find(|n| *n != node))
                        .cloned();
                    show(&id, to.as_deref());
                    moves.insert(id, to);
                }
            }
            return Ok(moves);
        }
        if started.elapsed() >= timeout {
            let left: Vec<&str> = resources
                .iter()
                .filter(|r| !moves.contains_key(*r))
                .map(String::as_str)
                .collect();
            bail!(
                "{node} is in standby, but after {} s these still run on it: {}",
                timeout.as_secs(),
                left.join(", ")
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Wait (at most `limit`) until the cluster has no action under way.
fn settle(limit: Duration) -> Result<()> {
    let seconds = limit.as_secs().max(1);
    run_tool(
        "crm_resource",
        &["--wait", &format!("--timeout={seconds}")],
        Duration::from_secs(seconds + 5),
    )
    .with_context(|| format!("the cluster did not settle within {seconds} s"))
}

/// A `maintenance` event in the journal (best effort: the maintenance is what matters).
fn mark(args: &Args, desc: &str) {
    let dir = args.journal.clone().unwrap_or_else(|| {
        journal::directory(None, std::env::var(journal::DIR_ENV).ok().as_deref())
    });
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let event = Event::from_alert(
        [
            ("CRM_alert_kind".to_string(), "maintenance".to_string()),
            ("CRM_alert_node".to_string(), args.node.clone()),
            ("CRM_alert_desc".to_string(), desc.to_string()),
            (
                "CRM_alert_timestamp_epoch".to_string(),
                time.as_secs().to_string(),
            ),
            (
                "CRM_alert_timestamp_usec".to_string(),
                time.subsec_micros().to_string(),
            ),
        ],
        &journal::this_node(),
    );
    if let Err(e) = journal::append(&dir, &event) {
        eprintln!("paddock: warning: maintenance not marked in the journal: {e:#}");
    }
}
