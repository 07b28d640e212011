//! A fake Okta: `GET /api/v1/users` (cursor pagination through `Link`, leaving out
//! `DEPROVISIONED` users as Okta's default listing does) and `GET /api/v1/users/{id}/factors`.
use super::{Faults, Incoming, Server, Shared, json, not_found, page_of, with_link};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::MutexGuard;

/// The state a [`FakeOkta`] serves. Change it between runs through [`FakeOkta::state`].
#[derive(Clone, Debug)]
pub struct OktaState {
    /// The API token the server accepts (`Authorization: SSWS <token>`).
    pub token: String,
    pub users: Vec<OktaUser>,
    pub page_size: usize,
    pub faults: Faults,
}

#[derive(Clone, Debug)]
pub struct OktaUser {
    pub id: String,
    /// `ACTIVE`, `SUSPENDED`, `DEPROVISIONED`, …
    pub status: String,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub created: String,
    pub last_login: Option<String>,
    pub factors: Vec<OktaFactor>,
}

#[derive(Clone, Debug)]
pub struct OktaFactor {
    pub id: String,
    /// `push`, `token:software:totp`, `webauthn`, `sms`, …
    pub factor_type: String,
    /// `OKTA`, `GOOGLE`, `FIDO`, …
    pub provider: String,
    /// `ACTIVE`, `PENDING_ACTIVATION`, …
    pub status: String,
}

impl OktaUser {
    pub fn new(id: &str, login: &str, status: &str) -> OktaUser {
        let first = login.split('@').next().unwrap_or(login);
        OktaUser {
            id: id.into(),
            status: status.into(),
            login: login.into(),
            first_name: first[..1].to_uppercase() + &first[1..],
            last_name: "Example".into(),
            created: "2025-03-01T09:00:00.000Z".into(),
            last_login: Some("2026-11-20T08:30:00.000Z".into()),
            factors: Vec::new(),
        }
    }

    pub fn with_factor(mut self, factor_type: &str, provider: &str, status: &str) -> OktaUser {
        self.factors.push(OktaFactor {
            id: format!("{}f{}", self.id, self.factors.len() + 1),
            factor_type: factor_type.into(),
            provider: provider.into(),
            status: status.into(),
        });
        self
    }
}

impl OktaState {
    /// Token `00fake_okta_token_for_tests`; five users: `ana` (push + WebAuthn), `ben`
    /// (TOTP), `cara` (no factor), `dev` (SMS, suspended), `eve` (deprovisioned, so absent
    /// from the listing).
    pub fn sample() -> OktaState {
        OktaState {
            token: "00fake_okta_token_for_tests".into(),
            users: vec![
                OktaUser::new("00u1ana", "ana@acme.com", "ACTIVE")
                    .with_factor("push", "OKTA", "ACTIVE")
                    .with_factor("webauthn", "FIDO", "ACTIVE"),
                OktaUser::new("00u2ben", "ben@acme.com", "ACTIVE").with_factor(
                    "token:software:totp",
                    "GOOGLE",
                    "ACTIVE",
                ),
                OktaUser::new("00u3cara", "cara@acme.com", "ACTIVE"),
                OktaUser::new("00u4dev", "dev@acme.com", "SUSPENDED")
                    .with_factor("sms", "OKTA", "ACTIVE"),
                OktaUser::new("00u5eve", "eve@acme.com", "DEPROVISIONED"),
            ],
            page_size: super::DEFAULT_PAGE_SIZE,
            faults: Faults::default(),
        }
    }
}

/// A running fake Okta org; stops when dropped.
pub struct FakeOkta {
    server: Server<OktaState>,
}

impl FakeOkta {
    pub async fn start(state: OktaState) -> FakeOkta {
        FakeOkta {
            server: Server::start(state, handle).await,
        }
    }

    /// The org URL to configure (`http://127.0.0.1:PORT/`).
    pub fn url(&self) -> String {
        self.server.url.clone()
    }

    /// Settings for the connector pointing at this server with its token.
    pub fn settings(&self) -> crate::okta::Settings {
        crate::okta::Settings::new(self.url(), self.state().token.clone())
    }

    /// The state, to read or change (do not hold it across an `.await`).
    pub fn state(&self) -> MutexGuard<'_, OktaState> {
        self.server.shared.state()
    }

    /// Every request received, as `GET /path?query`, in order (retried attempts included).
    pub fn requests(&self) -> Vec<String> {
        self.server.requests()
    }
}

fn handle(shared: &Shared<OktaState>, st: &mut OktaState, req: &Incoming) -> Response {
    if let Some(resp) = st.faults.answer(&req.path) {
        return resp;
    }
    let token = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("SSWS "));
    if st.faults.revoked || token != Some(st.token.as_str()) {
        return json(
            StatusCode::UNAUTHORIZED,
            json!({
                "errorCode": "E0000011",
                "errorSummary": "Invalid token provided",
                "errorLink": "E0000011",
                "errorId": "oaeFakeErrorId",
                "errorCauses": []
            }),
        );
    }
    let base = shared.url.as_str();
    let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    match (req.method.as_str(), parts.as_slice()) {
        ("GET", ["api", "v1", "users"]) => {
            let listed: Vec<&OktaUser> = st
                .users
                .iter()
                .filter(|u| u.status != "DEPROVISIONED")
                .collect();
            let limit: usize = req
                .param("limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(200);
            let size = limit.min(st.page_size);
            let from = match req.param("after") {
                Some(after) => match listed.iter().position(|u| u.id == after) {
                    Some(i) => i + 1,
                    None => {
                        return json(
                            StatusCode::BAD_REQUEST,
                            json!({"errorCode": "E0000031", "errorSummary": "Invalid search criteria.", "errorCauses": []}),
                        );
                    }
                },
                None => 0,
            };
            let (page, more) = page_of(&listed, from, size);
            let self_link = format!("<{base}api/v1/users?limit={limit}>; rel=\"self\"");
            let link = match (more, page.last()) {
                (true, Some(last)) => format!(
                    "{self_link}, <{base}api/v1/users?after={}&limit={limit}>; rel=\"next\"",
                    last.id
                ),
                _ => self_link,
            };
            let body: Vec<Value> = page.iter().map(|u| user_json(base, u)).collect();
            with_link(json(StatusCode::OK, Value::Array(body)), Some(link))
        }
        ("GET", ["api", "v1", "users", id, "factors"]) => {
            let Some(user) = st.users.iter().find(|u| u.id == *id) else {
                return not_found(json!({
                    "errorCode": "E0000007",
                    "errorSummary": format!("Not found: Resource not found: {id} (User)"),
                    "errorLink": "E0000007",
                    "errorId": "oaeFakeErrorId",
                    "errorCauses": []
                }));
            };
            let body: Vec<Value> = user
                .factors
                .iter()
                .map(|f| {
                    json!({
                        "id": f.id,
                        "factorType": f.factor_type,
                        "provider": f.provider,
                        "vendorName": f.provider,
                        "status": f.status,
                        "created": "2025-03-02T10:00:00.000Z",
                        "lastUpdated": "2025-03-02T10:00:00.000Z",
                        "profile": {},
                        "_links": {"self": {"href": format!("{base}api/v1/users/{}/factors/{}", user.id, f.id)}}
                    })
                })
                .collect();
            json(StatusCode::OK, Value::Array(body))
        }
        _ => not_found(json!({
            "errorCode": "E0000022",
            "errorSummary": "The endpoint does not support the provided HTTP method",
            "errorCauses": []
        })),
    }
}

fn user_json(base: &str, u: &OktaUser) -> Value {
    json!({
        "id": u.id,
        "status": u.status,
        "created": u.created,
        "activated": u.created,
        "statusChanged": u.created,
        "lastLogin": u.last_login,
        "lastUpdated": "2026-11-01T12:00:00.000Z",
        "passwordChanged": u.created,
        "type": {"id": "otyFakeDefaultType"},
        "profile": {
            "firstName": u.first_name,
            "lastName": u.last_name,
            "mobilePhone": null,
            "secondEmail": null,
            "login": u.login,
            "email": u.login
        },
        "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
        "_links": {"self": {"href": format!("{base}api/v1/users/{}", u.id)}}
    })
}
