//! `vouch test`: list the control tests, check a folder of tests against its fixtures like a
//! test runner, evaluate them now, and reproduce a stored run.
use crate::output::{Exit, Failure, json};
use clap::Subcommand;
use std::path::Path;
use vouch_app::monitoring::{Trigger, check_test, known_controls};
use vouch_app::{Actor, App};

#[derive(Subcommand, Debug)]
pub enum TestCommand {
    /// Every test with the controls it supports and its latest status
    List,
    /// Run a folder of tests (same layout as content/tests) against their fixtures; exit 1 if
    /// any test does not load or any fixture does not match
    Check {
        /// The folder holding one sub-folder per test
        dir: std::path::PathBuf,
    },
    /// Evaluate the tests now over the collected resources (one when ID is given); exit 1 if a
    /// test is in error, overdue or needs attention
    Run { id: Option<String> },
    /// One test's current results per entity
    Show { id: String },
    /// Evaluate a stored run again over exactly what it read; exit 1 if the results differ
    Rerun { run_id: String },
}

/// Reads every file of a tests folder as `(path relative to it, text)`.
pub fn read_tests_dir(dir: &Path) -> Result<Vec<(String, String)>, Failure> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) -> Result<(), Failure> {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            Failure::unavailable(format!(
                "cannot read the tests folder {}: {e}",
                dir.display()
            ))
        })?;
        for e in entries {
            let e = e.map_err(|e| Failure::unavailable(format!("{}: {e}", dir.display())))?;
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out)?;
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("rego" | "toml" | "json")
            ) {
                let text = std::fs::read_to_string(&p).map_err(|e| {
                    Failure::unavailable(format!("cannot read {}: {e}", p.display()))
                })?;
                let rel = p
                    .strip_prefix(root)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, text));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

/// `vouch test check DIR`: needs no database.
pub fn check(dir: &Path, as_json: bool) -> Result<Exit, Failure> {
    let files = read_tests_dir(dir)?;
    let label = dir.display().to_string();
    let lib =
        vouch_policy::Library::load(label.trim_end_matches('/'), &files, &[], &known_controls());
    if lib.tests.is_empty() {
        return Err(Failure::usage(format!(
            "{} holds no tests: each test is a folder with test.toml, policy.rego and fixtures/*.json",
            dir.display()
        )));
    }
    let checks: Vec<_> = lib.tests.iter().map(check_test).collect();
    let failed = checks.iter().filter(|c| !c.passed(false)).count();
    if as_json {
        json(&serde_json::json!({"tests": checks, "failed": failed}));
    } else {
        for c in &checks {
            let verdict = if c.passed(false) { "ok" } else { "FAILED" };
            println!(
                "test {} ... {verdict} ({} fixtures)",
                c.id,
                c.fixtures.len()
            );
            if let Some(e) = &c.error {
                println!("    {e}");
            } else if c.fixtures.is_empty() {
                println!("    no fixtures: add fixtures/*.json with inputs and expected results");
            }
            for f in &c.fixtures {
                for p in &f.problems {
                    println!("    {}: {p}", f.path);
                }
            }
            if c.error.is_none() && !c.missing_outcomes.is_empty() {
                let m: Vec<&str> = c.missing_outcomes.iter().map(|s| s.as_str()).collect();
                println!("    note: no fixture shows a {} result", m.join(" or "));
            }
        }
        println!(
            "\ntest result: {}. {} passed; {failed} failed",
            if failed == 0 { "ok" } else { "FAILED" },
            checks.len() - failed
        );
    }
    Ok(if failed == 0 {
        Exit::Ok
    } else {
        Exit::CheckFailed
    })
}

pub async fn test(
    app: &App,
    actor: &Actor,
    cmd: TestCommand,
    as_json: bool,
) -> Result<Exit, Failure> {
    match cmd {
        TestCommand::Check { dir } => check(&dir, as_json),
        TestCommand::List => {
            let views = app.test_views(actor).await?;
            if as_json {
                json(&views);
            } else {
                for v in &views {
                    println!(
                        "{:<45} {:<16} {}",
                        v.id,
                        v.status
                            .map(|s| s.as_str())
                            .unwrap_or(if v.load_error.is_some() {
                                "does not load"
                            } else {
                                "not run yet"
                            }),
                        v.controls.join(", ")
                    );
                }
            }
            Ok(Exit::Ok)
        }
        TestCommand::Run { id } => {
            let round = app.run_tests(actor, id.as_deref(), Trigger::Manual).await?;
            let problems = round.tests.iter().filter(|t| t.status.is_problem()).count();
            if as_json {
                json(&round);
            } else {
                for t in &round.tests {
                    println!(
                        "{:<45} {:<16} {:<8} pass {} fail {} skip {} error {}{}",
                        t.test_id,
                        t.status.as_str(),
                        t.run_id,
                        t.counts["pass"],
                        t.counts["fail"],
                        t.counts["skip"],
                        t.counts["error"],
                        t.error
                            .as_deref()
                            .map(|e| format!("\n    {e}"))
                            .unwrap_or_default()
                    );
                }
                println!(
                    "\n{} tests over {} resources ({}); {problems} need attention",
                    round.tests.len(),
                    round.resources,
                    round.snapshot_id
                );
            }
            Ok(if problems == 0 {
                Exit::Ok
            } else {
                Exit::CheckFailed
            })
        }
        TestCommand::Show { id } => {
            let entities = app.test_entities(actor, &id).await?;
            if as_json {
                json(&entities);
            } else if entities.is_empty() {
                println!("No results for {id} yet. Run `vouch test run {id}`.");
            } else {
                for e in &entities {
                    println!(
                        "{:<6} {:<10} {}{}",
                        e.status,
                        e.entity,
                        e.reason,
                        e.remediate_by
                            .as_deref()
                            .map(|d| format!(" (fix by {d})"))
                            .unwrap_or_default()
                    );
                }
            }
            Ok(Exit::Ok)
        }
        TestCommand::Rerun { run_id } => {
            let r = app.rerun_test_run(actor, &run_id).await?;
            if as_json {
                json(&r);
            } else if r.reproduced {
                println!(
                    "{run_id} reproduced exactly: {} results, digest {}",
                    r.results.len(),
                    r.digest
                );
            } else {
                println!(
                    "{run_id} did NOT reproduce: stored digest {}, now {}",
                    r.stored_digest
                        .as_deref()
                        .unwrap_or("(none: the run was in error)"),
                    r.digest
                );
            }
            Ok(if r.reproduced {
                Exit::Ok
            } else {
                Exit::CheckFailed
            })
        }
    }
}
