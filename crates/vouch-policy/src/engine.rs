//! Compiling a test's policy and evaluating it over a snapshot.
//!
//! The contract (ADR 0013): package `vouch.tests.<id>`; input `{now, params, resources}` where
//! `resources` holds, per kind the manifest reads, every resource of that kind (deleted ones
//! too, with `deleted_at` set); output rule `results`, a set (or array) of
//! `{"entity": <resource id or a label>, "status": "pass"|"fail"|"skip"|"error", "reason": …}`.
//! `now` is passed in, so evaluating the same test version with the same parameters over the
//! same snapshot at the same `now` gives the same results, byte for byte.
use crate::manifest::Manifest;
use crate::snapshot::Snapshot;
use regorus::{Engine, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;
use std::time::Duration;
use vouch_domain::monitoring::{EmptyMeaning, EntityStatus};

/// The interpreter and its version, recorded with every run so an old result can be
/// reproduced with the engine that produced it.
pub const ENGINE: &str = "regorus 0.14.1";

/// Builtins a test may not call: they read the wall clock or are random, which would make a
/// result depend on when (or by luck) it ran instead of on `input.now` and the snapshot.
const FORBIDDEN: &[(&str, &str)] = &[
    ("time.now_ns", "it reads the clock; use input.now"),
    ("opa.runtime", "it reads the environment"),
    ("rand.intn", "it is random"),
    ("uuid.rfc4122", "it is random"),
    (
        "http.send",
        "tests read collected resources, never the network",
    ),
    (
        "net.lookup_ip_addr",
        "tests read collected resources, never the network",
    ),
];

/// One entity's result.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct EntityResult {
    /// The stable key of the entity: a resource's id as text, or the policy's own label for
    /// something that is not one resource (an AWS account as a whole, "population").
    pub entity: String,
    /// The resource, when the entity is one.
    pub resource_id: Option<i64>,
    pub status: EntityStatus,
    pub reason: String,
}

/// A test ready to evaluate: its manifest and a compiled engine holding the policy and the
/// shared library modules.
#[derive(Clone)]
pub struct CompiledTest {
    pub manifest: Manifest,
    /// Where the policy came from, as errors name it.
    pub policy_path: String,
    /// SHA-256 over the manifest, the policy and the library modules, in that order: the
    /// exact logic a result came from.
    pub logic_hash: String,
    engine: Engine,
}

impl std::fmt::Debug for CompiledTest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledTest")
            .field("id", &self.manifest.id)
            .field("policy_path", &self.policy_path)
            .finish_non_exhaustive()
    }
}

fn strip_comment(line: &str) -> &str {
    // A `#` inside a string literal is rare in policies; treating it as a comment start only
    // risks missing a forbidden call written after it on the same line, which the compile of
    // the rest still catches in review.
    match line.find('#') {
        Some(i) => &line[..i],
        None => line,
    }
}

/// Compiles a test. `manifest_text` and `lib` feed the logic hash; errors name the file and
/// line (`idp.mfa/policy.rego:4:5: expecting '}'`).
pub fn compile(
    manifest: Manifest,
    manifest_text: &str,
    policy_path: &str,
    policy: &str,
    lib: &[(String, String)],
) -> Result<CompiledTest, String> {
    for (n, line) in policy.lines().enumerate() {
        let code = strip_comment(line);
        for (name, why) in FORBIDDEN {
            if code.contains(name) {
                return Err(format!(
                    "{policy_path} line {}: tests may not call {name}: {why}",
                    n + 1
                ));
            }
        }
    }
    let mut engine = Engine::new();
    engine.set_strict_builtin_errors(true);
    let mut hasher = Sha256::new();
    hasher.update(manifest_text.as_bytes());
    hasher.update([0]);
    hasher.update(policy.as_bytes());
    for (path, text) in lib {
        hasher.update([0]);
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        engine
            .add_policy(path.clone(), text.clone())
            .map_err(|e| format!("{}", e).trim().to_string())?;
    }
    let package = engine
        .add_policy(policy_path.to_string(), policy.to_string())
        .map_err(|e| compile_error(policy_path, &e.to_string()))?;
    let want = format!("data.vouch.tests.{}", manifest.id);
    if package != want {
        return Err(format!(
            "{policy_path}: the policy's package is '{}', but test {} must be in package {}",
            package.trim_start_matches("data."),
            manifest.id,
            want.trim_start_matches("data.")
        ));
    }
    match engine.has_declared_rule_rooted_at(policy_path, "results") {
        Ok(true) => {}
        _ => {
            return Err(format!(
                "{policy_path}: the policy declares no 'results' rule (each test returns results, a set of {{entity, status, reason}})"
            ));
        }
    }
    Ok(CompiledTest {
        manifest,
        policy_path: policy_path.to_string(),
        logic_hash: hex::encode(hasher.finalize()),
        engine,
    })
}

fn compile_error(path: &str, raw: &str) -> String {
    // regorus renders a caret diagram: "--> path:4:5 | … error: expecting `}`". Keep the
    // location and the message on one line for logs and tables; the UI shows it verbatim.
    let location = raw
        .lines()
        .find_map(|l| l.trim().strip_prefix("--> "))
        .unwrap_or(path);
    let message = raw
        .lines()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or(raw.trim());
    format!("{location}: {message}")
}

/// Bounds on one evaluation.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Wall time one test may take; past it, the test is in error. Checked between steps of
    /// the interpreter (a single enormous builtin call, such as a range of a billion numbers,
    /// runs to its end first).
    pub time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            time: Duration::from_secs(10),
        }
    }
}

/// Evaluates `test` over `snapshot` at `now` (RFC 3339) with resolved `params`. Results are
/// sorted by entity. Any problem (a runtime error, the time limit, a result of the wrong
/// shape) is an `Err` naming the test; the caller marks the test in error.
pub fn evaluate(
    test: &CompiledTest,
    snapshot: &Snapshot,
    now: &str,
    params: &serde_json::Map<String, serde_json::Value>,
    limits: Limits,
) -> Result<Vec<EntityResult>, String> {
    let id = &test.manifest.id;
    let mut engine = test.engine.clone();
    engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
        limit: limits.time,
        check_interval: NonZeroU32::new(64).expect("non-zero"),
    });
    let mut input = BTreeMap::new();
    input.insert(Value::from("now"), Value::from(now));
    input.insert(
        Value::from("params"),
        Value::from(serde_json::Value::Object(params.clone())),
    );
    input.insert(
        Value::from("resources"),
        snapshot.input_for(&test.manifest.reads),
    );
    engine.set_input(Value::from(input));
    let rule = format!("data.vouch.tests.{id}.results");
    let value = engine.eval_rule(rule).map_err(|e| {
        format!(
            "test {id}: {}",
            compile_error(&test.policy_path, &e.to_string())
        )
    })?;
    let json = serde_json::to_value(&value).map_err(|e| format!("test {id}: {e}"))?;
    let items = match json {
        serde_json::Value::Array(items) => items,
        serde_json::Value::String(s) if s == "<undefined>" => Vec::new(),
        serde_json::Value::Null if matches!(value, Value::Undefined) => Vec::new(),
        other => {
            return Err(format!(
                "test {id}: 'results' must be a set of {{entity, status, reason}} objects, got {}",
                kind_of(&other)
            ));
        }
    };
    let reads = &test.manifest.reads;
    let read = |rid: i64| snapshot.kind_of(rid).is_some_and(|k| reads.contains(&k));
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let r = entity_result(item, &read)
            .map_err(|m| format!("test {id}: results item {}: {m}", i + 1))?;
        if !seen.insert(r.entity.clone()) {
            return Err(format!(
                "test {id}: entity {} has more than one result",
                r.entity
            ));
        }
        out.push(r);
    }
    if test.manifest.empty == EmptyMeaning::Fail
        && !out.iter().any(|r| r.status != EntityStatus::Skip)
    {
        let kinds: Vec<&str> = test.manifest.reads.iter().map(|k| k.as_str()).collect();
        out.push(EntityResult {
            entity: "population".to_string(),
            resource_id: None,
            status: EntityStatus::Fail,
            reason: format!(
                "nothing to judge: no {} in scope, and this test treats that as a failure",
                kinds.join(" or ")
            ),
        });
    }
    out.sort();
    Ok(out)
}

fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn entity_result(
    item: &serde_json::Value,
    read: &dyn Fn(i64) -> bool,
) -> Result<EntityResult, String> {
    let obj = item.as_object().ok_or_else(|| {
        format!(
            "expected an object {{entity, status, reason}}, got {}",
            kind_of(item)
        )
    })?;
    for k in obj.keys() {
        if !matches!(k.as_str(), "entity" | "status" | "reason") {
            return Err(format!(
                "unknown member '{k}': a result has entity, status and reason"
            ));
        }
    }
    let (entity, resource_id) = match obj.get("entity") {
        Some(serde_json::Value::Number(n)) => {
            let rid = n
                .as_i64()
                .ok_or_else(|| format!("entity {n} is not a resource id"))?;
            if !read(rid) {
                return Err(format!("entity {rid} is not a resource the test read"));
            }
            (rid.to_string(), Some(rid))
        }
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => {
            if s.parse::<i64>().is_ok() {
                return Err(format!(
                    "entity \"{s}\" looks like a resource id written as text: return the resource's id as a number"
                ));
            }
            (s.clone(), None)
        }
        Some(other) => {
            return Err(format!(
                "'entity' must be a resource id (a number) or a non-empty label, got {}",
                kind_of(other)
            ));
        }
        None => return Err("missing 'entity'".to_string()),
    };
    let status = match obj.get("status") {
        Some(serde_json::Value::String(s)) => EntityStatus::parse(s).ok_or_else(|| {
            format!("'status' must be one of pass, fail, skip, error, got \"{s}\"")
        })?,
        Some(other) => {
            return Err(format!(
                "'status' must be one of pass, fail, skip, error, got {}",
                kind_of(other)
            ));
        }
        None => return Err(format!("entity {entity}: missing 'status'")),
    };
    let reason = match obj.get("reason") {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => {
            return Err(format!(
                "entity {entity}: 'reason' must be a non-empty string"
            ));
        }
    };
    Ok(EntityResult {
        entity,
        resource_id,
        status,
        reason,
    })
}

/// SHA-256 of the results, for "this re-run reproduced the stored run exactly".
pub fn results_digest(results: &[EntityResult]) -> String {
    let mut h = Sha256::new();
    for r in results {
        h.update(r.entity.as_bytes());
        h.update([0]);
        h.update(r.status.as_str().as_bytes());
        h.update([0]);
        h.update(r.reason.as_bytes());
        h.update([b'\n']);
    }
    hex::encode(h.finalize())
}
