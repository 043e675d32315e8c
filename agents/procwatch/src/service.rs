//! The service's life cycle: find it, start it as a daemon and wait until it is ready,
//! check it, stop it (signal, grace, SIGKILL, verify).

use crate::command::ServiceCommand;
use crate::config::Config;
use crate::procinfo::{self, Identity, ProcInfo};
use crate::run::{run_bounded, Limits};
use crate::spawn::{spawn_daemon, SpawnError, SpawnRequest};
use crate::state::{self, Phase, State};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use ocf::tracing::{debug, info, warn};
use ocf::{Context, Deadline, OcfError, OcfStatus};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// A candidate must stay the same process this long before start believes it: a forking
/// daemon's parent disappears and a service that dies on a bad configuration dies within it.
/// A passing probe is better evidence, so with a probe the wait is shorter.
const SETTLE: Duration = Duration::from_millis(1000);
const SETTLE_WITH_PROBE: Duration = Duration::from_millis(300);
/// After the started process is gone, how long a forked daemon may take to show up.
const FORK_GRACE: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_millis(50);

fn state_path(ctx: &Context) -> PathBuf {
    state::path(&ctx.state_dir, &ctx.instance)
}

// ---------------------------------------------------------------- locating

/// The running service, or why none was found.
pub fn locate(cfg: &Config, recorded: Option<&State>) -> (Option<ProcInfo>, String) {
    let mut why = String::from("not running");
    if let Some(st) = recorded {
        if let Some(p) = procinfo::alive(st.identity) {
            return (Some(p), why);
        }
        why = match procinfo::read(st.identity.pid) {
            Some(_) => format!(
                "process {} is gone (its pid now belongs to another process)",
                st.identity.pid
            ),
            None => format!("process {} is gone", st.identity.pid),
        };
    }
    if let Some(p) = cfg
        .pidfile
        .as_deref()
        .and_then(|f| from_pidfile(cfg, f, None))
    {
        return (Some(p), why);
    }
    if let Some(m) = &cfg.matcher {
        if let Some(p) = m
            .find(&procinfo::all())
            .into_iter()
            .find(|p| !p.is_zombie())
        {
            return (Some(p), why);
        }
    }
    (None, why)
}

/// The process a pidfile names, if it is believable: it exists (not as a zombie), started before the file was
/// written (a reused pid starts later), matches `match`, and (optionally) the file is newer than `since`.
fn from_pidfile(cfg: &Config, file: &Path, since: Option<SystemTime>) -> Option<ProcInfo> {
    let meta = std::fs::metadata(file).ok()?;
    let written = meta.modified().ok()?;
    if since.is_some_and(|s| written + Duration::from_secs(1) < s) {
        return None;
    }
    let pid: i32 = std::fs::read_to_string(file)
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    if pid <= 1 {
        return None;
    }
    let p = procinfo::read(pid).filter(|p| !p.is_zombie())?;
    let started = start_time(&p)?;
    if started > written + Duration::from_secs(2) {
        debug!(
            "pidfile {} names pid {pid}, which started after the file was written: reused pid",
            file.display()
        );
        return None;
    }
    if cfg.matcher.as_ref().is_some_and(|m| !m.matches(&p)) {
        return None;
    }
    Some(p)
}

fn start_time(p: &ProcInfo) -> Option<SystemTime> {
    let boot = procinfo::boot_time_secs()?;
    let ticks = procinfo::ticks_per_second().max(1);
    let millis = boot * 1000 + p.starttime * 1000 / ticks;
    Some(SystemTime::UNIX_EPOCH + Duration::from_millis(millis))
}

fn record(ctx: &Context, p: &ProcInfo, session: i32, wrote_pidfile: bool) -> Result<(), OcfError> {
    let st = State {
        identity: p.identity(),
        session,
        wrote_pidfile,
        phase: Phase::Running,
        resource: ctx.instance.clone(),
    };
    state::save(&state_path(ctx), &st).map_err(|e| {
        OcfError::generic(format!(
            "cannot write state under {}: {e}",
            ctx.state_dir.display()
        ))
    })
}

/// For stop/probe of an instance whose parameters are unusable: what start recorded.
pub fn running_per_state(ctx: &Context) -> bool {
    state::load(&state_path(ctx))
        .and_then(|st| procinfo::alive(st.identity))
        .is_some_and(|p| !p.is_zombie())
}

// ---------------------------------------------------------------- monitor

pub fn monitor(cfg: &Config, ctx: &Context) -> Result<OcfStatus, OcfError> {
    let path = state_path(ctx);
    let recorded = state::load(&path);
    let (found, why) = locate(cfg, recorded.as_ref());
    let Some(p) = found else {
        return Err(OcfError::not_running(why));
    };
    if recorded.as_ref().map(|s| s.identity) != Some(p.identity()) {
        info!("service runs as pid {}; recording it", p.pid);
        let keep = recorded
            .as_ref()
            .map(|s| (s.session, s.wrote_pidfile))
            .unwrap_or((0, false));
        record(ctx, &p, keep.0, keep.1)?;
    }
    if p.is_zombie() {
        return Err(OcfError::generic(format!(
            "process {} is a zombie: it exited but was not reaped",
            p.pid
        )));
    }
    if p.is_stopped() {
        return Err(OcfError::generic(format!(
            "process {} is stopped (state {}: SIGSTOP or traced)",
            p.pid, p.state
        )));
    }
    if ctx.check_level >= 10 {
        if let Some(f) = &cfg.pidfile {
            if from_pidfile(cfg, f, None).map(|q| q.pid) != Some(p.pid) {
                return Err(OcfError::generic(format!(
                    "pidfile {} does not name process {}",
                    f.display(),
                    p.pid
                )));
            }
        }
    }
    if let Some(probe) = &cfg.probe {
        if let Err(e) = probe.check(cfg.probe_timeout, ctx.deadline, &cfg.probe_status) {
            return Err(if cfg.degraded {
                OcfError::degraded(e)
            } else {
                OcfError::generic(e)
            });
        }
    }
    Ok(OcfStatus::Success)
}

// ---------------------------------------------------------------- start

pub fn start(cfg: &Config, ctx: &Context) -> Result<(), OcfError> {
    let command = cfg.command()?;
    let recorded = state::load(&state_path(ctx));
    if let (Some(p), _) = locate(cfg, recorded.as_ref()) {
        if p.is_zombie() || p.is_stopped() {
            warn!(
                "process {} is {}; stopping it before starting anew",
                p.pid,
                if p.is_zombie() { "a zombie" } else { "stopped" }
            );
            stop(cfg, ctx)?;
        } else {
            info!("already running as pid {}", p.pid);
            let ready = wait_ready(cfg, ctx, Some(p.identity()), None, Duration::ZERO)?;
            let keep = recorded
                .filter(|s| s.identity == ready.identity())
                .map(|s| (s.session, s.wrote_pidfile))
                .unwrap_or((0, false));
            return record(ctx, &ready, keep.0, keep.1);
        }
    }
    hook(ctx, "pre_start", cfg.pre_start.as_deref(), &[])?;
    remove_stale_pidfile(cfg);
    let spawned_at = SystemTime::now();
    let spawned = if command.is_external() {
        run_external_start(command, ctx)?;
        None
    } else {
        Some(spawn_service(cfg, command, ctx)?)
    };
    let settle = if cfg.probe.is_some() {
        SETTLE_WITH_PROBE
    } else {
        SETTLE
    };
    let ready = wait_ready(cfg, ctx, spawned.map(|s| s.0), Some(spawned_at), settle)?;
    let session = spawned
        .map(|s| s.1)
        .filter(|sid| ready.session == *sid)
        .unwrap_or(0);
    let wrote_pidfile = write_pidfile_if_needed(cfg, &ready)?;
    record(ctx, &ready, session, wrote_pidfile)?;
    hook(
        ctx,
        "post_start",
        cfg.post_start.as_deref(),
        &[("PROCWATCH_PID".into(), ready.pid.to_string())],
    )?;
    info!("running as pid {}", ready.pid);
    Ok(())
}

/// A pidfile naming no process of the service would mislead the search for the new one.
fn remove_stale_pidfile(cfg: &Config) {
    if let Some(f) = &cfg.pidfile {
        if f.exists() && from_pidfile(cfg, f, None).is_none() {
            debug!("removing stale pidfile {}", f.display());
            let _ = std::fs::remove_file(f);
        }
    }
}

/// An init script or systemctl starts the daemon; its process group may stay (the daemon's).
fn run_external_start(command: &ServiceCommand, ctx: &Context) -> Result<(), OcfError> {
    let argv = command.argv();
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let limits = Limits {
        kill_leftovers: false,
        ..Limits::default()
    };
    let out = run_bounded(&argv, &[], ctx.deadline, limits).map_err(OcfError::generic)?;
    if !out.success() {
        return Err(OcfError::generic(format!(
            "{} failed ({}){}",
            argv.join(" "),
            out.describe_status(),
            out.last_line_suffix()
        )));
    }
    Ok(())
}

/// Starts the service as a daemon of ours; returns its identity and session, recorded at once
/// (before the pid could be reused) so that a stop after a failed start finds what it left.
fn spawn_service(
    cfg: &Config,
    command: &ServiceCommand,
    ctx: &Context,
) -> Result<(Identity, i32), OcfError> {
    let request = SpawnRequest {
        argv: command.argv(),
        env: service_env(cfg)?,
        user: cfg.user.clone(),
        group: cfg.group.clone(),
        workdir: cfg.workdir.clone(),
        logfile: cfg.logfile.clone(),
    };
    let pid = spawn_daemon(&request, ctx.deadline).map_err(|e| match e {
        SpawnError::NotInstalled(m) => OcfError::installed(m),
        SpawnError::Permission(m) => OcfError::perm(m),
        SpawnError::Other(m) => OcfError::generic(m),
    })?;
    info!("started {} as pid {pid}", command.program());
    let started = procinfo::read(pid)
        .map(|p| (p.identity(), p.session))
        .unwrap_or((Identity { pid, starttime: 0 }, pid));
    let early = State {
        identity: started.0,
        session: started.1,
        wrote_pidfile: false,
        phase: Phase::Starting,
        resource: ctx.instance.clone(),
    };
    state::save(&state_path(ctx), &early).map_err(|e| {
        OcfError::generic(format!(
            "cannot write state under {}: {e}",
            ctx.state_dir.display()
        ))
    })?;
    Ok(started)
}

/// Wait until one process is stably (for `settle`) the service and its probe passes.
/// `spawned`: the process we started (or found running); `fresh_since`: a pidfile must be newer.
fn wait_ready(
    cfg: &Config,
    ctx: &Context,
    spawned: Option<Identity>,
    fresh_since: Option<SystemTime>,
    settle: Duration,
) -> Result<ProcInfo, OcfError> {
    let mut candidate: Option<(Identity, Instant)> = None;
    let mut spawned_gone_at: Option<Instant> = None;
    let mut last_problem = String::from("no process found");
    loop {
        let found = find_after_spawn(cfg, spawned, fresh_since);
        match found {
            Some(p) if p.is_zombie() => last_problem = format!("process {} exited", p.pid),
            Some(p) if p.is_stopped() => last_problem = format!("process {} is stopped", p.pid),
            Some(p) => {
                let since = match candidate {
                    Some((id, t)) if id == p.identity() => t,
                    _ => {
                        candidate = Some((p.identity(), Instant::now()));
                        Instant::now()
                    }
                };
                if since.elapsed() >= settle {
                    match &cfg.probe {
                        None => return Ok(p),
                        Some(probe) => {
                            match probe.check(cfg.probe_timeout, ctx.deadline, &cfg.probe_status) {
                                Ok(()) => return Ok(p),
                                Err(e) => last_problem = e,
                            }
                        }
                    }
                }
            }
            None => {
                candidate = None;
                if let Some(id) = spawned {
                    if procinfo::alive(id).is_none_or(|p| p.is_zombie()) {
                        let gone_at = *spawned_gone_at.get_or_insert_with(Instant::now);
                        let may_fork = cfg.pidfile.is_some() || cfg.matcher.is_some();
                        if !may_fork || gone_at.elapsed() >= FORK_GRACE {
                            let what = if may_fork {
                                "and no process took its place (pidfile/match)"
                            } else {
                                "right after start"
                            };
                            return Err(OcfError::generic(format!(
                                "process {} exited {what}{}",
                                id.pid,
                                log_tail(&cfg.logfile)
                            )));
                        }
                    }
                }
            }
        }
        if ctx.deadline.expired() {
            return Err(OcfError::generic(format!(
                "not ready within the start timeout ({:?}): {last_problem}",
                ctx.timeout
            )));
        }
        std::thread::sleep(POLL.min(ctx.deadline.remaining()));
    }
}

/// Right after start: a fresh pidfile, then `match`, then the process we started.
fn find_after_spawn(
    cfg: &Config,
    spawned: Option<Identity>,
    fresh_since: Option<SystemTime>,
) -> Option<ProcInfo> {
    if let Some(p) = cfg
        .pidfile
        .as_deref()
        .and_then(|f| from_pidfile(cfg, f, fresh_since))
    {
        return Some(p);
    }
    if let Some(m) = &cfg.matcher {
        let all = m.find(&procinfo::all());
        // The started process first if it matches (others may be older strays of the same kind).
        if let Some(p) = spawned.and_then(|id| all.iter().find(|p| p.identity() == id)) {
            return Some(p.clone());
        }
        if let Some(p) = all.into_iter().find(|p| !p.is_zombie()) {
            return Some(p);
        }
        return None;
    }
    spawned.and_then(procinfo::alive)
}

fn write_pidfile_if_needed(cfg: &Config, p: &ProcInfo) -> Result<bool, OcfError> {
    let Some(f) = &cfg.pidfile else {
        return Ok(false);
    };
    if from_pidfile(cfg, f, None).map(|q| q.pid) == Some(p.pid) {
        return Ok(false); // the service wrote it
    }
    std::fs::write(f, format!("{}\n", p.pid))
        .map_err(|e| OcfError::configured(format!("cannot write pidfile {}: {e}", f.display())))?;
    Ok(true)
}

/// A clean environment, as an init system would give: PATH, LANG, the user's HOME/USER/LOGNAME, then `env`.
fn service_env(cfg: &Config) -> Result<Vec<(String, String)>, OcfError> {
    let mut env = vec![(
        "PATH".to_string(),
        std::env::var("PATH").unwrap_or_else(|_| {
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()
        }),
    )];
    for k in ["LANG", "LC_ALL", "TZ"] {
        if let Ok(v) = std::env::var(k) {
            env.push((k.into(), v));
        }
    }
    let user = crate::identity::user(cfg.user.as_deref().unwrap_or("root"))
        .map_err(OcfError::configured)?;
    env.push(("HOME".into(), user.dir.to_string_lossy().into_owned()));
    env.push(("USER".into(), user.name.clone()));
    env.push(("LOGNAME".into(), user.name));
    env.extend(cfg.env.iter().cloned());
    Ok(env)
}

fn hook(
    ctx: &Context,
    name: &str,
    cmd: Option<&str>,
    extra: &[(String, String)],
) -> Result<(), OcfError> {
    let Some(cmd) = cmd else { return Ok(()) };
    let mut env = vec![("PROCWATCH_INSTANCE".to_string(), ctx.instance.clone())];
    env.extend(extra.iter().cloned());
    let out = run_bounded(
        &["/bin/sh", "-c", cmd],
        &env,
        ctx.deadline,
        Limits::default(),
    )
    .map_err(|e| OcfError::generic(format!("{name} hook: {e}")))?;
    if !out.success() {
        return Err(OcfError::generic(format!(
            "{name} hook failed ({}){}",
            out.describe_status(),
            out.last_line_suffix()
        )));
    }
    info!("{name} hook succeeded");
    Ok(())
}

fn log_tail(logfile: &Path) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(logfile) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(2048)));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| format!("; last log line: {}", l.trim()))
        .unwrap_or_default()
}

// ---------------------------------------------------------------- stop

pub fn stop(cfg: &Config, ctx: &Context) -> Result<(), OcfError> {
    let path = state_path(ctx);
    let recorded = state::load(&path);
    if let Some(st) = &recorded {
        // From here the service's death is Pacemaker's wish, not a failure to report.
        let stopping = State {
            phase: Phase::Stopping,
            ..st.clone()
        };
        if let Err(e) = state::save(&path, &stopping) {
            warn!("cannot record the stop in {}: {e}", path.display());
        }
    }
    if let Some(argv) = cfg.command.as_ref().and_then(|c| c.stop_argv()) {
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let half = ctx.deadline.capped(ctx.deadline.remaining() / 2);
        match run_bounded(
            &argv,
            &[],
            half,
            Limits {
                kill_leftovers: false,
                ..Limits::default()
            },
        ) {
            Ok(out) if out.success() => info!("{} succeeded", argv.join(" ")),
            Ok(out) => warn!(
                "{} failed ({}){}; signalling the processes",
                argv.join(" "),
                out.describe_status(),
                out.last_line_suffix()
            ),
            Err(e) => warn!("{e}; signalling the processes"),
        }
    }
    let targets = stop_targets(cfg, recorded.as_ref());
    if !targets.is_empty() {
        terminate(cfg, ctx, &targets)?;
    }
    if let (Some(f), Some(st)) = (&cfg.pidfile, &recorded) {
        if st.wrote_pidfile || from_pidfile(cfg, f, None).is_none() {
            let _ = std::fs::remove_file(f);
        }
    }
    state::remove(&path);
    Ok(())
}

/// Everything that is the service: the located process, every `match`, and what remains in the
/// session procwatch created for it.
fn stop_targets(cfg: &Config, recorded: Option<&State>) -> Vec<Identity> {
    let mut targets: Vec<Identity> = Vec::new();
    let (found, _) = locate(cfg, recorded);
    targets.extend(found.filter(|p| !p.is_zombie()).map(|p| p.identity()));
    // The session id is the pid of the spawn helper, which exited at once. The kernel does not
    // hand that number out again while the session has members; if a process with that pid
    // exists, the old session is gone and the id now names somebody else's session.
    let session = recorded
        .map(|s| s.session)
        .filter(|sid| *sid > 0 && procinfo::read(*sid).is_none());
    if cfg.matcher.is_some() || session.is_some() {
        for p in procinfo::all().into_iter().filter(|p| !p.is_zombie()) {
            let matched = cfg.matcher.as_ref().is_some_and(|m| m.matches(&p));
            let in_session = recorded
                .is_some_and(|s| session == Some(p.session) && p.starttime >= s.identity.starttime);
            if (matched || in_session) && !targets.contains(&p.identity()) {
                targets.push(p.identity());
            }
        }
    }
    targets
}

fn signal_all(targets: &[Identity], sig: Signal) {
    for id in targets {
        // Re-check the identity right before signalling: never hit a reused pid.
        if procinfo::alive(*id).is_some() {
            let _ = kill(Pid::from_raw(id.pid), sig);
        }
    }
}

fn survivors(targets: &[Identity]) -> Vec<Identity> {
    targets
        .iter()
        .copied()
        .filter(|id| procinfo::alive(*id).is_some_and(|p| !p.is_zombie()))
        .collect()
}

fn wait_gone(targets: &[Identity], until: Deadline) -> Vec<Identity> {
    loop {
        let left = survivors(targets);
        if left.is_empty() || until.expired() {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20).min(until.remaining()));
    }
}

fn terminate(cfg: &Config, ctx: &Context, targets: &[Identity]) -> Result<(), OcfError> {
    let remaining = ctx.deadline.remaining();
    let kill_reserve = (remaining / 4).min(Duration::from_secs(5));
    let grace = cfg
        .stop_timeout
        .unwrap_or(remaining.saturating_sub(kill_reserve))
        .min(remaining.saturating_sub(kill_reserve));
    let pids: Vec<String> = targets.iter().map(|t| t.pid.to_string()).collect();
    info!(
        "sending SIG{} to {} (grace {:?})",
        cfg.stop_signal.as_str().trim_start_matches("SIG"),
        pids.join(" "),
        grace
    );
    signal_all(targets, cfg.stop_signal);
    // A stopped process only acts on the signal once continued.
    signal_all(targets, Signal::SIGCONT);
    let left = wait_gone(targets, ctx.deadline.capped(grace));
    if left.is_empty() {
        return Ok(());
    }
    let pids: Vec<String> = left.iter().map(|t| t.pid.to_string()).collect();
    warn!(
        "{} still running after {:?}: SIGKILL",
        pids.join(" "),
        grace
    );
    signal_all(&left, Signal::SIGKILL);
    let left = wait_gone(&left, ctx.deadline.capped(Duration::from_secs(60)));
    if left.is_empty() {
        return Ok(());
    }
    let pids: Vec<String> = left.iter().map(|t| t.pid.to_string()).collect();
    Err(OcfError::generic(format!(
        "process {} survived SIGKILL (uninterruptible sleep?)",
        pids.join(" ")
    )))
}

// ---------------------------------------------------------------- validate

pub fn validate(cfg: &Config) -> Result<(), OcfError> {
    let command = cfg.command()?;
    let program = command.program();
    if crate::command::resolve_program(&program, std::env::var("PATH").ok().as_deref()).is_none() {
        return Err(OcfError::installed(format!(
            "{program} is not installed (not found or not executable)"
        )));
    }
    if let Some(u) = &cfg.user {
        crate::identity::user(u).map_err(OcfError::configured)?;
    }
    if let Some(g) = &cfg.group {
        crate::identity::group(g).map_err(OcfError::configured)?;
    }
    if let Some(w) = &cfg.workdir {
        if !w.is_dir() {
            return Err(OcfError::configured(format!(
                "workdir {} is not a directory",
                w.display()
            )));
        }
    }
    if let Some(f) = &cfg.pidfile {
        writable_dir_of("pidfile", f)?;
    }
    writable_dir_of("logfile", &cfg.logfile)?;
    Ok(())
}

fn writable_dir_of(what: &str, file: &Path) -> Result<(), OcfError> {
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("/"));
    if !dir.is_dir() {
        return Err(OcfError::configured(format!(
            "{what} directory {} does not exist",
            dir.display()
        )));
    }
    nix::unistd::access(dir, nix::unistd::AccessFlags::W_OK).map_err(|e| {
        OcfError::configured(format!(
            "{what} directory {} is not writable: {}",
            dir.display(),
            e.desc()
        ))
    })
}
