//! One round: every interface's link and every target, probed in parallel within the round's
//! budget. The round passes when all interfaces have link and `threshold` targets answered.

use std::thread;

use ocf::Deadline;

use crate::config::Config;
use crate::link::Sysfs;
use crate::probe::probe;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub passed: bool,
    /// What failed (empty when everything answered): for the log and the exit reason.
    pub why: String,
}

pub fn run(config: &Config, sysfs: &Sysfs, sequence: u16) -> Outcome {
    let deadline = Deadline::after(config.probe_budget());
    let mut problems: Vec<String> = config
        .interfaces
        .iter()
        .filter_map(|i| sysfs.link(i).err())
        .collect();
    let answers: Vec<Result<(), String>> = thread::scope(|scope| {
        let probes: Vec<_> = config
            .targets
            .iter()
            .map(|t| {
                let interface = config.arp_interface(t);
                scope.spawn(move || probe(t, interface, sequence, deadline))
            })
            .collect();
        probes
            .into_iter()
            .map(|p| {
                p.join()
                    .unwrap_or_else(|_| Err("the probe panicked".to_string()))
            })
            .collect()
    });
    let answered = answers.iter().filter(|a| a.is_ok()).count();
    let enough = config.targets.is_empty() || answered >= config.threshold;
    if !enough {
        problems.extend(
            config
                .targets
                .iter()
                .zip(&answers)
                .filter_map(|(t, a)| a.as_ref().err().map(|why| format!("{t}: {why}"))),
        );
        problems.push(format!(
            "{answered} of {} targets answered, {} needed",
            config.targets.len(),
            config.threshold
        ));
    }
    Outcome {
        passed: problems.is_empty(),
        why: problems.join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::{Duration, Instant};

    fn config(targets: &str, threshold: &str, interfaces: &str) -> Config {
        let params: Vec<(String, String)> = [
            ("network", "test"),
            ("targets", targets),
            ("threshold", threshold),
            ("interfaces", interfaces),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Config::from_params(&params).unwrap()
    }

    #[test]
    fn the_threshold_decides_and_a_dead_target_is_named() {
        let open = TcpListener::bind("127.0.0.1:0").unwrap();
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let targets = format!("tcp:{} tcp:{closed}", open.local_addr().unwrap());
        let sysfs = Sysfs::default();
        assert!(run(&config(&targets, "1", "lo"), &sysfs, 1).passed);
        let t = Instant::now();
        let two = run(&config(&targets, "2", ""), &sysfs, 2);
        assert!(!two.passed);
        assert!(two.why.contains(&format!("tcp:{closed}")), "{}", two.why);
        assert!(
            two.why.contains("1 of 2 targets answered, 2 needed"),
            "{}",
            two.why
        );
        assert!(t.elapsed() < Duration::from_millis(800));
    }

    #[test]
    fn a_missing_interface_fails_the_round_even_when_targets_answer() {
        let open = TcpListener::bind("127.0.0.1:0").unwrap();
        let c = config(
            &format!("tcp:{}", open.local_addr().unwrap()),
            "1",
            "lo nosuch0",
        );
        let r = run(&c, &Sysfs::default(), 1);
        assert_eq!(r.why, "interface nosuch0 does not exist");
        assert!(!r.passed);
    }

    /// A round of unanswered probes ends within its budget (80% of the interval). (A silent
    /// TCP peer is tested in probe::tcp with a shorter deadline: a loopback listener with a
    /// full queue lets a retransmitted SYN through within a second on some kernels.)
    #[test]
    fn a_round_of_dead_targets_ends_within_the_budget() {
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        // TEST-NET-3 is never routed: no echo reply (at most an ICMP error, not a reply).
        let targets = format!("203.0.113.1 tcp:{closed} 203.0.113.3");
        let t = Instant::now();
        let r = run(&config(&targets, "1", ""), &Sysfs::default(), 1);
        assert!(!r.passed, "{r:?}");
        assert!(
            t.elapsed() < Duration::from_millis(950),
            "{:?}",
            t.elapsed()
        );
    }
}
