//! The vault's behaviour on local disk and in memory (the S3 backend runs the same suite in
//! `tests/s3.rs`), and what is particular to the local layout.

#[macro_use]
mod suite;

use std::path::Path;

use suite::{Fixture, bytes_of, files_in, put, sha, stage};
use tempfile::TempDir;
use vouch_evidence::{BlobCheck, Vault, VaultConfig, VaultError};

fn local_config(root: &Path) -> VaultConfig {
    VaultConfig {
        url: root.display().to_string(),
        ..Default::default()
    }
}

async fn local() -> Fixture {
    let dir = TempDir::new().unwrap();
    let root = dir.path().join("blobs");
    let staging = dir.path().join("staging");
    let vault = Vault::open(&local_config(&root), &staging).unwrap();
    let root = root.canonicalize().unwrap();
    Fixture {
        vault,
        staging,
        stored_at: Some(Box::new(move |h: &str| {
            root.join("sha256").join(&h[..2]).join(h)
        })),
        atomic_create: true,
        keep: vec![Box::new(dir)],
    }
}

async fn memory() -> Fixture {
    let dir = TempDir::new().unwrap();
    let staging = dir.path().join("staging");
    let cfg = VaultConfig {
        url: "memory:".into(),
        ..Default::default()
    };
    Fixture {
        vault: Vault::open(&cfg, &staging).unwrap(),
        staging,
        stored_at: None,
        atomic_create: true,
        keep: vec![Box::new(dir)],
    }
}

mod local {
    use super::local;
    behaviour_suite!(local);
    tamper_suite!(local);
}

mod memory {
    use super::memory;
    behaviour_suite!(memory);
    object_store_suite!(memory);
}

// --- the local layout ---------------------------------------------------------------------------

#[tokio::test]
async fn local_blobs_live_at_sha256_shard_hash_and_are_read_only() {
    let f = local().await;
    let data = b"layout".to_vec();
    let h = put(&f.vault, &data).await;
    let path = (f.stored_at.as_ref().unwrap())(&h);
    assert!(
        path.ends_with(format!("sha256/{}/{h}", &h[..2])),
        "{path:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), data);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o444, "stored blobs are read-only");
    }
    // The staged name is gone: only the blob name remains (one link).
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(std::fs::metadata(&path).unwrap().nlink(), 1);
    }
    assert_eq!(files_in(&f.staging), Vec::<String>::new());
}

#[tokio::test]
async fn local_vault_opens_from_a_file_url_and_describes_itself() {
    let dir = TempDir::new().unwrap();
    let root = dir.path().join("nested/vault");
    let cfg = VaultConfig {
        url: format!("file://{}", root.display()),
        ..Default::default()
    };
    let vault = Vault::open(&cfg, &dir.path().join("staging")).unwrap();
    let canonical = root.canonicalize().unwrap();
    assert_eq!(vault.describe(), format!("local:{}", canonical.display()));
    assert!(canonical.join("sha256").is_dir());
    let h = put(&vault, b"via file url").await;
    assert!(canonical.join("sha256").join(&h[..2]).join(&h).is_file());
    assert!(format!("{vault:?}").contains("local:"));
}

#[tokio::test]
async fn memory_vault_describes_itself() {
    let f = memory().await;
    assert_eq!(f.vault.describe(), "memory");
}

#[tokio::test]
async fn local_commit_from_another_file_system_copies_durably() {
    // /dev/shm is a tmpfs on Linux: a different file system from the temporary folder, so the
    // link fails with EXDEV and the commit must copy.
    let shm = Path::new("/dev/shm");
    let dir = TempDir::new().unwrap();
    let Ok(staging) = tempfile::tempdir_in(shm) else {
        eprintln!("skipped: no /dev/shm here");
        return;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let dev = |p: &Path| std::fs::metadata(p).unwrap().dev();
        if dev(staging.path()) == dev(dir.path()) {
            eprintln!(
                "skipped: /dev/shm is on the same file system as {:?}",
                dir.path()
            );
            return;
        }
    }
    let root = dir.path().join("blobs");
    let vault = Vault::open(&local_config(&root), staging.path()).unwrap();
    let data = bytes_of(3 * 1024 * 1024 + 5, 6);
    let stored = vault.commit(stage(&vault, &data).await).await.unwrap();
    assert!(!stored.already_present);
    let path = root
        .join("sha256")
        .join(&stored.sha256[..2])
        .join(&stored.sha256);
    assert_eq!(std::fs::read(&path).unwrap(), data);
    assert_eq!(
        vault.check(&stored.sha256).await.unwrap(),
        BlobCheck::Intact
    );
    assert_eq!(
        files_in(staging.path()),
        Vec::<String>::new(),
        "staging cleaned"
    );
    assert_eq!(
        files_in(&root.join("tmp")),
        Vec::<String>::new(),
        "no copy left behind"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o444);
    }
    let again = vault.commit(stage(&vault, &data).await).await.unwrap();
    assert!(again.already_present);
}

#[tokio::test]
async fn local_list_reports_what_is_not_a_blob_separately() {
    let f = local().await;
    let h = put(&f.vault, b"a real blob").await;
    let blob_path = (f.stored_at.as_ref().unwrap())(&h);
    let area = blob_path.parent().unwrap().parent().unwrap().to_path_buf();
    // A leftover, a blob-like name in the wrong shard, and a file where a shard should be.
    let other = sha(b"elsewhere");
    let wrong_shard = if &other[..2] == "00" { "01" } else { "00" };
    std::fs::create_dir_all(area.join(wrong_shard)).unwrap();
    std::fs::write(area.join(wrong_shard).join(&other), b"elsewhere").unwrap();
    std::fs::write(blob_path.parent().unwrap().join("leftover.tmp"), b"x").unwrap();
    std::fs::write(area.join("README"), b"x").unwrap();

    let listing = f.vault.list().await.unwrap();
    assert_eq!(listing.blobs.len(), 1);
    assert_eq!(listing.blobs[0].sha256, h);
    let mut expected = vec![
        format!("sha256/{wrong_shard}/{other}"),
        format!("sha256/{}/leftover.tmp", &h[..2]),
        "sha256/README".to_string(),
    ];
    expected.sort();
    assert_eq!(listing.stray, expected);
    // The misplaced file is not served under its name either.
    assert!(!f.vault.exists(&other).await.unwrap());
}

#[tokio::test]
async fn a_dropped_staging_is_deleted_and_never_reaches_the_vault() {
    let f = local().await;
    let staged = stage(&f.vault, b"abandoned upload").await;
    let sha256 = staged.sha256.clone();
    assert_eq!(files_in(&f.staging).len(), 1);
    drop(staged);
    assert_eq!(files_in(&f.staging), Vec::<String>::new());
    assert!(!f.vault.exists(&sha256).await.unwrap());
}

#[tokio::test]
async fn bad_urls_are_refused_naming_the_url() {
    let dir = TempDir::new().unwrap();
    for url in ["ftp://files.example/x", "s3://", "s3://Not_A_Bucket", ""] {
        let cfg = VaultConfig {
            url: url.into(),
            ..Default::default()
        };
        let err = Vault::open(&cfg, dir.path()).unwrap_err();
        assert!(matches!(err, VaultError::Config { .. }), "{url}: {err:?}");
        assert!(
            err.to_string().contains(&format!("{url:?}")),
            "{url}: {err}"
        );
    }
}

#[tokio::test]
async fn a_vault_that_cannot_be_created_says_where() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a folder").unwrap();
    let err = Vault::open(&local_config(&file.join("vault")), dir.path()).unwrap_err();
    assert!(matches!(err, VaultError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("a-file"), "{err}");
}

#[cfg(not(feature = "aws"))]
#[tokio::test]
async fn s3_urls_need_the_aws_feature() {
    let dir = TempDir::new().unwrap();
    let cfg = VaultConfig {
        url: "s3://evidence".into(),
        ..Default::default()
    };
    let err = Vault::open(&cfg, dir.path()).unwrap_err();
    assert!(err.to_string().contains("feature `aws`"), "{err}");
}

#[test]
fn the_staging_sweep_removes_only_old_staging_files() {
    let dir = tempfile::tempdir().unwrap();
    let staging = dir.path().join("staging");
    let vault = vouch_evidence::Vault::open(
        &vouch_evidence::VaultConfig {
            url: dir.path().join("blobs").display().to_string(),
            s3: Default::default(),
        },
        &staging,
    )
    .unwrap();
    let left = staging.join("stage-0123.tmp");
    let other = staging.join("notes.txt");
    std::fs::write(&left, b"half an upload").unwrap();
    std::fs::write(&other, b"not ours").unwrap();
    assert_eq!(
        vault
            .sweep_staging(std::time::Duration::from_secs(3600))
            .unwrap(),
        0,
        "a fresh staging file may be an upload in flight"
    );
    assert!(left.exists());
    assert_eq!(vault.sweep_staging(std::time::Duration::ZERO).unwrap(), 1);
    assert!(!left.exists(), "the abandoned staging file is gone");
    assert!(other.exists(), "anything else is left alone");
}
