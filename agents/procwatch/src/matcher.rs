//! The `match` parameter: which running processes are the service.
//!
//! Syntax: one or more `KEY=VALUE` terms separated by blanks (quote a value with blanks);
//! a process matches when every term holds:
//! - `exe=/usr/sbin/libvirtd` — the executable (/proc/PID/exe), exactly
//! - `cmdline=REGEX` — a regular expression searched in the command line (arguments joined by spaces)
//! - `comm=NAME` — the kernel's 15-character process name
//! - `user=NAME|UID` — the owner (real uid)

use crate::procinfo::ProcInfo;
use regex_lite::Regex;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub enum Term {
    Exe(PathBuf),
    Cmdline(Regex),
    Comm(String),
    Uid(u32),
}

#[derive(Debug, Clone)]
pub struct ProcessMatch {
    pub terms: Vec<Term>,
}

impl ProcessMatch {
    pub fn parse(text: &str) -> Result<ProcessMatch, String> {
        let words = crate::command::split(text)
            .map_err(|_| format!("match '{text}': empty or unclosed quote"))?;
        let mut terms = Vec::new();
        for word in words {
            let Some((key, value)) = word.split_once('=') else {
                return Err(format!(
                    "match term '{word}' is not KEY=VALUE (keys: exe, cmdline, comm, user)"
                ));
            };
            if value.is_empty() {
                return Err(format!("match term '{word}' has an empty value"));
            }
            terms.push(match key {
                "exe" => Term::Exe(PathBuf::from(value)),
                "cmdline" => Term::Cmdline(Regex::new(value).map_err(|e| {
                    format!(
                        "match cmdline regex '{value}': {}",
                        first_line(&e.to_string())
                    )
                })?),
                "comm" => Term::Comm(value.to_string()),
                "user" => Term::Uid(crate::identity::uid_of(value)?),
                other => {
                    return Err(format!(
                        "match key '{other}' is unknown (keys: exe, cmdline, comm, user)"
                    ))
                }
            });
        }
        Ok(ProcessMatch { terms })
    }

    pub fn matches(&self, p: &ProcInfo) -> bool {
        if p.is_zombie() && self.terms.iter().any(|t| matches!(t, Term::Exe(_))) {
            return false; // a zombie has no exe to compare
        }
        self.terms.iter().all(|t| match t {
            Term::Exe(want) => p.exe.as_ref().map(|e| exe_equals(e, want)).unwrap_or(false),
            Term::Cmdline(re) => !p.cmdline.is_empty() && re.is_match(&p.cmdline.join(" ")),
            Term::Comm(c) => &p.comm == c,
            Term::Uid(u) => p.uid == Some(*u),
        })
    }

    /// All matching processes, oldest first (the oldest is the service's main process).
    pub fn find(&self, processes: &[ProcInfo]) -> Vec<ProcInfo> {
        let mut found: Vec<ProcInfo> = processes
            .iter()
            .filter(|p| self.matches(p))
            .cloned()
            .collect();
        found.sort_by_key(|p| (p.starttime, p.pid));
        found
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// An upgraded binary shows as "/usr/sbin/x (deleted)": still the same service.
fn exe_equals(actual: &std::path::Path, want: &std::path::Path) -> bool {
    if actual == want {
        return true;
    }
    let a = actual.to_string_lossy();
    a.strip_suffix(" (deleted)")
        .map(|s| std::path::Path::new(s) == want)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(exe: &str, cmdline: &[&str], uid: u32) -> ProcInfo {
        ProcInfo {
            pid: 10,
            ppid: 1,
            session: 10,
            state: 'S',
            starttime: 5,
            uid: Some(uid),
            exe: Some(exe.into()),
            cmdline: cmdline.iter().map(|s| s.to_string()).collect(),
            comm: "nova-compute".into(),
        }
    }

    #[test]
    fn all_terms_must_hold() {
        let m =
            ProcessMatch::parse("exe=/usr/bin/python3 'cmdline=nova-compute\\s+--config' user=0")
                .unwrap();
        assert!(m.matches(&proc(
            "/usr/bin/python3",
            &["/usr/bin/python3", "/usr/bin/nova-compute", "--config", "x"],
            0
        )));
        assert!(!m.matches(&proc(
            "/usr/bin/python3",
            &["/usr/bin/python3", "/usr/bin/nova-api"],
            0
        )));
        assert!(!m.matches(&proc(
            "/usr/bin/python3",
            &["/usr/bin/nova-compute", "--config"],
            1
        )));
        assert!(ProcessMatch::parse("comm=nova-compute")
            .unwrap()
            .matches(&proc("/x", &["x"], 0)));
    }

    #[test]
    fn deleted_executable_still_matches() {
        let m = ProcessMatch::parse("exe=/usr/sbin/libvirtd").unwrap();
        assert!(m.matches(&proc("/usr/sbin/libvirtd (deleted)", &["libvirtd"], 0)));
    }

    #[test]
    fn bad_syntax_is_explained() {
        assert!(ProcessMatch::parse("libvirtd")
            .unwrap_err()
            .contains("not KEY=VALUE"));
        assert!(ProcessMatch::parse("color=blue")
            .unwrap_err()
            .contains("unknown"));
        assert!(ProcessMatch::parse("cmdline=(")
            .unwrap_err()
            .contains("regex"));
        assert!(ProcessMatch::parse("user=no-such-user-xyz")
            .unwrap_err()
            .contains("does not exist"));
    }
}
