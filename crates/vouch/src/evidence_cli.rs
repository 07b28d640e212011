//! `vouch evidence …` and `vouch verify`: evidence from the shell, and the integrity check
//! of the audit log and the vault together.
use crate::output::{Exit, Failure, json};
use clap::Subcommand;
use futures_util::StreamExt;
use std::path::PathBuf;
use time::Date;
use time::macros::format_description;
use tokio::io::AsyncWriteExt;
use vouch_app::evidence::RevisionFiles;
use vouch_app::{Actor, App};
use vouch_domain::evidence::{EvidenceHistory, EvidenceInput, EvidenceSource};

#[derive(Subcommand, Debug)]
pub enum EvidenceCommand {
    /// Add an evidence record with its files (or a link)
    Add {
        /// Control the evidence supports (repeat for several)
        #[arg(long = "control", required = true)]
        controls: Vec<String>,
        /// The first (or only) day the evidence covers, YYYY-MM-DD [default: today]
        #[arg(long, value_parser = parse_day)]
        period_start: Option<Date>,
        /// The last day it covers, YYYY-MM-DD [default: the start]
        #[arg(long, value_parser = parse_day)]
        period_end: Option<Date>,
        /// Title [default: the first file's name]
        #[arg(long)]
        title: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// A link to where the evidence lives, instead of or beside files
        #[arg(long)]
        link: Option<String>,
        /// upload, integration or vouch
        #[arg(long, default_value = "upload")]
        source: String,
        files: Vec<PathBuf>,
    },
    /// Correct a record with a new revision (files given replace the old ones; none keeps them)
    Revise {
        id: String,
        /// What the correction changes
        #[arg(long)]
        note: String,
        #[arg(long = "control")]
        controls: Vec<String>,
        #[arg(long, value_parser = parse_day)]
        period_start: Option<Date>,
        #[arg(long, value_parser = parse_day)]
        period_end: Option<Date>,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        description: Option<String>,
        files: Vec<PathBuf>,
    },
    /// List evidence, newest first
    List {
        /// Only evidence supporting this control
        #[arg(long)]
        control: Option<String>,
    },
    /// Show a record with all its revisions and file hashes
    Show { id: String },
    /// Write a file of a record to disk (the download is recorded in the audit log)
    Get {
        id: String,
        /// Which file of the revision (1 = first)
        #[arg(long, default_value_t = 1)]
        file: i64,
        /// A revision number [default: the current one]
        #[arg(long)]
        revision: Option<i64>,
        /// Where to write it [default: the file's name in the current folder]
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Apply the retention policy: purge records past retention unless the open audit needs them
    Purge {
        /// Only report what would be purged
        #[arg(long)]
        dry_run: bool,
    },
}

fn parse_day(s: &str) -> Result<Date, String> {
    Date::parse(s.trim(), format_description!("[year]-[month]-[day]"))
        .map_err(|_| format!("'{s}' is not a date: use YYYY-MM-DD"))
}

fn print_history(h: &EvidenceHistory) {
    let e = &h.evidence;
    let c = &e.current;
    println!("{}  {}", e.id, c.title);
    println!("  covers    {} – {}", c.period_start, c.period_end);
    println!("  controls  {}", c.controls.join(", "));
    println!(
        "  source    {} (added by {} at {})",
        c.source.label(),
        c.created_by_label,
        c.created_at
    );
    if let Some(l) = &c.link {
        println!("  link      {l}");
    }
    if let Some(p) = &e.purged_at {
        println!("  PURGED    {p} (retention)");
    }
    for r in h.revisions.iter().rev() {
        let note = if r.note.is_empty() {
            String::new()
        } else {
            format!(" — {}", r.note)
        };
        println!(
            "  revision {} by {} at {}{note}",
            r.revision, r.created_by_label, r.created_at
        );
        for f in &r.files {
            println!(
                "    {}. {} ({} bytes) sha256:{}",
                f.position, f.name, f.size, f.sha256
            );
        }
    }
}

pub async fn evidence(
    app: &App,
    actor: &Actor,
    cmd: EvidenceCommand,
    as_json: bool,
) -> Result<Exit, Failure> {
    match cmd {
        EvidenceCommand::Add {
            controls,
            period_start,
            period_end,
            title,
            description,
            link,
            source,
            files,
        } => {
            let source = EvidenceSource::parse(&source).ok_or_else(|| {
                Failure::usage(format!(
                    "--source '{source}': use upload, integration or vouch"
                ))
            })?;
            let mut staged = Vec::with_capacity(files.len());
            for f in &files {
                staged.push(app.stage_path(actor, f).await?);
            }
            let title = title
                .or_else(|| staged.first().map(|f| f.name.clone()))
                .or_else(|| link.clone())
                .unwrap_or_default();
            let input = EvidenceInput {
                title,
                description,
                link,
                controls,
                period_start: Some(period_start.unwrap_or_else(|| app.now().date())),
                period_end,
            };
            let h = app.add_evidence(actor, input, source, None, staged).await?;
            if as_json {
                json(&h);
            } else {
                println!("Added {}.", h.evidence.id);
                print_history(&h);
            }
            Ok(Exit::Ok)
        }
        EvidenceCommand::Revise {
            id,
            note,
            controls,
            period_start,
            period_end,
            title,
            description,
            files,
        } => {
            let before = app.evidence(actor, &id).await?.evidence.current;
            let mut staged = Vec::with_capacity(files.len());
            for f in &files {
                staged.push(app.stage_path(actor, f).await?);
            }
            let input = EvidenceInput {
                title: title.unwrap_or(before.title),
                description: description.unwrap_or(before.description),
                link: before.link,
                controls: if controls.is_empty() {
                    before.controls
                } else {
                    controls
                },
                period_start: Some(period_start.unwrap_or(before.period_start)),
                period_end: Some(period_end.unwrap_or(before.period_end)),
            };
            let files = if staged.is_empty() {
                RevisionFiles::Keep
            } else {
                RevisionFiles::Replace(staged)
            };
            let h = app.revise_evidence(actor, &id, input, &note, files).await?;
            if as_json {
                json(&h);
            } else {
                println!(
                    "Revised {} (revision {}).",
                    h.evidence.id, h.evidence.current.revision
                );
                print_history(&h);
            }
            Ok(Exit::Ok)
        }
        EvidenceCommand::List { control } => {
            let list = app.list_evidence(actor, control.as_deref()).await?;
            if as_json {
                json(&list);
            } else {
                for e in &list {
                    let c = &e.current;
                    println!(
                        "{:<8} {:<44} {} – {}  {:<24} {} file(s){}",
                        e.id,
                        crate::controls_cli::truncate(&c.title, 44),
                        c.period_start,
                        c.period_end,
                        crate::controls_cli::truncate(&c.controls.join(","), 24),
                        c.files.len(),
                        if e.purged_at.is_some() {
                            "  (purged)"
                        } else {
                            ""
                        }
                    );
                }
                println!("{} records", list.len());
            }
            Ok(Exit::Ok)
        }
        EvidenceCommand::Show { id } => {
            let h = app.evidence(actor, &id).await?;
            if as_json {
                json(&h);
            } else {
                print_history(&h);
            }
            Ok(Exit::Ok)
        }
        EvidenceCommand::Get {
            id,
            file,
            revision,
            output,
        } => {
            let (meta, mut reader) = app
                .download_evidence_file(actor, &id, revision, file)
                .await?;
            let path = output.unwrap_or_else(|| PathBuf::from(&meta.name));
            if path.exists() {
                return Err(Failure::usage(format!(
                    "{} exists; choose another with --output",
                    path.display()
                )));
            }
            let mut out = tokio::fs::File::create(&path).await.map_err(|e| {
                Failure::unavailable(format!("cannot create {}: {e}", path.display()))
            })?;
            let write_err = |e: std::io::Error| {
                Failure::unavailable(format!("writing {}: {e}", path.display()))
            };
            while let Some(chunk) = reader.stream.next().await {
                let chunk =
                    chunk.map_err(|e| Failure::unavailable(format!("reading the vault: {e}")))?;
                out.write_all(&chunk).await.map_err(write_err)?;
            }
            out.flush().await.map_err(write_err)?;
            if as_json {
                json(&serde_json::json!({"path": path, "file": meta}));
            } else {
                println!(
                    "Wrote {} ({} bytes, sha256:{}).",
                    path.display(),
                    meta.size,
                    meta.sha256
                );
            }
            Ok(Exit::Ok)
        }
        EvidenceCommand::Purge { dry_run } => {
            let r = app.purge_evidence(actor, dry_run).await?;
            if as_json {
                json(&r);
            } else {
                match r.retention_days {
                    None => println!(
                        "No retention is configured (evidence.retention_days): nothing is purged."
                    ),
                    Some(d) => {
                        let verb = if dry_run { "Would purge" } else { "Purged" };
                        println!(
                            "Retention {d} days (periods ending before {}). {verb} {} record(s), {} file(s); {} held for the open audit.",
                            r.cutoff.map(|c| c.to_string()).unwrap_or_default(),
                            r.purged.len(),
                            r.blobs_deleted.len(),
                            r.held.len()
                        );
                        for id in &r.purged {
                            println!("  {id}");
                        }
                    }
                }
            }
            Ok(Exit::Ok)
        }
    }
}

/// `vouch verify`: the audit chain and every blob, in one report; exit 1 if anything is wrong.
pub async fn verify(app: &App, actor: &Actor, as_json: bool) -> Result<Exit, Failure> {
    let chain = app.verify_audit_log(actor).await?;
    let vault = app.verify_vault(actor).await?;
    let ok = chain.is_ok() && vault.ok();
    if as_json {
        json(&serde_json::json!({
            "ok": ok,
            "audit_log": match &chain {
                Ok(n) => serde_json::json!({"ok": true, "events": n}),
                Err(e) => serde_json::json!({"ok": false, "error": e.to_string()}),
            },
            "vault": vault,
        }));
    } else {
        match &chain {
            Ok(n) => println!("Audit log: intact ({n} events)."),
            Err(e) => println!("Audit log: NOT intact: {e}"),
        }
        println!(
            "Vault {}: {} blob(s) checked, {} intact.",
            vault.vault, vault.checked, vault.intact
        );
        for m in &vault.missing {
            println!("  MISSING   {m}");
        }
        for a in &vault.altered {
            println!(
                "  ALTERED   {} (now hashes to {})",
                a.sha256, a.actual_sha256
            );
        }
        for o in &vault.orphaned {
            println!("  ORPHANED  {o} (in the vault, not in the index)");
        }
        for s in &vault.stray {
            println!("  STRAY     {s} (not a blob)");
        }
        println!("{}", if ok { "All good." } else { "Problems found." });
    }
    Ok(if ok { Exit::Ok } else { Exit::CheckFailed })
}
