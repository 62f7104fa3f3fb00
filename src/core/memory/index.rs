//! The key index of isolate memory: an open-addressing hash table of slot
//! numbers.
//!
//! Why not a `HashMap<key, slot>`: the key would then be stored twice (in
//! the map and in the slot, which needs it to unlink an evicted entry), or
//! shared through an `Rc` with its own header. Here each bucket is one
//! `u32`: the slot number in its low 24 bits and 8 bits of the key's hash
//! above them, so most probes that do not match are rejected without
//! reading the slot's key. The key lives once, in its slot.
//!
//! Linear probing with backward-shift deletion: no tombstones, so a table
//! under churn (keys evicted and new ones inserted all day) never fills up
//! with dead buckets and never grows past what its live keys need. The
//! table doubles when it would pass three quarters full; it never shrinks
//! (an isolate that once held many entries is likely to again).

use std::hash::{BuildHasher, RandomState};

/// Slot numbers are below this: the low 24 bits of a bucket.
pub(super) const MAX_SLOTS: usize = (1 << SLOT_BITS) - 1;

const SLOT_BITS: u32 = 24;
const SLOT_MASK: u32 = (1 << SLOT_BITS) - 1;
/// An empty bucket (slot `MAX_SLOTS`, which is never used).
const EMPTY: u32 = u32::MAX;
/// The smallest table, in buckets, once anything is inserted.
const MIN_BUCKETS: usize = 8;

/// Slot numbers by key. The keys themselves are read through the closure
/// each operation takes (`key_of(slot)`), from wherever the slots live.
pub(super) struct KeyIndex {
    buckets: Vec<u32>,
    len: usize,
    hasher: RandomState,
}

impl KeyIndex {
    /// An empty index (allocates nothing until the first insert).
    pub(super) fn new() -> Self {
        KeyIndex { buckets: Vec::new(), len: 0, hasher: RandomState::new() }
    }

    /// The slot holding `key`, if any.
    pub(super) fn find<'a>(&self, key: &str, key_of: impl Fn(u32) -> &'a str) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        let hash = self.hash(key);
        let tag = tag_of(hash);
        let mask = self.buckets.len() - 1;
        let mut at = hash as usize & mask;
        loop {
            let bucket = *self.buckets.get(at)?;
            if bucket == EMPTY {
                return None;
            }
            if bucket & !SLOT_MASK == tag && key_of(bucket & SLOT_MASK) == key {
                return Some(bucket & SLOT_MASK);
            }
            at = (at + 1) & mask;
        }
    }

    /// Records that `slot` holds `key`, which the index must not hold yet.
    /// `key_of` must already answer for every slot the index holds (a
    /// growing table rehashes them).
    pub(super) fn insert<'a>(&mut self, key: &str, slot: u32, key_of: impl Fn(u32) -> &'a str) {
        debug_assert!((slot as usize) < MAX_SLOTS);
        if (self.len + 1) * 4 > self.buckets.len() * 3 {
            self.grow(&key_of);
        }
        let hash = self.hash(key);
        self.place(hash, slot);
        self.len += 1;
    }

    /// Forgets `slot`, found under `key`. Returns whether it was held.
    pub(super) fn remove<'a>(&mut self, key: &str, slot: u32, key_of: impl Fn(u32) -> &'a str) -> bool {
        if self.len == 0 {
            return false;
        }
        let mask = self.buckets.len() - 1;
        let mut hole = self.hash(key) as usize & mask;
        loop {
            match self.buckets.get(hole) {
                Some(&b) if b == EMPTY => return false,
                Some(&b) if b & SLOT_MASK == slot => break,
                Some(_) => hole = (hole + 1) & mask,
                None => return false,
            }
        }
        // Backward shift: pull each following bucket of the run back into
        // the hole unless its home lies cyclically in (hole, at].
        let mut at = hole;
        loop {
            at = (at + 1) & mask;
            let bucket = match self.buckets.get(at) {
                Some(&b) if b != EMPTY => b,
                _ => break,
            };
            let home = self.hash(key_of(bucket & SLOT_MASK)) as usize & mask;
            let stays = if hole <= at { hole < home && home <= at } else { hole < home || home <= at };
            if !stays {
                self.set(hole, bucket);
                hole = at;
            }
        }
        self.set(hole, EMPTY);
        self.len -= 1;
        true
    }

    /// Forgets everything, keeping the table's size.
    pub(super) fn clear(&mut self) {
        self.buckets.fill(EMPTY);
        self.len = 0;
    }

    /// Number of keys held.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    fn hash(&self, key: &str) -> u32 {
        let h = self.hasher.hash_one(key);
        (h ^ (h >> 32)) as u32
    }

    /// Puts `slot` in the first empty bucket from its home (there is one:
    /// the table is at most three quarters full).
    fn place(&mut self, hash: u32, slot: u32) {
        let mask = self.buckets.len() - 1;
        let mut at = hash as usize & mask;
        while self.buckets.get(at).is_some_and(|&b| b != EMPTY) {
            at = (at + 1) & mask;
        }
        self.set(at, tag_of(hash) | slot);
    }

    fn set(&mut self, at: usize, bucket: u32) {
        if let Some(b) = self.buckets.get_mut(at) {
            *b = bucket;
        }
    }

    fn grow<'a>(&mut self, key_of: &impl Fn(u32) -> &'a str) {
        let size = (self.buckets.len() * 2).max(MIN_BUCKETS);
        let old = std::mem::replace(&mut self.buckets, vec![EMPTY; size]);
        for bucket in old.into_iter().filter(|&b| b != EMPTY) {
            let slot = bucket & SLOT_MASK;
            let hash = self.hash(key_of(slot));
            self.place(hash, slot);
        }
    }
}

/// The hash's top 8 bits, where a bucket keeps them.
fn tag_of(hash: u32) -> u32 {
    hash & !SLOT_MASK
}
