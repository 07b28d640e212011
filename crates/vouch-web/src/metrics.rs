//! Prometheus metrics at `/metrics`. The registry is a value in the app state, not a global.
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Mutex;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

pub(crate) struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<HttpLabels, Counter>,
    latency: Family<HttpLabels, Histogram>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("vouch");
        let requests = Family::<HttpLabels, Counter>::default();
        let latency = Family::<HttpLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 14))
        });
        registry.register("http_requests", "HTTP requests served", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to serve an HTTP request",
            latency.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            requests,
            latency,
        }
    }
}

pub(crate) async fn track(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let start = std::time::Instant::now();
    let method = req.method().to_string();
    // This layer wraps the whole router, so it runs before routing and never sees axum's
    // matched route; the path itself, with identifiers collapsed, is the label.
    let route = route_label(req.uri().path());
    let res = next.run(req).await;
    let labels = HttpLabels {
        method,
        route,
        status: res.status().as_u16(),
    };
    st.metrics.requests.get_or_create(&labels).inc();
    st.metrics
        .latency
        .get_or_create(&labels)
        .observe(start.elapsed().as_secs_f64());
    res
}

pub(crate) async fn render(State(st): State<AppState>) -> Response {
    let mut out = String::new();
    let reg = st.metrics.registry.lock().unwrap();
    if prometheus_client::encoding::text::encode(&mut out, &reg).is_err() {
        return (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "metrics encoding failed",
        )
            .into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

/// A bounded label for a path: segments that look like identifiers become `:id`, so label
/// cardinality does not grow with the number of users or tokens.
fn route_label(path: &str) -> String {
    let segs: Vec<&str> = path
        .split('/')
        .map(|s| {
            if s.len() >= 8 && s.chars().any(|c| c.is_ascii_digit()) {
                ":id"
            } else {
                s
            }
        })
        .collect();
    segs.join("/")
}

#[cfg(test)]
mod tests {
    #[test]
    fn identifiers_are_collapsed_in_route_labels() {
        assert_eq!(
            super::route_label("/api/v1/users/6f1c2d3e-aaaa-4bbb-8ccc-1234567890ab"),
            "/api/v1/users/:id"
        );
        assert_eq!(super::route_label("/criteria"), "/criteria");
    }
}
