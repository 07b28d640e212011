//! `vouch bench --upload-mib N`: streams an N MiB evidence file through the real HTTP API into
//! a local vault and back, and reports throughput and the process's peak memory before and
//! after, to show that uploads and downloads stream (memory stays flat whatever the size).
//!
//! Server and client run in this one process on loopback, so the peak covers both.
use crate::output::{Exit, Failure, json};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Instant;
use vouch_app::tokens::NewToken;
use vouch_app::{Actor, App, AppConfig, Store, SystemClock};
use vouch_domain::Role;

const CHUNK: usize = 1 << 20;

/// Peak resident memory so far, in KiB (0 where the platform does not say).
fn peak_rss_kib() -> u64 {
    crate::bench::peak_rss_kib().unwrap_or(0)
}

/// The bytes of chunk `i`: varied, so nothing downstream can compress or deduplicate them away.
fn chunk(i: u64) -> bytes::Bytes {
    let mut v = vec![0u8; CHUNK];
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for b in v.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    bytes::Bytes::from(v)
}

fn unavailable(e: impl std::fmt::Display) -> Failure {
    Failure::unavailable(e.to_string())
}

pub async fn run(mib: u64, as_json: bool) -> Result<Exit, Failure> {
    let dir = tempfile_dir()?;
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
    let app = App::new(
        store,
        vault,
        Arc::new(SystemClock),
        AppConfig {
            evidence_max_bytes: (mib + 1) << 20,
            ..AppConfig::default()
        },
    );
    let cli = Actor::cli();
    app.adopt_library(&cli, Some(vec!["BCD-01".into()])).await?;
    let admin = app
        .create_first_admin(
            &cli,
            None,
            "bench@example.com",
            "Bench",
            "benchmark-password-1",
        )
        .await?;
    let admin_actor = Actor {
        kind: vouch_app::ActorKind::User,
        user_id: Some(admin.id.clone()),
        label: admin.email.clone(),
        role: Role::Admin,
        request_id: None,
    };
    let (_, token) = app
        .create_token(
            &admin_actor,
            NewToken {
                name: "bench".into(),
                role: Role::Admin,
                expires_at: None,
            },
        )
        .await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(unavailable)?;
    let base = format!("http://{}", listener.local_addr().map_err(unavailable)?);
    let router = vouch_web::router(
        app.clone(),
        vouch_web::WebConfig {
            public_url: base.clone(),
            max_body_bytes: 1 << 20,
            sso: None,
        },
        None,
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(vouch_web::serve(listener, router, async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let rss_start = peak_rss_kib();

    // Upload: the body is generated chunk by chunk as the client sends it.
    let total = mib * CHUNK as u64;
    let mut expected = Sha256::new();
    let chunks: Vec<u64> = (0..mib).collect();
    let body = futures_util::stream::iter(chunks).map(|i| Ok::<_, std::io::Error>(chunk(i)));
    for i in 0..mib {
        expected.update(chunk(i));
    }
    let expected = hex::encode(expected.finalize());
    let part =
        reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(body), total)
            .file_name("bench.bin")
            .mime_str("application/octet-stream")
            .map_err(unavailable)?;
    let form = reqwest::multipart::Form::new()
        .text("title", "Benchmark upload")
        .text("controls", "BCD-01")
        .text("period_start", "2026-01-01")
        .part("files", part);
    let start = Instant::now();
    let res = http
        .post(format!("{base}/api/v1/evidence"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .map_err(unavailable)?;
    let status = res.status();
    let answer: serde_json::Value = res.json().await.map_err(unavailable)?;
    let upload_s = start.elapsed().as_secs_f64();
    if status != reqwest::StatusCode::CREATED {
        return Err(Failure::unavailable(format!(
            "upload refused: {status} {answer}"
        )));
    }
    let stored = answer["current"]["files"][0]["sha256"]
        .as_str()
        .unwrap_or("");
    if stored != expected {
        return Err(Failure(
            Exit::CheckFailed,
            format!("stored hash {stored} differs from the bytes sent ({expected})"),
        ));
    }
    let rss_upload = peak_rss_kib();

    // Download: streamed and hashed as it arrives.
    let id = answer["id"].as_str().unwrap_or("EV-1").to_string();
    let start = Instant::now();
    let res = http
        .get(format!("{base}/api/v1/evidence/{id}/files/1"))
        .bearer_auth(&token)
        .send()
        .await
        .map_err(unavailable)?;
    let mut got = Sha256::new();
    let mut n = 0u64;
    let mut stream = res.bytes_stream();
    while let Some(c) = stream.next().await {
        let c = c.map_err(unavailable)?;
        n += c.len() as u64;
        got.update(&c);
    }
    let download_s = start.elapsed().as_secs_f64();
    if n != total || hex::encode(got.finalize()) != expected {
        return Err(Failure(
            Exit::CheckFailed,
            "the downloaded bytes differ from the upload".into(),
        ));
    }
    let rss_download = peak_rss_kib();

    // verify re-hashes the blob from disk.
    let start = Instant::now();
    let report = app.verify_vault(&cli).await?;
    let verify_s = start.elapsed().as_secs_f64();
    let _ = stop.send(());
    let _ = server.await;
    let _ = std::fs::remove_dir_all(&dir);
    if !report.ok() {
        return Err(Failure(
            Exit::CheckFailed,
            "the vault did not verify".into(),
        ));
    }

    let mibs = |s: f64| mib as f64 / s.max(1e-9);
    if as_json {
        json(&serde_json::json!({
            "mib": mib,
            "upload_seconds": upload_s, "upload_mib_per_s": mibs(upload_s),
            "download_seconds": download_s, "download_mib_per_s": mibs(download_s),
            "verify_seconds": verify_s, "verify_mib_per_s": mibs(verify_s),
            "peak_rss_kib": {"before": rss_start, "after_upload": rss_upload, "after_download": rss_download},
        }));
    } else {
        println!("evidence file of {mib} MiB through the HTTP API (local vault, SQLite)");
        println!(
            "upload (multipart, staged, hashed, committed) {upload_s:>8.2}s = {:>7.1} MiB/s",
            mibs(upload_s)
        );
        println!(
            "download (streamed, hashed by the client)     {download_s:>8.2}s = {:>7.1} MiB/s",
            mibs(download_s)
        );
        println!(
            "verify (re-hash from disk)                    {verify_s:>8.2}s = {:>7.1} MiB/s",
            mibs(verify_s)
        );
        println!(
            "peak resident memory: {:.1} MiB before, {:.1} MiB after upload, {:.1} MiB after download",
            rss_start as f64 / 1024.0,
            rss_upload as f64 / 1024.0,
            rss_download as f64 / 1024.0
        );
    }
    Ok(Exit::Ok)
}

fn tempfile_dir() -> Result<std::path::PathBuf, Failure> {
    let dir = std::env::temp_dir().join(format!("vouch-bench-upload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(unavailable)?;
    Ok(dir)
}
