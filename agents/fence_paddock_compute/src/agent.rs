//! fence_paddock_compute for the stonith framework: the option table (fence_compute's
//! parameters where they make sense) and the FenceAgent glue.

use crate::credentials::credentials;
use crate::device::{ComputeDevice, Mode};
use stonith::common;
use stonith::{
    AgentInfo, Deadline, FenceAgent, FenceDevice, FenceError, OptionSpec, OptionType, Options,
};

pub struct ComputeAgent;

/// Where Keystone tokens are kept between invocations (see openstack::TokenCache), unless
/// TOKEN_CACHE_ENV names another directory or is empty (no cache).
pub const TOKEN_CACHE_DIR: &str = "/run/paddock/fence_paddock_compute";
pub const TOKEN_CACHE_ENV: &str = "PADDOCK_COMPUTE_TOKEN_CACHE";

fn token_cache() -> Option<openstack::TokenCache> {
    match std::env::var(TOKEN_CACHE_ENV) {
        Ok(dir) if dir.trim().is_empty() => None,
        Ok(dir) => Some(openstack::TokenCache::new(dir)),
        Err(_) => Some(openstack::TokenCache::new(TOKEN_CACHE_DIR)),
    }
}

pub const AUTH_URL: OptionSpec = OptionSpec::new(
    "auth_url",
    OptionType::String,
    "Keystone URL (e.g. https://keystone.example.com:5000/v3); Nova is found in its catalog",
)
.short('k')
.long("auth-url")
.required();
pub const PROJECT_NAME: OptionSpec = OptionSpec::new(
    "project_name",
    OptionType::String,
    "Keystone project to log in to (a project with the admin role: forcing a service down is an admin call)",
)
.long("project-name");
/// fence_compute's name for the project (Keystone v2's tenant); a row of its own so that both
/// `--tenant-name` and `tenant_name=` work.
pub const TENANT_NAME: OptionSpec = OptionSpec::new(
    "tenant_name",
    OptionType::String,
    "The same as project_name (fence_compute's name for it)",
)
.short('t')
.long("tenant-name");
pub const USER_DOMAIN: OptionSpec = OptionSpec::new(
    "user_domain",
    OptionType::String,
    "Keystone domain of the user, by name",
)
.aliases(&["user-domain"])
.long("user-domain")
.default("Default");
pub const PROJECT_DOMAIN: OptionSpec = OptionSpec::new(
    "project_domain",
    OptionType::String,
    "Keystone domain of the project, by name",
)
.aliases(&["project-domain"])
.short('P')
.long("project-domain")
.default("Default");
pub const REGION_NAME: OptionSpec = OptionSpec::new(
    "region_name",
    OptionType::String,
    "Region of the Nova endpoint in the catalog (any region when not set)",
)
.long("region-name");
pub const ENDPOINT_TYPE: OptionSpec = OptionSpec::new(
    "endpoint_type",
    OptionType::String,
    "Which Nova endpoint of the catalog to use: public, internal or admin (publicURL, internalURL, adminURL are read alike)",
)
.short('e')
.long("endpoint-type")
.default("internal")
.check(interface);
pub const SSL_INSECURE: OptionSpec = OptionSpec::new(
    "ssl_insecure",
    OptionType::Boolean,
    "Use HTTPS without verifying the certificates of Keystone and Nova",
)
.aliases(&["insecure"]);
pub const SSL_CA_FILE: OptionSpec = OptionSpec::new(
    "ssl_ca_file",
    OptionType::String,
    "PEM file of the CA certificates to trust for Keystone and Nova instead of the system's roots",
);
pub const APPLICATION_CREDENTIAL_ID: OptionSpec = OptionSpec::new(
    "application_credential_id",
    OptionType::String,
    "Log in with this Keystone application credential instead of username and project; its secret is given as the password (password, password_script or the environment)",
);
pub const DOMAIN: OptionSpec = OptionSpec::new(
    "domain",
    OptionType::String,
    "DNS domain of the compute hosts: plug compute1 with domain example.com matches the Nova host compute1 or compute1.example.com (added or stripped as needed)",
)
.aliases(&["compute-domain"])
.short('d');
pub const RECORD_ONLY: OptionSpec = OptionSpec::new(
    "record_only",
    OptionType::Boolean,
    "Only record the host as fenced: off disables its nova-compute service with a reason (no new instances are scheduled there) but does not force it down, so its instances are not evacuated; on enables it again",
)
.short('r')
.long("record-only");
pub const NO_SHARED_STORAGE: OptionSpec = OptionSpec::new(
    "no_shared_storage",
    OptionType::Boolean,
    "Accepted for fence_compute compatibility, without effect here: this agent never evacuates (ocf:paddock:nova-evacuate does, and has this parameter)",
)
.long("no-shared-storage");
pub const PLUG: OptionSpec = common::PLUG
    .describe("The compute host: the host name of its nova-compute service in Nova (see domain)")
    .required();
// Nova and Keystone answer in well under a second, but a loaded control plane is slower than
// a BMC; `on` waits while Nova refuses the unforce (evacuations not completed yet).
pub const LOGIN_TIMEOUT: OptionSpec = common::LOGIN_TIMEOUT.default("10");
pub const SHELL_TIMEOUT: OptionSpec = common::SHELL_TIMEOUT
    .describe("Wait X seconds for an answer of the Nova API")
    .default("10");
pub const POWER_TIMEOUT: OptionSpec = common::POWER_TIMEOUT
    .describe("Test X seconds for the service state after off/on; for on also how long Nova's refusal (evacuations not completed) is asked again, per attempt")
    .default("30");
pub const IP: OptionSpec = common::IP
    .describe("Not used: Keystone is given by auth_url and Nova found in its catalog")
    .optional();

fn interface(value: &str) -> Result<(), String> {
    value.parse::<openstack::Interface>().map(|_| ())
}

/// The rows of this agent, in metadata order.
pub fn option_rows() -> Vec<OptionSpec> {
    vec![
        IP,
        PLUG,
        AUTH_URL,
        PROJECT_NAME,
        TENANT_NAME,
        USER_DOMAIN,
        PROJECT_DOMAIN,
        REGION_NAME,
        ENDPOINT_TYPE,
        SSL_INSECURE,
        SSL_CA_FILE,
        APPLICATION_CREDENTIAL_ID,
        DOMAIN,
        RECORD_ONLY,
        NO_SHARED_STORAGE,
        LOGIN_TIMEOUT,
        SHELL_TIMEOUT,
        POWER_TIMEOUT,
    ]
}

impl FenceAgent for ComputeAgent {
    fn info(&self) -> AgentInfo {
        AgentInfo {
            name: "fence_paddock_compute",
            shortdesc: "Fence agent for OpenStack compute hosts: forces nova-compute down in Nova (Paddock)",
            longdesc: "fence_paddock_compute tells Nova that a compute host is fenced, parameter-compatible \
                       with fence_compute. off forces the host's nova-compute service down (Nova then takes \
                       the host for dead at once, so that ocf:paddock:nova-evacuate may rebuild its \
                       instances elsewhere) and succeeds once Nova shows forced_down=true; status is ON \
                       while the service is not forced down and OFF while it is; on unforces it, asking \
                       again while Nova refuses because the host's evacuations are not completed, and \
                       succeeds only once Nova shows forced_down=false, else fails with Nova's reason. A \
                       reboot is an off: the host stays forced down until it is unfenced (on) after its \
                       instances were evacuated. It does not power anything: use it as a fencing level after \
                       the power fencing of the host. It logs in with Keystone v3 (password, or an \
                       application credential), finds Nova in the catalog (endpoint_type, region_name), \
                       uses compute API microversion 2.53, and bounds every request by the action's timeout. \
                       It keeps its Keystone token between runs in /run/paddock/fence_paddock_compute \
                       (root only; PADDOCK_COMPUTE_TOKEN_CACHE names another directory, empty turns \
                       it off) while it has five minutes of life left, so that a fencing needs no \
                       login; a token Nova refuses is dropped and the agent logs in again. \
                       list prints the compute hosts; monitor logs in and lists them.",
            vendor_url: "https://docs.openstack.org/nova/latest/admin/evacuate.html",
            // the compute hosts: list, list-status, monitor lists them
            multiple_plugs: true,
        }
    }

    fn options(&self) -> Vec<OptionSpec> {
        option_rows()
    }

    fn reboot_is_off(&self) -> bool {
        true
    }

    fn validate(&self, options: &Options) -> Result<(), FenceError> {
        credentials(options).map(|_| ())
    }

    fn connect(
        &self,
        options: &Options,
        deadline: Deadline,
    ) -> Result<Box<dyn FenceDevice>, FenceError> {
        let credentials = credentials(options)?;
        let cache = token_cache();
        let session = match &cache {
            Some(cache) => openstack::Session::login_cached(&credentials, &deadline, cache),
            None => openstack::Session::login(&credentials, &deadline),
        }
        .map_err(crate::device::fence_error)?;
        let nova = session.nova().map_err(crate::device::fence_error)?;
        stonith::tracing::debug!(
            "{}; Nova at {} (microversion {})",
            if session.reused() {
                "token from the cache"
            } else {
                "logged in to Keystone"
            },
            nova.endpoint(),
            openstack::NOVA_MICROVERSION
        );
        let relogin = cache.filter(|_| session.reused()).map(|c| (credentials, c));
        let mode = Mode {
            domain: options.text(&DOMAIN).map(|d| d.trim().to_string()),
            record_only: options.flag(&RECORD_ONLY),
            node: options.nodename().map(str::to_string),
        };
        Ok(Box::new(ComputeDevice::new(nova, mode, relogin)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_table_is_consistent_and_follows_fence_compute() {
        let table = stonith::option_table(&ComputeAgent);
        stonith::check_table(&table).expect("option table");
        let find = |name: &str| table.iter().find(|r| r.name == name).expect(name);
        assert!(find("auth_url").required && find("plug").required);
        assert!(!find("ip").required && !find("username").required);
        assert_eq!(find("auth_url").long_flag(), "--auth-url");
        assert_eq!(find("tenant_name").long_flag(), "--tenant-name");
        assert_eq!(find("project_name").long_flag(), "--project-name");
        assert_eq!(find("user_domain").long_flag(), "--user-domain");
        assert_eq!(find("project_domain").long_flag(), "--project-domain");
        assert_eq!(find("endpoint_type").default, Some("internal"));
        assert!(find("ssl_insecure").deprecated_names.contains(&"insecure"));
    }
}
