//! The interface between the framework and one resource agent.
//! (Sketch of the contract; the framework behind it is built in this crate.)

use crate::{Deadline, OcfError, OcfStatus};

/// What an agent says about itself in metadata.
#[derive(Debug, Clone)]
pub struct AgentInfo {
    /// Agent name as installed, e.g. `vm` (ocf:paddock:vm).
    pub name: &'static str,
    pub version: &'static str,
    pub shortdesc: &'static str,
    pub longdesc: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ParamType {
    String,
    Integer,
    Boolean,
    Select(&'static [&'static str]),
}

/// One row of the parameter table: the single source of `OCF_RESKEY_*` parsing and metadata.
#[derive(Debug, Clone)]
pub struct ParameterSpec {
    pub name: &'static str,
    pub kind: ParamType,
    pub default: Option<&'static str>,
    pub required: bool,
    /// Name of a unique-group (OCF 1.1), if any.
    pub unique_group: Option<&'static str>,
    pub reloadable: bool,
    /// Deprecated, with the parameter that replaces it (if any).
    pub deprecated: Option<Option<&'static str>>,
    pub shortdesc: &'static str,
    pub longdesc: &'static str,
}

/// An action advertised in metadata with its default timeout (and interval / depth for monitor).
#[derive(Debug, Clone)]
pub struct ActionSpec {
    pub name: &'static str,
    pub timeout_secs: u32,
    pub interval_secs: Option<u32>,
    pub depth: Option<u32>,
}

/// Everything an action needs to know about its invocation.
#[derive(Debug, Clone)]
pub struct Context {
    /// Resource instance name (`OCF_RESOURCE_INSTANCE`).
    pub instance: String,
    /// Deadline from `OCF_RESKEY_CRM_meta_timeout` (or the action's metadata default).
    pub deadline: Deadline,
    /// `OCF_CHECK_LEVEL`, 0 if unset.
    pub check_level: u32,
    /// True for a probe: monitor with `OCF_RESKEY_CRM_meta_interval` = 0.
    pub is_probe: bool,
    /// Parameters after defaults, by name.
    pub params: Vec<(String, String)>,
    /// Directory for per-resource state (`HA_RSCTMP`).
    pub state_dir: std::path::PathBuf,
}

impl Context {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// An OCF resource agent. Unimplemented optional actions return ERR_UNIMPLEMENTED.
pub trait ResourceAgent {
    fn info(&self) -> AgentInfo;
    fn parameters(&self) -> Vec<ParameterSpec>;
    fn actions(&self) -> Vec<ActionSpec>;

    /// validate-all; the framework also runs it before start (and before other actions as the agent chooses).
    fn validate(&self, ctx: &Context) -> Result<(), OcfError>;
    fn start(&self, ctx: &Context) -> Result<(), OcfError>;
    fn stop(&self, ctx: &Context) -> Result<(), OcfError>;
    /// Ok(Success), Ok(NotRunning), Ok(Degraded)...; Err for a failure with an exit reason.
    fn monitor(&self, ctx: &Context) -> Result<OcfStatus, OcfError>;

    fn migrate_to(&self, _ctx: &Context) -> Result<(), OcfError> {
        Err(OcfError::unimplemented("migrate_to is not supported by this agent"))
    }
    fn migrate_from(&self, _ctx: &Context) -> Result<(), OcfError> {
        Err(OcfError::unimplemented("migrate_from is not supported by this agent"))
    }
    fn reload_agent(&self, _ctx: &Context) -> Result<(), OcfError> {
        Ok(())
    }
    fn notify(&self, _ctx: &Context) -> Result<(), OcfError> {
        Ok(())
    }
}
