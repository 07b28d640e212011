//! Integrations in the UI: the list with each one's last run, the form that creates or changes
//! one (a field per setting of the chosen kind, the credential in a password field that is
//! never filled in), and an integration's page with its settings, schedule, "Run now", the last
//! run's error when it failed, and its recent runs.
use crate::error::PageError;
use crate::extract::{CsrfOnly, UiForm, UiUser, check_csrf};
use crate::state::AppState;
use crate::views::{flash, page, views};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};
use serde::Deserialize;
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;
use vouch_app::AppError;
use vouch_app::auth::Session;
use vouch_app::authz::{Action, permits};
use vouch_app::collect::RunRecord;
use vouch_app::integrations::{IntegrationInput, IntegrationView, Trigger};

type PageResult = Result<Response, PageError>;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/integrations", get(list))
        .route("/integrations/new", get(new_form).post(create))
        .route("/integrations/{name}", get(one))
        .route("/integrations/{name}/edit", get(edit_form).post(update))
        .route("/integrations/{name}/run", post(run_now))
        .route("/integrations/{name}/delete", post(remove))
}

// ---------- the kinds and their settings ----------

/// A setting that has a field of its own in the form.
struct Field {
    /// The key in the settings object.
    key: &'static str,
    label: &'static str,
    placeholder: &'static str,
    hint: &'static str,
    required: bool,
}

struct Kind {
    kind: &'static str,
    label: &'static str,
    fields: &'static [Field],
    /// What the credential is for this kind.
    secret: &'static str,
}

const KINDS: &[Kind] = &[
    Kind {
        kind: "github",
        label: "GitHub",
        fields: &[
            Field {
                key: "org",
                label: "Organisation",
                placeholder: "acme",
                hint: "The organisation's login, as in github.com/acme.",
                required: true,
            },
            Field {
                key: "api_url",
                label: "API URL",
                placeholder: "https://github.example.com/api/v3/",
                hint: "Only for GitHub Enterprise Server; empty reads api.github.com.",
                required: false,
            },
        ],
        secret: "a personal access token that can read the organisation's members and repositories (for a GitHub App: its private key, with app_id and installation_id under more settings).",
    },
    Kind {
        kind: "okta",
        label: "Okta",
        fields: &[Field {
            key: "url",
            label: "Org URL",
            placeholder: "https://acme.okta.com",
            hint: "Your Okta org's address (a custom domain works too).",
            required: true,
        }],
        secret: "an API token, created under Security → API → Tokens.",
    },
    Kind {
        kind: "google_workspace",
        label: "Google Workspace",
        fields: &[
            Field {
                key: "admin_email",
                label: "Admin email",
                placeholder: "it-admin@acme.com",
                hint: "The administrator the service account acts as.",
                required: true,
            },
            Field {
                key: "api_url",
                label: "API URL",
                placeholder: "https://admin.googleapis.com/",
                hint: "Empty reads Google's Admin SDK.",
                required: false,
            },
        ],
        secret: "the service account's JSON key, whole, as Google Cloud downloads it.",
    },
    Kind {
        kind: "aws",
        label: "AWS",
        fields: &[
            Field {
                key: "region",
                label: "Region",
                placeholder: "eu-west-1",
                hint: "The region whose services are read (IAM is global).",
                required: true,
            },
            Field {
                key: "access_key_id",
                label: "Access key ID",
                placeholder: "AKIAIOSFODNN7EXAMPLE",
                hint: "Of a user or role with read-only access (SecurityAudit).",
                required: true,
            },
            Field {
                key: "endpoint",
                label: "Endpoint",
                placeholder: "http://127.0.0.1:5000",
                hint: "Only for an emulator or a private endpoint; empty uses AWS's own.",
                required: false,
            },
        ],
        secret: "the secret access key that goes with the access key ID.",
    },
];

fn kind_of(kind: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.kind == kind)
}

/// A setting's form field: `github_org`, `aws_access_key_id`.
fn field_name(kind: &Kind, f: &Field) -> String {
    format!("{}_{}", kind.kind, f.key)
}

fn kind_ctx(k: &Kind) -> Value {
    context! {
        kind => k.kind,
        label => k.label,
        secret => k.secret,
        fields => k.fields.iter().map(|f| context! {
            name => field_name(k, f),
            label => f.label,
            placeholder => f.placeholder,
            hint => f.hint,
            required => f.required,
        }).collect::<Vec<_>>(),
    }
}

// ---------- shared helpers ----------

/// A stored time (`2026-11-23T16:40:00.000000Z`) as people read it: `2026-11-23 16:40 UTC`.
fn when(s: &str) -> String {
    format!("{} UTC", s.get(..16).unwrap_or(s).replace('T', " "))
}

fn schedule_text(minutes: Option<i64>) -> String {
    match minutes {
        Some(m) => format!("every {m} min"),
        None => "on demand".into(),
    }
}

/// A setting's value as text: strings as themselves, anything else as JSON.
fn show(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn count(run: &RunRecord, name: &str) -> i64 {
    run.counts.get(name).and_then(Json::as_i64).unwrap_or(0)
}

fn run_ctx(r: &RunRecord) -> Value {
    context! {
        id => r.id,
        status => r.status,
        trigger => r.trigger,
        by => r.started_by_label,
        started_at => when(&r.started_at),
        error => r.error,
        total => count(r, "total"),
        added => count(r, "added"),
        changed => count(r, "changed"),
        deleted => count(r, "deleted"),
        restored => count(r, "restored"),
    }
}

// ---------- the list ----------

#[derive(Deserialize, Default)]
struct ListQuery {
    removed: Option<String>,
}

async fn list(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let all = st.app.integrations(&s.actor).await?;
    let rows: Vec<Value> = all
        .iter()
        .map(|v| {
            let i = &v.integration;
            context! {
                name => i.name,
                label => v.label,
                schedule => schedule_text(i.schedule_minutes),
                enabled => i.enabled,
                last_run => v.last_run.as_ref().map(run_ctx),
            }
        })
        .collect();
    let extra = match q.removed.filter(|r| !r.is_empty()) {
        Some(name) => {
            context! { flash => flash("ok", format!("Integration {name} removed. Its runs and the resources it collected remain.")) }
        }
        None => Value::UNDEFINED,
    };
    let ctx = context! {
        rows => rows,
        can_manage => permits(s.actor.role, Action::ManageIntegrations),
        ..minijinja::value::merge_maps([extra, page(&s, "Integrations", "/integrations")]),
    };
    Ok(views().render("integrations.html", ctx).into_response())
}

// ---------- one integration ----------

#[derive(Deserialize, Default)]
struct OneQuery {
    created: Option<String>,
    saved: Option<String>,
    ran: Option<String>,
}

async fn one(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(name): Path<String>,
    Query(q): Query<OneQuery>,
) -> PageResult {
    let (view, runs) = st.app.integration(&s.actor, &name).await?;
    let i = &view.integration;
    let ran = q
        .ran
        .as_deref()
        .and_then(|id| runs.iter().find(|r| r.id == id));
    let extra = if let Some(r) = ran.filter(|r| r.status == "succeeded") {
        context! { flash => flash("ok", format!(
            "{} succeeded: {} resources read ({} added, {} changed, {} deleted).",
            r.id, count(r, "total"), count(r, "added"), count(r, "changed"), count(r, "deleted"),
        )) }
    } else if q.created.is_some() {
        context! { flash => flash("ok", format!("Integration {} created. Run it now to check the settings and the credential.", i.name)) }
    } else if q.saved.is_some() {
        context! { flash => flash("ok", format!("Integration {} saved.", i.name)) }
    } else {
        Value::UNDEFINED
    };
    // The kind's own settings in the form's order, then any others by name.
    let mut rest = i.settings.as_object().cloned().unwrap_or_default();
    let mut settings: Vec<Value> = vec![];
    if let Some(k) = kind_of(&i.kind) {
        for f in k.fields {
            if let Some(v) = rest.remove(f.key) {
                settings.push(context! { key => f.key, label => f.label, value => show(&v) });
            }
        }
    }
    settings.extend(
        rest.iter()
            .map(|(k, v)| context! { key => k, label => Value::UNDEFINED, value => show(v) }),
    );
    let now = vouch_domain::time_fmt::format(st.app.now());
    let next_run = match (i.schedule_minutes, i.enabled, i.next_run_at.as_deref()) {
        (None, _, _) => "only when run by hand".to_string(),
        (Some(_), false, _) => "none: the integration is disabled".to_string(),
        (Some(_), true, Some(at)) if at <= now.as_str() => "due now".to_string(),
        (Some(_), true, Some(at)) => when(at),
        (Some(_), true, None) => "not scheduled yet".to_string(),
    };
    let last_failed = view
        .last_run
        .as_ref()
        .filter(|r| r.status != "succeeded")
        .map(run_ctx);
    let ctx = context! {
        i => context! {
            name => i.name,
            kind => i.kind,
            label => view.label,
            has_secret => i.has_secret,
            schedule => schedule_text(i.schedule_minutes),
            next_run => next_run,
            enabled => i.enabled,
            controls => i.controls,
            created_at => when(&i.created_at),
            updated_at => when(&i.updated_at),
        },
        settings => settings,
        last_failed => last_failed,
        runs => runs.iter().map(run_ctx).collect::<Vec<_>>(),
        can_collect => permits(s.actor.role, Action::CollectResources),
        can_manage => permits(s.actor.role, Action::ManageIntegrations),
        ..minijinja::value::merge_maps([extra, page(&s, &i.name, "/integrations")]),
    };
    Ok(views().render("integration.html", ctx).into_response())
}

async fn run_now(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(name): Path<String>,
    UiForm(f): UiForm<CsrfOnly>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    let run = st
        .app
        .run_integration(&s.actor, &name, Trigger::Manual)
        .await?;
    Ok(Redirect::to(&format!(
        "/integrations/{}?ran={}",
        crate::error::urlencode(&name),
        crate::error::urlencode(&run.id)
    ))
    .into_response())
}

async fn remove(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(name): Path<String>,
    UiForm(f): UiForm<CsrfOnly>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    st.app.delete_integration(&s.actor, &name).await?;
    Ok(Redirect::to(&format!(
        "/integrations?removed={}",
        crate::error::urlencode(name.trim())
    ))
    .into_response())
}

// ---------- the form ----------

/// The form as posted: every field by name (the last value of a repeated one).
struct Posted(BTreeMap<String, String>);

impl Posted {
    fn new(pairs: Vec<(String, String)>) -> Posted {
        Posted(pairs.into_iter().collect())
    }

    fn raw(&self, name: &str) -> String {
        self.0.get(name).cloned().unwrap_or_default()
    }

    fn text(&self, name: &str) -> String {
        self.raw(name).trim().to_string()
    }
}

/// The values the form shows, as typed (never the credential).
#[derive(Default)]
struct FormValues {
    name: String,
    kind: String,
    values: BTreeMap<String, String>,
    extra_settings: String,
    schedule_minutes: String,
    enabled: bool,
    controls: String,
}

impl FormValues {
    fn ctx(&self) -> Value {
        context! {
            name => self.name,
            kind => self.kind,
            values => self.values,
            extra_settings => self.extra_settings,
            schedule_minutes => self.schedule_minutes,
            enabled => self.enabled,
            controls => self.controls,
        }
    }

    fn from_posted(p: &Posted, name: String, kind: String) -> FormValues {
        let values = KINDS
            .iter()
            .flat_map(|k| k.fields.iter().map(move |f| field_name(k, f)))
            .map(|n| (n.clone(), p.raw(&n)))
            .collect();
        FormValues {
            name,
            kind,
            values,
            extra_settings: p.raw("extra_settings"),
            schedule_minutes: p.raw("schedule_minutes"),
            enabled: p.0.contains_key("enabled"),
            controls: p.raw("controls"),
        }
    }

    /// An integration's stored values: the settings with a field go to their fields, the rest
    /// to "more settings" as JSON.
    fn from_view(v: &IntegrationView) -> FormValues {
        let i = &v.integration;
        let mut rest = i.settings.as_object().cloned().unwrap_or_default();
        let mut values = BTreeMap::new();
        if let Some(k) = kind_of(&i.kind) {
            for f in k.fields {
                if let Some(Json::String(s)) = rest.get(f.key) {
                    values.insert(field_name(k, f), s.clone());
                    rest.remove(f.key);
                }
            }
        }
        FormValues {
            name: i.name.clone(),
            kind: i.kind.clone(),
            values,
            extra_settings: if rest.is_empty() {
                String::new()
            } else {
                serde_json::to_string_pretty(&Json::Object(rest)).unwrap_or_default()
            },
            schedule_minutes: i
                .schedule_minutes
                .map(|m| m.to_string())
                .unwrap_or_default(),
            enabled: i.enabled,
            controls: i.controls.join(", "),
        }
    }
}

/// Field errors for the form, several messages for one field joined.
#[derive(Default)]
struct Errors(BTreeMap<String, String>);

impl Errors {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let message = message.into();
        self.0
            .entry(field.into())
            .and_modify(|m| {
                m.push(' ');
                m.push_str(&message);
            })
            .or_insert(message);
    }
}

/// Reads the posted form into the app's input. Problems only the form can have (more settings
/// that are not a JSON object, a schedule that is not a number) are errors of their own.
fn input_from(p: &Posted, name: &str, kind: &str) -> Result<IntegrationInput, Errors> {
    let mut errors = Errors::default();
    let extra = p.text("extra_settings");
    let mut settings = if extra.is_empty() {
        Map::new()
    } else {
        match serde_json::from_str::<Json>(&extra) {
            Ok(Json::Object(o)) => o,
            Ok(_) => {
                errors.add(
                    "extra_settings",
                    "give a JSON object, such as {\"app_id\": \"123\"}",
                );
                Map::new()
            }
            Err(e) => {
                errors.add("extra_settings", format!("this is not JSON: {e}"));
                Map::new()
            }
        }
    };
    if let Some(k) = kind_of(kind) {
        for f in k.fields {
            let v = p.text(&field_name(k, f));
            if !v.is_empty() {
                settings.insert(f.key.to_string(), Json::String(v));
            }
        }
    }
    let schedule = p.text("schedule_minutes");
    let schedule_minutes = if schedule.is_empty() {
        None
    } else {
        match schedule.parse::<i64>() {
            Ok(m) => Some(m),
            Err(_) => {
                errors.add(
                    "schedule_minutes",
                    "give a whole number of minutes, or leave it empty to run only on demand",
                );
                None
            }
        }
    };
    if !errors.0.is_empty() {
        return Err(errors);
    }
    let secret = p.raw("secret");
    Ok(IntegrationInput {
        name: name.to_string(),
        kind: kind.to_string(),
        settings: Json::Object(settings),
        secret: Some(secret).filter(|s| !s.trim().is_empty()),
        schedule_minutes,
        enabled: p.0.contains_key("enabled"),
        controls: p
            .text("controls")
            .split(',')
            .map(|c| c.trim().to_uppercase())
            .filter(|c| !c.is_empty())
            .collect(),
    })
}

/// The app's refusal as errors beside the form's fields: a required setting that is missing
/// goes to its own field, any other settings problem beside "more settings".
fn app_errors(e: AppError, kind: &str) -> Result<Errors, PageError> {
    let AppError::Validation(list) = e else {
        return Err(e.into());
    };
    let mut errors = Errors::default();
    for f in list {
        if f.field == "settings"
            && let Some(k) = kind_of(kind)
            && let Some(field) = k
                .fields
                .iter()
                .find(|x| f.message.contains(&format!("missing field `{}`", x.key)))
        {
            errors.add(
                field_name(k, field),
                format!("{} is required.", field.label),
            );
        } else {
            errors.add(f.field, f.message);
        }
    }
    Ok(errors)
}

/// Renders the form: `existing` is the integration being changed (none when creating).
fn form_page(
    s: &Session,
    existing: Option<&IntegrationView>,
    form: &FormValues,
    errors: Option<&Errors>,
    status: StatusCode,
) -> PageResult {
    let kinds: Vec<Value> = match existing.and_then(|v| kind_of(&v.integration.kind)) {
        Some(k) => vec![kind_ctx(k)],
        None => KINDS.iter().map(kind_ctx).collect(),
    };
    let (title, action) = match existing {
        Some(v) => (
            format!("Change {}", v.integration.name),
            format!("/integrations/{}/edit", v.integration.name),
        ),
        None => (
            "New integration".to_string(),
            "/integrations/new".to_string(),
        ),
    };
    let extra = match errors {
        Some(e) => context! {
            errors => e.0,
            flash => flash("error", "Nothing was saved: fix the fields marked below. The credential was not kept; type it again if you gave one."),
        },
        None => Value::UNDEFINED,
    };
    let ctx = context! {
        form => form.ctx(),
        kinds => kinds,
        editing => existing.is_some(),
        has_secret => existing.is_some_and(|v| v.integration.has_secret),
        kind_label => existing.map(|v| v.label),
        action => action,
        ..minijinja::value::merge_maps([extra, page(s, &title, "/integrations")]),
    };
    Ok((status, views().render("integration_form.html", ctx)).into_response())
}

async fn new_form(State(st): State<AppState>, UiUser(s): UiUser) -> PageResult {
    st.app.authorize(&s.actor, Action::ManageIntegrations)?;
    let form = FormValues {
        kind: "github".into(),
        enabled: true,
        ..FormValues::default()
    };
    form_page(&s, None, &form, None, StatusCode::OK)
}

async fn create(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    UiForm(pairs): UiForm<Vec<(String, String)>>,
) -> PageResult {
    let p = Posted::new(pairs);
    check_csrf(&s, &p.raw("_csrf"))?;
    st.app.authorize(&s.actor, Action::ManageIntegrations)?;
    let name = p.text("name");
    let kind = p.text("kind");
    let form = FormValues::from_posted(&p, name.clone(), kind.clone());
    let input = match input_from(&p, &name, &kind) {
        Ok(i) => i,
        Err(errors) => {
            return form_page(
                &s,
                None,
                &form,
                Some(&errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    match st.app.put_integration(&s.actor, input).await {
        Ok(r) => Ok(Redirect::to(&format!(
            "/integrations/{}?created=1",
            crate::error::urlencode(&r.name)
        ))
        .into_response()),
        Err(e) => {
            let errors = app_errors(e, &kind)?;
            form_page(
                &s,
                None,
                &form,
                Some(&errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

async fn edit_form(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(name): Path<String>,
) -> PageResult {
    st.app.authorize(&s.actor, Action::ManageIntegrations)?;
    let (view, _) = st.app.integration(&s.actor, &name).await?;
    form_page(
        &s,
        Some(&view),
        &FormValues::from_view(&view),
        None,
        StatusCode::OK,
    )
}

async fn update(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(name): Path<String>,
    UiForm(pairs): UiForm<Vec<(String, String)>>,
) -> PageResult {
    let p = Posted::new(pairs);
    check_csrf(&s, &p.raw("_csrf"))?;
    st.app.authorize(&s.actor, Action::ManageIntegrations)?;
    let (view, _) = st.app.integration(&s.actor, &name).await?;
    // The name and the kind are the stored ones: neither changes here.
    let name = view.integration.name.clone();
    let kind = view.integration.kind.clone();
    let form = FormValues::from_posted(&p, name.clone(), kind.clone());
    let input = match input_from(&p, &name, &kind) {
        Ok(i) => i,
        Err(errors) => {
            return form_page(
                &s,
                Some(&view),
                &form,
                Some(&errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    match st.app.put_integration(&s.actor, input).await {
        Ok(r) => Ok(Redirect::to(&format!(
            "/integrations/{}?saved=1",
            crate::error::urlencode(&r.name)
        ))
        .into_response()),
        Err(e) => {
            let errors = app_errors(e, &kind)?;
            form_page(
                &s,
                Some(&view),
                &form,
                Some(&errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}
