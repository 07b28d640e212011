//! Evidence records: what a piece of evidence claims (title, the controls it supports, the
//! period it covers) and how its file names are made safe. The bytes themselves live in the
//! blob vault (`vouch-evidence`); a record only points at them by SHA-256.
//!
//! The *period* is when the evidence is true of the system (the quarter an access review
//! covered, the day a configuration was exported), not when it was uploaded. Freshness and the
//! Type II tests are judged on the period; upload time is only recorded.
use crate::control::normalize_id;
use crate::validate::FieldError;
use serde::{Deserialize, Serialize};
use time::Date;

/// Where a revision came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceSource {
    /// Uploaded by a person.
    Upload,
    /// Collected by an integration.
    Integration,
    /// Produced by Vouch itself (a report, an export, a test run).
    Vouch,
}

impl EvidenceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceSource::Upload => "upload",
            EvidenceSource::Integration => "integration",
            EvidenceSource::Vouch => "vouch",
        }
    }

    pub fn parse(s: &str) -> Option<EvidenceSource> {
        match s {
            "upload" => Some(EvidenceSource::Upload),
            "integration" => Some(EvidenceSource::Integration),
            "vouch" => Some(EvidenceSource::Vouch),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EvidenceSource::Upload => "Uploaded",
            EvidenceSource::Integration => "Collected by an integration",
            EvidenceSource::Vouch => "Produced by Vouch",
        }
    }
}

/// The longest file name kept, in bytes; longer names are shortened (keeping the extension).
pub const MAX_FILE_NAME: usize = 200;

/// What a person (or an integration) says about a new evidence revision. Files are checked
/// separately, as they stream in; `validate` gets their count.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct EvidenceInput {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// A link to where the evidence lives (a ticket, a document), instead of or beside files.
    #[serde(default)]
    pub link: Option<String>,
    /// Control ids the evidence supports.
    #[serde(default)]
    pub controls: Vec<String>,
    /// First day the evidence covers.
    pub period_start: Option<Date>,
    /// Last day it covers; the same as the start (or absent) for a point in time.
    #[serde(default)]
    pub period_end: Option<Date>,
}

/// A validated input: the period is always a closed range of days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidEvidence {
    pub title: String,
    pub description: String,
    pub link: Option<String>,
    pub controls: Vec<String>,
    pub period_start: Date,
    pub period_end: Date,
}

impl EvidenceInput {
    /// Checks the record's own fields; whether the controls exist is the app's question.
    /// `files` is how many files come with it: a record needs files or a link.
    pub fn validate(self, files: usize) -> Result<ValidEvidence, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = self.title.trim().to_string();
        if title.is_empty() {
            errors.push(FieldError::new("title", "is required"));
        } else if title.chars().count() > 200 {
            errors.push(FieldError::new("title", "must be at most 200 characters"));
        } else if title.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "title",
                "must not contain control characters",
            ));
        }
        let description = self.description.trim().to_string();
        if description.chars().count() > 10_000 {
            errors.push(FieldError::new(
                "description",
                "must be at most 10,000 characters",
            ));
        }
        let link = self
            .link
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty());
        if let Some(l) = &link {
            let lower = l.to_ascii_lowercase();
            if !(lower.starts_with("https://") || lower.starts_with("http://"))
                || l.len() > 2000
                || l.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                errors.push(FieldError::new(
                    "link",
                    format!("'{l}' is not an http(s) address"),
                ));
            }
        }
        if files == 0 && link.is_none() {
            errors.push(FieldError::new(
                "files",
                "attach at least one file or give a link",
            ));
        }
        let mut controls = Vec::new();
        for raw in &self.controls {
            if raw.trim().is_empty() {
                continue;
            }
            match normalize_id(raw) {
                Ok(id) if !controls.contains(&id) => controls.push(id),
                Ok(_) => {}
                Err(m) => errors.push(FieldError::new("controls", m)),
            }
        }
        if controls.is_empty() && errors.iter().all(|e| e.field != "controls") {
            errors.push(FieldError::new(
                "controls",
                "name at least one control the evidence supports",
            ));
        }
        controls.sort();
        let (period_start, period_end) = match (self.period_start, self.period_end) {
            (None, _) => {
                errors.push(FieldError::new(
                    "period_start",
                    "is required: the date (or first day) the evidence covers",
                ));
                (Date::MIN, Date::MIN)
            }
            (Some(s), None) => (s, s),
            (Some(s), Some(e)) => {
                if e < s {
                    errors.push(FieldError::new(
                        "period_end",
                        format!("{e} is before the period start {s}"),
                    ));
                }
                (s, e)
            }
        };
        if errors.is_empty() {
            Ok(ValidEvidence {
                title,
                description,
                link,
                controls,
                period_start,
                period_end,
            })
        } else {
            Err(errors)
        }
    }
}

/// One stored file of a revision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EvidenceFile {
    /// 1-based place in the revision (the download address uses it).
    pub position: i64,
    pub name: String,
    /// Lowercase hex SHA-256 of the bytes: the blob's address in the vault.
    pub sha256: String,
    pub size: u64,
    pub media_type: String,
}

/// One revision of an evidence record. Revisions are never changed; a correction adds one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EvidenceRevision {
    pub revision: i64,
    pub title: String,
    pub description: String,
    pub link: Option<String>,
    pub period_start: Date,
    pub period_end: Date,
    pub source: EvidenceSource,
    /// For collected evidence: which integration or run.
    pub source_detail: Option<String>,
    /// Why the revision was made (empty for the first).
    pub note: String,
    pub created_by: Option<String>,
    pub created_by_label: String,
    pub created_at: String,
    pub controls: Vec<String>,
    pub files: Vec<EvidenceFile>,
}

/// An evidence record with its current revision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Evidence {
    /// `EV-` and a sequence number.
    pub id: String,
    /// Who added the first revision.
    pub created_by: Option<String>,
    pub created_at: String,
    /// When retention purged the files; the record stays as a tombstone.
    pub purged_at: Option<String>,
    pub current: EvidenceRevision,
}

/// An evidence record with every revision, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EvidenceHistory {
    #[serde(flatten)]
    pub evidence: Evidence,
    pub revisions: Vec<EvidenceRevision>,
}

/// Makes an uploaded file name safe to store and to offer back as a download name: only the
/// last path component, no control characters, no leading dots, bounded length. Never empty.
pub fn safe_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .trim()
        .to_string();
    let mut name = if cleaned.is_empty() {
        "file".to_string()
    } else {
        cleaned
    };
    if name.len() > MAX_FILE_NAME {
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e)
            .filter(|e| e.len() <= 16)
            .map(|e| format!(".{e}"))
            .unwrap_or_default();
        let mut cut = MAX_FILE_NAME - ext.len();
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name = format!("{}{ext}", &name[..cut]);
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn input() -> EvidenceInput {
        EvidenceInput {
            title: "Q3 access review".into(),
            description: String::new(),
            link: None,
            controls: vec!["iam-05".into()],
            period_start: Some(date!(2026 - 07 - 01)),
            period_end: Some(date!(2026 - 09 - 30)),
        }
    }

    #[test]
    fn a_valid_record_is_normalised() {
        let v = input().validate(1).unwrap();
        assert_eq!(v.controls, vec!["IAM-05".to_string()]);
        let mut point = input();
        point.period_end = None;
        let v = point.validate(1).unwrap();
        assert_eq!(v.period_start, v.period_end);
    }

    #[test]
    fn bad_records_name_every_problem() {
        let mut bad = input();
        bad.title = " ".into();
        bad.period_end = Some(date!(2026 - 06 - 30));
        bad.controls = vec![];
        bad.link = Some("ftp://x".into());
        let errs = bad.validate(0).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["title", "link", "controls", "period_end"],
            "{errs:?}"
        );
        assert!(
            errs[3]
                .message
                .contains("before the period start 2026-07-01")
        );
    }

    #[test]
    fn a_link_alone_is_enough() {
        let mut linked = input();
        linked.link = Some("https://tickets.example/ACC-12".into());
        assert!(linked.validate(0).is_ok());
        assert!(input().validate(0).is_err());
    }

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\Users\\a\\report.pdf"), "report.pdf");
        assert_eq!(safe_file_name("evil\u{0}\nname.txt"), "evilname.txt");
        assert_eq!(safe_file_name(".."), "file");
        assert_eq!(safe_file_name(".hidden"), "hidden");
        assert_eq!(safe_file_name(""), "file");
        let long = format!("{}.xlsx", "é".repeat(300));
        let safe = safe_file_name(&long);
        assert!(
            safe.len() <= MAX_FILE_NAME && safe.ends_with(".xlsx"),
            "{safe}"
        );
    }
}
