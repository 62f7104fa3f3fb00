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
        let started = clock.now_ms();
        self.sweep(started);
        let stale = match self.memory.borrow_mut().get(key, started) {
            Lookup::Fresh(entry) => {
                self.stats.bump(Counter::HitLocal);
                self.count_negative(&entry);
                return Ok(Read { entry, source: Source::Local, refresh: false });
            }
            Lookup::Stale(entry) if policy.stale_while_revalidate => {
                self.stats.bump(Counter::StaleServed);
                return Ok(Read { entry, source: Source::Stale, refresh: true });
            }
            Lookup::Stale(entry) => Some(entry),
            Lookup::Miss => None,
        };
        self.stats.bump(Counter::Miss);

        // Coalescing: one fetch per key in flight; the others wait on timers
        // of their own and then read memory (`coalesce`).
        let soft_deadline = stale.as_ref().map(|_| started.saturating_add(self.timeouts.soft_ms));
        let _leading = loop {
            let until = match self.inflight.lead(key, clock.now_ms(), self.timeouts.lease_ms()) {
                Ok(leading) => break leading,
                Err(until) => until,
            };
            let waited = wait_for_leader(&self.inflight, key, until, soft_deadline, clock, |now| self.fresh(key, now));
            match (waited.await, &stale) {
                (Waited::Filled(entry), _) => {
                    self.stats.bump(Counter::Coalesced);
                    self.count_negative(&entry);
                    return Ok(Read { entry, source: Source::Local, refresh: false });
                }
                (Waited::SoftTimeout, Some(stale)) => {
                    self.stats.bump(Counter::StaleServed);
                    return Ok(Read { entry: Rc::clone(stale), source: Source::Stale, refresh: false });
                }
                (Waited::SoftTimeout | Waited::LeaderGone, _) => {}
            }
        };

        let kv_error = match self.read_kv(key, stale.as_deref(), kv, clock).await {
            Ok(Some(found)) => {
                self.stats.bump(Counter::HitKv);
                let entry = self.remember(key, found, policy, clock.now_ms());
                self.count_negative(&entry);
                return Ok(Read { entry, source: Source::Kv, refresh: false });
            }
            Ok(None) => None,
            Err(e) => Some(e),
        };

        let gate = self.throttle.gate(key, clock.now_ms());
        let answer = if !gate.allows() {
            self.stats.bump(Counter::Throttled);
            Err(TierError::Throttled)
        } else if let Some(stale) = &stale {
            // Only the soft timeout: past it, the stale value answers now and
            // the key is refreshed in the background.
            match race(fetch(), clock.sleep(self.timeouts.soft_ms)).await {
                First::Left(answer) => answer,
                First::Right(()) => {
                    self.stats.bump(Counter::SoftTimeout);
                    self.stats.bump(Counter::StaleServed);
                    return Ok(Read { entry: Rc::clone(stale), source: Source::Stale, refresh: true });
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
                self.fill_kv(key, &entry, kv, clock.now_ms()).await;
                Ok(Read { entry, source: Source::Origin, refresh: false })
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
                // The entry may have died while we waited; look again.
                match self.memory.borrow_mut().get(key, clock.now_ms()) {
                    Lookup::Fresh(entry) | Lookup::Stale(entry) => {
                        self.stats.bump(Counter::StaleServed);
                        return Ok(Read { entry, source: Source::Stale, refresh: false });
                    }
                    Lookup::Miss => {}
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
                self.fill_kv(key, &entry, kv, clock.now_ms()).await;
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

    /// One KV read, with its hard timeout. `Ok(None)`: nothing usable (a
    /// miss, or a copy older than the stale one in memory, which only the
    /// origin can settle).
    async fn read_kv<K: NetworkCache, C: Clock>(
        &self,
        key: &CacheKey,
        stale: Option<&Versioned>,
        kv: &K,
        clock: &C,
    ) -> Result<Option<Versioned>, TierError> {
        let got = match race(kv.get(key.as_str()), clock.sleep(self.timeouts.kv_ms)).await {
            First::Left(got) => got,
            First::Right(()) => Err(TierError::Timeout),
        };
        match got {
            Ok(Some(text)) => match envelope::decode(&text) {
                Ok(found) if stale.is_some_and(|s| version::is_older(found.version, s.version)) => Ok(None),
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
