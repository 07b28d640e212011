//! Vouch's HTTP side: the REST API under `/api/v1` with its OpenAPI document, the
//! server-rendered UI, sign-in (password, TOTP, OpenID Connect), health and metrics.
//!
//! Handlers translate HTTP into calls on `vouch_app::App` and back; they hold no rules of
//! their own. Every state change a handler causes goes through the app, which checks the
//! role and writes the audit event.
#![forbid(unsafe_code)]

mod api;
mod collect_api;
mod collect_pages;
mod control_api;
mod control_pages;
mod error;
mod evidence_api;
mod evidence_pages;
mod evidence_upload;
mod extract;
// Integrations: API and pages (list, form, run now).
mod integration_api;
mod integration_pages;
mod metrics;
mod pages;
mod sso;
mod state;
mod views;

pub use state::{SsoSettings, WebConfig};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use std::sync::Arc;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use vouch_app::App;

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Builds the whole HTTP application. `sso` is a discovered identity-provider client when
/// single sign-on is configured.
pub fn router(app: App, config: WebConfig, sso: Option<Arc<vouch_sso::OidcClient>>) -> Router {
    let max_body = config.max_body_bytes;
    let state = state::AppState::new(app, config, sso);
    Router::new()
        .merge(pages::routes())
        .merge(control_pages::routes())
        .merge(evidence_pages::routes())
        // Collected resources: resources, imports, runs and accounts (pages).
        .merge(collect_pages::routes())
        // Integrations: list, create/change form, an integration's page with Run now.
        .merge(integration_pages::routes())
        .merge(sso::routes())
        .nest("/api/v1", api::routes())
        .route("/api/openapi.json", axum::routing::get(api::openapi_json))
        .route("/healthz", axum::routing::get(api::healthz))
        .route("/readyz", axum::routing::get(api::readyz))
        .route("/metrics", axum::routing::get(metrics::render))
        .route("/assets/app.css", axum::routing::get(views::stylesheet))
        .fallback(error::fallback)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; form-action 'self'; frame-ancestors 'none'",
            ),
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
