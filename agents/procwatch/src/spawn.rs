//! Starting the service as a proper daemon without `unsafe`: procwatch re-executes itself as a
//! short-lived helper (`procwatch __procwatch_spawn`) that starts a new session (setsid), closes
//! inherited descriptors, drops to the service's user and group, spawns the service with stdin
//! from /dev/null and stdout+stderr appended to the log file, prints its pid and exits. The
//! service, a child of a session leader that is gone, is re-parented to init and can never
//! regain a controlling terminal: the double fork, done with two exec'd processes.

use ocf::Deadline;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

pub const HELPER_ARG: &str = "__procwatch_spawn";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpawnRequest {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub workdir: Option<PathBuf>,
    pub logfile: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpawnError {
    NotInstalled(String),
    Permission(String),
    Other(String),
}

impl SpawnRequest {
    /// NUL-separated `key=value` records (arguments may contain anything but NUL).
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rec = |k: &str, v: &str| {
            out.extend_from_slice(k.as_bytes());
            out.push(b'=');
            out.extend_from_slice(v.as_bytes());
            out.push(0);
        };
        for a in &self.argv {
            rec("arg", a);
        }
        for (k, v) in &self.env {
            rec("env", &format!("{k}={v}"));
        }
        if let Some(u) = &self.user {
            rec("user", u);
        }
        if let Some(g) = &self.group {
            rec("group", g);
        }
        if let Some(w) = &self.workdir {
            rec("workdir", &w.to_string_lossy());
        }
        rec("logfile", &self.logfile.to_string_lossy());
        out
    }

    fn decode(bytes: &[u8]) -> Result<SpawnRequest, String> {
        let mut req = SpawnRequest::default();
        for rec in bytes.split(|b| *b == 0).filter(|r| !r.is_empty()) {
            let rec = String::from_utf8_lossy(rec);
            let (k, v) = rec.split_once('=').ok_or("malformed spawn request")?;
            match k {
                "arg" => req.argv.push(v.to_string()),
                "env" => {
                    let (ek, ev) = v.split_once('=').ok_or("malformed env record")?;
                    req.env.push((ek.to_string(), ev.to_string()));
                }
                "user" => req.user = Some(v.to_string()),
                "group" => req.group = Some(v.to_string()),
                "workdir" => req.workdir = Some(v.into()),
                "logfile" => req.logfile = v.into(),
                _ => return Err(format!("unknown spawn record '{k}'")),
            }
        }
        if req.argv.is_empty() {
            return Err("spawn request without a command".into());
        }
        Ok(req)
    }
}

/// Start the service daemonized; returns its pid.
pub fn spawn_daemon(req: &SpawnRequest, deadline: Deadline) -> Result<i32, SpawnError> {
    let me = std::env::current_exe()
        .map_err(|e| SpawnError::Other(format!("cannot find own executable: {e}")))?;
    let mut helper = Command::new(me)
        .arg(HELPER_ARG)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| SpawnError::Other(format!("cannot start spawn helper: {e}")))?;
    if let Some(mut stdin) = helper.stdin.take() {
        stdin
            .write_all(&req.encode())
            .map_err(|e| SpawnError::Other(format!("spawn helper: {e}")))?;
    }
    loop {
        match helper.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if deadline.expired() => {
                let _ = helper.kill();
                let _ = helper.wait();
                return Err(SpawnError::Other("spawn helper timed out".into()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(SpawnError::Other(format!("spawn helper: {e}"))),
        }
    }
    let mut reply = String::new();
    if let Some(mut out) = helper.stdout.take() {
        let _ = out.read_to_string(&mut reply);
    }
    parse_reply(reply.trim())
}

fn parse_reply(reply: &str) -> Result<i32, SpawnError> {
    let mut parts = reply.splitn(3, ' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("ok"), Some(pid), None) => pid
            .parse()
            .map_err(|_| SpawnError::Other(format!("spawn helper said '{reply}'"))),
        (Some("err"), Some("installed"), Some(msg)) => Err(SpawnError::NotInstalled(msg.into())),
        (Some("err"), Some("perm"), Some(msg)) => Err(SpawnError::Permission(msg.into())),
        (Some("err"), Some(_), Some(msg)) => Err(SpawnError::Other(msg.into())),
        _ => Err(SpawnError::Other(format!(
            "spawn helper failed ('{reply}')"
        ))),
    }
}

/// Entry point of the helper process.
pub fn helper_main() -> ExitCode {
    let mut input = Vec::new();
    let reply = match std::io::stdin().read_to_end(&mut input) {
        Err(e) => format!("err generic reading request: {e}"),
        Ok(_) => match SpawnRequest::decode(&input).and_then(|req| daemonize_and_spawn(&req)) {
            Ok(pid) => format!("ok {pid}"),
            // Errors carry their kind as first word when it is not "generic".
            Err(e) if e.starts_with("installed ") || e.starts_with("perm ") => format!("err {e}"),
            Err(e) => format!("err generic {e}"),
        },
    };
    println!("{reply}");
    if reply.starts_with("ok ") {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn daemonize_and_spawn(req: &SpawnRequest) -> Result<u32, String> {
    nix::unistd::setsid().map_err(|e| format!("setsid: {e}"))?;
    close_inherited_fds();
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .open(&req.logfile)
        .map_err(|e| format!("cannot open log file {}: {e}", req.logfile.display()))?;
    drop_privileges(req)?;
    let log_err = log.try_clone().map_err(|e| format!("log file: {e}"))?;
    let (program, args) = req.argv.split_first().ok_or("no command")?;
    let child = Command::new(program)
        .args(args)
        .env_clear()
        .envs(req.env.iter().map(|(k, v)| (k, v)))
        .current_dir(req.workdir.clone().unwrap_or_else(|| "/".into()))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("installed cannot run {program}: {e}"),
            std::io::ErrorKind::PermissionDenied => format!("perm cannot run {program}: {e}"),
            _ => format!("cannot run {program}: {e}"),
        })?;
    Ok(child.id())
}

/// Descriptors inherited from whoever ran the agent must not leak into the service.
fn close_inherited_fds() {
    let fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    for fd in fds.into_iter().filter(|fd| *fd > 2) {
        let _ = nix::unistd::close(fd);
    }
}

fn drop_privileges(req: &SpawnRequest) -> Result<(), String> {
    use nix::unistd::{initgroups, setgid, setgroups, setuid};
    let user = req.user.as_deref().map(crate::identity::user).transpose()?;
    let group = req
        .group
        .as_deref()
        .map(crate::identity::group)
        .transpose()?;
    let gid = group
        .as_ref()
        .map(|g| g.gid)
        .or(user.as_ref().map(|u| u.gid));
    if let Some(u) = &user {
        let name = std::ffi::CString::new(u.name.clone()).map_err(|_| "bad user name")?;
        initgroups(&name, gid.unwrap_or(u.gid))
            .map_err(|e| format!("perm initgroups({}): {e}", u.name))?;
    } else if let Some(g) = gid {
        setgroups(&[g]).map_err(|e| format!("perm setgroups: {e}"))?;
    }
    if let Some(g) = gid {
        setgid(g).map_err(|e| format!("perm setgid({g}): {e}"))?;
    }
    if let Some(u) = &user {
        setuid(u.uid).map_err(|e| format!("perm setuid({}): {e}", u.uid))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trips() {
        let req = SpawnRequest {
            argv: vec!["/bin/x".into(), "a b=c".into(), "".into()],
            env: vec![("K".into(), "v=w".into())],
            user: Some("nobody".into()),
            group: None,
            workdir: Some("/tmp".into()),
            logfile: "/tmp/log".into(),
        };
        assert_eq!(SpawnRequest::decode(&req.encode()).unwrap(), req);
    }

    #[test]
    fn replies_map_to_errors() {
        assert_eq!(parse_reply("ok 42"), Ok(42));
        assert_eq!(
            parse_reply("err installed cannot run x"),
            Err(SpawnError::NotInstalled("cannot run x".into()))
        );
        assert!(matches!(parse_reply(""), Err(SpawnError::Other(_))));
    }
}
