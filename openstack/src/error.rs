//! What can go wrong talking to OpenStack. Every message is one line and holds no secret.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Keystone refused the credentials, or a service refused the token (401/403).
    #[error("{0}")]
    Auth(String),
    /// The thing asked for does not exist (404, or no such host).
    #[error("{0}")]
    NotFound(String),
    /// The service understood the request and refused it (400/409), with its message.
    #[error("{0}")]
    Refused(String),
    /// Any other HTTP error status.
    #[error("HTTP {status}: {message}")]
    Http { status: u16, message: String },
    /// No answer before the deadline.
    #[error("{0}")]
    Timeout(String),
    /// The service could not be reached (refused, unknown host, TLS failure).
    #[error("{0}")]
    Connect(String),
    /// The catalog has no endpoint for the service (in that region / interface).
    #[error("{0}")]
    Catalog(String),
    /// An answer that is not what the API documents.
    #[error("{0}")]
    Parse(String),
    /// Settings that cannot work (bad URL, unreadable CA file).
    #[error("{0}")]
    Config(String),
}

/// The longest excerpt of a service's message we quote.
const MAX_MESSAGE: usize = 300;

/// `text` on one line, at most `max` characters.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max).collect();
        format!("{cut}...")
    }
}

/// The message an OpenStack service put in an error body: Nova's `{"badRequest": {"message":
/// ...}}`, Keystone's `{"error": {"message": ...}}`, or a plain-text body.
pub(crate) fn service_message(body: &Value, raw: &[u8]) -> String {
    let from_json = body.as_object().and_then(|object| {
        object.values().find_map(|inner| {
            inner
                .get("message")
                .or_else(|| inner.get("explanation"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
    });
    let text = match from_json {
        Some(message) => message,
        None => String::from_utf8_lossy(raw).into_owned(),
    };
    let text = one_line(&strip_tags(&text), MAX_MESSAGE);
    if text.is_empty() {
        "no message".to_string()
    } else {
        text
    }
}

/// An HTML error page (a proxy's) as its text.
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_of_nova_keystone_and_plain_bodies() {
        let nova = json!({"badRequest": {"message": "Service is in use", "code": 400}});
        assert_eq!(service_message(&nova, b""), "Service is in use");
        let keystone = json!({"error": {"message": "The request you have made requires authentication.", "code": 401}});
        assert!(service_message(&keystone, b"").starts_with("The request you"));
        assert_eq!(
            service_message(&Value::Null, b"<html><h1>502 Bad\nGateway</h1></html>"),
            "502 Bad Gateway"
        );
        assert_eq!(service_message(&Value::Null, b""), "no message");
        assert_eq!(one_line(&"x".repeat(400), 10), "xxxxxxxxxx...");
    }
}
