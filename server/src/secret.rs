//! `Secret<T>`: a value that must never reach a log line, an error message or
//! a `{:?}` of the struct holding it (the database password, the Keycloak
//! client secret, session and ID tokens, authorization codes).

use std::fmt;

use serde::{Deserialize, Deserializer};

/// Debug and Display print `[redacted]`. The value comes out only through
/// `expose()`, so every use of a secret is a visible, searchable call.
/// There is deliberately no `Serialize`: a secret is never sent back out by
/// accident, and no `PartialEq`: comparing secrets is a job for hashes.
#[derive(Clone)]
pub struct Secret<T>(T);

pub type SecretString = Secret<String>;

const REDACTED: &str = "[redacted]";

impl<T> Secret<T> {
    pub fn new(value: T) -> Secret<T> {
        Secret(value)
    }

    /// The value itself: only where it is handed to the one party that needs it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Secret<T> {
        Secret(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Query strings and forms carry secrets too (the authorization code, the
/// back-channel logout token): they are wrapped as they are read.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Secret<T>, D::Error> {
        T::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = SecretString::from("hunter2".to_string());
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(format!("{s:#?}"), "[redacted]");
        assert_eq!(format!("{s}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some([redacted])");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn deserializes_the_wrapped_value() {
        #[derive(Deserialize)]
        struct Form {
            token: SecretString,
        }
        let form: Form = serde_json::from_str(r#"{"token":"abc"}"#).expect("form");
        assert_eq!(form.token.expose(), "abc");
    }
}
