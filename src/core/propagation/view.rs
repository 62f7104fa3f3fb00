//! One isolate's view of the beacon: the minimum version of each key that
//! changed, the versions this isolate answered that its memory no longer
//! holds, and when to check the beacon next.
//!
//! - A check is due at most once per `check_ms`, and never while one is in
//!   flight (a check left hanging past [`CHECK_LEASE_MS`] no longer counts).
//! - A complete answer raises each changed key's minimum version; an
//!   incomplete one ("too far behind") does too, and asks the caller to make
//!   every memory entry stale ([`Applied::everything_stale`]).
//! - Minimum versions (from the beacon's answers and this isolate's own
//!   writes) are kept per key *hash* (`key_hash`), so their number follows
//!   the change rate, not the read rate. Bounded ([`FLOORS_MAX`]): when
//!   full they are forgotten at once and everything is made stale, so
//!   forgetting a minimum costs revalidations, never an old answer served
//!   as fresh.
//! - Answered versions ("never answer below what this isolate answered"):
//!   while memory holds a key, its entry's version is that floor (memory
//!   never replaces an entry with an older version), so nothing is kept
//!   here for it. What is kept ([`Answered`]) is the version of entries
//!   that left memory, and of answers memory did not take (a stale KV or
//!   snapshot copy, ttl-0 options): a first-in first-out record of the last
//!   [`ANSWERED_MAX`], the oldest forgotten silently. Why that suffices:
//!   the realistic way to answer below a version already answered is a KV
//!   copy lagging behind it (KV's edge read cache, about 60 s), right after
//!   the key left memory; a key that left long ago is past that lag, and
//!   the beacon's minimum still guards it.
//! - Writes this isolate made are queued to be told to the beacon after the
//!   response (`announcements`), bounded too: one lost costs only the
//!   beacon's poll interval.
//!
//! Hash collisions (`key_hash`; ~1 in 2^64 per pair of keys) cost caching,
//! never an answer. A false floor (another key's) above a key's version
//! keeps that key's copies from being current, so it is read from the
//! origin, whose answer is taken whatever its version (no floor refuses
//! it) — the key is then uncached, as an unknown name is, until the false
//! record goes (minimums: when they are next forgotten; answered: after
//! [`ANSWERED_MAX`] newer records). When the origin cannot be asked, a
//! false minimum still lets the copy held answer, marked degraded; a false
//! answered version refuses a stale KV or snapshot copy below it (the read
//! then fails over to the caller's default, as with nothing held).

use std::collections::HashMap;

pub use super::answered::{Answered, ANSWERED_MAX};
use super::log::BeaconAnswer;
use crate::core::key_hash::{self, PrehashedState};
use crate::core::lifecycle::Millis;

/// How often an isolate checks the beacon by default (`BEACON_CHECK_MS`).
pub const DEFAULT_CHECK_MS: Millis = 500;

/// A check in flight longer than this is taken as lost (its background
/// task was cancelled) and another may start.
pub const CHECK_LEASE_MS: Millis = 5_000;

/// Most keys with a recorded minimum version.
pub const FLOORS_MAX: usize = 10_000;

/// Most writes queued to be told to the beacon.
pub const ANNOUNCE_MAX: usize = 1_000;

/// What an isolate must not answer below, for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Floor {
    /// The beacon's minimum version: a copy below it is not current.
    pub min: u64,
    /// The highest version this isolate answered, as far as it knows (a
    /// recorded one, or the version its memory holds): never answer below it.
    pub answered: u64,
}

/// What applying a beacon answer asks of isolate memory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applied {
    /// Keys whose memory entry may now be below their minimum version.
    pub raised: Vec<String>,
    /// Make every memory entry stale (too far behind, or records forgotten).
    pub everything_stale: bool,
}

/// The dashboard's figures: `/v1/stats` → `beacon`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct BeaconStats {
    /// Whether checks are made at all (a beacon is bound).
    pub enabled: bool,
    /// The version up to which this isolate applied every change.
    pub known_version: u64,
    /// The highest version the beacon knew of at the last check.
    pub latest_version: u64,
    /// `latest_version - known_version` at the last check.
    pub behind: u64,
    /// When the last check answered (ms since the epoch; 0: never).
    pub last_check_at: Millis,
    /// How long ago that was, at the time of the stats.
    pub last_check_age_ms: Option<Millis>,
    /// How long the last answered check took, start to answer (what a
    /// request awaiting a check would have waited).
    pub last_check_ms: Option<Millis>,
    /// Checks made, and how many failed.
    pub checks: u64,
    /// Checks that failed (the beacon could not be reached).
    pub check_failures: u64,
    /// Answers that were too far behind (everything made stale).
    pub too_far_behind: u64,
}

/// The isolate's view (held in a `RefCell` by the tiered cache).
#[derive(Debug)]
pub struct View {
    check_ms: Millis,
    enabled: bool,
    known: u64,
    latest: u64,
    minimums: HashMap<u64, u64, PrehashedState>,
    answered: Answered,
    last_started: Option<Millis>,
    last_answered: Option<Millis>,
    last_took: Option<Millis>,
    in_flight_since: Option<Millis>,
    announcements: Vec<(u64, String)>,
    checks: u64,
    failures: u64,
    too_far: u64,
    forgotten: bool,
}

impl Default for View {
    fn default() -> Self {
        View::new(DEFAULT_CHECK_MS)
    }
}

impl View {
    /// A view checking at most once per `check_ms`, no beacon bound yet.
    pub fn new(check_ms: Millis) -> Self {
        View {
            check_ms,
            enabled: false,
            known: 0,
            latest: 0,
            minimums: HashMap::default(),
            answered: Answered::default(),
            last_started: None,
            last_answered: None,
            last_took: None,
            in_flight_since: None,
            announcements: Vec::new(),
            checks: 0,
            failures: 0,
            too_far: 0,
            forgotten: false,
        }
    }

    /// The floor recorded for the key of `hash` (`key_hash::of`; zeros
    /// when nothing is recorded). The caller adds what its memory holds.
    pub fn floor(&self, hash: u64) -> Floor {
        Floor { min: self.minimums.get(&hash).copied().unwrap_or(0), answered: self.answered.get(hash) }
    }

    /// The version up to which every change was applied.
    pub fn known(&self) -> u64 {
        self.known
    }

    /// Whether a check may start at `now`: none in flight (within its
    /// lease), and the last one started at least `check_ms` ago.
    pub fn check_due(&self, now: Millis) -> bool {
        let in_flight = self.in_flight_since.is_some_and(|at| now.saturating_sub(at) < CHECK_LEASE_MS);
        let waited = self.last_started.is_none_or(|at| now.saturating_sub(at) >= self.check_ms);
        !in_flight && waited
    }

    /// Starts a check at `now` if one is due: the version to ask after.
    pub fn begin_check(&mut self, now: Millis) -> Option<u64> {
        if !self.check_due(now) {
            return None;
        }
        self.enabled = true;
        self.in_flight_since = Some(now);
        self.last_started = Some(now);
        self.checks += 1;
        Some(self.known)
    }

    /// The check started at `now` failed or was dropped: nothing changes
    /// but the counters (the time-based lifecycle applies meanwhile).
    pub fn check_failed(&mut self) {
        self.in_flight_since = None;
        self.failures += 1;
    }

    /// Applies the beacon's answer at `now`.
    pub fn apply(&mut self, answer: &BeaconAnswer, now: Millis) -> Applied {
        self.last_took = self.in_flight_since.take().map(|at| now.saturating_sub(at));
        self.last_answered = Some(now);
        self.latest = self.latest.max(answer.latest);
        let mut applied = Applied { everything_stale: !answer.complete, ..Applied::default() };
        if !answer.complete {
            self.too_far += 1;
        }
        for change in &answer.changes {
            if self.raise_min(key_hash::of(&change.key), change.version) {
                applied.raised.push(change.key.clone());
            }
        }
        applied.everything_stale |= self.take_forgotten();
        self.known = self.known.max(answer.through);
        applied
    }

    /// Raises the minimum version of the key of `hash` (a change the beacon
    /// logged, or this isolate's own write). Returns whether it rose. When
    /// the minimums are full they are all forgotten first (`take_forgotten`).
    pub fn raise_min(&mut self, hash: u64, version: u64) -> bool {
        if let Some(min) = self.minimums.get_mut(&hash) {
            let rose = version > *min;
            *min = (*min).max(version);
            return rose;
        }
        if self.minimums.len() >= FLOORS_MAX {
            self.minimums.clear();
            self.forgotten = true;
        }
        self.minimums.insert(hash, version);
        version > 0
    }

    /// Records that `version` of the key of `hash` was answered, or held
    /// in memory until it left: no later answer goes below it while the
    /// record is kept. Forgetting one never makes anything stale. Version 0
    /// (nothing ever written: an unknown name's absent marker) is no floor
    /// and takes no record.
    pub fn answered(&mut self, hash: u64, version: u64) {
        if version > 0 {
            self.answered.record(hash, version);
        }
    }

    /// Queues a write this isolate made, to be told to the beacon.
    pub fn announce(&mut self, version: u64, key: &str) {
        if self.announcements.len() < ANNOUNCE_MAX {
            self.announcements.push((version, key.to_string()));
        }
    }

    /// The queued writes, emptied.
    pub fn take_announcements(&mut self) -> Vec<(u64, String)> {
        std::mem::take(&mut self.announcements)
    }

    /// The dashboard's figures at `now`.
    pub fn stats(&self, now: Millis) -> BeaconStats {
        BeaconStats {
            enabled: self.enabled,
            known_version: self.known,
            latest_version: self.latest,
            behind: self.latest.saturating_sub(self.known),
            last_check_at: self.last_answered.unwrap_or(0),
            last_check_age_ms: self.last_answered.map(|at| now.saturating_sub(at)),
            last_check_ms: self.last_took,
            checks: self.checks,
            check_failures: self.failures,
            too_far_behind: self.too_far,
        }
    }

    /// Whether the minimum versions were forgotten (full) since the last
    /// call: the caller then makes every memory entry stale.
    pub fn take_forgotten(&mut self) -> bool {
        std::mem::take(&mut self.forgotten)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::propagation::log::LoggedChange;

    fn floor(view: &View, key: &str) -> Floor {
        view.floor(key_hash::of(key))
    }

    fn answer(through: u64, complete: bool, changes: &[(u64, &str)]) -> BeaconAnswer {
        let changes = changes.iter().map(|(v, k)| LoggedChange { version: *v, key: k.to_string() }).collect();
        BeaconAnswer { through, latest: through, complete, changes }
    }

    #[test]
    fn at_most_one_check_is_in_flight_and_at_most_one_starts_per_interval() {
        let mut view = View::new(500);
        assert_eq!(view.begin_check(1_000), Some(0));
        assert_eq!(view.begin_check(1_600), None, "the first is still in flight");
        view.apply(&answer(7, true, &[]), 1_700);
        assert_eq!(view.begin_check(1_499), None);
        assert_eq!(view.begin_check(1_700), Some(7), "500 ms after the last start, from where it got to");
        view.check_failed();
        assert_eq!(view.begin_check(2_100), None, "a failure does not shorten the interval");
        assert!(view.check_due(2_200));
    }

    #[test]
    fn a_check_lost_in_flight_stops_blocking_the_next_after_its_lease() {
        let mut view = View::new(500);
        assert!(view.begin_check(0).is_some());
        assert!(view.begin_check(CHECK_LEASE_MS - 1).is_none());
        assert!(view.begin_check(CHECK_LEASE_MS).is_some());
    }

    #[test]
    fn a_changed_key_gets_a_minimum_version_that_never_goes_down() {
        let mut view = View::default();
        let applied = view.apply(&answer(9, true, &[(4, "opt:a"), (9, "opt:a"), (5, "opt:b")]), 0);
        assert_eq!(applied.raised, vec!["opt:a", "opt:a", "opt:b"]);
        assert!(!applied.everything_stale);
        assert_eq!(floor(&view, "opt:a").min, 9);
        view.apply(&answer(9, true, &[(4, "opt:a")]), 0);
        assert_eq!(floor(&view, "opt:a").min, 9);
        assert_eq!(floor(&view, "opt:never").min, 0);
        assert_eq!(view.known(), 9);
    }

    #[test]
    fn too_far_behind_makes_everything_stale_and_still_learns_the_recent_keys() {
        let mut view = View::default();
        let applied = view.apply(&answer(40, false, &[(39, "opt:a")]), 0);
        assert!(applied.everything_stale);
        assert_eq!((floor(&view, "opt:a").min, view.known()), (39, 40));
        assert_eq!(view.stats(10).too_far_behind, 1);
    }

    #[test]
    fn full_minimums_are_forgotten_and_everything_is_made_stale() {
        let mut view = View::default();
        for n in 0..FLOORS_MAX as u64 {
            view.raise_min(key_hash::of(&format!("opt:{n}")), 1);
        }
        assert!(!view.take_forgotten());
        let applied = view.apply(&answer(2, true, &[(2, "opt:new")]), 0);
        assert!(applied.everything_stale, "minimums were forgotten: memory cannot be trusted as fresh");
        assert!(view.minimums.len() <= FLOORS_MAX);
        assert_eq!(floor(&view, "opt:new").min, 2);
    }

    #[test]
    fn answered_versions_never_make_anything_stale_and_forget_only_the_oldest() {
        let mut view = View::default();
        view.raise_min(key_hash::of("opt:changed"), 4);
        let total = ANSWERED_MAX as u64 * 2;
        for n in 0..total {
            view.answered(key_hash::of(&format!("opt:{n}")), n + 1);
        }
        assert!(!view.take_forgotten(), "forgetting an answered version is silent");
        assert_eq!(view.answered.len(), ANSWERED_MAX);
        assert_eq!(floor(&view, &format!("opt:{}", total - 1)).answered, total, "the newest is kept");
        assert_eq!(
            floor(&view, &format!("opt:{}", total - ANSWERED_MAX as u64)).answered,
            total - ANSWERED_MAX as u64 + 1
        );
        assert_eq!(floor(&view, &format!("opt:{}", total - ANSWERED_MAX as u64 - 1)).answered, 0, "the oldest went");
        assert_eq!(floor(&view, "opt:changed").min, 4, "minimums untouched");
    }

    #[test]
    fn a_key_recorded_again_keeps_its_version_until_its_last_record_leaves() {
        let mut view = View::default();
        let a = key_hash::of("opt:a");
        view.answered(a, 7);
        for n in 0..(ANSWERED_MAX as u64 - 1) {
            view.answered(key_hash::of(&format!("opt:{n}")), 1);
        }
        view.answered(a, 5);
        for n in 0..(ANSWERED_MAX as u64 - 1) {
            view.answered(key_hash::of(&format!("opt:other{n}")), 1);
        }
        assert_eq!(floor(&view, "opt:a").answered, 7, "its first record left, its second holds the highest");
        view.answered(key_hash::of("opt:last"), 1);
        assert_eq!(floor(&view, "opt:a").answered, 0, "its last record left");
    }

    #[test]
    fn announcements_are_handed_over_once_and_bounded() {
        let mut view = View::default();
        for v in 0..(ANNOUNCE_MAX as u64 + 5) {
            view.announce(v, "opt:a");
        }
        assert_eq!(view.take_announcements().len(), ANNOUNCE_MAX);
        assert!(view.take_announcements().is_empty());
    }

    #[test]
    fn stats_say_how_far_behind_and_how_long_ago_the_last_check_answered() {
        let mut view = View::default();
        assert_eq!(view.stats(5).last_check_age_ms, None);
        view.begin_check(1_000);
        view.apply(&BeaconAnswer { through: 10, latest: 14, complete: true, changes: vec![] }, 1_200);
        let stats = view.stats(1_500);
        assert_eq!((stats.known_version, stats.latest_version, stats.behind), (10, 14, 4));
        assert_eq!((stats.last_check_at, stats.last_check_age_ms, stats.enabled), (1_200, Some(300), true));
        assert_eq!(stats.last_check_ms, Some(200), "started at 1,000, answered at 1,200");
    }
}
