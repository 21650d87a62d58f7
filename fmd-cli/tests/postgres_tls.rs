//! The `fmd` command on a PostgreSQL URL with `sslmode=verify-full`, against the
//! throwaway cluster of scripts/test (`FMD_TEST_POSTGRES_URL`, `FMD_TEST_POSTGRES_TLS_URL`
//! for a role allowed over TLS only, `FMD_TEST_POSTGRES_CA`): it reads what the library
//! wrote over TLS, and a CA that did not sign the server's certificate is a clear failure.

mod common;

use common::{fmd, now_ms, request, value};
use fmd_runtime::Database;
use fmd_runtime::store::{WriteOptions, open_store};

fn var(name: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not set: this test needs the PostgreSQL server with TLS that \
             scripts/test starts (and whose FMD_TEST_POSTGRES_* variables it sets)"
            )
        })
}

/// A fresh database; its URL as the TLS-only role, with `query`.
fn tls_database(query: &str) -> String {
    let name = format!(
        "fmd_cli_tls_{}_{}",
        std::process::id(),
        now_ms() % 1_000_000
    );
    let admin = var("FMD_TEST_POSTGRES_URL");
    // The driver blocks on a runtime of its own: keep it off the test's thread-locals.
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut client = postgres::Client::connect(&admin, postgres::NoTls)
                .unwrap_or_else(|e| panic!("connect to {admin}: {e}"));
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("CREATE DATABASE");
        });
    });
    let base = var("FMD_TEST_POSTGRES_TLS_URL");
    let server = base.rsplit_once('/').expect("a database in the URL").0;
    format!("{server}/{name}?{query}")
}

#[test]
fn fmd_check_reads_over_verify_full_and_refuses_a_foreign_ca() {
    let url = tls_database(&format!(
        "sslmode=verify-full&sslrootcert={}",
        var("FMD_TEST_POSTGRES_CA")
    ));
    let mut store = open_store(&Database::parse(&url)).expect("the store over TLS");
    let options = WriteOptions {
        version: "1.2.3".into(),
        instance: "web-1".into(),
        store_source: false,
        normalize_messages: false,
        git_commit: None,
    };
    let now = now_ms();
    let events = [
        request("app::items", now - 1_000, 200),
        request("app::orders", now - 500, 500),
    ];
    store
        .write_batch(&events, &options)
        .expect("write a batch over TLS");
    drop(store);

    let run = fmd(&[], &["check", "--database", &url], "", &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(value(&run.stdout, "requests:"), 2, "{}", run.stdout);
    assert!(run.stdout.contains("sslmode=verify-full"), "{}", run.stdout);

    // The system's CAs did not sign the test server's certificate.
    let system = url.replace(&var("FMD_TEST_POSTGRES_CA"), "system");
    let run = fmd(&[("FMD_DATABASE", &system)], &["check"], "", &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("certificate verify failed"),
        "{}",
        run.stderr
    );
}
