//! Request extractors: who is asking (session or API token), CSRF checks, and body parsers
//! whose rejections are clear errors rather than framework defaults.
use crate::error::{ApiError, PageError};
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use vouch_app::auth::{ClientInfo, MfaState, Session};
use vouch_app::{Actor, AppError};

pub const SESSION_COOKIE: &str = "vouch_session";
/// Holds the CSRF secret for forms shown before sign-in (sign-in and setup pages).
pub const PRE_COOKIE: &str = "vouch_pre";
pub const CSRF_HEADER: &str = "x-csrf-token";

pub(crate) fn request_id(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get(crate::REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

pub(crate) fn client_info(parts: &Parts) -> ClientInfo {
    ClientInfo {
        ip: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        request_id: request_id(parts),
    }
}

/// Compares secrets without an early exit, so timing does not reveal how much matched.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

pub(crate) fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .build()
}

/// Request metadata every handler may want.
pub(crate) struct Client(pub ClientInfo);

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Client(client_info(parts)))
    }
}

async fn resolve_session(parts: &Parts, st: &AppState) -> Result<Option<Session>, AppError> {
    let jar = CookieJar::from_headers(&parts.headers);
    let Some(c) = jar.get(SESSION_COOKIE) else {
        return Ok(None);
    };
    st.app.session(c.value(), request_id(parts)).await
}

/// A signed-in person in any second-factor state (for the code and enrolment pages).
pub(crate) struct AnySession(pub Session);

impl FromRequestParts<AppState> for AnySession {
    type Rejection = PageError;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_else(|| "/".into());
        match resolve_session(parts, st).await {
            Ok(Some(s)) => Ok(AnySession(s)),
            Ok(None) => Err(PageError::Login { next }),
            Err(e) => Err(e.into()),
        }
    }
}

/// A fully signed-in person. Someone still owing a second factor is sent to give it, and
/// someone who must enrol is sent to enrol.
pub(crate) struct UiUser(pub Session);

impl FromRequestParts<AppState> for UiUser {
    type Rejection = PageError;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let AnySession(s) = AnySession::from_request_parts(parts, st).await?;
        match s.mfa {
            MfaState::Ok => Ok(UiUser(s)),
            MfaState::Pending => Err(PageError::Redirect("/login/mfa".into())),
            MfaState::Enrol => Err(PageError::Redirect("/account/mfa".into())),
        }
    }
}

/// Checks a form's `_csrf` field against the session's token.
pub(crate) fn check_csrf(session: &Session, given: &str) -> Result<(), PageError> {
    if same_secret(&session.csrf_token, given) {
        Ok(())
    } else {
        Err(csrf_failed())
    }
}

/// The page shown when a form's CSRF token is missing or wrong.
pub(crate) fn csrf_failed() -> PageError {
    PageError::show(
        StatusCode::FORBIDDEN,
        "This form has expired or did not come from Vouch (CSRF check failed). Go back, reload the page and try again.",
    )
}

/// The caller of an API endpoint: an API token (`Authorization: Bearer vouch_…`), or a browser
/// session, which for anything but reads must also send its CSRF token in `X-CSRF-Token`.
pub(crate) struct ApiActor(pub Actor);

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let rid = request_id(parts);
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let auth = auth.to_str().unwrap_or("");
            let Some(secret) = auth.strip_prefix("Bearer ").map(str::trim) else {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "the Authorization header must be 'Bearer <token>'",
                ));
            };
            return match st.app.token_actor(secret, rid).await? {
                Some(a) => Ok(ApiActor(a)),
                None => Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "the API token is unknown, revoked or expired",
                )),
            };
        }
        let Some(s) = resolve_session(parts, st).await? else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "sign in, or send an API token as 'Authorization: Bearer <token>'",
            ));
        };
        if s.mfa != MfaState::Ok {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "finish signing in (two-factor authentication) first",
            ));
        }
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let given = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !same_secret(&s.csrf_token, given) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "a browser session must send its CSRF token in the X-CSRF-Token header",
                ));
            }
        }
        Ok(ApiActor(s.actor))
    }
}

/// JSON body whose rejections are problem+json: 400 for malformed JSON, 422 for the wrong
/// shape (including unknown fields), 413 for a body over the limit, 415 without a JSON type.
pub(crate) struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(json_rejection(rej)),
        }
    }
}

fn json_rejection(rej: JsonRejection) -> ApiError {
    let status = rej.status();
    let (kind, detail) = match &rej {
        JsonRejection::JsonSyntaxError(e) => (
            "malformed-json",
            format!("the body is not valid JSON: {}", e.body_text()),
        ),
        JsonRejection::JsonDataError(e) => (
            "invalid-body",
            format!(
                "the JSON does not have the expected shape: {}",
                e.body_text()
            ),
        ),
        JsonRejection::MissingJsonContentType(_) => (
            "unsupported-media-type",
            "send the body as application/json".to_string(),
        ),
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => (
            "too-large",
            "the request body is larger than this server accepts".to_string(),
        ),
        other => ("invalid-body", other.body_text()),
    };
    ApiError::new(status, kind, detail)
}

/// A query string whose rejections are problem+json (400), like every other API error, rather
/// than the framework's plain text.
pub(crate) struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(rej) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid-query",
                rej.body_text(),
            )),
        }
    }
}

/// A URL-encoded form whose rejections are readable pages. Read with `serde_html_form`
/// (through axum-extra), so repeated keys such as checkboxes fill a `Vec`.
pub(crate) struct UiForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for UiForm<T> {
    type Rejection = PageError;
    async fn from_request(req: Request, st: &AppState) -> Result<Self, Self::Rejection> {
        match axum_extra::extract::Form::<T>::from_request(req, st).await {
            Ok(axum_extra::extract::Form(v)) => Ok(UiForm(v)),
            Err(rej) => {
                let status = rej.status();
                let msg = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    "The form is larger than this server accepts.".to_string()
                } else {
                    format!("The form could not be read: {}", rej.body_text())
                };
                Err(PageError::show(status, msg))
            }
        }
    }
}

/// A form that carries nothing but its CSRF token (sign out, revoke, remove).
#[derive(serde::Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(rename = "_csrf")]
    pub csrf: String,
}
