//! The propagation rules through the tiered read path, with fake tiers and
//! a fake beacon; and the randomized test of the two invariants: no
//! isolate answers a version below one it already answered for a key, nor
//! (while the origin is up) below what a caller's `min_version` implies.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use futures::executor::block_on;
use proptest::prelude::*;
use serde_json::json;

use crate::core::envelope;
use crate::core::key::CacheKey;
use crate::core::lifecycle::{Millis, Policy};
use crate::core::memory::Limits;
use crate::core::ports::fake::{FakeBeacon, FakeOrigin, ManualClock, Mode, Rig};
use crate::core::ports::{Clock, DurableStore, NetworkCache, TierError};
use crate::core::propagation::view::FLOORS_MAX;
use crate::core::slot::Versioned;
use crate::core::source::Source;
use crate::core::tiered::{Read, ReadFailure, TieredCache};

const P: Policy = Policy::from_secs(10, 60);

/// Fake tiers plus a beacon.
type World = Rig<FakeBeacon>;

impl World {
    fn new() -> World {
        Rig::at(FakeBeacon::default(), 1_000_000)
    }

    fn read_at_least(&self, name: &str, min_version: Option<u64>) -> Result<Read, ReadFailure> {
        let key = CacheKey::option(name);
        block_on(self.cache.read_at_least(&key, P, min_version, &self.kv, &self.clock, || self.origin.get_option(name)))
    }

    fn read(&self, name: &str) -> Result<Read, ReadFailure> {
        self.read_at_least(name, None)
    }

    /// A write straight at the origin, which the beacon's poll then finds.
    fn write_at_origin(&self, name: &str, value: &str) -> u64 {
        let version = self.origin.store(name, json!(value));
        block_on(self.subject.poll(&self.origin)).expect("the origin answers its feed");
        version
    }

    fn check(&self) -> bool {
        self.clock.0.set(self.clock.now_ms() + 1_000);
        block_on(self.cache.check_beacon(&self.subject, &self.clock))
    }

    fn kv_version(&self, name: &str) -> Option<u64> {
        let text = self.kv.data.borrow().get(CacheKey::option(name).as_str()).cloned()?;
        envelope::decode(&text).ok().map(|e| e.version)
    }

    fn put_kv(&self, name: &str, entry: &Versioned) {
        self.kv.data.borrow_mut().insert(CacheKey::option(name).as_str().into(), envelope::encode(entry));
    }
}

fn version_and_source(read: Result<Read, ReadFailure>) -> (u64, Source) {
    let read = read.expect("an answer");
    (read.entry.version, read.source)
}

#[test]
fn a_memory_entry_below_its_minimum_version_stops_being_fresh_after_a_check() {
    let w = World::new();
    w.write_at_origin("a", "one");
    assert_eq!(version_and_source(w.read("a")), (1, Source::Origin));
    assert_eq!(version_and_source(w.read("a")), (1, Source::Local));
    w.write_at_origin("a", "two");
    assert_eq!(version_and_source(w.read("a")), (1, Source::Local), "before the check: the ttl rules");
    assert!(w.check());
    assert_eq!(version_and_source(w.read("a")), (2, Source::Origin), "well within the ttl");
}

#[test]
fn a_kv_copy_below_its_minimum_is_not_trusted_and_the_origin_answer_rewrites_kv() {
    let w = World::new();
    w.write_at_origin("a", "one");
    w.put_kv("a", &Versioned::present(json!("one"), 1));
    w.write_at_origin("a", "two");
    assert!(w.check());
    assert_eq!(version_and_source(w.read("a")), (2, Source::Origin));
    assert_eq!(w.kv_version("a"), Some(2), "KV rewritten");
}

#[test]
fn too_far_behind_makes_every_entry_stale_yet_servable_while_the_origin_is_down() {
    let w = World::new();
    w.write_at_origin("a", "one");
    w.read("a").expect("read");
    for n in 0..(crate::core::propagation::LOG_CAPACITY + 5) {
        w.subject.log.borrow_mut().record(10 + n as u64, &format!("opt:other{n}"));
    }
    w.subject.log.borrow_mut().polled_through(5_000);
    assert!(w.check());
    assert_eq!(w.cache.beacon_stats(w.clock.now_ms()).too_far_behind, 1);
    w.origin.mode.set(Mode::Down);
    w.kv.set_mode(Mode::Down);
    let read = w.read("a").expect("the stale copy");
    assert_eq!((read.entry.version, read.source), (1, Source::Stale));
}

#[test]
fn an_unreachable_beacon_leaves_the_time_based_lifecycle_as_it_was() {
    let w = World::new();
    w.write_at_origin("a", "one");
    w.read("a").expect("read");
    w.subject.mode.set(Mode::Down);
    assert!(!w.check());
    assert_eq!(version_and_source(w.read("a")), (1, Source::Local));
    assert_eq!(w.cache.beacon_stats(w.clock.now_ms()).check_failures, 1);
}

#[test]
fn a_read_with_min_version_passes_over_older_copies_and_gets_it_from_the_origin() {
    let w = World::new();
    w.write_at_origin("a", "one");
    w.read("a").expect("read");
    let v2 = w.origin.store("a", json!("two"));
    assert_eq!(version_and_source(w.read_at_least("a", Some(v2))), (2, Source::Origin));
    assert_eq!(version_and_source(w.read_at_least("a", Some(v2))), (2, Source::Local));
}

#[test]
fn a_read_with_min_version_is_met_by_a_copy_known_current_through_that_version() {
    let w = World::new();
    w.write_at_origin("a", "one");
    w.read("a").expect("read");
    let v = w.write_at_origin("b", "x");
    assert!(w.check(), "every change up to {v} applied, none to a");
    assert_eq!(version_and_source(w.read_at_least("a", Some(v))), (1, Source::Local));
}

#[test]
fn a_read_with_min_version_answers_the_best_held_marked_degraded_when_the_origin_is_down() {
    let w = World::new();
    w.write_at_origin("a", "one");
    w.read("a").expect("read");
    w.origin.mode.set(Mode::Down);
    let read = w.read_at_least("a", Some(9)).expect("the best held");
    assert_eq!((read.entry.version, read.source, read.degraded), (1, Source::Stale, true));
}

#[test]
fn a_fill_never_replaces_a_newer_kv_copy() {
    let w = World::new();
    // The origin answers 1 (a replica behind), KV already holds 5.
    w.origin.options.borrow_mut().insert("a".into(), Versioned::present(json!("old"), 1));
    w.put_kv("a", &Versioned::present(json!("new"), 5));
    let read = w.read_at_least("a", Some(6)).expect("the origin's answer");
    assert_eq!(read.source, Source::Origin);
    assert_eq!(w.kv_version("a"), Some(5), "KV's newer copy stays");
}

#[test]
fn a_write_raises_its_minimum_here_and_is_told_to_the_beacon() {
    let w = World::new();
    let key = CacheKey::option("a");
    let written = Versioned::present(json!("v"), 7);
    block_on(w.cache.after_write(&key, written, P, &w.kv, &w.clock));
    assert_eq!(w.cache.take_announcements(), vec![(7, "opt:a".to_string())]);
    block_on(w.cache.after_write(&key, Versioned::present(json!("w"), 8), P, &w.kv, &w.clock));
    assert!(block_on(w.cache.announce(&w.subject)));
    assert_eq!(w.subject.log.borrow().changes_after(0).changes.len(), 1);
    assert!(w.cache.take_announcements().is_empty());
}

#[test]
fn no_check_starts_within_the_interval_or_while_one_is_in_flight() {
    let w = World::new();
    let cache = TieredCache::new(Limits::default(), 300).with_beacon_check_ms(500);
    assert!(block_on(cache.check_beacon(&w.subject, &w.clock)));
    assert!(!block_on(cache.check_beacon(&w.subject, &w.clock)), "within 500 ms");
    w.clock.0.set(w.clock.now_ms() + 500);
    assert!(block_on(cache.check_beacon(&w.subject, &w.clock)));
    assert_eq!(w.subject.asks.get(), 2, "the beacon was asked twice, not three times");
}

#[test]
fn a_beacon_minimum_makes_the_memory_entry_stale_so_it_is_no_longer_handed_out_as_fresh() {
    let w = World::new();
    w.write_at_origin("a", "one");
    w.read("a").expect("read");
    let key = CacheKey::option("a");
    assert!(w.cache.fresh_until(&key, w.clock.now_ms()).is_some());
    w.write_at_origin("a", "two");
    assert!(w.check());
    assert_eq!(w.cache.fresh_until(&key, w.clock.now_ms()), None, "made stale by the check");
}

#[test]
fn reading_twice_as_many_distinct_keys_as_floors_max_never_makes_everything_stale_nor_forgets_minimums() {
    let w = World::new();
    w.write_at_origin("changed", "one");
    w.put_kv("changed", &Versioned::present(json!("one"), 1));
    let v2 = w.write_at_origin("changed", "two");
    assert!(w.check(), "the minimum of `changed` is now {v2}");
    w.write_at_origin("hot", "h");
    assert_eq!(version_and_source(w.read("hot")).1, Source::Origin);
    for n in 0..(2 * FLOORS_MAX) {
        w.read(&format!("churn{n}")).expect("an absent option is an answer");
        if n % 1_000 == 0 {
            assert_eq!(version_and_source(w.read("hot")).1, Source::Local, "still fresh after {n} reads");
        }
    }
    assert_eq!(version_and_source(w.read("hot")).1, Source::Local, "never made stale by reads");
    assert_eq!(
        version_and_source(w.read("changed")),
        (v2, Source::Origin),
        "KV's copy below the minimum is not trusted"
    );
}

#[test]
fn a_minimum_the_origin_never_reaches_as_a_hash_collision_would_give_still_leaves_the_key_answerable() {
    let w = World::new();
    let v1 = w.write_at_origin("a", "one");
    // A minimum far above anything the origin holds for `a` (what another
    // key's change colliding with `a`'s hash would record).
    w.subject.log.borrow_mut().record(1_000, "opt:a");
    assert!(w.check());
    assert_eq!(version_and_source(w.read("a")), (v1, Source::Origin), "the origin's answer is taken");
    assert_eq!(version_and_source(w.read("a")), (v1, Source::Origin), "uncached, but answered");
    w.origin.mode.set(Mode::Down);
    let read = w.read("a").expect("the copy held");
    assert_eq!((read.entry.version, read.source, read.degraded), (v1, Source::Stale, true));
}

/// A world whose isolate memory holds at most `entries` entries.
fn small_world(entries: usize) -> World {
    let mut w = World::new();
    w.tiers.cache = TieredCache::new(Limits { max_entries: entries, ..Limits::default() }, 300);
    w
}

#[test]
fn an_evicted_key_is_never_answered_below_the_version_it_was_answered_at_from_a_lagging_kv_copy() {
    let w = small_world(2);
    w.write_at_origin("a", "one");
    let old = Versioned::present(json!("one"), 1);
    let v2 = w.write_at_origin("a", "two");
    assert_eq!(version_and_source(w.read("a")), (v2, Source::Origin));
    // KV's edge cache still answers the older copy, and `a` leaves memory.
    w.put_kv("a", &old);
    w.read("b").expect("read");
    w.read("c").expect("read");
    assert_eq!(w.cache.stats(w.clock.now_ms()).entries, 2);
    assert_eq!(version_and_source(w.read("a")), (v2, Source::Origin), "not KV's older copy");
    w.read("b").expect("read");
    w.read("c").expect("read");
    w.origin.mode.set(Mode::Down);
    w.put_kv("a", &old);
    assert!(w.read("a").is_err(), "with the origin down, no answer rather than one below what was answered");
}

#[test]
fn a_ttl_zero_key_is_never_answered_below_the_version_it_was_answered_at() {
    let w = World::new();
    let uncached = Policy::from_secs(0, 0);
    let key = CacheKey::option("a");
    let read = |w: &World| {
        block_on(w.cache.read(&key, uncached, &w.kv, &w.clock, || w.origin.get_option("a"))).map(|r| r.entry.version)
    };
    w.write_at_origin("a", "one");
    let v2 = w.write_at_origin("a", "two");
    assert_eq!(read(&w), Ok(v2));
    assert_eq!(w.cache.stats(w.clock.now_ms()).entries, 0, "memory holds nothing");
    w.put_kv("a", &Versioned::present(json!("one"), 1));
    w.origin.mode.set(Mode::Down);
    assert!(read(&w).is_err(), "KV's older copy is refused");
}

// ---- the randomized test ------------------------------------------------

/// KV shared by the isolates: writes wait in a queue until delivered (in any
/// order) or lost; each isolate's handle keeps what it read until told to
/// forget it (KV's per-location cache).
#[derive(Default)]
struct LaggyKv {
    stored: RefCell<HashMap<String, String>>,
    pending: RefCell<Vec<(String, String)>>,
}

struct KvHandle<'a> {
    shared: &'a LaggyKv,
    seen: RefCell<HashMap<String, String>>,
    down: Cell<bool>,
}

impl NetworkCache for KvHandle<'_> {
    async fn get(&self, key: &str) -> Result<Option<String>, TierError> {
        if self.down.get() {
            return Err(TierError::Unreachable("kv down".into()));
        }
        if let Some(held) = self.seen.borrow().get(key) {
            return Ok(Some(held.clone()));
        }
        let found = self.shared.stored.borrow().get(key).cloned();
        if let Some(text) = &found {
            self.seen.borrow_mut().insert(key.to_string(), text.clone());
        }
        Ok(found)
    }

    async fn put(&self, key: &str, value: String, _ttl: u64) -> Result<(), TierError> {
        self.shared.pending.borrow_mut().push((key.to_string(), value));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), TierError> {
        self.shared.stored.borrow_mut().remove(key);
        Ok(())
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// A write through isolate `i` of key `k`.
    EdgeWrite(usize, usize),
    /// A write straight at the origin.
    OriginWrite(usize),
    /// A read through isolate `i` of key `k`, with the version of the n-th
    /// write so far as `min_version` (a caller who saw it), or none.
    Read(usize, usize, Option<usize>),
    Check(usize),
    Announce(usize),
    Poll,
    BeaconUp(bool),
    OriginUp(bool),
    KvUp(usize, bool),
    Deliver(usize),
    Lose(usize),
    ForgetKvCache(usize),
    AdvanceMs(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..2usize, 0..3usize).prop_map(|(i, k)| Op::EdgeWrite(i, k)),
        2 => (0..3usize).prop_map(Op::OriginWrite),
        8 => (0..2usize, 0..3usize, prop::option::of(0..40usize)).prop_map(|(i, k, m)| Op::Read(i, k, m)),
        2 => (0..2usize).prop_map(Op::Check),
        1 => (0..2usize).prop_map(Op::Announce),
        1 => Just(Op::Poll),
        1 => any::<bool>().prop_map(Op::BeaconUp),
        1 => prop::bool::weighted(0.7).prop_map(Op::OriginUp),
        1 => (0..2usize, prop::bool::weighted(0.8)).prop_map(|(i, up)| Op::KvUp(i, up)),
        2 => (0..8usize).prop_map(Op::Deliver),
        1 => (0..8usize).prop_map(Op::Lose),
        1 => (0..2usize).prop_map(Op::ForgetKvCache),
        2 => prop_oneof![Just(100u64), Just(600), Just(5_000), Just(20_000), Just(80_000)].prop_map(Op::AdvanceMs),
    ]
}

/// The longest an isolate holds off asking the origin after failures.
const BACKOFF_MAX_MS: Millis = crate::core::throttle::ThrottleConfig::DEFAULT_BACKOFF_MAX_MS;

const NAMES: [&str; 3] = ["k0", "k1", "k2"];

/// The latest version of `name` at or below `version` in the origin's history.
fn latest_at(history: &[(u64, usize)], k: usize, version: u64) -> u64 {
    history.iter().filter(|(v, key)| *key == k && *v <= version).map(|(v, _)| *v).max().unwrap_or(0)
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let origin = FakeOrigin::default();
    let beacon = FakeBeacon::default();
    let clock = ManualClock::at(1_000_000);
    let shared = LaggyKv::default();
    let policy = Policy::from_secs(10, 60);
    // Isolate 1 holds one entry: its keys keep leaving memory (departures).
    let isolates: Vec<(TieredCache, KvHandle)> = [Limits::default(), Limits { max_entries: 1, ..Limits::default() }]
        .into_iter()
        .map(|limits| {
            let cache = TieredCache::new(limits, 300).with_beacon_check_ms(500);
            (cache, KvHandle { shared: &shared, seen: RefCell::new(HashMap::new()), down: Cell::new(false) })
        })
        .collect();
    let mut history: Vec<(u64, usize)> = Vec::new();
    let mut answered: HashMap<(usize, usize), u64> = HashMap::new();
    let mut origin_up = true;
    // When the origin came back: within the longest backoff after that, an
    // isolate may still hold off asking it (`throttle`), and answers the
    // best copy it holds, marked degraded.
    let mut up_since: Millis = 0;
    for op in ops {
        match op.clone() {
            Op::EdgeWrite(i, k) => {
                let (cache, kv) = &isolates[i];
                let key = CacheKey::option(NAMES[k]);
                if let Ok(stored) = block_on(origin.put_option(NAMES[k], &json!(history.len()))) {
                    history.push((stored.version, k));
                    block_on(cache.after_write(&key, stored, policy, kv, &clock));
                }
            }
            Op::OriginWrite(k) => {
                if origin_up {
                    history.push((origin.store(NAMES[k], json!(history.len())), k));
                }
            }
            Op::Read(i, k, min) => {
                let (cache, kv) = &isolates[i];
                let key = CacheKey::option(NAMES[k]);
                let min_version = min.and_then(|n| history.get(n)).map(|(v, _)| *v);
                let read = block_on(
                    cache.read_at_least(&key, policy, min_version, kv, &clock, || origin.get_option(NAMES[k])),
                );
                if let Ok(read) = read {
                    let version = read.entry.version;
                    let before = answered.entry((i, k)).or_insert(0);
                    prop_assert!(version >= *before, "isolate {i} answered {k} at {version} after {before}");
                    *before = version;
                    if let Some(wanted) = min_version {
                        let due = latest_at(&history, k, wanted);
                        let reachable = origin_up && clock.now_ms().saturating_sub(up_since) > BACKOFF_MAX_MS;
                        if reachable {
                            prop_assert!(version >= due, "min_version {wanted}: {version} < {due} with the origin up");
                        }
                        if version < due {
                            prop_assert!(read.degraded, "an answer below min_version must say degraded");
                        }
                    }
                }
            }
            Op::Check(i) => {
                block_on(isolates[i].0.check_beacon(&beacon, &clock));
            }
            Op::Announce(i) => {
                block_on(isolates[i].0.announce(&beacon));
            }
            Op::Poll => {
                if origin_up {
                    block_on(beacon.poll(&origin)).map_err(|e| TestCaseError::fail(e.to_string()))?;
                }
            }
            Op::BeaconUp(up) => beacon.mode.set(if up { Mode::Healthy } else { Mode::Down }),
            Op::OriginUp(up) => {
                if up && !origin_up {
                    up_since = clock.now_ms();
                }
                origin_up = up;
                origin.mode.set(if up { Mode::Healthy } else { Mode::Down });
            }
            Op::KvUp(i, up) => isolates[i].1.down.set(!up),
            Op::Deliver(n) => {
                let mut pending = shared.pending.borrow_mut();
                if !pending.is_empty() {
                    let at = n % pending.len();
                    let (key, value) = pending.remove(at);
                    shared.stored.borrow_mut().insert(key, value);
                }
            }
            Op::Lose(n) => {
                let mut pending = shared.pending.borrow_mut();
                if !pending.is_empty() {
                    let at = n % pending.len();
                    pending.remove(at);
                }
            }
            Op::ForgetKvCache(i) => isolates[i].1.seen.borrow_mut().clear(),
            Op::AdvanceMs(ms) => clock.0.set(clock.now_ms() + ms as Millis),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_isolate_answers_below_what_it_answered_or_below_min_version_while_the_origin_is_up(
        ops in prop::collection::vec(op(), 1..120)
    ) {
        run(&ops)?;
    }
}
