//! The vault's errors. Each message says what failed and where (the path, key or URL).

use std::io;
use std::path::PathBuf;

/// A vault operation failed.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The vault URL or S3 settings are unusable.
    #[error("vault URL {url:?}: {reason}")]
    Config { url: String, reason: String },

    /// A hash argument was not 64 lowercase hex digits.
    #[error("{value:?} is not a blob name (64 lowercase hexadecimal digits of a SHA-256)")]
    InvalidHash { value: String },

    /// There is no blob under that name.
    #[error("blob {sha256} is not in the vault (looked at {location})")]
    NotFound { sha256: String, location: String },

    /// A file-system operation failed.
    #[error("could not {op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The object store refused the credentials or the permission.
    #[error(
        "the object store refused to {op} {location}: check the access key, the secret and the \
         bucket's permissions ({source})"
    )]
    Denied {
        op: &'static str,
        location: String,
        #[source]
        source: object_store::Error,
    },

    /// Any other object-store failure (unreachable server, unexpected answer, ...).
    #[error("could not {op} {location}: {source}")]
    Store {
        op: &'static str,
        location: String,
        #[source]
        source: object_store::Error,
    },

    /// The staged file no longer matches what staging measured, so it was not stored.
    #[error(
        "the staged file {} changed after staging (expected {expected}); it was not stored",
        path.display()
    )]
    StagedFileChanged { path: PathBuf, expected: String },
}

/// Staging an upload failed; the staging file has been removed.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// More than `limit` bytes arrived.
    #[error("the upload is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },

    /// The body stream itself failed (for example, the client went away).
    #[error("reading the upload failed: {source}")]
    Body {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// Writing the staging file failed.
    #[error("could not {op} the staging file {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

pub(crate) fn io_err(
    op: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(io::Error) -> VaultError {
    move |source| VaultError::Io {
        op,
        path: path.into(),
        source,
    }
}
