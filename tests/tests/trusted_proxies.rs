//! Behind a trusted proxy the stored client address is the one the proxy forwarded for;
//! the same header from anyone else is ignored (here: the proxy is 127.0.0.1, the test's
//! own address, as configured with `FMD_TRUSTED_PROXIES`). Through the axum layer and
//! through the actix-web middleware.

use axum::Router;
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::{host, spine};

#[monitored]
async fn whoami() -> &'static str {
    "you"
}

/// Starts fmd with 127.0.0.0/8 as trusted proxies (whichever test comes first).
fn start() -> &'static std::path::Path {
    spine::start_with(|c| {
        c.trusted_proxies = fmd_runtime::request::parse_trusted("127.0.0.0/8").expect("valid")
    })
}

/// Sends three requests to `path` (forwarded by X-Forwarded-For, by Forwarded, and not
/// at all) and asserts the stored client addresses.
async fn assert_forwarded_clients(db: &std::path::Path, addr: std::net::SocketAddr, path: &str) {
    for headers in [
        vec![("X-Forwarded-For", "203.0.113.7, 127.0.0.9")],
        vec![("Forwarded", "for=\"[2001:db8::7]:4711\";proto=https")],
        vec![],
    ] {
        let reply = host::request(addr, "GET", path, &headers, "").await;
        assert_eq!(reply.status, 200);
    }
    spine::flush();
    let ips: Vec<Option<String>> = spine::db(db)
        .prepare("SELECT ip FROM request_text WHERE route = ?1 ORDER BY id")
        .expect("prepare")
        .query_map([path], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        ips,
        [
            Some("203.0.113.7".to_owned()),
            Some("2001:db8::7".to_owned()),
            Some("127.0.0.1".to_owned())
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forwarded_client_is_stored_behind_a_trusted_proxy() {
    let db = start();
    let addr = spine::serve(Router::new().route("/whoami", get(whoami))).await;
    assert_forwarded_clients(db, addr, "/whoami").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forwarded_client_is_stored_behind_a_trusted_proxy_under_actix() {
    let db = start();
    let addr = fmd_tests::actix::serve(|app| {
        app.route("/whoami-actix", actix_web::web::get().to(whoami));
    });
    assert_forwarded_clients(db, addr, "/whoami-actix").await;
}
