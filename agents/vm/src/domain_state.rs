//! What the agent knows of a domain and of a failed call, whichever way it asked libvirt:
//! through the libvirt library ([`crate::libvirt`]) or over the remote protocol
//! ([`crate::remote`]). Numeric codes are libvirt's stable ABI values.

/// Why a libvirt call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LibvirtError {
    #[error("{what}: libvirt at {uri} did not answer in time")]
    Timeout { what: String, uri: String },
    #[error("cannot connect to libvirt at {uri}: {message}")]
    Connect { uri: String, message: String },
    #[error("{what}: {message}")]
    Call {
        what: String,
        kind: ErrorKind,
        message: String,
    },
}

/// The libvirt error codes the agent decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NoDomain,
    OperationInvalid,
    NoSupport,
    Other,
}

impl LibvirtError {
    pub fn is_no_domain(&self) -> bool {
        matches!(
            self,
            LibvirtError::Call {
                kind: ErrorKind::NoDomain,
                ..
            }
        )
    }
    /// The daemon did not answer or could not be reached (as opposed to refusing a request).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            LibvirtError::Timeout { .. } | LibvirtError::Connect { .. }
        )
    }
}

/// Why a domain is paused, as far as the agent cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseReason {
    /// Paused by an administrator or a management tool.
    User,
    /// Paused for migration, save, dump, snapshot, start-up or shutdown: a transient state.
    Operation,
    IoError,
    Watchdog,
    GuestCrashed,
    PostCopyFailed,
    Unknown,
}

/// The state of a domain known to libvirt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainStatus {
    Running,
    Blocked,
    Paused(PauseReason),
    ShuttingDown,
    /// Shut off; `migrated` when it left for another host.
    ShutOff {
        migrated: bool,
    },
    Crashed,
    PmSuspended,
    NoState,
}

impl DomainStatus {
    /// A qemu process exists for it (it is "active" in libvirt's words).
    pub fn is_active(self) -> bool {
        !matches!(self, DomainStatus::ShutOff { .. } | DomainStatus::Crashed)
    }
}

/// A domain found by name or UUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainFacts {
    pub name: String,
    pub uuid: String,
    pub status: DomainStatus,
}

/// vCPUs and maximum memory of a domain (for utilization attributes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DomainSize {
    pub vcpus: u32,
    pub max_memory_kib: u64,
}

impl ErrorKind {
    /// From virErrorNumber.
    pub fn from_code(code: i32) -> ErrorKind {
        match code {
            3 => ErrorKind::NoSupport,
            42 => ErrorKind::NoDomain,
            55 => ErrorKind::OperationInvalid,
            _ => ErrorKind::Other,
        }
    }
}

impl DomainStatus {
    /// From virDomainState and its reason (virDomainPausedReason, virDomainShutoffReason).
    pub fn from_codes(state: i32, reason: i32) -> DomainStatus {
        match state {
            1 => DomainStatus::Running,
            2 => DomainStatus::Blocked,
            3 => DomainStatus::Paused(match reason {
                1 => PauseReason::User,
                2 | 3 | 4 | 7 | 8 | 9 | 11 | 12 => PauseReason::Operation,
                5 => PauseReason::IoError,
                6 => PauseReason::Watchdog,
                10 => PauseReason::GuestCrashed,
                13 => PauseReason::PostCopyFailed,
                _ => PauseReason::Unknown,
            }),
            4 => DomainStatus::ShuttingDown,
            5 => DomainStatus::ShutOff {
                migrated: reason == 4,
            },
            6 => DomainStatus::Crashed,
            7 => DomainStatus::PmSuspended,
            _ => DomainStatus::NoState,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_states_map_like_the_library_enums() {
        assert_eq!(DomainStatus::from_codes(1, 0), DomainStatus::Running);
        assert_eq!(
            DomainStatus::from_codes(3, 5),
            DomainStatus::Paused(PauseReason::IoError)
        );
        assert_eq!(
            DomainStatus::from_codes(3, 6),
            DomainStatus::Paused(PauseReason::Watchdog)
        );
        assert_eq!(
            DomainStatus::from_codes(3, 10),
            DomainStatus::Paused(PauseReason::GuestCrashed)
        );
        assert_eq!(
            DomainStatus::from_codes(3, 2),
            DomainStatus::Paused(PauseReason::Operation)
        );
        assert_eq!(
            DomainStatus::from_codes(3, 1),
            DomainStatus::Paused(PauseReason::User)
        );
        assert_eq!(
            DomainStatus::from_codes(5, 4),
            DomainStatus::ShutOff { migrated: true }
        );
        assert_eq!(
            DomainStatus::from_codes(5, 1),
            DomainStatus::ShutOff { migrated: false }
        );
        assert_eq!(DomainStatus::from_codes(99, 0), DomainStatus::NoState);
        assert_eq!(ErrorKind::from_code(42), ErrorKind::NoDomain);
        assert_eq!(ErrorKind::from_code(1), ErrorKind::Other);
    }
}
