//! `paddock report`: availability from the event journal. Per resource: failures, recoveries,
//! downtime and availability over the period; per host: losses, fencings and the mean time to
//! recovery of what ran on it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use serde::Serialize;

use crate::history::{self, Entry};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The period: the last DURATION (e.g. 12h, 30d)
    #[arg(long, value_name = "DURATION", default_value = "30d", value_parser = history::parse_age)]
    pub since: Duration,
    /// The journal directory (default: PADDOCK_JOURNAL, else /var/lib/paddock/events)
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct ResourceReport {
    pub failures: u32,
    pub recoveries: u32,
    /// Seconds the resource was down after a failure (planned stops do not count).
    pub downtime: f64,
    /// Percent of the period it was not down.
    pub availability: f64,
}

#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct HostReport {
    /// Times the node was lost from the membership.
    pub failures: u32,
    pub fencings: u32,
    /// Mean seconds from the loss to the last of its resources running again.
    pub mean_time_to_recovery: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub from: f64,
    pub to: f64,
    pub resources: BTreeMap<String, ResourceReport>,
    pub hosts: BTreeMap<String, HostReport>,
}

/// Where a resource is and since when it is down, while the journal is replayed.
#[derive(Default)]
struct Track {
    /// Where it runs: one node, or several for a clone's instances (and during a migration).
    nodes: BTreeSet<String>,
    down_since: Option<f64>,
    report: ResourceReport,
}

/// A host loss whose resources are not all back yet.
struct Loss {
    host: String,
    at: f64,
    waiting: Vec<String>,
}

const STARTS: &[&str] = &["start", "migrate_from", "promote"];

/// A node cut off from the others reports them all lost, as they report it. Losses seen within
/// this many seconds of each other are weighed against each other.
const PARTITION_WINDOW: f64 = 60.0;

/// The losses that really happened: a loss is dropped when everyone who reported it was itself
/// reported lost, about then, by more nodes (the isolated side of a split reports the others
/// lost; the side with more witnesses is the one that went on).
fn credible_losses(entries: &[Entry]) -> Vec<bool> {
    let losses: Vec<(usize, &Entry)> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| is_loss(e))
        .collect();
    let mut credible = vec![true; entries.len()];
    for (index, loss) in &losses {
        let witnesses = loss.seen_by.len();
        let outvoted = |reporter: &str| {
            losses.iter().any(|(_, other)| {
                other.event.node.as_str() == reporter
                    && (other.event.time - loss.event.time).abs() <= PARTITION_WINDOW
                    && other.seen_by.len() > witnesses
            })
        };
        if loss.seen_by.iter().all(|r| outvoted(r.as_str())) {
            credible[*index] = false;
        }
    }
    credible
}

fn is_loss(entry: &Entry) -> bool {
    entry.event.kind.as_str() == "node" && entry.event.field("desc") == "lost"
}

/// Seconds of [a, b] inside [from, to].
fn clipped(a: f64, b: f64, from: f64, to: f64) -> f64 {
    (b.min(to) - a.max(from)).max(0.0)
}

/// The report over [from, to]. `entries` may (and should) start before `from`: what ran where
/// when the period began is known only from earlier events.
pub fn build(entries: &[Entry], from: f64, to: f64) -> Report {
    let mut tracks: BTreeMap<String, Track> = BTreeMap::new();
    let mut hosts: BTreeMap<String, HostReport> = BTreeMap::new();
    let mut losses: Vec<Loss> = Vec::new();
    let mut recoveries_by_host: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut in_maintenance: BTreeSet<String> = BTreeSet::new();
    let credible = credible_losses(entries);
    for (index, entry) in entries.iter().enumerate() {
        let e = &entry.event;
        if e.time > to {
            break;
        }
        let in_period = e.time >= from;
        match e.kind.as_str() {
            "resource" => {
                let rsc = e
                    .field("rsc")
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                if rsc.is_empty() {
                    continue;
                }
                let track = tracks.entry(rsc.clone()).or_default();
                let rc = e.field("rc");
                let expected = match e.field("target_rc") {
                    "" => "0",
                    t => t,
                };
                let task = e.field("task");
                if STARTS.contains(&task) && rc == "0" {
                    track.nodes.insert(e.node.to_string());
                    if let Some(since) = track.down_since.take() {
                        track.report.downtime += clipped(since, e.time, from, to);
                        if in_period {
                            track.report.recoveries += 1;
                        }
                    }
                    for loss in losses.iter_mut() {
                        loss.waiting.retain(|r| r != &rsc);
                        if loss.waiting.is_empty() && loss.at >= from {
                            recoveries_by_host
                                .entry(loss.host.clone())
                                .or_default()
                                .push(e.time - loss.at);
                        }
                    }
                    losses.retain(|l| !l.waiting.is_empty());
                } else if task == "stop" && rc == "0" {
                    // not there any more (after a migration: the source; after a failure: the
                    // stop of the recovery, which does not end the downtime)
                    track.nodes.remove(e.node.as_str());
                } else if rc != expected && e.field("desc") != "Cancelled" && task != "stop" {
                    if track.down_since.is_none() && in_period {
                        track.report.failures += 1;
                    }
                    track.down_since.get_or_insert(e.time);
                }
            }
            "maintenance" => {
                if e.field("desc") == "on" {
                    in_maintenance.insert(e.node.to_string());
                } else {
                    in_maintenance.remove(e.node.as_str());
                }
            }
            // a host lost during its maintenance is not a failure, nor one side's view of a split
            "node"
                if is_loss(entry)
                    && credible[index]
                    && !in_maintenance.contains(e.node.as_str()) =>
            {
                if in_period {
                    hosts.entry(e.node.to_string()).or_default().failures += 1;
                }
                let mut waiting = Vec::new();
                for (rsc, track) in tracks.iter_mut() {
                    // a clone's instance on the host is lost, the clone runs on: no failure
                    if !track.nodes.remove(e.node.as_str()) || !track.nodes.is_empty() {
                        continue;
                    }
                    if track.down_since.is_none() {
                        if in_period {
                            track.report.failures += 1;
                        }
                        track.down_since = Some(e.time);
                        waiting.push(rsc.clone());
                    }
                }
                if !waiting.is_empty() {
                    losses.push(Loss {
                        host: e.node.to_string(),
                        at: e.time,
                        waiting,
                    });
                }
            }
            // a fencing that failed is retried; the host is fenced once
            "fencing" if in_period && matches!(e.field("rc"), "" | "0") => {
                hosts.entry(e.node.to_string()).or_default().fencings += 1
            }
            _ => {}
        }
    }
    let period = (to - from).max(1e-9);
    let mut resources = BTreeMap::new();
    for (rsc, mut track) in tracks {
        if let Some(since) = track.down_since {
            track.report.downtime += clipped(since, to, from, to);
        }
        track.report.availability = 100.0 * (1.0 - track.report.downtime / period).clamp(0.0, 1.0);
        resources.insert(rsc, track.report);
    }
    for (host, times) in recoveries_by_host {
        let report = hosts.entry(host).or_default();
        report.mean_time_to_recovery = Some(times.iter().sum::<f64>() / times.len() as f64);
    }
    Report {
        from,
        to,
        resources,
        hosts,
    }
}

pub fn run(args: &Args) -> Result<(Report, usize)> {
    let to = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    let from = to - args.since.as_secs_f64();
    // every event, not only the period's: what ran where when it began comes from before
    let filter = history::Args {
        since: None,
        node: None,
        resource: None,
        journal: args.journal.clone(),
        json: false,
    };
    let journal = history::open(args.journal.as_deref())?;
    let mut entries: Vec<Entry> = Vec::new();
    let skipped = history::load(&journal, &filter, |entry| entries.push(entry));
    Ok((build(&entries, from, to), skipped))
}

impl Report {
    pub fn text(&self) -> String {
        let mut out = format!(
            "availability over the last {:.1} h\n\nresource                   failures  recoveries  downtime s  availability %\n",
            (self.to - self.from) / 3600.0
        );
        for (rsc, r) in &self.resources {
            out.push_str(&format!(
                "{rsc:<26} {:>8}  {:>10}  {:>10.1}  {:>14.4}\n",
                r.failures, r.recoveries, r.downtime, r.availability
            ));
        }
        out.push_str("\nhost                       failures  fencings  mean time to recovery s\n");
        for (host, h) in &self.hosts {
            let mttr = h
                .mean_time_to_recovery
                .map(|t| format!("{t:.1}"))
                .unwrap_or_else(|| "-".into());
            out.push_str(&format!(
                "{host:<26} {:>8}  {:>8}  {mttr:>23}\n",
                h.failures, h.fencings
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Event;

    fn entry<'a>(
        time: f64,
        kind: &'a str,
        node: &'a str,
        fields: &[(&'a str, &'a str)],
    ) -> Entry<'a> {
        Entry {
            event: Event {
                time,
                kind: kind.into(),
                node: node.into(),
                reporter: "n1".into(),
                fields: fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            },
            seen_by: vec!["n1".into()],
        }
    }

    fn op<'a>(time: f64, node: &'a str, rsc: &'a str, task: &'a str, rc: &'a str) -> Entry<'a> {
        entry(
            time,
            "resource",
            node,
            &[("rsc", rsc), ("task", task), ("rc", rc), ("target_rc", "0")],
        )
    }

    #[test]
    fn a_failure_and_its_recovery_count_as_downtime() {
        let entries = [
            op(100.0, "n1", "vm-a", "start", "0"),
            op(200.0, "n1", "vm-a", "monitor", "7"),
            op(201.0, "n1", "vm-a", "stop", "0"),
            op(203.5, "n1", "vm-a", "start", "0"),
            // a planned stop and start: no downtime
            op(300.0, "n1", "vm-a", "stop", "0"),
            op(310.0, "n2", "vm-a", "start", "0"),
        ];
        let r = build(&entries, 0.0, 1000.0);
        let a = &r.resources["vm-a"];
        assert_eq!((a.failures, a.recoveries), (1, 1));
        assert!((a.downtime - 3.5).abs() < 1e-9, "{a:?}");
        assert!((a.availability - 99.65).abs() < 1e-9, "{a:?}");
    }

    #[test]
    fn a_lost_host_counts_for_its_resources_and_its_recovery_time() {
        let entries = [
            op(10.0, "n3", "vm-a", "start", "0"),
            op(11.0, "n3", "vm-b", "start", "0"),
            op(12.0, "n1", "vm-c", "start", "0"),
            entry(100.0, "node", "n3", &[("desc", "lost")]),
            entry(
                102.0,
                "fencing",
                "n3",
                &[("task", "reboot"), ("desc", "OK")],
            ),
            op(103.0, "n1", "vm-a", "start", "0"),
            op(104.5, "n2", "vm-b", "start", "0"),
        ];
        let r = build(&entries, 0.0, 200.0);
        assert_eq!(r.resources["vm-a"].downtime, 3.0);
        assert_eq!(r.resources["vm-b"].downtime, 4.5);
        assert_eq!(r.resources["vm-c"].failures, 0);
        let host = &r.hosts["n3"];
        assert_eq!((host.failures, host.fencings), (1, 1));
        assert_eq!(host.mean_time_to_recovery, Some(4.5));
    }

    #[test]
    fn a_host_lost_in_maintenance_is_no_failure() {
        let entries = [
            op(10.0, "n3", "vm-a", "start", "0"),
            entry(50.0, "maintenance", "n3", &[("desc", "on")]),
            op(51.0, "n3", "vm-a", "stop", "0"),
            op(53.0, "n1", "vm-a", "start", "0"),
            entry(60.0, "node", "n3", &[("desc", "lost")]),
            entry(90.0, "maintenance", "n3", &[("desc", "off")]),
        ];
        let r = build(&entries, 0.0, 100.0);
        assert_eq!(r.resources["vm-a"].downtime, 0.0);
        assert_eq!(r.hosts.get("n3").map(|h| h.failures).unwrap_or(0), 0);
    }

    fn seen_by<'a>(mut entry: Entry<'a>, reporters: &[&'a str]) -> Entry<'a> {
        entry.seen_by = reporters.iter().map(|r| (*r).into()).collect();
        entry
    }

    #[test]
    fn the_isolated_side_of_a_split_does_not_count() {
        let lost = [("desc", "lost")];
        let entries = [
            op(10.0, "n1", "vm-a", "start", "0"),
            op(11.0, "n3", "vm-b", "start", "0"),
            // n3's cable is pulled: n1 and n2 lose n3, n3 loses n1 and n2
            seen_by(entry(100.0, "node", "n3", &lost), &["n1", "n2"]),
            seen_by(entry(100.1, "node", "n1", &lost), &["n3"]),
            seen_by(entry(100.1, "node", "n2", &lost), &["n3"]),
            op(104.0, "n2", "vm-b", "start", "0"),
        ];
        let r = build(&entries, 0.0, 200.0);
        assert_eq!(r.resources["vm-a"].failures, 0, "n1 was never lost");
        assert_eq!(r.resources["vm-b"].downtime, 4.0);
        assert_eq!(r.hosts["n3"].failures, 1);
        assert!(!r.hosts.contains_key("n1"), "{:?}", r.hosts);
    }

    #[test]
    fn the_period_counts_only_its_own_downtime_but_knows_what_ran_before() {
        let entries = [
            op(10.0, "n3", "vm-a", "start", "0"),
            op(20.0, "n3", "vm-a", "monitor", "7"),
            op(25.0, "n3", "vm-a", "start", "0"),
            entry(100.0, "node", "n3", &[("desc", "lost")]),
            op(103.0, "n1", "vm-a", "start", "0"),
        ];
        // from 50: the first failure is before it; vm-a's start at 25 says it ran on n3
        let r = build(&entries, 50.0, 200.0);
        let a = &r.resources["vm-a"];
        assert_eq!((a.failures, a.recoveries), (1, 1));
        assert_eq!(a.downtime, 3.0);
        // a period that begins during the outage counts from its beginning
        let r = build(&entries, 101.0, 200.0);
        assert_eq!(r.resources["vm-a"].downtime, 2.0);
        assert_eq!(r.resources["vm-a"].failures, 0);
    }

    #[test]
    fn a_migration_and_a_clone_are_no_failures_when_a_host_is_lost() {
        let entries = [
            op(10.0, "n3", "vm-a", "start", "0"),
            op(20.0, "n1", "vm-a", "migrate_from", "0"),
            op(20.1, "n3", "vm-a", "stop", "0"),
            op(21.0, "n1", "watcher", "start", "0"),
            op(21.0, "n3", "watcher", "start", "0"),
            entry(100.0, "node", "n3", &[("desc", "lost")]),
            entry(200.0, "node", "n1", &[("desc", "lost")]),
            op(203.0, "n2", "vm-a", "start", "0"),
        ];
        let r = build(&entries, 0.0, 300.0);
        assert_eq!(r.resources["vm-a"].failures, 1, "lost with n1, not with n3");
        assert_eq!(r.resources["vm-a"].downtime, 3.0);
        assert_eq!(
            r.resources["watcher"].failures, 1,
            "its last instance went with n1"
        );
        assert_eq!(
            r.hosts["n3"].mean_time_to_recovery, None,
            "nothing of n3's to recover"
        );
    }

    #[test]
    fn still_down_at_the_end_counts_until_the_end() {
        let entries = [
            op(10.0, "n1", "vm-a", "start", "0"),
            op(50.0, "n1", "vm-a", "monitor", "1"),
        ];
        let r = build(&entries, 0.0, 100.0);
        assert_eq!(r.resources["vm-a"].downtime, 50.0);
        assert_eq!(r.resources["vm-a"].availability, 50.0);
    }
}
