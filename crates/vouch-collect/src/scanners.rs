//! Vulnerability scanner reports: Trivy JSON and Grype JSON, each match a `vulnerability`.
//!
//! **Trivy** (`trivy image|fs|repo --format json`). Detection: an object with `SchemaVersion`
//! and `Results` or `ArtifactName`; or (Trivy before 0.20) an array of objects with `Target`.
//! `Results[].Vulnerabilities[]` become vulnerabilities in system `trivy`, keyed
//! `<ArtifactName>|<Target>|<PkgName>@<InstalledVersion>|<VulnerabilityID>` (plus `|<PkgPath>`
//! when Trivy gives one, so a library vendored at two paths stays two findings).
//! `Severity` must be one of `CRITICAL`, `HIGH`, `MEDIUM`, `LOW`, `UNKNOWN` (stored lower
//! case). Misconfigurations and secrets are counted in a warning, not imported.
//!
//! **Grype** (`grype <target> -o json`). Detection: an object with a `matches` array and a
//! `descriptor` or `source` object. `matches[]` become vulnerabilities in system `grype`,
//! keyed `<source target>|<first location path>|<artifact name>@<version>|<vulnerability id>`.
//! `severity` must be one of `Critical`, `High`, `Medium`, `Low`, `Negligible` (stored as
//! `low`), `Unknown`; `fix.state` one of `fixed`, `not-fixed`, `wont-fix`, `unknown`.
use crate::text::J;
use crate::{Collection, ImportError, ImportKind, Out};
use serde_json::Value;
use vouch_domain::resource::{Resource, ResourceKind};

pub(crate) fn is_trivy(v: &Value) -> bool {
    match v {
        Value::Object(o) => {
            o.contains_key("SchemaVersion")
                && (o.contains_key("Results") || o.contains_key("ArtifactName"))
        }
        Value::Array(a) => {
            !a.is_empty()
                && a.iter()
                    .all(|r| r.get("Target").is_some_and(Value::is_string))
        }
        _ => false,
    }
}

pub(crate) fn is_grype(v: &Value) -> bool {
    v.get("matches").is_some_and(Value::is_array)
        && (v.get("descriptor").is_some_and(Value::is_object)
            || v.get("source").is_some_and(Value::is_object))
}

fn enum_value<'a>(
    j: &J<'_>,
    raw: &str,
    allowed: &[&'a str],
    what: &str,
) -> Result<&'a str, ImportError> {
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(raw))
        .copied()
        .ok_or_else(|| {
            j.err(format!(
                "unknown {what} '{raw}': expected one of {}",
                allowed.join(", ")
            ))
        })
}

pub(crate) fn import_trivy(v: &Value) -> Result<Collection, ImportError> {
    let mut out = Out::new(ImportKind::TrivyJson);
    let root = J::root(v);
    let (artifact, results) = if v.is_array() {
        out.warnings.push(
            "this is a report from Trivy before 0.20 (no SchemaVersion): the artifact name is unknown"
                .into(),
        );
        ("", root.items()?)
    } else {
        root.expect_object()?;
        let schema = root.req("SchemaVersion")?;
        match schema.v.as_i64() {
            Some(2) => {}
            Some(n) => out.warnings.push(format!(
                "SchemaVersion {n}: Vouch reads Trivy's schema 2; check the result"
            )),
            None => return Err(schema.err("expected a number")),
        }
        (
            root.opt_str("ArtifactName")?.unwrap_or(""),
            root.opt_items("Results")?,
        )
    };
    let (mut misconfigs, mut secrets) = (0, 0);
    for res in &results {
        res.expect_object()?;
        let target = res.req_str("Target")?;
        let class = res.opt_str("Class")?;
        let typ = res.opt_str("Type")?;
        misconfigs += res.opt_items("Misconfigurations")?.len();
        secrets += res.opt_items("Secrets")?.len();
        for vj in res.opt_items("Vulnerabilities")? {
            vj.expect_object()?;
            let id = vj.req_str("VulnerabilityID")?;
            let pkg = vj.req_str("PkgName")?;
            let installed = vj.opt_str("InstalledVersion")?;
            let sev_j = vj.req("Severity")?;
            let severity = enum_value(
                &sev_j,
                sev_j.str()?,
                &["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"],
                "severity",
            )?
            .to_ascii_lowercase();
            let pkg_path = vj.opt_str("PkgPath")?;
            let mut key = format!("{artifact}|{target}|{pkg}@{}|{id}", installed.unwrap_or(""));
            if let Some(p) = pkg_path {
                key.push('|');
                key.push_str(p);
            }
            let r = Resource::new(ResourceKind::Vulnerability, "trivy", key)
                .with("vulnerability_id", id)
                .with("package", pkg)
                .with_opt("installed_version", installed)
                .with_opt("fixed_version", vj.opt_str("FixedVersion")?)
                .with_opt("status", vj.opt_str("Status")?)
                .with("severity", severity)
                .with_opt("title", vj.opt_str("Title")?)
                .with_opt("primary_url", vj.opt_str("PrimaryURL")?)
                .with_opt("published_date", vj.opt_str("PublishedDate")?)
                .with_opt("pkg_path", pkg_path)
                .with_opt("artifact", (!artifact.is_empty()).then_some(artifact))
                .with("target", target)
                .with_opt("class", class)
                .with_opt("type", typ);
            out.push(r, vj.path.clone())?;
        }
    }
    if misconfigs + secrets > 0 {
        out.warnings.push(format!(
            "{misconfigs} misconfiguration(s) and {secrets} secret(s) in the report were not imported (only vulnerabilities are)"
        ));
    }
    Ok(out.finish("trivy"))
}

pub(crate) fn import_grype(v: &Value) -> Result<Collection, ImportError> {
    let mut out = Out::new(ImportKind::GrypeJson);
    let root = J::root(v);
    root.expect_object()?;
    let source = match root.get("source").and_then(|s| s.get("target")) {
        None => "",
        Some(t) => match t.v {
            Value::String(s) => s.as_str(),
            _ => t.opt_str("userInput")?.unwrap_or(""),
        },
    };
    for m in root.req("matches")?.items()? {
        m.expect_object()?;
        let vuln = m.req("vulnerability")?;
        let id = vuln.req_str("id")?;
        let sev_j = vuln.req("severity")?;
        let severity = match enum_value(
            &sev_j,
            sev_j.str()?,
            &["Critical", "High", "Medium", "Low", "Negligible", "Unknown"],
            "severity",
        )? {
            "Negligible" => "low".to_string(),
            s => s.to_ascii_lowercase(),
        };
        let (mut fix_state, mut fix_versions) = (None, Vec::new());
        if let Some(fix) = vuln.get("fix") {
            if let Some(st) = fix.get("state") {
                fix_state = Some(enum_value(
                    &st,
                    st.str()?,
                    &["fixed", "not-fixed", "wont-fix", "unknown"],
                    "fix state",
                )?);
            }
            for fv in fix.opt_items("versions")? {
                fix_versions.push(Value::from(fv.str()?));
            }
        }
        let art = m.req("artifact")?;
        let name = art.req_str("name")?;
        let version = art.opt_str("version")?;
        let location = match art.opt_items("locations")?.first() {
            Some(l) => l.opt_str("path")?,
            None => None,
        };
        let key = format!(
            "{source}|{}|{name}@{}|{id}",
            location.unwrap_or(""),
            version.unwrap_or("")
        );
        let related: Vec<Value> = m
            .opt_items("relatedVulnerabilities")?
            .iter()
            .filter_map(|r| r.v.get("id").and_then(Value::as_str).map(Value::from))
            .collect();
        let r = Resource::new(ResourceKind::Vulnerability, "grype", key)
            .with("vulnerability_id", id)
            .with("package", name)
            .with_opt("installed_version", version)
            .with_opt("package_type", art.opt_str("type")?)
            .with_opt("purl", art.opt_str("purl")?)
            .with_opt("location", location)
            .with("severity", severity)
            .with_opt("fix_state", fix_state)
            .with("fixed_versions", fix_versions)
            .with("related_vulnerabilities", related)
            .with_opt("data_source", vuln.opt_str("dataSource")?)
            .with_opt("artifact", (!source.is_empty()).then_some(source));
        out.push(r, m.path.clone())?;
    }
    let ignored = root.opt_items("ignoredMatches")?.len();
    if ignored > 0 {
        out.warnings.push(format!(
            "{ignored} ignored match(es) in the report were not imported"
        ));
    }
    Ok(out.finish("grype"))
}

#[cfg(test)]
mod tests {
    use crate::{ImportKind, import};

    pub(crate) const TRIVY: &str = r#"{
  "SchemaVersion": 2,
  "CreatedAt": "2026-11-23T06:00:00Z",
  "ArtifactName": "ghcr.io/acme/api:1.4.2",
  "ArtifactType": "container_image",
  "Metadata": {"OS": {"Family": "alpine", "Name": "3.18.4"}},
  "Results": [
    {
      "Target": "ghcr.io/acme/api:1.4.2 (alpine 3.18.4)",
      "Class": "os-pkgs",
      "Type": "alpine",
      "Vulnerabilities": [
        {"VulnerabilityID": "CVE-2023-5363", "PkgID": "libcrypto3@3.1.3-r0", "PkgName": "libcrypto3",
         "InstalledVersion": "3.1.3-r0", "FixedVersion": "3.1.4-r0", "Status": "fixed",
         "Severity": "HIGH", "Title": "openssl: incorrect cipher key", "PrimaryURL": "https://avd.aquasec.com/nvd/cve-2023-5363"},
        {"VulnerabilityID": "CVE-2023-5363", "PkgName": "libssl3",
         "InstalledVersion": "3.1.3-r0", "FixedVersion": "3.1.4-r0", "Status": "fixed", "Severity": "HIGH"}
      ]
    },
    {
      "Target": "app/package-lock.json",
      "Class": "lang-pkgs",
      "Type": "npm",
      "Vulnerabilities": [
        {"VulnerabilityID": "GHSA-xxxx-yyyy-zzzz", "PkgName": "lodash", "InstalledVersion": "4.17.20",
         "Status": "affected", "Severity": "CRITICAL"}
      ]
    },
    {"Target": "Dockerfile", "Class": "config", "Type": "dockerfile",
     "Misconfigurations": [{"ID": "DS002", "Status": "FAIL", "Severity": "HIGH"}]}
  ]
}"#;

    pub(crate) const GRYPE: &str = r#"{
  "matches": [
    {
      "vulnerability": {"id": "GHSA-jfh8-c2jp-5v3q", "dataSource": "https://github.com/advisories/GHSA-jfh8-c2jp-5v3q",
        "namespace": "github:language:java", "severity": "Critical", "urls": [],
        "fix": {"versions": ["2.15.0"], "state": "fixed"}},
      "relatedVulnerabilities": [{"id": "CVE-2021-44228", "severity": "Critical"}],
      "matchDetails": [{"type": "exact-direct-match", "matcher": "java-matcher"}],
      "artifact": {"id": "a1", "name": "log4j-core", "version": "2.14.1", "type": "java-archive",
        "locations": [{"path": "/app/lib/log4j-core-2.14.1.jar"}],
        "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}
    },
    {
      "vulnerability": {"id": "CVE-2005-2541", "severity": "Negligible", "fix": {"versions": [], "state": "not-fixed"}},
      "artifact": {"name": "tar", "version": "1.34+dfsg-1", "type": "deb", "locations": []}
    }
  ],
  "ignoredMatches": [],
  "source": {"type": "image", "target": {"userInput": "acme/api:1.4.2", "imageID": "sha256:abc"}},
  "distro": {"name": "debian", "version": "11"},
  "descriptor": {"name": "grype", "version": "0.74.0"}
}"#;

    #[test]
    fn trivy_vulnerabilities_are_keyed_by_artifact_target_package_and_id() {
        let c = import(TRIVY.as_bytes(), None).unwrap();
        assert_eq!(c.kind, ImportKind::TrivyJson);
        assert_eq!(c.system, "trivy");
        assert_eq!(c.resources.len(), 3);
        let v = &c.resources[0];
        assert_eq!(
            v.key,
            "ghcr.io/acme/api:1.4.2|ghcr.io/acme/api:1.4.2 (alpine 3.18.4)|libcrypto3@3.1.3-r0|CVE-2023-5363"
        );
        assert_eq!(v.attrs["severity"], "high");
        assert_eq!(v.attrs["fixed_version"], "3.1.4-r0");
        assert_eq!(v.attrs["status"], "fixed");
        assert_eq!(c.resources[2].attrs["severity"], "critical");
        assert_eq!(c.resources[2].attrs["target"], "app/package-lock.json");
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("1 misconfiguration"));
    }

    #[test]
    fn trivy_unknown_severity_names_the_json_path() {
        let bad = TRIVY.replacen("\"Severity\": \"CRITICAL\"", "\"Severity\": \"SEVERE\"", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.Results[1].Vulnerabilities[0].Severity");
        assert!(e.message.contains("unknown severity 'SEVERE'"), "{e}");
        let bad = TRIVY.replacen("\"PkgName\": \"lodash\",", "", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.Results[1].Vulnerabilities[0].PkgName");
    }

    #[test]
    fn trivy_duplicate_vulnerability_is_an_error() {
        let bad = TRIVY.replacen("\"PkgName\": \"libssl3\"", "\"PkgName\": \"libcrypto3\"", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.Results[0].Vulnerabilities[1]");
        assert!(e.message.contains("$.Results[0].Vulnerabilities[0]"), "{e}");
    }

    #[test]
    fn trivy_before_schema_2_is_a_bare_array() {
        let old = r#"[{"Target": "alpine:3.10", "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgName": "musl", "InstalledVersion": "1.1", "Severity": "LOW"}]}]"#;
        let c = import(old.as_bytes(), None).unwrap();
        assert_eq!(c.kind, ImportKind::TrivyJson);
        assert_eq!(c.resources[0].key, "|alpine:3.10|musl@1.1|CVE-1");
        assert!(c.warnings[0].contains("before 0.20"));
    }

    #[test]
    fn grype_matches_become_vulnerabilities() {
        let c = import(GRYPE.as_bytes(), None).unwrap();
        assert_eq!(c.kind, ImportKind::GrypeJson);
        assert_eq!(c.system, "grype");
        assert_eq!(c.resources.len(), 2);
        let log4j = &c.resources[0];
        assert_eq!(
            log4j.key,
            "acme/api:1.4.2|/app/lib/log4j-core-2.14.1.jar|log4j-core@2.14.1|GHSA-jfh8-c2jp-5v3q"
        );
        assert_eq!(log4j.attrs["severity"], "critical");
        assert_eq!(log4j.attrs["fix_state"], "fixed");
        assert_eq!(log4j.attrs["fixed_versions"][0], "2.15.0");
        assert_eq!(log4j.attrs["related_vulnerabilities"][0], "CVE-2021-44228");
        assert_eq!(c.resources[1].attrs["severity"], "low");
    }

    #[test]
    fn grype_bad_enum_values_name_the_json_path() {
        let bad = GRYPE.replacen("\"state\": \"not-fixed\"", "\"state\": \"later\"", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.matches[1].vulnerability.fix.state");
        let bad = GRYPE.replacen("\"severity\": \"Negligible\"", "\"severity\": 3", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.matches[1].vulnerability.severity");
        assert!(e.message.contains("expected a string, found a number"));
    }
}
