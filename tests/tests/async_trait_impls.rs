//! `#[monitored]` and `#[capture]` inside `#[async_trait]` impls: `#[async_trait]` on the
//! impl expands first and turns each `async fn` into a `fn` returning a boxed future, which
//! the attributes used to time as a plain function that only built it: no frame while the
//! body ran, no `Err` seen (the output was the box). The future inside is wrapped now.

use async_trait::async_trait;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::spine;

#[derive(Debug)]
struct Broken;

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the version store is broken")
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
        Err(Broken) // hop:stored
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attributes_inside_async_trait_impls_see_the_body_run() {
    let db = spine::start();
    let addr =
        spine::serve(Router::new().route("/version", get(|| async { V1.version().await }))).await;
    assert_eq!(spine::get(addr, "/version").await.status, 500);
    spine::flush();
    let conn = spine::db(db);
    let endpoint: String = conn
        .query_row(
            "SELECT e.name FROM request r JOIN endpoint e ON e.id = r.endpoint_id",
            [],
            |r| r.get(0),
        )
        .expect("one request");
    assert_eq!(endpoint, "async_trait_impls::version");
    let text = include_str!("async_trait_impls.rs");
    let frames: Vec<(String, u32)> = spine::trace_of(&conn, "the version store is broken")
        .into_iter()
        .map(|f| (f.function, f.line))
        .collect();
    assert_eq!(
        frames,
        [
            ("stored".to_owned(), spine::line_of(text, "// hop:stored")),
            (
                "version".to_owned(),
                spine::line_of(text, "// hop:version-stored")
            ),
        ]
    );
}
