//! A library of tests: folders of `test.toml` + `policy.rego` + `fixtures/*.json`, with
//! shared Rego modules under `_lib/`. Loading never stops at a broken test: each test carries
//! its own outcome, so one bad policy is marked in error and every other test still runs.
use crate::engine::{CompiledTest, compile};
use crate::manifest;
use std::collections::{BTreeMap, BTreeSet};

/// One test folder as loaded.
#[derive(Debug)]
pub struct LoadedTest {
    /// The folder, as errors and reports name it (`content/tests/idp.mfa_enrolled`).
    pub dir: String,
    /// The manifest's id, or the folder's name when the manifest could not be read.
    pub id: String,
    pub test: Result<CompiledTest, String>,
    /// `(path, text)` of each fixture, sorted by path.
    pub fixtures: Vec<(String, String)>,
}

#[derive(Debug, Default)]
pub struct Library {
    pub tests: Vec<LoadedTest>,
}

/// The shared modules every test may import (`data.vouch.lib`), from the shipped library.
pub fn shipped_lib() -> Vec<(String, String)> {
    crate::SHIPPED
        .iter()
        .filter(|(p, _)| p.starts_with("_lib/") && p.ends_with(".rego"))
        .map(|(p, t)| (format!("content/tests/{p}"), (*t).to_string()))
        .collect()
}

impl Library {
    /// The tests Vouch ships (`content/tests`, embedded at build time).
    pub fn shipped(known_controls: &BTreeSet<String>) -> Library {
        let files: Vec<(String, String)> = crate::SHIPPED
            .iter()
            .map(|(p, t)| ((*p).to_string(), (*t).to_string()))
            .collect();
        Library::load("content/tests", &files, &[], known_controls)
    }

    /// Loads tests from `files` (`(path relative to the library's root, text)`); `label` is
    /// the root as errors should name it. The shipped `_lib` modules are always available;
    /// `_lib/*.rego` among `files` are added to them. `extra_lib` is for callers that load a
    /// user's folder next to the shipped library.
    pub fn load(
        label: &str,
        files: &[(String, String)],
        extra_lib: &[(String, String)],
        known_controls: &BTreeSet<String>,
    ) -> Library {
        let mut lib = shipped_lib();
        lib.extend(extra_lib.iter().cloned());
        let mut dirs: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
        for (path, text) in files {
            let Some((dir, rest)) = path.split_once('/') else {
                continue;
            };
            if dir == "_lib" {
                if rest.ends_with(".rego") && label != "content/tests" {
                    lib.push((format!("{label}/{path}"), text.clone()));
                }
                continue;
            }
            if dir.starts_with('.') {
                continue;
            }
            dirs.entry(dir).or_default().push((rest, text));
        }
        let mut tests = Vec::new();
        for (dir, entries) in dirs {
            let find = |name: &str| entries.iter().find(|(p, _)| *p == name).map(|(_, t)| *t);
            let mut fixtures: Vec<(String, String)> = entries
                .iter()
                .filter(|(p, _)| p.starts_with("fixtures/") && p.ends_with(".json"))
                .map(|(p, t)| (format!("{label}/{dir}/{p}"), (*t).to_string()))
                .collect();
            fixtures.sort();
            let manifest_path = format!("{label}/{dir}/test.toml");
            let policy_path = format!("{label}/{dir}/policy.rego");
            let mut id = dir.to_string();
            let test = (|| {
                let mtext = find("test.toml").ok_or_else(|| format!("{manifest_path}: missing"))?;
                let ptext = find("policy.rego").ok_or_else(|| format!("{policy_path}: missing"))?;
                let m = manifest::parse(&manifest_path, mtext, known_controls)?;
                id = m.id.clone();
                if m.id != dir {
                    return Err(format!(
                        "{manifest_path}: the folder is '{dir}' but the test's id is '{}': name the folder after the id",
                        m.id
                    ));
                }
                compile(m, mtext, &policy_path, ptext, &lib)
            })();
            tests.push(LoadedTest {
                dir: format!("{label}/{dir}"),
                id,
                test,
                fixtures,
            });
        }
        Library { tests }
    }

    pub fn get(&self, id: &str) -> Option<&LoadedTest> {
        self.tests.iter().find(|t| t.id == id)
    }

    /// The tests that compiled.
    pub fn compiled(&self) -> impl Iterator<Item = &CompiledTest> {
        self.tests.iter().filter_map(|t| t.test.as_ref().ok())
    }
}
