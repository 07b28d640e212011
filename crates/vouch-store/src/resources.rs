//! Collected resources and their history, collection runs, integrations, account links.
//!
//! The store only reads and writes rows; deciding what a run changes (the diff between the
//! stored state and a new full sync) is the app's job, which hands the result to
//! [`WriteTx::apply_sync`] in one transaction.
use crate::error::StoreError;
use crate::store::Store;
use crate::write::WriteTx;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

/// Rows per multi-row INSERT: well under SQLite's and PostgreSQL's bound-parameter limits.
const BATCH: usize = 400;

/// A resource as stored, with its current attributes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResourceRecord {
    pub id: i64,
    pub kind: String,
    pub system: String,
    pub key: String,
    pub scope: String,
    pub attrs: serde_json::Map<String, serde_json::Value>,
    pub first_seen: String,
    pub last_seen: String,
    pub deleted_at: Option<String>,
    pub version: i64,
    pub last_run_id: String,
}

/// One state a resource had.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResourceVersion {
    pub version: i64,
    /// `added`, `changed`, `deleted` or `restored`.
    pub change: String,
    pub attrs: serde_json::Map<String, serde_json::Value>,
    pub valid_from: String,
    pub valid_to: Option<String>,
    pub run_id: String,
}

/// What the sync needs to know of a stored resource: enough to tell whether it changed.
#[derive(Clone, Debug)]
pub struct SyncState {
    pub id: i64,
    pub kind: String,
    pub key: String,
    pub scope: String,
    /// The stored attributes as JSON text (serde_json writes object keys sorted, so equal
    /// attributes have equal text).
    pub attrs_json: String,
    pub deleted: bool,
    pub version: i64,
}

/// A new resource.
#[derive(Clone, Debug)]
pub struct NewResource {
    pub id: i64,
    pub kind: String,
    pub system: String,
    pub key: String,
    pub attrs_json: String,
}

/// A stored resource whose state the run changes.
#[derive(Clone, Debug)]
pub struct ResourceChange {
    pub id: i64,
    /// The version this change creates (the stored one plus one).
    pub version: i64,
    /// `changed`, `restored` or `deleted`.
    pub change: &'static str,
    /// The new attributes (for `deleted`, the last ones seen).
    pub attrs_json: String,
}

/// Everything a successful run changes, applied at once.
#[derive(Clone, Debug, Default)]
pub struct SyncPlan {
    pub system: String,
    pub scope: String,
    pub added: Vec<NewResource>,
    pub changed: Vec<ResourceChange>,
    /// Stored resources the run saw again unchanged but that another scope owned until now.
    pub adopted: Vec<i64>,
}

/// A collection run as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunRecord {
    pub id: String,
    pub seq: i64,
    pub source: String,
    pub kind: String,
    pub system: Option<String>,
    pub scope: String,
    pub trigger: String,
    pub started_by: Option<String>,
    pub started_by_label: String,
    pub started_at: String,
    pub finished_at: String,
    pub status: String,
    pub error: Option<String>,
    pub warnings: Vec<String>,
    pub counts: serde_json::Value,
    pub collector_version: String,
    pub evidence_id: Option<String>,
}

/// An integration as stored. The secret is never read back out through this type: only
/// whether one is set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IntegrationRecord {
    pub name: String,
    pub kind: String,
    pub settings: serde_json::Value,
    pub has_secret: bool,
    pub schedule_minutes: Option<i64>,
    pub enabled: bool,
    pub controls: Vec<String>,
    pub next_run_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A manual decision about who owns an account.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccountLinkRecord {
    pub account_id: i64,
    pub person_email: Option<String>,
    pub service: bool,
    pub note: String,
    pub set_by: String,
    pub set_at: String,
}

/// Which resources to list.
#[derive(Clone, Debug, Default)]
pub struct ResourceFilter {
    pub kind: Option<String>,
    pub system: Option<String>,
    /// Part of the key, matched literally (case-insensitive).
    pub key_contains: Option<String>,
    pub include_deleted: bool,
    pub limit: Option<i64>,
    pub offset: i64,
}

const RESOURCE_COLUMNS: &str = "id, kind, system, natural_key, scope, attrs_json, first_seen, \
     last_seen, deleted_at, version, last_run_id";

fn attrs(text: &str) -> Result<serde_json::Map<String, serde_json::Value>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("resource attrs: {e}")))
}

fn resource_from_row(r: &AnyRow) -> Result<ResourceRecord, StoreError> {
    Ok(ResourceRecord {
        id: r.try_get(0)?,
        kind: r.try_get(1)?,
        system: r.try_get(2)?,
        key: r.try_get(3)?,
        scope: r.try_get(4)?,
        attrs: attrs(&r.try_get::<String, _>(5)?)?,
        first_seen: r.try_get(6)?,
        last_seen: r.try_get(7)?,
        deleted_at: r.try_get(8)?,
        version: r.try_get(9)?,
        last_run_id: r.try_get(10)?,
    })
}

const RUN_COLUMNS: &str = "id, seq, source, kind, system, scope, trigger_kind, started_by, \
     started_by_label, started_at, finished_at, status, error, warnings_json, counts_json, \
     collector_version, evidence_id";

fn run_from_row(r: &AnyRow) -> Result<RunRecord, StoreError> {
    let warnings: String = r.try_get(13)?;
    let counts: String = r.try_get(14)?;
    Ok(RunRecord {
        id: r.try_get(0)?,
        seq: r.try_get(1)?,
        source: r.try_get(2)?,
        kind: r.try_get(3)?,
        system: r.try_get(4)?,
        scope: r.try_get(5)?,
        trigger: r.try_get(6)?,
        started_by: r.try_get(7)?,
        started_by_label: r.try_get(8)?,
        started_at: r.try_get(9)?,
        finished_at: r.try_get(10)?,
        status: r.try_get(11)?,
        error: r.try_get(12)?,
        warnings: serde_json::from_str(&warnings)
            .map_err(|e| StoreError::Corrupt(format!("run warnings: {e}")))?,
        counts: serde_json::from_str(&counts)
            .map_err(|e| StoreError::Corrupt(format!("run counts: {e}")))?,
        collector_version: r.try_get(15)?,
        evidence_id: r.try_get(16)?,
    })
}

const INTEGRATION_COLUMNS: &str = "name, kind, settings_json, secret IS NOT NULL, \
     schedule_minutes, enabled, controls_json, next_run_at, created_at, updated_at";

fn integration_from_row(r: &AnyRow) -> Result<IntegrationRecord, StoreError> {
    let settings: String = r.try_get(2)?;
    let controls: String = r.try_get(6)?;
    Ok(IntegrationRecord {
        name: r.try_get(0)?,
        kind: r.try_get(1)?,
        settings: serde_json::from_str(&settings)
            .map_err(|e| StoreError::Corrupt(format!("integration settings: {e}")))?,
        has_secret: r
            .try_get::<bool, _>(3)
            .or_else(|_| r.try_get::<i64, _>(3).map(|v| v != 0))?,
        schedule_minutes: r.try_get(4)?,
        enabled: r.try_get::<i64, _>(5)? != 0,
        controls: serde_json::from_str(&controls)
            .map_err(|e| StoreError::Corrupt(format!("integration controls: {e}")))?,
        next_run_at: r.try_get(7)?,
        created_at: r.try_get(8)?,
        updated_at: r.try_get(9)?,
    })
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
fn like_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Store {
    /// Resources, ordered by kind, system and key.
    pub async fn list_resources(
        &self,
        f: &ResourceFilter,
    ) -> Result<(Vec<ResourceRecord>, i64), StoreError> {
        let mut clauses = vec!["1 = 1".to_string()];
        let mut binds: Vec<String> = vec![];
        if let Some(k) = &f.kind {
            binds.push(k.clone());
            clauses.push(format!("kind = ${}", binds.len()));
        }
        if let Some(s) = &f.system {
            binds.push(s.clone());
            clauses.push(format!("system = ${}", binds.len()));
        }
        if let Some(q) = &f.key_contains {
            binds.push(like_literal(q));
            clauses.push(format!(
                "LOWER(natural_key) LIKE ${} ESCAPE '\\'",
                binds.len()
            ));
        }
        if !f.include_deleted {
            clauses.push("deleted_at IS NULL".into());
        }
        let filter = clauses.join(" AND ");
        let count_sql = format!("SELECT COUNT(*) FROM resources WHERE {filter}");
        let mut q = sqlx::query(&count_sql);
        for b in &binds {
            q = q.bind(b);
        }
        let total: i64 = q.fetch_one(&self.pool).await?.try_get(0)?;
        let limit = f
            .limit
            .map(|l| format!(" LIMIT {}", l.max(0)))
            .unwrap_or_default();
        let offset = if f.offset > 0 {
            format!(" OFFSET {}", f.offset)
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT {RESOURCE_COLUMNS} FROM resources WHERE {filter} \
             ORDER BY kind, system, natural_key{limit}{offset}"
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        let list = rows
            .iter()
            .map(resource_from_row)
            .collect::<Result<_, _>>()?;
        Ok((list, total))
    }

    /// Counts of current resources per (kind, system).
    pub async fn resource_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, system, COUNT(*) FROM resources WHERE deleted_at IS NULL \
             GROUP BY kind, system ORDER BY kind, system",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    pub async fn resource(&self, id: i64) -> Result<Option<ResourceRecord>, StoreError> {
        let sql = format!("SELECT {RESOURCE_COLUMNS} FROM resources WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(resource_from_row).transpose()
    }

    pub async fn resource_by_key(
        &self,
        kind: &str,
        system: &str,
        key: &str,
    ) -> Result<Option<ResourceRecord>, StoreError> {
        let sql = format!(
            "SELECT {RESOURCE_COLUMNS} FROM resources \
             WHERE kind = $1 AND system = $2 AND natural_key = $3"
        );
        let row = sqlx::query(&sql)
            .bind(kind)
            .bind(system)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(resource_from_row).transpose()
    }

    /// Every state a resource had, oldest first.
    pub async fn resource_versions(&self, id: i64) -> Result<Vec<ResourceVersion>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, change, attrs_json, valid_from, valid_to, run_id \
             FROM resource_versions WHERE resource_id = $1 ORDER BY version",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ResourceVersion {
                    version: r.try_get(0)?,
                    change: r.try_get(1)?,
                    attrs: attrs(&r.try_get::<String, _>(2)?)?,
                    valid_from: r.try_get(3)?,
                    valid_to: r.try_get(4)?,
                    run_id: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Runs, newest first; of one source when given.
    pub async fn list_runs(
        &self,
        source: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let rows = match source {
            Some(s) => {
                let sql = format!(
                    "SELECT {RUN_COLUMNS} FROM collection_runs WHERE source = $1 \
                     ORDER BY seq DESC LIMIT {}",
                    limit.max(0)
                );
                sqlx::query(&sql).bind(s).fetch_all(&self.pool).await?
            }
            None => {
                let sql = format!(
                    "SELECT {RUN_COLUMNS} FROM collection_runs ORDER BY seq DESC LIMIT {}",
                    limit.max(0)
                );
                sqlx::query(&sql).fetch_all(&self.pool).await?
            }
        };
        rows.iter().map(run_from_row).collect()
    }

    pub async fn run(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM collection_runs WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    pub async fn list_integrations(&self) -> Result<Vec<IntegrationRecord>, StoreError> {
        let sql = format!("SELECT {INTEGRATION_COLUMNS} FROM integrations ORDER BY name");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(integration_from_row).collect()
    }

    pub async fn integration(&self, name: &str) -> Result<Option<IntegrationRecord>, StoreError> {
        let sql = format!("SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE name = $1");
        let row = sqlx::query(&sql)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(integration_from_row).transpose()
    }

    /// The integration's credential, for the connector only.
    pub async fn integration_secret(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT secret FROM integrations WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get(0)?,
            None => None,
        })
    }

    /// Claims a due scheduled run: moves `next_run_at` from `due` to `next` only if it still
    /// says `due`. With several instances, exactly one sees `true` for each due run (the
    /// UPDATE is atomic in both databases; PostgreSQL re-checks the condition after taking the
    /// row lock).
    pub async fn claim_scheduled_run(
        &self,
        name: &str,
        due: &str,
        next: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE integrations SET next_run_at = $1 \
             WHERE name = $2 AND next_run_at = $3 AND enabled = 1",
        )
        .bind(next)
        .bind(name)
        .bind(due)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn account_links(&self) -> Result<Vec<AccountLinkRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT account_id, person_email, service, note, set_by, set_at FROM account_links",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AccountLinkRecord {
                    account_id: r.try_get(0)?,
                    person_email: r.try_get(1)?,
                    service: r.try_get::<i64, _>(2)? != 0,
                    note: r.try_get(3)?,
                    set_by: r.try_get(4)?,
                    set_at: r.try_get(5)?,
                })
            })
            .collect()
    }
}

impl WriteTx {
    /// Read under the write lock, so that no other run changes it in between: the stored
    /// state of one system's resources (every scope, deleted ones included): what
    /// a new full sync of that system is compared with.
    pub async fn sync_state(&mut self, system: &str) -> Result<Vec<SyncState>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, natural_key, scope, attrs_json, deleted_at IS NOT NULL, version \
             FROM resources WHERE system = $1",
        )
        .bind(system)
        .fetch_all(self.conn())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SyncState {
                    id: r.try_get(0)?,
                    kind: r.try_get(1)?,
                    key: r.try_get(2)?,
                    scope: r.try_get(3)?,
                    attrs_json: r.try_get(4)?,
                    deleted: r
                        .try_get::<bool, _>(5)
                        .or_else(|_| r.try_get::<i64, _>(5).map(|v| v != 0))?,
                    version: r.try_get(6)?,
                })
            })
            .collect()
    }

    /// The highest resource id in use (0 when there is none).
    pub async fn max_resource_id(&mut self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM resources")
            .fetch_one(self.conn())
            .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn next_run_seq(&mut self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) + 1 FROM collection_runs")
            .fetch_one(self.conn())
            .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn insert_run(&mut self, r: &RunRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO collection_runs (id, seq, source, kind, system, scope, trigger_kind, \
             started_by, started_by_label, started_at, finished_at, status, error, \
             warnings_json, counts_json, collector_version, evidence_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(&r.id)
        .bind(r.seq)
        .bind(&r.source)
        .bind(&r.kind)
        .bind(&r.system)
        .bind(&r.scope)
        .bind(&r.trigger)
        .bind(&r.started_by)
        .bind(&r.started_by_label)
        .bind(&r.started_at)
        .bind(&r.finished_at)
        .bind(&r.status)
        .bind(&r.error)
        .bind(serde_json::to_string(&r.warnings).unwrap_or_else(|_| "[]".into()))
        .bind(r.counts.to_string())
        .bind(&r.collector_version)
        .bind(&r.evidence_id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Applies a successful run's changes: new resources, changed/restored/deleted ones (each
    /// closing its previous version), adopted ones, and `last_seen` for everything the run
    /// contained.
    pub async fn apply_sync(
        &mut self,
        plan: &SyncPlan,
        run_id: &str,
        now: &str,
        seen_ids: &[i64],
    ) -> Result<(), StoreError> {
        for chunk in plan.added.chunks(BATCH) {
            let mut sql = String::from(
                "INSERT INTO resources (id, kind, system, natural_key, scope, attrs_json, \
                 first_seen, last_seen, deleted_at, version, last_run_id) VALUES ",
            );
            let mut n = 0;
            for (i, _) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, NULL, 1, ${})",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5,
                    n + 6,
                    n + 7,
                    n + 8,
                    n + 9
                ));
                n += 9;
            }
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q
                    .bind(r.id)
                    .bind(&r.kind)
                    .bind(&r.system)
                    .bind(&r.key)
                    .bind(&plan.scope)
                    .bind(&r.attrs_json)
                    .bind(now)
                    .bind(now)
                    .bind(run_id);
            }
            q.execute(self.conn()).await?;
            self.insert_versions(
                chunk
                    .iter()
                    .map(|r| (r.id, 1, "added", r.attrs_json.as_str())),
                run_id,
                now,
            )
            .await?;
        }
        for c in &plan.changed {
            sqlx::query(
                "UPDATE resource_versions SET valid_to = $1 \
                 WHERE resource_id = $2 AND valid_to IS NULL",
            )
            .bind(now)
            .bind(c.id)
            .execute(self.conn())
            .await?;
            let deleted = c.change == "deleted";
            sqlx::query(
                "UPDATE resources SET attrs_json = $1, version = $2, last_run_id = $3, \
                 scope = $4, deleted_at = $5 WHERE id = $6",
            )
            .bind(&c.attrs_json)
            .bind(c.version)
            .bind(run_id)
            .bind(&plan.scope)
            .bind(deleted.then_some(now))
            .bind(c.id)
            .execute(self.conn())
            .await?;
        }
        for chunk in plan.changed.chunks(BATCH) {
            self.insert_versions(
                chunk
                    .iter()
                    .map(|c| (c.id, c.version, c.change, c.attrs_json.as_str())),
                run_id,
                now,
            )
            .await?;
        }
        for id in &plan.adopted {
            sqlx::query("UPDATE resources SET scope = $1 WHERE id = $2")
                .bind(&plan.scope)
                .bind(id)
                .execute(self.conn())
                .await?;
        }
        // Everything the run contained was seen now. Ids are ours (integers), so they are
        // written into the statement rather than bound, a batch at a time.
        for chunk in seen_ids.chunks(1000) {
            let ids: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let sql = format!(
                "UPDATE resources SET last_seen = $1, last_run_id = $2 WHERE id IN ({})",
                ids.join(",")
            );
            sqlx::query(&sql)
                .bind(now)
                .bind(run_id)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    async fn insert_versions<'a>(
        &mut self,
        rows: impl Iterator<Item = (i64, i64, &'a str, &'a str)>,
        run_id: &str,
        now: &str,
    ) -> Result<(), StoreError> {
        let rows: Vec<_> = rows.collect();
        if rows.is_empty() {
            return Ok(());
        }
        let mut sql = String::from(
            "INSERT INTO resource_versions (resource_id, version, change, attrs_json, \
             valid_from, valid_to, run_id) VALUES ",
        );
        for i in 0..rows.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            let n = i * 6;
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, NULL, ${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6
            ));
        }
        let mut q = sqlx::query(&sql);
        for (id, version, change, attrs) in rows {
            q = q
                .bind(id)
                .bind(version)
                .bind(change)
                .bind(attrs)
                .bind(now)
                .bind(run_id);
        }
        q.execute(self.conn()).await?;
        Ok(())
    }

    /// Creates or replaces an integration's settings. `secret`: `Some` sets it, `None` keeps
    /// the stored one.
    pub async fn put_integration(
        &mut self,
        i: &IntegrationRecord,
        secret: Option<&str>,
    ) -> Result<(), StoreError> {
        let settings = i.settings.to_string();
        let controls = serde_json::to_string(&i.controls).unwrap_or_else(|_| "[]".into());
        let enabled = i64::from(i.enabled);
        let exists = sqlx::query("SELECT 1 FROM integrations WHERE name = $1")
            .bind(&i.name)
            .fetch_optional(self.conn())
            .await?
            .is_some();
        if exists {
            sqlx::query(
                "UPDATE integrations SET kind = $1, settings_json = $2, schedule_minutes = $3, \
                 enabled = $4, controls_json = $5, next_run_at = $6, updated_at = $7, \
                 secret = COALESCE($8, secret) WHERE name = $9",
            )
            .bind(&i.kind)
            .bind(&settings)
            .bind(i.schedule_minutes)
            .bind(enabled)
            .bind(&controls)
            .bind(&i.next_run_at)
            .bind(&i.updated_at)
            .bind(secret)
            .bind(&i.name)
            .execute(self.conn())
            .await?;
        } else {
            sqlx::query(
                "INSERT INTO integrations (name, kind, settings_json, secret, schedule_minutes, \
                 enabled, controls_json, next_run_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&i.name)
            .bind(&i.kind)
            .bind(&settings)
            .bind(secret)
            .bind(i.schedule_minutes)
            .bind(enabled)
            .bind(&controls)
            .bind(&i.next_run_at)
            .bind(&i.created_at)
            .bind(&i.updated_at)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    pub async fn delete_integration(&mut self, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM integrations WHERE name = $1")
            .bind(name)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn put_account_link(&mut self, l: &AccountLinkRecord) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM account_links WHERE account_id = $1")
            .bind(l.account_id)
            .execute(self.conn())
            .await?;
        sqlx::query(
            "INSERT INTO account_links (account_id, person_email, service, note, set_by, set_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(l.account_id)
        .bind(&l.person_email)
        .bind(i64::from(l.service))
        .bind(&l.note)
        .bind(&l.set_by)
        .bind(&l.set_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn remove_account_link(&mut self, account_id: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM account_links WHERE account_id = $1")
            .bind(account_id)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
