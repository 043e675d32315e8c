//! TCP probe: a connection accepted within the deadline (then closed at once). A refused
//! connection fails the probe: the target names a service that should be listening.

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use ocf::Deadline;

pub fn connect(addr: SocketAddr, deadline: Deadline) -> Result<(), String> {
    let budget = deadline.remaining();
    if budget.is_zero() {
        return Err("no time left for the connection".into());
    }
    match TcpStream::connect_timeout(&addr, budget) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Err(format!(
            "no TCP answer within {} ms",
            budget.max(Duration::from_millis(1)).as_millis()
        )),
        Err(e) => Err(format!("TCP connection failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Instant;

    #[test]
    fn an_open_port_answers_and_a_closed_one_fails_at_once() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        assert_eq!(
            connect(open, Deadline::after(Duration::from_secs(2))),
            Ok(())
        );
        drop(listener);
        let t = Instant::now();
        let e = connect(open, Deadline::after(Duration::from_secs(2))).unwrap_err();
        assert!(e.contains("refused"), "{e}");
        assert!(t.elapsed() < Duration::from_millis(500));
    }

    /// A peer that never answers (its SYNs dropped): the probe gives up by its deadline.
    #[test]
    fn a_blackhole_fails_within_the_deadline() {
        let silent = crate::testnet::SilentPort::new();
        let t = Instant::now();
        let r = connect(silent.addr, Deadline::after(Duration::from_millis(300)));
        assert!(r.unwrap_err().contains("no TCP answer within"));
        assert!(
            t.elapsed() < Duration::from_millis(450),
            "{:?}",
            t.elapsed()
        );
    }
}
