//! Alerts: a new issue, a regression, or an issue over the rate rule, told to a webhook
//! and by e-mail from fmd's own thread.
//!
//! The writer decides which issues alert in the database it writes
//! ([`Store::take_issue_changes`](crate::store::Store::take_issue_changes)), so that
//! instances sharing one database alert once between them: the rate rule
//! (`FMD_ALERT_RATE=50/10m`) counts every instance's stored occurrences, and an alert is
//! claimed in the issue's row, at most one per issue per hour; what comes later in that
//! hour is counted there and sent as one digest when the hour is over ("and 12 more"),
//! claimed like any alert ([`Store::take_due_digests`](crate::store::Store::take_due_digests)).
//! The writer
//! hands each decided alert to the [`Notifier`] without waiting ([`Notifier::send`]: a
//! bounded channel; full means dropped and counted). The `fmd-alerts` thread delivers:
//!
//! - [`Notifier::notify`] (news not decided by a store) applies the same rules in this
//!   process's memory: the quiet hour, with a digest when it is over, and the rate rule
//!   in a sliding window;
//! - each channel is tried up to [`ATTEMPTS`] times with growing pauses; every attempt is
//!   written to the delivery log the alerts page shows. A slow or unreachable receiver
//!   holds up only this thread.
//!
//! Delivery itself (`deliver`: ureq for the webhook, lettre for SMTP) is behind the
//! `alerts` feature.

#[cfg(feature = "alerts")]
mod deliver;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

use parking_lot::Mutex;
use serde::Serialize;

use crate::clock::now_ms;
use crate::config::AlertSettings;

/// Attempts per channel and alert.
pub const ATTEMPTS: usize = 4;
/// Alerts waiting for the thread before new ones are dropped.
const CHANNEL: usize = 1024;
/// Deliveries the log keeps (the newest).
const LOG: usize = 200;
/// One alert per issue per this long.
const QUIET_MS: i64 = crate::store::issues::QUIET_MS;

/// Why an alert is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertEvent {
    /// The first occurrence of an issue.
    NewIssue,
    /// An occurrence of a resolved issue in a version at or after the resolving one.
    Regression,
    /// An issue over the rate rule.
    Rate,
    /// "Send a test alert" on the alerts page.
    Test,
}

impl AlertEvent {
    /// `new_issue`, `regression`, `rate` or `test`, as in the webhook's JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertEvent::NewIssue => "new_issue",
            AlertEvent::Regression => "regression",
            AlertEvent::Rate => "rate",
            AlertEvent::Test => "test",
        }
    }
}

/// What an alert says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// Why it is sent.
    pub event: AlertEvent,
    /// The issue's id.
    pub issue_id: i64,
    /// The error's type name.
    pub type_name: String,
    /// The issue's message.
    pub message: String,
    /// The endpoint it happened on.
    pub endpoint: String,
    /// The application version it happened in.
    pub version: String,
    /// The issue's page (empty when the dashboard's address is not known).
    pub url: String,
    /// Alerts of this issue held back in the last hour and told in this one.
    pub held_back: u32,
}

impl Alert {
    /// One line a chat channel shows as is (Slack's and Mattermost's `text`).
    pub fn text(&self) -> String {
        let what = match self.event {
            AlertEvent::NewIssue => "New issue",
            AlertEvent::Regression => "Regression",
            AlertEvent::Rate => "Issue over its rate",
            AlertEvent::Test => "Test alert",
        };
        let mut text = format!(
            "{what} #{} on {}: {}: {}",
            self.issue_id,
            if self.endpoint.is_empty() {
                "(no endpoint)"
            } else {
                &self.endpoint
            },
            self.type_name,
            first_line(&self.message, 300)
        );
        if !self.version.is_empty() {
            text.push_str(&format!(" (version {})", self.version));
        }
        if self.held_back > 0 {
            text.push_str(&format!(" — and {} more in the last hour", self.held_back));
        }
        if !self.url.is_empty() {
            text.push_str(&format!(" {}", self.url));
        }
        text
    }

    /// The webhook's JSON body.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "event": self.event.as_str(),
            "issue_id": self.issue_id,
            "type_name": self.type_name,
            "message": self.message,
            "endpoint": self.endpoint,
            "version": self.version,
            "url": self.url,
            "held_back": self.held_back,
            "text": self.text(),
        })
    }
}

fn first_line(s: &str, max: usize) -> String {
    let line = s.lines().next().unwrap_or("");
    match line.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_owned(),
    }
}

/// What the writer tells the notifier about an issue.
#[derive(Debug, Clone)]
pub struct IssueNews {
    /// The alert it would make (its `event` is `NewIssue`, `Regression`, or `Rate` for a
    /// plain occurrence, which alerts only over the rate rule).
    pub alert: Alert,
    /// Occurrences it stands for (a batch may carry several of one issue).
    pub occurrences: u32,
}

/// One attempt to deliver, for the alerts page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    /// When, unix ms.
    pub time: i64,
    /// `webhook` or `email`.
    pub channel: &'static str,
    /// The alert's event.
    pub event: AlertEvent,
    /// The alert's issue.
    pub issue_id: i64,
    /// The attempt, from 1.
    pub attempt: usize,
    /// `sent`, or what went wrong.
    pub outcome: String,
}

/// Where the alerts go, secrets hidden, for the alerts page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelInfo {
    /// `webhook` or `email`.
    pub kind: &'static str,
    /// The URL with its password and path hidden, or the SMTP server and recipients.
    pub target: String,
}

/// The alerts' sending side and their log; shared by the writer and the dashboard.
pub struct Notifier {
    tx: SyncSender<Job>,
    log: Arc<Mutex<VecDeque<Delivery>>>,
    dropped: Arc<AtomicU64>,
    channels: Vec<ChannelInfo>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("channels", &self.channels)
            .finish()
    }
}

/// A way to deliver one alert: `Err` says why it failed (and it is tried again).
pub type Deliver = Box<dyn Fn(&Alert) -> Result<(), String> + Send>;

impl Notifier {
    /// Starts the alerts thread for `settings`; `None` when no channel is configured.
    #[cfg(feature = "alerts")]
    pub fn start(settings: &AlertSettings) -> Option<Notifier> {
        let channels = deliver::channels(settings);
        if channels.is_empty() {
            return None;
        }
        Notifier::with_channels(channels, settings.rate, Pauses::default())
    }

    /// Without the `alerts` feature there is nothing to send with.
    #[cfg(not(feature = "alerts"))]
    pub fn start(_settings: &AlertSettings) -> Option<Notifier> {
        None
    }

    /// Starts the thread with given delivery functions (the configured ones, or a test's).
    pub fn with_channels(
        channels: Vec<(ChannelInfo, Deliver)>,
        rate: Option<(u32, u32)>,
        pauses: Pauses,
    ) -> Option<Notifier> {
        let (tx, rx) = sync_channel(CHANNEL);
        let log = Arc::new(Mutex::new(VecDeque::with_capacity(LOG)));
        let info = channels.iter().map(|(i, _)| i.clone()).collect();
        let mut thread = Thread {
            rx,
            log: log.clone(),
            channels,
            rate,
            pauses,
            last_sent: HashMap::new(),
            held: HashMap::new(),
            windows: HashMap::new(),
        };
        std::thread::Builder::new()
            .name("fmd-alerts".into())
            .spawn(move || thread.run())
            .ok()?;
        Some(Notifier {
            tx,
            log,
            dropped: Arc::new(AtomicU64::new(0)),
            channels: info,
        })
    }

    /// Hands `news` to the alerts thread without waiting, for it to apply the quiet hour
    /// and the rate rule in memory; dropped (and counted) when the thread is that far
    /// behind.
    pub fn notify(&self, news: IssueNews) {
        self.queue(Job::Decide(news));
    }

    /// Hands an alert already decided (by the store, for every instance) to the alerts
    /// thread to deliver as it is, without waiting; dropped (and counted) when the thread
    /// is that far behind.
    pub fn send(&self, alert: Alert) {
        self.queue(Job::Send(alert));
    }

    fn queue(&self, job: Job) {
        match self.tx.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Sends a test alert through every channel now (from the alerts page).
    pub fn send_test(&self, url: &str) {
        self.notify(IssueNews {
            alert: Alert {
                event: AlertEvent::Test,
                issue_id: 0,
                type_name: "fmd::TestAlert".into(),
                message: "This is a test alert from the fmd dashboard.".into(),
                endpoint: String::new(),
                version: String::new(),
                url: url.to_owned(),
                held_back: 0,
            },
            occurrences: 0,
        });
    }

    /// The delivery log, newest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.log.lock().iter().rev().cloned().collect()
    }

    /// The configured channels, secrets hidden.
    pub fn channels(&self) -> &[ChannelInfo] {
        &self.channels
    }

    /// Alerts dropped because the thread was too far behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Pauses between attempts, doubling from `first` (shorter in tests).
#[derive(Debug, Clone, Copy)]
pub struct Pauses {
    /// Before the second attempt.
    pub first: Duration,
}

impl Default for Pauses {
    fn default() -> Self {
        Pauses {
            first: Duration::from_secs(2),
        }
    }
}

/// What the alerts thread is asked to do.
enum Job {
    /// Apply the rules in memory, then deliver.
    Decide(IssueNews),
    /// Deliver as it is.
    Send(Alert),
}

struct Thread {
    rx: Receiver<Job>,
    log: Arc<Mutex<VecDeque<Delivery>>>,
    channels: Vec<(ChannelInfo, Deliver)>,
    rate: Option<(u32, u32)>,
    pauses: Pauses,
    /// When each issue last alerted.
    last_sent: HashMap<i64, i64>,
    /// Alerts held in an issue's quiet hour: the newest, and how many.
    held: HashMap<i64, (Alert, u32)>,
    /// Each issue's occurrence times inside the rate window (at most the rule's count).
    windows: HashMap<i64, VecDeque<i64>>,
}

impl Thread {
    fn run(&mut self) {
        loop {
            match self.rx.recv_timeout(Duration::from_secs(30)) {
                Ok(Job::Decide(news)) => self.take(news, now_ms()),
                Ok(Job::Send(alert)) => self.deliver(&alert),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            self.send_digests(now_ms());
        }
    }

    fn take(&mut self, news: IssueNews, now: i64) {
        let alert = match news.alert.event {
            AlertEvent::Test => return self.deliver(&news.alert),
            AlertEvent::Rate => {
                if !self.over_rate(news.alert.issue_id, news.occurrences, now) {
                    return;
                }
                news.alert
            }
            AlertEvent::NewIssue | AlertEvent::Regression => {
                // They count towards the rate too.
                self.over_rate(news.alert.issue_id, news.occurrences, now);
                news.alert
            }
        };
        let id = alert.issue_id;
        match self.last_sent.get(&id) {
            Some(&at) if now - at < QUIET_MS => {
                let held = self.held.entry(id).or_insert_with(|| (alert.clone(), 0));
                held.0 = alert;
                held.1 += 1;
            }
            _ => {
                self.last_sent.insert(id, now);
                self.deliver(&alert);
            }
        }
    }

    /// Counts `n` occurrences of `issue` at `now`; true when that puts it over the rule.
    fn over_rate(&mut self, issue: i64, n: u32, now: i64) -> bool {
        let Some((count, minutes)) = self.rate else {
            return false;
        };
        let window = self.windows.entry(issue).or_default();
        for _ in 0..n.min(count) {
            window.push_back(now);
        }
        while window.len() > count as usize {
            window.pop_front();
        }
        let from = now - i64::from(minutes) * 60_000;
        while window.front().is_some_and(|&t| t < from) {
            window.pop_front();
        }
        if window.len() >= count as usize {
            window.clear();
            return true;
        }
        false
    }

    /// Sends what was held for issues whose quiet hour is over.
    fn send_digests(&mut self, now: i64) {
        let due: Vec<i64> = self
            .held
            .keys()
            .copied()
            .filter(|id| {
                self.last_sent
                    .get(id)
                    .is_none_or(|&at| now - at >= QUIET_MS)
            })
            .collect();
        for id in due {
            if let Some((mut alert, n)) = self.held.remove(&id) {
                alert.held_back = n.saturating_sub(1);
                self.last_sent.insert(id, now);
                self.deliver(&alert);
            }
        }
        // Forget issues quiet for long, so the maps stay small.
        self.last_sent.retain(|_, at| now - *at < 2 * QUIET_MS);
        self.windows.retain(|_, w| !w.is_empty());
    }

    fn deliver(&mut self, alert: &Alert) {
        for (info, send) in &self.channels {
            let mut pause = self.pauses.first;
            for attempt in 1..=ATTEMPTS {
                let outcome = match send(alert) {
                    Ok(()) => "sent".to_owned(),
                    Err(e) if attempt < ATTEMPTS => format!("failed, trying again: {e}"),
                    Err(e) => format!("failed, given up: {e}"),
                };
                let sent = outcome == "sent";
                let mut log = self.log.lock();
                if log.len() == LOG {
                    log.pop_front();
                }
                log.push_back(Delivery {
                    time: now_ms(),
                    channel: info.kind,
                    event: alert.event,
                    issue_id: alert.issue_id,
                    attempt,
                    outcome,
                });
                drop(log);
                if sent || attempt == ATTEMPTS {
                    break;
                }
                std::thread::sleep(pause);
                pause = pause.saturating_mul(2);
            }
        }
    }
}

#[cfg(test)]
mod tests;
