//! JSON over HTTP(S) with every request bounded by a deadline: connect, send and receive all
//! count against the time left. Answers of any status are replies; the caller maps them.

use crate::error::{one_line, service_message, Error};
use crate::tls::Trust;
use crate::Secret;
use paddock_base::Deadline;
use serde_json::Value;
use std::time::Duration;
use ureq::http::Response;
use ureq::Body;

/// How many times a GET is asked when the service answers 502, 503 or 504 (a proxy or an API
/// worker restarting): a GET changes nothing. Changes are sent once.
const GET_ATTEMPTS: u32 = 3;

/// Biggest body we read: a page of servers with embedded flavors is a few hundred KiB.
const MAX_BODY: u64 = 16 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// One answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    /// Keystone's X-Subject-Token (the token it issued).
    pub subject_token: Option<Secret>,
    /// The body as JSON; Null when empty or not JSON.
    pub body: Value,
    pub message: String,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The error an unsuccessful reply stands for; `what` says what we asked.
    pub fn error(&self, what: &str) -> Error {
        let text = format!("{what}: {}", self.message);
        match self.status {
            401 => Error::Auth(format!("{what}: the token was refused: {}", self.message)),
            403 => Error::Auth(format!(
                "{what}: not allowed (does the user have the admin role?): {}",
                self.message
            )),
            404 => Error::NotFound(text),
            400 | 409 => Error::Refused(text),
            status => Error::Http {
                status,
                message: text,
            },
        }
    }
}

/// The HTTP client shared by a session and the service handles made from it.
#[derive(Clone)]
pub(crate) struct Transport {
    agent: ureq::Agent,
}

impl Transport {
    pub fn new(trust: &Trust) -> Result<Transport, Error> {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // a redirect would carry the token elsewhere; the APIs do not need one
            .max_redirects(0)
            .user_agent(concat!("paddock-openstack/", env!("CARGO_PKG_VERSION")))
            .tls_config(crate::tls::tls_config(trust)?)
            .build()
            .new_agent();
        Ok(Transport { agent })
    }

    /// One request; `headers` are sent as given (the token among them). A GET answered 502,
    /// 503 or 504 is asked again while the deadline leaves room.
    pub fn request(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
        deadline: &Deadline,
    ) -> Result<Reply, Error> {
        let mut attempt = 1;
        loop {
            let reply = self.request_once(method, url, headers, body, deadline)?;
            let pause = Duration::from_millis(200 * u64::from(attempt));
            let busy = method == Method::Get && matches!(reply.status, 502..=504);
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
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
        deadline: &Deadline,
    ) -> Result<Reply, Error> {
        let at = format!("{} {}", method.name(), strip_query(url));
        let left = deadline.remaining();
        if left.is_zero() {
            return Err(Error::Timeout(format!(
                "{at}: no time left before the deadline"
            )));
        }
        let result = match method {
            Method::Get => self.prepare(self.agent.get(url), headers, left).call(),
            Method::Delete => self.prepare(self.agent.delete(url), headers, left).call(),
            Method::Post | Method::Put => {
                let request = match method {
                    Method::Post => self.agent.post(url),
                    _ => self.agent.put(url),
                };
                let request = self
                    .prepare(request, headers, left)
                    .header("Content-Type", "application/json");
                match body {
                    Some(json) => request.send(json.to_string()),
                    None => request.send_empty(),
                }
            }
        };
        let response = result.map_err(|e| transport_error(&at, e, left))?;
        read_reply(response, &at, left)
    }

    fn prepare<B>(
        &self,
        request: ureq::RequestBuilder<B>,
        headers: &[(&str, &str)],
        left: Duration,
    ) -> ureq::RequestBuilder<B> {
        let mut request = request
            .header("Accept", "application/json")
            .config()
            .timeout_global(Some(left))
            .build();
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request
    }
}

/// The URL without its query, for messages (queries hold host names, never secrets, but are long).
fn strip_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

fn transport_error(at: &str, error: ureq::Error, left: Duration) -> Error {
    let timeout = || {
        Error::Timeout(format!(
            "{at}: no answer within {:.1} s",
            left.as_secs_f64()
        ))
    };
    if let Some(advice) = tls_advice(&error) {
        return Error::Connect(format!("{at}: {advice}"));
    }
    match error {
        ureq::Error::Timeout(_) => timeout(),
        ureq::Error::HostNotFound => Error::Connect(format!("{at}: host not found")),
        ureq::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                Error::Connect(format!("{at}: connection refused"))
            }
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => timeout(),
            _ => Error::Connect(format!("{at}: {}", one_line(&io.to_string(), 200))),
        },
        ureq::Error::BadUri(_) => Error::Config(format!("{at}: not a valid URL")),
        other => Error::Connect(format!("{at}: {}", one_line(&other.to_string(), 200))),
    }
}

/// A TLS failure in words an operator can act on; None when the error is not about TLS.
fn tls_advice(error: &ureq::Error) -> Option<String> {
    let debug = format!("{error:?}");
    let advice = if debug.contains("UnknownIssuer") || debug.contains("BadSignature") {
        "TLS: the certificate is not trusted (unknown issuer): give the issuing CA (ssl_ca_file), or set ssl_insecure"
    } else if debug.contains("NotValidForName") {
        "TLS: the certificate does not name this host (subjectAltName): use the name it was issued for, or set ssl_insecure"
    } else if debug.contains("Expired") || debug.contains("NotValidYet") {
        "TLS: the certificate is expired or not yet valid (check the clocks), or set ssl_insecure"
    } else if debug.contains("InvalidContentType") || debug.contains("CorruptMessage") {
        "TLS handshake failed: the port does not speak TLS (plain HTTP? then use an http:// URL)"
    } else if matches!(error, ureq::Error::Rustls(_)) || debug.contains("InvalidCertificate") {
        return Some(format!("TLS: {}", one_line(&error.to_string(), 200)));
    } else {
        return None;
    };
    Some(advice.to_string())
}

fn read_reply(mut response: Response<Body>, at: &str, left: Duration) -> Result<Reply, Error> {
    let status = response.status().as_u16();
    let subject_token = response
        .headers()
        .get("X-Subject-Token")
        .and_then(|v| v.to_str().ok())
        .map(Secret::new);
    let bytes = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::Timeout(_) => Error::Timeout(format!(
                "{at}: the answer did not arrive within {:.1} s",
                left.as_secs_f64()
            )),
            ureq::Error::Io(io)
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                ) =>
            {
                Error::Timeout(format!(
                    "{at}: the answer did not arrive within {:.1} s",
                    left.as_secs_f64()
                ))
            }
            other => Error::Connect(format!(
                "{at}: reading the answer: {}",
                one_line(&other.to_string(), 200)
            )),
        })?;
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let message = if (200..300).contains(&status) {
        String::new()
    } else {
        format!("HTTP {status}: {}", service_message(&body, &bytes))
    };
    Ok(Reply {
        status,
        subject_token,
        body,
        message,
    })
}
