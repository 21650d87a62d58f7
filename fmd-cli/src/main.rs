//! `fmd`: the dashboard, pruning, accounts, exports and a health check over any fmd
//! database (a SQLite file or a `postgres://` URL), without the monitored application.
//!
//! Exit codes: 0 success, 1 the command failed (database cannot be opened, no such user,
//! …), 2 a bad argument (clap's message).

mod check;
mod export;
mod prune;
mod serve;
mod timespec;
mod users;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use fmd_runtime::Database;

/// Self-hosted performance and error monitoring: the fmd database, from the command line.
#[derive(Debug, Parser)]
#[command(name = "fmd", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    db: DatabaseArg,
    #[command(subcommand)]
    command: Command,
}

/// Where the data is: shared by every subcommand.
#[derive(Debug, Clone, clap::Args)]
struct DatabaseArg {
    /// A SQLite file or a postgres:// URL (the same value as the library's FMD_DATABASE).
    #[arg(
        long,
        short = 'd',
        global = true,
        env = "FMD_DATABASE",
        default_value = "fmd.db"
    )]
    database: String,
}

impl DatabaseArg {
    fn database(&self) -> Database {
        Database::parse(&self.database)
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Schema version, pending migration, size and row counts, without changing anything.
    Check,
    /// The dashboard, login and API over the database (no monitor, no writer).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:4000")]
        listen: std::net::SocketAddr,
        /// Where the dashboard is mounted.
        #[arg(long, env = "FMD_DASHBOARD_PATH", default_value = "/dashboard")]
        path: String,
    },
    /// Dashboard accounts.
    Users {
        #[command(subcommand)]
        action: users::Action,
    },
    /// Deletes requests, exceptions and rollups older than a duration.
    Prune {
        /// How old data must be to go: a number and a unit, e.g. 30d, 12h, 2w, 90m.
        #[arg(long, value_parser = timespec::parse_duration)]
        older_than: std::time::Duration,
        /// Only count what would be deleted.
        #[arg(long)]
        dry_run: bool,
        /// Only the raw request rows (with their outliers and call trees), as
        /// FMD_RAW_RETENTION_DAYS does: the rollups and the exceptions stay.
        #[arg(long)]
        raw: bool,
    },
    /// Streams stored rows to standard output.
    Export {
        #[command(subcommand)]
        what: export::What,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli.db.database(), cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fmd: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(database: &Database, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Check => check::run(database),
        Command::Serve { listen, path } => serve::run(database.clone(), listen, &path),
        Command::Users { action } => users::run(database, action),
        Command::Prune {
            older_than,
            dry_run,
            raw,
        } => prune::run(database, older_than, dry_run, raw),
        Command::Export { what } => export::run(database, what),
    }
}

/// Refuses a SQLite file that does not exist (only `users add` creates a database).
fn require_existing(database: &Database) -> anyhow::Result<()> {
    if let Some(path) = database.sqlite_path()
        && !path.is_file()
    {
        anyhow::bail!(
            "no database file at {} (set --database or FMD_DATABASE)",
            PathBuf::from(path).display()
        );
    }
    Ok(())
}

/// Now, in Unix milliseconds.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
