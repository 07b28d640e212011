//! Integrations: the systems Vouch reads live, on a schedule and on demand.
//!
//! An integration has a name, a kind (`github`, `okta`, `google_workspace`, `aws`), settings
//! that are not secret (shown back, recorded in the audit log) and one credential (stored,
//! never shown back, never logged, never in the audit log). The credential is put into the
//! connector's settings only when a run starts.
//!
//! A run fetches (every response is kept as a capture bundle), then reads the bundle with the
//! system's importer, then applies the resources as a full sync of the scope
//! `integration:<name>`. A fetch that fails records a failed run; a bundle the importer
//! refuses records a failed run that keeps the bundle, so what the system said can be looked
//! at. Either way the stored resources stay as the last good run left them.
//!
//! **Schedule.** Each scheduled integration has a `next_run_at`. Every instance's scheduler
//! asks for the due ones and claims each by moving `next_run_at` forward with a
//! compare-and-set; only the instance whose update matched runs it, so with several instances
//! on one PostgreSQL database each scheduled run happens once.
use crate::collect::{RunFailure, RunSource};
use crate::evidence::NewFile;
use crate::{Action, Actor, App, AppError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use vouch_connect::http::RetryPolicy;
use vouch_connect::{CaptureBundle, ConnectorError, ConnectorKind};
use vouch_store::{IntegrationRecord, RunRecord};

/// The shortest schedule accepted: APIs have rate limits, and evidence does not go stale in
/// minutes.
pub const MIN_SCHEDULE_MINUTES: i64 = 5;

/// What a person gives to create or change an integration.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct IntegrationInput {
    /// Lower-case letters, digits and `-`: `github-acme`.
    pub name: String,
    /// `github`, `okta`, `google_workspace` or `aws`.
    pub kind: String,
    /// The settings that are not secret, as a JSON object (see each kind's fields).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub settings: Value,
    /// The credential: a GitHub token (or a GitHub App's private key when the settings name
    /// an `app_id`), an Okta API token, a Google service account's JSON key, an AWS secret
    /// access key. Required when creating; absent keeps the stored one.
    #[serde(default)]
    pub secret: Option<String>,
    /// Minutes between scheduled runs; absent runs only on demand.
    #[serde(default)]
    pub schedule_minutes: Option<i64>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Controls the runs' raw evidence supports.
    #[serde(default)]
    pub controls: Vec<String>,
}

fn yes() -> bool {
    true
}

/// An integration and how its last run went.
#[derive(Clone, Debug, Serialize)]
pub struct IntegrationView {
    #[serde(flatten)]
    pub integration: IntegrationRecord,
    pub label: &'static str,
    pub last_run: Option<RunRecord>,
}

/// Why a run was started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Manual,
    Schedule,
}

/// Where each kind's credential goes in its connector's settings, and the setting names that
/// must never be given as plain settings.
fn secret_fields(kind: ConnectorKind) -> &'static [&'static str] {
    match kind {
        ConnectorKind::Github => &["auth", "token", "private_key"],
        ConnectorKind::Okta => &["api_token", "token"],
        ConnectorKind::GoogleWorkspace => &["service_account_key", "private_key"],
        ConnectorKind::Aws => &["secret_access_key", "session_token"],
    }
}

/// The connector's full settings: the stored ones plus the credential.
fn with_secret(kind: ConnectorKind, settings: &Value, secret: &str) -> Value {
    let mut s = settings.clone();
    let obj = match s.as_object_mut() {
        Some(o) => o,
        None => return s,
    };
    match kind {
        ConnectorKind::Github => {
            let auth = match obj.get("app_id").cloned() {
                Some(app_id) => json!({
                    "type": "app",
                    "app_id": app_id,
                    "private_key": secret,
                    "installation_id": obj.get("installation_id").cloned().unwrap_or(Value::Null),
                }),
                None => json!({"type": "token", "token": secret}),
            };
            obj.remove("app_id");
            obj.remove("installation_id");
            obj.insert("auth".into(), auth);
        }
        ConnectorKind::Okta => {
            obj.insert("api_token".into(), secret.into());
        }
        ConnectorKind::GoogleWorkspace => {
            obj.insert("service_account_key".into(), secret.into());
        }
        ConnectorKind::Aws => {
            obj.insert("secret_access_key".into(), secret.into());
        }
    }
    s
}

/// Checks that settings plus a credential make a usable connector configuration (the same
/// deserialisation the run does), naming the first problem.
fn check_settings(kind: ConnectorKind, settings: &Value) -> Result<(), String> {
    let probe = with_secret(kind, settings, "probe");
    let result = match kind {
        ConnectorKind::Github => {
            serde_json::from_value::<vouch_connect::github::Settings>(probe).map(|_| ())
        }
        ConnectorKind::Okta => {
            serde_json::from_value::<vouch_connect::okta::Settings>(probe).map(|_| ())
        }
        ConnectorKind::GoogleWorkspace => {
            serde_json::from_value::<vouch_connect::google::Settings>(probe).map(|_| ())
        }
        ConnectorKind::Aws => {
            serde_json::from_value::<vouch_connect_aws::Settings>(probe).map(|_| ())
        }
    };
    result.map_err(|e| e.to_string())
}

fn kind_of(record: &IntegrationRecord) -> Result<ConnectorKind, AppError> {
    ConnectorKind::parse(&record.kind).ok_or_else(|| {
        AppError::Conflict(format!(
            "integration {} has an unknown kind '{}'",
            record.name, record.kind
        ))
    })
}

/// Fetches every response from the system; the bundle is what the run keeps.
async fn fetch(
    kind: ConnectorKind,
    settings: Value,
    policy: RetryPolicy,
) -> Result<CaptureBundle, ConnectorError> {
    fn parse<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, ConnectorError> {
        serde_json::from_value(v).map_err(|e| ConnectorError::Config(e.to_string()))
    }
    match kind {
        ConnectorKind::Github => vouch_connect::github::fetch(&parse(settings)?, policy).await,
        ConnectorKind::Okta => vouch_connect::okta::fetch(&parse(settings)?, policy).await,
        ConnectorKind::GoogleWorkspace => {
            vouch_connect::google::fetch(&parse(settings)?, policy).await
        }
        ConnectorKind::Aws => vouch_connect_aws::fetch(&parse(settings)?, policy).await,
    }
}

/// Reads a bundle into resources with the system's importer (the same one a file import of
/// the bundle uses).
fn read(kind: ConnectorKind, bundle: &CaptureBundle) -> Result<vouch_collect::Collection, String> {
    let result = match vouch_connect::import_kind(kind) {
        Some(k) => vouch_collect::import(&bundle.to_bytes(), Some(k)),
        None => vouch_connect_aws::read_bundle(bundle),
    };
    result.map_err(|e| format!("the responses could not be read: {e}"))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        // `/integrations/new` is the form for a new one.
        && name != "new"
}

impl App {
    /// Every integration with its last run.
    pub async fn integrations(&self, actor: &Actor) -> Result<Vec<IntegrationView>, AppError> {
        self.authorize(actor, Action::ViewResources)?;
        let mut out = vec![];
        for i in self.store.list_integrations().await? {
            let last_run = self
                .store
                .list_runs(Some(&i.name), 1)
                .await?
                .into_iter()
                .next();
            let label = ConnectorKind::parse(&i.kind).map_or("unknown", ConnectorKind::label);
            out.push(IntegrationView {
                integration: i,
                label,
                last_run,
            });
        }
        Ok(out)
    }

    /// One integration with its recent runs.
    pub async fn integration(
        &self,
        actor: &Actor,
        name: &str,
    ) -> Result<(IntegrationView, Vec<RunRecord>), AppError> {
        self.authorize(actor, Action::ViewResources)?;
        let i = self
            .store
            .integration(name.trim())
            .await?
            .ok_or_else(|| AppError::NotFound(format!("integration {}", name.trim())))?;
        let runs = self.store.list_runs(Some(&i.name), 50).await?;
        let label = ConnectorKind::parse(&i.kind).map_or("unknown", ConnectorKind::label);
        Ok((
            IntegrationView {
                integration: i,
                label,
                last_run: runs.first().cloned(),
            },
            runs,
        ))
    }

    /// Creates an integration or changes one. Every problem is reported at once; the audit
    /// event records the settings and whether the credential changed, never the credential.
    pub async fn put_integration(
        &self,
        actor: &Actor,
        input: IntegrationInput,
    ) -> Result<IntegrationRecord, AppError> {
        self.authorize(actor, Action::ManageIntegrations)?;
        let name = input.name.trim().to_string();
        let existing = self.store.integration(&name).await?;
        let mut errors = vec![];
        if !valid_name(&name) {
            errors.push(vouch_domain::validate::FieldError::new(
                "name",
                "use lower-case letters, digits and '-' (at most 64, not 'new'), such as github-acme",
            ));
        }
        let kind = ConnectorKind::parse(&input.kind);
        let settings = if input.settings.is_null() {
            json!({})
        } else {
            input.settings.clone()
        };
        match kind {
            None => errors.push(vouch_domain::validate::FieldError::new(
                "kind",
                format!(
                    "'{}' is not a kind of integration; use github, okta, google_workspace or aws",
                    input.kind
                ),
            )),
            Some(k) => {
                if let Some(e) = &existing
                    && e.kind != k.as_str()
                {
                    errors.push(vouch_domain::validate::FieldError::new(
                        "kind",
                        format!("{name} is a {} integration; its kind cannot change", e.kind),
                    ));
                }
                match settings.as_object() {
                    None => errors.push(vouch_domain::validate::FieldError::new(
                        "settings",
                        "the settings must be a JSON object",
                    )),
                    Some(obj) => {
                        if let Some(f) = secret_fields(k).iter().find(|f| obj.contains_key(**f)) {
                            errors.push(vouch_domain::validate::FieldError::new(
                                "settings",
                                format!(
                                    "'{f}' is a credential: give it as the secret, which is stored but never shown back"
                                ),
                            ));
                        } else if let Err(e) = check_settings(k, &settings) {
                            errors.push(vouch_domain::validate::FieldError::new(
                                "settings",
                                format!("{} settings: {e}", k.label()),
                            ));
                        }
                    }
                }
            }
        }
        let secret = input
            .secret
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if existing.is_none() && secret.is_none() {
            errors.push(vouch_domain::validate::FieldError::new(
                "secret",
                "give the credential Vouch signs in with",
            ));
        }
        if let Some(m) = input.schedule_minutes
            && m < MIN_SCHEDULE_MINUTES
        {
            errors.push(vouch_domain::validate::FieldError::new(
                "schedule_minutes",
                format!("run at most every {MIN_SCHEDULE_MINUTES} minutes"),
            ));
        }
        if let Err(AppError::Validation(mut more)) = self.check_controls(&input.controls).await {
            errors.append(&mut more);
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let kind = kind.expect("checked above");
        let (mut tx, now) = self.write().await?;
        let next_run_at = match (input.schedule_minutes, &existing) {
            (None, _) => None,
            // A schedule that did not change keeps its next run; a new one runs soon.
            (Some(m), Some(e)) if e.schedule_minutes == Some(m) && e.next_run_at.is_some() => {
                e.next_run_at.clone()
            }
            (Some(_), _) => Some(now.clone()),
        };
        let record = IntegrationRecord {
            name: name.clone(),
            kind: kind.as_str().to_string(),
            settings,
            has_secret: true,
            schedule_minutes: input.schedule_minutes,
            enabled: input.enabled,
            controls: input.controls,
            next_run_at,
            created_at: existing
                .as_ref()
                .map_or_else(|| now.clone(), |e| e.created_at.clone()),
            updated_at: now.clone(),
        };
        tx.put_integration(&record, secret).await?;
        let mut after = serde_json::to_value(&record).unwrap_or_default();
        after["secret_changed"] = Value::Bool(secret.is_some());
        tx.append_event(
            Self::event(
                actor,
                if existing.is_some() {
                    "integration.update"
                } else {
                    "integration.create"
                },
                "integration",
                &name,
                existing.as_ref().and_then(|e| serde_json::to_value(e).ok()),
                Some(after),
            ),
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    pub async fn delete_integration(&self, actor: &Actor, name: &str) -> Result<(), AppError> {
        self.authorize(actor, Action::ManageIntegrations)?;
        let name = name.trim();
        let existing = self
            .store
            .integration(name)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("integration {name}")))?;
        let (mut tx, now) = self.write().await?;
        tx.delete_integration(name).await?;
        tx.append_event(
            Self::event(
                actor,
                "integration.delete",
                "integration",
                name,
                serde_json::to_value(&existing).ok(),
                None,
            ),
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Runs an integration now and records the run (succeeded or failed).
    pub async fn run_integration(
        &self,
        actor: &Actor,
        name: &str,
        trigger: Trigger,
    ) -> Result<RunRecord, AppError> {
        self.authorize(actor, Action::CollectResources)?;
        let name = name.trim();
        let record = self
            .store
            .integration(name)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("integration {name}")))?;
        let kind = kind_of(&record)?;
        let secret = self
            .store
            .integration_secret(name)
            .await?
            .unwrap_or_default();
        let scope = format!("integration:{name}");
        let source = RunSource {
            source: name.to_string(),
            kind: kind.as_str().to_string(),
            trigger: match trigger {
                Trigger::Manual => "manual",
                Trigger::Schedule => "schedule",
            },
            collector_version: vouch_connect::COLLECTOR_VERSION.to_string(),
            controls: record.controls.clone(),
            title: format!("{} responses read by integration {name}", kind.label()),
        };
        let settings = with_secret(kind, &record.settings, &secret);
        let bundle = match fetch(kind, settings, self.config.connector_retry.clone()).await {
            Ok(b) => b,
            Err(e) => {
                let failure = RunFailure {
                    message: e.to_string(),
                    system: Some(kind.as_str().to_string()),
                    scope,
                };
                return self.record_failure(actor, source, vec![], failure).await;
            }
        };
        let bytes = bundle.to_bytes();
        let staged = self
            .vault
            .stage_reader(std::io::Cursor::new(bytes), u64::MAX)
            .await
            .map_err(|e| AppError::Vault(e.to_string()))?;
        let file = NewFile {
            name: format!("{name}-{}.json", self.now().date()),
            media_type: "application/json".into(),
            staged,
        };
        let collection = tokio::task::spawn_blocking(move || read(kind, &bundle))
            .await
            .map_err(|e| AppError::Vault(format!("the importer stopped: {e}")))?;
        match collection {
            Ok(c) => {
                self.record_success(actor, source, vec![file], c, scope)
                    .await
            }
            Err(message) => {
                let failure = RunFailure {
                    message,
                    system: Some(kind.as_str().to_string()),
                    scope,
                };
                self.record_failure(actor, source, vec![file], failure)
                    .await
            }
        }
    }

    /// Runs every scheduled integration that is due and that this instance claims. Returns
    /// the runs it made.
    pub async fn run_due_integrations(&self) -> Result<Vec<RunRecord>, AppError> {
        let now = self.now_str();
        let mut runs = vec![];
        for i in self.store.list_integrations().await? {
            let (Some(minutes), Some(due)) = (i.schedule_minutes, i.next_run_at.as_deref()) else {
                continue;
            };
            if !i.enabled || due > now.as_str() {
                continue;
            }
            let next = vouch_domain::time_fmt::format(
                self.now() + time::Duration::minutes(minutes.max(MIN_SCHEDULE_MINUTES)),
            );
            if !self.store.claim_scheduled_run(&i.name, due, &next).await? {
                // Another instance claimed it.
                continue;
            }
            match self
                .run_integration(&Actor::system(), &i.name, Trigger::Schedule)
                .await
            {
                Ok(run) => runs.push(run),
                Err(e) => {
                    tracing::error!(integration = %i.name, error = %e, "scheduled run could not be recorded")
                }
            }
        }
        Ok(runs)
    }
}

impl App {
    /// Makes the stored integrations match those of the configuration file: each one that is
    /// new or differs (settings, schedule, controls, credential) is written with its audit
    /// event; the same file read again writes nothing. Integrations made in the UI are left
    /// alone. Returns the names written.
    pub async fn sync_config_integrations(
        &self,
        actor: &Actor,
        wanted: Vec<IntegrationInput>,
    ) -> Result<Vec<String>, AppError> {
        self.authorize(actor, Action::ManageIntegrations)?;
        let mut written = vec![];
        for input in wanted {
            let name = input.name.trim().to_string();
            if let Some(stored) = self.store.integration(&name).await? {
                let secret = self.store.integration_secret(&name).await?;
                let same = stored.kind == input.kind
                    && stored.settings == input.settings
                    && stored.schedule_minutes == input.schedule_minutes
                    && stored.enabled == input.enabled
                    && stored.controls == input.controls
                    && (input.secret.is_none() || input.secret == secret);
                if same {
                    continue;
                }
            }
            self.put_integration(actor, input).await?;
            written.push(name);
        }
        Ok(written)
    }
}

#[cfg(test)]
#[path = "integrations_tests.rs"]
mod tests;
