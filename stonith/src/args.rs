//! Reading one invocation's options, from argv (GNU getopt style, fence-agents' short and long
//! forms) or from stdin (`key=value` lines, fence-agents' aliases), checked against the option
//! table. Errors are one line and never contain a secret value.

use std::fmt;
use std::time::Duration;

use crate::{common, OptionSpec, OptionType, Options, Secret};

/// Largest stdin we accept: real configurations are a few hundred bytes.
pub const MAX_STDIN: usize = 1 << 20;

/// Longest time value we accept, so a typo cannot turn into a near-infinite wait.
const MAX_SECONDS: f64 = 1_000_000.0;

/// A bad command line or stdin: one line, safe to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

/// What Pacemaker told us about its own timeout for this operation (stdin only).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PacemakerTimeouts {
    /// `CRM_meta_timeout` / `timeout`: the operation's timeout.
    pub general: Option<Duration>,
    /// `pcmk_<action>_timeout` values, by action name (`reboot`, `off`, ...).
    pub per_action: Vec<(String, Duration)>,
}

impl PacemakerTimeouts {
    pub fn for_action(&self, action: &str) -> Option<Duration> {
        let specific = self
            .per_action
            .iter()
            .find(|(a, _)| a == action)
            .map(|(_, d)| *d);
        match (specific, self.general) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn any(&self) -> bool {
        self.general.is_some() || !self.per_action.is_empty()
    }
}

/// One parsed invocation.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// Canonical names, typed values normalised, defaults filled in.
    pub options: Options,
    /// Verbosity: number of `-v`, or 1 for `verbose=1` on stdin.
    pub verbose: u32,
    /// Non-fatal remarks (unknown stdin keys, unused arguments) to log once logging is set up.
    pub warnings: Vec<String>,
    pub from_stdin: bool,
    /// A secret option was given on the command line, where other users can see it.
    pub secret_on_argv: bool,
    pub pacemaker: PacemakerTimeouts,
}

/// Names compare with `-` and `_` interchangeable and case ignored.
pub fn normalize_key(key: &str) -> String {
    key.trim().to_ascii_lowercase().replace('-', "_")
}

/// A number of seconds, possibly fractional, not negative.
pub fn parse_seconds(value: &str) -> Result<Duration, String> {
    let number: f64 = value
        .trim()
        .parse()
        .map_err(|_| "is not a valid time in seconds".to_string())?;
    if !number.is_finite() || number < 0.0 {
        return Err("is not a valid time in seconds".into());
    }
    if number > MAX_SECONDS {
        return Err(format!("is larger than {MAX_SECONDS} seconds"));
    }
    Ok(Duration::from_secs_f64(number))
}

/// fence-agents' boolean words. No value (`--lanplus`, a bare `lanplus` line on stdin) means
/// true, as a flag does on the command line; `lanplus=` on stdin is ignored with a warning
/// before it gets here (see `parse_stdin`), as fence-agents does.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "1" | "yes" | "on" | "true" => Some(true),
        "0" | "no" | "off" | "false" => Some(false),
        _ => None,
    }
}

/// Pacemaker's interval syntax: a number with an optional unit (ms, s, m/min, h).
fn parse_pacemaker_duration(value: &str, default_unit_ms: u64) -> Option<Duration> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: u64 = number.parse().ok()?;
    let unit_ms: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" => default_unit_ms,
        "ms" | "msec" => 1,
        "s" | "sec" => 1000,
        "m" | "min" => 60_000,
        "h" | "hr" => 3_600_000,
        _ => return None,
    };
    Some(Duration::from_millis(number.checked_mul(unit_ms)?))
}

/// Store one value under the spec's canonical name, checking and normalising it by type.
fn assign(
    options: &mut Options,
    spec: &OptionSpec,
    value: Option<&str>,
    shown: &str,
) -> Result<(), ParseError> {
    let fail = |why: &str| ParseError(format!("Parse error: the value of {shown} {why}"));
    if spec.kind == OptionType::Boolean {
        let flag = parse_bool(value.unwrap_or(""))
            .ok_or_else(|| fail("is not a boolean (1/yes/on/true or 0/no/off/false)"))?;
        options.set(spec, if flag { "1" } else { "0" });
        return Ok(());
    }
    let value = value.ok_or_else(|| ParseError(format!("Parse error: {shown} needs a value")))?;
    if spec.secret {
        // A secret's value is never checked here: an error could not show it anyway.
        options.set_secret(spec, Secret::new(value));
        return Ok(());
    }
    let normalised = normalise(&spec.kind, value).map_err(|why| fail(&why))?;
    if let Some(check) = spec.check {
        check(&normalised).map_err(|why| fail(&why))?;
    }
    options.set(spec, normalised);
    Ok(())
}

/// A value as its type reads it, or why it is not one.
pub(crate) fn normalise(kind: &OptionType, value: &str) -> Result<String, String> {
    match kind {
        OptionType::String | OptionType::Boolean => Ok(value.to_string()),
        OptionType::Integer => value
            .trim()
            .parse::<i64>()
            .map(|n| n.to_string())
            .map_err(|_| "is not a valid integer".into()),
        OptionType::Port => value
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .map(|p| p.to_string())
            .ok_or_else(|| "is not a port number (1-65535)".into()),
        OptionType::Second => parse_seconds(value).map(|_| value.trim().to_string()),
        OptionType::Select(choices) => choices
            .iter()
            .find(|c| c.eq_ignore_ascii_case(value.trim()))
            .map(|c| c.to_string())
            .ok_or_else(|| format!("must be one of: {}", choices.join(", "))),
    }
}

/// Defaults for rows not given, and the action name normalised.
fn finish(table: &[OptionSpec], mut invocation: Invocation) -> Invocation {
    let options = &mut invocation.options;
    for spec in table {
        if let Some(default) = spec.default {
            if options.value(spec.name).is_none() && options.secret(spec).is_none() {
                if spec.secret {
                    options.set_secret(spec, Secret::new(default));
                } else {
                    options.set(spec, default);
                }
            }
        }
    }
    if let Some(action) = options.text(&common::ACTION) {
        let mut action = action.trim().to_ascii_lowercase();
        if action == "meta-data" {
            action = "metadata".into();
        }
        options.set(&common::ACTION, action);
    }
    if invocation.verbose > 0 {
        options.set(&common::VERBOSE, "1");
    }
    invocation
}

/// Parse a command line (without the program name), GNU getopt style: bundled short options
/// (`-vvv`, `-ooff`), `--long=value` or `--long value`, `--` ends options. lexopt splits the
/// words; the table says what each option is.
pub fn parse_argv(table: &[OptionSpec], args: &[String]) -> Result<Invocation, ParseError> {
    use lexopt::Arg;
    let mut invocation = Invocation::default();
    let mut unused = 0;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(getopt_error)? {
        let (spec, shown) = match arg {
            Arg::Value(_) => {
                unused += 1;
                continue;
            }
            Arg::Long(name) => {
                let spec = find_long(table, name)?;
                (spec, spec.long_flag())
            }
            Arg::Short(short) => {
                let spec = table
                    .iter()
                    .find(|s| s.short == Some(short))
                    .ok_or_else(|| {
                        ParseError(format!("Parse error: invalid option -- '{short}'"))
                    })?;
                (spec, format!("-{short}"))
            }
        };
        note_argv(&mut invocation, spec);
        let value = match spec.kind {
            OptionType::Boolean => None,
            _ => Some(parser.value().map_err(getopt_error)?),
        };
        let value = value.as_ref().map(|v| v.to_string_lossy());
        assign(&mut invocation.options, spec, value.as_deref(), &shown)?;
    }
    if unused > 0 {
        invocation
            .warnings
            .push(format!("Unused arguments on command line: {unused}"));
    }
    Ok(finish(table, invocation))
}

/// lexopt's complaints in getopt's words. They name the option, never a value (a value may be
/// a password).
fn getopt_error(error: lexopt::Error) -> ParseError {
    ParseError(match error {
        lexopt::Error::MissingValue {
            option: Some(option),
        } => format!("Parse error: option {option} requires an argument"),
        lexopt::Error::UnexpectedValue { option, .. } => {
            format!("Parse error: option {option} must not have an argument")
        }
        _ => "Parse error: the command line cannot be read".to_string(),
    })
}

/// A long option by exact name, or (like getopt) by an unambiguous prefix.
fn find_long<'t>(table: &'t [OptionSpec], name: &str) -> Result<&'t OptionSpec, ParseError> {
    let wanted = name.replace('_', "-");
    if let Some(spec) = table.iter().find(|s| s.long.replace('_', "-") == wanted) {
        return Ok(spec);
    }
    let candidates: Vec<&OptionSpec> = table
        .iter()
        .filter(|s| !wanted.is_empty() && s.long.replace('_', "-").starts_with(&wanted))
        .collect();
    match candidates.as_slice() {
        [one] => Ok(one),
        [] => Err(ParseError(format!(
            "Parse error: unrecognized option '--{name}'"
        ))),
        _ => Err(ParseError(format!(
            "Parse error: option '--{name}' is ambiguous"
        ))),
    }
}

fn note_argv(invocation: &mut Invocation, spec: &OptionSpec) {
    if spec.name == common::VERBOSE.name {
        invocation.verbose += 1;
    }
    if spec.secret {
        invocation.secret_on_argv = true;
    }
}

/// Keys that are not options but are known: accepted silently.
fn is_known_extra(key: &str) -> bool {
    // Pacemaker adds nodename and nodeid (FenceAgentAPI); cluster.conf adds agent.
    key == "nodename"
        || key == "nodeid"
        || key == "agent"
        || key.starts_with("pcmk_")
        || key.starts_with("crm_")
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

/// Strip one pair of matching surrounding quotes.
fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if value.len() >= 2 && value.starts_with(quote) && value.ends_with(quote) {
            return &value[1..value.len() - 1];
        }
    }
    value
}

/// Parse fence-agents' stdin format: one `key=value` per line, `#` comments, last value wins.
pub fn parse_stdin(table: &[OptionSpec], input: &[u8]) -> Result<Invocation, ParseError> {
    if input.len() > MAX_STDIN {
        return Err(ParseError(format!(
            "Parse error: standard input is larger than {MAX_STDIN} bytes"
        )));
    }
    let mut invocation = Invocation {
        from_stdin: true,
        ..Invocation::default()
    };
    for (index, raw) in input.split(|b| *b == b'\n').enumerate() {
        let number = index + 1;
        let line = std::str::from_utf8(raw).map_err(|_| {
            ParseError(format!(
                "Parse error: line {number} of standard input is not valid UTF-8"
            ))
        })?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), Some(unquote(v))),
            None => (line, None),
        };
        if !valid_key(key) {
            return Err(ParseError(format!(
                "Parse error: line {number} of standard input is not 'name=value'"
            )));
        }
        let normalized = normalize_key(key);
        let spec = table.iter().find(|s| {
            normalize_key(s.name) == normalized
                || normalize_key(s.long) == normalized
                || s.deprecated_names
                    .iter()
                    .any(|d| normalize_key(d) == normalized)
        });
        match spec {
            // An empty boolean is ignored, as fence-agents does: `ssl_insecure=` must not
            // silently turn certificate checks off.
            Some(spec)
                if spec.kind == OptionType::Boolean
                    && value.is_some_and(|v| v.trim().is_empty()) =>
            {
                invocation
                    .warnings
                    .push(format!("Parse error: Ignoring '{key}' without a value"));
            }
            Some(spec) => {
                let verbose = spec.name == common::VERBOSE.name;
                if verbose {
                    invocation.verbose = 0;
                }
                assign(&mut invocation.options, spec, value, &format!("'{key}'"))?;
                if verbose && invocation.options.flag(&common::VERBOSE) {
                    invocation.verbose = 1;
                }
            }
            None => note_extra(&mut invocation, key, &normalized, value)?,
        }
    }
    Ok(finish(table, invocation))
}

/// A stdin key that is not in the table: Pacemaker's timeouts, `nodename`, or unknown.
fn note_extra(
    invocation: &mut Invocation,
    key: &str,
    normalized: &str,
    value: Option<&str>,
) -> Result<(), ParseError> {
    let bad_timeout = || {
        ParseError(format!(
            "Parse error: the value of '{key}' is not a valid timeout"
        ))
    };
    if normalized == "crm_meta_timeout" || normalized == "timeout" {
        let unit_ms = if normalized == "timeout" { 1000 } else { 1 };
        let duration =
            parse_pacemaker_duration(value.unwrap_or(""), unit_ms).ok_or_else(bad_timeout)?;
        invocation.pacemaker.general = Some(duration);
        return Ok(());
    }
    if let Some(action) = normalized
        .strip_prefix("pcmk_")
        .and_then(|r| r.strip_suffix("_timeout"))
    {
        let duration =
            parse_pacemaker_duration(value.unwrap_or(""), 1000).ok_or_else(bad_timeout)?;
        invocation.pacemaker.per_action.retain(|(a, _)| a != action);
        invocation
            .pacemaker
            .per_action
            .push((action.replace('_', "-"), duration));
        return Ok(());
    }
    if normalized == "nodename" {
        invocation.options.set_nodename(value.unwrap_or(""));
        return Ok(());
    }
    if !is_known_extra(normalized) {
        invocation
            .warnings
            .push(format!("Parse error: Ignoring unknown option '{key}'"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::common_options;

    const LANPLUS: OptionSpec =
        OptionSpec::new("lanplus", OptionType::Boolean, "Use Lanplus").short('P');
    const KG: OptionSpec = OptionSpec::new("hexadecimal_kg", OptionType::String, "Kg key").secret();
    const PRIVLVL: OptionSpec = OptionSpec::new(
        "privlvl",
        OptionType::Select(&["callback", "user", "operator", "administrator"]),
        "lvl",
    )
    .short('L')
    .default("administrator");

    fn table() -> Vec<OptionSpec> {
        let mut t = common_options();
        t.extend([LANPLUS, KG, PRIVLVL]);
        t
    }

    fn argv(args: &[&str]) -> Result<Invocation, ParseError> {
        parse_argv(
            &table(),
            &args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    }

    fn stdin(text: &str) -> Result<Invocation, ParseError> {
        parse_stdin(&table(), text.as_bytes())
    }

    #[test]
    fn empty_boolean_on_stdin_is_ignored_with_a_warning() {
        let inv = parse_stdin(&table(), b"lanplus=0\nlanplus=\n").expect("parses");
        assert_eq!(
            inv.options.value("lanplus"),
            Some("0"),
            "the empty value must not turn the flag on"
        );
        assert!(
            inv.warnings
                .iter()
                .any(|w| w.contains("'lanplus' without a value")),
            "{:?}",
            inv.warnings
        );
        let bare = parse_stdin(&table(), b"lanplus\n").expect("parses");
        assert_eq!(bare.options.value("lanplus"), Some("1"));
    }

    #[test]
    fn argv_short_and_long_forms() {
        let inv = argv(&[
            "-o",
            "off",
            "-a",
            "10.0.0.1",
            "--username=admin",
            "-pSECRET",
            "-n",
            "node1",
            "-P",
        ])
        .unwrap();
        let o = &inv.options;
        assert_eq!(o.value("action"), Some("off"));
        assert_eq!(o.value("ip"), Some("10.0.0.1"));
        assert_eq!(o.value("username"), Some("admin"));
        assert_eq!(o.password().unwrap().expose(), "SECRET");
        assert_eq!(
            o.value("password"),
            None,
            "secrets are not stored as plain values"
        );
        assert_eq!(o.plug(), Some("node1"));
        assert!(o.flag(&LANPLUS));
        assert!(inv.secret_on_argv);
        assert!(!inv.from_stdin);
    }

    #[test]
    fn argv_long_with_separate_value_and_dashes() {
        let inv = argv(&[
            "--action",
            "status",
            "--power-timeout",
            "7.5",
            "--password_script",
            "echo x",
        ])
        .unwrap();
        assert_eq!(inv.options.value("power_timeout"), Some("7.5"));
        assert_eq!(
            inv.options.seconds(&common::POWER_TIMEOUT),
            Some(Duration::from_millis(7500))
        );
        assert_eq!(inv.options.value("password_script"), Some("echo x"));
    }

    #[test]
    fn argv_bundled_verbose_counts() {
        let inv = argv(&["-vvv", "-ostatus"]).unwrap();
        assert_eq!(inv.verbose, 3);
        assert!(inv.options.flag(&common::VERBOSE));
        assert_eq!(inv.options.value("action"), Some("status"));
    }

    #[test]
    fn argv_defaults_are_filled() {
        let inv = argv(&["-o", "status"]).unwrap();
        assert_eq!(inv.options.value("power_timeout"), Some("20"));
        assert_eq!(inv.options.value("method"), Some("onoff"));
        assert_eq!(inv.options.value("privlvl"), Some("administrator"));
        assert_eq!(inv.options.integer(&common::RETRY_ON), Some(1));
        assert!(!inv.options.flag(&LANPLUS));
    }

    #[test]
    fn argv_errors_are_one_line() {
        for bad in [
            vec!["--bogus"],
            vec!["-x"],
            vec!["-o"],
            vec!["--ip"],
            vec!["--verbose=1"],
            vec!["--ipport", "abc"],
            vec!["--power-timeout", "-1"],
            vec!["--method", "sideways"],
        ] {
            let err = argv(&bad).unwrap_err();
            assert!(!err.0.contains('\n'), "{err}");
            assert!(err.0.starts_with("Parse error"), "{err}");
        }
    }

    #[test]
    fn argv_errors_never_show_a_value() {
        let err = argv(&["--quiet=hunter2"]).unwrap_err();
        assert!(
            err.0.contains("--quiet") && !err.0.contains("hunter2"),
            "{err}"
        );
        let err = argv(&["-a", "x", "--password"]).unwrap_err();
        assert!(err.0.contains("requires an argument"), "{err}");
    }

    #[test]
    fn argv_after_double_dash_is_unused() {
        let inv = argv(&["-o", "status", "--", "-a", "x"]).unwrap();
        assert_eq!(inv.options.value("ip"), None);
        assert_eq!(inv.warnings, vec!["Unused arguments on command line: 2"]);
    }

    #[test]
    fn argv_unambiguous_long_prefix() {
        let inv = argv(&["--act=off", "--user", "admin"]).unwrap();
        assert_eq!(inv.options.value("action"), Some("off"));
        assert_eq!(inv.options.value("username"), Some("admin"));
        assert!(argv(&["--p=1"]).unwrap_err().0.contains("ambiguous"));
    }

    #[test]
    fn argv_select_is_case_insensitive() {
        let inv = argv(&["-m", "CYCLE", "-L", "Operator"]).unwrap();
        assert_eq!(inv.options.value("method"), Some("cycle"));
        assert_eq!(inv.options.value("privlvl"), Some("operator"));
    }

    #[test]
    fn argv_unused_positional_is_a_warning() {
        let inv = argv(&["-o", "status", "extra"]).unwrap();
        assert_eq!(inv.warnings.len(), 1);
    }

    #[test]
    fn argv_meta_data_alias() {
        assert_eq!(
            argv(&["-o", "META-DATA"]).unwrap().options.value("action"),
            Some("metadata")
        );
    }

    #[test]
    fn stdin_aliases_map_to_canonical_names() {
        let inv = stdin(
            "option=off\nipaddr=10.1.1.1\nlogin=root\npasswd=pw\npasswd_script=/bin/true\nport=3\ndebug=/tmp/x\n",
        )
        .unwrap();
        let o = &inv.options;
        assert_eq!(o.value("action"), Some("off"));
        assert_eq!(o.value("ip"), Some("10.1.1.1"));
        assert_eq!(o.value("username"), Some("root"));
        assert_eq!(o.password().unwrap().expose(), "pw");
        assert_eq!(o.value("password_script"), Some("/bin/true"));
        assert_eq!(o.plug(), Some("3"));
        assert_eq!(o.value("debug_file"), Some("/tmp/x"));
        assert!(inv.from_stdin);
        assert!(!inv.secret_on_argv);
    }

    #[test]
    fn stdin_dash_and_underscore_interchangeable() {
        let inv = stdin(
            "power-timeout=9\nstonith_status_sleep=0.2\ndebug-file=/tmp/d\nhexadecimal-kg=abcd\n",
        )
        .unwrap();
        assert_eq!(inv.options.value("power_timeout"), Some("9"));
        assert_eq!(inv.options.value("stonith_status_sleep"), Some("0.2"));
        assert_eq!(inv.options.value("debug_file"), Some("/tmp/d"));
        assert_eq!(inv.options.secret(&KG).unwrap().expose(), "abcd");
    }

    #[test]
    fn stdin_comments_blank_lines_quotes_and_whitespace() {
        let inv = stdin("# comment\n\n   ip=\"10.0.0.9\"  \nusername='admin'\n  # indented comment\npassword=\"a=b\"\r\n").unwrap();
        assert_eq!(inv.options.value("ip"), Some("10.0.0.9"));
        assert_eq!(inv.options.value("username"), Some("admin"));
        assert_eq!(inv.options.password().unwrap().expose(), "a=b");
    }

    #[test]
    fn stdin_last_value_wins() {
        let inv = stdin("ip=1.1.1.1\nipaddr=2.2.2.2\n").unwrap();
        assert_eq!(inv.options.value("ip"), Some("2.2.2.2"));
    }

    #[test]
    fn stdin_booleans() {
        for (text, expected) in [
            ("lanplus=1", true),
            ("lanplus=yes", true),
            ("lanplus=ON", true),
            ("lanplus=true", true),
            ("lanplus", true),
            ("lanplus=0", false),
            ("lanplus=no", false),
            ("lanplus=off", false),
            ("lanplus=False", false),
        ] {
            let inv = stdin(text).unwrap();
            assert_eq!(inv.options.flag(&LANPLUS), expected, "{text}");
        }
        let err = stdin("lanplus=maybe").unwrap_err();
        assert!(err.0.contains("lanplus"), "{err}");
        assert_eq!(stdin("verbose=1").unwrap().verbose, 1);
        assert_eq!(stdin("verbose=0").unwrap().verbose, 0);
    }

    #[test]
    fn stdin_unknown_keys_warn_known_extras_do_not() {
        let inv = stdin("frobnicate=1\nnodename=node1\nagent=fence_x\npcmk_host_list=a\n").unwrap();
        assert_eq!(inv.warnings.len(), 1, "{:?}", inv.warnings);
        assert!(inv.warnings[0].contains("frobnicate"));
        assert_eq!(inv.options.nodename(), Some("node1"));
    }

    #[test]
    fn stdin_unknown_key_warning_never_shows_the_value() {
        let inv = stdin("secretthing=hunter2\n").unwrap();
        assert!(!inv.warnings.iter().any(|w| w.contains("hunter2")));
    }

    #[test]
    fn stdin_pacemaker_timeouts() {
        let inv =
            stdin("CRM_meta_timeout=90000\npcmk_reboot_timeout=120s\npcmk_off_timeout=2min\n")
                .unwrap();
        assert_eq!(inv.pacemaker.general, Some(Duration::from_secs(90)));
        assert_eq!(
            inv.pacemaker.for_action("reboot"),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            inv.pacemaker.for_action("off"),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            inv.pacemaker.for_action("status"),
            Some(Duration::from_secs(90))
        );
        assert!(stdin("pcmk_off_timeout=soon").is_err());
    }

    #[test]
    fn stdin_malformed_input_is_an_error() {
        for bad in [
            "=value",
            "two words=1",
            "ip address",
            "ipport=12x",
            "delay=abc",
            "method=teleport",
            "ip",
        ] {
            let err = stdin(bad).unwrap_err();
            assert!(!err.0.contains('\n'), "{err}");
        }
        assert!(parse_stdin(&table(), b"ip=\xff\xfe\n").is_err());
    }

    #[test]
    fn stdin_error_never_shows_a_secret() {
        // A secret never fails type checks, and a malformed line is reported by number only.
        let err = stdin("pass word=hunter2").unwrap_err();
        assert!(!err.0.contains("hunter2"), "{err}");
    }

    #[test]
    fn stdin_empty_gives_defaults() {
        let inv = stdin("").unwrap();
        assert_eq!(inv.options.value("action"), Some("reboot"));
    }

    #[test]
    fn seconds_parser() {
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_seconds(" 3 "), Ok(Duration::from_secs(3)));
        assert!(parse_seconds("NaN").is_err());
        assert!(parse_seconds("inf").is_err());
        assert!(parse_seconds("-2").is_err());
        assert!(parse_seconds("1e300").is_err());
    }
}
