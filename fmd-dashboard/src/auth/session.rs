//! Server-side sessions: a random id in the cookie, everything else in memory.
//!
//! Sessions live in the process (a restart logs everyone out). Each has its own CSRF
//! token, expires after [`IDLE_TIMEOUT_MS`] without use, and a login always creates a
//! fresh id (no session fixation).

use std::collections::HashMap;

use parking_lot::Mutex;

use super::Role;

/// A session unused this long is gone (8 hours).
pub const IDLE_TIMEOUT_MS: i64 = 8 * 60 * 60 * 1000;

/// Fills `buf` from the OS random source.
///
/// Panics only if the OS cannot provide randomness, where no secure session is possible.
pub fn fill_random(buf: &mut [u8]) {
    getrandom::fill(buf).expect("fmd: the OS random number generator failed");
}

/// 32 random bytes as 64 hex digits.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    fill_random(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// One logged-in user.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The account's login name.
    pub username: String,
    /// What the account may do.
    pub role: Role,
    /// The token every state-changing request of this session must carry.
    pub csrf: String,
    last_used: i64,
}

/// All live sessions of this process.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Starts a session and returns its new id.
    pub fn create(&self, username: &str, role: Role, now: i64) -> String {
        let id = random_token();
        let session = Session {
            username: username.to_owned(),
            role,
            csrf: random_token(),
            last_used: now,
        };
        let mut map = self.map.lock();
        map.retain(|_, s| now - s.last_used < IDLE_TIMEOUT_MS);
        map.insert(id.clone(), session);
        id
    }

    /// The live session with this id, refreshed; `None` if unknown or expired.
    pub fn get(&self, id: &str, now: i64) -> Option<Session> {
        let mut map = self.map.lock();
        let s = map.get_mut(id)?;
        if now - s.last_used >= IDLE_TIMEOUT_MS {
            map.remove(id);
            return None;
        }
        s.last_used = now;
        Some(s.clone())
    }

    /// Ends a session.
    pub fn remove(&self, id: &str) {
        self.map.lock().remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_when_idle() {
        let s = Sessions::default();
        let id = s.create("a", Role::Admin, 0);
        assert_eq!(s.get(&id, 1000).unwrap().username, "a");
        assert!(s.get(&id, 1000 + IDLE_TIMEOUT_MS).is_none());
        assert!(s.get("nope", 0).is_none());
    }

    #[test]
    fn ids_and_tokens_are_fresh() {
        let s = Sessions::default();
        let a = s.create("a", Role::Viewer, 0);
        let b = s.create("a", Role::Viewer, 0);
        assert_ne!(a, b);
        assert_ne!(s.get(&a, 0).unwrap().csrf, s.get(&b, 0).unwrap().csrf);
        assert!(constant_time_eq("abc", "abc") && !constant_time_eq("abc", "abd"));
    }
}
