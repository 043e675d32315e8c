//! What /proc says about a process: identity (pid + start time, against PID reuse), state,
//! executable, command line, owner, session.

use std::path::PathBuf;

/// A process's identity: the pid alone is reused by the kernel, pid + start time is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub pid: i32,
    /// Start time in clock ticks since boot (/proc/PID/stat field 22).
    pub starttime: u64,
}

#[derive(Debug, Clone)]
pub struct ProcInfo {
    pub pid: i32,
    pub ppid: i32,
    pub session: i32,
    /// R, S, D, Z, T, t, X, I ...
    pub state: char,
    pub starttime: u64,
    pub uid: Option<u32>,
    pub exe: Option<PathBuf>,
    pub cmdline: Vec<String>,
    pub comm: String,
}

impl ProcInfo {
    pub fn identity(&self) -> Identity {
        Identity {
            pid: self.pid,
            starttime: self.starttime,
        }
    }
    pub fn is_zombie(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }
    /// Stopped by a signal (SIGSTOP/SIGTSTP) or a tracer.
    pub fn is_stopped(&self) -> bool {
        matches!(self.state, 'T' | 't')
    }
}

/// The process with this pid, read fully. None when it does not exist.
pub fn read(pid: i32) -> Option<ProcInfo> {
    let p = procfs::process::Process::new(pid).ok()?;
    let s = p.stat().ok()?;
    Some(ProcInfo {
        pid,
        ppid: s.ppid,
        session: s.session,
        state: s.state,
        starttime: s.starttime,
        uid: p.uid().ok(),
        exe: p.exe().ok(),
        cmdline: p.cmdline().unwrap_or_default(),
        comm: s.comm,
    })
}

/// Is the process with this identity still there (same pid, same start time)?
pub fn alive(id: Identity) -> Option<ProcInfo> {
    read(id.pid).filter(|p| p.starttime == id.starttime)
}

/// Every process on the host except ourselves and our ancestors (a hook's shell would match too).
pub fn all() -> Vec<ProcInfo> {
    let skip = self_and_ancestors();
    let Ok(iter) = procfs::process::all_processes() else {
        return Vec::new();
    };
    iter.filter_map(|p| p.ok())
        .filter(|p| !skip.contains(&p.pid))
        .filter_map(|p| read(p.pid))
        .collect()
}

fn self_and_ancestors() -> Vec<i32> {
    let mut chain = vec![std::process::id() as i32];
    while chain.len() < 64 {
        let Some(parent) = read(chain[chain.len() - 1]).map(|p| p.ppid) else {
            break;
        };
        if parent <= 1 {
            break;
        }
        chain.push(parent);
    }
    chain
}

/// Seconds since boot at which a process started, from its start time in ticks.
pub fn ticks_per_second() -> u64 {
    procfs::ticks_per_second()
}

/// Boot time as seconds since the epoch.
pub fn boot_time_secs() -> Option<u64> {
    procfs::boot_time_secs().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_itself_and_detects_identity_change() {
        let me = read(std::process::id() as i32).expect("self");
        assert!(matches!(me.state, 'R' | 'S'));
        assert!(alive(me.identity()).is_some());
        assert!(
            alive(Identity {
                pid: me.pid,
                starttime: me.starttime + 1
            })
            .is_none(),
            "same pid, other start time: not ours"
        );
        assert!(read(i32::MAX).is_none());
    }
}
