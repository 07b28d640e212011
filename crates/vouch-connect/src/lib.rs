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

pub mod http;
mod secret;

pub use secret::Secret;
pub use vouch_collect::capture::{Capture, CaptureBundle};
use vouch_collect::{Collection, ImportError};

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
