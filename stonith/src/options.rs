//! The option table and the values of one invocation.
//!
//! An agent declares each option once, as a constant [`OptionSpec`] built with the `const`
//! builder methods, and reads its value back by that constant:
//! `options.port(&IPPORT)`, `options.flag(&LANPLUS)`. The constant is the only name the code
//! knows, so a typo does not compile; parsing, validation messages, metadata, `--help` and the
//! manpage all come from the same rows.

use std::time::Duration;

use crate::Secret;

/// How an option's value is read and shown in metadata.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OptionType {
    Boolean,
    String,
    Integer,
    /// A TCP/UDP port, 1-65535 (an `integer` in metadata).
    Port,
    /// A number of seconds, possibly fractional (power_wait=0.5).
    Second,
    Select(&'static [&'static str]),
}

impl OptionType {
    /// The content type fence-agents' metadata names it by.
    pub fn metadata_name(&self) -> &'static str {
        match self {
            OptionType::Boolean => "boolean",
            OptionType::String => "string",
            OptionType::Integer | OptionType::Port => "integer",
            OptionType::Second => "second",
            OptionType::Select(_) => "select",
        }
    }
}

/// A check of one value beyond its type; the error completes "the value of X ...".
pub type ValueCheck = fn(&str) -> Result<(), String>;

/// One row of the option table: the single source of parsing, validation, metadata and manpage.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    /// Canonical stdin / metadata name, e.g. `ip`.
    pub name: &'static str,
    /// Other stdin names accepted with a deprecated="1" entry in metadata, e.g. `ipaddr`.
    pub deprecated_names: &'static [&'static str],
    /// Long command-line option without dashes, e.g. `ip` for `--ip`.
    pub long: &'static str,
    /// Short command-line option, e.g. Some('a') for `-a`.
    pub short: Option<char>,
    pub kind: OptionType,
    pub default: Option<&'static str>,
    pub required: bool,
    /// The value is a secret: stored as [`Secret`], never echoed.
    pub secret: bool,
    /// A further check of the value, run by the parser.
    pub check: Option<ValueCheck>,
    pub shortdesc: &'static str,
}

impl OptionSpec {
    /// A row with no short option, no default, not required, not secret; refine it with the
    /// builder methods below (all `const`, so rows can be constants).
    pub const fn new(name: &'static str, kind: OptionType, shortdesc: &'static str) -> Self {
        OptionSpec {
            name,
            deprecated_names: &[],
            long: name,
            short: None,
            kind,
            default: None,
            required: false,
            secret: false,
            check: None,
            shortdesc,
        }
    }

    pub const fn short(mut self, short: char) -> Self {
        self.short = Some(short);
        self
    }

    /// A `--long` form other than the name (`port-as-ip`); `_` and `-` are read alike anyway.
    pub const fn long(mut self, long: &'static str) -> Self {
        self.long = long;
        self
    }

    /// Older stdin names, listed as deprecated in metadata.
    pub const fn aliases(mut self, names: &'static [&'static str]) -> Self {
        self.deprecated_names = names;
        self
    }

    pub const fn default(mut self, value: &'static str) -> Self {
        self.default = Some(value);
        self
    }

    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub const fn optional(mut self) -> Self {
        self.required = false;
        self
    }

    pub const fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    pub const fn check(mut self, check: ValueCheck) -> Self {
        self.check = Some(check);
        self
    }

    pub const fn describe(mut self, shortdesc: &'static str) -> Self {
        self.shortdesc = shortdesc;
        self
    }

    /// The `--long` form, with `_` written as `-` like fence-agents (`--power-timeout`).
    pub fn long_flag(&self) -> String {
        format!("--{}", self.long.replace('_', "-"))
    }
}

/// Parsed, validated options of one invocation, read back by their [`OptionSpec`].
///
/// The parser has checked every value against its row and filled in defaults, so the typed
/// readers do not fail; given a value set by hand (a unit test), they fall back to the row's
/// default and then to None.
#[derive(Debug, Clone, Default)]
pub struct Options {
    values: Vec<(String, String)>,
    secrets: Vec<(String, Secret)>,
    /// Pacemaker's `nodename` (the node being fenced), which is not an option of the table.
    nodename: Option<String>,
}

impl Options {
    pub fn new() -> Self {
        Self::default()
    }

    /// Set (or replace) a plain value.
    pub fn set(&mut self, spec: &OptionSpec, value: impl Into<String>) {
        self.set_by_name(spec.name, value.into());
    }

    /// Set (or replace) a secret value.
    pub fn set_secret(&mut self, spec: &OptionSpec, value: Secret) {
        match self.secrets.iter_mut().find(|(n, _)| n == spec.name) {
            Some(slot) => slot.1 = value,
            None => self.secrets.push((spec.name.to_string(), value)),
        }
    }

    /// The value as given (or the default), if not empty.
    pub fn text(&self, spec: &OptionSpec) -> Option<&str> {
        self.value(spec.name)
            .or(spec.default)
            .filter(|v| !v.trim().is_empty())
    }

    /// A boolean option: true only when given as true (or defaulting to true).
    pub fn flag(&self, spec: &OptionSpec) -> bool {
        self.text(spec)
            .and_then(crate::args::parse_bool)
            .unwrap_or(false)
    }

    /// A `Second` option as a duration.
    pub fn seconds(&self, spec: &OptionSpec) -> Option<Duration> {
        crate::args::parse_seconds(self.text(spec)?).ok()
    }

    /// An `Integer` option.
    pub fn integer(&self, spec: &OptionSpec) -> Option<i64> {
        self.text(spec)?.trim().parse().ok()
    }

    /// A `Port` option.
    pub fn port(&self, spec: &OptionSpec) -> Option<u16> {
        self.text(spec)?.trim().parse().ok().filter(|p| *p != 0)
    }

    /// A secret option.
    pub fn secret(&self, spec: &OptionSpec) -> Option<&Secret> {
        self.secrets
            .iter()
            .find(|(n, _)| n == spec.name)
            .map(|(_, v)| v)
    }

    /// The `plug` option, if given.
    pub fn plug(&self) -> Option<&str> {
        self.text(&crate::common::PLUG)
    }

    /// The login password after `password_script` / environment resolution.
    pub fn password(&self) -> Option<&Secret> {
        self.secret(&crate::common::PASSWORD)
    }

    /// The node Pacemaker is fencing (`nodename` on stdin), if it said.
    pub fn nodename(&self) -> Option<&str> {
        self.nodename.as_deref()
    }

    /// Plain values in insertion order, for logging (secrets are not included).
    pub fn plain_values(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Whether a row got a value (plain or secret), as opposed to nothing or its default.
    pub(crate) fn is_given(&self, name: &str) -> bool {
        self.value(name).is_some_and(|v| !v.is_empty())
            || self.secrets.iter().any(|(n, _)| n == name)
    }

    /// The raw value of a row, for the framework's table-driven code.
    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn set_by_name(&mut self, name: &str, value: String) {
        match self.values.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.values.push((name.to_string(), value)),
        }
    }

    pub(crate) fn set_nodename(&mut self, nodename: &str) {
        self.nodename = Some(nodename.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: OptionSpec = OptionSpec::new("wait", OptionType::Second, "w").default("2");
    const PORT: OptionSpec = OptionSpec::new("port", OptionType::Port, "p").default("623");
    const FLAG: OptionSpec = OptionSpec::new("flag", OptionType::Boolean, "f");

    #[test]
    fn readers_fall_back_to_the_rows_default() {
        let mut options = Options::new();
        assert_eq!(options.seconds(&WAIT), Some(Duration::from_secs(2)));
        assert_eq!(options.port(&PORT), Some(623));
        assert!(!options.flag(&FLAG));
        options.set(&WAIT, "0.5");
        options.set(&PORT, "8623");
        options.set(&FLAG, "yes");
        assert_eq!(options.seconds(&WAIT), Some(Duration::from_millis(500)));
        assert_eq!(options.port(&PORT), Some(8623));
        assert!(options.flag(&FLAG));
    }

    #[test]
    fn empty_values_read_as_unset() {
        let mut options = Options::new();
        options.set(&FLAG, "");
        assert_eq!(options.text(&FLAG), None);
        assert!(!options.is_given("flag"));
    }

    #[test]
    fn builder_sets_each_field() {
        const ROW: OptionSpec = OptionSpec::new("ip", OptionType::String, "a")
            .short('a')
            .aliases(&["ipaddr"])
            .long("address")
            .required()
            .secret();
        let row = ROW;
        assert_eq!(row.short, Some('a'));
        assert_eq!(row.deprecated_names, &["ipaddr"]);
        assert_eq!(row.long_flag(), "--address");
        assert!(row.required && row.secret);
        assert!(!row.optional().required);
    }
}
