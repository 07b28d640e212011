//! Continuous monitoring rules: what one entity's result means, how a test's entity results
//! roll up into one status, and when a failure must be fixed (SLA categories).
//!
//! Pure: the evaluation time is always passed in. The app gathers results, exceptions and the
//! configured SLAs; these functions judge them, so the dashboard, the API, the CLI and the
//! audit package all say the same thing.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use time::{Duration, OffsetDateTime, Weekday};

/// One entity's result from one evaluation of a test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityStatus {
    Pass,
    Fail,
    /// Out of the test's population (a service account in an MFA test, an archived repo).
    Skip,
    /// The data needed to judge this entity was missing or malformed.
    Error,
}

impl EntityStatus {
    pub const ALL: [EntityStatus; 4] = [
        EntityStatus::Pass,
        EntityStatus::Fail,
        EntityStatus::Skip,
        EntityStatus::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityStatus::Pass => "pass",
            EntityStatus::Fail => "fail",
            EntityStatus::Skip => "skip",
            EntityStatus::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<EntityStatus> {
        EntityStatus::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

impl fmt::Display for EntityStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a test's manifest says an empty population (no entity passed, failed or erred) means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EmptyMeaning {
    /// Nothing to judge: the data this test reads was not collected (the usual case).
    #[default]
    NotApplicable,
    /// The absence is itself a failure ("no audit trail at all").
    Fail,
    /// Nothing in scope is fine ("no critical vulnerabilities open").
    Pass,
}

impl EmptyMeaning {
    pub fn as_str(self) -> &'static str {
        match self {
            EmptyMeaning::NotApplicable => "not_applicable",
            EmptyMeaning::Fail => "fail",
            EmptyMeaning::Pass => "pass",
        }
    }
}

/// A test's rolled-up status, from worst to best for sorting.
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
pub enum TestStatus {
    /// The test could not be evaluated, or an entity could not be judged. Never "passing".
    Error,
    /// A failure is past its remediation deadline and not excused.
    Overdue,
    /// Something fails, still within its deadline.
    NeedsAttention,
    /// Every entity in the population passes (or is excused).
    Ok,
    /// Nothing to judge: the data it reads was not collected.
    NotApplicable,
    /// Excused as a whole by an approved, unexpired exception.
    Deactivated,
}

impl TestStatus {
    pub const ALL: [TestStatus; 6] = [
        TestStatus::Error,
        TestStatus::Overdue,
        TestStatus::NeedsAttention,
        TestStatus::Ok,
        TestStatus::NotApplicable,
        TestStatus::Deactivated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TestStatus::Error => "error",
            TestStatus::Overdue => "overdue",
            TestStatus::NeedsAttention => "needs_attention",
            TestStatus::Ok => "ok",
            TestStatus::NotApplicable => "not_applicable",
            TestStatus::Deactivated => "deactivated",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TestStatus::Error => "Error",
            TestStatus::Overdue => "Overdue",
            TestStatus::NeedsAttention => "Needs attention",
            TestStatus::Ok => "OK",
            TestStatus::NotApplicable => "Not applicable",
            TestStatus::Deactivated => "Excused",
        }
    }

    pub fn parse(s: &str) -> Option<TestStatus> {
        TestStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether this status counts against a control (an unexcused problem).
    pub fn is_problem(self) -> bool {
        matches!(
            self,
            TestStatus::Error | TestStatus::Overdue | TestStatus::NeedsAttention
        )
    }
}

impl fmt::Display for TestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entity's result as the roll-up sees it.
#[derive(Clone, Copy, Debug)]
pub struct EntityFacts {
    pub status: EntityStatus,
    /// An approved, unexpired exception covers this entity.
    pub excused: bool,
    /// For a failure: its remediation deadline.
    pub remediate_by: Option<OffsetDateTime>,
}

/// Rolls one evaluation's entity results up into the test's status at `now`.
///
/// Order matters and is deliberate: an error anywhere makes the whole test an error (an
/// evaluation problem must never read as passing); then unexcused failures past their deadline;
/// then unexcused failures within it. Excused failures count as passing. Skips are outside the
/// population, so a population of only skips is empty and `empty` decides.
pub fn roll_up(
    entities: &[EntityFacts],
    empty: EmptyMeaning,
    test_excused: bool,
    now: OffsetDateTime,
) -> TestStatus {
    if test_excused {
        return TestStatus::Deactivated;
    }
    if entities.iter().any(|e| e.status == EntityStatus::Error) {
        return TestStatus::Error;
    }
    let failing = entities
        .iter()
        .filter(|e| e.status == EntityStatus::Fail && !e.excused);
    let mut any_fail = false;
    for e in failing {
        any_fail = true;
        if e.remediate_by.is_some_and(|d| d <= now) {
            return TestStatus::Overdue;
        }
    }
    if any_fail {
        return TestStatus::NeedsAttention;
    }
    let population = entities
        .iter()
        .filter(|e| e.status != EntityStatus::Skip)
        .count();
    if population == 0 {
        return match empty {
            EmptyMeaning::NotApplicable => TestStatus::NotApplicable,
            EmptyMeaning::Pass => TestStatus::Ok,
            // The engine turns an empty population of such a test into a failing
            // "population" entity, so this arm is only reached when that entity is excused.
            EmptyMeaning::Fail => TestStatus::Ok,
        };
    }
    TestStatus::Ok
}

/// The unit of an SLA deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaUnit {
    Hours,
    Days,
    /// Monday to Friday; weekends do not count.
    BusinessDays,
}

/// How long a failure may stay unfixed: `24h`, `15d` or `1bd` (business days).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sla {
    pub amount: u32,
    pub unit: SlaUnit,
}

impl Sla {
    pub fn parse(s: &str) -> Result<Sla, String> {
        let t = s.trim();
        let (num, unit) = if let Some(n) = t.strip_suffix("bd") {
            (n, SlaUnit::BusinessDays)
        } else if let Some(n) = t.strip_suffix('d') {
            (n, SlaUnit::Days)
        } else if let Some(n) = t.strip_suffix('h') {
            (n, SlaUnit::Hours)
        } else {
            return Err(format!(
                "'{s}' is not a deadline: write a number followed by h (hours), d (days) or bd (business days), such as 15d"
            ));
        };
        let amount: u32 = num
            .trim()
            .parse()
            .map_err(|_| format!("'{s}' is not a deadline: '{num}' is not a whole number"))?;
        if amount == 0 {
            return Err(format!(
                "'{s}' is not a deadline: it must be more than zero"
            ));
        }
        Ok(Sla { amount, unit })
    }

    /// The deadline for a failure first seen at `from`.
    pub fn deadline(&self, from: OffsetDateTime) -> OffsetDateTime {
        match self.unit {
            SlaUnit::Hours => from + Duration::hours(self.amount.into()),
            SlaUnit::Days => from + Duration::days(self.amount.into()),
            SlaUnit::BusinessDays => {
                let mut d = from;
                let mut left = self.amount;
                while left > 0 {
                    d += Duration::days(1);
                    if !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
                        left -= 1;
                    }
                }
                d
            }
        }
    }
}

impl fmt::Display for Sla {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            SlaUnit::Hours => "h",
            SlaUnit::Days => "d",
            SlaUnit::BusinessDays => "bd",
        };
        write!(f, "{}{unit}", self.amount)
    }
}

/// The SLA categories a test's manifest may name, with their default deadlines. An
/// organisation changes the deadlines in its configuration (`[monitoring.sla]`); the set of
/// categories is fixed so a typo in a manifest is an error, not a silently missing deadline.
pub const SLA_CATEGORIES: &[(&str, &str, &str)] = &[
    (
        "access_removal",
        "1bd",
        "Access of people who left is removed",
    ),
    ("access", "7d", "Accounts and access configuration"),
    ("change", "7d", "Change management and code review"),
    ("vuln_critical", "15d", "Critical vulnerabilities"),
    ("vuln_high", "30d", "High vulnerabilities"),
    ("vuln_medium", "90d", "Medium vulnerabilities"),
    ("vuln_low", "180d", "Low vulnerabilities"),
    ("configuration", "30d", "Infrastructure configuration"),
    ("logging", "14d", "Logging and monitoring"),
    ("endpoint", "14d", "Laptops and other endpoints"),
    ("people", "30d", "Onboarding, training and screening"),
    ("governance", "30d", "Policies, reviews and vendors"),
];

/// The deadline of every SLA category: the defaults, with an organisation's overrides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlaPolicy {
    slas: BTreeMap<String, Sla>,
}

impl Default for SlaPolicy {
    fn default() -> Self {
        SlaPolicy {
            slas: SLA_CATEGORIES
                .iter()
                .map(|(name, d, _)| ((*name).to_string(), Sla::parse(d).expect("valid default")))
                .collect(),
        }
    }
}

impl SlaPolicy {
    /// The defaults with `overrides` (category → `15d`-style deadline) applied; an unknown
    /// category or a malformed deadline is an error naming it.
    pub fn with_overrides<'a>(
        overrides: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<SlaPolicy, String> {
        let mut p = SlaPolicy::default();
        for (name, value) in overrides {
            if !p.slas.contains_key(name) {
                return Err(format!(
                    "unknown SLA category '{name}': expected one of {}",
                    sla_category_list()
                ));
            }
            let sla = Sla::parse(value).map_err(|e| format!("SLA category '{name}': {e}"))?;
            p.slas.insert(name.to_string(), sla);
        }
        Ok(p)
    }

    pub fn get(&self, category: &str) -> Option<Sla> {
        self.slas.get(category).copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, Sla)> {
        self.slas.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

pub fn is_sla_category(name: &str) -> bool {
    SLA_CATEGORIES.iter().any(|(n, _, _)| *n == name)
}

pub fn sla_category_list() -> String {
    SLA_CATEGORIES
        .iter()
        .map(|(n, _, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn f(status: EntityStatus, excused: bool, by: Option<OffsetDateTime>) -> EntityFacts {
        EntityFacts {
            status,
            excused,
            remediate_by: by,
        }
    }

    #[test]
    fn error_wins_over_everything_but_a_test_exception() {
        let now = datetime!(2026-11-20 12:00 UTC);
        let es = [
            f(EntityStatus::Pass, false, None),
            f(EntityStatus::Fail, false, Some(now - Duration::days(1))),
            f(EntityStatus::Error, false, None),
        ];
        assert_eq!(
            roll_up(&es, EmptyMeaning::NotApplicable, false, now),
            TestStatus::Error
        );
        assert_eq!(
            roll_up(&es, EmptyMeaning::NotApplicable, true, now),
            TestStatus::Deactivated
        );
    }

    #[test]
    fn failures_are_overdue_only_past_their_deadline_and_excused_ones_pass() {
        let now = datetime!(2026-11-20 12:00 UTC);
        let within = [f(EntityStatus::Fail, false, Some(now + Duration::hours(1)))];
        assert_eq!(
            roll_up(&within, EmptyMeaning::Pass, false, now),
            TestStatus::NeedsAttention
        );
        let past = [f(EntityStatus::Fail, false, Some(now))];
        assert_eq!(
            roll_up(&past, EmptyMeaning::Pass, false, now),
            TestStatus::Overdue
        );
        let excused = [
            f(EntityStatus::Fail, true, Some(now - Duration::days(3))),
            f(EntityStatus::Pass, false, None),
        ];
        assert_eq!(
            roll_up(&excused, EmptyMeaning::Pass, false, now),
            TestStatus::Ok
        );
    }

    #[test]
    fn a_population_of_skips_is_empty() {
        let now = datetime!(2026-11-20 12:00 UTC);
        let skips = [f(EntityStatus::Skip, false, None)];
        assert_eq!(
            roll_up(&skips, EmptyMeaning::NotApplicable, false, now),
            TestStatus::NotApplicable
        );
        assert_eq!(roll_up(&[], EmptyMeaning::Pass, false, now), TestStatus::Ok);
    }

    #[test]
    fn business_days_skip_weekends() {
        // Friday 17:00 + 1 business day = Monday 17:00.
        let fri = datetime!(2026-11-20 17:00 UTC);
        let sla = Sla::parse("1bd").unwrap();
        assert_eq!(sla.deadline(fri), datetime!(2026-11-23 17:00 UTC));
        assert_eq!(
            Sla::parse("36h").unwrap().deadline(fri),
            datetime!(2026-11-22 05:00 UTC)
        );
        assert_eq!(Sla::parse("15d").unwrap().to_string(), "15d");
    }

    #[test]
    fn malformed_deadlines_and_unknown_categories_say_what_is_wrong() {
        assert!(
            Sla::parse("fortnight")
                .unwrap_err()
                .contains("h (hours), d (days) or bd")
        );
        assert!(Sla::parse("0d").unwrap_err().contains("more than zero"));
        assert!(
            Sla::parse("x5d")
                .unwrap_err()
                .contains("'x5' is not a whole number")
        );
        let e = SlaPolicy::with_overrides([("vuln_crit", "10d")]).unwrap_err();
        assert!(e.contains("unknown SLA category 'vuln_crit'"), "{e}");
        let p = SlaPolicy::with_overrides([("vuln_critical", "10d")]).unwrap();
        assert_eq!(p.get("vuln_critical"), Some(Sla::parse("10d").unwrap()));
        assert_eq!(p.get("vuln_high"), Some(Sla::parse("30d").unwrap()));
    }
}
