//! The S3 backend against a real S3-compatible server on loopback (`testing::TestS3`: s3s over
//! s3s-fs): the shared behaviour suite, tampering behind the server's back, and what is
//! particular to S3 (credentials, prefixes, key layout).

#[macro_use]
mod suite;

use std::sync::Arc;
use std::time::{Duration, Instant};

use suite::{Fixture, put, sha, stage};
use tempfile::TempDir;
use vouch_evidence::testing::TestS3;
use vouch_evidence::{BlobCheck, Vault, VaultConfig, VaultError};

const PREFIX: &str = "tenant-a/evidence";

async fn s3() -> Fixture {
    let server = Arc::new(TestS3::start().await);
    let dir = TempDir::new().unwrap();
    let staging = dir.path().join("staging");
    let vault = Vault::open(&server.config(PREFIX), &staging).unwrap();
    let behind = Arc::clone(&server);
    Fixture {
        vault,
        staging,
        stored_at: Some(Box::new(move |h: &str| {
            behind.object_path(&format!("{PREFIX}/sha256/{}/{h}", &h[..2]))
        })),
        atomic_create: false,
        keep: vec![Box::new(dir), Box::new(server)],
    }
}

mod s3 {
    use super::s3;
    behaviour_suite!(s3);
    object_store_suite!(s3);
    tamper_suite!(s3);
}

fn open(server: &TestS3, cfg: &VaultConfig) -> (Vault, TempDir) {
    let dir = TempDir::new().unwrap();
    let _ = server;
    (Vault::open(cfg, dir.path()).unwrap(), dir)
}

#[tokio::test]
async fn blobs_are_stored_under_prefix_sha256_shard_hash() {
    let server = TestS3::start().await;
    let (vault, _dir) = open(&server, &server.config("/acme/prod/"));
    assert_eq!(vault.describe(), "s3://vouch-test/acme/prod");
    let h = put(&vault, b"where does it go").await;
    let file = server.object_path(&format!("acme/prod/sha256/{}/{h}", &h[..2]));
    assert_eq!(std::fs::read(&file).unwrap(), b"where does it go");

    let (root_vault, _dir2) = open(&server, &server.config(""));
    assert_eq!(root_vault.describe(), "s3://vouch-test");
    let h2 = put(&root_vault, b"at the root").await;
    assert!(
        server
            .object_path(&format!("sha256/{}/{h2}", &h2[..2]))
            .is_file()
    );
}

#[tokio::test]
async fn a_prefix_isolates_blobs() {
    let server = TestS3::start().await;
    let (a, _da) = open(&server, &server.config("a"));
    let (ab, _dab) = open(&server, &server.config("ab"));
    let (root, _dr) = open(&server, &server.config(""));
    let h = put(&a, b"only in a").await;

    assert!(a.exists(&h).await.unwrap());
    assert!(
        !ab.exists(&h).await.unwrap(),
        "a prefix is a folder, not a string prefix"
    );
    assert!(ab.list().await.unwrap().blobs.is_empty());
    assert_eq!(ab.check(&h).await.unwrap(), BlobCheck::Missing);
    // Committing the same content under another prefix stores it there too.
    let stored = ab.commit(stage(&ab, b"only in a").await).await.unwrap();
    assert!(!stored.already_present);

    // Seen from the bucket root, other prefixes' blobs are not blobs of this vault.
    let listing = root.list().await.unwrap();
    assert!(listing.blobs.is_empty(), "{listing:?}");
    let shard = &h[..2];
    assert_eq!(
        listing.stray,
        vec![
            format!("a/sha256/{shard}/{h}"),
            format!("ab/sha256/{shard}/{h}"),
        ]
    );
    assert_eq!(a.list().await.unwrap().blobs.len(), 1);
}

#[tokio::test]
async fn list_finds_committed_blobs_and_reports_foreign_keys() {
    let server = TestS3::start().await;
    let (vault, _d) = open(&server, &server.config("p"));
    let h1 = put(&vault, b"one").await;
    let h2 = put(&vault, b"two").await;
    // Something else wrote under our prefix.
    let foreign = server.object_path("p/notes/readme.txt");
    std::fs::create_dir_all(foreign.parent().unwrap()).unwrap();
    std::fs::write(&foreign, b"hello").unwrap();

    let listing = vault.list().await.unwrap();
    let mut expected = vec![(h1, 3u64), (h2, 3u64)];
    expected.sort();
    let found: Vec<(String, u64)> = listing
        .blobs
        .into_iter()
        .map(|b| (b.sha256, b.size))
        .collect();
    assert_eq!(found, expected);
    assert_eq!(listing.stray, vec!["p/notes/readme.txt".to_string()]);
}

#[tokio::test]
async fn a_wrong_secret_is_a_clear_error() {
    let server = TestS3::start().await;
    let mut cfg = server.config("p");
    cfg.s3.secret_access_key = Some("not-the-secret".into());
    let dir = TempDir::new().unwrap();
    let vault = Vault::open(&cfg, dir.path()).unwrap();

    let err = vault.exists(&sha(b"x")).await.unwrap_err();
    assert!(matches!(err, VaultError::Denied { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("s3://vouch-test/p/sha256/"), "{msg}");
    assert!(msg.contains("access key"), "{msg}");

    let staged = stage(&vault, b"x").await;
    let err = vault.commit(staged).await.unwrap_err();
    assert!(matches!(err, VaultError::Denied { .. }), "{err:?}");
    assert_eq!(
        suite::files_in(dir.path()),
        Vec::<String>::new(),
        "the staging file is discarded"
    );
    let listed = vault.list().await;
    assert!(
        matches!(listed, Err(VaultError::Denied { .. })),
        "{listed:?}"
    );
}

#[tokio::test]
async fn an_unknown_access_key_is_a_clear_error() {
    let server = TestS3::start().await;
    let mut cfg = server.config("");
    cfg.s3.access_key_id = Some("nobody".into());
    let (vault, _d) = open(&server, &cfg);
    let err = vault.check(&sha(b"x")).await.unwrap_err();
    assert!(matches!(err, VaultError::Denied { .. }), "{err:?}");
}

#[tokio::test]
async fn an_unreachable_server_fails_promptly_naming_the_key() {
    // A port that was just free: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let server = TestS3::start().await;
    let mut cfg = server.config("p");
    cfg.s3.endpoint = Some(format!("http://127.0.0.1:{port}"));
    let (vault, _d) = open(&server, &cfg);
    let started = Instant::now();
    let err = vault.exists(&sha(b"x")).await.unwrap_err();
    assert!(matches!(err, VaultError::Store { .. }), "{err:?}");
    assert!(
        err.to_string().contains("s3://vouch-test/p/sha256/"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "gave up after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_endpoint_that_is_not_a_url_is_a_config_error() {
    let server = TestS3::start().await;
    let dir = TempDir::new().unwrap();
    for endpoint in ["not a url", "127.0.0.1:9000", "ftp://127.0.0.1"] {
        let mut cfg = server.config("p");
        cfg.s3.endpoint = Some(endpoint.into());
        let err = Vault::open(&cfg, dir.path()).unwrap_err();
        assert!(
            matches!(err, VaultError::Config { .. }),
            "{endpoint}: {err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("s3://vouch-test/p"), "{msg}");
        assert!(msg.contains(&format!("{endpoint:?}")), "{msg}");
    }
}

#[tokio::test]
async fn the_server_stops_when_dropped() {
    let server = TestS3::start().await;
    let cfg = server.config("p");
    let (vault, _d) = open(&server, &cfg);
    put(&vault, b"before").await;
    drop(server);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(vault.exists(&sha(b"before")).await.is_err());
}
