//! A Redfish client for power control of the ComputerSystems of one BMC: connect and log in,
//! find the system, read its power state, reset it, list the systems, log out.

use crate::cache::PlugCache;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::http::{Auth, Http, Method};
use crate::power::{action_info_reset_types, choose_reset_type, fence_state};
use crate::session::{self, Session};
use crate::systems::{self, System};
use crate::task;
use crate::tls::Trust;
use serde_json::{json, Value};
use std::collections::HashMap;
use stonith::{Deadline, PowerAction, PowerState, Secret};

/// Everything needed to reach and log in to a BMC.
#[derive(Debug, Clone)]
pub struct Settings {
    pub endpoint: Endpoint,
    pub trust: Trust,
    pub username: String,
    pub password: Secret,
    /// Service root, e.g. `/redfish/v1`.
    pub redfish_uri: String,
    /// A fixed ComputerSystem URI: no discovery, `plug` ignored (as in fence_redfish).
    pub systems_uri: Option<String>,
    /// Log in with a Redfish session when the service offers one. A session costs a login
    /// and a logout but makes every later request cheap: worth it for the polls of a power
    /// change, not for the single read of a status (Basic, one authenticated request).
    pub prefer_session: bool,
    /// Where plug → system URI hints are remembered between invocations, if anywhere.
    pub plug_cache: Option<PlugCache>,
}

pub struct Client {
    http: Http,
    settings: Settings,
    /// The service root, once read: a status needs it only to discover the system.
    root: Option<Value>,
    session: Option<Session>,
    /// Whether a session login was tried (at connect, or when Basic was refused).
    session_tried: bool,
    /// The system found for each plug, as last read: discovery runs once per invocation, and
    /// a reset uses the target and ResetTypes of the read just before it.
    resolved: HashMap<Option<String>, System>,
}

impl Client {
    /// Ready the client: for a power change, read the service root and log in (a session if
    /// offered, else Basic); for a status, Basic without a request yet: the root is read only
    /// if discovery needs it.
    pub fn connect(settings: Settings, deadline: Deadline) -> Result<Client, Error> {
        let http = Http::new(settings.endpoint.clone(), &settings.trust)?;
        let mut client = Client {
            http,
            settings,
            root: None,
            session: None,
            session_tried: false,
            resolved: HashMap::new(),
        };
        if client.settings.prefer_session {
            client.log_in(deadline)?;
        } else {
            let basic = Auth::basic(&client.settings.username, &client.settings.password);
            client.http.set_auth(basic);
        }
        Ok(client)
    }

    fn root_uri(&self) -> String {
        format!("{}/", self.settings.redfish_uri.trim_end_matches('/'))
    }

    /// The service root, read once. It must be readable without credentials (Redfish spec);
    /// a service that wants them even for it gets Basic.
    fn root(&mut self, deadline: Deadline) -> Result<&Value, Error> {
        if self.root.is_none() {
            let root_uri = self.root_uri();
            // without credentials: checking them may cost the BMC a password hash
            let auth = std::mem::replace(self.http.auth_mut(), Auth::None);
            let unauthenticated = self.http.request(Method::Get, &root_uri, None, deadline);
            let had_auth = !matches!(auth, Auth::None);
            *self.http.auth_mut() = auth;
            let mut reply = unauthenticated?;
            if matches!(reply.status, 401 | 403) {
                if !had_auth {
                    let basic = Auth::basic(&self.settings.username, &self.settings.password);
                    self.http.set_auth(basic);
                }
                reply = self.http.request(Method::Get, &root_uri, None, deadline)?;
            }
            if !reply.is_success() {
                return Err(hint_root(
                    reply.error(&format!("GET {root_uri}")),
                    &root_uri,
                ));
            }
            if !reply.body.is_object() {
                return Err(Error::Device(format!(
                    "GET {root_uri}: the answer is not a Redfish service root"
                )));
            }
            self.root = Some(reply.body);
        }
        Ok(self.root.get_or_insert(Value::Null))
    }

    /// Log in with a session when the root offers one, else Basic (see [`session::login`]).
    fn log_in(&mut self, deadline: Deadline) -> Result<(), Error> {
        self.session_tried = true;
        self.http.set_auth(Auth::None);
        let sessions = session::sessions_uri(self.root(deadline)?);
        if sessions.is_none() && self.http.has_auth() {
            // the root wanted credentials, and names no sessions: Basic it is
            return Ok(());
        }
        self.session = session::login(
            &mut self.http,
            sessions.as_deref(),
            &self.settings.username,
            &self.settings.password,
            deadline,
        )?;
        Ok(())
    }

    /// Run `call`; if the service refuses Basic (Redfish requires it, some BMCs only take
    /// sessions), log in with a session where it offers one, and run it once more.
    fn with_auth_fallback<T>(
        &mut self,
        deadline: Deadline,
        call: impl Fn(&mut Client) -> Result<T, Error>,
    ) -> Result<T, Error> {
        match call(self) {
            Err(Error::Auth(why)) if !self.session_tried => {
                tracing::debug!("Basic refused ({why}); trying a Redfish session");
                self.log_in(deadline)?;
                if self.session.is_none() {
                    return Err(Error::Auth(why));
                }
                call(self)
            }
            other => other,
        }
    }

    /// Whether we hold a session (else Basic auth), for the log.
    pub fn uses_session(&self) -> bool {
        self.session.is_some()
    }

    /// The system `plug` designates, freshly read.
    pub fn system(&mut self, plug: Option<&str>, deadline: Deadline) -> Result<System, Error> {
        let key = plug.map(str::to_string);
        if let Some(known) = self.resolved.get(&key) {
            let system = self.read_system(&known.uri, deadline)?;
            self.resolved.insert(key, system.clone());
            return Ok(system);
        }
        let system = match self.settings.systems_uri.clone() {
            Some(uri) => self.read_system(&uri, deadline).map_err(|e| match e {
                Error::Device(m) if m.contains("HTTP 404") => {
                    Error::Config(format!("{m} (check systems_uri)"))
                }
                other => other,
            })?,
            None => match self.remembered(plug, deadline)? {
                Some(system) => system,
                None => {
                    let system = self.discover(plug, deadline)?;
                    self.remember(plug, &system);
                    system
                }
            },
        };
        self.resolved.insert(key, system.clone());
        Ok(system)
    }

    /// The system the plug cache names, read and still matching the plug; a stale entry (the
    /// system is gone or is another one now) is dropped, and discovery decides.
    fn remembered(&self, plug: Option<&str>, deadline: Deadline) -> Result<Option<System>, Error> {
        let (Some(cache), Some(plug)) = (&self.settings.plug_cache, plug.map(str::trim)) else {
            return Ok(None);
        };
        let (origin, root) = (self.settings.endpoint.origin(), &self.settings.redfish_uri);
        let Some(uri) = cache.lookup(&origin, root, plug) else {
            return Ok(None);
        };
        match self.read_system(&uri, deadline) {
            Ok(system) if system.matches(plug) => {
                tracing::debug!("plug {plug}: system {uri} (remembered, and still matching)");
                Ok(Some(system))
            }
            Ok(_) | Err(Error::Device(_)) => {
                tracing::debug!("plug {plug}: the remembered {uri} no longer matches; discovering");
                cache.forget(&origin, root, plug);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn remember(&self, plug: Option<&str>, system: &System) {
        if let (Some(cache), Some(plug)) = (&self.settings.plug_cache, plug.map(str::trim)) {
            let origin = self.settings.endpoint.origin();
            cache.store(&origin, &self.settings.redfish_uri, plug, &system.uri);
        }
    }

    fn discover(&mut self, plug: Option<&str>, deadline: Deadline) -> Result<System, Error> {
        let members = self.member_uris(deadline)?;
        let by_id = plug.and_then(|p| systems::member_by_id(&members, p.trim()));
        if let Some(uri) = by_id.or(if members.len() == 1 {
            members.first()
        } else {
            None
        }) {
            return self.read_system(uri, deadline);
        }
        let all = self.read_systems(&members, deadline)?;
        systems::select(&all, plug).cloned()
    }

    fn member_uris(&mut self, deadline: Deadline) -> Result<Vec<String>, Error> {
        let collection_uri = systems::collection_uri(self.root(deadline)?)?;
        let collection = self.http.get_json(&collection_uri, deadline)?;
        Ok(systems::members(&collection))
    }

    fn read_system(&self, uri: &str, deadline: Deadline) -> Result<System, Error> {
        Ok(System::from_json(uri, &self.http.get_json(uri, deadline)?))
    }

    pub fn power_state(
        &mut self,
        plug: Option<&str>,
        deadline: Deadline,
    ) -> Result<PowerState, Error> {
        let system = self.with_auth_fallback(deadline, |c| c.system(plug, deadline))?;
        fence_state(system.power_state.as_deref())
    }

    /// Send ComputerSystem.Reset for `action` and, when the BMC answers with a task, follow it
    /// to its end. Seeing the new power state is the caller's job.
    pub fn reset(
        &mut self,
        plug: Option<&str>,
        action: PowerAction,
        deadline: Deadline,
    ) -> Result<String, Error> {
        // The framework read the status just before: its reset target and ResetTypes stand
        // (one authenticated request fewer; a BMC may spend 0.2-0.3 s on each).
        let key = plug.map(str::to_string);
        let system = match self.resolved.get(&key) {
            Some(known) => known.clone(),
            None => self.with_auth_fallback(deadline, |c| c.system(plug, deadline))?,
        };
        let allowed = match (&system.reset_types, &system.reset_action_info) {
            (Some(types), _) => Some(types.clone()),
            (None, Some(info_uri)) => self.action_info(info_uri, deadline)?,
            (None, None) => None,
        };
        let reset_type = choose_reset_type(action, allowed.as_deref())?;
        let target = system.reset_target.clone().unwrap_or_else(|| {
            format!(
                "{}/Actions/ComputerSystem.Reset",
                system.uri.trim_end_matches('/')
            )
        });
        let body = json!({ "ResetType": reset_type });
        let reply = self
            .http
            .request(Method::Post, &target, Some(&body), deadline)?;
        let what = format!("reset {reset_type} of system {}", system.label());
        match reply.status {
            202 => {
                let monitor = reply.location.clone().or_else(|| {
                    reply
                        .body
                        .get("@odata.id")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                });
                if let Some(monitor) = monitor {
                    task::wait(&self.http, &monitor, deadline).map_err(|e| match e {
                        Error::Device(m) => Error::Device(format!("{what}: {m}")),
                        other => other,
                    })?;
                }
            }
            status if (200..300).contains(&status) => {}
            _ => return Err(reply.error(&what)),
        }
        Ok(reset_type.to_string())
    }

    /// Every system of the BMC, freshly read.
    pub fn list(&mut self, deadline: Deadline) -> Result<Vec<System>, Error> {
        self.with_auth_fallback(deadline, |c| {
            if let Some(uri) = &c.settings.systems_uri {
                return Ok(vec![c.read_system(uri, deadline)?]);
            }
            let members = c.member_uris(deadline)?;
            c.read_systems(&members, deadline)
        })
    }

    /// The ResetTypes an ActionInfo allows. One that cannot be read (real BMCs link some that
    /// answer 404) is no reason not to fence: then no list, so the standard ResetType is sent
    /// and the BMC's answer to it decides. Credentials and time are still errors.
    fn action_info(&self, uri: &str, deadline: Deadline) -> Result<Option<Vec<String>>, Error> {
        match self.http.get_json(uri, deadline) {
            Ok(info) => Ok(action_info_reset_types(&info)),
            Err(e @ (Error::Auth(_) | Error::Timeout(_))) => Err(e),
            Err(e) => {
                tracing::warn!("reset options unreadable ({e}); sending the standard ResetType");
                Ok(None)
            }
        }
    }

    /// Read several systems, a few at a time: each authenticated request may cost a BMC a
    /// password hash (0.2-0.3 s), and BMCs answer a few requests at once.
    fn read_systems(&self, uris: &[String], deadline: Deadline) -> Result<Vec<System>, Error> {
        const AT_ONCE: usize = 4;
        let mut systems = Vec::with_capacity(uris.len());
        for batch in uris.chunks(AT_ONCE) {
            let read: Vec<Result<System, Error>> = std::thread::scope(|scope| {
                let readers: Vec<_> = batch
                    .iter()
                    .map(|uri| scope.spawn(move || self.read_system(uri, deadline)))
                    .collect();
                readers
                    .into_iter()
                    .map(|reader| {
                        reader.join().unwrap_or_else(|_| {
                            Err(Error::Device(
                                "internal error: a system read panicked".into(),
                            ))
                        })
                    })
                    .collect()
            });
            for system in read {
                systems.push(system?);
            }
        }
        Ok(systems)
    }

    /// Log out (delete the session). Best effort.
    pub fn close(&mut self, deadline: Deadline) {
        if let Some(session) = self.session.take() {
            session::logout(&mut self.http, &session, deadline);
        }
    }
}

fn hint_root(error: Error, root_uri: &str) -> Error {
    match error {
        Error::Device(m) if m.contains("HTTP 404") => Error::Config(format!(
            "{m} (no Redfish service root at {root_uri}: check redfish_uri)"
        )),
        other => other,
    }
}
