//! The `vm` front end: what Pacemaker runs every few seconds (monitor, probes) and meta-data,
//! answered without the libvirt library, whose loading alone costs more CPU than a whole
//! monitor. Every other action, and a monitor whose URI needs the library (tls, ssh, SASL,
//! other drivers), is handed to the complete agent, `vm-libvirt`, by exec: same arguments, same
//! environment, same process.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

use ocf::{ActionSpec, AgentInfo, Context, OcfError, OcfStatus, ParameterSpec, ResourceAgent};

use crate::domain_state::LibvirtError;
use crate::remote::{Client, OpenError};
use crate::{agent, lifecycle, params};

/// Where `make install` puts the complete agent (outside resource.d, so that Pacemaker does not
/// list it as an agent of its own); the Makefile passes its LIBEXECDIR at build time.
pub const LIBEXEC_DIR: &str = match option_env!("PADDOCK_LIBEXECDIR") {
    Some(dir) => dir,
    None => "/usr/libexec/paddock",
};
const FULL_AGENT_NAME: &str = "vm-libvirt";

pub struct FrontAgent;

/// The complete agent: beside this binary (a build tree), else where it is installed.
fn full_agent() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(FULL_AGENT_NAME)))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(LIBEXEC_DIR).join(FULL_AGENT_NAME))
}

/// Replaces this process with the complete agent; returns only when that fails.
fn hand_over() -> OcfError {
    let path = full_agent();
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| "vm".into());
    let error = Command::new(&path).arg0(arg0).args(args).exec();
    OcfError::installed(format!("cannot run {}: {error}", path.display()))
}

impl ResourceAgent for FrontAgent {
    fn info(&self) -> AgentInfo {
        agent::info()
    }
    fn parameters(&self) -> Vec<ParameterSpec> {
        params::table()
    }
    fn actions(&self) -> Vec<ActionSpec> {
        agent::actions()
    }

    fn monitor(&self, ctx: &Context) -> Result<OcfStatus, OcfError> {
        let mut handed_over = None;
        let status =
            lifecycle::monitor_with(ctx, |uri, deadline| match Client::connect(uri, deadline) {
                Ok(client) => Ok(client),
                Err(OpenError::Libvirt(e)) => Err(e),
                Err(OpenError::NeedsLibrary(why)) => {
                    tracing::debug!("{why}");
                    handed_over = Some(hand_over());
                    Err(LibvirtError::Connect {
                        uri: uri.unwrap_or_default().to_string(),
                        message: "the complete agent could not be run".into(),
                    })
                }
            });
        match handed_over {
            Some(error) => Err(error),
            None => status,
        }
    }
    fn running_without_config(&self, ctx: &Context) -> Option<bool> {
        lifecycle::running_without_config(ctx)
    }

    fn validate(&self, _ctx: &Context) -> Result<(), OcfError> {
        Err(hand_over())
    }
    fn start(&self, _ctx: &Context) -> Result<(), OcfError> {
        Err(hand_over())
    }
    fn stop(&self, _ctx: &Context) -> Result<(), OcfError> {
        Err(hand_over())
    }
    fn migrate_to(&self, _ctx: &Context) -> Result<(), OcfError> {
        Err(hand_over())
    }
    fn migrate_from(&self, _ctx: &Context) -> Result<(), OcfError> {
        Err(hand_over())
    }
    fn reload_agent(&self, _ctx: &Context) -> Result<(), OcfError> {
        Err(hand_over())
    }
    fn notify(&self, _ctx: &Context) -> Result<(), OcfError> {
        Err(hand_over())
    }
    fn reload(&self, _ctx: &Context) -> Result<(), OcfError> {
        Err(hand_over())
    }
}
