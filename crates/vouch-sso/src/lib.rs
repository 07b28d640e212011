//! OpenID Connect single sign-on for Vouch, as a relying party.
//!
//! Vouch signs people in through the organisation's own identity provider so that joiners and
//! leavers are governed in one place (the access controls an auditor tests), and so that Vouch
//! never holds a password for those people. The flow is the authorization code flow with PKCE
//! (S256), `state` and `nonce`, and the ID token's signature is checked against the provider's
//! published keys: that is the combination current guidance (OAuth 2.0 Security BCP) asks of a
//! confidential web client, and each piece closes a different attack (PKCE: stolen codes; state:
//! login CSRF; nonce: token replay; signature: forged identities).
//!
//! The protocol work is done by the `openidconnect` crate; this crate pins down the choices,
//! turns its errors into messages an administrator can act on, and hands the web layer a small
//! [`Identity`]. The web layer keeps the [`PendingLogin`] in its server-side session between the
//! redirect and the callback.
//!
//! With the `test-idp` feature, `testing::TestIdp` is a real provider on loopback, so the whole
//! flow can be tested end to end without network access.

#![forbid(unsafe_code)]

use std::error::Error as StdError;
use std::fmt;
use std::sync::RwLock;
use std::time::Duration;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreClientAuthMethod, CoreIdTokenVerifier,
    CoreJsonWebKeySet, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, JsonWebKeySetUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError,
    Scope, SignatureVerificationError, TokenResponse, reqwest,
};
use serde::{Deserialize, Serialize};

#[cfg(feature = "test-idp")]
pub mod testing;

/// Connection settings for one identity provider, as an administrator enters them.
#[derive(Clone, Serialize, Deserialize)]
pub struct OidcConfig {
    /// The provider's issuer identifier, e.g. `https://accounts.google.com`. Discovery appends
    /// `/.well-known/openid-configuration`, and ID tokens must name exactly this issuer.
    pub issuer_url: String,
    pub client_id: String,
    /// `None` makes Vouch a public client that relies on PKCE alone; providers that issue a
    /// secret expect it to be sent, so set it whenever one was issued.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Vouch's callback URL; must be registered with the provider byte for byte.
    pub redirect_url: String,
    /// Scopes requested beyond `openid` (which is always sent). The default, `email` and
    /// `profile`, is what it takes for most providers to release the email and name claims that
    /// Vouch matches people by.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
}

/// The scopes most providers need before they release `email` and `name`.
pub fn default_scopes() -> Vec<String> {
    vec!["email".to_owned(), "profile".to_owned()]
}

impl OidcConfig {
    /// A configuration with the default scopes, so callers need not repeat them.
    pub fn new(
        issuer_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Option<String>,
        redirect_url: impl Into<String>,
    ) -> Self {
        OidcConfig {
            issuer_url: issuer_url.into(),
            client_id: client_id.into(),
            client_secret,
            redirect_url: redirect_url.into(),
            scopes: default_scopes(),
        }
    }
}

// Hand-written so the client secret never reaches a log line through `{:?}`.
impl fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer_url", &self.issuer_url)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("redirect_url", &self.redirect_url)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Why a sign-in could not be completed.
///
/// The messages are written for the administrator who configured SSO or the person trying to
/// sign in: they say what went wrong and, where there is one, what to do about it. None of them
/// contains a secret (codes, tokens, verifiers and client secrets are never included).
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// The settings cannot work whatever the provider does (e.g. an unparsable URL).
    #[error("single sign-on is misconfigured: {0}")]
    Config(String),

    /// The provider's discovery document or key set could not be fetched or was unusable.
    #[error(
        "could not discover the OpenID provider at {issuer_url}: {reason} \
         (check the issuer URL and that Vouch can reach it)"
    )]
    Discovery { issuer_url: String, reason: String },

    /// The callback's `state` is not the one this session started with: a forged or stale
    /// callback (login CSRF), or a login finished in another tab or browser.
    #[error(
        "the sign-in response does not belong to this sign-in attempt (state mismatch); \
         please start signing in again"
    )]
    StateMismatch,

    /// The provider sent the browser back with an `error` instead of a code (the person
    /// declined, or the provider refused the request).
    #[error(
        "the identity provider refused the sign-in: {error}{}",
        describe_opt(description)
    )]
    ProviderRefused {
        error: String,
        description: Option<String>,
    },

    /// The back-channel exchange of the code for tokens failed.
    #[error("the identity provider did not accept the sign-in code: {reason}")]
    TokenExchange { reason: String },

    /// The token response had no ID token, so there is no identity to trust.
    #[error(
        "the identity provider returned no ID token; is the `openid` scope allowed for this client?"
    )]
    MissingIdToken,

    /// The ID token failed verification; the reason says which check.
    #[error("the identity provider's ID token was rejected: {0}")]
    IdTokenInvalid(IdTokenProblem),

    /// The ID token had no email and the user-info endpoint could not supply one either.
    #[error(
        "fetching the user's details from the identity provider's user-info endpoint failed: {reason}"
    )]
    UserInfo { reason: String },

    /// Vouch matches people by email, so a login without one cannot be mapped to anybody.
    #[error(
        "the identity provider did not release an email address for user `{subject}`; \
         request the `email` scope and allow it for this client"
    )]
    MissingEmail { subject: String },
}

fn describe_opt(description: &Option<String>) -> String {
    match description {
        Some(d) if !d.is_empty() => format!(" ({d})"),
        _ => String::new(),
    }
}

/// Which ID token check failed, so that logs and tests can tell a forgery from a clock problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdTokenProblem {
    /// Not signed by any key the provider publishes (forged, tampered, or wrong algorithm).
    Signature(String),
    /// The nonce is missing or not this login's: a replayed or injected token.
    Nonce(String),
    /// Issued for another client.
    Audience(String),
    /// Expired (or the clocks of Vouch and the provider disagree).
    Expired(String),
    /// Issued by someone other than the configured issuer.
    Issuer(String),
    /// The `at_hash` claim does not match the access token that came with it: a substituted
    /// access token.
    AccessTokenHash,
    Other(String),
}

impl fmt::Display for IdTokenProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdTokenProblem::Signature(d) => write!(f, "invalid signature ({d})"),
            IdTokenProblem::Nonce(d) => write!(f, "nonce does not match this sign-in ({d})"),
            IdTokenProblem::Audience(d) => write!(f, "issued for a different client ({d})"),
            IdTokenProblem::Expired(d) => {
                write!(f, "expired ({d}); check that the server clock is correct")
            }
            IdTokenProblem::Issuer(d) => write!(f, "wrong issuer ({d})"),
            IdTokenProblem::AccessTokenHash => {
                write!(
                    f,
                    "its at_hash does not match the access token it came with"
                )
            }
            IdTokenProblem::Other(d) => write!(f, "{d}"),
        }
    }
}

impl From<ClaimsVerificationError> for IdTokenProblem {
    fn from(err: ClaimsVerificationError) -> Self {
        match err {
            ClaimsVerificationError::SignatureVerification(e) => {
                IdTokenProblem::Signature(e.to_string())
            }
            ClaimsVerificationError::InvalidNonce(d) => IdTokenProblem::Nonce(d),
            ClaimsVerificationError::InvalidAudience(d) => IdTokenProblem::Audience(d),
            ClaimsVerificationError::Expired(d) => IdTokenProblem::Expired(d),
            ClaimsVerificationError::InvalidIssuer(d) => IdTokenProblem::Issuer(d),
            other => IdTokenProblem::Other(other.to_string()),
        }
    }
}

/// What Vouch keeps server-side between sending the browser away and its return.
///
/// All three values are secrets for the lifetime of one login: keep them in the server-side
/// session, never in a cookie the browser can read or in the URL.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// Who signed in, as asserted by a verified ID token (and, if needed, the user-info endpoint).
///
/// `(issuer, subject)` is the stable key for a person; email can change at the provider, so it
/// is for matching on first sign-in and display, and `email_verified` says whether the provider
/// vouches for it. `email` is `Some` for every identity [`OidcClient::finish`] returns.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
}

/// The `openidconnect` client type as discovery builds it: auth URL known, token and user-info
/// URLs optional until checked.
type DiscoveredClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A relying party for one provider, built once from discovery and shared across requests.
pub struct OidcClient {
    client: DiscoveredClient,
    http: reqwest::Client,
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    scopes: Vec<String>,
    jwks_url: JsonWebKeySetUrl,
    /// Refreshed when a token names a key we do not have, because providers rotate keys without
    /// telling their clients and a process may run for months after discovery.
    jwks: RwLock<CoreJsonWebKeySet>,
    signing_algs: Vec<CoreJwsSigningAlgorithm>,
}

impl fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcClient")
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.client_id.as_str())
            .finish_non_exhaustive()
    }
}

/// Bounds every call to the provider so that a hung provider cannot hold a login request (and
/// its worker) forever.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl OidcClient {
    /// Fetches the provider's discovery document and signing keys.
    ///
    /// Done once at start-up (or when the settings change) rather than per login, because every
    /// login needs the endpoints and keys and they rarely change; keys are refreshed on demand.
    pub async fn discover(cfg: &OidcConfig) -> Result<Self, SsoError> {
        let issuer = IssuerUrl::new(cfg.issuer_url.clone()).map_err(|e| {
            SsoError::Config(format!(
                "issuer URL `{}` is not a valid URL: {e}",
                cfg.issuer_url
            ))
        })?;
        let redirect = RedirectUrl::new(cfg.redirect_url.clone()).map_err(|e| {
            SsoError::Config(format!(
                "redirect URL `{}` is not a valid URL: {e}",
                cfg.redirect_url
            ))
        })?;
        if cfg.client_id.is_empty() {
            return Err(SsoError::Config("the client ID is empty".to_owned()));
        }

        let http = reqwest::Client::builder()
            // Following redirects would let a hostile discovery document steer Vouch's requests
            // anywhere (SSRF); real providers answer these endpoints directly.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| {
                SsoError::Config(format!("cannot build the HTTP client: {}", chain(&e)))
            })?;

        let discovery_err = |reason: String| SsoError::Discovery {
            issuer_url: cfg.issuer_url.clone(),
            reason,
        };
        let metadata = CoreProviderMetadata::discover_async(issuer.clone(), &http)
            .await
            .map_err(|e| discovery_err(chain(&e)))?;

        if metadata.token_endpoint().is_none() {
            return Err(discovery_err(
                "the provider does not advertise a token endpoint".to_owned(),
            ));
        }
        // The spec's default when the list is absent is client_secret_basic. Prefer it, as the
        // spec does; fall back to the form body only when the provider cannot take Basic.
        let auth_type = match metadata.token_endpoint_auth_methods_supported() {
            Some(methods)
                if !methods.contains(&CoreClientAuthMethod::ClientSecretBasic)
                    && methods.contains(&CoreClientAuthMethod::ClientSecretPost) =>
            {
                AuthType::RequestBody
            }
            _ => AuthType::BasicAuth,
        };

        let client_id = ClientId::new(cfg.client_id.clone());
        let client_secret = cfg.client_secret.clone().map(ClientSecret::new);
        let jwks_url = metadata.jwks_uri().clone();
        let jwks = metadata.jwks().clone();
        let signing_algs = metadata.id_token_signing_alg_values_supported().clone();
        let client =
            CoreClient::from_provider_metadata(metadata, client_id.clone(), client_secret.clone())
                .set_redirect_uri(redirect)
                .set_auth_type(auth_type);

        let scopes = cfg
            .scopes
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty() && *s != "openid")
            .map(str::to_owned)
            .collect();

        Ok(OidcClient {
            client,
            http,
            issuer,
            client_id,
            client_secret,
            scopes,
            jwks_url,
            jwks: RwLock::new(jwks),
            signing_algs,
        })
    }

    /// The issuer this client trusts, as configured.
    pub fn issuer_url(&self) -> &str {
        self.issuer.as_str()
    }

    /// Starts a login: returns the URL to redirect the browser to and the secrets to keep
    /// server-side.
    ///
    /// Fresh random state, nonce and PKCE verifier per call, so one login's callback can never
    /// complete another.
    pub fn begin(&self) -> (String, PendingLogin) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self.client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        };
        (url.to_string(), pending)
    }

    /// Completes it from the callback's `code` and `state` query parameters.
    ///
    /// The caller must drop `pending` from the session whatever the outcome, so that a callback
    /// cannot be replayed against it.
    pub async fn finish(
        &self,
        pending: &PendingLogin,
        code: &str,
        returned_state: &str,
    ) -> Result<Identity, SsoError> {
        // Checked before anything else so that a forged callback never makes Vouch spend the
        // code (which would also let an attacker burn a victim's code).
        if pending.state.is_empty()
            || !constant_time_eq(pending.state.as_bytes(), returned_state.as_bytes())
        {
            return Err(SsoError::StateMismatch);
        }

        let request = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| SsoError::Config(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()));
        let tokens = request
            .request_async(&self.http)
            .await
            .map_err(token_exchange_error)?;

        let id_token = tokens.id_token().ok_or(SsoError::MissingIdToken)?;
        let nonce = Nonce::new(pending.nonce.clone());

        let mut verifier = self.verifier();
        let claims = match id_token.claims(&verifier, &nonce) {
            Ok(claims) => claims,
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // The provider has probably rotated its keys since discovery: fetch them again,
                // once, and retry. A still-unknown key is then a real failure.
                self.refresh_jwks().await?;
                verifier = self.verifier();
                id_token
                    .claims(&verifier, &nonce)
                    .map_err(|e| SsoError::IdTokenInvalid(e.into()))?
            }
            Err(e) => return Err(SsoError::IdTokenInvalid(e.into())),
        };

        // The code flow makes at_hash optional, but when present it binds the access token (used
        // for user-info below) to this ID token.
        if let Some(expected) = claims.access_token_hash() {
            let sig_err = |e: SignatureVerificationError| {
                SsoError::IdTokenInvalid(IdTokenProblem::Signature(e.to_string()))
            };
            let alg = id_token.signing_alg().map_err(sig_err)?;
            let key = id_token.signing_key(&verifier).map_err(sig_err)?;
            let actual = AccessTokenHash::from_token(tokens.access_token(), alg, key)
                .map_err(|e| SsoError::IdTokenInvalid(IdTokenProblem::Other(e.to_string())))?;
            if actual != *expected {
                return Err(SsoError::IdTokenInvalid(IdTokenProblem::AccessTokenHash));
            }
        }

        let subject = claims.subject().as_str().to_owned();
        let mut email = claims.email().map(|e| e.as_str().to_owned());
        let mut email_verified = claims.email_verified().unwrap_or(false);
        let mut name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned());

        // Some providers (e.g. with thin ID tokens) only release email through user-info. Ask
        // there rather than turn the person away; the subject is pinned so that a user-info
        // answer about someone else cannot be grafted onto this login.
        if email.is_none() && self.client.user_info_url().is_some() {
            let info: CoreUserInfoClaims = self
                .client
                .user_info(
                    tokens.access_token().clone(),
                    Some(claims.subject().clone()),
                )
                .map_err(|e| SsoError::UserInfo {
                    reason: e.to_string(),
                })?
                .request_async(&self.http)
                .await
                .map_err(|e| SsoError::UserInfo { reason: chain(&e) })?;
            email = info.email().map(|e| e.as_str().to_owned());
            email_verified = info.email_verified().unwrap_or(false);
            if name.is_none() {
                name = info
                    .name()
                    .and_then(|n| n.get(None))
                    .map(|n| n.as_str().to_owned());
            }
        }

        if email.is_none() {
            return Err(SsoError::MissingEmail { subject });
        }

        Ok(Identity {
            issuer: claims.issuer().as_str().to_owned(),
            subject,
            email,
            email_verified,
            name,
        })
    }

    fn verifier(&self) -> CoreIdTokenVerifier<'static> {
        let jwks = self
            .jwks
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        // Mirrors what `openidconnect` does for a client built from discovery: HMAC-signed
        // tokens are only acceptable to a confidential client, keyed by its secret.
        let verifier = match &self.client_secret {
            Some(secret) => CoreIdTokenVerifier::new_confidential_client(
                self.client_id.clone(),
                secret.clone(),
                self.issuer.clone(),
                jwks,
            ),
            None => CoreIdTokenVerifier::new_public_client(
                self.client_id.clone(),
                self.issuer.clone(),
                jwks,
            ),
        };
        verifier.set_allowed_algs(self.signing_algs.clone())
    }

    async fn refresh_jwks(&self) -> Result<(), SsoError> {
        let fresh = CoreJsonWebKeySet::fetch_async(&self.jwks_url, &self.http)
            .await
            .map_err(|e| SsoError::Discovery {
                issuer_url: self.issuer.as_str().to_owned(),
                reason: format!("re-fetching the signing keys failed: {}", chain(&e)),
            })?;
        tracing::info!(
            issuer = self.issuer.as_str(),
            "refreshed the OpenID provider's signing keys"
        );
        *self
            .jwks
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = fresh;
        Ok(())
    }
}

fn token_exchange_error<RE, T>(err: RequestTokenError<RE, T>) -> SsoError
where
    RE: StdError + 'static,
    T: openidconnect::ErrorResponse + 'static,
{
    let reason = match &err {
        // The provider's own error code and description are the most useful thing to show: they
        // say e.g. "invalid_grant: PKCE verification failed" or "invalid_client".
        RequestTokenError::ServerResponse(resp) => resp.to_string(),
        RequestTokenError::Parse(e, body) => format!(
            "unreadable token response ({e}): {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ),
        _ => chain(&err),
    };
    SsoError::TokenExchange { reason }
}

/// Renders an error with its causes: the top-level messages of `openidconnect` and `reqwest`
/// ("Request failed", "error sending request") hide the useful part ("Connection refused").
/// Wrapper messages that say nothing on their own are left out when a cause follows.
fn chain(err: &(dyn StdError + 'static)) -> String {
    const NOISE: [&str; 3] = ["Request failed", "client error", "Failed to verify claims"];
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        let msg = e.to_string();
        let noise = NOISE.contains(&msg.as_str()) && e.source().is_some();
        if !msg.is_empty() && !noise && !parts.iter().any(|p| p.contains(&msg)) {
            parts.push(msg);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// Compares secrets without an early exit, so response timing does not leak how much of a
/// guessed `state` was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn config_debug_redacts_secret() {
        let cfg = OidcConfig::new(
            "https://idp",
            "vouch",
            Some("hunter2".into()),
            "https://v/cb",
        );
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert_eq!(cfg.scopes, vec!["email", "profile"]);
    }

    #[test]
    fn config_deserializes_with_default_scopes() {
        let cfg: OidcConfig = serde_json::from_str(
            r#"{"issuer_url":"https://idp","client_id":"c","redirect_url":"https://v/cb"}"#,
        )
        .unwrap();
        assert_eq!(cfg.scopes, vec!["email", "profile"]);
        assert!(cfg.client_secret.is_none());
    }

    #[test]
    fn pending_login_round_trips_through_json() {
        let p = PendingLogin {
            state: "s".into(),
            nonce: "n".into(),
            pkce_verifier: "v".into(),
        };
        let back: PendingLogin = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(
            (back.state, back.nonce, back.pkce_verifier),
            ("s".into(), "n".into(), "v".into())
        );
    }

    #[test]
    fn chain_includes_causes_once() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("Request failed")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let e = Outer(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused",
        ));
        assert_eq!(chain(&e), "Connection refused");
    }
}
