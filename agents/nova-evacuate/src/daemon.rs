//! The evacuation daemon: this same binary, started by the agent's start with a private first
//! argument, in its own session, logging to its log file. Every `interval` it takes one look
//! at Nova (see `evacuate`); a heartbeat thread rewrites the status file every second.
//!
//! The password never reaches its command line: the daemon inherits the agent's environment
//! (readable by root only) and reads OCF_RESKEY_password there, or runs password_script /
//! reads password_file itself at every login.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ocf::daemon::{unix_now, DaemonArgs};
use openstack::{Deadline, Error, Glance, Nova, Session};

use crate::config::{Config, SECRET_PARAMETERS};
use crate::evacuate::{Evacuator, Settings, REQUEST_TIMEOUT};
use crate::status::{self, Link, Status};

/// The first argument that makes this binary the daemon rather than the agent.
pub const DAEMON_ARG: &str = "__nova_evacuate_daemon";
const HEARTBEAT: Duration = Duration::from_secs(1);
/// How often the API workers are reminded of the token (see `warm_up`): below
/// keystonemiddleware's default token_cache_time (300 s).
const WARM_UP_EVERY: Duration = Duration::from_secs(240);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub state_dir: PathBuf,
    pub instance: String,
    /// The resource's parameters (after defaults) except the secret ones.
    pub params: Vec<(String, String)>,
    pub debug: bool,
}

impl Options {
    /// `params` may hold secrets: they are left out (the daemon reads them from its environment).
    pub fn new(
        state_dir: PathBuf,
        instance: String,
        params: &[(String, String)],
        debug: bool,
    ) -> Options {
        Options {
            state_dir,
            instance,
            params: params
                .iter()
                .filter(|(k, _)| !SECRET_PARAMETERS.contains(&k.as_str()))
                .cloned()
                .collect(),
            debug,
        }
    }

    fn to_args(&self) -> Vec<String> {
        DaemonArgs {
            params: self.params.clone(),
            debug: self.debug,
            ..DaemonArgs::default()
        }
        .option("state-dir", self.state_dir.to_string_lossy())
        .option("instance", &self.instance)
        .to_args(DAEMON_ARG)
    }

    fn parse(args: &[String]) -> Result<Options, String> {
        let parsed = DaemonArgs::parse(args, &["state-dir", "instance", "param"])?;
        Ok(Options {
            state_dir: PathBuf::from(parsed.required("state-dir")?),
            instance: parsed.required("instance")?,
            params: parsed.params,
            debug: parsed.debug,
        })
    }
}

/// Starts the daemon, detached, its output appended to `logfile`; returns its pid.
pub fn spawn(options: &Options, logfile: &Path) -> Result<u32, String> {
    ocf::daemon::spawn_detached(&options.to_args(), logfile)
}

/// The daemon's life: returns only when it cannot start.
pub fn main(args: &[String]) -> ExitCode {
    let options = match Options::parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("nova-evacuate: {e}");
            return ExitCode::from(2);
        }
    };
    ocf::daemon::become_daemon("nova-evacuate", options.debug);
    let mut params = options.params.clone();
    for name in SECRET_PARAMETERS {
        if let Ok(value) = std::env::var(format!("{}{name}", ocf::params::RESKEY_PREFIX)) {
            params.push((name.to_string(), value));
        }
    }
    let config = match Config::from_params(&params) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("{}", e.reason);
            return ExitCode::from(2);
        }
    };
    let pid_file = status::pid_file(&options.state_dir);
    if let Err(e) = ocf::daemon::write_pid_file(&pid_file) {
        tracing::error!("cannot write {}: {e}", pid_file.display());
        return ExitCode::from(1);
    }
    tracing::info!(
        "started: Keystone {} as user {} (project {}), every {} s, {} evacuations at once, default_ha={}",
        config.keystone.auth_url,
        config.keystone.username,
        config.keystone.project_name,
        config.interval.as_secs(),
        config.parallel,
        config.default_ha
    );
    let shared = Arc::new(Mutex::new(Status::starting(unix_now())));
    let status_file = status::status_file(&options.state_dir);
    write_status(&shared, &status_file);
    let (beat_shared, beat_file) = (shared.clone(), status_file.clone());
    let spawned = std::thread::Builder::new()
        .name("heartbeat".into())
        .spawn(move || loop {
            std::thread::sleep(HEARTBEAT);
            write_status(&beat_shared, &beat_file);
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the heartbeat: {e}");
        return ExitCode::from(1);
    }
    run(&config, &options, &shared, &status_file)
}

fn write_status(shared: &Mutex<Status>, path: &Path) {
    let status = shared.lock().unwrap_or_else(|p| p.into_inner()).clone();
    if let Err(e) = status.write(path) {
        tracing::warn!("cannot write {}: {e}", path.display());
    }
}

/// The logged-in session, renewed when its token is about to expire or was refused.
struct Cloud<'c> {
    config: &'c Config,
    session: Option<(Session, Nova, Option<Glance>)>,
}

impl Cloud<'_> {
    fn handles(&mut self) -> Result<(&Nova, Option<&Glance>), Error> {
        if self.session.as_ref().is_none_or(|(s, ..)| s.expires_soon()) {
            self.session = None;
            let session = Session::login(
                &self
                    .config
                    .keystone
                    .credentials(Deadline::after(REQUEST_TIMEOUT))?,
                &Deadline::after(REQUEST_TIMEOUT),
            )?;
            let nova = session.nova()?;
            let glance = match session.glance() {
                Ok(g) => Some(g),
                Err(e) => {
                    tracing::warn!("image properties cannot be read: {e}");
                    None
                }
            };
            tracing::debug!("logged in; Nova at {}", nova.endpoint());
            self.session = Some((session, nova, glance));
        }
        let (_, nova, glance) = self.session.as_ref().expect("just logged in");
        Ok((nova, glance.as_ref()))
    }

    fn forget(&mut self) {
        self.session = None;
    }
}

/// Errors that asking again will not cure: the credentials, the catalog, the settings.
pub fn is_configuration(error: &Error) -> bool {
    matches!(error, Error::Auth(_) | Error::Catalog(_) | Error::Config(_))
}

fn run(config: &Config, options: &Options, shared: &Mutex<Status>, status_file: &Path) -> ExitCode {
    let mut cloud = Cloud {
        config,
        session: None,
    };
    let mut evacuator = Evacuator::new(Settings {
        parallel: config.parallel,
        default_ha: config.default_ha,
        resource: options.instance.clone(),
        hosts: config.hosts.clone(),
    });
    // The start waits for this: logged in and allowed to list the services. A first look
    // that evacuates a host may take a while; the start need not wait for it.
    let first = cloud
        .handles()
        .and_then(|(nova, _)| nova.compute_services(&Deadline::after(REQUEST_TIMEOUT)));
    match first {
        Ok(_) => {
            let mut status = shared.lock().unwrap_or_else(|p| p.into_inner());
            status.link = Link::Ok;
            status.since = unix_now();
            status.last_ok = unix_now();
        }
        Err(e) => record_failure(shared, &mut cloud, e),
    }
    write_status(shared, status_file);
    let mut warmed: Option<Instant> = None;
    loop {
        let began = Instant::now();
        let result = cloud
            .handles()
            .and_then(|(nova, glance)| evacuator.look(nova, glance));
        let result = match result {
            // a token refused before it should have expired (revoked, Keystone restarted): log in again once
            Err(Error::Auth(_)) if cloud.session.is_some() => {
                cloud.forget();
                cloud
                    .handles()
                    .and_then(|(nova, glance)| evacuator.look(nova, glance))
            }
            other => other,
        };
        {
            let mut status = shared.lock().unwrap_or_else(|p| p.into_inner());
            let was = status.link;
            match result {
                Ok(look) => {
                    if look.token_refused {
                        cloud.forget();
                    }
                    if was != Link::Ok {
                        tracing::info!("Nova answers");
                        status.since = unix_now();
                        status.why.clear();
                    }
                    status.link = Link::Ok;
                    status.last_ok = unix_now();
                    status.hosts = look.hosts;
                    if !look.did.is_empty() {
                        status.last = look.did.join("; ");
                    }
                }
                Err(e) => {
                    drop(status);
                    record_failure(shared, &mut cloud, e);
                }
            }
        }
        write_status(shared, status_file);
        if warmed.is_none_or(|at| at.elapsed() >= WARM_UP_EVERY) {
            if let Ok((nova, _)) = cloud.handles() {
                // on the side: a look is never late for it
                let (nova, parallel) = (nova.clone(), config.parallel);
                let _ = std::thread::Builder::new()
                    .name("warm-up".into())
                    .spawn(move || warm_up(&nova, parallel));
                warmed = Some(Instant::now());
            }
        }
        std::thread::sleep(config.interval.saturating_sub(began.elapsed()));
    }
}

/// `parallel` cheap requests at once, now and then: a failure's burst of evacuation requests then
/// finds connections open and the token already validated by every API worker it reaches
/// (without memcached each nova-api worker validates a token with Keystone on its own and keeps
/// the answer 5 minutes). In the lab that validation costs over a second per worker.
fn warm_up(nova: &Nova, parallel: usize) {
    let requests = vec![(); parallel];
    let began = Instant::now();
    let answered = crate::pool::run(&requests, parallel, |_| {
        nova.compute_services(&Deadline::after(REQUEST_TIMEOUT))
            .is_ok()
    });
    tracing::debug!(
        "warm-up: {} of {parallel} requests answered in {} ms",
        answered.iter().filter(|ok| **ok).count(),
        began.elapsed().as_millis()
    );
}

/// A look that failed: the link's state and why (logged when it changes).
fn record_failure(shared: &Mutex<Status>, cloud: &mut Cloud, error: Error) {
    cloud.forget();
    let mut status = shared.lock().unwrap_or_else(|p| p.into_inner());
    let link = if is_configuration(&error) {
        Link::Refused
    } else {
        Link::Unreachable
    };
    let why = error.to_string();
    if status.link != link || status.why != why {
        tracing::warn!("{why}");
    }
    if status.link != link {
        status.since = unix_now();
    }
    status.link = link;
    status.why = why;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_round_trip_and_never_carry_the_password() {
        let params = vec![
            ("auth_url".to_string(), "http://k:5000/v3".to_string()),
            ("password".to_string(), "s3cret".to_string()),
            ("parallel".to_string(), "4".to_string()),
        ];
        let o = Options::new("/run/resource-agents".into(), "evac".into(), &params, true);
        let args = o.to_args();
        assert!(!args.iter().any(|a| a.contains("s3cret")), "{args:?}");
        assert_eq!(args[0], DAEMON_ARG);
        assert_eq!(Options::parse(&args[1..]), Ok(o));
        assert!(Options::parse(&["--bogus".into()]).is_err());
    }
}
