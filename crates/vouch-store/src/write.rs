use crate::error::StoreError;
use crate::records::*;
use crate::store::{USER_COLUMNS, user_from_row};
use sqlx::{Any, AnyPool, Row, Transaction};
use vouch_domain::audit::{AuditEvent, NewAuditEvent};

/// One change of state, written all or nothing.
///
/// `begin` takes the audit head's row lock first (in SQLite, the database write lock), so
/// writers are serialised and the audit chain has a single order. `commit` refuses to commit a
/// transaction that appended no audit event; dropping a `WriteTx` rolls it back.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    head_seq: i64,
    head_hash: String,
    events: Vec<AuditEvent>,
}

impl WriteTx {
    pub(crate) async fn begin(pool: &AnyPool) -> Result<WriteTx, StoreError> {
        let mut tx = pool.begin().await?;
        // A write first: it makes SQLite take its write lock now (waiting on busy_timeout)
        // rather than fail later when a read transaction tries to upgrade, and it takes the
        // PostgreSQL row lock that orders concurrent writers.
        sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        Ok(WriteTx {
            tx,
            head_seq: row.try_get(0)?,
            head_hash: row.try_get(1)?,
            events: vec![],
        })
    }

    /// The transaction's connection, for the other modules' statements.
    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    /// Appends an audit event in this transaction and returns it as stored.
    pub async fn append_event(
        &mut self,
        event: NewAuditEvent,
        at: &str,
    ) -> Result<AuditEvent, StoreError> {
        let e = AuditEvent::chain(event, self.head_seq, &self.head_hash, at.to_string());
        let json = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string());
        sqlx::query(
            "INSERT INTO audit_events (seq, at, actor, actor_label, action, object_type, object_id, \
             before_json, after_json, request_id, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(e.seq)
        .bind(&e.at)
        .bind(&e.actor)
        .bind(&e.actor_label)
        .bind(&e.action)
        .bind(&e.object_type)
        .bind(&e.object_id)
        .bind(json(&e.before))
        .bind(json(&e.after))
        .bind(&e.request_id)
        .bind(&e.prev_hash)
        .bind(&e.hash)
        .execute(&mut *self.tx)
        .await?;
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(e.seq)
            .bind(&e.hash)
            .execute(&mut *self.tx)
            .await?;
        self.head_seq = e.seq;
        self.head_hash = e.hash.clone();
        self.events.push(e.clone());
        Ok(e)
    }

    /// Commits the change and its audit events together.
    pub async fn commit(self) -> Result<Vec<AuditEvent>, StoreError> {
        if self.events.is_empty() {
            // Dropping `tx` rolls back.
            return Err(StoreError::MissingAuditEvent);
        }
        self.tx.commit().await?;
        Ok(self.events)
    }

    // ---- settings ----

    pub async fn set_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn delete_setting(&mut self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM settings WHERE key = $1")
            .bind(key)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn setting(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    // ---- users ----

    /// Reads a user inside the transaction, so a check and the change it guards see one state.
    pub async fn user_by_id(&mut self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|r| user_from_row(&r)).transpose()
    }

    pub async fn count_users(&mut self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) FROM users")
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    pub async fn count_active_admins(&mut self) -> Result<i64, StoreError> {
        let row =
            sqlx::query("SELECT COUNT(*) FROM users WHERE role = 'admin' AND status = 'active'")
                .fetch_one(&mut *self.tx)
                .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    pub async fn insert_user(&mut self, u: &UserRecord) -> Result<(), StoreError> {
        let r = sqlx::query(
            "INSERT INTO users (id, email, name, role, status, password_hash, totp_secret, \
             totp_pending_secret, oidc_issuer, oidc_subject, created_at, updated_at, last_login_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&u.id)
        .bind(&u.email)
        .bind(&u.name)
        .bind(&u.role)
        .bind(&u.status)
        .bind(&u.password_hash)
        .bind(&u.totp_secret)
        .bind(&u.totp_pending_secret)
        .bind(&u.oidc_issuer)
        .bind(&u.oidc_subject)
        .bind(&u.created_at)
        .bind(&u.updated_at)
        .bind(&u.last_login_at)
        .execute(&mut *self.tx)
        .await;
        match r {
            Err(e) => match StoreError::from(e) {
                StoreError::Conflict(_) => Err(StoreError::Conflict(format!(
                    "a user with email {}",
                    u.email
                ))),
                other => Err(other),
            },
            Ok(_) => Ok(()),
        }
    }

    /// Writes every mutable field of a user (the caller read it in this transaction).
    pub async fn update_user(&mut self, u: &UserRecord) -> Result<(), StoreError> {
        let r = sqlx::query(
            "UPDATE users SET email = $1, name = $2, role = $3, status = $4, password_hash = $5, \
             totp_secret = $6, totp_pending_secret = $7, oidc_issuer = $8, oidc_subject = $9, \
             updated_at = $10, last_login_at = $11 WHERE id = $12",
        )
        .bind(&u.email)
        .bind(&u.name)
        .bind(&u.role)
        .bind(&u.status)
        .bind(&u.password_hash)
        .bind(&u.totp_secret)
        .bind(&u.totp_pending_secret)
        .bind(&u.oidc_issuer)
        .bind(&u.oidc_subject)
        .bind(&u.updated_at)
        .bind(&u.last_login_at)
        .bind(&u.id)
        .execute(&mut *self.tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {}", u.id)));
        }
        Ok(())
    }

    pub async fn replace_recovery_codes(
        &mut self,
        user_id: &str,
        hashes: &[String],
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *self.tx)
            .await?;
        for h in hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user_id)
                .bind(h)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// Marks a recovery code used; false when it was unknown or already used.
    pub async fn use_recovery_code(
        &mut self,
        user_id: &str,
        hash: &str,
        now: &str,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 \
             WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .bind(hash)
        .execute(&mut *self.tx)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Records that a TOTP code of time step `step` was used; false if that step (or a later
    /// one) was used already, which makes every code single-use.
    pub async fn claim_totp_step(&mut self, user_id: &str, step: i64) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "INSERT INTO totp_steps (user_id, last_step) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET last_step = excluded.last_step \
             WHERE totp_steps.last_step < excluded.last_step",
        )
        .bind(user_id)
        .bind(step)
        .execute(&mut *self.tx)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    // ---- sessions ----

    pub async fn insert_session(&mut self, s: &SessionRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, mfa_state, created_at, \
             last_seen_at, expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&s.id_hash)
        .bind(&s.user_id)
        .bind(&s.csrf_token)
        .bind(&s.mfa_state)
        .bind(&s.created_at)
        .bind(&s.last_seen_at)
        .bind(&s.expires_at)
        .bind(&s.ip)
        .bind(&s.user_agent)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn set_session_mfa_state(
        &mut self,
        id_hash: &str,
        state: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET mfa_state = $1 WHERE id_hash = $2")
            .bind(state)
            .bind(id_hash)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&mut self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Ends every session of a user (on disable, role change or password reset).
    pub async fn delete_user_sessions(&mut self, user_id: &str) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(r.rows_affected())
    }

    // ---- API tokens ----

    pub async fn insert_token(&mut self, t: &TokenRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, role, token_hash, prefix, created_at, \
             expires_at, revoked_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&t.id)
        .bind(&t.user_id)
        .bind(&t.name)
        .bind(&t.role)
        .bind(&t.token_hash)
        .bind(&t.prefix)
        .bind(&t.created_at)
        .bind(&t.expires_at)
        .bind(&t.revoked_at)
        .bind(&t.last_used_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn revoke_token(&mut self, id: &str, now: &str) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Revokes every live token of a user (when they are disabled); returns how many.
    pub async fn revoke_user_tokens(
        &mut self,
        user_id: &str,
        now: &str,
    ) -> Result<u64, StoreError> {
        let r = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(r.rows_affected())
    }
}
