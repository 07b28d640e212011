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
//! ```json
//! {"vouch_capture": 1, "system": "github", "captures": [
//!   {"request": "GET /orgs/acme/members?filter=2fa_disabled&per_page=100&page=1",
//!    "fetched_at": "2026-11-23T06:00:00Z", "status": 200, "body": [{"login": "ana"}]}
//! ]}
//! ```
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
    /// `GET /repos/acme/api/branches/main/protection`. For AWS query APIs, the service and
    /// action: `POST iam ListUsers`.
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
