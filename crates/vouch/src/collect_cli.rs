//! `vouch import`, `vouch resources`, `vouch runs` and `vouch accounts`: collected facts from
//! the shell.
use crate::output::{Exit, Failure, json};
use clap::Subcommand;
use std::path::PathBuf;
use vouch_app::accounts::{AccountFilter, Owner};
use vouch_app::collect::{ImportKind, ImportRequest, ResourceFilter, RunRecord};
use vouch_app::{Actor, App};

/// `vouch import FILE…`
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// What the files are (recognised from their content when not given): hr_roster_csv,
    /// aws_credential_report, github_json, okta_json, trivy_json, …
    #[arg(long)]
    pub kind: Option<String>,
    /// The full-sync scope the files replace [default: the kind and system]
    #[arg(long)]
    pub scope: Option<String>,
    /// A control the raw files are evidence for (repeat for several)
    #[arg(long = "control")]
    pub controls: Vec<String>,
    /// The files, imported together as one run (all of one kind)
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum RunsCommand {
    /// Recent collection runs, newest first
    List {
        /// Only runs of this source (an integration's name, or `import`)
        #[arg(long)]
        source: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// One run: status, counts, warnings, error
    Show { id: String },
}

#[derive(Subcommand, Debug)]
pub enum AccountsCommand {
    /// Accounts and who owns them
    List {
        /// Only accounts nobody owns
        #[arg(long)]
        unlinked: bool,
        #[arg(long)]
        system: Option<String>,
    },
    /// Link an account (its resource id) to a person of the HR roster
    Link {
        id: i64,
        /// The person's email
        #[arg(long)]
        person: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Mark an account as a service account, saying what it is for
    Service {
        id: i64,
        #[arg(long)]
        note: String,
    },
    /// Remove a manual decision (the account is linked automatically again if it can be)
    Unlink { id: i64 },
}

/// `vouch resources`
#[derive(clap::Args, Debug)]
pub struct ResourcesArgs {
    /// person, account, repository, pull_request, vulnerability, …
    #[arg(long)]
    pub kind: Option<String>,
    #[arg(long)]
    pub system: Option<String>,
    /// Part of the key
    #[arg(long)]
    pub key: Option<String>,
    /// Include resources a later sync no longer contained
    #[arg(long)]
    pub deleted: bool,
    /// Show one resource with its full history
    #[arg(long)]
    pub id: Option<i64>,
    #[arg(long, default_value_t = 100)]
    pub limit: i64,
}

pub fn parse_kind(kind: Option<&str>) -> Result<Option<ImportKind>, Failure> {
    kind.map(|k| {
        ImportKind::parse(k).ok_or_else(|| {
            Failure::usage(format!(
                "--kind '{k}': use one of {}",
                ImportKind::ALL.map(ImportKind::as_str).join(", ")
            ))
        })
    })
    .transpose()
}

pub fn print_run(run: &RunRecord) {
    println!(
        "{}  {}  {} ({}){}",
        run.id,
        run.status,
        run.source,
        run.kind,
        run.system
            .as_deref()
            .map(|s| format!(" from {s}"))
            .unwrap_or_default()
    );
    println!("  scope     {}", run.scope);
    println!(
        "  started   {} by {} ({})",
        run.started_at, run.started_by_label, run.trigger
    );
    println!("  finished  {}", run.finished_at);
    if let Some(c) = run.counts.as_object() {
        let parts: Vec<String> = [
            "total",
            "added",
            "changed",
            "unchanged",
            "deleted",
            "restored",
        ]
        .iter()
        .filter_map(|k| c.get(*k).map(|v| format!("{k} {v}")))
        .collect();
        println!("  counts    {}", parts.join(", "));
    }
    if let Some(e) = &run.evidence_id {
        println!("  raw files {e} (vouch evidence show {e})");
    }
    for w in &run.warnings {
        println!("  warning   {w}");
    }
    if let Some(e) = &run.error {
        println!("  ERROR     {e}");
    }
}

pub async fn import(
    app: &App,
    actor: &Actor,
    args: ImportArgs,
    as_json: bool,
) -> Result<Exit, Failure> {
    let kind = parse_kind(args.kind.as_deref())?;
    let mut files = Vec::with_capacity(args.files.len());
    for f in &args.files {
        files.push(app.stage_path(actor, f).await?);
    }
    let run = app
        .import_files(
            actor,
            ImportRequest {
                files,
                kind,
                scope: args.scope,
                controls: args.controls,
            },
        )
        .await?;
    finish_run(&run, as_json)
}

/// Prints a run; a failed run is exit 1 with its error on stderr.
pub fn finish_run(run: &RunRecord, as_json: bool) -> Result<Exit, Failure> {
    if as_json {
        json(run);
    } else {
        print_run(run);
    }
    if run.status == "succeeded" {
        Ok(Exit::Ok)
    } else {
        Err(Failure(
            Exit::CheckFailed,
            format!(
                "{} failed: {}; nothing collected before was changed",
                run.id,
                run.error.as_deref().unwrap_or("unknown error")
            ),
        ))
    }
}

pub async fn runs(
    app: &App,
    actor: &Actor,
    cmd: RunsCommand,
    as_json: bool,
) -> Result<Exit, Failure> {
    match cmd {
        RunsCommand::List { source, limit } => {
            let runs = app.list_runs(actor, source.as_deref(), limit).await?;
            if as_json {
                json(&runs);
            } else if runs.is_empty() {
                println!("No collection runs yet. Import a file with `vouch import FILE`.");
            } else {
                for r in &runs {
                    println!(
                        "{:<8} {:<9} {:<20} {:<24} {} {}",
                        r.id,
                        r.status,
                        r.source,
                        r.kind,
                        r.finished_at,
                        r.error.as_deref().unwrap_or("")
                    );
                }
            }
            Ok(Exit::Ok)
        }
        RunsCommand::Show { id } => {
            let run = app.run(actor, &id).await?;
            if as_json {
                json(&run);
            } else {
                print_run(&run);
            }
            Ok(Exit::Ok)
        }
    }
}

pub async fn resources(
    app: &App,
    actor: &Actor,
    args: ResourcesArgs,
    as_json: bool,
) -> Result<Exit, Failure> {
    if let Some(id) = args.id {
        let (r, versions) = app.resource(actor, id).await?;
        if as_json {
            json(&serde_json::json!({"resource": r, "versions": versions}));
            return Ok(Exit::Ok);
        }
        println!("{}  {} {} {}", r.id, r.kind, r.system, r.key);
        println!("  first seen {}  last seen {}", r.first_seen, r.last_seen);
        if let Some(d) = &r.deleted_at {
            println!("  deleted    {d}");
        }
        for (k, v) in &r.attrs {
            println!("  {k:<28} {v}");
        }
        println!("  history:");
        for v in &versions {
            println!(
                "    v{} {:<9} {} → {}  ({})",
                v.version,
                v.change,
                v.valid_from,
                v.valid_to.as_deref().unwrap_or("now"),
                v.run_id
            );
        }
        return Ok(Exit::Ok);
    }
    let filter = ResourceFilter {
        kind: args.kind,
        system: args.system,
        key_contains: args.key,
        include_deleted: args.deleted,
        limit: Some(args.limit),
        offset: 0,
    };
    let (list, total) = app.list_resources(actor, &filter).await?;
    if as_json {
        json(&serde_json::json!({"total": total, "resources": list}));
        return Ok(Exit::Ok);
    }
    if total == 0 {
        println!("No resources match. Import a file with `vouch import FILE`.");
        return Ok(Exit::Ok);
    }
    for r in &list {
        let deleted = r
            .deleted_at
            .as_deref()
            .map(|d| format!("  (deleted {d})"))
            .unwrap_or_default();
        println!(
            "{:>7}  {:<16} {:<18} {}{deleted}",
            r.id, r.kind, r.system, r.key
        );
    }
    if total > list.len() as i64 {
        println!(
            "… {} of {total} shown; narrow with --kind, --system or --key",
            list.len()
        );
    }
    Ok(Exit::Ok)
}

pub async fn accounts(
    app: &App,
    actor: &Actor,
    cmd: AccountsCommand,
    as_json: bool,
) -> Result<Exit, Failure> {
    match cmd {
        AccountsCommand::List { unlinked, system } => {
            let list = app
                .accounts(
                    actor,
                    &AccountFilter {
                        system,
                        unlinked,
                        include_deleted: false,
                    },
                )
                .await?;
            // Unowned accounts are a finding: a script can act on the exit code (with --json too).
            let exit = if unlinked && !list.is_empty() {
                Exit::CheckFailed
            } else {
                Exit::Ok
            };
            if as_json {
                json(&list);
                return Ok(exit);
            }
            for a in &list {
                let owner = match &a.owner {
                    Owner::Person {
                        email,
                        basis,
                        status,
                        ..
                    } => format!(
                        "{email} (by {}{})",
                        basis.as_str(),
                        status
                            .as_deref()
                            .map(|s| format!(", {s}"))
                            .unwrap_or_default()
                    ),
                    Owner::Service { note } => format!("service account: {note}"),
                    Owner::Unlinked => "UNLINKED: nobody owns this account".to_string(),
                };
                println!(
                    "{:>7}  {:<16} {:<40} {owner}",
                    a.account.id, a.account.system, a.account.key
                );
            }
            if unlinked && !list.is_empty() {
                println!(
                    "{} unlinked account(s): link each with `vouch accounts link ID --person EMAIL` or `vouch accounts service ID --note WHAT`",
                    list.len()
                );
            }
            Ok(exit)
        }
        AccountsCommand::Link { id, person, note } => {
            let link = app.link_account(actor, id, Some(&person), &note).await?;
            if as_json {
                json(&link);
            } else {
                println!("Account {id} linked to {person}.");
            }
            Ok(Exit::Ok)
        }
        AccountsCommand::Service { id, note } => {
            let link = app.link_account(actor, id, None, &note).await?;
            if as_json {
                json(&link);
            } else {
                println!("Account {id} marked as a service account.");
            }
            Ok(Exit::Ok)
        }
        AccountsCommand::Unlink { id } => {
            app.unlink_account(actor, id).await?;
            println!("The manual link of account {id} was removed.");
            Ok(Exit::Ok)
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum IntegrationsCommand {
    /// Integrations with their schedule and last run
    List,
    /// One integration: settings (never the credential) and recent runs
    Show { name: String },
    /// Create or change an integration
    Put {
        name: String,
        /// github, okta, google_workspace or aws (required when creating)
        #[arg(long)]
        kind: String,
        /// The settings that are not secret, as a JSON object: GitHub {"org", "api_url"?},
        /// Okta {"url"}, Google Workspace {"admin_email"}, AWS {"region", "access_key_id",
        /// "endpoint"?}
        #[arg(long, default_value = "{}")]
        settings: String,
        /// A file holding the credential (token, key file, secret access key); kept, never
        /// shown back
        #[arg(long)]
        secret_file: Option<PathBuf>,
        /// An environment variable holding the credential instead of a file
        #[arg(long)]
        secret_env: Option<String>,
        /// Minutes between scheduled runs [default: on demand only]
        #[arg(long)]
        schedule_minutes: Option<i64>,
        /// A control the runs' raw evidence supports (repeat for several)
        #[arg(long = "control")]
        controls: Vec<String>,
        /// Create it paused
        #[arg(long)]
        disabled: bool,
    },
    /// Remove an integration (its runs and resources stay)
    Remove { name: String },
}

pub async fn integrations(
    app: &App,
    actor: &Actor,
    cmd: IntegrationsCommand,
    as_json: bool,
) -> Result<Exit, Failure> {
    use vouch_app::integrations::IntegrationInput;
    match cmd {
        IntegrationsCommand::List => {
            let list = app.integrations(actor).await?;
            if as_json {
                json(&list);
            } else if list.is_empty() {
                println!("No integrations. Add one with `vouch integrations put NAME --kind …`.");
            } else {
                for i in &list {
                    let schedule = i
                        .integration
                        .schedule_minutes
                        .map(|m| format!("every {m} min"))
                        .unwrap_or_else(|| "on demand".into());
                    let last = i
                        .last_run
                        .as_ref()
                        .map(|r| format!("{} {} {}", r.id, r.status, r.finished_at))
                        .unwrap_or_else(|| "never run".into());
                    println!(
                        "{:<24} {:<18} {:<14} {}{}",
                        i.integration.name,
                        i.label,
                        schedule,
                        last,
                        if i.integration.enabled {
                            ""
                        } else {
                            "  (paused)"
                        }
                    );
                }
            }
            Ok(Exit::Ok)
        }
        IntegrationsCommand::Show { name } => {
            let (view, runs) = app.integration(actor, &name).await?;
            if as_json {
                json(&serde_json::json!({"integration": view, "runs": runs}));
                return Ok(Exit::Ok);
            }
            let i = &view.integration;
            println!("{}  ({})", i.name, view.label);
            println!("  settings  {}", i.settings);
            println!(
                "  secret    {}",
                if i.has_secret {
                    "set (never shown)"
                } else {
                    "not set"
                }
            );
            if let Some(m) = i.schedule_minutes {
                println!(
                    "  schedule  every {m} minutes; next {}",
                    i.next_run_at.as_deref().unwrap_or("-")
                );
            }
            for r in runs.iter().take(10) {
                println!(
                    "  {:<8} {:<9} {} {}",
                    r.id,
                    r.status,
                    r.finished_at,
                    r.error.as_deref().unwrap_or("")
                );
            }
            Ok(Exit::Ok)
        }
        IntegrationsCommand::Put {
            name,
            kind,
            settings,
            secret_file,
            secret_env,
            schedule_minutes,
            controls,
            disabled,
        } => {
            let settings: serde_json::Value = serde_json::from_str(&settings)
                .map_err(|e| Failure::usage(format!("--settings is not JSON: {e}")))?;
            let secret = match (secret_file, secret_env) {
                (Some(_), Some(_)) => {
                    return Err(Failure::usage(
                        "give --secret-file or --secret-env, not both",
                    ));
                }
                (Some(p), None) => Some(
                    std::fs::read_to_string(&p)
                        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", p.display())))?
                        .trim_end_matches(['\n', '\r'])
                        .to_string(),
                ),
                (None, Some(var)) => Some(std::env::var(&var).map_err(|_| {
                    Failure::usage(format!("the environment variable {var} is not set"))
                })?),
                (None, None) => None,
            };
            let record = app
                .put_integration(
                    actor,
                    IntegrationInput {
                        name,
                        kind,
                        settings,
                        secret,
                        schedule_minutes,
                        enabled: !disabled,
                        controls,
                    },
                )
                .await?;
            if as_json {
                json(&record);
            } else {
                println!(
                    "Integration {} saved. Run it now with `vouch collect {}`.",
                    record.name, record.name
                );
            }
            Ok(Exit::Ok)
        }
        IntegrationsCommand::Remove { name } => {
            app.delete_integration(actor, &name).await?;
            println!("Integration {name} removed; its runs and resources stay.");
            Ok(Exit::Ok)
        }
    }
}

/// `vouch collect [NAME]`: runs one integration, or every enabled one, now.
pub async fn collect(
    app: &App,
    actor: &Actor,
    name: Option<String>,
    as_json: bool,
) -> Result<Exit, Failure> {
    use vouch_app::integrations::Trigger;
    let names: Vec<String> = match name {
        Some(n) => vec![n],
        None => app
            .integrations(actor)
            .await?
            .into_iter()
            .filter(|i| i.integration.enabled)
            .map(|i| i.integration.name)
            .collect(),
    };
    if names.is_empty() {
        println!("No integrations to run. Add one with `vouch integrations put NAME --kind …`.");
        return Ok(Exit::Ok);
    }
    let mut runs = vec![];
    for n in &names {
        runs.push(app.run_integration(actor, n, Trigger::Manual).await?);
    }
    if as_json {
        json(&runs);
    } else {
        for r in &runs {
            print_run(r);
        }
    }
    let failed: Vec<String> = runs
        .iter()
        .filter(|r| r.status != "succeeded")
        .map(|r| {
            format!(
                "{} ({}): {}",
                r.source,
                r.id,
                r.error.as_deref().unwrap_or("?")
            )
        })
        .collect();
    if failed.is_empty() {
        Ok(Exit::Ok)
    } else {
        Err(Failure(
            Exit::CheckFailed,
            format!(
                "failed, nothing collected before was changed: {}",
                failed.join("; ")
            ),
        ))
    }
}
