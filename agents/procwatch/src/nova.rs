//! nova-compute in Nova: with Keystone credentials (optional parameters, the names of
//! ocf:paddock:nova-evacuate and fence_paddock_compute), a service that cannot be started on
//! this host has the host's nova-compute service disabled in Nova, with a disabled_reason that
//! starts with `paddock-procwatch: INSTANCE:`, so that the scheduler sends no new instance
//! here; once the service runs again, the service is enabled again — only if the reason is
//! still ours (an operator's or nova-evacuate's reason is never overwritten or cleared).
//! Without auth_url nothing here runs.

use std::path::PathBuf;
use std::time::Duration;

use ocf::tracing::{info, warn};
use ocf::{Context, Deadline, OcfError, ParamType, ParameterSpec};
use openstack::ocf_credentials::{self as credentials, Keystone};
use openstack::{find_compute_service, ComputeService, Nova, ServiceStatus, Session};
use paddock_base::journal;

pub const PREFIX: &str = "paddock-procwatch:";
/// Nova's limit on disabled_reason.
const MAX_REASON: usize = 255;
/// What one conversation with Nova (login, list, change) may take at most.
const NOVA_TIME: Duration = Duration::from_secs(10);

pub const NOVA_HOST: ParameterSpec = ParameterSpec::new(
    "nova_host",
    ParamType::String,
    "This host's name in Nova",
    "The host name of this node's nova-compute service in Nova (the host option of nova.conf). \
     Default: this node's host name (its short form matches too). Used only with auth_url.",
);

/// The credential parameters (all optional here) and nova_host.
pub fn parameters() -> Vec<ParameterSpec> {
    let mut all = credentials::parameters(false);
    all.push(NOVA_HOST);
    all
}

pub struct NovaLink {
    keystone: Keystone,
    nova_host: Option<String>,
    instance: String,
    /// Present while the service stays disabled by us and must be enabled once it runs.
    marker: PathBuf,
}

impl NovaLink {
    /// None unless auth_url is set.
    pub fn from_context(ctx: &Context) -> Result<Option<NovaLink>, OcfError> {
        let Some(keystone) = Keystone::from_params(&ctx.params)? else {
            return Ok(None);
        };
        let safe: String = ctx
            .instance
            .chars()
            .map(|c| if c == '/' || c.is_control() { '_' } else { c })
            .collect();
        Ok(Some(NovaLink {
            keystone,
            nova_host: ctx.text(&NOVA_HOST).map(str::to_string),
            instance: ctx.instance.clone(),
            marker: ctx
                .state_dir
                .join(format!("procwatch-{safe}.nova-disabled")),
        }))
    }

    pub fn check_files(&self) -> Result<(), OcfError> {
        self.keystone.check_files()
    }

    fn own_prefix(&self) -> String {
        format!("{PREFIX} {}:", self.instance)
    }

    fn reason(&self, why: &str) -> String {
        // the service's own log line stays out of Nova (anyone with the services API reads it)
        let why = why.split("; last log line:").next().unwrap_or(why);
        let mut text = format!("{} could not be started: {why}", self.own_prefix());
        let mut cut = text.len().min(MAX_REASON);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text
    }

    fn connect(&self, deadline: Deadline) -> Result<(Nova, ComputeService), String> {
        let credentials = self
            .keystone
            .credentials(deadline)
            .map_err(|e| e.to_string())?;
        let session = Session::login(&credentials, &deadline).map_err(|e| e.to_string())?;
        let nova = session.nova().map_err(|e| e.to_string())?;
        let services = nova
            .compute_services(&deadline)
            .map_err(|e| e.to_string())?;
        let hostname = nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default();
        let service = pick_service(&services, self.nova_host.as_deref(), &hostname)
            .cloned()
            .map_err(|e| format!("{e}: set nova_host"))?;
        Ok((nova, service))
    }

    /// After a failed start: disable the host's service, unless something else disabled it.
    pub fn after_failed_start(&self, why: &str, deadline: Deadline) {
        let deadline = deadline.capped(NOVA_TIME);
        let result = self.connect(deadline).and_then(|(nova, service)| {
            if service.status == ServiceStatus::Disabled {
                let reason = service.disabled_reason.clone().unwrap_or_default();
                if !reason.starts_with(&self.own_prefix()) {
                    info!(
                        "nova-compute on {} is disabled already ({reason}): left as it is",
                        service.host
                    );
                    return Ok(None);
                }
            }
            nova.set_disabled(&service.id, Some(&self.reason(why)), &deadline)
                .map_err(|e| e.to_string())?;
            Ok(Some(service.host))
        });
        match result {
            Ok(Some(host)) => {
                let _ = std::fs::write(&self.marker, format!("{host}\n"));
                let what = format!(
                    "nova-compute on {host} disabled in Nova: the service could not be started"
                );
                warn!("{what}");
                journal::record_decision("procwatch", None, &self.instance, "nova-disable", &what);
            }
            Ok(None) => {}
            Err(e) => warn!("the service could not be started, and Nova could not be told: {e}"),
        }
    }

    /// The service runs: enable the host's service again if it is disabled with our reason.
    /// `always`: ask Nova even without our marker (at start: the marker under HA_RSCTMP does not
    /// survive a reboot, Nova's reason does).
    pub fn after_running(&self, always: bool, deadline: Deadline) {
        if !always && !self.marker.exists() {
            return;
        }
        let deadline = deadline.capped(NOVA_TIME);
        let result = self.connect(deadline).and_then(|(nova, service)| {
            let ours = service.status == ServiceStatus::Disabled
                && service
                    .disabled_reason
                    .as_deref()
                    .is_some_and(|r| r.starts_with(&self.own_prefix()));
            if ours {
                nova.set_disabled(&service.id, None, &deadline)
                    .map_err(|e| e.to_string())?;
                return Ok(Some(service.host));
            }
            Ok(None)
        });
        match result {
            Ok(enabled) => {
                let _ = std::fs::remove_file(&self.marker);
                if let Some(host) = enabled {
                    let what =
                        format!("nova-compute on {host} enabled again in Nova: the service runs");
                    info!("{what}");
                    journal::record_decision(
                        "procwatch",
                        None,
                        &self.instance,
                        "nova-enable",
                        &what,
                    );
                }
            }
            // the marker stays: the next monitor tries again
            Err(e) => warn!("the service runs, but Nova could not be told: {e}"),
        }
    }
}

/// This host's nova-compute service: the one named `wanted` (nova_host), else the one named like
/// this machine (full name or short form; see [`find_compute_service`]).
pub fn pick_service<'s>(
    services: &'s [ComputeService],
    wanted: Option<&str>,
    hostname: &str,
) -> Result<&'s ComputeService, String> {
    find_compute_service(services, wanted.unwrap_or(hostname), None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openstack::ServiceState;

    fn service(host: &str) -> ComputeService {
        ComputeService {
            id: format!("id-{host}"),
            host: host.into(),
            zone: "nova".into(),
            status: ServiceStatus::Enabled,
            state: ServiceState::Up,
            forced_down: false,
            disabled_reason: None,
            updated_at: None,
        }
    }

    #[test]
    fn the_host_is_found_by_nova_host_or_by_this_machine_s_name() {
        let all = vec![
            service("compute1.example.com"),
            service("compute2"),
            service("compute3"),
        ];
        assert_eq!(
            pick_service(&all, Some("compute3"), "node9").unwrap().host,
            "compute3"
        );
        assert!(pick_service(&all, Some("compute9"), "compute2").is_err());
        assert_eq!(
            pick_service(&all, None, "compute2.example.com")
                .unwrap()
                .host,
            "compute2"
        );
        assert_eq!(
            pick_service(&all, None, "compute1").unwrap().host,
            "compute1.example.com"
        );
        assert!(pick_service(&all, None, "node9").is_err());
    }

    #[test]
    fn the_reason_names_the_instance_and_fits_nova_s_limit() {
        let ctx = Context::for_test(
            "start",
            &[
                ("auth_url", "http://k:5000/v3"),
                ("username", "admin"),
                ("password", "s3cret"),
            ],
        );
        let link = NovaLink::from_context(&ctx)
            .unwrap()
            .expect("auth_url is set");
        let reason = link.reason(&"é".repeat(300));
        assert!(
            reason.starts_with("paddock-procwatch: test: could not be started: "),
            "{reason}"
        );
        assert!(reason.len() <= MAX_REASON);
        assert!(!reason.contains("s3cret"));
        let none = Context::for_test("start", &[("command", "/bin/true")]);
        assert!(NovaLink::from_context(&none).unwrap().is_none());
    }
}
