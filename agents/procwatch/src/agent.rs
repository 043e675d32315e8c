//! procwatch as an OCF resource agent: the framework calls these; the work is in `service`.

use crate::config::{self, Config};
use crate::service;
use ocf::{ActionSpec, AgentInfo, Context, OcfError, OcfStatus, ParameterSpec, ResourceAgent};

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
                       restarts a dead nova-compute, vdsm or libvirtd, like Masakari's process monitor.",
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
        service::validate(&Config::from_context(ctx)?)
    }

    fn start(&self, ctx: &Context) -> Result<(), OcfError> {
        service::start(&Config::from_context(ctx)?, ctx)
    }

    fn stop(&self, ctx: &Context) -> Result<(), OcfError> {
        service::stop(&Config::from_context(ctx)?, ctx)
    }

    fn monitor(&self, ctx: &Context) -> Result<OcfStatus, OcfError> {
        service::monitor(&Config::from_context(ctx)?, ctx)
    }

    /// Every parameter is read afresh by each action, so reloadable ones need no work.
    fn reload_agent(&self, ctx: &Context) -> Result<(), OcfError> {
        Config::from_context(ctx).map(|_| ())
    }

    fn running_without_config(&self, ctx: &Context) -> Option<bool> {
        Some(service::running_per_state(ctx))
    }
}
