//! Where the vault is: the URL forms and the S3 settings.

use std::fmt;
use std::path::PathBuf;

use crate::VaultError;

/// Where the vault is and how to reach it.
#[derive(Clone, Debug, Default)]
pub struct VaultConfig {
    /// A local path (relative paths are taken from the current folder), `file:///abs/path`,
    /// `s3://bucket/optional/prefix` (feature `aws`), or `memory:` (tests).
    pub url: String,
    /// Used for `s3://` URLs only.
    pub s3: S3Settings,
}

/// How to reach an S3-compatible service. The binary fills unset fields from the usual `AWS_*`
/// environment variables; without keys, instance credentials (the metadata service) are used.
#[derive(Default, Clone)]
pub struct S3Settings {
    /// The service's URL, for S3-compatible services (MinIO, Ceph, R2, ...); unset for AWS.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Allow a plain `http://` endpoint (a service on the same host or private network).
    pub allow_http: bool,
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

/// A parsed vault URL.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Local(PathBuf),
    Memory,
    S3 { bucket: String, prefix: String },
}

const FORMS: &str =
    "use a local path, file:///absolute/path, s3://bucket/optional/prefix or memory:";

pub(crate) fn parse_url(url: &str) -> Result<Target, VaultError> {
    let bad = |reason: String| VaultError::Config {
        url: url.to_string(),
        reason,
    };
    let trimmed = url.trim();
    if trimmed.is_empty() {
        return Err(bad(format!("the vault URL is empty; {FORMS}")));
    }
    if trimmed == "memory:" || trimmed == "memory://" {
        return Ok(Target::Memory);
    }
    if let Some(rest) = trimmed.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        check_bucket(bucket).map_err(|r| bad(r.to_string()))?;
        let prefix = prefix.trim_matches('/');
        if !prefix.is_empty() {
            for part in prefix.split('/') {
                if part.is_empty() || part == "." || part == ".." {
                    return Err(bad(format!(
                        "the prefix {prefix:?} has an empty, `.` or `..` segment"
                    )));
                }
            }
            object_store::path::Path::parse(prefix)
                .map_err(|e| bad(format!("the prefix {prefix:?} is not usable: {e}")))?;
        }
        return Ok(Target::S3 {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        });
    }
    if trimmed.starts_with("file:") {
        if !trimmed.starts_with("file://") {
            return Err(bad(
                "not a local absolute path; use file:///absolute/path".into()
            ));
        }
        let parsed = url::Url::parse(trimmed).map_err(|e| bad(format!("not a valid URL: {e}")))?;
        if parsed
            .host_str()
            .is_some_and(|h| !h.is_empty() && h != "localhost")
        {
            return Err(bad(format!(
                "a file URL must name a local path (file:///absolute/path), not the host {:?}",
                parsed.host_str().unwrap_or_default()
            )));
        }
        let path = parsed
            .to_file_path()
            .map_err(|()| bad("not a local absolute path; use file:///absolute/path".into()))?;
        return Ok(Target::Local(path));
    }
    if let Some((scheme, _)) = trimmed.split_once("://") {
        return Err(bad(format!(
            "the scheme {scheme:?} is not supported; {FORMS}"
        )));
    }
    let path = std::path::absolute(trimmed)
        .map_err(|e| bad(format!("cannot make the path absolute: {e}")))?;
    Ok(Target::Local(path))
}

/// S3 bucket naming rules, enough to catch typos and pasted URLs.
fn check_bucket(bucket: &str) -> Result<(), &'static str> {
    if bucket.is_empty() {
        return Err("the bucket name is missing (s3://bucket/optional/prefix)");
    }
    if !(3..=63).contains(&bucket.len()) {
        return Err("a bucket name has 3 to 63 characters");
    }
    let ok_chars = bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let ok_ends = bucket
        .bytes()
        .next()
        .zip(bucket.bytes().last())
        .is_some_and(|(a, z)| a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric());
    if !ok_chars || !ok_ends {
        return Err(
            "a bucket name has only lowercase letters, digits, `-` and `.`, and starts and ends with a letter or digit",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(bucket: &str, prefix: &str) -> Target {
        Target::S3 {
            bucket: bucket.into(),
            prefix: prefix.into(),
        }
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(parse_url("memory:").unwrap(), Target::Memory);
        assert_eq!(parse_url("s3://evidence").unwrap(), s3("evidence", ""));
        assert_eq!(parse_url("s3://evidence/").unwrap(), s3("evidence", ""));
        assert_eq!(
            parse_url("s3://evidence/acme/prod/").unwrap(),
            s3("evidence", "acme/prod")
        );
        assert_eq!(
            parse_url("file:///var/lib/vouch/blobs").unwrap(),
            Target::Local(PathBuf::from("/var/lib/vouch/blobs"))
        );
        assert_eq!(
            parse_url("file:///var/lib/with%20space").unwrap(),
            Target::Local(PathBuf::from("/var/lib/with space"))
        );
        assert_eq!(
            parse_url("/srv/blobs").unwrap(),
            Target::Local(PathBuf::from("/srv/blobs"))
        );
        let Target::Local(rel) = parse_url("vouch-data/blobs").unwrap() else {
            panic!("a relative path is local");
        };
        assert!(
            rel.is_absolute() && rel.ends_with("vouch-data/blobs"),
            "{rel:?}"
        );
    }

    #[test]
    fn rejects_bad_urls_naming_the_url() {
        for (url, needle) in [
            ("", "empty"),
            ("   ", "empty"),
            ("ftp://host/x", "\"ftp\" is not supported"),
            ("gs://bucket", "\"gs\" is not supported"),
            ("s3://", "bucket name is missing"),
            ("s3:///prefix", "bucket name is missing"),
            ("s3://Evidence", "lowercase"),
            ("s3://ab", "3 to 63"),
            ("s3://evidence/a//b", "empty"),
            ("s3://evidence/a/../b", "`..`"),
            ("file://server/share", "\"server\""),
            ("file:relative", "absolute"),
        ] {
            let err = parse_url(url).expect_err(url);
            let msg = err.to_string();
            assert!(matches!(err, VaultError::Config { .. }), "{url}: {err:?}");
            assert!(msg.contains(&format!("{url:?}")), "{url}: {msg}");
            assert!(msg.contains(needle), "{url}: {msg}");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let s = S3Settings {
            access_key_id: Some("AKIDEXAMPLE".into()),
            secret_access_key: Some("wJalrXUtnFEMI-very-secret".into()),
            ..Default::default()
        };
        let shown = format!(
            "{:?}",
            VaultConfig {
                url: "s3://b-1".into(),
                s3: s
            }
        );
        assert!(shown.contains("AKIDEXAMPLE"), "{shown}");
        assert!(!shown.contains("very-secret"), "{shown}");
    }
}
