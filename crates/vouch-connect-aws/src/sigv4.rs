//! AWS Signature Version 4, as the AWS General Reference specifies it ("Create a signed AWS
//! API request"): a canonical request, a string to sign, a signing key derived from the secret
//! by four HMAC-SHA256 steps, and an `Authorization` header.
//!
//! **Why not the `aws-sigv4` crate.** It is the AWS SDK's own implementation and well kept, but
//! even with its default features off it brings the SDK's runtime (`aws-smithy-runtime-api`,
//! `aws-smithy-http`, `aws-smithy-types`, `aws-credential-types`, `aws-smithy-async`,
//! `base64-simd`, …: about thirty crates this workspace does not otherwise build) and a second
//! major version of `sha2`/`digest`/`hmac`. Signing a header-authenticated request is a page of
//! code over `hmac` and the workspace's `sha2`, checked below against AWS's published example
//! and, in the integration tests, against moto, which recomputes each signature with botocore.
//!
//! The signature covers the time, so it is computed per attempt (the session calls the signer
//! before each one).
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::macros::format_description;
use url::Url;
use vouch_connect::Secret;

/// Everything but the unreserved characters of RFC 3986 (`A-Z a-z 0-9 - _ . ~`), as SigV4
/// requires.
const AWS_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The URI encoding SigV4 uses for query names and values.
pub(crate) fn encode(s: &str) -> String {
    utf8_percent_encode(s, AWS_ENCODE).to_string()
}

/// The credentials a request is signed with.
pub(crate) struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

/// The headers to add to a request: `x-amz-date`, `x-amz-content-sha256`,
/// `x-amz-security-token` (with a session token) and `authorization`. `headers` are the
/// request's own headers, all of which are signed, with `host` taken from the URL.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sign(
    creds: &Credentials,
    service: &str,
    region: &str,
    method: &str,
    url: &Url,
    headers: &[(String, String)],
    body: &[u8],
    now: OffsetDateTime,
) -> Vec<(String, String)> {
    let now = now.to_offset(time::UtcOffset::UTC);
    let amz_date = now
        .format(format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .expect("a UTC time always formats");
    let payload_hash = hex::encode(Sha256::digest(body));
    let mut added = vec![
        ("x-amz-date".to_string(), amz_date.clone()),
        ("x-amz-content-sha256".to_string(), payload_hash.clone()),
    ];
    if let Some(token) = &creds.session_token {
        added.push((
            "x-amz-security-token".to_string(),
            token.expose().to_string(),
        ));
    }
    let mut to_sign: Vec<(String, String)> = vec![("host".to_string(), host(url))];
    to_sign.extend(headers.iter().cloned());
    to_sign.extend(added.iter().cloned());
    let auth = authorization(
        creds,
        service,
        region,
        method,
        url,
        &to_sign,
        &payload_hash,
        &amz_date,
    );
    added.push(("authorization".to_string(), auth));
    added
}

/// The `Host` header as the HTTP client sends it: the host, and the port when not the default.
fn host(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// The `Authorization` header value for a request whose signed headers are `headers` (names in
/// any case; `host` and `x-amz-date` among them).
#[allow(clippy::too_many_arguments)]
fn authorization(
    creds: &Credentials,
    service: &str,
    region: &str,
    method: &str,
    url: &Url,
    headers: &[(String, String)],
    payload_hash: &str,
    amz_date: &str,
) -> String {
    let date = &amz_date[..8];
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let (canonical, signed_headers) =
        canonical_request(service, method, url, headers, payload_hash);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = signing_key(creds.secret_access_key.expose(), date, region, service);
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key_id
    )
}

/// The canonical request and the signed-header list.
fn canonical_request(
    service: &str,
    method: &str,
    url: &Url,
    headers: &[(String, String)],
    payload_hash: &str,
) -> (String, String) {
    // The path as sent is already percent-encoded once; every service but S3 wants it encoded
    // a second time.
    let path = if url.path().is_empty() {
        "/"
    } else {
        url.path()
    };
    let canonical_uri = if service == "s3" {
        path.to_string()
    } else {
        path.split('/').map(encode).collect::<Vec<_>>().join("/")
    };
    let mut query: Vec<(String, String)> = url
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
            (encode(&decode(k)), encode(&decode(v)))
        })
        .collect();
    query.sort();
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut canon_headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_ascii_lowercase(),
                v.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect();
    canon_headers.sort();
    canon_headers.dedup_by(|a, b| a.0 == b.0);
    let header_block: String = canon_headers
        .iter()
        .map(|(k, v)| format!("{k}:{v}\n"))
        .collect();
    let signed_headers = canon_headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    (
        format!(
            "{method}\n{canonical_uri}\n{canonical_query}\n{header_block}\n{signed_headers}\n{payload_hash}"
        ),
        signed_headers,
    )
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example_creds() -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: None,
        }
    }

    /// AWS's worked example (General Reference, "Signature Version 4 signing process"):
    /// IAM ListUsers on 2015-08-30.
    #[test]
    fn matches_the_aws_documentation_example() {
        let url =
            Url::parse("https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08").unwrap();
        let headers = vec![
            (
                "Content-Type".to_string(),
                "application/x-www-form-urlencoded; charset=utf-8".to_string(),
            ),
            ("Host".to_string(), "iam.amazonaws.com".to_string()),
            ("X-Amz-Date".to_string(), "20150830T123600Z".to_string()),
        ];
        let empty = hex::encode(Sha256::digest(b""));
        let (canonical, signed) = canonical_request("iam", "GET", &url, &headers, &empty);
        assert_eq!(signed, "content-type;host;x-amz-date");
        assert_eq!(
            hex::encode(Sha256::digest(canonical.as_bytes())),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        assert_eq!(
            hex::encode(signing_key(
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                "20150830",
                "us-east-1",
                "iam"
            )),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
        let auth = authorization(
            &example_creds(),
            "iam",
            "us-east-1",
            "GET",
            &url,
            &headers,
            &empty,
            "20150830T123600Z",
        );
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    #[test]
    fn query_is_sorted_and_strictly_encoded_and_the_token_is_signed() {
        let url =
            Url::parse("http://127.0.0.1:5000/?Version=1&Action=ListMFADevices&UserName=a%2Bb%40x")
                .unwrap();
        let (canonical, _) = canonical_request("iam", "GET", &url, &[], "h");
        assert!(canonical.contains("\nAction=ListMFADevices&UserName=a%2Bb%40x&Version=1\n"));
        let mut creds = example_creds();
        creds.session_token = Some(Secret::new("tok"));
        let now = OffsetDateTime::from_unix_timestamp(1_440_938_160).unwrap();
        let out = sign(&creds, "iam", "us-east-1", "GET", &url, &[], b"", now);
        let names: Vec<&str> = out.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "x-amz-date",
                "x-amz-content-sha256",
                "x-amz-security-token",
                "authorization"
            ]
        );
        assert_eq!(out[0].1, "20150830T123600Z");
        assert!(
            out[3].1.contains(
                "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"
            )
        );
        // Signing twice at two times gives two signatures (the date is part of it).
        let later = sign(
            &creds,
            "iam",
            "us-east-1",
            "GET",
            &url,
            &[],
            b"",
            now + time::Duration::seconds(1),
        );
        assert_ne!(out[3].1, later[3].1);
    }
}
