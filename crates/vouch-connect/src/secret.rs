//! A secret (token, key, password) that never shows itself.
use std::fmt;

/// Holds a credential. `Debug` and `Display` print `[redacted]`, so a secret cannot reach a log
/// line or an error message by accident; [`Secret::expose`] is the one way to read it, and is
/// called only where the value goes on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Settings are read from what the app stored; a secret is a plain string there. There is no
/// `Serialize`: nothing in Vouch writes a secret back out through serde by accident.
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        <String as serde::Deserialize>::deserialize(d).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_its_value() {
        let s = Secret::new("ghp_abc123");
        assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
        assert_eq!(s.expose(), "ghp_abc123");
        assert!(Secret::new("  ").is_empty());
    }

    #[test]
    fn a_secret_reads_from_a_string() {
        let s: Secret = serde_json::from_str("\"ghp_abc123\"").unwrap();
        assert_eq!(s.expose(), "ghp_abc123");
        assert!(serde_json::from_str::<Secret>("12").is_err());
    }
}
