//! The connector against a real AWS API emulator (moto) on loopback.
#[path = "support/moto.rs"]
mod moto;

use moto::Moto;
use serde_json::{Value, json};
use std::time::Duration;
use vouch_connect::http::RetryPolicy;
use vouch_connect_aws::{ConnectorError, Secret, Settings, collect, read_bundle};
use vouch_domain::resource::{Resource, ResourceKind};

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_secs(1),
        timeout: Duration::from_secs(30),
        max_pages: 1000,
    }
}

fn settings(endpoint: &str, seed: &Value) -> Settings {
    Settings {
        endpoint: Some(endpoint.to_string()),
        region: seed["region"].as_str().unwrap().to_string(),
        access_key_id: seed["access_key_id"].as_str().unwrap().to_string(),
        secret_access_key: Secret::new(seed["secret_access_key"].as_str().unwrap()),
        session_token: None,
        account_label: Some("test".into()),
        page_size: Some(2),
    }
}

fn find<'a>(rs: &'a [Resource], key: &str) -> &'a Resource {
    rs.iter().find(|r| r.key == key).unwrap_or_else(|| {
        panic!(
            "no resource {key}; have {:?}",
            rs.iter().map(|r| &r.key).collect::<Vec<_>>()
        )
    })
}

/// The attributes, without the ones that vary per run.
fn attrs(r: &Resource, drop: &[&str]) -> Value {
    let mut a = r.attrs.clone();
    for d in drop {
        a.remove(*d);
    }
    Value::Object(a)
}

#[tokio::test]
async fn reads_a_seeded_account_with_signatures_checked() {
    let Some(moto) = Moto::start() else { return };
    let seed = moto.seed(&["--extra-users", "3", "--extra-dbs", "20", "--auth"]);
    let s = settings(&moto.endpoint(), &seed);
    let fetched = collect(&s, policy()).await.expect("the run succeeds");
    let rs = &fetched.collection.resources;
    let account = seed["account_id"].as_str().unwrap();

    // IAM
    let alice = find(rs, &format!("arn:aws:iam::{account}:user/alice"));
    assert_eq!(alice.kind, ResourceKind::Account);
    assert_eq!(alice.system, "aws");
    assert_eq!(
        attrs(alice, &["created"]),
        json!({"username": "alice", "arn": format!("arn:aws:iam::{account}:user/alice"),
               "account_id": account, "password_enabled": true, "mfa": true,
               "access_keys_active": 1, "admin": true, "active": true})
    );
    let created = alice.attrs["created"].as_str().unwrap();
    assert!(created.len() == 20 && created.ends_with('Z'), "{created}");
    let bob = find(rs, &format!("arn:aws:iam::{account}:user/bob"));
    assert_eq!(
        (
            bob.attrs["password_enabled"].clone(),
            bob.attrs["mfa"].clone(),
            bob.attrs["access_keys_active"].clone(),
            bob.attrs["admin"].clone()
        ),
        (json!(true), json!(false), json!(1), json!(false))
    );
    let carol = find(rs, &format!("arn:aws:iam::{account}:user/carol"));
    assert_eq!(
        (
            carol.attrs["password_enabled"].clone(),
            carol.attrs["mfa"].clone(),
            carol.attrs["access_keys_active"].clone(),
            carol.attrs["admin"].clone()
        ),
        (json!(false), json!(false), json!(0), json!(false))
    );
    let accounts = rs
        .iter()
        .filter(|r| r.kind == ResourceKind::Account)
        .count();
    assert_eq!(
        accounts,
        3 + 3 + 1,
        "alice, bob, carol, 3 fillers, the auditor"
    );

    // S3
    assert_eq!(
        find(rs, "arn:aws:s3:::vouch-secure").attrs,
        json!({"service": "s3", "name": "vouch-secure", "encrypted": true,
               "encryption_algorithm": "AES256", "public_access_blocked": true,
               "versioning": "Enabled", "logging": true})
        .as_object()
        .unwrap()
        .clone()
    );
    assert_eq!(
        find(rs, "arn:aws:s3:::vouch-logs").attrs,
        json!({"service": "s3", "name": "vouch-logs", "encrypted": true,
               "encryption_algorithm": "aws:kms", "public_access_blocked": false,
               "versioning": "Suspended", "logging": false})
        .as_object()
        .unwrap()
        .clone()
    );
    assert_eq!(
        find(rs, "arn:aws:s3:::vouch-plain").attrs,
        json!({"service": "s3", "name": "vouch-plain", "encrypted": false,
               "encryption_algorithm": null, "public_access_blocked": false,
               "versioning": null, "logging": false})
        .as_object()
        .unwrap()
        .clone()
    );

    // CloudTrail
    let trail = find(rs, seed["trail_arn"].as_str().unwrap());
    assert_eq!(
        attrs(trail, &[]),
        json!({"service": "cloudtrail", "name": "main", "home_region": "eu-west-1",
               "s3_bucket": "vouch-logs", "multi_region": true, "log_file_validation": true,
               "is_logging": true})
    );

    // RDS
    let db = find(rs, seed["db_arn"].as_str().unwrap());
    assert_eq!(
        attrs(db, &[]),
        json!({"service": "rds", "name": "db1", "engine": "postgres", "storage_encrypted": true,
               "backup_retention_days": 7, "publicly_accessible": false, "multi_az": true})
    );

    // KMS
    for (name, rotation) in [("rotating", true), ("static", false)] {
        let k = find(rs, seed["keys"][name]["arn"].as_str().unwrap());
        assert_eq!(
            attrs(k, &[]),
            json!({"service": "kms", "key_id": seed["keys"][name]["id"], "enabled": true,
                   "key_state": "Enabled", "rotation_enabled": rotation})
        );
    }

    // EC2
    let sg = |name: &str| {
        let id = seed["groups"][name].as_str().unwrap();
        find(
            rs,
            &format!("arn:aws:ec2:eu-west-1:{account}:security-group/{id}"),
        )
    };
    assert_eq!(
        attrs(sg("ssh-open"), &[]),
        json!({"service": "ec2", "group_id": seed["groups"]["ssh-open"], "name": "ssh-open",
               "vpc_id": seed["vpc_id"], "open_to_world": true, "open_ports": ["tcp:22"]})
    );
    assert_eq!(sg("web-internal").attrs["open_to_world"], false);
    assert_eq!(sg("web-internal").attrs["open_ports"], json!([]));
    assert_eq!(sg("all-v6").attrs["open_ports"], json!(["all"]));
    assert_eq!(sg("default").attrs["open_to_world"], false);

    // The bundle: one capture per response, paginated listings, JSON calls named.
    let b = &fetched.bundle;
    assert_eq!(b.system, "aws");
    let count = |needle: &str| {
        b.captures
            .iter()
            .filter(|c| c.request.contains(needle))
            .count()
    };
    // moto 5 ignores IAM's MaxItems and answers every user at once (real IAM pages them;
    // `fake_aws.rs` checks the Marker loop). RDS pages for real: 21 instances, 20 per page.
    assert_eq!(count("Action=ListUsers&Version=2010-05-08&MaxItems=2"), 1);
    assert_eq!(
        count("Action=DescribeDBInstances&Version=2014-10-31&MaxRecords=20"),
        2
    );
    assert_eq!(
        count("Action=DescribeDBInstances&Version=2014-10-31&MaxRecords=20&Marker="),
        1
    );
    assert_eq!(
        rs.iter()
            .filter(|r| r.attrs.get("service") == Some(&json!("rds")))
            .count(),
        21
    );
    for per_user in [
        "ListMFADevices",
        "GetLoginProfile",
        "ListAccessKeys",
        "ListAttachedUserPolicies",
    ] {
        assert_eq!(count(&format!("Action={per_user}&")), 7, "{per_user}");
    }
    assert_eq!(count("?encryption"), 3);
    assert_eq!(count("?publicAccessBlock"), 3);
    assert_eq!(count("CloudTrail_20131101.DescribeTrails"), 1);
    assert_eq!(count("CloudTrail_20131101.GetTrailStatus"), 1);
    assert_eq!(count("TrentService.DescribeKey"), 2);
    assert_eq!(count("TrentService.GetKeyRotationStatus"), 2);
    let sg_pages = count("Action=DescribeSecurityGroups&");
    assert!(sg_pages >= 1);
    assert_eq!(
        b.captures.len(),
        1 + 4 * 7 + 1 + 3 * 4 + 2 + 2 + 1 + 2 + 2 + sg_pages
    );
    assert!(b.captures.iter().all(|c| !c.fetched_at.is_empty()));
    assert!(
        b.captures
            .iter()
            .filter(|c| c.request.contains("Action="))
            .all(|c| c.body_text.is_some())
    );

    // The same bundle read offline gives the same resources.
    let bytes = b.to_bytes();
    let back: vouch_connect::CaptureBundle = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(read_bundle(&back).unwrap(), fetched.collection);

    // No secret in the bundle or in Debug output.
    let secret = seed["secret_access_key"].as_str().unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(!text.contains(secret));
    assert!(!text.contains("Signature="));
    assert!(!format!("{fetched:?}").contains(secret));
    let debug = format!("{s:?}");
    assert!(
        !debug.contains(secret) && !debug.contains(&s.access_key_id),
        "{debug}"
    );

    // Wrong secret: AWS's code and message are in the error.
    let mut wrong = s.clone();
    wrong.secret_access_key = Secret::new("not-the-secret");
    let e = collect(&wrong, policy()).await.unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, ConnectorError::Credentials { status: 403, .. }),
        "{e:?}"
    );
    assert!(msg.contains("SignatureDoesNotMatch"), "{msg}");
    assert!(msg.contains("Action=ListUsers"), "{msg}");
    assert!(!msg.contains("not-the-secret"), "{msg}");
    // Unknown key id (a revoked key).
    let mut revoked = s.clone();
    revoked.access_key_id = "AKIAREVOKEDREVOKED00".into();
    let e = collect(&revoked, policy()).await.unwrap_err();
    assert!(
        matches!(e, ConnectorError::Credentials { status: 403, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("InvalidClientTokenId"), "{e}");
}

#[tokio::test]
async fn a_wrong_endpoint_is_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = Settings {
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        region: "eu-west-1".into(),
        access_key_id: "AKIAEXAMPLE".into(),
        secret_access_key: Secret::new("secret"),
        session_token: None,
        account_label: None,
        page_size: None,
    };
    let e = collect(&s, policy()).await.unwrap_err();
    assert!(matches!(e, ConnectorError::Unreachable { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "could not reach aws at http://127.0.0.1:{port}/?Action=ListUsers"
        )),
        "{msg}"
    );
}
