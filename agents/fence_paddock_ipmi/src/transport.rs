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

/// One request and its response: what to send (built anew for each retransmission) and what
/// to make of each datagram that arrives meanwhile.
pub trait Conversation {
    type Answer;
    fn request(&mut self) -> Vec<u8>;
    fn accept(&mut self, datagram: &[u8]) -> Accept<Self::Answer>;
}

/// A conversation given as two closures.
struct Closures<B, A> {
    build: B,
    accept: A,
}

impl<T, B: FnMut() -> Vec<u8>, A: FnMut(&[u8]) -> Accept<T>> Conversation for Closures<B, A> {
    type Answer = T;
    fn request(&mut self) -> Vec<u8> {
        (self.build)()
    }
    fn accept(&mut self, datagram: &[u8]) -> Accept<T> {
        (self.accept)(datagram)
    }
}

/// What one listening interval brought.
enum Heard<T> {
    Answer(T),
    ResendNow,
    Nothing,
}

pub struct Transport {
    socket: UdpSocket,
    peer: SocketAddr,
    /// First retransmission interval; grown by half after each silent interval, up to `max_rto`.
    pub initial_rto: Duration,
    pub max_rto: Duration,
    /// Set when the kernel reported ICMP port unreachable: named in the timeout message.
    refused: bool,
}

impl Transport {
    pub fn connect(peer: SocketAddr, max_rto: Duration) -> Result<Transport, SessionError> {
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
        })
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// [`Transport::converse`] with the request and the acceptance as closures.
    pub fn exchange<T>(
        &mut self,
        what: &str,
        deadline: Deadline,
        build: impl FnMut() -> Vec<u8>,
        accept: impl FnMut(&[u8]) -> Accept<T>,
    ) -> Result<T, SessionError> {
        self.converse(what, deadline, &mut Closures { build, accept })
    }

    /// Send the conversation's request and wait for a datagram it accepts; rebuild and resend
    /// (so that a session packet gets a fresh sequence number) after each silent interval.
    pub fn converse<C: Conversation>(
        &mut self,
        what: &str,
        deadline: Deadline,
        conversation: &mut C,
    ) -> Result<C::Answer, SessionError> {
        let started = Instant::now();
        let mut rto = self.initial_rto;
        let mut attempt = 0u32;
        while !deadline.expired() {
            attempt += 1;
            if attempt > 1 {
                tracing::debug!("retransmitting {what} (attempt {attempt})");
            }
            let datagram = conversation.request();
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
            let resend_now = match self.listen(what, listen_until, conversation)? {
                Heard::Answer(answer) => return Ok(answer),
                Heard::ResendNow => true,
                Heard::Nothing => false,
            };
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

    /// Receive until `until`: the first datagram the conversation takes, or a request to
    /// resend at once, or nothing.
    fn listen<C: Conversation>(
        &mut self,
        what: &str,
        until: Deadline,
        conversation: &mut C,
    ) -> Result<Heard<C::Answer>, SessionError> {
        let mut buf = [0u8; 1024];
        loop {
            let left = until.remaining();
            if left.is_zero() {
                return Ok(Heard::Nothing);
            }
            // A zero read timeout means "block forever": keep it at least 1 ms.
            let _ = self
                .socket
                .set_read_timeout(Some(left.max(Duration::from_millis(1))));
            match self.socket.recv(&mut buf) {
                Ok(n) => match conversation.accept(&buf[..n]) {
                    Accept::Ignore => {
                        tracing::debug!("ignored a {n}-byte datagram while waiting for {what}")
                    }
                    Accept::Done(answer) => return Ok(Heard::Answer(answer)),
                    Accept::Resend => return Ok(Heard::ResendNow),
                    Accept::Fail(e) => return Err(e),
                },
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Ok(Heard::Nothing)
                }
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                    self.refused = true;
                    // Nothing listens there now; wait out the interval instead of spinning.
                    std::thread::sleep(until.remaining().min(Duration::from_millis(50)));
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
    }

    /// Send once without waiting (best-effort notices such as an aborting RAKP 3).
    pub fn send_only(&self, datagram: &[u8]) {
        let _ = self.socket.send(datagram);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn silent_peer_times_out_at_the_deadline_after_retransmitting() {
        let peer = UdpSocket::bind("127.0.0.1:0").expect("bind");
        peer.set_read_timeout(Some(Duration::from_millis(10)))
            .expect("timeout");
        let mut t =
            Transport::connect(peer.local_addr().expect("addr"), Duration::from_millis(200))
                .expect("connect");
        let started = Instant::now();
        let r: Result<(), _> = t.exchange(
            "ping",
            Deadline::after(Duration::from_millis(700)),
            || vec![1],
            |_| Accept::Ignore,
        );
        let took = started.elapsed();
        assert!(matches!(r, Err(SessionError::Timeout(_))));
        assert!(
            took >= Duration::from_millis(700) && took < Duration::from_millis(1500),
            "{took:?}"
        );
        let mut sent = 0;
        let mut buf = [0u8; 8];
        while peer.recv(&mut buf).is_ok() {
            sent += 1;
        }
        // 250 ms capped to 200, then 200, 200, ...: 4 sends in 700 ms.
        assert!((2..=5).contains(&sent), "{sent} datagrams sent");
    }

    #[test]
    fn garbage_is_ignored_until_the_answer_and_resend_is_immediate() {
        let peer = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let mut t = Transport::connect(peer.local_addr().expect("addr"), Duration::from_secs(2))
            .expect("connect");
        // A long first interval: only an immediate resend can finish well before it.
        t.initial_rto = Duration::from_secs(1);
        let responder = std::thread::spawn(move || {
            let mut buf = [0u8; 8];
            for _ in 0..2 {
                let (_, from) = peer.recv_from(&mut buf).expect("request");
                for reply in [&b"junk"[..], &[0xff; 3], &[buf[0]]] {
                    peer.send_to(reply, from).expect("reply");
                }
            }
        });
        let mut builds = 0u8;
        let started = Instant::now();
        let got = t
            .exchange(
                "x",
                Deadline::after(Duration::from_secs(2)),
                || {
                    builds += 1;
                    vec![builds]
                },
                |d| match d {
                    [1] => Accept::Resend, // the first answer asks for a fresh request
                    [2] => Accept::Done(2u8),
                    _ => Accept::Ignore,
                },
            )
            .expect("answer");
        assert_eq!(got, 2);
        assert!(
            started.elapsed() < Duration::from_millis(800),
            "resend waited for the retransmission timeout"
        );
        responder.join().expect("responder");
    }
}
