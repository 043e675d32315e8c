//! What other agents share with ocf:paddock:nova-evacuate: the Keystone credentials as OCF
//! parameters (procwatch uses them to disable a host's nova-compute service in Nova).
#![forbid(unsafe_code)]

pub mod credentials;
