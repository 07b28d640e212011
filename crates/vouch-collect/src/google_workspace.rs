//! Google Workspace directory users (`GET /admin/directory/v1/users`).
//!
//! Detection: a capture bundle whose `system` is `google_workspace`; or a saved response, an
//! object whose `kind` is `admin#directory#users`.
//!
//! In a bundle, every `GET /admin/directory/v1/users` page is read (other paths are reported
//! in a warning). Each user becomes an `account` in system `google_workspace`, keyed by
//! `primaryEmail` in lower case, with `username` and `email` (the same), `display_name`
//! (`name.fullName`), `active` (neither suspended nor archived), `suspended`, `archived`,
//! `admin` (`isAdmin` or `isDelegatedAdmin`), `mfa` (`isEnrolledIn2Sv`), `mfa_enforced`
//! (`isEnforcedIn2Sv`), `last_login`, `created` and `org_unit`. Google writes
//! `1970-01-01T00:00:00.000Z` as the last login of a user who never signed in: that becomes
//! null, so it is not read as a login half a century ago.
use crate::capture::{self, Captured};
use crate::text::J;
use crate::{Collection, ImportError, ImportKind, Out};
use serde_json::Value;
use std::collections::BTreeMap;
use vouch_domain::resource::{Resource, ResourceKind};

const SYSTEM: &str = "google_workspace";
const USERS_KIND: &str = "admin#directory#users";
const NEVER: &str = "1970-01-01T00:00:00Z";

pub(crate) fn is_users(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some(USERS_KIND)
}

pub(crate) fn is_bundle(v: &Value) -> bool {
    capture::is_bundle(v) && v.get("system").and_then(Value::as_str) == Some(SYSTEM)
}

pub(crate) fn import_google_workspace(v: &Value) -> Result<Collection, ImportError> {
    let mut out = Out::new(ImportKind::GoogleWorkspaceJson);
    let mut users: Vec<J<'_>> = Vec::new();
    let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
    if capture::is_bundle(v) {
        for c in capture::read_bundle(v, SYSTEM, "Google Workspace")? {
            read_capture(&c, &mut users, &mut unknown)?;
        }
    } else if is_users(v) {
        // An empty directory's response has no `users` member at all.
        users = J::root(v).opt_items("users")?;
    } else {
        return Err(ImportError::file(
            "expected a Google Workspace capture bundle (with \"vouch_capture\") or a users response (kind admin#directory#users)",
        ));
    }
    for u in &users {
        u.expect_object()?;
        let email_j = u.req("primaryEmail")?;
        let email = u.req_str("primaryEmail")?.to_lowercase();
        let suspended = u.opt_bool("suspended")?.unwrap_or(false);
        let archived = u.opt_bool("archived")?.unwrap_or(false);
        let admin = match (u.opt_bool("isAdmin")?, u.opt_bool("isDelegatedAdmin")?) {
            (None, None) => None,
            (a, d) => Some(a.unwrap_or(false) || d.unwrap_or(false)),
        };
        let last_login = u.opt_instant("lastLoginTime")?.filter(|t| t != NEVER);
        let r = Resource::new(ResourceKind::Account, SYSTEM, email.as_str())
            .with("username", email.as_str())
            .with("email", email.as_str())
            .with(
                "display_name",
                match u.get("name") {
                    Some(n) => n.opt_str("fullName")?,
                    None => None,
                },
            )
            .with("active", !suspended && !archived)
            .with("suspended", suspended)
            .with("archived", archived)
            .with("admin", admin)
            .with("mfa", u.opt_bool("isEnrolledIn2Sv")?)
            .with("mfa_enforced", u.opt_bool("isEnforcedIn2Sv")?)
            .with("last_login", last_login)
            .with("created", u.opt_instant("creationTime")?)
            .with("org_unit", u.opt_str("orgUnitPath")?)
            .with_opt("google_id", u.opt_str("id")?);
        out.push(r, email_j.path)?;
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
    unknown: &mut BTreeMap<String, usize>,
) -> Result<(), ImportError> {
    if c.capture.path().trim_end_matches('/') == "/admin/directory/v1/users" {
        c.expect_status("Google Workspace", &[200])?;
        c.body.expect_object()?;
        // A page of an empty directory has no `users` member at all.
        users.extend(c.body.opt_items("users")?);
    } else {
        *unknown.entry(c.capture.path().to_string()).or_default() += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{ImportKind, detect, import};
    use serde_json::{Value, json};

    pub(crate) const USERS: &str = r#"{"kind": "admin#directory#users", "etag": "\"x\"", "users": [
  {"kind": "admin#directory#user", "id": "101", "primaryEmail": "Ana@Example.com", "name": {"fullName": "Ana Lima"},
   "isAdmin": true, "isDelegatedAdmin": false, "lastLoginTime": "2026-11-22T08:00:00.000Z", "creationTime": "2021-03-01T09:00:00.000Z",
   "suspended": false, "archived": false, "isEnrolledIn2Sv": true, "isEnforcedIn2Sv": true, "orgUnitPath": "/Engineering"},
  {"kind": "admin#directory#user", "id": "102", "primaryEmail": "ben@example.com", "name": {"fullName": "Ben Ode"},
   "isAdmin": false, "isDelegatedAdmin": true, "lastLoginTime": "1970-01-01T00:00:00.000Z", "creationTime": "2022-06-15T09:00:00.000Z",
   "suspended": true, "suspensionReason": "ADMIN", "archived": false, "isEnrolledIn2Sv": false, "isEnforcedIn2Sv": false, "orgUnitPath": "/"},
  {"kind": "admin#directory#user", "id": "103", "primaryEmail": "cy@example.com", "name": {"fullName": "Cy Park"},
   "isAdmin": false, "isDelegatedAdmin": false, "lastLoginTime": "2026-01-01T00:00:00.000Z", "creationTime": "2023-01-09T09:00:00.000Z",
   "suspended": false, "archived": true, "isEnrolledIn2Sv": false, "isEnforcedIn2Sv": false, "orgUnitPath": "/Sales"}
]}"#;

    #[test]
    fn google_workspace_users_become_accounts() {
        assert_eq!(
            detect(USERS.as_bytes()),
            Some(ImportKind::GoogleWorkspaceJson)
        );
        let c = import(USERS.as_bytes(), None).unwrap();
        assert_eq!(c.kind, ImportKind::GoogleWorkspaceJson);
        assert_eq!(c.system, "google_workspace");
        let ana = &c.resources[0];
        assert_eq!(ana.key, "ana@example.com");
        assert_eq!(ana.attrs["username"], "ana@example.com");
        assert_eq!(ana.attrs["email"], "ana@example.com");
        assert_eq!(ana.attrs["display_name"], "Ana Lima");
        assert_eq!(ana.attrs["active"], true);
        assert_eq!(ana.attrs["suspended"], false);
        assert_eq!(ana.attrs["archived"], false);
        assert_eq!(ana.attrs["admin"], true);
        assert_eq!(ana.attrs["mfa"], true);
        assert_eq!(ana.attrs["mfa_enforced"], true);
        assert_eq!(ana.attrs["last_login"], "2026-11-22T08:00:00Z");
        assert_eq!(ana.attrs["created"], "2021-03-01T09:00:00Z");
        assert_eq!(ana.attrs["org_unit"], "/Engineering");
        let ben = &c.resources[1];
        assert_eq!(ben.attrs["active"], false);
        assert_eq!(ben.attrs["suspended"], true);
        assert_eq!(ben.attrs["admin"], true, "a delegated admin is an admin");
        assert_eq!(ben.attrs["mfa"], false);
        assert_eq!(ben.attrs["last_login"], Value::Null, "1970 means never");
        let cy = &c.resources[2];
        assert_eq!(cy.attrs["active"], false);
        assert_eq!(cy.attrs["archived"], true);
        assert_eq!(cy.attrs["admin"], false);
    }

    #[test]
    fn google_workspace_bundle_merges_pages() {
        let users: Value = serde_json::from_str(USERS).unwrap();
        let page = |from: usize, to: usize| json!({"kind": "admin#directory#users", "users": users["users"].as_array().unwrap()[from..to]});
        let b = json!({"vouch_capture": 1, "system": "google_workspace", "captures": [
            {"request": "GET /admin/directory/v1/users?customer=my_customer&maxResults=500", "fetched_at": "2026-11-23T06:00:00Z",
             "status": 200, "body": page(0, 2)},
            {"request": "GET /admin/directory/v1/users?customer=my_customer&maxResults=500&pageToken=abc", "fetched_at": "2026-11-23T06:00:01Z",
             "status": 200, "body": page(2, 3)},
            {"request": "GET /admin/directory/v1/groups?customer=my_customer", "fetched_at": "2026-11-23T06:00:02Z",
             "status": 200, "body": {}}
        ]});
        let text = b.to_string();
        assert_eq!(
            detect(text.as_bytes()),
            Some(ImportKind::GoogleWorkspaceJson)
        );
        let c = import(text.as_bytes(), None).unwrap();
        let keys: Vec<&str> = c.resources.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            ["ana@example.com", "ben@example.com", "cy@example.com"]
        );
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        // The same user on two pages.
        let b2 = text.replacen("cy@example.com", "ANA@example.com", 1);
        let e = import(b2.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.captures[1].body.users[0].primaryEmail");
        assert!(
            e.message
                .contains("already at $.captures[0].body.users[0].primaryEmail"),
            "{e}"
        );
    }

    #[test]
    fn google_workspace_errors_name_their_place() {
        let bad = USERS.replacen("\"suspended\": true", "\"suspended\": \"yes\"", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.users[1].suspended");
        let bad = USERS.replacen("\"primaryEmail\": \"cy@example.com\",", "", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.users[2].primaryEmail");
        let e = import(&USERS.as_bytes()[..200], None).unwrap_err();
        assert!(e.message.contains("truncated"), "{e}");
        let e = import(USERS.as_bytes(), Some(ImportKind::OktaJson)).unwrap_err();
        assert_eq!(
            e.message,
            "this is a Google Workspace directory export, not an Okta export"
        );
    }
}
