//! Password hashing with argon2id (PHC strings) and generated passwords.

use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Password checks (argon2 verifications) run by this process so far.
static CHECKS: AtomicU64 = AtomicU64::new(0);

/// How many password checks (argon2 verifications, each ~19 MiB and tens of milliseconds)
/// this process has run: what the login limits bound, read by tests and benchmarks.
pub fn checks() -> u64 {
    CHECKS.load(Ordering::Relaxed)
}

/// Hashes `password` with argon2id and a random salt; `None` only if the OS RNG fails.
pub fn hash(password: &str) -> Option<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .ok()
        .map(|h| h.to_string())
}

/// Checks `password` against a stored PHC hash. A malformed hash never verifies.
///
/// The argon2 working memory (19 MiB with the default parameters) comes from a small pool
/// ([`POOLED`] buffers) instead of a fresh allocation per check: the allocator would
/// otherwise keep a freed buffer in every thread arena a check ever ran on.
pub fn verify(password: &str, phc: &str) -> bool {
    CHECKS.fetch_add(1, Ordering::Relaxed);
    let Ok(h) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&h.salt, &h.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(h.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = h.version.map_or(Ok(Version::default()), Version::try_from) else {
        return false;
    };
    let Ok(params) = Params::try_from(&h) else {
        return false;
    };
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    let hashed = with_memory(blocks, |memory| {
        argon2
            .hash_password_into_with_memory(password.as_bytes(), salt.as_ref(), &mut out, memory)
            .is_ok()
    });
    hashed && super::session::constant_time_eq_bytes(&out, expected.as_bytes())
}

/// Argon2 working memory kept for reuse, at most this many buffers (as many as the login
/// route lets run at once).
pub const POOLED: usize = 2;
/// Buffers larger than this many 1 KiB blocks (64 MiB) are not kept.
const MAX_POOLED_BLOCKS: usize = 64 * 1024;

static MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Runs `f` on `blocks` blocks of working memory, from the pool when it has a buffer of
/// that size.
fn with_memory<T>(blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    let pool = || MEMORY.lock().unwrap_or_else(|e| e.into_inner());
    let pooled = {
        let mut p = pool();
        p.iter()
            .position(|m| m.len() == blocks)
            .map(|i| p.swap_remove(i))
    };
    let mut memory = pooled.unwrap_or_else(|| vec![Block::new(); blocks]);
    let result = f(&mut memory);
    let mut p = pool();
    if p.len() < POOLED && blocks <= MAX_POOLED_BLOCKS {
        p.push(memory);
    }
    result
}

/// A random 20-character password (letters and digits, ~119 bits).
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    super::session::fill_random(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_password() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse", &h));
        assert!(!verify("wrong", &h));
        assert!(!verify("correct horse", "not a hash"));
        assert!(verify("correct horse", &h), "again, with pooled memory");
        let other = Argon2::new(Algorithm::Argon2i, Version::V0x10, Params::default());
        let h = other.hash_password(b"other params").unwrap().to_string();
        assert!(verify("other params", &h) && !verify("other param", &h));
    }

    #[test]
    fn generated_passwords_differ() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
    }
}
