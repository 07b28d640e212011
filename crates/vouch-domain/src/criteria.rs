//! The SOC 2 Trust Services Criteria, shipped as data under `content/criteria/` and embedded in
//! the binary at compile time (so a single binary carries them; nothing is read at run time).
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// The five trust services categories. Security is always in scope.
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
pub enum Category {
    Security,
    Availability,
    Confidentiality,
    ProcessingIntegrity,
    Privacy,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Security,
        Category::Availability,
        Category::Confidentiality,
        Category::ProcessingIntegrity,
        Category::Privacy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Security => "security",
            Category::Availability => "availability",
            Category::Confidentiality => "confidentiality",
            Category::ProcessingIntegrity => "processing_integrity",
            Category::Privacy => "privacy",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Category::Security => "Security",
            Category::Availability => "Availability",
            Category::Confidentiality => "Confidentiality",
            Category::ProcessingIntegrity => "Processing integrity",
            Category::Privacy => "Privacy",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// One criterion: id and category are facts; title and summary are Vouch's own words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub id: String,
    pub category: Category,
    /// The group id, e.g. `CC6` or `P4`.
    pub group: String,
    pub group_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coso_principle: Option<u8>,
    pub title: String,
    pub summary: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub id: String,
    pub name: String,
    pub version: String,
}

/// A framework and its criteria, in the order the framework lists them.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub framework: Framework,
    #[serde(rename = "criterion")]
    pub criteria: Vec<Criterion>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("criteria file does not parse: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("criterion '{0}' appears twice")]
    Duplicate(String),
}

impl Catalog {
    /// Parses and checks a catalog from TOML text.
    pub fn from_toml(text: &str) -> Result<Catalog, CatalogError> {
        let cat: Catalog = toml::from_str(text)?;
        let mut seen = std::collections::HashSet::new();
        for c in &cat.criteria {
            if !seen.insert(c.id.as_str()) {
                return Err(CatalogError::Duplicate(c.id.clone()));
            }
        }
        Ok(cat)
    }

    pub fn get(&self, id: &str) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.id.eq_ignore_ascii_case(id))
    }

    pub fn in_category(&self, category: Category) -> impl Iterator<Item = &Criterion> {
        self.criteria.iter().filter(move |c| c.category == category)
    }
}

const SOC2_TOML: &str = include_str!("../../../content/criteria/soc2-2017.toml");

/// The shipped SOC 2 (2017, points of focus revised 2022) catalog.
pub fn soc2() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        // The file is part of the binary and checked by the tests below; a parse failure here
        // is a build defect, not a user error.
        Catalog::from_toml(SOC2_TOML).expect("content/criteria/soc2-2017.toml is valid")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_catalog_has_the_61_criteria_by_category() {
        let c = soc2();
        assert_eq!(c.criteria.len(), 61);
        let count = |cat| c.in_category(cat).count();
        assert_eq!(count(Category::Security), 33);
        assert_eq!(count(Category::Availability), 3);
        assert_eq!(count(Category::Confidentiality), 2);
        assert_eq!(count(Category::ProcessingIntegrity), 5);
        assert_eq!(count(Category::Privacy), 18);
        assert_eq!(c.get("cc6.1").unwrap().title, "Logical access architecture");
        assert!(
            c.criteria
                .iter()
                .all(|x| !x.title.is_empty() && !x.summary.is_empty())
        );
    }

    #[test]
    fn duplicates_and_unknown_fields_are_refused() {
        let one = "[[criterion]]\nid='X1.1'\ncategory='security'\ngroup='X1'\ngroup_name='x'\ntitle='t'\nsummary='s'\n";
        let head = "[framework]\nid='f'\nname='n'\nversion='v'\n";
        let dup = format!("{head}{one}{one}");
        assert!(matches!(
            Catalog::from_toml(&dup),
            Err(CatalogError::Duplicate(_))
        ));
        let unknown = format!("{head}{one}colour='red'\n");
        assert!(matches!(
            Catalog::from_toml(&unknown),
            Err(CatalogError::Parse(_))
        ));
    }
}
