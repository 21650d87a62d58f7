//! SQLite implementation of the dashboard queries (owned by the dashboard work).
