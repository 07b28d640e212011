//! The AWS IAM credential report.
use crate::people::World;
use crate::{Ctx, Out, fmt_aws};
use rand::Rng;
use std::collections::BTreeMap;
use std::io;

/// The CI deployment user nobody owns.
pub const DEPLOY_BOT: &str = "deploy-bot";

pub const HEADER: [&str; 22] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

const REGIONS: [&str; 4] = ["us-east-1", "us-east-1", "us-west-2", "eu-west-1"];
const SERVICES: [&str; 8] = [
    "s3",
    "sts",
    "ec2",
    "ecr",
    "logs",
    "dynamodb",
    "secretsmanager",
    "lambda",
];
const NA: &str = "N/A";

fn tf(b: bool) -> String {
    if b { "true" } else { "false" }.into()
}

struct Key {
    active: bool,
    rotated: i64,
    used: Option<(i64, &'static str, &'static str)>,
}

fn key_cells(k: Option<&Key>) -> [String; 5] {
    match k {
        None => [tf(false), NA.into(), NA.into(), NA.into(), NA.into()],
        Some(k) => match k.used {
            Some((t, region, service)) => [
                tf(k.active),
                fmt_aws(k.rotated),
                fmt_aws(t),
                region.into(),
                service.into(),
            ],
            None => [
                tf(k.active),
                fmt_aws(k.rotated),
                NA.into(),
                NA.into(),
                NA.into(),
            ],
        },
    }
}

/// Writes the report; returns the console user without MFA.
pub fn write_report(
    ctx: &Ctx,
    world: &World,
    out: &mut Out,
    counts: &mut BTreeMap<String, u64>,
) -> io::Result<String> {
    let acct = &ctx.company.aws_account_id;
    let now = ctx.now - 1800;
    let day = 86_400;
    let opened = crate::Ctx::date_secs(ctx.days_ago(5 * 365 + 40)) + 10 * 3600 + 1234;
    let mut w = csv::Writer::from_writer(&mut *out);
    w.write_record(HEADER)?;
    let mut rng = ctx.rng(20, 0);
    let root_used = now - rng.gen_range(20..60) * day - rng.gen_range(0..day);
    let mut root = vec![
        "<root_account>".to_string(),
        format!("arn:aws:iam::{acct}:root"),
        fmt_aws(opened),
        "not_supported".into(),
        fmt_aws(root_used),
        "not_supported".into(),
        "not_supported".into(),
        tf(true),
    ];
    root.extend(key_cells(None));
    root.extend(key_cells(None));
    root.extend([tf(false), NA.into(), tf(false), NA.into()]);
    w.write_record(&root)?;

    // Users in name order, as AWS lists them; the bot among them.
    let mut users: Vec<(String, Option<usize>)> = (0..world.people.len())
        .filter(|&i| world.aws_user(i))
        .map(|i| (world.people[i].local.clone(), Some(i)))
        .collect();
    users.push((DEPLOY_BOT.to_string(), None));
    users.sort();
    let mut console = 0u64;
    for (name, who) in &users {
        let mut rng = ctx.rng(21, who.map_or(u64::MAX, |i| i as u64));
        let mut row = vec![name.clone(), format!("arn:aws:iam::{acct}:user/{name}")];
        match who {
            None => {
                // A deploy user made in the account's first year; its first key never rotated.
                let created = opened + 200 * day + 3 * 3600 + 17;
                row.push(fmt_aws(created));
                row.extend([tf(false), NA.into(), NA.into(), NA.into(), tf(false)]);
                let k1 = Key {
                    active: true,
                    rotated: created + 120,
                    used: Some((now - rng.gen_range(600..7200), "us-east-1", "ecr")),
                };
                let k2 = Key {
                    active: true,
                    rotated: now - 200 * day - rng.gen_range(0..day),
                    used: None,
                };
                row.extend(key_cells(Some(&k1)));
                row.extend(key_cells(Some(&k2)));
            }
            Some(i) => {
                let p = &world.people[*i];
                let start = crate::Ctx::date_secs(p.start) + 9 * 3600;
                let created =
                    start.max(opened) + rng.gen_range(0..5) * day + rng.gen_range(0..28_800);
                row.push(fmt_aws(created));
                if p.aws_console {
                    console += 1;
                    let changed = (created + rng.gen_range(60..600))
                        .max(now - rng.gen_range(30..400) * day - rng.gen_range(0..day))
                        .min(now - day);
                    let used = match rng.gen_range(0..40) {
                        0 => "no_information".to_string(),
                        1 => NA.to_string(),
                        _ => fmt_aws(now - rng.gen_range(0..45 * day).min(now - changed - 60)),
                    };
                    row.extend([tf(true), used, fmt_aws(changed), NA.into(), tf(p.aws_mfa)]);
                } else {
                    row.extend([tf(false), NA.into(), NA.into(), NA.into(), tf(false)]);
                }
                let k1 = (!p.aws_console || rng.gen_bool(0.45)).then(|| {
                    let rotated = (now - rng.gen_range(5..500) * day - rng.gen_range(0..day))
                        .max(created + 300);
                    Key {
                        active: rng.gen_bool(0.9),
                        rotated,
                        used: rng.gen_bool(0.85).then(|| {
                            (
                                (now - rng.gen_range(300..40 * day)).max(rotated + 60),
                                REGIONS[rng.gen_range(0..REGIONS.len())],
                                SERVICES[rng.gen_range(0..SERVICES.len())],
                            )
                        }),
                    }
                });
                let k2 = (k1.is_some() && rng.gen_bool(0.1)).then(|| {
                    let rotated = now - rng.gen_range(1..60) * day - rng.gen_range(0..day);
                    Key {
                        active: true,
                        rotated,
                        used: Some((
                            (now - rng.gen_range(300..day)).max(rotated + 60),
                            "us-east-1",
                            "sts",
                        )),
                    }
                });
                row.extend(key_cells(k1.as_ref()));
                row.extend(key_cells(k2.as_ref()));
            }
        }
        row.extend([tf(false), NA.into(), tf(false), NA.into()]);
        w.write_record(&row)?;
    }
    w.flush()?;
    drop(w);
    io::Write::flush(out)?;
    counts.insert("aws_users".into(), users.len() as u64);
    counts.insert("aws_console_users".into(), console);
    Ok(world.people[world.planted_console].local.clone())
}
