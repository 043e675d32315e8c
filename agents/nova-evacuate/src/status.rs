//! The daemon's files in the agents' state directory: its pid, and the status it rewrites every
//! second (its age is the daemon's heartbeat) for monitor and start. One value per line.

use std::path::{Path, PathBuf};

pub fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("paddock-nova-evacuate")
}
pub fn pid_file(state_dir: &Path) -> PathBuf {
    dir(state_dir).join("pid")
}
pub fn status_file(state_dir: &Path) -> PathBuf {
    dir(state_dir).join("status")
}

/// How the daemon's link to the cloud stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Not one look at Nova finished yet.
    Starting,
    /// The last look at Nova succeeded.
    Ok,
    /// Keystone, Nova or Glance did not answer (or answered an error): tried again every interval.
    Unreachable,
    /// Keystone refused the credentials, or the catalog has no Nova: a configuration error.
    Refused,
}

impl Link {
    pub fn name(self) -> &'static str {
        match self {
            Link::Starting => "starting",
            Link::Ok => "ok",
            Link::Unreachable => "unreachable",
            Link::Refused => "refused",
        }
    }
    fn from_name(name: &str) -> Option<Link> {
        [Link::Starting, Link::Ok, Link::Unreachable, Link::Refused]
            .into_iter()
            .find(|l| l.name() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub link: Link,
    /// Unix seconds the link entered its state.
    pub since: u64,
    /// Why it is not ok (never a secret).
    pub why: String,
    /// Unix seconds of the last successful look at Nova (0: none yet).
    pub last_ok: u64,
    /// Hosts forced down, and where each stands: `compute1=evacuating`, `compute2=done`.
    pub hosts: String,
    /// The last thing done, in words.
    pub last: String,
}

impl Status {
    pub fn starting(now: u64) -> Status {
        Status {
            link: Link::Starting,
            since: now,
            why: String::new(),
            last_ok: 0,
            hosts: String::new(),
            last: String::new(),
        }
    }

    pub fn encode(&self) -> String {
        let line = |s: &str| s.replace(['\n', '\r'], " ");
        format!(
            "link={}\nsince={}\nwhy={}\nlast_ok={}\nhosts={}\nlast={}\n",
            self.link.name(),
            self.since,
            line(&self.why),
            self.last_ok,
            line(&self.hosts),
            line(&self.last)
        )
    }

    pub fn decode(text: &str) -> Option<Status> {
        let get = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(str::to_string)
        };
        Some(Status {
            link: Link::from_name(&get("link")?)?,
            since: get("since")?.parse().ok()?,
            why: get("why").unwrap_or_default(),
            last_ok: get("last_ok").and_then(|v| v.parse().ok()).unwrap_or(0),
            hosts: get("hosts").unwrap_or_default(),
            last: get("last").unwrap_or_default(),
        })
    }

    /// Written whole or not at all: monitor never reads half a file.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        ocf::daemon::write_atomically(path, &self.encode())
    }

    pub fn read(path: &Path) -> Option<Status> {
        Status::decode(&std::fs::read_to_string(path).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_round_trips_one_value_per_line() {
        let s = Status {
            link: Link::Unreachable,
            since: 1_700_000_000,
            why: "Nova: connection refused\nsecond line".into(),
            last_ok: 1_699_999_990,
            hosts: "compute1=done compute2=evacuating".into(),
            last: "compute1: 9 evacuated".into(),
        };
        let d = Status::decode(&s.encode()).unwrap();
        assert_eq!(d.why, "Nova: connection refused second line");
        assert_eq!(
            (d.link, d.last_ok, d.hosts.as_str()),
            (
                Link::Unreachable,
                1_699_999_990,
                "compute1=done compute2=evacuating"
            )
        );
        assert_eq!(Status::decode("link=odd\nsince=1\n"), None);
        assert_eq!(
            Status::decode(&Status::starting(5).encode()).unwrap().link,
            Link::Starting
        );
    }
}
