//! Errors written through the real writer for the issue tests: functions with the source
//! a test gives them, errors raised through a chain of them, batches stamped with a
//! version.

use std::borrow::Cow;
use std::sync::Arc;

use crate::browser::{XSS_ATTR, XSS_SCRIPT};
use crate::dashboard_fixture::now_ms;
use crate::engines::off_runtime;
use fmd_runtime::Database;
use fmd_runtime::model::event::{ErrorKind, ErrorRecord, Event, RequestEvent, TraceFrame};
use fmd_runtime::model::function::{FnInfo, FnKind, FnSite};
use fmd_runtime::store::{WriteOptions, open_store};

/// A function of the fake application: `module::name` with `source` (its code hash is
/// the source's length and bytes, so an edit changes it).
pub fn function(module: &'static str, name: &'static str, source: &str) -> &'static FnInfo {
    function_in(module, name, "src/app.rs", source)
}

/// [`function`] in the file `file`.
pub fn function_in(
    module: &'static str,
    name: &'static str,
    file: &'static str,
    source: &str,
) -> &'static FnInfo {
    let source: &'static str = Box::leak(source.to_owned().into_boxed_str());
    let hash = source.bytes().fold(source.len() as u64, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    });
    Box::leak(Box::new(FnInfo::new(FnSite {
        name,
        endpoint: None,
        module,
        file,
        start_line: 10,
        end_line: 10 + source.lines().count() as u32,
        source,
        verbatim: true,
        code_hash: hash,
        kind: FnKind::Capture,
        crate_name: "app",
        crate_version: "1.0.0",
        manifest_dir: "",
        build_commit: "",
        method: false,
    })))
}

/// An error of `type_name` with `message` at `time_ms`, raised in `frames[0]` (innermost
/// first) on line 11 of each.
pub fn error(
    type_name: &'static str,
    message: &str,
    frames: &[&'static FnInfo],
    time_ms: i64,
) -> ErrorRecord {
    ErrorRecord {
        kind: ErrorKind::Captured,
        type_name: Cow::Borrowed(type_name),
        message: message.to_owned(),
        sources: vec![],
        frames: frames
            .iter()
            .map(|info| TraceFrame::App {
                info,
                line: 11,
                repeat: 1,
            })
            .collect(),
        omitted_frames: 0,
        time_ms,
        native: None,
    }
}

/// What the writer stamps on a batch of `version`.
pub fn options(version: &str) -> WriteOptions {
    WriteOptions {
        version: version.into(),
        instance: "web-1".into(),
        store_source: true,
        normalize_messages: false,
        git_commit: None,
    }
}

/// A failed request to `endpoint` at `time_ms` that recorded `errors`.
fn failed_request(endpoint: &'static str, time_ms: i64, errors: Vec<ErrorRecord>) -> Event {
    request(endpoint, time_ms, 500, errors)
}

/// A request to `endpoint` (route `/orders/{id}`, 1 ms) at `time_ms` answered with
/// `status`, that recorded `errors`.
pub fn request(
    endpoint: &'static str,
    time_ms: i64,
    status: u16,
    errors: Vec<ErrorRecord>,
) -> Event {
    Event::Request(Box::new(RequestEvent {
        endpoint: Cow::Borrowed(endpoint),
        route: Arc::from("/orders/{id}"),
        method: Cow::Borrowed("GET"),
        time_ms,
        duration_us: 1_000,
        status: Some(status),
        cancelled: false,
        level: 1,
        ip: None,
        group_by: None,
        errors,
        outlier: None,
        profile: None,
        link: None,
    }))
}

/// Writes `events` in one batch of `version`, through the real writer's store.
pub fn write_events(database: &Database, version: &str, events: &[Event]) {
    let mut store = open_store(database).expect("open the store");
    store
        .write_batch(events, &options(version))
        .expect("write the batch");
}

/// Writes `errors` in one batch of `version`, each in a failed request of its own to
/// `shop::orders::show` (so the request carries the version, as in a real service).
pub fn write(database: &Database, version: &str, errors: Vec<ErrorRecord>) {
    write_on(database, version, "shop::orders::show", errors);
}

/// [`write()`] on the endpoint `endpoint`.
pub fn write_on(
    database: &Database,
    version: &str,
    endpoint: &'static str,
    errors: Vec<ErrorRecord>,
) {
    let events: Vec<Event> = errors
        .into_iter()
        .map(|e| failed_request(endpoint, e.time_ms, vec![e]))
        .collect();
    write_events(database, version, &events);
}

/// Writes one failed request of `version` at `time_ms` that recorded all of `errors`.
pub fn write_one_request(
    database: &Database,
    version: &str,
    time_ms: i64,
    errors: Vec<ErrorRecord>,
) {
    write_events(
        database,
        version,
        &[failed_request("shop::orders::show", time_ms, errors)],
    );
}

/// The source of the failing function before and after a deploy; the new one carries a
/// script tag and an attribute breaker, as hostile source text could.
pub const BEFORE: &str =
    "fn load(id: u64) -> Result<Order, Error> {\n    let o = db::find(id)?;\n    Ok(o)\n}";
pub const AFTER: &str = "fn load(id: u64) -> Result<Order, Error> {\n    let s = \"<script>window.__xss=1</script>\";\n    let o = db::find(id)?;\n    Ok(o)\n}";

/// An issue with two variants: version 1.0.0, a clean 1.1.0 (another error only), and
/// 1.2.0 with the edited function; both messages carry hostile markup (the same
/// normalized message). The issue is the one of type `shop::NotFound`.
pub fn seed_hostile_issue(db: &Database) {
    let now = now_ms();
    let handler = function("shop::orders", "show", "fn show() {\n    load(1)?;\n}");
    let before = function("shop::orders", "load", BEFORE);
    let after = function("shop::orders", "load", AFTER);
    let other = function("shop::cart", "add", "fn add() {\n    put()?;\n}");
    let db = db.clone();
    off_runtime(move || {
        write(
            &db,
            "1.0.0",
            vec![error(
                "shop::NotFound",
                &format!("order 1 missing {XSS_SCRIPT} {XSS_ATTR}"),
                &[before, handler],
                now - 5000,
            )],
        );
        write(
            &db,
            "1.1.0",
            vec![error("shop::Full", "cart full", &[other], now - 4000)],
        );
        let hostile = format!("order 2 missing {XSS_SCRIPT} {XSS_ATTR}");
        write(
            &db,
            "1.2.0",
            vec![error(
                "shop::NotFound",
                &hostile,
                &[after, handler],
                now - 3000,
            )],
        );
    });
}

/// The admin's password of [`dashboard`].
pub const ADMIN_PASSWORD: &str = "correct-horse-7";

/// A dashboard on `db` under `/dashboard`, on 127.0.0.1: user `admin` with
/// [`ADMIN_PASSWORD`], the JSON API behind `token`.
pub async fn dashboard(db: &Database, token: &str) -> std::net::SocketAddr {
    dashboard_with(db, token, |d| d).await
}

/// [`dashboard`], configured further by `configure`.
pub async fn dashboard_with(
    db: &Database,
    token: &str,
    configure: impl FnOnce(fmd_dashboard::Dashboard) -> fmd_dashboard::Dashboard,
) -> std::net::SocketAddr {
    let dashboard = fmd_dashboard::Dashboard::new(db.clone())
        .admin("admin", ADMIN_PASSWORD)
        .api_token(Some(token));
    let router = axum::Router::new().nest("/dashboard", configure(dashboard).router());
    let base = crate::dashboard_fixture::serve(router).await;
    base.trim_start_matches("http://").parse().expect("address")
}
