//! fence_paddock_redfish: a Redfish fence agent. Each module has one job and is usable without
//! the stonith framework's life cycle; `agent` is the thin glue to it.

pub mod agent;
pub mod cache;
pub mod client;
pub mod endpoint;
pub mod error;
pub mod http;
pub mod pinning;
pub mod power;
pub mod session;
pub mod systems;
pub mod task;
pub mod tls;

pub use agent::RedfishAgent;
