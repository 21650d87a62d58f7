//! A dashboard database filled with SQL, row by row, exactly as the schema says — on
//! either engine ([`Engine`]): the statements are written in the SQL both understand.
//!
//! Lets the dashboard tests build any state (hostile strings, deep traces, old data)
//! without running the capture pipeline.

use std::path::Path;

use fmd_runtime::Database;
use fmd_runtime::store::AnyReader;
use fmd_runtime::store::RolledRequest;
use fmd_runtime::store::sqlite::roll_up_request;

use crate::engines::{Db, Engine, V, fresh_database, off_runtime};
use crate::vals;

/// A temporary fmd database.
pub struct Fixture {
    /// Which engine holds it.
    pub engine: Engine,
    /// Keeps a SQLite file's directory alive.
    pub dir: Option<tempfile::TempDir>,
    /// Where it is.
    pub database: Database,
    /// An open connection to it.
    pub db: Db,
}

/// One frame of a trace to insert.
#[derive(Clone)]
pub struct FrameSpec {
    /// Module path of the function.
    pub module: String,
    /// Function name.
    pub name: String,
    /// Source file as recorded.
    pub file: String,
    /// First line of the function.
    pub start_line: u32,
    /// The function's code; `None` for a library frame without source.
    pub code: Option<String>,
    /// The failing line (absolute line number in the file).
    pub line: u32,
    /// `false` for a library frame.
    pub in_app: bool,
    /// Consecutive repetitions (recursion).
    pub repeat: u32,
}

impl FrameSpec {
    /// An in-app frame whose code starts at `start_line`, failing at `line`.
    pub fn app(
        module: &str,
        name: &str,
        file: &str,
        start_line: u32,
        code: &str,
        line: u32,
    ) -> Self {
        FrameSpec {
            module: module.into(),
            name: name.into(),
            file: file.into(),
            start_line,
            code: Some(code.into()),
            line,
            in_app: true,
            repeat: 1,
        }
    }

    /// A library frame (no source).
    pub fn lib(module: &str, name: &str, file: &str, line: u32) -> Self {
        FrameSpec {
            module: module.into(),
            name: name.into(),
            file: file.into(),
            start_line: line,
            code: None,
            line,
            in_app: false,
            repeat: 1,
        }
    }
}

/// An exception group to insert with its occurrences.
pub struct ExceptionSpec {
    /// The error's type name.
    pub type_name: String,
    /// Its message.
    pub message: String,
    /// Its `source()` chain, outermost first.
    pub chain: Vec<String>,
    /// Innermost first.
    pub frames: Vec<FrameSpec>,
    /// Occurrence times (unix ms).
    pub times: Vec<i64>,
    /// 0 panic, 1 uncaught Err, 2 captured.
    pub kind: u8,
}

impl Fixture {
    /// A fresh SQLite database with the current schema.
    pub fn new() -> Fixture {
        Fixture::on(Engine::Sqlite)
    }

    /// A fresh database of `engine` with the current schema.
    pub fn on(engine: Engine) -> Fixture {
        let (database, dir) = fresh_database(engine);
        let reader = off_runtime(|| AnyReader::open(&database).expect("create the schema"));
        drop(reader);
        let db = Db::open(&database);
        Fixture {
            engine,
            dir,
            database,
            db,
        }
    }

    /// Where the database is, for a dashboard or reader of either engine.
    pub fn database(&self) -> Database {
        self.database.clone()
    }

    /// The dashboard's reader on this database (connected off any async runtime).
    pub fn reader(&self) -> AnyReader {
        let database = &self.database;
        off_runtime(|| AnyReader::open(database).expect("open the store"))
    }

    /// The SQLite file (tests of SQLite itself: query plans, file faults).
    pub fn path(&self) -> &Path {
        self.database
            .sqlite_path()
            .expect("this test reads the SQLite file; it has no PostgreSQL variant")
    }

    /// The SQLite connection (tests of SQLite itself).
    pub fn conn(&self) -> &rusqlite::Connection {
        match &self.db {
            Db::Sqlite(c) => c,
            Db::Postgres(_) => panic!("this test reads SQLite; it has no PostgreSQL variant"),
        }
    }

    /// Rows in `table`.
    pub fn count(&self, table: &str) -> i64 {
        self.db.count(table)
    }

    /// Inserts (or finds) an endpoint.
    pub fn endpoint(&self, name: &str) -> i64 {
        self.id(
            "INSERT INTO endpoint (name, created_at) VALUES (?1, 0) ON CONFLICT (name) DO NOTHING",
            vals![name],
            "SELECT id FROM endpoint WHERE name = ?1",
            vals![name],
        )
    }

    /// Inserts one request with its rollup rows (and moves the endpoint's `last_requested`).
    pub fn request(
        &self,
        endpoint: i64,
        route: &str,
        time: i64,
        duration_us: i64,
        status: u16,
        group_by: &str,
    ) -> i64 {
        let texts = crate::request_rows::Texts {
            route,
            method: "GET",
            version: "1.0.0",
            ip: Some("127.0.0.1"),
            user: Some(group_by),
            instance: "test",
        };
        let id = crate::request_rows::insert(
            &self.db,
            endpoint,
            &texts,
            time,
            duration_us,
            Some(i64::from(status)),
            false,
        );
        let rolled = RolledRequest {
            endpoint_id: endpoint,
            time_ms: time,
            duration_us,
            status: Some(status),
            cancelled: false,
        };
        self.roll_up(&rolled, "1.0.0", "test");
        id
    }

    /// Adds a request inserted by hand to every rollup, as the engine's writer does.
    pub fn roll_up(&self, r: &RolledRequest, version: &str, instance: &str) {
        match &self.db {
            Db::Sqlite(conn) => roll_up_request(conn, r, version, instance).expect("rollups"),
            Db::Postgres(client) => off_runtime(|| {
                let mut client = client.lock();
                let client = client.as_mut().expect("open");
                fmd_runtime::store::postgres::roll_up_request(client, r, version, instance)
                    .expect("rollups")
            }),
        }
    }

    /// Runs `insert` (which may do nothing on a conflict), then returns `select`'s id.
    pub fn id(&self, insert: &str, insert_params: &[V], select: &str, params: &[V]) -> i64 {
        self.db.exec(insert, insert_params);
        self.db.query_i64(select, params).expect(select)
    }

    /// Inserts (or finds) the function of a frame: its definition (when it has code) and
    /// location. Returns `function_location.id`.
    pub fn location(&self, f: &FrameSpec) -> i64 {
        let def_id: Option<i64> = f.code.as_ref().map(|code| {
            let h = hash(code);
            self.id(
                "INSERT INTO function_definition (code_hash, code, verbatim) VALUES (?1, ?2, TRUE)
                 ON CONFLICT DO NOTHING",
                vals![h, code],
                "SELECT id FROM function_definition WHERE code_hash = ?1",
                vals![h],
            )
        });
        let end_line = f.start_line
            + f.code
                .as_ref()
                .map_or(0, |c| c.lines().count() as u32)
                .saturating_sub(1);
        self.id(
            "INSERT INTO function_location (definition_id, module, name, file, start_line, end_line, in_app)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
            vals![def_id, &f.module, &f.name, &f.file, f.start_line, end_line, f.in_app],
            "SELECT id FROM function_location WHERE definition_id IS NOT DISTINCT FROM ?1
             AND module = ?2 AND name = ?3 AND file = ?4 AND start_line = ?5",
            vals![def_id, &f.module, &f.name, &f.file, f.start_line],
        )
    }

    /// Inserts a stack-trace snapshot of `frames` (innermost first), keyed by `salt`.
    /// Returns `stack_trace_snapshot.id`.
    pub fn snapshot(&self, salt: &str, frames: &[FrameSpec]) -> i64 {
        let snap_hash = hash(&format!("snap{salt}"));
        let snapshot_id = self.id(
            "INSERT INTO stack_trace_snapshot (hash, depth) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            vals![snap_hash, frames.len()],
            "SELECT id FROM stack_trace_snapshot WHERE hash = ?1",
            vals![snap_hash],
        );
        for (pos, f) in frames.iter().enumerate() {
            let loc_id = self.location(f);
            let frame_id = self.id(
                "INSERT INTO exception_frame (location_id, line) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                vals![loc_id, f.line],
                "SELECT id FROM exception_frame WHERE location_id = ?1 AND line = ?2",
                vals![loc_id, f.line],
            );
            self.db.exec(
                "INSERT INTO exception_stackline (snapshot_id, position, frame_id, repeat)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                vals![snapshot_id, pos, frame_id, f.repeat],
            );
        }
        snapshot_id
    }

    /// Inserts a group with its trace and one occurrence (and request) per time.
    /// Returns the group id.
    pub fn exception(&self, endpoint: i64, route: &str, e: &ExceptionSpec) -> i64 {
        let salt = format!("{}{}{}", endpoint, e.type_name, e.message);
        let type_id = self.id(
            "INSERT INTO exception_type (name) VALUES (?1) ON CONFLICT DO NOTHING",
            vals![&e.type_name],
            "SELECT id FROM exception_type WHERE name = ?1",
            vals![&e.type_name],
        );
        let message_id = self.id(
            "INSERT INTO exception_message (message) VALUES (?1) ON CONFLICT DO NOTHING",
            vals![&e.message],
            "SELECT id FROM exception_message WHERE message = ?1",
            vals![&e.message],
        );
        let snapshot_id = self.snapshot(&salt, &e.frames);
        let first = e.times.iter().copied().min().unwrap_or(0);
        let last = e.times.iter().copied().max().unwrap_or(0);
        let group_id = self
            .db
            .query_i64(
                "INSERT INTO exception_group (endpoint_id, hash, type_id, message_id, snapshot_id, first_seen, last_seen, count)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
                vals![endpoint, hash(&salt), type_id, message_id, snapshot_id, first, last, e.times.len()],
            )
            .expect("group");
        let chain = serde_json::to_string(&e.chain).expect("chain");
        for t in &e.times {
            let request_id = self.request(
                endpoint,
                route,
                *t,
                1500,
                if e.kind == 2 { 200 } else { 500 },
                "user",
            );
            self.db.exec(
                "INSERT INTO exception_occurrence (group_id, request_id, type_id, message_id, snapshot_id, kind, time, source_chain)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                vals![group_id, request_id, type_id, message_id, snapshot_id, e.kind, *t, &chain],
            );
        }
        group_id
    }
}

/// A stable 64-bit FNV-1a hash for the fixture's unique columns.
fn hash(s: &str) -> i64 {
    s.bytes().fold(1469598103934665603u64, |h, b| {
        (h ^ b as u64).wrapping_mul(1099511628211)
    }) as i64
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture::new()
    }
}

/// Now in unix ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Serves `router` on 127.0.0.1 (a free port) in the background; returns the base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

/// Serves the dashboard `d` under `/dashboard` with the tests' first admin
/// (`admin` / `correct-horse-7`); returns the base URL.
pub async fn serve_dashboard(d: fmd_dashboard::Dashboard) -> String {
    let router =
        axum::Router::new().nest("/dashboard", d.admin("admin", "correct-horse-7").router());
    serve(router).await
}

/// The value of a `name="csrf"` hidden field in a page.
pub fn csrf_in(html: &str) -> Option<String> {
    let at = html.find(r#"name="csrf" value=""#)? + r#"name="csrf" value=""#.len();
    Some(html[at..].split('"').next()?.to_owned())
}

/// A route of the dashboard's table (`/endpoint/{id}/exceptions/{group}/delete`) as a
/// concrete path under `base`: each `{param}` becomes 1, and `/` is `base` itself.
pub fn concrete(base: &str, path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => in_param = true,
            '}' => {
                in_param = false;
                out.push('1');
            }
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    format!(
        "{base}{path}",
        path = if out == "/" { String::new() } else { out }
    )
}
