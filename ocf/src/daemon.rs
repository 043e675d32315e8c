//! An agent's own daemon (a watcher that outlives the action that started it): the agent's
//! binary run again, detached, with a hidden first argument, logging timestamped lines to a
//! file of its own. The daemon writes its pid file and rewrites a status file (whose age is
//! its heartbeat); the agent's start, stop and monitor find it by the pid file, end it, and
//! judge it hung by that age. What the status says is each agent's own.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use paddock_base::logging::{level_name, LineSink, LineSubscriber};
use paddock_base::Deadline;
use tracing::Level;

/// How often start and stop look again at the daemon.
const POLL: Duration = Duration::from_millis(50);

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

/// The daemon's command line after its hidden first argument: `--NAME VALUE` options, a
/// `--param NAME=VALUE` for each resource parameter it is given, and `--debug`. The agent
/// writes it and the daemon reads it back; each agent names the options its daemon takes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DaemonArgs {
    /// (NAME without its `--`, value), in order.
    pub options: Vec<(String, String)>,
    /// The resource's parameters, as `--param NAME=VALUE`.
    pub params: Vec<(String, String)>,
    pub debug: bool,
}

impl DaemonArgs {
    pub fn option(mut self, name: &str, value: impl Into<String>) -> DaemonArgs {
        self.options.push((name.to_string(), value.into()));
        self
    }

    /// The whole command line, `daemon_arg` first.
    pub fn to_args(&self, daemon_arg: &str) -> Vec<String> {
        let mut args = vec![daemon_arg.to_string()];
        for (name, value) in &self.options {
            args.extend([format!("--{name}"), value.clone()]);
        }
        for (k, v) in &self.params {
            args.extend(["--param".into(), format!("{k}={v}")]);
        }
        if self.debug {
            args.push("--debug".into());
        }
        args
    }

    /// Reads `args` (after the hidden first argument) back. `known`: the option names the
    /// daemon takes; `param` among them allows `--param`. Anything else is an error.
    pub fn parse(args: &[String], known: &[&str]) -> Result<DaemonArgs, String> {
        let mut parsed = DaemonArgs::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            if arg == "--debug" {
                parsed.debug = true;
                continue;
            }
            let name = arg
                .strip_prefix("--")
                .filter(|name| known.contains(name))
                .ok_or_else(|| format!("unknown argument {arg}"))?;
            let value = it.next().cloned().ok_or(format!("{arg} needs a value"))?;
            if name == "param" {
                let (k, v) = value.split_once('=').ok_or("--param needs NAME=VALUE")?;
                parsed.params.push((k.to_string(), v.to_string()));
            } else {
                parsed.options.push((name.to_string(), value));
            }
        }
        Ok(parsed)
    }

    /// The last value of option `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of an option the daemon cannot do without.
    pub fn required(&self, name: &str) -> Result<String, String> {
        self.get(name)
            .map(str::to_string)
            .ok_or_else(|| format!("--{name} is required"))
    }
}

/// The daemon's pid, written once it runs (its directory made first).
pub fn write_pid_file(pid_file: &Path) -> std::io::Result<()> {
    if let Some(dir) = pid_file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(pid_file, format!("{}\n", std::process::id()))
}

/// Writes `text` whole or not at all (a temporary file renamed over `path`): a reader never
/// sees half a status.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// Seconds since the Unix epoch (0 if the clock is before it): the time stamps of status files.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The daemon's pid, if one runs: `pid_file` names a live process whose command line holds
/// every one of `marks` (the daemon's hidden argument, and what tells one instance from
/// another), so that a pid reused by another program is never taken for it.
pub fn running_daemon(pid_file: &Path, marks: &[&str]) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(pid_file)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let ours = marks
        .iter()
        .all(|mark| cmdline.split(|b| *b == 0).any(|arg| arg == mark.as_bytes()));
    (ours && alive(pid)).then_some(pid)
}

/// Alive and not a zombie.
pub fn alive(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // the state follows the command name in parentheses, which may itself hold spaces
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    state.is_some_and(|s| s != 'Z')
}

/// Ends the daemon `pid` (called `what` in messages): SIGTERM, up to half the time left for
/// it to finish its work, then SIGKILL. An error only if it outlives SIGKILL by the deadline.
pub fn stop_daemon(pid: i32, what: &str, deadline: Deadline) -> Result<(), String> {
    let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    let patience = deadline.capped(deadline.remaining() / 2);
    while alive(pid) && !patience.expired() {
        std::thread::sleep(POLL);
    }
    if alive(pid) {
        tracing::warn!("{what} (pid {pid}) ignored SIGTERM; killing it");
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        while alive(pid) && !deadline.expired() {
            std::thread::sleep(POLL);
        }
    }
    if alive(pid) {
        return Err(format!("{what} (pid {pid}) survived SIGKILL"));
    }
    Ok(())
}

/// How long ago `path` was last written; None if it cannot be told (missing file).
pub fn file_age(path: &Path) -> Option<Duration> {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
}

/// Whether the status file `path` says its daemon is hung: missing or older than `limit`.
/// The age is wall-clock time while the daemon is paced by the monotonic clock, so after the
/// whole machine was paused every file looks old at once: a stale file is looked at again
/// until `recheck` expires, and only one that stays stale counts.
pub fn heartbeat_is_stale(path: &Path, limit: Duration, recheck: Deadline) -> bool {
    let stale = || file_age(path).is_none_or(|age| age > limit);
    let mut verdict = stale();
    while verdict && !recheck.expired() {
        std::thread::sleep(POLL);
        verdict = stale();
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_args_round_trip_and_refuse_what_they_do_not_know() {
        let args = DaemonArgs {
            params: vec![("network".into(), "a=b c".into())],
            debug: true,
            ..DaemonArgs::default()
        }
        .option("state-dir", "/run/resource-agents")
        .option("node", "node1");
        let line = args.to_args("__test_daemon");
        assert_eq!(
            line[..3],
            ["__test_daemon", "--state-dir", "/run/resource-agents"]
        );
        let known = ["state-dir", "node", "param"];
        let back = DaemonArgs::parse(&line[1..], &known).unwrap();
        assert_eq!(back, args);
        assert_eq!(back.required("node").as_deref(), Ok("node1"));
        assert_eq!(
            back.required("instance"),
            Err("--instance is required".into())
        );
        let parse = |line: &[&str], known: &[&str]| {
            let line: Vec<String> = line.iter().map(|a| a.to_string()).collect();
            DaemonArgs::parse(&line, known)
        };
        assert_eq!(
            parse(&["--node"], &known),
            Err("--node needs a value".into())
        );
        assert_eq!(
            parse(&["--bogus", "x"], &known),
            Err("unknown argument --bogus".into())
        );
        assert!(parse(&["--param", "novalue"], &known).is_err());
        assert!(
            parse(&["--param", "a=b"], &["node"]).is_err(),
            "param not taken"
        );
    }

    #[test]
    fn pid_and_status_files_are_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("daemon/pid");
        write_pid_file(&pid_file).unwrap();
        assert_eq!(
            std::fs::read_to_string(&pid_file).unwrap(),
            format!("{}\n", std::process::id())
        );
        let status = dir.path().join("daemon/status");
        write_atomically(&status, "state=ok\n").unwrap();
        write_atomically(&status, "state=lost\n").unwrap();
        assert_eq!(std::fs::read_to_string(&status).unwrap(), "state=lost\n");
        assert!(!status.with_extension("tmp").exists());
    }

    #[test]
    fn a_running_daemon_is_found_only_by_its_marks() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid_file = dir.path().join("pid");
        std::fs::write(&pid_file, format!("{}\n", child.id())).unwrap();
        let pid = child.id() as i32;
        // right after spawn the kernel may not have set up the new command line yet
        let found = Deadline::after(Duration::from_secs(5));
        while running_daemon(&pid_file, &["sleep", "30"]).is_none() && !found.expired() {
            std::thread::sleep(POLL);
        }
        assert_eq!(running_daemon(&pid_file, &["sleep", "30"]), Some(pid));
        assert_eq!(running_daemon(&pid_file, &["sleep", "31"]), None);
        assert_eq!(running_daemon(&dir.path().join("none"), &["sleep"]), None);
        stop_daemon(pid, "the sleeper", Deadline::after(Duration::from_secs(5))).unwrap();
        assert!(!alive(pid), "a zombie is not alive");
        assert_eq!(running_daemon(&pid_file, &["sleep"]), None);
        let _ = child.wait();
    }

    #[test]
    fn a_daemon_that_ignores_sigterm_is_killed() {
        let mut child = Command::new("/bin/sh")
            .args(["-c", "trap '' TERM; while :; do sleep 0.1; done"])
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        std::thread::sleep(Duration::from_millis(200)); // the trap is set
        let started = std::time::Instant::now();
        stop_daemon(pid, "the stubborn", Deadline::after(Duration::from_secs(2))).unwrap();
        assert!(!alive(pid));
        // it had half the time for SIGTERM, then was killed
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "{:?}",
            started.elapsed()
        );
        let _ = child.wait();
    }

    #[test]
    fn a_status_file_is_stale_when_missing_or_old() {
        let dir = tempfile::tempdir().unwrap();
        let status = dir.path().join("status");
        let no_recheck = Deadline::after(Duration::ZERO);
        assert!(heartbeat_is_stale(
            &status,
            Duration::from_secs(10),
            no_recheck
        ));
        write_atomically(&status, "x").unwrap();
        assert!(!heartbeat_is_stale(
            &status,
            Duration::from_secs(10),
            no_recheck
        ));
        std::thread::sleep(Duration::from_millis(1100));
        assert!(heartbeat_is_stale(&status, Duration::ZERO, no_recheck));
        // rewritten while being looked at again: not stale
        let path = status.clone();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            write_atomically(&path, "y").unwrap();
        });
        let recheck = Deadline::after(Duration::from_secs(2));
        assert!(!heartbeat_is_stale(
            &status,
            Duration::from_millis(500),
            recheck
        ));
        writer.join().unwrap();
    }
}
