//! The options as Keystone credentials, with the checks across options the table cannot make.

use crate::agent::{
    APPLICATION_CREDENTIAL_ID, AUTH_URL, ENDPOINT_TYPE, PROJECT_DOMAIN, PROJECT_NAME, REGION_NAME,
    SSL_CA_FILE, SSL_INSECURE, TENANT_NAME, USER_DOMAIN,
};
use openstack::{Credentials, Interface, Secret};
use stonith::common::USERNAME;
use stonith::{FenceError, Options};

fn config(message: impl Into<String>) -> FenceError {
    FenceError::Config(message.into())
}

/// project_name, or fence_compute's tenant_name; both given, they must agree.
fn project(options: &Options) -> Result<Option<String>, FenceError> {
    let project = options.text(&PROJECT_NAME).map(str::trim);
    let tenant = options.text(&TENANT_NAME).map(str::trim);
    match (project, tenant) {
        (Some(p), Some(t)) if p != t => Err(config(format!(
            "project_name '{p}' and tenant_name '{t}' differ: set one"
        ))),
        (p, t) => Ok(p.or(t).map(str::to_string)),
    }
}

pub fn credentials(options: &Options) -> Result<Credentials, FenceError> {
    let auth_url = options
        .text(&AUTH_URL)
        .map(str::trim)
        .ok_or_else(|| config("You have to set auth_url"))?;
    if !(auth_url.starts_with("http://") || auth_url.starts_with("https://")) {
        return Err(config(format!(
            "auth_url '{auth_url}' is not an http:// or https:// URL"
        )));
    }
    let password = options.password().cloned().ok_or_else(|| {
        config(format!(
            "no password: set password, password_script or {}",
            stonith::PASSWORD_ENV
        ))
    })?;
    let application_credential = options
        .text(&APPLICATION_CREDENTIAL_ID)
        .map(|id| (id.trim().to_string(), Secret::new(password.expose())));
    let username = options.text(&USERNAME).map(str::trim).unwrap_or_default();
    let project = project(options)?;
    if application_credential.is_none() {
        if username.is_empty() {
            return Err(config("You have to set login name (username)"));
        }
        if project.is_none() {
            return Err(config("You have to set project_name (or tenant_name)"));
        }
    }
    let insecure = options.flag(&SSL_INSECURE);
    let ca_file = options.text(&SSL_CA_FILE).map(|f| f.trim().into());
    if insecure && ca_file.is_some() {
        return Err(config(
            "ssl_insecure and ssl_ca_file contradict each other: set one",
        ));
    }
    let interface: Interface = options
        .text(&ENDPOINT_TYPE)
        .unwrap_or("internal")
        .parse()
        .map_err(config)?;
    Ok(Credentials {
        auth_url: auth_url.to_string(),
        username: username.to_string(),
        password: Secret::new(password.expose()),
        project_name: project.unwrap_or_default(),
        user_domain: options
            .text(&USER_DOMAIN)
            .unwrap_or("Default")
            .trim()
            .to_string(),
        project_domain: options
            .text(&PROJECT_DOMAIN)
            .unwrap_or("Default")
            .trim()
            .to_string(),
        region_name: options.text(&REGION_NAME).map(|r| r.trim().to_string()),
        interface,
        ssl_insecure: insecure,
        ca_file,
        application_credential,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use stonith::args::parse_stdin;

    fn parsed(text: &str) -> Result<Options, String> {
        parse_stdin(
            &stonith::option_table(&crate::ComputeAgent),
            text.as_bytes(),
        )
        .map(|i| i.options)
        .map_err(|e| e.0)
    }

    const BASE: &str = "auth_url=http://k:5000/v3\nusername=admin\npassword=Pw-4711\n";

    #[test]
    fn fence_compute_spellings_are_read() {
        let options = parsed(&format!(
            "{BASE}tenant_name=admin\nuser-domain=Users\nproject-domain=Projects\nendpoint_type=adminURL\ninsecure=1\nregion_name=RegionTwo\n"
        ))
        .expect("parses");
        let c = credentials(&options).expect("credentials");
        assert_eq!(c.project_name, "admin");
        assert_eq!(
            (c.user_domain.as_str(), c.project_domain.as_str()),
            ("Users", "Projects")
        );
        assert_eq!(c.interface, Interface::Admin);
        assert!(c.ssl_insecure);
        assert_eq!(c.region_name.as_deref(), Some("RegionTwo"));
        assert!(!format!("{c:?}").contains("Pw-4711"));
    }

    #[test]
    fn defaults_and_application_credentials() {
        let c = credentials(&parsed(&format!("{BASE}project_name=p\n")).expect("parses"))
            .expect("credentials");
        assert_eq!(
            (c.user_domain.as_str(), c.interface),
            ("Default", Interface::Internal)
        );
        assert!(c.application_credential.is_none());
        let app = parsed("auth_url=https://k/v3\napplication_credential_id=app1\npassword=S\n")
            .expect("parses");
        let c = credentials(&app).expect("credentials");
        assert_eq!(
            c.application_credential
                .as_ref()
                .map(|(id, s)| (id.as_str(), s.expose())),
            Some(("app1", "S"))
        );
    }

    #[test]
    fn contradictions_and_gaps_are_config_errors_without_the_password() {
        for bad in [
            BASE.to_string(),
            format!("{BASE}project_name=a\ntenant_name=b\n"),
            format!("{BASE}project_name=a\nssl_insecure=1\nssl_ca_file=/ca.pem\n"),
            "auth_url=http://k/v3\nproject_name=a\npassword=Pw-4711\n".to_string(),
            "auth_url=keystone:5000\nusername=u\nproject_name=a\npassword=Pw-4711\n".to_string(),
            "auth_url=http://k/v3\nusername=u\nproject_name=a\n".to_string(),
        ] {
            let err = credentials(&parsed(&bad).expect("parses")).unwrap_err();
            assert!(matches!(err, FenceError::Config(_)), "{err:?}");
            assert!(!err.to_string().contains("Pw-4711"));
        }
        assert!(parsed(&format!("{BASE}endpoint_type=private\n"))
            .unwrap_err()
            .contains("endpoint_type"));
    }
}
