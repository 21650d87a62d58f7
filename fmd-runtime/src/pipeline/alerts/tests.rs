use std::sync::mpsc;

use super::*;

fn news(event: AlertEvent, issue: i64) -> IssueNews {
    IssueNews {
        alert: Alert {
            event,
            issue_id: issue,
            type_name: "shop::PayError".into(),
            message: "card declined\nsecond line".into(),
            endpoint: "shop::pay".into(),
            version: "1.2.0".into(),
            url: format!("http://127.0.0.1:3000/dashboard/issues/{issue}"),
            held_back: 0,
        },
        occurrences: 1,
    }
}

/// A notifier whose one channel reports each alert on `rx` and fails `fails` times first.
fn recording(fails: usize, rate: Option<(u32, u32)>) -> (Notifier, mpsc::Receiver<Alert>) {
    let (tx, rx) = mpsc::channel();
    let left = Mutex::new(fails);
    let send: Deliver = Box::new(move |a: &Alert| {
        let mut left = left.lock();
        if *left > 0 {
            *left -= 1;
            return Err("connection refused".into());
        }
        tx.send(a.clone()).map_err(|e| e.to_string())
    });
    let info = ChannelInfo {
        kind: "webhook",
        target: "http://test/…".into(),
    };
    let pauses = Pauses {
        first: Duration::from_millis(5),
    };
    (
        Notifier::with_channels(vec![(info, send)], rate, pauses).expect("thread"),
        rx,
    )
}

fn wait(rx: &mpsc::Receiver<Alert>) -> Alert {
    rx.recv_timeout(Duration::from_secs(10)).expect("an alert")
}

#[test]
fn one_alert_per_issue_per_hour_and_failures_are_retried_and_logged() {
    let (n, rx) = recording(2, None);
    n.notify(news(AlertEvent::NewIssue, 7));
    n.notify(news(AlertEvent::Regression, 7));
    n.notify(news(AlertEvent::NewIssue, 8));
    let first = wait(&rx);
    assert_eq!((first.event, first.issue_id), (AlertEvent::NewIssue, 7));
    let second = wait(&rx);
    assert_eq!(
        second.issue_id, 8,
        "issue 7's regression waits for its quiet hour"
    );
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
    let log = n.deliveries();
    let attempts: Vec<(i64, usize, bool)> = log
        .iter()
        .rev()
        .map(|d| (d.issue_id, d.attempt, d.outcome == "sent"))
        .collect();
    assert_eq!(
        attempts,
        [(7, 1, false), (7, 2, false), (7, 3, true), (8, 1, true)]
    );
    assert!(log.iter().any(|d| d.outcome.contains("connection refused")));
}

#[test]
fn the_rate_rule_alerts_once_the_count_is_reached_in_the_window() {
    let (n, rx) = recording(0, Some((5, 10)));
    for _ in 0..4 {
        n.notify(news(AlertEvent::Rate, 3));
    }
    assert!(
        rx.recv_timeout(Duration::from_millis(200)).is_err(),
        "4 of 5"
    );
    n.notify(news(AlertEvent::Rate, 3));
    assert_eq!(wait(&rx).event, AlertEvent::Rate);
}

#[test]
fn held_alerts_go_out_as_one_digest_after_the_quiet_hour() {
    let (tx, _rx) = sync_channel(1);
    let (sent_tx, sent_rx) = mpsc::channel();
    let send: Deliver =
        Box::new(move |a: &Alert| sent_tx.send(a.clone()).map_err(|e| e.to_string()));
    let mut t = Thread {
        rx: _rx,
        log: Arc::default(),
        channels: vec![(
            ChannelInfo {
                kind: "webhook",
                target: String::new(),
            },
            send,
        )],
        rate: None,
        pauses: Pauses {
            first: Duration::from_millis(1),
        },
        last_sent: HashMap::new(),
        held: HashMap::new(),
        windows: HashMap::new(),
    };
    drop(tx);
    let t0 = 1_000_000;
    t.take(news(AlertEvent::NewIssue, 1), t0);
    for i in 0..3 {
        t.take(news(AlertEvent::Regression, 1), t0 + 1000 * i);
    }
    t.send_digests(t0 + 60_000);
    assert_eq!(sent_rx.try_iter().count(), 1, "held during the hour");
    t.send_digests(t0 + QUIET_MS);
    let digest = sent_rx.try_recv().expect("the digest");
    assert_eq!(
        (digest.event, digest.held_back),
        (AlertEvent::Regression, 2)
    );
    assert!(
        digest.text().contains("and 2 more in the last hour"),
        "{}",
        digest.text()
    );
}

#[test]
fn the_text_is_one_line_with_what_where_and_the_link() {
    let a = news(AlertEvent::Regression, 42).alert;
    assert_eq!(
        a.text(),
        "Regression #42 on shop::pay: shop::PayError: card declined (version 1.2.0) \
         http://127.0.0.1:3000/dashboard/issues/42"
    );
    let j = a.json();
    assert_eq!(j["event"], "regression");
    assert_eq!(j["issue_id"], 42);
}

#[test]
fn alerts_decided_by_the_store_are_delivered_as_they_are() {
    let (n, rx) = recording(0, Some((5, 10)));
    let mut held = news(AlertEvent::Rate, 9).alert;
    held.held_back = 3;
    n.send(news(AlertEvent::NewIssue, 9).alert);
    n.send(held);
    assert_eq!(wait(&rx).event, AlertEvent::NewIssue);
    let second = wait(&rx);
    assert_eq!(
        (second.event, second.held_back),
        (AlertEvent::Rate, 3),
        "neither the quiet hour nor the rate rule applied again"
    );
}
