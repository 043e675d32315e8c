//! Framework for OCF resource agents (OCF Resource Agent API 1.1).
//!
//! An agent supplies a [`ResourceAgent`]: its parameter table and the action callbacks.
//! This crate owns the rest: reading `OCF_RESKEY_*`, validation, metadata XML, dispatch,
//! the operation deadline, exit reasons, exit codes and logging.
//!
//! ```no_run
//! # struct MyAgent;
//! # fn main() -> std::process::ExitCode { todo!() }
//! // fn main() -> std::process::ExitCode { ocf::run(&MyAgent) }
//! ```
//! Log with `ocf::tracing::{info, warn, debug, error}!`: lines carry agent, instance and action.

mod agent;
pub mod conformance;
pub mod daemon;
mod env;
pub mod logging;
pub mod manpage;
pub mod metadata;
pub mod params;
mod runner;
mod status;

pub use agent::{ActionSpec, AgentInfo, Context, ParamType, ParameterSpec, ResourceAgent};
pub use env::Env;
pub use paddock_base::{command, resolve, safety_margin, xml, Deadline};
pub use runner::{
    default_timeout, run, run_captured, run_with, Captured, ACTIONS, DEFAULT_STATE_DIR,
};
pub use status::{OcfError, OcfStatus};
pub use tracing;
