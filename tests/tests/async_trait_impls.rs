//! `#[monitored]` and `#[capture]` inside `#[async_trait]` impls: `#[async_trait]` on the
//! impl expands first and turns each `async fn` into a `fn` returning a boxed future, which
//! the attributes used to time as a plain function that only built it: no frame while the
//! body ran, no `Err` seen (the output was the box). The future inside is wrapped now.
//!
//! Methods are named with their type, learned from `Self` (`V1::version`): two types'
//! methods of one name are two endpoints, and an associated function that names `Self`
//! keeps its type in frames (`Timestamp::now`, not `now`).

use async_trait::async_trait;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::spine;

#[derive(Debug)]
struct Broken(&'static str);

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Broken {}

impl axum::response::IntoResponse for Broken {
    fn into_response(self) -> axum::response::Response {
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}

#[async_trait]
trait Api {
    async fn version(&self) -> Result<String, Broken>;
    async fn stored(&self) -> Result<u32, Broken>;
}

struct V1;

#[async_trait]
impl Api for V1 {
    #[monitored]
    async fn version(&self) -> Result<String, Broken> {
        let n = self.stored().await?; // hop:version-stored
        Ok(format!("v{n}"))
    }

    #[capture]
    async fn stored(&self) -> Result<u32, Broken> {
        tokio::task::yield_now().await;
        Err(Broken("the version store is broken")) // hop:stored
    }
}

struct V2;

#[async_trait]
impl Api for V2 {
    #[monitored]
    async fn version(&self) -> Result<String, Broken> {
        let at = Timestamp::parse("yesterday")?; // hop:v2-parse
        Ok(format!("v2 at {}", at.0))
    }

    async fn stored(&self) -> Result<u32, Broken> {
        Ok(2)
    }
}

struct Timestamp(u64);

impl Timestamp {
    #[capture]
    fn parse(text: &str) -> Result<Self, Broken> {
        match text.parse() {
            Ok(n) => Ok(Timestamp(n)),
            Err(_) => Err(Broken("not a timestamp")), // hop:timestamp
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attributes_inside_async_trait_impls_see_the_body_run() {
    let db = spine::start();
    let addr = spine::serve(
        Router::new()
            .route("/version", get(|| async { V1.version().await }))
            .route("/v2", get(|| async { V2.version().await })),
    )
    .await;
    assert_eq!(spine::get(addr, "/version").await.status, 500);
    assert_eq!(spine::get(addr, "/v2").await.status, 500);
    spine::flush();
    let conn = spine::db(db);
    let endpoints: Vec<String> = conn
        .prepare(
            "SELECT e.name FROM request_text r JOIN endpoint e ON e.id = r.endpoint_id ORDER BY r.id",
        )
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        endpoints,
        [
            "async_trait_impls::V1::version",
            "async_trait_impls::V2::version"
        ],
        "one endpoint per type"
    );
    let text = include_str!("async_trait_impls.rs");
    let frames: Vec<(String, u32)> = spine::trace_of(&conn, "the version store is broken")
        .into_iter()
        .map(|f| (f.function, f.line))
        .collect();
    assert_eq!(
        frames,
        [
            (
                "V1::stored".to_owned(),
                spine::line_of(text, "// hop:stored")
            ),
            (
                "V1::version".to_owned(),
                spine::line_of(text, "// hop:version-stored")
            ),
        ]
    );
    // An associated function keeps its type in frames.
    let frames: Vec<(String, u32)> = spine::trace_of(&conn, "not a timestamp")
        .into_iter()
        .map(|f| (f.function, f.line))
        .collect();
    assert_eq!(
        frames,
        [
            (
                "Timestamp::parse".to_owned(),
                spine::line_of(text, "// hop:timestamp")
            ),
            (
                "V2::version".to_owned(),
                spine::line_of(text, "// hop:v2-parse")
            ),
        ]
    );
}
