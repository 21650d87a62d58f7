//! The pages: pure functions from query results to `Markup`.
//!
//! No page touches the database or the request; handlers in `routes` run the queries and
//! pass plain structs in. That keeps every page testable without a server.

pub mod account;
pub mod alerts;
pub mod components;
pub mod config;
pub mod custom_graphs;
pub mod endpoint;
pub mod endpoint_perf;
pub mod exceptions;
pub mod issue;
pub mod issues;
pub mod layout;
pub mod login;
pub mod overview;
pub mod profiler;
pub mod reporting;
pub mod request;
pub mod requests;
pub mod retention;
pub mod trace;
pub mod utilization;

use fmd_runtime::store::read::InstanceInfo;

/// What every authenticated page needs to know about the request.
#[derive(Debug, Clone)]
pub struct Ctx<'a> {
    /// Where the dashboard is mounted, without a trailing slash (e.g. `/dashboard`).
    pub base: &'a str,
    /// The logged-in account.
    pub username: &'a str,
    /// Whether the account may change things.
    pub admin: bool,
    /// The session's CSRF token, put into every form.
    pub csrf: &'a str,
    /// Current time (Unix ms), for "… ago".
    pub now: i64,
    /// A one-line message after an action ("Group deleted.").
    pub notice: Option<&'a str>,
    /// The instance the page is filtered to (`?instance=`); `None`: all instances.
    pub instance: Option<&'a str>,
    /// The instances to choose from, on pages that can be filtered (empty elsewhere).
    pub instances: &'a [InstanceInfo],
    /// Raw request rows before this time were pruned (raw retention), on the pages that
    /// list raw rows; `None` elsewhere or when none were.
    pub raw_pruned_before: Option<i64>,
}

impl Ctx<'_> {
    /// An absolute link to a dashboard path (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Like [`url`](Self::url), keeping the page's instance filter (`path` has no query).
    pub fn keep(&self, path: &str) -> String {
        match self.instance {
            Some(i) => format!(
                "{}{}",
                self.url(path),
                components::query(&[("instance", i)])
            ),
            None => self.url(path),
        }
    }

    /// The overview's URL (the mount point itself), followed by `query`.
    pub fn home(&self, query: &str) -> String {
        home(self.base, query)
    }
}

/// The overview's URL for a mount point: `/dashboard` (or `/` at the root) plus `query`.
pub fn home(base: &str, query: &str) -> String {
    if base.is_empty() {
        format!("/{query}")
    } else {
        format!("{base}{query}")
    }
}
