//! The command line. Every command that prints data takes `--json`; exit codes are in
//! `output::Exit`.
use crate::config::{self, Config, Overrides};
use crate::output::{Exit, Failure, json};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use vouch_app::users::NewUser;
use vouch_app::{Actor, AuditFilter};
use vouch_domain::{Category, Role};

#[derive(Parser, Debug)]
#[command(name = "vouch", version, about = "Vouch: an open-source SOC 2 compliance platform", long_about = None)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug, Clone)]
struct Global {
    /// Folder for the database and blobs [env: VOUCH_DATA_DIR] [default: ./vouch-data]
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://USER@HOST/DB [env: VOUCH_DATABASE_URL]
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Configuration file (TOML) [env: VOUCH_CONFIG] [default: DATA_DIR/vouch.toml if present]
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Print machine-readable JSON
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the web server (UI, API, metrics)
    Serve {
        /// Address to listen on [env: VOUCH_LISTEN] [default: 127.0.0.1:8080]
        #[arg(long)]
        listen: Option<String>,
    },
    /// Run the server on a fresh demo folder filled with a sample company
    Demo {
        /// Only prepare the demo folder; do not serve
        #[arg(long)]
        no_serve: bool,
        /// Address to listen on [default: 127.0.0.1:8080]
        #[arg(long)]
        listen: Option<String>,
    },
    /// Bring the database schema up to date
    Migrate,
    /// Ask a running Vouch whether it is ready (exit 0) or not (exit 1)
    Healthcheck {
        /// Base URL of the server [default: the configured public URL]
        #[arg(long)]
        url: Option<String>,
    },
    /// Check or show the configuration
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The SOC 2 criteria
    Criteria {
        #[command(subcommand)]
        command: CriteriaCommand,
    },
    /// People who sign in
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Measure audited writes, audit-log verification and sign-in on a throwaway store
    Bench {
        /// How many audited write transactions to time
        #[arg(long, default_value_t = 2000)]
        events: u64,
        /// Instead, stream an evidence file of this many MiB through the HTTP API and back,
        /// reporting throughput and peak memory
        #[arg(long)]
        upload_mib: Option<u64>,
        /// Instead, import a sample company of this many people (10000 is the large size:
        /// about 37,000 accounts, 200,000 pull requests, 20,000 vulnerabilities) and report
        /// throughput against merely parsing the same files, and peak memory
        #[arg(long)]
        import_people: Option<usize>,
    },
    /// The control matrix
    Controls {
        #[command(subcommand)]
        command: crate::controls_cli::ControlsCommand,
    },
    /// The system in scope
    Scope {
        #[command(subcommand)]
        command: crate::controls_cli::ScopeCommand,
    },
    /// How close the control set is to an audit: coverage, computed statuses, gaps
    Readiness,
    /// The hash-chained audit log
    AuditLog {
        #[command(subcommand)]
        command: AuditLogCommand,
    },
    /// Evidence records and their files
    Evidence {
        #[command(subcommand)]
        command: crate::evidence_cli::EvidenceCommand,
    },
    /// Check everything that must not change: the audit chain and every evidence blob
    /// (re-hashed); exit 1 if anything is missing, altered or orphaned
    Verify,
    /// Import exported files (HR roster, AWS credential report, GitHub/Okta/Google exports,
    /// scanner reports, …) as one collection run; exit 1 if the run failed
    Import(crate::collect_cli::ImportArgs),
    /// Collected resources (people, accounts, repositories, …) and their history
    Resources(crate::collect_cli::ResourcesArgs),
    /// Collection runs (imports and integrations)
    Runs {
        #[command(subcommand)]
        command: crate::collect_cli::RunsCommand,
    },
    /// Run an integration now (or every enabled one); exit 1 if a run failed
    Collect {
        /// The integration's name [default: every enabled integration]
        name: Option<String>,
    },
    /// Integrations: the systems Vouch reads live (GitHub, Okta, Google Workspace, AWS)
    Integrations {
        #[command(subcommand)]
        command: crate::collect_cli::IntegrationsCommand,
    },
    /// Accounts and who owns them; `list --unlinked` exits 1 when some account has no owner
    Accounts {
        #[command(subcommand)]
        command: crate::collect_cli::AccountsCommand,
    },
    /// Control tests: list, check a folder against its fixtures, run now, reproduce a run
    Test {
        #[command(subcommand)]
        command: crate::test_cli::TestCommand,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Report every configuration problem at once (exit 2 if any)
    Validate,
    /// Print the effective configuration and where each value came from (secrets hidden)
    Show,
    /// List every setting with its environment variable and default
    Keys,
}

#[derive(Subcommand, Debug)]
enum CriteriaCommand {
    /// List the criteria
    List {
        /// Only this category (security, availability, confidentiality, processing_integrity, privacy)
        #[arg(long)]
        category: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Create an administrator (works on a fresh installation and any time after)
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Read the password from this file [default: VOUCH_ADMIN_PASSWORD, else one is generated and printed]
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Create a user with a role
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, compliance_lead, control_owner, employee or auditor
        #[arg(long)]
        role: String,
        /// Read the password from this file [default: none, for single sign-on]
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// List users
    List,
}

#[derive(Subcommand, Debug)]
enum AuditLogCommand {
    /// Re-hash the whole chain; exit 1 and name the first bad event if anything was altered,
    /// removed or reordered
    Verify,
    /// Show recent events, newest first
    List {
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Only actions starting with this, e.g. `user.`
        #[arg(long)]
        action: Option<String>,
    },
}

/// A reader that stops early (`vouch … | head`) closes the pipe; that is not a crash, so end
/// quietly instead of printing a panic.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

pub fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage.into()
            } else {
                Exit::Ok.into()
            };
        }
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return Exit::Unavailable.into();
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code.into(),
        Err(Failure(code, msg)) => {
            eprintln!("error: {msg}");
            code.into()
        }
    }
}

/// The operator at the command line, named after the login (`USER`) for the audit log.
pub(crate) fn cli_actor() -> Actor {
    Actor::cli_as(&std::env::var("USER").unwrap_or_else(|_| "operator".into()))
}

/// The environment the configuration reads: Vouch's own variables and the usual AWS ones
/// (for an S3 vault).
pub(crate) fn env_map() -> std::collections::BTreeMap<String, String> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("VOUCH_") || k.starts_with("AWS_"))
        .collect()
}

fn overrides(g: &Global, listen: Option<String>) -> Overrides {
    Overrides {
        config_file: g.config.clone(),
        data_dir: g.data_dir.clone(),
        database_url: g.database_url.clone(),
        listen,
    }
}

/// Loads the configuration or fails with every problem listed.
fn load(over: &Overrides) -> Result<Config, Failure> {
    let (cfg, rep) = config::load(over, &env_map());
    for w in &rep.warnings {
        eprintln!("warning: {w}");
    }
    match cfg {
        Some(c) => Ok(c),
        None => Err(Failure::usage(format!(
            "the configuration has {} problem(s):\n  - {}\n(run `vouch config validate` after fixing them)",
            rep.errors.len(),
            rep.errors.join("\n  - ")
        ))),
    }
}

fn init_logging(cfg: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!(
            "warn,vouch={0},vouch_web={0},vouch_app={0},vouch_store={0}",
            cfg.log_level
        ))
    });
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if cfg.log_format == "json" {
        b.json().try_init()
    } else {
        b.try_init()
    };
}

async fn run(cli: Cli) -> Result<Exit, Failure> {
    let g = cli.global.clone();
    match cli.command {
        Command::Serve { listen } => {
            let cfg = load(&overrides(&g, listen))?;
            init_logging(&cfg);
            let app = crate::serve::open_app(&cfg).await?;
            crate::serve::run(&cfg, app, None).await?;
            Ok(Exit::Ok)
        }
        Command::Demo { no_serve, listen } => {
            crate::demo::run(
                &g.data_dir,
                g.database_url.clone(),
                g.config.clone(),
                listen,
                no_serve,
                g.json,
            )
            .await
        }
        Command::Bench {
            upload_mib: Some(mib),
            ..
        } => crate::bench_upload::run(mib, g.json).await,
        Command::Bench {
            import_people: Some(people),
            ..
        } => crate::bench_import::run(people, g.json).await,
        Command::Bench { events, .. } => {
            crate::bench::run(g.database_url.clone(), events, g.json).await
        }
        Command::Migrate => {
            let cfg = load(&overrides(&g, None))?;
            let store = vouch_app::Store::connect(&cfg.database_url)
                .await
                .map_err(|e| Failure::unavailable(e.to_string()));
            let store = match store {
                Ok(s) => s,
                Err(f) => return Err(f),
            };
            let n = store
                .migrate()
                .await
                .map_err(|e| Failure::unavailable(e.to_string()))?;
            if g.json {
                json(
                    &serde_json::json!({"ok": true, "migrations": n, "backend": store.backend().name()}),
                );
            } else {
                println!(
                    "The {} database is up to date ({n} migrations).",
                    store.backend().name()
                );
            }
            Ok(Exit::Ok)
        }
        Command::Healthcheck { url } => {
            let base = match url {
                Some(u) => u,
                None => load(&overrides(&g, None))?.public_url,
            };
            let target = format!("{}/readyz", base.trim_end_matches('/'));
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(5))
                .build()
                .map_err(|e| Failure::unavailable(e.to_string()))?;
            let (ok, detail) = match client.get(&target).send().await {
                Ok(r) if r.status().is_success() => (true, "ready".to_string()),
                Ok(r) => (false, format!("not ready: HTTP {}", r.status().as_u16())),
                Err(e) => (false, format!("unreachable: {e}")),
            };
            if g.json {
                json(&serde_json::json!({"ok": ok, "url": target, "detail": detail}));
            } else {
                println!("{target}: {detail}");
            }
            Ok(if ok { Exit::Ok } else { Exit::CheckFailed })
        }
        Command::Config { command } => {
            let over = overrides(&g, None);
            match command {
                ConfigCommand::Validate => {
                    let (cfg, rep) = config::load(&over, &env_map());
                    if g.json {
                        json(
                            &serde_json::json!({"ok": cfg.is_some(), "errors": rep.errors, "warnings": rep.warnings}),
                        );
                    } else {
                        for w in &rep.warnings {
                            println!("warning: {w}");
                        }
                        for e in &rep.errors {
                            println!("error: {e}");
                        }
                        if cfg.is_some() {
                            println!("The configuration is valid.");
                        } else {
                            println!("{} problem(s) found.", rep.errors.len());
                        }
                    }
                    Ok(if cfg.is_some() { Exit::Ok } else { Exit::Usage })
                }
                ConfigCommand::Show => {
                    let (cfg, rep) = config::load(&over, &env_map());
                    let Some(cfg) = cfg else {
                        return Err(Failure::usage(format!(
                            "the configuration is not valid:\n  - {}",
                            rep.errors.join("\n  - ")
                        )));
                    };
                    if g.json {
                        json(&serde_json::json!({"config": cfg, "sources": rep.sources}));
                    } else {
                        let v = serde_json::to_value(&cfg).unwrap_or_default();
                        if let Some(map) = v.as_object() {
                            for (k, val) in map {
                                println!("{k} = {val}");
                            }
                        }
                        println!();
                        for (k, s) in &rep.sources {
                            println!("  {k} from {s}");
                        }
                    }
                    Ok(Exit::Ok)
                }
                ConfigCommand::Keys => {
                    let keys = config::describe();
                    if g.json {
                        let v: Vec<_> = keys.iter().map(|(k, e, d, h)| serde_json::json!({"key": k, "env": e, "default": d, "description": h})).collect();
                        json(&v);
                    } else {
                        for (k, e, d, h) in keys {
                            println!("{k:<24} {e:<32} {:<18} {h}", d.unwrap_or("-"));
                        }
                    }
                    Ok(Exit::Ok)
                }
            }
        }
        Command::Criteria {
            command: CriteriaCommand::List { category },
        } => {
            let catalog = vouch_domain::criteria::soc2();
            let cat = match category.as_deref() {
                None => None,
                Some(c) => Some(Category::parse(c).ok_or_else(|| Failure::usage(format!("unknown category '{c}': use security, availability, confidentiality, processing_integrity or privacy")))?),
            };
            let rows: Vec<_> = catalog
                .criteria
                .iter()
                .filter(|c| cat.is_none_or(|k| c.category == k))
                .collect();
            if g.json {
                json(&rows);
            } else {
                for c in &rows {
                    println!("{:<7} {:<21} {}", c.id, c.category.as_str(), c.title);
                }
                println!("{} criteria ({})", rows.len(), catalog.framework.name);
            }
            Ok(Exit::Ok)
        }
        Command::User { command } => {
            let cfg = load(&overrides(&g, None))?;
            let app = crate::serve::open_app(&cfg).await?;
            let actor = cli_actor();
            match command {
                UserCommand::CreateAdmin {
                    email,
                    name,
                    password_file,
                } => {
                    let (password, generated) = read_password(password_file.as_ref(), true)?;
                    let u = app
                        .create_first_admin(&actor, None, &email, &name, &password.unwrap())
                        .await?;
                    if g.json {
                        json(&serde_json::json!({"user": u, "generated_password": generated}));
                    } else {
                        println!("Created administrator {} ({}).", u.email, u.id);
                        if let Some(p) = generated {
                            println!("Generated password (shown once): {p}");
                        }
                        println!("Sign in at {}/login", cfg.public_url);
                    }
                    Ok(Exit::Ok)
                }
                UserCommand::Create {
                    email,
                    name,
                    role,
                    password_file,
                } => {
                    let role: Role =
                        role.parse().map_err(|e: vouch_domain::role::UnknownRole| {
                            Failure::usage(e.to_string())
                        })?;
                    let (password, _) = read_password(password_file.as_ref(), false)?;
                    let u = app
                        .create_user(
                            &actor,
                            NewUser {
                                email,
                                name,
                                role,
                                password,
                            },
                        )
                        .await?;
                    if g.json {
                        json(&u);
                    } else {
                        println!("Created {} as {} ({}).", u.email, u.role.label(), u.id);
                    }
                    Ok(Exit::Ok)
                }
                UserCommand::List => {
                    let users = app.list_users(&actor).await?;
                    if g.json {
                        json(&users);
                    } else {
                        for u in &users {
                            println!(
                                "{:<36} {:<32} {:<16} {:<9} mfa={}",
                                u.id,
                                u.email,
                                u.role.as_str(),
                                u.status,
                                u.mfa_enabled
                            );
                        }
                    }
                    Ok(Exit::Ok)
                }
            }
        }
        Command::Controls { command } => {
            let cfg = load(&overrides(&g, None))?;
            let app = crate::serve::open_app(&cfg).await?;
            crate::controls_cli::controls(&app, &cli_actor(), command, g.json).await
        }
        Command::Scope { command } => {
            let cfg = load(&overrides(&g, None))?;
            let app = crate::serve::open_app(&cfg).await?;
            crate::controls_cli::scope(&app, &cli_actor(), command, g.json).await
        }
        Command::Evidence { command } => {
            let cfg = load(&overrides(&g, None))?;
            let app = crate::serve::open_app(&cfg).await?;
            crate::evidence_cli::evidence(&app, &cli_actor(), command, g.json).await
        }
        Command::Import(args) => {
            let cfg = load(&overrides(&g, None))?;
            let app = crate::serve::open_app(&cfg).await?;
            crate::collect_cli::import(&app, &cli_actor(), args, g.json).await
        }
        Command::Resources(args) => {
            let cfg = load(&overrides(&g, None))?;
            let app = crate::serve::open_app(&cfg).await?;
            crate::collect_cli::resources(&app, &cli_actor(), args, g.json).await
        }
        Command::Runs { command } => {
            let cfg = load(&overrides(&g, None))?;
            let app = crate::serve::open_app(&cfg).await?;
            crate::collect_cli::runs(&app, &cli_actor(), command, g.json).await
        }
        Command::Collect { name } => {
            let cfg = load(&overrides(&g, None))?;
            let app = crate::serve::open_app(&cfg).await?;
            crate::serve::sync_integrations(&app, &cfg).await?;
            crate::collect_cli::collect(&app, &cli_actor(), name, g.json).await
        }
        Command::Integrations { command } => {
            let cfg = load(&overrides(&g, None))?;
            let app = crate::serve::open_app(&cfg).await?;
            crate::serve::sync_integrations(&app, &cfg).await?;
            crate::collect_cli::integrations(&app, &cli_actor(), command, g.json).await
        }
        Command::Accounts { command } => {
            let cfg = load(&overrides(&g, None))?;
            let app = crate::serve::open_app(&cfg).await?;
            crate::collect_cli::accounts(&app, &cli_actor(), command, g.json).await
        }
        Command::Test {
            command: crate::test_cli::TestCommand::Check { dir },
        } => crate::test_cli::check(&dir, g.json),
        Command::Test { command } => {
            let cfg = load(&overrides(&g, None))?;
            let app = crate::serve::open_app(&cfg).await?;
            crate::test_cli::test(&app, &cli_actor(), command, g.json).await
        }
        Command::Verify => {
            let cfg = load(&overrides(&g, None))?;
            let app = crate::serve::open_app(&cfg).await?;
            crate::evidence_cli::verify(&app, &cli_actor(), g.json).await
        }
        Command::Readiness => {
            let cfg = load(&overrides(&g, None))?;
            let app = crate::serve::open_app(&cfg).await?;
            crate::controls_cli::readiness(&app, &cli_actor(), g.json).await
        }
        Command::AuditLog { command } => {
            let cfg = load(&overrides(&g, None))?;
            let app = crate::serve::open_app(&cfg).await?;
            let actor = cli_actor();
            match command {
                AuditLogCommand::Verify => match app.verify_audit_log(&actor).await? {
                    Ok(n) => {
                        if g.json {
                            json(&serde_json::json!({"ok": true, "events": n}));
                        } else {
                            println!(
                                "The audit log is intact: {n} events, each linked to the one before."
                            );
                        }
                        Ok(Exit::Ok)
                    }
                    Err(e) => {
                        if g.json {
                            json(
                                &serde_json::json!({"ok": false, "error": e.to_string(), "detail": e}),
                            );
                        } else {
                            println!("The audit log is NOT intact: {e}");
                        }
                        Ok(Exit::CheckFailed)
                    }
                },
                AuditLogCommand::List { limit, action } => {
                    let events = app
                        .audit_events(
                            &actor,
                            &AuditFilter {
                                limit,
                                action,
                                ..Default::default()
                            },
                        )
                        .await?;
                    if g.json {
                        json(&events);
                    } else {
                        for e in &events {
                            println!(
                                "{:>6} {} {:<28} {:<26} {}:{}",
                                e.seq,
                                &e.at[..19],
                                e.actor_label,
                                e.action,
                                e.object_type,
                                e.object_id
                            );
                        }
                    }
                    Ok(Exit::Ok)
                }
            }
        }
    }
}

/// Reads a password from a file or `VOUCH_ADMIN_PASSWORD`; when `generate`, makes one if
/// neither is given and returns it as the second value so it can be shown once.
fn read_password(
    file: Option<&PathBuf>,
    generate: bool,
) -> Result<(Option<String>, Option<String>), Failure> {
    if let Some(f) = file {
        let p = std::fs::read_to_string(f)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", f.display())))?;
        return Ok((Some(p.trim_end_matches(['\n', '\r']).to_string()), None));
    }
    if let Ok(p) = std::env::var("VOUCH_ADMIN_PASSWORD") {
        return Ok((Some(p), None));
    }
    if generate {
        let p = vouch_app::auth::generate_password();
        return Ok((Some(p.clone()), Some(p)));
    }
    Ok((None, None))
}
