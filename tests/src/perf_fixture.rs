//! Schema-v3 rows for the performance pages, written with SQL as the runtime's writer
//! writes them: a request row plus its hourly rollup and version in one go, outliers with
//! their stack, call trees, custom-graph values.
//!
//! This is the one place the performance tests seed data; when the writer stores these
//! tables itself, [`Perf::record`] and friends can be replaced by real traffic.

use fmd_runtime::store::RolledRequest;

use crate::dashboard_fixture::{ExceptionSpec, Fixture, FrameSpec};
use crate::engines::Engine;
use crate::request_rows::{self, Texts};
use crate::vals;

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
    /// Stores a request with its rollup rows and version, as the writer does.
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
        let texts = Texts {
            route: &r.route,
            method: &r.method,
            version: &r.version,
            ip: r.ip.as_deref(),
            user: r.user.as_deref(),
            instance: "test",
        };
        let id = request_rows::insert(
            &self.db,
            endpoint,
            &texts,
            r.time,
            r.duration_us,
            status,
            cancelled,
        );
        self.db.exec(
            "INSERT INTO app_version (version, git_commit, first_seen, last_seen)
             VALUES (?1, ?2, ?3, ?3)
             ON CONFLICT (version) DO UPDATE SET
                 first_seen = CASE WHEN excluded.first_seen < app_version.first_seen
                              THEN excluded.first_seen ELSE app_version.first_seen END,
                 last_seen = CASE WHEN excluded.last_seen > app_version.last_seen
                             THEN excluded.last_seen ELSE app_version.last_seen END",
            vals![
                &r.version,
                format!("{:0>7}", r.version.replace('.', "")),
                r.time
            ],
        );
        let rolled = RolledRequest {
            endpoint_id: endpoint,
            time_ms: r.time,
            duration_us: r.duration_us,
            status: r.status,
            cancelled,
        };
        self.roll_up(&rolled, &r.version, "test");
        id
    }

    fn outlier(&self, endpoint: i64, request: i64, o: &OutlierSpec) {
        let time = self
            .db
            .query_i64(
                "SELECT time FROM request_text WHERE id = ?1",
                vals![request],
            )
            .expect("the outlier's request");
        let stack =
            (!o.stack.is_empty()).then(|| self.snapshot(&format!("outlier{request}"), &o.stack));
        self.db.exec(
            "INSERT INTO outlier (request_id, endpoint_id, time, url, headers, typical_us,
                                  threshold_us, cpu_percent, memory_bytes, stack_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            vals![
                request,
                endpoint,
                time,
                &o.url,
                serde_json::to_string(&o.headers).expect("headers"),
                o.typical_us,
                o.threshold_us,
                o.cpu_percent,
                o.memory_bytes,
                stack
            ],
        );
    }

    fn profile(&self, endpoint: i64, request: i64, nodes: &[Node]) {
        let mut depth: Vec<u32> = Vec::with_capacity(nodes.len());
        for (position, n) in nodes.iter().enumerate() {
            let d = n.parent.map_or(0, |p| depth[p as usize] + 1);
            depth.push(d);
            let location = self.location(&n.function);
            self.db.exec(
                "INSERT INTO profile_node (request_id, endpoint_id, position, parent, depth,
                                           location_id, calls, total_us, self_us)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                vals![
                    request, endpoint, position, n.parent, d, location, n.calls, n.total_us,
                    n.self_us
                ],
            );
        }
    }

    fn graph(&self, name: &str, created_at: i64, values: &[(i64, f64)]) -> i64 {
        let id = self.id(
            "INSERT INTO custom_graph (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            vals![name, created_at],
            "SELECT id FROM custom_graph WHERE name = ?1",
            vals![name],
        );
        for (t, v) in values {
            self.db.exec(
                "INSERT INTO custom_graph_value (graph_id, time, value, instance)
                 VALUES (?1, ?2, ?3, 'test')",
                vals![id, *t, *v],
            );
        }
        id
    }

    fn level(&self, endpoint: i64, level: u8) {
        self.db.exec(
            "UPDATE endpoint SET level = ?2 WHERE id = ?1",
            vals![endpoint, level],
        );
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

/// 2026-11-02 00:00 UTC (UTC day 20759): the start of [`seed`]'s data.
pub const D: i64 = 1_793_577_600_000;
/// Milliseconds in a minute.
pub const MIN: i64 = 60_000;

/// The small data set of the store tests, whose every number is known.
pub struct Seeded {
    /// The database.
    pub fx: Fixture,
    /// `shop::checkout`: five requests over two days, two call trees, two outliers.
    pub a: i64,
    /// `shop::index`: two requests.
    pub b: i64,
    /// The checkout requests in time order.
    pub r: Vec<i64>,
    /// The exception group recorded during `r[2]` (the 500).
    pub group: i64,
}

/// Two days of a shop in SQLite: see each field of [`Seeded`].
pub fn seed() -> Seeded {
    seed_on(Engine::Sqlite)
}

/// Two days of a shop in a fresh database of `engine`.
pub fn seed_on(engine: Engine) -> Seeded {
    let fx = Fixture::on(engine);
    let a = fx.endpoint("shop::checkout");
    let b = fx.endpoint("shop::index");
    let r = vec![
        fx.record(
            a,
            &Req::at(D + 9 * HOUR + 10 * MIN, 1000).who("alice", "10.0.0.1"),
        ),
        fx.record(
            a,
            &Req::at(D + 9 * HOUR + 40 * MIN, 3000)
                .status(Some(404))
                .who("bob", "10.0.0.2"),
        ),
        fx.record(
            a,
            &Req::at(D + 14 * HOUR + 5 * MIN, 2000)
                .status(Some(500))
                .version("1.1.0")
                .who("alice", "10.0.0.1"),
        ),
        fx.record(
            a,
            &Req::at(D + DAY + 9 * HOUR, 4000)
                .status(None)
                .version("1.1.0")
                .who("carol", "10.0.0.3"),
        ),
        fx.record(
            a,
            &Req::at(D + DAY + 10 * HOUR, 5000)
                .version("1.1.0")
                .who("alice", "10.0.0.1"),
        ),
    ];
    fx.record(b, &Req::at(D + 9 * HOUR + 30 * MIN, 700));
    fx.record(
        b,
        &Req::at(D + DAY + 9 * HOUR + MIN, 900)
            .status(Some(503))
            .version("1.1.0"),
    );
    // An error recorded during r[2] (the 500).
    let group = fx.exception(
        a,
        "/",
        &ExceptionSpec {
            type_name: "shop::Error".into(),
            message: "payment declined".into(),
            chain: vec![],
            frames: vec![FrameSpec::app(
                "shop",
                "pay",
                "src/shop.rs",
                3,
                "fn pay() {\n    charge()?;\n}",
                4,
            )],
            times: vec![],
            kind: 1,
        },
    );
    fx.db.exec(
        "INSERT INTO exception_occurrence (group_id, request_id, type_id, message_id, snapshot_id, kind, time)
         SELECT id, ?2, type_id, message_id, snapshot_id, 1, ?3 FROM exception_group WHERE id = ?1",
        vals![group, r[2], D + 14 * HOUR + 5 * MIN],
    );
    let checkout = function("shop", "checkout", 10);
    let load_cart = function("shop::cart", "load_cart", 20);
    let price = function("shop::pricing", "price", 30);
    fx.profile(
        a,
        r[2],
        &[
            node(None, &checkout, 1, 1800, 300),
            node(Some(0), &load_cart, 1, 1000, 1000),
            node(Some(0), &price, 2, 500, 500),
        ],
    );
    fx.profile(
        a,
        r[4],
        &[
            node(None, &checkout, 1, 4600, 600),
            node(Some(0), &load_cart, 1, 4000, 4000),
        ],
    );
    fx.outlier(
        a,
        r[4],
        &OutlierSpec {
            url: "/checkout?cart=7&token=[scrubbed]".into(),
            headers: vec![
                ("accept".into(), "text/html".into()),
                ("authorization".into(), "[scrubbed]".into()),
            ],
            typical_us: 1500,
            threshold_us: 3750,
            cpu_percent: Some(12.5),
            memory_bytes: Some(50 << 20),
            stack: vec![
                FrameSpec::app(
                    "shop::cart",
                    "load_cart",
                    "src/cart.rs",
                    20,
                    "fn load_cart() {\n    db.query()?;\n}",
                    21,
                ),
                FrameSpec::app(
                    "shop",
                    "checkout",
                    "src/shop.rs",
                    10,
                    "fn checkout() {\n    load_cart()?;\n}",
                    11,
                ),
            ],
        },
    );
    fx.outlier(
        a,
        r[1],
        &OutlierSpec {
            url: "/checkout".into(),
            headers: vec![],
            typical_us: 1000,
            threshold_us: 2500,
            cpu_percent: None,
            memory_bytes: None,
            stack: vec![],
        },
    );
    fx.graph(
        "queue",
        D,
        &[
            (D, 1.0),
            (D + 10 * MIN, 3.0),
            (D + HOUR, 5.0),
            (D + 2 * HOUR + 1, 7.0),
        ],
    );
    Seeded { fx, a, b, r, group }
}
