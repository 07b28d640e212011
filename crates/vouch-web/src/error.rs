//! Errors as people and programs expect them: `application/problem+json` (RFC 9457) from the
//! API, a readable page from the UI. Neither ever shows a stack trace or internal detail.
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use vouch_app::AppError;
use vouch_domain::validate::FieldError;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// An error leaving the API.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub Problem);

impl ApiError {
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> ApiError {
        ApiError(
            status,
            Problem {
                kind: format!("https://vouch.dev/problems/{kind}"),
                title: status.canonical_reason().unwrap_or("Error").to_string(),
                status: status.as_u16(),
                detail: detail.into(),
                errors: vec![],
                retry_after: None,
            },
        )
    }
}

pub(crate) fn status_of(e: &AppError) -> (StatusCode, &'static str) {
    match e {
        AppError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
        AppError::InvalidCredentials(_) => (StatusCode::UNAUTHORIZED, "invalid-credentials"),
        AppError::Forbidden { .. } => (StatusCode::FORBIDDEN, "forbidden"),
        AppError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation"),
        AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found"),
        AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        AppError::Gone(_) => (StatusCode::GONE, "gone"),
        AppError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too-large"),
        AppError::Vault(_) => (StatusCode::SERVICE_UNAVAILABLE, "vault"),
        AppError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate-limited"),
        AppError::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, "storage"),
    }
}

fn public_detail(e: &AppError) -> String {
    match e {
        // Database detail is for the operator's log, not the client.
        AppError::Store(inner) => {
            tracing::error!(error = %inner, "store error");
            "the database could not complete the request; nothing was changed. Try again, and tell your administrator if it persists".into()
        }
        AppError::Vault(inner) => {
            tracing::error!(error = %inner, "vault error");
            "the evidence vault could not complete the request; nothing was recorded. Try again, and tell your administrator if it persists".into()
        }
        other => other.to_string(),
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let (status, kind) = status_of(&e);
        let mut err = ApiError::new(status, kind, public_detail(&e));
        if let AppError::Validation(v) = &e {
            err.1.errors = v.clone();
        }
        if let AppError::RateLimited { retry_after_secs } = e {
            err.1.retry_after = Some(retry_after_secs);
        }
        err
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry = self.1.retry_after;
        let mut res = (self.0, axum::Json(self.1)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(r) = retry {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(r));
        }
        res
    }
}

/// An error leaving a UI page.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in: go to the sign-in page and come back.
    Login {
        next: String,
    },
    Redirect(String),
    Show {
        status: StatusCode,
        message: String,
    },
}

impl PageError {
    pub fn show(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError::Show {
            status,
            message: message.into(),
        }
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Unauthenticated => PageError::Login { next: "/".into() },
            other => PageError::show(status_of(&other).0, public_detail(&other)),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Login { next } => {
                let to = format!("/login?next={}", urlencode(&next));
                Redirect::to(&to).into_response()
            }
            PageError::Redirect(to) => Redirect::to(&to).into_response(),
            PageError::Show { status, message } => {
                let html = crate::views::views().error_page(status, &message);
                (status, axum::response::Html(html)).into_response()
            }
        }
    }
}

pub(crate) fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Unknown paths: problem+json under `/api`, a page elsewhere.
pub(crate) async fn fallback(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("no API endpoint at {}", uri.path()),
        )
        .into_response()
    } else {
        PageError::show(
            StatusCode::NOT_FOUND,
            format!("There is no page at {}.", uri.path()),
        )
        .into_response()
    }
}
