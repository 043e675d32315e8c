//! The interface between the framework and one resource agent: what it declares (info, parameter
//! and action tables) and the callbacks the runner dispatches to.

use crate::{Deadline, OcfError, OcfStatus};

/// What an agent says about itself in metadata.
#[derive(Debug, Clone)]
pub struct AgentInfo {
    /// Agent name as installed, e.g. `vm` (ocf:paddock:vm).
    pub name: &'static str,
    /// The OCF provider directory it is installed under, e.g. `paddock`.
    pub provider: &'static str,
    pub version: &'static str,
    pub shortdesc: &'static str,
    pub longdesc: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamType {
    String,
    Integer,
    Boolean,
    Select(&'static [&'static str]),
}

impl ParamType {
    /// The content type OCF 1.1 metadata names it by.
    pub fn ocf_name(&self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Integer => "integer",
            ParamType::Boolean => "boolean",
            ParamType::Select(_) => "select",
        }
    }
}

/// One row of the parameter table: the single source of `OCF_RESKEY_*` parsing, metadata and
/// the man page. Agents declare each as a constant and read values back by it (`ctx.flag(&X)`).
#[derive(Debug, Clone, Copy)]
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
    /// A value for the examples in the man page (required parameters show a placeholder without one).
    pub example: Option<&'static str>,
}

/// An action advertised in metadata with its default timeout (and interval / depth for monitor).
#[derive(Debug, Clone)]
pub struct ActionSpec {
    pub name: &'static str,
    pub timeout_secs: u32,
    pub interval_secs: Option<u32>,
    pub depth: Option<u32>,
}

impl ParameterSpec {
    /// An optional parameter without default; refine it with the builder methods below (all
    /// `const`, so a parameter can be a constant the agent reads it back by).
    pub const fn new(
        name: &'static str,
        kind: ParamType,
        shortdesc: &'static str,
        longdesc: &'static str,
    ) -> Self {
        ParameterSpec {
            name,
            kind,
            default: None,
            required: false,
            unique_group: None,
            reloadable: false,
            deprecated: None,
            shortdesc,
            longdesc,
            example: None,
        }
    }

    pub const fn default(mut self, value: &'static str) -> Self {
        self.default = Some(value);
        self
    }

    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Member of an OCF 1.1 unique-group: no two resources may share the group's values.
    pub const fn unique_group(mut self, group: &'static str) -> Self {
        self.unique_group = Some(group);
        self
    }

    /// Changeable without a restart (through reload-agent).
    pub const fn reloadable(mut self) -> Self {
        self.reloadable = true;
        self
    }

    /// Deprecated, with the parameter that replaces it (if any).
    pub const fn deprecated(mut self, replaced_by: Option<&'static str>) -> Self {
        self.deprecated = Some(replaced_by);
        self
    }

    /// A value for the man page's examples.
    pub const fn example(mut self, value: &'static str) -> Self {
        self.example = Some(value);
        self
    }
}

impl ActionSpec {
    pub const fn new(name: &'static str, timeout_secs: u32) -> Self {
        ActionSpec {
            name,
            timeout_secs,
            interval_secs: None,
            depth: None,
        }
    }
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
    /// The action as invoked (`status` is reported as `monitor`, `reload` stays `reload`).
    pub action: String,
    /// `OCF_RESKEY_CRM_meta_*` attributes, by name without the prefix (e.g. `migrate_target`).
    pub meta: Vec<(String, String)>,
    /// The operation timeout Pacemaker gave (or the metadata default), before the safety margin.
    pub timeout: std::time::Duration,
}

impl Context {
    /// The value of a parameter as given (after its default), if not blank.
    pub fn text(&self, spec: &ParameterSpec) -> Option<&str> {
        self.raw(spec).map(str::trim).filter(|v| !v.is_empty())
    }

    /// A parameter that must have a value; missing → ERR_CONFIGURED.
    pub fn required(&self, spec: &ParameterSpec) -> Result<&str, OcfError> {
        self.text(spec).ok_or_else(|| {
            OcfError::configured(format!("required parameter '{}' is not set", spec.name))
        })
    }

    /// A boolean parameter (Pacemaker spellings: true/false, yes/no, on/off, 1/0, y/n); unset → false.
    pub fn flag(&self, spec: &ParameterSpec) -> Result<bool, OcfError> {
        match self.text(spec) {
            None => Ok(false),
            Some(v) => crate::params::parse_bool(v).ok_or_else(|| {
                OcfError::configured(format!("parameter '{}': '{v}' is not a boolean", spec.name))
            }),
        }
    }

    /// A non-negative integer parameter; unset → None, anything else → ERR_CONFIGURED.
    pub fn unsigned(&self, spec: &ParameterSpec) -> Result<Option<u64>, OcfError> {
        match self.text(spec) {
            None => Ok(None),
            Some(v) => v.parse::<u64>().map(Some).map_err(|_| {
                OcfError::configured(format!(
                    "parameter '{}': '{v}' is not a non-negative integer",
                    spec.name
                ))
            }),
        }
    }

    /// The value as the framework collected it, else the declared default (contexts built
    /// by hand in tests have no defaults filled in).
    fn raw(&self, spec: &ParameterSpec) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == spec.name)
            .map(|(_, v)| v.as_str())
            .or(spec.default)
    }

    /// An `OCF_RESKEY_CRM_meta_*` attribute, by name without the prefix.
    pub fn meta(&self, name: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A context for unit tests of agents: given parameters, 20 s deadline, temp state dir.
    pub fn for_test(action: &str, params: &[(&str, &str)]) -> Context {
        let timeout = std::time::Duration::from_secs(20);
        Context {
            instance: "test".into(),
            deadline: Deadline::after(timeout),
            check_level: 0,
            is_probe: false,
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            state_dir: std::env::temp_dir(),
            action: action.into(),
            meta: Vec::new(),
            timeout,
        }
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
        Err(OcfError::unimplemented(
            "migrate_to is not supported by this agent",
        ))
    }
    fn migrate_from(&self, _ctx: &Context) -> Result<(), OcfError> {
        Err(OcfError::unimplemented(
            "migrate_from is not supported by this agent",
        ))
    }
    fn reload_agent(&self, _ctx: &Context) -> Result<(), OcfError> {
        Ok(())
    }
    fn notify(&self, _ctx: &Context) -> Result<(), OcfError> {
        Ok(())
    }
    /// `reload`: the service's native configuration changed. Defaults to reload-agent.
    fn reload(&self, ctx: &Context) -> Result<(), OcfError> {
        self.reload_agent(ctx)
    }

    /// Whether this instance runs, judged without usable parameters (from state recorded at start,
    /// e.g. under `HA_RSCTMP`). Consulted only for stop and probe when the parameters are invalid or
    /// the software is missing: Some(false) lets stop succeed and probe report NotRunning,
    /// Some(true) and None (cannot tell) keep the error for stop (so the cluster escalates).
    fn running_without_config(&self, _ctx: &Context) -> Option<bool> {
        None
    }
}
