//! `vouch bench --import-people N`: writes a sample company of N people (the large size is
//! 10,000 people, with accounts, pull requests, vulnerabilities and devices in proportion),
//! then for each exported file measures
//!
//! - **parse**: reading the file into generic JSON values or CSV records, the least any
//!   importer must do;
//! - **import**: the whole run through the app — staged into the vault, read into typed
//!   resources, compared with the stored state and written with history in one transaction;
//! - **re-import**: the same file again, the steady state of a daily run where little changes.
//!
//! It reports throughput, the ratio of import to parse time, and the process's peak memory.
use crate::output::{Exit, Failure, json};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use vouch_app::collect::ImportRequest;
use vouch_app::{Actor, App, AppConfig, Store, SystemClock};

#[derive(Serialize)]
struct FileFigure {
    file: String,
    bytes: u64,
    resources: u64,
    parse_seconds: f64,
    import_seconds: f64,
    reimport_seconds: f64,
    resources_per_second: f64,
    import_to_parse_ratio: f64,
}

#[derive(Serialize)]
struct Report {
    people: usize,
    generate_seconds: f64,
    files: Vec<FileFigure>,
    total_bytes: u64,
    total_resources: u64,
    total_parse_seconds: f64,
    total_import_seconds: f64,
    total_reimport_seconds: f64,
    import_to_parse_ratio: f64,
    peak_rss_mib: f64,
    counts: std::collections::BTreeMap<String, u64>,
}

fn unavailable(e: impl std::fmt::Display) -> Failure {
    Failure::unavailable(e.to_string())
}

/// The least work any importer must do: the file read into generic values.
fn parse_only(path: &Path) -> Result<(), Failure> {
    let bytes = std::fs::read(path).map_err(unavailable)?;
    if path.extension().is_some_and(|e| e == "csv") {
        let mut rd = csv::ReaderBuilder::new().from_reader(&bytes[..]);
        for rec in rd.records() {
            rec.map_err(unavailable)?;
        }
    } else {
        let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(unavailable)?;
        drop(v);
    }
    Ok(())
}

pub async fn run(people: usize, as_json: bool) -> Result<Exit, Failure> {
    let dir = std::env::temp_dir().join(format!("vouch-bench-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(unavailable)?;
    let result = measure(&dir, people, as_json).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(dir: &Path, people: usize, as_json: bool) -> Result<Exit, Failure> {
    let large = vouch_sample::Size::large();
    let scale = people as f64 / large.people as f64;
    let scaled = |n: usize| ((n as f64 * scale).round() as usize).max(1);
    let size = vouch_sample::Size {
        people,
        accounts_per_person: large.accounts_per_person,
        repositories: scaled(large.repositories),
        pull_requests: scaled(large.pull_requests),
        vulnerabilities: scaled(large.vulnerabilities),
        devices: scaled(large.devices),
    };
    let files_dir = dir.join("sample");
    let started = Instant::now();
    let today = time::OffsetDateTime::now_utc().date();
    let manifest = {
        let d = files_dir.clone();
        tokio::task::spawn_blocking(move || vouch_sample::write(&d, &size, 42, today))
            .await
            .map_err(unavailable)?
            .map_err(unavailable)?
    };
    let generate_seconds = started.elapsed().as_secs_f64();

    let store = Store::connect(&format!("sqlite://{}", dir.join("bench.db").display()))
        .await
        .map_err(unavailable)?;
    store.migrate().await.map_err(unavailable)?;
    let vault = vouch_evidence::Vault::open(
        &vouch_evidence::VaultConfig {
            url: dir.join("blobs").display().to_string(),
            s3: Default::default(),
        },
        &dir.join("staging"),
    )
    .map_err(unavailable)?;
    let app = App::new(store, vault, Arc::new(SystemClock), AppConfig::default());
    let cli = Actor::cli();

    let mut names: Vec<&str> = manifest.files.iter().map(|f| f.name.as_str()).collect();
    names.sort_by_key(|n| !n.starts_with("hr_"));
    let mut files = vec![];
    for name in names {
        let path = files_dir.join(name);
        let bytes = std::fs::metadata(&path).map_err(unavailable)?.len();
        let t = Instant::now();
        {
            let p = path.clone();
            tokio::task::spawn_blocking(move || parse_only(&p))
                .await
                .map_err(unavailable)??;
        }
        let parse_seconds = t.elapsed().as_secs_f64();
        let import = |path: std::path::PathBuf| {
            let app = app.clone();
            let cli = cli.clone();
            async move {
                let t = Instant::now();
                let file = app.stage_path(&cli, &path).await?;
                let run = app
                    .import_files(&cli, ImportRequest::of(vec![file]))
                    .await?;
                if run.status != "succeeded" {
                    return Err(Failure::unavailable(format!(
                        "{}: {}",
                        path.display(),
                        run.error.unwrap_or_default()
                    )));
                }
                Ok::<_, Failure>((t.elapsed().as_secs_f64(), run))
            }
        };
        let (import_seconds, run) = import(path.clone()).await?;
        let (reimport_seconds, _) = import(path.clone()).await?;
        let resources = run.counts["total"].as_u64().unwrap_or(0);
        if !as_json {
            println!(
                "{name:<32} {:>9.1} MiB {resources:>8} resources  parse {parse_seconds:>6.2} s  import {import_seconds:>6.2} s  re-import {reimport_seconds:>6.2} s",
                bytes as f64 / 1048576.0
            );
        }
        files.push(FileFigure {
            file: name.to_string(),
            bytes,
            resources,
            parse_seconds,
            import_seconds,
            reimport_seconds,
            resources_per_second: resources as f64 / import_seconds.max(1e-9),
            import_to_parse_ratio: import_seconds / parse_seconds.max(1e-9),
        });
    }
    let sum = |f: fn(&FileFigure) -> f64| files.iter().map(f).sum::<f64>();
    let (parse, import, reimport) = (
        sum(|f| f.parse_seconds),
        sum(|f| f.import_seconds),
        sum(|f| f.reimport_seconds),
    );
    let report = Report {
        people,
        generate_seconds,
        total_bytes: files.iter().map(|f| f.bytes).sum(),
        total_resources: files.iter().map(|f| f.resources).sum(),
        total_parse_seconds: parse,
        total_import_seconds: import,
        total_reimport_seconds: reimport,
        import_to_parse_ratio: import / parse.max(1e-9),
        peak_rss_mib: crate::bench::peak_rss_kib().unwrap_or(0) as f64 / 1024.0,
        counts: manifest.counts.clone(),
        files,
    };
    if as_json {
        json(&report);
    } else {
        println!(
            "\n{} people: {} resources from {:.1} MiB in {:.1} s (parse alone {:.1} s, ratio {:.1}×); re-import {:.1} s; generated in {:.1} s; peak memory {:.0} MiB",
            report.people,
            report.total_resources,
            report.total_bytes as f64 / 1048576.0,
            report.total_import_seconds,
            report.total_parse_seconds,
            report.import_to_parse_ratio,
            report.total_reimport_seconds,
            report.generate_seconds,
            report.peak_rss_mib
        );
    }
    Ok(Exit::Ok)
}
