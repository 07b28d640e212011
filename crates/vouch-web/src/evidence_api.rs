//! Evidence over the REST API: multipart upload, revisions, listing, streamed downloads,
//! a control's freshness, vault verification and the retention purge.
use crate::error::{ApiError, Problem};
use crate::evidence_upload::{self, UploadError};
use crate::extract::{ApiActor, ApiJson, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use utoipa::OpenApi;
use vouch_app::AppError;
use vouch_app::evidence::{ControlEvidence, PurgeReport, RevisionFiles, VaultReport};
use vouch_domain::evidence::{
    Evidence, EvidenceFile, EvidenceHistory, EvidenceRevision, EvidenceSource,
};
use vouch_evidence::BlobReader;

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/evidence",
            get(list).post(add).layer(DefaultBodyLimit::disable()),
        )
        .route("/evidence/verify", get(verify))
        .route("/evidence/purge", post(purge))
        .route("/evidence/{id}", get(one))
        .route(
            "/evidence/{id}/revisions",
            post(revise).layer(DefaultBodyLimit::disable()),
        )
        .route("/evidence/{id}/files/{position}", get(download))
        .route("/controls/{id}/evidence", get(control_evidence))
}

#[derive(OpenApi)]
#[openapi(
    paths(list, add, one, revise, download, control_evidence, verify, purge),
    components(schemas(
        Evidence,
        EvidenceHistory,
        EvidenceRevision,
        EvidenceFile,
        EvidenceSource,
        ControlEvidence,
        VaultReport,
        PurgeReport,
        PurgeRequest,
        UploadForm
    ))
)]
pub(crate) struct EvidenceApiDoc;

impl From<UploadError> for ApiError {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::Csrf => ApiError::new(StatusCode::FORBIDDEN, "csrf", "CSRF check failed"),
            UploadError::App(e) => e.into(),
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
struct ListQuery {
    /// Only evidence supporting this control.
    control: Option<String>,
}

/// Evidence the caller may see, newest first (employees see only their own).
#[utoipa::path(get, path = "/evidence", tag = "evidence", params(ListQuery), responses((status = 200, body = Vec<Evidence>), (status = 403, body = Problem)))]
async fn list(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<Evidence>>> {
    Ok(Json(st.app.list_evidence(&a, q.control.as_deref()).await?))
}

/// The multipart fields of an upload. Files are any parts with a file name; several may be
/// sent. `controls` may repeat or hold ids separated by commas.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the multipart form; the handler reads the parts as they stream
struct UploadForm {
    title: String,
    description: Option<String>,
    link: Option<String>,
    controls: Vec<String>,
    /// YYYY-MM-DD: the first (or only) day the evidence covers.
    period_start: String,
    /// YYYY-MM-DD: the last day it covers.
    period_end: Option<String>,
    /// `upload` (people), `integration` or `vouch` (API tokens of automation only).
    source: Option<String>,
    source_detail: Option<String>,
    /// For a revision: what the correction changes.
    note: Option<String>,
    #[schema(format = Binary)]
    files: Vec<String>,
}

/// Adds an evidence record with its files (multipart). Each file is limited in size (413).
#[utoipa::path(post, path = "/evidence", tag = "evidence", request_body(content = UploadForm, content_type = "multipart/form-data"), responses((status = 201, body = EvidenceHistory), (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn add(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    mp: Multipart,
) -> ApiResult<(StatusCode, Json<EvidenceHistory>)> {
    let up = evidence_upload::read(&st.app, &a, mp, None).await?;
    let source = match up.text("source").trim() {
        "" => EvidenceSource::Upload,
        s => EvidenceSource::parse(s).ok_or_else(|| {
            AppError::field(
                "source",
                format!("'{s}' is not a source: use upload, integration or vouch"),
            )
        })?,
    };
    let detail = Some(up.text("source_detail")).filter(|d| !d.trim().is_empty());
    let input = up.input()?;
    let h = st
        .app
        .add_evidence(&a, input, source, detail, up.files)
        .await?;
    Ok((StatusCode::CREATED, Json(h)))
}

/// One record with every revision.
#[utoipa::path(get, path = "/evidence/{id}", tag = "evidence", responses((status = 200, body = EvidenceHistory), (status = 404, body = Problem)))]
async fn one(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<EvidenceHistory>> {
    Ok(Json(st.app.evidence(&a, &id).await?))
}

/// Corrects a record with a new revision (multipart, same fields as an upload plus `note`).
/// Without files the previous revision's files are kept.
#[utoipa::path(post, path = "/evidence/{id}/revisions", tag = "evidence", request_body(content = UploadForm, content_type = "multipart/form-data"), responses((status = 201, body = EvidenceHistory), (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn revise(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    mp: Multipart,
) -> ApiResult<(StatusCode, Json<EvidenceHistory>)> {
    let up = evidence_upload::read(&st.app, &a, mp, None).await?;
    let input = up.input()?;
    let note = up.text("note");
    let files = if up.files.is_empty() {
        RevisionFiles::Keep
    } else {
        RevisionFiles::Replace(up.files)
    };
    let h = st.app.revise_evidence(&a, &id, input, &note, files).await?;
    Ok((StatusCode::CREATED, Json(h)))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct DownloadQuery {
    /// A revision number; the current revision if absent.
    revision: Option<i64>,
}

/// Streams one file. The download is recorded in the audit log; the `X-Content-SHA256`
/// header carries the hash to check it against.
#[utoipa::path(get, path = "/evidence/{id}/files/{position}", tag = "evidence", params(DownloadQuery), responses((status = 200, content_type = "application/octet-stream"), (status = 404, body = Problem), (status = 410, body = Problem)))]
async fn download(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path((id, position)): Path<(String, i64)>,
    ApiQuery(q): ApiQuery<DownloadQuery>,
) -> ApiResult<Response> {
    let (file, reader) = st
        .app
        .download_evidence_file(&a, &id, q.revision, position)
        .await?;
    Ok(file_response(&file, reader))
}

/// Media types served as themselves; anything else is served as opaque bytes, so an uploaded
/// HTML or SVG file can never run in Vouch's origin.
const SAFE_TYPES: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "text/csv",
    "text/plain",
    "application/json",
];

/// A streamed download: always an attachment, sandboxed, with length and hash.
pub(crate) fn file_response(file: &EvidenceFile, reader: BlobReader) -> Response {
    let media: &'static str = SAFE_TYPES
        .iter()
        .find(|t| **t == file.media_type)
        .copied()
        .unwrap_or("application/octet-stream");
    let ascii: String = file
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = url::form_urlencoded::byte_serialize(file.name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    let mut res = Body::from_stream(reader.stream).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(reader.size));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(v) = HeaderValue::from_str(&file.sha256) {
        h.insert("x-content-sha256", v);
    }
    res
}

/// A control's evidence and whether it covers every occurrence that is due.
#[utoipa::path(get, path = "/controls/{id}/evidence", tag = "evidence", responses((status = 200, body = ControlEvidence), (status = 404, body = Problem)))]
async fn control_evidence(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<ControlEvidence>> {
    Ok(Json(st.app.control_evidence(&a, &id).await?))
}

/// Re-hashes every blob and compares the vault with the index: 200 when all is well, 409 with
/// the same report when a blob is missing, altered, orphaned or stray.
#[utoipa::path(get, path = "/evidence/verify", tag = "evidence", responses((status = 200, body = VaultReport), (status = 409, body = VaultReport)))]
async fn verify(State(st): State<AppState>, ApiActor(a): ApiActor) -> ApiResult<Response> {
    let r = st.app.verify_vault(&a).await?;
    let status = if r.ok() {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    Ok((status, Json(r)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PurgeRequest {
    /// Report what would be purged without purging.
    #[serde(default)]
    dry_run: bool,
}

/// Applies the retention policy (administrators).
#[utoipa::path(post, path = "/evidence/purge", tag = "evidence", request_body = PurgeRequest, responses((status = 200, body = PurgeReport), (status = 403, body = Problem)))]
async fn purge(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(r): ApiJson<PurgeRequest>,
) -> ApiResult<Json<PurgeReport>> {
    Ok(Json(st.app.purge_evidence(&a, r.dry_run).await?))
}
