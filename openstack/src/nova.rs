//! The Nova calls of instance HA: compute services (force down, disable), the servers of a
//! host, aggregates, evacuation and its migrations.
//!
//! Every request carries microversion [`NOVA_MICROVERSION`] (2.53): from 2.53 services are named
//! by UUID and changed with `PUT /os-services/{id}` (forced_down, status, disabled_reason);
//! 2.47 embeds the flavor (with its extra specs) in a server; 2.29 lets evacuate leave the host
//! to the scheduler without `onSharedStorage` (gone since 2.14); and it stays below 2.95, from
//! which an evacuated instance is left stopped instead of running.

use crate::error::Error;
use crate::http::{Method, Reply, Transport};
use crate::Secret;
use paddock_base::Deadline;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt;

/// The compute API microversion of every request (see the module's documentation).
pub const NOVA_MICROVERSION: &str = "2.53";

/// Servers asked per page (Nova's default max_limit is 1000).
const PAGE_SIZE: usize = 200;

/// More pages than this is a loop, not a cloud.
const MAX_PAGES: usize = 10_000;
/// How long a status change's answer is waited for before the service is read back instead.
const STATUS_ANSWER_WAIT: std::time::Duration = std::time::Duration::from_secs(3);
const STATUS_POLL: std::time::Duration = std::time::Duration::from_millis(250);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceStatus {
    Enabled,
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceState {
    Up,
    Down,
}

/// A nova-compute service (one per compute host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputeService {
    /// UUID (microversion >= 2.53).
    pub id: String,
    pub host: String,
    pub zone: String,
    pub status: ServiceStatus,
    pub state: ServiceState,
    pub forced_down: bool,
    pub disabled_reason: Option<String>,
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub id: String,
    pub name: String,
    pub status: String,
    pub task_state: Option<String>,
    pub host: Option<String>,
    pub metadata: BTreeMap<String, String>,
    /// The embedded flavor's extra specs (microversion >= 2.47).
    pub flavor_extra_specs: BTreeMap<String, String>,
    /// None for a server booted from a volume.
    pub image_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    pub name: String,
    pub availability_zone: Option<String>,
    pub hosts: Vec<String>,
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub instance_uuid: String,
    /// Nova's words: accepted, pre-migrating, migrating, done, completed, failed, error...
    pub status: String,
    pub source_compute: Option<String>,
    pub dest_compute: Option<String>,
}

/// The compute API of one region, with the session's token. Cheap to clone; usable from
/// several threads at once.
#[derive(Clone)]
pub struct Nova {
    transport: Transport,
    endpoint: String,
    token: Secret,
}

impl fmt::Debug for Nova {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Nova")
            .field("endpoint", &self.endpoint)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl Nova {
    pub(crate) fn new(transport: Transport, endpoint: String, token: Secret) -> Nova {
        Nova {
            transport,
            endpoint: endpoint.trim_end_matches('/').to_string(),
            token,
        }
    }

    /// The endpoint from the catalog.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        deadline: &Deadline,
    ) -> Result<Reply, Error> {
        let url = format!("{}{path}", self.endpoint);
        let version = format!("compute {NOVA_MICROVERSION}");
        let headers = [
            ("X-Auth-Token", self.token.expose()),
            ("OpenStack-API-Version", version.as_str()),
        ];
        self.transport
            .request(method, &url, &headers, body, deadline)
    }

    /// A GET that must succeed: its JSON body.
    fn get(&self, path: &str, what: &str, deadline: &Deadline) -> Result<Value, Error> {
        let reply = self.send(Method::Get, path, None, deadline)?;
        if !reply.is_success() {
            return Err(reply.error(&format!("Nova: {what}")));
        }
        Ok(reply.body)
    }

    /// A change that must be accepted; its answer's body.
    fn change(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        what: &str,
        deadline: &Deadline,
    ) -> Result<Value, Error> {
        let reply = self.send(method, path, Some(body), deadline)?;
        if !reply.is_success() {
            return Err(reply.error(&format!("Nova: {what}")));
        }
        Ok(reply.body)
    }

    /// The nova-compute services, one per compute host.
    pub fn compute_services(&self, deadline: &Deadline) -> Result<Vec<ComputeService>, Error> {
        let body = self.get(
            "/os-services?binary=nova-compute",
            "listing the compute services",
            deadline,
        )?;
        list(&body, "services")?
            .iter()
            .map(compute_service)
            .collect()
    }

    /// Force a service down (`true`: Nova takes the host for dead at once, so that its
    /// instances may be evacuated) or back up. Nova refuses (400, [`Error::Refused`]) to unforce
    /// while evacuations from the host are not completed.
    pub fn set_forced_down(
        &self,
        service_id: &str,
        forced_down: bool,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        let what = format!("setting forced_down={forced_down} on service {service_id}");
        self.change(
            Method::Put,
            &format!("/os-services/{}", path_segment(service_id)),
            &json!({"forced_down": forced_down}),
            &what,
            deadline,
        )
        .map(|_| ())
    }

    /// Disable a service with a reason (`Some`), or enable it (`None`).
    ///
    /// Nova saves the new status, then, while it still takes the service for up, asks that
    /// nova-compute over RPC to update its resource provider, and answers only after that: up
    /// to rpc_response_timeout (60 s by default) when the process has just died, which is when
    /// procwatch disables it. So the request gets a few seconds; unanswered, the service is read
    /// back until it shows the change.
    pub fn set_disabled(
        &self,
        service_id: &str,
        reason: Option<&str>,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        match self.request_status(service_id, reason, &deadline.capped(STATUS_ANSWER_WAIT)) {
            Err(Error::Timeout(why)) => self
                .wait_for_status(service_id, reason, deadline)
                .map_err(|_| Error::Timeout(why)),
            other => other,
        }
    }

    /// Reads the service until its status (and reason, when disabling) is what was asked.
    fn wait_for_status(
        &self,
        service_id: &str,
        reason: Option<&str>,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        let wanted = if reason.is_some() {
            ServiceStatus::Disabled
        } else {
            ServiceStatus::Enabled
        };
        loop {
            let services = self.compute_services(deadline)?;
            let service = services.iter().find(|s| s.id == service_id);
            if service.is_some_and(|s| {
                s.status == wanted && (reason.is_none() || s.disabled_reason.as_deref() == reason)
            }) {
                return Ok(());
            }
            if deadline.remaining() < STATUS_POLL {
                return Err(Error::Timeout(format!(
                    "service {service_id} not seen {} in time",
                    if reason.is_some() {
                        "disabled"
                    } else {
                        "enabled"
                    }
                )));
            }
            std::thread::sleep(STATUS_POLL);
        }
    }

    fn request_status(
        &self,
        service_id: &str,
        reason: Option<&str>,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        let (body, what) = match reason {
            Some(reason) => (
                json!({"status": "disabled", "disabled_reason": reason}),
                format!("disabling service {service_id}"),
            ),
            None => (
                json!({"status": "enabled"}),
                format!("enabling service {service_id}"),
            ),
        };
        self.change(
            Method::Put,
            &format!("/os-services/{}", path_segment(service_id)),
            &body,
            &what,
            deadline,
        )
        .map(|_| ())
    }

    /// Every server on `host`, of all projects, with details; page by page (limit / marker).
    pub fn servers_on_host(&self, host: &str, deadline: &Deadline) -> Result<Vec<Server>, Error> {
        let mut servers: Vec<Server> = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut path = format!(
                "/servers/detail?all_tenants=1&host={}&limit={PAGE_SIZE}",
                query_value(host)
            );
            if let Some(marker) = &marker {
                path.push_str(&format!("&marker={}", query_value(marker)));
            }
            let body = self.get(&path, &format!("listing the servers on {host}"), deadline)?;
            let page = list(&body, "servers")?
                .iter()
                .map(server)
                .collect::<Result<Vec<_>, _>>()?;
            let last = page.last().map(|s| s.id.clone());
            let full = page.len() >= PAGE_SIZE;
            servers.extend(page);
            match last {
                Some(id) if full && marker.as_deref() != Some(id.as_str()) => marker = Some(id),
                _ => return Ok(servers),
            }
        }
        Err(Error::Parse(format!(
            "Nova: listing the servers on {host}: more than {MAX_PAGES} pages"
        )))
    }

    /// The host aggregates (with their availability zone and metadata).
    pub fn aggregates(&self, deadline: &Deadline) -> Result<Vec<Aggregate>, Error> {
        let body = self.get("/os-aggregates", "listing the aggregates", deadline)?;
        list(&body, "aggregates")?.iter().map(aggregate).collect()
    }

    /// Rebuild a server of a dead host elsewhere; the scheduler picks the host.
    pub fn evacuate(&self, server_id: &str, deadline: &Deadline) -> Result<(), Error> {
        self.change(
            Method::Post,
            &format!("/servers/{}/action", path_segment(server_id)),
            &json!({"evacuate": {}}),
            &format!("evacuating server {server_id}"),
            deadline,
        )
        .map(|_| ())
    }

    /// Delete a server (tests clean up with it; Nova deletes asynchronously).
    pub fn delete_server(&self, server_id: &str, deadline: &Deadline) -> Result<(), Error> {
        let path = format!("/servers/{}", path_segment(server_id));
        let reply = self.send(Method::Delete, &path, None, deadline)?;
        if !reply.is_success() {
            return Err(reply.error(&format!("Nova: deleting server {server_id}")));
        }
        Ok(())
    }

    /// Migrations of `kind` (`evacuation`, `migration`, `live-migration`, `resize`) from or
    /// to `host`.
    pub fn migrations(
        &self,
        host: &str,
        kind: &str,
        deadline: &Deadline,
    ) -> Result<Vec<Migration>, Error> {
        let path = format!(
            "/os-migrations?host={}&migration_type={}",
            query_value(host),
            query_value(kind)
        );
        let body = self.get(&path, &format!("listing the {kind}s of {host}"), deadline)?;
        list(&body, "migrations")?.iter().map(migration).collect()
    }
}

/// The array under `key` of a list answer.
fn list<'v>(body: &'v Value, key: &str) -> Result<&'v Vec<Value>, Error> {
    body.get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| Error::Parse(format!("Nova: the answer has no '{key}' list")))
}

fn text(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn required(value: &Value, key: &str, what: &str) -> Result<String, Error> {
    text(value, key).ok_or_else(|| Error::Parse(format!("Nova: a {what} without '{key}'")))
}

/// A JSON object of scalars as strings (metadata, extra specs).
fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|object| {
            object
                .iter()
                .filter_map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        _ => return None,
                    };
                    Some((k.clone(), v))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn compute_service(value: &Value) -> Result<ComputeService, Error> {
    let what = "service";
    let status = match required(value, "status", what)?.as_str() {
        "enabled" => ServiceStatus::Enabled,
        "disabled" => ServiceStatus::Disabled,
        other => return Err(Error::Parse(format!("Nova: service status '{other}'"))),
    };
    let state = match required(value, "state", what)?.as_str() {
        "up" => ServiceState::Up,
        "down" => ServiceState::Down,
        other => return Err(Error::Parse(format!("Nova: service state '{other}'"))),
    };
    Ok(ComputeService {
        id: required(value, "id", what)?,
        host: required(value, "host", what)?,
        zone: text(value, "zone").unwrap_or_default(),
        status,
        state,
        forced_down: value
            .get("forced_down")
            .and_then(Value::as_bool)
            .ok_or_else(|| {
                Error::Parse("Nova: a service without 'forced_down' (microversion < 2.11?)".into())
            })?,
        disabled_reason: text(value, "disabled_reason").filter(|r| !r.is_empty()),
        updated_at: text(value, "updated_at"),
    })
}

fn server(value: &Value) -> Result<Server, Error> {
    let what = "server";
    let flavor = value.get("flavor");
    Ok(Server {
        id: required(value, "id", what)?,
        name: text(value, "name").unwrap_or_default(),
        status: required(value, "status", what)?,
        task_state: text(value, "OS-EXT-STS:task_state"),
        host: text(value, "OS-EXT-SRV-ATTR:host"),
        metadata: string_map(value.get("metadata")),
        flavor_extra_specs: string_map(flavor.and_then(|f| f.get("extra_specs"))),
        // "" for a server booted from a volume
        image_id: value
            .get("image")
            .and_then(|image| text(image, "id"))
            .filter(|id| !id.is_empty()),
    })
}

fn aggregate(value: &Value) -> Result<Aggregate, Error> {
    Ok(Aggregate {
        name: required(value, "name", "aggregate")?,
        availability_zone: text(value, "availability_zone").filter(|z| !z.is_empty()),
        hosts: value
            .get("hosts")
            .and_then(Value::as_array)
            .map(|hosts| {
                hosts
                    .iter()
                    .filter_map(|h| h.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        metadata: string_map(value.get("metadata")),
    })
}

fn migration(value: &Value) -> Result<Migration, Error> {
    Ok(Migration {
        instance_uuid: required(value, "instance_uuid", "migration")?,
        status: required(value, "status", "migration")?,
        source_compute: text(value, "source_compute"),
        dest_compute: text(value, "dest_compute"),
    })
}

/// Percent-encode a query value (host names, UUIDs, markers).
pub(crate) fn query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// An id as one path segment: ids are UUIDs, but nothing else may change the path.
pub(crate) fn path_segment(value: &str) -> String {
    query_value(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_servers_aggregates_and_migrations_parse() {
        let s = compute_service(
            &json!({"id": "4f0c-uuid", "binary": "nova-compute", "host": "compute1",
            "zone": "nova", "status": "disabled", "state": "down", "forced_down": true,
            "disabled_reason": "fenced", "updated_at": "2026-12-01T10:00:00.000000"}),
        )
        .expect("service");
        assert_eq!(
            (s.status, s.state, s.forced_down),
            (ServiceStatus::Disabled, ServiceState::Down, true)
        );
        assert_eq!(s.disabled_reason.as_deref(), Some("fenced"));
        assert!(compute_service(
            &json!({"id": "x", "host": "h", "status": "enabled", "state": "up"})
        )
        .is_err());

        let v = server(
            &json!({"id": "s1", "name": "vm", "status": "ACTIVE", "OS-EXT-STS:task_state": null,
            "OS-EXT-SRV-ATTR:host": "compute1", "metadata": {"paddock:ha": "false"},
            "flavor": {"extra_specs": {"paddock:ha": "true", "hw:cpu": 2}}, "image": ""}),
        )
        .expect("server");
        assert_eq!(v.task_state, None);
        assert_eq!(v.metadata["paddock:ha"], "false");
        assert_eq!(v.flavor_extra_specs["hw:cpu"], "2");
        assert_eq!(v.image_id, None);
        let v = server(&json!({"id": "s2", "status": "ACTIVE", "image": {"id": "img"}}))
            .expect("server");
        assert_eq!(v.image_id.as_deref(), Some("img"));

        let a = aggregate(&json!({"name": "ha", "availability_zone": null, "hosts": ["compute1"], "metadata": {"paddock:ha": "true"}})).expect("aggregate");
        assert_eq!(a.hosts, vec!["compute1"]);
        let m = migration(&json!({"instance_uuid": "s1", "status": "done", "source_compute": "compute1", "dest_compute": null})).expect("migration");
        assert_eq!((m.status.as_str(), m.dest_compute), ("done", None));
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(query_value("compute1.example.com"), "compute1.example.com");
        assert_eq!(query_value("a b&c/d"), "a%20b%26c%2Fd");
    }
}
