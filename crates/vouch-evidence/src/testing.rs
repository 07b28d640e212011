//! A real S3-compatible server on loopback, for tests only (feature `test-s3`).
//!
//! It exists so that the S3 vault can be tested end to end (signatures, conditional puts,
//! multipart uploads, listings, error statuses) against the same HTTP protocol a real service
//! speaks, without network access and without trusting a fake of the client under test. The
//! server is `s3s` (the S3 protocol: routing, SigV4 authentication, XML) over `s3s-fs` (objects
//! as plain files in a temporary folder), so a test can also reach behind the server's back and
//! alter or delete an object's bytes on disk ([`TestS3::object_path`]).
//!
//! Each [`TestS3`] has its own folder, bucket, port and random secret; the server stops and the
//! folder is removed when it is dropped. Never use this module outside tests.

use std::path::{Path, PathBuf};

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::{S3Settings, VaultConfig};

/// An S3-compatible server on `127.0.0.1`, with one empty bucket, stopped when dropped.
pub struct TestS3 {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    dir: tempfile::TempDir,
    server: JoinHandle<()>,
}

impl TestS3 {
    /// Starts a server on a free loopback port with signature (SigV4) authentication on and the
    /// bucket created. Needs a Tokio runtime (it spawns the server on the current one).
    pub async fn start() -> TestS3 {
        let dir = tempfile::Builder::new()
            .prefix("vouch-test-s3-")
            .tempdir()
            .expect("create the test S3 folder");
        let bucket = "vouch-test".to_string();
        std::fs::create_dir(dir.path().join(&bucket)).expect("create the test bucket");
        let access_key_id = "vouch-test-access-key".to_string();
        let secret_access_key = format!("test-secret-{}", uuid::Uuid::new_v4().simple());

        let fs = s3s_fs::FileSystem::new(dir.path()).expect("open the test S3 folder");
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(
            access_key_id.clone(),
            secret_access_key.clone(),
        ));
        let service = builder.build();

        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the test S3 server on 127.0.0.1");
        let addr = listener.local_addr().expect("the test S3 server's address");
        let server = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            // Connections live in this set, so aborting the server task ends them too.
            let mut connections = JoinSet::new();
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let conn = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                connections.spawn(async move {
                    let _ = conn.await;
                });
                while connections.try_join_next().is_some() {}
            }
        });

        TestS3 {
            endpoint: format!("http://{addr}"),
            bucket,
            access_key_id,
            secret_access_key,
            dir,
            server,
        }
    }

    /// Settings that reach this server (plain HTTP allowed, region `us-east-1`).
    pub fn settings(&self) -> S3Settings {
        S3Settings {
            endpoint: Some(self.endpoint.clone()),
            region: Some("us-east-1".into()),
            access_key_id: Some(self.access_key_id.clone()),
            secret_access_key: Some(self.secret_access_key.clone()),
            allow_http: true,
        }
    }

    /// `s3://<bucket>/<prefix>` (`s3://<bucket>` for an empty prefix).
    pub fn url(&self, prefix: &str) -> String {
        let prefix = prefix.trim_matches('/');
        if prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{prefix}", self.bucket)
        }
    }

    /// A vault configuration for this server under `prefix`.
    pub fn config(&self, prefix: &str) -> VaultConfig {
        VaultConfig {
            url: self.url(prefix),
            s3: self.settings(),
        }
    }

    /// The folder holding the bucket's objects: the object with key `k` is the file
    /// `bucket_dir().join(k)`.
    pub fn bucket_dir(&self) -> PathBuf {
        self.dir.path().join(&self.bucket)
    }

    /// The file holding the object with key `key`, to alter or delete it behind the server.
    pub fn object_path(&self, key: &str) -> PathBuf {
        let mut p = self.bucket_dir();
        p.extend(key.split('/'));
        p
    }

    /// The server's whole data folder (bucket folders and s3s-fs metadata).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for TestS3 {
    fn drop(&mut self) {
        self.server.abort();
    }
}
