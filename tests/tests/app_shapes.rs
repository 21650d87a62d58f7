//! The shapes real axum applications have: a stateful router bound before or after
//! `with_state`, and an application that already owns the dashboard's path.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::http::serve_with_connect_info;
use fmd_tests::spine;
use std::sync::Arc;

#[derive(Clone)]
struct Db {
    greeting: Arc<str>,
}

#[monitored]
async fn hello(State(db): State<Db>) -> String {
    format!("{} from state", db.greeting)
}

#[monitored]
async fn health() -> &'static str {
    "ok"
}

#[monitored(level = 3)]
async fn profiled() -> &'static str {
    "deep"
}

fn hits(db: &std::path::Path, endpoint: &str) -> i64 {
    spine::db(db)
        .query_row(
            "SELECT count(*) FROM request_text r JOIN endpoint e ON e.id = r.endpoint_id
             WHERE e.name = ?1",
            [endpoint],
            |r| r.get(0),
        )
        .expect("count requests")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stateful_router_binds_before_and_after_with_state() {
    let db = spine::start();
    let state = Db {
        greeting: Arc::from("hi"),
    };
    // The README's shape: bind first, then give the state.
    let before =
        fmd::axum::bind(Router::new().route("/hello", get(hello))).with_state(state.clone());
    // And the other order.
    let after = fmd::axum::bind(
        Router::new()
            .route("/hello", get(hello))
            .route("/health", get(health))
            .route("/profiled", get(profiled))
            .with_state(state),
    );
    let a = serve_with_connect_info(before).await;
    let b = serve_with_connect_info(after).await;
    for addr in [a, b] {
        let reply = spine::get(addr, "/hello").await;
        assert_eq!(reply.status, 200);
        assert!(reply.body.contains("hi from state"), "{}", reply.body);
    }
    assert_eq!(spine::get(b, "/health").await.status, 200);
    assert_eq!(spine::get(b, "/profiled").await.status, 200);
    // Both routers also serve the dashboard (its login form).
    assert_eq!(spine::get(a, "/dashboard/login").await.status, 200);
    assert_eq!(spine::get(b, "/dashboard/login").await.status, 200);
    spine::flush();
    assert_eq!(hits(db, "app_shapes::hello"), 2);
    assert_eq!(hits(db, "app_shapes::health"), 1);

    // The overview names the level in force and where it comes from, not just "default".
    let cookie = fmd_tests::http::login(b, "/dashboard", "admin", "test-password").await;
    let page = fmd_tests::http::get(b, "/dashboard", &[("Cookie", &cookie)]).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("default: 3 (attribute)"),
        "level = 3 in the attribute"
    );
    assert!(
        page.body.contains("default: 1 (configuration)"),
        "the configured level"
    );
}

#[tokio::test]
async fn an_application_route_at_the_dashboard_path_is_a_clear_error() {
    spine::start();
    let taken: Router = Router::new().route("/dashboard", get(|| async { "mine" }));
    let err = fmd::axum::try_bind(taken).expect_err("the path is taken");
    let text = err.to_string();
    assert!(text.contains("FMD_DASHBOARD_PATH"), "{text}");
    assert!(text.contains("/dashboard"), "{text}");
}
