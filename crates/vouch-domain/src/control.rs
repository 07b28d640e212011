//! The organisation's own controls: adopted from the library or written by hand, each owned,
//! scheduled and mapped to criteria. (The shipped starter set is in [`crate::controls`].)
use crate::controls::{Frequency, LibraryControl, Nature};
use crate::criteria::Catalog;
use crate::validate::FieldError;
use serde::{Deserialize, Serialize};

/// Where a control came from.
pub const SOURCE_LIBRARY: &str = "library";
pub const SOURCE_CUSTOM: &str = "custom";

/// A control as stored and shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Control {
    pub id: String,
    pub name: String,
    pub description: String,
    pub domain: String,
    /// The kind of person who should own it (e.g. `security_lead`), from the library.
    pub owner_role: String,
    /// The person who owns it (a user id).
    pub owner_id: Option<String>,
    pub backup_owner_id: Option<String>,
    pub frequencies: Vec<Frequency>,
    pub nature: Nature,
    pub evidence: Vec<String>,
    pub criteria: Vec<String>,
    pub applicable: bool,
    /// Why it does not apply; required when `applicable` is false.
    pub na_justification: Option<String>,
    /// `library` or `custom`.
    pub source: String,
    pub created_at: String,
    pub updated_at: String,
}

/// The editable part of a control: what a person or an import provides.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlInput {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub domain: String,
    #[serde(default)]
    pub owner_role: String,
    pub frequencies: Vec<Frequency>,
    pub nature: Nature,
    #[serde(default)]
    pub evidence: Vec<String>,
    #[serde(default)]
    pub criteria: Vec<String>,
}

impl ControlInput {
    pub fn from_library(c: &LibraryControl) -> ControlInput {
        ControlInput {
            id: c.id.clone(),
            name: c.name.clone(),
            description: c.description.clone(),
            domain: c.domain.clone(),
            owner_role: c.owner_role.clone(),
            frequencies: c.frequencies.clone(),
            nature: c.nature,
            evidence: c.evidence.clone(),
            criteria: c.criteria.clone(),
        }
    }
}

/// Control ids are short and stable (they appear in the auditor's matrix): letters, digits
/// and hyphens, starting with a letter, at most 20 characters. Stored upper-case.
pub fn normalize_id(raw: &str) -> Result<String, String> {
    let id = raw.trim().to_uppercase();
    let ok = !id.is_empty()
        && id.len() <= 20
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if ok {
        Ok(id)
    } else {
        Err(format!(
            "'{}' is not a control id: use letters, digits and hyphens, starting with a letter (e.g. IAM-03)",
            raw.trim()
        ))
    }
}

impl ControlInput {
    /// Checks and normalises the input; every problem at once, each naming its field.
    /// Criterion ids are matched to the catalog's spelling.
    pub fn validate(mut self, catalog: &Catalog) -> Result<ControlInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        match normalize_id(&self.id) {
            Ok(id) => self.id = id,
            Err(m) => errors.push(FieldError::new("id", m)),
        }
        self.name = self.name.trim().to_string();
        if self.name.is_empty() {
            errors.push(FieldError::new("name", "is required"));
        } else if self.name.chars().count() > 200 {
            errors.push(FieldError::new("name", "must be at most 200 characters"));
        }
        self.description = self.description.trim().to_string();
        if self.description.chars().count() > 10_000 {
            errors.push(FieldError::new(
                "description",
                "must be at most 10,000 characters",
            ));
        }
        if self.frequencies.is_empty() {
            errors.push(FieldError::new(
                "frequencies",
                "name at least one frequency",
            ));
        }
        self.frequencies.sort();
        self.frequencies.dedup();
        let mut criteria = Vec::new();
        for raw in &self.criteria {
            match catalog.get(raw.trim()) {
                Some(c) if !criteria.contains(&c.id) => criteria.push(c.id.clone()),
                Some(_) => {}
                None => errors.push(FieldError::new(
                    "criteria",
                    format!("'{}' is not a SOC 2 criterion id", raw.trim()),
                )),
            }
        }
        criteria.sort();
        self.criteria = criteria;
        self.evidence = self
            .evidence
            .iter()
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty())
            .collect();
        if self.domain.trim().is_empty() {
            self.domain = "Custom".into();
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ControlInput {
        ControlInput {
            id: " iam-99 ".into(),
            name: " Badge access review ".into(),
            description: "Quarterly review of office badge access.".into(),
            domain: String::new(),
            owner_role: "it_admin".into(),
            frequencies: vec![Frequency::Quarterly, Frequency::Quarterly],
            nature: Nature::Manual,
            evidence: vec!["review export".into(), " ".into()],
            criteria: vec!["cc6.4".into(), "CC6.4".into()],
        }
    }

    #[test]
    fn input_is_normalised() {
        let v = input().validate(crate::criteria::soc2()).unwrap();
        assert_eq!(v.id, "IAM-99");
        assert_eq!(v.name, "Badge access review");
        assert_eq!(v.frequencies, vec![Frequency::Quarterly]);
        assert_eq!(v.criteria, vec!["CC6.4".to_string()]);
        assert_eq!(v.evidence, vec!["review export".to_string()]);
        assert_eq!(v.domain, "Custom");
    }

    #[test]
    fn every_problem_is_reported() {
        let mut bad = input();
        bad.id = "9 lives".into();
        bad.name = " ".into();
        bad.frequencies.clear();
        bad.criteria = vec!["CC99.1".into()];
        let errs = bad.validate(crate::criteria::soc2()).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["id", "name", "frequencies", "criteria"]);
        assert!(errs[3].message.contains("CC99.1"));
    }

    #[test]
    fn library_controls_are_valid_inputs() {
        let lib = crate::controls::soc2_starter();
        for c in &lib.controls {
            assert!(
                ControlInput::from_library(c)
                    .validate(crate::criteria::soc2())
                    .is_ok(),
                "{}",
                c.id
            );
        }
    }
}
