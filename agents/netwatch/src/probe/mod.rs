//! One probe of one target, bounded by a deadline: Ok when the peer answered, else why not.

mod arp;
pub use arp::ARPING;
mod icmp;
mod tcp;

use ocf::Deadline;

use crate::target::Target;

/// Probes `target` (an ARP target on `arp_interface`). `sequence` tells apart the echo
/// requests of successive rounds.
pub fn probe(
    target: &Target,
    arp_interface: Option<&str>,
    sequence: u16,
    deadline: Deadline,
) -> Result<(), String> {
    match target {
        Target::Icmp(addr) => icmp::echo(*addr, sequence, deadline),
        Target::Tcp(addr) => tcp::connect(*addr, deadline),
        Target::Arp { addr, .. } => match arp_interface {
            Some(interface) => arp::who_has(*addr, interface, deadline),
            None => Err("no interface to send the ARP request on".into()),
        },
    }
}
