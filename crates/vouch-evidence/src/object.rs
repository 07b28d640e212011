//! The object-store vault: S3-compatible storage (feature `aws`) and `object_store`'s in-memory
//! store, keys `<prefix>/sha256/<2 hex>/<hex>`.
//!
//! A commit first asks (`HEAD`) whether the key exists; if it does, nothing is sent. Otherwise:
//!
//! - a blob of at most [`PART_SIZE`] bytes goes up in one `PUT` with `PutMode::Create`
//!   (`If-None-Match: *`), which S3, MinIO, R2 and s3s refuse atomically when the key exists, so
//!   even a commit racing another cannot replace an object;
//! - a larger blob goes up as a multipart upload of [`PART_SIZE`] parts read from the staged
//!   file (at most two parts in memory). `object_store` completes multipart uploads without a
//!   precondition, so here the guard is the `HEAD` before it: head-then-put. The only commit
//!   that can slip between the two is another commit of the same hash, i.e. of the same bytes.
//!
//! Either way the bytes are hashed again as they are sent and the upload is abandoned unless
//! they still match the staged hash, so an object is never stored under a name its bytes do
//! not have.

use std::io;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use crate::{
    BlobCheck, BlobReader, ListedBlob, Listing, PART_SIZE, S3Settings, Staged, VaultError,
    blob_parts, parse_blob_parts,
};

pub(crate) struct ObjectVault {
    store: Arc<dyn ObjectStore>,
    /// Keys live below this (the root for no prefix).
    prefix: ObjectPath,
    /// `s3://bucket` or `memory:`: what a key is shown after, in messages.
    base: String,
}

impl ObjectVault {
    pub(crate) fn memory() -> ObjectVault {
        ObjectVault {
            store: Arc::new(object_store::memory::InMemory::new()),
            prefix: ObjectPath::ROOT,
            base: "memory:".into(),
        }
    }

    #[cfg(feature = "aws")]
    pub(crate) fn s3(
        url: &str,
        bucket: &str,
        prefix: &str,
        s3: &S3Settings,
    ) -> Result<ObjectVault, VaultError> {
        use object_store::RetryConfig;
        use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
        use std::time::Duration;

        // Configuration is a value passed in: the binary reads AWS_* from its environment and
        // fills the settings; this library reads no environment itself.
        let mut b = AmazonS3Builder::new().with_bucket_name(bucket);
        if let Some(endpoint) = &s3.endpoint {
            b = b.with_endpoint(endpoint);
        }
        if let Some(region) = &s3.region {
            b = b.with_region(region);
        }
        if let Some(key) = &s3.access_key_id {
            b = b.with_access_key_id(key);
        }
        if let Some(secret) = &s3.secret_access_key {
            b = b.with_secret_access_key(secret);
        }
        if s3.allow_http {
            b = b.with_allow_http(true);
        }
        // object_store panics on the first request if the endpoint is not a URI, so check the
        // effective one (as given) now.
        if let Some(endpoint) = b.get_config_value(&AmazonS3ConfigKey::Endpoint) {
            let usable = url::Url::parse(&endpoint).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host_str().is_some_and(|h| !h.is_empty())
            });
            if !usable {
                return Err(VaultError::Config {
                    url: url.to_string(),
                    reason: format!(
                        "the S3 endpoint {endpoint:?} is not an http:// or https:// URL"
                    ),
                });
            }
        }
        // object_store's default retries for up to three minutes; an upload or a readiness probe
        // against a dead endpoint should fail well before a proxy gives up on the request.
        b = b.with_retry(RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(30),
            ..RetryConfig::default()
        });
        let store = b.build().map_err(|e| VaultError::Config {
            url: url.to_string(),
            reason: format!("the S3 settings are not usable: {e}"),
        })?;
        Ok(ObjectVault {
            store: Arc::new(store),
            prefix: ObjectPath::parse(prefix).map_err(|e| VaultError::Config {
                url: url.to_string(),
                reason: format!("the prefix is not usable: {e}"),
            })?,
            base: format!("s3://{bucket}"),
        })
    }

    #[cfg(not(feature = "aws"))]
    pub(crate) fn s3(
        url: &str,
        _bucket: &str,
        _prefix: &str,
        _s3: &S3Settings,
    ) -> Result<ObjectVault, VaultError> {
        Err(VaultError::Config {
            url: url.to_string(),
            reason: "this build has no S3 support (vouch-evidence feature `aws`)".into(),
        })
    }

    pub(crate) fn describe(&self) -> String {
        match (self.base.as_str(), self.prefix.is_root()) {
            ("memory:", _) => "memory".into(),
            (base, true) => base.to_string(),
            (base, false) => format!("{base}/{}", self.prefix),
        }
    }

    fn key(&self, sha256: &str) -> ObjectPath {
        blob_parts(sha256)
            .into_iter()
            .fold(self.prefix.clone(), |p, part| p.join(part))
    }

    fn location(&self, key: &ObjectPath) -> String {
        format!("{}/{key}", self.base)
    }

    fn error(&self, op: &'static str, key: &ObjectPath, source: object_store::Error) -> VaultError {
        let location = self.location(key);
        match source {
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. } => VaultError::Denied {
                op,
                location,
                source,
            },
            source => VaultError::Store {
                op,
                location,
                source,
            },
        }
    }

    /// object_store reports a refused listing as a generic error; a `HEAD` (of a key that need
    /// not exist) tells whether the credentials are the reason.
    async fn list_error(&self, e: object_store::Error) -> VaultError {
        let denied = |e: &object_store::Error| {
            matches!(
                e,
                object_store::Error::PermissionDenied { .. }
                    | object_store::Error::Unauthenticated { .. }
            )
        };
        if !denied(&e) {
            let probe = self.key(&"0".repeat(64));
            if let Err(probe_err) = self.store.head(&probe).await
                && denied(&probe_err)
            {
                return VaultError::Denied {
                    op: "list",
                    location: self.location(&self.prefix),
                    source: e,
                };
            }
        }
        self.error("list", &self.prefix, e)
    }

    async fn head(&self, key: &ObjectPath) -> Result<bool, VaultError> {
        match self.store.head(key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.error("look for", key, e)),
        }
    }

    pub(crate) async fn exists(&self, sha256: &str) -> Result<bool, VaultError> {
        self.head(&self.key(sha256)).await
    }

    pub(crate) async fn commit(&self, staged: &Staged) -> Result<bool, VaultError> {
        let key = self.key(&staged.sha256);
        if self.head(&key).await? {
            return Ok(true);
        }
        let mut file = tokio::fs::File::open(staged.path())
            .await
            .map_err(crate::error::io_err("open the staged file", staged.path()))?;
        let mut hasher = Sha256::new();
        let mut sent: u64 = 0;
        let first = read_part(&mut file, staged).await?;
        if first.len() < PART_SIZE {
            // The whole blob fits in one part: one conditional PUT.
            hasher = hash_off_thread(hasher, first.clone()).await;
            sent += first.len() as u64;
            self.verify(staged, hasher, sent)?;
            let opts = PutOptions::from(PutMode::Create);
            return match self
                .store
                .put_opts(&key, PutPayload::from(first), opts)
                .await
            {
                Ok(_) => Ok(false),
                Err(object_store::Error::AlreadyExists { .. }) => Ok(true),
                Err(e) => Err(self.error("store", &key, e)),
            };
        }

        let mut upload = self
            .store
            .put_multipart(&key)
            .await
            .map_err(|e| self.error("start uploading", &key, e))?;
        let result: Result<(), VaultError> = async {
            let mut part = first;
            // One part uploading while the next is read and hashed.
            let mut in_flight: Option<object_store::UploadPart> = None;
            while !part.is_empty() {
                hasher = hash_off_thread(hasher, part.clone()).await;
                sent += part.len() as u64;
                if let Some(prev) = in_flight.take() {
                    prev.await
                        .map_err(|e| self.error("upload a part of", &key, e))?;
                }
                in_flight = Some(upload.put_part(PutPayload::from(part)));
                part = read_part(&mut file, staged).await?;
            }
            if let Some(prev) = in_flight.take() {
                prev.await
                    .map_err(|e| self.error("upload a part of", &key, e))?;
            }
            self.verify(staged, hasher, sent)?;
            upload
                .complete()
                .await
                .map_err(|e| self.error("complete the upload of", &key, e))?;
            Ok(())
        }
        .await;
        if let Err(e) = result {
            let _ = upload.abort().await;
            return Err(e);
        }
        Ok(false)
    }

    /// The bytes sent must be the bytes staged.
    fn verify(&self, staged: &Staged, hasher: Sha256, sent: u64) -> Result<(), VaultError> {
        if sent == staged.size && hex::encode(hasher.finalize()) == staged.sha256 {
            Ok(())
        } else {
            Err(VaultError::StagedFileChanged {
                path: staged.path().to_path_buf(),
                expected: staged.sha256.clone(),
            })
        }
    }

    pub(crate) async fn open_read(&self, sha256: &str) -> Result<BlobReader, VaultError> {
        let key = self.key(sha256);
        let got = match self.store.get(&key).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(VaultError::NotFound {
                    sha256: sha256.to_string(),
                    location: self.location(&key),
                });
            }
            Err(e) => return Err(self.error("read", &key, e)),
        };
        let size = got.meta.size;
        let stream = got.into_stream().map_err(io::Error::other);
        Ok(BlobReader {
            size,
            stream: Box::pin(stream),
        })
    }

    pub(crate) async fn check(&self, sha256: &str) -> Result<BlobCheck, VaultError> {
        let key = self.key(sha256);
        let got = match self.store.get(&key).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Ok(BlobCheck::Missing),
            Err(e) => return Err(self.error("read", &key, e)),
        };
        let mut stream = got.into_stream();
        let mut hasher = Sha256::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.error("read", &key, e))?;
            hasher.update(&chunk);
        }
        let actual = hex::encode(hasher.finalize());
        Ok(if actual == sha256 {
            BlobCheck::Intact
        } else {
            BlobCheck::Altered {
                actual_sha256: actual,
            }
        })
    }

    pub(crate) async fn list(&self) -> Result<Listing, VaultError> {
        let prefix = (!self.prefix.is_root()).then_some(&self.prefix);
        let mut stream = self.store.list(prefix);
        let mut listing = Listing::default();
        while let Some(meta) = stream.next().await {
            let meta = match meta {
                Ok(meta) => meta,
                Err(e) => return Err(self.list_error(e).await),
            };
            let parts: Vec<String> = match meta.location.prefix_match(&self.prefix) {
                Some(parts) => parts.map(|p| p.as_ref().to_string()).collect(),
                None => {
                    listing.stray.push(meta.location.to_string());
                    continue;
                }
            };
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            match parse_blob_parts(&parts) {
                Some(sha256) => listing.blobs.push(ListedBlob {
                    sha256,
                    size: meta.size,
                }),
                None => listing.stray.push(meta.location.to_string()),
            }
        }
        listing.blobs.sort_by(|a, b| a.sha256.cmp(&b.sha256));
        listing.stray.sort();
        Ok(listing)
    }

    pub(crate) async fn delete(&self, sha256: &str) -> Result<(), VaultError> {
        let key = self.key(sha256);
        match self.store.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.error("delete", &key, e)),
        }
    }
}

/// Reads up to [`PART_SIZE`] bytes of the staged file (fewer only at its end).
async fn read_part(file: &mut tokio::fs::File, staged: &Staged) -> Result<Bytes, VaultError> {
    let mut buf = BytesMut::with_capacity(PART_SIZE);
    while buf.len() < PART_SIZE {
        let n = file
            .read_buf(&mut buf)
            .await
            .map_err(crate::error::io_err("read the staged file", staged.path()))?;
        if n == 0 {
            break;
        }
    }
    Ok(buf.freeze())
}

/// Hashes a part on a blocking thread: 8 MiB of SHA-256 is milliseconds the runtime should not
/// spend.
async fn hash_off_thread(mut hasher: Sha256, part: Bytes) -> Sha256 {
    match tokio::task::spawn_blocking(move || {
        hasher.update(&part);
        hasher
    })
    .await
    {
        Ok(h) => h,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}
