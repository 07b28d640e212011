//! Running a test against its fixtures, like a unit-test runner: each fixture is an input
//! snapshot and the results the test must give for it.
use crate::engine::{EntityResult, Limits, evaluate};
use crate::library::LoadedTest;
use crate::snapshot::{InputResource, Snapshot};
use serde::Deserialize;
use std::collections::BTreeMap;
use vouch_domain::monitoring::EntityStatus;
use vouch_domain::resource::ResourceKind;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    #[serde(default)]
    #[allow(dead_code)]
    description: String,
    now: String,
    #[serde(default)]
    params: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    resources: BTreeMap<String, Vec<InputResource>>,
    expect: Vec<Expect>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    entity: serde_json::Value,
    status: String,
    #[serde(default)]
    reason_contains: Option<String>,
}

/// One fixture's outcome: no problems means it passed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FixtureOutcome {
    pub path: String,
    pub problems: Vec<String>,
    /// The statuses the test returned for this fixture.
    #[serde(skip)]
    pub seen: Vec<EntityStatus>,
}

/// One test's check.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TestCheck {
    pub id: String,
    pub dir: String,
    /// The test did not load (manifest, compile or package error).
    pub error: Option<String>,
    pub fixtures: Vec<FixtureOutcome>,
    /// Of pass, fail and skip, those no fixture shows.
    pub missing_outcomes: Vec<EntityStatus>,
}

impl TestCheck {
    /// Passed: it loaded, has fixtures, and every fixture matched. With `require_outcomes`
    /// (the shipped library), its fixtures must also show a pass, a fail and a skip.
    pub fn passed(&self, require_outcomes: bool) -> bool {
        self.error.is_none()
            && !self.fixtures.is_empty()
            && self.fixtures.iter().all(|f| f.problems.is_empty())
            && (!require_outcomes || self.missing_outcomes.is_empty())
    }
}

fn entity_key(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Number(n) => n.as_i64().map(|i| i.to_string()),
        serde_json::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn run_fixture(t: &LoadedTest, path: &str, text: &str) -> FixtureOutcome {
    let mut out = FixtureOutcome {
        path: path.to_string(),
        problems: Vec::new(),
        seen: Vec::new(),
    };
    let test = match &t.test {
        Ok(t) => t,
        Err(_) => return out,
    };
    let fx: Fixture = match serde_json::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            out.problems.push(format!(
                "{path}: line {}, column {}: {e}",
                e.line(),
                e.column()
            ));
            return out;
        }
    };
    if time::OffsetDateTime::parse(&fx.now, &time::format_description::well_known::Rfc3339).is_err()
    {
        out.problems.push(format!(
            "{path}: 'now' must be an RFC 3339 time, got '{}'",
            fx.now
        ));
        return out;
    }
    let mut resources = BTreeMap::new();
    for (k, list) in fx.resources {
        let Some(kind) = ResourceKind::parse(&k) else {
            out.problems.push(format!(
                "{path}: unknown resource type '{k}': expected one of {}",
                ResourceKind::list()
            ));
            return out;
        };
        if !test.manifest.reads.contains(&kind) {
            out.problems.push(format!(
                "{path}: gives '{k}' resources, but the test reads only {}",
                test.manifest
                    .reads
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            return out;
        }
        resources.insert(kind, list);
    }
    let params = match test.manifest.resolve_params(&fx.params) {
        Ok(p) => p,
        Err(e) => {
            out.problems.push(format!("{path}: {e}"));
            return out;
        }
    };
    let snapshot = Snapshot::new(resources);
    let results = match evaluate(test, &snapshot, &fx.now, &params, Limits::default()) {
        Ok(r) => r,
        Err(e) => {
            out.problems.push(e);
            return out;
        }
    };
    out.seen = results.iter().map(|r| r.status).collect();
    let mut got: BTreeMap<String, &EntityResult> =
        results.iter().map(|r| (r.entity.clone(), r)).collect();
    for e in &fx.expect {
        let Some(key) = entity_key(&e.entity) else {
            out.problems.push(format!(
                "{path}: expected entity {} is not an id or a label",
                e.entity
            ));
            continue;
        };
        let Some(want) = EntityStatus::parse(&e.status) else {
            out.problems.push(format!(
                "{path}: expected status '{}' for entity {key} is not pass, fail, skip or error",
                e.status
            ));
            continue;
        };
        match got.remove(&key) {
            None => out
                .problems
                .push(format!("entity {key}: expected {want}, got no result")),
            Some(r) if r.status != want => out.problems.push(format!(
                "entity {key}: expected {want}, got {}: {}",
                r.status, r.reason
            )),
            Some(r) => {
                if let Some(needle) = &e.reason_contains
                    && !r.reason.contains(needle.as_str())
                {
                    out.problems.push(format!(
                        "entity {key}: expected the reason to contain '{needle}', got '{}'",
                        r.reason
                    ));
                }
            }
        }
    }
    for (key, r) in got {
        out.problems.push(format!(
            "entity {key}: unexpected result {}: {}",
            r.status, r.reason
        ));
    }
    out
}

/// Runs every fixture of `t`.
pub fn check_test(t: &LoadedTest) -> TestCheck {
    let fixtures: Vec<FixtureOutcome> = t
        .fixtures
        .iter()
        .map(|(p, text)| run_fixture(t, p, text))
        .collect();
    let missing_outcomes = [EntityStatus::Pass, EntityStatus::Fail, EntityStatus::Skip]
        .into_iter()
        .filter(|s| !fixtures.iter().any(|f| f.seen.contains(s)))
        .collect();
    TestCheck {
        id: t.id.clone(),
        dir: t.dir.clone(),
        error: t.test.as_ref().err().cloned(),
        fixtures,
        missing_outcomes,
    }
}
