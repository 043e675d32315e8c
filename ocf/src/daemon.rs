//! An agent's own daemon (a watcher that outlives the action that started it): the agent's
//! binary run again, detached, with a hidden first argument, logging timestamped lines to a
//! file of its own.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use paddock_base::logging::{level_name, LineSink, LineSubscriber};
use tracing::Level;

/// Starts this binary again with `args`, detached (a process group of its own; the daemon
/// then takes a session of its own), its stderr appended to `logfile`; returns its pid.
pub fn spawn_detached(args: &[String], logfile: &Path) -> Result<u32, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find my own binary: {e}"))?;
    if let Some(parent) = logfile.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(logfile)
        .map_err(|e| format!("cannot open {}: {e}", logfile.display()))?;
    let child = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start the daemon: {e}"))?;
    Ok(child.id())
}

/// The daemon's first step: a session of its own (no signal for the agent's group or
/// terminal reaches it), and tracing as `TIME NAME[PID]: LEVEL: message` lines on stderr,
/// which spawn_detached pointed at its log file.
pub fn become_daemon(name: &'static str, debug: bool) {
    let _ = nix::unistd::setsid();
    let level = if debug { Level::DEBUG } else { Level::INFO };
    let subscriber = LineSubscriber::new(
        Arc::new(StderrLines {
            name,
            lock: Mutex::new(()),
        }),
        level,
    );
    let _ = tracing::subscriber::set_global_default(subscriber);
}

struct StderrLines {
    name: &'static str,
    /// One line at a time from every thread.
    lock: Mutex<()>,
}

impl LineSink for StderrLines {
    fn line(&self, level: &Level, message: &str) {
        let _held = self.lock.lock();
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "{} {}[{}]: {}: {message}",
            crate::logging::timestamp(),
            self.name,
            std::process::id(),
            level_name(level)
        );
    }
}
