//! People who sign in to Vouch, and their roles.
use crate::auth::hash_password;
use crate::{Action, Actor, App, AppError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use vouch_domain::Role;
use vouch_domain::validate::{self, FieldError};
use vouch_store::UserRecord;

/// A person as every reader sees them (no secrets).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// `active` or `disabled`.
    pub status: String,
    pub mfa_enabled: bool,
    pub sso_linked: bool,
    pub created_at: String,
    pub last_login_at: Option<String>,
}

impl From<&UserRecord> for UserView {
    fn from(u: &UserRecord) -> Self {
        UserView {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role.parse().unwrap_or(Role::Employee),
            status: u.status.clone(),
            mfa_enabled: u.totp_secret.is_some(),
            sso_linked: u.oidc_subject.is_some(),
            created_at: u.created_at.clone(),
            last_login_at: u.last_login_at.clone(),
        }
    }
}

/// What it takes to add a person. Without a password they sign in through single sign-on.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub password: Option<String>,
}

/// A change to a person; absent fields stay as they are.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    /// `active` or `disabled`.
    pub status: Option<String>,
    /// Sets a new password (administrators only; people change their own from their account).
    pub password: Option<String>,
}

fn validate_new(u: &NewUser) -> Result<(String, String), AppError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let email = validate::email("email", &u.email)
        .map_err(|e| errors.push(e))
        .ok();
    let name = validate::name("name", &u.name)
        .map_err(|e| errors.push(e))
        .ok();
    if let Some(p) = &u.password
        && let Err(e) = validate::password("password", p)
    {
        errors.push(e);
    }
    match (email, name) {
        (Some(e), Some(n)) if errors.is_empty() => Ok((e, n)),
        _ => Err(AppError::Validation(errors)),
    }
}

fn snapshot(u: &UserRecord) -> serde_json::Value {
    json!({"email": u.email, "name": u.name, "role": u.role, "status": u.status})
}

impl App {
    /// Builds, inserts and audits a new active user inside `tx`; a taken email is a field error.
    #[allow(clippy::too_many_arguments)]
    async fn insert_new_user(
        tx: &mut vouch_store::WriteTx,
        actor: &Actor,
        now: &str,
        email: String,
        name: String,
        role: Role,
        password_hash: Option<String>,
    ) -> Result<UserRecord, AppError> {
        let u = UserRecord {
            id: uuid::Uuid::new_v4().to_string(),
            email,
            name,
            role: role.as_str().into(),
            status: "active".into(),
            password_hash,
            totp_secret: None,
            totp_pending_secret: None,
            oidc_issuer: None,
            oidc_subject: None,
            created_at: now.to_string(),
            updated_at: now.to_string(),
            last_login_at: None,
        };
        tx.insert_user(&u).await.map_err(|e| match e {
            vouch_store::StoreError::Conflict(_) => {
                AppError::field("email", format!("{} already has an account", u.email))
            }
            other => other.into(),
        })?;
        let event = Self::event(
            actor,
            "user.create",
            "user",
            &u.id,
            None,
            Some(snapshot(&u)),
        );
        tx.append_event(event, now).await?;
        Ok(u)
    }

    pub async fn list_users(&self, actor: &Actor) -> Result<Vec<UserView>, AppError> {
        self.authorize(actor, Action::ViewUsers)?;
        Ok(self
            .store
            .list_users()
            .await?
            .iter()
            .map(UserView::from)
            .collect())
    }

    pub async fn get_user(&self, actor: &Actor, id: &str) -> Result<UserView, AppError> {
        if !actor.is_user(id) {
            self.authorize(actor, Action::ViewUsers)?;
        }
        let u = self
            .store
            .user_by_id(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("user {id}")))?;
        Ok(UserView::from(&u))
    }

    pub async fn create_user(&self, actor: &Actor, new: NewUser) -> Result<UserView, AppError> {
        self.authorize(actor, Action::ManageUsers)?;
        let (email, name) = validate_new(&new)?;
        let (mut tx, now) = self.write().await?;
        let u = Self::insert_new_user(
            &mut tx,
            actor,
            &now,
            email,
            name,
            new.role,
            new.password.as_deref().map(hash_password),
        )
        .await?;
        tx.commit().await?;
        Ok(UserView::from(&u))
    }

    /// Creates the first administrator of a fresh installation, from the one-time setup link
    /// (`setup_token`) or from the command line (`None`, operator's shell access).
    pub async fn create_first_admin(
        &self,
        actor: &Actor,
        setup_token: Option<&str>,
        email: &str,
        name: &str,
        password: &str,
    ) -> Result<UserView, AppError> {
        let new = NewUser {
            email: email.into(),
            name: name.into(),
            role: Role::Admin,
            password: Some(password.into()),
        };
        let (email, name) = validate_new(&new)?;
        let (mut tx, now) = self.write().await?;
        match setup_token {
            Some(t) => {
                if tx.count_users().await? > 0 {
                    return Err(AppError::Conflict(
                        "Vouch is already set up; sign in instead".into(),
                    ));
                }
                Self::consume_setup_token(&mut tx, t).await?;
            }
            None => {
                if actor.kind != crate::ActorKind::Cli {
                    return Err(AppError::Forbidden {
                        action: Action::ManageUsers,
                        role: actor.role,
                    });
                }
            }
        }
        let u = Self::insert_new_user(
            &mut tx,
            actor,
            &now,
            email,
            name,
            Role::Admin,
            Some(hash_password(password)),
        )
        .await?;
        tx.commit().await?;
        Ok(UserView::from(&u))
    }

    /// Changes a person's name, role, status or password. Disabling someone or changing
    /// their role ends their sessions; disabling revokes their tokens, and a role change
    /// revokes tokens the new role no longer covers. The last active administrator cannot be
    /// demoted or disabled.
    pub async fn update_user(
        &self,
        actor: &Actor,
        id: &str,
        patch: UserPatch,
    ) -> Result<UserView, AppError> {
        self.authorize(actor, Action::ManageUsers)?;
        let mut errors = Vec::new();
        let name = patch
            .name
            .as_deref()
            .map(|n| validate::name("name", n))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        if let Some(s) = &patch.status
            && s != "active"
            && s != "disabled"
        {
            errors.push(FieldError::new(
                "status",
                format!("'{s}' is not a status: use active or disabled"),
            ));
        }
        if let Some(p) = &patch.password
            && let Err(e) = validate::password("password", p)
        {
            errors.push(e);
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let (mut tx, now) = self.write().await?;
        let before = tx
            .user_by_id(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("user {id}")))?;
        let mut u = before.clone();
        if let Some(n) = name {
            u.name = n;
        }
        if let Some(r) = patch.role {
            u.role = r.as_str().into();
        }
        if let Some(s) = &patch.status {
            u.status = s.clone();
        }
        let was_admin = before.role == "admin" && before.status == "active";
        let is_admin = u.role == "admin" && u.status == "active";
        if was_admin && !is_admin && tx.count_active_admins().await? <= 1 {
            return Err(AppError::Conflict(
                "this is the last active administrator; make someone else an administrator first"
                    .into(),
            ));
        }
        if let Some(p) = &patch.password {
            u.password_hash = Some(hash_password(p));
        }
        u.updated_at = now.clone();
        tx.update_user(&u).await?;
        let role_changed = u.role != before.role;
        if u.status == "disabled" || role_changed || patch.password.is_some() {
            tx.delete_user_sessions(id).await?;
        }
        if u.status == "disabled" {
            tx.revoke_user_tokens(id, &now).await?;
        } else if role_changed {
            let new_role: Role = u.role.parse().unwrap_or(Role::Employee);
            for t in self.store.list_tokens(Some(id)).await? {
                let tr: Role = t.role.parse().unwrap_or(Role::Admin);
                if t.revoked_at.is_none() && !crate::authz::role_within(tr, new_role) {
                    tx.revoke_token(&t.id, &now).await?;
                }
            }
        }
        let mut after = snapshot(&u);
        if patch.password.is_some() {
            after["password"] = json!("changed");
        }
        tx.append_event(
            Self::event(
                actor,
                "user.update",
                "user",
                id,
                Some(snapshot(&before)),
                Some(after),
            ),
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok(UserView::from(&u))
    }

    /// Removes a person's second factor (when they lost their device) and ends their sessions.
    pub async fn reset_mfa(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        self.authorize(actor, Action::ManageUsers)?;
        let (mut tx, now) = self.write().await?;
        let mut u = tx
            .user_by_id(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("user {id}")))?;
        u.totp_secret = None;
        u.totp_pending_secret = None;
        u.updated_at = now.clone();
        tx.update_user(&u).await?;
        tx.replace_recovery_codes(id, &[]).await?;
        tx.delete_user_sessions(id).await?;
        tx.append_event(
            Self::event(
                actor,
                "user.mfa_reset",
                "user",
                id,
                Some(json!({"mfa": true})),
                Some(json!({"mfa": false})),
            ),
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
