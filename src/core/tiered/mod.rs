//! The read and write paths through the three tiers, for any cached thing.
//!
//! docs/design.md "Entry lifecycle" and "Failure rules" live here, once, for
//! options, option maps and ownership alike, one idea a file:
//!
//! - `read`: fresh isolate memory → (a fetch of the key already in flight
//!   in this isolate: wait for it, `coalesce`) → KV (value or absent
//!   marker) → origin (200 or 404 = absent, written back to memory and KV)
//!   → when KV *and* the origin failed, a stale memory entry within grace →
//!   otherwise a failure the caller turns into a degraded default or a
//!   clear error. With a stale entry in hand the origin gets only the
//!   *soft* timeout before the stale value is answered and a background
//!   refresh is asked for; keys marked stale-while-revalidate answer stale
//!   at once. The origin is not asked while the key backs off or the
//!   breaker is open (`throttle`). An origin that refuses a request as the
//!   caller's fault (`TierError::Refused`) is up: the refusal counts toward
//!   no backoff and no breaker, is counted apart (`origin_refusals`) and
//!   reaches the caller as a 4xx.
//! - `write`: after the origin accepted a write, memory at once, then KV;
//!   a KV failure does not fail the write, it is reported
//!   (`cache_updated: false`) and left to the sync job. KV writes keep to
//!   one per second per key and never move KV back (`kv_writes`).
//! - `beacon`: the version beacon's side (`propagation`): the background
//!   check that gives changed keys a minimum version, the writes to tell
//!   it, and the floors every read keeps to — a copy below its key's
//!   minimum is not fresh (memory) or not trusted (KV) while the origin can
//!   be asked, no answer is below one this isolate already gave, and a read
//!   with `min_version` answers at least it while the origin can be asked.
//! - `failure`: the caller-facing error of a read or write that failed.
//!
//! This file holds the state they share: isolate memory, counters, the
//! coalescing and throttling tables, and the one place a value enters
//! memory (`TieredCache::remember`, which never moves it to an older
//! version: `version`).

mod beacon;
mod failure;
mod read;
mod write;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

pub use failure::{origin_write_error, read_failure_error, refusal_error};
pub use read::{Read, ReadFailure};

use super::coalesce::InFlight;
use super::key::CacheKey;
use super::kv_writes::KvWrites;
use super::lifecycle::{Millis, Policy};
use super::memory::{Limits, Lookup, MemoryCache, SWEEP_BUDGET};
use super::propagation::View;
use super::settings::defaults::KV_RETENTION_SECS;
use super::slot::{Slot, Versioned};
use super::snapshot::HeldSnapshot;
use super::stats::{Counter, Stats, StatsSnapshot};
use super::throttle::{Throttle, ThrottleConfig};
use super::version;

/// Shortest expiration Workers KV accepts for a put, in seconds (the KV
/// port's rule, `ports::kv_expiration`; kept at this path).
pub use super::ports::KV_MIN_EXPIRATION_SECS;

/// How long waits and fetches may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// With a stale value in hand, how long the origin may take before the
    /// stale value is answered (and a background refresh asked for).
    pub soft_ms: Millis,
    /// Hard timeout of a KV read.
    pub kv_ms: Millis,
    /// Hard timeout of an origin call (enforced by the origin client; here
    /// it bounds how long waiters wait for a leader).
    pub origin_ms: Millis,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { soft_ms: 250, kv_ms: 1_000, origin_ms: 5_000 }
    }
}

impl Timeouts {
    /// The longest a leader's fetch can take: KV, then the origin, plus slack.
    fn lease_ms(&self) -> Millis {
        self.kv_ms.saturating_add(self.origin_ms).saturating_add(500)
    }
}

/// Isolate memory plus counters, in-flight fetches and throttling: the state
/// an isolate keeps between requests.
pub struct TieredCache {
    memory: RefCell<MemoryCache<Versioned>>,
    stats: Stats,
    inflight: InFlight,
    throttle: Throttle,
    timeouts: Timeouts,
    /// How long a KV copy is fresh after the origin gave it.
    kv_expiration_secs: u64,
    /// How long KV keeps a copy at all (its physical expiry).
    kv_retention_secs: u64,
    /// This isolate's last KV write of each key, with its version.
    kv_writes: KvWrites<u64>,
    /// The last-known-good snapshot, held only during an outage.
    snapshot: HeldSnapshot,
    /// Since when every origin call of this isolate failed.
    down_since: Cell<Option<Millis>>,
    /// The oldest stale answer since the origin last answered.
    oldest_stale: Cell<Option<Millis>>,
    /// This isolate's view of the version beacon (`propagation`).
    view: RefCell<View>,
}

impl TieredCache {
    /// An empty cache with default timeouts and throttling.
    /// `kv_expiration_secs` is how long a KV copy counts as fresh after the
    /// origin gave it; KV keeps it 30 days (`with_kv_retention`).
    pub fn new(limits: Limits, kv_expiration_secs: u64) -> Self {
        TieredCache {
            memory: RefCell::new(MemoryCache::new(limits).with_departures()),
            stats: Stats::default(),
            inflight: InFlight::default(),
            throttle: Throttle::default(),
            timeouts: Timeouts::default(),
            kv_expiration_secs,
            kv_retention_secs: KV_RETENTION_SECS.max(kv_expiration_secs),
            kv_writes: KvWrites::default(),
            snapshot: HeldSnapshot::default(),
            down_since: Cell::new(None),
            oldest_stale: Cell::new(None),
            view: RefCell::new(View::default()),
        }
    }

    /// The same cache with KV keeping its copies `secs` (never less than
    /// they count as fresh; the KV port raises it to KV's 60 s minimum).
    #[must_use]
    pub fn with_kv_retention(mut self, secs: u64) -> Self {
        self.kv_retention_secs = secs.max(self.kv_expiration_secs);
        self
    }

    /// How long a KV copy is fresh after the origin gave it, ms.
    fn kv_fresh_ms(&self) -> Millis {
        self.kv_expiration_secs.saturating_mul(1000)
    }

    /// The origin answered: the outage (if any) is over.
    fn origin_answered(&self) {
        self.down_since.set(None);
        self.oldest_stale.set(None);
        self.snapshot.drop_held();
    }

    /// An origin call failed at `now`: the outage starts, or goes on.
    fn origin_failed(&self, now: Millis) {
        if self.down_since.get().is_none() {
            self.down_since.set(Some(now));
        }
    }

    /// Records the age of a stale answer, for the oldest one served.
    fn served_stale(&self, entry: &Versioned, now: Millis) {
        if let Some(age) = entry.age(now) {
            self.oldest_stale.set(Some(self.oldest_stale.get().map_or(age, |oldest| oldest.max(age))));
        }
    }

    /// The same cache checking the version beacon at most once per
    /// `check_ms` (`BEACON_CHECK_MS`).
    #[must_use]
    pub fn with_beacon_check_ms(mut self, check_ms: Millis) -> Self {
        self.view = RefCell::new(View::new(check_ms));
        self
    }

    /// The same cache with other timeouts.
    #[must_use]
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The same cache with other throttling.
    #[must_use]
    pub fn with_throttle(mut self, config: ThrottleConfig) -> Self {
        self.throttle = Throttle::new(config);
        self
    }

    /// When the isolate-memory entry of `key` stops being fresh, if it is
    /// fresh at `now` (a peek: no counters, no recency). Lets the npm
    /// package serve a fresh answer from JS without crossing into wasm.
    /// (An entry a beacon check found below its minimum was made stale
    /// then, so it is not handed out here either.)
    pub fn fresh_until(&self, key: &CacheKey, now: Millis) -> Option<Millis> {
        self.memory.borrow().fresh_until(key, now)
    }

    /// Counts a read answered by config or default because the stores failed.
    pub fn count_degraded(&self) {
        self.stats.bump(Counter::Degraded);
    }

    /// Frees a few dead entries; called on every read so the work is spread.
    pub fn sweep(&self, now: Millis) {
        self.with_memory(|memory| memory.sweep(now, SWEEP_BUDGET));
    }

    /// Runs `f` on isolate memory, then hands the versions of the entries
    /// that left it meanwhile to the beacon view as answered versions
    /// (`propagation::view`): while memory holds a key its entry's version
    /// is the key's answered floor, so that floor is recorded when the
    /// entry leaves. Every memory operation that may drop an entry goes
    /// through here, so no read sees the floor missing in between.
    fn with_memory<R>(&self, f: impl FnOnce(&mut MemoryCache<Versioned>) -> R) -> R {
        let mut memory = self.memory.borrow_mut();
        let out = f(&mut memory);
        let mut departed = memory.take_departed().peekable();
        if departed.peek().is_some() {
            let mut view = self.view.borrow_mut();
            for gone in departed {
                view.answered(gone.key_hash, gone.version);
            }
        }
        out
    }

    /// Empties isolate memory, as a new isolate starts (tests; nothing is
    /// recorded as departed).
    #[cfg(test)]
    pub(crate) fn clear_memory(&self) {
        self.memory.borrow_mut().clear();
    }

    /// The counters and memory figures now.
    pub fn stats(&self, now: Millis) -> StatsSnapshot {
        let memory = self.memory.borrow();
        let limits = memory.limits();
        let mut snapshot = self.stats.snapshot(memory.len(), memory.bytes(), limits.max_entries, limits.max_bytes);
        snapshot.in_flight = self.inflight.len() as u64;
        snapshot.breaker_open = self.throttle.breaker_open(now);
        snapshot.origin_down_since = self.down_since.get();
        snapshot.oldest_stale_age_ms = self.oldest_stale.get();
        snapshot.snapshot_held = self.snapshot.is_held();
        snapshot
    }

    /// Stores `found` in memory unless memory holds a newer version, and
    /// answers whichever is newest: a slow read never resurrects old data.
    fn remember(&self, key: &CacheKey, found: Versioned, policy: Policy, now: Millis) -> Rc<Versioned> {
        self.with_memory(|memory| {
            if let Lookup::Fresh(held) | Lookup::Stale(held) = memory.get(key, now) {
                if version::is_older(found.version, held.version) {
                    return held;
                }
            }
            let found = Rc::new(found);
            memory.insert(key.clone(), Rc::clone(&found), policy, now);
            found
        })
    }

    /// What isolate memory holds for `key` at `now` (a dead entry is dropped).
    fn lookup(&self, key: &CacheKey, now: Millis) -> Lookup<Versioned> {
        self.with_memory(|memory| memory.get(key, now))
    }

    /// The fresh memory entry of `key` at `now`, if any.
    fn fresh(&self, key: &CacheKey, now: Millis) -> Option<Rc<Versioned>> {
        match self.lookup(key, now) {
            Lookup::Fresh(entry) => Some(entry),
            Lookup::Stale(_) | Lookup::Miss => None,
        }
    }

    fn count_negative(&self, entry: &Versioned) {
        if entry.slot == Slot::Absent {
            self.stats.bump(Counter::NegativeHit);
        }
    }
}

#[cfg(test)]
mod tests;
