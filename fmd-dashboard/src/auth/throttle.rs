//! Login throttling per client address and per account at that address, with exponential
//! back-off, in bounded memory.
//!
//! Two kinds of records, each in a map of at most [`MAX_ENTRIES`] entries (the one whose
//! last failure is oldest is evicted to make room):
//!
//! - per **client address** (IPv6 by its /64 prefix, clients without a known address in one
//!   shared bucket): [`ADDRESS_FREE`] failures over all usernames, then back-off. This stops
//!   one client from spraying passwords over many accounts.
//! - per **account at an address**: [`ACCOUNT_FREE`] failures, then back-off. This stops one
//!   client from guessing one account's password.
//!
//! There is deliberately no record per account over *all* addresses: failures from one
//! address never make an account wait elsewhere, so an attacker cannot lock the admin out.
//! The process-wide limit on concurrent password checks (in the login route) bounds what
//! many addresses together can try.
//!
//! A failure is counted by [`Throttle::begin`] *before* the password is checked, so
//! concurrent attempts cannot all pass; [`Throttle::succeeded`] and [`Throttle::not_checked`]
//! take it back.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;

use parking_lot::Mutex;

/// Failures per account at one address before each further attempt waits.
pub const ACCOUNT_FREE: u32 = 5;
/// Failures per address (over all usernames) before each further attempt waits.
pub const ADDRESS_FREE: u32 = 10;
/// The first wait; it doubles with every further failure.
pub const FIRST_WAIT_MS: i64 = 1000;
/// The longest wait.
pub const MAX_WAIT_MS: i64 = 15 * 60 * 1000;
/// A record without failures for this long is forgotten (longer than the longest wait, so
/// waiting it out does not restore the free attempts).
pub const FORGET_MS: i64 = 60 * 60 * 1000;
/// Most records kept of each kind; with usernames of at most 64 bytes that is below 1 MiB.
pub const MAX_ENTRIES: usize = 4096;

/// Where a login attempt comes from, as far as throttling cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Client {
    /// A known peer address (IPv6 reduced to its /64 network).
    Addr(IpAddr),
    /// No peer address known (the server was not started with connect info): one bucket
    /// shared by every such client.
    Unknown,
}

impl Client {
    /// The bucket of a peer address: IPv4 as is (also when mapped into IPv6), IPv6 by its
    /// /64 prefix, since one host usually controls a whole /64.
    pub fn of(addr: Option<IpAddr>) -> Client {
        match addr {
            None => Client::Unknown,
            Some(IpAddr::V4(v4)) => Client::Addr(IpAddr::V4(v4)),
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => Client::Addr(IpAddr::V4(v4)),
                None => {
                    let bits = u128::from(v6) & !((1u128 << 64) - 1);
                    Client::Addr(IpAddr::V6(bits.into()))
                }
            },
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Record {
    failures: u32,
    last: i64,
}

impl Record {
    /// Milliseconds until the next attempt is allowed.
    fn wait(&self, free: u32, now: i64) -> i64 {
        if self.failures < free || now - self.last >= FORGET_MS {
            return 0;
        }
        // 1 s, 2 s, 4 s, ... capped.
        let step = (self.failures - free).min(20);
        let wait = (FIRST_WAIT_MS << step).min(MAX_WAIT_MS);
        (self.last + wait - now).max(0)
    }
}

/// A map of records that never holds more than [`MAX_ENTRIES`].
struct Bounded<K> {
    map: HashMap<K, Record>,
}

impl<K: Hash + Eq + Clone> Bounded<K> {
    fn new() -> Self {
        Bounded {
            map: HashMap::new(),
        }
    }

    fn wait(&self, key: &K, free: u32, now: i64) -> i64 {
        self.map.get(key).map_or(0, |r| r.wait(free, now))
    }

    fn fail(&mut self, key: &K, now: i64) {
        if !self.map.contains_key(key) && self.map.len() >= MAX_ENTRIES {
            self.map.retain(|_, r| now - r.last < FORGET_MS);
            if self.map.len() >= MAX_ENTRIES
                && let Some(oldest) = self
                    .map
                    .iter()
                    .min_by_key(|(_, r)| r.last)
                    .map(|(k, _)| k.clone())
            {
                self.map.remove(&oldest);
            }
        }
        let r = self.map.entry(key.clone()).or_default();
        if now - r.last >= FORGET_MS {
            r.failures = 0;
        }
        r.failures = r.failures.saturating_add(1);
        r.last = now;
    }

    fn take_back(&mut self, key: &K) {
        if let Some(r) = self.map.get_mut(key) {
            r.failures = r.failures.saturating_sub(1);
            if r.failures == 0 {
                self.map.remove(key);
            }
        }
    }
}

struct Maps {
    addresses: Bounded<Client>,
    accounts: Bounded<(Client, String)>,
}

/// Failure records per address and per account at an address.
pub struct Throttle {
    maps: Mutex<Maps>,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            maps: Mutex::new(Maps {
                addresses: Bounded::new(),
                accounts: Bounded::new(),
            }),
        }
    }
}

impl Throttle {
    /// Starts an attempt: `Err(ms)` if `client` must wait that long for `username`;
    /// otherwise the attempt is counted as a failure right away (check and count are one
    /// step, so concurrent attempts cannot all pass) and `Ok(())` lets the check run.
    pub fn begin(&self, client: Client, username: &str, now: i64) -> Result<(), i64> {
        let mut m = self.maps.lock();
        let key = (client, username.to_owned());
        let wait = m
            .addresses
            .wait(&client, ADDRESS_FREE, now)
            .max(m.accounts.wait(&key, ACCOUNT_FREE, now));
        if wait > 0 {
            return Err(wait);
        }
        m.addresses.fail(&client, now);
        m.accounts.fail(&key, now);
        Ok(())
    }

    /// The password was right: forget the account's failures at this address and take
    /// this attempt back from the address (earlier failures of the address stay).
    pub fn succeeded(&self, client: Client, username: &str) {
        let mut m = self.maps.lock();
        m.accounts.map.remove(&(client, username.to_owned()));
        m.addresses.take_back(&client);
    }

    /// The attempt was counted but no password was checked (the server was busy): take
    /// it back from both records.
    pub fn not_checked(&self, client: Client, username: &str) {
        let mut m = self.maps.lock();
        m.accounts.take_back(&(client, username.to_owned()));
        m.addresses.take_back(&client);
    }

    /// Records held (addresses, accounts at addresses), for tests of the bound.
    pub fn len(&self) -> (usize, usize) {
        let m = self.maps.lock();
        (m.addresses.map.len(), m.accounts.map.len())
    }

    /// Whether no failure is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Client {
        Client::of(s.parse().ok())
    }

    #[test]
    fn failures_are_counted_before_the_check_and_back_off_exponentially() {
        let t = Throttle::default();
        let a = ip("10.0.0.1");
        for _ in 0..ACCOUNT_FREE {
            assert_eq!(t.begin(a, "admin", 0), Ok(()));
        }
        // No result was reported yet, still the next attempt waits: 1 s.
        assert_eq!(t.begin(a, "admin", 0), Err(1000));
        assert_eq!(t.begin(a, "admin", 1000), Ok(()));
        assert_eq!(t.begin(a, "admin", 1000), Err(2000), "doubled");
        assert_eq!(t.begin(a, "admin", 3000), Ok(()));
        assert_eq!(t.begin(a, "admin", 3000), Err(4000), "doubled again");
        let far = 3000 + FORGET_MS;
        assert_eq!(t.begin(a, "admin", far), Ok(()), "forgotten after an hour");
        t.succeeded(a, "admin");
        assert_eq!(t.begin(a, "admin", far), Ok(()));
    }

    #[test]
    fn one_address_never_makes_another_wait() {
        let t = Throttle::default();
        let (attacker, admin) = (ip("10.0.0.1"), ip("10.0.0.2"));
        for _ in 0..100 {
            let _ = t.begin(attacker, "admin", 0);
        }
        assert!(t.begin(attacker, "admin", 0).is_err());
        assert_eq!(t.begin(admin, "admin", 0), Ok(()));
        t.succeeded(admin, "admin");
        // Spraying many usernames from one address hits the address record.
        let sprayer = ip("10.0.0.3");
        let passed = (0..50)
            .filter(|i| t.begin(sprayer, &format!("u{i}"), 0).is_ok())
            .count();
        assert_eq!(passed, ADDRESS_FREE as usize);
    }

    #[test]
    fn ipv6_clients_share_their_64_prefix_and_mapped_v4_is_v4() {
        assert_eq!(ip("2001:db8::1"), ip("2001:db8::ffff:1"));
        assert_ne!(ip("2001:db8::1"), ip("2001:db8:0:1::1"));
        assert_eq!(ip("::ffff:10.0.0.1"), ip("10.0.0.1"));
        assert_eq!(Client::of(None), Client::Unknown);
    }

    #[test]
    fn memory_is_bounded_and_the_oldest_record_goes_first() {
        let t = Throttle::default();
        let a = ip("10.0.0.1");
        t.begin(a, "oldest", 0).unwrap();
        for i in 0..(2 * MAX_ENTRIES) {
            let client = Client::of(Some(IpAddr::V4(((i as u32 + 1) << 8).into())));
            t.begin(client, "x", 1 + i as i64).unwrap();
        }
        let (addresses, accounts) = t.len();
        assert_eq!((addresses, accounts), (MAX_ENTRIES, MAX_ENTRIES));
        let m = t.maps.lock();
        assert!(!m.accounts.map.contains_key(&(a, "oldest".into())));
    }

    #[test]
    fn an_attempt_that_was_not_checked_is_taken_back() {
        let t = Throttle::default();
        let a = ip("10.0.0.1");
        for _ in 0..10 * ACCOUNT_FREE {
            t.begin(a, "admin", 0).unwrap();
            t.not_checked(a, "admin");
        }
        assert!(t.is_empty());
    }
}
