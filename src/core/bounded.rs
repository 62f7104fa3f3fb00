//! A table with a hard bound on its entries, for the per-key records an
//! isolate keeps besides its cache: fetches in flight (`coalesce`), keys
//! backing off (`throttle`), KV writes made (`kv_writes`).
//!
//! The records of distinct keys can pile up faster than they expire (a
//! burst of distinct keys within one second), and an isolate must never
//! grow without bound. So when the table is full and a new key comes in, it
//! forgets the entries that are over (the caller says which), and if more
//! than half the bound is still live, forgets everything. Forgetting only
//! costs precision — a key retried early, an extra KV write, a fetch not
//! coalesced — never a wrong answer. Leaving at most half the bound means
//! at least half the bound of inserts before the next scan, so the scan
//! costs O(1) per insert amortized (pruning only the entries that are over
//! would leave a full table rescanned on every insert).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};

/// A map of at most `max` entries (`S`: how keys are hashed; keys that are
/// already hashes pass through, `key_hash::PrehashedState`).
#[derive(Debug)]
pub struct BoundedTable<K, V, S = RandomState> {
    map: HashMap<K, V, S>,
    max: usize,
}

impl<K: Eq + Hash, V> BoundedTable<K, V> {
    /// An empty table of at most `max` entries.
    pub fn new(max: usize) -> Self {
        BoundedTable::hashed_by(max)
    }
}

impl<K: Eq + Hash, V, S: BuildHasher + Default> BoundedTable<K, V, S> {
    /// An empty table of at most `max` entries, its keys hashed by `S`.
    pub fn hashed_by(max: usize) -> Self {
        BoundedTable { map: HashMap::with_hasher(S::default()), max }
    }

    /// The entry of `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.get(key)
    }

    /// Forgets `key`; answers its entry.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.remove(key)
    }

    /// Stores `value` under `key`. When the table is full and `key` is new,
    /// it first makes room: entries for which `live` is false are forgotten,
    /// then everything if more than half the bound is still live.
    pub fn insert(&mut self, key: K, value: V, live: impl FnMut(&V) -> bool) {
        if self.map.len() >= self.max && !self.map.contains_key(&key) {
            let mut live = live;
            self.map.retain(|_, v| live(v));
            if self.map.len() > self.max / 2 {
                self.map.clear();
            }
        }
        self.map.insert(key, value);
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_table_forgets_what_is_over_before_taking_a_new_key() {
        let mut t = BoundedTable::new(4);
        for (k, alive) in [(1, false), (2, true), (3, false), (4, false)] {
            t.insert(k, alive, |alive| *alive);
        }
        t.insert(5, true, |alive| *alive);
        assert_eq!(t.len(), 2, "1, 3 and 4 were over");
        assert!(t.get(&2).is_some() && t.get(&5).is_some());
    }

    #[test]
    fn a_full_table_still_more_than_half_live_is_cleared_and_stays_bounded() {
        let mut t = BoundedTable::new(4);
        for k in 0..1_000 {
            t.insert(k, (), |_| true);
            assert!(t.len() <= 4, "bounded after {k} inserts");
        }
        assert!(t.get(&999).is_some(), "the newest entry is always kept");
        let mut half = BoundedTable::new(4);
        for k in 0..4 {
            half.insert(k, k < 2, |live| *live);
        }
        half.insert(9, true, |live| *live);
        assert_eq!(half.len(), 3, "exactly half live: kept");
    }

    #[test]
    fn a_known_key_is_replaced_without_making_room() {
        let mut t = BoundedTable::new(2);
        t.insert("a", 1, |_| false);
        t.insert("b", 2, |_| false);
        t.insert("a", 3, |_| false);
        assert_eq!((t.len(), t.get("a"), t.get("b")), (2, Some(&3), Some(&2)));
        assert_eq!(t.remove("b"), Some(2));
        assert!(!t.is_empty());
    }
}
