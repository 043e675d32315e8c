//! `paddock history`: one timeline from every node's journal. An event several nodes saw (a
//! node lost, a fencing) is shown once, with who saw it.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Result};
use paddock_base::logging::UtcTime;
use serde::Serialize;

use crate::journal::{self, Event, Journal, Text};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only events of the last DURATION (e.g. 90s, 30m, 12h, 7d)
    #[arg(long, value_name = "DURATION", value_parser = parse_age)]
    pub since: Option<Duration>,
    /// Only events about this node
    #[arg(long, value_name = "NODE")]
    pub node: Option<String>,
    /// Only events of this resource
    #[arg(long, value_name = "RESOURCE")]
    pub resource: Option<String>,
    /// The journal directory (default: PADDOCK_JOURNAL, else /var/lib/paddock/events)
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
    /// Print the events as JSON
    #[arg(long)]
    pub json: bool,
}

/// An event as the timeline shows it: once, with every node that reported it.
#[derive(Debug, Clone, Serialize)]
pub struct Entry<'a> {
    #[serde(flatten)]
    pub event: Event<'a>,
    pub seen_by: Vec<Text<'a>>,
}

/// Events of one kind about one thing reported by several nodes within this time are one.
const SAME_EVENT_WINDOW: f64 = 2.0;

pub fn parse_age(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration like 30m, 12h or 7d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" | "" => 86_400,
        _ => return Err(format!("'{text}': the unit must be s, m, h or d")),
    };
    Ok(Duration::from_secs(number.saturating_mul(seconds)))
}

/// The journal the options name: --journal, else PADDOCK_JOURNAL, else the default.
pub fn open(journal: Option<&Path>) -> Result<Journal> {
    let dir = journal.map(Path::to_path_buf).unwrap_or_else(|| {
        journal::directory(None, std::env::var(journal::DIR_ENV).ok().as_deref())
    });
    if !dir.is_dir() {
        bail!(
            "no journal at {} (is the alert agent configured? see paddock(8))",
            dir.display()
        );
    }
    Ok(Journal::open(&dir)?)
}

/// The timeline the options ask for, entry by entry into `each`; how many lines could not be
/// read.
pub fn load<'j>(journal: &'j Journal, args: &Args, mut each: impl FnMut(Entry<'j>)) -> usize {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    let oldest = args.since.map(|age| now - age.as_secs_f64());
    let keep = |e: &Event| {
        oldest.is_none_or(|t| e.time >= t)
            && args.node.as_ref().is_none_or(|n| e.node.as_str() == n)
            && args.resource.as_ref().is_none_or(|r| {
                let rsc = e.field("rsc");
                rsc == r || rsc.split(':').next() == Some(r)
            })
    };
    let mut merger = Merger::default();
    let skipped = journal.stream(keep, |event| merger.push(event, &mut each));
    merger.finish(&mut each);
    skipped
}

/// The timeline merged as the events come, in time order: only the last few seconds are held,
/// so a million events are never a million entries in memory at once.
#[derive(Default)]
pub struct Merger<'a> {
    /// Entries that a later report may still be a copy of, oldest first.
    window: VecDeque<Entry<'a>>,
}

/// Copies are looked for among this many latest entries.
const LOOK_BACK: usize = 64;

impl<'a> Merger<'a> {
    /// Take the next event; hand `out` the entries that can no longer get a copy.
    pub fn push(&mut self, event: Event<'a>, out: &mut impl FnMut(Entry<'a>)) {
        // Only another node's report is a copy: two reports of one node are two events (a
        // resource started, failed and started again within a second).
        let copy = self.window.iter_mut().rev().take(LOOK_BACK).find(|e| {
            (event.time - e.event.time).abs() <= SAME_EVENT_WINDOW
                && !e.seen_by.contains(&event.reporter)
                && same_event(&e.event, &event)
        });
        let newest = event.time;
        match copy {
            Some(entry) => entry.seen_by.push(event.reporter),
            None => self.window.push_back(Entry {
                seen_by: vec![event.reporter.clone()],
                event,
            }),
        }
        while self.window.front().is_some_and(|front| {
            self.window.len() > LOOK_BACK || newest - front.event.time > SAME_EVENT_WINDOW
        }) {
            if let Some(entry) = self.window.pop_front() {
                out(entry);
            }
        }
    }

    /// The entries still held.
    pub fn finish(self, out: &mut impl FnMut(Entry<'a>)) {
        self.window.into_iter().for_each(out);
    }
}

/// Whether two reports are the same event (the reporter and timestamps aside).
fn same_event(a: &Event, b: &Event) -> bool {
    a.kind == b.kind
        && a.node == b.node
        && ["rsc", "task", "desc", "attribute_name", "attribute_value"]
            .iter()
            .all(|name| a.field(name) == b.field(name))
}

/// One line for people.
pub fn line(entry: &Entry) -> String {
    let e = &entry.event;
    let what = match e.kind.as_str() {
        "node" => format!(
            "node {} {}",
            e.node,
            match e.field("desc") {
                "lost" => "lost",
                "member" => "joined",
                other => other,
            }
        ),
        // Pacemaker's desc says it all: "Operation reboot of node1 by node2 for ...: OK"
        "fencing" => format!("fencing of {}: {}", e.node, e.field("desc")),
        "resource" => {
            let interval = match e.field("interval") {
                "" | "0" => String::new(),
                ms => format!(" every {}s", ms.parse::<u64>().unwrap_or(0) / 1000),
            };
            let took = match e.field("exec_time") {
                "" => String::new(),
                ms => format!(", {ms} ms"),
            };
            format!(
                "resource {} {}{} on {}: {} (rc {}{took})",
                e.field("rsc"),
                e.field("task"),
                interval,
                e.node,
                e.field("desc"),
                e.field("rc")
            )
        }
        "attribute" => format!(
            "attribute {}={} on {}",
            e.field("attribute_name"),
            e.field("attribute_value"),
            e.node
        ),
        // an agent's own decision: "vm vm-db stop on node1: escalated to destroy after 30 s"
        journal::AGENT_KIND => {
            let rsc = match e.field("rsc") {
                "" => String::new(),
                rsc => format!(" {rsc}"),
            };
            format!(
                "{}{rsc} {} on {}: {}",
                e.field("agent"),
                e.field("task"),
                e.node,
                e.field("desc")
            )
        }
        other => format!("{other} {}: {}", e.node, e.field("desc")),
    };
    format!(
        "{}  {what}  [seen by {}]",
        timestamp(e.time),
        entry.seen_by.join(",")
    )
}

fn timestamp(time: f64) -> String {
    let t = UtcTime::from(UNIX_EPOCH + Duration::from_secs_f64(time.max(0.0)));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second, t.millis
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collapse the copies of one event that several nodes reported.
    fn merge<'a>(events: impl IntoIterator<Item = Event<'a>>) -> Vec<Entry<'a>> {
        let mut entries = Vec::new();
        let mut merger = Merger::default();
        for event in events {
            merger.push(event, &mut |e| entries.push(e));
        }
        merger.finish(&mut |e| entries.push(e));
        entries
    }

    fn event<'a>(
        time: f64,
        kind: &'a str,
        node: &'a str,
        reporter: &'a str,
        fields: &[(&'a str, &'a str)],
    ) -> Event<'a> {
        Event {
            time,
            kind: kind.into(),
            node: node.into(),
            reporter: reporter.into(),
            fields: fields.iter().copied().collect(),
        }
    }

    #[test]
    fn one_event_seen_by_every_node_is_shown_once() {
        let lost = [("desc", "lost")];
        let entries = merge([
            event(10.0, "node", "node3", "node1", &lost),
            event(10.4, "node", "node3", "node2", &lost),
            event(
                10.5,
                "fencing",
                "node3",
                "node1",
                &[("task", "reboot"), ("desc", "OK")],
            ),
            event(
                10.6,
                "fencing",
                "node3",
                "node2",
                &[("task", "reboot"), ("desc", "OK")],
            ),
            event(60.0, "node", "node3", "node1", &lost),
            event(60.5, "node", "node3", "node1", &lost),
        ]);
        assert_eq!(entries.len(), 4, "{entries:?}");
        assert_eq!(entries[0].seen_by, vec!["node1", "node2"]);
        assert_eq!(entries[1].seen_by, vec!["node1", "node2"]);
        assert_eq!(
            entries[2].seen_by,
            vec!["node1"],
            "a later loss is another event"
        );
        assert_eq!(
            entries[3].seen_by,
            vec!["node1"],
            "one node's two reports are two events"
        );
        assert_eq!(
            line(&entries[0]),
            "1970-01-01 00:00:10.000Z  node node3 lost  [seen by node1,node2]"
        );
    }

    #[test]
    fn resource_lines_say_what_where_and_how_long() {
        let e = event(
            0.0,
            "resource",
            "node2",
            "node2",
            &[
                ("rsc", "vm-db"),
                ("task", "start"),
                ("desc", "ok"),
                ("rc", "0"),
                ("exec_time", "812"),
            ],
        );
        let entries = merge([e]);
        assert!(line(&entries[0]).contains("resource vm-db start on node2: ok (rc 0, 812 ms)"));
    }

    #[test]
    fn an_agents_decision_reads_as_a_sentence() {
        let fencing = event(
            5.0,
            "paddock",
            "node3",
            "node1",
            &[
                ("agent", "fence_paddock_ipmi"),
                ("rsc", ""),
                ("task", "reboot"),
                ("desc", "power off confirmed after 2.4 s, seen on again"),
            ],
        );
        let entries = merge([fencing]);
        assert!(line(&entries[0]).ends_with(
            "fence_paddock_ipmi reboot on node3: power off confirmed after 2.4 s, seen on again  [seen by node1]"
        ));
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_age("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_age("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert!(parse_age("soon").is_err());
        assert!(parse_age("3w").is_err());
    }
}
