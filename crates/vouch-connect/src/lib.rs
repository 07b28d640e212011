//! Live connectors: Vouch reads the systems a company runs through their APIs.
//!
//! Each connector fetches what it needs through an [`http::Session`], which handles the
//! transport's bad days (429 with `Retry-After`, transient 5xx with backoff, connection
//! failures) and records every response it reads as a [`Capture`]. The connector then hands the
//! [`CaptureBundle`] to the importer for its system (`vouch-collect`), so a live run and an
//! offline import of the same bundle give the same resources. The bundle is what the app
//! stores in the vault as the run's raw evidence.
//!
//! Connectors never write state: they return a [`Fetched`] or a [`ConnectorError`], and the app
//! decides what to persist (a failed run never replaces the last good state).
#![forbid(unsafe_code)]

pub mod github;
pub mod google;
pub mod http;
pub mod okta;
mod paging;
mod secret;
#[cfg(feature = "test-servers")]
pub mod testing;

pub use http::RetryPolicy;
pub use secret::Secret;
pub use vouch_collect::capture::{Capture, CaptureBundle};
use vouch_collect::{Collection, ImportError};

/// The systems Vouch reads live. AWS is read by the separate crate `vouch-connect-aws`; the
/// variant is here so the app names every integration the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnectorKind {
    Github,
    Okta,
    GoogleWorkspace,
    Aws,
}

impl ConnectorKind {
    pub const ALL: [ConnectorKind; 4] = [
        ConnectorKind::Github,
        ConnectorKind::Okta,
        ConnectorKind::GoogleWorkspace,
        ConnectorKind::Aws,
    ];

    /// The stable name: stored with an integration, and the `system` of its capture bundles.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorKind::Github => "github",
            ConnectorKind::Okta => "okta",
            ConnectorKind::GoogleWorkspace => "google_workspace",
            ConnectorKind::Aws => "aws",
        }
    }

    pub fn parse(s: &str) -> Option<ConnectorKind> {
        let s = s.trim();
        ConnectorKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            ConnectorKind::Github => "GitHub",
            ConnectorKind::Okta => "Okta",
            ConnectorKind::GoogleWorkspace => "Google Workspace",
            ConnectorKind::Aws => "AWS",
        }
    }
}

impl std::fmt::Display for ConnectorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Hands a bundle to its system's importer.
fn import(kind: ConnectorKind, bundle: CaptureBundle) -> Result<Fetched, ConnectorError> {
    let forced = import_kind(kind).ok_or_else(|| {
        ConnectorError::Config(format!("Vouch has no importer for {} yet", kind.label()))
    })?;
    let collection = vouch_collect::import(&bundle.to_bytes(), Some(forced))?;
    Ok(Fetched { bundle, collection })
}

/// The importer that reads this system's capture bundles (`None` for AWS, whose bundles
/// `vouch-connect-aws` reads).
pub fn import_kind(kind: ConnectorKind) -> Option<vouch_collect::ImportKind> {
    match kind {
        ConnectorKind::Github => Some(vouch_collect::ImportKind::GithubJson),
        ConnectorKind::Okta => Some(vouch_collect::ImportKind::OktaJson),
        ConnectorKind::GoogleWorkspace => Some(vouch_collect::ImportKind::GoogleWorkspaceJson),
        ConnectorKind::Aws => None,
    }
}

/// Names the system in an error as people know it (`GitHub`, not the bundle's `github`).
fn relabel(err: ConnectorError, kind: ConnectorKind) -> ConnectorError {
    let label = kind.label().to_string();
    match err {
        ConnectorError::Credentials {
            status,
            request,
            detail,
            ..
        } => ConnectorError::Credentials {
            system: label,
            status,
            request,
            detail,
        },
        ConnectorError::Status {
            status,
            request,
            detail,
            ..
        } => ConnectorError::Status {
            system: label,
            status,
            request,
            detail,
        },
        ConnectorError::Unreachable { url, detail, .. } => ConnectorError::Unreachable {
            system: label,
            url,
            detail,
        },
        ConnectorError::Garbage {
            request, detail, ..
        } => ConnectorError::Garbage {
            system: label,
            request,
            detail,
        },
        other => other,
    }
}

/// The version recorded on every run a connector makes, so a change in how Vouch reads a
/// system can be told apart in the run history.
pub const COLLECTOR_VERSION: &str = concat!("vouch-connect ", env!("CARGO_PKG_VERSION"));

/// What a successful run read and what it means.
#[derive(Debug)]
pub struct Fetched {
    /// Every response, as read; stored in the vault as the run's raw evidence.
    pub bundle: CaptureBundle,
    /// The resources the importer read from the bundle: the system's full current state.
    pub collection: Collection,
}

/// Why a run failed. Each message is meant for the integration's page, as is.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The system refused the credentials (401 or 403 on a request every connector needs).
    #[error(
        "{system} refused the credentials ({status} on {request}): {detail}. Check that the token or key is still valid and has the permissions listed for this integration"
    )]
    Credentials {
        system: String,
        status: u16,
        request: String,
        detail: String,
    },
    /// The system kept failing after every retry, or answered with an unexpected status.
    #[error("{system} answered {status} on {request} ({detail})")]
    Status {
        system: String,
        status: u16,
        request: String,
        detail: String,
    },
    /// The system could not be reached.
    #[error("could not reach {system} at {url}: {detail}")]
    Unreachable {
        system: String,
        url: String,
        detail: String,
    },
    /// The system answered something that is not what its API returns.
    #[error("{system} answered {request} with something that is not its API's shape: {detail}")]
    Garbage {
        system: String,
        request: String,
        detail: String,
    },
    /// The settings are incomplete or wrong.
    #[error("the integration's settings are not usable: {0}")]
    Config(String),
    /// The responses were read but the importer refused them.
    #[error("the responses could not be read: {0}")]
    Import(#[from] ImportError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connector_kinds_round_trip_through_their_names() {
        for kind in ConnectorKind::ALL {
            assert_eq!(ConnectorKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(
            ConnectorKind::parse("google_workspace"),
            Some(ConnectorKind::GoogleWorkspace)
        );
        assert_eq!(ConnectorKind::GoogleWorkspace.label(), "Google Workspace");
        assert_eq!(ConnectorKind::parse("GitHub"), None);
        assert!(import_kind(ConnectorKind::Aws).is_none());
        assert!(import_kind(ConnectorKind::Okta).is_some());
    }

    #[test]
    fn errors_name_the_system_as_people_know_it() {
        let err = ConnectorError::Credentials {
            system: "google_workspace".into(),
            status: 401,
            request: "GET /x".into(),
            detail: "no".into(),
        };
        let msg = relabel(err, ConnectorKind::GoogleWorkspace).to_string();
        assert!(
            msg.starts_with("Google Workspace refused the credentials (401 on GET /x): no."),
            "{msg}"
        );
    }
}
