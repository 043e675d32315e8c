//! `ocf:paddock:vm`: the agent as the framework sees it (metadata and action dispatch).

use ocf::{ActionSpec, AgentInfo, Context, OcfError, OcfStatus, ParameterSpec, ResourceAgent};

use crate::activity::Phase;
use crate::{lifecycle, params};

pub struct VmAgent;

impl ResourceAgent for VmAgent {
    fn info(&self) -> AgentInfo {
        info()
    }

    fn parameters(&self) -> Vec<ParameterSpec> {
        params::table()
    }

    fn actions(&self) -> Vec<ActionSpec> {
        actions()
    }

    fn validate(&self, ctx: &Context) -> Result<(), OcfError> {
        lifecycle::validate(ctx)
    }
    fn start(&self, ctx: &Context) -> Result<(), OcfError> {
        lifecycle::tracked(ctx, Phase::Starting, Some(Phase::Running), None, || {
            lifecycle::start(ctx)
        })
    }
    fn stop(&self, ctx: &Context) -> Result<(), OcfError> {
        lifecycle::tracked(ctx, Phase::Stopping, None, None, || lifecycle::stop(ctx))
    }
    fn monitor(&self, ctx: &Context) -> Result<OcfStatus, OcfError> {
        lifecycle::monitor(ctx)
    }
    fn migrate_to(&self, ctx: &Context) -> Result<(), OcfError> {
        // A failed migration leaves the guest here: its failures are failures again.
        lifecycle::tracked(ctx, Phase::Migrating, None, Some(Phase::Running), || {
            lifecycle::migrate_to(ctx)
        })
    }
    fn migrate_from(&self, ctx: &Context) -> Result<(), OcfError> {
        lifecycle::tracked(ctx, Phase::Starting, Some(Phase::Running), None, || {
            lifecycle::migrate_from(ctx)
        })
    }
    fn running_without_config(&self, ctx: &Context) -> Option<bool> {
        lifecycle::running_without_config(ctx)
    }
}

/// Who the agent is, for both the front end and the complete agent.
pub fn info() -> AgentInfo {
    AgentInfo {
        name: "vm",
        provider: "paddock",
        version: env!("CARGO_PKG_VERSION"),
        shortdesc: "Manages a libvirt virtual machine (parameter-compatible with VirtualDomain)",
        longdesc: "Starts a virtual machine as a transient libvirt domain from its XML config, \
                   stops it gracefully (shutdown_mode) with a guaranteed share of the timeout for \
                   destroy, monitors it (a guest paused on an I/O error, a watchdog or a panic is a \
                   failure) and live-migrates it peer to peer. Every libvirt call is bounded by the \
                   operation timeout; when libvirtd does not answer, monitor checks the qemu process.",
    }
}

pub fn actions() -> Vec<ActionSpec> {
    vec![
        ActionSpec::new("start", 90),
        ActionSpec::new("stop", 90),
        ActionSpec {
            interval_secs: Some(10),
            depth: Some(0),
            ..ActionSpec::new("status", 30)
        },
        ActionSpec {
            interval_secs: Some(10),
            depth: Some(0),
            ..ActionSpec::new("monitor", 30)
        },
        ActionSpec::new("migrate_from", 60),
        ActionSpec::new("migrate_to", 120),
        ActionSpec::new("meta-data", 5),
        ActionSpec::new("validate-all", 5),
    ]
}
