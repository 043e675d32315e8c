//! One UDP conversation with a BMC: send a datagram, wait for an acceptable answer, retransmit
//! with exponential backoff, never past the deadline. Everything the BMC (or anyone else)
//! sends that the caller does not accept is ignored.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use stonith::Deadline;

use crate::session::SessionError;

/// What the caller makes of one received datagram.
pub enum Accept<T> {
    /// Not the answer we wait for (garbage, stale, other session): keep listening.
    Ignore,
    Done(T),
    /// The peer's state moved on (e.g. it answered a duplicate): rebuild and send now.
    Resend,
    /// A definitive answer that ends the exchange with an error (e.g. "wrong password").
    Fail(SessionError),
}

pub struct Transport {
    socket: UdpSocket,
    peer: SocketAddr,
    /// First retransmission interval; grown by half after each silent interval, up to `max_rto`.
    pub initial_rto: Duration,
    pub max_rto: Duration,
    /// Set when the kernel reported ICMP port unreachable: named in the timeout message.
    refused: bool,
    log: fn(&str),
}

impl Transport {
    pub fn connect(
        peer: SocketAddr,
        max_rto: Duration,
        log: fn(&str),
    ) -> Result<Transport, SessionError> {
        let local: SocketAddr = if peer.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        }
        .parse()
        .map_err(|_| SessionError::Io("cannot form a local address".into()))?;
        let socket = UdpSocket::bind(local)
            .map_err(|e| SessionError::Io(format!("cannot open a UDP socket: {e}")))?;
        // A connected socket only receives datagrams from the BMC's address and port.
        socket
            .connect(peer)
            .map_err(|e| SessionError::Io(format!("cannot reach {peer}: {e}")))?;
        Ok(Transport {
            socket,
            peer,
            initial_rto: Duration::from_millis(250).min(max_rto),
            max_rto,
            refused: false,
            log,
        })
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Send `build()` and wait for a datagram `accept` takes; rebuild and resend (so that a
    /// session packet gets a fresh sequence number) after each silent interval.
    pub fn exchange<T>(
        &mut self,
        what: &str,
        deadline: Deadline,
        mut build: impl FnMut() -> Vec<u8>,
        mut accept: impl FnMut(&[u8]) -> Accept<T>,
    ) -> Result<T, SessionError> {
        let started = Instant::now();
        let mut rto = self.initial_rto;
        let mut buf = [0u8; 1024];
        let mut attempt = 0u32;
        while !deadline.expired() {
            attempt += 1;
            if attempt > 1 {
                (self.log)(&format!("retransmitting {what} (attempt {attempt})"));
            }
            let datagram = build();
            if let Err(e) = self.socket.send(&datagram) {
                if e.kind() == ErrorKind::ConnectionRefused {
                    self.refused = true;
                } else {
                    return Err(SessionError::Io(format!(
                        "sending {what} to {}: {e}",
                        self.peer
                    )));
                }
            }
            let listen_until = deadline.capped(rto);
            let mut resend_now = false;
            loop {
                let left = listen_until.remaining();
                if left.is_zero() {
                    break;
                }
                // A zero read timeout means "block forever": keep it at least 1 ms.
                let _ = self
                    .socket
                    .set_read_timeout(Some(left.max(Duration::from_millis(1))));
                match self.socket.recv(&mut buf) {
                    Ok(n) => match accept(&buf[..n]) {
                        Accept::Ignore => (self.log)(&format!(
                            "ignored a {n}-byte datagram while waiting for {what}"
                        )),
                        Accept::Done(v) => return Ok(v),
                        Accept::Resend => {
                            resend_now = true;
                            break;
                        }
                        Accept::Fail(e) => return Err(e),
                    },
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                        break
                    }
                    Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                        self.refused = true;
                        // Nothing listens there now; wait out the interval instead of spinning.
                        std::thread::sleep(listen_until.remaining().min(Duration::from_millis(50)));
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => {
                        return Err(SessionError::Io(format!(
                            "receiving {what} from {}: {e}",
                            self.peer
                        )))
                    }
                }
            }
            if !resend_now {
                // Gentle backoff: BMCs answer in milliseconds or not at all, so frequent
                // retries within the deadline matter more than sparing the link.
                rto = (rto * 3 / 2).min(self.max_rto);
            }
        }
        let why = if self.refused {
            " (port unreachable: is the BMC listening there?)"
        } else {
            ""
        };
        Err(SessionError::Timeout(format!(
            "no answer from BMC {} to {what} within {:.1}s{why}",
            self.peer,
            started.elapsed().as_secs_f64()
        )))
    }

    /// Send once without waiting (best-effort notices such as an aborting RAKP 3).
    pub fn send_only(&self, datagram: &[u8]) {
        let _ = self.socket.send(datagram);
    }
}
