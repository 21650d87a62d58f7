//! PostgreSQL over TLS against the throwaway cluster of scripts/test, which has `ssl=on`
//! with a CA of its own and a role (`FMD_TEST_POSTGRES_TLS_URL`) that pg_hba lets in over
//! TLS only: a connection as that role is encrypted or refused.
//!
//! Each test asks the server itself, through the store's own connection, whether the
//! connection is encrypted (`pg_stat_ssl`). A CA that did not sign the server's
//! certificate is made here with the openssl CLI.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use fmd_runtime::store::postgres::PgReader;
use fmd_tests::engines::{fresh_postgres_database, postgres_ca, postgres_tls_url, with_dbname};
use fmd_tests::host::{self, HostProcess};
use serde_json::Value;

const EXE: &str = env!("CARGO_BIN_EXE_fault_host");

/// A fresh database, addressed as the TLS-only role with `query` appended.
fn tls_database(query: &str) -> String {
    let admin = fresh_postgres_database();
    let name = admin
        .rsplit('/')
        .next()
        .expect("a database name")
        .to_owned();
    format!("{}?{query}", with_dbname(&postgres_tls_url(), &name))
}

/// Whether the server sees the store's connection as encrypted.
fn encrypted(reader: &mut PgReader) -> bool {
    reader
        .client()
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .expect("pg_stat_ssl")
        .get(0)
}

fn open(url: &str) -> Result<PgReader, String> {
    PgReader::open(url).map_err(|e| e.message)
}

#[test]
fn require_encrypts_and_the_tls_only_role_refuses_plain_connections() {
    let url = tls_database("sslmode=require");
    let mut reader = open(&url).expect("sslmode=require connects");
    assert!(encrypted(&mut reader), "sslmode=require: encrypted");
    drop(reader);
    // The role really is TLS-only, so the line above proves TLS was used.
    let plain = url.replace("sslmode=require", "sslmode=disable");
    let e = open(&plain)
        .err()
        .expect("plain refused for the TLS-only role");
    assert!(e.contains("no encryption"), "{e}");
}

#[test]
fn verify_full_with_the_servers_ca_connects_encrypted() {
    let url = tls_database(&format!(
        "sslmode=verify-full&sslrootcert={}",
        postgres_ca()
    ));
    let mut reader = open(&url).expect("verify-full with the right CA connects");
    assert!(encrypted(&mut reader));
}

#[test]
fn verify_full_with_another_ca_fails_and_says_why() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = dir.path().join("other-ca.pem");
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=another CA", "-keyout"])
        .arg(dir.path().join("other-ca.key"))
        .arg("-out")
        .arg(&ca)
        .output()
        .expect("run openssl (scripts/test installs it)");
    assert!(made.status.success(), "openssl: {made:?}");
    let url = tls_database(&format!("sslmode=verify-full&sslrootcert={}", ca.display()));
    let e = open(&url)
        .err()
        .expect("a certificate from another CA is refused");
    println!("FIGURES verify-full, wrong CA: {e}");
    assert!(e.contains("sslmode=verify-full"), "{e}");
    assert!(e.contains("certificate verify failed"), "{e}");
    // A CA file that does not exist is named as such.
    let url = tls_database("sslmode=verify-full&sslrootcert=/nonexistent/ca.pem");
    let e = open(&url).err().expect("no CA file");
    assert!(
        e.contains("cannot read sslrootcert /nonexistent/ca.pem"),
        "{e}"
    );
}

#[test]
fn prefer_and_no_sslmode_use_tls_when_offered_and_disable_stays_plain() {
    let admin = fresh_postgres_database();
    let mut reader = open(&admin).expect("no sslmode");
    assert!(
        encrypted(&mut reader),
        "no sslmode = prefer: TLS when the server offers it"
    );
    let mut reader = open(&format!("{admin}?sslmode=prefer")).expect("prefer");
    assert!(encrypted(&mut reader));
    let mut reader = open(&format!("{admin}?sslmode=disable")).expect("disable");
    assert!(!encrypted(&mut reader), "sslmode=disable: plain");
}

/// The first message of a connection: an `SSLRequest` or a plain startup message.
#[derive(Debug, PartialEq)]
enum Opening {
    TlsRequest,
    PlainStartup,
    Other([u8; 8]),
}

/// A server that answers a TLS request with `answer` and closes, noting how each
/// connection opened. `b"N"` is a server with `ssl=off`; `b"S"` and then bytes that are
/// no TLS handshake, a server whose TLS is broken.
fn fake_server(answer: &'static [u8]) -> (u16, std::sync::mpsc::Receiver<Opening>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let mut first = [0u8; 8];
            if stream.read_exact(&mut first).is_err() {
                continue;
            }
            // Length, then the request code: 80877103 asks for TLS, 196608 is protocol 3.0.
            let opening = match u32::from_be_bytes([first[4], first[5], first[6], first[7]]) {
                80_877_103 => Opening::TlsRequest,
                196_608 => Opening::PlainStartup,
                _ => Opening::Other(first),
            };
            // Noted before answering, so the client's error comes after the note.
            let answers = opening == Opening::TlsRequest;
            let _ = tx.send(opening);
            if answers {
                let _ = stream.write_all(answer);
            }
        }
    });
    (port, rx)
}

fn openings(rx: &std::sync::mpsc::Receiver<Opening>) -> Vec<Opening> {
    rx.try_iter().collect()
}

#[test]
fn require_against_a_server_without_tls_says_so() {
    let (port, rx) = fake_server(b"N");
    let e = open(&format!(
        "postgres://fmd@127.0.0.1:{port}/fmd?sslmode=require&connect_timeout=10"
    ))
    .err()
    .expect("no TLS, no connection");
    println!("FIGURES require, server without TLS: {e}");
    assert!(e.contains("sslmode=require"), "{e}");
    assert!(e.contains("server does not support TLS"), "{e}");
    assert_eq!(
        openings(&rx),
        [Opening::TlsRequest],
        "never a plain connection"
    );
}

#[test]
fn prefer_falls_back_to_plain_when_the_tls_handshake_fails_and_require_does_not() {
    let garbage: &'static [u8] = b"Snot a TLS server hello at all\n";
    let (port, rx) = fake_server(garbage);
    let url = format!("postgres://fmd@127.0.0.1:{port}/fmd?connect_timeout=10");
    // The fake server closes after the startup message, so the connection fails anyway;
    // what matters is how the client opened each connection.
    let e = open(&format!("{url}&sslmode=prefer"))
        .err()
        .expect("the fake closes");
    println!("FIGURES prefer, broken TLS: {e}");
    assert_eq!(
        openings(&rx),
        [Opening::TlsRequest, Opening::PlainStartup],
        "TLS first, then plain"
    );
    let (port, rx) = fake_server(garbage);
    let url = format!("postgres://fmd@127.0.0.1:{port}/fmd?connect_timeout=10");
    let e = open(&format!("{url}&sslmode=require"))
        .err()
        .expect("no TLS");
    println!("FIGURES require, broken TLS: {e}");
    assert!(e.contains("error performing TLS handshake"), "{e}");
    assert_eq!(
        openings(&rx),
        [Opening::TlsRequest],
        "never a plain connection"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitored_app_stores_its_requests_over_verify_full() {
    let url = tls_database(&format!(
        "sslmode=verify-full&sslrootcert={}",
        postgres_ca()
    ));
    let app = HostProcess::start(EXE, &url, &[]);
    let load = host::load(app.addr, 2, 200, Duration::from_secs(60)).await;
    assert_eq!(load.correct, load.sent, "every answer right");
    let end = app.shutdown();
    assert_eq!(end["flushed"], true, "{end}");
    let stats = &end["stats"];
    assert!(
        stats["last_storage_error"].is_null(),
        "no storage error: {stats}"
    );
    assert_eq!(stats["events_dropped"], Value::from(0), "{stats}");
    let stored: i64 = tokio::task::spawn_blocking(move || {
        let mut reader = open(&url).expect("reopen over TLS");
        assert!(encrypted(&mut reader));
        reader
            .client()
            .query_one("SELECT count(*) FROM request_text", &[])
            .expect("count")
            .get(0)
    })
    .await
    .expect("count task");
    println!(
        "FIGURES monitored app over verify-full: sent={} stored={stored}",
        load.sent
    );
    assert!(load.sent > 0);
    assert_eq!(stored as u64, load.sent, "every request stored over TLS");
}
