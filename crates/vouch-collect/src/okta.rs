//! Okta users and their authentication factors.
//!
//! Detection: a capture bundle whose `system` is `okta`; or a JSON array whose first item has
//! `profile.login` and `status` (a saved `GET /api/v1/users` response).
//!
//! In a bundle, `GET /api/v1/users` pages list the users and `GET /api/v1/users/{id}/factors`
//! lists one user's factors; other paths are reported in a warning. Each user becomes an
//! `account` in system `okta`, keyed by `profile.login` in lower case, with `username`,
//! `email` (lower case), `display_name` (first and last name), `status`, `active`, `admin`
//! (null: the users API does not say), `created`, `last_login`, `status_changed`,
//! `disabled_at` (the status change of a SUSPENDED or DEPROVISIONED user), `okta_id`,
//! `factors` (the `factorType` of each ACTIVE factor) and `mfa` (at least one ACTIVE factor).
//! Without a factors capture for a user, `factors` and `mfa` are null: unknown, not "none".
//!
//! `status` must be one of Okta's user statuses and a factor's `status` one of Okta's factor
//! statuses; another value is an error at its path, since guessing whether an unknown status
//! is active would decide access reviews on a guess.
use crate::capture::{self, Captured};
use crate::text::J;
use crate::{Collection, ImportError, ImportKind, Out};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use vouch_domain::resource::{Resource, ResourceKind};

const SYSTEM: &str = "okta";

/// Okta's user statuses and whether the account can sign in (or is about to again: a locked
/// out, expired or recovering user still holds access).
const STATUSES: [(&str, bool); 8] = [
    ("STAGED", false),
    ("PROVISIONED", false),
    ("ACTIVE", true),
    ("RECOVERY", true),
    ("PASSWORD_EXPIRED", true),
    ("LOCKED_OUT", true),
    ("SUSPENDED", false),
    ("DEPROVISIONED", false),
];

const FACTOR_STATUSES: [&str; 5] = [
    "ACTIVE",
    "PENDING_ACTIVATION",
    "NOT_SETUP",
    "INACTIVE",
    "EXPIRED",
];

pub(crate) fn is_users(v: &Value) -> bool {
    v.as_array()
        .and_then(|a| a.first())
        .is_some_and(|u| u.pointer("/profile/login").is_some() && u.get("status").is_some())
}

pub(crate) fn is_bundle(v: &Value) -> bool {
    capture::is_bundle(v) && v.get("system").and_then(Value::as_str) == Some(SYSTEM)
}

pub(crate) fn import_okta(v: &Value) -> Result<Collection, ImportError> {
    let mut out = Out::new(ImportKind::OktaJson);
    let mut users: Vec<J<'_>> = Vec::new();
    // Okta user id → the types of its ACTIVE factors, for users whose factors were captured.
    let mut factors: HashMap<String, Vec<String>> = HashMap::new();
    let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
    if capture::is_bundle(v) {
        for c in capture::read_bundle(v, SYSTEM, "Okta")? {
            read_capture(&c, &mut users, &mut factors, &mut unknown)?;
        }
    } else if v.is_array() {
        users = J::root(v).items()?;
    } else {
        return Err(ImportError::file(
            "expected an Okta capture bundle (with \"vouch_capture\") or a JSON array of users",
        ));
    }
    let mut matched = 0usize;
    for u in &users {
        u.expect_object()?;
        let id = u.opt_str("id")?;
        let profile = u.req("profile")?;
        profile.expect_object()?;
        let login_j = profile.req("login")?;
        let login = profile.req_str("login")?.to_lowercase();
        let status_j = u.req("status")?;
        let status = status_j.str()?;
        let Some((_, active)) = STATUSES.iter().find(|(s, _)| *s == status) else {
            return Err(status_j.err(format!(
                "'{status}' is not an Okta user status ({})",
                STATUSES.map(|(s, _)| s).join(", ")
            )));
        };
        let status_changed = u.opt_instant("statusChanged")?;
        let disabled_at = matches!(status, "SUSPENDED" | "DEPROVISIONED")
            .then(|| status_changed.clone())
            .flatten();
        let name: Vec<&str> = [profile.opt_str("firstName")?, profile.opt_str("lastName")?]
            .into_iter()
            .flatten()
            .collect();
        let user_factors = id.and_then(|id| factors.get(id));
        matched += usize::from(user_factors.is_some());
        let r = Resource::new(ResourceKind::Account, SYSTEM, login.as_str())
            .with("username", login.as_str())
            .with("email", profile.opt_str("email")?.map(str::to_lowercase))
            .with("display_name", (!name.is_empty()).then(|| name.join(" ")))
            .with("status", status)
            .with("active", *active)
            .with("admin", Value::Null)
            .with("created", u.opt_instant("created")?)
            .with("last_login", u.opt_instant("lastLogin")?)
            .with("status_changed", status_changed)
            .with("disabled_at", disabled_at)
            .with("okta_id", id)
            .with("factors", user_factors.cloned())
            .with("mfa", user_factors.map(|f| !f.is_empty()));
        out.push(r, login_j.path)?;
    }
    if matched < factors.len() {
        out.warnings.push(format!(
            "factors of {} user id(s) not listed in the bundle were not imported",
            factors.len() - matched
        ));
    }
    for (path, n) in &unknown {
        out.warnings.push(format!(
            "{n} capture(s) of {path} are not read by this importer"
        ));
    }
    Ok(out.finish(SYSTEM))
}

fn read_capture<'a>(
    c: &Captured<'a>,
    users: &mut Vec<J<'a>>,
    factors: &mut HashMap<String, Vec<String>>,
    unknown: &mut BTreeMap<String, usize>,
) -> Result<(), ImportError> {
    let seg = c.segments();
    let seg: Vec<&str> = seg.iter().map(String::as_str).collect();
    match seg.as_slice() {
        ["api", "v1", "users"] => {
            c.expect_status("Okta", &[200])?;
            users.extend(c.body.items()?);
        }
        ["api", "v1", "users", id, "factors"] => {
            c.expect_status("Okta", &[200])?;
            let list = factors.entry(id.to_string()).or_default();
            for f in c.body.items()? {
                f.expect_object()?;
                let status_j = f.req("status")?;
                let status = status_j.str()?;
                if !FACTOR_STATUSES.contains(&status) {
                    return Err(status_j.err(format!(
                        "'{status}' is not an Okta factor status ({})",
                        FACTOR_STATUSES.join(", ")
                    )));
                }
                let factor_type = f.req_str("factorType")?;
                if status == "ACTIVE" {
                    list.push(factor_type.to_string());
                }
            }
        }
        _ => *unknown.entry(c.capture.path().to_string()).or_default() += 1,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{ImportKind, detect, import};
    use serde_json::{Value, json};

    pub(crate) const BUNDLE: &str = r#"{"vouch_capture": 1, "system": "okta", "captures": [
  {"request": "GET /api/v1/users?limit=200", "fetched_at": "2026-11-23T06:00:00Z", "status": 200, "body": [
    {"id": "00u1", "status": "ACTIVE", "created": "2021-03-01T09:00:00.000Z", "activated": "2021-03-01T09:05:00.000Z",
     "statusChanged": "2021-03-01T09:05:00.000Z", "lastLogin": "2026-11-22T08:00:00.000Z",
     "profile": {"login": "Ana@Example.com", "email": "Ana@Example.com", "firstName": "Ana", "lastName": "Lima"}},
    {"id": "00u2", "status": "DEPROVISIONED", "created": "2022-06-15T09:00:00.000Z",
     "statusChanged": "2026-10-31T17:30:00.000Z", "lastLogin": "2026-10-31T12:00:00.000Z",
     "profile": {"login": "ben@example.com", "email": "ben@example.com", "firstName": "Ben", "lastName": "Ode"}}
  ]},
  {"request": "GET /api/v1/users?limit=200&after=00u2", "fetched_at": "2026-11-23T06:00:01Z", "status": 200, "body": [
    {"id": "00u3", "status": "LOCKED_OUT", "created": "2023-01-09T09:00:00.000Z", "statusChanged": "2026-11-20T09:00:00.000Z",
     "lastLogin": null, "profile": {"login": "cy@example.com", "email": "cy@example.com", "firstName": "Cy", "lastName": null}},
    {"id": "00u4", "status": "STAGED", "created": "2026-11-20T09:00:00.000Z", "statusChanged": null, "lastLogin": null,
     "profile": {"login": "dee@example.com", "email": "dee@example.com", "firstName": "Dee", "lastName": "Ray"}}
  ]},
  {"request": "GET /api/v1/users/00u1/factors", "fetched_at": "2026-11-23T06:00:02Z", "status": 200, "body": [
    {"id": "f1", "factorType": "push", "provider": "OKTA", "status": "ACTIVE"},
    {"id": "f2", "factorType": "sms", "provider": "OKTA", "status": "PENDING_ACTIVATION"},
    {"id": "f3", "factorType": "webauthn", "provider": "FIDO", "status": "ACTIVE"}
  ]},
  {"request": "GET /api/v1/users/00u3/factors", "fetched_at": "2026-11-23T06:00:03Z", "status": 200, "body": [
    {"id": "f4", "factorType": "sms", "provider": "OKTA", "status": "INACTIVE"}
  ]},
  {"request": "GET /api/v1/groups", "fetched_at": "2026-11-23T06:00:04Z", "status": 200, "body": []}
]}"#;

    #[test]
    fn okta_users_and_factors_become_accounts() {
        assert_eq!(detect(BUNDLE.as_bytes()), Some(ImportKind::OktaJson));
        let c = import(BUNDLE.as_bytes(), None).unwrap();
        assert_eq!(c.kind, ImportKind::OktaJson);
        assert_eq!(c.system, "okta");
        let keys: Vec<&str> = c.resources.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "ana@example.com",
                "ben@example.com",
                "cy@example.com",
                "dee@example.com"
            ]
        );
        let ana = &c.resources[0];
        assert_eq!(ana.attrs["username"], "ana@example.com");
        assert_eq!(ana.attrs["email"], "ana@example.com");
        assert_eq!(ana.attrs["display_name"], "Ana Lima");
        assert_eq!(ana.attrs["status"], "ACTIVE");
        assert_eq!(ana.attrs["active"], true);
        assert_eq!(ana.attrs["admin"], Value::Null);
        assert_eq!(ana.attrs["created"], "2021-03-01T09:00:00Z");
        assert_eq!(ana.attrs["last_login"], "2026-11-22T08:00:00Z");
        assert_eq!(ana.attrs["status_changed"], "2021-03-01T09:05:00Z");
        assert_eq!(ana.attrs["disabled_at"], Value::Null);
        assert_eq!(ana.attrs["okta_id"], "00u1");
        assert_eq!(ana.attrs["factors"], json!(["push", "webauthn"]));
        assert_eq!(ana.attrs["mfa"], true);
        // Deprovisioned: inactive since its status changed; no factors captured: unknown.
        let ben = &c.resources[1];
        assert_eq!(ben.attrs["active"], false);
        assert_eq!(ben.attrs["disabled_at"], "2026-10-31T17:30:00Z");
        assert_eq!(ben.attrs["mfa"], Value::Null);
        assert_eq!(ben.attrs["factors"], Value::Null);
        // Locked out still holds access; only an inactive factor: no MFA.
        let cy = &c.resources[2];
        assert_eq!(cy.attrs["active"], true);
        assert_eq!(cy.attrs["disabled_at"], Value::Null);
        assert_eq!(cy.attrs["display_name"], "Cy");
        assert_eq!(cy.attrs["last_login"], Value::Null);
        assert_eq!(cy.attrs["mfa"], false);
        assert_eq!(cy.attrs["factors"], json!([]));
        assert_eq!(c.resources[3].attrs["active"], false);
        assert_eq!(
            c.warnings,
            vec!["1 capture(s) of /api/v1/groups are not read by this importer"]
        );
    }

    #[test]
    fn okta_saved_users_array_has_unknown_mfa() {
        let users = r#"[{"id": "00u9", "status": "SUSPENDED", "statusChanged": "2026-01-02T03:04:05.000Z",
            "profile": {"login": "Eve@Example.com", "email": "EVE@example.com"}}]"#;
        assert_eq!(detect(users.as_bytes()), Some(ImportKind::OktaJson));
        let c = import(users.as_bytes(), None).unwrap();
        let eve = &c.resources[0];
        assert_eq!(eve.key, "eve@example.com");
        assert_eq!(eve.attrs["email"], "eve@example.com");
        assert_eq!(eve.attrs["active"], false);
        assert_eq!(eve.attrs["disabled_at"], "2026-01-02T03:04:05Z");
        assert_eq!(eve.attrs["mfa"], Value::Null);
        assert_eq!(eve.attrs["display_name"], Value::Null);
    }

    #[test]
    fn okta_errors_name_their_place() {
        let bad = BUNDLE.replacen("\"status\": \"STAGED\"", "\"status\": \"ZOMBIE\"", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.captures[1].body[1].status");
        assert_eq!(
            e.message,
            "'ZOMBIE' is not an Okta user status (STAGED, PROVISIONED, ACTIVE, RECOVERY, PASSWORD_EXPIRED, LOCKED_OUT, SUSPENDED, DEPROVISIONED)"
        );
        let bad = BUNDLE.replacen("\"status\": \"INACTIVE\"", "\"status\": \"BROKEN\"", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.captures[3].body[0].status");
        assert!(e.message.contains("not an Okta factor status"), "{e}");
        // The same login twice, in another case, on another page.
        let bad = BUNDLE.replacen(
            "\"login\": \"cy@example.com\"",
            "\"login\": \"BEN@example.com\"",
            1,
        );
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.captures[1].body[0].profile.login");
        assert!(
            e.message
                .contains("already at $.captures[0].body[1].profile.login"),
            "{e}"
        );
        let bad = BUNDLE.replacen(
            "\"lastLogin\": \"2026-11-22T08:00:00.000Z\"",
            "\"lastLogin\": \"yesterday\"",
            1,
        );
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.captures[0].body[0].lastLogin");
        let bad = BUNDLE.replacen("\"status\": 200", "\"status\": 429", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.captures[0]");
        let e = import(&BUNDLE.as_bytes()[..300], None).unwrap_err();
        assert!(e.message.contains("truncated"), "{e}");
        let e = import(BUNDLE.as_bytes(), Some(ImportKind::GoogleWorkspaceJson)).unwrap_err();
        assert_eq!(
            e.message,
            "this is an Okta export, not a Google Workspace directory export"
        );
    }
}
