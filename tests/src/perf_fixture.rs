//! Schema-v3 rows for the performance pages, written with SQL as the runtime's writer
//! writes them: a request row plus its hourly rollup and version in one go, outliers with
//! their stack, call trees, custom-graph values.
//!
//! This is the one place the performance tests seed data; when the writer stores these
//! tables itself, [`Perf::request`] and friends can be replaced by real traffic.

use rusqlite::params;

use crate::dashboard_fixture::{Fixture, FrameSpec};

/// Milliseconds in an hour.
pub const HOUR: i64 = 3_600_000;
/// Milliseconds in a day.
pub const DAY: i64 = 24 * HOUR;

/// One request to store.
#[derive(Debug, Clone)]
pub struct Req {
    /// Start (unix ms).
    pub time: i64,
    /// Duration (µs).
    pub duration_us: i64,
    /// Status; `None` for a cancelled request.
    pub status: Option<u16>,
    /// Version stamped on it.
    pub version: String,
    /// Group-by value.
    pub user: Option<String>,
    /// Client IP.
    pub ip: Option<String>,
    /// Route template.
    pub route: String,
    /// HTTP method.
    pub method: String,
}

impl Req {
    /// A `GET /` request at `time` answered 200 by version `1.0.0`.
    pub fn at(time: i64, duration_us: i64) -> Req {
        Req {
            time,
            duration_us,
            status: Some(200),
            version: "1.0.0".into(),
            user: None,
            ip: None,
            route: "/".into(),
            method: "GET".into(),
        }
    }

    /// With this status (`None`: cancelled).
    pub fn status(mut self, status: Option<u16>) -> Req {
        self.status = status;
        self
    }

    /// With this version.
    pub fn version(mut self, v: &str) -> Req {
        self.version = v.into();
        self
    }

    /// With this group-by value and client IP.
    pub fn who(mut self, user: &str, ip: &str) -> Req {
        self.user = Some(user.into());
        self.ip = Some(ip.into());
        self
    }

    /// With this route.
    pub fn route(mut self, route: &str) -> Req {
        self.route = route.into();
        self
    }
}

/// One node of a call tree to store, in pre-order.
#[derive(Clone)]
pub struct Node {
    /// Position of the parent node; `None` for a root.
    pub parent: Option<u32>,
    /// The function.
    pub function: FrameSpec,
    /// Calls merged into the node.
    pub calls: u32,
    /// Inclusive time (µs).
    pub total_us: i64,
    /// Own time (µs).
    pub self_us: i64,
}

/// An outlier to store.
#[derive(Clone)]
pub struct OutlierSpec {
    /// Path and query.
    pub url: String,
    /// Header name and value pairs.
    pub headers: Vec<(String, String)>,
    /// Typical duration when judged (µs).
    pub typical_us: i64,
    /// Threshold (µs).
    pub threshold_us: i64,
    /// CPU percent.
    pub cpu_percent: Option<f64>,
    /// Resident memory.
    pub memory_bytes: Option<i64>,
    /// The logical stack, innermost first.
    pub stack: Vec<FrameSpec>,
}

/// Schema-v3 writes on a [`Fixture`].
pub trait Perf {
    /// Stores a request with its hourly rollup row and version, as the writer does.
    /// Returns `request.id`.
    fn record(&self, endpoint: i64, r: &Req) -> i64;
    /// Marks a stored request as an outlier.
    fn outlier(&self, endpoint: i64, request: i64, o: &OutlierSpec);
    /// Stores the call tree of a stored request.
    fn profile(&self, endpoint: i64, request: i64, nodes: &[Node]);
    /// Registers a custom graph (or finds it) and stores `(time, value)` samples.
    fn graph(&self, name: &str, created_at: i64, values: &[(i64, f64)]) -> i64;
    /// Sets an endpoint's stored level.
    fn level(&self, endpoint: i64, level: u8);
}

impl Perf for Fixture {
    fn record(&self, endpoint: i64, r: &Req) -> i64 {
        let status = r.status.map(i64::from);
        let cancelled = r.status.is_none();
        self.conn
            .execute(
                "INSERT INTO request (endpoint_id, route, method, time, duration_us, status, cancelled,
                                      version, ip, group_by, instance)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'test')",
                params![endpoint, r.route, r.method, r.time, r.duration_us, status, cancelled,
                        r.version, r.ip, r.user],
            )
            .expect("request");
        let id = self.conn.last_insert_rowid();
        let s = status.unwrap_or(0);
        self.conn
            .execute(
                "INSERT INTO request_hourly (endpoint_id, hour, version, hits, duration_us,
                                             client_errors, server_errors, cancelled)
                 VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7)
                 ON CONFLICT (endpoint_id, hour, version) DO UPDATE SET
                     hits = hits + 1, duration_us = duration_us + excluded.duration_us,
                     client_errors = client_errors + excluded.client_errors,
                     server_errors = server_errors + excluded.server_errors,
                     cancelled = cancelled + excluded.cancelled",
                params![
                    endpoint,
                    r.time.div_euclid(HOUR),
                    r.version,
                    r.duration_us,
                    (400..500).contains(&s),
                    (500..600).contains(&s),
                    cancelled
                ],
            )
            .expect("request_hourly");
        self.conn
            .execute(
                "INSERT INTO app_version (version, git_commit, first_seen, last_seen)
                 VALUES (?1, ?2, ?3, ?3)
                 ON CONFLICT (version) DO UPDATE SET
                     first_seen = min(first_seen, excluded.first_seen),
                     last_seen = max(last_seen, excluded.last_seen)",
                params![
                    r.version,
                    format!("{:0>7}", r.version.replace('.', "")),
                    r.time
                ],
            )
            .expect("app_version");
        self.conn
            .execute(
                "UPDATE endpoint SET last_requested = max(coalesce(last_requested, 0), ?2) WHERE id = ?1",
                params![endpoint, r.time],
            )
            .expect("last_requested");
        id
    }

    fn outlier(&self, endpoint: i64, request: i64, o: &OutlierSpec) {
        let time: i64 = self
            .conn
            .query_row("SELECT time FROM request WHERE id = ?1", [request], |r| {
                r.get(0)
            })
            .expect("the outlier's request");
        let stack =
            (!o.stack.is_empty()).then(|| self.snapshot(&format!("outlier{request}"), &o.stack));
        self.conn
            .execute(
                "INSERT INTO outlier (request_id, endpoint_id, time, url, headers, typical_us,
                                      threshold_us, cpu_percent, memory_bytes, stack_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    request,
                    endpoint,
                    time,
                    o.url,
                    serde_json::to_string(&o.headers).expect("headers"),
                    o.typical_us,
                    o.threshold_us,
                    o.cpu_percent,
                    o.memory_bytes,
                    stack
                ],
            )
            .expect("outlier");
    }

    fn profile(&self, endpoint: i64, request: i64, nodes: &[Node]) {
        let mut depth: Vec<u32> = Vec::with_capacity(nodes.len());
        for (position, n) in nodes.iter().enumerate() {
            let d = n.parent.map_or(0, |p| depth[p as usize] + 1);
            depth.push(d);
            let location = self.location(&n.function);
            self.conn
                .execute(
                    "INSERT INTO profile_node (request_id, endpoint_id, position, parent, depth,
                                               location_id, calls, total_us, self_us)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        request,
                        endpoint,
                        position as i64,
                        n.parent,
                        d,
                        location,
                        n.calls,
                        n.total_us,
                        n.self_us
                    ],
                )
                .expect("profile_node");
        }
    }

    fn graph(&self, name: &str, created_at: i64, values: &[(i64, f64)]) -> i64 {
        let id: i64 = self
            .conn
            .query_row(
                "INSERT INTO custom_graph (name, created_at) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
                params![name, created_at],
                |r| r.get(0),
            )
            .expect("custom_graph");
        for (t, v) in values {
            self.conn
                .execute(
                    "INSERT INTO custom_graph_value (graph_id, time, value, instance)
                     VALUES (?1, ?2, ?3, 'test')",
                    params![id, t, v],
                )
                .expect("custom_graph_value");
        }
        id
    }

    fn level(&self, endpoint: i64, level: u8) {
        self.conn
            .execute(
                "UPDATE endpoint SET level = ?2 WHERE id = ?1",
                params![endpoint, level],
            )
            .expect("level");
    }
}

/// A function of the profiled call trees (no source stored).
pub fn function(module: &str, name: &str, line: u32) -> FrameSpec {
    FrameSpec {
        module: module.into(),
        name: name.into(),
        file: format!("{}.rs", module.replace("::", "/")),
        start_line: line,
        code: None,
        line,
        in_app: true,
        repeat: 1,
    }
}

/// A call-tree node.
pub fn node(parent: Option<u32>, f: &FrameSpec, calls: u32, total_us: i64, self_us: i64) -> Node {
    Node {
        parent,
        function: f.clone(),
        calls,
        total_us,
        self_us,
    }
}
