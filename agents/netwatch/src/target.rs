//! The `targets` parameter: which peers a round probes, and how.
//!
//! `10.0.0.1` or `fd00::1` (ICMP echo), `arp:10.0.0.1` or `arp:10.0.0.1%eth1` (ARP who-has on
//! the named interface, else the first of `interfaces`), `tcp:10.0.0.1:3260` or
//! `tcp:[fd00::1]:3260` (a TCP connection accepted). Items are separated by blanks or commas.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Icmp(IpAddr),
    Arp {
        addr: Ipv4Addr,
        interface: Option<String>,
    },
    Tcp(SocketAddr),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Icmp(addr) => write!(f, "{addr}"),
            Target::Arp {
                addr,
                interface: Some(i),
            } => write!(f, "arp:{addr}%{i}"),
            Target::Arp { addr, .. } => write!(f, "arp:{addr}"),
            Target::Tcp(addr) => write!(f, "tcp:{addr}"),
        }
    }
}

/// Blank- or comma-separated items, empty ones skipped.
pub fn split_list(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
}

/// Every item of the list, or the first bad one named with why.
pub fn parse_list(text: &str) -> Result<Vec<Target>, String> {
    split_list(text).map(parse).collect()
}

pub fn parse(item: &str) -> Result<Target, String> {
    let bad = |why: &str| format!("target '{}': {why}", item.escape_debug());
    if let Some(rest) = item.strip_prefix("tcp:") {
        let addr: SocketAddr = rest
            .parse()
            .map_err(|_| bad("expected tcp:ADDRESS:PORT (tcp:[IPv6]:PORT for IPv6)"))?;
        if addr.port() == 0 {
            return Err(bad("port 0 cannot be connected to"));
        }
        return Ok(Target::Tcp(addr));
    }
    if let Some(rest) = item.strip_prefix("arp:") {
        let (addr, interface) = match rest.split_once('%') {
            Some((a, i)) if valid_interface_name(i) => (a, Some(i.to_string())),
            Some(_) => return Err(bad("bad interface name after %")),
            None => (rest, None),
        };
        let addr: Ipv4Addr = addr
            .parse()
            .map_err(|_| bad("ARP needs an IPv4 address: arp:ADDRESS or arp:ADDRESS%INTERFACE"))?;
        return Ok(Target::Arp { addr, interface });
    }
    item.parse::<IpAddr>().map(Target::Icmp).map_err(|_| {
        bad("not an IP address (ICMP), arp:ADDRESS or tcp:ADDRESS:PORT (names are not resolved: a probe must not wait for DNS)")
    })
}

/// What Linux accepts as an interface name: 1-15 bytes, no '/', blank or ':'.
pub fn valid_interface_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 16
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == ':' || c == '%' || c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_kinds_parse_in_one_list() {
        let list = parse_list(
            "10.0.0.1, fd00::1 arp:10.0.0.2 arp:10.0.0.3%eth1,tcp:10.0.0.4:3260 tcp:[fd00::4]:22",
        )
        .unwrap();
        assert_eq!(
            list,
            vec![
                Target::Icmp("10.0.0.1".parse().unwrap()),
                Target::Icmp("fd00::1".parse().unwrap()),
                Target::Arp {
                    addr: "10.0.0.2".parse().unwrap(),
                    interface: None
                },
                Target::Arp {
                    addr: "10.0.0.3".parse().unwrap(),
                    interface: Some("eth1".into())
                },
                Target::Tcp("10.0.0.4:3260".parse().unwrap()),
                Target::Tcp("[fd00::4]:22".parse().unwrap()),
            ]
        );
        let shown: Vec<String> = list.iter().map(ToString::to_string).collect();
        assert_eq!(shown[3], "arp:10.0.0.3%eth1");
        assert_eq!(shown[5], "tcp:[fd00::4]:22");
    }

    #[test]
    fn garbage_is_named_with_what_was_expected() {
        for (item, needle) in [
            ("storage-gw", "not an IP address"),
            ("10.0.0.300", "not an IP address"),
            ("tcp:10.0.0.1", "tcp:ADDRESS:PORT"),
            ("tcp:fd00::1:22", "tcp:[IPv6]:PORT"),
            ("tcp:10.0.0.1:0", "port 0"),
            ("arp:fd00::1", "IPv4"),
            ("arp:10.0.0.1%", "interface"),
            ("icmp:10.0.0.1", "not an IP address"),
        ] {
            let e = parse_list(&format!("10.0.0.9 {item}")).unwrap_err();
            assert!(
                e.contains(&format!("'{item}'")) && e.contains(needle),
                "{item}: {e}"
            );
        }
    }

    #[test]
    fn an_empty_list_is_empty() {
        assert_eq!(parse_list(" , ").unwrap(), vec![]);
    }

    #[test]
    fn interface_names_follow_linux() {
        assert!(valid_interface_name("eth0"));
        assert!(valid_interface_name("bond0.100"));
        assert!(!valid_interface_name("a/b"));
        assert!(!valid_interface_name("sixteen-chars-xx"));
        assert!(!valid_interface_name(""));
    }
}
