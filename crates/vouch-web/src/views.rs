//! Server-rendered pages: minijinja templates compiled once from files embedded in the binary.
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value, context};
use std::sync::OnceLock;
use vouch_app::Action;
use vouch_app::auth::Session;
use vouch_app::authz::permits;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../templates/", $name)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates![
    "base.html",
    "error.html",
    "login.html",
    "mfa.html",
    "setup.html",
    "dashboard.html",
    "criteria.html",
    "criterion.html",
    "users.html",
    "user.html",
    "roles.html",
    "tokens.html",
    "audit_log.html",
    "account.html",
    "mfa_enrol.html",
    "recovery_codes.html",
    "settings.html",
    "_control_fields.html",
    "controls.html",
    "control.html",
    "control_new.html",
    "scope.html",
    "readiness.html",
    "_evidence_fields.html",
    "evidence_list.html",
    "evidence_new.html",
    "evidence.html",
    "vault.html",
    "resources.html",
    "resource.html",
    "import_new.html",
    "runs.html",
    "run.html",
    "accounts.html",
    // Integrations.
    "integrations.html",
    "integration.html",
    "integration_form.html",
];

const STYLESHEET: &str = include_str!("../assets/app.css");

pub(crate) struct Views {
    env: Environment<'static>,
}

/// The compiled templates. They are immutable program text, like the embedded criteria, so a
/// process-wide value is fine; configuration never lives here.
pub(crate) fn views() -> &'static Views {
    static V: OnceLock<Views> = OnceLock::new();
    V.get_or_init(Views::new)
}

impl Views {
    fn new() -> Views {
        let mut env = Environment::new();
        for (name, src) in TEMPLATES {
            env.add_template(name, src)
                .unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        Views { env }
    }

    pub fn render(&self, name: &str, ctx: Value) -> Response {
        match self.env.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                tracing::error!(template = name, error = %e, "template failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html(self.error_page(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "This page could not be shown.",
                    )),
                )
                    .into_response()
            }
        }
    }

    pub fn error_page(&self, status: StatusCode, message: &str) -> String {
        let ctx = context! { title => status.canonical_reason().unwrap_or("Error"), status => status.as_u16(), message => message };
        self.env
            .get_template("error.html")
            .and_then(|t| t.render(ctx))
            .unwrap_or_else(|_| format!("<!doctype html><title>Error</title><p>{}</p>", status))
    }
}

struct NavItem(&'static str, &'static str, Option<Action>);

const NAV: &[(&str, &[NavItem])] = &[
    ("Overview", &[NavItem("/", "Dashboard", None)]),
    (
        "Compliance",
        &[
            NavItem("/readiness", "Readiness", Some(Action::ViewControls)),
            NavItem("/controls", "Controls", Some(Action::ViewControls)),
            NavItem("/evidence", "Evidence", Some(Action::ViewOwnEvidence)),
            NavItem("/criteria", "Criteria", Some(Action::ViewCriteria)),
            NavItem("/scope", "Scope", Some(Action::ViewControls)),
        ],
    ),
    (
        "Collected",
        &[
            NavItem("/resources", "Resources", Some(Action::ViewResources)),
            NavItem("/accounts", "Accounts", Some(Action::ViewResources)),
            NavItem("/runs", "Collection runs", Some(Action::ViewResources)),
            NavItem("/integrations", "Integrations", Some(Action::ViewResources)),
        ],
    ),
    (
        "Administration",
        &[
            NavItem("/users", "Users", Some(Action::ViewUsers)),
            NavItem("/roles", "Roles", Some(Action::ViewRoles)),
            NavItem("/tokens", "API tokens", Some(Action::ManageOwnTokens)),
            NavItem("/audit-log", "Audit log", Some(Action::ViewAuditLog)),
            NavItem("/settings", "Settings", Some(Action::ManageSettings)),
        ],
    ),
    ("You", &[NavItem("/account", "My account", None)]),
];

/// The context every signed-in page starts from: the person, the navigation their role
/// allows (with `active` marking the current section), and the CSRF token for forms.
pub(crate) fn page(session: &Session, title: &str, active: &str) -> Value {
    let role = session.actor.role;
    let nav: Vec<Value> = NAV
        .iter()
        .filter_map(|(caption, items)| {
            let items: Vec<Value> = items
                .iter()
                .filter(|i| i.2.is_none_or(|a| permits(role, a)))
                .map(|i| context! { href => i.0, label => i.1, active => i.0 == active })
                .collect();
            (!items.is_empty()).then(|| context! { caption => caption, items => items })
        })
        .collect();
    context! {
        title => title,
        user => context! {
            id => session.user.id,
            name => session.user.name,
            email => session.user.email,
            role => role.as_str(),
            role_label => role.label(),
        },
        nav => nav,
        csrf => session.csrf_token,
    }
}

pub(crate) fn flash(kind: &str, message: impl Into<String>) -> Value {
    context! { kind => kind, message => message.into() }
}

pub(crate) async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

/// Turns validation errors into a field → message map for a form template; any other error
/// becomes an error page.
pub(crate) fn form_errors(e: vouch_app::AppError) -> Result<Value, crate::error::PageError> {
    match e {
        vouch_app::AppError::Validation(list) => {
            let map: std::collections::BTreeMap<String, String> =
                list.into_iter().map(|f| (f.field, f.message)).collect();
            Ok(Value::from_serialize(&map))
        }
        other => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_compiles() {
        let v = super::views();
        for (name, _) in super::TEMPLATES {
            assert!(v.env.get_template(name).is_ok(), "{name}");
        }
    }
}
