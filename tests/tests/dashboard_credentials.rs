//! Credentials over real HTTP on 127.0.0.1 with a real SQLite file: changing one's own
//! password, an admin resetting a password or removing an account, "log out everywhere",
//! and sessions that end when idle and after their lifetime.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use fmd_dashboard::Dashboard;
use fmd_tests::dashboard_fixture::{Fixture, csrf_in};
use fmd_tests::http::{self, Response, login, try_login};

const BASE: &str = "/dashboard";
const ADMIN_PASSWORD: &str = "admin-secret-1";

async fn serve_dashboard(dashboard: Dashboard) -> SocketAddr {
    http::serve_with_connect_info(Router::new().nest(BASE, dashboard.router())).await
}

async fn serve(fx: &Fixture) -> SocketAddr {
    serve_dashboard(Dashboard::new(fx.database()).admin("admin", ADMIN_PASSWORD)).await
}

/// `GET path` with a session cookie.
async fn get(addr: SocketAddr, session: &str, path: &str) -> Response {
    http::get(addr, &format!("{BASE}{path}"), &[("cookie", session)]).await
}

/// The session's CSRF token, from its overview page.
async fn csrf(addr: SocketAddr, session: &str) -> String {
    let page = get(addr, session, "").await;
    assert_eq!(page.status, 200, "the session is live");
    csrf_in(&page.body).expect("a csrf field")
}

/// `POST path` with a session cookie and a form (the session's CSRF token is added).
async fn post(addr: SocketAddr, session: &str, path: &str, form: &str) -> Response {
    let token = csrf(addr, session).await;
    http::send(
        addr,
        "POST",
        &format!("{BASE}{path}"),
        &[
            ("cookie", session),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        format!("{form}&csrf={token}"),
    )
    .await
}

/// Whether `session` still opens the overview (a dead one is sent to the login form).
async fn live(addr: SocketAddr, session: &str) -> bool {
    match get(addr, session, "").await.status {
        200 => true,
        303 => false,
        s => panic!("unexpected status {s}"),
    }
}

fn location(res: &Response) -> &str {
    res.header("location").unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_ones_password_needs_the_current_one_and_ends_the_other_sessions() {
    let fx = Fixture::new();
    let addr = serve(&fx).await;
    let here = login(addr, BASE, "admin", ADMIN_PASSWORD).await;
    let elsewhere = login(addr, BASE, "admin", ADMIN_PASSWORD).await;
    let page = get(addr, &here, "/account").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Change your password"), "{}", page.body);
    assert!(page.body.contains("Log out everywhere"));

    let new = "a-new-secret-2";
    let refused = [
        (format!("current=wrong-one-0&new={new}&confirm={new}"), 403),
        (
            format!("current={ADMIN_PASSWORD}&new={new}&confirm=other-secret-3"),
            400,
        ),
        (
            format!("current={ADMIN_PASSWORD}&new=short&confirm=short"),
            400,
        ),
    ];
    for (form, status) in &refused {
        let res = loop {
            let res = post(addr, &here, "/account/password", form).await;
            if !http::busy(&res) {
                break res;
            }
        };
        assert_eq!(res.status, *status, "{form}: {}", res.body);
        assert!(res.body.contains("nothing changed"), "{}", res.body);
    }
    assert!(live(addr, &elsewhere).await, "nothing changed");

    let form = format!("current={ADMIN_PASSWORD}&new={new}&confirm={new}");
    let res = loop {
        let res = post(addr, &here, "/account/password", &form).await;
        if !http::busy(&res) {
            break res;
        }
    };
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(location(&res), "/dashboard/account?notice=password_changed");
    assert!(live(addr, &here).await, "this session stays");
    assert!(!live(addr, &elsewhere).await, "the other session ended");
    let old = try_login(None, addr, BASE, "admin", ADMIN_PASSWORD).await;
    assert_eq!(old.status, 401, "the old password no longer works");
    login(addr, BASE, "admin", new).await;
    let stored: String = fx
        .conn()
        .query_row("SELECT password_hash FROM fmd_user", [], |r| r.get(0))
        .expect("the admin's row");
    assert!(stored.starts_with("$argon2id$") && !stored.contains(new));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_reset_passwords_and_remove_accounts_which_ends_their_sessions() {
    let fx = Fixture::new();
    let addr = serve(&fx).await;
    let admin = login(addr, BASE, "admin", ADMIN_PASSWORD).await;
    let res = post(
        addr,
        &admin,
        "/users",
        "username=vera&password=vera-secret-1&role=viewer",
    )
    .await;
    assert_eq!(location(&res), "/dashboard/config?notice=user_created");
    let vera = login(addr, BASE, "vera", "vera-secret-1").await;

    // A viewer does neither.
    for path in ["/users/password", "/users/delete"] {
        let res = post(addr, &vera, path, "username=admin&password=taken-over-1").await;
        assert_eq!(res.status, 403, "{path}");
    }
    login(addr, BASE, "admin", ADMIN_PASSWORD).await;

    // A reset: too short refused; then set, and vera's session ends.
    let res = post(
        addr,
        &admin,
        "/users/password",
        "username=vera&password=short",
    )
    .await;
    assert_eq!(location(&res), "/dashboard/config?notice=user_invalid");
    assert!(live(addr, &vera).await);
    let res = post(
        addr,
        &admin,
        "/users/password",
        "username=vera&password=vera-secret-2",
    )
    .await;
    assert_eq!(location(&res), "/dashboard/config?notice=password_reset");
    assert!(!live(addr, &vera).await, "reset: logged out everywhere");
    let old = try_login(None, addr, BASE, "vera", "vera-secret-1").await;
    assert_eq!(old.status, 401);
    let vera = login(addr, BASE, "vera", "vera-secret-2").await;
    let res = post(
        addr,
        &admin,
        "/users/password",
        "username=nobody&password=vera-secret-2",
    )
    .await;
    assert_eq!(location(&res), "/dashboard/config?notice=user_missing");

    // Removal: not oneself; another account goes with its sessions.
    let res = post(addr, &admin, "/users/delete", "username=admin").await;
    assert_eq!(location(&res), "/dashboard/config?notice=user_self");
    let page = get(addr, &admin, "/config?notice=user_self").await;
    assert!(page.body.contains("You cannot remove your own account."));
    let res = post(addr, &admin, "/users/delete", "username=vera").await;
    assert_eq!(location(&res), "/dashboard/config?notice=user_deleted");
    assert!(!live(addr, &vera).await, "removed: logged out everywhere");
    let gone = try_login(None, addr, BASE, "vera", "vera-secret-2").await;
    assert_eq!(gone.status, 401);
    let res = post(addr, &admin, "/users/delete", "username=vera").await;
    assert_eq!(location(&res), "/dashboard/config?notice=user_missing");
    let page = get(addr, &admin, "/config").await;
    assert!(!page.body.contains(">vera<"), "no longer listed");
    let users: i64 = fx
        .conn()
        .query_row("SELECT count(*) FROM fmd_user", [], |r| r.get(0))
        .expect("count");
    assert_eq!(users, 1, "only the admin is left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_out_everywhere_ends_every_session_of_the_account_only() {
    let fx = Fixture::new();
    let addr = serve(&fx).await;
    let admin = login(addr, BASE, "admin", ADMIN_PASSWORD).await;
    post(
        addr,
        &admin,
        "/users",
        "username=vera&password=vera-secret-1&role=viewer",
    )
    .await;
    let vera = login(addr, BASE, "vera", "vera-secret-1").await;
    let (a, b) = (
        login(addr, BASE, "admin", ADMIN_PASSWORD).await,
        login(addr, BASE, "admin", ADMIN_PASSWORD).await,
    );
    let res = post(addr, &a, "/logout", "everywhere=1").await;
    assert_eq!(res.status, 303);
    assert_eq!(location(&res), "/dashboard/login");
    for s in [&admin, &a, &b] {
        assert!(!live(addr, s).await, "every admin session ended");
    }
    assert!(live(addr, &vera).await, "other accounts keep theirs");
    // A plain logout ends only its own session.
    let (c, d) = (
        login(addr, BASE, "admin", ADMIN_PASSWORD).await,
        login(addr, BASE, "admin", ADMIN_PASSWORD).await,
    );
    post(addr, &c, "/logout", "").await;
    assert!(!live(addr, &c).await && live(addr, &d).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_when_idle_and_after_their_lifetime() {
    let fx = Fixture::new();
    let short = Duration::from_secs(1);
    let hour = Duration::from_secs(3600);
    let dashboard = || Dashboard::new(fx.database()).admin("admin", ADMIN_PASSWORD);
    let idle = serve_dashboard(dashboard().session_timeouts(short, hour)).await;
    let lifetime = serve_dashboard(dashboard().session_timeouts(hour, short)).await;
    let default = serve_dashboard(dashboard()).await;
    let sessions = [
        (idle, login(idle, BASE, "admin", ADMIN_PASSWORD).await),
        (
            lifetime,
            login(lifetime, BASE, "admin", ADMIN_PASSWORD).await,
        ),
        (default, login(default, BASE, "admin", ADMIN_PASSWORD).await),
    ];
    let page = get(default, &sessions[2].1, "/account").await;
    assert!(
        page.body.contains("2 h without use, 12 h after the login"),
        "the defaults are shown: {}",
        page.body
    );
    // Past both short spans (waiting longer only makes them more over).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!live(idle, &sessions[0].1).await, "idle for over 1 s");
    assert!(!live(lifetime, &sessions[1].1).await, "older than 1 s");
    assert!(
        live(default, &sessions[2].1).await,
        "defaults: 2 h idle, 12 h"
    );
}

#[test]
fn a_short_fmd_password_stops_the_host_at_start_up_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fault_host"))
        .current_dir(dir.path())
        .env("FMD_DATABASE", dir.path().join("fmd.db"))
        .env("FMD_PASSWORD", "short-pw-1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run fault_host");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(!out.status.success(), "the host must not start: {stdout}");
    assert!(!stdout.contains("listening"), "{stdout}");
    assert!(
        stderr.contains("FMD_PASSWORD") && stderr.contains("at least 12 characters"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("short-pw-1"),
        "the password is never printed"
    );
    assert!(!dir.path().join("fmd.db").exists(), "nothing was created");
}
