//! The connector against a small loopback server that answers like AWS where moto does not:
//! IAM's `Marker` pagination (moto 5 ignores `MaxItems`), throttling, and S3's redirect to a
//! bucket's region.
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vouch_connect::http::RetryPolicy;
use vouch_connect_aws::{ConnectorError, Secret, Settings, collect};

#[derive(Default)]
struct Seen {
    /// (credential scope, request) per request.
    requests: Vec<(String, String)>,
    list_users_calls: usize,
}

struct Fake {
    seen: Mutex<Seen>,
    throttle_always: bool,
}

fn xml(status: u16, body: String) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "text/xml")],
        body,
    )
        .into_response()
}

fn error(status: u16, code: &str, message: &str) -> Response {
    xml(
        status,
        format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
        ),
    )
}

fn result(action: &str, inner: &str) -> Response {
    xml(
        200,
        format!(
            "<{action}Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><{action}Result>{inner}</{action}Result></{action}Response>" // not fetched: what the real API says
        ),
    )
}

async fn answer(
    state: Arc<Fake>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    _body: Bytes,
) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let scope = auth
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split(',').next())
        .and_then(|c| c.split_once('/'))
        .map(|(_, scope)| scope.to_string())
        .unwrap_or_default();
    let params: HashMap<String, String> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    state
        .seen
        .lock()
        .unwrap()
        .requests
        .push((scope.clone(), format!("{method} {uri} {target}")));
    if method == Method::POST {
        let body = match target.as_str() {
            "CloudTrail_20131101.DescribeTrails" => r#"{"trailList": []}"#,
            "TrentService.ListKeys" => r#"{"Keys": [], "Truncated": false}"#,
            _ => return (StatusCode::BAD_REQUEST, "unknown target").into_response(),
        };
        return (
            StatusCode::OK,
            [("content-type", "application/x-amz-json-1.1")],
            body,
        )
            .into_response();
    }
    let user = params.get("UserName").cloned().unwrap_or_default();
    match params.get("Action").map(String::as_str) {
        Some("ListUsers") => {
            let calls = {
                let mut seen = state.seen.lock().unwrap();
                seen.list_users_calls += 1;
                seen.list_users_calls
            };
            if calls == 1 || state.throttle_always {
                return error(400, "Throttling", "Rate exceeded");
            }
            let member = |n: &str| {
                format!("<member><UserName>{n}</UserName><Arn>arn:aws:iam::111122223333:user/{n}</Arn><UserId>ID{n}</UserId><Path>/</Path><CreateDate>2024-01-15T10:00:00.000+01:00</CreateDate></member>")
            };
            match params.get("Marker").map(String::as_str) {
                None => result(
                    "ListUsers",
                    &format!(
                        "<Users>{}{}</Users><IsTruncated>true</IsTruncated><Marker>page/2+</Marker>",
                        member("u1"),
                        member("u2")
                    ),
                ),
                Some("page/2+") => result(
                    "ListUsers",
                    &format!(
                        "<Users>{}</Users><IsTruncated>false</IsTruncated>",
                        member("u3")
                    ),
                ),
                Some(other) => error(400, "InvalidInput", &format!("bad marker {other}")),
            }
        }
        Some("ListMFADevices") if user == "u1" => result(
            "ListMFADevices",
            "<MFADevices><member><UserName>u1</UserName><SerialNumber>arn:aws:iam::111122223333:mfa/u1</SerialNumber></member></MFADevices><IsTruncated>false</IsTruncated>",
        ),
        Some("ListMFADevices") => result("ListMFADevices", "<MFADevices/><IsTruncated>false</IsTruncated>"),
        Some("GetLoginProfile") if user == "u1" => result(
            "GetLoginProfile",
            "<LoginProfile><UserName>u1</UserName><CreateDate>2024-01-15T10:00:00Z</CreateDate></LoginProfile>",
        ),
        Some("GetLoginProfile") => error(404, "NoSuchEntity", &format!("Login Profile for User {user} cannot be found.")),
        Some("ListAccessKeys") => result("ListAccessKeys", "<AccessKeyMetadata/><IsTruncated>false</IsTruncated>"),
        Some("ListAttachedUserPolicies") => result(
            "ListAttachedUserPolicies",
            "<AttachedPolicies/><IsTruncated>false</IsTruncated>",
        ),
        Some("DescribeDBInstances") => xml(
            200,
            "<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances/></DescribeDBInstancesResult></DescribeDBInstancesResponse>".into(),
        ),
        Some("DescribeSecurityGroups") => xml(
            200,
            "<DescribeSecurityGroupsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r</requestId><securityGroupInfo/></DescribeSecurityGroupsResponse>".into(), // not fetched: what the real API says
        ),
        Some(other) => error(400, "InvalidAction", other),
        None => match (uri.path(), uri.query().unwrap_or_default()) {
            ("/", _) => xml(
                200,
                "<ListAllMyBucketsResult><Buckets><Bucket><Name>far</Name><CreationDate>2024-01-15T10:00:00.000Z</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>".into(),
            ),
            ("/far", _) if !scope.contains("/us-west-2/") => (
                StatusCode::MOVED_PERMANENTLY,
                [("x-amz-bucket-region", "us-west-2")],
                "<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message></Error>",
            )
                .into_response(),
            ("/far", "encryption") => xml(
                404,
                "<Error><Code>ServerSideEncryptionConfigurationNotFoundError</Code><Message>The server side encryption configuration was not found</Message></Error>".into(),
            ),
            ("/far", "publicAccessBlock") => xml(
                200,
                "<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>".into(),
            ),
            ("/far", "versioning") => xml(200, "<VersioningConfiguration/>".into()),
            ("/far", "logging") => xml(200, "<BucketLoggingStatus/>".into()),
            _ => error(404, "NoSuchKey", "not here"),
        },
    }
}

async fn serve(throttle_always: bool) -> (String, Arc<Fake>) {
    let state = Arc::new(Fake {
        seen: Mutex::new(Seen::default()),
        throttle_always,
    });
    let s = state.clone();
    let app = Router::new()
        .fallback(move |method, uri, headers, body| answer(s.clone(), method, uri, headers, body));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), state)
}

fn settings(endpoint: &str) -> Settings {
    Settings {
        endpoint: Some(endpoint.to_string()),
        region: "eu-west-1".into(),
        access_key_id: "AKIAFAKEFAKEFAKE0000".into(),
        secret_access_key: Secret::new("fake/secret"),
        session_token: Some(Secret::new("session-token-value")),
        account_label: None,
        page_size: Some(2),
    }
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        timeout: Duration::from_secs(10),
        max_pages: 100,
    }
}

#[tokio::test]
async fn follows_iam_markers_retries_throttling_and_asks_a_bucket_in_its_region() {
    let (endpoint, state) = serve(false).await;
    let fetched = collect(&settings(&endpoint), policy())
        .await
        .expect("the run succeeds");
    let rs = &fetched.collection.resources;
    let keys: Vec<&str> = rs.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "arn:aws:iam::111122223333:user/u1",
            "arn:aws:iam::111122223333:user/u2",
            "arn:aws:iam::111122223333:user/u3",
            "arn:aws:s3:::far"
        ]
    );
    assert_eq!(
        serde_json::Value::Object(rs[0].attrs.clone()),
        serde_json::json!({"username": "u1", "arn": "arn:aws:iam::111122223333:user/u1",
            "account_id": "111122223333", "created": "2024-01-15T09:00:00Z",
            "password_enabled": true, "mfa": true, "access_keys_active": 0, "admin": false,
            "active": true})
    );
    assert_eq!(rs[1].attrs["password_enabled"], false);
    assert_eq!(rs[1].attrs["mfa"], false);
    assert_eq!(
        serde_json::Value::Object(rs[3].attrs.clone()),
        serde_json::json!({"service": "s3", "name": "far", "encrypted": false,
            "encryption_algorithm": null, "public_access_blocked": true, "versioning": null,
            "logging": false})
    );
    let lines: Vec<&str> = fetched
        .bundle
        .captures
        .iter()
        .map(|c| c.request.as_str())
        .collect();
    // The throttled answer is kept (it was read), then the same request again, then page 2.
    assert_eq!(
        lines[0],
        "GET /?Action=ListUsers&Version=2010-05-08&MaxItems=2"
    );
    assert_eq!(fetched.bundle.captures[0].status, 400);
    assert_eq!(lines[1], lines[0]);
    assert_eq!(
        lines[2],
        "GET /?Action=ListUsers&Version=2010-05-08&MaxItems=2&Marker=page%2F2%2B"
    );
    assert!(
        lines.contains(&"POST / CloudTrail_20131101.DescribeTrails {}"),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"POST / TrentService.ListKeys {\"Limit\":2}"),
        "{lines:?}"
    );
    // Each service signed for its region; IAM for us-east-1; the moved bucket for its own.
    let seen = state.seen.lock().unwrap();
    let scope_of = |needle: &str| {
        seen.requests
            .iter()
            .filter(|(_, r)| r.contains(needle))
            .map(|(s, _)| s.as_str())
            .collect::<Vec<_>>()
    };
    assert!(
        scope_of("Action=ListUsers")
            .iter()
            .all(|s| s.ends_with("/us-east-1/iam/aws4_request"))
    );
    assert!(
        scope_of("DescribeSecurityGroups")
            .iter()
            .all(|s| s.ends_with("/eu-west-1/ec2/aws4_request"))
    );
    assert!(
        scope_of("TrentService")
            .iter()
            .all(|s| s.ends_with("/eu-west-1/kms/aws4_request"))
    );
    let far = scope_of("/far?encryption");
    assert_eq!(far.len(), 2);
    assert!(
        far[0].ends_with("/eu-west-1/s3/aws4_request")
            && far[1].ends_with("/us-west-2/s3/aws4_request")
    );
    // The redirect is in the bundle, and the importer skips it.
    assert_eq!(
        fetched
            .bundle
            .captures
            .iter()
            .filter(|c| c.status == 301)
            .count(),
        1
    );
    let text = String::from_utf8(fetched.bundle.to_bytes()).unwrap();
    assert!(!text.contains("session-token-value") && !text.contains("fake/secret"));
}

#[tokio::test]
async fn endless_throttling_ends_in_a_clear_error() {
    let (endpoint, state) = serve(true).await;
    let e = collect(&settings(&endpoint), policy()).await.unwrap_err();
    assert!(
        matches!(e, ConnectorError::Status { status: 400, .. }),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("Throttling: Rate exceeded (still throttled after every retry)"),
        "{msg}"
    );
    assert_eq!(
        state.seen.lock().unwrap().list_users_calls,
        3,
        "max_attempts"
    );
}
