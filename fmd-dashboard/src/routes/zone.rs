//! The time zone each page is rendered in.
//!
//! `FMD_TIMEZONE` (or [`Dashboard::timezone`](super::Dashboard::timezone)) fixes one zone
//! for every viewer. Without it, the login page's script and the dashboard's own script
//! store the browser's zone in the `fmd_tz` cookie, and every page after that is rendered
//! in it; an unknown or malformed cookie value is ignored (UTC). The zone is set for the
//! whole request, so that every time the handler formats ([`crate::format`]) uses it.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use jiff::tz::TimeZone;

use super::cookies::cookie;
use crate::format;

/// Name of the cookie holding the browser's IANA zone.
pub const ZONE_COOKIE: &str = "fmd_tz";

/// Where a request's zone comes from.
#[derive(Clone, Default)]
pub struct ZoneChoice {
    /// The zone set for everybody; `None`: each browser's own.
    pub forced: Option<TimeZone>,
}

impl ZoneChoice {
    /// The zone for a request carrying `cookie_value`.
    pub fn for_cookie(&self, cookie_value: Option<&str>) -> TimeZone {
        if let Some(tz) = &self.forced {
            return tz.clone();
        }
        cookie_value
            .and_then(|v| format::parse_zone(&v.replace("%2F", "/").replace("%2f", "/")))
            .unwrap_or(TimeZone::UTC)
    }
}

/// Middleware: renders the rest of the request in its zone.
pub async fn in_zone(State(choice): State<ZoneChoice>, req: Request, next: Next) -> Response {
    let tz = choice.for_cookie(cookie(req.headers(), ZONE_COOKIE));
    let viewing = format::Viewing {
        tz,
        fixed: choice.forced.is_some(),
    };
    format::scope_zone(viewing, next.run(req)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forced_zone_wins_and_bad_cookies_mean_utc() {
        let free = ZoneChoice::default();
        let cph = free.for_cookie(Some("Europe%2FCopenhagen"));
        assert_eq!(cph.iana_name(), Some("Europe/Copenhagen"));
        for bad in [
            "../../etc/passwd",
            "/etc/localtime",
            "Mars/Olympus",
            "",
            "a b",
        ] {
            assert_eq!(free.for_cookie(Some(bad)), TimeZone::UTC, "{bad}");
        }
        let forced = ZoneChoice {
            forced: Some(TimeZone::get("America/New_York").unwrap()),
        };
        assert_eq!(
            forced.for_cookie(Some("Europe/Copenhagen")).iana_name(),
            Some("America/New_York")
        );
    }
}
