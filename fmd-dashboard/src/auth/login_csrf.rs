//! The login form's CSRF token: issued by the server, not chosen by the client.
//!
//! Before a login there is no session to hold a token, so the form carries a pair: a
//! cookie with a random pre-session id and the time it was issued, and a hidden field with
//! the HMAC-SHA256 of that cookie under a key of this process (random, never stored). A
//! client that makes up both halves cannot make them agree without the key; a page on
//! another site cannot read the cookie (HttpOnly, SameSite=Strict) to pair a field with it.
//! A pair is good for [`MAX_AGE_MS`] and only in the process that issued it (sessions are
//! per process too).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::session::{fill_random, random_token};

/// How long a login form stays valid (the cookie's `Max-Age` too).
pub const MAX_AGE_MS: i64 = 3_600_000;

/// What the HMAC covers besides the cookie, so the key signs nothing else by accident.
const DOMAIN: &[u8] = b"fmd login form\0";

/// Issues and checks login form tokens with a key of its own.
pub struct LoginCsrf {
    key: [u8; 32],
}

impl Default for LoginCsrf {
    /// A fresh random key.
    fn default() -> Self {
        let mut key = [0u8; 32];
        fill_random(&mut key);
        LoginCsrf { key }
    }
}

impl LoginCsrf {
    fn mac(&self, cookie: &str) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(DOMAIN);
        mac.update(cookie.as_bytes());
        mac
    }

    /// A new pair issued at `now` (Unix ms): the cookie's value and the form field's.
    pub fn issue(&self, now: i64) -> (String, String) {
        let cookie = format!("{}.{now}", random_token());
        let tag = self.mac(&cookie).finalize().into_bytes();
        let field = tag.iter().map(|b| format!("{b:02x}")).collect();
        (cookie, field)
    }

    /// Whether `field` is the token this process issued with `cookie`, at most
    /// [`MAX_AGE_MS`] before `now`. Compared in constant time.
    pub fn verify(&self, cookie: &str, field: &str, now: i64) -> bool {
        let Some(issued) = cookie
            .rsplit_once('.')
            .and_then(|(_, t)| t.parse::<i64>().ok())
        else {
            return false;
        };
        // A minute of leeway for a clock stepped back.
        let age = now.saturating_sub(issued);
        if !(-60_000..=MAX_AGE_MS).contains(&age) {
            return false;
        }
        let Some(tag) = hex(field) else {
            return false;
        };
        self.mac(cookie).verify_slice(&tag).is_ok()
    }
}

/// Lowercase or uppercase hex digits as bytes; `None` for anything else.
fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_pair_verifies_and_nothing_else_does() {
        let csrf = LoginCsrf::default();
        let (cookie, field) = csrf.issue(1_000_000);
        assert!(csrf.verify(&cookie, &field, 1_000_500));
        assert!(
            !csrf.verify(&cookie, &cookie, 1_000_500),
            "the cookie as field"
        );
        assert!(!csrf.verify(&cookie, &field[2..], 1_000_500), "cut");
        let (other_cookie, _) = csrf.issue(1_000_000);
        assert!(
            !csrf.verify(&other_cookie, &field, 1_000_500),
            "another cookie"
        );
        assert!(
            !LoginCsrf::default().verify(&cookie, &field, 1_000_500),
            "another key"
        );
        assert!(
            !csrf.verify(&cookie, &field, 1_000_000 + MAX_AGE_MS + 1),
            "expired"
        );
        assert!(!csrf.verify("", "", 0));
        assert!(!csrf.verify("x.y", "zz", 0));
    }

    #[test]
    fn a_changed_issue_time_breaks_the_pair() {
        let csrf = LoginCsrf::default();
        let (cookie, field) = csrf.issue(5_000_000);
        let (id, _) = cookie.rsplit_once('.').unwrap();
        // Making the form look younger does not work: the time is signed too.
        let younger = format!("{id}.{}", 5_000_000 + MAX_AGE_MS);
        assert!(!csrf.verify(&younger, &field, 5_000_000 + MAX_AGE_MS + 10));
    }
}
