//! The interface between the framework and one fence agent.

use crate::{Deadline, OptionSpec, Options};

/// What an agent says about itself in metadata and the manpage.
#[derive(Debug, Clone)]
pub struct AgentInfo {
    /// Installed name, e.g. `fence_paddock_ipmi`.
    pub name: &'static str,
    pub shortdesc: &'static str,
    pub longdesc: &'static str,
    pub vendor_url: &'static str,
    /// Whether the device controls several plugs, so `plug` is required (metadata `multiple`).
    pub multiple_plugs: bool,
}

/// A power state the device reported. Only an observed state counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerState {
    On,
    Off,
    /// On its way to On (Redfish `PoweringOn`): not yet on.
    PoweringOn,
    /// On its way to Off, e.g. a graceful shutdown (Redfish `PoweringOff`): still powered, so
    /// not off. Before acting, the framework waits (within `power_timeout`) for a transition to
    /// settle, then acts on the state it settled in.
    PoweringOff,
}

impl PowerState {
    /// On or Off, as opposed to on the way to one of them.
    pub fn is_settled(self) -> bool {
        matches!(self, PowerState::On | PowerState::Off)
    }

    /// How `status` and `list-status` name it: power is applied in every state but Off.
    pub fn name(self) -> &'static str {
        match self {
            PowerState::Off => "OFF",
            _ => "ON",
        }
    }
}

/// What the framework asks the device to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerAction {
    On,
    /// Hard power off.
    Off,
    /// A single power cycle (`method=cycle`).
    Cycle,
    /// ACPI soft shutdown request.
    Soft,
    /// Diagnostic interrupt (NMI), for a crash dump.
    Diag,
}

/// One plug / system of a device, for `list` and `list-status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outlet {
    pub id: String,
    pub alias: String,
    pub state: Option<PowerState>,
}

/// Why an operation on a device failed. The message is one line and safe to print:
/// it never contains a secret.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FenceError {
    /// The options do not make sense (missing ip, bad value...).
    #[error("{0}")]
    Config(String),
    /// The device refused our credentials.
    #[error("{0}")]
    Auth(String),
    /// No answer within the deadline.
    #[error("{0}")]
    Timeout(String),
    /// The device answered, but not as it should (protocol error, HTTP 500, bad completion code).
    #[error("{0}")]
    Device(String),
    /// The agent does not support that action.
    #[error("{0}")]
    Unsupported(String),
}

/// The agent: its identity, the options it adds, how it connects.
pub trait FenceAgent {
    fn info(&self) -> AgentInfo;

    /// Options this agent adds to the framework's common set, or replaces (same `name`)
    /// to change a default or description.
    fn options(&self) -> Vec<OptionSpec>;

    /// Whether the device supports `diag` (a diagnostic interrupt, `PowerAction::Diag`).
    /// Adds the `diag` action to metadata and dispatch.
    fn has_diag(&self) -> bool {
        false
    }

    /// Whether a reboot leaves the target off: for a device whose "on" is an unfencing that must
    /// wait for other work (a compute host stays forced down in Nova until its instances are
    /// evacuated). Then `reboot` is performed as `off`, and says so.
    fn reboot_is_off(&self) -> bool {
        false
    }

    /// Checks that the option table cannot express. Run before every action and by validate-all,
    /// after the password was resolved (`options.password()` is set when a source has one).
    fn validate(&self, _options: &Options) -> Result<(), FenceError> {
        Ok(())
    }

    /// Open a connection or session to the device; called once per invocation, after the
    /// password was resolved (`options.password()`). The deadline is `login_timeout`, capped
    /// by the invocation's overall deadline.
    fn connect(
        &self,
        options: &Options,
        deadline: Deadline,
    ) -> Result<Box<dyn FenceDevice>, FenceError>;
}

/// An open connection to a device. The framework calls `close` once at the end, whatever happened.
///
/// Each call's deadline is `shell_timeout` capped by the invocation's overall deadline (the
/// framework does the waiting and polling between calls); `close` gets what is left, at least
/// a moment. Log with `tracing::debug!` / `warn!` from the calling thread.
pub trait FenceDevice {
    fn power_status(
        &mut self,
        plug: Option<&str>,
        deadline: Deadline,
    ) -> Result<PowerState, FenceError>;

    /// Ask for a change; the framework then polls `power_status` until it sees the result.
    fn set_power(
        &mut self,
        plug: Option<&str>,
        action: PowerAction,
        deadline: Deadline,
    ) -> Result<(), FenceError>;

    fn list(&mut self, _deadline: Deadline) -> Result<Vec<Outlet>, FenceError> {
        Err(FenceError::Unsupported(
            "this device has no plugs to list".into(),
        ))
    }

    /// Release the session (BMCs have few slots). Best effort, bounded by the deadline.
    fn close(&mut self, _deadline: Deadline) {}
}
