//! Routes left out: `FMD_IGNORE_ROUTES` (`ignore_routes` in `fmd.toml`), the route
//! templates whose requests fmd does not record at all (health checks, `/metrics`).
//!
//! An entry is a route template exactly as the framework spells it (`/health`,
//! `/users/{id}`), or a prefix pattern `/prefix/*` that leaves out `/prefix` and every
//! template below it (`/internal/*` covers `/internal`, `/internal/ping`,
//! `/internal/jobs/{id}`; not `/internals`). A `*` anywhere else is an error, so a glob
//! that would silently match nothing is caught at start-up.

use super::{Config, ConfigError};

/// The entries of a comma-separated `FMD_IGNORE_ROUTES`, blanks and empty entries left out.
pub(super) fn parse_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Why `entry` is no route template or prefix pattern, if it is not.
fn problem(entry: &str) -> Option<String> {
    let body = entry.strip_suffix("/*").unwrap_or(entry);
    if !entry.starts_with('/') {
        Some(format!(
            "{entry:?} is no route template: it must start with '/' (e.g. /health)"
        ))
    } else if body.contains('*') && !body.contains("{*") {
        Some(format!(
            "{entry:?}: '*' is only accepted as a last segment '/*' (e.g. /internal/*)"
        ))
    } else if entry.chars().any(char::is_whitespace) {
        Some(format!("{entry:?}: a route template has no spaces"))
    } else {
        None
    }
}

/// Checks every entry; the error names the first bad one and what is accepted.
pub(super) fn validate(routes: &[String]) -> Result<(), ConfigError> {
    match routes.iter().find_map(|r| problem(r)) {
        Some(problem) => Err(ConfigError {
            source: "ignore_routes (FMD_IGNORE_ROUTES)".to_owned(),
            problem,
        }),
        None => Ok(()),
    }
}

/// Whether `entry` covers the route template `template`.
fn covers(entry: &str, template: &str) -> bool {
    match entry.strip_suffix("/*") {
        Some(prefix) => template
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
        None => entry == template,
    }
}

impl Config {
    /// Whether requests on the route template `template` are left out: not recorded at all
    /// (no request, no endpoint, no error, nothing queued), as [`Config::ignore_routes`]
    /// says. Framework adapters call it with the matched route template.
    ///
    /// ```
    /// let config = fmd_runtime::Config {
    ///     ignore_routes: vec!["/health".into(), "/internal/*".into()],
    ///     ..Default::default()
    /// };
    /// assert!(config.ignores_route("/health"));
    /// assert!(config.ignores_route("/internal/jobs/{id}"));
    /// assert!(!config.ignores_route("/healthz"));
    /// assert!(!config.ignores_route("/users/{id}"));
    /// ```
    #[inline]
    pub fn ignores_route(&self, template: &str) -> bool {
        !self.ignore_routes.is_empty() && self.ignore_routes.iter().any(|e| covers(e, template))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(value: &str) -> Result<Config, ConfigError> {
        let value = value.to_owned();
        Config::from_lookup(move |k| (k == "FMD_IGNORE_ROUTES").then(|| value.clone()))
    }

    #[test]
    fn ignored_routes_are_read_from_a_comma_separated_list() {
        let c = from(" /health, /metrics ,,/internal/*").unwrap();
        assert_eq!(c.ignore_routes, ["/health", "/metrics", "/internal/*"]);
        assert!(c.ignores_route("/health") && c.ignores_route("/metrics"));
        assert!(c.ignores_route("/internal") && c.ignores_route("/internal/a/{id}"));
        assert!(!c.ignores_route("/internals") && !c.ignores_route("/health/deep"));
        assert!(!c.ignores_route("/"));
        assert!(from("").unwrap().ignore_routes.is_empty());
        assert!(!Config::default().ignores_route("/health"));
        // axum's own wildcard segment is a template like any other.
        assert!(
            from("/files/{*path}")
                .unwrap()
                .ignores_route("/files/{*path}")
        );
    }

    #[test]
    fn a_bad_ignored_route_is_a_clear_error() {
        for (bad, says) in [
            ("health", "must start with '/'"),
            ("/health,metrics", "\"metrics\""),
            ("/he*lth", "last segment"),
            ("/*/x", "last segment"),
        ] {
            let e = from(bad).unwrap_err().to_string();
            assert!(e.contains("FMD_IGNORE_ROUTES"), "{e}");
            assert!(e.contains(says), "{bad}: {e}");
        }
        let set_in_code = Config {
            ignore_routes: vec!["/ok".into(), "no-slash".into()],
            ..Config::default()
        };
        let e = set_in_code.validate().unwrap_err().to_string();
        assert!(e.contains("\"no-slash\""), "{e}");
    }

    #[test]
    fn ignored_routes_are_read_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fmd.toml");
        std::fs::write(&path, "ignore_routes = [\"/health\", \"/ops/*\"]\n").unwrap();
        let p = path.to_str().unwrap().to_owned();
        let c = Config::from_lookup(move |k| (k == "FMD_CONFIG").then(|| p.clone())).unwrap();
        assert!(c.ignores_route("/health") && c.ignores_route("/ops/x"));
    }
}
