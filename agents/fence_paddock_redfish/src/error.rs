//! Errors of the Redfish client. Every message is one line and never holds a secret.

/// The client's errors are the framework's: the same kinds (config, auth, timeout, device,
/// unsupported), so they pass through unchanged.
pub use stonith::FenceError as Error;

/// Collapse whitespace and cut to a reasonable length, so that text from the device fits one line.
pub fn one_line(text: &str, max_chars: usize) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= max_chars {
        joined
    } else {
        let cut: String = joined.chars().take(max_chars).collect();
        format!("{cut}...")
    }
}

/// The human part of a Redfish error body: `error.@Message.ExtendedInfo[].Message`, else
/// `error.message`. None when the body holds neither.
pub fn extended_message(body: &serde_json::Value) -> Option<String> {
    let error = body.get("error")?;
    let extended: Vec<String> = error
        .get("@Message.ExtendedInfo")
        .and_then(|v| v.as_array())
        .map(|infos| {
            infos
                .iter()
                .filter_map(|info| {
                    let message = info.get("Message").and_then(|m| m.as_str())?;
                    match info.get("MessageId").and_then(|m| m.as_str()) {
                        Some(id) => Some(format!("{message} ({id})")),
                        None => Some(message.to_string()),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let text = if extended.is_empty() {
        error.get("message").and_then(|m| m.as_str())?.to_string()
    } else {
        extended.join("; ")
    };
    Some(one_line(&text, 300))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extended_info_messages_are_joined_with_their_ids() {
        let body = json!({"error": {"code": "Base.1.8.GeneralError", "message": "general",
        "@Message.ExtendedInfo": [
            {"MessageId": "Base.1.8.ActionNotSupported", "Message": "The action is\nnot supported."},
            {"Message": "Try later."}
        ]}});
        assert_eq!(
            extended_message(&body).as_deref(),
            Some("The action is not supported. (Base.1.8.ActionNotSupported); Try later.")
        );
    }

    #[test]
    fn plain_message_is_used_without_extended_info() {
        let body = json!({"error": {"message": "Authentication failed", "code": 401}});
        assert_eq!(
            extended_message(&body).as_deref(),
            Some("Authentication failed")
        );
        assert_eq!(extended_message(&json!({"Id": "1"})), None);
    }

    #[test]
    fn long_text_is_cut() {
        assert_eq!(one_line("a  b\n c", 10), "a b c");
        assert_eq!(one_line("abcdefghijkl", 5), "abcde...");
    }
}
