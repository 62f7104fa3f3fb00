//! The read path: memory, a fetch in flight, KV, the origin, a stale copy,
//! the snapshot (the steps of docs/design.md "The read steps"), and the
//! background refresh after a stale answer.
//!
//! A KV copy is fresh for `KV_EXPIRATION_SECS` after the origin gave it
//! (`Versioned::since`; copies that do not say count as fresh) and is kept
//! far longer (`KV_RETENTION_SECS`): past its freshness it is a stale copy
//! like an isolate-memory entry past its ttl, answered (with its age) only
//! when the origin cannot answer. When neither memory nor KV holds a copy
//! and the origin cannot answer, the last-known-good snapshot does
//! (`snapshot`). So how long an outage lasts never turns a value the edge
//! held back into a default.

use std::future::Future;
use std::rc::Rc;

use super::TieredCache;
use crate::core::coalesce::{wait_for_leader, Waited};
use crate::core::envelope;
use crate::core::key::CacheKey;
use crate::core::lifecycle::{Millis, Policy};
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
    /// How old a stale answer is (`Stale`, `Snapshot`): since the origin
    /// gave it, when that is known.
    pub age_ms: Option<Millis>,
}

impl Read {
    fn fresh(entry: Rc<Versioned>, source: Source) -> Read {
        Read { entry, source, refresh: false, age_ms: None }
    }

    fn stale(entry: Rc<Versioned>, source: Source, refresh: bool, now: Millis) -> Read {
        let age_ms = entry.age(now);
        Read { entry, source, refresh, age_ms }
    }
}

/// What KV held for a key.
enum KvCopy {
    /// Nothing usable: a miss, or older than the stale copy in memory.
    Missing,
    /// A copy within its freshness: answer with it.
    Fresh(Versioned),
    /// A copy past its freshness: a stale copy, for when the origin fails.
    Expired(Versioned),
}

/// The newer of two stale copies.
fn newest(a: Option<Rc<Versioned>>, b: Option<Rc<Versioned>>) -> Option<Rc<Versioned>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if version::is_older(a.version, b.version) { b } else { a }),
        (a, b) => a.or(b),
    }
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
                return Ok(Read::fresh(entry, Source::Local));
            }
            Lookup::Stale(entry) if policy.stale_while_revalidate => {
                self.stats.bump(Counter::StaleServed);
                self.served_stale(&entry, started);
                return Ok(Read::stale(entry, Source::Stale, true, started));
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
                    return Ok(Read::fresh(entry, Source::Local));
                }
                (Waited::SoftTimeout, Some(stale)) => {
                    self.stats.bump(Counter::StaleServed);
                    self.served_stale(stale, clock.now_ms());
                    return Ok(Read::stale(Rc::clone(stale), Source::Stale, false, clock.now_ms()));
                }
                (Waited::SoftTimeout | Waited::LeaderGone, _) => {}
            }
        };

        let (kv_error, expired) = match self.read_kv(key, stale.as_deref(), kv, clock).await {
            Ok(KvCopy::Fresh(found)) => {
                self.stats.bump(Counter::HitKv);
                let entry = self.remember(key, found, policy, clock.now_ms());
                self.count_negative(&entry);
                return Ok(Read::fresh(entry, Source::Kv));
            }
            Ok(KvCopy::Expired(found)) => (None, Some(Rc::new(found))),
            Ok(KvCopy::Missing) => (None, None),
            Err(e) => (Some(e), None),
        };
        let stale = newest(stale, expired);

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
                    self.served_stale(stale, clock.now_ms());
                    return Ok(Read::stale(Rc::clone(stale), Source::Stale, true, clock.now_ms()));
                }
            }
        } else {
            fetch().await
        };

        match answer {
            Ok(found) => {
                self.throttle.succeeded(key);
                self.origin_answered();
                self.stats.bump(Counter::HitOrigin);
                let now = clock.now_ms();
                let entry = self.remember(key, found.given_at(now), policy, now);
                self.count_negative(&entry);
                self.fill_kv(key, &entry, kv, now).await;
                Ok(Read::fresh(entry, Source::Origin))
            }
            // The origin is up and refused the request as the caller's
            // fault: not a failure (no backoff, no breaker, no stale copy
            // in its place); the caller gets a 4xx.
            Err(origin @ TierError::Refused(..)) => {
                self.stats.bump(Counter::OriginRefused);
                Err(ReadFailure { kv: kv_error, origin })
            }
            Err(origin) => {
                let now = clock.now_ms();
                if origin != TierError::Throttled {
                    self.stats.bump(Counter::OriginError);
                    self.throttle.failed(key, now);
                    self.origin_failed(now);
                }
                // The entry may have died, or a newer one come, while we
                // waited; look again.
                let held = match self.memory.borrow_mut().get(key, now) {
                    Lookup::Fresh(entry) | Lookup::Stale(entry) => Some(entry),
                    Lookup::Miss => None,
                };
                if let Some(entry) = newest(held, stale) {
                    self.stats.bump(Counter::StaleServed);
                    self.served_stale(&entry, now);
                    return Ok(Read::stale(entry, Source::Stale, false, now));
                }
                if let Some(entry) = self.snapshot.get(kv, now).await.and_then(|s| s.lookup(key)) {
                    self.stats.bump(Counter::SnapshotServed);
                    let entry = Rc::new(entry);
                    self.served_stale(&entry, now);
                    return Ok(Read::stale(entry, Source::Snapshot, false, now));
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
                self.origin_answered();
                self.stats.bump(Counter::Revalidated);
                let now = clock.now_ms();
                let entry = self.remember(key, found.given_at(now), policy, now);
                self.fill_kv(key, &entry, kv, now).await;
                true
            }
            Err(TierError::Refused(..)) => {
                self.stats.bump(Counter::OriginRefused);
                false
            }
            Err(_) => {
                self.stats.bump(Counter::OriginError);
                self.throttle.failed(key, clock.now_ms());
                self.origin_failed(clock.now_ms());
                false
            }
        }
    }

    /// One KV read, with its hard timeout. `Missing`: nothing usable (a
    /// miss, or a copy older than the stale one in memory, which only the
    /// origin can settle); `Expired`: a copy past `KV_EXPIRATION_SECS`.
    async fn read_kv<K: NetworkCache, C: Clock>(
        &self,
        key: &CacheKey,
        stale: Option<&Versioned>,
        kv: &K,
        clock: &C,
    ) -> Result<KvCopy, TierError> {
        let got = match race(kv.get(key.as_str()), clock.sleep(self.timeouts.kv_ms)).await {
            First::Left(got) => got,
            First::Right(()) => Err(TierError::Timeout),
        };
        match got {
            Ok(Some(text)) => match envelope::decode(&text) {
                Ok(found) if stale.is_some_and(|s| version::is_older(found.version, s.version)) => Ok(KvCopy::Missing),
                Ok(found) if found.age(clock.now_ms()).is_some_and(|age| age >= self.kv_fresh_ms()) => {
                    self.stats.bump(Counter::KvExpired);
                    Ok(KvCopy::Expired(found))
                }
                Ok(found) => Ok(KvCopy::Fresh(found)),
                Err(e) => {
                    self.stats.bump(Counter::KvError);
                    Err(TierError::Garbage(e.0))
                }
            },
            Ok(None) => Ok(KvCopy::Missing),
            Err(e) => {
                self.stats.bump(Counter::KvError);
                Err(e)
            }
        }
    }
}
