//! Loopback servers that speak the shapes of the real APIs (feature `test-servers`), for this
//! crate's tests and for the app's: [`FakeGithub`], [`FakeOkta`], [`FakeGoogle`].
//!
//! Each listens on `127.0.0.1` at a free port, serves the endpoints its connector reads with
//! the real field names, paginates in pages of [`DEFAULT_PAGE_SIZE`] items (so every test
//! exercises pagination), checks the credentials (401 otherwise), and keeps its state behind a
//! mutex that a test changes between runs (`fake.state().members.retain(…)`). Faults are
//! injected through the state's [`Faults`]. The server stops when the value is dropped.
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex, MutexGuard};

mod github;
mod google;
mod okta;

pub use github::{
    FakeGithub, GithubMember, GithubPull, GithubRepo, GithubReview, GithubState,
    protection_requiring,
};
pub use google::{FakeGoogle, GoogleState, GoogleUser};
pub use okta::{FakeOkta, OktaFactor, OktaState, OktaUser};

/// A throwaway RSA private key (PKCS#8 PEM) made for these tests; it protects nothing. The
/// fake Google's service account and the fake GitHub's App sign with it, and the fakes check
/// signatures with its public half.
pub const TEST_PRIVATE_KEY: &str = include_str!("testing/test-key.pem");
const TEST_PUBLIC_KEY: &str = include_str!("testing/test-key.pub.pem");

/// Items per page unless a state says otherwise.
pub const DEFAULT_PAGE_SIZE: usize = 2;

/// Misbehaviour to inject. Counters count down with each request they answer.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// The next N requests answer 429 with `Retry-After: 0`.
    pub rate_limited: u32,
    /// The next N requests (after any 429s) answer 503.
    pub unavailable: u32,
    /// Every request answers as for a revoked credential (401; Google's token endpoint
    /// answers 400 `invalid_grant`, as it does for a deleted key).
    pub revoked: bool,
    /// Requests whose path (without the query) is this one answer 200 with an HTML page.
    pub garbage_path: Option<String>,
}

impl Faults {
    /// The injected answer for this request, if any (after rate limits and outages, a
    /// revoked credential is answered by the caller in its API's words).
    fn answer(&mut self, path: &str) -> Option<Response> {
        if self.rate_limited > 0 {
            self.rate_limited -= 1;
            return Some(
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "0")],
                    axum::Json(serde_json::json!({"message": "API rate limit exceeded"})),
                )
                    .into_response(),
            );
        }
        if self.unavailable > 0 {
            self.unavailable -= 1;
            return Some((StatusCode::SERVICE_UNAVAILABLE, "upstream unavailable").into_response());
        }
        if self.garbage_path.as_deref() == Some(path) && !self.revoked {
            return Some(
                (
                    StatusCode::OK,
                    [("content-type", "text/html")],
                    "<html><body><h1>Sign in</h1></body></html>",
                )
                    .into_response(),
            );
        }
        None
    }
}

/// What every fake shares: the state, the log of requests, the server task.
struct Server<S> {
    url: String,
    shared: Arc<Shared<S>>,
    task: tokio::task::JoinHandle<()>,
}

struct Shared<S> {
    state: Mutex<S>,
    log: Mutex<Vec<String>>,
    url: String,
}

impl<S> Shared<S> {
    fn state(&self) -> MutexGuard<'_, S> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One request as a fake sees it.
struct Incoming {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Incoming {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

type Handler<S> = fn(&Shared<S>, &mut S, &Incoming) -> Response;

impl<S: Send + 'static> Server<S> {
    async fn start(state: S, handle: Handler<S>) -> Server<S> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let url = format!("http://{}/", listener.local_addr().expect("local address"));
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            log: Mutex::new(Vec::new()),
            url: url.clone(),
        });
        let app_shared = shared.clone();
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let shared = app_shared.clone();
            async move {
                let (parts, body) = req.into_parts();
                let body = axum::body::to_bytes(body, 1 << 20)
                    .await
                    .map(|b| b.to_vec())
                    .unwrap_or_default();
                let incoming = Incoming {
                    method: parts.method.to_string(),
                    path: parts.uri.path().to_string(),
                    query: url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
                        .into_owned()
                        .collect(),
                    headers: parts.headers,
                    body,
                };
                shared
                    .log
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(format!(
                        "{} {}",
                        parts.method,
                        parts.uri.path_and_query().map_or("/", |p| p.as_str())
                    ));
                let mut state = shared.state();
                handle(&shared, &mut state, &incoming)
            }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Server { url, shared, task }
    }

    fn requests(&self) -> Vec<String> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl<S> Drop for Server<S> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn json(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn with_link(mut resp: Response, link: Option<String>) -> Response {
    if let Some(link) = link
        && let Ok(v) = link.parse()
    {
        resp.headers_mut().insert("link", v);
    }
    resp
}

fn not_found(body: serde_json::Value) -> Response {
    json(StatusCode::NOT_FOUND, body)
}

/// `items[from..]`, at most `size` of them, and whether more follow.
fn page_of<T: Clone>(items: &[T], from: usize, size: usize) -> (Vec<T>, bool) {
    let size = size.max(1);
    let from = from.min(items.len());
    let to = (from + size).min(items.len());
    (items[from..to].to_vec(), to < items.len())
}
