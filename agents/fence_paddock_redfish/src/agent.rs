//! fence_paddock_redfish for the stonith framework: the option table (parameter-compatible with
//! fence_redfish) and the FenceAgent / FenceDevice glue over [`Client`].

use crate::cache::PlugCache;
use crate::client::{Client, Settings};
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::systems::System;
use crate::tls::Trust;
use stonith::common::{self, IP};
use stonith::{
    AgentInfo, Deadline, FenceAgent, FenceDevice, FenceError, OptionSpec, OptionType, Options,
    Outlet, PowerAction, PowerState,
};

pub struct RedfishAgent;

// The rows this agent adds to (or changes in) the framework's common table. fence_redfish names
// two of them `redfish-uri` and `systems-uri`: listed as deprecated names, so that pcs accepts a
// configuration written for fence_redfish (the parser reads `-` as `_` anyway).

pub const IPPORT: OptionSpec = common::IPPORT.default("443");
pub const USERNAME: OptionSpec = common::USERNAME.required();
// not required: a BMC with one system needs none (see systems::select)
pub const PLUG: OptionSpec = common::PLUG.describe(
    "The ComputerSystem to act on (Id, Name, UUID or SerialNumber); needed when the BMC manages several",
);
pub const REDFISH_URI: OptionSpec = OptionSpec::new(
    "redfish_uri",
    OptionType::String,
    "Base or starting Redfish URI",
)
.aliases(&["redfish-uri"])
.default("/redfish/v1")
.check(absolute_path);
pub const SYSTEMS_URI: OptionSpec = OptionSpec::new(
    "systems_uri",
    OptionType::String,
    "Redfish Systems resource URI, i.e. /redfish/v1/Systems/System.Embedded.1",
)
.aliases(&["systems-uri"])
.check(absolute_path);
pub const SSL: OptionSpec = OptionSpec::new(
    "ssl",
    OptionType::Boolean,
    "Use SSL connection with verifying certificate",
)
.short('z')
.default("1");
pub const SSL_INSECURE: OptionSpec = OptionSpec::new(
    "ssl_insecure",
    OptionType::Boolean,
    "Use SSL connection without verifying certificate",
);
pub const SSL_SECURE: OptionSpec = OptionSpec::new(
    "ssl_secure",
    OptionType::Boolean,
    "Use SSL connection with verifying certificate",
);
pub const SSL_CA_FILE: OptionSpec = OptionSpec::new(
    "ssl_ca_file",
    OptionType::String,
    "PEM file of certificates to trust instead of the system's roots: the CA(s) that issued the \
     BMC's certificate, or the BMC's own certificate, which is then pinned (the way to verify \
     the self-signed CA:TRUE certificates many BMCs ship)",
);

fn absolute_path(value: &str) -> Result<(), String> {
    if value.trim().is_empty() || value.trim().starts_with('/') {
        Ok(())
    } else {
        Err("must be a path starting with /".into())
    }
}

/// The rows of this agent, in metadata order.
pub fn option_rows() -> Vec<OptionSpec> {
    vec![
        IPPORT,
        USERNAME,
        PLUG,
        REDFISH_URI,
        SYSTEMS_URI,
        SSL,
        SSL_INSECURE,
        SSL_SECURE,
        SSL_CA_FILE,
    ]
}

/// Read the options into client settings. Every value was typed and checked by the parser;
/// what is left are checks across options.
pub fn settings(options: &Options) -> Result<Settings, Error> {
    let config = |m: &str| Error::Config(m.to_string());
    let ip = options.text(&IP).ok_or_else(|| config("ip is required"))?;
    let insecure = options.flag(&SSL_INSECURE);
    let ca_file = options.text(&SSL_CA_FILE).map(str::trim);
    if insecure && options.flag(&SSL_SECURE) {
        return Err(config(
            "ssl_insecure and ssl_secure contradict each other: set one",
        ));
    }
    if insecure && ca_file.is_some() {
        return Err(config(
            "ssl_insecure and ssl_ca_file contradict each other: set one",
        ));
    }
    // plain HTTP only when asked for: ssl=0 without any other ssl option, or an http:// ip
    let https = options.flag(&SSL) || insecure || options.flag(&SSL_SECURE) || ca_file.is_some();
    let port = options.port(&IPPORT).unwrap_or_default();
    let endpoint = Endpoint::parse(ip, port, https).map_err(Error::Config)?;
    let trust = match (insecure, ca_file) {
        (true, _) => Trust::Insecure,
        (false, Some(file)) => Trust::CaFile(file.into()),
        (false, None) => Trust::SystemRoots,
    };
    let username = options
        .text(&USERNAME)
        .ok_or_else(|| config("username is required"))?;
    let password = options
        .password()
        .cloned()
        .ok_or_else(|| config("no password: set password or password_script"))?;
    Ok(Settings {
        endpoint,
        trust,
        username: username.to_string(),
        password,
        redfish_uri: options
            .text(&REDFISH_URI)
            .unwrap_or_default()
            .trim()
            .to_string(),
        systems_uri: options.text(&SYSTEMS_URI).map(|u| u.trim().to_string()),
        prefer_session: !matches!(
            options.text(&common::ACTION),
            Some("status" | "monitor" | "list" | "list-status" | "validate-all")
        ),
        plug_cache: PlugCache::from_env(),
    })
}

impl FenceAgent for RedfishAgent {
    fn info(&self) -> AgentInfo {
        AgentInfo {
            name: "fence_paddock_redfish",
            shortdesc: "Fence agent for Redfish BMCs (Paddock)",
            longdesc: "fence_paddock_redfish powers ComputerSystems off, on and through a reset via a \
                       Redfish BMC, parameter-compatible with fence_redfish. It chooses the system by plug \
                       (Id, Name, UUID or SerialNumber) when the BMC manages several, and remembers the \
                       choice under /run/paddock/fence_paddock_redfish (PADDOCK_REDFISH_CACHE names another \
                       directory, empty turns it off), using it only while the system still matches the \
                       plug. A status is one Basic-authenticated request; a power change logs in with a \
                       Redfish session (Basic when the BMC has none). It waits for PoweringOn and \
                       PoweringOff to settle before acting, uses a ResetType the system allows (the \
                       standard one when the BMC's ActionInfo cannot be read), checks the answer and \
                       follows Redfish tasks, reports success only after seeing the promised power state, \
                       verifies TLS certificates unless ssl_insecure, and bounds every request by the \
                       action's timeout.",
            vendor_url: "https://www.dmtf.org/standards/redfish",
            // several ComputerSystems: list and list-status
            multiple_plugs: true,
        }
    }

    fn options(&self) -> Vec<OptionSpec> {
        option_rows()
    }

    fn has_diag(&self) -> bool {
        // ComputerSystem.Reset with ResetType Nmi
        true
    }

    fn validate(&self, options: &Options) -> Result<(), FenceError> {
        settings(options).map(|_| ())
    }

    fn connect(
        &self,
        options: &Options,
        deadline: Deadline,
    ) -> Result<Box<dyn FenceDevice>, FenceError> {
        let settings = settings(options)?;
        let origin = settings.endpoint.origin();
        let client = Client::connect(settings, deadline)?;
        stonith::tracing::debug!(
            "connected to {origin}, {}",
            if client.uses_session() {
                "logged in with a Redfish session"
            } else {
                "Basic auth (no Redfish sessions)"
            }
        );
        Ok(Box::new(RedfishDevice { client }))
    }
}

pub struct RedfishDevice {
    client: Client,
}

impl FenceDevice for RedfishDevice {
    fn power_status(
        &mut self,
        plug: Option<&str>,
        deadline: Deadline,
    ) -> Result<PowerState, FenceError> {
        self.client.power_state(plug, deadline)
    }

    fn set_power(
        &mut self,
        plug: Option<&str>,
        action: PowerAction,
        deadline: Deadline,
    ) -> Result<(), FenceError> {
        let reset_type = self.client.reset(plug, action, deadline)?;
        stonith::tracing::debug!("ComputerSystem.Reset {reset_type} accepted");
        Ok(())
    }

    fn list(&mut self, deadline: Deadline) -> Result<Vec<Outlet>, FenceError> {
        Ok(self.client.list(deadline)?.iter().map(outlet).collect())
    }

    fn close(&mut self, deadline: Deadline) {
        self.client.close(deadline);
    }
}

fn outlet(system: &System) -> Outlet {
    Outlet {
        id: system.id.clone(),
        alias: system.name.clone(),
        state: crate::power::fence_state(system.power_state.as_deref()).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::Scheme;
    use stonith::{args::parse_stdin, option_table};

    /// Options as the framework gives them: parsed from stdin against the agent's table.
    fn parsed(pairs: &[(&str, &str)]) -> Result<Options, String> {
        let mut input = String::from("username=admin\npassword=pw\n");
        for (name, value) in pairs {
            input.push_str(&format!("{name}={value}\n"));
        }
        parse_stdin(&option_table(&RedfishAgent), input.as_bytes())
            .map(|i| i.options)
            .map_err(|e| e.0)
    }

    fn options(pairs: &[(&str, &str)]) -> Options {
        parsed(pairs).expect("parses")
    }

    #[test]
    fn defaults_verify_https_on_443() {
        let s = settings(&options(&[("ip", "bmc1")])).expect("settings");
        assert_eq!(s.endpoint.origin(), "https://bmc1:443");
        assert_eq!(s.trust, Trust::SystemRoots);
        assert_eq!(s.redfish_uri, "/redfish/v1");
        assert_eq!(s.systems_uri, None);
    }

    #[test]
    fn tls_choices() {
        let insecure =
            settings(&options(&[("ip", "[::1]:8443"), ("ssl_insecure", "1")])).expect("settings");
        assert_eq!(
            (insecure.endpoint.origin(), insecure.trust),
            ("https://[::1]:8443".to_string(), Trust::Insecure)
        );
        let ca = settings(&options(&[
            ("ip", "h"),
            ("ssl", "0"),
            ("ssl_ca_file", "/ca.pem"),
        ]))
        .expect("settings");
        assert_eq!(
            (ca.endpoint.scheme, ca.trust),
            (Scheme::Https, Trust::CaFile("/ca.pem".into()))
        );
        let plain =
            settings(&options(&[("ip", "h"), ("ssl", "0"), ("ipport", "8000")])).expect("settings");
        assert_eq!(plain.endpoint.origin(), "http://h:8000");
        assert!(settings(&options(&[
            ("ip", "h"),
            ("ssl_insecure", "1"),
            ("ssl_secure", "1")
        ]))
        .is_err());
        assert!(settings(&options(&[
            ("ip", "h"),
            ("ssl_insecure", "1"),
            ("ssl_ca_file", "/x")
        ]))
        .is_err());
    }

    #[test]
    fn bad_options_are_config_errors_without_the_password() {
        for bad in [options(&[]), options(&[("ip", "h h")])] {
            let err = settings(&bad).unwrap_err();
            assert!(matches!(err, Error::Config(_)), "{err:?}");
            assert!(!err.to_string().contains("pw"));
        }
        let mut no_password = Options::new();
        no_password.set(&IP, "h");
        no_password.set(&USERNAME, "admin");
        assert!(settings(&no_password).is_err());
    }

    #[test]
    fn bad_values_are_refused_by_the_parser_in_one_line() {
        for (name, value) in [
            ("ipport", "70000"),
            ("redfish_uri", "redfish"),
            ("systems_uri", "Systems/1"),
            ("ssl", "maybe"),
        ] {
            let err = parsed(&[("ip", "h"), (name, value)]).expect_err(name);
            assert!(err.contains(name) && !err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn option_rows_follow_the_anchor() {
        let rows = option_rows();
        let find = |name: &str| rows.iter().find(|r| r.name == name).expect(name);
        assert_eq!(find("ipport").default, Some("443"));
        assert_eq!(find("redfish_uri").default, Some("/redfish/v1"));
        assert_eq!(find("ssl").default, Some("1"));
        assert!(find("username").required);
        assert!(!find("plug").required);
        let table = stonith::option_table(&RedfishAgent);
        stonith::check_table(&table).expect("option table");
        assert!(!table.iter().any(|r| r.name == "plug" && r.required));
    }
}
