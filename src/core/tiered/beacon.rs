//! The tiered cache and the version beacon (`propagation`): the background
//! check that raises keys' minimum versions, the writes to tell the beacon,
//! and the figures the dashboard shows. No request waits on any of it.

use std::rc::Rc;

use super::TieredCache;
use crate::core::key::CacheKey;
use crate::core::key_hash;
use crate::core::lifecycle::Millis;
use crate::core::memory::Lookup;
use crate::core::ports::{Beacon, Clock};
use crate::core::propagation::{self, Applied, BeaconStats, Floor};
use crate::core::slot::Versioned;

/// Clears a check's in-flight mark if its future is dropped unfinished (a
/// background task cancelled), so the next check is not blocked for the lease.
struct InFlight<'a> {
    cache: &'a TieredCache,
    done: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.cache.view.borrow_mut().check_failed();
        }
    }
}

impl TieredCache {
    /// Whether a beacon check may start at `now` (cheap, no I/O): the Worker
    /// asks on every request and starts [`TieredCache::check_beacon`] in the
    /// background only when it is due.
    pub fn beacon_check_due(&self, now: Millis) -> bool {
        self.view.borrow().check_due(now)
    }

    /// Asks the beacon for the changes since the last check, if a check is
    /// due, and applies them: changed keys get their minimum version, and
    /// "too far behind" makes every memory entry stale. Returns whether a
    /// check answered. A failure changes nothing (the time-based lifecycle
    /// applies).
    pub async fn check_beacon<B: Beacon, C: Clock>(&self, beacon: &B, clock: &C) -> bool {
        let Some(after) = self.view.borrow_mut().begin_check(clock.now_ms()) else { return false };
        let mut guard = InFlight { cache: self, done: false };
        let answer = beacon.changes_after(after).await;
        guard.done = true;
        match answer {
            Ok(answer) => {
                let now = clock.now_ms();
                let applied = self.view.borrow_mut().apply(&answer, now);
                self.make_stale(&applied, now);
                true
            }
            Err(_) => {
                self.view.borrow_mut().check_failed();
                false
            }
        }
    }

    /// The writes this isolate made since the last call, to tell the beacon.
    pub fn take_announcements(&self) -> Vec<(u64, String)> {
        self.view.borrow_mut().take_announcements()
    }

    /// Tells the beacon of this isolate's writes (after the response). A
    /// failure loses nothing the beacon's own poll of the origin will not find.
    pub async fn announce<B: Beacon>(&self, beacon: &B) -> bool {
        let changes = self.take_announcements();
        changes.is_empty() || beacon.announce(&changes).await.is_ok()
    }

    /// The beacon figures of this isolate at `now` (`/v1/stats`).
    pub fn beacon_stats(&self, now: Millis) -> BeaconStats {
        self.view.borrow().stats(now)
    }

    /// What `key` must not be answered below: its minimum version, and
    /// the higher of the answered version recorded and the version memory
    /// holds (memory never goes back, so its entry is a floor while held).
    pub(super) fn floor(&self, key: &CacheKey) -> Floor {
        let mut floor = self.recorded_floor(key);
        if let Some(held) = self.memory.borrow().version_of(key) {
            floor.answered = floor.answered.max(held);
        }
        floor
    }

    /// The floor the view records for `key` (without memory's entry).
    fn recorded_floor(&self, key: &CacheKey) -> Floor {
        self.view.borrow().floor(key_hash::of(key.as_str()))
    }

    /// Whether a copy of `key` at `version` may answer a read asking for
    /// at least `min_version` (`propagation::satisfies`).
    pub(super) fn satisfies(&self, key: &CacheKey, version: u64, min_version: Option<u64>) -> bool {
        let floor = self.floor(key);
        propagation::satisfies(version, floor, min_version, self.view.borrow().known())
    }

    /// [`TieredCache::satisfies`] for the copy memory holds itself (so its
    /// own version need not be looked up again: the memory hit path).
    pub(super) fn satisfies_held(&self, key: &CacheKey, version: u64, min_version: Option<u64>) -> bool {
        let view = self.view.borrow();
        propagation::satisfies(version, view.floor(key_hash::of(key.as_str())), min_version, view.known())
    }

    /// The memory entry of `key` if it is fresh and may answer a read
    /// asking for at least `min_version`.
    pub(super) fn fresh_for(&self, key: &CacheKey, now: Millis, min_version: Option<u64>) -> Option<Rc<Versioned>> {
        let entry = self.fresh(key, now)?;
        self.satisfies_held(key, entry.version, min_version).then_some(entry)
    }

    /// Records an answer of `key` at `version`: no later answer goes below
    /// it. Nothing to record while memory holds the key at that version or
    /// above (the entry is the floor, recorded when it leaves memory); an
    /// answer memory did not take (a stale KV or snapshot copy, a ttl-0
    /// key) is recorded in the view's bounded record of answered versions.
    pub(super) fn note_answered(&self, key: &CacheKey, version: u64) {
        if version == 0 || self.memory.borrow().version_of(key).is_some_and(|held| held >= version) {
            return;
        }
        self.view.borrow_mut().answered(key_hash::of(key.as_str()), version);
    }

    /// Records this isolate's own write of `key` at `version`: older copies
    /// are no longer current here, and the beacon is to be told.
    pub(super) fn note_written(&self, key: &CacheKey, version: u64, now: Millis) {
        if version == 0 {
            return; // nothing was written (a delete of nothing)
        }
        let forgotten = {
            let mut view = self.view.borrow_mut();
            view.raise_min(key_hash::of(key.as_str()), version);
            view.announce(version, key.as_str());
            view.take_forgotten()
        };
        if forgotten {
            self.memory.borrow_mut().mark_all_stale(now);
        }
    }

    /// Makes stale what a beacon answer says is no longer current.
    fn make_stale(&self, applied: &Applied, now: Millis) {
        if applied.everything_stale {
            self.memory.borrow_mut().mark_all_stale(now);
            return;
        }
        // The read path checks minimums anyway; marking the entry stale
        // also keeps it from being handed out as fresh by `fresh_until`.
        for key in &applied.raised {
            let key = CacheKey::from_stored(key);
            if let Lookup::Fresh(entry) = self.lookup(&key, now) {
                if !propagation::current(entry.version, self.recorded_floor(&key)) {
                    self.memory.borrow_mut().mark_stale(&key, now);
                }
            }
        }
    }
}
