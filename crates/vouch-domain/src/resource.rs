//! Resources: typed facts collected from systems (people from the HR roster, accounts, devices,
//! repositories, vulnerabilities, findings, …).
//!
//! A [`Resource`] is identified by its kind, the system it came from and a stable natural key
//! (an email for a person, an ARN for an AWS account, `github:org/repo` for a repository). Its
//! attributes are kept as JSON values, as the collector or importer found them, normalised.
//! Versioning (first seen, last seen, `deleted_at`) is the store's business, not this type's.
//!
//! Pure: no IO, no clock.
use serde::{Deserialize, Serialize};
use std::fmt;

/// What sort of thing a resource is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Person,
    Account,
    GroupMembership,
    Device,
    Repository,
    BranchProtection,
    PullRequest,
    CloudResource,
    Vulnerability,
    Finding,
    /// A completed security-training course (from an LMS or the generic importer).
    TrainingRecord,
    /// A pre-employment screening result.
    BackgroundCheck,
    /// A person's acceptance of one version of a policy.
    PolicyAcceptance,
    /// A completed user-access review of one system.
    AccessReview,
    /// A third party the organisation relies on.
    Vendor,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 15] = [
        ResourceKind::Person,
        ResourceKind::Account,
        ResourceKind::GroupMembership,
        ResourceKind::Device,
        ResourceKind::Repository,
        ResourceKind::BranchProtection,
        ResourceKind::PullRequest,
        ResourceKind::CloudResource,
        ResourceKind::Vulnerability,
        ResourceKind::Finding,
        ResourceKind::TrainingRecord,
        ResourceKind::BackgroundCheck,
        ResourceKind::PolicyAcceptance,
        ResourceKind::AccessReview,
        ResourceKind::Vendor,
    ];

    /// The stored form, the same as serde's: `person`, `group_membership`, …
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Person => "person",
            ResourceKind::Account => "account",
            ResourceKind::GroupMembership => "group_membership",
            ResourceKind::Device => "device",
            ResourceKind::Repository => "repository",
            ResourceKind::BranchProtection => "branch_protection",
            ResourceKind::PullRequest => "pull_request",
            ResourceKind::CloudResource => "cloud_resource",
            ResourceKind::Vulnerability => "vulnerability",
            ResourceKind::Finding => "finding",
            ResourceKind::TrainingRecord => "training_record",
            ResourceKind::BackgroundCheck => "background_check",
            ResourceKind::PolicyAcceptance => "policy_acceptance",
            ResourceKind::AccessReview => "access_review",
            ResourceKind::Vendor => "vendor",
        }
    }

    /// The stored form back; also accepts surrounding spaces, any case, and `-` or a space for
    /// `_` (`Pull request`, `cloud-resource`). `None` for anything else.
    pub fn parse(s: &str) -> Option<ResourceKind> {
        let k: String = s
            .trim()
            .chars()
            .map(|c| match c {
                '-' | ' ' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        ResourceKind::ALL.into_iter().find(|r| r.as_str() == k)
    }

    /// Every stored form, comma separated, for error messages.
    pub fn list() -> String {
        ResourceKind::ALL.map(ResourceKind::as_str).join(", ")
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest key or system name accepted, in bytes.
pub const MAX_KEY_LEN: usize = 1024;

/// One fact about one thing in one system.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub kind: ResourceKind,
    /// Where it came from: `hr`, `aws`, `github`, `trivy`, …
    pub system: String,
    /// The stable natural key within (kind, system).
    pub key: String,
    #[serde(default)]
    pub attrs: serde_json::Map<String, serde_json::Value>,
}

/// What is wrong with a resource.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResourceError {
    #[error("the key is empty")]
    EmptyKey,
    #[error("the system is empty")]
    EmptySystem,
    #[error("the {field} contains a control character")]
    ControlChar { field: &'static str },
    #[error("the {field} is longer than {MAX_KEY_LEN} bytes")]
    TooLong { field: &'static str },
}

impl Resource {
    pub fn new(kind: ResourceKind, system: impl Into<String>, key: impl Into<String>) -> Resource {
        Resource {
            kind,
            system: system.into(),
            key: key.into(),
            attrs: serde_json::Map::new(),
        }
    }

    /// Sets one attribute (builder style).
    pub fn with(mut self, name: &str, value: impl Into<serde_json::Value>) -> Resource {
        self.attrs.insert(name.to_string(), value.into());
        self
    }

    /// Sets one attribute if there is a value; leaves it out otherwise.
    pub fn with_opt<V: Into<serde_json::Value>>(self, name: &str, value: Option<V>) -> Resource {
        match value {
            Some(v) => self.with(name, v),
            None => self,
        }
    }

    /// Checks the identity: a non-blank key and system, no control characters, not too long.
    /// Attribute values are data and may hold anything JSON can.
    pub fn validate(&self) -> Result<(), ResourceError> {
        check_text(&self.system, "system", ResourceError::EmptySystem)?;
        check_text(&self.key, "key", ResourceError::EmptyKey)
    }
}

fn check_text(s: &str, field: &'static str, empty: ResourceError) -> Result<(), ResourceError> {
    if s.trim().is_empty() {
        return Err(empty);
    }
    if s.chars().any(char::is_control) {
        return Err(ResourceError::ControlChar { field });
    }
    if s.len() > MAX_KEY_LEN {
        return Err(ResourceError::TooLong { field });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_round_trips_through_as_str_parse_and_serde() {
        for k in ResourceKind::ALL {
            assert_eq!(ResourceKind::parse(k.as_str()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            assert_eq!(serde_json::from_str::<ResourceKind>(&json).unwrap(), k);
        }
        assert_eq!(
            ResourceKind::parse(" Pull request "),
            Some(ResourceKind::PullRequest)
        );
        assert_eq!(
            ResourceKind::parse("cloud-resource"),
            Some(ResourceKind::CloudResource)
        );
        assert_eq!(ResourceKind::parse("bucket"), None);
        assert_eq!(ResourceKind::parse(""), None);
        assert!(ResourceKind::list().starts_with("person, account, group_membership"));
    }

    #[test]
    fn validate_rejects_blank_keys_control_characters_and_long_keys() {
        let ok = Resource::new(ResourceKind::Person, "hr", "ana@example.com").with("name", "Ana");
        assert_eq!(ok.validate(), Ok(()));
        assert_eq!(ok.attrs["name"], "Ana");
        let mut r = ok.clone();
        r.key = "  ".into();
        assert_eq!(r.validate(), Err(ResourceError::EmptyKey));
        r.key = "a\nb".into();
        assert_eq!(
            r.validate(),
            Err(ResourceError::ControlChar { field: "key" })
        );
        r.key = "x".repeat(MAX_KEY_LEN + 1);
        assert_eq!(r.validate(), Err(ResourceError::TooLong { field: "key" }));
        let mut s = ok.clone();
        s.system = String::new();
        assert_eq!(s.validate(), Err(ResourceError::EmptySystem));
        s.system = "h\u{7}r".into();
        assert_eq!(
            s.validate(),
            Err(ResourceError::ControlChar { field: "system" })
        );
    }

    #[test]
    fn resource_serialises_with_snake_case_kind_and_attrs() {
        let r = Resource::new(ResourceKind::GroupMembership, "github", "org/team:ana")
            .with_opt("role", Some("maintainer"))
            .with_opt::<&str>("missing", None);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["kind"], "group_membership");
        assert_eq!(v["attrs"]["role"], "maintainer");
        assert!(v["attrs"].get("missing").is_none());
        let back: Resource = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }
}
