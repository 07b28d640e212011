//! The session against a loopback server that misbehaves on purpose.
use super::*;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

fn fast() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
        max_pages: 50,
    }
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}/api/")
}

#[tokio::test]
async fn retries_429_and_5xx_then_captures_only_the_final_answer() {
    let hits = Arc::new(AtomicU32::new(0));
    let app = axum::Router::new()
        .route(
            "/api/flaky",
            get(|State(hits): State<Arc<AtomicU32>>| async move {
                match hits.fetch_add(1, Ordering::SeqCst) {
                    0 => (
                        StatusCode::TOO_MANY_REQUESTS,
                        [("retry-after", "0")],
                        "slow down",
                    )
                        .into_response(),
                    1 => (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response(),
                    // GitHub's secondary rate limit: a 403 that is not about credentials.
                    2 => (
                        StatusCode::FORBIDDEN,
                        [("retry-after", "0")],
                        axum::Json(serde_json::json!({"message": "You have exceeded a secondary rate limit."})),
                    )
                        .into_response(),
                    _ => axum::Json(serde_json::json!([{"id": 1}])).into_response(),
                }
            }),
        )
        .with_state(hits.clone());
    let base = serve(app).await;
    let mut s = Session::new("test", &base, fast()).unwrap();
    let (resp, json) = s.get_json("/flaky?x=1").await.unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(json[0]["id"], 1);
    assert_eq!(hits.load(Ordering::SeqCst), 4);
    let bundle = s.into_bundle();
    assert_eq!(
        bundle.captures.len(),
        1,
        "retried attempts are not evidence"
    );
    assert_eq!(bundle.captures[0].request, "GET /flaky?x=1");
    assert_eq!(bundle.captures[0].body[0]["id"], 1);
}

#[tokio::test]
async fn follows_link_pagination_and_stops_at_the_last_page() {
    let base2 = {
        let app = axum::Router::new().route(
            "/api/items",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                let page: u32 = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                let mut headers = axum::http::HeaderMap::new();
                if page < 3 {
                    headers.insert(
                        "link",
                        format!("</api/items?page={}>; rel=\"next\"", page + 1)
                            .parse()
                            .unwrap(),
                    );
                }
                (headers, axum::Json(serde_json::json!([page])))
            }),
        );
        serve(app).await
    };
    let mut s = Session::new("test", &base2, fast()).unwrap();
    let items = s.get_all_linked("items").await.unwrap();
    assert_eq!(
        items,
        vec![
            serde_json::json!(1),
            serde_json::json!(2),
            serde_json::json!(3)
        ]
    );
    let bundle = s.into_bundle();
    let lines: Vec<_> = bundle.captures.iter().map(|c| c.request.as_str()).collect();
    assert_eq!(
        lines,
        ["GET /items", "GET /items?page=2", "GET /items?page=3"]
    );
}

#[tokio::test]
async fn revoked_credentials_rate_limit_beyond_patience_and_garbage_are_clear_errors() {
    let app = axum::Router::new()
        .route(
            "/api/me",
            get(|| async {
                (
                    StatusCode::UNAUTHORIZED,
                    axum::Json(serde_json::json!({"message": "Bad credentials"})),
                )
            }),
        )
        .route(
            "/api/limited",
            get(|| async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "3600")],
                    "later",
                )
            }),
        )
        .route("/api/garbage", get(|| async { "<html>gateway</html>" }))
        .route(
            "/api/loop",
            get(|| async {
                (
                    [("link", "</api/loop>; rel=\"next\"")],
                    axum::Json(serde_json::json!([])),
                )
            }),
        );
    let base = serve(app).await;
    let mut s = Session::new("github", &base, fast())
        .unwrap()
        .with_header("authorization", "Bearer ghp_secret_value");
    let err = s.get_json("me").await.unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, ConnectorError::Credentials { status: 401, .. }),
        "{msg}"
    );
    assert!(
        msg.contains("Bad credentials") && msg.contains("GET /me"),
        "{msg}"
    );
    assert!(!msg.contains("ghp_secret_value"));

    let err = s.get_json("limited").await.unwrap_err();
    assert!(err.to_string().contains("3600 s"), "{err}");

    let err = s.get_json("garbage").await.unwrap_err();
    assert!(matches!(err, ConnectorError::Garbage { .. }), "{err}");
    assert!(err.to_string().contains("not JSON"), "{err}");

    let err = s.get_all_linked("loop").await.unwrap_err();
    assert!(err.to_string().contains("more than 50 pages"), "{err}");

    let bundle = serde_json::to_string(&s.into_bundle()).unwrap();
    assert!(
        !bundle.contains("ghp_secret_value"),
        "credentials never enter a capture"
    );
}

#[test]
fn a_base_url_must_be_http() {
    let err = Session::new("okta", "ftp://example.com", fast())
        .err()
        .unwrap();
    assert!(err.to_string().contains("https://"), "{err}");
    let err = Session::new("okta", "not a url", fast()).err().unwrap();
    assert!(err.to_string().contains("not a URL"), "{err}");
}
