//! The interface between the framework and one fence agent.

use std::time::Duration;

use crate::{Deadline, Secret};

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

/// How an option's value is read and shown in metadata.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionType {
    Boolean,
    String,
    Integer,
    /// A number of seconds, possibly fractional (power_wait=0.5).
    Second,
    Select(&'static [&'static str]),
}

/// One row of the option table: the single source of parsing, validation, metadata and manpage.
#[derive(Debug, Clone)]
pub struct OptionSpec {
    /// Canonical stdin / metadata name, e.g. `ip`.
    pub name: &'static str,
    /// Other stdin names accepted with a deprecated="1" entry in metadata, e.g. `ipaddr`.
    pub deprecated_names: &'static [&'static str],
    /// Long command-line option without dashes, e.g. `ip` for `--ip`.
    pub long: &'static str,
    /// Short command-line option, e.g. Some('a') for `-a`.
    pub short: Option<char>,
    pub kind: OptionType,
    pub default: Option<&'static str>,
    pub required: bool,
    /// The value is a secret: stored as [`Secret`], never echoed.
    pub secret: bool,
    pub shortdesc: &'static str,
}

/// Parsed, validated options of one invocation.
#[derive(Debug, Clone, Default)]
pub struct Options {
    values: Vec<(String, String)>,
    secrets: Vec<(String, Secret)>,
}

impl Options {
    pub fn new() -> Self {
        Self::default()
    }

    /// Set (or replace) a plain option by canonical name.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.values.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.values.push((name.to_string(), value)),
        }
    }

    /// Set (or replace) a secret option by canonical name.
    pub fn set_secret(&mut self, name: &str, value: Secret) {
        match self.secrets.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.secrets.push((name.to_string(), value)),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn secret(&self, name: &str) -> Option<&Secret> {
        self.secrets.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// A boolean option; values were normalised to "1"/"0" by the parser.
    pub fn flag(&self, name: &str) -> bool {
        matches!(
            self.get(name),
            Some("1") | Some("true") | Some("yes") | Some("on")
        )
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values
            .iter()
            .map(|(n, _)| n.as_str())
            .chain(self.secrets.iter().map(|(n, _)| n.as_str()))
    }

    /// A `Second` option as a duration (the parser has already checked it).
    pub fn seconds(&self, name: &str) -> Option<Duration> {
        crate::args::parse_seconds(self.get(name)?).ok()
    }

    /// An `Integer` option (the parser has already checked it).
    pub fn integer(&self, name: &str) -> Option<i64> {
        self.get(name)?.trim().parse().ok()
    }

    /// The `plug` option, if given.
    pub fn plug(&self) -> Option<&str> {
        self.get("plug").filter(|p| !p.is_empty())
    }

    /// The login password after `password_script` / environment resolution.
    pub fn password(&self) -> Option<&Secret> {
        self.secret("password")
    }

    /// Plain values in insertion order, for logging (secrets are not included).
    pub fn plain_values(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Forget an option (used when an alias is resolved).
    pub fn remove(&mut self, name: &str) {
        self.values.retain(|(n, _)| n != name);
        self.secrets.retain(|(n, _)| n != name);
    }
}

impl OptionSpec {
    /// A row with no short option, no default, not required, not secret.
    pub const fn new(name: &'static str, kind: OptionType, shortdesc: &'static str) -> Self {
        OptionSpec {
            name,
            deprecated_names: &[],
            long: name,
            short: None,
            kind,
            default: None,
            required: false,
            secret: false,
            shortdesc,
        }
    }

    /// The `--long` form, with `_` written as `-` like fence-agents (`--power-timeout`).
    pub fn long_flag(&self) -> String {
        format!("--{}", self.long.replace('_', "-"))
    }
}

/// A power state the device reported. Only an observed state counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerState {
    On,
    Off,
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
/// a moment. Log with [`crate::log::debug`] from the calling thread.
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
