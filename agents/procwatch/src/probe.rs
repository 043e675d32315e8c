//! Health probes: `exec:CMD` (exit 0), `tcp:HOST:PORT` (connects), `http(s)://...` (expected status).

use crate::run::{run_bounded, Limits};
use ocf::Deadline;
use std::net::TcpStream;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Exec(String),
    Tcp { host: String, port: u16 },
    Http { url: String },
}

/// Accepted HTTP status codes: `2xx`, `200`, `200,204`, `200-399` (comma-separated, combined).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSet(Vec<(u16, u16)>);

impl StatusSet {
    pub fn parse(text: &str) -> Result<StatusSet, String> {
        let bad = || format!("probe_status '{text}' is not like 200, 2xx, 200-399 or 200,204");
        let mut ranges = Vec::new();
        for part in text.split(',').map(str::trim) {
            let range =
                if let Some(class) = part.strip_suffix("xx").or_else(|| part.strip_suffix("XX")) {
                    let c: u16 = class.parse().map_err(|_| bad())?;
                    (c * 100, c * 100 + 99)
                } else if let Some((a, b)) = part.split_once('-') {
                    (
                        a.trim().parse().map_err(|_| bad())?,
                        b.trim().parse().map_err(|_| bad())?,
                    )
                } else {
                    let c: u16 = part.parse().map_err(|_| bad())?;
                    (c, c)
                };
            if !(100..=599).contains(&range.0)
                || !(100..=599).contains(&range.1)
                || range.0 > range.1
            {
                return Err(bad());
            }
            ranges.push(range);
        }
        Ok(StatusSet(ranges))
    }
    pub fn contains(&self, code: u16) -> bool {
        self.0.iter().any(|(a, b)| (*a..=*b).contains(&code))
    }
}

impl Probe {
    pub fn parse(text: &str) -> Result<Probe, String> {
        let text = text.trim();
        if let Some(cmd) = text.strip_prefix("exec:") {
            if cmd.trim().is_empty() {
                return Err("probe 'exec:' needs a command".into());
            }
            return Ok(Probe::Exec(cmd.trim().to_string()));
        }
        if let Some(rest) = text.strip_prefix("tcp:") {
            let (host, port) = rest
                .rsplit_once(':')
                .ok_or_else(|| format!("probe '{text}' is not tcp:HOST:PORT"))?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let port: u16 = port
                .parse()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("probe '{text}': '{port}' is not a TCP port"))?;
            if host.is_empty() {
                return Err(format!("probe '{text}' has no host"));
            }
            return Ok(Probe::Tcp {
                host: host.to_string(),
                port,
            });
        }
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            check_url(text)?;
            return Ok(Probe::Http {
                url: text.to_string(),
            });
        }
        Err(format!(
            "probe '{}' is not exec:CMD, tcp:HOST:PORT or an http(s):// URL",
            redact(text)
        ))
    }

    /// Run once, within `timeout` and the operation deadline; Err says what failed.
    pub fn check(
        &self,
        timeout: Duration,
        deadline: Deadline,
        expected: &StatusSet,
    ) -> Result<(), String> {
        let deadline = deadline.capped(timeout);
        match self {
            Probe::Exec(cmd) => {
                let out = run_bounded(&["/bin/sh", "-c", cmd], &[], deadline, Limits::default())
                    .map_err(|e| format!("probe exec:{cmd}: {e}"))?;
                if out.success() {
                    Ok(())
                } else {
                    Err(format!(
                        "probe exec:{cmd} failed ({}){}",
                        out.describe_status(),
                        out.last_line_suffix()
                    ))
                }
            }
            Probe::Tcp { host, port } => {
                let addrs = ocf::resolve(host, *port, deadline)
                    .map_err(|e| format!("probe tcp:{host}:{port}: {e}"))?;
                let mut last = format!("probe tcp:{host}:{port}: no address");
                for addr in addrs {
                    let left = deadline.remaining();
                    if left.is_zero() {
                        return Err(format!("probe tcp:{host}:{port}: timed out"));
                    }
                    match TcpStream::connect_timeout(&addr, left) {
                        Ok(_) => return Ok(()),
                        Err(e) => last = format!("probe tcp:{host}:{port}: {e}"),
                    }
                }
                Err(last)
            }
            Probe::Http { url: full } => {
                let url = redact(full);
                let left = deadline.remaining();
                if left.is_zero() {
                    return Err(format!("probe {url}: timed out"));
                }
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .timeout_global(Some(left))
                    .http_status_as_error(false)
                    .max_redirects(0)
                    .user_agent("paddock-procwatch")
                    .build()
                    .into();
                match agent.get(full).call() {
                    Ok(resp) => {
                        let code = resp.status().as_u16();
                        if expected.contains(code) {
                            Ok(())
                        } else {
                            Err(format!(
                                "probe {url}: HTTP status {code} is not the expected one"
                            ))
                        }
                    }
                    Err(e) => Err(format!(
                        "probe {url}: {}",
                        e.to_string().lines().next().unwrap_or("request failed")
                    )),
                }
            }
        }
    }
}

/// The URL for messages: a password in it (`http://user:secret@host/`) is not repeated.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{}", &rest[end..]),
        None => url.to_string(),
    }
}

/// A URL we can request: scheme, a host, optional port, optional path; no blanks.
fn check_url(url: &str) -> Result<(), String> {
    let bad = |why: &str| format!("probe '{}' is not a valid URL: {why}", redact(url));
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("contains blanks"));
    }
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or("");
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostport = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("unclosed [ in host"))?;
        (h, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    if let Some(p) = port {
        p.parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad("bad port"))?;
    }
    url.parse::<ureq::http::Uri>()
        .map_err(|e| bad(&e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_kinds() {
        assert_eq!(
            Probe::parse("exec:virsh version").unwrap(),
            Probe::Exec("virsh version".into())
        );
        assert_eq!(
            Probe::parse("tcp:127.0.0.1:16509").unwrap(),
            Probe::Tcp {
                host: "127.0.0.1".into(),
                port: 16509
            }
        );
        assert_eq!(
            Probe::parse("tcp:[::1]:80").unwrap(),
            Probe::Tcp {
                host: "::1".into(),
                port: 80
            }
        );
        assert!(matches!(
            Probe::parse("http://127.0.0.1:8080/healthz").unwrap(),
            Probe::Http { .. }
        ));
        assert!(matches!(
            Probe::parse("https://[::1]/").unwrap(),
            Probe::Http { .. }
        ));
    }

    #[test]
    fn rejects_what_is_not_a_probe() {
        for bad in [
            "http//x",
            "htp://x",
            "http://",
            "http://:80/",
            "http://host:0/",
            "http://host:99999/",
            "http://a b/",
            "tcp:host",
            "tcp::80",
            "exec:",
            "ping",
        ] {
            assert!(Probe::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_in_urls_are_not_repeated() {
        assert_eq!(
            redact("http://admin:s3cret@127.0.0.1:80/x?a=b"),
            "http://***@127.0.0.1:80/x?a=b"
        );
        assert_eq!(redact("https://host/p@th"), "https://host/p@th");
        let e = Probe::parse("http://admin:s3cret@/x").unwrap_err();
        assert!(!e.contains("s3cret"), "{e}");
    }

    #[test]
    fn status_sets() {
        let s = StatusSet::parse("2xx,301, 400-404").unwrap();
        assert!(s.contains(204) && s.contains(301) && s.contains(403));
        assert!(!s.contains(302) && !s.contains(500));
        assert!(
            StatusSet::parse("abc").is_err()
                && StatusSet::parse("600").is_err()
                && StatusSet::parse("300-200").is_err()
        );
    }

    #[test]
    fn tcp_probe_connects_to_a_real_listener() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let any = StatusSet::parse("2xx").unwrap();
        let d = Deadline::after(Duration::from_secs(5));
        assert!(Probe::Tcp {
            host: "127.0.0.1".into(),
            port
        }
        .check(Duration::from_secs(2), d, &any)
        .is_ok());
        drop(l);
        assert!(Probe::Tcp {
            host: "127.0.0.1".into(),
            port
        }
        .check(Duration::from_secs(2), d, &any)
        .is_err());
    }

    #[test]
    fn exec_probe_reports_exit_status_and_is_bounded() {
        let any = StatusSet::parse("2xx").unwrap();
        let d = Deadline::after(Duration::from_secs(5));
        assert!(Probe::Exec("true".into())
            .check(Duration::from_secs(2), d, &any)
            .is_ok());
        let e = Probe::Exec("echo broken; exit 3".into())
            .check(Duration::from_secs(2), d, &any)
            .unwrap_err();
        assert!(e.contains("exit status 3") && e.contains("broken"), "{e}");
        let t = std::time::Instant::now();
        let e = Probe::Exec("sleep 30".into())
            .check(Duration::from_millis(300), d, &any)
            .unwrap_err();
        assert!(
            t.elapsed() < Duration::from_secs(2) && e.contains("timed out"),
            "{e}"
        );
    }
}
