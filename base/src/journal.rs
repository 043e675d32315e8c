//! The event journal: one JSON line per event in a directory that every node shares, one file
//! per reporting node. Pacemaker's alerts are written by `paddock-alert`; the agents add their
//! own decisions (`kind` "paddock": a stop escalated to destroy, a power-off confirmed, a
//! failure seen in an event). `paddock history` and `paddock report` read it back.
//!
//! Reading is the hot path (a million events must be read in well under two seconds): the
//! files are read whole, each is parsed by a thread of its own, the strings are borrowed from
//! the file's bytes, not copied, and the files are merged in time order as they are parsed,
//! so that the events are never all in memory at once.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// Where the journal lives unless the alert's recipient or PADDOCK_JOURNAL names another
/// directory. Recommended: a directory on the shared storage the VMs already need, so that
/// every node's file is in one place.
pub const DEFAULT_DIR: &str = "/var/lib/paddock/events";
/// Set in /etc/default/pacemaker, it reaches the alert agent and every resource and fence
/// agent alike.
pub const DIR_ENV: &str = "PADDOCK_JOURNAL";

/// A node's file is rotated (to `.1`, the one before dropped) past this size.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The `kind` of the agents' own events.
pub const AGENT_KIND: &str = "paddock";

/// A string of the journal: borrowed from the file when it has no escapes, owned otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text<'a>(pub Cow<'a, str>);

impl Text<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Text<'_> {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<String> for Text<'_> {
    fn from(text: String) -> Self {
        Text(Cow::Owned(text))
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(text: &'a str) -> Self {
        Text(Cow::Borrowed(text))
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(text)))
            }
            fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(text.to_string())))
            }
            fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(TextVisitor(std::marker::PhantomData))
    }
}

/// The event's fields, name → value, in name order. A short vector: one allocation per event
/// instead of a tree node per field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields<'a>(Vec<(Text<'a>, Text<'a>)>);

impl<'a> Fields<'a> {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key.as_str() == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl<'a, K: Into<Text<'a>>, V: Into<Text<'a>>> FromIterator<(K, V)> for Fields<'a> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut fields: Vec<(Text, Text)> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        fields.dedup_by(|later, earlier| later.0 == earlier.0);
        Fields(fields)
    }
}

impl Serialize for Fields<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for FieldsVisitor<'a> {
            type Value = Fields<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(12));
                while let Some(pair) = map.next_entry::<Text<'a>, Text<'a>>()? {
                    fields.push(pair);
                }
                Ok(fields.into_iter().collect())
            }
        }
        deserializer.deserialize_map(FieldsVisitor(std::marker::PhantomData))
    }
}

/// One event: an alert as Pacemaker passed it, or an agent's decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event<'a> {
    /// Seconds since the epoch (Pacemaker's own timestamp for alerts, microseconds kept).
    pub time: f64,
    /// `node`, `fencing`, `resource`, `attribute`; `maintenance`; `paddock` (an agent's).
    #[serde(borrow)]
    pub kind: Text<'a>,
    /// The node the event is about.
    #[serde(borrow)]
    pub node: Text<'a>,
    /// The node whose alert agent (or agent) wrote it.
    #[serde(borrow)]
    pub reporter: Text<'a>,
    /// Every `CRM_alert_*` variable by name without the prefix (`rsc`, `task`, `desc`...); an
    /// agent's: `agent`, `rsc`, `task`, `desc`.
    #[serde(borrow)]
    pub fields: Fields<'a>,
}

const ALERT_PREFIX: &str = "CRM_alert_";

impl Event<'static> {
    /// The event Pacemaker describes in `vars` (its CRM_alert_* environment).
    pub fn from_alert(
        vars: impl IntoIterator<Item = (String, String)>,
        reporter: &str,
    ) -> Event<'static> {
        let fields: Fields<'static> = vars
            .into_iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(ALERT_PREFIX)?.to_string(), v)))
            .collect();
        let number = |name| {
            fields
                .get(name)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let time = number("timestamp_epoch") + number("timestamp_usec") / 1e6;
        Event {
            time,
            kind: fields.get("kind").unwrap_or_default().to_string().into(),
            node: fields.get("node").unwrap_or_default().to_string().into(),
            reporter: reporter.to_string().into(),
            fields,
        }
    }

    /// An agent's decision, now, about `about` (a fence target; None: this node).
    pub fn decision(
        agent: &str,
        about: Option<&str>,
        rsc: &str,
        task: &str,
        desc: &str,
    ) -> Event<'static> {
        let here = this_node();
        let about = about.filter(|n| !n.is_empty()).map(str::to_string);
        let time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        Event {
            time,
            kind: AGENT_KIND.to_string().into(),
            node: about.unwrap_or_else(|| here.clone()).into(),
            reporter: here.into(),
            fields: [
                ("agent", agent),
                ("rsc", rsc),
                ("task", task),
                ("desc", desc),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        }
    }
}

impl Event<'_> {
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).unwrap_or("")
    }
}

/// This node's short host name (what Pacemaker calls it unless told otherwise).
pub fn this_node() -> String {
    let name = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.split('.').next().unwrap_or_default().to_string()
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
pub fn append(dir: &Path, event: &Event) -> std::io::Result<()> {
    let path = dir.join(format!("{}.jsonl", file_stem(&event.reporter)));
    if fs::metadata(&path).is_ok_and(|m| m.len() > MAX_FILE_BYTES) {
        let _ = fs::rename(&path, path.with_extension("jsonl.1"));
    }
    let mut line = serde_json::to_string(event).map_err(std::io::Error::other)?;
    line.push('\n');
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| with_path("cannot open", &path, e))?;
    give_to_directory_owner(dir, &file);
    // one write: concurrent appenders never interleave within a line
    file.write_all(line.as_bytes())
        .map_err(|e| with_path("cannot write", &path, e))
}

/// A file an agent running as root created belongs to the directory's owner, so that the
/// alert agent (run as hacluster) can still append to it.
fn give_to_directory_owner(dir: &Path, file: &fs::File) {
    use std::os::unix::fs::MetadataExt;
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let (Ok(dir_meta), Ok(file_meta)) = (fs::metadata(dir), file.metadata()) else {
        return;
    };
    if (file_meta.uid(), file_meta.gid()) != (dir_meta.uid(), dir_meta.gid()) {
        let _ = nix::unistd::fchown(
            file,
            Some(nix::unistd::Uid::from_raw(dir_meta.uid())),
            Some(nix::unistd::Gid::from_raw(dir_meta.gid())),
        );
    }
}

fn with_path(what: &str, path: &Path, error: std::io::Error) -> std::io::Error {
    std::io::Error::new(error.kind(), format!("{what} {}: {error}", path.display()))
}

/// An agent's decision into the journal, when there is one: the directory PADDOCK_JOURNAL
/// names, else the default one if it exists. Agents never create it and never fail for it:
/// the journal helps people, it must not stop a failover.
pub fn record_decision(agent: &str, about: Option<&str>, rsc: &str, task: &str, desc: &str) {
    let dir = directory(None, std::env::var(DIR_ENV).ok().as_deref());
    if !dir.is_dir() {
        return;
    }
    let event = Event::decision(agent, about, rsc, task, desc);
    if let Err(error) = append(&dir, &event) {
        tracing::warn!("event journal: {error}");
    }
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

/// The journal's files, read whole: the events borrow from them.
pub struct Journal {
    files: Vec<Vec<u8>>,
    /// Files that could not be read.
    pub unreadable: usize,
}

/// A file is parsed this much at a time.
const CHUNK_BYTES: usize = 4 * 1024 * 1024;

impl Journal {
    /// Every node's file in `dir` (rotated ones included).
    pub fn open(dir: &Path) -> std::io::Result<Journal> {
        let entries = fs::read_dir(dir).map_err(|e| with_path("cannot read", dir, e))?;
        let mut journal = Journal {
            files: Vec::new(),
            unreadable: 0,
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !(name.ends_with(".jsonl") || name.ends_with(".jsonl.1")) {
                continue;
            }
            match fs::read(entry.path()) {
                Ok(bytes) => journal.files.push(bytes),
                Err(_) => journal.unreadable += 1,
            }
        }
        Ok(journal)
    }

    /// Hand the events `keep` accepts to `each`, in time order, without holding them all: each
    /// file is parsed by a thread of its own, and the files are merged as they come, always
    /// from the one that is furthest behind. Returns how many lines could not be read.
    ///
    /// A node's file is in time order but for alerts that finished a little out of order:
    /// events are held back REORDER_SLACK seconds behind the slowest file to put those right.
    pub fn stream<'j, K, E>(&'j self, keep: K, mut each: E) -> usize
    where
        K: Fn(&Event) -> bool + Sync,
        E: FnMut(Event<'j>),
    {
        let keep = &keep;
        std::thread::scope(|scope| {
            let mut sources = Vec::new();
            let mut producers = Vec::new();
            for file in &self.files {
                let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<Event<'j>>>(2);
                producers.push(scope.spawn(move || {
                    let mut bad = 0;
                    let mut batch = Vec::with_capacity(BATCH);
                    for chunk in chunks(file) {
                        bad += parse_lines(chunk, keep, &mut batch);
                        if batch.len() >= BATCH {
                            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                            if sender.send(full).is_err() {
                                return bad;
                            }
                        }
                    }
                    let _ = sender.send(batch);
                    bad
                }));
                sources.push(Source {
                    batches: receiver,
                    seen_until: f64::MIN,
                    done: false,
                });
            }
            let mut held = std::collections::BinaryHeap::new();
            let mut order = 0u64;
            loop {
                // the file furthest behind gives the next batch
                let behind = sources
                    .iter_mut()
                    .filter(|s| !s.done)
                    .min_by(|a, b| a.seen_until.total_cmp(&b.seen_until));
                let Some(source) = behind else { break };
                match source.batches.recv() {
                    Ok(batch) => {
                        for event in batch {
                            source.seen_until = source.seen_until.max(event.time);
                            order += 1;
                            held.push(Held { event, order });
                        }
                    }
                    Err(_) => source.done = true,
                }
                let safe = sources
                    .iter()
                    .filter(|s| !s.done)
                    .map(|s| s.seen_until)
                    .fold(f64::INFINITY, f64::min)
                    - REORDER_SLACK;
                while held.peek().is_some_and(|h| h.event.time <= safe) {
                    if let Some(h) = held.pop() {
                        each(h.event);
                    }
                }
            }
            while let Some(h) = held.pop() {
                each(h.event);
            }
            self.unreadable
                + producers
                    .into_iter()
                    .map(|p| p.join().unwrap_or(0))
                    .sum::<usize>()
        })
    }
}

/// Events a parser hands over at once.
const BATCH: usize = 4096;

/// How far out of time order a node's own file may be and still be read in order.
const REORDER_SLACK: f64 = 5.0;

/// One file being read: its batches, and the latest time it has given.
struct Source<'j> {
    batches: std::sync::mpsc::Receiver<Vec<Event<'j>>>,
    seen_until: f64,
    done: bool,
}

/// An event held back, earliest first (a min-heap; equal times in reading order).
struct Held<'j> {
    event: Event<'j>,
    order: u64,
}

impl PartialEq for Held<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Held<'_> {}

impl PartialOrd for Held<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Held<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // reversed: BinaryHeap pops the greatest
        other
            .event
            .time
            .total_cmp(&self.event.time)
            .then(other.order.cmp(&self.order))
    }
}

/// A file cut into pieces of about CHUNK_BYTES that end at a line end.
fn chunks(bytes: &[u8]) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let mut rest = bytes;
    while rest.len() > CHUNK_BYTES {
        let cut = rest[CHUNK_BYTES..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |p| CHUNK_BYTES + p + 1);
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    if !rest.is_empty() {
        pieces.push(rest);
    }
    pieces
}

/// Parse the lines of `chunk` into `events` (those `keep` accepts); the count of bad lines.
fn parse_lines<'a, F: Fn(&Event) -> bool>(
    chunk: &'a [u8],
    keep: &F,
    events: &mut Vec<Event<'a>>,
) -> usize {
    let mut bad = 0;
    for line in chunk.split(|&b| b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Event>(line) {
            Ok(event) if keep(&event) => events.push(event),
            Ok(_) => {}
            Err(_) => bad += 1,
        }
    }
    bad
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
        let escaped = Event::decision("vm", None, "vm-\"db\"", "stop", "escalated\nto destroy");
        append(dir.path(), &escaped).expect("append");
        fs::write(dir.path().join("n3.jsonl"), "{\"truncated\n\nnot json\n").expect("write");
        fs::write(dir.path().join("README"), "not a journal").expect("write");
        let journal = Journal::open(dir.path()).expect("open");
        let mut events = Vec::new();
        let skipped = journal.stream(|e| e.kind.as_str() == "node", |e| events.push(e));
        assert_eq!(
            events.iter().map(|e| e.time).collect::<Vec<_>>(),
            vec![1.0, 3.0]
        );
        assert_eq!(skipped, 2);
        let mut all = Vec::new();
        journal.stream(|_| true, |e| all.push(e));
        let decision = all
            .iter()
            .find(|e| e.kind.as_str() == AGENT_KIND)
            .expect("decision");
        assert_eq!(
            decision.field("rsc"),
            "vm-\"db\"",
            "escaped strings are owned"
        );
        assert_eq!(decision.field("desc"), "escalated\nto destroy");
        assert_eq!(decision.field("agent"), "vm");
    }

    #[test]
    fn files_merge_in_time_order_and_a_little_disorder_is_put_right() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut expected = Vec::new();
        for (node, offset) in [("n1", 0.0), ("n2", 0.3), ("n3", 0.7)] {
            let mut e = Event::from_alert(alert(&[("kind", "node"), ("node", "x")]), node);
            // 20,000 events a node, each tenth written 2 s late (an alert that finished late)
            for i in 0..20_000 {
                let late = if i % 10 == 5 { -2.0 } else { 0.0 };
                e.time = i as f64 + offset + late;
                expected.push(e.time);
                append(dir.path(), &e).expect("append");
            }
        }
        expected.sort_by(f64::total_cmp);
        let journal = Journal::open(dir.path()).expect("open");
        let mut times = Vec::new();
        let skipped = journal.stream(|_| true, |e| times.push(e.time));
        assert_eq!(skipped, 0);
        assert_eq!(times.len(), expected.len());
        assert!(times == expected, "not in time order");
    }

    #[test]
    fn chunks_end_at_line_ends_and_cover_everything() {
        let line = b"{\"x\":1}\n".repeat(CHUNK_BYTES / 4);
        let pieces = chunks(&line);
        assert!(pieces.len() > 1);
        assert!(pieces.iter().all(|p| p.ends_with(b"\n")));
        assert_eq!(pieces.iter().map(|p| p.len()).sum::<usize>(), line.len());
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
