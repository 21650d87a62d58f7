//! What the dashboard asks of the monitored application, behind a small trait.
//!
//! [`MonitorHost`] is the real one (the process-wide `fmd_runtime::monitor()`); tests and
//! tools that only read a database use [`StaticHost`].

use serde::Serialize;

/// The application state the configuration page shows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HostStatus {
    /// Effective configuration as (name, value); secrets are never included.
    pub config: Vec<(String, String)>,
    /// Events accepted into the queue.
    pub events_queued: u64,
    /// Events written to the database.
    pub events_stored: u64,
    /// Events dropped (full queue or failing storage).
    pub events_dropped: u64,
    /// Of those, requests whose raw row was dropped but which still count in the hourly
    /// rollup and the duration histogram (hits, error counts, medians).
    pub dropped_requests_counted: u64,
    /// The last storage error, if storage is failing.
    pub last_storage_error: Option<String>,
    /// Functions registered by `#[monitored]` and `#[capture]`.
    pub registered_functions: usize,
}

/// The monitored application, as the dashboard sees it.
pub trait Host: Send + Sync + 'static {
    /// Applies an endpoint's level to the running application (the store keeps it too).
    fn set_endpoint_level(&self, endpoint: &str, level: Option<u8>);
    /// Configuration and pipeline counters.
    fn status(&self) -> HostStatus;
    /// The application's Prometheus series in the OpenMetrics text format; `None` when no
    /// application runs behind the dashboard.
    fn metrics(&self) -> Option<String> {
        None
    }
    /// The level in force for `endpoint` while none is set from the dashboard, and where it
    /// comes from (`attribute`: `#[monitored(level = N)]`; `configuration`: `FMD_LEVEL`);
    /// `None` when no application runs behind the dashboard.
    fn default_level(&self, _endpoint: &str) -> Option<(u8, &'static str)> {
        None
    }
    /// The alert channels (secrets hidden), the delivery log (newest first) and the alerts
    /// dropped; `None` when no alert channel is configured or no application runs here.
    fn alerts(&self) -> Option<AlertsView> {
        None
    }
    /// Sends a test alert through every channel; false when there are none.
    fn send_test_alert(&self, _url: &str) -> bool {
        false
    }
}

/// What the alerts page shows of the application's alerts thread.
#[derive(Debug, Clone, Default)]
pub struct AlertsView {
    /// Where alerts go, secrets hidden.
    pub channels: Vec<fmd_runtime::pipeline::alerts::ChannelInfo>,
    /// Every delivery attempt kept, newest first.
    pub deliveries: Vec<fmd_runtime::pipeline::alerts::Delivery>,
    /// Alerts dropped because the alerts thread was too far behind.
    pub dropped: u64,
    /// The rate rule, `(occurrences, minutes)`.
    pub rate: Option<(u32, u32)>,
}

/// The level in force for `endpoint` and where it comes from: `set` (the level stored
/// from the dashboard) first, else what the application declares or is configured with.
pub fn effective_level(
    host: &dyn Host,
    endpoint: &str,
    set: Option<u8>,
) -> Option<(u8, &'static str)> {
    match set {
        Some(level) => Some((level, "dashboard")),
        None => host.default_level(endpoint),
    }
}

/// The running fmd monitor of this process.
pub struct MonitorHost;

impl Host for MonitorHost {
    fn alerts(&self) -> Option<AlertsView> {
        let m = fmd_runtime::monitor();
        let n = m.alerts()?;
        Some(AlertsView {
            channels: n.channels().to_vec(),
            deliveries: n.deliveries(),
            dropped: n.dropped(),
            rate: m.config().alerts.rate,
        })
    }

    fn send_test_alert(&self, url: &str) -> bool {
        match fmd_runtime::monitor().alerts() {
            Some(n) => {
                n.send_test(url);
                true
            }
            None => false,
        }
    }

    fn set_endpoint_level(&self, endpoint: &str, level: Option<u8>) {
        fmd_runtime::monitor().set_endpoint_level(endpoint, level);
    }

    fn status(&self) -> HostStatus {
        let m = fmd_runtime::monitor();
        let c = m.config();
        let s = m.stats();
        let set = |o: &Option<String>| if o.is_some() { "(set)" } else { "(not set)" }.to_owned();
        let config = vec![
            ("database".into(), c.database.display().to_string()),
            ("level".into(), c.level.to_string()),
            ("dashboard_path".into(), c.dashboard_path.clone()),
            (
                "username".into(),
                c.username.clone().unwrap_or_else(|| "(not set)".into()),
            ),
            ("password".into(), set(&c.password)),
            ("version".into(), c.version.clone()),
            (
                "retention_weeks".into(),
                c.retention_weeks.map_or("(off)".into(), |w| w.to_string()),
            ),
            (
                "raw_retention_days".into(),
                c.raw_retention_days
                    .map_or("off (forever)".into(), |d| d.to_string()),
            ),
            ("store_source".into(), c.store_source.to_string()),
            (
                "normalize_messages".into(),
                c.normalize_messages.to_string(),
            ),
            ("queue_capacity".into(), c.queue_capacity.to_string()),
            ("instance".into(), c.instance.clone()),
            ("metrics_token".into(), set(&c.metrics_token)),
            ("api_token".into(), set(&c.api_token)),
        ];
        HostStatus {
            config,
            events_queued: s.events_queued,
            events_stored: s.events_stored,
            events_dropped: s.events_dropped,
            dropped_requests_counted: s.dropped_requests_counted,
            last_storage_error: s.last_storage_error,
            registered_functions: fmd_runtime::registry::functions().count(),
        }
    }

    fn metrics(&self) -> Option<String> {
        Some(fmd_runtime::monitor().metrics_text())
    }

    fn default_level(&self, endpoint: &str) -> Option<(u8, &'static str)> {
        let declared = fmd_runtime::registry::functions().find_map(|f| match f.kind {
            fmd_runtime::FnKind::Monitored { level: Some(l) } if f.endpoint_name() == endpoint => {
                Some(l)
            }
            _ => None,
        });
        Some(match declared {
            Some(l) => (l, "attribute"),
            None => (fmd_runtime::monitor().config().level, "configuration"),
        })
    }
}

/// A fixed status and no running application (level changes are only stored).
#[derive(Debug, Clone, Default)]
pub struct StaticHost(pub HostStatus);

impl Host for StaticHost {
    fn set_endpoint_level(&self, _endpoint: &str, _level: Option<u8>) {}
    fn status(&self) -> HostStatus {
        self.0.clone()
    }
}
