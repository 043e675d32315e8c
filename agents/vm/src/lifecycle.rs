//! The actions: start, stop, monitor, migrate_to, migrate_from, validate-all.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ocf::{Context, Deadline, OcfError, OcfStatus};
use paddock_base::logging::UtcTime;

use crate::activity::{self, Phase, Record};
use crate::health::classify;
use crate::identity::{self, Identity};
use crate::libvirt::{
    DomainFacts, DomainSize, DomainStatus, Hypervisor, LibvirtError, PauseReason,
};
use crate::migration::{self, MigrationPlan};
use crate::params::Settings;
use crate::{process_check, shared_storage, utilization};

const POLL: Duration = Duration::from_millis(100);

fn generic(e: LibvirtError) -> OcfError {
    OcfError::generic(e.to_string())
}

fn connect(s: &Settings, deadline: Deadline) -> Result<Hypervisor, OcfError> {
    Hypervisor::connect(s.hypervisor.as_deref(), deadline).map_err(generic)
}

/// The domain this resource manages: from the config file, else as remembered.
fn identity_for_status(ctx: &Context, s: &Settings) -> Result<Identity, OcfError> {
    match identity::load_config(&s.config) {
        Ok(cfg) => {
            let id = Identity::of(&cfg.domain);
            identity::remember(&ctx.state_dir, &ctx.instance, &id);
            Ok(id)
        }
        Err(e) => match identity::remembered(&ctx.state_dir, &ctx.instance) {
            Some(id) => {
                tracing::warn!("{}; using the remembered domain {}", e.reason, id.name);
                Ok(id)
            }
            None => Err(e),
        },
    }
}

fn snapshot_image(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.state"))
}

// ---------------------------------------------------------------- monitor

/// What monitor asks libvirt: served by the libvirt library ([`Hypervisor`]) or, in the `vm`
/// front end that does not link it, by the remote-protocol client ([`crate::remote`]).
pub trait StatusSource {
    /// The domain named `name` (or, failing that, with `uuid`), None when libvirt does not know it.
    fn find(
        &mut self,
        name: &str,
        uuid: Option<&str>,
        deadline: Deadline,
    ) -> Result<Option<DomainFacts>, LibvirtError>;
    fn size(&mut self, name: &str, deadline: Deadline) -> Result<DomainSize, LibvirtError>;
}

impl StatusSource for Hypervisor {
    fn find(
        &mut self,
        name: &str,
        uuid: Option<&str>,
        deadline: Deadline,
    ) -> Result<Option<DomainFacts>, LibvirtError> {
        Hypervisor::find(self, name, uuid, deadline)
    }
    fn size(&mut self, name: &str, deadline: Deadline) -> Result<DomainSize, LibvirtError> {
        Hypervisor::size(self, name, deadline)
    }
}

pub fn monitor(ctx: &Context) -> Result<OcfStatus, OcfError> {
    monitor_with(ctx, Hypervisor::connect)
}

/// monitor, asking libvirt through whatever `connect` opens.
pub fn monitor_with<S, C>(ctx: &Context, connect: C) -> Result<OcfStatus, OcfError>
where
    S: StatusSource,
    C: FnOnce(Option<&str>, Deadline) -> Result<S, LibvirtError>,
{
    let s = Settings::from_context(ctx)?;
    let id = match identity_for_status(ctx, &s) {
        Ok(id) => id,
        Err(e) if ctx.is_probe => {
            // Unreadable config and never started here: nothing of ours can run here.
            tracing::info!("{}; probe reports not running", e.reason);
            return Ok(OcfStatus::NotRunning);
        }
        Err(e) => return Err(e),
    };
    // Keep time for the process fallback when libvirt does not answer.
    let total = ctx.deadline.remaining();
    let libvirt_deadline =
        Deadline::at(ctx.deadline.instant() - (total / 4).min(Duration::from_secs(2)));
    let found = connect(s.hypervisor.as_deref(), libvirt_deadline).and_then(|mut hv| {
        hv.find(&id.name, id.uuid.as_deref(), libvirt_deadline)
            .map(|f| (hv, f))
    });
    let verdict = match found {
        Ok((_, None)) => OcfStatus::NotRunning,
        Ok((mut hv, Some(facts))) => {
            let verdict = classify(&id.name, facts.status)?;
            if verdict == OcfStatus::Success {
                update_utilization(ctx, &s, &mut hv, &id.name);
                let paused_by_user = facts.status == DomainStatus::Paused(PauseReason::User);
                return note_running(ctx, &s, &id, paused_by_user);
            }
            verdict
        }
        Err(e) => process_fallback(&id, e)?,
    };
    if verdict == OcfStatus::NotRunning {
        activity::remove(&activity::dir(&ctx.state_dir), &ctx.instance);
        return Ok(verdict);
    }
    note_running(ctx, &s, &id, false)
}

/// Records a running resource for the watcher (a probe may find one started before this
/// node's Pacemaker did). A guest paused by a user is running but degraded (OCF 1.1): shown,
/// not recovered, with the time the pause was first seen.
fn note_running(
    ctx: &Context,
    s: &Settings,
    id: &Identity,
    paused_by_user: bool,
) -> Result<OcfStatus, OcfError> {
    if ctx.instance.is_empty() {
        return Ok(OcfStatus::Success);
    }
    let dir = activity::dir(&ctx.state_dir);
    let old = activity::read(&dir, &ctx.instance);
    let mut record = match old.clone() {
        // Reported by the watcher: Pacemaker's recovery is on its way; leave it.
        Some(r) if r.phase == Phase::Failed => r,
        Some(r) => r.with_phase(Phase::Running),
        None => Record::new(&ctx.instance, id, s.hypervisor.as_deref(), Phase::Running),
    };
    record.paused_since = match (paused_by_user, record.paused_since) {
        (true, Some(t)) => Some(t),
        (true, None) => Some(activity::now()),
        (false, _) => None,
    };
    if old.as_ref() != Some(&record) {
        activity::note(&dir, &record);
    }
    match record.paused_since {
        Some(t) => Err(OcfError::degraded(format!(
            "{}: paused by user since {} (resume it with virsh resume)",
            id.name,
            UtcTime::from_unix_secs(t).readable()
        ))),
        None => Ok(OcfStatus::Success),
    }
}

/// Runs an action with the resource recorded as `during` for the watcher, then as `after`
/// (None: no longer active here) when it succeeds. When it fails the record says `if_failed`,
/// or stays `during` (None): the domain's state is then Pacemaker's to sort out, never the
/// watcher's.
pub fn tracked<T>(
    ctx: &Context,
    during: Phase,
    after: Option<Phase>,
    if_failed: Option<Phase>,
    action: impl FnOnce() -> Result<T, OcfError>,
) -> Result<T, OcfError> {
    let id = Settings::from_context(ctx)
        .ok()
        .and_then(|s| Some((identity_for_status(ctx, &s).ok()?, s)));
    let Some((id, s)) = id.filter(|_| !ctx.instance.is_empty()) else {
        return action();
    };
    let dir = activity::dir(&ctx.state_dir);
    let record = |phase| Record::new(&ctx.instance, &id, s.hypervisor.as_deref(), phase);
    activity::note(&dir, &record(during));
    let result = action();
    match (&result, after, if_failed) {
        (Ok(_), Some(phase), _) | (Err(_), _, Some(phase)) => activity::note(&dir, &record(phase)),
        (Ok(_), None, _) => activity::remove(&dir, &ctx.instance),
        (Err(_), _, None) => {}
    }
    result
}

/// libvirt did not answer: judge by the qemu process, and never loop waiting for libvirtd.
fn process_fallback(id: &Identity, e: LibvirtError) -> Result<OcfStatus, OcfError> {
    if !id.is_qemu() {
        return Err(OcfError::generic(format!(
            "{}: cannot tell the state: {e}",
            id.name
        )));
    }
    let pids = process_check::qemu_pids(&id.name);
    if pids.is_empty() {
        tracing::warn!("{e}; no qemu process for {}: not running", id.name);
        Ok(OcfStatus::NotRunning)
    } else {
        tracing::warn!(
            "{e}; qemu process {pids:?} of {} runs: reporting running",
            id.name
        );
        Ok(OcfStatus::Success)
    }
}

fn update_utilization(ctx: &Context, s: &Settings, hv: &mut impl StatusSource, name: &str) {
    let want_any = s.autoset_cpu
        || s.autoset_hv_memory
        || s.autoset_host_memory
        || s.unset_cpu
        || s.unset_hv_memory
        || s.unset_host_memory;
    if !want_any || ctx.instance.is_empty() {
        return;
    }
    let step = ctx.deadline.capped(Duration::from_secs(10));
    match hv.size(name, step) {
        Ok(size) => utilization::update(
            &ctx.instance,
            &ctx.state_dir,
            &utilization::wanted(s, size),
            step,
        ),
        Err(e) => tracing::debug!("utilization not updated: {e}"),
    }
}

// ---------------------------------------------------------------- start

pub fn start(ctx: &Context) -> Result<(), OcfError> {
    let s = Settings::from_context(ctx)?;
    // Never fall back to a remembered or stale definition: the config must be readable.
    let cfg = identity::load_config(&s.config)?;
    let id = Identity::of(&cfg.domain);
    identity::remember(&ctx.state_dir, &ctx.instance, &id);
    let _ = fs::remove_file(utilization::cache_path(&ctx.state_dir, &ctx.instance));
    let mut hv = connect(&s, ctx.deadline)?;
    if let Some(facts) = hv
        .find(&id.name, id.uuid.as_deref(), ctx.deadline)
        .map_err(generic)?
    {
        if facts.status.is_active() {
            classify(&id.name, facts.status)?;
            tracing::info!("{}: already running", id.name);
            update_utilization(ctx, &s, &mut hv, &id.name);
            return Ok(());
        }
    }
    if s.start_resources {
        hv.start_resources(&cfg.domain.networks, &cfg.domain.pools, ctx.deadline)
            .map_err(generic)?;
    }
    let image = s
        .snapshot_dir
        .as_deref()
        .map(|d| snapshot_image(d, &id.name))
        .filter(|p| p.exists());
    match &image {
        Some(image) => {
            tracing::info!("{}: restoring from {}", id.name, image.display());
            hv.restore(&image.to_string_lossy(), ctx.deadline)
                .map_err(|e| {
                    OcfError::generic(format!(
                        "{}: restore from {} failed: {e}",
                        id.name,
                        image.display()
                    ))
                })?;
            let _ = fs::remove_file(image);
        }
        None => hv
            .create_transient(&cfg.xml, ctx.deadline)
            .map_err(generic)?,
    }
    wait_running(&hv, &id, ctx.deadline)?;
    tracing::info!("{}: started", id.name);
    update_utilization(ctx, &s, &mut hv, &id.name);
    Ok(())
}

/// Waits until libvirt reports the domain running.
fn wait_running(hv: &Hypervisor, id: &Identity, deadline: Deadline) -> Result<(), OcfError> {
    loop {
        match hv
            .find(&id.name, id.uuid.as_deref(), deadline)
            .map_err(generic)?
        {
            Some(f) if classify(&id.name, f.status)? == OcfStatus::Success => return Ok(()),
            Some(f) if !f.status.is_active() => {
                return Err(OcfError::generic(format!(
                    "{}: stopped right after start ({:?})",
                    id.name, f.status
                )))
            }
            None => {
                return Err(OcfError::generic(format!(
                    "{}: vanished right after start",
                    id.name
                )))
            }
            Some(_) => {}
        }
        if deadline.expired() {
            return Err(OcfError::generic(format!(
                "{}: not running before the start timeout",
                id.name
            )));
        }
        std::thread::sleep(POLL);
    }
}

// ---------------------------------------------------------------- stop

/// The share of the stop timeout kept for destroy: the last max(10 s, 20 %).
pub fn destroy_reserve(total: Duration) -> Duration {
    (total / 5).max(Duration::from_secs(10)).min(total)
}

pub fn stop(ctx: &Context) -> Result<(), OcfError> {
    let s = Settings::from_context(ctx)?;
    let id = identity_for_status(ctx, &s)?;
    let _ = fs::remove_file(utilization::cache_path(&ctx.state_dir, &ctx.instance));
    let total = ctx.deadline.remaining();
    let graceful_deadline = Deadline::at(ctx.deadline.instant() - destroy_reserve(total));
    let hv = connect(&s, ctx.deadline)?;
    let facts = match active(&hv, &id, ctx.deadline)? {
        None => {
            tracing::info!("{}: already stopped", id.name);
            return Ok(());
        }
        Some(f) => f,
    };
    if s.save_config_on_stop {
        save_config(&hv, &s, &id, graceful_deadline);
    }
    let mut gone = false;
    if let Some(dir) = &s.snapshot_dir {
        let image = snapshot_image(dir, &id.name);
        tracing::info!("{}: saving memory to {}", id.name, image.display());
        match hv.save_memory(&facts.name, &image.to_string_lossy(), graceful_deadline) {
            Ok(()) => gone = wait_gone(&hv, &id, graceful_deadline)?,
            Err(e) => {
                tracing::warn!(
                    "{}: saving to {} failed ({e}); shutting down instead",
                    id.name,
                    image.display()
                );
                let _ = fs::remove_file(&image);
            }
        }
    }
    // A paused guest cannot act on a shutdown request: straight to destroy.
    let paused = matches!(facts.status, DomainStatus::Paused(_));
    if paused && !s.force_stop {
        tracing::info!(
            "{}: paused ({:?}), no graceful shutdown possible",
            id.name,
            facts.status
        );
    }
    let graceful_since = std::time::Instant::now();
    let tried_graceful = !gone && !s.force_stop && !paused;
    if tried_graceful {
        gone = graceful_shutdown(&hv, &id, s.shutdown_flags, graceful_deadline)?;
    }
    if !gone {
        tracing::info!("{}: destroying", id.name);
        if tried_graceful {
            // a decision worth a line in the operator's history
            paddock_base::journal::record_decision(
                "vm",
                None,
                &ctx.instance,
                "stop",
                &format!(
                    "{} did not shut down in {:.1} s: destroyed",
                    id.name,
                    graceful_since.elapsed().as_secs_f64()
                ),
            );
        }
        match hv.destroy(&id.name, ctx.deadline) {
            Ok(()) => {}
            Err(e) if e.is_no_domain() => {}
            Err(e) if e.is_unreachable() => return Err(generic(e)),
            Err(e) => tracing::warn!("{}: destroy: {e}", id.name),
        }
        if !wait_gone(&hv, &id, ctx.deadline)? {
            return Err(OcfError::generic(format!(
                "{}: still running after destroy",
                id.name
            )));
        }
    }
    tracing::info!("{}: stopped", id.name);
    Ok(())
}

fn active(
    hv: &Hypervisor,
    id: &Identity,
    deadline: Deadline,
) -> Result<Option<DomainFacts>, OcfError> {
    Ok(hv
        .find(&id.name, id.uuid.as_deref(), deadline)
        .map_err(generic)?
        .filter(|f| f.status.is_active()))
}

/// Asks the guest to shut down (again every few seconds: an early ACPI press can be lost while
/// the guest boots) and waits until it is gone or `deadline`. Returns whether it is gone.
fn graceful_shutdown(
    hv: &Hypervisor,
    id: &Identity,
    flags: u32,
    deadline: Deadline,
) -> Result<bool, OcfError> {
    const RESEND: Duration = Duration::from_secs(2);
    let mut last_request: Option<Instant> = None;
    loop {
        if !matches!(last_request, Some(t) if t.elapsed() < RESEND) {
            last_request = Some(Instant::now());
            match hv.shutdown(&id.name, flags, deadline) {
                Ok(()) => tracing::info!("{}: shutdown requested (flags {flags})", id.name),
                Err(e) if e.is_no_domain() => return Ok(true),
                Err(e) if e.is_unreachable() => return Ok(false),
                Err(e) => {
                    tracing::warn!("{}: graceful shutdown refused: {e}", id.name);
                    return Ok(false);
                }
            }
        }
        std::thread::sleep(POLL);
        match hv.find(&id.name, id.uuid.as_deref(), deadline) {
            Ok(None) => return Ok(true),
            Ok(Some(f)) if !f.status.is_active() => return Ok(true),
            Ok(Some(_)) => {}
            Err(_) => return Ok(false),
        }
        if deadline.expired() {
            tracing::info!("{}: no graceful shutdown in time", id.name);
            return Ok(false);
        }
    }
}

fn wait_gone(hv: &Hypervisor, id: &Identity, deadline: Deadline) -> Result<bool, OcfError> {
    loop {
        if active(hv, id, deadline)?.is_none() {
            return Ok(true);
        }
        if deadline.expired() {
            return Ok(false);
        }
        std::thread::sleep(POLL);
    }
}

/// Writes the domain's current definition back to the config file (atomically).
fn save_config(hv: &Hypervisor, s: &Settings, id: &Identity, deadline: Deadline) {
    let xml = match hv.inactive_xml(&id.name, deadline) {
        Ok(x) => x,
        Err(e) => return tracing::warn!("{}: config not saved: {e}", id.name),
    };
    let tmp = s.config.with_extension("paddock-tmp");
    let result = fs::write(&tmp, xml).and_then(|()| fs::rename(&tmp, &s.config));
    match result {
        Ok(()) => tracing::info!(
            "{}: saved its definition to {}",
            id.name,
            s.config.display()
        ),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            tracing::warn!(
                "{}: cannot save config to {}: {e}",
                id.name,
                s.config.display()
            )
        }
    }
}

// ---------------------------------------------------------------- migration

fn migrate_node(ctx: &Context, key: &str) -> Result<String, OcfError> {
    ctx.meta(key)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .ok_or_else(|| OcfError::generic(format!("OCF_RESKEY_CRM_meta_{key} is not set")))
}

pub fn migrate_to(ctx: &Context) -> Result<(), OcfError> {
    let s = Settings::from_context(ctx)?;
    let options = migration::parse_migrate_options(s.migrate_options.as_deref())?;
    let target = migrate_node(ctx, "migrate_target")?;
    let id = identity_for_status(ctx, &s)?;
    let hv = connect(&s, ctx.deadline)?;
    let facts = active(&hv, &id, ctx.deadline)?
        .ok_or_else(|| OcfError::generic(format!("{}: migrate_to: not active locally", id.name)))?;
    classify(&id.name, facts.status)?;
    let local_uri = s.hypervisor.clone().unwrap_or_else(|| hv.uri().to_string());
    let plan = MigrationPlan {
        name: facts.name,
        dest_uri: migration::remote_uri(&s, &target, &local_uri)?,
        migrate_uri: migration::migrate_uri(&s, &options, &target, &local_uri),
        flags: options.flags,
        bandwidth_mib_s: s.migration_speed_mib_s,
        downtime_ms: s.migration_downtime_ms,
    };
    if s.save_config_on_stop {
        save_config(&hv, &s, &id, ctx.deadline.capped(Duration::from_secs(10)));
    }
    if s.start_resources {
        if let Ok(cfg) = identity::load_config(&s.config) {
            let remote = Hypervisor::connect(
                Some(&plan.dest_uri),
                ctx.deadline.capped(Duration::from_secs(10)),
            )
            .map_err(generic)?;
            remote
                .start_resources(&cfg.domain.networks, &cfg.domain.pools, ctx.deadline)
                .map_err(generic)?;
        }
    }
    migration::migrate(&hv, s.hypervisor.as_deref(), &plan, ctx.deadline)
}

pub fn migrate_from(ctx: &Context) -> Result<(), OcfError> {
    let s = Settings::from_context(ctx)?;
    let source = ctx
        .meta("migrate_source")
        .unwrap_or("the source")
        .to_string();
    let id = identity_for_status(ctx, &s)?;
    let mut hv = connect(&s, ctx.deadline)?;
    // migrate_from runs after migrate_to finished at the source, so the domain is here already;
    // an absent domain gets a short grace only (VirtualDomain waits here forever).
    let absent_deadline = ctx.deadline.capped(Duration::from_secs(5));
    loop {
        match hv
            .find(&id.name, id.uuid.as_deref(), ctx.deadline)
            .map_err(generic)?
        {
            // Paused for the incoming migration counts only once libvirt resumed it.
            Some(f) if matches!(f.status, DomainStatus::Running | DomainStatus::Blocked) => break,
            Some(f) if !matches!(f.status, DomainStatus::Paused(_)) => {
                // A failed state is reported at once; shut off gets the short grace.
                let state = classify(&id.name, f.status)?;
                if state == OcfStatus::NotRunning && absent_deadline.expired() {
                    return Err(OcfError::generic(format!(
                        "{}: not running here after migration from {source}",
                        id.name
                    )));
                }
            }
            Some(_) => {}
            None if absent_deadline.expired() => {
                return Err(OcfError::generic(format!(
                    "{}: did not arrive here from {source}",
                    id.name
                )));
            }
            None => {}
        }
        if ctx.deadline.expired() {
            return Err(OcfError::generic(format!(
                "{}: not running here after migration from {source}",
                id.name
            )));
        }
        std::thread::sleep(POLL);
    }
    tracing::info!("{}: live migration from {source} succeeded", id.name);
    if s.save_config_on_stop {
        save_config(&hv, &s, &id, ctx.deadline);
    }
    update_utilization(ctx, &s, &mut hv, &id.name);
    Ok(())
}

// ---------------------------------------------------------------- validate-all

pub fn validate(ctx: &Context) -> Result<(), OcfError> {
    let s = Settings::from_context(ctx)?;
    migration::parse_migrate_options(s.migrate_options.as_deref())?;
    let cfg = identity::load_config(&s.config)?;
    if let Some(emulator) = &cfg.domain.emulator {
        let ok = fs::metadata(emulator).map(|m| {
            m.is_file() && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
        });
        if !matches!(ok, Ok(true)) {
            return Err(OcfError::installed(format!(
                "{}: emulator {emulator} is not an executable file",
                cfg.domain.name
            )));
        }
    }
    if let Some(dir) = &s.snapshot_dir {
        if !dir.is_dir() {
            // Node-local like an unreadable config (shared storage not mounted here).
            return Err(OcfError::installed(format!(
                "snapshot directory {} does not exist",
                dir.display()
            )));
        }
    }
    let hv = connect(&s, ctx.deadline)?;
    hv.ping(ctx.deadline).map_err(generic)?;
    if ctx.check_level >= 10 {
        let problems = shared_storage::problems(
            &cfg.domain.disks,
            &s.shared_storage,
            &shared_storage::read_mounts(),
        );
        if !problems.is_empty() {
            return Err(OcfError::configured(format!(
                "{}: storage not shared between nodes: {}",
                cfg.domain.name,
                problems.join("; ")
            )));
        }
    }
    Ok(())
}

/// For stop and probe with unusable parameters: whether the remembered domain's qemu runs.
pub fn running_without_config(ctx: &Context) -> Option<bool> {
    let id = identity::remembered(&ctx.state_dir, &ctx.instance)?;
    if !id.is_qemu() {
        return None;
    }
    Some(!process_check::qemu_pids(&id.name).is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destroy_keeps_at_least_ten_seconds_or_a_fifth() {
        assert_eq!(
            destroy_reserve(Duration::from_secs(90)),
            Duration::from_secs(18)
        );
        assert_eq!(
            destroy_reserve(Duration::from_secs(30)),
            Duration::from_secs(10)
        );
        assert_eq!(
            destroy_reserve(Duration::from_secs(5)),
            Duration::from_secs(5)
        );
    }
}
