//! The framework's common option table (the rows every fence agent has) and the merge
//! with an agent's own rows. Names, short options, defaults and meanings follow fence-agents.

use crate::{FenceAgent, OptionSpec, OptionType};

/// Environment variable that may hold the login password, so it need not be on stdin or argv.
pub const PASSWORD_ENV: &str = "PADDOCK_FENCE_PASSWORD";

/// Actions that change power (and so honour `delay`).
pub const FENCING_ACTIONS: &[&str] = &["off", "reboot"];

const fn row(
    name: &'static str,
    deprecated_names: &'static [&'static str],
    short: Option<char>,
    kind: OptionType,
    default: Option<&'static str>,
    shortdesc: &'static str,
) -> OptionSpec {
    OptionSpec {
        name,
        deprecated_names,
        long: name,
        short,
        kind,
        default,
        required: false,
        secret: false,
        shortdesc,
    }
}

/// Rows shown before the agent's own rows: what to do and how to reach the device.
fn head() -> Vec<OptionSpec> {
    let mut password = row(
        "password",
        &["passwd"],
        Some('p'),
        OptionType::String,
        None,
        "Login password or passphrase",
    );
    password.secret = true;
    let mut ip = row(
        "ip",
        &["ipaddr"],
        Some('a'),
        OptionType::String,
        None,
        "IP address or hostname of fencing device",
    );
    ip.required = true;
    let mut action = row(
        "action",
        &["option"],
        Some('o'),
        OptionType::String,
        Some("reboot"),
        "Fencing action",
    );
    action.required = true;
    vec![
        action,
        ip,
        row(
            "ipport",
            &[],
            Some('u'),
            OptionType::Integer,
            None,
            "TCP/UDP port to use for connection with device",
        ),
        row(
            "username",
            &["login"],
            Some('l'),
            OptionType::String,
            None,
            "Login name",
        ),
        password,
        row(
            "password_script",
            &["passwd_script"],
            Some('S'),
            OptionType::String,
            None,
            "Script to run to retrieve password",
        ),
        row(
            "plug",
            &["port"],
            Some('n'),
            OptionType::String,
            None,
            "Physical plug number on device, UUID or identification of machine",
        ),
        row(
            "method",
            &[],
            Some('m'),
            OptionType::Select(&["onoff", "cycle"]),
            Some("onoff"),
            "Method to fence",
        ),
    ]
}

/// Rows shown after the agent's own rows: diagnostics and timing.
fn tail() -> Vec<OptionSpec> {
    vec![
        row(
            "verbose",
            &[],
            Some('v'),
            OptionType::Boolean,
            None,
            "Verbose mode. Multiple -v flags can be stacked on the command line (e.g., -vvv) to increase verbosity.",
        ),
        row(
            "verbose_level",
            &[],
            None,
            OptionType::Integer,
            None,
            "Level of debugging detail in output: 0 logs no debug lines, more logs them. Defaults to the number of -v, or 1 with verbose=1",
        ),
        row(
            "debug_file",
            &["debug"],
            Some('D'),
            OptionType::String,
            None,
            "Write debug information to given file",
        ),
        row(
            "quiet",
            &[],
            Some('q'),
            OptionType::Boolean,
            None,
            "Disable logging to stderr (debug_file still gets every line)",
        ),
        row("version", &[], Some('V'), OptionType::Boolean, None, "Display version information and exit"),
        row("help", &[], Some('h'), OptionType::Boolean, None, "Display help and exit"),
        row("delay", &[], None, OptionType::Second, Some("0"), "Wait X seconds before fencing is started"),
        row(
            "disable_timeout",
            &[],
            None,
            OptionType::String,
            None,
            "Disable the per-step timeouts (true/false): wait for a power change until the whole action's timeout. Default: true when run from Pacemaker",
        ),
        row(
            "login_timeout",
            &[],
            None,
            OptionType::Second,
            Some("5"),
            "Wait X seconds for cmd prompt after login",
        ),
        row(
            "power_timeout",
            &[],
            None,
            OptionType::Second,
            Some("20"),
            "Test X seconds for status change after ON/OFF",
        ),
        row("power_wait", &[], None, OptionType::Second, Some("0"), "Wait X seconds after issuing ON/OFF"),
        row(
            "shell_timeout",
            &[],
            None,
            OptionType::Second,
            Some("3"),
            "Wait X seconds for cmd prompt after issuing command",
        ),
        row(
            "stonith_status_sleep",
            &[],
            None,
            OptionType::Second,
            Some("1"),
            "Sleep at most X seconds between status calls during a STONITH action (the first calls after a power command come sooner: 0.1 s, doubling)",
        ),
        row("retry_on", &[], None, OptionType::Integer, Some("1"), "Count of attempts to retry power on"),
        row(
            "plug_separator",
            &[],
            None,
            OptionType::String,
            Some(","),
            "Separator for plug parameter when specifying more than 1 plug (several plugs in one action are refused: one device per plug)",
        ),
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
    if table.iter().any(|o| o.name == "port_as_ip") {
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
        let port = OptionSpec {
            default: Some("623"),
            short: Some('u'),
            ..OptionSpec::new("ipport", OptionType::Integer, "p")
        };
        let lanplus = OptionSpec {
            short: Some('P'),
            ..OptionSpec::new("lanplus", OptionType::Boolean, "l")
        };
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
        let own_plug = OptionSpec {
            short: Some('n'),
            ..OptionSpec::new("plug", OptionType::String, "p")
        };
        let table = option_table(&Agent(vec![own_plug], true));
        assert!(!table.iter().find(|s| s.name == "plug").unwrap().required);
    }

    #[test]
    fn broken_tables_are_reported() {
        let mut dup_short = common_options();
        dup_short.push(OptionSpec {
            short: Some('a'),
            ..OptionSpec::new("other", OptionType::String, "x")
        });
        assert!(check_table(&dup_short).unwrap_err().contains("-a"));
        let mut dup_alias = common_options();
        dup_alias.push(OptionSpec {
            deprecated_names: &["ipaddr"],
            ..OptionSpec::new("address", OptionType::String, "x")
        });
        assert!(check_table(&dup_alias).unwrap_err().contains("ipaddr"));
        let mut dup_long = common_options();
        dup_long.push(OptionSpec {
            long: "power-timeout",
            ..OptionSpec::new("pt", OptionType::Second, "x")
        });
        assert!(check_table(&dup_long)
            .unwrap_err()
            .contains("power-timeout"));
        let mut bad_default = common_options();
        bad_default.push(OptionSpec {
            default: Some("c"),
            ..OptionSpec::new("s", OptionType::Select(&["a", "b"]), "x")
        });
        assert!(check_table(&bad_default).is_err());
    }
}
