//! L0: the isolate-memory cache, shared by every request an isolate serves.
//!
//! Each entry remembers when it was fetched and its `Policy`, so a lookup can
//! say whether it is fresh, stale or dead (`lifecycle`). Dead entries are
//! dropped when looked up, and swept a few at a time per request by a cursor
//! walking the slots, so an isolate that stops asking for a key still frees
//! it without ever scanning the whole map at once.
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
//! Structure, chosen for memory per entry (an isolate has 128 MB and many
//! small entries): the entries live in a slab of slots threaded by a
//! recency list (`slots`), found through a hash table of slot numbers
//! (`index`, 4 bytes a bucket, no tombstones). The key's text is allocated
//! once, in its slot. Every operation is O(1) (a sweep: O(budget)); see
//! `ENTRY_OVERHEAD` for the measured cost.
//!
//! What leaves the map other than by a newer copy replacing it can be
//! reported (`departures`: the key's hash and the version it held), for the
//! version beacon's "never answer below what was answered" once the entry
//! no longer stands for it.

mod departures;
mod index;
mod slots;
mod stale_all;

use std::rc::Rc;

use super::key::CacheKey;
use super::lifecycle::{Freshness, Millis, Policy};
use super::version;
use departures::Departures;
pub use departures::{Departed, PENDING_MAX};
use index::{KeyIndex, MAX_SLOTS};
use slots::Slots;

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
    /// The key's text, the only copy (the index holds slot numbers).
    key: Box<str>,
    value: Rc<V>,
    fetched_at: Millis,
    policy: Policy,
    bytes: usize,
}

/// The bounded isolate-memory map. Not thread-safe by design: a Worker
/// isolate runs one thread, and no borrow is ever held across an `.await`.
pub struct MemoryCache<V> {
    slots: Slots<Entry<V>>,
    index: KeyIndex,
    /// The next slot a sweep examines.
    cursor: u32,
    bytes: usize,
    limits: Limits,
    /// What left, when asked for (`with_departures`).
    departures: Departures,
}

/// Slots examined per `sweep` call: a full pass over 10,000 slots every
/// ~600 requests, and a negligible cost for any one request (a dead entry
/// is also dropped when looked up, and evicted first-come under pressure).
pub const SWEEP_BUDGET: usize = 16;

/// How the index reads a slot's key.
fn key_of<'a, V>(slots: &'a Slots<Entry<V>>) -> impl Fn(u32) -> &'a str + 'a {
    move |at| slots.get(at).map_or("", |e| &*e.key)
}

impl<V: Weigh> MemoryCache<V> {
    /// An empty cache with the given bounds (allocates nothing yet).
    pub fn new(limits: Limits) -> Self {
        MemoryCache {
            slots: Slots::new(),
            index: KeyIndex::new(),
            cursor: 0,
            bytes: 0,
            limits,
            departures: Departures::default(),
        }
    }

    /// The same cache recording what leaves it other than by a newer copy
    /// replacing it (evicted, dead, swept, dropped for a ttl-0 policy,
    /// removed): drained with [`MemoryCache::take_departed`].
    #[must_use]
    pub fn with_departures(mut self) -> Self {
        self.departures.turn_on();
        self
    }

    /// The entries that left since the last call, oldest first (none unless
    /// made `with_departures`).
    pub fn take_departed(&mut self) -> impl Iterator<Item = Departed> + '_ {
        self.departures.drain()
    }

    /// The version memory holds for `key`, fresh, stale or dead but not yet
    /// dropped (a peek: recency untouched).
    pub fn version_of(&self, key: &CacheKey) -> Option<u64> {
        Some(self.slots.get(self.find(key.as_str())?)?.value.version())
    }

    /// The state of `key` at `now`. A dead entry is removed and reads as a miss.
    pub fn get(&mut self, key: &CacheKey, now: Millis) -> Lookup<V> {
        let Some(at) = self.find(key.as_str()) else { return Lookup::Miss };
        let Some(entry) = self.slots.get(at) else { return Lookup::Miss };
        let lookup = match entry.policy.freshness(entry.fetched_at, now) {
            Freshness::Fresh => Lookup::Fresh(entry.value.clone()),
            Freshness::Stale => Lookup::Stale(entry.value.clone()),
            Freshness::Dead => {
                self.remove_at(at);
                return Lookup::Miss;
            }
        };
        self.slots.touch(at);
        lookup
    }

    /// When the entry of `key` stops being fresh, if it is fresh at `now`.
    /// A peek: recency and counters are untouched. The npm package keeps
    /// the answer of a fresh entry in JS until this moment.
    pub fn fresh_until(&self, key: &CacheKey, now: Millis) -> Option<Millis> {
        let entry = self.slots.get(self.find(key.as_str())?)?;
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
        if let Some(at) = self.find(key.as_str()) {
            if self.slots.get(at).is_some_and(|old| version::is_older(value.version(), old.value.version())) {
                return false;
            }
            // Replaced by a copy as new or newer: not a departure.
            self.take_at(at);
        }
        // Room first, so the slab never grows past the entry bound.
        while self.slots.len() >= self.max_entries().max(1) && self.evict_oldest() {}
        let bytes = key.as_str().len() + value.weight() + ENTRY_OVERHEAD;
        let entry = Entry { key: key.as_str().into(), value, fetched_at: now, policy, bytes };
        let Ok(at) = self.slots.push(entry, self.max_entries()) else { return false };
        if let Some(entry) = self.slots.get(at) {
            self.index.insert(&entry.key, at, key_of(&self.slots));
        }
        self.bytes += bytes;
        self.enforce_limits();
        true
    }

    /// Makes `key` stale at `now` (keeping its grace): it is then served
    /// only when the stores cannot answer. For a key whose last write may or
    /// may not have reached the origin. Returns whether it was held.
    pub fn mark_stale(&mut self, key: &CacheKey, now: Millis) -> bool {
        let Some(at) = self.find(key.as_str()) else { return false };
        let Some(entry) = self.slots.get_mut(at) else { return false };
        let aged = now.saturating_sub(entry.policy.ttl_ms);
        if aged < entry.fetched_at {
            entry.fetched_at = aged;
        }
        true
    }

    /// Forgets `key`. Returns whether it was held.
    pub fn remove(&mut self, key: &CacheKey) -> bool {
        match self.find(key.as_str()) {
            Some(at) => self.remove_at(at),
            None => false,
        }
    }

    /// Examines up to `budget` slots from where the last sweep stopped
    /// (wrapping around), dropping the entries dead at `now`; returns how
    /// many it dropped. Amortised: each call costs O(budget) whatever the
    /// size, and successive calls cover every slot in turn.
    pub fn sweep(&mut self, now: Millis, budget: usize) -> usize {
        let mut dropped = 0;
        for _ in 0..budget.min(self.slots.capacity()) {
            let at = if (self.cursor as usize) < self.slots.capacity() { self.cursor } else { 0 };
            self.cursor = at + 1;
            let dead = self.slots.get(at).is_some_and(|e| e.policy.freshness(e.fetched_at, now) == Freshness::Dead);
            if dead && self.remove_at(at) {
                dropped += 1;
            }
        }
        dropped
    }

    /// Empties the cache.
    pub fn clear(&mut self) {
        self.slots.clear();
        self.index.clear();
        self.cursor = 0;
        self.bytes = 0;
    }

    /// Number of entries held (fresh, stale, or dead but not yet swept).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.slots.len() == 0
    }

    /// Approximate bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The bounds in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The entry bound, within what slot numbers can address (~16.7
    /// million entries: far more than an isolate's memory holds).
    fn max_entries(&self) -> usize {
        self.limits.max_entries.min(MAX_SLOTS - 1)
    }

    fn find(&self, key: &str) -> Option<u32> {
        self.index.find(key, key_of(&self.slots))
    }

    /// Drops the entry in slot `at` from the index and the slab, recorded
    /// as a departure.
    fn remove_at(&mut self, at: u32) -> bool {
        match self.take_at(at) {
            Some(entry) => {
                self.departures.left(&entry.key, entry.value.version());
                true
            }
            None => false,
        }
    }

    /// Takes the entry in slot `at` out of the index and the slab.
    fn take_at(&mut self, at: u32) -> Option<Entry<V>> {
        let entry = self.slots.get(at)?;
        self.index.remove(&entry.key, at, key_of(&self.slots));
        let entry = self.slots.take(at)?;
        self.bytes -= entry.bytes;
        Some(entry)
    }

    /// Drops the least recently used entry; false when empty.
    fn evict_oldest(&mut self) -> bool {
        match self.slots.oldest() {
            Some(at) => self.remove_at(at),
            None => false,
        }
    }

    fn enforce_limits(&mut self) {
        while (self.slots.len() > self.max_entries() || self.bytes > self.limits.max_bytes) && self.evict_oldest() {}
    }
}

/// Heap bytes per entry beyond the key's text and the value's `weight`
/// (its slot in the slab, 56 bytes in wasm32, with the slab's growth
/// slack, and its share of the index's buckets), so the byte bound counts
/// what an isolate really holds and many tiny entries still count against
/// it.
///
/// Measured in wasm32, as a Worker runs it: bench/core's `fill` (100,000
/// small options, a 23-byte key and a 12-byte string value, read once each
/// through the tiered cache with no bound) under a counting allocator, run
/// by `bench/js/memory.mjs` in Node: 159.5 heap bytes per entry, of which
/// 23 are the key and 68 the value's weight (164 since each value carries
/// when the origin gave it, the isolate's bounded per-key records
/// included). At the default bound after 100,000 distinct keys (churn) the
/// slab ends exactly at the bound and the index has no tombstones, so an
/// entry costs about the same (the ~231 bytes per entry measured then
/// include the isolate's other per-key records: its KV write records and
/// the answered versions of departed entries, both keyed by a 64-bit hash).
/// Native (64-bit) entries are larger (~196 bytes measured the same way:
/// 72-byte slots), so there the bound under-counts a little.
const ENTRY_OVERHEAD: usize = 69;

#[cfg(test)]
mod tests;
