//! The dashboard's database work runs on its own two threads: with the database locked by
//! another connection, a flood of authenticated page requests is answered (503 at once
//! when the queue is full, or after the statement limit) while the host's own
//! `tokio::task::spawn_blocking` work keeps running as if nothing happened.
//!
//! Real HTTP on 127.0.0.1; a real SQLite file locked by a second connection (in WAL mode
//! only a connection in exclusive locking mode that was there first keeps readers out, so
//! the lock is taken before the dashboard starts and the requests carry the JSON API's
//! bearer token), and a real PostgreSQL table locked by `LOCK TABLE` in another session
//! (there the requests are logged in, the lock taken afterwards).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use axum::Router;
use fmd_dashboard::Dashboard;
use fmd_runtime::Database;
use fmd_runtime::store::AnyReader;
use fmd_tests::engines::{Engine, fresh_database, off_runtime};
use fmd_tests::http;

const PASSWORD: &str = "admin-secret-1";
const TOKEN: &str = "api-token-of-the-pool-test";
/// Page requests fired while the file is locked.
const PAGES: usize = 600;
/// The host's own blocking tasks, one after another, while the database is locked (at
/// least; they go on until every page is answered).
const PROBES: usize = 50;
/// The longest the test keeps the database locked if the probes or the pages never
/// finish (longer than the dashboard's statement limit and answer wait, 10 and 15 s).
const LOCK_AT_MOST: Duration = Duration::from_secs(30);

/// Serves the dashboard at `/dashboard`. The router is built on a thread of its own:
/// building it waits a moment for the database, and that must not be a runtime thread.
async fn serve(database: Database) -> SocketAddr {
    let router = std::thread::spawn(move || {
        Dashboard::new(database)
            .admin("admin", PASSWORD)
            .api_token(Some(TOKEN))
            .router()
    })
    .join()
    .expect("build the router");
    http::serve_with_connect_info(Router::new().nest("/dashboard", router)).await
}

/// A lock held on a thread of its own until [`Lock::release`] or [`LOCK_AT_MOST`].
struct Lock {
    release: mpsc::Sender<()>,
    holder: std::thread::JoinHandle<bool>,
}

impl Lock {
    /// Runs `lock` on a new thread, keeps what it returns (the locking connection) until
    /// released, then runs `unlock` on it.
    fn hold<C: 'static>(
        lock: impl FnOnce() -> C + Send + 'static,
        unlock: impl FnOnce(C) + Send + 'static,
    ) -> Lock {
        let (locked_tx, locked_rx) = mpsc::channel();
        let (release, release_rx) = mpsc::channel();
        let holder = std::thread::spawn(move || {
            let conn = lock();
            locked_tx.send(()).expect("report the lock");
            let released = release_rx.recv_timeout(LOCK_AT_MOST).is_ok();
            unlock(conn);
            released
        });
        locked_rx.recv().expect("the lock is taken");
        Lock { release, holder }
    }

    /// Releases the lock; whether that came before [`LOCK_AT_MOST`] ran out.
    fn release(self) -> bool {
        let _ = self.release.send(());
        self.holder.join().expect("lock thread")
    }
}

/// Locks the SQLite file at `path` for every connection opened afterwards (exclusive
/// locking mode and a write in an open transaction: in WAL mode even readers are refused).
fn lock_sqlite(path: PathBuf) -> Lock {
    Lock::hold(
        move || {
            let conn = rusqlite::Connection::open(&path).expect("open the file");
            conn.execute_batch(
                "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;
                 UPDATE fmd_meta SET value = value WHERE key = 'schema_version';",
            )
            .expect("lock the file");
            conn
        },
        |conn| conn.execute_batch("ROLLBACK").expect("unlock"),
    )
}

/// Locks the tables the overview reads in the PostgreSQL database at `url` (`ACCESS
/// EXCLUSIVE`: even readers wait).
fn lock_postgres(url: String) -> Lock {
    Lock::hold(
        move || {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
            client
                .batch_execute(
                    "BEGIN; LOCK TABLE endpoint, request, duration_daily, exception_group \
                     IN ACCESS EXCLUSIVE MODE;",
                )
                .expect("lock the tables");
            client
        },
        |mut client| client.batch_execute("ROLLBACK").expect("unlock"),
    )
}

/// Whether another connection to the SQLite file is refused at once (the lock holds).
fn refused(path: &Path) -> bool {
    let conn = rusqlite::Connection::open(path).expect("open the file");
    conn.busy_timeout(Duration::ZERO).expect("busy timeout");
    conn.query_row("SELECT count(*) FROM fmd_meta", [], |r| r.get::<_, i64>(0))
        .is_err()
}

/// What a flood found.
struct Flood {
    statuses: Vec<u16>,
    worst_page: Duration,
    probes: Vec<Duration>,
    probes_took: Duration,
    released_in_time: bool,
}

/// Fires [`PAGES`] requests for `path` with `headers` at once and, until every one is
/// answered, runs host `spawn_blocking` tasks one after another; then releases `lock`.
async fn flood(
    addr: SocketAddr,
    path: &'static str,
    headers: Vec<(String, String)>,
    lock: Lock,
) -> Flood {
    let started = Instant::now();
    let requests: Vec<_> = (0..PAGES)
        .map(|_| {
            let headers = headers.clone();
            tokio::spawn(async move {
                let headers: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let t = Instant::now();
                let res = http::get(addr, path, &headers).await;
                (res.status, t.elapsed())
            })
        })
        .collect();
    let pages = tokio::spawn(async move {
        let mut statuses = Vec::new();
        let mut worst_page = Duration::ZERO;
        for r in requests {
            let (status, took) = r.await.expect("page request task");
            statuses.push(status);
            worst_page = worst_page.max(took);
        }
        (statuses, worst_page)
    });
    // The host's own blocking work, one task after another, until every page is answered.
    let mut probes = Vec::new();
    while probes.len() < PROBES || !pages.is_finished() {
        let t = Instant::now();
        tokio::task::spawn_blocking(|| std::hint::black_box(1 + 1))
            .await
            .expect("host blocking task");
        probes.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let probes_took = started.elapsed();
    let (statuses, worst_page) = pages.await.expect("pages task");
    // Released here only if the probes finished and every page was answered while the
    // lock was held (else it ran out first).
    let released_in_time = lock.release();
    Flood {
        statuses,
        worst_page,
        probes,
        probes_took,
        released_in_time,
    }
}

impl Flood {
    /// Prints the figures and checks them: every probe done and every page answered 503
    /// while the lock was held.
    fn check(&self, what: &str) {
        let ok = self.statuses.iter().filter(|s| **s == 200).count();
        let busy = self.statuses.iter().filter(|s| **s == 503).count();
        let worst_probe = self.probes.iter().max().copied().unwrap_or_default();
        println!(
            "{what}: {PAGES} page requests: {ok} × 200, {busy} × 503, worst answer {:?}; \
             {} host spawn_blocking tasks in {:?}, worst latency {worst_probe:?}",
            self.worst_page,
            self.probes.len(),
            self.probes_took,
        );
        assert!(
            self.released_in_time,
            "every host spawn_blocking task finished, and every page was answered, while \
             the database was locked"
        );
        assert!(self.probes.len() >= PROBES);
        assert_eq!(busy, PAGES, "503 while locked: {:?}", self.statuses);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_sqlite_file_leaves_the_hosts_blocking_threads_free() {
    let (database, _dir) = fresh_database(Engine::Sqlite);
    drop(off_runtime(|| {
        AnyReader::open(&database).expect("create the schema")
    }));
    let path = database.sqlite_path().expect("a file").to_owned();
    let lock = lock_sqlite(path.clone());
    assert!(refused(&path), "the file is locked for other connections");

    let addr = serve(database).await;
    let auth = vec![("authorization".to_owned(), format!("Bearer {TOKEN}"))];
    let flood = flood(addr, "/dashboard/api/v1/endpoints", auth.clone(), lock).await;
    flood.check("SQLite file locked");
    let headers = [("authorization", auth[0].1.as_str())];
    let after = http::get(addr, "/dashboard/api/v1/endpoints", &headers).await;
    assert_eq!(after.status, 200, "the dashboard answers after the lock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_postgres_table_leaves_the_hosts_blocking_threads_free() {
    let (database, _) = fresh_database(Engine::Postgres);
    let Database::Postgres(url) = database.clone() else {
        unreachable!("a PostgreSQL database")
    };
    let addr = serve(database).await;
    let cookie = http::login(addr, "/dashboard", "admin", PASSWORD).await;
    assert_eq!(
        http::get(addr, "/dashboard", &[("cookie", &cookie)])
            .await
            .status,
        200
    );
    let lock = lock_postgres(url);

    let flood = flood(
        addr,
        "/dashboard",
        vec![("cookie".to_owned(), cookie.clone())],
        lock,
    )
    .await;
    flood.check("PostgreSQL tables locked");
    let after = http::get(addr, "/dashboard", &[("cookie", &cookie)]).await;
    assert_eq!(after.status, 200, "the dashboard answers after the lock");
}
