//! The shipped control library: a starter set of SOC 2 controls, each mapped to the criteria in
//! [`crate::criteria`]. Shipped as data under `content/controls/` and embedded in the binary at
//! compile time (nothing is read at run time).
//!
//! Parsing is done in two steps so that every problem can name the control it is in: the text
//! is first read as plain TOML, then each `[[control]]` table is decoded and checked on its own.
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::OnceLock;

/// How often a control operates. A control may list several (e.g. at hire and yearly).
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
pub enum Frequency {
    Continuous,
    Daily,
    Weekly,
    Monthly,
    Quarterly,
    Annual,
    /// Runs when something happens (a hire, a leaver, a change, an incident).
    PerEvent,
}

impl Frequency {
    pub const ALL: [Frequency; 7] = [
        Frequency::Continuous,
        Frequency::Daily,
        Frequency::Weekly,
        Frequency::Monthly,
        Frequency::Quarterly,
        Frequency::Annual,
        Frequency::PerEvent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Continuous => "continuous",
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
            Frequency::Quarterly => "quarterly",
            Frequency::Annual => "annual",
            Frequency::PerEvent => "per_event",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Frequency::Continuous => "Continuous",
            Frequency::Daily => "Daily",
            Frequency::Weekly => "Weekly",
            Frequency::Monthly => "Monthly",
            Frequency::Quarterly => "Quarterly",
            Frequency::Annual => "Annual",
            Frequency::PerEvent => "Per event",
        }
    }

    /// Parses the stored form (`per_event`); the hyphenated `per-event` is accepted as well.
    pub fn parse(s: &str) -> Option<Frequency> {
        let s = if s == "per-event" { "per_event" } else { s };
        Frequency::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// Whether a control is run by a system, by people, or both (drives the sampling rule).
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
pub enum Nature {
    Automated,
    Manual,
    Hybrid,
}

impl Nature {
    pub const ALL: [Nature; 3] = [Nature::Automated, Nature::Manual, Nature::Hybrid];

    pub fn as_str(self) -> &'static str {
        match self {
            Nature::Automated => "automated",
            Nature::Manual => "manual",
            Nature::Hybrid => "hybrid",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Nature::Automated => "Automated",
            Nature::Manual => "Manual",
            Nature::Hybrid => "Hybrid",
        }
    }

    pub fn parse(s: &str) -> Option<Nature> {
        Nature::ALL.into_iter().find(|n| n.as_str() == s)
    }
}

/// The role that owns a control, e.g. `security_lead`. Kept as a plain string.
pub type OwnerRole = String;

/// The owner roles a library control may name.
pub const OWNER_ROLES: [&str; 10] = [
    "executive",
    "security_lead",
    "compliance_lead",
    "engineering_lead",
    "devops_sre",
    "it_admin",
    "hr_lead",
    "legal_privacy",
    "people_manager",
    "system_owner",
];

/// One control of a library. Ids, criterion ids and enum values are facts; name, description
/// and evidence are Vouch's own words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LibraryControl {
    /// e.g. `IAM-03`.
    pub id: String,
    /// The name of the id prefix's domain, e.g. `Identity & access`.
    pub domain: String,
    pub name: String,
    pub description: String,
    pub owner_role: OwnerRole,
    pub frequencies: Vec<Frequency>,
    pub nature: Nature,
    /// Typical evidence, one item per entry.
    pub evidence: Vec<String>,
    /// Criterion ids from [`crate::criteria::soc2`], e.g. `CC6.1`.
    pub criteria: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LibraryInfo {
    pub id: String,
    pub name: String,
    pub version: String,
}

/// A control library and its controls, in file order.
#[derive(Clone, Debug, Serialize)]
pub struct ControlLibrary {
    pub library: LibraryInfo,
    #[serde(rename = "control")]
    pub controls: Vec<LibraryControl>,
}

#[derive(Debug, thiserror::Error)]
pub enum ControlLibraryError {
    #[error("control library does not parse: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("control library: {0}")]
    Library(String),
    #[error("control '{id}': {problem}")]
    Control { id: String, problem: String },
}

impl ControlLibraryError {
    fn control(id: &str, problem: impl Into<String>) -> Self {
        ControlLibraryError::Control {
            id: id.to_string(),
            problem: problem.into(),
        }
    }

    /// The id of the control the error is about, when it is about one.
    pub fn control_id(&self) -> Option<&str> {
        match self {
            ControlLibraryError::Control { id, .. } => Some(id),
            _ => None,
        }
    }
}

/// `^[A-Z]{2,3}-\d{2}$`
fn valid_control_id(id: &str) -> bool {
    match id.split_once('-') {
        Some((prefix, number)) => {
            (2..=3).contains(&prefix.len())
                && prefix.bytes().all(|b| b.is_ascii_uppercase())
                && number.len() == 2
                && number.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

impl ControlLibrary {
    /// Parses and checks a control library from TOML text. Criterion ids are checked against
    /// the shipped SOC 2 catalog.
    pub fn from_toml(text: &str) -> Result<ControlLibrary, ControlLibraryError> {
        let mut root: toml::Table = toml::from_str(text)?;

        let library = root
            .remove("library")
            .ok_or_else(|| ControlLibraryError::Library("missing [library] table".into()))?;
        let library: LibraryInfo = library
            .try_into()
            .map_err(|e| ControlLibraryError::Library(format!("[library]: {e}")))?;
        for (field, value) in [
            ("id", &library.id),
            ("name", &library.name),
            ("version", &library.version),
        ] {
            if blank(value) {
                return Err(ControlLibraryError::Library(format!(
                    "[library] {field} is empty"
                )));
            }
        }

        let raw = match root.remove("control") {
            Some(toml::Value::Array(items)) => items,
            Some(_) => {
                return Err(ControlLibraryError::Library(
                    "'control' must be an array of tables ([[control]])".into(),
                ));
            }
            None => Vec::new(),
        };
        if let Some(key) = root.keys().next() {
            return Err(ControlLibraryError::Library(format!(
                "unknown top-level key '{key}' (expected [library] and [[control]])"
            )));
        }
        if raw.is_empty() {
            return Err(ControlLibraryError::Library(
                "no [[control]] entries".into(),
            ));
        }

        let catalog = crate::criteria::soc2();
        let mut seen = HashSet::new();
        let mut controls = Vec::with_capacity(raw.len());
        for (index, item) in raw.into_iter().enumerate() {
            // Name the control by its id when it has one, else by its position.
            let label = item
                .get("id")
                .and_then(|v| v.as_str())
                .filter(|s| !blank(s))
                .map(str::to_string)
                .unwrap_or_else(|| format!("#{} (no id)", index + 1));
            let c: LibraryControl = item
                .try_into()
                .map_err(|e: toml::de::Error| ControlLibraryError::control(&label, e.message()))?;
            let err = |problem: String| ControlLibraryError::control(&c.id, problem);

            if !valid_control_id(&c.id) {
                return Err(err(
                    "id must look like 'ABC-01' (2-3 capital letters, a dash, 2 digits)".into(),
                ));
            }
            if !seen.insert(c.id.clone()) {
                return Err(err("id appears twice".into()));
            }
            for (field, value) in [
                ("domain", &c.domain),
                ("name", &c.name),
                ("description", &c.description),
            ] {
                if blank(value) {
                    return Err(err(format!("{field} is empty")));
                }
            }
            if !OWNER_ROLES.contains(&c.owner_role.as_str()) {
                return Err(err(format!(
                    "unknown owner_role '{}' (expected one of: {})",
                    c.owner_role,
                    OWNER_ROLES.join(", ")
                )));
            }
            if c.frequencies.is_empty() {
                return Err(err("frequencies is empty".into()));
            }
            if c.evidence.iter().any(|e| blank(e)) {
                return Err(err("evidence has an empty item".into()));
            }
            if c.criteria.is_empty() {
                return Err(err("criteria is empty".into()));
            }
            let mut crit_seen = HashSet::new();
            for id in &c.criteria {
                if !catalog.criteria.iter().any(|k| &k.id == id) {
                    return Err(err(format!(
                        "unknown criterion '{id}' (not in {})",
                        catalog.framework.id
                    )));
                }
                if !crit_seen.insert(id.as_str()) {
                    return Err(err(format!("criterion '{id}' is listed twice")));
                }
            }
            controls.push(c);
        }

        Ok(ControlLibrary { library, controls })
    }

    /// The control with this id (case-insensitive).
    pub fn get(&self, id: &str) -> Option<&LibraryControl> {
        self.controls.iter().find(|c| c.id.eq_ignore_ascii_case(id))
    }

    /// The controls mapped to a criterion (case-insensitive id), in library order.
    pub fn for_criterion<'a>(
        &'a self,
        criterion_id: &'a str,
    ) -> impl Iterator<Item = &'a LibraryControl> + 'a {
        self.controls.iter().filter(move |c| {
            c.criteria
                .iter()
                .any(|k| k.eq_ignore_ascii_case(criterion_id))
        })
    }
}

const SOC2_STARTER_TOML: &str = include_str!("../../../content/controls/soc2-starter.toml");

/// The shipped starter SOC 2 control library.
pub fn soc2_starter() -> &'static ControlLibrary {
    static LIBRARY: OnceLock<ControlLibrary> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        // The file is part of the binary and checked by the tests below; a failure here is a
        // build defect, not a user error.
        ControlLibrary::from_toml(SOC2_STARTER_TOML)
            .expect("content/controls/soc2-starter.toml is valid")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::criteria::{self, Category};

    #[test]
    fn shipped_library_has_the_starter_controls() {
        let lib = soc2_starter();
        assert_eq!(lib.library.id, "vouch-soc2-starter");
        assert_eq!(lib.library.version, "2026.11");
        assert!(lib.controls.len() >= 100);
        assert_eq!(lib.controls.len(), 120);
        let nature = |n| lib.controls.iter().filter(|c| c.nature == n).count();
        assert_eq!(nature(Nature::Manual), 59);
        assert_eq!(nature(Nature::Automated), 41);
        assert_eq!(nature(Nature::Hybrid), 20);

        let iam03 = lib.get("iam-03").unwrap();
        assert_eq!(iam03.domain, "Identity & access");
        assert_eq!(iam03.owner_role, "it_admin");
        assert_eq!(iam03.frequencies, vec![Frequency::Continuous]);
        assert_eq!(iam03.criteria, vec!["CC6.1", "CC6.6"]);
        let gov02 = lib.get("GOV-02").unwrap();
        assert_eq!(
            gov02.frequencies,
            vec![Frequency::PerEvent, Frequency::Annual]
        );
        assert_eq!(gov02.evidence.len(), 2);
    }

    #[test]
    fn shipped_ids_are_unique_and_well_formed() {
        let lib = soc2_starter();
        let ids: HashSet<_> = lib.controls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), lib.controls.len());
        assert!(lib.controls.iter().all(|c| valid_control_id(&c.id)));
    }

    #[test]
    fn every_criterion_is_covered() {
        let lib = soc2_starter();
        let cat = criteria::soc2();
        assert_eq!(cat.criteria.len(), 61);
        let uncovered: Vec<_> = cat
            .criteria
            .iter()
            .filter(|k| lib.for_criterion(&k.id).next().is_none())
            .map(|k| k.id.as_str())
            .collect();
        assert!(uncovered.is_empty(), "uncovered criteria: {uncovered:?}");
        for category in Category::ALL {
            assert!(cat.in_category(category).count() > 0);
        }
        let cc12: Vec<_> = lib.for_criterion("cc1.2").map(|c| c.id.as_str()).collect();
        assert_eq!(cc12, vec!["GOV-04"]);
    }

    #[test]
    fn frequency_and_nature_round_trip() {
        for f in Frequency::ALL {
            assert_eq!(Frequency::parse(f.as_str()), Some(f));
            assert!(!f.label().is_empty());
        }
        assert_eq!(Frequency::parse("per-event"), Some(Frequency::PerEvent));
        assert_eq!(Frequency::parse("hourly"), None);
        for n in Nature::ALL {
            assert_eq!(Nature::parse(n.as_str()), Some(n));
        }
        assert_eq!(Nature::parse("magic"), None);
    }

    const HEAD: &str = "[library]\nid='l'\nname='n'\nversion='v'\n";

    fn control(id: &str, extra: &str) -> String {
        format!(
            "[[control]]\nid='{id}'\ndomain='Governance'\nname='n'\ndescription='d'\n\
             owner_role='security_lead'\nfrequencies=['annual']\nnature='manual'\n\
             evidence=['e']\ncriteria=['CC1.1']\n{extra}"
        )
    }

    fn refused(text: &str) -> ControlLibraryError {
        ControlLibrary::from_toml(text).expect_err("should be refused")
    }

    #[test]
    fn a_minimal_library_parses() {
        let lib = ControlLibrary::from_toml(&format!("{HEAD}{}", control("GOV-01", ""))).unwrap();
        assert_eq!(lib.controls.len(), 1);
    }

    #[test]
    fn duplicate_id_names_the_control() {
        let e = refused(&format!(
            "{HEAD}{}{}",
            control("GOV-01", ""),
            control("GOV-01", "")
        ));
        assert_eq!(e.control_id(), Some("GOV-01"));
        assert_eq!(e.to_string(), "control 'GOV-01': id appears twice");
    }

    #[test]
    fn unknown_criterion_names_the_control() {
        let text = format!(
            "{HEAD}{}",
            control("GOV-01", "").replace("'CC1.1'", "'CC1.1','CC9.9'")
        );
        let e = refused(&text);
        assert_eq!(e.control_id(), Some("GOV-01"));
        assert!(e.to_string().contains("unknown criterion 'CC9.9'"), "{e}");
    }

    #[test]
    fn unknown_frequency_names_the_control() {
        let text = format!(
            "{HEAD}{}",
            control("GOV-02", "").replace("['annual']", "['hourly']")
        );
        let e = refused(&text);
        assert_eq!(e.control_id(), Some("GOV-02"));
        let msg = e.to_string();
        assert!(msg.starts_with("control 'GOV-02':"), "{msg}");
        assert!(msg.contains("hourly"), "{msg}");
        // The data form is per_event; the reference's hyphenated spelling is refused.
        let text = format!(
            "{HEAD}{}",
            control("GOV-02", "").replace("['annual']", "['per-event']")
        );
        assert_eq!(refused(&text).control_id(), Some("GOV-02"));
    }

    #[test]
    fn unknown_field_names_the_control() {
        let e = refused(&format!("{HEAD}{}", control("GOV-03", "colour='red'\n")));
        assert_eq!(e.control_id(), Some("GOV-03"));
        assert!(e.to_string().contains("colour"), "{e}");
        // Unknown fields elsewhere are refused too.
        let e = refused(&format!("{HEAD}extra=1\n{}", control("GOV-03", "")));
        assert!(matches!(e, ControlLibraryError::Library(_)), "{e}");
        let e = refused(&format!("{HEAD}{}\n[other]\nx=1\n", control("GOV-03", "")));
        assert!(matches!(e, ControlLibraryError::Library(_)), "{e}");
    }

    #[test]
    fn bad_ids_and_empty_fields_are_refused() {
        for bad in ["gov-01", "GOVX-01", "G-01", "GOV-1", "GOV-001", "GOV01"] {
            let e = refused(&format!("{HEAD}{}", control(bad, "")));
            assert_eq!(e.control_id(), Some(bad));
            assert!(e.to_string().contains("id must look like"), "{e}");
        }
        let empty_criteria = format!("{HEAD}{}", control("GOV-04", "").replace("['CC1.1']", "[]"));
        assert_eq!(
            refused(&empty_criteria).to_string(),
            "control 'GOV-04': criteria is empty"
        );
        let empty_freq = format!(
            "{HEAD}{}",
            control("GOV-05", "").replace("['annual']", "[]")
        );
        assert_eq!(
            refused(&empty_freq).to_string(),
            "control 'GOV-05': frequencies is empty"
        );
        let empty_name = format!(
            "{HEAD}{}",
            control("GOV-06", "").replace("name='n'", "name=' '")
        );
        assert_eq!(
            refused(&empty_name).to_string(),
            "control 'GOV-06': name is empty"
        );
        let bad_owner = format!(
            "{HEAD}{}",
            control("GOV-07", "").replace("'security_lead'", "'janitor'")
        );
        assert_eq!(refused(&bad_owner).control_id(), Some("GOV-07"));
        let missing_field = format!(
            "{HEAD}{}",
            control("GOV-08", "").replace("description='d'\n", "")
        );
        let e = refused(&missing_field);
        assert_eq!(e.control_id(), Some("GOV-08"));
        assert!(e.to_string().contains("description"), "{e}");
    }
}
