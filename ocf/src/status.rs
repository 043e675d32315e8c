//! OCF exit codes and the error that carries one with its exit reason.

/// Exit codes of the OCF Resource Agent API 1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum OcfStatus {
    Success = 0,
    ErrGeneric = 1,
    ErrArgs = 2,
    ErrUnimplemented = 3,
    ErrPerm = 4,
    ErrInstalled = 5,
    ErrConfigured = 6,
    NotRunning = 7,
    RunningPromoted = 8,
    FailedPromoted = 9,
    Degraded = 190,
    DegradedPromoted = 191,
}

impl OcfStatus {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// A failed action: the exit code and a one-line exit reason for Pacemaker to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct OcfError {
    pub status: OcfStatus,
    pub reason: String,
}

impl OcfError {
    pub fn new(status: OcfStatus, reason: impl Into<String>) -> Self {
        OcfError {
            status,
            reason: reason.into(),
        }
    }
    pub fn generic(reason: impl Into<String>) -> Self {
        Self::new(OcfStatus::ErrGeneric, reason)
    }
    pub fn args(reason: impl Into<String>) -> Self {
        Self::new(OcfStatus::ErrArgs, reason)
    }
    pub fn configured(reason: impl Into<String>) -> Self {
        Self::new(OcfStatus::ErrConfigured, reason)
    }
    pub fn installed(reason: impl Into<String>) -> Self {
        Self::new(OcfStatus::ErrInstalled, reason)
    }
    pub fn perm(reason: impl Into<String>) -> Self {
        Self::new(OcfStatus::ErrPerm, reason)
    }
    pub fn unimplemented(reason: impl Into<String>) -> Self {
        Self::new(OcfStatus::ErrUnimplemented, reason)
    }
    pub fn not_running(reason: impl Into<String>) -> Self {
        Self::new(OcfStatus::NotRunning, reason)
    }
}

impl OcfStatus {
    /// The conventional name, e.g. `OCF_ERR_CONFIGURED`.
    pub fn name(self) -> &'static str {
        match self {
            OcfStatus::Success => "OCF_SUCCESS",
            OcfStatus::ErrGeneric => "OCF_ERR_GENERIC",
            OcfStatus::ErrArgs => "OCF_ERR_ARGS",
            OcfStatus::ErrUnimplemented => "OCF_ERR_UNIMPLEMENTED",
            OcfStatus::ErrPerm => "OCF_ERR_PERM",
            OcfStatus::ErrInstalled => "OCF_ERR_INSTALLED",
            OcfStatus::ErrConfigured => "OCF_ERR_CONFIGURED",
            OcfStatus::NotRunning => "OCF_NOT_RUNNING",
            OcfStatus::RunningPromoted => "OCF_RUNNING_PROMOTED",
            OcfStatus::FailedPromoted => "OCF_FAILED_PROMOTED",
            OcfStatus::Degraded => "OCF_DEGRADED",
            OcfStatus::DegradedPromoted => "OCF_DEGRADED_PROMOTED",
        }
    }

    /// Errors that mean "this node cannot run it as configured" rather than "it failed".
    pub fn is_setup_error(self) -> bool {
        matches!(
            self,
            OcfStatus::ErrConfigured | OcfStatus::ErrInstalled | OcfStatus::ErrPerm
        )
    }
}

impl std::fmt::Display for OcfStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}

impl OcfError {
    pub fn degraded(reason: impl Into<String>) -> Self {
        Self::new(OcfStatus::Degraded, reason)
    }
    /// The reason as one line (Pacemaker shows only the first line of an exit reason).
    pub fn one_line_reason(&self) -> String {
        let joined: Vec<&str> = self
            .reason
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        joined.join("; ")
    }
}
