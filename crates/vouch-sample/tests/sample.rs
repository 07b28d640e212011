//! The sample company: deterministic, complete, in the formats it claims, with its planted
//! problems really in the files.
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use time::macros::date;
use vouch_sample::{Manifest, Size, write};

const TODAY: time::Date = date!(2026 - 11 - 23);

fn demo(seed: u64) -> (tempfile::TempDir, Manifest) {
    let dir = tempfile::tempdir().unwrap();
    let m = write(dir.path(), &Size::demo(), seed, TODAY).unwrap();
    (dir, m)
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn json(dir: &Path, name: &str) -> Value {
    serde_json::from_slice(&read(dir, name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// CSV as header + rows of name → value.
fn csv_rows(dir: &Path, name: &str) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let bytes = read(dir, name);
    let mut r = csv::Reader::from_reader(&bytes[..]);
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect();
    (header, rows)
}

/// The captures of a bundle, checking its envelope.
fn captures(v: &Value, system: &str) -> Vec<Value> {
    assert_eq!(v["vouch_capture"], 1);
    assert_eq!(v["system"], system);
    let caps = v["captures"].as_array().unwrap().clone();
    for c in &caps {
        let at = c["fetched_at"].as_str().unwrap();
        assert!(
            time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).is_ok(),
            "{at}"
        );
        assert!(c["status"].is_u64(), "{c}");
        assert!(c["request"].as_str().unwrap().starts_with("GET /"));
    }
    caps
}

fn body<'a>(caps: &'a [Value], request: &str) -> &'a Value {
    &caps
        .iter()
        .find(|c| c["request"] == request)
        .unwrap_or_else(|| panic!("no capture of {request}"))["body"]
}

fn logins(body: &Value) -> HashSet<String> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|m| m["login"].as_str().unwrap().to_string())
        .collect()
}

/// Every member login across the member pages (not the filtered listings).
fn all_members(caps: &[Value], org: &str) -> HashSet<String> {
    let prefix = format!("GET /orgs/{org}/members?per_page=100");
    caps.iter()
        .filter(|c| c["request"].as_str().unwrap().starts_with(&prefix))
        .flat_map(|c| logins(&c["body"]))
        .collect()
}

fn files_in(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_other_bytes() {
    let (a, ma) = demo(7);
    let (b, mb) = demo(7);
    let (c, _) = demo(8);
    let (fa, fb, fc) = (files_in(a.path()), files_in(b.path()), files_in(c.path()));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(fb[name] == *bytes, "{name} differs between two runs");
    }
    assert_eq!(ma, mb);
    for name in [
        "hr_roster.csv",
        "aws_credential_report.csv",
        "github.json",
        "okta.json",
        "google_workspace.json",
        "grype.json",
        "fleet_hosts.json",
    ] {
        assert!(fa[name] != fc[name], "{name} is the same for seeds 7 and 8");
    }
    // Another day moves the history.
    let d = tempfile::tempdir().unwrap();
    write(d.path(), &Size::demo(), 7, date!(2026 - 12 - 01)).unwrap();
    assert!(files_in(d.path())["github.json"] != fa["github.json"]);
}

#[test]
fn the_demo_writes_every_file_the_manifest_lists() {
    let (dir, m) = demo(1);
    let names: Vec<&str> = m.files.iter().map(|f| f.name.as_str()).collect();
    for want in [
        "hr_roster.csv",
        "aws_credential_report.csv",
        "github.json",
        "okta.json",
        "google_workspace.json",
        "grype.json",
        "fleet_hosts.json",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("trivy-") && n.ends_with(".json"))
    );
    let on_disk = files_in(dir.path());
    assert_eq!(on_disk.len(), m.files.len(), "{:?}", on_disk.keys());
    for f in &m.files {
        assert_eq!(on_disk[&f.name].len() as u64, f.bytes, "{}", f.name);
        assert!(f.bytes > 100, "{} is nearly empty", f.name);
        assert!(!f.description.is_empty());
    }
    assert_eq!(m.company.domain, "lumenhealth.example");
    assert_eq!(m.counts["people"], 40);
    assert_eq!(m.counts["pull_requests"], 120);
    assert_eq!(m.counts["vulnerabilities"], 60);
    assert_eq!(m.counts["devices"], 40);
    assert_eq!(m.counts["github_repos"], 4);
    let json = serde_json::to_value(&m).unwrap();
    assert!(json["problems"]["leaver_still_active"]["email"].is_string());
}

#[test]
fn the_hr_roster_is_the_documented_csv() {
    let (dir, m) = demo(2);
    let (header, rows) = csv_rows(dir.path(), "hr_roster.csv");
    assert_eq!(
        header,
        [
            "email",
            "name",
            "employee_id",
            "department",
            "manager_email",
            "title",
            "start_date",
            "end_date",
            "status",
            "employment_type",
            "github_username"
        ]
    );
    assert_eq!(rows.len(), 40);
    let emails: HashSet<&str> = rows.iter().map(|r| r["email"].as_str()).collect();
    assert_eq!(emails.len(), rows.len(), "emails are unique");
    let year_ago = TODAY - time::Duration::days(365);
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let (mut leavers, mut contractors, mut hired) = (0, 0, 0);
    for r in &rows {
        let (local, domain) = r["email"].split_once('@').unwrap();
        assert_eq!(domain, "lumenhealth.example");
        assert!(local.contains('.'), "{local}");
        let start = time::Date::parse(&r["start_date"], &fmt).unwrap();
        assert!(start < TODAY);
        hired += usize::from(start > year_ago);
        assert!(["active", "terminated", "on_leave"].contains(&r["status"].as_str()));
        assert!(
            ["full_time", "part_time", "contractor", "intern"]
                .contains(&r["employment_type"].as_str())
        );
        contractors += usize::from(r["employment_type"] == "contractor");
        if r["status"] == "terminated" {
            leavers += 1;
            let end = time::Date::parse(&r["end_date"], &fmt).unwrap();
            assert!(end < TODAY && end >= year_ago && end > start, "{r:?}");
        } else {
            assert_eq!(r["end_date"], "", "{r:?}");
        }
        if !r["manager_email"].is_empty() {
            assert!(emails.contains(r["manager_email"].as_str()), "{r:?}");
        }
    }
    assert!((3..=8).contains(&leavers), "{leavers} leavers of 40");
    assert!(contractors >= 2, "{contractors} contractors");
    assert!(hired >= 1, "nobody hired in the past year");
    assert_eq!(m.counts["leavers"], leavers as u64);
    assert_eq!(
        rows.iter()
            .filter(|r| r["manager_email"].is_empty())
            .count(),
        1
    );
}

#[test]
fn the_aws_report_follows_aws_conventions() {
    let (dir, m) = demo(3);
    let (header, rows) = csv_rows(dir.path(), "aws_credential_report.csv");
    assert_eq!(
        header.join(","),
        "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
    );
    let root = &rows[0];
    assert_eq!(root["user"], "<root_account>");
    assert_eq!(root["arn"], "arn:aws:iam::418273645501:root");
    for c in [
        "password_enabled",
        "password_last_changed",
        "password_next_rotation",
    ] {
        assert_eq!(root[c], "not_supported");
    }
    let (_, hr) = csv_rows(dir.path(), "hr_roster.csv");
    let locals: HashSet<String> = hr
        .iter()
        .map(|r| r["email"].split('@').next().unwrap().to_string())
        .collect();
    let iso = regex_like_iso;
    for r in &rows[1..] {
        assert_eq!(
            r["arn"],
            format!("arn:aws:iam::418273645501:user/{}", r["user"])
        );
        assert!(
            locals.contains(&r["user"]) || r["user"] == "deploy-bot",
            "{}",
            r["user"]
        );
        for (c, v) in r {
            match c.as_str() {
                "user" | "arn" => {}
                c if c.ends_with("_active") || c == "password_enabled" => {
                    assert!(v == "true" || v == "false", "{c}={v}")
                }
                c if c.ends_with("_region") || c.ends_with("_service") => {
                    assert!(!v.is_empty(), "{c}")
                }
                _ => assert!(
                    v == "N/A" || v == "no_information" || iso(v),
                    "{c}={v} for {}",
                    r["user"]
                ),
            }
        }
        if r["password_enabled"] == "false" {
            assert_eq!(r["password_last_used"], "N/A");
        }
    }
    assert_eq!(m.counts["aws_users"], rows.len() as u64 - 1);
}

/// `2026-11-01T09:30:00+00:00`
fn regex_like_iso(v: &str) -> bool {
    v.len() == 25
        && v.ends_with("+00:00")
        && time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339).is_ok()
}

#[test]
fn the_github_bundle_has_what_a_connector_records() {
    let (dir, m) = demo(4);
    let v = json(dir.path(), "github.json");
    let caps = captures(&v, "github");
    let org = "lumenhealth";
    let members = all_members(&caps, org);
    assert_eq!(members.len() as u64, m.counts["github_members"]);
    let admins = logins(body(
        &caps,
        &format!("GET /orgs/{org}/members?role=admin&per_page=100"),
    ));
    let no2fa = logins(body(
        &caps,
        &format!("GET /orgs/{org}/members?filter=2fa_disabled&per_page=100"),
    ));
    assert!(!admins.is_empty() && admins.is_subset(&members));
    assert!(no2fa.is_subset(&members));
    let repos = body(&caps, &format!("GET /orgs/{org}/repos?per_page=100"));
    let repos = repos.as_array().unwrap();
    assert_eq!(repos.len(), 4);
    let (mut protected, mut unprotected, mut prs, mut reviews) = (0, 0, 0, 0);
    for repo in repos {
        let full = repo["full_name"].as_str().unwrap();
        let branch = repo["default_branch"].as_str().unwrap();
        assert!(repo["security_and_analysis"]["secret_scanning"]["status"].is_string());
        let req = format!("GET /repos/{full}/branches/{branch}/protection");
        let cap = caps.iter().find(|c| c["request"] == req).unwrap();
        match cap["status"].as_u64().unwrap() {
            200 => {
                protected += 1;
                let n = &cap["body"]["required_pull_request_reviews"]["required_approving_review_count"];
                assert!(n.as_u64().unwrap() >= 1);
                assert!(cap["body"]["enforce_admins"]["enabled"].is_boolean());
            }
            404 => {
                unprotected += 1;
                assert_eq!(cap["body"]["message"], "Branch not protected");
            }
            s => panic!("status {s}"),
        }
        let prefix = format!(
            "GET /repos/{full}/pulls?state=closed&base={branch}&sort=updated&direction=desc&per_page=100"
        );
        let mut last_updated = String::from("9999");
        for page in caps
            .iter()
            .filter(|c| c["request"].as_str().unwrap().starts_with(&prefix))
        {
            for pr in page["body"].as_array().unwrap() {
                prs += 1;
                assert_eq!(pr["state"], "closed");
                assert_eq!(pr["base"]["ref"], branch);
                assert_eq!(pr["base"]["repo"]["full_name"], full);
                assert_eq!(pr["head"]["sha"].as_str().unwrap().len(), 40);
                let updated = pr["updated_at"].as_str().unwrap().to_string();
                assert!(updated <= last_updated, "sorted by update, newest first");
                assert!(pr["created_at"].as_str().unwrap() <= updated.as_str());
                last_updated = updated;
                let n = pr["number"].as_u64().unwrap();
                let rev = format!("GET /repos/{full}/pulls/{n}/reviews?per_page=100");
                if pr["merged_at"].is_string() {
                    assert!(pr["merged_by"]["login"].is_string());
                    assert_eq!(pr["merge_commit_sha"].as_str().unwrap().len(), 40);
                    for r in body(&caps, &rev).as_array().unwrap() {
                        reviews += 1;
                        assert!(
                            ["APPROVED", "CHANGES_REQUESTED", "COMMENTED"]
                                .contains(&r["state"].as_str().unwrap())
                        );
                        assert!(r["id"].is_u64() && r["commit_id"].is_string());
                        assert!(
                            r["submitted_at"].as_str().unwrap()
                                <= pr["merged_at"].as_str().unwrap()
                        );
                        assert_eq!(r["author_association"], "MEMBER");
                        assert!(r["user"]["login"].is_string());
                    }
                } else {
                    assert!(pr["merged_by"].is_null());
                    assert!(!caps.iter().any(|c| c["request"] == rev));
                }
            }
        }
    }
    assert!(protected >= 1 && unprotected >= 1);
    assert_eq!(prs, 120);
    assert_eq!(reviews, m.counts["reviews"]);
    let per_page: Vec<usize> = caps
        .iter()
        .filter(|c| {
            c["request"]
                .as_str()
                .unwrap()
                .starts_with("GET /orgs/lumenhealth/members?per_page=100")
        })
        .map(|c| c["body"].as_array().unwrap().len())
        .collect();
    assert_eq!(per_page.len(), 1, "the demo's members fit one page");
    assert!(
        per_page.iter().all(|&n| n <= 100)
            && per_page[..per_page.len() - 1].iter().all(|&n| n == 100)
    );
}

#[test]
fn the_okta_and_google_bundles_have_every_person() {
    let (dir, _) = demo(5);
    let (_, hr) = csv_rows(dir.path(), "hr_roster.csv");
    let emails: HashSet<&str> = hr.iter().map(|r| r["email"].as_str()).collect();
    let okta = json(dir.path(), "okta.json");
    let caps = captures(&okta, "okta");
    let users = body(&caps, "GET /api/v1/users?limit=200")
        .as_array()
        .unwrap();
    assert_eq!(users.len(), 40);
    let mut statuses = HashSet::new();
    for u in users {
        let id = u["id"].as_str().unwrap();
        assert!(id.starts_with("00u") && id.len() == 20, "{id}");
        assert_eq!(u["profile"]["login"], u["profile"]["email"]);
        assert!(emails.contains(u["profile"]["login"].as_str().unwrap()));
        for f in [
            "created",
            "activated",
            "statusChanged",
            "lastUpdated",
            "passwordChanged",
        ] {
            assert!(u[f].as_str().unwrap().ends_with(".000Z"), "{f}");
        }
        assert!(u["type"]["id"].is_string());
        statuses.insert(u["status"].as_str().unwrap().to_string());
        let factors = body(&caps, &format!("GET /api/v1/users/{id}/factors"));
        for f in factors.as_array().unwrap() {
            for k in [
                "id",
                "factorType",
                "provider",
                "vendorName",
                "status",
                "created",
                "lastUpdated",
            ] {
                assert!(f[k].is_string(), "{k} in {f}");
            }
        }
    }
    assert!(
        statuses.contains("ACTIVE")
            && statuses.contains("DEPROVISIONED")
            && statuses.contains("SUSPENDED"),
        "{statuses:?}"
    );
    let google = json(dir.path(), "google_workspace.json");
    let caps = captures(&google, "google_workspace");
    let page = body(
        &caps,
        "GET /admin/directory/v1/users?customer=my_customer&maxResults=500&projection=full",
    );
    assert_eq!(page["kind"], "admin#directory#users");
    assert!(page.get("nextPageToken").is_none());
    let users = page["users"].as_array().unwrap();
    assert_eq!(users.len(), 40);
    for u in users {
        assert!(emails.contains(u["primaryEmail"].as_str().unwrap()));
        for k in [
            "suspended",
            "isAdmin",
            "isDelegatedAdmin",
            "isEnrolledIn2Sv",
            "isEnforcedIn2Sv",
            "archived",
        ] {
            assert!(u[k].is_boolean(), "{k}");
        }
        for k in [
            "id",
            "lastLoginTime",
            "creationTime",
            "orgUnitPath",
            "customerId",
        ] {
            assert!(u[k].is_string(), "{k}");
        }
        assert!(u["name"]["fullName"].is_string());
    }
    assert!(users.iter().any(|u| u["isAdmin"] == true));
    assert!(users.iter().any(|u| u["suspended"] == true));
}

#[test]
fn the_scanner_reports_and_fleet_listing_have_their_shapes() {
    let (dir, m) = demo(6);
    let mut trivy = 0;
    for f in m.files.iter().filter(|f| f.name.starts_with("trivy-")) {
        let v = json(dir.path(), &f.name);
        assert_eq!(v["SchemaVersion"], 2);
        assert_eq!(v["ArtifactType"], "container_image");
        assert!(
            v["ArtifactName"]
                .as_str()
                .unwrap()
                .starts_with("ghcr.io/lumenhealth/")
        );
        for r in v["Results"].as_array().unwrap() {
            assert!(r["Target"].is_string() && r["Class"].is_string());
            for vu in r["Vulnerabilities"].as_array().unwrap() {
                trivy += 1;
                assert!(
                    ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
                        .contains(&vu["Severity"].as_str().unwrap())
                );
                for k in [
                    "VulnerabilityID",
                    "PkgName",
                    "InstalledVersion",
                    "Status",
                    "PublishedDate",
                ] {
                    assert!(vu[k].is_string(), "{k}");
                }
                if vu["Status"] == "fixed" {
                    assert!(vu["FixedVersion"].is_string());
                }
            }
        }
    }
    let g = json(dir.path(), "grype.json");
    assert_eq!(g["descriptor"]["name"], "grype");
    let matches = g["matches"].as_array().unwrap();
    for mt in matches {
        assert!(
            ["Critical", "High", "Medium", "Low", "Negligible", "Unknown"]
                .contains(&mt["vulnerability"]["severity"].as_str().unwrap())
        );
        assert!(
            ["fixed", "not-fixed", "wont-fix", "unknown"]
                .contains(&mt["vulnerability"]["fix"]["state"].as_str().unwrap())
        );
        assert!(mt["artifact"]["name"].is_string());
    }
    assert_eq!(trivy + matches.len(), 60);
    assert!(trivy > 0 && !matches.is_empty());
    let fleet = json(dir.path(), "fleet_hosts.json");
    let hosts = fleet["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 40);
    let serials: HashSet<&str> = hosts
        .iter()
        .map(|h| h["hardware_serial"].as_str().unwrap())
        .collect();
    assert_eq!(serials.len(), 40);
    let mut names = HashSet::new();
    for h in hosts {
        for k in ["hostname", "platform", "os_version", "seen_time"] {
            assert!(h[k].is_string(), "{k}");
        }
        assert!(h["mdm"]["enrollment_status"].is_string());
        for p in h["policies"].as_array().unwrap() {
            assert!(["pass", "fail", ""].contains(&p["response"].as_str().unwrap()));
            assert!(p["critical"].is_boolean() && p["query"].is_string() && p["id"].is_u64());
            names.insert(p["name"].as_str().unwrap().to_string());
        }
    }
    for want in [
        "disk encryption",
        "Screen lock",
        "Firewall",
        "Operating system up to date",
    ] {
        assert!(
            names.iter().any(|n| n.contains(want)),
            "no {want} policy in {names:?}"
        );
    }
}

#[test]
fn the_planted_problems_are_really_in_the_files() {
    for seed in [1, 2, 3, 42] {
        let (dir, m) = demo(seed);
        let p = &m.problems;
        let d = dir.path();
        // The leaver: terminated in HR, ACTIVE in Okta, still a GitHub member.
        let (_, hr) = csv_rows(d, "hr_roster.csv");
        let row = hr
            .iter()
            .find(|r| r["email"] == p.leaver_still_active.email)
            .unwrap();
        assert_eq!(row["status"], "terminated");
        assert!(!row["end_date"].is_empty() && row["end_date"].as_str() < "2026-11-23");
        assert_eq!(row["end_date"], p.leaver_still_active.end_date);
        let okta = json(d, "okta.json");
        let users: Vec<Value> = captures(&okta, "okta")
            .into_iter()
            .filter(|c| {
                c["request"]
                    .as_str()
                    .unwrap()
                    .starts_with("GET /api/v1/users?")
            })
            .flat_map(|c| c["body"].as_array().unwrap().clone())
            .collect();
        let u = users
            .iter()
            .find(|u| u["profile"]["login"] == p.leaver_still_active.okta_login)
            .unwrap();
        assert_eq!(u["status"], "ACTIVE");
        assert_eq!(u["id"], p.leaver_still_active.okta_id);
        // Other leavers are deprovisioned.
        let other_leaver = hr
            .iter()
            .find(|r| r["status"] == "terminated" && r["email"] != p.leaver_still_active.email)
            .unwrap();
        let o = users
            .iter()
            .find(|u| u["profile"]["login"] == other_leaver["email"])
            .unwrap();
        assert_eq!(o["status"], "DEPROVISIONED");
        let gh = json(d, "github.json");
        let caps = captures(&gh, "github");
        let members = all_members(&caps, "lumenhealth");
        assert!(members.contains(&p.leaver_still_active.github_login));
        // The admin without two-factor, in both listings.
        let admins = logins(body(
            &caps,
            "GET /orgs/lumenhealth/members?role=admin&per_page=100",
        ));
        let no2fa = logins(body(
            &caps,
            "GET /orgs/lumenhealth/members?filter=2fa_disabled&per_page=100",
        ));
        assert!(admins.contains(&p.admin_without_mfa) && no2fa.contains(&p.admin_without_mfa));
        // The console user without MFA.
        let (_, aws) = csv_rows(d, "aws_credential_report.csv");
        let row = aws
            .iter()
            .find(|r| r["user"] == p.console_user_without_mfa)
            .unwrap();
        assert_eq!(
            (row["password_enabled"].as_str(), row["mfa_active"].as_str()),
            ("true", "false")
        );
        // The unreviewed merge.
        let (repo, n) = p.unreviewed_merge.split_once('#').unwrap();
        let pr = caps
            .iter()
            .filter(|c| {
                c["request"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("GET /repos/{repo}/pulls?"))
            })
            .flat_map(|c| c["body"].as_array().unwrap().iter())
            .find(|pr| pr["number"].as_u64() == n.parse().ok())
            .unwrap();
        assert!(pr["merged_at"].is_string());
        let author = pr["user"]["login"].as_str().unwrap();
        let reviews = body(
            &caps,
            &format!("GET /repos/{repo}/pulls/{n}/reviews?per_page=100"),
        );
        assert!(
            !reviews
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["state"] == "APPROVED" && r["user"]["login"] != author)
        );
        // Accounts nobody owns: in their systems, not in HR.
        let hr_locals: HashSet<&str> = hr
            .iter()
            .map(|r| r["email"].split('@').next().unwrap())
            .collect();
        let sys: BTreeMap<&str, &str> = p
            .unowned_accounts
            .iter()
            .map(|a| (a.system.as_str(), a.account.as_str()))
            .collect();
        assert!(members.contains(sys["github"]));
        assert!(aws.iter().any(|r| r["user"] == sys["aws"]));
        assert!(!hr_locals.contains(sys["aws"]) && !hr_locals.contains(sys["github"]));
        // The old critical vulnerability.
        let c = &p.critical_vulnerability_over_30_days;
        let t = json(d, &c.file);
        let vu = t["Results"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["Vulnerabilities"].as_array().unwrap())
            .find(|v| v["VulnerabilityID"] == c.vulnerability_id.as_str())
            .unwrap();
        assert_eq!(vu["Severity"], "CRITICAL");
        assert_eq!(vu["PkgName"], c.package.as_str());
        assert!(vu["FixedVersion"].is_string());
        assert!(vu["PublishedDate"].as_str().unwrap() < "2026-10-24");
        assert!(c.days_old > 30);
        // The unencrypted device.
        let fleet = json(d, "fleet_hosts.json");
        let host = fleet["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["hardware_serial"] == p.device_without_encryption.as_str())
            .unwrap();
        let disk = host["policies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"].as_str().unwrap().contains("disk encryption"))
            .unwrap();
        assert_eq!(disk["response"], "fail");
    }
}

#[test]
fn a_medium_company_is_written_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let size = Size {
        people: 1_000,
        accounts_per_person: 3.5,
        repositories: 40,
        pull_requests: 20_000,
        vulnerabilities: 2_000,
        devices: 1_000,
    };
    let m = write(dir.path(), &size, 99, TODAY).unwrap();
    assert_eq!(m.counts["people"], 1_000);
    assert_eq!(m.counts["pull_requests"], 20_000);
    assert_eq!(m.counts["vulnerabilities"], 2_000);
    let accounts = m.counts["accounts"] as f64 / 1_000.0;
    assert!(
        (3.2..3.8).contains(&accounts),
        "{accounts} accounts per person"
    );
    let gh = json(dir.path(), "github.json");
    let caps = captures(&gh, "github");
    let prs: usize = caps
        .iter()
        .filter(|c| {
            c["request"]
                .as_str()
                .unwrap()
                .contains("/pulls?state=closed")
        })
        .map(|c| c["body"].as_array().unwrap().len())
        .sum();
    assert_eq!(prs, 20_000);
    let members = all_members(&caps, "lumenhealth");
    assert_eq!(members.len() as u64, m.counts["github_members"]);
    assert!(members.len() > 100, "members span pages");
    let requests: Vec<&str> = caps
        .iter()
        .map(|c| c["request"].as_str().unwrap())
        .filter(|r| r.starts_with("GET /orgs/lumenhealth/members?per_page=100"))
        .collect();
    assert_eq!(requests[0], "GET /orgs/lumenhealth/members?per_page=100");
    assert_eq!(
        requests[1],
        "GET /orgs/lumenhealth/members?per_page=100&page=2"
    );
    // Archived repositories are listed but not read further, as the connector does.
    let repos: Vec<Value> = caps
        .iter()
        .filter(|c| {
            c["request"]
                .as_str()
                .unwrap()
                .starts_with("GET /orgs/lumenhealth/repos?")
        })
        .flat_map(|c| c["body"].as_array().unwrap().clone())
        .collect();
    assert_eq!(repos.len(), 40);
    let archived = repos.iter().find(|r| r["archived"] == true).unwrap();
    let full = archived["full_name"].as_str().unwrap();
    assert!(!caps.iter().any(|c| {
        c["request"]
            .as_str()
            .unwrap()
            .starts_with(&format!("GET /repos/{full}/"))
    }));
    let okta = json(dir.path(), "okta.json");
    let caps = captures(&okta, "okta");
    let pages: Vec<&Value> = caps
        .iter()
        .filter(|c| {
            c["request"]
                .as_str()
                .unwrap()
                .starts_with("GET /api/v1/users?")
        })
        .collect();
    assert_eq!(pages.len(), 5);
    for w in pages.windows(2) {
        let last = w[0]["body"].as_array().unwrap().last().unwrap()["id"]
            .as_str()
            .unwrap();
        assert_eq!(
            w[1]["request"].as_str().unwrap(),
            format!("GET /api/v1/users?limit=200&after={last}")
        );
    }
    let google = json(dir.path(), "google_workspace.json");
    let caps = captures(&google, "google_workspace");
    assert_eq!(caps.len(), 2);
    let token = caps[0]["body"]["nextPageToken"].as_str().unwrap();
    assert!(
        caps[1]["request"]
            .as_str()
            .unwrap()
            .ends_with(&format!("&pageToken={token}"))
    );
    assert!(caps[1]["body"].get("nextPageToken").is_none());
}
