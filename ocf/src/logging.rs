//! The OCF sink of the shared `tracing` subscriber (`paddock_base::logging`): every line names
//! the agent, the resource instance and the action. Lines are appended to `HA_LOGFILE` (info and
//! up) and `HA_DEBUGLOG` (everything enabled) when set; they go to stderr when there is no log
//! file, and warnings and errors always do. `HA_debug=1` enables debug.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use paddock_base::logging::{level_name, LineSink, LineSubscriber, UtcTime};
use tracing::Level;

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

    /// The `tracing` subscriber that sends every enabled event to this logger.
    pub fn subscriber(self: &Arc<Self>) -> LineSubscriber<AgentLogger> {
        LineSubscriber::new(self.clone(), self.max_level)
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

/// UTC `YYYY-MM-DDTHH:MM:SSZ`.
pub fn timestamp() -> String {
    let t = UtcTime::now();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

impl LineSink for AgentLogger {
    fn line(&self, level: &Level, message: &str) {
        self.emit(level, message);
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
