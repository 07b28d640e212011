//! The rows the store reads and writes, as plain values.
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserRecord {
    pub id: String,
    pub email: String,
    pub name: String,
    /// A `vouch_domain::Role` name.
    pub role: String,
    /// `active` or `disabled`.
    pub status: String,
    #[serde(skip)]
    pub password_hash: Option<String>,
    #[serde(skip)]
    pub totp_secret: Option<String>,
    #[serde(skip)]
    pub totp_pending_secret: Option<String>,
    pub oidc_issuer: Option<String>,
    pub oidc_subject: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub last_login_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    /// `ok`, `pending` (second factor still to give) or `enrol` (must enrol before anything else).
    pub mfa_state: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub expires_at: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub role: String,
    #[serde(skip)]
    pub token_hash: String,
    /// The first characters of the secret, so a person can tell their tokens apart.
    pub prefix: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingLoginRecord {
    pub state: String,
    pub binding_hash: String,
    pub payload: String,
    pub expires_at: String,
}

/// Filters for reading the audit log. Empty fields do not filter.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Substring of the actor id or label.
    pub actor: Option<String>,
    /// Prefix of the action (`user.` matches every user action).
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    /// Inclusive lower bound, RFC 3339.
    pub from: Option<String>,
    /// Exclusive upper bound, RFC 3339.
    pub to: Option<String>,
    /// Only events with a sequence number below this (for paging newest first).
    pub before_seq: Option<i64>,
    pub limit: i64,
}
