//! The five roles a person can hold in Vouch.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A role. What each role may do is one table in `vouch-app` (`authz`); this type only names them.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    ComplianceLead,
    ControlOwner,
    Employee,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::ComplianceLead,
        Role::ControlOwner,
        Role::Employee,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::ComplianceLead => "compliance_lead",
            Role::ControlOwner => "control_owner",
            Role::Employee => "employee",
            Role::Auditor => "auditor",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::ComplianceLead => "Compliance lead",
            Role::ControlOwner => "Control owner",
            Role::Employee => "Employee",
            Role::Auditor => "Auditor",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Role::Admin => "Configures Vouch: users, roles, sign-in, API tokens and settings.",
            Role::ComplianceLead => {
                "Runs the programme: scope, criteria, controls, readiness and the audit."
            }
            Role::ControlOwner => {
                "Operates the controls they own: fixes failing tests and uploads evidence."
            }
            Role::Employee => "Reads and acknowledges policies and sees their own status.",
            Role::Auditor => "Reads one engagement, read-only and time-boxed.",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "unknown role '{0}': expected one of admin, compliance_lead, control_owner, employee, auditor"
)]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }
}
