//! HTTP(S) exchanges with one BMC: JSON in and out, the authorization header, and every request
//! bounded by a deadline (connect, send and receive all count against the time left).

use crate::endpoint::Endpoint;
use crate::error::{extended_message, one_line, Error};
use crate::pinning::{CaOrPinned, PinningConnector};
use crate::tls::Trust;
use base64::Engine as _;
use serde_json::Value;
use std::time::Duration;
use stonith::{Deadline, Secret};
use ureq::http::Response;
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{Connector, TcpConnector};
use ureq::Body;

/// Biggest body we read; Redfish resources are a few KiB.
const MAX_BODY: u64 = 4 * 1024 * 1024;

/// How many times a GET is asked when the BMC answers with a transient server error.
const GET_ATTEMPTS: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

/// How requests are authorized.
#[derive(Clone)]
pub enum Auth {
    None,
    /// `Basic base64(user:password)`: a secret itself.
    Basic(Secret),
    /// A Redfish session token (X-Auth-Token).
    Token(Secret),
}

impl Auth {
    pub fn basic(username: &str, password: &Secret) -> Auth {
        let pair = format!("{username}:{}", password.expose());
        Auth::Basic(Secret::new(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair.as_bytes())
        )))
    }
}

/// What the BMC answered.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub auth_token: Option<Secret>,
    /// The body as JSON; Null when empty or not JSON.
    pub body: Value,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The error this reply stands for, saying what we were doing (`what`).
    pub fn error(&self, what: &str) -> Error {
        let detail = extended_message(&self.body)
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        let text = format!("{what}: HTTP {}{detail}", self.status);
        match self.status {
            401 | 403 => Error::Auth(format!("{text} (check username and password)")),
            _ => Error::Device(text),
        }
    }
}

pub struct Http {
    agent: ureq::Agent,
    endpoint: Endpoint,
    origin: String,
    auth: Auth,
}

impl Http {
    pub fn new(endpoint: Endpoint, trust: &Trust) -> Result<Http, Error> {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // a redirect would carry our credentials elsewhere; Redfish services do not need one
            .max_redirects(0)
            .user_agent(concat!("fence_paddock_redfish/", env!("CARGO_PKG_VERSION")))
            .tls_config(crate::tls::tls_config(trust)?)
            .build();
        let origin = endpoint.origin();
        let agent = match trust {
            // our own TLS connector: CAs from the file, and its certificates pinned
            Trust::CaFile(path) => {
                let verifier = CaOrPinned::new(crate::tls::read_ca_file_der(path)?);
                let tls = PinningConnector::new(verifier).map_err(|e| {
                    Error::Config(format!("TLS setup: {}", one_line(&e.to_string(), 200)))
                })?;
                ureq::Agent::with_parts(
                    config,
                    ().chain(TcpConnector::default()).chain(tls),
                    DefaultResolver::default(),
                )
            }
            Trust::SystemRoots | Trust::Insecure => config.new_agent(),
        };
        Ok(Http {
            agent,
            endpoint,
            origin,
            auth: Auth::None,
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub fn set_auth(&mut self, auth: Auth) {
        self.auth = auth;
    }

    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    pub fn auth_mut(&mut self) -> &mut Auth {
        &mut self.auth
    }

    /// Whether requests carry credentials.
    pub fn has_auth(&self) -> bool {
        !matches!(self.auth, Auth::None)
    }

    /// GET a resource that must exist: its JSON body, or an error saying what went wrong.
    pub fn get_json(&self, path: &str, deadline: Deadline) -> Result<Value, Error> {
        let reply = self.request(Method::Get, path, None, deadline)?;
        if !reply.is_success() {
            return Err(reply.error(&format!("GET {path}")));
        }
        if !reply.body.is_object() {
            return Err(Error::Device(format!(
                "GET {path}: the answer is not a JSON object"
            )));
        }
        Ok(reply.body)
    }

    /// One request; any HTTP status is a reply, only transport failures are errors.
    ///
    /// A BMC answering a GET with 500, 502, 503 or 504 is often busy for a moment (sushy's
    /// emulator: "database is locked"; real controllers while they refresh a cache): a GET
    /// changes nothing, so it is asked again, at most GET_ATTEMPTS times, while the deadline
    /// leaves room. Other methods are sent once: a reset must never be sent twice.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        deadline: Deadline,
    ) -> Result<Reply, Error> {
        let mut attempt = 1;
        loop {
            let reply = self.request_once(method, path, body, deadline)?;
            let pause = Duration::from_millis(200 * u64::from(attempt));
            let busy = method == Method::Get && matches!(reply.status, 500 | 502 | 503 | 504);
            if !busy || attempt >= GET_ATTEMPTS || deadline.remaining() <= pause * 2 {
                return Ok(reply);
            }
            std::thread::sleep(pause);
            attempt += 1;
        }
    }

    fn request_once(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        deadline: Deadline,
    ) -> Result<Reply, Error> {
        let url = self.url(path)?;
        let left = deadline.remaining();
        if left.is_zero() {
            return Err(Error::Timeout(format!(
                "{} {path}: no time left before the deadline",
                name(method)
            )));
        }
        let result = match method {
            Method::Get => self.prepare(self.agent.get(&url), left).call(),
            Method::Delete => self.prepare(self.agent.delete(&url), left).call(),
            Method::Post => {
                let request = self
                    .prepare(self.agent.post(&url), left)
                    .header("Content-Type", "application/json");
                match body {
                    Some(json) => request.send(json.to_string()),
                    None => request.send_empty(),
                }
            }
        };
        let response = result.map_err(|e| self.transport_error(method, path, e, left))?;
        read_reply(response, method, path)
    }

    fn prepare<B>(
        &self,
        request: ureq::RequestBuilder<B>,
        left: Duration,
    ) -> ureq::RequestBuilder<B> {
        let request = request
            .header("Accept", "application/json")
            .header("OData-Version", "4.0")
            .config()
            .timeout_global(Some(left))
            .build();
        match &self.auth {
            Auth::None => request,
            Auth::Basic(value) => request.header("Authorization", value.expose()),
            Auth::Token(token) => request.header("X-Auth-Token", token.expose()),
        }
    }

    /// Absolute URL for a path of this BMC. A BMC may name itself in absolute URLs (Location
    /// headers) by another address than ours: only the path is taken, and requests always go
    /// to the origin we were configured with, so credentials never go elsewhere.
    pub fn url(&self, path: &str) -> Result<String, Error> {
        let path = match path.split_once("://") {
            Some((scheme, rest))
                if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") =>
            {
                rest.find('/').map(|slash| &rest[slash..]).unwrap_or("/")
            }
            _ => path,
        };
        if path.starts_with('/') && !path.starts_with("//") {
            return Ok(format!("{}{}", self.origin, path));
        }
        Err(Error::Device(format!(
            "the BMC pointed to '{}', which is not a path",
            one_line(path, 120)
        )))
    }

    fn transport_error(
        &self,
        method: Method,
        path: &str,
        error: ureq::Error,
        left: Duration,
    ) -> Error {
        let at = format!("{} {}{path}", name(method), self.origin);
        // rustls failures reach us wrapped in io errors as well as directly
        if let Some(advice) = tls_advice(&error) {
            return Error::Device(format!("{at}: {advice}"));
        }
        match error {
            ureq::Error::Timeout(_) => Error::Timeout(format!(
                "{at}: no answer within {:.1} s",
                left.as_secs_f64()
            )),
            ureq::Error::HostNotFound => Error::Device(format!("{at}: host not found")),
            ureq::Error::Io(io) => match io.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    Error::Device(format!("{at}: connection refused"))
                }
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => Error::Timeout(
                    format!("{at}: no answer within {:.1} s", left.as_secs_f64()),
                ),
                _ => Error::Device(format!("{at}: {}", one_line(&io.to_string(), 200))),
            },
            other => Error::Device(format!("{at}: {}", one_line(&other.to_string(), 200))),
        }
    }
}

/// A TLS failure in words an operator can act on; None when the error is not about TLS.
fn tls_advice(error: &ureq::Error) -> Option<String> {
    let debug = format!("{error:?}");
    let advice = if debug.contains("CaUsedAsEndEntity") {
        "TLS: the BMC's certificate is a CA certificate (CA:TRUE) used as a server certificate, \
         which rustls does not trust through a CA: put that very certificate in ssl_ca_file (it is \
         then pinned), or set ssl_insecure"
    } else if debug.contains("UnknownIssuer") || debug.contains("BadSignature") {
        "TLS: the BMC's certificate is not trusted (unknown issuer): put the issuing CA in ssl_ca_file, \
         or set ssl_insecure"
    } else if debug.contains("NotValidForName") {
        "TLS: the BMC's certificate does not name this address (subjectAltName): use the name it \
         was issued for in ip, or set ssl_insecure"
    } else if debug.contains("Expired") || debug.contains("NotValidYet") {
        "TLS: the BMC's certificate is expired or not yet valid (check the clocks), or set ssl_insecure"
    } else if debug.contains("InvalidContentType") || debug.contains("CorruptMessage") {
        "TLS handshake failed: the port does not speak TLS (plain HTTP? then use ip=http://host:port or ssl=0)"
    } else if matches!(error, ureq::Error::Rustls(_))
        || debug.contains("InvalidCertificate")
        || debug.contains("AlertReceived")
    {
        return Some(format!("TLS: {}", one_line(&error.to_string(), 200)));
    } else {
        return None;
    };
    Some(advice.to_string())
}

fn name(method: Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Delete => "DELETE",
    }
}

fn read_reply(mut response: Response<Body>, method: Method, path: &str) -> Result<Reply, Error> {
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let location = header("Location");
    let auth_token = header("X-Auth-Token").map(Secret::new);
    let bytes = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::Timeout(_) => Error::Timeout(format!(
                "{} {path}: the answer did not arrive in time",
                name(method)
            )),
            other => Error::Device(format!(
                "{} {path}: reading the answer: {}",
                name(method),
                one_line(&other.to_string(), 200)
            )),
        })?;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok(Reply {
        status,
        location,
        auth_token,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn http() -> Http {
        let endpoint = Endpoint::parse("[::1]:8000", 443, false).expect("endpoint");
        Http::new(endpoint, &Trust::Insecure).expect("http")
    }

    #[test]
    fn urls_stay_on_the_bmc() {
        let http = http();
        assert_eq!(
            http.url("/redfish/v1/").as_deref(),
            Ok("http://[::1]:8000/redfish/v1/")
        );
        assert_eq!(
            http.url("http://[::1]:8000/redfish/v1/TaskMonitor/1")
                .as_deref(),
            Ok("http://[::1]:8000/redfish/v1/TaskMonitor/1")
        );
        // another origin: its path, on our origin
        assert_eq!(
            http.url("https://10.1.2.3/redfish/v1/Tasks/2").as_deref(),
            Ok("http://[::1]:8000/redfish/v1/Tasks/2")
        );
        assert_eq!(
            http.url("http://evil.example@x/y").as_deref(),
            Ok("http://[::1]:8000/y")
        );
        assert!(http.url("relative").is_err());
        assert!(http.url("//evil.example/x").is_err());
    }

    #[test]
    fn reply_errors_carry_the_redfish_message() {
        let reply = Reply {
            status: 500,
            location: None,
            auth_token: None,
            body: json!({"error": {"@Message.ExtendedInfo": [{"Message": "Reset failed."}]}}),
        };
        assert_eq!(
            reply.error("POST /x"),
            Error::Device("POST /x: HTTP 500: Reset failed.".into())
        );
        let denied = Reply {
            status: 401,
            location: None,
            auth_token: None,
            body: Value::Null,
        };
        assert!(matches!(denied.error("GET /"), Error::Auth(_)));
    }

    #[test]
    fn basic_auth_header() {
        let Auth::Basic(value) = Auth::basic("admin", &Secret::new("password")) else {
            panic!("not basic")
        };
        assert_eq!(value.expose(), "Basic YWRtaW46cGFzc3dvcmQ=");
        // RFC 7617's own example: a password whose encoding needs padding.
        let Auth::Basic(value) = Auth::basic("Aladdin", &Secret::new("open sesame")) else {
            panic!("not basic")
        };
        assert_eq!(value.expose(), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    }
}
