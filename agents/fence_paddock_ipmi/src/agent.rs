//! The fence agent: fence_ipmilan's options (names, short forms, defaults), their validation,
//! and the glue from the stonith framework's power calls to IPMI chassis commands.

use std::time::Duration;

use stonith::{
    AgentInfo, Deadline, FenceAgent, FenceDevice, FenceError, OptionSpec, OptionType, Options,
    PowerAction, PowerState,
};

use crate::chassis::{self, Control};
use crate::crypto::{self, SUPPORTED_SUITES};
use crate::lan15::AuthType;
use crate::session::{Privilege, Protocol, Session, SessionConfig, SessionError};

pub struct IpmiAgent;

const fn opt(
    name: &'static str,
    long: &'static str,
    short: Option<char>,
    kind: OptionType,
    default: Option<&'static str>,
    shortdesc: &'static str,
) -> OptionSpec {
    OptionSpec {
        name,
        deprecated_names: &[],
        long,
        short,
        kind,
        default,
        required: false,
        secret: false,
        shortdesc,
    }
}

/// Options of fence_ipmilan that only made sense with ipmitool: accepted so that existing
/// configurations keep working, and ignored with a warning.
pub const IPMITOOL_ONLY: &[&str] = &["ipmitool_path", "use_sudo", "sudo_path"];

/// Debug lines of the protocol layers (never with a secret) go to the framework's log.
fn log(msg: &str) {
    stonith::log::debug(msg)
}

fn warn(msg: &str) {
    stonith::log::warn(msg)
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
        let mut kg = opt(
            "hexadecimal_kg",
            "hexadecimal-kg",
            None,
            OptionType::String,
            None,
            "Hexadecimal-encoded Kg key for IPMIv2 authentication",
        );
        kg.secret = true;
        let mut sudo = opt("use_sudo", "use-sudo", None, OptionType::Boolean, None, "Use sudo (without password) when calling 3rd party software (ignored: no 3rd party software is called)");
        sudo.deprecated_names = &["sudo"];
        // Not required, as in fence_ipmilan: with port_as_ip the plug names the BMC.
        let mut ip = opt(
            "ip",
            "ip",
            Some('a'),
            OptionType::String,
            None,
            "IP address or hostname of fencing device",
        );
        ip.deprecated_names = &["ipaddr"];
        vec![
            ip,
            opt(
                "ipport",
                "ipport",
                Some('u'),
                OptionType::Integer,
                Some("623"),
                "TCP/UDP port to use for connection with device",
            ),
            opt(
                "auth",
                "auth",
                Some('A'),
                OptionType::Select(&["md5", "password", "none"]),
                None,
                "IPMI Lan Auth type.",
            ),
            opt(
                "cipher",
                "cipher",
                Some('C'),
                OptionType::String,
                None,
                "Ciphersuite to use (same as ipmitool -C parameter)",
            ),
            kg,
            opt(
                "lanplus",
                "lanplus",
                Some('P'),
                OptionType::Boolean,
                Some("0"),
                "Use Lanplus to improve security of connection",
            ),
            opt(
                "privlvl",
                "privlvl",
                Some('L'),
                OptionType::Select(&["callback", "user", "operator", "administrator"]),
                Some("administrator"),
                "Privilege level on IPMI device",
            ),
            opt(
                "target",
                "target",
                None,
                OptionType::String,
                None,
                "Bridge IPMI requests to the remote target address (not supported)",
            ),
            opt(
                "port_as_ip",
                "port-as-ip",
                None,
                OptionType::Boolean,
                None,
                "Make \"port/plug\" to be an alias to IP address",
            ),
            // fence_ipmilan waits 2 s after each command because it cannot tell when the BMC
            // has acted; this agent polls until it sees the state, so the pause buys nothing.
            opt(
                "power_wait",
                "power-wait",
                None,
                OptionType::Second,
                Some("0"),
                "Wait X seconds after issuing ON/OFF (default 0, where fence_ipmilan has 2: the agent polls the BMC until it sees the promised state)",
            ),
            opt(
                "ipmitool_path",
                "ipmitool-path",
                None,
                OptionType::String,
                None,
                "Path to ipmitool binary (ignored: IPMI is spoken natively)",
            ),
            opt(
                "ipmitool_timeout",
                "ipmitool-timeout",
                None,
                OptionType::String,
                Some("2"),
                "Timeout (sec) for IPMI operation: the longest wait before a retransmission",
            ),
            sudo,
            opt(
                "sudo_path",
                "sudo-path",
                None,
                OptionType::String,
                None,
                "Path to sudo binary (ignored)",
            ),
        ]
    }

    /// Chassis Control "pulse diagnostic interrupt" (NMI), as fence_ipmilan's diag.
    fn has_diag(&self) -> bool {
        true
    }

    fn validate(&self, options: &Options) -> Result<(), FenceError> {
        config_from_options(options).map(|_| ())
    }

    fn connect(
        &self,
        options: &Options,
        deadline: Deadline,
    ) -> Result<Box<dyn FenceDevice>, FenceError> {
        let (cfg, warnings) = config_and_warnings(options)?;
        for w in warnings {
            warn(&w);
        }
        for name in IPMITOOL_ONLY {
            if options.get(name).is_some_and(|v| !v.is_empty() && v != "0") {
                warn(&format!(
                    "option {name} is ignored: this agent does not run ipmitool"
                ));
            }
        }
        let login = options
            .seconds("login_timeout")
            .unwrap_or(Duration::from_secs(5));
        let command_timeout = options
            .seconds("shell_timeout")
            .unwrap_or(Duration::from_secs(3));
        let session = Session::open(&cfg, deadline.capped(login)).map_err(to_fence_error)?;
        log(&format!(
            "session open to {}:{} ({})",
            cfg.host,
            cfg.port,
            match (session.cipher_suite, session.auth_type) {
                (Some(c), _) => format!("lanplus, cipher suite {c}"),
                (None, Some(a)) => format!("IPMI 1.5, auth {}", a.name()),
                _ => "?".into(),
            }
        ));
        Ok(Box::new(IpmiDevice {
            session,
            command_timeout,
        }))
    }
}

/// Build the session configuration, checking what the option table cannot.
pub fn config_from_options(options: &Options) -> Result<SessionConfig, FenceError> {
    config_and_warnings(options).map(|(cfg, _)| cfg)
}

/// The configuration and the remarks about options that do not apply (logged once, by connect).
fn config_and_warnings(options: &Options) -> Result<(SessionConfig, Vec<String>), FenceError> {
    let mut warnings = Vec::new();
    let cfg_err = |m: String| FenceError::Config(m);
    if options.get("target").is_some_and(|t| !t.trim().is_empty()) {
        return Err(cfg_err(
            "target (IPMI bridging) is not supported by this agent; address the BMC directly"
                .into(),
        ));
    }
    let mut host = options.get("ip").unwrap_or("").trim().to_string();
    if options.flag("port_as_ip") {
        if let Some(plug) = options.get("plug").filter(|p| !p.trim().is_empty()) {
            host = plug.trim().to_string();
        }
    }
    if host.is_empty() {
        return Err(cfg_err(
            "no BMC address: set ip (or plug with port_as_ip)".into(),
        ));
    }
    let port = match options
        .get("ipport")
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => 623,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| cfg_err(format!("ipport '{p}' is not a UDP port number")))?,
    };
    let privilege = match options
        .get("privlvl")
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => Privilege::Administrator,
        Some(p) => Privilege::parse(p).ok_or_else(|| {
            cfg_err(format!(
                "privlvl '{p}' is not one of callback, user, operator, administrator"
            ))
        })?,
    };
    let lanplus = options.flag("lanplus");
    let cipher = match options
        .get("cipher")
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => None,
        Some(c) => {
            let supported: Vec<String> =
                SUPPORTED_SUITES.iter().map(|s| s.id.to_string()).collect();
            let id = c
                .parse::<u8>()
                .ok()
                .filter(|id| SUPPORTED_SUITES.iter().any(|s| s.id == *id))
                .ok_or_else(|| {
                    cfg_err(format!(
                        "cipher '{c}' is not a supported cipher suite ({})",
                        supported.join(", ")
                    ))
                })?;
            Some(id)
        }
    };
    let auth = match options.get("auth").map(str::trim).filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => Some(match a.to_ascii_lowercase().as_str() {
            "md5" => AuthType::Md5,
            "password" | "straight" => AuthType::Password,
            "none" => AuthType::None,
            _ => {
                return Err(cfg_err(format!(
                    "auth '{a}' is not one of md5, password, none"
                )))
            }
        }),
    };
    let kg = match options.secret("hexadecimal_kg").filter(|k| !k.is_empty()) {
        // The message names the option, never the value.
        Some(k) => Some(crypto::parse_hex_kg(k.expose()).map_err(cfg_err)?),
        None => None,
    };
    let protocol = if lanplus {
        if auth.is_some() {
            warnings.push(
                "auth applies to IPMI 1.5 (lanplus=0) only; ignored with lanplus".to_string(),
            );
        }
        Protocol::Lanplus { cipher }
    } else {
        if cipher.is_some() {
            warnings.push("cipher applies to lanplus only; ignored with lanplus=0".to_string());
        }
        if kg.is_some() {
            return Err(cfg_err(
                "hexadecimal_kg needs lanplus=1 (IPMI 1.5 has no Kg key)".into(),
            ));
        }
        Protocol::Lan15 { auth }
    };
    let username = options.get("username").unwrap_or("").to_string();
    if username.len() > 16 {
        return Err(cfg_err("username is longer than IPMI's 16 bytes".into()));
    }
    let password = options
        .secret("password")
        .map(|s| s.expose().as_bytes().to_vec())
        .unwrap_or_default();
    if password.len() > 20 || (!lanplus && password.len() > 16) {
        return Err(cfg_err(format!(
            "password is longer than IPMI {}'s {} bytes",
            if lanplus { "2.0" } else { "1.5" },
            if lanplus { 20 } else { 16 }
        )));
    }
    let max_rto = match options
        .get("ipmitool_timeout")
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => Duration::from_secs(2),
        Some(t) => t
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .map(|v| Duration::from_secs_f64(v).max(Duration::from_millis(50)))
            .ok_or_else(|| {
                cfg_err(format!(
                    "ipmitool_timeout '{t}' is not a positive number of seconds"
                ))
            })?,
    };
    let cfg = SessionConfig {
        host,
        port,
        username,
        password,
        kg,
        privilege,
        protocol,
        max_rto,
        log,
    };
    Ok((cfg, warnings))
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
    command_timeout: Duration,
}

impl FenceDevice for IpmiDevice {
    fn power_status(
        &mut self,
        _plug: Option<&str>,
        deadline: Deadline,
    ) -> Result<PowerState, FenceError> {
        let on = chassis::get_power_on(&mut self.session, deadline.capped(self.command_timeout))
            .map_err(to_fence_error)?;
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
        log(&format!("Chassis Control: {op:?}"));
        chassis::control(&mut self.session, op, deadline.capped(self.command_timeout))
            .map_err(to_fence_error)
    }

    fn close(&mut self, deadline: Deadline) {
        self.session.close(deadline.capped(Duration::from_secs(1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stonith::Secret;

    fn base() -> Options {
        let mut o = Options::new();
        o.set("ip", "127.0.0.1");
        o.set("username", "admin");
        o.set_secret("password", Secret::new("secret"));
        o
    }

    #[test]
    fn defaults_match_fence_ipmilan() {
        let cfg = config_from_options(&base()).expect("valid");
        assert_eq!(cfg.port, 623);
        assert_eq!(cfg.privilege, Privilege::Administrator);
        assert_eq!(cfg.protocol, Protocol::Lan15 { auth: None });
        let mut o = base();
        o.set("lanplus", "1");
        assert_eq!(
            config_from_options(&o).expect("valid").protocol,
            Protocol::Lanplus { cipher: None }
        );
    }

    #[test]
    fn bad_values_are_config_errors_without_secrets() {
        for (k, v) in [
            ("cipher", "4"),
            ("cipher", "x"),
            ("privlvl", "root"),
            ("ipport", "70000"),
            ("target", "0x72"),
            ("auth", "md2"),
        ] {
            let mut o = base();
            o.set("lanplus", "1");
            o.set(k, v);
            assert!(
                matches!(config_from_options(&o), Err(FenceError::Config(_))),
                "{k}={v} accepted"
            );
        }
        let mut o = base();
        o.set("lanplus", "1");
        o.set_secret("hexadecimal_kg", Secret::new("zz-not-hex-secretvalue"));
        let err = config_from_options(&o)
            .expect_err("bad kg refused")
            .to_string();
        assert!(!err.contains("secretvalue"), "{err}");
    }

    #[test]
    fn option_table_is_consistent() {
        let names: Vec<&str> = IpmiAgent.options().iter().map(|o| o.name).collect();
        for n in [
            "lanplus",
            "cipher",
            "privlvl",
            "hexadecimal_kg",
            "auth",
            "target",
            "ipport",
        ] {
            assert!(names.contains(&n), "{n} missing");
        }
    }
}
