//! Failure handling of the tiered read path, with simulated time: every
//! `sleep` moves the manual clock and yields, slow tiers stay pending for a
//! number of polls, and concurrent requests are futures joined on one
//! thread, as requests share one isolate.

use futures::executor::block_on;
use futures::future::join_all;
use serde_json::json;

use super::*;
use crate::core::coalesce::Role;
use crate::core::envelope;
use crate::core::kv_writes::REMEMBERED;
use crate::core::ports::fake::{stall, Mode, Rig};
use crate::core::ports::{Clock, DurableStore, TierError};
use crate::core::source::Source;

const P: Policy = Policy::from_secs(10, 60);

/// The cache under test is the tiers' own (`w.cache`).
type World = Rig<()>;

impl World {
    fn new() -> World {
        Rig::at((), 1_000_000)
    }

    async fn read_with(&self, name: &str, policy: Policy) -> Result<Read, ReadFailure> {
        let key = CacheKey::option(name);
        self.cache.read(&key, policy, &self.kv, &self.clock, || self.origin.get_option(name)).await
    }

    fn read(&self, name: &str) -> Result<Read, ReadFailure> {
        block_on(self.read_with(name, P))
    }

    /// Stores a value at the origin and reads it once, so memory and KV hold it.
    fn cached(&self, name: &str) {
        self.origin.store(name, json!("v1"));
        assert_eq!(self.read(name).map(|r| r.source), Ok(Source::Origin));
    }
}

#[test]
fn concurrent_cold_misses_cost_one_kv_read_and_one_origin_call() {
    let w = World::new();
    w.origin.store("k", json!("v"));
    w.origin.stall.set(20);
    let reads = block_on(join_all((0..50).map(|_| w.read_with("k", P))));
    assert!(reads.iter().all(|r| r.as_ref().is_ok_and(|r| r.entry.value() == Some(&json!("v")))));
    assert_eq!(w.origin.calls.get(), 1, "one origin call");
    assert_eq!(w.kv.gets.get(), 1, "one KV read");
    let stats = w.cache.stats(w.clock.now_ms());
    assert_eq!(stats.coalesced, 49);
    assert_eq!(stats.in_flight, 0, "the lead was finished");
}

#[test]
fn waiters_fetch_for_themselves_when_the_leader_fails_but_the_backoff_spares_the_origin() {
    let w = World::new();
    w.origin.mode.set(Mode::Down);
    w.origin.stall.set(5);
    let reads = block_on(join_all((0..10).map(|_| w.read_with("k", P))));
    assert!(reads.iter().all(Result::is_err), "nothing to serve");
    assert_eq!(w.origin.calls.get(), 1, "after the leader's failure the key backs off");
    assert!(w.cache.stats(w.clock.now_ms()).throttled >= 9);
}

#[test]
fn a_lead_that_is_never_finished_expires_and_a_waiter_takes_over() {
    let w = World::new();
    let key = CacheKey::option("k");
    let Role::Leader(lost) = w.cache.inflight.join(&key, w.clock.now_ms(), 1_000) else { panic!("lead") };
    std::mem::forget(lost); // the leading request went away without a word
    w.origin.store("k", json!("v"));
    let read = w.read("k").expect("read");
    assert_eq!(read.source, Source::Origin, "the waiter fetched for itself after the lease");
    assert!(w.clock.now_ms() >= 1_001_000, "it waited for the lease to run out, on its own timer");
}

#[test]
fn stale_answer_within_the_soft_timeout_when_the_origin_is_slow() {
    let w = World::new();
    w.cached("k");
    w.kv.data.borrow_mut().clear();
    w.clock.advance_secs(11);
    w.origin.stall.set(1_000);
    let before = w.clock.now_ms();
    let read = w.read("k").expect("stale");
    assert_eq!((read.source, read.refresh), (Source::Stale, true));
    assert!(w.clock.now_ms() - before <= Timeouts::default().soft_ms + 1, "answered at the soft timeout");
    assert_eq!(w.cache.stats(w.clock.now_ms()).soft_timeouts, 1);
}

#[test]
fn no_soft_timeout_without_a_stale_value() {
    let w = World::new();
    w.origin.store("k", json!("v"));
    w.origin.stall.set(300);
    let read = w.read("k").expect("waited for the origin");
    assert_eq!(read.source, Source::Origin);
}

#[test]
fn stale_while_revalidate_answers_at_once_and_the_refresh_updates_memory() {
    let w = World::new();
    let swr = P.with_stale_while_revalidate(true);
    w.origin.store("k", json!("v1"));
    block_on(w.read_with("k", swr)).expect("first read");
    w.origin.store("k", json!("v2"));
    w.clock.advance_secs(11);
    let calls = w.origin.calls.get();
    let read = block_on(w.read_with("k", swr)).expect("stale");
    assert_eq!((read.source, read.refresh, read.entry.value()), (Source::Stale, true, Some(&json!("v1"))));
    assert_eq!(w.origin.calls.get(), calls, "no origin call on the answering path");
    let key = CacheKey::option("k");
    assert!(block_on(w.cache.revalidate(&key, swr, &w.kv, &w.clock, || w.origin.get_option("k"))));
    let fresh = block_on(w.read_with("k", swr)).expect("fresh");
    assert_eq!((fresh.source, fresh.entry.value()), (Source::Local, Some(&json!("v2"))));
}

#[test]
fn origin_down_is_asked_at_most_once_per_key_per_backoff_window() {
    let w = World::new();
    w.cached("k");
    w.kv.set_mode(Mode::Down);
    w.origin.mode.set(Mode::Down);
    w.clock.advance_secs(11);
    let calls = w.origin.calls.get();
    for _ in 0..20 {
        assert_eq!(w.read("k").map(|r| r.source), Ok(Source::Stale));
        w.clock.0.set(w.clock.now_ms() + 40); // 20 reads within 0.8 s
    }
    assert_eq!(w.origin.calls.get() - calls, 1, "one call in the first 1 s window");
    w.clock.advance_secs(1);
    w.read("k").expect("stale");
    assert_eq!(w.origin.calls.get() - calls, 2, "one more after the backoff");
}

#[test]
fn breaker_opens_after_failures_across_keys_and_a_probe_closes_it() {
    let w = World::new();
    w.origin.mode.set(Mode::Erroring);
    for n in 0..5 {
        assert!(w.read(&format!("k{n}")).is_err());
    }
    assert!(w.cache.stats(w.clock.now_ms()).breaker_open);
    let calls = w.origin.calls.get();
    assert!(w.read("fresh-key").is_err());
    assert_eq!(w.origin.calls.get(), calls, "the open breaker spared the origin");
    w.origin.mode.set(Mode::Healthy);
    w.clock.advance_secs(6);
    assert_eq!(w.read("fresh-key").map(|r| r.source), Ok(Source::Origin), "the probe went through");
    assert!(!w.cache.stats(w.clock.now_ms()).breaker_open);
}

#[test]
fn origin_refusals_open_no_breaker_and_back_no_key_off() {
    let w = World::new();
    w.origin.mode.set(Mode::Refusing);
    for n in 0..10 {
        let failure = w.read(&format!("k{n}")).expect_err("refused");
        assert_eq!(failure.origin, TierError::Refused(400, "invalid_body".into()));
    }
    let failure = w.read("k0").expect_err("asked again at once: no backoff");
    assert!(failure.origin.is_refusal(), "{failure:?}");
    let stats = w.cache.stats(w.clock.now_ms());
    assert!(!stats.breaker_open, "{stats:?}");
    assert_eq!((stats.origin_errors, stats.origin_refusals, stats.throttled), (0, 11, 0));
    assert_eq!(w.origin.calls.get(), 11, "every read reached the origin");
    w.origin.mode.set(Mode::Healthy);
    w.origin.store("k0", json!("v"));
    assert_eq!(w.read("k0").map(|r| r.source), Ok(Source::Origin), "a valid read still reaches the origin");
}

#[test]
fn a_refusal_between_failures_neither_counts_nor_resets_the_breaker() {
    let w = World::new();
    w.origin.mode.set(Mode::Erroring);
    for n in 0..4 {
        assert!(w.read(&format!("k{n}")).is_err());
    }
    w.origin.mode.set(Mode::Refusing);
    for n in 4..20 {
        assert!(w.read(&format!("k{n}")).is_err());
    }
    assert!(!w.cache.stats(w.clock.now_ms()).breaker_open, "refusals are not failures");
    w.origin.mode.set(Mode::Erroring);
    assert!(w.read("k99").is_err());
    assert!(w.cache.stats(w.clock.now_ms()).breaker_open, "nor do they hide the failures around them");
}

#[test]
fn a_refused_read_is_not_answered_stale_and_a_refused_refresh_counts_nothing() {
    let w = World::new();
    w.cached("k");
    w.clock.advance_secs(11);
    w.origin.mode.set(Mode::Refusing);
    w.kv.data.borrow_mut().clear();
    let failure = w.read("k").expect_err("the refusal is the answer");
    assert!(failure.origin.is_refusal());
    let key = CacheKey::option("k");
    assert!(!block_on(w.cache.revalidate(&key, P, &w.kv, &w.clock, || w.origin.get_option("k"))));
    let stats = w.cache.stats(w.clock.now_ms());
    assert_eq!((stats.origin_errors, stats.origin_refusals, stats.breaker_open), (0, 2, false));
    assert_eq!(read_failure_error(failure).status(), 400);
}

#[test]
fn refusals_reach_the_caller_as_the_4xx_the_origin_meant() {
    let cases = [
        (400, "invalid_id", "invalid_id"),
        (400, "invalid_scope", "invalid_scope"),
        (400, "", "invalid_body"),
        (422, "something_else", "invalid_body"),
        (409, "", "invalid_body"),
        (405, "", "invalid_body"),
        (413, "", "too_large"),
        (414, "", "too_large"),
        (400, "too_large", "too_large"),
        (404, "", "not_found"),
    ];
    for (status, code, expected) in cases {
        let read = read_failure_error(ReadFailure { kv: None, origin: TierError::Refused(status, code.into()) });
        assert_eq!(read.code(), expected, "read {status} {code}");
        assert!((400..500).contains(&read.status()));
        let write = origin_write_error(TierError::Refused(status, code.into()));
        assert_eq!(write.code(), expected, "write {status} {code}");
        assert!(write.to_string().contains("nothing was changed"), "{write}");
    }
}

#[test]
fn slow_kv_hits_its_timeout_and_the_origin_answers() {
    let w = World::new();
    w.origin.store("k", json!("v"));
    w.kv.stall.set(100_000);
    let read = w.read("k").expect("origin");
    assert_eq!(read.source, Source::Origin);
    assert_eq!(w.cache.stats(w.clock.now_ms()).kv_errors, 1);
}

#[test]
fn kv_fills_of_one_key_are_debounced_to_one_per_second() {
    let w = World::new();
    w.origin.store("k", json!("v"));
    w.read("k").expect("read");
    assert_eq!(w.kv.puts.get(), 1);
    w.cache.clear_memory();
    w.kv.data.borrow_mut().clear();
    w.read("k").expect("read again within the second");
    assert_eq!(w.kv.puts.get(), 1, "the second fill was skipped");
    w.cache.clear_memory();
    w.clock.advance_secs(2);
    w.read("k").expect("read later");
    assert_eq!(w.kv.puts.get(), 2);
}

#[test]
fn kv_write_debouncing_stays_bounded_when_more_keys_than_its_bound_fill_in_one_instant() {
    let w = World::new();
    let keys = REMEMBERED * 3 / 2;
    for n in 0..keys {
        w.read(&format!("k{n}")).expect("an absent option is an answer");
        assert!(w.cache.kv_writes.len() <= REMEMBERED, "bounded after {n} fills");
    }
    assert_eq!(w.kv.puts.get() as usize, keys, "every distinct key was written to KV once");
    w.read("hot").expect("read");
    w.cache.clear_memory();
    w.read("hot").expect("read again in the same instant");
    assert_eq!(w.kv.puts.get() as usize, keys + 1, "a repeated key is still debounced");
}

#[test]
fn slow_read_finishing_after_a_write_does_not_resurrect_the_old_value() {
    let w = World::new();
    w.origin.store("k", json!("old"));
    w.origin.stall.set(10);
    let key = CacheKey::option("k");
    let slow_read = w.read_with("k", P);
    let write = async {
        stall(2).await;
        let written = w.origin.put_option("k", &json!("new")).await.expect("write");
        w.cache.after_write(&key, written, P, &w.kv, &w.clock).await;
    };
    let (read, ()) = block_on(futures::future::join(slow_read, write));
    assert_eq!(read.expect("read").entry.value(), Some(&json!("new")), "the newer version won");
    assert_eq!(w.read("k").expect("read").entry.value(), Some(&json!("new")));
}

#[test]
fn a_slow_read_of_a_key_memory_does_not_hold_never_puts_an_older_version_back_into_kv() {
    let w = World::new();
    let uncached = Policy::from_secs(0, 0);
    let key = CacheKey::option("k");
    // The origin answers version 1 late, after a write of version 2 went through.
    let slow_read = w.cache.read(&key, uncached, &w.kv, &w.clock, || async {
        stall(10).await;
        Ok(Versioned::present(json!("old"), 1))
    });
    let write = async {
        stall(2).await;
        w.cache.after_write(&key, Versioned::present(json!("new"), 2), uncached, &w.kv, &w.clock).await;
        // Past KV's one-write-per-second window: only the version rule holds the fill back.
        w.clock.advance_secs(2);
    };
    let (read, ()) = block_on(futures::future::join(slow_read, write));
    assert_eq!(read.expect("read").source, Source::Origin);
    let held = w.kv.data.borrow().get(key.as_str()).cloned().expect("KV holds the key");
    assert_eq!(envelope::decode(&held).expect("an envelope").value(), Some(&json!("new")), "KV kept the write");
    assert_eq!(w.kv.puts.get(), 1, "the older fill was not written");
}

#[test]
fn what_the_origin_said_stays_in_the_detail_and_never_reaches_the_caller() {
    let said = "database error: disk I/O at /var/lib/secret.db";
    let failure = ReadFailure { kv: None, origin: TierError::Status(500, said.into()) };
    let read = read_failure_error(failure);
    let writes = [
        TierError::Status(500, said.into()),
        TierError::Garbage(said.into()),
        TierError::Interrupted(said.into()),
        TierError::Unreachable(said.into()),
        TierError::Timeout,
    ]
    .map(origin_write_error);
    for error in std::iter::once(read).chain(writes) {
        assert!(!error.to_string().contains("database error"), "{}: {error}", error.code());
        assert!(error.detail().is_some(), "{}: the cause is kept for the log", error.code());
    }
    assert!(read_failure_error(ReadFailure { kv: None, origin: TierError::Status(500, said.into()) })
        .detail()
        .is_some_and(|d| d.contains("database error")));
}
