//! The daemon's files in the agents' state directory, one directory per network: its pid, and
//! the status it rewrites every round (its age is the daemon's heartbeat) for monitor and start.

use std::path::{Path, PathBuf};

use crate::verdict::NetState;

pub fn dir(state_dir: &Path, network: &str) -> PathBuf {
    state_dir.join(format!("paddock-netwatch-{network}"))
}
pub fn pid_file(state_dir: &Path, network: &str) -> PathBuf {
    dir(state_dir, network).join("pid")
}
pub fn status_file(state_dir: &Path, network: &str) -> PathBuf {
    dir(state_dir, network).join("status")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub state: NetState,
    /// Unix seconds the state began.
    pub since: u64,
    /// `Verdict::name()`.
    pub verdict: String,
    /// What failed in the last failed round.
    pub why: String,
    /// The verdict in words.
    pub decision: String,
}

impl Status {
    pub fn encode(&self) -> String {
        let line = |s: &str| s.replace(['\n', '\r'], " ");
        format!(
            "state={}\nsince={}\nverdict={}\nwhy={}\ndecision={}\n",
            self.state.name(),
            self.since,
            line(&self.verdict),
            line(&self.why),
            line(&self.decision)
        )
    }

    pub fn decode(text: &str) -> Option<Status> {
        let get = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(str::to_string)
        };
        Some(Status {
            state: NetState::from_name(&get("state")?)?,
            since: get("since")?.parse().ok()?,
            verdict: get("verdict")?,
            why: get("why").unwrap_or_default(),
            decision: get("decision").unwrap_or_default(),
        })
    }

    /// Written whole or not at all: monitor never reads half a file.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        ocf::daemon::write_atomically(path, &self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_round_trips_and_stays_one_value_per_line() {
        let s = Status {
            state: NetState::Lost,
            since: 1_700_000_000,
            verdict: "fence".into(),
            why: "10.0.0.1: no ICMP echo reply within 800 ms\nsecond line".into(),
            decision: "on_loss=fence".into(),
        };
        let decoded = Status::decode(&s.encode()).unwrap();
        assert_eq!(
            decoded.why,
            "10.0.0.1: no ICMP echo reply within 800 ms second line"
        );
        assert_eq!(decoded.state, NetState::Lost);
        assert_eq!(decoded.verdict, "fence");
        assert_eq!(Status::decode("state=odd\nsince=1\nverdict=x\n"), None);
    }
}
