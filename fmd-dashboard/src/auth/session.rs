//! Server-side sessions: a random id in the cookie, everything else in memory.
//!
//! Sessions live in the process (a restart logs everyone out). Each has its own CSRF
//! token, ends after [`DEFAULT_IDLE_MS`] without use and [`DEFAULT_LIFETIME_MS`] after the
//! login whatever the use (both configurable, see [`Timeouts`]), and a login always
//! creates a fresh id (no session fixation). All sessions of an account can be revoked at
//! once ("log out everywhere", a password change, a deleted account).

use std::collections::HashMap;

use parking_lot::Mutex;

use super::Role;

/// A session unused this long is gone (2 hours).
pub const DEFAULT_IDLE_MS: i64 = 2 * 60 * 60 * 1000;
/// A session is gone this long after its login, used or not (12 hours).
pub const DEFAULT_LIFETIME_MS: i64 = 12 * 60 * 60 * 1000;

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Milliseconds without a request after which a session ends.
    pub idle_ms: i64,
    /// Milliseconds after the login after which a session ends, however busy.
    pub lifetime_ms: i64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            idle_ms: DEFAULT_IDLE_MS,
            lifetime_ms: DEFAULT_LIFETIME_MS,
        }
    }
}

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
    constant_time_eq_bytes(a.as_bytes(), b.as_bytes())
}

/// [`constant_time_eq`] for bytes.
pub fn constant_time_eq_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
    /// When the session was created (Unix ms).
    pub created: i64,
    last_used: i64,
}

impl Session {
    fn live(&self, t: &Timeouts, now: i64) -> bool {
        now - self.last_used < t.idle_ms && now - self.created < t.lifetime_ms
    }
}

/// All live sessions of this process.
#[derive(Default)]
pub struct Sessions {
    timeouts: Timeouts,
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// No sessions yet; they end as `timeouts` say.
    pub fn new(timeouts: Timeouts) -> Self {
        Sessions {
            timeouts,
            map: Mutex::default(),
        }
    }

    /// How long sessions last.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// Starts a session and returns its new id.
    pub fn create(&self, username: &str, role: Role, now: i64) -> String {
        let id = random_token();
        let session = Session {
            username: username.to_owned(),
            role,
            csrf: random_token(),
            created: now,
            last_used: now,
        };
        let mut map = self.map.lock();
        map.retain(|_, s| s.live(&self.timeouts, now));
        map.insert(id.clone(), session);
        id
    }

    /// The live session with this id, refreshed; `None` if unknown or expired.
    pub fn get(&self, id: &str, now: i64) -> Option<Session> {
        let mut map = self.map.lock();
        let s = map.get_mut(id)?;
        if !s.live(&self.timeouts, now) {
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

    /// Ends every session of `username` except the one with id `keep` (if given); returns
    /// how many ended.
    pub fn revoke_user(&self, username: &str, keep: Option<&str>) -> usize {
        let mut map = self.map.lock();
        let before = map.len();
        map.retain(|id, s| s.username != username || keep == Some(id.as_str()));
        before - map.len()
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
        assert!(s.get(&id, 1000 + DEFAULT_IDLE_MS).is_none());
        assert!(s.get("nope", 0).is_none());
    }

    #[test]
    fn sessions_end_after_their_lifetime_however_busy() {
        let s = Sessions::default();
        let id = s.create("a", Role::Admin, 0);
        let step = DEFAULT_IDLE_MS / 2;
        let mut now = 0;
        while now + step < DEFAULT_LIFETIME_MS {
            now += step;
            assert!(s.get(&id, now).is_some(), "alive at {now}");
        }
        assert!(s.get(&id, DEFAULT_LIFETIME_MS).is_none());
    }

    #[test]
    fn revoking_a_user_ends_all_their_sessions_but_the_kept_one() {
        let s = Sessions::default();
        let (a1, a2, a3) = (
            s.create("a", Role::Admin, 0),
            s.create("a", Role::Admin, 0),
            s.create("a", Role::Admin, 0),
        );
        let b = s.create("b", Role::Viewer, 0);
        assert_eq!(s.revoke_user("a", Some(&a2)), 2);
        assert!(s.get(&a1, 0).is_none() && s.get(&a3, 0).is_none());
        assert!(s.get(&a2, 0).is_some() && s.get(&b, 0).is_some());
        assert_eq!(s.revoke_user("a", None), 1);
        assert!(s.get(&a2, 0).is_none());
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
