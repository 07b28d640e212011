//! Controls, their criteria and the scope document.
use crate::error::StoreError;
use crate::store::Store;
use crate::write::WriteTx;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;
use vouch_domain::control::Control;
use vouch_domain::controls::{Frequency, Nature};

const CONTROL_COLUMNS: &str = "id, name, description, domain, owner_role, owner_id, \
    backup_owner_id, frequencies, nature, evidence, applicable, na_justification, source, \
    created_at, updated_at";

fn control_from_row(r: &AnyRow) -> Result<Control, StoreError> {
    let freqs: String = r.try_get(7)?;
    let nature: String = r.try_get(8)?;
    let evidence: String = r.try_get(9)?;
    let applicable: i64 = r.try_get(10)?;
    let id: String = r.try_get(0)?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("control {id}: {what}"));
    Ok(Control {
        name: r.try_get(1)?,
        description: r.try_get(2)?,
        domain: r.try_get(3)?,
        owner_role: r.try_get(4)?,
        owner_id: r.try_get(5)?,
        backup_owner_id: r.try_get(6)?,
        frequencies: freqs
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| Frequency::parse(s).ok_or_else(|| corrupt(&format!("frequency '{s}'"))))
            .collect::<Result<_, _>>()?,
        nature: Nature::parse(&nature).ok_or_else(|| corrupt(&format!("nature '{nature}'")))?,
        evidence: serde_json::from_str(&evidence)
            .map_err(|e| corrupt(&format!("evidence: {e}")))?,
        criteria: vec![],
        applicable: applicable != 0,
        na_justification: r.try_get(11)?,
        source: r.try_get(12)?,
        created_at: r.try_get(13)?,
        updated_at: r.try_get(14)?,
        id,
    })
}

fn frequencies_text(c: &Control) -> String {
    c.frequencies
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    /// Every control with its criteria, ordered by id.
    pub async fn list_controls(&self) -> Result<Vec<Control>, StoreError> {
        let sql = format!("SELECT {CONTROL_COLUMNS} FROM controls ORDER BY id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        let mut controls: Vec<Control> = rows
            .iter()
            .map(control_from_row)
            .collect::<Result<_, _>>()?;
        let links = sqlx::query(
            "SELECT control_id, criterion_id FROM control_criteria ORDER BY control_id, criterion_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut by_control: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for l in &links {
            by_control
                .entry(l.try_get(0)?)
                .or_default()
                .push(l.try_get(1)?);
        }
        for c in &mut controls {
            c.criteria = by_control.remove(&c.id).unwrap_or_default();
        }
        Ok(controls)
    }

    pub async fn control(&self, id: &str) -> Result<Option<Control>, StoreError> {
        let sql = format!("SELECT {CONTROL_COLUMNS} FROM controls WHERE id = $1");
        let Some(row) = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let mut c = control_from_row(&row)?;
        let links = sqlx::query(
            "SELECT criterion_id FROM control_criteria WHERE control_id = $1 ORDER BY criterion_id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        c.criteria = links
            .iter()
            .map(|l| l.try_get(0))
            .collect::<Result<_, _>>()?;
        Ok(Some(c))
    }

    /// The scope document (JSON), if one was saved.
    pub async fn scope_doc(&self) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT doc FROM scope WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }
}

impl WriteTx {
    pub async fn control(&mut self, id: &str) -> Result<Option<Control>, StoreError> {
        let sql = format!("SELECT {CONTROL_COLUMNS} FROM controls WHERE id = $1");
        let Some(row) = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?
        else {
            return Ok(None);
        };
        let mut c = control_from_row(&row)?;
        let links = sqlx::query(
            "SELECT criterion_id FROM control_criteria WHERE control_id = $1 ORDER BY criterion_id",
        )
        .bind(id)
        .fetch_all(self.conn())
        .await?;
        c.criteria = links
            .iter()
            .map(|l| l.try_get(0))
            .collect::<Result<_, _>>()?;
        Ok(Some(c))
    }

    /// Inserts a control and its criteria.
    pub async fn insert_control(&mut self, c: &Control) -> Result<(), StoreError> {
        let r = sqlx::query(
            "INSERT INTO controls (id, name, description, domain, owner_role, owner_id, \
             backup_owner_id, frequencies, nature, evidence, applicable, na_justification, source, \
             created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.description)
        .bind(&c.domain)
        .bind(&c.owner_role)
        .bind(&c.owner_id)
        .bind(&c.backup_owner_id)
        .bind(frequencies_text(c))
        .bind(c.nature.as_str())
        .bind(serde_json::to_string(&c.evidence).unwrap_or_else(|_| "[]".into()))
        .bind(i64::from(c.applicable))
        .bind(&c.na_justification)
        .bind(&c.source)
        .bind(&c.created_at)
        .bind(&c.updated_at)
        .execute(self.conn())
        .await;
        if let Err(e) = r {
            return Err(match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict(format!("control {}", c.id)),
                other => other,
            });
        }
        self.set_control_criteria(&c.id, &c.criteria).await
    }

    /// Writes every field of a control and replaces its criteria.
    pub async fn update_control(&mut self, c: &Control) -> Result<(), StoreError> {
        let r = sqlx::query(
            "UPDATE controls SET name = $1, description = $2, domain = $3, owner_role = $4, \
             owner_id = $5, backup_owner_id = $6, frequencies = $7, nature = $8, evidence = $9, \
             applicable = $10, na_justification = $11, updated_at = $12 WHERE id = $13",
        )
        .bind(&c.name)
        .bind(&c.description)
        .bind(&c.domain)
        .bind(&c.owner_role)
        .bind(&c.owner_id)
        .bind(&c.backup_owner_id)
        .bind(frequencies_text(c))
        .bind(c.nature.as_str())
        .bind(serde_json::to_string(&c.evidence).unwrap_or_else(|_| "[]".into()))
        .bind(i64::from(c.applicable))
        .bind(&c.na_justification)
        .bind(&c.updated_at)
        .bind(&c.id)
        .execute(self.conn())
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("control {}", c.id)));
        }
        self.set_control_criteria(&c.id, &c.criteria).await
    }

    async fn set_control_criteria(
        &mut self,
        id: &str,
        criteria: &[String],
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM control_criteria WHERE control_id = $1")
            .bind(id)
            .execute(self.conn())
            .await?;
        for cr in criteria {
            sqlx::query("INSERT INTO control_criteria (control_id, criterion_id) VALUES ($1, $2)")
                .bind(id)
                .bind(cr)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    pub async fn put_scope(&mut self, doc: &str, now: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO scope (id, doc, updated_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
        )
        .bind(doc)
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn scope_doc(&mut self) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT doc FROM scope WHERE id = 1")
            .fetch_optional(self.conn())
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }
}
