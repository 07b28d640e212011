//! Opening the store and the app from a configuration, and running the server.
use crate::config::Config;
use crate::output::Failure;
use std::sync::Arc;
use std::time::Duration;
use vouch_app::{App, AppConfig, Store, SystemClock};

pub async fn open_store(cfg: &Config) -> Result<Store, Failure> {
    if cfg.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&cfg.data_dir).map_err(|e| {
            Failure::unavailable(format!(
                "cannot create the data folder {}: {e}",
                cfg.data_dir.display()
            ))
        })?;
    }
    let store = Store::connect(&cfg.database_url)
        .await
        .map_err(|e| Failure::unavailable(e.to_string()))?;
    store
        .migrate()
        .await
        .map_err(|e| Failure::unavailable(e.to_string()))?;
    Ok(store)
}

pub fn app_config(cfg: &Config) -> AppConfig {
    AppConfig {
        session_idle: Duration::from_secs(cfg.session_idle_minutes * 60),
        session_max: Duration::from_secs(cfg.session_max_hours * 3600),
        login_max_failures: cfg.login_max_failures,
        login_window: Duration::from_secs(cfg.login_window_minutes * 60),
        trust_idp_mfa: cfg.oidc.as_ref().is_none_or(|o| o.trust_idp_mfa),
        evidence_max_bytes: cfg.evidence.max_file_bytes,
        evidence_retention_days: cfg.evidence.retention_days,
        import_max_bytes: cfg.collect.import_max_bytes,
        monitoring: vouch_app::monitoring::MonitoringConfig {
            schedule_minutes: cfg.monitoring.schedule_minutes as i64,
            time_limit: Duration::from_secs(cfg.monitoring.test_time_limit_secs),
            ..Default::default()
        },
        ..AppConfig::default()
    }
}

/// Makes the stored integrations match the configuration file's `[integrations.NAME]`.
pub async fn sync_integrations(app: &vouch_app::App, cfg: &Config) -> Result<(), Failure> {
    if cfg.integrations.is_empty() {
        return Ok(());
    }
    let wanted = cfg
        .integrations
        .iter()
        .map(|i| vouch_app::integrations::IntegrationInput {
            name: i.name.clone(),
            kind: i.kind.clone(),
            settings: i.settings.clone(),
            secret: i.secret.clone(),
            schedule_minutes: i.schedule_minutes,
            enabled: i.enabled,
            controls: i.controls.clone(),
        })
        .collect();
    let written = app
        .sync_config_integrations(&vouch_app::Actor::system(), wanted)
        .await
        .map_err(|e| Failure::usage(format!("configuration file integrations: {e}")))?;
    if !written.is_empty() {
        tracing::info!(integrations = ?written, "integrations from the configuration file written");
    }
    Ok(())
}

/// Opens the evidence vault the configuration names; uploads are staged in the data folder.
pub fn open_vault(cfg: &Config) -> Result<vouch_evidence::Vault, Failure> {
    let e = &cfg.evidence;
    let vc = vouch_evidence::VaultConfig {
        url: e.vault.clone(),
        s3: vouch_evidence::S3Settings {
            endpoint: e.s3_endpoint.clone(),
            region: e.s3_region.clone(),
            access_key_id: e.s3_access_key_id.clone(),
            secret_access_key: e.s3_secret_access_key.clone(),
            allow_http: e.s3_allow_http,
        },
    };
    vouch_evidence::Vault::open(&vc, &cfg.data_dir.join("staging"))
        .map_err(|e| Failure::unavailable(format!("cannot open the evidence vault: {e}")))
}

pub async fn open_app(cfg: &Config) -> Result<App, Failure> {
    let store = open_store(cfg).await?;
    let vault = open_vault(cfg)?;
    let mut config = app_config(cfg);
    if let Some(dir) = &cfg.monitoring.tests_dir {
        let files = crate::test_cli::read_tests_dir(dir)?;
        config.monitoring.custom_tests = Some((dir.display().to_string(), files));
    }
    Ok(App::new(store, vault, Arc::new(SystemClock), config))
}

/// Runs the server until Ctrl-C or SIGTERM. `banner` is printed once the port is bound.
pub async fn run(cfg: &Config, app: App, banner: Option<String>) -> Result<(), Failure> {
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| {
            Failure::unavailable(format!(
                "cannot listen on {}: {e} (is another Vouch running? choose another with --listen)",
                cfg.listen
            ))
        })?;

    let sso = match &cfg.oidc {
        None => None,
        Some(o) => {
            let oc = vouch_sso::OidcConfig::new(
                o.issuer_url.clone(),
                o.client_id.clone(),
                o.client_secret.clone(),
                format!("{}/auth/sso/callback", cfg.public_url),
            );
            match vouch_sso::OidcClient::discover(&oc).await {
                Ok(c) => Some(Arc::new(c)),
                Err(e) => {
                    // Password sign-in still works; SSO comes back at the next start.
                    tracing::error!(error = %e, "single sign-on is unavailable");
                    eprintln!("warning: single sign-on is unavailable: {e}");
                    None
                }
            }
        }
    };
    let web = vouch_web::WebConfig {
        public_url: cfg.public_url.clone(),
        max_body_bytes: cfg.max_body_bytes,
        sso: cfg
            .oidc
            .as_ref()
            .filter(|_| sso.is_some())
            .map(|o| vouch_web::SsoSettings {
                display_name: o.display_name.clone(),
            }),
    };

    if let Some(token) = app.issue_setup_token().await? {
        println!("Vouch has no users yet. Create the first administrator:");
        println!("  open  {}/setup?token={token}", cfg.public_url);
        println!("  or run  vouch user create-admin --email you@example.com --name \"Your Name\"");
    }

    // Scheduled collection: every instance looks for due integrations; the database decides
    // which instance runs each one.
    sync_integrations(&app, cfg).await?;
    let scheduler = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        loop {
            tick.tick().await;
            if let Err(e) = scheduler.run_due_integrations().await {
                tracing::warn!(error = %e, "scheduled collection failed");
            }
        }
    });

    // Housekeeping: expired sessions and abandoned sign-ins.
    let housekeeping = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            if let Err(e) = housekeeping.purge_expired().await {
                tracing::warn!(error = %e, "housekeeping failed");
            }
            // Staging files a killed upload left behind (a day is far beyond any upload).
            match housekeeping
                .vault()
                .sweep_staging(Duration::from_secs(24 * 3600))
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "removed abandoned upload staging files"),
                Err(e) => tracing::warn!(error = %e, "staging sweep failed"),
            }
        }
    });

    let router = vouch_web::router(app, web, sso);
    match banner {
        Some(b) => println!("{b}"),
        None => println!(
            "Vouch is listening on {} (database: {})",
            cfg.public_url,
            redact(&cfg.database_url)
        ),
    }
    tracing::info!(listen = %cfg.listen, "serving");
    vouch_web::serve(listener, router, shutdown_signal())
        .await
        .map_err(|e| Failure::unavailable(format!("the server stopped: {e}")))
}

pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
