//! Evidence freshness: does a control's evidence cover every occurrence its frequency promises?
//!
//! A quarterly control owes evidence for each quarter; a missed quarter is what an auditor
//! would report as a deviation. During a Type II period the period is cut into occurrences
//! (aligned to its first day, so "quarterly" means each quarter *of the audit period*) and each
//! occurrence that has ended, plus a short grace for the work done just after it, must be
//! overlapped by some evidence's effective period. Outside a Type II period (a Type I date, or
//! before the period starts) the question is only whether the latest evidence is recent enough.
//!
//! Pure: the caller passes today's date, the control's frequencies and its evidence periods.
use crate::controls::Frequency;
use serde::Serialize;
use time::{Date, Duration, Month};

/// How often a control owes evidence: its most frequent periodic frequency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    Daily,
    Weekly,
    Monthly,
    Quarterly,
    Annual,
    /// Only when something happens: any evidence in the window will do.
    PerEvent,
}

impl Cadence {
    /// A control that runs continuously owes a daily record (the daily configuration snapshot
    /// an integration collects); one that runs only per event owes no fixed cadence.
    pub fn of(frequencies: &[Frequency]) -> Cadence {
        frequencies
            .iter()
            .map(|f| match f {
                Frequency::Continuous | Frequency::Daily => Cadence::Daily,
                Frequency::Weekly => Cadence::Weekly,
                Frequency::Monthly => Cadence::Monthly,
                Frequency::Quarterly => Cadence::Quarterly,
                Frequency::Annual => Cadence::Annual,
                Frequency::PerEvent => Cadence::PerEvent,
            })
            .min()
            .unwrap_or(Cadence::PerEvent)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Daily => "daily",
            Cadence::Weekly => "weekly",
            Cadence::Monthly => "monthly",
            Cadence::Quarterly => "quarterly",
            Cadence::Annual => "annual",
            Cadence::PerEvent => "per_event",
        }
    }

    /// Days after an occurrence ends before its evidence is overdue: a quarterly review is
    /// usually finished in the first weeks of the next quarter.
    pub fn grace_days(self) -> i64 {
        match self {
            Cadence::Daily => 1,
            Cadence::Weekly => 2,
            Cadence::Monthly => 7,
            Cadence::Quarterly => 14,
            Cadence::Annual => 30,
            Cadence::PerEvent => 0,
        }
    }

    /// The start of the `n`th occurrence counted from `start`.
    fn nth_start(self, start: Date, n: i64) -> Date {
        match self {
            Cadence::Daily | Cadence::PerEvent => start + Duration::days(n),
            Cadence::Weekly => start + Duration::weeks(n),
            Cadence::Monthly => add_months(start, n),
            Cadence::Quarterly => add_months(start, 3 * n),
            Cadence::Annual => add_months(start, 12 * n),
        }
    }
}

/// Adds months, keeping the day of the month where it exists and clamping it where it does not
/// (31 January + 1 month = 28 or 29 February).
pub fn add_months(d: Date, n: i64) -> Date {
    let index = d.year() as i64 * 12 + (u8::from(d.month()) as i64 - 1) + n;
    let year = index.div_euclid(12) as i32;
    let month = Month::try_from((index.rem_euclid(12) + 1) as u8).expect("1..=12");
    let day = d.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).expect("a clamped day exists")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FreshnessStatus {
    /// Every occurrence that is due has evidence.
    Fresh,
    /// Evidence exists, but an occurrence that is due has none.
    Stale,
    /// No evidence at all.
    Missing,
}

impl FreshnessStatus {
    pub fn label(self) -> &'static str {
        match self {
            FreshnessStatus::Fresh => "Fresh",
            FreshnessStatus::Stale => "Stale",
            FreshnessStatus::Missing => "No evidence",
        }
    }
}

/// One occurrence the control owes evidence for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Occurrence {
    pub start: Date,
    pub end: Date,
    /// The day after which missing evidence counts against the control.
    pub due_by: Date,
    pub covered: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Freshness {
    pub cadence: Cadence,
    pub status: FreshnessStatus,
    /// The last day covered by any evidence.
    pub latest: Option<Date>,
    /// Occurrences of the audit period that are due (empty outside a Type II period).
    pub due: usize,
    /// Of those, the ones without evidence, oldest first.
    pub missing: Vec<Occurrence>,
    /// When the next occurrence falls due, if one is ahead in the window.
    pub next_due_by: Option<Date>,
}

/// Judges a control's evidence. `window` is the Type II period, if there is one;
/// `evidence` holds each record's effective period as (first day, last day).
pub fn assess(
    frequencies: &[Frequency],
    window: Option<(Date, Date)>,
    evidence: &[(Date, Date)],
    today: Date,
) -> Freshness {
    let cadence = Cadence::of(frequencies);
    let latest = evidence.iter().map(|(_, end)| *end).max();
    let mut f = Freshness {
        cadence,
        status: FreshnessStatus::Missing,
        latest,
        due: 0,
        missing: vec![],
        next_due_by: None,
    };
    let Some(latest) = latest else {
        return f;
    };
    let overlaps = |s: Date, e: Date| evidence.iter().any(|(es, ee)| *es <= e && *ee >= s);
    let grace = Duration::days(cadence.grace_days());

    match window {
        Some((start, end)) if start <= today => {
            let last_day = end.min(today);
            if cadence == Cadence::PerEvent {
                f.status = if overlaps(start, last_day) {
                    FreshnessStatus::Fresh
                } else {
                    FreshnessStatus::Stale
                };
                return f;
            }
            let mut n = 0;
            loop {
                let s = cadence.nth_start(start, n);
                if s > end {
                    break;
                }
                let e = (cadence.nth_start(start, n + 1) - Duration::days(1)).min(end);
                let due_by = e + grace;
                let covered = overlaps(s, e);
                if due_by < today {
                    f.due += 1;
                    if !covered {
                        f.missing.push(Occurrence {
                            start: s,
                            end: e,
                            due_by,
                            covered,
                        });
                    }
                } else if f.next_due_by.is_none() && !covered {
                    f.next_due_by = Some(due_by);
                }
                n += 1;
            }
            f.status = if f.missing.is_empty() {
                FreshnessStatus::Fresh
            } else {
                FreshnessStatus::Stale
            };
        }
        _ => {
            // No period to walk: recent enough is fresh.
            let fresh =
                cadence == Cadence::PerEvent || latest >= cadence.nth_start(today, -1) - grace;
            f.status = if fresh {
                FreshnessStatus::Fresh
            } else {
                FreshnessStatus::Stale
            };
            if cadence != Cadence::PerEvent {
                f.next_due_by = Some(cadence.nth_start(latest, 1) + grace);
            }
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const PERIOD: Option<(Date, Date)> = Some((date!(2025 - 12 - 01), date!(2026 - 11 - 30)));

    #[test]
    fn the_most_frequent_cadence_wins() {
        use Frequency::*;
        assert_eq!(Cadence::of(&[Annual, PerEvent]), Cadence::Annual);
        assert_eq!(Cadence::of(&[Quarterly, Monthly]), Cadence::Monthly);
        assert_eq!(Cadence::of(&[Continuous]), Cadence::Daily);
        assert_eq!(Cadence::of(&[PerEvent]), Cadence::PerEvent);
        assert_eq!(Cadence::of(&[]), Cadence::PerEvent);
    }

    #[test]
    fn months_clamp_to_the_end_of_shorter_months() {
        assert_eq!(add_months(date!(2026 - 01 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2028 - 01 - 31), 1), date!(2028 - 02 - 29));
        assert_eq!(add_months(date!(2025 - 12 - 01), 3), date!(2026 - 03 - 01));
        assert_eq!(add_months(date!(2026 - 03 - 15), -3), date!(2025 - 12 - 15));
    }

    #[test]
    fn no_evidence_is_missing() {
        let f = assess(&[Frequency::Annual], PERIOD, &[], date!(2026 - 11 - 23));
        assert_eq!(f.status, FreshnessStatus::Missing);
    }

    #[test]
    fn a_quarterly_control_needs_every_quarter_of_the_period() {
        let q = [Frequency::Quarterly];
        let today = date!(2026 - 11 - 23);
        // Quarters of the period: Dec–Feb, Mar–May, Jun–Aug, Sep–Nov (not yet due).
        let all = [
            (date!(2026 - 01 - 15), date!(2026 - 01 - 15)),
            (date!(2026 - 03 - 01), date!(2026 - 05 - 31)),
            (date!(2026 - 08 - 20), date!(2026 - 08 - 20)),
        ];
        let f = assess(&q, PERIOD, &all, today);
        assert_eq!(
            (f.status, f.due, f.missing.len()),
            (FreshnessStatus::Fresh, 3, 0)
        );
        assert_eq!(f.next_due_by, Some(date!(2026 - 12 - 14)));

        let missed_spring = [all[0], all[2]];
        let f = assess(&q, PERIOD, &missed_spring, today);
        assert_eq!(f.status, FreshnessStatus::Stale);
        assert_eq!(
            f.missing,
            vec![Occurrence {
                start: date!(2026 - 03 - 01),
                end: date!(2026 - 05 - 31),
                due_by: date!(2026 - 06 - 14),
                covered: false,
            }]
        );
    }

    #[test]
    fn grace_gives_time_to_record_an_occurrence_just_ended() {
        let m = [Frequency::Monthly];
        let ev = [(date!(2025 - 12 - 10), date!(2025 - 12 - 10))];
        // December ended on the 31st; its evidence is due by 7 January.
        let f = assess(&m, PERIOD, &ev, date!(2026 - 01 - 07));
        assert_eq!((f.status, f.due), (FreshnessStatus::Fresh, 0));
        let f = assess(&m, PERIOD, &ev, date!(2026 - 01 - 08));
        assert_eq!((f.status, f.due), (FreshnessStatus::Fresh, 1));
        let f = assess(&m, PERIOD, &[], date!(2026 - 01 - 07));
        assert_eq!(f.status, FreshnessStatus::Missing);
        let f = assess(&m, PERIOD, &ev, date!(2026 - 02 - 09));
        assert_eq!(f.status, FreshnessStatus::Stale, "January is now overdue");
        assert_eq!(f.missing[0].start, date!(2026 - 01 - 01));
    }

    #[test]
    fn a_range_covers_every_occurrence_it_overlaps() {
        let d = [Frequency::Continuous];
        let year = [(date!(2025 - 12 - 01), date!(2026 - 11 - 21))];
        let f = assess(&d, PERIOD, &year, date!(2026 - 11 - 23));
        assert_eq!(f.status, FreshnessStatus::Fresh);
        assert_eq!(f.due, 356);
        let f = assess(&d, PERIOD, &year, date!(2026 - 11 - 25));
        assert_eq!(
            f.status,
            FreshnessStatus::Stale,
            "22 and 23 November are uncovered"
        );
        assert_eq!(f.missing.len(), 2);
    }

    #[test]
    fn without_a_period_recent_enough_is_fresh() {
        let a = [Frequency::Annual];
        let ev = [(date!(2025 - 10 - 01), date!(2025 - 10 - 01))];
        let f = assess(&a, None, &ev, date!(2026 - 10 - 31));
        assert_eq!(
            f.status,
            FreshnessStatus::Fresh,
            "within a year and the grace"
        );
        let f = assess(&a, None, &ev, date!(2026 - 11 - 23));
        assert_eq!(f.status, FreshnessStatus::Stale);
        assert_eq!(f.next_due_by, Some(date!(2026 - 10 - 31)));
        // Before a Type II period starts the same rule applies.
        let f = assess(&a, PERIOD, &ev, date!(2025 - 11 - 01));
        assert_eq!(f.status, FreshnessStatus::Fresh);
    }

    #[test]
    fn per_event_controls_need_some_evidence_in_the_period() {
        let e = [Frequency::PerEvent];
        let before = [(date!(2025 - 06 - 01), date!(2025 - 06 - 01))];
        let f = assess(&e, PERIOD, &before, date!(2026 - 11 - 23));
        assert_eq!(f.status, FreshnessStatus::Stale);
        let inside = [(date!(2026 - 02 - 01), date!(2026 - 02 - 01))];
        let f = assess(&e, PERIOD, &inside, date!(2026 - 11 - 23));
        assert_eq!(f.status, FreshnessStatus::Fresh);
    }
}
