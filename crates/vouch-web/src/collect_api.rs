//! Collected resources over the REST API: file imports (multipart), collection runs, resources
//! with their history, and who owns each account.
//!
//! The JSON is the store's records as they serialize; the `*Doc` structs below only describe
//! them for the OpenAPI document (the records live in `vouch-store`, which has no schemas).
use crate::error::{ApiError, Problem};
use crate::evidence_upload::{self, Upload};
use crate::extract::{ApiActor, ApiJson, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;
use vouch_app::accounts::{AccountFilter, AccountView};
use vouch_app::collect::ImportRequest;
use vouch_app::collect::{
    AccountLinkRecord, ImportKind, ResourceFilter, ResourceRecord, ResourceVersion, RunRecord,
};
use vouch_app::{Action, AppError};

type ApiResult<T> = Result<T, ApiError>;

/// Resources listed per request when the caller does not say.
pub(crate) const DEFAULT_LIMIT: i64 = 100;
/// Most resources one request may list.
pub(crate) const MAX_LIMIT: i64 = 1000;
/// Runs listed when the caller does not say.
const DEFAULT_RUNS: i64 = 50;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/imports", post(import).layer(DefaultBodyLimit::disable()))
        .route("/runs", get(list_runs))
        .route("/runs/{id}", get(one_run))
        .route("/resources", get(list_resources))
        .route("/resources/counts", get(counts))
        .route("/resources/{id}", get(one_resource))
        .route("/accounts", get(list_accounts))
        .route("/accounts/{id}/link", put(link).delete(unlink))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        import,
        list_runs,
        one_run,
        list_resources,
        counts,
        one_resource,
        list_accounts,
        link,
        unlink
    ),
    components(schemas(
        ImportForm,
        FailedImport,
        RunDoc,
        ResourceDoc,
        ResourceVersionDoc,
        ResourceHistory,
        ResourceList,
        ResourceCount,
        AccountDoc,
        OwnerDoc,
        LinkDoc,
        LinkRequest
    ))
)]
pub(crate) struct CollectApiDoc;

// ---------- shared with the UI ----------

/// The kinds a person may name for an upload: every importer but the live AWS connector's.
pub(crate) fn upload_kinds() -> impl Iterator<Item = ImportKind> {
    ImportKind::ALL
        .into_iter()
        .filter(|k| *k != ImportKind::AwsApi)
}

/// The `kind` field of an import: empty or `auto` recognises the files by content.
pub(crate) fn parse_kind(raw: &str) -> Result<Option<ImportKind>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() || raw.eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    match ImportKind::parse(raw) {
        Some(k) if k != ImportKind::AwsApi => Ok(Some(k)),
        _ => Err(AppError::field(
            "kind",
            format!(
                "'{raw}' is not a kind of file Vouch imports; use one of {} (or leave it empty to recognise the file)",
                upload_kinds()
                    .map(ImportKind::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// The import an upload describes (`kind`, `scope`, `controls` and its files).
pub(crate) fn import_request(up: Upload) -> Result<ImportRequest, AppError> {
    let kind = parse_kind(&up.text("kind"))?;
    let scope = Some(up.text("scope").trim().to_string()).filter(|s| !s.is_empty());
    let controls = up.list("controls");
    Ok(ImportRequest {
        files: up.files,
        kind,
        scope,
        controls,
    })
}

/// A yes/no query value: `true`, `1`, `yes`, `on` (or `false`, `0`, `no`, `off`, empty).
pub(crate) fn flag(name: &str, v: Option<&str>) -> Result<bool, String> {
    match v.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("false") | Some("0") | Some("no") | Some("off") => Ok(false),
        Some("true") | Some("1") | Some("yes") | Some("on") => Ok(true),
        Some(other) => Err(format!("{name} must be true or false, not '{other}'")),
    }
}

fn bad_query(msg: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", msg)
}

fn blank(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// A resource id from the path; anything that is not a number names no resource.
pub(crate) fn resource_id(raw: &str) -> Result<i64, AppError> {
    raw.trim()
        .parse::<i64>()
        .map_err(|_| AppError::NotFound(format!("resource {raw}")))
}

// ---------- imports and runs ----------

/// The multipart fields of an import. Files are any parts with a file name (send each as
/// `file`); several files are imported together as one run and must be of one kind and system.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the multipart form; the handler reads the parts as they stream
struct ImportForm {
    /// The format of the files (`hr_roster_csv`, `aws_credential_report`, `trivy_json`,
    /// `grype_json`, `sarif`, `generic_json`, `generic_csv`, `github_json`, `okta_json`,
    /// `google_workspace_json`, `prowler_ocsf`, `osquery_results`, `fleet_json`); absent or
    /// empty recognises them by content.
    kind: Option<String>,
    /// The full-sync scope: resources of this scope the files no longer contain are marked
    /// deleted. Absent: `import:<kind>:<system>`.
    scope: Option<String>,
    /// Controls the raw files are evidence for (repeat, or separate with commas).
    controls: Vec<String>,
    #[schema(format = Binary)]
    file: Vec<String>,
}

/// A run that failed: nothing changed, but the run (and its raw files) are recorded.
#[derive(Serialize, utoipa::ToSchema)]
struct FailedImport {
    /// What went wrong: the file, then the place in it (`row 2, column 'status'`).
    error: Option<String>,
    #[schema(value_type = RunDoc)]
    run: RunRecord,
}

/// A collection run (an import or an integration's sync).
#[derive(utoipa::ToSchema)]
#[schema(as = Run)]
#[allow(dead_code)] // documents the JSON of vouch_app::collect::RunRecord
struct RunDoc {
    /// `RUN-<n>`.
    id: String,
    seq: i64,
    /// `import`, or the integration's name.
    source: String,
    /// The import kind (`hr_roster_csv`, …), or `unknown` when it could not be recognised.
    kind: String,
    /// The system the resources describe (`hr`, `aws`, …); absent when the run failed.
    system: Option<String>,
    scope: String,
    /// `import`, `manual` or `schedule`.
    trigger: String,
    started_by: Option<String>,
    started_by_label: String,
    started_at: String,
    finished_at: String,
    /// `succeeded` or `failed`.
    status: String,
    error: Option<String>,
    warnings: Vec<String>,
    /// `total`, `added`, `changed`, `unchanged`, `deleted`, `restored`.
    counts: std::collections::BTreeMap<String, i64>,
    collector_version: String,
    /// The evidence record holding the raw files.
    evidence_id: Option<String>,
}

/// Imports files (an HR roster, a credential report, a scanner report…) as one collection run.
/// 201 with the run when it succeeded; 422 with the recorded, failed run when a file could not
/// be read (the stored resources are unchanged).
#[utoipa::path(post, path = "/imports", tag = "collection",
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = RunDoc, description = "The run succeeded"),
        (status = 422, body = FailedImport, description = "The run failed and was recorded; or the request was refused (problem+json)"),
        (status = 403, body = Problem),
        (status = 413, body = Problem)))]
async fn import(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    mp: Multipart,
) -> ApiResult<Response> {
    // Refuse before a byte is staged.
    st.app.authorize(&a, Action::CollectResources)?;
    let up = evidence_upload::read(&st.app, &a, mp, None).await?;
    let req = import_request(up)?;
    let run = st.app.import_files(&a, req).await?;
    Ok(run_response(run))
}

fn run_response(run: RunRecord) -> Response {
    if run.status == "succeeded" {
        (StatusCode::CREATED, Json(run)).into_response()
    } else {
        let body = FailedImport {
            error: run.error.clone(),
            run,
        };
        (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct RunsQuery {
    /// Only runs of this source (`import`, or an integration's name).
    source: Option<String>,
    /// At most this many (default 50, at most 1000).
    limit: Option<i64>,
}

/// Collection runs, newest first.
#[utoipa::path(get, path = "/runs", tag = "collection", params(RunsQuery),
    responses((status = 200, body = Vec<RunDoc>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn list_runs(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<RunsQuery>,
) -> ApiResult<Json<Vec<RunRecord>>> {
    let limit = q.limit.unwrap_or(DEFAULT_RUNS);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad_query(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let source = blank(q.source);
    Ok(Json(st.app.list_runs(&a, source.as_deref(), limit).await?))
}

/// One run: its status, counts, warnings, error and the evidence record of its raw files.
#[utoipa::path(get, path = "/runs/{id}", tag = "collection",
    responses((status = 200, body = RunDoc), (status = 404, body = Problem), (status = 403, body = Problem)))]
async fn one_run(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<RunRecord>> {
    Ok(Json(st.app.run(&a, &id).await?))
}

// ---------- resources ----------

/// A collected resource in its current state.
#[derive(utoipa::ToSchema)]
#[schema(as = Resource)]
#[allow(dead_code)] // documents the JSON of vouch_app::collect::ResourceRecord
struct ResourceDoc {
    id: i64,
    /// `person`, `account`, `group_membership`, `device`, `repository`, `branch_protection`,
    /// `pull_request`, `cloud_resource`, `vulnerability` or `finding`.
    kind: String,
    system: String,
    /// What identifies it in its system (an email, a user name, an ARN…).
    key: String,
    /// The full-sync scope that last saw it.
    scope: String,
    #[schema(value_type = Object)]
    attrs: serde_json::Map<String, serde_json::Value>,
    first_seen: String,
    last_seen: String,
    /// When a run of its scope no longer contained it.
    deleted_at: Option<String>,
    version: i64,
    last_run_id: String,
}

/// One state a resource had, from `valid_from` until `valid_to` (absent: still current).
#[derive(utoipa::ToSchema)]
#[schema(as = ResourceVersion)]
#[allow(dead_code)] // documents the JSON of vouch_app::collect::ResourceVersion
struct ResourceVersionDoc {
    version: i64,
    /// `added`, `changed`, `deleted` or `restored`.
    change: String,
    #[schema(value_type = Object)]
    attrs: serde_json::Map<String, serde_json::Value>,
    valid_from: String,
    valid_to: Option<String>,
    run_id: String,
}

/// A resource with every state it has had, oldest first.
#[derive(Serialize, utoipa::ToSchema)]
struct ResourceHistory {
    #[schema(value_type = ResourceDoc)]
    resource: ResourceRecord,
    #[schema(value_type = Vec<ResourceVersionDoc>)]
    versions: Vec<ResourceVersion>,
}

/// A page of resources and how many match in all.
#[derive(Serialize, utoipa::ToSchema)]
struct ResourceList {
    total: i64,
    limit: i64,
    offset: i64,
    #[schema(value_type = Vec<ResourceDoc>)]
    resources: Vec<ResourceRecord>,
}

/// How many current resources a system has of a kind.
#[derive(Serialize, utoipa::ToSchema)]
struct ResourceCount {
    kind: String,
    system: String,
    count: i64,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct ResourcesQuery {
    /// Only this kind (`person`, `account`, …).
    kind: Option<String>,
    /// Only this system (`hr`, `aws`, …).
    system: Option<String>,
    /// Part of the key, matched literally, case-insensitive.
    q: Option<String>,
    /// Also resources marked deleted (`true`).
    include_deleted: Option<String>,
    /// At most this many (default 100, at most 1000).
    limit: Option<i64>,
    /// Skip this many first.
    offset: Option<i64>,
}

/// Resources, ordered by kind, system and key, with the number matching in all.
#[utoipa::path(get, path = "/resources", tag = "collection", params(ResourcesQuery),
    responses((status = 200, body = ResourceList), (status = 400, body = Problem), (status = 422, body = Problem), (status = 403, body = Problem)))]
async fn list_resources(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<ResourcesQuery>,
) -> ApiResult<Json<ResourceList>> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad_query(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        return Err(bad_query("offset must not be negative"));
    }
    let include_deleted =
        flag("include_deleted", q.include_deleted.as_deref()).map_err(bad_query)?;
    let filter = ResourceFilter {
        kind: blank(q.kind),
        system: blank(q.system),
        key_contains: blank(q.q),
        include_deleted,
        limit: Some(limit),
        offset,
    };
    let (resources, total) = st.app.list_resources(&a, &filter).await?;
    Ok(Json(ResourceList {
        total,
        limit,
        offset,
        resources,
    }))
}

/// Current (not deleted) resources per kind and system.
#[utoipa::path(get, path = "/resources/counts", tag = "collection",
    responses((status = 200, body = Vec<ResourceCount>), (status = 403, body = Problem)))]
async fn counts(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
) -> ApiResult<Json<Vec<ResourceCount>>> {
    let list = st.app.resource_counts(&a).await?;
    Ok(Json(
        list.into_iter()
            .map(|(kind, system, count)| ResourceCount {
                kind,
                system,
                count,
            })
            .collect(),
    ))
}

/// One resource with its history: every state it had, and the run that saw each.
#[utoipa::path(get, path = "/resources/{id}", tag = "collection",
    responses((status = 200, body = ResourceHistory), (status = 404, body = Problem), (status = 403, body = Problem)))]
async fn one_resource(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<ResourceHistory>> {
    let id = resource_id(&id)?;
    let (resource, versions) = st.app.resource(&a, id).await?;
    Ok(Json(ResourceHistory { resource, versions }))
}

// ---------- accounts ----------

/// Who owns an account: `type` is `person` (with `email`, `name`, `status`, `on_roster` and
/// `basis`: `manual`, `email` or `username`), `service` (with `note`) or `unlinked`.
#[derive(utoipa::ToSchema)]
#[schema(as = AccountOwner)]
#[allow(dead_code)] // documents the JSON of vouch_app::accounts::Owner
struct OwnerDoc {
    /// `person`, `service` or `unlinked`.
    r#type: String,
    email: Option<String>,
    name: Option<String>,
    status: Option<String>,
    on_roster: Option<bool>,
    /// `manual`, `email` or `username`.
    basis: Option<String>,
    note: Option<String>,
}

/// A manual decision about who owns an account.
#[derive(utoipa::ToSchema)]
#[schema(as = AccountLink)]
#[allow(dead_code)] // documents the JSON of vouch_app::collect::AccountLinkRecord
struct LinkDoc {
    account_id: i64,
    person_email: Option<String>,
    service: bool,
    note: String,
    set_by: String,
    set_at: String,
}

/// An account (a `resource` of kind `account`) and its owner.
#[derive(utoipa::ToSchema)]
#[schema(as = Account)]
#[allow(dead_code)] // documents the JSON of vouch_app::accounts::AccountView
struct AccountDoc {
    account: ResourceDoc,
    owner: OwnerDoc,
    /// The manual decision, if there is one.
    link: Option<LinkDoc>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct AccountsQuery {
    /// Only accounts of this system (`aws`, `github`, …).
    system: Option<String>,
    /// Only accounts nobody owns (`true`).
    unlinked: Option<String>,
    /// Also accounts marked deleted (`true`).
    include_deleted: Option<String>,
}

/// Accounts in every system with their owners. `unlinked=true` lists the accounts nobody
/// owns: each is a finding.
#[utoipa::path(get, path = "/accounts", tag = "collection", params(AccountsQuery),
    responses((status = 200, body = Vec<AccountDoc>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn list_accounts(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<AccountsQuery>,
) -> ApiResult<Json<Vec<AccountView>>> {
    let filter = AccountFilter {
        system: blank(q.system),
        unlinked: flag("unlinked", q.unlinked.as_deref()).map_err(bad_query)?,
        include_deleted: flag("include_deleted", q.include_deleted.as_deref())
            .map_err(bad_query)?,
    };
    Ok(Json(st.app.accounts(&a, &filter).await?))
}

/// Who owns an account, decided by hand: `person_email` (someone on the HR roster), or
/// `service: true` with a `note` saying what the service account is for.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct LinkRequest {
    person_email: Option<String>,
    #[serde(default)]
    service: bool,
    #[serde(default)]
    note: String,
}

/// Links an account to a person, or marks it a service account. Replaces an earlier manual
/// decision.
#[utoipa::path(put, path = "/accounts/{id}/link", tag = "collection", request_body = LinkRequest,
    responses((status = 200, body = LinkDoc), (status = 404, body = Problem), (status = 422, body = Problem), (status = 403, body = Problem)))]
async fn link(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<LinkRequest>,
) -> ApiResult<Json<AccountLinkRecord>> {
    let id = resource_id(&id)?;
    let email = r
        .person_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    let person = match (email, r.service) {
        (Some(_), true) => {
            return Err(AppError::field(
                "service",
                "give either person_email or service: true, not both",
            )
            .into());
        }
        (None, false) => {
            return Err(AppError::field(
                "person_email",
                "give the owner's person_email, or service: true for a service account",
            )
            .into());
        }
        (e, _) => e,
    };
    Ok(Json(st.app.link_account(&a, id, person, &r.note).await?))
}

/// Removes the manual decision; the account is linked automatically again, if it can be.
#[utoipa::path(delete, path = "/accounts/{id}/link", tag = "collection",
    responses((status = 204, description = "Removed"), (status = 404, body = Problem), (status = 403, body = Problem)))]
async fn unlink(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = resource_id(&id)?;
    st.app.unlink_account(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
