//! Deployment-wide settings kept in the database (so every instance sees the same).
use crate::auth::{random_token, sha256_hex};
use crate::{Action, Actor, App, AppError};
use serde_json::json;
use vouch_store::Store;

const REQUIRE_MFA: &str = "require_mfa";
const SETUP_TOKEN: &str = "setup_token_hash";

pub(crate) async fn require_mfa(store: &Store) -> Result<bool, AppError> {
    Ok(store.setting(REQUIRE_MFA).await?.as_deref() == Some("true"))
}

impl App {
    pub async fn require_mfa(&self) -> Result<bool, AppError> {
        require_mfa(&self.store).await
    }

    /// Requires (or stops requiring) two-factor authentication for everyone. People without
    /// it are sent to enrol at their next sign-in.
    pub async fn set_require_mfa(&self, actor: &Actor, on: bool) -> Result<(), AppError> {
        self.authorize(actor, Action::ManageSettings)?;
        let (mut tx, now) = self.write().await?;
        let before = tx.setting(REQUIRE_MFA).await?.as_deref() == Some("true");
        tx.set_setting(REQUIRE_MFA, if on { "true" } else { "false" })
            .await?;
        tx.append_event(
            Self::event(
                actor,
                "settings.update",
                "setting",
                REQUIRE_MFA,
                Some(json!({"require_mfa": before})),
                Some(json!({"require_mfa": on})),
            ),
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// On a fresh installation (no users), issues a one-time setup token for the link that
    /// creates the first administrator. Returns `None` once anyone exists.
    pub async fn issue_setup_token(&self) -> Result<Option<String>, AppError> {
        let (mut tx, now) = self.write().await?;
        if tx.count_users().await? > 0 {
            return Ok(None);
        }
        let token = random_token(24);
        tx.set_setting(SETUP_TOKEN, &sha256_hex(&token)).await?;
        tx.append_event(
            Self::event(
                &Actor::system(),
                "setup.token_issued",
                "setting",
                SETUP_TOKEN,
                None,
                None,
            ),
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok(Some(token))
    }

    /// Whether a setup token is the current one and nobody has been created yet.
    pub async fn setup_token_valid(&self, token: &str) -> Result<bool, AppError> {
        if self.store.count_users().await? > 0 {
            return Ok(false);
        }
        Ok(self
            .store
            .setting(SETUP_TOKEN)
            .await?
            .is_some_and(|h| h == sha256_hex(token)))
    }

    pub(crate) async fn consume_setup_token(
        tx: &mut vouch_store::WriteTx,
        token: &str,
    ) -> Result<(), AppError> {
        let stored = tx.setting(SETUP_TOKEN).await?;
        if stored.is_none_or(|h| h != sha256_hex(token)) {
            return Err(AppError::InvalidCredentials(
                "this setup link is not valid; restart Vouch for a new one, or use `vouch user create-admin`".into(),
            ));
        }
        tx.delete_setting(SETUP_TOKEN).await?;
        Ok(())
    }
}
