//! Signing in and out: passwords (argon2id), sessions, TOTP second factor with recovery codes,
//! and single sign-on identities handed over by the web layer.
use crate::{Actor, ActorKind, App, AppError, settings};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Secret, TOTP};
use vouch_domain::Role;
use vouch_store::{SessionRecord, UserRecord};

/// Second-factor state of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MfaState {
    /// Fully signed in.
    Ok,
    /// Password accepted; the one-time code is still owed.
    Pending,
    /// Signed in, but two-factor is required and not yet enrolled: only enrolment is allowed.
    Enrol,
}

impl MfaState {
    pub fn as_str(self) -> &'static str {
        match self {
            MfaState::Ok => "ok",
            MfaState::Pending => "pending",
            MfaState::Enrol => "enrol",
        }
    }
    fn parse(s: &str) -> MfaState {
        match s {
            "ok" => MfaState::Ok,
            "enrol" => MfaState::Enrol,
            _ => MfaState::Pending,
        }
    }
}

/// A new session: the cookie value is shown to the browser once and stored only hashed.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub cookie_value: String,
    pub mfa: MfaState,
    pub user: UserRecord,
}

/// A live session, resolved from its cookie.
#[derive(Clone, Debug)]
pub struct Session {
    pub id_hash: String,
    pub csrf_token: String,
    pub mfa: MfaState,
    pub user: UserRecord,
    pub actor: Actor,
}

/// Where a person comes from when signing in, for the audit log.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

/// An identity vouched for by the organisation's identity provider.
#[derive(Clone, Debug)]
pub struct SsoIdentity {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
}

/// What enrolling a second factor shows the person.
#[derive(Clone, Debug)]
pub struct Enrolment {
    pub secret_base32: String,
    pub otpauth_url: String,
}

pub(crate) fn random_token(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub(crate) fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A strong random password for a generated account (20 characters, about 120 bits).
pub fn generate_password() -> String {
    random_token(15)
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with default parameters cannot fail")
        .to_string()
}

fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the account does not exist, so a wrong email takes as long
/// as a wrong password and does not reveal which accounts exist.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("not a real password, only for timing"))
}

fn totp(secret_b32: &str, email: &str) -> Result<TOTP, AppError> {
    let bytes = Secret::Encoded(secret_b32.to_string())
        .to_bytes()
        .map_err(|_| AppError::Conflict("the stored two-factor secret is malformed".into()))?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some("Vouch".into()),
        email.to_string(),
    )
    .map_err(|e| AppError::Conflict(format!("two-factor secret unusable: {e}")))
}

/// The time step (30-second window) whose code matches, allowing one step of clock drift
/// either way.
fn matching_step(t: &TOTP, code: &str, unix: u64) -> Option<i64> {
    [unix.saturating_sub(30), unix, unix + 30]
        .into_iter()
        .find(|ts| t.generate(*ts) == code)
        .map(|ts| (ts / 30) as i64)
}

fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_lowercase()
}

/// Credentials are changed by the person in a browser session, never through an API token:
/// a leaked token must not be able to take over the account's sign-in.
fn require_person(actor: &Actor) -> Result<(), AppError> {
    match actor.kind {
        ActorKind::User => Ok(()),
        _ => Err(AppError::Conflict(
            "sign-in credentials can only be changed from a signed-in browser session, not with an API token".into(),
        )),
    }
}

pub(crate) fn user_actor(user: &UserRecord, request_id: Option<String>) -> Actor {
    Actor {
        kind: ActorKind::User,
        user_id: Some(user.id.clone()),
        label: user.email.clone(),
        role: user.role.parse().unwrap_or(Role::Employee),
        request_id,
    }
}

impl App {
    /// Signs in with email and password. Failures are counted per account and per address;
    /// past the limit the answer is `RateLimited` whatever the password.
    pub async fn login_password(
        &self,
        email: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<NewSession, AppError> {
        let email = email.trim().to_lowercase();
        let now = self.now();
        let acct = format!("acct:{email}");
        let ip = format!("ip:{}", client.ip.as_deref().unwrap_or("?"));
        let blocked = [
            self.limiter.blocked_for(&acct, now),
            self.ip_limiter.blocked_for(&ip, now),
        ];
        if let Some(secs) = blocked.into_iter().flatten().max() {
            return Err(AppError::RateLimited {
                retry_after_secs: secs,
            });
        }
        let user = self.store.user_by_email(&email).await?;
        let ok = match &user {
            Some(u) => u
                .password_hash
                .as_deref()
                .is_some_and(|h| verify_password(h, password)),
            None => {
                verify_password(dummy_hash(), password);
                false
            }
        };
        let Some(user) = user.filter(|_| ok) else {
            self.limiter.fail(&acct, now);
            self.ip_limiter.fail(&ip, now);
            return Err(AppError::InvalidCredentials(
                "the email or password is wrong".into(),
            ));
        };
        if user.status != "active" {
            return Err(AppError::InvalidCredentials(
                "this account is disabled".into(),
            ));
        }
        self.limiter.clear(&acct);
        let mfa = if user.totp_secret.is_some() {
            MfaState::Pending
        } else if settings::require_mfa(&self.store).await? {
            MfaState::Enrol
        } else {
            MfaState::Ok
        };
        self.start_session(user, mfa, "password", client).await
    }

    /// Signs in a person the identity provider vouched for. The account is found by the
    /// provider's subject, or linked once by a verified email address; nobody is created here.
    pub async fn login_sso(
        &self,
        id: &SsoIdentity,
        client: &ClientInfo,
    ) -> Result<NewSession, AppError> {
        let user = match self.store.user_by_oidc(&id.issuer, &id.subject).await? {
            Some(u) => u,
            None => {
                let email = id
                    .email
                    .as_deref()
                    .map(str::to_lowercase)
                    .filter(|_| id.email_verified);
                let Some(email) = email else {
                    return Err(AppError::InvalidCredentials(
                        "the identity provider did not give a verified email address".into(),
                    ));
                };
                let Some(u) = self.store.user_by_email(&email).await? else {
                    return Err(AppError::InvalidCredentials(format!(
                        "there is no Vouch account for {email}; ask an administrator to add you"
                    )));
                };
                u
            }
        };
        if user.status != "active" {
            return Err(AppError::InvalidCredentials(
                "this account is disabled".into(),
            ));
        }
        let mfa = if self.config.trust_idp_mfa {
            MfaState::Ok
        } else if user.totp_secret.is_some() {
            MfaState::Pending
        } else if settings::require_mfa(&self.store).await? {
            MfaState::Enrol
        } else {
            MfaState::Ok
        };
        let mut linked = user.clone();
        linked.oidc_issuer = Some(id.issuer.clone());
        linked.oidc_subject = Some(id.subject.clone());
        self.start_session(linked, mfa, "sso", client).await
    }

    async fn start_session(
        &self,
        mut user: UserRecord,
        mfa: MfaState,
        method: &str,
        client: &ClientInfo,
    ) -> Result<NewSession, AppError> {
        let (mut tx, now) = self.write().await?;
        let cookie_value = random_token(32);
        let expires = self.now() + self.config.session_idle;
        let rec = SessionRecord {
            id_hash: sha256_hex(&cookie_value),
            user_id: user.id.clone(),
            csrf_token: random_token(24),
            mfa_state: mfa.as_str().into(),
            created_at: now.clone(),
            last_seen_at: now.clone(),
            expires_at: vouch_domain::time_fmt::format(expires),
            ip: client.ip.clone(),
            user_agent: client
                .user_agent
                .as_deref()
                .map(|s| s.chars().take(300).collect()),
        };
        tx.insert_session(&rec).await?;
        let newly_linked = {
            let stored = tx.user_by_id(&user.id).await?;
            stored.is_some_and(|s| s.oidc_subject != user.oidc_subject)
        };
        user.last_login_at = Some(now.clone());
        tx.update_user(&user).await?;
        let actor = user_actor(&user, client.request_id.clone());
        if newly_linked {
            tx.append_event(
                Self::event(
                    &actor,
                    "user.sso_link",
                    "user",
                    &user.id,
                    None,
                    Some(json!({"issuer": user.oidc_issuer, "subject": user.oidc_subject})),
                ),
                &now,
            )
            .await?;
        }
        tx.append_event(
            Self::event(
                &actor,
                "session.login",
                "user",
                &user.id,
                None,
                Some(json!({"method": method, "mfa": mfa.as_str(), "ip": client.ip})),
            ),
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok(NewSession {
            cookie_value,
            mfa,
            user,
        })
    }

    /// Resolves a session cookie. Expired sessions, disabled users and sessions older than
    /// the absolute limit resolve to nothing. Activity slides the idle expiry.
    pub async fn session(
        &self,
        cookie_value: &str,
        request_id: Option<String>,
    ) -> Result<Option<Session>, AppError> {
        let id_hash = sha256_hex(cookie_value);
        let Some(s) = self.store.session(&id_hash).await? else {
            return Ok(None);
        };
        let now = self.now();
        let parse = |t: &str| vouch_domain::time_fmt::parse(t).ok();
        let expired = parse(&s.expires_at).is_none_or(|e| e <= now)
            || parse(&s.created_at).is_none_or(|c| c + self.config.session_max <= now);
        if expired {
            return Ok(None);
        }
        let Some(user) = self.store.user_by_id(&s.user_id).await? else {
            return Ok(None);
        };
        if user.status != "active" {
            return Ok(None);
        }
        // Slide the idle expiry at most once a minute, to spare the database.
        if parse(&s.last_seen_at).is_some_and(|l| l + time::Duration::MINUTE <= now) {
            let exp = vouch_domain::time_fmt::format(now + self.config.session_idle);
            self.store
                .touch_session(&id_hash, &self.now_str(), &exp)
                .await?;
        }
        let actor = user_actor(&user, request_id);
        Ok(Some(Session {
            id_hash,
            csrf_token: s.csrf_token,
            mfa: MfaState::parse(&s.mfa_state),
            user,
            actor,
        }))
    }

    /// Keeps a single sign-on attempt (state, nonce, PKCE verifier) server-side between the
    /// redirect to the identity provider and its callback. Not audited: nothing has changed
    /// until the sign-in completes, which is.
    pub async fn put_pending_sso(
        &self,
        state: &str,
        binding_hash: &str,
        payload: &str,
        ttl: time::Duration,
    ) -> Result<(), AppError> {
        let expires_at = vouch_domain::time_fmt::format(self.now() + ttl);
        let rec = vouch_store::PendingLoginRecord {
            state: state.into(),
            binding_hash: binding_hash.into(),
            payload: payload.into(),
            expires_at,
        };
        Ok(self.store.put_pending_login(&rec).await?)
    }

    /// Takes (and deletes) a pending sign-on attempt: `(binding_hash, payload)` if it exists
    /// and has not expired.
    pub async fn take_pending_sso(
        &self,
        state: &str,
    ) -> Result<Option<(String, String)>, AppError> {
        let Some(p) = self.store.take_pending_login(state).await? else {
            return Ok(None);
        };
        let fresh = vouch_domain::time_fmt::parse(&p.expires_at).is_ok_and(|e| e > self.now());
        Ok(fresh.then_some((p.binding_hash, p.payload)))
    }

    pub async fn logout(&self, session: &Session) -> Result<(), AppError> {
        let (mut tx, now) = self.write().await?;
        tx.delete_session(&session.id_hash).await?;
        tx.append_event(
            Self::event(
                &session.actor,
                "session.logout",
                "user",
                &session.user.id,
                None,
                None,
            ),
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives the second factor for a session in the `Pending` state: a current TOTP code or
    /// an unused recovery code.
    pub async fn verify_second_factor(
        &self,
        session: &Session,
        code: &str,
    ) -> Result<(), AppError> {
        let key = format!("mfa:{}", session.user.id);
        let now = self.now();
        if let Some(secs) = self.limiter.blocked_for(&key, now) {
            return Err(AppError::RateLimited {
                retry_after_secs: secs,
            });
        }
        let Some(secret) = session.user.totp_secret.as_deref() else {
            return Err(AppError::Conflict(
                "two-factor authentication is not enrolled".into(),
            ));
        };
        let code_n = normalize_code(code);
        let (mut tx, now_s) = self.write().await?;
        let method = if code_n.len() == 6 && code_n.chars().all(|c| c.is_ascii_digit()) {
            let t = totp(secret, &session.user.email)?;
            match matching_step(&t, &code_n, now.unix_timestamp() as u64) {
                Some(step) if tx.claim_totp_step(&session.user.id, step).await? => Some("totp"),
                _ => None,
            }
        } else if tx
            .use_recovery_code(&session.user.id, &sha256_hex(&code_n), &now_s)
            .await?
        {
            Some("recovery_code")
        } else {
            None
        };
        let Some(method) = method else {
            drop(tx);
            self.limiter.fail(&key, now);
            return Err(AppError::field(
                "code",
                "that code is not valid; check your authenticator's clock or use a recovery code",
            ));
        };
        self.limiter.clear(&key);
        tx.set_session_mfa_state(&session.id_hash, MfaState::Ok.as_str())
            .await?;
        tx.append_event(
            Self::event(
                &session.actor,
                "session.mfa_verified",
                "user",
                &session.user.id,
                None,
                Some(json!({"method": method})),
            ),
            &now_s,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Starts two-factor enrolment: a secret kept pending until a code proves the person's
    /// authenticator holds it. A pending secret is offered again rather than replaced, so a
    /// mistyped code or a reloaded page does not make the person scan a new QR code.
    pub async fn begin_mfa_enrolment(&self, actor: &Actor) -> Result<Enrolment, AppError> {
        self.authorize(actor, crate::Action::ManageOwnAccount)?;
        require_person(actor)?;
        let uid = actor.user_id.clone().ok_or(AppError::Unauthenticated)?;
        let (mut tx, now) = self.write().await?;
        let mut user = tx
            .user_by_id(&uid)
            .await?
            .ok_or_else(|| AppError::NotFound("user".into()))?;
        if let Some(pending) = user.totp_pending_secret.clone() {
            // Nothing changes, so nothing is written (dropping `tx` rolls it back).
            let t = totp(&pending, &user.email)?;
            return Ok(Enrolment {
                secret_base32: pending,
                otpauth_url: t.get_url(),
            });
        }
        let secret = Secret::generate_secret().to_encoded().to_string();
        let t = totp(&secret, &user.email)?;
        user.totp_pending_secret = Some(secret.clone());
        user.updated_at = now.clone();
        tx.update_user(&user).await?;
        tx.append_event(
            Self::event(
                actor,
                "user.mfa_enrolment_started",
                "user",
                &uid,
                None,
                None,
            ),
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok(Enrolment {
            secret_base32: secret,
            otpauth_url: t.get_url(),
        })
    }

    /// Completes enrolment with a code from the authenticator; returns the recovery codes,
    /// which are shown once and stored only hashed. A session waiting on enrolment is upgraded.
    pub async fn confirm_mfa_enrolment(
        &self,
        actor: &Actor,
        session_id_hash: Option<&str>,
        code: &str,
    ) -> Result<Vec<String>, AppError> {
        self.authorize(actor, crate::Action::ManageOwnAccount)?;
        require_person(actor)?;
        let uid = actor.user_id.clone().ok_or(AppError::Unauthenticated)?;
        let (mut tx, now) = self.write().await?;
        let mut user = tx
            .user_by_id(&uid)
            .await?
            .ok_or_else(|| AppError::NotFound("user".into()))?;
        let Some(pending) = user.totp_pending_secret.clone() else {
            return Err(AppError::Conflict("start enrolment first".into()));
        };
        let t = totp(&pending, &user.email)?;
        let step = matching_step(
            &t,
            &normalize_code(code),
            self.now().unix_timestamp() as u64,
        );
        let Some(step) = step else {
            return Err(AppError::field(
                "code",
                "that code does not match; scan the QR code again and enter the current 6-digit code",
            ));
        };
        // The enrolment code counts as used, so it cannot also complete a sign-in.
        tx.claim_totp_step(&uid, step).await?;
        user.totp_secret = Some(pending);
        user.totp_pending_secret = None;
        user.updated_at = now.clone();
        tx.update_user(&user).await?;
        let codes: Vec<String> = (0..10)
            .map(|_| {
                // 80 random bits: even with the hashes in hand, guessing one is infeasible.
                let mut b = [0u8; 10];
                rand::rngs::OsRng.fill_bytes(&mut b);
                let h = hex::encode(b);
                format!("{}-{}-{}-{}", &h[..5], &h[5..10], &h[10..15], &h[15..])
            })
            .collect();
        let hashes: Vec<String> = codes
            .iter()
            .map(|c| sha256_hex(&normalize_code(c)))
            .collect();
        tx.replace_recovery_codes(&uid, &hashes).await?;
        if let Some(h) = session_id_hash {
            tx.set_session_mfa_state(h, MfaState::Ok.as_str()).await?;
        }
        tx.append_event(
            Self::event(
                actor,
                "user.mfa_enabled",
                "user",
                &uid,
                Some(json!({"mfa": false})),
                Some(json!({"mfa": true})),
            ),
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Changes one's own password; the current one must be given.
    pub async fn change_own_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
    ) -> Result<(), AppError> {
        self.authorize(actor, crate::Action::ManageOwnAccount)?;
        require_person(actor)?;
        let uid = actor.user_id.clone().ok_or(AppError::Unauthenticated)?;
        vouch_domain::validate::password("new_password", new)?;
        let (mut tx, now) = self.write().await?;
        let mut user = tx
            .user_by_id(&uid)
            .await?
            .ok_or_else(|| AppError::NotFound("user".into()))?;
        if !user
            .password_hash
            .as_deref()
            .is_some_and(|h| verify_password(h, current))
        {
            return Err(AppError::field("current_password", "is wrong"));
        }
        user.password_hash = Some(hash_password(new));
        user.updated_at = now.clone();
        tx.update_user(&user).await?;
        tx.append_event(
            Self::event(actor, "user.password_change", "user", &uid, None, None),
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery staple");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "correct horse battery staple"));
        assert!(!verify_password(&h, "wrong horse battery staple"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn codes_are_normalised() {
        assert_eq!(normalize_code(" 12 34-56 "), "123456");
        assert_eq!(normalize_code("ABCDE-f0123"), "abcdef0123");
    }
}
