//! A small blocking OpenStack client for Paddock's agents: Keystone v3 login (password or
//! application credential), the service catalog, and the few Nova and Glance calls that
//! instance HA needs. Every call takes a [`Deadline`] and returns before it; secrets never
//! appear in Debug output, errors or logs. A short-lived program (a fence agent) may keep its
//! token between runs with [`TokenCache`] and [`Session::login_cached`].
//!
//! Nova is spoken to with microversion [`NOVA_MICROVERSION`] (2.53, see `nova`'s notes).
//!
//! ```no_run
//! use openstack::{Credentials, Session, Deadline};
//! use std::time::Duration;
//! let credentials = Credentials::password("http://keystone:5000/v3", "admin",
//!     openstack::Secret::new("pw"), "admin");
//! let deadline = Deadline::after(Duration::from_secs(10));
//! let session = Session::login(&credentials, &deadline)?;
//! let nova = session.nova()?;
//! for service in nova.compute_services(&deadline)? {
//!     println!("{} forced_down={}", service.host, service.forced_down);
//! }
//! # Ok::<(), openstack::Error>(())
//! ```

mod cache;
mod catalog;
mod error;
mod glance;
mod hosts;
mod http;
mod keystone;
mod nova;
#[cfg(feature = "ocf")]
pub mod ocf_credentials;
#[cfg(feature = "testlab")]
pub mod testlab;
mod time;
mod tls;

pub use cache::TokenCache;
pub use catalog::Interface;
pub use error::Error;
pub use glance::Glance;
pub use hosts::find_compute_service;
pub use keystone::{Credentials, Session};
pub use nova::{
    Aggregate, ComputeService, Migration, Nova, Server, ServiceState, ServiceStatus,
    NOVA_MICROVERSION,
};
pub use paddock_base::{Deadline, Secret};
pub use tls::Trust;
