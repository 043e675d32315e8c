//! nova-evacuate as an OCF resource agent: start runs the evacuation daemon and waits for its
//! first look at Nova (wrong credentials fail the start), stop ends it, monitor reads its
//! status file (no request to the cloud in monitor).

use std::path::Path;
use std::time::Duration;

use ocf::daemon::{alive, heartbeat_is_stale, unix_now};
use ocf::{ActionSpec, AgentInfo, Context, OcfError, OcfStatus, ParameterSpec, ResourceAgent};
use paddock_base::logging::UtcTime;

use crate::config::{self, Config};
use crate::daemon::{self, Options, DAEMON_ARG};
use crate::status::{self, Link, Status};

const POLL: Duration = Duration::from_millis(50);
/// A status file older than this means a hung or dead daemon (it is rewritten every second).
const HEARTBEAT_LIMIT: Duration = Duration::from_secs(15);

pub struct NovaEvacuate;

const LONGDESC: &str = "Run one instance of it in the cluster (a primitive, never a clone: two would evacuate the same \
instances twice). A daemon looks at Nova every interval seconds; Nova itself is its work list, nothing is kept in the \
cluster. A nova-compute service that is forced down is a host the fencing has confirmed dead (fence_paddock_compute \
forces it down once the host is fenced): the daemon evacuates every instance still on that host that is not already \
being rebuilt and whose HA policy says yes, at most parallel requests at once, and lets Nova's scheduler choose the \
target hosts. Then it marks the host done in Nova: it disables the host's nova-compute service with a disabled_reason \
that starts with 'paddock-evacuate:' and says how many instances were evacuated, left by policy and failed, and when \
(a service that was disabled before keeps its old reason after '| was disabled:'). A marked host is not evacuated again; \
once the fence agent's on has unforced the service, the daemon enables it again (or restores the old reason). A \
restarted daemon, on any node, finds the same work in Nova. \
HA policy, per instance: the key paddock:ha (true or false; or evacuable as fence_evacuate knows it: empty or true \
means HA) is looked up in the instance's metadata, then its flavor's extra specs, then its image's properties, then the \
metadata of the failed host's aggregates (an availability zone is an aggregate too; aggregates that disagree decide \
nothing); the first that says something decides, else default_ha. Every decision is logged with its source; instances \
left by policy are reported once per host in the log and the event journal. \
Nova's refusal to evacuate an instance (409, e.g. a task under way) is reported and not asked again; a request without \
an answer is asked again at the next look (5 times at most) and the host is marked only when every instance has an \
answer. While Keystone or Nova do not answer, monitor reports degraded with the reason, and fails after \
unreachable_limit seconds so that Pacemaker restarts or moves the agent. Credentials Keystone refuses fail the start \
with OCF_ERR_CONFIGURED.";

impl ResourceAgent for NovaEvacuate {
    fn info(&self) -> AgentInfo {
        AgentInfo {
            name: "nova-evacuate",
            provider: "paddock",
            version: env!("CARGO_PKG_VERSION"),
            shortdesc: "Rebuilds the instances of fenced OpenStack compute hosts elsewhere, by per-instance HA policy",
            longdesc: LONGDESC,
        }
    }

    fn parameters(&self) -> Vec<ParameterSpec> {
        config::parameters()
    }

    fn actions(&self) -> Vec<ActionSpec> {
        vec![
            ActionSpec::new("start", 30),
            ActionSpec::new("stop", 20),
            ActionSpec {
                interval_secs: Some(10),
                depth: Some(0),
                ..ActionSpec::new("monitor", 20)
            },
            ActionSpec::new("validate-all", 20),
            ActionSpec::new("meta-data", 5),
        ]
    }

    fn validate(&self, ctx: &Context) -> Result<(), OcfError> {
        let config = Config::from_params(&ctx.params)?;
        config.keystone.check_files()
    }

    fn start(&self, ctx: &Context) -> Result<(), OcfError> {
        let config = Config::from_params(&ctx.params)?;
        config.keystone.check_files()?;
        if let Some(pid) = running_daemon(&ctx.state_dir) {
            tracing::info!("the evacuation daemon already runs (pid {pid})");
            return Ok(());
        }
        let options = Options::new(
            ctx.state_dir.clone(),
            ctx.instance.clone(),
            &ctx.params,
            std::env::var("HA_debug").is_ok_and(|v| v.trim() == "1"),
        );
        let status_file = status::status_file(&ctx.state_dir);
        let _ = std::fs::remove_file(&status_file);
        let pid = daemon::spawn(&options, &config.logfile).map_err(OcfError::generic)? as i32;
        // Started once it has looked at Nova once (or the start's time is up).
        loop {
            match Status::read(&status_file) {
                Some(s) if s.link == Link::Ok => break,
                Some(s) if s.link == Link::Refused => {
                    let _ = stop_daemon(ctx);
                    return Err(OcfError::configured(s.why));
                }
                Some(s) if s.link == Link::Unreachable => {
                    tracing::warn!("started, but the cloud does not answer yet: {}", s.why);
                    break;
                }
                _ => {}
            }
            if !alive(pid) {
                return Err(OcfError::generic(format!(
                    "the evacuation daemon (pid {pid}) exited at start; see {}",
                    config.logfile.display()
                )));
            }
            if ctx.deadline.expired() {
                tracing::warn!("started, but its first look at Nova has not finished within the start's timeout");
                break;
            }
            std::thread::sleep(POLL);
        }
        tracing::info!(
            "the evacuation daemon runs (pid {pid}), logging to {}",
            config.logfile.display()
        );
        Ok(())
    }

    fn stop(&self, ctx: &Context) -> Result<(), OcfError> {
        stop_daemon(ctx)
    }

    fn monitor(&self, ctx: &Context) -> Result<OcfStatus, OcfError> {
        let config = Config::from_params(&ctx.params)?;
        let Some(pid) = running_daemon(&ctx.state_dir) else {
            return Ok(OcfStatus::NotRunning);
        };
        let path = status::status_file(&ctx.state_dir);
        // A machine that was paused makes every file look old at once: look again for a few
        // heartbeats before calling the daemon hung.
        let recheck = ctx.deadline.capped(Duration::from_secs(3));
        if heartbeat_is_stale(&path, HEARTBEAT_LIMIT, recheck) {
            return Err(OcfError::generic(format!(
                "the evacuation daemon (pid {pid}) has not updated {} for over {} s: hung",
                path.display(),
                HEARTBEAT_LIMIT.as_secs()
            )));
        }
        let Some(status) = Status::read(&path) else {
            return Err(OcfError::generic(format!(
                "{} is unreadable",
                path.display()
            )));
        };
        let since = UtcTime::from_unix_secs(status.since).readable();
        match status.link {
            Link::Ok | Link::Starting => Ok(OcfStatus::Success),
            Link::Refused => Err(OcfError::generic(format!(
                "refused since {since}: {}",
                status.why
            ))),
            Link::Unreachable => {
                let down_for = Duration::from_secs(unix_now().saturating_sub(status.since));
                let reason = format!("no answer from the cloud since {since}: {}", status.why);
                match config.unreachable_limit {
                    Some(limit) if down_for >= limit => Err(OcfError::generic(format!(
                        "{reason} (over unreachable_limit={} s)",
                        limit.as_secs()
                    ))),
                    _ => Err(OcfError::degraded(reason)),
                }
            }
        }
    }

    fn running_without_config(&self, ctx: &Context) -> Option<bool> {
        Some(running_daemon(&ctx.state_dir).is_some())
    }
}

fn stop_daemon(ctx: &Context) -> Result<(), OcfError> {
    if let Some(pid) = running_daemon(&ctx.state_dir) {
        ocf::daemon::stop_daemon(pid, "the evacuation daemon", ctx.deadline)
            .map_err(OcfError::generic)?;
    }
    let _ = std::fs::remove_file(status::pid_file(&ctx.state_dir));
    let _ = std::fs::remove_file(status::status_file(&ctx.state_dir));
    Ok(())
}

/// The daemon's pid, if one runs (the pid file names a live process that is our daemon).
fn running_daemon(state_dir: &Path) -> Option<i32> {
    ocf::daemon::running_daemon(&status::pid_file(state_dir), &[DAEMON_ARG])
}
