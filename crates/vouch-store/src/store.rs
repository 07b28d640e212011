use crate::error::StoreError;
use crate::records::*;
use crate::write::WriteTx;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use std::str::FromStr;
use std::sync::Once;
use std::time::Duration;
use vouch_domain::audit::{AuditEvent, ChainError, ChainVerifier};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The store: a connection pool and the backend it talks to. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
}

pub(crate) const USER_COLUMNS: &str = "id, email, name, role, status, password_hash, totp_secret, \
    totp_pending_secret, oidc_issuer, oidc_subject, created_at, updated_at, last_login_at";
const TOKEN_COLUMNS: &str =
    "id, user_id, name, role, token_hash, prefix, created_at, expires_at, revoked_at, last_used_at";
const EVENT_COLUMNS: &str = "seq, at, actor, actor_label, action, object_type, object_id, \
    before_json, after_json, request_id, prev_hash, hash";

fn redact(url: &str) -> String {
    // Never print a password that may sit in the URL.
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

impl Store {
    /// Opens the database at `url` (`sqlite://PATH` or `postgres://…`). A SQLite file and its
    /// folder are created when missing; SQLite runs in WAL mode with foreign keys on and full
    /// fsync, so a killed process leaves either the whole transaction or none of it.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);

        let (backend, url) = if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let (path_part, query) = path.split_once('?').unwrap_or((path, ""));
            if path_part != ":memory:"
                && !path_part.is_empty()
                && let Some(dir) = std::path::Path::new(path_part).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Connect {
                    url: url.to_string(),
                    reason: format!("cannot create folder {}: {e}", dir.display()),
                })?;
            }
            let query = if query.contains("mode=") {
                query.to_string()
            } else if query.is_empty() {
                "mode=rwc".to_string()
            } else {
                format!("{query}&mode=rwc")
            };
            (Backend::Sqlite, format!("sqlite://{path_part}?{query}"))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };

        let opts = AnyConnectOptions::from_str(&url).map_err(|e| StoreError::Connect {
            url: redact(&url),
            reason: e.to_string(),
        })?;
        let pool_opts = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 15000").await?;
                    }
                    Ok(())
                })
            });
        // One direct connection first: it fails fast with the real reason (refused, unknown
        // host, bad password), where the pool would only report a time-out.
        let probe = tokio::time::timeout(
            Duration::from_secs(10),
            <sqlx::AnyConnection as sqlx::Connection>::connect_with(&opts),
        )
        .await;
        match probe {
            Ok(Ok(conn)) => {
                let _ = sqlx::Connection::close(conn).await;
            }
            Ok(Err(e)) => {
                return Err(StoreError::Connect {
                    url: redact(&url),
                    reason: e.to_string(),
                });
            }
            Err(_) => {
                return Err(StoreError::Connect {
                    url: redact(&url),
                    reason: "no answer within 10 seconds".into(),
                });
            }
        }
        let pool = pool_opts
            .connect_with(opts)
            .await
            .map_err(|e| StoreError::Connect {
                url: redact(&url),
                reason: e.to_string(),
            })?;
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Brings the schema up to date. Safe to run at every start and from several instances.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Migrate(e.to_string()))?;
        Ok(migrator.iter().count())
    }

    /// Answers whether the database is reachable and migrated.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT seq FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a write transaction. See [`WriteTx`].
    pub async fn begin(&self) -> Result<WriteTx, StoreError> {
        WriteTx::begin(&self.pool).await
    }

    // ---- settings ----

    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    // ---- users ----

    pub async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| user_from_row(&r)).transpose()
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        let row = sqlx::query(&sql)
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| user_from_row(&r)).transpose()
    }

    pub async fn user_by_oidc(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE oidc_issuer = $1 AND oidc_subject = $2"
        );
        let row = sqlx::query(&sql)
            .bind(issuer)
            .bind(subject)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| user_from_row(&r)).transpose()
    }

    pub async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY name, email");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn count_users(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    pub async fn count_active_admins(&self) -> Result<i64, StoreError> {
        let row =
            sqlx::query("SELECT COUNT(*) FROM users WHERE role = 'admin' AND status = 'active'")
                .fetch_one(&self.pool)
                .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    /// The unused recovery-code hashes of a user.
    pub async fn unused_recovery_codes(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT code_hash FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(|r| r.get::<String, _>(0)).collect())
    }

    // ---- sessions ----

    pub async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id_hash, user_id, csrf_token, mfa_state, created_at, last_seen_at, expires_at, \
             ip, user_agent FROM sessions WHERE id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(SessionRecord {
                id_hash: r.try_get(0)?,
                user_id: r.try_get(1)?,
                csrf_token: r.try_get(2)?,
                mfa_state: r.try_get(3)?,
                created_at: r.try_get(4)?,
                last_seen_at: r.try_get(5)?,
                expires_at: r.try_get(6)?,
                ip: r.try_get(7)?,
                user_agent: r.try_get(8)?,
            })
        })
        .transpose()
    }

    /// Records activity on a session and slides its expiry. Bookkeeping, not a change of
    /// state anyone audits, so it does not go through a [`WriteTx`].
    pub async fn touch_session(
        &self,
        id_hash: &str,
        now: &str,
        expires_at: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE id_hash = $3")
            .bind(now)
            .bind(expires_at)
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes expired sessions and pending sign-ins. Housekeeping only.
    pub async fn purge_expired(&self, now: &str) -> Result<u64, StoreError> {
        let a = sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        let b = sqlx::query("DELETE FROM pending_logins WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(a.rows_affected() + b.rows_affected())
    }

    // ---- pending single sign-on logins (short-lived, not audited until they complete) ----

    pub async fn put_pending_login(&self, p: &PendingLoginRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO pending_logins (state, binding_hash, payload, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&p.state)
        .bind(&p.binding_hash)
        .bind(&p.payload)
        .bind(&p.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Reads and deletes a pending login, so a callback can be used once only.
    pub async fn take_pending_login(
        &self,
        state: &str,
    ) -> Result<Option<PendingLoginRecord>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM pending_logins WHERE state = $1 \
             RETURNING state, binding_hash, payload, expires_at",
        )
        .bind(state)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(PendingLoginRecord {
                state: r.try_get(0)?,
                binding_hash: r.try_get(1)?,
                payload: r.try_get(2)?,
                expires_at: r.try_get(3)?,
            })
        })
        .transpose()
    }

    // ---- API tokens ----

    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1");
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| token_from_row(&r)).transpose()
    }

    pub async fn token_by_id(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| token_from_row(&r)).transpose()
    }

    /// Tokens of one user, or of everyone when `user_id` is `None`; newest first.
    pub async fn list_tokens(&self, user_id: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = match user_id {
            Some(u) => {
                let sql = format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC"
                );
                sqlx::query(&sql).bind(u).fetch_all(&self.pool).await?
            }
            None => {
                let sql =
                    format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at DESC");
                sqlx::query(&sql).fetch_all(&self.pool).await?
            }
        };
        rows.iter().map(token_from_row).collect()
    }

    pub async fn touch_token(&self, id: &str, now: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---- audit log ----

    /// The chain head: the last event's sequence number and hash.
    pub async fn audit_head(&self) -> Result<(i64, String), StoreError> {
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    /// Events matching `f`, newest first.
    pub async fn audit_events(&self, f: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        let mut sql = format!("SELECT {EVENT_COLUMNS} FROM audit_events WHERE 1 = 1");
        let mut args: Vec<String> = Vec::new();
        let mut push = |clause: &str, value: String, args: &mut Vec<String>| {
            args.push(value);
            sql.push_str(&clause.replace('?', &format!("${}", args.len())));
        };
        // What a person types is matched literally: `%` and `_` are escaped, not wildcards.
        if let Some(a) = f.actor.as_deref().filter(|s| !s.is_empty()) {
            let like = format!("%{}%", like_literal(&a.to_lowercase()));
            push(
                " AND (LOWER(actor) LIKE ? ESCAPE '!'",
                like.clone(),
                &mut args,
            );
            push(" OR LOWER(actor_label) LIKE ? ESCAPE '!')", like, &mut args);
        }
        if let Some(a) = f.action.as_deref().filter(|s| !s.is_empty()) {
            push(
                " AND action LIKE ? ESCAPE '!'",
                format!("{}%", like_literal(a)),
                &mut args,
            );
        }
        if let Some(a) = f.object_type.as_deref().filter(|s| !s.is_empty()) {
            push(" AND object_type = ?", a.to_string(), &mut args);
        }
        if let Some(a) = f.object_id.as_deref().filter(|s| !s.is_empty()) {
            push(" AND object_id = ?", a.to_string(), &mut args);
        }
        if let Some(a) = f.from.as_deref().filter(|s| !s.is_empty()) {
            push(" AND at >= ?", a.to_string(), &mut args);
        }
        if let Some(a) = f.to.as_deref().filter(|s| !s.is_empty()) {
            push(" AND at < ?", a.to_string(), &mut args);
        }
        if let Some(b) = f.before_seq {
            sql.push_str(&format!(" AND seq < {b}"));
        }
        let limit = if f.limit <= 0 { 100 } else { f.limit.min(1000) };
        sql.push_str(&format!(" ORDER BY seq DESC LIMIT {limit}"));
        let mut q = sqlx::query(&sql);
        for a in &args {
            q = q.bind(a);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Re-reads the whole log in order, page by page, and checks every link of the chain.
    /// Returns the number of events verified, or the first bad event.
    pub async fn verify_audit_log(&self) -> Result<Result<i64, ChainError>, StoreError> {
        let (head_seq, head_hash) = self.audit_head().await?;
        let mut verifier = ChainVerifier::default();
        let mut after: Option<i64> = None;
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq ASC LIMIT 1000"
        );
        loop {
            let rows = sqlx::query(&sql)
                .bind(after.unwrap_or(i64::MIN))
                .fetch_all(&self.pool)
                .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let e = event_from_row(r)?;
                if let Err(bad) = verifier.push(&e) {
                    return Ok(Err(bad));
                }
                after = Some(e.seq);
            }
        }
        Ok(verifier.finish(head_seq, &head_hash))
    }
}

/// Escapes LIKE's wildcards (with `!` as the escape character, the same in both databases).
fn like_literal(s: &str) -> String {
    s.replace('!', "!!").replace('%', "!%").replace('_', "!_")
}

pub(crate) fn user_from_row(r: &AnyRow) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        id: r.try_get(0)?,
        email: r.try_get(1)?,
        name: r.try_get(2)?,
        role: r.try_get(3)?,
        status: r.try_get(4)?,
        password_hash: r.try_get(5)?,
        totp_secret: r.try_get(6)?,
        totp_pending_secret: r.try_get(7)?,
        oidc_issuer: r.try_get(8)?,
        oidc_subject: r.try_get(9)?,
        created_at: r.try_get(10)?,
        updated_at: r.try_get(11)?,
        last_login_at: r.try_get(12)?,
    })
}

fn token_from_row(r: &AnyRow) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        id: r.try_get(0)?,
        user_id: r.try_get(1)?,
        name: r.try_get(2)?,
        role: r.try_get(3)?,
        token_hash: r.try_get(4)?,
        prefix: r.try_get(5)?,
        created_at: r.try_get(6)?,
        expires_at: r.try_get(7)?,
        revoked_at: r.try_get(8)?,
        last_used_at: r.try_get(9)?,
    })
}

fn json_col(r: &AnyRow, i: usize) -> Result<Option<serde_json::Value>, StoreError> {
    let s: Option<String> = r.try_get(i)?;
    s.map(|s| {
        serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("audit event JSON: {e}")))
    })
    .transpose()
}

fn event_from_row(r: &AnyRow) -> Result<AuditEvent, StoreError> {
    Ok(AuditEvent {
        seq: r.try_get(0)?,
        at: r.try_get(1)?,
        actor: r.try_get(2)?,
        actor_label: r.try_get(3)?,
        action: r.try_get(4)?,
        object_type: r.try_get(5)?,
        object_id: r.try_get(6)?,
        before: json_col(r, 7)?,
        after: json_col(r, 8)?,
        request_id: r.try_get(9)?,
        prev_hash: r.try_get(10)?,
        hash: r.try_get(11)?,
    })
}
