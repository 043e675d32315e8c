//! ICMP echo without shelling out to ping: an unprivileged ping socket where the system allows
//! one (net.ipv4.ping_group_range), else a raw socket (root, as Pacemaker runs agents). A
//! reply counts only when it comes from the target and carries our sequence number and token.

use std::net::{IpAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::sys::socket::{
    recvfrom, sendto, setsockopt, socket, sockopt, AddressFamily, MsgFlags, SockFlag, SockProtocol,
    SockType, SockaddrIn, SockaddrIn6, SockaddrLike, SockaddrStorage,
};
use nix::sys::time::{TimeVal, TimeValLike};
use ocf::Deadline;

const ECHO_REQUEST_V4: u8 = 8;
const ECHO_REPLY_V4: u8 = 0;
const ECHO_REQUEST_V6: u8 = 128;
const ECHO_REPLY_V6: u8 = 129;
/// type, code, checksum, identifier, sequence, then our 8-byte token.
const PACKET_LEN: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SocketKind {
    /// The kernel owns the identifier and passes us only our replies, without the IP header.
    Ping,
    /// Every ICMP packet of the host, IPv4 ones with their IP header.
    Raw,
}

pub fn echo(addr: IpAddr, sequence: u16, deadline: Deadline) -> Result<(), String> {
    let budget = deadline.remaining();
    let (fd, kind) = open(addr.is_ipv6())?;
    let identifier = std::process::id() as u16;
    let token = token();
    let request = echo_request(addr.is_ipv6(), identifier, sequence, token);
    let sent = match addr {
        IpAddr::V4(a) => send(&fd, &request, &SockaddrIn::from(SocketAddrV4::new(a, 0))),
        IpAddr::V6(a) => send(
            &fd,
            &request,
            &SockaddrIn6::from(SocketAddrV6::new(a, 0, 0, 0)),
        ),
    };
    sent.map_err(|e| format!("cannot send an ICMP echo request: {e}"))?;
    let mut buf = [0u8; 1500];
    loop {
        let left = deadline.remaining();
        if left.is_zero() {
            return Err(format!(
                "no ICMP echo reply within {} ms",
                budget.as_millis()
            ));
        }
        // A zero receive timeout would mean "wait forever".
        let wait = TimeVal::microseconds(left.max(Duration::from_millis(1)).as_micros() as i64);
        setsockopt(&fd, sockopt::ReceiveTimeout, &wait)
            .map_err(|e| format!("cannot bound the ICMP wait: {e}"))?;
        match recvfrom::<SockaddrStorage>(fd.as_raw_fd(), &mut buf) {
            Ok((n, from)) => {
                let from_target = from.as_ref().and_then(source) == Some(addr);
                if from_target
                    && is_our_reply(&buf[..n], kind, addr.is_ipv6(), identifier, sequence, token)
                {
                    return Ok(());
                }
            }
            Err(Errno::EAGAIN | Errno::EINTR) => continue,
            // A ping socket reports the network's ICMP errors (host unreachable...) here.
            Err(e) => return Err(format!("ICMP echo failed: {e}")),
        }
    }
}

fn open(v6: bool) -> Result<(OwnedFd, SocketKind), String> {
    let (family, protocol) = if v6 {
        (AddressFamily::Inet6, SockProtocol::IcmpV6)
    } else {
        (AddressFamily::Inet, SockProtocol::Icmp)
    };
    let open = |ty| socket(family, ty, SockFlag::SOCK_CLOEXEC, protocol);
    match open(SockType::Datagram) {
        Ok(fd) => Ok((fd, SocketKind::Ping)),
        Err(Errno::EACCES | Errno::EPERM | Errno::EPROTONOSUPPORT) => open(SockType::Raw)
            .map(|fd| (fd, SocketKind::Raw))
            .map_err(|e| {
                format!("cannot open an ICMP socket: {e} (needs root, or this group in net.ipv4.ping_group_range)")
            }),
        Err(e) => Err(format!("cannot open an ICMP socket: {e}")),
    }
}

fn send(fd: &OwnedFd, packet: &[u8], to: &dyn SockaddrLike) -> nix::Result<usize> {
    sendto(fd.as_raw_fd(), packet, to, MsgFlags::empty())
}

fn source(from: &SockaddrStorage) -> Option<IpAddr> {
    from.as_sockaddr_in()
        .map(|s| IpAddr::V4(s.ip()))
        .or_else(|| from.as_sockaddr_in6().map(|s| IpAddr::V6(s.ip())))
}

/// Different for every probe, so a late reply to an earlier round never counts.
fn token() -> [u8; 8] {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    (nanos ^ u64::from(std::process::id()).rotate_left(32)).to_be_bytes()
}

fn echo_request(v6: bool, identifier: u16, sequence: u16, token: [u8; 8]) -> [u8; PACKET_LEN] {
    let mut p = [0u8; PACKET_LEN];
    p[0] = if v6 { ECHO_REQUEST_V6 } else { ECHO_REQUEST_V4 };
    p[4..6].copy_from_slice(&identifier.to_be_bytes());
    p[6..8].copy_from_slice(&sequence.to_be_bytes());
    p[8..16].copy_from_slice(&token);
    // ICMPv6's checksum covers a pseudo-header: the kernel fills it in.
    if !v6 {
        let sum = checksum(&p);
        p[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    p
}

fn is_our_reply(
    data: &[u8],
    kind: SocketKind,
    v6: bool,
    identifier: u16,
    sequence: u16,
    token: [u8; 8],
) -> bool {
    let icmp = if kind == SocketKind::Raw && !v6 {
        let header = usize::from(data.first().map_or(0, |b| b & 0x0f)) * 4;
        data.get(header..).unwrap_or_default()
    } else {
        data
    };
    let Some(packet) = icmp.get(..PACKET_LEN) else {
        return false;
    };
    let reply = if v6 { ECHO_REPLY_V6 } else { ECHO_REPLY_V4 };
    packet[0] == reply
        && packet[1] == 0
        // a ping socket's identifier is the kernel's, not ours
        && (kind == SocketKind::Ping || packet[4..6] == identifier.to_be_bytes())
        && packet[6..8] == sequence.to_be_bytes()
        && packet[8..16] == token
}

/// The Internet checksum (RFC 1071).
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_request_checksums_to_zero_and_its_reply_is_recognized() {
        let token = [1, 2, 3, 4, 5, 6, 7, 8];
        let request = echo_request(false, 0x1234, 7, token);
        assert_eq!(checksum(&request), 0);
        let mut reply = request;
        reply[0] = ECHO_REPLY_V4;
        assert!(is_our_reply(
            &reply,
            SocketKind::Ping,
            false,
            0x1234,
            7,
            token
        ));
        // a raw IPv4 socket gives the IP header first
        let mut with_header = vec![0x45u8];
        with_header.extend_from_slice(&[0; 19]);
        with_header.extend_from_slice(&reply);
        assert!(is_our_reply(
            &with_header,
            SocketKind::Raw,
            false,
            0x1234,
            7,
            token
        ));
        assert!(!is_our_reply(
            &with_header,
            SocketKind::Raw,
            false,
            0x4321,
            7,
            token
        ));
        assert!(!is_our_reply(
            &reply,
            SocketKind::Ping,
            false,
            0x1234,
            8,
            token
        ));
        assert!(!is_our_reply(
            &request,
            SocketKind::Ping,
            false,
            0x1234,
            7,
            token
        ));
        assert!(!is_our_reply(
            &reply[..10],
            SocketKind::Ping,
            false,
            0x1234,
            7,
            token
        ));
        assert!(!is_our_reply(
            &reply,
            SocketKind::Ping,
            false,
            0x1234,
            7,
            [0; 8]
        ));
    }

    /// Needs root or ping_group_range, as the agent does under Pacemaker.
    #[test]
    fn the_loopback_answers_an_echo() {
        assert_eq!(
            echo(
                "127.0.0.1".parse().unwrap(),
                1,
                Deadline::after(Duration::from_secs(2))
            ),
            Ok(())
        );
        if std::path::Path::new("/proc/sys/net/ipv6/conf/lo").exists() {
            assert_eq!(
                echo(
                    "::1".parse().unwrap(),
                    2,
                    Deadline::after(Duration::from_secs(2))
                ),
                Ok(())
            );
        }
    }

    /// TEST-NET-3 is never routed: no reply, and the probe ends by its deadline.
    #[test]
    fn a_blackhole_address_fails_within_the_deadline() {
        let t = Instant::now();
        let r = echo(
            "203.0.113.1".parse().unwrap(),
            3,
            Deadline::after(Duration::from_millis(300)),
        );
        assert!(r.is_err(), "{r:?}");
        assert!(
            t.elapsed() < Duration::from_millis(450),
            "{:?}",
            t.elapsed()
        );
    }
}
