//! Evidence records, their revisions, files and control links, and the blob index.
//!
//! The bytes live in the vault (`vouch-evidence`); these tables say what each blob is evidence
//! of. `blobs` lists every hash the vault must hold, so `vouch verify` can tell a missing blob
//! (indexed, not in the vault) from an orphan (in the vault, not indexed).
use crate::error::StoreError;
use crate::store::Store;
use crate::write::WriteTx;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;
use time::Date;
use time::macros::format_description;
use vouch_domain::evidence::{
    Evidence, EvidenceFile, EvidenceHistory, EvidenceRevision, EvidenceSource,
};

/// Which evidence to list.
#[derive(Clone, Debug, Default)]
pub struct EvidenceFilter {
    /// Only evidence whose current revision supports this control.
    pub control: Option<String>,
    /// Only evidence first added by this user.
    pub created_by: Option<String>,
    /// Include records whose files retention has purged.
    pub include_purged: bool,
    pub limit: Option<i64>,
}

/// A blob the index says the vault holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedBlob {
    pub sha256: String,
    pub size: u64,
    pub created_at: String,
}

/// One evidence file as a purge candidate sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurgeCandidate {
    pub id: String,
    pub created_at: String,
    pub period_start: Date,
    pub period_end: Date,
}

pub fn day_text(d: Date) -> String {
    d.format(format_description!("[year]-[month]-[day]"))
        .expect("a date formats")
}

fn parse_day(s: &str, what: &str) -> Result<Date, StoreError> {
    Date::parse(s, format_description!("[year]-[month]-[day]"))
        .map_err(|e| StoreError::Corrupt(format!("{what}: '{s}' is not a date ({e})")))
}

const REVISION_COLUMNS: &str = "r.evidence_id, r.revision, r.title, r.description, r.link, \
    r.period_start, r.period_end, r.source, r.source_detail, r.note, r.created_by, \
    r.created_by_label, r.created_at";

fn revision_from_row(r: &AnyRow) -> Result<(String, EvidenceRevision), StoreError> {
    let id: String = r.try_get(0)?;
    let source: String = r.try_get(7)?;
    let rev = EvidenceRevision {
        revision: r.try_get(1)?,
        title: r.try_get(2)?,
        description: r.try_get(3)?,
        link: r.try_get(4)?,
        period_start: parse_day(&r.try_get::<String, _>(5)?, &id)?,
        period_end: parse_day(&r.try_get::<String, _>(6)?, &id)?,
        source: EvidenceSource::parse(&source)
            .ok_or_else(|| StoreError::Corrupt(format!("{id}: source '{source}'")))?,
        source_detail: r.try_get(8)?,
        note: r.try_get(9)?,
        created_by: r.try_get(10)?,
        created_by_label: r.try_get(11)?,
        created_at: r.try_get(12)?,
        controls: vec![],
        files: vec![],
    };
    Ok((id, rev))
}

type RevKey = (String, i64);

/// Fills in files and control links for the given revisions (those the `which` SQL selects).
async fn attach(
    conn: &mut sqlx::AnyConnection,
    which: &str,
    binds: &[String],
    revs: &mut [(String, EvidenceRevision)],
) -> Result<(), StoreError> {
    let mut files: BTreeMap<RevKey, Vec<EvidenceFile>> = BTreeMap::new();
    let sql = format!(
        "SELECT f.evidence_id, f.revision, f.position, f.name, f.sha256, f.size, f.media_type \
         FROM evidence_files f JOIN evidence e ON e.id = f.evidence_id \
         WHERE {which} ORDER BY f.evidence_id, f.revision, f.position"
    );
    let mut q = sqlx::query(&sql);
    for b in binds {
        q = q.bind(b);
    }
    for r in q.fetch_all(&mut *conn).await? {
        let size: i64 = r.try_get(5)?;
        files
            .entry((r.try_get(0)?, r.try_get(1)?))
            .or_default()
            .push(EvidenceFile {
                position: r.try_get(2)?,
                name: r.try_get(3)?,
                sha256: r.try_get(4)?,
                size: size as u64,
                media_type: r.try_get(6)?,
            });
    }
    let mut controls: BTreeMap<RevKey, Vec<String>> = BTreeMap::new();
    let sql = format!(
        "SELECT f.evidence_id, f.revision, f.control_id FROM evidence_controls f \
         JOIN evidence e ON e.id = f.evidence_id \
         WHERE {which} ORDER BY f.evidence_id, f.revision, f.control_id"
    );
    let mut q = sqlx::query(&sql);
    for b in binds {
        q = q.bind(b);
    }
    for r in q.fetch_all(&mut *conn).await? {
        controls
            .entry((r.try_get(0)?, r.try_get(1)?))
            .or_default()
            .push(r.try_get(2)?);
    }
    for (id, rev) in revs.iter_mut() {
        let key = (id.clone(), rev.revision);
        rev.files = files.remove(&key).unwrap_or_default();
        rev.controls = controls.remove(&key).unwrap_or_default();
    }
    Ok(())
}

async fn load_history(
    conn: &mut sqlx::AnyConnection,
    id: &str,
) -> Result<Option<EvidenceHistory>, StoreError> {
    let Some(head) = sqlx::query(
        "SELECT id, created_by, created_at, purged_at, revision FROM evidence WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let current_no: i64 = head.try_get(4)?;
    let sql = format!(
        "SELECT {REVISION_COLUMNS} FROM evidence_revisions r WHERE r.evidence_id = $1 \
         ORDER BY r.revision"
    );
    let rows = sqlx::query(&sql).bind(id).fetch_all(&mut *conn).await?;
    let mut revs = rows
        .iter()
        .map(revision_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    attach(conn, "f.evidence_id = $1", &[id.to_string()], &mut revs).await?;
    let revisions: Vec<EvidenceRevision> = revs.into_iter().map(|(_, r)| r).collect();
    let current = revisions
        .iter()
        .find(|r| r.revision == current_no)
        .cloned()
        .ok_or_else(|| StoreError::Corrupt(format!("{id}: revision {current_no} is missing")))?;
    Ok(Some(EvidenceHistory {
        evidence: Evidence {
            id: head.try_get(0)?,
            created_by: head.try_get(1)?,
            created_at: head.try_get(2)?,
            purged_at: head.try_get(3)?,
            current,
        },
        revisions,
    }))
}

impl Store {
    /// Evidence with its current revision, newest first.
    pub async fn list_evidence(&self, f: &EvidenceFilter) -> Result<Vec<Evidence>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut clauses = vec!["1 = 1".to_string()];
        let mut binds: Vec<String> = vec![];
        if let Some(c) = &f.control {
            binds.push(c.clone());
            clauses.push(format!(
                "EXISTS (SELECT 1 FROM evidence_controls ec WHERE ec.evidence_id = e.id \
                 AND ec.revision = e.revision AND ec.control_id = ${})",
                binds.len()
            ));
        }
        if let Some(u) = &f.created_by {
            binds.push(u.clone());
            clauses.push(format!("e.created_by = ${}", binds.len()));
        }
        if !f.include_purged {
            clauses.push("e.purged_at IS NULL".into());
        }
        let limit = f
            .limit
            .map(|l| format!(" LIMIT {}", l.max(0)))
            .unwrap_or_default();
        let sql = format!(
            "SELECT {REVISION_COLUMNS}, e.created_by, e.created_at, e.purged_at, e.seq \
             FROM evidence e JOIN evidence_revisions r \
             ON r.evidence_id = e.id AND r.revision = e.revision \
             WHERE {} ORDER BY e.seq DESC{limit}",
            clauses.join(" AND ")
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(&mut *conn).await?;
        let mut revs = Vec::with_capacity(rows.len());
        let mut heads = Vec::with_capacity(rows.len());
        let mut lowest_seq = i64::MAX;
        for r in &rows {
            revs.push(revision_from_row(r)?);
            heads.push((
                r.try_get::<Option<String>, _>(13)?,
                r.try_get::<String, _>(14)?,
                r.try_get::<Option<String>, _>(15)?,
            ));
            lowest_seq = lowest_seq.min(r.try_get::<i64, _>(16)?);
        }
        if revs.is_empty() {
            return Ok(vec![]);
        }
        // Files and links of the listed current revisions only: the same filter, and no
        // further back than the oldest record listed.
        clauses.push(format!("f.revision = e.revision AND e.seq >= {lowest_seq}"));
        attach(&mut conn, &clauses.join(" AND "), &binds, &mut revs).await?;
        Ok(revs
            .into_iter()
            .zip(heads)
            .map(
                |((id, current), (created_by, created_at, purged_at))| Evidence {
                    id,
                    created_by,
                    created_at,
                    purged_at,
                    current,
                },
            )
            .collect())
    }

    /// One record with all its revisions.
    pub async fn evidence(&self, id: &str) -> Result<Option<EvidenceHistory>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        load_history(&mut conn, id).await
    }

    /// For each control, the effective periods of the current revisions that support it
    /// (purged records still count: the evidence existed and the audit log says so).
    pub async fn evidence_periods(
        &self,
    ) -> Result<BTreeMap<String, Vec<(Date, Date)>>, StoreError> {
        let rows = sqlx::query(
            "SELECT ec.control_id, r.period_start, r.period_end FROM evidence e \
             JOIN evidence_revisions r ON r.evidence_id = e.id AND r.revision = e.revision \
             JOIN evidence_controls ec ON ec.evidence_id = e.id AND ec.revision = e.revision \
             ORDER BY ec.control_id, r.period_start",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: BTreeMap<String, Vec<(Date, Date)>> = BTreeMap::new();
        for r in rows {
            let control: String = r.try_get(0)?;
            let s = parse_day(&r.try_get::<String, _>(1)?, &control)?;
            let e = parse_day(&r.try_get::<String, _>(2)?, &control)?;
            out.entry(control).or_default().push((s, e));
        }
        Ok(out)
    }

    /// Every blob the vault must hold, by hash.
    pub async fn blob_index(&self) -> Result<Vec<IndexedBlob>, StoreError> {
        let rows = sqlx::query("SELECT sha256, size, created_at FROM blobs ORDER BY sha256")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(IndexedBlob {
                    sha256: r.try_get(0)?,
                    size: r.try_get::<i64, _>(1)? as u64,
                    created_at: r.try_get(2)?,
                })
            })
            .collect()
    }

    /// Files of records that are not purged but whose blob is not indexed: the index lost a
    /// row, which `vouch verify` reports as missing.
    pub async fn unindexed_evidence_files(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT f.evidence_id, f.sha256 FROM evidence_files f \
             JOIN evidence e ON e.id = f.evidence_id \
             WHERE e.purged_at IS NULL AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = f.sha256) \
             ORDER BY f.evidence_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Records not yet purged, with their current period, for the retention sweep.
    pub async fn purge_candidates(&self) -> Result<Vec<PurgeCandidate>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.id, e.created_at, r.period_start, r.period_end FROM evidence e \
             JOIN evidence_revisions r ON r.evidence_id = e.id AND r.revision = e.revision \
             WHERE e.purged_at IS NULL ORDER BY e.seq",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get(0)?;
                Ok(PurgeCandidate {
                    created_at: r.try_get(1)?,
                    period_start: parse_day(&r.try_get::<String, _>(2)?, &id)?,
                    period_end: parse_day(&r.try_get::<String, _>(3)?, &id)?,
                    id,
                })
            })
            .collect()
    }
}

impl WriteTx {
    /// The next evidence number. Writers are serialised by the audit head lock, so reading the
    /// maximum here cannot race another writer.
    pub async fn next_evidence_seq(&mut self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) + 1 FROM evidence")
            .fetch_one(self.conn())
            .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn evidence(&mut self, id: &str) -> Result<Option<EvidenceHistory>, StoreError> {
        load_history(self.conn(), id).await
    }

    pub async fn insert_evidence(
        &mut self,
        id: &str,
        seq: i64,
        created_by: Option<&str>,
        at: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO evidence (id, seq, created_by, created_at, revision, purged_at) \
             VALUES ($1, $2, $3, $4, 0, NULL)",
        )
        .bind(id)
        .bind(seq)
        .bind(created_by)
        .bind(at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Writes a revision with its files and control links and makes it the current one.
    pub async fn insert_evidence_revision(
        &mut self,
        id: &str,
        rev: &EvidenceRevision,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO evidence_revisions (evidence_id, revision, title, description, link, \
             period_start, period_end, source, source_detail, note, created_by, created_by_label, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(id)
        .bind(rev.revision)
        .bind(&rev.title)
        .bind(&rev.description)
        .bind(&rev.link)
        .bind(day_text(rev.period_start))
        .bind(day_text(rev.period_end))
        .bind(rev.source.as_str())
        .bind(&rev.source_detail)
        .bind(&rev.note)
        .bind(&rev.created_by)
        .bind(&rev.created_by_label)
        .bind(&rev.created_at)
        .execute(self.conn())
        .await?;
        for f in &rev.files {
            sqlx::query(
                "INSERT INTO evidence_files (evidence_id, revision, position, name, sha256, size, \
                 media_type) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(rev.revision)
            .bind(f.position)
            .bind(&f.name)
            .bind(&f.sha256)
            .bind(f.size as i64)
            .bind(&f.media_type)
            .execute(self.conn())
            .await?;
        }
        for c in &rev.controls {
            sqlx::query(
                "INSERT INTO evidence_controls (evidence_id, revision, control_id) \
                 VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(rev.revision)
            .bind(c)
            .execute(self.conn())
            .await?;
        }
        sqlx::query("UPDATE evidence SET revision = $1 WHERE id = $2")
            .bind(rev.revision)
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Indexes a blob the vault now holds (a hash already indexed is left as it is).
    pub async fn index_blob(
        &mut self,
        sha256: &str,
        size: u64,
        at: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO blobs (sha256, size, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(sha256)
        .bind(size as i64)
        .bind(at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn mark_evidence_purged(&mut self, id: &str, at: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE evidence SET purged_at = $1 WHERE id = $2 AND purged_at IS NULL")
            .bind(at)
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Hashes of `id`'s files (any revision) that no other unpurged record uses: what purging
    /// `id` may remove from the vault.
    pub async fn blobs_only_used_by(&mut self, id: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT f.sha256 FROM evidence_files f WHERE f.evidence_id = $1 \
             AND NOT EXISTS (SELECT 1 FROM evidence_files o JOIN evidence e ON e.id = o.evidence_id \
             WHERE o.sha256 = f.sha256 AND o.evidence_id <> $1 AND e.purged_at IS NULL) \
             ORDER BY f.sha256",
        )
        .bind(id)
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    pub async fn blob_indexed(&mut self, sha256: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) FROM blobs WHERE sha256 = $1")
            .bind(sha256)
            .fetch_one(self.conn())
            .await?;
        Ok(row.try_get::<i64, _>(0)? > 0)
    }

    /// Removes a blob from the index (the purge then deletes it from the vault).
    pub async fn unindex_blob(&mut self, sha256: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM blobs WHERE sha256 = $1")
            .bind(sha256)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
