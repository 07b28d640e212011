//! A believable sample company, written as the same files its systems export.
//!
//! [`write`] fills a directory with an HR roster CSV, an AWS IAM credential report, capture
//! bundles of what the GitHub, Okta and Google Workspace APIs answer (the format of
//! `vouch_collect::capture`), Trivy and Grype reports and a Fleet host listing, all describing
//! one company ([`Company`]) over the year before `today`. The same seed, size and day give
//! byte-identical files: nothing reads a clock, and every random choice comes from a
//! `StdRng` seeded from the seed.
//!
//! Planted problems, the things a compliance test must find, are always present and listed in
//! the returned [`Manifest`] ([`Problems`]): a leaver still active in Okta and GitHub, a GitHub
//! org admin without two-factor authentication, an AWS console user without MFA, a merge
//! without an approving review, accounts nobody owns, an old critical vulnerability and a
//! laptop without disk encryption.
//!
//! Files are written streaming through `BufWriter`s: people (one small record each) are held
//! in memory, pull requests only one repository at a time, and everything else is rendered
//! and written record by record, so [`Size::large`] (200,000 pull requests) stays far below
//! 500 MiB.
#![forbid(unsafe_code)]

mod aws;
mod fleet;
mod github;
mod idp;
mod people;
mod vulns;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use time::{Date, OffsetDateTime};

/// How big the company is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Size {
    /// Rows of the HR roster (leavers included).
    pub people: usize,
    /// Wanted accounts across Okta, Google Workspace, GitHub and AWS, per person. Everyone has
    /// an Okta and a Google account (2.0); what is above 2 is spread over GitHub and AWS, so a
    /// value above 4 gives everyone all four (plus the service accounts). The manifest's
    /// `counts.accounts` is the number actually written.
    pub accounts_per_person: f64,
    pub repositories: usize,
    /// Closed pull requests against the default branches, over all repositories.
    pub pull_requests: usize,
    /// Vulnerability findings, split between the Trivy and Grype reports.
    pub vulnerabilities: usize,
    /// Hosts in the Fleet listing.
    pub devices: usize,
}

impl Size {
    /// About 40 people, 4 repositories, 120 pull requests, 60 vulnerabilities, 40 devices.
    pub fn demo() -> Size {
        Size {
            people: 40,
            accounts_per_person: 3.0,
            repositories: 4,
            pull_requests: 120,
            vulnerabilities: 60,
            devices: 40,
        }
    }

    /// 10,000 people, 5 accounts per person wanted, 300 repositories, 200,000 pull requests,
    /// 20,000 vulnerabilities, 10,000 devices. (Four systems cap accounts at four a person and
    /// leavers lose their GitHub and AWS accounts: about 37,600 accounts are written.)
    pub fn large() -> Size {
        Size {
            people: 10_000,
            accounts_per_person: 5.0,
            repositories: 300,
            pull_requests: 200_000,
            vulnerabilities: 20_000,
            devices: 10_000,
        }
    }
}

/// Who the sample company is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Company {
    pub name: String,
    /// The email domain (always under `.example`).
    pub domain: String,
    /// The GitHub organisation's login.
    pub github_org: String,
    /// The AWS account the credential report covers.
    pub aws_account_id: String,
    /// The Google Workspace customer id.
    pub google_customer_id: String,
    /// The container registry prefix of the scanned images.
    pub registry: String,
}

impl Company {
    /// Lumen Health, a small digital-health company (`lumenhealth.example`).
    pub fn lumen_health() -> Company {
        Company {
            name: "Lumen Health".into(),
            domain: "lumenhealth.example".into(),
            github_org: "lumenhealth".into(),
            aws_account_id: "418273645501".into(),
            google_customer_id: "C03lum7hx".into(),
            registry: "ghcr.io/lumenhealth".into(),
        }
    }
}

/// What [`write`] wrote.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Manifest {
    pub company: Company,
    pub seed: u64,
    /// The day the history ends (`YYYY-MM-DD`); every capture is fetched on it.
    pub today: String,
    pub size: Size,
    pub files: Vec<FileEntry>,
    /// Resources per type: `people`, `leavers`, `okta_users`, `github_members`,
    /// `pull_requests`, `reviews`, `aws_users`, `vulnerabilities`, `devices`, `accounts`, …
    pub counts: BTreeMap<String, u64>,
    pub problems: Problems,
}

/// One file written.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileEntry {
    /// The file name inside the directory.
    pub name: String,
    pub bytes: u64,
    /// What it is.
    pub description: String,
}

/// The planted problems, each really present in the files.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problems {
    /// Terminated in HR (end date in the past) but still ACTIVE in Okta (and Google
    /// Workspace) and still a member of the GitHub organisation.
    pub leaver_still_active: LeaverStillActive,
    /// A GitHub org admin listed by both `role=admin` and `filter=2fa_disabled`.
    pub admin_without_mfa: String,
    /// An AWS IAM user with `password_enabled` true and `mfa_active` false.
    pub console_user_without_mfa: String,
    /// A merged pull request without an APPROVED review by someone other than its author:
    /// `org/repo#n`.
    pub unreviewed_merge: String,
    /// Accounts no person in HR owns.
    pub unowned_accounts: Vec<UnownedAccount>,
    /// A CRITICAL finding with a fix available, published long before `today`.
    pub critical_vulnerability_over_30_days: OldCritical,
    /// The hardware serial of a device failing its disk-encryption policy.
    pub device_without_encryption: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LeaverStillActive {
    pub email: String,
    pub end_date: String,
    pub okta_login: String,
    pub okta_id: String,
    pub github_login: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnownedAccount {
    /// `github` or `aws`.
    pub system: String,
    pub account: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OldCritical {
    /// The report it is in.
    pub file: String,
    pub vulnerability_id: String,
    pub package: String,
    pub installed_version: String,
    pub fixed_version: String,
    /// `PublishedDate`, RFC 3339.
    pub published: String,
    pub days_old: i64,
}

/// Writes the sample company into `dir` (created if missing) and says what it wrote.
///
/// The history covers the year before `today`; every capture is fetched on `today` from
/// 06:00 UTC on. Same `seed`, `size` and `today` → byte-identical files.
pub fn write(dir: &Path, size: &Size, seed: u64, today: Date) -> io::Result<Manifest> {
    std::fs::create_dir_all(dir)?;
    let company = Company::lumen_health();
    let ctx = Ctx::new(company.clone(), seed, today);
    let world = people::World::generate(&ctx, size);
    let mut counts = BTreeMap::new();
    let mut files = Vec::new();
    let add = |files: &mut Vec<FileEntry>, name: &str, description: &str| -> io::Result<()> {
        let bytes = std::fs::metadata(dir.join(name))?.len();
        files.push(FileEntry {
            name: name.into(),
            bytes,
            description: description.into(),
        });
        Ok(())
    };

    people::write_roster(&ctx, &world, &mut create(dir, "hr_roster.csv")?)?;
    add(
        &mut files,
        "hr_roster.csv",
        "HR roster CSV (email, name, employee_id, department, manager_email, title, start_date, end_date, status, employment_type, github_username)",
    )?;
    let console_without_mfa = aws::write_report(
        &ctx,
        &world,
        &mut create(dir, "aws_credential_report.csv")?,
        &mut counts,
    )?;
    add(
        &mut files,
        "aws_credential_report.csv",
        "AWS IAM credential report CSV (aws iam get-credential-report, base64-decoded)",
    )?;
    let unreviewed = github::write_bundle(
        &ctx,
        &world,
        size,
        &mut create(dir, "github.json")?,
        &mut counts,
    )?;
    add(
        &mut files,
        "github.json",
        "GitHub capture bundle: org members (all, admins, 2fa_disabled), repositories, branch protection, closed pull requests and their reviews",
    )?;
    idp::write_okta(&ctx, &world, &mut create(dir, "okta.json")?, &mut counts)?;
    add(
        &mut files,
        "okta.json",
        "Okta capture bundle: /api/v1/users pages and each user's factors",
    )?;
    idp::write_google(
        &ctx,
        &world,
        &mut create(dir, "google_workspace.json")?,
        &mut counts,
    )?;
    add(
        &mut files,
        "google_workspace.json",
        "Google Workspace capture bundle: Admin SDK Directory users pages",
    )?;
    let scans = vulns::write_reports(&ctx, &world, size, dir, &mut counts)?;
    for (name, description) in &scans.files {
        add(&mut files, name, description)?;
    }
    let unencrypted = fleet::write_hosts(
        &ctx,
        &world,
        size,
        &mut create(dir, "fleet_hosts.json")?,
        &mut counts,
    )?;
    add(
        &mut files,
        "fleet_hosts.json",
        "Fleet hosts with their policy responses (disk encryption, screen lock, firewall, OS up to date)",
    )?;

    world.count(today, &mut counts);
    let accounts = ["okta_users", "google_users", "github_members", "aws_users"]
        .iter()
        .map(|k| counts.get(*k).copied().unwrap_or(0))
        .sum();
    counts.insert("accounts".into(), accounts);
    let leaver = &world.people[world.planted_leaver];
    let problems = Problems {
        leaver_still_active: LeaverStillActive {
            email: leaver.email.clone(),
            end_date: fmt_date(leaver.end.expect("the planted leaver has an end date")),
            okta_login: leaver.email.clone(),
            okta_id: leaver.okta_id.clone(),
            github_login: leaver.login.clone(),
        },
        admin_without_mfa: world.people[world.planted_admin].login.clone(),
        console_user_without_mfa: console_without_mfa,
        unreviewed_merge: unreviewed,
        unowned_accounts: vec![
            UnownedAccount {
                system: "github".into(),
                account: github::BOT_LOGIN.into(),
            },
            UnownedAccount {
                system: "aws".into(),
                account: aws::DEPLOY_BOT.into(),
            },
        ],
        critical_vulnerability_over_30_days: scans.old_critical,
        device_without_encryption: unencrypted,
    };
    Ok(Manifest {
        company,
        seed,
        today: fmt_date(today),
        size: size.clone(),
        files,
        counts,
        problems,
    })
}

fn create(dir: &Path, name: &str) -> io::Result<Out> {
    Ok(BufWriter::with_capacity(
        1 << 16,
        File::create(dir.join(name))?,
    ))
}

pub(crate) type Out = BufWriter<File>;

/// What every generator needs: who, which seed, which day.
pub(crate) struct Ctx {
    pub company: Company,
    pub seed: u64,
    pub today: Date,
    /// When the captures start: `today` 06:00 UTC. Every event is before it.
    pub now: i64,
}

impl Ctx {
    fn new(company: Company, seed: u64, today: Date) -> Ctx {
        let midnight = today.midnight().assume_utc().unix_timestamp();
        Ctx {
            company,
            seed,
            today,
            now: midnight + 6 * 3600,
        }
    }

    /// An independent random stream for `(tag, i)`, so one record can be regenerated alone.
    pub fn rng(&self, tag: u64, i: u64) -> StdRng {
        StdRng::seed_from_u64(mix(mix(self.seed ^ mix(tag)) ^ i))
    }

    pub fn days_ago(&self, days: i64) -> Date {
        self.today - time::Duration::days(days)
    }

    pub fn date_secs(d: Date) -> i64 {
        d.midnight().assume_utc().unix_timestamp()
    }
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn parts(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).expect("times stay within the calendar")
}

pub(crate) fn fmt_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

fn fmt_with(secs: i64, suffix: &str) -> String {
    let t = parts(secs);
    format!(
        "{}T{:02}:{:02}:{:02}{suffix}",
        fmt_date(t.date()),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `2026-11-01T09:30:00Z` (GitHub, capture times).
pub(crate) fn fmt_z(secs: i64) -> String {
    fmt_with(secs, "Z")
}

/// `2026-11-01T09:30:00.000Z` (Okta, Google).
pub(crate) fn fmt_ms(secs: i64) -> String {
    fmt_with(secs, ".000Z")
}

/// `2026-11-01T09:30:00+00:00` (AWS credential report).
pub(crate) fn fmt_aws(secs: i64) -> String {
    fmt_with(secs, "+00:00")
}

pub(crate) fn hex(rng: &mut impl rand::Rng, n: usize) -> String {
    const H: &[u8] = b"0123456789abcdef";
    (0..n).map(|_| H[rng.gen_range(0..16)] as char).collect()
}

pub(crate) fn alnum(rng: &mut impl rand::Rng, n: usize) -> String {
    const A: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    (0..n)
        .map(|_| A[rng.gen_range(0..A.len())] as char)
        .collect()
}

pub(crate) fn upper_alnum(rng: &mut impl rand::Rng, n: usize) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    (0..n)
        .map(|_| A[rng.gen_range(0..A.len())] as char)
        .collect()
}

/// Writes a capture bundle one capture at a time, in the exact rendering of
/// `vouch_collect::capture::CaptureBundle::to_bytes` (compact JSON, fields in declaration
/// order).
pub(crate) struct Bundle<'w> {
    w: &'w mut Out,
    first: bool,
    pub captures: u64,
    /// The time of the next capture, Unix seconds; advanced by [`Bundle::tick`].
    pub clock: i64,
    ticks: u64,
    per_second: u64,
}

#[derive(Serialize)]
struct CaptureOut<'a> {
    request: &'a str,
    fetched_at: &'a str,
    status: u16,
    body: &'a serde_json::Value,
}

impl<'w> Bundle<'w> {
    /// Starts a bundle for `system`; captures are fetched from `start` on, `per_second` of
    /// them each second.
    pub fn start(w: &'w mut Out, system: &str, start: i64, per_second: u64) -> io::Result<Self> {
        write!(
            w,
            "{{\"vouch_capture\":1,\"system\":{},\"captures\":[",
            serde_json::to_string(system)?
        )?;
        Ok(Bundle {
            w,
            first: true,
            captures: 0,
            clock: start,
            ticks: 0,
            per_second: per_second.max(1),
        })
    }

    pub fn capture(
        &mut self,
        request: &str,
        status: u16,
        body: &serde_json::Value,
    ) -> io::Result<()> {
        if !self.first {
            self.w.write_all(b",")?;
        }
        self.first = false;
        let fetched_at = fmt_z(self.clock);
        serde_json::to_writer(
            &mut *self.w,
            &CaptureOut {
                request,
                fetched_at: &fetched_at,
                status,
                body,
            },
        )?;
        self.captures += 1;
        self.ticks += 1;
        if self.ticks.is_multiple_of(self.per_second) {
            self.clock += 1;
        }
        Ok(())
    }

    pub fn finish(self) -> io::Result<()> {
        self.w.write_all(b"]}")?;
        self.w.flush()
    }
}
