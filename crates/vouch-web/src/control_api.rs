//! The control matrix, scope and readiness over the REST API.
use crate::error::{ApiError, Problem};
use crate::extract::{ApiActor, ApiJson};
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use serde::Deserialize;
use utoipa::OpenApi;
use vouch_app::controls::{Applicability, ControlPatch, ControlView, ImportSummary, Ownership};
use vouch_domain::control::ControlInput;
use vouch_domain::readiness::Readiness;
use vouch_domain::scope::Scope;

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/controls", get(list).post(create))
        .route("/controls/adopt", post(adopt))
        .route("/controls/export", get(export))
        .route("/controls/import", post(import))
        .route("/controls/{id}", get(one).patch(update))
        .route("/controls/{id}/owner", put(assign))
        .route("/controls/{id}/applicability", put(applicability))
        .route("/controls/{id}/criteria", post(map))
        .route("/controls/{id}/criteria/{criterion}", delete(unmap))
        .route("/scope", get(get_scope).put(put_scope))
        .route("/readiness", get(readiness))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list,
        create,
        adopt,
        one,
        update,
        assign,
        applicability,
        map,
        unmap,
        get_scope,
        put_scope,
        readiness
    ),
    components(schemas(
        ControlView,
        ControlInput,
        ControlPatch,
        Ownership,
        Applicability,
        AdoptRequest,
        MapRequest,
        Scope,
        Readiness
    ))
)]
pub(crate) struct ControlApiDoc;

/// Every control with its computed status.
#[utoipa::path(get, path = "/controls", tag = "controls", responses((status = 200, body = Vec<ControlView>), (status = 403, body = Problem)))]
async fn list(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
) -> ApiResult<Json<Vec<ControlView>>> {
    Ok(Json(st.app.list_controls(&a).await?))
}

/// Adds a control the organisation wrote itself.
#[utoipa::path(post, path = "/controls", tag = "controls", request_body = ControlInput, responses((status = 201, body = ControlView), (status = 422, body = Problem)))]
async fn create(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(i): ApiJson<ControlInput>,
) -> ApiResult<(StatusCode, Json<ControlView>)> {
    Ok((
        StatusCode::CREATED,
        Json(st.app.create_control(&a, i).await?),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct AdoptRequest {
    /// Library control ids to adopt; absent adopts the whole library.
    #[serde(default)]
    ids: Option<Vec<String>>,
}

/// Adopts library controls not yet adopted; returns the ids added.
#[utoipa::path(post, path = "/controls/adopt", tag = "controls", request_body = AdoptRequest, responses((status = 200, body = Vec<String>), (status = 422, body = Problem)))]
async fn adopt(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(r): ApiJson<AdoptRequest>,
) -> ApiResult<Json<Vec<String>>> {
    Ok(Json(st.app.adopt_library(&a, r.ids).await?))
}

#[utoipa::path(get, path = "/controls/{id}", tag = "controls", responses((status = 200, body = ControlView), (status = 404, body = Problem)))]
async fn one(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<ControlView>> {
    Ok(Json(st.app.get_control(&a, &id).await?))
}

/// Edits a control's definition or criteria.
#[utoipa::path(patch, path = "/controls/{id}", tag = "controls", request_body = ControlPatch, responses((status = 200, body = ControlView), (status = 422, body = Problem)))]
async fn update(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    ApiJson(p): ApiJson<ControlPatch>,
) -> ApiResult<Json<ControlView>> {
    Ok(Json(st.app.update_control(&a, &id, p).await?))
}

/// Sets the owner and backup (user ids), or clears them with null.
#[utoipa::path(put, path = "/controls/{id}/owner", tag = "controls", request_body = Ownership, responses((status = 200, body = ControlView), (status = 422, body = Problem)))]
async fn assign(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    ApiJson(o): ApiJson<Ownership>,
) -> ApiResult<Json<ControlView>> {
    Ok(Json(st.app.assign_control(&a, &id, o).await?))
}

/// Marks a control not applicable (with a justification) or applicable again.
#[utoipa::path(put, path = "/controls/{id}/applicability", tag = "controls", request_body = Applicability, responses((status = 200, body = ControlView), (status = 422, body = Problem)))]
async fn applicability(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    ApiJson(x): ApiJson<Applicability>,
) -> ApiResult<Json<ControlView>> {
    Ok(Json(st.app.set_applicability(&a, &id, x).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct MapRequest {
    criterion: String,
}

/// Maps the control to one more criterion.
#[utoipa::path(post, path = "/controls/{id}/criteria", tag = "controls", request_body = MapRequest, responses((status = 200, body = ControlView), (status = 422, body = Problem)))]
async fn map(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    ApiJson(m): ApiJson<MapRequest>,
) -> ApiResult<Json<ControlView>> {
    Ok(Json(st.app.map_criterion(&a, &id, &m.criterion).await?))
}

/// Removes a criterion from the control.
#[utoipa::path(delete, path = "/controls/{id}/criteria/{criterion}", tag = "controls", responses((status = 200, body = ControlView), (status = 422, body = Problem)))]
async fn unmap(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path((id, criterion)): Path<(String, String)>,
) -> ApiResult<Json<ControlView>> {
    Ok(Json(st.app.unmap_criterion(&a, &id, &criterion).await?))
}

/// The system under audit.
#[utoipa::path(get, path = "/scope", tag = "scope", responses((status = 200, body = Scope)))]
async fn get_scope(State(st): State<AppState>, ApiActor(a): ApiActor) -> ApiResult<Json<Scope>> {
    Ok(Json(st.app.scope(&a).await?))
}

/// Replaces the scope; every problem is reported at once.
#[utoipa::path(put, path = "/scope", tag = "scope", request_body = Scope, responses((status = 200, body = Scope), (status = 422, body = Problem)))]
async fn put_scope(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(s): ApiJson<Scope>,
) -> ApiResult<Json<Scope>> {
    Ok(Json(st.app.set_scope(&a, s).await?))
}

/// Readiness over the in-scope criteria: overall, per category, per criterion, the gaps.
#[utoipa::path(get, path = "/readiness", tag = "scope", responses((status = 200, body = Readiness)))]
async fn readiness(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
) -> ApiResult<Json<Readiness>> {
    Ok(Json(st.app.readiness(&a).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    /// `csv` (default) or `xlsx`.
    format: Option<String>,
}

/// The control matrix as CSV or an XLSX workbook: id, name, description, owner, frequency,
/// nature, criteria, status, and more.
#[utoipa::path(get, path = "/controls/export", tag = "controls", params(ExportQuery), responses((status = 200, description = "text/csv or an XLSX workbook"), (status = 400, body = Problem)))]
async fn export(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    crate::extract::ApiQuery(q): crate::extract::ApiQuery<ExportQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let (bytes, ct, ext) = match q.format.as_deref().unwrap_or("csv") {
        "csv" => (
            crate::control_pages::matrix_csv(&st, &a).await?,
            "text/csv; charset=utf-8",
            "csv",
        ),
        "xlsx" => (
            crate::control_pages::matrix_xlsx(&st, &a).await?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        other => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid-query",
                format!("format '{other}' is not csv or xlsx"),
            ));
        }
    };
    let name = crate::control_pages::matrix_file_name(ext, st.app.now());
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, ct.to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    /// The file's name, whose extension (.csv, .yaml) decides how it is read; without it the
    /// content decides.
    filename: Option<String>,
}

/// Imports controls from the request body (CSV or YAML). Everything is validated first; any
/// problem imports nothing and each error names its row and column.
#[utoipa::path(post, path = "/controls/import", tag = "controls", params(ImportQuery), request_body(content = String, content_type = "text/csv"), responses((status = 200, body = ImportSummary), (status = 422, body = Problem)))]
async fn import(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    crate::extract::ApiQuery(q): crate::extract::ApiQuery<ImportQuery>,
    body: axum::body::Bytes,
) -> ApiResult<Json<ImportSummary>> {
    Ok(Json(
        st.app
            .import_controls(&a, q.filename.as_deref(), &body)
            .await?,
    ))
}
