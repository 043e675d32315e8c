//! The event journal: one JSON line per Pacemaker alert (node, fencing, resource, attribute),
//! written by `paddock-alert` on each node into its own file of a shared directory, read back
//! by `paddock history`.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// Where the journal lives unless the alert's recipient or PADDOCK_JOURNAL names another
/// directory. Recommended: a directory on the shared storage the VMs already need, so that
/// every node's file is in one place.
pub const DEFAULT_DIR: &str = "/var/lib/paddock/events";
pub const DIR_ENV: &str = "PADDOCK_JOURNAL";

/// A node's file is rotated (to `.1`, the one before dropped) past this size.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

const ALERT_PREFIX: &str = "CRM_alert_";

/// One alert as Pacemaker passed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Seconds since the epoch, from Pacemaker's own timestamp (microseconds kept).
    pub time: f64,
    /// `node`, `fencing`, `resource` or `attribute`.
    pub kind: String,
    /// The node the event is about.
    pub node: String,
    /// The node whose alert agent wrote it.
    pub reporter: String,
    /// Every `CRM_alert_*` variable, by name without the prefix (`rsc`, `task`, `desc`...).
    pub fields: BTreeMap<String, String>,
}

impl Event {
    /// The event Pacemaker describes in `vars` (its CRM_alert_* environment).
    pub fn from_alert(vars: impl IntoIterator<Item = (String, String)>, reporter: &str) -> Event {
        let fields: BTreeMap<String, String> = vars
            .into_iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(ALERT_PREFIX)?.to_string(), v)))
            .collect();
        let seconds: f64 = field_number(&fields, "timestamp_epoch");
        let micros: f64 = field_number(&fields, "timestamp_usec");
        Event {
            time: seconds + micros / 1e6,
            kind: fields.get("kind").cloned().unwrap_or_default(),
            node: fields.get("node").cloned().unwrap_or_default(),
            reporter: reporter.to_string(),
            fields,
        }
    }

    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }
}

fn field_number(fields: &BTreeMap<String, String>, name: &str) -> f64 {
    fields
        .get(name)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// The journal directory: an absolute alert recipient, else PADDOCK_JOURNAL, else the default.
pub fn directory(recipient: Option<&str>, env: Option<&str>) -> PathBuf {
    recipient
        .filter(|r| r.starts_with('/'))
        .or(env.filter(|e| !e.trim().is_empty()))
        .unwrap_or(DEFAULT_DIR)
        .into()
}

/// Append one event to the reporter's file, rotating it when it is too big.
pub fn append(dir: &Path, event: &Event) -> Result<()> {
    let path = dir.join(format!("{}.jsonl", file_stem(&event.reporter)));
    if fs::metadata(&path).is_ok_and(|m| m.len() > MAX_FILE_BYTES) {
        let _ = fs::rename(&path, path.with_extension("jsonl.1"));
    }
    let mut line = serde_json::to_string(event)?;
    line.push('\n');
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    // one write: concurrent appenders never interleave within a line
    file.write_all(line.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A node name as a file name (no path separators).
fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.is_empty() || stem.starts_with('.') {
        format!("node{stem}")
    } else {
        stem
    }
}

/// Every event of every node's file (rotated ones included), and how many lines could not
/// be read.
pub fn read(dir: &Path) -> Result<(Vec<Event>, usize)> {
    let entries =
        fs::read_dir(dir).with_context(|| format!("cannot read the journal {}", dir.display()))?;
    let mut events = Vec::new();
    let mut skipped = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.ends_with(".jsonl") || name.ends_with(".jsonl.1")) {
            continue;
        }
        let Ok(file) = fs::File::open(entry.path()) else {
            skipped += 1;
            continue;
        };
        for line in BufReader::new(file).split(b'\n') {
            let Ok(line) = line else {
                skipped += 1;
                break;
            };
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Event>(&line) {
                Ok(event) => events.push(event),
                Err(_) => skipped += 1,
            }
        }
    }
    events.sort_by(|a, b| a.time.total_cmp(&b.time));
    Ok((events, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (format!("{ALERT_PREFIX}{k}"), v.to_string()))
            .chain([("PATH".to_string(), "/bin".to_string())])
            .collect()
    }

    #[test]
    fn an_alert_becomes_an_event_with_every_field() {
        let e = Event::from_alert(
            alert(&[
                ("kind", "resource"),
                ("node", "node1"),
                ("rsc", "vm-db"),
                ("task", "start"),
                ("timestamp_epoch", "1764547200"),
                ("timestamp_usec", "250000"),
            ]),
            "node2",
        );
        assert_eq!((e.kind.as_str(), e.node.as_str()), ("resource", "node1"));
        assert_eq!(e.time, 1764547200.25);
        assert_eq!(e.field("rsc"), "vm-db");
        assert!(!e.fields.contains_key("PATH"), "only CRM_alert_ variables");
    }

    #[test]
    fn appended_lines_read_back_and_garbage_is_counted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut e = Event::from_alert(alert(&[("kind", "node"), ("node", "n1")]), "n2");
        for t in [3.0, 1.0] {
            e.time = t;
            append(dir.path(), &e).expect("append");
        }
        fs::write(dir.path().join("n3.jsonl"), "{\"truncated\n\nnot json\n").expect("write");
        fs::write(dir.path().join("README"), "not a journal").expect("write");
        let (events, skipped) = read(dir.path()).expect("read");
        assert_eq!(
            events.iter().map(|e| e.time).collect::<Vec<_>>(),
            vec![1.0, 3.0]
        );
        assert_eq!(skipped, 2);
    }

    #[test]
    fn directory_and_file_names() {
        assert_eq!(
            directory(Some("/shared/ev"), Some("/x")),
            PathBuf::from("/shared/ev")
        );
        assert_eq!(
            directory(Some("mail@example.com"), Some("/x")),
            PathBuf::from("/x")
        );
        assert_eq!(directory(None, None), PathBuf::from(DEFAULT_DIR));
        assert_eq!(file_stem("../etc/passwd"), "node.._etc_passwd");
        assert_eq!(file_stem("node-1.example"), "node-1.example");
    }
}
