//! L0: the isolate-memory cache, shared by every request an isolate serves.
//!
//! Each entry remembers when it was fetched and its `Policy`, so a lookup can
//! say whether it is fresh, stale or dead (`lifecycle`). Dead entries are
//! dropped when looked up, and swept a few at a time per request through an
//! index ordered by time of death, so an isolate that stops asking for a key
//! still frees it without ever scanning the whole map.
//!
//! The map is bounded in entries and approximate bytes; past a bound it drops
//! the least recently used entries first (a hit or an insert counts as a
//! use). Writes never move an entry to an older origin version (`insert`
//! refuses a lower version than it holds: `version`).
//!
//! The same map, with bounds of its own, keeps the parsed ownership rules of
//! the records seen (`project_ownership::parsed`: as many entries, a quarter
//! of the bytes), so an isolate holds at most about 1.25 × `max_bytes` of
//! cached things; `/v1/stats` shows both.
//!
//! Cost: one `HashMap` slot plus two `BTreeMap` slots per entry (death and
//! recency indexes) sharing one allocation of the key: about 175 bytes of
//! heap per entry in wasm32 besides the key's text and the value (measured,
//! see `ENTRY_OVERHEAD`); every operation is O(log n).

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use super::key::CacheKey;
use super::lifecycle::{Freshness, Millis, Policy};
use super::version;

/// An estimate of the memory a cached value holds, for the byte bound.
pub trait Weigh {
    /// Approximate heap bytes, including the value's own size.
    fn weight(&self) -> usize;
    /// The origin version the value reflects (higher is newer).
    fn version(&self) -> u64;
}

/// Bounds of the isolate-memory cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// At most this many entries.
    pub max_entries: usize,
    /// At most about this many bytes of keys and values.
    pub max_bytes: usize,
}

impl Default for Limits {
    /// 10,000 entries / 16 MiB: a small slice of an isolate's 128 MB.
    fn default() -> Self {
        Limits { max_entries: 10_000, max_bytes: 16 * 1024 * 1024 }
    }
}

/// What isolate memory holds for a key at a given moment.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<V> {
    /// Younger than ttl: answer with it, no I/O.
    Fresh(Rc<V>),
    /// Past ttl, within grace: answer with it only if the stores fail.
    Stale(Rc<V>),
    /// Nothing servable.
    Miss,
}

struct Entry<V> {
    value: Rc<V>,
    fetched_at: Millis,
    policy: Policy,
    /// Position in the death index: (time of death, insertion sequence).
    death: (Millis, u64),
    /// Position in the recency index (higher is more recent).
    used: u64,
    bytes: usize,
}

/// The bounded isolate-memory map. Not thread-safe by design: a Worker
/// isolate runs one thread, and no borrow is ever held across an `.await`.
///
/// The map and both indexes share one `Rc<str>` per key, so a key's text is
/// allocated once however many places refer to it (a third of the heap of a
/// small entry was once three copies of its key).
pub struct MemoryCache<V> {
    entries: HashMap<Rc<str>, Entry<V>>,
    by_death: BTreeMap<(Millis, u64), Rc<str>>,
    by_use: BTreeMap<u64, Rc<str>>,
    seq: u64,
    bytes: usize,
    limits: Limits,
}

/// Entries examined per `sweep` call: enough to keep up, small enough to
/// keep any one request's cost negligible.
pub const SWEEP_BUDGET: usize = 16;

impl<V: Weigh> MemoryCache<V> {
    /// An empty cache with the given bounds.
    pub fn new(limits: Limits) -> Self {
        MemoryCache {
            entries: HashMap::new(),
            by_death: BTreeMap::new(),
            by_use: BTreeMap::new(),
            seq: 0,
            bytes: 0,
            limits,
        }
    }

    /// The state of `key` at `now`. A dead entry is removed and reads as a miss.
    pub fn get(&mut self, key: &CacheKey, now: Millis) -> Lookup<V> {
        self.seq += 1;
        let seq = self.seq;
        let Some(entry) = self.entries.get_mut(key.as_str()) else { return Lookup::Miss };
        let lookup = match entry.policy.freshness(entry.fetched_at, now) {
            Freshness::Fresh => Lookup::Fresh(entry.value.clone()),
            Freshness::Stale => Lookup::Stale(entry.value.clone()),
            Freshness::Dead => {
                self.remove(key);
                return Lookup::Miss;
            }
        };
        // Move the key's recency slot, reusing its shared key (no allocation
        // per hit; the fallback is for an index out of step, which no
        // operation leaves).
        let held = self.by_use.remove(&entry.used).unwrap_or_else(|| Rc::from(key.as_str()));
        entry.used = seq;
        self.by_use.insert(seq, held);
        lookup
    }

    /// When the entry of `key` stops being fresh, if it is fresh at `now`.
    /// A peek: recency and counters are untouched. The npm package keeps
    /// the answer of a fresh entry in JS until this moment.
    pub fn fresh_until(&self, key: &CacheKey, now: Millis) -> Option<Millis> {
        let entry = self.entries.get(key.as_str())?;
        match entry.policy.freshness(entry.fetched_at, now) {
            Freshness::Fresh => Some(entry.fetched_at.saturating_add(entry.policy.ttl_ms)),
            Freshness::Stale | Freshness::Dead => None,
        }
    }

    /// Stores `value` fetched at `now`, unless the policy keeps the key out of
    /// memory (`ttl = 0`) or memory already holds a newer version. Returns
    /// whether the value was stored.
    pub fn insert(&mut self, key: CacheKey, value: impl Into<Rc<V>>, policy: Policy, now: Millis) -> bool {
        let value = value.into();
        if !policy.uses_memory() {
            self.remove(&key);
            return false;
        }
        if let Some(old) = self.entries.get(key.as_str()) {
            if version::is_older(value.version(), old.value.version()) {
                return false;
            }
        }
        self.remove(&key);
        let bytes = key.as_str().len() + value.weight() + ENTRY_OVERHEAD;
        self.seq += 1;
        let death = (policy.dies_at(now), self.seq);
        let shared: Rc<str> = Rc::from(key.as_str());
        self.by_death.insert(death, Rc::clone(&shared));
        self.by_use.insert(self.seq, Rc::clone(&shared));
        self.entries.insert(shared, Entry { value, fetched_at: now, policy, death, used: self.seq, bytes });
        self.bytes += bytes;
        self.enforce_limits();
        true
    }

    /// Makes `key` stale at `now` (keeping its grace): it is then served
    /// only when the stores cannot answer. For a key whose last write may or
    /// may not have reached the origin. Returns whether it was held.
    pub fn mark_stale(&mut self, key: &CacheKey, now: Millis) -> bool {
        let Some(entry) = self.entries.get_mut(key.as_str()) else { return false };
        let aged = now.saturating_sub(entry.policy.ttl_ms);
        if aged < entry.fetched_at {
            entry.fetched_at = aged;
            let held = self.by_death.remove(&entry.death).unwrap_or_else(|| Rc::from(key.as_str()));
            entry.death = (entry.policy.dies_at(aged), entry.death.1);
            self.by_death.insert(entry.death, held);
        }
        true
    }

    /// Forgets `key`. Returns whether it was held.
    pub fn remove(&mut self, key: &CacheKey) -> bool {
        self.remove_str(key.as_str())
    }

    /// [`MemoryCache::remove`] by the key's text, as the indexes hold it.
    fn remove_str(&mut self, key: &str) -> bool {
        match self.entries.remove(key) {
            Some(entry) => {
                self.by_death.remove(&entry.death);
                self.by_use.remove(&entry.used);
                self.bytes -= entry.bytes;
                true
            }
            None => false,
        }
    }

    /// Drops up to `budget` entries that are dead at `now`; returns how many.
    pub fn sweep(&mut self, now: Millis, budget: usize) -> usize {
        let mut dropped = 0;
        while dropped < budget {
            let Some((&(dies_at, _), key)) = self.by_death.first_key_value() else { break };
            if dies_at > now {
                break;
            }
            let key = Rc::clone(key);
            self.remove_str(&key);
            dropped += 1;
        }
        dropped
    }

    /// Empties the cache.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.by_death.clear();
        self.by_use.clear();
        self.bytes = 0;
    }

    /// Number of entries held (fresh, stale, or dead but not yet swept).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Approximate bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The bounds in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn enforce_limits(&mut self) {
        while self.entries.len() > self.limits.max_entries || self.bytes > self.limits.max_bytes {
            let Some((_, key)) = self.by_use.first_key_value() else { break };
            let key = Rc::clone(key);
            self.remove_str(&key);
        }
    }
}

/// Heap bytes per entry beyond the key's text and the value's `weight`
/// (the map's slot at its load factor, the two index slots with their
/// B-tree nodes' slack, the shared key's and the value's `Rc` headers), so
/// the byte bound counts what an isolate really holds and many tiny entries
/// still count against it.
///
/// Measured in wasm32, as a Worker runs it: bench/core's `fill` (100,000
/// small options, a 23-byte key and a 12-byte string value, read once each
/// through the tiered cache with no bound) under a counting allocator, run
/// by bench/js/micro.mjs (`fill_heap`) in Node: 264.4 heap bytes per entry,
/// of which 23 are the key and 68 the value's weight. Native (64-bit)
/// entries are larger (~345 bytes measured the same way), so there the
/// bound under-counts a little. It also under-counts after heavy churn at a
/// full bound: the map's table, refilled with tombstones, doubles once and
/// stays so (~400 bytes per small entry at 10,000 entries in wasm32).
const ENTRY_OVERHEAD: usize = 173;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct V(u64, usize);
    impl Weigh for V {
        fn weight(&self) -> usize {
            self.1
        }
        fn version(&self) -> u64 {
            self.0
        }
    }

    const P: Policy = Policy::from_secs(10, 60);

    fn key(n: u32) -> CacheKey {
        CacheKey::option(&format!("k{n}"))
    }

    fn cache() -> MemoryCache<V> {
        MemoryCache::new(Limits::default())
    }

    #[test]
    fn fresh_then_stale_then_dead_and_evicted() {
        let mut c = cache();
        c.insert(key(1), V(1, 1), P, 0);
        assert!(matches!(c.get(&key(1), 9_999), Lookup::Fresh(_)));
        assert!(matches!(c.get(&key(1), 10_000), Lookup::Stale(_)));
        assert!(matches!(c.get(&key(1), 70_000), Lookup::Miss));
        assert_eq!(c.len(), 0, "a dead entry is removed when looked up");
    }

    #[test]
    fn fresh_until_tells_when_freshness_ends_and_nothing_after() {
        let mut c = cache();
        assert_eq!(c.fresh_until(&key(1), 0), None, "unknown key");
        c.insert(key(1), V(1, 1), P, 5_000);
        assert_eq!(c.fresh_until(&key(1), 5_000), Some(15_000));
        assert_eq!(c.fresh_until(&key(1), 14_999), Some(15_000));
        assert_eq!(c.fresh_until(&key(1), 15_000), None, "stale is not fresh");
        c.insert(key(2), V(1, 1), P, 100_000);
        assert!(c.mark_stale(&key(2), 101_000));
        assert_eq!(c.fresh_until(&key(2), 101_000), None, "an entry marked stale is not fresh");
    }

    #[test]
    fn zero_ttl_keeps_the_key_out_of_memory() {
        let mut c = cache();
        c.insert(key(1), V(1, 1), P, 0);
        assert!(!c.insert(key(1), V(2, 1), Policy::from_secs(0, 60), 1));
        assert_eq!(c.get(&key(1), 1), Lookup::Miss, "an older entry is dropped too");
    }

    #[test]
    fn older_version_never_replaces_newer() {
        let mut c = cache();
        c.insert(key(1), V(5, 1), P, 0);
        assert!(!c.insert(key(1), V(4, 1), P, 1));
        assert_eq!(c.get(&key(1), 2), Lookup::Fresh(Rc::new(V(5, 1))));
        assert!(c.insert(key(1), V(5, 1), P, 3), "same version refreshes the fetch time");
        assert!(c.insert(key(1), V(6, 1), P, 4));
        assert_eq!(c.get(&key(1), 5), Lookup::Fresh(Rc::new(V(6, 1))));
    }

    #[test]
    fn marked_stale_entry_keeps_its_grace_from_now() {
        const T: Millis = 1_000_000; // clocks are Unix milliseconds: far past any ttl
        let mut c = cache();
        c.insert(key(1), V(1, 1), P, T);
        assert!(c.mark_stale(&key(1), T + 5_000));
        assert!(matches!(c.get(&key(1), T + 5_000), Lookup::Stale(_)));
        assert!(matches!(c.get(&key(1), T + 64_999), Lookup::Stale(_)));
        assert_eq!(c.get(&key(1), T + 65_000), Lookup::Miss, "dead 60 s (grace) after being marked");
        assert!(!c.mark_stale(&key(2), T));
        c.insert(key(3), V(1, 1), P, T);
        c.mark_stale(&key(3), T + 5_000);
        assert_eq!(c.sweep(T + 65_000, 10), 1, "the death index moved with it");
    }

    #[test]
    fn reinsert_restarts_the_clock() {
        let mut c = cache();
        c.insert(key(1), V(1, 1), P, 0);
        c.insert(key(1), V(1, 1), P, 60_000);
        assert!(matches!(c.get(&key(1), 65_000), Lookup::Fresh(_)));
        assert_eq!(c.sweep(71_000, 100), 0, "the old death time is not swept");
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn sweep_drops_only_dead_entries_within_budget() {
        let mut c = cache();
        for n in 0..10 {
            c.insert(key(n), V(1, 1), P, u64::from(n) * 1_000);
        }
        // entries 0..=5 are dead at 75 s (they die at 70..=75 s)
        assert_eq!(c.sweep(75_000, 4), 4);
        assert_eq!(c.sweep(75_000, 100), 2);
        assert_eq!(c.len(), 4);
        assert!(matches!(c.get(&key(6), 75_000), Lookup::Stale(_)));
    }

    #[test]
    fn entry_bound_drops_the_least_recently_used() {
        let mut c = MemoryCache::new(Limits { max_entries: 2, max_bytes: usize::MAX });
        c.insert(key(1), V(1, 1), P, 0);
        c.insert(key(2), V(1, 1), P, 1_000);
        assert!(matches!(c.get(&key(1), 1_500), Lookup::Fresh(_)), "key 1 is now the most recent");
        c.insert(key(3), V(1, 1), P, 2_000);
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(&key(2), 2_000), Lookup::Miss, "key 2 was least recently used");
        assert!(matches!(c.get(&key(1), 2_000), Lookup::Fresh(_)));
        assert!(matches!(c.get(&key(3), 2_000), Lookup::Fresh(_)));
    }

    #[test]
    fn each_key_is_allocated_once_and_shared_by_the_map_and_both_indexes() {
        const T: Millis = 1_000_000;
        let mut c = cache();
        c.insert(key(1), V(1, 1), P, T);
        assert!(matches!(c.get(&key(1), T + 1), Lookup::Fresh(_)), "a hit moves the recency slot");
        assert!(c.mark_stale(&key(1), T + 5_000), "marking stale moves the death slot");
        let (held, _) = c.entries.get_key_value("opt:k1").expect("held");
        assert_eq!(Rc::strong_count(held), 3, "the map and the two indexes, one allocation");
        assert!(c.by_death.values().chain(c.by_use.values()).all(|k| Rc::ptr_eq(k, held)));
    }

    /// A model-based check: random operations against a plain reference
    /// model agree on length, bytes and which keys are held (small, seeded,
    /// deterministic: a tiny linear congruential generator, no crate).
    #[test]
    fn random_operations_keep_indexes_consistent_with_a_reference_model() {
        let mut rng: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: u64| {
            rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (rng >> 33) % n
        };
        let limits = Limits { max_entries: 8, max_bytes: 4_000 };
        let mut c = MemoryCache::new(limits);
        let mut now = 0;
        for _ in 0..20_000 {
            let k = key(next(20) as u32);
            match next(4) {
                0 | 1 => {
                    c.insert(k, V(next(3), next(500) as usize), Policy::from_secs(next(3), next(3)), now);
                }
                2 => {
                    c.get(&k, now);
                }
                _ => {
                    c.sweep(now, 4);
                }
            }
            now += next(700);
            assert!(c.len() <= limits.max_entries && c.bytes() <= limits.max_bytes);
            assert_eq!(c.by_death.len(), c.len());
            assert_eq!(c.by_use.len(), c.len());
            let bytes: usize = c.entries.values().map(|e| e.bytes).sum();
            assert_eq!(bytes, c.bytes());
        }
    }

    #[test]
    fn byte_bound_is_tracked_and_enforced() {
        let one = "opt:k1".len() + 400 + ENTRY_OVERHEAD;
        let mut c = MemoryCache::new(Limits { max_entries: 100, max_bytes: 2 * one + one / 2 });
        c.insert(key(1), V(1, 400), P, 0);
        assert_eq!(c.bytes(), one, "key, value and the measured overhead");
        c.insert(key(2), V(1, 400), P, 1);
        assert_eq!(c.len(), 2);
        c.insert(key(3), V(1, 400), P, 2);
        assert!(c.bytes() <= 2 * one + one / 2);
        assert_eq!(c.get(&key(1), 2), Lookup::Miss);
        c.remove(&key(2));
        c.remove(&key(3));
        assert_eq!(c.bytes(), 0, "removal gives every byte back");
    }
}
