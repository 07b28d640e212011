use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::lock;

/// The path the sink answers on, shaped like a real incoming-webhook URL.
const PATH: &str = "/services/T000/B000/XXXX";

struct State {
    requests: Vec<serde_json::Value>,
    status: u16,
    body: String,
}

/// An HTTP server on `127.0.0.1` that behaves like a Slack incoming webhook.
///
/// Like Slack, it wants a JSON `POST` to its own path: another path gets `404 no_service`, a
/// non-JSON body `400 invalid_payload`, and neither is recorded. A valid post is recorded and
/// answered `200 ok`, or with whatever [`WebhookSink::respond_with`] set.
pub struct WebhookSink {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl WebhookSink {
    /// Binds an ephemeral loopback port and starts serving.
    pub async fn start() -> WebhookSink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the webhook sink");
        let addr = listener.local_addr().expect("webhook sink address");
        let state = Arc::new(Mutex::new(State {
            requests: Vec::new(),
            status: 200,
            body: "ok".to_owned(),
        }));
        let app = Router::new()
            .fallback(record)
            .with_state(Arc::clone(&state));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        WebhookSink { addr, state, task }
    }

    /// `http://127.0.0.1:PORT/services/T000/B000/XXXX`.
    pub fn url(&self) -> String {
        format!("http://{}{PATH}", self.addr)
    }

    /// The JSON bodies posted so far, oldest first.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        lock(&self.state).requests.clone()
    }

    /// Answers later valid posts with `status` and `body` (they are still recorded).
    pub fn respond_with(&self, status: u16, body: &str) {
        let mut state = lock(&self.state);
        state.status = status;
        state.body = body.to_owned();
    }

    /// Waits until at least `n` posts arrived or `timeout` passed; returns what arrived.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<serde_json::Value> {
        super::wait_for(n, timeout, || self.requests()).await
    }
}

impl Drop for WebhookSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(
    Extract(state): Extract<Arc<Mutex<State>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if uri.path() != PATH {
        return (StatusCode::NOT_FOUND, "no_service").into_response();
    }
    if method != Method::POST {
        return (StatusCode::METHOD_NOT_ALLOWED, "invalid_method").into_response();
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    let Some(json) = is_json
        .then(|| serde_json::from_slice(&body).ok())
        .flatten()
    else {
        return (StatusCode::BAD_REQUEST, "invalid_payload").into_response();
    };
    let (status, body) = {
        let mut state = lock(&state);
        state.requests.push(json);
        (state.status, state.body.clone())
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, body).into_response()
}
