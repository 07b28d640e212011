//! The control matrix and the system in scope: adopt the library, write and edit controls,
//! map them to criteria, assign owners, mark them not applicable (with a reason), and judge
//! readiness from what exists.
use crate::evidence::ProofContext;
use crate::{Action, Actor, App, AppError};
use serde::{Deserialize, Serialize};
use vouch_domain::control::{Control, ControlInput, SOURCE_CUSTOM, SOURCE_LIBRARY};
use vouch_domain::controls::{Frequency, Nature};
use vouch_domain::readiness::{self, ControlFacts, ControlStatus, Readiness};
use vouch_domain::scope::Scope;
use vouch_domain::validate::FieldError;

/// A change to a control; absent fields stay as they are.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub domain: Option<String>,
    pub owner_role: Option<String>,
    pub frequencies: Option<Vec<Frequency>>,
    pub nature: Option<Nature>,
    pub evidence: Option<Vec<String>>,
    pub criteria: Option<Vec<String>>,
}

/// Who owns a control. `None` clears.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ownership {
    pub owner_id: Option<String>,
    pub backup_owner_id: Option<String>,
}

/// Whether a control applies; a control that does not apply needs a written reason.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Applicability {
    pub applicable: bool,
    #[serde(default)]
    pub justification: Option<String>,
}

/// A control with its computed status, as lists and pages show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ControlView {
    #[serde(flatten)]
    pub control: Control,
    pub status: ControlStatus,
    pub owner_email: Option<String>,
    pub backup_owner_email: Option<String>,
}

const SCOPE_ID: &str = "scope";

fn snapshot(c: &Control) -> serde_json::Value {
    serde_json::to_value(c).unwrap_or_default()
}

/// The facts readiness is computed from. Tests join in with their capability.
pub(crate) fn facts(c: &Control, proof: &ProofContext) -> ControlFacts {
    let evidence_count = proof.evidence_count(&c.id);
    ControlFacts {
        id: c.id.clone(),
        applicable: c.applicable,
        has_owner: c.owner_id.is_some(),
        has_description: !c.description.trim().is_empty(),
        criteria: c.criteria.clone(),
        evidence_count,
        evidence_stale: evidence_count > 0
            && proof.freshness(c).status != vouch_domain::freshness::FreshnessStatus::Fresh,
        test_count: 0,
    }
}

impl App {
    // ---- scope ----

    /// The system in scope; a fresh deployment starts with security only, Type II.
    pub async fn scope(&self, actor: &Actor) -> Result<Scope, AppError> {
        self.authorize(actor, Action::ViewControls)?;
        self.load_scope().await
    }

    pub(crate) async fn load_scope(&self) -> Result<Scope, AppError> {
        match self.store.scope_doc().await? {
            Some(doc) => serde_json::from_str(&doc)
                .map_err(|e| AppError::Conflict(format!("the stored scope cannot be read: {e}"))),
            None => Ok(Scope::initial("Our system")),
        }
    }

    pub async fn set_scope(&self, actor: &Actor, scope: Scope) -> Result<Scope, AppError> {
        self.authorize(actor, Action::ManageScope)?;
        scope.validate().map_err(AppError::Validation)?;
        let (mut tx, now) = self.write().await?;
        let before = tx
            .scope_doc()
            .await?
            .and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok());
        let doc = serde_json::to_string(&scope).expect("a scope serialises");
        tx.put_scope(&doc, &now).await?;
        tx.append_event(
            Self::event(
                actor,
                "scope.update",
                "scope",
                SCOPE_ID,
                before,
                serde_json::from_str(&doc).ok(),
            ),
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok(scope)
    }

    // ---- controls ----

    async fn views(&self, controls: Vec<Control>) -> Result<Vec<ControlView>, AppError> {
        let users = self.store.list_users().await?;
        let proof = self.proof_context(&self.load_scope().await?).await?;
        let email = |id: &Option<String>| {
            id.as_ref()
                .and_then(|id| users.iter().find(|u| &u.id == id))
                .map(|u| u.email.clone())
        };
        Ok(controls
            .into_iter()
            .map(|c| ControlView {
                status: readiness::control_status(&facts(&c, &proof)),
                owner_email: email(&c.owner_id),
                backup_owner_email: email(&c.backup_owner_id),
                control: c,
            })
            .collect())
    }

    pub async fn list_controls(&self, actor: &Actor) -> Result<Vec<ControlView>, AppError> {
        self.authorize(actor, Action::ViewControls)?;
        let all = self.store.list_controls().await?;
        self.views(all).await
    }

    pub async fn get_control(&self, actor: &Actor, id: &str) -> Result<ControlView, AppError> {
        self.authorize(actor, Action::ViewControls)?;
        let c = self
            .store
            .control(&id.trim().to_uppercase())
            .await?
            .ok_or_else(|| AppError::NotFound(format!("control {id}")))?;
        Ok(self.views(vec![c]).await?.remove(0))
    }

    /// Adopts library controls (all of them, or the given ids) that are not yet adopted;
    /// returns the ids added. One audit event per control.
    pub async fn adopt_library(
        &self,
        actor: &Actor,
        ids: Option<Vec<String>>,
    ) -> Result<Vec<String>, AppError> {
        self.authorize(actor, Action::ManageControls)?;
        let lib = vouch_domain::controls::soc2_starter();
        let wanted: Vec<_> = match &ids {
            None => lib.controls.iter().collect(),
            Some(ids) => {
                let mut out = Vec::new();
                let mut errors = Vec::new();
                for id in ids {
                    match lib.get(id.trim()) {
                        Some(c) => out.push(c),
                        None => errors.push(FieldError::new(
                            "ids",
                            format!("'{id}' is not in the control library"),
                        )),
                    }
                }
                if !errors.is_empty() {
                    return Err(AppError::Validation(errors));
                }
                out
            }
        };
        let (mut tx, now) = self.write().await?;
        let mut added = Vec::new();
        for lc in wanted {
            if tx.control(&lc.id).await?.is_some() {
                continue;
            }
            let input = ControlInput::from_library(lc)
                .validate(vouch_domain::criteria::soc2())
                .map_err(AppError::Validation)?;
            let c = new_control(input, SOURCE_LIBRARY, &now);
            tx.insert_control(&c).await?;
            tx.append_event(
                Self::event(
                    actor,
                    "control.adopt",
                    "control",
                    &c.id,
                    None,
                    Some(snapshot(&c)),
                ),
                &now,
            )
            .await?;
            added.push(c.id);
        }
        if added.is_empty() {
            return Ok(added);
        }
        tx.commit().await?;
        Ok(added)
    }

    /// Adds a control the organisation wrote itself.
    pub async fn create_control(
        &self,
        actor: &Actor,
        input: ControlInput,
    ) -> Result<ControlView, AppError> {
        self.authorize(actor, Action::ManageControls)?;
        let input = input
            .validate(vouch_domain::criteria::soc2())
            .map_err(AppError::Validation)?;
        let (mut tx, now) = self.write().await?;
        if tx.control(&input.id).await?.is_some() {
            return Err(AppError::field(
                "id",
                format!("control {} already exists", input.id),
            ));
        }
        let c = new_control(input, SOURCE_CUSTOM, &now);
        tx.insert_control(&c).await?;
        tx.append_event(
            Self::event(
                actor,
                "control.create",
                "control",
                &c.id,
                None,
                Some(snapshot(&c)),
            ),
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok(self.views(vec![c]).await?.remove(0))
    }

    /// Edits a control's definition or its criteria.
    pub async fn update_control(
        &self,
        actor: &Actor,
        id: &str,
        patch: ControlPatch,
    ) -> Result<ControlView, AppError> {
        self.authorize(actor, Action::ManageControls)?;
        self.change_control(actor, id, "control.update", |c| {
            let input = ControlInput {
                id: c.id.clone(),
                name: patch.name.clone().unwrap_or_else(|| c.name.clone()),
                description: patch
                    .description
                    .clone()
                    .unwrap_or_else(|| c.description.clone()),
                domain: patch.domain.clone().unwrap_or_else(|| c.domain.clone()),
                owner_role: patch
                    .owner_role
                    .clone()
                    .unwrap_or_else(|| c.owner_role.clone()),
                frequencies: patch
                    .frequencies
                    .clone()
                    .unwrap_or_else(|| c.frequencies.clone()),
                nature: patch.nature.unwrap_or(c.nature),
                evidence: patch.evidence.clone().unwrap_or_else(|| c.evidence.clone()),
                criteria: patch.criteria.clone().unwrap_or_else(|| c.criteria.clone()),
            };
            let v = input
                .validate(vouch_domain::criteria::soc2())
                .map_err(AppError::Validation)?;
            c.name = v.name;
            c.description = v.description;
            c.domain = v.domain;
            c.owner_role = v.owner_role;
            c.frequencies = v.frequencies;
            c.nature = v.nature;
            c.evidence = v.evidence;
            c.criteria = v.criteria;
            Ok(())
        })
        .await
    }

    /// Maps a control to one more criterion.
    pub async fn map_criterion(
        &self,
        actor: &Actor,
        id: &str,
        criterion: &str,
    ) -> Result<ControlView, AppError> {
        self.authorize(actor, Action::ManageControls)?;
        let cr = vouch_domain::criteria::soc2()
            .get(criterion.trim())
            .ok_or_else(|| {
                AppError::field(
                    "criterion",
                    format!("'{criterion}' is not a SOC 2 criterion id"),
                )
            })?
            .id
            .clone();
        self.change_control(actor, id, "control.map", move |c| {
            if !c.criteria.contains(&cr) {
                c.criteria.push(cr.clone());
                c.criteria.sort();
            }
            Ok(())
        })
        .await
    }

    pub async fn unmap_criterion(
        &self,
        actor: &Actor,
        id: &str,
        criterion: &str,
    ) -> Result<ControlView, AppError> {
        self.authorize(actor, Action::ManageControls)?;
        let cr = criterion.trim().to_uppercase();
        self.change_control(actor, id, "control.unmap", move |c| {
            let before = c.criteria.len();
            c.criteria.retain(|x| x.to_uppercase() != cr);
            if c.criteria.len() == before {
                return Err(AppError::field(
                    "criterion",
                    format!("{} is not mapped to {cr}", c.id),
                ));
            }
            Ok(())
        })
        .await
    }

    /// Assigns the owner and backup (active people), or clears them.
    pub async fn assign_control(
        &self,
        actor: &Actor,
        id: &str,
        o: Ownership,
    ) -> Result<ControlView, AppError> {
        self.authorize(actor, Action::ManageControls)?;
        let mut errors = Vec::new();
        for (field, uid) in [
            ("owner_id", &o.owner_id),
            ("backup_owner_id", &o.backup_owner_id),
        ] {
            if let Some(uid) = uid {
                match self.store.user_by_id(uid).await? {
                    Some(u) if u.status == "active" && u.role == "auditor" => {
                        errors.push(FieldError::new(
                            field,
                            format!("{} is an auditor: auditors cannot own controls", u.email),
                        ))
                    }
                    Some(u) if u.status == "active" => {}
                    Some(u) => {
                        errors.push(FieldError::new(field, format!("{} is disabled", u.email)))
                    }
                    None => errors.push(FieldError::new(field, format!("there is no user {uid}"))),
                }
            }
        }
        if o.owner_id.is_some() && o.owner_id == o.backup_owner_id {
            errors.push(FieldError::new(
                "backup_owner_id",
                "the backup must be someone other than the owner",
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        self.change_control(actor, id, "control.assign", move |c| {
            c.owner_id = o.owner_id.clone();
            c.backup_owner_id = o.backup_owner_id.clone();
            Ok(())
        })
        .await
    }

    /// Marks a control applicable again, or not applicable with a written justification.
    pub async fn set_applicability(
        &self,
        actor: &Actor,
        id: &str,
        a: Applicability,
    ) -> Result<ControlView, AppError> {
        self.authorize(actor, Action::ManageControls)?;
        let justification = a
            .justification
            .as_deref()
            .map(str::trim)
            .filter(|j| !j.is_empty())
            .map(str::to_string);
        if !a.applicable
            && justification
                .as_ref()
                .is_none_or(|j| j.chars().count() < 10)
        {
            return Err(AppError::field(
                "justification",
                "say why the control does not apply (at least 10 characters); auditors read it",
            ));
        }
        self.change_control(actor, id, "control.applicability", move |c| {
            c.applicable = a.applicable;
            c.na_justification = if a.applicable {
                None
            } else {
                justification.clone()
            };
            Ok(())
        })
        .await
    }

    /// Reads a control in a write, applies `f`, writes it back with one audit event.
    async fn change_control(
        &self,
        actor: &Actor,
        id: &str,
        action: &str,
        f: impl FnOnce(&mut Control) -> Result<(), AppError>,
    ) -> Result<ControlView, AppError> {
        let id = id.trim().to_uppercase();
        let (mut tx, now) = self.write().await?;
        let mut before = tx
            .control(&id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("control {id}")))?;
        // The store's order of criteria follows the database's collation: compare as sets.
        before.criteria.sort();
        let mut c = before.clone();
        f(&mut c)?;
        c.criteria.sort();
        if c == before {
            return Ok(self.views(vec![c]).await?.remove(0));
        }
        c.updated_at = now.clone();
        tx.update_control(&c).await?;
        tx.append_event(
            Self::event(
                actor,
                action,
                "control",
                &id,
                Some(snapshot(&before)),
                Some(snapshot(&c)),
            ),
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok(self.views(vec![c]).await?.remove(0))
    }

    // ---- readiness ----

    pub async fn readiness(&self, actor: &Actor) -> Result<Readiness, AppError> {
        self.authorize(actor, Action::ViewControls)?;
        let scope = self.load_scope().await?;
        let controls = self.store.list_controls().await?;
        let proof = self.proof_context(&scope).await?;
        let facts: Vec<ControlFacts> = controls.iter().map(|c| facts(c, &proof)).collect();
        Ok(readiness::compute(
            &scope,
            vouch_domain::criteria::soc2(),
            &facts,
        ))
    }
}

fn new_control(v: ControlInput, source: &str, now: &str) -> Control {
    Control {
        id: v.id,
        name: v.name,
        description: v.description,
        domain: v.domain,
        owner_role: v.owner_role,
        owner_id: None,
        backup_owner_id: None,
        frequencies: v.frequencies,
        nature: v.nature,
        evidence: v.evidence,
        criteria: v.criteria,
        applicable: true,
        na_justification: None,
        source: source.into(),
        created_at: now.into(),
        updated_at: now.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    async fn app() -> (App, vouch_store::testing::TestDb) {
        let db = vouch_store::testing::TestDb::new(vouch_store::Backend::Sqlite)
            .await
            .unwrap();
        let app = App::new(
            db.store.clone(),
            crate::test_vault(),
            Arc::new(crate::SystemClock),
            crate::AppConfig::default(),
        );
        (app, db)
    }

    fn as_role(role: vouch_domain::Role) -> Actor {
        Actor {
            role,
            ..Actor::cli()
        }
    }

    #[tokio::test]
    async fn adopting_the_library_covers_every_criterion_once() {
        let (app, db) = app().await;
        let lead = as_role(vouch_domain::Role::ComplianceLead);
        let added = app.adopt_library(&lead, None).await.unwrap();
        assert!(added.len() >= 100);
        assert!(
            app.adopt_library(&lead, None).await.unwrap().is_empty(),
            "adopting twice adds nothing"
        );
        let mut scope = app.scope(&lead).await.unwrap();
        scope.categories = vouch_domain::Category::ALL.to_vec();
        app.set_scope(&lead, scope).await.unwrap();
        let r = app.readiness(&lead).await.unwrap();
        assert_eq!(r.criteria.len(), 61);
        assert!(r.criteria.iter().all(|c| c.covered));
        assert_eq!(r.overall_pct, 0, "nothing proves any control yet");
        assert_eq!(
            app.verify_audit_log(&lead).await.unwrap(),
            Ok(added.len() as i64 + 1)
        );
        db.cleanup().await;
    }

    #[tokio::test]
    async fn not_applicable_needs_a_reason_and_auditors_change_nothing() {
        let (app, db) = app().await;
        let lead = as_role(vouch_domain::Role::ComplianceLead);
        app.adopt_library(&lead, Some(vec!["PHY-01".into()]))
            .await
            .unwrap();
        let no_reason = Applicability {
            applicable: false,
            justification: Some(" ".into()),
        };
        assert!(matches!(
            app.set_applicability(&lead, "PHY-01", no_reason).await,
            Err(AppError::Validation(_))
        ));
        let ok = Applicability {
            applicable: false,
            justification: Some("Fully remote; no offices or data centres.".into()),
        };
        let v = app.set_applicability(&lead, "phy-01", ok).await.unwrap();
        assert_eq!(v.status, ControlStatus::NotApplicable);
        let auditor = as_role(vouch_domain::Role::Auditor);
        let before = app.verify_audit_log(&lead).await.unwrap();
        assert!(matches!(
            app.update_control(&auditor, "PHY-01", ControlPatch::default())
                .await,
            Err(AppError::Forbidden { .. })
        ));
        assert!(matches!(
            app.adopt_library(&auditor, None).await,
            Err(AppError::Forbidden { .. })
        ));
        assert_eq!(app.verify_audit_log(&lead).await.unwrap(), before);
        db.cleanup().await;
    }
}

/// What an import did.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
}

fn import_errors(errs: Vec<vouch_domain::control_io::ImportError>) -> AppError {
    AppError::Validation(
        errs.into_iter()
            .map(|e| {
                let place = match (e.row, e.column.as_deref()) {
                    (Some(r), Some(c)) => format!("row {r}, column {c}"),
                    (Some(r), None) => format!("row {r}"),
                    (None, Some(c)) => format!("column {c}"),
                    (None, None) => "file".to_string(),
                };
                FieldError::new(&place, e.message)
            })
            .collect(),
    )
}

impl App {
    /// The control matrix as the auditor's spreadsheet has it, with computed statuses.
    pub async fn control_matrix(
        &self,
        actor: &Actor,
    ) -> Result<Vec<vouch_domain::control_io::MatrixRow>, AppError> {
        let views = self.list_controls(actor).await?;
        Ok(views
            .iter()
            .map(|v| {
                vouch_domain::control_io::MatrixRow::from_control(
                    &v.control,
                    v.owner_email.as_deref(),
                    v.backup_owner_email.as_deref(),
                    v.status.label(),
                )
            })
            .collect())
    }

    /// Imports controls from a CSV or YAML file: everything is checked first (the file's shape,
    /// every row, and that every owner is an active person), then all rows are written in one
    /// transaction, or none. Existing ids are updated, new ones created.
    pub async fn import_controls(
        &self,
        actor: &Actor,
        file_name: Option<&str>,
        bytes: &[u8],
    ) -> Result<ImportSummary, AppError> {
        use vouch_domain::control_io::{ImportError, parse_any};
        self.authorize(actor, Action::ManageControls)?;
        let rows =
            parse_any(file_name, bytes, vouch_domain::criteria::soc2()).map_err(import_errors)?;
        let users = self.store.list_users().await?;
        let mut errors = Vec::new();
        let mut person = |row: usize, column: &str, email: &Option<String>| -> Option<String> {
            let email = email.as_deref()?.trim().to_lowercase();
            if email.is_empty() {
                return None;
            }
            match users.iter().find(|u| u.email == email) {
                Some(u) if u.status == "active" && u.role != "auditor" => Some(u.id.clone()),
                Some(u) if u.role == "auditor" => {
                    errors.push(ImportError::at(
                        row,
                        column,
                        format!("{email} is an auditor; auditors cannot own controls"),
                    ));
                    None
                }
                Some(_) => {
                    errors.push(ImportError::at(row, column, format!("{email} is disabled")));
                    None
                }
                None => {
                    errors.push(ImportError::at(
                        row,
                        column,
                        format!("there is no user {email}"),
                    ));
                    None
                }
            }
        };
        let mut resolved = Vec::new();
        for r in rows {
            let owner = person(r.row, "owner", &r.owner_email);
            let backup = person(r.row, "backup_owner", &r.backup_owner_email);
            resolved.push((r, owner, backup));
        }
        if !errors.is_empty() {
            return Err(import_errors(errors));
        }
        let lib = vouch_domain::controls::soc2_starter();
        let (mut tx, now) = self.write().await?;
        let mut summary = ImportSummary {
            created: vec![],
            updated: vec![],
            unchanged: vec![],
        };
        for (r, owner, backup) in resolved {
            let i = r.input;
            match tx.control(&i.id).await? {
                Some(before) => {
                    let mut c = before.clone();
                    c.name = i.name;
                    c.description = i.description;
                    c.domain = i.domain;
                    if !i.owner_role.is_empty() {
                        c.owner_role = i.owner_role;
                    }
                    c.frequencies = i.frequencies;
                    c.nature = i.nature;
                    c.evidence = i.evidence;
                    c.criteria = i.criteria;
                    c.owner_id = owner;
                    c.backup_owner_id = backup;
                    c.applicable = r.applicable;
                    c.na_justification = if r.applicable {
                        None
                    } else {
                        r.na_justification
                    };
                    if c == before {
                        summary.unchanged.push(c.id);
                        continue;
                    }
                    c.updated_at = now.clone();
                    tx.update_control(&c).await?;
                    tx.append_event(
                        Self::event(
                            actor,
                            "control.import",
                            "control",
                            &c.id,
                            Some(snapshot(&before)),
                            Some(snapshot(&c)),
                        ),
                        &now,
                    )
                    .await?;
                    summary.updated.push(c.id);
                }
                None => {
                    let source = if lib.get(&i.id).is_some() {
                        SOURCE_LIBRARY
                    } else {
                        SOURCE_CUSTOM
                    };
                    let mut c = new_control(i, source, &now);
                    c.owner_id = owner;
                    c.backup_owner_id = backup;
                    c.applicable = r.applicable;
                    c.na_justification = if r.applicable {
                        None
                    } else {
                        r.na_justification
                    };
                    tx.insert_control(&c).await?;
                    tx.append_event(
                        Self::event(
                            actor,
                            "control.import",
                            "control",
                            &c.id,
                            None,
                            Some(snapshot(&c)),
                        ),
                        &now,
                    )
                    .await?;
                    summary.created.push(c.id);
                }
            }
        }
        if summary.created.is_empty() && summary.updated.is_empty() {
            return Ok(summary);
        }
        tx.commit().await?;
        Ok(summary)
    }
}

#[cfg(test)]
mod import_tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn an_import_with_any_bad_row_writes_nothing_and_names_every_problem() {
        let db = vouch_store::testing::TestDb::new(vouch_store::Backend::Sqlite)
            .await
            .unwrap();
        let app = App::new(
            db.store.clone(),
            crate::test_vault(),
            Arc::new(crate::SystemClock),
            crate::AppConfig::default(),
        );
        let lead = Actor {
            role: vouch_domain::Role::ComplianceLead,
            ..Actor::cli()
        };
        app.create_first_admin(
            &Actor::cli(),
            None,
            "ada@example.com",
            "Ada",
            "a long enough password",
        )
        .await
        .unwrap();
        let csv = "id,name,description,owner,frequency,nature,criteria\n\
                   CUS-01,Export review,Reviewed monthly,ada@example.com,monthly,manual,C1.1\n\
                   CUS-02,Badge review,Quarterly,nobody@example.com,quarterly,manual,CC99.1\n";
        let before = app.verify_audit_log(&lead).await.unwrap();
        let err = app
            .import_controls(&lead, Some("m.csv"), csv.as_bytes())
            .await
            .unwrap_err();
        let AppError::Validation(list) = err else {
            panic!("validation expected")
        };
        assert!(
            list.iter().any(|e| e.field == "row 3, column criteria"),
            "{list:?}"
        );
        assert_eq!(app.list_controls(&lead).await.unwrap().len(), 0);
        assert_eq!(app.verify_audit_log(&lead).await.unwrap(), before);

        let fixed = csv.replace("CC99.1", "CC6.4");
        let err = app
            .import_controls(&lead, Some("m.csv"), fixed.as_bytes())
            .await
            .unwrap_err();
        let AppError::Validation(list) = err else {
            panic!("validation expected")
        };
        assert_eq!(list[0].field, "row 3, column owner");
        assert!(list[0].message.contains("nobody@example.com"));

        let good = fixed.replace("nobody@example.com", "ada@example.com");
        let s = app
            .import_controls(&lead, Some("m.csv"), good.as_bytes())
            .await
            .unwrap();
        assert_eq!(s.created, vec!["CUS-01".to_string(), "CUS-02".to_string()]);
        let again = app
            .import_controls(&lead, Some("m.csv"), good.as_bytes())
            .await
            .unwrap();
        assert_eq!(again.unchanged.len(), 2);
        let matrix = app.control_matrix(&lead).await.unwrap();
        let round = vouch_domain::control_io::to_csv(&matrix);
        let s = app
            .import_controls(&lead, Some("export.csv"), &round)
            .await
            .unwrap();
        assert_eq!(
            s.unchanged.len(),
            2,
            "an exported matrix imports back unchanged"
        );
        db.cleanup().await;
    }
}
