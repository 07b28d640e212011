//! Readiness: how far the control set is from being auditable, computed from what exists and
//! never set by hand. Pure: the app gathers the facts, this module judges them, so the same
//! rules serve the dashboard, the API, the CLI and the audit package.
use crate::criteria::{Catalog, Category};
use crate::scope::Scope;
use serde::Serialize;

/// What is known about one control, gathered by the app. Later capabilities (evidence
/// freshness, test results, policy approval, open tasks) add facts here.
#[derive(Clone, Debug, Default)]
pub struct ControlFacts {
    pub id: String,
    pub applicable: bool,
    pub has_owner: bool,
    pub has_description: bool,
    pub criteria: Vec<String>,
    /// Evidence records linked to the control.
    pub evidence_count: usize,
    /// Some evidence exists but an occurrence the control's frequency makes due has none
    /// (see `freshness`).
    pub evidence_stale: bool,
    /// Automated tests linked to the control.
    pub test_count: usize,
}

/// A control's computed status, from worst to best.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ControlStatus {
    /// Missing an owner or a description: not yet a control anyone can run.
    Incomplete,
    /// Defined, but nothing (evidence or tests) proves it operates.
    NoProof,
    /// Evidence exists but does not cover every occurrence that is due.
    Stale,
    /// Defined and proven by evidence or tests.
    Ready,
    /// Excluded with a written justification.
    NotApplicable,
}

impl ControlStatus {
    pub fn label(self) -> &'static str {
        match self {
            ControlStatus::Incomplete => "Incomplete",
            ControlStatus::NoProof => "Nothing proves it",
            ControlStatus::Stale => "Evidence overdue",
            ControlStatus::Ready => "Ready",
            ControlStatus::NotApplicable => "Not applicable",
        }
    }
}

pub fn control_status(f: &ControlFacts) -> ControlStatus {
    if !f.applicable {
        ControlStatus::NotApplicable
    } else if !f.has_owner || !f.has_description {
        ControlStatus::Incomplete
    } else if f.evidence_count + f.test_count == 0 {
        ControlStatus::NoProof
    } else if f.evidence_count > 0 && f.evidence_stale {
        ControlStatus::Stale
    } else {
        ControlStatus::Ready
    }
}

/// A reason the programme is not ready, pointing at what to fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Gap {
    CriterionUncovered { criterion: String },
    ControlWithoutOwner { control: String },
    ControlWithoutDescription { control: String },
    ControlWithoutProof { control: String },
    ControlEvidenceOverdue { control: String },
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CriterionCoverage {
    pub id: String,
    pub title: String,
    pub category: Category,
    /// Applicable controls mapped to it.
    pub controls: Vec<String>,
    /// Of those, the ones that are ready.
    pub ready_controls: usize,
    pub covered: bool,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryReadiness {
    pub category: Category,
    pub criteria: usize,
    pub covered: usize,
    /// Criteria with at least one ready control, in percent of the category's criteria.
    pub ready_pct: u8,
}

/// One control's computed status, as the readiness report lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ControlReadiness {
    pub id: String,
    pub status: ControlStatus,
}

/// How much of the programme's evidence is current: of the applicable controls, how many have
/// evidence at all and how many have evidence for every occurrence that is due.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EvidenceFreshness {
    pub controls: usize,
    pub with_evidence: usize,
    pub fresh: usize,
    /// `fresh` in percent of `controls`.
    pub fresh_pct: u8,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// Share of in-scope criteria with at least one ready control, in percent.
    pub overall_pct: u8,
    pub categories: Vec<CategoryReadiness>,
    pub criteria: Vec<CriterionCoverage>,
    pub controls: Vec<ControlReadiness>,
    pub gaps: Vec<Gap>,
    pub evidence: EvidenceFreshness,
}

fn pct(part: usize, whole: usize) -> u8 {
    if whole == 0 {
        100
    } else {
        ((part * 100) / whole) as u8
    }
}

/// Judges the control set against the in-scope criteria.
pub fn compute(scope: &Scope, catalog: &Catalog, controls: &[ControlFacts]) -> Readiness {
    let statuses: Vec<ControlReadiness> = controls
        .iter()
        .map(|c| ControlReadiness {
            id: c.id.clone(),
            status: control_status(c),
        })
        .collect();
    let status_of = |id: &str| statuses.iter().find(|c| c.id == id).map(|c| c.status);

    let criteria: Vec<CriterionCoverage> = scope
        .criteria(catalog)
        .map(|cr| {
            let mapped: Vec<String> = controls
                .iter()
                .filter(|c| {
                    c.applicable && c.criteria.iter().any(|x| x.eq_ignore_ascii_case(&cr.id))
                })
                .map(|c| c.id.clone())
                .collect();
            let ready = mapped
                .iter()
                .filter(|id| status_of(id) == Some(ControlStatus::Ready))
                .count();
            CriterionCoverage {
                id: cr.id.clone(),
                title: cr.title.clone(),
                category: cr.category,
                covered: !mapped.is_empty(),
                controls: mapped,
                ready_controls: ready,
            }
        })
        .collect();

    let categories = Category::ALL
        .iter()
        .filter(|c| scope.includes(**c))
        .map(|cat| {
            let of_cat: Vec<&CriterionCoverage> =
                criteria.iter().filter(|c| c.category == *cat).collect();
            CategoryReadiness {
                category: *cat,
                criteria: of_cat.len(),
                covered: of_cat.iter().filter(|c| c.covered).count(),
                ready_pct: pct(
                    of_cat.iter().filter(|c| c.ready_controls > 0).count(),
                    of_cat.len(),
                ),
            }
        })
        .collect();

    let mut gaps: Vec<Gap> = criteria
        .iter()
        .filter(|c| !c.covered)
        .map(|c| Gap::CriterionUncovered {
            criterion: c.id.clone(),
        })
        .collect();
    // A control that only addresses out-of-scope criteria is no gap of this report.
    let in_scope = |c: &ControlFacts| {
        c.criteria.is_empty()
            || c.criteria
                .iter()
                .any(|id| catalog.get(id).is_none_or(|cr| scope.includes(cr.category)))
    };
    // Worst first: a control nobody owns matters before one that only lacks proof.
    let counted = || controls.iter().filter(|c| c.applicable && in_scope(c));
    gaps.extend(
        counted()
            .filter(|c| !c.has_owner)
            .map(|c| Gap::ControlWithoutOwner {
                control: c.id.clone(),
            }),
    );
    gaps.extend(
        counted()
            .filter(|c| !c.has_description)
            .map(|c| Gap::ControlWithoutDescription {
                control: c.id.clone(),
            }),
    );
    gaps.extend(
        counted()
            .filter(|c| c.evidence_count + c.test_count == 0)
            .map(|c| Gap::ControlWithoutProof {
                control: c.id.clone(),
            }),
    );
    gaps.extend(
        counted()
            .filter(|c| c.evidence_count > 0 && c.evidence_stale)
            .map(|c| Gap::ControlEvidenceOverdue {
                control: c.id.clone(),
            }),
    );

    let applicable = || controls.iter().filter(|c| c.applicable);
    let fresh = applicable()
        .filter(|c| c.evidence_count > 0 && !c.evidence_stale)
        .count();
    let evidence = EvidenceFreshness {
        controls: applicable().count(),
        with_evidence: applicable().filter(|c| c.evidence_count > 0).count(),
        fresh,
        fresh_pct: pct(fresh, applicable().count()),
    };
    let ready = criteria.iter().filter(|c| c.ready_controls > 0).count();
    Readiness {
        evidence,
        overall_pct: pct(ready, criteria.len()),
        categories,
        criteria,
        controls: statuses,
        gaps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control(id: &str, criteria: &[&str]) -> ControlFacts {
        ControlFacts {
            id: id.into(),
            applicable: true,
            has_owner: true,
            has_description: true,
            criteria: criteria.iter().map(|s| s.to_string()).collect(),
            evidence_count: 1,
            evidence_stale: false,
            test_count: 0,
        }
    }

    #[test]
    fn status_is_computed_from_what_exists() {
        let mut c = control("IAM-03", &["CC6.1"]);
        assert_eq!(control_status(&c), ControlStatus::Ready);
        c.evidence_stale = true;
        assert_eq!(control_status(&c), ControlStatus::Stale);
        c.evidence_stale = false;
        c.evidence_count = 0;
        assert_eq!(control_status(&c), ControlStatus::NoProof);
        c.test_count = 2;
        assert_eq!(control_status(&c), ControlStatus::Ready);
        c.has_owner = false;
        assert_eq!(control_status(&c), ControlStatus::Incomplete);
        c.applicable = false;
        assert_eq!(control_status(&c), ControlStatus::NotApplicable);
    }

    #[test]
    fn readiness_counts_only_in_scope_criteria_and_lists_gaps() {
        let catalog = crate::criteria::soc2();
        let mut scope = Scope::initial("x");
        let mut no_owner = control("IAM-08", &["CC6.2"]);
        no_owner.has_owner = false;
        let mut excluded = control("PRV-01", &["P1.1", "CC6.3"]);
        excluded.applicable = false;
        let mut overdue = control("CHG-01", &["CC8.1"]);
        overdue.evidence_stale = true;
        let controls = vec![
            control("IAM-03", &["CC6.1", "P2.1"]),
            no_owner,
            excluded,
            overdue,
        ];
        let r = compute(&scope, catalog, &controls);
        assert_eq!(r.criteria.len(), 33, "privacy is out of scope");
        assert_eq!(r.overall_pct, (100 / 33) as u8);
        let uncovered = r
            .gaps
            .iter()
            .filter(|g| matches!(g, Gap::CriterionUncovered { .. }))
            .count();
        assert_eq!(
            uncovered, 30,
            "CC6.1, CC6.2 and CC8.1 are covered; a not-applicable control covers nothing"
        );
        assert!(r.gaps.contains(&Gap::ControlWithoutOwner {
            control: "IAM-08".into()
        }));
        assert_eq!(
            r.evidence,
            EvidenceFreshness {
                controls: 3,
                with_evidence: 3,
                fresh: 2,
                fresh_pct: 66
            },
            "the not-applicable control is not counted; the overdue one is not fresh"
        );
        assert_eq!(
            r.gaps.last(),
            Some(&Gap::ControlEvidenceOverdue {
                control: "CHG-01".into()
            }),
            "overdue evidence is the least severe gap"
        );
        assert!(
            !r.criteria
                .iter()
                .any(|c| c.id == "CC8.1" && c.ready_controls > 0),
            "a control with overdue evidence does not make its criterion ready"
        );
        assert!(
            !r.gaps
                .iter()
                .any(|g| matches!(g, Gap::ControlWithoutProof { control } if control == "PRV-01"))
        );

        scope.categories.push(Category::Privacy);
        let r = compute(&scope, catalog, &controls);
        assert_eq!(r.criteria.len(), 51);
        let privacy = r
            .categories
            .iter()
            .find(|c| c.category == Category::Privacy)
            .unwrap();
        assert_eq!((privacy.criteria, privacy.covered), (18, 1));
    }
}
