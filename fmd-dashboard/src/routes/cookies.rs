//! Cookies: finding one in a request, setting one the dashboard's way, the CSRF form field.

use axum::http::{HeaderMap, header};

use crate::app::App;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "fmd_session";
/// Name of the pre-login CSRF cookie.
pub const LOGIN_COOKIE: &str = "fmd_login";

/// A cookie's value from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether the browser reached us over https (directly or through a proxy).
pub fn is_https(headers: &HeaderMap) -> bool {
    let forwarded = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    forwarded("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"))
        || forwarded("forwarded").is_some_and(|f| f.to_ascii_lowercase().contains("proto=https"))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, scoped to the dashboard, Secure
/// behind https. `max_age` 0 deletes the cookie.
pub fn set_cookie(
    app: &App,
    headers: &HeaderMap,
    name: &str,
    value: &str,
    max_age: Option<u32>,
) -> String {
    let path = if app.base.is_empty() { "/" } else { &app.base };
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if is_https(headers) {
        c.push_str("; Secure");
    }
    c
}

/// Finds the `csrf` field of a urlencoded form.
pub fn form_token(body: &[u8]) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; fmd_session=abc; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn the_csrf_field_is_read_from_a_form() {
        assert_eq!(form_token(b"level=2&csrf=t0k"), Some("t0k".into()));
        assert_eq!(form_token(b"level=2"), None);
    }
}
