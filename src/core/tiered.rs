//! The read and write paths through the three tiers, for any cached thing.
//!
//! DESIGN.md "Entry lifecycle" lives here, once, for options, option maps and
//! ownership alike:
//!
//! Read: fresh isolate memory → KV (value or absent marker) → origin (200 or
//! 404 = absent, written back to memory and KV) → when KV *and* the origin
//! failed, a stale memory entry within grace → otherwise a failure the caller
//! turns into a degraded default or a clear error.
//!
//! Write (after the origin accepted it): memory at once, then KV; a KV failure
//! does not fail the write, it is reported (`cache_updated: false`) and left
//! to the sync job. Versions keep every tier from moving backwards.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use super::envelope;
use super::key::CacheKey;
use super::lifecycle::{Millis, Policy};
use super::memory::{Limits, Lookup, MemoryCache, SWEEP_BUDGET};
use super::slot::{Slot, Versioned};
use super::source::Source;
use super::stats::{Counter, Stats, StatsSnapshot};
use crate::tiers::{Clock, NetworkCache, TierError};

/// Shortest expiration Workers KV accepts for a put, in seconds.
pub const KV_MIN_EXPIRATION_SECS: u64 = 60;

/// A successful read: the entry and the tier that answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    /// The value or absent marker, with its version.
    pub entry: Rc<Versioned>,
    /// `Local`, `Kv`, `Origin` or `Stale`.
    pub source: Source,
}

/// Nothing servable: both stores failed and memory held nothing within grace.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadFailure {
    /// Why KV could not answer (`None`: KV answered "nothing", or was skipped).
    pub kv: Option<TierError>,
    /// Why the origin could not answer.
    pub origin: TierError,
}

/// Isolate memory plus counters: the state an isolate keeps between requests.
pub struct TieredCache {
    memory: RefCell<MemoryCache<Versioned>>,
    stats: Stats,
    kv_expiration_secs: u64,
}

impl TieredCache {
    /// An empty cache. `kv_expiration_secs` is how long KV keeps what this
    /// isolate writes (raised to KV's 60 s minimum).
    pub fn new(limits: Limits, kv_expiration_secs: u64) -> Self {
        TieredCache {
            memory: RefCell::new(MemoryCache::new(limits)),
            stats: Stats::default(),
            kv_expiration_secs: kv_expiration_secs.max(KV_MIN_EXPIRATION_SECS),
        }
    }

    /// Reads `key` through the tiers; `fetch` asks the origin (404 = absent).
    pub async fn read<K, C, F>(
        &self,
        key: &CacheKey,
        policy: Policy,
        kv: &K,
        clock: &C,
        fetch: impl FnOnce() -> F,
    ) -> Result<Read, ReadFailure>
    where
        K: NetworkCache,
        C: Clock,
        F: Future<Output = Result<Versioned, TierError>>,
    {
        let now = clock.now_ms();
        self.sweep(now);
        let stale = match self.memory.borrow_mut().get(key, now) {
            Lookup::Fresh(entry) => {
                self.stats.bump(Counter::HitLocal);
                self.count_negative(&entry);
                return Ok(Read { entry, source: Source::Local });
            }
            Lookup::Stale(entry) => Some(entry),
            Lookup::Miss => None,
        };
        self.stats.bump(Counter::Miss);

        let kv_error = match kv.get(key.as_str()).await {
            Ok(Some(text)) => match envelope::decode(&text) {
                Ok(found) if stale.as_ref().is_some_and(|s| s.version > found.version) => {
                    // KV is behind what this isolate already saw (a KV write
                    // failed or has not spread yet): only the origin can say.
                    None
                }
                Ok(found) => {
                    self.stats.bump(Counter::HitKv);
                    let entry = self.remember(key, found, policy, clock.now_ms());
                    self.count_negative(&entry);
                    return Ok(Read { entry, source: Source::Kv });
                }
                Err(e) => {
                    self.stats.bump(Counter::KvError);
                    Some(TierError::Garbage(e.0))
                }
            },
            Ok(None) => None,
            Err(e) => {
                self.stats.bump(Counter::KvError);
                Some(e)
            }
        };

        match fetch().await {
            Ok(found) => {
                self.stats.bump(Counter::HitOrigin);
                let entry = self.remember(key, found, policy, clock.now_ms());
                self.count_negative(&entry);
                self.put_kv(key, &entry, kv).await;
                Ok(Read { entry, source: Source::Origin })
            }
            Err(origin) => {
                self.stats.bump(Counter::OriginError);
                // The entry may have died while we waited; look again.
                match self.memory.borrow_mut().get(key, clock.now_ms()) {
                    Lookup::Fresh(entry) | Lookup::Stale(entry) => {
                        self.stats.bump(Counter::StaleServed);
                        return Ok(Read { entry, source: Source::Stale });
                    }
                    Lookup::Miss => {}
                }
                Err(ReadFailure { kv: kv_error, origin })
            }
        }
    }

    /// Records what the origin accepted: memory at once, then KV. Returns
    /// whether KV took it (`cache_updated`).
    pub async fn after_write<K: NetworkCache, C: Clock>(
        &self,
        key: &CacheKey,
        written: Versioned,
        policy: Policy,
        kv: &K,
        clock: &C,
    ) -> bool {
        let entry = self.remember(key, written, policy, clock.now_ms());
        self.put_kv(key, &entry, kv).await
    }

    /// Writes `entry` into KV, outside any request's read path (the sync job).
    pub async fn refresh_kv<K: NetworkCache>(&self, key: &CacheKey, entry: &Versioned, kv: &K) -> bool {
        self.put_kv(key, entry, kv).await
    }

    /// Counts a read answered by config or default because the stores failed.
    pub fn count_degraded(&self) {
        self.stats.bump(Counter::Degraded);
    }

    /// Frees a few dead entries; called on every read so the work is spread.
    pub fn sweep(&self, now: Millis) {
        self.memory.borrow_mut().sweep(now, SWEEP_BUDGET);
    }

    /// Empties isolate memory (tests, and operators after a bulk repair).
    pub fn clear_memory(&self) {
        self.memory.borrow_mut().clear();
    }

    /// The counters and memory figures now.
    pub fn stats(&self) -> StatsSnapshot {
        let memory = self.memory.borrow();
        let limits = memory.limits();
        self.stats.snapshot(memory.len(), memory.bytes(), limits.max_entries, limits.max_bytes)
    }

    /// Stores `found` in memory unless memory holds a newer version, and
    /// answers whichever is newest: a slow read never resurrects old data.
    fn remember(&self, key: &CacheKey, found: Versioned, policy: Policy, now: Millis) -> Rc<Versioned> {
        let mut memory = self.memory.borrow_mut();
        if let Lookup::Fresh(held) | Lookup::Stale(held) = memory.get(key, now) {
            if held.version > found.version {
                return held;
            }
        }
        let found = Rc::new(found);
        memory.insert(key.clone(), Rc::clone(&found), policy, now);
        found
    }

    async fn put_kv<K: NetworkCache>(&self, key: &CacheKey, entry: &Versioned, kv: &K) -> bool {
        match kv.put(key.as_str(), envelope::encode(entry), self.kv_expiration_secs).await {
            Ok(()) => true,
            Err(_) => {
                self.stats.bump(Counter::KvWriteError);
                false
            }
        }
    }

    fn count_negative(&self, entry: &Versioned) {
        if entry.slot == Slot::Absent {
            self.stats.bump(Counter::NegativeHit);
        }
    }
}

/// The caller-facing error for a write the origin did not take: nothing was
/// changed anywhere, and the code says why.
pub fn origin_write_error(e: TierError) -> crate::core::error::Error {
    use crate::core::error::Error;
    match e {
        TierError::Unreachable(why) => {
            Error::Unavailable(format!("the origin is unreachable, nothing was changed: {why}"))
        }
        TierError::Timeout => Error::OriginTimeout(
            "the origin did not answer in time; the write may or may not have been applied there".into(),
        ),
        TierError::Status(status, _) => {
            Error::OriginError(format!("the origin refused the write with status {status}; nothing was changed"))
        }
        TierError::Garbage(why) => {
            Error::OriginError(format!("the origin's answer was unreadable ({why}); the caches were left unchanged"))
        }
    }
}

/// The caller-facing error for a read with nothing to serve: no fresh or
/// stale copy, and neither KV nor the origin could answer.
pub fn read_failure_error(failure: ReadFailure) -> crate::core::error::Error {
    use crate::core::error::Error;
    match failure.origin {
        TierError::Timeout => {
            Error::OriginTimeout("the origin did not answer in time and no cached copy was available".into())
        }
        other => Error::Unavailable(format!("no cached copy was available and the origin could not answer: {other}")),
    }
}
