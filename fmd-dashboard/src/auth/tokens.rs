//! The bearer tokens machines present: which one a route accepts, and what is configured.

/// Which configured token a route accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// `metrics_token` / `FMD_METRICS_TOKEN`: Prometheus scraping `/metrics`.
    Metrics,
    /// `api_token` / `FMD_API_TOKEN`: the read-only JSON API under `/api/v1`.
    Api,
}

/// The configured tokens; `None` is "not configured".
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    /// Accepted by `/metrics` besides a session.
    pub metrics: Option<String>,
    /// Accepted by the JSON API; unset switches the API off.
    pub api: Option<String>,
}

impl Tokens {
    /// The configured secret of `token`, if any.
    pub fn get(&self, token: Token) -> Option<&str> {
        match token {
            Token::Metrics => self.metrics.as_deref(),
            Token::Api => self.api.as_deref(),
        }
    }
}
