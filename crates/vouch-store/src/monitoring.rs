//! Control-test results: snapshots, runs, per-entity state and its changes, exceptions, the
//! alert outbox and leased schedules.
use crate::store::Store;
use crate::{StoreError, WriteTx};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

/// What one evaluation round read.
#[derive(Clone, Debug, Serialize)]
pub struct SnapshotRecord {
    pub id: String,
    pub seq: i64,
    pub taken_at: String,
    pub resource_count: i64,
    pub digest: String,
    /// `{"resources": [[id, version], …], "links": [[account_id, email, service, note], …]}`.
    #[serde(skip)]
    pub body: String,
}

/// One evaluation of one test.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TestRunRecord {
    pub id: String,
    pub seq: i64,
    pub test_id: String,
    pub test_version: i64,
    pub logic_hash: String,
    pub engine: String,
    pub params: serde_json::Value,
    pub snapshot_id: String,
    pub evaluated_at: String,
    /// `collection`, `schedule`, `manual` or `rerun`.
    pub trigger: String,
    pub status: String,
    /// `{"pass": n, "fail": n, "skip": n, "error": n, "excused": n, "overdue": n}`.
    pub counts: serde_json::Value,
    pub error: Option<String>,
    pub results_digest: Option<String>,
    pub duration_ms: i64,
}

/// The current result of one entity of one test.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TestEntityRecord {
    pub test_id: String,
    pub entity: String,
    pub resource_id: Option<i64>,
    pub status: String,
    pub reason: String,
    pub first_seen_at: String,
    pub status_since: String,
    pub first_failed_at: Option<String>,
    pub remediate_by: Option<String>,
    pub sla: Option<String>,
    pub last_changed_run: String,
}

/// A change of one entity's status.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EntityEventRecord {
    pub seq: i64,
    pub test_id: String,
    pub entity: String,
    pub resource_id: Option<i64>,
    pub run_id: String,
    pub at: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: String,
}

/// An exception to a test (entity `None`) or to one of its entities.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ExceptionRecord {
    pub id: String,
    pub seq: i64,
    pub test_id: String,
    pub entity: Option<String>,
    pub justification: String,
    pub requested_by: String,
    pub requested_at: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    pub expires_at: String,
    pub revoked_by: Option<String>,
    pub revoked_at: Option<String>,
}

/// An alert to deliver.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NotificationRecord {
    pub seq: i64,
    pub dedupe_key: String,
    /// `email` or `slack`.
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: String,
}

/// A resource as a snapshot reads it: identity, the version read, and that version's state.
#[derive(Clone, Debug)]
pub struct SnapshotResource {
    pub id: i64,
    pub kind: String,
    pub system: String,
    pub key: String,
    pub attrs: serde_json::Map<String, serde_json::Value>,
    pub first_seen: String,
    pub deleted_at: Option<String>,
    pub version: i64,
}

const RUN_COLUMNS: &str = "id, seq, test_id, test_version, logic_hash, engine, params_json, \
     snapshot_id, evaluated_at, trigger_kind, status, counts_json, error, results_digest, \
     duration_ms";

fn json(text: &str, what: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn run_from_row(r: &AnyRow) -> Result<TestRunRecord, StoreError> {
    Ok(TestRunRecord {
        id: r.try_get(0)?,
        seq: r.try_get(1)?,
        test_id: r.try_get(2)?,
        test_version: r.try_get(3)?,
        logic_hash: r.try_get(4)?,
        engine: r.try_get(5)?,
        params: json(&r.try_get::<String, _>(6)?, "test run params")?,
        snapshot_id: r.try_get(7)?,
        evaluated_at: r.try_get(8)?,
        trigger: r.try_get(9)?,
        status: r.try_get(10)?,
        counts: json(&r.try_get::<String, _>(11)?, "test run counts")?,
        error: r.try_get(12)?,
        results_digest: r.try_get(13)?,
        duration_ms: r.try_get(14)?,
    })
}

const ENTITY_COLUMNS: &str = "test_id, entity, resource_id, status, reason, first_seen_at, \
     status_since, first_failed_at, remediate_by, sla, last_changed_run";

fn entity_from_row(r: &AnyRow) -> Result<TestEntityRecord, StoreError> {
    Ok(TestEntityRecord {
        test_id: r.try_get(0)?,
        entity: r.try_get(1)?,
        resource_id: r.try_get(2)?,
        status: r.try_get(3)?,
        reason: r.try_get(4)?,
        first_seen_at: r.try_get(5)?,
        status_since: r.try_get(6)?,
        first_failed_at: r.try_get(7)?,
        remediate_by: r.try_get(8)?,
        sla: r.try_get(9)?,
        last_changed_run: r.try_get(10)?,
    })
}

const EXCEPTION_COLUMNS: &str = "id, seq, test_id, entity, justification, requested_by, \
     requested_at, approved_by, approved_at, expires_at, revoked_by, revoked_at";

fn exception_from_row(r: &AnyRow) -> Result<ExceptionRecord, StoreError> {
    Ok(ExceptionRecord {
        id: r.try_get(0)?,
        seq: r.try_get(1)?,
        test_id: r.try_get(2)?,
        entity: r.try_get(3)?,
        justification: r.try_get(4)?,
        requested_by: r.try_get(5)?,
        requested_at: r.try_get(6)?,
        approved_by: r.try_get(7)?,
        approved_at: r.try_get(8)?,
        expires_at: r.try_get(9)?,
        revoked_by: r.try_get(10)?,
        revoked_at: r.try_get(11)?,
    })
}

const NOTIFICATION_COLUMNS: &str = "seq, dedupe_key, channel, recipient, subject, body, \
     created_at, sent_at, attempts, last_error, next_attempt_at";

fn notification_from_row(r: &AnyRow) -> Result<NotificationRecord, StoreError> {
    Ok(NotificationRecord {
        seq: r.try_get(0)?,
        dedupe_key: r.try_get(1)?,
        channel: r.try_get(2)?,
        recipient: r.try_get(3)?,
        subject: r.try_get(4)?,
        body: r.try_get(5)?,
        created_at: r.try_get(6)?,
        sent_at: r.try_get(7)?,
        attempts: r.try_get(8)?,
        last_error: r.try_get(9)?,
        next_attempt_at: r.try_get(10)?,
    })
}

fn snapshot_resource_from_row(r: &AnyRow) -> Result<SnapshotResource, StoreError> {
    let attrs: String = r.try_get(4)?;
    Ok(SnapshotResource {
        id: r.try_get(0)?,
        kind: r.try_get(1)?,
        system: r.try_get(2)?,
        key: r.try_get(3)?,
        attrs: serde_json::from_str(&attrs)
            .map_err(|e| StoreError::Corrupt(format!("resource attrs: {e}")))?,
        first_seen: r.try_get(5)?,
        deleted_at: r.try_get(6)?,
        version: r.try_get(7)?,
    })
}

fn kinds_list(kinds: &[&str]) -> String {
    // Kinds are Vouch's own fixed names (checked by the caller), never user text.
    kinds
        .iter()
        .map(|k| format!("'{}'", k.replace('\'', "")))
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    /// Every resource of `kinds`, deleted ones included, at its latest version.
    pub async fn snapshot_resources(
        &self,
        kinds: &[&str],
    ) -> Result<Vec<SnapshotResource>, StoreError> {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, kind, system, natural_key, attrs_json, first_seen, deleted_at, version \
             FROM resources WHERE kind IN ({}) ORDER BY id",
            kinds_list(kinds)
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(snapshot_resource_from_row).collect()
    }

    /// The resources a snapshot read, each at the version it read: the version's attributes,
    /// and `deleted_at` as that version says (a `deleted` version's start).
    pub async fn snapshot_resources_at(
        &self,
        pairs: &[(i64, i64)],
    ) -> Result<Vec<SnapshotResource>, StoreError> {
        let mut out = Vec::with_capacity(pairs.len());
        for chunk in pairs.chunks(500) {
            let cond: Vec<String> = chunk
                .iter()
                .map(|(id, v)| format!("(v.resource_id = {id} AND v.version = {v})"))
                .collect();
            let sql = format!(
                "SELECT r.id, r.kind, r.system, r.natural_key, v.attrs_json, r.first_seen, \
                 CASE WHEN v.change = 'deleted' THEN v.valid_from ELSE NULL END, v.version \
                 FROM resource_versions v JOIN resources r ON r.id = v.resource_id WHERE {}",
                cond.join(" OR ")
            );
            let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
            for r in &rows {
                out.push(snapshot_resource_from_row(r)?);
            }
        }
        out.sort_by_key(|r| r.id);
        Ok(out)
    }

    pub async fn snapshot(&self, id: &str) -> Result<Option<SnapshotRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, seq, taken_at, resource_count, digest, body FROM test_snapshots \
             WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(SnapshotRecord {
                id: r.try_get(0)?,
                seq: r.try_get(1)?,
                taken_at: r.try_get(2)?,
                resource_count: r.try_get(3)?,
                digest: r.try_get(4)?,
                body: r.try_get(5)?,
            })
        })
        .transpose()
    }

    /// The latest run of every test that has one.
    pub async fn latest_test_runs(&self) -> Result<Vec<TestRunRecord>, StoreError> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM test_runs WHERE seq IN \
             (SELECT MAX(seq) FROM test_runs GROUP BY test_id) ORDER BY test_id"
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(run_from_row).collect()
    }

    /// A test's runs, newest first; within `[from, to)` of `evaluated_at` when given.
    pub async fn test_runs(
        &self,
        test_id: &str,
        from: Option<&str>,
        to: Option<&str>,
        limit: i64,
    ) -> Result<Vec<TestRunRecord>, StoreError> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM test_runs WHERE test_id = $1 \
             AND evaluated_at >= $2 AND evaluated_at < $3 ORDER BY seq DESC LIMIT {}",
            limit.max(0)
        );
        let rows = sqlx::query(&sql)
            .bind(test_id)
            .bind(from.unwrap_or(""))
            .bind(to.unwrap_or("9999"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(run_from_row).collect()
    }

    pub async fn test_run(&self, id: &str) -> Result<Option<TestRunRecord>, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM test_runs WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    /// The current entity results of one test (all tests when `None`).
    pub async fn test_entities(
        &self,
        test_id: Option<&str>,
    ) -> Result<Vec<TestEntityRecord>, StoreError> {
        let rows = match test_id {
            Some(t) => {
                let sql = format!(
                    "SELECT {ENTITY_COLUMNS} FROM test_entities WHERE test_id = $1 \
                     ORDER BY entity"
                );
                sqlx::query(&sql).bind(t).fetch_all(&self.pool).await?
            }
            None => {
                let sql =
                    format!("SELECT {ENTITY_COLUMNS} FROM test_entities ORDER BY test_id, entity");
                sqlx::query(&sql).fetch_all(&self.pool).await?
            }
        };
        rows.iter().map(entity_from_row).collect()
    }

    /// Status changes of a test's entities (one entity's when given), oldest first.
    pub async fn test_entity_events(
        &self,
        test_id: &str,
        entity: Option<&str>,
        limit: i64,
    ) -> Result<Vec<EntityEventRecord>, StoreError> {
        let base = "SELECT seq, test_id, entity, resource_id, run_id, at, from_status, \
             to_status, reason FROM test_entity_events WHERE test_id = $1";
        let rows = match entity {
            Some(e) => {
                let sql = format!("{base} AND entity = $2 ORDER BY seq LIMIT {}", limit.max(0));
                sqlx::query(&sql)
                    .bind(test_id)
                    .bind(e)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                let sql = format!("{base} ORDER BY seq LIMIT {}", limit.max(0));
                sqlx::query(&sql)
                    .bind(test_id)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter()
            .map(|r| {
                Ok(EntityEventRecord {
                    seq: r.try_get(0)?,
                    test_id: r.try_get(1)?,
                    entity: r.try_get(2)?,
                    resource_id: r.try_get(3)?,
                    run_id: r.try_get(4)?,
                    at: r.try_get(5)?,
                    from_status: r.try_get(6)?,
                    to_status: r.try_get(7)?,
                    reason: r.try_get(8)?,
                })
            })
            .collect()
    }

    /// Exceptions, newest first; of one test when given.
    pub async fn exceptions(
        &self,
        test_id: Option<&str>,
    ) -> Result<Vec<ExceptionRecord>, StoreError> {
        let rows = match test_id {
            Some(t) => {
                let sql = format!(
                    "SELECT {EXCEPTION_COLUMNS} FROM test_exceptions WHERE test_id = $1 \
                     ORDER BY seq DESC"
                );
                sqlx::query(&sql).bind(t).fetch_all(&self.pool).await?
            }
            None => {
                let sql =
                    format!("SELECT {EXCEPTION_COLUMNS} FROM test_exceptions ORDER BY seq DESC");
                sqlx::query(&sql).fetch_all(&self.pool).await?
            }
        };
        rows.iter().map(exception_from_row).collect()
    }

    pub async fn exception(&self, id: &str) -> Result<Option<ExceptionRecord>, StoreError> {
        let sql = format!("SELECT {EXCEPTION_COLUMNS} FROM test_exceptions WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(exception_from_row).transpose()
    }

    /// Alerts not yet delivered whose next attempt is due at `now`.
    pub async fn due_notifications(
        &self,
        now: &str,
        limit: i64,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        let sql = format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE sent_at IS NULL \
             AND next_attempt_at <= $1 ORDER BY seq LIMIT {}",
            limit.max(0)
        );
        let rows = sqlx::query(&sql).bind(now).fetch_all(&self.pool).await?;
        rows.iter().map(notification_from_row).collect()
    }

    /// Alerts, newest first.
    pub async fn notifications(&self, limit: i64) -> Result<Vec<NotificationRecord>, StoreError> {
        let sql = format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications ORDER BY seq DESC LIMIT {}",
            limit.max(0)
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(notification_from_row).collect()
    }

    /// Records a delivery attempt. Not audited: delivery is bookkeeping of an alert already
    /// recorded, like a mail server's log.
    pub async fn mark_notification(
        &self,
        seq: i64,
        sent_at: Option<&str>,
        error: Option<&str>,
        next_attempt_at: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE notifications SET sent_at = $1, last_error = $2, next_attempt_at = $3, \
             attempts = attempts + 1 WHERE seq = $4",
        )
        .bind(sent_at)
        .bind(error)
        .bind(next_attempt_at)
        .bind(seq)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Claims a leased schedule: creates it due at `due` if missing, then moves it from `due`
    /// to `next` only if it still says `due` and `due <= now`. Exactly one instance wins.
    pub async fn claim_schedule(
        &self,
        name: &str,
        now: &str,
        next: &str,
    ) -> Result<bool, StoreError> {
        sqlx::query(
            "INSERT INTO schedules (name, next_run_at) VALUES ($1, $2) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(now)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query("SELECT next_run_at FROM schedules WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        let due: String = row.try_get(0)?;
        if due.as_str() > now {
            return Ok(false);
        }
        let done = sqlx::query(
            "UPDATE schedules SET next_run_at = $1 WHERE name = $2 AND next_run_at = $3",
        )
        .bind(next)
        .bind(name)
        .bind(&due)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

impl WriteTx {
    /// The next sequence number of one of the monitoring tables.
    pub async fn next_monitoring_seq(&mut self, table: MonitoringTable) -> Result<i64, StoreError> {
        let sql = format!("SELECT COALESCE(MAX(seq), 0) + 1 FROM {}", table.name());
        let row = sqlx::query(&sql).fetch_one(self.conn()).await?;
        Ok(row.try_get(0)?)
    }

    pub async fn insert_snapshot(&mut self, s: &SnapshotRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO test_snapshots (id, seq, taken_at, resource_count, digest, body) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&s.id)
        .bind(s.seq)
        .bind(&s.taken_at)
        .bind(s.resource_count)
        .bind(&s.digest)
        .bind(&s.body)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn insert_test_run(&mut self, r: &TestRunRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO test_runs (id, seq, test_id, test_version, logic_hash, engine, \
             params_json, snapshot_id, evaluated_at, trigger_kind, status, counts_json, error, \
             results_digest, duration_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&r.id)
        .bind(r.seq)
        .bind(&r.test_id)
        .bind(r.test_version)
        .bind(&r.logic_hash)
        .bind(&r.engine)
        .bind(r.params.to_string())
        .bind(&r.snapshot_id)
        .bind(&r.evaluated_at)
        .bind(&r.trigger)
        .bind(&r.status)
        .bind(r.counts.to_string())
        .bind(&r.error)
        .bind(&r.results_digest)
        .bind(r.duration_ms)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The current entity results of one test, read inside the transaction that replaces them.
    pub async fn test_entities_for_update(
        &mut self,
        test_id: &str,
    ) -> Result<Vec<TestEntityRecord>, StoreError> {
        let sql = format!("SELECT {ENTITY_COLUMNS} FROM test_entities WHERE test_id = $1");
        let rows = sqlx::query(&sql)
            .bind(test_id)
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(entity_from_row).collect()
    }

    /// Writes new or changed entity rows (replacing by key) and removes `gone` ones.
    pub async fn write_test_entities(
        &mut self,
        test_id: &str,
        upserts: &[TestEntityRecord],
        gone: &[String],
    ) -> Result<(), StoreError> {
        for chunk in gone.chunks(400) {
            let mut sql =
                String::from("DELETE FROM test_entities WHERE test_id = $1 AND entity IN (");
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", i + 2));
            }
            sql.push(')');
            let mut q = sqlx::query(&sql).bind(test_id);
            for e in chunk {
                q = q.bind(e);
            }
            q.execute(self.conn()).await?;
        }
        for chunk in upserts.chunks(80) {
            // Delete then insert: the same statement text on both databases (an upsert's
            // column list would be written twice) and one round trip per batch.
            let mut del =
                String::from("DELETE FROM test_entities WHERE test_id = $1 AND entity IN (");
            for i in 0..chunk.len() {
                if i > 0 {
                    del.push_str(", ");
                }
                del.push_str(&format!("${}", i + 2));
            }
            del.push(')');
            let mut q = sqlx::query(&del).bind(test_id);
            for e in chunk {
                q = q.bind(&e.entity);
            }
            q.execute(self.conn()).await?;
            let mut sql = format!("INSERT INTO test_entities ({ENTITY_COLUMNS}) VALUES ");
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let n = i * 11;
                let ps: Vec<String> = (1..=11).map(|k| format!("${}", n + k)).collect();
                sql.push_str(&format!("({})", ps.join(", ")));
            }
            let mut q = sqlx::query(&sql);
            for e in chunk {
                q = q
                    .bind(&e.test_id)
                    .bind(&e.entity)
                    .bind(e.resource_id)
                    .bind(&e.status)
                    .bind(&e.reason)
                    .bind(&e.first_seen_at)
                    .bind(&e.status_since)
                    .bind(&e.first_failed_at)
                    .bind(&e.remediate_by)
                    .bind(&e.sla)
                    .bind(&e.last_changed_run);
            }
            q.execute(self.conn()).await?;
        }
        Ok(())
    }

    pub async fn insert_entity_events(
        &mut self,
        events: &[EntityEventRecord],
    ) -> Result<(), StoreError> {
        for chunk in events.chunks(100) {
            let mut sql = String::from(
                "INSERT INTO test_entity_events (seq, test_id, entity, resource_id, run_id, at, \
                 from_status, to_status, reason) VALUES ",
            );
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let n = i * 9;
                let ps: Vec<String> = (1..=9).map(|k| format!("${}", n + k)).collect();
                sql.push_str(&format!("({})", ps.join(", ")));
            }
            let mut q = sqlx::query(&sql);
            for e in chunk {
                q = q
                    .bind(e.seq)
                    .bind(&e.test_id)
                    .bind(&e.entity)
                    .bind(e.resource_id)
                    .bind(&e.run_id)
                    .bind(&e.at)
                    .bind(&e.from_status)
                    .bind(&e.to_status)
                    .bind(&e.reason);
            }
            q.execute(self.conn()).await?;
        }
        Ok(())
    }

    /// Exceptions in force at `now` (approved, not revoked, not expired), inside the
    /// transaction that applies them.
    pub async fn active_exceptions(
        &mut self,
        now: &str,
    ) -> Result<Vec<ExceptionRecord>, StoreError> {
        let sql = format!(
            "SELECT {EXCEPTION_COLUMNS} FROM test_exceptions WHERE approved_at IS NOT NULL \
             AND revoked_at IS NULL AND expires_at > $1"
        );
        let rows = sqlx::query(&sql).bind(now).fetch_all(self.conn()).await?;
        rows.iter().map(exception_from_row).collect()
    }

    pub async fn put_exception(&mut self, e: &ExceptionRecord) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM test_exceptions WHERE id = $1")
            .bind(&e.id)
            .execute(self.conn())
            .await?;
        sqlx::query(&format!(
            "INSERT INTO test_exceptions ({EXCEPTION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(&e.id)
        .bind(e.seq)
        .bind(&e.test_id)
        .bind(&e.entity)
        .bind(&e.justification)
        .bind(&e.requested_by)
        .bind(&e.requested_at)
        .bind(&e.approved_by)
        .bind(&e.approved_at)
        .bind(&e.expires_at)
        .bind(&e.revoked_by)
        .bind(&e.revoked_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Queues an alert unless one with the same key exists. Returns whether it was queued.
    pub async fn queue_notification(&mut self, n: &NotificationRecord) -> Result<bool, StoreError> {
        let exists = sqlx::query("SELECT 1 FROM notifications WHERE dedupe_key = $1")
            .bind(&n.dedupe_key)
            .fetch_optional(self.conn())
            .await?;
        if exists.is_some() {
            return Ok(false);
        }
        let seq = self
            .next_monitoring_seq(MonitoringTable::Notifications)
            .await?;
        sqlx::query(&format!(
            "INSERT INTO notifications ({NOTIFICATION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(seq)
        .bind(&n.dedupe_key)
        .bind(&n.channel)
        .bind(&n.recipient)
        .bind(&n.subject)
        .bind(&n.body)
        .bind(&n.created_at)
        .bind(&n.sent_at)
        .bind(n.attempts)
        .bind(&n.last_error)
        .bind(&n.next_attempt_at)
        .execute(self.conn())
        .await?;
        Ok(true)
    }
}

/// The monitoring tables that number their rows.
#[derive(Clone, Copy, Debug)]
pub enum MonitoringTable {
    Snapshots,
    Runs,
    EntityEvents,
    Exceptions,
    Notifications,
}

impl MonitoringTable {
    fn name(self) -> &'static str {
        match self {
            MonitoringTable::Snapshots => "test_snapshots",
            MonitoringTable::Runs => "test_runs",
            MonitoringTable::EntityEvents => "test_entity_events",
            MonitoringTable::Exceptions => "test_exceptions",
            MonitoringTable::Notifications => "notifications",
        }
    }
}
