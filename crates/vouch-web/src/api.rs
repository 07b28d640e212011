//! The REST API under `/api/v1`, described by the OpenAPI document at `/api/openapi.json`.
use crate::error::{ApiError, Problem};
use crate::extract::{ApiActor, ApiJson, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;
use vouch_app::AuditFilter;
use vouch_app::authz::{Action, permits};
use vouch_app::tokens::{NewToken, TokenView};
use vouch_app::users::{NewUser, UserPatch, UserView};
use vouch_domain::audit::AuditEvent;
use vouch_domain::{Category, Criterion, Role};

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/me/password", axum::routing::post(change_password))
        .route("/me/mfa", axum::routing::post(begin_mfa))
        .route("/me/mfa/confirm", axum::routing::post(confirm_mfa))
        .route("/criteria", get(list_criteria))
        .route("/criteria/{id}", get(get_criterion))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", get(get_user).patch(update_user))
        .route("/users/{id}/reset-mfa", axum::routing::post(reset_mfa))
        .route("/roles", get(roles))
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/audit-log", get(audit_log))
        .route("/audit-log/verify", get(verify_audit_log))
        .route("/settings", get(get_settings).put(put_settings))
        .merge(crate::control_api::routes())
        .merge(crate::evidence_api::routes())
        // Collected resources: imports, runs, resources and account owners.
        .merge(crate::collect_api::routes())
        // Integrations: list, create or change, remove, run now.
        .merge(crate::integration_api::routes())
        .method_not_allowed_fallback(method_not_allowed)
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Vouch API", description = "SOC 2 compliance platform. Authenticate with `Authorization: Bearer <token>` (create tokens under API tokens). Errors are application/problem+json."),
    paths(me, change_password, begin_mfa, confirm_mfa, reset_mfa, list_criteria, get_criterion, list_users, create_user, get_user, update_user, roles,
          list_tokens, create_token, revoke_token, audit_log, verify_audit_log, get_settings, put_settings,
          healthz, readyz),
    components(schemas(Problem, Criterion, Category, UserView, NewUser, UserPatch, Role, TokenView,
        NewToken, CreatedToken, AuditEvent, ChainStatus, RoleRow, Settings, Me, PasswordChange,
        MfaEnrolment, MfaCode, RecoveryCodes)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::control_api::ControlApiDoc::openapi());
    doc.merge(crate::evidence_api::EvidenceApiDoc::openapi());
    doc.merge(crate::collect_api::CollectApiDoc::openapi());
    // After the collection endpoints: integrations refer to their `Run` schema.
    doc.merge(crate::integration_api::IntegrationApiDoc::openapi());
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc.servers = Some(vec![utoipa::openapi::Server::new("/api/v1")]);
    doc
}

pub(crate) async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi())
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/../../healthz", tag = "ops", security(), responses((status = 200, description = "Alive")))]
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers and is migrated.
#[utoipa::path(get, path = "/../../readyz", tag = "ops", security(), responses((status = 200, description = "Ready"), (status = 503, body = Problem)))]
pub(crate) async fn readyz(State(st): State<AppState>) -> Response {
    match st.app.ready().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not-ready",
                "the database is not reachable",
            )
            .into_response()
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
struct Me {
    actor: String,
    role: Role,
    user: Option<UserView>,
    permissions: Vec<Action>,
}

/// Who the caller is and what their role permits.
#[utoipa::path(get, path = "/me", tag = "account", responses((status = 200, body = Me), (status = 401, body = Problem)))]
async fn me(State(st): State<AppState>, ApiActor(a): ApiActor) -> ApiResult<Json<Me>> {
    let user = match &a.user_id {
        Some(id) => Some(st.app.get_user(&a, id).await?),
        None => None,
    };
    let permissions = Action::ALL
        .into_iter()
        .filter(|x| permits(a.role, *x))
        .collect();
    Ok(Json(Me {
        actor: a.audit_id(),
        role: a.role,
        user,
        permissions,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct CriteriaQuery {
    /// Only this category: security, availability, confidentiality, processing_integrity, privacy.
    category: Option<String>,
}

/// The SOC 2 Trust Services Criteria.
#[utoipa::path(get, path = "/criteria", tag = "criteria", params(CriteriaQuery), responses((status = 200, body = Vec<Criterion>), (status = 400, body = Problem)))]
async fn list_criteria(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<CriteriaQuery>,
) -> ApiResult<Json<Vec<Criterion>>> {
    let catalog = st.app.criteria(&a)?;
    let cat = match q.category.as_deref() {
        None | Some("") => None,
        Some(c) => Some(Category::parse(c).ok_or_else(|| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", format!("unknown category '{c}': use security, availability, confidentiality, processing_integrity or privacy"))
        })?),
    };
    Ok(Json(
        catalog
            .criteria
            .iter()
            .filter(|c| cat.is_none_or(|k| c.category == k))
            .cloned()
            .collect(),
    ))
}

/// One criterion by id (e.g. `CC6.1`).
#[utoipa::path(get, path = "/criteria/{id}", tag = "criteria", responses((status = 200, body = Criterion), (status = 404, body = Problem)))]
async fn get_criterion(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Criterion>> {
    let catalog = st.app.criteria(&a)?;
    catalog.get(&id).cloned().map(Json).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("there is no criterion {id}"),
        )
    })
}

/// Everyone who signs in.
#[utoipa::path(get, path = "/users", tag = "users", responses((status = 200, body = Vec<UserView>), (status = 403, body = Problem)))]
async fn list_users(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
) -> ApiResult<Json<Vec<UserView>>> {
    Ok(Json(st.app.list_users(&a).await?))
}

/// Adds a person (administrators).
#[utoipa::path(post, path = "/users", tag = "users", request_body = NewUser, responses((status = 201, body = UserView), (status = 422, body = Problem), (status = 403, body = Problem)))]
async fn create_user(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(new): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    Ok((
        StatusCode::CREATED,
        Json(st.app.create_user(&a, new).await?),
    ))
}

#[utoipa::path(get, path = "/users/{id}", tag = "users", responses((status = 200, body = UserView), (status = 404, body = Problem)))]
async fn get_user(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(st.app.get_user(&a, &id).await?))
}

/// Changes name, role, status or password (administrators).
#[utoipa::path(patch, path = "/users/{id}", tag = "users", request_body = UserPatch, responses((status = 200, body = UserView), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_user(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    ApiJson(p): ApiJson<UserPatch>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(st.app.update_user(&a, &id, p).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
struct RoleRow {
    role: Role,
    label: &'static str,
    description: &'static str,
    permissions: Vec<Action>,
}

/// The permission table: what each role may do.
#[utoipa::path(get, path = "/roles", tag = "users", responses((status = 200, body = Vec<RoleRow>)))]
async fn roles(State(st): State<AppState>, ApiActor(a): ApiActor) -> ApiResult<Json<Vec<RoleRow>>> {
    st.app.authorize(&a, Action::ViewRoles)?;
    Ok(Json(
        Role::ALL
            .into_iter()
            .map(|r| RoleRow {
                role: r,
                label: r.label(),
                description: r.description(),
                permissions: Action::ALL.into_iter().filter(|x| permits(r, *x)).collect(),
            })
            .collect(),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct TokensQuery {
    /// Everyone's tokens (administrators and auditors).
    #[serde(default)]
    all: bool,
}

/// Your API tokens (or everyone's with `all=true`). Secrets are never shown again.
#[utoipa::path(get, path = "/tokens", tag = "tokens", params(TokensQuery), responses((status = 200, body = Vec<TokenView>)))]
async fn list_tokens(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<TokensQuery>,
) -> ApiResult<Json<Vec<TokenView>>> {
    Ok(Json(st.app.list_tokens(&a, q.all).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
struct CreatedToken {
    token: TokenView,
    /// The secret, shown only in this response.
    secret: String,
}

/// Creates a token for a signed-in person (from a browser session; tokens cannot mint tokens).
#[utoipa::path(post, path = "/tokens", tag = "tokens", request_body = NewToken, responses((status = 201, body = CreatedToken), (status = 422, body = Problem)))]
async fn create_token(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(new): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let (token, secret) = st.app.create_token(&a, new).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })))
}

/// Revokes a token: it stops working at once.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "tokens", responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn revoke_token(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    st.app.revoke_token(&a, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    /// Substring of the actor's id or label.
    actor: Option<String>,
    /// Action prefix, e.g. `user.`.
    action: Option<String>,
    object_type: Option<String>,
    object_id: Option<String>,
    /// Inclusive RFC 3339 lower bound.
    from: Option<String>,
    /// Exclusive RFC 3339 upper bound.
    to: Option<String>,
    /// Only events before this sequence number (paging, newest first).
    before: Option<i64>,
    /// At most this many (default 100, at most 1000).
    limit: Option<i64>,
}

fn rfc3339(field: &str, v: Option<String>) -> ApiResult<Option<String>> {
    match v.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => vouch_domain::time_fmt::parse(&s)
            .map(|t| Some(vouch_domain::time_fmt::format(t)))
            .map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-query",
                    format!("{field}: '{s}' is not an RFC 3339 time such as 2026-01-31T00:00:00Z"),
                )
            }),
    }
}

/// Audit events, newest first.
#[utoipa::path(get, path = "/audit-log", tag = "audit", params(AuditQuery), responses((status = 200, body = Vec<AuditEvent>), (status = 403, body = Problem)))]
async fn audit_log(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEvent>>> {
    let f = AuditFilter {
        actor: q.actor,
        action: q.action,
        object_type: q.object_type,
        object_id: q.object_id,
        from: rfc3339("from", q.from)?,
        to: rfc3339("to", q.to)?,
        before_seq: q.before,
        limit: q.limit.unwrap_or(100),
    };
    Ok(Json(st.app.audit_events(&a, &f).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
struct ChainStatus {
    ok: bool,
    events: Option<i64>,
    /// The first bad event, when the chain is broken.
    error: Option<String>,
}

/// Re-reads and re-hashes the whole audit log.
#[utoipa::path(get, path = "/audit-log/verify", tag = "audit", responses((status = 200, body = ChainStatus), (status = 409, body = ChainStatus)))]
async fn verify_audit_log(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
) -> ApiResult<Response> {
    Ok(match st.app.verify_audit_log(&a).await? {
        Ok(n) => Json(ChainStatus {
            ok: true,
            events: Some(n),
            error: None,
        })
        .into_response(),
        Err(e) => (
            StatusCode::CONFLICT,
            Json(ChainStatus {
                ok: false,
                events: None,
                error: Some(e.to_string()),
            }),
        )
            .into_response(),
    })
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Settings {
    require_mfa: bool,
}

#[utoipa::path(get, path = "/settings", tag = "settings", responses((status = 200, body = Settings)))]
async fn get_settings(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
) -> ApiResult<Json<Settings>> {
    st.app.authorize(&a, Action::ManageSettings)?;
    Ok(Json(Settings {
        require_mfa: st.app.require_mfa().await?,
    }))
}

#[utoipa::path(put, path = "/settings", tag = "settings", request_body = Settings, responses((status = 200, body = Settings), (status = 403, body = Problem)))]
async fn put_settings(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(s): ApiJson<Settings>,
) -> ApiResult<Json<Settings>> {
    st.app.set_require_mfa(&a, s.require_mfa).await?;
    Ok(Json(s))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// Changes the caller's own password (the current one is required).
#[utoipa::path(post, path = "/me/password", tag = "account", request_body = PasswordChange, responses((status = 204), (status = 422, body = Problem)))]
async fn change_password(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(p): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    st.app
        .change_own_password(&a, &p.current_password, &p.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
struct MfaEnrolment {
    /// Base32 secret for authenticator apps.
    secret: String,
    /// `otpauth://` URL (what the QR code encodes).
    otpauth_url: String,
}

/// Starts two-factor enrolment for the caller; confirm with a code to turn it on.
#[utoipa::path(post, path = "/me/mfa", tag = "account", responses((status = 200, body = MfaEnrolment)))]
async fn begin_mfa(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
) -> ApiResult<Json<MfaEnrolment>> {
    let e = st.app.begin_mfa_enrolment(&a).await?;
    Ok(Json(MfaEnrolment {
        secret: e.secret_base32,
        otpauth_url: e.otpauth_url,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct MfaCode {
    code: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct RecoveryCodes {
    /// Single-use recovery codes, shown only in this response.
    recovery_codes: Vec<String>,
}

/// Confirms enrolment with a current code; returns the recovery codes once.
#[utoipa::path(post, path = "/me/mfa/confirm", tag = "account", request_body = MfaCode, responses((status = 200, body = RecoveryCodes), (status = 422, body = Problem), (status = 409, body = Problem)))]
async fn confirm_mfa(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(c): ApiJson<MfaCode>,
) -> ApiResult<Json<RecoveryCodes>> {
    let codes = st.app.confirm_mfa_enrolment(&a, None, &c.code).await?;
    Ok(Json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

/// Removes a person's second factor and ends their sessions (administrators).
#[utoipa::path(post, path = "/users/{id}/reset-mfa", tag = "users", responses((status = 204), (status = 404, body = Problem)))]
async fn reset_mfa(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    st.app.reset_mfa(&a, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
