//! Read queries and admin operations the dashboard needs (owned by the dashboard work).
