//! Running a helper command bounded by a deadline (a hook, a probe, an init script, a password
//! script, crm_resource). The command runs in its own process group, which is killed when time
//! is up, so nothing it started outlives the limit; its output is read on the side, so a full
//! pipe cannot stall it and a background process holding the pipe cannot hold the caller.

use crate::Deadline;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes of stdout and of stderr kept (the rest is read and dropped).
    pub keep_bytes: usize,
    /// Kill what the command left in its process group once it exits (not for init scripts,
    /// whose daemon may stay in the group).
    pub kill_leftovers: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            keep_bytes: 64 * 1024,
            kill_leftovers: true,
        }
    }
}

/// Why a bounded command gave no exit status.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} timed out: did not finish within {} ms and was killed", elapsed.as_millis())]
    TimedOut { program: String, elapsed: Duration },
    #[error("waiting for {program}: {source}")]
    Wait {
        program: String,
        source: std::io::Error,
    },
}

#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Whether stdout was read to its end (a process left holding it may keep it open).
    pub stdout_complete: bool,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// `exit status N` or `killed by signal N`.
    pub fn describe_status(&self) -> String {
        match (self.status.code(), self.status.signal()) {
            (Some(c), _) => format!("exit status {c}"),
            (None, Some(s)) => format!("killed by signal {s}"),
            _ => "unknown status".into(),
        }
    }

    /// `: <last non-empty output line>` for error messages (stderr says why; stdout only when
    /// stderr is silent), or nothing.
    pub fn last_line_suffix(&self) -> String {
        let last_of = |text: String| {
            text.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim().to_string())
        };
        let last = last_of(self.stderr_text()).or_else(|| last_of(self.stdout_text()));
        last.map(|l| format!(": {l}")).unwrap_or_default()
    }
}

/// The pipe's bytes (at most `keep`) and whether it reached its end.
fn read_on_the_side(
    mut pipe: impl Read + Send + 'static,
    keep: usize,
) -> Receiver<(Vec<u8>, bool)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 4096];
        let complete = loop {
            match pipe.read(&mut buf) {
                Ok(0) => break true,
                Ok(n) => {
                    let room = keep.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
                Err(_) => break false,
            }
        };
        let _ = tx.send((kept, complete));
    });
    rx
}

/// Runs `command` bounded by `deadline` with the default limits: its stdout when it succeeds,
/// else one line saying which command and why (`crm_resource --fail ...: exit status 6: ...`).
pub fn run_checked(command: &mut Command, deadline: Deadline) -> Result<String, String> {
    let shown = format!(
        "{} {}",
        command.get_program().to_string_lossy(),
        command
            .get_args()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out =
        run_bounded(command, deadline, Limits::default()).map_err(|e| format!("{shown}: {e}"))?;
    if out.success() {
        Ok(out.stdout_text())
    } else {
        Err(format!(
            "{shown}: {}{}",
            out.describe_status(),
            out.last_line_suffix()
        ))
    }
}

/// Runs `command` (stdin from /dev/null, stdout and stderr captured) until it exits or the
/// deadline passes; then its process group is killed.
pub fn run_bounded(
    command: &mut Command,
    deadline: Deadline,
    limits: Limits,
) -> Result<Output, RunError> {
    let program = command.get_program().to_string_lossy().into_owned();
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|source| RunError::Spawn {
            program: program.clone(),
            source,
        })?;
    let group = Pid::from_raw(child.id() as i32);
    let kill_group = || {
        let _ = killpg(group, Signal::SIGKILL);
    };
    let stdout = child
        .stdout
        .take()
        .map(|o| read_on_the_side(o, limits.keep_bytes));
    let stderr = child
        .stderr
        .take()
        .map(|e| read_on_the_side(e, limits.keep_bytes));
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if deadline.expired() => {
                kill_group();
                let _ = child.wait();
                return Err(RunError::TimedOut {
                    program,
                    elapsed: started.elapsed(),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5).min(deadline.remaining())),
            Err(source) => {
                kill_group();
                let _ = child.wait();
                return Err(RunError::Wait { program, source });
            }
        }
    };
    if limits.kill_leftovers {
        kill_group();
    }
    // A daemon that kept our pipes open must not hold us: wait for the output only briefly.
    let grace = deadline
        .remaining()
        .clamp(Duration::from_millis(50), Duration::from_millis(500));
    let collect = |rx: Option<Receiver<(Vec<u8>, bool)>>| {
        rx.and_then(|rx| rx.recv_timeout(grace).ok())
            .unwrap_or_default()
    };
    let (stdout, stdout_complete) = collect(stdout);
    let (stderr, _) = collect(stderr);
    Ok(Output {
        status,
        stdout,
        stderr,
        stdout_complete,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.arg("-c").arg(script);
        command
    }

    #[test]
    fn captures_status_and_output() {
        let out = run_bounded(
            &mut sh("echo out; echo err >&2; exit 3"),
            Deadline::after(Duration::from_secs(5)),
            Limits::default(),
        )
        .unwrap();
        assert_eq!(out.describe_status(), "exit status 3");
        assert_eq!(
            (out.stdout_text().as_str(), out.stdout_complete),
            ("out\n", true)
        );
        assert_eq!(out.last_line_suffix(), ": err");
    }

    #[test]
    fn overrun_kills_the_whole_group() {
        let dir = std::env::temp_dir().join(format!("paddock-base-run-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let marker = dir.join("grandchild");
        // A grandchild that would write the marker after the deadline, if it survived.
        let script = format!("(sleep 1; touch {}) & sleep 30", marker.display());
        let started = Instant::now();
        let err = run_bounded(
            &mut sh(&script),
            Deadline::after(Duration::from_millis(200)),
            Limits::default(),
        )
        .unwrap_err();
        assert!(matches!(err, RunError::TimedOut { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2));
        std::thread::sleep(Duration::from_millis(1300));
        assert!(!marker.exists(), "the grandchild outlived the deadline");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_background_process_holding_the_pipes_does_not_hold_the_caller() {
        let started = Instant::now();
        let out = run_bounded(
            &mut sh("echo pw; sleep 30 &"),
            Deadline::after(Duration::from_secs(10)),
            Limits {
                kill_leftovers: false,
                ..Limits::default()
            },
        )
        .unwrap();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(out.success());
        assert!(!out.stdout_complete, "the pipe is still held open");
        // Leftovers are killed by default, which closes the pipe at once.
        let out = run_bounded(
            &mut sh("echo pw; sleep 30 &"),
            Deadline::after(Duration::from_secs(10)),
            Limits::default(),
        )
        .unwrap();
        assert_eq!(
            (out.stdout_text().as_str(), out.stdout_complete),
            ("pw\n", true)
        );
    }

    #[test]
    fn output_beyond_the_limit_is_dropped_without_stalling() {
        let out = run_bounded(
            &mut sh("head -c 1000000 /dev/zero"),
            Deadline::after(Duration::from_secs(5)),
            Limits {
                keep_bytes: 10,
                ..Limits::default()
            },
        )
        .unwrap();
        assert_eq!((out.stdout.len(), out.stdout_complete), (10, true));
    }

    #[test]
    fn a_missing_program_is_a_spawn_error() {
        let err = run_bounded(
            &mut Command::new("/nonexistent/program"),
            Deadline::after(Duration::from_secs(1)),
            Limits::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot run /nonexistent/program:"),
            "{err}"
        );
    }
}
