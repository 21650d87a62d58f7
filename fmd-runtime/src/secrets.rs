//! What counts as a secret: names of headers and parameters that carry one, and the shapes
//! secrets have inside free text (error messages, `source()` chains, panic payloads, header
//! values).
//!
//! Names are judged on the request path ([`crate::request::scrub`]): a name is secret when it
//! contains one of [`SECRET_WORDS`], or one of its parts (split at `-`, `_`, `.` and the
//! like) is one of [`SECRET_PARTS`] (`sid`, `code`, `sig`, … would match too much as
//! substrings). Text is scrubbed on the writer thread, before anything is stored: JWTs,
//! `Bearer …` / `Basic …` credentials, `name=value` pairs with a secret name, passwords in
//! URLs, well-known key formats, private-key blocks and card numbers that pass the Luhn
//! check become [`SCRUBBED`]. Extra patterns come from the configuration.

use once_cell::sync::Lazy;
use regex::Regex;
use std::borrow::Cow;

/// What a secret value is replaced by.
pub const SCRUBBED: &str = "[scrubbed]";

/// Substrings of a header or parameter name that mark its value as secret.
pub const SECRET_WORDS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "key",
    "session",
    "credential",
    "authoriz",
    "authent",
    "signature",
    "jwt",
    "oidc",
    "assertion",
    "cookie",
    "private",
];

/// Whole parts of a name (between `-`, `_`, `.`, …) that mark its value as secret.
pub const SECRET_PARTS: &[&str] = &["sid", "code", "sig", "pwd", "auth", "otp", "pin", "ssn"];

/// Whether a header or parameter called `name` holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| lower.contains(w))
        || lower
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|part| SECRET_PARTS.contains(&part))
}

/// Whether a path segment looks like a credential: a JWT, or a long random-looking token
/// (24 or more letters, digits, `-` and `_`, with both letters and digits).
pub fn is_secret_segment(segment: &str) -> bool {
    if JWT.find(segment).is_some_and(|m| m.len() == segment.len()) {
        return true;
    }
    segment.len() >= 24
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && segment.bytes().any(|b| b.is_ascii_digit())
        && segment.bytes().any(|b| b.is_ascii_alphabetic())
}

static JWT: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*").expect("JWT pattern")
});

/// The built-in shapes, each replaced as a whole or in its value group (`v`). A shape
/// marked `true` replaces its value only when the value looks random (a digit or a symbol
/// in it, or 20 characters and more): "Bearer abc123…" is a credential, "token expired"
/// is not.
static SHAPES: Lazy<Vec<(Regex, bool)>> = Lazy::new(|| {
    [
        // PEM private keys.
        (r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", false),
        // JWTs.
        (r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*", false),
        // Authorization schemes followed by a credential.
        (r"(?i)\b(?:bearer|basic|token|digest)\s+(?P<v>[A-Za-z0-9._~+/=-]{6,})", true),
        // A password in a URL: scheme://user:password@host.
        (r"(?i)[a-z][a-z0-9+.-]*://[^\s:/@]+:(?P<v>[^\s@/]+)@", false),
        // name=value / name: value with a secret name.
        (r#"(?i)\b[a-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|session|sid|auth|credential|jwt|signature|private[_-]?key|access[_-]?key)[a-z0-9_.-]*["']?\s*[=:]\s*(?P<v>"[^"]*"|'[^']*'|[^\s&;,"'<>]+)"#, false),
        // Well-known key formats: AWS access keys, GitHub, Slack, Stripe, Google API keys.
        (r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", false),
        (r"\bgh[pousr]_[A-Za-z0-9]{20,}\b", false),
        (r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b", false),
        (r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{10,}\b", false),
        (r"\bAIza[0-9A-Za-z_-]{30,}\b", false),
    ]
    .iter()
    .map(|(p, random)| (Regex::new(p).expect("built-in secret pattern"), *random))
    .collect()
});

/// Whether a captured value looks like a generated credential rather than a word.
fn looks_random(v: &str) -> bool {
    v.len() >= 20 || v.bytes().any(|b| !b.is_ascii_alphabetic())
}

/// Digit runs that may be card numbers (13–19 digits, spaces or dashes between).
static CARD: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"\b\d(?:[ -]?\d){12,18}\b").expect("card pattern"));

/// Whether `digits` pass the Luhn check.
fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// Extra patterns (from the configuration), each replaced as a whole.
#[derive(Debug, Clone, Default)]
pub struct ExtraPatterns(Vec<Regex>);

impl ExtraPatterns {
    /// Compiles `patterns`; the first one that is not a valid regular expression is the
    /// error, with the reason.
    pub fn compile(patterns: &[String]) -> Result<ExtraPatterns, String> {
        patterns
            .iter()
            .map(|p| Regex::new(p).map_err(|e| format!("{p:?}: {e}")))
            .collect::<Result<_, _>>()
            .map(ExtraPatterns)
    }
}

/// `text` with every secret shape replaced by [`SCRUBBED`]; borrowed when there was none.
pub fn scrub_text<'a>(text: &'a str, extra: &ExtraPatterns) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    let shapes = SHAPES
        .iter()
        .map(|(r, random)| (r, *random))
        .chain(extra.0.iter().map(|r| (r, false)));
    for (shape, random) in shapes {
        if !shape.is_match(&out) {
            continue;
        }
        let replaced = shape
            .replace_all(&out, |c: &regex::Captures<'_>| match c.name("v") {
                Some(v) if random && !looks_random(v.as_str()) => {
                    c.get(0).map_or("", |m| m.as_str()).to_owned()
                }
                Some(v) => {
                    let whole = c.get(0).map_or("", |m| m.as_str());
                    let start = v.start() - c.get(0).map_or(0, |m| m.start());
                    format!("{}{SCRUBBED}{}", &whole[..start], &whole[start + v.len()..])
                }
                None => SCRUBBED.to_owned(),
            })
            .into_owned();
        out = Cow::Owned(replaced);
    }
    if CARD.is_match(&out) {
        let replaced = CARD
            .replace_all(&out, |c: &regex::Captures<'_>| {
                let run = c.get(0).map_or("", |m| m.as_str());
                let digits: Vec<u8> = run.bytes().filter(u8::is_ascii_digit).collect();
                if luhn(&digits) {
                    SCRUBBED.to_owned()
                } else {
                    run.to_owned()
                }
            })
            .into_owned();
        if replaced != *out {
            out = Cow::Owned(replaced);
        }
    }
    out
}

/// Scrubs `text` in place (allocates only when something was found).
pub fn scrub_in_place(text: &mut String, extra: &ExtraPatterns) {
    if let Cow::Owned(clean) = scrub_text(text, extra) {
        *text = clean;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(text: &str) -> String {
        scrub_text(text, &ExtraPatterns::default()).into_owned()
    }

    #[test]
    fn names_are_judged_by_words_and_whole_parts() {
        for secret in [
            "Authorization",
            "X-Authorization",
            "X-Auth-Token",
            "X-Api-Key",
            "Cf-Access-Jwt-Assertion",
            "X-Amzn-Oidc-Data",
            "X-Goog-Iap-Jwt-Assertion",
            "sid",
            "auth",
            "code",
            "sig",
            "jwt",
            "pwd",
            "apikey",
            "client_secret",
        ] {
            assert!(is_secret_name(secret), "{secret}");
        }
        for plain in ["accept", "user", "city", "inside", "zipcode2", "author"] {
            assert!(!is_secret_name(plain), "{plain}");
        }
    }

    #[test]
    fn secret_shapes_in_text_are_replaced() {
        assert_eq!(
            clean("db login failed: password=hunter2-xyz; retry"),
            "db login failed: password=[scrubbed]; retry"
        );
        assert_eq!(
            clean("upstream said 401 for Bearer abcDEF123456789"),
            "upstream said 401 for Bearer [scrubbed]"
        );
        assert_eq!(
            clean("connect postgres://app:s3cr3t-pw@db:5432/x"),
            "connect postgres://app:[scrubbed]@db:5432/x"
        );
        assert_eq!(
            clean("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcDEF_123 expired"),
            "token [scrubbed] expired"
        );
        assert_eq!(
            clean("card 4111 1111 1111 1111 declined"),
            "card [scrubbed] declined"
        );
        assert_eq!(
            clean("order 1234567890123 shipped"),
            "order 1234567890123 shipped"
        );
        assert_eq!(
            clean("nothing secret here: 42 items"),
            "nothing secret here: 42 items"
        );
        assert_eq!(clean("the token expired"), "the token expired");
    }

    #[test]
    fn extra_patterns_are_compiled_and_applied() {
        let extra = ExtraPatterns::compile(&["ACME-[0-9]{6}".to_owned()]).unwrap();
        assert_eq!(
            scrub_text("key ACME-123456 used", &extra),
            "key [scrubbed] used"
        );
        assert!(ExtraPatterns::compile(&["(".to_owned()]).is_err());
    }
}
