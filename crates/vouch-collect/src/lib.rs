//! Importers: the bytes of an exported file in, typed [`Resource`]s out.
//!
//! Each importer is a pure function from `&[u8]` to a [`Collection`] (or an [`ImportError`]
//! naming the place of the first problem: `row 12, column 'status'`,
//! `$.Results[3].Vulnerabilities[0].Severity`, `line 4, column 17`). Nothing here writes state,
//! reads a clock or touches files or the network: the app stores the raw file as evidence and
//! persists the resources (architecture invariant 4).
//!
//! [`detect`] recognises a file by its content, never its name; [`import`] detects, checks a
//! format the caller forces against what the content is, and dispatches.
//!
//! **Size.** Files are read whole here (JSON into a `serde_json::Value`, CSV into records), so
//! memory is proportional to the file. Size limits are the caller's job: the app must refuse an
//! upload above its limit before calling [`import`].
//!
//! Formats (field names as in the evidence-formats reference, `reference/evidence-formats.md`):
//! HR roster CSV ([`hr`]), AWS IAM credential report ([`aws`]), Trivy JSON and Grype JSON
//! ([`scanners`]), SARIF 2.1.0 ([`sarif`]), Vouch's generic JSON and CSV ([`generic`]),
//! GitHub, Okta and Google Workspace capture bundles or saved API responses ([`github`],
//! [`okta`], [`google_workspace`]), Prowler's JSON-OCSF ([`prowler`]), and osquery results
//! logs and Fleet host details ([`devices`]).
//!
//! **Accounts.** The app links every `account` to a person from the HR roster, and checks
//! MFA, admin rights and leavers across systems, so each importer of accounts gives these
//! attributes, whatever its system calls them, whenever the source says:
//!
//! - `username`: the login in that system (AWS `user`, GitHub login, Okta `profile.login`,
//!   Google `primaryEmail`);
//! - `email`: lower case;
//! - `active`: a boolean, whether the account can still be used;
//! - `admin`: a boolean, or null when the source does not say;
//! - `mfa`: a boolean, or null when the source does not say.
//!
//! Null means *unknown* and is kept apart from `false`: a GitHub bundle without the
//! `filter=2fa_disabled` list says nothing about two-factor authentication, and treating that
//! as "no MFA" (or as "MFA") would make a test pass or fail on data nobody collected.
#![forbid(unsafe_code)]

pub mod aws;
pub mod capture;
pub mod devices;
pub mod generic;
pub mod github;
pub mod google_workspace;
pub mod hr;
pub mod okta;
pub mod prowler;
pub mod sarif;
pub mod scanners;
mod text;

use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use vouch_domain::resource::{Resource, ResourceKind};

/// The formats Vouch can import.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    HrRosterCsv,
    AwsCredentialReport,
    TrivyJson,
    GrypeJson,
    Sarif,
    GenericJson,
    GenericCsv,
    /// Responses the live AWS connector read (`vouch-connect-aws` turns them into resources;
    /// they are never detected in an uploaded file).
    AwsApi,
    GithubJson,
    OktaJson,
    GoogleWorkspaceJson,
    ProwlerOcsf,
    OsqueryResults,
    FleetJson,
}

/// How a format's bytes are read before its importer sees them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// One JSON document.
    Json,
    /// JSON text, one document per line (read by the importer, line by line).
    JsonLines,
    Csv,
}

impl ImportKind {
    pub const ALL: [ImportKind; 14] = [
        ImportKind::HrRosterCsv,
        ImportKind::AwsCredentialReport,
        ImportKind::TrivyJson,
        ImportKind::GrypeJson,
        ImportKind::Sarif,
        ImportKind::GenericJson,
        ImportKind::GenericCsv,
        ImportKind::AwsApi,
        ImportKind::GithubJson,
        ImportKind::OktaJson,
        ImportKind::GoogleWorkspaceJson,
        ImportKind::ProwlerOcsf,
        ImportKind::OsqueryResults,
        ImportKind::FleetJson,
    ];

    /// What a person calls it.
    pub fn label(self) -> &'static str {
        match self {
            ImportKind::HrRosterCsv => "HR roster CSV",
            ImportKind::AwsCredentialReport => "AWS IAM credential report",
            ImportKind::TrivyJson => "Trivy JSON report",
            ImportKind::GrypeJson => "Grype JSON report",
            ImportKind::Sarif => "SARIF 2.1.0 log",
            ImportKind::GenericJson => "Vouch generic JSON",
            ImportKind::GenericCsv => "Vouch generic CSV",
            ImportKind::AwsApi => "AWS API capture",
            ImportKind::GithubJson => "GitHub export",
            ImportKind::OktaJson => "Okta export",
            ImportKind::GoogleWorkspaceJson => "Google Workspace directory export",
            ImportKind::ProwlerOcsf => "Prowler OCSF JSON",
            ImportKind::OsqueryResults => "osquery results log",
            ImportKind::FleetJson => "Fleet host export",
        }
    }

    /// The label with its article: "an HR roster CSV", "a Trivy JSON report".
    pub fn with_article(self) -> String {
        let article = match self {
            ImportKind::HrRosterCsv
            | ImportKind::AwsCredentialReport
            | ImportKind::AwsApi
            | ImportKind::OktaJson
            | ImportKind::OsqueryResults => "an",
            _ => "a",
        };
        format!("{article} {}", self.label())
    }

    /// The stable identifier (as serde writes it): `hr_roster_csv`, `trivy_json`, …
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::HrRosterCsv => "hr_roster_csv",
            ImportKind::AwsCredentialReport => "aws_credential_report",
            ImportKind::TrivyJson => "trivy_json",
            ImportKind::GrypeJson => "grype_json",
            ImportKind::Sarif => "sarif",
            ImportKind::GenericJson => "generic_json",
            ImportKind::GenericCsv => "generic_csv",
            ImportKind::AwsApi => "aws_api",
            ImportKind::GithubJson => "github_json",
            ImportKind::OktaJson => "okta_json",
            ImportKind::GoogleWorkspaceJson => "google_workspace_json",
            ImportKind::ProwlerOcsf => "prowler_ocsf",
            ImportKind::OsqueryResults => "osquery_results",
            ImportKind::FleetJson => "fleet_json",
        }
    }

    pub fn parse(s: &str) -> Option<ImportKind> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        ImportKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn shape(self) -> Shape {
        match self {
            ImportKind::HrRosterCsv | ImportKind::AwsCredentialReport | ImportKind::GenericCsv => {
                Shape::Csv
            }
            ImportKind::OsqueryResults => Shape::JsonLines,
            _ => Shape::Json,
        }
    }

    /// Recognises a file by its content (see each importer for its rule); `None` when it is
    /// none of the formats, or not even readable JSON or CSV.
    pub fn detect(bytes: &[u8]) -> Option<ImportKind> {
        match text::sniff(bytes).ok()? {
            text::Sniffed::Json(t) if devices::is_results_log(t) => {
                Some(ImportKind::OsqueryResults)
            }
            text::Sniffed::Json(t) => detect_json(&serde_json::from_str(t).ok()?),
            text::Sniffed::Csv(t) => detect_csv(&text::read_header(t).ok()?),
        }
    }
}

/// [`ImportKind::detect`] as a free function.
pub fn detect(bytes: &[u8]) -> Option<ImportKind> {
    ImportKind::detect(bytes)
}

fn detect_json(v: &Value) -> Option<ImportKind> {
    // A capture bundle says which system it is from; bundles of systems without an importer
    // of uploaded files (AWS) are not recognised.
    if capture::is_bundle(v) {
        return if github::is_bundle(v) {
            Some(ImportKind::GithubJson)
        } else if okta::is_bundle(v) {
            Some(ImportKind::OktaJson)
        } else if google_workspace::is_bundle(v) {
            Some(ImportKind::GoogleWorkspaceJson)
        } else {
            None
        };
    }
    if scanners::is_trivy(v) {
        Some(ImportKind::TrivyJson)
    } else if scanners::is_grype(v) {
        Some(ImportKind::GrypeJson)
    } else if sarif::is_sarif(v) {
        Some(ImportKind::Sarif)
    } else if generic::is_generic_json(v) {
        Some(ImportKind::GenericJson)
    } else if prowler::is_ocsf(v) {
        Some(ImportKind::ProwlerOcsf)
    } else if github::is_repositories(v) || github::is_pull_requests(v) {
        Some(ImportKind::GithubJson)
    } else if okta::is_users(v) {
        Some(ImportKind::OktaJson)
    } else if google_workspace::is_users(v) {
        Some(ImportKind::GoogleWorkspaceJson)
    } else if devices::is_fleet(v) {
        Some(ImportKind::FleetJson)
    } else {
        None
    }
}

fn detect_csv(header: &[String]) -> Option<ImportKind> {
    if generic::is_generic_csv(header) {
        Some(ImportKind::GenericCsv)
    } else if aws::is_credential_report(header) {
        Some(ImportKind::AwsCredentialReport)
    } else if hr::is_roster(header) {
        Some(ImportKind::HrRosterCsv)
    } else {
        None
    }
}

/// What one import produced.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Collection {
    pub kind: ImportKind,
    /// The system the resources describe (`hr`, `aws`, `trivy`, a SARIF tool's name, …).
    pub system: String,
    /// Validated, with unique (kind, system, key).
    pub resources: Vec<Resource>,
    /// Things worth telling the person importing that did not stop the import (ignored
    /// columns, parts of a report that are not imported).
    pub warnings: Vec<String>,
}

/// The problem that stopped an import, and where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{place}: {message}")]
pub struct ImportError {
    /// `file` for the file as a whole; `row 12, column 'status'` or `row 12` for CSV (the
    /// header is row 1); a JSON path such as `$.Results[3].Vulnerabilities[0].Severity`; or
    /// `line 4, column 17` for JSON that does not parse.
    pub place: String,
    pub message: String,
}

impl ImportError {
    pub fn new(place: impl Into<String>, message: impl Into<String>) -> ImportError {
        ImportError {
            place: place.into(),
            message: message.into(),
        }
    }

    /// A problem with the file as a whole.
    pub fn file(message: impl Into<String>) -> ImportError {
        ImportError::new("file", message)
    }
}

/// Imports a file. With `forced`, the caller says what the file is meant to be: if the content
/// is recognisably something else, the error names both ("this is a Grype JSON report, not a
/// Trivy JSON report"); if it is recognisably nothing, the forced importer reads it and names
/// what is missing.
pub fn import(bytes: &[u8], forced: Option<ImportKind>) -> Result<Collection, ImportError> {
    import_at(bytes, forced, None)
}

/// [`import`] with the time the file describes, when the caller knows it (for the AWS
/// credential report, the `GeneratedTime` of `get-credential-report`, RFC 3339). It adds what
/// needs a "now": `access_key_1_age_days` and `access_key_2_age_days`. Other formats ignore it.
/// The importer never reads a clock itself.
pub fn import_at(
    bytes: &[u8],
    forced: Option<ImportKind>,
    observed_at: Option<&str>,
) -> Result<Collection, ImportError> {
    let observed = match observed_at {
        None => None,
        Some(s) => Some(text::parse_instant(s).ok_or_else(|| {
            ImportError::new(
                "observed_at",
                format!("'{s}' is not an RFC 3339 time such as 2026-11-23T06:00:00Z"),
            )
        })?),
    };
    let (found, read) = match text::sniff(bytes)? {
        // Checked first: a log of several lines is not one JSON document.
        text::Sniffed::Json(t) if devices::is_results_log(t) => {
            (Some(ImportKind::OsqueryResults), Read::Lines(t))
        }
        text::Sniffed::Json(t) => match text::parse_json(t) {
            Ok(v) => (detect_json(&v), Read::Json(v, t)),
            // A results log with a damaged first line is not recognised, and is not one JSON
            // document either: when the caller says it is a log, its importer names the line.
            Err(_) if forced == Some(ImportKind::OsqueryResults) => (None, Read::Lines(t)),
            Err(e) => return Err(e),
        },
        text::Sniffed::Csv(t) => (detect_csv(&text::read_header(t)?), Read::Csv),
    };
    let kind = match (forced, found) {
        (Some(f), Some(d)) if f != d => {
            return Err(ImportError::file(format!(
                "this is {}, not {}",
                d.with_article(),
                f.with_article()
            )));
        }
        (Some(f), _) => f,
        (None, Some(d)) => d,
        (None, None) => {
            let what = if matches!(read, Read::Csv) {
                "CSV"
            } else {
                "JSON"
            };
            return Err(ImportError::file(format!(
                "this {what} file is not a format Vouch recognises; expected one of: {}",
                ImportKind::ALL.map(ImportKind::label).join(", ")
            )));
        }
    };
    match (&read, kind.shape()) {
        (Read::Json(..) | Read::Lines(_), Shape::Csv) => {
            return Err(ImportError::file(format!(
                "this is JSON, not {}",
                kind.with_article()
            )));
        }
        (Read::Csv, Shape::Json | Shape::JsonLines) => {
            return Err(ImportError::file(format!(
                "this is not JSON, so not {}",
                kind.with_article()
            )));
        }
        _ => {}
    }
    match (kind, read) {
        (ImportKind::TrivyJson, Read::Json(v, _)) => scanners::import_trivy(&v),
        (ImportKind::GrypeJson, Read::Json(v, _)) => scanners::import_grype(&v),
        (ImportKind::Sarif, Read::Json(v, _)) => sarif::import_sarif(&v),
        (ImportKind::GenericJson, Read::Json(v, _)) => generic::import_json(&v),
        (ImportKind::GithubJson, Read::Json(v, _)) => github::import_github(&v),
        (ImportKind::OktaJson, Read::Json(v, _)) => okta::import_okta(&v),
        (ImportKind::GoogleWorkspaceJson, Read::Json(v, _)) => {
            google_workspace::import_google_workspace(&v)
        }
        (ImportKind::ProwlerOcsf, Read::Json(v, _)) => prowler::import_ocsf(&v),
        (ImportKind::FleetJson, Read::Json(v, _)) => devices::import_fleet(&v),
        (ImportKind::OsqueryResults, Read::Lines(t) | Read::Json(_, t)) => {
            devices::import_osquery(t)
        }
        (ImportKind::HrRosterCsv, Read::Csv) => hr::import_roster(&text::read_table(bytes)?),
        (ImportKind::AwsCredentialReport, Read::Csv) => {
            aws::import_credential_report(&text::read_table(bytes)?, observed)
        }
        (ImportKind::GenericCsv, Read::Csv) => generic::import_csv(&text::read_table(bytes)?),
        (kind, _) => Err(ImportError::file(format!(
            "cannot read this as {}",
            kind.with_article()
        ))),
    }
}

/// What [`import_at`] read the bytes as.
enum Read<'t> {
    /// One JSON document, and its text.
    Json(Value, &'t str),
    /// JSON lines, left to the importer.
    Lines(&'t str),
    Csv,
}

/// Collects resources, validating each and refusing a repeated (kind, system, key).
pub(crate) struct Out {
    kind: ImportKind,
    resources: Vec<Resource>,
    seen: HashMap<(ResourceKind, String, String), String>,
    pub(crate) warnings: Vec<String>,
}

impl Out {
    pub(crate) fn new(kind: ImportKind) -> Out {
        Out {
            kind,
            resources: Vec::new(),
            seen: HashMap::new(),
            warnings: Vec::new(),
        }
    }

    /// Adds a resource read at `place` (`key_place` is where its key came from, for messages).
    pub(crate) fn push(&mut self, r: Resource, key_place: String) -> Result<(), ImportError> {
        r.validate()
            .map_err(|e| ImportError::new(key_place.clone(), e.to_string()))?;
        let id = (r.kind, r.system.clone(), r.key.clone());
        if let Some(first) = self.seen.get(&id) {
            return Err(ImportError::new(
                key_place,
                format!(
                    "duplicate {} '{}': the same key is already at {first}",
                    r.kind, r.key
                ),
            ));
        }
        self.seen.insert(id, key_place);
        self.resources.push(r);
        Ok(())
    }

    /// Checks a system name read at `place` (so a bad one is reported where it was written).
    pub(crate) fn check_system(system: &str, place: &str) -> Result<(), ImportError> {
        Resource::new(ResourceKind::Person, system, "-")
            .validate()
            .map_err(|e| ImportError::new(place, e.to_string()))
    }

    pub(crate) fn finish(self, system: impl Into<String>) -> Collection {
        Collection {
            kind: self.kind,
            system: system.into(),
            resources: self.resources,
            warnings: self.warnings,
        }
    }
}

#[cfg(test)]
mod tests;
