//! `vouch bench`: measures the foundation's hot paths on a throwaway store, so figures in
//! docs/BENCHMARKS.md can be reproduced with one command on any machine.
use crate::output::{Exit, Failure, json};
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;
use vouch_app::auth::ClientInfo;
use vouch_app::{Actor, App, AppConfig, AuditFilter, Store, SystemClock};

#[derive(Serialize)]
struct Figure {
    name: String,
    count: u64,
    seconds: f64,
    per_second: f64,
}

fn figure(name: &str, count: u64, start: Instant) -> Figure {
    let seconds = start.elapsed().as_secs_f64();
    Figure {
        name: name.into(),
        count,
        seconds,
        per_second: count as f64 / seconds.max(1e-9),
    }
}

/// Peak resident memory of this process in KiB (Linux), if known.
pub(crate) fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub async fn run(
    database_url: Option<String>,
    events: u64,
    as_json: bool,
) -> Result<Exit, Failure> {
    let dir = std::env::temp_dir().join(format!("vouch-bench-{}", std::process::id()));
    let url =
        database_url.unwrap_or_else(|| format!("sqlite://{}", dir.join("bench.db").display()));
    let store = Store::connect(&url)
        .await
        .map_err(|e| Failure::unavailable(e.to_string()))?;
    store
        .migrate()
        .await
        .map_err(|e| Failure::unavailable(e.to_string()))?;
    let vault = vouch_evidence::Vault::open(
        &vouch_evidence::VaultConfig {
            url: dir.join("blobs").display().to_string(),
            s3: Default::default(),
        },
        &dir.join("staging"),
    )
    .map_err(|e| Failure::unavailable(e.to_string()))?;
    let app = App::new(
        store.clone(),
        vault,
        Arc::new(SystemClock),
        AppConfig::default(),
    );
    let cli = Actor::cli();
    if !app.list_users(&cli).await?.is_empty() {
        return Err(Failure::usage(
            "vouch bench needs an empty database; give a fresh --database-url",
        ));
    }
    let mut figures = Vec::new();

    // Each write is a transaction that takes the audit head lock, changes state and appends
    // a chained event: the cost every change in Vouch pays.
    let start = Instant::now();
    for i in 0..events {
        app.set_require_mfa(&cli, i % 2 == 0).await?;
    }
    figures.push(figure(
        "audited write transactions (sequential)",
        events,
        start,
    ));

    // Concurrent writers contend for the head lock; the chain must stay one line.
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..8u64 {
        let app = app.clone();
        let per = events / 8;
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                app.set_require_mfa(&Actor::cli(), (i + w) % 2 == 0).await?;
            }
            Ok::<_, vouch_app::AppError>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| Failure::unavailable(e.to_string()))??;
    }
    figures.push(figure(
        "audited write transactions (8 concurrent writers)",
        events / 8 * 8,
        start,
    ));

    let start = Instant::now();
    let n = match app.verify_audit_log(&cli).await? {
        Ok(n) => n as u64,
        Err(e) => {
            return Err(Failure(
                Exit::CheckFailed,
                format!("the chain broke during the benchmark: {e}"),
            ));
        }
    };
    figures.push(figure(
        "audit log verification (events re-hashed)",
        n,
        start,
    ));

    let start = Instant::now();
    let pages = 100;
    for _ in 0..pages {
        app.audit_events(
            &cli,
            &AuditFilter {
                action: Some("settings.".into()),
                limit: 50,
                ..Default::default()
            },
        )
        .await?;
    }
    figures.push(figure(
        "audit log page reads (50 events, filtered)",
        pages,
        start,
    ));

    app.create_first_admin(
        &cli,
        None,
        "bench@example.com",
        "Bench",
        "benchmark-password-1",
    )
    .await?;
    let start = Instant::now();
    let logins = 10;
    for _ in 0..logins {
        app.login_password(
            "bench@example.com",
            "benchmark-password-1",
            &ClientInfo::default(),
        )
        .await?;
    }
    figures.push(figure(
        "password sign-ins (argon2id verify + session write)",
        logins,
        start,
    ));

    let peak = peak_rss_kib();
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    if as_json {
        json(
            &serde_json::json!({"backend": url.split(':').next(), "figures": figures, "peak_rss_kib": peak}),
        );
    } else {
        println!("backend: {}", url.split(':').next().unwrap_or("?"));
        for f in &figures {
            println!(
                "{:<56} {:>7} in {:>7.3}s = {:>9.1}/s",
                f.name, f.count, f.seconds, f.per_second
            );
        }
        if let Some(p) = peak {
            println!("peak resident memory: {:.1} MiB", p as f64 / 1024.0);
        }
    }
    Ok(Exit::Ok)
}
