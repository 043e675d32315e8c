//! The parameter table (source of OCF_RESKEY_* parsing, metadata and the man page) and the
//! parsed configuration. The Keystone credentials are fence_paddock_compute's (same names; see
//! `credentials`, shared with procwatch).

use std::path::PathBuf;
use std::time::Duration;

use ocf::{OcfError, ParamType, ParameterSpec};
use openstack::ocf_credentials::{self as credentials, Keystone};

pub const NO_SHARED_STORAGE: ParameterSpec = ParameterSpec::new(
    "no_shared_storage",
    ParamType::Boolean,
    "Instances are not on shared storage",
    "Accepted for compatibility with fence_compute and NovaEvacuate. Nova (API microversion 2.14 \
     and later, which nova-evacuate uses) finds out by itself whether an instance's disk is on \
     shared storage: on it, the instance is rebuilt on its disk; otherwise from its image.",
)
.default("false");
pub const INTERVAL: ParameterSpec = ParameterSpec::new(
    "interval",
    ParamType::Integer,
    "Seconds between two looks at Nova",
    "How often nova-evacuate lists the nova-compute services (one API request when no host is \
     down): the delay between a fence agent forcing a host down and its evacuation starting.",
)
.default("1");
pub const PARALLEL: ParameterSpec = ParameterSpec::new(
    "parallel",
    ParamType::Integer,
    "Evacuations requested at once",
    "How many evacuation requests are in flight at the same time (1 to 64), across all failed \
     hosts. More gets every request accepted sooner, but a burst loads Nova's API, conductor and \
     scheduler at once: in the project's lab (fake-driver computes on 2 cores) 8 at once had 50 \
     instances accepted 2.5 times sooner than 1 at once, yet all of them running again later; 3 \
     (also Masakari's default) balances the two. Raise it for a cloud with several API and \
     conductor workers.",
)
.default("3");
pub const DEFAULT_HA: ParameterSpec = ParameterSpec::new(
    "default_ha",
    ParamType::Boolean,
    "Evacuate instances without a policy",
    "What an instance gets when neither its metadata, its flavor, its image nor the host's \
     aggregates say paddock:ha or evacuable. true (the default) evacuates everything that is not \
     excluded, as fence_evacuate does when nothing is tagged; false evacuates only what is tagged.",
)
.default("true");
pub const UNREACHABLE_LIMIT: ParameterSpec = ParameterSpec::new(
    "unreachable_limit",
    ParamType::Integer,
    "Seconds without Nova before monitor fails",
    "While Keystone or Nova do not answer, monitor reports degraded (OCF 1.1 code 190) with the \
     reason. After this many seconds without one successful look it fails instead, so that \
     Pacemaker restarts the agent, or moves it to a node that may reach the API. 0: never fail, \
     stay degraded.",
)
.default("300");
pub const HOSTS: ParameterSpec = ParameterSpec::new(
    "hosts",
    ParamType::String,
    "Compute hosts this agent looks after",
    "Nova host names (blank- or comma-separated) whose forced-down nova-compute service this agent \
     acts on; unset: every compute host. For a cloud whose compute hosts are shared between \
     several clusters (or failover segments), each cluster's agent names its own.",
)
.example("compute1 compute2");
pub const LOGFILE: ParameterSpec = ParameterSpec::new(
    "logfile",
    ParamType::String,
    "The daemon's log file",
    "Where the evacuation daemon logs every host it finds forced down, every instance it \
     evacuates or leaves (and why), and every mark it sets or clears in Nova.",
)
.default("/var/log/paddock/nova-evacuate.log");

pub fn parameters() -> Vec<ParameterSpec> {
    let mut all = credentials::parameters(true);
    all.extend([
        NO_SHARED_STORAGE,
        INTERVAL,
        PARALLEL,
        DEFAULT_HA,
        UNREACHABLE_LIMIT,
        HOSTS,
        LOGFILE,
    ]);
    all
}

pub use credentials::SECRET_PARAMETERS;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub keystone: Keystone,
    pub no_shared_storage: bool,
    pub interval: Duration,
    pub parallel: usize,
    pub default_ha: bool,
    /// None: never fail for an unreachable API.
    pub unreachable_limit: Option<Duration>,
    /// Empty: every compute host.
    pub hosts: Vec<String>,
    pub logfile: PathBuf,
}

impl Config {
    /// Parses `params` (name, value after defaults); every problem is an ERR_CONFIGURED naming
    /// the parameter, never the password.
    pub fn from_params(params: &[(String, String)]) -> Result<Config, OcfError> {
        let value = |spec: &ParameterSpec| ocf::params::value(params, spec);
        let bad = |spec: &ParameterSpec, why: String| ocf::params::invalid(spec, why);
        let flag =
            |spec: &ParameterSpec| ocf::params::boolean(spec, value(spec).unwrap_or("false"));
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
        let keystone = Keystone::from_params(params)?
            .ok_or_else(|| OcfError::configured("required parameter 'auth_url' is not set"))?;
        let logfile =
            PathBuf::from(value(&LOGFILE).unwrap_or("/var/log/paddock/nova-evacuate.log"));
        if !logfile.is_absolute() {
            return Err(bad(
                &LOGFILE,
                format!("'{}' is not an absolute path", logfile.display()),
            ));
        }
        let limit = number(&UNREACHABLE_LIMIT, 0, 86_400)?;
        Ok(Config {
            keystone,
            no_shared_storage: flag(&NO_SHARED_STORAGE)?,
            interval: Duration::from_secs(number(&INTERVAL, 1, 3600)?),
            parallel: number(&PARALLEL, 1, 64)? as usize,
            default_ha: flag(&DEFAULT_HA)?,
            unreachable_limit: (limit > 0).then(|| Duration::from_secs(limit)),
            hosts: value(&HOSTS)
                .unwrap_or("")
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|h| !h.is_empty())
                .map(str::to_string)
                .collect(),
            logfile,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = vec![
            ("auth_url".into(), "http://127.0.0.1:5000/v3".into()),
            ("username".into(), "admin".into()),
            ("password".into(), "s3cret".into()),
        ];
        for (k, v) in pairs {
            all.retain(|(n, _)| n != k);
            all.push((k.to_string(), v.to_string()));
        }
        all
    }

    #[test]
    fn defaults() {
        let c = Config::from_params(&params(&[])).unwrap();
        assert_eq!(
            (c.interval, c.parallel, c.default_ha),
            (Duration::from_secs(1), 3, true)
        );
        assert_eq!(c.unreachable_limit, Some(Duration::from_secs(300)));
        assert!(c.hosts.is_empty());
        let c = Config::from_params(&params(&[("hosts", "compute1, compute2 compute3")])).unwrap();
        assert_eq!(c.hosts, vec!["compute1", "compute2", "compute3"]);
        let c = Config::from_params(&params(&[("unreachable_limit", "0"), ("default_ha", "no")]))
            .unwrap();
        assert_eq!((c.unreachable_limit, c.default_ha), (None, false));
        assert!(
            !format!("{c:?}").contains("s3cret"),
            "Debug must hide the password"
        );
    }

    #[test]
    fn bad_values_are_named_and_the_password_never_shows() {
        for (k, v, needle) in [
            ("parallel", "0", "'parallel'"),
            ("parallel", "65", "'parallel'"),
            ("interval", "1s", "'interval'"),
            ("default_ha", "perhaps", "'default_ha'"),
            ("unreachable_limit", "-1", "'unreachable_limit'"),
            ("logfile", "evac.log", "'logfile'"),
            ("auth_url", "", "'auth_url'"),
        ] {
            let e = Config::from_params(&params(&[(k, v)])).unwrap_err();
            assert_eq!(e.status, ocf::OcfStatus::ErrConfigured);
            assert!(e.reason.contains(needle), "{k}={v}: {}", e.reason);
            assert!(!e.reason.contains("s3cret"));
        }
    }
}
