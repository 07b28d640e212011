//! HR roster CSV: one row per person, keyed by work email.
//!
//! Documented columns: `email`, `name`, `employee_id`, `department`, `manager_email`, `title`,
//! `start_date`, `end_date`, `status`, `employment_type`, `github_username`. Common HR-export headers are accepted
//! as aliases (`Work Email`, `Employee #`, `Hire Date`, `Termination Date`, `Employment Status`,
//! …; see [`COLUMNS`]); headers are compared normalised, so case,
//! spaces and hyphens do not matter. `first_name` + `last_name` make the name when there is no
//! name column. Other columns are ignored with a warning.
//!
//! Detection: a CSV header with an email column (or alias) that is neither an AWS credential
//! report nor Vouch generic CSV.
//!
//! Dates are `YYYY-MM-DD` (a `03/04/2024` is refused: day and month cannot be told apart).
//! `status` is one of `active`, `on_leave`, `terminated`, `pending` (with aliases such as
//! `Leave of absence`, `Inactive`, `Pre-hire`); `employment_type` one of `full_time`,
//! `part_time`, `contractor`, `intern`, `temporary`. An unknown value is an error naming its
//! row and column.
use crate::text::{Table, normalize_key, parse_date};
use crate::{Collection, ImportError, ImportKind, Out};
use vouch_domain::resource::{Resource, ResourceKind};
use vouch_domain::validate;

/// Each documented column with the header keys accepted for it.
pub const COLUMNS: [(&str, &[&str]); 11] = [
    (
        "email",
        &[
            "email",
            "work_email",
            "email_address",
            "work_email_address",
            "business_email",
            "company_email",
            "primary_email",
        ],
    ),
    (
        "name",
        &[
            "name",
            "full_name",
            "employee_name",
            "display_name",
            "preferred_name",
        ],
    ),
    (
        "employee_id",
        &[
            "employee_id",
            "employee_number",
            "employee_no",
            "emp_id",
            "worker_id",
            "personnel_number",
        ],
    ),
    ("department", &["department", "dept", "team"]),
    (
        "manager_email",
        &[
            "manager_email",
            "manager_work_email",
            "manager_email_address",
            "supervisor_email",
            "reports_to_email",
        ],
    ),
    ("title", &["title", "job_title", "position"]),
    (
        "start_date",
        &[
            "start_date",
            "hire_date",
            "date_of_hire",
            "original_hire_date",
            "employment_start_date",
        ],
    ),
    (
        "end_date",
        &[
            "end_date",
            "termination_date",
            "term_date",
            "separation_date",
            "last_day_of_work",
            "employment_end_date",
        ],
    ),
    (
        "status",
        &[
            "status",
            "employment_status",
            "employee_status",
            "worker_status",
        ],
    ),
    (
        "employment_type",
        &[
            "employment_type",
            "worker_type",
            "employee_type",
            "employment_category",
        ],
    ),
    (
        // GitHub has no email for organisation members: this is how their accounts are
        // linked to people.
        "github_username",
        &["github_username", "github", "github_login", "github_handle"],
    ),
];

const STATUSES: [(&str, &[&str]); 4] = [
    ("active", &["active", "employed", "current"]),
    (
        "on_leave",
        &["on_leave", "leave", "leave_of_absence", "loa", "suspended"],
    ),
    (
        "terminated",
        &[
            "terminated",
            "inactive",
            "former",
            "separated",
            "resigned",
            "offboarded",
        ],
    ),
    (
        "pending",
        &["pending", "pre_hire", "prehire", "hired", "onboarding"],
    ),
];

const TYPES: [(&str, &[&str]); 5] = [
    (
        "full_time",
        &["full_time", "fulltime", "ft", "permanent", "regular"],
    ),
    ("part_time", &["part_time", "parttime", "pt"]),
    (
        "contractor",
        &["contractor", "contract", "consultant", "contingent"],
    ),
    ("intern", &["intern", "internship"]),
    ("temporary", &["temporary", "temp", "seasonal"]),
];

fn canonical(key: &str) -> Option<&'static str> {
    COLUMNS
        .iter()
        .find(|(_, aliases)| aliases.contains(&key))
        .map(|(c, _)| *c)
}

fn lookup(table: &[(&'static str, &[&str])], raw: &str) -> Option<&'static str> {
    let k = normalize_key(raw);
    table
        .iter()
        .find(|(_, aliases)| aliases.contains(&k.as_str()))
        .map(|(c, _)| *c)
}

pub(crate) fn is_roster(header: &[String]) -> bool {
    header.iter().any(|h| canonical(h) == Some("email"))
}

pub(crate) fn import_roster(t: &Table) -> Result<Collection, ImportError> {
    let mut out = Out::new(ImportKind::HrRosterCsv);
    // Canonical column → index.
    let mut cols: Vec<(&'static str, usize)> = Vec::new();
    let (mut first, mut last) = (None, None);
    for (i, key) in t.keys.iter().enumerate() {
        match canonical(key) {
            Some(c) => {
                if let Some((_, j)) = cols.iter().find(|(o, _)| *o == c) {
                    return Err(ImportError::new(
                        format!("row 1, column '{}'", t.headers[i]),
                        format!(
                            "this column and '{}' both mean {c}: keep one",
                            t.headers[*j]
                        ),
                    ));
                }
                cols.push((c, i));
            }
            None if key == "first_name" || key == "given_name" => first = Some(i),
            None if key == "last_name" || key == "surname" || key == "family_name" => {
                last = Some(i)
            }
            None => out
                .warnings
                .push(format!("column '{}' is not used", t.headers[i])),
        }
    }
    let col = |c: &str| cols.iter().find(|(o, _)| *o == c).map(|(_, i)| *i);
    let Some(email_col) = col("email") else {
        return Err(ImportError::new(
            "row 1",
            "there is no email column (email, or an alias such as 'Work Email')",
        ));
    };
    for row in &t.rows {
        let n = row.number;
        let cell = |c: &str| t.cell(row, col(c));
        let email = validate::email("email", cell("email").unwrap_or(""))
            .map_err(|e| ImportError::new(t.place(n, email_col), e.message))?;
        let mut r = Resource::new(ResourceKind::Person, "hr", email.clone()).with("email", email);
        let name = match cell("name") {
            Some(s) => Some(s.to_string()),
            None => {
                let parts: Vec<&str> = [t.cell(row, first), t.cell(row, last)]
                    .into_iter()
                    .flatten()
                    .collect();
                (!parts.is_empty()).then(|| parts.join(" "))
            }
        };
        r = r.with_opt("name", name);
        for c in ["employee_id", "department", "title", "github_username"] {
            r = r.with_opt(c, cell(c));
        }
        if let Some(m) = cell("manager_email") {
            let m = validate::email("manager_email", m).map_err(|e| {
                ImportError::new(t.place(n, col("manager_email").unwrap_or(0)), e.message)
            })?;
            r = r.with("manager_email", m);
        }
        for c in ["start_date", "end_date"] {
            if let Some(d) = cell(c) {
                if parse_date(d).is_none() {
                    return Err(ImportError::new(
                        t.place(n, col(c).unwrap_or(0)),
                        format!("'{d}' is not a date written YYYY-MM-DD"),
                    ));
                }
                r = r.with(c, d);
            }
        }
        if let (Some(s), Some(e)) = (cell("start_date"), cell("end_date"))
            && e < s
        {
            return Err(ImportError::new(
                t.place(n, col("end_date").unwrap_or(0)),
                format!("the end date {e} is before the start date {s}"),
            ));
        }
        for (c, table) in [("status", &STATUSES[..]), ("employment_type", &TYPES[..])] {
            if let Some(v) = cell(c) {
                let Some(known) = lookup(table, v) else {
                    return Err(ImportError::new(
                        t.place(n, col(c).unwrap_or(0)),
                        format!(
                            "unknown {} '{v}': expected one of {}",
                            c.replace('_', " "),
                            table.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
                        ),
                    ));
                };
                r = r.with(c, known);
            }
        }
        out.push(r, t.place(n, email_col))?;
    }
    if out.resources.is_empty() {
        out.warnings.push("the roster has no rows".into());
    }
    Ok(out.finish("hr"))
}

#[cfg(test)]
mod tests {
    use crate::{ImportKind, import};

    const ROSTER: &str = "\
email,name,employee_id,department,manager_email,title,start_date,end_date,status,employment_type
ana@example.com,Ana Lima,E001,Engineering,,CTO,2021-03-01,,active,full_time
ben@example.com,Ben Ode,E002,Engineering,ana@example.com,Engineer,2022-06-15,2026-10-31,terminated,full_time
cy@example.com,Cy Park,E003,Sales,ana@example.com,AE,2023-01-09,,active,contractor
";

    #[test]
    fn hr_roster_with_documented_columns_becomes_people() {
        let c = import(ROSTER.as_bytes(), None).unwrap();
        assert_eq!(c.kind, ImportKind::HrRosterCsv);
        assert_eq!(c.system, "hr");
        assert_eq!(c.resources.len(), 3);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let ben = &c.resources[1];
        assert_eq!(ben.key, "ben@example.com");
        assert_eq!(ben.attrs["end_date"], "2026-10-31");
        assert_eq!(ben.attrs["status"], "terminated");
        assert_eq!(ben.attrs["manager_email"], "ana@example.com");
        assert!(c.resources[0].attrs.get("end_date").is_none());
        assert_eq!(c.resources[2].attrs["employment_type"], "contractor");
    }

    #[test]
    fn hr_export_headers_are_aliases() {
        let csv = "\
Employee #;First Name;Last Name;Work Email;Hire Date;Termination Date;Employment Status;Cost Center
101;Dee;Ray;Dee.Ray@Example.com;2020-01-02;2026-11-20;Inactive;CC1
102;Eli;Fox;eli@example.com;2024-05-06;;Leave of Absence;CC2
";
        let c = import(csv.as_bytes(), Some(ImportKind::HrRosterCsv)).unwrap();
        let dee = &c.resources[0];
        assert_eq!(dee.key, "dee.ray@example.com");
        assert_eq!(dee.attrs["name"], "Dee Ray");
        assert_eq!(dee.attrs["employee_id"], "101");
        assert_eq!(dee.attrs["start_date"], "2020-01-02");
        assert_eq!(dee.attrs["end_date"], "2026-11-20");
        assert_eq!(dee.attrs["status"], "terminated");
        assert_eq!(c.resources[1].attrs["status"], "on_leave");
        assert_eq!(c.warnings, vec!["column 'Cost Center' is not used"]);
    }

    #[test]
    fn hr_unknown_status_names_row_and_column() {
        let csv = "email,Employment Status\nana@example.com,active\nben@example.com,retired\n";
        let e = import(csv.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "row 3, column 'Employment Status'");
        assert!(e.message.contains("unknown status 'retired'"), "{e}");
        assert!(
            e.to_string()
                .starts_with("row 3, column 'Employment Status': ")
        );
    }

    #[test]
    fn hr_bad_dates_emails_and_duplicates_are_errors() {
        let e = import(b"email,start_date\nana@example.com,03/04/2024\n", None).unwrap_err();
        assert_eq!(e.place, "row 2, column 'start_date'");
        assert!(e.message.contains("YYYY-MM-DD"));
        let e = import(b"email,name\nnot-an-email,Ana\n", None).unwrap_err();
        assert_eq!(e.place, "row 2, column 'email'");
        let e = import(b"email,name\na@x.com,A\nb@x.com,B\nA@X.com,C\n", None).unwrap_err();
        assert_eq!(e.place, "row 4, column 'email'");
        assert!(
            e.message.contains("already at row 2, column 'email'"),
            "{e}"
        );
        let e = import(
            b"email,start_date,end_date\na@x.com,2024-01-02,2023-01-01\n",
            None,
        )
        .unwrap_err();
        assert_eq!(e.place, "row 2, column 'end_date'");
        let e = import(b"Email,Work Email\na@x.com,b@x.com\n", None).unwrap_err();
        assert_eq!(e.place, "row 1, column 'Work Email'");
        let e = import(b"email,employment_type\na@x.com,gig\n", None).unwrap_err();
        assert_eq!(e.place, "row 2, column 'employment_type'");
    }

    #[test]
    fn hr_shifted_columns_name_the_row() {
        let csv = "email,name,department\na@x.com,Ana,Eng\nb@x.com,Ben, Jr.,Eng\n";
        let e = import(csv.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "row 3");
        assert!(e.message.contains("4 cells but the header has 3"), "{e}");
    }
}
