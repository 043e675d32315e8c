//! Domain events over the remote protocol: registering for them (one callback per event kind,
//! for every domain), reading them as they come, and the keepalive that tells a live daemon
//! from a dead or wedged one. This is what `vmwatch` listens with.

use std::time::Duration;

use ocf::Deadline;

use super::xdr::{DecodeError, Decoder, Encoder};
use super::{
    decode_domain, keepalive, proc, uuid_string, Client, Message, KEEPALIVE_PING,
    KEEPALIVE_PROGRAM, MESSAGE, PROGRAM, STATUS_OK,
};
use crate::domain_state::LibvirtError;

/// virDomainEventID values the watcher registers for.
const EVENT_LIFECYCLE: i32 = 0;
const EVENT_REBOOT: i32 = 1;
const EVENT_WATCHDOG: i32 = 3;
const EVENT_IO_ERROR_REASON: i32 = 6;

/// The procedures the daemon sends callback events with.
const EVENT_LIFECYCLE_MSG: u32 = 318;
const EVENT_REBOOT_MSG: u32 = 319;
const EVENT_WATCHDOG_MSG: u32 = 321;
const EVENT_IO_ERROR_REASON_MSG: u32 = 324;

/// VIR_DRV_FEATURE_PROGRAM_KEEPALIVE: asking for it makes the daemon start its keepalive.
const FEATURE_KEEPALIVE: i32 = 10;

/// One event about one domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainEvent {
    pub name: String,
    pub uuid: String,
    pub kind: EventKind,
}

/// What happened (the libvirt enums' numbers, judged by the watcher).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// virDomainEventType and its detail (e.g. STOPPED + CRASHED).
    Lifecycle { event: i32, detail: i32 },
    /// The guest rebooted (from inside, or `virsh reboot`/`reset`).
    Reboot,
    /// The guest's watchdog fired; virDomainEventWatchdogAction.
    Watchdog { action: i32 },
    /// A disk failed; virDomainEventIOErrorAction and the reason ("enospc", "eio"...).
    IoError {
        device: String,
        path: String,
        action: i32,
        reason: String,
    },
}

impl Client {
    /// Registers for lifecycle, reboot, watchdog and I/O error events of every domain, and
    /// turns on the daemon's keepalive.
    pub fn watch_events(&mut self, deadline: Deadline) -> Result<(), LibvirtError> {
        let mut feature = Encoder::new();
        feature.i32(FEATURE_KEEPALIVE);
        self.call(
            "enable keepalive",
            proc::CONNECT_SUPPORTS_FEATURE,
            feature,
            deadline,
        )?;
        for event in [
            EVENT_LIFECYCLE,
            EVENT_REBOOT,
            EVENT_WATCHDOG,
            EVENT_IO_ERROR_REASON,
        ] {
            let mut args = Encoder::new();
            args.i32(event).u32(0); // no domain: every domain
            self.call(
                "register for domain events",
                proc::CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
                args,
                deadline,
            )?;
        }
        Ok(())
    }

    /// The next domain event, waiting at most `wait`; None when none came. Keepalive pings
    /// are answered on the way; events of kinds not registered for are skipped.
    pub fn next_event(&mut self, wait: Duration) -> Result<Option<DomainEvent>, LibvirtError> {
        let first_byte_by = Deadline::after(wait);
        loop {
            let message = match self.events.pop_front() {
                Some(m) => m,
                None => {
                    // A message that has begun must complete soon, whatever `wait` is.
                    let whole_by = Deadline::after(wait.max(Duration::from_secs(5)));
                    match self.read_message(first_byte_by, whole_by) {
                        Ok(Some(m)) => m,
                        Ok(None) => return Ok(None),
                        Err(e) => return Err(self.lost(e)),
                    }
                }
            };
            if message.program == KEEPALIVE_PROGRAM && message.procedure == KEEPALIVE_PING {
                let pong = keepalive(super::KEEPALIVE_PONG);
                self.send(&pong, Deadline::after(Duration::from_secs(5)))
                    .map_err(|e| self.lost(e))?;
                continue;
            }
            if message.program != PROGRAM || message.kind != MESSAGE {
                continue;
            }
            match decode_event(&message) {
                Ok(Some(event)) => return Ok(Some(event)),
                Ok(None) => continue,
                Err(e) => {
                    self.broken = true;
                    return Err(LibvirtError::Connect {
                        uri: self.uri.clone(),
                        message: format!("malformed event: {}", e.0),
                    });
                }
            }
        }
    }

    /// Sends a keepalive ping; a live daemon answers with a pong, which counts as heard.
    pub fn ping(&mut self) -> Result<(), LibvirtError> {
        self.send(
            &keepalive(KEEPALIVE_PING),
            Deadline::after(Duration::from_secs(5)),
        )
        .map_err(|e| self.lost(e))
    }

    /// How long the daemon has said nothing at all.
    pub fn silent_for(&self) -> Duration {
        self.last_heard.elapsed()
    }

    /// Whether events were dropped since the last question (a flood while a call waited):
    /// the caller then compares every domain with its real state.
    pub fn take_events_lost(&mut self) -> bool {
        std::mem::take(&mut self.events_lost)
    }

    fn lost(&mut self, e: std::io::Error) -> LibvirtError {
        self.broken = true;
        LibvirtError::Connect {
            uri: self.uri.clone(),
            message: format!("connection lost: {e}"),
        }
    }
}

/// The callback events carry the callback id, the domain, then the event's own fields.
fn decode_event(message: &Message) -> Result<Option<DomainEvent>, DecodeError> {
    if message.status != STATUS_OK {
        return Ok(None);
    }
    let mut d = Decoder::new(&message.payload);
    let read_domain = |d: &mut Decoder| -> Result<(String, String), DecodeError> {
        d.i32()?; // callback id: every registration is for every domain
        let dom = decode_domain(d)?;
        Ok((dom.name, uuid_string(&dom.uuid)))
    };
    let (name, uuid, kind) = match message.procedure {
        EVENT_LIFECYCLE_MSG => {
            let (name, uuid) = read_domain(&mut d)?;
            let (event, detail) = (d.i32()?, d.i32()?);
            (name, uuid, EventKind::Lifecycle { event, detail })
        }
        EVENT_REBOOT_MSG => {
            let (name, uuid) = read_domain(&mut d)?;
            (name, uuid, EventKind::Reboot)
        }
        EVENT_WATCHDOG_MSG => {
            let (name, uuid) = read_domain(&mut d)?;
            (name, uuid, EventKind::Watchdog { action: d.i32()? })
        }
        EVENT_IO_ERROR_REASON_MSG => {
            let (name, uuid) = read_domain(&mut d)?;
            let path = d.string()?;
            let device = d.string()?;
            let action = d.i32()?;
            let reason = d.string()?;
            (
                name,
                uuid,
                EventKind::IoError {
                    device,
                    path,
                    action,
                    reason,
                },
            )
        }
        _ => return Ok(None),
    };
    Ok(Some(DomainEvent { name, uuid, kind }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event_message(procedure: u32, fields: impl FnOnce(&mut Encoder)) -> Message {
        let mut e = Encoder::new();
        e.i32(7).string("guest").fixed_opaque(&[1; 16]).i32(4);
        fields(&mut e);
        Message {
            program: PROGRAM,
            procedure,
            kind: MESSAGE,
            serial: 0,
            status: STATUS_OK,
            payload: e.into_bytes(),
        }
    }

    #[test]
    fn lifecycle_watchdog_reboot_and_io_error_events_decode() {
        let m = event_message(EVENT_LIFECYCLE_MSG, |e| {
            e.i32(5).i32(2);
        });
        let ev = decode_event(&m).unwrap().unwrap();
        assert_eq!(ev.name, "guest");
        assert_eq!(ev.uuid, "01010101-0101-0101-0101-010101010101");
        assert_eq!(
            ev.kind,
            EventKind::Lifecycle {
                event: 5,
                detail: 2
            }
        );
        let m = event_message(EVENT_WATCHDOG_MSG, |e| {
            e.i32(3);
        });
        assert_eq!(
            decode_event(&m).unwrap().unwrap().kind,
            EventKind::Watchdog { action: 3 }
        );
        let m = event_message(EVENT_REBOOT_MSG, |_| {});
        assert_eq!(decode_event(&m).unwrap().unwrap().kind, EventKind::Reboot);
        let m = event_message(EVENT_IO_ERROR_REASON_MSG, |e| {
            e.string("/dev/mapper/bad")
                .string("virtio-disk1")
                .i32(1)
                .string("eio");
        });
        assert_eq!(
            decode_event(&m).unwrap().unwrap().kind,
            EventKind::IoError {
                device: "virtio-disk1".into(),
                path: "/dev/mapper/bad".into(),
                action: 1,
                reason: "eio".into()
            }
        );
    }

    #[test]
    fn unknown_events_are_skipped_and_cut_ones_are_errors() {
        let m = event_message(333, |_| {});
        assert_eq!(decode_event(&m), Ok(None));
        let mut m = event_message(EVENT_LIFECYCLE_MSG, |e| {
            e.i32(5);
        });
        assert!(decode_event(&m).is_err());
        m.payload.truncate(3);
        assert!(decode_event(&m).is_err());
    }
}
