//! Collected resources in the UI: the resource list with counts and filters, one resource with
//! its history (when was this account disabled?), the import form, collection runs, and the
//! accounts with their owners, where unowned accounts are linked or marked service accounts.
use crate::collect_api::{import_request, resource_id, upload_kinds};
use crate::error::PageError;
use crate::evidence_pages::human_size;
use crate::evidence_upload::{self, UploadError};
use crate::extract::{UiForm, UiUser, check_csrf, csrf_failed};
use crate::state::AppState;
use crate::views::{flash, form_errors, page, views};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};
use serde::Deserialize;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use vouch_app::AppError;
use vouch_app::accounts::{AccountFilter, AccountView, LinkBasis, Owner};
use vouch_app::auth::Session;
use vouch_app::authz::{Action, permits};
use vouch_app::collect::{ImportKind, ResourceFilter, ResourceRecord, RunRecord};
use vouch_domain::resource::ResourceKind;

type PageResult = Result<Response, PageError>;

/// Resources per page of the list.
const PAGE_SIZE: i64 = 100;
/// Runs on the runs page.
const RUNS_SHOWN: i64 = 100;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/resources", get(resources))
        .route("/resources/{id}", get(resource))
        .route(
            "/imports/new",
            get(import_form)
                .post(import)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/runs", get(runs))
        .route("/runs/{id}", get(run))
        .route("/accounts", get(accounts))
        .route("/accounts/{id}/link", post(link))
        .route("/accounts/{id}/unlink", post(unlink))
}

/// A stored time (`2026-11-09T08:00:00.000000Z`) as people read it: `2026-11-09 08:00`.
fn when(s: &str) -> String {
    s.get(..16).unwrap_or(s).replace('T', " ")
}

/// An attribute's value as text: strings as themselves, anything else as JSON.
fn show(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => "—".into(),
        other => other.to_string(),
    }
}

fn blank(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn checked(v: &Option<String>) -> bool {
    matches!(
        v.as_deref().map(str::trim),
        Some("1" | "true" | "on" | "yes")
    )
}

fn import_kind_label(kind: &str) -> String {
    ImportKind::parse(kind)
        .map(|k| k.label().to_string())
        .unwrap_or_else(|| kind.to_string())
}

/// A query string from pairs, leaving out empty values.
fn query_string(pairs: &[(&str, String)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if !v.is_empty() {
            ser.append_pair(k, v);
        }
    }
    ser.finish()
}

/// A short description of a resource for a table row: its most telling attributes.
fn summary(r: &ResourceRecord) -> String {
    const TELLING: [&str; 8] = [
        "name", "title", "status", "active", "severity", "mfa", "admin", "state",
    ];
    TELLING
        .iter()
        .filter_map(|k| r.attrs.get(*k).map(|v| format!("{k}: {}", show(v))))
        .take(3)
        .collect::<Vec<_>>()
        .join(" · ")
}

// ---------- resources ----------

#[derive(Deserialize, Default)]
struct ResourcesQuery {
    kind: Option<String>,
    system: Option<String>,
    q: Option<String>,
    deleted: Option<String>,
    page: Option<String>,
}

async fn resources(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Query(q): Query<ResourcesQuery>,
) -> PageResult {
    let kind = blank(&q.kind);
    let system = blank(&q.system);
    let search = blank(&q.q);
    let deleted = checked(&q.deleted);
    let page_no = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<i64>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let counts = st.app.resource_counts(&s.actor).await?;
    let filter = ResourceFilter {
        kind: kind.clone(),
        system: system.clone(),
        key_contains: search.clone(),
        include_deleted: deleted,
        limit: Some(PAGE_SIZE),
        offset: (page_no - 1) * PAGE_SIZE,
    };
    let (items, total) = st.app.list_resources(&s.actor, &filter).await?;
    let rows: Vec<Value> = items
        .iter()
        .map(|r| {
            context! {
                id => r.id,
                kind => r.kind,
                system => r.system,
                key => r.key,
                summary => summary(r),
                version => r.version,
                last_seen => when(&r.last_seen),
                deleted_at => r.deleted_at.as_deref().map(when),
            }
        })
        .collect();
    let systems: BTreeSet<&str> = counts.iter().map(|c| c.1.as_str()).collect();
    let count_rows: Vec<Value> = counts
        .iter()
        .map(|(k, sys, n)| {
            context! {
                kind => k,
                system => sys,
                count => n,
                href => format!("/resources?{}", query_string(&[("kind", k.clone()), ("system", sys.clone())])),
            }
        })
        .collect();
    let base = |p: i64| {
        format!(
            "/resources?{}",
            query_string(&[
                ("kind", kind.clone().unwrap_or_default()),
                ("system", system.clone().unwrap_or_default()),
                ("q", search.clone().unwrap_or_default()),
                ("deleted", if deleted { "1".into() } else { String::new() }),
                ("page", p.to_string()),
            ])
        )
    };
    let last_page = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let first_shown = if items.is_empty() {
        0
    } else {
        (page_no - 1) * PAGE_SIZE + 1
    };
    let ctx = context! {
        rows => rows,
        counts => count_rows,
        current_total => counts.iter().map(|c| c.2).sum::<i64>(),
        kinds => ResourceKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        systems => systems.into_iter().collect::<Vec<_>>(),
        q => context! { kind => kind, system => system, q => search, deleted => deleted },
        filtered => kind.is_some() || system.is_some() || search.is_some() || deleted,
        total => total,
        page_no => page_no,
        last_page => last_page,
        first_shown => first_shown,
        last_shown => first_shown + items.len() as i64 - i64::from(!items.is_empty()),
        prev => (page_no > 1).then(|| base(page_no - 1)),
        next => (page_no < last_page).then(|| base(page_no + 1)),
        can_collect => permits(s.actor.role, Action::CollectResources),
        ..page(&s, "Resources", "/resources")
    };
    Ok(views().render("resources.html", ctx).into_response())
}

/// What changed between two states: (attribute, before, after) for every difference.
fn diff(
    before: &serde_json::Map<String, Json>,
    after: &serde_json::Map<String, Json>,
) -> Vec<Value> {
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| {
            context! {
                key => k,
                before => before.get(k).map(show),
                after => after.get(k).map(show),
            }
        })
        .collect()
}

async fn resource(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(id): Path<String>,
) -> PageResult {
    let id = resource_id(&id)?;
    let (r, versions) = st.app.resource(&s.actor, id).await?;
    // The runs that saw each version, for the link to their raw files.
    let mut runs: BTreeMap<String, Option<RunRecord>> = BTreeMap::new();
    for v in &versions {
        if !runs.contains_key(&v.run_id) {
            let run = st.app.run(&s.actor, &v.run_id).await.ok();
            runs.insert(v.run_id.clone(), run);
        }
    }
    let empty = serde_json::Map::new();
    let mut history: Vec<Value> = versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let before = if i == 0 {
                &empty
            } else {
                &versions[i - 1].attrs
            };
            let evidence = runs
                .get(&v.run_id)
                .and_then(|r| r.as_ref())
                .and_then(|r| r.evidence_id.clone());
            context! {
                version => v.version,
                change => v.change,
                valid_from => when(&v.valid_from),
                valid_to => v.valid_to.as_deref().map(when),
                run_id => v.run_id,
                evidence_id => evidence,
                changes => diff(before, &v.attrs),
            }
        })
        .collect();
    history.reverse();
    let attrs: Vec<Value> = r
        .attrs
        .iter()
        .map(|(k, v)| context! { key => k, value => show(v) })
        .collect();
    let last_run = runs.get(&r.last_run_id).cloned().flatten();
    let title = format!("{} {}", r.kind.replace('_', " "), r.key);
    let ctx = context! {
        r => context! {
            id => r.id,
            kind => r.kind,
            system => r.system,
            key => r.key,
            scope => r.scope,
            version => r.version,
            first_seen => when(&r.first_seen),
            last_seen => when(&r.last_seen),
            deleted_at => r.deleted_at.as_deref().map(when),
            last_run_id => r.last_run_id,
            last_run_evidence => last_run.and_then(|run| run.evidence_id),
            is_account => r.kind == ResourceKind::Account.as_str(),
        },
        attrs => attrs,
        history => history,
        ..page(&s, &title, "/resources")
    };
    Ok(views().render("resource.html", ctx).into_response())
}

// ---------- imports ----------

async fn import_form(State(st): State<AppState>, UiUser(s): UiUser) -> PageResult {
    // Whoever may not import is told so here, not after choosing files.
    st.app.authorize(&s.actor, Action::CollectResources)?;
    import_page(&st, &s, context! {}, Value::UNDEFINED, StatusCode::OK).await
}

async fn import_page(
    st: &AppState,
    s: &Session,
    form: Value,
    extra: Value,
    status: StatusCode,
) -> PageResult {
    let choices = crate::evidence_pages::control_choices(st, s).await?;
    let kinds: Vec<Value> = upload_kinds()
        .map(|k| context! { value => k.as_str(), label => k.label() })
        .collect();
    let ctx = context! {
        form => form,
        kinds => kinds,
        choices => choices,
        max_size => human_size(st.app.evidence_max_bytes()),
        ..minijinja::value::merge_maps([extra, page(s, "Import files", "/runs")]),
    };
    Ok((status, views().render("import_new.html", ctx)).into_response())
}

/// Field errors beside their fields; a too-large file on the file input; anything else (a
/// role that may not import) as an error page.
fn refused(e: AppError) -> Result<(Value, StatusCode), PageError> {
    let status = crate::error::status_of(&e).0;
    let errors = match e {
        AppError::TooLarge { .. } => context! { files => e.to_string() },
        other => {
            let errors = form_errors(other)?;
            // The importer's fields are called `files` and `file`; the form has one input.
            match errors.get_attr("file") {
                Ok(v) if !v.is_undefined() => context! { files => v },
                _ => errors,
            }
        }
    };
    Ok((
        context! { errors => errors, flash => flash("error", "Nothing was imported: fix what is marked below and choose the files again.") },
        status,
    ))
}

async fn import(State(st): State<AppState>, UiUser(s): UiUser, mp: Multipart) -> PageResult {
    st.app.authorize(&s.actor, Action::CollectResources)?;
    let up = match evidence_upload::read(&st.app, &s.actor, mp, Some(&s.csrf_token)).await {
        Ok(up) => up,
        Err(UploadError::Csrf) => return Err(csrf_failed()),
        Err(UploadError::App(e)) => {
            let (extra, status) = refused(e)?;
            return import_page(&st, &s, context! {}, extra, status).await;
        }
    };
    let form = context! { kind => up.text("kind"), controls => up.list("controls") };
    let result = match import_request(up) {
        Ok(req) => st.app.import_files(&s.actor, req).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(run) => Ok(Redirect::to(&format!("/runs/{}?imported=1", run.id)).into_response()),
        Err(e) => {
            let (extra, status) = refused(e)?;
            import_page(&st, &s, form, extra, status).await
        }
    }
}

// ---------- runs ----------

fn count(run: &RunRecord, name: &str) -> i64 {
    run.counts.get(name).and_then(Json::as_i64).unwrap_or(0)
}

fn run_row(r: &RunRecord) -> Value {
    context! {
        id => r.id,
        status => r.status,
        source => r.source,
        kind => r.kind,
        kind_label => import_kind_label(&r.kind),
        system => r.system,
        scope => r.scope,
        trigger => r.trigger,
        by => r.started_by_label,
        started_at => when(&r.started_at),
        finished_at => when(&r.finished_at),
        error => r.error,
        warnings => r.warnings,
        collector_version => r.collector_version,
        evidence_id => r.evidence_id,
        counts => ["total", "added", "changed", "unchanged", "deleted", "restored"]
            .iter()
            .map(|n| context! { name => n, value => count(r, n) })
            .collect::<Vec<_>>(),
        total => count(r, "total"),
        added => count(r, "added"),
        changed => count(r, "changed"),
        deleted => count(r, "deleted"),
        restored => count(r, "restored"),
    }
}

async fn runs(State(st): State<AppState>, UiUser(s): UiUser) -> PageResult {
    let list = st.app.list_runs(&s.actor, None, RUNS_SHOWN).await?;
    let ctx = context! {
        runs => list.iter().map(run_row).collect::<Vec<_>>(),
        can_collect => permits(s.actor.role, Action::CollectResources),
        ..page(&s, "Collection runs", "/runs")
    };
    Ok(views().render("runs.html", ctx).into_response())
}

#[derive(Deserialize, Default)]
struct RunQuery {
    imported: Option<String>,
}

async fn run(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(id): Path<String>,
    Query(q): Query<RunQuery>,
) -> PageResult {
    let r = st.app.run(&s.actor, &id).await?;
    let extra = if q.imported.is_some() && r.status == "succeeded" {
        context! { flash => flash("ok", format!("Imported {} resources from {}.", count(&r, "total"), r.system.as_deref().unwrap_or("the files"))) }
    } else {
        Value::UNDEFINED
    };
    let ctx = context! {
        run => run_row(&r),
        can_collect => permits(s.actor.role, Action::CollectResources),
        ..minijinja::value::merge_maps([extra, page(&s, &r.id, "/runs")]),
    };
    Ok(views().render("run.html", ctx).into_response())
}

// ---------- accounts ----------

#[derive(Deserialize, Default, Clone)]
struct AccountsQuery {
    system: Option<String>,
    unlinked: Option<String>,
    deleted: Option<String>,
    saved: Option<String>,
    removed: Option<String>,
}

/// The filter of the accounts page, carried through its forms.
#[derive(Clone, Default)]
struct AccountsView {
    system: Option<String>,
    unlinked: bool,
    deleted: bool,
}

impl AccountsView {
    fn href(&self, extra: Option<(&str, &str)>) -> String {
        let mut pairs = vec![
            ("system", self.system.clone().unwrap_or_default()),
            (
                "unlinked",
                if self.unlinked {
                    "1".into()
                } else {
                    String::new()
                },
            ),
            (
                "deleted",
                if self.deleted {
                    "1".into()
                } else {
                    String::new()
                },
            ),
        ];
        if let Some((k, v)) = extra {
            pairs.push((k, v.to_string()));
        }
        let q = query_string(&pairs);
        if q.is_empty() {
            "/accounts".into()
        } else {
            format!("/accounts?{q}")
        }
    }
}

async fn accounts(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Query(q): Query<AccountsQuery>,
) -> PageResult {
    let view = AccountsView {
        system: blank(&q.system),
        unlinked: checked(&q.unlinked),
        deleted: checked(&q.deleted),
    };
    let extra = if q.saved.is_some() {
        context! { flash => flash("ok", "The owner is saved.") }
    } else if q.removed.is_some() {
        context! { flash => flash("ok", "The manual link is removed; the account is linked automatically again where it can be.") }
    } else {
        Value::UNDEFINED
    };
    accounts_page(&st, &s, &view, extra, StatusCode::OK).await
}

fn basis_label(b: &LinkBasis) -> &'static str {
    match b {
        LinkBasis::Manual => "linked by hand",
        LinkBasis::Email => "same email",
        LinkBasis::Username => "same user name",
    }
}

fn account_row(a: &AccountView) -> Value {
    let r = &a.account;
    let attr = |k: &str| r.attrs.get(k).filter(|v| !v.is_null()).map(show);
    let owner = match &a.owner {
        Owner::Person {
            email,
            name,
            status,
            on_roster,
            basis,
        } => context! {
            kind => "person",
            email => email,
            name => name,
            status => status,
            on_roster => on_roster,
            basis => basis_label(basis),
        },
        Owner::Service { note } => context! { kind => "service", note => note },
        Owner::Unlinked => context! { kind => "unlinked" },
    };
    context! {
        id => r.id,
        key => r.key,
        system => r.system,
        username => attr("username"),
        email => attr("email"),
        active => attr("active"),
        mfa => attr("mfa"),
        admin => attr("admin"),
        deleted_at => r.deleted_at.as_deref().map(when),
        owner => owner,
        manual => a.link.is_some(),
        link_by => a.link.as_ref().map(|l| l.set_by.clone()),
        link_at => a.link.as_ref().map(|l| when(&l.set_at)),
    }
}

async fn accounts_page(
    st: &AppState,
    s: &Session,
    view: &AccountsView,
    extra: Value,
    status: StatusCode,
) -> PageResult {
    let filter = AccountFilter {
        system: view.system.clone(),
        unlinked: view.unlinked,
        include_deleted: view.deleted,
    };
    let list = st.app.accounts(&s.actor, &filter).await?;
    let systems: BTreeSet<String> = st
        .app
        .resource_counts(&s.actor)
        .await?
        .into_iter()
        .filter(|c| c.0 == ResourceKind::Account.as_str())
        .map(|c| c.1)
        .collect();
    let unlinked_count = list.iter().filter(|a| a.owner == Owner::Unlinked).count();
    let ctx = context! {
        rows => list.iter().map(account_row).collect::<Vec<_>>(),
        unlinked_count => unlinked_count,
        systems => systems,
        q => context! { system => view.system, unlinked => view.unlinked, deleted => view.deleted },
        filtered => view.system.is_some() || view.unlinked || view.deleted,
        can_collect => permits(s.actor.role, Action::CollectResources),
        ..minijinja::value::merge_maps([extra, page(s, "Accounts", "/accounts")]),
    };
    Ok((status, views().render("accounts.html", ctx)).into_response())
}

#[derive(Deserialize)]
struct LinkForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    /// `person` or `service`.
    mode: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    f_system: String,
    #[serde(default)]
    f_unlinked: String,
    #[serde(default)]
    f_deleted: String,
}

fn view_of(system: &str, unlinked: &str, deleted: &str) -> AccountsView {
    AccountsView {
        system: Some(system.trim().to_string()).filter(|s| !s.is_empty()),
        unlinked: checked(&Some(unlinked.to_string())),
        deleted: checked(&Some(deleted.to_string())),
    }
}

async fn link(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(id): Path<String>,
    UiForm(f): UiForm<LinkForm>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    let id = resource_id(&id)?;
    let view = view_of(&f.f_system, &f.f_unlinked, &f.f_deleted);
    let service = f.mode == "service";
    let email = f.email.trim();
    let result = if !service && email.is_empty() {
        Err(AppError::field(
            "person",
            "type the email of the person who owns it",
        ))
    } else {
        st.app
            .link_account(&s.actor, id, (!service).then_some(email), &f.note)
            .await
            .map(|_| ())
    };
    match result {
        Ok(()) => Ok(Redirect::to(&view.href(Some(("saved", "1")))).into_response()),
        Err(e @ AppError::Validation(_)) => {
            let status = crate::error::status_of(&e).0;
            let message = match &e {
                AppError::Validation(list) => list
                    .iter()
                    .map(|f| f.message.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
                _ => unreachable!(),
            };
            let extra = context! {
                row_error => context! {
                    id => id,
                    mode => if service { "service" } else { "person" },
                    message => message,
                    email => f.email,
                    note => f.note,
                },
                flash => flash("error", "The owner was not saved: see the account marked below."),
            };
            accounts_page(&st, &s, &view, extra, status).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct UnlinkForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    f_system: String,
    #[serde(default)]
    f_unlinked: String,
    #[serde(default)]
    f_deleted: String,
}

async fn unlink(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(id): Path<String>,
    UiForm(f): UiForm<UnlinkForm>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    let id = resource_id(&id)?;
    let view = view_of(&f.f_system, &f.f_unlinked, &f.f_deleted);
    st.app.unlink_account(&s.actor, id).await?;
    Ok(Redirect::to(&view.href(Some(("removed", "1")))).into_response())
}
