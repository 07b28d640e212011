//! Bad input to the engine: every problem is a clear error naming the test and place, the
//! test is in error (never passing), and other tests are unaffected.
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use vouch_domain::monitoring::EntityStatus;
use vouch_domain::resource::ResourceKind;
use vouch_policy::{InputResource, Library, Limits, Snapshot, evaluate};

const MANIFEST: &str = r#"id = "ID"
version = 1
name = "A test"
description = "Checks something."
kind = "state"
reads = ["account"]
sla = "access"
empty = "not_applicable"
controls = ["IAM-03"]
remediation = "Fix it."
"#;

fn known() -> BTreeSet<String> {
    ["IAM-03".to_string()].into()
}

fn folder(id: &str, policy: &str) -> Vec<(String, String)> {
    vec![
        (format!("{id}/test.toml"), MANIFEST.replace("ID", id)),
        (format!("{id}/policy.rego"), policy.replace("ID", id)),
    ]
}

const GOOD: &str = "package vouch.tests.ID\nimport rego.v1\nresults contains {\"entity\": a.id, \"status\": \"pass\", \"reason\": \"ok\"} if {\n  some a in input.resources.account\n}\n";

fn snapshot(n: i64) -> Snapshot {
    let accounts = (1..=n)
        .map(|id| InputResource {
            id,
            system: "okta".into(),
            key: format!("u{id}"),
            attrs: serde_json::Map::new(),
            first_seen: "2026-01-01T00:00:00Z".into(),
            deleted_at: None,
            owner: None,
        })
        .collect();
    Snapshot::new(BTreeMap::from([(ResourceKind::Account, accounts)]))
}

fn load(files: Vec<(String, String)>) -> Library {
    Library::load("custom", &files, &[], &known())
}

#[test]
fn a_policy_that_does_not_compile_names_file_and_line_and_others_still_load() {
    let mut files = folder("good", GOOD);
    files.extend(folder(
        "broken",
        "package vouch.tests.ID\nimport rego.v1\nresults contains r if {\n  r := input.foo[\n}\n",
    ));
    let lib = load(files);
    let broken = lib.get("broken").unwrap();
    let e = broken.test.as_ref().unwrap_err();
    assert!(e.starts_with("custom/broken/policy.rego:4:"), "{e}");
    let good = lib.get("good").unwrap().test.as_ref().unwrap();
    let r = evaluate(
        good,
        &snapshot(2),
        "2026-11-20T00:00:00Z",
        &Default::default(),
        Limits::default(),
    )
    .unwrap();
    assert_eq!(r.len(), 2);
}

#[test]
fn a_manifest_naming_an_unknown_control_or_resource_type_is_an_error_with_its_line() {
    let mut files = folder("x", GOOD);
    files[0].1 = files[0].1.replace("IAM-03", "IAM-77");
    let lib = load(files);
    assert_eq!(
        lib.get("x").unwrap().test.as_ref().unwrap_err(),
        "custom/x/test.toml line 9: unknown control 'IAM-77'"
    );
    let mut files = folder("y", GOOD);
    files[0].1 = files[0].1.replace("[\"account\"]", "[\"laptop\"]");
    let e = load(files).tests.remove(0).test.unwrap_err();
    assert!(
        e.starts_with("custom/y/test.toml line 6: unknown resource type 'laptop'"),
        "{e}"
    );
}

#[test]
fn a_runaway_policy_hits_the_time_limit() {
    let lib = load(folder(
        "slow",
        "package vouch.tests.ID\nimport rego.v1\nresults contains {\"entity\": \"x\", \"status\": \"pass\", \"reason\": \"never\"} if {\n  count([1 | some a in input.resources.account; some b in input.resources.account; some c in input.resources.account; a.id + b.id + c.id == -1]) > 0\n}\n",
    ));
    let t = lib.get("slow").unwrap().test.as_ref().unwrap();
    let e = evaluate(
        t,
        &snapshot(600),
        "2026-11-20T00:00:00Z",
        &Default::default(),
        Limits {
            time: Duration::from_millis(200),
        },
    )
    .unwrap_err();
    assert!(e.contains("test slow") && e.contains("time limit"), "{e}");
}

#[test]
fn results_of_the_wrong_shape_are_errors_never_passes() {
    let cases = [
        (
            "results := 3",
            "'results' must be a set of {entity, status, reason} objects, got a number",
        ),
        (
            "results contains {\"entity\": 1, \"status\": \"ok\", \"reason\": \"r\"} if true",
            "'status' must be one of pass, fail, skip, error, got \"ok\"",
        ),
        (
            "results contains {\"entity\": 1, \"status\": \"pass\"} if true",
            "'reason' must be a non-empty string",
        ),
        (
            "results contains {\"entity\": 99, \"status\": \"pass\", \"reason\": \"r\"} if true",
            "entity 99 is not a resource the test read",
        ),
        (
            "results contains {\"entity\": 1, \"status\": \"pass\", \"reason\": \"r\", \"colour\": 1} if true",
            "unknown member 'colour'",
        ),
        (
            "results contains {\"entity\": 1, \"status\": s, \"reason\": s} if { some s in [\"pass\", \"fail\"] }",
            "entity 1 has more than one result",
        ),
    ];
    for (rule, want) in cases {
        let lib = load(folder(
            "shape",
            &format!("package vouch.tests.ID\nimport rego.v1\n{rule}\n"),
        ));
        let t = lib.get("shape").unwrap().test.as_ref().unwrap();
        let e = evaluate(
            t,
            &snapshot(2),
            "2026-11-20T00:00:00Z",
            &Default::default(),
            Limits::default(),
        )
        .unwrap_err();
        assert!(
            e.starts_with("test shape: ") && e.contains(want),
            "{rule}: {e}"
        );
    }
}

#[test]
fn the_clock_and_the_network_are_out_of_reach() {
    let lib = load(folder(
        "clock",
        "package vouch.tests.ID\nimport rego.v1\nresults contains {\"entity\": \"x\", \"status\": \"pass\", \"reason\": sprintf(\"%d\", [time.now_ns()])} if true\n",
    ));
    let e = lib.get("clock").unwrap().test.as_ref().unwrap_err();
    assert_eq!(
        e,
        "custom/clock/policy.rego line 3: tests may not call time.now_ns: it reads the clock; use input.now"
    );
    let lib = load(folder(
        "net",
        "package vouch.tests.ID\nimport rego.v1\nresults contains {\"entity\": \"x\", \"status\": \"pass\", \"reason\": \"r\"} if {\n  http.send({\"method\": \"get\", \"url\": \"http://127.0.0.1:9\"})\n}\n",
    ));
    let e = lib.get("net").unwrap().test.as_ref().unwrap_err();
    assert!(e.contains("tests may not call http.send"), "{e}");
}

#[test]
fn wrong_package_or_missing_results_rule_or_folder_mismatch_are_errors() {
    let lib = load(folder(
        "pkg",
        "package vouch.tests.other\nimport rego.v1\nresults := set()\n",
    ));
    assert!(
        lib.get("pkg")
            .unwrap()
            .test
            .as_ref()
            .unwrap_err()
            .contains("must be in package vouch.tests.pkg")
    );
    let lib = load(folder(
        "nores",
        "package vouch.tests.ID\nimport rego.v1\nverdicts := set()\n",
    ));
    assert!(
        lib.get("nores")
            .unwrap()
            .test
            .as_ref()
            .unwrap_err()
            .contains("declares no 'results' rule")
    );
    let mut files = folder("a", GOOD);
    files[0].1 = files[0].1.replace("id = \"a\"", "id = \"b\"");
    let e = load(files).tests.remove(0).test.unwrap_err();
    assert!(
        e.contains("the folder is 'a' but the test's id is 'b'"),
        "{e}"
    );
}

#[test]
fn the_same_inputs_give_the_same_results_and_digest() {
    let lib = load(folder("same", GOOD));
    let t = lib.get("same").unwrap().test.as_ref().unwrap();
    let s = snapshot(50);
    let a = evaluate(
        t,
        &s,
        "2026-11-20T00:00:00Z",
        &Default::default(),
        Limits::default(),
    )
    .unwrap();
    let b = evaluate(
        t,
        &s,
        "2026-11-20T00:00:00Z",
        &Default::default(),
        Limits::default(),
    )
    .unwrap();
    assert_eq!(a, b);
    assert_eq!(
        vouch_policy::results_digest(&a),
        vouch_policy::results_digest(&b)
    );
    assert!(a.iter().all(|r| r.status == EntityStatus::Pass));
}

#[test]
fn an_empty_population_that_means_failure_fails() {
    let mut files = folder("empty", GOOD);
    files[0].1 = files[0]
        .1
        .replace("empty = \"not_applicable\"", "empty = \"fail\"");
    let lib = load(files);
    let t = lib.get("empty").unwrap().test.as_ref().unwrap();
    let r = evaluate(
        t,
        &snapshot(0),
        "2026-11-20T00:00:00Z",
        &Default::default(),
        Limits::default(),
    )
    .unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].entity, "population");
    assert_eq!(r[0].status, EntityStatus::Fail);
    assert!(
        r[0].reason.contains("no account in scope"),
        "{}",
        r[0].reason
    );
}
