//! Evidence: adding records with their files, correcting them by new revisions, reading and
//! downloading them (every download is recorded), judging each control's freshness, verifying
//! the vault against the index, and the retention purge.
//!
//! Order of writes, so that a crash can never leave the index trusting a blob that is not
//! there: every file is staged (hashed, measured) first, then the whole record is validated,
//! then the blobs are committed to the vault, and only then is the database written. A crash
//! between the last two leaves an orphan blob: `verify` reports it, it harms nothing, and the
//! same file uploaded again reuses it.
use crate::{Action, Actor, App, AppError};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, Duration};
use vouch_domain::evidence::{
    Evidence, EvidenceFile, EvidenceHistory, EvidenceInput, EvidenceRevision, EvidenceSource,
    ValidEvidence, safe_file_name,
};
use vouch_domain::freshness::{self, Freshness};
use vouch_domain::scope::{ReportType, Scope};
use vouch_domain::validate::FieldError;
use vouch_evidence::{BlobCheck, BlobReader, StageError, Staged, VaultError};
use vouch_store::{EvidenceFilter, WriteTx};

/// A file that has been streamed into staging, with the name it came with.
pub struct NewFile {
    pub name: String,
    pub media_type: String,
    pub staged: Staged,
}

/// Where a new revision's files come from.
pub enum RevisionFiles {
    /// The previous revision's files, unchanged (a correction of the period or the controls).
    Keep,
    /// These files instead.
    Replace(Vec<NewFile>),
}

/// The proof facts the readiness judgement needs, loaded once per request.
pub(crate) struct ProofContext {
    periods: BTreeMap<String, Vec<(Date, Date)>>,
    window: Option<(Date, Date)>,
    today: Date,
}

impl ProofContext {
    pub(crate) fn freshness(&self, c: &vouch_domain::control::Control) -> Freshness {
        let none = vec![];
        let periods = self.periods.get(&c.id).unwrap_or(&none);
        freshness::assess(&c.frequencies, self.window, periods, self.today)
    }

    pub(crate) fn evidence_count(&self, control: &str) -> usize {
        self.periods.get(control).map_or(0, Vec::len)
    }
}

/// The Type II period freshness is judged over, if the scope has one.
fn audit_window(scope: &Scope) -> Option<(Date, Date)> {
    match (
        scope.report_type.clone(),
        scope.period_start,
        scope.period_end,
    ) {
        (ReportType::Type2, Some(s), Some(e)) => Some((s, e)),
        _ => None,
    }
}

/// Outcome of `vouch verify` over the vault.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct VaultReport {
    /// Where the blobs are (`local:/…`, `s3://…`).
    pub vault: String,
    /// Blobs the index lists and that were re-hashed.
    pub checked: usize,
    pub intact: usize,
    /// Indexed (or referenced by a record) but not in the vault.
    pub missing: Vec<String>,
    /// In the vault, but the bytes no longer hash to the name.
    pub altered: Vec<AlteredBlob>,
    /// In the vault but not indexed: left by an upload that did not finish, or foreign.
    pub orphaned: Vec<String>,
    /// Files in the blob area that are not blobs at all.
    pub stray: Vec<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AlteredBlob {
    pub sha256: String,
    pub actual_sha256: String,
}

impl VaultReport {
    pub fn ok(&self) -> bool {
        self.missing.is_empty()
            && self.altered.is_empty()
            && self.orphaned.is_empty()
            && self.stray.is_empty()
    }
}

/// What a retention purge did (or, in a dry run, would do).
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct PurgeReport {
    pub dry_run: bool,
    /// The retention in days, if one is configured.
    pub retention_days: Option<u32>,
    /// Records whose period ended before this day are past retention.
    pub cutoff: Option<Date>,
    /// Records purged (or to purge).
    pub purged: Vec<String>,
    /// Records past retention but kept because the open audit's period needs them.
    pub held: Vec<String>,
    /// Blobs deleted from the vault (or to delete).
    pub blobs_deleted: Vec<String>,
}

/// Evidence of one control and how fresh it is.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ControlEvidence {
    pub control: String,
    pub freshness: Freshness,
    pub evidence: Vec<Evidence>,
}

fn stage_error(e: StageError) -> AppError {
    match e {
        StageError::TooLarge { limit } => AppError::TooLarge { limit },
        StageError::Body { source } => {
            AppError::field("files", format!("the upload broke off: {source}"))
        }
        StageError::Io { .. } => AppError::Vault(e.to_string()),
    }
}

pub(crate) fn vault_error(e: VaultError) -> AppError {
    match e {
        VaultError::NotFound { sha256, .. } => AppError::Conflict(format!(
            "the file {sha256} is missing from the vault; run `vouch verify`"
        )),
        other => AppError::Vault(other.to_string()),
    }
}

fn media_type(name: &str, given: &str) -> String {
    let given = given.trim();
    if !given.is_empty()
        && given.len() <= 200
        && given.contains('/')
        && !given.contains(char::is_control)
    {
        return given.to_ascii_lowercase();
    }
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("pdf") => "application/pdf",
        Some("csv") => "text/csv",
        Some("txt" | "log") => "text/plain",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
    .to_string()
}

impl App {
    /// The largest file accepted, in bytes.
    pub fn evidence_max_bytes(&self) -> u64 {
        self.config.evidence_max_bytes
    }

    pub fn vault(&self) -> &vouch_evidence::Vault {
        &self.vault
    }

    /// Streams one uploaded file into staging, refusing it past the size limit. The caller
    /// must be allowed to add evidence: nothing reaches the disk for someone who is not.
    pub async fn stage_file<S, E>(
        &self,
        actor: &Actor,
        name: &str,
        media_type_given: &str,
        body: S,
    ) -> Result<NewFile, AppError>
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.authorize(actor, Action::AddEvidence)?;
        let staged = self
            .vault
            .stage(body, self.config.evidence_max_bytes)
            .await
            .map_err(stage_error)?;
        let name = safe_file_name(name);
        Ok(NewFile {
            media_type: media_type(&name, media_type_given),
            name,
            staged,
        })
    }

    /// Stages a local file (the CLI's `evidence add`).
    pub async fn stage_path(
        &self,
        actor: &Actor,
        path: &std::path::Path,
    ) -> Result<NewFile, AppError> {
        self.authorize(actor, Action::AddEvidence)?;
        let file = tokio::fs::File::open(path).await.map_err(|e| {
            AppError::field("files", format!("cannot read {}: {e}", path.display()))
        })?;
        let staged = self
            .vault
            .stage_reader(file, self.config.evidence_max_bytes)
            .await
            .map_err(|e| match e {
                StageError::TooLarge { limit } => AppError::field(
                    "files",
                    format!(
                        "{} is larger than the limit of {limit} bytes",
                        path.display()
                    ),
                ),
                other => stage_error(other),
            })?;
        let name = safe_file_name(
            &path
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
        );
        Ok(NewFile {
            media_type: media_type(&name, ""),
            name,
            staged,
        })
    }

    /// The controls evidence can be linked to (id and name), for the upload form: anyone who
    /// may add evidence needs them, even without access to the control matrix itself.
    pub async fn evidence_control_choices(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(String, String)>, AppError> {
        self.authorize(actor, Action::AddEvidence)?;
        Ok(self
            .store
            .list_controls()
            .await?
            .into_iter()
            .filter(|c| c.applicable)
            .map(|c| (c.id, c.name))
            .collect())
    }

    /// Checks a new revision (its fields, that its controls exist, that no file is empty),
    /// before anything reaches the vault.
    async fn check_revision(
        &self,
        input: EvidenceInput,
        files: usize,
        new_files: &[NewFile],
    ) -> Result<ValidEvidence, AppError> {
        let mut errors = Vec::new();
        let known: BTreeSet<String> = self
            .store
            .list_controls()
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        // Unknown controls are reported together with every other problem.
        for raw in &input.controls {
            if let Ok(id) = vouch_domain::control::normalize_id(raw)
                && !known.contains(&id)
            {
                errors.push(FieldError::new(
                    "controls",
                    format!("'{id}' is not a control in the matrix"),
                ));
            }
        }
        for f in new_files {
            if f.staged.size == 0 {
                errors.push(FieldError::new("files", format!("'{}' is empty", f.name)));
            }
        }
        match input.validate(files) {
            Ok(v) if errors.is_empty() => Ok(v),
            Ok(_) => Err(AppError::Validation(errors)),
            Err(mut e) => {
                e.extend(errors);
                Err(AppError::Validation(e))
            }
        }
    }

    /// Inside the write lock: every file of the revision is still in the vault. A retention
    /// purge deletes blobs only under the same lock, so once this holds, the index written in
    /// this transaction never points at a missing blob.
    pub(crate) async fn still_stored(&self, files: &[EvidenceFile]) -> Result<(), AppError> {
        for f in files {
            if !self.vault.exists(&f.sha256).await.map_err(vault_error)? {
                return Err(AppError::Conflict(format!(
                    "'{}' was removed by a retention purge while it was being stored; upload it again",
                    f.name
                )));
            }
        }
        Ok(())
    }

    /// Commits staged files to the vault, in order, and describes them.
    pub(crate) async fn commit_files(
        &self,
        files: Vec<NewFile>,
    ) -> Result<Vec<EvidenceFile>, AppError> {
        let mut out = Vec::with_capacity(files.len());
        for (i, f) in files.into_iter().enumerate() {
            let stored = self.vault.commit(f.staged).await.map_err(vault_error)?;
            out.push(EvidenceFile {
                position: i as i64 + 1,
                name: f.name,
                sha256: stored.sha256,
                size: stored.size,
                media_type: f.media_type,
            });
        }
        Ok(out)
    }

    fn revision(
        actor: &Actor,
        number: i64,
        v: ValidEvidence,
        (source, source_detail, note): (EvidenceSource, Option<String>, String),
        files: Vec<EvidenceFile>,
        now: &str,
    ) -> EvidenceRevision {
        EvidenceRevision {
            revision: number,
            title: v.title,
            description: v.description,
            link: v.link,
            period_start: v.period_start,
            period_end: v.period_end,
            source,
            source_detail,
            note,
            created_by: actor.user_id.clone(),
            created_by_label: actor.label.clone(),
            created_at: now.to_string(),
            controls: v.controls,
            files,
        }
    }

    /// Adds an evidence record with its files (already staged) and returns it.
    pub async fn add_evidence(
        &self,
        actor: &Actor,
        input: EvidenceInput,
        source: EvidenceSource,
        source_detail: Option<String>,
        files: Vec<NewFile>,
    ) -> Result<EvidenceHistory, AppError> {
        self.authorize(actor, Action::AddEvidence)?;
        if source != EvidenceSource::Upload && actor.kind == crate::ActorKind::User {
            return Err(AppError::field(
                "source",
                "a person's upload is recorded as uploaded",
            ));
        }
        let valid = self.check_revision(input, files.len(), &files).await?;
        let stored = self.commit_files(files).await?;
        let (mut tx, now) = self.write().await?;
        self.still_stored(&stored).await?;
        let id = self
            .insert_evidence_in(&mut tx, actor, valid, (source, source_detail), stored, &now)
            .await?;
        let history = tx
            .evidence(&id)
            .await?
            .ok_or_else(|| AppError::NotFound(id.clone()))?;
        tx.commit().await?;
        Ok(history)
    }

    /// Writes a new record (files already committed to the vault) and its audit event inside
    /// the caller's transaction; returns its id. A collection run uses it to keep the raw files
    /// it read in the same transaction as the resources they produced.
    pub(crate) async fn insert_evidence_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        valid: ValidEvidence,
        (source, source_detail): (EvidenceSource, Option<String>),
        stored: Vec<EvidenceFile>,
        now: &str,
    ) -> Result<String, AppError> {
        let seq = tx.next_evidence_seq().await?;
        let id = format!("EV-{seq}");
        tx.insert_evidence(&id, seq, actor.user_id.as_deref(), now)
            .await?;
        let rev = Self::revision(
            actor,
            1,
            valid,
            (source, source_detail, String::new()),
            stored,
            now,
        );
        for f in &rev.files {
            tx.index_blob(&f.sha256, f.size, now).await?;
        }
        tx.insert_evidence_revision(&id, &rev).await?;
        tx.append_event(
            Self::event(
                actor,
                "evidence.add",
                "evidence",
                &id,
                None,
                Some(serde_json::to_value(&rev).unwrap_or_default()),
            ),
            now,
        )
        .await?;
        Ok(id)
    }

    /// Corrects a record by adding a revision; the old revisions stay readable.
    pub async fn revise_evidence(
        &self,
        actor: &Actor,
        id: &str,
        input: EvidenceInput,
        note: &str,
        files: RevisionFiles,
    ) -> Result<EvidenceHistory, AppError> {
        self.authorize(actor, Action::AddEvidence)?;
        let id = id.trim().to_uppercase();
        let before = self.visible_evidence(actor, &id).await?;
        if before.evidence.purged_at.is_some() {
            return Err(AppError::Conflict(format!(
                "{id} was purged under the retention policy and cannot be revised"
            )));
        }
        let note = note.trim().to_string();
        if note.chars().count() < 5 {
            return Err(AppError::field(
                "note",
                "say what the correction changes (at least 5 characters)",
            ));
        }
        let (valid, stored) = match files {
            RevisionFiles::Keep => {
                let kept = before.evidence.current.files.clone();
                let v = self.check_revision(input, kept.len(), &[]).await?;
                (v, kept)
            }
            RevisionFiles::Replace(new) => {
                let v = self.check_revision(input, new.len(), &new).await?;
                (v, self.commit_files(new).await?)
            }
        };
        let (mut tx, now) = self.write().await?;
        let current = tx
            .evidence(&id)
            .await?
            .ok_or_else(|| AppError::NotFound(id.clone()))?;
        let number = current.evidence.current.revision + 1;
        let source = current.evidence.current.source;
        let detail = current.evidence.current.source_detail.clone();
        self.still_stored(&stored).await?;
        let rev = Self::revision(actor, number, valid, (source, detail, note), stored, &now);
        for f in &rev.files {
            tx.index_blob(&f.sha256, f.size, &now).await?;
        }
        tx.insert_evidence_revision(&id, &rev).await?;
        tx.append_event(
            Self::event(
                actor,
                "evidence.revise",
                "evidence",
                &id,
                Some(serde_json::to_value(&current.evidence.current).unwrap_or_default()),
                Some(serde_json::to_value(&rev).unwrap_or_default()),
            ),
            &now,
        )
        .await?;
        let history = tx
            .evidence(&id)
            .await?
            .ok_or_else(|| AppError::NotFound(id.clone()))?;
        tx.commit().await?;
        Ok(history)
    }

    /// Whether the actor sees all evidence, or only what they added themselves.
    fn evidence_scope(&self, actor: &Actor) -> Result<Option<String>, AppError> {
        if crate::authz::permits(actor.role, Action::ViewEvidence) {
            return Ok(None);
        }
        self.authorize(actor, Action::ViewOwnEvidence)?;
        // Someone without a user (there is none such below admin) sees nothing.
        Ok(Some(actor.user_id.clone().unwrap_or_default()))
    }

    /// Evidence the actor may see, newest first; optionally only a control's.
    pub async fn list_evidence(
        &self,
        actor: &Actor,
        control: Option<&str>,
    ) -> Result<Vec<Evidence>, AppError> {
        let created_by = self.evidence_scope(actor)?;
        Ok(self
            .store
            .list_evidence(&EvidenceFilter {
                control: control.map(|c| c.trim().to_uppercase()),
                created_by,
                include_purged: true,
                limit: None,
            })
            .await?)
    }

    async fn visible_evidence(&self, actor: &Actor, id: &str) -> Result<EvidenceHistory, AppError> {
        let only = self.evidence_scope(actor)?;
        let id = id.trim().to_uppercase();
        match self.store.evidence(&id).await? {
            // Someone who may not see a record is told it does not exist.
            Some(h) if only.is_none() || h.evidence.created_by == only => Ok(h),
            _ => Err(AppError::NotFound(format!("evidence {id}"))),
        }
    }

    /// One record with all its revisions.
    pub async fn evidence(&self, actor: &Actor, id: &str) -> Result<EvidenceHistory, AppError> {
        self.visible_evidence(actor, id).await
    }

    /// Opens a file of a record for download (the current revision unless one is named) and
    /// records the download in the audit log before a byte is sent.
    pub async fn download_evidence_file(
        &self,
        actor: &Actor,
        id: &str,
        revision: Option<i64>,
        position: i64,
    ) -> Result<(EvidenceFile, BlobReader), AppError> {
        let h = self.visible_evidence(actor, id).await?;
        let id = h.evidence.id.clone();
        if h.evidence.purged_at.is_some() {
            return Err(AppError::Gone(format!(
                "{id}'s files were purged under the retention policy"
            )));
        }
        let rev = match revision {
            None => &h.evidence.current,
            Some(n) => h
                .revisions
                .iter()
                .find(|r| r.revision == n)
                .ok_or_else(|| AppError::NotFound(format!("revision {n} of {id}")))?,
        };
        let file = rev
            .files
            .iter()
            .find(|f| f.position == position)
            .cloned()
            .ok_or_else(|| {
                AppError::NotFound(format!("file {position} of {id} revision {}", rev.revision))
            })?;
        let reader = self
            .vault
            .open_read(&file.sha256)
            .await
            .map_err(vault_error)?;
        let (mut tx, now) = self.write().await?;
        tx.append_event(
            Self::event(
                actor,
                "evidence.download",
                "evidence",
                &id,
                None,
                Some(serde_json::json!({
                    "revision": rev.revision,
                    "position": file.position,
                    "name": file.name,
                    "sha256": file.sha256,
                })),
            ),
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok((file, reader))
    }

    pub(crate) async fn proof_context(&self, scope: &Scope) -> Result<ProofContext, AppError> {
        Ok(ProofContext {
            periods: self.store.evidence_periods().await?,
            window: audit_window(scope),
            today: self.clock.now().date(),
        })
    }

    /// A control's evidence and freshness.
    pub async fn control_evidence(
        &self,
        actor: &Actor,
        control: &str,
    ) -> Result<ControlEvidence, AppError> {
        self.authorize(actor, Action::ViewControls)?;
        let id = control.trim().to_uppercase();
        let c = self
            .store
            .control(&id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("control {id}")))?;
        let scope = self.load_scope().await?;
        let ctx = self.proof_context(&scope).await?;
        Ok(ControlEvidence {
            freshness: ctx.freshness(&c),
            evidence: self.list_evidence(actor, Some(&id)).await?,
            control: id,
        })
    }

    /// Re-hashes every indexed blob and compares the vault with the index.
    pub async fn verify_vault(&self, actor: &Actor) -> Result<VaultReport, AppError> {
        self.authorize(actor, Action::VerifyEvidence)?;
        let mut report = VaultReport {
            vault: self.vault.describe(),
            ..VaultReport::default()
        };
        let index = self.store.blob_index().await?;
        let indexed: BTreeSet<&str> = index.iter().map(|b| b.sha256.as_str()).collect();
        for b in &index {
            report.checked += 1;
            match self.vault.check(&b.sha256).await.map_err(vault_error)? {
                BlobCheck::Intact => report.intact += 1,
                BlobCheck::Missing => report.missing.push(b.sha256.clone()),
                BlobCheck::Altered { actual_sha256 } => report.altered.push(AlteredBlob {
                    sha256: b.sha256.clone(),
                    actual_sha256,
                }),
            }
        }
        for (_, sha) in self.store.unindexed_evidence_files().await? {
            if !report.missing.contains(&sha) {
                report.missing.push(sha);
            }
        }
        let listing = self.vault.list().await.map_err(vault_error)?;
        report.orphaned = listing
            .blobs
            .into_iter()
            .filter(|b| !indexed.contains(b.sha256.as_str()))
            .map(|b| b.sha256)
            .collect();
        report.stray = listing.stray;
        Ok(report)
    }

    /// Applies the retention policy: records whose period ended more than the retention before
    /// today lose their files (the record stays as a tombstone, and the audit log says what
    /// went). Records the open audit's period relies on are held. Without a configured
    /// retention nothing is purged.
    pub async fn purge_evidence(
        &self,
        actor: &Actor,
        dry_run: bool,
    ) -> Result<PurgeReport, AppError> {
        self.authorize(actor, Action::PurgeEvidence)?;
        let mut report = PurgeReport {
            dry_run,
            retention_days: self.config.evidence_retention_days,
            ..PurgeReport::default()
        };
        let Some(days) = self.config.evidence_retention_days else {
            return Ok(report);
        };
        let today = self.clock.now().date();
        let cutoff = today - Duration::days(days as i64);
        report.cutoff = Some(cutoff);
        let hold = open_audit_hold(&self.load_scope().await?);
        // A dry run marks records purged in one transaction it then drops, so records later
        // in the run see the earlier ones as gone, exactly as the real run does.
        let mut dry = if dry_run {
            Some(self.write().await?)
        } else {
            None
        };
        for c in self.store.purge_candidates().await? {
            if c.period_end >= cutoff {
                continue;
            }
            if hold.is_some_and(|(s, e)| c.period_start <= e && c.period_end >= s) {
                report.held.push(c.id);
                continue;
            }
            if let Some((tx, now)) = dry.as_mut() {
                let blobs = tx.blobs_only_used_by(&c.id).await?;
                for b in &blobs {
                    tx.unindex_blob(b).await?;
                }
                tx.mark_evidence_purged(&c.id, now).await?;
                report.purged.push(c.id);
                report.blobs_deleted.extend(blobs);
                continue;
            }
            let (mut tx, now) = self.write().await?;
            let blobs = tx.blobs_only_used_by(&c.id).await?;
            for b in &blobs {
                tx.unindex_blob(b).await?;
            }
            tx.mark_evidence_purged(&c.id, &now).await?;
            tx.append_event(
                Self::event(
                    actor,
                    "evidence.purge",
                    "evidence",
                    &c.id,
                    None,
                    Some(serde_json::json!({
                        "retention_days": days,
                        "period_end": c.period_end.to_string(),
                        "blobs_deleted": blobs,
                    })),
                ),
                &now,
            )
            .await?;
            tx.commit().await?;
            // The index no longer lists the blobs. Each is deleted under the write lock, and
            // only if no upload has indexed it again meanwhile; a failure here leaves an
            // orphan, never an index entry without its blob.
            for b in &blobs {
                let (mut lock, _) = self.write().await?;
                if !lock.blob_indexed(b).await? {
                    self.vault.delete(b).await.map_err(vault_error)?;
                }
                drop(lock); // nothing written: rolled back
            }
            report.purged.push(c.id);
            report.blobs_deleted.extend(blobs);
        }
        drop(dry); // a dry run changes nothing
        Ok(report)
    }
}

/// The period an open audit relies on: the scope's Type II period, or the year before a
/// Type I date. (Audits as their own records come with the audit capability; until then the
/// scope is the audit being prepared.)
fn open_audit_hold(scope: &Scope) -> Option<(Date, Date)> {
    match scope.report_type {
        ReportType::Type2 => audit_window(scope),
        ReportType::Type1 => scope.as_of.map(|d| (d - Duration::days(365), d)),
    }
}
