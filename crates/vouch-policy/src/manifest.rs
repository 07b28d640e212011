//! A test's manifest (`test.toml`): what the test is, what it reads, its parameters, what it
//! supports and how fast a failure must be fixed. Checked when loaded, with every error naming
//! the file and line.
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use toml::Spanned;
use vouch_domain::monitoring::{EmptyMeaning, is_sla_category, sla_category_list};
use vouch_domain::resource::ResourceKind;

/// State tests judge the latest snapshot; population tests judge events over a period
/// (merged changes, leavers, vulnerabilities fixed in time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    State,
    Population,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    Integer,
    Number,
    Boolean,
    String,
    StringList,
}

impl ParamType {
    fn name(self) -> &'static str {
        match self {
            ParamType::Integer => "an integer",
            ParamType::Number => "a number",
            ParamType::Boolean => "true or false",
            ParamType::String => "a string",
            ParamType::StringList => "a list of strings",
        }
    }

    /// Whether `v` has this type.
    pub fn accepts(self, v: &serde_json::Value) -> bool {
        match self {
            ParamType::Integer => v.is_i64() || v.is_u64(),
            ParamType::Number => v.is_number(),
            ParamType::Boolean => v.is_boolean(),
            ParamType::String => v.is_string(),
            ParamType::StringList => v
                .as_array()
                .is_some_and(|a| a.iter().all(serde_json::Value::is_string)),
        }
    }
}

/// One tunable of a test, with its default.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Param {
    #[serde(rename = "type")]
    pub ty: ParamType,
    pub default: serde_json::Value,
    pub description: String,
}

/// A checked manifest.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Manifest {
    pub id: String,
    pub version: u32,
    pub name: String,
    pub description: String,
    pub kind: TestKind,
    /// The resource kinds the policy reads; only these are in its input.
    pub reads: Vec<ResourceKind>,
    pub params: BTreeMap<String, Param>,
    pub remediation: String,
    /// SLA category: how long a failure may stay unfixed.
    pub sla: String,
    /// Library control ids the test supports.
    pub controls: Vec<String>,
    /// Criterion ids the test supports.
    pub criteria: Vec<String>,
    pub empty: EmptyMeaning,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    id: Spanned<String>,
    version: u32,
    name: String,
    description: String,
    kind: TestKind,
    reads: Vec<Spanned<String>>,
    #[serde(default)]
    params: BTreeMap<Spanned<String>, RawParam>,
    remediation: String,
    sla: Spanned<String>,
    controls: Vec<Spanned<String>>,
    #[serde(default)]
    criteria: Vec<Spanned<String>>,
    empty: EmptyMeaning,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    #[serde(rename = "type")]
    ty: ParamType,
    default: Spanned<toml::Value>,
    description: String,
}

/// Whether `id` is a valid test id: lower-case words of letters, digits and `_`, joined by
/// dots (`idp.mfa_enrolled`). The id is also the Rego package under `vouch.tests`.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id.split('.').all(|part| {
            let mut cs = part.chars();
            cs.next().is_some_and(|c| c.is_ascii_lowercase())
                && cs.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

/// The line (1-based) of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parses and checks a manifest. `known_controls` are the control ids a test may name;
/// errors read `test.toml line 9: unknown control 'IAM-99'`.
pub fn parse(
    file: &str,
    text: &str,
    known_controls: &BTreeSet<String>,
) -> Result<Manifest, String> {
    let raw: Raw = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| format!(" line {}", line_of(text, s.start)))
            .unwrap_or_default();
        format!("{file}{at}: {}", e.message())
    })?;
    let at = |span: std::ops::Range<usize>, msg: String| {
        format!("{file} line {}: {msg}", line_of(text, span.start))
    };
    let id = raw.id.get_ref().clone();
    if !valid_id(&id) {
        return Err(at(
            raw.id.span(),
            format!(
                "'{id}' is not a valid test id: use lower-case words of letters, digits and _ joined by dots, such as idp.mfa_enrolled"
            ),
        ));
    }
    if raw.version == 0 {
        return Err(format!("{file}: version must be 1 or more"));
    }
    for (field, value) in [
        ("name", &raw.name),
        ("description", &raw.description),
        ("remediation", &raw.remediation),
    ] {
        if value.trim().is_empty() {
            return Err(format!("{file}: '{field}' must not be empty"));
        }
    }
    let mut reads = Vec::new();
    for r in &raw.reads {
        let kind = ResourceKind::parse(r.get_ref()).ok_or_else(|| {
            at(
                r.span(),
                format!(
                    "unknown resource type '{}': expected one of {}",
                    r.get_ref(),
                    ResourceKind::list()
                ),
            )
        })?;
        if !reads.contains(&kind) {
            reads.push(kind);
        }
    }
    if reads.is_empty() {
        return Err(format!(
            "{file}: 'reads' must name at least one resource type"
        ));
    }
    if !is_sla_category(raw.sla.get_ref()) {
        return Err(at(
            raw.sla.span(),
            format!(
                "unknown SLA category '{}': expected one of {}",
                raw.sla.get_ref(),
                sla_category_list()
            ),
        ));
    }
    if raw.controls.is_empty() {
        return Err(format!(
            "{file}: 'controls' must name at least one control it supports"
        ));
    }
    for c in &raw.controls {
        if !known_controls.contains(c.get_ref()) {
            return Err(at(c.span(), format!("unknown control '{}'", c.get_ref())));
        }
    }
    let catalog = vouch_domain::criteria::soc2();
    for c in &raw.criteria {
        if catalog.get(c.get_ref()).is_none() {
            return Err(at(c.span(), format!("unknown criterion '{}'", c.get_ref())));
        }
    }
    let mut params = BTreeMap::new();
    for (name, p) in raw.params {
        let default: serde_json::Value = serde_json::to_value(p.default.get_ref())
            .map_err(|e| at(p.default.span(), e.to_string()))?;
        if !p.ty.accepts(&default) {
            return Err(at(
                p.default.span(),
                format!(
                    "the default of parameter '{}' must be {}",
                    name.get_ref(),
                    p.ty.name()
                ),
            ));
        }
        params.insert(
            name.into_inner(),
            Param {
                ty: p.ty,
                default,
                description: p.description,
            },
        );
    }
    Ok(Manifest {
        id,
        version: raw.version,
        name: raw.name,
        description: raw.description,
        kind: raw.kind,
        reads,
        params,
        remediation: raw.remediation.trim().to_string(),
        sla: raw.sla.into_inner(),
        controls: raw.controls.into_iter().map(Spanned::into_inner).collect(),
        criteria: raw.criteria.into_iter().map(Spanned::into_inner).collect(),
        empty: raw.empty,
    })
}

impl Manifest {
    /// The parameters for one evaluation: the defaults with `overrides` applied. An unknown
    /// name or a value of the wrong type is an error naming the test and the parameter.
    pub fn resolve_params(
        &self,
        overrides: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<serde_json::Map<String, serde_json::Value>, String> {
        let mut out: serde_json::Map<String, serde_json::Value> = self
            .params
            .iter()
            .map(|(k, p)| (k.clone(), p.default.clone()))
            .collect();
        for (k, v) in overrides {
            let Some(p) = self.params.get(k) else {
                let known: Vec<&str> = self.params.keys().map(String::as_str).collect();
                return Err(format!(
                    "test {}: unknown parameter '{k}' (it has: {})",
                    self.id,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ));
            };
            if !p.ty.accepts(v) {
                return Err(format!(
                    "test {}: parameter '{k}' must be {}, got {v}",
                    self.id,
                    p.ty.name()
                ));
            }
            out.insert(k.clone(), v.clone());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> BTreeSet<String> {
        ["IAM-03".to_string()].into()
    }

    const GOOD: &str = r#"id = "idp.mfa_enrolled"
version = 2
name = "MFA for every account"
description = "Every human account has MFA."
kind = "state"
reads = ["account"]
sla = "access"
empty = "not_applicable"
controls = ["IAM-03"]
criteria = ["CC6.1"]
remediation = "Enrol the user."

[params.grace_days]
type = "integer"
default = 7
description = "New accounts have this long."
"#;

    #[test]
    fn a_good_manifest_parses() {
        let m = parse("test.toml", GOOD, &known()).unwrap();
        assert_eq!(m.id, "idp.mfa_enrolled");
        assert_eq!(m.reads, vec![ResourceKind::Account]);
        assert_eq!(m.params["grace_days"].default, serde_json::json!(7));
    }

    #[test]
    fn errors_name_the_line() {
        let bad = GOOD.replace("controls = [\"IAM-03\"]", "controls = [\"IAM-99\"]");
        let e = parse("t/test.toml", &bad, &known()).unwrap_err();
        assert_eq!(e, "t/test.toml line 9: unknown control 'IAM-99'");
        let bad = GOOD.replace("reads = [\"account\"]", "reads = [\"acount\"]");
        let e = parse("t/test.toml", &bad, &known()).unwrap_err();
        assert!(
            e.starts_with("t/test.toml line 6: unknown resource type 'acount'"),
            "{e}"
        );
        let bad = GOOD.replace("default = 7", "default = \"seven\"");
        let e = parse("t/test.toml", &bad, &known()).unwrap_err();
        assert!(
            e.contains("line 15") && e.contains("must be an integer"),
            "{e}"
        );
        let bad = GOOD.replace("sla = \"access\"", "sla = \"fast\"");
        let e = parse("t/test.toml", &bad, &known()).unwrap_err();
        assert!(
            e.starts_with("t/test.toml line 7: unknown SLA category 'fast'"),
            "{e}"
        );
        let bad = GOOD.replace("kind = \"state\"", "kind = \"state\"\ncolour = 1");
        let e = parse("t/test.toml", &bad, &known()).unwrap_err();
        assert!(
            e.contains("line 6") && e.contains("unknown field `colour`"),
            "{e}"
        );
    }

    #[test]
    fn parameters_are_checked_by_type() {
        let m = parse("test.toml", GOOD, &known()).unwrap();
        let mut o = serde_json::Map::new();
        o.insert("grace_days".into(), serde_json::json!("seven"));
        let e = m.resolve_params(&o).unwrap_err();
        assert_eq!(
            e,
            "test idp.mfa_enrolled: parameter 'grace_days' must be an integer, got \"seven\""
        );
        o.clear();
        o.insert("grace".into(), serde_json::json!(3));
        assert!(
            m.resolve_params(&o)
                .unwrap_err()
                .contains("unknown parameter 'grace' (it has: grace_days)")
        );
        o.clear();
        o.insert("grace_days".into(), serde_json::json!(3));
        assert_eq!(
            m.resolve_params(&o).unwrap()["grace_days"],
            serde_json::json!(3)
        );
    }
}
