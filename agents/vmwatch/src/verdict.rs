//! Which libvirt events mean the guest failed. Deliberate acts (a user's pause, a reboot or
//! reset, a migration, a save) are not failures; whether a stop was Pacemaker's own is decided
//! by the resource's recorded phase, not here.

use paddock_vm::remote::EventKind;

/// virDomainEventType values.
mod event {
    pub const SUSPENDED: i32 = 3;
    pub const STOPPED: i32 = 5;
    pub const CRASHED: i32 = 8;
}

/// Why the event means the guest no longer runs as it should; None for normal life.
pub fn failure(kind: &EventKind) -> Option<String> {
    match kind {
        EventKind::Lifecycle { event, detail } => lifecycle_failure(*event, *detail),
        // VIR_DOMAIN_EVENT_WATCHDOG_NONE: the guest is left alone.
        EventKind::Watchdog { action: 0 } => None,
        EventKind::Watchdog { action } => Some(format!(
            "its watchdog fired (action {})",
            watchdog_action(*action)
        )),
        // VIR_DOMAIN_EVENT_IO_ERROR_PAUSE: the guest stopped on the error.
        EventKind::IoError {
            device,
            path,
            action: 1,
            reason,
        } => Some(format!(
            "paused on an I/O error of disk {device} ({path}): {reason}"
        )),
        EventKind::IoError { .. } | EventKind::Reboot => None,
    }
}

fn lifecycle_failure(event: i32, detail: i32) -> Option<String> {
    let why = match (event, detail) {
        (event::STOPPED, 0) => "shut down from inside the guest",
        (event::STOPPED, 1) => "destroyed",
        (event::STOPPED, 2) => "crashed",
        (event::STOPPED, 5) => "stopped: its qemu process died",
        (event::SUSPENDED, 2) => "paused on a disk I/O error",
        (event::SUSPENDED, 3) => "paused by its watchdog",
        (event::SUSPENDED, 6) => "paused after an error of the hypervisor",
        (event::SUSPENDED, 8) => "paused after a failed post-copy migration",
        (event::CRASHED, 0) => "guest kernel panicked",
        (event::CRASHED, 1) => "guest crashed (crash kernel loaded)",
        _ => return None,
    };
    Some(why.to_string())
}

fn watchdog_action(action: i32) -> &'static str {
    match action {
        1 => "pause",
        2 => "reset",
        3 => "poweroff",
        4 => "shutdown",
        5 => "debug",
        6 => "inject-nmi",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lifecycle(event: i32, detail: i32) -> EventKind {
        EventKind::Lifecycle { event, detail }
    }

    #[test]
    fn deaths_crashes_and_error_pauses_are_failures() {
        for (e, d) in [
            (5, 0),
            (5, 1),
            (5, 2),
            (5, 5),
            (3, 2),
            (3, 3),
            (3, 6),
            (8, 0),
        ] {
            assert!(failure(&lifecycle(e, d)).is_some(), "event {e} detail {d}");
        }
        assert!(failure(&EventKind::Watchdog { action: 2 })
            .unwrap()
            .contains("reset"));
        let io = EventKind::IoError {
            device: "virtio-disk0".into(),
            path: "/dev/mapper/bad".into(),
            action: 1,
            reason: "eio".into(),
        };
        assert_eq!(
            failure(&io).unwrap(),
            "paused on an I/O error of disk virtio-disk0 (/dev/mapper/bad): eio"
        );
    }

    #[test]
    fn deliberate_acts_are_not_failures() {
        // started, user pause, migration pause, resumed, migrated away, saved, shutdown begun
        for (e, d) in [
            (2, 0),
            (3, 0),
            (3, 1),
            (4, 0),
            (5, 3),
            (5, 4),
            (6, 1),
            (0, 0),
        ] {
            assert_eq!(failure(&lifecycle(e, d)), None, "event {e} detail {d}");
        }
        assert_eq!(failure(&EventKind::Reboot), None);
        assert_eq!(failure(&EventKind::Watchdog { action: 0 }), None);
        let reported_only = EventKind::IoError {
            device: "d".into(),
            path: "p".into(),
            action: 2,
            reason: "enospc".into(),
        };
        assert_eq!(failure(&reported_only), None);
    }
}
