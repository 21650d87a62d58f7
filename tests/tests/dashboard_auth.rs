//! Every dashboard route needs a session, admin routes an admin, every POST a CSRF token.
//!
//! The routes come from `fmd_dashboard::route_table()`, the same table the router is built
//! from, so a route added later is checked here without editing this file. The tests that
//! need no SQLite file of their own run over both engines.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use fmd_dashboard::host::{Host, HostStatus};
use fmd_dashboard::{Access, Dashboard, route_table};
use fmd_tests::dashboard_fixture::{Fixture, csrf_in};
use fmd_tests::engines::Engine;
use fmd_tests::{both_engines, vals};
use parking_lot::Mutex;
use tower::ServiceExt;

const BASE: &str = "/dashboard";

/// Remembers level changes pushed to the "running application".
#[derive(Default)]
struct RecordingHost(Mutex<Vec<(String, Option<u8>)>>);

impl Host for RecordingHost {
    fn set_endpoint_level(&self, endpoint: &str, level: Option<u8>) {
        self.0.lock().push((endpoint.to_owned(), level));
    }
    fn status(&self) -> HostStatus {
        HostStatus::default()
    }
}

fn app(fx: &Fixture, host: Arc<RecordingHost>) -> Router {
    Router::new().nest(
        BASE,
        Dashboard::new(fx.database())
            .admin("admin", "admin-secret-1")
            .host(host)
            .router(),
    )
}

fn concrete(path: &str) -> String {
    fmd_tests::dashboard_fixture::concrete(BASE, path)
}

struct Resp {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    cookie: Option<&str>,
    form: Option<&str>,
    extra: &[(&str, &str)],
) -> Resp {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    for (k, v) in extra {
        b = b.header(*k, *v);
    }
    let req = match form {
        Some(f) => b
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(f.to_owned())),
        None => b.body(Body::empty()),
    }
    .expect("request");
    let res = app.clone().oneshot(req).await.expect("response");
    let status = res.status();
    let headers = res.headers().clone();
    let body = to_bytes(res.into_body(), 10 << 20).await.expect("body");
    Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn set_cookie(r: &Resp, name: &str) -> Option<(String, String)> {
    r.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let (kv, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = kv.split_once('=')?;
            (k == name).then(|| (val.to_owned(), v.to_owned()))
        })
}

/// Logs in and returns the session cookie header and the session's CSRF token.
async fn login(app: &Router, user: &str, pass: &str) -> (String, String) {
    let (token, field) = login_form(app, &[]).await;
    let body = format!("username={user}&password={pass}&csrf={field}");
    let res = loop {
        let res = send(
            app,
            "POST",
            &format!("{BASE}/login"),
            Some(&format!("fmd_login={token}")),
            Some(&body),
            &[],
        )
        .await;
        // At most two password checks run at once in the process; other tests of this
        // binary may be checking theirs.
        if !(res.status == StatusCode::TOO_MANY_REQUESTS && res.body.contains("busy")) {
            break res;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(
        res.status,
        StatusCode::SEE_OTHER,
        "login of {user} failed: {}",
        res.body
    );
    let (sid, _) = set_cookie(&res, "fmd_session").expect("session cookie");
    let cookie = format!("fmd_session={sid}");
    let page = send(app, "GET", BASE, Some(&cookie), None, &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    (
        cookie,
        csrf_in(&page.body).expect("csrf field on the overview"),
    )
}

async fn every_route_rejects_requests_without_a_session(engine: Engine) {
    let fx = Fixture::on(engine);
    fx.endpoint("app::index");
    let app = app(&fx, Default::default());
    let routes = route_table();
    assert!(routes.len() >= 10, "the table lists the routes");
    for r in routes.iter().filter(|r| r.access != Access::Public) {
        let uri = concrete(r.path);
        for cookie in [None, Some("fmd_session=forged"), Some("fmd_session=")] {
            let res = send(
                &app,
                r.method,
                &uri,
                cookie,
                Some("csrf=x&level=1&weeks=0"),
                &[],
            )
            .await;
            if let Access::Bearer(_) | Access::SessionOrBearer(_) = r.access {
                // Machine routes answer 401 (or 404: the API is off without its token).
                let expected = match r.access {
                    Access::Bearer(fmd_dashboard::Token::Api) => StatusCode::NOT_FOUND,
                    _ => StatusCode::UNAUTHORIZED,
                };
                assert_eq!(res.status, expected, "{} {uri} with {cookie:?}", r.method);
            } else if r.method == "GET" {
                assert_eq!(
                    res.status,
                    StatusCode::SEE_OTHER,
                    "{} {uri} with {cookie:?}",
                    r.method
                );
                let to = res
                    .headers
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok());
                assert_eq!(to, Some("/dashboard/login"));
            } else {
                assert_eq!(
                    res.status,
                    StatusCode::UNAUTHORIZED,
                    "{} {uri} with {cookie:?}",
                    r.method
                );
            }
            assert!(!res.body.contains("app::index"), "no data leaks from {uri}");
        }
    }
}

async fn every_post_rejects_a_missing_or_wrong_csrf_token(engine: Engine) {
    let fx = Fixture::on(engine);
    let ep = fx.endpoint("app::index");
    let host = Arc::new(RecordingHost::default());
    let app = app(&fx, host.clone());
    let (cookie, csrf) = login(&app, "admin", "admin-secret-1").await;
    let posts: Vec<_> = route_table()
        .into_iter()
        .filter(|r| r.method == "POST" && r.access != Access::Public)
        .collect();
    assert!(posts.len() >= 4);
    for r in &posts {
        let uri = concrete(r.path);
        for form in [
            "level=1&weeks=0",
            "level=1&weeks=0&csrf=",
            "level=1&weeks=0&csrf=0123abcd",
        ] {
            let res = send(&app, "POST", &uri, Some(&cookie), Some(form), &[]).await;
            assert_eq!(
                res.status,
                StatusCode::FORBIDDEN,
                "POST {uri} with {form:?}"
            );
        }
    }
    // Nothing happened; with the token the same request goes through.
    assert!(host.0.lock().is_empty());
    let ok = send(
        &app,
        "POST",
        &format!("{BASE}/endpoint/{ep}/level"),
        Some(&cookie),
        Some(&format!("level=3&csrf={csrf}")),
        &[],
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
}

#[tokio::test]
async fn the_login_form_needs_its_own_token() {
    let fx = Fixture::new();
    let app = app(&fx, Default::default());
    let res = send(
        &app,
        "POST",
        &format!("{BASE}/login"),
        None,
        Some("username=admin&password=admin-secret-1&csrf=x"),
        &[],
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(set_cookie(&res, "fmd_session").is_none());
}

/// A login form's CSRF cookie value and the token of its hidden field.
async fn login_form(app: &Router, extra: &[(&str, &str)]) -> (String, String) {
    let form = send(app, "GET", &format!("{BASE}/login"), None, None, extra).await;
    let (cookie, _) = set_cookie(&form, "fmd_login").expect("login cookie");
    let field = csrf_in(&form.body).expect("a csrf field in the login form");
    (cookie, field)
}

async fn level_changes_are_stored_and_pushed_to_the_running_application(engine: Engine) {
    let fx = Fixture::on(engine);
    let ep = fx.endpoint("app::forecast");
    let host = Arc::new(RecordingHost::default());
    let app = app(&fx, host.clone());
    let (cookie, csrf) = login(&app, "admin", "admin-secret-1").await;
    let res = send(
        &app,
        "POST",
        &format!("{BASE}/endpoint/{ep}/level"),
        Some(&cookie),
        Some(&format!("level=3&csrf={csrf}")),
        &[],
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        host.0.lock().as_slice(),
        &[("app::forecast".to_owned(), Some(3))]
    );
    let stored = fx
        .db
        .query_i64("SELECT level FROM endpoint WHERE id = ?1", vals![ep]);
    assert_eq!(
        stored,
        Some(3),
        "survives a restart: the monitor reads endpoint.level"
    );
    let res = send(
        &app,
        "POST",
        &format!("{BASE}/endpoint/{ep}/level"),
        Some(&cookie),
        Some(&format!("level=&csrf={csrf}")),
        &[],
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let stored = fx
        .db
        .query_i64("SELECT level FROM endpoint WHERE id = ?1", vals![ep]);
    assert_eq!(stored, None, "back to the default");
    let bad = send(
        &app,
        "POST",
        &format!("{BASE}/endpoint/{ep}/level"),
        Some(&cookie),
        Some(&format!("level=7&csrf={csrf}")),
        &[],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

async fn viewers_read_but_cannot_change_anything(engine: Engine) {
    let fx = Fixture::on(engine);
    let ep = fx.endpoint("app::index");
    let hash = fmd_dashboard::auth::password::hash("viewer-secret-1").unwrap();
    fx.db.exec(
        "INSERT INTO fmd_user (username, password_hash, role, created_at) VALUES ('viewer', ?1, 'viewer', 0)",
        vals![hash],
    );
    let app = app(&fx, Default::default());
    let (cookie, csrf) = login(&app, "viewer", "viewer-secret-1").await;
    // Logout last: it ends the session.
    for r in route_table()
        .iter()
        .filter(|r| r.access != Access::Public && r.path != "/logout")
    {
        let uri = concrete(r.path);
        let res = send(
            &app,
            r.method,
            &uri,
            Some(&cookie),
            Some(&format!("level=1&weeks=0&csrf={csrf}")),
            &[],
        )
        .await;
        if r.access == Access::Admin {
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{} {uri}", r.method);
        } else {
            assert_ne!(res.status, StatusCode::FORBIDDEN, "{} {uri}", r.method);
            assert_ne!(res.status, StatusCode::UNAUTHORIZED, "{} {uri}", r.method);
        }
        assert_ne!(
            res.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{} {uri}: the store failed: {}",
            r.method,
            res.body
        );
    }
    let page = send(&app, "GET", BASE, Some(&cookie), None, &[]).await;
    assert!(
        !page.body.contains(&format!("/endpoint/{ep}/level")),
        "no level selector for viewers"
    );
}

#[tokio::test]
async fn sessions_are_fresh_per_login_cookies_are_locked_down_and_logout_ends_them() {
    let fx = Fixture::new();
    let app = app(&fx, Default::default());
    let (a, _) = login(&app, "admin", "admin-secret-1").await;
    let (b, csrf_b) = login(&app, "admin", "admin-secret-1").await;
    assert_ne!(a, b, "a new session id at every login");

    let form = send(
        &app,
        "GET",
        &format!("{BASE}/login"),
        None,
        None,
        &[("x-forwarded-proto", "https")],
    )
    .await;
    let (token, flags) = set_cookie(&form, "fmd_login").unwrap();
    assert!(
        flags.contains("HttpOnly") && flags.contains("SameSite=Strict") && flags.contains("Secure"),
        "{flags}"
    );
    let field = csrf_in(&form.body).expect("csrf field");
    let res = send(
        &app,
        "POST",
        &format!("{BASE}/login"),
        Some(&format!("fmd_login={token}")),
        Some(&format!(
            "username=admin&password=admin-secret-1&csrf={field}"
        )),
        &[("x-forwarded-proto", "https")],
    )
    .await;
    let (_, flags) = set_cookie(&res, "fmd_session").unwrap();
    assert!(
        flags.contains("HttpOnly") && flags.contains("SameSite=Strict") && flags.contains("Secure"),
        "{flags}"
    );
    assert!(flags.contains("Path=/dashboard"), "{flags}");

    let out = send(
        &app,
        "POST",
        &format!("{BASE}/logout"),
        Some(&b),
        Some(&format!("csrf={csrf_b}")),
        &[],
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = send(&app, "GET", BASE, Some(&b), None, &[]).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "the session is gone");
    let still = send(&app, "GET", BASE, Some(&a), None, &[]).await;
    assert_eq!(still.status, StatusCode::OK, "other sessions live on");
}

#[tokio::test]
async fn wrong_passwords_are_refused_and_then_throttled() {
    let fx = Fixture::new();
    let app = app(&fx, Default::default());
    let mut statuses = Vec::new();
    while statuses.len() < 7 {
        let (token, field) = login_form(&app, &[]).await;
        let res = send(
            &app,
            "POST",
            &format!("{BASE}/login"),
            Some(&format!("fmd_login={token}")),
            Some(&format!("username=admin&password=guess&csrf={field}")),
            &[],
        )
        .await;
        assert!(set_cookie(&res, "fmd_session").is_none());
        // "Busy" (other tests of the binary checking passwords) is not counted: try again.
        if !res.body.contains("busy checking other passwords") {
            statuses.push(res.status);
            if res.status == StatusCode::TOO_MANY_REQUESTS {
                assert!(
                    res.body.contains("Too many failed attempts"),
                    "{}",
                    res.body
                );
                assert!(res.headers.contains_key(header::RETRY_AFTER));
            }
        }
    }
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
    assert_eq!(
        *statuses.last().unwrap(),
        StatusCode::TOO_MANY_REQUESTS,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn only_the_hash_of_the_first_admin_is_stored() {
    let fx = Fixture::new();
    let _app = app(&fx, Default::default());
    let (name, hash, role): (String, String, String) = fx
        .conn()
        .query_row(
            "SELECT username, password_hash, role FROM fmd_user",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((name.as_str(), role.as_str()), ("admin", "admin"));
    assert!(hash.starts_with("$argon2id$") && !hash.contains("admin-secret-1"));
}

#[tokio::test]
async fn without_configured_credentials_a_password_is_generated() {
    let fx = Fixture::new();
    let _app = Dashboard::new(fx.path()).router();
    let n: i64 = fx
        .conn()
        .query_row("SELECT count(*) FROM fmd_user", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        n, 1,
        "an admin with a generated password (printed on stderr)"
    );
    let hash: String = fx
        .conn()
        .query_row("SELECT password_hash FROM fmd_user", [], |r| r.get(0))
        .unwrap();
    assert!(
        !fmd_dashboard::auth::password::verify("admin", &hash),
        "no default password"
    );
}

#[tokio::test]
async fn admins_create_viewer_accounts() {
    let fx = Fixture::new();
    let app = app(&fx, Default::default());
    let (cookie, csrf) = login(&app, "admin", "admin-secret-1").await;
    let short = send(
        &app,
        "POST",
        &format!("{BASE}/users"),
        Some(&cookie),
        Some(&format!(
            "username=v&password=short&role=viewer&csrf={csrf}"
        )),
        &[],
    )
    .await;
    assert_eq!(short.status, StatusCode::SEE_OTHER);
    let res = send(
        &app,
        "POST",
        &format!("{BASE}/users"),
        Some(&cookie),
        Some(&format!(
            "username=vera&password=long-enough-1&role=viewer&csrf={csrf}"
        )),
        &[],
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let page = send(
        &app,
        "GET",
        &format!("{BASE}/config"),
        Some(&cookie),
        None,
        &[],
    )
    .await;
    assert!(page.body.contains("vera"), "listed for admins");
    let (viewer, _) = login(&app, "vera", "long-enough-1").await;
    let page = send(
        &app,
        "GET",
        &format!("{BASE}/config"),
        Some(&viewer),
        None,
        &[],
    )
    .await;
    assert!(
        !page.body.contains("Add an account"),
        "viewers do not manage accounts"
    );
    let n: i64 = fx
        .conn()
        .query_row(
            "SELECT count(*) FROM fmd_user WHERE username = 'v'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0, "too-short passwords are refused");
}

both_engines!(
    async
    every_route_rejects_requests_without_a_session,
    every_post_rejects_a_missing_or_wrong_csrf_token,
    level_changes_are_stored_and_pushed_to_the_running_application,
    viewers_read_but_cannot_change_anything,
);
