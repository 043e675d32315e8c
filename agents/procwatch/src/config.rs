//! The parameter table (source of OCF_RESKEY_* parsing and meta-data), the service profiles,
//! and the parsed configuration of one instance.

use crate::command::ServiceCommand;
use crate::matcher::ProcessMatch;
use crate::probe::{Probe, StatusSet};
use nix::sys::signal::Signal;
use ocf::{Context, OcfError, ParamType, ParameterSpec};
use std::path::PathBuf;
use std::time::Duration;

pub const PROFILES: &[&str] = &["none", "nova-compute", "vdsm", "libvirtd"];

pub const COMMAND: ParameterSpec = ParameterSpec::new(
    "command",
    ParamType::String,
    "Command that runs the service",
    "What to start. A command line is run directly, without a shell (quotes and backslashes \
     work as in a shell); a command line with shell syntax (pipes, redirections, $variables, \
     globs, ;, &&) is run by /bin/sh -c. init:NAME runs /etc/init.d/NAME start|stop \
     (init:/path/to/script for another script), systemd:UNIT runs systemctl start|stop UNIT; \
     these two need pidfile or match to find the daemon. Required unless a profile supplies \
     it.",
)
.unique_group("command");
pub const PROFILE: ParameterSpec = ParameterSpec::new(
    "profile",
    ParamType::Select(PROFILES),
    "Known service",
    "Fills in command, match, pidfile, user, group and probe for a known compute-node \
     service: nova-compute, vdsm or libvirtd. Every value it fills in can be overridden by \
     setting that parameter.",
)
.default("none")
.example("libvirtd");
pub const PIDFILE: ParameterSpec = ParameterSpec::new(
    "pidfile",
    ParamType::String,
    "PID file",
    "PID file of the service. If the service writes it (a daemon that forks), procwatch reads \
     it to find the daemon; otherwise procwatch writes the pid of the process it started. A \
     pid from the file is trusted only if that process started before the file was written \
     (guard against PID reuse).",
)
.unique_group("pidfile");
pub const MATCH: ParameterSpec = ParameterSpec::new(
    "match",
    ParamType::String,
    "Process match",
    "How to recognize the service among running processes, for daemons that fork or are \
     started outside the cluster. Blank-separated KEY=VALUE terms that must all hold: \
     exe=/usr/sbin/libvirtd (the executable), cmdline=REGEX (searched in the arguments joined \
     by spaces; quote it if it has blanks), comm=NAME, user=NAME|UID. The oldest matching \
     process is the service; stop signals every matching process.",
);
pub const USER: ParameterSpec = ParameterSpec::new(
    "user",
    ParamType::String,
    "User",
    "Run the service as this user (name or uid), with its groups. Default: root.",
);
pub const GROUP: ParameterSpec = ParameterSpec::new(
    "group",
    ParamType::String,
    "Group",
    "Run the service with this primary group (name or gid). Default: the user's group.",
);
pub const WORKDIR: ParameterSpec = ParameterSpec::new(
    "workdir",
    ParamType::String,
    "Working directory",
    "Directory the service runs in. Default: /.",
);
pub const ENV: ParameterSpec = ParameterSpec::new(
    "env",
    ParamType::String,
    "Environment",
    "Extra environment for the service: KEY=VALUE pairs separated by blanks or semicolons \
     (quote values with blanks). The service otherwise gets a clean environment: PATH, HOME, \
     USER, LOGNAME, LANG.",
);
pub const LOGFILE: ParameterSpec = ParameterSpec::new(
    "logfile",
    ParamType::String,
    "Log file",
    "File that receives the service's stdout and stderr (appended). Default: \
     /var/log/procwatch-INSTANCE.log.",
);
pub const STOP_SIGNAL: ParameterSpec = ParameterSpec::new(
    "stop_signal",
    ParamType::String,
    "Stop signal",
    "Signal that asks the service to stop (TERM, INT, QUIT, HUP, USR1, USR2, KILL or a number).",
)
.default("TERM")
.reloadable();
pub const STOP_TIMEOUT: ParameterSpec = ParameterSpec::new(
    "stop_timeout",
    ParamType::Integer,
    "Stop grace period (s)",
    "Seconds to wait after the stop signal before SIGKILL. Default: the stop operation's \
     timeout minus the time needed to SIGKILL and verify (a quarter of it, at most 5 s).",
)
.reloadable();
pub const PROBE: ParameterSpec = ParameterSpec::new(
    "probe",
    ParamType::String,
    "Health probe",
    "Checks the service answers, at start (start waits until it passes) and at every monitor: \
     exec:COMMAND (run by /bin/sh, exit status 0 passes), tcp:HOST:PORT (a connection \
     succeeds), http://... or https://... (a GET answers with a status in probe_status).",
)
.reloadable();
pub const PROBE_STATUS: ParameterSpec = ParameterSpec::new(
    "probe_status",
    ParamType::String,
    "Expected HTTP status",
    "HTTP status codes that pass an http(s) probe: 200, 2xx, 200-399 or lists like 200,204.",
)
.default("2xx")
.reloadable();
pub const PROBE_TIMEOUT: ParameterSpec = ParameterSpec::new(
    "probe_timeout",
    ParamType::Integer,
    "Probe timeout (s)",
    "Seconds one probe may take (never beyond the operation's timeout).",
)
.default("10")
.reloadable();
pub const PRE_START: ParameterSpec = ParameterSpec::new(
    "pre_start",
    ParamType::String,
    "Pre-start hook",
    "Shell command run before the service starts; a failure fails the start. \
     PROCWATCH_INSTANCE is set.",
)
.reloadable();
pub const POST_START: ParameterSpec = ParameterSpec::new(
    "post_start",
    ParamType::String,
    "Post-start hook",
    "Shell command run once the service runs and its probe passes; a failure fails the start. \
     PROCWATCH_INSTANCE and PROCWATCH_PID are set.",
)
.reloadable();
pub const DEGRADED: ParameterSpec = ParameterSpec::new(
    "degraded",
    ParamType::Boolean,
    "Probe failure is degraded",
    "When the process runs but the probe fails, report degraded (OCF 1.1 code 190: Pacemaker \
     keeps the resource and records the condition) instead of a failure that restarts it.",
)
.default("false")
.reloadable();

/// The table, in metadata order.
pub fn parameters() -> Vec<ParameterSpec> {
    vec![
        COMMAND,
        PROFILE,
        PIDFILE,
        MATCH,
        USER,
        GROUP,
        WORKDIR,
        ENV,
        LOGFILE,
        STOP_SIGNAL,
        STOP_TIMEOUT,
        PROBE,
        PROBE_STATUS,
        PROBE_TIMEOUT,
        PRE_START,
        POST_START,
        DEGRADED,
    ]
    .into_iter()
    .chain(crate::nova::parameters())
    .collect()
}

/// A known service: values filled in when the parameter is not set.
struct Profile {
    name: &'static str,
    values: &'static [(ParameterSpec, &'static str)],
}

const PROFILE_TABLE: &[Profile] = &[
    Profile {
        name: "nova-compute",
        values: &[
            (
                COMMAND,
                "/usr/bin/nova-compute --config-file /etc/nova/nova.conf",
            ),
            (MATCH, "'cmdline=(^|/)nova-compute( |$)'"),
            (USER, "nova"),
            (GROUP, "nova"),
            (LOGFILE, "/var/log/nova/nova-compute-stdout.log"),
        ],
    },
    Profile {
        name: "vdsm",
        values: &[
            (COMMAND, "/usr/libexec/vdsm/vdsmd"),
            (MATCH, "'cmdline=(^|/)vdsmd( |$)'"),
            (USER, "vdsm"),
            (GROUP, "kvm"),
            (PROBE, "exec:vdsm-client Host ping2"),
        ],
    },
    Profile {
        name: "libvirtd",
        values: &[
            (COMMAND, "/usr/sbin/libvirtd"),
            (MATCH, "exe=/usr/sbin/libvirtd"),
            (PIDFILE, "/run/libvirtd.pid"),
            (
                PROBE,
                "exec:virsh --connect qemu:///system --readonly version",
            ),
        ],
    },
];

/// The value of a parameter after the profile: explicit setting first, then the profile's.
pub fn effective<'a>(ctx: &'a Context, spec: &ParameterSpec) -> Option<&'a str> {
    if let Some(v) = ctx.text(spec) {
        return Some(v);
    }
    let profile = ctx.text(&PROFILE)?;
    PROFILE_TABLE
        .iter()
        .find(|p| p.name == profile)?
        .values
        .iter()
        .find(|(k, _)| k.name == spec.name)
        .map(|(_, v)| *v)
}

#[derive(Debug, Clone)]
pub struct Config {
    pub command: Option<ServiceCommand>,
    pub pidfile: Option<PathBuf>,
    pub matcher: Option<ProcessMatch>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub workdir: Option<PathBuf>,
    pub env: Vec<(String, String)>,
    pub logfile: PathBuf,
    pub stop_signal: Signal,
    pub stop_timeout: Option<Duration>,
    pub probe: Option<Probe>,
    pub probe_status: StatusSet,
    pub probe_timeout: Duration,
    pub pre_start: Option<String>,
    pub post_start: Option<String>,
    pub degraded: bool,
}

impl Config {
    /// Parse (syntax only; the host is checked by `validate`).
    pub fn from_context(ctx: &Context) -> Result<Config, OcfError> {
        let get = |spec: &ParameterSpec| effective(ctx, spec).map(str::to_string);
        let conf = |m: String| OcfError::configured(m);
        let command = get(&COMMAND)
            .map(|c| ServiceCommand::parse(&c))
            .transpose()
            .map_err(conf)?;
        let matcher = get(&MATCH)
            .map(|m| ProcessMatch::parse(&m))
            .transpose()
            .map_err(conf)?;
        let pidfile = get(&PIDFILE).map(PathBuf::from);
        if let Some(p) = &pidfile {
            if !p.is_absolute() {
                return Err(conf(format!(
                    "pidfile '{}' is not an absolute path",
                    p.display()
                )));
            }
        }
        if let Some(c) = &command {
            if c.is_external() && pidfile.is_none() && matcher.is_none() {
                return Err(conf(format!("command '{}' is started by someone else: set pidfile or match to find the daemon", c.program())));
            }
        }
        let logfile = get(&LOGFILE).map(PathBuf::from).unwrap_or_else(|| {
            format!("/var/log/procwatch-{}.log", ctx.instance.replace('/', "_")).into()
        });
        if !logfile.is_absolute() {
            return Err(conf(format!(
                "logfile '{}' is not an absolute path",
                logfile.display()
            )));
        }
        let secs = |spec: &ParameterSpec| -> Result<Option<Duration>, OcfError> {
            Ok(ctx.unsigned(spec)?.map(Duration::from_secs))
        };
        Ok(Config {
            command,
            pidfile,
            matcher,
            user: get(&USER),
            group: get(&GROUP),
            workdir: get(&WORKDIR).map(PathBuf::from),
            env: get(&ENV)
                .map(|e| parse_env(&e))
                .transpose()
                .map_err(conf)?
                .unwrap_or_default(),
            logfile,
            stop_signal: parse_signal(&get(&STOP_SIGNAL).unwrap_or_else(|| "TERM".into()))
                .map_err(conf)?,
            stop_timeout: secs(&STOP_TIMEOUT)?,
            probe: get(&PROBE)
                .map(|p| Probe::parse(&p))
                .transpose()
                .map_err(conf)?,
            probe_status: StatusSet::parse(&get(&PROBE_STATUS).unwrap_or_else(|| "2xx".into()))
                .map_err(conf)?,
            probe_timeout: secs(&PROBE_TIMEOUT)?
                .unwrap_or(Duration::from_secs(10))
                .max(Duration::from_secs(1)),
            pre_start: get(&PRE_START),
            post_start: get(&POST_START),
            degraded: ctx.flag(&DEGRADED)?,
        })
    }

    /// The command, which start needs (a profile or the parameter).
    pub fn command(&self) -> Result<&ServiceCommand, OcfError> {
        self.command.as_ref().ok_or_else(|| {
            OcfError::configured("parameter 'command' is not set (and no profile supplies it)")
        })
    }
}

pub fn parse_signal(text: &str) -> Result<Signal, String> {
    let t = text.trim().to_ascii_uppercase();
    if let Ok(n) = t.parse::<i32>() {
        return Signal::try_from(n)
            .map_err(|_| format!("stop_signal '{text}' is not a signal number"));
    }
    let name = if t.starts_with("SIG") {
        t
    } else {
        format!("SIG{t}")
    };
    name.parse::<Signal>().map_err(|_| {
        format!("stop_signal '{text}' is not a signal name (TERM, INT, QUIT, HUP, KILL...)")
    })
}

/// `A=1 B='x y'` or `A=1;B=x y`.
pub fn parse_env(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    let chunks: Vec<String> = if text.contains(';') {
        text.split(';')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect()
    } else {
        // Values are often credentials: messages name keys only.
        crate::command::split(text).map_err(|_| "env has an unclosed quote".to_string())?
    };
    for chunk in chunks {
        let (k, v) = chunk
            .split_once('=')
            .ok_or_else(|| format!("env entry '{chunk}' is not KEY=VALUE"))?;
        let valid = !k.is_empty()
            && !k.starts_with(|c: char| c.is_ascii_digit())
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!("env entry '{k}=...': '{k}' is not a variable name"));
        }
        pairs.push((k.to_string(), v.to_string()));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_in_both_separators() {
        assert_eq!(
            parse_env("A=1 B='x y'").unwrap(),
            vec![("A".into(), "1".into()), ("B".into(), "x y".into())]
        );
        assert_eq!(
            parse_env("A=1; B=x y").unwrap(),
            vec![("A".into(), "1".into()), ("B".into(), "x y".into())]
        );
        assert!(parse_env("1A=x").is_err() && parse_env("novalue").is_err());
        for bad in ["DB_PASSWORD='s3cret", "1X=s3cret", "1X=s3cret; B=1"] {
            let e = parse_env(bad).unwrap_err();
            assert!(!e.contains("s3cret"), "{e}");
        }
    }

    #[test]
    fn signals_by_name_or_number() {
        assert_eq!(parse_signal("TERM"), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("sigint"), Ok(Signal::SIGINT));
        assert_eq!(parse_signal("9"), Ok(Signal::SIGKILL));
        assert!(parse_signal("NOPE").is_err());
    }

    #[test]
    fn profile_fills_in_and_explicit_values_win() {
        let ctx = Context::for_test(
            "start",
            &[("profile", "libvirtd"), ("probe", "tcp:127.0.0.1:16509")],
        );
        let c = Config::from_context(&ctx).unwrap();
        assert_eq!(
            c.command,
            Some(ServiceCommand::Exec(vec!["/usr/sbin/libvirtd".into()]))
        );
        assert_eq!(c.pidfile, Some(PathBuf::from("/run/libvirtd.pid")));
        assert_eq!(
            c.probe,
            Some(Probe::Tcp {
                host: "127.0.0.1".into(),
                port: 16509
            })
        );
        for p in PROFILE_TABLE {
            let ctx = Context::for_test("start", &[("profile", p.name)]);
            assert!(
                Config::from_context(&ctx).is_ok(),
                "profile {} must parse",
                p.name
            );
        }
    }

    #[test]
    fn init_scripts_need_a_way_to_find_the_daemon() {
        let ctx = Context::for_test("start", &[("command", "init:foo")]);
        let e = Config::from_context(&ctx).unwrap_err();
        assert!(e.reason.contains("pidfile or match"), "{}", e.reason);
    }
}
