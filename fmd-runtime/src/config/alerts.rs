//! Where alerts go and when a busy issue alerts: `FMD_ALERT_WEBHOOK`, `FMD_ALERT_SMTP`,
//! `FMD_ALERT_SMTP_CA`, `FMD_ALERT_EMAIL_TO`, `FMD_ALERT_EMAIL_FROM`, `FMD_ALERT_RATE`
//! (`alert_webhook`, `alert_smtp`, `alert_smtp_ca`, `alert_email_to`, `alert_email_from`,
//! `alert_rate` in `fmd.toml`).

use super::ConfigError;

/// The alert channels and the rate rule. No channel: no alerts, no thread.
///
/// ```
/// use fmd_runtime::config::AlertSettings;
///
/// let mut a = AlertSettings::default();
/// a.apply_env(|name| match name {
///     "FMD_ALERT_WEBHOOK" => Some("https://hooks.example.com/T0/B0".to_owned()),
///     "FMD_ALERT_RATE" => Some("50/10m".to_owned()),
///     _ => None,
/// })
/// .expect("valid");
/// assert_eq!(a.rate, Some((50, 10)));
/// assert!(a.any_channel());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertSettings {
    /// An `http://` or `https://` URL that receives each alert as JSON.
    pub webhook: Option<String>,
    /// `smtp://user:pass@host:port` (STARTTLS when the server offers it; add
    /// `?tls=required` to insist) or `smtps://…` (TLS from the start).
    pub smtp: Option<String>,
    /// A PEM file of the certificate authority the SMTP server's certificate is checked
    /// against, besides the system's (`FMD_ALERT_SMTP_CA`, `alert_smtp_ca`): for a
    /// server whose certificate a private CA signed.
    pub smtp_ca: Option<String>,
    /// Addresses the e-mails go to (comma-separated in the variable).
    pub email_to: Vec<String>,
    /// The sender address (default `fmd@localhost`).
    pub email_from: Option<String>,
    /// `(occurrences, minutes)`: an issue with this many occurrences in this many minutes
    /// alerts (`FMD_ALERT_RATE=50/10m`); `None`: no rate alerts.
    pub rate: Option<(u32, u32)>,
    /// Where people reach the application (`FMD_PUBLIC_URL`, e.g.
    /// `https://shop.example.com`), for the link to the issue in each alert; unset: the
    /// link is the dashboard path alone.
    pub public_url: Option<String>,
}

impl AlertSettings {
    /// Whether any channel is configured.
    pub fn any_channel(&self) -> bool {
        self.webhook.is_some() || self.smtp.is_some()
    }

    /// Applies the `FMD_ALERT_*` variables as `var` reads them; a bad value is an error
    /// naming its variable.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let set = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        if let Some(v) = set("FMD_ALERT_WEBHOOK") {
            self.webhook = Some(webhook("FMD_ALERT_WEBHOOK", &v)?);
        }
        if let Some(v) = set("FMD_ALERT_SMTP") {
            self.smtp = Some(smtp("FMD_ALERT_SMTP", &v)?);
        }
        if let Some(v) = set("FMD_ALERT_SMTP_CA") {
            self.smtp_ca = Some(v);
        }
        if let Some(v) = set("FMD_ALERT_EMAIL_TO") {
            self.email_to = addresses(&v);
        }
        if let Some(v) = set("FMD_ALERT_EMAIL_FROM") {
            self.email_from = Some(v);
        }
        if let Some(v) = set("FMD_ALERT_RATE") {
            self.rate = Some(rate("FMD_ALERT_RATE", &v)?);
        }
        if let Some(v) = set("FMD_PUBLIC_URL") {
            self.public_url = Some(
                webhook("FMD_PUBLIC_URL", &v)?
                    .trim_end_matches('/')
                    .to_owned(),
            );
        }
        self.check()
    }

    /// Applies the `fmd.toml` keys.
    pub(crate) fn apply_file(
        &mut self,
        webhook_url: Option<String>,
        smtp_url: Option<String>,
        smtp_ca: Option<String>,
        email_to: Option<Vec<String>>,
        email_from: Option<String>,
        rate_rule: Option<String>,
    ) -> Result<(), ConfigError> {
        if let Some(v) = webhook_url {
            self.webhook = Some(webhook("alert_webhook", &v)?);
        }
        if let Some(v) = smtp_url {
            self.smtp = Some(smtp("alert_smtp", &v)?);
        }
        self.smtp_ca = smtp_ca.or(self.smtp_ca.take());
        if let Some(v) = email_to {
            self.email_to = v;
        }
        self.email_from = email_from.or(self.email_from.take());
        if let Some(v) = rate_rule {
            self.rate = Some(rate("alert_rate", &v)?);
        }
        self.check()
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.smtp.is_some() && self.email_to.is_empty() {
            return Err(ConfigError {
                source: "FMD_ALERT_SMTP".to_owned(),
                problem: "e-mail alerts need FMD_ALERT_EMAIL_TO (one or more addresses, \
                          comma-separated)"
                    .to_owned(),
            });
        }
        Ok(())
    }
}

fn webhook(name: &str, v: &str) -> Result<String, ConfigError> {
    if v.starts_with("http://") || v.starts_with("https://") {
        Ok(v.to_owned())
    } else {
        Err(ConfigError {
            source: format!("{name}={}", super::database::redact_url(v)),
            problem: "expected an http:// or https:// URL".to_owned(),
        })
    }
}

fn smtp(name: &str, v: &str) -> Result<String, ConfigError> {
    if v.starts_with("smtp://") || v.starts_with("smtps://") {
        Ok(v.to_owned())
    } else {
        Err(ConfigError {
            source: format!("{name}={}", super::database::redact_url(v)),
            problem: "expected smtp://user:pass@host:port (STARTTLS) or smtps://… (TLS)".to_owned(),
        })
    }
}

fn addresses(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `50/10m`: 50 occurrences in 10 minutes.
fn rate(name: &str, v: &str) -> Result<(u32, u32), ConfigError> {
    let parsed = v.split_once('/').and_then(|(n, m)| {
        let minutes = m.trim().trim_end_matches('m').trim().parse::<u32>().ok()?;
        let count = n.trim().parse::<u32>().ok()?;
        (count > 0 && minutes > 0 && minutes <= 24 * 60).then_some((count, minutes))
    });
    parsed.ok_or_else(|| ConfigError {
        source: format!("{name}={v:?}"),
        problem: "expected occurrences/minutes such as 50/10m (at most a day)".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> Result<AlertSettings, ConfigError> {
        let mut a = AlertSettings::default();
        a.apply_env(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })?;
        Ok(a)
    }

    #[test]
    fn channels_rates_and_their_mistakes() {
        let a = env(&[
            ("FMD_ALERT_SMTP", "smtp://u:secret@127.0.0.1:2525"),
            ("FMD_ALERT_EMAIL_TO", "ops@example.com, dev@example.com"),
            ("FMD_ALERT_SMTP_CA", " /etc/fmd/mail-ca.pem "),
        ])
        .unwrap();
        assert_eq!(a.email_to, ["ops@example.com", "dev@example.com"]);
        assert_eq!(a.smtp_ca.as_deref(), Some("/etc/fmd/mail-ca.pem"));
        assert_eq!(
            env(&[("FMD_ALERT_RATE", "5/1")]).unwrap().rate,
            Some((5, 1))
        );
        for (name, value) in [
            ("FMD_ALERT_RATE", "fast"),
            ("FMD_ALERT_RATE", "0/10m"),
            ("FMD_ALERT_WEBHOOK", "hooks.example.com"),
        ] {
            let pairs: &'static [(&'static str, &'static str)] =
                Box::leak(vec![(name, value)].into_boxed_slice());
            let e = env(pairs).unwrap_err().to_string();
            assert!(e.contains(name), "{e}");
        }
        let e = env(&[("FMD_ALERT_SMTP", "smtp://u:secret@h:25")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("FMD_ALERT_EMAIL_TO"), "{e}");
        let e = env(&[("FMD_ALERT_SMTP", "mail://u:secret@h:25")])
            .unwrap_err()
            .to_string();
        assert!(!e.contains("secret"), "the password is not repeated: {e}");
    }
}
