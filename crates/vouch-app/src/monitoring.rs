//! Continuous monitoring: evaluating the control tests over the collected resources, keeping
//! each entity's result with its history, SLA deadline and exceptions, and rolling results up
//! into test statuses.
//!
//! A round: read every resource the tests read (deleted ones too) and who owns each account;
//! record that snapshot (resource ids and versions, the owners used); evaluate each test off
//! the async runtime; then, in one transaction with one audit event, write each test's run,
//! the entity rows that changed and their status changes. Entity rows are written only when
//! they change, so a daily round over a large company writes little.
use crate::accounts::{AccountFilter, Owner};
use crate::{Action, Actor, App, AppError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use vouch_domain::monitoring::{EntityFacts, EntityStatus, SlaPolicy, TestStatus, roll_up};
use vouch_domain::resource::ResourceKind;
use vouch_domain::time_fmt;
use vouch_policy::{CompiledTest, EntityResult, InputResource, Library, Limits, Snapshot};
use vouch_store::{
    EntityEventRecord, MonitoringTable, SnapshotRecord, TestEntityRecord, TestRunRecord,
};

pub use vouch_policy::fixtures::{TestCheck, check_test};
pub use vouch_policy::{LoadedTest, Manifest};
pub use vouch_store::TestRunRecord as TestRun;

/// How monitoring behaves, from the configuration.
#[derive(Clone, Debug)]
pub struct MonitoringConfig {
    pub sla: SlaPolicy,
    /// Wall time one test may take.
    pub time_limit: Duration,
    /// Parameter overrides per test id.
    pub params: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    /// Minutes between scheduled rounds.
    pub schedule_minutes: i64,
    /// The organisation's own tests: `(label, files)` as `Library::load` takes them.
    pub custom_tests: Option<(String, Vec<(String, String)>)>,
}

impl Default for MonitoringConfig {
    fn default() -> Self {
        MonitoringConfig {
            sla: SlaPolicy::default(),
            time_limit: Duration::from_secs(10),
            params: BTreeMap::new(),
            schedule_minutes: 60,
            custom_tests: None,
        }
    }
}

/// The tests this instance runs: the shipped library and the organisation's own.
pub struct TestCatalog {
    pub tests: Vec<LoadedTest>,
}

/// The control ids a test may name: the starter library's.
pub fn known_controls() -> BTreeSet<String> {
    vouch_domain::controls::soc2_starter()
        .controls
        .iter()
        .map(|c| c.id.clone())
        .collect()
}

impl TestCatalog {
    pub fn load(config: &MonitoringConfig) -> TestCatalog {
        let known = known_controls();
        let mut tests = Library::shipped(&known).tests;
        if let Some((label, files)) = &config.custom_tests {
            for mut t in Library::load(label, files, &[], &known).tests {
                if tests.iter().any(|s| s.id == t.id) {
                    t.test = Err(format!(
                        "{}: a shipped test already has the id '{}': give your test its own id",
                        t.dir, t.id
                    ));
                }
                tests.push(t);
            }
        }
        TestCatalog { tests }
    }

    pub fn get(&self, id: &str) -> Option<&LoadedTest> {
        self.tests.iter().find(|t| t.id == id)
    }
}

/// Why a round ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Collection,
    Schedule,
    Manual,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::Collection => "collection",
            Trigger::Schedule => "schedule",
            Trigger::Manual => "manual",
        }
    }
}

/// One test's outcome in a round.
#[derive(Clone, Debug, Serialize)]
pub struct TestOutcome {
    pub test_id: String,
    pub run_id: String,
    pub status: TestStatus,
    pub counts: serde_json::Value,
    pub error: Option<String>,
}

/// What a round did.
#[derive(Clone, Debug, Serialize)]
pub struct RoundSummary {
    pub snapshot_id: String,
    pub evaluated_at: String,
    pub resources: usize,
    pub tests: Vec<TestOutcome>,
}

/// A test as lists show it: what it is and how it stands.
#[derive(Clone, Debug, Serialize)]
pub struct TestView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub kind: Option<vouch_policy::TestKind>,
    pub controls: Vec<String>,
    pub criteria: Vec<String>,
    pub reads: Vec<String>,
    pub sla: Option<String>,
    pub version: Option<u32>,
    /// The test does not load (manifest or policy error).
    pub load_error: Option<String>,
    /// The latest run's status; `None` before the first round.
    pub status: Option<TestStatus>,
    pub last_run: Option<TestRunRecord>,
}

/// One evaluation's output, before it is stored.
struct Evaluated {
    test_id: String,
    outcome: Result<Vec<EntityResult>, String>,
    params: serde_json::Value,
    duration_ms: i64,
}

fn owner_json(owner: &Owner) -> serde_json::Value {
    match owner {
        Owner::Person { email, basis, .. } => {
            serde_json::json!({"type": "person", "person": email, "basis": basis.as_str()})
        }
        Owner::Service { note } => serde_json::json!({"type": "service", "note": note}),
        Owner::Unlinked => serde_json::json!({"type": "unlinked"}),
    }
}

fn counts(results: &[EntityResult], excused: usize, overdue: usize) -> serde_json::Value {
    let n = |s: EntityStatus| results.iter().filter(|r| r.status == s).count();
    serde_json::json!({
        "pass": n(EntityStatus::Pass),
        "fail": n(EntityStatus::Fail),
        "skip": n(EntityStatus::Skip),
        "error": n(EntityStatus::Error),
        "excused": excused,
        "overdue": overdue,
    })
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    time_fmt::parse(s).ok()
}

impl App {
    pub fn tests(&self) -> &TestCatalog {
        &self.tests
    }

    fn evaluate_all(
        tests: Arc<
            Vec<(
                String,
                Option<CompiledTest>,
                Result<serde_json::Map<String, serde_json::Value>, String>,
            )>,
        >,
        snapshot: Arc<Snapshot>,
        now: String,
        limits: Limits,
    ) -> Vec<Evaluated> {
        let mut out = Vec::with_capacity(tests.len());
        for (id, test, params) in tests.iter() {
            let started = Instant::now();
            let (outcome, params_json) = match (test, params) {
                (None, _) => (Err(String::new()), serde_json::Value::Null),
                (Some(_), Err(e)) => (Err(e.clone()), serde_json::Value::Null),
                (Some(t), Ok(p)) => (
                    vouch_policy::evaluate(t, &snapshot, &now, p, limits),
                    serde_json::Value::Object(p.clone()),
                ),
            };
            out.push(Evaluated {
                test_id: id.clone(),
                outcome,
                params: params_json,
                duration_ms: started.elapsed().as_millis() as i64,
            });
        }
        out
    }

    /// Builds the snapshot of `kinds`: the resources at their latest versions, each account
    /// with its owner. Returns it with the record of what it read.
    async fn take_snapshot(
        &self,
        kinds: &BTreeSet<ResourceKind>,
    ) -> Result<(Snapshot, Vec<(i64, i64)>, Vec<(i64, serde_json::Value)>), AppError> {
        let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        let rows = self.store.snapshot_resources(&names).await?;
        let mut owners: HashMap<i64, serde_json::Value> = HashMap::new();
        if kinds.contains(&ResourceKind::Account) {
            let filter = AccountFilter {
                include_deleted: true,
                ..AccountFilter::default()
            };
            for a in self.accounts(&Actor::system(), &filter).await? {
                owners.insert(a.account.id, owner_json(&a.owner));
            }
        }
        let mut read = Vec::with_capacity(rows.len());
        let mut used_owners = Vec::new();
        let mut by_kind: BTreeMap<ResourceKind, Vec<InputResource>> = BTreeMap::new();
        for r in rows {
            let Some(kind) = ResourceKind::parse(&r.kind) else {
                continue;
            };
            read.push((r.id, r.version));
            let owner = owners.remove(&r.id);
            if let Some(o) = &owner {
                used_owners.push((r.id, o.clone()));
            }
            by_kind.entry(kind).or_default().push(InputResource {
                id: r.id,
                system: r.system,
                key: r.key,
                attrs: r.attrs,
                first_seen: r.first_seen,
                deleted_at: r.deleted_at,
                owner,
            });
        }
        Ok((Snapshot::new(by_kind), read, used_owners))
    }

    /// Evaluates the tests (one when `only` names it) over the current resources and records
    /// the results. A test that does not load, or whose evaluation fails, is recorded in
    /// error; the others are unaffected.
    pub async fn run_tests(
        &self,
        actor: &Actor,
        only: Option<&str>,
        trigger: Trigger,
    ) -> Result<RoundSummary, AppError> {
        self.authorize(actor, Action::RunTests)?;
        let selected: Vec<&LoadedTest> = match only {
            Some(id) => vec![
                self.tests
                    .get(id)
                    .ok_or_else(|| AppError::NotFound(format!("test {id}")))?,
            ],
            None => self.tests.tests.iter().collect(),
        };
        let kinds: BTreeSet<ResourceKind> = selected
            .iter()
            .filter_map(|t| t.test.as_ref().ok())
            .flat_map(|t| t.manifest.reads.iter().copied())
            .collect();
        let (snapshot, read, owners) = self.take_snapshot(&kinds).await?;
        let now = self.now();
        let now_str = time_fmt::format(now);
        let mc = &self.config.monitoring;
        let plan: Vec<_> = selected
            .iter()
            .map(|t| {
                let compiled = t.test.as_ref().ok().cloned();
                let params = match &compiled {
                    Some(c) => c
                        .manifest
                        .resolve_params(mc.params.get(&t.id).unwrap_or(&serde_json::Map::new())),
                    None => Ok(serde_json::Map::new()),
                };
                (t.id.clone(), compiled, params)
            })
            .collect();
        let limits = Limits {
            time: mc.time_limit,
        };
        let evaluated = {
            let plan = Arc::new(plan);
            let snapshot = Arc::new(snapshot);
            let now_for = now_str.clone();
            tokio::task::spawn_blocking(move || App::evaluate_all(plan, snapshot, now_for, limits))
                .await
                .map_err(|e| AppError::Conflict(format!("test evaluation stopped: {e}")))?
        };
        let body = serde_json::json!({"resources": read, "owners": owners}).to_string();
        let digest = hex::encode(Sha256::digest(body.as_bytes()));
        let (mut tx, _) = self.write().await?;
        let snap_seq = tx.next_monitoring_seq(MonitoringTable::Snapshots).await?;
        let snapshot_id = format!("SNAP-{snap_seq}");
        tx.insert_snapshot(&SnapshotRecord {
            id: snapshot_id.clone(),
            seq: snap_seq,
            taken_at: now_str.clone(),
            resource_count: read.len() as i64,
            digest,
            body,
        })
        .await?;
        let exceptions = tx.active_exceptions(&now_str).await?;
        let mut run_seq = tx.next_monitoring_seq(MonitoringTable::Runs).await?;
        let mut event_seq = tx
            .next_monitoring_seq(MonitoringTable::EntityEvents)
            .await?;
        let mut outcomes = Vec::new();
        for ev in evaluated {
            let loaded = self
                .tests
                .get(&ev.test_id)
                .expect("selected from the catalog");
            let run_id = format!("TR-{run_seq}");
            let (manifest, logic_hash) = match &loaded.test {
                Ok(c) => (Some(&c.manifest), c.logic_hash.clone()),
                Err(_) => (None, String::new()),
            };
            let test_excused = exceptions
                .iter()
                .any(|e| e.test_id == ev.test_id && e.entity.is_none());
            let (status, counts_v, error, digest) = match (&loaded.test, ev.outcome) {
                (Err(load), _) => (
                    TestStatus::Error,
                    counts(&[], 0, 0),
                    Some(load.clone()),
                    None,
                ),
                (Ok(_), Err(e)) => (TestStatus::Error, counts(&[], 0, 0), Some(e), None),
                (Ok(c), Ok(results)) => {
                    let sla = self
                        .config
                        .monitoring
                        .sla
                        .get(&c.manifest.sla)
                        .expect("manifests name known categories");
                    let current: HashMap<String, TestEntityRecord> = tx
                        .test_entities_for_update(&ev.test_id)
                        .await?
                        .into_iter()
                        .map(|e| (e.entity.clone(), e))
                        .collect();
                    let mut upserts = Vec::new();
                    let mut events = Vec::new();
                    let mut facts = Vec::with_capacity(results.len());
                    let mut excused_n = 0;
                    let mut overdue_n = 0;
                    let mut seen = BTreeSet::new();
                    for r in &results {
                        seen.insert(r.entity.clone());
                        let prev = current.get(&r.entity);
                        let was_failing = prev.is_some_and(|p| p.status == "fail");
                        let failing = r.status == EntityStatus::Fail;
                        let (first_failed_at, remediate_by, sla_text) = if failing && was_failing {
                            let p = prev.expect("was failing");
                            (
                                p.first_failed_at.clone(),
                                p.remediate_by.clone(),
                                p.sla.clone(),
                            )
                        } else if failing {
                            (
                                Some(now_str.clone()),
                                Some(time_fmt::format(sla.deadline(now))),
                                Some(sla.to_string()),
                            )
                        } else {
                            (None, None, None)
                        };
                        let excused = exceptions.iter().any(|e| {
                            e.test_id == ev.test_id && e.entity.as_deref() == Some(&r.entity)
                        });
                        let deadline = remediate_by.as_deref().and_then(parse_time);
                        if failing && excused {
                            excused_n += 1;
                        }
                        if failing && !excused && deadline.is_some_and(|d| d <= now) {
                            overdue_n += 1;
                        }
                        facts.push(EntityFacts {
                            status: r.status,
                            excused,
                            remediate_by: deadline,
                        });
                        let changed_status = prev.is_none_or(|p| p.status != r.status.as_str());
                        let changed = changed_status || prev.is_some_and(|p| p.reason != r.reason);
                        if changed_status {
                            events.push(EntityEventRecord {
                                seq: event_seq,
                                test_id: ev.test_id.clone(),
                                entity: r.entity.clone(),
                                resource_id: r.resource_id,
                                run_id: run_id.clone(),
                                at: now_str.clone(),
                                from_status: prev.map(|p| p.status.clone()),
                                to_status: r.status.as_str().to_string(),
                                reason: r.reason.clone(),
                            });
                            event_seq += 1;
                        }
                        if changed {
                            upserts.push(TestEntityRecord {
                                test_id: ev.test_id.clone(),
                                entity: r.entity.clone(),
                                resource_id: r.resource_id,
                                status: r.status.as_str().to_string(),
                                reason: r.reason.clone(),
                                first_seen_at: prev
                                    .map(|p| p.first_seen_at.clone())
                                    .unwrap_or_else(|| now_str.clone()),
                                status_since: if changed_status {
                                    now_str.clone()
                                } else {
                                    prev.map(|p| p.status_since.clone())
                                        .unwrap_or_else(|| now_str.clone())
                                },
                                first_failed_at,
                                remediate_by,
                                sla: sla_text,
                                last_changed_run: run_id.clone(),
                            });
                        }
                    }
                    let mut gone = Vec::new();
                    for (entity, p) in &current {
                        if !seen.contains(entity) {
                            gone.push(entity.clone());
                            events.push(EntityEventRecord {
                                seq: event_seq,
                                test_id: ev.test_id.clone(),
                                entity: entity.clone(),
                                resource_id: p.resource_id,
                                run_id: run_id.clone(),
                                at: now_str.clone(),
                                from_status: Some(p.status.clone()),
                                to_status: "gone".into(),
                                reason: "no longer among the test's results".into(),
                            });
                            event_seq += 1;
                        }
                    }
                    gone.sort();
                    tx.write_test_entities(&ev.test_id, &upserts, &gone).await?;
                    tx.insert_entity_events(&events).await?;
                    let status = roll_up(&facts, c.manifest.empty, test_excused, now);
                    let digest = vouch_policy::results_digest(&results);
                    (
                        status,
                        counts(&results, excused_n, overdue_n),
                        None,
                        Some(digest),
                    )
                }
            };
            tx.insert_test_run(&TestRunRecord {
                id: run_id.clone(),
                seq: run_seq,
                test_id: ev.test_id.clone(),
                test_version: manifest.map(|m| i64::from(m.version)).unwrap_or(0),
                logic_hash,
                engine: vouch_policy::ENGINE.to_string(),
                params: ev.params,
                snapshot_id: snapshot_id.clone(),
                evaluated_at: now_str.clone(),
                trigger: trigger.as_str().to_string(),
                status: status.as_str().to_string(),
                counts: counts_v.clone(),
                error: error.clone(),
                results_digest: digest,
                duration_ms: ev.duration_ms,
            })
            .await?;
            run_seq += 1;
            outcomes.push(TestOutcome {
                test_id: ev.test_id,
                run_id,
                status,
                counts: counts_v,
                error,
            });
        }
        let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
        for o in &outcomes {
            *by_status.entry(o.status.as_str()).or_default() += 1;
        }
        tx.append_event(
            App::event(
                actor,
                "tests.evaluated",
                "test_round",
                &snapshot_id,
                None,
                Some(serde_json::json!({
                    "trigger": trigger.as_str(),
                    "tests": outcomes.len(),
                    "resources": read.len(),
                    "statuses": by_status,
                })),
            ),
            &now_str,
        )
        .await?;
        tx.commit().await?;
        Ok(RoundSummary {
            snapshot_id,
            evaluated_at: now_str,
            resources: read.len(),
            tests: outcomes,
        })
    }

    /// Every test with its latest status.
    pub async fn test_views(&self, actor: &Actor) -> Result<Vec<TestView>, AppError> {
        self.authorize(actor, Action::ViewTests)?;
        let latest: HashMap<String, TestRunRecord> = self
            .store
            .latest_test_runs()
            .await?
            .into_iter()
            .map(|r| (r.test_id.clone(), r))
            .collect();
        Ok(self
            .tests
            .tests
            .iter()
            .map(|t| {
                let m = t.test.as_ref().ok().map(|c| &c.manifest);
                let last_run = latest.get(&t.id).cloned();
                TestView {
                    id: t.id.clone(),
                    name: m.map(|m| m.name.clone()).unwrap_or_else(|| t.id.clone()),
                    description: m.map(|m| m.description.clone()).unwrap_or_default(),
                    kind: m.map(|m| m.kind),
                    controls: m.map(|m| m.controls.clone()).unwrap_or_default(),
                    criteria: m.map(|m| m.criteria.clone()).unwrap_or_default(),
                    reads: m
                        .map(|m| m.reads.iter().map(|k| k.as_str().to_string()).collect())
                        .unwrap_or_default(),
                    sla: m.map(|m| m.sla.clone()),
                    version: m.map(|m| m.version),
                    load_error: t.test.as_ref().err().cloned(),
                    status: last_run.as_ref().and_then(|r| TestStatus::parse(&r.status)),
                    last_run,
                }
            })
            .collect())
    }

    /// A test's current entity results.
    pub async fn test_entities(
        &self,
        actor: &Actor,
        test_id: &str,
    ) -> Result<Vec<TestEntityRecord>, AppError> {
        self.authorize(actor, Action::ViewTests)?;
        self.tests
            .get(test_id)
            .ok_or_else(|| AppError::NotFound(format!("test {test_id}")))?;
        Ok(self.store.test_entities(Some(test_id)).await?)
    }

    /// A test's runs, newest first.
    pub async fn test_runs(
        &self,
        actor: &Actor,
        test_id: &str,
        limit: i64,
    ) -> Result<Vec<TestRunRecord>, AppError> {
        self.authorize(actor, Action::ViewTests)?;
        Ok(self.store.test_runs(test_id, None, None, limit).await?)
    }

    /// Status changes of a test's entities, oldest first.
    pub async fn test_entity_events(
        &self,
        actor: &Actor,
        test_id: &str,
        entity: Option<&str>,
    ) -> Result<Vec<EntityEventRecord>, AppError> {
        self.authorize(actor, Action::ViewTests)?;
        Ok(self
            .store
            .test_entity_events(test_id, entity, 10_000)
            .await?)
    }

    /// Evaluates a stored run again over exactly what it read, with its parameters and
    /// `now`, and says whether the results are the same.
    pub async fn rerun_test_run(&self, actor: &Actor, run_id: &str) -> Result<Rerun, AppError> {
        self.authorize(actor, Action::ViewTests)?;
        let run = self
            .store
            .test_run(run_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("test run {run_id}")))?;
        let loaded = self
            .tests
            .get(&run.test_id)
            .ok_or_else(|| AppError::NotFound(format!("test {}", run.test_id)))?;
        let test = loaded
            .test
            .as_ref()
            .map_err(|e| AppError::field("run", format!("the test does not load now: {e}")))?;
        if test.logic_hash != run.logic_hash {
            return Err(AppError::field(
                "run",
                format!(
                    "test {} has changed since {run_id} ran (logic {} then, {} now): evaluate it with the version that produced it",
                    run.test_id,
                    short(&run.logic_hash),
                    short(&test.logic_hash)
                ),
            ));
        }
        let snap = self
            .store
            .snapshot(&run.snapshot_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("snapshot {}", run.snapshot_id)))?;
        #[derive(serde::Deserialize)]
        struct Body {
            resources: Vec<(i64, i64)>,
            owners: Vec<(i64, serde_json::Value)>,
        }
        let body: Body = serde_json::from_str(&snap.body).map_err(|e| {
            AppError::Store(vouch_store::StoreError::Corrupt(format!(
                "snapshot {}: {e}",
                snap.id
            )))
        })?;
        let rows = self.store.snapshot_resources_at(&body.resources).await?;
        let owners: HashMap<i64, serde_json::Value> = body.owners.into_iter().collect();
        let mut by_kind: BTreeMap<ResourceKind, Vec<InputResource>> = BTreeMap::new();
        for r in rows {
            let Some(kind) = ResourceKind::parse(&r.kind) else {
                continue;
            };
            if !test.manifest.reads.contains(&kind) {
                continue;
            }
            by_kind.entry(kind).or_default().push(InputResource {
                owner: owners.get(&r.id).cloned(),
                id: r.id,
                system: r.system,
                key: r.key,
                attrs: r.attrs,
                first_seen: r.first_seen,
                deleted_at: r.deleted_at,
            });
        }
        let params = run.params.as_object().cloned().unwrap_or_default();
        let snapshot = Snapshot::new(by_kind);
        let results = vouch_policy::evaluate(
            test,
            &snapshot,
            &run.evaluated_at,
            &params,
            Limits {
                time: self.config.monitoring.time_limit,
            },
        )
        .map_err(|e| AppError::field("run", e))?;
        let digest = vouch_policy::results_digest(&results);
        Ok(Rerun {
            reproduced: run.results_digest.as_deref() == Some(digest.as_str()),
            stored_digest: run.results_digest.clone(),
            digest,
            run,
            results,
        })
    }
}

fn short(h: &str) -> &str {
    &h[..h.len().min(12)]
}

/// The outcome of evaluating a stored run again.
#[derive(Clone, Debug, Serialize)]
pub struct Rerun {
    pub run: TestRunRecord,
    pub reproduced: bool,
    pub stored_digest: Option<String>,
    pub digest: String,
    pub results: Vec<EntityResult>,
}

#[cfg(test)]
#[path = "monitoring_tests.rs"]
mod tests;
