//! Isolate memory: lifecycle, bounds, recency and eviction order,
//! sweeping, and its slab and index kept in step (against a reference
//! model).

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
fn eviction_takes_the_least_recently_used_first_hits_and_inserts_counting_as_use() {
    let mut c = MemoryCache::new(Limits { max_entries: 4, max_bytes: usize::MAX });
    for n in 1..=4 {
        c.insert(key(n), V(1, 1), P, 0);
    }
    // recency now, most recent first: 4 3 2 1; a hit on 2 and on 1, a
    // re-insert of 3: 3 1 2 4
    assert!(matches!(c.get(&key(2), 1), Lookup::Fresh(_)));
    assert!(matches!(c.get(&key(1), 2), Lookup::Fresh(_)));
    assert!(c.insert(key(3), V(1, 1), P, 3));
    let held = |c: &MemoryCache<V>| (1..=8).filter(|&n| c.fresh_until(&key(n), 4).is_some()).collect::<Vec<_>>();
    c.insert(key(5), V(1, 1), P, 4);
    assert_eq!(held(&c), [1, 2, 3, 5], "4 went first");
    c.insert(key(6), V(1, 1), P, 4);
    assert_eq!(held(&c), [1, 3, 5, 6], "then 2");
    c.insert(key(7), V(1, 1), P, 4);
    assert_eq!(held(&c), [3, 5, 6, 7], "then 1");
    c.insert(key(8), V(1, 1), P, 4);
    assert_eq!(held(&c), [5, 6, 7, 8], "then 3, the re-inserted one");
}

#[test]
fn a_peek_does_not_count_as_use() {
    let mut c = MemoryCache::new(Limits { max_entries: 2, max_bytes: usize::MAX });
    c.insert(key(1), V(1, 1), P, 0);
    c.insert(key(2), V(1, 1), P, 0);
    assert!(c.fresh_until(&key(1), 1).is_some());
    c.insert(key(3), V(1, 1), P, 1);
    assert_eq!(c.fresh_until(&key(1), 1), None, "key 1 stayed the least recently used");
}

#[test]
fn sweeping_covers_every_slot_in_turn_a_budget_at_a_time() {
    let mut c = cache();
    for n in 0..100 {
        c.insert(key(n), V(1, 1), P, 0);
    }
    c.insert(key(1_000), V(1, 1), P, 65_000);
    let mut calls = 0;
    while c.len() > 1 {
        assert!(c.sweep(70_000, 16) <= 16, "at most a budget of slots examined per call");
        calls += 1;
        assert!(calls <= 7, "101 slots, 16 a call: every slot examined within 7 calls");
    }
    assert!(matches!(c.get(&key(1_000), 70_000), Lookup::Fresh(_)), "the live entry stays");
    assert_eq!(c.sweep(70_000, 1_000), 0, "nothing dead is left");
}

#[test]
fn churn_at_the_entry_bound_reuses_slots_and_never_grows_past_it() {
    let mut c = MemoryCache::new(Limits { max_entries: 100, max_bytes: usize::MAX });
    for n in 0..10_000 {
        c.insert(key(n), V(1, 1), P, u64::from(n));
        c.get(&key(n / 2), u64::from(n));
    }
    assert_eq!(c.len(), 100);
    assert_eq!(c.slots.capacity(), 100, "the slab ends at the bound");
    assert_eq!(c.index.len(), 100);
}

#[test]
fn each_key_is_stored_once_in_its_slot_and_found_through_the_index() {
    let mut c = cache();
    c.insert(key(1), V(1, 1), P, 0);
    c.insert(key(2), V(1, 1), P, 0);
    let at = c.find("opt:k2").expect("held");
    assert_eq!(c.slots.get(at).map(|e| &*e.key), Some("opt:k2"));
    assert_eq!(c.find("opt:k3"), None);
}

/// Checks the structure against itself: the index finds every entry of
/// the recency list under its own key, and the counters add up.
fn assert_consistent(c: &MemoryCache<V>) {
    let order = c.slots.by_recency();
    assert_eq!(order.len(), c.len());
    assert_eq!(c.index.len(), c.len());
    let mut bytes = 0;
    for &at in &order {
        let entry = c.slots.get(at).expect("listed slots hold an entry");
        assert_eq!(c.find(&entry.key), Some(at), "the index finds {}", entry.key);
        bytes += entry.bytes;
    }
    assert_eq!(bytes, c.bytes());
}

type Held = (CacheKey, u64, usize, Millis, Policy);

/// The reference model: entries in recency order, most recent first, and
/// what left (key hash, version) since the last look.
struct Model {
    held: Vec<Held>,
    limits: Limits,
    departed: Vec<(u64, u64)>,
}

impl Model {
    fn position(&self, k: &CacheKey) -> Option<usize> {
        self.held.iter().position(|(held, ..)| held == k)
    }

    /// Entry `i` leaves (not replaced by a newer copy).
    fn leave(&mut self, i: usize) {
        let (k, version, ..) = self.held.remove(i);
        self.departed.push((crate::core::key_hash::of(k.as_str()), version));
    }

    fn remove(&mut self, k: &CacheKey) {
        if let Some(i) = self.position(k) {
            self.leave(i);
        }
    }

    fn insert(&mut self, k: CacheKey, version: u64, weight: usize, policy: Policy, now: Millis) {
        if !policy.uses_memory() {
            return self.remove(&k);
        }
        if let Some(i) = self.position(&k) {
            if version::is_older(version, self.held[i].1) {
                return;
            }
            self.held.remove(i);
        }
        self.held.insert(0, (k, version, weight, now, policy));
        let size = |h: &[Held]| -> usize { h.iter().map(|(k, _, w, ..)| k.as_str().len() + w + ENTRY_OVERHEAD).sum() };
        while self.held.len() > self.limits.max_entries || size(&self.held) > self.limits.max_bytes {
            self.leave(self.held.len() - 1);
        }
    }

    fn get(&mut self, k: &CacheKey, now: Millis) -> Option<Freshness> {
        let i = self.position(k)?;
        let (_, _, _, fetched, policy) = self.held[i];
        match policy.freshness(fetched, now) {
            Freshness::Dead => {
                self.leave(i);
                None
            }
            f => {
                let entry = self.held.remove(i);
                self.held.insert(0, entry);
                Some(f)
            }
        }
    }
}

/// A model-based check: random operations against a plain reference
/// model (a list in recency order) agree on what is held, in which
/// recency order, with which version, on every answer, and on what left;
/// sweeps drop only dead entries, at most a budget's worth (small, seeded,
/// deterministic: a tiny linear congruential generator, no crate).
#[test]
fn random_operations_agree_with_a_reference_model() {
    let mut rng: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: u64| {
        rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (rng >> 33) % n
    };
    for (limits, keys) in
        [(Limits { max_entries: 8, max_bytes: 4_000 }, 20), (Limits { max_entries: 300, max_bytes: usize::MAX }, 400)]
    {
        let mut c = MemoryCache::new(limits).with_departures();
        let mut model = Model { held: Vec::new(), limits, departed: Vec::new() };
        let mut now = 0;
        for _ in 0..20_000 {
            let k = key(next(keys) as u32);
            match next(6) {
                0 | 1 => {
                    let (version, weight) = (next(3), next(500) as usize);
                    let policy = Policy::from_secs(next(3), next(3));
                    c.insert(k.clone(), V(version, weight), policy, now);
                    model.insert(k, version, weight, policy, now);
                }
                2 | 3 => {
                    let got = match c.get(&k, now) {
                        Lookup::Fresh(v) => Some((Freshness::Fresh, v.0)),
                        Lookup::Stale(v) => Some((Freshness::Stale, v.0)),
                        Lookup::Miss => None,
                    };
                    let version = model.position(&k).map(|i| model.held[i].1);
                    let want = model.get(&k, now).map(|f| (f, version.unwrap_or_default()));
                    assert_eq!(got, want, "get {} at {now}", k.as_str());
                }
                4 => {
                    assert_eq!(c.remove(&k), model.position(&k).is_some());
                    model.remove(&k);
                }
                _ => {
                    let before = model.held.len();
                    let dropped = c.sweep(now, 4);
                    assert!(dropped <= 4);
                    let mut i = 0;
                    while let Some((k, _, _, fetched, policy)) = model.held.get(i) {
                        if c.find(k.as_str()).is_some() {
                            i += 1;
                        } else {
                            assert!(policy.freshness(*fetched, now) == Freshness::Dead, "swept a live entry");
                            model.leave(i);
                        }
                    }
                    assert_eq!(before - model.held.len(), dropped);
                }
            }
            now += next(700);
            assert!(c.len() <= limits.max_entries && c.bytes() <= limits.max_bytes);
            assert_consistent(&c);
            let order: Vec<&str> =
                c.slots.by_recency().iter().map(|&at| &*c.slots.get(at).expect("held").key).collect();
            let want: Vec<&str> = model.held.iter().map(|(k, ..)| k.as_str()).collect();
            assert_eq!(order, want, "held keys in recency order");
            let mut left: Vec<(u64, u64)> = c.take_departed().map(|d| (d.key_hash, d.version)).collect();
            left.sort_unstable();
            model.departed.sort_unstable();
            assert_eq!(left, std::mem::take(&mut model.departed), "what left memory");
        }
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

#[test]
fn marking_all_stale_ages_every_fresh_entry_and_keeps_its_grace() {
    const T: Millis = 1_000_000;
    let mut c = cache();
    c.insert(key(1), V(1, 1), P, T);
    c.insert(key(2), V(1, 1), P, T);
    c.insert(key(3), V(1, 1), P, T - 20_000);
    assert_eq!(c.mark_all_stale(T + 1_000), 2, "key 3 was already stale");
    for n in 1..=3 {
        assert!(matches!(c.get(&key(n), T + 1_000), Lookup::Stale(_)), "key {n}");
    }
    assert!(matches!(c.get(&key(1), T + 60_999), Lookup::Stale(_)), "grace counted from the marking");
    assert_eq!(c.sweep(T + 61_000, 10), 3, "keys 1 and 2 die 60 s after the marking, key 3 had died before");
    assert_eq!(c.len(), 0);
    assert_consistent(&c);
}

fn departed(c: &mut MemoryCache<V>) -> Vec<(u64, u64)> {
    c.take_departed().map(|d| (d.key_hash, d.version)).collect()
}

fn hash(n: u32) -> u64 {
    crate::core::key_hash::of(key(n).as_str())
}

#[test]
fn what_leaves_memory_is_reported_with_its_version_and_a_newer_copy_replacing_it_is_not() {
    let mut c = MemoryCache::new(Limits { max_entries: 2, max_bytes: usize::MAX }).with_departures();
    c.insert(key(1), V(5, 1), P, 0);
    c.insert(key(1), V(6, 1), P, 0);
    assert_eq!(departed(&mut c), vec![], "replaced by a newer copy: still held");
    c.insert(key(2), V(1, 1), P, 0);
    c.insert(key(3), V(2, 1), P, 0);
    assert_eq!(departed(&mut c), vec![(hash(1), 6)], "the least recently used, evicted");
    assert_eq!(c.get(&key(2), 70_000), Lookup::Miss);
    assert_eq!(departed(&mut c), vec![(hash(2), 1)], "dead when looked up");
    c.insert(key(4), V(3, 1), P, 60_000);
    assert_eq!(c.sweep(80_000, 16), 1);
    assert_eq!(departed(&mut c), vec![(hash(3), 2)], "swept");
    assert!(!c.insert(key(4), V(4, 1), Policy::from_secs(0, 0), 80_000));
    assert!(!c.remove(&key(9)), "nothing held: nothing departs");
    assert_eq!(departed(&mut c), vec![(hash(4), 3)], "dropped for a ttl-0 policy");
    assert_eq!(departed(&mut c), vec![], "drained");
}

#[test]
fn departures_are_recorded_only_when_asked_for_and_their_queue_stays_bounded() {
    let mut off = MemoryCache::new(Limits { max_entries: 1, max_bytes: usize::MAX });
    off.insert(key(1), V(1, 1), P, 0);
    off.insert(key(2), V(1, 1), P, 0);
    assert_eq!(departed(&mut off), vec![]);
    let mut on = MemoryCache::new(Limits { max_entries: 1, max_bytes: usize::MAX }).with_departures();
    let total = PENDING_MAX as u32 + 10;
    for n in 0..=total {
        on.insert(key(n), V(u64::from(n), 1), P, 0);
    }
    let gone = departed(&mut on);
    assert_eq!(gone.len(), PENDING_MAX);
    assert_eq!(gone.last(), Some(&(hash(total - 1), u64::from(total - 1))), "the newest kept");
}

#[test]
fn version_of_peeks_at_what_is_held_without_counting_as_use() {
    let mut c = MemoryCache::new(Limits { max_entries: 2, max_bytes: usize::MAX });
    c.insert(key(1), V(7, 1), P, 0);
    c.insert(key(2), V(8, 1), P, 0);
    assert_eq!((c.version_of(&key(1)), c.version_of(&key(3))), (Some(7), None));
    c.insert(key(3), V(9, 1), P, 0);
    assert_eq!(c.version_of(&key(1)), None, "the peek did not save it from eviction");
}
