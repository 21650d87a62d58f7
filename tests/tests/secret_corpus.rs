//! Secrets never reach the database file, in any place a client or an error can put them:
//! header names fmd did not know (`X-Auth-Token`, identity-aware proxies' JWT headers),
//! query names (`sid`, `code`, `sig`, …), a `Referer`'s query, JWTs and random tokens as
//! path segments, and secret shapes inside error messages, `source()` chains, panic
//! payloads and `capture!`ed errors. A corpus of 34 secrets is sent in every place; then
//! the raw bytes of the database and its write-ahead log are searched for each.

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::{host, spine};
use std::collections::HashMap;

/// (where it goes, the secret). Every value is unique, so finding it anywhere in the file
/// means it leaked.
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjb3JwdXMtand0LTEifQ.c2lnbmF0dXJlLWp3dC0x";
const PATH_TOKEN: &str = "pt7Kq9Zx2Lm4Nb6Vc8Xw1Rt3Yu5";
const HEADERS: &[(&str, &str)] = &[
    ("X-Authorization", "xauthz-value-7f3a91"),
    ("X-Auth-Token", "xauthtoken-value-2b8c44"),
    ("X-Api-Key", "xapikey-value-9d1e07"),
    ("Cf-Access-Jwt-Assertion", "cfaccess-value-5a6b22"),
    ("X-Amzn-Oidc-Data", "amznoidc-value-3c4d88"),
    ("X-Goog-Iap-Jwt-Assertion", "googiap-value-1e2f66"),
    ("Authorization", "Bearer authz-bearer-value-8a9b33"),
    ("Cookie", "sid=cookie-sid-value-4c5d11"),
    ("X-Session-Id", "xsession-value-6e7f99"),
];
const QUERY: &[(&str, &str)] = &[
    ("sid", "qsid-value-1a2b"),
    ("auth", "qauth-value-3c4d"),
    ("code", "qcode-value-5e6f"),
    ("sig", "qsig-value-7a8b"),
    ("jwt", "qjwt-value-9c0d"),
    ("pwd", "qpwd-value-1e2f"),
    ("key", "qkey-value-3a4b"),
    ("secret", "qsecret-value-5c6d"),
    ("apikey", "qapikey-value-7e8f"),
    ("access_token", "qaccess-value-9a0b"),
];
/// In a `Referer`'s query.
const REFERER_SECRET: &str = "referer-token-value-2c3d";
/// Shapes inside free text (messages, chains, payloads, a custom header's value).
const IN_TEXT: &[(&str, &str)] = &[
    ("password=", "msg-password-value-4e5f"),
    ("Bearer ", "msgBearerValue6a7b8c9d"),
    ("postgres://app:", "msg-url-password-0e1f"),
    ("", JWT),
    ("card ", "4111 1111 1111 1111"),
    ("aws ", "AKIAQWERTYUIOPASDFGH"),
    ("github ", "ghp_corpusGithubToken0123456789abcdef"),
    ("slack ", "xoxb-corpus-slack-token-42"),
    ("stripe ", "sk_live_corpusStripeKey99"),
    ("api_key: ", "msg-apikey-value-2a3b"),
];

#[derive(Debug)]
struct Leak {
    message: String,
    source: std::io::Error,
}

impl std::fmt::Display for Leak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Leak {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl IntoResponse for Leak {
    fn into_response(self) -> Response {
        StatusCode::BAD_GATEWAY.into_response()
    }
}

/// Every text shape, once, as an error message would carry it.
fn text_with_secrets(place: &str) -> String {
    let shapes: Vec<String> = IN_TEXT
        .iter()
        .map(|(prefix, secret)| {
            if prefix.starts_with("postgres") {
                format!("{prefix}{secret}@db:5432/app")
            } else {
                format!("{prefix}{secret}")
            }
        })
        .collect();
    format!("{place} failed; {}", shapes.join("; "))
}

#[monitored(level = 2)]
async fn leak(
    Path(_tail): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<&'static str, Leak> {
    let seen = headers.len() + query.len();
    match query.get("mode").map(String::as_str) {
        Some("slow") => {
            tokio::time::sleep(std::time::Duration::from_millis(80)).await;
            Ok("slow")
        }
        Some("fail") => Err(Leak {
            message: text_with_secrets("upstream"),
            source: std::io::Error::other(text_with_secrets("the source")),
        }),
        Some("capture") => {
            let handled = Leak {
                message: text_with_secrets("handled"),
                source: std::io::Error::other(text_with_secrets("handled source")),
            };
            fmd::capture!(handled);
            Ok("handled")
        }
        Some("panic") => panic!("{} after {seen} values", text_with_secrets("panicked")),
        _ => Ok("fast"),
    }
}

fn corpus() -> Vec<&'static str> {
    let mut all = vec![JWT, PATH_TOKEN, REFERER_SECRET];
    all.extend(
        HEADERS
            .iter()
            .map(|(_, v)| v.rsplit([' ', '=']).next().unwrap_or(v)),
    );
    all.extend(QUERY.iter().map(|(_, v)| *v));
    all.extend(IN_TEXT.iter().map(|(_, v)| *v));
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_of_the_corpus_reaches_the_database_file() {
    let db = spine::start();
    let addr = spine::serve(Router::new().route("/leak/{tail}", get(leak))).await;
    let query: String = QUERY.iter().map(|(k, v)| format!("&{k}={v}")).collect();
    let referer = format!("https://shop.example/cart?user=ana&token={REFERER_SECRET}");
    let custom = format!("trace {JWT}");
    let mut headers: Vec<(&str, &str)> = HEADERS.to_vec();
    headers.push(("Referer", &referer));
    headers.push(("X-Debug", &custom));
    let send = |mode: &'static str, tail: &'static str| {
        let path = format!("/leak/{tail}?mode={mode}{query}");
        let headers = headers.clone();
        async move { host::request(addr, "GET", &path, &headers, "").await.status }
    };
    // A typical duration first, then every kind of record.
    for _ in 0..12 {
        assert_eq!(send("fast", "plain").await, 200);
    }
    spine::flush();
    for tail in [JWT, PATH_TOKEN] {
        assert_eq!(send("slow", tail).await, 200);
        assert_eq!(send("fail", tail).await, 502);
        assert_eq!(send("capture", tail).await, 200);
        assert_eq!(send("panic", tail).await, 500);
    }
    spine::flush();

    let conn = spine::db(db);
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
    assert!(
        count("SELECT count(*) FROM outlier") >= 1,
        "an outlier kept URL and headers"
    );
    assert!(
        count("SELECT count(*) FROM exception_occurrence") >= 6,
        "errors were stored"
    );
    let scrubbed =
        count("SELECT count(*) FROM exception_message WHERE message LIKE '%[scrubbed]%'");
    assert!(scrubbed >= 3, "messages keep their text around [scrubbed]");

    let corpus = corpus();
    assert!(corpus.len() >= 30, "{} secrets", corpus.len());
    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        if let Ok(b) = std::fs::read(format!("{}{suffix}", db.display())) {
            bytes.extend(b);
        }
    }
    let leaked: Vec<&&str> = corpus
        .iter()
        .filter(|s| bytes.windows(s.len()).any(|w| w == s.as_bytes()))
        .collect();
    assert!(leaked.is_empty(), "in the database file: {leaked:?}");
}
