//! fence_paddock_redfish for the stonith framework: the option table (parameter-compatible with
//! fence_redfish) and the FenceAgent / FenceDevice glue over [`Client`].

use crate::client::{Client, Settings};
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::systems::System;
use crate::tls::Trust;
use stonith::{
    AgentInfo, Deadline, FenceAgent, FenceDevice, FenceError, OptionSpec, OptionType, Options,
    Outlet, PowerAction, PowerState,
};

pub struct RedfishAgent;

const fn row(
    name: &'static str,
    deprecated: &'static [&'static str],
    kind: OptionType,
    shortdesc: &'static str,
) -> OptionSpec {
    OptionSpec {
        name,
        deprecated_names: deprecated,
        long: name,
        short: None,
        kind,
        default: None,
        required: false,
        secret: false,
        shortdesc,
    }
}

/// The rows this agent adds to (or changes in) the framework's common table. fence_redfish names
/// two of them `redfish-uri` and `systems-uri`: listed as deprecated names, so that pcs accepts a
/// configuration written for fence_redfish (the parser reads `-` as `_` anyway).
pub fn option_rows() -> Vec<OptionSpec> {
    let mut ipport = row(
        "ipport",
        &[],
        OptionType::Integer,
        "TCP/UDP port to use for connection with device",
    );
    ipport.short = Some('u');
    ipport.default = Some("443");
    let mut username = row("username", &["login"], OptionType::String, "Login name");
    username.short = Some('l');
    username.required = true;
    let mut redfish_uri = row(
        "redfish_uri",
        &["redfish-uri"],
        OptionType::String,
        "Base or starting Redfish URI",
    );
    redfish_uri.default = Some("/redfish/v1");
    let mut ssl = row(
        "ssl",
        &[],
        OptionType::Boolean,
        "Use SSL connection with verifying certificate",
    );
    ssl.short = Some('z');
    ssl.default = Some("1");
    // not required: a BMC with one system needs none (see systems::select)
    let mut plug = row(
        "plug",
        &["port"],
        OptionType::String,
        "The ComputerSystem to act on (Id, Name, UUID or SerialNumber); needed when the BMC manages several",
    );
    plug.short = Some('n');
    vec![
        ipport,
        username,
        plug,
        redfish_uri,
        row(
            "systems_uri",
            &["systems-uri"],
            OptionType::String,
            "Redfish Systems resource URI, i.e. /redfish/v1/Systems/System.Embedded.1",
        ),
        ssl,
        row("ssl_insecure", &[], OptionType::Boolean, "Use SSL connection without verifying certificate"),
        row("ssl_secure", &[], OptionType::Boolean, "Use SSL connection with verifying certificate"),
        row(
            "ssl_ca_file",
            &[],
            OptionType::String,
            "PEM file of certificates to trust instead of the system's roots: the CA(s) that issued the \
             BMC's certificate, or the BMC's own certificate, which is then pinned (the way to verify \
             the self-signed CA:TRUE certificates many BMCs ship)",
        ),
    ]
}

/// Read the options into client settings; every check the table cannot express.
pub fn settings(options: &Options) -> Result<Settings, Error> {
    let ip = options
        .get("ip")
        .filter(|ip| !ip.trim().is_empty())
        .ok_or_else(|| Error::Config("ip is required".into()))?;
    let ipport = match options
        .get("ipport")
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => 443,
        Some(text) => text
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| {
                Error::Config(format!(
                    "ipport '{}' is not a port number",
                    crate::error::one_line(text, 20)
                ))
            })?,
    };
    let insecure = options.flag("ssl_insecure");
    let ca_file = options
        .get("ssl_ca_file")
        .map(str::trim)
        .filter(|f| !f.is_empty());
    if insecure && options.flag("ssl_secure") {
        return Err(Error::Config(
            "ssl_insecure and ssl_secure contradict each other: set one".into(),
        ));
    }
    if insecure && ca_file.is_some() {
        return Err(Error::Config(
            "ssl_insecure and ssl_ca_file contradict each other: set one".into(),
        ));
    }
    // plain HTTP only when asked for: ssl=0 without any other ssl option, or an http:// ip
    let https = options.flag("ssl") || insecure || options.flag("ssl_secure") || ca_file.is_some();
    let endpoint = Endpoint::parse(ip, ipport, https).map_err(Error::Config)?;
    let trust = match (insecure, ca_file) {
        (true, _) => Trust::Insecure,
        (false, Some(file)) => Trust::CaFile(file.into()),
        (false, None) => Trust::SystemRoots,
    };
    let username = options
        .get("username")
        .filter(|u| !u.is_empty())
        .ok_or_else(|| Error::Config("username is required".into()))?
        .to_string();
    let password = options
        .secret("password")
        .cloned()
        .ok_or_else(|| Error::Config("no password: set password or password_script".into()))?;
    let redfish_uri = options
        .get("redfish_uri")
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or("/redfish/v1");
    if !redfish_uri.starts_with('/') {
        return Err(Error::Config(
            "redfish_uri must be a path starting with /".into(),
        ));
    }
    let systems_uri = options
        .get("systems_uri")
        .map(str::trim)
        .filter(|u| !u.is_empty());
    if systems_uri.is_some_and(|u| !u.starts_with('/')) {
        return Err(Error::Config(
            "systems_uri must be a path starting with /".into(),
        ));
    }
    Ok(Settings {
        endpoint,
        trust,
        username,
        password,
        redfish_uri: redfish_uri.to_string(),
        systems_uri: systems_uri.map(str::to_string),
    })
}

impl FenceAgent for RedfishAgent {
    fn info(&self) -> AgentInfo {
        AgentInfo {
            name: "fence_paddock_redfish",
            shortdesc: "Fence agent for Redfish BMCs (Paddock)",
            longdesc: "fence_paddock_redfish powers ComputerSystems off, on and through a reset via a \
                       Redfish BMC, parameter-compatible with fence_redfish. It logs in with a Redfish \
                       session (Basic auth when the BMC has none), chooses the system by plug (Id, Name, \
                       UUID or SerialNumber) when the BMC manages several, uses a ResetType the system \
                       allows, checks the answer and follows Redfish tasks, reports success only after \
                       seeing the promised power state (PoweringOff is not off), verifies TLS certificates \
                       unless ssl_insecure, and bounds every request by the action's timeout.",
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
        stonith::log::debug(format!(
            "connected to {origin}, {}",
            if client.uses_session() {
                "logged in with a Redfish session"
            } else {
                "Basic auth (no Redfish sessions)"
            }
        ));
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
        stonith::log::debug(format!("ComputerSystem.Reset {reset_type} accepted"));
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
    use stonith::Secret;

    fn options(pairs: &[(&str, &str)]) -> Options {
        let mut options = Options::new();
        options.set("ssl", "1");
        options.set("username", "admin");
        options.set_secret("password", Secret::new("pw"));
        for (name, value) in pairs {
            options.set(name, *value);
        }
        options
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
        for bad in [
            options(&[]),
            options(&[("ip", "h"), ("ipport", "70000")]),
            options(&[("ip", "h h")]),
            options(&[("ip", "h"), ("redfish_uri", "redfish")]),
            options(&[("ip", "h"), ("systems_uri", "Systems/1")]),
        ] {
            let err = settings(&bad).unwrap_err();
            assert!(matches!(err, Error::Config(_)), "{err:?}");
            assert!(!err.to_string().contains("pw"));
        }
        let mut no_password = options(&[("ip", "h")]);
        no_password.remove("password");
        assert!(settings(&no_password).is_err());
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
