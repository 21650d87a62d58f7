//! `fmd serve` over real HTTP on 127.0.0.1: the built binary answers its login page, the
//! first admin comes from FMD_PASSWORD, and SIGTERM stops it cleanly.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Db;

/// Kills the server if the test fails before stopping it.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// One HTTP/1.0 GET; `None` while nothing listens.
fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[test]
fn serve_answers_the_login_page_and_stops_on_sigterm() {
    let db = Db::standard();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_fmd"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("FMD_DATABASE", &db.path)
        .env("FMD_USERNAME", "ops")
        .env("FMD_PASSWORD", "correct horse battery")
        .env_remove("FMD_DASHBOARD_PATH")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fmd serve");
    let mut server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    let login = loop {
        if let Some(response) = get(port, "/dashboard/login") {
            break response;
        }
        assert!(
            Instant::now() < deadline,
            "fmd serve did not answer within 60 s"
        );
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("fmd serve exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        login.starts_with("HTTP/1.0 200") || login.starts_with("HTTP/1.1 200"),
        "{login}"
    );
    assert!(login.contains("name=\"password\""), "{login}");

    // Every other page needs a session.
    let overview = get(port, "/dashboard/").expect("an answer");
    assert!(!overview.contains(" 200 "), "{overview}");
    let root = get(port, "/").expect("an answer");
    assert!(
        root.contains("location: /dashboard/") || root.contains("Location: /dashboard/"),
        "{root}"
    );

    // The first admin came from FMD_USERNAME / FMD_PASSWORD.
    let run = db.fmd(&["users", "list"], "", &[]);
    assert_eq!(run.stdout, "ops\tadmin\n", "{run:?}");

    let pid = server.0.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = server.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "fmd serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "graceful shutdown exits 0: {status}");
}

#[test]
fn serve_refuses_a_bad_session_timeout_naming_the_variable() {
    let db = Db::standard();
    let run = db.fmd(
        &["serve", "--listen", &format!("127.0.0.1:{}", free_port())],
        "",
        &[("FMD_SESSION_LIFETIME_HOURS", "twelve")],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("FMD_SESSION_LIFETIME_HOURS") && run.stderr.contains("positive number"),
        "{}",
        run.stderr
    );
}
