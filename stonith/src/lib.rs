//! Framework for fence (STONITH) agents, following fence-agents' FenceAgentAPI.
//!
//! An agent supplies a [`FenceAgent`] (its extra options and how to connect) and a
//! [`FenceDevice`] (power status, set power, list). This crate owns everything else:
//! argv / stdin parsing with fence-agents' aliases, actions, metadata, the manpage,
//! delays, the "status first, act, wait, verify" power loop and exit codes.

mod agent;
mod deadline;
mod secret;

pub use agent::{
    AgentInfo, FenceAgent, FenceDevice, FenceError, OptionSpec, OptionType, Options, Outlet,
    PowerAction, PowerState,
};
pub use deadline::Deadline;
pub use secret::Secret;
