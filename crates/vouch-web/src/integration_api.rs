//! Integrations over the REST API: list, read, create or change, remove, and run now.
//!
//! The credential goes in and never comes out: every answer is built from the stored record,
//! which holds only whether a credential is set (`has_secret`).
use crate::error::{ApiError, Problem};
use crate::extract::{ApiActor, ApiJson};
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use utoipa::OpenApi;
use utoipa::openapi::{Ref, RefOr, Schema};
use vouch_app::AppError;
use vouch_app::collect::RunRecord;
use vouch_app::integrations::{IntegrationInput, IntegrationView, Trigger};

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/integrations", get(list))
        .route(
            "/integrations/{name}",
            get(one).put(put_integration).delete(remove),
        )
        .route("/integrations/{name}/runs", post(run_now))
}

#[derive(OpenApi)]
#[openapi(
    paths(list, one, put_integration, remove, run_now),
    components(schemas(IntegrationJson, IntegrationDetail, IntegrationRequest, FailedRun))
)]
pub(crate) struct IntegrationApiDoc;

/// Refers to the `Run` schema the collection endpoints define (one description of a run).
pub(crate) struct RunRef;

impl utoipa::PartialSchema for RunRef {
    fn schema() -> RefOr<Schema> {
        RefOr::Ref(Ref::from_schema_name("Run"))
    }
}

impl utoipa::ToSchema for RunRef {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Run")
    }
}

/// An integration as the API shows it. There is no credential here, only whether one is set.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Integration)]
pub(crate) struct IntegrationJson {
    /// Lower-case letters, digits and `-`: `github-acme`.
    name: String,
    /// `github`, `okta`, `google_workspace` or `aws`.
    kind: String,
    /// The kind as people read it: `GitHub`.
    label: String,
    /// The settings that are not secret.
    #[schema(value_type = Object)]
    settings: Value,
    /// Whether a credential is stored (it is never shown).
    has_secret: bool,
    /// Minutes between scheduled runs; absent: runs only on demand.
    schedule_minutes: Option<i64>,
    enabled: bool,
    /// Controls the runs' raw evidence supports.
    controls: Vec<String>,
    /// When the scheduler runs it next (RFC 3339), if it has a schedule.
    next_run_at: Option<String>,
    created_at: String,
    updated_at: String,
    /// The most recent run, if any.
    #[schema(value_type = Option<RunRef>)]
    last_run: Option<RunRecord>,
}

impl From<IntegrationView> for IntegrationJson {
    fn from(v: IntegrationView) -> Self {
        let i = v.integration;
        IntegrationJson {
            name: i.name,
            kind: i.kind,
            label: v.label.to_string(),
            settings: i.settings,
            has_secret: i.has_secret,
            schedule_minutes: i.schedule_minutes,
            enabled: i.enabled,
            controls: i.controls,
            next_run_at: i.next_run_at,
            created_at: i.created_at,
            updated_at: i.updated_at,
            last_run: v.last_run,
        }
    }
}

/// One integration with its recent runs (newest first, at most 50).
#[derive(Serialize, utoipa::ToSchema)]
struct IntegrationDetail {
    #[serde(flatten)]
    integration: IntegrationJson,
    #[schema(value_type = Vec<RunRef>)]
    runs: Vec<RunRecord>,
}

/// What `PUT /integrations/{name}` takes: the integration without its name (the path has it).
///
/// Settings by kind — GitHub: `org`, optional `api_url` (GitHub Enterprise Server), optional
/// `app_id` and `installation_id` for a GitHub App; Okta: `url`; Google Workspace:
/// `admin_email`, optional `api_url`; AWS: `region`, `access_key_id`, optional `endpoint`,
/// `account_label`. Credentials never go in the settings.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct IntegrationRequest {
    /// `github`, `okta`, `google_workspace` or `aws`; an integration's kind cannot change.
    kind: String,
    /// The settings that are not secret, as a JSON object.
    #[serde(default)]
    #[schema(value_type = Object)]
    settings: Value,
    /// The credential: a GitHub token (or a GitHub App's private key), an Okta API token, a
    /// Google service account's JSON key, an AWS secret access key. Required when creating;
    /// absent or empty keeps the stored one. Never shown back.
    #[serde(default)]
    secret: Option<String>,
    /// Minutes between scheduled runs (at least 5); absent: only on demand.
    #[serde(default)]
    schedule_minutes: Option<i64>,
    /// Whether the schedule runs it (default true).
    #[serde(default = "yes")]
    enabled: bool,
    /// Controls the runs' raw evidence supports.
    #[serde(default)]
    controls: Vec<String>,
}

fn yes() -> bool {
    true
}

/// A run that failed: it is recorded (with the responses received, if any) and no stored
/// resource changed.
#[derive(Serialize, utoipa::ToSchema)]
struct FailedRun {
    /// What went wrong, in the system's words (`GitHub refused the credentials (401 …)`).
    error: Option<String>,
    #[schema(value_type = RunRef)]
    run: RunRecord,
}

/// Every integration with its last run. Credentials are never shown.
#[utoipa::path(get, path = "/integrations", tag = "integrations",
    responses((status = 200, body = Vec<IntegrationJson>), (status = 403, body = Problem)))]
async fn list(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
) -> ApiResult<Json<Vec<IntegrationJson>>> {
    let all = st.app.integrations(&a).await?;
    Ok(Json(all.into_iter().map(IntegrationJson::from).collect()))
}

/// One integration with its recent runs.
#[utoipa::path(get, path = "/integrations/{name}", tag = "integrations",
    responses((status = 200, body = IntegrationDetail), (status = 404, body = Problem), (status = 403, body = Problem)))]
async fn one(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(name): Path<String>,
) -> ApiResult<Json<IntegrationDetail>> {
    let (view, runs) = st.app.integration(&a, &name).await?;
    Ok(Json(IntegrationDetail {
        integration: view.into(),
        runs,
    }))
}

/// Creates the integration (201) or changes it (200). Every problem is reported at once (422,
/// one entry per field). The credential is stored, never shown back and never logged.
#[utoipa::path(put, path = "/integrations/{name}", tag = "integrations",
    request_body = IntegrationRequest,
    responses(
        (status = 201, body = IntegrationJson, description = "Created"),
        (status = 200, body = IntegrationJson, description = "Changed"),
        (status = 422, body = Problem),
        (status = 403, body = Problem)))]
async fn put_integration(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<IntegrationRequest>,
) -> ApiResult<Response> {
    st.app
        .authorize(&a, vouch_app::Action::ManageIntegrations)?;
    let existed = match st.app.integration(&a, &name).await {
        Ok(_) => true,
        Err(AppError::NotFound(_)) => false,
        Err(e) => return Err(e.into()),
    };
    let input = IntegrationInput {
        name: name.clone(),
        kind: body.kind,
        settings: body.settings,
        secret: body.secret,
        schedule_minutes: body.schedule_minutes,
        enabled: body.enabled,
        controls: body.controls,
    };
    let record = st.app.put_integration(&a, input).await?;
    let (view, _) = st.app.integration(&a, &record.name).await?;
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(IntegrationJson::from(view))).into_response())
}

/// Removes the integration. Its runs, their raw files and the resources it collected stay.
#[utoipa::path(delete, path = "/integrations/{name}", tag = "integrations",
    responses((status = 204), (status = 404, body = Problem), (status = 403, body = Problem)))]
async fn remove(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    st.app.delete_integration(&a, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Runs the integration now and waits for it. 201 with the run when it succeeded. When the
/// system failed (a refused credential, an outage that outlasted the retries, answers that
/// could not be read) the run is still recorded and the answer is **502** with
/// `{"error", "run"}`: the request was right, the system behind it was not; the stored
/// resources are as the last good run left them.
#[utoipa::path(post, path = "/integrations/{name}/runs", tag = "integrations",
    responses(
        (status = 201, body = RunRef, description = "The run succeeded"),
        (status = 502, body = FailedRun, description = "The run failed and was recorded; nothing changed"),
        (status = 404, body = Problem),
        (status = 403, body = Problem)))]
async fn run_now(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let run = st.app.run_integration(&a, &name, Trigger::Manual).await?;
    Ok(if run.status == "succeeded" {
        (StatusCode::CREATED, Json(run)).into_response()
    } else {
        let body = FailedRun {
            error: run.error.clone(),
            run,
        };
        (StatusCode::BAD_GATEWAY, Json(body)).into_response()
    })
}
