//! Configuration: defaults, then an optional TOML file, then `VOUCH_*` environment variables,
//! then command-line flags. Secrets may come from files (`*_FILE` variables or `*_file` keys).
//!
//! Every value is checked, and every problem is reported at once with where it came from, so
//! an operator fixes a configuration in one pass. The result is a plain value handed down to
//! the parts that need it; nothing reads configuration from a global.
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Serialize)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    #[serde(serialize_with = "redacted_url")]
    pub database_url: String,
    pub public_url: String,
    pub log_format: String,
    pub log_level: String,
    pub max_body_bytes: usize,
    pub session_idle_minutes: u64,
    pub session_max_hours: u64,
    pub login_max_failures: u32,
    pub login_window_minutes: u64,
    pub oidc: Option<OidcSection>,
    pub evidence: EvidenceSection,
    /// `[collect]`: file imports.
    pub collect: CollectSection,
    pub monitoring: MonitoringSection,
    /// `[integrations.NAME]` tables: integrations kept as the file says (created or updated
    /// at start-up; the UI shows them like any other).
    pub integrations: Vec<ConfigIntegration>,
}

/// One `[integrations.NAME]` table.
#[derive(Clone, Debug, Serialize)]
pub struct ConfigIntegration {
    pub name: String,
    pub kind: String,
    /// The `settings` sub-table, as JSON.
    pub settings: serde_json::Value,
    /// From `secret` or `secret_file`.
    #[serde(serialize_with = "redacted")]
    pub secret: Option<String>,
    pub schedule_minutes: Option<i64>,
    pub enabled: bool,
    pub controls: Vec<String>,
}

/// Reads the `[integrations.NAME]` tables, reporting each problem with its place.
fn integrations_from(
    table: toml::Table,
    origin: &str,
    errors: &mut Vec<String>,
) -> Vec<ConfigIntegration> {
    let mut out = vec![];
    for (name, v) in table {
        let place = format!("{origin}: integrations.{name}");
        let toml::Value::Table(mut t) = v else {
            errors.push(format!("{place}: must be a table ([integrations.{name}])"));
            continue;
        };
        let kind = match t.remove("kind") {
            Some(toml::Value::String(k)) => k,
            _ => {
                errors.push(format!(
                    "{place}.kind: give the kind (github, okta, google_workspace or aws)"
                ));
                continue;
            }
        };
        let secret = match (t.remove("secret"), t.remove("secret_file")) {
            (Some(toml::Value::String(s)), None) => Some(s),
            (None, Some(toml::Value::String(p))) => {
                read_secret_file(&p, &format!("{place}.secret_file"), errors)
            }
            (None, None) => None,
            (Some(_), Some(_)) => {
                errors.push(format!("{place}: give secret or secret_file, not both"));
                None
            }
            _ => {
                errors.push(format!("{place}.secret: must be a string"));
                None
            }
        };
        let schedule_minutes = match t.remove("schedule_minutes") {
            None => None,
            Some(toml::Value::Integer(i)) => Some(i),
            Some(_) => {
                errors.push(format!(
                    "{place}.schedule_minutes: must be a number of minutes"
                ));
                None
            }
        };
        let enabled = match t.remove("enabled") {
            None => true,
            Some(toml::Value::Boolean(b)) => b,
            Some(_) => {
                errors.push(format!("{place}.enabled: must be true or false"));
                true
            }
        };
        let controls = match t.remove("controls") {
            None => vec![],
            Some(toml::Value::Array(a)) if a.iter().all(toml::Value::is_str) => a
                .iter()
                .filter_map(|c| c.as_str().map(str::to_string))
                .collect(),
            Some(_) => {
                errors.push(format!("{place}.controls: must be a list of control ids"));
                vec![]
            }
        };
        let settings = match t.remove("settings") {
            None => serde_json::json!({}),
            Some(v @ toml::Value::Table(_)) => serde_json::to_value(v).unwrap_or_default(),
            Some(_) => {
                errors.push(format!("{place}.settings: must be a table"));
                serde_json::json!({})
            }
        };
        for k in t.keys() {
            errors.push(format!(
                "{place}: unknown key '{k}' (kind, settings, secret, secret_file, schedule_minutes, enabled, controls)"
            ));
        }
        out.push(ConfigIntegration {
            name,
            kind,
            settings,
            secret,
            schedule_minutes,
            enabled,
            controls,
        });
    }
    out
}

#[derive(Clone, Debug, Serialize)]
pub struct OidcSection {
    pub issuer_url: String,
    pub client_id: String,
    #[serde(serialize_with = "redacted")]
    pub client_secret: Option<String>,
    pub display_name: String,
    pub trust_idp_mfa: bool,
}

/// Where evidence blobs go and how long they stay.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EvidenceSection {
    /// A folder, or `s3://bucket/prefix`; default: `blobs` in the data folder.
    pub vault: String,
    pub max_file_bytes: u64,
    /// Days after the period a record covers before retention may purge it; none = forever.
    pub retention_days: Option<u32>,
    pub s3_endpoint: Option<String>,
    pub s3_region: Option<String>,
    pub s3_access_key_id: Option<String>,
    #[serde(serialize_with = "redacted")]
    pub s3_secret_access_key: Option<String>,
    pub s3_allow_http: bool,
}

/// How file imports are bounded.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CollectSection {
    /// The largest file `vouch import` (and the import page) reads; importers read a file whole.
    pub import_max_bytes: u64,
}

/// How control tests run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MonitoringSection {
    /// Minutes between scheduled evaluations of every test (`vouch serve`).
    pub schedule_minutes: u64,
    /// Seconds one test may take before it is stopped and marked in error.
    pub test_time_limit_secs: u64,
    /// A folder of the organisation's own tests, loaded next to the shipped ones.
    pub tests_dir: Option<PathBuf>,
}

fn redacted<S: serde::Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if v.is_some() { "(set)" } else { "(not set)" })
}

fn redacted_url<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    match url::Url::parse(v) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            s.serialize_str(u.as_str())
        }
        _ => s.serialize_str(v),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Str,
    Int,
    Bool,
    /// A secret: may also come from `<key>_file` / `VOUCH_<KEY>_FILE`.
    Secret,
}

/// Every key Vouch understands, with its kind and default (as text, `None` = no default).
const KEYS: &[(&str, Kind, Option<&str>, &str)] = &[
    (
        "listen",
        Kind::Str,
        Some("127.0.0.1:8080"),
        "address and port to listen on",
    ),
    (
        "data_dir",
        Kind::Str,
        Some("./vouch-data"),
        "folder for the database and blobs",
    ),
    (
        "database_url",
        Kind::Secret,
        None,
        "sqlite://PATH or postgres://… (default: SQLite in data_dir)",
    ),
    (
        "public_url",
        Kind::Str,
        None,
        "address people use to reach Vouch (default: http://LISTEN)",
    ),
    ("log.format", Kind::Str, Some("text"), "text or json"),
    (
        "log.level",
        Kind::Str,
        Some("info"),
        "error, warn, info, debug or trace",
    ),
    (
        "max_body_bytes",
        Kind::Int,
        Some("16777216"),
        "largest request body accepted",
    ),
    (
        "session.idle_minutes",
        Kind::Int,
        Some("480"),
        "sign out after this long idle",
    ),
    (
        "session.max_hours",
        Kind::Int,
        Some("24"),
        "sign out this long after sign-in",
    ),
    (
        "login.max_failures",
        Kind::Int,
        Some("5"),
        "failed sign-ins per account before slowing down",
    ),
    (
        "login.window_minutes",
        Kind::Int,
        Some("15"),
        "window for counting failed sign-ins",
    ),
    (
        "oidc.issuer_url",
        Kind::Str,
        None,
        "OpenID Connect issuer (turns on single sign-on)",
    ),
    (
        "oidc.client_id",
        Kind::Str,
        None,
        "client id registered at the identity provider",
    ),
    ("oidc.client_secret", Kind::Secret, None, "client secret"),
    (
        "oidc.display_name",
        Kind::Str,
        Some("Sign in with SSO"),
        "label of the sign-in button",
    ),
    (
        "oidc.trust_idp_mfa",
        Kind::Bool,
        Some("true"),
        "count an SSO sign-in as two-factor",
    ),
    (
        "evidence.vault",
        Kind::Str,
        None,
        "where evidence files go: a folder or s3://bucket/prefix (default: DATA_DIR/blobs)",
    ),
    (
        "evidence.max_file_bytes",
        Kind::Int,
        Some("4294967296"),
        "largest evidence file accepted",
    ),
    (
        "evidence.retention_days",
        Kind::Int,
        None,
        "days after the period evidence covers before it may be purged (default: keep forever)",
    ),
    (
        "evidence.s3_endpoint",
        Kind::Str,
        None,
        "S3-compatible service URL (default: AWS, or AWS_ENDPOINT)",
    ),
    (
        "evidence.s3_region",
        Kind::Str,
        None,
        "S3 region (default: AWS_REGION)",
    ),
    (
        "evidence.s3_access_key_id",
        Kind::Str,
        None,
        "S3 access key (default: AWS_ACCESS_KEY_ID)",
    ),
    (
        "evidence.s3_secret_access_key",
        Kind::Secret,
        None,
        "S3 secret key (default: AWS_SECRET_ACCESS_KEY)",
    ),
    (
        "evidence.s3_allow_http",
        Kind::Bool,
        Some("false"),
        "allow a plain http:// S3 endpoint",
    ),
    (
        "collect.import_max_bytes",
        Kind::Int,
        Some("1073741824"),
        "largest file an import reads (importers read a file whole)",
    ),
    (
        "monitoring.schedule_minutes",
        Kind::Int,
        Some("60"),
        "minutes between scheduled evaluations of every control test",
    ),
    (
        "monitoring.test_time_limit_secs",
        Kind::Int,
        Some("10"),
        "seconds one control test may run before it is stopped and marked in error",
    ),
    (
        "monitoring.tests_dir",
        Kind::Str,
        None,
        "folder of your own control tests (same layout as content/tests)",
    ),
];

/// Environment variables that are not configuration keys but are Vouch's own.
const OTHER_ENV: &[&str] = &[
    "VOUCH_CONFIG",
    "VOUCH_TEST_POSTGRES_URL",
    "VOUCH_ADMIN_PASSWORD",
];

fn env_name(key: &str) -> String {
    format!("VOUCH_{}", key.replace('.', "_").to_uppercase())
}

/// Values given on the command line, which win over everything else.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    /// Where each value came from (for `config show`).
    pub sources: BTreeMap<String, String>,
}

/// A raw value and where it came from.
#[derive(Clone, Debug)]
struct Raw {
    value: toml::Value,
    source: String,
}

fn flatten(prefix: &str, v: &toml::Value, out: &mut Vec<(String, toml::Value)>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => out.push((prefix.to_string(), other.clone())),
    }
}

fn read_secret_file(path: &str, origin: &str, errors: &mut Vec<String>) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(s) => Some(s.trim_end_matches(['\n', '\r']).to_string()),
        Err(e) => {
            errors.push(format!("{origin}: cannot read secret file {path}: {e}"));
            None
        }
    }
}

/// Loads the configuration. `env` is passed in (not read here) so tests control it.
pub fn load(over: &Overrides, env: &BTreeMap<String, String>) -> (Option<Config>, Report) {
    let mut rep = Report::default();
    let mut raw: BTreeMap<String, Raw> = BTreeMap::new();
    let mut file_integrations = Vec::new();
    let known = |k: &str| KEYS.iter().find(|x| x.0 == k);

    for (k, _, def, _) in KEYS {
        if let Some(d) = def {
            raw.insert(
                k.to_string(),
                Raw {
                    value: toml::Value::String(d.to_string()),
                    source: "default".into(),
                },
            );
        }
    }

    // Where is the file? Flag, then VOUCH_CONFIG, then vouch.toml in the data folder.
    let data_dir_hint = over
        .data_dir
        .clone()
        .or_else(|| env.get("VOUCH_DATA_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("./vouch-data"));
    let (file, required) = match (&over.config_file, env.get("VOUCH_CONFIG")) {
        (Some(f), _) => (Some(f.clone()), true),
        (None, Some(f)) => (Some(PathBuf::from(f)), true),
        (None, None) => (Some(data_dir_hint.join("vouch.toml")), false),
    };
    if let Some(path) = file {
        match std::fs::read_to_string(&path) {
            Ok(text) => match text.parse::<toml::Table>() {
                Ok(mut table) => {
                    match table.remove("integrations") {
                        None => {}
                        Some(toml::Value::Table(t)) => {
                            file_integrations =
                                integrations_from(t, &path.display().to_string(), &mut rep.errors);
                        }
                        Some(_) => rep.errors.push(format!(
                            "{}: integrations: write each as a table, [integrations.NAME]",
                            path.display()
                        )),
                    }
                    let mut flat = Vec::new();
                    flatten("", &toml::Value::Table(table), &mut flat);
                    let origin = path.display().to_string();
                    for (k, v) in flat {
                        if let Some(base) = k.strip_suffix("_file")
                            && known(base).is_some_and(|x| x.1 == Kind::Secret)
                        {
                            let p = v.as_str().map(str::to_string).unwrap_or_default();
                            if let Some(s) =
                                read_secret_file(&p, &format!("{origin}: {k}"), &mut rep.errors)
                            {
                                raw.insert(
                                    base.into(),
                                    Raw {
                                        value: toml::Value::String(s),
                                        source: format!("{origin} ({k})"),
                                    },
                                );
                            }
                            continue;
                        }
                        if known(&k).is_none() {
                            rep.warnings
                                .push(format!("{origin}: unknown key '{k}' is ignored"));
                            continue;
                        }
                        raw.insert(
                            k,
                            Raw {
                                value: v,
                                source: origin.clone(),
                            },
                        );
                    }
                }
                Err(e) => rep.errors.push(format!(
                    "{}: not valid TOML: {}",
                    path.display(),
                    e.message()
                )),
            },
            Err(e) if required || e.kind() != std::io::ErrorKind::NotFound => {
                rep.errors.push(format!(
                    "cannot read configuration file {}: {e}",
                    path.display()
                ));
            }
            Err(_) => {}
        }
    }

    // Environment.
    for (name, value) in env {
        if !name.starts_with("VOUCH_") || OTHER_ENV.contains(&name.as_str()) {
            continue;
        }
        if let Some((k, ..)) = KEYS.iter().find(|x| env_name(x.0) == *name) {
            raw.insert(
                k.to_string(),
                Raw {
                    value: toml::Value::String(value.clone()),
                    source: name.clone(),
                },
            );
            continue;
        }
        if let Some(base) = name.strip_suffix("_FILE")
            && let Some((k, ..)) = KEYS
                .iter()
                .find(|x| x.1 == Kind::Secret && env_name(x.0) == base)
        {
            if let Some(s) = read_secret_file(value, name, &mut rep.errors) {
                raw.insert(
                    k.to_string(),
                    Raw {
                        value: toml::Value::String(s),
                        source: name.clone(),
                    },
                );
            }
            continue;
        }
        rep.warnings
            .push(format!("{name}: unknown setting is ignored"));
    }

    // Flags.
    let flag = |raw: &mut BTreeMap<String, Raw>, k: &str, v: Option<String>, f: &str| {
        if let Some(v) = v {
            raw.insert(
                k.into(),
                Raw {
                    value: toml::Value::String(v),
                    source: f.into(),
                },
            );
        }
    };
    flag(
        &mut raw,
        "data_dir",
        over.data_dir.as_ref().map(|p| p.display().to_string()),
        "--data-dir",
    );
    flag(
        &mut raw,
        "database_url",
        over.database_url.clone(),
        "--database-url",
    );
    flag(&mut raw, "listen", over.listen.clone(), "--listen");

    for (k, r) in &raw {
        rep.sources.insert(k.clone(), r.source.clone());
    }

    // Typed reading, collecting every problem.
    let mut errors = Vec::new();
    let text = |k: &str, errors: &mut Vec<String>| -> Option<String> {
        let r = raw.get(k)?;
        match &r.value {
            toml::Value::String(s) => Some(s.clone()),
            other => {
                errors.push(format!(
                    "{}: {k}: expected text, found {}",
                    r.source,
                    other.type_str()
                ));
                None
            }
        }
    };
    let int = |k: &str, min: i64, max: i64, errors: &mut Vec<String>| -> Option<i64> {
        let r = raw.get(k)?;
        let n = match &r.value {
            toml::Value::Integer(i) => Some(*i),
            toml::Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Some(n),
            Some(n) => {
                errors.push(format!(
                    "{}: {k}: {n} is out of range ({min} to {max})",
                    r.source
                ));
                None
            }
            None => {
                errors.push(format!(
                    "{}: {k}: '{}' is not a whole number",
                    r.source,
                    display(&r.value)
                ));
                None
            }
        }
    };
    let boolean = |k: &str, errors: &mut Vec<String>| -> Option<bool> {
        let r = raw.get(k)?;
        match &r.value {
            toml::Value::Boolean(b) => Some(*b),
            toml::Value::String(s) if matches!(s.as_str(), "true" | "1" | "yes" | "on") => {
                Some(true)
            }
            toml::Value::String(s) if matches!(s.as_str(), "false" | "0" | "no" | "off") => {
                Some(false)
            }
            other => {
                errors.push(format!(
                    "{}: {k}: '{}' is not true or false",
                    r.source,
                    display(other)
                ));
                None
            }
        }
    };

    let listen = text("listen", &mut errors).and_then(|s| match s.parse::<SocketAddr>() {
        Ok(a) => Some(a),
        Err(_) => {
            errors.push(format!(
                "{}: listen: '{s}' is not an address such as 127.0.0.1:8080",
                rep.sources["listen"]
            ));
            None
        }
    });
    let data_dir = text("data_dir", &mut errors).map(PathBuf::from);
    let database_url = match text("database_url", &mut errors) {
        Some(u) => {
            if !(u.starts_with("sqlite:")
                || u.starts_with("postgres://")
                || u.starts_with("postgresql://"))
            {
                errors.push(format!(
                    "{}: database_url: must start with sqlite:// or postgres://",
                    rep.sources["database_url"]
                ));
            }
            Some(u)
        }
        None => data_dir.as_ref().map(|d| default_sqlite_url(d)),
    };
    let public_url = match text("public_url", &mut errors) {
        Some(u) => {
            if url::Url::parse(&u).map_or(true, |p| !matches!(p.scheme(), "http" | "https")) {
                errors.push(format!(
                    "{}: public_url: '{u}' is not an http(s) URL",
                    rep.sources["public_url"]
                ));
            }
            Some(u.trim_end_matches('/').to_string())
        }
        None => listen.map(|l| format!("http://{l}")),
    };
    let log_format = text("log.format", &mut errors).filter(|f| {
        let ok = f == "text" || f == "json";
        if !ok {
            errors.push(format!(
                "{}: log.format: '{f}' must be text or json",
                rep.sources["log.format"]
            ));
        }
        ok
    });
    let log_level = text("log.level", &mut errors).filter(|l| {
        let ok = ["error", "warn", "info", "debug", "trace"].contains(&l.as_str());
        if !ok {
            errors.push(format!(
                "{}: log.level: '{l}' must be error, warn, info, debug or trace",
                rep.sources["log.level"]
            ));
        }
        ok
    });
    let max_body = int("max_body_bytes", 1024, 1 << 40, &mut errors);
    let idle = int("session.idle_minutes", 1, 60 * 24 * 30, &mut errors);
    let max_h = int("session.max_hours", 1, 24 * 90, &mut errors);
    let fails = int("login.max_failures", 1, 1000, &mut errors);
    let window = int("login.window_minutes", 1, 24 * 60, &mut errors);

    let issuer = text("oidc.issuer_url", &mut errors);
    let client_id = text("oidc.client_id", &mut errors);
    let client_secret = text("oidc.client_secret", &mut errors);
    let display_name = text("oidc.display_name", &mut errors);
    let trust = boolean("oidc.trust_idp_mfa", &mut errors);
    let oidc = match (issuer, client_id) {
        (None, None) => {
            if client_secret.is_some() {
                errors.push(
                    "oidc.client_secret is set but oidc.issuer_url and oidc.client_id are not"
                        .into(),
                );
            }
            None
        }
        (Some(i), Some(c)) => {
            if url::Url::parse(&i).is_err() {
                errors.push(format!(
                    "{}: oidc.issuer_url: '{i}' is not a URL",
                    rep.sources["oidc.issuer_url"]
                ));
            }
            Some(OidcSection {
                issuer_url: i,
                client_id: c,
                client_secret,
                display_name: display_name.unwrap_or_else(|| "Sign in with SSO".into()),
                trust_idp_mfa: trust.unwrap_or(true),
            })
        }
        (Some(_), None) => {
            errors.push(
                "oidc.issuer_url is set but oidc.client_id is not: single sign-on needs both"
                    .into(),
            );
            None
        }
        (None, Some(_)) => {
            errors.push(
                "oidc.client_id is set but oidc.issuer_url is not: single sign-on needs both"
                    .into(),
            );
            None
        }
    };

    let vault = text("evidence.vault", &mut errors);
    if let Some(v) = &vault {
        if v.trim().is_empty() {
            errors.push(format!(
                "{}: evidence.vault: give a folder or s3://bucket/prefix",
                rep.sources["evidence.vault"]
            ));
        } else if v.contains("://") && !v.starts_with("s3://") && !v.starts_with("file://") {
            errors.push(format!(
                "{}: evidence.vault: '{v}' must be a folder, file:///path or s3://bucket/prefix",
                rep.sources["evidence.vault"]
            ));
        }
    }
    let max_file = int("evidence.max_file_bytes", 1, 1 << 42, &mut errors);
    let retention = int("evidence.retention_days", 1, 365 * 100, &mut errors);
    let evidence = EvidenceSection {
        vault: vault.unwrap_or_else(|| {
            data_dir
                .as_ref()
                .map(|d| d.join("blobs").display().to_string())
                .unwrap_or_default()
        }),
        max_file_bytes: max_file.unwrap_or(0) as u64,
        retention_days: retention.map(|r| r as u32),
        // The usual AWS variables stand in for settings not given, as every S3 tool does.
        s3_endpoint: text("evidence.s3_endpoint", &mut errors).or_else(|| {
            aws(
                env,
                &["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"],
            )
        }),
        s3_region: text("evidence.s3_region", &mut errors)
            .or_else(|| aws(env, &["AWS_REGION", "AWS_DEFAULT_REGION"])),
        s3_access_key_id: text("evidence.s3_access_key_id", &mut errors)
            .or_else(|| aws(env, &["AWS_ACCESS_KEY_ID"])),
        s3_secret_access_key: text("evidence.s3_secret_access_key", &mut errors)
            .or_else(|| aws(env, &["AWS_SECRET_ACCESS_KEY"])),
        s3_allow_http: boolean("evidence.s3_allow_http", &mut errors).unwrap_or(false),
    };

    let import_max = int("collect.import_max_bytes", 1, 1 << 42, &mut errors);
    let schedule = int("monitoring.schedule_minutes", 5, 60 * 24 * 7, &mut errors);
    let time_limit = int("monitoring.test_time_limit_secs", 1, 3600, &mut errors);
    let tests_dir = text("monitoring.tests_dir", &mut errors).map(PathBuf::from);

    rep.errors.extend(errors);
    if !rep.errors.is_empty() {
        return (None, rep);
    }
    let cfg = Config {
        listen: listen.unwrap(),
        data_dir: data_dir.unwrap(),
        database_url: database_url.unwrap(),
        public_url: public_url.unwrap(),
        log_format: log_format.unwrap(),
        log_level: log_level.unwrap(),
        max_body_bytes: max_body.unwrap() as usize,
        session_idle_minutes: idle.unwrap() as u64,
        session_max_hours: max_h.unwrap() as u64,
        login_max_failures: fails.unwrap() as u32,
        login_window_minutes: window.unwrap() as u64,
        oidc,
        evidence,
        collect: CollectSection {
            import_max_bytes: import_max.unwrap() as u64,
        },
        monitoring: MonitoringSection {
            schedule_minutes: schedule.unwrap() as u64,
            test_time_limit_secs: time_limit.unwrap() as u64,
            tests_dir,
        },
        integrations: file_integrations,
    };
    (Some(cfg), rep)
}

/// The first of the named AWS environment variables that is set and not empty.
fn aws(env: &BTreeMap<String, String>, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| env.get(*n).filter(|v| !v.trim().is_empty()).cloned())
}

fn display(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("vouch.db").display())
}

/// The keys with their descriptions, for `vouch config keys`.
pub fn describe() -> Vec<(String, String, Option<&'static str>, &'static str)> {
    KEYS.iter()
        .map(|(k, _, d, h)| (k.to_string(), env_name(k), *d, *h))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn no_file() -> Overrides {
        Overrides {
            data_dir: Some(PathBuf::from("/nonexistent-vouch-dir")),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_give_the_embedded_setup() {
        let (cfg, rep) = load(&no_file(), &env(&[]));
        assert!(rep.errors.is_empty(), "{:?}", rep.errors);
        let cfg = cfg.unwrap();
        assert_eq!(cfg.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(cfg.database_url, "sqlite:///nonexistent-vouch-dir/vouch.db");
        assert_eq!(cfg.public_url, "http://127.0.0.1:8080");
        assert!(cfg.oidc.is_none());
    }

    #[test]
    fn file_then_env_then_flags_win_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("v.toml");
        std::fs::write(
            &f,
            "listen = \"127.0.0.1:9000\"\nmax_body_bytes = 2048\n[session]\nidle_minutes = 30\n",
        )
        .unwrap();
        let over = Overrides {
            config_file: Some(f),
            listen: None,
            ..no_file()
        };
        let (cfg, rep) = load(&over, &env(&[("VOUCH_MAX_BODY_BYTES", "4096")]));
        assert!(rep.errors.is_empty(), "{:?}", rep.errors);
        let cfg = cfg.unwrap();
        assert_eq!(cfg.listen.port(), 9000);
        assert_eq!(cfg.max_body_bytes, 4096, "env beats file");
        assert_eq!(cfg.session_idle_minutes, 30);
        let over2 = Overrides {
            listen: Some("127.0.0.1:9100".into()),
            ..over
        };
        assert_eq!(
            load(&over2, &env(&[])).0.unwrap().listen.port(),
            9100,
            "flag beats file"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once_and_unknown_keys_warn() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("v.toml");
        std::fs::write(&f, "listen = \"nowhere\"\ncolour = \"blue\"\n[session]\nidle_minutes = \"soon\"\n[oidc]\nissuer_url = \"https://idp.example\"\n").unwrap();
        let over = Overrides {
            config_file: Some(f),
            ..no_file()
        };
        let (cfg, rep) = load(
            &over,
            &env(&[("VOUCH_LOG_FORMAT", "xml"), ("VOUCH_COLOUR", "red")]),
        );
        assert!(cfg.is_none());
        let all = rep.errors.join("\n");
        assert!(all.contains("listen: 'nowhere'"), "{all}");
        assert!(
            all.contains("session.idle_minutes: 'soon' is not a whole number"),
            "{all}"
        );
        assert!(all.contains("VOUCH_LOG_FORMAT: log.format: 'xml'"), "{all}");
        assert!(all.contains("oidc.client_id is not"), "{all}");
        assert_eq!(rep.errors.len(), 4, "{all}");
        let warns = rep.warnings.join("\n");
        assert!(
            warns.contains("unknown key 'colour'") && warns.contains("VOUCH_COLOUR"),
            "{warns}"
        );
    }

    #[test]
    fn secrets_come_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "s3cr3t\n").unwrap();
        let e = env(&[
            ("VOUCH_OIDC_ISSUER_URL", "https://idp.example"),
            ("VOUCH_OIDC_CLIENT_ID", "vouch"),
            ("VOUCH_OIDC_CLIENT_SECRET_FILE", secret.to_str().unwrap()),
        ]);
        let (cfg, rep) = load(&no_file(), &e);
        assert!(rep.errors.is_empty(), "{:?}", rep.errors);
        assert_eq!(
            cfg.unwrap().oidc.unwrap().client_secret.as_deref(),
            Some("s3cr3t")
        );
        let bad = env(&[("VOUCH_DATABASE_URL_FILE", "/no/such/file")]);
        let (_, rep) = load(&no_file(), &bad);
        assert!(
            rep.errors[0].contains("cannot read secret file /no/such/file"),
            "{:?}",
            rep.errors
        );
    }

    #[test]
    fn shown_configuration_hides_secrets() {
        let e = env(&[("VOUCH_DATABASE_URL", "postgres://vouch:hunter2@db/vouch")]);
        let cfg = load(&no_file(), &e).0.unwrap();
        let shown = serde_json::to_string(&cfg).unwrap();
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
