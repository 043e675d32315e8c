//! Logging in: a Redfish session (POST to the Sessions collection, then X-Auth-Token on every
//! request, DELETE at the end), or HTTP Basic when the service offers no sessions.

use crate::error::Error;
use crate::http::{Auth, Http, Method};
use serde_json::{json, Value};
use stonith::{Deadline, Secret};

/// An open session: the token is in the Http client; this is where to DELETE it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub uri: Option<String>,
}

/// The Sessions collection named by the service root (`Links.Sessions`), if any.
pub fn sessions_uri(root: &Value) -> Option<String> {
    root.pointer("/Links/Sessions/@odata.id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            // some services only link the SessionService
            root.pointer("/SessionService/@odata.id")
                .and_then(Value::as_str)
                .map(|s| format!("{}/Sessions", s.trim_end_matches('/')))
        })
}

/// Log in. With a Sessions URI, try a session and fall back to Basic when the service answers
/// that it has none (404, 405, 501); without one, use Basic. Wrong credentials are an error
/// either way. Returns the session to close, if one was opened.
pub fn login(
    http: &mut Http,
    sessions: Option<&str>,
    username: &str,
    password: &Secret,
    deadline: Deadline,
) -> Result<Option<Session>, Error> {
    let Some(sessions) = sessions else {
        http.set_auth(Auth::basic(username, password));
        return Ok(None);
    };
    http.set_auth(Auth::None);
    let body = json!({"UserName": username, "Password": password.expose()});
    let reply = http.request(Method::Post, sessions, Some(&body), deadline)?;
    match reply.status {
        200 | 201 | 204 => match reply.auth_token {
            Some(token) => {
                let uri = reply.location.clone().or_else(|| {
                    reply
                        .body
                        .get("@odata.id")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                });
                http.set_auth(Auth::Token(token));
                Ok(Some(Session { uri }))
            }
            None => Err(Error::Device(format!(
                "POST {sessions}: HTTP {} without an X-Auth-Token header",
                reply.status
            ))),
        },
        404 | 405 | 501 => {
            http.set_auth(Auth::basic(username, password));
            Ok(None)
        }
        _ => Err(reply.error(&format!("login (POST {sessions})"))),
    }
}

/// Delete the session. Best effort: a BMC has few session slots, but failing to free one
/// must not change the outcome of the action.
pub fn logout(http: &mut Http, session: &Session, deadline: Deadline) {
    if let Some(uri) = &session.uri {
        let _ = http.request(Method::Delete, uri, None, deadline);
    }
    http.set_auth(Auth::None);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_link_from_the_service_root() {
        let root =
            json!({"Links": {"Sessions": {"@odata.id": "/redfish/v1/SessionService/Sessions"}}});
        assert_eq!(
            sessions_uri(&root).as_deref(),
            Some("/redfish/v1/SessionService/Sessions")
        );
        let only_service = json!({"SessionService": {"@odata.id": "/redfish/v1/SessionService/"}});
        assert_eq!(
            sessions_uri(&only_service).as_deref(),
            Some("/redfish/v1/SessionService/Sessions")
        );
        assert_eq!(sessions_uri(&json!({"Systems": {}})), None);
    }
}
