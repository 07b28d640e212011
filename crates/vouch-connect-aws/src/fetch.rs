//! The calls, in order, with their pagination. What the answers mean is [`crate::read`]'s
//! business; this module reads only what it needs to make the next call (user names, bucket
//! names, trail ARNs, key ids, page markers).
use crate::sigv4::{self, Credentials, encode};
use crate::xml::{self, Element};
use crate::{SYSTEM, Settings, THROTTLING, aws_error};
use serde_json::{Value, json};
use time::OffsetDateTime;
use url::Url;
use vouch_connect::http::{Request, Response, RetryPolicy, Session};
use vouch_connect::{CaptureBundle, ConnectorError};

pub(crate) const IAM_VERSION: &str = "2010-05-08";
pub(crate) const RDS_VERSION: &str = "2014-10-31";
pub(crate) const EC2_VERSION: &str = "2016-11-15";
pub(crate) const CLOUDTRAIL_PREFIX: &str = "CloudTrail_20131101.";
pub(crate) const KMS_PREFIX: &str = "TrentService.";

#[derive(Clone, Copy, PartialEq)]
enum Svc {
    Iam,
    S3,
    CloudTrail,
    Rds,
    Kms,
    Ec2,
}

impl Svc {
    fn name(self) -> &'static str {
        match self {
            Svc::Iam => "iam",
            Svc::S3 => "s3",
            Svc::CloudTrail => "cloudtrail",
            Svc::Rds => "rds",
            Svc::Kms => "kms",
            Svc::Ec2 => "ec2",
        }
    }
}

struct Client<'a> {
    session: Session,
    settings: &'a Settings,
    creds: Credentials,
    /// Per capture, in order: the request line to write instead of the session's (JSON calls).
    lines: Vec<Option<String>>,
}

pub(crate) async fn fetch(
    settings: &Settings,
    policy: RetryPolicy,
) -> Result<CaptureBundle, ConnectorError> {
    let first = match &settings.endpoint {
        Some(e) => e.trim().to_string(),
        None => "https://iam.amazonaws.com/".to_string(),
    };
    let session = Session::new(SYSTEM, &first, policy)?;
    let mut c = Client {
        session,
        settings,
        creds: Credentials {
            access_key_id: settings.access_key_id.trim().to_string(),
            secret_access_key: settings.secret_access_key.clone(),
            session_token: settings.session_token.clone(),
        },
        lines: Vec::new(),
    };
    c.iam().await?;
    c.s3().await?;
    c.cloudtrail().await?;
    c.rds().await?;
    c.kms().await?;
    c.ec2().await?;
    let mut bundle = c.session.into_bundle();
    if bundle.captures.len() == c.lines.len() {
        for (capture, line) in bundle.captures.iter_mut().zip(c.lines) {
            if let Some(line) = line {
                capture.request = line;
            }
        }
    } else {
        tracing::warn!(
            captures = bundle.captures.len(),
            calls = c.lines.len(),
            "AWS capture count does not match the calls made"
        );
    }
    Ok(bundle)
}

/// Builds a query string with SigV4's strict encoding.
fn query(params: &[(&str, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Client<'_> {
    fn region(&self) -> &str {
        self.settings.region.trim()
    }

    /// The base URL (no trailing slash) of a service in a region.
    fn base(&self, svc: Svc, region: &str) -> String {
        if let Some(e) = &self.settings.endpoint {
            return e.trim().trim_end_matches('/').to_string();
        }
        match svc {
            Svc::Iam => "https://iam.amazonaws.com".to_string(),
            other => format!("https://{}.{region}.amazonaws.com", other.name()),
        }
    }

    fn signing_region(&self, svc: Svc) -> String {
        match svc {
            Svc::Iam => "us-east-1".to_string(),
            _ => self.region().to_string(),
        }
    }

    /// Sends one signed request; a throttled answer is sent again after a backoff.
    async fn call(
        &mut self,
        svc: Svc,
        region: &str,
        req: Request,
        line: Option<String>,
    ) -> Result<Response, ConnectorError> {
        let policy = self.session.policy().clone();
        let mut attempt = 1u32;
        loop {
            let creds = &self.creds;
            let service = svc.name();
            let signer = |r: &Request, url: &Url, now: OffsetDateTime| {
                sigv4::sign(
                    creds,
                    service,
                    region,
                    r.method.as_str(),
                    url,
                    &r.headers,
                    &r.body,
                    now,
                )
            };
            let resp = self.session.send_signed(req.clone(), Some(&signer)).await?;
            self.lines.push(line.clone());
            let throttled = resp.status == 400
                && aws_error(&resp.body).is_some_and(|(code, _)| THROTTLING.contains(&&*code));
            if !throttled || attempt >= policy.max_attempts {
                return Ok(resp);
            }
            let wait = policy
                .base_delay
                .saturating_mul(2u32.saturating_pow(attempt - 1))
                .min(policy.max_delay);
            tracing::info!(request = %resp.request, attempt, wait_ms = wait.as_millis() as u64, "AWS throttled the request; retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// Checks an answer: success, or one of the `expected` (status, code) answers that carry
    /// meaning. Anything else is an error with AWS's code and message.
    fn check(&self, resp: &Response, expected: &[(u16, &str)]) -> Result<(), ConnectorError> {
        if (200..300).contains(&resp.status) {
            return Ok(());
        }
        let error = aws_error(&resp.body);
        if let Some((code, _)) = &error
            && expected.iter().any(|(s, c)| *s == resp.status && c == code)
        {
            return Ok(());
        }
        let detail = match error {
            Some((code, message)) if message.is_empty() => code,
            Some((code, message)) => format!("{code}: {message}"),
            None => {
                let text = String::from_utf8_lossy(&resp.body);
                let text: String = text.trim().chars().take(200).collect();
                if text.is_empty() {
                    "no details in the response".to_string()
                } else {
                    text
                }
            }
        };
        let detail = if THROTTLING.iter().any(|t| detail.starts_with(t)) {
            format!("{detail} (still throttled after every retry)")
        } else {
            detail
        };
        if matches!(resp.status, 401 | 403) {
            Err(ConnectorError::Credentials {
                system: SYSTEM.to_string(),
                status: resp.status,
                request: resp.request.clone(),
                detail,
            })
        } else {
            Err(ConnectorError::Status {
                system: SYSTEM.to_string(),
                status: resp.status,
                request: resp.request.clone(),
                detail,
            })
        }
    }

    fn xml(&self, resp: &Response) -> Result<Element, ConnectorError> {
        let garbage = |detail: String| ConnectorError::Garbage {
            system: SYSTEM.to_string(),
            request: resp.request.clone(),
            detail,
        };
        let text = std::str::from_utf8(&resp.body)
            .map_err(|_| garbage("the body is not UTF-8".to_string()))?;
        xml::parse(text).map_err(garbage)
    }

    fn garbage(&self, resp: &Response, detail: &str) -> ConnectorError {
        ConnectorError::Garbage {
            system: SYSTEM.to_string(),
            request: resp.request.clone(),
            detail: detail.to_string(),
        }
    }

    /// A query-API call (`GET /?Action=…&Version=…`), checked.
    async fn query_call(
        &mut self,
        svc: Svc,
        action: &str,
        version: &str,
        params: &[(&str, String)],
        expected: &[(u16, &str)],
    ) -> Result<Response, ConnectorError> {
        let mut all = vec![
            ("Action", action.to_string()),
            ("Version", version.to_string()),
        ];
        all.extend(params.iter().cloned());
        let region = self.signing_region(svc);
        let url = format!("{}/?{}", self.base(svc, &region), query(&all));
        let resp = self.call(svc, &region, Request::get(url), None).await?;
        self.check(&resp, expected)?;
        Ok(resp)
    }

    /// A JSON 1.1 call (`POST /` with `X-Amz-Target`), checked; its capture's request line is
    /// `POST / <target> <body>`.
    async fn json_call(
        &mut self,
        svc: Svc,
        target: String,
        body: Value,
        expected: &[(u16, &str)],
    ) -> Result<(Response, Value), ConnectorError> {
        let region = self.signing_region(svc);
        let body = serde_json::to_string(&body).expect("JSON always serialises");
        let url = format!("{}/", self.base(svc, &region));
        let req = Request::post(url, body.clone().into_bytes())
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", target.clone());
        let line = format!("POST / {target} {body}");
        let mut resp = self.call(svc, &region, req, Some(line.clone())).await?;
        resp.request = line;
        self.check(&resp, expected)?;
        let json = if resp.body.is_empty() {
            Value::Object(Default::default())
        } else {
            resp.json(SYSTEM)?
        };
        Ok((resp, json))
    }

    /// Every page of an IAM listing (`IsTruncated` / `Marker`); returns each page's result.
    async fn iam_pages(
        &mut self,
        action: &str,
        params: &[(&str, String)],
    ) -> Result<Vec<Element>, ConnectorError> {
        let mut pages = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let mut p = params.to_vec();
            if let Some(n) = self.settings.page_size {
                p.push(("MaxItems", n.max(1).to_string()));
            }
            if let Some(m) = marker.take() {
                p.push(("Marker", m));
            }
            let resp = self
                .query_call(Svc::Iam, action, IAM_VERSION, &p, &[])
                .await?;
            let doc = self.xml(&resp)?;
            let result = doc
                .child(&format!("{action}Result"))
                .cloned()
                .ok_or_else(|| self.garbage(&resp, &format!("no <{action}Result> element")))?;
            let truncated = result.text_at(&["IsTruncated"]) == Some("true");
            marker = result.text_at(&["Marker"]).map(str::to_string);
            pages.push(result);
            if !truncated {
                break;
            }
            if marker.is_none() {
                return Err(self.garbage(&resp, "IsTruncated is true but there is no Marker"));
            }
            self.page_guard(&resp, pages.len())?;
        }
        Ok(pages)
    }

    fn page_guard(&self, resp: &Response, pages: usize) -> Result<(), ConnectorError> {
        if pages >= self.session.policy().max_pages {
            return Err(self.garbage(
                resp,
                &format!(
                    "more than {} pages of results",
                    self.session.policy().max_pages
                ),
            ));
        }
        Ok(())
    }

    async fn iam(&mut self) -> Result<(), ConnectorError> {
        let pages = self.iam_pages("ListUsers", &[]).await?;
        let names: Vec<String> = pages
            .iter()
            .filter_map(|p| p.child("Users"))
            .flat_map(|u| u.all("member"))
            .filter_map(|m| m.text_at(&["UserName"]).map(str::to_string))
            .collect();
        for name in names {
            let user = [("UserName", name.clone())];
            self.iam_pages("ListMFADevices", &user).await?;
            self.query_call(
                Svc::Iam,
                "GetLoginProfile",
                IAM_VERSION,
                &user,
                &[(404, "NoSuchEntity")],
            )
            .await?;
            self.iam_pages("ListAccessKeys", &user).await?;
            self.iam_pages("ListAttachedUserPolicies", &user).await?;
        }
        Ok(())
    }

    async fn s3(&mut self) -> Result<(), ConnectorError> {
        let region = self.region().to_string();
        let mut buckets: Vec<(String, Option<String>)> = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            // Without `max-buckets` S3 answers every bucket in one page (moto 5 also
            // truncates at `max-buckets` without giving the continuation token real S3 does),
            // so page_size is not used here; a continuation token is still followed.
            let mut p = Vec::new();
            if let Some(t) = token.take() {
                p.push(("continuation-token", t));
            }
            let base = self.base(Svc::S3, &region);
            let url = if p.is_empty() {
                format!("{base}/")
            } else {
                format!("{base}/?{}", query(&p))
            };
            let resp = self.call(Svc::S3, &region, Request::get(url), None).await?;
            self.check(&resp, &[])?;
            let doc = self.xml(&resp)?;
            if let Some(list) = doc.child("Buckets") {
                for b in list.all("Bucket") {
                    if let Some(name) = b.text_at(&["Name"]) {
                        buckets.push((
                            name.to_string(),
                            b.text_at(&["BucketRegion"]).map(str::to_string),
                        ));
                    }
                }
            }
            pages += 1;
            token = doc.text_at(&["ContinuationToken"]).map(str::to_string);
            if token.is_none() {
                break;
            }
            self.page_guard(&resp, pages)?;
        }
        for (bucket, bucket_region) in buckets {
            let mut region = bucket_region.unwrap_or_else(|| region.clone());
            for (sub, expected) in [
                (
                    "encryption",
                    &[
                        (404, "ServerSideEncryptionConfigurationNotFoundError"),
                        (404, "NoSuchBucket"),
                    ][..],
                ),
                (
                    "publicAccessBlock",
                    &[
                        (404, "NoSuchPublicAccessBlockConfiguration"),
                        (404, "NoSuchBucket"),
                    ][..],
                ),
                ("versioning", &[(404, "NoSuchBucket")][..]),
                ("logging", &[(404, "NoSuchBucket")][..]),
            ] {
                let mut redirected = false;
                loop {
                    let url = format!("{}/{}?{sub}", self.base(Svc::S3, &region), encode(&bucket));
                    let resp = self.call(Svc::S3, &region, Request::get(url), None).await?;
                    // A bucket in another region: S3 names the region; ask there.
                    if matches!(resp.status, 301 | 307 | 400) && !redirected {
                        let other = resp
                            .headers
                            .get("x-amz-bucket-region")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string);
                        if let Some(other) = other.filter(|o| *o != region) {
                            region = other;
                            redirected = true;
                            continue;
                        }
                    }
                    self.check(&resp, expected)?;
                    break;
                }
            }
        }
        Ok(())
    }

    async fn cloudtrail(&mut self) -> Result<(), ConnectorError> {
        let (resp, trails) = self
            .json_call(
                Svc::CloudTrail,
                format!("{CLOUDTRAIL_PREFIX}DescribeTrails"),
                json!({}),
                &[],
            )
            .await?;
        let arns: Vec<String> = trails
            .get("trailList")
            .and_then(Value::as_array)
            .ok_or_else(|| self.garbage(&resp, "no trailList array"))?
            .iter()
            .filter_map(|t| t.get("TrailARN").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
        for arn in arns {
            self.json_call(
                Svc::CloudTrail,
                format!("{CLOUDTRAIL_PREFIX}GetTrailStatus"),
                json!({ "Name": arn }),
                &[],
            )
            .await?;
        }
        Ok(())
    }

    async fn rds(&mut self) -> Result<(), ConnectorError> {
        let mut marker: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut p = Vec::new();
            if let Some(n) = self.settings.page_size {
                p.push(("MaxRecords", n.clamp(20, 100).to_string()));
            }
            if let Some(m) = marker.take() {
                p.push(("Marker", m));
            }
            let resp = self
                .query_call(Svc::Rds, "DescribeDBInstances", RDS_VERSION, &p, &[])
                .await?;
            let doc = self.xml(&resp)?;
            pages += 1;
            marker = doc
                .text_at(&["DescribeDBInstancesResult", "Marker"])
                .map(str::to_string);
            if marker.is_none() {
                return Ok(());
            }
            self.page_guard(&resp, pages)?;
        }
    }

    async fn kms(&mut self) -> Result<(), ConnectorError> {
        let mut ids = Vec::new();
        let mut marker: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut body = serde_json::Map::new();
            if let Some(n) = self.settings.page_size {
                body.insert("Limit".into(), json!(n.clamp(1, 1000)));
            }
            if let Some(m) = marker.take() {
                body.insert("Marker".into(), json!(m));
            }
            let (resp, page) = self
                .json_call(
                    Svc::Kms,
                    format!("{KMS_PREFIX}ListKeys"),
                    Value::Object(body),
                    &[],
                )
                .await?;
            let keys = page
                .get("Keys")
                .and_then(Value::as_array)
                .ok_or_else(|| self.garbage(&resp, "no Keys array"))?;
            ids.extend(
                keys.iter()
                    .filter_map(|k| k.get("KeyId").and_then(Value::as_str))
                    .map(str::to_string),
            );
            pages += 1;
            marker = page
                .get("Truncated")
                .and_then(Value::as_bool)
                .unwrap_or(false)
                .then(|| page.get("NextMarker").and_then(Value::as_str))
                .flatten()
                .map(str::to_string);
            if marker.is_none() {
                break;
            }
            self.page_guard(&resp, pages)?;
        }
        for id in ids {
            let (_, described) = self
                .json_call(
                    Svc::Kms,
                    format!("{KMS_PREFIX}DescribeKey"),
                    json!({ "KeyId": id }),
                    &[],
                )
                .await?;
            let manager = described
                .pointer("/KeyMetadata/KeyManager")
                .and_then(Value::as_str);
            if manager == Some("CUSTOMER") {
                // Asymmetric, HMAC, imported and pending-deletion keys have no rotation status.
                self.json_call(
                    Svc::Kms,
                    format!("{KMS_PREFIX}GetKeyRotationStatus"),
                    json!({ "KeyId": id }),
                    &[
                        (400, "UnsupportedOperationException"),
                        (400, "KMSInvalidStateException"),
                    ],
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn ec2(&mut self) -> Result<(), ConnectorError> {
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut p = Vec::new();
            if let Some(n) = self.settings.page_size {
                p.push(("MaxResults", n.clamp(5, 1000).to_string()));
            }
            if let Some(t) = token.take() {
                p.push(("NextToken", t));
            }
            let resp = self
                .query_call(Svc::Ec2, "DescribeSecurityGroups", EC2_VERSION, &p, &[])
                .await?;
            let doc = self.xml(&resp)?;
            pages += 1;
            token = doc.text_at(&["nextToken"]).map(str::to_string);
            if token.is_none() {
                return Ok(());
            }
            self.page_guard(&resp, pages)?;
        }
    }
}
