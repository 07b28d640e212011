//! One HTTP session against one system: retries, rate limits, pagination links, and the
//! record of every response read.
//!
//! **Retries.** A 429, a 5xx, a timeout or a refused connection is retried up to
//! [`RetryPolicy::max_attempts`] times. The wait is the server's `Retry-After` (seconds), or
//! its rate-limit reset time (`x-ratelimit-reset` on GitHub, `x-rate-limit-reset` on Okta, an
//! epoch second), or else exponential backoff from [`RetryPolicy::base_delay`]. A wait longer
//! than [`RetryPolicy::max_delay`] is not slept: the run fails with the server's answer, so a
//! scheduled run never hangs for an hour behind a spent quota.
//!
//! **Captures.** Every final response (after retries) is appended to the session's
//! [`CaptureBundle`]; the connector decides which statuses are meaningful (GitHub's 404 for an
//! unprotected branch is). Credentials never enter a capture: only the request line is kept.
use crate::{Capture, CaptureBundle, ConnectorError};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use url::Url;

/// How hard a session tries before it gives up.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// The first backoff wait; each retry doubles it.
    pub base_delay: Duration,
    /// The longest single wait the session will sleep.
    pub max_delay: Duration,
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// The most pages one listing may have, so a server that keeps linking to the same page
    /// cannot keep a run going forever.
    pub max_pages: usize,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
            max_pages: 10_000,
        }
    }
}

/// One request, before it is sent.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: reqwest::Method,
    /// Absolute, or relative to the session's base URL.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn get(url: impl Into<String>) -> Request {
        Request {
            method: reqwest::Method::GET,
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn post(url: impl Into<String>, body: Vec<u8>) -> Request {
        Request {
            method: reqwest::Method::POST,
            url: url.into(),
            headers: Vec::new(),
            body,
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Request {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// A final response.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The request line as captured (`GET /orgs/acme/repos?page=2`).
    pub request: String,
    /// Where the request went, for resolving relative links.
    pub url: Url,
}

impl Response {
    /// The body as JSON, or a [`ConnectorError::Garbage`] naming the request.
    pub fn json(&self, system: &str) -> Result<Value, ConnectorError> {
        serde_json::from_slice(&self.body).map_err(|e| ConnectorError::Garbage {
            system: system.to_string(),
            request: self.request.clone(),
            detail: format!("the body is not JSON ({e})"),
        })
    }

    /// The `rel="next"` target of a `Link` header (GitHub and Okta paginate this way).
    pub fn next_link(&self) -> Option<String> {
        let link = self.headers.get("link")?.to_str().ok()?;
        link.split(',').find_map(|part| {
            let (target, params) = part.split_once(';')?;
            let is_next = params
                .split(';')
                .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
            let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
            let target = self.url.join(target).ok()?;
            is_next.then(|| target.to_string())
        })
    }
}

/// Adds per-attempt headers (a signature that covers the time of sending, for AWS).
pub type Signer<'a> = &'a (dyn Fn(&Request, &Url, OffsetDateTime) -> Vec<(String, String)> + Sync);

/// A session against one system.
pub struct Session {
    client: reqwest::Client,
    system: String,
    base: Url,
    policy: RetryPolicy,
    default_headers: Vec<(String, String)>,
    bundle: CaptureBundle,
}

impl Session {
    /// `system` names the system in errors and in the bundle (`github`, `okta`, …); `base` is
    /// the API's root (`https://api.github.com/`).
    pub fn new(system: &str, base: &str, policy: RetryPolicy) -> Result<Session, ConnectorError> {
        let mut base = Url::parse(base).map_err(|e| {
            ConnectorError::Config(format!("the {system} API URL '{base}' is not a URL: {e}"))
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(ConnectorError::Config(format!(
                "the {system} API URL '{base}' must start with https:// (or http:// for a local server)"
            )));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .user_agent(concat!("vouch/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConnectorError::Config(format!("HTTP client: {e}")))?;
        Ok(Session {
            client,
            system: system.to_string(),
            base,
            policy,
            default_headers: Vec::new(),
            bundle: CaptureBundle::new(system),
        })
    }

    /// A header sent on every request (an `Authorization` header, an API version). Never
    /// captured.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Session {
        self.default_headers.push((name.to_string(), value.into()));
        self
    }

    pub fn system(&self) -> &str {
        &self.system
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// Every response read so far.
    pub fn into_bundle(self) -> CaptureBundle {
        self.bundle
    }

    /// Resolves a request URL against the base.
    pub fn url(&self, url: &str) -> Result<Url, ConnectorError> {
        let relative = url.trim_start_matches('/');
        self.base.join(relative).map_err(|e| {
            ConnectorError::Config(format!("'{url}' is not a usable {} URL: {e}", self.system))
        })
    }

    /// The request line kept in captures: the method, then the path (relative to the base's
    /// path, with a leading `/`) and query.
    fn request_line(&self, method: &reqwest::Method, url: &Url) -> String {
        let base_path = self.base.path().trim_end_matches('/');
        let path = url.path().strip_prefix(base_path).unwrap_or(url.path());
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        match url.query() {
            Some(q) => format!("{method} {path}?{q}"),
            None => format!("{method} {path}"),
        }
    }

    /// Sends with retries and records the final response as a capture.
    pub async fn send(&mut self, req: Request) -> Result<Response, ConnectorError> {
        self.send_signed(req, None).await
    }

    /// [`Session::send`] with a signer run before each attempt.
    pub async fn send_signed(
        &mut self,
        req: Request,
        signer: Option<Signer<'_>>,
    ) -> Result<Response, ConnectorError> {
        let url = self.url(&req.url)?;
        let line = self.request_line(&req.method, &url);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let now = OffsetDateTime::now_utc();
            let mut headers = HeaderMap::new();
            let signed = signer.map(|s| s(&req, &url, now)).unwrap_or_default();
            for (name, value) in self
                .default_headers
                .iter()
                .chain(&req.headers)
                .chain(&signed)
            {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|e| ConnectorError::Config(format!("header name '{name}': {e}")))?;
                let value = HeaderValue::from_str(value).map_err(|_| {
                    ConnectorError::Config(format!(
                        "the value of header '{name}' has characters HTTP does not allow"
                    ))
                })?;
                headers.insert(name, value);
            }
            let sent = self
                .client
                .request(req.method.clone(), url.clone())
                .headers(headers)
                .body(req.body.clone())
                .send()
                .await;
            let wait = match sent {
                Err(e) => {
                    if attempt >= self.policy.max_attempts {
                        return Err(ConnectorError::Unreachable {
                            system: self.system.clone(),
                            url: url.to_string(),
                            detail: error_chain(&e),
                        });
                    }
                    self.backoff(attempt)
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    let body = match resp.bytes().await {
                        Ok(b) => b.to_vec(),
                        Err(e) if attempt < self.policy.max_attempts => {
                            tracing::warn!(system = %self.system, request = %line, error = %e, "body cut off; retrying");
                            tokio::time::sleep(self.backoff(attempt)).await;
                            continue;
                        }
                        Err(e) => {
                            return Err(ConnectorError::Unreachable {
                                system: self.system.clone(),
                                url: url.to_string(),
                                detail: format!("the response body was cut off: {e}"),
                            });
                        }
                    };
                    let response = Response {
                        status,
                        headers,
                        body,
                        request: line.clone(),
                        url: url.clone(),
                    };
                    match self.retry_wait(&response, attempt) {
                        Retry::No => {
                            self.record(&response);
                            return Ok(response);
                        }
                        Retry::After(wait) => wait,
                        Retry::GiveUp(why) => {
                            return Err(ConnectorError::Status {
                                system: self.system.clone(),
                                status,
                                request: line,
                                detail: why,
                            });
                        }
                    }
                }
            };
            tracing::info!(system = %self.system, request = %line, attempt, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// Sends a GET and checks for success: 401 and 403 become [`ConnectorError::Credentials`],
    /// other failures [`ConnectorError::Status`]. Returns the response with its JSON body.
    pub async fn get_json(&mut self, url: &str) -> Result<(Response, Value), ConnectorError> {
        let resp = self.send(Request::get(url)).await?;
        self.check(&resp)?;
        let json = resp.json(&self.system)?;
        Ok((resp, json))
    }

    /// Turns an unsuccessful final status into the matching error.
    pub fn check(&self, resp: &Response) -> Result<(), ConnectorError> {
        if (200..300).contains(&resp.status) {
            return Ok(());
        }
        let detail = error_detail(&resp.body);
        if matches!(resp.status, 401 | 403) {
            Err(ConnectorError::Credentials {
                system: self.system.clone(),
                status: resp.status,
                request: resp.request.clone(),
                detail,
            })
        } else {
            Err(ConnectorError::Status {
                system: self.system.clone(),
                status: resp.status,
                request: resp.request.clone(),
                detail,
            })
        }
    }

    /// Follows `Link: rel="next"` from `first`, returning every page's JSON array items.
    pub async fn get_all_linked(&mut self, first: &str) -> Result<Vec<Value>, ConnectorError> {
        let mut items = Vec::new();
        let mut next = Some(first.to_string());
        let mut pages = 0usize;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > self.policy.max_pages {
                return Err(ConnectorError::Garbage {
                    system: self.system.clone(),
                    request: url,
                    detail: format!("more than {} pages of results", self.policy.max_pages),
                });
            }
            let (resp, json) = self.get_json(&url).await?;
            match json {
                Value::Array(page) => items.extend(page),
                other => {
                    return Err(ConnectorError::Garbage {
                        system: self.system.clone(),
                        request: resp.request,
                        detail: format!("expected a JSON array, got {}", json_kind(&other)),
                    });
                }
            }
            next = resp.next_link();
        }
        Ok(items)
    }

    fn record(&mut self, resp: &Response) {
        let (body, body_text) = match serde_json::from_slice::<Value>(&resp.body) {
            Ok(v) => (v, None),
            Err(_) if resp.body.is_empty() => (Value::Null, None),
            Err(_) => (
                Value::Null,
                Some(String::from_utf8_lossy(&resp.body).into_owned()),
            ),
        };
        self.bundle.captures.push(Capture {
            request: resp.request.clone(),
            fetched_at: OffsetDateTime::now_utc()
                .format(&Rfc3339)
                .unwrap_or_default(),
            status: resp.status,
            body,
            body_text,
        });
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.policy
            .base_delay
            .saturating_mul(factor)
            .min(self.policy.max_delay)
    }

    fn retry_wait(&self, resp: &Response, attempt: u32) -> Retry {
        // GitHub answers a spent primary quota with 403 and `x-ratelimit-remaining: 0`, and a
        // secondary rate limit with 403 (or 429) and `Retry-After`: neither is about the
        // credentials.
        let rate_limited = resp.status == 429
            || (resp.status == 403
                && (header(&resp.headers, "x-ratelimit-remaining") == Some("0")
                    || header(&resp.headers, "retry-after").is_some()));
        let transient = matches!(resp.status, 500 | 502 | 503 | 504);
        if !rate_limited && !transient {
            return Retry::No;
        }
        if attempt >= self.policy.max_attempts {
            return Retry::GiveUp(format!(
                "still failing after {attempt} attempts: {}",
                error_detail(&resp.body)
            ));
        }
        let asked = server_wait(&resp.headers);
        let wait = asked.unwrap_or_else(|| self.backoff(attempt));
        if wait > self.policy.max_delay {
            return Retry::GiveUp(format!(
                "rate limited; the server asks to wait {} s, longer than the {} s Vouch waits",
                wait.as_secs(),
                self.policy.max_delay.as_secs()
            ));
        }
        Retry::After(wait)
    }
}

enum Retry {
    No,
    After(Duration),
    GiveUp(String),
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// The wait a server asks for: `Retry-After` seconds, else a rate-limit reset epoch second.
fn server_wait(headers: &HeaderMap) -> Option<Duration> {
    if let Some(secs) = header(headers, "retry-after").and_then(|v| v.parse::<u64>().ok()) {
        return Some(Duration::from_secs(secs));
    }
    let reset = header(headers, "x-ratelimit-reset")
        .or_else(|| header(headers, "x-rate-limit-reset"))?
        .parse::<i64>()
        .ok()?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    Some(Duration::from_secs(reset.saturating_sub(now).max(1) as u64))
}

/// A short, safe description of an error body: the `message` (GitHub), `errorSummary`
/// (Okta), `error.message` (Google) or `error_description` (OAuth), else the first 200
/// characters.
fn error_detail(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        for ptr in [
            "/message",
            "/errorSummary",
            "/error/message",
            "/error_description",
            "/error",
        ] {
            if let Some(s) = v.pointer(ptr).and_then(Value::as_str) {
                return s.chars().take(300).collect();
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        "no details in the response".to_string()
    } else {
        text.chars().take(200).collect()
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests;
