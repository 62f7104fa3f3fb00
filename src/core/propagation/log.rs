//! The beacon's bounded change log: which cache key changed at which origin
//! version, for the last [`LOG_CAPACITY`] changes.
//!
//! The beacon (a Durable Object in the Worker) learns of a change two ways:
//! the Worker tells it after a write the origin accepted, and its alarm
//! pages the origin's change feed. Only the feed is complete: a write that
//! bypassed the edge reaches the log only through it. So the log keeps
//! `through`, the version up to which it holds *every* change (the feed's
//! cursor), apart from the entries told ahead of it; an isolate asks
//! "changes after V" with the `through` of its last answer, and so sees a
//! told entry early and again later, never misses a polled one.
//!
//! Bounded: past the capacity the oldest entries leave and `floor` rises to
//! the version of the last one that left; an isolate asking after a version
//! below `floor` is "too far behind" (the answer says `complete: false` and
//! carries the whole log, so the isolate still learns the recent keys).

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Most changes the log keeps: ~40 bytes each, a few tens of KB of DO
/// storage, and an answer of that size only to an isolate too far behind.
pub const LOG_CAPACITY: usize = 1024;

/// One change: a cache key and the origin version that changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedChange {
    /// The origin version of the change.
    pub version: u64,
    /// The cache key it changed (`opt:…`, `map:…`, `own:…`).
    pub key: String,
}

/// The beacon's answer to "changes after V".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BeaconAnswer {
    /// Every change up to this version is in `changes` or before `after`:
    /// the `after` of the isolate's next check.
    pub through: u64,
    /// The highest version the beacon knows of (told or polled).
    pub latest: u64,
    /// `false`: the log no longer reaches the version asked after ("too far
    /// behind"); `changes` is then the whole log.
    pub complete: bool,
    /// The changes after the version asked after, in version order.
    pub changes: Vec<LoggedChange>,
}

/// The log itself, as the beacon keeps it in Durable Object storage.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChangeLog {
    entries: VecDeque<LoggedChange>,
    /// Changes at or below this version may have left the log.
    floor: u64,
    /// Every change at or below this version reached the log (the feed's cursor).
    through: u64,
}

impl ChangeLog {
    /// Records one change (told by a Worker, or read from the feed). A
    /// change at or below `floor` already left the log and is ignored, as
    /// is one already held.
    pub fn record(&mut self, version: u64, key: &str) {
        if version <= self.floor {
            return;
        }
        let at = self.entries.partition_point(|e| e.version < version);
        let held = self.entries.iter().skip(at).take_while(|e| e.version == version).any(|e| e.key == key);
        if held {
            return;
        }
        self.entries.insert(at, LoggedChange { version, key: key.to_string() });
        while self.entries.len() > LOG_CAPACITY {
            if let Some(gone) = self.entries.pop_front() {
                self.floor = self.floor.max(gone.version);
            }
        }
    }

    /// Records that the feed was read up to `cursor`: every change up to it
    /// is now in the log (or left it). Never moves back.
    pub fn polled_through(&mut self, cursor: u64) {
        self.through = self.through.max(cursor);
    }

    /// Where the feed is read from next.
    pub fn cursor(&self) -> u64 {
        self.through
    }

    /// The highest version known, told or polled.
    pub fn latest(&self) -> u64 {
        self.entries.back().map_or(self.through, |e| e.version.max(self.through))
    }

    /// Changes held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no change is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// "Changes after `after`": the list, or the whole log marked
    /// incomplete when changes after `after` may have left it.
    pub fn changes_after(&self, after: u64) -> BeaconAnswer {
        let complete = after >= self.floor;
        let from = if complete { self.entries.partition_point(|e| e.version <= after) } else { 0 };
        BeaconAnswer {
            through: self.through.max(self.floor),
            latest: self.latest(),
            complete,
            changes: self.entries.iter().skip(from).cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(answer: &BeaconAnswer) -> Vec<u64> {
        answer.changes.iter().map(|c| c.version).collect()
    }

    #[test]
    fn changes_after_a_version_are_listed_in_version_order_whatever_order_they_came_in() {
        let mut log = ChangeLog::default();
        for (v, k) in [(3, "opt:a"), (1, "opt:b"), (2, "map:c"), (3, "opt:a")] {
            log.record(v, k);
        }
        let answer = log.changes_after(1);
        assert!(answer.complete);
        assert_eq!(versions(&answer), vec![2, 3], "the repeat of 3 is held once");
        assert_eq!(answer.latest, 3);
        assert!(log.changes_after(3).changes.is_empty());
    }

    #[test]
    fn an_isolate_continues_from_the_feed_cursor_so_a_told_change_never_hides_a_polled_one() {
        let mut log = ChangeLog::default();
        log.record(12, "opt:told");
        let first = log.changes_after(0);
        assert_eq!((first.through, versions(&first)), (0, vec![12]));
        log.record(11, "opt:bypassed");
        log.polled_through(12);
        let next = log.changes_after(first.through);
        assert_eq!((next.through, versions(&next)), (12, vec![11, 12]), "11 came after 12 was seen");
        log.polled_through(5);
        assert_eq!(log.cursor(), 12, "the cursor never moves back");
    }

    #[test]
    fn past_its_capacity_the_log_drops_the_oldest_and_answers_too_far_behind_below_them() {
        let mut log = ChangeLog::default();
        let total = LOG_CAPACITY as u64 + 10;
        for v in 1..=total {
            log.record(v, &format!("opt:k{v}"));
        }
        assert_eq!(log.len(), LOG_CAPACITY);
        let behind = log.changes_after(3);
        assert!(!behind.complete, "changes 4..=10 left the log");
        assert_eq!(behind.changes.len(), LOG_CAPACITY, "the whole log, so recent keys are still learnt");
        assert!(log.changes_after(10).complete);
        log.record(2, "opt:late");
        assert_eq!(log.len(), LOG_CAPACITY, "a change below the floor is not taken back");
    }
}
