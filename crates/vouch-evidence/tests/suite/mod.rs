//! The behaviour every vault backend must show, written once and run against each backend
//! (`tests/vault.rs`: local disk and memory; `tests/s3.rs`: a real S3 server on loopback).
//!
//! A backend module is made with `behaviour_suite!(fixture_fn)`, where `fixture_fn()` returns
//! a future of a [`Fixture`]. `tamper_suite!` adds the tests that alter or delete stored bytes
//! behind the vault's back; it needs [`Fixture::stored_at`].

#![allow(dead_code)]

use std::any::Any;
use std::io;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use sha2::{Digest, Sha256};
use vouch_evidence::{BlobCheck, StageError, Staged, Vault, VaultError};

/// Maps a blob's hash to the file holding its stored bytes.
pub type StoredAt = Box<dyn Fn(&str) -> PathBuf + Send + Sync>;

pub struct Fixture {
    pub vault: Vault,
    pub staging: PathBuf,
    /// Where the stored bytes of a blob are on disk, for backends a test can reach behind.
    pub stored_at: Option<StoredAt>,
    /// Whether creating an object that exists is refused atomically. True for local disk
    /// (`link(2)`), memory and real S3 (`If-None-Match: *`); not for s3s-fs, which checks for the
    /// file and then writes it, so two racing creates of the same key can both succeed there.
    pub atomic_create: bool,
    /// Temporary folders and servers that must outlive the test.
    pub keep: Vec<Box<dyn Any + Send>>,
}

pub fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `bytes` as a stream of `chunk`-sized pieces, as an HTTP body would arrive.
pub fn body(bytes: &[u8], chunk: usize) -> impl futures_util::Stream<Item = io::Result<Bytes>> {
    let pieces: Vec<io::Result<Bytes>> = bytes
        .chunks(chunk.max(1))
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    stream::iter(pieces)
}

/// Deterministic, non-repeating-looking test bytes.
pub fn bytes_of(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub async fn stage(v: &Vault, bytes: &[u8]) -> Staged {
    v.stage(body(bytes, 1000), u64::MAX).await.expect("stage")
}

pub async fn put(v: &Vault, bytes: &[u8]) -> String {
    let stored = v.commit(stage(v, bytes).await).await.expect("commit");
    stored.sha256
}

pub async fn read_all(v: &Vault, sha256: &str) -> Vec<u8> {
    let mut reader = v.open_read(sha256).await.expect("open_read");
    let mut out = Vec::new();
    while let Some(chunk) = reader.stream.next().await {
        out.extend_from_slice(&chunk.expect("read chunk"));
    }
    assert_eq!(out.len() as u64, reader.size, "reported size");
    out
}

pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|it| {
            it.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

// ---------------------------------------------------------------------------------------------

pub async fn round_trip(f: Fixture) {
    let data = bytes_of(300_000, 1);
    let staged = f.vault.stage(body(&data, 7_000), 1 << 20).await.unwrap();
    assert_eq!(staged.sha256, sha(&data));
    assert_eq!(staged.size, data.len() as u64);
    assert!(
        !f.vault.exists(&staged.sha256).await.unwrap(),
        "staging does not touch the vault"
    );

    let stored = f.vault.commit(staged).await.unwrap();
    assert_eq!(stored.sha256, sha(&data));
    assert_eq!(stored.size, data.len() as u64);
    assert!(!stored.already_present);
    assert!(f.vault.exists(&stored.sha256).await.unwrap());
    assert_eq!(read_all(&f.vault, &stored.sha256).await, data);
    assert_eq!(
        f.vault.check(&stored.sha256).await.unwrap(),
        BlobCheck::Intact
    );
    assert_eq!(
        files_in(&f.staging),
        Vec::<String>::new(),
        "nothing left in staging"
    );
}

pub async fn second_commit_of_same_content_is_already_present(f: Fixture) {
    let data = b"the same evidence, uploaded twice".to_vec();
    let first = f.vault.commit(stage(&f.vault, &data).await).await.unwrap();
    let second = f.vault.commit(stage(&f.vault, &data).await).await.unwrap();
    assert!(!first.already_present);
    assert!(second.already_present);
    assert_eq!(first.sha256, second.sha256);
    assert_eq!(second.size, data.len() as u64);
    assert_eq!(read_all(&f.vault, &first.sha256).await, data);
    assert_eq!(f.vault.list().await.unwrap().blobs.len(), 1);
    assert_eq!(
        files_in(&f.staging),
        Vec::<String>::new(),
        "the second staging file is discarded"
    );
}

pub async fn empty_blob_is_a_blob(f: Fixture) {
    let staged = f.vault.stage(body(b"", 10), 0).await.unwrap();
    assert_eq!(staged.size, 0);
    assert_eq!(staged.sha256, sha(b""));
    let stored = f.vault.commit(staged).await.unwrap();
    assert_eq!(read_all(&f.vault, &stored.sha256).await, Vec::<u8>::new());
    assert_eq!(
        f.vault.check(&stored.sha256).await.unwrap(),
        BlobCheck::Intact
    );
}

pub async fn limit_allows_exactly_limit_bytes_and_refuses_one_more(f: Fixture) {
    let data = bytes_of(10_001, 2);
    let exact = f
        .vault
        .stage(body(&data[..10_000], 999), 10_000)
        .await
        .unwrap();
    assert_eq!(exact.size, 10_000);
    assert_eq!(exact.sha256, sha(&data[..10_000]));
    drop(exact);
    assert_eq!(
        files_in(&f.staging),
        Vec::<String>::new(),
        "a dropped staging is deleted"
    );

    let err = f.vault.stage(body(&data, 999), 10_000).await.unwrap_err();
    assert!(
        matches!(err, StageError::TooLarge { limit: 10_000 }),
        "{err:?}"
    );
    assert!(err.to_string().contains("10000"), "{err}");
    assert_eq!(
        files_in(&f.staging),
        Vec::<String>::new(),
        "the too-large staging file is gone"
    );

    // One byte over in a single chunk, and a zero limit.
    let err = f
        .vault
        .stage(body(&data, 20_000), 10_000)
        .await
        .unwrap_err();
    assert!(matches!(err, StageError::TooLarge { .. }), "{err:?}");
    let err = f.vault.stage(body(b"x", 1), 0).await.unwrap_err();
    assert!(matches!(err, StageError::TooLarge { limit: 0 }), "{err:?}");
    assert_eq!(files_in(&f.staging), Vec::<String>::new());
    assert!(
        f.vault.list().await.unwrap().blobs.is_empty(),
        "staging never reached the vault"
    );
}

pub async fn stage_reader_matches_stage(f: Fixture) {
    let data = bytes_of(700_000, 3);
    let from_reader = f.vault.stage_reader(&data[..], u64::MAX).await.unwrap();
    assert_eq!(from_reader.sha256, sha(&data));
    assert_eq!(from_reader.size, data.len() as u64);
    let stored = f.vault.commit(from_reader).await.unwrap();
    assert_eq!(read_all(&f.vault, &stored.sha256).await, data);

    let err = f.vault.stage_reader(&data[..], 699_999).await.unwrap_err();
    assert!(matches!(err, StageError::TooLarge { .. }), "{err:?}");
    assert_eq!(files_in(&f.staging), Vec::<String>::new());
}

pub async fn failing_body_discards_the_staging_file(f: Fixture) {
    let pieces: Vec<Result<Bytes, io::Error>> = vec![
        Ok(Bytes::from(vec![1u8; 300_000])),
        Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "client went away",
        )),
    ];
    let err = f
        .vault
        .stage(stream::iter(pieces), u64::MAX)
        .await
        .unwrap_err();
    assert!(matches!(err, StageError::Body { .. }), "{err:?}");
    assert!(err.to_string().contains("client went away"), "{err}");
    assert_eq!(files_in(&f.staging), Vec::<String>::new());
}

pub async fn missing_blob(f: Fixture) {
    let absent = sha(b"never stored");
    assert!(!f.vault.exists(&absent).await.unwrap());
    assert_eq!(f.vault.check(&absent).await.unwrap(), BlobCheck::Missing);
    let err = f.vault.open_read(&absent).await.unwrap_err();
    assert!(matches!(err, VaultError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains(&absent), "{err}");
    f.vault
        .delete(&absent)
        .await
        .expect("deleting a missing blob is not an error");
}

pub async fn hash_arguments_are_validated(f: Fixture) {
    let good = sha(b"x");
    for bad in [
        "../../../../etc/passwd".to_string(),
        good.to_uppercase(),
        good[1..].to_string(),
        format!("{good}0"),
        format!("{}/", &good[1..]),
        format!("../{}", &good[3..]),
        String::new(),
    ] {
        let is_invalid = |r: Result<(), VaultError>| {
            matches!(r, Err(VaultError::InvalidHash { .. })) || panic!("{bad:?}: {r:?}")
        };
        is_invalid(f.vault.exists(&bad).await.map(|_| ()));
        is_invalid(f.vault.open_read(&bad).await.map(|_| ()));
        is_invalid(f.vault.check(&bad).await.map(|_| ()));
        is_invalid(f.vault.delete(&bad).await);
    }
}

pub async fn delete_removes_the_blob(f: Fixture) {
    let keep = put(&f.vault, b"keep me").await;
    let gone = put(&f.vault, b"purge me").await;
    f.vault.delete(&gone).await.unwrap();
    assert!(!f.vault.exists(&gone).await.unwrap());
    assert_eq!(f.vault.check(&gone).await.unwrap(), BlobCheck::Missing);
    assert!(f.vault.exists(&keep).await.unwrap());
    let listed: Vec<String> = f
        .vault
        .list()
        .await
        .unwrap()
        .blobs
        .into_iter()
        .map(|b| b.sha256)
        .collect();
    assert_eq!(listed, vec![keep]);
    f.vault
        .delete(&gone)
        .await
        .expect("a second delete is not an error");
    // Content can come back after a purge (a new upload of the same bytes).
    let again = f
        .vault
        .commit(stage(&f.vault, b"purge me").await)
        .await
        .unwrap();
    assert!(!again.already_present);
}

pub async fn list_finds_every_committed_blob(f: Fixture) {
    assert_eq!(f.vault.list().await.unwrap(), Default::default());
    let mut expected = Vec::new();
    for (i, len) in [0usize, 1, 5_000, 70_000].into_iter().enumerate() {
        let data = bytes_of(len, 10 + i as u64);
        let h = put(&f.vault, &data).await;
        expected.push((h, len as u64));
    }
    expected.sort();
    let listing = f.vault.list().await.unwrap();
    let found: Vec<(String, u64)> = listing
        .blobs
        .into_iter()
        .map(|b| (b.sha256, b.size))
        .collect();
    assert_eq!(found, expected);
    assert_eq!(listing.stray, Vec::<String>::new());
}

/// Larger than one 8 MiB part: exercises the multipart path on object stores.
pub async fn large_blob_round_trip(f: Fixture) {
    let data = bytes_of(20 * 1024 * 1024 + 123, 4);
    let staged = f
        .vault
        .stage(body(&data, 64 * 1024), u64::MAX)
        .await
        .unwrap();
    assert_eq!(staged.sha256, sha(&data));
    let stored = f.vault.commit(staged).await.unwrap();
    assert!(!stored.already_present);
    assert_eq!(
        f.vault.check(&stored.sha256).await.unwrap(),
        BlobCheck::Intact
    );
    let back = read_all(&f.vault, &stored.sha256).await;
    assert!(back == data, "the large blob reads back as stored");
    let listing = f.vault.list().await.unwrap();
    assert_eq!(listing.blobs.len(), 1);
    assert_eq!(listing.blobs[0].size, data.len() as u64);
    let again = f.vault.commit(stage(&f.vault, &data).await).await.unwrap();
    assert!(again.already_present);
}

/// Blobs of exactly one part and one byte more sit on the single-PUT / multipart boundary.
pub async fn part_boundary_sizes_round_trip(f: Fixture) {
    for len in [8 * 1024 * 1024 - 1, 8 * 1024 * 1024, 8 * 1024 * 1024 + 1] {
        let data = bytes_of(len, len as u64);
        let h = put(&f.vault, &data).await;
        assert_eq!(h, sha(&data));
        assert_eq!(f.vault.check(&h).await.unwrap(), BlobCheck::Intact, "{len}");
        assert_eq!(f.vault.open_read(&h).await.unwrap().size, len as u64);
    }
}

pub async fn concurrent_commits_of_the_same_content_write_once(f: Fixture) {
    let data = bytes_of(50_000, 5);
    let (a, b) = (stage(&f.vault, &data).await, stage(&f.vault, &data).await);
    let (ra, rb) = tokio::join!(f.vault.commit(a), f.vault.commit(b));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    if f.atomic_create {
        assert!(
            ra.already_present != rb.already_present,
            "exactly one commit writes: {ra:?} {rb:?}"
        );
    } else {
        assert!(
            !(ra.already_present && rb.already_present),
            "one commit writes: {ra:?} {rb:?}"
        );
    }
    assert_eq!(read_all(&f.vault, &ra.sha256).await, data);
    assert_eq!(files_in(&f.staging), Vec::<String>::new());
}

pub async fn clones_share_the_vault(f: Fixture) {
    let other = f.vault.clone();
    let h = put(&f.vault, b"shared").await;
    assert!(other.exists(&h).await.unwrap());
    let task = tokio::spawn(async move { other.check(&h).await.unwrap() });
    assert_eq!(task.await.unwrap(), BlobCheck::Intact);
}

/// Object stores re-hash the bytes as they send them: a staged file changed after staging is
/// refused rather than stored under a name its bytes do not have. (The local backend links the
/// staged file itself and relies on the staging folder being private to the vault.)
pub async fn a_staged_file_changed_after_staging_is_not_stored(f: Fixture) {
    for len in [1_000usize, 9 * 1024 * 1024] {
        let data = bytes_of(len, 7);
        let staged = stage(&f.vault, &data).await;
        let names = files_in(&f.staging);
        assert_eq!(names.len(), 1);
        let path = f.staging.join(&names[0]);
        let mut changed = data.clone();
        changed[len / 2] ^= 0xff;
        std::fs::write(&path, &changed).unwrap();

        let err = f.vault.commit(staged).await.unwrap_err();
        assert!(
            matches!(err, VaultError::StagedFileChanged { .. }),
            "{len}: {err:?}"
        );
        assert!(
            !f.vault.exists(&sha(&data)).await.unwrap(),
            "{len}: nothing stored"
        );
        assert!(f.vault.list().await.unwrap().blobs.is_empty());
        assert_eq!(files_in(&f.staging), Vec::<String>::new());
    }
}

// --- behind the vault's back ------------------------------------------------------------------

pub async fn altered_bytes_are_reported_and_never_rewritten(f: Fixture) {
    let stored_at = f
        .stored_at
        .as_ref()
        .expect("this backend can be reached behind");
    let data = b"the original evidence".to_vec();
    let h = put(&f.vault, &data).await;
    let path = stored_at(&h);
    assert_eq!(std::fs::read(&path).unwrap(), data, "stored at {path:?}");

    let forged = b"forged evidence!!".to_vec();
    make_writable(&path);
    std::fs::write(&path, &forged).unwrap();
    let altered = BlobCheck::Altered {
        actual_sha256: sha(&forged),
    };
    assert_eq!(f.vault.check(&h).await.unwrap(), altered);

    // Committing the genuine content again must not "repair" (rewrite) the stored blob.
    let again = f.vault.commit(stage(&f.vault, &data).await).await.unwrap();
    assert!(again.already_present);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        forged,
        "the stored blob was not rewritten"
    );
    assert_eq!(f.vault.check(&h).await.unwrap(), altered);
    // Reads serve what is stored; `check` is what tells.
    assert_eq!(read_all(&f.vault, &h).await, forged);
}

pub async fn deleted_bytes_are_missing(f: Fixture) {
    let stored_at = f
        .stored_at
        .as_ref()
        .expect("this backend can be reached behind");
    let h = put(&f.vault, b"soon gone").await;
    std::fs::remove_file(stored_at(&h)).unwrap();
    assert_eq!(f.vault.check(&h).await.unwrap(), BlobCheck::Missing);
    assert!(!f.vault.exists(&h).await.unwrap());
    assert!(matches!(
        f.vault.open_read(&h).await,
        Err(VaultError::NotFound { .. })
    ));
    assert!(f.vault.list().await.unwrap().blobs.is_empty());
}

pub fn make_writable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
}

macro_rules! behaviour_suite {
    ($fixture:path) => {
        behaviour_suite!(@tests $fixture;
            round_trip,
            second_commit_of_same_content_is_already_present,
            empty_blob_is_a_blob,
            limit_allows_exactly_limit_bytes_and_refuses_one_more,
            stage_reader_matches_stage,
            failing_body_discards_the_staging_file,
            missing_blob,
            hash_arguments_are_validated,
            delete_removes_the_blob,
            list_finds_every_committed_blob,
            large_blob_round_trip,
            part_boundary_sizes_round_trip,
            concurrent_commits_of_the_same_content_write_once,
            clones_share_the_vault,
        );
    };
    (@tests $fixture:path; $($name:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                crate::suite::$name($fixture().await).await;
            }
        )+
    };
}

macro_rules! object_store_suite {
    ($fixture:path) => {
        behaviour_suite!(@tests $fixture;
            a_staged_file_changed_after_staging_is_not_stored,
        );
    };
}

macro_rules! tamper_suite {
    ($fixture:path) => {
        behaviour_suite!(@tests $fixture;
            altered_bytes_are_reported_and_never_rewritten,
            deleted_bytes_are_missing,
        );
    };
}
