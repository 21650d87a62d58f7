//! Storage faults under load, shutdown, `kill -9` and several processes on one file.
//!
//! The host is a separate process (`fault_host`: the weather example behind
//! `fmd::axum::bind`); this test is its client on 127.0.0.1 and the fault injector. Each
//! scenario measures the host's latency before, during and after the fault and prints it
//! as a `FIGURES` line (copied into RELIABILITY.md); the asserts are on correctness and
//! counts only: every answer right, every event either stored or counted as dropped, the
//! writer back by itself, the configuration page telling what happened.

use fmd_tests::host::{self, HostProcess, Load};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

const EXE: &str = env!("CARGO_BIN_EXE_fault_host");

/// One scenario at a time: they measure latency and share two cores.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A small queue, so that a fault of a few seconds overflows it.
const SMALL_QUEUE: &[(&str, &str)] = &[("FMD_QUEUE_CAPACITY", "256")];

fn fresh_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("fmd.db");
    (dir, db)
}

fn n(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// What one fault scenario saw.
struct Run {
    before: Load,
    during: Load,
    after: Load,
    dropped: u64,
    last_error: String,
}

impl Run {
    fn sent(&self) -> u64 {
        self.before.sent + self.during.sent + self.after.sent
    }

    fn print(&self, scenario: &str, stored: u64) {
        println!(
            "FIGURES {scenario}: sent={} stored={stored} dropped={} | before: {} | during: {} | after: {} | last error: {}",
            self.sent(),
            self.dropped,
            self.before.summary(),
            self.during.summary(),
            self.after.summary(),
            self.last_error
        );
    }
}

fn assert_all_correct(load: &Load, phase: &str) {
    assert_eq!(load.correct, load.sent, "every answer right {phase}");
    assert!(load.sent > 0, "requests were sent {phase}");
}

/// The configuration page of the host shows the drops and the last storage error.
async fn config_page_tells(h: &HostProcess, dropped: u64, error_part: &str) {
    let cookie = host::login(h.addr).await;
    let page = host::request(
        h.addr,
        "GET",
        "/dashboard/config",
        &[("Cookie", &cookie)],
        "",
    )
    .await;
    assert_eq!(page.status, 200);
    let dropped_cell = format!("<span class=\"badge bad\">{dropped}</span>");
    assert!(
        page.body.contains(&dropped_cell),
        "the page shows {dropped} drops"
    );
    assert!(
        page.body.contains(error_part),
        "the page shows the storage error ({error_part:?})"
    );
}

/// Loads the host, starts the fault with `inject`, loads it for `during`, ends the fault
/// with `clear`, loads again, and checks that every event was stored or counted.
async fn fault_under_load(
    h: &HostProcess,
    during: Duration,
    inject: impl FnOnce(),
    clear: impl FnOnce(),
) -> Run {
    let before = host::load(h.addr, 4, 600, Duration::from_secs(30)).await;
    assert_all_correct(&before, "before the fault");
    let s0 = h.settle(Duration::from_secs(30)).await;
    // Not asserted to be 0: the writer's first panic loads the binary's debug info to
    // resolve the backtrace, and on a loaded machine the small queue can fill meanwhile.
    // Drops before the fault still count in the final sent == stored + dropped check.
    println!("dropped before the fault: {}", n(&s0, "events_dropped"));

    inject();
    let during_load = host::load(h.addr, 4, u64::MAX, during).await;
    clear();
    assert_all_correct(&during_load, "during the fault");

    let after = host::load(h.addr, 4, 300, Duration::from_secs(30)).await;
    assert_all_correct(&after, "after the fault");
    let s1 = h.settle(Duration::from_secs(60)).await;
    assert_eq!(
        s1["storage_failing"], false,
        "the writer recovered by itself"
    );
    assert_eq!(
        n(&s1, "events_stored"),
        n(&s1, "events_queued"),
        "everything queued was stored"
    );
    Run {
        before,
        during: during_load,
        after,
        dropped: n(&s1, "events_dropped"),
        last_error: s1["last_storage_error"].as_str().unwrap_or("").to_owned(),
    }
}

/// Shuts the host down and checks sent == stored + dropped against the file.
fn finish(h: HostProcess, db: &Path, run: &Run, scenario: &str) {
    let end = h.shutdown();
    assert_eq!(end["flushed"], true);
    let stored = host::stored_requests(db);
    run.print(scenario, stored);
    assert_eq!(
        stored + run.dropped,
        run.sent(),
        "every event stored or counted as dropped"
    );
    assert_eq!(host::integrity(db), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_locked_by_another_process_for_10_s() {
    let _serial = SERIAL.lock().await;
    let (_dir, db) = fresh_db();
    let h = HostProcess::start(EXE, &db, SMALL_QUEUE);
    let locker = std::cell::RefCell::new(None);
    let run = fault_under_load(
        &h,
        Duration::from_secs(10),
        || {
            *locker.borrow_mut() = Some(host::lock_from_another_process(
                &db,
                Duration::from_secs(10),
            ))
        },
        || {
            let mut child = locker.borrow_mut().take().expect("locker");
            assert!(child.wait().expect("locker ends").success());
        },
    )
    .await;
    assert!(run.dropped > 0, "the queue overflowed during 10 s");
    assert!(run.last_error.contains("locked"), "{}", run.last_error);
    config_page_tells(&h, run.dropped, "database is locked").await;
    finish(h, &db, &run, "locked 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_file() {
    let _serial = SERIAL.lock().await;
    let (_dir, db) = fresh_db();
    let h = HostProcess::start(EXE, &db, SMALL_QUEUE);
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    let files = [db.to_str().unwrap(), wal.to_str().unwrap()];
    // Root ignores permission bits: the immutable attribute refuses even root's writes,
    // through file descriptors that are already open too.
    let run = fault_under_load(
        &h,
        Duration::from_secs(5),
        || host::run("chattr", &[&["+i"][..], &files].concat()),
        || host::run("chattr", &[&["-i"][..], &files].concat()),
    )
    .await;
    assert!(run.dropped > 0, "the queue overflowed while read-only");
    assert!(!run.last_error.is_empty());
    config_page_tells(&h, run.dropped, "fmd.db").await;
    finish(h, &db, &run, "read-only 5 s");
}

/// A size-limited tmpfs holding the database, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().expect("mount point");
        host::run(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "tmpfs",
                dir.path().to_str().unwrap(),
            ],
        );
        SmallDisk { dir }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk() {
    let _serial = SERIAL.lock().await;
    let disk = SmallDisk::mount("24m");
    let db = disk.dir.path().join("fmd.db");
    let ballast = disk.dir.path().join("ballast");
    let h = HostProcess::start(EXE, &db, SMALL_QUEUE);
    let run = fault_under_load(
        &h,
        Duration::from_secs(5),
        || {
            let bytes = host::fill(&ballast);
            println!("ballast: {bytes} bytes fill the disk");
        },
        || std::fs::remove_file(&ballast).expect("remove ballast"),
    )
    .await;
    assert!(
        run.dropped > 0,
        "the queue overflowed while the disk was full"
    );
    assert!(run.last_error.contains("full"), "{}", run.last_error);
    config_page_tells(&h, run.dropped, "full").await;
    finish(h, &db, &run, "disk full 5 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_database_file_is_recreated() {
    let _serial = SERIAL.lock().await;
    let (_dir, db) = fresh_db();
    let h = HostProcess::start(EXE, &db, SMALL_QUEUE);
    let before = host::load(h.addr, 4, 600, Duration::from_secs(30)).await;
    assert_all_correct(&before, "before deleting");
    let s0 = h.settle(Duration::from_secs(30)).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let during = host::load(h.addr, 4, 1500, Duration::from_secs(30)).await;
    assert_all_correct(&during, "after deleting");
    let s1 = h.settle(Duration::from_secs(30)).await;
    assert_eq!(s1["storage_failing"], false);
    let dropped = n(&s1, "events_dropped") - n(&s0, "events_dropped");
    let end = h.shutdown();
    assert_eq!(end["flushed"], true);
    let stored = host::stored_requests(&db);
    println!(
        "FIGURES deleted: sent after deletion={} stored in the new file={stored} dropped={dropped} | before: {} | after deletion: {}",
        during.sent,
        before.summary(),
        during.summary()
    );
    assert_eq!(
        stored + dropped,
        during.sent,
        "every event after the deletion is in the new file or counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_shutdown_stores_every_event() {
    let _serial = SERIAL.lock().await;
    let (_dir, db) = fresh_db();
    let h = HostProcess::start(EXE, &db, &[]);
    let load = host::load(h.addr, 8, 3000, Duration::from_secs(60)).await;
    assert_all_correct(&load, "under load");
    // No waiting: shut down while the writer may still be behind.
    let end = h.shutdown();
    assert_eq!(end["flushed"], true);
    let stored = host::stored_requests(&db);
    println!(
        "FIGURES clean shutdown: sent={} stored={stored} dropped={} | {}",
        load.sent,
        n(&end["stats"], "events_dropped"),
        load.summary()
    );
    assert_eq!(stored, load.sent, "count sent == count stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_at_most_the_last_moments() {
    let _serial = SERIAL.lock().await;
    let (_dir, db) = fresh_db();
    let h = HostProcess::start(EXE, &db, &[]);
    let addr = h.addr;
    let load = tokio::spawn(host::load(addr, 4, u64::MAX, Duration::from_secs(3)));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let killed_at = fmd_runtime::clock::now_ms();
    h.kill9();
    let load = load.await.expect("load");
    let answered = load.correct;
    let stored = host::stored_requests(&db);
    assert_eq!(host::integrity(&db), "ok", "the file survives kill -9");
    let last_stored: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT max(time) FROM request_text", [], |r| r.get(0))
        .unwrap();
    println!(
        "FIGURES kill -9: answered before the kill={answered} stored={stored} lost={} | newest stored request started {} ms before the kill | {}",
        answered.saturating_sub(stored),
        killed_at - last_stored,
        load.summary()
    );
    assert!(stored > 0 && stored <= answered, "{stored} of {answered}");

    // The next start on the same file works and stores.
    let h = HostProcess::start(EXE, &db, &[]);
    let more = host::load(h.addr, 2, 100, Duration::from_secs(30)).await;
    assert_all_correct(&more, "after the restart");
    h.shutdown();
    assert_eq!(host::stored_requests(&db), stored + 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_started_at_once_share_one_file() {
    let _serial = SERIAL.lock().await;
    let (_dir, db) = fresh_db();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let (db, barrier) = (db.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                HostProcess::start(EXE, &db, &[])
            })
        })
        .collect();
    let hosts: Vec<HostProcess> = starts
        .into_iter()
        .map(|t| t.join().expect("start"))
        .collect();
    let loads = futures_join(
        hosts
            .iter()
            .map(|h| host::load(h.addr, 2, 250, Duration::from_secs(60))),
    )
    .await;
    let mut sent = 0;
    for l in &loads {
        assert_all_correct(l, "on each process");
        sent += l.sent;
    }
    for h in hosts {
        let end = h.shutdown();
        assert_eq!(end["flushed"], true);
        let s = &end["stats"];
        assert_eq!(n(s, "events_dropped"), 0);
        assert!(s["last_storage_error"].is_null(), "no storage error: {s}");
    }
    let stored = host::stored_requests(&db);
    let instances: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT count(DISTINCT instance) FROM request_text",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let admins: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM fmd_user", [], |r| r.get(0))
        .unwrap();
    println!("FIGURES four processes: sent={sent} stored={stored} instances={instances}");
    assert_eq!(stored, sent, "every event of every process stored");
    assert_eq!(instances, 4);
    assert_eq!(admins, 1, "one first admin, not four");
}

/// Runs the futures concurrently on this task.
async fn futures_join<F: std::future::Future<Output = Load> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<Load> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("load task"));
    }
    out
}
