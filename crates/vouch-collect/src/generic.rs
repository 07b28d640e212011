//! Vouch's generic formats, for any system without an importer of its own.
//!
//! **JSON**: `{"system": "okta", "resources": [{"kind": "account", "key": "ana@example.com",
//! "attrs": {"mfa": true}}]}`. Detection: an object with a `system` member and a `resources`
//! array. `attrs` is optional and must be an object; attribute values are kept as given.
//!
//! **CSV**: a header whose first two columns are `kind` and `key`; an optional `system` column
//! (otherwise the system is `generic`); every other column is an attribute, kept as text
//! (empty cells are left out, `"007"` stays `"007"`). Detection: that header.
//!
//! `kind` is a [`ResourceKind`] (`person`, `account`, …); an unknown kind is an error naming
//! its place.
use crate::text::{J, Table};
use crate::{Collection, ImportError, ImportKind, Out};
use serde_json::Value;
use vouch_domain::resource::{Resource, ResourceKind};

/// The system of generic CSV rows without a `system` column.
pub const DEFAULT_SYSTEM: &str = "generic";

pub(crate) fn is_generic_json(v: &Value) -> bool {
    v.get("system").is_some() && v.get("resources").is_some_and(Value::is_array)
}

pub(crate) fn is_generic_csv(header: &[String]) -> bool {
    header.len() >= 2 && header[0] == "kind" && header[1] == "key"
}

fn kind(raw: &str) -> Result<ResourceKind, String> {
    ResourceKind::parse(raw).ok_or_else(|| {
        format!(
            "unknown kind '{raw}': expected one of {}",
            ResourceKind::list()
        )
    })
}

pub(crate) fn import_json(v: &Value) -> Result<Collection, ImportError> {
    let mut out = Out::new(ImportKind::GenericJson);
    let root = J::root(v);
    root.expect_object()?;
    let system = root.req_str("system")?.to_string();
    Out::check_system(&system, "$.system")?;
    for (name, _) in root.expect_object()? {
        if name != "system" && name != "resources" {
            out.warnings
                .push(format!("top-level member '{name}' is not used"));
        }
    }
    for item in root.req("resources")?.items()? {
        let obj = item.expect_object()?;
        let kind_j = item.req("kind")?;
        let k = kind(kind_j.str()?).map_err(|m| kind_j.err(m))?;
        let key_j = item.req("key")?;
        let key = key_j.str()?;
        let mut r = Resource::new(k, system.clone(), key);
        if let Some(attrs) = item.get("attrs") {
            r.attrs = attrs.expect_object()?.clone();
        }
        for name in obj.keys() {
            if !matches!(name.as_str(), "kind" | "key" | "attrs") {
                return Err(ImportError::new(
                    item.path.clone(),
                    format!("unknown member '{name}': a resource has kind, key and attrs"),
                ));
            }
        }
        out.push(r, key_j.path.clone())?;
    }
    Ok(out.finish(system))
}

pub(crate) fn import_csv(t: &Table) -> Result<Collection, ImportError> {
    let mut out = Out::new(ImportKind::GenericCsv);
    if !is_generic_csv(&t.keys) {
        return Err(ImportError::new(
            "row 1",
            "the first two columns must be kind and key",
        ));
    }
    let system_col = t.col("system");
    let mut systems: Vec<String> = Vec::new();
    for row in &t.rows {
        let n = row.number;
        let raw_kind = t.cell(row, Some(0)).unwrap_or("");
        let k = kind(raw_kind).map_err(|m| ImportError::new(t.place(n, 0), m))?;
        let key = t
            .cell(row, Some(1))
            .ok_or_else(|| ImportError::new(t.place(n, 1), "the key is empty"))?;
        let system = match system_col {
            Some(c) => t
                .cell(row, Some(c))
                .ok_or_else(|| ImportError::new(t.place(n, c), "the system is empty"))?,
            None => DEFAULT_SYSTEM,
        };
        if let Some(c) = system_col {
            Out::check_system(system, &t.place(n, c))?;
        }
        if !systems.iter().any(|s| s == system) {
            systems.push(system.to_string());
        }
        let mut r = Resource::new(k, system, key);
        for (i, name) in t.keys.iter().enumerate().skip(2) {
            if Some(i) == system_col {
                continue;
            }
            if let Some(v) = t.cell(row, Some(i)) {
                r = r.with(name, v);
            }
        }
        out.push(r, t.place(n, 1))?;
    }
    let system = match systems.as_slice() {
        [one] => one.clone(),
        [] => DEFAULT_SYSTEM.to_string(),
        _ => "mixed".to_string(),
    };
    Ok(out.finish(system))
}

#[cfg(test)]
mod tests {
    use crate::{ImportKind, import};
    use vouch_domain::resource::ResourceKind;

    pub(crate) const JSON: &str = r#"{
  "system": "okta",
  "resources": [
    {"kind": "account", "key": "ana@example.com", "attrs": {"mfa_enrolled": true, "status": "ACTIVE"}},
    {"kind": "group_membership", "key": "admins:ana@example.com"},
    {"kind": "device", "key": "C02XK1ABCDEF", "attrs": {"disk_encrypted": false}}
  ]
}"#;

    #[test]
    fn generic_json_keeps_kinds_keys_and_attrs() {
        let c = import(JSON.as_bytes(), None).unwrap();
        assert_eq!(c.kind, ImportKind::GenericJson);
        assert_eq!(c.system, "okta");
        assert_eq!(c.resources.len(), 3);
        assert_eq!(c.resources[0].kind, ResourceKind::Account);
        assert_eq!(c.resources[0].system, "okta");
        assert_eq!(c.resources[0].attrs["mfa_enrolled"], true);
        assert_eq!(c.resources[1].kind, ResourceKind::GroupMembership);
        assert!(c.resources[1].attrs.is_empty());
        assert_eq!(c.resources[2].attrs["disk_encrypted"], false);
    }

    #[test]
    fn generic_json_errors_name_the_json_path() {
        let bad = JSON.replacen("\"kind\": \"device\"", "\"kind\": \"laptop\"", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.resources[2].kind");
        assert!(e.message.contains("unknown kind 'laptop'"), "{e}");
        let bad = JSON.replacen(
            "\"key\": \"C02XK1ABCDEF\"",
            "\"key\": \"ana@example.com\", \"x\": 1",
            1,
        );
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.resources[2]");
        let bad = JSON.replacen("\"key\": \"C02XK1ABCDEF\"", "\"key\": \"  \"", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.resources[2].key");
        assert_eq!(e.message, "the key is empty");
        let bad = JSON.replacen("\"kind\": \"device\"", "\"kind\": \"account\"", 1);
        let bad = bad.replacen("C02XK1ABCDEF", "ana@example.com", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.resources[2].key");
        assert!(e.message.contains("already at $.resources[0].key"), "{e}");
        let bad = JSON.replacen("\"okta\"", "\"ok\\tta\"", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.system");
        assert!(e.message.contains("control character"), "{e}");
    }

    #[test]
    fn generic_csv_columns_after_kind_and_key_are_attributes() {
        let csv = "kind,key,system,owner,Disk Encrypted\n\
                   device,C02XK1ABCDEF,jamf,ana@example.com,true\n\
                   device,C02XK1GHIJKL,jamf,,false\n";
        let c = import(csv.as_bytes(), None).unwrap();
        assert_eq!(c.kind, ImportKind::GenericCsv);
        assert_eq!(c.system, "jamf");
        assert_eq!(c.resources[0].attrs["owner"], "ana@example.com");
        assert_eq!(c.resources[0].attrs["disk_encrypted"], "true");
        assert!(c.resources[1].attrs.get("owner").is_none());
        let c = import(
            b"kind,key,team\nrepository,github:acme/api,platform\n",
            None,
        )
        .unwrap();
        assert_eq!(c.system, "generic");
        assert_eq!(c.resources[0].kind, ResourceKind::Repository);
    }

    #[test]
    fn generic_csv_errors_name_row_and_column() {
        let e = import(b"kind,key\nperson,a@x.com\nrobot,r2\n", None).unwrap_err();
        assert_eq!(e.place, "row 3, column 'kind'");
        let e = import(b"kind,key\nperson,a@x.com\nperson,\n", None).unwrap_err();
        assert_eq!(e.place, "row 3, column 'key'");
        let e = import(b"kind,key\nperson,a@x.com\nperson,a@x.com\n", None).unwrap_err();
        assert_eq!(e.place, "row 3, column 'key'");
        assert!(e.message.contains("duplicate person"), "{e}");
        let e = import(
            b"kind,key,system\nperson,a@x.com,hr\nperson,b@x.com,\n",
            None,
        )
        .unwrap_err();
        assert_eq!(e.place, "row 3, column 'system'");
    }
}
