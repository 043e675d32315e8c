//! The operator's side of Paddock: what `paddock` and `paddock-alert` are made of.

pub mod capacity;
pub mod cib;
pub mod history;
pub mod maintenance;
pub mod placement;
pub mod report;
pub mod rules;
pub mod scheduler;

/// The event journal lives in the base crate: the agents write their decisions into it too.
pub use paddock_base::journal;
