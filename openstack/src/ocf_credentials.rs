//! Keystone credentials as OCF parameters, with fence_paddock_compute's names: the parameter
//! table, their parsing, the password's sources, and the [`Credentials`] they make.
//! Shared by ocf:paddock:nova-evacuate (where they are required) and ocf:paddock:procwatch
//! (optional: it talks to Nova only when auth_url is set). Behind the `ocf` feature, so that
//! a fence agent using this crate does not pull in the OCF framework.
//!
//! The password is a secret: it is never logged, never in an error, never on a command line.
//! OCF has no secret channel of its own; Pacemaker's cibsecret keeps a parameter's value out of
//! the CIB, and password_script / password_file keep it out of Pacemaker altogether.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::{Credentials, Error, Interface, Secret};
use ocf::{Deadline, OcfError, ParamType, ParameterSpec};

pub const AUTH_URL: ParameterSpec = ParameterSpec::new(
    "auth_url",
    ParamType::String,
    "Keystone URL",
    "Keystone's identity URL (v3), e.g. http://controller:5000/v3. Nova and Glance are found in \
     its service catalog.",
)
.example("http://controller:5000/v3");
pub const USERNAME: ParameterSpec = ParameterSpec::new(
    "username",
    ParamType::String,
    "Keystone user",
    "The user to log in as. It needs Nova's admin rights (the services API; for nova-evacuate \
     also all projects' servers and evacuate).",
)
.example("admin");
pub const PASSWORD: ParameterSpec = ParameterSpec::new(
    "password",
    ParamType::String,
    "Keystone password (secret)",
    "The user's password. A secret: do not leave it in the CIB in clear; store it with \
     Pacemaker's cibsecret (cibsecret set RESOURCE password VALUE), or use password_script or \
     password_file instead. Never logged and never put on a command line.",
);
pub const PASSWORD_SCRIPT: ParameterSpec = ParameterSpec::new(
    "password_script",
    ParamType::String,
    "Command that prints the password",
    "Run by /bin/sh at every login (so a rotated password is picked up); the first line of its \
     output is the password. Wins over password.",
);
pub const PASSWORD_FILE: ParameterSpec = ParameterSpec::new(
    "password_file",
    ParamType::String,
    "File that holds the password",
    "An absolute path to a file whose first line is the password, read at every login. It must \
     not be readable by group or others (chmod 600). Wins over password and password_script.",
);
pub const PROJECT_NAME: ParameterSpec = ParameterSpec::new(
    "project_name",
    ParamType::String,
    "Keystone project",
    "The project the token is scoped to (default: admin).",
);
pub const TENANT_NAME: ParameterSpec = ParameterSpec::new(
    "tenant_name",
    ParamType::String,
    "Keystone project (old name)",
    "The old name of project_name (fence_compute's); project_name wins when both are set.",
)
.deprecated(Some("project_name"));
pub const USER_DOMAIN: ParameterSpec = ParameterSpec::new(
    "user_domain",
    ParamType::String,
    "The user's domain",
    "The Keystone domain of the user, by name.",
)
.default("Default");
pub const PROJECT_DOMAIN: ParameterSpec = ParameterSpec::new(
    "project_domain",
    ParamType::String,
    "The project's domain",
    "The Keystone domain of the project, by name.",
)
.default("Default");
pub const REGION_NAME: ParameterSpec = ParameterSpec::new(
    "region_name",
    ParamType::String,
    "Region",
    "The region whose endpoints are used; unset: the catalog's only (or first) one.",
);
pub const ENDPOINT_TYPE: ParameterSpec = ParameterSpec::new(
    "endpoint_type",
    ParamType::String,
    "Catalog interface",
    "Which endpoints of the catalog to use: public, internal or admin (publicURL, internalURL \
     and adminURL, as fence_compute spells them, are accepted). internal by default, as for \
     fence_paddock_compute and fence_compute: the services' own network.",
)
.default("internal");
pub const SSL_INSECURE: ParameterSpec = ParameterSpec::new(
    "ssl_insecure",
    ParamType::Boolean,
    "Do not verify TLS certificates",
    "Accept any certificate from the API endpoints. For test clouds only.",
)
.default("false");
pub const CA_FILE: ParameterSpec = ParameterSpec::new(
    "ssl_ca_file",
    ParamType::String,
    "CA bundle",
    "A PEM file of the certificate authorities that signed the API endpoints' certificates \
     (default: the system's).",
);

/// The table, in metadata order; `required` marks auth_url and username required.
pub fn parameters(required: bool) -> Vec<ParameterSpec> {
    let (auth_url, username) = if required {
        (AUTH_URL.required(), USERNAME.required())
    } else {
        (AUTH_URL, USERNAME)
    };
    vec![
        auth_url,
        username,
        PASSWORD,
        PASSWORD_SCRIPT,
        PASSWORD_FILE,
        PROJECT_NAME,
        TENANT_NAME,
        USER_DOMAIN,
        PROJECT_DOMAIN,
        REGION_NAME,
        ENDPOINT_TYPE,
        SSL_INSECURE,
        CA_FILE,
    ]
}

/// The parameters that are secrets: never passed on a command line.
pub const SECRET_PARAMETERS: &[&str] = &["password"];

/// Where the password comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum PasswordSource {
    File(PathBuf),
    Script(String),
    /// The value of the `password` parameter.
    Given(String),
}

impl std::fmt::Debug for PasswordSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordSource::File(p) => write!(f, "File({})", p.display()),
            PasswordSource::Script(s) => write!(f, "Script({s})"),
            PasswordSource::Given(_) => f.write_str("Given(***)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keystone {
    pub auth_url: String,
    pub username: String,
    pub password: PasswordSource,
    pub project_name: String,
    pub user_domain: String,
    pub project_domain: String,
    pub region_name: Option<String>,
    pub interface: Interface,
    pub ssl_insecure: bool,
    pub ca_file: Option<PathBuf>,
}

impl Keystone {
    /// Parses the credentials from `params` (name, value after defaults): None when auth_url is
    /// not set. Every problem is an ERR_CONFIGURED naming the parameter, never the password.
    pub fn from_params(params: &[(String, String)]) -> Result<Option<Keystone>, OcfError> {
        let value = |spec: &ParameterSpec| ocf::params::value(params, spec);
        let bad = |spec: &ParameterSpec, why: String| ocf::params::invalid(spec, why);
        let Some(auth_url) = value(&AUTH_URL) else {
            return Ok(None);
        };
        if !(auth_url.starts_with("http://") || auth_url.starts_with("https://")) {
            return Err(bad(
                &AUTH_URL,
                format!(
                    "'{}' is not an http:// or https:// URL",
                    auth_url.escape_debug()
                ),
            ));
        }
        let username = value(&USERNAME)
            .ok_or_else(|| OcfError::configured("auth_url is set: set username too"))?;
        let password = if let Some(file) = value(&PASSWORD_FILE) {
            let path = PathBuf::from(file);
            if !path.is_absolute() {
                return Err(bad(
                    &PASSWORD_FILE,
                    format!("'{}' is not an absolute path", file.escape_debug()),
                ));
            }
            PasswordSource::File(path)
        } else if let Some(script) = value(&PASSWORD_SCRIPT) {
            PasswordSource::Script(script.to_string())
        } else if let Some((_, given)) = params
            .iter()
            .find(|(n, v)| n == PASSWORD.name && !v.is_empty())
        {
            PasswordSource::Given(given.clone())
        } else {
            return Err(OcfError::configured(
                "set password (with cibsecret), password_script or password_file",
            ));
        };
        let interface = match value(&ENDPOINT_TYPE).unwrap_or("internal") {
            "public" | "publicURL" => Interface::Public,
            "internal" | "internalURL" => Interface::Internal,
            "admin" | "adminURL" => Interface::Admin,
            other => {
                return Err(bad(
                    &ENDPOINT_TYPE,
                    format!(
                        "'{}' is not public, internal or admin",
                        other.escape_debug()
                    ),
                ))
            }
        };
        let ssl_insecure = match value(&SSL_INSECURE) {
            None => false,
            Some(v) => ocf::params::boolean(&SSL_INSECURE, v)?,
        };
        Ok(Some(Keystone {
            auth_url: auth_url.to_string(),
            username: username.to_string(),
            password,
            project_name: value(&PROJECT_NAME)
                .or(value(&TENANT_NAME))
                .unwrap_or("admin")
                .to_string(),
            user_domain: value(&USER_DOMAIN).unwrap_or("Default").to_string(),
            project_domain: value(&PROJECT_DOMAIN).unwrap_or("Default").to_string(),
            region_name: value(&REGION_NAME).map(str::to_string),
            interface,
            ssl_insecure,
            ca_file: value(&CA_FILE).map(PathBuf::from),
        }))
    }

    /// What can be checked on this node without the network: the password file's mode, the CA file.
    pub fn check_files(&self) -> Result<(), OcfError> {
        if let PasswordSource::File(path) = &self.password {
            let meta = std::fs::metadata(path).map_err(|e| {
                OcfError::configured(format!("password_file {}: {e}", path.display()))
            })?;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(OcfError::configured(format!(
                    "password_file {} is readable by others (mode {mode:04o}): chmod 600 it",
                    path.display()
                )));
            }
        }
        if let Some(ca) = &self.ca_file {
            if !ca.is_file() {
                return Err(OcfError::configured(format!(
                    "ssl_ca_file {} is not a file",
                    ca.display()
                )));
            }
        }
        Ok(())
    }

    /// The password, from its source. Errors never contain it (nor a script's output).
    pub fn read_password(&self, deadline: Deadline) -> Result<Secret, String> {
        match &self.password {
            PasswordSource::Given(p) => Ok(Secret::new(p.clone())),
            PasswordSource::File(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("password_file {}: {e}", path.display()))?;
                first_line(&text)
                    .ok_or_else(|| format!("password_file {} is empty", path.display()))
            }
            PasswordSource::Script(script) => {
                let mut command = Command::new("/bin/sh");
                command.args(["-c", script]);
                let out = ocf::command::run_bounded(
                    &mut command,
                    deadline.capped(Duration::from_secs(10)),
                    ocf::command::Limits::default(),
                )
                .map_err(|e| format!("password_script: {e}"))?;
                if !out.success() {
                    return Err(format!(
                        "password_script failed ({})",
                        out.describe_status()
                    ));
                }
                first_line(&out.stdout_text())
                    .ok_or_else(|| "password_script printed nothing".to_string())
            }
        }
    }

    /// The credentials to log in with (the password read now).
    pub fn credentials(&self, deadline: Deadline) -> Result<Credentials, Error> {
        let password = self.read_password(deadline).map_err(Error::Config)?;
        let mut c =
            Credentials::password(&self.auth_url, &self.username, password, &self.project_name);
        c.user_domain = self.user_domain.clone();
        c.project_domain = self.project_domain.clone();
        c.region_name = self.region_name.clone();
        c.interface = self.interface;
        c.ssl_insecure = self.ssl_insecure;
        c.ca_file = self.ca_file.clone();
        Ok(c)
    }
}

fn first_line(text: &str) -> Option<Secret> {
    text.lines()
        .next()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .map(Secret::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = vec![
            ("auth_url".into(), "http://127.0.0.1:5000/v3".into()),
            ("username".into(), "admin".into()),
        ];
        for (k, v) in pairs {
            all.retain(|(n, _)| n != k);
            all.push((k.to_string(), v.to_string()));
        }
        all
    }

    fn keystone(pairs: &[(&str, &str)]) -> Result<Keystone, OcfError> {
        Keystone::from_params(&params(pairs)).map(|k| k.expect("auth_url is set"))
    }

    #[test]
    fn without_auth_url_there_are_no_credentials() {
        assert_eq!(
            Keystone::from_params(&[("username".into(), "admin".into())]),
            Ok(None)
        );
    }

    #[test]
    fn defaults_and_aliases() {
        let k = keystone(&[("password", "s3cret"), ("tenant_name", "ops")]).unwrap();
        assert_eq!(
            (k.project_name.as_str(), k.interface),
            ("ops", Interface::Internal)
        );
        let k = keystone(&[
            ("password", "s3cret"),
            ("tenant_name", "ops"),
            ("project_name", "admin2"),
            ("endpoint_type", "publicURL"),
        ])
        .unwrap();
        assert_eq!(
            (k.project_name.as_str(), k.interface),
            ("admin2", Interface::Public)
        );
        assert!(
            !format!("{k:?}").contains("s3cret"),
            "Debug must hide the password"
        );
        let c = k
            .credentials(Deadline::after(Duration::from_secs(5)))
            .unwrap();
        assert!(!format!("{c:?}").contains("s3cret"));
        assert_eq!(c.password.expose(), "s3cret");
    }

    #[test]
    fn bad_values_are_named_and_the_password_never_shows() {
        for (k, v, needle) in [
            ("endpoint_type", "private", "'endpoint_type'"),
            ("auth_url", "controller:5000", "'auth_url'"),
            ("password_file", "relative/file", "'password_file'"),
            ("ssl_insecure", "perhaps", "'ssl_insecure'"),
        ] {
            let e = keystone(&[("password", "s3cret"), (k, v)]).unwrap_err();
            assert_eq!(e.status, ocf::OcfStatus::ErrConfigured);
            assert!(e.reason.contains(needle), "{k}={v}: {}", e.reason);
            assert!(!e.reason.contains("s3cret"));
        }
        let e = keystone(&[]).unwrap_err();
        assert!(e.reason.contains("password_script"), "{}", e.reason);
        let e = keystone(&[("username", ""), ("password", "x")]).unwrap_err();
        assert!(e.reason.contains("username"), "{}", e.reason);
    }

    #[test]
    fn the_password_comes_from_a_file_a_script_or_the_parameter_in_that_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "from-file\nignored\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let f = file.to_str().unwrap();
        let k = keystone(&[
            ("password", "given"),
            ("password_script", "echo from-script"),
            ("password_file", f),
        ])
        .unwrap();
        let e = k.check_files().unwrap_err();
        assert!(
            e.reason.contains("readable by others") && e.reason.contains("0644"),
            "{}",
            e.reason
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        k.check_files().unwrap();
        let dl = Deadline::after(Duration::from_secs(5));
        assert_eq!(k.read_password(dl).unwrap().expose(), "from-file");
        let k = keystone(&[
            ("password", "given"),
            ("password_script", "echo from-script"),
        ])
        .unwrap();
        assert_eq!(k.read_password(dl).unwrap().expose(), "from-script");
        let k = keystone(&[("password", "given")]).unwrap();
        assert_eq!(k.read_password(dl).unwrap().expose(), "given");
        let k = keystone(&[("password_script", "echo s3cret; exit 3")]).unwrap();
        let e = k.read_password(dl).unwrap_err();
        assert!(e.contains("failed") && !e.contains("s3cret"), "{e}");
    }
}
