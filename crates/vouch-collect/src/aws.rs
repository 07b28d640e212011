//! AWS IAM credential report (CSV from `aws iam get-credential-report`, base64-decoded).
//!
//! Detection: a CSV header with `user`, `arn`, `password_enabled` and `mfa_active`.
//!
//! Each row becomes an `account` in system `aws`, keyed by its ARN; the `<root_account>` row
//! is the root account (`is_root: true`). Booleans are `true`/`false` (any case, as a
//! spreadsheet may have rewritten them). Timestamps are ISO 8601 and are normalised to UTC
//! (`2024-01-15T10:00:00Z`). Sentinels: `N/A` (no key, never used) and `not_supported` (root's
//! `password_enabled`, `password_last_changed`, `password_next_rotation`) become `null`;
//! `no_information` in `password_last_used` becomes `null` with
//! `password_last_used_no_information: true` (used, but before AWS tracked it).
//!
//! Derived attributes: `username` (the `user`, so accounts can be linked to people), `mfa` (the
//! same as `mfa_active`), `account_id` (from the ARN), `access_keys_active` (0–2) and
//! `last_used` (the latest of password and key use). Access-key *ages* need "now", which an
//! importer does not read: `access_key_N_last_rotated` is kept as a normalised instant and a
//! test computes the age at its `now` (the report's `GeneratedTime`, kept by the caller as
//! `observed_at`).
use crate::text::{Table, format_instant, parse_instant};
use crate::{Collection, ImportError, ImportKind, Out};
use serde_json::Value;
use vouch_domain::resource::{Resource, ResourceKind};

/// Columns the import needs (the rest of AWS's header is read when present).
pub const REQUIRED: [&str; 13] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
];

const BOOLS: [&str; 6] = [
    "password_enabled",
    "mfa_active",
    "access_key_1_active",
    "access_key_2_active",
    "cert_1_active",
    "cert_2_active",
];

const INSTANTS: [&str; 10] = [
    "user_creation_time",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "cert_1_last_rotated",
    "cert_2_last_rotated",
];

const TEXTS: [&str; 4] = [
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
];

pub(crate) fn is_credential_report(header: &[String]) -> bool {
    ["user", "arn", "password_enabled", "mfa_active"]
        .iter()
        .all(|c| header.iter().any(|h| h == c))
}

fn is_sentinel(v: &str) -> bool {
    matches!(v, "N/A" | "not_supported" | "no_information")
}

pub(crate) fn import_credential_report(
    t: &Table,
    observed_at: Option<i64>,
) -> Result<Collection, ImportError> {
    let mut out = Out::new(ImportKind::AwsCredentialReport);
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|c| t.col(c).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::new(
            "row 1",
            format!(
                "the credential report lacks the column(s) {}",
                missing.join(", ")
            ),
        ));
    }
    let known: Vec<&str> = BOOLS
        .iter()
        .chain(&INSTANTS)
        .chain(&TEXTS)
        .chain(&["user", "arn"])
        .copied()
        .collect();
    for (h, k) in t.headers.iter().zip(&t.keys) {
        if !known.contains(&k.as_str()) {
            out.warnings.push(format!("column '{h}' is not used"));
        }
    }
    let mut accounts = std::collections::BTreeSet::new();
    for row in &t.rows {
        let n = row.number;
        let place = |c: &str| t.place(n, t.col(c).unwrap_or(0));
        let user = t
            .cell(row, t.col("user"))
            .ok_or_else(|| ImportError::new(place("user"), "the user is empty"))?;
        let arn = t
            .cell(row, t.col("arn"))
            .ok_or_else(|| ImportError::new(place("arn"), "the ARN is empty"))?;
        let parts: Vec<&str> = arn.split(':').collect();
        if parts.len() < 6 || parts[0] != "arn" || parts[2] != "iam" || parts[4].is_empty() {
            return Err(ImportError::new(
                place("arn"),
                format!("'{arn}' is not an IAM ARN (arn:aws:iam::<account>:…)"),
            ));
        }
        accounts.insert(parts[4].to_string());
        let is_root = user == "<root_account>";
        let mut r = Resource::new(ResourceKind::Account, "aws", arn)
            .with("user", user)
            .with("username", user)
            .with("arn", arn)
            .with("account_id", parts[4])
            .with("is_root", is_root);
        for c in BOOLS {
            let Some(v) = t.cell(row, t.col(c)) else {
                continue;
            };
            let b = match v.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ if is_sentinel(v) => Value::Null,
                _ => {
                    return Err(ImportError::new(
                        place(c),
                        format!("'{v}' is not true, false or not_supported"),
                    ));
                }
            };
            r = r.with(c, b);
        }
        let mut last_used: Option<i64> = None;
        for c in INSTANTS {
            let Some(v) = t.cell(row, t.col(c)) else {
                continue;
            };
            if is_sentinel(v) {
                r = r.with(c, Value::Null);
                if v == "no_information" {
                    r = r.with(&format!("{c}_no_information"), true);
                }
                continue;
            }
            let Some(secs) = parse_instant(v) else {
                return Err(ImportError::new(
                    place(c),
                    format!("'{v}' is not an ISO 8601 time, N/A, no_information or not_supported"),
                ));
            };
            if c.ends_with("last_used") || c.ends_with("last_used_date") {
                last_used = last_used.max(Some(secs));
            }
            if let (Some(key), Some(now)) = (c.strip_suffix("_last_rotated"), observed_at)
                && key.starts_with("access_key_")
            {
                r = r.with(&format!("{key}_age_days"), (now - secs).div_euclid(86400));
            }
            r = r.with(c, format_instant(secs));
        }
        for c in TEXTS {
            if let Some(v) = t.cell(row, t.col(c)) {
                r = r.with(
                    c,
                    if is_sentinel(v) {
                        Value::Null
                    } else {
                        v.into()
                    },
                );
            }
        }
        let active = ["access_key_1_active", "access_key_2_active"]
            .iter()
            .filter(|c| r.attrs.get(**c) == Some(&Value::Bool(true)))
            .count();
        // The attribute every account importer gives (see the crate docs), next to AWS's own.
        let mfa = r.attrs.get("mfa_active").cloned().unwrap_or(Value::Null);
        r = r
            .with("mfa", mfa)
            .with("access_keys_active", active)
            .with("last_used", last_used.map(format_instant));
        out.push(r, place("arn"))?;
    }
    if accounts.len() > 1 {
        out.warnings.push(format!(
            "the report covers several AWS accounts ({}); a credential report normally covers one",
            accounts.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(out.finish("aws"))
}

#[cfg(test)]
mod tests {
    use crate::{ImportKind, import, import_at};
    use serde_json::Value;

    pub(crate) const REPORT: &str = "\
user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::123456789012:root,2019-04-01T09:00:00+00:00,not_supported,2026-11-02T08:15:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
alice,arn:aws:iam::123456789012:user/alice,2021-05-10T12:00:00+00:00,true,no_information,2021-05-10T12:05:00+00:00,N/A,false,true,2025-01-20T10:00:00+00:00,2026-11-22T23:10:00+00:00,eu-west-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
ci-bot,arn:aws:iam::123456789012:user/ci-bot,2022-02-02T02:02:02+00:00,false,N/A,N/A,N/A,false,true,2026-06-01T00:00:00+00:00,2026-11-23T05:00:00+00:00,us-east-1,ecr,true,2026-09-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A
";

    #[test]
    fn aws_credential_report_becomes_accounts() {
        let c = import(REPORT.as_bytes(), None).unwrap();
        assert_eq!(c.kind, ImportKind::AwsCredentialReport);
        assert_eq!(c.system, "aws");
        assert_eq!(c.resources.len(), 3);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let root = &c.resources[0];
        assert_eq!(root.key, "arn:aws:iam::123456789012:root");
        assert_eq!(root.attrs["is_root"], true);
        assert_eq!(root.attrs["password_enabled"], Value::Null);
        assert_eq!(root.attrs["mfa_active"], true);
        assert_eq!(root.attrs["account_id"], "123456789012");
        assert_eq!(root.attrs["last_used"], "2026-11-02T08:15:00Z");
        let alice = &c.resources[1];
        assert_eq!(alice.attrs["is_root"], false);
        assert_eq!(alice.attrs["mfa_active"], false);
        assert_eq!(alice.attrs["password_enabled"], true);
        assert_eq!(alice.attrs["password_last_used"], Value::Null);
        assert_eq!(alice.attrs["password_last_used_no_information"], true);
        assert_eq!(
            alice.attrs["access_key_1_last_rotated"],
            "2025-01-20T10:00:00Z"
        );
        assert_eq!(alice.attrs["access_key_1_last_used_region"], "eu-west-1");
        assert_eq!(alice.attrs["access_keys_active"], 1);
        assert_eq!(alice.attrs["last_used"], "2026-11-22T23:10:00Z");
        let bot = &c.resources[2];
        assert_eq!(bot.attrs["access_keys_active"], 2);
        assert_eq!(bot.attrs["access_key_2_last_used_date"], Value::Null);
        assert_eq!(bot.attrs["last_used"], "2026-11-23T05:00:00Z");
    }

    #[test]
    fn aws_key_ages_are_computed_at_the_observed_time() {
        let c = import_at(REPORT.as_bytes(), None, Some("2026-11-23T06:00:00Z")).unwrap();
        assert!(c.resources[0].attrs.get("access_key_1_age_days").is_none());
        assert_eq!(c.resources[1].attrs["access_key_1_age_days"], 671);
        assert!(c.resources[1].attrs.get("access_key_2_age_days").is_none());
        assert_eq!(c.resources[2].attrs["access_key_1_age_days"], 175);
        assert_eq!(c.resources[2].attrs["access_key_2_age_days"], 83);
        let e = import_at(REPORT.as_bytes(), None, Some("yesterday")).unwrap_err();
        assert_eq!(e.place, "observed_at");
        let c = import(REPORT.as_bytes(), None).unwrap();
        assert!(c.resources[2].attrs.get("access_key_1_age_days").is_none());
    }

    #[test]
    fn aws_bad_values_name_row_and_column() {
        let bad = REPORT.replacen(",false,true,2025-01-20", ",maybe,true,2025-01-20", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "row 3, column 'mfa_active'");
        let bad = REPORT.replacen("2025-01-20T10:00:00+00:00", "20/01/2025", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "row 3, column 'access_key_1_last_rotated'");
        let bad = REPORT.replacen("arn:aws:iam::123456789012:user/ci-bot", "ci-bot", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "row 4, column 'arn'");
        let dup = format!("{REPORT}{}", REPORT.lines().nth(2).unwrap());
        let e = import(dup.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "row 5, column 'arn'");
        assert!(e.message.contains("duplicate account"), "{e}");
    }

    #[test]
    fn aws_missing_columns_are_listed() {
        let e = import(
            b"user,arn,password_enabled,mfa_active\nx,arn:aws:iam::1:user/x,true,true\n",
            Some(ImportKind::AwsCredentialReport),
        )
        .unwrap_err();
        assert_eq!(e.place, "row 1");
        assert!(e.message.contains("user_creation_time"), "{e}");
    }
}
