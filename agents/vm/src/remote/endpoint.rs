//! Which libvirt URIs the remote-protocol client serves itself, and where their daemon listens.
//! Only the cases that need no authentication library: the local qemu system daemon over its
//! UNIX socket (polkit is a plain call) and `qemu+tcp` without SASL. Everything else (tls, ssh,
//! session daemons, other drivers, unknown URI options) is left to the libvirt library.

use std::path::PathBuf;

/// The run directory of the system daemons.
const RUN_DIR: &str = "/run/libvirt";
/// libvirtd's TCP port when the URI names none.
const TCP_PORT: u16 = 16509;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Unix(PathBuf),
    Tcp { host: String, port: u16 },
}

/// Where to connect, and the URI to open there (the transport and server removed, as the
/// libvirt client sends it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub address: Address,
    pub open_uri: String,
}

impl Endpoint {
    /// The endpoint for `uri`, or why the libvirt library must serve it instead.
    pub fn for_uri(uri: &str) -> Result<Endpoint, String> {
        let (scheme, rest) = uri
            .split_once("://")
            .ok_or_else(|| format!("{uri} is not a URI"))?;
        let (driver, transport) = match scheme.split_once('+') {
            Some((d, t)) => (d, Some(t)),
            None => (scheme, None),
        };
        if driver != "qemu" {
            return Err(format!("driver {driver}"));
        }
        let (authority, path_query) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let (path, query) = match path_query.split_once('?') {
            Some((p, q)) => (p, q),
            None => (path_query, ""),
        };
        if path != "/system" {
            return Err(format!("path {path}"));
        }
        let mut socket = None;
        let mut mode = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("socket", v)) if !v.is_empty() => socket = Some(PathBuf::from(v)),
                Some(("mode", v)) if v == "legacy" || v == "direct" || v == "auto" => {
                    mode = Some(v)
                }
                _ => return Err(format!("URI option {pair}")),
            }
        }
        let address = match transport {
            None | Some("unix") if authority.is_empty() => {
                Address::Unix(socket.unwrap_or_else(|| system_socket(mode)))
            }
            Some("tcp") if socket.is_none() && !authority.is_empty() => tcp_address(authority)?,
            _ => return Err(format!("transport of {uri}")),
        };
        Ok(Endpoint {
            address,
            open_uri: "qemu:///system".to_string(),
        })
    }
}

/// libvirtd's socket when it runs (or mode=legacy), else the modular virtqemud's.
fn system_socket(mode: Option<&str>) -> PathBuf {
    let legacy = PathBuf::from(RUN_DIR).join("libvirt-sock");
    let direct = PathBuf::from(RUN_DIR).join("virtqemud-sock");
    match mode {
        Some("legacy") => legacy,
        Some("direct") => direct,
        _ if legacy.exists() || !direct.exists() => legacy,
        _ => direct,
    }
}

fn tcp_address(authority: &str) -> Result<Address, String> {
    if authority.contains('@') {
        return Err("a user name (SASL)".into());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("host {authority}"))?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().map_err(|_| format!("port {p}"))?,
        None => TCP_PORT,
    };
    Ok(Address::Tcp {
        host: host.to_string(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_and_unix_system_uris_are_served() {
        let e = Endpoint::for_uri("qemu+tcp://127.0.0.1:19871/system").unwrap();
        assert_eq!(
            e.address,
            Address::Tcp {
                host: "127.0.0.1".into(),
                port: 19871
            }
        );
        assert_eq!(e.open_uri, "qemu:///system");
        let e = Endpoint::for_uri("qemu+tcp://[::1]/system").unwrap();
        assert_eq!(
            e.address,
            Address::Tcp {
                host: "::1".into(),
                port: 16509
            }
        );
        let e = Endpoint::for_uri("qemu+unix:///system?socket=/tmp/h/libvirt-sock").unwrap();
        assert_eq!(e.address, Address::Unix("/tmp/h/libvirt-sock".into()));
        let e = Endpoint::for_uri("qemu:///system?mode=direct").unwrap();
        assert_eq!(
            e.address,
            Address::Unix("/run/libvirt/virtqemud-sock".into())
        );
        assert!(matches!(
            Endpoint::for_uri("qemu:///system").unwrap().address,
            Address::Unix(_)
        ));
    }

    #[test]
    fn what_needs_the_library_is_refused() {
        for uri in [
            "test:///default",
            "qemu:///session",
            "qemu+ssh://root@host/system",
            "qemu+tls://host/system",
            "qemu://host/system",
            "qemu+tcp://user@host/system",
            "qemu+tcp://host/system?no_verify=1",
            "qemu+unix://host/system",
            "xen:///system",
            "qemu+tcp://host:port/system",
            "nonsense",
        ] {
            assert!(Endpoint::for_uri(uri).is_err(), "{uri}");
        }
    }
}
