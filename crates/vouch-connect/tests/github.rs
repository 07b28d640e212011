//! The GitHub connector against the fake GitHub.
use std::time::Duration;
use vouch_connect::testing::{FakeGithub, GithubMember, GithubState};
use vouch_connect::{ConnectorError, RetryPolicy, github};

fn fast() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_secs(2),
        timeout: Duration::from_secs(10),
        max_pages: 50,
    }
}

fn lines(bundle: &vouch_connect::CaptureBundle) -> Vec<String> {
    bundle.captures.iter().map(|c| c.request.clone()).collect()
}

const PULLS: &str = "pulls?state=closed&base=main&sort=updated&direction=desc&per_page=100";

fn expected_default_run() -> Vec<String> {
    [
        "GET /orgs/acme/members?per_page=100".to_string(),
        "GET /orgs/acme/members?per_page=100&page=2".into(),
        "GET /orgs/acme/members?per_page=100&page=3".into(),
        "GET /orgs/acme/members?role=admin&per_page=100".into(),
        "GET /orgs/acme/members?filter=2fa_disabled&per_page=100".into(),
        "GET /orgs/acme/repos?per_page=100".into(),
        "GET /orgs/acme/repos?per_page=100&page=2".into(),
        "GET /repos/acme/api/branches/main/protection".into(),
        format!("GET /repos/acme/api/{PULLS}"),
        format!("GET /repos/acme/api/{PULLS}&page=2"),
        format!("GET /repos/acme/api/{PULLS}&page=3"),
        // Updated newest first: 13, (14 closed unmerged), 12, 11; 9 is from 2020.
        "GET /repos/acme/api/pulls/13/reviews?per_page=100".into(),
        "GET /repos/acme/api/pulls/12/reviews?per_page=100".into(),
        "GET /repos/acme/api/pulls/11/reviews?per_page=100".into(),
        "GET /repos/acme/web/branches/main/protection".into(),
        format!("GET /repos/acme/web/{PULLS}"),
        "GET /repos/acme/web/pulls/3/reviews?per_page=100".into(),
    ]
    .to_vec()
}

#[tokio::test]
async fn reads_the_org_page_by_page_under_the_requests_the_importer_reads() {
    let fake = FakeGithub::start(GithubState::sample()).await;
    let bundle = github::fetch(&fake.settings(), fast()).await.unwrap();
    assert_eq!(bundle.system, "github");
    assert_eq!(lines(&bundle), expected_default_run());
    assert!(bundle.captures.iter().all(|c| c.body_text.is_none()));

    let logins = |first: &str| -> Vec<String> {
        bundle
            .captures
            .iter()
            .filter(|c| {
                c.request
                    .starts_with(&format!("GET /orgs/acme/members?{first}"))
            })
            .flat_map(|c| c.body.as_array().unwrap().clone())
            .map(|m| m["login"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(logins("per_page=100"), ["ana", "ben", "cara", "dev", "eve"]);
    assert_eq!(logins("role=admin"), ["ana", "eve"]);
    assert_eq!(logins("filter=2fa_disabled"), ["cara", "eve"]);

    let protection = |repo: &str| {
        bundle
            .captures
            .iter()
            .find(|c| c.path() == format!("/repos/acme/{repo}/branches/main/protection"))
            .unwrap()
    };
    assert_eq!(protection("api").status, 200);
    assert_eq!(
        protection("api").body["required_pull_request_reviews"]["required_approving_review_count"],
        1
    );
    assert_eq!(
        protection("web").status,
        404,
        "an unprotected branch is evidence"
    );
    let reviews = bundle
        .captures
        .iter()
        .find(|c| c.path() == "/repos/acme/api/pulls/12/reviews")
        .unwrap();
    assert_eq!(reviews.body[0]["user"]["login"], "ben");
    assert_eq!(reviews.body[0]["state"], "APPROVED");
    // Nothing about the archived repository beyond its listing.
    assert!(!lines(&bundle).iter().any(|l| l.contains("legacy")));
}

#[tokio::test]
async fn pull_requests_stop_at_the_first_page_older_than_since() {
    let fake = FakeGithub::start(GithubState::sample()).await;
    let mut settings = fake.settings();
    settings.since = Some(time::OffsetDateTime::now_utc().date() - time::Duration::days(7));
    let bundle = github::fetch(&settings, fast()).await.unwrap();
    let got = lines(&bundle);
    assert!(got.contains(&format!("GET /repos/acme/api/{PULLS}&page=2")));
    assert!(
        !got.contains(&format!("GET /repos/acme/api/{PULLS}&page=3")),
        "page 2 ends with a pull request older than since: {got:#?}"
    );
    assert!(got.contains(&"GET /repos/acme/api/pulls/12/reviews?per_page=100".to_string()));
    assert!(
        !got.contains(&"GET /repos/acme/api/pulls/11/reviews?per_page=100".to_string()),
        "11 was updated before since"
    );
    assert!(!got.contains(&"GET /repos/acme/api/pulls/14/reviews?per_page=100".to_string()));
}

#[tokio::test]
async fn rate_limits_and_outages_are_retried_and_leave_no_trace_in_the_bundle() {
    let fake = FakeGithub::start(GithubState::sample()).await;
    {
        let mut st = fake.state();
        st.faults.rate_limited = 2;
        st.faults.unavailable = 1;
    }
    let bundle = github::fetch(&fake.settings(), fast()).await.unwrap();
    assert_eq!(lines(&bundle), expected_default_run());
    assert!(
        bundle
            .captures
            .iter()
            .all(|c| c.status == 200 || c.status == 404)
    );
    assert_eq!(fake.requests().len(), bundle.captures.len() + 3);
    assert_eq!(
        fake.requests()[..4],
        ["GET /orgs/acme/members?per_page=100"; 4],
        "the first request was tried four times"
    );

    // An outage longer than the policy's attempts fails the run with the status.
    fake.state().faults.unavailable = 10;
    let err = github::fetch(&fake.settings(), fast()).await.unwrap_err();
    assert!(
        matches!(err, ConnectorError::Status { status: 503, .. }),
        "{err}"
    );
    assert!(err.to_string().starts_with("GitHub answered 503"), "{err}");
}

#[tokio::test]
async fn a_revoked_or_wrong_token_is_a_credentials_error_naming_github() {
    let fake = FakeGithub::start(GithubState::sample()).await;
    fake.state().faults.revoked = true;
    let settings = fake.settings();
    let err = github::fetch(&settings, fast()).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(&err, ConnectorError::Credentials { system, status: 401, .. } if system == "GitHub"),
        "{msg}"
    );
    assert!(msg.contains("GitHub refused the credentials"), "{msg}");
    assert!(msg.contains("Bad credentials"), "{msg}");
    assert!(!msg.contains("ghp_fake_token_for_tests"), "{msg}");
    assert!(!format!("{err:?}").contains("ghp_fake_token_for_tests"));

    fake.state().faults.revoked = false;
    let wrong = github::Settings {
        auth: github::Auth::Token {
            token: vouch_connect::Secret::new("ghp_wrong"),
        },
        ..settings
    };
    let err = github::fetch(&wrong, fast()).await.unwrap_err();
    assert!(
        matches!(err, ConnectorError::Credentials { status: 401, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn an_html_page_instead_of_json_is_garbage() {
    let fake = FakeGithub::start(GithubState::sample()).await;
    fake.state().faults.garbage_path = Some("/orgs/acme/repos".into());
    let err = github::fetch(&fake.settings(), fast()).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(&err, ConnectorError::Garbage { system, request, .. }
            if system == "GitHub" && request == "GET /orgs/acme/repos?per_page=100"),
        "{msg}"
    );
    assert!(msg.contains("not JSON"), "{msg}");
}

#[tokio::test]
async fn the_token_is_in_no_debug_output_nor_capture() {
    let fake = FakeGithub::start(GithubState::sample()).await;
    let json = serde_json::json!({
        "org": "acme",
        "api_url": fake.url(),
        "auth": {"type": "token", "token": "ghp_fake_token_for_tests"}
    });
    let settings: github::Settings = serde_json::from_value(json).unwrap();
    assert!(settings.since.is_none());
    let debug = format!("{settings:?}");
    assert!(!debug.contains("ghp_fake"), "{debug}");
    assert!(debug.contains("[redacted]"), "{debug}");
    let bundle = github::fetch(&settings, fast()).await.unwrap();
    let bytes = String::from_utf8(bundle.to_bytes()).unwrap();
    assert!(bytes.contains("\"login\":\"ana\""));
    assert!(
        !bytes.contains("ghp_fake"),
        "the token never enters a capture"
    );
    assert!(!bytes.to_lowercase().contains("bearer"));
}

#[tokio::test]
async fn a_second_run_sees_the_state_as_it_is_then() {
    let fake = FakeGithub::start(GithubState::sample()).await;
    let first = github::fetch(&fake.settings(), fast()).await.unwrap();
    {
        let mut st = fake.state();
        st.members.retain(|m| m.login != "cara");
        st.members.push(GithubMember::new("finn", 6, false, true));
        st.repos.retain(|r| r.name != "web");
    }
    let second = github::fetch(&fake.settings(), fast()).await.unwrap();
    let members = |b: &vouch_connect::CaptureBundle| -> Vec<String> {
        b.captures
            .iter()
            .filter(|c| c.request.starts_with("GET /orgs/acme/members?per_page=100"))
            .flat_map(|c| c.body.as_array().unwrap().clone())
            .map(|m| m["login"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(members(&first), ["ana", "ben", "cara", "dev", "eve"]);
    assert_eq!(members(&second), ["ana", "ben", "dev", "eve", "finn"]);
    assert!(!lines(&second).iter().any(|l| l.contains("/web/")));
}

#[tokio::test]
async fn settings_are_checked_before_any_request() {
    let fake = FakeGithub::start(GithubState::sample()).await;
    let mut settings = fake.settings();
    settings.org = "acme/api".into();
    let err = github::fetch(&settings, fast()).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Config(_)), "{err}");
    let mut settings = fake.settings();
    settings.org = "nobody".into();
    let err = github::fetch(&settings, fast()).await.unwrap_err();
    assert!(
        err.to_string().contains("no organisation 'nobody'"),
        "{err}"
    );
    let settings = github::Settings::with_token("acme", " ");
    let err = github::fetch(&settings, fast()).await.unwrap_err();
    assert!(err.to_string().contains("token is missing"), "{err}");
    assert_eq!(
        fake.requests(),
        ["GET /orgs/nobody/members?per_page=100"],
        "only the run with usable settings reached the server"
    );
}

#[tokio::test]
async fn collect_imports_what_was_read() {
    use vouch_domain::resource::ResourceKind;
    let fake = FakeGithub::start(GithubState::sample()).await;
    let fetched = github::collect(&fake.settings(), fast()).await.unwrap();
    let c = &fetched.collection;
    assert_eq!(c.system, "github");
    assert_eq!(fetched.bundle.captures.len(), expected_default_run().len());
    let get = |kind: ResourceKind, key: &str| {
        c.resources
            .iter()
            .find(|r| r.kind == kind && r.key == key)
            .unwrap_or_else(|| panic!("no {kind:?} {key}: {:#?}", c.resources))
            .attrs
            .clone()
    };
    let count = |kind: ResourceKind| c.resources.iter().filter(|r| r.kind == kind).count();
    assert_eq!(count(ResourceKind::Account), 5);
    assert_eq!(count(ResourceKind::Repository), 3);
    assert_eq!(count(ResourceKind::BranchProtection), 2);
    let eve = get(ResourceKind::Account, "eve");
    assert_eq!(
        (eve["admin"].clone(), eve["mfa"].clone()),
        (true.into(), false.into())
    );
    let ben = get(ResourceKind::Account, "ben");
    assert_eq!(
        (ben["admin"].clone(), ben["mfa"].clone()),
        (false.into(), true.into())
    );
    assert_eq!(
        get(ResourceKind::Repository, "acme/legacy")["archived"],
        true
    );
    assert_eq!(
        get(ResourceKind::BranchProtection, "acme/api:main")["protected"],
        true
    );
    assert_eq!(
        get(ResourceKind::BranchProtection, "acme/api:main")["required_approving_review_count"],
        1
    );
    assert_eq!(
        get(ResourceKind::BranchProtection, "acme/web:main")["protected"],
        false
    );
    let p12 = get(ResourceKind::PullRequest, "acme/api#12");
    assert_eq!(p12["reviewed"], true);
    assert_eq!(p12["approved_by"], serde_json::json!(["ben"]));
    assert_eq!(
        get(ResourceKind::PullRequest, "acme/api#13")["reviewed"],
        false
    );
    assert_eq!(
        get(ResourceKind::PullRequest, "acme/web#3")["reviewed"],
        false
    );
    assert_eq!(
        get(ResourceKind::PullRequest, "acme/api#14")["merged"],
        false
    );

    // A member removed between runs is gone from the next collection.
    fake.state().members.retain(|m| m.login != "eve");
    let next = github::collect(&fake.settings(), fast()).await.unwrap();
    assert!(
        !next
            .collection
            .resources
            .iter()
            .any(|r| r.kind == ResourceKind::Account && r.key == "eve")
    );
}

#[tokio::test]
async fn a_github_app_signs_in_with_an_installation_token_that_is_never_captured() {
    let fake = FakeGithub::start(GithubState::sample()).await;
    let settings = fake.app_settings();
    let bundle = github::fetch(&settings, fast()).await.unwrap();
    assert_eq!(
        lines(&bundle),
        expected_default_run(),
        "the App exchange is not captured"
    );
    assert_eq!(
        fake.requests()[..2],
        [
            "GET /orgs/acme/installation",
            "POST /app/installations/77/access_tokens"
        ]
    );
    assert_eq!(fake.state().installation_tokens.len(), 1);
    let bytes = String::from_utf8(bundle.to_bytes()).unwrap();
    assert!(!bytes.contains("ghs_fake") && !bytes.contains("installation"));
    let debug = format!("{settings:?}");
    assert!(!debug.contains("PRIVATE KEY"), "{debug}");

    // A named installation skips the lookup.
    let mut named = fake.app_settings();
    if let github::Auth::App {
        installation_id, ..
    } = &mut named.auth
    {
        *installation_id = Some(77);
    }
    let before = fake.requests().len();
    github::fetch(&named, fast()).await.unwrap();
    assert_eq!(
        fake.requests()[before],
        "POST /app/installations/77/access_tokens"
    );

    // Another App's key, a revoked App, an App not installed.
    let mut other = fake.app_settings();
    if let github::Auth::App { private_key, .. } = &mut other.auth {
        *private_key = vouch_connect::Secret::new(include_str!("other-key.pem"));
    }
    let err = github::fetch(&other, fast()).await.unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Credentials { system, status: 401, .. } if system == "GitHub"),
        "{err}"
    );
    assert!(err.to_string().contains("JSON web token"), "{err}");
    fake.state().faults.revoked = true;
    let err = github::fetch(&fake.app_settings(), fast())
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Credentials { .. }), "{err}");
    let mut st = GithubState::sample();
    st.org = "other".into();
    let fake = FakeGithub::start(st).await;
    let mut settings = fake.app_settings();
    settings.org = "acme".into();
    let err = github::fetch(&settings, fast()).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("not installed on the organisation 'acme'"),
        "{err}"
    );
}
