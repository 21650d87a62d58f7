//! `fmd prune`: deletes old data now, or counts what would go.

use std::time::Duration;

use anyhow::Context;
use fmd_runtime::Database;
use fmd_runtime::store::AnyReader;
use fmd_runtime::store::check::prune_preview;
use fmd_runtime::store::read::PruneReport;

/// Prunes everything older than `older_than` (or, with `dry_run`, counts it).
pub fn run(database: &Database, older_than: Duration, dry_run: bool) -> anyhow::Result<()> {
    crate::require_existing(database)?;
    let age = i64::try_from(older_than.as_millis()).context("--older-than is too large")?;
    let cutoff = crate::now_ms().saturating_sub(age);
    let cutoff_text = crate::timespec::format_ms(cutoff);
    let report = if dry_run {
        prune_preview(database, cutoff).with_context(|| format!("cannot read {database}"))?
    } else {
        let mut store =
            AnyReader::open(database).with_context(|| format!("cannot open {database}"))?;
        store
            .prune(cutoff)
            .with_context(|| format!("cannot prune {database}"))?
    };
    if dry_run {
        println!("dry run: nothing deleted; data before {cutoff_text} that would go:");
    } else {
        println!("deleted data before {cutoff_text}:");
    }
    print_report(&report);
    Ok(())
}

fn print_report(r: &PruneReport) {
    for (name, n) in [
        ("requests", r.requests),
        ("occurrences", r.occurrences),
        ("exception groups", r.groups),
        ("outliers", r.outliers),
        ("profile nodes", r.profile_nodes),
        ("hourly rows", r.hourly_rows),
        ("duration rows", r.duration_rows),
        ("graph values", r.graph_values),
    ] {
        println!("  {:<18}{n}", format!("{name}:"));
    }
}
