//! The two channels: a JSON POST to the webhook (ureq) and an e-mail over SMTP (lettre).
//! Each call has a timeout, so a receiver that hangs costs the alerts thread seconds, not
//! forever.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

use super::{Alert, ChannelInfo, Deliver};
use crate::config::AlertSettings;

/// How long one delivery may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The configured channels with their delivery functions.
pub(super) fn channels(settings: &AlertSettings) -> Vec<(ChannelInfo, Deliver)> {
    let mut out: Vec<(ChannelInfo, Deliver)> = Vec::new();
    if let Some(url) = &settings.webhook {
        out.push((
            ChannelInfo {
                kind: "webhook",
                target: hide_path(url),
            },
            webhook(url.clone()),
        ));
    }
    if let Some(smtp) = &settings.smtp {
        let from = settings
            .email_from
            .clone()
            .unwrap_or_else(|| "fmd@localhost".to_owned());
        let target = format!(
            "{} to {}",
            crate::config::Database::parse(smtp).display(),
            settings.email_to.join(", ")
        );
        match email(smtp, settings.smtp_ca.as_deref(), &from, &settings.email_to) {
            Ok(send) => out.push((
                ChannelInfo {
                    kind: "email",
                    target,
                },
                send,
            )),
            Err(e) => eprintln!("fmd: e-mail alerts are off: {e}"),
        }
    }
    out
}

/// `https://hooks.example.com/…`: a webhook's path is often its secret.
fn hide_path(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    format!("{scheme}://{host}/…")
}

fn webhook(url: String) -> Deliver {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(true)
        .build()
        .into();
    Box::new(move |alert: &Alert| {
        agent
            .post(&url)
            .send_json(alert.json())
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

fn email(smtp: &str, ca: Option<&str>, from: &str, to: &[String]) -> Result<Deliver, String> {
    let mut transport =
        SmtpTransport::from_url(smtp).map_err(|e| format!("FMD_ALERT_SMTP: {e}"))?;
    if let Some(ca) = ca {
        transport = transport.tls(tls_trusting(smtp, ca)?);
    }
    let transport = transport.timeout(Some(TIMEOUT)).build();
    let from: Mailbox = from
        .parse()
        .map_err(|e| format!("FMD_ALERT_EMAIL_FROM {from:?}: {e}"))?;
    let to: Vec<Mailbox> = to
        .iter()
        .map(|a| {
            a.parse()
                .map_err(|e| format!("FMD_ALERT_EMAIL_TO {a:?}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Box::new(move |alert: &Alert| {
        let mut message = Message::builder()
            .from(from.clone())
            .subject(subject(alert))
            .header(ContentType::TEXT_PLAIN);
        for address in &to {
            message = message.to(address.clone());
        }
        let body = format!(
            "{}\n\nType: {}\nEndpoint: {}\nVersion: {}\n\n{}\n",
            alert.text(),
            alert.type_name,
            alert.endpoint,
            alert.version,
            alert.message
        );
        let message = message.body(body).map_err(|e| e.to_string())?;
        transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }))
}

/// The TLS `smtp` asks for (`smtps://`: from the start; `?tls=required`: STARTTLS or
/// fail; else STARTTLS when offered), trusting the CA in the PEM file `ca` too.
fn tls_trusting(smtp: &str, ca: &str) -> Result<Tls, String> {
    let pem = std::fs::read(ca).map_err(|e| format!("FMD_ALERT_SMTP_CA {ca:?}: {e}"))?;
    let cert = Certificate::from_pem(&pem).map_err(|e| format!("FMD_ALERT_SMTP_CA {ca:?}: {e}"))?;
    let (scheme, rest) = smtp.split_once("://").unwrap_or(("", smtp));
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    let params = TlsParameters::builder(host.to_owned())
        .add_root_certificate(cert)
        .build()
        .map_err(|e| format!("FMD_ALERT_SMTP_CA {ca:?}: {e}"))?;
    let required = rest
        .split_once('?')
        .is_some_and(|(_, q)| q.split('&').any(|kv| kv == "tls=required"));
    Ok(match (scheme, required) {
        ("smtps", _) => Tls::Wrapper(params),
        (_, true) => Tls::Required(params),
        (_, false) => Tls::Opportunistic(params),
    })
}

fn subject(alert: &Alert) -> String {
    let mut s = format!("[fmd] {}: {}", alert.event.as_str(), alert.type_name);
    if s.len() > 150 {
        let cut = (0..=150)
            .rev()
            .find(|&i| s.is_char_boundary(i))
            .unwrap_or(0);
        s.truncate(cut);
    }
    s
}
