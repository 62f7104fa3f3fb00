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
    /// `Local`, `Kv`, `Origin`, `Stale` or `Snapshot`.
    pub source: Source,
    /// A stale value was answered without waiting for the origin: the
    /// caller should refresh the key in the background (`revalidate`).
    pub refresh: bool,
    /// The copy answered is known not to be current (below its key's
    /// minimum version, or the version asked for): the origin could not be
    /// asked, and this was the best held.
    pub degraded: bool,
    /// How old a stale answer is (`Stale`, `Snapshot`): since the origin
    /// gave it, when that is known.
    pub age_ms: Option<Millis>,
}

impl Read {
    fn fresh(entry: Rc<Versioned>, source: Source) -> Read {
        Read { entry, source, refresh: false, degraded: false, age_ms: None }
    }

    fn stale(entry: Rc<Versioned>, source: Source, refresh: bool, degraded: bool, now: Millis) -> Read {
        let age_ms = entry.age(now);
        Read { entry, source, refresh, degraded, age_ms }
    }
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
        // A memory hit answers the very entry memory holds, already the
        // key's floor: nothing to record, and no second lookup on the hit path.
        if let Ok(read) = &read {
            if read.source != Source::Local {
                self.note_answered(key, read.entry.version);
            }
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
        let held = self.lookup(key, started);
        let stale = match held {
            Lookup::Fresh(entry) if self.satisfies_held(key, entry.version, min_version) => {
                self.stats.bump(Counter::HitLocal);
                self.count_negative(&entry);
                return Ok(Read::fresh(entry, Source::Local));
            }
            // Below its key's minimum version (or the version asked for):
            // no longer fresh, kept as the copy to fall back on.
            Lookup::Fresh(entry) => Some(entry),
            Lookup::Stale(entry) if policy.stale_while_revalidate && (min_version.is_none() || ok(entry.version)) => {
                self.stats.bump(Counter::StaleServed);
                self.served_stale(&entry, started);
                let degraded = !ok(entry.version);
                return Ok(Read::stale(entry, Source::Stale, true, degraded, started));
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
                    return Ok(Read::fresh(entry, Source::Local));
                }
                (Waited::SoftTimeout, Some(stale)) => {
                    let now = clock.now_ms();
                    self.stats.bump(Counter::StaleServed);
                    self.served_stale(stale, now);
                    let degraded = !ok(stale.version);
                    return Ok(Read::stale(Rc::clone(stale), Source::Stale, false, degraded, now));
                }
                (Waited::SoftTimeout | Waited::LeaderGone, _) => {}
            }
        };

        // KV: a copy older than the stale one in memory is never answered
        // (only the origin can settle which is current); one past its
        // freshness (`KV_EXPIRATION_SECS` since the origin gave it), or
        // below its key's minimum, or the version asked for, is kept aside
        // to answer only if the origin cannot (and never below what was
        // answered).
        let mut kv_seen = None;
        let mut kv_fallback = None;
        let kv_error = match self.read_kv(key, kv, clock).await {
            Ok(Some(found)) => {
                let expired = self.kv_expired(&found, clock.now_ms());
                kv_seen = Some(KvSeen { version: found.version, expired });
                let behind_memory = stale.as_ref().is_some_and(|s| version::is_older(found.version, s.version));
                if !behind_memory && !expired && ok(found.version) {
                    self.stats.bump(Counter::HitKv);
                    let entry = self.remember(key, found, policy, clock.now_ms());
                    self.count_negative(&entry);
                    return Ok(Read::fresh(entry, Source::Kv));
                }
                if !behind_memory && found.version >= self.floor(key).answered {
                    kv_fallback = Some(Rc::new(found));
                }
                None
            }
            Ok(None) => None,
            Err(e) => Some(e),
        };
        // With only KV's stale copy in hand, the origin gets the soft
        // timeout too.
        let soft_stale = newest(soft_stale, kv_fallback.clone().filter(|c| min_version.is_none() || ok(c.version)));

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
                    let now = clock.now_ms();
                    self.stats.bump(Counter::SoftTimeout);
                    self.stats.bump(Counter::StaleServed);
                    self.served_stale(stale, now);
                    let degraded = !ok(stale.version);
                    return Ok(Read::stale(Rc::clone(stale), Source::Stale, true, degraded, now));
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
                // Read before write: KV is rewritten only when what it held
                // (read just now) is older than the origin's answer, or
                // past its freshness.
                if kv_seen.is_none_or(|seen| seen.replaced_by(entry.version)) {
                    self.fill_kv(key, &entry, kv, now).await;
                }
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
                // The best copy held: memory (which may have changed while
                // we waited; look again) or KV's, the newer; marked degraded
                // when it does not meet its minimum or the version asked for.
                let held = match self.lookup(key, now) {
                    Lookup::Fresh(entry) | Lookup::Stale(entry) => Some(entry),
                    Lookup::Miss => None,
                };
                if let Some(entry) = newest(held, kv_fallback) {
                    self.stats.bump(Counter::StaleServed);
                    self.served_stale(&entry, now);
                    let degraded = !ok(entry.version);
                    return Ok(Read::stale(entry, Source::Stale, false, degraded, now));
                }
                // Nothing held anywhere: the last-known-good snapshot, never
                // below what this isolate already answered.
                let snapshot = self.snapshot.get(kv, clock).await.and_then(|s| s.lookup(key));
                if let Some(entry) = snapshot.filter(|e| e.version >= self.floor(key).answered) {
                    self.stats.bump(Counter::SnapshotServed);
                    let entry = Rc::new(entry);
                    self.served_stale(&entry, now);
                    let degraded = !ok(entry.version);
                    return Ok(Read::stale(entry, Source::Snapshot, false, degraded, now));
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
                // Read before write: never replace a newer copy in KV.
                let held = self.read_kv(key, kv, clock).await.ok().flatten();
                let seen = held.map(|copy| KvSeen { version: copy.version, expired: self.kv_expired(&copy, now) });
                if seen.is_none_or(|seen| seen.replaced_by(entry.version)) {
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
                self.origin_failed(clock.now_ms());
                false
            }
        }
    }

    /// Whether KV's copy is past its freshness at `now`: older than
    /// `KV_EXPIRATION_SECS` since the origin gave it (counted).
    fn kv_expired(&self, copy: &Versioned, now: Millis) -> bool {
        let expired = copy.age(now).is_some_and(|age| age >= self.kv_fresh_ms());
        if expired {
            self.stats.bump(Counter::KvExpired);
        }
        expired
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

/// What a read saw in KV before asking the origin.
#[derive(Debug, Clone, Copy)]
struct KvSeen {
    version: u64,
    expired: bool,
}

impl KvSeen {
    /// Whether the origin's answer at `version` should replace it: it is
    /// older, or past its freshness (rewritten with the time the origin
    /// gave it now, so other isolates find it fresh again).
    fn replaced_by(self, version: u64) -> bool {
        version::is_older(self.version, version) || (self.expired && !version::is_older(version, self.version))
    }
}
