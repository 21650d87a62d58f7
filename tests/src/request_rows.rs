//! Request rows stored by hand, as the writer stores them since schema version 10: the
//! texts in their dictionaries, the row holding the ids (both engines).

use crate::engines::Db;
use crate::vals;

/// The texts of a request.
pub struct Texts<'a> {
    /// The route template.
    pub route: &'a str,
    /// The HTTP method.
    pub method: &'a str,
    /// The application version.
    pub version: &'a str,
    /// The client address.
    pub ip: Option<&'a str>,
    /// The `group_by` value.
    pub user: Option<&'a str>,
    /// The instance.
    pub instance: &'a str,
}

impl Texts<'static> {
    /// The texts of the generated old requests of `/bulk` (pruning tests): `GET`, version
    /// `1.0.0`, client `127.0.0.1`, an empty user, instance `test`.
    pub const BULK: Texts<'static> = Texts {
        route: "/bulk",
        method: "GET",
        version: "1.0.0",
        ip: Some("127.0.0.1"),
        user: Some(""),
        instance: "test",
    };
}

/// The dictionary ids of [`Texts`].
pub struct Ids {
    /// `request_route.id`.
    pub route: i64,
    /// `request_version.id`.
    pub version: i64,
    /// `request_address.id`.
    pub ip: Option<i64>,
    /// `request_user.id`.
    pub user: Option<i64>,
    /// `request_instance.id`.
    pub instance: i64,
}

/// The id of `text` in `table(column)`, stored if new.
fn intern(db: &Db, table: &str, column: &str, text: &str) -> i64 {
    db.query_i64(
        &format!(
            "INSERT INTO {table} ({column}) VALUES (?1)
             ON CONFLICT ({column}) DO UPDATE SET {column} = excluded.{column} RETURNING id"
        ),
        vals![text],
    )
    .expect("dictionary id")
}

/// The ids of `t`, each text stored if new.
pub fn ids(db: &Db, t: &Texts) -> Ids {
    let route = db
        .query_i64(
            "INSERT INTO request_route (route, method) VALUES (?1, ?2)
             ON CONFLICT (route, method) DO UPDATE SET route = excluded.route RETURNING id",
            vals![t.route, t.method],
        )
        .expect("route id");
    Ids {
        route,
        version: intern(db, "request_version", "version", t.version),
        ip: t.ip.map(|ip| intern(db, "request_address", "ip", ip)),
        user: t.user.map(|u| intern(db, "request_user", "group_by", u)),
        instance: intern(db, "request_instance", "instance", t.instance),
    }
}

/// Stores a request of `endpoint` with the texts `t`; returns its id.
pub fn insert(
    db: &Db,
    endpoint: i64,
    t: &Texts,
    time: i64,
    duration_us: i64,
    status: Option<i64>,
    cancelled: bool,
) -> i64 {
    let ids = ids(db, t);
    db.query_i64(
        "INSERT INTO request (endpoint_id, route_id, time, duration_us, status, cancelled,
                              version_id, ip_id, user_id, instance_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
        vals![
            endpoint,
            ids.route,
            time,
            duration_us,
            status,
            cancelled,
            ids.version,
            ids.ip,
            ids.user,
            ids.instance
        ],
    )
    .expect("request")
}

/// Turns a SQLite file's requests back into schema version 8's layout (six text columns
/// per row, the indexes of then) and forgets the dictionaries: for upgrade tests. Foreign
/// keys must be off on the connection (the table is rebuilt under the same ids).
pub const SQLITE_BACK_TO_V8: &str = "
    CREATE TABLE request_v8 (
        id INTEGER PRIMARY KEY, endpoint_id INTEGER NOT NULL REFERENCES endpoint(id),
        route TEXT NOT NULL, method TEXT NOT NULL, time INTEGER NOT NULL,
        duration_us INTEGER NOT NULL, status INTEGER, cancelled INTEGER NOT NULL DEFAULT 0,
        version TEXT NOT NULL, ip TEXT, group_by TEXT, instance TEXT NOT NULL);
    INSERT INTO request_v8 SELECT id, endpoint_id, route, method, time, duration_us, status,
        cancelled, version, ip, group_by, instance FROM request_text ORDER BY id;
    DROP VIEW request_text;
    DROP TABLE request;
    ALTER TABLE request_v8 RENAME TO request;
    CREATE INDEX request_endpoint_time_sample
        ON request(endpoint_id, time, id, duration_us, version);
    CREATE INDEX request_time ON request(time);
    CREATE INDEX request_failed ON request(endpoint_id, time)
        WHERE status >= 400 OR cancelled = 1;
    DROP TABLE request_route; DROP TABLE request_version; DROP TABLE request_address;
    DROP TABLE request_user; DROP TABLE request_instance;
    UPDATE fmd_meta SET value = '8' WHERE key = 'schema_version';";

/// [`SQLITE_BACK_TO_V8`] for PostgreSQL: the text columns back, filled from the view, the
/// id columns and dictionaries dropped.
pub const POSTGRES_BACK_TO_V8: &str = "
    ALTER TABLE request ADD COLUMN route TEXT, ADD COLUMN method TEXT, ADD COLUMN version TEXT,
        ADD COLUMN ip TEXT, ADD COLUMN group_by TEXT, ADD COLUMN instance TEXT;
    UPDATE request r SET route = t.route, method = t.method, version = t.version, ip = t.ip,
        group_by = t.group_by, instance = t.instance FROM request_text t WHERE t.id = r.id;
    DROP VIEW request_text;
    ALTER TABLE request ALTER COLUMN route SET NOT NULL, ALTER COLUMN method SET NOT NULL,
        ALTER COLUMN version SET NOT NULL, ALTER COLUMN instance SET NOT NULL,
        DROP COLUMN route_id, DROP COLUMN version_id, DROP COLUMN ip_id, DROP COLUMN user_id,
        DROP COLUMN instance_id;
    CREATE INDEX request_endpoint_time_sample
        ON request(endpoint_id, time, id) INCLUDE (duration_us, version);
    DROP TABLE request_route; DROP TABLE request_version; DROP TABLE request_address;
    DROP TABLE request_user; DROP TABLE request_instance;
    UPDATE fmd_meta SET value = '8' WHERE key = 'schema_version';";

/// Turns `db`'s requests back into schema version 8's layout ([`SQLITE_BACK_TO_V8`],
/// [`POSTGRES_BACK_TO_V8`]); the next open upgrades them again.
pub fn back_to_version_8(db: &Db) {
    match db {
        Db::Sqlite(_) => {
            db.batch("PRAGMA foreign_keys = OFF");
            db.batch(SQLITE_BACK_TO_V8);
            db.batch("PRAGMA foreign_keys = ON");
        }
        Db::Postgres(_) => db.batch(POSTGRES_BACK_TO_V8),
    }
}
