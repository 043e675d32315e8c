//! What a domain state means for Pacemaker (monitor's answer).

use ocf::{OcfError, OcfStatus};

use crate::libvirt::{DomainStatus, PauseReason};

/// Running → Success; shut off → NotRunning; active but unable to run the guest → failure.
pub fn classify(name: &str, status: DomainStatus) -> Result<OcfStatus, OcfError> {
    let failed = |why: &str| Err(OcfError::generic(format!("{name}: {why}")));
    match status {
        DomainStatus::Running
        | DomainStatus::Blocked
        | DomainStatus::ShuttingDown
        | DomainStatus::PmSuspended => Ok(OcfStatus::Success),
        // Paused by a person or for a short operation (migration, save, snapshot): still ours, still there.
        DomainStatus::Paused(PauseReason::User | PauseReason::Operation | PauseReason::Unknown) => {
            Ok(OcfStatus::Success)
        }
        DomainStatus::Paused(PauseReason::IoError) => failed("paused after a disk I/O error"),
        DomainStatus::Paused(PauseReason::Watchdog) => failed("paused by its watchdog"),
        DomainStatus::Paused(PauseReason::GuestCrashed) => {
            failed("guest crashed (paused on panic)")
        }
        DomainStatus::Paused(PauseReason::PostCopyFailed) => {
            failed("paused after a failed post-copy migration")
        }
        DomainStatus::Crashed => failed("crashed"),
        DomainStatus::NoState => Ok(OcfStatus::Success),
        DomainStatus::ShutOff { .. } => Ok(OcfStatus::NotRunning),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_error_watchdog_and_panic_pauses_are_failures() {
        for r in [
            PauseReason::IoError,
            PauseReason::Watchdog,
            PauseReason::GuestCrashed,
        ] {
            let e = classify("vm1", DomainStatus::Paused(r)).unwrap_err();
            assert_eq!(e.status, OcfStatus::ErrGeneric);
            assert!(e.reason.starts_with("vm1: "), "{}", e.reason);
        }
    }

    #[test]
    fn user_and_migration_pauses_count_as_running() {
        assert_eq!(
            classify("v", DomainStatus::Paused(PauseReason::User)),
            Ok(OcfStatus::Success)
        );
        assert_eq!(
            classify("v", DomainStatus::Paused(PauseReason::Operation)),
            Ok(OcfStatus::Success)
        );
        assert_eq!(classify("v", DomainStatus::Running), Ok(OcfStatus::Success));
        assert_eq!(
            classify("v", DomainStatus::ShutOff { migrated: true }),
            Ok(OcfStatus::NotRunning)
        );
    }
}
