//! Device posture: osquery scheduled-query results and Fleet host details, each host a
//! `device` with its policy checks (`checks`: check name → `pass`, `fail` or `unknown`).
//!
//! **osquery** (`osqueryd.results.log`): one JSON object per line, with `name` (the query),
//! `hostIdentifier`, `unixTime` or `calendarTime`, and either a `snapshot` array
//! (`action: "snapshot"`) or one differential row (`columns`, `action: "added"|"removed"`).
//! Detection: the first line is such an object (the file as a whole is not one JSON value, so
//! this is checked before the file is read as JSON). A policy query passes when it returns a
//! row, so a check is `pass` when its latest snapshot is non-empty or its latest differential
//! row was `added`, and `fail` for an empty snapshot or a `removed` row. Query names in packs
//! (`pack/vouch/disk_encryption`) keep their last segment. Devices are in system `osquery`,
//! keyed by `hostIdentifier`, with `hostname` (from `decorations.hostname`), `checks` and
//! `last_seen` (the latest result time, in UTC). A bad line is an error at `line N`.
//!
//! **Fleet** (`GET /api/v1/fleet/hosts/{id}` saved as `{"host": {…}}`, an array of such host
//! objects, or `{"hosts": […]}`). Detection: a host object with `hostname` and `seen_time`.
//! Devices are in system `fleet`, keyed by `hardware_serial` (else `uuid`, else `hostname`),
//! with `hostname`, `platform`, `os_version`, `serial`, `last_seen` (`seen_time`),
//! `mdm_enrolled` (`mdm.enrollment_status` is one of the "On" states; null without `mdm`),
//! `checks` (policy name → its `response`; Fleet's `""`, not yet run, is `unknown`) and
//! `critical_failing` (the failing policies marked critical). Another response is an error at
//! its path.
use crate::text::{self, J};
use crate::{Collection, ImportError, ImportKind, Out};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use vouch_domain::resource::{Resource, ResourceKind};

// ---------------------------------------------------------------------------------------------
// osquery

/// Whether text is an osquery results log: its first line is a result object. Only a line
/// that mentions `hostIdentifier` is parsed, so a large one-line JSON file of another kind is
/// not read twice.
pub(crate) fn is_results_log(text: &str) -> bool {
    let Some(first) = text.lines().find(|l| !l.trim().is_empty()) else {
        return false;
    };
    first.contains("\"hostIdentifier\"")
        && serde_json::from_str::<Value>(first).is_ok_and(|v| {
            v.get("hostIdentifier").is_some_and(Value::is_string)
                && v.get("name").is_some_and(Value::is_string)
        })
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// osquery's `calendarTime`, `Mon Nov 23 06:00:00 2026 UTC`, as seconds since the epoch.
fn calendar_time(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, month, day, time, year, "UTC"] = parts.as_slice() else {
        return None;
    };
    let m = MONTHS.iter().position(|x| x == month)? + 1;
    let day: u32 = day.parse().ok()?;
    text::parse_instant(&format!("{year}-{m:02}-{day:02}T{time}Z"))
}

/// The time of one result: `unixTime` (a number, or a string in older osquery), else
/// `calendarTime`.
fn result_time(j: &J<'_>) -> Result<i64, ImportError> {
    if let Some(u) = j.get("unixTime") {
        let secs = match u.v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        return secs.ok_or_else(|| u.err("expected the time in seconds since 1970"));
    }
    let c = j.req("calendarTime")?;
    let s = c.str()?;
    calendar_time(s).ok_or_else(|| {
        c.err(format!(
            "'{s}' is not osquery's calendar time, such as Mon Nov 23 06:00:00 2026 UTC"
        ))
    })
}

/// What the log says of one host.
struct Host {
    id: String,
    place: String,
    hostname: Option<String>,
    last_seen: i64,
    /// Check → (time of the result that decided it, pass).
    checks: BTreeMap<String, (i64, bool)>,
}

pub(crate) fn import_osquery(text: &str) -> Result<Collection, ImportError> {
    let mut out = Out::new(ImportKind::OsqueryResults);
    let mut hosts: Vec<Host> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| {
            let what = if e.is_eof() {
                "the line ends too early: is the file truncated?".to_string()
            } else {
                let s = e.to_string();
                s.rfind(" at line ")
                    .map_or(s.clone(), |k| s[..k].to_string())
            };
            ImportError::new(
                format!("line {n}"),
                format!("not valid JSON at column {}: {what}", e.column()),
            )
        })?;
        let j = J {
            v: &v,
            path: format!("line {n}, $"),
        };
        if !v.is_object() {
            return Err(ImportError::new(
                format!("line {n}"),
                "expected one osquery result object per line",
            ));
        }
        let host_id = j.req_str("hostIdentifier")?;
        let name = j.req_str("name")?;
        let check = name.rsplit('/').next().unwrap_or(name).to_string();
        let time = result_time(&j)?;
        let action = j.opt_str("action")?;
        let (pass, snapshot) = match (action, j.get("snapshot")) {
            (Some("snapshot") | None, Some(s)) => (!s.items()?.is_empty(), true),
            (Some("added"), _) => (true, false),
            (Some("removed"), _) => (false, false),
            (Some("snapshot"), None) => {
                return Err(ImportError::new(
                    format!("{}.snapshot", j.path),
                    "is missing (or null) but required",
                ));
            }
            (Some(other), _) => {
                return Err(j.req("action")?.err(format!(
                    "'{other}' is not an osquery result action (snapshot, added, removed)"
                )));
            }
            (None, None) => {
                return Err(j.err("a result needs a snapshot array or an action (added, removed)"));
            }
        };
        let hostname = match j.get("decorations") {
            Some(d) => d.opt_str("hostname")?,
            None => None,
        };
        let h = match index.get(host_id) {
            Some(k) => &mut hosts[*k],
            None => {
                index.insert(host_id.to_string(), hosts.len());
                hosts.push(Host {
                    id: host_id.to_string(),
                    place: format!("line {n}"),
                    hostname: None,
                    last_seen: time,
                    checks: BTreeMap::new(),
                });
                hosts.last_mut().expect("just pushed")
            }
        };
        if let Some(name) = hostname {
            h.hostname = Some(name.to_string());
        }
        h.last_seen = h.last_seen.max(time);
        // A later result decides. At the same time, a later snapshot replaces an earlier one,
        // and an added row wins over a removed one: a changed row is logged as both.
        let replace = match h.checks.get(&check) {
            None => true,
            Some((t, _)) => time > *t || (time == *t && (snapshot || pass)),
        };
        if replace {
            h.checks.insert(check, (time, pass));
        }
    }
    if hosts.is_empty() {
        out.warnings.push("the log has no results".into());
    }
    for h in hosts {
        let checks: Map<String, Value> = h
            .checks
            .into_iter()
            .map(|(k, (_, pass))| (k, Value::from(if pass { "pass" } else { "fail" })))
            .collect();
        let r = Resource::new(ResourceKind::Device, "osquery", h.id)
            .with("hostname", h.hostname)
            .with("checks", checks)
            .with("last_seen", text::format_instant(h.last_seen));
        out.push(r, h.place)?;
    }
    Ok(out.finish("osquery"))
}

// ---------------------------------------------------------------------------------------------
// Fleet

fn is_host(v: &Value) -> bool {
    v.get("hostname").is_some() && v.get("seen_time").is_some()
}

pub(crate) fn is_fleet(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.first().is_some_and(is_host),
        Value::Object(o) => match (o.get("host"), o.get("hosts")) {
            (Some(h), _) => is_host(h),
            (None, Some(Value::Array(a))) => a.first().is_some_and(is_host),
            _ => false,
        },
        _ => false,
    }
}

pub(crate) fn import_fleet(v: &Value) -> Result<Collection, ImportError> {
    let mut out = Out::new(ImportKind::FleetJson);
    let root = J::root(v);
    let hosts = match v {
        Value::Array(_) => root.items()?,
        Value::Object(o) if o.contains_key("host") => vec![root.req("host")?],
        Value::Object(o) if o.contains_key("hosts") => root.req("hosts")?.items()?,
        _ => {
            return Err(ImportError::file(
                "expected Fleet host details: {\"host\": {…}}, {\"hosts\": […]} or an array of hosts",
            ));
        }
    };
    for h in &hosts {
        h.expect_object()?;
        let serial = h.opt_str("hardware_serial")?;
        let hostname = h.opt_str("hostname")?;
        let (key, key_place) = match [
            ("hardware_serial", serial),
            ("uuid", h.opt_str("uuid")?),
            ("hostname", hostname),
        ]
        .into_iter()
        .find_map(|(f, v)| v.map(|v| (v, f)))
        {
            Some((key, field)) => (key, h.req(field)?.path),
            None => {
                return Err(h.err("the host has no hardware_serial, uuid or hostname to key it by"));
            }
        };
        let mdm_enrolled = match h.get("mdm") {
            Some(m) => Some(
                m.opt_str("enrollment_status")?
                    .is_some_and(|s| s.contains("On")),
            ),
            None => None,
        };
        let mut checks = Map::new();
        let mut critical_failing: Vec<Value> = Vec::new();
        for p in h.opt_items("policies")? {
            p.expect_object()?;
            let name = p.req_str("name")?;
            let verdict = match p.opt_str("response")? {
                None => "unknown",
                Some("pass") => "pass",
                Some("fail") => "fail",
                Some(other) => {
                    return Err(p.req("response")?.err(format!(
                        "'{other}' is not a Fleet policy response (pass, fail, or empty when not yet run)"
                    )));
                }
            };
            if verdict == "fail" && p.opt_bool("critical")?.unwrap_or(false) {
                critical_failing.push(name.into());
            }
            checks.insert(name.to_string(), verdict.into());
        }
        let r = Resource::new(ResourceKind::Device, "fleet", key)
            .with("hostname", hostname)
            .with("platform", h.opt_str("platform")?)
            .with("os_version", h.opt_str("os_version")?)
            .with("serial", serial)
            .with("last_seen", h.opt_instant("seen_time")?)
            .with("mdm_enrolled", mdm_enrolled)
            .with("checks", checks)
            .with("critical_failing", critical_failing)
            .with_opt("fleet_id", h.get("id").map(|i| i.v.clone()));
        out.push(r, key_place)?;
    }
    Ok(out.finish("fleet"))
}

#[cfg(test)]
mod tests {
    use crate::{ImportKind, detect, import};
    use serde_json::{Value, json};

    pub(crate) const LOG: &str = concat!(
        r#"{"name":"pack/vouch/disk_encryption","hostIdentifier":"C02XK1ABCDEF","calendarTime":"Mon Nov 23 05:00:00 2026 UTC","unixTime":1795410000,"epoch":0,"counter":0,"numerics":false,"decorations":{"hostname":"ana-mbp"},"snapshot":[{"encrypted":"1"}],"action":"snapshot"}"#,
        "\n",
        r#"{"name":"pack/vouch/screen_lock","hostIdentifier":"C02XK1ABCDEF","calendarTime":"Mon Nov 23 05:00:00 2026 UTC","unixTime":1795410000,"epoch":0,"counter":0,"numerics":false,"decorations":{"hostname":"ana-mbp"},"snapshot":[],"action":"snapshot"}"#,
        "\n\n",
        r#"{"name":"pack/vouch/disk_encryption","hostIdentifier":"C02XK1ABCDEF","calendarTime":"Mon Nov 23 06:00:00 2026 UTC","unixTime":1795413600,"epoch":0,"counter":1,"numerics":false,"decorations":{"hostname":"ana-mbp"},"snapshot":[],"action":"snapshot"}"#,
        "\n",
        r#"{"name":"firewall","hostIdentifier":"ben-linux","calendarTime":"Mon Nov 23 04:00:00 2026 UTC","epoch":0,"counter":1,"numerics":false,"columns":{"enabled":"1"},"action":"added"}"#,
        "\n",
        r#"{"name":"antivirus","hostIdentifier":"ben-linux","calendarTime":"Mon Nov 23 04:00:00 2026 UTC","unixTime":"1795406400","epoch":0,"counter":1,"numerics":false,"columns":{"running":"1"},"action":"added"}"#,
        "\n",
        r#"{"name":"antivirus","hostIdentifier":"ben-linux","calendarTime":"Mon Nov 23 05:30:00 2026 UTC","unixTime":1795411800,"epoch":0,"counter":2,"numerics":false,"columns":{"running":"1"},"action":"removed"}"#,
        "\n",
    );

    #[test]
    fn osquery_results_log_is_read_line_by_line() {
        assert_eq!(detect(LOG.as_bytes()), Some(ImportKind::OsqueryResults));
        let c = import(LOG.as_bytes(), None).unwrap();
        assert_eq!(c.kind, ImportKind::OsqueryResults);
        assert_eq!(c.system, "osquery");
        assert_eq!(c.resources.len(), 2);
        let mac = &c.resources[0];
        assert_eq!(mac.kind, vouch_domain::resource::ResourceKind::Device);
        assert_eq!(mac.key, "C02XK1ABCDEF");
        assert_eq!(mac.attrs["hostname"], "ana-mbp");
        // The later, empty snapshot decides.
        assert_eq!(
            mac.attrs["checks"],
            json!({"disk_encryption": "fail", "screen_lock": "fail"})
        );
        assert_eq!(mac.attrs["last_seen"], "2026-11-23T06:00:00Z");
        let linux = &c.resources[1];
        assert_eq!(linux.attrs["hostname"], Value::Null);
        assert_eq!(
            linux.attrs["checks"],
            json!({"firewall": "pass", "antivirus": "fail"})
        );
        // From calendarTime when there is no unixTime.
        assert_eq!(linux.attrs["last_seen"], "2026-11-23T05:30:00Z");
        // A single line is a log too.
        let one = LOG.lines().next().unwrap();
        assert_eq!(detect(one.as_bytes()), Some(ImportKind::OsqueryResults));
        let c = import(one.as_bytes(), None).unwrap();
        assert_eq!(c.resources[0].attrs["checks"]["disk_encryption"], "pass");
    }

    #[test]
    fn osquery_errors_name_the_line() {
        let cut = &LOG[..LOG.len() - 40];
        let e = import(cut.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "line 7");
        assert!(e.message.contains("truncated"), "{e}");
        let bad = LOG.replacen("\"action\":\"added\"", "\"action\":\"changed\"", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "line 5, $.action");
        assert!(e.message.contains("'changed'"), "{e}");
        let bad = LOG.replacen("\"hostIdentifier\":\"ben-linux\",", "", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "line 5, $.hostIdentifier");
        let bad = LOG.replacen("Mon Nov 23 04:00:00 2026 UTC", "yesterday", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "line 5, $.calendarTime");
        let bad = format!("{LOG}[1, 2]\n");
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "line 8");
        // A damaged first line is not recognised; forced, the importer names it.
        let bad = format!("{{\"name\": 1,\n{LOG}");
        let e = import(bad.as_bytes(), Some(ImportKind::OsqueryResults)).unwrap_err();
        assert_eq!(e.place, "line 1");
        let e = import(LOG.as_bytes(), Some(ImportKind::TrivyJson)).unwrap_err();
        assert_eq!(
            e.message,
            "this is an osquery results log, not a Trivy JSON report"
        );
        let e = import(LOG.as_bytes(), Some(ImportKind::GenericCsv)).unwrap_err();
        assert!(e.message.contains("osquery results log"), "{e}");
    }

    pub(crate) const HOST: &str = r#"{"host": {
  "id": 1, "hostname": "ana-mbp", "uuid": "392547dc-0000-0000-a87a-d701ff75bc65", "platform": "darwin",
  "os_version": "macOS 15.1", "hardware_serial": "C02XK1ABCDEF", "seen_time": "2026-11-23T05:58:00Z",
  "mdm": {"enrollment_status": "On (automatic)", "server_url": "https://mdm.example.com"},
  "policies": [
    {"id": 1, "name": "Disk encryption enabled", "query": "SELECT 1 FROM disk_encryption WHERE encrypted=1;", "critical": true, "response": "pass"},
    {"id": 2, "name": "Screen lock enabled", "critical": true, "response": "fail"},
    {"id": 3, "name": "Firewall enabled", "critical": false, "response": "fail"},
    {"id": 4, "name": "Antivirus running", "response": ""}
  ]
}}"#;

    #[test]
    fn fleet_host_details_become_a_device() {
        assert_eq!(detect(HOST.as_bytes()), Some(ImportKind::FleetJson));
        let c = import(HOST.as_bytes(), None).unwrap();
        assert_eq!(c.kind, ImportKind::FleetJson);
        assert_eq!(c.system, "fleet");
        let d = &c.resources[0];
        assert_eq!(d.key, "C02XK1ABCDEF");
        assert_eq!(d.attrs["hostname"], "ana-mbp");
        assert_eq!(d.attrs["platform"], "darwin");
        assert_eq!(d.attrs["os_version"], "macOS 15.1");
        assert_eq!(d.attrs["serial"], "C02XK1ABCDEF");
        assert_eq!(d.attrs["last_seen"], "2026-11-23T05:58:00Z");
        assert_eq!(d.attrs["mdm_enrolled"], true);
        assert_eq!(
            d.attrs["checks"],
            json!({"Disk encryption enabled": "pass", "Screen lock enabled": "fail",
                   "Firewall enabled": "fail", "Antivirus running": "unknown"})
        );
        assert_eq!(d.attrs["critical_failing"], json!(["Screen lock enabled"]));
    }

    #[test]
    fn fleet_host_lists_fall_back_to_uuid_and_hostname() {
        let hosts = r#"{"hosts": [
          {"hostname": "a", "uuid": "u-1", "hardware_serial": "", "seen_time": "2026-11-23T05:00:00Z", "mdm": {"enrollment_status": "Off"}},
          {"hostname": "b", "hardware_serial": "", "seen_time": "2026-11-23T05:00:00Z"}
        ]}"#;
        assert_eq!(detect(hosts.as_bytes()), Some(ImportKind::FleetJson));
        let c = import(hosts.as_bytes(), None).unwrap();
        assert_eq!(c.resources[0].key, "u-1");
        assert_eq!(c.resources[0].attrs["mdm_enrolled"], false);
        assert_eq!(c.resources[0].attrs["checks"], json!({}));
        assert_eq!(c.resources[1].key, "b");
        assert_eq!(c.resources[1].attrs["mdm_enrolled"], Value::Null);
        let arr = r#"[{"hostname": "a", "hardware_serial": "S1", "seen_time": "2026-11-23T05:00:00Z"},
                      {"hostname": "b", "hardware_serial": "S1", "seen_time": "2026-11-23T05:00:00Z"}]"#;
        assert_eq!(detect(arr.as_bytes()), Some(ImportKind::FleetJson));
        let e = import(arr.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$[1].hardware_serial");
        assert!(e.message.contains("already at $[0].hardware_serial"), "{e}");
    }

    #[test]
    fn fleet_errors_name_their_place() {
        let bad = HOST.replacen("\"response\": \"\"", "\"response\": \"skipped\"", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.host.policies[3].response");
        assert!(
            e.message
                .contains("'skipped' is not a Fleet policy response"),
            "{e}"
        );
        let bad = HOST.replacen(
            "\"seen_time\": \"2026-11-23T05:58:00Z\"",
            "\"seen_time\": \"today\"",
            1,
        );
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$.host.seen_time");
        let e = import(&HOST.as_bytes()[..100], None).unwrap_err();
        assert!(e.message.contains("truncated"), "{e}");
        let e = import(HOST.as_bytes(), Some(ImportKind::OsqueryResults)).unwrap_err();
        assert_eq!(
            e.message,
            "this is a Fleet host export, not an osquery results log"
        );
    }
}
