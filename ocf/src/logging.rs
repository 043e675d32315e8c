//! A small `tracing` subscriber: every line names the agent, the resource instance and the action.
//! Lines are appended to `HA_LOGFILE` (info and up) and `HA_DEBUGLOG` (everything enabled) when
//! set; they go to stderr when there is no log file, and warnings and errors always do. `HA_debug=1` enables debug.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Where stderr output goes (the real stderr, or a buffer in tests).
pub type Sink = Arc<Mutex<dyn Write + Send>>;

pub struct AgentLogger {
    /// e.g. `procwatch(pw1)[1234] start`
    tag: String,
    max_level: Level,
    stderr: Sink,
    logfile: Option<PathBuf>,
    debuglog: Option<PathBuf>,
}

/// Crates whose debug output would drown ours.
const NOISY_TARGETS: &[&str] = &[
    "rustls",
    "ureq",
    "ureq_proto",
    "hyper",
    "h2",
    "mio",
    "polling",
];

impl AgentLogger {
    pub fn new(agent: &str, instance: &str, action: &str, env: &crate::Env, stderr: Sink) -> Self {
        let debug = env
            .get("HA_debug")
            .map(|v| v.trim() == "1")
            .unwrap_or(false);
        AgentLogger {
            tag: format!("{agent}({instance})[{}] {action}", std::process::id()),
            max_level: if debug { Level::DEBUG } else { Level::INFO },
            stderr,
            logfile: env.non_empty("HA_LOGFILE").map(PathBuf::from),
            debuglog: env.non_empty("HA_DEBUGLOG").map(PathBuf::from),
        }
    }

    /// Write one line to stderr directly (exit reasons, usage): not subject to levels.
    pub fn raw(&self, line: &str) {
        if let Ok(mut w) = self.stderr.lock() {
            let _ = writeln!(w, "{line}");
            let _ = w.flush();
        }
    }

    fn emit(&self, level: &Level, message: &str) {
        let line = format!("{}: {}: {}", self.tag, level_name(level), message);
        // Pacemaker logs an action's stderr and also points HA_LOGFILE at its own log: with a
        // log file, only warnings and errors go to stderr, so no line is logged twice.
        if self.logfile.is_none() || *level <= Level::WARN {
            self.raw(&line);
        }
        let stamped = format!("{} {}\n", timestamp(), line);
        if *level <= Level::INFO {
            if let Some(path) = &self.logfile {
                append(path, &stamped);
            }
        }
        if let Some(path) = &self.debuglog {
            append(path, &stamped);
        }
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "TRACE",
    }
}

fn append(path: &PathBuf, text: &str) {
    // A log file we cannot write must not fail the action.
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(text.as_bytes());
    }
}

/// UTC `YYYY-MM-DDTHH:MM:SSZ` without a date crate.
pub fn timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

struct MessageVisitor(String, String);

impl Visit for MessageVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.1, " {}={}", field.name(), value);
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.1, " {}={:?}", field.name(), value);
        }
    }
}

impl Subscriber for AgentLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        let level = metadata.level();
        if *level > self.max_level {
            return false;
        }
        *level <= Level::INFO
            || !NOISY_TARGETS
                .iter()
                .any(|t| metadata.target().starts_with(t))
    }
    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _span: &Id, _values: &Record<'_>) {}
    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut v = MessageVisitor(String::new(), String::new());
        event.record(&mut v);
        let message = format!("{}{}", v.0, v.1).replace('\n', " ");
        self.emit(event.metadata().level(), &message);
    }
    fn enter(&self, _span: &Id) {}
    fn exit(&self, _span: &Id) {}
}

/// A logger handle that can be shared between the subscriber and the runner.
#[derive(Clone)]
pub struct SharedLogger(pub Arc<AgentLogger>);

impl Subscriber for SharedLogger {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        self.0.enabled(m)
    }
    fn new_span(&self, s: &Attributes<'_>) -> Id {
        self.0.new_span(s)
    }
    fn record(&self, s: &Id, v: &Record<'_>) {
        self.0.record(s, v)
    }
    fn record_follows_from(&self, s: &Id, f: &Id) {
        self.0.record_follows_from(s, f)
    }
    fn event(&self, e: &Event<'_>) {
        self.0.event(e)
    }
    fn enter(&self, s: &Id) {
        self.0.enter(s)
    }
    fn exit(&self, s: &Id) {
        self.0.exit(s)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamp_is_iso8601() {
        let t = super::timestamp();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z'), "{t}");
    }
}
