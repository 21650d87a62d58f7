//! Version 10 of the PostgreSQL schema, as SQLite's (`store/sqlite/dictionaries.rs`): a
//! stored request holds ids of its route key (route and method), version, client
//! address, user (`group_by`) and instance, each text stored once in a dictionary; the
//! view `request_text` shows the columns the table had before. Dictionaries are never
//! pruned, and their ids are not declared foreign keys (the writer takes them from the
//! dictionary in the same transaction).
//!
//! The upgrade adds the id columns, fills them from the dictionaries in one pass, and
//! drops the text columns; every request keeps its row and id.

/// The dictionaries, the request table's id columns and indexes; then the view
/// [`sql::REQUEST_TEXT`](crate::store::sql::REQUEST_TEXT).
pub(super) const V10: &str = r#"
CREATE TABLE IF NOT EXISTS request_route (
    id     BIGSERIAL PRIMARY KEY,
    route  TEXT NOT NULL,
    method TEXT NOT NULL,
    UNIQUE (route, method)
);
CREATE TABLE IF NOT EXISTS request_version (
    id      BIGSERIAL PRIMARY KEY,
    version TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS request_address (
    id BIGSERIAL PRIMARY KEY,
    ip TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS request_user (
    id       BIGSERIAL PRIMARY KEY,
    group_by TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS request_instance (
    id       BIGSERIAL PRIMARY KEY,
    instance TEXT NOT NULL UNIQUE
);

INSERT INTO request_route (route, method) SELECT DISTINCT route, method FROM request
    ON CONFLICT DO NOTHING;
INSERT INTO request_version (version) SELECT DISTINCT version FROM request
    ON CONFLICT DO NOTHING;
INSERT INTO request_address (ip) SELECT DISTINCT ip FROM request WHERE ip IS NOT NULL
    ON CONFLICT DO NOTHING;
INSERT INTO request_user (group_by)
    SELECT DISTINCT group_by FROM request WHERE group_by IS NOT NULL
    ON CONFLICT DO NOTHING;
INSERT INTO request_instance (instance) SELECT DISTINCT instance FROM request
    ON CONFLICT DO NOTHING;

ALTER TABLE request
    ADD COLUMN route_id BIGINT,
    ADD COLUMN version_id BIGINT,
    ADD COLUMN ip_id BIGINT,
    ADD COLUMN user_id BIGINT,
    ADD COLUMN instance_id BIGINT;
UPDATE request r SET
    route_id = k.id, version_id = v.id, instance_id = i.id,
    ip_id = (SELECT a.id FROM request_address a WHERE a.ip = r.ip),
    user_id = (SELECT u.id FROM request_user u WHERE u.group_by = r.group_by)
FROM request_route k, request_version v, request_instance i
WHERE k.route = r.route AND k.method = r.method AND v.version = r.version
  AND i.instance = r.instance;
ALTER TABLE request
    ALTER COLUMN route_id SET NOT NULL,
    ALTER COLUMN version_id SET NOT NULL,
    ALTER COLUMN instance_id SET NOT NULL,
    DROP COLUMN route,
    DROP COLUMN method,
    DROP COLUMN version,
    DROP COLUMN ip,
    DROP COLUMN group_by,
    DROP COLUMN instance;
DROP INDEX IF EXISTS request_endpoint_time_sample;
CREATE INDEX IF NOT EXISTS request_endpoint_sample
    ON request(endpoint_id, time, id) INCLUDE (duration_us, version_id);
"#;
