//! fence_paddock_compute: fences an OpenStack compute host in Nova by forcing its nova-compute
//! service down (and back up when unfenced). Each module has one job; `agent` is the glue to the
//! stonith framework.

pub mod agent;
pub mod credentials;
pub mod device;

pub use agent::ComputeAgent;
