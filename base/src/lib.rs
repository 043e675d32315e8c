//! The base under both agent frameworks (`ocf`, `stonith`): what an OCF agent and a fence agent
//! need alike. Each framework re-exports these, so an agent depends on its framework only.

pub mod command;
mod deadline;
pub mod journal;
pub mod logging;
mod resolve;
pub mod roff;
mod secret;
#[cfg(feature = "tls")]
pub mod tls;
pub mod xml;

pub use deadline::{safety_margin, Deadline};
pub use resolve::resolve;
pub use secret::Secret;
