//! Live migration: target URIs as VirtualDomain computes them, migrate_options in virsh
//! spelling, and the bounded peer-to-peer migration with progress logging.

use std::time::{Duration, Instant};

use ocf::{Deadline, OcfError};

use crate::libvirt::{migrate_flags, Hypervisor, LibvirtError};
use crate::params::Settings;

/// Migration flags and URI from `migrate_options` (virsh spelling).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MigrateOptions {
    pub flags: u32,
    pub migrateuri: Option<String>,
}

pub fn parse_migrate_options(options: Option<&str>) -> Result<MigrateOptions, OcfError> {
    let mut out = MigrateOptions::default();
    let mut words = options.unwrap_or("").split_whitespace();
    while let Some(w) = words.next() {
        match w {
            // always on: live, peer-to-peer
            "--live" | "--p2p" | "--peer2peer" => {}
            "--unsafe" => out.flags |= migrate_flags::UNSAFE,
            "--compressed" => out.flags |= migrate_flags::COMPRESSED,
            "--auto-converge" => out.flags |= migrate_flags::AUTO_CONVERGE,
            "--abort-on-error" => out.flags |= migrate_flags::ABORT_ON_ERROR,
            "--tls" => out.flags |= migrate_flags::TLS,
            "--migrateuri" => {
                out.migrateuri = Some(words.next().ok_or_else(|| OcfError::configured("migrate_options: --migrateuri needs a value"))?.to_string())
            }
            _ if w.starts_with("--migrateuri=") => out.migrateuri = Some(w["--migrateuri=".len()..].to_string()),
            other => {
                return Err(OcfError::configured(format!(
                    "migrate_options: '{other}' is not supported (supported: --unsafe --compressed --auto-converge --abort-on-error --tls --migrateuri=URI)"
                )))
            }
        }
    }
    Ok(out)
}

/// `node` with the migration network suffix inserted before its first dot.
fn with_suffix(node: &str, suffix: Option<&str>) -> String {
    match suffix {
        None => node.to_string(),
        Some(s) => match node.split_once('.') {
            Some((host, domain)) => format!("{host}{s}.{domain}"),
            None => format!("{node}{s}"),
        },
    }
}

fn valid_user(user: &str) -> bool {
    let mut chars = user.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The libvirt URI of the target hypervisor. `local_uri` is the hypervisor URI in use here.
pub fn remote_uri(s: &Settings, target: &str, local_uri: &str) -> Result<String, OcfError> {
    if let Some(template) = &s.remoteuri {
        return Ok(template.replace("%n", target));
    }
    let (scheme, rest) = local_uri.split_once("://").ok_or_else(|| {
        OcfError::configured(format!(
            "cannot derive the target URI from '{local_uri}'; set remoteuri"
        ))
    })?;
    let scheme = match &s.migration_transport {
        Some(t) => format!("{}+{t}", scheme.split('+').next().unwrap_or(scheme)),
        None => scheme.to_string(),
    };
    // rest = "[user@]host[:port]/path[?query]"
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let port = authority
        .rsplit_once(':')
        .map(|(_, p)| p)
        .filter(|p| p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty());
    let mut host = with_suffix(target, s.migration_network_suffix.as_deref());
    if let Some(user) = s.migration_user.as_deref().filter(|u| valid_user(u)) {
        host = format!("{user}@{host}");
    }
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    Ok(format!("{scheme}://{host}{port}{path}"))
}

/// The URI of the migration data stream, None to let libvirt choose.
pub fn migrate_uri(
    s: &Settings,
    options: &MigrateOptions,
    target: &str,
    local_uri: &str,
) -> Option<String> {
    if let Some(t) = &s.migrateuri {
        return Some(t.replace("%n", target));
    }
    if let Some(t) = &options.migrateuri {
        return Some(t.replace("%n", target));
    }
    let suffix = s.migration_network_suffix.as_deref()?;
    let driver = local_uri.split(['+', ':']).next().unwrap_or("");
    let host = with_suffix(target, Some(suffix));
    match (driver, s.migrateport) {
        ("qemu", Some(port)) => Some(format!("tcp:{host}:{port}")),
        ("qemu", None) => Some(format!("tcp://{host}")),
        ("xen", _) => Some(host),
        _ => None,
    }
}

/// What a live migration needs: the domain, where it goes, and libvirt's flags and limits.
pub struct MigrationPlan {
    pub name: String,
    pub dest_uri: String,
    pub migrate_uri: Option<String>,
    pub flags: u32,
    pub bandwidth_mib_s: u64,
    pub downtime_ms: u64,
}

/// Runs a live peer-to-peer migration of `plan.name` and waits for it, logging progress.
/// At `deadline` the migration is abandoned: the incoming domain at the target is destroyed
/// (the safe libvirt API has no virDomainAbortJob), which fails the migration and leaves the
/// domain running at the source.
pub fn migrate(
    hv: &Hypervisor,
    local_uri: Option<&str>,
    plan: &MigrationPlan,
    deadline: Deadline,
) -> Result<(), OcfError> {
    let started = Instant::now();
    // A second connection for progress, so polling does not queue behind the migration call.
    let poll_hv = Hypervisor::connect(local_uri, deadline.capped(Duration::from_secs(5))).ok();
    if plan.downtime_ms > 0 {
        // Before the job starts qemu takes it as a migration parameter; retried during the job.
        if let Err(e) = hv.set_migration_downtime(
            &plan.name,
            plan.downtime_ms,
            deadline.capped(Duration::from_secs(5)),
        ) {
            tracing::debug!("setting migration downtime before the job: {e}");
        }
    }
    // Leave a share of the time to abandon the job and see the domain back at the source.
    let total = deadline.remaining();
    let reserve = (total / 5).max(Duration::from_secs(5)).min(total / 2);
    let job_deadline = Deadline::at(deadline.instant() - reserve);
    tracing::info!(
        "{}: live migration to {} (data uri {}), bounded to {:.0} s",
        plan.name,
        plan.dest_uri,
        plan.migrate_uri.as_deref().unwrap_or("chosen by libvirt"),
        job_deadline.remaining().as_secs_f64()
    );
    match run_job(hv, poll_hv.as_ref(), plan, job_deadline) {
        Ok(()) => {
            tracing::info!(
                "{}: live migration to {} done in {} ms",
                plan.name,
                plan.dest_uri,
                started.elapsed().as_millis()
            );
            Ok(())
        }
        Err(e) => {
            if matches!(e, LibvirtError::Timeout { .. }) {
                abandon(plan, deadline);
            }
            Err(OcfError::generic(format!(
                "{}: live migration to {} failed: {e}",
                plan.name, plan.dest_uri
            )))
        }
    }
}

/// The migration call on its own thread, watched from a second connection (`poll_hv`): it
/// sets the downtime once the job runs and logs progress every second.
fn run_job(
    hv: &Hypervisor,
    poll_hv: Option<&Hypervisor>,
    plan: &MigrationPlan,
    job_deadline: Deadline,
) -> Result<(), LibvirtError> {
    let flags = migrate_flags::LIVE | migrate_flags::PEER2PEER | plan.flags;
    std::thread::scope(|scope| {
        let job = scope.spawn(|| {
            hv.migrate_p2p(
                &plan.name,
                &plan.dest_uri,
                plan.migrate_uri.as_deref(),
                plan.bandwidth_mib_s,
                flags,
                job_deadline,
            )
        });
        let mut downtime_set = plan.downtime_ms == 0;
        let mut last_log = Instant::now();
        while !job.is_finished() {
            std::thread::sleep(Duration::from_millis(100));
            let Some(p) = poll_hv else { continue };
            if !downtime_set {
                downtime_set = p
                    .set_migration_downtime(
                        &plan.name,
                        plan.downtime_ms,
                        job_deadline.capped(Duration::from_secs(2)),
                    )
                    .is_ok();
            }
            if last_log.elapsed() >= Duration::from_secs(1) {
                last_log = Instant::now();
                log_progress(p, plan, job_deadline);
            }
        }
        job.join().unwrap_or_else(|_| {
            Err(LibvirtError::Timeout {
                what: "migrate domain".into(),
                uri: plan.dest_uri.clone(),
            })
        })
    })
}

fn log_progress(poll_hv: &Hypervisor, plan: &MigrationPlan, job_deadline: Deadline) {
    let Ok(j) = poll_hv.job_progress(&plan.name, job_deadline.capped(Duration::from_secs(1)))
    else {
        return;
    };
    if j.active && j.data_total > 0 {
        tracing::info!(
            "{}: migration {}% ({} of {} MiB, {} MiB remaining, {} ms)",
            plan.name,
            j.data_processed * 100 / j.data_total,
            j.data_processed >> 20,
            j.data_total >> 20,
            j.data_remaining >> 20,
            j.elapsed_ms
        );
    }
}

/// Destroys the half-migrated incoming domain at the target, so the source keeps the guest.
fn abandon(plan: &MigrationPlan, deadline: Deadline) {
    let step = deadline.capped(Duration::from_secs(10));
    match Hypervisor::connect(Some(&plan.dest_uri), step) {
        Ok(dest) => match dest.find(&plan.name, None, step) {
            Ok(Some(d)) if d.status.is_active() => match dest.destroy(&plan.name, step) {
                Ok(()) => tracing::warn!(
                    "{}: migration timed out; destroyed the incoming domain at {}",
                    plan.name,
                    plan.dest_uri
                ),
                Err(e) => tracing::warn!(
                    "{}: migration timed out; cannot destroy the incoming domain: {e}",
                    plan.name
                ),
            },
            Ok(_) => tracing::warn!(
                "{}: migration timed out; no incoming domain at {}",
                plan.name,
                plan.dest_uri
            ),
            Err(e) => tracing::warn!(
                "{}: migration timed out; target unreachable: {e}",
                plan.name
            ),
        },
        Err(e) => tracing::warn!(
            "{}: migration timed out; target unreachable: {e}",
            plan.name
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocf::Context;

    fn settings(extra: &[(&str, &str)]) -> Settings {
        let mut p = vec![("config", "/c.xml")];
        p.extend_from_slice(extra);
        Settings::from_context(&Context::for_test("migrate_to", &p)).expect("valid")
    }

    #[test]
    fn remote_uri_like_virtualdomain() {
        assert_eq!(
            remote_uri(&settings(&[]), "node2", "qemu:///system")
                .ok()
                .as_deref(),
            Some("qemu://node2/system")
        );
        assert_eq!(
            remote_uri(
                &settings(&[("migration_transport", "ssh")]),
                "node2",
                "qemu:///system"
            )
            .ok()
            .as_deref(),
            Some("qemu+ssh://node2/system")
        );
        assert_eq!(
            remote_uri(
                &settings(&[
                    ("migration_transport", "tcp"),
                    ("migration_network_suffix", "-mig"),
                    ("migration_user", "ha")
                ]),
                "node2.example.com",
                "qemu+ssh://node1.example.com:2222/system"
            )
            .ok()
            .as_deref(),
            Some("qemu+tcp://ha@node2-mig.example.com:2222/system")
        );
        assert_eq!(
            remote_uri(
                &settings(&[("remoteuri", "qemu+tcp://%n:16509/system")]),
                "node2",
                "qemu:///system"
            )
            .ok()
            .as_deref(),
            Some("qemu+tcp://node2:16509/system")
        );
        assert!(remote_uri(&settings(&[]), "node2", "bogus").is_err());
    }

    #[test]
    fn migrate_uri_from_parameter_options_or_suffix() {
        let none = MigrateOptions::default();
        assert_eq!(
            migrate_uri(&settings(&[]), &none, "n2", "qemu:///system"),
            None
        );
        assert_eq!(
            migrate_uri(
                &settings(&[("migrateuri", "tcp://%n-mig:49152")]),
                &none,
                "n2",
                "qemu:///system"
            )
            .as_deref(),
            Some("tcp://n2-mig:49152")
        );
        let o = parse_migrate_options(Some("--unsafe --migrateuri=tcp://%n.mig")).expect("valid");
        assert_eq!(o.flags, migrate_flags::UNSAFE);
        assert_eq!(
            migrate_uri(&settings(&[]), &o, "n2", "qemu:///system").as_deref(),
            Some("tcp://n2.mig")
        );
        assert_eq!(
            migrate_uri(
                &settings(&[("migration_network_suffix", "-m"), ("migrateport", "49200")]),
                &none,
                "n2.lan",
                "qemu:///system"
            )
            .as_deref(),
            Some("tcp:n2-m.lan:49200")
        );
    }

    #[test]
    fn unknown_migrate_options_are_configuration_errors() {
        let e = parse_migrate_options(Some("--unsafe --copy-storage-all")).unwrap_err();
        assert_eq!(e.status, ocf::OcfStatus::ErrConfigured);
        assert!(e.reason.contains("--copy-storage-all"));
        assert_eq!(
            parse_migrate_options(Some("--live --p2p --compressed --auto-converge"))
                .map(|o| o.flags)
                .ok(),
            Some(migrate_flags::COMPRESSED | migrate_flags::AUTO_CONVERGE)
        );
    }
}
