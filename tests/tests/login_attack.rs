//! The login under attack, over real HTTP on 127.0.0.1 with a real SQLite file: bounded
//! password checks and memory while the host keeps answering, throttling per client
//! address and account, and an admin who still gets in from elsewhere.
//!
//! The server is a host route plus the dashboard, served with connect info (as
//! `fmd::axum::bind` users do) so the dashboard sees each client's address. Clients bind
//! to 127.0.0.1 or 127.0.0.2 to be two different addresses. The tests of this binary run
//! one at a time: the limit of concurrent password checks, and their counter, are
//! process-wide.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use fmd_dashboard::Dashboard;
use fmd_dashboard::auth::password;
use fmd_runtime::process::resident_bytes;
use fmd_tests::dashboard_fixture::Fixture;
use fmd_tests::http::{self, Response, busy, set_cookie, try_login};

const ADMIN_PASSWORD: &str = "admin-secret-1";
const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
const ELSEWHERE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// One test at a time (see the module documentation).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Serves `/hello` (the host's own route) and the dashboard at `/dashboard`.
async fn serve(fx: &Fixture) -> SocketAddr {
    let dashboard = Dashboard::new(fx.database()).admin("admin", ADMIN_PASSWORD);
    let app = Router::new()
        .route("/hello", get(|| async { "hello" }))
        .nest("/dashboard", dashboard.router());
    http::serve_with_connect_info(app).await
}

/// A login form's CSRF cookie (`fmd_login=..`) and token.
async fn login_token(addr: SocketAddr) -> (String, String) {
    let form = http::get(addr, "/dashboard/login", &[]).await;
    let cookie = set_cookie(&form, "fmd_login").expect("login cookie");
    let token = fmd_tests::dashboard_fixture::csrf_in(&form.body).expect("csrf field");
    (cookie, token)
}

/// Submits a login from `from` with the form token already fetched.
async fn submit(
    from: IpAddr,
    addr: SocketAddr,
    form: &(String, String),
    username: &str,
    password: &str,
) -> Response {
    submit_with(from, addr, form, username, password, &[]).await
}

/// [`submit`] with `extra` headers.
async fn submit_with(
    from: IpAddr,
    addr: SocketAddr,
    (cookie, token): &(String, String),
    username: &str,
    password: &str,
    extra: &[(&str, &str)],
) -> Response {
    let mut headers = vec![
        ("cookie", cookie.as_str()),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    headers.extend_from_slice(extra);
    http::send_from(
        Some(from),
        addr,
        "POST",
        "/dashboard/login",
        &headers,
        format!("username={username}&password={password}&csrf={token}"),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_wrong_logins_check_few_passwords_in_bounded_memory() {
    let _serial = SERIAL.lock().await;
    let fx = Fixture::new();
    let addr = serve(&fx).await;
    let form = login_token(addr).await;
    assert_eq!(http::get(addr, "/hello", &[]).await.status, 200);

    // Resident memory, sampled every millisecond on a thread of its own.
    let before = resident_bytes().expect("resident memory on Linux");
    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if let Some(now) = resident_bytes() {
                    peak.fetch_max(now, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    // The host's own route, asked again and again while the attack runs.
    let prober = {
        let done = done.clone();
        tokio::spawn(async move {
            let (mut statuses, mut worst) = (Vec::new(), Duration::ZERO);
            while !done.load(Ordering::Relaxed) {
                let t = Instant::now();
                statuses.push(http::get(addr, "/hello", &[]).await.status);
                worst = worst.max(t.elapsed());
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (statuses, worst)
        })
    };

    let checks_before = password::checks();
    let started = Instant::now();
    let attempts: Vec<_> = (0..200)
        .map(|i| {
            let form = form.clone();
            tokio::spawn(async move {
                submit(ATTACKER, addr, &form, "admin", &format!("guess-{i}")).await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for a in attempts {
        let res = a.await.expect("attempt task");
        assert!(set_cookie(&res, "fmd_session").is_none());
        statuses.push(res.status);
    }
    let attack = started.elapsed();
    let checks = password::checks() - checks_before;
    done.store(true, Ordering::Relaxed);
    let (host_statuses, worst) = prober.await.expect("prober task");
    sampler.join().expect("sampler thread");
    let grown = peak.load(Ordering::Relaxed).saturating_sub(before);

    let refused = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    println!(
        "200 concurrent wrong logins in {attack:?}: {checks} password checks, {refused} × 401, \
         {limited} × 429; resident memory grew {:.1} MiB (peak); host route: {} answers, \
         worst {worst:?}",
        grown as f64 / (1 << 20) as f64,
        host_statuses.len(),
    );
    assert_eq!(refused + limited, 200, "only 401 and 429: {statuses:?}");
    assert!(refused >= 1, "the first attempts are checked");
    assert!(checks <= 10, "{checks} password checks");
    assert_eq!(
        refused as u64, checks,
        "every 401 is one check, nothing else"
    );
    assert!(grown < 64 << 20, "resident memory grew {grown} bytes");
    assert!(!host_statuses.is_empty());
    assert!(
        host_statuses.iter().all(|s| *s == 200),
        "the host route answered throughout: {host_statuses:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attacker_cannot_lock_out_the_admin_who_logs_in_from_elsewhere() {
    let _serial = SERIAL.lock().await;
    let fx = Fixture::new();
    let addr = serve(&fx).await;
    let form = login_token(addr).await;

    // The attacker guesses the admin's password until throttled...
    let mut guessed = Vec::new();
    while guessed.last() != Some(&429) {
        let res = submit(ATTACKER, addr, &form, "admin", "guess").await;
        if !busy(&res) {
            guessed.push(res.status);
        }
        assert!(
            guessed.len() <= 10,
            "throttled within 10 attempts: {guessed:?}"
        );
    }
    assert!(guessed[..guessed.len() - 1].iter().all(|s| *s == 401));
    // ...then sprays other accounts from the same address until throttled there too.
    let mut sprayed = Vec::new();
    for i in 0..20 {
        let res = submit(ATTACKER, addr, &form, &format!("user{i}"), "guess").await;
        if !busy(&res) {
            sprayed.push(res.status);
        }
    }
    assert_eq!(sprayed.last(), Some(&429), "the address waits: {sprayed:?}");
    let res = submit(ATTACKER, addr, &form, "admin", ADMIN_PASSWORD).await;
    assert_eq!(
        res.status, 429,
        "even the right password waits at this address"
    );

    // The admin at another address gets in at once, and the dashboard opens.
    let res = try_login(Some(ELSEWHERE), addr, "/dashboard", "admin", ADMIN_PASSWORD).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let session = set_cookie(&res, "fmd_session").expect("a session");
    let page = http::get(addr, "/dashboard", &[("cookie", &session)]).await;
    assert_eq!(page.status, 200);
    // A colleague at the admin's address mistyping once changes nothing for the admin.
    let typo = try_login(Some(ELSEWHERE), addr, "/dashboard", "vera", "typo").await;
    assert_eq!(typo.status, 401);
    let again = try_login(Some(ELSEWHERE), addr, "/dashboard", "admin", ADMIN_PASSWORD).await;
    assert_eq!(again.status, 303, "{}", again.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_usernames_are_refused_before_anything_is_checked_or_stored() {
    let _serial = SERIAL.lock().await;
    let fx = Fixture::new();
    let addr = serve(&fx).await;
    let form = login_token(addr).await;
    let checks_before = password::checks();
    let long = "a".repeat(65);
    for _ in 0..20 {
        let res = submit(ATTACKER, addr, &form, &long, "guess").await;
        assert_eq!(res.status, 400);
        assert!(res.body.contains("at most 64 bytes"), "{}", res.body);
    }
    assert_eq!(password::checks(), checks_before, "no password checked");
    // A huge form is not even read.
    let huge = "a".repeat(20 << 10);
    let res = submit(ATTACKER, addr, &form, &huge, "guess").await;
    assert_eq!(res.status, 413);
    // Not counted as failures: the right password still gets in from this address.
    let res = try_login(Some(ATTACKER), addr, "/dashboard", "admin", ADMIN_PASSWORD).await;
    assert_eq!(res.status, 303, "{}", res.body);
    // 64 bytes is a username like any other.
    let res = submit(ATTACKER, addr, &form, &"a".repeat(64), "guess").await;
    assert!(res.status == 401 || busy(&res), "{}", res.status);
}

/// Asserts that a login was answered 403 without a session.
fn refused(what: &str, res: Response) {
    assert_eq!(res.status, 403, "{what}: {}", res.body);
    assert!(set_cookie(&res, "fmd_session").is_none(), "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_token_the_server_did_not_issue_is_refused_before_any_password_check() {
    let _serial = SERIAL.lock().await;
    let fx = Fixture::new();
    let addr = serve(&fx).await;
    let checks = password::checks();
    let admin = |form| async move { submit(ATTACKER, addr, &form, "admin", ADMIN_PASSWORD).await };
    // The double submit of old: any value, as long as cookie and field agree.
    let made_up = "0123456789abcdef".repeat(4);
    let forged = (format!("fmd_login={made_up}"), made_up.clone());
    refused("self-made cookie and field", admin(forged).await);
    // A real form's cookie copied into the field; a real field on a cookie of one's own.
    let (cookie, field) = login_token(addr).await;
    let copied = cookie.split_once('=').map(|(_, v)| v.to_owned()).unwrap();
    refused(
        "the cookie as the field",
        admin((cookie.clone(), copied)).await,
    );
    let own_cookie = (format!("fmd_login={made_up}"), field.clone());
    refused("a real field on another cookie", admin(own_cookie).await);
    // A form another dashboard (another process key) issued.
    let other = serve(&Fixture::new()).await;
    refused(
        "another dashboard's form",
        admin(login_token(other).await).await,
    );
    // A real form, sent from another site (browsers say so in Sec-Fetch-Site).
    let cross = [("sec-fetch-site", "cross-site")];
    let form = (cookie, field);
    refused(
        "cross-site",
        submit_with(ATTACKER, addr, &form, "admin", ADMIN_PASSWORD, &cross).await,
    );
    assert_eq!(password::checks(), checks, "no password was checked");
    // The form as the server issued it logs in, from the same origin or the address bar.
    for site in ["same-origin", "none"] {
        let form = login_token(addr).await;
        let fetch = [("sec-fetch-site", site)];
        let res = submit_with(ATTACKER, addr, &form, "admin", ADMIN_PASSWORD, &fetch).await;
        assert_eq!(res.status, 303, "{site}: {}", res.body);
        assert!(set_cookie(&res, "fmd_session").is_some());
    }
}
