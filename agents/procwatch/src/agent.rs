//! procwatch as an OCF resource agent: the framework calls these; the work is in `service`.

use crate::config::{self, Config};
use crate::nova::NovaLink;
use crate::service;
use ocf::{ActionSpec, AgentInfo, Context, OcfError, OcfStatus, ParameterSpec, ResourceAgent};
use std::time::Duration;

pub struct ProcWatch;

impl ResourceAgent for ProcWatch {
    fn info(&self) -> AgentInfo {
        AgentInfo {
            name: "procwatch",
            provider: "paddock",
            version: env!("CARGO_PKG_VERSION"),
            shortdesc: "Starts, watches and restarts a host service (nova-compute, vdsm, libvirtd...)",
            longdesc: "Runs a host service as a proper daemon (own session, clean environment, chosen user, log file), \
                       finds it again by pid file or process match, guards against PID reuse with the process start time, \
                       reports a zombie or stopped process as a failure, and checks it with an exec, TCP or HTTP probe \
                       (optionally reporting degraded, OCF 1.1 code 190). Clone it on every compute node so Pacemaker \
                       restarts a dead nova-compute, vdsm or libvirtd, like Masakari's process monitor. \
                       With Keystone credentials (auth_url...), a start that fails disables this host's nova-compute \
                       service in Nova with a disabled_reason starting 'paddock-procwatch:', and a start that succeeds \
                       enables it again if that reason is still its own.",
        }
    }

    fn parameters(&self) -> Vec<ParameterSpec> {
        config::parameters()
    }

    fn actions(&self) -> Vec<ActionSpec> {
        vec![
            ActionSpec::new("start", 60),
            ActionSpec::new("stop", 60),
            ActionSpec {
                interval_secs: Some(10),
                depth: Some(0),
                ..ActionSpec::new("monitor", 20)
            },
            ActionSpec {
                interval_secs: Some(30),
                depth: Some(10),
                ..ActionSpec::new("monitor", 30)
            },
            ActionSpec::new("status", 20),
            ActionSpec::new("validate-all", 20),
            ActionSpec::new("reload-agent", 10),
            ActionSpec::new("meta-data", 5),
        ]
    }

    fn validate(&self, ctx: &Context) -> Result<(), OcfError> {
        if let Some(link) = NovaLink::from_context(ctx)? {
            link.check_files()?;
        }
        service::validate(&Config::from_context(ctx)?)
    }

    /// With Nova credentials, a start that fails disables this host's nova-compute service in
    /// Nova and one that succeeds enables it again (see `nova`): part of the start's time is
    /// kept for that.
    fn start(&self, ctx: &Context) -> Result<(), OcfError> {
        let config = Config::from_context(ctx)?;
        let Some(link) = NovaLink::from_context(ctx)? else {
            return service::start(&config, ctx);
        };
        let reserve = (ctx.timeout / 5)
            .clamp(Duration::from_secs(2), Duration::from_secs(10))
            .min(ctx.deadline.remaining() / 2);
        let mut service_ctx = ctx.clone();
        service_ctx.deadline = ctx
            .deadline
            .capped(ctx.deadline.remaining().saturating_sub(reserve));
        match service::start(&config, &service_ctx) {
            Ok(()) => {
                link.after_running(true, ctx.deadline);
                Ok(())
            }
            Err(e) => {
                link.after_failed_start(&e.one_line_reason(), ctx.deadline);
                Err(e)
            }
        }
    }

    fn stop(&self, ctx: &Context) -> Result<(), OcfError> {
        service::stop(&Config::from_context(ctx)?, ctx)
    }

    fn monitor(&self, ctx: &Context) -> Result<OcfStatus, OcfError> {
        let status = service::monitor(&Config::from_context(ctx)?, ctx)?;
        // A start that failed disabled nova-compute in Nova and could not enable it again then.
        if status == OcfStatus::Success {
            if let Ok(Some(link)) = NovaLink::from_context(ctx) {
                link.after_running(false, ctx.deadline);
            }
        }
        Ok(status)
    }

    /// Every parameter is read afresh by each action, so reloadable ones need no work.
    fn reload_agent(&self, ctx: &Context) -> Result<(), OcfError> {
        Config::from_context(ctx).map(|_| ())
    }

    fn running_without_config(&self, ctx: &Context) -> Option<bool> {
        Some(service::running_per_state(ctx))
    }
}
