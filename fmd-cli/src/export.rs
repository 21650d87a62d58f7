//! `fmd export`: stored requests or issues to standard output as CSV or JSON, streamed
//! page by page (reads of [`MAX_PAGE`] rows: requests keyset-paged, issues by offset), so
//! memory stays constant at any size.

use std::io::{BufWriter, ErrorKind, Write};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use fmd_dashboard::export as csv;
use fmd_runtime::Database;
use fmd_runtime::store::check::open_read_only;
use fmd_runtime::store::read::{
    DashboardStore, IssueFilter, IssueKind, IssueSort, MAX_PAGE, RequestWindow,
};
use serde::Serialize;

use crate::timespec::{format_ms, parse_time};

/// What to export.
#[derive(Debug, Subcommand)]
pub enum What {
    /// Stored requests with `since <= time < until`, oldest first.
    Requests(Window),
    /// Issues with an occurrence in `since <= time < until`, most recently seen first
    /// (`--endpoint`: issues that happened on it; `--kind`: server errors unless asked).
    Issues(IssueWindow),
}

/// The issue export's arguments: the window and the kind.
#[derive(Debug, Args)]
pub struct IssueWindow {
    #[command(flatten)]
    window: Window,
    /// Which issues: server errors (panics, errors answered 5xx, captured errors), client
    /// errors (a handler's outcome answered 4xx: the client's mistake) or both.
    #[arg(long, value_enum, default_value_t = Kind::Server)]
    kind: Kind,
}

/// The kinds of issues, as the dashboard's filter names them.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    /// Server error issues.
    Server,
    /// Client error issues (every occurrence answered 4xx).
    Client,
    /// Both.
    All,
}

impl From<Kind> for IssueKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Server => IssueKind::Server,
            Kind::Client => IssueKind::Client,
            Kind::All => IssueKind::All,
        }
    }
}

/// The window, format and endpoint both exports take.
#[derive(Debug, Args)]
pub struct Window {
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
    let (kind, window) = match what {
        What::Requests(w) => (None, w),
        What::Issues(IssueWindow { window, kind }) => (Some(IssueKind::from(kind)), window),
    };
    let Window {
        since,
        until,
        format,
        endpoint,
    } = window;
    let until = until.unwrap_or_else(|| crate::now_ms().saturating_add(1));
    if until < since {
        bail!(
            "--until ({}) is before --since ({})",
            format_ms(until),
            format_ms(since)
        );
    }
    let mut store = open_read_only(database).with_context(|| format!("cannot open {database}"))?;
    let endpoint = match endpoint {
        None => None,
        Some(name) => Some(find_endpoint(&mut *store, &name)?),
    };
    let written = if let Some(kind) = kind {
        let filter = IssueFilter {
            endpoint_id: endpoint.map(|(id, _)| id),
            from: Some(since),
            to: Some(until),
            kind,
            ..IssueFilter::default()
        };
        let mut offset = 0;
        stream(format, &csv::ISSUE_COLUMNS, csv::issue_fields, || {
            let page = store
                .issues(
                    &filter,
                    IssueSort::LastSeen,
                    true,
                    offset,
                    u64::from(MAX_PAGE),
                )
                .context("cannot read the issues")?
                .rows;
            offset += page.len() as u64;
            Ok(page)
        })
    } else {
        let mut window = RequestWindow {
            from: since,
            to: until,
            endpoint_id: endpoint.map(|(id, _)| id),
            instance: None,
            after: None,
            limit: MAX_PAGE,
        };
        stream(format, &csv::REQUEST_COLUMNS, csv::request_fields, || {
            let page = store
                .requests_in_window(&window)
                .context("cannot read the requests")?;
            if let Some(last) = page.last() {
                window.after = Some((last.time, last.id));
            }
            Ok(page)
        })
    };
    match written {
        // `fmd export … | head` closes the pipe early: not a failure.
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

/// Writes every page `next_page` reads (until one holds fewer than [`MAX_PAGE`] rows) to
/// standard output as CSV with `columns`, or as one JSON array.
fn stream<R: Serialize, const N: usize>(
    format: Format,
    columns: &[&str],
    fields: fn(&R) -> [String; N],
    mut next_page: impl FnMut() -> anyhow::Result<Vec<R>>,
) -> anyhow::Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut first = true;
    match format {
        Format::Csv => csv::write_line(&mut out, columns)?,
        Format::Json => writeln!(out, "[")?,
    }
    loop {
        let page = next_page()?;
        for row in &page {
            match format {
                Format::Csv => csv::write_line(&mut out, &fields(row))?,
                Format::Json => {
                    if !first {
                        writeln!(out, ",")?;
                    }
                    serde_json::to_writer(&mut out, row)?;
                }
            }
            first = false;
        }
        if page.len() < MAX_PAGE as usize {
            break;
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

/// The endpoint's id and name by name (or an id given as a number).
fn find_endpoint(
    store: &mut (impl DashboardStore + ?Sized),
    name: &str,
) -> anyhow::Result<(i64, String)> {
    if let Ok(id) = name.parse::<i64>()
        && let Some(e) = store.endpoint(id).context("cannot read the endpoints")?
    {
        return Ok((id, e.name));
    }
    let endpoints = store
        .overview(crate::now_ms(), None)
        .context("cannot read the endpoints")?;
    match endpoints.iter().find(|e| e.name == name) {
        Some(e) => Ok((e.id, e.name.clone())),
        None => bail!("no endpoint named {name:?} (see the overview for the names)"),
    }
}
