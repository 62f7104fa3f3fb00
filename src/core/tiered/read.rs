//! The read path: memory, a fetch in flight, KV, the origin, a stale copy
//! (the steps of docs/design.md "The read steps"), and the background
//! refresh after a stale answer.

use std::future::Future;
use std::rc::Rc;

use super::TieredCache;
use crate::core::coalesce::{wait_for_leader, Waited};
use crate::core::envelope;
use crate::core::key::CacheKey;
use crate::core::lifecycle::Policy;
use crate::core::memory::Lookup;
use crate::core::ports::{Clock, NetworkCache, TierError};
use crate::core::race::{race, First};
use crate::core::slot::Versioned;
use crate::core::source::Source;
use crate::core::stats::Counter;
use crate::core::version;

/// A successful read: the entry and the tier that answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    /// The value or absent marker, with its version.
    pub entry: Rc<Versioned>,
    /// `Local`, `Kv`, `Origin` or `Stale`.
    pub source: Source,
    /// A stale value was answered without waiting for the origin: the
    /// caller should refresh the key in the background (`revalidate`).
    pub refresh: bool,
    /// The copy answered is known not to be current (below its key's
    /// minimum version, or the version asked for): the origin could not be
    /// asked, and this was the best held.
    pub degraded: bool,
}

/// Nothing servable: both stores failed and memory held nothing within grace.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadFailure {
    /// Why KV could not answer (`None`: KV answered "nothing", or was skipped).
    pub kv: Option<TierError>,
    /// Why the origin could not answer.
    pub origin: TierError,
}

impl TieredCache {
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
        self.read_at_least(key, policy, None, kv, clock, fetch).await
    }

    /// Reads `key` through the tiers, answering at least `min_version`
    /// while the origin can answer (`propagation::satisfies`): a copy in
    /// memory or KV that does not is passed over for the origin. Whatever
    /// answers, no answer is below one this isolate already gave for `key`.
    pub async fn read_at_least<K, C, F>(
        &self,
        key: &CacheKey,
        policy: Policy,
        min_version: Option<u64>,
        kv: &K,
        clock: &C,
        fetch: impl FnOnce() -> F,
    ) -> Result<Read, ReadFailure>
    where
        K: NetworkCache,
        C: Clock,
        F: Future<Output = Result<Versioned, TierError>>,
    {
        let read = self.read_through(key, policy, min_version, kv, clock, fetch).await;
        if let Ok(read) = &read {
            self.note_answered(key, read.entry.version, clock.now_ms());
        }
        read
    }

    async fn read_through<K, C, F>(
        &self,
        key: &CacheKey,
        policy: Policy,
        min_version: Option<u64>,
        kv: &K,
        clock: &C,
        fetch: impl FnOnce() -> F,
    ) -> Result<Read, ReadFailure>
    where
        K: NetworkCache,
        C: Clock,
        F: Future<Output = Result<Versioned, TierError>>,
    {
        let started = clock.now_ms();
        self.sweep(started);
        let ok = |version: u64| self.satisfies(key, version, min_version);
        let held = self.memory.borrow_mut().get(key, started);
        let stale = match held {
            Lookup::Fresh(entry) if ok(entry.version) => {
                self.stats.bump(Counter::HitLocal);
                self.count_negative(&entry);
                return Ok(Read { entry, source: Source::Local, refresh: false, degraded: false });
            }
            // Below its key's minimum version (or the version asked for):
            // no longer fresh, kept as the copy to fall back on.
            Lookup::Fresh(entry) => Some(entry),
            Lookup::Stale(entry) if policy.stale_while_revalidate && (min_version.is_none() || ok(entry.version)) => {
                self.stats.bump(Counter::StaleServed);
                let degraded = !ok(entry.version);
                return Ok(Read { entry, source: Source::Stale, refresh: true, degraded });
            }
            Lookup::Stale(entry) => Some(entry),
            Lookup::Miss => None,
        };
        self.stats.bump(Counter::Miss);
        // The stale copy may answer at the soft timeout only when it meets
        // the version asked for; otherwise the origin gets its whole time.
        let soft_stale = stale.clone().filter(|s| min_version.is_none() || ok(s.version));

        // Coalescing: one fetch per key in flight; the others wait on timers
        // of their own and then read memory (`coalesce`).
        let soft_deadline = soft_stale.as_ref().map(|_| started.saturating_add(self.timeouts.soft_ms));
        let _leading = loop {
            let until = match self.inflight.lead(key, clock.now_ms(), self.timeouts.lease_ms()) {
                Ok(leading) => break leading,
                Err(until) => until,
            };
            let waited = wait_for_leader(&self.inflight, key, until, soft_deadline, clock, |now| {
                self.fresh_for(key, now, min_version)
            });
            match (waited.await, &soft_stale) {
                (Waited::Filled(entry), _) => {
                    self.stats.bump(Counter::Coalesced);
                    self.count_negative(&entry);
                    return Ok(Read { entry, source: Source::Local, refresh: false, degraded: false });
                }
                (Waited::SoftTimeout, Some(stale)) => {
                    self.stats.bump(Counter::StaleServed);
                    let degraded = !ok(stale.version);
                    return Ok(Read { entry: Rc::clone(stale), source: Source::Stale, refresh: false, degraded });
                }
                (Waited::SoftTimeout | Waited::LeaderGone, _) => {}
            }
        };

        // KV: a copy older than the stale one in memory is never answered
        // (only the origin can settle which is current); one below its
        // key's minimum, or the version asked for, is kept aside to answer
        // only if the origin cannot (and never below what was answered).
        let mut kv_seen = None;
        let mut kv_fallback = None;
        let kv_error = match self.read_kv(key, kv, clock).await {
            Ok(Some(found)) => {
                kv_seen = Some(found.version);
                let behind_memory = stale.as_ref().is_some_and(|s| version::is_older(found.version, s.version));
                if !behind_memory && ok(found.version) {
                    self.stats.bump(Counter::HitKv);
                    let entry = self.remember(key, found, policy, clock.now_ms());
                    self.count_negative(&entry);
                    return Ok(Read { entry, source: Source::Kv, refresh: false, degraded: false });
                }
                if !behind_memory && found.version >= self.floor(key).answered {
                    kv_fallback = Some(found);
                }
                None
            }
            Ok(None) => None,
            Err(e) => Some(e),
        };

        let gate = self.throttle.gate(key, clock.now_ms());
        let answer = if !gate.allows() {
            self.stats.bump(Counter::Throttled);
            Err(TierError::Throttled)
        } else if let Some(stale) = &soft_stale {
            // Only the soft timeout: past it, the stale value answers now and
            // the key is refreshed in the background.
            match race(fetch(), clock.sleep(self.timeouts.soft_ms)).await {
                First::Left(answer) => answer,
                First::Right(()) => {
                    self.stats.bump(Counter::SoftTimeout);
                    self.stats.bump(Counter::StaleServed);
                    let degraded = !ok(stale.version);
                    return Ok(Read { entry: Rc::clone(stale), source: Source::Stale, refresh: true, degraded });
                }
            }
        } else {
            fetch().await
        };

        match answer {
            Ok(found) => {
                self.throttle.succeeded(key);
                self.stats.bump(Counter::HitOrigin);
                let entry = self.remember(key, found, policy, clock.now_ms());
                self.count_negative(&entry);
                // Read before write: KV is rewritten only when what it held
                // (read just now) is older than the origin's answer.
                if kv_seen.is_none_or(|seen| version::is_older(seen, entry.version)) {
                    self.fill_kv(key, &entry, kv, clock.now_ms()).await;
                }
                Ok(Read { entry, source: Source::Origin, refresh: false, degraded: false })
            }
            // The origin is up and refused the request as the caller's
            // fault: not a failure (no backoff, no breaker, no stale copy
            // in its place); the caller gets a 4xx.
            Err(origin @ TierError::Refused(..)) => {
                self.stats.bump(Counter::OriginRefused);
                Err(ReadFailure { kv: kv_error, origin })
            }
            Err(origin) => {
                if origin != TierError::Throttled {
                    self.stats.bump(Counter::OriginError);
                    self.throttle.failed(key, clock.now_ms());
                }
                // The best copy held: memory (which may have changed while
                // we waited; look again) or KV's, the newer; marked degraded
                // when it does not meet its minimum or the version asked for.
                let held = match self.memory.borrow_mut().get(key, clock.now_ms()) {
                    Lookup::Fresh(entry) | Lookup::Stale(entry) => Some(entry),
                    Lookup::Miss => None,
                };
                let best = match (held, kv_fallback) {
                    (Some(held), Some(copy)) if version::is_older(held.version, copy.version) => {
                        Some(self.remember(key, copy, policy, clock.now_ms()))
                    }
                    (Some(held), _) => Some(held),
                    (None, Some(copy)) => Some(self.remember(key, copy, policy, clock.now_ms())),
                    (None, None) => None,
                };
                if let Some(entry) = best {
                    self.stats.bump(Counter::StaleServed);
                    let degraded = !ok(entry.version);
                    return Ok(Read { entry, source: Source::Stale, refresh: false, degraded });
                }
                Err(ReadFailure { kv: kv_error, origin })
            }
        }
    }

    /// Refreshes `key` from the origin in the background (after a stale
    /// answer): skipped when a fetch is already in flight or the origin is
    /// backing off. Returns whether the key was refreshed.
    pub async fn revalidate<K, C, F>(
        &self,
        key: &CacheKey,
        policy: Policy,
        kv: &K,
        clock: &C,
        fetch: impl FnOnce() -> F,
    ) -> bool
    where
        K: NetworkCache,
        C: Clock,
        F: Future<Output = Result<Versioned, TierError>>,
    {
        let Ok(_leading) = self.inflight.lead(key, clock.now_ms(), self.timeouts.lease_ms()) else {
            return false;
        };
        if !self.throttle.gate(key, clock.now_ms()).allows() {
            self.stats.bump(Counter::Throttled);
            return false;
        }
        match fetch().await {
            Ok(found) => {
                self.throttle.succeeded(key);
                self.stats.bump(Counter::Revalidated);
                let entry = self.remember(key, found, policy, clock.now_ms());
                // Read before write: never replace a newer copy in KV.
                let held = self.read_kv(key, kv, clock).await.ok().flatten().map(|copy| copy.version);
                if held.is_none_or(|seen| version::is_older(seen, entry.version)) {
                    self.fill_kv(key, &entry, kv, clock.now_ms()).await;
                }
                true
            }
            Err(TierError::Refused(..)) => {
                self.stats.bump(Counter::OriginRefused);
                false
            }
            Err(_) => {
                self.stats.bump(Counter::OriginError);
                self.throttle.failed(key, clock.now_ms());
                false
            }
        }
    }

    /// One KV read, with its hard timeout, decoded. `Ok(None)`: a miss.
    async fn read_kv<K: NetworkCache, C: Clock>(
        &self,
        key: &CacheKey,
        kv: &K,
        clock: &C,
    ) -> Result<Option<Versioned>, TierError> {
        let got = match race(kv.get(key.as_str()), clock.sleep(self.timeouts.kv_ms)).await {
            First::Left(got) => got,
            First::Right(()) => Err(TierError::Timeout),
        };
        match got {
            Ok(Some(text)) => match envelope::decode(&text) {
                Ok(found) => Ok(Some(found)),
                Err(e) => {
                    self.stats.bump(Counter::KvError);
                    Err(TierError::Garbage(e.0))
                }
            },
            Ok(None) => Ok(None),
            Err(e) => {
                self.stats.bump(Counter::KvError);
                Err(e)
            }
        }
    }
}
