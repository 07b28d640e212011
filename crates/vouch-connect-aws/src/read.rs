//! The importer: a bundle of AWS answers in, resources out. Pure: no clock, no network.
//!
//! Each capture is recognised by its request line (see the crate docs): a query action
//! (`Action=ListUsers`), a JSON target (`POST / TrentService.DescribeKey {…}`), S3's
//! `GET /` (ListBuckets) or `GET /<bucket>?<subresource>`. The listings name the things
//! (users, buckets, trails, keys); the per-thing answers are matched to them by the parameter
//! in their request (`UserName=`, the bucket in the path, `Name`, `KeyId`).
//!
//! Answers that carry meaning as errors: `GetLoginProfile` 404 `NoSuchEntity` (no console
//! password), `GetBucketEncryption` 404 `ServerSideEncryptionConfigurationNotFoundError` (no
//! default encryption), `GetPublicAccessBlock` 404 `NoSuchPublicAccessBlockConfiguration`
//! (no block), 404 `NoSuchBucket` (deleted during the run: the bucket is left out, with a
//! warning), `GetKeyRotationStatus` 400 `UnsupportedOperationException` /
//! `KMSInvalidStateException` (no rotation status: `rotation_enabled` is null). Throttled
//! answers and S3's redirects to a bucket's region are skipped (the request was sent again).
use crate::fetch::{CLOUDTRAIL_PREFIX, KMS_PREFIX};
use crate::xml::{self, Element};
use crate::{SYSTEM, THROTTLING, aws_error};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap, HashSet};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use vouch_collect::capture::{Capture, CaptureBundle};
use vouch_collect::{Collection, ImportError, ImportKind};
use vouch_domain::resource::{Resource, ResourceKind};

const ADMIN_POLICY: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

/// Reads a bundle [`crate::collect`] made into the account's resources.
pub fn read_bundle(bundle: &CaptureBundle) -> Result<Collection, ImportError> {
    if bundle.system != SYSTEM {
        return Err(ImportError::new(
            "$.system",
            format!("this bundle is from '{}', not '{SYSTEM}'", bundle.system),
        ));
    }
    let mut st = State::default();
    let calls: Vec<(usize, &Capture, Call)> = bundle
        .captures
        .iter()
        .enumerate()
        .map(|(i, c)| {
            classify(c)
                .map(|call| (i, c, call))
                .map_err(|m| err(i, "request", m))
        })
        .collect::<Result<_, _>>()?;
    // Listings first, then the answers about each thing they listed.
    for (i, c, call) in &calls {
        if let Some(a) = answer(*i, c, call)? {
            st.listing(&a)?;
        }
    }
    for (i, c, call) in &calls {
        if let Some(a) = answer(*i, c, call)? {
            st.detail(&a)?;
        }
    }
    st.finish()
}

/// What a capture asked.
enum Call {
    Query {
        action: String,
        params: HashMap<String, String>,
    },
    Json {
        target: String,
        params: Value,
    },
    ListBuckets,
    Bucket {
        name: String,
        sub: String,
    },
}

impl Call {
    fn name(&self) -> String {
        match self {
            Call::Query { action, .. } => action.clone(),
            Call::Json { target, .. } => target.rsplit('.').next().unwrap_or(target).to_string(),
            Call::ListBuckets => "ListBuckets".into(),
            Call::Bucket { sub, .. } => format!("S3 ?{sub}"),
        }
    }
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

fn classify(c: &Capture) -> Result<Call, String> {
    let (_method, rest) = c
        .request
        .split_once(' ')
        .ok_or_else(|| format!("'{}' is not a request line", c.request))?;
    if let Some(json_part) = rest.strip_prefix("/ ") {
        let (target, body) = json_part.split_once(' ').unwrap_or((json_part, "{}"));
        let params = serde_json::from_str(body)
            .map_err(|e| format!("the parameters of {target} are not JSON: {e}"))?;
        return Ok(Call::Json {
            target: target.to_string(),
            params,
        });
    }
    let (path, q) = rest.split_once('?').unwrap_or((rest, ""));
    let pairs: Vec<(String, String)> = q
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    let params: HashMap<String, String> = pairs.iter().cloned().collect();
    if let Some(action) = params.get("Action") {
        return Ok(Call::Query {
            action: action.clone(),
            params,
        });
    }
    match path.trim_start_matches('/') {
        "" => Ok(Call::ListBuckets),
        bucket if !bucket.contains('/') => Ok(Call::Bucket {
            name: decode(bucket),
            sub: pairs.first().map(|(k, _)| k.clone()).unwrap_or_default(),
        }),
        _ => Err(format!(
            "'{}' is not a request this connector makes",
            c.request
        )),
    }
}

fn err(i: usize, field: &str, message: impl Into<String>) -> ImportError {
    ImportError::new(format!("$.captures[{i}].{field}"), message)
}

/// One capture, understood: its call, status, AWS error code and body.
struct Answer<'a> {
    i: usize,
    call: &'a Call,
    status: u16,
    code: Option<String>,
    capture: &'a Capture,
}

/// `None` for answers that were superseded (throttled, redirected to the bucket's region).
fn answer<'a>(i: usize, c: &'a Capture, call: &'a Call) -> Result<Option<Answer<'a>>, ImportError> {
    let code = if (200..300).contains(&c.status) {
        None
    } else {
        let bytes = match &c.body_text {
            Some(t) => t.clone().into_bytes(),
            None => serde_json::to_vec(&c.body).unwrap_or_default(),
        };
        aws_error(&bytes).map(|(code, _)| code)
    };
    let skipped = code.as_deref().is_some_and(|c| {
        THROTTLING.contains(&c)
            || matches!(
                c,
                "PermanentRedirect" | "TemporaryRedirect" | "AuthorizationHeaderMalformed"
            )
    }) || matches!(c.status, 301 | 307);
    if skipped {
        return Ok(None);
    }
    Ok(Some(Answer {
        i,
        call,
        status: c.status,
        code,
        capture: c,
    }))
}

impl Answer<'_> {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn is(&self, status: u16, code: &str) -> bool {
        self.status == status && self.code.as_deref() == Some(code)
    }

    fn unexpected(&self) -> ImportError {
        err(
            self.i,
            "status",
            format!(
                "{} answered {}{}, which a complete run does not keep",
                self.call.name(),
                self.status,
                self.code
                    .as_deref()
                    .map(|c| format!(" {c}"))
                    .unwrap_or_default()
            ),
        )
    }

    fn xml(&self) -> Result<Element, ImportError> {
        let text = self.capture.body_text.as_deref().ok_or_else(|| {
            err(
                self.i,
                "body_text",
                format!("{}: expected an XML body", self.call.name()),
            )
        })?;
        xml::parse(text).map_err(|e| err(self.i, "body_text", format!("{}: {e}", self.call.name())))
    }

    fn json(&self) -> Result<&Value, ImportError> {
        if self.capture.body.is_object() {
            Ok(&self.capture.body)
        } else {
            Err(err(
                self.i,
                "body",
                format!("{}: expected a JSON object", self.call.name()),
            ))
        }
    }

    fn missing(&self, what: &str) -> ImportError {
        err(
            self.i,
            self.body_field(),
            format!("{}: {what}", self.call.name()),
        )
    }

    fn body_field(&self) -> &'static str {
        if self.capture.body_text.is_some() {
            "body_text"
        } else {
            "body"
        }
    }

    fn param(&self, name: &str) -> Result<String, ImportError> {
        let v = match self.call {
            Call::Query { params, .. } => params.get(name).cloned(),
            Call::Json { params, .. } => {
                params.get(name).and_then(Value::as_str).map(str::to_string)
            }
            _ => None,
        };
        v.ok_or_else(|| {
            err(
                self.i,
                "request",
                format!("{} without its {name}", self.call.name()),
            )
        })
    }
}

#[derive(Default)]
struct User {
    place: String,
    name: String,
    arn: String,
    created: Option<String>,
    last_used: Option<String>,
    mfa: Option<bool>,
    password: Option<bool>,
    keys_active: Option<u64>,
    admin: Option<bool>,
}

#[derive(Default)]
struct Bucket {
    place: String,
    name: String,
    encrypted: Option<bool>,
    algorithm: Option<String>,
    public_access_blocked: Option<bool>,
    versioning: Option<Value>,
    logging: Option<bool>,
    gone: bool,
}

struct Trail {
    place: String,
    arn: String,
    attrs: serde_json::Map<String, Value>,
    is_logging: Option<bool>,
}

struct Key {
    place: String,
    arn: String,
    id: String,
    enabled: Value,
    state: Value,
    rotation: Option<Value>,
}

#[derive(Default)]
struct State {
    users: Vec<User>,
    user_index: HashMap<String, usize>,
    buckets: Vec<Bucket>,
    bucket_index: HashMap<String, usize>,
    trails: Vec<Trail>,
    trail_index: HashMap<String, usize>,
    dbs: Vec<Resource>,
    db_places: Vec<String>,
    keys: Vec<Key>,
    key_index: HashMap<String, usize>,
    groups: Vec<(String, Element)>,
    regions: Vec<String>,
    warnings: Vec<String>,
}

fn instant(s: &str) -> String {
    match OffsetDateTime::parse(s, &Rfc3339) {
        Ok(t) => t
            .to_offset(time::UtcOffset::UTC)
            .format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .unwrap_or_else(|_| s.to_string()),
        Err(_) => s.to_string(),
    }
}

fn flag(e: &Element, path: &[&str]) -> Option<bool> {
    match e.text_at(path)? {
        t if t.eq_ignore_ascii_case("true") => Some(true),
        t if t.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn opt_value<T: Into<Value>>(v: Option<T>) -> Value {
    v.map_or(Value::Null, Into::into)
}

/// The region of a regional ARN (`arn:aws:kms:eu-west-1:…`).
fn arn_region(arn: &str) -> Option<String> {
    let region = arn.split(':').nth(3)?;
    (!region.is_empty()).then(|| region.to_string())
}

impl State {
    fn listing(&mut self, a: &Answer) -> Result<(), ImportError> {
        match a.call {
            Call::Query { action, .. } if action == "ListUsers" => {
                if !a.ok() {
                    return Err(a.unexpected());
                }
                let doc = a.xml()?;
                let users = doc
                    .at(&["ListUsersResult", "Users"])
                    .ok_or_else(|| a.missing("no <ListUsersResult><Users> element"))?;
                for (n, m) in users.all("member").enumerate() {
                    let place = format!("$.captures[{}].body_text (user {})", a.i, n + 1);
                    let name = m.text_at(&["UserName"]).ok_or_else(|| {
                        ImportError::new(place.clone(), "a user without <UserName>")
                    })?;
                    let arn = m.text_at(&["Arn"]).ok_or_else(|| {
                        ImportError::new(place.clone(), format!("user '{name}' without <Arn>"))
                    })?;
                    if self.user_index.contains_key(name) {
                        return Err(ImportError::new(
                            place,
                            format!("user '{name}' is listed twice"),
                        ));
                    }
                    self.user_index.insert(name.to_string(), self.users.len());
                    self.users.push(User {
                        place,
                        name: name.to_string(),
                        arn: arn.to_string(),
                        created: m.text_at(&["CreateDate"]).map(instant),
                        last_used: m.text_at(&["PasswordLastUsed"]).map(instant),
                        ..User::default()
                    });
                }
            }
            Call::ListBuckets => {
                if !a.ok() {
                    return Err(a.unexpected());
                }
                let doc = a.xml()?;
                if doc.name != "ListAllMyBucketsResult" {
                    return Err(a.missing(&format!(
                        "expected <ListAllMyBucketsResult>, got <{}>",
                        doc.name
                    )));
                }
                for (n, b) in doc
                    .child("Buckets")
                    .into_iter()
                    .flat_map(|l| l.all("Bucket"))
                    .enumerate()
                {
                    let place = format!("$.captures[{}].body_text (bucket {})", a.i, n + 1);
                    let name = b.text_at(&["Name"]).ok_or_else(|| {
                        ImportError::new(place.clone(), "a bucket without <Name>")
                    })?;
                    if self.bucket_index.contains_key(name) {
                        return Err(ImportError::new(
                            place,
                            format!("bucket '{name}' is listed twice"),
                        ));
                    }
                    self.bucket_index
                        .insert(name.to_string(), self.buckets.len());
                    self.buckets.push(Bucket {
                        place,
                        name: name.to_string(),
                        ..Bucket::default()
                    });
                }
            }
            Call::Json { target, .. }
                if target == &format!("{CLOUDTRAIL_PREFIX}DescribeTrails") =>
            {
                if !a.ok() {
                    return Err(a.unexpected());
                }
                let list = a
                    .json()?
                    .get("trailList")
                    .and_then(Value::as_array)
                    .ok_or_else(|| a.missing("no trailList array"))?;
                for (n, t) in list.iter().enumerate() {
                    let place = format!("$.captures[{}].body.trailList[{n}]", a.i);
                    let arn = t.get("TrailARN").and_then(Value::as_str).ok_or_else(|| {
                        ImportError::new(place.clone(), "a trail without TrailARN")
                    })?;
                    if self.trail_index.contains_key(arn) {
                        return Err(ImportError::new(
                            place,
                            format!("trail '{arn}' is listed twice"),
                        ));
                    }
                    let mut attrs = serde_json::Map::new();
                    attrs.insert("service".into(), json!("cloudtrail"));
                    attrs.insert("name".into(), t.get("Name").cloned().unwrap_or(Value::Null));
                    attrs.insert(
                        "home_region".into(),
                        t.get("HomeRegion").cloned().unwrap_or(Value::Null),
                    );
                    attrs.insert(
                        "s3_bucket".into(),
                        t.get("S3BucketName").cloned().unwrap_or(Value::Null),
                    );
                    attrs.insert(
                        "multi_region".into(),
                        json!(
                            t.get("IsMultiRegionTrail")
                                .and_then(Value::as_bool)
                                .unwrap_or(false)
                        ),
                    );
                    attrs.insert(
                        "log_file_validation".into(),
                        json!(
                            t.get("LogFileValidationEnabled")
                                .and_then(Value::as_bool)
                                .unwrap_or(false)
                        ),
                    );
                    self.trail_index.insert(arn.to_string(), self.trails.len());
                    self.trails.push(Trail {
                        place,
                        arn: arn.to_string(),
                        attrs,
                        is_logging: None,
                    });
                }
            }
            Call::Json { target, .. } if target == &format!("{KMS_PREFIX}DescribeKey") => {
                if !a.ok() {
                    return Err(a.unexpected());
                }
                let meta = a
                    .json()?
                    .get("KeyMetadata")
                    .ok_or_else(|| a.missing("no KeyMetadata"))?;
                let place = format!("$.captures[{}].body.KeyMetadata", a.i);
                let arn = meta
                    .get("Arn")
                    .and_then(Value::as_str)
                    .ok_or_else(|| ImportError::new(place.clone(), "a key without Arn"))?;
                let id = meta
                    .get("KeyId")
                    .and_then(Value::as_str)
                    .ok_or_else(|| ImportError::new(place.clone(), "a key without KeyId"))?;
                self.regions.extend(arn_region(arn));
                if meta.get("KeyManager").and_then(Value::as_str) != Some("CUSTOMER") {
                    return Ok(());
                }
                if self.key_index.contains_key(id) {
                    return Err(ImportError::new(
                        place,
                        format!("key '{id}' is described twice"),
                    ));
                }
                self.key_index.insert(id.to_string(), self.keys.len());
                self.keys.push(Key {
                    place,
                    arn: arn.to_string(),
                    id: id.to_string(),
                    enabled: meta.get("Enabled").cloned().unwrap_or(Value::Null),
                    state: meta.get("KeyState").cloned().unwrap_or(Value::Null),
                    rotation: None,
                });
            }
            Call::Query { action, .. } if action == "DescribeDBInstances" => {
                if !a.ok() {
                    return Err(a.unexpected());
                }
                let doc = a.xml()?;
                let list = doc
                    .at(&["DescribeDBInstancesResult", "DBInstances"])
                    .ok_or_else(|| {
                        a.missing("no <DescribeDBInstancesResult><DBInstances> element")
                    })?;
                for (n, db) in list.all("DBInstance").enumerate() {
                    let place = format!("$.captures[{}].body_text (DB instance {})", a.i, n + 1);
                    let arn = db.text_at(&["DBInstanceArn"]).ok_or_else(|| {
                        ImportError::new(place.clone(), "a DB instance without <DBInstanceArn>")
                    })?;
                    self.regions.extend(arn_region(arn));
                    let retention = db
                        .text_at(&["BackupRetentionPeriod"])
                        .map(|r| {
                            r.parse::<u64>().map_err(|_| {
                                ImportError::new(
                                    place.clone(),
                                    format!("BackupRetentionPeriod '{r}' is not a number"),
                                )
                            })
                        })
                        .transpose()?;
                    let r = Resource::new(ResourceKind::CloudResource, SYSTEM, arn)
                        .with("service", "rds")
                        .with("name", opt_value(db.text_at(&["DBInstanceIdentifier"])))
                        .with("engine", opt_value(db.text_at(&["Engine"])))
                        .with(
                            "storage_encrypted",
                            flag(db, &["StorageEncrypted"]).unwrap_or(false),
                        )
                        .with("backup_retention_days", opt_value(retention))
                        .with(
                            "publicly_accessible",
                            flag(db, &["PubliclyAccessible"]).unwrap_or(false),
                        )
                        .with("multi_az", flag(db, &["MultiAZ"]).unwrap_or(false));
                    self.dbs.push(r);
                    self.db_places.push(place);
                }
            }
            Call::Query { action, .. } if action == "DescribeSecurityGroups" => {
                if !a.ok() {
                    return Err(a.unexpected());
                }
                let doc = a.xml()?;
                let list = doc
                    .child("securityGroupInfo")
                    .ok_or_else(|| a.missing("no <securityGroupInfo> element"))?;
                for (n, g) in list.all("item").enumerate() {
                    let place = format!("$.captures[{}].body_text (security group {})", a.i, n + 1);
                    self.groups.push((place, g.clone()));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn user(&mut self, a: &Answer) -> Result<&mut User, ImportError> {
        let name = a.param("UserName")?;
        let i = *self.user_index.get(&name).ok_or_else(|| {
            err(
                a.i,
                "request",
                format!(
                    "{} for user '{name}', whom ListUsers did not list",
                    a.call.name()
                ),
            )
        })?;
        Ok(&mut self.users[i])
    }

    fn detail(&mut self, a: &Answer) -> Result<(), ImportError> {
        match a.call {
            Call::Query { action, .. } => match action.as_str() {
                "ListMFADevices" => {
                    if !a.ok() {
                        return Err(a.unexpected());
                    }
                    let doc = a.xml()?;
                    let result = doc
                        .child("ListMFADevicesResult")
                        .ok_or_else(|| a.missing("no <ListMFADevicesResult>"))?;
                    let any = result
                        .child("MFADevices")
                        .is_some_and(|d| d.all("member").next().is_some());
                    let u = self.user(a)?;
                    u.mfa = Some(u.mfa.unwrap_or(false) || any);
                }
                "GetLoginProfile" => {
                    let has = if a.ok() {
                        a.xml()?
                            .at(&["GetLoginProfileResult", "LoginProfile"])
                            .ok_or_else(|| a.missing("no <GetLoginProfileResult><LoginProfile>"))?;
                        true
                    } else if a.is(404, "NoSuchEntity") {
                        false
                    } else {
                        return Err(a.unexpected());
                    };
                    self.user(a)?.password = Some(has);
                }
                "ListAccessKeys" => {
                    if !a.ok() {
                        return Err(a.unexpected());
                    }
                    let doc = a.xml()?;
                    let result = doc
                        .child("ListAccessKeysResult")
                        .ok_or_else(|| a.missing("no <ListAccessKeysResult>"))?;
                    let active = result
                        .child("AccessKeyMetadata")
                        .map(|m| {
                            m.all("member")
                                .filter(|k| k.text_at(&["Status"]) == Some("Active"))
                                .count()
                        })
                        .unwrap_or(0) as u64;
                    let u = self.user(a)?;
                    u.keys_active = Some(u.keys_active.unwrap_or(0) + active);
                }
                "ListAttachedUserPolicies" => {
                    if !a.ok() {
                        return Err(a.unexpected());
                    }
                    let doc = a.xml()?;
                    let result = doc
                        .child("ListAttachedUserPoliciesResult")
                        .ok_or_else(|| a.missing("no <ListAttachedUserPoliciesResult>"))?;
                    let admin = result.child("AttachedPolicies").is_some_and(|p| {
                        p.all("member")
                            .any(|m| m.text_at(&["PolicyArn"]) == Some(ADMIN_POLICY))
                    });
                    let u = self.user(a)?;
                    u.admin = Some(u.admin.unwrap_or(false) || admin);
                }
                "ListUsers" | "DescribeDBInstances" | "DescribeSecurityGroups" => {}
                other => {
                    return Err(err(
                        a.i,
                        "request",
                        format!("{other} is not an action this connector calls"),
                    ));
                }
            },
            Call::Bucket { name, sub } => {
                let Some(&bi) = self.bucket_index.get(name) else {
                    return Err(err(
                        a.i,
                        "request",
                        format!("S3 ?{sub} for bucket '{name}', which ListBuckets did not list"),
                    ));
                };
                if a.is(404, "NoSuchBucket") {
                    self.buckets[bi].gone = true;
                    return Ok(());
                }
                match sub.as_str() {
                    "encryption" => {
                        let (on, algorithm) = if a.ok() {
                            let doc = a.xml()?;
                            let algorithm = doc
                                .all("Rule")
                                .find_map(|r| {
                                    r.text_at(&[
                                        "ApplyServerSideEncryptionByDefault",
                                        "SSEAlgorithm",
                                    ])
                                })
                                .map(str::to_string);
                            (algorithm.is_some(), algorithm)
                        } else if a.is(404, "ServerSideEncryptionConfigurationNotFoundError") {
                            (false, None)
                        } else {
                            return Err(a.unexpected());
                        };
                        let b = &mut self.buckets[bi];
                        b.encrypted = Some(on);
                        b.algorithm = algorithm;
                    }
                    "publicAccessBlock" => {
                        let blocked = if a.ok() {
                            let doc = a.xml()?;
                            [
                                "BlockPublicAcls",
                                "IgnorePublicAcls",
                                "BlockPublicPolicy",
                                "RestrictPublicBuckets",
                            ]
                            .iter()
                            .all(|f| flag(&doc, &[f]) == Some(true))
                        } else if a.is(404, "NoSuchPublicAccessBlockConfiguration") {
                            false
                        } else {
                            return Err(a.unexpected());
                        };
                        self.buckets[bi].public_access_blocked = Some(blocked);
                    }
                    "versioning" => {
                        if !a.ok() {
                            return Err(a.unexpected());
                        }
                        let doc = a.xml()?;
                        self.buckets[bi].versioning = Some(opt_value(doc.text_at(&["Status"])));
                    }
                    "logging" => {
                        if !a.ok() {
                            return Err(a.unexpected());
                        }
                        let doc = a.xml()?;
                        self.buckets[bi].logging = Some(doc.child("LoggingEnabled").is_some());
                    }
                    other => {
                        return Err(err(
                            a.i,
                            "request",
                            format!("S3 ?{other} is not a request this connector makes"),
                        ));
                    }
                }
            }
            Call::Json { target, .. } => {
                let op = target.rsplit('.').next().unwrap_or(target);
                match op {
                    "GetTrailStatus" => {
                        if !a.ok() {
                            return Err(a.unexpected());
                        }
                        let name = a.param("Name")?;
                        let logging = a
                            .json()?
                            .get("IsLogging")
                            .and_then(Value::as_bool)
                            .ok_or_else(|| a.missing("no IsLogging boolean"))?;
                        let ti = *self.trail_index.get(&name).ok_or_else(|| {
                            err(a.i, "request", format!("GetTrailStatus for trail '{name}', which DescribeTrails did not list"))
                        })?;
                        self.trails[ti].is_logging = Some(logging);
                    }
                    "GetKeyRotationStatus" => {
                        let id = a.param("KeyId")?;
                        let rotation = if a.ok() {
                            json!(
                                a.json()?
                                    .get("KeyRotationEnabled")
                                    .and_then(Value::as_bool)
                                    .ok_or_else(|| a.missing("no KeyRotationEnabled boolean"))?
                            )
                        } else if a.is(400, "UnsupportedOperationException")
                            || a.is(400, "KMSInvalidStateException")
                        {
                            Value::Null
                        } else {
                            return Err(a.unexpected());
                        };
                        let ki = *self.key_index.get(&id).ok_or_else(|| {
                            err(a.i, "request", format!("GetKeyRotationStatus for key '{id}', which DescribeKey did not describe as customer managed"))
                        })?;
                        self.keys[ki].rotation = Some(rotation);
                    }
                    "DescribeTrails" | "DescribeKey" | "ListKeys" => {
                        if !a.ok() {
                            return Err(a.unexpected());
                        }
                    }
                    other => {
                        return Err(err(
                            a.i,
                            "request",
                            format!("{other} is not an operation this connector calls"),
                        ));
                    }
                }
            }
            Call::ListBuckets => {}
        }
        Ok(())
    }

    fn finish(self) -> Result<Collection, ImportError> {
        let mut out = Vec::new();
        let mut seen: HashSet<(ResourceKind, String)> = HashSet::new();
        let mut push = |r: Resource, place: &str| -> Result<(), ImportError> {
            r.validate()
                .map_err(|e| ImportError::new(place, e.to_string()))?;
            if !seen.insert((r.kind, r.key.clone())) {
                return Err(ImportError::new(
                    place,
                    format!("duplicate {} '{}'", r.kind, r.key),
                ));
            }
            out.push(r);
            Ok(())
        };
        let need = |v: Option<bool>, place: &str, what: &str| {
            v.ok_or_else(|| ImportError::new(place, format!("no {what} answer in the bundle")))
        };
        for u in &self.users {
            let what = |call: &str| format!("{call} for user '{}'", u.name);
            let r = Resource::new(ResourceKind::Account, SYSTEM, &u.arn)
                .with("username", u.name.as_str())
                .with("arn", u.arn.as_str())
                .with("account_id", opt_value(u.arn.split(':').nth(4)))
                .with("created", opt_value(u.created.clone()))
                .with(
                    "password_enabled",
                    need(u.password, &u.place, &what("GetLoginProfile"))?,
                )
                .with("mfa", need(u.mfa, &u.place, &what("ListMFADevices"))?)
                .with(
                    "access_keys_active",
                    u.keys_active.ok_or_else(|| {
                        ImportError::new(
                            &u.place,
                            format!("no {} answer in the bundle", what("ListAccessKeys")),
                        )
                    })?,
                )
                .with(
                    "admin",
                    need(u.admin, &u.place, &what("ListAttachedUserPolicies"))?,
                )
                .with("active", true)
                .with_opt("last_used", u.last_used.clone());
            push(r, &u.place)?;
        }
        let mut warnings = self.warnings;
        for b in &self.buckets {
            if b.gone {
                warnings.push(format!(
                    "bucket '{}' was deleted while it was being read; it is left out",
                    b.name
                ));
                continue;
            }
            let what = |call: &str| format!("{call} for bucket '{}'", b.name);
            let r = Resource::new(
                ResourceKind::CloudResource,
                SYSTEM,
                format!("arn:aws:s3:::{}", b.name),
            )
            .with("service", "s3")
            .with("name", b.name.as_str())
            .with(
                "encrypted",
                need(b.encrypted, &b.place, &what("GetBucketEncryption"))?,
            )
            .with("encryption_algorithm", opt_value(b.algorithm.clone()))
            .with(
                "public_access_blocked",
                need(
                    b.public_access_blocked,
                    &b.place,
                    &what("GetPublicAccessBlock"),
                )?,
            )
            .with(
                "versioning",
                b.versioning.clone().ok_or_else(|| {
                    ImportError::new(
                        &b.place,
                        format!("no {} answer in the bundle", what("GetBucketVersioning")),
                    )
                })?,
            )
            .with(
                "logging",
                need(b.logging, &b.place, &what("GetBucketLogging"))?,
            );
            push(r, &b.place)?;
        }
        for t in &self.trails {
            let mut r = Resource::new(ResourceKind::CloudResource, SYSTEM, &t.arn);
            r.attrs = t.attrs.clone();
            let r = r.with(
                "is_logging",
                need(
                    t.is_logging,
                    &t.place,
                    &format!("GetTrailStatus for trail '{}'", t.arn),
                )?,
            );
            push(r, &t.place)?;
        }
        for (r, place) in self.dbs.into_iter().zip(&self.db_places) {
            push(r, place)?;
        }
        for k in &self.keys {
            let rotation = k.rotation.clone().ok_or_else(|| {
                ImportError::new(
                    &k.place,
                    format!(
                        "no GetKeyRotationStatus answer for key '{}' in the bundle",
                        k.id
                    ),
                )
            })?;
            let r = Resource::new(ResourceKind::CloudResource, SYSTEM, &k.arn)
                .with("service", "kms")
                .with("key_id", k.id.as_str())
                .with("enabled", k.enabled.clone())
                .with("key_state", k.state.clone())
                .with("rotation_enabled", rotation);
            push(r, &k.place)?;
        }
        let region = self.regions.first().cloned();
        for (place, g) in &self.groups {
            let id = g.text_at(&["groupId"]).ok_or_else(|| {
                ImportError::new(place.as_str(), "a security group without <groupId>")
            })?;
            let arn = match (g.text_at(&["securityGroupArn"]), g.text_at(&["ownerId"])) {
                (Some(arn), _) => arn.to_string(),
                (None, owner) => {
                    if region.is_none() {
                        warnings.push(format!(
                            "security group {id}: AWS did not give its ARN and the bundle does not show the region; its key has no region"
                        ));
                    }
                    format!(
                        "arn:aws:ec2:{}:{}:security-group/{id}",
                        region.as_deref().unwrap_or_default(),
                        owner.unwrap_or_default()
                    )
                }
            };
            let mut open_ports = BTreeSet::new();
            let mut open = false;
            for p in g
                .child("ipPermissions")
                .into_iter()
                .flat_map(|p| p.all("item"))
            {
                let v4 = p
                    .child("ipRanges")
                    .into_iter()
                    .flat_map(|r| r.all("item"))
                    .any(|r| r.text_at(&["cidrIp"]) == Some("0.0.0.0/0"));
                let v6 = p
                    .child("ipv6Ranges")
                    .into_iter()
                    .flat_map(|r| r.all("item"))
                    .any(|r| r.text_at(&["cidrIpv6"]) == Some("::/0"));
                if v4 || v6 {
                    open = true;
                    open_ports.insert(port_label(p));
                }
            }
            let r = Resource::new(ResourceKind::CloudResource, SYSTEM, arn)
                .with("service", "ec2")
                .with("group_id", id)
                .with("name", opt_value(g.text_at(&["groupName"])))
                .with("vpc_id", opt_value(g.text_at(&["vpcId"])))
                .with("open_to_world", open)
                .with("open_ports", open_ports.into_iter().collect::<Vec<_>>());
            push(r, place)?;
        }
        Ok(Collection {
            kind: ImportKind::AwsApi,
            system: SYSTEM.to_string(),
            resources: out,
            warnings,
        })
    }
}

/// `tcp:22`, `tcp:1000-2000`, `udp:53`, `icmp`, `all` for one ingress permission.
fn port_label(p: &Element) -> String {
    let proto = p.text_at(&["ipProtocol"]).unwrap_or("-1");
    let proto = match proto {
        "-1" => return "all".to_string(),
        "6" => "tcp",
        "17" => "udp",
        "1" => "icmp",
        "58" => "icmpv6",
        other => other,
    };
    let from = p.text_at(&["fromPort"]).and_then(|v| v.parse::<i64>().ok());
    let to = p.text_at(&["toPort"]).and_then(|v| v.parse::<i64>().ok());
    match (proto, from, to) {
        ("icmp" | "icmpv6", _, _) => proto.to_string(),
        (_, Some(f), Some(t)) if f == t => format!("{proto}:{f}"),
        (_, Some(0) | Some(-1), Some(65535)) | (_, None, None) => format!("{proto}:all"),
        (_, Some(f), Some(t)) => format!("{proto}:{f}-{t}"),
        _ => proto.to_string(),
    }
}
