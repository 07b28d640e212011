//! Vulnerability scanner reports: Trivy JSON (one file per image) and Grype JSON.
use crate::people::World;
use crate::{Ctx, OldCritical, Size, fmt_ms, hex};
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::io::{self, Write};
use std::path::Path;

const DAY: i64 = 86_400;

/// (package, installed, fixed)
const APK: [(&str, &str, &str); 14] = [
    ("libssl3", "3.1.4-r5", "3.1.7-r0"),
    ("libcrypto3", "3.1.4-r5", "3.1.7-r0"),
    ("curl", "8.5.0-r0", "8.9.1-r0"),
    ("libcurl", "8.5.0-r0", "8.9.1-r0"),
    ("busybox", "1.36.1-r15", "1.36.1-r17"),
    ("ssl_client", "1.36.1-r15", "1.36.1-r17"),
    ("zlib", "1.3-r2", "1.3.1-r0"),
    ("libexpat", "2.6.0-r0", "2.6.3-r0"),
    ("musl", "1.2.4_git20230717-r4", "1.2.4_git20230717-r5"),
    ("ncurses-libs", "6.4_p20231125-r0", "6.4_p20240420-r0"),
    ("krb5-libs", "1.21.2-r0", "1.21.3-r0"),
    ("libxml2", "2.11.7-r0", "2.11.8-r1"),
    ("sqlite-libs", "3.44.2-r0", "3.44.2-r1"),
    ("c-ares", "1.24.0-r1", "1.27.0-r0"),
];
const NPM: [(&str, &str, &str); 12] = [
    ("lodash", "4.17.20", "4.17.21"),
    ("axios", "1.6.0", "1.7.4"),
    ("express", "4.18.2", "4.20.0"),
    ("jsonwebtoken", "8.5.1", "9.0.0"),
    ("semver", "7.5.1", "7.5.2"),
    ("ws", "8.13.0", "8.17.1"),
    ("path-to-regexp", "0.1.7", "0.1.10"),
    ("body-parser", "1.20.1", "1.20.3"),
    ("cookie", "0.5.0", "0.7.0"),
    ("follow-redirects", "1.15.2", "1.15.6"),
    ("braces", "3.0.2", "3.0.3"),
    ("micromatch", "4.0.5", "4.0.8"),
];
const PIP: [(&str, &str, &str); 10] = [
    ("requests", "2.31.0", "2.32.0"),
    ("urllib3", "1.26.18", "1.26.19"),
    ("cryptography", "41.0.7", "42.0.4"),
    ("jinja2", "3.1.2", "3.1.4"),
    ("idna", "3.6", "3.7"),
    ("certifi", "2023.7.22", "2024.7.4"),
    ("setuptools", "65.5.1", "70.0.0"),
    ("werkzeug", "2.3.7", "3.0.6"),
    ("pillow", "10.0.1", "10.3.0"),
    ("aiohttp", "3.9.1", "3.9.4"),
];
const DEB: [(&str, &str, &str); 10] = [
    ("libc6", "2.36-9+deb12u4", "2.36-9+deb12u7"),
    ("openssl", "3.0.11-1~deb12u2", "3.0.14-1~deb12u1"),
    ("libssl3", "3.0.11-1~deb12u2", "3.0.14-1~deb12u1"),
    ("libcurl4", "7.88.1-10+deb12u5", "7.88.1-10+deb12u7"),
    ("libexpat1", "2.5.0-1", "2.5.0-1+deb12u1"),
    ("libgnutls30", "3.7.9-2+deb12u1", "3.7.9-2+deb12u3"),
    ("perl-base", "5.36.0-7+deb12u1", ""),
    ("libsqlite3-0", "3.40.1-2", ""),
    ("tar", "1.34+dfsg-1.2", ""),
    ("login", "1:4.13+dfsg1-1", ""),
];

const ISSUES: [(&str, &str); 10] = [
    ("heap-based buffer overflow", "CWE-122"),
    ("denial of service via crafted input", "CWE-400"),
    ("use after free", "CWE-416"),
    ("out-of-bounds read", "CWE-125"),
    ("improper certificate validation", "CWE-295"),
    ("prototype pollution", "CWE-1321"),
    ("regular expression denial of service", "CWE-1333"),
    ("path traversal", "CWE-22"),
    ("integer overflow", "CWE-190"),
    ("server-side request forgery", "CWE-918"),
];

const TRIVY_IMAGES: [(&str, &str); 6] = [
    ("patient-portal", "npm"),
    ("care-api", "npm"),
    ("scheduling-service", "npm"),
    ("fhir-gateway", "npm"),
    ("billing-service", "npm"),
    ("notifications", "npm"),
];

pub struct Scans {
    pub files: Vec<(String, String)>,
    pub old_critical: OldCritical,
}

/// Severity: (trivy name, grype name, score range).
fn severity(r: &mut StdRng) -> (&'static str, &'static str, Option<(f64, f64)>) {
    match r.gen_range(0..100) {
        0..=4 => ("CRITICAL", "Critical", Some((9.0, 10.0))),
        5..=26 => ("HIGH", "High", Some((7.0, 8.9))),
        27..=71 => ("MEDIUM", "Medium", Some((4.0, 6.9))),
        72..=94 => ("LOW", "Low", Some((1.0, 3.9))),
        _ => ("UNKNOWN", "Unknown", None),
    }
}

fn vector(score: f64) -> &'static str {
    if score >= 9.0 {
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    } else if score >= 7.0 {
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
    } else if score >= 4.0 {
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N"
    } else {
        "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:L/I:N/A:N"
    }
}

fn ghsa(r: &mut StdRng) -> String {
    const A: &[u8] = b"23456789cfghjmpqrvwx";
    let mut part = || -> String { (0..4).map(|_| A[r.gen_range(0..A.len())] as char).collect() };
    format!("GHSA-{}-{}-{}", part(), part(), part())
}

/// One finding before it is rendered for a scanner.
struct Finding {
    id: String,
    pkg: &'static str,
    installed: &'static str,
    fixed: &'static str,
    sev: (&'static str, &'static str, Option<(f64, f64)>),
    score: Option<f64>,
    published: i64,
    issue: (&'static str, &'static str),
}

fn finding(
    r: &mut StdRng,
    ctx: &Ctx,
    counter: &mut u64,
    catalogue: &[(&'static str, &'static str, &'static str)],
    use_ghsa: bool,
    seen: &mut HashSet<String>,
) -> Finding {
    let (pkg, installed, fixed) = catalogue[r.gen_range(0..catalogue.len())];
    let sev = severity(r);
    let score = sev
        .2
        .map(|(lo, hi)| (r.gen_range(lo..=hi) * 10.0_f64).round() / 10.0);
    let published = ctx.now - r.gen_range(20..3 * 365) * DAY - r.gen_range(0..DAY);
    let year = crate::parts(published).year();
    *counter += 1;
    let id = loop {
        let id = if use_ghsa {
            ghsa(r)
        } else {
            format!("CVE-{year}-{}", 20_000 + *counter * 3 + r.gen_range(0..3))
        };
        if seen.insert(id.clone()) {
            break id;
        }
    };
    Finding {
        id,
        pkg,
        installed,
        fixed,
        sev,
        score,
        published,
        issue: ISSUES[r.gen_range(0..ISSUES.len())],
    }
}

pub fn write_reports(
    ctx: &Ctx,
    _world: &World,
    size: &Size,
    dir: &Path,
    counts: &mut BTreeMap<String, u64>,
) -> io::Result<Scans> {
    let total = size.vulnerabilities.max(1);
    let n_trivy = (total * 3).div_ceil(5);
    let n_grype = total - n_trivy;
    let n_images = (n_trivy / 15).clamp(1, TRIVY_IMAGES.len());
    let registry = &ctx.company.registry;
    let mut files = Vec::new();
    let mut counter = 0u64;
    let mut seen = HashSet::new();
    let mut old_critical = None;

    for (k, (image, _)) in TRIVY_IMAGES.iter().take(n_images).enumerate() {
        let name = format!("trivy-{image}.json");
        let mut w = crate::create(dir, &name)?;
        let mut r = ctx.rng(60, k as u64);
        let tag = format!("{}.{}.{}", 1 + k, r.gen_range(10..60), r.gen_range(0..9));
        let artifact = format!("{registry}/{image}:{tag}");
        let digest = hex(&mut r, 64);
        let diff_ids: Vec<String> = (0..4)
            .map(|_| format!("sha256:{}", hex(&mut r, 64)))
            .collect();
        let created_at = format!(
            "{}.{:09}Z",
            crate::fmt_z(ctx.now - 3600 + k as i64 * 97).trim_end_matches('Z'),
            r.gen_range(0..1_000_000_000u64)
        );
        let head = json!({
            "SchemaVersion": 2,
            "CreatedAt": created_at,
            "ArtifactName": artifact,
            "ArtifactType": "container_image",
            "Metadata": {
                "OS": {"Family": "alpine", "Name": "3.19.1"},
                "ImageID": format!("sha256:{}", hex(&mut r, 64)),
                "DiffIDs": diff_ids,
                "RepoTags": [artifact],
                "RepoDigests": [format!("{registry}/{image}@sha256:{digest}")],
                "ImageConfig": {"architecture": "amd64", "os": "linux"},
            },
        });
        // Write the head without its closing brace, then the results one by one.
        let head = serde_json::to_string(&head)?;
        w.write_all(&head.as_bytes()[..head.len() - 1])?;
        w.write_all(b",\"Results\":[")?;
        let here = n_trivy / n_images + usize::from(k < n_trivy % n_images);
        let n_os = (here * 2 / 5).max(1).min(here);
        let targets = [
            (
                format!("{artifact} (alpine 3.19.1)"),
                "os-pkgs",
                "alpine",
                n_os,
            ),
            (
                "app/package-lock.json".to_string(),
                "lang-pkgs",
                "npm",
                here - n_os,
            ),
        ];
        for (ti, (target, class, typ, count)) in targets.iter().enumerate() {
            if ti > 0 {
                w.write_all(b",")?;
            }
            write!(
                w,
                "{{\"Target\":{},\"Class\":\"{class}\",\"Type\":\"{typ}\",\"Vulnerabilities\":[",
                serde_json::to_string(target)?
            )?;
            for j in 0..*count {
                let mut r = ctx.rng(61, (k as u64) << 40 | (ti as u64) << 32 | j as u64);
                let os = *class == "os-pkgs";
                let mut f = finding(
                    &mut r,
                    ctx,
                    &mut counter,
                    if os { &APK } else { &NPM },
                    false,
                    &mut seen,
                );
                let planted = k == 0 && ti == 0 && j == 0;
                if planted {
                    f.pkg = "libexpat";
                    f.installed = "2.6.0-r0";
                    f.fixed = "2.6.3-r0";
                    f.sev = ("CRITICAL", "Critical", Some((9.8, 9.8)));
                    f.score = Some(9.8);
                    f.published = ctx.now - 124 * DAY - 3 * 3600;
                    f.issue = ("integer overflow in XML_GetBuffer", "CWE-190");
                    // A CVE of the year it was published.
                    let number = f.id.rsplit('-').next().unwrap_or("20001").to_string();
                    f.id = format!("CVE-{}-{number}", crate::parts(f.published).year());
                }
                let status = if planted {
                    "fixed"
                } else {
                    match r.gen_range(0..100) {
                        0..=69 => "fixed",
                        70..=89 => "affected",
                        90..=94 => "will_not_fix",
                        _ => "fix_deferred",
                    }
                };
                let fixed = if status == "fixed" { f.fixed } else { "" };
                let purl = if os {
                    format!(
                        "pkg:apk/alpine/{}@{}?arch=x86_64&distro=3.19.1",
                        f.pkg, f.installed
                    )
                } else {
                    format!("pkg:npm/{}@{}", f.pkg, f.installed)
                };
                let mut v = json!({
                    "VulnerabilityID": f.id,
                    "PkgID": format!("{}@{}", f.pkg, f.installed),
                    "PkgName": f.pkg,
                    "PkgIdentifier": {"PURL": purl, "UID": hex(&mut r, 16)},
                    "InstalledVersion": f.installed,
                    "Status": status,
                    "Layer": {"DiffID": format!("sha256:{}", hex(&mut r, 64))},
                    "SeveritySource": if os { "nvd" } else { "ghsa" },
                    "PrimaryURL": format!("https://avd.aquasec.com/nvd/{}", f.id.to_lowercase()),
                    "DataSource": if os {
                        json!({"ID": "alpine", "Name": "Alpine Secdb", "URL": "https://secdb.alpinelinux.org/"})
                    } else {
                        json!({"ID": "ghsa", "Name": "GitHub Security Advisory npm", "URL": "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Anpm"})
                    },
                    "Title": format!("{}: {}", f.pkg, f.issue.0),
                    "Description": format!("A {} was found in {} before {}.", f.issue.0, f.pkg, f.fixed.split('-').next().unwrap_or(f.fixed)),
                    "Severity": f.sev.0,
                    "CweIDs": [f.issue.1],
                    "References": [format!("https://nvd.nist.gov/vuln/detail/{}", f.id)],
                    "PublishedDate": fmt_ms(f.published),
                    "LastModifiedDate": fmt_ms((f.published + r.gen_range(1..200) * DAY).min(ctx.now - DAY)),
                });
                if !fixed.is_empty() {
                    v["FixedVersion"] = json!(fixed);
                }
                if let Some(score) = f.score {
                    let level = match f.sev.0 {
                        "CRITICAL" => 4,
                        "HIGH" => 3,
                        "MEDIUM" => 2,
                        _ => 1,
                    };
                    v["VendorSeverity"] = json!({"nvd": level});
                    v["CVSS"] = json!({"nvd": {"V3Vector": vector(score), "V3Score": score}});
                }
                if j > 0 {
                    w.write_all(b",")?;
                }
                serde_json::to_writer(&mut w, &v)?;
                if planted {
                    old_critical = Some(OldCritical {
                        file: name.clone(),
                        vulnerability_id: f.id.clone(),
                        package: f.pkg.into(),
                        installed_version: f.installed.into(),
                        fixed_version: f.fixed.into(),
                        published: crate::fmt_z(f.published),
                        days_old: (ctx.now - f.published) / DAY,
                    });
                }
            }
            w.write_all(b"]}")?;
        }
        w.write_all(b"]}")?;
        w.flush()?;
        files.push((
            name,
            format!("Trivy JSON report (SchemaVersion 2) of the image {artifact}"),
        ));
    }
    counts.insert("vulnerabilities_trivy".into(), n_trivy as u64);

    // Grype: one Python data-pipeline image on Debian.
    let name = "grype.json".to_string();
    let mut w = crate::create(dir, &name)?;
    let mut r = ctx.rng(62, 0);
    let image = format!(
        "{registry}/data-pipeline:2.{}.{}",
        r.gen_range(1..20),
        r.gen_range(0..9)
    );
    w.write_all(b"{\"matches\":[")?;
    for j in 0..n_grype {
        let mut r = ctx.rng(63, j as u64);
        let python = r.gen_bool(0.55);
        let f = finding(
            &mut r,
            ctx,
            &mut counter,
            if python { &PIP } else { &DEB },
            python,
            &mut seen,
        );
        let fix_state = if f.fixed.is_empty() {
            if r.gen_bool(0.3) {
                "wont-fix"
            } else {
                "not-fixed"
            }
        } else {
            "fixed"
        };
        let versions: Vec<&str> = if fix_state == "fixed" {
            vec![f.fixed]
        } else {
            vec![]
        };
        let (namespace, data_source, matcher, ptype, path, purl) = if python {
            (
                "github:language:python".to_string(),
                format!("https://github.com/advisories/{}", f.id),
                "python-matcher",
                "python",
                format!(
                    "/usr/local/lib/python3.11/site-packages/{}-{}.dist-info/METADATA",
                    f.pkg, f.installed
                ),
                format!("pkg:pypi/{}@{}", f.pkg, f.installed),
            )
        } else {
            (
                "debian:distro:debian:12".to_string(),
                format!("https://security-tracker.debian.org/tracker/{}", f.id),
                "dpkg-matcher",
                "deb",
                format!("/var/lib/dpkg/status.d/{}", f.pkg),
                format!(
                    "pkg:deb/debian/{}@{}?arch=amd64&distro=debian-12",
                    f.pkg, f.installed
                ),
            )
        };
        let cvss: Vec<Value> = f
            .score
            .map(|s| {
                json!({"version": "3.1", "vector": vector(s), "metrics": {"baseScore": s, "exploitabilityScore": 3.9, "impactScore": (s - 3.9f64).max(1.4)}, "vendorMetadata": {}})
            })
            .into_iter()
            .collect();
        let description = format!("A {} in {}.", f.issue.0, f.pkg);
        let related: Vec<Value> = if python {
            let cve = format!(
                "CVE-{}-{}",
                crate::parts(f.published).year(),
                20_000 + counter * 3 + 1
            );
            vec![json!({
                "id": cve,
                "dataSource": format!("https://nvd.nist.gov/vuln/detail/{cve}"),
                "namespace": "nvd:cpe",
                "severity": f.sev.1,
                "urls": [],
                "description": description,
                "cvss": cvss,
            })]
        } else {
            vec![]
        };
        let m = json!({
            "vulnerability": {
                "id": f.id,
                "dataSource": data_source,
                "namespace": namespace,
                "severity": f.sev.1,
                "urls": [data_source],
                "description": description,
                "cvss": cvss,
                "fix": {"versions": versions, "state": fix_state},
                "advisories": [],
            },
            "relatedVulnerabilities": related,
            "matchDetails": [{
                "type": "exact-direct-match",
                "matcher": matcher,
                "searchedBy": {"language": if python {"python"} else {""}, "namespace": namespace, "package": {"name": f.pkg, "version": f.installed}},
                "found": {"vulnerabilityID": f.id, "versionConstraint": if f.fixed.is_empty() { "none (unknown)".to_string() } else { format!("< {} ({})", f.fixed, if python {"python"} else {"deb"}) }},
            }],
            "artifact": {
                "id": hex(&mut r, 16),
                "name": f.pkg,
                "version": f.installed,
                "type": ptype,
                "locations": [{"path": path, "layerID": format!("sha256:{}", hex(&mut r, 64))}],
                "language": if python {"python"} else {""},
                "licenses": [],
                "cpes": [format!("cpe:2.3:a:{0}:{0}:{1}:*:*:*:*:*:*:*", f.pkg, f.installed)],
                "purl": purl,
                "upstreams": [],
            },
        });
        if j > 0 {
            w.write_all(b",")?;
        }
        serde_json::to_writer(&mut w, &m)?;
    }
    let tail = json!({
        "ignoredMatches": [],
        "source": {"type": "image", "target": {
            "userInput": image,
            "imageID": format!("sha256:{}", hex(&mut r, 64)),
            "manifestDigest": format!("sha256:{}", hex(&mut r, 64)),
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "tags": [image],
            "imageSize": 412_345_678u64 + r.gen_range(0..10_000_000u64),
            "repoDigests": [],
            "architecture": "amd64",
            "os": "linux",
        }},
        "distro": {"name": "debian", "version": "12", "idLike": null},
        "descriptor": {
            "name": "grype",
            "version": "0.82.2",
            "configuration": {"output": ["json"], "only-fixed": false},
            "db": {"built": fmt_ms(ctx.now - 20 * 3600), "schemaVersion": 5, "location": "/root/.cache/grype/db/5", "checksum": format!("sha256:{}", hex(&mut r, 64)), "error": null},
            "timestamp": format!("{}.{:09}Z", crate::fmt_z(ctx.now - 1800).trim_end_matches('Z'), r.gen_range(0..1_000_000_000u64)),
        },
    });
    let tail = serde_json::to_string(&tail)?;
    w.write_all(b"],")?;
    w.write_all(&tail.as_bytes()[1..])?;
    w.flush()?;
    files.push((name, format!("Grype JSON report of the image {image}")));
    counts.insert("vulnerabilities_grype".into(), n_grype as u64);
    counts.insert("vulnerabilities".into(), (n_trivy + n_grype) as u64);
    Ok(Scans {
        files,
        old_critical: old_critical.expect("the first Trivy report has the planted finding"),
    })
}
