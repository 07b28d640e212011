//! Listing endpoints page by page, and the small encoding helpers the connectors share.
use crate::ConnectorError;
use crate::http::Session;
use serde_json::Value;
use url::Url;

/// Reads a listing that answers a JSON array per page and links the next page with
/// `Link: <…>; rel="next"` (GitHub, Okta). `more` sees each page and says whether to go on
/// (GitHub's pull requests stop at the first page older than the period read).
///
/// Each next page is requested on the *first request's path* with the next link's query
/// merged into the first query. GitHub's links point at other spellings of the same listing
/// (`/organizations/{id}/members?page=2` for `/orgs/{org}/members`); keeping the path keeps
/// every page's capture under the request the importer reads, and never sends the credentials
/// to a host other than the configured one.
pub(crate) async fn list_linked(
    session: &mut Session,
    first: &str,
    mut more: impl FnMut(&[Value]) -> bool,
) -> Result<Vec<Value>, ConnectorError> {
    let mut items = Vec::new();
    let mut url = first.to_string();
    let mut pages = 0usize;
    loop {
        pages += 1;
        if pages > session.policy().max_pages {
            return Err(ConnectorError::Garbage {
                system: session.system().to_string(),
                request: url,
                detail: format!("more than {} pages of results", session.policy().max_pages),
            });
        }
        let (resp, json) = session.get_json(&url).await?;
        let Value::Array(page) = json else {
            return Err(ConnectorError::Garbage {
                system: session.system().to_string(),
                request: resp.request,
                detail: "expected a JSON array".to_string(),
            });
        };
        let go_on = more(&page);
        items.extend(page);
        match resp.next_link().and_then(|l| Url::parse(&l).ok()) {
            Some(next) if go_on => url = next_request(first, &next),
            _ => return Ok(items),
        }
    }
}

/// `first`'s path with `next`'s query parameters merged into `first`'s (same order; new
/// parameters appended).
pub(crate) fn next_request(first: &str, next: &Url) -> String {
    let (path, first_query) = first.split_once('?').unwrap_or((first, ""));
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(first_query.as_bytes())
        .into_owned()
        .collect();
    for (k, v) in next.query_pairs() {
        match pairs.iter_mut().find(|(name, _)| *name == k) {
            Some(pair) => pair.1 = v.into_owned(),
            None => pairs.push((k.into_owned(), v.into_owned())),
        }
    }
    format!("{path}?{}", query(&pairs))
}

/// A query string, form-encoded.
pub(crate) fn query<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k.as_ref(), v.as_ref());
    }
    s.finish()
}

/// One path segment, percent-encoded (a branch named `release/1.0` stays one segment).
pub(crate) fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A string field of a listed item, or a [`ConnectorError::Garbage`] naming it.
pub(crate) fn str_field<'v>(
    system: &str,
    request: &str,
    item: &'v Value,
    field: &str,
) -> Result<&'v str, ConnectorError> {
    item.get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| ConnectorError::Garbage {
            system: system.to_string(),
            request: request.to_string(),
            detail: format!("an item has no string '{field}'"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_keeps_the_first_path_and_takes_the_links_query() {
        let next = Url::parse(
            "https://api.github.com/organizations/9/members?per_page=100&filter=2fa_disabled&page=2",
        )
        .unwrap();
        assert_eq!(
            next_request("orgs/acme/members?filter=2fa_disabled&per_page=100", &next),
            "orgs/acme/members?filter=2fa_disabled&per_page=100&page=2"
        );
        let next = Url::parse("https://acme.okta.com/api/v1/users?after=00u2&limit=200").unwrap();
        assert_eq!(
            next_request("api/v1/users?limit=200", &next),
            "api/v1/users?limit=200&after=00u2"
        );
        assert_eq!(segment("release/1.0 x"), "release%2F1.0%20x");
        assert_eq!(query(&[("base", "a&b")]), "base=a%26b");
    }
}
