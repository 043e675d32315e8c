//! The operator's side of Paddock: what `paddock` and `paddock-alert` are made of.

pub mod capacity;
pub mod cib;
pub mod history;
pub mod journal;
pub mod maintenance;
pub mod report;
pub mod scheduler;
