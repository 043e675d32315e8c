//! The parameter table (source of OCF_RESKEY_* parsing, metadata and the man page) and the
//! parsed configuration of one watched network.

use std::path::PathBuf;
use std::time::Duration;

use ocf::{OcfError, ParamType, ParameterSpec};

use crate::target::{self, Target};

pub const NETWORK: ParameterSpec = ParameterSpec::new(
    "network",
    ParamType::String,
    "Name of the watched network",
    "A short name for the network (letters, digits, '-', '_', '.'): storage, tenant, admin. It \
     names the node attribute the agent publishes, paddock-net-NETWORK (ok or lost), the node \
     health attribute #health-paddock-NETWORK (on_loss=migrate), the log file and the state \
     files. One clone per network.",
)
.required()
.unique_group("network")
.example("storage");

pub const INTERFACES: ParameterSpec = ParameterSpec::new(
    "interfaces",
    ParamType::String,
    "Interfaces that carry the network",
    "Interfaces (blank- or comma-separated) whose link must be up with carrier, read from \
     /sys/class/net/IF/operstate and carrier (a bond or bridge: name the bond or bridge). A round \
     fails when any of them has no link. The first one is also the interface of arp: targets \
     without %INTERFACE.",
)
.example("eth1");

pub const TARGETS: ParameterSpec = ParameterSpec::new(
    "targets",
    ParamType::String,
    "Peers to probe",
    "Peers that answer while the network works, blank- or comma-separated: an IPv4 or IPv6 \
     address is probed with an ICMP echo; arp:ADDRESS with an ARP request on the first of \
     interfaces (arp:ADDRESS%IF on IF; needs arping from iputils-arping); tcp:ADDRESS:PORT or \
     tcp:[IPv6]:PORT with a TCP connection that must be accepted. Addresses only: names are \
     not resolved. At least one of interfaces and targets must be set.",
)
.example("10.0.1.1 tcp:10.0.1.20:3260");

pub const THRESHOLD: ParameterSpec = ParameterSpec::new(
    "threshold",
    ParamType::Integer,
    "Targets that must answer",
    "How many of targets must answer for a round to pass.",
)
.default("1");

pub const INTERVAL: ParameterSpec = ParameterSpec::new(
    "interval",
    ParamType::Integer,
    "Seconds between rounds",
    "Seconds between two rounds of probes. Every probe of a round must answer within 80% of it.",
)
.default("1");

pub const MISSES: ParameterSpec = ParameterSpec::new(
    "misses",
    ParamType::Integer,
    "Failed rounds before the network counts as lost",
    "The network is lost after this many consecutive failed rounds (misses x interval seconds), \
     and back at the first round that passes. Start fails when this many rounds fail before one \
     passes.",
)
.default("3");

pub const ON_LOSS: ParameterSpec = ParameterSpec::new(
    "on_loss",
    ParamType::Select(&["alert", "migrate", "fence"]),
    "What a lost network makes the node do",
    "alert: publish the attribute, journal it, monitor reports degraded (190); nothing moves. \
     migrate: also set the node health attribute #health-paddock-NETWORK=red, so that with the \
     cluster property node-health-strategy=migrate-on-red Pacemaker moves the VMs away (live \
     migration with allow-migrate=true) and places nothing new on the node until it is green \
     again. fence: monitor fails (OCF_ERR_GENERIC); with op monitor on-fail=fence Pacemaker \
     fences the node; with leave_cluster=true (the default) the node also leaves the Corosync \
     membership, so that the other nodes fence it at once. The guard: when the network is lost on more than half of the nodes that \
     watch it, it is the network and not this host: alert only.",
)
.default("alert");

pub const LEAVE_CLUSTER: ParameterSpec = ParameterSpec::new(
    "leave_cluster",
    ParamType::Boolean,
    "With on_loss=fence, also leave the Corosync membership at once",
    "With on_loss=fence, when the policy applies (the loss is confirmed and not shared by most \
     nodes), the node also leaves the Corosync membership at once (corosync-cfgtool -H \
     --force) besides failing its monitor. The other nodes then see it lost and fence it \
     without first waiting out Corosync's token timeout: a node powered off while still a \
     member holds up the fencing result until the membership forms again (about 8 s with the \
     default token of three nodes). Its VMs are started elsewhere only after the fencing, as \
     after any node loss. Done only while the cluster property stonith-enabled is true; if \
     not, or if corosync-cfgtool fails, the failed monitor is the only answer.",
)
.default("true");

pub const LOGFILE: ParameterSpec = ParameterSpec::new(
    "logfile",
    ParamType::String,
    "The watcher's log file",
    "Where the watcher daemon logs every change of the network's state and every decision. \
     Default: /var/log/paddock/netwatch-NETWORK.log.",
);

pub fn parameters() -> Vec<ParameterSpec> {
    vec![
        NETWORK,
        INTERFACES,
        TARGETS,
        THRESHOLD,
        INTERVAL,
        MISSES,
        ON_LOSS,
        LEAVE_CLUSTER,
        LOGFILE,
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnLoss {
    Alert,
    Migrate,
    Fence,
}

impl OnLoss {
    pub fn name(self) -> &'static str {
        match self {
            OnLoss::Alert => "alert",
            OnLoss::Migrate => "migrate",
            OnLoss::Fence => "fence",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub network: String,
    pub interfaces: Vec<String>,
    pub targets: Vec<Target>,
    pub threshold: usize,
    pub interval: Duration,
    pub misses: u32,
    pub on_loss: OnLoss,
    /// on_loss=fence also leaves the Corosync membership (see LEAVE_CLUSTER).
    pub leave_cluster: bool,
    pub logfile: PathBuf,
}

impl Config {
    /// Parses `params` (name, value after defaults); every problem is an ERR_CONFIGURED naming
    /// the parameter and the bad item. Checks the text only: interfaces are looked up by
    /// `crate::link::check_exist`.
    pub fn from_params(params: &[(String, String)]) -> Result<Config, OcfError> {
        let value = |spec: &ParameterSpec| ocf::params::value(params, spec);
        let bad = |spec: &ParameterSpec, why: String| ocf::params::invalid(spec, why);
        let network = value(&NETWORK)
            .ok_or_else(|| OcfError::configured("required parameter 'network' is not set"))?
            .to_string();
        if !valid_network_name(&network) {
            return Err(bad(
                &NETWORK,
                format!(
                    "'{}' is not a name (letters, digits, '-', '_', '.'; at most 40)",
                    network.escape_debug()
                ),
            ));
        }
        let interfaces: Vec<String> = target::split_list(value(&INTERFACES).unwrap_or(""))
            .map(str::to_string)
            .collect();
        if let Some(i) = interfaces.iter().find(|i| !target::valid_interface_name(i)) {
            return Err(bad(
                &INTERFACES,
                format!("'{}' is not an interface name", i.escape_debug()),
            ));
        }
        let targets =
            target::parse_list(value(&TARGETS).unwrap_or("")).map_err(|why| bad(&TARGETS, why))?;
        if interfaces.is_empty() && targets.is_empty() {
            return Err(OcfError::configured(
                "set interfaces, targets or both: there is nothing to watch",
            ));
        }
        if interfaces.is_empty() {
            if let Some(t) = targets.iter().find(|t| {
                matches!(
                    t,
                    Target::Arp {
                        interface: None,
                        ..
                    }
                )
            }) {
                return Err(bad(
                    &TARGETS,
                    format!("target '{t}': ARP needs an interface: set interfaces or write {t}%IF"),
                ));
            }
        }
        let number = |spec: &ParameterSpec, min: u64, max: u64| -> Result<u64, OcfError> {
            let text = value(spec).unwrap_or("");
            match text.parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(bad(
                    spec,
                    format!(
                        "'{}' is not a whole number from {min} to {max}",
                        text.escape_debug()
                    ),
                )),
            }
        };
        let threshold = number(&THRESHOLD, 1, 1000)? as usize;
        if !targets.is_empty() && threshold > targets.len() {
            return Err(bad(
                &THRESHOLD,
                format!(
                    "{threshold} targets must answer but only {} are listed",
                    targets.len()
                ),
            ));
        }
        let interval = Duration::from_secs(number(&INTERVAL, 1, 3600)?);
        let misses = number(&MISSES, 1, 1000)? as u32;
        let on_loss = match value(&ON_LOSS).unwrap_or("alert") {
            "alert" => OnLoss::Alert,
            "migrate" => OnLoss::Migrate,
            "fence" => OnLoss::Fence,
            other => {
                return Err(bad(
                    &ON_LOSS,
                    format!(
                        "'{}' is not one of alert, migrate, fence",
                        other.escape_debug()
                    ),
                ))
            }
        };
        let leave_cluster = match value(&LEAVE_CLUSTER) {
            None => true,
            Some(v) => ocf::params::boolean(&LEAVE_CLUSTER, v)?,
        };
        let logfile = value(&LOGFILE)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(format!("/var/log/paddock/netwatch-{network}.log")));
        Ok(Config {
            network,
            interfaces,
            targets,
            threshold,
            interval,
            misses,
            on_loss,
            leave_cluster,
            logfile,
        })
    }

    /// The interface of an ARP target: its own, else the first of `interfaces`.
    pub fn arp_interface<'a>(&'a self, target: &'a Target) -> Option<&'a str> {
        match target {
            Target::Arp {
                interface: Some(i), ..
            } => Some(i),
            Target::Arp { .. } => self.interfaces.first().map(String::as_str),
            _ => None,
        }
    }

    /// The time every probe of a round gets: most of the interval, so a round ends before the
    /// next one is due.
    pub fn probe_budget(&self) -> Duration {
        self.interval * 4 / 5
    }

    /// How long loss takes to confirm: `misses` rounds.
    pub fn detection_time(&self) -> Duration {
        self.interval * self.misses
    }
}

/// Used in attribute and file names: kept to characters safe in both.
pub fn valid_network_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocf::OcfStatus;

    fn parse(pairs: &[(&str, &str)]) -> Result<Config, OcfError> {
        let params: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_params(&params)
    }

    #[test]
    fn defaults_make_a_one_second_three_miss_alert_watch() {
        let c = parse(&[("network", "storage"), ("targets", "10.0.0.1")]).unwrap();
        assert_eq!(c.threshold, 1);
        assert_eq!(c.interval, Duration::from_secs(1));
        assert_eq!(c.misses, 3);
        assert_eq!(c.on_loss, OnLoss::Alert);
        assert!(c.leave_cluster);
        assert_eq!(
            c.logfile,
            PathBuf::from("/var/log/paddock/netwatch-storage.log")
        );
        assert_eq!(c.detection_time(), Duration::from_secs(3));
        assert_eq!(c.probe_budget(), Duration::from_millis(800));
    }

    #[test]
    fn bad_values_are_configuration_errors_that_name_the_item() {
        for (pairs, needle) in [
            (
                vec![("network", "a b"), ("targets", "10.0.0.1")],
                "'a b' is not a name",
            ),
            (vec![("network", "s")], "nothing to watch"),
            (
                vec![("network", "s"), ("targets", "10.0.0.1 gateway")],
                "'gateway'",
            ),
            (vec![("network", "s"), ("interfaces", "eth/0")], "'eth/0'"),
            (
                vec![
                    ("network", "s"),
                    ("targets", "10.0.0.1"),
                    ("threshold", "2"),
                ],
                "only 1 are listed",
            ),
            (
                vec![("network", "s"), ("targets", "1.2.3.4"), ("interval", "0")],
                "'interval'",
            ),
            (
                vec![("network", "s"), ("targets", "1.2.3.4"), ("misses", "x")],
                "'misses'",
            ),
            (
                vec![("network", "s"), ("targets", "arp:1.2.3.4")],
                "ARP needs an interface",
            ),
            (
                vec![
                    ("network", "s"),
                    ("targets", "1.2.3.4"),
                    ("on_loss", "reboot"),
                ],
                "'reboot'",
            ),
            (
                vec![
                    ("network", "s"),
                    ("targets", "1.2.3.4"),
                    ("leave_cluster", "maybe"),
                ],
                "'maybe' is not a boolean",
            ),
        ] {
            let e = parse(&pairs).unwrap_err();
            assert_eq!(e.status, OcfStatus::ErrConfigured, "{pairs:?}");
            assert!(e.reason.contains(needle), "{pairs:?}: {}", e.reason);
        }
    }

    #[test]
    fn arp_targets_use_their_own_interface_else_the_first_listed() {
        let c = parse(&[
            ("network", "tenant"),
            ("interfaces", "eth2 eth3"),
            ("targets", "arp:10.0.2.1 arp:10.0.2.2%eth3"),
            ("on_loss", "migrate"),
        ])
        .unwrap();
        assert_eq!(c.arp_interface(&c.targets[0]), Some("eth2"));
        assert_eq!(c.arp_interface(&c.targets[1]), Some("eth3"));
        assert_eq!(c.on_loss, OnLoss::Migrate);
    }
}
