//! `ocf:paddock:vm`: OCF resource agent for a libvirt virtual machine.
#![forbid(unsafe_code)]

pub mod activity;
pub mod agent;
pub mod domain_state;
pub mod domain_xml;
pub mod front;
pub mod health;
pub mod identity;
pub mod libvirt;
pub mod lifecycle;
pub mod migration;
pub mod params;
pub mod process_check;
pub mod remote;
pub mod shared_storage;
pub mod utilization;

pub use agent::VmAgent;
