//! The storage engines the store-level and page tests run against, and a neutral way to
//! seed either with SQL.
//!
//! A test body takes an [`Engine`]; [`both_engines!`](crate::both_engines) turns it into one
//! test per engine (`name::sqlite`, `name::postgres`), so one suite covers both. Every
//! PostgreSQL test gets a database of its own, created on the server that
//! `scripts/test` starts (`FMD_TEST_POSTGRES_URL`), so tests run in parallel. Without that
//! variable a PostgreSQL test fails and says how to get one; it never skips silently.

use std::sync::atomic::{AtomicU32, Ordering};

use fmd_runtime::Database;

/// A storage engine under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the test PostgreSQL server.
    Postgres,
}

/// The test server's URL, from `FMD_TEST_POSTGRES_URL`.
pub fn postgres_url() -> String {
    required_var("FMD_TEST_POSTGRES_URL", "")
}

/// The test server's URL for the role that may connect over TLS only (at `localhost`, no
/// `sslmode`), from `FMD_TEST_POSTGRES_TLS_URL`.
pub fn postgres_tls_url() -> String {
    required_var(
        "FMD_TEST_POSTGRES_TLS_URL",
        " (with ssl=on and a role that pg_hba allows over TLS only)",
    )
}

/// The PEM file of the CA that signed the test server's certificate, from
/// `FMD_TEST_POSTGRES_CA`.
pub fn postgres_ca() -> String {
    required_var("FMD_TEST_POSTGRES_CA", " (the CA of its TLS certificate)")
}

fn required_var(name: &str, what: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!(
            "{name} is not set: the PostgreSQL tests need a server{what}. Run scripts/test \
             (it starts a throwaway PostgreSQL cluster on 127.0.0.1 and sets the \
             FMD_TEST_POSTGRES_* variables), or point {name} at a server where this user \
             may CREATE DATABASE."
        ),
    }
}

/// Creates an empty database on the test server and returns its URL.
pub fn fresh_postgres_database() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let base = postgres_url();
    let name = format!(
        "fmd_t{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        crate::dashboard_fixture::now_ms() % 1_000_000
    );
    off_runtime(|| {
        let mut admin = postgres::Client::connect(&base, postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to FMD_TEST_POSTGRES_URL ({base}): {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    });
    with_dbname(&base, &name)
}

/// `url` with its database name replaced by `name`.
pub fn with_dbname(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let (authority, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let query = tail
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}

/// A fresh, empty store of `engine`: the [`Database`] and, for SQLite, the directory
/// holding its file (keep it alive).
pub fn fresh_database(engine: Engine) -> (Database, Option<tempfile::TempDir>) {
    match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            (Database::Sqlite(dir.path().join("fmd.db")), Some(dir))
        }
        Engine::Postgres => (Database::Postgres(fresh_postgres_database()), None),
    }
}

/// A value bound to a fixture statement, with its SQL type (PostgreSQL needs it for NULL).
#[derive(Debug, Clone)]
pub enum V {
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text.
    Text(String),
    /// A flag (`INTEGER` 0/1 in SQLite, `BOOLEAN` in PostgreSQL).
    Bool(bool),
    /// A NULL integer.
    NullInt,
    /// A NULL number.
    NullFloat,
    /// A NULL text.
    NullText,
}

macro_rules! int_values {
    ($($t:ty),*) => {$(
        impl From<$t> for V {
            fn from(v: $t) -> V {
                V::Int(v as i64)
            }
        }
        impl From<Option<$t>> for V {
            fn from(v: Option<$t>) -> V {
                v.map_or(V::NullInt, |v| V::Int(v as i64))
            }
        }
    )*};
}
int_values!(i64, i32, u32, u16, u8, usize);

impl From<bool> for V {
    fn from(v: bool) -> V {
        V::Bool(v)
    }
}
impl From<f64> for V {
    fn from(v: f64) -> V {
        V::Float(v)
    }
}
impl From<Option<f64>> for V {
    fn from(v: Option<f64>) -> V {
        v.map_or(V::NullFloat, V::Float)
    }
}
impl From<&str> for V {
    fn from(v: &str) -> V {
        V::Text(v.to_owned())
    }
}
impl From<&String> for V {
    fn from(v: &String) -> V {
        V::Text(v.clone())
    }
}
impl From<String> for V {
    fn from(v: String) -> V {
        V::Text(v)
    }
}
impl From<Option<&str>> for V {
    fn from(v: Option<&str>) -> V {
        v.map_or(V::NullText, |s| V::Text(s.to_owned()))
    }
}
impl From<&Option<String>> for V {
    fn from(v: &Option<String>) -> V {
        v.as_deref().into()
    }
}

/// `[a, b, ..]` as fixture values.
#[macro_export]
macro_rules! vals {
    ($($v:expr),* $(,)?) => { &[$($crate::engines::V::from($v)),*][..] };
}

/// One test per engine from a body `fn name(engine: Engine)` (or `async fn` with
/// `async`): `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name($crate::engines::Engine::Sqlite)
            }
            #[test]
            fn postgres() {
                super::$name($crate::engines::Engine::Postgres)
            }
        }
    )*};
    (async $($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::engines::Engine::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$name($crate::engines::Engine::Postgres).await
            }
        }
    )*};
}

/// A connection for seeding and inspecting a store with SQL both engines understand:
/// placeholders are written `?1`, `?2` .. and become `$1` .. for PostgreSQL.
pub enum Db {
    /// SQLite.
    Sqlite(rusqlite::Connection),
    /// PostgreSQL; used from threads of its own (see [`off_runtime`]).
    Postgres(parking_lot::Mutex<Option<postgres::Client>>),
}

/// Runs `f` on a thread outside any async runtime: the synchronous PostgreSQL driver
/// blocks on a runtime of its own, which tokio forbids inside `#[tokio::test]`.
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Db::Postgres(c) = self
            && let Some(client) = c.get_mut().take()
        {
            off_runtime(move || drop(client));
        }
    }
}

fn pg_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

fn sqlite_value(v: &V) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match v {
        V::Int(i) => Value::Integer(*i),
        V::Float(f) => Value::Real(*f),
        V::Text(s) => Value::Text(s.clone()),
        V::Bool(b) => Value::Integer(i64::from(*b)),
        V::NullInt | V::NullFloat | V::NullText => Value::Null,
    }
}

fn pg_value(v: &V) -> Box<dyn postgres::types::ToSql + Sync> {
    match v {
        V::Int(i) => Box::new(*i),
        V::Float(f) => Box::new(*f),
        V::Text(s) => Box::new(s.clone()),
        V::Bool(b) => Box::new(*b),
        V::NullInt => Box::new(None::<i64>),
        V::NullFloat => Box::new(None::<f64>),
        V::NullText => Box::new(None::<String>),
    }
}

impl Db {
    /// Connects to `database` (its schema must exist).
    pub fn open(database: &Database) -> Db {
        match database {
            Database::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).expect("open SQLite");
                conn.busy_timeout(std::time::Duration::from_secs(10))
                    .expect("busy timeout");
                Db::Sqlite(conn)
            }
            Database::Postgres(url) => {
                Db::Postgres(parking_lot::Mutex::new(Some(off_runtime(|| {
                    postgres::Client::connect(url, postgres::NoTls).expect("connect PostgreSQL")
                }))))
            }
        }
    }

    /// Runs a statement; returns the rows it changed.
    pub fn exec(&self, sql: &str, params: &[V]) -> u64 {
        match self {
            Db::Sqlite(c) => {
                let values: Vec<_> = params.iter().map(sqlite_value).collect();
                c.execute(sql, rusqlite::params_from_iter(values))
                    .unwrap_or_else(|e| panic!("{sql}: {e}")) as u64
            }
            Db::Postgres(c) => {
                let boxes: Vec<_> = params.iter().map(pg_value).collect();
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    boxes.iter().map(|b| &**b).collect();
                let sql_pg = pg_sql(sql);
                off_runtime(|| {
                    let mut c = c.lock();
                    let c = c.as_mut().expect("open");
                    c.execute(&sql_pg, &refs)
                })
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
        }
    }

    /// The first column of the first row as an integer, if there is a row and a value.
    pub fn query_i64(&self, sql: &str, params: &[V]) -> Option<i64> {
        match self {
            Db::Sqlite(c) => {
                let values: Vec<_> = params.iter().map(sqlite_value).collect();
                let mut stmt = c.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                let mut rows = stmt
                    .query(rusqlite::params_from_iter(values))
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                let row = rows.next().unwrap_or_else(|e| panic!("{sql}: {e}"))?;
                row.get::<_, Option<i64>>(0)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
            Db::Postgres(c) => {
                let boxes: Vec<_> = params.iter().map(pg_value).collect();
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    boxes.iter().map(|b| &**b).collect();
                let sql_pg = pg_sql(sql);
                let row = off_runtime(|| {
                    let mut c = c.lock();
                    let c = c.as_mut().expect("open");
                    c.query_opt(&sql_pg, &refs)
                })
                .unwrap_or_else(|e| panic!("{sql}: {e}"))?;
                row.get::<_, Option<i64>>(0)
            }
        }
    }

    /// The first column of every row as text (a statement without parameters).
    pub fn strings(&self, sql: &str) -> Vec<String> {
        match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                stmt.query_map([], |r| r.get(0))
                    .and_then(|rows| rows.collect())
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
            Db::Postgres(c) => off_runtime(|| {
                let mut c = c.lock();
                let c = c.as_mut().expect("open");
                c.query(sql, &[])
            })
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .iter()
            .map(|r| r.get(0))
            .collect(),
        }
    }

    /// Rows in `table`.
    pub fn count(&self, table: &str) -> i64 {
        self.query_i64(&format!("SELECT count(*) FROM {table}"), &[])
            .unwrap_or(0)
    }

    /// Runs statements without parameters (`BEGIN`, `COMMIT`).
    pub fn batch(&self, sql: &str) {
        match self {
            Db::Sqlite(c) => c.execute_batch(sql).expect(sql),
            Db::Postgres(c) => off_runtime(|| {
                let mut c = c.lock();
                c.as_mut().expect("open").batch_execute(sql).expect(sql)
            }),
        }
    }
}
