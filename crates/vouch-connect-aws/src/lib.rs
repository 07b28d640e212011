//! The live AWS connector: reads one account's IAM users, S3 buckets, CloudTrail trails, RDS
//! instances, customer-managed KMS keys and EC2 security groups through AWS's own APIs, keeps
//! every response as a capture, and turns the captures into resources.
//!
//! [`collect`] talks to AWS through a [`vouch_connect::http::Session`] (retries on 429/5xx and
//! refused connections, every final response recorded), signing each attempt with AWS
//! Signature Version 4 (module `sigv4`, which says why it is implemented here and not taken
//! from the `aws-sigv4` crate). [`read_bundle`] is the importer: a pure function of the
//! [`CaptureBundle`], so the bundle stored in the vault, read again offline, gives the same
//! resources.
//!
//! **Calls.** IAM (global, signed for `us-east-1`): `ListUsers`, then per user
//! `ListMFADevices`, `GetLoginProfile` (404 `NoSuchEntity` = no console password),
//! `ListAccessKeys`, `ListAttachedUserPolicies`. S3: `ListBuckets`, then per bucket
//! `GetBucketEncryption`, `GetPublicAccessBlock`, `GetBucketVersioning`, `GetBucketLogging`
//! (path-style URLs, so the bucket is in the captured request line; a bucket in another region
//! is asked at its region's endpoint, after S3's 301 names it). CloudTrail: `DescribeTrails`,
//! `GetTrailStatus` per trail. RDS: `DescribeDBInstances`. KMS: `ListKeys`, `DescribeKey` per
//! key, `GetKeyRotationStatus` per customer-managed key. EC2: `DescribeSecurityGroups`.
//! Listings follow their pagination (`Marker`, `NextToken`, `NextMarker`).
//!
//! **Request lines.** The query APIs (IAM, RDS, EC2) are called with `GET` and the action and
//! its parameters in the URL (which AWS accepts for these read-only actions), so the captured
//! line says what was asked: `GET /?Action=ListMFADevices&Version=2010-05-08&UserName=ana`.
//! S3's line is its path: `GET /acme-logs?encryption`. The JSON services (CloudTrail, KMS) are
//! `POST /` with the operation in `X-Amz-Target` and the parameters in the body, neither of
//! which a request line shows, so their captures are written `POST / <target> <body>`:
//! `POST / TrentService.DescribeKey {"KeyId":"1234abcd-…"}`.
//!
//! **Errors.** A 401/403 is [`ConnectorError::Credentials`] with AWS's `<Code>` and
//! `<Message>` (`InvalidClientTokenId: The security token included in the request is
//! invalid.`). A throttled request (400 `Throttling`, `ThrottlingException`,
//! `RequestLimitExceeded`, …) is sent again after the session's backoff, at most
//! [`RetryPolicy::max_attempts`] times; S3's 503 `SlowDown` is retried by the session itself.
//! Throttled answers stay in the bundle (they were read) and the importer skips them.
#![forbid(unsafe_code)]

mod fetch;
mod read;
mod sigv4;
#[cfg(feature = "test-moto")]
#[path = "../tests/support/moto.rs"]
pub mod testing;
mod xml;

pub use read::read_bundle;
use serde::{Deserialize, Deserializer};
use std::fmt;
use vouch_connect::http::RetryPolicy;
pub use vouch_connect::{CaptureBundle, ConnectorError, Fetched, Secret};

/// The system name in resources and in the bundle.
pub const SYSTEM: &str = "aws";

/// How to reach one AWS account. Deserialised from the integration's settings; the secret and
/// the session token never print (`Debug` shows only the last four characters of the access
/// key id).
#[derive(Clone, Deserialize)]
pub struct Settings {
    /// A base URL for every service (a local emulator such as moto: `http://127.0.0.1:5000`).
    /// Without it, each service's public regional endpoint (`https://ec2.eu-west-1.amazonaws.com`,
    /// IAM's global `https://iam.amazonaws.com`).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The region read for the regional services (`eu-west-1`).
    pub region: String,
    pub access_key_id: String,
    #[serde(deserialize_with = "secret")]
    pub secret_access_key: Secret,
    /// For temporary credentials (an assumed role).
    #[serde(default, deserialize_with = "optional_secret")]
    pub session_token: Option<Secret>,
    /// What the account is called on the integration's page (`production`).
    #[serde(default)]
    pub account_label: Option<String>,
    /// Items asked per page of a listing (IAM `MaxItems`, RDS `MaxRecords` (at least 20), EC2
    /// `MaxResults` (at least 5), KMS `Limit`); AWS's default when absent.
    #[serde(default)]
    pub page_size: Option<u32>,
}

fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
    String::deserialize(d).map(Secret::new)
}

fn optional_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Ok(Option::<String>::deserialize(d)?
        .filter(|s| !s.trim().is_empty())
        .map(Secret::new))
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = &self.access_key_id;
        let tail: String = key
            .chars()
            .skip(key.chars().count().saturating_sub(4))
            .collect();
        f.debug_struct("Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &format!("…{tail}"))
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .field("account_label", &self.account_label)
            .field("page_size", &self.page_size)
            .finish()
    }
}

impl Settings {
    fn check(&self) -> Result<(), ConnectorError> {
        let region = self.region.trim();
        if region.is_empty()
            || !region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(ConnectorError::Config(format!(
                "'{}' is not an AWS region such as eu-west-1",
                self.region
            )));
        }
        if self.access_key_id.trim().is_empty() {
            return Err(ConnectorError::Config("the access key id is empty".into()));
        }
        if self.secret_access_key.is_empty() {
            return Err(ConnectorError::Config(
                "the secret access key is empty".into(),
            ));
        }
        Ok(())
    }
}

/// Reads the account: every response, as read (the app keeps the bundle even when reading it
/// then fails).
pub async fn fetch(
    settings: &Settings,
    policy: RetryPolicy,
) -> Result<CaptureBundle, ConnectorError> {
    settings.check()?;
    fetch::fetch(settings, policy).await
}

/// Reads the account and returns every response with the resources they describe.
pub async fn collect(settings: &Settings, policy: RetryPolicy) -> Result<Fetched, ConnectorError> {
    settings.check()?;
    let bundle = fetch::fetch(settings, policy).await?;
    let collection = read_bundle(&bundle)?;
    Ok(Fetched { bundle, collection })
}

/// AWS's error code and message from an error body: the query APIs' and S3's XML
/// (`<Error><Code>…</Code><Message>…</Message></Error>`, EC2's `<Response><Errors>…`) or the
/// JSON services' `{"__type": "…#Code", "message": "…"}`.
pub(crate) fn aws_error(body: &[u8]) -> Option<(String, String)> {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let code = v
            .get("__type")
            .or_else(|| v.get("code"))
            .or_else(|| v.get("Code"))
            .and_then(|c| c.as_str())?;
        let code = code.rsplit('#').next().unwrap_or(code).to_string();
        let message = v
            .get("message")
            .or_else(|| v.get("Message"))
            .and_then(|m| m.as_str())
            .unwrap_or_default()
            .to_string();
        return Some((code, message));
    }
    let doc = xml::parse(std::str::from_utf8(body).ok()?).ok()?;
    let code = if doc.name == "Code" {
        doc.text.clone()
    } else {
        doc.find("Code")?.text.clone()
    };
    let message = doc
        .find("Message")
        .map(|m| m.text.clone())
        .unwrap_or_default();
    Some((code, message))
}

/// Error codes AWS answers when a caller goes too fast.
pub(crate) const THROTTLING: [&str; 7] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "SlowDown",
];

#[cfg(test)]
mod tests;
