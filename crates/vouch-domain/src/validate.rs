//! Small input rules shared by every entry point (UI, API, CLI).

/// A field-level validation problem: which field, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

pub const MIN_PASSWORD_LEN: usize = 12;
pub const MAX_PASSWORD_LEN: usize = 256;

/// Normalises and checks an email address. Deliberately modest: one `@`, a dot in the domain,
/// no spaces or control characters. Real verification happens by sign-in.
pub fn email(field: &str, raw: &str) -> Result<String, FieldError> {
    let e = raw.trim().to_lowercase();
    let bad = || FieldError::new(field, format!("'{}' is not an email address", raw.trim()));
    if e.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if e.len() > 254 || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = e.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err(bad());
    }
    Ok(e)
}

/// A person's display name: required, trimmed, no control characters, at most 200 characters.
pub fn name(field: &str, raw: &str) -> Result<String, FieldError> {
    let n = raw.trim();
    if n.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if n.chars().count() > 200 {
        return Err(FieldError::new(field, "must be at most 200 characters"));
    }
    if n.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(n.to_string())
}

/// Password length rules (NIST 800-63B style: length over composition rules).
pub fn password(field: &str, raw: &str) -> Result<(), FieldError> {
    let n = raw.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(FieldError::new(
            field,
            format!("must be at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    if n > MAX_PASSWORD_LEN {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_PASSWORD_LEN} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            email("email", "  Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        for bad in [
            "", "ada", "ada@", "@x.io", "a b@x.io", "a@x", "a@@x.io", "a@x.io.",
        ] {
            assert!(email("email", bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(password("password", "short").is_err());
        assert!(password("password", "long enough passphrase").is_ok());
    }
}
