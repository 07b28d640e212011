//! The shipped test library: every test loads, and every test's fixtures pass and show a
//! pass, a fail and a skip (the rule for shipped tests).
use std::collections::BTreeSet;
use vouch_policy::Library;
use vouch_policy::fixtures::check_test;

fn known_controls() -> BTreeSet<String> {
    vouch_domain::controls::soc2_starter()
        .controls
        .iter()
        .map(|c| c.id.clone())
        .collect()
}

#[test]
fn every_shipped_test_passes_its_fixtures() {
    let lib = Library::shipped(&known_controls());
    assert!(!lib.tests.is_empty());
    let mut failures = Vec::new();
    for t in &lib.tests {
        let c = check_test(t);
        if !c.passed(true) {
            failures.push(format!(
                "{}: error={:?} missing={:?} fixtures={:?}",
                c.id,
                c.error,
                c.missing_outcomes,
                c.fixtures
                    .iter()
                    .filter(|f| !f.problems.is_empty())
                    .map(|f| (&f.path, &f.problems))
                    .collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_library_has_at_least_sixty_tests_across_the_areas() {
    let lib = Library::shipped(&known_controls());
    let ids: Vec<&str> = lib.tests.iter().map(|t| t.id.as_str()).collect();
    assert!(ids.len() >= 60, "only {} tests: {ids:?}", ids.len());
    for area in [
        "access.",
        "change.",
        "vuln.",
        "log.",
        "net.",
        "enc.",
        "backup.",
        "endpoint.",
        "people.",
        "governance.",
    ] {
        assert!(
            ids.iter().any(|i| i.starts_with(area)),
            "no test in area {area}"
        );
    }
}
