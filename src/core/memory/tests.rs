//! Isolate memory: lifecycle, bounds, recency, sweeping, and its indexes
//! kept in step (against a reference model).

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
