//! Vouch's own importers read every file the sample writes, as the format it claims.
use std::collections::BTreeMap;
use time::macros::date;
use vouch_collect::{ImportKind, import_at};
use vouch_sample::{Size, write};

fn expected(name: &str) -> ImportKind {
    match name {
        "hr_roster.csv" => ImportKind::HrRosterCsv,
        "aws_credential_report.csv" => ImportKind::AwsCredentialReport,
        "github.json" => ImportKind::GithubJson,
        "okta.json" => ImportKind::OktaJson,
        "google_workspace.json" => ImportKind::GoogleWorkspaceJson,
        "grype.json" => ImportKind::GrypeJson,
        "fleet_hosts.json" => ImportKind::FleetJson,
        n if n.starts_with("trivy-") => ImportKind::TrivyJson,
        n => panic!("unexpected file {n}"),
    }
}

#[test]
fn vouch_collect_imports_every_file_as_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let size = Size {
        people: 300,
        accounts_per_person: 3.5,
        repositories: 6,
        pull_requests: 700,
        vulnerabilities: 300,
        devices: 250,
    };
    let m = write(dir.path(), &size, 11, date!(2026 - 11 - 23)).unwrap();
    let mut resources: BTreeMap<String, usize> = BTreeMap::new();
    for f in &m.files {
        let bytes = std::fs::read(dir.path().join(&f.name)).unwrap();
        let kind = expected(&f.name);
        assert_eq!(vouch_collect::detect(&bytes), Some(kind), "{}", f.name);
        let c = import_at(&bytes, None, Some("2026-11-23T06:00:00Z"))
            .unwrap_or_else(|e| panic!("{}: {e}", f.name));
        assert_eq!(c.kind, kind);
        assert!(!c.resources.is_empty(), "{}", f.name);
        assert!(c.warnings.is_empty(), "{}: {:?}", f.name, c.warnings);
        *resources.entry(c.system.clone()).or_default() += c.resources.len();
    }
    assert_eq!(resources["hr"], 300);
    assert_eq!(resources["okta"] as u64, m.counts["okta_users"]);
    assert_eq!(
        resources["google_workspace"] as u64,
        m.counts["google_users"]
    );
    assert_eq!(resources["fleet"], 250);
    assert_eq!(
        (resources["trivy"] + resources["grype"]) as u64,
        m.counts["vulnerabilities"]
    );
}

#[test]
fn the_imported_github_and_okta_resources_show_the_planted_problems() {
    let dir = tempfile::tempdir().unwrap();
    let m = write(dir.path(), &Size::demo(), 5, date!(2026 - 11 - 23)).unwrap();
    let p = &m.problems;
    let read =
        |n: &str| vouch_collect::import(&std::fs::read(dir.path().join(n)).unwrap(), None).unwrap();
    let okta = read("okta.json");
    let leaver = okta
        .resources
        .iter()
        .find(|r| r.key == p.leaver_still_active.okta_login)
        .unwrap();
    assert_eq!(leaver.attrs["status"], "ACTIVE");
    let gh = read("github.json");
    let admin = gh
        .resources
        .iter()
        .find(|r| r.key == p.admin_without_mfa && r.attrs.get("org").is_some())
        .unwrap();
    assert_eq!(admin.attrs["admin"], true);
    assert_eq!(admin.attrs["mfa"], false);
    let pr = gh
        .resources
        .iter()
        .find(|r| r.key == p.unreviewed_merge)
        .unwrap();
    assert_eq!(pr.attrs["reviewed"], false);
    let fleet = read("fleet_hosts.json");
    let host = fleet
        .resources
        .iter()
        .find(|r| r.key == p.device_without_encryption)
        .unwrap();
    let checks = host.attrs["checks"].as_object().unwrap();
    assert!(
        checks
            .iter()
            .any(|(name, v)| name.contains("disk encryption") && v == "fail"),
        "{checks:?}"
    );
}
