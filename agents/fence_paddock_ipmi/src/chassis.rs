//! Chassis commands (IPMI 2.0 spec §28): Get Chassis Status for the power state, Chassis
//! Control for power down / up / cycle / soft shutdown / diagnostic interrupt.

use stonith::Deadline;

use crate::messages::{Request, NETFN_CHASSIS};
use crate::session::{Session, SessionError};

const CMD_GET_CHASSIS_STATUS: u8 = 0x01;
const CMD_CHASSIS_CONTROL: u8 = 0x02;

/// Chassis Control operations (spec table 28-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Hard power off, immediately.
    PowerDown = 0,
    PowerUp = 1,
    PowerCycle = 2,
    HardReset = 3,
    /// Pulse a diagnostic interrupt (NMI) — for a crash dump.
    DiagnosticInterrupt = 4,
    /// Emulate a fatal overtemperature: ACPI soft shutdown.
    SoftShutdown = 5,
}

/// Byte 1 bit 0 of the Get Chassis Status response: "power is on".
pub fn power_on_from_status(data: &[u8]) -> Result<bool, SessionError> {
    data.first()
        .map(|b| b & 0x01 != 0)
        .ok_or_else(|| SessionError::Protocol("empty Get Chassis Status response".into()))
}

pub fn get_power_on(session: &mut Session, deadline: Deadline) -> Result<bool, SessionError> {
    let data = session.command(
        "Get Chassis Status",
        &Request::new(NETFN_CHASSIS, CMD_GET_CHASSIS_STATUS, vec![]),
        deadline,
    )?;
    power_on_from_status(&data)
}

pub fn control(session: &mut Session, op: Control, deadline: Deadline) -> Result<(), SessionError> {
    session
        .command(
            "Chassis Control",
            &Request::new(NETFN_CHASSIS, CMD_CHASSIS_CONTROL, vec![op as u8]),
            deadline,
        )
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_bit() {
        assert_eq!(power_on_from_status(&[0x01, 0, 0]), Ok(true));
        assert_eq!(power_on_from_status(&[0x60, 0, 0]), Ok(false));
        assert!(power_on_from_status(&[]).is_err());
    }
}
