//! Captures: what a source system's API said, kept exactly as it said it.
//!
//! A live connector (crate `vouch-connect`) records every response it reads as a [`Capture`]
//! and stores the whole [`CaptureBundle`] in the evidence vault, byte for byte as serialised.
//! The importer for that system then reads the bundle, so a live run and an offline import of
//! the same bundle give the same resources, and an auditor can trace each resource back to the
//! response it came from.
//!
//! Some facts only make sense with the request that produced them (GitHub's
//! `GET /orgs/acme/members?filter=2fa_disabled` lists the members *without* two-factor
//! authentication; Okta's factors are listed per user), which is why a capture keeps the
//! request line next to the body. A bundle is recognised by its top-level `vouch_capture`.
//!
//! Importers read a bundle in place (`read_bundle`), without copying the bodies, and refer to
//! each capture by its JSON path (`$.captures[3]`) in messages.
//!
//! ```json
//! {"vouch_capture": 1, "system": "github", "captures": [
//!   {"request": "GET /orgs/acme/members?filter=2fa_disabled&per_page=100&page=1",
//!    "fetched_at": "2026-11-23T06:00:00Z", "status": 200, "body": [{"login": "ana"}]}
//! ]}
//! ```
use crate::ImportError;
use crate::text::J;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The bundle format version this code writes and reads.
pub const CAPTURE_VERSION: u64 = 1;

/// Every response one run read from one system.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaptureBundle {
    /// Always [`CAPTURE_VERSION`]; its presence is what identifies the file.
    pub vouch_capture: u64,
    /// `github`, `okta`, `google_workspace` or `aws`.
    pub system: String,
    pub captures: Vec<Capture>,
}

/// One response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Capture {
    /// The method and the path with its query, relative to the API's base URL:
    /// `GET /repos/acme/api/branches/main/protection`. AWS query APIs carry their action in
    /// the query (`GET /?Action=ListMFADevices&Version=2010-05-08&UserName=ana`); AWS JSON
    /// APIs add the target and body (`POST / TrentService.DescribeKey {"KeyId":"…"}`).
    pub request: String,
    /// When the response arrived (RFC 3339, UTC).
    pub fetched_at: String,
    /// The HTTP status. Captures of error statuses are kept when they carry meaning (GitHub
    /// answers 404 for a branch without protection).
    pub status: u16,
    /// The body when it is JSON.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub body: Value,
    /// The body when it is not JSON (AWS query APIs answer in XML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
}

impl CaptureBundle {
    pub fn new(system: impl Into<String>) -> CaptureBundle {
        CaptureBundle {
            vouch_capture: CAPTURE_VERSION,
            system: system.into(),
            captures: Vec::new(),
        }
    }

    /// The bytes stored in the vault: compact JSON, one deterministic rendering.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a capture bundle always serialises")
    }
}

impl Capture {
    /// The path part of [`Capture::request`] without the method and the query:
    /// `GET /orgs/acme/members?page=2` → `/orgs/acme/members`.
    pub fn path(&self) -> &str {
        let after_method = self
            .request
            .split_once(' ')
            .map_or(self.request.as_str(), |(_, rest)| rest);
        after_method.split('?').next().unwrap_or(after_method)
    }

    /// One query parameter of [`Capture::request`], if present.
    pub fn query(&self, name: &str) -> Option<&str> {
        let query = self.request.split_once('?')?.1;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then_some(v)
        })
    }
}

/// Whether a JSON document is a capture bundle (it has a numeric `vouch_capture`).
pub fn is_bundle(v: &Value) -> bool {
    v.get("vouch_capture").is_some_and(Value::is_u64)
}

/// One capture of a bundle as an importer reads it: the request and status as a [`Capture`]
/// (its `body` left null, so a large bundle is not copied), the body with its JSON path, and
/// the capture's own place (`$.captures[3]`) for messages.
pub(crate) struct Captured<'a> {
    pub capture: Capture,
    pub body: J<'a>,
    pub place: String,
}

impl Captured<'_> {
    /// The path's segments, percent-decoded: `/repos/acme/api/branches/release%2F2/protection`
    /// → `repos`, `acme`, `api`, `branches`, `release/2`, `protection`.
    pub fn segments(&self) -> Vec<String> {
        self.capture
            .path()
            .trim_matches('/')
            .split('/')
            .map(percent_decode)
            .collect()
    }

    /// An error about this capture as a whole.
    pub fn err(&self, message: impl Into<String>) -> ImportError {
        ImportError::new(self.place.clone(), message)
    }

    /// Refuses a status the importer does not expect: the run that made the bundle got an
    /// error there, so what the bundle says about that endpoint is incomplete.
    pub fn expect_status(&self, system: &str, allowed: &[u16]) -> Result<(), ImportError> {
        if allowed.contains(&self.capture.status) {
            return Ok(());
        }
        Err(self.err(format!(
            "{system} answered {} to {}: the bundle does not hold this response, so the import would be incomplete",
            self.capture.status, self.capture.request
        )))
    }
}

/// `%2F` → `/` (and any other `%XX`); anything that is not a valid escape is kept as written.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).and_then(|c| hex(*c)),
            b.get(i + 2).and_then(|c| hex(*c)),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

static NULL: Value = Value::Null;

/// Reads a bundle that must come from `system` (`label` names it in messages), checking its
/// version and the shape of every capture, and returns the captures in order.
pub(crate) fn read_bundle<'a>(
    v: &'a Value,
    system: &str,
    label: &str,
) -> Result<Vec<Captured<'a>>, ImportError> {
    let root = J::root(v);
    root.expect_object()?;
    let version = root.req("vouch_capture")?;
    if version.v.as_u64() != Some(CAPTURE_VERSION) {
        return Err(version.err(format!(
            "capture bundle version {} is not supported: Vouch reads version {CAPTURE_VERSION}",
            version.v
        )));
    }
    let sys = root.req("system")?;
    if sys.str()? != system {
        return Err(sys.err(format!(
            "this capture bundle is from '{}', not from {label}",
            sys.str()?
        )));
    }
    let mut out = Vec::new();
    for item in root.req("captures")?.items()? {
        item.expect_object()?;
        let request = item.req_str("request")?.to_string();
        let status_j = item.req("status")?;
        let status = status_j
            .v
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| status_j.err("expected an HTTP status such as 200"))?;
        let fetched_at = item.opt_str("fetched_at")?.unwrap_or("").to_string();
        let body = match item.get("body") {
            Some(b) => b,
            None => J {
                v: &NULL,
                path: format!("{}.body", item.path),
            },
        };
        out.push(Captured {
            capture: Capture {
                request,
                fetched_at,
                status,
                body: Value::Null,
                body_text: None,
            },
            body,
            place: item.path.clone(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_path_and_query_are_read_from_the_request_line() {
        let c = Capture {
            request: "GET /orgs/acme/members?filter=2fa_disabled&page=2".into(),
            fetched_at: "2026-11-23T06:00:00Z".into(),
            status: 200,
            body: serde_json::json!([]),
            body_text: None,
        };
        assert_eq!(c.path(), "/orgs/acme/members");
        assert_eq!(c.query("filter"), Some("2fa_disabled"));
        assert_eq!(c.query("page"), Some("2"));
        assert_eq!(c.query("per_page"), None);
    }

    #[test]
    fn captured_segments_are_percent_decoded_and_statuses_checked() {
        let v = serde_json::json!({"vouch_capture": 1, "system": "github", "captures": [
            {"request": "GET /repos/acme/api/branches/release%2F2.0/protection?x=1", "status": 404},
            {"request": "GET /bad%zz%2", "fetched_at": "2026-11-23T06:00:00Z", "status": 200, "body": []}
        ]});
        let cs = read_bundle(&v, "github", "GitHub").unwrap();
        assert_eq!(
            cs[0].segments(),
            [
                "repos",
                "acme",
                "api",
                "branches",
                "release/2.0",
                "protection"
            ]
        );
        assert_eq!(cs[0].body.path, "$.captures[0].body");
        assert!(cs[0].body.v.is_null());
        assert_eq!(cs[1].segments(), ["bad%zz%2"]);
        assert!(cs[0].expect_status("GitHub", &[200, 404]).is_ok());
        let e = cs[0].expect_status("GitHub", &[200]).unwrap_err();
        assert_eq!(e.place, "$.captures[0]");
        let Err(e) = read_bundle(&v, "okta", "Okta") else {
            panic!("a GitHub bundle read as Okta");
        };
        assert_eq!(e.place, "$.system");
        assert_eq!(
            e.message,
            "this capture bundle is from 'github', not from Okta"
        );
    }

    #[test]
    fn a_bundle_round_trips_and_is_recognised() {
        let mut b = CaptureBundle::new("okta");
        b.captures.push(Capture {
            request: "GET /api/v1/users".into(),
            fetched_at: "2026-11-23T06:00:00Z".into(),
            status: 200,
            body: serde_json::json!([{"id": "00u1"}]),
            body_text: None,
        });
        let bytes = b.to_bytes();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert!(is_bundle(&v));
        assert!(!is_bundle(&serde_json::json!({"captures": []})));
        let back: CaptureBundle = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, b);
        assert!(!String::from_utf8(bytes).unwrap().contains("body_text"));
    }
}
