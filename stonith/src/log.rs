//! Logging of one invocation: errors and warnings always go to stderr, debug lines only with
//! `verbose`; everything is also appended to `debug_file` when one is given. Agents log through
//! [`debug`] / [`warn`], which queue lines the framework writes out after each device call.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warning,
    Error,
}

impl Level {
    fn label(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
        }
    }
}

thread_local! {
    /// Agent lines waiting to be written: level, time they were logged, message.
    static QUEUE: RefCell<Vec<(Level, String, String)>> = const { RefCell::new(Vec::new()) };
}

/// For agents: a detail shown with `-v` and written to `debug_file`. Never pass a secret.
pub fn debug(message: impl Into<String>) {
    QUEUE.with(|q| {
        q.borrow_mut()
            .push((Level::Debug, timestamp(), message.into()))
    });
}

/// For agents: something the operator should see even without `-v`. Never pass a secret.
pub fn warn(message: impl Into<String>) {
    QUEUE.with(|q| {
        q.borrow_mut()
            .push((Level::Warning, timestamp(), message.into()))
    });
}

/// Where the framework writes its log lines.
pub struct Logger<'a> {
    stderr: &'a mut dyn Write,
    verbose: u32,
    quiet: bool,
    debug_file: Option<File>,
}

impl<'a> Logger<'a> {
    pub fn new(stderr: &'a mut dyn Write) -> Self {
        // Lines queued by an earlier invocation on this thread (tests) are not ours.
        QUEUE.with(|q| q.borrow_mut().clear());
        Logger {
            stderr,
            verbose: 0,
            quiet: false,
            debug_file: None,
        }
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
        let line = format!("{time} {}: {message}\n", level.label());
        if !self.quiet && (level >= Level::Warning || self.verbose > 0) {
            let _ = self.stderr.write_all(line.as_bytes());
        }
        if let Some(file) = self.debug_file.as_mut() {
            let _ = file.write_all(line.as_bytes());
        }
    }

    pub fn debug(&mut self, message: &str) {
        self.log(Level::Debug, message);
    }

    pub fn warning(&mut self, message: &str) {
        self.log(Level::Warning, message);
    }

    pub fn error(&mut self, message: &str) {
        self.log(Level::Error, message);
    }

    /// Write out what the agent queued with [`debug`] / [`warn`].
    pub fn drain_agent_lines(&mut self) {
        let lines = QUEUE.with(|q| std::mem::take(&mut *q.borrow_mut()));
        for (level, time, message) in lines {
            self.write_line(level, &time, &message);
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS,mmm` in UTC, like Python logging's default format.
fn timestamp() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02},{:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn debug_lines_only_when_verbose() {
        let mut out = Vec::new();
        {
            let mut log = Logger::new(&mut out);
            log.debug("hidden");
            log.warning("shown");
            log.set_verbose(1);
            debug("from agent");
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
