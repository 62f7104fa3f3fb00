//! The sync job against fakes that fail on command: the budget holds, runs
//! resume from the cursor, nothing is lost or written twice, KV never moves
//! backwards, and every failure leaves the cursor where the work stopped.

use futures::executor::block_on;
use serde_json::json;

use super::*;
use crate::core::config::ConfigValues;
use crate::core::ports::fake::{Mode, Rig};
use crate::core::registry::Registry;
use crate::core::scope::Scope;
use crate::core::slot::Versioned;

const REGISTRY: &str = r#"{
  "defaults": {"ttl": 10, "grace": 60},
  "options": [
    {"name": "known", "type": "string", "default": ""},
    {"name": "nostore", "type": "string", "default": "", "flags": ["nostore"]}
  ]
}"#;

/// What a run reads besides the tiers: the registered options and the
/// lifecycles of the other kinds.
struct Inputs {
    options: Options,
    kinds: KindPolicies,
}

type World = Rig<Inputs>;

/// Every KV operation the fake saw, bulk reads included.
fn kv_ops_seen(w: &World) -> u32 {
    w.kv.gets.get() + w.kv.puts.get() + w.kv.deletes.get() + w.kv.bulk_gets.get()
}

impl World {
    /// Names under `t.` are stored (a legacy prefix); `known` is registered.
    fn new() -> World {
        let registry = Registry::from_json(REGISTRY).expect("test registry").with_legacy_prefixes(vec!["t.".into()]);
        let (config, _) = ConfigValues::parse("", &registry);
        let kinds = KindPolicies { maps: Policy::DEFAULT, ownership: Policy::DEFAULT };
        Rig::at(Inputs { options: Options::new(registry, config), kinds }, 1_000_000)
    }

    fn limits(kv: u32, origin: u32) -> SyncLimits {
        SyncLimits { max_kv_ops: kv, max_origin_calls: origin }
    }

    /// One run; checks that the report counts exactly the KV operations
    /// and origin calls the fakes saw, and that both fit the limits.
    fn run(&self, limits: SyncLimits) -> Result<SyncReport, Error> {
        let (ops, calls) = (kv_ops_seen(self), self.origin.feed_calls.get());
        let report = block_on(sync(&self.subject.options, &self.subject.kinds, &self.cache, &self.io(), limits));
        let (ops, calls) = (kv_ops_seen(self) - ops, self.origin.feed_calls.get() - calls);
        assert!(ops <= limits.max_kv_ops, "{ops} KV operations made, {} allowed", limits.max_kv_ops);
        assert!(calls <= limits.max_origin_calls, "{calls} origin calls made, {} allowed", limits.max_origin_calls);
        if let Ok(report) = &report {
            assert_eq!((report.kv_ops, report.origin_calls), (ops, calls), "the report counts what was made");
            assert_eq!(report.synced, report.options + report.maps + report.ownership);
        }
        report
    }

    /// Runs until a run says nothing is left; answers every report.
    fn run_to_the_end(&self, limits: SyncLimits) -> Vec<SyncReport> {
        let mut reports = Vec::new();
        loop {
            let report = self.run(limits).expect("a run");
            let more = report.more;
            reports.push(report);
            if !more {
                return reports;
            }
            assert!(reports.len() < 100, "the sync never ends: {reports:?}");
        }
    }

    /// What KV holds for `key`, decoded, without the time the sync wrote
    /// it (so it compares equal to the origin's entry).
    fn in_kv(&self, key: &CacheKey) -> Option<Versioned> {
        let held = self.kv.data.borrow().get(key.as_str()).and_then(|t| envelope::decode(t).ok());
        held.map(|entry| Versioned { since: 0, ..entry })
    }

    fn saved_cursor(&self) -> Option<String> {
        self.kv.data.borrow().get(CacheKey::sync_cursor().as_str()).cloned()
    }

    /// `n` options written straight to the origin: `t.0` … (versions in order).
    fn options_at_origin(&self, n: usize) -> Vec<u64> {
        (0..n).map(|i| self.origin.store(&format!("t.{i}"), json!(i))).collect()
    }

    /// Maps, ownership records and deletions written straight to the origin.
    fn every_kind_at_origin(&self) {
        for i in 1..=5u64 {
            block_on(self.origin.put_map_key(&Scope::Project(i), "k", &json!(i))).expect("map write");
            block_on(self.origin.put_ownership(i, &ownership(i))).expect("ownership write");
            self.origin.store(&format!("t.kind{i}"), json!(i));
        }
        block_on(self.origin.delete_option("t.kind1")).expect("option delete");
        block_on(self.origin.delete_ownership(2)).expect("ownership delete");
        block_on(self.origin.put_map_key(&Scope::UserInOrganization(3, 4), "k", &json!("u"))).expect("map write");
    }

    /// Every thing the origin holds, with the key sync writes it under.
    fn origin_things(&self) -> Vec<(CacheKey, Versioned)> {
        let mut things: Vec<(CacheKey, Versioned)> =
            self.origin.options.borrow().iter().map(|(n, v)| (CacheKey::option(n), v.clone())).collect();
        things.extend(self.origin.maps.borrow().iter().map(|(s, v)| (CacheKey::map(s), v.clone())));
        things.extend(self.origin.ownership.borrow().iter().map(|(p, v)| (CacheKey::ownership(*p), v.clone())));
        things
    }
}

fn ownership(project: u64) -> serde_json::Value {
    json!({"raw": format!("path:{project}/* #t"), "fallthrough": true, "auto_assignment": false, "is_active": true, "updated_at": 1})
}

#[test]
fn a_run_never_makes_more_kv_operations_or_origin_calls_than_its_limits() {
    let w = World::new();
    w.options_at_origin(50);
    let reports = w.run_to_the_end(World::limits(12, 10)); // `run` checks the limits on each
    assert!(reports.len() >= 5, "50 changes cannot fit in fewer runs of 12 operations: {}", reports.len());
    assert!(reports[..reports.len() - 1].iter().all(|r| r.more), "more until the last run");
    assert_eq!(reports.iter().map(|r| r.synced).sum::<usize>(), 50);
}

#[test]
fn without_bulk_reads_each_key_is_read_alone_and_still_within_the_budget() {
    let w = World::new();
    w.kv.no_bulk.set(true);
    w.options_at_origin(30);
    let reports = w.run_to_the_end(World::limits(12, 3));
    assert_eq!(reports.iter().map(|r| r.synced).sum::<usize>(), 30);
    assert!(w.kv.gets.get() >= 30, "one read per key without bulk reads");
    for (name, entry) in w.origin.options.borrow().iter() {
        assert_eq!(w.in_kv(&CacheKey::option(name)).as_ref(), Some(entry));
    }
}

#[test]
fn runs_resume_from_the_cursor_and_write_every_change_of_every_kind_once() {
    let w = World::new();
    w.every_kind_at_origin();
    w.options_at_origin(20);
    let things = w.origin_things();
    let reports = w.run_to_the_end(World::limits(9, 2));
    assert!(reports.len() > 3, "{reports:?}");
    for window in reports.windows(2) {
        assert!(window[1].cursor >= window[0].cursor, "the cursor never goes back");
    }
    assert_eq!(reports.last().map(|r| r.cursor), Some(w.origin.version.get()));
    for (key, entry) in &things {
        assert_eq!(w.in_kv(key).as_ref(), Some(entry), "{}", key.as_str());
    }
    let synced: usize = reports.iter().map(|r| r.synced).sum();
    assert_eq!(synced, things.len(), "each change written once");
    let cursor_saves = reports.len();
    let puts = w.kv.put_log.borrow();
    let per_key = puts.iter().filter(|k| !k.starts_with("sync:")).count();
    assert_eq!(per_key, things.len(), "no write twice");
    assert_eq!(puts.iter().filter(|k| *k == CacheKey::sync_cursor().as_str()).count(), cursor_saves);
    let sum = |f: fn(&SyncReport) -> usize| reports.iter().map(f).sum::<usize>();
    assert_eq!((sum(|r| r.options), sum(|r| r.maps), sum(|r| r.ownership)), (25, 6, 5));
    assert_eq!(w.in_kv(&CacheKey::option("t.kind1")).map(|e| e.value().is_none()), Some(true), "a delete");
}

#[test]
fn a_second_full_pass_writes_nothing_new() {
    let w = World::new();
    w.every_kind_at_origin();
    w.options_at_origin(10);
    w.run_to_the_end(SyncLimits::default());
    let puts = w.kv.puts.get();
    let again = w.run(SyncLimits::default()).expect("a run");
    assert_eq!((again.synced, again.skipped, again.more, again.origin_calls), (0, 0, false, 1));
    assert_eq!(again.kv_ops, 4, "only the cursor and the snapshot read, and the snapshot's head rewritten");
    assert_eq!(w.kv.puts.get(), puts + 1, "the head only: no entry of the snapshot changed");

    w.kv.data.borrow_mut().remove(CacheKey::sync_cursor().as_str());
    let from_zero = w.run(SyncLimits::default()).expect("a run");
    assert_eq!(from_zero.synced, 0, "{from_zero:?}");
    assert_eq!(from_zero.skipped, w.origin_things().len(), "everything already in KV at its version");
    assert_eq!(w.kv.puts.get(), puts + 3, "only the snapshot's head (each run) and the cursor were written");
}

#[test]
fn kv_holding_the_same_or_a_newer_version_is_never_overwritten() {
    let w = World::new();
    let versions = w.options_at_origin(3);
    let newer = Versioned::present(json!("newer, written since"), versions[0] + 10);
    let same = Versioned::present(json!(1), versions[1]);
    let older = Versioned::present(json!("old"), versions[2] - 1);
    for (i, entry) in [&newer, &same, &older].into_iter().enumerate() {
        w.kv.data.borrow_mut().insert(CacheKey::option(&format!("t.{i}")).as_str().into(), envelope::encode(entry));
    }
    let report = w.run(SyncLimits::default()).expect("a run");
    assert_eq!((report.synced, report.skipped), (1, 2));
    assert_eq!(w.in_kv(&CacheKey::option("t.0")), Some(newer));
    assert_eq!(w.in_kv(&CacheKey::option("t.1")), Some(same));
    assert_eq!(w.in_kv(&CacheKey::option("t.2")).map(|e| e.version), Some(versions[2]));
}

#[test]
fn a_garbage_cursor_starts_again_from_zero_and_says_so() {
    let w = World::new();
    w.options_at_origin(3);
    w.kv.data.borrow_mut().insert(CacheKey::sync_cursor().as_str().into(), "\u{1}garbage".into());
    let report = w.run(SyncLimits::default()).expect("a run");
    assert_eq!((report.synced, report.cursor, report.more), (3, 3, false));
    assert!(report.problems.iter().any(|p| p.contains("cursor") && p.contains("unreadable")), "{:?}", report.problems);
    assert_eq!(w.saved_cursor().as_deref(), Some(r#"{"v":1,"after":3}"#), "the cursor is repaired");
}

#[test]
fn an_origin_failure_mid_way_keeps_the_cursor_at_the_last_page_completed() {
    let w = World::new();
    let versions = w.options_at_origin(150); // two pages of at most 100
    w.origin.feed_pages_left.set(Some(1));
    let cut = w.run(SyncLimits::default()).expect("the first page was done");
    assert_eq!((cut.synced, cut.more, cut.origin_calls), (100, true, 2));
    assert_eq!(cut.cursor, versions[99]);
    assert!(cut.problems.iter().any(|p| p.contains("origin")), "{:?}", cut.problems);
    assert!(!cut.problems.iter().any(|p| p.contains("refused")), "no runtime text: {:?}", cut.problems);

    w.origin.feed_pages_left.set(None);
    let rest = w.run(SyncLimits::default()).expect("a run");
    assert_eq!((rest.synced, rest.skipped, rest.more, rest.cursor), (50, 0, false, versions[149]));
}

#[test]
fn an_origin_down_from_the_start_is_an_error_and_moves_nothing() {
    let w = World::new();
    w.options_at_origin(3);
    w.origin.mode.set(Mode::Down);
    assert_eq!(w.run(SyncLimits::default()).expect_err("down").code(), "unavailable");
    w.origin.mode.set(Mode::Hanging);
    assert_eq!(w.run(SyncLimits::default()).expect_err("hanging").code(), "origin_timeout");
    w.origin.mode.set(Mode::Garbage);
    assert_eq!(w.run(SyncLimits::default()).expect_err("garbage").code(), "origin_error");
    assert_eq!((w.kv.puts.get(), w.saved_cursor()), (0, None));
}

#[test]
fn kv_that_cannot_read_the_cursor_stops_the_run_before_any_write() {
    let w = World::new();
    w.options_at_origin(3);
    w.kv.read_mode.set(Mode::Down);
    assert_eq!(w.run(SyncLimits::default()).expect_err("KV down").code(), "unavailable");
    assert_eq!((w.kv.puts.get(), w.origin.feed_calls.get()), (0, 0));
}

#[test]
fn a_refused_write_holds_the_cursor_before_it_and_is_written_next_run() {
    let w = World::new();
    let versions = w.options_at_origin(10);
    w.kv.refused.borrow_mut().insert(CacheKey::option("t.3").as_str().to_string());
    let first = w.run(SyncLimits::default()).expect("a run");
    assert_eq!((first.synced, first.failed, first.more), (9, 1, true));
    assert_eq!(first.cursor, versions[2], "the cursor stops before the refused write");

    w.kv.refused.borrow_mut().clear();
    let second = w.run(SyncLimits::default()).expect("a run");
    assert_eq!((second.synced, second.skipped, second.failed, second.more), (1, 6, 0, false));
    assert_eq!(second.cursor, versions[9]);
    assert_eq!(w.in_kv(&CacheKey::option("t.3")).map(|e| e.version), Some(versions[3]));
}

#[test]
fn a_cursor_kv_will_not_take_is_reported_and_the_work_repeated_next_run() {
    let w = World::new();
    w.options_at_origin(4);
    w.kv.refused.borrow_mut().insert(CacheKey::sync_cursor().as_str().to_string());
    let first = w.run(SyncLimits::default()).expect("a run");
    assert_eq!((first.synced, first.cursor, first.more), (4, 0, true));
    assert!(first.problems.iter().any(|p| p.contains("could not be saved")), "{:?}", first.problems);
    w.kv.refused.borrow_mut().clear();
    let second = w.run(SyncLimits::default()).expect("a run");
    assert_eq!((second.synced, second.skipped, second.cursor, second.more), (0, 4, 4, false));
}

#[test]
fn unknown_and_nostore_options_and_unreadable_rows_are_passed_over() {
    let w = World::new();
    w.origin.store("unknown.name", json!(1));
    w.origin.store("nostore", json!("x"));
    w.origin.corrupt_row();
    let known = w.origin.store("known", json!("k"));
    let report = w.run(SyncLimits::default()).expect("a run");
    assert_eq!((report.synced, report.skipped, report.unreadable), (1, 2, 1));
    assert_eq!((report.cursor, report.more), (known, false));
    assert!(w.in_kv(&CacheKey::option("unknown.name")).is_none());
    assert!(w.in_kv(&CacheKey::option("nostore")).is_none());
    assert_eq!(w.kv.bulk_gets.get(), 1, "one bulk read for the page's stored keys");
}

#[test]
fn kv_failing_to_read_a_page_stops_the_run_where_it_was() {
    let w = World::new();
    w.options_at_origin(3);
    let failing_bulk = FailingBulk(&w.kv);
    let io = crate::core::ports::Io { kv: &failing_bulk, origin: &w.origin, clock: &w.clock };
    let report =
        block_on(sync(&w.subject.options, &w.subject.kinds, &w.cache, &io, SyncLimits::default())).expect("a run");
    assert_eq!((report.synced, report.cursor, report.more), (0, 0, true));
    let written: Vec<String> = w.kv.data.borrow().keys().filter(|k| k.starts_with("opt")).cloned().collect();
    assert!(written.is_empty(), "no change was written: {written:?}");
    assert!(report.problems.iter().any(|p| p.contains("KV could not be read")), "{:?}", report.problems);
}

/// A KV whose single reads answer and whose bulk reads fail.
struct FailingBulk<'a>(&'a crate::core::ports::fake::FakeKv);

impl crate::core::ports::NetworkCache for FailingBulk<'_> {
    async fn get(&self, key: &str) -> Result<Option<String>, TierError> {
        self.0.get(key).await
    }

    async fn put(&self, key: &str, value: String, ttl: u64) -> Result<(), TierError> {
        self.0.put(key, value, ttl).await
    }

    async fn delete(&self, key: &str) -> Result<(), TierError> {
        self.0.delete(key).await
    }

    async fn get_bulk(&self, _keys: &[String]) -> Result<Option<Vec<Option<String>>>, TierError> {
        Err(TierError::Unreachable("KV: bulk read failed".into()))
    }
}
