//! Framework for fence (STONITH) agents, following fence-agents' FenceAgentAPI.
//!
//! An agent supplies a [`FenceAgent`] (its extra options and how to connect) and a
//! [`FenceDevice`] (power status, set power, list). This crate owns everything else:
//! argv / stdin parsing with fence-agents' aliases, actions, metadata, the manpage,
//! delays, the "status first, act, wait, verify" power loop and exit codes.
//!
//! An agent's `main` is one line: `fn main() -> ExitCode { stonith::run(&MyAgent) }`.
//!
//! ```no_run
//! use stonith::*;
//!
//! struct Agent;
//! struct Device;
//!
//! // Each option is declared once, and read back by the same constant.
//! const LANPLUS: OptionSpec =
//!     OptionSpec::new("lanplus", OptionType::Boolean, "Use Lanplus").short('P');
//!
//! impl FenceAgent for Agent {
//!     fn info(&self) -> AgentInfo {
//!         AgentInfo { name: "fence_example", shortdesc: "Example", longdesc: "An example.",
//!                     vendor_url: "", multiple_plugs: false }
//!     }
//!     fn options(&self) -> Vec<OptionSpec> {
//!         // Add a row, or replace a common one by name (here: a different default port).
//!         vec![stonith::common::IPPORT.default("623"), LANPLUS]
//!     }
//!     fn connect(&self, options: &Options, _deadline: Deadline) -> Result<Box<dyn FenceDevice>, FenceError> {
//!         let _password = options.password(); // Option<&Secret>, after password_script / env
//!         let _lanplus: bool = options.flag(&LANPLUS);
//!         stonith::tracing::debug!("connected"); // shown with -v, written to debug_file
//!         Ok(Box::new(Device))
//!     }
//! }
//!
//! impl FenceDevice for Device {
//!     fn power_status(&mut self, _plug: Option<&str>, _deadline: Deadline) -> Result<PowerState, FenceError> {
//!         Ok(PowerState::On)
//!     }
//!     fn set_power(&mut self, _plug: Option<&str>, _action: PowerAction, _deadline: Deadline) -> Result<(), FenceError> {
//!         Ok(())
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     stonith::run(&Agent)
//! }
//! ```
//!
//! Lines an agent logs with `tracing` (re-exported as [`tracing`]) on the invocation's thread
//! are collected and written out by the framework after each device call: shown with `-v`,
//! written to `debug_file`, warnings always shown.

mod agent;
pub mod args;
pub mod common;
mod help;
pub mod log;
pub mod manpage;
pub mod metadata;
mod options;
pub mod password;
pub mod power;
mod run;

pub use agent::{AgentInfo, FenceAgent, FenceDevice, FenceError, Outlet, PowerAction, PowerState};
pub use common::{check_table, common_options, option_table, PASSWORD_ENV};
pub use options::{OptionSpec, OptionType, Options, ValueCheck};
#[cfg(feature = "tls")]
pub use paddock_base::tls;
pub use paddock_base::{command, resolve, safety_margin, xml, Deadline, Secret};
pub use run::{run, run_with, EXIT_ERROR, EXIT_OFF, EXIT_OK};
pub use tracing;
