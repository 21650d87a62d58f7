//! Login throttling: after a few failures an account (and, past a higher bar, every
//! account) must wait before the next attempt. Successful logins reset the account.

use std::collections::HashMap;

use parking_lot::Mutex;

/// Failures allowed per account before waiting.
pub const FREE_FAILURES: u32 = 5;
/// Failures allowed over all accounts per window before everyone waits.
pub const GLOBAL_FAILURES: u32 = 50;
/// The window and the longest wait.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;

#[derive(Default)]
struct Record {
    failures: u32,
    last: i64,
}

/// Failure counters per account and overall.
#[derive(Default)]
pub struct Throttle {
    accounts: Mutex<HashMap<String, Record>>,
    global: Mutex<Record>,
}

fn wait_ms(r: &Record, free: u32, now: i64) -> i64 {
    if now - r.last >= WINDOW_MS || r.failures < free {
        return 0;
    }
    // 1 s, 2 s, 4 s ... capped at the window.
    let step = (r.failures - free).min(20);
    let wait = (1000i64 << step).min(WINDOW_MS);
    (r.last + wait - now).max(0)
}

impl Throttle {
    /// Milliseconds `username` must still wait before trying again (0: go ahead).
    pub fn wait(&self, username: &str, now: i64) -> i64 {
        let account = self
            .accounts
            .lock()
            .get(username)
            .map_or(0, |r| wait_ms(r, FREE_FAILURES, now));
        account.max(wait_ms(&self.global.lock(), GLOBAL_FAILURES, now))
    }

    /// Records a failed attempt.
    pub fn failed(&self, username: &str, now: i64) {
        for r in [
            &mut *self.global.lock(),
            self.accounts.lock().entry(username.to_owned()).or_default(),
        ] {
            if now - r.last >= WINDOW_MS {
                r.failures = 0;
            }
            r.failures += 1;
            r.last = now;
        }
    }

    /// Forgets an account's failures after a successful login.
    pub fn succeeded(&self, username: &str) {
        self.accounts.lock().remove(username);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_failures_make_an_account_wait() {
        let t = Throttle::default();
        for i in 0..FREE_FAILURES {
            assert_eq!(t.wait("a", i as i64), 0);
            t.failed("a", i as i64);
        }
        assert!(t.wait("a", 10) > 0);
        assert_eq!(t.wait("b", 10), 0, "other accounts are unaffected");
        assert_eq!(t.wait("a", 10 + WINDOW_MS), 0, "the window passes");
        t.succeeded("a");
        assert_eq!(t.wait("a", 10), 0);
    }
}
