//! A 64-bit hash of a cache key, for the per-key records an isolate keeps
//! beside its memory (the beacon's minimum and answered versions,
//! `propagation::view`; this isolate's KV writes, `kv_writes`).
//!
//! Why a hash and not the key: those tables hold up to 10,000 keys each,
//! and under read churn (many distinct keys) each would otherwise keep a
//! second copy of every key's text, as large again as the memory entries
//! themselves. A `u64` is 8 bytes, and the tables then need no rehash (the
//! value is already a good hash: [`Prehashed`]).
//!
//! Which: SipHash-1-3 under fixed keys (the standard library's
//! `DefaultHasher::new()`): deterministic within a build (the same key
//! always gives the same hash, in every table of the isolate, and in tests),
//! well distributed, no dependency. The hashes never leave the isolate, so
//! the algorithm may change between Rust releases without harm.
//!
//! Collisions (about 1 in 2^64 per pair of keys) cost at most caching
//! precision, never a wrong or missing answer: each table says why where it
//! uses the hash.

use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};

/// The 64-bit hash of `key` (a cache key's text).
pub fn of(key: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}

/// A `HashMap` hasher for keys that are already [`of`]'s hashes: passes the
/// `u64` through instead of hashing it again.
#[derive(Debug, Default, Clone, Copy)]
pub struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are meant; anything else still hashes (FNV-1a).
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The `BuildHasher` of maps keyed by [`of`]'s hashes.
pub type PrehashedState = BuildHasherDefault<Prehashed>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_key_always_hashes_the_same_and_distinct_keys_apart() {
        assert_eq!(of("opt:a"), of("opt:a"));
        let hashes: std::collections::HashSet<u64> = (0..10_000).map(|n| of(&format!("opt:k{n}"))).collect();
        assert_eq!(hashes.len(), 10_000);
    }

    #[test]
    fn a_prehashed_u64_passes_through() {
        let mut h = Prehashed::default();
        42u64.hash(&mut h);
        assert_eq!(h.finish(), 42);
    }
}
