//! Keystone v3: logging in (password or application credential) and the session it gives,
//! from which the service handles ([`Nova`], [`Glance`]) are made.

use crate::cache::TokenCache;
use crate::catalog::{Catalog, Interface};
use crate::error::Error;
use crate::glance::Glance;
use crate::http::{Method, Transport};
use crate::nova::Nova;
use crate::time::epoch_seconds;
use crate::tls::Trust;
use crate::Secret;
use paddock_base::Deadline;
use serde_json::{json, Value};
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A token with less than this left is renewed rather than used for a long operation.
const EXPIRES_SOON: Duration = Duration::from_secs(300);

/// How to log in. Debug never shows the password or the application credential's secret.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// Keystone's URL, with or without the `/v3` suffix.
    pub auth_url: String,
    pub username: String,
    pub password: Secret,
    pub project_name: String,
    /// The user's domain, by name.
    pub user_domain: String,
    /// The project's domain, by name.
    pub project_domain: String,
    pub region_name: Option<String>,
    pub interface: Interface,
    pub ssl_insecure: bool,
    pub ca_file: Option<PathBuf>,
    /// (id, secret): when set, it is used instead of the user's password (an application
    /// credential carries its own project scope).
    pub application_credential: Option<(String, Secret)>,
}

impl Credentials {
    /// Password credentials in the "Default" domains, public interface, system roots.
    pub fn password(auth_url: &str, username: &str, password: Secret, project_name: &str) -> Self {
        Credentials {
            auth_url: auth_url.to_string(),
            username: username.to_string(),
            password,
            project_name: project_name.to_string(),
            user_domain: "Default".to_string(),
            project_domain: "Default".to_string(),
            region_name: None,
            interface: Interface::Public,
            ssl_insecure: false,
            ca_file: None,
            application_credential: None,
        }
    }

    fn trust(&self) -> Trust {
        match (self.ssl_insecure, &self.ca_file) {
            (true, _) => Trust::Insecure,
            (false, Some(file)) => Trust::CaFile(file.clone()),
            (false, None) => Trust::SystemRoots,
        }
    }

    /// Who logs in, for messages.
    fn who(&self) -> String {
        match &self.application_credential {
            Some((id, _)) => format!("application credential {id}"),
            None => format!("user {}", self.username),
        }
    }

    /// The body of POST /v3/auth/tokens.
    fn auth_request(&self) -> Value {
        match &self.application_credential {
            Some((id, secret)) => json!({"auth": {"identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": id, "secret": secret.expose()}
            }}}),
            None => json!({"auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {
                        "name": self.username,
                        "domain": {"name": self.user_domain},
                        "password": self.password.expose()
                    }}
                },
                "scope": {"project": {
                    "name": self.project_name,
                    "domain": {"name": self.project_domain}
                }}
            }}),
        }
    }
}

/// `.../v3/auth/tokens` for an auth_url given with or without its version.
fn tokens_url(auth_url: &str) -> Result<String, Error> {
    let base = auth_url.trim().trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(Error::Config(format!(
            "auth_url '{}' is not an http:// or https:// URL",
            crate::error::one_line(base, 120)
        )));
    }
    if base.ends_with("/v2.0") {
        return Err(Error::Config(
            "auth_url names Keystone v2.0, which is gone: use its /v3 URL".into(),
        ));
    }
    let v3 = if base.ends_with("/v3") {
        base.to_string()
    } else {
        format!("{base}/v3")
    };
    Ok(format!("{v3}/auth/tokens"))
}

/// A logged-in session: the token and the catalog it came with.
#[derive(Clone)]
pub struct Session {
    transport: Transport,
    token: Secret,
    catalog: Catalog,
    region: Option<String>,
    interface: Interface,
    /// When the token expires, on this machine's monotonic clock.
    expires: Option<Instant>,
    /// The token came from a [`TokenCache`], not from a login of this session.
    reused: bool,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("token", &self.token)
            .field("region", &self.region)
            .field("interface", &self.interface)
            .field("expires", &self.expires)
            .field("reused", &self.reused)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// POST /v3/auth/tokens, scoped to the project (or the application credential's).
    pub fn login(credentials: &Credentials, deadline: &Deadline) -> Result<Session, Error> {
        Self::fresh_login(credentials, deadline).map(|(session, _)| session)
    }

    /// A session with the token kept in `cache` for these credentials while it lives long
    /// enough, else a login whose token is kept there. When a service refuses a reused token
    /// ([`Error::Auth`]), call [`TokenCache::forget`] and log in again.
    pub fn login_cached(
        credentials: &Credentials,
        deadline: &Deadline,
        cache: &TokenCache,
    ) -> Result<Session, Error> {
        if let Some(cached) = cache.load(credentials) {
            let life = cached.expires_epoch - crate::cache::now_epoch();
            return Ok(Session {
                transport: Transport::new(&credentials.trust())?,
                token: cached.token,
                catalog: Catalog::from_token(&cached.catalog),
                region: region(credentials),
                interface: credentials.interface,
                expires: Some(Instant::now() + Duration::from_secs(life.max(0) as u64)),
                reused: true,
            });
        }
        let (session, catalog) = Self::fresh_login(credentials, deadline)?;
        if let Some(expires) = session.expires {
            let life = expires.saturating_duration_since(Instant::now()).as_secs() as i64;
            cache.store(
                credentials,
                &session.token,
                &catalog,
                crate::cache::now_epoch() + life,
            );
        }
        Ok(session)
    }

    /// Whether the token came from the cache (then a refusal may only mean it was revoked).
    pub fn reused(&self) -> bool {
        self.reused
    }

    fn fresh_login(
        credentials: &Credentials,
        deadline: &Deadline,
    ) -> Result<(Session, Value), Error> {
        let url = tokens_url(&credentials.auth_url)?;
        if credentials.application_credential.is_none() && credentials.username.trim().is_empty() {
            return Err(Error::Config(
                "no user name to log in to Keystone with".into(),
            ));
        }
        let transport = Transport::new(&credentials.trust())?;
        let reply = transport.request(
            Method::Post,
            &url,
            &[],
            Some(&credentials.auth_request()),
            deadline,
        )?;
        if reply.status == 401 {
            return Err(Error::Auth(format!(
                "Keystone refused the credentials for {} ({})",
                credentials.who(),
                reply.message
            )));
        }
        if !reply.is_success() {
            let what = format!("Keystone login of {}", credentials.who());
            return Err(match reply.error(&what) {
                // a project or domain that does not exist is a 401 too on most Keystones; a 404
                // or 400 is a request Keystone could not take
                Error::NotFound(m) | Error::Refused(m) => Error::Auth(m),
                other => other,
            });
        }
        let token = reply
            .subject_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::Parse("Keystone issued no X-Subject-Token".into()))?;
        let body = reply.body.get("token").cloned().unwrap_or(Value::Null);
        let catalog_json = body.get("catalog").cloned().unwrap_or(Value::Null);
        let session = Session {
            transport,
            token,
            catalog: Catalog::from_token(&catalog_json),
            region: region(credentials),
            interface: credentials.interface,
            expires: token_lifetime(&body).map(|life| Instant::now() + life),
            reused: false,
        };
        Ok((session, catalog_json))
    }

    /// Nova, from the catalog's `compute` endpoint.
    pub fn nova(&self) -> Result<Nova, Error> {
        let url = self
            .catalog
            .url("compute", self.interface, self.region.as_deref())?;
        Ok(Nova::new(self.transport.clone(), url, self.token.clone()))
    }

    /// Glance, from the catalog's `image` endpoint.
    pub fn glance(&self) -> Result<Glance, Error> {
        let url = self
            .catalog
            .url("image", self.interface, self.region.as_deref())?;
        Ok(Glance::new(self.transport.clone(), url, self.token.clone()))
    }

    /// Whether the token expires within five minutes (then log in again for long work).
    /// A token whose lifetime Keystone did not say is taken as fresh.
    pub fn expires_soon(&self) -> bool {
        self.expires
            .is_some_and(|at| at.saturating_duration_since(Instant::now()) < EXPIRES_SOON)
    }
}

fn region(credentials: &Credentials) -> Option<String> {
    credentials
        .region_name
        .clone()
        .filter(|r| !r.trim().is_empty())
}

/// How long a token lives: expires_at - issued_at, both from Keystone's clock, so that this
/// machine's clock does not matter.
fn token_lifetime(token: &Value) -> Option<Duration> {
    let at = |key: &str| {
        token
            .get(key)
            .and_then(Value::as_str)
            .and_then(epoch_seconds)
    };
    let life = at("expires_at")? - at("issued_at")?;
    Some(Duration::from_secs(u64::try_from(life).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_urls() {
        assert_eq!(
            tokens_url("http://k:5000/v3/").as_deref(),
            Ok("http://k:5000/v3/auth/tokens")
        );
        assert_eq!(
            tokens_url("https://k/identity").as_deref(),
            Ok("https://k/identity/v3/auth/tokens")
        );
        assert!(matches!(tokens_url("k:5000"), Err(Error::Config(_))));
        assert!(matches!(
            tokens_url("http://k:5000/v2.0"),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn credentials_debug_hides_secrets() {
        let mut c = Credentials::password("http://k/v3", "admin", Secret::new("Pw-4711"), "admin");
        c.application_credential = Some(("app1".into(), Secret::new("AppSecret-4711")));
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("Pw-4711") && !shown.contains("AppSecret-4711"),
            "{shown}"
        );
        assert!(shown.contains("admin"));
    }

    #[test]
    fn auth_bodies() {
        let c = Credentials::password("http://k/v3", "u", Secret::new("p"), "proj");
        let body = c.auth_request();
        assert_eq!(
            body["auth"]["identity"]["password"]["user"]["domain"]["name"],
            "Default"
        );
        assert_eq!(body["auth"]["scope"]["project"]["name"], "proj");
        let mut app = c.clone();
        app.application_credential = Some(("id1".into(), Secret::new("s")));
        let body = app.auth_request();
        assert_eq!(
            body["auth"]["identity"]["methods"][0],
            "application_credential"
        );
        assert!(body["auth"].get("scope").is_none());
    }

    #[test]
    fn lifetimes_come_from_keystone_clock() {
        let token = serde_json::json!({"issued_at": "2026-12-01T10:00:00.000000Z", "expires_at": "2026-12-01T11:00:00.000000Z"});
        assert_eq!(token_lifetime(&token), Some(Duration::from_secs(3600)));
        assert_eq!(token_lifetime(&serde_json::json!({})), None);
    }
}
