//! API tokens: for scripts and CI. Shown once, stored as a SHA-256 hash (the secret has 256
//! bits of entropy, so a fast hash is enough), revocable, optionally expiring, and never
//! carrying a role above their creator's.
use crate::auth::{random_token, sha256_hex};
use crate::authz::role_within;
use crate::{Action, Actor, ActorKind, App, AppError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use vouch_domain::Role;
use vouch_domain::validate::FieldError;
use vouch_store::TokenRecord;

pub const TOKEN_PREFIX: &str = "vouch_";

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    /// RFC 3339 instant after which the token stops working.
    #[serde(default)]
    pub expires_at: Option<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub role: Role,
    pub prefix: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

impl From<&TokenRecord> for TokenView {
    fn from(t: &TokenRecord) -> Self {
        TokenView {
            id: t.id.clone(),
            user_id: t.user_id.clone(),
            name: t.name.clone(),
            role: t.role.parse().unwrap_or(Role::Employee),
            prefix: t.prefix.clone(),
            created_at: t.created_at.clone(),
            expires_at: t.expires_at.clone(),
            revoked_at: t.revoked_at.clone(),
            last_used_at: t.last_used_at.clone(),
        }
    }
}

impl App {
    /// Creates a token for the signed-in person; returns it with the secret, shown once.
    pub async fn create_token(
        &self,
        actor: &Actor,
        new: NewToken,
    ) -> Result<(TokenView, String), AppError> {
        self.authorize(actor, Action::ManageOwnTokens)?;
        if actor.kind != ActorKind::User {
            return Err(AppError::Conflict(
                "API tokens are created by a signed-in person, not by another token".into(),
            ));
        }
        let uid = actor.user_id.clone().ok_or(AppError::Unauthenticated)?;
        let mut errors = Vec::new();
        let name = vouch_domain::validate::name("name", &new.name)
            .map_err(|e| errors.push(e))
            .ok();
        if !role_within(new.role, actor.role) {
            errors.push(FieldError::new(
                "role",
                format!(
                    "a token cannot have a role ({}) above your own ({})",
                    new.role, actor.role
                ),
            ));
        }
        let expires_at = match new.expires_at.as_deref().filter(|s| !s.trim().is_empty()) {
            None => None,
            Some(s) => match vouch_domain::time_fmt::parse(s.trim()) {
                Ok(t) if t > self.now() => Some(vouch_domain::time_fmt::format(t)),
                Ok(_) => {
                    errors.push(FieldError::new("expires_at", "must be in the future"));
                    None
                }
                Err(_) => {
                    errors.push(FieldError::new(
                        "expires_at",
                        format!("'{s}' is not an RFC 3339 time such as 2027-01-31T00:00:00Z"),
                    ));
                    None
                }
            },
        };
        let Some(name) = name.filter(|_| errors.is_empty()) else {
            return Err(AppError::Validation(errors));
        };
        let secret = format!("{TOKEN_PREFIX}{}", random_token(32));
        let (mut tx, now) = self.write().await?;
        let rec = TokenRecord {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: uid,
            name,
            role: new.role.as_str().into(),
            token_hash: sha256_hex(&secret),
            prefix: secret.chars().take(12).collect(),
            created_at: now.clone(),
            expires_at,
            revoked_at: None,
            last_used_at: None,
        };
        tx.insert_token(&rec).await?;
        tx.append_event(
            Self::event(actor, "token.create", "token", &rec.id, None,
                Some(json!({"name": rec.name, "role": rec.role, "expires_at": rec.expires_at, "prefix": rec.prefix}))),
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok((TokenView::from(&rec), secret))
    }

    /// One's own tokens, or everyone's for those who may see them all.
    pub async fn list_tokens(
        &self,
        actor: &Actor,
        everyone: bool,
    ) -> Result<Vec<TokenView>, AppError> {
        let rows = if everyone {
            self.authorize(actor, Action::ViewAllTokens)?;
            self.store.list_tokens(None).await?
        } else {
            self.authorize(actor, Action::ManageOwnTokens)?;
            let uid = actor.user_id.clone().ok_or(AppError::Unauthenticated)?;
            self.store.list_tokens(Some(&uid)).await?
        };
        Ok(rows.iter().map(TokenView::from).collect())
    }

    pub async fn revoke_token(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        let t = self
            .store
            .token_by_id(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("token {id}")))?;
        if actor.is_user(&t.user_id) {
            self.authorize(actor, Action::ManageOwnTokens)?;
        } else {
            self.authorize(actor, Action::RevokeAnyToken)?;
        }
        let (mut tx, now) = self.write().await?;
        if !tx.revoke_token(id, &now).await? {
            return Err(AppError::Conflict("this token is already revoked".into()));
        }
        tx.append_event(
            Self::event(
                actor,
                "token.revoke",
                "token",
                id,
                None,
                Some(json!({"name": t.name})),
            ),
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Resolves a bearer secret to an actor, or `None` if it is unknown, revoked, expired, or
    /// its person is disabled. The token acts with its own role, capped by the person's
    /// current role.
    pub async fn token_actor(
        &self,
        secret: &str,
        request_id: Option<String>,
    ) -> Result<Option<Actor>, AppError> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let Some(t) = self.store.token_by_hash(&sha256_hex(secret)).await? else {
            return Ok(None);
        };
        let now = self.now();
        if t.revoked_at.is_some()
            || t.expires_at
                .as_deref()
                .is_some_and(|e| vouch_domain::time_fmt::parse(e).map_or(true, |e| e <= now))
        {
            return Ok(None);
        }
        let Some(user) = self.store.user_by_id(&t.user_id).await? else {
            return Ok(None);
        };
        let (Ok(token_role), Ok(user_role)) = (t.role.parse::<Role>(), user.role.parse::<Role>())
        else {
            return Ok(None);
        };
        if user.status != "active" || !role_within(token_role, user_role) {
            return Ok(None);
        }
        let stale = t
            .last_used_at
            .as_deref()
            .and_then(|l| vouch_domain::time_fmt::parse(l).ok())
            .is_none_or(|l| l + time::Duration::MINUTE <= now);
        if stale {
            self.store.touch_token(&t.id, &self.now_str()).await?;
        }
        Ok(Some(Actor {
            kind: ActorKind::Token(t.id.clone()),
            user_id: Some(user.id.clone()),
            label: format!("{} (token {})", user.email, t.name),
            role: token_role,
            request_id,
        }))
    }
}
