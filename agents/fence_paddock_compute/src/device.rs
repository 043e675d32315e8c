//! One compute host's nova-compute service as a fence device: status is whether it is forced
//! down, off forces it down, on unforces it. Every read is a fresh list of the services, so
//! that only what Nova shows counts.

use openstack::{
    find_compute_service, ComputeService, Credentials, Nova, ServiceState, ServiceStatus,
    TokenCache,
};
use stonith::{Deadline, FenceDevice, FenceError, Outlet, PowerAction, PowerState};

const AGENT: &str = "fence_paddock_compute";

/// With record_only, the reason this agent disables a service with; its prefix tells our
/// disabling from anyone else's (nova-evacuate's `paddock-evacuate:`, procwatch's
/// `paddock-procwatch:`, an operator's).
pub const RECORD_REASON_PREFIX: &str = "paddock-fence:";

/// What the options say about this invocation.
#[derive(Debug, Clone, Default)]
pub struct Mode {
    pub domain: Option<String>,
    pub record_only: bool,
    /// The node Pacemaker is fencing, for the journal.
    pub node: Option<String>,
}

pub struct ComputeDevice {
    nova: Nova,
    mode: Mode,
    /// Set when the token came from the cache: how to log in afresh if Nova refuses it.
    relogin: Option<(Credentials, TokenCache)>,
}

/// An OpenStack error as the framework's: credentials and settings are fatal; anything else
/// (Nova down, a refusal, a timeout) may pass, so the framework asks again within its time.
pub fn fence_error(error: openstack::Error) -> FenceError {
    use openstack::Error as E;
    match error {
        E::Auth(m) => FenceError::Auth(m),
        E::Config(m) | E::Catalog(m) => FenceError::Config(m),
        E::Timeout(m) => FenceError::Timeout(m),
        other => FenceError::Device(other.to_string()),
    }
}

/// Whether a service counts as fenced (OFF).
pub fn fenced(service: &ComputeService, record_only: bool) -> bool {
    service.forced_down || (record_only && disabled_by_us(service))
}

fn disabled_by_us(service: &ComputeService) -> bool {
    service.status == ServiceStatus::Disabled
        && service
            .disabled_reason
            .as_deref()
            .is_some_and(|r| r.starts_with(RECORD_REASON_PREFIX))
}

fn state_of(service: &ComputeService, record_only: bool) -> PowerState {
    if fenced(service, record_only) {
        PowerState::Off
    } else {
        PowerState::On
    }
}

impl ComputeDevice {
    /// `relogin`: the credentials and cache when the session's token was reused from the cache.
    pub fn new(nova: Nova, mode: Mode, relogin: Option<(Credentials, TokenCache)>) -> Self {
        ComputeDevice {
            nova,
            mode,
            relogin,
        }
    }

    /// One Nova call. A cached token Nova refuses (revoked, expired early) is forgotten, and
    /// the call made once more after a fresh login.
    fn call<T>(
        &mut self,
        deadline: Deadline,
        what: impl Fn(&Nova) -> Result<T, openstack::Error>,
    ) -> Result<T, FenceError> {
        match what(&self.nova) {
            Err(openstack::Error::Auth(why)) if self.relogin.is_some() => {
                let (credentials, cache) = self.relogin.take().expect("checked");
                stonith::tracing::debug!("Nova refused the cached token ({why}); logging in again");
                cache.forget(&credentials);
                let session = openstack::Session::login_cached(&credentials, &deadline, &cache)
                    .map_err(fence_error)?;
                self.nova = session.nova().map_err(fence_error)?;
                what(&self.nova).map_err(fence_error)
            }
            other => other.map_err(fence_error),
        }
    }

    fn services(&mut self, deadline: Deadline) -> Result<Vec<ComputeService>, FenceError> {
        self.call(deadline, |nova| nova.compute_services(&deadline))
    }

    fn service(
        &mut self,
        plug: Option<&str>,
        deadline: Deadline,
    ) -> Result<ComputeService, FenceError> {
        let plug = plug.ok_or_else(|| {
            FenceError::Config("You have to enter plug number or machine identification".into())
        })?;
        let services = self.services(deadline)?;
        find_compute_service(&services, plug, self.mode.domain.as_deref())
            .cloned()
            .map_err(FenceError::Config)
    }

    fn journal(&self, service: &ComputeService, task: &str, desc: &str) {
        let about = self.mode.node.as_deref().or(Some(service.host.as_str()));
        paddock_base::journal::record_decision(AGENT, about, &service.host, task, desc);
    }

    fn off(&mut self, service: &ComputeService, deadline: Deadline) -> Result<(), FenceError> {
        if service.state == ServiceState::Up {
            // Nova notices a dead host only after service_down_time: right after the power
            // fencing, "up" is expected
            stonith::tracing::debug!(
                "nova-compute on {} last reported up; forcing it down (this agent powers nothing: it belongs after the host's power fencing)",
                service.host
            );
        }
        if self.mode.record_only {
            let reason =
                format!("{RECORD_REASON_PREFIX} fenced, recorded by {AGENT} (record_only)");
            self.nova
                .set_disabled(&service.id, Some(&reason), &deadline)
                .map_err(fence_error)?;
            self.journal(service, "disable", &format!("nova-compute on {} disabled: fenced (record_only: not forced down, not evacuated)", service.host));
            return Ok(());
        }
        self.nova
            .set_forced_down(&service.id, true, &deadline)
            .map_err(fence_error)?;
        stonith::tracing::debug!("Nova accepted forced_down=true for {}", service.host);
        self.journal(
            service,
            "force-down",
            &format!(
                "nova-compute on {} forced down (service was {}, {})",
                service.host,
                if service.state == ServiceState::Up {
                    "up"
                } else {
                    "down"
                },
                if service.status == ServiceStatus::Enabled {
                    "enabled"
                } else {
                    "disabled"
                }
            ),
        );
        Ok(())
    }

    fn on(&mut self, service: &ComputeService, deadline: Deadline) -> Result<(), FenceError> {
        if self.mode.record_only {
            if disabled_by_us(service) {
                self.nova
                    .set_disabled(&service.id, None, &deadline)
                    .map_err(fence_error)?;
                self.journal(
                    service,
                    "enable",
                    &format!(
                        "nova-compute on {} enabled again (record_only)",
                        service.host
                    ),
                );
            }
            return Ok(());
        }
        match self.nova.set_forced_down(&service.id, false, &deadline) {
            Ok(()) => {
                self.journal(
                    service,
                    "unforce",
                    &format!("nova-compute on {} no longer forced down", service.host),
                );
                Ok(())
            }
            // Nova refuses while the host's evacuations are not completed: not fatal, the
            // framework asks again within power_timeout, and says this if it never agrees
            Err(openstack::Error::Refused(message)) => Err(FenceError::Device(format!(
                "nova-compute on {} stays forced down: {message}",
                service.host
            ))),
            Err(other) => Err(fence_error(other)),
        }
    }
}

impl FenceDevice for ComputeDevice {
    fn power_status(
        &mut self,
        plug: Option<&str>,
        deadline: Deadline,
    ) -> Result<PowerState, FenceError> {
        let service = self.service(plug, deadline)?;
        stonith::tracing::debug!(
            "nova-compute on {}: forced_down={} status={:?} state={:?} reason={:?}",
            service.host,
            service.forced_down,
            service.status,
            service.state,
            service.disabled_reason
        );
        Ok(state_of(&service, self.mode.record_only))
    }

    fn set_power(
        &mut self,
        plug: Option<&str>,
        action: PowerAction,
        deadline: Deadline,
    ) -> Result<(), FenceError> {
        match action {
            PowerAction::Off => {
                let service = self.service(plug, deadline)?;
                self.off(&service, deadline)
            }
            PowerAction::On => {
                let service = self.service(plug, deadline)?;
                self.on(&service, deadline)
            }
            PowerAction::Cycle | PowerAction::Soft | PowerAction::Diag => Err(
                FenceError::Unsupported(format!("{action:?} means nothing to a Nova service")),
            ),
        }
    }

    fn list(&mut self, deadline: Deadline) -> Result<Vec<Outlet>, FenceError> {
        let mut services = self.services(deadline)?;
        services.sort_by(|a, b| a.host.cmp(&b.host));
        Ok(services
            .iter()
            .map(|s| Outlet {
                id: s.host.clone(),
                alias: String::new(),
                state: Some(state_of(s, self.mode.record_only)),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(forced_down: bool, status: ServiceStatus, reason: Option<&str>) -> ComputeService {
        ComputeService {
            id: "id".into(),
            host: "compute1".into(),
            zone: "nova".into(),
            status,
            state: ServiceState::Down,
            forced_down,
            disabled_reason: reason.map(str::to_string),
            updated_at: None,
        }
    }

    #[test]
    fn forced_down_is_off_and_record_only_counts_our_disabling() {
        let forced = service(true, ServiceStatus::Enabled, None);
        assert_eq!(state_of(&forced, false), PowerState::Off);
        assert_eq!(state_of(&forced, true), PowerState::Off);
        let ours = service(
            false,
            ServiceStatus::Disabled,
            Some("paddock-fence: fenced"),
        );
        assert_eq!(state_of(&ours, false), PowerState::On);
        assert_eq!(state_of(&ours, true), PowerState::Off);
        // disabled by someone else (nova-evacuate, procwatch, an operator): not a fencing
        let theirs = service(
            false,
            ServiceStatus::Disabled,
            Some("paddock-procwatch: cannot start"),
        );
        assert_eq!(state_of(&theirs, true), PowerState::On);
    }

    #[test]
    fn errors_keep_their_kind() {
        use openstack::Error as E;
        assert!(matches!(
            fence_error(E::Auth("a".into())),
            FenceError::Auth(_)
        ));
        assert!(matches!(
            fence_error(E::Catalog("c".into())),
            FenceError::Config(_)
        ));
        assert!(matches!(
            fence_error(E::Timeout("t".into())),
            FenceError::Timeout(_)
        ));
        assert!(matches!(
            fence_error(E::Connect("c".into())),
            FenceError::Device(_)
        ));
        assert!(matches!(
            fence_error(E::Refused("r".into())),
            FenceError::Device(_)
        ));
    }
}
