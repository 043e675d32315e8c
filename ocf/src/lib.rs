//! Framework for OCF resource agents (OCF Resource Agent API 1.1).
//!
//! An agent supplies a [`ResourceAgent`]: its parameter table and the action callbacks.
//! This crate owns the rest: reading `OCF_RESKEY_*`, validation, metadata XML, dispatch,
//! the operation deadline, exit reasons, exit codes and logging.

mod agent;
mod deadline;
mod status;

pub use agent::{ActionSpec, AgentInfo, Context, ParamType, ParameterSpec, ResourceAgent};
pub use deadline::Deadline;
pub use status::{OcfError, OcfStatus};
