//! Vouch's use cases: the one door to state.
//!
//! Every change goes through a method of [`App`], which checks the actor's role against the
//! table in [`authz`] and writes the change and its audit event in one store transaction. The
//! web layer and the CLI only translate requests into these calls; neither touches the store's
//! write side. An auditor's role permits no change of organisational state, so auditors are
//! read-only by construction.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod actor;
pub mod auth;
pub mod authz;
pub mod clock;
pub mod collect;
pub mod controls;
pub mod error;
pub mod evidence;
pub mod integrations;
mod limiter;
pub mod monitoring;
pub mod settings;
pub mod tokens;
pub mod users;

pub use actor::{Actor, ActorKind};
pub use authz::Action;
pub use clock::{Clock, SystemClock};
pub use error::AppError;
pub use vouch_domain as domain;
pub use vouch_store::{AuditFilter, Backend, Store, StoreError, TokenRecord, UserRecord};

use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use vouch_domain::audit::{AuditEvent, ChainError, NewAuditEvent};
use vouch_domain::criteria::Catalog;
use vouch_store::WriteTx;

/// Settings the use cases need, decided by the binary's configuration.
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// A session ends after this long without a request.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, however active.
    pub session_max: Duration,
    /// Failed sign-ins allowed per account within `login_window` before it is slowed down.
    pub login_max_failures: u32,
    pub login_window: Duration,
    /// Whether a sign-in through the identity provider counts as a second factor.
    pub trust_idp_mfa: bool,
    /// The largest evidence file accepted, in bytes.
    pub evidence_max_bytes: u64,
    /// Days evidence is kept after the last day it covers; `None` keeps it forever.
    pub evidence_retention_days: Option<u32>,
    /// The largest file an import reads (the importers read a file whole).
    pub import_max_bytes: u64,
    /// How integrations retry a system that is slow, rate-limited or failing.
    pub connector_retry: vouch_connect::http::RetryPolicy,
    /// SLAs, parameters, limits and custom tests of continuous monitoring.
    pub monitoring: monitoring::MonitoringConfig,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            session_idle: Duration::from_secs(8 * 3600),
            session_max: Duration::from_secs(24 * 3600),
            login_max_failures: 5,
            login_window: Duration::from_secs(15 * 60),
            trust_idp_mfa: true,
            evidence_max_bytes: 4 * 1024 * 1024 * 1024,
            evidence_retention_days: None,
            import_max_bytes: 1024 * 1024 * 1024,
            connector_retry: vouch_connect::http::RetryPolicy::default(),
            monitoring: monitoring::MonitoringConfig::default(),
        }
    }
}

/// The application: the store, the clock and the configuration. Cheap to clone.
#[derive(Clone)]
pub struct App {
    store: Store,
    vault: vouch_evidence::Vault,
    clock: Arc<dyn Clock>,
    config: Arc<AppConfig>,
    limiter: Arc<limiter::Limiter>,
    /// Per client address: looser than per account, so people behind one proxy or office
    /// address do not lock each other out, while a single guesser is still slowed down.
    ip_limiter: Arc<limiter::Limiter>,
    /// The control tests, loaded (and compiled) once at start.
    tests: Arc<monitoring::TestCatalog>,
}

impl App {
    pub fn new(
        store: Store,
        vault: vouch_evidence::Vault,
        clock: Arc<dyn Clock>,
        config: AppConfig,
    ) -> App {
        let limiter = limiter::Limiter::new(config.login_max_failures, config.login_window);
        let (config_max, config_window) = (config.login_max_failures, config.login_window);
        let tests = Arc::new(monitoring::TestCatalog::load(&config.monitoring));
        App {
            store,
            vault,
            clock,
            tests,
            config: Arc::new(config),
            limiter: Arc::new(limiter),
            ip_limiter: Arc::new(limiter::Limiter::new(
                config_max.saturating_mul(10),
                config_window,
            )),
        }
    }

    /// Which database backs this app (`sqlite` or `postgres`), for display.
    pub fn backend_name(&self) -> &'static str {
        self.store.backend().name()
    }

    pub fn config(&self) -> &AppConfig {
        &self.config
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    pub(crate) fn now_str(&self) -> String {
        vouch_domain::time_fmt::format(self.clock.now())
    }

    /// Refuses the action unless the actor's role permits it.
    pub fn authorize(&self, actor: &Actor, action: Action) -> Result<(), AppError> {
        if authz::permits(actor.role, action) {
            Ok(())
        } else {
            Err(AppError::Forbidden {
                action,
                role: actor.role,
            })
        }
    }

    /// Starts a write and returns it with the time to stamp on what it writes.
    pub(crate) async fn write(&self) -> Result<(WriteTx, String), AppError> {
        Ok((self.store.begin().await?, self.now_str()))
    }

    pub(crate) fn event(
        actor: &Actor,
        action: &str,
        object_type: &str,
        object_id: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> NewAuditEvent {
        NewAuditEvent {
            actor: actor.audit_id(),
            actor_label: actor.label.clone(),
            action: action.to_string(),
            object_type: object_type.to_string(),
            object_id: object_id.to_string(),
            before,
            after,
            request_id: actor.request_id.clone(),
        }
    }

    // ---- criteria ----

    pub fn criteria(&self, actor: &Actor) -> Result<&'static Catalog, AppError> {
        self.authorize(actor, Action::ViewCriteria)?;
        Ok(vouch_domain::criteria::soc2())
    }

    // ---- audit log ----

    pub async fn audit_events(
        &self,
        actor: &Actor,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditEvent>, AppError> {
        self.authorize(actor, Action::ViewAuditLog)?;
        Ok(self.store.audit_events(filter).await?)
    }

    /// How many events the log holds, read from its head (cheap, unlike verification).
    pub async fn audit_event_count(&self, actor: &Actor) -> Result<i64, AppError> {
        self.authorize(actor, Action::ViewAuditLog)?;
        Ok(self.store.audit_head().await?.0)
    }

    /// Verifies the whole chain: the number of events, or the first bad one.
    pub async fn verify_audit_log(
        &self,
        actor: &Actor,
    ) -> Result<Result<i64, ChainError>, AppError> {
        self.authorize(actor, Action::ViewAuditLog)?;
        Ok(self.store.verify_audit_log().await?)
    }

    /// Removes expired sessions and abandoned sign-ins; returns how many.
    pub async fn purge_expired(&self) -> Result<u64, AppError> {
        Ok(self.store.purge_expired(&self.now_str()).await?)
    }

    /// Readiness of the store, for `/readyz` and `vouch healthcheck`.
    pub async fn ready(&self) -> Result<(), AppError> {
        Ok(self.store.ping().await?)
    }
}

/// An in-memory vault for the crate's own tests (staging in the system's temporary folder).
#[cfg(test)]
pub(crate) fn test_vault() -> vouch_evidence::Vault {
    vouch_evidence::Vault::open(
        &vouch_evidence::VaultConfig {
            url: "memory:".into(),
            s3: Default::default(),
        },
        &std::env::temp_dir().join("vouch-app-test-staging"),
    )
    .expect("an in-memory vault opens")
}
