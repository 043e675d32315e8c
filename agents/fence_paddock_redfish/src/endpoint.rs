//! Where the BMC is: `ip` (IPv4, IPv6 literal with or without brackets, hostname, each with an
//! optional `:port`, or a full `http(s)://host:port` origin) and `ipport` into one URL origin.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub scheme: Scheme,
    /// Host as written in a URL: IPv6 literals in brackets.
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    /// `ip` as given; `ipport` the port when `ip` names none; `https` the scheme when `ip` names none.
    pub fn parse(ip: &str, ipport: u16, https: bool) -> Result<Endpoint, String> {
        let ip = ip.trim();
        if ip.is_empty() {
            return Err("ip is empty: give the BMC's address or hostname".into());
        }
        let (scheme, rest) = if let Some(rest) = ip.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = ip.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else if https {
            (Scheme::Https, ip)
        } else {
            (Scheme::Http, ip)
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = split_host_port(rest).ok_or_else(|| bad_ip(ip))?;
        let port = match port {
            Some(text) => text
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| bad_ip(ip))?,
            None => ipport,
        };
        if port == 0 {
            return Err("ipport must be between 1 and 65535".into());
        }
        let host = if let Ok(v6) = host.parse::<Ipv6Addr>() {
            format!("[{v6}]")
        } else if host.parse::<Ipv4Addr>().is_ok() || is_hostname(host) {
            host.to_ascii_lowercase()
        } else {
            return Err(bad_ip(ip));
        };
        Ok(Endpoint { scheme, host, port })
    }

    /// `scheme://host:port`, no trailing slash.
    pub fn origin(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        format!("{scheme}://{}:{}", self.host, self.port)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

fn bad_ip(ip: &str) -> String {
    // `https://user:password@host` is not accepted, and its password must not be repeated.
    let (scheme, rest) = ip.split_once("://").unwrap_or(("", ip));
    let shown = match rest.rsplit_once('@') {
        Some((_, host)) if scheme.is_empty() => format!("***@{host}"),
        Some((_, host)) => format!("{scheme}://***@{host}"),
        None => ip.to_string(),
    };
    format!(
        "ip '{}' is not an IPv4 address, IPv6 address or hostname (optionally with :port)",
        crate::error::one_line(&shown, 80)
    )
}

/// Split `host[:port]`, `[v6][:port]` or a bare IPv6 literal. None when malformed.
fn split_host_port(text: &str) -> Option<(&str, Option<&str>)> {
    if let Some(inner) = text.strip_prefix('[') {
        let close = inner.find(']')?;
        let host = &inner[..close];
        host.parse::<Ipv6Addr>().ok()?;
        return match &inner[close + 1..] {
            "" => Some((host, None)),
            tail => Some((host, Some(tail.strip_prefix(':')?))),
        };
    }
    match text.matches(':').count() {
        0 => Some((text, None)),
        1 => text.split_once(':').map(|(h, p)| (h, Some(p))),
        // more than one colon: only a bare IPv6 literal makes sense
        _ => text.parse::<Ipv6Addr>().ok().map(|_| (text, None)),
    }
}

fn is_hostname(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(ip: &str, port: u16, https: bool) -> String {
        Endpoint::parse(ip, port, https)
            .map(|e| e.origin())
            .unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn credentials_in_ip_are_not_repeated() {
        for ip in ["https://admin:s3cret@bmc1", "admin:s3cret@bmc1:8443"] {
            let e = Endpoint::parse(ip, 443, true).unwrap_err();
            assert!(!e.contains("s3cret") && e.contains("***@bmc1"), "{e}");
        }
    }

    #[test]
    fn ipv4_and_hostnames() {
        assert_eq!(origin("10.0.0.5", 443, true), "https://10.0.0.5:443");
        assert_eq!(origin("10.0.0.5:8443", 443, true), "https://10.0.0.5:8443");
        assert_eq!(
            origin("BMC-1.Example.com", 443, false),
            "http://bmc-1.example.com:443"
        );
        assert_eq!(origin(" bmc1 ", 623, true), "https://bmc1:623");
    }

    #[test]
    fn ipv6_literals_with_and_without_brackets() {
        assert_eq!(origin("::1", 443, true), "https://[::1]:443");
        assert_eq!(origin("[::1]", 8000, true), "https://[::1]:8000");
        assert_eq!(
            origin("[fd00::0:5]:8443", 443, true),
            "https://[fd00::5]:8443"
        );
        assert_eq!(
            origin("2001:db8::1", 443, true),
            "https://[2001:db8::1]:443"
        );
    }

    #[test]
    fn explicit_scheme_wins() {
        assert_eq!(
            origin("http://127.0.0.1:8000/", 443, true),
            "http://127.0.0.1:8000"
        );
        assert_eq!(origin("https://[::1]", 443, false), "https://[::1]:443");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "[::1",
            "[nothost]:1",
            "host:0",
            "host:99999",
            "host:abc",
            "a b",
            "bmc_1",
            "1:2:3",
            "[::1]x",
        ] {
            assert!(Endpoint::parse(bad, 443, true).is_err(), "{bad:?} accepted");
        }
        assert!(Endpoint::parse("host", 0, true).is_err());
    }
}
