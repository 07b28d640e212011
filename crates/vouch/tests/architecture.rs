//! The architecture invariants of DESIGN.md and ARCHITECTURE.md, checked against the sources.
//!
//! One test per invariant. Each scans the workspace (every `Cargo.toml` and `.rs` file, never
//! `target/`) and fails naming the file and line that broke the rule, so the message says what
//! to fix. The scans are deliberately simple text checks: a false alarm is cheap to resolve
//! (reword, or move the code where it belongs); a rule nobody checks quietly erodes.
//!
//! `checks_catch_what_they_should` feeds each check a bad example, so none of them can pass
//! vacuously by accident.
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// The workspace as files

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// A file of the workspace: its path relative to the root (with `/`) and its text.
struct File {
    rel: String,
    text: String,
}

impl File {
    /// Lines with their 1-based numbers, skipping whole-line comments (`//`, `///`, `//!`).
    fn code_lines(&self) -> impl Iterator<Item = (usize, &str)> {
        self.text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l))
            .filter(|(_, l)| !l.trim_start().starts_with("//"))
    }

    /// Like `code_lines`, but stops at the first `#[cfg(test)]`: the production part of a file
    /// (unit-test modules sit at the end of their file in this workspace).
    fn production_lines(&self) -> impl Iterator<Item = (usize, &str)> {
        let end = self
            .text
            .lines()
            .position(|l| l.trim() == "#[cfg(test)]")
            .map_or(usize::MAX, |i| i + 1);
        self.code_lines().take_while(move |(n, _)| *n < end)
    }

    fn crate_name(&self) -> Option<&str> {
        self.rel.strip_prefix("crates/")?.split('/').next()
    }

    /// Test code: anything under a `tests/` folder, and test-support modules (`src/testing.rs`).
    /// Test code: `tests/`, a crate's `src/testing.rs` or `src/testing/` (test servers behind
    /// a feature), and unit-test files (`tests.rs`, `*_tests.rs`).
    fn is_test_source(&self) -> bool {
        self.rel.contains("/tests/")
            || self.rel.ends_with("/src/testing.rs")
            || self.rel.contains("/src/testing/")
            || self.rel.ends_with("/tests.rs")
            || self.rel.ends_with("_tests.rs")
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if name == "target" || name == ".git" || name == "node_modules" {
                continue;
            }
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Every file of the workspace whose name ends with `suffix`, sorted by path.
fn files(suffix: &str) -> Vec<File> {
    let root = root();
    let mut paths = Vec::new();
    walk(&root, &mut paths);
    let mut out: Vec<File> = paths
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            Some(File { rel, text })
        })
        .collect();
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    out
}

/// This file spells out every forbidden pattern (and bad examples), so it is not scanned.
const THIS_FILE: &str = "crates/vouch/tests/architecture.rs";

fn rust_files() -> Vec<File> {
    files(".rs")
        .into_iter()
        .filter(|f| f.rel != THIS_FILE)
        .collect()
}

/// The crates of the workspace: `crates/<name>/Cargo.toml`.
fn manifests() -> Vec<File> {
    files("Cargo.toml")
        .into_iter()
        .filter(|f| f.rel.starts_with("crates/") && f.rel.matches('/').count() == 2)
        .collect()
}

fn manifest(name: &str) -> Option<File> {
    manifests()
        .into_iter()
        .find(|m| m.crate_name() == Some(name))
}

fn report(rule: &str, violations: Vec<String>) {
    assert!(
        violations.is_empty(),
        "{rule}\n{} violation(s):\n  {}",
        violations.len(),
        violations.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------------
// Checks, as functions of a file's text so they can be tried on bad examples

/// `path:line: what — the line`, for every line of `f` containing one of `needles`.
fn find_lines<'a>(
    f: &File,
    lines: impl Iterator<Item = (usize, &'a str)>,
    needles: &[&str],
    what: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    for (n, l) in lines {
        for needle in needles {
            if l.contains(needle) {
                out.push(format!("{}:{n}: {what} (`{needle}`): {}", f.rel, l.trim()));
            }
        }
    }
    out
}

/// The dependencies a crate is built with (not its dev-dependencies): `(table, name)` where
/// `name` is the package, even when renamed.
fn build_deps(m: &File) -> Vec<(String, String)> {
    let table: toml::Table = m
        .text
        .parse()
        .unwrap_or_else(|e| panic!("{}: not valid TOML: {e}", m.rel));
    let mut out = Vec::new();
    let mut take = |section: &str, t: Option<&toml::Value>| {
        if let Some(t) = t.and_then(|t| t.as_table()) {
            for (k, v) in t {
                let pkg = v
                    .get("package")
                    .and_then(|p| p.as_str())
                    .unwrap_or(k)
                    .to_string();
                out.push((section.to_string(), pkg));
            }
        }
    };
    take("dependencies", table.get("dependencies"));
    take("build-dependencies", table.get("build-dependencies"));
    if let Some(targets) = table.get("target").and_then(|t| t.as_table()) {
        for (cfg, t) in targets {
            take(&format!("target.{cfg}.dependencies"), t.get("dependencies"));
            take(
                &format!("target.{cfg}.build-dependencies"),
                t.get("build-dependencies"),
            );
        }
    }
    out
}

/// The line of a manifest that declares dependency `name`.
fn dep_line(m: &File, name: &str) -> usize {
    m.text
        .lines()
        .position(|l| {
            let t = l.trim_start();
            (t.starts_with(name) && t[name.len()..].trim_start().starts_with(['=', '.']))
                || t.contains(&format!("dependencies.{name}]"))
                || t.contains(&format!("package = \"{name}\""))
        })
        .map_or(0, |i| i + 1)
}

/// Build dependencies of `m` that are in `forbidden`.
fn forbidden_deps(m: &File, forbidden: &[&str], why: &str) -> Vec<String> {
    build_deps(m)
        .into_iter()
        .filter(|(_, name)| forbidden.contains(&name.as_str()))
        .map(|(section, name)| {
            format!(
                "{}:{}: [{section}] has `{name}`: {why}",
                m.rel,
                dep_line(m, &name)
            )
        })
        .collect()
}

const IO_CRATES: &[&str] = &[
    "tokio",
    "sqlx",
    "reqwest",
    "axum",
    "hyper",
    "ureq",
    "async-std",
    "mio",
    "object_store",
    "rusqlite",
    "postgres",
    "tokio-postgres",
    "lettre",
    "openidconnect",
    "vouch-store",
    "vouch-app",
    "vouch-web",
    "vouch-sso",
    "vouch-evidence",
    "vouch-notify",
    "vouch-collect",
];

/// What a pure crate's sources must not name: files, sockets, the environment, processes,
/// and every way to read a clock.
const IO_AND_CLOCK: &[&str] = &[
    "std::fs",
    "std::net",
    "std::env",
    "std::process",
    "std::io::stdin",
    "File::open",
    "File::create",
    "TcpStream",
    "UdpSocket",
    "tokio::",
    "SystemTime",
    "Instant::now",
    "OffsetDateTime::now",
    "PrimitiveDateTime::now",
    "now_utc",
    "now_local",
    "Utc::now",
    "Local::now",
];

fn pure_crate_violations(m: &File, sources: &[File]) -> Vec<String> {
    let mut v = forbidden_deps(m, IO_CRATES, "this crate does no IO; pass data and time in");
    for f in sources {
        v.extend(find_lines(
            f,
            f.code_lines(),
            IO_AND_CLOCK,
            "IO or a clock in a pure crate; take the value as a parameter",
        ));
        // `use std::{fs, ...}` and friends, then `fs::read(...)`.
        for (n, l) in f.code_lines() {
            for seg in ["fs::", "net::", "env::"] {
                let hit = l.match_indices(seg).any(|(i, _)| {
                    i == 0
                        || !l[..i]
                            .chars()
                            .last()
                            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
                });
                if hit {
                    v.push(format!(
                        "{}:{n}: IO in a pure crate (`{seg}`): {}",
                        f.rel,
                        l.trim()
                    ));
                }
            }
        }
    }
    v
}

const SQL_IN_STRINGS: &[&str] = &[
    "\"SELECT ",
    "\"INSERT INTO",
    "\"UPDATE ",
    "\"DELETE FROM",
    "\"CREATE TABLE",
    "\"ALTER TABLE",
    "\"DROP TABLE",
    "\"PRAGMA ",
];

fn sql_violations(f: &File) -> Vec<String> {
    find_lines(
        f,
        f.production_lines(),
        SQL_IN_STRINGS,
        "SQL outside vouch-store; add a store method instead",
    )
}

const SQL_DRIVERS: &[&str] = &[
    "sqlx",
    "rusqlite",
    "postgres",
    "tokio-postgres",
    "diesel",
    "sea-orm",
    "mysql",
    "libsqlite3-sys",
];

const HTTP_SERVERS: &[&str] = &[
    "axum",
    "hyper",
    "actix-web",
    "warp",
    "rocket",
    "poem",
    "tiny_http",
    "salvo",
    "tide",
];

/// A crate with test servers (vouch-sso, vouch-connect) may carry axum only as an optional
/// dependency behind its test feature (`test-idp`, `test-servers`) (a
/// loopback identity provider for tests), and that feature must not be on by default.
fn test_server_violations(m: &File, test_feature: &str) -> Vec<String> {
    let table: toml::Table = m.text.parse().unwrap();
    let mut v = Vec::new();
    let deps = table.get("dependencies").and_then(|d| d.as_table());
    let features = table.get("features").and_then(|f| f.as_table());
    for name in HTTP_SERVERS {
        let Some(dep) = deps.and_then(|d| d.get(*name)) else {
            continue;
        };
        let line = dep_line(m, name);
        if dep.get("optional").and_then(|o| o.as_bool()) != Some(true) {
            v.push(format!(
                "{}:{line}: `{name}` must be optional (only the {test_feature} feature serves HTTP)",
                m.rel
            ));
        }
        for (feature, list) in features.into_iter().flatten() {
            let enables = list.as_array().into_iter().flatten().any(|x| {
                x.as_str()
                    .is_some_and(|s| s == format!("dep:{name}") || s == *name)
            });
            if enables && feature != test_feature {
                v.push(format!(
                    "{}:{line}: feature `{feature}` turns on `{name}`; only `{test_feature}` may",
                    m.rel
                ));
            }
        }
    }
    let default = features
        .and_then(|f| f.get("default"))
        .and_then(|d| d.as_array())
        .cloned()
        .unwrap_or_default();
    if default.iter().any(|x| x.as_str() == Some(test_feature)) {
        v.push(format!(
            "{}: `{test_feature}` must not be a default feature",
            m.rel
        ));
    }
    v
}

/// Features that start a real server for tests (an identity provider, an S3 service): each
/// crate's own, never a default, never switched on by a non-dev dependency.
const TEST_SERVERS: &[(&str, &str)] = &[
    ("vouch-sso", "test-idp"),
    ("vouch-evidence", "test-s3"),
    ("vouch-connect", "test-servers"),
    ("vouch-connect-aws", "test-moto"),
];

/// A crate's non-dev dependency must not switch on a test server, and the crate offering one
/// must not make it a default.
fn test_idp_enabled(m: &File) -> Vec<String> {
    let table: toml::Table = m.text.parse().unwrap();
    let mut v = Vec::new();
    for (krate, feature) in TEST_SERVERS {
        if m.crate_name() == Some(*krate) {
            let default = table
                .get("features")
                .and_then(|f| f.get("default"))
                .and_then(|d| d.as_array())
                .is_some_and(|d| d.iter().any(|x| x.as_str() == Some(*feature)));
            if default {
                v.push(format!(
                    "{}: `{feature}` must not be a default feature",
                    m.rel
                ));
            }
        }
        let Some(dep) = table.get("dependencies").and_then(|d| d.get(*krate)) else {
            continue;
        };
        let on = dep
            .get("features")
            .and_then(|f| f.as_array())
            .is_some_and(|f| f.iter().any(|x| x.as_str() == Some(*feature)));
        if on {
            v.push(format!(
                "{}:{}: [dependencies] {krate} with feature {feature} would ship a test server; use [dev-dependencies]",
                m.rel,
                dep_line(m, krate)
            ));
        }
    }
    v
}

const STORE_WRITE_SIDE: &[&str] = &["WriteTx", "append_event", ".begin().await", "store.begin("];

fn write_side_violations(f: &File) -> Vec<String> {
    find_lines(
        f,
        f.code_lines(),
        STORE_WRITE_SIDE,
        "the store's write side outside vouch-app; call an App method",
    )
}

const ENV_READS: &[&str] = &[
    "env::var",
    "env::set_var",
    "env::remove_var",
    "dotenv",
    "option_env!",
    // Library constructors that read the environment behind the caller's back.
    "from_env(",
];

fn env_violations(f: &File) -> Vec<String> {
    find_lines(
        f,
        f.code_lines(),
        ENV_READS,
        "reads the environment outside the binary; take the value as a parameter",
    )
}

/// Statics that hold configuration, and mutable globals of any kind.
fn global_config_violations(f: &File) -> Vec<String> {
    let mut v = Vec::new();
    for (n, l) in f.production_lines() {
        let t = l.trim_start();
        let declares = t.starts_with("static ")
            || t.starts_with("pub static ")
            || t.starts_with("pub(crate) static ")
            || t.contains("lazy_static!")
            || t.contains("thread_local!")
            || t.contains("OnceLock<")
            || t.contains("LazyLock<")
            || t.contains("OnceCell<")
            || t.contains("Lazy<");
        if t.contains("static mut ") {
            v.push(format!("{}:{n}: a mutable global: {}", f.rel, t));
        } else if declares
            && ["Config", "Settings", "Overrides", "Env", "Options"]
                .iter()
                .any(|w| t.contains(w))
        {
            v.push(format!(
                "{}:{n}: configuration in a global; pass it down as a value: {}",
                f.rel, t
            ));
        }
    }
    v
}

/// Hosts a test may name: loopback, and names reserved for examples and tests (RFC 2606/6761).
fn host_is_allowed(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    h.is_empty()
        || h == "localhost"
        || h.ends_with(".localhost")
        || h == "[::1]"
        || h.starts_with("127.")
        || ["example.com", "example.org", "example.net"]
            .iter()
            .any(|d| h == *d || h.ends_with(&format!(".{d}")))
        || [".example", ".test", ".invalid"]
            .iter()
            .any(|d| h.ends_with(d))
}

/// The host of every `http://` or `https://` URL on a line (placeholders such as `{addr}` are
/// returned as they are).
fn url_hosts(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    for scheme in ["http://", "https://"] {
        for (i, _) in line.match_indices(scheme) {
            let rest = &line[i + scheme.len()..];
            let authority: String = if rest.starts_with('{') {
                rest.split_inclusive('}').next().unwrap_or("").to_string()
            } else if rest.starts_with('[') {
                rest.split_inclusive(']').next().unwrap_or("").to_string()
            } else {
                rest.chars()
                    .take_while(|c| !"/?#\"'`)]>}{ \t,;\\".contains(*c))
                    .collect()
            };
            let host = authority.rsplit('@').next().unwrap_or("");
            let host = if host.starts_with('[') || host.starts_with('{') {
                host.to_string()
            } else {
                host.split(':').next().unwrap_or("").to_string()
            };
            out.push(host);
        }
    }
    out
}

fn test_url_violations(f: &File) -> Vec<String> {
    let mut v = Vec::new();
    let loopback_only = f.text.contains("127.0.0.1") && !f.text.contains("0.0.0.0");
    let raw: Vec<&str> = f.text.lines().collect();
    for (n, l) in f.code_lines() {
        // Response data that names a real address (a documentation link, an XML namespace)
        // says so on its line; nothing requests it.
        if raw
            .get(n.wrapping_sub(1))
            .is_some_and(|r| r.contains("// not fetched"))
        {
            continue;
        }
        for host in url_hosts(l) {
            let placeholder = host.starts_with('{');
            if placeholder && loopback_only {
                // `format!("http://{addr}")` with an address this file bound on 127.0.0.1.
                continue;
            }
            if !host_is_allowed(&host) {
                v.push(format!(
                    "{}:{n}: a test names `{host}`; tests reach only loopback (127.0.0.1, localhost, [::1]) or reserved example names (*.example, example.com): {}",
                    f.rel,
                    l.trim()
                ));
            }
        }
    }
    v
}

const FETCHING: &[&str] = &[
    "reqwest",
    "ureq",
    "curl",
    "wget",
    "http://",
    "https://",
    "TcpStream",
    "git clone",
    "Command::new(\"git\"",
];

fn build_script_violations(f: &File) -> Vec<String> {
    find_lines(
        f,
        f.code_lines(),
        FETCHING,
        "a build script that may reach the network",
    )
}

/// sqlx's compile-time checked macros need a database (or prepared data) at build time.
const COMPILE_TIME_SQL: &[&str] = &[
    "query!(",
    "query_as!(",
    "query_scalar!(",
    "query_file!(",
    "query_file_as!(",
    "query_unchecked!(",
];

// ---------------------------------------------------------------------------------------------
// 1. vouch-domain and vouch-policy do no IO and read no clock; time is passed in.

#[test]
fn invariant_1_domain_and_policy_do_no_io_and_read_no_clock() {
    let all = rust_files();
    let mut v = Vec::new();
    let mut checked = 0;
    for name in ["vouch-domain", "vouch-policy"] {
        let Some(m) = manifest(name) else { continue };
        checked += 1;
        let src: Vec<File> = all
            .iter()
            .filter(|f| f.rel.starts_with(&format!("crates/{name}/src/")))
            .map(|f| File {
                rel: f.rel.clone(),
                text: f.text.clone(),
            })
            .collect();
        assert!(!src.is_empty(), "crates/{name}/src has no sources?");
        v.extend(pure_crate_violations(&m, &src));
    }
    assert!(
        checked >= 1,
        "vouch-domain was not found; is the root right?"
    );
    report(
        "Invariant 1: vouch-domain and vouch-policy do no IO and read no clock; time is passed in.",
        v,
    );
}

// ---------------------------------------------------------------------------------------------
// 2. SQL lives only in the store; HTTP serving only in vouch-web.

#[test]
fn invariant_2_sql_lives_only_in_the_store() {
    let mut v = Vec::new();
    for m in manifests() {
        if m.crate_name() != Some("vouch-store") {
            v.extend(forbidden_deps(
                &m,
                SQL_DRIVERS,
                "only vouch-store talks to the database ([dev-dependencies] for tests are fine)",
            ));
        }
    }
    for f in rust_files() {
        let in_store = f.rel.starts_with("crates/vouch-store/");
        // osquery queries are endpoint checks a Fleet export carries, not Vouch's SQL.
        let osquery_data = f.rel == "crates/vouch-sample/src/fleet.rs";
        if !in_store
            && !osquery_data
            && f.rel.starts_with("crates/")
            && f.rel.contains("/src/")
            && !f.is_test_source()
        {
            v.extend(sql_violations(&f));
        }
    }
    for f in files(".sql") {
        if !f.rel.starts_with("crates/vouch-store/migrations/") {
            v.push(format!(
                "{}: SQL files belong in crates/vouch-store/migrations/",
                f.rel
            ));
        }
    }
    report("Invariant 2: SQL lives only in the store.", v);
}

#[test]
fn invariant_2_http_serving_lives_only_in_vouch_web() {
    let mut v = Vec::new();
    for m in manifests() {
        match m.crate_name() {
            Some("vouch-web") => {}
            Some("vouch-sso") => v.extend(test_server_violations(&m, "test-idp")),
            Some("vouch-connect") => v.extend(test_server_violations(&m, "test-servers")),
            Some("vouch-notify") => v.extend(test_server_violations(&m, "test-servers")),
            _ => v.extend(forbidden_deps(
                &m,
                HTTP_SERVERS,
                "only vouch-web serves HTTP",
            )),
        }
        v.extend(test_idp_enabled(&m));
    }
    for f in rust_files() {
        let allowed = f.rel.starts_with("crates/vouch-web/") || f.is_test_source();
        if f.rel.starts_with("crates/") && !allowed {
            v.extend(find_lines(
                &f,
                f.code_lines(),
                &["axum::", "hyper::", "actix_web::", "warp::"],
                "HTTP serving outside vouch-web",
            ));
        }
    }
    report("Invariant 2: HTTP serving lives only in vouch-web.", v);
}

// ---------------------------------------------------------------------------------------------
// 3. Every change of state goes through vouch-app, which checks the role and writes the audit
//    event in the same transaction. An auditor is read-only by construction.

#[test]
fn invariant_3_every_change_goes_through_vouch_app() {
    let mut v = Vec::new();
    // The web layer and the binary never open a write transaction themselves.
    for f in rust_files() {
        let front =
            f.rel.starts_with("crates/vouch-web/src/") || f.rel.starts_with("crates/vouch/src/");
        if front {
            v.extend(write_side_violations(&f));
        }
        if f.rel.starts_with("crates/vouch-web/src/") {
            v.extend(find_lines(
                &f,
                f.code_lines(),
                &["vouch_store::"],
                "vouch-web uses the store directly; go through vouch_app::App",
            ));
        }
        // The App keeps its store private: nothing outside vouch-app can reach the write side.
        if f.rel.starts_with("crates/vouch-app/src/") {
            v.extend(find_lines(
                &f,
                f.production_lines(),
                &["pub store:", "pub fn store(", "pub(crate) fn store_mut("],
                "vouch-app exposes its store; keep it private so every change is a use case",
            ));
        }
    }
    if let Some(web) = manifest("vouch-web") {
        v.extend(forbidden_deps(
            &web,
            &["vouch-store", "sqlx"],
            "vouch-web reaches state only through vouch-app",
        ));
    }
    // The guards that make "audited" and "read-only" hold at run time must exist.
    let root = root();
    for (file, test) in [
        (
            "crates/vouch-store/tests/conformance.rs",
            "a_change_without_an_audit_event_is_refused",
        ),
        (
            "crates/vouch-store/tests/conformance.rs",
            "a_dropped_transaction_writes_nothing",
        ),
        (
            "crates/vouch-app/src/authz.rs",
            "auditors_are_read_only_by_construction",
        ),
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
        if !text.contains(&format!("fn {test}(")) {
            v.push(format!(
                "{file}: the test `{test}` that guards this invariant is gone"
            ));
        }
    }
    let commit =
        std::fs::read_to_string(root.join("crates/vouch-store/src/write.rs")).unwrap_or_default();
    if !commit.contains("StoreError::MissingAuditEvent") {
        v.push(
            "crates/vouch-store/src/write.rs: WriteTx::commit no longer refuses a change without an audit event"
                .into(),
        );
    }
    report(
        "Invariant 3: every change of state goes through vouch-app (role check + audit event in one transaction).",
        v,
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Collectors and tests return values; the app persists them.

#[test]
fn invariant_4_collectors_and_tests_return_values() {
    let all = rust_files();
    let mut v = Vec::new();
    for name in [
        "vouch-collect",
        "vouch-connect",
        "vouch-connect-aws",
        "vouch-sample",
        "vouch-policy",
    ] {
        let Some(m) = manifest(name) else {
            eprintln!("{name} does not exist yet: nothing to check");
            continue;
        };
        v.extend(forbidden_deps(
            &m,
            &["vouch-store", "vouch-app", "vouch-web", "vouch", "sqlx"],
            "collectors and tests return values; vouch-app persists them",
        ));
        for f in all
            .iter()
            .filter(|f| f.rel.starts_with(&format!("crates/{name}/src/")))
        {
            v.extend(find_lines(
                f,
                f.code_lines(),
                &["vouch_store::", "vouch_app::", "sqlx::"],
                "collectors and tests do not write state",
            ));
        }
    }
    report(
        "Invariant 4: collectors and tests return values; the app persists them.",
        v,
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Configuration is a value passed down; no globals. Secrets can come from files (`*_FILE`).

#[test]
fn invariant_5_configuration_is_a_value_passed_down() {
    let mut v = Vec::new();
    for f in rust_files() {
        if !f.rel.starts_with("crates/") {
            continue;
        }
        let binary = f.rel.starts_with("crates/vouch/src/");
        // A build script runs at build time, and Cargo hands it its folders through the
        // environment (CARGO_MANIFEST_DIR, OUT_DIR); that is not configuration.
        let build_script = f.rel.ends_with("/build.rs");
        if !binary && !build_script && !f.is_test_source() {
            v.extend(env_violations(&f));
        }
        if f.rel.contains("/src/") && !f.is_test_source() {
            v.extend(global_config_violations(&f));
        }
    }
    // Secrets from files: the loader knows the `_FILE` / `_file` forms.
    let config = std::fs::read_to_string(root().join("crates/vouch/src/config.rs")).unwrap();
    if !(config.contains("_FILE") && config.contains("_file")) {
        v.push(
            "crates/vouch/src/config.rs: secrets can no longer come from *_FILE / *_file".into(),
        );
    }
    report(
        "Invariant 5: configuration is a value passed down (only the binary reads the environment; no configuration in globals).",
        v,
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Nothing reaches the network at build or test time beyond loopback.

#[test]
fn invariant_6_nothing_reaches_the_network_beyond_loopback() {
    let mut v = Vec::new();
    for f in rust_files() {
        let build_script = f.rel.ends_with("/build.rs") || f.rel == "build.rs";
        if build_script {
            v.extend(build_script_violations(&f));
        }
        if f.rel.starts_with("crates/") && f.is_test_source() {
            v.extend(test_url_violations(&f));
        }
        if f.rel.starts_with("crates/") {
            v.extend(find_lines(
                &f,
                f.code_lines(),
                COMPILE_TIME_SQL,
                "a compile-time SQL macro needs a database at build time; use sqlx::query()",
            ));
        }
    }
    for m in manifests() {
        let table: toml::Table = m.text.parse().unwrap();
        if let Some(b) = table.get("package").and_then(|p| p.get("build")) {
            v.push(format!(
                "{}: declares a build script ({b}); it must not fetch anything",
                m.rel
            ));
        }
        let bdeps: Vec<String> = build_deps(&m)
            .into_iter()
            .filter(|(s, _)| s.ends_with("build-dependencies"))
            .map(|(_, n)| n)
            .collect();
        for n in bdeps {
            if ["reqwest", "ureq", "curl", "hyper", "attohttpc", "minreq"].contains(&n.as_str()) {
                v.push(format!(
                    "{}:{}: build-dependency `{n}` can fetch at build time",
                    m.rel,
                    dep_line(&m, &n)
                ));
            }
        }
    }
    report(
        "Invariant 6: nothing reaches the network at build or test time beyond loopback.",
        v,
    );
}

// ---------------------------------------------------------------------------------------------
// The direction of dependencies, and ARCHITECTURE.md staying true

/// Inner crates first; a crate may depend only on crates before it. New crates must be placed
/// here (and in ARCHITECTURE.md's codemap) on purpose.
const LAYERS: &[&str] = &[
    "vouch-domain",
    "vouch-policy",
    "vouch-sso",
    "vouch-store",
    "vouch-evidence",
    "vouch-collect",
    "vouch-connect",
    "vouch-connect-aws",
    "vouch-sample",
    "vouch-notify",
    "vouch-export",
    "vouch-app",
    "vouch-web",
    "vouch",
];

#[test]
fn dependencies_point_inward() {
    let mut v = Vec::new();
    for m in manifests() {
        let name = m.crate_name().unwrap().to_string();
        let Some(rank) = LAYERS.iter().position(|l| *l == name) else {
            v.push(format!(
                "{}: crate `{name}` is not in LAYERS (crates/vouch/tests/architecture.rs); place it in the dependency order and in ARCHITECTURE.md",
                m.rel
            ));
            continue;
        };
        for (section, dep) in build_deps(&m) {
            if let Some(d) = LAYERS.iter().position(|l| *l == dep)
                && d >= rank
            {
                v.push(format!(
                    "{}:{}: [{section}] `{name}` depends on `{dep}`, which is not further in",
                    m.rel,
                    dep_line(&m, &dep)
                ));
            }
        }
    }
    report("Dependencies point inward, toward vouch-domain.", v);
}

/// Every `` `crates/…/file.rs::test_name` `` that ARCHITECTURE.md names exists.
#[test]
fn architecture_md_names_tests_that_exist() {
    let root = root();
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut named = 0;
    let mut v = Vec::new();
    for (i, line) in doc.lines().enumerate() {
        for chunk in line.split('`').skip(1).step_by(2) {
            let Some((file, test)) = chunk
                .split_once(".rs::")
                .filter(|_| chunk.starts_with("crates/"))
            else {
                continue;
            };
            named += 1;
            let file = format!("{file}.rs");
            match std::fs::read_to_string(root.join(&file)) {
                Ok(text) if text.contains(&format!("fn {test}(")) => {}
                Ok(_) => v.push(format!(
                    "ARCHITECTURE.md:{}: `{file}` has no test `{test}`",
                    i + 1
                )),
                Err(_) => v.push(format!(
                    "ARCHITECTURE.md:{}: `{file}` does not exist",
                    i + 1
                )),
            }
        }
    }
    assert!(
        named >= 6,
        "ARCHITECTURE.md should name the test guarding each invariant"
    );
    // And every test in this file is named there.
    let me = std::fs::read_to_string(root.join(THIS_FILE)).unwrap();
    let mut lines = me.lines().peekable();
    while let Some(l) = lines.next() {
        if l.trim() == "#[test]" {
            let next = lines.peek().copied().unwrap_or("");
            let name = next
                .trim_start_matches("fn ")
                .split('(')
                .next()
                .unwrap_or("")
                .trim();
            if !name.is_empty() && !doc.contains(&format!("architecture.rs::{name}`")) {
                v.push(format!(
                    "ARCHITECTURE.md does not name crates/vouch/tests/architecture.rs::{name}"
                ));
            }
        }
    }
    report("ARCHITECTURE.md points at tests that exist.", v);
}

// ---------------------------------------------------------------------------------------------
// The checks themselves can fail

fn file(rel: &str, text: &str) -> File {
    File {
        rel: rel.into(),
        text: text.into(),
    }
}

#[test]
fn checks_catch_what_they_should() {
    // 1
    let m = file(
        "crates/vouch-policy/Cargo.toml",
        "[package]\nname = \"vouch-policy\"\n\n[dependencies]\ntokio.workspace = true\nserde = \"1\"\n",
    );
    let src = file(
        "crates/vouch-policy/src/lib.rs",
        "//! Uses no SystemTime (comment)\nuse std::{fs, collections::HashMap};\npub fn now() -> i64 { time::OffsetDateTime::now_utc().unix_timestamp() }\nfn f() { let _ = fs::read(\"x\"); }\n",
    );
    let v = pure_crate_violations(&m, &[src]);
    assert!(
        v.iter()
            .any(|x| x.contains("Cargo.toml:5:") && x.contains("tokio")),
        "{v:#?}"
    );
    assert!(
        v.iter()
            .any(|x| x.contains("lib.rs:3:") && x.contains("now_utc")),
        "{v:#?}"
    );
    assert!(
        v.iter()
            .any(|x| x.contains("lib.rs:4:") && x.contains("fs::")),
        "{v:#?}"
    );
    assert!(
        !v.iter().any(|x| x.contains("lib.rs:1:")),
        "comments are not code: {v:#?}"
    );
    let ok = file(
        "crates/vouch-domain/src/a.rs",
        "pub fn f(now: time::OffsetDateTime) {}\n",
    );
    let clean = file(
        "crates/vouch-domain/Cargo.toml",
        "[dependencies]\nserde = \"1\"\n[dev-dependencies]\ntokio = \"1\"\n",
    );
    assert!(pure_crate_violations(&clean, &[ok]).is_empty());

    // 2
    let web = file(
        "crates/vouch-web/src/x.rs",
        "fn f() { q(\"SELECT id FROM users\"); q(r#\"DELETE FROM sessions\"#); }\n#[cfg(test)]\nmod t { const S: &str = \"SELECT 1\"; }\n",
    );
    let v = sql_violations(&web);
    assert_eq!(v.len(), 2, "{v:#?}");
    assert!(v[0].starts_with("crates/vouch-web/src/x.rs:1:"), "{v:#?}");
    let m = file(
        "crates/vouch-web/Cargo.toml",
        "[dependencies]\nsqlx = { workspace = true }\n",
    );
    assert!(forbidden_deps(&m, SQL_DRIVERS, "x")[0].contains("Cargo.toml:2:"));
    let sso = file(
        "crates/vouch-sso/Cargo.toml",
        "[features]\ndefault = [\"test-idp\"]\nserver = [\"dep:axum\"]\ntest-idp = [\"dep:axum\"]\n[dependencies]\naxum = { workspace = true }\n",
    );
    let v = test_server_violations(&sso, "test-idp");
    assert_eq!(v.len(), 3, "not optional, other feature, default: {v:#?}");
    let good_sso = file(
        "crates/vouch-sso/Cargo.toml",
        "[features]\ntest-idp = [\"dep:axum\"]\n[dependencies]\naxum = { workspace = true, optional = true }\n",
    );
    assert!(test_server_violations(&good_sso, "test-idp").is_empty());
    let app = file(
        "crates/vouch-app/Cargo.toml",
        "[dependencies]\nvouch-sso = { workspace = true, features = [\"test-idp\"] }\n",
    );
    assert_eq!(test_idp_enabled(&app).len(), 1);
    let app = file(
        "crates/vouch-app/Cargo.toml",
        "[dependencies]\nvouch-evidence = { workspace = true, features = [\"test-s3\"] }\n",
    );
    assert_eq!(test_idp_enabled(&app).len(), 1);
    let vault = file(
        "crates/vouch-evidence/Cargo.toml",
        "[package]\nname = \"vouch-evidence\"\n[features]\ndefault = [\"test-s3\"]\n",
    );
    assert_eq!(test_idp_enabled(&vault).len(), 1, "a default test server");

    // 3
    let handler = file(
        "crates/vouch-web/src/h.rs",
        "async fn h(s: Store) { let mut tx = s.begin().await?; tx.append_event(e, now).await?; }\nfn g() { sso.begin(); }\n",
    );
    let v = write_side_violations(&handler);
    assert!(
        v.len() >= 2 && v.iter().all(|x| x.contains("h.rs:1:")),
        "{v:#?}"
    );

    // 5
    let app = file(
        "crates/vouch-app/src/a.rs",
        "fn user() -> String { std::env::var(\"USER\").unwrap() }\nstatic CONFIG: OnceLock<AppConfig> = OnceLock::new();\nstatic mut N: u32 = 0;\nstatic V: OnceLock<Views> = OnceLock::new();\n",
    );
    assert!(env_violations(&app)[0].contains("a.rs:1:"));
    let g = global_config_violations(&app);
    assert_eq!(g.len(), 2, "{g:#?}");
    assert!(
        g[0].contains("a.rs:2:") && g[1].contains("a.rs:3:"),
        "{g:#?}"
    );

    // 6
    assert_eq!(
        url_hosts("let u = \"https://user@api.github.com:443/x\";"),
        ["api.github.com"]
    );
    assert_eq!(
        url_hosts("format!(\"http://127.0.0.1:{port}/a\")"),
        ["127.0.0.1"]
    );
    assert_eq!(url_hosts("\"http://[::1]:8080\""), ["[::1]"]);
    assert_eq!(url_hosts("format!(\"http://{addr}\")"), ["{addr}"]);
    let t = file(
        "crates/vouch-web/tests/t.rs",
        "// see https://www.rfc-editor.org/rfc/rfc6749\nconst A: &str = \"https://accounts.google.com/o\";\nconst B: &str = \"https://vouch.acme.example/cb\";\nconst C: &str = \"http://localhost:1\";\nlet x = format!(\"http://{addr}\");\n",
    );
    let v = test_url_violations(&t);
    assert_eq!(
        v.len(),
        2,
        "google, and a placeholder in a file that never binds 127.0.0.1: {v:#?}"
    );
    assert!(
        v[0].contains("t.rs:2:") && v[1].contains("t.rs:5:"),
        "{v:#?}"
    );
    let b = file(
        "build.rs",
        "fn main() { reqwest::blocking::get(\"https://x\").unwrap(); }\n",
    );
    assert!(!build_script_violations(&b).is_empty());

    // Renamed dependencies are found by their package name.
    let m = file(
        "crates/vouch-domain/Cargo.toml",
        "[dependencies]\nrt = { package = \"tokio\", version = \"1\" }\n",
    );
    assert!(forbidden_deps(&m, IO_CRATES, "x")[0].contains("Cargo.toml:2:"));
}
