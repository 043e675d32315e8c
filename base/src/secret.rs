//! Secrets (passwords, keys, tokens, application-credential secrets) that cannot be printed by
//! accident. One type for fence agents and the OpenStack client alike, so a secret passed from one
//! to the other needs no conversion.

use std::fmt;

/// A password, key or token. Its Debug and Display never show the value, so it cannot leak into
/// a log line or an error message by accident.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that must send it (to a device, to Keystone).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_and_display_hide_the_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(secret.to_string(), "***");
        // a secret inside a larger structure stays hidden too
        assert!(!format!("{:?}", Some(&secret)).contains("hunter2"));
    }

    #[test]
    fn expose_gives_the_value_back() {
        let secret = Secret::new(String::from("s3cret"));
        assert_eq!(secret.expose(), "s3cret");
        assert!(!secret.is_empty());
        assert!(Secret::default().is_empty());
    }
}
