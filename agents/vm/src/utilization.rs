//! The resource's utilization attributes (cpu, host_memory, hv_memory), set with
//! `crm_resource --utilization` as VirtualDomain does, but only when a value changed:
//! the values last written are remembered in the state directory, so a steady monitor
//! spawns no process.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ocf::command::{self, Limits};
use ocf::Deadline;

use crate::libvirt::DomainSize;
use crate::params::Settings;

/// How long a failed update is not retried (no CIB, e.g. outside a cluster).
const RETRY_AFTER_FAILURE_SECS: u64 = 300;

/// What the attribute should become: Some(value) set, None removed.
pub type Wanted = Vec<(&'static str, Option<String>)>;

pub fn wanted(s: &Settings, size: DomainSize) -> Wanted {
    let mib = (size.max_memory_kib / 1024).to_string();
    let mut w: Wanted = Vec::new();
    for (attr, autoset, unset, value) in [
        ("cpu", s.autoset_cpu, s.unset_cpu, size.vcpus.to_string()),
        (
            "host_memory",
            s.autoset_host_memory,
            s.unset_host_memory,
            mib.clone(),
        ),
        ("hv_memory", s.autoset_hv_memory, s.unset_hv_memory, mib),
    ] {
        if autoset {
            w.push((attr, Some(value)));
        } else if unset {
            w.push((attr, None));
        }
    }
    w
}

pub fn cache_path(state_dir: &Path, instance: &str) -> PathBuf {
    state_dir.join(format!("paddock-vm-{instance}.utilization"))
}

/// Cache lines: `attr value` (written), `attr -` (removed), `attr !value epoch` (failed at epoch).
fn cached(path: &Path) -> Vec<(String, String, Option<u64>)> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut it = l.split(' ');
            let attr = it.next()?.to_string();
            let value = it.next()?;
            match value.strip_prefix('!') {
                Some(v) => Some((attr, v.to_string(), it.next().and_then(|t| t.parse().ok()))),
                None => Some((attr, value.to_string(), None)),
            }
        })
        .collect()
}

fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Brings the utilization attributes to `want`, calling crm_resource only for changes.
pub fn update(instance: &str, state_dir: &Path, want: &Wanted, deadline: Deadline) {
    let path = cache_path(state_dir, instance);
    let old = cached(&path);
    let mut new_lines = Vec::new();
    let mut changed = false;
    for (attr, value) in want {
        let shown = value.clone().unwrap_or_else(|| "-".into());
        let prev = old.iter().find(|(a, _, _)| a == attr);
        let up_to_date = match prev {
            Some((_, v, None)) => *v == shown,
            Some((_, v, Some(failed_at))) => {
                *v == shown && now_epoch().saturating_sub(*failed_at) < RETRY_AFTER_FAILURE_SECS
            }
            None => false,
        };
        if up_to_date {
            new_lines.push(match prev {
                Some((a, v, Some(t))) => format!("{a} !{v} {t}"),
                _ => format!("{attr} {shown}"),
            });
            continue;
        }
        changed = true;
        let mut args = vec![
            "--resource".to_string(),
            instance.to_string(),
            "--utilization".to_string(),
        ];
        match value {
            Some(v) => args.extend([
                "--set-parameter".into(),
                attr.to_string(),
                "--parameter-value".into(),
                v.clone(),
            ]),
            None => args.extend(["--delete-parameter".into(), attr.to_string()]),
        }
        match run_bounded(
            "crm_resource",
            &args,
            deadline.capped(Duration::from_secs(10)),
        ) {
            Ok(()) => {
                tracing::info!("utilization {attr} = {shown}");
                new_lines.push(format!("{attr} {shown}"));
            }
            Err(e) => {
                tracing::warn!("cannot set utilization attribute {attr}: {e}");
                new_lines.push(format!("{attr} !{shown} {}", now_epoch()));
            }
        }
    }
    if changed {
        let _ = fs::write(&path, new_lines.join("\n") + "\n");
    }
}

/// Runs a command, killing it (and anything it started) at the deadline.
pub fn run_bounded(program: &str, args: &[String], deadline: Deadline) -> Result<(), String> {
    let out = command::run_bounded(
        Command::new(program).args(args),
        deadline,
        Limits::default(),
    )
    .map_err(|e| e.to_string())?;
    if out.success() {
        Ok(())
    } else {
        let stderr = out.stderr_text();
        Err(format!(
            "{program} failed ({}): {}",
            out.describe_status(),
            stderr.lines().next().unwrap_or("").trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocf::Context;
    use std::time::Instant;

    #[test]
    fn wanted_follows_autoset_and_unset() {
        let mut p = vec![
            ("config", "/c.xml"),
            ("autoset_utilization_cpu", "true"),
            ("autoset_utilization_hv_memory", "true"),
            ("autoset_utilization_host_memory", "false"),
        ];
        p.push(("unset_utilization_host_memory", "true"));
        let s = Settings::from_context(&Context::for_test("monitor", &p)).expect("valid");
        let w = wanted(
            &s,
            DomainSize {
                vcpus: 2,
                max_memory_kib: 98304,
            },
        );
        assert_eq!(
            w,
            vec![
                ("cpu", Some("2".to_string())),
                ("host_memory", None),
                ("hv_memory", Some("96".to_string()))
            ]
        );
    }

    #[test]
    fn unchanged_values_spawn_nothing_and_failures_are_remembered() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = cache_path(dir.path(), "u1");
        fs::write(&path, "cpu 2\nhv_memory 96\n").expect("write");
        let want: Wanted = vec![("cpu", Some("2".into())), ("hv_memory", Some("96".into()))];
        update(
            "u1",
            dir.path(),
            &want,
            Deadline::after(Duration::from_secs(5)),
        );
        assert_eq!(
            fs::read_to_string(&path).expect("read"),
            "cpu 2\nhv_memory 96\n",
            "nothing rewritten"
        );
        // A change outside a cluster: crm_resource fails (or is missing); recorded as failed.
        let want: Wanted = vec![("cpu", Some("4".into()))];
        update(
            "paddock-vm-unit-no-such-rsc",
            dir.path(),
            &want,
            Deadline::after(Duration::from_secs(10)),
        );
        let path2 = cache_path(dir.path(), "paddock-vm-unit-no-such-rsc");
        let text = fs::read_to_string(&path2).expect("written");
        assert!(text.starts_with("cpu !4 "), "{text}");
    }

    #[test]
    fn run_bounded_kills_at_the_deadline() {
        let t = Instant::now();
        let e = run_bounded(
            "sleep",
            &["5".into()],
            Deadline::after(Duration::from_millis(200)),
        )
        .unwrap_err();
        assert!(e.contains("did not finish"), "{e}");
        assert!(t.elapsed() < Duration::from_secs(2));
        assert!(run_bounded("true", &[], Deadline::after(Duration::from_secs(5))).is_ok());
    }

    #[test]
    fn run_bounded_does_not_wait_for_a_leftover_holding_stderr() {
        let t = Instant::now();
        let e = run_bounded(
            "sh",
            &["-c".into(), "echo boom >&2; sleep 5 & exit 3".into()],
            Deadline::after(Duration::from_secs(1)),
        )
        .unwrap_err();
        assert!(e.contains("failed"), "{e}");
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    }

    #[test]
    fn run_bounded_reports_the_first_stderr_line() {
        let e = run_bounded(
            "sh",
            &["-c".into(), "echo boom >&2; exit 3".into()],
            Deadline::after(Duration::from_secs(5)),
        )
        .unwrap_err();
        assert!(e.contains("boom"), "{e}");
    }
}
