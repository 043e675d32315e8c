//! Test peers on 127.0.0.1: a port that never answers a connection attempt (the "blackhole"
//! a dead peer or a dropped network looks like), without touching routes or firewalls.

use std::net::{SocketAddr, SocketAddrV4, TcpStream};
use std::os::fd::OwnedFd;
use std::time::Duration;

use nix::sys::socket::{
    bind, getsockname, listen, socket, AddressFamily, Backlog, SockFlag, SockType, SockaddrIn,
};

/// A listener that never accepts, with a backlog of zero already filled: Linux drops further
/// SYNs, so a connection attempt hangs until its own timeout.
pub struct SilentPort {
    pub addr: SocketAddr,
    _listener: OwnedFd,
    _fillers: Vec<TcpStream>,
}

impl SilentPort {
    pub fn new() -> SilentPort {
        let listener = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .expect("socket");
        let any_port = SockaddrIn::from(SocketAddrV4::new([127, 0, 0, 1].into(), 0));
        bind(std::os::fd::AsRawFd::as_raw_fd(&listener), &any_port).expect("bind");
        listen(&listener, Backlog::new(0).expect("backlog")).expect("listen");
        let bound: SockaddrIn =
            getsockname(std::os::fd::AsRawFd::as_raw_fd(&listener)).expect("getsockname");
        let addr = SocketAddr::V4(SocketAddrV4::new(bound.ip(), bound.port()));
        // Connections until one is not answered: the queue is full (kernels differ in how
        // many a backlog of zero holds).
        let mut fillers = Vec::new();
        while let Ok(c) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            fillers.push(c);
            assert!(fillers.len() < 64, "the listener's queue never fills");
        }
        SilentPort {
            addr,
            _listener: listener,
            _fillers: fillers,
        }
    }
}
