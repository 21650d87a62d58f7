//! `fmd export`: stored rows to standard output as CSV or JSON, streamed page by page
//! (keyset-paged reads of [`MAX_PAGE`] rows), so memory stays constant at any size.

use std::io::{BufWriter, ErrorKind, Write};

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use fmd_dashboard::export as csv;
use fmd_runtime::Database;
use fmd_runtime::store::check::open_read_only;
use fmd_runtime::store::read::{DashboardStore, MAX_PAGE, RequestWindow};

use crate::timespec::{format_ms, parse_time};

/// What to export.
#[derive(Debug, Subcommand)]
pub enum What {
    /// Stored requests with `since <= time < until`, oldest first.
    Requests {
        /// Start (inclusive): RFC 3339 (2024-05-01T00:00:00Z) or Unix milliseconds.
        #[arg(long, value_parser = parse_time)]
        since: i64,
        /// End (exclusive), the same forms; default now.
        #[arg(long, value_parser = parse_time)]
        until: Option<i64>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
        /// Only this endpoint (its name as on the overview, or its id).
        #[arg(long)]
        endpoint: Option<String>,
    },
}

/// Output formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// A header line, then one comma-separated line per row (RFC 4180 quoting).
    Csv,
    /// One JSON array, one object per line.
    Json,
}

/// Writes the rows `what` names to standard output.
pub fn run(database: &Database, what: What) -> anyhow::Result<()> {
    crate::require_existing(database)?;
    let What::Requests {
        since,
        until,
        format,
        endpoint,
    } = what;
    let until = until.unwrap_or_else(|| crate::now_ms().saturating_add(1));
    if until < since {
        bail!(
            "--until ({}) is before --since ({})",
            format_ms(until),
            format_ms(since)
        );
    }
    let mut store = open_read_only(database).with_context(|| format!("cannot open {database}"))?;
    let endpoint_id = match endpoint {
        None => None,
        Some(name) => Some(find_endpoint(&mut *store, &name)?),
    };
    let mut window = RequestWindow {
        from: since,
        to: until,
        endpoint_id,
        instance: None,
        after: None,
        limit: MAX_PAGE,
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    let written = (|| -> anyhow::Result<()> {
        let mut first = true;
        match format {
            Format::Csv => csv::write_line(&mut out, &csv::REQUEST_COLUMNS)?,
            Format::Json => writeln!(out, "[")?,
        }
        loop {
            let page = store
                .requests_in_window(&window)
                .context("cannot read the requests")?;
            for row in &page {
                match format {
                    Format::Csv => csv::write_line(&mut out, &csv::request_fields(row))?,
                    Format::Json => {
                        if !first {
                            writeln!(out, ",")?;
                        }
                        serde_json::to_writer(&mut out, row)?;
                    }
                }
                first = false;
            }
            match page.last() {
                Some(last) if page.len() >= MAX_PAGE as usize => {
                    window.after = Some((last.time, last.id));
                }
                _ => break,
            }
        }
        if let Format::Json = format {
            if !first {
                writeln!(out)?;
            }
            writeln!(out, "]")?;
        }
        out.flush()?;
        Ok(())
    })();
    match written {
        // `fmd export … | head` closes the pipe early: not a failure.
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                == Some(ErrorKind::BrokenPipe)
    })
}

/// The endpoint's id by name (or an id given as a number).
fn find_endpoint(store: &mut (impl DashboardStore + ?Sized), name: &str) -> anyhow::Result<i64> {
    if let Ok(id) = name.parse::<i64>()
        && store
            .endpoint(id)
            .context("cannot read the endpoints")?
            .is_some()
    {
        return Ok(id);
    }
    let endpoints = store
        .overview(crate::now_ms(), None)
        .context("cannot read the endpoints")?;
    match endpoints.iter().find(|e| e.name == name) {
        Some(e) => Ok(e.id),
        None => bail!("no endpoint named {name:?} (see the overview for the names)"),
    }
}
