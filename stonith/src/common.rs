//! The framework's common option table (the rows every fence agent has) and the merge
//! with an agent's own rows. Names, short options, defaults and meanings follow fence-agents.

use crate::{FenceAgent, OptionSpec, OptionType};

/// Environment variable that may hold the login password, so it need not be on stdin or argv.
pub const PASSWORD_ENV: &str = "PADDOCK_FENCE_PASSWORD";

/// Actions that change power (and so honour `delay`).
pub const FENCING_ACTIONS: &[&str] = &["off", "reboot"];

// The rows every agent has, in display order. An agent reads them by these constants and may
// replace one (same name) to change a default or description: `IPPORT.default("623")`.

pub const ACTION: OptionSpec = OptionSpec::new("action", OptionType::String, "Fencing action")
    .aliases(&["option"])
    .short('o')
    .default("reboot")
    .required();
pub const IP: OptionSpec = OptionSpec::new(
    "ip",
    OptionType::String,
    "IP address or hostname of fencing device",
)
.aliases(&["ipaddr"])
.short('a')
.required();
pub const IPPORT: OptionSpec = OptionSpec::new(
    "ipport",
    OptionType::Port,
    "TCP/UDP port to use for connection with device",
)
.short('u');
pub const USERNAME: OptionSpec = OptionSpec::new("username", OptionType::String, "Login name")
    .aliases(&["login"])
    .short('l');
pub const PASSWORD: OptionSpec = OptionSpec::new(
    "password",
    OptionType::String,
    "Login password or passphrase",
)
.aliases(&["passwd"])
.short('p')
.secret();
pub const PASSWORD_SCRIPT: OptionSpec = OptionSpec::new(
    "password_script",
    OptionType::String,
    "Script to run to retrieve password",
)
.aliases(&["passwd_script"])
.short('S');
pub const PLUG: OptionSpec = OptionSpec::new(
    "plug",
    OptionType::String,
    "Physical plug number on device, UUID or identification of machine",
)
.aliases(&["port"])
.short('n');
pub const METHOD: OptionSpec = OptionSpec::new(
    "method",
    OptionType::Select(&["onoff", "cycle"]),
    "Method to fence",
)
.short('m')
.default("onoff");

pub const VERBOSE: OptionSpec = OptionSpec::new(
    "verbose",
    OptionType::Boolean,
    "Verbose mode. Multiple -v flags can be stacked on the command line (e.g., -vvv) to increase verbosity.",
)
.short('v');
pub const VERBOSE_LEVEL: OptionSpec = OptionSpec::new(
    "verbose_level",
    OptionType::Integer,
    "Level of debugging detail in output: 0 logs no debug lines, more logs them. Defaults to the number of -v, or 1 with verbose=1",
);
pub const DEBUG_FILE: OptionSpec = OptionSpec::new(
    "debug_file",
    OptionType::String,
    "Write debug information to given file",
)
.aliases(&["debug"])
.short('D');
pub const QUIET: OptionSpec = OptionSpec::new(
    "quiet",
    OptionType::Boolean,
    "Disable logging to stderr (debug_file still gets every line)",
)
.short('q');
pub const VERSION: OptionSpec = OptionSpec::new(
    "version",
    OptionType::Boolean,
    "Display version information and exit",
)
.short('V');
pub const HELP: OptionSpec =
    OptionSpec::new("help", OptionType::Boolean, "Display help and exit").short('h');
pub const DELAY: OptionSpec = OptionSpec::new(
    "delay",
    OptionType::Second,
    "Wait X seconds before fencing is started",
)
.default("0");
pub const DISABLE_TIMEOUT: OptionSpec = OptionSpec::new(
    "disable_timeout",
    OptionType::String,
    "Disable the per-step timeouts (true/false): wait for a power change until the whole action's timeout. Default: true when run from Pacemaker",
);
pub const LOGIN_TIMEOUT: OptionSpec = OptionSpec::new(
    "login_timeout",
    OptionType::Second,
    "Wait X seconds for cmd prompt after login",
)
.default("5");
pub const POWER_TIMEOUT: OptionSpec = OptionSpec::new(
    "power_timeout",
    OptionType::Second,
    "Test X seconds for status change after ON/OFF",
)
.default("20");
pub const POWER_WAIT: OptionSpec = OptionSpec::new(
    "power_wait",
    OptionType::Second,
    "Wait X seconds after issuing ON/OFF",
)
.default("0");
pub const SHELL_TIMEOUT: OptionSpec = OptionSpec::new(
    "shell_timeout",
    OptionType::Second,
    "Wait X seconds for cmd prompt after issuing command",
)
.default("3");
pub const STONITH_STATUS_SLEEP: OptionSpec = OptionSpec::new(
    "stonith_status_sleep",
    OptionType::Second,
    "Sleep at most X seconds between status calls during a STONITH action (for 2 s after a power command the status is read every 0.1 s, then the pauses double up to this)",
)
.default("1");
pub const RETRY_ON: OptionSpec = OptionSpec::new(
    "retry_on",
    OptionType::Integer,
    "Count of attempts to retry power on",
)
.default("1");
pub const PLUG_SEPARATOR: OptionSpec = OptionSpec::new(
    "plug_separator",
    OptionType::String,
    "Separator for plug parameter when specifying more than 1 plug (several plugs in one action are refused: one device per plug)",
)
.default(",");

/// fence-agents' `port_as_ip`: the plug names the device's address. An agent that lists this
/// row gets it handled by the framework (ip is then not required in metadata).
pub const PORT_AS_IP: OptionSpec = OptionSpec::new(
    "port_as_ip",
    OptionType::Boolean,
    "Make \"port/plug\" to be an alias to IP address",
);

/// Rows shown before the agent's own rows: what to do and how to reach the device.
fn head() -> Vec<OptionSpec> {
    vec![
        ACTION,
        IP,
        IPPORT,
        USERNAME,
        PASSWORD,
        PASSWORD_SCRIPT,
        PLUG,
        METHOD,
    ]
}

/// Rows shown after the agent's own rows: diagnostics and timing.
fn tail() -> Vec<OptionSpec> {
    vec![
        VERBOSE,
        VERBOSE_LEVEL,
        DEBUG_FILE,
        QUIET,
        VERSION,
        HELP,
        DELAY,
        DISABLE_TIMEOUT,
        LOGIN_TIMEOUT,
        POWER_TIMEOUT,
        POWER_WAIT,
        SHELL_TIMEOUT,
        STONITH_STATUS_SLEEP,
        RETRY_ON,
        PLUG_SEPARATOR,
    ]
}

/// The framework's own rows, in display order.
pub fn common_options() -> Vec<OptionSpec> {
    let mut rows = head();
    rows.extend(tail());
    rows
}

/// The full table of one agent: common rows (replaced in place where the agent gives a row of
/// the same name), with the agent's new rows between the connection rows and the timing rows.
pub fn option_table(agent: &dyn FenceAgent) -> Vec<OptionSpec> {
    let mut own = agent.options();
    // An agent that supplies its own `plug` row decides whether plug is required.
    let own_plug = own.iter().any(|o| o.name == "plug");
    let mut take = |common: OptionSpec| match own.iter().position(|o| o.name == common.name) {
        Some(i) => own.remove(i),
        None => common,
    };
    let head: Vec<OptionSpec> = head().into_iter().map(&mut take).collect();
    let tail: Vec<OptionSpec> = tail().into_iter().map(&mut take).collect();
    let mut table = head;
    table.extend(own);
    table.extend(tail);
    // With port_as_ip the address may come from the plug, so metadata cannot require ip
    // (as fence_ipmilan); the run-time check still wants one or the other.
    if table.iter().any(|o| o.name == PORT_AS_IP.name) {
        if let Some(ip) = table.iter_mut().find(|o| o.name == "ip") {
            ip.required = false;
        }
    }
    if agent.info().multiple_plugs && !own_plug {
        if let Some(plug) = table.iter_mut().find(|o| o.name == "plug") {
            plug.required = true;
        }
    }
    table
}

/// A table is usable when names, aliases and command-line forms are unique. Agents should call
/// this from a unit test; `run` reports a broken table as an internal error.
pub fn check_table(table: &[OptionSpec]) -> Result<(), String> {
    let mut names: Vec<String> = Vec::new();
    let mut longs: Vec<String> = Vec::new();
    let mut shorts: Vec<char> = Vec::new();
    for spec in table {
        let own_key = crate::args::normalize_key(spec.name);
        for name in std::iter::once(&spec.name).chain(spec.deprecated_names) {
            let key = crate::args::normalize_key(name);
            // A deprecated spelling of the row's own name (fence_redfish's `systems-uri`) only
            // adds a metadata entry: the parser reads it as the row already.
            if name != &spec.name && key == own_key {
                continue;
            }
            if names.contains(&key) {
                return Err(format!("option table: name '{name}' is used twice"));
            }
            names.push(key);
        }
        let long = spec.long.replace('_', "-");
        if long.is_empty() || longs.contains(&long) {
            return Err(format!(
                "option table: long option '--{long}' is empty or used twice"
            ));
        }
        longs.push(long);
        if let Some(short) = spec.short {
            if shorts.contains(&short) || !short.is_ascii_alphanumeric() {
                return Err(format!(
                    "option table: short option '-{short}' is invalid or used twice"
                ));
            }
            shorts.push(short);
        }
        if let (OptionType::Select(choices), Some(default)) = (&spec.kind, spec.default) {
            if !choices.contains(&default) {
                return Err(format!(
                    "option table: default of '{}' is not one of its choices",
                    spec.name
                ));
            }
        }
        if let Some(default) = spec.default {
            let valid = crate::args::normalise(&spec.kind, default)
                .and_then(|value| spec.check.map_or(Ok(()), |check| check(&value)));
            if let Err(why) = valid {
                return Err(format!("option table: default of '{}' {why}", spec.name));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgentInfo, Deadline, FenceDevice, FenceError, Options};

    struct Agent(Vec<OptionSpec>, bool);

    impl FenceAgent for Agent {
        fn info(&self) -> AgentInfo {
            AgentInfo {
                name: "fence_t",
                shortdesc: "",
                longdesc: "",
                vendor_url: "",
                multiple_plugs: self.1,
            }
        }
        fn options(&self) -> Vec<OptionSpec> {
            self.0.clone()
        }
        fn connect(&self, _: &Options, _: Deadline) -> Result<Box<dyn FenceDevice>, FenceError> {
            Err(FenceError::Unsupported("test".into()))
        }
    }

    fn names(table: &[OptionSpec]) -> Vec<&'static str> {
        table.iter().map(|s| s.name).collect()
    }

    #[test]
    fn common_table_is_consistent() {
        assert_eq!(check_table(&common_options()), Ok(()));
    }

    #[test]
    fn agent_rows_replace_in_place_and_add_before_the_timing_rows() {
        let port = OptionSpec::new("ipport", OptionType::Integer, "p")
            .default("623")
            .short('u');
        let lanplus = OptionSpec::new("lanplus", OptionType::Boolean, "l").short('P');
        let table = option_table(&Agent(vec![port, lanplus], false));
        let names = names(&table);
        assert_eq!(names.iter().filter(|n| **n == "ipport").count(), 1);
        assert_eq!(
            names.iter().position(|n| *n == "ipport"),
            Some(2),
            "replaced in place: {names:?}"
        );
        let lanplus_at = names.iter().position(|n| *n == "lanplus").unwrap();
        assert!(lanplus_at > names.iter().position(|n| *n == "method").unwrap());
        assert!(lanplus_at < names.iter().position(|n| *n == "verbose").unwrap());
        assert_eq!(table[2].default, Some("623"));
        assert!(!table.iter().find(|s| s.name == "plug").unwrap().required);
    }

    #[test]
    fn multiple_plugs_require_plug_unless_the_agent_says_otherwise() {
        let table = option_table(&Agent(vec![], true));
        assert!(table.iter().find(|s| s.name == "plug").unwrap().required);
        let own_plug = OptionSpec::new("plug", OptionType::String, "p").short('n');
        let table = option_table(&Agent(vec![own_plug], true));
        assert!(!table.iter().find(|s| s.name == "plug").unwrap().required);
    }

    #[test]
    fn broken_tables_are_reported() {
        let mut dup_short = common_options();
        dup_short.push(OptionSpec::new("other", OptionType::String, "x").short('a'));
        assert!(check_table(&dup_short).unwrap_err().contains("-a"));
        let mut dup_alias = common_options();
        dup_alias.push(OptionSpec::new("address", OptionType::String, "x").aliases(&["ipaddr"]));
        assert!(check_table(&dup_alias).unwrap_err().contains("ipaddr"));
        let mut dup_long = common_options();
        dup_long.push(OptionSpec::new("pt", OptionType::Second, "x").long("power-timeout"));
        assert!(check_table(&dup_long)
            .unwrap_err()
            .contains("power-timeout"));
        let mut bad_default = common_options();
        bad_default.push(OptionSpec::new("s", OptionType::Select(&["a", "b"]), "x").default("c"));
        assert!(check_table(&bad_default).is_err());
        let mut bad_port = common_options();
        bad_port.push(OptionSpec::new("p", OptionType::Port, "x").default("0"));
        assert!(check_table(&bad_port).unwrap_err().contains("port number"));
    }
}
