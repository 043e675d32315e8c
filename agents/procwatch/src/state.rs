//! What start recorded under HA_RSCTMP: the service's identity (pid + start time, the guard
//! against PID reuse), its session, whether procwatch wrote the pidfile, and the phase, which
//! tells `vmwatch` (it reports a running service's death at once) a death Pacemaker asked for
//! (stop) or one that is part of starting (a daemon forking away) from a failure.

use crate::procinfo::Identity;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub identity: Identity,
    /// The session procwatch created for it (0 when the service was adopted, not started by us).
    pub session: i32,
    pub wrote_pidfile: bool,
    pub phase: Phase,
    /// The resource (OCF_RESOURCE_INSTANCE), for `crm_resource --fail`.
    pub resource: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Starting,
    Running,
    Stopping,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Running => "running",
            Phase::Stopping => "stopping",
        }
    }
}

pub fn path(state_dir: &Path, instance: &str) -> PathBuf {
    let safe: String = instance
        .chars()
        .map(|c| if c == '/' || c.is_control() { '_' } else { c })
        .collect();
    state_dir.join(format!("procwatch-{safe}.state"))
}

pub fn load(path: &Path) -> Option<State> {
    let text = std::fs::read_to_string(path).ok()?;
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(str::trim)
    };
    Some(State {
        identity: Identity {
            pid: get("pid")?.parse().ok()?,
            starttime: get("starttime")?.parse().ok()?,
        },
        session: get("session").and_then(|s| s.parse().ok()).unwrap_or(0),
        wrote_pidfile: get("wrote_pidfile") == Some("1"),
        phase: match get("phase") {
            Some("starting") => Phase::Starting,
            Some("stopping") => Phase::Stopping,
            _ => Phase::Running,
        },
        resource: get("resource").unwrap_or_default().to_string(),
    })
}

/// Written to a temporary file and renamed, so a concurrent monitor never reads half a state.
pub fn save(path: &Path, state: &State) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(
        &tmp,
        format!(
            "pid={}\nstarttime={}\nsession={}\nwrote_pidfile={}\nphase={}\nresource={}\n",
            state.identity.pid,
            state.identity.starttime,
            state.session,
            u8::from(state.wrote_pidfile),
            state.phase.as_str(),
            state.resource
        ),
    )?;
    std::fs::rename(&tmp, path)
}

pub fn remove(path: &Path) {
    let _ = std::fs::remove_file(path);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(dir.path(), "pw:0/x");
        assert!(p
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("procwatch-pw:0_x"));
        let s = State {
            identity: Identity {
                pid: 42,
                starttime: 7,
            },
            session: 41,
            wrote_pidfile: true,
            phase: Phase::Stopping,
            resource: "pw:0".into(),
        };
        save(&p, &s).unwrap();
        assert_eq!(load(&p), Some(s));
        std::fs::write(&p, "pid=x\n").unwrap();
        assert_eq!(load(&p), None);
    }
}
