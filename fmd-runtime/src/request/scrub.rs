//! Scrubbing: secrets in a request's URL and headers never leave the request path.
//!
//! A header is secret when it carries credentials (`Authorization`, `Cookie`, `Set-Cookie`,
//! `Proxy-Authorization`) or when its name is a secret's ([`crate::secrets::is_secret_name`]:
//! `X-Auth-Token`, `Cf-Access-Jwt-Assertion`, …); a query parameter is secret when its
//! (decoded) name is, in the URL and in a `Referer`; a path segment is secret when it looks
//! like a JWT or a long random token. A secret's value is replaced by [`SCRUBBED`]; the name
//! stays, so one can see that it was sent. Secret shapes inside the values that remain
//! (a JWT in a custom header) are replaced on the writer thread
//! ([`crate::secrets::scrub_text`]). Lengths are capped, so a hostile request cannot make
//! fmd store megabytes.
//!
//! ```
//! use fmd_runtime::request::scrub;
//! let uri: http::Uri = "/login?user=ana&api_key=abc123".parse().unwrap();
//! assert_eq!(scrub::url(&uri), "/login?user=ana&api_key=[scrubbed]");
//! ```

use http::{HeaderMap, Uri};
use percent_encoding::percent_decode_str;

pub use crate::secrets::SCRUBBED;
use crate::secrets::{is_secret_name, is_secret_segment};

/// Headers whose value is always secret.
pub const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// Longest URL kept, in bytes.
pub const MAX_URL: usize = 4096;
/// Most headers kept.
pub const MAX_HEADERS: usize = 64;
/// Longest header value kept, in bytes.
pub const MAX_HEADER_VALUE: usize = 1024;

const CUT_MARK: &str = "…";

/// Whether a header or parameter called `name` holds a secret.
pub fn is_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_HEADERS.contains(&lower.as_str()) || is_secret_name(&lower)
}

/// Path and query of `uri`, the values of secret query parameters replaced.
pub fn url(uri: &Uri) -> String {
    let path = uri.path();
    let mut out = String::with_capacity(path.len() + uri.query().map_or(0, |q| q.len() + 1));
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if is_secret_segment(&decoded(segment)) {
            out.push_str(SCRUBBED);
        } else {
            out.push_str(segment);
        }
    }
    if let Some(query) = uri.query() {
        push_query(&mut out, query);
    }
    cap(out, MAX_URL)
}

/// A `Referer` (or any URL-valued header): its path and query scrubbed like [`url`], its
/// origin kept.
fn referer(value: &str) -> String {
    match value.parse::<Uri>() {
        Ok(uri) => {
            let origin = match (uri.scheme_str(), uri.authority()) {
                (Some(scheme), Some(authority)) => {
                    // user:password@ in the authority goes too.
                    let host = authority.as_str().rsplit('@').next().unwrap_or_default();
                    format!("{scheme}://{host}")
                }
                _ => String::new(),
            };
            format!("{origin}{}", url(&uri))
        }
        Err(_) => SCRUBBED.to_owned(),
    }
}

/// Appends `?query` with the values of secret parameters replaced.
fn push_query(out: &mut String, query: &str) {
    {
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((name, _)) if is_secret(&decoded(name)) => {
                    out.push_str(name);
                    out.push('=');
                    out.push_str(SCRUBBED);
                }
                _ => out.push_str(pair),
            }
        }
    }
}

/// A parameter name as the application sees it (`%6Bey` is `key`, `+` a space).
fn decoded(name: &str) -> String {
    percent_decode_str(&name.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Header names and values in the order received, secret values replaced.
pub fn headers(map: &HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .take(MAX_HEADERS)
        .map(|(name, value)| {
            let name = name.as_str();
            let value = if is_secret(name) {
                SCRUBBED.to_owned()
            } else if name == "referer" || name == "origin" {
                cap(
                    referer(&String::from_utf8_lossy(value.as_bytes())),
                    MAX_HEADER_VALUE,
                )
            } else {
                cap(
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    MAX_HEADER_VALUE,
                )
            };
            (name.to_owned(), value)
        })
        .collect()
}

fn cap(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str(CUT_MARK);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn secret_query_values_are_replaced_and_the_rest_kept() {
        let uri: Uri = "/a/b?city=oslo&token=t0k&Password=pw&x=1&session_id=s&sort"
            .parse()
            .unwrap();
        assert_eq!(
            url(&uri),
            "/a/b?city=oslo&token=[scrubbed]&Password=[scrubbed]&x=1&session_id=[scrubbed]&sort"
        );
        // Encoded names are recognized; values that only look secret are kept.
        let uri: Uri = "/p?api%5Fkey=k&to%6Ben=t&q=password".parse().unwrap();
        assert_eq!(
            url(&uri),
            "/p?api%5Fkey=[scrubbed]&to%6Ben=[scrubbed]&q=password"
        );
        let uri: Uri = "/plain".parse().unwrap();
        assert_eq!(url(&uri), "/plain");
    }

    #[test]
    fn credential_headers_and_secret_names_are_replaced() {
        let mut map = HeaderMap::new();
        for (name, value) in [
            ("authorization", "Bearer abc"),
            ("cookie", "sid=1"),
            ("set-cookie", "sid=2"),
            ("proxy-authorization", "Basic x"),
            ("x-api-key", "k"),
            ("x-csrf-token", "t"),
            ("x-session", "s"),
            ("x-user", "ana"),
            ("accept", "text/html"),
        ] {
            map.append(
                http::HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        let kept = headers(&map);
        let value = |n: &str| kept.iter().find(|(k, _)| k == n).unwrap().1.clone();
        for secret in [
            "authorization",
            "cookie",
            "set-cookie",
            "proxy-authorization",
            "x-api-key",
            "x-csrf-token",
            "x-session",
        ] {
            assert_eq!(value(secret), SCRUBBED, "{secret}");
        }
        assert_eq!(value("x-user"), "ana");
        assert_eq!(value("accept"), "text/html");
    }

    #[test]
    fn hostile_sizes_are_capped() {
        let long = format!("/{}?q={}", "a".repeat(5000), "b".repeat(5000));
        let uri: Uri = long.parse().unwrap();
        assert!(url(&uri).len() <= MAX_URL + CUT_MARK.len());
        let mut map = HeaderMap::new();
        for i in 0..200 {
            let name = http::HeaderName::from_bytes(format!("x-h{i}").as_bytes()).unwrap();
            map.append(name, HeaderValue::from_str(&"v".repeat(3000)).unwrap());
        }
        let kept = headers(&map);
        assert_eq!(kept.len(), MAX_HEADERS);
        assert!(kept.iter().all(|(_, v)| v.len() <= MAX_HEADER_VALUE + 3));
    }
}
