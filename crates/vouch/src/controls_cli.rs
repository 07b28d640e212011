//! `vouch controls`, `vouch scope` and `vouch readiness`: the control matrix from the shell.
use crate::output::{Exit, Failure, json};
use clap::Subcommand;
use std::path::PathBuf;
use vouch_app::{Actor, App};

#[derive(Subcommand, Debug)]
pub enum ControlsCommand {
    /// List the controls with their owner, criteria and computed status
    List,
    /// Adopt controls from the shipped library (all of them, or the ids given)
    Adopt {
        /// Library control ids, e.g. IAM-03 CHG-01; none adopts the whole library
        ids: Vec<String>,
    },
    /// Write the control matrix (the file an auditor opens first) as CSV or XLSX
    Export {
        #[arg(long, value_parser = ["csv", "xlsx"], default_value = "csv")]
        format: String,
        /// Where to write it
        #[arg(long)]
        output: PathBuf,
    },
    /// Import controls from a CSV or YAML file: all rows or none; each error names its row
    /// and column
    Import { file: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum ScopeCommand {
    /// Show the system in scope
    Show,
    /// Replace the scope with the JSON document in FILE (the shape `show --json` prints)
    Set { file: PathBuf },
}

pub async fn controls(
    app: &App,
    actor: &Actor,
    cmd: ControlsCommand,
    as_json: bool,
) -> Result<Exit, Failure> {
    match cmd {
        ControlsCommand::List => {
            let list = app.list_controls(actor).await?;
            if as_json {
                json(&list);
            } else {
                for v in &list {
                    let c = &v.control;
                    println!(
                        "{:<8} {:<48} {:<34} {:<18} {}",
                        c.id,
                        truncate(&c.name, 48),
                        v.owner_email.as_deref().unwrap_or("(no owner)"),
                        v.status.label(),
                        c.criteria.join(",")
                    );
                }
                println!("{} controls", list.len());
            }
            Ok(Exit::Ok)
        }
        ControlsCommand::Export { format, output } => {
            export(app, actor, &format, &output, as_json).await
        }
        ControlsCommand::Import { file } => import(app, actor, &file, as_json).await,
        ControlsCommand::Adopt { ids } => {
            let added = app
                .adopt_library(actor, if ids.is_empty() { None } else { Some(ids) })
                .await?;
            if as_json {
                json(&serde_json::json!({"adopted": added}));
            } else if added.is_empty() {
                println!("Nothing to adopt: those controls are already adopted.");
            } else {
                println!("Adopted {} controls: {}", added.len(), added.join(", "));
            }
            Ok(Exit::Ok)
        }
    }
}

pub async fn export(
    app: &App,
    actor: &Actor,
    format: &str,
    output: &std::path::Path,
    as_json: bool,
) -> Result<Exit, Failure> {
    let rows = app.control_matrix(actor).await?;
    let bytes = if format == "xlsx" {
        let scope = app.scope(actor).await?;
        let now = vouch_domain::time_fmt::format(app.now());
        vouch_export::control_matrix_xlsx(&rows, &scope.system_name, &now)
            .map_err(|e| Failure::unavailable(format!("the workbook could not be written: {e}")))?
    } else {
        vouch_domain::control_io::to_csv(&rows)
    };
    // Written beside the target and renamed, so a failure never leaves half a file.
    let tmp = output.with_extension(format!("{format}.partial"));
    std::fs::write(&tmp, &bytes)
        .and_then(|_| std::fs::rename(&tmp, output))
        .map_err(|e| Failure::unavailable(format!("cannot write {}: {e}", output.display())))?;
    if as_json {
        json(
            &serde_json::json!({"output": output, "format": format, "controls": rows.len(), "bytes": bytes.len()}),
        );
    } else {
        println!(
            "Wrote {} controls to {} ({format}).",
            rows.len(),
            output.display()
        );
    }
    Ok(Exit::Ok)
}

pub async fn import(
    app: &App,
    actor: &Actor,
    file: &std::path::Path,
    as_json: bool,
) -> Result<Exit, Failure> {
    let bytes = std::fs::read(file)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
    let name = file.file_name().and_then(|n| n.to_str());
    match app.import_controls(actor, name, &bytes).await {
        Ok(sum) => {
            if as_json {
                json(&sum);
            } else {
                println!(
                    "Imported {}: {} created, {} updated, {} unchanged.",
                    file.display(),
                    sum.created.len(),
                    sum.updated.len(),
                    sum.unchanged.len()
                );
            }
            Ok(Exit::Ok)
        }
        Err(vouch_app::AppError::Validation(list)) => {
            if as_json {
                json(&serde_json::json!({"ok": false, "imported": 0, "errors": list}));
            } else {
                eprintln!(
                    "Nothing was imported: {} problem(s) in {}:",
                    list.len(),
                    file.display()
                );
                for e in &list {
                    eprintln!("  {}: {}", e.field, e.message);
                }
            }
            Ok(Exit::Usage)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn scope(
    app: &App,
    actor: &Actor,
    cmd: ScopeCommand,
    as_json: bool,
) -> Result<Exit, Failure> {
    let sc = match cmd {
        ScopeCommand::Show => app.scope(actor).await?,
        ScopeCommand::Set { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
            let sc = serde_json::from_str(&text).map_err(|e| {
                Failure::usage(format!("{}: not a scope document: {e}", file.display()))
            })?;
            app.set_scope(actor, sc).await?
        }
    };
    if as_json {
        json(&sc);
    } else {
        println!("System: {}", sc.system_name);
        if !sc.description.is_empty() {
            println!("  {}", sc.description);
        }
        let cats: Vec<&str> = vouch_domain::Category::ALL
            .iter()
            .filter(|c| sc.includes(**c))
            .map(|c| c.label())
            .collect();
        println!("Categories in scope: {}", cats.join(", "));
        match sc.report_type {
            vouch_domain::scope::ReportType::Type1 => {
                println!(
                    "Report: Type I as of {}",
                    sc.as_of
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "(not set)".into())
                )
            }
            vouch_domain::scope::ReportType::Type2 => println!(
                "Report: Type II, {} to {}",
                sc.period_start
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "(not set)".into()),
                sc.period_end
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "(not set)".into())
            ),
        }
        for s in &sc.subservices {
            println!(
                "Subservice organisation: {} ({}, {})",
                s.name,
                s.services,
                s.method.replace('_', " ")
            );
        }
    }
    Ok(Exit::Ok)
}

pub async fn readiness(app: &App, actor: &Actor, as_json: bool) -> Result<Exit, Failure> {
    let r = app.readiness(actor).await?;
    if as_json {
        json(&r);
    } else {
        println!(
            "Readiness: {}% of {} in-scope criteria have a ready control",
            r.overall_pct,
            r.criteria.len()
        );
        for c in &r.categories {
            println!(
                "  {:<22} {:>3}% ready, {}/{} covered",
                c.category.label(),
                c.ready_pct,
                c.covered,
                c.criteria
            );
        }
        println!(
            "Evidence: current for {} of {} applicable controls ({}%); {} have any",
            r.evidence.fresh, r.evidence.controls, r.evidence.fresh_pct, r.evidence.with_evidence
        );
        println!("{} gaps", r.gaps.len());
        for g in r.gaps.iter().take(20) {
            println!("  - {}", serde_json::to_string(g).unwrap_or_default());
        }
        if r.gaps.len() > 20 {
            println!("  … and {} more (use --json for all)", r.gaps.len() - 20);
        }
    }
    Ok(Exit::Ok)
}

pub(crate) fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}
