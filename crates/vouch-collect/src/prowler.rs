//! Prowler's JSON-OCSF output (`prowler … -M json-ocsf`): a JSON array of OCSF Detection
//! Finding objects.
//!
//! Detection: a JSON array whose first item has `class_uid` 2004 and
//! `metadata.product.name` `Prowler`. Every item must then be a Detection Finding.
//!
//! Each item becomes a `finding` in system `prowler`, keyed by `finding_info.uid` (Prowler's
//! stable id for check, account, region and resource), with `check` (`metadata.event_code`),
//! `title` (`finding_info.title`), `status` (`status_code` in lower case: `pass`, `fail`,
//! `manual`), `muted` (`status_id` 3, Suppressed), `severity` (lower case), `resource_uid`,
//! `resource_type` and `region` (the first of `resources`; the region falls back to
//! `cloud.region`), `account` (`cloud.account.uid`), `time` (`time_dt`, in UTC) and
//! `compliance` (`unmapped.compliance`, kept as Prowler wrote it: framework → requirement ids).
//! An unknown `status_code` or `severity` is an error at its path.
use crate::text::J;
use crate::{Collection, ImportError, ImportKind, Out};
use serde_json::Value;
use vouch_domain::resource::{Resource, ResourceKind};

const SYSTEM: &str = "prowler";
const DETECTION_FINDING: u64 = 2004;
const STATUS_CODES: [&str; 3] = ["PASS", "FAIL", "MANUAL"];
const SEVERITIES: [&str; 6] = [
    "Critical",
    "High",
    "Medium",
    "Low",
    "Informational",
    "Unknown",
];

pub(crate) fn is_ocsf(v: &Value) -> bool {
    v.as_array().and_then(|a| a.first()).is_some_and(|f| {
        f.get("class_uid").and_then(Value::as_u64) == Some(DETECTION_FINDING)
            && f.pointer("/metadata/product/name").and_then(Value::as_str) == Some("Prowler")
    })
}

fn one_of<'a>(j: &J<'_>, allowed: &[&'a str], what: &str) -> Result<&'a str, ImportError> {
    let raw = j.str()?;
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(raw))
        .copied()
        .ok_or_else(|| {
            j.err(format!(
                "'{raw}' is not a Prowler {what} ({})",
                allowed.join(", ")
            ))
        })
}

pub(crate) fn import_ocsf(v: &Value) -> Result<Collection, ImportError> {
    let mut out = Out::new(ImportKind::ProwlerOcsf);
    let root = J::root(v);
    if !v.is_array() {
        return Err(ImportError::file(
            "expected a JSON array of OCSF Detection Findings, as `prowler -M json-ocsf` writes",
        ));
    }
    for f in root.items()? {
        f.expect_object()?;
        let class = f.req("class_uid")?;
        if class.v.as_u64() != Some(DETECTION_FINDING) {
            return Err(class.err(format!(
                "class {} is not a Detection Finding ({DETECTION_FINDING})",
                class.v
            )));
        }
        let info = f.req("finding_info")?;
        let uid_j = info.req("uid")?;
        let uid = info.req_str("uid")?;
        let status = one_of(&f.req("status_code")?, &STATUS_CODES, "status code")?;
        let severity = match f.get("severity") {
            Some(s) => Some(one_of(&s, &SEVERITIES, "severity")?.to_ascii_lowercase()),
            None => None,
        };
        let muted = match f.get("status_id") {
            Some(s) => s.v.as_u64() == Some(3),
            None => false,
        };
        let resource = f.opt_items("resources")?.into_iter().next();
        let (resource_uid, resource_type, mut region) = match &resource {
            Some(r) => (r.opt_str("uid")?, r.opt_str("type")?, r.opt_str("region")?),
            None => (None, None, None),
        };
        let cloud = f.get("cloud");
        if region.is_none()
            && let Some(c) = &cloud
        {
            region = c.opt_str("region")?;
        }
        let account = match cloud.as_ref().and_then(|c| c.get("account")) {
            Some(a) => a.opt_str("uid")?,
            None => None,
        };
        let compliance = f
            .at(&["unmapped", "compliance"])
            .map_or(Value::Null, |c| c.v.clone());
        let r = Resource::new(ResourceKind::Finding, SYSTEM, uid)
            .with(
                "check",
                match f.get("metadata") {
                    Some(m) => m.opt_str("event_code")?,
                    None => None,
                },
            )
            .with("title", info.opt_str("title")?)
            .with("status", status.to_ascii_lowercase())
            .with("muted", muted)
            .with("severity", severity)
            .with("resource_uid", resource_uid)
            .with("resource_type", resource_type)
            .with("region", region)
            .with("account", account)
            .with("time", f.opt_instant("time_dt")?)
            .with("compliance", compliance)
            .with_opt("status_detail", f.opt_str("status_detail")?);
        out.push(r, uid_j.path)?;
    }
    Ok(out.finish(SYSTEM))
}

#[cfg(test)]
mod tests {
    use crate::{ImportKind, detect, import};
    use serde_json::{Value, json};

    pub(crate) const OCSF: &str = r#"[
  {"message": "S3 Bucket acme-logs has encryption at rest enabled.", "activity_id": 1, "activity_name": "Create",
   "category_uid": 2, "category_name": "Findings", "class_uid": 2004, "class_name": "Detection Finding",
   "type_uid": 200401, "type_name": "Detection Finding: Create", "severity_id": 3, "severity": "Medium",
   "status_id": 1, "status": "New", "status_code": "PASS", "status_detail": "S3 Bucket acme-logs has encryption at rest enabled.",
   "time": 1795413600, "time_dt": "2026-11-23T06:00:00.000000+00:00",
   "finding_info": {"uid": "prowler-aws-s3_bucket_default_encryption-123456789012-eu-west-1-acme-logs",
     "title": "Check if S3 buckets have default encryption (SSE) enabled or use a bucket policy to enforce it.",
     "types": ["Data Protection"], "name": "acme-logs"},
   "resources": [{"uid": "arn:aws:s3:::acme-logs", "name": "acme-logs", "type": "AwsS3Bucket", "region": "eu-west-1",
     "cloud_partition": "aws", "group": {"name": "s3"}, "labels": []}],
   "cloud": {"provider": "aws", "region": "eu-west-1",
     "account": {"uid": "123456789012", "name": "prod", "type_id": 10, "type": "AWS Account"}},
   "metadata": {"event_code": "s3_bucket_default_encryption",
     "product": {"uid": "prowler", "name": "Prowler", "vendor_name": "Prowler", "version": "5.14.0"}, "version": "1.5.0"},
   "unmapped": {"compliance": {"SOC2": ["cc_6_1"], "CIS-2.0": ["2.1.1"]}}},
  {"class_uid": 2004, "severity": "Critical", "status_id": 3, "status": "Suppressed", "status_code": "FAIL",
   "time_dt": "2026-11-23T06:00:01Z",
   "finding_info": {"uid": "prowler-aws-iam_root_mfa_enabled-123456789012-us-east-1-root", "title": "Ensure MFA is enabled for the root account"},
   "resources": [{"uid": "arn:aws:iam::123456789012:root", "type": "Other"}],
   "cloud": {"provider": "aws", "region": "us-east-1", "account": {"uid": "123456789012"}},
   "metadata": {"event_code": "iam_root_mfa_enabled", "product": {"name": "Prowler"}}}
]"#;

    #[test]
    fn prowler_ocsf_findings() {
        assert_eq!(detect(OCSF.as_bytes()), Some(ImportKind::ProwlerOcsf));
        let c = import(OCSF.as_bytes(), None).unwrap();
        assert_eq!(c.kind, ImportKind::ProwlerOcsf);
        assert_eq!(c.system, "prowler");
        let f = &c.resources[0];
        assert_eq!(f.kind, vouch_domain::resource::ResourceKind::Finding);
        assert_eq!(
            f.key,
            "prowler-aws-s3_bucket_default_encryption-123456789012-eu-west-1-acme-logs"
        );
        assert_eq!(f.attrs["check"], "s3_bucket_default_encryption");
        assert!(
            f.attrs["title"]
                .as_str()
                .unwrap()
                .starts_with("Check if S3")
        );
        assert_eq!(f.attrs["status"], "pass");
        assert_eq!(f.attrs["muted"], false);
        assert_eq!(f.attrs["severity"], "medium");
        assert_eq!(f.attrs["resource_uid"], "arn:aws:s3:::acme-logs");
        assert_eq!(f.attrs["resource_type"], "AwsS3Bucket");
        assert_eq!(f.attrs["region"], "eu-west-1");
        assert_eq!(f.attrs["account"], "123456789012");
        assert_eq!(f.attrs["time"], "2026-11-23T06:00:00Z");
        assert_eq!(
            f.attrs["compliance"],
            json!({"SOC2": ["cc_6_1"], "CIS-2.0": ["2.1.1"]})
        );
        let root = &c.resources[1];
        assert_eq!(root.attrs["status"], "fail");
        assert_eq!(root.attrs["muted"], true);
        assert_eq!(root.attrs["severity"], "critical");
        assert_eq!(root.attrs["region"], "us-east-1", "from cloud.region");
        assert_eq!(root.attrs["compliance"], Value::Null);
    }

    #[test]
    fn prowler_errors_name_their_place() {
        let bad = OCSF.replacen("\"status_code\": \"FAIL\"", "\"status_code\": \"ERROR\"", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$[1].status_code");
        assert!(
            e.message.contains("'ERROR' is not a Prowler status code"),
            "{e}"
        );
        let bad = OCSF.replacen("\"severity\": \"Critical\"", "\"severity\": \"Severe\"", 1);
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$[1].severity");
        let bad = OCSF.replacen(
            "iam_root_mfa_enabled-123456789012-us-east-1-root",
            "s3_bucket_default_encryption-123456789012-eu-west-1-acme-logs",
            1,
        );
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$[1].finding_info.uid");
        assert!(
            e.message.contains("already at $[0].finding_info.uid"),
            "{e}"
        );
        let bad = OCSF.replacen(
            "{\"class_uid\": 2004, \"severity\"",
            "{\"class_uid\": 2003, \"severity\"",
            1,
        );
        let e = import(bad.as_bytes(), None).unwrap_err();
        assert_eq!(e.place, "$[1].class_uid");
        let e = import(&OCSF.as_bytes()[..OCSF.len() - 3], None).unwrap_err();
        assert!(e.message.contains("truncated"), "{e}");
        let e = import(OCSF.as_bytes(), Some(ImportKind::Sarif)).unwrap_err();
        assert_eq!(
            e.message,
            "this is a Prowler OCSF JSON, not a SARIF 2.1.0 log"
        );
    }
}
