//! SARIF 2.1.0 logs (CodeQL, Semgrep, Trivy/Checkov `--format sarif`, Prowler IaC).
//!
//! Detection: an object with a `runs` array and a `version` string or a `$schema` that
//! mentions SARIF. A `version` other than `2.1.0` is then an error at `$.version`.
//!
//! `runs[].results[]` become `finding`s in a system named after the tool
//! (`tool.driver.name`, lower case, spaces as `-`: `codeql`, `semgrep`). The rule is `ruleId`,
//! else the id of `tool.driver.rules[ruleIndex]`. `level` is `error`, `warning`, `note` or
//! `none`; when absent it is the rule's `defaultConfiguration.level`, else `warning` (SARIF's
//! default). The location is the first `physicalLocation` (`uri`, `start_line`).
//! A finding's key is `<rule>|<fingerprint>` when the result has `partialFingerprints` or
//! `fingerprints` (the first, by name), else `<rule>|<uri>:<startLine>:<startColumn>`.
use crate::text::J;
use crate::{Collection, ImportError, ImportKind, Out};
use serde_json::Value;
use vouch_domain::resource::{Resource, ResourceKind};

const LEVELS: [&str; 4] = ["error", "warning", "note", "none"];

pub(crate) fn is_sarif(v: &Value) -> bool {
    v.get("runs").is_some_and(Value::is_array)
        && (v.get("version").is_some_and(Value::is_string)
            || v.get("$schema")
                .and_then(Value::as_str)
                .is_some_and(|s| s.to_ascii_lowercase().contains("sarif")))
}

fn level(j: &J<'_>) -> Result<&'static str, ImportError> {
    let s = j.str()?;
    LEVELS.into_iter().find(|l| *l == s).ok_or_else(|| {
        j.err(format!(
            "unknown level '{s}': expected one of {}",
            LEVELS.join(", ")
        ))
    })
}

fn first_fingerprint(j: &J<'_>) -> Result<Option<String>, ImportError> {
    for field in ["partialFingerprints", "fingerprints"] {
        if let Some(f) = j.get(field) {
            let o = f.expect_object()?;
            let mut names: Vec<&String> = o.keys().collect();
            names.sort();
            if let Some(name) = names.first() {
                let v = f.req_str(name)?;
                return Ok(Some(format!("{name}={v}")));
            }
        }
    }
    Ok(None)
}

pub(crate) fn import_sarif(v: &Value) -> Result<Collection, ImportError> {
    let mut out = Out::new(ImportKind::Sarif);
    let root = J::root(v);
    root.expect_object()?;
    let version = root.req("version")?;
    if version.str()? != "2.1.0" {
        return Err(version.err(format!(
            "SARIF version '{}' is not supported: Vouch reads 2.1.0",
            version.str()?
        )));
    }
    let mut systems: Vec<String> = Vec::new();
    for run in root.req("runs")?.items()? {
        run.expect_object()?;
        let driver = run.req("tool")?.req("driver")?;
        let tool = driver.req_str("name")?;
        let system: String = tool
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("-");
        Out::check_system(&system, &format!("{}.tool.driver.name", run.path))?;
        if !systems.contains(&system) {
            systems.push(system.clone());
        }
        let rules = driver.opt_items("rules")?;
        for res in run.opt_items("results")? {
            res.expect_object()?;
            let rule_j = match res.get("ruleIndex") {
                Some(ix) => {
                    let i = ix.v.as_u64().ok_or_else(|| ix.err("expected an index"))?;
                    let rule = usize::try_from(i)
                        .ok()
                        .and_then(|i| rules.get(i))
                        .ok_or_else(|| {
                            ix.err(format!("there is no rule {i} in tool.driver.rules"))
                        })?;
                    Some(rule.clone())
                }
                None => None,
            };
            let rule_id = match res.opt_str("ruleId")? {
                Some(id) => id,
                None => match &rule_j {
                    Some(r) => r.req_str("id")?,
                    None => {
                        return Err(res.err("has neither ruleId nor ruleIndex"));
                    }
                },
            };
            let rule_j = rule_j.or_else(|| {
                rules
                    .iter()
                    .find(|r| r.v.get("id").and_then(Value::as_str) == Some(rule_id))
                    .cloned()
            });
            let lvl = match res.get("level") {
                Some(l) => level(&l)?,
                None => match rule_j
                    .as_ref()
                    .and_then(|r| r.get("defaultConfiguration"))
                    .and_then(|d| d.get("level"))
                {
                    Some(l) => level(&l)?,
                    None => "warning",
                },
            };
            let message = match res.get("message") {
                Some(m) => m.opt_str("text")?,
                None => None,
            };
            let (mut uri, mut line, mut column) = (None, None, None);
            if let Some(loc) = res.opt_items("locations")?.first()
                && let Some(phys) = loc.get("physicalLocation")
            {
                if let Some(a) = phys.get("artifactLocation") {
                    uri = a.opt_str("uri")?;
                }
                if let Some(r) = phys.get("region") {
                    line = r.get("startLine").and_then(|l| l.v.as_u64());
                    column = r.get("startColumn").and_then(|c| c.v.as_u64());
                }
            }
            let severity = rule_j
                .as_ref()
                .and_then(|r| r.get("properties"))
                .and_then(|p| p.v.get("security-severity").cloned());
            let suppressed = !res.opt_items("suppressions")?.is_empty();
            let fingerprint = first_fingerprint(&res)?;
            let key = match &fingerprint {
                Some(f) => format!("{rule_id}|{f}"),
                None => format!(
                    "{rule_id}|{}:{}:{}",
                    uri.unwrap_or(""),
                    line.map(|l| l.to_string()).unwrap_or_default(),
                    column.map(|c| c.to_string()).unwrap_or_default()
                ),
            };
            let r = Resource::new(ResourceKind::Finding, system.clone(), key)
                .with("tool", tool)
                .with("rule_id", rule_id)
                .with("level", lvl)
                .with_opt("message", message)
                .with_opt("uri", uri)
                .with_opt("start_line", line)
                .with_opt("security_severity", severity)
                .with_opt("baseline_state", res.opt_str("baselineState")?)
                .with_opt("fingerprint", fingerprint.clone())
                .with("suppressed", suppressed);
            out.push(r, res.path.clone())?;
        }
    }
    let system = match systems.as_slice() {
        [one] => one.clone(),
        _ => "sarif".to_string(),
    };
    Ok(out.finish(system))
}

#[cfg(test)]
mod tests {
    use crate::{ImportKind, import};

    pub(crate) const SARIF: &str = r#"{
  "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
  "version": "2.1.0",
  "runs": [{
    "tool": {"driver": {"name": "CodeQL", "version": "2.15.0", "rules": [
      {"id": "js/sql-injection", "name": "SqlInjection", "defaultConfiguration": {"level": "error"},
       "properties": {"tags": ["security"], "security-severity": "8.8"}},
      {"id": "js/unused-local-variable", "defaultConfiguration": {"level": "note"}}
    ]}},
    "results": [
      {"ruleId": "js/sql-injection", "ruleIndex": 0, "message": {"text": "Query built from user input."},
       "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/db.js"}, "region": {"startLine": 42, "startColumn": 7}}}],
       "partialFingerprints": {"primaryLocationLineHash": "abc123:1"}},
      {"ruleIndex": 1, "level": "note", "message": {"text": "Unused variable x."},
       "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/app.js"}, "region": {"startLine": 3}}}],
       "suppressions": [{"kind": "inSource"}]}
    ]
  }]
}"#;

    #[test]
    fn sarif_results_become_findings() {
        let c = import(SARIF.as_bytes(), None).unwrap();
        assert_eq!(c.kind, ImportKind::Sarif);
        assert_eq!(c.system, "codeql");
        assert_eq!(c.resources.len(), 2);
        let f = &c.resources[0];
        assert_eq!(f.key, "js/sql-injection|primaryLocationLineHash=abc123:1");
        assert_eq!(f.attrs["level"], "error");
        assert_eq!(f.attrs["uri"], "src/db.js");
        assert_eq!(f.attrs["start_line"], 42);
        assert_eq!(f.attrs["security_severity"], "8.8");
        assert_eq!(f.attrs["suppressed"], false);
        let g = &c.resources[1];
        assert_eq!(g.attrs["rule_id"], "js/unused-local-variable");
        assert_eq!(g.key, "js/unused-local-variable|src/app.js:3:");
        assert_eq!(g.attrs["suppressed"], true);
    }

    #[test]
    fn sarif_level_defaults_to_the_rule_then_warning() {
        let s = SARIF.replacen("\"ruleIndex\": 0, ", "", 1);
        let c = import(s.as_bytes(), None).unwrap();
        assert_eq!(c.resources[0].attrs["level"], "error");
        let s = SARIF.replacen("\"defaultConfiguration\": {\"level\": \"error\"},", "", 1);
        let c = import(s.as_bytes(), None).unwrap();
        assert_eq!(c.resources[0].attrs["level"], "warning");
    }

    #[test]
    fn sarif_errors_name_the_json_path() {
        let bad = SARIF.replacen(
            "\"level\": \"note\", \"message\"",
            "\"level\": \"info\", \"message\"",
            1,
        );
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.runs[0].results[1].level");
        let bad = SARIF.replacen("\"version\": \"2.1.0\"", "\"version\": \"2.0.0\"", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.version");
        let bad = SARIF.replacen("{\"ruleIndex\": 1,", "{\"ruleIndex\": 9,", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.runs[0].results[1].ruleIndex");
    }
}
