//! `vouch demo`: a fresh data folder filled with a believable sample company, then the
//! server. It grows with every capability, so the demo always shows what Vouch can do.
use crate::config::{self, Overrides};
use crate::output::{Exit, Failure, json};
use std::path::PathBuf;
use vouch_app::tokens::NewToken;
use vouch_app::users::{NewUser, UserPatch};
use vouch_app::{Actor, App};
use vouch_domain::Role;

/// Every demo account shares this password; the demo is for looking around, not for data.
pub const DEMO_PASSWORD: &str = "vouch-demo-password";
const MARKER: &str = ".vouch-demo";

pub struct DemoPerson {
    pub email: &'static str,
    pub name: &'static str,
    pub role: Role,
}

/// Lumen Health Analytics: a 40-person healthcare analytics start-up preparing for its first
/// SOC 2 Type II, with an outside auditor from its CPA firm.
pub const PEOPLE: &[DemoPerson] = &[
    DemoPerson {
        email: "priya.raman@lumenhealth.example",
        name: "Priya Raman",
        role: Role::Admin,
    },
    DemoPerson {
        email: "marcus.webb@lumenhealth.example",
        name: "Marcus Webb",
        role: Role::ComplianceLead,
    },
    DemoPerson {
        email: "aisha.bello@lumenhealth.example",
        name: "Aisha Bello",
        role: Role::ControlOwner,
    },
    DemoPerson {
        email: "tom.eriksen@lumenhealth.example",
        name: "Tom Eriksen",
        role: Role::ControlOwner,
    },
    DemoPerson {
        email: "sofia.alvarez@lumenhealth.example",
        name: "Sofia Alvarez",
        role: Role::ControlOwner,
    },
    DemoPerson {
        email: "daniel.okafor@lumenhealth.example",
        name: "Daniel Okafor",
        role: Role::Employee,
    },
    DemoPerson {
        email: "mei.tanaka@lumenhealth.example",
        name: "Mei Tanaka",
        role: Role::Employee,
    },
    DemoPerson {
        email: "lucas.moreau@lumenhealth.example",
        name: "Lucas Moreau",
        role: Role::Employee,
    },
    DemoPerson {
        email: "hannah.schmidt@lumenhealth.example",
        name: "Hannah Schmidt",
        role: Role::Employee,
    },
    DemoPerson {
        email: "ravi.patel@lumenhealth.example",
        name: "Ravi Patel",
        role: Role::Employee,
    },
    DemoPerson {
        email: "dana.kim@brightcpa.example",
        name: "Dana Kim (Bright & Partners CPA)",
        role: Role::Auditor,
    },
];

/// The person who left the company: their account is disabled, as offboarding requires.
pub const LEAVER: DemoPerson = DemoPerson {
    email: "jordan.lee@lumenhealth.example",
    name: "Jordan Lee",
    role: Role::ControlOwner,
};

/// Fills an empty store with the sample company. `data_dir` receives the company's exported
/// files, which are then imported as the collections a real company would make.
pub async fn seed(app: &App, data_dir: &std::path::Path) -> Result<(), Failure> {
    let cli = crate::cli::cli_actor();
    let first = &PEOPLE[0];
    let admin = app
        .create_first_admin(&cli, None, first.email, first.name, DEMO_PASSWORD)
        .await?;
    let admin_actor = Actor {
        kind: vouch_app::ActorKind::User,
        user_id: Some(admin.id.clone()),
        label: admin.email.clone(),
        role: Role::Admin,
        request_id: None,
    };
    for p in PEOPLE.iter().skip(1).chain(std::iter::once(&LEAVER)) {
        app.create_user(
            &admin_actor,
            NewUser {
                email: p.email.into(),
                name: p.name.into(),
                role: p.role,
                password: Some(DEMO_PASSWORD.into()),
            },
        )
        .await?;
    }
    let users = app.list_users(&admin_actor).await?;
    let find = |email: &str| {
        users
            .iter()
            .find(|u| u.email == email)
            .map(|u| u.id.clone())
            .unwrap()
    };

    // Aisha runs the engineering controls and uploads evidence from CI with a token.
    let aisha = Actor {
        kind: vouch_app::ActorKind::User,
        user_id: Some(find(PEOPLE[2].email)),
        label: PEOPLE[2].email.into(),
        role: Role::ControlOwner,
        request_id: None,
    };
    app.create_token(
        &aisha,
        NewToken {
            name: "CI evidence upload".into(),
            role: Role::ControlOwner,
            expires_at: None,
        },
    )
    .await?;
    // The auditor reads the engagement through the API as well.
    let dana = Actor {
        kind: vouch_app::ActorKind::User,
        user_id: Some(find(PEOPLE[10].email)),
        label: PEOPLE[10].email.into(),
        role: Role::Auditor,
        request_id: None,
    };
    app.create_token(
        &dana,
        NewToken {
            name: "Audit workpapers sync".into(),
            role: Role::Auditor,
            expires_at: Some("2027-06-30T23:59:59Z".into()),
        },
    )
    .await?;

    seed_programme(app, &find).await?;
    seed_evidence(app, &find).await?;
    seed_collections(app, &data_dir.join("sample-company")).await?;

    // Jordan left in the spring: disabled, sessions ended, tokens revoked.
    app.update_user(
        &admin_actor,
        &find(LEAVER.email),
        UserPatch {
            status: Some("disabled".into()),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

/// Writes the sample company's exports (HR roster, identity providers, GitHub, AWS,
/// scanners, devices) and imports them, as a company that has not yet set up live
/// integrations would. Its planted problems (a leaver still active, an admin without MFA, an
/// unreviewed merge, unowned accounts) are then there to find.
async fn seed_collections(app: &App, dir: &std::path::Path) -> Result<(), Failure> {
    let today = app.now().date();
    let folder = dir.to_path_buf();
    let manifest = tokio::task::spawn_blocking(move || {
        vouch_sample::write(&folder, &vouch_sample::Size::demo(), 7, today)
    })
    .await
    .map_err(|e| Failure::unavailable(format!("the sample company generator stopped: {e}")))?
    .map_err(|e| Failure::unavailable(format!("cannot write the sample company: {e}")))?;
    let cli = crate::cli::cli_actor();
    // The roster first, so accounts link to people as they arrive.
    let mut names: Vec<&str> = manifest.files.iter().map(|f| f.name.as_str()).collect();
    names.sort_by_key(|n| !n.starts_with("hr_"));
    for name in names {
        let file = app.stage_path(&cli, &dir.join(name)).await?;
        let run = app
            .import_files(&cli, vouch_app::collect::ImportRequest::of(vec![file]))
            .await?;
        if run.status != "succeeded" {
            return Err(Failure::unavailable(format!(
                "the demo's {name} did not import: {}",
                run.error.unwrap_or_default()
            )));
        }
    }
    // One of the two unowned accounts is explained; the other stays a finding.
    let accounts = app
        .accounts(
            &cli,
            &vouch_app::accounts::AccountFilter {
                unlinked: true,
                ..Default::default()
            },
        )
        .await?;
    if let Some(bot) = accounts.iter().find(|a| a.account.key == "ci-bot") {
        app.link_account(
            &cli,
            bot.account.id,
            None,
            "GitHub Actions bot that opens dependency update pull requests",
        )
        .await?;
    }
    Ok(())
}

/// Who owns what at Lumen, by the library's owner roles.
fn owner_for(role: &str) -> Option<(usize, usize)> {
    // (owner, backup) as indexes into PEOPLE.
    match role {
        "executive" => Some((0, 1)),
        "security_lead" | "compliance_lead" | "legal_privacy" => Some((1, 0)),
        "engineering_lead" | "devops_sre" => Some((2, 3)),
        "it_admin" | "system_owner" => Some((3, 2)),
        "hr_lead" | "people_manager" => Some((4, 1)),
        _ => None,
    }
}

/// The compliance programme: the system in scope, the adopted and tailored control matrix.
async fn seed_programme(app: &App, find: &dyn Fn(&str) -> String) -> Result<(), Failure> {
    use time::macros::date;
    use vouch_app::controls::{Applicability, Ownership};
    use vouch_domain::Category;
    use vouch_domain::control::ControlInput;
    use vouch_domain::controls::{Frequency, Nature};
    use vouch_domain::scope::{Component, ReportType, Scope, Subservice};

    let marcus = person(find, &PEOPLE[1]);
    let scope = Scope {
        system_name: "Lumen Analytics Platform".into(),
        description:
            "A multi-tenant SaaS platform that ingests de-identified claims and clinical data \
            from healthcare providers and returns population-health dashboards and risk scores."
                .into(),
        services: vec![
            "Data ingestion pipelines (SFTP and HTTPS API)".into(),
            "Population-health dashboards".into(),
            "Risk-scoring API".into(),
        ],
        components: vec![
            Component {
                name: "Production AWS account".into(),
                kind: "infrastructure".into(),
                description: "eu-west-1 and us-east-1; EKS, RDS PostgreSQL, S3".into(),
            },
            Component {
                name: "lumen-platform repositories".into(),
                kind: "software".into(),
                description: "GitHub organisation lumen-health".into(),
            },
            Component {
                name: "Okta".into(),
                kind: "identity".into(),
                description: "workforce single sign-on and MFA".into(),
            },
            Component {
                name: "Customer data".into(),
                kind: "data".into(),
                description: "de-identified claims, clinical extracts, derived scores".into(),
            },
        ],
        categories: vec![Category::Availability, Category::Confidentiality],
        report_type: ReportType::Type2,
        as_of: None,
        period_start: Some(date!(2025 - 12 - 01)),
        period_end: Some(date!(2026 - 11 - 30)),
        subservices: vec![Subservice {
            name: "Amazon Web Services".into(),
            services: "hosting, managed databases, object storage".into(),
            method: "carved_out".into(),
            expected_controls: vec![
                "Physical access to data centres is restricted and reviewed".into(),
                "Storage media is sanitised before disposal".into(),
            ],
        }],
        customer_controls: vec![
            "Customers remove access for their own users who leave".into(),
            "Customers send only de-identified data unless a BAA is in place".into(),
        ],
    };
    app.set_scope(&marcus, scope).await?;
    app.adopt_library(&marcus, None).await?;

    // Owners by role, except a handful still unassigned (the readiness view shows them).
    let unassigned = ["PIN-04", "PIN-05", "VND-05", "CHG-08", "LOG-06"];
    for v in app.list_controls(&marcus).await? {
        let c = v.control;
        if unassigned.contains(&c.id.as_str()) {
            continue;
        }
        if let Some((o, b)) = owner_for(&c.owner_role) {
            let own = Ownership {
                owner_id: Some(find(PEOPLE[o].email)),
                backup_owner_id: Some(find(PEOPLE[b].email)),
            };
            app.assign_control(&marcus, &c.id, own).await?;
        }
    }
    // A fully remote company: the data centres are AWS's, and carved out.
    for id in ["PHY-01", "PHY-02"] {
        let why = "Lumen is fully remote with no offices; production runs in AWS, whose physical controls are carved out.";
        app.set_applicability(
            &marcus,
            id,
            Applicability {
                applicable: false,
                justification: Some(why.into()),
            },
        )
        .await?;
    }
    // One control of Lumen's own, beyond the library.
    let custom = ControlInput {
        id: "LUM-01".into(),
        name: "Customer data export review".into(),
        description: "Every bulk export of customer data out of production is approved by the data owner and logged; exports are reviewed monthly.".into(),
        domain: "Confidentiality".into(),
        owner_role: "security_lead".into(),
        frequencies: vec![Frequency::PerEvent, Frequency::Monthly],
        nature: Nature::Hybrid,
        evidence: vec!["export approval tickets".into(), "monthly export log review".into()],
        criteria: vec!["C1.1".into(), "CC6.7".into()],
    };
    app.create_control(&marcus, custom).await?;
    let own = Ownership {
        owner_id: Some(find(PEOPLE[1].email)),
        backup_owner_id: Some(find(PEOPLE[2].email)),
    };
    app.assign_control(&marcus, "LUM-01", own).await?;
    Ok(())
}

fn person(find: &dyn Fn(&str) -> String, p: &DemoPerson) -> Actor {
    Actor {
        kind: vouch_app::ActorKind::User,
        user_id: Some(find(p.email)),
        label: p.email.into(),
        role: p.role,
        request_id: None,
    }
}

/// One demo evidence record: who adds it, what it proves, what it covers and its files.
struct DemoEvidence {
    by: usize,
    title: &'static str,
    controls: &'static [&'static str],
    from: time::Date,
    until: time::Date,
    files: &'static [(&'static str, &'static str)],
}

/// Evidence over the audit period: most controls with proof are fresh; the risk register
/// misses its spring quarter, so readiness shows evidence overdue.
async fn seed_evidence(app: &App, find: &dyn Fn(&str) -> String) -> Result<(), Failure> {
    use time::macros::date;
    use vouch_domain::evidence::{EvidenceInput, EvidenceSource};
    const REVIEW: &str = "user,system,role,decision,reviewer\naisha.bello,aws-prod,admin,keep,tom.eriksen\njordan.lee,aws-prod,developer,remove,tom.eriksen\nmei.tanaka,okta,user,keep,tom.eriksen\n";
    let records = [
        DemoEvidence {
            by: 3,
            title: "Access review, December–February",
            controls: &["IAM-08"],
            from: date!(2025 - 12 - 01),
            until: date!(2026 - 02 - 28),
            files: &[("access-review-2026-q1.csv", REVIEW)],
        },
        DemoEvidence {
            by: 3,
            title: "Access review, March–May",
            controls: &["IAM-08"],
            from: date!(2026 - 03 - 01),
            until: date!(2026 - 05 - 31),
            files: &[("access-review-2026-q2.csv", REVIEW)],
        },
        DemoEvidence {
            by: 3,
            title: "Access review, June–August",
            controls: &["IAM-08"],
            from: date!(2026 - 06 - 01),
            until: date!(2026 - 08 - 31),
            files: &[
                ("access-review-2026-q3.csv", REVIEW),
                (
                    "reviewer-sign-off.txt",
                    "Reviewed and approved by Tom Eriksen on 2026-09-08.\n",
                ),
            ],
        },
        DemoEvidence {
            by: 1,
            title: "Risk register, winter review",
            controls: &["RSK-03"],
            from: date!(2026 - 02 - 10),
            until: date!(2026 - 02 - 10),
            files: &[(
                "risk-register-2026-02.csv",
                "id,risk,likelihood,impact,owner\nR-1,Credential phishing,3,4,tom.eriksen\nR-2,Cloud misconfiguration,2,5,aisha.bello\n",
            )],
        },
        DemoEvidence {
            by: 1,
            title: "Risk register, summer review",
            controls: &["RSK-03"],
            from: date!(2026 - 08 - 12),
            until: date!(2026 - 08 - 12),
            files: &[(
                "risk-register-2026-08.csv",
                "id,risk,likelihood,impact,owner\nR-1,Credential phishing,2,4,tom.eriksen\nR-2,Cloud misconfiguration,2,5,aisha.bello\nR-3,Vendor outage,3,3,sofia.alvarez\n",
            )],
        },
        DemoEvidence {
            by: 1,
            title: "Annual risk assessment",
            controls: &["RSK-01", "RSK-02"],
            from: date!(2026 - 02 - 20),
            until: date!(2026 - 02 - 20),
            files: &[(
                "risk-assessment-2026.txt",
                "Lumen Health Analytics: annual risk assessment, approved by the leadership team.\n",
            )],
        },
        DemoEvidence {
            by: 2,
            title: "Restore tests of the production database",
            controls: &["BCD-03"],
            from: date!(2025 - 12 - 01),
            until: date!(2026 - 08 - 31),
            files: &[
                (
                    "restore-2026-01-14.log",
                    "restore rds-prod snapshot 2026-01-14: ok, 42 min\n",
                ),
                (
                    "restore-2026-04-09.log",
                    "restore rds-prod snapshot 2026-04-09: ok, 39 min\n",
                ),
                (
                    "restore-2026-07-16.log",
                    "restore rds-prod snapshot 2026-07-16: ok, 44 min\n",
                ),
            ],
        },
        DemoEvidence {
            by: 2,
            title: "Penetration test report",
            controls: &["VUL-04"],
            from: date!(2026 - 06 - 10),
            until: date!(2026 - 06 - 10),
            files: &[(
                "pentest-summary-2026.txt",
                "External penetration test, June 2026: 0 critical, 1 high (fixed 2026-06-24), 3 medium.\n",
            )],
        },
        DemoEvidence {
            by: 2,
            title: "Monthly patch compliance reports",
            controls: &["VUL-06"],
            from: date!(2025 - 12 - 01),
            until: date!(2026 - 10 - 31),
            files: &[(
                "patch-compliance-2025-12-to-2026-10.csv",
                "month,hosts,compliant\n2025-12,84,84\n2026-01,86,85\n2026-02,86,86\n2026-03,88,88\n2026-04,88,87\n2026-05,90,90\n2026-06,91,91\n2026-07,91,91\n2026-08,93,92\n2026-09,93,93\n2026-10,95,95\n",
            )],
        },
        DemoEvidence {
            by: 2,
            title: "Pull requests merged with review",
            controls: &["CHG-02", "CHG-03"],
            from: date!(2025 - 12 - 01),
            until: date!(2026 - 10 - 31),
            files: &[(
                "merged-prs.csv",
                "repo,pr,author,approver,checks\nlumen-platform,1412,aisha.bello,tom.eriksen,passed\nlumen-platform,1419,tom.eriksen,aisha.bello,passed\n",
            )],
        },
        DemoEvidence {
            by: 1,
            title: "Information security policy suite, approved",
            controls: &["GOV-01"],
            from: date!(2026 - 01 - 20),
            until: date!(2026 - 01 - 20),
            files: &[(
                "policy-approval-2026.txt",
                "The security policy suite v4 was approved by the CEO on 2026-01-20.\n",
            )],
        },
        DemoEvidence {
            by: 4,
            title: "Security awareness training completion",
            controls: &["HR-03"],
            from: date!(2026 - 02 - 27),
            until: date!(2026 - 02 - 27),
            files: &[(
                "training-completion-2026.csv",
                "person,completed\ndaniel.okafor,2026-02-12\nmei.tanaka,2026-02-15\nlucas.moreau,2026-02-20\n",
            )],
        },
        DemoEvidence {
            by: 6,
            title: "My security training certificate",
            controls: &["HR-03"],
            from: date!(2026 - 02 - 15),
            until: date!(2026 - 02 - 15),
            files: &[(
                "certificate-mei-tanaka.txt",
                "Certificate of completion: Security Awareness 2026, Mei Tanaka.\n",
            )],
        },
    ];
    for r in &records {
        let actor = person(find, &PEOPLE[r.by]);
        let mut files = Vec::new();
        for (name, body) in r.files {
            let bytes = bytes::Bytes::from_static(body.as_bytes());
            let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes)]);
            files.push(app.stage_file(&actor, name, "", stream).await?);
        }
        let input = EvidenceInput {
            title: r.title.into(),
            description: String::new(),
            link: None,
            controls: r.controls.iter().map(|c| c.to_string()).collect(),
            period_start: Some(r.from),
            period_end: Some(r.until),
        };
        app.add_evidence(&actor, input, EvidenceSource::Upload, None, files)
            .await?;
    }
    // A correction: the assessment was approved in March, not February.
    let marcus = person(find, &PEOPLE[1]);
    let list = app.list_evidence(&marcus, Some("RSK-01")).await?;
    if let Some(e) = list.first() {
        let c = &e.current;
        let input = EvidenceInput {
            title: c.title.clone(),
            description: "Approved at the leadership meeting of 3 March 2026.".into(),
            link: None,
            controls: c.controls.clone(),
            period_start: Some(date!(2026 - 03 - 03)),
            period_end: None,
        };
        app.revise_evidence(
            &marcus,
            &e.id,
            input,
            "The assessment was approved on 3 March, not 20 February",
            vouch_app::evidence::RevisionFiles::Keep,
        )
        .await?;
    }
    Ok(())
}

pub async fn run(
    data_dir: &Option<PathBuf>,
    database_url: Option<String>,
    config_file: Option<PathBuf>,
    listen: Option<String>,
    no_serve: bool,
    as_json: bool,
) -> Result<Exit, Failure> {
    let dir = data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("./vouch-demo"));
    prepare_folder(&dir)?;
    let over = Overrides {
        config_file,
        data_dir: Some(dir.clone()),
        database_url,
        listen,
    };
    let (cfg, rep) = config::load(
        &over,
        &crate::cli::env_map()
            .into_iter()
            .filter(|(k, _)| k != "VOUCH_DATA_DIR")
            .collect(),
    );
    let Some(cfg) = cfg else {
        return Err(Failure::usage(format!(
            "the configuration is not valid:\n  - {}",
            rep.errors.join("\n  - ")
        )));
    };
    let app = crate::serve::open_app(&cfg).await?;
    if app.list_users(&crate::cli::cli_actor()).await?.is_empty() {
        seed(&app, &dir).await?;
    } else {
        return Err(Failure::usage(format!(
            "the demo database at {} is not empty; give an empty --database-url or remove it",
            crate::serve::redact(&cfg.database_url)
        )));
    }
    let login = format!("{} / {DEMO_PASSWORD}", PEOPLE[0].email);
    if no_serve {
        if as_json {
            json(
                &serde_json::json!({"data_dir": dir, "url": cfg.public_url, "email": PEOPLE[0].email, "password": DEMO_PASSWORD}),
            );
        } else {
            println!("Demo data is ready in {}.", dir.display());
            println!("Serve it with: vouch serve --data-dir {}", dir.display());
            println!("Sign in as {login}");
        }
        return Ok(Exit::Ok);
    }
    let banner = format!(
        "Vouch demo (Lumen Health Analytics) is running at {url}\n  Sign in: {login} (administrator)\n  Also try {lead} (compliance lead) or {aud} (auditor), same password.\n  Press Ctrl-C to stop.",
        url = cfg.public_url,
        lead = PEOPLE[1].email,
        aud = PEOPLE[10].email,
    );
    crate::serve::run(&cfg, app, Some(banner)).await?;
    Ok(Exit::Ok)
}

/// Makes `dir` a fresh, empty demo folder. A folder is only ever cleared if an earlier demo
/// marked it as a demo folder, so a mistyped `--data-dir` cannot wipe real data.
fn prepare_folder(dir: &std::path::Path) -> Result<(), Failure> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            if !dir.join(MARKER).exists() {
                return Err(Failure::usage(format!(
                    "{} exists and is not a demo folder; refusing to replace it. Choose another with --data-dir",
                    dir.display()
                )));
            }
            std::fs::remove_dir_all(dir).map_err(|e| {
                Failure::unavailable(format!("cannot clear {}: {e}", dir.display()))
            })?;
        }
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::unavailable(format!("cannot create {}: {e}", dir.display())))?;
    std::fs::write(
        dir.join(MARKER),
        "This folder holds Vouch demo data and is replaced by every `vouch demo`.\n",
    )
    .map_err(|e| Failure::unavailable(format!("cannot write in {}: {e}", dir.display())))?;
    Ok(())
}
