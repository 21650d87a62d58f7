//! Alerts delivered for real: to an HTTP receiver this test starts on 127.0.0.1 (the
//! webhook's JSON) and through a real SMTP server (aiosmtpd, installed by
//! `scripts/test.d/pre-35-smtp.sh`, started here on a free port with its Mailbox handler).
//! An unreachable receiver is logged and retried, and handing over alerts never waits.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fmd_runtime::config::AlertSettings;
use fmd_runtime::pipeline::alerts::{Alert, AlertEvent, IssueNews, Notifier};
use fmd_tests::webhook::{receiver, until};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// aiosmtpd on 127.0.0.1 storing every message in a maildir; stopped on drop.
struct Smtpd {
    child: Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl Smtpd {
    fn start() -> Smtpd {
        Smtpd::start_with(&[])
    }

    /// [`Smtpd::start`] with more of aiosmtpd's options (`--tlscert`, `--tlskey`).
    fn start_with(options: &[&str]) -> Smtpd {
        let command = std::env::var("FMD_TEST_SMTPD").unwrap_or_else(|_| {
            panic!(
                "FMD_TEST_SMTPD is not set: run scripts/test, or \
                 `source scripts/test.d/pre-35-smtp.sh` (it installs aiosmtpd)"
            )
        });
        let mut words = command.split_whitespace();
        let program = words.next().expect("a program");
        let port = free_port();
        let maildir = tempfile::tempdir().expect("maildir");
        let child = Command::new(program)
            .args(words)
            .args(["-n", "-l", &format!("127.0.0.1:{port}")])
            .args(options)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Smtpd {
            child,
            port,
            maildir,
        }
    }

    /// The messages stored so far, as text.
    fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(dir) = std::fs::read_dir(self.maildir.path().join("mail").join(sub)) {
                for e in dir.flatten() {
                    out.push(std::fs::read_to_string(e.path()).unwrap_or_default());
                }
            }
        }
        out
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn news(event: AlertEvent, issue: i64) -> IssueNews {
    IssueNews {
        alert: Alert {
            event,
            issue_id: issue,
            type_name: "shop::PayError".into(),
            message: "card declined for order 1234".into(),
            endpoint: "shop::pay".into(),
            version: "2.1.0".into(),
            url: format!("http://127.0.0.1/dashboard/issues/{issue}"),
            held_back: 0,
        },
        occurrences: 1,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_reach_a_webhook_and_a_mailbox() {
    let smtpd = Smtpd::start();
    let (hook, got) = receiver().await;
    let settings = AlertSettings {
        webhook: Some(hook),
        smtp: Some(format!("smtp://127.0.0.1:{}", smtpd.port)),
        smtp_ca: None,
        email_to: vec!["ops@example.com".into()],
        email_from: Some("fmd@shop.example".into()),
        rate: None,
        public_url: None,
    };
    let notifier = Notifier::start(&settings).expect("two channels");
    let kinds: Vec<&str> = notifier.channels().iter().map(|c| c.kind).collect();
    assert_eq!(kinds, ["webhook", "email"]);
    assert!(
        notifier.channels()[0].target.ends_with("/…"),
        "the webhook's path is hidden"
    );

    notifier.notify(news(AlertEvent::NewIssue, 5));
    until("the webhook", || !got.lock().is_empty()).await;
    let body = got.lock()[0].clone();
    assert_eq!(body["event"], "new_issue");
    assert_eq!(body["issue_id"], 5);
    assert_eq!(body["type_name"], "shop::PayError");
    assert_eq!(body["endpoint"], "shop::pay");
    assert_eq!(body["version"], "2.1.0");
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .starts_with("New issue #5 on shop::pay: shop::PayError: card declined"),
        "{body}"
    );
    until("the e-mail", || !smtpd.messages().is_empty()).await;
    let mail = smtpd.messages().remove(0);
    assert!(
        mail.contains("Subject: [fmd] new_issue: shop::PayError"),
        "{mail}"
    );
    assert!(mail.contains("To: ops@example.com") && mail.contains("card declined"));

    // The same issue again within the hour: held back, not sent.
    notifier.notify(news(AlertEvent::Regression, 5));
    notifier.send_test("");
    until("the test alert", || got.lock().len() == 2).await;
    assert_eq!(got.lock()[1]["event"], "test");
    let sent = || {
        notifier
            .deliveries()
            .iter()
            .filter(|d| d.outcome == "sent")
            .count()
    };
    until("the test alert by e-mail", || sent() == 4).await;
    assert_eq!(
        smtpd.messages().len(),
        2,
        "new issue and test alert, not the regression"
    );
    assert_eq!(got.lock().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_receiver_is_retried_and_logged_and_never_waited_for() {
    let closed = format!("http://127.0.0.1:{}/hook", free_port());
    let settings = AlertSettings {
        webhook: Some(closed),
        ..AlertSettings::default()
    };
    let notifier = Notifier::start(&settings).expect("a channel");
    // Handing over thousands of alerts returns at once: the channel is bounded and the
    // rest is dropped and counted.
    for i in 0..5_000 {
        notifier.notify(news(AlertEvent::NewIssue, i));
    }
    assert!(notifier.dropped() > 0, "a full channel drops and counts");
    until("a failed attempt in the log", || {
        notifier
            .deliveries()
            .iter()
            .any(|d| d.outcome.starts_with("failed, trying again"))
    })
    .await;
    let first = notifier.deliveries().into_iter().last().unwrap();
    assert_eq!(
        (first.channel, first.issue_id, first.attempt),
        ("webhook", 0, 1)
    );
    println!(
        "dropped {} of 5000 alerts while the receiver was unreachable",
        notifier.dropped()
    );
}

const HOST: &str = env!("CARGO_BIN_EXE_fault_host");

/// The monitored weather service with alerts to `hook`, as version `version`.
fn weather(db: &std::path::Path, hook: &str, version: &str) -> fmd_tests::host::HostProcess {
    fmd_tests::host::HostProcess::start(
        HOST,
        db,
        &[
            ("FMD_ALERT_WEBHOOK", hook),
            ("FMD_PUBLIC_URL", "https://shop.example.com"),
            ("APP_VERSION", version),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_issue_and_its_regression_alert_from_the_running_application() {
    let (hook, got) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fmd.db");

    let h = weather(&db, &hook, "1.0.0");
    for _ in 0..3 {
        let r = fmd_tests::http::get(h.addr, "/radar", &[]).await;
        assert!(r.status >= 500, "the radar always panics: {}", r.status);
    }
    until("the new issue's alert", || !got.lock().is_empty()).await;
    let first = got.lock()[0].clone();
    assert_eq!(first["event"], "new_issue", "{first}");
    assert_eq!(first["version"], "1.0.0");
    assert!(
        first["endpoint"].as_str().unwrap().ends_with("radar"),
        "{first}"
    );
    let issue = first["issue_id"].as_i64().unwrap();
    assert_eq!(
        first["url"],
        format!("https://shop.example.com/dashboard/issues/{issue}")
    );
    // Later occurrences in the hour are not alerts of their own.
    let r = fmd_tests::http::get(h.addr, "/radar", &[]).await;
    assert!(r.status >= 500);
    h.shutdown();
    assert_eq!(got.lock().len(), 1, "one alert for the new issue");

    // Resolved in 1.0.0, seen again in 1.1.0: a regression, alerted.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE issue SET status = 'resolved', resolved_version = '1.0.0' WHERE id = ?1",
            [issue],
        )
        .unwrap();
    let h = weather(&db, &hook, "1.1.0");
    fmd_tests::http::get(h.addr, "/radar", &[]).await;
    until("the regression's alert", || got.lock().len() == 2).await;
    let second = got.lock()[1].clone();
    assert_eq!(second["event"], "regression", "{second}");
    assert_eq!(
        (second["issue_id"].as_i64(), second["version"].as_str()),
        (Some(issue), Some("1.1.0"))
    );

    // The alerts page: the channel with its path hidden, the deliveries, a test alert.
    let cookie =
        fmd_tests::http::login(h.addr, "/dashboard", "admin", fmd_tests::host::PASSWORD).await;
    let session = [("cookie", cookie.as_str())];
    let page = fmd_tests::http::get(h.addr, "/dashboard/alerts", &session).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("webhook") && page.body.contains("regression"));
    assert!(
        !page.body.contains("/hook"),
        "the webhook's path is not shown"
    );
    let csrf = fmd_tests::dashboard_fixture::csrf_in(&page.body).expect("a CSRF field");
    let sent = fmd_tests::http::send(
        h.addr,
        "POST",
        "/dashboard/alerts/test",
        &[
            ("cookie", cookie.as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    until("the test alert", || got.lock().len() == 3).await;
    assert_eq!(got.lock()[2]["event"], "test");
    h.shutdown();
}

/// A self-signed certificate for 127.0.0.1 (made by the openssl command) in `dir`: the
/// paths of the certificate and its key.
fn self_signed(dir: &std::path::Path) -> (String, String) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .args(["-keyout", key, "-out", cert])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the openssl command");
    assert!(made.success(), "openssl made the certificate");
    (cert.to_owned(), key.to_owned())
}

/// Over TLS (`smtp` names how) to `smtpd`, whose certificate `cert` no public CA signed:
/// refused without `FMD_ALERT_SMTP_CA`, delivered at the first attempt with it naming the
/// certificate. Returns the refused attempt's outcome.
async fn private_ca_needed(smtpd: &Smtpd, smtp: String, cert: &str) -> String {
    let settings = |ca: Option<&str>| AlertSettings {
        smtp: Some(smtp.clone()),
        smtp_ca: ca.map(str::to_owned),
        email_to: vec!["ops@example.com".into()],
        ..AlertSettings::default()
    };

    let untrusted = Notifier::start(&settings(None)).expect("a channel");
    untrusted.notify(news(AlertEvent::NewIssue, 1));
    until("the refused attempt", || {
        untrusted
            .deliveries()
            .iter()
            .any(|d| d.outcome.starts_with("failed"))
    })
    .await;

    let trusted = Notifier::start(&settings(Some(cert))).expect("a channel");
    trusted.notify(news(AlertEvent::NewIssue, 2));
    // The server has the message before the sender logs its attempt: wait for both.
    until("the e-mail", || {
        !smtpd.messages().is_empty() && !trusted.deliveries().is_empty()
    })
    .await;
    let log = trusted.deliveries();
    assert_eq!(
        log.iter()
            .map(|d| (d.attempt, d.outcome.as_str()))
            .collect::<Vec<_>>(),
        [(1, "sent")],
        "sent at the first attempt"
    );
    let messages = smtpd.messages();
    assert_eq!(messages.len(), 1, "only the trusted one arrived");
    assert!(messages[0].contains("#2"), "{}", messages[0]);
    untrusted
        .deliveries()
        .last()
        .map(|d| d.outcome.clone())
        .unwrap_or_default()
}

/// STARTTLS (`smtp://…?tls=required`) to a server with a private certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_trusts_a_private_ca_only_when_it_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    // aiosmtpd with a certificate requires STARTTLS before any message.
    let smtpd = Smtpd::start_with(&["--tlscert", &cert, "--tlskey", &key]);
    let url = format!("smtp://127.0.0.1:{}?tls=required", smtpd.port);
    let refused = private_ca_needed(&smtpd, url, &cert).await;
    println!("FIGURES STARTTLS: untrusted outcome: {refused}");
}

/// TLS from the first byte (`smtps://`, port 465's way) to a server with a private
/// certificate: the same rules as STARTTLS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtps_trusts_a_private_ca_only_when_it_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let smtpd = Smtpd::start_with(&["--smtpscert", &cert, "--smtpskey", &key]);
    let url = format!("smtps://127.0.0.1:{}", smtpd.port);
    let refused = private_ca_needed(&smtpd, url, &cert).await;
    println!("FIGURES SMTPS: untrusted outcome: {refused}");
}
