//! UI pages for the control matrix, the scope editor and the readiness view.
use crate::error::PageError;
use crate::extract::{CsrfOnly, UiForm, UiUser, check_csrf};
use crate::state::AppState;
use crate::views::{flash, form_errors, page, views};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};
use serde::Deserialize;
use vouch_app::auth::Session;
use vouch_app::authz::{Action, permits};
use vouch_app::controls::{Applicability, ControlPatch, Ownership};
use vouch_app::{AppError, AuditFilter};
use vouch_domain::Category;
use vouch_domain::control::ControlInput;
use vouch_domain::controls::{Frequency, Nature};
use vouch_domain::readiness::{ControlStatus, Gap};
use vouch_domain::scope::{Component, ReportType, Scope, Subservice};

type PageResult = Result<Response, PageError>;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/controls", get(controls))
        .route("/controls/adopt", post(adopt))
        .route("/controls/export.csv", get(export_csv))
        .route("/controls/export.xlsx", get(export_xlsx))
        .route("/controls/import", post(import))
        .route("/controls/new", get(new_form).post(create))
        .route("/controls/{id}", get(control).post(update))
        .route("/controls/{id}/owner", post(assign))
        .route("/controls/{id}/applicability", post(applicability))
        .route("/controls/{id}/criteria", post(map))
        .route("/controls/{id}/criteria/{criterion}/remove", post(unmap))
        .route("/scope", get(scope).post(save_scope))
        .route("/readiness", get(readiness))
}

pub(crate) fn status_badge(s: ControlStatus) -> &'static str {
    match s {
        ControlStatus::Ready => "green",
        ControlStatus::NoProof | ControlStatus::Stale => "amber",
        ControlStatus::Incomplete => "red",
        ControlStatus::NotApplicable => "grey",
    }
}

fn frequencies_ctx() -> Vec<Value> {
    Frequency::ALL
        .iter()
        .map(|f| context! { id => f.as_str(), label => f.label() })
        .collect()
}

fn natures_ctx() -> Vec<Value> {
    Nature::ALL
        .iter()
        .map(|n| context! { id => n.as_str(), label => n.label() })
        .collect()
}

#[derive(Deserialize, Default)]
struct ControlsQuery {
    q: Option<String>,
    status: Option<String>,
    domain: Option<String>,
}

async fn controls_page(
    st: &AppState,
    s: &Session,
    q: ControlsQuery,
    extra: Value,
    status: StatusCode,
) -> PageResult {
    let all = st.app.list_controls(&s.actor).await?;
    let total = all.len();
    let mut domains: Vec<String> = all.iter().map(|c| c.control.domain.clone()).collect();
    domains.sort();
    domains.dedup();
    let counts = |k: ControlStatus| all.iter().filter(|c| c.status == k).count();
    let summary = context! {
        ready => counts(ControlStatus::Ready),
        no_proof => counts(ControlStatus::NoProof),
        stale => counts(ControlStatus::Stale),
        incomplete => counts(ControlStatus::Incomplete),
        not_applicable => counts(ControlStatus::NotApplicable),
    };
    let needle = q.q.as_deref().unwrap_or("").trim().to_lowercase();
    let rows: Vec<Value> = all
        .into_iter()
        .filter(|c| q.status.as_deref().is_none_or(|s| s.is_empty() || serde_json::to_value(c.status).ok().and_then(|v| v.as_str().map(|x| x == s)).unwrap_or(false)))
        .filter(|c| q.domain.as_deref().is_none_or(|d| d.is_empty() || c.control.domain == d))
        .filter(|c| {
            needle.is_empty()
                || c.control.id.to_lowercase().contains(&needle)
                || c.control.name.to_lowercase().contains(&needle)
                || c.control.criteria.iter().any(|x| x.to_lowercase() == needle)
        })
        .map(|c| {
            context! {
                c => c.control,
                owner => c.owner_email,
                status => c.status,
                status_label => c.status.label(),
                badge => status_badge(c.status),
                frequencies => c.control.frequencies.iter().map(|f| f.label()).collect::<Vec<_>>().join(", "),
            }
        })
        .collect();
    let lib = vouch_domain::controls::soc2_starter();
    let ctx = context! {
        controls => rows,
        total => total,
        library_total => lib.controls.len(),
        summary => summary,
        domains => domains,
        q => context! { q => q.q, status => q.status, domain => q.domain },
        can_manage => permits(s.actor.role, Action::ManageControls),
        ..minijinja::value::merge_maps([extra, page(s, "Controls", "/controls")]),
    };
    Ok((status, views().render("controls.html", ctx)).into_response())
}

async fn controls(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Query(q): Query<ControlsQuery>,
) -> PageResult {
    controls_page(&st, &s, q, context! {}, StatusCode::OK).await
}

async fn adopt(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    UiForm(f): UiForm<CsrfOnly>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    let added = st.app.adopt_library(&s.actor, None).await?;
    let msg = if added.is_empty() {
        "Every library control is already adopted.".to_string()
    } else {
        format!(
            "Adopted {} controls from the library. Assign an owner to each next.",
            added.len()
        )
    };
    controls_page(
        &st,
        &s,
        ControlsQuery::default(),
        context! { flash => flash("ok", msg) },
        StatusCode::OK,
    )
    .await
}

fn input_form_ctx(i: Option<&ControlInputForm>) -> Value {
    match i {
        Some(f) => context! {
            id => f.id, name => f.name, description => f.description, domain => f.domain,
            frequencies => f.frequency, nature => f.nature, evidence => f.evidence, criteria => f.criteria,
        },
        None => context! { frequencies => Vec::<String>::new(), nature => "manual" },
    }
}

async fn new_form(State(st): State<AppState>, UiUser(s): UiUser) -> PageResult {
    st.app.authorize(&s.actor, Action::ManageControls)?;
    let ctx = context! {
        form => input_form_ctx(None),
        frequencies => frequencies_ctx(),
        natures => natures_ctx(),
        ..page(&s, "New control", "/controls"),
    };
    Ok(views().render("control_new.html", ctx))
}

/// The control form: lists arrive as text (one evidence item per line; criteria separated by
/// commas or spaces) and frequencies as repeated checkboxes.
#[derive(Deserialize, Default)]
struct ControlInputForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    frequency: Vec<String>,
    #[serde(default)]
    nature: String,
    #[serde(default)]
    evidence: String,
    #[serde(default)]
    criteria: String,
}

impl ControlInputForm {
    fn parse(&self) -> Result<(Vec<Frequency>, Nature, Vec<String>, Vec<String>), AppError> {
        let mut errors = Vec::new();
        let mut freqs = Vec::new();
        for f in &self.frequency {
            match Frequency::parse(f) {
                Some(x) => freqs.push(x),
                None => errors.push(vouch_domain::validate::FieldError::new(
                    "frequencies",
                    format!("'{f}' is not a frequency"),
                )),
            }
        }
        let nature = Nature::parse(&self.nature).unwrap_or_else(|| {
            errors.push(vouch_domain::validate::FieldError::new(
                "nature",
                "choose automated, manual or hybrid",
            ));
            Nature::Manual
        });
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let evidence = self
            .evidence
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        let criteria = self
            .criteria
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect();
        Ok((freqs, nature, evidence, criteria))
    }
}

async fn create(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    UiForm(f): UiForm<ControlInputForm>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    let result = match f.parse() {
        Ok((frequencies, nature, evidence, criteria)) => {
            let input = ControlInput {
                id: f.id.clone(),
                name: f.name.clone(),
                description: f.description.clone(),
                domain: f.domain.clone(),
                owner_role: String::new(),
                frequencies,
                nature,
                evidence,
                criteria,
            };
            st.app.create_control(&s.actor, input).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => Ok(Redirect::to(&format!("/controls/{}", c.control.id)).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            let ctx = context! {
                form => input_form_ctx(Some(&f)),
                errors => errors,
                frequencies => frequencies_ctx(),
                natures => natures_ctx(),
                ..page(&s, "New control", "/controls"),
            };
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                views().render("control_new.html", ctx),
            )
                .into_response())
        }
    }
}

async fn control_page(
    st: &AppState,
    s: &Session,
    id: &str,
    extra: Value,
    status: StatusCode,
) -> PageResult {
    let v = st.app.get_control(&s.actor, id).await?;
    let catalog = st.app.criteria(&s.actor)?;
    let criteria: Vec<Value> = v
        .control
        .criteria
        .iter()
        .filter_map(|cid| catalog.get(cid))
        .map(|c| context! { id => c.id, title => c.title, category => c.category })
        .collect();
    let people = if permits(s.actor.role, Action::ManageControls) {
        st.app
            .list_users(&s.actor)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|u| u.status == "active" && u.role != vouch_domain::Role::Auditor)
            .map(|u| context! { id => u.id, label => format!("{} ({})", u.name, u.email) })
            .collect::<Vec<_>>()
    } else {
        vec![]
    };
    let history = if permits(s.actor.role, Action::ViewAuditLog) {
        st.app
            .audit_events(
                &s.actor,
                &AuditFilter {
                    object_type: Some("control".into()),
                    object_id: Some(v.control.id.clone()),
                    limit: 20,
                    ..Default::default()
                },
            )
            .await?
    } else {
        vec![]
    };
    let proof = st.app.control_evidence(&s.actor, &v.control.id).await?;
    let fresh = &proof.freshness;
    let evidence_ctx = context! {
        status => fresh.status,
        status_label => fresh.status.label(),
        badge => match fresh.status {
            vouch_domain::freshness::FreshnessStatus::Fresh => "green",
            vouch_domain::freshness::FreshnessStatus::Stale => "amber",
            vouch_domain::freshness::FreshnessStatus::Missing => "red",
        },
        cadence => fresh.cadence.as_str().replace('_', " "),
        latest => fresh.latest.map(|d| d.to_string()),
        due => fresh.due,
        missing => fresh.missing.iter().map(|o| context! { start => o.start.to_string(), end => o.end.to_string(), due_by => o.due_by.to_string() }).collect::<Vec<_>>(),
        next_due_by => fresh.next_due_by.map(|d| d.to_string()),
        items => proof.evidence.iter().take(20).map(|e| context! {
            id => e.id,
            title => e.current.title,
            period => crate::evidence_pages::period_text(e.current.period_start, e.current.period_end),
            files => e.current.files.len(),
            purged => e.purged_at.is_some(),
        }).collect::<Vec<_>>(),
        total => proof.evidence.len(),
        can_add => permits(s.actor.role, Action::AddEvidence),
    };
    let form = context! {
        name => v.control.name,
        description => v.control.description,
        domain => v.control.domain,
        frequencies => v.control.frequencies.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        nature => v.control.nature.as_str(),
        evidence => v.control.evidence.join("\n"),
        criteria => v.control.criteria.join(", "),
    };
    let ctx = context! {
        form => form,
        c => v.control,
        status => v.status,
        status_label => v.status.label(),
        badge => status_badge(v.status),
        owner => v.owner_email,
        backup => v.backup_owner_email,
        criteria => criteria,
        people => people,
        history => history,
        evidence => evidence_ctx,
        frequencies => frequencies_ctx(),
        natures => natures_ctx(),
        freq_labels => v.control.frequencies.iter().map(|f| f.label()).collect::<Vec<_>>().join(", "),
        can_manage => permits(s.actor.role, Action::ManageControls),
        ..minijinja::value::merge_maps([extra, page(s, &v.control.id, "/controls")]),
    };
    Ok((status, views().render("control.html", ctx)).into_response())
}

async fn control(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(id): Path<String>,
) -> PageResult {
    control_page(&st, &s, &id, context! {}, StatusCode::OK).await
}

async fn update(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(id): Path<String>,
    UiForm(f): UiForm<ControlInputForm>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    let result = match f.parse() {
        Ok((frequencies, nature, evidence, criteria)) => {
            let patch = ControlPatch {
                name: Some(f.name.clone()),
                description: Some(f.description.clone()),
                domain: Some(f.domain.clone()),
                owner_role: None,
                frequencies: Some(frequencies),
                nature: Some(nature),
                evidence: Some(evidence),
                criteria: Some(criteria),
            };
            st.app.update_control(&s.actor, &id, patch).await
        }
        Err(e) => Err(e),
    };
    after_change(
        &st,
        &s,
        &id,
        result,
        "Saved. The change is in the audit log.",
    )
    .await
}

#[derive(Deserialize)]
struct OwnerForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    owner_id: String,
    #[serde(default)]
    backup_owner_id: String,
}

async fn assign(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(id): Path<String>,
    UiForm(f): UiForm<OwnerForm>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    let o = Ownership {
        owner_id: Some(f.owner_id).filter(|x| !x.is_empty()),
        backup_owner_id: Some(f.backup_owner_id).filter(|x| !x.is_empty()),
    };
    let result = st.app.assign_control(&s.actor, &id, o).await;
    after_change(&st, &s, &id, result, "Ownership saved.").await
}

#[derive(Deserialize)]
struct ApplicabilityForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    applicable: String,
    #[serde(default)]
    justification: String,
}

async fn applicability(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(id): Path<String>,
    UiForm(f): UiForm<ApplicabilityForm>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    let a = Applicability {
        applicable: f.applicable == "yes",
        justification: Some(f.justification),
    };
    let result = st.app.set_applicability(&s.actor, &id, a).await;
    after_change(&st, &s, &id, result, "Applicability saved.").await
}

#[derive(Deserialize)]
struct MapForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    criterion: String,
}

async fn map(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(id): Path<String>,
    UiForm(f): UiForm<MapForm>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    let result = st.app.map_criterion(&s.actor, &id, &f.criterion).await;
    after_change(
        &st,
        &s,
        &id,
        result,
        format!("Mapped to {}.", f.criterion.trim().to_uppercase()),
    )
    .await
}

async fn unmap(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path((id, criterion)): Path<(String, String)>,
    UiForm(f): UiForm<CsrfOnly>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    let result = st.app.unmap_criterion(&s.actor, &id, &criterion).await;
    after_change(&st, &s, &id, result, format!("Unmapped {criterion}.")).await
}

// ---------- scope ----------

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The scope as the editor shows it (the inverse of `ScopeForm::to_scope`).
fn scope_form_ctx(sc: &Scope) -> Value {
    let opt = |d: Option<time::Date>| d.map(|d| d.to_string()).unwrap_or_default();
    let form = ScopeForm {
        csrf: String::new(),
        system_name: sc.system_name.clone(),
        description: sc.description.clone(),
        services: sc.services.join("\n"),
        components: sc
            .components
            .iter()
            .map(|c| format!("{} | {} | {}", c.name, c.kind, c.description))
            .collect::<Vec<_>>()
            .join("\n"),
        category: sc
            .categories
            .iter()
            .map(|c| c.as_str().to_string())
            .collect(),
        report_type: if sc.report_type == ReportType::Type1 {
            "type1"
        } else {
            "type2"
        }
        .into(),
        as_of: opt(sc.as_of),
        period_start: opt(sc.period_start),
        period_end: opt(sc.period_end),
        subservices: sc
            .subservices
            .iter()
            .map(|s| {
                format!(
                    "{} | {} | {} | {}",
                    s.name,
                    s.services,
                    s.method,
                    s.expected_controls.join("; ")
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        customer_controls: sc.customer_controls.join("\n"),
    };
    Value::from_serialize(&form)
}

fn categories_ctx() -> Vec<Value> {
    Category::ALL
        .iter()
        .map(|c| context! { id => c.as_str(), label => c.label(), fixed => *c == Category::Security, count => vouch_domain::criteria::soc2().in_category(*c).count() })
        .collect()
}

async fn scope_page(
    st: &AppState,
    s: &Session,
    form: Value,
    extra: Value,
    status: StatusCode,
) -> PageResult {
    let ctx = context! {
        form => form,
        all_categories => categories_ctx(),
        can_manage => permits(s.actor.role, Action::ManageScope),
        ..minijinja::value::merge_maps([extra, page(s, "Scope", "/scope")]),
    };
    let _ = st;
    Ok((status, views().render("scope.html", ctx)).into_response())
}

async fn scope(State(st): State<AppState>, UiUser(s): UiUser) -> PageResult {
    let sc = st.app.scope(&s.actor).await?;
    scope_page(&st, &s, scope_form_ctx(&sc), context! {}, StatusCode::OK).await
}

/// The scope editor's fields: lists as text (one item per line; components and subservice
/// organisations as `a | b | c` lines) and the categories as repeated checkboxes. Serialised
/// back into the form when it has errors, so nothing typed is lost.
#[derive(Deserialize, serde::Serialize, Default)]
#[serde(default)]
struct ScopeForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    system_name: String,
    description: String,
    services: String,
    components: String,
    #[serde(rename(serialize = "categories"))]
    category: Vec<String>,
    report_type: String,
    as_of: String,
    period_start: String,
    period_end: String,
    subservices: String,
    customer_controls: String,
}

fn pipe_fields(line: &str) -> Vec<String> {
    line.split('|').map(|p| p.trim().to_string()).collect()
}

impl ScopeForm {
    fn to_scope(&self) -> Result<Scope, AppError> {
        let mut errors = Vec::new();
        let mut date = |field: &str, v: &str| -> Option<time::Date> {
            let v = v.trim();
            if v.is_empty() {
                return None;
            }
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(v, fmt)
                .map_err(|_| {
                    errors.push(vouch_domain::validate::FieldError::new(
                        field,
                        format!("'{v}' is not a date (YYYY-MM-DD)"),
                    ))
                })
                .ok()
        };
        let as_of = date("as_of", &self.as_of);
        let period_start = date("period_start", &self.period_start);
        let period_end = date("period_end", &self.period_end);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let field = |p: &[String], i: usize| p.get(i).cloned().unwrap_or_default();
        Ok(Scope {
            system_name: self.system_name.trim().to_string(),
            description: self.description.trim().to_string(),
            services: lines(&self.services),
            components: lines(&self.components)
                .iter()
                .map(|l| {
                    let p = pipe_fields(l);
                    Component {
                        name: field(&p, 0),
                        kind: field(&p, 1),
                        description: field(&p, 2),
                    }
                })
                .collect(),
            categories: self
                .category
                .iter()
                .filter_map(|c| Category::parse(c))
                .filter(|c| *c != Category::Security)
                .collect(),
            report_type: if self.report_type == "type1" {
                ReportType::Type1
            } else {
                ReportType::Type2
            },
            as_of,
            period_start,
            period_end,
            subservices: lines(&self.subservices)
                .iter()
                .map(|l| {
                    let p = pipe_fields(l);
                    let method = Some(field(&p, 2)).filter(|m| !m.is_empty());
                    Subservice {
                        name: field(&p, 0),
                        services: field(&p, 1),
                        method: method.unwrap_or_else(|| "carved_out".into()),
                        expected_controls: field(&p, 3)
                            .split(';')
                            .map(str::trim)
                            .filter(|x| !x.is_empty())
                            .map(str::to_string)
                            .collect(),
                    }
                })
                .collect(),
            customer_controls: lines(&self.customer_controls),
        })
    }
}

async fn save_scope(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    UiForm(f): UiForm<ScopeForm>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    let result = match f.to_scope() {
        Ok(sc) => st.app.set_scope(&s.actor, sc).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(sc) => {
            let saved = flash(
                "ok",
                "Scope saved. Criteria of categories out of scope no longer count.",
            );
            scope_page(
                &st,
                &s,
                scope_form_ctx(&sc),
                context! { flash => saved },
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            let errors = form_errors(e)?;
            let echo = Value::from_serialize(&f);
            scope_page(
                &st,
                &s,
                echo,
                context! { errors => errors },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

// ---------- readiness ----------

async fn readiness(State(st): State<AppState>, UiUser(s): UiUser) -> PageResult {
    let r = st.app.readiness(&s.actor).await?;
    let sc = st.app.scope(&s.actor).await?;
    let names: std::collections::HashMap<String, String> = st
        .app
        .list_controls(&s.actor)
        .await?
        .into_iter()
        .map(|c| (c.control.id.clone(), c.control.name.clone()))
        .collect();
    let gaps: Vec<Value> = r
        .gaps
        .iter()
        .map(|g| match g {
            Gap::CriterionUncovered { criterion } => context! { kind => "No control addresses this criterion", href => format!("/criteria/{criterion}"), label => criterion, fix => "Adopt or write a control and map it" },
            Gap::ControlWithoutOwner { control } => context! { kind => "Control without an owner", href => format!("/controls/{control}"), label => control, name => names.get(control), fix => "Assign an owner" },
            Gap::ControlWithoutDescription { control } => context! { kind => "Control without a description", href => format!("/controls/{control}"), label => control, name => names.get(control), fix => "Describe what it does" },
            Gap::ControlWithoutProof { control } => context! { kind => "Nothing proves this control", href => format!("/controls/{control}"), label => control, name => names.get(control), fix => "Upload evidence or link a test" },
            Gap::ControlEvidenceOverdue { control } => context! { kind => "Evidence overdue for an occurrence", href => format!("/controls/{control}#evidence"), label => control, name => names.get(control), fix => "Upload evidence covering the missing period" },
        })
        .collect();
    let categories: Vec<Value> = r
        .categories
        .iter()
        .map(|c| context! { id => c.category.as_str(), label => c.category.label(), criteria => c.criteria, covered => c.covered, ready_pct => c.ready_pct, covered_pct => if c.criteria == 0 { 100 } else { c.covered * 100 / c.criteria } })
        .collect();
    let covered = r.criteria.iter().filter(|c| c.covered).count();
    let ctx = context! {
        r => r,
        gaps => gaps,
        categories => categories,
        covered => covered,
        system_name => sc.system_name,
        ..page(&s, "Readiness", "/readiness"),
    };
    Ok(views().render("readiness.html", ctx))
}

// ---------- export and import ----------

fn download(bytes: Vec<u8>, content_type: &'static str, file_name: String) -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (axum::http::header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

pub(crate) fn matrix_file_name(ext: &str, now: time::OffsetDateTime) -> String {
    format!("vouch-control-matrix-{}.{ext}", now.date())
}

pub(crate) async fn matrix_csv(
    st: &AppState,
    actor: &vouch_app::Actor,
) -> Result<Vec<u8>, AppError> {
    Ok(vouch_domain::control_io::to_csv(
        &st.app.control_matrix(actor).await?,
    ))
}

pub(crate) async fn matrix_xlsx(
    st: &AppState,
    actor: &vouch_app::Actor,
) -> Result<Vec<u8>, AppError> {
    let rows = st.app.control_matrix(actor).await?;
    let scope = st.app.scope(actor).await?;
    let now = vouch_domain::time_fmt::format(st.app.now());
    vouch_export::control_matrix_xlsx(&rows, &scope.system_name, &now)
        .map_err(|e| AppError::Conflict(format!("the workbook could not be written: {e}")))
}

async fn export_csv(State(st): State<AppState>, UiUser(s): UiUser) -> PageResult {
    let bytes = matrix_csv(&st, &s.actor).await?;
    Ok(download(
        bytes,
        "text/csv; charset=utf-8",
        matrix_file_name("csv", st.app.now()),
    ))
}

async fn export_xlsx(State(st): State<AppState>, UiUser(s): UiUser) -> PageResult {
    let bytes = matrix_xlsx(&st, &s.actor).await?;
    Ok(download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        matrix_file_name("xlsx", st.app.now()),
    ))
}

/// Upload of a CSV or YAML file (multipart field `file`, with `_csrf`).
async fn import(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    mut mp: axum::extract::Multipart,
) -> PageResult {
    let mut csrf = String::new();
    let mut file: Option<(Option<String>, Vec<u8>)> = None;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(PageError::show(
                    e.status(),
                    format!("The upload could not be read: {}", e.body_text()),
                ));
            }
        };
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(str::to_string);
        let data = field.bytes().await.map_err(|e| {
            PageError::show(
                e.status(),
                format!("The upload could not be read: {}", e.body_text()),
            )
        })?;
        match name.as_str() {
            "_csrf" => csrf = String::from_utf8_lossy(&data).into_owned(),
            "file" => file = Some((file_name, data.to_vec())),
            _ => {}
        }
    }
    check_csrf(&s, &csrf)?;
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        let errors =
            vec![context! { place => "file", message => "choose a CSV or YAML file to import" }];
        return controls_page(
            &st,
            &s,
            ControlsQuery::default(),
            context! { import_errors => errors },
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match st
        .app
        .import_controls(&s.actor, name.as_deref(), &bytes)
        .await
    {
        Ok(sum) => {
            let msg = format!(
                "Imported {}: {} created, {} updated, {} unchanged.",
                name.unwrap_or_else(|| "the file".into()),
                sum.created.len(),
                sum.updated.len(),
                sum.unchanged.len()
            );
            controls_page(
                &st,
                &s,
                ControlsQuery::default(),
                context! { flash => flash("ok", msg) },
                StatusCode::OK,
            )
            .await
        }
        Err(AppError::Validation(list)) => {
            let errors: Vec<Value> = list
                .into_iter()
                .map(|e| context! { place => e.field, message => e.message })
                .collect();
            let n = errors.len();
            controls_page(
                &st,
                &s,
                ControlsQuery::default(),
                context! { import_errors => errors, flash => flash("error", format!("Nothing was imported: {n} problem(s) in {}. Fix them and upload again.", name.unwrap_or_else(|| "the file".into()))) },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// The answer to a change made from a control's page: the page again, with a confirmation or
/// with the form's errors beside their fields.
async fn after_change(
    st: &AppState,
    s: &Session,
    id: &str,
    result: Result<vouch_app::controls::ControlView, AppError>,
    ok: impl Into<String>,
) -> PageResult {
    match result {
        Ok(_) => {
            control_page(
                st,
                s,
                id,
                context! { flash => flash("ok", ok.into()) },
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            let errors = form_errors(e)?;
            control_page(
                st,
                s,
                id,
                context! { errors => errors },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
