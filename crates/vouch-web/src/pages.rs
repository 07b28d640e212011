//! The UI's pages and forms. Each form carries the CSRF token; each action calls the app.
use crate::error::PageError;
use crate::extract::{
    AnySession, Client, CsrfOnly, PRE_COOKIE, SESSION_COOKIE, UiForm, UiUser, check_csrf, cookie,
    same_secret,
};
use crate::state::AppState;
use crate::views::{flash, form_errors, page, views};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use minijinja::{Value, context};
use serde::Deserialize;
use vouch_app::auth::MfaState;
use vouch_app::authz::{Action, permits};
use vouch_app::users::{NewUser, UserPatch};
use vouch_app::{AppError, AuditFilter};
use vouch_domain::{Category, Role};

type PageResult = Result<Response, PageError>;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard))
        .route("/login", get(login_form).post(login))
        .route("/login/mfa", get(mfa_form).post(mfa_submit))
        .route("/logout", post(logout))
        .route("/setup", get(setup_form).post(setup))
        .route("/criteria", get(criteria))
        .route("/criteria/{id}", get(criterion))
        .route("/users", get(users).post(create_user))
        .route("/users/{id}", get(user).post(update_user))
        .route("/users/{id}/reset-mfa", post(reset_mfa))
        .route("/roles", get(roles))
        .route("/tokens", get(tokens).post(create_token))
        .route("/tokens/{id}/revoke", post(revoke_token))
        .route("/audit-log", get(audit_log))
        .route("/account", get(account))
        .route("/account/password", post(change_password))
        .route("/account/mfa", get(mfa_enrol).post(mfa_confirm))
        .route("/settings", get(settings).post(update_settings))
}

/// Only same-site relative paths are followed after sign-in, so a crafted link cannot send
/// someone to another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".into(),
    }
}

fn render(name: &str, ctx: Value) -> PageResult {
    Ok(views().render(name, ctx))
}

/// Turns validation errors into a field → message map for the template, other errors into
/// an error page.

// ---------- sign-in ----------

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
    error: Option<String>,
}

/// The anonymous CSRF secret: reuse the cookie's, or mint one.
fn pre_csrf(jar: &CookieJar, st: &AppState) -> (CookieJar, String) {
    if let Some(c) = jar.get(PRE_COOKIE)
        && c.value().len() >= 32
    {
        return (jar.clone(), c.value().to_string());
    }
    let v = hex::encode(rand::random::<[u8; 24]>());
    (
        jar.clone()
            .add(cookie(PRE_COOKIE, v.clone(), st.config.secure_cookies())),
        v,
    )
}

fn check_pre_csrf(jar: &CookieJar, given: &str) -> Result<(), PageError> {
    match jar.get(PRE_COOKIE) {
        Some(c) if same_secret(c.value(), given) => Ok(()),
        _ => Err(PageError::show(
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from Vouch (CSRF check failed). Reload the sign-in page and try again.",
        )),
    }
}

fn login_page(st: &AppState, csrf: &str, next: &str, email: &str, error: Option<String>) -> Value {
    context! {
        title => "Sign in",
        csrf => csrf,
        next => next,
        email => email,
        error => error,
        sso => st.config.sso.as_ref().map(|s| s.display_name.clone()),
    }
}

async fn login_form(
    State(st): State<AppState>,
    jar: CookieJar,
    Query(q): Query<NextQuery>,
) -> Response {
    let (jar, csrf) = pre_csrf(&jar, &st);
    let next = safe_next(q.next.as_deref());
    (
        jar,
        views().render("login.html", login_page(&st, &csrf, &next, "", q.error)),
    )
        .into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    email: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(st): State<AppState>,
    jar: CookieJar,
    Client(client): Client,
    UiForm(f): UiForm<LoginForm>,
) -> PageResult {
    check_pre_csrf(&jar, &f.csrf)?;
    let next = safe_next(f.next.as_deref());
    match st.app.login_password(&f.email, &f.password, &client).await {
        Ok(s) => {
            let jar = jar.add(cookie(
                SESSION_COOKIE,
                s.cookie_value,
                st.config.secure_cookies(),
            ));
            let to = match s.mfa {
                MfaState::Ok => next,
                MfaState::Pending => "/login/mfa".into(),
                MfaState::Enrol => "/account/mfa".into(),
            };
            Ok((jar, Redirect::to(&to)).into_response())
        }
        Err(e @ (AppError::InvalidCredentials(_) | AppError::RateLimited { .. })) => {
            let status = crate::error::status_of(&e).0;
            let ctx = login_page(&st, &f.csrf, &next, &f.email, Some(e.to_string()));
            Ok(with_retry_after(
                &e,
                (status, views().render("login.html", ctx)).into_response(),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// A rate-limited answer says when to try again, as the API's does.
fn with_retry_after(e: &AppError, mut res: Response) -> Response {
    if let AppError::RateLimited { retry_after_secs } = e {
        res.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(*retry_after_secs),
        );
    }
    res
}

async fn mfa_form(AnySession(s): AnySession) -> PageResult {
    if s.mfa != MfaState::Pending {
        return Ok(Redirect::to("/").into_response());
    }
    render(
        "mfa.html",
        context! { title => "Two-factor authentication", csrf => s.csrf_token, email => s.user.email },
    )
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    code: String,
}

async fn mfa_submit(
    State(st): State<AppState>,
    AnySession(s): AnySession,
    UiForm(f): UiForm<CodeForm>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    match st.app.verify_second_factor(&s, &f.code).await {
        Ok(()) => Ok(Redirect::to("/").into_response()),
        Err(e @ (AppError::Validation(_) | AppError::RateLimited { .. })) => {
            let status = crate::error::status_of(&e).0;
            let ctx = context! { title => "Two-factor authentication", csrf => s.csrf_token, email => s.user.email, error => e.to_string() };
            Ok(with_retry_after(
                &e,
                (status, views().render("mfa.html", ctx)).into_response(),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

async fn logout(
    State(st): State<AppState>,
    jar: CookieJar,
    AnySession(s): AnySession,
    UiForm(f): UiForm<CsrfOnly>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    st.app.logout(&s).await?;
    let jar = jar.remove(cookie(
        SESSION_COOKIE,
        String::new(),
        st.config.secure_cookies(),
    ));
    Ok((jar, Redirect::to("/login")).into_response())
}

// ---------- first-run setup ----------

#[derive(Deserialize)]
struct SetupQuery {
    token: Option<String>,
}

async fn setup_form(
    State(st): State<AppState>,
    jar: CookieJar,
    Query(q): Query<SetupQuery>,
) -> PageResult {
    let token = q.token.unwrap_or_default();
    if !st.app.setup_token_valid(&token).await? {
        return Err(PageError::show(
            StatusCode::FORBIDDEN,
            "This setup link is not valid or Vouch is already set up. Sign in, or create an administrator with `vouch user create-admin`.",
        ));
    }
    let (jar, csrf) = pre_csrf(&jar, &st);
    let ctx =
        context! { title => "Set up Vouch", csrf => csrf, token => token, email => "", name => "" };
    Ok((jar, views().render("setup.html", ctx)).into_response())
}

#[derive(Deserialize)]
struct SetupForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    token: String,
    email: String,
    name: String,
    password: String,
}

async fn setup(
    State(st): State<AppState>,
    jar: CookieJar,
    Client(client): Client,
    UiForm(f): UiForm<SetupForm>,
) -> PageResult {
    check_pre_csrf(&jar, &f.csrf)?;
    let actor = vouch_app::Actor::system().with_request_id(client.request_id.clone());
    match st
        .app
        .create_first_admin(&actor, Some(&f.token), &f.email, &f.name, &f.password)
        .await
    {
        Ok(_) => {
            let s = st
                .app
                .login_password(&f.email, &f.password, &client)
                .await?;
            let jar = jar.add(cookie(
                SESSION_COOKIE,
                s.cookie_value,
                st.config.secure_cookies(),
            ));
            Ok((jar, Redirect::to("/")).into_response())
        }
        Err(e) => {
            let errors = form_errors(e)?;
            let ctx = context! { title => "Set up Vouch", csrf => f.csrf, token => f.token, email => f.email, name => f.name, errors => errors };
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                views().render("setup.html", ctx),
            )
                .into_response())
        }
    }
}

// ---------- dashboard ----------

async fn dashboard(State(st): State<AppState>, UiUser(s): UiUser) -> PageResult {
    let actor = &s.actor;
    let catalog = st.app.criteria(actor)?;
    let scope = if permits(actor.role, Action::ViewControls) {
        Some(st.app.scope(actor).await?)
    } else {
        None
    };
    let categories: Vec<Value> = Category::ALL
        .iter()
        .map(|c| {
            let in_scope = scope.as_ref().is_none_or(|sc| sc.includes(*c));
            context! { id => c.as_str(), label => c.label(), count => catalog.in_category(*c).count(), in_scope => in_scope }
        })
        .collect();
    let can_admin = permits(actor.role, Action::ViewUsers);
    let (users, log, chain) = if can_admin {
        let users = st.app.list_users(actor).await?;
        let log = if permits(actor.role, Action::ViewAuditLog) {
            st.app
                .audit_events(
                    actor,
                    &AuditFilter {
                        limit: 8,
                        ..Default::default()
                    },
                )
                .await?
        } else {
            vec![]
        };
        // The count comes from the chain's head; re-hashing the whole log on every dashboard
        // load would grow with it. The audit-log page verifies.
        let chain = if permits(actor.role, Action::ViewAuditLog) {
            Some(context! { count => st.app.audit_event_count(actor).await? })
        } else {
            None
        };
        (users, log, chain)
    } else {
        (vec![], vec![], None)
    };
    let active = users.iter().filter(|u| u.status == "active").count();
    let with_mfa = users
        .iter()
        .filter(|u| u.status == "active" && (u.mfa_enabled || u.sso_linked))
        .count();
    let by_role: Vec<Value> = Role::ALL
        .iter()
        .map(|r| context! { label => r.label(), count => users.iter().filter(|u| u.role == *r && u.status == "active").count() })
        .collect();
    let require_mfa = st.app.require_mfa().await?;
    let programme = if permits(actor.role, Action::ViewControls) {
        let r = st.app.readiness(actor).await?;
        let controls = st.app.list_controls(actor).await?;
        let count = |k: vouch_domain::readiness::ControlStatus| {
            controls.iter().filter(|c| c.status == k).count()
        };
        let mine: Vec<Value> = controls
            .iter()
            .filter(|c| c.control.owner_id.as_deref() == Some(s.user.id.as_str()) || c.control.backup_owner_id.as_deref() == Some(s.user.id.as_str()))
            .map(|c| context! { id => c.control.id, name => c.control.name, status_label => c.status.label(), badge => crate::control_pages::status_badge(c.status), backup => c.control.owner_id.as_deref() != Some(s.user.id.as_str()) })
            .collect();
        Some(context! {
            overall_pct => r.overall_pct,
            criteria => r.criteria.len(),
            covered => r.criteria.iter().filter(|c| c.covered).count(),
            gaps => r.gaps.len(),
            controls => controls.len(),
            ready => count(vouch_domain::readiness::ControlStatus::Ready),
            no_proof => count(vouch_domain::readiness::ControlStatus::NoProof),
            incomplete => count(vouch_domain::readiness::ControlStatus::Incomplete),
            stale => count(vouch_domain::readiness::ControlStatus::Stale),
            evidence => r.evidence,
            mine => mine,
        })
    } else {
        None
    };
    let ctx = context! {
        programme => programme,
        criteria_total => catalog.criteria.len(),
        framework => catalog.framework.name.clone(),
        categories => categories,
        can_admin => can_admin,
        users_active => active,
        users_mfa => with_mfa,
        mfa_pct => if active == 0 { 0 } else { with_mfa * 100 / active },
        by_role => by_role,
        events => log,
        chain => chain,
        require_mfa => require_mfa,
        me_mfa => s.user.totp_secret.is_some(),
        ..page(&s, "Dashboard", "/"),
    };
    render("dashboard.html", ctx)
}

// ---------- criteria ----------

#[derive(Deserialize)]
struct CriteriaQuery {
    category: Option<String>,
    q: Option<String>,
    /// `in` to list only the criteria of categories in scope.
    scope: Option<String>,
}

async fn criteria(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Query(q): Query<CriteriaQuery>,
) -> PageResult {
    let catalog = st.app.criteria(&s.actor)?;
    let cat = q.category.as_deref().and_then(Category::parse);
    let needle = q.q.as_deref().unwrap_or("").trim().to_lowercase();
    // The catalog lists every criterion; those of categories outside the scope are marked, and
    // `scope=in` hides them. Readiness and other counts only ever use the in-scope ones.
    let scope = if permits(s.actor.role, Action::ViewControls) {
        Some(st.app.scope(&s.actor).await?)
    } else {
        None
    };
    let only_in = q.scope.as_deref() == Some("in");
    let in_scope =
        |c: &vouch_domain::Criterion| scope.as_ref().is_none_or(|sc| sc.includes(c.category));
    let rows: Vec<Value> = catalog
        .criteria
        .iter()
        .filter(|c| cat.is_none_or(|k| c.category == k))
        .filter(|c| !only_in || in_scope(c))
        .filter(|c| {
            needle.is_empty()
                || c.id.to_lowercase().contains(&needle)
                || c.title.to_lowercase().contains(&needle)
                || c.summary.to_lowercase().contains(&needle)
        })
        .map(|c| context! { out_of_scope => !in_scope(c), ..Value::from_serialize(c) })
        .collect();
    let categories: Vec<Value> = Category::ALL
        .iter()
        .map(|c| context! { id => c.as_str(), label => c.label(), count => catalog.in_category(*c).count() })
        .collect();
    let ctx = context! {
        only_in => only_in,
        has_scope => scope.is_some(),
        framework => catalog.framework.clone(),
        criteria => rows,
        categories => categories,
        category => cat.map(|c| c.as_str()),
        q => q.q.unwrap_or_default(),
        total => catalog.criteria.len(),
        ..page(&s, "Criteria", "/criteria"),
    };
    render("criteria.html", ctx)
}

async fn criterion(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(id): Path<String>,
) -> PageResult {
    let catalog = st.app.criteria(&s.actor)?;
    let c = catalog.get(&id).ok_or_else(|| {
        PageError::show(
            StatusCode::NOT_FOUND,
            format!("There is no criterion {id}."),
        )
    })?;
    let idx = catalog
        .criteria
        .iter()
        .position(|x| x.id == c.id)
        .unwrap_or(0);
    let siblings: Vec<_> = catalog
        .criteria
        .iter()
        .filter(|x| x.group == c.group)
        .collect();
    let controls: Vec<Value> = if permits(s.actor.role, Action::ViewControls) {
        st.app
            .list_controls(&s.actor)
            .await?
            .into_iter()
            .filter(|v| v.control.criteria.contains(&c.id))
            .map(|v| {
                context! {
                    id => v.control.id, name => v.control.name, owner => v.owner_email,
                    status_label => v.status.label(), badge => crate::control_pages::status_badge(v.status),
                }
            })
            .collect()
    } else {
        vec![]
    };
    let out_of_scope = if permits(s.actor.role, Action::ViewControls) {
        !st.app.scope(&s.actor).await?.includes(c.category)
    } else {
        false
    };
    let ctx = context! {
        out_of_scope => out_of_scope,
        controls => controls,
        can_view_controls => permits(s.actor.role, Action::ViewControls),
        c => c,
        category_label => c.category.label(),
        prev => idx.checked_sub(1).map(|i| catalog.criteria[i].id.clone()),
        next => catalog.criteria.get(idx + 1).map(|x| x.id.clone()),
        siblings => siblings,
        ..page(&s, &c.id, "/criteria"),
    };
    render("criterion.html", ctx)
}

// ---------- users ----------

fn roles_ctx() -> Vec<Value> {
    Role::ALL
        .iter()
        .map(|r| context! { id => r.as_str(), label => r.label(), description => r.description() })
        .collect()
}

async fn users_page(
    st: &AppState,
    s: &vouch_app::auth::Session,
    extra: Value,
    status: StatusCode,
) -> PageResult {
    let list = st.app.list_users(&s.actor).await?;
    let ctx = context! {
        users => list,
        roles => roles_ctx(),
        can_manage => permits(s.actor.role, Action::ManageUsers),
        ..minijinja::value::merge_maps([extra, page(s, "Users", "/users")]),
    };
    Ok((status, views().render("users.html", ctx)).into_response())
}

async fn users(State(st): State<AppState>, UiUser(s): UiUser) -> PageResult {
    users_page(&st, &s, context! {}, StatusCode::OK).await
}

#[derive(Deserialize)]
struct NewUserForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    email: String,
    name: String,
    role: String,
    #[serde(default)]
    password: String,
}

async fn create_user(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    UiForm(f): UiForm<NewUserForm>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    let role: Role = match f.role.parse() {
        Ok(r) => r,
        Err(e) => {
            let errors = context! { role => e.to_string() };
            return users_page(&st, &s, context! { errors => errors, form => context! { email => f.email, name => f.name } }, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let new = NewUser {
        email: f.email.clone(),
        name: f.name.clone(),
        role,
        password: Some(f.password.clone()).filter(|p| !p.is_empty()),
    };
    match st.app.create_user(&s.actor, new).await {
        Ok(u) => users_page(&st, &s, context! { flash => flash("ok", format!("{} was added as {}.", u.email, u.role.label())) }, StatusCode::OK).await,
        Err(e) => {
            let errors = form_errors(e)?;
            users_page(&st, &s, context! { errors => errors, form => context! { email => f.email, name => f.name, role => f.role } }, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn user_page(
    st: &AppState,
    s: &vouch_app::auth::Session,
    id: &str,
    extra: Value,
    status: StatusCode,
) -> PageResult {
    let u = st.app.get_user(&s.actor, id).await?;
    let events = if permits(s.actor.role, Action::ViewAuditLog) {
        st.app
            .audit_events(
                &s.actor,
                &AuditFilter {
                    object_type: Some("user".into()),
                    object_id: Some(id.into()),
                    limit: 20,
                    ..Default::default()
                },
            )
            .await?
    } else {
        vec![]
    };
    let ctx = context! {
        u => u,
        roles => roles_ctx(),
        events => events,
        can_manage => permits(s.actor.role, Action::ManageUsers),
        ..minijinja::value::merge_maps([extra, page(s, &u.name, "/users")]),
    };
    Ok((status, views().render("user.html", ctx)).into_response())
}

async fn user(State(st): State<AppState>, UiUser(s): UiUser, Path(id): Path<String>) -> PageResult {
    user_page(&st, &s, &id, context! {}, StatusCode::OK).await
}

#[derive(Deserialize)]
struct UserForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    name: String,
    role: String,
    status: String,
    #[serde(default)]
    password: String,
}

async fn update_user(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(id): Path<String>,
    UiForm(f): UiForm<UserForm>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    let role = f
        .role
        .parse::<Role>()
        .map_err(|e| PageError::show(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let patch = UserPatch {
        name: Some(f.name),
        role: Some(role),
        status: Some(f.status),
        password: Some(f.password).filter(|p| !p.is_empty()),
    };
    match st.app.update_user(&s.actor, &id, patch).await {
        Ok(_) => {
            user_page(
                &st,
                &s,
                &id,
                context! { flash => flash("ok", "Saved.") },
                StatusCode::OK,
            )
            .await
        }
        Err(AppError::Conflict(m)) => {
            user_page(
                &st,
                &s,
                &id,
                context! { flash => flash("error", m) },
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => {
            let errors = form_errors(e)?;
            user_page(
                &st,
                &s,
                &id,
                context! { errors => errors },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

async fn reset_mfa(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(id): Path<String>,
    UiForm(f): UiForm<CsrfOnly>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    st.app.reset_mfa(&s.actor, &id).await?;
    user_page(&st, &s, &id, context! { flash => flash("ok", "Two-factor authentication was reset; they will enrol again at next sign-in.") }, StatusCode::OK).await
}

async fn roles(State(st): State<AppState>, UiUser(s): UiUser) -> PageResult {
    st.app.authorize(&s.actor, Action::ViewRoles)?;
    let rows: Vec<Value> = Action::ALL
        .iter()
        .map(|a| {
            let cells: Vec<bool> = Role::ALL.iter().map(|r| permits(*r, *a)).collect();
            context! { action => a.describe(), cells => cells }
        })
        .collect();
    let ctx = context! { roles => roles_ctx(), rows => rows, ..page(&s, "Roles", "/roles") };
    render("roles.html", ctx)
}

// ---------- tokens ----------

#[derive(Deserialize)]
struct TokensQuery {
    all: Option<String>,
}

async fn tokens_page(
    st: &AppState,
    s: &vouch_app::auth::Session,
    all: bool,
    extra: Value,
    status: StatusCode,
) -> PageResult {
    let can_all = permits(s.actor.role, Action::ViewAllTokens);
    let all = all && can_all;
    let list = st.app.list_tokens(&s.actor, all).await?;
    let names: std::collections::HashMap<String, String> = if all {
        st.app
            .list_users(&s.actor)
            .await?
            .into_iter()
            .map(|u| (u.id, u.email))
            .collect()
    } else {
        Default::default()
    };
    let rows: Vec<Value> = list
        .iter()
        .map(|t| context! { t => t, owner => names.get(&t.user_id).cloned(), mine => t.user_id == s.user.id })
        .collect();
    let grantable: Vec<Value> = Role::ALL
        .iter()
        .filter(|r| vouch_app::authz::role_within(**r, s.actor.role))
        .map(|r| context! { id => r.as_str(), label => r.label() })
        .collect();
    let ctx = context! {
        tokens => rows,
        all => all,
        can_all => can_all,
        can_revoke_any => permits(s.actor.role, Action::RevokeAnyToken),
        grantable => grantable,
        ..minijinja::value::merge_maps([extra, page(s, "API tokens", "/tokens")]),
    };
    Ok((status, views().render("tokens.html", ctx)).into_response())
}

async fn tokens(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Query(q): Query<TokensQuery>,
) -> PageResult {
    tokens_page(&st, &s, q.all.is_some(), context! {}, StatusCode::OK).await
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    name: String,
    role: String,
    #[serde(default)]
    expires_on: String,
}

async fn create_token(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    UiForm(f): UiForm<TokenForm>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    let role = f
        .role
        .parse::<Role>()
        .map_err(|e| PageError::show(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    // The form gives a date; the token works until the end of that day (UTC).
    let expires_at = Some(f.expires_on.trim())
        .filter(|d| !d.is_empty())
        .map(|d| format!("{d}T23:59:59Z"));
    match st
        .app
        .create_token(
            &s.actor,
            vouch_app::tokens::NewToken {
                name: f.name.clone(),
                role,
                expires_at,
            },
        )
        .await
    {
        Ok((t, secret)) => {
            tokens_page(
                &st,
                &s,
                false,
                context! { created => context! { name => t.name, secret => secret } },
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            let errors = form_errors(e)?;
            tokens_page(&st, &s, false, context! { errors => errors, form => context! { name => f.name, expires_on => f.expires_on } }, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn revoke_token(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Path(id): Path<String>,
    UiForm(f): UiForm<CsrfOnly>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    match st.app.revoke_token(&s.actor, &id).await {
        Ok(()) => {
            tokens_page(
                &st,
                &s,
                false,
                context! { flash => flash("ok", "The token was revoked; it no longer works.") },
                StatusCode::OK,
            )
            .await
        }
        Err(AppError::Conflict(m)) => {
            tokens_page(
                &st,
                &s,
                false,
                context! { flash => flash("warn", m) },
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------- audit log ----------

#[derive(Deserialize, Default)]
struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    object_type: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<i64>,
}

/// A date field (`YYYY-MM-DD`) becomes the start of that day in UTC.
fn day_start(d: Option<&str>) -> Option<String> {
    d.map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| format!("{d}T00:00:00.000000Z"))
}

fn day_after(d: Option<&str>) -> Option<String> {
    let d = d.map(str::trim).filter(|d| !d.is_empty())?;
    let date =
        time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok()?;
    let next = date.next_day()?;
    Some(format!("{}T00:00:00.000000Z", next))
}

async fn audit_log(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    Query(q): Query<AuditQuery>,
) -> PageResult {
    let limit = 50;
    let filter = AuditFilter {
        actor: q.actor.clone(),
        action: q.action.clone(),
        object_type: q.object_type.clone(),
        object_id: None,
        from: day_start(q.from.as_deref()),
        to: day_after(q.to.as_deref()),
        before_seq: q.before,
        limit,
    };
    let events = st.app.audit_events(&s.actor, &filter).await?;
    // Verified on the first page; paging back through older events does not re-hash the log.
    let chain = if q.before.is_none() {
        Some(match st.app.verify_audit_log(&s.actor).await? {
            Ok(n) => context! { ok => true, count => n },
            Err(e) => context! { ok => false, message => e.to_string() },
        })
    } else {
        None
    };
    let older = if events.len() as i64 == limit {
        events.last().map(|e| e.seq)
    } else {
        None
    };
    let ctx = context! {
        events => events,
        chain => chain,
        q => context! { actor => q.actor, action => q.action, object_type => q.object_type, from => q.from, to => q.to },
        older => older,
        ..page(&s, "Audit log", "/audit-log"),
    };
    render("audit_log.html", ctx)
}

// ---------- account ----------

async fn account_page(
    st: &AppState,
    s: &vouch_app::auth::Session,
    extra: Value,
    status: StatusCode,
) -> PageResult {
    let u = st.app.get_user(&s.actor, &s.user.id).await?;
    let ctx = context! {
        u => u,
        has_password => s.user.password_hash.is_some(),
        require_mfa => st.app.require_mfa().await?,
        ..minijinja::value::merge_maps([extra, page(s, "My account", "/account")]),
    };
    Ok((status, views().render("account.html", ctx)).into_response())
}

async fn account(State(st): State<AppState>, UiUser(s): UiUser) -> PageResult {
    account_page(&st, &s, context! {}, StatusCode::OK).await
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    UiForm(f): UiForm<PasswordForm>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    match st
        .app
        .change_own_password(&s.actor, &f.current_password, &f.new_password)
        .await
    {
        Ok(()) => {
            account_page(
                &st,
                &s,
                context! { flash => flash("ok", "Your password was changed.") },
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            let errors = form_errors(e)?;
            account_page(
                &st,
                &s,
                context! { errors => errors },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

fn qr_svg(data: &str) -> String {
    match qrcode::QrCode::new(data.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

async fn enrol_page(
    st: &AppState,
    s: &vouch_app::auth::Session,
    error: Option<String>,
) -> PageResult {
    let e = st.app.begin_mfa_enrolment(&s.actor).await?;
    let mut ctx = context! {
        title => "Set up two-factor authentication",
        csrf => s.csrf_token,
        secret => e.secret_base32,
        otpauth => e.otpauth_url,
        qr => Value::from_safe_string(qr_svg(&e.otpauth_url)),
        required => s.mfa == MfaState::Enrol,
        error => error,
    };
    if s.mfa == MfaState::Ok {
        ctx = minijinja::value::merge_maps([
            ctx,
            page(s, "Set up two-factor authentication", "/account"),
        ]);
    }
    Ok(views().render("mfa_enrol.html", ctx))
}

async fn mfa_enrol(State(st): State<AppState>, AnySession(s): AnySession) -> PageResult {
    if s.mfa == MfaState::Pending {
        return Ok(Redirect::to("/login/mfa").into_response());
    }
    enrol_page(&st, &s, None).await
}

async fn mfa_confirm(
    State(st): State<AppState>,
    AnySession(s): AnySession,
    UiForm(f): UiForm<CodeForm>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    if s.mfa == MfaState::Pending {
        return Ok(Redirect::to("/login/mfa").into_response());
    }
    match st
        .app
        .confirm_mfa_enrolment(&s.actor, Some(&s.id_hash), &f.code)
        .await
    {
        Ok(codes) => {
            let ctx = context! { codes => codes, ..page(&s, "Recovery codes", "/account") };
            render("recovery_codes.html", ctx)
        }
        Err(AppError::Validation(v)) => {
            // The enrolment page again, with the same pending secret and what went wrong.
            let msg = v
                .into_iter()
                .map(|f| f.message)
                .collect::<Vec<_>>()
                .join("; ");
            let mut res = enrol_page(&st, &s, Some(msg)).await?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

// ---------- settings ----------

async fn settings(State(st): State<AppState>, UiUser(s): UiUser) -> PageResult {
    settings_page(&st, &s, None).await
}

async fn settings_page(
    st: &AppState,
    s: &vouch_app::auth::Session,
    flash: Option<Value>,
) -> PageResult {
    st.app.authorize(&s.actor, Action::ManageSettings)?;
    let ctx = context! {
        flash => flash,
        require_mfa => st.app.require_mfa().await?,
        sso => st.config.sso.as_ref().map(|x| x.display_name.clone()),
        public_url => st.config.public_url.clone(),
        max_body => st.config.max_body_bytes,
        backend => st.app.backend_name(),
        ..page(s, "Settings", "/settings"),
    };
    render("settings.html", ctx)
}

#[derive(Deserialize)]
struct SettingsForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    require_mfa: Option<String>,
}

async fn update_settings(
    State(st): State<AppState>,
    UiUser(s): UiUser,
    UiForm(f): UiForm<SettingsForm>,
) -> PageResult {
    check_csrf(&s, &f.csrf)?;
    let on = f.require_mfa.is_some();
    st.app.set_require_mfa(&s.actor, on).await?;
    let msg = if on {
        "Saved: two-factor authentication is now required; people without it enrol at their next sign-in."
    } else {
        "Saved: two-factor authentication is no longer required."
    };
    settings_page(&st, &s, Some(flash("ok", msg))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/users")), "/users");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn day_filters_cover_whole_days() {
        assert_eq!(
            day_start(Some("2026-03-01")).unwrap(),
            "2026-03-01T00:00:00.000000Z"
        );
        assert_eq!(
            day_after(Some("2026-02-28")).unwrap(),
            "2026-03-01T00:00:00.000000Z"
        );
        assert_eq!(day_after(Some("garbage")), None);
    }
}
