//! The git commit of the crate being compiled, embedded by `#[monitored]` so that a binary
//! deployed without its repository still knows what it was built from.
//!
//! Asked of `git` once per compilation (the answer is cached for every expansion). Without
//! git, outside a repository, or on any failure the commit is empty: a build never fails
//! for it. A crate that is not rebuilt after a commit keeps the older commit; fmd prefers
//! the commit `git` reports at start-up when the repository is there.

use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The commit `HEAD` points to in the crate's repository, or `""`.
pub fn head() -> &'static str {
    static HEAD: OnceLock<String> = OnceLock::new();
    HEAD.get_or_init(|| {
        let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") else {
            return String::new();
        };
        let output = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["rev-parse", "--verify", "--quiet", "HEAD"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output();
        match output {
            Ok(o) if o.status.success() => {
                let text = String::from_utf8_lossy(&o.stdout).trim().to_owned();
                let hex = !text.is_empty() && text.chars().all(|c| c.is_ascii_hexdigit());
                if hex { text } else { String::new() }
            }
            _ => String::new(),
        }
    })
}
