//! Framework for fence (STONITH) agents, following fence-agents' FenceAgentAPI.
//!
//! An agent supplies a [`FenceAgent`] (its extra options and how to connect) and a
//! [`FenceDevice`] (power status, set power, list). This crate owns everything else:
//! argv / stdin parsing with fence-agents' aliases, actions, metadata, the manpage,
//! delays, the "status first, act, wait, verify" power loop and exit codes.
//!
//! An agent's `main` is one line: `fn main() -> ExitCode { stonith::run(&MyAgent) }`.

mod agent;
pub mod args;
pub mod common;
mod deadline;
mod help;
pub mod log;
pub mod manpage;
pub mod metadata;
pub mod password;
pub mod power;
mod run;
mod secret;

pub use agent::{
    AgentInfo, FenceAgent, FenceDevice, FenceError, OptionSpec, OptionType, Options, Outlet,
    PowerAction, PowerState,
};
pub use common::{check_table, common_options, option_table, PASSWORD_ENV};
pub use deadline::Deadline;
pub use run::{run, run_with, EXIT_ERROR, EXIT_OFF, EXIT_OK};
pub use secret::Secret;
