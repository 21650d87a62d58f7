//! The application's version and git commit, stamped on requests and kept in `app_version`.
//!
//! Version: `APP_VERSION` / `version` in `fmd.toml`, else the version of the crate that
//! holds the `#[monitored]` handlers (the host application, not fmd).
//!
//! Commit: `FMD_GIT_COMMIT` / `git_commit`, else what `git rev-parse HEAD` says in that
//! crate's directory when it is there (a development machine), else the commit the handlers
//! were built from (embedded by `#[monitored]`), else unknown. `git` runs once, on the
//! writer thread.

use crate::config::Config;
use crate::model::function::{FnInfo, FnKind, registry};
use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};

/// The `#[monitored]` handler of the host crate: the crate with the most handlers.
fn host_handler() -> Option<&'static FnInfo> {
    let mut per_crate: HashMap<&str, (usize, &'static FnInfo)> = HashMap::new();
    for f in registry::functions().filter(|f| matches!(f.kind, FnKind::Monitored { .. })) {
        per_crate.entry(f.crate_name).or_insert((0, f)).0 += 1;
    }
    per_crate
        .into_values()
        .max_by_key(|&(count, f)| (count, std::cmp::Reverse(f.crate_name)))
        .map(|(_, f)| f)
}

/// The version requests are stamped with.
pub(crate) fn app_version(config: &Config) -> String {
    if !config.version.is_empty() {
        return config.version.clone();
    }
    host_handler()
        .map(|f| f.crate_version)
        .filter(|v| !v.is_empty())
        .unwrap_or(env!("CARGO_PKG_VERSION"))
        .to_owned()
}

/// The git commit, if known. Runs `git`: call it off the request path.
pub(crate) fn git_commit(config: &Config) -> Option<String> {
    if let Some(commit) = config.git_commit.as_ref().filter(|c| !c.is_empty()) {
        return Some(commit.clone());
    }
    let host = host_handler();
    let dir = host.map(|f| f.manifest_dir).filter(|d| !d.is_empty());
    dir.and_then(|d| head_in(Path::new(d)))
        .or_else(|| host.map(|f| f.build_commit.to_owned()))
        .filter(|c| !c.is_empty())
}

/// `git rev-parse HEAD` in `dir`, if that works.
fn head_in(dir: &Path) -> Option<String> {
    if !dir.is_dir() {
        return None;
    }
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--verify", "--quiet", "HEAD"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (output.status.success() && !text.is_empty() && text.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| text.to_owned())
}
