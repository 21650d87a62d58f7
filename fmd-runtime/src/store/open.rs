//! Opening a store: the engine is picked by the configured [`Database`].

use super::sqlite;
use super::{Store, StoreError};
use crate::config::Database;

/// Opens the writer's store for `database` (creating and migrating its schema).
///
/// A PostgreSQL URL in a build without the `postgres` feature is an error here too
/// (configuration validation reports it first).
pub fn open_store(database: &Database) -> Result<Box<dyn Store>, StoreError> {
    match database {
        Database::Sqlite(path) => Ok(Box::new(sqlite::SqliteStore::open(path)?)),
        #[cfg(feature = "postgres")]
        Database::Postgres(url) => Ok(Box::new(super::postgres::PgStore::open(url)?)),
        #[cfg(not(feature = "postgres"))]
        Database::Postgres(_) => Err(StoreError::without_postgres()),
    }
}
