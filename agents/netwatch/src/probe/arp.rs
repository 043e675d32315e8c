//! ARP probe: a who-has request on the interface and its reply, by iputils' arping (a raw
//! packet socket; Rust's safe socket APIs cannot address one). The neighbour table is no
//! substitute: an entry stays REACHABLE for up to a minute after the peer died.

use std::net::Ipv4Addr;
use std::process::Command;
use std::time::Duration;

use ocf::command::{run_bounded, Limits, RunError};
use ocf::Deadline;

pub const ARPING: &str = "arping";

pub fn who_has(addr: Ipv4Addr, interface: &str, deadline: Deadline) -> Result<(), String> {
    let budget = deadline.remaining();
    if budget.is_zero() {
        return Err("no time left for the ARP request".into());
    }
    // arping takes whole seconds; the bounded runner ends it at the real deadline.
    let whole_seconds = budget.as_secs() + u64::from(budget.subsec_nanos() > 0);
    let mut command = Command::new(ARPING);
    command
        .args(["-q", "-f", "-c", "1", "-w"])
        .arg(whole_seconds.max(1).to_string())
        .args(["-I", interface])
        .arg(addr.to_string());
    match run_bounded(&mut command, deadline, Limits::default()) {
        Ok(out) if out.success() => Ok(()),
        Ok(out) if out.status.code() == Some(1) && out.stderr.is_empty() => {
            Err(format!("no ARP reply on {interface}"))
        }
        Ok(out) => Err(format!(
            "arping on {interface}: {}{}",
            out.describe_status(),
            out.last_line_suffix()
        )),
        Err(RunError::TimedOut { .. }) => Err(format!(
            "no ARP reply on {interface} within {} ms",
            budget.max(Duration::from_millis(1)).as_millis()
        )),
        Err(e) => Err(format!("{e} (install iputils-arping)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// The loopback interface has no ARP: the probe fails, and by its deadline.
    #[test]
    fn an_interface_without_arp_fails_within_the_deadline() {
        let t = Instant::now();
        let r = who_has(
            "127.0.0.2".parse().unwrap(),
            "lo",
            Deadline::after(Duration::from_millis(400)),
        );
        assert!(r.is_err(), "{r:?}");
        assert!(
            t.elapsed() < Duration::from_millis(900),
            "{:?}",
            t.elapsed()
        );
    }
}
