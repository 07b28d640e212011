//! The evidence vault: write-once, content-addressed blobs.
//!
//! Every piece of evidence Vouch keeps (a screenshot, an exported CSV, a signed policy, a
//! collector's raw snapshot) is a blob stored once under the lowercase hex SHA-256 of its bytes.
//! This crate stores, reads, re-checks, lists and deletes those blobs, and knows nothing else:
//! no database, no evidence records, no roles. Which blob belongs to which record, and who may
//! see it, is `vouch-app`'s business.
//!
//! # Why write-once
//!
//! An auditor relies on evidence being exactly what was collected. Naming a blob by its hash
//! makes the name a promise about the bytes, and never rewriting a name keeps the promise
//! checkable: [`Vault::check`] re-reads the bytes and reports any difference as
//! [`BlobCheck::Altered`], and nothing in Vouch can "fix" a blob by writing over it. Committing
//! content that is already stored is a no-op ([`StoredBlob::already_present`]), so the same file
//! uploaded twice is kept once, and a blob that was tampered with stays visibly tampered with
//! instead of being silently repaired (or, worse, silently replaced). Corrections are new blobs
//! referenced by new evidence revisions.
//!
//! # Why staging comes before commit
//!
//! An upload is first *staged* ([`Vault::stage`]): streamed to a temporary file while its
//! SHA-256 and size are computed, with a size limit enforced as the bytes arrive. Staging does
//! not touch the vault. Only then does the app decide, with the whole upload in hand: it can
//! refuse an empty file or one over a per-type size, or a hash it already has, and nothing has
//! reached the vault. When it accepts, it [`commit`](Vault::commit)s the staged file, which moves
//! it into the vault under its hash, and only *after* that writes the database row that points
//! at the blob. That order means the index never points at a missing blob: a crash between the
//! two leaves at worst an orphan blob, which [`Vault::list`] finds for clean-up, never a record
//! whose evidence is gone.
//!
//! # Backends
//!
//! The vault is opened from a URL ([`VaultConfig`]):
//!
//! - a local path or `file:///abs/path`: the default, our own code. Blobs live at
//!   `<root>/sha256/<first 2 hex>/<full hex>`, made read-only (0o444). A commit renames the
//!   fully written, `fsync`ed staged file into place with a no-replace link and then `fsync`s the
//!   directory, so a killed process leaves only temporary files, never a truncated blob under a
//!   hash name.
//! - `s3://bucket/optional/prefix` (feature `aws`): S3-compatible object storage through the
//!   `object_store` crate, keys `<prefix>/sha256/<2 hex>/<hex>`.
//! - `memory:`: `object_store`'s in-memory store, for tests.
//!
//! Nothing here reads a whole blob into memory: staging, commits to S3, reads and checks all
//! stream through fixed-size buffers.
//!
//! With the `test-s3` feature, `testing::TestS3` is a real S3-compatible server on loopback so
//! that this and other crates can test the S3 path end to end.

#![forbid(unsafe_code)]

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;
use tokio::io::AsyncRead;

mod config;
mod error;
mod local;
mod object;
mod stage;
#[cfg(feature = "test-s3")]
pub mod testing;

pub use config::{S3Settings, VaultConfig};
pub use error::{StageError, VaultError};
pub use stage::Staged;

use config::Target;

/// Size of the buffers used to stream bytes to and from files (staging, local reads, checks).
const IO_CHUNK: usize = 256 * 1024;

/// Size of one part of an S3 multipart upload, and the largest blob sent in a single `PUT`.
const PART_SIZE: usize = 8 * 1024 * 1024;

/// Whether `s` is a well-formed blob name: exactly 64 lowercase hexadecimal digits.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A blob as committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlob {
    pub sha256: String,
    pub size: u64,
    /// The vault already held this content; nothing was written.
    pub already_present: bool,
}

/// The bytes of a stored blob, as a stream.
pub struct BlobReader {
    pub size: u64,
    pub stream: BlobStream,
}

/// A boxed, `'static` stream of a blob's bytes (what an HTTP handler can return as a body).
pub type BlobStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send + 'static>>;

impl fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobReader")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// What re-hashing a stored blob found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobCheck {
    /// The bytes hash to the blob's name.
    Intact,
    /// There is no blob under that name.
    Missing,
    /// The bytes no longer hash to the blob's name.
    Altered { actual_sha256: String },
}

/// One blob found by [`Vault::list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedBlob {
    pub sha256: String,
    pub size: u64,
}

/// Everything [`Vault::list`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// Well-formed blobs, sorted by hash.
    pub blobs: Vec<ListedBlob>,
    /// Files or keys in the blob area that are not well-formed blob names (left-over temporary
    /// files, files in the wrong folder, foreign objects under the prefix), sorted. They are
    /// never read, served or deleted by the vault; they are reported so an operator can look.
    pub stray: Vec<String>,
}

/// The write-once blob vault. Cheap to clone; every clone is the same vault.
#[derive(Clone)]
pub struct Vault {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    staging_dir: PathBuf,
}

enum Backend {
    Local(local::LocalVault),
    Objects(object::ObjectVault),
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("backend", &self.describe())
            .field("staging_dir", &self.inner.staging_dir)
            .finish()
    }
}

impl Vault {
    /// Opens (and, for a local vault, creates) the vault named by `cfg.url`, staging uploads in
    /// `staging_dir` (created if missing). For a local vault the staging folder should be on the
    /// same file system as the vault, so that a commit is a rename; it still works, by copying,
    /// when it is not.
    ///
    /// Opening an S3 vault does not contact the server; the first operation does.
    pub fn open(cfg: &VaultConfig, staging_dir: &Path) -> Result<Vault, VaultError> {
        let target = config::parse_url(&cfg.url)?;
        let staging_dir = local::prepare_dir(staging_dir, "create the staging folder")?;
        let backend = match target {
            Target::Local(root) => Backend::Local(local::LocalVault::open(&root)?),
            Target::Memory => Backend::Objects(object::ObjectVault::memory()),
            Target::S3 { bucket, prefix } => Backend::Objects(object::ObjectVault::s3(
                &cfg.url, &bucket, &prefix, &cfg.s3,
            )?),
        };
        Ok(Vault {
            inner: Arc::new(Inner {
                backend,
                staging_dir,
            }),
        })
    }

    /// Removes staging files older than `age`: what a process killed mid-upload left behind.
    /// Uploads in flight are younger; the vault itself is never touched. Returns how many
    /// files went.
    pub fn sweep_staging(&self, age: std::time::Duration) -> Result<usize, VaultError> {
        let dir = &self.inner.staging_dir;
        let entries =
            std::fs::read_dir(dir).map_err(error::io_err("read the staging folder", dir))?;
        let mut removed = 0;
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if !(name.starts_with("stage-") && name.ends_with(".tmp")) {
                continue;
            }
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|elapsed| elapsed > age);
            if old && std::fs::remove_file(e.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Where the blobs are, for logs and status pages: `local:/abs/path`, `s3://bucket/prefix`
    /// or `memory`. Never contains a credential.
    pub fn describe(&self) -> String {
        match &self.inner.backend {
            Backend::Local(l) => l.describe(),
            Backend::Objects(o) => o.describe(),
        }
    }

    /// Streams `body` into a staging file while computing its SHA-256 and size, through a
    /// fixed-size buffer, so memory stays flat whatever the size. If more than `limit` bytes
    /// arrive, reading stops, the staging file is deleted and [`StageError::TooLarge`] is
    /// returned; exactly `limit` bytes are accepted. Staging does not touch the vault.
    pub async fn stage<S, E>(&self, body: S, limit: u64) -> Result<Staged, StageError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        stage::stage(&self.inner.staging_dir, body, limit).await
    }

    /// [`stage`](Self::stage) for an [`AsyncRead`] (a file, a process's output).
    pub async fn stage_reader<R: AsyncRead>(
        &self,
        reader: R,
        limit: u64,
    ) -> Result<Staged, StageError> {
        let body = tokio_util::io::ReaderStream::with_capacity(reader, IO_CHUNK);
        stage::stage(&self.inner.staging_dir, body, limit).await
    }

    /// Moves a staged file into the vault under its hash. If the vault already holds that hash,
    /// nothing is written (the staged file is discarded) and `already_present` is true: a stored
    /// blob is never rewritten.
    pub async fn commit(&self, staged: Staged) -> Result<StoredBlob, VaultError> {
        let already_present = match &self.inner.backend {
            Backend::Local(l) => l.commit(&staged).await?,
            Backend::Objects(o) => o.commit(&staged).await?,
        };
        Ok(StoredBlob {
            sha256: staged.sha256.clone(),
            size: staged.size,
            already_present,
        })
        // `staged` drops here and removes whatever is left of the staging file.
    }

    /// Whether a blob is stored under `sha256` (without reading it).
    pub async fn exists(&self, sha256: &str) -> Result<bool, VaultError> {
        let sha256 = valid(sha256)?;
        match &self.inner.backend {
            Backend::Local(l) => l.exists(sha256).await,
            Backend::Objects(o) => o.exists(sha256).await,
        }
    }

    /// Opens a blob for streaming: its size and its bytes. [`VaultError::NotFound`] if there is
    /// no such blob. The bytes are served as stored; use [`check`](Self::check) to verify them.
    pub async fn open_read(&self, sha256: &str) -> Result<BlobReader, VaultError> {
        let sha256 = valid(sha256)?;
        match &self.inner.backend {
            Backend::Local(l) => l.open_read(sha256).await,
            Backend::Objects(o) => o.open_read(sha256).await,
        }
    }

    /// Re-reads a stored blob and hashes it (streaming).
    pub async fn check(&self, sha256: &str) -> Result<BlobCheck, VaultError> {
        let sha256 = valid(sha256)?;
        match &self.inner.backend {
            Backend::Local(l) => l.check(sha256).await,
            Backend::Objects(o) => o.check(sha256).await,
        }
    }

    /// Every blob in the vault (for orphan detection), and anything in the blob area that is
    /// not a well-formed blob.
    pub async fn list(&self) -> Result<Listing, VaultError> {
        match &self.inner.backend {
            Backend::Local(l) => l.list().await,
            Backend::Objects(o) => o.list().await,
        }
    }

    /// Removes a blob; removing a blob that is not there is not an error. Only the app's purge
    /// (retention, with its audit event) calls this.
    pub async fn delete(&self, sha256: &str) -> Result<(), VaultError> {
        let sha256 = valid(sha256)?;
        match &self.inner.backend {
            Backend::Local(l) => l.delete(sha256).await,
            Backend::Objects(o) => o.delete(sha256).await,
        }
    }
}

/// Every hash argument passes here first, so that no caller can hand the vault a path.
fn valid(sha256: &str) -> Result<&str, VaultError> {
    if is_sha256_hex(sha256) {
        Ok(sha256)
    } else {
        Err(VaultError::InvalidHash {
            value: sha256.chars().take(80).collect(),
        })
    }
}

/// Where `sha256` sits below the blob area's root: `sha256/<2 hex>/<hex>`.
fn blob_parts(sha256: &str) -> [&str; 3] {
    ["sha256", &sha256[..2], sha256]
}

/// Classifies the parts of a path below the blob area's root.
fn parse_blob_parts(parts: &[&str]) -> Option<String> {
    match parts {
        ["sha256", shard, name] if is_sha256_hex(name) && name.starts_with(shard) => {
            Some((*name).to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn sha256_hex_is_64_lowercase_hex_digits() {
        assert!(is_sha256_hex(EMPTY));
        assert!(!is_sha256_hex(&EMPTY.to_uppercase()));
        assert!(!is_sha256_hex(&EMPTY[1..]));
        assert!(!is_sha256_hex(&format!("{EMPTY}0")));
        assert!(!is_sha256_hex(&format!("../{}", &EMPTY[3..])));
        assert!(!is_sha256_hex(&format!("{}g", &EMPTY[1..])));
        assert!(!is_sha256_hex(""));
    }

    #[test]
    fn invalid_hash_message_is_bounded_and_names_the_value() {
        let long = "x".repeat(500);
        let err = valid(&long).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("xxxx"), "{msg}");
        assert!(msg.len() < 250, "{msg}");
        assert!(matches!(
            valid("../../etc/passwd"),
            Err(VaultError::InvalidHash { .. })
        ));
    }

    #[test]
    fn blob_parts_round_trip() {
        let parts = blob_parts(EMPTY);
        assert_eq!(parts, ["sha256", "e3", EMPTY]);
        assert_eq!(parse_blob_parts(&parts).as_deref(), Some(EMPTY));
        assert_eq!(parse_blob_parts(&["sha256", "e4", EMPTY]), None);
        assert_eq!(parse_blob_parts(&["sha256", EMPTY]), None);
        assert_eq!(parse_blob_parts(&["x", "e3", EMPTY]), None);
        assert_eq!(parse_blob_parts(&["sha256", "e3", "e3.tmp"]), None);
    }
}
