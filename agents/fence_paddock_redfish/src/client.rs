//! A Redfish client for power control of the ComputerSystems of one BMC: connect and log in,
//! find the system, read its power state, reset it, list the systems, log out.

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
}

pub struct Client {
    http: Http,
    settings: Settings,
    root: Value,
    session: Option<Session>,
    /// System URI found for each plug, so discovery runs once per invocation.
    resolved: HashMap<Option<String>, String>,
}

impl Client {
    /// Read the service root and log in (session if offered, else Basic).
    pub fn connect(settings: Settings, deadline: Deadline) -> Result<Client, Error> {
        let mut http = Http::new(settings.endpoint.clone(), &settings.trust)?;
        let root_uri = format!("{}/", settings.redfish_uri.trim_end_matches('/'));
        // The service root must be readable without credentials (Redfish spec); it names the
        // Sessions collection. A service that wants credentials even for it gets Basic.
        let reply = http.request(Method::Get, &root_uri, None, deadline)?;
        let (root, session) = match reply.status {
            200 => {
                let sessions = session::sessions_uri(&reply.body);
                let session = session::login(
                    &mut http,
                    sessions.as_deref(),
                    &settings.username,
                    &settings.password,
                    deadline,
                )?;
                (reply.body, session)
            }
            401 | 403 => {
                http.set_auth(Auth::basic(&settings.username, &settings.password));
                (
                    http.get_json(&root_uri, deadline)
                        .map_err(|e| hint_root(e, &root_uri))?,
                    None,
                )
            }
            _ => {
                return Err(hint_root(
                    reply.error(&format!("GET {root_uri}")),
                    &root_uri,
                ))
            }
        };
        if !root.is_object() {
            return Err(Error::Device(format!(
                "GET {root_uri}: the answer is not a Redfish service root"
            )));
        }
        Ok(Client {
            http,
            settings,
            root,
            session,
            resolved: HashMap::new(),
        })
    }

    /// Whether we hold a session (else Basic auth), for the log.
    pub fn uses_session(&self) -> bool {
        self.session.is_some()
    }

    /// The system `plug` designates, freshly read.
    pub fn system(&mut self, plug: Option<&str>, deadline: Deadline) -> Result<System, Error> {
        let key = plug.map(str::to_string);
        if let Some(uri) = self.resolved.get(&key).cloned() {
            return self.read_system(&uri, deadline);
        }
        let system = match self.settings.systems_uri.clone() {
            Some(uri) => self.read_system(&uri, deadline).map_err(|e| match e {
                Error::Device(m) if m.contains("HTTP 404") => {
                    Error::Config(format!("{m} (check systems_uri)"))
                }
                other => other,
            })?,
            None => self.discover(plug, deadline)?,
        };
        self.resolved.insert(key, system.uri.clone());
        Ok(system)
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

    fn member_uris(&self, deadline: Deadline) -> Result<Vec<String>, Error> {
        let collection_uri = systems::collection_uri(&self.root)?;
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
        let system = self.system(plug, deadline)?;
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
        let system = self.system(plug, deadline)?;
        let allowed = match (&system.reset_types, &system.reset_action_info) {
            (Some(types), _) => Some(types.clone()),
            (None, Some(info_uri)) => {
                action_info_reset_types(&self.http.get_json(info_uri, deadline)?)
            }
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
        if let Some(uri) = self.settings.systems_uri.clone() {
            return Ok(vec![self.read_system(&uri, deadline)?]);
        }
        let members = self.member_uris(deadline)?;
        self.read_systems(&members, deadline)
    }

    /// Read several systems, one after the other: BMC CPUs are small, and parallel reads
    /// measured no faster against sushy-emulator.
    fn read_systems(&self, uris: &[String], deadline: Deadline) -> Result<Vec<System>, Error> {
        uris.iter()
            .map(|uri| self.read_system(uri, deadline))
            .collect()
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
