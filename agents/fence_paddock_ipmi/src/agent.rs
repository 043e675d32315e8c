//! The fence agent: fence_ipmilan's options (names, short forms, defaults), their validation,
//! and the glue from the stonith framework's power calls to IPMI chassis commands.

use std::time::Duration;

use stonith::common::{self, IP, PASSWORD, PORT_AS_IP, USERNAME};
use stonith::{
    AgentInfo, Deadline, FenceAgent, FenceDevice, FenceError, OptionSpec, OptionType, Options,
    PowerAction, PowerState,
};

use crate::chassis::{self, Control};
use crate::crypto::{self, SUPPORTED_SUITES};
use crate::lan15::AuthType;
use crate::session::{Privilege, Protocol, Session, SessionConfig, SessionError};

pub struct IpmiAgent;

// The rows this agent adds to (or changes in) the framework's table, fence_ipmilan's names.

pub const IPPORT: OptionSpec = common::IPPORT.default("623");
pub const AUTH: OptionSpec = OptionSpec::new(
    "auth",
    OptionType::Select(&["md5", "password", "none"]),
    "IPMI Lan Auth type.",
)
.short('A');
pub const CIPHER: OptionSpec = OptionSpec::new(
    "cipher",
    OptionType::String,
    "Ciphersuite to use (same as ipmitool -C parameter)",
)
.short('C')
.check(supported_cipher);
pub const HEXADECIMAL_KG: OptionSpec = OptionSpec::new(
    "hexadecimal_kg",
    OptionType::String,
    "Hexadecimal-encoded Kg key for IPMIv2 authentication",
)
.secret();
pub const LANPLUS: OptionSpec = OptionSpec::new(
    "lanplus",
    OptionType::Boolean,
    "Use Lanplus to improve security of connection",
)
.short('P')
.default("0");
pub const PRIVLVL: OptionSpec = OptionSpec::new(
    "privlvl",
    OptionType::Select(&["callback", "user", "operator", "administrator"]),
    "Privilege level on IPMI device",
)
.short('L')
.default("administrator");
pub const TARGET: OptionSpec = OptionSpec::new(
    "target",
    OptionType::String,
    "Bridge IPMI requests to the remote target address (not supported)",
);
// fence_ipmilan waits 2 s after each command because it cannot tell when the BMC has acted;
// this agent polls until it sees the state, so the pause buys nothing.
pub const POWER_WAIT: OptionSpec = common::POWER_WAIT.describe("Wait X seconds after issuing ON/OFF (default 0, where fence_ipmilan has 2: the agent polls the BMC until it sees the promised state)");
// A string in fence_ipmilan's metadata (kept, for pcs and parity); checked as seconds here.
pub const IPMITOOL_TIMEOUT: OptionSpec = OptionSpec::new(
    "ipmitool_timeout",
    OptionType::String,
    "Timeout (sec) for IPMI operation: the longest wait before a retransmission",
)
.default("2")
.check(positive);

// Options of fence_ipmilan that only made sense with ipmitool: accepted so that existing
// configurations keep working, and ignored with a warning.
pub const IPMITOOL_PATH: OptionSpec = OptionSpec::new(
    "ipmitool_path",
    OptionType::String,
    "Path to ipmitool binary (ignored: IPMI is spoken natively)",
);
pub const USE_SUDO: OptionSpec = OptionSpec::new(
    "use_sudo",
    OptionType::Boolean,
    "Use sudo (without password) when calling 3rd party software (ignored: no 3rd party software is called)",
)
.aliases(&["sudo"]);
pub const SUDO_PATH: OptionSpec = OptionSpec::new(
    "sudo_path",
    OptionType::String,
    "Path to sudo binary (ignored)",
);
pub const IPMITOOL_ONLY: &[OptionSpec] = &[IPMITOOL_PATH, USE_SUDO, SUDO_PATH];

fn supported_cipher(value: &str) -> Result<(), String> {
    let id: Option<u8> = value.trim().parse().ok();
    if SUPPORTED_SUITES.iter().any(|s| Some(s.id) == id) {
        return Ok(());
    }
    let supported: Vec<String> = SUPPORTED_SUITES.iter().map(|s| s.id.to_string()).collect();
    Err(format!(
        "is not a supported cipher suite ({})",
        supported.join(", ")
    ))
}

fn positive(value: &str) -> Result<(), String> {
    match stonith::args::parse_seconds(value) {
        Ok(d) if !d.is_zero() => Ok(()),
        _ => Err("is not a number of seconds above 0".into()),
    }
}

impl FenceAgent for IpmiAgent {
    fn info(&self) -> AgentInfo {
        AgentInfo {
            name: "fence_paddock_ipmi",
            shortdesc: "Fence agent for IPMI over LAN (native RMCP+, no ipmitool)",
            longdesc: "fence_paddock_ipmi is a Power Fencing agent for machines controlled by IPMI. It speaks IPMI v2.0 RMCP+ (lanplus) and IPMI v1.5 over LAN itself, without ipmitool, and takes fence_ipmilan's parameters. It reports success only after it has read the promised power state back from the BMC; every exchange is bounded by the operation's timeout; passwords and keys never appear on a command line or in logs.",
            vendor_url: "https://www.intel.com/content/www/us/en/products/docs/servers/ipmi/ipmi-home.html",
            multiple_plugs: false,
        }
    }

    fn options(&self) -> Vec<OptionSpec> {
        vec![
            IPPORT,
            AUTH,
            CIPHER,
            HEXADECIMAL_KG,
            LANPLUS,
            PRIVLVL,
            TARGET,
            PORT_AS_IP,
            POWER_WAIT,
            IPMITOOL_PATH,
            IPMITOOL_TIMEOUT,
            USE_SUDO,
            SUDO_PATH,
        ]
    }

    /// Chassis Control "pulse diagnostic interrupt" (NMI), as fence_ipmilan's diag.
    fn has_diag(&self) -> bool {
        true
    }

    fn validate(&self, options: &Options) -> Result<(), FenceError> {
        config_from_options(options).map(|_| ())
    }

    /// The framework bounds this call by login_timeout and each device call by shell_timeout.
    fn connect(
        &self,
        options: &Options,
        deadline: Deadline,
    ) -> Result<Box<dyn FenceDevice>, FenceError> {
        let (cfg, warnings) = config_and_warnings(options)?;
        for w in warnings {
            tracing::warn!("{w}");
        }
        let session = Session::open(&cfg, deadline).map_err(to_fence_error)?;
        tracing::debug!(
            "session open to {}:{} ({})",
            cfg.host,
            cfg.port,
            match (session.cipher_suite, session.auth_type) {
                (Some(c), _) => format!("lanplus, cipher suite {c}"),
                (None, Some(a)) => format!("IPMI 1.5, auth {}", a.name()),
                _ => "?".into(),
            }
        );
        Ok(Box::new(IpmiDevice { session }))
    }
}

/// Build the session configuration, checking what the option table cannot.
pub fn config_from_options(options: &Options) -> Result<SessionConfig, FenceError> {
    config_and_warnings(options).map(|(cfg, _)| cfg)
}

/// The configuration and the remarks about options that do not apply (logged once, by connect).
/// Every value was typed and checked by the parser; what is left are checks across options.
fn config_and_warnings(options: &Options) -> Result<(SessionConfig, Vec<String>), FenceError> {
    let config = |m: &str| FenceError::Config(m.to_string());
    if options.text(&TARGET).is_some() {
        return Err(config(
            "target (IPMI bridging) is not supported by this agent; address the BMC directly",
        ));
    }
    // port_as_ip was applied by the framework: the plug is already in ip.
    let host = options.text(&IP).map(str::trim).unwrap_or_default();
    if host.is_empty() {
        return Err(config("no BMC address: set ip (or plug with port_as_ip)"));
    }
    let lanplus = options.flag(&LANPLUS);
    let (protocol, mut warnings) = protocol(options, lanplus)?;
    let username = options.text(&USERNAME).unwrap_or_default().to_string();
    if username.len() > 16 {
        return Err(config("username is longer than IPMI's 16 bytes"));
    }
    let password = options
        .secret(&PASSWORD)
        .map(|s| s.expose().as_bytes().to_vec())
        .unwrap_or_default();
    let (version, limit) = if lanplus { ("2.0", 20) } else { ("1.5", 16) };
    if password.len() > limit {
        return Err(FenceError::Config(format!(
            "password is longer than IPMI {version}'s {limit} bytes"
        )));
    }
    for spec in IPMITOOL_ONLY {
        if options.text(spec).is_some_and(|v| v != "0") {
            warnings.push(format!(
                "option {} is ignored: this agent does not run ipmitool",
                spec.name
            ));
        }
    }
    let cfg = SessionConfig {
        host: host.to_string(),
        port: options.port(&IPPORT).unwrap_or_default(),
        username,
        password,
        kg: kg(options)?,
        privilege: options
            .text(&PRIVLVL)
            .and_then(Privilege::parse)
            .unwrap_or(Privilege::Administrator),
        protocol,
        max_rto: options
            .seconds(&IPMITOOL_TIMEOUT)
            .unwrap_or_default()
            .max(Duration::from_millis(50)),
    };
    Ok((cfg, warnings))
}

/// lanplus (with its cipher suite) or IPMI 1.5 (with its auth type), and the options that do
/// not apply to the one chosen.
fn protocol(options: &Options, lanplus: bool) -> Result<(Protocol, Vec<String>), FenceError> {
    let cipher = options.text(&CIPHER).and_then(|c| c.trim().parse().ok());
    let auth = options.text(&AUTH).map(|a| match a {
        "md5" => AuthType::Md5,
        "password" => AuthType::Password,
        _ => AuthType::None,
    });
    let mut warnings = Vec::new();
    if lanplus {
        if auth.is_some() {
            warnings.push("auth applies to IPMI 1.5 (lanplus=0) only; ignored with lanplus".into());
        }
        return Ok((Protocol::Lanplus { cipher }, warnings));
    }
    if cipher.is_some() {
        warnings.push("cipher applies to lanplus only; ignored with lanplus=0".into());
    }
    if options
        .secret(&HEXADECIMAL_KG)
        .is_some_and(|k| !k.is_empty())
    {
        return Err(FenceError::Config(
            "hexadecimal_kg needs lanplus=1 (IPMI 1.5 has no Kg key)".into(),
        ));
    }
    Ok((Protocol::Lan15 { auth }, warnings))
}

/// The Kg key; a bad one is reported by the option's name, never its value.
fn kg(options: &Options) -> Result<Option<[u8; 20]>, FenceError> {
    match options.secret(&HEXADECIMAL_KG).filter(|k| !k.is_empty()) {
        Some(k) => crypto::parse_hex_kg(k.expose())
            .map(Some)
            .map_err(FenceError::Config),
        None => Ok(None),
    }
}

/// Map session failures to the framework's error kinds (messages carry no secrets).
pub fn to_fence_error(e: SessionError) -> FenceError {
    match e {
        SessionError::Timeout(m) => FenceError::Timeout(m),
        SessionError::Auth(m) => FenceError::Auth(m),
        SessionError::Io(m) => FenceError::Config(m),
        e @ (SessionError::Protocol(_) | SessionError::Completion { .. }) => {
            FenceError::Device(e.to_string())
        }
    }
}

/// An open session to one BMC = one plug.
pub struct IpmiDevice {
    session: Session,
}

impl FenceDevice for IpmiDevice {
    fn power_status(
        &mut self,
        _plug: Option<&str>,
        deadline: Deadline,
    ) -> Result<PowerState, FenceError> {
        let on = chassis::get_power_on(&mut self.session, deadline).map_err(to_fence_error)?;
        Ok(if on { PowerState::On } else { PowerState::Off })
    }

    fn set_power(
        &mut self,
        _plug: Option<&str>,
        action: PowerAction,
        deadline: Deadline,
    ) -> Result<(), FenceError> {
        let op = match action {
            PowerAction::On => Control::PowerUp,
            PowerAction::Off => Control::PowerDown,
            PowerAction::Cycle => Control::PowerCycle,
            PowerAction::Soft => Control::SoftShutdown,
            PowerAction::Diag => Control::DiagnosticInterrupt,
        };
        tracing::debug!("Chassis Control: {op:?}");
        chassis::control(&mut self.session, op, deadline).map_err(to_fence_error)
    }

    fn close(&mut self, deadline: Deadline) {
        self.session.close(deadline.capped(Duration::from_secs(1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stonith::{args::parse_stdin, option_table, Secret};

    fn base() -> Options {
        let mut o = Options::new();
        o.set(&IP, "127.0.0.1");
        o.set(&USERNAME, "admin");
        o.set_secret(&PASSWORD, Secret::new("secret"));
        o
    }

    /// Options as the framework gives them: parsed from stdin against the agent's table.
    fn parsed(extra: &str) -> Result<Options, String> {
        let input = format!("ip=127.0.0.1\nusername=admin\npassword=secret\n{extra}\n");
        parse_stdin(&option_table(&IpmiAgent), input.as_bytes())
            .map(|i| i.options)
            .map_err(|e| e.0)
    }

    #[test]
    fn defaults_match_fence_ipmilan() {
        let cfg = config_from_options(&base()).expect("valid");
        assert_eq!(cfg.port, 623);
        assert_eq!(cfg.privilege, Privilege::Administrator);
        assert_eq!(cfg.protocol, Protocol::Lan15 { auth: None });
        assert_eq!(cfg.max_rto, Duration::from_secs(2));
        let mut o = base();
        o.set(&LANPLUS, "1");
        assert_eq!(
            config_from_options(&o).expect("valid").protocol,
            Protocol::Lanplus { cipher: None }
        );
    }

    #[test]
    fn typed_values_reach_the_session_config() {
        let o = parsed("lanplus=1\ncipher=17\nprivlvl=Operator\nipport=6230\nipmitool_timeout=0.5")
            .expect("parses");
        let cfg = config_from_options(&o).expect("valid");
        assert_eq!(cfg.protocol, Protocol::Lanplus { cipher: Some(17) });
        assert_eq!(cfg.privilege, Privilege::Operator);
        assert_eq!(cfg.port, 6230);
        assert_eq!(cfg.max_rto, Duration::from_millis(500));
        let o = parsed("auth=password").expect("parses");
        assert_eq!(
            config_from_options(&o).expect("valid").protocol,
            Protocol::Lan15 {
                auth: Some(AuthType::Password)
            }
        );
    }

    #[test]
    fn every_choice_of_the_table_maps_to_a_value() {
        let OptionType::Select(levels) = PRIVLVL.kind else {
            panic!("privlvl is a select")
        };
        for level in levels {
            assert_eq!(Privilege::parse(level).map(|p| p.name()), Some(*level));
        }
        let OptionType::Select(auths) = AUTH.kind else {
            panic!("auth is a select")
        };
        for auth in auths {
            let o = parsed(&format!("auth={auth}")).expect("parses");
            match config_from_options(&o).expect("valid").protocol {
                Protocol::Lan15 { auth: Some(a) } => assert_eq!(a.name(), *auth),
                other => panic!("{auth}: {other:?}"),
            }
        }
    }

    #[test]
    fn bad_values_are_refused_by_the_parser_in_one_line() {
        for (k, v) in [
            ("cipher", "4"),
            ("cipher", "x"),
            ("privlvl", "root"),
            ("ipport", "70000"),
            ("auth", "md2"),
            ("ipmitool_timeout", "0"),
        ] {
            let err = parsed(&format!("{k}={v}")).expect_err(&format!("{k}={v} accepted"));
            assert!(err.contains(k) && !err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn checks_across_options_are_config_errors_without_secrets() {
        let o = parsed("target=0x72").expect("parses");
        assert!(matches!(
            config_from_options(&o),
            Err(FenceError::Config(_))
        ));
        let o = parsed("hexadecimal_kg=0011").expect("parses");
        assert!(
            matches!(config_from_options(&o), Err(FenceError::Config(_))),
            "kg without lanplus"
        );
        let o = parsed("lanplus=1\nhexadecimal_kg=zz-not-hex-secretvalue").expect("parses");
        let err = config_from_options(&o)
            .expect_err("bad kg refused")
            .to_string();
        assert!(!err.contains("secretvalue"), "{err}");
        let o = parsed("password=seventeen-bytes-pw").expect("parses");
        assert!(
            config_from_options(&o).is_err(),
            "IPMI 1.5 passwords have 16 bytes"
        );
    }

    #[test]
    fn option_table_is_consistent() {
        let table = option_table(&IpmiAgent);
        assert_eq!(stonith::check_table(&table), Ok(()));
        let ip = table.iter().find(|o| o.name == "ip").expect("ip row");
        assert!(!ip.required, "with port_as_ip the plug may name the BMC");
    }
}
