//! Running a helper command (hook, exec probe, init script) bounded by a deadline: it runs in its
//! own process group, which is killed when time is up, so nothing it started outlives the limit.

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use ocf::Deadline;
use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes of stdout/stderr kept (the rest is read and dropped).
    pub keep_bytes: usize,
    /// Kill what the command left in its process group once it exits (not for init scripts,
    /// whose daemon may stay in the group).
    pub kill_leftovers: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            keep_bytes: 16 * 1024,
            kill_leftovers: true,
        }
    }
}

#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status.success()
    }
    pub fn describe_status(&self) -> String {
        use std::os::unix::process::ExitStatusExt;
        match (self.status.code(), self.status.signal()) {
            (Some(c), _) => format!("exit status {c}"),
            (None, Some(s)) => format!("killed by signal {s}"),
            _ => "unknown status".into(),
        }
    }
    /// `: <last non-empty output line>` for error messages, or nothing.
    pub fn last_line_suffix(&self) -> String {
        let last_of = |text: &str| {
            text.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(str::to_string)
        };
        // stderr says why; stdout only if stderr is silent.
        let last = last_of(&self.stderr).or_else(|| last_of(&self.stdout));
        last.map(|l| format!(": {}", l.trim())).unwrap_or_default()
    }
}

fn reader(mut r: impl Read + Send + 'static, keep: usize) -> std::sync::mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            let room = keep.saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
        }
        let _ = tx.send(kept);
    });
    rx
}

/// Run `argv` with extra `env`, stdin from /dev/null, until it exits or the deadline passes.
pub fn run_bounded(
    argv: &[&str],
    env: &[(String, String)],
    deadline: Deadline,
    limits: Limits,
) -> Result<Output, String> {
    let (program, args) = argv.split_first().ok_or("empty command")?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let pgid = Pid::from_raw(child.id() as i32);
    let out = child.stdout.take().map(|o| reader(o, limits.keep_bytes));
    let err = child.stderr.take().map(|e| reader(e, limits.keep_bytes));
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if deadline.expired() => {
                let _ = killpg(pgid, Signal::SIGKILL);
                let _ = child.wait();
                return Err(format!("{program} timed out"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10).min(deadline.remaining())),
            Err(e) => return Err(format!("waiting for {program}: {e}")),
        }
    };
    if limits.kill_leftovers {
        let _ = killpg(pgid, Signal::SIGKILL);
    }
    // A daemon that kept our pipes open must not hold us: wait for the output only briefly.
    let text = |rx: Option<std::sync::mpsc::Receiver<Vec<u8>>>| {
        rx.and_then(|rx| {
            rx.recv_timeout(
                deadline
                    .remaining()
                    .clamp(Duration::from_millis(50), Duration::from_millis(500)),
            )
            .ok()
        })
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
    };
    Ok(Output {
        status,
        stdout: text(out),
        stderr: text(err),
    })
}
