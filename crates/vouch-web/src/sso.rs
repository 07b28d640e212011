//! Single sign-on through OpenID Connect: `/auth/sso/start` sends the browser to the identity
//! provider; `/auth/sso/callback` completes the code exchange and signs the person in.
//!
//! The state, nonce and PKCE verifier stay server-side (in `pending_logins`), keyed by the
//! state and bound to this browser by a random cookie, so a callback works once and only in
//! the browser that started it.
use crate::error::PageError;
use crate::extract::{Client, SESSION_COOKIE, cookie, same_secret};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::cookie::CookieJar;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vouch_app::auth::{MfaState, SsoIdentity};

const BINDING_COOKIE: &str = "vouch_sso";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/sso/start", get(start))
        .route("/auth/sso/callback", get(callback))
}

#[derive(Serialize, Deserialize)]
struct Pending {
    login: vouch_sso::PendingLogin,
    next: String,
}

#[derive(Deserialize)]
struct StartQuery {
    next: Option<String>,
}

fn sha(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn not_configured() -> PageError {
    PageError::show(
        StatusCode::NOT_FOUND,
        "Single sign-on is not configured on this Vouch.",
    )
}

async fn start(
    State(st): State<AppState>,
    jar: CookieJar,
    Query(q): Query<StartQuery>,
) -> Result<Response, PageError> {
    let sso = st.sso.clone().ok_or_else(not_configured)?;
    let (url, login) = sso.begin();
    let binding = hex::encode(rand::random::<[u8; 24]>());
    let next = q
        .next
        .filter(|n| n.starts_with('/') && !n.starts_with("//"))
        .unwrap_or_else(|| "/".into());
    let payload = serde_json::to_string(&Pending {
        login: login.clone(),
        next,
    })
    .map_err(|e| PageError::show(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    st.app
        .put_pending_sso(
            &login.state,
            &sha(&binding),
            &payload,
            time::Duration::minutes(10),
        )
        .await?;
    let jar = jar.add(cookie(BINDING_COOKIE, binding, st.config.secure_cookies()));
    Ok((jar, Redirect::to(&url)).into_response())
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn back_to_login(message: &str) -> Response {
    Redirect::to(&format!(
        "/login?error={}",
        crate::error::urlencode(message)
    ))
    .into_response()
}

async fn callback(
    State(st): State<AppState>,
    jar: CookieJar,
    Client(client): Client,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, PageError> {
    let sso = st.sso.clone().ok_or_else(not_configured)?;
    if let Some(err) = q.error {
        let why = q.error_description.unwrap_or_default();
        return Ok(back_to_login(&format!(
            "The identity provider refused the sign-in ({err}) {why}"
        )));
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return Ok(back_to_login(
            "The sign-in response was incomplete; try again.",
        ));
    };
    // Taken (deleted) whatever happens next, so a callback URL is good once.
    let Some((binding_hash, payload)) = st.app.take_pending_sso(&state).await? else {
        return Ok(back_to_login(
            "This sign-in link has already been used or has expired; start again.",
        ));
    };
    let bound = jar
        .get(BINDING_COOKIE)
        .is_some_and(|c| same_secret(&sha(c.value()), &binding_hash));
    if !bound {
        return Ok(back_to_login(
            "This sign-in was started in another browser; start again.",
        ));
    }
    let Ok(p) = serde_json::from_str::<Pending>(&payload) else {
        return Ok(back_to_login(
            "The sign-in could not be completed; start again.",
        ));
    };
    let identity = match sso.finish(&p.login, &code, &state).await {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "single sign-on failed");
            return Ok(back_to_login(&format!("Single sign-on failed: {e}")));
        }
    };
    let id = SsoIdentity {
        issuer: identity.issuer,
        subject: identity.subject,
        email: identity.email,
        email_verified: identity.email_verified,
    };
    match st.app.login_sso(&id, &client).await {
        Ok(s) => {
            let jar = jar
                .remove(cookie(
                    BINDING_COOKIE,
                    String::new(),
                    st.config.secure_cookies(),
                ))
                .add(cookie(
                    SESSION_COOKIE,
                    s.cookie_value,
                    st.config.secure_cookies(),
                ));
            let to = match s.mfa {
                MfaState::Ok => p.next,
                MfaState::Pending => "/login/mfa".into(),
                MfaState::Enrol => "/account/mfa".into(),
            };
            Ok((jar, Redirect::to(&to)).into_response())
        }
        Err(vouch_app::AppError::InvalidCredentials(m)) => Ok(back_to_login(&m)),
        Err(e) => Err(e.into()),
    }
}
