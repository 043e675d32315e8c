//! The fence-agents sink of the shared `tracing` subscriber (`paddock_base::logging`): errors
//! and warnings always go to stderr, debug lines only with `verbose`; everything is also
//! appended to `debug_file` when one is given. Agents log with `tracing::debug!` / `warn!`;
//! their lines are queued and written out by the framework after each device call, in order
//! with its own.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::{Arc, Mutex};

use paddock_base::logging::{level_name, LineSink, LineSubscriber, UtcTime};
use tracing::Level;

/// Lines logged through `tracing` while the framework is not writing: level, time, message.
#[derive(Default)]
struct AgentLines(Mutex<Vec<(Level, String, String)>>);

impl LineSink for AgentLines {
    fn line(&self, level: &Level, message: &str) {
        if let Ok(mut lines) = self.0.lock() {
            lines.push((*level, timestamp(), message.to_string()));
        }
    }
}

impl AgentLines {
    fn take(&self) -> Vec<(Level, String, String)> {
        self.0
            .lock()
            .map(|mut lines| std::mem::take(&mut *lines))
            .unwrap_or_default()
    }
}

/// Where the framework writes its log lines.
pub struct Logger<'a> {
    stderr: &'a mut dyn Write,
    verbose: u32,
    quiet: bool,
    debug_file: Option<File>,
    agent_lines: Arc<AgentLines>,
}

impl<'a> Logger<'a> {
    pub fn new(stderr: &'a mut dyn Write) -> Self {
        Logger {
            stderr,
            verbose: 0,
            quiet: false,
            debug_file: None,
            agent_lines: Arc::default(),
        }
    }

    /// The `tracing` subscriber whose events this logger writes out (at the next
    /// [`Logger::drain_agent_lines`]); it takes every level, the logger filters by verbosity.
    pub fn subscriber(&self) -> LineSubscriber<impl LineSink> {
        LineSubscriber::new(self.agent_lines.clone(), Level::DEBUG)
    }

    /// fence-agents' `quiet`: nothing on stderr; the debug file still gets every line.
    pub fn set_quiet(&mut self, quiet: bool) {
        self.quiet = quiet;
    }

    pub fn set_verbose(&mut self, level: u32) {
        self.verbose = level;
    }

    pub fn verbose(&self) -> u32 {
        self.verbose
    }

    /// Append to `path` from now on.
    pub fn open_debug_file(&mut self, path: &str) -> Result<(), String> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("Failed: Unable to create file {path}: {e}"))?;
        self.debug_file = Some(file);
        Ok(())
    }

    pub fn log(&mut self, level: Level, message: &str) {
        self.write_line(level, &timestamp(), message);
    }

    fn write_line(&mut self, level: Level, time: &str, message: &str) {
        let line = format!("{time} {}: {message}\n", level_name(&level));
        if !self.quiet && (level <= Level::WARN || self.verbose > 0) {
            let _ = self.stderr.write_all(line.as_bytes());
        }
        if let Some(file) = self.debug_file.as_mut() {
            let _ = file.write_all(line.as_bytes());
        }
    }

    pub fn debug(&mut self, message: &str) {
        self.log(Level::DEBUG, message);
    }

    pub fn warning(&mut self, message: &str) {
        self.log(Level::WARN, message);
    }

    pub fn error(&mut self, message: &str) {
        self.log(Level::ERROR, message);
    }

    /// Write out what was logged through `tracing` since the last call.
    pub fn drain_agent_lines(&mut self) {
        for (level, time, message) in self.agent_lines.take() {
            self.write_line(level, &time, &message);
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS,mmm` in UTC, like Python logging's default format.
fn timestamp() -> String {
    let t = UtcTime::now();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03}",
        t.year, t.month, t.day, t.hour, t.minute, t.second, t.millis
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_lines_only_when_verbose() {
        let mut out = Vec::new();
        {
            let mut log = Logger::new(&mut out);
            log.debug("hidden");
            log.warning("shown");
            log.set_verbose(1);
            tracing::subscriber::with_default(log.subscriber(), || {
                tracing::debug!("from agent");
            });
            log.drain_agent_lines();
        }
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("hidden"));
        assert!(text.contains("WARNING: shown"));
        assert!(text.contains("DEBUG: from agent"));
    }

    #[test]
    fn debug_file_appends_everything() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("debug.log");
        std::fs::write(&path, "earlier\n").unwrap();
        let mut out = Vec::new();
        let mut log = Logger::new(&mut out);
        log.open_debug_file(path.to_str().unwrap()).unwrap();
        log.debug("detail");
        drop(log);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("earlier\n"));
        assert!(text.contains("DEBUG: detail"));
        assert!(out.is_empty());
    }
}
