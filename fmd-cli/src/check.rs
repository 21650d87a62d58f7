//! `fmd check`: what is in the database, read without changing it.

use anyhow::Context;
use fmd_runtime::Database;
use fmd_runtime::store::check::check;

/// Prints the schema version, pending migration, size and row counts of `database`.
pub fn run(database: &Database) -> anyhow::Result<()> {
    let report = check(database).with_context(|| format!("cannot check {database}"))?;
    let engine = match database {
        Database::Sqlite(_) => "SQLite",
        Database::Postgres(_) => "PostgreSQL",
    };
    println!("database:          {database} ({engine})");
    let stored = match report.schema_version {
        0 => "none (not an fmd database yet)".to_owned(),
        v => v.to_string(),
    };
    println!("schema version:    {stored}");
    println!("this build:        {}", report.expected_version);
    let pending = if report.migration_pending() {
        "yes (the next fmd that writes to it migrates it)"
    } else if report.schema_version > report.expected_version {
        "no (written by a newer fmd)"
    } else {
        "no"
    };
    println!("migration pending: {pending}");
    if let Some(size) = report.size_bytes {
        println!("size:              {size} bytes ({})", human(size));
    }
    let c = &report.counts;
    for (name, n) in [
        ("requests", c.requests),
        ("endpoints", c.endpoints),
        ("exception groups", c.exception_groups),
        ("occurrences", c.occurrences),
        ("users", c.users),
    ] {
        let value = n.map_or_else(|| "(no table)".to_owned(), |n| n.to_string());
        println!("{:<19}{value}", format!("{name}:"));
    }
    Ok(())
}

/// `size` in KiB, MiB or GiB with one decimal.
fn human(size: u64) -> String {
    let mut value = size as f64;
    for unit in ["B", "KiB", "MiB", "GiB"] {
        if value < 1024.0 || unit == "GiB" {
            return if unit == "B" {
                format!("{size} B")
            } else {
                format!("{value:.1} {unit}")
            };
        }
        value /= 1024.0;
    }
    format!("{size} B")
}
