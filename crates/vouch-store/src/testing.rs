//! Fresh, isolated databases for tests, on either backend.
//!
//! SQLite databases are files in a temporary folder. PostgreSQL databases are created per test
//! on the server named by `VOUCH_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! and dropped afterwards. When that server cannot be reached the PostgreSQL half of a suite is
//! skipped and says so, except under `CI=true`, where a missing PostgreSQL is a failure.
use crate::{Backend, Store};
use sqlx::{Connection, Executor};
use std::time::{SystemTime, UNIX_EPOCH};

pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn postgres_admin_url() -> String {
    std::env::var("VOUCH_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string())
}

/// A migrated store that cleans up after itself when [`TestDb::cleanup`] is awaited.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile_dir::TempDir>,
}

mod tempfile_dir {
    /// A minimal temporary folder, removed on drop (avoids a dependency for tests only).
    pub struct TempDir(pub std::path::PathBuf);
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}{}_{}_{}",
        nanos / 1_000_000_000,
        std::process::id(),
        nanos % 1_000_000_000
    )
}

impl TestDb {
    /// A fresh database of the given backend, or `None` (with a message) when PostgreSQL is
    /// not reachable outside CI.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(unique("vouch-test-"));
                std::fs::create_dir_all(&dir).unwrap();
                let url = format!("sqlite://{}", dir.join("vouch.db").display());
                let store = Store::connect(&url).await.expect("open sqlite");
                store.migrate().await.expect("migrate sqlite");
                Some(TestDb {
                    store,
                    url,
                    pg_name: None,
                    _dir: Some(tempfile_dir::TempDir(dir)),
                })
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let mut conn = match sqlx::PgConnection::connect(&admin).await {
                    Ok(c) => c,
                    Err(e) => {
                        if std::env::var("CI").is_ok_and(|v| v == "true") {
                            panic!("CI=true but PostgreSQL at {admin} is unreachable: {e}");
                        }
                        eprintln!("SKIPPED: PostgreSQL half: cannot reach {admin}: {e}");
                        return None;
                    }
                };
                drop_stale(&mut conn).await;
                let name = unique("vouch_t_");
                conn.execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .unwrap();
                let url = match admin.rsplit_once('/') {
                    Some((base, _)) => format!("{base}/{name}"),
                    None => panic!("VOUCH_TEST_POSTGRES_URL must name a database"),
                };
                let store = Store::connect(&url).await.expect("open postgres");
                store.migrate().await.expect("migrate postgres");
                Some(TestDb {
                    store,
                    url,
                    pg_name: Some(name),
                    _dir: None,
                })
            }
        }
    }

    /// Closes the pool and drops a PostgreSQL database.
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Some(name) = &self.pg_name
            && let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_admin_url()).await
        {
            let _ = conn
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await;
        }
    }
}

/// Drops test databases left behind by runs that crashed more than an hour ago.
async fn drop_stale(conn: &mut sqlx::PgConnection) {
    let cutoff = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 3600;
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'vouch_t_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    for (name,) in names {
        let secs = name.trim_start_matches("vouch_t_").split('_').next();
        if secs
            .and_then(|s| s.parse::<u64>().ok())
            .is_some_and(|s| s < cutoff)
        {
            let _ = conn
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await;
        }
    }
}
