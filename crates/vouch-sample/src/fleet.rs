//! Fleet hosts with their policy responses.
use crate::people::{Status, World};
use crate::{Ctx, Out, Size, fmt_z, hex, upper_alnum};
use rand::Rng;
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::io::{self, Write};

/// (id, name, query, platform, critical, what it checks)
type Policy = (u32, &'static str, &'static str, &'static str, bool, Check);

#[derive(Clone, Copy, PartialEq)]
enum Check {
    Disk,
    ScreenLock,
    Firewall,
    OsUpToDate,
}

const POLICIES: [Policy; 10] = [
    (
        1,
        "Full disk encryption enabled (macOS)",
        "SELECT 1 FROM disk_encryption WHERE user_uuid IS NOT '' AND filevault_status = 'on' LIMIT 1;",
        "darwin",
        true,
        Check::Disk,
    ),
    (
        2,
        "Full disk encryption enabled (Windows)",
        "SELECT 1 FROM bitlocker_info WHERE drive_letter='C:' AND protection_status=1;",
        "windows",
        true,
        Check::Disk,
    ),
    (
        3,
        "Full disk encryption enabled (Linux)",
        "SELECT 1 FROM (SELECT encrypted, path FROM disk_encryption FULL OUTER JOIN mounts ON mounts.device_alias = disk_encryption.name) WHERE encrypted = 1 AND path = '/';",
        "linux",
        true,
        Check::Disk,
    ),
    (
        4,
        "Screen lock enabled (macOS)",
        "SELECT 1 FROM managed_policies WHERE name='askForPassword' AND value='1';",
        "darwin",
        false,
        Check::ScreenLock,
    ),
    (
        5,
        "Screen lock enabled (Windows)",
        "SELECT 1 FROM registry WHERE path = 'HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Policies\\System\\InactivityTimeoutSecs' AND CAST(data as INTEGER) <= 1800;",
        "windows",
        false,
        Check::ScreenLock,
    ),
    (
        6,
        "Firewall enabled (macOS)",
        "SELECT 1 FROM alf WHERE global_state >= 1;",
        "darwin",
        false,
        Check::Firewall,
    ),
    (
        7,
        "Firewall enabled (Windows)",
        "SELECT 1 FROM windows_security_center WHERE firewall = 'Good';",
        "windows",
        false,
        Check::Firewall,
    ),
    (
        8,
        "Operating system up to date (macOS)",
        "SELECT 1 FROM os_version WHERE version >= '14.7';",
        "darwin",
        false,
        Check::OsUpToDate,
    ),
    (
        9,
        "Operating system up to date (Windows)",
        "SELECT 1 FROM os_version WHERE build >= '22631';",
        "windows",
        false,
        Check::OsUpToDate,
    ),
    (
        10,
        "Operating system up to date (Linux)",
        "SELECT 1 FROM os_version WHERE version >= '22.04';",
        "linux",
        false,
        Check::OsUpToDate,
    ),
];

fn describe(c: Check) -> (&'static str, &'static str) {
    match c {
        Check::Disk => (
            "Checks that the startup disk is encrypted.",
            "Turn on FileVault (macOS), BitLocker (Windows) or LUKS (Linux) for the system disk.",
        ),
        Check::ScreenLock => (
            "Checks that the screen locks after inactivity and asks for a password.",
            "Apply the screen-lock configuration profile or group policy.",
        ),
        Check::Firewall => (
            "Checks that the host firewall is on.",
            "Turn the firewall on in System Settings or Windows Security.",
        ),
        Check::OsUpToDate => (
            "Checks that the operating system is at least the supported minimum version.",
            "Install the pending operating system update and restart.",
        ),
    }
}

/// Writes the listing; returns the serial of the planted unencrypted device.
pub fn write_hosts(
    ctx: &Ctx,
    world: &World,
    size: &Size,
    out: &mut Out,
    counts: &mut BTreeMap<String, u64>,
) -> io::Result<String> {
    let owners: Vec<usize> = (0..world.people.len())
        .filter(|&i| world.people[i].status != Status::Terminated)
        .collect();
    let n = size.devices.max(1);
    let mut serials = HashSet::new();
    let mut planted: Option<String> = None;
    let mut failing = 0u64;
    out.write_all(b"{\"hosts\":[")?;
    for k in 0..n {
        let mut r = ctx.rng(70, k as u64);
        let owner = &world.people[owners[k % owners.len()]];
        let round = k / owners.len();
        let roll = r.gen_range(0..100);
        let (platform, policy_platform) = if k == 0 || roll < 72 {
            ("darwin", "darwin")
        } else if roll < 90 {
            ("windows", "windows")
        } else {
            ("ubuntu", "linux")
        };
        let serial = loop {
            let s = match platform {
                "darwin" => upper_alnum(&mut r, 10),
                "windows" => format!("PF{}", upper_alnum(&mut r, 6)),
                _ => format!("R9{}", upper_alnum(&mut r, 6)),
            };
            if serials.insert(s.clone()) {
                break s;
            }
        };
        let base = format!(
            "{}-{}",
            owner.first.to_lowercase(),
            owner.last.to_lowercase()
        );
        let suffix = if round > 0 {
            format!("-{}", round + 1)
        } else {
            String::new()
        };
        let (hostname, model, vendor, os_version, os_ok) = match platform {
            "darwin" => {
                let (v, ok) = [
                    ("macOS 15.1", true),
                    ("macOS 15.0.1", true),
                    ("macOS 14.7.1", true),
                    ("macOS 14.6.1", false),
                    ("macOS 13.6.9", false),
                ][match r.gen_range(0..100) {
                    0..=41 => 0,
                    42..=72 => 1,
                    73..=93 => 2,
                    94..=97 => 3,
                    _ => 4,
                }];
                let model =
                    ["MacBookPro18,3", "Mac15,6", "Mac14,2", "MacBookAir10,1"][r.gen_range(0..4)];
                (format!("{base}-mbp{suffix}"), model, "Apple Inc.", v, ok)
            }
            "windows" => {
                let ok = r.gen_bool(0.94);
                let v = if ok {
                    "Windows 11 Pro 23H2 22631.4460"
                } else {
                    "Windows 11 Pro 22H2 22621.3880"
                };
                (
                    format!("LH-{}", upper_alnum(&mut r, 7)),
                    "Latitude 7440",
                    "Dell Inc.",
                    v,
                    ok,
                )
            }
            _ => {
                let ok = r.gen_bool(0.9);
                let v = if ok {
                    "Ubuntu 22.04.5 LTS"
                } else {
                    "Ubuntu 20.04.6 LTS"
                };
                (
                    format!("{base}-thinkpad{suffix}"),
                    "ThinkPad X1 Carbon Gen 11",
                    "LENOVO",
                    v,
                    ok,
                )
            }
        };
        let enrolled = ctx.now - r.gen_range(2..700) * 86_400 - r.gen_range(0..86_400);
        let stale = r.gen_bool(0.04);
        let seen = if stale {
            ctx.now - r.gen_range(10..60) * 86_400 - r.gen_range(0..86_400)
        } else {
            ctx.now - r.gen_range(30..7200)
        };
        let seen = seen.max(enrolled + 600);
        let fresh = r.gen_bool(0.02) && k != 0;
        let is_planted = k == 0;
        let mut fails = 0u32;
        let policies: Vec<_> = POLICIES
            .iter()
            .filter(|p| p.3 == policy_platform)
            .map(|&(id, name, query, plat, critical, check)| {
                let pass = match check {
                    Check::Disk => !is_planted && r.gen_bool(0.99),
                    Check::ScreenLock => r.gen_bool(0.97),
                    Check::Firewall => r.gen_bool(0.97),
                    Check::OsUpToDate => os_ok,
                };
                let response = if fresh {
                    ""
                } else if pass {
                    "pass"
                } else {
                    fails += 1;
                    "fail"
                };
                let (description, resolution) = describe(check);
                json!({
                    "id": id,
                    "name": name,
                    "query": query,
                    "description": description,
                    "resolution": resolution,
                    "platform": plat,
                    "critical": critical,
                    "response": response,
                })
            })
            .collect();
        if fails > 0 {
            failing += 1;
        }
        let mdm = match (platform, r.gen_range(0..100)) {
            ("ubuntu", _) => "Off",
            (_, 0..=79) => "On (automatic)",
            (_, 80..=95) => "On (manual)",
            _ => "Off",
        };
        let host = json!({
            "id": k + 1,
            "uuid": format!("{}-{}-{}-{}-{}", hex(&mut r, 8), hex(&mut r, 4), hex(&mut r, 4), hex(&mut r, 4), hex(&mut r, 12)).to_uppercase(),
            "hostname": hostname,
            "display_name": hostname,
            "computer_name": hostname,
            "hardware_serial": serial,
            "hardware_vendor": vendor,
            "hardware_model": model,
            "platform": platform,
            "os_version": os_version,
            "osquery_version": "5.13.1",
            "status": if stale { "offline" } else { "online" },
            "seen_time": fmt_z(seen),
            "last_enrolled_at": fmt_z(enrolled),
            "detail_updated_at": fmt_z(seen - r.gen_range(0..3600).min(seen - enrolled)),
            "team_id": null,
            "team_name": null,
            "mdm": {
                "enrollment_status": mdm,
                "server_url": if mdm == "Off" { serde_json::Value::Null } else { json!("https://fleet.lumenhealth.example/mdm/apple/mdm") },
                "name": if mdm == "Off" { "" } else { "Fleet" },
            },
            "device_mapping": [{"email": owner.email, "source": "google_chrome_profiles"}],
            "issues": {"failing_policies_count": fails, "total_issues_count": fails},
            "policies": policies,
        });
        if k > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, &host)?;
        if is_planted {
            planted = Some(serial);
        }
    }
    out.write_all(b"]}")?;
    out.flush()?;
    counts.insert("devices".into(), n as u64);
    counts.insert("devices_failing_a_policy".into(), failing);
    Ok(planted.expect("the first host is the planted one"))
}
