//! Collection runs: files and API responses in, resources with history out.
//!
//! A run has one source (a file import or an integration) and one **scope**: the part of the
//! stored resources it is the full, current truth about. Applying a successful run compares
//! its resources with the stored ones of the same system: new ones are added, changed ones get
//! a new version, ones that were deleted and came back are restored, and resources of the
//! run's scope that it no longer contains are marked deleted. Everything — the raw files kept
//! as an evidence record, the resource changes, the run row and its audit event — is written
//! in one transaction.
//!
//! A run that fails (a file that cannot be read, a connector error) is recorded with its error
//! and, when there are any, its raw files; the resources are not touched, so the last good
//! state stays.
use crate::evidence::NewFile;
use crate::{Action, Actor, App, AppError};
use serde::Serialize;
use std::collections::HashMap;
use vouch_collect::{Collection, ImportError};
use vouch_domain::evidence::{EvidenceFile, EvidenceSource, ValidEvidence};
use vouch_domain::resource::ResourceKind;
use vouch_store::{NewResource, ResourceChange, SyncPlan, WriteTx};
// The records the front ends show, re-exported so they reach state only through the app.
pub use vouch_collect::ImportKind;
pub use vouch_store::{
    AccountLinkRecord, IntegrationRecord, ResourceFilter, ResourceRecord, ResourceVersion,
    RunRecord,
};

/// What to import.
pub struct ImportRequest {
    /// Staged files, imported together as one run: they must all be of one kind and system.
    pub files: Vec<NewFile>,
    /// The kind the caller says the files are; `None` recognises them by content.
    pub kind: Option<ImportKind>,
    /// The full-sync scope; `None` derives it from the kind and system (and, for scanner
    /// reports, the artifact scanned), so re-importing the same export replaces it.
    pub scope: Option<String>,
    /// Controls the raw files are evidence for.
    pub controls: Vec<String>,
}

impl ImportRequest {
    /// Files recognised by content, in their default scope, for no particular control.
    pub fn of(files: Vec<NewFile>) -> ImportRequest {
        ImportRequest {
            files,
            kind: None,
            scope: None,
            controls: vec![],
        }
    }
}

/// How a run changed the stored resources.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RunCounts {
    pub total: usize,
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub deleted: usize,
    pub restored: usize,
}

/// Where a run's resources came from.
pub(crate) struct RunSource {
    /// The integration's name, or `import`.
    pub source: String,
    pub kind: String,
    /// `schedule`, `manual` or `import`.
    pub trigger: &'static str,
    pub collector_version: String,
    pub controls: Vec<String>,
    /// The evidence record's title.
    pub title: String,
}

/// What a failed run says went wrong.
pub(crate) struct RunFailure {
    pub message: String,
    pub system: Option<String>,
    pub scope: String,
}

/// The version recorded on file imports.
pub const IMPORTER_VERSION: &str = concat!("vouch-collect ", env!("CARGO_PKG_VERSION"));

/// The default scope of an import: `import:<kind>:<system>`, plus the artifact when every
/// resource names the same one (a Trivy report of one image replaces that image's findings,
/// not every image's).
fn import_scope(c: &Collection) -> String {
    let mut scope = format!("import:{}:{}", c.kind.as_str(), c.system);
    let artifact = |r: &vouch_domain::resource::Resource| {
        r.attrs
            .get("artifact")
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    if let Some(first) = c.resources.first().and_then(artifact)
        && c.resources
            .iter()
            .all(|r| artifact(r).as_deref() == Some(&first))
    {
        scope.push(':');
        scope.push_str(&first);
    }
    scope
}

impl App {
    /// Imports files a person already has (an HR roster, a scanner report, a saved API
    /// response). Returns the run, which says whether it succeeded; a failed run is recorded
    /// too, and changes no resource.
    pub async fn import_files(
        &self,
        actor: &Actor,
        req: ImportRequest,
    ) -> Result<RunRecord, AppError> {
        self.authorize(actor, Action::CollectResources)?;
        if req.files.is_empty() {
            return Err(AppError::field(
                "files",
                "choose at least one file to import",
            ));
        }
        self.check_controls(&req.controls).await?;
        let limit = self.config.import_max_bytes;
        if let Some(big) = req.files.iter().find(|f| f.staged.size > limit) {
            // Not read and not kept: a file this size is almost always the wrong file, and
            // the importer reads a file whole.
            let message = format!(
                "{}: the file is {} bytes; Vouch imports files up to {limit} bytes (collect.import_max_bytes): split the export or raise the limit",
                big.name, big.staged.size
            );
            let source = RunSource {
                source: "import".into(),
                kind: req.kind.map_or("unknown", ImportKind::as_str).to_string(),
                trigger: "import",
                collector_version: IMPORTER_VERSION.into(),
                controls: req.controls,
                title: String::new(),
            };
            let failure = RunFailure {
                message,
                system: None,
                scope: req.scope.unwrap_or_else(|| "import".into()),
            };
            return self.record_failure(actor, source, vec![], failure).await;
        }
        let names: Vec<String> = req.files.iter().map(|f| f.name.clone()).collect();
        let paths: Vec<std::path::PathBuf> = req
            .files
            .iter()
            .map(|f| f.staged.path().to_path_buf())
            .collect();
        let forced = req.kind;
        // Parsing is CPU work on possibly large files: off the async threads.
        let parsed = tokio::task::spawn_blocking(move || parse_files(&names, &paths, forced))
            .await
            .map_err(|e| AppError::Vault(format!("the importer stopped: {e}")))?;
        let kind_label = match &parsed {
            Ok(c) => c.kind.as_str().to_string(),
            Err((Some(k), _)) => k.as_str().to_string(),
            Err((None, _)) => "unknown".to_string(),
        };
        let source = RunSource {
            source: "import".into(),
            kind: kind_label.clone(),
            trigger: "import",
            collector_version: IMPORTER_VERSION.into(),
            controls: req.controls,
            title: format!(
                "Import of {}",
                req.files
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        match parsed {
            Ok(collection) => {
                let scope = req.scope.unwrap_or_else(|| import_scope(&collection));
                self.record_success(actor, source, req.files, collection, scope)
                    .await
            }
            Err((_, message)) => {
                let failure = RunFailure {
                    message,
                    system: None,
                    scope: req.scope.unwrap_or_else(|| format!("import:{kind_label}")),
                };
                self.record_failure(actor, source, req.files, failure).await
            }
        }
    }

    pub(crate) async fn check_controls(&self, controls: &[String]) -> Result<(), AppError> {
        if controls.is_empty() {
            return Ok(());
        }
        let known: std::collections::BTreeSet<String> = self
            .store
            .list_controls()
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let unknown: Vec<&str> = controls
            .iter()
            .filter(|c| !known.contains(*c))
            .map(String::as_str)
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(AppError::field(
                "controls",
                format!("no such control: {}", unknown.join(", ")),
            ))
        }
    }

    /// Keeps the raw files and applies a successful run's resources, in one transaction.
    pub(crate) async fn record_success(
        &self,
        actor: &Actor,
        source: RunSource,
        files: Vec<NewFile>,
        collection: Collection,
        scope: String,
    ) -> Result<RunRecord, AppError> {
        let started_at = self.now_str();
        let (mut tx, now, seq, run_id, evidence_id) = self.begin_run(actor, &source, files).await?;
        let (plan, seen, counts) = plan_sync(&mut tx, &collection, &scope).await?;
        tx.apply_sync(&plan, &run_id, &now, &seen).await?;
        let run = RunRecord {
            id: run_id.clone(),
            seq,
            source: source.source,
            kind: source.kind,
            system: Some(collection.system.clone()),
            scope,
            trigger: source.trigger.into(),
            started_by: actor.user_id.clone(),
            started_by_label: actor.label.clone(),
            started_at,
            finished_at: now.clone(),
            status: "succeeded".into(),
            error: None,
            warnings: collection.warnings,
            counts: serde_json::to_value(&counts).unwrap_or_default(),
            collector_version: source.collector_version,
            evidence_id,
        };
        tx.insert_run(&run).await?;
        self.run_event(&mut tx, actor, &run, &now).await?;
        tx.commit().await?;
        tracing::info!(run = %run.id, source = %run.source, system = ?run.system, ?counts, "collection run applied");
        Ok(run)
    }

    /// Records a failed run: its error and raw files, and nothing else.
    pub(crate) async fn record_failure(
        &self,
        actor: &Actor,
        source: RunSource,
        files: Vec<NewFile>,
        failure: RunFailure,
    ) -> Result<RunRecord, AppError> {
        let started_at = self.now_str();
        let (mut tx, now, seq, run_id, evidence_id) = self.begin_run(actor, &source, files).await?;
        let run = RunRecord {
            id: run_id,
            seq,
            source: source.source,
            kind: source.kind,
            system: failure.system,
            scope: failure.scope,
            trigger: source.trigger.into(),
            started_by: actor.user_id.clone(),
            started_by_label: actor.label.clone(),
            started_at,
            finished_at: now.clone(),
            status: "failed".into(),
            error: Some(failure.message),
            warnings: vec![],
            counts: serde_json::to_value(RunCounts::default()).unwrap_or_default(),
            collector_version: source.collector_version,
            evidence_id,
        };
        tx.insert_run(&run).await?;
        self.run_event(&mut tx, actor, &run, &now).await?;
        tx.commit().await?;
        tracing::warn!(run = %run.id, source = %run.source, error = ?run.error, "collection run failed");
        Ok(run)
    }

    /// Commits the raw files to the vault, then opens the run's transaction: its number and
    /// id, and the evidence record holding the files (if any).
    async fn begin_run(
        &self,
        actor: &Actor,
        source: &RunSource,
        files: Vec<NewFile>,
    ) -> Result<(WriteTx, String, i64, String, Option<String>), AppError> {
        let stored = self.commit_files(files).await?;
        let (mut tx, now) = self.write().await?;
        self.still_stored(&stored).await?;
        let seq = tx.next_run_seq().await?;
        let run_id = format!("RUN-{seq}");
        let evidence_id = self
            .keep_raw_files(&mut tx, actor, source, &run_id, stored, &now)
            .await?;
        Ok((tx, now, seq, run_id, evidence_id))
    }

    /// The raw files as an evidence record (source `integration`, detail the run id); `None`
    /// when there are no files.
    async fn keep_raw_files(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        source: &RunSource,
        run_id: &str,
        stored: Vec<EvidenceFile>,
        now: &str,
    ) -> Result<Option<String>, AppError> {
        if stored.is_empty() {
            return Ok(None);
        }
        let today = self.now().date();
        let valid = ValidEvidence {
            title: source.title.clone(),
            description: if source.source == "import" {
                format!("The files imported in collection run {run_id}, kept unchanged.")
            } else {
                format!(
                    "What integration {} read in collection run {run_id}, kept unchanged.",
                    source.source
                )
            },
            link: None,
            controls: source.controls.clone(),
            period_start: today,
            period_end: today,
        };
        // Whoever started the run is recorded as having added it; the source says it came from
        // a collection.
        let id = self
            .insert_evidence_in(
                tx,
                actor,
                valid,
                (EvidenceSource::Integration, Some(run_id.to_string())),
                stored,
                now,
            )
            .await?;
        Ok(Some(id))
    }

    async fn run_event(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        run: &RunRecord,
        now: &str,
    ) -> Result<(), AppError> {
        let after = serde_json::json!({
            "source": run.source, "kind": run.kind, "system": run.system, "scope": run.scope,
            "status": run.status, "error": run.error, "counts": run.counts,
            "evidence_id": run.evidence_id, "collector_version": run.collector_version,
        });
        tx.append_event(
            Self::event(
                actor,
                "collection.run",
                "collection_run",
                &run.id,
                None,
                Some(after),
            ),
            now,
        )
        .await?;
        Ok(())
    }

    /// Collection runs, newest first.
    pub async fn list_runs(
        &self,
        actor: &Actor,
        source: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RunRecord>, AppError> {
        self.authorize(actor, Action::ViewResources)?;
        Ok(self.store.list_runs(source, limit).await?)
    }

    pub async fn run(&self, actor: &Actor, id: &str) -> Result<RunRecord, AppError> {
        self.authorize(actor, Action::ViewResources)?;
        let id = id.trim().to_uppercase();
        self.store
            .run(&id)
            .await?
            .ok_or(AppError::NotFound(format!("run {id}")))
    }

    /// Resources matching a filter, with the total before paging.
    pub async fn list_resources(
        &self,
        actor: &Actor,
        filter: &ResourceFilter,
    ) -> Result<(Vec<ResourceRecord>, i64), AppError> {
        self.authorize(actor, Action::ViewResources)?;
        if let Some(k) = &filter.kind
            && ResourceKind::parse(k).is_none()
        {
            return Err(AppError::field(
                "kind",
                format!(
                    "'{k}' is not a resource kind; use one of {}",
                    ResourceKind::list()
                ),
            ));
        }
        Ok(self.store.list_resources(filter).await?)
    }

    /// Current resource counts per (kind, system).
    pub async fn resource_counts(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(String, String, i64)>, AppError> {
        self.authorize(actor, Action::ViewResources)?;
        Ok(self.store.resource_counts().await?)
    }

    /// One resource with every state it has had.
    pub async fn resource(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<(ResourceRecord, Vec<ResourceVersion>), AppError> {
        self.authorize(actor, Action::ViewResources)?;
        let r = self
            .store
            .resource(id)
            .await?
            .ok_or(AppError::NotFound(format!("resource {id}")))?;
        let versions = self.store.resource_versions(id).await?;
        Ok((r, versions))
    }
}

/// Reads every file with the importer and merges them into one collection. The error text
/// names the file, then the place in it.
fn parse_files(
    names: &[String],
    paths: &[std::path::PathBuf],
    forced: Option<ImportKind>,
) -> Result<Collection, (Option<ImportKind>, String)> {
    let what = |e: String, bytes: Option<&[u8]>| {
        (forced.or_else(|| bytes.and_then(ImportKind::detect)), e)
    };
    let mut merged: Option<Collection> = None;
    let mut seen: HashMap<(ResourceKind, String), String> = HashMap::new();
    for (name, path) in names.iter().zip(paths) {
        let bytes =
            std::fs::read(path).map_err(|e| what(format!("{name}: cannot read it: {e}"), None))?;
        let c =
            vouch_collect::import(&bytes, forced).map_err(|ImportError { place, message }| {
                what(format!("{name}, {place}: {message}"), Some(&bytes))
            })?;
        drop(bytes);
        match &mut merged {
            None => {
                for r in &c.resources {
                    seen.insert((r.kind, r.key.clone()), name.clone());
                }
                merged = Some(c);
            }
            Some(m) => {
                if m.kind != c.kind || m.system != c.system {
                    return Err((
                        Some(m.kind),
                        format!(
                            "{name}: this is {} from '{}', but the first file is {} from '{}'; import files of different kinds separately",
                            c.kind.with_article(),
                            c.system,
                            m.kind.with_article(),
                            m.system
                        ),
                    ));
                }
                for r in c.resources {
                    if let Some(first) = seen.insert((r.kind, r.key.clone()), name.clone()) {
                        return Err((
                            Some(m.kind),
                            format!(
                                "{name}: {} '{}' is also in {first}; each resource must be in one file",
                                r.kind, r.key
                            ),
                        ));
                    }
                    m.resources.push(r);
                }
                m.warnings
                    .extend(c.warnings.into_iter().map(|w| format!("{name}: {w}")));
            }
        }
    }
    merged.ok_or_else(|| (forced, "no files".to_string()))
}

/// Compares a run's resources with the stored state of its system (read under the write
/// lock) and decides every change.
async fn plan_sync(
    tx: &mut WriteTx,
    c: &Collection,
    scope: &str,
) -> Result<(SyncPlan, Vec<i64>, RunCounts), AppError> {
    let stored = tx.sync_state(&c.system).await?;
    let mut next_id = tx.max_resource_id().await?;
    let mut index: HashMap<(&str, &str), usize> = HashMap::with_capacity(stored.len());
    for (i, s) in stored.iter().enumerate() {
        index.insert((s.kind.as_str(), s.key.as_str()), i);
    }
    let mut present = vec![false; stored.len()];
    let mut plan = SyncPlan {
        system: c.system.clone(),
        scope: scope.to_string(),
        ..SyncPlan::default()
    };
    let mut seen = Vec::with_capacity(c.resources.len());
    let mut counts = RunCounts {
        total: c.resources.len(),
        ..RunCounts::default()
    };
    for r in &c.resources {
        let attrs_json = serde_json::to_string(&r.attrs).unwrap_or_else(|_| "{}".into());
        match index.get(&(r.kind.as_str(), r.key.as_str())) {
            None => {
                next_id += 1;
                counts.added += 1;
                seen.push(next_id);
                plan.added.push(NewResource {
                    id: next_id,
                    kind: r.kind.as_str().to_string(),
                    system: r.system.clone(),
                    key: r.key.clone(),
                    attrs_json,
                });
            }
            Some(&i) => {
                let s = &stored[i];
                present[i] = true;
                seen.push(s.id);
                let change = if s.deleted {
                    counts.restored += 1;
                    Some("restored")
                } else if s.attrs_json != attrs_json {
                    counts.changed += 1;
                    Some("changed")
                } else {
                    counts.unchanged += 1;
                    None
                };
                match change {
                    Some(change) => plan.changed.push(ResourceChange {
                        id: s.id,
                        version: s.version + 1,
                        change,
                        attrs_json,
                    }),
                    None if s.scope != scope => plan.adopted.push(s.id),
                    None => {}
                }
            }
        }
    }
    for (i, s) in stored.iter().enumerate() {
        if !present[i] && !s.deleted && s.scope == scope {
            counts.deleted += 1;
            plan.changed.push(ResourceChange {
                id: s.id,
                version: s.version + 1,
                change: "deleted",
                attrs_json: s.attrs_json.clone(),
            });
        }
    }
    Ok((plan, seen, counts))
}

#[cfg(test)]
#[path = "collect_tests.rs"]
mod tests;
