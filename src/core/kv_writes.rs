//! One KV write per second per key, and never an older version from this
//! isolate.
//!
//! Workers KV takes at most one write per second per key (more are refused
//! with 429), so this isolate remembers its last write of each key:
//!
//! - the read path fills KV with what the origin answered; within a second
//!   of this isolate's last write of the key the fill is skipped (the value
//!   is the same, or the sync job repairs it) — [`KvWrites::fill_due`];
//! - the last processed events skip a repeat of the same record within the
//!   second — [`KvWrites::repeats`];
//! - the record also keeps the version written, and a fill older than it is
//!   not written at all (`version`): without it a slow read finishing after
//!   a write could put the old value back into KV when isolate memory does
//!   not hold the key to settle it (ttl-0 options, an evicted entry).
//!
//! Bounded (`bounded`): past [`REMEMBERED`] keys, the records older than a
//! second are dropped, then all of them if too many are recent. Forgetting
//! only costs an extra write (which KV may refuse; a read never fails on it).
//!
//! Keyed by the key's 64-bit hash (`key_hash`), not its text: under read
//! churn every fill leaves a record, so the table is full of keys memory
//! already holds, and a second copy of each key's text would cost as much
//! again. What a collision (two keys with one hash, ~1 in 2^64 per pair)
//! can cost, and why it is harmless:
//!
//! - a fill skipped within a second of the other key's write: as any
//!   skipped fill, KV keeps its copy (older, or none) and the next read
//!   past the second, or the sync job, writes it;
//! - a fill skipped as older than the other key's last write: KV keeps its
//!   copy (older, or none) until this record is forgotten (the table turns
//!   over as it fills) or the key changes to a newer version; meanwhile
//!   reads elsewhere find KV's copy older or missing and ask the origin, as
//!   for any key whose KV copy lags. No tier is ever written an older
//!   version by it: the guard only ever *skips* a write;
//! - a last processed event not written again within the second: only when
//!   the other key's record holds the very same event id, which a distinct
//!   group hash does not carry.

use std::cell::RefCell;

use super::bounded::BoundedTable;
use super::key_hash;
use super::lifecycle::Millis;
use super::version;

/// KV takes at most one write per second per key.
pub const KV_WRITE_INTERVAL_MS: Millis = 1_000;

/// Most keys remembered: a hard bound, however many distinct keys are
/// written within one second.
pub const REMEMBERED: usize = 10_000;

/// One write: when, and what (the version, or the event id).
#[derive(Debug)]
struct Written<T> {
    at: Millis,
    what: T,
}

/// This isolate's last KV write of each key (by the key's hash).
#[derive(Debug)]
pub struct KvWrites<T> {
    table: RefCell<BoundedTable<u64, Written<T>, key_hash::PrehashedState>>,
}

impl<T> Default for KvWrites<T> {
    fn default() -> Self {
        KvWrites { table: RefCell::new(BoundedTable::hashed_by(REMEMBERED)) }
    }
}

impl<T> KvWrites<T> {
    /// Records a write of `what` under `key` at `now`.
    pub fn wrote(&self, key: &str, what: T, now: Millis) {
        let fresh = |w: &Written<T>| now.saturating_sub(w.at) < KV_WRITE_INTERVAL_MS;
        self.table.borrow_mut().insert(key_hash::of(key), Written { at: now, what }, fresh);
    }

    /// Keys remembered (for tests of the bound).
    pub fn len(&self) -> usize {
        self.table.borrow().len()
    }

    /// Whether no write is remembered.
    pub fn is_empty(&self) -> bool {
        self.table.borrow().is_empty()
    }

    /// Whether this isolate wrote `key` less than a second before `now`,
    /// and what.
    fn within_interval<R>(&self, key: &str, now: Millis, what: impl FnOnce(&T) -> R) -> Option<R> {
        let table = self.table.borrow();
        let last = table.get(&key_hash::of(key)).filter(|w| now.saturating_sub(w.at) < KV_WRITE_INTERVAL_MS)?;
        Some(what(&last.what))
    }
}

impl<T: PartialEq> KvWrites<T> {
    /// Whether writing `what` under `key` at `now` repeats this isolate's
    /// write of the same thing within the last second (so nothing is written).
    pub fn repeats(&self, key: &str, what: &T, now: Millis) -> bool {
        self.within_interval(key, now, |last| last == what).unwrap_or(false)
    }
}

impl KvWrites<u64> {
    /// Whether a fill of `key` (a KV write from the read path) at `version`
    /// should be written at `now`: not within a second of this isolate's
    /// last write of the key, and not older than the version written then.
    pub fn fill_due(&self, key: &str, version: u64, now: Millis) -> bool {
        if self.within_interval(key, now, |_| ()).is_some() {
            return false;
        }
        !self.table.borrow().get(&key_hash::of(key)).is_some_and(|last| version::is_older(version, last.what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fill_within_a_second_of_the_last_write_is_skipped() {
        let writes = KvWrites::default();
        assert!(writes.fill_due("k", 1, 1_000));
        writes.wrote("k", 1, 1_000);
        assert!(!writes.fill_due("k", 2, 1_999), "within the second, whatever the version");
        assert!(writes.fill_due("k", 2, 2_000), "a second later");
        assert!(writes.fill_due("other", 1, 1_500), "other keys are not held back");
    }

    #[test]
    fn a_fill_older_than_the_version_last_written_is_never_written() {
        let writes = KvWrites::default();
        writes.wrote("k", 7, 0);
        assert!(!writes.fill_due("k", 6, 60_000), "older, long after");
        assert!(writes.fill_due("k", 7, 60_000), "the same version may be written again");
        assert!(writes.fill_due("k", 8, 60_000));
    }

    #[test]
    fn a_repeat_of_the_same_record_within_the_second_is_not_written_again() {
        let writes = KvWrites::default();
        writes.wrote("evt:1:1", "ev".to_string(), 5_000);
        assert!(writes.repeats("evt:1:1", &"ev".to_string(), 5_999));
        assert!(!writes.repeats("evt:1:1", &"ev-2".to_string(), 5_999), "a new value is written");
        assert!(!writes.repeats("evt:1:1", &"ev".to_string(), 6_000), "the next second writes again");
    }

    #[test]
    fn the_record_stays_bounded_when_more_keys_than_its_bound_are_written_in_one_instant() {
        let writes = KvWrites::default();
        for n in 0..(REMEMBERED * 3 / 2) {
            writes.wrote(&format!("k{n}"), 1u64, 0);
            assert!(writes.len() <= REMEMBERED, "bounded after {n} writes");
        }
        assert!(!writes.is_empty());
    }
}
