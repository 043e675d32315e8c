//! Host name resolution bounded by a deadline: getaddrinfo has no timeout of its own, and no
//! agent may hang on a dead DNS server.

use crate::Deadline;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::thread;

/// Addresses of `host` (a name or an IP literal, IPv6 with or without brackets) at `port`.
/// A lookup still running at the deadline is abandoned on its thread.
pub fn resolve(host: &str, port: u16, deadline: Deadline) -> Result<Vec<SocketAddr>, String> {
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (tx, rx) = mpsc::channel();
    let name = host.to_string();
    thread::Builder::new()
        .name("resolve".into())
        .spawn(move || {
            let result = (name.as_str(), port)
                .to_socket_addrs()
                .map(|addrs| addrs.collect::<Vec<_>>())
                .map_err(|e| e.to_string());
            let _ = tx.send(result);
        })
        .map_err(|e| format!("cannot resolve '{host}': cannot start a thread: {e}"))?;
    match rx.recv_timeout(deadline.remaining()) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(format!("'{host}' resolves to no address")),
        Ok(Err(e)) => Err(format!("cannot resolve '{host}': {e}")),
        Err(_) => Err(format!("cannot resolve '{host}': no answer in time")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn literals_need_no_lookup() {
        let d = Deadline::after(Duration::ZERO);
        assert_eq!(
            resolve("127.0.0.1", 623, d).unwrap(),
            vec!["127.0.0.1:623".parse().unwrap()]
        );
        assert_eq!(
            resolve("[::1]", 623, d).unwrap(),
            vec!["[::1]:623".parse().unwrap()]
        );
    }

    #[test]
    fn a_lookup_gets_no_more_than_the_deadline() {
        let e = resolve("localhost", 7, Deadline::after(Duration::ZERO)).unwrap_err();
        assert!(e.contains("no answer in time"), "{e}");
    }

    #[test]
    fn names_resolve_and_failures_are_one_line() {
        let d = Deadline::after(Duration::from_secs(5));
        assert!(resolve("localhost", 623, d)
            .unwrap()
            .iter()
            .all(|a| a.ip().is_loopback()));
        let err = resolve("no-such-host.invalid", 623, d).unwrap_err();
        assert!(
            err.starts_with("cannot resolve 'no-such-host.invalid'") && !err.contains('\n'),
            "{err}"
        );
    }
}
