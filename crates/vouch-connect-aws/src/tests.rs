//! `read_bundle` on hand-written answers in AWS's shapes.
use super::*;
use serde_json::json;
use vouch_collect::ImportKind;
use vouch_collect::capture::Capture;
use vouch_domain::resource::ResourceKind;

fn xml_capture(request: &str, status: u16, body: &str) -> Capture {
    Capture {
        request: request.into(),
        fetched_at: "2026-11-23T06:00:00Z".into(),
        status,
        body: serde_json::Value::Null,
        body_text: Some(body.into()),
    }
}

fn json_capture(request: &str, status: u16, body: serde_json::Value) -> Capture {
    Capture {
        request: request.into(),
        fetched_at: "2026-11-23T06:00:00Z".into(),
        status,
        body,
        body_text: None,
    }
}

fn iam(action: &str, params: &str, inner: &str) -> Capture {
    xml_capture(
        &format!("GET /?Action={action}&Version=2010-05-08{params}"),
        200,
        &format!(
            "<{action}Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><{action}Result>{inner}</{action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{action}Response>" // not fetched: what the real API says
        ),
    )
}

fn bundle(captures: Vec<Capture>) -> CaptureBundle {
    let mut b = CaptureBundle::new("aws");
    b.captures = captures;
    b
}

fn account() -> Vec<Capture> {
    vec![
        iam(
            "ListUsers",
            "",
            "<Users><member><UserName>ana</UserName><Arn>arn:aws:iam::111122223333:user/ana</Arn><CreateDate>2024-01-15T10:00:00Z</CreateDate><PasswordLastUsed>2026-11-20T08:30:00.000Z</PasswordLastUsed></member></Users><IsTruncated>false</IsTruncated>",
        ),
        iam(
            "ListMFADevices",
            "&UserName=ana",
            "<MFADevices><member><UserName>ana</UserName><SerialNumber>arn:aws:iam::111122223333:mfa/ana</SerialNumber></member></MFADevices><IsTruncated>false</IsTruncated>",
        ),
        xml_capture(
            "GET /?Action=GetLoginProfile&Version=2010-05-08&UserName=ana",
            404,
            "<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>Login Profile for User ana cannot be found.</Message></Error></ErrorResponse>",
        ),
        iam(
            "ListAccessKeys",
            "&UserName=ana",
            "<AccessKeyMetadata><member><AccessKeyId>AKIA1</AccessKeyId><Status>Active</Status></member><member><AccessKeyId>AKIA2</AccessKeyId><Status>Inactive</Status></member></AccessKeyMetadata><IsTruncated>false</IsTruncated>",
        ),
        iam(
            "ListAttachedUserPolicies",
            "&UserName=ana",
            "<AttachedPolicies><member><PolicyName>AdministratorAccess</PolicyName><PolicyArn>arn:aws:iam::aws:policy/AdministratorAccess</PolicyArn></member></AttachedPolicies><IsTruncated>false</IsTruncated>",
        ),
        xml_capture(
            "GET /",
            200,
            "<ListAllMyBucketsResult><Buckets><Bucket><Name>logs</Name></Bucket></Buckets></ListAllMyBucketsResult>",
        ),
        xml_capture(
            "GET /logs?encryption",
            200,
            "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>",
        ),
        xml_capture(
            "GET /logs?publicAccessBlock",
            404,
            "<Error><Code>NoSuchPublicAccessBlockConfiguration</Code><Message>The public access block configuration was not found</Message></Error>",
        ),
        xml_capture(
            "GET /logs?versioning",
            200,
            "<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>",
        ),
        xml_capture(
            "GET /logs?logging",
            200,
            "<BucketLoggingStatus><LoggingEnabled><TargetBucket>other</TargetBucket></LoggingEnabled></BucketLoggingStatus>",
        ),
        json_capture(
            "POST / CloudTrail_20131101.DescribeTrails {}",
            200,
            json!({"trailList": [{"Name": "main", "TrailARN": "arn:aws:cloudtrail:eu-west-1:111122223333:trail/main", "HomeRegion": "eu-west-1", "S3BucketName": "logs", "IsMultiRegionTrail": true, "LogFileValidationEnabled": false}]}),
        ),
        json_capture(
            r#"POST / CloudTrail_20131101.GetTrailStatus {"Name":"arn:aws:cloudtrail:eu-west-1:111122223333:trail/main"}"#,
            200,
            json!({"IsLogging": false}),
        ),
        xml_capture(
            "GET /?Action=DescribeDBInstances&Version=2014-10-31",
            200,
            "<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances><DBInstance><DBInstanceIdentifier>db</DBInstanceIdentifier><DBInstanceArn>arn:aws:rds:eu-west-1:111122223333:db:db</DBInstanceArn><Engine>mysql</Engine><StorageEncrypted>false</StorageEncrypted><BackupRetentionPeriod>0</BackupRetentionPeriod><PubliclyAccessible>true</PubliclyAccessible><MultiAZ>false</MultiAZ></DBInstance></DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>",
        ),
        json_capture(
            r#"POST / TrentService.ListKeys {}"#,
            200,
            json!({"Keys": [{"KeyId": "k1"}, {"KeyId": "k2"}, {"KeyId": "k3"}], "Truncated": false}),
        ),
        json_capture(
            r#"POST / TrentService.DescribeKey {"KeyId":"k1"}"#,
            200,
            json!({"KeyMetadata": {"KeyId": "k1", "Arn": "arn:aws:kms:eu-west-1:111122223333:key/k1", "KeyManager": "CUSTOMER", "Enabled": true, "KeyState": "Enabled"}}),
        ),
        json_capture(
            r#"POST / TrentService.GetKeyRotationStatus {"KeyId":"k1"}"#,
            200,
            json!({"KeyRotationEnabled": true}),
        ),
        json_capture(
            r#"POST / TrentService.DescribeKey {"KeyId":"k2"}"#,
            200,
            json!({"KeyMetadata": {"KeyId": "k2", "Arn": "arn:aws:kms:eu-west-1:111122223333:key/k2", "KeyManager": "AWS", "Enabled": true}}),
        ),
        json_capture(
            r#"POST / TrentService.DescribeKey {"KeyId":"k3"}"#,
            200,
            json!({"KeyMetadata": {"KeyId": "k3", "Arn": "arn:aws:kms:eu-west-1:111122223333:key/k3", "KeyManager": "CUSTOMER", "Enabled": false, "KeyState": "PendingDeletion"}}),
        ),
        json_capture(
            r#"POST / TrentService.GetKeyRotationStatus {"KeyId":"k3"}"#,
            400,
            json!({"__type": "KMSInvalidStateException", "message": "k3 is pending deletion."}),
        ),
        xml_capture(
            "GET /?Action=DescribeSecurityGroups&Version=2016-11-15",
            400,
            "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>",
        ),
        xml_capture(
            "GET /?Action=DescribeSecurityGroups&Version=2016-11-15",
            200,
            "<DescribeSecurityGroupsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><securityGroupInfo><item><ownerId>111122223333</ownerId><groupId>sg-1</groupId><groupName>wide</groupName><vpcId>vpc-1</vpcId><ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><toPort>22</toPort><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item><item><ipProtocol>udp</ipProtocol><fromPort>1000</fromPort><toPort>2000</toPort><ipv6Ranges><item><cidrIpv6>::/0</cidrIpv6></item></ipv6Ranges></item><item><ipProtocol>tcp</ipProtocol><fromPort>443</fromPort><toPort>443</toPort><ipRanges><item><cidrIp>10.0.0.0/8</cidrIp></item></ipRanges></item><item><ipProtocol>-1</ipProtocol><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item></ipPermissions></item></securityGroupInfo></DescribeSecurityGroupsResponse>", // not fetched: what the real API says
        ),
    ]
}

#[test]
fn reads_every_kind_of_answer() {
    let c = read_bundle(&bundle(account())).unwrap();
    assert_eq!(c.kind, ImportKind::AwsApi);
    assert_eq!(c.system, "aws");
    let keys: Vec<&str> = c.resources.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "arn:aws:iam::111122223333:user/ana",
            "arn:aws:s3:::logs",
            "arn:aws:cloudtrail:eu-west-1:111122223333:trail/main",
            "arn:aws:rds:eu-west-1:111122223333:db:db",
            "arn:aws:kms:eu-west-1:111122223333:key/k1",
            "arn:aws:kms:eu-west-1:111122223333:key/k3",
            // No ARN in the answer: built from the region the other ARNs show.
            "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-1",
        ]
    );
    let attrs = |i: usize| serde_json::Value::Object(c.resources[i].attrs.clone());
    assert_eq!(c.resources[0].kind, ResourceKind::Account);
    assert_eq!(
        attrs(0),
        json!({"username": "ana", "arn": "arn:aws:iam::111122223333:user/ana",
               "account_id": "111122223333", "created": "2024-01-15T10:00:00Z",
               "password_enabled": false, "mfa": true, "access_keys_active": 1, "admin": true,
               "active": true, "last_used": "2026-11-20T08:30:00Z"})
    );
    assert_eq!(
        attrs(1),
        json!({"service": "s3", "name": "logs", "encrypted": true,
               "encryption_algorithm": "aws:kms", "public_access_blocked": false,
               "versioning": "Suspended", "logging": true})
    );
    assert_eq!(attrs(2)["is_logging"], false);
    assert_eq!(attrs(2)["multi_region"], true);
    assert_eq!(attrs(2)["log_file_validation"], false);
    assert_eq!(
        attrs(3),
        json!({"service": "rds", "name": "db", "engine": "mysql", "storage_encrypted": false,
               "backup_retention_days": 0, "publicly_accessible": true, "multi_az": false})
    );
    assert_eq!(attrs(4)["rotation_enabled"], true);
    assert_eq!(attrs(5)["rotation_enabled"], serde_json::Value::Null);
    assert_eq!(attrs(5)["enabled"], false);
    assert_eq!(
        attrs(6),
        json!({"service": "ec2", "group_id": "sg-1", "name": "wide", "vpc_id": "vpc-1",
               "open_to_world": true, "open_ports": ["all", "tcp:22", "udp:1000-2000"]})
    );
    assert!(c.resources.iter().all(|r| r.validate().is_ok()));
}

#[test]
fn garbage_xml_names_the_capture() {
    let mut captures = account();
    captures[7].status = 200;
    captures[7].body_text = Some("<PublicAccessBlockConfiguration><BlockPublicAcls>".into());
    let e = read_bundle(&bundle(captures)).unwrap_err();
    assert_eq!(e.place, "$.captures[7].body_text");
    assert!(e.message.starts_with("S3 ?publicAccessBlock: "), "{e}");

    let mut captures = account();
    captures[0].body_text = Some("{not xml".into());
    let e = read_bundle(&bundle(captures)).unwrap_err();
    assert_eq!(e.place, "$.captures[0].body_text");
    assert!(e.message.starts_with("ListUsers:"), "{e}");
}

#[test]
fn missing_or_unexpected_answers_are_errors() {
    // A user's MFA answer is missing: the error points at the user in ListUsers.
    let mut captures = account();
    captures.remove(1);
    let e = read_bundle(&bundle(captures)).unwrap_err();
    assert_eq!(e.place, "$.captures[0].body_text (user 1)");
    assert!(e.message.contains("ListMFADevices for user 'ana'"), "{e}");

    // An answer about a user nobody listed.
    let mut captures = account();
    captures[1].request = captures[1].request.replace("UserName=ana", "UserName=bo");
    let e = read_bundle(&bundle(captures)).unwrap_err();
    assert_eq!(e.place, "$.captures[1].request");

    // An error status that a complete run does not keep.
    let mut captures = account();
    captures[8].status = 500;
    captures[8].body_text = Some("<Error><Code>InternalError</Code></Error>".into());
    let e = read_bundle(&bundle(captures)).unwrap_err();
    assert_eq!(e.place, "$.captures[8].status");
    assert!(e.message.contains("500 InternalError"), "{e}");

    // A request line this connector never makes.
    let mut captures = account();
    captures[5].request = "GET /a/b/c".into();
    let e = read_bundle(&bundle(captures)).unwrap_err();
    assert_eq!(e.place, "$.captures[5].request");

    // Another system's bundle.
    let mut b = bundle(account());
    b.system = "github".into();
    assert_eq!(read_bundle(&b).unwrap_err().place, "$.system");
}

#[test]
fn a_bucket_deleted_during_the_run_is_left_out_with_a_warning() {
    let mut captures = account();
    captures[6] = xml_capture(
        "GET /logs?encryption",
        404,
        "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>",
    );
    let c = read_bundle(&bundle(captures)).unwrap();
    assert!(c.resources.iter().all(|r| r.key != "arn:aws:s3:::logs"));
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
}

#[test]
fn aws_errors_are_read_from_every_shape() {
    let q = br#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>r</RequestId></ErrorResponse>"#; // not fetched: what the real API says
    assert_eq!(
        aws_error(q),
        Some((
            "InvalidClientTokenId".into(),
            "The security token included in the request is invalid.".into()
        ))
    );
    let ec2 = b"<Response><Errors><Error><Code>AuthFailure</Code><Message>no</Message></Error></Errors></Response>";
    assert_eq!(aws_error(ec2).unwrap().0, "AuthFailure");
    let s3 = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
    assert_eq!(aws_error(s3).unwrap().0, "AccessDenied");
    let json = br#"{"__type":"com.amazonaws.kms#UnrecognizedClientException","message":"bad"}"#;
    assert_eq!(
        aws_error(json),
        Some(("UnrecognizedClientException".into(), "bad".into()))
    );
    assert_eq!(aws_error(b"nope"), None);
}

#[test]
fn settings_deserialise_and_never_print_secrets() {
    let s: Settings = serde_json::from_value(json!({
        "region": "eu-west-1",
        "access_key_id": "AKIAABCDEFGHIJKL1234",
        "secret_access_key": "very/secret+value",
        "session_token": "token-value",
    }))
    .unwrap();
    assert_eq!(s.endpoint, None);
    let debug = format!("{s:?}");
    assert!(!debug.contains("very/secret+value"), "{debug}");
    assert!(!debug.contains("token-value"), "{debug}");
    assert!(!debug.contains("AKIAABCDEFGHIJKL1234"), "{debug}");
    assert!(debug.contains("…1234"), "{debug}");
    let mut bad = s.clone();
    bad.region = "EU West".into();
    assert!(matches!(bad.check(), Err(ConnectorError::Config(_))));
    bad = s.clone();
    bad.secret_access_key = Secret::new(" ");
    assert!(matches!(bad.check(), Err(ConnectorError::Config(_))));
}
