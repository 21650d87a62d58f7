//! `fmd prune`: deletes old data now, or counts what would go.

use std::time::Duration;

use anyhow::Context;
use fmd_runtime::Database;
use fmd_runtime::store::AnyReader;
use fmd_runtime::store::check::prune_preview;
use fmd_runtime::store::read::PruneReport;

/// Prunes everything older than `older_than` (or, with `dry_run`, counts it); with `raw`,
/// only the raw request rows and what hangs off them.
pub fn run(
    database: &Database,
    older_than: Duration,
    dry_run: bool,
    raw: bool,
) -> anyhow::Result<()> {
    crate::require_existing(database)?;
    let age = i64::try_from(older_than.as_millis()).context("--older-than is too large")?;
    let cutoff = crate::now_ms().saturating_sub(age);
    let cutoff_text = crate::timespec::format_ms(cutoff);
    let report = if dry_run {
        let all =
            prune_preview(database, cutoff).with_context(|| format!("cannot read {database}"))?;
        if raw { raw_part(&all) } else { all }
    } else {
        let mut store =
            AnyReader::open(database).with_context(|| format!("cannot open {database}"))?;
        if raw {
            store.prune_raw(cutoff)
        } else {
            store.prune(cutoff)
        }
        .with_context(|| format!("cannot prune {database}"))?
    };
    let what = if raw { "raw request rows" } else { "data" };
    if dry_run {
        println!("dry run: nothing deleted; {what} before {cutoff_text} that would go:");
    } else {
        println!("deleted {what} before {cutoff_text}:");
    }
    print_report(&report);
    Ok(())
}

/// What raw pruning deletes of what the full pruning would: the requests, their outliers
/// and call trees (the same rows either way); nothing else.
fn raw_part(all: &PruneReport) -> PruneReport {
    PruneReport {
        requests: all.requests,
        outliers: all.outliers,
        profile_nodes: all.profile_nodes,
        ..PruneReport::default()
    }
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
