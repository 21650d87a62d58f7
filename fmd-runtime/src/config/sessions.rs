//! How long dashboard sessions last: `FMD_SESSION_IDLE_MINUTES` and
//! `FMD_SESSION_LIFETIME_HOURS` (`session_idle_minutes`, `session_lifetime_hours` in
//! `fmd.toml`), read by the library's configuration and by `fmd serve` alike.

use std::time::Duration;

use super::ConfigError;

/// How long a dashboard session lasts.
///
/// ```
/// use fmd_runtime::config::SessionTimeouts;
/// use std::time::Duration;
///
/// let t = SessionTimeouts::from_lookup(|name| match name {
///     "FMD_SESSION_IDLE_MINUTES" => Some("30".to_owned()),
///     _ => None,
/// })
/// .expect("valid");
/// assert_eq!(t.idle, Duration::from_secs(30 * 60));
/// assert_eq!(t.lifetime, Duration::from_secs(12 * 3600));
/// let e = SessionTimeouts::from_lookup(|_| Some("soon".to_owned())).unwrap_err();
/// assert!(e.to_string().contains("FMD_SESSION_IDLE_MINUTES"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionTimeouts {
    /// A session unused this long ends (`FMD_SESSION_IDLE_MINUTES`, 120 minutes).
    pub idle: Duration,
    /// A session ends this long after its login, however busy (`FMD_SESSION_LIFETIME_HOURS`,
    /// 12 hours).
    pub lifetime: Duration,
}

impl Default for SessionTimeouts {
    fn default() -> Self {
        SessionTimeouts {
            idle: Duration::from_secs(2 * 3600),
            lifetime: Duration::from_secs(12 * 3600),
        }
    }
}

/// Longest span accepted for either, a year: longer is surely a typo.
const MAX_SECONDS: f64 = 366.0 * 24.0 * 3600.0;

/// `value` `unit_seconds` long, if it is a positive number of at most a year.
fn span(
    source: String,
    value: f64,
    unit: &str,
    unit_seconds: f64,
) -> Result<Duration, ConfigError> {
    let seconds = value * unit_seconds;
    if value.is_finite() && value > 0.0 && seconds <= MAX_SECONDS {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(ConfigError {
            source,
            problem: format!(
                "expected a positive number of {unit} (decimals allowed, e.g. 0.5), at most a year"
            ),
        })
    }
}

fn from_text(
    name: &str,
    text: &str,
    unit: &str,
    unit_seconds: f64,
) -> Result<Duration, ConfigError> {
    // Not a number fails as NaN does, with the same message.
    let value = text.trim().parse::<f64>().unwrap_or(f64::NAN);
    span(format!("{name}={text:?}"), value, unit, unit_seconds)
}

impl SessionTimeouts {
    /// The defaults, overridden by `FMD_SESSION_IDLE_MINUTES` and
    /// `FMD_SESSION_LIFETIME_HOURS` as `var` reads them; a bad value is an error naming
    /// its variable.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut t = SessionTimeouts::default();
        t.apply_env(&var)?;
        Ok(t)
    }

    /// [`SessionTimeouts::from_lookup`] over the process's environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub(super) fn apply_env(
        &mut self,
        var: &impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        if let Some(v) = var("FMD_SESSION_IDLE_MINUTES") {
            self.idle = from_text("FMD_SESSION_IDLE_MINUTES", &v, "minutes", 60.0)?;
        }
        if let Some(v) = var("FMD_SESSION_LIFETIME_HOURS") {
            self.lifetime = from_text("FMD_SESSION_LIFETIME_HOURS", &v, "hours", 3600.0)?;
        }
        Ok(())
    }

    /// The `fmd.toml` keys `session_idle_minutes` and `session_lifetime_hours`.
    pub(super) fn apply_file(
        &mut self,
        idle_minutes: Option<f64>,
        lifetime_hours: Option<f64>,
    ) -> Result<(), ConfigError> {
        if let Some(v) = idle_minutes {
            self.idle = span("fmd.toml: session_idle_minutes".into(), v, "minutes", 60.0)?;
        }
        if let Some(v) = lifetime_hours {
            self.lifetime = span(
                "fmd.toml: session_lifetime_hours".into(),
                v,
                "hours",
                3600.0,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: &'static str, value: &'static str) -> Result<SessionTimeouts, ConfigError> {
        SessionTimeouts::from_lookup(move |n| (n == name).then(|| value.to_owned()))
    }

    #[test]
    fn minutes_and_hours_with_decimals_are_read() {
        assert_eq!(
            SessionTimeouts::from_lookup(|_| None).unwrap(),
            SessionTimeouts::default()
        );
        let t = with("FMD_SESSION_IDLE_MINUTES", " 0.05 ").unwrap();
        assert_eq!(t.idle, Duration::from_secs(3));
        let t = with("FMD_SESSION_LIFETIME_HOURS", "1.5").unwrap();
        assert_eq!(t.lifetime, Duration::from_secs(5400));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("FMD_SESSION_IDLE_MINUTES", "0"),
            ("FMD_SESSION_IDLE_MINUTES", "-5"),
            ("FMD_SESSION_IDLE_MINUTES", "2h"),
            ("FMD_SESSION_IDLE_MINUTES", "NaN"),
            ("FMD_SESSION_LIFETIME_HOURS", "inf"),
            ("FMD_SESSION_LIFETIME_HOURS", "9000"),
            ("FMD_SESSION_LIFETIME_HOURS", ""),
        ] {
            let e = with(name, value).unwrap_err().to_string();
            assert!(
                e.contains(name) && e.contains("positive number"),
                "{value}: {e}"
            );
        }
    }
}
