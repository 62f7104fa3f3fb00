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

mod stale_all;

#[cfg(test)]
mod tests;
