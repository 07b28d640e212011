//! The system under audit: what it is, where its boundaries are, which trust services
//! categories are in scope, and what the report covers. One document per deployment.
use crate::criteria::{Catalog, Category, Criterion};
use crate::validate::FieldError;
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportType {
    /// Design of controls as of one date.
    Type1,
    /// Design and operating effectiveness over a period.
    Type2,
}

/// A subservice organisation (e.g. the cloud provider) and how the report treats it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subservice {
    pub name: String,
    pub services: String,
    /// `carved_out` (their controls are excluded and relied on) or `inclusive`.
    pub method: String,
    /// Controls the organisation expects the subservice organisation to operate.
    #[serde(default)]
    pub expected_controls: Vec<String>,
}

/// A system component inside the boundary (infrastructure, software, data, people,
/// procedures), optionally naming the integration that observes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Component {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    pub system_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub components: Vec<Component>,
    /// Categories in scope besides security, which is always in scope.
    #[serde(default)]
    pub categories: Vec<Category>,
    pub report_type: ReportType,
    /// Type I: the as-of date.
    #[serde(default)]
    pub as_of: Option<Date>,
    /// Type II: the period.
    #[serde(default)]
    pub period_start: Option<Date>,
    #[serde(default)]
    pub period_end: Option<Date>,
    #[serde(default)]
    pub subservices: Vec<Subservice>,
    /// Controls the organisation expects its customers to operate (complementary user
    /// entity controls).
    #[serde(default)]
    pub customer_controls: Vec<String>,
}

impl Scope {
    /// Security only, Type II, nothing described yet: where a new deployment starts.
    pub fn initial(system_name: &str) -> Scope {
        Scope {
            system_name: system_name.to_string(),
            description: String::new(),
            services: vec![],
            components: vec![],
            categories: vec![Category::Security],
            report_type: ReportType::Type2,
            as_of: None,
            period_start: None,
            period_end: None,
            subservices: vec![],
            customer_controls: vec![],
        }
    }

    /// Whether a category counts: security always, the others when chosen.
    pub fn includes(&self, c: Category) -> bool {
        c == Category::Security || self.categories.contains(&c)
    }

    /// The criteria of the in-scope categories, in catalog order.
    pub fn criteria<'a>(
        &'a self,
        catalog: &'a Catalog,
    ) -> impl Iterator<Item = &'a Criterion> + 'a {
        catalog
            .criteria
            .iter()
            .filter(move |c| self.includes(c.category))
    }

    /// Every problem at once, each naming its field.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.system_name.trim().is_empty() {
            errors.push(FieldError::new("system_name", "is required"));
        }
        match self.report_type {
            ReportType::Type1 => {
                if self.as_of.is_none() {
                    errors.push(FieldError::new(
                        "as_of",
                        "a Type I report needs an as-of date",
                    ));
                }
            }
            ReportType::Type2 => match (self.period_start, self.period_end) {
                (Some(s), Some(e)) if e <= s => errors.push(FieldError::new(
                    "period_end",
                    format!("the period ends ({e}) on or before it starts ({s})"),
                )),
                (Some(_), None) => errors.push(FieldError::new(
                    "period_end",
                    "is required when the period has a start",
                )),
                (None, Some(_)) => errors.push(FieldError::new(
                    "period_start",
                    "is required when the period has an end",
                )),
                _ => {}
            },
        }
        for (i, s) in self.subservices.iter().enumerate() {
            if s.name.trim().is_empty() {
                errors.push(FieldError::new(
                    &format!("subservices[{i}].name"),
                    "is required",
                ));
            }
            if s.method != "carved_out" && s.method != "inclusive" {
                errors.push(FieldError::new(
                    &format!("subservices[{i}].method"),
                    format!("'{}' must be carved_out or inclusive", s.method),
                ));
            }
        }
        for (i, c) in self.components.iter().enumerate() {
            if c.name.trim().is_empty() {
                errors.push(FieldError::new(
                    &format!("components[{i}].name"),
                    "is required",
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn out_of_scope_categories_drop_out() {
        let mut s = Scope::initial("Lumen Platform");
        let catalog = crate::criteria::soc2();
        assert_eq!(s.criteria(catalog).count(), 33);
        s.categories = vec![Category::Availability, Category::Confidentiality];
        assert_eq!(s.criteria(catalog).count(), 38);
        assert!(
            s.includes(Category::Security),
            "security is always in scope"
        );
        assert!(!s.includes(Category::Privacy));
    }

    #[test]
    fn every_problem_is_named() {
        let mut s = Scope::initial(" ");
        s.period_start = Some(date!(2026 - 06 - 30));
        s.period_end = Some(date!(2026 - 01 - 01));
        s.subservices.push(Subservice {
            name: "AWS".into(),
            services: "hosting".into(),
            method: "excluded".into(),
            expected_controls: vec![],
        });
        let errs = s.validate().unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["system_name", "period_end", "subservices[0].method"]
        );

        let mut t1 = Scope::initial("x");
        t1.report_type = ReportType::Type1;
        assert_eq!(t1.validate().unwrap_err()[0].field, "as_of");
        t1.as_of = Some(date!(2026 - 09 - 30));
        assert!(t1.validate().is_ok());
    }
}

#[cfg(test)]
mod serde_tests {
    use super::*;

    #[test]
    fn dates_read_and_write_as_iso_text() {
        let json = r#"{"system_name":"Lumen","report_type":"type2","period_start":"2026-01-01","period_end":"2026-12-31","categories":["availability"]}"#;
        let s: Scope = serde_json::from_str(json).unwrap();
        assert_eq!(s.period_end.unwrap().to_string(), "2026-12-31");
        let back = serde_json::to_string(&s).unwrap();
        assert!(back.contains(r#""period_start":"2026-01-01""#), "{back}");
        assert!(
            serde_json::from_str::<Scope>(r#"{"system_name":"x","report_type":"type3"}"#).is_err()
        );
    }
}
